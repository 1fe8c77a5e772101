//! Load generator for EchoChat (not a test), against a running server. Phases:
//! 1. sequential sends: one client sends, waits for the ack, sends again (ack p50/p99);
//! 2. a login storm: every user connects; counts the `presence` frames all of them receive
//!    (with LOAD_WATCH=1 each also watches the shared room's member list, as the web client does);
//!    with LOAD_SERVER_PID, the server's RSS growth per idle WebSocket;
//! 3. throughput: messages persisted (acked after commit) per second;
//! 4. latency: send → delivery to every member of a room of LOAD_USERS;
//! 5. with LOAD_FRIENDS=k (each user befriends the next k, so everyone has 2k friends): every user
//!    turns busy (`PUT /presence`); counts the `presence` frames and times each delivery to a
//!    friend (PUT sent → frame received).
//!
//! ```text
//! echochat --data-dir /tmp/load            # prints the setup link with its token
//! cargo run --release --example loadgen -- http://127.0.0.1:8080 <setup-token>
//! ```
//! Environment: LOAD_USERS (100), LOAD_SENDERS (10), LOAD_MESSAGES (20000), LOAD_WINDOW (64 in
//! flight per sender), LOAD_LATENCY_MESSAGES (300), LOAD_LATENCY_INTERVAL_MS (20),
//! LOAD_SEQUENTIAL (300), LOAD_WATCH (0), LOAD_FRIENDS (0), LOAD_SERVER_PID (unset).
#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::{
    collections::HashMap,
    sync::{Arc, Mutex},
    time::{Duration, Instant},
};

use futures_util::{SinkExt, StreamExt};
use serde_json::{Value, json};
use tokio_tungstenite::tungstenite::{Message, client::IntoClientRequest, http::HeaderValue};

const PASSWORD: &str = "load-test-password";

fn env(name: &str, default: usize) -> usize {
    std::env::var(name)
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(default)
}

type Ws =
    tokio_tungstenite::WebSocketStream<tokio_tungstenite::MaybeTlsStream<tokio::net::TcpStream>>;

async fn connect(base: &str, token: &str) -> Ws {
    let mut req = format!("{}/api/v1/ws", base.replacen("http", "ws", 1))
        .into_client_request()
        .unwrap();
    req.headers_mut().insert(
        "authorization",
        HeaderValue::from_str(&format!("Bearer {token}")).unwrap(),
    );
    let (mut ws, _) = tokio_tungstenite::connect_async(req).await.expect("ws");
    let ready = ws.next().await.unwrap().unwrap();
    assert!(ready.to_text().unwrap().contains("\"ready\""));
    ws
}

/// POSTs JSON (with a bearer token when given) and returns the JSON answer.
async fn post(http: &reqwest::Client, url: String, token: Option<&str>, body: Value) -> Value {
    let mut req = http.post(url).json(&body);
    if let Some(token) = token {
        req = req.bearer_auth(token);
    }
    req.send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap_or(Value::Null)
}

async fn login(http: &reqwest::Client, base: &str, name: &str) -> (String, String) {
    let r = post(
        http,
        format!("{base}/api/v1/auth/login"),
        None,
        json!({"username": name, "password": PASSWORD}),
    )
    .await;
    (
        r["access_token"].as_str().expect("token").to_owned(),
        r["user"]["id"].as_str().expect("user id").to_owned(),
    )
}

/// User `i` asks users `i+1 … i+k` (modulo the count) to be friends and each accepts, so every
/// user has `2k` friends.
async fn befriend(http: &reqwest::Client, base: &str, users: &[(String, String)], k: usize) {
    let n = users.len();
    let pairs: Vec<(usize, usize)> = (0..n)
        .flat_map(|i| (1..=k.min(n.saturating_sub(1) / 2)).map(move |d| (i, (i + d) % n)))
        .collect();
    for chunk in pairs.chunks(16) {
        futures_util::future::join_all(chunk.iter().map(|(i, j)| async move {
            let (from, from_id) = &users[*i];
            let to = &users[*j].0;
            post(
                http,
                format!("{base}/api/v1/friends/requests"),
                Some(from),
                json!({"username": format!("load{j}")}),
            )
            .await;
            post(
                http,
                format!("{base}/api/v1/friends/requests/{from_id}/accept"),
                Some(to),
                json!({}),
            )
            .await;
        }))
        .await;
    }
}

