//! Sessions: each login is one, listed with its device, address and activity; its owner ends
//! one, the others or all of them; idle ones end by themselves after `idle_timeout_minutes`.
//!
//! The `sessions` table is the truth: an ended session's access tokens are refused (also after a
//! restart; see `Access::session_ended`), its refresh tokens are revoked in the same
//! transaction, and the `SessionEnded` event closes its WebSockets with 1008 and the reason.
//!
//! Activity is what the person does, not what their client does by itself: state-changing
//! requests, sends, typing, and the client's explicit `activity` report. Token refreshes and
//! reads do not count, so a forgotten open tab still reaches the idle timeout. It is written at
//! most once per [`SessionService::touch_interval`] per session.

use std::{net::IpAddr, sync::Arc, time::Duration};

use moka::sync::Cache;

use super::uow::{UnitOfWork, Work};
use crate::{
    cluster::{
        Cluster,
        lease::{Job, Jobs},
    },
    config::Config,
    domain::{
        Actor, AuditAction, AuditTarget, DomainError, NewAuditEntry, SessionEndReason, SessionId,
        SessionInfo, Timestamp, UserId,
    },
    events::Event,
    store::{
        Db,
        sessions::{self, NewSession, Which},
        tokens,
    },
};

/// Most idle sessions ended per sweep (the next sweep takes the rest).
const SWEEP_BATCH: u64 = 500;

/// Session use-cases. Cheap to clone.
#[derive(Clone)]
pub struct SessionService {
    db: Db,
    uow: UnitOfWork,
    idle_timeout: Option<Duration>,
    /// Sessions whose activity was written within the touch interval.
    touched: Cache<SessionId, ()>,
    /// The `idle-sessions` lease (one sweep per period across instances).
    jobs: Jobs,
}

/// The device label of a User-Agent (`Firefox 133 on Linux`), by the woothee parser (the
/// project's User-Agent database); `Unknown device` when there is none or it is not recognized.
pub fn device_label(user_agent: Option<&str>) -> String {
    let Some(ua) = user_agent.map(str::trim).filter(|ua| !ua.is_empty()) else {
        return "Unknown device".to_owned();
    };
    let Some(parsed) = woothee::parser::Parser::new().parse(ua) else {
        let short: String = ua.chars().take(48).filter(|c| !c.is_control()).collect();
        return short;
    };
    let known = |s: &str| !s.is_empty() && s != "UNKNOWN";
    let browser = if known(parsed.name) {
        let major = parsed.version.split('.').next().unwrap_or_default();
        if known(major) {
            format!("{} {major}", parsed.name)
        } else {
            parsed.name.to_owned()
        }
    } else {
        "Unknown browser".to_owned()
    };
    if known(parsed.os) {
        format!("{browser} on {}", parsed.os)
    } else {
        browser
    }
}

/// Ends the chosen sessions of `user` inside `work`: revokes their refresh tokens, records why,
/// audits each ending and publishes `SessionEnded` for each (after commit). Returns the sessions
/// that were live. `by` is the person who ended them (`None`: the server, or an anonymous
/// request from `ip`, such as a logout with only a refresh token).
pub(crate) async fn end_in(
    work: &mut Work,
    user: UserId,
    which: Which,
    reason: SessionEndReason,
    by: Option<&Actor>,
    ip: Option<IpAddr>,
) -> Result<Vec<SessionId>, DomainError> {
    let ended = sessions::end(work.db(), user, which, reason, work.now()).await?;
    for &session in &ended {
        tokens::revoke_family(work.db(), session, work.now()).await?;
        let action = match reason {
            SessionEndReason::Logout => AuditAction::SessionLogout,
            SessionEndReason::Idle => AuditAction::SessionIdle,
            _ => AuditAction::SessionRevoked,
        };
        work.record(NewAuditEntry {
            actor: by.map(|a| a.user),
            action,
            target: Some(AuditTarget::Session(session)),
            details: serde_json::json!({"user_id": user, "reason": reason}),
            ip: by.and_then(|a| a.ip).or(ip),
        })
        .await?;
        work.publish(Event::SessionEnded {
            user_id: user,
            session_id: session,
            reason,
        });
    }
    Ok(ended)
}

