//! Blocking: DMs refused both ways (open and send, REST and WebSocket), friendships and
//! requests ended, invitations and friend requests from the blocked side going nowhere, and
//! the block told to the blocker's connections only.

use reqwest::Method;
use serde_json::{Value, json};

use crate::{
    db_test,
    friends::{bare, befriend, frames_until, refused, request},
    helpers::{TestApp, TestUser},
};

async fn open_dm(app: &TestApp, from: &TestUser, to: &str) -> reqwest::StatusCode {
    app.post_auth("/api/v1/dms", &from.token, &json!({ "username": to }))
        .await
        .status()
}

async fn dm_id(app: &TestApp, from: &TestUser, to: &str) -> String {
    let resp = app
        .post_auth("/api/v1/dms", &from.token, &json!({ "username": to }))
        .await;
    assert!(resp.status().is_success());
    let body: Value = resp.json().await.unwrap();
    body["id"].as_str().unwrap().to_owned()
}

async fn send_rest(app: &TestApp, user: &TestUser, dm: &str, body: &str) -> reqwest::StatusCode {
    app.post_auth(
        &format!("/api/v1/conversations/{dm}/messages"),
        &user.token,
        &json!({ "body": body }),
    )
    .await
    .status()
}

db_test! {
    async fn a_block_closes_dms_both_ways_and_ends_the_friendship(app) {
        let alice = app.user("alice").await;
        let bob = app.user("bob").await;
        let dm = dm_id(&app, &alice, "bob").await;
        befriend(&app, &alice, &bob).await;
        let (mut alice_ws, _) = app.ws(&alice).await;
        let (mut bob_ws, _) = app.ws(&bob).await;

        // Bob blocks alice: 200 with alice; the friendship ends for both; only bob hears of the block.
        let block = format!("/api/v1/blocks/{}", alice.id);
        let resp = bare(&app, Method::PUT, &block, &bob.token).await;
        assert_eq!(resp.status(), 200);
        let blocked: Value = resp.json().await.unwrap();
        assert_eq!(blocked["user"]["username"], "alice");
        assert_eq!(bob_ws.expect("friend_removed").await["user_id"], alice.id.as_str());
        let changed = bob_ws.expect("block_changed").await;
        assert_eq!(changed["user"]["id"], alice.id.as_str());
        assert_eq!(changed["blocked"], true);
        assert_eq!(alice_ws.expect("friend_removed").await["user_id"], bob.id.as_str());
        for user in [&alice, &bob] {
            let lists = app.get_json("/api/v1/friends", &user.token).await;
            assert_eq!(lists["friends"], json!([]));
        }
        // Idempotent.
        assert_eq!(bare(&app, Method::PUT, &block, &bob.token).await.status(), 200);
        let list = app.get_json("/api/v1/blocks", &bob.token).await;
        assert_eq!(list["blocked"].as_array().unwrap().len(), 1);
        assert_eq!(list["blocked"][0]["user"]["id"], alice.id.as_str());
        assert_eq!(app.get_json("/api/v1/blocks", &alice.token).await["blocked"], json!([]));

        // DMs: open and send refused both ways, REST and WebSocket; history stays readable.
        let resp = app.post_auth("/api/v1/dms", &alice.token, &json!({"username": "bob"})).await;
        assert_eq!(resp.status(), 403);
        let body: Value = resp.json().await.unwrap();
        assert_eq!(body["code"], "blocked");
        assert_eq!(body["message"], "this user does not accept your messages");
        let resp = app.post_auth("/api/v1/dms", &bob.token, &json!({"username": "alice"})).await;
        let body: Value = resp.json().await.unwrap();
        assert_eq!(body["code"], "blocked");
        assert_eq!(body["message"], "you blocked this user");
        assert_eq!(send_rest(&app, &alice, &dm, "hello?").await, 403);
        let resp = app
            .post_auth(&format!("/api/v1/conversations/{dm}/messages"), &bob.token, &json!({"body": "x"}))
            .await;
        assert_eq!(refused(resp, 403).await, "blocked");
        alice_ws
            .send_json(json!({"type": "send", "conversation_id": dm, "client_id": "c-1", "body": "hi"}))
            .await;
        let error = alice_ws.expect("error").await;
        assert_eq!(error["code"], "blocked");
        assert_eq!(error["client_id"], "c-1");
        bob_ws
            .send_json(json!({"type": "send", "conversation_id": dm, "client_id": "c-2", "body": "hi"}))
            .await;
        let error = bob_ws.expect("error").await;
        assert_eq!(error["code"], "blocked");
        assert_eq!(error["client_id"], "c-2");
        let history = app.get_json(&format!("/api/v1/conversations/{dm}/messages"), &alice.token).await;
        assert_eq!(history["messages"], json!([]));
        let view = app.get_json(&format!("/api/v1/conversations/{dm}"), &alice.token).await;
        let permissions = view["permissions"].as_array().unwrap();
        assert!(!permissions.contains(&json!("message.send")), "{view}");
        assert!(permissions.contains(&json!("conversation.read")), "{view}");

        // Unblock: 204 (also when repeated); DMs work again; bob is told, alice is not.
        assert_eq!(bare(&app, Method::DELETE, &block, &bob.token).await.status(), 204);
        let changed = bob_ws.expect("block_changed").await;
        assert_eq!(changed["blocked"], false);
        assert_eq!(bare(&app, Method::DELETE, &block, &bob.token).await.status(), 204);
        assert_eq!(send_rest(&app, &alice, &dm, "hello again").await, 201);
        assert_eq!(open_dm(&app, &bob, "alice").await, 200);
        let seen = frames_until(&mut alice_ws, "message").await;
        assert!(seen.iter().all(|f| f["type"] != "block_changed"), "{seen:?}");
        let view = app.get_json(&format!("/api/v1/conversations/{dm}"), &alice.token).await;
        assert!(view["permissions"].as_array().unwrap().contains(&json!("message.send")));

        // Audited: user.blocked and user.unblocked with bob as actor and alice as target.
        let admin = app.login("admin").await;
        for action in ["user.blocked", "user.unblocked"] {
            let page = app
                .get_json(&format!("/api/v1/admin/audit?action={action}"), &admin.token)
                .await;
            let entries = page["entries"].as_array().unwrap();
            assert_eq!(entries.len(), 1, "{action}: {page}");
            assert_eq!(entries[0]["actor_id"], bob.id.as_str(), "{page}");
        }
    }
}

