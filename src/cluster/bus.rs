//! The event bus between instances: Redis pub/sub on one channel, `<prefix>:events`.
//!
//! **Why pub/sub and not streams.** PostgreSQL is the source of truth and every client already
//! resumes by sequence number, so a replayable log in Redis would duplicate what `resume` does
//! and add storage; pub/sub costs one `PUBLISH` per event and adds well under a millisecond.
//! What pub/sub does not give — delivery while a subscriber is disconnected — is detected
//! instead: every message carries its origin instance and a per-origin sequence number
//! ([`Envelope`]), each instance publishes a heartbeat every [`HEARTBEAT_EVERY`], and a receiver
//! that sees a gap in an origin's sequence, or whose own subscription had to reconnect, publishes
//! the local-only [`Event::BusInterrupted`]: caches are dropped, settings re-read and WebSockets
//! closed with 1012, so clients reconnect and resume from the database. An origin silent for
//! [`GONE_AFTER`] is gone ([`Event::InstanceGone`]): the presence it announced is dropped.
//!
//! **Order.** One instance's events reach every other instance in the order it published them
//! (one publishing connection, pipelined; Redis delivers in order per publisher). Events of
//! different instances may interleave differently on different receivers; per-conversation
//! message order is restored by `realtime`'s dispatcher from the change sequence.
//!
//! **Faults.** A malformed message on the channel (another program publishing there, a newer
//! version's event this one does not know) is logged and ignored. Redis being down never blocks a
//! publisher: local subscribers are served at once, the outgoing queue is bounded
//! ([`OUTGOING_QUEUE`]) and what cannot be sent is dropped (its sequence numbers are skipped, so
//! receivers see the gap when Redis is back).

use std::{
    collections::HashMap,
    sync::{Arc, Mutex},
    time::Duration,
};

use futures_util::{StreamExt, future::BoxFuture};
use serde::{Deserialize, Serialize};
use tokio::{sync::mpsc, task::JoinHandle, time::Instant};
use tokio_util::sync::CancellationToken;

use super::Cluster;
use crate::{
    domain::InstanceId,
    events::{Event, EventBus, InProcessBus, Subscription},
};

/// How often each instance publishes a heartbeat.
pub const HEARTBEAT_EVERY: Duration = Duration::from_secs(1);
/// An instance silent for this long is gone (its presence is dropped).
pub const GONE_AFTER: Duration = Duration::from_secs(5);
/// Events waiting to be published to Redis before new ones are dropped (a long outage).
pub const OUTGOING_QUEUE: usize = 65_536;
/// Events published to Redis in one pipeline.
const BATCH: usize = 256;
/// Longest wait between reconnection attempts.
const MAX_BACKOFF: Duration = Duration::from_secs(5);

/// One message on the channel.
#[derive(Debug, Serialize, Deserialize)]
pub struct Envelope {
    /// The publishing instance.
    pub origin: InstanceId,
    /// The origin's sequence number: 1, 2, 3… for the life of the process; a gap means messages
    /// were lost.
    pub seq: u64,
    /// What it carries.
    pub body: Body,
}

/// The payload of an [`Envelope`].
#[derive(Debug, Serialize, Deserialize)]
#[serde(tag = "kind", rename_all = "snake_case")]
pub enum Body {
    /// A domain event.
    Event {
        /// The event.
        event: Box<Event>,
    },
    /// "I am alive" (every [`HEARTBEAT_EVERY`]).
    Heartbeat,
}

/// Counters of the bus (for `GET /admin/server` and the benchmark).
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct BusStats {
    /// Messages published to Redis.
    pub published: u64,
    /// Bytes published to Redis (payloads).
    pub published_bytes: u64,
    /// Messages dropped because Redis was unreachable or the queue was full.
    pub dropped: u64,
    /// Messages received from other instances.
    pub received: u64,
    /// Malformed messages ignored.
    pub malformed: u64,
    /// Gaps seen (events from another instance missed).
    pub gaps: u64,
}

struct Outgoing {
    seq: u64,
    tx: mpsc::Sender<(u64, String)>,
}

/// The bus of an instance among several: local subscribers are served in process (as by
/// [`InProcessBus`]); every event that is not [`Event::is_local_only`] is also published to
/// Redis, and events from other instances are delivered to local subscribers.
#[derive(Clone)]
pub struct RedisBus {
    local: InProcessBus,
    outgoing: Arc<Mutex<Outgoing>>,
    stats: Arc<Mutex<BusStats>>,
    instance: InstanceId,
}

