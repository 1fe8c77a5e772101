//! The token janitor: every `[cluster] janitor_interval_secs` (default one hour) it deletes the
//! refresh tokens and the one-time e-mailed tokens (password reset, address verification)
//! whose expiry passed, so those tables hold what can still be used rather than every token
//! ever issued. See `store::tokens::delete_expired` and `store::user_tokens::delete_expired`
//! for exactly what is kept.
//!
//! With several instances it runs on one at a time, at most once per interval across the
//! cluster: the `janitor` lease (`cluster::lease`). Deleting expired rows is idempotent, so when
//! Redis fails each instance runs it on its own.

use std::time::Duration;

use tokio::task::JoinHandle;
use tokio_util::sync::CancellationToken;

use crate::{
    cluster::lease::{Job, Jobs},
    domain::DomainError,
    store::{Db, tokens, user_tokens},
};

/// What one sweep deleted.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct Swept {
    /// Expired refresh tokens.
    pub refresh_tokens: u64,
    /// Expired one-time tokens.
    pub user_tokens: u64,
}

/// Deletes expired tokens periodically. Cheap to clone.
#[derive(Clone)]
pub struct Janitor {
    db: Db,
    jobs: Jobs,
    interval: Duration,
}

impl Janitor {
    /// A janitor that sweeps every `interval` (at least one second) under the `janitor` lease
    /// of `jobs`.
    pub fn new(db: Db, jobs: Jobs, interval: Duration) -> Self {
        Self {
            db,
            jobs,
            interval: interval.max(Duration::from_secs(1)),
        }
    }

    /// Deletes the expired tokens now (no lease). Errors: the database's.
    pub async fn sweep(&self) -> Result<Swept, DomainError> {
        let now = chrono::Utc::now();
        Ok(Swept {
            refresh_tokens: tokens::delete_expired(&self.db.write, now).await?,
            user_tokens: user_tokens::delete_expired(&self.db.write, now).await?,
        })
    }

    /// Starts the task that sweeps every interval (the first sweep at once) on whichever
    /// instance holds the lease, until `shutdown` fires. A failed sweep is logged and tried
    /// again at the next interval.
    pub fn spawn(self, shutdown: CancellationToken) -> JoinHandle<()> {
        tokio::spawn(async move {
            let mut every = tokio::time::interval(self.interval);
            every.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
            loop {
                tokio::select! {
                    () = shutdown.cancelled() => return,
                    _ = every.tick() => {}
                }
                if !self.jobs.try_acquire(Job::Janitor, self.interval).await {
                    continue;
                }
                match self.sweep().await {
                    Ok(swept) if swept != Swept::default() => tracing::info!(
                        refresh_tokens = swept.refresh_tokens,
                        user_tokens = swept.user_tokens,
                        "deleted expired tokens"
                    ),
                    Ok(_) => {}
                    Err(err) => tracing::warn!(error = %err, "token janitor failed"),
                }
            }
        })
    }
}
