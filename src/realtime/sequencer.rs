//! Per-conversation order of message events (`message`, `message_updated`, `message_deleted`) by
//! the conversation's change sequence, whatever order they arrive in from the bus.
//!
//! With one instance the message publisher emits them in change order and nothing waits here.
//! With several, two instances may commit to one conversation within a millisecond and their
//! events cross Redis in either order: an event that arrives ahead of a missing predecessor is
//! held for at most [`REORDER_WINDOW`]; if the predecessor comes, both go out in order; if not
//! (its instance died between commit and publish), the held events go out anyway and clients
//! fill the gap with one `resume`. An event older than one already delivered is dropped (the
//! client has resumed past it), so live frames never go backwards or repeat. (A message that a
//! `resume` already returned may still arrive live once — as with one instance, where a resume
//! and a new message can cross — and clients de-duplicate by seq across a resume.)

use std::{
    collections::{BTreeMap, HashMap},
    sync::Arc,
    time::Duration,
};

use tokio::time::Instant;

use crate::{domain::ConversationId, events::Event};

/// How long an event waits for a missing predecessor.
pub const REORDER_WINDOW: Duration = Duration::from_millis(250);
/// A conversation without events for this long is forgotten (its next event starts afresh).
const FORGET_AFTER: Duration = Duration::from_secs(600);

/// The conversation and change sequence of a message event; `None` for other events.
pub fn position(event: &Event) -> Option<(ConversationId, i64)> {
    match event {
        Event::MessageCreated { message } | Event::MessageUpdated { message } => {
            Some((message.conversation_id, message.change_seq))
        }
        Event::MessageDeleted {
            conversation_id,
            change_seq,
            ..
        } => Some((*conversation_id, *change_seq)),
        _ => None,
    }
}

struct Lane {
    /// The last change sequence delivered.
    last: i64,
    /// Events ahead of a gap, by change sequence.
    held: BTreeMap<i64, Arc<Event>>,
    /// Until when the held events wait.
    deadline: Option<Instant>,
    touched: Instant,
}

/// The order keeper of one dispatcher.
#[derive(Default)]
pub struct Sequencer {
    lanes: HashMap<ConversationId, Lane>,
    /// Events dropped as older than one already delivered.
    pub dropped: u64,
}

impl Sequencer {
    /// Takes a message event at change sequence `change_seq` of `conversation`; returns the
    /// events to deliver now, in order (none while it waits for a predecessor).
    pub fn push(
        &mut self,
        conversation: ConversationId,
        change_seq: i64,
        event: Arc<Event>,
        now: Instant,
    ) -> Vec<Arc<Event>> {
        let lane = self.lanes.entry(conversation).or_insert_with(|| Lane {
            last: change_seq - 1,
            held: BTreeMap::new(),
            deadline: None,
            touched: now,
        });
        lane.touched = now;
        if change_seq <= lane.last {
            self.dropped += 1;
            tracing::debug!(%conversation, change_seq, last = lane.last, "dropping an old message event");
            return Vec::new();
        }
        if change_seq > lane.last + 1 {
            lane.held.insert(change_seq, event);
            lane.deadline.get_or_insert(now + REORDER_WINDOW);
            return Vec::new();
        }
        let mut out = vec![event];
        lane.last = change_seq;
        while let Some(next) = lane.held.remove(&(lane.last + 1)) {
            out.push(next);
            lane.last += 1;
        }
        lane.deadline = (!lane.held.is_empty()).then_some(now + REORDER_WINDOW);
        out
    }

    /// The held events whose wait is over, in order per conversation (the gaps stay: clients
    /// resume). Also forgets idle conversations.
    pub fn flush_due(&mut self, now: Instant) -> Vec<Arc<Event>> {
        let mut out = Vec::new();
        for lane in self.lanes.values_mut() {
            if lane.deadline.is_some_and(|d| d <= now) {
                for (seq, event) in std::mem::take(&mut lane.held) {
                    lane.last = seq;
                    out.push(event);
                }
                lane.deadline = None;
            }
        }
        self.lanes
            .retain(|_, l| !l.held.is_empty() || now.duration_since(l.touched) < FORGET_AFTER);
        out
    }

    /// When [`Self::flush_due`] has something to do next.
    pub fn next_deadline(&self) -> Option<Instant> {
        self.lanes.values().filter_map(|l| l.deadline).min()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::domain::UserId;

    fn deleted(conversation: ConversationId, change_seq: i64) -> Arc<Event> {
        Arc::new(Event::MessageDeleted {
            conversation_id: conversation,
            seq: change_seq,
            change_seq,
            by: UserId::new(),
            shadowed_sender: None,
        })
    }

    fn seqs(events: &[Arc<Event>]) -> Vec<i64> {
        events
            .iter()
            .filter_map(|e| position(e))
            .map(|p| p.1)
            .collect()
    }

    #[test]
    fn events_are_delivered_in_change_order_and_gaps_wait_a_window() {
        let mut s = Sequencer::default();
        let (c, now) = (ConversationId::new(), Instant::now());
        assert_eq!(seqs(&s.push(c, 5, deleted(c, 5), now)), vec![5]);
        assert!(s.push(c, 7, deleted(c, 7), now).is_empty(), "7 waits for 6");
        assert!(s.next_deadline().is_some());
        assert_eq!(seqs(&s.push(c, 6, deleted(c, 6), now)), vec![6, 7]);
        assert!(s.next_deadline().is_none());
        assert!(
            s.push(c, 6, deleted(c, 6), now).is_empty(),
            "a repeat is dropped"
        );
        assert_eq!(s.dropped, 1);
        assert!(s.push(c, 10, deleted(c, 10), now).is_empty());
        assert!(s.push(c, 9, deleted(c, 9), now).is_empty());
        assert!(s.flush_due(now).is_empty(), "not yet");
        let later = now + REORDER_WINDOW;
        assert_eq!(seqs(&s.flush_due(later)), vec![9, 10], "8 never came");
        assert!(
            s.push(c, 8, deleted(c, 8), later).is_empty(),
            "too late: clients resumed"
        );
        assert_eq!(seqs(&s.push(c, 11, deleted(c, 11), later)), vec![11]);
        let other = ConversationId::new();
        assert_eq!(seqs(&s.push(other, 1, deleted(other, 1), later)), vec![1]);
    }
}
