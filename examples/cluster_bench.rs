//! Benchmark of several instances (not a test): what the Redis bus adds. Against running
//! instances that share one PostgreSQL database and one Redis (docs/scaling.md):
//!
//! 1. **delivery latency**: one sender on the first instance posts into a room every
//!    `BENCH_INTERVAL_MS`; receivers on the first instance and on the second time each `message`
//!    frame from the send. p50/p95/p99 for "same instance" and "other instance": the difference is
//!    what crossing Redis adds;
//! 2. **throughput**: `BENCH_SENDERS` senders, spread over the given instances round-robin, keep
//!    `BENCH_WINDOW` sends in flight each until `BENCH_MESSAGES` are acked (persisted);
//! 3. **Redis traffic** during phase 2, from `INFO stats` (`total_net_input_bytes`,
//!    `total_net_output_bytes`, `total_commands_processed`), per message.
//!
//! ```text
//! cargo run --release --example cluster_bench -- http://127.0.0.1:8081,http://127.0.0.1:8082 \
//!     <setup-token> redis://127.0.0.1:6379
//! ```
//! With one URL, phase 1 measures same-instance delivery only, and phase 2 one instance. The
//! Redis URL is optional (no phase 3 without it). Environment: BENCH_USERS (20), BENCH_SENDERS
//! (8), BENCH_MESSAGES (20000), BENCH_WINDOW (32), BENCH_LATENCY_MESSAGES (500),
//! BENCH_INTERVAL_MS (10), BENCH_PREFIX (the setup admin's name prefix, `bench`).
#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::{
    collections::HashMap,
    sync::Arc,
    time::{Duration, Instant},
};

use futures_util::{SinkExt, StreamExt};
use serde_json::{Value, json};
use tokio::sync::Mutex;
use tokio_tungstenite::tungstenite::{Message, client::IntoClientRequest, http::HeaderValue};

const PASSWORD: &str = "bench-password-123";

type Ws =
    tokio_tungstenite::WebSocketStream<tokio_tungstenite::MaybeTlsStream<tokio::net::TcpStream>>;

fn env(name: &str, default: usize) -> usize {
    std::env::var(name)
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(default)
}

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

fn percentile(sorted: &[f64], p: f64) -> f64 {
    if sorted.is_empty() {
        return f64::NAN;
    }
    sorted[((sorted.len() as f64 - 1.0) * p).round() as usize]
}

fn summary(name: &str, mut v: Vec<f64>) {
    v.sort_by(|a, b| a.partial_cmp(b).unwrap());
    println!(
        "{name}: n={} p50={:.3} ms p95={:.3} ms p99={:.3} ms",
        v.len(),
        percentile(&v, 0.5),
        percentile(&v, 0.95),
        percentile(&v, 0.99)
    );
}

/// `INFO stats` counters of Redis.
async fn redis_counters(url: &str) -> HashMap<String, u64> {
    let client = redis::Client::open(url).expect("redis url");
    let mut conn = client
        .get_multiplexed_async_connection()
        .await
        .expect("redis");
    let info: String = redis::cmd("INFO")
        .arg("stats")
        .query_async(&mut conn)
        .await
        .expect("INFO");
    info.lines()
        .filter_map(|l| l.split_once(':'))
        .filter_map(|(k, v)| Some((k.to_owned(), v.trim().parse().ok()?)))
        .collect()
}

