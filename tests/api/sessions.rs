//! Sessions: listing with device and address, ending one / the others / all (tokens refused,
//! WebSockets closed with 1008 and the reason within a second), revocation that survives a
//! restart, idle logout, password change, profile rules, and the headers of the accounts issue.

use std::time::Duration;

use reqwest::Method;
use serde_json::{Value, json};

use crate::{
    both_backends, db_test,
    helpers::{Backend, PASSWORD, TestApp, TestUser, call, spawn_ready_app_with},
};

const FIREFOX: &str = "Mozilla/5.0 (X11; Linux x86_64; rv:133.0) Gecko/20100101 Firefox/133.0";

/// Logs in with a User-Agent.
async fn login_as(app: &TestApp, name: &str, user_agent: &str) -> TestUser {
    let resp = call(
        app.http
            .post(app.url("/api/v1/auth/login"))
            .header("user-agent", user_agent)
            .json(&json!({"username": name, "password": PASSWORD})),
    )
    .await;
    assert_eq!(resp.status(), 200);
    let body: Value = resp.json().await.unwrap();
    TestUser {
        id: body["user"]["id"].as_str().unwrap().to_owned(),
        username: name.to_owned(),
        token: body["access_token"].as_str().unwrap().to_owned(),
        refresh: body["refresh_token"].as_str().unwrap().to_owned(),
    }
}

async fn ended_reason(app: &TestApp, token: &str) -> Value {
    let resp = app.get("/api/v1/users/me", token).await;
    assert_eq!(resp.status(), 401);
    let body: Value = resp.json().await.unwrap();
    assert_eq!(body["code"], "session_ended");
    body["reason"].clone()
}

db_test!(
    async fn sessions_are_listed_and_ended_one_others_or_all(app) {
        app.user("sam").await;
        let laptop = login_as(&app, "sam", FIREFOX).await;
        let phone = app.login("sam").await;
        let list = app.get_json("/api/v1/sessions", &laptop.token).await;
        let sessions = list["sessions"].as_array().unwrap();
        assert_eq!(sessions.len(), 3, "registration's login, laptop, phone: {list}");
        let mine: Vec<&Value> = sessions.iter().filter(|s| s["current"] == true).collect();
        assert_eq!(mine.len(), 1);
        assert_eq!(mine[0]["device"], "Firefox 133 on Linux");
        assert_eq!(mine[0]["ip"], "127.0.0.1");
        let phone_id = sessions
            .iter()
            .find(|s| s["current"] == false && s["device"] != "Firefox 133 on Linux")
            .unwrap()["id"]
            .as_str()
            .unwrap()
            .to_owned();

        // Another user's session, an unknown id, a malformed id: 404 / 400, nothing ended.
        let other = app.login("admin").await;
        let other_id = app.get_json("/api/v1/sessions", &other.token).await["sessions"][0]["id"]
            .as_str()
            .unwrap()
            .to_owned();
        let path = format!("/api/v1/sessions/{other_id}");
        let foreign = app.send_auth(Method::DELETE, &path, &laptop.token, &json!({})).await;
        assert_eq!(foreign.status(), 404);
        assert_eq!(app.get("/api/v1/users/me", &other.token).await.status(), 200);
        let unknown = "/api/v1/sessions/0193a4c2-5f1e-7b3a-9c2d-4e5f6a7b8c01";
        assert_eq!(app.send_auth(Method::DELETE, unknown, &laptop.token, &json!({})).await.status(), 404);
        assert_eq!(app.send_auth(Method::DELETE, "/api/v1/sessions/nope", &laptop.token, &json!({})).await.status(), 400);

        // Ending the phone's session from the laptop: its socket closes with 1008 within 1 s
        // and the reason, its token and refresh token are refused.
        let (mut phone_ws, _) = app.ws(&phone).await;
        let started = std::time::Instant::now();
        let path = format!("/api/v1/sessions/{phone_id}");
        assert_eq!(app.send_auth(Method::DELETE, &path, &laptop.token, &json!({})).await.status(), 204);
        let (code, reason) = phone_ws.close_frame(Duration::from_secs(1)).await;
        assert_eq!((code, reason.as_str()), (1008, "logged_out_elsewhere"));
        assert!(started.elapsed() < Duration::from_secs(1));
        assert_eq!(ended_reason(&app, &phone.token).await, "logged_out_elsewhere");
        let refresh = app.post_json("/api/v1/auth/refresh", &json!({"refresh_token": phone.refresh})).await;
        assert_eq!(refresh.status(), 401);
        assert_eq!(refresh.json::<Value>().await.unwrap()["reason"], "logged_out_elsewhere");
        // Ending it again: 404.
        assert_eq!(app.send_auth(Method::DELETE, &path, &laptop.token, &json!({})).await.status(), 404);

        // Log out the others: one (registration's) ends, the laptop stays.
        let others = app.post_auth("/api/v1/sessions/logout-others", &laptop.token, &json!({})).await;
        assert_eq!(others.status(), 200);
        assert_eq!(others.json::<Value>().await.unwrap()["ended"], 1);
        assert_eq!(app.get("/api/v1/users/me", &laptop.token).await.status(), 200);
        let list = app.get_json("/api/v1/sessions", &laptop.token).await;
        assert_eq!(list["sessions"].as_array().unwrap().len(), 1);

        // Log out everywhere: this one too.
        let second = app.login("sam").await;
        let all = app.post_auth("/api/v1/sessions/logout-all", &laptop.token, &json!({})).await;
        assert_eq!(all.json::<Value>().await.unwrap()["ended"], 2);
        assert_eq!(ended_reason(&app, &laptop.token).await, "logout");
        assert_eq!(ended_reason(&app, &second.token).await, "logged_out_elsewhere");

        // Every ending is in the audit log with its reason.
        let audit = app.get_json("/api/v1/admin/audit?action=session.revoked", &other.token).await;
        assert!(audit["entries"].as_array().unwrap().iter().any(|e| e["details"]["reason"] == "logged_out_elsewhere"));
    }
);

