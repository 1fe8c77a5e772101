//! Setup, register, login, refresh rotation, logout, cookies and the Origin check.

use serde_json::{Value, json};

use crate::{
    both_backends, db_test,
    helpers::{Backend, PASSWORD, call, spawn_app},
};

async fn setup_flow(backend: Backend) {
    let app = spawn_app(backend).await;
    let status = app.get_public_json("/api/v1/setup").await;
    assert_eq!(status["required"], true);
    let token = app
        .setup_token
        .clone()
        .expect("token printed while no user exists");

    // Registration waits for the admin.
    let resp = app
        .post_json(
            "/api/v1/auth/register",
            &json!({"username": "early", "password": PASSWORD}),
        )
        .await;
    assert_eq!(resp.status(), 403);
    assert_eq!(
        resp.json::<Value>().await.unwrap()["code"],
        "setup_required"
    );

    let wrong = app
        .post_json(
            "/api/v1/setup",
            &json!({"token": "nope", "username": "boss", "password": PASSWORD}),
        )
        .await;
    assert_eq!(wrong.status(), 403);
    assert_eq!(
        wrong.json::<Value>().await.unwrap()["code"],
        "invalid_setup_token"
    );

    let ok = app
        .post_json(
            "/api/v1/setup",
            &json!({"token": token, "username": "Boss", "password": PASSWORD}),
        )
        .await;
    assert_eq!(ok.status(), 201);
    let cookies: Vec<String> = ok
        .headers()
        .get_all("set-cookie")
        .iter()
        .map(|v| v.to_str().unwrap().to_owned())
        .collect();
    assert!(
        cookies
            .iter()
            .any(|c| c.starts_with("echochat_access=") && c.contains("HttpOnly")),
        "{cookies:?}"
    );
    let body: Value = ok.json().await.unwrap();
    assert_eq!(body["user"]["username"], "boss");
    assert_eq!(body["user"]["display_name"], "Boss");
    assert_eq!(body["user"]["role"], "admin");
    assert_eq!(body["token_type"], "Bearer");

    let again = app
        .post_json(
            "/api/v1/setup",
            &json!({"token": token, "username": "other", "password": PASSWORD}),
        )
        .await;
    assert_eq!(again.status(), 409);
    let status = app.get_public_json("/api/v1/setup").await;
    assert_eq!(status["required"], false);
}

both_backends!(setup_creates_the_admin_once_with_the_printed_token => super::setup_flow);

db_test!(
    async fn registration_validates_and_folds_case(app) {
        for (name, pass, code) in [
            ("ab", PASSWORD, "invalid_username"),
            ("has space", PASSWORD, "invalid_username"),
            ("x".repeat(33).as_str(), PASSWORD, "invalid_username"),
            ("shorty", "1234567", "invalid_password"),
        ] {
            let resp = app.post_json("/api/v1/auth/register", &json!({"username": name, "password": pass})).await;
            assert_eq!(resp.status(), 422, "{name}");
            assert_eq!(resp.json::<Value>().await.unwrap()["code"], code);
        }
        let long = "p".repeat(1025);
        let resp = app.post_json("/api/v1/auth/register", &json!({"username": "longpass", "password": long})).await;
        assert_eq!(resp.status(), 422);

        let resp = app.post_json("/api/v1/auth/register", &json!({"username": "Alice", "password": PASSWORD})).await;
        assert_eq!(resp.status(), 201);
        let user: Value = resp.json().await.unwrap();
        assert_eq!(user["username"], "alice");
        assert!(user["id"].is_string() && user["created_at"].is_string());
        let dup = app.post_json("/api/v1/auth/register", &json!({"username": "ALICE", "password": PASSWORD})).await;
        assert_eq!(dup.status(), 409);
        assert_eq!(dup.json::<Value>().await.unwrap()["code"], "username_taken");
        // Login is case-insensitive too.
        let resp = app.post_json("/api/v1/auth/login", &json!({"username": "aLiCe", "password": PASSWORD})).await;
        assert_eq!(resp.status(), 200);
    }
);

db_test!(
    async fn unknown_user_and_wrong_password_get_the_same_401(app) {
        app.user("carol").await;
        let a = app.post_json("/api/v1/auth/login", &json!({"username": "carol", "password": "wrong-password"})).await;
        let b = app.post_json("/api/v1/auth/login", &json!({"username": "nobody", "password": "wrong-password"})).await;
        assert_eq!(a.status(), 401);
        assert_eq!(b.status(), 401);
        assert_eq!(a.text().await.unwrap(), b.text().await.unwrap());
    }
);

db_test!(
    async fn access_token_gives_me_and_garbage_is_401(app) {
        let dave = app.user("dave").await;
        let me = app.get_json("/api/v1/users/me", &dave.token).await;
        assert_eq!(me["user"]["username"], "dave");
        assert_eq!(me["user"]["role"], "member");
        assert_eq!(me["permissions"], json!(["rooms.create"]));
        let resp = app.get("/api/v1/users/me", "not.a.jwt").await;
        assert_eq!(resp.status(), 401);
        assert!(resp.json::<Value>().await.unwrap()["code"].is_string());
        let resp = crate::helpers::call(app.http.get(app.url("/api/v1/users/me"))).await;
        assert_eq!(resp.status(), 401);
        assert_eq!(resp.json::<Value>().await.unwrap()["code"], "unauthorized");
    }
);