impl SessionService {
    /// Builds the service; `idle_timeout_minutes` from `[auth]` (0 = off). With `cluster`'s
    /// Redis the idle sweep runs on one instance at a time ([`Self::run_idle_sweeper`]).
    pub fn new(db: Db, uow: UnitOfWork, config: &Arc<Config>, cluster: Cluster) -> Self {
        let idle_timeout = config.auth.idle_timeout();
        let interval = Self::interval_for(idle_timeout);
        Self {
            db,
            uow,
            idle_timeout,
            touched: Cache::builder()
                .max_capacity(1_000_000)
                .time_to_live(interval)
                .build(),
            jobs: Jobs::new(cluster),
        }
    }

    fn interval_for(idle: Option<Duration>) -> Duration {
        let minute = Duration::from_secs(60);
        idle.map_or(minute, |idle| {
            (idle / 10).clamp(Duration::from_millis(200), minute)
        })
    }

    /// How often at most a session's activity is written: a minute, or a tenth of the idle
    /// timeout when that is shorter (so the idle deadline is exact within 10 %).
    pub fn touch_interval(&self) -> Duration {
        Self::interval_for(self.idle_timeout)
    }

    /// The idle timeout, `None` when idle logout is off.
    pub fn idle_timeout(&self) -> Option<Duration> {
        self.idle_timeout
    }

    /// Creates the session row of a new login.
    pub async fn start(
        &self,
        id: SessionId,
        user: UserId,
        user_agent: Option<&str>,
        ip: Option<IpAddr>,
    ) -> Result<(), DomainError> {
        sessions::insert(
            &self.db.write,
            NewSession {
                id,
                user_id: user,
                device: &device_label(user_agent),
                ip: ip.map(|ip| ip.to_string()),
                now: chrono::Utc::now(),
            },
        )
        .await
    }

    /// The caller's live sessions, most recently active first, the current one marked.
    pub async fn list(&self, actor: &Actor) -> Result<Vec<SessionInfo>, DomainError> {
        let rows = sessions::live_of(&self.db.read, actor.user).await?;
        Ok(rows
            .into_iter()
            .map(|s| SessionInfo {
                current: s.id == actor.session,
                id: s.id,
                device: s.device,
                ip: s.ip,
                created_at: Timestamp(s.created_at),
                last_active_at: Timestamp(s.last_active_at),
            })
            .collect())
    }

    /// Ends one of the caller's sessions (`logout` when it is the current one, else
    /// `logged_out_elsewhere`). Errors: 404 `not_found` for an unknown id, another user's
    /// session, or one that already ended.
    pub async fn end(&self, actor: &Actor, id: SessionId) -> Result<(), DomainError> {
        let reason = if id == actor.session {
            SessionEndReason::Logout
        } else {
            SessionEndReason::LoggedOutElsewhere
        };
        let ended = self
            .uow
            .run(async |work| {
                end_in(work, actor.user, Which::One(id), reason, Some(actor), None).await
            })
            .await?;
        if ended.is_empty() {
            return Err(DomainError::NotFound("session"));
        }
        Ok(())
    }

    /// Ends every live session of the caller but the current one; returns how many ended.
    pub async fn end_others(&self, actor: &Actor) -> Result<usize, DomainError> {
        let which = Which::AllBut(actor.session);
        let reason = SessionEndReason::LoggedOutElsewhere;
        let ended = self
            .uow
            .run(async |work| end_in(work, actor.user, which, reason, Some(actor), None).await)
            .await?;
        Ok(ended.len())
    }

