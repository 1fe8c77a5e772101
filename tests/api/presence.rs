//! Presence states: online / away / busy / invisible and a custom status text, told live to
//! those who may see it and to my other tabs; auto-away after inactivity on every tab; invisible
//! leaking nothing; `allow_invisible = false`; bad input.
//!
//! Negative checks read every frame up to a positive marker that travels the same path after
//! the event under test: a message in a room the watcher is in (through the event bus, after
//! the presence event), or a `pong` (through the connection's own queue).

use std::time::Duration;

use serde_json::{Value, json};

use crate::{
    db_test,
    helpers::{Backend, TestApp, TestUser, WsClient, spawn_ready_app_with},
};

/// Every frame `ws` receives before the first one of type `marker` (which is consumed).
pub async fn frames_until(ws: &mut WsClient, marker: &str) -> Vec<Value> {
    let mut seen = Vec::new();
    loop {
        let frame = ws.next_json().await;
        if frame["type"] == marker {
            return seen;
        }
        seen.push(frame);
    }
}

/// Skips frames until one of type `kind` for which `pred` holds.
pub async fn expect_where(ws: &mut WsClient, kind: &str, pred: impl Fn(&Value) -> bool) -> Value {
    loop {
        let frame = ws.expect(kind).await;
        if pred(&frame) {
            return frame;
        }
    }
}

/// Frames that would reveal `user_id` to their receiver: presence saying anything but offline,
/// typing, or a member joining with a status other than offline.
pub fn revealing(frames: &[Value], user_id: &str) -> Vec<Value> {
    frames
        .iter()
        .filter(|f| {
            let about = f["user_id"] == user_id || f["user"]["id"] == user_id;
            about
                && match f["type"].as_str() {
                    Some("presence") => f["status"] != "offline",
                    Some("typing") => true,
                    Some("member_joined") => f["status"] != "offline",
                    _ => false,
                }
        })
        .cloned()
        .collect()
}

/// Sends a message from `from` into `room` and returns everything `ws` got before it: a marker
/// that passes through the event bus after whatever was published before it.
pub async fn through_bus(
    app: &TestApp,
    from: &TestUser,
    room: &str,
    ws: &mut WsClient,
) -> Vec<Value> {
    app.send(from, room, "marker").await;
    frames_until(ws, "message").await
}

/// Opens the DM between `a` and `b`; returns its id.
pub async fn dm(app: &TestApp, a: &TestUser, b: &TestUser) -> String {
    let resp = app
        .post_auth("/api/v1/dms", &a.token, &json!({"username": b.username}))
        .await;
    assert!(resp.status().is_success(), "{}", resp.status());
    let body: Value = resp.json().await.unwrap();
    body["id"].as_str().unwrap().to_owned()
}

async fn set_presence(app: &TestApp, user: &TestUser, body: Value) -> (u16, Value) {
    let resp = app
        .send_auth(reqwest::Method::PUT, "/api/v1/presence", &user.token, &body)
        .await;
    let status = resp.status().as_u16();
    (status, resp.json().await.unwrap_or(Value::Null))
}

async fn quick_app(backend: Backend) -> TestApp {
    spawn_ready_app_with(backend, |c| c.presence.auto_away_minutes = 0.0).await
}

mod states {
    use super::*;

