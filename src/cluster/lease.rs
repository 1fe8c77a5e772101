//! Periodic jobs that run on one instance at a time: a lease in Redis,
//! `SET <prefix>:lease:<job> <instance> NX PX <period>`.
//!
//! Each instance keeps its own timer; before a run it asks for the job's lease
//! ([`Jobs::try_acquire`]). The lease is held for the whole period and not released after the
//! run, so a job runs at most once per period across the cluster, whichever instance's timer
//! fires first. A job that needs mutual exclusion rather than "once per period" (the TLS check:
//! every instance holds its own certificate) releases the lease when done ([`Jobs::release`]).
//!
//! Every granted lease is a run: it is recorded in the same Lua script, as
//! `"<instance> <unix_ms>"` pushed onto `<prefix>:jobs:<job>:runs` (the latest 100 kept; the
//! list expires a week after the last run), and logged at DEBUG as `periodic job ran` with
//! `job` and `instance`.
//!
//! Without Redis every lease is granted (one instance). When Redis fails, [`Job::runs_alone`]
//! decides, per job, whether this instance runs it anyway (see each job).

use std::{sync::LazyLock, time::Duration};

use super::{Cluster, limits::with_redis};

/// Runs kept in `<prefix>:jobs:<job>:runs`.
pub const RUNS_KEPT: isize = 100;

/// How long the run list of a job is kept after its latest run.
const RUNS_TTL: Duration = Duration::from_secs(7 * 24 * 3600);

/// KEYS[1]: the lease, KEYS[2]: the run list. ARGV[1]: this instance, ARGV[2]: the period in
/// ms, ARGV[3]: how many runs to keep, ARGV[4]: the run list's TTL in ms. Returns 1 when the
/// lease was granted (and the run recorded with Redis's clock), 0 when another holds it.
const ACQUIRE_LUA: &str = r"
if not redis.call('SET', KEYS[1], ARGV[1], 'NX', 'PX', ARGV[2]) then
  return 0
end
local clock = redis.call('TIME')
local ms = tonumber(clock[1]) * 1000 + math.floor(tonumber(clock[2]) / 1000)
redis.call('LPUSH', KEYS[2], ARGV[1] .. ' ' .. string.format('%.0f', ms))
redis.call('LTRIM', KEYS[2], 0, tonumber(ARGV[3]) - 1)
redis.call('PEXPIRE', KEYS[2], ARGV[4])
return 1
";

/// KEYS[1]: the lease; ARGV[1]: this instance. Deletes the lease only while it is still ours
/// (it may have expired and gone to another instance). Returns 1 when deleted.
const RELEASE_LUA: &str = r"
if redis.call('GET', KEYS[1]) == ARGV[1] then
  return redis.call('DEL', KEYS[1])
end
return 0
";

static ACQUIRE: LazyLock<redis::Script> = LazyLock::new(|| redis::Script::new(ACQUIRE_LUA));
static RELEASE: LazyLock<redis::Script> = LazyLock::new(|| redis::Script::new(RELEASE_LUA));

/// A periodic job run under a lease.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Job {
    /// Deleting expired refresh tokens and one-time tokens (`service::janitor`), every
    /// `[cluster] janitor_interval_secs`.
    Janitor,
    /// Ending idle sessions (`SessionService::run_idle_sweeper`).
    IdleSessions,
    /// Checking (and re-issuing) the self-signed certificate (`tls`): mutual exclusion only.
    TlsRenewal,
}

impl Job {
    /// The job's name in keys and logs: `janitor`, `idle-sessions`, `tls-renewal`.
    pub fn name(self) -> &'static str {
        match self {
            Job::Janitor => "janitor",
            Job::IdleSessions => "idle-sessions",
            Job::TlsRenewal => "tls-renewal",
        }
    }

    /// Whether this instance runs the job when Redis cannot tell whether another does:
    ///
    /// - `janitor`: yes. It deletes rows whose expiry passed; two instances deleting the same
    ///   rows delete them once, and skipping it through a long outage lets the tables grow.
    /// - `idle-sessions`: yes. Ending an idle session on time is a security property (its
    ///   WebSockets close); ending is a conditional update, so a session ends once. Two sweeps
    ///   that overlap to the millisecond may audit one ending twice: that is the price.
    /// - `tls-renewal`: no. Instances that share a data folder must not write the certificate
    ///   at the same time; the current certificate keeps being served and the check comes back
    ///   at its next period.
    pub fn runs_alone(self) -> bool {
        match self {
            Job::Janitor | Job::IdleSessions => true,
            Job::TlsRenewal => false,
        }
    }
}

/// The leases of this instance's periodic jobs. Cheap to clone.
#[derive(Clone)]
pub struct Jobs {
    cluster: Cluster,
}

impl Jobs {
    /// The jobs of `cluster`'s instance.
    pub fn new(cluster: Cluster) -> Self {
        Self { cluster }
    }

