//! The registry of instances: each instance writes `{id, version, started_at, last_seen}` into
//! the Redis hash `<prefix>:instances` every [`REGISTER_EVERY`]; `GET /admin/server` lists the
//! entries seen in the last [`LISTED_FOR`]. Entries older than [`FORGOTTEN_AFTER`] are removed by
//! whichever instance lists them. (Liveness for presence is decided on the bus, by heartbeats:
//! this registry is for people.)

use std::time::Duration;

use redis::AsyncCommands;
use serde::{Deserialize, Serialize};
use tokio::task::JoinHandle;
use tokio_util::sync::CancellationToken;

use super::Cluster;
use crate::domain::Timestamp;

/// How often an instance refreshes its entry.
pub const REGISTER_EVERY: Duration = Duration::from_secs(2);
/// Entries refreshed within this time are listed as live.
pub const LISTED_FOR: Duration = Duration::from_secs(10);
/// Entries not refreshed for this long are deleted.
pub const FORGOTTEN_AFTER: Duration = Duration::from_secs(3600);

/// One instance as the registry knows it.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct InstanceEntry {
    /// Its id (`[cluster] instance_id`, or generated at start).
    pub id: String,
    /// The EchoChat version it runs.
    pub version: String,
    /// When it started.
    pub started_at: Timestamp,
    /// When it last refreshed its entry.
    pub last_seen: Timestamp,
}

/// Starts refreshing this instance's entry until `shutdown` (then removes it). `None` without
/// Redis.
pub fn spawn_registration(
    cluster: &Cluster,
    started_at: Timestamp,
    shutdown: CancellationToken,
) -> Option<JoinHandle<()>> {
    cluster.redis()?;
    let cluster = cluster.clone();
    Some(tokio::spawn(async move {
        let Some(redis) = cluster.redis() else { return };
        let key = redis.key("instances");
        let id = cluster.instance().to_string();
        let mut tick = tokio::time::interval(REGISTER_EVERY);
        tick.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
        loop {
            tokio::select! {
                () = shutdown.cancelled() => break,
                _ = tick.tick() => {}
            }
            let entry = InstanceEntry {
                id: id.clone(),
                version: crate::VERSION.to_owned(),
                started_at,
                last_seen: Timestamp::now(),
            };
            let Ok(json) = serde_json::to_string(&entry) else {
                continue;
            };
            let mut conn = redis.conn();
            let write = conn.hset::<_, _, _, ()>(&key, &id, json);
            match tokio::time::timeout(redis.timeout(), write).await {
                Ok(Ok(())) => redis.mark_up(),
                Ok(Err(err)) => redis.mark_down("registering this instance", &err),
                Err(_) => redis.mark_down("registering this instance", &"timed out"),
            }
        }
        let mut conn = redis.conn();
        let _ = tokio::time::timeout(redis.timeout(), conn.hdel::<_, _, ()>(&key, &id)).await;
    }))
}

/// The instances seen in the last [`LISTED_FOR`], by id; with one instance (no Redis), this one.
/// Errors: none — an unreachable Redis gives an empty list.
pub async fn live(cluster: &Cluster, started_at: Timestamp) -> Vec<InstanceEntry> {
    let Some(redis) = cluster.redis() else {
        return vec![InstanceEntry {
            id: cluster.instance().to_string(),
            version: crate::VERSION.to_owned(),
            started_at,
            last_seen: Timestamp::now(),
        }];
    };
    let key = redis.key("instances");
    let mut conn = redis.conn();
    let all: Vec<(String, String)> =
        match tokio::time::timeout(redis.timeout(), conn.hgetall(&key)).await {
            Ok(Ok(all)) => all,
            Ok(Err(err)) => {
                redis.mark_down("listing instances", &err);
                return Vec::new();
            }
            Err(_) => return Vec::new(),
        };
    let now = chrono::Utc::now();
    let mut live = Vec::new();
    let mut stale = Vec::new();
    for (id, json) in all {
        match serde_json::from_str::<InstanceEntry>(&json) {
            Ok(entry) => {
                let age = (now - entry.last_seen.0).to_std().unwrap_or_default();
                if age <= LISTED_FOR {
                    live.push(entry);
                } else if age > FORGOTTEN_AFTER {
                    stale.push(id);
                }
            }
            Err(_) => stale.push(id),
        }
    }
    if !stale.is_empty() {
        let _ = tokio::time::timeout(redis.timeout(), conn.hdel::<_, _, ()>(&key, stale)).await;
    }
    live.sort_by(|a, b| a.id.cmp(&b.id));
    live
}
