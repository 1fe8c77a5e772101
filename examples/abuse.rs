//! The abuse attempts of the rate-limit issue (not a test), against a running server, from one
//! client address; prints how many requests each attempt got through and how fast:
//!
//! 1. a WebSocket flood: one user sends ABUSE_WS_MESSAGES (3000) `send` frames as fast as it can;
//! 2. ABUSE_ROOMS (2000) room creations by one user, then ABUSE_INVITES (300) invitations of one
//!    victim, spread over the rooms that were created;
//! 3. ABUSE_LOGINS (600) wrong passwords in a row for one account;
//! 4. ABUSE_SIGNUPS (200) registrations, 8 at a time.
//!
//! ```text
//! echochat --data-dir /tmp/abuse            # prints the setup link with its token
//! cargo run --example abuse -- http://127.0.0.1:8080 <setup-token>
//! LOADGEN=target/debug/examples/abuse examples/bench.sh target/debug/echochat sqlite
//! ```
//! The attempts run in this order so that the attacker's own sign-in and registrations come
//! before the login and sign-up floods that use up this address's allowance.
#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::{
    collections::HashMap,
    time::{Duration, Instant},
};

use futures_util::{SinkExt, StreamExt, stream};
use serde_json::{Value, json};
use tokio_tungstenite::tungstenite::{Message, client::IntoClientRequest, http::HeaderValue};

const PASSWORD: &str = "abuse-test-password";

fn env(name: &str, default: usize) -> usize {
    std::env::var(name)
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(default)
}

/// Status code → count, printed in a fixed order.
#[derive(Default)]
struct Tally(HashMap<String, usize>);

impl Tally {
    fn add(&mut self, what: impl Into<String>) {
        *self.0.entry(what.into()).or_default() += 1;
    }

    fn get(&self, what: &str) -> usize {
        self.0.get(what).copied().unwrap_or(0)
    }

    fn show(&self) -> String {
        let mut items: Vec<_> = self.0.iter().collect();
        items.sort();
        items
            .iter()
            .map(|(k, v)| format!("{k}: {v}"))
            .collect::<Vec<_>>()
            .join(", ")
    }
}

fn report(name: &str, tally: &Tally, total: usize, accepted: usize, took: Duration) {
    let secs = took.as_secs_f64();
    println!(
        "{name}: {total} attempts in {secs:.2} s ({:.0}/s); accepted {accepted} ({:.1} %), refused {} ({:.1} %); {}",
        total as f64 / secs,
        100.0 * accepted as f64 / total as f64,
        total - accepted,
        100.0 * (total - accepted) as f64 / total as f64,
        tally.show()
    );
}

async fn post(
    http: &reqwest::Client,
    url: String,
    token: Option<&str>,
    body: Value,
) -> (u16, Value) {
    let mut req = http.post(url).json(&body);
    if let Some(token) = token {
        req = req.bearer_auth(token);
    }
    let resp = req.send().await.expect("request");
    let status = resp.status().as_u16();
    let body = resp.json().await.unwrap_or(Value::Null);
    (status, body)
}

