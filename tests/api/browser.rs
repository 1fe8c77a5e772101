//! The web client in real headless Chromium (through chromedriver): two users log in through
//! the page and chat in a room; the page reconnects and resumes across a server restart. A second
//! test covers the permission-driven UI (Admin button, topic editing, `user_updated`), the audit
//! log, live presence in a watched member list, and bidi isolation of message bodies.

use std::{
    process::{Child, Command, Stdio},
    time::Duration,
};

use fantoccini::{Client, ClientBuilder, Locator};
use serde_json::json;

use crate::helpers::{Backend, PASSWORD, TestApp, spawn_ready_app};

/// How long any wait for the page may take.
pub(crate) const WAIT: Duration = Duration::from_secs(20);

pub(crate) struct Driver {
    pub(crate) child: Child,
    pub(crate) port: u16,
}

impl Drop for Driver {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

pub(crate) fn find(binary: &str) -> Option<String> {
    ["/usr/bin/", "/usr/local/bin/", "/usr/lib/chromium/"]
        .iter()
        .map(|dir| format!("{dir}{binary}"))
        .find(|p| std::path::Path::new(p).exists())
}

/// Starts chromedriver, or returns None (skip) outside CI when Chromium is not installed.
pub(crate) async fn chromedriver() -> Option<Driver> {
    chromedriver_with(&[]).await
}

/// [`chromedriver`] with extra environment variables for it and the browsers it starts.
pub(crate) async fn chromedriver_with(envs: &[(&str, &std::path::Path)]) -> Option<Driver> {
    let (Some(driver), Some(_)) = (find("chromedriver"), find("chromium")) else {
        assert!(
            std::env::var("CI").is_err(),
            "CI must install chromium and chromium-driver"
        );
        eprintln!("skipped: install Debian's chromium and chromium-driver to run the browser test");
        return None;
    };
    let port = std::net::TcpListener::bind("127.0.0.1:0")
        .ok()?
        .local_addr()
        .ok()?
        .port();
    // Driver's Drop kills and waits for the process on every path.
    let driver = Driver {
        child: Command::new(driver)
            .arg(format!("--port={port}"))
            .envs(envs.iter().copied())
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .expect("chromedriver starts"),
        port,
    };
    for _ in 0..100 {
        if tokio::net::TcpStream::connect(("127.0.0.1", port))
            .await
            .is_ok()
        {
            return Some(driver);
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    panic!("chromedriver did not start");
}

pub(crate) async fn browser(driver: &Driver) -> Client {
    let profile = tempfile::tempdir().expect("profile").keep();
    let caps = json!({
        "goog:chromeOptions": {
            "binary": find("chromium").expect("chromium"),
            "args": ["--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking",
                     "--disable-dev-shm-usage", "--disable-component-update", "--no-first-run",
                     format!("--user-data-dir={}", profile.display())]
        }
    });
    let caps = caps
        .as_object()
        .expect("object")
        .clone()
        .into_iter()
        .collect();
    ClientBuilder::rustls()
        .expect("rustls")
        .capabilities(caps)
        .connect(&format!("http://127.0.0.1:{}", driver.port))
        .await
        .expect("browser session")
}

pub(crate) async fn log_in(app: &TestApp, c: &Client, name: &str) {
    log_in_with(app, c, name, PASSWORD).await;
}

/// [`log_in`] with another password than the test users' [`PASSWORD`].
pub(crate) async fn log_in_with(app: &TestApp, c: &Client, name: &str, password: &str) {
    c.goto(&app.url("/login")).await.expect("login page");
    c.wait()
        .for_element(Locator::Id("username"))
        .await
        .expect("username field")
        .send_keys(name)
        .await
        .expect("type");
    c.find(Locator::Id("password"))
        .await
        .expect("password field")
        .send_keys(password)
        .await
        .expect("type");
    c.find(Locator::Css("#login-form button[type=submit]"))
        .await
        .expect("submit")
        .click()
        .await
        .expect("click");
    c.wait()
        .at_most(Duration::from_secs(20))
        .for_element(Locator::Css("#room-compose"))
        .await
        .expect("chat screen");
}

async fn open_room(c: &Client, name: &str) {
    let xpath = format!("//button[contains(@class,'room-entry') and contains(., '{name}')]");
    click(c, Locator::XPath(&xpath), "room entry").await;
}

/// Finds and clicks an element, again while the page re-renders it (a stale or covered element
/// is retried) until [`WAIT`] has passed.
pub(crate) async fn click(c: &Client, locator: Locator<'_>, what: &str) {
    let deadline = tokio::time::Instant::now() + WAIT;
    loop {
        let err = match c.find(locator).await {
            Ok(el) => match el.click().await {
                Ok(()) => return,
                Err(err) => err.to_string(),
            },
            Err(err) => err.to_string(),
        };
        assert!(
            tokio::time::Instant::now() < deadline,
            "click {what} within {WAIT:?}: {err}"
        );
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
}

async fn say(c: &Client, text: &str) {
    let compose = c
        .find(Locator::Css("#room-compose"))
        .await
        .expect("compose");
    compose.send_keys(text).await.expect("type");
    compose.send_keys("\u{E007}").await.expect("Enter");
}

async fn wait_for_message(c: &Client, text: &str) {
    let xpath = format!(
        "//*[@id='room-log']//*[contains(@class,'message-body') and contains(., '{text}')]"
    );
    c.wait()
        .at_most(Duration::from_secs(20))
        .for_element(Locator::XPath(&xpath))
        .await
        .unwrap_or_else(|_| panic!("{text:?} shown"));
}

async fn count_messages(c: &Client, text: &str) -> usize {
    let xpath = format!(
        "//*[@id='room-log']//*[contains(@class,'message-body') and contains(., '{text}')]"
    );
    c.find_all(Locator::XPath(&xpath))
        .await
        .expect("query")
        .len()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn two_users_chat_in_a_room_through_the_web_client() {
    let Some(driver) = chromedriver().await else {
        return;
    };
    let mut app = spawn_ready_app(Backend::Sqlite).await;
    app.user("alice").await;
    app.user("bob").await;
    let alice = browser(&driver).await;
    let bob = browser(&driver).await;
    log_in(&app, &alice, "alice").await;
    log_in(&app, &bob, "bob").await;
    open_room(&alice, "Lobby").await;
    open_room(&bob, "Lobby").await;

    say(&alice, "Hi Bob, it is Alice").await;
    wait_for_message(&bob, "Hi Bob, it is Alice").await;
    say(&bob, "Hello <b>Alice</b>").await;
    wait_for_message(&alice, "Hello <b>Alice</b>").await;
    // Text is rendered as text, not HTML.
    assert_eq!(
        alice
            .find_all(Locator::Css("#room-log b"))
            .await
            .expect("query")
            .len(),
        0
    );

    // The server restarts; messages sent meanwhile arrive once the page has reconnected.
    app.restart().await;
    let api_alice = app.login("alice").await;
    let lobby = app.lobby(&api_alice).await;
    app.send(&api_alice, &lobby, "sent while you were away")
        .await;
    wait_for_message(&bob, "sent while you were away").await;
    say(&bob, "back again").await;
    wait_for_message(&alice, "back again").await;
    tokio::time::sleep(Duration::from_millis(500)).await;
    for text in [
        "Hi Bob, it is Alice",
        "sent while you were away",
        "back again",
    ] {
        assert_eq!(
            count_messages(&bob, text).await,
            1,
            "{text} shown exactly once"
        );
        assert_eq!(
            count_messages(&alice, text).await,
            1,
            "{text} shown exactly once"
        );
    }
    alice.close().await.ok();
    bob.close().await.ok();
}

/// Waits (at most [`WAIT`]) until an element matching the CSS selector exists.
pub(crate) async fn wait_css(c: &Client, css: &str, what: &str) -> fantoccini::elements::Element {
    c.wait()
        .at_most(WAIT)
        .for_element(Locator::Css(css))
        .await
        .unwrap_or_else(|_| panic!("{what} ({css}) within {WAIT:?}"))
}

/// Waits (at most [`WAIT`]) until an element matching the XPath exists.
pub(crate) async fn wait_xpath(
    c: &Client,
    xpath: &str,
    what: &str,
) -> fantoccini::elements::Element {
    c.wait()
        .at_most(WAIT)
        .for_element(Locator::XPath(xpath))
        .await
        .unwrap_or_else(|_| panic!("{what} ({xpath}) within {WAIT:?}"))
}

/// Waits until the page has applied the WebSocket's `ready` (the dock says so).
pub(crate) async fn wait_online(c: &Client) {
    wait_css(c, "#dock[data-connection='online']", "connected page").await;
}

pub(crate) async fn displayed(c: &Client, css: &str) -> bool {
    c.find(Locator::Css(css))
        .await
        .unwrap_or_else(|_| panic!("{css} exists"))
        .is_displayed()
        .await
        .expect("is_displayed")
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn permissions_presence_bidi_and_topics_in_the_web_client() {
    let Some(driver) = chromedriver().await else {
        return;
    };
    let app = spawn_ready_app(Backend::Sqlite).await;
    let carol = app.user("carol").await;
    let dave = app.user("dave").await;
    let admin = app.login("admin").await;
    let lobby = app.lobby(&admin).await;

    let admin_page = browser(&driver).await;
    let carol_page = browser(&driver).await;
    for page in [&admin_page, &carol_page] {
        page.set_window_size(1400, 900).await.expect("window size");
    }
    log_in(&app, &admin_page, "admin").await;
    log_in(&app, &carol_page, "carol").await;
    wait_online(&admin_page).await;
    wait_online(&carol_page).await;

    // (a) Only the admin sees the Admin button (the member's page is connected: positive marker).
    wait_css(
        &admin_page,
        "#admin-button:not([hidden])",
        "Admin button for the admin",
    )
    .await;
    assert!(displayed(&admin_page, "#admin-button").await);
    assert!(
        !displayed(&carol_page, "#admin-button").await,
        "a member sees no Admin button"
    );

    // (e) The owner edits the topic inline; another member's page shows it live. A plain member
    // gets no editor.
    let room = app.room(&admin, "Topic Room", "public").await;
    app.join(&carol, &room).await;
    open_room(&admin_page, "Topic Room").await;
    open_room(&carol_page, "Topic Room").await;
    wait_xpath(
        &carol_page,
        "//*[@id='room-title' and normalize-space(.)='Topic Room']",
        "room header for carol",
    )
    .await;
    wait_css(&carol_page, "#invite-form:not([hidden])", "header actions").await;
    assert!(
        !displayed(&carol_page, "#edit-topic").await,
        "a plain member cannot edit the topic"
    );
    assert!(
        !displayed(&carol_page, "#join-room").await,
        "already joined"
    );
    click(
        &admin_page,
        Locator::Css("#edit-topic:not([hidden])"),
        "topic editor for the owner",
    )
    .await;
    let input = wait_css(&admin_page, "#topic-input", "topic input").await;
    input.send_keys("Only cats today").await.expect("type");
    input.send_keys("\u{E007}").await.expect("Enter");
    wait_xpath(
        &carol_page,
        "//*[@id='room-topic' and contains(., 'Only cats today')]",
        "the new topic on carol's page",
    )
    .await;
    wait_xpath(
        &admin_page,
        "//*[@id='room-topic' and contains(., 'Only cats today')]",
        "the new topic on the owner's page",
    )
    .await;

    // (c) The member list of the room on screen is watched: another member's presence changes
    // arrive live (a public room's presence reaches only watchers).
    open_room(&admin_page, "Lobby").await;
    wait_css(
        &admin_page,
        &format!("#member-list[data-watching='{lobby}']"),
        "the Lobby's member list watched",
    )
    .await;
    let dave_dot = format!(".member[data-user-id='{}'] .presence", dave.id);
    wait_css(&admin_page, &format!("{dave_dot}.offline"), "dave offline").await;
    let (dave_ws, _) = app.ws(&dave).await;
    wait_css(&admin_page, &format!("{dave_dot}.online"), "dave online").await;
    drop(dave_ws);
    wait_css(
        &admin_page,
        &format!("{dave_dot}.offline"),
        "dave offline again",
    )
    .await;

    // With roles.manage, the member list changes a member's server role.
    let select = wait_css(
        &admin_page,
        &format!("select.member-role[data-user-id='{}']", dave.id),
        "role selector for dave",
    )
    .await;
    select.select_by_value("moderator").await.expect("choose");
    wait_xpath(
        &admin_page,
        "//*[@id='member-role-status' and contains(., 'dave is now moderator')]",
        "role change reported",
    )
    .await;
    let me = app.get_json("/api/v1/users/me", &dave.token).await;
    assert_eq!(me["user"]["role"], "moderator");

    // (d) A body with U+202E (RIGHT-TO-LEFT OVERRIDE) is rendered in an element with dir="auto".
    app.send(&carol, &lobby, "before \u{202E}desrever\u{202C} after")
        .await;
    wait_xpath(
        &admin_page,
        "//*[@id='room-log']//*[contains(@class,'message-body') and @dir='auto' and contains(., 'desrever')]",
        "the RLO message isolated",
    )
    .await;
    let author = wait_xpath(
        &admin_page,
        "//*[@id='room-log']//*[contains(@class,'message')][.//*[contains(., 'desrever')]]//*[contains(@class,'message-author')]",
        "its author",
    )
    .await;
    assert_eq!(
        author.attr("dir").await.expect("attr").as_deref(),
        Some("auto")
    );

    // (b) The Admin panel's audit log has the room.created entry of the room made above.
    click(&admin_page, Locator::Id("admin-button"), "Admin button").await;
    click(&admin_page, Locator::Id("admin-tab-audit"), "Audit tab").await;
    wait_xpath(
        &admin_page,
        "//*[@id='audit-log']/li[@data-action='room.created' and contains(., 'Topic Room')]",
        "room.created in the audit log",
    )
    .await;

    // (a) Promoted through the API, the member's open page shows the Admin button without a
    // reload (`user_updated`); demoted again, it goes away.
    let resp = app.set_role(&carol.id, "admin").await;
    assert_eq!(resp.status(), 200, "promote carol");
    wait_css(
        &carol_page,
        "#admin-button:not([hidden])",
        "Admin button after promotion",
    )
    .await;
    let resp = app.set_role(&carol.id, "member").await;
    assert_eq!(resp.status(), 200, "demote carol");
    wait_css(
        &carol_page,
        "#admin-button[hidden]",
        "no Admin button after demotion",
    )
    .await;

    // Invites and DMs on the new shapes: the owner invites through the page, the invitee joins
    // from the dock; a click on a member's name opens a DM window that pops up on the other side.
    let secret = app.room(&admin, "Secret Room", "private").await;
    open_room(&admin_page, "Secret Room").await;
    let invite = wait_css(
        &admin_page,
        "#invite-form:not([hidden]) #invite-username",
        "invite box",
    )
    .await;
    invite.send_keys("carol").await.expect("type");
    invite.send_keys("\u{E007}").await.expect("Enter");
    click(
        &carol_page,
        Locator::Css(&format!(
            "#dock-invites li[data-conversation-id='{secret}'] .invite-accept"
        )),
        "the invite with a Join button",
    )
    .await;
    wait_xpath(
        &carol_page,
        "//*[@id='room-title' and normalize-space(.)='Secret Room']",
        "the joined private room",
    )
    .await;
    click(
        &carol_page,
        Locator::Css(&format!(
            "#member-list .member[data-user-id='{}'] button.member-name",
            admin.id
        )),
        "the owner in the member list",
    )
    .await;
    let dm_compose = wait_css(&carol_page, ".dm-window textarea", "DM window").await;
    dm_compose.send_keys("psst, admin").await.expect("type");
    dm_compose.send_keys("\u{E007}").await.expect("Enter");
    wait_xpath(
        &admin_page,
        "//*[contains(@class,'dm-window')]//*[contains(@class,'message-body') and contains(., 'psst, admin')]",
        "the DM window popping up for the admin",
    )
    .await;

    // Floating windows may cover the dock; close them (a person would drag or close them too).
    // The admin panel floats above the windows: close it first.
    click(
        &admin_page,
        Locator::Id("admin-close"),
        "close the admin panel",
    )
    .await;
    for page in [&admin_page, &carol_page] {
        for close in page
            .find_all(Locator::Css(".window button[aria-label='Close']"))
            .await
            .expect("query")
            .into_iter()
            .rev()
        {
            close.click().await.expect("close a window"); // the newest is on top
        }
    }

    // Account deletion: the last admin is refused (409 last_admin, shown in the dialog); a member
    // confirms with the password and lands on /login.
    delete_account(&admin_page).await;
    wait_xpath(
        &admin_page,
        "//*[@id='delete-account-error' and contains(., 'last_admin')]",
        "last_admin shown",
    )
    .await;
    delete_account(&carol_page).await;
    carol_page
        .wait()
        .at_most(WAIT)
        .for_url(&app.url("/login").parse().expect("url"))
        .await
        .expect("carol is sent to /login");
    let resp = app
        .post_json(
            "/api/v1/auth/login",
            &json!({"username": "carol", "password": PASSWORD}),
        )
        .await;
    assert_eq!(resp.status(), 401, "the deleted account cannot sign in");

    admin_page.close().await.ok();
    carol_page.close().await.ok();
}

/// Profile menu → "Delete account…" → password → confirm.
async fn delete_account(c: &Client) {
    click(c, Locator::Css("#settings-button"), "settings button").await;
    click(
        c,
        Locator::Css("#settings-menu:not([hidden]) #delete-account"),
        "Delete account…",
    )
    .await;
    let password = wait_css(c, "#delete-password", "password field").await;
    password.send_keys(PASSWORD).await.expect("type");
    click(c, Locator::Id("delete-confirm"), "confirm button").await;
}
