//! Several real `echochat` processes on one PostgreSQL database and a private `redis-server`
//! (issue 10): start-up faults, chat across instances, logout across instances, one rate limit,
//! kill -9 and Redis restarts mid-traffic without an acked message lost, periodic jobs that run
//! once, and garbage on the bus. PostgreSQL only (TEST_DATABASE_URL); the harness is in
//! cluster_harness.rs.

use std::{
    collections::{BTreeMap, BTreeSet},
    sync::{
        Arc,
        atomic::{AtomicUsize, Ordering},
    },
    time::{Duration, Instant},
};

use reqwest::Method;
use serde_json::{Value, json};

use crate::{
    cluster_harness::{
        ClusterSpec, Control, Instance, LIVE, READY, RedisServer, TempDatabase, TrafficClient, api,
        eventually, expect_where, history, join, room, run_until_exit, setup_admin, status_of,
        user, wait_ready, ws,
    },
    helpers::{TestUser, WsClient, postgres},
};

/// How long a cluster may take to become ready after its processes listen.
const READY_WITHIN: Duration = Duration::from_secs(20);
/// How long a frame may take to cross instances in these tests (generous: a loaded CI box).
const CROSS: Duration = Duration::from_secs(10);

/// Starts a private Redis, a spec (fresh database, unique prefix) adjusted by `adjust`, and
/// instances `ids`; creates the admin account and waits until all are ready.
async fn cluster(
    ids: &[&str],
    adjust: impl FnOnce(ClusterSpec) -> ClusterSpec,
) -> (RedisServer, ClusterSpec, Vec<Instance>) {
    let (redis, spec, instances, _) = cluster_with_admin(ids, adjust).await;
    (redis, spec, instances)
}

/// [`cluster`], also returning the admin account.
async fn cluster_with_admin(
    ids: &[&str],
    adjust: impl FnOnce(ClusterSpec) -> ClusterSpec,
) -> (RedisServer, ClusterSpec, Vec<Instance>, TestUser) {
    let redis = RedisServer::start();
    let spec = adjust(ClusterSpec::new(&redis).await);
    let mut instances = Instance::start_all(&spec, ids).await;
    for instance in &mut instances {
        let line = instance
            .wait_for("Redis connected", Duration::from_secs(10))
            .await;
        assert!(
            line.contains(&format!("instance={}", instance.id)),
            "{line}"
        );
    }
    let admin = setup_admin(&mut instances).await;
    wait_ready(&instances, READY_WITHIN).await;
    (redis, spec, instances, admin)
}

/// Sends `body` into `conversation` with `client_id` and waits for its ack; returns the message.
async fn send_acked(ws: &mut WsClient, conversation: &str, client_id: &str, body: &str) -> Value {
    ws.send_json(json!({"type": "send", "conversation_id": conversation,
        "client_id": client_id, "body": body}))
        .await;
    let ack = expect_where(ws, "ack", CROSS, |f| {
        (f["type"] == "ack" || f["type"] == "error") && f["client_id"] == client_id
    })
    .await;
    assert_eq!(ack["type"], "ack", "{ack}");
    ack["message"].clone()
}

/// Waits for the `message` frame of `conversation` with `seq` (frames of other kinds skipped).
async fn expect_message(ws: &mut WsClient, conversation: &str, seq: i64) -> Value {
    expect_where(ws, &format!("message {seq}"), CROSS, |f| {
        f["type"] == "message"
            && f["message"]["conversation_id"] == conversation
            && f["message"]["seq"] == seq
    })
    .await
}

