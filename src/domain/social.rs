//! Friends and blocks: the states of the social graph and their wire shapes (REST, frames,
//! events share them).

use poem_openapi::Object;
use serde::{Deserialize, Serialize};

use super::{Timestamp, User, kinds::text_enum};

text_enum!(
    /// State of a friendship row (`friendships.state`).
    FriendshipState, "friendship state" {
        /// One of the pair asked, the other has not answered yet.
        Pending = "pending",
        /// They are friends.
        Accepted = "accepted",
    }
);

text_enum!(
    /// A friend request as seen by one side.
    FriendRequestDirection, "friend request direction" {
        /// The other user asked me.
        Incoming = "incoming",
        /// I asked the other user.
        Outgoing = "outgoing",
    }
);

text_enum!(
    /// Why a friend request ended without a friendship.
    FriendRequestEndReason, "friend request end reason" {
        /// The addressee declined it.
        Declined = "declined",
        /// The requester withdrew it.
        Cancelled = "cancelled",
        /// One of the two blocked the other (the blocked side is told `declined`).
        Blocked = "blocked",
    }
);

text_enum!(
    /// What `POST /friends/requests` did.
    FriendRequestOutcome, "friend request outcome" {
        /// The request waits for the other user's answer.
        Pending = "pending",
        /// The other user had already asked me: we are friends now.
        Accepted = "accepted",
    }
);

/// A friend.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize, Object)]
pub struct Friend {
    /// The friend's account.
    pub user: User,
    /// When the friendship began (the request was accepted), RFC 3339 UTC.
    pub since: Timestamp,
}

/// A pending friend request, as one side sees it.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize, Object)]
pub struct FriendRequest {
    /// The other user: the requester for an incoming request, the addressee for an outgoing one.
    pub user: User,
    /// When the request was made, RFC 3339 UTC.
    pub created_at: Timestamp,
}

/// A user I blocked.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize, Object)]
pub struct BlockedUser {
    /// The blocked account.
    pub user: User,
    /// When I blocked them, RFC 3339 UTC.
    pub created_at: Timestamp,
}

/// My friends and pending requests (`GET /friends`).
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize, Object)]
pub struct FriendList {
    /// My friends, by username.
    pub friends: Vec<Friend>,
    /// Requests others sent me, newest first (not from users I blocked).
    pub incoming: Vec<FriendRequest>,
    /// Requests I sent, newest first.
    pub outgoing: Vec<FriendRequest>,
}