    async fn run(backend: Backend) {
        let app = quick_app(backend).await;
        let alice = app.user("alice").await;
        let bob = app.user("bob").await;
        let conversation = dm(&app, &alice, &bob).await;
        let (mut bob_ws, _) = app.ws(&bob).await;
        let (mut tab1, ready) = app.ws(&alice).await;
        assert_eq!(ready["my_presence"]["choice"], "online");
        assert_eq!(ready["my_presence"]["status"], "online");
        assert_eq!(ready["my_presence"]["allow_invisible"], true);
        assert!(
            ready["presence"]
                .as_array()
                .unwrap()
                .iter()
                .any(|p| p["user_id"] == bob.id && p["status"] == "online"),
            "{ready}"
        );
        let (mut tab2, _) = app.ws(&alice).await;
        let online = bob_ws.expect("presence").await;
        assert_eq!(
            (online["user_id"].as_str(), online["status"].as_str()),
            (Some(alice.id.as_str()), Some("online"))
        );

        for (choice, text) in [("away", "back soon"), ("busy", "in a meeting 🧑‍💻")] {
            let (code, mine) =
                set_presence(&app, &alice, json!({"choice": choice, "status_text": text})).await;
            assert_eq!(code, 200, "{mine}");
            assert_eq!(
                (mine["choice"].as_str(), mine["status"].as_str()),
                (Some(choice), Some(choice))
            );
            let seen = bob_ws.expect("presence").await;
            assert_eq!(seen["status"], choice);
            assert_eq!(seen["status_text"], text);
            for tab in [&mut tab1, &mut tab2] {
                let mine = expect_where(tab, "my_presence", |f| f["choice"] == choice).await;
                assert_eq!(
                    (mine["choice"].as_str(), mine["status_text"].as_str()),
                    (Some(choice), Some(text))
                );
            }
        }
        // The text alone changes: told too; "" clears it.
        set_presence(&app, &alice, json!({"status_text": ""})).await;
        let seen = bob_ws.expect("presence").await;
        assert_eq!(seen["status"], "busy");
        assert!(seen.get("status_text").is_none(), "{seen}");
        let mine = app.get_json("/api/v1/presence", &alice.token).await;
        assert_eq!(mine["choice"], "busy");
        assert_eq!(mine["status"], "busy");
        assert!(mine.get("status_text").is_none());
        // Member lists show it; the choice survives a reconnect.
        let members = app
            .get_json(
                &format!("/api/v1/conversations/{conversation}/members"),
                &bob.token,
            )
            .await;
        let entry = members["members"]
            .as_array()
            .unwrap()
            .iter()
            .find(|m| m["user_id"] == alice.id)
            .cloned()
            .unwrap();
        assert_eq!(entry["status"], "busy");
        drop((tab1, tab2));
        let offline = bob_ws.expect("presence").await;
        assert_eq!(offline["status"], "offline");
        let (_tab3, ready) = app.ws(&alice).await;
        assert_eq!(ready["my_presence"]["choice"], "busy");
        let back = bob_ws.expect("presence").await;
        assert_eq!(back["status"], "busy");
    }

    crate::both_backends!(choices_and_status_text_reach_peers_and_my_other_tabs => super::run);
}

db_test!(
    async fn invisible_leaks_nothing_and_still_receives_everything(app) {
        let alice = app.user("alice").await;
        let bob = app.user("bob").await;
        let carol = app.user("carol").await;
        let lobby = app.lobby(&carol).await;
        let conversation = dm(&app, &alice, &bob).await;
        // Carol watches Lobby's member list: a public-room audience of alice's presence.
        let (mut carol_ws, _) = app.ws(&carol).await;
        carol_ws.send_json(json!({"type": "watch", "conversation_id": lobby})).await;
        carol_ws.expect("watching").await;
        let (mut bob_ws, _) = app.ws(&bob).await;
        let (code, _) = set_presence(&app, &alice, json!({"choice": "invisible"})).await;
        assert_eq!(code, 200);

        // Connecting, typing, reading, reconnecting and leaving tell nobody anything.
        let (mut alice_ws, ready) = app.ws(&alice).await;
        assert_eq!(ready["my_presence"]["choice"], "invisible");
        assert_eq!(ready["my_presence"]["status"], "offline");
        alice_ws.send_json(json!({"type": "typing", "conversation_id": conversation})).await;
        alice_ws.send_json(json!({"type": "read", "conversation_id": conversation, "seq": 0})).await;
        alice_ws.send_json(json!({"type": "activity"})).await;
        alice_ws.send_json(json!({"type": "ping"})).await;
        alice_ws.expect("pong").await;
        let (second, _) = app.ws(&alice).await;
        drop(second);
        for ws in [&mut bob_ws, &mut carol_ws] {
            let frames = through_bus(&app, &carol, &lobby, ws).await;
            assert!(revealing(&frames, &alice.id).is_empty(), "{frames:?}");
        }
        let members = app
            .get_json(&format!("/api/v1/conversations/{conversation}/members"), &bob.token)
            .await;
        assert!(
            members["members"].as_array().unwrap().iter().any(|m| m["user_id"] == alice.id && m["status"] == "offline"),
            "{members}"
        );
        let (_, bob_ready) = app.ws(&bob).await;
        assert!(!bob_ready["online"].as_array().unwrap().iter().any(|id| id == alice.id.as_str()));

        // Alice still receives everything.
        app.send(&bob, &conversation, "hello, anyone?").await;
        expect_where(&mut alice_ws, "message", |f| f["message"]["body"] == "hello, anyone?").await;
        bob_ws.send_json(json!({"type": "typing", "conversation_id": conversation})).await;
        alice_ws.expect("typing").await;

        // Leaving while invisible: no offline frame either (nothing was shown).
        drop(alice_ws);
        let frames = through_bus(&app, &carol, &lobby, &mut bob_ws).await;
        assert!(
            !frames.iter().any(|f| f["type"] == "presence" && f["user_id"] == alice.id),
            "{frames:?}"
        );
        // Becoming visible is the first thing bob hears.
        let (_alice_ws, _) = app.ws(&alice).await;
        set_presence(&app, &alice, json!({"choice": "online"})).await;
        let seen = bob_ws.expect("presence").await;
        assert_eq!((seen["user_id"].as_str(), seen["status"].as_str()), (Some(alice.id.as_str()), Some("online")));
    }
);

