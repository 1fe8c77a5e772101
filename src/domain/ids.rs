//! Newtype identifiers, so no function takes two bare `Uuid`s side by side.
//!
//! Every id is a UUID (RFC 9562); new ones are UUIDv7 (§5.7), so they sort by creation time.
//! On the wire (JSON, path parameters) an id is the canonical hyphenated string
//! (`"0193a4c2-5f1e-7b3a-9c2d-4e5f6a7b8c01"`), in the OpenAPI spec `type: string, format: uuid`.
//! The store converts them to and from the database's `uuid` columns (16-byte blobs on SQLite).

use std::fmt;

use poem_openapi::NewType;
use serde::{Deserialize, Serialize};
use uuid::Uuid;

macro_rules! id_type {
    ($(#[$doc:meta])* $name:ident) => {
        $(#[$doc])*
        #[derive(
            Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize, NewType,
        )]
        #[serde(transparent)]
        #[oai(to_header = false, from_multipart = false)]
        pub struct $name(pub Uuid);

        impl $name {
            /// A new time-ordered id (UUIDv7, RFC 9562 §5.7).
            pub fn new() -> Self {
                Self(Uuid::now_v7())
            }

            /// The underlying UUID, for the store.
            pub fn uuid(self) -> Uuid {
                self.0
            }
        }

        impl Default for $name {
            fn default() -> Self {
                Self::new()
            }
        }

        impl fmt::Display for $name {
            fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                self.0.fmt(f)
            }
        }

        impl From<Uuid> for $name {
            fn from(id: Uuid) -> Self {
                Self(id)
            }
        }

        impl From<$name> for Uuid {
            fn from(id: $name) -> Self {
                id.0
            }
        }
    };
}

id_type!(
    /// A user account's id.
    UserId
);
id_type!(
    /// A conversation's id (room, group or direct message).
    ConversationId
);
id_type!(
    /// A message's id (UUIDv7; `seq` gives the order within a conversation).
    MessageId
);
id_type!(
    /// A session's id: one login, i.e. one refresh-token family (RFC 9700 §4.14.2).
    SessionId
);
id_type!(
    /// An audit-log entry's id (UUIDv7, so newest-first paging can use it as the cursor).
    AuditId
);
id_type!(
    /// A report's id (UUIDv7, so the moderation queue can page by it).
    ReportId
);

/// The id of one EchoChat instance among several sharing a database and Redis (`[cluster]
/// instance_id`, else `<hostname>-<6 hex digits>` made at start): 1–64 characters of
/// `A-Z a-z 0-9 . _ -`. Shown in logs and the admin panel; carried by bus messages.
#[derive(Clone, Debug, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(try_from = "String", into = "String")]
pub struct InstanceId(String);

impl TryFrom<String> for InstanceId {
    type Error = String;

    fn try_from(raw: String) -> Result<Self, String> {
        Self::parse(&raw)
    }
}

impl From<InstanceId> for String {
    fn from(id: InstanceId) -> String {
        id.0
    }
}

impl InstanceId {
    /// Checks `raw`. Errors: a message naming the rule it breaks.
    pub fn parse(raw: &str) -> Result<Self, String> {
        let ok_char = |c: char| c.is_ascii_alphanumeric() || matches!(c, '.' | '_' | '-');
        if raw.is_empty() || raw.len() > 64 || !raw.chars().all(ok_char) {
            return Err(format!(
                "instance id {raw:?} must be 1-64 characters of A-Z a-z 0-9 . _ -"
            ));
        }
        Ok(Self(raw.to_owned()))
    }

    /// A new id: this machine's host name (cut to 40 characters of the allowed ones) and six
    /// random hex digits, e.g. `chat-1-3fa9c2`.
    pub fn generate() -> Self {
        let host: String = hostname::get()
            .ok()
            .and_then(|h| h.into_string().ok())
            .unwrap_or_default()
            .chars()
            .filter(|c| c.is_ascii_alphanumeric() || matches!(c, '.' | '_' | '-'))
            .take(40)
            .collect();
        let suffix = &Uuid::new_v4().simple().to_string()[..6];
        let host = if host.is_empty() {
            "echochat".to_owned()
        } else {
            host
        };
        Self(format!("{host}-{suffix}"))
    }

    /// The id as text.
    pub fn as_str(&self) -> &str {
        &self.0
    }
}

impl fmt::Display for InstanceId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}
