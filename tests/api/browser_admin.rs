//! The admin panel of the web client (issue 8) in real headless Chromium: the admin opens it with
//! Ctrl+Alt+P, it keeps its (dragged) position and minimized state across a reload,
//! Ctrl+Alt+Shift+P and `window.ECAP.reset()` put it back in its default place, `ECAP.toggle()`
//! / `show()` work, the Audit tab lists entries; a member's page has no panel (the keys do
//! nothing, `window.ECAP` is absent, no request to /api/v1/admin), gets it live when promoted and
//! loses it live when demoted; the admin suspends a user whose open page lands on the login page
//! showing until when and why, sets slowmode, sends a broadcast seen as a banner, and moderates in
//! context. SQLite only, like the other browser tests.

use std::time::Duration;

use fantoccini::{
    Client, Locator,
    actions::{InputSource, KeyAction, KeyActions, MouseActions, PointerAction},
};
use serde_json::{Value, json};

use crate::{
    browser::{WAIT, browser, chromedriver, click, log_in, wait_css, wait_online, wait_xpath},
    helpers::{Backend, TestApp, spawn_ready_app},
};

const CTRL: char = '\u{E009}';
const ALT: char = '\u{E00A}';
const SHIFT: char = '\u{E008}';

/// Presses Ctrl+Alt(+Shift)+P on the page (real key events through WebDriver actions).
async fn press_panel_keys(c: &Client, shift: bool) {
    let mut keys = KeyActions::new("keyboard".to_owned())
        .then(KeyAction::Down { value: CTRL })
        .then(KeyAction::Down { value: ALT });
    if shift {
        keys = keys.then(KeyAction::Down { value: SHIFT });
    }
    keys = keys
        .then(KeyAction::Down { value: 'p' })
        .then(KeyAction::Up { value: 'p' });
    if shift {
        keys = keys.then(KeyAction::Up { value: SHIFT });
    }
    keys = keys
        .then(KeyAction::Up { value: ALT })
        .then(KeyAction::Up { value: CTRL });
    c.perform_actions(keys).await.expect("press the keys");
    c.release_actions().await.expect("release");
}

/// Runs a script (`return …`) and gives its value.
async fn js(c: &Client, script: &str) -> Value {
    c.execute(script, vec![]).await.expect("script runs")
}

