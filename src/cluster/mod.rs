//! Several instances: the shared parts that let N identical EchoChat processes serve one chat
//! behind any load balancer, on one PostgreSQL database and one Redis (docs/scaling.md).
//!
//! - [`Cluster`]: this instance's id and, when `[redis] url` / `REDIS_URL` is set, the Redis
//!   connection every shared part uses, with its health (readiness) and key names;
//! - [`bus`]: the event bus over Redis pub/sub ([`bus::RedisBus`]);
//! - [`instances`]: the registry of live instances (heartbeats, shown in the admin panel);
//! - [`limits`]: rate-limit counters shared by every instance (GCRA in Redis);
//! - [`lease`]: periodic jobs that run on one instance at a time;
//! - [`setup`]: the one-time setup token, the same on every instance.
//!
//! Without Redis nothing here talks to the network: one instance, everything in process, as
//! before. Like `store`, this is infrastructure: services and `realtime` use it; it uses `domain`,
//! `events` and `config` only.

use std::{
    sync::{
        Arc, Mutex,
        atomic::{AtomicBool, Ordering},
    },
    time::Duration,
};

use anyhow::Context;
use redis::aio::{ConnectionManager, ConnectionManagerConfig};

use crate::{config::Config, domain::InstanceId, store::Backend};

pub mod bus;
pub mod instances;
pub mod lease;
pub mod limits;
pub mod setup;

/// This instance among others. Cheap to clone.
#[derive(Clone)]
pub struct Cluster {
    inner: Arc<Inner>,
}

struct Inner {
    instance: InstanceId,
    redis: Option<Redis>,
}

/// The shared Redis: a multiplexed connection that reconnects by itself, the client to open
/// pub/sub connections from, the key prefix, and whether Redis answers (readiness).
pub struct Redis {
    client: redis::Client,
    conn: ConnectionManager,
    prefix: String,
    timeout: Duration,
    healthy: AtomicBool,
    /// Whether the event bus subscription is up (set by `bus`).
    subscribed: AtomicBool,
    /// Why Redis is unhealthy, for `GET /health/ready` (the URL's password never appears).
    problem: Mutex<Option<String>>,
}

impl Redis {
    /// A handle to the shared connection (cloning is cheap; commands are pipelined on one TCP
    /// connection, which reconnects with backoff by itself).
    pub fn conn(&self) -> ConnectionManager {
        self.conn.clone()
    }

    /// The client, to open dedicated connections (pub/sub).
    pub fn client(&self) -> &redis::Client {
        &self.client
    }

    /// `"<prefix>:<name>"`: every key and channel EchoChat uses goes through here.
    pub fn key(&self, name: &str) -> String {
        format!("{}:{name}", self.prefix)
    }

    /// How long one command may take (`[redis] timeout_ms`).
    pub fn timeout(&self) -> Duration {
        self.timeout
    }

    /// Whether Redis answered the last time anyone asked.
    pub fn is_healthy(&self) -> bool {
        self.healthy.load(Ordering::Relaxed)
    }

    /// Whether this instance receives the other instances' events (its bus subscription is up).
    pub fn is_subscribed(&self) -> bool {
        self.subscribed.load(Ordering::Relaxed)
    }

    /// Records whether the bus subscription is up.
    pub fn set_subscribed(&self, up: bool) {
        self.subscribed.store(up, Ordering::Relaxed);
    }

    /// Why Redis is unhealthy (`None` while healthy).
    pub fn problem(&self) -> Option<String> {
        if self.is_healthy() {
            return None;
        }
        self.problem
            .lock()
            .map(|p| p.clone())
            .unwrap_or_else(|e| e.into_inner().clone())
    }

    /// Records that Redis answered: logs once when it comes back.
    pub fn mark_up(&self) {
        if !self.healthy.swap(true, Ordering::Relaxed) {
            tracing::warn!("Redis is reachable again");
        }
    }

    /// Records that Redis failed (`what` failed with `err`): logs loudly once per outage, then
    /// at debug level.
    pub fn mark_down(&self, what: &str, err: &dyn std::fmt::Display) {
        let problem = format!("{what}: {err}");
        if self.healthy.swap(false, Ordering::Relaxed) {
            tracing::error!(problem = %problem, "Redis is unreachable: this instance keeps serving its own connections, other instances do not hear from it; reconnecting with backoff");
        } else {
            tracing::debug!(problem = %problem, "Redis still unreachable");
        }
        if let Ok(mut slot) = self.problem.lock() {
            *slot = Some(problem);
        }
    }
}