db_test!(
    async fn strangers_outside_any_shared_conversation_get_nothing(app) {
        let alice = app.user("alice").await;
        let bob = app.user("bob").await;
        let eve = app.user("eve").await;
        let lobby = app.lobby(&eve).await;
        dm(&app, &alice, &bob).await;
        let (mut eve_ws, _) = app.ws(&eve).await;
        let (mut bob_ws, _) = app.ws(&bob).await;
        let (_alice_ws, _) = app.ws(&alice).await;
        set_presence(&app, &alice, json!({"choice": "busy", "status_text": "secret plans"})).await;
        let seen = bob_ws.expect("presence").await;
        assert_eq!(seen["user_id"], alice.id);
        let frames = through_bus(&app, &bob, &lobby, &mut eve_ws).await;
        assert!(
            !frames.iter().any(|f| f["type"] == "presence" && f["user_id"] == alice.id),
            "eve shares only the public Lobby (not watched): {frames:?}"
        );
    }
);

mod auto_away {
    use super::*;

    async fn run(backend: Backend) {
        // 0.6 s without activity on every tab.
        let app = spawn_ready_app_with(backend, |c| c.presence.auto_away_minutes = 0.01).await;
        let alice = app.user("alice").await;
        let bob = app.user("bob").await;
        dm(&app, &alice, &bob).await;
        let (mut bob_ws, _) = app.ws(&bob).await;
        let (mut idle_tab, ready) = app.ws(&alice).await;
        assert_eq!(ready["my_presence"]["auto_away_secs"], 1);
        let (mut busy_tab, _) = app.ws(&alice).await;
        assert_eq!(bob_ws.expect("presence").await["status"], "online");
        // One tab stays active for 2 s (over three auto-away periods): alice stays online.
        let until = tokio::time::Instant::now() + Duration::from_secs(2);
        while tokio::time::Instant::now() < until {
            busy_tab.send_json(json!({"type": "activity"})).await;
            tokio::time::sleep(Duration::from_millis(150)).await;
        }
        let mine = app.get_json("/api/v1/presence", &alice.token).await;
        assert_eq!(mine["status"], "online", "the most present tab wins");
        // Both idle: away, told to bob and to both tabs.
        let away = bob_ws.expect("presence").await;
        assert_eq!(away["status"], "away");
        for tab in [&mut idle_tab, &mut busy_tab] {
            let mine = expect_where(tab, "my_presence", |f| f["status"] == "away").await;
            assert_eq!(
                (mine["choice"].as_str(), mine["status"].as_str()),
                (Some("online"), Some("away"))
            );
        }
        // Activity in either tab ends it at once.
        idle_tab.send_json(json!({"type": "activity"})).await;
        assert_eq!(bob_ws.expect("presence").await["status"], "online");
        // A chosen busy never turns away by itself.
        set_presence(&app, &alice, json!({"choice": "busy"})).await;
        assert_eq!(bob_ws.expect("presence").await["status"], "busy");
        tokio::time::sleep(Duration::from_millis(1500)).await;
        let mine = app.get_json("/api/v1/presence", &alice.token).await;
        assert_eq!(mine["status"], "busy");
    }