#[tokio::main]
async fn main() {
    let mut args = std::env::args().skip(1);
    let base = args.next().expect("usage: abuse <base-url> <setup-token>");
    let setup_token = args.next().expect("usage: abuse <base-url> <setup-token>");
    let http = reqwest::Client::new();
    let url = |path: &str| format!("{base}/api/v1{path}");

    let (status, _) = post(
        &http,
        url("/setup"),
        None,
        json!({"token": setup_token, "username": "abuseadmin", "password": PASSWORD}),
    )
    .await;
    assert_eq!(status, 201, "setup (a fresh server?)");
    for name in ["attacker", "victim"] {
        let (status, _) = post(
            &http,
            url("/auth/register"),
            None,
            json!({"username": name, "password": PASSWORD}),
        )
        .await;
        assert_eq!(status, 201, "register {name}");
    }
    let (status, session) = post(
        &http,
        url("/auth/login"),
        None,
        json!({"username": "attacker", "password": PASSWORD}),
    )
    .await;
    assert_eq!(status, 200, "login");
    let token = session["access_token"].as_str().unwrap().to_owned();
    let convs: Value = http
        .get(url("/conversations"))
        .bearer_auth(&token)
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    let lobby = convs["conversations"]
        .as_array()
        .unwrap()
        .iter()
        .find(|c| c["name"] == "Lobby")
        .and_then(|c| c["id"].as_str())
        .expect("lobby")
        .to_owned();

    // 1. WebSocket flood.
    let n = env("ABUSE_WS_MESSAGES", 3000);
    let mut req = format!("{}/api/v1/ws", base.replacen("http", "ws", 1))
        .into_client_request()
        .unwrap();
    req.headers_mut().insert(
        "authorization",
        HeaderValue::from_str(&format!("Bearer {token}")).unwrap(),
    );
    let (ws, _) = tokio_tungstenite::connect_async(req).await.expect("ws");
    let (mut sink, mut stream) = ws.split();
    let start = Instant::now();
    let writer = tokio::spawn(async move {
        for i in 0..n {
            let frame = json!({"type": "send", "conversation_id": lobby,
                "client_id": format!("flood-{i}"), "body": format!("flood {i}")});
            sink.send(Message::Text(frame.to_string().into()))
                .await
                .unwrap();
        }
        sink
    });
    let mut tally = Tally::default();
    let mut answered = 0;
    let mut first_wait = None;
    while answered < n {
        let text = match tokio::time::timeout(Duration::from_secs(30), stream.next()).await {
            Ok(Some(Ok(Message::Text(text)))) => text,
            Ok(Some(Ok(Message::Close(frame)))) => {
                let code = frame.map_or(0, |f| u16::from(f.code));
                println!("  the server closed the WebSocket ({code}) after {answered} answers");
                break;
            }
            Ok(Some(Ok(_))) => continue,
            Ok(Some(Err(_)) | None) => {
                println!("  the WebSocket ended after {answered} answers");
                break;
            }
            Err(_) => {
                println!("  no answer for 30 s after {answered} answers");
                break;
            }
        };
        let frame: Value = serde_json::from_str(&text).unwrap();
        match frame["type"].as_str() {
            Some("ack") => {
                answered += 1;
                tally.add("ack");
            }
            Some("error") if frame["client_id"].is_string() => {
                answered += 1;
                first_wait = first_wait.or(frame["retry_after_ms"].as_u64());
                tally.add(format!("error {}", frame["code"].as_str().unwrap_or("?")));
            }
            _ => {}
        }
    }
    let took = start.elapsed();
    writer.abort();
    if answered < n {
        tally.add("unanswered (connection gone)");
    }
    report("WebSocket flood", &tally, n, tally.get("ack"), took);
    if let Some(ms) = first_wait {
        println!("  first refusal: retry_after_ms = {ms}");
    }

    // 2. Rooms, then invitations of one victim.
    let n = env("ABUSE_ROOMS", 2000);
    let mut tally = Tally::default();
    let mut rooms = Vec::new();
    let start = Instant::now();
    for i in 0..n {
        let (status, body) = post(
            &http,
            url("/rooms"),
            Some(&token),
            json!({"name": format!("spam-{i}"), "visibility": "private"}),
        )
        .await;
        tally.add(status.to_string());
        if status == 201 {
            rooms.push(body["id"].as_str().unwrap().to_owned());
        }
    }
    report("Room creation", &tally, n, rooms.len(), start.elapsed());
    let n = env("ABUSE_INVITES", 300);
    let mut tally = Tally::default();
    let start = Instant::now();
    for i in 0..n {
        let room = if rooms.is_empty() {
            break;
        } else {
            &rooms[i % rooms.len()]
        };
        let (status, body) = post(
            &http,
            url(&format!("/rooms/{room}/invites")),
            Some(&token),
            json!({"username": "victim"}),
        )
        .await;
        let code = body["code"].as_str().unwrap_or("");
        tally.add(format!("{status} {code}").trim().to_owned());
    }
    report("Invitations", &tally, n, tally.get("201"), start.elapsed());
    let (_, victim) = post(
        &http,
        url("/auth/login"),
        None,
        json!({"username": "victim", "password": PASSWORD}),
    )
    .await;
    let victim_token = victim["access_token"].as_str().unwrap_or_default();
    let mut pending = 0;
    let mut cursor = String::new();
    loop {
        let page: Value = http
            .get(url(&format!("/conversations?limit=200{cursor}")))
            .bearer_auth(victim_token)
            .send()
            .await
            .unwrap()
            .json()
            .await
            .unwrap_or(Value::Null);
        pending += page["conversations"].as_array().map_or(0, |c| {
            c.iter().filter(|c| c["membership"] == "invited").count()
        });
        match page["next_cursor"].as_str() {
            Some(next) => cursor = format!("&cursor={next}"),
            None => break,
        }
    }
    println!("  the victim's pending invitations: {pending}");

    // 3. Wrong passwords in a row.
    let n = env("ABUSE_LOGINS", 600);
    let mut tally = Tally::default();
    let start = Instant::now();
    let mut last_401 = start;
    for i in 0..n {
        let (status, _) = post(
            &http,
            url("/auth/login"),
            None,
            json!({"username": "victim", "password": format!("guess-{i}")}),
        )
        .await;
        if status == 401 {
            last_401 = Instant::now();
        }
        tally.add(status.to_string());
    }
    let took = start.elapsed();
    report("Wrong passwords", &tally, n, tally.get("401"), took);
    println!(
        "  password checks: {} in {:.2} s ({:.1}/s overall)",
        tally.get("401"),
        (last_401 - start).as_secs_f64(),
        tally.get("401") as f64 / took.as_secs_f64()
    );

    // 4. Sign-ups, 8 at a time.
    let n = env("ABUSE_SIGNUPS", 200);
    let start = Instant::now();
    let statuses: Vec<u16> = stream::iter(0..n)
        .map(|i| {
            let http = http.clone();
            let url = url("/auth/register");
            async move {
                post(
                    &http,
                    url,
                    None,
                    json!({"username": format!("bot{i}"), "password": PASSWORD}),
                )
                .await
                .0
            }
        })
        .buffer_unordered(8)
        .collect()
        .await;
    let mut tally = Tally::default();
    for status in statuses {
        tally.add(status.to_string());
    }
    report("Sign-ups", &tally, n, tally.get("201"), start.elapsed());
}
