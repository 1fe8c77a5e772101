//! The account and session pages of the web client in real headless Chromium: Settings →
//! Sessions (list, log out one, the others; the ended page lands on the login page saying why),
//! Settings → Account (display name, recovery PIN, password; rules shown before any error),
//! forgot password → the spooled e-mail's link → reset (also with a recovery PIN), and the
//! idle-logout warning. SQLite only, like `browser.rs` (Chromium makes each run slow).

use std::{path::PathBuf, time::Duration};

use base64::Engine as _;
use fantoccini::{Client, Locator};
use serde_json::{Value, json};

use crate::{
    browser::{
        WAIT, browser, chromedriver, click, displayed, log_in, log_in_with, wait_css, wait_online,
        wait_xpath,
    },
    helpers::{Backend, PASSWORD, TestApp, call, spawn_ready_app, spawn_ready_app_with},
};

const FIREFOX: &str = "Mozilla/5.0 (X11; Linux x86_64) Gecko/20100101 Firefox/133.0";

/// Registers a user without signing in (no session is created).
async fn register(app: &TestApp, name: &str) {
    let resp = app
        .post_json(
            "/api/v1/auth/register",
            &json!({"username": name, "password": PASSWORD}),
        )
        .await;
    assert_eq!(resp.status(), 201, "register {name}");
}

/// Signs in over the API with a User-Agent; returns the access token and the status.
async fn api_login(app: &TestApp, name: &str, password: &str, agent: &str) -> (u16, String) {
    let resp = call(
        app.http
            .post(app.url("/api/v1/auth/login"))
            .header("user-agent", agent)
            .json(&json!({"username": name, "password": password})),
    )
    .await;
    let status = resp.status().as_u16();
    let body: Value = resp.json().await.unwrap_or(Value::Null);
    (
        status,
        body["access_token"].as_str().unwrap_or_default().to_owned(),
    )
}

/// ⚙ → the menu entry with this id.
async fn open_settings(c: &Client, entry: &str) {
    click(c, Locator::Css("#settings-button"), "settings button").await;
    click(
        c,
        Locator::Css(&format!("#settings-menu:not([hidden]) #{entry}")),
        entry,
    )
    .await;
}

