//! Rate-limit counters shared by every instance: the GCRA (generic cell rate algorithm) of the
//! `governor` crate, evaluated atomically inside Redis by one Lua script, so that a limit of N
//! holds across all instances together rather than N per instance.
//!
//! The semantics are governor's, so a limit behaves the same with and without Redis: with the
//! emission interval `T = per_secs / count` and the burst `b`, a key's state is its theoretical
//! arrival time `tat` (initially "now"); an event at `now` is allowed when
//! `now >= tat - T·(b-1)`, and then `tat = max(tat, now) + T`; refused, the wait is
//! `tat - T·(b-1) - now`. The clock is Redis's (`TIME`), one clock for every instance.
//!
//! Key: `<prefix>:rl:<limit>:<count>-<per_secs>-<burst>:<key>` (see [`bucket_key`]); the rate in
//! the key makes a changed rate start afresh, as a new local limiter does. Each key expires
//! (`PX`) when its bucket is full again, so idle keys cost nothing.
//!
//! [`with_redis`] is the one way this module (and `lease`, `setup`, the slowmode) runs a Redis
//! operation: bounded by `[redis] timeout_ms`, marking Redis up or down, and answering `None`
//! on failure so that the caller falls back to its per-process behaviour.

use std::{future::Future, sync::LazyLock, time::Duration};

use super::Redis;
use crate::config::Rate;

/// The GCRA step. KEYS[1]: the bucket. ARGV[1]: the emission interval T in µs; ARGV[2]: the
/// burst tolerance T·(burst-1) in µs. Returns 0 when the event is allowed (and counted), else
/// the wait in ms (at least 1). Numbers stay below 2^53 (µs since 1970), exact in Lua.
const GCRA_LUA: &str = r"
local t = tonumber(ARGV[1])
local tau = tonumber(ARGV[2])
local clock = redis.call('TIME')
local now = tonumber(clock[1]) * 1000000 + tonumber(clock[2])
local tat = tonumber(redis.call('GET', KEYS[1]) or now) or now
local earliest = tat - tau
if now < earliest then
  return math.max(1, math.ceil((earliest - now) / 1000))
end
local next = math.max(tat, now) + t
local ttl = math.max(1, math.ceil((next - now) / 1000))
redis.call('SET', KEYS[1], string.format('%.0f', next), 'PX', ttl)
return 0
";

static GCRA: LazyLock<redis::Script> = LazyLock::new(|| redis::Script::new(GCRA_LUA));

/// `<count>-<per_secs>-<burst>`: the rate's part of a bucket key.
pub fn fingerprint(rate: Rate) -> String {
    format!("{}-{}-{}", rate.count, rate.per_secs, rate.burst)
}

/// The Redis key of `key`'s bucket of limit `limit` (a stable snake_case name) at `rate`:
/// `<prefix>:rl:<limit>:<fingerprint>:<key>`.
pub fn bucket_key(redis: &Redis, limit: &str, rate: Rate, key: &str) -> String {
    redis.key(&format!("rl:{limit}:{}:{key}", fingerprint(rate)))
}

/// The emission interval and the burst tolerance of `rate`, in µs, as governor computes them
/// (`per_secs` at least 1, `burst` at least 1, T at least 1 µs); `None` when the rate is off
/// (`count = 0`).
pub fn gcra_params(rate: Rate) -> Option<(u64, u64)> {
    if rate.count == 0 {
        return None;
    }
    let per_us = rate.per_secs.max(1).saturating_mul(1_000_000);
    let t = (per_us / u64::from(rate.count)).max(1);
    let tau = t.saturating_mul(u64::from(rate.burst.max(1) - 1));
    Some((t, tau))
}

/// Counts one event of `limit` for `key` at `rate` in Redis. `Some(None)`: allowed (counted);
/// `Some(Some(wait))`: refused, retry after `wait` (not counted); `None`: Redis failed or did
/// not answer within its timeout (marked down; the caller falls back to its local limiter).
/// A rate that is off (`count = 0`) is always allowed without asking Redis.
pub async fn check(redis: &Redis, limit: &str, rate: Rate, key: &str) -> Option<Option<Duration>> {
    let Some((t, tau)) = gcra_params(rate) else {
        return Some(None);
    };
    let bucket = bucket_key(redis, limit, rate, key);
    let mut conn = redis.conn();
    let mut invocation = GCRA.key(bucket);
    invocation.arg(t).arg(tau);
    let wait_ms: u64 = with_redis(
        redis,
        "rate limit check",
        invocation.invoke_async(&mut conn),
    )
    .await?;
    Some((wait_ms > 0).then(|| Duration::from_millis(wait_ms)))
}