impl RedisBus {
    /// The bus and its tasks (publisher, subscriber, heartbeat), which run until `shutdown`.
    /// Needs a cluster with Redis (`None` otherwise).
    pub fn start(
        cluster: &Cluster,
        shutdown: CancellationToken,
    ) -> Option<(Self, Vec<JoinHandle<()>>)> {
        cluster.redis()?;
        let (tx, rx) = mpsc::channel(OUTGOING_QUEUE);
        let bus = Self {
            local: InProcessBus::new(),
            outgoing: Arc::new(Mutex::new(Outgoing { seq: 0, tx })),
            stats: Arc::default(),
            instance: cluster.instance().clone(),
        };
        let tasks = vec![
            tokio::spawn(publish_loop(
                cluster.clone(),
                rx,
                bus.stats.clone(),
                shutdown.clone(),
            )),
            tokio::spawn(subscribe_loop(
                cluster.clone(),
                bus.clone(),
                shutdown.clone(),
            )),
            tokio::spawn(heartbeat_loop(bus.clone(), shutdown)),
        ];
        Some((bus, tasks))
    }

    /// The counters so far.
    pub fn stats(&self) -> BusStats {
        *self
            .stats
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
    }

    /// Queues `body` for Redis with the next sequence number; dropped (and counted) when the
    /// queue is full: receivers will see the gap.
    fn send(&self, body: BodyRef<'_>) {
        let mut out = self
            .outgoing
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner);
        out.seq += 1;
        let seq = out.seq;
        let json = serde_json::to_string(&EnvelopeRef {
            origin: &self.instance,
            seq,
            body,
        });
        let dropped = match json {
            Ok(json) => out.tx.try_send((seq, json)).is_err(),
            Err(err) => {
                tracing::error!(error = %err, "cannot encode a bus message");
                true
            }
        };
        drop(out);
        if dropped {
            self.stats
                .lock()
                .unwrap_or_else(std::sync::PoisonError::into_inner)
                .dropped += 1;
        }
    }
}

/// [`Envelope`] borrowing its event, for publishing without a copy.
#[derive(Serialize)]
struct EnvelopeRef<'a> {
    origin: &'a InstanceId,
    seq: u64,
    body: BodyRef<'a>,
}

#[derive(Serialize)]
#[serde(tag = "kind", rename_all = "snake_case")]
enum BodyRef<'a> {
    Event { event: &'a Event },
    Heartbeat,
}

impl EventBus for RedisBus {
    fn publish(&self, event: Event) -> BoxFuture<'_, ()> {
        Box::pin(async move {
            if !event.is_local_only() {
                self.send(BodyRef::Event { event: &event });
            }
            self.local.publish(event).await;
        })
    }

    fn subscribe(&self, name: &'static str) -> Subscription {
        self.local.subscribe(name)
    }
}

/// Publishes queued envelopes in order, pipelined. While Redis fails, what is queued is dropped
/// (receivers see the gap) and Redis is marked unhealthy.
async fn publish_loop(
    cluster: Cluster,
    mut rx: mpsc::Receiver<(u64, String)>,
    stats: Arc<Mutex<BusStats>>,
    shutdown: CancellationToken,
) {
    let Some(redis) = cluster.redis() else { return };
    let channel = redis.key("events");
    let mut batch = Vec::with_capacity(BATCH);
    loop {
        let got = tokio::select! {
            () = shutdown.cancelled() => return,
            n = rx.recv_many(&mut batch, BATCH) => n,
        };
        if got == 0 {
            return;
        }
        let mut pipe = redis::pipe();
        let mut bytes = 0u64;
        for (_, json) in &batch {
            bytes += json.len() as u64;
            pipe.publish(&channel, json).ignore();
        }
        let mut conn = redis.conn();
        let sent = tokio::time::timeout(redis.timeout(), pipe.query_async::<()>(&mut conn)).await;
        let mut stats = stats
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner);
        match sent {
            Ok(Ok(())) => {
                redis.mark_up();
                stats.published += batch.len() as u64;
                stats.published_bytes += bytes;
            }
            Ok(Err(err)) => {
                redis.mark_down("publishing events", &err);
                stats.dropped += batch.len() as u64;
            }
            Err(_) => {
                redis.mark_down("publishing events", &"timed out");
                stats.dropped += batch.len() as u64;
            }
        }
        drop(stats);
        batch.clear();
    }
}

/// Publishes a heartbeat every [`HEARTBEAT_EVERY`].
async fn heartbeat_loop(bus: RedisBus, shutdown: CancellationToken) {
    let mut tick = tokio::time::interval(HEARTBEAT_EVERY);
    tick.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
    loop {
        tokio::select! {
            () = shutdown.cancelled() => return,
            _ = tick.tick() => bus.send(BodyRef::Heartbeat),
        }
    }
}

/// What the subscriber knows of one origin.
struct Origin {
    last_seq: u64,
    last_seen: Instant,
}