db_test!(
    async fn refresh_rotates_and_reuse_after_grace_revokes_the_family(app) {
        app.user("erin").await;
        let erin = app.login("erin").await;
        let first = app.post_json("/api/v1/auth/refresh", &json!({"refresh_token": erin.refresh})).await;
        assert_eq!(first.status(), 200);
        let first: Value = first.json().await.unwrap();
        let rotated = first["refresh_token"].as_str().unwrap().to_owned();
        assert_ne!(rotated, erin.refresh);
        assert_eq!(app.get("/api/v1/users/me", first["access_token"].as_str().unwrap()).await.status(), 200);

        // Within the grace window (parallel tabs) the old token still works once more.
        let sibling = app.post_json("/api/v1/auth/refresh", &json!({"refresh_token": erin.refresh})).await;
        assert_eq!(sibling.status(), 200);
    }
);

async fn reuse_revokes(backend: Backend) {
    let app =
        crate::helpers::spawn_app_with(backend, |c| c.auth.refresh_reuse_grace_secs = 0).await;
    let token = app.setup_token.clone().unwrap();
    let resp = app
        .post_json(
            "/api/v1/setup",
            &json!({"token": token, "username": "frank", "password": PASSWORD}),
        )
        .await;
    let session: Value = resp.json().await.unwrap();
    let stolen = session["refresh_token"].as_str().unwrap().to_owned();
    let good: Value = app
        .post_json("/api/v1/auth/refresh", &json!({"refresh_token": stolen}))
        .await
        .json()
        .await
        .unwrap();
    let current = good["refresh_token"].as_str().unwrap().to_owned();
    tokio::time::sleep(std::time::Duration::from_millis(20)).await;
    // The thief replays the rotated token: refused, and the whole session is revoked.
    let replay = app
        .post_json("/api/v1/auth/refresh", &json!({"refresh_token": stolen}))
        .await;
    assert_eq!(replay.status(), 401);
    let replay: Value = replay.json().await.unwrap();
    assert_eq!(replay["code"], "session_ended");
    assert_eq!(replay["reason"], "token_reuse");
    let victim = app
        .post_json("/api/v1/auth/refresh", &json!({"refresh_token": current}))
        .await;
    assert_eq!(victim.status(), 401);
}

both_backends!(reuse_of_a_rotated_refresh_token_revokes_the_session => super::reuse_revokes);

db_test!(
    async fn browser_cookies_work_and_foreign_origins_are_refused(app) {
        app.user("gina").await;
        let browser = reqwest::Client::builder().cookie_store(true).build().unwrap();
        let origin = app.base.clone();
        let login = call(
            browser
                .post(app.url("/api/v1/auth/login"))
                .header("origin", &origin)
                .json(&json!({"username": "gina", "password": PASSWORD})),
        )
        .await;
        assert_eq!(login.status(), 200);
        let me = call(browser.get(app.url("/api/v1/users/me"))).await;
        assert_eq!(me.status(), 200, "cookie authenticates GET");

        let room = json!({"name": "cookie-room", "visibility": "public"});
        let evil = call(browser.post(app.url("/api/v1/rooms")).header("origin", "http://evil.example").json(&room)).await;
        assert_eq!(evil.status(), 403);
        assert_eq!(evil.json::<Value>().await.unwrap()["code"], "origin_mismatch");
        let missing = call(browser.post(app.url("/api/v1/rooms")).json(&room)).await;
        assert_eq!(missing.status(), 403, "no Origin on a cookie POST");
        let ok = call(browser.post(app.url("/api/v1/rooms")).header("origin", &origin).json(&room)).await;
        assert_eq!(ok.status(), 201);

        // Cookie refresh (browser sends {}), then logout clears the session.
        let refreshed = call(browser.post(app.url("/api/v1/auth/refresh")).header("origin", &origin).json(&json!({}))).await;
        assert_eq!(refreshed.status(), 200);
        let out = call(browser.post(app.url("/api/v1/auth/logout")).header("origin", &origin).json(&json!({}))).await;
        assert_eq!(out.status(), 204);
        assert_eq!(call(browser.get(app.url("/api/v1/users/me"))).await.status(), 401);
        let again = call(browser.post(app.url("/api/v1/auth/refresh")).header("origin", &origin).json(&json!({}))).await;
        assert_eq!(again.status(), 401);
    }
);

db_test!(
    async fn logout_revokes_the_refresh_token(app) {
        app.user("hank").await;
        let hank = app.login("hank").await;
        let out = app.post_json("/api/v1/auth/logout", &json!({"refresh_token": hank.refresh})).await;
        assert_eq!(out.status(), 204);
        let refresh = app.post_json("/api/v1/auth/refresh", &json!({"refresh_token": hank.refresh})).await;
        assert_eq!(refresh.status(), 401);
    }
);

async fn closed_registration(backend: Backend) {
    let app = crate::helpers::spawn_app_with(backend, |c| {
        c.registration = echochat::config::Registration::Closed
    })
    .await;
    let token = app.setup_token.clone().unwrap();
    assert_eq!(
        app.post_json(
            "/api/v1/setup",
            &json!({"token": token, "username": "root", "password": PASSWORD})
        )
        .await
        .status(),
        201
    );
    let resp = app
        .post_json(
            "/api/v1/auth/register",
            &json!({"username": "ivan", "password": PASSWORD}),
        )
        .await;
    assert_eq!(resp.status(), 403);
    assert_eq!(
        resp.json::<Value>().await.unwrap()["code"],
        "registration_closed"
    );
}

both_backends!(closed_registration_refuses_new_accounts => super::closed_registration);
