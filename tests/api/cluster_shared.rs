//! Shared state across instances (issue 10), with IN-PROCESS instances: two or three
//! `build_app` servers on ONE fresh PostgreSQL database and the machine's Redis
//! (`redis://127.0.0.1:6379`) with a unique key prefix per test.
//!
//! - a rate limit holds across instances (N in total, not N per instance);
//! - the setup token printed by one instance works on another, once, and all print the same;
//! - the token janitor runs about once per interval across three instances and deletes
//!   expired token rows;
//! - instances started together on a fresh database both start (the migration lock);
//! - with Redis gone after start, requests are still answered (local fallback), never a 500.
//!
//! PostgreSQL: TEST_DATABASE_URL (skipped without it locally, required in CI). Redis: skipped
//! when not reachable locally, required in CI. The instances share one data folder so that
//! they share the JWT key (until the key lives in the database) and run with HTTPS off.

use std::time::{Duration, Instant};

use echochat::{
    build_app,
    config::{Config, Rate, TlsMode},
};
use sea_orm::{ConnectionTrait, Database, DatabaseConnection};
use serde_json::{Value, json};
use tokio::{
    net::{TcpListener, TcpStream},
    sync::oneshot,
    task::JoinHandle,
};

use crate::helpers::{
    self, PASSWORD, TestResponse, call, drop_postgres_database, fresh_postgres_database,
};

/// The machine's Redis.
const REDIS: &str = "redis://127.0.0.1:6379";

/// Whether the test Redis answers; in CI its absence fails the test.
async fn redis_available() -> bool {
    let ping = async {
        let client = redis::Client::open(REDIS)?;
        let mut conn = client.get_multiplexed_async_connection().await?;
        redis::cmd("PING").query_async::<String>(&mut conn).await
    };
    match tokio::time::timeout(Duration::from_secs(2), ping).await {
        Ok(Ok(_)) => true,
        other => {
            assert!(
                std::env::var("CI").is_err(),
                "Redis at {REDIS} must be reachable in CI: {other:?}"
            );
            eprintln!("skipped: no Redis at {REDIS}");
            false
        }
    }
}

/// A Redis connection for checks.
async fn redis_conn() -> redis::aio::MultiplexedConnection {
    redis::Client::open(REDIS)
        .expect("redis url")
        .get_multiplexed_async_connection()
        .await
        .expect("redis connection")
}

/// One running instance.
struct Node {
    base: String,
    http: reqwest::Client,
    setup_token: Option<String>,
    stop: Option<oneshot::Sender<()>>,
    task: Option<JoinHandle<anyhow::Result<()>>>,
}

impl Node {
    fn run(app: echochat::App) -> Self {
        let (tx, rx) = oneshot::channel::<()>();
        let base = format!("http://{}", app.local_addr());
        let setup_token = app.setup_token().map(str::to_owned);
        let task = tokio::spawn(app.run_until_stopped(async move {
            let _ = rx.await;
        }));
        Self {
            base,
            http: reqwest::Client::new(),
            setup_token,
            stop: Some(tx),
            task: Some(task),
        }
    }

    async fn start(config: Config) -> Self {
        Self::run(build_app(config).await.expect("instance starts"))
    }

    async fn post(&self, path: &str, body: &Value) -> TestResponse {
        call(self.http.post(format!("{}{path}", self.base)).json(body)).await
    }

    async fn stop(&mut self) {
        if let Some(stop) = self.stop.take() {
            let _ = stop.send(());
        }
        if let Some(task) = self.task.take() {
            task.await.expect("server task").expect("clean shutdown");
        }
    }
}

/// Instances on one fresh database and one Redis key prefix.
struct Instances {
    nodes: Vec<Node>,
    db_url: String,
    db_name: Option<String>,
    prefix: String,
    dir: tempfile::TempDir,
}

