//! [`Actor`]: who is making a request, as established by authentication.

use std::net::IpAddr;

use super::{SessionId, UserId};

/// The authenticated caller of one request or WebSocket connection.
///
/// It carries identity only. Authority (the server role, memberships) is looked up when a
/// permission is checked (`service::access`), never taken from here or from a token claim, so a
/// demotion takes effect on the next request, even on a WebSocket that stays open.
#[derive(Clone, Debug)]
pub struct Actor {
    /// The user.
    pub user: UserId,
    /// The session (refresh-token family) the access token belongs to.
    pub session: SessionId,
    /// The username when the request was authenticated (for display, e.g. typing indicators).
    pub username: String,
    /// When the access token expires (Unix seconds).
    pub expires_at: i64,
    /// The client's IP address (the peer, or the forwarded address from a trusted proxy).
    pub ip: Option<IpAddr>,
}
