//! The presence a service may read. Presence lives in `realtime` (it tracks connections);
//! services see it through this trait, implemented there and handed in when the server is built,
//! so that no service imports `realtime`.

use crate::domain::{PresenceStatus, UserId};

/// Answers "is this user online" for member lists.
pub trait PresenceDirectory: Send + Sync + 'static {
    /// The user's current status.
    fn status(&self, user: UserId) -> PresenceStatus;
}

/// Everyone offline: for code paths without a realtime layer (tests of services, commands).
pub struct NoPresence;

impl PresenceDirectory for NoPresence {
    fn status(&self, _user: UserId) -> PresenceStatus {
        PresenceStatus::Offline
    }
}
