//! Connection hygiene (`[http]`), observed from outside with real sockets on 127.0.0.1:
//! TCP_NODELAY, the header, body, idle and WebSocket-handshake limits, the connection cap, and
//! graceful shutdown with connections open.

use std::time::Duration;

use bytes::Bytes;
use futures_util::{SinkExt, StreamExt};
use http_body_util::{BodyExt, Empty};
use hyper_util::rt::{TokioExecutor, TokioIo};
use serde_json::{Value, json};
use tokio::{
    io::{AsyncReadExt, AsyncWriteExt},
    net::TcpStream,
    time::{Instant, timeout},
};
use tokio_tungstenite::{
    MaybeTlsStream, WebSocketStream,
    tungstenite::{Message, client::IntoClientRequest, http::HeaderValue},
};

use crate::{
    both_backends,
    helpers::{Backend, PASSWORD, TestApp, TestUser, spawn_app_with, spawn_ready_app_with},
    startup,
};

const SECOND: Duration = Duration::from_secs(1);
/// Tolerance for "not before the limit": the server's clock starts at accept, ours a moment later.
const SLACK: Duration = Duration::from_millis(100);
/// The longest any wait for a server reaction may take before the test fails.
const DEADLINE: Duration = Duration::from_secs(5);

/// The first bytes of an HTTP/2 connection with prior knowledge: the preface and an empty SETTINGS.
const H2_PREFACE_AND_SETTINGS: &[u8] =
    b"PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n\x00\x00\x00\x04\x00\x00\x00\x00\x00";

/// A raw HTTP/1.1 client on one TCP connection (TCP_NODELAY on our side).
struct Raw {
    stream: TcpStream,
    buf: Vec<u8>,
}

/// One parsed response.
struct RawResponse {
    status: u16,
    headers: Vec<(String, String)>,
    body: Vec<u8>,
}

impl RawResponse {
    fn header(&self, name: &str) -> Option<&str> {
        self.headers
            .iter()
            .find(|(k, _)| k.eq_ignore_ascii_case(name))
            .map(|(_, v)| v.as_str())
    }

    fn json(&self) -> Value {
        serde_json::from_slice(&self.body).expect("JSON body")
    }
}

impl Raw {
    async fn connect(app: &TestApp) -> Self {
        let stream = TcpStream::connect(app.addr).await.expect("connect");
        stream.set_nodelay(true).expect("nodelay");
        Self {
            stream,
            buf: Vec::new(),
        }
    }

    async fn send(&mut self, bytes: &[u8]) {
        self.stream.write_all(bytes).await.expect("send");
    }

    /// `GET path` on this connection (keep-alive), and its response.
    async fn get(&mut self, path: &str) -> RawResponse {
        self.send(format!("GET {path} HTTP/1.1\r\nHost: echochat\r\n\r\n").as_bytes())
            .await;
        self.response().await
    }

    /// The next response (`Content-Length` bodies only); panics after [`DEADLINE`].
    async fn response(&mut self) -> RawResponse {
        timeout(DEADLINE, async {
            loop {
                if let Some(end) = self.buf.windows(4).position(|w| w == b"\r\n\r\n") {
                    let head = String::from_utf8_lossy(&self.buf[..end]).into_owned();
                    let mut lines = head.split("\r\n");
                    let status = lines
                        .next()
                        .and_then(|l| l.split_whitespace().nth(1))
                        .and_then(|s| s.parse().ok())
                        .expect("status line");
                    let headers: Vec<(String, String)> = lines
                        .filter_map(|l| l.split_once(':'))
                        .map(|(k, v)| (k.trim().to_owned(), v.trim().to_owned()))
                        .collect();
                    let len: usize = headers
                        .iter()
                        .find(|(k, _)| k.eq_ignore_ascii_case("content-length"))
                        .map_or(0, |(_, v)| v.parse().expect("content-length"));
                    while self.buf.len() < end + 4 + len {
                        let n = self.stream.read_buf(&mut self.buf).await.expect("read");
                        assert!(n > 0, "connection closed in the middle of a response");
                    }
                    let body = self.buf[end + 4..end + 4 + len].to_vec();
                    self.buf.drain(..end + 4 + len);
                    return RawResponse {
                        status,
                        headers,
                        body,
                    };
                }
                let n = self.stream.read_buf(&mut self.buf).await.expect("read");
                assert!(n > 0, "connection closed before a response");
            }
        })
        .await
        .expect("a response within 5 s")
    }