    crate::both_backends!(away_after_inactivity_on_every_tab_and_back_on_activity => super::run);
}

mod invisible_disallowed {
    use super::*;

    async fn run(backend: Backend) {
        let mut app = quick_app(backend).await;
        let alice = app.user("alice").await;
        let (code, _) = set_presence(
            &app,
            &alice,
            json!({"choice": "invisible", "status_text": "shh"}),
        )
        .await;
        assert_eq!(code, 200);
        app.config.presence.allow_invisible = false;
        app.restart().await;
        let (code, body) = set_presence(&app, &alice, json!({"choice": "invisible"})).await;
        assert_eq!(
            (code, body["code"].as_str()),
            (403, Some("invisible_disabled"))
        );
        let mine = app.get_json("/api/v1/presence", &alice.token).await;
        assert_eq!(mine["allow_invisible"], false);
        // The stored invisible becomes online at the next connection, with a notice, once.
        let (_ws, ready) = app.ws(&alice).await;
        assert_eq!(ready["notices"], json!(["invisible_disabled"]));
        assert_eq!(ready["my_presence"]["choice"], "online");
        assert_eq!(ready["my_presence"]["status_text"], "shh");
        let (_ws2, ready) = app.ws(&alice).await;
        assert_eq!(ready["notices"], json!([]));
        let mine = app.get_json("/api/v1/presence", &alice.token).await;
        assert_eq!(mine["choice"], "online");
    }

    crate::both_backends!(allow_invisible_false_refuses_it_and_resets_it_with_a_notice => super::run);
}

db_test!(
    async fn bad_presence_input_is_refused_and_changes_nothing(app) {
        let alice = app.user("alice").await;
        set_presence(&app, &alice, json!({"choice": "away", "status_text": "lunch"})).await;
        let long = "x".repeat(129);
        for (body, status, code) in [
            (json!({"status_text": long}), 422, "invalid_status_text"),
            (json!({"status_text": "a\u{202E}b"}), 422, "invalid_status_text"),
            (json!({"status_text": "a\u{2067}b"}), 422, "invalid_status_text"),
            (json!({"status_text": "bell\u{0007}"}), 422, "invalid_status_text"),
            (json!({"status_text": "two\nlines"}), 422, "invalid_status_text"),
            (json!({"choice": "invisible", "status_text": "a\u{202E}b"}), 422, "invalid_status_text"),
        ] {
            let (got, body_back) = set_presence(&app, &alice, body.clone()).await;
            assert_eq!((got, body_back["code"].as_str()), (status, Some(code)), "{body}");
        }
        for body in [
            json!({"choice": "dancing"}),
            json!({"choice": "offline"}),
            json!({"status_text": 5}),
            json!({"status_text": null}),
            json!({"mood": "happy"}),
        ] {
            let (got, body_back) = set_presence(&app, &alice, body.clone()).await;
            assert_eq!(got, 400, "{body} → {body_back}");
            assert!(body_back["code"].is_string(), "{body_back}");
        }
        let mine = app.get_json("/api/v1/presence", &alice.token).await;
        assert_eq!((mine["choice"].as_str(), mine["status_text"].as_str()), (Some("away"), Some("lunch")));
        let (got, _) = set_presence(&app, &alice, json!({"status_text": "x".repeat(128)})).await;
        assert_eq!(got, 200);
        let resp = app.get("/api/v1/presence", "not-a-token").await;
        assert_eq!(resp.status(), 401);
    }
);