impl Cluster {
    /// One instance without Redis, with a generated id (tests of services, commands).
    pub fn local() -> Self {
        Self {
            inner: Arc::new(Inner {
                instance: InstanceId::generate(),
                redis: None,
            }),
        }
    }

    /// This instance's id.
    pub fn instance(&self) -> &InstanceId {
        &self.inner.instance
    }

    /// The shared Redis, when configured.
    pub fn redis(&self) -> Option<&Redis> {
        self.inner.redis.as_ref()
    }

    /// Whether other instances may exist (Redis is configured).
    pub fn is_shared(&self) -> bool {
        self.inner.redis.is_some()
    }
}

/// `url` with its password replaced by `***`, for messages and logs.
pub fn redact(url: &str) -> String {
    match url::Url::parse(url) {
        Ok(mut parsed) => {
            if parsed.password().is_some() {
                let _ = parsed.set_password(Some("***"));
            }
            parsed.to_string()
        }
        Err(_) => "<unparsable URL>".to_owned(),
    }
}

/// Sets this instance up from `[cluster]` and `[redis]`. With a Redis URL: refuses SQLite,
/// refuses a URL that is not `redis://` / `rediss://` / `unix://`, and fails fast (within
/// `[redis] timeout_ms`) when Redis does not answer `PING` — wrong password, wrong host — with a
/// message that names the URL without its password.
pub async fn connect(config: &Config, backend: Backend) -> anyhow::Result<Cluster> {
    let instance = match &config.cluster.instance_id {
        Some(id) => InstanceId::parse(id.trim()).map_err(anyhow::Error::msg)?,
        None => InstanceId::generate(),
    };
    let Some(url) = config
        .redis
        .url
        .as_deref()
        .map(str::trim)
        .filter(|u| !u.is_empty())
    else {
        return Ok(Cluster {
            inner: Arc::new(Inner {
                instance,
                redis: None,
            }),
        });
    };
    let shown = redact(url);
    anyhow::ensure!(
        backend != Backend::Sqlite,
        "[redis] url (REDIS_URL) is set but the database is SQLite: several instances cannot share \
         a SQLite file. Use PostgreSQL (DATABASE_URL=postgres://…) for several instances, or \
         remove REDIS_URL to run one instance on SQLite"
    );
    let scheme = url.split("://").next().unwrap_or_default();
    anyhow::ensure!(
        scheme != "rediss",
        "[redis] url {shown}: TLS to Redis (rediss://) is not built into this server; reach Redis \
         over a private network or a TLS tunnel (stunnel, spiped) and use redis://"
    );
    anyhow::ensure!(
        matches!(scheme, "redis" | "unix" | "redis+unix"),
        "[redis] url {shown} is not a Redis URL: use redis://[user:password@]host:port[/db]"
    );
    let client = redis::Client::open(url)
        .with_context(|| format!("[redis] url {shown} is not a usable Redis URL"))?;
    let timeout = config.redis.timeout();
    let manager = ConnectionManagerConfig::new()
        .set_connection_timeout(Some(timeout))
        .set_response_timeout(Some(timeout))
        .set_number_of_retries(2)
        .set_max_delay(Duration::from_secs(2));
    let connect = async {
        let mut conn = ConnectionManager::new_with_config(client.clone(), manager).await?;
        redis::cmd("PING").query_async::<String>(&mut conn).await?;
        Ok::<_, redis::RedisError>(conn)
    };
    let conn = match tokio::time::timeout(timeout * 3, connect).await {
        Ok(Ok(conn)) => conn,
        Ok(Err(err)) => anyhow::bail!(
            "cannot use Redis at {shown}: {err}. EchoChat does not start without the Redis it was \
             told to use (check [redis] url / REDIS_URL, the password, and that Redis runs)"
        ),
        Err(_) => anyhow::bail!(
            "Redis at {shown} did not answer within {} ms. EchoChat does not start without the \
             Redis it was told to use (check [redis] url / REDIS_URL and that Redis runs)",
            timeout.as_millis() * 3
        ),
    };
    tracing::info!(redis = %shown, instance = %instance, prefix = %config.redis.key_prefix, "Redis connected: several instances share the bus, presence and rate limits");
    Ok(Cluster {
        inner: Arc::new(Inner {
            instance,
            redis: Some(Redis {
                client,
                conn,
                prefix: config.redis.key_prefix.clone(),
                timeout,
                healthy: AtomicBool::new(true),
                subscribed: AtomicBool::new(false),
                problem: Mutex::new(None),
            }),
        }),
    })
}