/// Resident memory of a process in KiB (Linux `/proc/<pid>/status`).
fn rss_kib(pid: &str) -> Option<u64> {
    let status = std::fs::read_to_string(format!("/proc/{pid}/status")).ok()?;
    status
        .lines()
        .find(|l| l.starts_with("VmRSS:"))?
        .split_whitespace()
        .nth(1)?
        .parse()
        .ok()
}

/// CPU time (user + system) a process has used, in seconds (Linux `/proc/<pid>/stat`).
fn cpu_secs(pid: &str) -> Option<f64> {
    let stat = std::fs::read_to_string(format!("/proc/{pid}/stat")).ok()?;
    let fields: Vec<&str> = stat.rsplit(')').next()?.split_whitespace().collect();
    let ticks: f64 = fields.get(11)?.parse::<f64>().ok()? + fields.get(12)?.parse::<f64>().ok()?;
    Some(ticks / 100.0)
}

/// Sends `n` messages one at a time, each after the previous ack; returns the ack times (ms).
async fn sequential(base: &str, token: &str, room: &str, n: usize) -> Vec<f64> {
    let mut ws = connect(base, token).await;
    let mut times = Vec::with_capacity(n);
    for i in 0..n {
        let cid = format!("seq-{i}");
        let frame = json!({"type": "send", "conversation_id": room, "client_id": cid, "body": format!("sequential {i}")});
        let started = Instant::now();
        ws.send(Message::Text(frame.to_string().into()))
            .await
            .unwrap();
        loop {
            match ws.next().await {
                Some(Ok(Message::Text(t))) if t.contains("\"type\":\"ack\"") => break,
                Some(Ok(Message::Text(t))) if t.contains("\"type\":\"error\"") => panic!("{t}"),
                Some(Ok(Message::Close(f))) => panic!("closed: {f:?}"),
                Some(Ok(_)) => {}
                other => panic!("{other:?}"),
            }
        }
        times.push(started.elapsed().as_secs_f64() * 1000.0);
    }
    times.sort_by(|a, b| a.partial_cmp(b).unwrap());
    times
}

fn percentile(sorted: &[f64], p: f64) -> f64 {
    if sorted.is_empty() {
        return f64::NAN;
    }
    sorted[((sorted.len() as f64 - 1.0) * p).round() as usize]
}