db_test! {
    async fn blocked_users_cannot_befriend_or_invite_and_nothing_reveals_it(app) {
        let alice = app.user("alice").await;
        let bob = app.user("bob").await;
        let carol = app.user("carol").await;
        // A pending request from carol ends when bob blocks her: bob sees `blocked`, carol `declined`.
        let (mut carol_ws, _) = app.ws(&carol).await;
        assert_eq!(request(&app, &carol, "bob").await.status(), 202);
        carol_ws.expect("friend_request").await;
        let (mut bob_ws, _) = app.ws(&bob).await;
        assert_eq!(bare(&app, Method::PUT, &format!("/api/v1/blocks/{}", carol.id), &bob.token).await.status(), 200);
        let removed = bob_ws.expect("friend_request_removed").await;
        assert_eq!(removed["reason"], "blocked");
        assert_eq!(removed["direction"], "incoming");
        let removed = carol_ws.expect("friend_request_removed").await;
        assert_eq!(removed["reason"], "declined");
        assert_eq!(removed["direction"], "outgoing");
        assert_eq!(app.get_json("/api/v1/friends", &carol.token).await["outgoing"], json!([]));

        // Bob blocks alice. Her friend request gets the ordinary answer and goes nowhere.
        assert_eq!(bare(&app, Method::PUT, &format!("/api/v1/blocks/{}", alice.id), &bob.token).await.status(), 200);
        bob_ws.expect("block_changed").await;
        bob_ws.expect("block_changed").await;
        let resp = request(&app, &alice, "bob").await;
        assert_eq!(resp.status(), 202);
        let body: Value = resp.json().await.unwrap();
        assert_eq!(body["state"], "pending");
        assert_eq!(body["user"]["username"], "bob");
        assert_eq!(app.get_json("/api/v1/friends", &bob.token).await["incoming"], json!([]));
        // The blocker is told to unblock first.
        assert_eq!(refused(request(&app, &bob, "alice").await, 403).await, "blocked");

        // Her room invitation too: 201 with bob, but no invitation is stored or announced.
        let club = app.room(&alice, "club", "private").await;
        let resp = app
            .post_auth(&format!("/api/v1/rooms/{club}/invites"), &alice.token, &json!({"username": "bob"}))
            .await;
        assert_eq!(resp.status(), 201);
        let body: Value = resp.json().await.unwrap();
        assert_eq!(body["user"]["username"], "bob");
        let mine = app.all_pages("/api/v1/conversations", "conversations", &bob.token).await;
        assert!(mine.iter().all(|c| c["id"] != club.as_str()), "{mine:?}");
        let join = bare(&app, Method::POST, &format!("/api/v1/rooms/{club}/join"), &bob.token).await;
        assert_eq!(refused(join, 404).await, "not_found");
        // The other way round (the inviter blocked the invitee) stores nothing either.
        let den = app.room(&bob, "den", "private").await;
        let resp = app
            .post_auth(&format!("/api/v1/rooms/{den}/invites"), &bob.token, &json!({"username": "alice"}))
            .await;
        assert_eq!(resp.status(), 201);
        let mine = app.all_pages("/api/v1/conversations", "conversations", &alice.token).await;
        assert!(mine.iter().all(|c| c["id"] != den.as_str()));

        // Marker: dave's request and invitation do reach bob, and they are the first he sees.
        let dave = app.user("dave").await;
        let pub_room = app.room(&dave, "pub", "private").await;
        let resp = app
            .post_auth(&format!("/api/v1/rooms/{pub_room}/invites"), &dave.token, &json!({"username": "bob"}))
            .await;
        assert_eq!(resp.status(), 201);
        assert_eq!(request(&app, &dave, "bob").await.status(), 202);
        let seen = frames_until(&mut bob_ws, "friend_request").await;
        assert_eq!(seen.last().unwrap()["user"]["id"], dave.id.as_str());
        let added: Vec<&Value> = seen
            .iter()
            .filter(|f| f["type"] == "conversation_added" && f["conversation"]["membership"] == "invited")
            .collect();
        assert_eq!(added.len(), 1, "{seen:?}");
        assert_eq!(added[0]["conversation"]["id"], pub_room.as_str());
        let incoming = app.get_json("/api/v1/friends", &bob.token).await["incoming"].clone();
        assert_eq!(incoming.as_array().unwrap().len(), 1);
        assert_eq!(incoming[0]["user"]["username"], "dave");
    }
}

db_test! {
    async fn bad_block_input_is_refused(app) {
        let alice = app.user("alice").await;
        let me = format!("/api/v1/blocks/{}", alice.id);
        assert_eq!(refused(bare(&app, Method::PUT, &me, &alice.token).await, 422).await, "cannot_block_self");
        let unknown = "/api/v1/blocks/0190f2c8-0000-7000-8000-000000000000";
        assert_eq!(refused(bare(&app, Method::PUT, unknown, &alice.token).await, 404).await, "not_found");
        assert_eq!(refused(bare(&app, Method::DELETE, unknown, &alice.token).await, 404).await, "not_found");
        assert_eq!(bare(&app, Method::PUT, "/api/v1/blocks/nope", &alice.token).await.status(), 400);
        assert_eq!(app.get_json("/api/v1/blocks", &alice.token).await, json!({"blocked": []}));
    }
}