/// Waits until exactly `n` elements match `css`.
async fn wait_count(c: &Client, css: &str, n: usize) {
    let deadline = tokio::time::Instant::now() + WAIT;
    loop {
        let found = c.find_all(Locator::Css(css)).await.expect("query").len();
        if found == n {
            return;
        }
        assert!(
            tokio::time::Instant::now() < deadline,
            "{n} × {css} within {WAIT:?} (found {found})"
        );
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
}

async fn type_into(c: &Client, css: &str, text: &str) {
    let field = wait_css(c, css, css).await;
    field.clear().await.expect("clear");
    field.send_keys(text).await.expect("type");
}

async fn text_of(c: &Client, css: &str) -> String {
    wait_css(c, css, css).await.text().await.expect("text")
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn settings_sessions_lists_and_ends_sessions() {
    let Some(driver) = chromedriver().await else {
        return;
    };
    let app = spawn_ready_app(Backend::Sqlite).await;
    register(&app, "erin").await;
    let (status, firefox) = api_login(&app, "erin", PASSWORD, FIREFOX).await;
    assert_eq!(status, 200);

    let page = browser(&driver).await;
    page.set_window_size(1280, 900).await.expect("window size");
    log_in(&app, &page, "erin").await;
    wait_online(&page).await;

    // The list: this browser (marked) and the API login, labelled from its User-Agent.
    open_settings(&page, "open-sessions").await;
    wait_count(&page, "#session-list[data-loaded] li.session", 2).await;
    wait_xpath(
        &page,
        "//*[@id='session-list']/li[contains(@class,'session') and not(contains(@class,'current'))]//*[contains(@class,'session-device') and contains(., 'Firefox 133 on Linux')]",
        "the Firefox session's row",
    )
    .await;
    let mine = text_of(&page, "#session-list li.session.current").await;
    assert!(mine.contains("This device"), "{mine}");
    assert!(
        mine.contains("signed in") && mine.contains("active"),
        "{mine}"
    );
    screenshot(&page, "sessions-1280").await;
    page.set_window_size(390, 844).await.expect("window size");
    screenshot(&page, "sessions-390").await;
    page.set_window_size(1280, 900).await.expect("window size");

    // "Log out other sessions" ends the API session: its token is refused with the reason.
    click(
        &page,
        Locator::Id("logout-others"),
        "Log out other sessions",
    )
    .await;
    wait_xpath(
        &page,
        "//*[@id='sessions-status' and contains(., '1 other session signed out')]",
        "the result",
    )
    .await;
    wait_count(&page, "#session-list[data-loaded] li.session", 1).await;
    let resp = app.get("/api/v1/users/me", &firefox).await;
    assert_eq!(resp.status(), 401, "the ended session's token is refused");
    // As a browser sends it (the cookie): the answer says why. (With `Authorization: Bearer`
    // the server answers a plain `unauthorized`: the Bearer-or-cookie scheme reports the cookie
    // attempt's error.)
    let resp = call(
        app.http
            .get(app.url("/api/v1/users/me"))
            .header("cookie", format!("echochat_access={firefox}")),
    )
    .await;
    assert_eq!(resp.status(), 401);
    let body: Value = resp.json().await.expect("json");
    assert_eq!(body["code"], "session_ended");
    assert_eq!(body["reason"], "logged_out_elsewhere");

    // A second browser signs in as erin; the first ends that session from its row; the second
    // page lands on the login page saying why.
    let other = browser(&driver).await;
    log_in(&app, &other, "erin").await;
    wait_online(&other).await;
    click(&page, Locator::Id("sessions-close"), "Close").await;
    open_settings(&page, "open-sessions").await;
    wait_count(&page, "#session-list[data-loaded] li.session", 2).await;
    click(
        &page,
        Locator::Css("#session-list li.session:not(.current) button.session-logout"),
        "Log out on the other session's row",
    )
    .await;
    wait_xpath(
        &other,
        "//*[@id='login-reason' and contains(., 'You were signed out from another device.')]",
        "the reason on the other page's login page",
    )
    .await;
    assert_eq!(
        other.current_url().await.expect("url").path(),
        "/login",
        "the other page is on /login"
    );
    wait_count(&page, "#session-list[data-loaded] li.session", 1).await;

    // "Log out" on this device's row signs this page out: plain /login, no reason shown.
    click(
        &page,
        Locator::Css("#session-list li.session.current button.session-logout"),
        "Log out on this device's row",
    )
    .await;
    wait_css(&page, "#login-form", "the login page").await;
    assert_eq!(
        page.current_url().await.expect("url").query(),
        None,
        "a chosen logout gives no reason"
    );
    assert!(!displayed(&page, "#login-reason").await, "no notice");

    page.close().await.ok();
    other.close().await.ok();
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn settings_account_changes_name_pin_and_password() {
    let Some(driver) = chromedriver().await else {
        return;
    };
    let app = spawn_ready_app(Backend::Sqlite).await;
    let frank = app.user("frank").await;
    let page = browser(&driver).await;
    page.set_window_size(1280, 900).await.expect("window size");
    log_in(&app, &page, "frank").await;
    wait_online(&page).await;

    open_settings(&page, "open-account").await;
    wait_css(&page, "#account-dialog[open]", "the Account dialog").await;
    let deadline = tokio::time::Instant::now() + WAIT;
    while page
        .find(Locator::Id("profile-display-name"))
        .await
        .expect("field")
        .prop("value")
        .await
        .expect("value")
        .as_deref()
        != Some("frank")
    {
        assert!(tokio::time::Instant::now() < deadline, "profile loaded");
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    // The rules are on screen before anything went wrong.
    for (css, rule) in [
        (
            "#display-name-rule",
            "1–64 characters; no control or invisible characters",
        ),
        ("#password-rule", "8–1024 characters"),
        ("#pin-rule", "4–8 digits"),
    ] {
        assert!(displayed(&page, css).await, "{css} shown");
        let text = text_of(&page, css).await;
        assert!(text.contains(rule), "{css}: {text}");
    }
    assert!(!displayed(&page, "#profile-error").await, "no error yet");
    let note = text_of(&page, "#email-note").await;
    assert!(note.contains("This server sends no e-mail"), "{note}");
    screenshot(&page, "account-1280").await;
    page.set_window_size(390, 844).await.expect("window size");
    screenshot(&page, "account-390").await;
    page.set_window_size(1280, 900).await.expect("window size");

    // Display name: saved, and the dock shows it.
    type_into(&page, "#profile-display-name", "Frank the Tank").await;
    click(&page, Locator::Id("profile-save"), "Save profile").await;
    wait_xpath(
        &page,
        "//*[@id='profile-status' and contains(., 'Saved')]",
        "saved",
    )
    .await;
    wait_xpath(
        &page,
        "//*[@id='me-name' and normalize-space(.)='Frank the Tank']",
        "the new name in the dock",
    )
    .await;

    // E-mail: changing it asks for the current password, in a field that appears only then.
    assert!(!displayed(&page, "#profile-password-row").await);
    type_into(&page, "#profile-email", "frank@example.com").await;
    wait_css(
        &page,
        "#profile-password-row:not([hidden])",
        "the current password field",
    )
    .await;
    type_into(&page, "#profile-current-password", PASSWORD).await;
    click(&page, Locator::Id("profile-save"), "Save profile").await;
    wait_css(&page, "#email-status:not([hidden])", "the e-mail badge").await;
    wait_xpath(
        &page,
        "//*[@id='profile-status' and contains(., 'Saved')]",
        "e-mail saved",
    )
    .await;
    let me = app.get_json("/api/v1/users/me", &frank.token).await;
    assert_eq!(me["email"], "frank@example.com");

    // A recovery PIN: a wrong password is refused in the form, the right one sets it.
    type_into(&page, "#pin-value", "4321").await;
    type_into(&page, "#pin-password", "not-my-password").await;
    click(&page, Locator::Id("pin-save"), "Set PIN").await;
    wait_xpath(
        &page,
        "//*[@id='pin-error' and contains(., 'That password is not right.')]",
        "wrong password shown",
    )
    .await;
    type_into(&page, "#pin-password", PASSWORD).await;
    click(&page, Locator::Id("pin-save"), "Set PIN").await;
    wait_xpath(
        &page,
        "//*[@id='pin-status' and contains(., 'Recovery PIN set.')]",
        "PIN set",
    )
    .await;
    let me = app.get_json("/api/v1/users/me", &frank.token).await;
    assert_eq!(me["recovery_pin_set"], true);
    assert_eq!(me["user"]["display_name"], "Frank the Tank");
    wait_css(&page, "#pin-remove:not([hidden])", "Remove PIN offered").await;

    // The password: the old one stops working.
    let new_password = "a-much-longer-secret";
    type_into(&page, "#password-current", PASSWORD).await;
    type_into(&page, "#password-new", new_password).await;
    type_into(&page, "#password-repeat", new_password).await;
    click(&page, Locator::Id("password-save"), "Change password").await;
    wait_xpath(
        &page,
        "//*[@id='password-status' and contains(., 'Password changed.')]",
        "password changed",
    )
    .await;
    assert_eq!(api_login(&app, "frank", PASSWORD, "test").await.0, 401);
    assert_eq!(api_login(&app, "frank", new_password, "test").await.0, 200);
    page.close().await.ok();
}

/// The `.eml` files in the server's mail spool.
fn spooled(app: &TestApp) -> Vec<PathBuf> {
    let dir = app.config.data_dir.join("mail-spool");
    let Ok(entries) = std::fs::read_dir(dir) else {
        return Vec::new();
    };
    entries
        .filter_map(|e| e.ok().map(|e| e.path()))
        .filter(|p| p.extension().is_some_and(|x| x == "eml"))
        .collect()
}

/// Waits for a spooled mail that is not in `seen`; returns the reset token of its link.
async fn next_reset_token(app: &TestApp, seen: &[PathBuf]) -> (PathBuf, String) {
    let deadline = tokio::time::Instant::now() + WAIT;
    loop {
        if let Some(path) = spooled(app).into_iter().find(|p| !seen.contains(p)) {
            let raw = std::fs::read_to_string(&path).expect("read mail");
            if let Some(token) = reset_token(&raw) {
                return (path, token);
            }
        }
        assert!(
            tokio::time::Instant::now() < deadline,
            "a reset mail in the spool within {WAIT:?}"
        );
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
}

/// The token of the `/reset-password#token=…` link in a mail (7bit, quoted-printable or base64).
fn reset_token(raw: &str) -> Option<String> {
    let raw = raw.replace("\r\n", "\n");
    let (headers, body) = raw.split_once("\n\n")?;
    let text = if headers.to_ascii_lowercase().contains("base64") {
        let joined: String = body.split_whitespace().collect();
        String::from_utf8(
            base64::engine::general_purpose::STANDARD
                .decode(joined)
                .ok()?,
        )
        .ok()?
    } else {
        // Quoted-printable soft line breaks and `=3D`; harmless on 7bit text.
        body.replace("=\n", "").replace("=3D", "=")
    };
    let start = text.find("/reset-password#token=")? + "/reset-password#token=".len();
    let token: String = text[start..]
        .chars()
        .take_while(|c| c.is_ascii_alphanumeric() || "-_.~%".contains(*c))
        .collect();
    (!token.is_empty()).then_some(token)
}

/// Opens the reset link, checks the token left the address bar, and submits the form.
async fn reset_in_page(app: &TestApp, c: &Client, token: &str, password: &str, pin: Option<&str>) {
    c.goto(&app.url(&format!("/reset-password#token={token}")))
        .await
        .expect("reset page");
    wait_css(c, "#reset-form", "the reset form").await;
    let url = c.current_url().await.expect("url");
    assert_eq!(url.fragment(), None, "the token is removed from the URL");
    assert!(displayed(c, "#pin-rule").await);
    type_into(c, "#new_password", password).await;
    type_into(c, "#repeat_password", password).await;
    type_into(c, "#pin", pin.unwrap_or("")).await;
    click(
        c,
        Locator::Css("#reset-form button[type=submit]"),
        "Set new password",
    )
    .await;
}

async fn wait_reset_done(c: &Client) {
    wait_xpath(
        c,
        "//*[@id='login-reason' and contains(., 'Password changed. Sign in with the new one.')]",
        "the login page after the reset",
    )
    .await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn forgot_password_mail_link_and_reset_with_a_pin() {
    let Some(driver) = chromedriver().await else {
        return;
    };
    let app = spawn_ready_app(Backend::Sqlite).await;
    let gina = app.user("gina").await;
    let resp = app
        .send_auth(
            reqwest::Method::PATCH,
            "/api/v1/users/me/profile",
            &gina.token,
            &json!({"email": "gina@example.com", "current_password": PASSWORD}),
        )
        .await;
    assert_eq!(resp.status(), 204, "set the e-mail");

    // The login page links to the forgot-password page, which always says the same.
    let page = browser(&driver).await;
    page.goto(&app.url("/login")).await.expect("login page");
    click(
        &page,
        Locator::LinkText("Forgot password?"),
        "Forgot password?",
    )
    .await;
    type_into(&page, "#username_or_email", "gina@example.com").await;
    click(
        &page,
        Locator::Css("#forgot-form button[type=submit]"),
        "Send reset link",
    )
    .await;
    wait_xpath(
        &page,
        "//*[contains(@class,'notice') and contains(., 'a reset link is on its way')]",
        "the confirmation",
    )
    .await;

    // The spooled mail's link sets a new password; the login page says so; it signs in.
    let (first, token) = next_reset_token(&app, &[]).await;
    let second_password = "second-password-1";
    reset_in_page(&app, &page, &token, second_password, None).await;
    wait_reset_done(&page).await;
    log_in_with(&app, &page, "gina", second_password).await;

    // With a recovery PIN set, a wrong PIN is refused in the form, the right one works.
    let (status, token) = api_login(&app, "gina", second_password, "test").await;
    assert_eq!(status, 200);
    let resp = app
        .send_auth(
            reqwest::Method::PUT,
            "/api/v1/users/me/recovery-pin",
            &token,
            &json!({"password": second_password, "pin": "2468"}),
        )
        .await;
    assert_eq!(resp.status(), 204, "set a PIN");
    let resp = app
        .post_json(
            "/api/v1/auth/password-reset",
            &json!({"username_or_email": "gina"}),
        )
        .await;
    assert_eq!(resp.status(), 202);
    let (_, token) = next_reset_token(&app, &[first]).await;
    let third_password = "third-password-22";
    reset_in_page(&app, &page, &token, third_password, Some("1111")).await;
    wait_xpath(
        &page,
        "//*[@id='reset-form']//*[@role='alert' and contains(., 'wrong recovery PIN')]",
        "the PIN error",
    )
    .await;
    screenshot(&page, "reset-pin-error").await;
    assert_eq!(
        page.current_url().await.expect("url").path(),
        "/reset-password",
        "the form stays"
    );
    type_into(&page, "#pin", "2468").await;
    click(
        &page,
        Locator::Css("#reset-form button[type=submit]"),
        "Set new password",
    )
    .await;
    wait_reset_done(&page).await;
    assert_eq!(api_login(&app, "gina", third_password, "test").await.0, 200);
    page.close().await.ok();
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn idle_warning_then_idle_logout() {
    let Some(driver) = chromedriver().await else {
        return;
    };
    // 6 s: the warning comes at half of it (3 s after the last activity report).
    let app = spawn_ready_app_with(Backend::Sqlite, |config| {
        config.auth.idle_timeout_minutes = 0.1;
    })
    .await;
    app.user("hank").await;
    let page = browser(&driver).await;
    page.set_window_size(390, 844).await.expect("window size");
    log_in(&app, &page, "hank").await;

    let warning = wait_css(&page, "#idle-warning:not([hidden])", "the idle warning").await;
    let text = warning.text().await.expect("text");
    assert!(
        text.contains("because of inactivity") && text.contains("Stay signed in"),
        "{text}"
    );
    screenshot(&page, "idle-390").await;
    click(&page, Locator::Id("idle-stay"), "Stay signed in").await;
    wait_css(&page, "#idle-warning[hidden]", "the warning hidden").await;

    // No more activity: the server ends the session and the login page says why.
    wait_xpath(
        &page,
        "//*[@id='login-reason' and contains(., 'You were signed out after a period of inactivity.')]",
        "the idle notice on the login page",
    )
    .await;
    page.close().await.ok();
}

/// With ECHOCHAT_SCREENSHOTS=<dir>, saves a PNG of the page there (for a person to look at).
async fn screenshot(c: &Client, name: &str) {
    let Ok(dir) = std::env::var("ECHOCHAT_SCREENSHOTS") else {
        return;
    };
    let png = c.screenshot().await.expect("screenshot");
    std::fs::write(PathBuf::from(dir).join(format!("{name}.png")), png).expect("write screenshot");
}