/// Receives from Redis until `shutdown`, reconnecting with backoff.
async fn subscribe_loop(cluster: Cluster, bus: RedisBus, shutdown: CancellationToken) {
    let Some(redis) = cluster.redis() else { return };
    let channel = redis.key("events");
    let mut origins: HashMap<InstanceId, Origin> = HashMap::new();
    let mut backoff = Duration::from_millis(100);
    let mut first = true;
    loop {
        let connect = async {
            let mut pubsub = redis.client().get_async_pubsub().await?;
            pubsub.subscribe(&channel).await?;
            Ok::<_, redis::RedisError>(pubsub)
        };
        let pubsub = tokio::select! {
            () = shutdown.cancelled() => return,
            c = tokio::time::timeout(redis.timeout(), connect) => c,
        };
        let mut pubsub = match pubsub {
            Ok(Ok(p)) => p,
            Ok(Err(err)) => {
                redis.mark_down("subscribing to the event bus", &err);
                if sleep_or_stop(&shutdown, &mut backoff).await {
                    return;
                }
                continue;
            }
            Err(_) => {
                redis.mark_down("subscribing to the event bus", &"timed out");
                if sleep_or_stop(&shutdown, &mut backoff).await {
                    return;
                }
                continue;
            }
        };
        backoff = Duration::from_millis(100);
        redis.mark_up();
        redis.set_subscribed(true);
        if first {
            tracing::info!(%channel, "subscribed to the event bus");
        } else {
            tracing::warn!(%channel, "event bus subscription is back: events may have been missed, resynchronising");
            // Whatever we knew of other instances may be stale.
            origins.clear();
            bus.local
                .publish(Event::BusInterrupted {
                    reason: "the event bus subscription reconnected".into(),
                })
                .await;
        }
        first = false;
        // Ask everyone (ourselves included) to announce their presence again.
        bus.publish(Event::PresenceSyncRequested {
            instance: bus.instance.clone(),
        })
        .await;
        let mut stream = pubsub.on_message();
        let mut sweep = tokio::time::interval(HEARTBEAT_EVERY);
        let mut own_seen = Instant::now();
        loop {
            tokio::select! {
                () = shutdown.cancelled() => return,
                _ = sweep.tick() => {
                    let gone: Vec<InstanceId> = origins
                        .iter()
                        .filter(|(_, o)| o.last_seen.elapsed() > GONE_AFTER)
                        .map(|(id, _)| id.clone())
                        .collect();
                    for instance in gone {
                        origins.remove(&instance);
                        tracing::warn!(%instance, "instance not heard for 5 s: dropping its presence");
                        bus.local.publish(Event::InstanceGone { instance }).await;
                    }
                    // Our own heartbeats come back through Redis: if they stop, the subscription
                    // is dead even though the socket looks open.
                    if own_seen.elapsed() > GONE_AFTER {
                        redis.mark_down("the event bus subscription", &"no message (not even our own heartbeat) for 5 s");
                        break;
                    }
                }
                msg = stream.next() => {
                    let Some(msg) = msg else {
                        redis.mark_down("the event bus subscription", &"connection closed");
                        break;
                    };
                    let payload: Vec<u8> = msg.get_payload_bytes().to_vec();
                    match receive(&bus, &mut origins, &payload) {
                        Received::Own => own_seen = Instant::now(),
                        Received::Deliver(event, gap) => {
                            if let Some(reason) = gap {
                                tracing::warn!(%reason, "gap on the event bus: resynchronising");
                                bus.local.publish(Event::BusInterrupted { reason }).await;
                                bus.publish(Event::PresenceSyncRequested { instance: bus.instance.clone() }).await;
                            }
                            if let Some(event) = event {
                                bus.local.publish(*event).await;
                            }
                        }
                        Received::Ignored => {}
                    }
                }
            }
        }
        drop(stream);
        redis.set_subscribed(false);
        if sleep_or_stop(&shutdown, &mut backoff).await {
            return;
        }
    }
}

/// Sleeps for `backoff` (doubling it up to [`MAX_BACKOFF`]); true when shutdown came first.
async fn sleep_or_stop(shutdown: &CancellationToken, backoff: &mut Duration) -> bool {
    let wait = *backoff;
    *backoff = (*backoff * 2).min(MAX_BACKOFF);
    tokio::select! {
        () = shutdown.cancelled() => true,
        () = tokio::time::sleep(wait) => false,
    }
}

/// What one message from Redis means here.
enum Received {
    /// One of ours, come back.
    Own,
    /// From another instance: its event (none for a heartbeat) and, when messages from it were
    /// missed, why.
    Deliver(Option<Box<Event>>, Option<String>),
    /// Malformed, or a duplicate: logged and ignored.
    Ignored,
}

