//! The mobile layout and the new-user papercuts in real headless Chromium.
//!
//! 1. At 390×844 (Chrome's mobile emulation): the chat screen is one pane with a bottom bar
//!    (Rooms / Chat / Dock, aria-current, keyboard); with a joined room open, with the dock, with
//!    a DM window (a full-screen sheet), after a reload (the DM window comes back), and with the
//!    leave confirmation open, every displayed button, input, select, textarea and link lies
//!    inside the viewport and the page is not wider than 390 px. Leaving asks "Leave #name?"
//!    and then says "You left #name."; a DM arriving live waits minimized instead of covering
//!    the screen.
//! 2. On a desktop window: a room created (with topic and category) in one browser appears in
//!    another browser's directory without a refresh, with its category in the filter; its
//!    member count follows a join live; DM windows (open and minimized) and a group window come
//!    back after a reload. SQLite only, like the other browser tests.

use std::time::Duration;

use fantoccini::{Client, ClientBuilder, Locator, key::Key};
use serde_json::{Value, json};

use crate::{
    browser::{Driver, WAIT, chromedriver, click, find, log_in, wait_css, wait_online, wait_xpath},
    helpers::{Backend, TestApp, spawn_ready_app},
};

/// A Chromium session emulating a 390×844 phone (pixel ratio 3).
async fn phone(driver: &Driver) -> Client {
    let profile = tempfile::tempdir().expect("profile").keep();
    let caps = json!({
        "goog:chromeOptions": {
            "binary": find("chromium").expect("chromium"),
            "args": ["--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking",
                     "--disable-dev-shm-usage", "--disable-component-update", "--no-first-run",
                     format!("--user-data-dir={}", profile.display())],
            "mobileEmulation": {"deviceMetrics": {"width": 390, "height": 844, "pixelRatio": 3}}
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

/// The displayed controls that do not fit the viewport, and the page's scroll width. A control
/// inside a scrolling list counts with the part of it that list shows (the rest is scrolled
/// away, not clipped); one scrolled out of sight entirely is not checked.
const FIT_CHECK: &str = r#"
const vw = document.documentElement.clientWidth, vh = window.innerHeight;
const bad = [];
for (const el of document.querySelectorAll('button, input, select, textarea, a[href]')) {
  if (!el.getClientRects().length) continue;
  const style = getComputedStyle(el);
  if (style.visibility === 'hidden' || el.closest('.sr-only') || el.classList.contains('sr-only') || el.classList.contains('skip-link')) continue;
  if (el.type === 'hidden') continue;
  let r = el.getBoundingClientRect();
  if (r.width === 0 && r.height === 0) continue;
  let top = r.top, bottom = r.bottom, visible = true;
  for (let p = el.parentElement; p; p = p.parentElement) {
    const s = getComputedStyle(p);
    if (/(auto|scroll|hidden)/.test(s.overflowY) && p.scrollHeight > p.clientHeight) {
      const pr = p.getBoundingClientRect();
      top = Math.max(top, pr.top); bottom = Math.min(bottom, pr.bottom);
      if (bottom <= top) { visible = false; break; }
    }
  }
  if (!visible) continue;
  const ok = r.left >= -0.5 && r.right <= vw + 0.5 && top >= -0.5 && bottom <= vh + 0.5;
  if (!ok) bad.push(`${el.tagName.toLowerCase()}#${el.id}.${el.className} "${(el.textContent || el.value || el.getAttribute('aria-label') || '').trim().slice(0, 30)}" [${Math.round(r.left)},${Math.round(top)} – ${Math.round(r.right)},${Math.round(bottom)}]`);
}
return { bad, scrollWidth: document.documentElement.scrollWidth, width: vw, height: vh };
"#;

/// Asserts that everything on screen fits 390 px (see [`FIT_CHECK`]).
async fn assert_fits(c: &Client, what: &str) {
    let result = c.execute(FIT_CHECK, vec![]).await.expect("fit check runs");
    assert_eq!(result["width"], 390, "{what}: emulated width: {result}");
    assert!(
        result["bad"].as_array().is_some_and(Vec::is_empty),
        "{what}: controls outside the 390×844 viewport: {:#}",
        result["bad"]
    );
    assert!(
        result["scrollWidth"].as_i64().unwrap_or(9999) <= 390,
        "{what}: the page scrolls sideways: {result}"
    );
}

/// Waits until `script` (a function body returning a boolean) is true.
async fn wait_true(c: &Client, script: &str, what: &str) {
    let deadline = tokio::time::Instant::now() + WAIT;
    loop {
        if c.execute(script, vec![]).await.ok() == Some(Value::Bool(true)) {
            return;
        }
        assert!(
            tokio::time::Instant::now() < deadline,
            "{what} within {WAIT:?}"
        );
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
}

async fn pane_is(c: &Client, pane: &str) {
    wait_css(
        c,
        &format!("body[data-pane='{pane}'] #pane-{pane}[aria-current='page']"),
        &format!("the {pane} pane"),
    )
    .await;
}

async fn api_post(app: &TestApp, token: &str, path: &str, body: Value) -> Value {
    let resp = app.post_auth(path, token, &body).await;
    assert!(resp.status().is_success(), "POST {path}: {}", resp.status());
    resp.json().await.unwrap_or(Value::Null)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_mobile_layout_fits_390_by_844_and_leaving_asks_first() {
    let Some(driver) = chromedriver().await else {
        return;
    };
    let app = spawn_ready_app(Backend::Sqlite).await;
    let alice = app.user("mobi").await;
    let bob = app.user("bobile").await;
    let room = app
        .room(&bob, "Phone Room With A Rather Long Name", "public")
        .await;
    app.join(&alice, &room).await;
    let dm = api_post(&app, &bob.token, "/api/v1/dms", json!({"username": "mobi"})).await;
    let dm_id = dm["id"].as_str().expect("dm id").to_owned();
    app.send(&bob, &dm_id, "hello from a phone").await;

    let page = phone(&driver).await;
    log_in(&app, &page, "mobi").await;
    wait_online(&page).await;
    pane_is(&page, "chat").await;

    // Rooms → pick the room → the chat pane shows it.
    click(&page, Locator::Id("pane-rooms"), "Rooms in the bottom bar").await;
    pane_is(&page, "rooms").await;
    assert_fits(&page, "the room browser").await;
    click(
        &page,
        Locator::XPath("//*[@id='room-browser']//button[contains(@class,'room-entry') and contains(., 'Phone Room')]"),
        "the room in the browser",
    )
    .await;
    pane_is(&page, "chat").await;
    wait_xpath(
        &page,
        "//h2[@id='room-title' and contains(., 'Phone Room')]",
        "the room open",
    )
    .await;
    wait_css(&page, "#leave-room:not([disabled])", "Leave enabled").await;
    assert_fits(&page, "the room view").await;

    // The bar by keyboard: → moves focus, Enter shows the pane.
    page.execute("document.getElementById('pane-chat').focus()", vec![])
        .await
        .expect("focus");
    page.active_element()
        .await
        .expect("focused")
        .send_keys(&Key::Right.to_string())
        .await
        .expect("→");
    wait_true(
        &page,
        "return document.activeElement.id === 'pane-dock'",
        "focus on Dock",
    )
    .await;
    page.active_element()
        .await
        .expect("focused")
        .send_keys(&Key::Enter.to_string())
        .await
        .expect("Enter");
    pane_is(&page, "dock").await;
    assert!(
        !page
            .find(Locator::Id("room-view"))
            .await
            .expect("room view")
            .is_displayed()
            .await
            .expect("displayed")
    );
    assert_fits(&page, "the dock").await;

    // A DM window is a full-screen sheet.
    click(
        &page,
        Locator::Css(&format!(
            "#dock-dms .dm-entry[data-conversation-id='{dm_id}']"
        )),
        "the DM in the dock",
    )
    .await;
    let sheet = format!(".window.dm-window[data-conversation-id='{dm_id}']");
    wait_css(&page, &sheet, "the DM window").await;
    wait_xpath(&page, "//*[contains(@class,'dm-window')]//*[contains(@class,'message-body') and contains(., 'hello from a phone')]", "the DM's message").await;
    let rect = page
        .execute(&format!("const r = document.querySelector(\"{sheet}\").getBoundingClientRect(); return [r.left, r.top, r.width, r.height];"), vec![])
        .await
        .expect("rect");
    assert_eq!(
        rect,
        json!([0, 0, 390, 844]),
        "the DM window fills the screen"
    );
    assert_fits(&page, "the DM window").await;

    // After a reload the DM window is back (restored per account).
    page.refresh().await.expect("reload");
    wait_online(&page).await;
    wait_css(&page, &sheet, "the DM window after a reload").await;
    assert_fits(&page, "the DM window after a reload").await;
    click(
        &page,
        Locator::Css(&format!("{sheet} button[aria-label='Close']")),
        "Close on the sheet",
    )
    .await;
    wait_true(
        &page,
        &format!("return !document.querySelector(\"{sheet}\")"),
        "the sheet closed",
    )
    .await;

    // Leaving asks first, with the room's name, and then says it with the right name.
    click(&page, Locator::Id("pane-chat"), "Chat in the bottom bar").await;
    pane_is(&page, "chat").await;
    wait_xpath(
        &page,
        "//h2[@id='room-title' and contains(., 'Phone Room')]",
        "the room still open",
    )
    .await;
    click(&page, Locator::Id("leave-room"), "Leave").await;
    wait_xpath(&page, "//dialog[contains(@class,'leave-room-dialog')]//h2[.='Leave #Phone Room With A Rather Long Name?']", "the confirmation").await;
    assert_fits(&page, "the leave confirmation").await;
    click(
        &page,
        Locator::Css(".leave-room-dialog .form-dialog-cancel"),
        "Cancel",
    )
    .await;
    wait_true(
        &page,
        "return !document.querySelector('.leave-room-dialog')",
        "the dialog closed",
    )
    .await;
    let still = app
        .get_json(&format!("/api/v1/conversations/{room}"), &alice.token)
        .await;
    assert_eq!(still["membership"], "joined", "Cancel keeps the membership");
    click(&page, Locator::Id("leave-room"), "Leave again").await;
    click(
        &page,
        Locator::Css(".leave-room-dialog .form-dialog-submit"),
        "Leave in the dialog",
    )
    .await;
    wait_xpath(
        &page,
        "//*[@id='toasts']//*[.='You left #Phone Room With A Rather Long Name.']",
        "the toast with the room's name",
    )
    .await;
    let toasts = page
        .find(Locator::Id("toasts"))
        .await
        .expect("toasts")
        .text()
        .await
        .expect("text");
    assert!(!toasts.contains("No room selected"), "{toasts}");

    // A DM that arrives live does not throw a sheet over the screen: it waits minimized in the
    // dock's taskbar.
    let carol = app.user("carobile").await;
    let dm2 = api_post(
        &app,
        &carol.token,
        "/api/v1/dms",
        json!({"username": "mobi"}),
    )
    .await["id"]
        .as_str()
        .expect("id")
        .to_owned();
    app.send(&carol, &dm2, "are you there?").await;
    wait_css(
        &page,
        &format!("#taskbar .taskbar-item[data-conversation-id='{dm2}']"),
        "the new DM minimized in the taskbar",
    )
    .await;
    let hidden = page
        .execute(
            &format!("return document.querySelector(\".window.dm-window[data-conversation-id='{dm2}']\").hidden"),
            vec![],
        )
        .await
        .expect("hidden");
    assert_eq!(hidden, json!(true), "no sheet pops up on mobile");
    assert_fits(&page, "the chat pane with a DM waiting").await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_directory_is_live_and_dm_windows_come_back_after_a_reload() {
    let Some(driver) = chromedriver().await else {
        return;
    };
    let app = spawn_ready_app(Backend::Sqlite).await;
    let alice = app.user("dalice").await;
    let bob = app.user("dbob").await;
    let carol = app.user("dcarol").await;
    let alice_page = crate::browser::browser(&driver).await;
    let bob_page = crate::browser::browser(&driver).await;
    for page in [&alice_page, &bob_page] {
        page.set_window_size(1400, 900).await.expect("window size");
    }
    log_in(&app, &alice_page, "dalice").await;
    log_in(&app, &bob_page, "dbob").await;
    wait_online(&alice_page).await;
    wait_online(&bob_page).await;

    // bob creates a room with topic and category in the form; alice sees it without a refresh.
    let form = |id: &str| format!("#create-room-form #{id}");
    for (id, text) in [
        ("new-room-name", "Fresh Room"),
        ("new-room-topic", "brand new things"),
        ("new-room-category", "Newsy"),
    ] {
        wait_css(&bob_page, &form(id), id)
            .await
            .send_keys(text)
            .await
            .expect("type");
    }
    click(
        &bob_page,
        Locator::Css("#create-room-form button[type='submit']"),
        "Create room",
    )
    .await;
    wait_xpath(
        &bob_page,
        "//h2[@id='room-title' and .='Fresh Room']",
        "bob in his new room",
    )
    .await;
    let entry = "//*[@id='directory-rooms']//button[contains(@class,'room-entry') and contains(., 'Fresh Room')]";
    wait_xpath(
        &alice_page,
        entry,
        "the new room in alice's directory, live",
    )
    .await;
    wait_xpath(
        &alice_page,
        "//select[@id='room-category']/option[.='Newsy']",
        "its category in the filter",
    )
    .await;
    let room = app.get_json("/api/v1/rooms?q=fresh", &alice.token).await["rooms"][0].clone();
    assert_eq!(room["topic"], "brand new things");
    assert_eq!(room["category"], "Newsy");

    // The member count follows a join (room_stats, within about a second).
    app.join(&carol, room["id"].as_str().expect("id")).await;
    wait_xpath(
        &alice_page,
        &format!("{entry}/span[contains(@class,'room-meta') and .='2']"),
        "the member count, live",
    )
    .await;

    // Search by topic and by category.
    let search = wait_css(&alice_page, "#room-search", "search").await;
    search.send_keys("brand new").await.expect("type");
    wait_xpath(&alice_page, entry, "found by topic").await;
    wait_true(&alice_page, "return !document.evaluate(\"//*[@id='official-rooms']//button[contains(@class,'room-entry')]\", document, null, 9, null).singleNodeValue", "official rooms filtered out").await;
    search.clear().await.expect("clear");
    // (clearing fires no input event: type and delete a character so the search runs again)
    search.send_keys("x").await.expect("type");
    search
        .send_keys(&Key::Backspace.to_string())
        .await
        .expect("backspace");
    wait_css(&alice_page, "#room-category", "category filter")
        .await
        .select_by_value("Newsy")
        .await
        .expect("pick Newsy");
    wait_xpath(&alice_page, entry, "found by category").await;

    // DM windows come back after a reload: one open, one minimized.
    let dm_bob = api_post(
        &app,
        &bob.token,
        "/api/v1/dms",
        json!({"username": "dalice"}),
    )
    .await["id"]
        .as_str()
        .expect("id")
        .to_owned();
    let dm_carol = api_post(
        &app,
        &carol.token,
        "/api/v1/dms",
        json!({"username": "dalice"}),
    )
    .await["id"]
        .as_str()
        .expect("id")
        .to_owned();
    app.send(&bob, &dm_bob, "open me").await;
    app.send(&carol, &dm_carol, "minimize me").await;
    let win = |id: &str| format!(".window.dm-window[data-conversation-id='{id}']");
    wait_css(&alice_page, &win(&dm_bob), "bob's DM window").await;
    wait_css(&alice_page, &win(&dm_carol), "carol's DM window").await;
    click(
        &alice_page,
        Locator::Css(&format!("{} button[aria-label='Minimize']", win(&dm_carol))),
        "Minimize",
    )
    .await;
    wait_css(
        &alice_page,
        &format!("#taskbar .taskbar-item[data-conversation-id='{dm_carol}']"),
        "carol's DM in the taskbar",
    )
    .await;

    // A group window too (opened from the Groups tab).
    let group = api_post(
        &app,
        &alice.token,
        "/api/v1/groups",
        json!({"name": "Restorers"}),
    )
    .await["id"]
        .as_str()
        .expect("id")
        .to_owned();
    click(&alice_page, Locator::Id("tab-groups"), "the Groups tab").await;
    click(
        &alice_page,
        Locator::Css(&format!(
            "#group-list li[data-conversation-id='{group}'] button.group-entry"
        )),
        "the group",
    )
    .await;
    let group_win = format!(".window.group-window[data-conversation-id='{group}']");
    wait_css(&alice_page, &group_win, "the group window").await;

    alice_page.refresh().await.expect("reload");
    wait_online(&alice_page).await;
    wait_css(&alice_page, &group_win, "the group window after the reload").await;
    wait_css(
        &alice_page,
        &win(&dm_bob),
        "bob's DM window after the reload",
    )
    .await;
    wait_css(
        &alice_page,
        &format!("#taskbar .taskbar-item[data-conversation-id='{dm_carol}']"),
        "carol's DM minimized after the reload",
    )
    .await;
    let hidden = alice_page
        .execute(
            &format!(
                "return document.querySelector(\"{}\").hidden",
                win(&dm_carol)
            ),
            vec![],
        )
        .await
        .expect("hidden");
    assert_eq!(hidden, json!(true), "carol's window stays minimized");
}