/// Runs one Redis operation bounded by `redis.timeout()`: `Some(value)` on success (Redis is
/// marked up), `None` on an error or a timeout (Redis is marked down with `what` and the error,
/// which logs loudly once per outage). Never panics; the caller falls back.
pub(crate) async fn with_redis<T>(
    redis: &Redis,
    what: &str,
    operation: impl Future<Output = redis::RedisResult<T>>,
) -> Option<T> {
    match tokio::time::timeout(redis.timeout(), operation).await {
        Ok(Ok(value)) => {
            redis.mark_up();
            Some(value)
        }
        Ok(Err(err)) => {
            redis.mark_down(what, &err);
            None
        }
        Err(_) => {
            redis.mark_down(
                what,
                &format!("no answer within {} ms", redis.timeout().as_millis()),
            );
            None
        }
    }
}

/// Test support: a Redis for unit tests with a unique key prefix, and a proxy that can make it
/// disappear.
#[cfg(test)]
pub(crate) mod testing {
    use std::sync::Arc;

    use tokio::{
        net::{TcpListener, TcpStream},
        task::JoinHandle,
    };

    use crate::{cluster::Cluster, config::Config, store::Backend};

    /// The machine's Redis the tests use.
    pub const TEST_REDIS: &str = "redis://127.0.0.1:6379";

    /// A cluster on `url` with the prefix `t-<uuid>`, timeout `timeout_ms`; `None` (skip) when
    /// that Redis does not answer, except in CI (`CI` set), where that fails the test.
    pub async fn cluster_on(url: &str, timeout_ms: u64) -> Option<Cluster> {
        let prefix = format!("t-{}", uuid::Uuid::new_v4().simple());
        cluster_with_prefix(url, &prefix, timeout_ms).await
    }

    /// Another instance on `url` with the key prefix `prefix` (to share one with a first), or
    /// `None` (skip) as [`cluster_on`].
    pub async fn cluster_with_prefix(url: &str, prefix: &str, timeout_ms: u64) -> Option<Cluster> {
        let mut config = Config::default();
        config.redis.url = Some(url.to_owned());
        config.redis.key_prefix = prefix.to_owned();
        config.redis.timeout_ms = timeout_ms;
        match super::super::connect(&config, Backend::Postgres).await {
            Ok(cluster) => Some(cluster),
            Err(err) => {
                assert!(
                    std::env::var("CI").is_err(),
                    "Redis at {url} must be reachable in CI: {err:#}"
                );
                eprintln!("skipped: no Redis at {url} ({err:#})");
                None
            }
        }
    }

    /// A cluster on the machine's Redis ([`TEST_REDIS`]) with a unique prefix, or `None` (skip).
    pub async fn cluster() -> Option<Cluster> {
        cluster_on(TEST_REDIS, 500).await
    }

    /// A TCP proxy to the test Redis on a free loopback port; [`Proxy::cut`] closes the port and
    /// every connection through it, as if Redis went away.
    pub struct Proxy {
        /// `redis://127.0.0.1:<port>`.
        pub url: String,
        task: JoinHandle<()>,
        links: Arc<std::sync::Mutex<Vec<JoinHandle<()>>>>,
    }

    impl Proxy {
        pub async fn start() -> Self {
            let listener = TcpListener::bind("127.0.0.1:0").await.expect("bind proxy");
            let url = format!("redis://{}", listener.local_addr().expect("addr"));
            let links = Arc::new(std::sync::Mutex::new(Vec::new()));
            let kept = links.clone();
            let task = tokio::spawn(async move {
                while let Ok((mut client, _)) = listener.accept().await {
                    let link = tokio::spawn(async move {
                        if let Ok(mut server) = TcpStream::connect("127.0.0.1:6379").await {
                            let _ = tokio::io::copy_bidirectional(&mut client, &mut server).await;
                        }
                    });
                    kept.lock().expect("links").push(link);
                }
            });
            Self { url, task, links }
        }

        /// Closes the listening port and every connection: Redis is gone for whoever used it.
        pub fn cut(&self) {
            self.task.abort();
            for link in self.links.lock().expect("links").drain(..) {
                link.abort();
            }
        }
    }

