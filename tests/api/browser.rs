//! The web client in real headless Chromium (through chromedriver): two users log in through
//! the page and chat in a room; the page reconnects and resumes across a server restart.

use std::{
    process::{Child, Command, Stdio},
    time::Duration,
};

use fantoccini::{Client, ClientBuilder, Locator};
use serde_json::json;

use crate::helpers::{Backend, PASSWORD, TestApp, spawn_ready_app};

struct Driver {
    child: Child,
    port: u16,
}

impl Drop for Driver {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

fn find(binary: &str) -> Option<String> {
    ["/usr/bin/", "/usr/local/bin/", "/usr/lib/chromium/"]
        .iter()
        .map(|dir| format!("{dir}{binary}"))
        .find(|p| std::path::Path::new(p).exists())
}

/// Starts chromedriver, or returns None (skip) outside CI when Chromium is not installed.
async fn chromedriver() -> Option<Driver> {
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

async fn browser(driver: &Driver) -> Client {
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

async fn log_in(app: &TestApp, c: &Client, name: &str) {
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
        .send_keys(PASSWORD)
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
    c.wait()
        .at_most(Duration::from_secs(20))
        .for_element(Locator::XPath(&xpath))
        .await
        .expect("room entry")
        .click()
        .await
        .expect("open room");
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