fn receive(bus: &RedisBus, origins: &mut HashMap<InstanceId, Origin>, payload: &[u8]) -> Received {
    let count = |f: fn(&mut BusStats)| {
        f(&mut bus
            .stats
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner));
    };
    let envelope: Envelope = match serde_json::from_slice(payload) {
        Ok(e) => e,
        Err(err) => {
            count(|s| s.malformed += 1);
            let start = String::from_utf8_lossy(&payload[..payload.len().min(120)]).into_owned();
            tracing::warn!(error = %err, message = %start, "ignoring a malformed message on the event bus");
            return Received::Ignored;
        }
    };
    if envelope.origin == bus.instance {
        return Received::Own;
    }
    let now = Instant::now();
    let mut gap = None;
    match origins.get_mut(&envelope.origin) {
        Some(origin) => {
            if envelope.seq <= origin.last_seq {
                count(|s| s.malformed += 1);
                tracing::warn!(origin = %envelope.origin, seq = envelope.seq, last = origin.last_seq, "ignoring an old or repeated message on the event bus");
                return Received::Ignored;
            }
            if envelope.seq != origin.last_seq + 1 {
                count(|s| s.gaps += 1);
                gap = Some(format!(
                    "missed {} message(s) from instance {}",
                    envelope.seq - origin.last_seq - 1,
                    envelope.origin
                ));
            }
            origin.last_seq = envelope.seq;
            origin.last_seen = now;
        }
        None => {
            tracing::info!(instance = %envelope.origin, "instance joined the event bus");
            origins.insert(
                envelope.origin.clone(),
                Origin {
                    last_seq: envelope.seq,
                    last_seen: now,
                },
            );
        }
    }
    count(|s| s.received += 1);
    match envelope.body {
        Body::Heartbeat => Received::Deliver(None, gap),
        Body::Event { event } if event.is_local_only() => {
            count(|s| s.malformed += 1);
            tracing::warn!(origin = %envelope.origin, event = event.name(), "ignoring a local-only event from another instance");
            Received::Deliver(None, gap)
        }
        Body::Event { event } => Received::Deliver(Some(event), gap),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::domain::{ConversationId, UserId};

    fn bus(instance: &str) -> RedisBus {
        let (tx, _rx) = mpsc::channel(4);
        RedisBus {
            local: InProcessBus::new(),
            outgoing: Arc::new(Mutex::new(Outgoing { seq: 0, tx })),
            stats: Arc::default(),
            instance: InstanceId::parse(instance).unwrap_or_else(|_| InstanceId::generate()),
        }
    }

    fn envelope(origin: &str, seq: u64) -> Vec<u8> {
        let event = Event::Typing {
            conversation_id: ConversationId::new(),
            user_id: UserId::new(),
            username: "a".into(),
        };
        serde_json::to_vec(&EnvelopeRef {
            origin: &InstanceId::parse(origin).unwrap_or_else(|_| InstanceId::generate()),
            seq,
            body: BodyRef::Event { event: &event },
        })
        .unwrap_or_default()
    }

    #[test]
    fn gaps_repeats_own_and_malformed_messages_are_told_apart() {
        let me = bus("me");
        let mut origins = HashMap::new();
        assert!(matches!(
            receive(&me, &mut origins, &envelope("me", 1)),
            Received::Own
        ));
        assert!(matches!(
            receive(&me, &mut origins, &envelope("b", 7)),
            Received::Deliver(Some(_), None)
        ));
        assert!(matches!(
            receive(&me, &mut origins, &envelope("b", 8)),
            Received::Deliver(Some(_), None)
        ));
        assert!(matches!(
            receive(&me, &mut origins, &envelope("b", 8)),
            Received::Ignored
        ));
        assert!(matches!(
            receive(&me, &mut origins, &envelope("b", 11)),
            Received::Deliver(Some(_), Some(_))
        ));
        for junk in [
            &b"not json"[..],
            br#"{"origin":"b","seq":12,"body":{"kind":"nope"}}"#,
            br#"{"origin":"b","seq":12,"body":{"kind":"event","event":{"event":"made_up"}}}"#,
            br#"{"origin":"","seq":1,"body":{"kind":"heartbeat"}}"#,
        ] {
            assert!(matches!(
                receive(&me, &mut origins, junk),
                Received::Ignored
            ));
        }
        let local_only = serde_json::to_vec(&Envelope {
            origin: InstanceId::parse("b").unwrap_or_else(|_| InstanceId::generate()),
            seq: 12,
            body: Body::Event {
                event: Box::new(Event::BusInterrupted { reason: "x".into() }),
            },
        })
        .unwrap_or_default();
        assert!(matches!(
            receive(&me, &mut origins, &local_only),
            Received::Deliver(None, None)
        ));
        assert_eq!(me.stats().gaps, 1);
        assert_eq!(me.stats().malformed, 6);
    }
}