impl Instances {
    /// The config of one instance: the test defaults, the shared database, data folder and
    /// Redis prefix, HTTPS off; then `adjust`.
    fn config(&self, redis_url: &str, adjust: &dyn Fn(&mut Config)) -> Config {
        let mut config = helpers::test_config(self.dir.path());
        config.database_url = Some(self.db_url.clone());
        config.tls.mode = TlsMode::Off;
        config.redis.url = Some(redis_url.to_owned());
        config.redis.key_prefix = self.prefix.clone();
        adjust(&mut config);
        config
    }

    /// `n` instances started one after the other, or `None` (skipped: no PostgreSQL or no
    /// Redis).
    async fn start(n: usize, adjust: impl Fn(&mut Config)) -> Option<Self> {
        helpers::postgres()?;
        if !redis_available().await {
            return None;
        }
        echochat::install_crypto_provider();
        let (db_url, db_name) = fresh_postgres_database().await;
        let mut instances = Self {
            nodes: Vec::new(),
            db_url,
            db_name: Some(db_name),
            prefix: format!("t-{}", uuid::Uuid::new_v4().simple()),
            dir: tempfile::tempdir().expect("tempdir"),
        };
        for _ in 0..n {
            let config = instances.config(REDIS, &adjust);
            instances.nodes.push(Node::start(config).await);
        }
        Some(instances)
    }

    fn key(&self, name: &str) -> String {
        format!("{}:{name}", self.prefix)
    }

    async fn database(&self) -> DatabaseConnection {
        Database::connect(&self.db_url).await.expect("connect")
    }

    /// Creates the admin through instance `on` with the shared setup token; returns the answer.
    async fn setup(&self, on: usize) -> Value {
        let token = self.nodes[0].setup_token.clone().expect("setup token");
        let resp = self.nodes[on]
            .post(
                "/api/v1/setup",
                &json!({"token": token, "username": "admin", "password": PASSWORD}),
            )
            .await;
        assert_eq!(resp.status(), 201, "setup");
        resp.json().await.expect("json")
    }