/// Polls a script until it returns `true`, at most [`WAIT`].
async fn wait_js(c: &Client, script: &str, what: &str) {
    let deadline = tokio::time::Instant::now() + WAIT;
    loop {
        if js(c, script).await == json!(true) {
            return;
        }
        assert!(
            tokio::time::Instant::now() < deadline,
            "{what} within {WAIT:?} ({script})"
        );
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
}

/// The panel's top-left corner in viewport pixels.
async fn panel_corner(c: &Client) -> (i64, i64) {
    let v = js(
        c,
        "const r = document.getElementById('admin-window').getBoundingClientRect(); return [Math.round(r.left), Math.round(r.top)];",
    )
    .await;
    (v[0].as_i64().expect("left"), v[1].as_i64().expect("top"))
}

/// Counts the keydown events the page has seen (a listener added after the app's), so a test
/// can wait until a key press was handled before checking that nothing happened.
async fn count_keys(c: &Client) {
    js(
        c,
        "window.__keys = 0; document.addEventListener('keydown', () => { window.__keys += 1; }); return true;",
    )
    .await;
}

/// Requests the page made to /api/v1/admin (the browser's resource timing entries).
async fn admin_requests(c: &Client) -> Vec<String> {
    let v = js(
        c,
        "return performance.getEntriesByType('resource').map((e) => e.name).filter((n) => n.includes('/api/v1/admin'));",
    )
    .await;
    serde_json::from_value(v).expect("list of urls")
}

/// Drags the panel by its title bar.
async fn drag_panel(c: &Client, dx: f64, dy: f64) {
    let bar = wait_css(c, "#admin-window .admin-titlebar", "panel title bar").await;
    let mouse = MouseActions::new("mouse".to_owned())
        .then(PointerAction::MoveToElement {
            element: bar,
            duration: None,
            x: -100.0,
            y: 0.0,
        })
        .then(PointerAction::Down { button: 0 })
        .then(PointerAction::MoveBy {
            duration: Some(Duration::from_millis(150)),
            x: dx / 2.0,
            y: dy / 2.0,
        })
        .then(PointerAction::MoveBy {
            duration: Some(Duration::from_millis(150)),
            x: dx / 2.0,
            y: dy / 2.0,
        })
        .then(PointerAction::Up { button: 0 });
    c.perform_actions(mouse).await.expect("drag");
    c.release_actions().await.expect("release");
}

async fn two_pages(
    app: &TestApp,
    driver: &crate::browser::Driver,
    member: &str,
) -> (Client, Client) {
    let admin_page = browser(driver).await;
    let member_page = browser(driver).await;
    for page in [&admin_page, &member_page] {
        page.set_window_size(1400, 900).await.expect("window size");
    }
    log_in(app, &admin_page, "admin").await;
    log_in(app, &member_page, member).await;
    wait_online(&admin_page).await;
    wait_online(&member_page).await;
    (admin_page, member_page)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_admin_panel_opens_by_keys_remembers_its_place_and_is_absent_for_members() {
    let Some(driver) = chromedriver().await else {
        return;
    };
    let app = spawn_ready_app(Backend::Sqlite).await;
    let admin = app.login("admin").await;
    let carol = app.user("carol").await;
    app.room(&admin, "Panel Room", "public").await;
    let (admin_page, carol_page) = two_pages(&app, &driver, "carol").await;

    // The admin: no panel until Ctrl+Alt+P; the Admin button is there.
    wait_css(&admin_page, "#admin-button:not([hidden])", "Admin button").await;
    assert_eq!(
        js(
            &admin_page,
            "return document.getElementById('admin-window') === null;"
        )
        .await,
        json!(true),
        "the panel starts closed"
    );
    press_panel_keys(&admin_page, false).await;
    wait_css(&admin_page, "#admin-window", "panel after Ctrl+Alt+P").await;
    let default_corner = panel_corner(&admin_page).await;

    // The Overview tab names this instance (one instance, no Redis: the only one listed).
    click(
        &admin_page,
        Locator::Id("admin-tab-overview"),
        "Overview tab",
    )
    .await;
    wait_xpath(
        &admin_page,
        "//*[@id='admin-cluster']//tr[@data-instance and contains(., '(this one)')]",
        "this instance in the Instances block",
    )
    .await;

    // The Audit tab lists the room.created entry of the room made above.
    click(&admin_page, Locator::Id("admin-tab-audit"), "Audit tab").await;
    wait_xpath(
        &admin_page,
        "//*[@id='audit-log']/li[@data-action='room.created' and contains(., 'Panel Room')]",
        "room.created in the audit tab",
    )
    .await;

    // Dragged by its title bar, it keeps the new place (and the tab) across a reload.
    drag_panel(&admin_page, -180.0, 90.0).await;
    let moved = panel_corner(&admin_page).await;
    assert!(
        (moved.0 - (default_corner.0 - 180)).abs() <= 2
            && (moved.1 - (default_corner.1 + 90)).abs() <= 2,
        "dragged from {default_corner:?} by (-180, 90): now {moved:?}"
    );
    admin_page.refresh().await.expect("reload");
    wait_online(&admin_page).await;
    wait_css(
        &admin_page,
        "#admin-window[data-tab='audit']",
        "panel after reload, on the Audit tab",
    )
    .await;
    let after_reload = panel_corner(&admin_page).await;
    assert!(
        (after_reload.0 - moved.0).abs() <= 1 && (after_reload.1 - moved.1).abs() <= 1,
        "position kept across the reload: {moved:?} → {after_reload:?}"
    );

    // Minimized, it stays minimized across a reload; Ctrl+Alt+P brings it back.
    click(&admin_page, Locator::Id("admin-minimize"), "Minimize").await;
    wait_css(
        &admin_page,
        "#admin-window[data-minimized='true']",
        "minimized panel",
    )
    .await;
    admin_page.refresh().await.expect("reload");
    wait_online(&admin_page).await;
    wait_css(
        &admin_page,
        "#admin-window[data-minimized='true']",
        "still minimized after reload",
    )
    .await;
    press_panel_keys(&admin_page, false).await;
    wait_css(
        &admin_page,
        "#admin-window[data-minimized='false']",
        "restored by Ctrl+Alt+P",
    )
    .await;

    // Ctrl+Alt+Shift+P forgets the saved state: open again, in the default place.
    press_panel_keys(&admin_page, true).await;
    wait_js(
        &admin_page,
        &format!(
            "const el = document.getElementById('admin-window'); if (!el) return false; const r = el.getBoundingClientRect(); return Math.abs(r.left - {}) <= 1 && Math.abs(r.top - {}) <= 1 && el.dataset.minimized === 'false';",
            default_corner.0, default_corner.1
        ),
        "the panel back in its default place after Ctrl+Alt+Shift+P",
    )
    .await;

    // Ctrl+Alt+P closes it; window.ECAP does the same from the console.
    press_panel_keys(&admin_page, false).await;
    wait_js(
        &admin_page,
        "return document.getElementById('admin-window') === null;",
        "closed by Ctrl+Alt+P",
    )
    .await;
    js(&admin_page, "window.ECAP.toggle(); return true;").await;
    wait_css(&admin_page, "#admin-window", "opened by ECAP.toggle()").await;
    drag_panel(&admin_page, 120.0, 40.0).await;
    js(&admin_page, "window.ECAP.reset(); return true;").await;
    wait_js(
        &admin_page,
        &format!(
            "const el = document.getElementById('admin-window'); if (!el) return false; const r = el.getBoundingClientRect(); return Math.abs(r.left - {}) <= 1 && Math.abs(r.top - {}) <= 1;",
            default_corner.0, default_corner.1
        ),
        "ECAP.reset() puts it back in its default place",
    )
    .await;
    js(&admin_page, "window.ECAP.toggle(); return true;").await;
    wait_js(
        &admin_page,
        "return document.getElementById('admin-window') === null;",
        "closed by ECAP.toggle()",
    )
    .await;
    js(&admin_page, "window.ECAP.show(); return true;").await;
    wait_css(&admin_page, "#admin-window", "opened by ECAP.show()").await;
    assert!(
        !admin_requests(&admin_page).await.is_empty(),
        "the admin's page did call /admin routes (the request log works)"
    );

    // The member: no Admin button, no ECAP, the keys do nothing, and no /admin request at all.
    assert_eq!(
        js(
            &carol_page,
            "return document.getElementById('admin-button').hidden;"
        )
        .await,
        json!(true),
        "no Admin button for a member"
    );
    count_keys(&carol_page).await;
    press_panel_keys(&carol_page, false).await;
    press_panel_keys(&carol_page, true).await;
    wait_js(
        &carol_page,
        "return window.__keys >= 2;",
        "the member's page handled both key presses",
    )
    .await;
    assert_eq!(
        js(
            &carol_page,
            "return [document.getElementById('admin-window') === null, typeof window.ECAP];"
        )
        .await,
        json!([true, "undefined"]),
        "no panel and no ECAP for a member"
    );
    assert_eq!(
        admin_requests(&carol_page).await,
        Vec::<String>::new(),
        "a member's page calls no /admin route"
    );

    // Promoted live (user_updated), the member gets the panel; demoted, it closes at once.
    let resp = app.set_role(&carol.id, "admin").await;
    assert_eq!(resp.status(), 200, "promote carol");
    wait_css(
        &carol_page,
        "#admin-button:not([hidden])",
        "Admin button after promotion",
    )
    .await;
    wait_js(
        &carol_page,
        "return typeof window.ECAP === 'object';",
        "ECAP after promotion",
    )
    .await;
    js(&carol_page, "window.ECAP.show(); return true;").await;
    wait_css(&carol_page, "#admin-window", "carol's panel").await;
    let resp = app.set_role(&carol.id, "member").await;
    assert_eq!(resp.status(), 200, "demote carol");
    wait_js(
        &carol_page,
        "return document.getElementById('admin-window') === null && typeof window.ECAP === 'undefined' && document.getElementById('admin-button').hidden;",
        "the panel closes when the permission is lost",
    )
    .await;

    admin_page.close().await.ok();
    carol_page.close().await.ok();
}

/// Opens the panel (Ctrl+Alt+P) on a tab.
async fn open_tab(c: &Client, tab: &str) {
    press_panel_keys(c, false).await;
    click(c, Locator::Id(&format!("admin-tab-{tab}")), "admin tab").await;
}

/// Fills the open form dialog's fields (CSS selector → text) and submits it.
async fn fill_dialog(c: &Client, dialog: &str, fields: &[(&str, &str)]) {
    for (css, text) in fields {
        let el = wait_css(c, &format!("dialog.{dialog} {css}"), css).await;
        el.clear().await.ok();
        el.send_keys(text).await.expect("type");
    }
    click(
        c,
        Locator::Css(&format!("dialog.{dialog} .form-dialog-submit")),
        "dialog submit",
    )
    .await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_suspended_users_open_page_lands_on_the_login_page_with_the_reason() {
    let Some(driver) = chromedriver().await else {
        return;
    };
    let app = spawn_ready_app(Backend::Sqlite).await;
    app.user("dave").await;
    let (admin_page, dave_page) = two_pages(&app, &driver, "dave").await;

    open_tab(&admin_page, "users").await;
    let search = wait_css(&admin_page, "#admin-user-search", "user search").await;
    search.send_keys("dav").await.expect("type");
    click(
        &admin_page,
        Locator::Css("#admin-user-list li[data-username='dave'] .admin-user-open"),
        "dave in the list",
    )
    .await;
    click(
        &admin_page,
        Locator::Css("#admin-user-detail [data-action='suspend']"),
        "Suspend…",
    )
    .await;
    fill_dialog(
        &admin_page,
        "suspend-dialog",
        &[("textarea[name='reason']", "spamming the lobby")],
    )
    .await;
    wait_css(
        &admin_page,
        "#admin-user-detail .tag-suspended",
        "dave shown suspended",
    )
    .await;

    // Dave's open page is signed out and the login page says so, with until when and why …
    wait_xpath(
        &dave_page,
        "//*[@id='login-reason' and @data-reason='suspended' and contains(., 'spamming the lobby')]",
        "the suspension and its reason on dave's login page",
    )
    .await;
    // … and logging in again is refused with until when and why.
    log_in_expecting_refusal(&app, &dave_page, "dave").await;
    wait_xpath(
        &dave_page,
        "//*[@id='login-reason' and contains(., 'spamming the lobby')]",
        "the reason after a refused login",
    )
    .await;
    admin_page.close().await.ok();
    dave_page.close().await.ok();
}

async fn log_in_expecting_refusal(app: &TestApp, c: &Client, name: &str) {
    c.goto(&app.url("/login")).await.expect("login page");
    wait_css(c, "#username", "username")
        .await
        .send_keys(name)
        .await
        .expect("type");
    wait_css(c, "#password", "password")
        .await
        .send_keys(crate::helpers::PASSWORD)
        .await
        .expect("type");
    click(c, Locator::Css("#login-form button[type=submit]"), "Log in").await;
    wait_xpath(
        c,
        "//*[@role='alert' and string-length(normalize-space(.)) > 0]",
        "the refusal",
    )
    .await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn slowmode_set_in_the_panel_stops_a_members_second_quick_message() {
    let Some(driver) = chromedriver().await else {
        return;
    };
    let app = spawn_ready_app(Backend::Sqlite).await;
    let admin = app.login("admin").await;
    let erin = app.user("erin").await;
    let room = app.room(&admin, "Slow Room", "public").await;
    app.join(&erin, &room).await;
    let (admin_page, erin_page) = two_pages(&app, &driver, "erin").await;

    open_tab(&admin_page, "rooms").await;
    let row = format!("#admin-room-list li[data-conversation-id='{room}']");
    let input = wait_css(
        &admin_page,
        &format!("{row} .slowmode-input"),
        "slowmode input",
    )
    .await;
    input.clear().await.expect("clear");
    input.send_keys("30").await.expect("type");
    click(
        &admin_page,
        Locator::Css(&format!("{row} [data-action='slowmode']")),
        "Set",
    )
    .await;
    wait_css(
        &admin_page,
        &format!("#admin-room-list li[data-conversation-id='{room}'] .tag-slowmode"),
        "slowmode tag",
    )
    .await;

    // Erin's room header shows it live; her second quick message is refused with the wait.
    click(
        &erin_page,
        Locator::XPath("//button[contains(@class,'room-entry') and contains(., 'Slow Room')]"),
        "Slow Room",
    )
    .await;
    wait_css(
        &erin_page,
        "#room-badges .tag-slowmode",
        "slowmode badge in the header",
    )
    .await;
    for text in ["first quick one", "second quick one"] {
        let compose = wait_css(&erin_page, "#room-compose", "compose").await;
        compose.send_keys(text).await.expect("type");
        compose.send_keys("\u{E007}").await.expect("Enter");
    }
    wait_css(
        &erin_page,
        ".compose-error[data-code='slowmode']",
        "the slowmode error",
    )
    .await;
    admin_page.close().await.ok();
    erin_page.close().await.ok();
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_broadcast_from_the_panel_is_a_banner_for_the_member() {
    let Some(driver) = chromedriver().await else {
        return;
    };
    let app = spawn_ready_app(Backend::Sqlite).await;
    app.user("frank").await;
    let (admin_page, frank_page) = two_pages(&app, &driver, "frank").await;

    open_tab(&admin_page, "broadcast").await;
    wait_css(&admin_page, "#broadcast-text", "broadcast text")
        .await
        .send_keys("Maintenance at 22:00")
        .await
        .expect("type");
    click(
        &admin_page,
        Locator::Id("broadcast-send"),
        "Send announcement",
    )
    .await;
    wait_css(&admin_page, ".broadcast-status.ok", "sent").await;
    wait_xpath(
        &frank_page,
        "//*[@id='announcements']/*[contains(@class,'announcement') and contains(., 'Maintenance at 22:00') and contains(., 'admin')]",
        "the banner on frank's page",
    )
    .await;
    click(
        &frank_page,
        Locator::Css(".announcement-dismiss"),
        "Dismiss",
    )
    .await;
    wait_js(
        &frank_page,
        "return document.querySelectorAll('.announcement').length === 0;",
        "dismissed",
    )
    .await;
    admin_page.close().await.ok();
    frank_page.close().await.ok();
}

/// Opens the "⋯" menu of the message with this text and returns the menu's item actions.
async fn message_menu(c: &Client, text: &str) -> Vec<String> {
    let message = wait_xpath(
        c,
        &format!("//*[@id='room-log']//*[contains(@class,'message') and @data-seq and .//*[contains(@class,'message-body') and contains(., '{text}')]]"),
        "the message",
    )
    .await;
    let hover = MouseActions::new("mouse".to_owned()).then(PointerAction::MoveToElement {
        element: message.clone(),
        duration: None,
        x: 0.0,
        y: 0.0,
    });
    c.perform_actions(hover).await.expect("hover");
    message
        .find(Locator::Css(".message-menu-button"))
        .await
        .expect("the message's menu button")
        .click()
        .await
        .expect("open the menu");
    // Only the moderation items: Reply, React, Edit, Pin and Copy (issue 9) are everyone's.
    menu_actions(c)
        .await
        .into_iter()
        .filter(|a| !["reply", "react", "edit", "pin", "unpin", "copy"].contains(&a.as_str()))
        .collect()
}

/// The `data-action`s of the open popup menu.
async fn menu_actions(c: &Client) -> Vec<String> {
    wait_css(c, ".popup-menu[role=menu]", "a menu").await;
    let v = js(
        c,
        "return [...document.querySelectorAll('.popup-menu[role=menu] [role=menuitem]')].map((b) => b.dataset.action);",
    )
    .await;
    serde_json::from_value(v).expect("actions")
}

async fn close_menu(c: &Client) {
    js(
        c,
        "document.querySelector('.popup-menu [role=menuitem]')?.dispatchEvent(new KeyboardEvent('keydown', {key: 'Escape', bubbles: true})); return true;",
    )
    .await;
    wait_js(
        c,
        "return document.querySelector('.popup-menu') === null;",
        "menu closed",
    )
    .await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn moderation_menus_follow_the_permissions_in_the_room() {
    let Some(driver) = chromedriver().await else {
        return;
    };
    let app = spawn_ready_app(Backend::Sqlite).await;
    let admin = app.login("admin").await;
    let gina = app.user("gina").await;
    let room = app.room(&admin, "Mod Room", "public").await;
    app.join(&gina, &room).await;
    app.send(&admin, &room, "hello from admin").await;
    app.send(&gina, &room, "hello from gina").await;
    let (admin_page, gina_page) = two_pages(&app, &driver, "gina").await;
    for page in [&admin_page, &gina_page] {
        click(
            page,
            Locator::XPath("//button[contains(@class,'room-entry') and contains(., 'Mod Room')]"),
            "Mod Room",
        )
        .await;
    }

    // A member: "Report message…" on others' messages, "Delete message" on her own, nothing more.
    assert_eq!(
        message_menu(&gina_page, "hello from admin").await,
        vec!["report"],
        "a member's menu on someone else's message"
    );
    close_menu(&gina_page).await;
    assert_eq!(
        message_menu(&gina_page, "hello from gina").await,
        vec!["delete-message"],
        "a member's menu on her own message"
    );
    close_menu(&gina_page).await;
    // Reporting asks for the reason (an empty one is refused in the dialog itself).
    message_menu(&gina_page, "hello from admin").await;
    click(
        &gina_page,
        Locator::Css("[role=menuitem][data-action='report']"),
        "Report message…",
    )
    .await;
    click(
        &gina_page,
        Locator::Css("dialog.report-dialog .form-dialog-submit"),
        "Report",
    )
    .await;
    wait_xpath(
        &gina_page,
        "//dialog[contains(@class,'report-dialog')]//*[@role='alert' and contains(., 'required')]",
        "the reason is required",
    )
    .await;
    click(
        &gina_page,
        Locator::Css("dialog.report-dialog .form-dialog-cancel"),
        "Cancel",
    )
    .await;
    // No Kick / Ban in her user menu on the admin's name.
    click(
        &gina_page,
        Locator::Css(&format!(
            "#member-list .user-menu-button[data-user-menu='{}']",
            admin.id
        )),
        "user menu on the admin",
    )
    .await;
    let items = menu_actions(&gina_page).await;
    assert!(
        !items
            .iter()
            .any(|a| a.starts_with("room-") || a == "mute-author" || a == "open-admin-user"),
        "no moderation items for a member: {items:?}"
    );
    close_menu(&gina_page).await;
    assert_eq!(
        admin_requests(&gina_page).await,
        Vec::<String>::new(),
        "a member's page calls no /admin route"
    );

    // The admin (rooms.moderate, users.moderate, users.view): every action on gina's message, and
    // Kick / Ban in the member list; "Open user in admin panel" opens the Users tab on her.
    assert_eq!(
        message_menu(&admin_page, "hello from gina").await,
        vec!["report", "delete-message", "mute-author", "open-admin-user"],
        "the admin's menu on a member's message"
    );
    close_menu(&admin_page).await;
    click(
        &admin_page,
        Locator::Css(&format!(
            "#member-list .user-menu-button[data-user-menu='{}']",
            gina.id
        )),
        "user menu on gina",
    )
    .await;
    let items = menu_actions(&admin_page).await;
    for expected in ["room-kick", "room-ban", "mute-author", "open-admin-user"] {
        assert!(
            items.iter().any(|a| a == expected),
            "{expected} in {items:?}"
        );
    }
    click(
        &admin_page,
        Locator::Css("[role=menuitem][data-action='open-admin-user']"),
        "Open user in admin panel",
    )
    .await;
    wait_css(
        &admin_page,
        "#admin-window[data-tab='users']",
        "the panel on the Users tab",
    )
    .await;
    wait_css(
        &admin_page,
        "#admin-user-detail:not([hidden])",
        "the user's detail view",
    )
    .await;

    admin_page.close().await.ok();
    gina_page.close().await.ok();
}

/// Clicks a button of the user detail view by its `data-action`.
async fn detail_action(c: &Client, action: &str) {
    click(
        c,
        Locator::Css(&format!("#admin-user-detail [data-action='{action}']")),
        action,
    )
    .await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_users_roles_and_audit_tabs_act_through_the_panel() {
    let Some(driver) = chromedriver().await else {
        return;
    };
    let app = spawn_ready_app(Backend::Sqlite).await;
    let hank = app.user("hank").await;
    let (admin_page, _hank_page) = two_pages(&app, &driver, "hank").await;

    // Users: search, open, and each action with its reason; the state tags follow.
    open_tab(&admin_page, "users").await;
    wait_css(&admin_page, "#admin-user-search", "user search")
        .await
        .send_keys("han")
        .await
        .expect("type");
    click(
        &admin_page,
        Locator::Css("#admin-user-list li[data-username='hank'] .admin-user-open"),
        "hank",
    )
    .await;
    detail_action(&admin_page, "mute").await;
    fill_dialog(
        &admin_page,
        "mute-dialog",
        &[("textarea[name='reason']", "flooding")],
    )
    .await;
    wait_css(
        &admin_page,
        "#admin-user-detail .tag-muted-user",
        "muted tag",
    )
    .await;
    detail_action(&admin_page, "unmute").await;
    wait_css(
        &admin_page,
        "#admin-user-detail [data-action='mute']",
        "mute again offered",
    )
    .await;
    detail_action(&admin_page, "shadowban").await;
    fill_dialog(
        &admin_page,
        "shadowban-dialog",
        &[("textarea[name='reason']", "spam bot")],
    )
    .await;
    wait_css(
        &admin_page,
        "#admin-user-detail .tag-shadowbanned",
        "shadowbanned tag",
    )
    .await;
    detail_action(&admin_page, "unshadowban").await;
    wait_css(
        &admin_page,
        "#admin-user-detail [data-action='shadowban']",
        "shadowban again offered",
    )
    .await;
    detail_action(&admin_page, "deactivate").await;
    fill_dialog(
        &admin_page,
        "deactivate-dialog",
        &[("textarea[name='reason']", "left the team")],
    )
    .await;
    wait_css(
        &admin_page,
        "#admin-user-detail .tag-deactivated",
        "deactivated tag",
    )
    .await;
    detail_action(&admin_page, "reactivate").await;
    wait_css(
        &admin_page,
        "#admin-user-detail [data-action='deactivate']",
        "active again",
    )
    .await;
    // A reason is required: the dialog says so and nothing is sent.
    detail_action(&admin_page, "mute").await;
    click(
        &admin_page,
        Locator::Css("dialog.mute-dialog .form-dialog-submit"),
        "Mute",
    )
    .await;
    wait_xpath(
        &admin_page,
        "//dialog[contains(@class,'mute-dialog')]//*[@role='alert' and contains(., 'required')]",
        "reason required",
    )
    .await;
    click(
        &admin_page,
        Locator::Css("dialog.mute-dialog .form-dialog-cancel"),
        "Cancel",
    )
    .await;
    // The reset link is shown to copy.
    detail_action(&admin_page, "reset-link").await;
    let link = wait_css(
        &admin_page,
        "#admin-user-detail .reset-link-url",
        "reset link",
    )
    .await;
    let url = link.prop("value").await.expect("value").unwrap_or_default();
    assert!(url.contains("reset"), "a reset link: {url}");
    // Roles: grant moderator, then revoke it.
    wait_css(
        &admin_page,
        "#admin-user-detail .grant-role-select",
        "grant selector",
    )
    .await
    .select_by_value("moderator")
    .await
    .expect("choose");
    detail_action(&admin_page, "grant-role").await;
    wait_css(
        &admin_page,
        "#admin-user-detail .role-chip[data-role='moderator']",
        "moderator chip",
    )
    .await;
    click(
        &admin_page,
        Locator::Css(
            "#admin-user-detail .role-chip[data-role='moderator'] [data-action='revoke-role']",
        ),
        "revoke moderator",
    )
    .await;
    wait_js(
        &admin_page,
        "return document.querySelector(\"#admin-user-detail .role-chip[data-role='moderator']\") === null && document.querySelector('#admin-user-detail .user-action-status.ok') !== null;",
        "moderator revoked",
    )
    .await;

    // The server's refusal is shown inline: the last admin cannot revoke their own admin role.
    click(
        &admin_page,
        Locator::Css("#admin-user-detail [data-action='back']"),
        "All users",
    )
    .await;
    let search = wait_css(&admin_page, "#admin-user-search", "user search").await;
    search.clear().await.expect("clear");
    search.send_keys("admin").await.expect("type");
    click(
        &admin_page,
        Locator::Css("#admin-user-list li[data-username='admin'] .admin-user-open"),
        "admin",
    )
    .await;
    click(
        &admin_page,
        Locator::Css(
            "#admin-user-detail .role-chip[data-role='admin'] [data-action='revoke-role']",
        ),
        "revoke admin from myself",
    )
    .await;
    wait_css(
        &admin_page,
        "#admin-user-detail .user-action-status.error[data-code]",
        "the refusal inline",
    )
    .await;

    // Roles tab: a custom role with one permission, then deleted after typing its name.
    click(&admin_page, Locator::Id("admin-tab-roles"), "Roles tab").await;
    wait_css(
        &admin_page,
        "#admin-role-list li[data-role='admin']",
        "built-in roles",
    )
    .await;
    click(
        &admin_page,
        Locator::Css(".admin-create-role summary"),
        "Create a custom role",
    )
    .await;
    wait_css(&admin_page, "#new-role-name", "role name")
        .await
        .send_keys("helpers")
        .await
        .expect("type");
    click(
        &admin_page,
        Locator::Css("#create-role-form input[data-permission='reports.review']"),
        "reports.review",
    )
    .await;
    click(
        &admin_page,
        Locator::Css("#create-role-form button[type=submit]"),
        "Create role",
    )
    .await;
    wait_xpath(
        &admin_page,
        "//*[@id='admin-role-list']/li[@data-role='helpers' and contains(., 'reports.review')]",
        "the new role",
    )
    .await;
    click(
        &admin_page,
        Locator::Css("#admin-role-list li[data-role='helpers'] [data-action='delete-role']"),
        "Delete…",
    )
    .await;
    fill_dialog(
        &admin_page,
        "delete-role-dialog",
        &[(".confirm-name", "helpers")],
    )
    .await;
    wait_js(
        &admin_page,
        "return document.querySelector(\"#admin-role-list li[data-role='helpers']\") === null;",
        "role deleted",
    )
    .await;

    // Audit tab: filtered by actor (a username) it lists the mute with its reason.
    click(&admin_page, Locator::Id("admin-tab-audit"), "Audit tab").await;
    let actor = wait_css(&admin_page, "#audit-actor", "actor filter").await;
    actor.send_keys("admin").await.expect("type");
    wait_css(&admin_page, "#audit-target", "target")
        .await
        .send_keys(&hank.id)
        .await
        .expect("type");
    click(&admin_page, Locator::Id("audit-refresh"), "Apply").await;
    wait_xpath(
        &admin_page,
        "//*[@id='audit-log']/li[contains(., 'flooding')]",
        "the mute in the filtered audit log",
    )
    .await;
    admin_page.close().await.ok();
}

/// Clicks a button of one room's row in the Rooms tab.
async fn room_action(c: &Client, room: &str, action: &str) {
    click(
        c,
        Locator::Css(&format!(
            "#admin-room-list li[data-conversation-id='{room}'] [data-action='{action}']"
        )),
        action,
    )
    .await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn room_moderation_from_the_panel_reaches_the_members_page_live() {
    let Some(driver) = chromedriver().await else {
        return;
    };
    let app = spawn_ready_app(Backend::Sqlite).await;
    let admin = app.login("admin").await;
    let ivy = app.user("ivy").await;
    let room = app.room(&admin, "Live Room", "public").await;
    app.join(&ivy, &room).await;
    app.send(&admin, &room, "first words").await;
    app.send(&ivy, &room, "rude words").await;
    let (admin_page, ivy_page) = two_pages(&app, &driver, "ivy").await;
    for page in [&admin_page, &ivy_page] {
        click(
            page,
            Locator::XPath("//button[contains(@class,'room-entry') and contains(., 'Live Room')]"),
            "Live Room",
        )
        .await;
    }

    // Ivy reports the admin's message; the Reports tab lists it and resolves it.
    message_menu(&ivy_page, "first words").await;
    click(
        &ivy_page,
        Locator::Css("[role=menuitem][data-action='report']"),
        "Report message…",
    )
    .await;
    fill_dialog(
        &ivy_page,
        "report-dialog",
        &[("textarea[name='reason']", "off topic")],
    )
    .await;
    wait_js(
        &ivy_page,
        "return document.querySelector('dialog.report-dialog') === null;",
        "report sent",
    )
    .await;
    open_tab(&admin_page, "reports").await;
    wait_xpath(
        &admin_page,
        "//*[@id='admin-report-list']/li[contains(., 'off topic') and contains(., 'first words')]",
        "the report in the queue",
    )
    .await;
    click(
        &admin_page,
        Locator::Css("#admin-report-list li [data-action='resolve']"),
        "Resolve…",
    )
    .await;
    fill_dialog(
        &admin_page,
        "resolve-report-dialog",
        &[("textarea[name='note']", "talked to them")],
    )
    .await;
    wait_js(
        &admin_page,
        "return document.querySelectorAll('#admin-report-list li.admin-report').length === 0;",
        "resolved",
    )
    .await;

    // The panel floats over the room; close it to reach the messages.
    click(&admin_page, Locator::Id("admin-close"), "close the panel").await;

    // The admin deletes ivy's message from its menu: ivy sees "message deleted" live.
    message_menu(&admin_page, "rude words").await;
    click(
        &admin_page,
        Locator::Css("[role=menuitem][data-action='delete-message']"),
        "Delete message",
    )
    .await;
    fill_dialog(
        &admin_page,
        "delete-message-dialog",
        &[("textarea[name='reason']", "rude")],
    )
    .await;
    wait_css(
        &ivy_page,
        "#room-log .message.deleted",
        "the deleted message on ivy's page",
    )
    .await;

    // Lock and read-only from the Rooms tab: ivy's header shows them, her compose box is off.
    open_tab(&admin_page, "rooms").await;
    room_action(&admin_page, &room, "lock").await;
    wait_css(&ivy_page, "#room-badges .tag-locked", "Locked badge").await;
    room_action(&admin_page, &room, "read-only").await;
    wait_css(&ivy_page, "#room-badges .tag-read-only", "Read-only badge").await;
    wait_css(&ivy_page, "#room-compose:disabled", "disabled compose box").await;
    wait_css(
        &ivy_page,
        "#room-compose-note:not([hidden])",
        "the explanation",
    )
    .await;
    room_action(&admin_page, &room, "writable").await;
    wait_css(
        &ivy_page,
        "#room-compose:not(:disabled)",
        "compose box back",
    )
    .await;

    // Clear history: ivy's log empties live.
    room_action(&admin_page, &room, "clear-history").await;
    fill_dialog(
        &admin_page,
        "clear-history-dialog",
        &[("textarea[name='reason']", "fresh start")],
    )
    .await;
    wait_js(
        &ivy_page,
        "return document.querySelectorAll('#room-log .message[data-seq]').length === 0;",
        "ivy's log cleared",
    )
    .await;

    // Delete the room (typing its name): it disappears from ivy's page.
    room_action(&admin_page, &room, "delete-room").await;
    fill_dialog(
        &admin_page,
        "delete-room-dialog",
        &[(".confirm-name", "Live Room")],
    )
    .await;
    wait_js(
        &ivy_page,
        &format!("return document.querySelector(\"button.room-entry[data-conversation-id='{room}']\") === null && document.getElementById('room-title').textContent !== 'Live Room';"),
        "the room gone from ivy's page",
    )
    .await;
    admin_page.close().await.ok();
    ivy_page.close().await.ok();
}
