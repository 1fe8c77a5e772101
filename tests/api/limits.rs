//! Rate limits and anti-abuse caps (`[limits]`): 429 with `Retry-After` and `rate_limited` over
//! REST, `error` frames with `retry_after_ms` over WebSocket, the pending-invite cap, and the
//! client address behind a trusted proxy. Every test client is 127.0.0.1; the tests that need
//! several client addresses trust 127.0.0.1 as a proxy and send `X-Forwarded-For`/`Forwarded`.

use echochat::config::{Config, Rate};
use serde_json::{Value, json};

use crate::{
    both_backends,
    helpers::{Backend, PASSWORD, TestApp, TestResponse, call, spawn_ready_app_with},
};

/// Behind a trusted proxy on 127.0.0.1.
fn behind_proxy(config: &mut Config) {
    config.trusted_proxies = vec!["127.0.0.1".parse().unwrap()];
}

/// A login as `username` from the client address `ip` (forwarded by the trusted proxy).
async fn login_from(app: &TestApp, ip: &str, username: &str, password: &str) -> TestResponse {
    call(
        app.http
            .post(app.url("/api/v1/auth/login"))
            .header("x-forwarded-for", ip)
            .json(&json!({"username": username, "password": password})),
    )
    .await
}

/// A registration of `username` with an extra header (`name: value`).
async fn register_with(app: &TestApp, header: (&str, &str), username: &str) -> TestResponse {
    call(
        app.http
            .post(app.url("/api/v1/auth/register"))
            .header(header.0, header.1)
            .json(&json!({"username": username, "password": PASSWORD})),
    )
    .await
}

/// Asserts a 429 `rate_limited` with a `Retry-After` of 1..=`max_secs` seconds; returns it.
async fn assert_limited(resp: TestResponse, max_secs: u64) -> u64 {
    assert_eq!(resp.status(), 429);
    let retry_after: u64 = resp
        .headers()
        .get("retry-after")
        .expect("Retry-After header")
        .to_str()
        .unwrap()
        .parse()
        .expect("Retry-After is whole seconds");
    assert!(
        (1..=max_secs).contains(&retry_after),
        "Retry-After {retry_after}"
    );
    let body: Value = resp.json().await.unwrap();
    assert_eq!(body["code"], "rate_limited", "{body}");
    retry_after
}

async fn wrong_passwords_are_throttled_but_the_owner_still_signs_in(backend: Backend) {
    let app = spawn_ready_app_with(backend, |c| {
        behind_proxy(c);
        // 3 attempts per (account, address), then 1 an hour.
        c.limits.login_per_account_and_ip = Rate::new(1, 3600, 3);
        // 7 attempts per account from addresses that never signed in to it.
        c.limits.login_per_account = Rate::new(1, 3600, 7);
    })
    .await;
    app.user("alice").await;
    let owner = "192.0.2.1";
    assert_eq!(
        login_from(&app, owner, "alice", PASSWORD).await.status(),
        200
    );

    // A stranger guesses from one address: three 401s, then 429 even with the right password.
    let stranger = "198.51.100.7";
    for _ in 0..3 {
        let resp = login_from(&app, stranger, "Alice", "wrong-password").await;
        assert_eq!(resp.status(), 401);
    }
    let retry = assert_limited(login_from(&app, stranger, "alice", "guess-4").await, 3600).await;
    assert!(retry > 3500, "one attempt an hour: {retry}");
    assert_limited(login_from(&app, stranger, "alice", PASSWORD).await, 3600).await;

    // The owner, from their own address, is not affected.
    assert_eq!(
        login_from(&app, owner, "alice", PASSWORD).await.status(),
        200
    );

    // A botnet (one attempt per address) uses up the per-account allowance of unknown
    // addresses: the owner's first logins (from 127.0.0.1 and 192.0.2.1) and the stranger's
    // three took 5 of 7.
    for i in 1..=2 {
        let resp = login_from(&app, &format!("203.0.113.{i}"), "alice", "wrong").await;
        assert_eq!(resp.status(), 401);
    }
    assert_limited(
        login_from(&app, "203.0.113.3", "alice", "wrong").await,
        3600,
    )
    .await;
    // …which still does not lock out the owner's known address, nor other accounts.
    assert_eq!(
        login_from(&app, owner, "alice", PASSWORD).await.status(),
        200
    );
    app.user("bob").await;
    assert_eq!(
        login_from(&app, "203.0.113.4", "bob", PASSWORD)
            .await
            .status(),
        200
    );
}

both_backends!(wrong_passwords_are_throttled_but_the_owner_still_signs_in => super::wrong_passwords_are_throttled_but_the_owner_still_signs_in);

