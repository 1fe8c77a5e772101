//! The social dock of the web client in real headless Chromium: two users become friends
//! through the dock (request → incoming request → Accept), change their presence (away, busy,
//! a custom status) and see each other's change live in the Friends list, one creates a group
//! from the Groups tab, invites the other from the floating group window, the other accepts the
//! invitation in the dock, and they chat in the group windows; the owner mutes the member from
//! the member list and the member's compose box says so. A second test: the missed-PM list and
//! its toast at login, cleared by opening the DM; the user menu (on a member list name) blocks
//! a user, the room collapses their messages, the dock's blocked list unblocks. SQLite only,
//! like `browser.rs` (Chromium makes each run slow).

use fantoccini::{Client, Locator};
use serde_json::json;

use crate::{
    browser::{WAIT, browser, chromedriver, click, log_in, wait_css, wait_online, wait_xpath},
    helpers::{Backend, spawn_ready_app},
};

/// Types `text` into the element and presses Enter.
async fn type_enter(c: &Client, css: &str, text: &str) {
    let input = wait_css(c, css, css).await;
    input.send_keys(text).await.expect("type");
    input.send_keys("\u{E007}").await.expect("Enter");
}

/// Picks a presence in the profile's selector.
async fn choose_presence(c: &Client, value: &str) {
    wait_css(c, "#presence-select", "presence selector")
        .await
        .select_by_value(value)
        .await
        .expect("choose presence");
}