    impl Drop for Proxy {
        fn drop(&mut self) {
            self.cut();
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn params_follow_governor() {
        // 5 per minute, bursts of 3: T = 12 s, tolerance 24 s.
        assert_eq!(
            gcra_params(Rate::new(5, 60, 3)),
            Some((12_000_000, 24_000_000))
        );
        assert_eq!(gcra_params(Rate::new(0, 60, 3)), None);
        // A burst of 0 counts as 1 (no tolerance); a huge rate still has T >= 1 µs.
        assert_eq!(gcra_params(Rate::new(1, 1, 0)), Some((1_000_000, 0)));
        assert_eq!(gcra_params(Rate::new(u32::MAX, 1, 1)), Some((1, 0)));
        assert_eq!(fingerprint(Rate::new(5, 60, 3)), "5-60-3");
    }

    #[tokio::test]
    async fn a_burst_then_the_wait_then_one_more() {
        let Some(cluster) = testing::cluster().await else {
            return;
        };
        let redis = cluster.redis().expect("redis");
        // 10 per second (T = 100 ms), bursts of 3.
        let rate = Rate::new(10, 1, 3);
        for i in 0..3 {
            assert_eq!(check(redis, "t", rate, "k").await, Some(None), "event {i}");
        }
        let Some(Some(wait)) = check(redis, "t", rate, "k").await else {
            panic!("the fourth event in a row is refused");
        };
        assert!(
            wait > Duration::from_millis(50) && wait <= Duration::from_millis(100),
            "{wait:?}"
        );
        // Refused events are not counted: after the wait exactly one more is allowed.
        tokio::time::sleep(wait + Duration::from_millis(5)).await;
        assert_eq!(check(redis, "t", rate, "k").await, Some(None));
        assert!(matches!(check(redis, "t", rate, "k").await, Some(Some(_))));
        // Other keys, other limits and other rates have their own buckets.
        assert_eq!(check(redis, "t", rate, "other").await, Some(None));
        assert_eq!(check(redis, "u", rate, "k").await, Some(None));
        assert_eq!(
            check(redis, "t", Rate::new(10, 1, 4), "k").await,
            Some(None)
        );
        // Off: always allowed.
        for _ in 0..10 {
            assert_eq!(check(redis, "t", Rate::new(0, 1, 1), "k").await, Some(None));
        }
        assert!(redis.is_healthy());
    }

    #[tokio::test]
    async fn the_bucket_key_expires_when_the_bucket_is_full_again() {
        let Some(cluster) = testing::cluster().await else {
            return;
        };
        let redis = cluster.redis().expect("redis");
        let rate = Rate::new(1, 3600, 5);
        assert_eq!(check(redis, "t", rate, "k").await, Some(None));
        let mut conn = redis.conn();
        let key = bucket_key(redis, "t", rate, "k");
        assert!(key.ends_with(":rl:t:1-3600-5:k"), "{key}");
        let ttl: i64 = redis::cmd("PTTL")
            .arg(&key)
            .query_async(&mut conn)
            .await
            .expect("pttl");
        // One event of T = 1 h: full again in about an hour.
        assert!(ttl > 3_590_000 && ttl <= 3_600_000, "{ttl}");
    }

    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn concurrent_checks_never_exceed_the_burst() {
        let Some(cluster) = testing::cluster().await else {
            return;
        };
        let rate = Rate::new(1, 3600, 7);
        let checks = (0..40).map(|_| {
            let cluster = cluster.clone();
            tokio::spawn(
                async move { check(cluster.redis().expect("redis"), "t", rate, "k").await },
            )
        });
        let mut allowed = 0;
        for handle in checks {
            if handle.await.expect("task") == Some(None) {
                allowed += 1;
            }
        }
        assert_eq!(allowed, 7);
    }

    #[tokio::test]
    async fn a_vanished_redis_is_a_failure_not_a_panic() {
        let proxy = testing::Proxy::start().await;
        let Some(cluster) = testing::cluster_on(&proxy.url, 300).await else {
            return;
        };
        let redis = cluster.redis().expect("redis");
        let rate = Rate::new(1, 3600, 1);
        assert_eq!(check(redis, "t", rate, "k").await, Some(None));
        proxy.cut();
        assert_eq!(check(redis, "t", rate, "k").await, None);
        assert!(!redis.is_healthy());
        assert!(redis.problem().is_some());
    }
}