async fn logins_are_limited_per_address_whatever_the_account(backend: Backend) {
    let app = spawn_ready_app_with(backend, |c| {
        behind_proxy(c);
        c.limits.login_per_ip = Rate::new(1, 60, 4);
    })
    .await;
    let spray = "198.51.100.9";
    for i in 0..4 {
        let resp = login_from(&app, spray, &format!("victim{i}"), "password1").await;
        assert_eq!(resp.status(), 401);
    }
    assert_limited(login_from(&app, spray, "victim9", "password1").await, 60).await;
    // Another address signs in.
    assert_eq!(
        login_from(&app, "192.0.2.2", "admin", PASSWORD)
            .await
            .status(),
        200
    );
}

both_backends!(logins_are_limited_per_address_whatever_the_account => super::logins_are_limited_per_address_whatever_the_account);

async fn registrations_are_limited_per_forwarded_address(backend: Backend) {
    let app = spawn_ready_app_with(backend, |c| {
        behind_proxy(c);
        c.limits.register_per_ip = Rate::new(1, 3600, 2);
    })
    .await;
    // RFC 7239 `Forwarded`, IPv6 with a port, quoted.
    let v6 = ("forwarded", r#"for="[2001:db8:cafe::17]:4711";proto=https"#);
    assert_eq!(register_with(&app, v6, "six1").await.status(), 201);
    assert_eq!(register_with(&app, v6, "six2").await.status(), 201);
    assert_limited(register_with(&app, v6, "six3").await, 3600).await;
    // The same address through X-Forwarded-For is the same client.
    let xff = ("x-forwarded-for", "2001:db8:cafe::17");
    assert_limited(register_with(&app, xff, "six4").await, 3600).await;
    // Other addresses: an IPv4 `Forwarded` (the last hop that is not a trusted proxy counts),
    // and X-Forwarded-For.
    let v4 = ("forwarded", "for=192.0.2.60, for=127.0.0.1");
    assert_eq!(register_with(&app, v4, "four1").await.status(), 201);
    let other = ("x-forwarded-for", "192.0.2.99");
    assert_eq!(register_with(&app, other, "four2").await.status(), 201);
}

both_backends!(registrations_are_limited_per_forwarded_address => super::registrations_are_limited_per_forwarded_address);

async fn forwarding_headers_from_an_untrusted_peer_are_ignored(backend: Backend) {
    // No trusted proxy: the TCP peer (127.0.0.1) is the client, whatever the headers say.
    let app = spawn_ready_app_with(backend, |c| {
        c.limits.register_per_ip = Rate::new(1, 3600, 2);
    })
    .await;
    let a = ("x-forwarded-for", "192.0.2.1");
    assert_eq!(register_with(&app, a, "first").await.status(), 201);
    let b = ("forwarded", "for=192.0.2.2");
    assert_eq!(register_with(&app, b, "second").await.status(), 201);
    let c = ("x-forwarded-for", "192.0.2.3");
    assert_limited(register_with(&app, c, "third").await, 3600).await;
}

both_backends!(forwarding_headers_from_an_untrusted_peer_are_ignored => super::forwarding_headers_from_an_untrusted_peer_are_ignored);

async fn message_floods_are_refused_over_websocket_and_rest(backend: Backend) {
    let app = spawn_ready_app_with(backend, |c| {
        // 5 at once, then one a minute.
        c.limits.messages_per_user = Rate::new(1, 60, 5);
    })
    .await;
    let alice = app.user("alice").await;
    let bob = app.user("bob").await;
    let lobby = app.lobby(&alice).await;
    let (mut ws, _) = app.ws(&alice).await;
    for i in 0..8 {
        ws.send_json(json!({"type": "send", "conversation_id": lobby,
            "client_id": format!("c{i}"), "body": format!("flood {i}")}))
            .await;
    }
    // Every send is answered, ack or error, each naming its client_id (next_json has a
    // deadline, so this loop ends).
    let (mut acked, mut refused) = (Vec::new(), Vec::new());
    while acked.len() + refused.len() < 8 {
        let frame = ws.next_json().await;
        match frame["type"].as_str() {
            Some("ack") => acked.push(frame["client_id"].as_str().unwrap().to_owned()),
            Some("error") => {
                assert_eq!(frame["code"], "rate_limited", "{frame}");
                let wait = frame["retry_after_ms"].as_u64().expect("retry_after_ms");
                assert!((1..=60_000).contains(&wait), "{frame}");
                refused.push(frame["client_id"].as_str().unwrap().to_owned());
            }
            _ => {}
        }
    }
    acked.sort();
    refused.sort();
    assert_eq!(acked, ["c0", "c1", "c2", "c3", "c4"]);
    assert_eq!(refused, ["c5", "c6", "c7"]);

    // REST sends share the same allowance.
    let resp = app
        .post_auth(
            &format!("/api/v1/conversations/{lobby}/messages"),
            &alice.token,
            &json!({"body": "over REST"}),
        )
        .await;
    assert_limited(resp, 60).await;

    // The limit is per user: bob still talks, and alice's socket still receives.
    let sent = app.send(&bob, &lobby, "hello from bob").await;
    // Alice's own acked messages also come back as `message` frames, possibly after her acks.
    loop {
        let frame = ws.expect("message").await;
        if frame["message"]["id"] == sent["id"] {
            break;
        }
        assert_eq!(frame["message"]["sender_id"], alice.id, "{frame}");
    }
    // The refused messages were never stored: the history holds the five acked ones and bob's.
    let history = app
        .get_json(
            &format!("/api/v1/conversations/{lobby}/messages"),
            &bob.token,
        )
        .await;
    let bodies: Vec<&str> = history["messages"]
        .as_array()
        .unwrap()
        .iter()
        .map(|m| m["body"].as_str().unwrap())
        .collect();
    assert_eq!(
        bodies,
        [
            "flood 0",
            "flood 1",
            "flood 2",
            "flood 3",
            "flood 4",
            "hello from bob"
        ]
    );
}

both_backends!(message_floods_are_refused_over_websocket_and_rest => super::message_floods_are_refused_over_websocket_and_rest);

async fn room_creation_joins_and_invites_are_limited(backend: Backend) {
    let app = spawn_ready_app_with(backend, |c| {
        c.limits.rooms_per_user = Rate::new(1, 3600, 2);
        c.limits.joins_per_user = Rate::new(1, 3600, 2);
        c.limits.invites_per_user = Rate::new(1, 3600, 2);
    })
    .await;
    let alice = app.user("alice").await;
    let bob = app.user("bob").await;
    let open = app.room(&alice, "open", "public").await;
    let closed = app.room(&alice, "closed", "private").await;
    let third = app
        .post_auth(
            "/api/v1/rooms",
            &alice.token,
            &json!({"name": "third", "visibility": "public"}),
        )
        .await;
    assert_limited(third, 3600).await;
    // Another user's allowance is their own.
    app.room(&bob, "bobs", "public").await;

    // Joins: two, then 429; joining a room again is a no-op and not counted.
    let carol = app.user("carol").await;
    let help = room_id(&app, &carol, "Help").await;
    let bobs = room_id(&app, &carol, "bobs").await;
    app.join(&carol, &open).await;
    app.join(&carol, &help).await;
    app.join(&carol, &open).await;
    let over = app
        .post_auth(
            &format!("/api/v1/rooms/{bobs}/join"),
            &carol.token,
            &json!({}),
        )
        .await;
    assert_limited(over, 3600).await;
    app.join(&bob, &help).await;

    // Invites: two, then 429.
    for name in ["dave", "erin", "fay"] {
        app.user(name).await;
    }
    for name in ["dave", "erin"] {
        let resp = app
            .post_auth(
                &format!("/api/v1/rooms/{closed}/invites"),
                &alice.token,
                &json!({ "username": name }),
            )
            .await;
        assert_eq!(resp.status(), 201, "invite {name}");
    }
    let resp = app
        .post_auth(
            &format!("/api/v1/rooms/{closed}/invites"),
            &alice.token,
            &json!({"username": "fay"}),
        )
        .await;
    assert_limited(resp, 3600).await;
}

both_backends!(room_creation_joins_and_invites_are_limited => super::room_creation_joins_and_invites_are_limited);

/// The id of the public room named `name`, from the directory.
async fn room_id(app: &TestApp, user: &crate::helpers::TestUser, name: &str) -> String {
    let rooms = app
        .all_pages(&format!("/api/v1/rooms?q={name}"), "rooms", &user.token)
        .await;
    rooms
        .iter()
        .find(|r| r["name"] == name)
        .and_then(|r| r["id"].as_str())
        .expect("room in the directory")
        .to_owned()
}

async fn pending_invites_per_recipient_are_capped(backend: Backend) {
    let app = spawn_ready_app_with(backend, |c| {
        c.limits.max_pending_invites_per_recipient = 2;
    })
    .await;
    let alice = app.user("alice").await;
    let bob = app.user("bob").await;
    let mut rooms = Vec::new();
    for i in 0..3 {
        rooms.push(app.room(&alice, &format!("secret{i}"), "private").await);
    }
    let invite = |room: String| {
        let app = &app;
        let token = alice.token.clone();
        async move {
            app.post_auth(
                &format!("/api/v1/rooms/{room}/invites"),
                &token,
                &json!({"username": "bob"}),
            )
            .await
        }
    };
    assert_eq!(invite(rooms[0].clone()).await.status(), 201);
    assert_eq!(invite(rooms[1].clone()).await.status(), 201);
    let over = invite(rooms[2].clone()).await;
    assert_eq!(over.status(), 409);
    let body: Value = over.json().await.unwrap();
    assert_eq!(body["code"], "too_many_pending_invites", "{body}");
    // Inviting again to a room bob is already invited to is not a new pending invitation.
    assert_eq!(invite(rooms[0].clone()).await.status(), 201);
    // Accepting one makes room for the next.
    app.join(&bob, &rooms[0]).await;
    assert_eq!(invite(rooms[2].clone()).await.status(), 201);
}

both_backends!(pending_invites_per_recipient_are_capped => super::pending_invites_per_recipient_are_capped);
