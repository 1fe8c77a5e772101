//! Account recovery against a real SMTP server (Python's aiosmtpd, writing a Maildir): e-mail
//! verification, password reset with a recovery PIN, wrong/used/expired tokens, PIN brute force,
//! and `echochat smtp-test`.

use std::{path::PathBuf, process::Stdio, time::Duration};

use reqwest::Method;
use sea_orm::{ConnectionTrait, Database};
use serde_json::{Value, json};

use crate::{
    both_backends,
    helpers::{Backend, PASSWORD, TestApp, spawn_ready_app_with},
};

/// A real SMTP server on a free loopback port that stores every message in a Maildir.
pub struct SmtpServer {
    child: std::process::Child,
    /// Its port.
    pub port: u16,
    dir: tempfile::TempDir,
}

impl SmtpServer {
    /// Starts `python3 -m aiosmtpd` (PyPI `aiosmtpd`; `.ci/run` installs it) and waits until it
    /// accepts connections.
    pub async fn start() -> Self {
        let port = std::net::TcpListener::bind("127.0.0.1:0")
            .and_then(|l| l.local_addr())
            .expect("free port")
            .port();
        let dir = tempfile::tempdir().expect("maildir");
        let child = std::process::Command::new("python3")
            .args(["-m", "aiosmtpd", "-n", "-l", &format!("127.0.0.1:{port}")])
            .args(["-c", "aiosmtpd.handlers.Mailbox"])
            // A path that does not exist yet: Python's Maildir creates it with tmp/new/cur.
            .arg(dir.path().join("maildir"))
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .expect("python3 -m aiosmtpd (pip install aiosmtpd)");
        let deadline = tokio::time::Instant::now() + Duration::from_secs(15);
        while tokio::net::TcpStream::connect(("127.0.0.1", port))
            .await
            .is_err()
        {
            assert!(
                tokio::time::Instant::now() < deadline,
                "aiosmtpd did not start (pip install aiosmtpd)"
            );
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
        Self { child, port, dir }
    }

    fn messages(&self) -> Vec<(PathBuf, String)> {
        let mut out = Vec::new();
        for sub in ["new", "cur"] {
            for entry in std::fs::read_dir(self.dir.path().join("maildir").join(sub))
                .into_iter()
                .flatten()
                .flatten()
            {
                if let Ok(text) = std::fs::read_to_string(entry.path()) {
                    out.push((entry.path(), text));
                }
            }
        }
        out
    }

    /// Waits (15 s at most) for a message to `to` whose decoded text contains `needle`, removes
    /// it from the Maildir and returns the decoded text.
    pub async fn wait_for(&self, to: &str, needle: &str) -> String {
        let deadline = tokio::time::Instant::now() + Duration::from_secs(15);
        loop {
            for (path, raw) in self.messages() {
                let text = decode_qp(&raw);
                let (lower, to) = (text.to_lowercase(), to.to_lowercase());
                let addressed =
                    lower.contains(&format!("to: {to}")) || lower.contains(&format!("<{to}>"));
                if addressed && text.contains(needle) {
                    std::fs::remove_file(path).ok();
                    return text;
                }
            }
            assert!(
                tokio::time::Instant::now() < deadline,
                "no mail to {to} with {needle:?}"
            );
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
    }
}

impl Drop for SmtpServer {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// Undoes quoted-printable soft line breaks and `=3D` (what lettre may use for long lines).
pub fn decode_qp(raw: &str) -> String {
    raw.replace("=\r\n", "")
        .replace("=\n", "")
        .replace("=3D", "=")
}

/// The token after `marker` (`reset-password#token=`) in a mail.
pub fn token_after(text: &str, marker: &str) -> String {
    let start = text.find(marker).expect("link in the mail") + marker.len();
    text[start..]
        .chars()
        .take_while(|c| c.is_ascii_alphanumeric() || *c == '-' || *c == '_')
        .collect()
}

async fn with_smtp(backend: Backend, smtp: &SmtpServer) -> TestApp {
    let port = smtp.port;
    spawn_ready_app_with(backend, |c| {
        c.smtp.host = Some("127.0.0.1".into());
        c.smtp.port = Some(port);
        c.smtp.security = echochat::config::SmtpSecurity::None;
        c.smtp.from = "EchoChat Test <chat@example.test>".into();
    })
    .await
}

/// Sets every unused token of `purpose` to have expired in 2000.
async fn expire_tokens(app: &TestApp) {
    let url = app.config.database_url.clone().unwrap_or_else(|| {
        format!(
            "sqlite://{}?mode=rw",
            app.config.data_dir.join("echochat.db").display()
        )
    });
    let db = Database::connect(&url)
        .await
        .expect("connect to the test database");
    db.execute_unprepared(
        "UPDATE user_tokens SET expires_at = '2000-01-01 00:00:00+00:00' WHERE used_at IS NULL",
    )
    .await
    .expect("expire tokens");
    db.close().await.ok();
}

both_backends!(verification_and_password_reset_over_real_smtp => super::reset_over_smtp);
async fn reset_over_smtp(backend: Backend) {
    let smtp = SmtpServer::start().await;
    let app = with_smtp(backend, &smtp).await;
    app.user("rob").await;
    let rob = app.login("rob").await;
    let me = app.get_json("/api/v1/users/me", &rob.token).await;
    assert_eq!(me["smtp_configured"], true);

    // The address is verified by a link sent to it.
    let set = app
        .send_auth(
            Method::PATCH,
            "/api/v1/users/me/profile",
            &rob.token,
            &json!({"email": "Rob@Example.com", "current_password": PASSWORD}),
        )
        .await;
    assert_eq!(set.status(), 204);
    let mail = smtp
        .wait_for("rob@example.com", "verify-email#token=")
        .await;
    assert!(
        mail.contains("Subject: Confirm your e-mail address"),
        "{mail}"
    );
    let token = token_after(&mail, "verify-email#token=");
    assert_eq!(
        app.post_json("/api/v1/auth/verify-email", &json!({"token": token}))
            .await
            .status(),
        204
    );
    assert_eq!(
        app.get_json("/api/v1/users/me", &rob.token).await["email_verified"],
        true
    );
    let again = app
        .post_json("/api/v1/auth/verify-email", &json!({"token": token}))
        .await;
    assert_eq!(again.status(), 403);
    assert_eq!(
        again.json::<Value>().await.unwrap()["code"],
        "invalid_token"
    );

    // A recovery PIN makes a reset link need it too.
    let pin = app
        .send_auth(
            Method::PUT,
            "/api/v1/users/me/recovery-pin",
            &rob.token,
            &json!({"password": PASSWORD, "pin": "2468"}),
        )
        .await;
    assert_eq!(pin.status(), 204);
    let bad_pin = app
        .send_auth(
            Method::PUT,
            "/api/v1/users/me/recovery-pin",
            &rob.token,
            &json!({"password": PASSWORD, "pin": "12ab"}),
        )
        .await;
    assert_eq!(bad_pin.status(), 422);
    assert_eq!(
        bad_pin.json::<Value>().await.unwrap()["code"],
        "invalid_pin_format"
    );

    // The same answer for an unknown account and for Rob's address in another case.
    let unknown = app
        .post_json(
            "/api/v1/auth/password-reset",
            &json!({"username_or_email": "nobody@example.com"}),
        )
        .await;
    let known = app
        .post_json(
            "/api/v1/auth/password-reset",
            &json!({"username_or_email": "ROB@example.COM"}),
        )
        .await;
    assert_eq!(
        (unknown.status(), known.status()),
        (reqwest::StatusCode::ACCEPTED, reqwest::StatusCode::ACCEPTED)
    );
    assert_eq!(
        unknown.json::<Value>().await.unwrap(),
        known.json::<Value>().await.unwrap()
    );
    let mail = smtp
        .wait_for("rob@example.com", "reset-password#token=")
        .await;
    assert!(
        mail.contains("recovery PIN"),
        "the mail says the PIN is needed: {mail}"
    );
    let token = token_after(&mail, "reset-password#token=");

    let confirm = |pin: Option<&str>, password: &str| {
        let mut body = json!({"token": token, "new_password": password});
        if let Some(pin) = pin {
            body["pin"] = json!(pin);
        }
        let app = &app;
        async move {
            app.post_json("/api/v1/auth/password-reset/confirm", &body)
                .await
        }
    };
    let missing = confirm(None, "brand-new-password").await;
    assert_eq!(missing.status(), 403);
    assert_eq!(
        missing.json::<Value>().await.unwrap()["code"],
        "invalid_pin"
    );
    let wrong = confirm(Some("1357"), "brand-new-password").await;
    assert_eq!(wrong.status(), 403);
    let wrong: Value = wrong.json().await.unwrap();
    assert_eq!(wrong["code"], "invalid_pin");
    assert!(
        wrong["message"].as_str().unwrap().contains("3 tries left"),
        "{wrong}"
    );
    let short = confirm(Some("2468"), "short").await;
    assert_eq!(short.status(), 422);
    assert_eq!(
        confirm(Some("2468"), "brand-new-password").await.status(),
        204
    );
    let reused = confirm(Some("2468"), "another-password").await;
    assert_eq!(reused.status(), 403);
    assert_eq!(
        reused.json::<Value>().await.unwrap()["code"],
        "invalid_token"
    );
    // Every session ended; the new password works, the old one does not.
    let old = app.get("/api/v1/users/me", &rob.token).await;
    assert_eq!(
        old.json::<Value>().await.unwrap()["reason"],
        "password_reset"
    );
    let login = |password: &str| {
        let body = json!({"username": "rob", "password": password});
        let app = &app;
        async move { app.post_json("/api/v1/auth/login", &body).await.status() }
    };
    assert_eq!(login(PASSWORD).await, 401);
    assert_eq!(login("brand-new-password").await, 200);

    // Five wrong PINs end a link, even before it expires.
    assert_eq!(
        app.post_json(
            "/api/v1/auth/password-reset",
            &json!({"username_or_email": "rob"})
        )
        .await
        .status(),
        202
    );
    let mail = smtp
        .wait_for("rob@example.com", "reset-password#token=")
        .await;
    let token = token_after(&mail, "reset-password#token=");
    for left in (0..5).rev() {
        let resp = app
            .post_json(
                "/api/v1/auth/password-reset/confirm",
                &json!({"token": token, "new_password": "guessing-password", "pin": "0000"}),
            )
            .await;
        assert_eq!(resp.status(), 403);
        let code = resp.json::<Value>().await.unwrap()["code"].clone();
        assert_eq!(
            code,
            if left == 0 {
                "invalid_token"
            } else {
                "invalid_pin"
            },
            "{left} left"
        );
    }
    let dead = app
        .post_json(
            "/api/v1/auth/password-reset/confirm",
            &json!({"token": token, "new_password": "guessing-password", "pin": "2468"}),
        )
        .await;
    assert_eq!(dead.json::<Value>().await.unwrap()["code"], "invalid_token");

    // An expired link, and one that never existed.
    assert_eq!(
        app.post_json(
            "/api/v1/auth/password-reset",
            &json!({"username_or_email": "rob"})
        )
        .await
        .status(),
        202
    );
    let mail = smtp
        .wait_for("rob@example.com", "reset-password#token=")
        .await;
    let token = token_after(&mail, "reset-password#token=");
    expire_tokens(&app).await;
    for token in [token.as_str(), "not-a-token-this-server-made"] {
        let resp = app
            .post_json(
                "/api/v1/auth/password-reset/confirm",
                &json!({"token": token, "new_password": "guessing-password", "pin": "2468"}),
            )
            .await;
        assert_eq!(resp.status(), 403);
        assert_eq!(resp.json::<Value>().await.unwrap()["code"], "invalid_token");
    }
    let root = app.login("admin").await;
    let audit = app
        .get_json(
            "/api/v1/admin/audit?action=user.recovery_pin_failed",
            &root.token,
        )
        .await;
    assert!(audit["entries"].as_array().unwrap().len() >= 6);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn smtp_test_prints_the_outcome_of_the_smtp_dialogue() {
    let smtp = SmtpServer::start().await;
    let data = tempfile::tempdir().unwrap();
    let run = |port: u16| {
        std::process::Command::new(env!("CARGO_BIN_EXE_echochat"))
            .arg("--data-dir")
            .arg(data.path())
            .args(["smtp-test", "--to", "ops@example.com"])
            .env("ECHOCHAT_SMTP__HOST", "127.0.0.1")
            .env("ECHOCHAT_SMTP__PORT", port.to_string())
            .env("ECHOCHAT_SMTP__SECURITY", "none")
            .env("ECHOCHAT_SMTP__TIMEOUT_SECS", "5")
            .output()
            .expect("run echochat smtp-test")
    };
    let ok = run(smtp.port);
    let stdout = String::from_utf8_lossy(&ok.stdout);
    assert!(
        ok.status.success(),
        "{stdout} {}",
        String::from_utf8_lossy(&ok.stderr)
    );
    assert!(
        stdout.contains("SMTP 127.0.0.1") && stdout.contains("sent: 250"),
        "{stdout}"
    );
    smtp.wait_for("ops@example.com", "e-mail works").await;

    let closed = std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port();
    let failed = run(closed);
    assert!(!failed.status.success());
    assert!(
        String::from_utf8_lossy(&failed.stderr).contains("not sent"),
        "{failed:?}"
    );
}
