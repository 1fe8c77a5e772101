//! Harness of the cluster tests (cluster.rs): a private `redis-server` on a free port, real
//! `echochat` processes on one PostgreSQL database and that Redis, their HTTP and WebSocket
//! clients, and a traffic client that sends continuously, reconnects and resumes like a real one.
//!
//! Every wait has a deadline. A process still running when its handle is dropped is killed; a
//! failing test prints the last lines of every instance's output.

use std::{
    collections::{BTreeMap, BTreeSet, HashSet},
    io::{BufRead, BufReader},
    net::TcpListener,
    path::Path,
    process::{Child, Command, ExitStatus, Stdio},
    sync::{
        Arc, Mutex,
        atomic::{AtomicBool, AtomicI64, AtomicUsize, Ordering},
    },
    time::{Duration, Instant},
};

use futures_util::{SinkExt, StreamExt};
use serde_json::{Value, json};
use tokio_tungstenite::tungstenite::{
    Message, client::IntoClientRequest, http::HeaderValue, protocol::CloseFrame,
};

use crate::{
    helpers::{
        PASSWORD, TestResponse, TestUser, WsClient, call, drop_postgres_database,
        fresh_postgres_database,
    },
    startup::port_of,
};

/// A port nobody listens on right now (bound to 127.0.0.1:0, then released).
pub fn free_port() -> u16 {
    TcpListener::bind("127.0.0.1:0")
        .expect("bind 127.0.0.1:0")
        .local_addr()
        .expect("local addr")
        .port()
}

