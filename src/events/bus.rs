//! The [`EventBus`] trait and its in-process implementation.

use std::sync::{Arc, RwLock};

use futures_util::future::BoxFuture;
use tokio::sync::mpsc;

use super::Event;

/// Events queued per subscriber before `publish` waits (backpressure on the publisher).
const SUBSCRIBER_QUEUE: usize = 65_536;

/// Carries domain events from publishers (services, after commit) to subscribers (realtime,
/// caches). Delivery to one subscriber is in publish order. A publish is async and never fails
/// for the caller: an event that cannot be delivered is logged (the database stays the source of
/// truth; clients catch up by sequence number).
///
/// Implementations: [`InProcessBus`] today; a Redis pub/sub bus for several instances later, which
/// serializes each [`Event`] with serde.
pub trait EventBus: Send + Sync + 'static {
    /// Delivers `event` to every subscriber, waiting while a subscriber's queue is full.
    fn publish(&self, event: Event) -> BoxFuture<'_, ()>;

    /// A new subscription receiving every event published from now on. `name` is for logs.
    fn subscribe(&self, name: &'static str) -> Subscription;
}

/// A stream of events for one subscriber.
pub struct Subscription {
    rx: mpsc::Receiver<Arc<Event>>,
}

impl Subscription {
    /// The next event; `None` once the bus is gone.
    pub async fn recv(&mut self) -> Option<Arc<Event>> {
        self.rx.recv().await
    }

    /// Up to `limit` events that are already queued, appended to `out` (waits for at least one).
    /// Returns 0 once the bus is gone.
    pub async fn recv_many(&mut self, out: &mut Vec<Arc<Event>>, limit: usize) -> usize {
        self.rx.recv_many(out, limit).await
    }
}

struct Subscriber {
    name: &'static str,
    tx: mpsc::Sender<Arc<Event>>,
}

/// The bus of one process: each subscriber has a bounded queue; an event is shared (`Arc`), not
/// copied, between subscribers.
#[derive(Clone, Default)]
pub struct InProcessBus {
    subscribers: Arc<RwLock<Vec<Subscriber>>>,
}

impl InProcessBus {
    /// An empty bus.
    pub fn new() -> Self {
        Self::default()
    }

    fn senders(&self) -> Vec<(&'static str, mpsc::Sender<Arc<Event>>)> {
        self.subscribers
            .read()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
            .iter()
            .map(|s| (s.name, s.tx.clone()))
            .collect()
    }
}

impl EventBus for InProcessBus {
    fn publish(&self, event: Event) -> BoxFuture<'_, ()> {
        Box::pin(async move {
            let event = Arc::new(event);
            let mut gone = false;
            for (name, tx) in self.senders() {
                if tx.send(event.clone()).await.is_err() {
                    tracing::debug!(subscriber = name, event = event.name(), "subscriber gone");
                    gone = true;
                }
            }
            if gone {
                self.subscribers
                    .write()
                    .unwrap_or_else(std::sync::PoisonError::into_inner)
                    .retain(|s| !s.tx.is_closed());
            }
        })
    }

    fn subscribe(&self, name: &'static str) -> Subscription {
        let (tx, rx) = mpsc::channel(SUBSCRIBER_QUEUE);
        self.subscribers
            .write()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
            .push(Subscriber { name, tx });
        Subscription { rx }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::domain::{ConversationId, UserId};

    #[tokio::test]
    async fn every_subscriber_gets_every_event_in_order_and_events_serialize() {
        let bus = InProcessBus::new();
        let mut a = bus.subscribe("a");
        let mut b = bus.subscribe("b");
        let events: Vec<Event> = (0..3)
            .map(|_| Event::MemberLeft {
                conversation_id: ConversationId::new(),
                user_id: UserId::new(),
                reason: crate::domain::LeaveReason::Kicked,
                by: Some(UserId::new()),
            })
            .collect();
        for e in &events {
            bus.publish(e.clone()).await;
        }
        for sub in [&mut a, &mut b] {
            for e in &events {
                assert_eq!(sub.recv().await.as_deref(), Some(e));
            }
        }
        let json = serde_json::to_string(&events[0]).unwrap_or_default();
        assert!(json.starts_with(r#"{"event":"member_left""#), "{json}");
        let back: Option<Event> = serde_json::from_str(&json).ok();
        assert_eq!(back.as_ref(), Some(&events[0]));
    }
}
