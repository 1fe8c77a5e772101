//! Friends: the request lifecycle (request, accept, decline, cancel, remove, crossing requests),
//! live frames on both sides, bad input, and the spam protection (pending cap, rate limit).

use echochat::config::Rate;
use reqwest::Method;
use serde_json::{Value, json};

use crate::{
    both_backends, db_test,
    helpers::{Backend, TestApp, TestResponse, TestUser, WsClient, call, spawn_ready_app_with},
};

/// `POST /friends/requests` as `from` to `username`.
pub async fn request(app: &TestApp, from: &TestUser, username: &str) -> TestResponse {
    app.post_auth(
        "/api/v1/friends/requests",
        &from.token,
        &json!({ "username": username }),
    )
    .await
}

/// A request with `method` and no body.
pub async fn bare(app: &TestApp, method: Method, path: &str, token: &str) -> TestResponse {
    call(app.http.request(method, app.url(path)).bearer_auth(token)).await
}

/// The error code of a refused request, after checking its status.
pub async fn refused(resp: TestResponse, status: u16) -> String {
    assert_eq!(resp.status(), status);
    let body: Value = resp.json().await.expect("json");
    body["code"].as_str().expect("code").to_owned()
}

/// Makes `a` and `b` friends (a asks, b accepts).
pub async fn befriend(app: &TestApp, a: &TestUser, b: &TestUser) {
    assert_eq!(request(app, a, &b.username).await.status(), 202);
    let accepted = bare(
        app,
        Method::POST,
        &format!("/api/v1/friends/requests/{}/accept", a.id),
        &b.token,
    )
    .await;
    assert_eq!(accepted.status(), 200);
}

/// Every frame up to and including the first of type `kind`.
pub async fn frames_until(ws: &mut WsClient, kind: &str) -> Vec<Value> {
    let mut frames = Vec::new();
    loop {
        let frame = ws.next_json().await;
        let done = frame["type"] == kind;
        frames.push(frame);
        if done {
            return frames;
        }
    }
}

/// Usernames in one of the lists of `GET /friends`.
async fn names(app: &TestApp, user: &TestUser, list: &str) -> Vec<String> {
    let body = app.get_json("/api/v1/friends", &user.token).await;
    body[list]
        .as_array()
        .expect("list")
        .iter()
        .map(|f| f["user"]["username"].as_str().expect("username").to_owned())
        .collect()
}