    /// Asks for `job`'s lease for `period`: true when this instance may run the job now (the
    /// run is then recorded and logged). Without Redis: always true. With Redis: true when no
    /// instance holds the lease (it is now ours until `period` passes); false when another
    /// does; when Redis fails or does not answer in time, Redis is marked down and the answer
    /// is [`Job::runs_alone`]. `period` is rounded up to whole ms (at least 1).
    pub async fn try_acquire(&self, job: Job, period: Duration) -> bool {
        let instance = self.cluster.instance().as_str();
        let Some(redis) = self.cluster.redis() else {
            tracing::debug!(job = job.name(), instance, "periodic job ran");
            return true;
        };
        let period_ms = period.as_millis().clamp(1, u128::from(u64::MAX));
        let mut conn = redis.conn();
        let mut invocation = ACQUIRE.key(redis.key(&format!("lease:{}", job.name())));
        invocation
            .key(redis.key(&format!("jobs:{}:runs", job.name())))
            .arg(instance)
            .arg(u64::try_from(period_ms).unwrap_or(u64::MAX))
            .arg(RUNS_KEPT)
            .arg(u64::try_from(RUNS_TTL.as_millis()).unwrap_or(u64::MAX));
        let what = format!("lease of periodic job {}", job.name());
        match with_redis(redis, &what, invocation.invoke_async::<i64>(&mut conn)).await {
            Some(1) => {
                tracing::debug!(job = job.name(), instance, "periodic job ran");
                true
            }
            Some(_) => false,
            None => {
                let alone = job.runs_alone();
                tracing::warn!(
                    job = job.name(),
                    instance,
                    runs_anyway = alone,
                    "cannot take the lease of a periodic job: Redis failed"
                );
                if alone {
                    tracing::debug!(job = job.name(), instance, "periodic job ran");
                }
                alone
            }
        }
    }

    /// Gives `job`'s lease back if this instance still holds it (a compare-and-delete in one
    /// Lua script: a lease that expired and went to another instance is left alone). Without
    /// Redis, or when Redis fails (marked down; the lease then expires by itself), nothing.
    pub async fn release(&self, job: Job) {
        let Some(redis) = self.cluster.redis() else {
            return;
        };
        let mut conn = redis.conn();
        let mut invocation = RELEASE.key(redis.key(&format!("lease:{}", job.name())));
        invocation.arg(self.cluster.instance().as_str());
        let what = format!("release of periodic job {}", job.name());
        let _ = with_redis(redis, &what, invocation.invoke_async::<i64>(&mut conn)).await;
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::cluster::limits::testing;

    #[tokio::test]
    async fn without_redis_every_lease_is_granted() {
        let jobs = Jobs::new(Cluster::local());
        for _ in 0..3 {
            assert!(
                jobs.try_acquire(Job::Janitor, Duration::from_secs(60))
                    .await
            );
        }
        jobs.release(Job::Janitor).await;
    }

    #[tokio::test]
    async fn one_holder_per_period_and_each_run_recorded() {
        let Some(a) = testing::cluster().await else {
            return;
        };
        // A second instance on the same Redis and prefix.
        let prefix = a.redis().expect("redis").key("");
        let prefix = prefix.trim_end_matches(':');
        let Some(b) = testing::cluster_with_prefix(testing::TEST_REDIS, prefix, 500).await else {
            return;
        };
        let (ja, jb) = (Jobs::new(a.clone()), Jobs::new(b.clone()));
        let period = Duration::from_millis(300);
        assert!(ja.try_acquire(Job::Janitor, period).await);
        assert!(!jb.try_acquire(Job::Janitor, period).await);
        assert!(
            !ja.try_acquire(Job::Janitor, period).await,
            "once per period"
        );
        // Another job has its own lease.
        assert!(jb.try_acquire(Job::IdleSessions, period).await);
        // Release only deletes our own lease.
        jb.release(Job::Janitor).await;
        assert!(!jb.try_acquire(Job::Janitor, period).await);
        tokio::time::sleep(period + Duration::from_millis(50)).await;
        assert!(jb.try_acquire(Job::Janitor, period).await);
        jb.release(Job::Janitor).await;
        assert!(ja.try_acquire(Job::Janitor, period).await, "released");

        let redis = a.redis().expect("redis");
        let runs: Vec<String> = redis::cmd("LRANGE")
            .arg(redis.key("jobs:janitor:runs"))
            .arg(0)
            .arg(-1)
            .query_async(&mut redis.conn())
            .await
            .expect("runs");
        assert_eq!(runs.len(), 3, "{runs:?}");
        let newest = runs[0].split(' ').collect::<Vec<_>>();
        assert_eq!(newest[0], a.instance().as_str());
        assert_eq!(runs[1].split(' ').next(), Some(b.instance().as_str()));
        let ms: i64 = newest[1].parse().expect("unix ms");
        let now = chrono::Utc::now().timestamp_millis();
        assert!((now - ms).abs() < 10_000, "{ms} vs {now}");
    }

    #[tokio::test]
    async fn a_redis_failure_runs_only_the_jobs_that_may_run_twice() {
        let proxy = testing::Proxy::start().await;
        let Some(cluster) = testing::cluster_on(&proxy.url, 300).await else {
            return;
        };
        proxy.cut();
        let jobs = Jobs::new(cluster.clone());
        let period = Duration::from_secs(60);
        assert!(jobs.try_acquire(Job::Janitor, period).await);
        assert!(jobs.try_acquire(Job::IdleSessions, period).await);
        assert!(!jobs.try_acquire(Job::TlsRenewal, period).await);
        jobs.release(Job::TlsRenewal).await;
        assert!(!cluster.redis().expect("redis").is_healthy());
    }
}
