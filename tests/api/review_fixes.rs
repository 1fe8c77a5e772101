//! Regression tests for defects found in review: session end, ordering, atomic DMs, idempotency
//! key reuse, control characters, Origin scheme, official-room adoption.

use std::time::Duration;

use serde_json::{Value, json};

use crate::{
    db_test,
    helpers::{PASSWORD, call},
};

db_test!(
    async fn logout_ends_the_session_everywhere(app) {
        app.user("lou").await;
        let lou = app.login("lou").await;
        let rotated: Value = app.post_json("/api/v1/auth/refresh", &json!({"refresh_token": lou.refresh})).await.json().await.unwrap();
        let current = rotated["refresh_token"].as_str().unwrap().to_owned();
        let (mut ws, _) = app.ws(&lou).await;

        assert_eq!(app.post_json("/api/v1/auth/logout", &json!({"refresh_token": current})).await.status(), 204);
        // The open socket is closed (1008), the access token is refused at once, and no token of
        // the family refreshes any more, not even the older one inside its grace window.
        assert_eq!(ws.close_code().await, Some(1008));
        assert_eq!(app.get("/api/v1/users/me", &lou.token).await.status(), 401);
        let old = app.post_json("/api/v1/auth/refresh", &json!({"refresh_token": lou.refresh})).await;
        assert_eq!(old.status(), 401);
        // Other sessions of the same user live on.
        let other = app.login("lou").await;
        assert_eq!(app.get("/api/v1/users/me", &other.token).await.status(), 200);
    }
);

db_test!(
    async fn pipelined_sends_on_one_socket_keep_their_order(app) {
        let a = app.user("ora").await;
        let lobby = app.lobby(&a).await;
        let (mut ws, _) = app.ws(&a).await;
        for i in 0..60 {
            ws.send_json(json!({"type": "send", "conversation_id": lobby, "client_id": format!("o{i}"), "body": format!("line {i}")})).await;
        }
        let page = loop {
            let page = app.get_json(&format!("/api/v1/conversations/{lobby}/messages?limit=100"), &a.token).await;
            if page["messages"].as_array().unwrap().len() == 60 {
                break page;
            }
            tokio::time::sleep(Duration::from_millis(50)).await;
        };
        let bodies: Vec<&str> = page["messages"].as_array().unwrap().iter().map(|m| m["body"].as_str().unwrap()).collect();
        let expected: Vec<String> = (0..60).map(|i| format!("line {i}")).collect();
        assert_eq!(bodies, expected);
    }
);

db_test!(
    async fn concurrent_dm_opens_all_get_the_same_conversation(app) {
        let a = app.user("dora").await;
        app.user("dirk").await;
        let opens = (0..6).map(|_| async { app.post_auth("/api/v1/dms", &a.token, &json!({"username": "dirk"})).await });
        let responses = futures_util::future::join_all(opens).await;
        let mut ids = Vec::new();
        for resp in responses {
            assert!(resp.status() == 200 || resp.status() == 201, "{}", resp.status());
            let body: Value = resp.json().await.unwrap();
            assert_eq!(body["member_count"], 2);
            ids.push(body["id"].as_str().unwrap().to_owned());
        }
        ids.dedup();
        assert_eq!(ids.len(), 1, "{ids:?}");
    }
);

db_test!(
    async fn a_client_id_reused_for_another_message_is_a_conflict(app) {
        let a = app.user("rex").await;
        let lobby = app.lobby(&a).await;
        let other = app.room(&a, "Elsewhere", "public").await;
        let first = app.post_auth(&format!("/api/v1/conversations/{lobby}/messages"), &a.token, &json!({"body": "one", "client_id": "c-9"})).await;
        assert_eq!(first.status(), 201);
        let moved = app.post_auth(&format!("/api/v1/conversations/{other}/messages"), &a.token, &json!({"body": "one", "client_id": "c-9"})).await;
        assert_eq!(moved.status(), 409);
        assert_eq!(moved.json::<Value>().await.unwrap()["code"], "client_id_reused");
        let changed = app.post_auth(&format!("/api/v1/conversations/{lobby}/messages"), &a.token, &json!({"body": "two", "client_id": "c-9"})).await;
        assert_eq!(changed.status(), 409);
    }
);

db_test!(
    async fn control_characters_are_refused_not_stored(app) {
        let a = app.user("nul").await;
        let lobby = app.lobby(&a).await;
        let resp = app.post_auth(&format!("/api/v1/conversations/{lobby}/messages"), &a.token, &json!({"body": "hi\u{0}there"})).await;
        assert_eq!(resp.status(), 422);
        let resp = app.get("/api/v1/rooms?q=%00", &a.token).await;
        assert_eq!(resp.status(), 422);
        let resp = app.post_json("/api/v1/auth/register", &json!({"username": "nul2", "password": PASSWORD, "email": "a\u{0}@b"})).await;
        assert_eq!(resp.status(), 422);
        assert_eq!(app.send(&a, &lobby, "multi\nline\ttext").await["body"], "multi\nline\ttext");
    }
);

db_test!(
    async fn the_origin_scheme_must_match_too(app) {
        app.user("sue").await;
        let browser = reqwest::Client::builder().cookie_store(true).build().unwrap();
        let login = call(browser.post(app.url("/api/v1/auth/login")).json(&json!({"username": "sue", "password": PASSWORD}))).await;
        assert_eq!(login.status(), 200);
        let room = json!({"name": "schemes", "visibility": "public"});
        let host = app.base.trim_start_matches("http://").to_owned();
        for origin in [format!("https://{host}"), format!("ftp://{host}"), "null".to_owned()] {
            let resp = call(browser.post(app.url("/api/v1/rooms")).header("origin", &origin).json(&room)).await;
            assert_eq!(resp.status(), 403, "{origin}");
        }
        let behind_tls = call(
            browser
                .post(app.url("/api/v1/rooms"))
                .header("origin", format!("https://{host}"))
                .header("x-forwarded-proto", "https")
                .json(&room),
        )
        .await;
        assert_eq!(behind_tls.status(), 201, "a TLS proxy sets X-Forwarded-Proto");
    }
);

db_test!(
    async fn an_official_room_never_adopts_a_users_private_room(app) {
        let a = app.user("pia").await;
        let room = app.room(&a, "Announcements", "private").await;
        app.config.official_rooms.push(echochat::config::OfficialRoom {
            name: "announcements".into(),
            category: None,
            topic: None,
            auto_join: true,
        });
        app.restart().await;
        let a = app.login("pia").await;
        let view = app.get_json(&format!("/api/v1/conversations/{room}"), &a.token).await;
        assert_eq!(view["visibility"], "private");
        assert_eq!(view["official"], false);
        let b = app.user("newcomer").await;
        let listed = app.get_json("/api/v1/rooms?q=announce", &b.token).await;
        assert_eq!(listed, json!({"rooms": []}));
    }
);