    /// Reads until the server closes the connection (end of stream or reset); returns how long
    /// that took. Panics if it is still open after `within`.
    async fn closed_within(&mut self, within: Duration) -> Duration {
        let start = Instant::now();
        let mut chunk = [0_u8; 4096];
        timeout(within, async {
            loop {
                match self.stream.read(&mut chunk).await {
                    Ok(0) | Err(_) => return,
                    Ok(n) => self.buf.extend_from_slice(&chunk[..n]),
                }
            }
        })
        .await
        .unwrap_or_else(|_| panic!("connection still open after {within:?}"));
        start.elapsed()
    }

    /// Sends a request head one byte every `every` until the server closes the connection;
    /// returns the bytes sent and the time it took. Panics after [`DEADLINE`].
    async fn dribble_until_closed(&mut self, every: Duration) -> (usize, Duration) {
        let head = b"GET /api/v1/health HTTP/1.1\r\nHost: echochat\r\nX-Padding: ";
        let start = Instant::now();
        let mut sent = 0;
        let mut chunk = [0_u8; 1024];
        loop {
            assert!(
                start.elapsed() < DEADLINE,
                "still open after {sent} bytes in {DEADLINE:?}"
            );
            let byte = head.get(sent).copied().unwrap_or(b'a');
            if self.stream.write_all(&[byte]).await.is_err() {
                return (sent, start.elapsed());
            }
            sent += 1;
            match timeout(every, self.stream.read(&mut chunk)).await {
                Err(_) => {}
                Ok(Ok(0) | Err(_)) => return (sent, start.elapsed()),
                Ok(Ok(n)) => panic!(
                    "unexpected answer to a partial head: {:?}",
                    String::from_utf8_lossy(&chunk[..n])
                ),
            }
        }
    }
}

fn assert_not_before(took: Duration, limit: Duration, what: &str) {
    assert!(
        took + SLACK >= limit,
        "{what}: closed after {took:?}, before the {limit:?} limit"
    );
}

async fn silent_clients(backend: Backend) {
    let app = spawn_app_with(backend, |c| {
        c.http.header_read_timeout_secs = 1;
        c.http.idle_timeout_secs = 30;
    })
    .await;
    let silent = async {
        let mut c = Raw::connect(&app).await;
        c.closed_within(DEADLINE).await
    };
    // The HTTP/1-or-2 detection reads the first bytes with no timer of hyper's own.
    let partial_preface = async {
        let mut c = Raw::connect(&app).await;
        c.send(&H2_PREFACE_AND_SETTINGS[..16]).await;
        c.closed_within(DEADLINE).await
    };
    let h2_without_request = async {
        let mut c = Raw::connect(&app).await;
        c.send(H2_PREFACE_AND_SETTINGS).await;
        c.closed_within(DEADLINE).await
    };
    let (silent, partial_preface, h2_without_request) =
        tokio::join!(silent, partial_preface, h2_without_request);
    assert_not_before(silent, SECOND, "silent client");
    assert_not_before(partial_preface, SECOND, "partial HTTP/2 preface");
    assert_not_before(h2_without_request, SECOND, "HTTP/2 without a request");
    // A client that asks at once is served.
    let mut c = Raw::connect(&app).await;
    assert_eq!(c.get("/api/v1/health").await.status, 200);
}

both_backends!(silent_clients_are_closed_after_the_header_timeout => super::silent_clients);

