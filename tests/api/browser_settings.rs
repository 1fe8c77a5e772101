//! Settings and notifications in the web client, in real headless Chromium: the settings modal
//! changes the theme, the text size and a toggle; they survive a reload and show in a second,
//! fresh browser session of the same account (and change there live); the notification
//! permission flow (Chromium started with notifications allowed, `window.Notification` wrapped
//! by a spy) shows a notification with the sender's name for a DM that is not on screen, and
//! none for one that is; the tab title counts unread messages. SQLite only, like the other
//! browser tests.

use std::time::Duration;

use fantoccini::{Client, ClientBuilder, Locator};
use serde_json::{Value, json};

use crate::{
    browser::{WAIT, chromedriver, click, find, log_in, wait_css, wait_online},
    helpers::{Backend, TestApp, TestUser, spawn_ready_app},
};

/// Headless Chromium with a fresh profile in which this site may show notifications (the
/// content setting a person grants in the permission prompt).
async fn browser_allowing_notifications(port: u16) -> Client {
    let profile = tempfile::tempdir().expect("profile").keep();
    let caps = json!({
        "goog:chromeOptions": {
            "binary": find("chromium").expect("chromium"),
            "args": ["--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking",
                     "--disable-dev-shm-usage", "--disable-component-update", "--no-first-run",
                     "--autoplay-policy=no-user-gesture-required",
                     format!("--user-data-dir={}", profile.display())],
            "prefs": {"profile.default_content_setting_values.notifications": 1}
        }
    });
    let caps = caps
        .as_object()
        .expect("object")
        .clone()
        .into_iter()
        .collect();
    let c = ClientBuilder::rustls()
        .expect("rustls")
        .capabilities(caps)
        .connect(&format!("http://127.0.0.1:{port}"))
        .await
        .expect("browser session");
    c.set_window_size(1400, 900).await.expect("window size");
    c
}

async fn js(c: &Client, script: &str) -> Value {
    c.execute(script, vec![]).await.expect("script runs")
}