/// Closes every floating window (they may cover the dock, as they would for a person).
async fn close_windows(c: &Client) {
    for close in c
        .find_all(Locator::Css(".window button[aria-label='Close']"))
        .await
        .expect("query")
        .into_iter()
        .rev()
    {
        close.click().await.expect("close a window");
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn friends_presence_and_groups_in_the_web_client() {
    let Some(driver) = chromedriver().await else {
        return;
    };
    let app = spawn_ready_app(Backend::Sqlite).await;
    let alice = app.user("alice").await;
    let bob = app.user("bob").await;
    let alice_page = browser(&driver).await;
    let bob_page = browser(&driver).await;
    for page in [&alice_page, &bob_page] {
        page.set_window_size(1400, 900).await.expect("window size");
    }
    log_in(&app, &alice_page, "alice").await;
    log_in(&app, &bob_page, "bob").await;
    wait_online(&alice_page).await;
    wait_online(&bob_page).await;

    // Friends through the dock: alice asks, bob sees the request live and accepts it.
    type_enter(&alice_page, "#add-friend-username", "bob").await;
    wait_css(
        &alice_page,
        &format!("#friend-requests li.outgoing[data-user-id='{}']", bob.id),
        "alice's outgoing request",
    )
    .await;
    click(
        &bob_page,
        Locator::Css(&format!(
            "#friend-requests li.incoming[data-user-id='{}'] .request-accept",
            alice.id
        )),
        "Accept on bob's incoming request",
    )
    .await;
    let bob_in_alices_list = format!("#friend-list li.friend[data-user-id='{}']", bob.id);
    let alice_in_bobs_list = format!("#friend-list li.friend[data-user-id='{}']", alice.id);
    wait_css(&alice_page, &bob_in_alices_list, "bob in alice's friends").await;
    wait_css(&bob_page, &alice_in_bobs_list, "alice in bob's friends").await;
    wait_css(
        &alice_page,
        "#friend-requests-section[hidden]",
        "no pending request left for alice",
    )
    .await;
    wait_css(
        &alice_page,
        &format!("{bob_in_alices_list}[data-status='online']"),
        "bob online for alice",
    )
    .await;

    // Presence: bob goes away, then busy with a custom status; alice sees each change live.
    choose_presence(&bob_page, "away").await;
    wait_css(
        &alice_page,
        &format!("{bob_in_alices_list}[data-status='away']"),
        "bob away for alice",
    )
    .await;
    choose_presence(&bob_page, "busy").await;
    type_enter(&bob_page, "#status-text", "In a meeting").await;
    wait_css(
        &alice_page,
        &format!("{bob_in_alices_list}[data-status='busy']"),
        "bob busy for alice",
    )
    .await;
    wait_xpath(
        &alice_page,
        &format!(
            "//li[@data-user-id='{}']//*[contains(@class,'friend-status-text') and contains(., 'In a meeting')]",
            bob.id
        ),
        "bob's custom status for alice",
    )
    .await;
    wait_css(
        &bob_page,
        "#me-status[data-status='busy']",
        "bob's own status",
    )
    .await;
    // And the other way round: alice sets a status, bob sees it.
    type_enter(&alice_page, "#status-text", "Baking bread").await;
    choose_presence(&alice_page, "away").await;
    wait_css(
        &bob_page,
        &format!("{alice_in_bobs_list}[data-status='away']"),
        "alice away for bob",
    )
    .await;
    wait_xpath(
        &bob_page,
        &format!(
            "//li[@data-user-id='{}']//*[contains(@class,'friend-status-text') and contains(., 'Baking bread')]",
            alice.id
        ),
        "alice's custom status for bob",
    )
    .await;
    choose_presence(&alice_page, "online").await;
    wait_css(
        &bob_page,
        &format!("{alice_in_bobs_list}[data-status='online']"),
        "alice online again for bob",
    )
    .await;

    // A group: alice creates it from the Groups tab; its window opens.
    click(&alice_page, Locator::Id("tab-groups"), "Groups tab").await;
    click(
        &alice_page,
        Locator::Css("#create-group summary"),
        "Create group",
    )
    .await;
    type_enter(&alice_page, "#new-group-name", "Weekend Plans").await;
    let group_window = wait_css(&alice_page, ".group-window", "alice's group window").await;
    let group = group_window
        .attr("data-conversation-id")
        .await
        .expect("attr")
        .expect("the window names its group");
    wait_css(
        &alice_page,
        &format!("#group-list li[data-conversation-id='{group}']"),
        "the group in alice's Groups tab",
    )
    .await;

    // alice invites bob from the window; bob accepts in the dock and his window opens.
    type_enter(&alice_page, ".group-window .group-invite-input", "bob").await;
    click(
        &bob_page,
        Locator::Css(&format!(
            "#dock-invites li[data-conversation-id='{group}'] .invite-accept"
        )),
        "Accept on bob's group invitation",
    )
    .await;
    let in_window = |user: &str| {
        format!(
            ".group-window[data-conversation-id='{group}'] .group-member[data-user-id='{user}']"
        )
    };
    wait_css(
        &bob_page,
        &format!("{}[data-role='owner']", in_window(&alice.id)),
        "alice as the owner in bob's group window",
    )
    .await;
    wait_css(
        &alice_page,
        &format!("{}[data-role='member']", in_window(&bob.id)),
        "bob joined, in alice's group window",
    )
    .await;

    // They chat in the floating group windows.
    let compose = format!(".group-window[data-conversation-id='{group}'] textarea");
    type_enter(&bob_page, &compose, "Hello group, bob here").await;
    let message = |text: &str| {
        format!(
            "//*[contains(@class,'group-window')]//*[contains(@class,'message-body') and contains(., '{text}')]"
        )
    };
    wait_xpath(
        &alice_page,
        &message("Hello group, bob here"),
        "bob's message for alice",
    )
    .await;
    type_enter(&alice_page, &compose, "Hi bob, saturday?").await;
    wait_xpath(
        &bob_page,
        &message("Hi bob, saturday?"),
        "alice's message for bob",
    )
    .await;

    // The owner renames the group and sets a topic (Edit: `conversation.update`); bob sees both
    // live, and has no Edit button himself.
    let window = format!(".group-window[data-conversation-id='{group}']");
    click(
        &alice_page,
        Locator::Css(&format!("{window} .group-edit")),
        "Edit in alice's group window",
    )
    .await;
    let name = wait_css(
        &alice_page,
        &format!("{window} .group-edit-name"),
        "group name input",
    )
    .await;
    name.clear().await.expect("clear the name");
    name.send_keys("Sunday Plans").await.expect("type the name");
    type_enter(
        &alice_page,
        &format!("{window} .group-edit-topic"),
        "Bring snacks",
    )
    .await;
    wait_xpath(
        &bob_page,
        &format!(
            "//*[contains(@class,'group-window') and @data-conversation-id='{group}']//*[contains(@class,'group-topic') and .='Bring snacks']"
        ),
        "the new topic in bob's group window",
    )
    .await;
    let (title, edit_hidden) = bob_page
        .execute(
            &format!(
                "const w = document.querySelector(\"{window}\"); return [w.textContent.includes('Sunday Plans'), w.querySelector('.group-edit').hidden];"
            ),
            vec![],
        )
        .await
        .map(|v| (v[0].as_bool(), v[1].as_bool()))
        .expect("read bob's window");
    assert_eq!((title, edit_hidden), (Some(true), Some(true)));

    // The owner mutes bob from the member list; bob's window says so next to his compose box
    // (disabled while muted), and alice's list shows the badge.
    click(
        &alice_page,
        Locator::Css(&format!("{} .manage-member", in_window(&bob.id))),
        "Manage bob",
    )
    .await;
    click(
        &alice_page,
        Locator::Css(".popup-menu button[data-action='mute-600']"),
        "Mute for 10 minutes",
    )
    .await;
    wait_css(
        &alice_page,
        &format!("{} .muted-badge", in_window(&bob.id)),
        "bob muted in alice's list",
    )
    .await;
    wait_css(
        &bob_page,
        &format!("{} .muted-badge", in_window(&bob.id)),
        "bob sees himself muted",
    )
    .await;
    wait_css(
        &bob_page,
        &format!(".group-window[data-conversation-id='{group}'] .compose-error[data-code='muted']"),
        "the muted notice next to bob's compose box",
    )
    .await;
    wait_css(
        &bob_page,
        &format!("{compose}:disabled"),
        "bob's compose box disabled",
    )
    .await;

    alice_page.close().await.ok();
    bob_page.close().await.ok();
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn missed_messages_and_blocking_in_the_web_client() {
    let Some(driver) = chromedriver().await else {
        return;
    };
    let app = spawn_ready_app(Backend::Sqlite).await;
    let bob = app.user("bob").await;
    let carol = app.user("carol").await;

    // carol writes to bob while he is not signed in.
    let dm: serde_json::Value = app
        .post_auth("/api/v1/dms", &carol.token, &json!({"username": "bob"}))
        .await
        .json()
        .await
        .expect("dm");
    let dm = dm["id"].as_str().expect("dm id").to_owned();
    app.send(&carol, &dm, "psst bob").await;
    app.send(&carol, &dm, "are you there?").await;

    let page = browser(&driver).await;
    page.set_window_size(1400, 900).await.expect("window size");
    log_in(&app, &page, "bob").await;
    wait_online(&page).await;

    // The missed-PM list has carol with 2, and the toast says so; opening the DM clears it.
    let missed = format!("#dock-missed button.missed-entry[data-conversation-id='{dm}']");
    wait_xpath(
        &page,
        &format!(
            "//button[contains(@class,'missed-entry') and @data-conversation-id='{dm}']//*[contains(@class,'badge') and normalize-space(.)='2']"
        ),
        "carol's 2 missed messages",
    )
    .await;
    wait_xpath(
        &page,
        "//*[contains(@class,'toast') and contains(., '2 messages from carol')]",
        "the missed-messages toast",
    )
    .await;
    click(&page, Locator::Css(&missed), "the missed entry").await;
    wait_xpath(
        &page,
        "//*[contains(@class,'dm-window')]//*[contains(@class,'message-body') and contains(., 'are you there?')]",
        "the DM window with carol's messages",
    )
    .await;
    wait_css(
        &page,
        "#dock-missed-section[hidden]",
        "the missed list cleared",
    )
    .await;
    close_windows(&page).await;
    // The page sent `read` over its socket: the server stops listing the DM (polled, with a
    // deadline, as the frame may still be on its way).
    let deadline = tokio::time::Instant::now() + WAIT;
    loop {
        let resp = app.get_json("/api/v1/dms/missed", &bob.token).await;
        if resp["missed"] == json!([]) {
            break;
        }
        assert!(
            tokio::time::Instant::now() < deadline,
            "the DM is still missed on the server: {resp}"
        );
        tokio::time::sleep(std::time::Duration::from_millis(100)).await;
    }

    // The user menu on carol's name in the Lobby's member list: Block. Her Lobby message is
    // collapsed; Show reveals it; Unblock in the dock's blocked list brings it back.
    let lobby = app.lobby(&carol).await;
    app.send(&carol, &lobby, "a lobby message from carol").await;
    let carol_message = "//*[@id='room-log']//*[contains(@class,'message')][.//*[contains(@class,'message-body') and contains(., 'a lobby message from carol')]]";
    wait_xpath(&page, carol_message, "carol's Lobby message").await;
    click(
        &page,
        Locator::Css(&format!(
            "#member-list .member[data-user-id='{}'] .user-menu-button",
            carol.id
        )),
        "⋯ on carol in the member list",
    )
    .await;
    click(
        &page,
        Locator::Css(".popup-menu[role='menu'] button[role='menuitem'][data-action='block']"),
        "Block",
    )
    .await;
    wait_css(
        &page,
        &format!("#blocked-list li[data-user-id='{}']", carol.id),
        "carol in the blocked users",
    )
    .await;
    click(
        &page,
        Locator::XPath(&format!(
            "{carol_message}[contains(@class,'blocked')]//button[contains(@class,'show-blocked')]"
        )),
        "Show on the collapsed message",
    )
    .await;
    wait_xpath(
        &page,
        &format!("{carol_message}[not(contains(@class,'blocked'))]"),
        "the message shown",
    )
    .await;
    let blocks = app.get_json("/api/v1/blocks", &bob.token).await;
    assert_eq!(blocks["blocked"][0]["user"]["id"], json!(carol.id));
    click(
        &page,
        Locator::Css("#blocked-section summary"),
        "Blocked users",
    )
    .await;
    click(
        &page,
        Locator::Css(&format!(
            "#blocked-list li[data-user-id='{}'] .unblock",
            carol.id
        )),
        "Unblock",
    )
    .await;
    wait_xpath(
        &page,
        "//*[@id='blocked-list']/li[contains(@class,'empty')]",
        "nobody blocked",
    )
    .await;
    let blocks = app.get_json("/api/v1/blocks", &bob.token).await;
    assert_eq!(blocks["blocked"], json!([]));
    page.close().await.ok();
}