async fn dribbling_clients(backend: Backend) {
    let app = spawn_app_with(backend, |c| {
        c.http.header_read_timeout_secs = 1;
        c.http.idle_timeout_secs = 30;
    })
    .await;
    let every = Duration::from_millis(300);
    let first_request = async {
        let mut c = Raw::connect(&app).await;
        c.dribble_until_closed(every).await
    };
    // The next request on a keep-alive connection: hyper's own header timer.
    let next_request = async {
        let mut c = Raw::connect(&app).await;
        assert_eq!(c.get("/api/v1/health").await.status, 200);
        c.dribble_until_closed(every).await
    };
    let ((sent1, took1), (sent2, took2)) = tokio::join!(first_request, next_request);
    assert!(
        sent1 >= 3 && sent2 >= 3,
        "bytes were trickling in ({sent1}, {sent2})"
    );
    assert_not_before(took1, SECOND, "dribbled first request");
    assert_not_before(took2, SECOND, "dribbled keep-alive request");
}

both_backends!(a_client_dribbling_its_request_head_is_closed => super::dribbling_clients);

async fn stalled_body(backend: Backend) {
    let app = spawn_app_with(backend, |c| {
        c.http.body_read_timeout_secs = 2;
        c.http.idle_timeout_secs = 1;
    })
    .await;
    let mut c = Raw::connect(&app).await;
    c.send(
        b"POST /api/v1/auth/login HTTP/1.1\r\nHost: echochat\r\nContent-Type: application/json\r\n\
          Content-Length: 100\r\n\r\n{\"username\":",
    )
    .await;
    let start = Instant::now();
    let resp = c.response().await;
    let took = start.elapsed();
    assert_eq!(resp.status, 408);
    let body = resp.json();
    assert_eq!(body["code"], "request_timeout", "{body}");
    assert!(body["message"].is_string());
    assert_eq!(resp.header("connection"), Some("close"));
    // The idle timeout (1 s) does not cut a request in flight; the body timeout (2 s) does.
    assert_not_before(took, 2 * SECOND, "stalled body");
    c.closed_within(DEADLINE).await;
}

both_backends!(a_stalled_request_body_gets_408 => super::stalled_body);

async fn idle_connections(backend: Backend) {
    let app = spawn_app_with(backend, |c| {
        c.http.idle_timeout_secs = 1;
        c.http.header_read_timeout_secs = 30;
    })
    .await;
    // HTTP/1: a connection in use stays open past the idle timeout ...
    let mut c = Raw::connect(&app).await;
    let start = Instant::now();
    loop {
        assert_eq!(c.get("/api/v1/health").await.status, 200);
        if start.elapsed() > 2 * SECOND {
            break;
        }
        tokio::time::sleep(Duration::from_millis(300)).await;
    }
    // ... and is closed once it has been idle that long (the 30 s header timer is not it).
    let took = c.closed_within(DEADLINE).await;
    assert_not_before(took, SECOND, "idle HTTP/1 connection");

    // HTTP/2 (prior knowledge), which has no header timer at all.
    let stream = TcpStream::connect(app.addr).await.expect("connect");
    let (mut sender, conn) =
        hyper::client::conn::http2::handshake(TokioExecutor::new(), TokioIo::new(stream))
            .await
            .expect("HTTP/2 handshake");
    let conn = tokio::spawn(conn);
    let req = hyper::Request::get(format!("http://{}/api/v1/health", app.addr))
        .body(Empty::<Bytes>::new())
        .expect("request");
    let resp = sender.send_request(req).await.expect("HTTP/2 response");
    assert_eq!(resp.status(), 200);
    assert_eq!(resp.version(), hyper::Version::HTTP_2);
    resp.into_body().collect().await.expect("body");
    let start = Instant::now();
    timeout(DEADLINE, conn)
        .await
        .expect("the server closes an idle HTTP/2 connection")
        .expect("connection task")
        .ok();
    assert_not_before(start.elapsed(), SECOND, "idle HTTP/2 connection");
}

both_backends!(idle_keep_alive_connections_are_closed => super::idle_connections);