// --- 1. Start-up faults -------------------------------------------------------------------------

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn redis_with_sqlite_refuses_to_start() {
    let exited = run_until_exit(
        &[("REDIS_URL", "redis://127.0.0.1:6379")],
        Duration::from_secs(30),
    )
    .await;
    assert!(!exited.status.success(), "{}", exited.output);
    assert!(exited.output.contains("SQLite"), "{}", exited.output);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn unusable_redis_stops_start_up_with_a_clear_message() {
    if postgres().is_none() {
        return;
    }
    let database = TempDatabase::new().await;
    let db = database.url.as_str();

    // Nothing listens there.
    let closed = format!("redis://127.0.0.1:{}", crate::cluster_harness::free_port());
    let exited = run_until_exit(
        &[("DATABASE_URL", db), ("REDIS_URL", &closed)],
        Duration::from_secs(30),
    )
    .await;
    assert!(!exited.status.success(), "{}", exited.output);
    eprintln!(
        "closed Redis port: exit {} after {:?}",
        exited.status, exited.elapsed
    );
    assert!(
        exited.elapsed <= Duration::from_secs(10),
        "fail fast, took {:?}",
        exited.elapsed
    );
    assert!(exited.output.contains("Redis"), "{}", exited.output);

    // A Redis with a password, and a URL with the wrong one: refused, the password never shown.
    let locked = RedisServer::start_with_password(Some("s3cret"));
    let wrong = "Wr0ng-Passw0rd-x1";
    let url = format!("redis://:{wrong}@127.0.0.1:{}", locked.port);
    let exited = run_until_exit(
        &[("DATABASE_URL", db), ("REDIS_URL", &url)],
        Duration::from_secs(30),
    )
    .await;
    assert!(!exited.status.success(), "{}", exited.output);
    assert!(exited.output.contains("Redis"), "{}", exited.output);
    assert!(
        !exited.output.contains(wrong),
        "the password must never be printed:\n{}",
        exited.output
    );

    // Not a Redis URL at all.
    let exited = run_until_exit(
        &[("DATABASE_URL", db), ("REDIS_URL", "http://127.0.0.1:1")],
        Duration::from_secs(30),
    )
    .await;
    assert!(!exited.status.success(), "{}", exited.output);
    assert!(exited.output.contains("Redis"), "{}", exited.output);
}

// --- 2. A room, a DM and a group across three instances --------------------------------------

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn users_on_three_instances_chat_with_typing_and_presence() {
    if postgres().is_none() {
        return;
    }
    let (_redis, _spec, instances, admin) = cluster_with_admin(&["a", "b", "c"], |s| s).await;
    let (a, b, c) = (&instances[0], &instances[1], &instances[2]);
    // Each instance names itself in the admin identity screen and lists all three.
    for instance in &instances {
        let server = eventually("three instances listed", CROSS, || async {
            let (status, server) =
                api(instance, &admin, Method::GET, "/admin/server", Value::Null).await;
            assert_eq!(status, 200, "{server}");
            (server["cluster"]["instances"]
                .as_array()
                .map_or(0, Vec::len)
                == 3)
                .then_some(server)
        })
        .await;
        assert_eq!(
            server["cluster"]["instance_id"],
            instance.id.as_str(),
            "{server}"
        );
        let mut ids: Vec<&str> = server["cluster"]["instances"]
            .as_array()
            .unwrap()
            .iter()
            .map(|i| i["id"].as_str().unwrap())
            .collect();
        ids.sort_unstable();
        assert_eq!(ids, ["a", "b", "c"], "{server}");
    }
    let alice = user(a, "alice").await;
    let bob = user(b, "bob").await;
    let carol = user(c, "carol").await;

    let room_id = room(a, &alice, "Everywhere").await;
    join(b, &bob, &room_id).await;
    let (status, dm) = api(a, &alice, Method::POST, "/dms", json!({"username": "bob"})).await;
    assert!(status == 201 || status == 200, "{dm}");
    let dm = dm["id"].as_str().unwrap().to_owned();
    let (status, group) = api(a, &alice, Method::POST, "/groups", json!({"name": "Trio"})).await;
    assert_eq!(status, 201, "{group}");
    let group = group["id"].as_str().unwrap().to_owned();
    for (instance, who) in [(b, &bob), (c, &carol)] {
        let (status, body) = api(
            a,
            &alice,
            Method::POST,
            &format!("/groups/{group}/invites"),
            json!({"username": who.username}),
        )
        .await;
        assert_eq!(status, 200, "{body}");
        let (status, body) = api(
            instance,
            who,
            Method::POST,
            &format!("/invitations/{group}/accept"),
            json!({}),
        )
        .await;
        assert_eq!(status, 200, "{body}");
    }

    // Presence: bob connecting on B reaches alice (his DM peer) on A.
    let (mut wa, ready) = ws(a, &alice).await;
    assert!(
        !ready["online"]
            .as_array()
            .unwrap()
            .iter()
            .any(|id| id == bob.id.as_str()),
        "{ready}"
    );
    let (mut wb, _) = ws(b, &bob).await;
    expect_where(&mut wa, "bob online", CROSS, |f| {
        f["type"] == "presence" && f["user_id"] == bob.id.as_str() && f["status"] == "online"
    })
    .await;
    let (mut wc, _) = ws(c, &carol).await;

    // Typing from bob (B) reaches alice (A).
    wb.send_json(json!({"type": "typing", "conversation_id": dm}))
        .await;
    expect_where(&mut wa, "bob typing", CROSS, |f| {
        f["type"] == "typing" && f["user_id"] == bob.id.as_str() && f["conversation_id"] == dm
    })
    .await;

    // Carol joins the room on C: alice hears of it on A.
    join(c, &carol, &room_id).await;
    let joined = expect_where(&mut wa, "carol joined", CROSS, |f| {
        f["type"] == "member_joined" && f["conversation_id"] == room_id.as_str()
    })
    .await;
    assert_eq!(joined["user"]["username"], "carol", "{joined}");
    expect_where(&mut wc, "carol's room added", CROSS, |f| {
        f["type"] == "conversation_added" && f["conversation"]["id"] == room_id.as_str()
    })
    .await;

    // Everyone sends at once (pipelined, no waiting) into every conversation they are in.
    const EACH: usize = 5;
    let plan: Vec<(&str, Vec<&str>)> = vec![
        ("alice", vec![&room_id, &dm, &group]),
        ("bob", vec![&room_id, &dm, &group]),
        ("carol", vec![&room_id, &group]),
    ];
    let totals: BTreeMap<String, i64> = [
        (room_id.clone(), 3 * EACH as i64),
        (dm.clone(), 2 * EACH as i64),
        (group.clone(), 3 * EACH as i64),
    ]
    .into();
    let started = Instant::now();
    let mut tasks = Vec::new();
    for ((name, conversations), ws) in plan.into_iter().zip([wa, wb, wc]) {
        let conversations: Vec<String> = conversations.into_iter().map(str::to_owned).collect();
        let mine: BTreeMap<String, i64> = conversations
            .iter()
            .map(|c| (c.clone(), totals[c]))
            .collect();
        let name = name.to_owned();
        tasks.push(tokio::spawn(exchange(name, ws, conversations, mine, EACH)));
    }
    let mut clients = Vec::new();
    let mut seen_ids: BTreeMap<(String, i64), String> = BTreeMap::new();
    for task in tasks {
        let (name, ws, got) = task.await.expect("client task");
        for (conversation, messages) in got {
            let seqs: Vec<i64> = messages.iter().map(|(s, _)| *s).collect();
            let want: Vec<i64> = (1..=totals[&conversation]).collect();
            assert_eq!(
                seqs, want,
                "{name}: messages of {conversation} in seq order, no gap, no duplicate"
            );
            for (seq, id) in messages {
                let known = seen_ids
                    .entry((conversation.clone(), seq))
                    .or_insert(id.clone());
                assert_eq!(*known, id, "one message per seq on every instance");
            }
        }
        clients.push((name, ws));
    }
    eprintln!(
        "three instances: {} messages fanned out to three instances in {:?}",
        totals.values().sum::<i64>(),
        started.elapsed()
    );

    // A marker after everything: nothing (no late duplicate) arrives before it.
    let (_, wa) = &mut clients[0];
    wa.send_json(
        json!({"type": "send", "conversation_id": room_id, "client_id": "marker",
        "body": "the end"}),
    )
    .await;
    let last = totals[&room_id] + 1;
    for (name, ws) in &mut clients {
        let frame = expect_where(ws, "the marker", CROSS, |f| f["type"] == "message").await;
        assert_eq!(
            (
                frame["message"]["conversation_id"].as_str(),
                frame["message"]["seq"].as_i64()
            ),
            (Some(room_id.as_str()), Some(last)),
            "{name}: the next message frame is the marker: {frame}"
        );
    }

    // Bob leaves (closes B's socket): alice sees him offline after the grace period.
    let (_, wb) = clients.remove(1);
    drop(wb);
    let (_, wa) = &mut clients[0];
    expect_where(wa, "bob offline", CROSS, |f| {
        f["type"] == "presence" && f["user_id"] == bob.id.as_str() && f["status"] == "offline"
    })
    .await;
}

/// One client of the three-instance test: sends `each` messages into each of its
/// conversations (pipelined), then reads until every acks arrived and every conversation
/// reached its total; returns the (seq, id) of the `message` frames per conversation in
/// arrival order.
async fn exchange(
    name: String,
    mut ws: WsClient,
    conversations: Vec<String>,
    totals: BTreeMap<String, i64>,
    each: usize,
) -> (String, WsClient, BTreeMap<String, Vec<(i64, String)>>) {
    let mut pending = BTreeSet::new();
    for i in 0..each {
        for (k, conversation) in conversations.iter().enumerate() {
            let client_id = format!("{name}-{k}-{i}");
            ws.send_json(json!({"type": "send", "conversation_id": conversation,
                "client_id": client_id, "body": format!("{name} #{i} in {k}")}))
                .await;
            pending.insert(client_id);
        }
    }
    let mut got: BTreeMap<String, Vec<(i64, String)>> = conversations
        .iter()
        .map(|c| (c.clone(), Vec::new()))
        .collect();
    let complete = |got: &BTreeMap<String, Vec<(i64, String)>>| {
        got.iter().all(|(c, m)| m.len() as i64 >= totals[c])
    };
    while !pending.is_empty() || !complete(&got) {
        let frame = ws.next_json().await;
        match frame["type"].as_str() {
            Some("ack") => {
                pending.remove(frame["client_id"].as_str().unwrap());
            }
            Some("error") => panic!("{name}: {frame}"),
            Some("message") => {
                let conversation = frame["message"]["conversation_id"].as_str().unwrap();
                let list = got
                    .get_mut(conversation)
                    .unwrap_or_else(|| panic!("{name}: a message of another conversation"));
                list.push((
                    frame["message"]["seq"].as_i64().unwrap(),
                    frame["message"]["id"].as_str().unwrap().to_owned(),
                ));
                assert!(
                    list.len() as i64 <= totals[conversation],
                    "{name}: more message frames than messages in {conversation}: {list:?}"
                );
            }
            _ => {}
        }
    }
    (name, ws, got)
}

// --- 3. Logout on A closes the socket on B --------------------------------------------------

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn logout_on_one_instance_closes_the_socket_on_another_within_a_second() {
    if postgres().is_none() {
        return;
    }
    let (_redis, _spec, instances) = cluster(&["a", "b"], |s| s).await;
    let (a, b) = (&instances[0], &instances[1]);
    let bob = user(a, "bob").await;
    let (mut wb, _) = ws(b, &bob).await;
    // The socket is registered on B: it answers.
    wb.send_json(json!({"type": "ping"})).await;
    wb.expect("pong").await;

    let closed = tokio::spawn(async move {
        let frame = wb.close_frame(Duration::from_secs(10)).await;
        (frame, Instant::now())
    });
    let started = Instant::now();
    let (status, body) = api(a, &bob, Method::POST, "/auth/logout", json!({})).await;
    let answered = started.elapsed();
    assert_eq!(status, 204, "{body}");
    let ((code, reason), at) = closed.await.expect("close task");
    let latency = at.duration_since(started);
    eprintln!("logout on A → close on B: {latency:?} (the logout request took {answered:?})");
    assert_eq!(code, 1008, "{reason}");
    assert_eq!(reason, "logout");
    assert!(
        latency <= Duration::from_secs(1),
        "closed after {latency:?}"
    );
}

// --- 4. One rate limit across instances -------------------------------------------------------

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_message_rate_limit_holds_across_instances() {
    if postgres().is_none() {
        return;
    }
    // 6 at once, then one a minute.
    let (_redis, _spec, instances) = cluster(&["a", "b"], |s| {
        s.with("ECHOCHAT_LIMITS__MESSAGES_PER_USER__COUNT", "1")
            .with("ECHOCHAT_LIMITS__MESSAGES_PER_USER__PER_SECS", "60")
            .with("ECHOCHAT_LIMITS__MESSAGES_PER_USER__BURST", "6")
    })
    .await;
    let (a, b) = (&instances[0], &instances[1]);
    let alice = user(a, "alice").await;
    let lobby = room(a, &alice, "Limited").await;
    let (mut on_a, _) = ws(a, &alice).await;
    let (mut on_b, _) = ws(b, &alice).await;
    let mut accepted = [0usize; 2];
    let mut refused = 0;
    for i in 0..12 {
        let ws = if i % 2 == 0 { &mut on_a } else { &mut on_b };
        let client_id = format!("r{i}");
        ws.send_json(json!({"type": "send", "conversation_id": lobby,
            "client_id": client_id, "body": format!("try {i}")}))
            .await;
        let answer = expect_where(ws, "the answer", CROSS, |f| {
            (f["type"] == "ack" || f["type"] == "error") && f["client_id"] == client_id.as_str()
        })
        .await;
        if answer["type"] == "ack" {
            accepted[i % 2] += 1;
        } else {
            assert_eq!(answer["code"], "rate_limited", "{answer}");
            assert!(answer["retry_after_ms"].as_u64().is_some(), "{answer}");
            refused += 1;
        }
    }
    let total = accepted[0] + accepted[1];
    eprintln!("rate limit across two instances: accepted {accepted:?}, refused {refused}");
    assert!(
        (6..=7).contains(&total),
        "one burst of 6 for both instances, not one each: accepted {accepted:?}"
    );
    assert!(accepted[0] > 0 && accepted[1] > 0, "{accepted:?}");
}

// --- 5. and 6. Faults mid-traffic -------------------------------------------------------------

/// Users and a room for the traffic tests: `senders[i]` connects to `instances[home[i]]`.
async fn traffic_setup(instances: &[Instance], names: &[(&str, usize)]) -> (String, Vec<TestUser>) {
    let mut users = Vec::new();
    for (name, home) in names {
        users.push(user(&instances[*home], name).await);
    }
    let room_id = room(&instances[0], &users[0], "Traffic").await;
    for (u, (_, home)) in users.iter().zip(names).skip(1) {
        join(&instances[*home], u, &room_id).await;
    }
    (room_id, users)
}

/// The handles of a traffic run: the client tasks and their unacked and opened counters.
struct Traffic {
    tasks: Vec<tokio::task::JoinHandle<TrafficClient>>,
    pending: Vec<Arc<AtomicUsize>>,
    opened: Vec<Arc<AtomicUsize>>,
}

/// Starts one traffic client per user on its home instance (falling back to the others).
fn start_traffic(
    instances: &[Instance],
    names: &[(&str, usize)],
    users: &[TestUser],
    room_id: &str,
    control: &Control,
) -> Traffic {
    let mut traffic = Traffic {
        tasks: Vec::new(),
        pending: Vec::new(),
        opened: Vec::new(),
    };
    for (u, (name, home)) in users.iter().zip(names) {
        let urls: Vec<String> = (0..instances.len())
            .map(|k| instances[(home + k) % instances.len()].ws_url())
            .collect();
        let client = TrafficClient::new(name, &u.token, urls, room_id, Duration::from_millis(60));
        traffic.pending.push(client.pending.clone());
        traffic.opened.push(client.opened.clone());
        traffic
            .tasks
            .push(tokio::spawn(client.run(control.clone())));
    }
    traffic
}

/// Waits until the room's history grew by `more` messages (traffic flows), at most 20 s.
async fn grows_by(instance: &Instance, reader: &TestUser, room_id: &str, more: usize) {
    let before = history(instance, reader, room_id).await.len();
    eventually(
        &format!("{more} more messages in the room"),
        Duration::from_secs(20),
        || async {
            (history(instance, reader, room_id).await.len() >= before + more).then_some(())
        },
    )
    .await;
}

/// Stops the traffic, waits until every send is acked, reads the history from `reader_on`,
/// lets every client catch up to its last seq, and checks: history is 1..N, every acked
/// message is in it under its seq, no `client_id` stored twice, every client received exactly
/// 1..N with no duplicate on one connection outside a resume window.
async fn finish_traffic(
    control: &Control,
    traffic: Traffic,
    reader_on: &Instance,
    reader: &TestUser,
    room_id: &str,
) -> Vec<TrafficClient> {
    control.stop_sending();
    eventually("every send acked", Duration::from_secs(30), || async {
        traffic
            .pending
            .iter()
            .all(|p| p.load(Ordering::SeqCst) == 0)
            .then_some(())
    })
    .await;
    let stored = history(reader_on, reader, room_id).await;
    let n = stored.len() as i64;
    let seqs: Vec<i64> = stored.iter().map(|m| m["seq"].as_i64().unwrap()).collect();
    assert!(seqs.iter().copied().eq(1..=n), "history is gap-free");
    control.finish_at(n);
    let mut clients = Vec::new();
    for task in traffic.tasks {
        let client = tokio::time::timeout(Duration::from_secs(30), task)
            .await
            .expect("every client reaches the last seq within 30 s")
            .expect("client task");
        clients.push(client);
    }

    // Storage: every acked message is there under its seq; no client_id twice.
    let mut by_client_id: BTreeMap<(String, String), i64> = BTreeMap::new();
    for m in &stored {
        let key = (
            m["sender_username"].as_str().unwrap().to_owned(),
            m["client_id"].as_str().unwrap_or_default().to_owned(),
        );
        let seq = m["seq"].as_i64().unwrap();
        assert!(
            by_client_id.insert(key.clone(), seq).is_none(),
            "stored twice: {key:?}"
        );
    }
    let mut acked = 0;
    for client in &clients {
        for (client_id, seq) in &client.acked {
            acked += 1;
            assert_eq!(
                by_client_id.get(&(client.name.clone(), client_id.clone())),
                Some(seq),
                "{}: acked {client_id} as seq {seq}; history disagrees",
                client.name
            );
        }
    }
    assert_eq!(
        acked,
        stored.len(),
        "every stored message was acked to its sender"
    );

    // Delivery: each client got 1..N; no duplicate on one connection outside a resume window.
    let mut failures = Vec::new();
    for client in &clients {
        let summary: Vec<String> = client
            .connections
            .iter()
            .map(|c| {
                format!(
                    "{} [{} frames, {} overlap] → {}",
                    c.url,
                    c.seqs.len(),
                    c.resume_overlap,
                    c.end
                )
            })
            .collect();
        eprintln!("{}: {summary:?}", client.name);
        for connection in &client.connections {
            if !connection.duplicates.is_empty() {
                failures.push(format!(
                    "{}: duplicates on one connection to {}: {:#?}",
                    client.name, connection.url, connection.duplicates
                ));
            }
        }
        let missing: Vec<i64> = (1..=n).filter(|s| !client.have.contains(s)).collect();
        if !client.gap_free_to(n) {
            failures.push(format!("{}: missing {missing:?} of 1..={n}", client.name));
        }
        if !client.errors.is_empty() {
            failures.push(format!("{}: error frames {:?}", client.name, client.errors));
        }
    }
    assert!(failures.is_empty(), "{failures:#?}");
    clients
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn kill_9_mid_traffic_loses_and_duplicates_nothing() {
    if postgres().is_none() {
        return;
    }
    let (_redis, _spec, mut instances) = cluster(&["a", "b"], |s| s).await;
    let names = [("alice", 0), ("carol", 0), ("bob", 1), ("dave", 1)];
    let (room_id, users) = traffic_setup(&instances, &names).await;
    let control = Control::default();
    let traffic = start_traffic(&instances, &names, &users, &room_id, &control);
    let b_user = users[2].clone();
    grows_by(&instances[1], &b_user, &room_id, 20).await;

    instances[0].kill9();
    // A's clients (alice, carol) reconnect to B; traffic goes on there from all four.
    for opened in &traffic.opened[..2] {
        eventually("A's clients on B", Duration::from_secs(20), || async {
            (opened.load(Ordering::SeqCst) >= 2).then_some(())
        })
        .await;
    }
    grows_by(&instances[1], &b_user, &room_id, 30).await;
    let clients = finish_traffic(&control, traffic, &instances[1], &b_user, &room_id).await;
    for client in &clients[..2] {
        let last = client.connections.last().unwrap();
        assert_eq!(
            last.url,
            instances[1].ws_url(),
            "{} moved to B",
            client.name
        );
        assert!(client.reconnects() >= 1, "{}", client.name);
    }
    eprintln!(
        "kill -9: {} messages, acked and delivered once each",
        clients.iter().map(|c| c.acked.len()).sum::<usize>()
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_redis_restart_mid_traffic_loses_and_duplicates_nothing() {
    if postgres().is_none() {
        return;
    }
    let (mut redis, _spec, instances) =
        cluster(&["a", "b"], |s| s.with("ECHOCHAT_REDIS__TIMEOUT_MS", "500")).await;
    let names = [("alice", 0), ("carol", 0), ("bob", 1), ("dave", 1)];
    let (room_id, users) = traffic_setup(&instances, &names).await;
    let control = Control::default();
    let traffic = start_traffic(&instances, &names, &users, &room_id, &control);
    let b_user = users[2].clone();
    grows_by(&instances[1], &b_user, &room_id, 20).await;

    tokio::task::block_in_place(|| redis.stop());
    let down = Instant::now();
    for instance in &instances {
        eventually(
            &format!("instance {} not ready without Redis", instance.id),
            Duration::from_secs(15),
            || async { (status_of(instance, READY).await == 503).then_some(()) },
        )
        .await;
        assert_eq!(
            status_of(instance, LIVE).await,
            200,
            "{} is alive",
            instance.id
        );
    }
    let resp = crate::cluster_harness::get(&instances[0], READY, None).await;
    let body: Value = resp.json().await.unwrap_or(Value::Null);
    eprintln!(
        "readiness without Redis ({:?} after the stop): {body}",
        down.elapsed()
    );
    // The instances keep serving their own connections meanwhile.
    grows_by(&instances[1], &b_user, &room_id, 10).await;

    tokio::task::block_in_place(|| redis.start_again());
    let up = Instant::now();
    wait_ready(&instances, Duration::from_secs(30)).await;
    eprintln!("ready again {:?} after Redis came back", up.elapsed());
    for instance in &instances {
        assert_eq!(status_of(instance, LIVE).await, 200);
    }
    grows_by(&instances[1], &b_user, &room_id, 20).await;
    let clients = finish_traffic(&control, traffic, &instances[1], &b_user, &room_id).await;
    for client in &clients {
        assert!(
            client
                .connections
                .iter()
                .any(|c| c.close_code == Some(1012) || format!("{:?}", c.end).contains("reset")),
            "{}: closed with 1012 (or reset) to reconnect and resume: {:?}",
            client.name,
            client
                .connections
                .iter()
                .map(|c| &c.end)
                .collect::<Vec<_>>()
        );
    }
}

// --- 7. Periodic jobs run once ----------------------------------------------------------------

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_periodic_job_runs_once_per_period_not_once_per_instance() {
    if postgres().is_none() {
        return;
    }
    let (redis, spec, _instances) = cluster(&["a", "b", "c"], |s| {
        s.with("ECHOCHAT_CLUSTER__JANITOR_INTERVAL_SECS", "1")
    })
    .await;
    let mut conn = redis.conn().await;
    let runs = spec.key("jobs:janitor:runs");
    eventually("janitor runs recorded", Duration::from_secs(15), || {
        let (mut conn, runs) = (conn.clone(), runs.clone());
        async move {
            let len: i64 = redis::cmd("LLEN")
                .arg(&runs)
                .query_async(&mut conn)
                .await
                .ok()?;
            (len >= 2).then_some(())
        }
    })
    .await;
    let now_ms = || chrono::Utc::now().timestamp_millis();
    let (from, window) = (now_ms(), Duration::from_secs(4));
    tokio::time::sleep(window).await;
    let to = now_ms();
    let entries: Vec<String> = redis::cmd("LRANGE")
        .arg(&runs)
        .arg(0)
        .arg(-1)
        .query_async(&mut conn)
        .await
        .unwrap();
    let mut in_window = Vec::new();
    for entry in &entries {
        let (instance, at) = entry.split_once(' ').expect("\"<instance> <unix_ms>\"");
        let at: i64 = at.parse().expect("unix ms");
        if (from..to).contains(&at) {
            in_window.push((at, instance.to_owned()));
        }
    }
    in_window.sort();
    let secs = (to - from) as f64 / 1000.0;
    eprintln!(
        "janitor: {} runs in {secs:.1} s with three instances: {in_window:?}",
        in_window.len()
    );
    assert!(
        (2..=6).contains(&in_window.len()),
        "about one run a second in all, not one per instance: {} in {secs:.1} s",
        in_window.len()
    );
}

// --- 8. Garbage on the bus --------------------------------------------------------------------

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn malformed_messages_on_the_bus_are_ignored() {
    if postgres().is_none() {
        return;
    }
    let (redis, spec, mut instances) = cluster(&["a", "b"], |s| s).await;
    let alice = user(&instances[0], "alice").await;
    let bob = user(&instances[1], "bob").await;
    let room_id = room(&instances[0], &alice, "Noisy").await;
    join(&instances[1], &bob, &room_id).await;
    let (mut wa, _) = ws(&instances[0], &alice).await;
    let (mut wb, _) = ws(&instances[1], &bob).await;
    let first = send_acked(&mut wa, &room_id, "m1", "before the noise").await;
    expect_message(&mut wb, &room_id, first["seq"].as_i64().unwrap()).await;

    let mut conn = redis.conn().await;
    let channel = spec.key("events");
    let garbage: Vec<Vec<u8>> = vec![
        b"this is not JSON {".to_vec(),
        vec![0xff, 0xfe, 0x00, 0x80],
        json!({"origin": 5, "seq": "x"}).to_string().into_bytes(),
        json!({"origin": "intruder-1", "seq": 1, "body": {"kind": "launch_missiles"}})
            .to_string()
            .into_bytes(),
        json!({"origin": "intruder-2", "seq": 1, "body": {"kind": "event", "event": {"nonsense": true}}})
            .to_string()
            .into_bytes(),
        json!({"origin": "intruder-3", "seq": 1, "body": {"kind": "event", "event": "not an object"}})
            .to_string()
            .into_bytes(),
        json!({"origin": "intruder-4", "seq": 1, "body": {"kind": "event", "event": {"type": "message_created", "message": {"id": 1}}}})
            .to_string()
            .into_bytes(),
    ];
    for payload in &garbage {
        let receivers: i64 = redis::cmd("PUBLISH")
            .arg(&channel)
            .arg(payload.as_slice())
            .query_async(&mut conn)
            .await
            .unwrap();
        assert!(
            receivers >= 2,
            "both instances subscribe to {channel}: {receivers}"
        );
    }

    // After the noise (same channel, so it was read first) messages still cross, both ways,
    // on the same sockets.
    let second = send_acked(&mut wa, &room_id, "m2", "after the noise").await;
    expect_message(&mut wb, &room_id, second["seq"].as_i64().unwrap()).await;
    let third = send_acked(&mut wb, &room_id, "m3", "and back").await;
    expect_message(&mut wa, &room_id, third["seq"].as_i64().unwrap()).await;
    for instance in &mut instances {
        assert!(instance.is_running(), "instance {} still runs", instance.id);
        let panicked = instance.output.find("panicked");
        assert!(panicked.is_none(), "{}: {panicked:?}", instance.id);
    }
    wait_ready(&instances, READY_WITHIN).await;
    for instance in &mut instances {
        let status = instance.terminate().await;
        assert!(status.success(), "{} stops cleanly: {status}", instance.id);
    }
}