db_test!(
    async fn a_logged_out_access_token_stays_refused_after_a_restart(app) {
        app.user("rex").await;
        let rex = app.login("rex").await;
        let kept = app.login("rex").await;
        // A Bearer-only logout ends that token's session.
        assert_eq!(app.post_auth("/api/v1/auth/logout", &rex.token, &json!({})).await.status(), 204);
        assert_eq!(ended_reason(&app, &rex.token).await, "logout");
        app.restart().await;
        // The ended session is read from the database: still refused, with its reason; the
        // other session still works.
        assert_eq!(ended_reason(&app, &rex.token).await, "logout");
        assert_eq!(app.get("/api/v1/users/me", &kept.token).await.status(), 200);
        let refresh = app.post_json("/api/v1/auth/refresh", &json!({"refresh_token": rex.refresh})).await;
        assert_eq!(refresh.status(), 401);
    }
);

both_backends!(idle_sessions_end_and_activity_keeps_them => super::idle_sessions);
async fn idle_sessions(backend: Backend) {
    // 0.05 minutes = 3 s.
    let app = spawn_ready_app_with(backend, |c| c.auth.idle_timeout_minutes = 0.05).await;
    app.user("ida").await;
    app.user("ace").await;
    let ida = app.login("ida").await;
    let ace = app.login("ace").await;
    let me = app.get_json("/api/v1/users/me", &ida.token).await;
    assert_eq!(me["idle_timeout_secs"], 3);
    let (mut idle_ws, _) = app.ws(&ida).await;
    let (mut busy_ws, _) = app.ws(&ace).await;
    // Ace reports activity every 0.5 s; Ida does nothing. Ida's socket closes with "idle".
    let deadline = tokio::time::Instant::now() + Duration::from_secs(20);
    let closed = tokio::spawn(async move { idle_ws.close_frame(Duration::from_secs(20)).await });
    while !closed.is_finished() {
        assert!(
            tokio::time::Instant::now() < deadline,
            "idle session did not end"
        );
        busy_ws.send_json(json!({"type": "activity"})).await;
        tokio::time::sleep(Duration::from_millis(500)).await;
    }
    let (code, reason) = closed.await.unwrap();
    assert_eq!((code, reason.as_str()), (1008, "idle"));
    assert_eq!(ended_reason(&app, &ida.token).await, "idle");
    let refresh = app
        .post_json(
            "/api/v1/auth/refresh",
            &json!({"refresh_token": ida.refresh}),
        )
        .await;
    assert_eq!(refresh.json::<Value>().await.unwrap()["reason"], "idle");
    // Ace was active all along (well past 3 s): still signed in.
    assert_eq!(app.get("/api/v1/users/me", &ace.token).await.status(), 200);
    let root = app.login("admin").await;
    let audit = app
        .get_json("/api/v1/admin/audit?action=session.idle", &root.token)
        .await;
    assert!(!audit["entries"].as_array().unwrap().is_empty());
}