db_test!(
    async fn friends_see_presence_and_a_block_hides_it_both_ways(app) {
        let alice = app.user("alice").await;
        let bob = app.user("bob").await;
        let mallory = app.user("mallory").await;
        let lobby = app.lobby(&bob).await;
        let conversation = dm(&app, &alice, &mallory).await;
        let (mut alice_ws, _) = app.ws(&alice).await;
        let (mut bob_ws, _) = app.ws(&bob).await;
        let (mut mallory_ws, _) = app.ws(&mallory).await;
        // Friends who share nothing but the (unwatched) Lobby see each other once friends.
        let resp = app
            .post_auth("/api/v1/friends/requests", &bob.token, &json!({"username": "alice"}))
            .await;
        assert_eq!(resp.status(), 202);
        let resp = app
            .post_auth(&format!("/api/v1/friends/requests/{}/accept", bob.id), &alice.token, &json!({}))
            .await;
        assert_eq!(resp.status(), 200);
        let seen = expect_where(&mut bob_ws, "presence", |f| f["user_id"] == alice.id).await;
        assert_eq!(seen["status"], "online");
        expect_where(&mut alice_ws, "presence", |f| f["user_id"] == bob.id).await;
        let (_, ready) = app.ws(&bob).await;
        assert!(ready["presence"].as_array().unwrap().iter().any(|p| p["user_id"] == alice.id), "{ready}");

        // Mallory (a DM peer) sees alice until alice blocks her: then alice looks offline to
        // her, and alice's changes reach bob but not mallory.
        set_presence(&app, &alice, json!({"choice": "busy"})).await;
        assert_eq!(expect_where(&mut mallory_ws, "presence", |f| f["user_id"] == alice.id).await["status"], "busy");
        let resp = app
            .send_auth(reqwest::Method::PUT, &format!("/api/v1/blocks/{}", mallory.id), &alice.token, &json!({}))
            .await;
        assert_eq!(resp.status(), 200);
        let hidden = expect_where(&mut mallory_ws, "presence", |f| f["user_id"] == alice.id).await;
        assert_eq!(hidden["status"], "offline");
        set_presence(&app, &alice, json!({"choice": "away", "status_text": "gone fishing"})).await;
        let seen = expect_where(&mut bob_ws, "presence", |f| f["user_id"] == alice.id && f["status"] != "busy").await;
        assert_eq!(seen["status"], "away");
        let frames = through_bus(&app, &bob, &lobby, &mut mallory_ws).await;
        assert!(
            !frames.iter().any(|f| f["type"] == "presence" && f["user_id"] == alice.id),
            "the blocked user gets nothing: {frames:?}"
        );
        // Typing does not cross the block either way (the DM stays open).
        alice_ws.send_json(json!({"type": "typing", "conversation_id": conversation})).await;
        alice_ws.send_json(json!({"type": "ping"})).await;
        alice_ws.expect("pong").await;
        mallory_ws.send_json(json!({"type": "typing", "conversation_id": conversation})).await;
        mallory_ws.send_json(json!({"type": "ping"})).await;
        let frames = frames_until(&mut mallory_ws, "pong").await;
        assert!(!frames.iter().any(|f| f["type"] == "typing"), "{frames:?}");
        let frames = through_bus(&app, &bob, &lobby, &mut alice_ws).await;
        assert!(!frames.iter().any(|f| f["type"] == "typing"), "{frames:?}");
        // Blocking a stranger tells the stranger nothing.
        let eve = app.user("eve").await;
        let (mut eve_ws, _) = app.ws(&eve).await;
        let resp = app
            .send_auth(reqwest::Method::PUT, &format!("/api/v1/blocks/{}", eve.id), &alice.token, &json!({}))
            .await;
        assert_eq!(resp.status(), 200);
        let frames = through_bus(&app, &bob, &lobby, &mut eve_ws).await;
        assert!(!frames.iter().any(|f| f["type"] == "presence"), "{frames:?}");
        // Neither sees the other: member lists and ready say offline / nothing.
        for (viewer, other) in [(&mallory, &alice), (&alice, &mallory)] {
            let members = app
                .get_json(&format!("/api/v1/conversations/{conversation}/members"), &viewer.token)
                .await;
            let entry = members["members"].as_array().unwrap().iter().find(|m| m["user_id"] == other.id).cloned().unwrap();
            assert_eq!(entry["status"], "offline", "{viewer:?} sees {other:?}");
        }
        let (_, ready) = app.ws(&mallory).await;
        assert!(!ready["online"].as_array().unwrap().iter().any(|id| id == alice.id.as_str()));
        // Unblocking shows alice again.
        let resp = app
            .send_auth(reqwest::Method::DELETE, &format!("/api/v1/blocks/{}", mallory.id), &alice.token, &json!({}))
            .await;
        assert_eq!(resp.status(), 204);
        let back = expect_where(&mut mallory_ws, "presence", |f| f["user_id"] == alice.id && f["status"] != "offline").await;
        assert_eq!((back["status"].as_str(), back["status_text"].as_str()), (Some("away"), Some("gone fishing")));
    }
);
