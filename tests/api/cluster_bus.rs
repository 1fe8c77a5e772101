//! Two instances in one test process on one PostgreSQL database and the machine's Redis (a unique
//! key prefix per test): the Redis bus carries messages, typing, presence and revocations between
//! them, the admin panel lists both, readiness reports Redis. The real-process scenarios (kill -9,
//! Redis restart) are in cluster.rs.

use std::time::Duration;

use serde_json::{Value, json};

use crate::helpers::{TestApp, postgres, spawn_app_with, spawn_ready_app_with};

/// The machine's Redis (CI starts it).
const REDIS: &str = "redis://127.0.0.1:6379";

/// Two instances `a` and `b` sharing a fresh database and a fresh Redis key prefix; `a` has the
/// admin account.
pub(crate) async fn pair() -> Option<(TestApp, TestApp)> {
    let backend = postgres()?;
    let prefix = format!("t-{}", uuid::Uuid::new_v4().simple());
    let (p1, p2) = (prefix.clone(), prefix);
    let a = spawn_ready_app_with(backend, move |c| {
        c.redis.url = Some(REDIS.into());
        c.redis.key_prefix = p1;
        c.cluster.instance_id = Some("inst-a".into());
    })
    .await;
    let url = a.config.database_url.clone();
    let b = spawn_app_with(backend, move |c| {
        c.database_url = url;
        c.redis.url = Some(REDIS.into());
        c.redis.key_prefix = p2;
        c.cluster.instance_id = Some("inst-b".into());
    })
    .await;
    Some((a, b))
}

/// The next frame of `kind` about `conversation`, skipping others (deadline 10 s).
async fn frame_in(ws: &mut crate::helpers::WsClient, kind: &str, conversation: &str) -> Value {
    tokio::time::timeout(Duration::from_secs(10), async {
        loop {
            let f = ws.next_json().await;
            if f["type"] == kind && f["conversation_id"] == conversation {
                return f;
            }
            if f["type"] == kind && f["message"]["conversation_id"] == conversation {
                return f;
            }
        }
    })
    .await
    .unwrap_or_else(|_| panic!("no {kind} frame for {conversation}"))
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn messages_typing_presence_and_logout_cross_instances() {
    let Some((a, b)) = pair().await else { return };
    let alice = a.user("alice").await;
    // Registered on A, signs in on B: the instances share the signing key through the database.
    a.user("bob").await;
    let bob = b.login("bob").await;

    let (mut alice_ws, _) = a.ws(&alice).await;
    let dm = a
        .post_auth("/api/v1/dms", &alice.token, &json!({"username": "bob"}))
        .await;
    assert!(dm.status().is_success(), "open DM: {}", dm.status());
    let dm: Value = dm.json().await.expect("json");
    let dm = dm["id"].as_str().expect("dm id").to_owned();

    // Bob connects to B: Alice (a DM peer, on A) sees him online.
    let (mut bob_ws, _) = b.ws(&bob).await;
    tokio::time::timeout(Duration::from_secs(10), async {
        loop {
            let f = alice_ws.next_json().await;
            if f["type"] == "presence" && f["user_id"] == bob.id.as_str() && f["status"] == "online"
            {
                break;
            }
        }
    })
    .await
    .expect("Alice sees Bob (on the other instance) online");

    // A message sent on A reaches Bob on B, in order.
    for i in 1..=5 {
        alice_ws
            .send_json(json!({"type": "send", "conversation_id": dm, "body": format!("m{i}"), "client_id": format!("c{i}")}))
            .await;
    }
    let mut seqs = Vec::new();
    while seqs.len() < 5 {
        let f = frame_in(&mut bob_ws, "message", &dm).await;
        seqs.push(f["message"]["seq"].as_i64().expect("seq"));
    }
    assert!(
        seqs.windows(2).all(|w| w[1] == w[0] + 1),
        "in order: {seqs:?}"
    );

    // Typing from B reaches A.
    bob_ws
        .send_json(json!({"type": "typing", "conversation_id": dm}))
        .await;
    frame_in(&mut alice_ws, "typing", &dm).await;

    // Both instances are listed; readiness reports Redis.
    let admin = a.login("admin").await;
    let server: Value = a
        .get("/api/v1/admin/server", &admin.token)
        .await
        .json()
        .await
        .expect("json");
    assert_eq!(server["cluster"]["instance_id"], "inst-a");
    assert_eq!(server["cluster"]["shared"], true);
    let ids: Vec<&str> = server["cluster"]["instances"]
        .as_array()
        .expect("instances")
        .iter()
        .filter_map(|i| i["id"].as_str())
        .collect();
    assert!(ids.contains(&"inst-a"), "{server}");
    let ready = b.get("/api/v1/health/ready", "").await;
    assert_eq!(ready.status(), 200);
    let ready: Value = ready.json().await.expect("json");
    assert_eq!(ready["redis"], "ok");
    assert_eq!(ready["instance_id"], "inst-b");
    assert_eq!(b.get("/api/v1/health/live", "").await.status(), 200);

    // Logging out on A closes Bob's socket on B (same session) within a second.
    let started = std::time::Instant::now();
    let out = a
        .post_auth("/api/v1/auth/logout", &bob.token, &json!({}))
        .await;
    assert!(out.status().is_success(), "logout: {}", out.status());
    let (code, _) = bob_ws.close_frame(Duration::from_secs(5)).await;
    assert_eq!(code, 1008);
    let took = started.elapsed();
    assert!(took < Duration::from_secs(1), "closed after {took:?}");
}
