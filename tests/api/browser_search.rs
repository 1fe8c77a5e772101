//! Message search in the web client, in real headless Chromium: alice opens the search dialog
//! from the room browser's 🔍 button, types a word, sees the hit with the word highlighted in
//! its snippet (and the message's HTML shown as text), clicks it, and the room holding the
//! message opens with the message in its log. Esc closes the dialog. SQLite only, like the
//! other browser tests.

use fantoccini::Locator;

use crate::{
    browser::{browser, chromedriver, click, log_in, wait_css, wait_online, wait_xpath},
    helpers::{Backend, spawn_ready_app},
};

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn search_finds_a_message_and_opens_its_conversation() {
    let Some(driver) = chromedriver().await else {
        return;
    };
    let app = spawn_ready_app(Backend::Sqlite).await;
    let alice = app.user("alice").await;
    let garden = app.room(&alice, "Garden", "public").await;
    app.send(&alice, &garden, "The tomatoes are ripe <b>now</b>")
        .await;
    app.send(&alice, &garden, "Something else entirely").await;
    let page = browser(&driver).await;
    page.set_window_size(1400, 900).await.expect("window size");
    log_in(&app, &page, "alice").await;
    wait_online(&page).await;

    // Open the dialog, type a word, submit with Enter.
    click(
        &page,
        Locator::Css("#message-search-open"),
        "the search button",
    )
    .await;
    let input = wait_css(
        &page,
        "#message-search-dialog[open] #message-search-q",
        "the query field",
    )
    .await;
    input.send_keys("tomato").await.expect("type");
    input.send_keys("\u{E007}").await.expect("Enter");

    // One hit, with the word marked and the body's markup shown as text.
    let hit = format!(".search-hit[data-conversation-id='{garden}'][data-seq='1']");
    wait_css(
        &page,
        &format!("#message-search-results[data-loaded] {hit}"),
        "the hit",
    )
    .await;
    let mark = wait_css(
        &page,
        &format!("{hit} .search-hit-snippet mark"),
        "the highlighted word",
    )
    .await;
    assert_eq!(mark.text().await.expect("text").to_lowercase(), "tomatoes");
    let snippet = wait_css(&page, &format!("{hit} .search-hit-snippet"), "the snippet").await;
    assert!(
        snippet.text().await.expect("text").contains("<b>now</b>"),
        "markup is shown as text"
    );
    assert!(
        page.find_all(Locator::Css(".search-hit-snippet b"))
            .await
            .expect("query")
            .is_empty(),
        "no element from the message body"
    );
    assert_eq!(
        page.find_all(Locator::Css(".search-hit"))
            .await
            .expect("query")
            .len(),
        1,
        "only the matching message"
    );

    // Clicking it opens the room (the Lobby was open) and closes the dialog.
    click(&page, Locator::Css(&hit), "the hit").await;
    wait_xpath(
        &page,
        "//h2[@id='room-title' and contains(., 'Garden')]",
        "the Garden room open",
    )
    .await;
    wait_xpath(
        &page,
        "//*[@id='room-log']//*[contains(@class,'message-body') and contains(., 'tomatoes are ripe')]",
        "the message in the log",
    )
    .await;
    wait_css(
        &page,
        "#message-search-dialog:not([open])",
        "the dialog closed",
    )
    .await;

    // Esc closes it too.
    click(
        &page,
        Locator::Css("#message-search-open"),
        "the search button",
    )
    .await;
    let input = wait_css(
        &page,
        "#message-search-dialog[open] #message-search-q",
        "the dialog again",
    )
    .await;
    input.send_keys("\u{E00C}").await.expect("Escape");
    wait_css(
        &page,
        "#message-search-dialog:not([open])",
        "closed with Esc",
    )
    .await;
    page.close().await.ok();
}