db_test! {
    async fn the_friend_lifecycle_is_live_on_both_sides(app) {
        let alice = app.user("alice").await;
        let bob = app.user("bob").await;
        let carol = app.user("carol").await;
        let (mut alice_ws, _) = app.ws(&alice).await;
        let (mut bob_ws, _) = app.ws(&bob).await;

        // Request: 202 pending, both sides told.
        let resp = request(&app, &alice, "bob").await;
        assert_eq!(resp.status(), 202);
        let body: Value = resp.json().await.unwrap();
        assert_eq!(body["state"], "pending");
        assert_eq!(body["user"]["username"], "bob");
        let out = alice_ws.expect("friend_request").await;
        assert_eq!(out["direction"], "outgoing");
        assert_eq!(out["user"]["id"], bob.id.as_str());
        let inc = bob_ws.expect("friend_request").await;
        assert_eq!(inc["direction"], "incoming");
        assert_eq!(inc["user"]["id"], alice.id.as_str());
        assert_eq!(names(&app, &alice, "outgoing").await, ["bob"]);
        assert_eq!(names(&app, &bob, "incoming").await, ["alice"]);

        // Duplicates.
        assert_eq!(refused(request(&app, &alice, "bob").await, 409).await, "request_pending");

        // Accept: both get friend_added with the other as friend.user.
        let accept = format!("/api/v1/friends/requests/{}/accept", alice.id);
        let resp = bare(&app, Method::POST, &accept, &bob.token).await;
        assert_eq!(resp.status(), 200);
        let friend: Value = resp.json().await.unwrap();
        assert_eq!(friend["user"]["username"], "alice");
        assert!(friend["since"].is_string());
        let added = alice_ws.expect("friend_added").await;
        assert_eq!(added["friend"]["user"]["id"], bob.id.as_str());
        let added = bob_ws.expect("friend_added").await;
        assert_eq!(added["friend"]["user"]["id"], alice.id.as_str());
        assert_eq!(names(&app, &alice, "friends").await, ["bob"]);
        assert_eq!(names(&app, &bob, "friends").await, ["alice"]);
        assert!(names(&app, &bob, "incoming").await.is_empty());
        assert_eq!(refused(request(&app, &bob, "alice").await, 409).await, "already_friends");
        assert_eq!(refused(request(&app, &alice, "bob").await, 409).await, "already_friends");
        assert_eq!(refused(bare(&app, Method::POST, &accept, &bob.token).await, 404).await, "not_found");

        // Remove: both get friend_removed naming the other.
        let unfriend = format!("/api/v1/friends/{}", bob.id);
        assert_eq!(bare(&app, Method::DELETE, &unfriend, &alice.token).await.status(), 204);
        assert_eq!(alice_ws.expect("friend_removed").await["user_id"], bob.id.as_str());
        assert_eq!(bob_ws.expect("friend_removed").await["user_id"], alice.id.as_str());
        assert!(names(&app, &alice, "friends").await.is_empty());
        assert!(names(&app, &bob, "friends").await.is_empty());
        assert_eq!(refused(bare(&app, Method::DELETE, &unfriend, &alice.token).await, 404).await, "not_found");

        // Decline: the requester is told `declined`.
        assert_eq!(request(&app, &bob, "alice").await.status(), 202);
        assert_eq!(bob_ws.expect("friend_request").await["direction"], "outgoing");
        assert_eq!(alice_ws.expect("friend_request").await["direction"], "incoming");
        let decline = format!("/api/v1/friends/requests/{}/decline", bob.id);
        assert_eq!(bare(&app, Method::POST, &decline, &alice.token).await.status(), 204);
        let removed = bob_ws.expect("friend_request_removed").await;
        assert_eq!(removed["user_id"], alice.id.as_str());
        assert_eq!(removed["direction"], "outgoing");
        assert_eq!(removed["reason"], "declined");
        let removed = alice_ws.expect("friend_request_removed").await;
        assert_eq!(removed["user_id"], bob.id.as_str());
        assert_eq!(removed["direction"], "incoming");
        assert_eq!(removed["reason"], "declined");
        assert_eq!(refused(bare(&app, Method::POST, &decline, &alice.token).await, 404).await, "not_found");
        assert!(names(&app, &bob, "outgoing").await.is_empty());

        // Cancel: the addressee is told `cancelled`.
        assert_eq!(request(&app, &alice, "bob").await.status(), 202);
        let cancel = format!("/api/v1/friends/requests/{}", bob.id);
        // Only the requester can cancel; the addressee has nothing to cancel.
        let not_mine = format!("/api/v1/friends/requests/{}", alice.id);
        assert_eq!(refused(bare(&app, Method::DELETE, &not_mine, &bob.token).await, 404).await, "not_found");
        assert_eq!(bare(&app, Method::DELETE, &cancel, &alice.token).await.status(), 204);
        let removed = bob_ws.expect("friend_request_removed").await;
        assert_eq!(removed["reason"], "cancelled");
        assert_eq!(removed["direction"], "incoming");
        assert_eq!(alice_ws.expect("friend_request_removed").await["reason"], "cancelled");
        assert_eq!(refused(bare(&app, Method::DELETE, &cancel, &alice.token).await, 404).await, "not_found");
        assert!(names(&app, &bob, "incoming").await.is_empty());

        // Crossing requests: the second one accepts the first.
        assert_eq!(request(&app, &carol, "alice").await.status(), 202);
        let resp = request(&app, &alice, "carol").await;
        assert_eq!(resp.status(), 202);
        let body: Value = resp.json().await.unwrap();
        assert_eq!(body["state"], "accepted");
        assert_eq!(body["user"]["username"], "carol");
        let frames = frames_until(&mut alice_ws, "friend_added").await;
        let added = frames.last().unwrap();
        assert_eq!(added["friend"]["user"]["id"], carol.id.as_str());
        assert_eq!(names(&app, &alice, "friends").await, ["carol"]);
        assert_eq!(names(&app, &carol, "friends").await, ["alice"]);
        // Bob saw none of alice and carol's business.
        let (mut bob_ws2, _) = app.ws(&bob).await;
        assert_eq!(request(&app, &carol, "bob").await.status(), 202);
        let seen = frames_until(&mut bob_ws2, "friend_request").await;
        assert_eq!(seen.last().unwrap()["user"]["id"], carol.id.as_str());
        assert!(seen.iter().all(|f| f["type"] != "friend_added"), "{seen:?}");
    }
}

