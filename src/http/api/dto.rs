//! REST-only request and response bodies. The shared objects (`User`, `Conversation`, `Member`,
//! `Message`, `AuditEntry`) are the domain types themselves, also carried by WebSocket frames.

use poem_openapi::Object;

use crate::{
    domain::{AuditEntry, Conversation, Member, Message, Permission, User},
    service::{Page, Session},
};

/// Tokens of a new or refreshed session. Browsers also get them as HttpOnly cookies.
#[derive(Debug, Clone, Object)]
pub struct LoginResponse {
    /// Access JWT, sent as `Authorization: Bearer`.
    pub access_token: String,
    /// Opaque refresh token for `POST /auth/refresh`; rotated on every use.
    pub refresh_token: String,
    /// Always `Bearer`.
    pub token_type: String,
    /// Access token lifetime in seconds.
    pub expires_in: u64,
    /// The account.
    pub user: User,
}

impl From<Session> for LoginResponse {
    fn from(s: Session) -> Self {
        Self {
            access_token: s.access_token,
            refresh_token: s.refresh_token,
            token_type: "Bearer".into(),
            expires_in: s.expires_in,
            user: s.user,
        }
    }
}

/// The signed-in account and what the server allows it.
#[derive(Debug, Clone, Object)]
#[oai(skip_serializing_if_is_none)]
pub struct Me {
    /// The account.
    pub user: User,
    /// Server-wide permissions, from the account's role (the web client shows exactly these).
    pub permissions: Vec<Permission>,
    /// My e-mail address (only I and administrators see it); absent when none is set.
    pub email: Option<String>,
    /// Whether that address was confirmed through the link sent to it.
    pub email_verified: bool,
    /// Whether a recovery PIN is set (then a password reset link also needs it).
    pub recovery_pin_set: bool,
    /// Sessions end after this many seconds without activity; absent when idle logout is off.
    pub idle_timeout_secs: Option<u64>,
    /// Whether this server sends e-mail over SMTP (else e-mail verification is skipped and
    /// reset links go to the operator's spool folder).
    pub smtp_configured: bool,
}

/// Declares a page body: a list under a named field plus `next_cursor`.
macro_rules! page_type {
    ($(#[$doc:meta])* $name:ident, $field:ident: $item:ty) => {
        $(#[$doc])*
        #[derive(Debug, Clone, Object)]
        #[oai(skip_serializing_if_is_none)]
        pub struct $name {
            /// This page's items.
            pub $field: Vec<$item>,
            /// Pass as `cursor` to get the next page; absent on the last page.
            pub next_cursor: Option<String>,
        }

        impl From<Page<$item>> for $name {
            fn from(page: Page<$item>) -> Self {
                Self {
                    $field: page.items,
                    next_cursor: page.next_cursor,
                }
            }
        }
    };
}

page_type!(
    /// A page of the room directory.
    RoomPage, rooms: Conversation
);
page_type!(
    /// A page of my conversations.
    ConversationPage, conversations: Conversation
);
page_type!(
    /// A page of a conversation's members.
    MemberPage, members: Member
);
page_type!(
    /// A page of the audit log, newest first.
    AuditPage, entries: AuditEntry
);

/// A page of history.
#[derive(Debug, Object)]
pub struct MessagePage {
    /// Messages ascending by seq.
    pub messages: Vec<Message>,
    /// More messages exist beyond this page (older for `before_seq`/latest, newer for `after_seq`).
    pub has_more: bool,
}