#[tokio::main]
async fn main() {
    let _ = rustls::crypto::aws_lc_rs::default_provider().install_default();
    let args: Vec<String> = std::env::args().collect();
    let base = args
        .get(1)
        .cloned()
        .unwrap_or_else(|| "http://127.0.0.1:8080".into());
    let setup_token = args
        .get(2)
        .cloned()
        .expect("usage: loadgen <base-url> <setup-token>");
    let (users, senders, total, window) = (
        env("LOAD_USERS", 100),
        env("LOAD_SENDERS", 10),
        env("LOAD_MESSAGES", 20000),
        env("LOAD_WINDOW", 64),
    );
    let http = reqwest::Client::new();

    let admin = post(
        &http,
        format!("{base}/api/v1/setup"),
        None,
        json!({"token": setup_token, "username": "loadadmin", "password": PASSWORD}),
    )
    .await;
    let admin_token = admin["access_token"]
        .as_str()
        .expect("setup ok (fresh server?)")
        .to_owned();
    let room = post(
        &http,
        format!("{base}/api/v1/rooms"),
        Some(&admin_token),
        json!({"name": "load", "visibility": "public"}),
    )
    .await;
    let room = room["id"].as_str().unwrap().to_owned();

    eprintln!("registering {users} users…");
    let mut accounts: Vec<(String, String)> = Vec::new();
    for chunk in (0..users).collect::<Vec<_>>().chunks(8) {
        let batch = chunk.iter().map(|i| {
            let (http, base, room) = (http.clone(), base.clone(), room.clone());
            async move {
                let name = format!("load{i}");
                http.post(format!("{base}/api/v1/auth/register"))
                    .json(&json!({"username": name, "password": PASSWORD}))
                    .send()
                    .await
                    .unwrap();
                let (token, id) = login(&http, &base, &name).await;
                http.post(format!("{base}/api/v1/rooms/{room}/join"))
                    .bearer_auth(&token)
                    .json(&json!({}))
                    .send()
                    .await
                    .unwrap();
                (token, id)
            }
        });
        accounts.extend(futures_util::future::join_all(batch).await);
    }
    let friends = env("LOAD_FRIENDS", 0);
    if friends > 0 {
        eprintln!("making {friends} friendships per user…");
        befriend(&http, &base, &accounts, friends).await;
    }
    let tokens: Vec<String> = accounts.iter().map(|(t, _)| t.clone()).collect();

    // Phase 1: one sequential sender in a room of its own (request/response latency of a send).
    let n = env("LOAD_SEQUENTIAL", 300);
    if n > 0 {
        let own = post(
            &http,
            format!("{base}/api/v1/rooms"),
            Some(&admin_token),
            json!({"name": "sequential", "visibility": "private"}),
        )
        .await;
        let own = own["id"].as_str().unwrap().to_owned();
        let times = sequential(&base, &admin_token, &own, n).await;
        println!(
            "sequential: {n} sends, each after the previous ack: ack p50 {:.2} ms, p99 {:.2} ms, max {:.2} ms = {:.0} msg/s",
            percentile(&times, 0.50),
            percentile(&times, 0.99),
            times.last().copied().unwrap_or(f64::NAN),
            n as f64 / (times.iter().sum::<f64>() / 1000.0)
        );
    }

    // Phase 2: the login storm. Receivers: every user connects (all are in the Lobby and in the
    // room), counting the presence frames everyone receives meanwhile.
    let server_pid = std::env::var("LOAD_SERVER_PID").ok();
    let rss_before = server_pid.as_deref().and_then(rss_kib);
    let watch = env("LOAD_WATCH", 0) == 1;
    let presence_frames = Arc::new(std::sync::atomic::AtomicU64::new(0));
    let sent_at: Arc<Mutex<HashMap<String, Instant>>> = Arc::default();
    let latencies: Arc<Mutex<Vec<f64>>> = Arc::default();
    let measuring = Arc::new(std::sync::atomic::AtomicBool::new(false));
    // Phase 5: when each user's presence change was sent, and each delivery's delay.
    let changed_at: Arc<Mutex<HashMap<String, Instant>>> = Arc::default();
    let presence_latencies: Arc<Mutex<Vec<f64>>> = Arc::default();
    let mut receivers = Vec::new();
    let storm = Instant::now();
    for token in &tokens {
        let mut ws = connect(&base, token).await;
        if watch {
            let frame = json!({"type": "watch", "conversation_id": room});
            ws.send(Message::Text(frame.to_string().into()))
                .await
                .unwrap();
        }
        let (sent_at, latencies, measuring, presence_frames) = (
            sent_at.clone(),
            latencies.clone(),
            measuring.clone(),
            presence_frames.clone(),
        );
        let (changed_at, presence_latencies) = (changed_at.clone(), presence_latencies.clone());
        receivers.push(tokio::spawn(async move {
            while let Some(Ok(msg)) = ws.next().await {
                if let Message::Text(text) = msg {
                    if text.contains("\"type\":\"presence\"") {
                        presence_frames.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
                        if text.contains("\"status\":\"busy\"") {
                            let v: Value = serde_json::from_str(&text).unwrap();
                            let at = v["user_id"]
                                .as_str()
                                .and_then(|u| changed_at.lock().unwrap().get(u).copied());
                            if let Some(t) = at {
                                presence_latencies
                                    .lock()
                                    .unwrap()
                                    .push(t.elapsed().as_secs_f64() * 1000.0);
                            }
                        }
                    }
                    if !measuring.load(std::sync::atomic::Ordering::Relaxed)
                        || !text.contains("\"type\":\"message\"")
                    {
                        continue;
                    }
                    let v: Value = serde_json::from_str(&text).unwrap();
                    let arrived = v["message"]["client_id"]
                        .as_str()
                        .and_then(|cid| sent_at.lock().unwrap().get(cid).copied());
                    if let Some(t) = arrived {
                        latencies
                            .lock()
                            .unwrap()
                            .push(t.elapsed().as_secs_f64() * 1000.0);
                    }
                }
            }
        }));
    }
    // Settle: until no presence frame arrived for a second (at most 30 s).
    let mut last = u64::MAX;
    let settle = Instant::now();
    loop {
        let now = presence_frames.load(std::sync::atomic::Ordering::Relaxed);
        if now == last || settle.elapsed() > Duration::from_secs(30) {
            break;
        }
        last = now;
        tokio::time::sleep(Duration::from_secs(1)).await;
    }
    println!(
        "login storm: {} users connected in {:.2} s{}; presence frames received by all of them: {}",
        receivers.len(),
        storm.elapsed().as_secs_f64(),
        if watch {
            ", each watching the shared room's member list"
        } else {
            ""
        },
        presence_frames.load(std::sync::atomic::Ordering::Relaxed)
    );
    if let (Some(before), Some(after)) = (rss_before, server_pid.as_deref().and_then(rss_kib)) {
        println!(
            "memory: server RSS {} KiB -> {} KiB with {} idle WebSockets = {:.1} KiB per WebSocket",
            before,
            after,
            receivers.len(),
            (after.saturating_sub(before)) as f64 / receivers.len().max(1) as f64
        );
    }

    // Phase 5 (run here, while the storm's connections are idle): everyone turns busy.
    if friends > 0 {
        let before = presence_frames.load(std::sync::atomic::Ordering::Relaxed);
        let started = Instant::now();
        for chunk in accounts.chunks(16) {
            futures_util::future::join_all(chunk.iter().map(|(token, id)| {
                let (http, base, changed_at) = (http.clone(), base.clone(), changed_at.clone());
                async move {
                    changed_at
                        .lock()
                        .unwrap()
                        .insert(id.clone(), Instant::now());
                    http.put(format!("{base}/api/v1/presence"))
                        .bearer_auth(token)
                        .json(&json!({"choice": "busy", "status_text": "load test"}))
                        .send()
                        .await
                        .unwrap();
                }
            }))
            .await;
        }
        let put_secs = started.elapsed().as_secs_f64();
        let expected = accounts.len() * 2 * friends.min(accounts.len().saturating_sub(1) / 2);
        let deadline = Instant::now() + Duration::from_secs(30);
        while presence_latencies.lock().unwrap().len() < expected && Instant::now() < deadline {
            tokio::time::sleep(Duration::from_millis(20)).await;
        }
        let mut times = presence_latencies.lock().unwrap().clone();
        times.sort_by(|a, b| a.partial_cmp(b).unwrap());
        println!(
            "presence: {} users turned busy in {:.2} s (PUT /presence, 16 at a time); {} of {} expected frames to friends ({} presence frames in all); delivery p50 {:.2} ms, p99 {:.2} ms, max {:.2} ms",
            accounts.len(),
            put_secs,
            times.len(),
            expected,
            presence_frames.load(std::sync::atomic::Ordering::Relaxed) - before,
            percentile(&times, 0.50),
            percentile(&times, 0.99),
            times.last().copied().unwrap_or(f64::NAN),
        );
    }

    // Phase 3: throughput (messages persisted per second). `senders` connections pipeline
    // `window` sends each, every sender into a room of its own, so the number measured is the
    // write path (validate, authorize, group commit, ack), not the client's ability to read a
    // room's full fan-out (on 2 cores the load generator itself could not read that fast).
    let per_sender = total / senders;
    let mut sender_rooms = Vec::new();
    for (s, token) in tokens.iter().take(senders).enumerate() {
        let r = post(
            &http,
            format!("{base}/api/v1/rooms"),
            Some(token),
            json!({"name": format!("throughput-{s}"), "visibility": "private"}),
        )
        .await;
        sender_rooms.push(r["id"].as_str().unwrap().to_owned());
    }
    let cpu_before = server_pid.as_deref().and_then(cpu_secs);
    let started = Instant::now();
    let mut tasks = Vec::new();
    for (s, token) in tokens.iter().take(senders).enumerate() {
        let mut ws = connect(&base, token).await;
        let room = sender_rooms[s].clone();
        tasks.push(tokio::spawn(async move {
            let (mut sent, mut acked) = (0usize, 0usize);
            while acked < per_sender {
                while sent < per_sender && sent - acked < window {
                    let frame = json!({"type": "send", "conversation_id": room, "client_id": format!("t{s}-{sent}"), "body": format!("throughput {s} {sent}")});
                    ws.send(Message::Text(frame.to_string().into())).await.unwrap();
                    sent += 1;
                }
                match ws.next().await {
                    Some(Ok(Message::Text(t))) if t.contains("\"type\":\"ack\"") => acked += 1,
                    Some(Ok(Message::Text(t))) if t.contains("\"type\":\"error\"") => panic!("{t}"),
                    Some(Ok(Message::Close(f))) => panic!("closed: {f:?}"),
                    Some(Ok(_)) => {}
                    other => panic!("{other:?}"),
                }
            }
            acked
        }));
    }
    let acked: usize = futures_util::future::join_all(tasks)
        .await
        .into_iter()
        .map(|r| r.unwrap())
        .sum();
    let secs = started.elapsed().as_secs_f64();
    let cpu = cpu_before
        .zip(server_pid.as_deref().and_then(cpu_secs))
        .map(|(before, after)| {
            format!(
                "; server CPU {:.2} s = {:.0} µs per message",
                after - before,
                (after - before) * 1e6 / acked.max(1) as f64
            )
        })
        .unwrap_or_default();
    println!(
        "throughput: {acked} messages acked (committed) in {secs:.2} s = {:.0} msg/s ({senders} senders x window {window}, one room each){cpu}",
        acked as f64 / secs
    );

    // Drain the backlog on the receivers before measuring latency.
    tokio::time::sleep(Duration::from_secs(3)).await;
    measuring.store(true, std::sync::atomic::Ordering::Relaxed);

    // Phase 4: latency. One sender, a message every interval; each member records arrival.
    let n = env("LOAD_LATENCY_MESSAGES", 300);
    let interval = Duration::from_millis(env("LOAD_LATENCY_INTERVAL_MS", 20) as u64);
    let mut ws = connect(&base, &admin_token).await;
    let mut tick = tokio::time::interval(interval);
    for i in 0..n {
        tick.tick().await;
        let cid = format!("lat-{i}");
        sent_at.lock().unwrap().insert(cid.clone(), Instant::now());
        let frame = json!({"type": "send", "conversation_id": room, "client_id": cid, "body": format!("latency {i}")});
        ws.send(Message::Text(frame.to_string().into()))
            .await
            .unwrap();
        while let Ok(Some(_)) = tokio::time::timeout(Duration::from_millis(1), ws.next()).await {}
    }
    tokio::time::sleep(Duration::from_secs(2)).await;
    let mut lat = latencies.lock().unwrap().clone();
    lat.sort_by(|a, b| a.partial_cmp(b).unwrap());
    println!(
        "latency to a room of {users}: {} deliveries, send->receive p50 {:.2} ms, p95 {:.2} ms, p99 {:.2} ms, max {:.2} ms (one message every {} ms)",
        lat.len(),
        percentile(&lat, 0.50),
        percentile(&lat, 0.95),
        percentile(&lat, 0.99),
        lat.last().copied().unwrap_or(f64::NAN),
        interval.as_millis()
    );
    for r in receivers {
        r.abort();
    }
}