type Ws = WebSocketStream<MaybeTlsStream<TcpStream>>;

/// A WebSocket for `user` over a socket of our own (TCP_NODELAY on), after its `ready` frame.
async fn ws_nodelay(app: &TestApp, user: &TestUser) -> WebSocketStream<TcpStream> {
    let stream = TcpStream::connect(app.addr).await.expect("connect");
    stream.set_nodelay(true).expect("nodelay");
    let mut req = format!("ws://{}/api/v1/ws", app.addr)
        .into_client_request()
        .expect("request");
    req.headers_mut().insert(
        "authorization",
        HeaderValue::from_str(&format!("Bearer {}", user.token)).expect("header"),
    );
    let (mut ws, _) = tokio_tungstenite::client_async(req, stream)
        .await
        .expect("WebSocket");
    while next_json(&mut ws).await["type"] != "ready" {}
    ws
}

async fn next_json<S>(ws: &mut WebSocketStream<S>) -> Value
where
    S: tokio::io::AsyncRead + tokio::io::AsyncWrite + Unpin,
{
    loop {
        let msg = timeout(DEADLINE, ws.next())
            .await
            .expect("a frame within 5 s")
            .expect("open")
            .expect("frame");
        if let Message::Text(text) = msg {
            return serde_json::from_str(&text).expect("JSON frame");
        }
    }
}

async fn nodelay(backend: Backend) {
    let app = spawn_ready_app_with(backend, |_| {}).await;
    let user = app.user("nagle").await;
    let mut ws = ws_nodelay(&app, &user).await;
    // Two frames in, two frames out: the server writes its replies one by one. Without
    // TCP_NODELAY on the server's socket, the second write waits for the ACK of the first,
    // which our kernel delays (about 40 ms on Linux) because we have nothing to send meanwhile.
    // Invalid frames keep the database out of the measurement.
    let mut times = Vec::new();
    for _ in 0..50 {
        let start = Instant::now();
        ws.feed(Message::text("not json")).await.expect("feed");
        ws.feed(Message::text("not json")).await.expect("feed");
        ws.flush().await.expect("flush");
        for _ in 0..2 {
            let frame = next_json(&mut ws).await;
            assert_eq!(frame["code"], "invalid_frame", "{frame}");
        }
        times.push(start.elapsed());
    }
    times.sort();
    let p50 = times[times.len() / 2];
    assert!(
        p50 < Duration::from_millis(20),
        "p50 of a two-frame round trip is {p50:?}: the server's socket waits for delayed ACKs \
         (TCP_NODELAY not set?)"
    );
}

both_backends!(accepted_sockets_have_tcp_nodelay => super::nodelay);

