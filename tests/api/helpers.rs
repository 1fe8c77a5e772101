//! Test harness: the real server on 127.0.0.1:0 with a temp data folder, on SQLite or on a fresh
//! PostgreSQL database (when TEST_DATABASE_URL is set), plus HTTP and WebSocket clients.

use std::{net::SocketAddr, time::Duration};

use echochat::{App, build_app, config::Config};
use futures_util::{SinkExt, StreamExt};
use sea_orm::{ConnectionTrait, Database};
use serde_json::{Value, json};
use tokio::{net::TcpStream, sync::oneshot, task::JoinHandle};
use tokio_tungstenite::{
    MaybeTlsStream, WebSocketStream,
    tungstenite::{Message, client::IntoClientRequest, http::HeaderValue},
};

/// Password every test user gets.
pub const PASSWORD: &str = "correct-horse-battery";

/// Which database a test runs on.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Backend {
    Sqlite,
    Postgres,
}

/// PostgreSQL if TEST_DATABASE_URL is set; in CI its absence is an error, locally a skip.
pub fn postgres() -> Option<Backend> {
    if std::env::var("TEST_DATABASE_URL").is_ok() {
        return Some(Backend::Postgres);
    }
    assert!(
        std::env::var("CI").is_err(),
        "TEST_DATABASE_URL must be set in CI"
    );
    eprintln!("skipped: set TEST_DATABASE_URL to run this test on PostgreSQL");
    None
}

