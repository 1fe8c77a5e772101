//! Conversations in depth in the web client, in real headless Chromium with two users in a room:
//! a reply's quote jumps to an original older than the loaded history (a page around it is
//! loaded), markdown renders bold and links with rel and title, a mention of bob is highlighted
//! for him, alice edits her message inline and bob sees "(edited)", bob reacts from the emoji
//! picker and alice sees the count, alice deletes a message and bob sees the placeholder. In a
//! DM: the "New messages" divider, "Seen", pinning from the menu and jumping from the pins
//! panel. And the emoji picker by keyboard in a compose box.
//! SQLite only, like the other browser tests.

use std::time::Duration;

use fantoccini::{Client, Locator};
use reqwest::Method;
use serde_json::{Value, json};

use crate::{
    browser::{WAIT, browser, chromedriver, click, log_in, wait_css, wait_online, wait_xpath},
    helpers::{Backend, spawn_ready_app},
};

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

/// CSS of the room-log message with this seq.
fn msg(seq: i64) -> String {
    format!("#room-log .message[data-seq='{seq}']")
}

/// Clicks a (hover-only) control of a message through the DOM, as a keyboard user would reach it.
async fn press(c: &Client, css: &str, what: &str) {
    wait_css(c, css, what).await;
    js(
        c,
        &format!("document.querySelector(\"{css}\").click(); return true;"),
    )
    .await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn edit_reply_react_markdown_mentions_and_delete_in_the_web_client() {
    let Some(driver) = chromedriver().await else {
        return;
    };
    let app = spawn_ready_app(Backend::Sqlite).await;
    let alice = app.user("alice").await;
    let bob = app.user("bob").await;
    let room = app.room(&alice, "Depth Room", "public").await;
    app.join(&bob, &room).await;

    // An original, then more than one page of other messages, then bob's reply to the original.
    let original = app.send(&alice, &room, "the original question").await;
    let original_seq = original["seq"].as_i64().expect("seq");
    for i in 0..60 {
        app.send(&alice, &room, &format!("filler {i}")).await;
    }
    let resp = app
        .send_auth(
            Method::POST,
            &format!("/api/v1/conversations/{room}/messages"),
            &bob.token,
            &json!({"body": "my answer", "reply_to_seq": original_seq}),
        )
        .await;
    assert_eq!(resp.status(), 201, "reply");
    let reply: Value = resp.json().await.expect("json");
    let reply_seq = reply["seq"].as_i64().expect("seq");

    let alice_page = browser(&driver).await;
    let bob_page = browser(&driver).await;
    for page in [&alice_page, &bob_page] {
        page.set_window_size(1400, 900).await.expect("window size");
    }
    log_in(&app, &alice_page, "alice").await;
    log_in(&app, &bob_page, "bob").await;
    for page in [&alice_page, &bob_page] {
        wait_online(page).await;
        click(
            page,
            Locator::XPath("//button[contains(@class,'room-entry') and contains(., 'Depth Room')]"),
            "Depth Room",
        )
        .await;
        wait_css(page, &msg(reply_seq), "the reply").await;
    }

    // The reply quotes the original, which is older than the loaded page: a click loads the page
    // around it, scrolls there and flashes it.
    assert_eq!(
        js(
            &alice_page,
            &format!(
                "return document.querySelector(\"{}\") === null;",
                msg(original_seq)
            )
        )
        .await,
        json!(true),
        "the original is not loaded yet"
    );
    press(
        &alice_page,
        &format!(
            "{} .reply-quote[data-reply-seq='{original_seq}']",
            msg(reply_seq)
        ),
        "the quote",
    )
    .await;
    wait_css(
        &alice_page,
        &format!("{}.flash", msg(original_seq)),
        "the original, flashed",
    )
    .await;
    // The window no longer reaches the newest message: scrolling to the bottom pages forward
    // ("Load newer messages") until it does.
    wait_css(&alice_page, "#room-log .load-newer", "Load newer messages").await;
    wait_js(
        &alice_page,
        &format!(
            "const log = document.getElementById('room-log'); log.scrollTop = log.scrollHeight; \
             return document.querySelector(\"{}\") !== null && !document.querySelector('#room-log .load-newer');",
            msg(reply_seq)
        ),
        "back at the newest message",
    )
    .await;

    // Markdown: bold and a link with rel, target and its real target as title.
    let md = app
        .send(
            &alice,
            &room,
            "**loud** see [the docs](https://example.com/docs) now",
        )
        .await;
    let md_seq = md["seq"].as_i64().expect("seq");
    for page in [&alice_page, &bob_page] {
        wait_css(
            page,
            &format!("{} .message-body.rich strong", msg(md_seq)),
            "bold",
        )
        .await;
        let link = wait_css(
            page,
            &format!("{} .message-body a[rel='noopener noreferrer'][target='_blank'][title='https://example.com/docs']", msg(md_seq)),
            "the link",
        )
        .await;
        assert!(
            link.text().await.expect("text").contains("example.com"),
            "the link shows its host"
        );
    }

    // A mention of bob is highlighted for him (not for alice).
    let mention = app.send(&alice, &room, "ping @bob please").await;
    let mention_seq = mention["seq"].as_i64().expect("seq");
    wait_css(
        &bob_page,
        &format!(
            "{}.mentions-me .mention.me[data-user-id='{}']",
            msg(mention_seq),
            bob.id
        ),
        "bob's mention, highlighted for bob",
    )
    .await;
    wait_css(
        &alice_page,
        &format!("{} .mention", msg(mention_seq)),
        "the mention for alice",
    )
    .await;
    assert_eq!(
        js(
            &alice_page,
            &format!(
                "return document.querySelector(\"{}.mentions-me\") === null;",
                msg(mention_seq)
            )
        )
        .await,
        json!(true),
        "not highlighted for alice"
    );

    // Alice edits her message inline (Enter saves); bob sees the new text and "(edited)".
    press(
        &alice_page,
        &format!("{} .tool-edit", msg(mention_seq)),
        "Edit",
    )
    .await;
    let editor = wait_css(
        &alice_page,
        &format!("{} textarea.edit-input", msg(mention_seq)),
        "the editor",
    )
    .await;
    editor.clear().await.expect("clear");
    editor.send_keys("ping @bob, edited").await.expect("type");
    editor.send_keys("\u{E007}").await.expect("Enter");
    for page in [&alice_page, &bob_page] {
        wait_xpath(
            page,
            &format!("//*[@id='room-log']//*[@data-seq='{mention_seq}' and .//*[contains(@class,'message-edited')] and .//*[contains(@class,'message-body') and contains(., 'edited')]]"),
            "the edited message",
        )
        .await;
    }

    // Bob reacts from the emoji picker (search, Enter picks the first hit); alice sees the count.
    press(&bob_page, &format!("{} .tool-react", msg(md_seq)), "React").await;
    let search = wait_css(
        &bob_page,
        ".emoji-picker .emoji-search",
        "the picker's search",
    )
    .await;
    search.send_keys("thumbs up").await.expect("type");
    wait_css(
        &bob_page,
        ".emoji-picker .emoji-option[data-emoji='👍']",
        "👍 in the results",
    )
    .await;
    search.send_keys("\u{E007}").await.expect("Enter");
    wait_xpath(
        &alice_page,
        &format!("//*[@data-seq='{md_seq}']//button[contains(@class,'reaction') and @data-emoji='👍' and .//*[contains(@class,'reaction-count') and .='1']]"),
        "bob's 👍 for alice",
    )
    .await;
    wait_css(
        &bob_page,
        &format!(
            "{} button.reaction.mine[aria-pressed='true'][data-emoji='👍']",
            msg(md_seq)
        ),
        "bob's own chip pressed",
    )
    .await;

    // Alice deletes her message from the menu (confirmed); bob sees the placeholder.
    press(
        &alice_page,
        &format!("{} .message-menu-button", msg(md_seq)),
        "⋯",
    )
    .await;
    click(
        &alice_page,
        Locator::Css("[role=menuitem][data-action='delete-message']"),
        "Delete message",
    )
    .await;
    click(
        &alice_page,
        Locator::Css("dialog.delete-message-dialog .form-dialog-submit"),
        "Delete",
    )
    .await;
    wait_xpath(
        &bob_page,
        &format!("//*[@id='room-log']//*[@data-seq='{md_seq}' and contains(@class,'deleted') and contains(., 'message deleted')]"),
        "the placeholder for bob",
    )
    .await;

    alice_page.close().await.ok();
    bob_page.close().await.ok();
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_emoji_picker_inserts_into_the_compose_box_by_keyboard() {
    let Some(driver) = chromedriver().await else {
        return;
    };
    let app = spawn_ready_app(Backend::Sqlite).await;
    let carl = app.user("carl").await;
    app.room(&carl, "Emoji Room", "public").await;
    let page = browser(&driver).await;
    page.set_window_size(1400, 900).await.expect("window size");
    log_in(&app, &page, "carl").await;
    wait_online(&page).await;
    click(
        &page,
        Locator::XPath("//button[contains(@class,'room-entry') and contains(., 'Emoji Room')]"),
        "Emoji Room",
    )
    .await;
    let textarea = wait_css(&page, "#room-compose:not([disabled])", "the compose box").await;
    textarea.send_keys("hi ").await.expect("type");

    // 🙂 opens the picker with the search focused; ↓ enters the grid, → moves, Enter picks.
    click(
        &page,
        Locator::Css("#room-compose-form .emoji-button"),
        "the emoji button",
    )
    .await;
    wait_css(
        &page,
        ".emoji-picker .emoji-section[data-group='0']",
        "the picker",
    )
    .await;
    wait_js(
        &page,
        "return document.activeElement?.classList.contains('emoji-search') === true;",
        "the search box focused",
    )
    .await;
    let search = wait_css(&page, ".emoji-picker .emoji-search", "search").await;
    search.send_keys("\u{E015}").await.expect("ArrowDown");
    wait_js(
        &page,
        "return document.activeElement?.dataset.emoji === '😀';",
        "the first emoji focused",
    )
    .await;
    js(
        &page,
        "document.activeElement.dispatchEvent(new KeyboardEvent('keydown', {key: 'ArrowRight', bubbles: true})); return true;",
    )
    .await;
    wait_js(
        &page,
        "return document.activeElement?.dataset.emoji === '😃';",
        "the second emoji focused",
    )
    .await;
    js(
        &page,
        "document.activeElement.dispatchEvent(new KeyboardEvent('keydown', {key: 'Enter', bubbles: true})); return true;",
    )
    .await;
    wait_js(
        &page,
        "return document.querySelector('.emoji-picker') === null && document.getElementById('room-compose').value === 'hi 😃' && document.activeElement?.id === 'room-compose';",
        "the emoji inserted, the picker closed, the compose box focused",
    )
    .await;

    // Recently used comes first next time; a search finds by name; Escape closes.
    click(
        &page,
        Locator::Css("#room-compose-form .emoji-button"),
        "the emoji button",
    )
    .await;
    wait_css(
        &page,
        ".emoji-picker .emoji-section[data-group='recent'] .emoji-option[data-emoji='😃']",
        "😃 recently used",
    )
    .await;
    let search = wait_css(&page, ".emoji-picker .emoji-search", "search").await;
    search.send_keys("red heart").await.expect("type");
    wait_css(
        &page,
        ".emoji-picker .emoji-option[data-emoji='❤️']",
        "❤️ found",
    )
    .await;
    search.send_keys("\u{E00C}").await.expect("Escape");
    wait_js(
        &page,
        "return document.querySelector('.emoji-picker') === null;",
        "closed",
    )
    .await;
    page.close().await.ok();
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn dm_unread_divider_seen_receipt_and_pins_in_the_web_client() {
    let Some(driver) = chromedriver().await else {
        return;
    };
    let app = spawn_ready_app(Backend::Sqlite).await;
    let alice = app.user("alice").await;
    app.user("bob").await;
    let resp = app
        .post_auth("/api/v1/dms", &alice.token, &json!({"username": "bob"}))
        .await;
    assert!(resp.status() == 200 || resp.status() == 201, "open the DM");
    let dm: Value = resp.json().await.expect("json");
    let dm = dm["id"].as_str().expect("id").to_owned();
    let first = app.send(&alice, &dm, "first unread").await["seq"]
        .as_i64()
        .expect("seq");
    let second = app.send(&alice, &dm, "second unread").await["seq"]
        .as_i64()
        .expect("seq");

    let alice_page = browser(&driver).await;
    let bob_page = browser(&driver).await;
    for page in [&alice_page, &bob_page] {
        page.set_window_size(1400, 900).await.expect("window size");
    }
    log_in(&app, &alice_page, "alice").await;
    log_in(&app, &bob_page, "bob").await;
    wait_online(&alice_page).await;
    wait_online(&bob_page).await;
    let win = format!(".dm-window[data-conversation-id='{dm}']");

    // Bob opens the DM with two unread messages: the divider sits before the first one.
    click(
        &bob_page,
        Locator::Css(&format!(
            "#dock-dms button.dm-entry[data-conversation-id='{dm}']"
        )),
        "bob's DM entry",
    )
    .await;
    wait_js(
        &bob_page,
        &format!("const d = document.querySelector(\"{win} .unread-divider\"); return d !== null && d.nextElementSibling?.dataset.seq === '{first}';"),
        "the divider before the first unread message",
    )
    .await;

    // Bob has read them: alice sees "Seen" under her latest message.
    click(
        &alice_page,
        Locator::Css(&format!(
            "#dock-dms button.dm-entry[data-conversation-id='{dm}']"
        )),
        "alice's DM entry",
    )
    .await;
    wait_css(
        &alice_page,
        &format!("{win} .message[data-seq='{second}'] .receipt-seen"),
        "Seen for alice",
    )
    .await;

    // Alice pins the first message from its menu; bob sees the pin and finds it in the panel.
    press(
        &alice_page,
        &format!("{win} .message[data-seq='{first}'] .message-menu-button"),
        "⋯",
    )
    .await;
    click(
        &alice_page,
        Locator::Css("[role=menuitem][data-action='pin']"),
        "Pin",
    )
    .await;
    wait_css(
        &bob_page,
        &format!("{win} .message[data-seq='{first}'] .message-pinned"),
        "the pin for bob",
    )
    .await;
    click(
        &bob_page,
        Locator::Css(&format!("{win} .pins-button")),
        "bob's pins button",
    )
    .await;
    click(
        &bob_page,
        Locator::Css(&format!(".pins-panel .pin-entry[data-seq='{first}']")),
        "the pinned entry",
    )
    .await;
    wait_css(
        &bob_page,
        &format!("{win} .message[data-seq='{first}'].flash"),
        "the pinned message, flashed",
    )
    .await;
    alice_page.close().await.ok();
    bob_page.close().await.ok();
}