async fn connection_cap(backend: Backend) {
    let app = spawn_ready_app_with(backend, |c| {
        c.http.max_connections = 3;
        // The test client's pooled keep-alive connections close after 1 s of quiet.
        c.http.header_read_timeout_secs = 1;
    })
    .await;
    let user = app.user("capped").await;
    // Fill the cap with WebSockets (immune to the HTTP timers once upgraded). Until the pooled
    // connections of the test's HTTP client have closed, an attempt may meet the cap: retry.
    let mut sockets: Vec<Ws> = Vec::new();
    let start = Instant::now();
    while sockets.len() < 3 {
        assert!(start.elapsed() < DEADLINE, "cannot open 3 WebSockets");
        let attempt = app
            .ws_with(|req| {
                req.headers_mut().insert(
                    "authorization",
                    HeaderValue::from_str(&format!("Bearer {}", user.token)).expect("header"),
                );
            })
            .await;
        match attempt {
            Ok(mut ws) => {
                ws.expect("ready").await;
                sockets.push(ws.stream);
            }
            Err(_) => tokio::time::sleep(Duration::from_millis(100)).await,
        }
    }
    // The 4th connection is accepted and told.
    let mut fourth = Raw::connect(&app).await;
    let resp = fourth.get("/api/v1/health").await;
    assert_eq!(resp.status, 503);
    assert_eq!(resp.header("connection"), Some("close"));
    let body = resp.json();
    assert_eq!(body["code"], "too_many_connections", "{body}");
    fourth.closed_within(DEADLINE).await;
    let fresh = || {
        reqwest::Client::builder()
            .pool_max_idle_per_host(0)
            .build()
            .expect("client")
    };
    let resp = fresh()
        .get(app.url("/api/v1/health"))
        .send()
        .await
        .expect("an answer, not a hang");
    assert_eq!(resp.status(), 503);
    let body: Value = resp.json().await.expect("JSON");
    assert_eq!(body["code"], "too_many_connections");

    // One WebSocket closes: health checks work again.
    let mut one = sockets.pop().expect("socket");
    one.close(None).await.expect("close");
    while let Some(Ok(_)) = one.next().await {}
    drop(one);
    let start = Instant::now();
    loop {
        let resp = fresh()
            .get(app.url("/api/v1/health"))
            .send()
            .await
            .expect("answer");
        if resp.status() == 200 {
            break;
        }
        assert!(
            start.elapsed() < DEADLINE,
            "health still {} after a connection closed",
            resp.status()
        );
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
}

both_backends!(the_connection_cap_answers_503_and_recovers => super::connection_cap);

async fn silent_upgrade(backend: Backend) {
    let app = spawn_ready_app_with(backend, |c| {
        c.http.websocket_handshake_timeout_secs = 1;
    })
    .await;
    let watcher = app.user("watcher").await;
    let silent = app.user("silent").await;
    // DM peers see each other's presence.
    let dm = app
        .post_auth(
            "/api/v1/dms",
            &watcher.token,
            &json!({"username": "silent"}),
        )
        .await;
    assert_eq!(dm.status(), 201);
    let (mut ws, _) = app.ws(&watcher).await;
    // The upgrade request, then nothing: no reading, no frames. Nothing on the server waits for
    // this client after the 101 (the handshake is ours, tungstenite does no I/O to start), so the
    // session starts at once: the watcher sees the silent user come online. What a client can
    // stall is the 101's write itself (it never reads while the socket buffers are full): that
    // deadline is unit-tested in `http::server` with a 64-byte in-memory socket.
    let mut c = Raw::connect(&app).await;
    c.send(
        format!(
            "GET /api/v1/ws HTTP/1.1\r\nHost: echochat\r\nUpgrade: websocket\r\n\
             Connection: Upgrade\r\nSec-WebSocket-Version: 13\r\n\
             Sec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\nAuthorization: Bearer {}\r\n\r\n",
            silent.token
        )
        .as_bytes(),
    )
    .await;
    loop {
        let frame = ws.expect("presence").await;
        if frame["user_id"] == silent.id.as_str() {
            assert_eq!(frame["status"], "online");
            break;
        }
    }
    // Once we read, the session is there: the 101, then the ready frame.
    let resp = c.response().await;
    assert_eq!(resp.status, 101);
}

both_backends!(an_upgrading_client_that_stays_silent_still_gets_its_session => super::silent_upgrade);

async fn shutdown_with_connections(backend: Backend) {
    let mut app = spawn_ready_app_with(backend, |c| {
        c.http.body_read_timeout_secs = 30;
    })
    .await;
    // An idle HTTP/1 keep-alive connection, an idle HTTP/2 connection, and a login in flight
    // (its body not sent yet).
    let mut idle = Raw::connect(&app).await;
    assert_eq!(idle.get("/api/v1/health").await.status, 200);
    let stream = TcpStream::connect(app.addr).await.expect("connect");
    let (mut h2, h2_conn) =
        hyper::client::conn::http2::handshake(TokioExecutor::new(), TokioIo::new(stream))
            .await
            .expect("HTTP/2 handshake");
    let h2_conn = tokio::spawn(h2_conn);
    let req = hyper::Request::get(format!("http://{}/api/v1/health", app.addr))
        .body(Empty::<Bytes>::new())
        .expect("request");
    let resp = h2.send_request(req).await.expect("HTTP/2 response");
    resp.into_body().collect().await.expect("body");
    let login = json!({"username": "admin", "password": PASSWORD}).to_string();
    let mut busy = Raw::connect(&app).await;
    busy.send(
        format!(
            "POST /api/v1/auth/login HTTP/1.1\r\nHost: echochat\r\nContent-Type: application/json\r\n\
             Content-Length: {}\r\nExpect: 100-continue\r\n\r\n",
            login.len()
        )
        .as_bytes(),
    )
    .await;
    // The 100 says the handler is reading the body: the request is in flight.
    assert_eq!(busy.response().await.status, 100);

    let start = Instant::now();
    let client = async {
        // Shutdown has begun once the idle connection is closed; then the login completes.
        idle.closed_within(DEADLINE).await;
        busy.send(login.as_bytes()).await;
        let resp = busy.response().await;
        busy.closed_within(DEADLINE).await;
        let h2_closed = timeout(DEADLINE, h2_conn).await.is_ok();
        (resp, h2_closed)
    };
    let ((), (resp, h2_closed)) = tokio::join!(app.stop(), client);
    assert_eq!(resp.status, 200, "the request in flight was answered");
    assert!(resp.json()["access_token"].is_string());
    assert!(h2_closed, "the idle HTTP/2 connection was closed");
    assert!(
        start.elapsed() < DEADLINE,
        "shutdown took {:?}",
        start.elapsed()
    );
}

both_backends!(shutdown_finishes_requests_in_flight_and_closes_idle_connections => super::shutdown_with_connections);

/// The cap from the environment, and its log lines: one warning when it is reached, however many
/// connections are turned away, and one line when the server is back under it.
#[test]
fn the_cap_comes_from_the_environment_and_is_logged_once_per_episode() {
    use std::io::{Read, Write};
    let dir = tempfile::tempdir().expect("tempdir");
    let mut run = startup::start(dir.path(), &[("ECHOCHAT_HTTP__MAX_CONNECTIONS", "1")]);
    let port = startup::port_of(&run.wait_for("listening listen="));
    let addr = std::net::SocketAddr::from(([127, 0, 0, 1], port));
    let get = |stream: &mut std::net::TcpStream| -> String {
        stream
            .set_read_timeout(Some(DEADLINE))
            .expect("read timeout");
        stream
            .write_all(
                b"GET /api/v1/health HTTP/1.1\r\nHost: echochat\r\nConnection: close\r\n\r\n",
            )
            .expect("send");
        let mut answer = String::new();
        let _ = stream.read_to_string(&mut answer);
        answer
    };
    let mut held = std::net::TcpStream::connect(addr).expect("connect");
    held.set_read_timeout(Some(DEADLINE)).expect("read timeout");
    held.write_all(b"GET /api/v1/health HTTP/1.1\r\nHost: echochat\r\n\r\n")
        .expect("send");
    let mut first = [0_u8; 12];
    held.read_exact(&mut first).expect("an answer");
    assert_eq!(&first, b"HTTP/1.1 200");
    for _ in 0..3 {
        let mut other = std::net::TcpStream::connect(addr).expect("connect");
        let answer = get(&mut other);
        assert!(answer.starts_with("HTTP/1.1 503"), "{answer}");
        assert!(answer.contains("too_many_connections"), "{answer}");
    }
    drop(held);
    let back = run.wait_for("back under the connection limit");
    assert!(back.contains("refused="), "{back}");
    let mut again = std::net::TcpStream::connect(addr).expect("connect");
    assert!(get(&mut again).starts_with("HTTP/1.1 200"));
    let reached: Vec<&String> = run
        .seen
        .iter()
        .filter(|l| l.contains("connection limit reached"))
        .collect();
    assert_eq!(reached.len(), 1, "{reached:#?}");
    assert!(reached[0].contains("max_connections=1"), "{}", reached[0]);
    run.assert_no_unknown_keys();
    assert!(run.terminate().success());
}