/// Polls `script` (which returns a value) until `done` holds, at most [`WAIT`].
async fn wait_js(c: &Client, script: &str, what: &str, done: impl Fn(&Value) -> bool) -> Value {
    let deadline = tokio::time::Instant::now() + WAIT;
    loop {
        let value = js(c, script).await;
        if done(&value) {
            return value;
        }
        assert!(
            tokio::time::Instant::now() < deadline,
            "{what} within {WAIT:?}; last: {value}"
        );
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
}

/// Polls the server's copy of `user`'s settings until `done` holds.
async fn wait_saved(app: &TestApp, user: &TestUser, what: &str, done: impl Fn(&Value) -> bool) {
    let deadline = tokio::time::Instant::now() + WAIT;
    loop {
        let s = app.get_json("/api/v1/users/me/settings", &user.token).await;
        if done(&s) {
            return;
        }
        assert!(
            tokio::time::Instant::now() < deadline,
            "{what} saved within {WAIT:?}; last: {s}"
        );
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
}

/// `<html data-theme data-text-size>` and the body's background colour.
async fn look(c: &Client) -> (String, String, String) {
    let v = js(
        c,
        "const r = document.documentElement; return [r.dataset.theme ?? '', r.dataset.textSize ?? '', getComputedStyle(document.body).backgroundColor];",
    )
    .await;
    let s = |i: usize| v[i].as_str().unwrap_or_default().to_owned();
    (s(0), s(1), s(2))
}

async fn wait_look(c: &Client, theme: &str, size: &str, what: &str) {
    let script = "const r = document.documentElement; return (r.dataset.theme ?? '') + '/' + (r.dataset.textSize ?? '');";
    let want = format!("{theme}/{size}");
    wait_js(c, script, what, |v| v.as_str() == Some(want.as_str())).await;
}

async fn open_settings(c: &Client) {
    click(c, Locator::Id("settings-button"), "the ⚙ button").await;
    click(c, Locator::Id("open-settings"), "Settings…").await;
    wait_css(c, "#settings-dialog[open]", "the settings dialog").await;
}

const DARK_BG: &str = "rgb(23, 20, 31)";
const LIGHT_BG: &str = "rgb(236, 232, 244)";

/// Wraps `window.Notification` and `HTMLMediaElement.prototype.play` in spies that record
/// what the page shows and plays (`window.__notes`, `window.__sounds`).
const SPY: &str = r#"
window.__notes = [];
window.__sounds = [];
const Real = window.Notification;
class Spy extends Real {
  constructor(title, options) {
    super(title, options);
    window.__notes.push({ title, body: options?.body ?? '' });
  }
}
Object.defineProperty(Spy, 'permission', { get: () => Real.permission });
Spy.requestPermission = (...args) => Real.requestPermission(...args);
window.Notification = Spy;
const play = HTMLMediaElement.prototype.play;
HTMLMediaElement.prototype.play = function () {
  window.__sounds.push(this.currentSrc || this.src);
  return play.call(this).catch(() => {});
};
return Real.permission;
"#;

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn settings_follow_the_account_and_notifications_reach_a_background_conversation() {
    let Some(driver) = chromedriver().await else {
        return;
    };
    let app = spawn_ready_app(Backend::Sqlite).await;
    let alice = app.user("alice").await;
    let bob = app.user("bob").await;

    // The sound is embedded and small.
    let resp = app
        .http
        .get(app.url("/static/sounds/notify.wav"))
        .send()
        .await
        .expect("sound");
    assert_eq!(resp.status(), 200);
    let kind = resp
        .headers()
        .get("content-type")
        .and_then(|v| v.to_str().ok())
        .unwrap_or_default()
        .to_owned();
    assert!(kind.starts_with("audio/"), "content type {kind}");
    let bytes = resp.bytes().await.expect("bytes");
    assert!(
        bytes.starts_with(b"RIFF") && bytes.len() < 20_000,
        "{} bytes",
        bytes.len()
    );

    let page = browser_allowing_notifications(driver.port).await;
    log_in(&app, &page, "alice").await;
    wait_online(&page).await;
    let (theme, _, bg) = look(&page).await;
    assert_eq!(
        (theme.as_str(), bg.as_str()),
        ("system", LIGHT_BG),
        "headless Chromium is light"
    );

    // The modal: dark theme, large text, no sounds.
    open_settings(&page).await;
    click(&page, Locator::Id("settings-theme-dark"), "Dark").await;
    click(&page, Locator::Id("settings-text-size-large"), "Large").await;
    click(&page, Locator::Id("settings-sounds"), "Sounds off").await;
    wait_saved(&app, &alice, "dark, large, silent", |s| {
        s["theme"] == "dark" && s["text_size"] == "large" && s["sounds"] == false
    })
    .await;
    let (theme, size, bg) = look(&page).await;
    assert_eq!(
        (theme.as_str(), size.as_str(), bg.as_str()),
        ("dark", "large", DARK_BG)
    );
    let message_px = js(
        &page,
        "const m = document.createElement('div'); m.className = 'message'; document.body.append(m); const px = getComputedStyle(m).fontSize; m.remove(); return px;",
    )
    .await;
    assert_eq!(message_px, "18px", "large message text");
    // Esc closes the dialog.
    page.active_element()
        .await
        .expect("focus in the dialog")
        .send_keys("\u{E00C}")
        .await
        .expect("Escape");
    wait_js(
        &page,
        "return document.getElementById('settings-dialog').open;",
        "the dialog closed by Escape",
        |v| v == &json!(false),
    )
    .await;

    // A reload keeps them.
    page.refresh().await.expect("reload");
    wait_online(&page).await;
    wait_look(&page, "dark", "large", "dark and large after the reload").await;
    open_settings(&page).await;
    let checked = js(
        &page,
        "return [document.getElementById('settings-theme-dark').checked, document.getElementById('settings-sounds').checked];",
    )
    .await;
    assert_eq!(checked, json!([true, false]));

    // A second, fresh browser session of the same account (another device) has them too, and
    // follows a change made in the first one live.
    let other = browser_allowing_notifications(driver.port).await;
    log_in(&app, &other, "alice").await;
    wait_online(&other).await;
    wait_look(&other, "dark", "large", "the second session's look").await;
    assert_eq!(look(&other).await.2, DARK_BG);
    click(&page, Locator::Id("settings-theme-light"), "Light").await;
    wait_look(
        &other,
        "light",
        "large",
        "light, live in the second session",
    )
    .await;
    assert_eq!(look(&other).await.2, LIGHT_BG);
    other.close().await.ok();

    // Notifications: the permission is granted (the profile allows it); turning popups on in
    // the modal, and sounds back on.
    let permission = js(&page, SPY).await;
    assert_eq!(permission, "granted");
    click(
        &page,
        Locator::Id("settings-popup-notifications"),
        "Popup notifications",
    )
    .await;
    click(&page, Locator::Id("settings-sounds"), "Sounds on").await;
    wait_saved(&app, &alice, "popups and sounds on", |s| {
        s["popup_notifications"] == true && s["sounds"] == true
    })
    .await;
    wait_css(
        &page,
        "#settings-notify-permission[data-permission='granted']",
        "the permission state",
    )
    .await;
    click(&page, Locator::Id("settings-close"), "Close").await;

    // bob writes to alice: a new DM, not on screen → a notification titled "bob" and a sound.
    let dm = app
        .post_auth("/api/v1/dms", &bob.token, &json!({"username": "alice"}))
        .await;
    assert!(dm.status().is_success(), "open DM: {}", dm.status());
    let dm: Value = dm.json().await.expect("json");
    let dm_id = dm["id"].as_str().expect("dm id").to_owned();
    app.send(&bob, &dm_id, "ping from **bob**").await;
    let notes = wait_js(
        &page,
        "return window.__notes;",
        "a notification for bob's DM",
        |v| v.as_array().is_some_and(|a| !a.is_empty()),
    )
    .await;
    assert_eq!(notes, json!([{"title": "bob", "body": "ping from bob"}]));
    let sounds = js(&page, "return window.__sounds;").await;
    assert!(
        sounds.as_array().is_some_and(|a| a.len() == 1
            && a[0]
                .as_str()
                .is_some_and(|s| s.ends_with("/static/sounds/notify.wav"))),
        "{sounds}"
    );

    // The DM window opened by itself and is on screen: the next message there is shown and
    // read, without a notification (its appearance in the window is the marker).
    let window = format!(".dm-window[data-conversation-id='{dm_id}']");
    wait_css(&page, &window, "bob's DM window").await;
    app.send(&bob, &dm_id, "second one").await;
    crate::browser::wait_xpath(
        &page,
        &format!(
            "//*[contains(@class,'dm-window') and @data-conversation-id='{dm_id}']//*[contains(@class,'message-body') and contains(., 'second one')]"
        ),
        "the second DM in the window",
    )
    .await;
    assert_eq!(js(&page, "return window.__notes.length;").await, json!(1));

    // This device: saving DM history locally stores what the page holds, the export has it,
    // clearing empties it. Downloads are caught (no file is written): the anchor's click and
    // the Blob handed to it are recorded.
    js(
        &page,
        r#"window.__downloads = [];
        const createUrl = URL.createObjectURL;
        URL.createObjectURL = (blob) => { const url = createUrl(blob); blob.text().then((text) => window.__downloads.push({ url, text })); return url; };
        HTMLAnchorElement.prototype.click = function () { window.__downloads.push({ name: this.download, href: this.href }); };
        window.confirm = () => true;
        return true;"#,
    )
    .await;
    open_settings(&page).await;
    click(
        &page,
        Locator::Id("settings-local-history"),
        "Save DMs in this browser",
    )
    .await;
    click(&page, Locator::Id("settings-close"), "Close").await;
    open_settings(&page).await;
    wait_js(
        &page,
        "return document.getElementById('settings-history-count').textContent;",
        "two messages saved",
        |v| v.as_str() == Some("2 messages saved on this device."),
    )
    .await;
    click(
        &page,
        Locator::Id("settings-download-json"),
        "Download (JSON)",
    )
    .await;
    click(
        &page,
        Locator::Id("settings-download-text"),
        "Download (text)",
    )
    .await;
    let downloads = wait_js(
        &page,
        "return window.__downloads;",
        "two files built",
        |v| v.as_array().is_some_and(|a| a.len() == 4),
    )
    .await;
    let downloads = downloads.as_array().expect("list");
    let names: Vec<&str> = downloads
        .iter()
        .filter_map(|d| d["name"].as_str())
        .collect();
    assert!(
        names.len() == 2 && names[0].ends_with(".json") && names[1].ends_with(".txt"),
        "{names:?}"
    );
    let texts: Vec<&str> = downloads
        .iter()
        .filter_map(|d| d["text"].as_str())
        .collect();
    let json_doc: Value = serde_json::from_str(texts[0]).expect("the JSON export parses");
    let bodies: Vec<&str> = json_doc["conversations"][0]["messages"]
        .as_array()
        .expect("messages")
        .iter()
        .filter_map(|m| m["body"].as_str())
        .collect();
    assert_eq!(bodies, ["ping from **bob**", "second one"]);
    assert_eq!(json_doc["conversations"][0]["peer"], "bob");
    assert!(
        texts[1].starts_with("== Direct messages with bob ==")
            && texts[1].contains("bob: ping from **bob**")
            && texts[1].contains("bob: second one"),
        "{}",
        texts[1]
    );
    click(
        &page,
        Locator::Id("settings-clear-history"),
        "Clear local history",
    )
    .await;
    wait_js(
        &page,
        "return document.getElementById('settings-history-count').textContent;",
        "nothing saved after clearing",
        |v| v.as_str() == Some("0 messages saved on this device."),
    )
    .await;
    click(&page, Locator::Id("settings-close"), "Close").await;

    // The tab title counts unread messages: bob posts in a room alice joined but is not
    // looking at.
    let side = app.room(&bob, "side-room", "public").await;
    app.join(&alice, &side).await;
    wait_css(
        &page,
        &format!("button.room-entry[data-conversation-id='{side}']"),
        "the joined room in alice's list",
    )
    .await;
    // Per conversation: "Notify only for mentions" from the room header's 🔔 (PUT
    // /conversations/{id}/notifications), then back to the Lobby.
    click(
        &page,
        Locator::Css(&format!("button.room-entry[data-conversation-id='{side}']")),
        "the side room",
    )
    .await;
    click(&page, Locator::Id("room-notify"), "the room's 🔔").await;
    click(
        &page,
        Locator::Css(".popup-menu button[data-action='notify-mentions']"),
        "Notify only for mentions",
    )
    .await;
    wait_css(
        &page,
        "#room-notify[data-level='mentions']",
        "the level shown",
    )
    .await;
    let conv = app
        .get_json(&format!("/api/v1/conversations/{side}"), &alice.token)
        .await;
    assert_eq!(conv["notify"], "mentions");
    let lobby = app.lobby(&alice).await;
    click(
        &page,
        Locator::Css(&format!(
            "button.room-entry[data-conversation-id='{lobby}']"
        )),
        "the Lobby",
    )
    .await;
    let base = wait_js(&page, "return document.title;", "nothing unread yet", |v| {
        v.as_str().is_some_and(|t| !t.starts_with('('))
    })
    .await;
    app.send(&bob, &side, "room news").await;
    app.send(&bob, &side, "more room news").await;
    let title = wait_js(
        &page,
        "return document.title;",
        "the unread count in the title",
        |v| v.as_str().is_some_and(|t| t.starts_with("(2) ")),
    )
    .await;
    assert_eq!(
        title.as_str().map(|t| t.trim_start_matches("(2) ")),
        base.as_str()
    );
    // A mention of me notifies; the two before it did not (mentions only).
    app.send(&bob, &side, "@alice look at this").await;
    let notes = wait_js(
        &page,
        "return window.__notes;",
        "a notification for the mention",
        |v| v.as_array().is_some_and(|a| a.len() >= 2),
    )
    .await;
    assert_eq!(
        notes[1],
        json!({"title": "bob in #side-room", "body": "@alice look at this"}),
        "{notes}"
    );
    assert_eq!(notes.as_array().map(Vec::len), Some(2), "{notes}");

    // Muted: left out of the title's count.
    click(
        &page,
        Locator::Css(&format!("button.room-entry[data-conversation-id='{side}']")),
        "the side room",
    )
    .await;
    click(&page, Locator::Id("room-notify"), "the room's 🔔").await;
    click(
        &page,
        Locator::Css(".popup-menu button[data-action='notify-none']"),
        "Mute notifications",
    )
    .await;
    wait_css(&page, "#room-notify[data-level='none']", "muted").await;
    click(
        &page,
        Locator::Css(&format!(
            "button.room-entry[data-conversation-id='{lobby}']"
        )),
        "the Lobby",
    )
    .await;
    app.send(&bob, &side, "muted news").await;
    // The marker: bob's DM arrives (a notification) after the muted room's message.
    app.send(&bob, &dm_id, "after the muted one").await;
    crate::browser::wait_xpath(
        &page,
        &format!(
            "//*[contains(@class,'dm-window') and @data-conversation-id='{dm_id}']//*[contains(@class,'message-body') and contains(., 'after the muted one')]"
        ),
        "the marker DM",
    )
    .await;
    assert_eq!(js(&page, "return document.title;").await, base);
    assert_eq!(js(&page, "return window.__notes.length;").await, json!(2));
    page.close().await.ok();
}
