//! The one-time setup token, the same on every instance: whichever instance starts first makes
//! it, every instance prints the same link, and it works once, on any instance.
//!
//! It lives in ONE Redis hash, `<prefix>:setup-token`, with two fields and one TTL (30 minutes
//! from when it was made): `hash`, the SHA-256 hex of the token, which is what a setup attempt
//! is compared with; and `token`, the token itself, which is only read to print the link. One
//! key rather than a hash key plus a link key, so the two can never expire apart or be half
//! written. The comparison happens inside Redis (a Lua compare-and-delete, atomic: two
//! instances cannot both accept it); Lua has no constant-time comparison, so it compares the
//! hash of the presented token with the stored hash: the time it takes tells an attacker about
//! the hash of their guess, nothing about the token. The raw token is in Redis so that other
//! instances can print it; whoever can read Redis can already do anything to the cluster, and
//! the token is useless once the admin exists.
//!
//! Every function answers `None` when Redis fails (marked down): the caller then uses the
//! per-process token, as without Redis.

use std::{sync::LazyLock, time::Duration};

use super::{Redis, limits::with_redis};

/// KEYS[1]: the token's hash key. ARGV[1]: the hash of a new token, ARGV[2]: the new token,
/// ARGV[3]: its TTL in ms. Returns the token in force: the existing one, else the new one (now
/// stored).
const ISSUE_LUA: &str = r"
local existing = redis.call('HGET', KEYS[1], 'token')
if existing then
  return existing
end
redis.call('HSET', KEYS[1], 'hash', ARGV[1], 'token', ARGV[2])
redis.call('PEXPIRE', KEYS[1], ARGV[3])
return ARGV[2]
";

/// KEYS[1]: the token's hash key. ARGV[1]: the hash of the presented token. Deletes the token
/// and returns 1 when it matches, else 0.
const CONSUME_LUA: &str = r"
if redis.call('HGET', KEYS[1], 'hash') == ARGV[1] then
  redis.call('DEL', KEYS[1])
  return 1
end
return 0
";

static ISSUE: LazyLock<redis::Script> = LazyLock::new(|| redis::Script::new(ISSUE_LUA));
static CONSUME: LazyLock<redis::Script> = LazyLock::new(|| redis::Script::new(CONSUME_LUA));

fn key(redis: &Redis) -> String {
    redis.key("setup-token")
}

/// Stores `token` (with `hash`, its SHA-256 hex) for `ttl` unless a token is already stored,
/// and returns the token in force: the stored one, else `token`. Also how a token is put back
/// after a failed account creation (then only if no other token was made meanwhile). `None`:
/// Redis failed.
pub async fn issue(redis: &Redis, token: &str, hash: &str, ttl: Duration) -> Option<String> {
    let ttl_ms = u64::try_from(ttl.as_millis()).unwrap_or(u64::MAX).max(1);
    let mut invocation = ISSUE.key(key(redis));
    invocation.arg(hash).arg(token).arg(ttl_ms);
    let mut conn = redis.conn();
    with_redis(redis, "setup token", invocation.invoke_async(&mut conn)).await
}

/// Uses the token whose SHA-256 hex is `hash`: `Some(true)` when it was the stored token (now
/// deleted: it works once, cluster-wide), `Some(false)` when it is not (wrong, used or
/// expired), `None` when Redis failed.
pub async fn consume(redis: &Redis, hash: &str) -> Option<bool> {
    let mut invocation = CONSUME.key(key(redis));
    invocation.arg(hash);
    let mut conn = redis.conn();
    with_redis(
        redis,
        "setup token",
        invocation.invoke_async::<i64>(&mut conn),
    )
    .await
    .map(|n| n == 1)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::cluster::limits::testing;

    #[tokio::test]
    async fn the_first_token_stays_and_works_once() {
        let Some(cluster) = testing::cluster().await else {
            return;
        };
        let redis = cluster.redis().expect("redis");
        let ttl = Duration::from_secs(60);
        assert_eq!(
            issue(redis, "tok-a", "hash-a", ttl).await.as_deref(),
            Some("tok-a")
        );
        // A second instance gets the first token.
        assert_eq!(
            issue(redis, "tok-b", "hash-b", ttl).await.as_deref(),
            Some("tok-a")
        );
        assert_eq!(consume(redis, "hash-b").await, Some(false));
        assert_eq!(consume(redis, "hash-a").await, Some(true));
        assert_eq!(consume(redis, "hash-a").await, Some(false), "once");
        // Put back (failed creation), then usable again.
        assert_eq!(
            issue(redis, "tok-a", "hash-a", ttl).await.as_deref(),
            Some("tok-a")
        );
        assert_eq!(consume(redis, "hash-a").await, Some(true));
    }
}