    /// Ends every live session of the caller, the current one included; returns how many.
    pub async fn end_all(&self, actor: &Actor) -> Result<usize, DomainError> {
        let ended = self
            .uow
            .run(async |work| {
                let mut ended = end_in(
                    work,
                    actor.user,
                    Which::AllBut(actor.session),
                    SessionEndReason::LoggedOutElsewhere,
                    Some(actor),
                    None,
                )
                .await?;
                ended.extend(
                    end_in(
                        work,
                        actor.user,
                        Which::One(actor.session),
                        SessionEndReason::Logout,
                        Some(actor),
                        None,
                    )
                    .await?,
                );
                Ok(ended)
            })
            .await?;
        Ok(ended.len())
    }

    /// Records the person's activity in their session (at most once per touch interval; the
    /// write happens in the background and a failure is only logged).
    pub fn touch(&self, actor: &Actor) {
        let session = actor.session;
        if self.touched.contains_key(&session) {
            return;
        }
        self.touched.insert(session, ());
        let db = self.db.write.clone();
        let ip = actor.ip.map(|ip| ip.to_string());
        tokio::spawn(async move {
            if let Err(err) = sessions::touch(&db, session, ip, chrono::Utc::now()).await {
                tracing::warn!(%session, error = %err, "cannot record session activity");
            }
        });
    }

    /// Ends the sessions idle for longer than the timeout (one batch); returns how many ended.
    /// Does nothing when idle logout is off.
    pub async fn end_idle(&self) -> Result<usize, DomainError> {
        let Some(idle) = self.idle_timeout else {
            return Ok(0);
        };
        let cutoff =
            chrono::Utc::now() - chrono::Duration::from_std(idle).unwrap_or(chrono::Duration::MAX);
        let idle_sessions = sessions::idle_before(&self.db.read, cutoff, SWEEP_BATCH).await?;
        if idle_sessions.is_empty() {
            return Ok(0);
        }
        let ended = self
            .uow
            .run(async |work| {
                let mut ended = 0;
                for &(session, user) in &idle_sessions {
                    ended += end_in(
                        work,
                        user,
                        Which::One(session),
                        SessionEndReason::Idle,
                        None,
                        None,
                    )
                    .await?
                    .len();
                }
                Ok(ended)
            })
            .await?;
        Ok(ended)
    }

    /// Whether the (live) session has been idle past the timeout (checked on refresh, so a
    /// session cannot outlive its timeout between two sweeps by refreshing). No I/O: the caller
    /// already read the row.
    pub fn is_idle(&self, session: &sessions::SessionRecord) -> bool {
        let Some(idle) = self.idle_timeout else {
            return false;
        };
        let idle = chrono::Duration::from_std(idle).unwrap_or(chrono::Duration::MAX);
        session.ended.is_none() && chrono::Utc::now() - session.last_active_at > idle
    }

    /// Ends one session as idle now (found idle on refresh).
    pub async fn end_as_idle(&self, user: UserId, id: SessionId) -> Result<(), DomainError> {
        self.uow
            .run(async |work| {
                end_in(
                    work,
                    user,
                    Which::One(id),
                    SessionEndReason::Idle,
                    None,
                    None,
                )
                .await
            })
            .await?;
        Ok(())
    }

    /// Runs the idle sweep until `stop` fires: every tenth of the timeout (1–30 s). With several
    /// instances a sweep runs only under the `idle-sessions` lease, so once per period across
    /// the cluster; when Redis fails, this instance sweeps anyway (see
    /// [`Job::runs_alone`]: a session ends once, so ending idle sessions on time wins).
    pub async fn run_idle_sweeper(self, stop: tokio_util::sync::CancellationToken) {
        let Some(idle) = self.idle_timeout else {
            return;
        };
        let every = (idle / 10).clamp(Duration::from_secs(1), Duration::from_secs(30));
        let mut tick = tokio::time::interval(every);
        loop {
            tokio::select! {
                () = stop.cancelled() => return,
                _ = tick.tick() => {}
            }
            if !self.jobs.try_acquire(Job::IdleSessions, every).await {
                continue;
            }
            match self.end_idle().await {
                Ok(0) => {}
                Ok(n) => tracing::info!(ended = n, "idle sessions ended"),
                Err(err) => tracing::warn!(error = %err, "idle session sweep failed"),
            }
        }
    }
}