db_test!(
    async fn a_password_change_ends_the_other_sessions_and_profile_rules_hold(app) {
        app.user("pat").await;
        let pat = app.login("pat").await;
        let other = app.login("pat").await;
        let (mut other_ws, _) = app.ws(&other).await;

        let wrong = app.post_auth("/api/v1/users/me/password", &pat.token,
            &json!({"current_password": "not-it-at-all", "new_password": "a-new-password"})).await;
        assert_eq!(wrong.status(), 403);
        assert_eq!(wrong.json::<Value>().await.unwrap()["code"], "invalid_credentials");
        let short = app.post_auth("/api/v1/users/me/password", &pat.token,
            &json!({"current_password": PASSWORD, "new_password": "short"})).await;
        assert_eq!(short.status(), 422);
        let changed = app.post_auth("/api/v1/users/me/password", &pat.token,
            &json!({"current_password": PASSWORD, "new_password": "a-new-password"})).await;
        assert_eq!(changed.status(), 200);
        assert_eq!(changed.json::<Value>().await.unwrap()["sessions_ended"], 2);
        assert_eq!(other_ws.close_frame(Duration::from_secs(1)).await, (1008, "password_changed".to_owned()));
        assert_eq!(ended_reason(&app, &other.token).await, "password_changed");
        assert_eq!(app.get("/api/v1/users/me", &pat.token).await.status(), 200);
        let old = app.post_json("/api/v1/auth/login", &json!({"username": "pat", "password": PASSWORD})).await;
        assert_eq!(old.status(), 401);
        let new = app.post_json("/api/v1/auth/login", &json!({"username": "pat", "password": "a-new-password"})).await;
        assert_eq!(new.status(), 200);

        // Display name: shown to others, rules enforced (no CR/LF header injection, no bidi).
        let patch = |body: Value| {
            let (app, token) = (&app, pat.token.clone());
            async move { app.send_auth(Method::PATCH, "/api/v1/users/me/profile", &token, &body).await }
        };
        assert_eq!(patch(json!({"display_name": "Pat Lee"})).await.status(), 204);
        let me = app.get_json("/api/v1/users/me", &pat.token).await;
        assert_eq!(me["user"]["display_name"], "Pat Lee");
        for bad in ["Pat\r\nBcc: x@evil.test", "\u{202E}taP", "", &"x".repeat(65)] {
            let resp = patch(json!({"display_name": bad})).await;
            assert_eq!(resp.status(), 422, "{bad:?}");
            assert_eq!(resp.json::<Value>().await.unwrap()["code"], "invalid_display_name");
        }
        // E-mail: needs the password, refuses header injection, unique whatever the case.
        let no_password = patch(json!({"email": "pat@example.com"})).await;
        assert_eq!(no_password.status(), 403);
        let bad = patch(json!({"email": "pat@example.com\r\nBcc: x@evil.test", "current_password": "a-new-password"})).await;
        assert_eq!(bad.status(), 422);
        assert_eq!(bad.json::<Value>().await.unwrap()["code"], "invalid_email");
        assert_eq!(patch(json!({"email": "Pat@Example.com", "current_password": "a-new-password"})).await.status(), 204);
        let me = app.get_json("/api/v1/users/me", &pat.token).await;
        assert_eq!((me["email"].clone(), me["email_verified"].clone()), (json!("Pat@Example.com"), json!(false)));
        app.user("kim").await;
        let kim = app.login("kim").await;
        let taken = app.send_auth(Method::PATCH, "/api/v1/users/me/profile", &kim.token,
            &json!({"email": "pat@EXAMPLE.com", "current_password": PASSWORD})).await;
        assert_eq!(taken.status(), 409);
        assert_eq!(taken.json::<Value>().await.unwrap()["code"], "email_taken");
        let register = app.post_json("/api/v1/auth/register",
            &json!({"username": "kim2", "password": PASSWORD, "email": "PAT@example.COM"})).await;
        assert_eq!(register.status(), 409);
        assert_eq!(register.json::<Value>().await.unwrap()["code"], "email_taken");
    }
);

db_test!(
    async fn account_answers_are_not_cached_login_checks_origin_and_docs_have_a_csp(app) {
        let root = app.login("admin").await;
        let me = app.get("/api/v1/users/me", &root.token).await;
        assert_eq!(me.headers()["cache-control"], "no-store");
        let sessions = app.get("/api/v1/sessions", &root.token).await;
        assert_eq!(sessions.headers()["cache-control"], "no-store");

        // Login CSRF: a browser form on another site cannot sign the visitor in.
        let forged = call(app.http.post(app.url("/api/v1/auth/login"))
            .header("origin", "https://evil.example")
            .json(&json!({"username": "admin", "password": PASSWORD}))).await;
        assert_eq!(forged.status(), 403);
        assert_eq!(forged.json::<Value>().await.unwrap()["code"], "origin_mismatch");
        let own = call(app.http.post(app.url("/api/v1/auth/login"))
            .header("origin", app.base.clone())
            .json(&json!({"username": "admin", "password": PASSWORD}))).await;
        assert_eq!(own.status(), 200);

        let docs = app.http.get(app.url("/api/docs")).send().await.unwrap();
        let csp = docs.headers()["content-security-policy"].to_str().unwrap().to_owned();
        assert!(csp.contains("default-src 'none'") && csp.contains("frame-ancestors 'none'"), "{csp}");
    }
);