    async fn stop(mut self) {
        for node in &mut self.nodes {
            node.stop().await;
        }
        if let Some(name) = self.db_name.take() {
            drop_postgres_database(name);
        }
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_rate_limit_holds_across_instances() {
    let Some(instances) = Instances::start(3, |c| {
        c.limits.register_per_ip = Rate::new(1, 3600, 3);
    })
    .await
    else {
        return;
    };
    instances.setup(0).await;
    // Six registrations from one address, spread over three instances: three in total pass,
    // not three per instance.
    let mut statuses = Vec::new();
    for i in 0..6 {
        let resp = instances.nodes[i % 3]
            .post(
                "/api/v1/auth/register",
                &json!({"username": format!("user{i}"), "password": PASSWORD}),
            )
            .await;
        if resp.status() == 429 {
            let retry: u64 = resp
                .headers()
                .get("retry-after")
                .and_then(|v| v.to_str().ok())
                .and_then(|v| v.parse().ok())
                .expect("Retry-After");
            assert!(retry > 3000 && retry <= 3600, "{retry}");
        }
        statuses.push(resp.status().as_u16());
    }
    assert_eq!(statuses, [201, 201, 201, 429, 429, 429]);
    // The counter is in Redis, under the prefix.
    let keys: Vec<String> = redis::cmd("KEYS")
        .arg(instances.key("rl:register:*"))
        .query_async(&mut redis_conn().await)
        .await
        .expect("keys");
    assert_eq!(keys.len(), 1, "{keys:?}");
    instances.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_setup_token_is_shared_and_works_once() {
    let Some(instances) = Instances::start(2, |_| {}).await else {
        return;
    };
    let (a, b) = (&instances.nodes[0], &instances.nodes[1]);
    let token = a.setup_token.clone().expect("instance A prints a link");
    assert_eq!(b.setup_token.as_deref(), Some(token.as_str()), "same link");
    // A wrong token does not use it up.
    let wrong = b
        .post(
            "/api/v1/setup",
            &json!({"token": "wrong", "username": "admin", "password": PASSWORD}),
        )
        .await;
    assert_eq!(wrong.status(), 403);
    // A's token works on B…
    let done = b
        .post(
            "/api/v1/setup",
            &json!({"token": token, "username": "admin", "password": PASSWORD}),
        )
        .await;
    assert_eq!(done.status(), 201);
    // …once: it is gone from Redis, and a second setup, on A or B, is refused.
    let exists: i64 = redis::cmd("EXISTS")
        .arg(instances.key("setup-token"))
        .query_async(&mut redis_conn().await)
        .await
        .expect("exists");
    assert_eq!(exists, 0);
    for node in [a, b] {
        let again = node
            .post(
                "/api/v1/setup",
                &json!({"token": token, "username": "admin2", "password": PASSWORD}),
            )
            .await;
        assert_eq!(again.status(), 409, "already set up");
    }
    instances.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_janitor_runs_once_per_interval_across_instances() {
    let Some(instances) = Instances::start(3, |c| c.cluster.janitor_interval_secs = 1).await else {
        return;
    };
    let admin = instances.setup(0).await;
    let admin_id = admin["user"]["id"].as_str().expect("id").to_owned();
    let db = instances.database().await;
    // An expired refresh token and an expired reset token, next to the admin's live one.
    db.execute_unprepared(&format!(
        "INSERT INTO refresh_tokens (id, family_id, user_id, token_hash, created_at, expires_at) \
         VALUES ('{}', '{}', '{admin_id}', 'expired-refresh', now() - interval '2 days', \
         now() - interval '1 day')",
        uuid::Uuid::now_v7(),
        uuid::Uuid::now_v7(),
    ))
    .await
    .expect("insert refresh token");
    db.execute_unprepared(&format!(
        "INSERT INTO user_tokens (id, user_id, purpose, token_hash, created_at, expires_at, \
         failed_attempts) VALUES ('{}', '{admin_id}', 'password_reset', 'expired-reset', \
         now() - interval '2 hours', now() - interval '1 hour', 0)",
        uuid::Uuid::now_v7(),
    ))
    .await
    .expect("insert user token");
    let count = async |sql: &str| -> i64 {
        db.query_one_raw(sea_orm::Statement::from_string(
            sea_orm::DbBackend::Postgres,
            sql,
        ))
        .await
        .expect("query")
        .expect("row")
        .try_get_by_index(0)
        .expect("count")
    };

    let started = chrono::Utc::now().timestamp_millis();
    let deadline = Instant::now() + Duration::from_secs(10);
    loop {
        let left = count(
            "SELECT (SELECT count(*) FROM refresh_tokens WHERE token_hash = 'expired-refresh') \
             + (SELECT count(*) FROM user_tokens WHERE token_hash = 'expired-reset')",
        )
        .await;
        if left == 0 {
            break;
        }
        assert!(Instant::now() < deadline, "the janitor deleted the rows");
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    assert_eq!(
        count("SELECT count(*) FROM refresh_tokens WHERE expires_at > now()").await,
        1,
        "the admin's live token is kept"
    );
    // Over a 4-second window, three instances ticking every second ran it about 4 times in
    // total (without the lease: about 12).
    tokio::time::sleep(Duration::from_secs(4)).await;
    let ended = chrono::Utc::now().timestamp_millis();
    let runs: Vec<String> = redis::cmd("LRANGE")
        .arg(instances.key("jobs:janitor:runs"))
        .arg(0)
        .arg(-1)
        .query_async(&mut redis_conn().await)
        .await
        .expect("runs");
    let in_window: Vec<(&str, i64)> = runs
        .iter()
        .filter_map(|r| {
            let (instance, ms) = r.split_once(' ')?;
            Some((instance, ms.parse().ok()?))
        })
        .filter(|(_, ms)| *ms >= started && *ms <= ended)
        .collect();
    let secs = (ended - started) as f64 / 1000.0;
    assert!(
        in_window.len() >= 2 && (in_window.len() as f64) <= secs * 1.35 + 1.0,
        "{} runs in {secs:.1} s: {in_window:?}",
        in_window.len()
    );
    db.close().await.ok();
    instances.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn instances_started_together_on_a_fresh_database_both_start() {
    let Some(instances) = Instances::start(0, |_| {}).await else {
        return;
    };
    // Separate data folders (each makes its own secrets); one database, one Redis prefix.
    let (dir_a, dir_b) = (
        tempfile::tempdir().expect("dir"),
        tempfile::tempdir().expect("dir"),
    );
    let mut config_a = instances.config(REDIS, &|_| {});
    config_a.data_dir = dir_a.path().to_path_buf();
    let mut config_b = instances.config(REDIS, &|_| {});
    config_b.data_dir = dir_b.path().to_path_buf();
    let (a, b) = tokio::join!(build_app(config_a), build_app(config_b));
    let (a, b) = (a.expect("instance A starts"), b.expect("instance B starts"));
    assert!(a.setup_token().is_some());
    assert_eq!(a.setup_token(), b.setup_token(), "the same link");
    let (mut a, mut b) = (Node::run(a), Node::run(b));
    for node in [&a, &b] {
        let health = call(node.http.get(format!("{}/api/v1/health", node.base))).await;
        assert_eq!(health.status(), 200);
    }
    a.stop().await;
    b.stop().await;
    instances.stop().await;
}

/// A TCP proxy to the test Redis that can be cut, as if Redis went away.
struct Proxy {
    url: String,
    accept: JoinHandle<()>,
    links: std::sync::Arc<std::sync::Mutex<Vec<JoinHandle<()>>>>,
}

impl Proxy {
    async fn start() -> Self {
        let listener = TcpListener::bind("127.0.0.1:0").await.expect("bind");
        let url = format!("redis://{}", listener.local_addr().expect("addr"));
        let links = std::sync::Arc::new(std::sync::Mutex::new(Vec::new()));
        let kept = links.clone();
        let accept = tokio::spawn(async move {
            while let Ok((mut client, _)) = listener.accept().await {
                kept.lock().unwrap().push(tokio::spawn(async move {
                    if let Ok(mut server) = TcpStream::connect("127.0.0.1:6379").await {
                        let _ = tokio::io::copy_bidirectional(&mut client, &mut server).await;
                    }
                }));
            }
        });
        Self { url, accept, links }
    }

    fn cut(&self) {
        self.accept.abort();
        for link in self.links.lock().unwrap().drain(..) {
            link.abort();
        }
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn with_redis_gone_requests_are_still_answered() {
    let Some(mut instances) = Instances::start(0, |_| {}).await else {
        return;
    };
    let proxy = Proxy::start().await;
    let config = instances.config(&proxy.url, &|c| {
        c.redis.timeout_ms = 300;
        c.limits.register_per_ip = Rate::new(1, 3600, 2);
    });
    instances.nodes.push(Node::start(config).await);
    instances.setup(0).await;
    let node = &instances.nodes[0];
    let register = async |name: &str| {
        node.post(
            "/api/v1/auth/register",
            &json!({"username": name, "password": PASSWORD}),
        )
        .await
        .status()
        .as_u16()
    };
    assert_eq!(register("before").await, 201, "counted in Redis");
    proxy.cut();
    // Redis is gone: this instance's own limiter decides (it has not counted the first one),
    // logins work, nothing fails with 500.
    assert_eq!(register("during1").await, 201);
    assert_eq!(register("during2").await, 201);
    assert_eq!(register("during3").await, 429);
    let login = node
        .post(
            "/api/v1/auth/login",
            &json!({"username": "during1", "password": PASSWORD}),
        )
        .await;
    assert_eq!(login.status(), 200);
    instances.stop().await;
}