db_test! {
    async fn bad_friend_input_is_refused_and_changes_nothing(app) {
        let alice = app.user("alice").await;
        let bob = app.user("bob").await;
        assert_eq!(refused(request(&app, &alice, "alice").await, 422).await, "cannot_befriend_self");
        assert_eq!(refused(request(&app, &alice, "nobody").await, 404).await, "not_found");
        let bad = request(&app, &alice, "NOT A NAME!").await;
        assert!(bad.status().is_client_error(), "{}", bad.status());
        let extra = app
            .post_auth(
                "/api/v1/friends/requests",
                &alice.token,
                &json!({"username": "bob", "note": "hi"}),
            )
            .await;
        assert!(extra.status().is_client_error(), "{}", extra.status());
        let missing = app.post_auth("/api/v1/friends/requests", &alice.token, &json!({})).await;
        assert!(missing.status().is_client_error(), "{}", missing.status());

        // Accepting, declining, cancelling what does not exist; unknown ids; non-friends.
        let unknown = "0190f2c8-0000-7000-8000-000000000000";
        for path in [
            format!("/api/v1/friends/requests/{}/accept", bob.id),
            format!("/api/v1/friends/requests/{unknown}/accept"),
            format!("/api/v1/friends/requests/{}/accept", alice.id),
            format!("/api/v1/friends/requests/{}/decline", bob.id),
        ] {
            assert_eq!(refused(bare(&app, Method::POST, &path, &alice.token).await, 404).await, "not_found", "{path}");
        }
        for path in [
            format!("/api/v1/friends/requests/{}", bob.id),
            format!("/api/v1/friends/{}", bob.id),
            format!("/api/v1/friends/{unknown}"),
            format!("/api/v1/friends/{}", alice.id),
        ] {
            assert_eq!(refused(bare(&app, Method::DELETE, &path, &alice.token).await, 404).await, "not_found", "{path}");
        }
        let resp = bare(&app, Method::POST, "/api/v1/friends/requests/not-a-uuid/accept", &alice.token).await;
        assert_eq!(resp.status(), 400);
        let anonymous = call(app.http.get(app.url("/api/v1/friends"))).await;
        assert_eq!(anonymous.status(), 401);

        // Nothing changed.
        for user in [&alice, &bob] {
            let lists = app.get_json("/api/v1/friends", &user.token).await;
            assert_eq!(lists, json!({"friends": [], "incoming": [], "outgoing": []}));
        }
    }
}

async fn pending_requests_are_capped_and_rate_limited(backend: Backend) {
    let app = spawn_ready_app_with(backend, |c| {
        c.limits.max_pending_friend_requests = 2;
        c.limits.friend_requests_per_minute = 5;
        // Registrations and logins are not what this test is about.
        c.limits.register_per_ip = Rate::new(1_000, 1, 1_000);
    })
    .await;
    let alice = app.user("alice").await;
    let mut others = Vec::new();
    for name in ["bee1", "bee2", "bee3", "bee4"] {
        others.push(app.user(name).await);
    }
    assert_eq!(request(&app, &alice, "bee1").await.status(), 202);
    assert_eq!(request(&app, &alice, "bee2").await.status(), 202);
    assert_eq!(
        refused(request(&app, &alice, "bee3").await, 409).await,
        "too_many_pending_requests"
    );
    // An answer frees a place.
    let decline = format!("/api/v1/friends/requests/{}/decline", alice.id);
    assert_eq!(
        bare(&app, Method::POST, &decline, &others[0].token)
            .await
            .status(),
        204
    );
    assert_eq!(request(&app, &alice, "bee3").await.status(), 202);
    // Five attempts a minute (every attempt counts, refused ones too), then 429 + Retry-After.
    assert_eq!(
        refused(request(&app, &alice, "bee4").await, 409).await,
        "too_many_pending_requests"
    );
    let limited = request(&app, &alice, "bee4").await;
    assert_eq!(limited.status(), 429);
    assert!(limited.headers().contains_key("retry-after"));
    assert_eq!(refused(limited, 429).await, "rate_limited");
    // Others have their own allowance (and the cap is per requester).
    assert_eq!(request(&app, &others[1], "bee4").await.status(), 202);
}

both_backends!(pending_requests_are_capped_and_rate_limited => super::pending_requests_are_capped_and_rate_limited);