/// Polls `check` every 50 ms until it returns `Some`, at most `within`; panics with `what`.
pub async fn eventually<T, F, Fut>(what: &str, within: Duration, mut check: F) -> T
where
    F: FnMut() -> Fut,
    Fut: std::future::Future<Output = Option<T>>,
{
    let deadline = Instant::now() + within;
    loop {
        if let Some(value) = check().await {
            return value;
        }
        assert!(Instant::now() < deadline, "{what}: not within {within:?}");
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
}

// --- Redis ------------------------------------------------------------------------------------

/// A private `redis-server` on 127.0.0.1 (no persistence), killed when dropped.
pub struct RedisServer {
    pub port: u16,
    password: Option<String>,
    child: Option<Child>,
}

impl RedisServer {
    /// Starts one on a free port; returns once it answers PING (at most 10 s).
    pub fn start() -> Self {
        Self::start_with_password(None)
    }

    /// Starts one that requires `password` (`--requirepass`).
    pub fn start_with_password(password: Option<&str>) -> Self {
        for _ in 0..5 {
            let mut server = Self {
                port: free_port(),
                password: password.map(str::to_owned),
                child: None,
            };
            if server.spawn_and_wait() {
                return server;
            }
        }
        panic!("redis-server did not start on any of 5 free ports");
    }

    /// `redis://[:password@]127.0.0.1:<port>`.
    pub fn url(&self) -> String {
        match &self.password {
            Some(password) => format!("redis://:{password}@127.0.0.1:{}", self.port),
            None => format!("redis://127.0.0.1:{}", self.port),
        }
    }

    /// A client for the test's own commands.
    pub fn client(&self) -> redis::Client {
        redis::Client::open(self.url()).expect("Redis URL")
    }

    /// An async connection for the test's own commands.
    pub async fn conn(&self) -> redis::aio::MultiplexedConnection {
        tokio::time::timeout(
            Duration::from_secs(5),
            self.client().get_multiplexed_async_connection(),
        )
        .await
        .expect("connect to the test Redis within 5 s")
        .expect("connect to the test Redis")
    }

    /// Kills it (SIGKILL, like a crash) and waits until it is gone.
    pub fn stop(&mut self) {
        if let Some(mut child) = self.child.take() {
            let _ = child.kill();
            let _ = child.wait();
        }
    }

    /// Starts it again on the same port (after [`Self::stop`]); returns once it answers PING.
    pub fn start_again(&mut self) {
        assert!(self.child.is_none(), "stop it first");
        let deadline = Instant::now() + Duration::from_secs(10);
        while !self.spawn_and_wait() {
            assert!(
                Instant::now() < deadline,
                "redis-server did not start again on port {} within 10 s",
                self.port
            );
            std::thread::sleep(Duration::from_millis(100));
        }
    }

    /// [`Self::stop`], then [`Self::start_again`] on the same port.
    #[allow(dead_code)] // harness API; the restart test stops and starts in two steps
    pub fn restart(&mut self) {
        self.stop();
        self.start_again();
    }

    /// Spawns redis-server on `self.port`; false when it exited (port taken) instead of
    /// answering PING.
    fn spawn_and_wait(&mut self) -> bool {
        let port = self.port.to_string();
        let mut cmd = Command::new("redis-server");
        cmd.args([
            "--port",
            &port,
            "--bind",
            "127.0.0.1",
            "--save",
            "",
            "--appendonly",
            "no",
        ]);
        if let Some(password) = &self.password {
            cmd.args(["--requirepass", password]);
        }
        let mut child = cmd
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .expect("redis-server starts (is it installed? .ci/run installs it)");
        let client = self.client();
        let deadline = Instant::now() + Duration::from_secs(10);
        loop {
            if let Ok(Some(_)) = child.try_wait() {
                return false;
            }
            let pong = client
                .get_connection_with_timeout(Duration::from_millis(200))
                .and_then(|mut c| redis::cmd("PING").query::<String>(&mut c));
            if pong.is_ok() {
                self.child = Some(child);
                return true;
            }
            if Instant::now() > deadline {
                let _ = child.kill();
                let _ = child.wait();
                panic!("redis-server on port {port} did not answer PING within 10 s");
            }
            std::thread::sleep(Duration::from_millis(20));
        }
    }
}

impl Drop for RedisServer {
    fn drop(&mut self) {
        self.stop();
    }
}

// --- Instances --------------------------------------------------------------------------------

/// A fresh PostgreSQL database on the TEST_DATABASE_URL server, dropped with this value.
pub struct TempDatabase {
    pub url: String,
    name: Option<String>,
}

impl TempDatabase {
    pub async fn new() -> Self {
        let (url, name) = fresh_postgres_database().await;
        Self {
            url,
            name: Some(name),
        }
    }
}

impl Drop for TempDatabase {
    fn drop(&mut self) {
        if let Some(name) = self.name.take() {
            drop_postgres_database(name);
        }
    }
}

/// What the instances of one test share: a fresh PostgreSQL database (dropped with the spec),
/// the Redis URL, a unique key prefix and extra environment variables.
pub struct ClusterSpec {
    pub database_url: String,
    _database: TempDatabase,
    pub redis_url: String,
    pub prefix: String,
    pub env: Vec<(String, String)>,
}

impl ClusterSpec {
    /// A fresh database and a unique prefix (`t-<uuid>`) on `redis`.
    pub async fn new(redis: &RedisServer) -> Self {
        let database = TempDatabase::new().await;
        Self {
            database_url: database.url.clone(),
            _database: database,
            redis_url: redis.url(),
            prefix: format!("t-{}", uuid::Uuid::new_v4().simple()),
            env: Vec::new(),
        }
    }

    /// Adds an environment variable for every instance (set after the defaults, so it wins).
    pub fn with(mut self, key: &str, value: &str) -> Self {
        self.env.push((key.to_owned(), value.to_owned()));
        self
    }

    /// `<prefix>:<name>`, as the server names its keys and channels.
    pub fn key(&self, name: &str) -> String {
        format!("{}:{name}", self.prefix)
    }

    /// The environment of instance `id`.
    fn envs(&self, id: &str) -> Vec<(String, String)> {
        let mut envs: Vec<(String, String)> = [
            ("DATABASE_URL", self.database_url.as_str()),
            ("REDIS_URL", self.redis_url.as_str()),
            ("ECHOCHAT_REDIS__KEY_PREFIX", self.prefix.as_str()),
            ("ECHOCHAT_CLUSTER__INSTANCE_ID", id),
            ("ECHOCHAT_LISTEN", "127.0.0.1:0"),
            ("ECHOCHAT_TLS__MODE", "off"),
            ("ECHOCHAT_LOG", "info"),
            ("ECHOCHAT_REALTIME__PRESENCE_GRACE_MS", "300"),
        ]
        .iter()
        .map(|(k, v)| ((*k).to_owned(), (*v).to_owned()))
        .collect();
        envs.extend(generous_limits());
        envs.extend(self.env.iter().cloned());
        envs
    }
}

/// `[limits]` no test reaches by accident (every test client is 127.0.0.1), as environment
/// variables; a test that wants a limit sets its own after these.
fn generous_limits() -> Vec<(String, String)> {
    let mut envs = Vec::new();
    for rate in [
        "LOGIN_PER_IP",
        "LOGIN_PER_ACCOUNT_AND_IP",
        "LOGIN_PER_ACCOUNT",
        "REGISTER_PER_IP",
        "REFRESH_PER_IP",
        "MESSAGES_PER_USER",
        "ROOMS_PER_USER",
        "JOINS_PER_USER",
        "INVITES_PER_USER",
    ] {
        for (field, value) in [
            ("COUNT", "1000000"),
            ("PER_SECS", "1"),
            ("BURST", "1000000"),
        ] {
            envs.push((
                format!("ECHOCHAT_LIMITS__{rate}__{field}"),
                value.to_owned(),
            ));
        }
    }
    envs
}

/// Output lines of a child process, collected by two reader threads.
#[derive(Clone, Default)]
pub struct Output {
    lines: Arc<Mutex<Vec<String>>>,
}

impl Output {
    /// Reads the child's stdout and stderr into `self`; returns the reader threads.
    fn capture(&self, child: &mut Child) -> Vec<std::thread::JoinHandle<()>> {
        let mut readers = Vec::new();
        let streams: [Option<Box<dyn std::io::Read + Send>>; 2] = [
            child
                .stdout
                .take()
                .map(|s| Box::new(s) as Box<dyn std::io::Read + Send>),
            child
                .stderr
                .take()
                .map(|s| Box::new(s) as Box<dyn std::io::Read + Send>),
        ];
        for stream in streams.into_iter().flatten() {
            let lines = self.lines.clone();
            readers.push(std::thread::spawn(move || {
                for line in BufReader::new(stream).lines().map_while(Result::ok) {
                    lines.lock().unwrap().push(line);
                }
            }));
        }
        readers
    }

    /// Every line so far.
    pub fn lines(&self) -> Vec<String> {
        self.lines.lock().unwrap().clone()
    }

    /// Every line so far, as one text.
    pub fn text(&self) -> String {
        self.lines().join("\n")
    }

    /// The first line containing `needle`, if any yet.
    pub fn find(&self, needle: &str) -> Option<String> {
        self.lines
            .lock()
            .unwrap()
            .iter()
            .find(|l| l.contains(needle))
            .cloned()
    }
}

/// A real `echochat` process of a cluster.
pub struct Instance {
    pub id: String,
    pub port: u16,
    pub http: reqwest::Client,
    pub output: Output,
    child: Child,
    _dir: tempfile::TempDir,
}

impl Instance {
    /// Starts the binary as instance `id` of `spec`, in its own data folder; returns once it
    /// logged `listening` (at most 60 s: migrations of a fresh database on a busy machine).
    pub async fn start(spec: &ClusterSpec, id: &str) -> Instance {
        let dir = tempfile::tempdir().expect("tempdir");
        let mut child = spawn_binary(dir.path(), &spec.envs(id));
        let output = Output::default();
        output.capture(&mut child);
        let mut instance = Instance {
            id: id.to_owned(),
            port: 0,
            http: reqwest::Client::new(),
            output,
            child,
            _dir: dir,
        };
        let listening = instance
            .wait_for("listening listen=", Duration::from_secs(60))
            .await;
        instance.port = port_of(&listening);
        let unknown = instance.output.find("unknown configuration key");
        assert!(unknown.is_none(), "instance {id}: {unknown:?}");
        instance
    }

    /// Starts several instances of `spec` at once.
    pub async fn start_all(spec: &ClusterSpec, ids: &[&str]) -> Vec<Instance> {
        futures_util::future::join_all(ids.iter().map(|id| Instance::start(spec, id))).await
    }

    /// `http://127.0.0.1:<port>`.
    pub fn base(&self) -> String {
        format!("http://127.0.0.1:{}", self.port)
    }

    /// `http://127.0.0.1:<port><path>`.
    pub fn url(&self, path: &str) -> String {
        format!("{}{path}", self.base())
    }

    /// The WebSocket endpoint.
    pub fn ws_url(&self) -> String {
        format!("ws://127.0.0.1:{}/api/v1/ws", self.port)
    }

    /// The first output line containing `needle`, waiting at most `within`; panics (with the
    /// output) on timeout or when the process exits first.
    pub async fn wait_for(&mut self, needle: &str, within: Duration) -> String {
        let deadline = Instant::now() + within;
        loop {
            if let Some(line) = self.output.find(needle) {
                return line;
            }
            if let Ok(Some(status)) = self.child.try_wait() {
                // Let the readers drain the last lines.
                tokio::time::sleep(Duration::from_millis(200)).await;
                if let Some(line) = self.output.find(needle) {
                    return line;
                }
                panic!(
                    "instance {} exited ({status}) before printing {needle:?}:\n{}",
                    self.id,
                    self.output.text()
                );
            }
            assert!(
                Instant::now() < deadline,
                "instance {}: no line with {needle:?} within {within:?}:\n{}",
                self.id,
                self.output.text()
            );
            tokio::time::sleep(Duration::from_millis(25)).await;
        }
    }

    /// Whether the process still runs.
    pub fn is_running(&mut self) -> bool {
        matches!(self.child.try_wait(), Ok(None))
    }

    /// SIGKILL (no shutdown at all); returns once the process is gone.
    pub fn kill9(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }

    /// SIGTERM, then the exit status (at most 15 s later; SIGKILL and a panic after that).
    pub async fn terminate(&mut self) -> ExitStatus {
        let status = Command::new("kill")
            .args(["-TERM", &self.child.id().to_string()])
            .status()
            .expect("kill");
        assert!(status.success(), "kill -TERM");
        let deadline = Instant::now() + Duration::from_secs(15);
        loop {
            if let Some(status) = self.child.try_wait().expect("wait") {
                return status;
            }
            if Instant::now() > deadline {
                self.kill9();
                panic!("instance {} did not exit within 15 s of SIGTERM", self.id);
            }
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
    }

    /// The setup token this instance printed (`Open …/setup?token=… to create the admin
    /// account`), waiting at most `within`.
    pub async fn setup_token(&mut self, within: Duration) -> String {
        let line = self.wait_for("to create the admin account", within).await;
        line.split("token=")
            .nth(1)
            .and_then(|t| t.split_whitespace().next())
            .expect("token in the setup link")
            .to_owned()
    }
}

impl Drop for Instance {
    fn drop(&mut self) {
        if std::thread::panicking() {
            let lines = self.output.lines();
            let from = lines.len().saturating_sub(60);
            eprintln!(
                "---- instance {} (port {}), last {} lines ----\n{}",
                self.id,
                self.port,
                lines.len() - from,
                lines[from..].join("\n")
            );
        }
        if let Ok(None) = self.child.try_wait() {
            let _ = self.child.kill();
            let _ = self.child.wait();
        }
    }
}

/// Spawns the binary in `dir` with exactly these extra variables (inherited `DATABASE_URL`,
/// `REDIS_URL` and `ECHOCHAT_*` removed), stdout and stderr piped.
fn spawn_binary(dir: &Path, envs: &[(String, String)]) -> Child {
    let mut cmd = Command::new(env!("CARGO_BIN_EXE_echochat"));
    cmd.current_dir(dir)
        .env_remove("DATABASE_URL")
        .env_remove("REDIS_URL")
        .stdout(Stdio::piped())
        .stderr(Stdio::piped());
    for (key, _) in std::env::vars_os() {
        if key.to_string_lossy().starts_with("ECHOCHAT_") {
            cmd.env_remove(key);
        }
    }
    for (k, v) in envs {
        cmd.env(k, v);
    }
    cmd.spawn().expect("the echochat binary starts")
}

/// How a process that should not start ended.
pub struct Exited {
    pub status: ExitStatus,
    pub output: String,
    pub elapsed: Duration,
}

/// Runs the binary in a fresh folder with `envs` (plus listen on 127.0.0.1:0, TLS off, INFO
/// logs) until it exits, at most `within` (then kills it and panics).
pub async fn run_until_exit(envs: &[(&str, &str)], within: Duration) -> Exited {
    let dir = tempfile::tempdir().expect("tempdir");
    let all: Vec<(String, String)> = [
        ("ECHOCHAT_LISTEN", "127.0.0.1:0"),
        ("ECHOCHAT_TLS__MODE", "off"),
        ("ECHOCHAT_LOG", "info"),
    ]
    .iter()
    .chain(envs)
    .map(|(k, v)| ((*k).to_owned(), (*v).to_owned()))
    .collect();
    let started = Instant::now();
    let mut child = spawn_binary(dir.path(), &all);
    let output = Output::default();
    let readers = output.capture(&mut child);
    let status = loop {
        if let Some(status) = child.try_wait().expect("wait") {
            break status;
        }
        if started.elapsed() > within {
            let _ = child.kill();
            let _ = child.wait();
            panic!(
                "still running after {within:?} (expected it to refuse to start):\n{}",
                output.text()
            );
        }
        tokio::time::sleep(Duration::from_millis(25)).await;
    };
    let elapsed = started.elapsed();
    for reader in readers {
        let _ = reader.join();
    }
    Exited {
        status,
        output: output.text(),
        elapsed,
    }
}

// --- HTTP -------------------------------------------------------------------------------------

/// `GET <path>` (with a Bearer token when given), checked against the OpenAPI document.
pub async fn get(instance: &Instance, path: &str, token: Option<&str>) -> TestResponse {
    let mut request = instance
        .http
        .get(instance.url(path))
        .timeout(Duration::from_secs(15));
    if let Some(token) = token {
        request = request.bearer_auth(token);
    }
    call(request).await
}

/// `method /api/v1<path>` as `user` with a JSON body: the status and the JSON answer (`Null`
/// when there is none).
pub async fn api(
    instance: &Instance,
    user: &TestUser,
    method: reqwest::Method,
    path: &str,
    body: Value,
) -> (u16, Value) {
    api_with_token(instance, Some(&user.token), method, path, body).await
}

/// [`api`] with any (or no) Bearer token.
pub async fn api_with_token(
    instance: &Instance,
    token: Option<&str>,
    method: reqwest::Method,
    path: &str,
    body: Value,
) -> (u16, Value) {
    let mut request = instance
        .http
        .request(method, instance.url(&format!("/api/v1{path}")))
        .timeout(Duration::from_secs(15))
        .json(&body);
    if let Some(token) = token {
        request = request.bearer_auth(token);
    }
    let resp = call(request).await;
    let status = resp.status().as_u16();
    let text = resp.text().await.unwrap_or_default();
    (status, serde_json::from_str(&text).unwrap_or(Value::Null))
}

/// Creates the admin account (`admin`) with the setup token one of `instances` printed: every
/// instance printed one, and which of them is valid depends on how the cluster shares it, so
/// each is tried on its own instance until one is accepted.
pub async fn setup_admin(instances: &mut [Instance]) -> TestUser {
    let mut answers = Vec::new();
    for i in 0..instances.len() {
        let token = instances[i].setup_token(Duration::from_secs(30)).await;
        for instance in instances.iter() {
            let (status, body) = api_with_token(
                instance,
                None,
                reqwest::Method::POST,
                "/setup",
                json!({"token": token, "username": "admin", "password": PASSWORD}),
            )
            .await;
            if status == 201 {
                return login(&instances[0], "admin").await;
            }
            answers.push(format!(
                "token of {} on {}: {status} {body}",
                instances[i].id, instance.id
            ));
        }
    }
    panic!("no printed setup token was accepted: {answers:#?}");
}

/// Registers `name` on `instance` and logs in there.
pub async fn user(instance: &Instance, name: &str) -> TestUser {
    let (status, body) = api_with_token(
        instance,
        None,
        reqwest::Method::POST,
        "/auth/register",
        json!({"username": name, "password": PASSWORD}),
    )
    .await;
    assert_eq!(status, 201, "register {name} on {}: {body}", instance.id);
    login(instance, name).await
}

/// Logs `name` in on `instance` (a new session).
pub async fn login(instance: &Instance, name: &str) -> TestUser {
    let (status, body) = api_with_token(
        instance,
        None,
        reqwest::Method::POST,
        "/auth/login",
        json!({"username": name, "password": PASSWORD}),
    )
    .await;
    assert_eq!(status, 200, "login {name} on {}: {body}", instance.id);
    TestUser {
        id: body["user"]["id"].as_str().expect("id").to_owned(),
        username: name.to_owned(),
        token: body["access_token"].as_str().expect("token").to_owned(),
        refresh: body["refresh_token"].as_str().expect("refresh").to_owned(),
    }
}

/// Creates a public room owned by `owner` on `instance`; returns its id.
pub async fn room(instance: &Instance, owner: &TestUser, name: &str) -> String {
    let (status, body) = api(
        instance,
        owner,
        reqwest::Method::POST,
        "/rooms",
        json!({"name": name, "visibility": "public"}),
    )
    .await;
    assert_eq!(status, 201, "create room: {body}");
    body["id"].as_str().expect("id").to_owned()
}

/// `user` joins public room `room` on `instance`.
pub async fn join(instance: &Instance, user: &TestUser, room: &str) {
    let (status, body) = api(
        instance,
        user,
        reqwest::Method::POST,
        &format!("/rooms/{room}/join"),
        json!({}),
    )
    .await;
    assert_eq!(status, 200, "{} joins: {body}", user.username);
}

/// The whole history of a conversation, oldest first (pages of 100 by `after_seq`).
pub async fn history(instance: &Instance, user: &TestUser, conversation: &str) -> Vec<Value> {
    let mut messages: Vec<Value> = Vec::new();
    for _ in 0..1000 {
        let after = messages.last().and_then(|m| m["seq"].as_i64()).unwrap_or(0);
        let path = format!("/conversations/{conversation}/messages?after_seq={after}&limit=100");
        let (status, page) = api(instance, user, reqwest::Method::GET, &path, Value::Null).await;
        assert_eq!(status, 200, "history on {}: {page}", instance.id);
        let items = page["messages"].as_array().expect("messages").clone();
        let more = page["has_more"].as_bool().unwrap_or(false);
        messages.extend(items);
        if !more {
            return messages;
        }
    }
    panic!("more than 1000 pages of history");
}

/// The status of `GET <path>` (no credentials), or 0 when the request fails.
pub async fn status_of(instance: &Instance, path: &str) -> u16 {
    match instance
        .http
        .get(instance.url(path))
        .timeout(Duration::from_secs(5))
        .send()
        .await
    {
        Ok(resp) => resp.status().as_u16(),
        Err(_) => 0,
    }
}

/// The readiness endpoint (200 ready, 503 not).
pub const READY: &str = "/api/v1/health/ready";
/// The liveness endpoint (200 while the process serves).
pub const LIVE: &str = "/api/v1/health/live";

/// Waits until every instance answers `GET READY` with 200 (at most `within`).
pub async fn wait_ready(instances: &[Instance], within: Duration) {
    for instance in instances {
        eventually(
            &format!("instance {} ready", instance.id),
            within,
            || async { (status_of(instance, READY).await == 200).then_some(()) },
        )
        .await;
    }
}

// --- WebSocket --------------------------------------------------------------------------------

/// Opens a WebSocket to `url` with a Bearer token (at most 5 s).
pub async fn ws_connect(url: &str, token: &str) -> Result<WsClient, String> {
    let mut req = url.into_client_request().map_err(|e| e.to_string())?;
    req.headers_mut().insert(
        "authorization",
        HeaderValue::from_str(&format!("Bearer {token}")).map_err(|e| e.to_string())?,
    );
    match tokio::time::timeout(
        Duration::from_secs(5),
        tokio_tungstenite::connect_async(req),
    )
    .await
    {
        Ok(Ok((stream, _))) => Ok(WsClient { stream }),
        Ok(Err(e)) => Err(e.to_string()),
        Err(_) => Err("no WebSocket handshake within 5 s".to_owned()),
    }
}

/// Opens a WebSocket to `instance` as `user`; returns it after the `ready` frame.
pub async fn ws(instance: &Instance, user: &TestUser) -> (WsClient, Value) {
    let mut ws = ws_connect(&instance.ws_url(), &user.token)
        .await
        .unwrap_or_else(|e| panic!("{} connects to {}: {e}", user.username, instance.id));
    let ready = ws.next_json().await;
    assert_eq!(ready["type"], "ready", "{ready}");
    (ws, ready)
}

/// Reads frames until one satisfies `want` (at most `within`); panics on close.
pub async fn expect_where(
    ws: &mut WsClient,
    what: &str,
    within: Duration,
    want: impl Fn(&Value) -> bool,
) -> Value {
    let deadline = Instant::now() + within;
    loop {
        let remaining = deadline.saturating_duration_since(Instant::now());
        let frame = tokio::time::timeout(remaining, ws.next_json())
            .await
            .unwrap_or_else(|_| panic!("no {what} within {within:?}"));
        if want(&frame) {
            return frame;
        }
    }
}

// --- Traffic ----------------------------------------------------------------------------------

/// Shared switches of a traffic run: stop sending, and the last seq every client must reach.
#[derive(Clone, Default)]
pub struct Control {
    stop: Arc<AtomicBool>,
    target: Arc<AtomicI64>,
}

impl Control {
    /// Clients stop sending new messages (they still resend unacked ones and keep reading).
    pub fn stop_sending(&self) {
        self.stop.store(true, Ordering::SeqCst);
    }

    /// Clients finish once they hold every seq up to `seq`.
    pub fn finish_at(&self, seq: i64) {
        self.target.store(seq, Ordering::SeqCst);
    }

    fn stopped(&self) -> bool {
        self.stop.load(Ordering::SeqCst)
    }

    fn target(&self) -> i64 {
        self.target.load(Ordering::SeqCst)
    }
}

/// One WebSocket connection of a traffic client, as it happened.
#[derive(Debug, Default)]
pub struct ConnectionLog {
    /// The URL it was opened to.
    pub url: String,
    /// The seqs of the `message` frames received on it, in arrival order.
    pub seqs: Vec<i64>,
    /// Seqs received twice on this connection outside a resume window (failures), described:
    /// seq, sender, when.
    pub duplicates: Vec<String>,
    /// Seqs received twice inside a resume window (live and resumed): allowed by the protocol.
    pub resume_overlap: usize,
    /// How it ended: `close <code> <reason>`, `error …`, `ended` or `finished`.
    pub end: String,
    /// The close code, when the server sent a close frame.
    pub close_code: Option<u16>,
}

/// A client that sends into one conversation every `period`, records its acks, and on any
/// close or error reconnects (its URLs in order, starting from the current one), resumes by
/// seq after the highest gap-free seq it holds and resends its unacked messages with their
/// `client_id`s. It also resumes when a live message skips a seq.
///
/// A resume window runs from a `resume` to the `pong` of the `ping` sent right after it: the
/// protocol allows a live message to arrive twice there (live, then in the resume answer).
/// Any other duplicate on one connection is recorded as a failure.
pub struct TrafficClient {
    pub name: String,
    token: String,
    urls: Vec<String>,
    current: usize,
    conversation: String,
    period: Duration,
    sent: u64,
    /// Unacked sends in sending order: counter → (client_id, body).
    unacked: BTreeMap<u64, (String, String)>,
    /// Acked sends: client_id → seq.
    pub acked: BTreeMap<String, i64>,
    /// Every seq received on any connection.
    pub have: BTreeSet<i64>,
    contiguous: i64,
    pub connections: Vec<ConnectionLog>,
    /// Error frames received.
    pub errors: Vec<Value>,
    /// Unacked count, for the test to watch.
    pub pending: Arc<AtomicUsize>,
    /// Connections that got their `ready` frame, for the test to watch.
    pub opened: Arc<AtomicUsize>,
}

impl TrafficClient {
    pub fn new(
        name: &str,
        token: &str,
        urls: Vec<String>,
        conversation: &str,
        period: Duration,
    ) -> Self {
        Self {
            name: name.to_owned(),
            token: token.to_owned(),
            urls,
            current: 0,
            conversation: conversation.to_owned(),
            period,
            sent: 0,
            unacked: BTreeMap::new(),
            acked: BTreeMap::new(),
            have: BTreeSet::new(),
            contiguous: 0,
            connections: Vec::new(),
            errors: Vec::new(),
            pending: Arc::new(AtomicUsize::new(0)),
            opened: Arc::new(AtomicUsize::new(0)),
        }
    }

    /// Whether `seq`s 1..=`last` were all received.
    pub fn gap_free_to(&self, last: i64) -> bool {
        self.have.len() as i64 == last && self.have.iter().copied().eq(1..=last)
    }

    /// The number of reconnections (connections after the first).
    pub fn reconnects(&self) -> usize {
        self.connections.len().saturating_sub(1)
    }

    fn advance(&mut self) {
        while self.have.contains(&(self.contiguous + 1)) {
            self.contiguous += 1;
        }
    }

    fn has_holes(&self) -> bool {
        self.have.last().is_some_and(|&max| max > self.contiguous)
    }

    fn done(&self, control: &Control, window: bool) -> bool {
        let target = control.target();
        control.stopped()
            && self.unacked.is_empty()
            && target > 0
            && self.contiguous >= target
            && !window
    }

    /// Connects to the first URL that accepts, from the current one on, retrying for 20 s.
    async fn connect(&mut self) -> (WsClient, String) {
        let deadline = Instant::now() + Duration::from_secs(20);
        let mut failures = Vec::new();
        loop {
            for step in 0..self.urls.len() {
                let index = (self.current + step) % self.urls.len();
                let url = self.urls[index].clone();
                match ws_connect(&url, &self.token).await {
                    Ok(ws) => {
                        self.current = index;
                        return (ws, url);
                    }
                    Err(e) => failures.push(format!("{url}: {e}")),
                }
            }
            assert!(
                Instant::now() < deadline,
                "{} could not reconnect within 20 s: {:#?}",
                self.name,
                &failures[failures.len().saturating_sub(6)..]
            );
            tokio::time::sleep(Duration::from_millis(100)).await;
        }
    }

    async fn send_frame(ws: &mut WsClient, frame: Value) -> bool {
        ws.stream
            .send(Message::Text(frame.to_string().into()))
            .await
            .is_ok()
    }

    async fn resume(&self, ws: &mut WsClient) -> bool {
        let resume = json!({"type": "resume", "conversation_id": self.conversation,
            "after_seq": self.contiguous});
        Self::send_frame(ws, resume).await && Self::send_frame(ws, json!({"type": "ping"})).await
    }

    /// Runs until `control` says the traffic is over and every seq up to its target arrived.
    pub async fn run(mut self, control: Control) -> Self {
        'connections: loop {
            let (mut ws, url) = self.connect().await;
            let mut log = ConnectionLog {
                url,
                ..ConnectionLog::default()
            };
            let mut here: HashSet<i64> = HashSet::new();
            // Seqs first received inside a resume window (from the resume answer, or live
            // while it was answered).
            let mut in_window: HashSet<i64> = HashSet::new();
            let opened_at = Instant::now();
            let mut window_closed_at = opened_at;
            // The first frame is `ready` (or a close).
            let mut window = false;
            let mut alive = true;
            match tokio::time::timeout(Duration::from_secs(10), ws.stream.next()).await {
                Ok(Some(Ok(Message::Text(text)))) => {
                    let ready: Value = serde_json::from_str(&text).expect("JSON");
                    assert_eq!(ready["type"], "ready", "{}: {ready}", self.name);
                    self.opened.fetch_add(1, Ordering::SeqCst);
                }
                other => {
                    log.end = format!("no ready: {other:?}");
                    alive = false;
                }
            }
            if alive {
                window = true;
                alive = self.resume(&mut ws).await;
                let unacked: Vec<(String, String)> = self.unacked.values().cloned().collect();
                for (client_id, body) in unacked {
                    if !alive {
                        break;
                    }
                    alive = Self::send_frame(
                        &mut ws,
                        json!({"type": "send", "conversation_id": self.conversation,
                            "client_id": client_id, "body": body}),
                    )
                    .await;
                }
            }
            let mut tick = tokio::time::interval(self.period);
            tick.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
            while alive {
                if self.done(&control, window) {
                    log.end = "finished".to_owned();
                    let _ = ws.stream.close(None).await;
                    self.connections.push(log);
                    break 'connections;
                }
                tokio::select! {
                    _ = tick.tick() => {
                        if !control.stopped() {
                            self.sent += 1;
                            let client_id = format!("{}-{}", self.name, self.sent);
                            let body = format!("{} says {}", self.name, self.sent);
                            self.unacked.insert(self.sent, (client_id.clone(), body.clone()));
                            self.pending.store(self.unacked.len(), Ordering::SeqCst);
                            alive = Self::send_frame(&mut ws, json!({"type": "send",
                                "conversation_id": self.conversation, "client_id": client_id,
                                "body": body})).await;
                        }
                    }
                    next = tokio::time::timeout(Duration::from_secs(15), ws.stream.next()) => {
                        match next {
                            Ok(Some(Ok(Message::Text(text)))) => {
                                let frame: Value = serde_json::from_str(&text).expect("frame is JSON");
                                crate::spec_check::check_frame(&frame);
                                match frame["type"].as_str() {
                                    Some("ack") => {
                                        let client_id = frame["client_id"].as_str().unwrap_or_default().to_owned();
                                        let seq = frame["message"]["seq"].as_i64().expect("ack seq");
                                        self.unacked.retain(|_, (c, _)| *c != client_id);
                                        self.pending.store(self.unacked.len(), Ordering::SeqCst);
                                        if let Some(before) = self.acked.insert(client_id.clone(), seq) {
                                            assert_eq!(before, seq, "{}: {client_id} acked with two seqs", self.name);
                                        }
                                    }
                                    Some("message") if frame["message"]["conversation_id"] == self.conversation.as_str() => {
                                        let seq = frame["message"]["seq"].as_i64().expect("seq");
                                        if !here.insert(seq) {
                                            // A message a resume already returned may still
                                            // arrive live once (a held event, or one published
                                            // while the resume read the database): clients
                                            // de-duplicate by seq across a resume (realtime.md).
                                            if window || in_window.contains(&seq) {
                                                log.resume_overlap += 1;
                                            } else {
                                                let kind = if in_window.contains(&seq) {
                                                    "live again after a resume had returned it"
                                                } else {
                                                    "live twice"
                                                };
                                                log.duplicates.push(format!(
                                                    "seq {seq} from {} {kind}, at +{} ms, {} ms after the last resume window closed",
                                                    frame["message"]["sender_username"],
                                                    opened_at.elapsed().as_millis(),
                                                    window_closed_at.elapsed().as_millis()
                                                ));
                                            }
                                        }
                                        if window {
                                            in_window.insert(seq);
                                        }
                                        log.seqs.push(seq);
                                        self.have.insert(seq);
                                        self.advance();
                                        if !window && self.has_holes() {
                                            window = true;
                                            alive = self.resume(&mut ws).await;
                                        }
                                    }
                                    Some("pong") if window => {
                                        window = false;
                                        window_closed_at = Instant::now();
                                        if self.has_holes() {
                                            window = true;
                                            alive = self.resume(&mut ws).await;
                                        }
                                    }
                                    Some("error") => {
                                        // `shutting_down`: the send stays unacked and is sent
                                        // again after the reconnect.
                                        self.errors.push(frame);
                                    }
                                    Some("resync_required") => panic!("{}: {frame}", self.name),
                                    _ => {}
                                }
                            }
                            Ok(Some(Ok(Message::Close(frame)))) => {
                                let (code, reason) = close_parts(frame.as_ref());
                                log.close_code = Some(code);
                                log.end = format!("close {code} {reason}");
                                alive = false;
                            }
                            Ok(Some(Ok(_))) => {}
                            Ok(Some(Err(e))) => {
                                log.end = format!("error {e}");
                                alive = false;
                            }
                            Ok(None) => {
                                log.end = "ended".to_owned();
                                alive = false;
                            }
                            Err(_) => panic!("{}: no frame for 15 s on {}", self.name, log.url),
                        }
                    }
                }
            }
            if log.close_code.is_none() && log.end.is_empty() {
                // A send failed: the server may have closed first; its close frame tells why.
                log.end = "error sending".to_owned();
                let deadline = tokio::time::Instant::now() + Duration::from_secs(1);
                while let Ok(Some(Ok(msg))) =
                    tokio::time::timeout_at(deadline, ws.stream.next()).await
                {
                    if let Message::Close(frame) = msg {
                        let (code, reason) = close_parts(frame.as_ref());
                        log.close_code = Some(code);
                        log.end = format!("close {code} {reason} (seen after a failed send)");
                        break;
                    }
                }
            }
            self.connections.push(log);
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
        self
    }
}

fn close_parts(frame: Option<&CloseFrame>) -> (u16, String) {
    match frame {
        Some(f) => (u16::from(f.code), f.reason.to_string()),
        None => (1005, String::new()),
    }
}