/// Runs the body once on SQLite and once on PostgreSQL (`<name>::sqlite`, `<name>::postgres`).
#[macro_export]
macro_rules! db_test {
    ($(#[$meta:meta])* async fn $name:ident($app:ident) $body:block) => {
        $(#[$meta])*
        mod $name {
            #[allow(unused_imports)]
            use super::*;

            #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
            async fn sqlite() {
                #[allow(unused_mut)]
                let mut $app = $crate::helpers::spawn_ready_app($crate::helpers::Backend::Sqlite).await;
                $body
            }

            #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
            async fn postgres() {
                let Some(backend) = $crate::helpers::postgres() else { return };
                #[allow(unused_mut)]
                let mut $app = $crate::helpers::spawn_ready_app(backend).await;
                $body
            }
        }
    };
}

/// Runs `async fn $body(backend: Backend)` as `<name>::sqlite` and `<name>::postgres`, for tests
/// that start their own server (custom config, or none at all).
#[macro_export]
macro_rules! both_backends {
    ($name:ident => $body:path) => {
        mod $name {
            #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
            async fn sqlite() {
                $body($crate::helpers::Backend::Sqlite).await;
            }

            #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
            async fn postgres() {
                if let Some(backend) = $crate::helpers::postgres() {
                    $body(backend).await;
                }
            }
        }
    };
}

/// A fresh, empty PostgreSQL database on the TEST_DATABASE_URL server; returns its URL and name.
pub async fn fresh_postgres_database() -> (String, String) {
    let admin_url = std::env::var("TEST_DATABASE_URL").expect("TEST_DATABASE_URL");
    let name = format!("echochat_t_{}", uuid::Uuid::new_v4().simple());
    let admin = Database::connect(&admin_url)
        .await
        .expect("connect to TEST_DATABASE_URL");
    admin
        .execute_unprepared(&format!("CREATE DATABASE {name}"))
        .await
        .expect("create test database");
    admin.close().await.ok();
    let mut url = url::Url::parse(&admin_url).expect("TEST_DATABASE_URL is a URL");
    url.set_path(&format!("/{name}"));
    (url.to_string(), name)
}

/// Drops a test database (best effort; CI also drops leftovers).
pub fn drop_postgres_database(name: String) {
    let Ok(admin_url) = std::env::var("TEST_DATABASE_URL") else {
        return;
    };
    let _ = std::thread::spawn(move || {
        let Ok(rt) = tokio::runtime::Builder::new_current_thread()
            .enable_all()
            .build()
        else {
            return;
        };
        rt.block_on(async {
            if let Ok(admin) = Database::connect(&admin_url).await {
                let _ = admin
                    .execute_unprepared(&format!("DROP DATABASE IF EXISTS {name} WITH (FORCE)"))
                    .await;
                admin.close().await.ok();
            }
        });
    })
    .join();
}

/// A running server.
pub struct TestApp {
    pub addr: SocketAddr,
    /// The HTTPS listener (`None` with `[tls] mode = "off"`).
    pub tls_addr: Option<SocketAddr>,
    pub base: String,
    pub http: reqwest::Client,
    pub config: Config,
    pub setup_token: Option<String>,
    stop: Option<oneshot::Sender<()>>,
    task: Option<JoinHandle<anyhow::Result<()>>>,
    pg_database: Option<String>,
    _dir: tempfile::TempDir,
}

/// A signed-in test user.
#[derive(Clone, Debug)]
pub struct TestUser {
    pub id: String,
    pub username: String,
    pub token: String,
    pub refresh: String,
}

/// The config a test server runs with (before the database URL is chosen).
pub fn test_config(dir: &std::path::Path) -> Config {
    let mut config = Config {
        listen: "127.0.0.1:0".parse().expect("addr"),
        data_dir: dir.to_path_buf(),
        ..Config::default()
    };
    // HTTPS on a free loopback port, with the default (self-signed) mode: every test server
    // makes its own local CA.
    config.tls.listen = "127.0.0.1:0".parse().expect("addr");
    // A short presence grace period, so "went offline" arrives quickly in tests.
    config.realtime.presence_grace_ms = 100;
    // Every test client is 127.0.0.1 and many tests sign in, create rooms and send in bulk:
    // limits far above any test's volume. The limit tests (limits.rs) set their own low ones.
    config.limits = generous_limits();
    config
}

/// `[limits]` no ordinary test reaches (every rate 1,000,000 per second).
pub fn generous_limits() -> echochat::config::LimitsConfig {
    let high = echochat::config::Rate::new(1_000_000, 1, 1_000_000);
    echochat::config::LimitsConfig {
        login_per_ip: high,
        login_per_account_and_ip: high,
        login_per_account: high,
        register_per_ip: high,
        password_reset_per_ip: high,
        password_reset_per_account: high,
        pin_attempts_per_account: high,
        refresh_per_ip: high,
        messages_per_user: high,
        rooms_per_user: high,
        joins_per_user: high,
        invites_per_user: high,
        max_pending_invites_per_recipient: 0,
        friend_requests_per_minute: 0,
        max_pending_friend_requests: 0,
    }
}

/// Starts a server with no account yet (setup required).
pub async fn spawn_app(backend: Backend) -> TestApp {
    spawn_app_with(backend, |_| {}).await
}

/// Starts a server after letting the test adjust the config.
pub async fn spawn_app_with(backend: Backend, adjust: impl FnOnce(&mut Config)) -> TestApp {
    echochat::install_crypto_provider();
    let dir = tempfile::tempdir().expect("tempdir");
    let mut config = test_config(dir.path());
    let mut pg_database = None;
    if backend == Backend::Postgres {
        let (url, name) = fresh_postgres_database().await;
        config.database_url = Some(url);
        pg_database = Some(name);
    }
    adjust(&mut config);
    let app = build_app(config.clone()).await.expect("server starts");
    let mut test_app = TestApp {
        addr: app.local_addr(),
        tls_addr: app.tls_addr(),
        base: format!("http://{}", app.local_addr()),
        http: reqwest::Client::builder().build().expect("client"),
        config,
        setup_token: app.setup_token().map(str::to_owned),

        stop: None,
        task: None,
        pg_database,
        _dir: dir,
    };
    test_app.run(app);
    test_app
}

/// Starts a server and creates the admin account (`admin`).
pub async fn spawn_ready_app(backend: Backend) -> TestApp {
    spawn_ready_app_with(backend, |_| {}).await
}

impl TestApp {
    fn run(&mut self, app: App) {
        let (tx, rx) = oneshot::channel::<()>();
        self.config.listen = app.local_addr();
        if let Some(tls_addr) = app.tls_addr() {
            self.config.tls.listen = tls_addr;
        }
        self.tls_addr = app.tls_addr();
        self.stop = Some(tx);
        self.task = Some(tokio::spawn(app.run_until_stopped(async move {
            let _ = rx.await;
        })));
    }

    /// Graceful shutdown; waits until the server has stopped.
    pub async fn stop(&mut self) {
        if let Some(stop) = self.stop.take() {
            let _ = stop.send(());
        }
        if let Some(task) = self.task.take() {
            task.await.expect("server task").expect("clean shutdown");
        }
    }

    /// Stops and starts again on the same port, data folder and database.
    pub async fn restart(&mut self) {
        self.stop().await;
        let app = build_app(self.config.clone())
            .await
            .expect("server restarts");
        self.run(app);
    }

    pub fn url(&self, path: &str) -> String {
        format!("{}{}", self.base, path)
    }

    pub async fn get(&self, path: &str, token: &str) -> TestResponse {
        call(self.http.get(self.url(path)).bearer_auth(token)).await
    }

    pub async fn get_json(&self, path: &str, token: &str) -> Value {
        let resp = self.get(path, token).await;
        assert!(resp.status().is_success(), "GET {path}: {}", resp.status());
        resp.json().await.expect("json")
    }

    /// GET without credentials, as JSON.
    pub async fn get_public_json(&self, path: &str) -> Value {
        let resp = call(self.http.get(self.url(path))).await;
        assert!(resp.status().is_success(), "GET {path}: {}", resp.status());
        resp.json().await.expect("json")
    }

    pub async fn post_json(&self, path: &str, body: &Value) -> TestResponse {
        call(self.http.post(self.url(path)).json(body)).await
    }

    pub async fn post_auth(&self, path: &str, token: &str, body: &Value) -> TestResponse {
        call(self.http.post(self.url(path)).bearer_auth(token).json(body)).await
    }

    /// A request with any method, Bearer token and JSON body.
    pub async fn send_auth(
        &self,
        method: reqwest::Method,
        path: &str,
        token: &str,
        body: &Value,
    ) -> TestResponse {
        call(
            self.http
                .request(method, self.url(path))
                .bearer_auth(token)
                .json(body),
        )
        .await
    }

    /// Every item of a paged list (`{<field>: [...], next_cursor}`), following the cursors.
    pub async fn all_pages(&self, path: &str, field: &str, token: &str) -> Vec<Value> {
        self.pages_from(path, field, token, None).await
    }

    /// The items of a paged list from `cursor` on (`None`: from the start).
    pub async fn pages_from(
        &self,
        path: &str,
        field: &str,
        token: &str,
        mut cursor: Option<String>,
    ) -> Vec<Value> {
        let mut items = Vec::new();
        for _ in 0..1000 {
            let sep = if path.contains('?') { '&' } else { '?' };
            let url = match &cursor {
                Some(c) => format!("{path}{sep}cursor={c}"),
                None => path.to_owned(),
            };
            let page = self.get_json(&url, token).await;
            items.extend(page[field].as_array().expect("page items").iter().cloned());
            match page["next_cursor"].as_str() {
                Some(next) => cursor = Some(next.to_owned()),
                None => return items,
            }
        }
        panic!("more than 1000 pages of {path}");
    }

    /// Registers and logs in a user.
    pub async fn user(&self, name: &str) -> TestUser {
        let resp = self
            .post_json(
                "/api/v1/auth/register",
                &json!({"username": name, "password": PASSWORD}),
            )
            .await;
        assert_eq!(resp.status(), 201, "register {name}");
        self.login(name).await
    }

    pub async fn login(&self, name: &str) -> TestUser {
        let resp = self
            .post_json(
                "/api/v1/auth/login",
                &json!({"username": name, "password": PASSWORD}),
            )
            .await;
        assert_eq!(resp.status(), 200, "login {name}");
        let body: Value = resp.json().await.expect("json");
        TestUser {
            id: body["user"]["id"].as_str().expect("id").to_owned(),
            username: body["user"]["username"]
                .as_str()
                .expect("username")
                .to_owned(),
            token: body["access_token"].as_str().expect("token").to_owned(),
            refresh: body["refresh_token"].as_str().expect("refresh").to_owned(),
        }
    }

    /// Creates a room owned by `owner`; returns its id.
    pub async fn room(&self, owner: &TestUser, name: &str, visibility: &str) -> String {
        let resp = self
            .post_auth(
                "/api/v1/rooms",
                &owner.token,
                &json!({"name": name, "visibility": visibility}),
            )
            .await;
        assert_eq!(resp.status(), 201, "create room");
        let body: Value = resp.json().await.expect("json");
        body["id"].as_str().expect("id").to_owned()
    }

    pub async fn join(&self, user: &TestUser, room: &str) {
        let resp = self
            .post_auth(
                &format!("/api/v1/rooms/{room}/join"),
                &user.token,
                &json!({}),
            )
            .await;
        assert_eq!(resp.status(), 200, "join");
    }

    /// Sends over REST; returns the message.
    pub async fn send(&self, user: &TestUser, conversation: &str, body: &str) -> Value {
        let resp = self
            .post_auth(
                &format!("/api/v1/conversations/{conversation}/messages"),
                &user.token,
                &json!({"body": body}),
            )
            .await;
        assert_eq!(resp.status(), 201, "send");
        resp.json().await.expect("json")
    }

    /// The id of the Lobby.
    pub async fn lobby(&self, user: &TestUser) -> String {
        let list = self
            .all_pages("/api/v1/conversations", "conversations", &user.token)
            .await;
        list.iter()
            .find(|c| c["name"] == "Lobby")
            .and_then(|c| c["id"].as_str())
            .expect("lobby")
            .to_owned()
    }

    /// Opens a WebSocket as `user` (Bearer) and returns it after the `ready` frame.
    pub async fn ws(&self, user: &TestUser) -> (WsClient, Value) {
        let mut ws = self
            .ws_with(|req| {
                req.headers_mut().insert(
                    "authorization",
                    HeaderValue::from_str(&format!("Bearer {}", user.token)).expect("header"),
                );
            })
            .await
            .expect("WebSocket connects");
        let ready = ws.expect("ready").await;
        (ws, ready)
    }

    /// Opens a WebSocket with a customised handshake request.
    pub async fn ws_with(
        &self,
        adjust: impl FnOnce(&mut tokio_tungstenite::tungstenite::handshake::client::Request),
    ) -> Result<WsClient, tokio_tungstenite::tungstenite::Error> {
        let mut req = format!("ws://{}/api/v1/ws", self.addr).into_client_request()?;
        adjust(&mut req);
        let (stream, _) = tokio_tungstenite::connect_async(req).await?;
        Ok(WsClient { stream })
    }
}

impl Drop for TestApp {
    fn drop(&mut self) {
        if let Some(stop) = self.stop.take() {
            let _ = stop.send(());
        }
        if let Some(task) = self.task.take() {
            task.abort();
        }
        if let Some(name) = self.pg_database.take() {
            drop_postgres_database(name);
        }
    }
}

/// A WebSocket test client speaking the JSON protocol.
#[derive(Debug)]
pub struct WsClient {
    pub stream: WebSocketStream<MaybeTlsStream<TcpStream>>,
}

impl WsClient {
    pub async fn send_json(&mut self, value: Value) {
        self.stream
            .send(Message::Text(value.to_string().into()))
            .await
            .expect("ws send");
    }

    /// The next text frame as JSON, checked against openapi/realtime.json (panics after 10 s or
    /// on close).
    pub async fn next_json(&mut self) -> Value {
        loop {
            let msg = tokio::time::timeout(Duration::from_secs(10), self.stream.next())
                .await
                .expect("a frame within 10 s")
                .expect("stream open")
                .expect("frame");
            match msg {
                Message::Text(text) => {
                    let frame: Value = serde_json::from_str(&text).expect("frame is JSON");
                    crate::spec_check::check_frame(&frame);
                    return frame;
                }
                Message::Close(frame) => panic!("unexpected close: {frame:?}"),
                _ => continue,
            }
        }
    }

    /// Skips frames until one of type `kind` arrives.
    pub async fn expect(&mut self, kind: &str) -> Value {
        loop {
            let frame = self.next_json().await;
            if frame["type"] == kind {
                return frame;
            }
        }
    }

    /// Asserts no frame of `kind` arrives within `wait`.
    pub async fn expect_none(&mut self, kind: &str, wait: Duration) {
        let deadline = tokio::time::Instant::now() + wait;
        while let Ok(Some(Ok(msg))) = tokio::time::timeout_at(deadline, self.stream.next()).await {
            if let Message::Text(text) = msg {
                let frame: Value = serde_json::from_str(&text).expect("json");
                crate::spec_check::check_frame(&frame);
                assert_ne!(frame["type"], kind, "unexpected {kind} frame: {frame}");
            }
        }
    }

    /// Reads until the server closes (at most `within`); returns the close code and reason.
    pub async fn close_frame(&mut self, within: Duration) -> (u16, String) {
        let deadline = tokio::time::Instant::now() + within;
        loop {
            match tokio::time::timeout_at(deadline, self.stream.next()).await {
                Ok(Some(Ok(Message::Close(Some(frame))))) => {
                    return (u16::from(frame.code), frame.reason.to_string());
                }
                Ok(Some(Ok(Message::Close(None)))) => return (1005, String::new()),
                Ok(Some(Ok(_))) => continue,
                Ok(Some(Err(e))) => panic!("socket error before close: {e}"),
                Ok(None) => panic!("socket ended without a close frame"),
                Err(_) => panic!("no close within {within:?}"),
            }
        }
    }

    /// Reads until the server closes; returns the close code.
    pub async fn close_code(&mut self) -> Option<u16> {
        loop {
            match tokio::time::timeout(Duration::from_secs(30), self.stream.next()).await {
                Ok(Some(Ok(Message::Close(frame)))) => return frame.map(|f| u16::from(f.code)),
                Ok(Some(Ok(_))) => continue,
                Ok(Some(Err(_))) | Ok(None) => return None,
                Err(_) => panic!("no close within 30 s"),
            }
        }
    }
}

impl TestApp {
    /// [`TestApp::user`] for an owned name (handy with `join_all`).
    pub async fn user_owned(&self, name: String) -> TestUser {
        self.user(&name).await
    }
}

/// Starts a server with an adjusted config and creates the admin account.
pub async fn spawn_ready_app_with(backend: Backend, adjust: impl FnOnce(&mut Config)) -> TestApp {
    let app = spawn_app_with(backend, adjust).await;
    let token = app.setup_token.clone().expect("setup token");
    let resp = app
        .post_json(
            "/api/v1/setup",
            &json!({"token": token, "username": "admin", "password": PASSWORD}),
        )
        .await;
    assert_eq!(resp.status(), 201);
    app
}

/// A REST answer whose body was read (and checked against openapi/openapi.json).
#[derive(Debug)]
pub struct TestResponse {
    status: reqwest::StatusCode,
    headers: reqwest::header::HeaderMap,
    body: bytes::Bytes,
}

impl TestResponse {
    pub fn status(&self) -> reqwest::StatusCode {
        self.status
    }

    pub fn headers(&self) -> &reqwest::header::HeaderMap {
        &self.headers
    }

    /// The body as JSON (async like reqwest's, so call sites read the same).
    pub async fn json<T: serde::de::DeserializeOwned>(self) -> serde_json::Result<T> {
        serde_json::from_slice(&self.body)
    }

    pub async fn text(self) -> Result<String, std::string::FromUtf8Error> {
        String::from_utf8(self.body.to_vec())
    }
}

/// Sends a request (with the builder's own client, cookies included), reads the answer and
/// checks it against the committed OpenAPI document.
pub async fn call(request: reqwest::RequestBuilder) -> TestResponse {
    let (client, request) = request.build_split();
    let request = request.expect("request builds");
    let (method, path) = (
        request.method().to_string(),
        request.url().path().to_owned(),
    );
    let resp = client.execute(request).await.expect("request");
    let status = resp.status();
    let headers = resp.headers().clone();
    let body = resp.bytes().await.expect("body");
    crate::spec_check::check_response(&method, &path, status.as_u16(), &body);
    TestResponse {
        status,
        headers,
        body,
    }
}

impl TestApp {
    /// A separate connection to the server's database (for checks and fault injection).
    pub async fn database(&self) -> sea_orm::DatabaseConnection {
        let url = match &self.config.database_url {
            Some(url) => url.clone(),
            None => format!(
                "sqlite://{}?mode=rw",
                self.config.data_dir.join("echochat.db").display()
            ),
        };
        Database::connect(&url)
            .await
            .expect("connect to the test database")
    }

    /// Whether this server runs on PostgreSQL.
    pub fn on_postgres(&self) -> bool {
        self.pg_database.is_some()
    }

    /// Sets a user's server role through the admin API, as `admin` (the setup account).
    pub async fn set_role(&self, user_id: &str, role: &str) -> TestResponse {
        let admin = self.login("admin").await;
        self.send_auth(
            reqwest::Method::PUT,
            &format!("/api/v1/admin/users/{user_id}/role"),
            &admin.token,
            &json!({ "role": role }),
        )
        .await
    }

    /// `method /api/v1<path>` as `user` with a JSON `body`: the status and the JSON answer
    /// (`Null` when there is none).
    pub async fn api(
        &self,
        user: &TestUser,
        method: reqwest::Method,
        path: &str,
        body: Value,
    ) -> (u16, Value) {
        let resp = self
            .send_auth(method, &format!("/api/v1{path}"), &user.token, &body)
            .await;
        let status = resp.status().as_u16();
        let text = resp.text().await.unwrap_or_default();
        (status, serde_json::from_str(&text).unwrap_or(Value::Null))
    }
}
