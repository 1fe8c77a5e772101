//! Room slowmode: a plain member may post in a room with `slowmode_secs = N` once every N
//! seconds. The owner, moderators and holders of `rooms.moderate` are exempt (see
//! `domain::slowmode_applies`).
//!
//! The time of each member's last accepted message is kept **per process**, in memory (a moka
//! cache keyed by (room, user), entries gone after the longest slowmode): a restart forgets it,
//! and with several instances each counts on its own. Issue 10 moves shared state to Redis.
//! The mark is set when the message is accepted for writing (before its commit), atomically per
//! key, so two concurrent sends of one member cannot both pass.

use std::time::{Duration, Instant};

use moka::{ops::compute::Op, sync::Cache};

use crate::domain::{ConversationId, DomainError, UserId};

/// Longest slowmode: 6 hours, in seconds.
pub const SLOWMODE_MAX_SECS: i32 = 21_600;

/// The last accepted message of each (room, member). Cheap to clone.
#[derive(Clone)]
pub struct Slowmode {
    last: Cache<(ConversationId, UserId), Instant>,
}

impl Default for Slowmode {
    fn default() -> Self {
        Self::new()
    }
}

impl Slowmode {
    /// An empty tracker.
    pub fn new() -> Self {
        Self {
            last: Cache::builder()
                .max_capacity(1_000_000)
                .time_to_live(Duration::from_secs(SLOWMODE_MAX_SECS.unsigned_abs().into()))
                .build(),
        }
    }

    /// Accepts a message of `user` in `room` whose slowmode is `secs` seconds and remembers
    /// the time, or refuses it. Errors: 429 `slowmode` with the wait.
    pub fn check(&self, room: ConversationId, user: UserId, secs: u32) -> Result<(), DomainError> {
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

    #[test]
    fn a_second_message_within_the_interval_waits() {
        let slow = Slowmode::new();
        let (room, user) = (ConversationId::new(), UserId::new());
        assert!(slow.check(room, user, 30).is_ok());
        let err = slow.check(room, user, 30).err();
        assert_eq!(
            err.as_ref().map(DomainError::code),
            Some(crate::domain::ErrorCode::Slowmode)
        );
        assert!(slow.check(room, UserId::new(), 30).is_ok(), "per member");
        assert!(
            slow.check(ConversationId::new(), user, 30).is_ok(),
            "per room"
        );
    }
}
