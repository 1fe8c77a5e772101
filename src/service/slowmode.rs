//! Room slowmode: a plain member may post in a room with `slowmode_secs = N` once every N
//! seconds. The owner, moderators and holders of `rooms.moderate` are exempt (see
//! `domain::slowmode_applies`).
//!
//! With Redis (several instances), the mark of each member's last accepted message is
//! `<prefix>:slowmode:<room>:<user>`, set with `SET … NX PX <N s>` in one Lua script that, when
//! the key exists, answers its remaining time (`PTTL`) as the wait: one interval across all
//! instances, atomic, and the key is gone when the interval is over. Without Redis, or when
//! Redis fails (marked down; this process's own marks decide), the time of each member's last
//! accepted message is kept **per process**, in memory (a moka cache keyed by (room, user),
//! entries gone after the longest slowmode): a restart forgets it. Either way the mark is set
//! when the message is accepted for writing (before its commit), atomically per key, so two
//! concurrent sends of one member cannot both pass.

use std::{
    sync::LazyLock,
    time::{Duration, Instant},
};

use moka::{ops::compute::Op, sync::Cache};

use crate::{
    cluster::{Cluster, limits::with_redis},
    domain::{ConversationId, DomainError, UserId},
};

/// Longest slowmode: 6 hours, in seconds.
pub const SLOWMODE_MAX_SECS: i32 = 21_600;

/// KEYS[1]: the mark. ARGV[1]: the interval in ms. Returns 0 when the mark was set (the message
/// may go), else the remaining wait in ms (at least 1).
const MARK_LUA: &str = r"
if redis.call('SET', KEYS[1], '1', 'NX', 'PX', ARGV[1]) then
  return 0
end
return math.max(1, redis.call('PTTL', KEYS[1]))
";

static MARK: LazyLock<redis::Script> = LazyLock::new(|| redis::Script::new(MARK_LUA));

/// The last accepted message of each (room, member). Cheap to clone.
#[derive(Clone)]
pub struct Slowmode {
    last: Cache<(ConversationId, UserId), Instant>,
    cluster: Cluster,
}

impl Slowmode {
    /// An empty tracker; the marks are in `cluster`'s Redis when it has one.
    pub fn new(cluster: Cluster) -> Self {
        Self {
            last: Cache::builder()
                .max_capacity(1_000_000)
                .time_to_live(Duration::from_secs(SLOWMODE_MAX_SECS.unsigned_abs().into()))
                .build(),
            cluster,
        }
    }

    /// Accepts a message of `user` in `room` whose slowmode is `secs` seconds and remembers
    /// the time (across every instance with Redis), or refuses it. Errors: 429 `slowmode` with
    /// the wait. Never an error because of Redis.
    pub async fn check(
        &self,
        room: ConversationId,
        user: UserId,
        secs: u32,
    ) -> Result<(), DomainError> {
        if secs == 0 {
            return Ok(());
        }
        if let Some(redis) = self.cluster.redis() {
            let mut invocation = MARK.key(redis.key(&format!("slowmode:{room}:{user}")));
            invocation.arg(u64::from(secs) * 1000);
            let mut conn = redis.conn();
            match with_redis(redis, "slowmode", invocation.invoke_async::<u64>(&mut conn)).await {
                Some(0) => return Ok(()),
                Some(wait_ms) => return Err(DomainError::slowmode(Duration::from_millis(wait_ms))),
                None => {}
            }
        }
        self.check_local(room, user, secs)
    }

    /// [`Self::check`] in this process's memory.
    fn check_local(
        &self,
        room: ConversationId,
        user: UserId,
        secs: u32,
    ) -> Result<(), DomainError> {
        let interval = Duration::from_secs(secs.into());
        let now = Instant::now();
        let mut wait = None;
        self.last
            .entry((room, user))
            .and_compute_with(|previous| match previous {
                Some(entry) if now.duration_since(*entry.value()) < interval => {
                    wait = Some(interval - now.duration_since(*entry.value()));
                    Op::Nop
                }
                _ => Op::Put(now),
            });
        match wait {
            Some(wait) => Err(DomainError::slowmode(wait)),
            None => Ok(()),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    async fn second_message_waits(slow: &Slowmode) {
        let (room, user) = (ConversationId::new(), UserId::new());
        assert!(slow.check(room, user, 30).await.is_ok());
        let err = slow.check(room, user, 30).await.err();
        assert_eq!(
            err.as_ref().map(DomainError::code),
            Some(crate::domain::ErrorCode::Slowmode)
        );
        let Some(DomainError::RateLimited { retry_after, .. }) = err else {
            panic!("429");
        };
        assert!(
            retry_after > Duration::from_secs(29) && retry_after <= Duration::from_secs(30),
            "{retry_after:?}"
        );
        assert!(
            slow.check(room, UserId::new(), 30).await.is_ok(),
            "per member"
        );
        assert!(
            slow.check(ConversationId::new(), user, 30).await.is_ok(),
            "per room"
        );
    }

    #[tokio::test]
    async fn a_second_message_within_the_interval_waits() {
        second_message_waits(&Slowmode::new(Cluster::local())).await;
    }

    #[tokio::test]
    async fn with_redis_the_interval_holds_across_instances() {
        use crate::cluster::limits::testing;
        let Some(a) = testing::cluster().await else {
            return;
        };
        second_message_waits(&Slowmode::new(a.clone())).await;
        let prefix = a.redis().expect("redis").key("");
        let Some(b) =
            testing::cluster_with_prefix(testing::TEST_REDIS, prefix.trim_end_matches(':'), 500)
                .await
        else {
            return;
        };
        let (on_a, on_b) = (Slowmode::new(a), Slowmode::new(b));
        let (room, user) = (ConversationId::new(), UserId::new());
        assert!(on_a.check(room, user, 1).await.is_ok());
        assert!(
            on_b.check(room, user, 1).await.is_err(),
            "the other instance knows"
        );
        tokio::time::sleep(Duration::from_millis(1100)).await;
        assert!(
            on_b.check(room, user, 1).await.is_ok(),
            "the interval is over"
        );
    }

    #[tokio::test]
    async fn a_redis_failure_falls_back_to_this_process() {
        use crate::cluster::limits::testing;
        let proxy = testing::Proxy::start().await;
        let Some(cluster) = testing::cluster_on(&proxy.url, 300).await else {
            return;
        };
        proxy.cut();
        second_message_waits(&Slowmode::new(cluster)).await;
    }
}