#[tokio::main]
async fn main() {
    let _ = rustls::crypto::aws_lc_rs::default_provider().install_default();
    let args: Vec<String> = std::env::args().collect();
    let bases: Vec<String> = args
        .get(1)
        .expect("usage: cluster_bench <url,url,…> <setup-token> [redis-url]")
        .split(',')
        .map(|s| s.trim_end_matches('/').to_owned())
        .collect();
    let setup_token = args.get(2).expect("setup token").clone();
    let redis_url = args.get(3).cloned();
    let (users, senders, total, window) = (
        env("BENCH_USERS", 20),
        env("BENCH_SENDERS", 8),
        env("BENCH_MESSAGES", 20_000),
        env("BENCH_WINDOW", 32),
    );
    let latency_n = env("BENCH_LATENCY_MESSAGES", 500);
    let interval = Duration::from_millis(env("BENCH_INTERVAL_MS", 10) as u64);
    let http = reqwest::Client::new();
    let first = &bases[0];

    let admin = post(
        &http,
        format!("{first}/api/v1/setup"),
        None,
        json!({"token": setup_token, "username": "benchadmin", "password": PASSWORD}),
    )
    .await;
    let admin_token = admin["access_token"]
        .as_str()
        .expect("setup ok (fresh server?)")
        .to_owned();
    let room = post(
        &http,
        format!("{first}/api/v1/rooms"),
        Some(&admin_token),
        json!({"name": "bench", "visibility": "public"}),
    )
    .await["id"]
        .as_str()
        .unwrap()
        .to_owned();
    let mut tokens = Vec::new();
    for i in 0..users {
        let name = format!("bench{i}");
        post(
            &http,
            format!("{first}/api/v1/auth/register"),
            None,
            json!({"username": name, "password": PASSWORD}),
        )
        .await;
        let token = post(
            &http,
            format!("{first}/api/v1/auth/login"),
            None,
            json!({"username": name, "password": PASSWORD}),
        )
        .await["access_token"]
            .as_str()
            .expect("login")
            .to_owned();
        post(
            &http,
            format!("{first}/api/v1/rooms/{room}/join"),
            Some(&token),
            json!({}),
        )
        .await;
        tokens.push(token);
    }
    println!(
        "instances: {} | users {users} | room {room}",
        bases.join(", ")
    );

    // 1. Delivery latency: same instance vs the other one.
    let sent_at: Arc<Mutex<HashMap<String, Instant>>> = Arc::default();
    let mut receivers = Vec::new();
    for (i, token) in tokens.iter().enumerate().skip(1).take(4) {
        let base = bases[i % bases.len()].clone();
        let same = base == *first;
        let mut ws = connect(&base, token).await;
        let sent_at = sent_at.clone();
        receivers.push(tokio::spawn(async move {
            let mut times = Vec::new();
            let deadline = tokio::time::Instant::now() + Duration::from_secs(120);
            while times.len() < latency_n {
                let Ok(Some(Ok(Message::Text(t)))) =
                    tokio::time::timeout_at(deadline, ws.next()).await
                else {
                    break;
                };
                if !t.contains("\"type\":\"message\"") {
                    continue;
                }
                let v: Value = serde_json::from_str(&t).unwrap();
                let body = v["message"]["body"].as_str().unwrap_or_default().to_owned();
                let now = Instant::now();
                if let Some(at) = sent_at.lock().await.get(&body) {
                    times.push(now.duration_since(*at).as_secs_f64() * 1000.0);
                }
            }
            (same, times)
        }));
    }
    tokio::time::sleep(Duration::from_millis(500)).await;
    let mut sender = connect(first, &tokens[0]).await;
    for i in 0..latency_n {
        let body = format!("lat-{i}");
        sent_at.lock().await.insert(body.clone(), Instant::now());
        let frame = json!({"type": "send", "conversation_id": room, "client_id": format!("l{i}"), "body": body});
        sender
            .send(Message::Text(frame.to_string().into()))
            .await
            .unwrap();
        tokio::time::sleep(interval).await;
        while let Ok(Some(_)) = tokio::time::timeout(Duration::ZERO, sender.next()).await {}
    }
    let (mut same, mut other) = (Vec::new(), Vec::new());
    for r in receivers {
        let (is_same, times) = r.await.unwrap();
        if is_same {
            same.extend(times);
        } else {
            other.extend(times);
        }
    }
    summary("delivery, receiver on the sender's instance", same);
    if bases.len() > 1 {
        summary("delivery, receiver on another instance", other);
    }

    // 2. Throughput (3. Redis traffic around it).
    let before = match &redis_url {
        Some(url) => Some(redis_counters(url).await),
        None => None,
    };
    let per_sender = total / senders;
    let started = Instant::now();
    let mut tasks = Vec::new();
    for s in 0..senders {
        let base = bases[s % bases.len()].clone();
        let token = tokens[s % tokens.len()].clone();
        let room = room.clone();
        tasks.push(tokio::spawn(async move {
            let ws = connect(&base, &token).await;
            let (mut tx, mut rx) = ws.split();
            let (mut sent, mut acked) = (0usize, 0usize);
            while acked < per_sender {
                while sent < per_sender && sent - acked < window {
                    let frame = json!({"type": "send", "conversation_id": room, "client_id": format!("t{s}-{sent}"), "body": format!("throughput {s} {sent}")});
                    tx.send(Message::Text(frame.to_string().into()))
                        .await
                        .unwrap();
                    sent += 1;
                }
                match rx.next().await {
                    Some(Ok(Message::Text(t))) if t.contains("\"type\":\"ack\"") => acked += 1,
                    Some(Ok(Message::Text(t))) if t.contains("\"type\":\"error\"") => {
                        panic!("{t}")
                    }
                    Some(Ok(_)) => {}
                    other => panic!("{other:?}"),
                }
            }
            acked
        }));
    }
    let mut acked = 0;
    for t in tasks {
        acked += t.await.unwrap();
    }
    let secs = started.elapsed().as_secs_f64();
    println!(
        "throughput: {acked} messages persisted in {secs:.2} s = {:.0} msg/s ({} instance(s), {senders} senders × {window} in flight)",
        acked as f64 / secs,
        bases.len()
    );
    if let (Some(url), Some(before)) = (&redis_url, before) {
        let after = redis_counters(url).await;
        let delta = |k: &str| after.get(k).unwrap_or(&0) - before.get(k).unwrap_or(&0);
        let n = acked.max(1) as f64;
        println!(
            "redis per message: {:.0} B in, {:.0} B out, {:.2} commands ({} messages; in = what instances published, out = what subscribers received)",
            delta("total_net_input_bytes") as f64 / n,
            delta("total_net_output_bytes") as f64 / n,
            delta("total_commands_processed") as f64 / n,
            acked
        );
    }
}
