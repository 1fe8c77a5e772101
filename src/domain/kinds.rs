//! Kinds, states and roles: closed sets of values, stored as text (with a CHECK constraint, see
//! migration `m20261201_000006_typed_domain`) and exposed as string enums in the OpenAPI spec and
//! the realtime schema. Parsing an unknown string is an error, never a silent default.

/// A stored or received string that is not one of an enum's values.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("unknown {kind} {value:?}")]
pub struct UnknownValue {
    /// Which enum, e.g. `conversation kind`.
    pub kind: &'static str,
    /// The offending text.
    pub value: String,
}

/// Declares a text-backed enum: `as_str`, `FromStr` (error on unknown text), `ALL`, `Display`,
/// serde and poem-openapi derives with the same snake_case spelling.
macro_rules! text_enum {
    (
        $(#[$doc:meta])*
        $name:ident, $what:literal {
            $( $(#[$vdoc:meta])* $variant:ident = $text:literal ),+ $(,)?
        }
    ) => {
        $(#[$doc])*
        #[derive(
            Clone, Copy, Debug, PartialEq, Eq, Hash,
            ::serde::Serialize, ::serde::Deserialize, ::poem_openapi::Enum,
        )]
        pub enum $name {
            $(
                $(#[$vdoc])*
                #[serde(rename = $text)]
                #[oai(rename = $text)]
                $variant,
            )+
        }

        impl $name {
            /// Every value, in declaration order.
            pub const ALL: &'static [Self] = &[$(Self::$variant),+];

            /// The stored and wire spelling.
            pub const fn as_str(self) -> &'static str {
                match self {
                    $(Self::$variant => $text,)+
                }
            }
        }

        impl ::std::str::FromStr for $name {
            type Err = $crate::domain::UnknownValue;

            fn from_str(text: &str) -> Result<Self, $crate::domain::UnknownValue> {
                match text {
                    $($text => Ok(Self::$variant),)+
                    other => Err($crate::domain::UnknownValue {
                        kind: $what,
                        value: other.to_owned(),
                    }),
                }
            }
        }

        impl ::std::fmt::Display for $name {
            fn fmt(&self, f: &mut ::std::fmt::Formatter<'_>) -> ::std::fmt::Result {
                f.write_str(self.as_str())
            }
        }
    };
}

pub(crate) use text_enum;

text_enum!(
    /// What a conversation is.
    ConversationKind, "conversation kind" {
        /// A named room: public (listed, open) or private (invite only).
        Room = "room",
        /// A group: a private conversation of invited people (the social-messenger issue).
        Group = "group",
        /// A direct message between exactly two users.
        Dm = "dm",
    }
);

text_enum!(
    /// Who may find and join a conversation.
    Visibility, "visibility" {
        /// Listed in the room directory; anyone may join.
        Public = "public",
        /// Unlisted; only invited users may join (DMs and groups are always private).
        Private = "private",
    }
);

text_enum!(
    /// A user's relation to a conversation.
    MembershipState, "membership state" {
        /// Invited to a private room, not yet joined.
        Invited = "invited",
        /// A member: may read and post.
        Joined = "joined",
        /// Was a member and left.
        Left = "left",
        /// Banned from a room: may not join again until a moderator lifts the ban.
        Banned = "banned",
    }
);

text_enum!(
    /// A member's role inside one conversation.
    ConversationRole, "conversation role" {
        /// Created the conversation (or received it); may change its settings.
        Owner = "owner",
        /// Appointed by the owner; may change settings and moderate.
        Moderator = "moderator",
        /// Everyone else.
        Member = "member",
    }
);

text_enum!(
    /// A user's role on the whole server.
    ServerRole, "server role" {
        /// Runs the server: every permission.
        Admin = "admin",
        /// Moderates every room.
        Moderator = "moderator",
        /// An ordinary account.
        Member = "member",
    }
);

text_enum!(
    /// A user's presence as others see it.
    PresenceStatus, "presence status" {
        /// Connected and active (or connected with no activity tracking yet).
        Online = "online",
        /// Connected but inactive for `[presence] auto_away_minutes`, or chose "away".
        Away = "away",
        /// Connected and chose "busy" (do not disturb).
        Busy = "busy",
        /// No connection (after a short grace period, so a reconnect does not flap), or invisible:
        /// the two look exactly alike.
        Offline = "offline",
    }
);

text_enum!(
    /// Why a member left a conversation (`member_left.reason`).
    LeaveReason, "leave reason" {
        /// They left (or their account was deleted).
        Left = "left",
        /// An owner or moderator removed them.
        Kicked = "kicked",
        /// An owner or moderator banned them from the room (they may not rejoin).
        Banned = "banned",
    }
);

text_enum!(
    /// Where a reported message stands in the moderation queue.
    ReportStatus, "report status" {
        /// Waiting for a moderator.
        Open = "open",
        /// A moderator acted on it.
        Resolved = "resolved",
        /// A moderator found nothing to do.
        Dismissed = "dismissed",
    }
);

text_enum!(
    /// A filter of the admin room list (`GET /admin/rooms?filter=`).
    RoomFilter, "room filter" {
        /// Official (server) rooms.
        Official = "official",
        /// Public rooms.
        Public = "public",
        /// Private rooms.
        Private = "private",
        /// Locked rooms.
        Locked = "locked",
        /// Read-only rooms.
        ReadOnly = "read_only",
    }
);

text_enum!(
    /// The presence a user picks (stored in `users.presence`, kept across sessions).
    PresenceChoice, "presence choice" {
        /// Online, turning `away` by itself after `[presence] auto_away_minutes` without activity.
        Online = "online",
        /// Away, whatever the activity.
        Away = "away",
        /// Busy (do not disturb), whatever the activity.
        Busy = "busy",
        /// Shown as offline to everyone; still receives everything. Refused when the server sets
        /// `[presence] allow_invisible = false`.
        Invisible = "invisible",
    }
);

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_value_round_trips_and_unknown_text_is_an_error() {
        for kind in ConversationKind::ALL {
            assert_eq!(kind.as_str().parse::<ConversationKind>(), Ok(*kind));
            assert_eq!(
                serde_json::to_value(kind).ok(),
                Some(serde_json::Value::from(kind.as_str()))
            );
        }
        for role in ServerRole::ALL {
            assert_eq!(role.as_str().parse::<ServerRole>(), Ok(*role));
        }
        let err = "Room".parse::<ConversationKind>().err();
        assert_eq!(
            err.map(|e| e.to_string()),
            Some("unknown conversation kind \"Room\"".to_owned())
        );
        assert!("".parse::<MembershipState>().is_err());
    }
}

text_enum!(
    /// Who may create an account (`general.registration`).
    RegistrationMode, "registration mode" {
        /// Anyone may register.
        Open = "open",
        /// Only people with an invite link (`POST /admin/invites`) may register.
        InviteOnly = "invite_only",
        /// Nobody may register; administrators create accounts.
        Closed = "closed",
    }
);

text_enum!(
    /// The order of the public room directory (`GET /rooms?sort=`); official rooms come first in
    /// every order.
    DirectorySort, "directory sort" {
        /// By name, A to Z (the default).
        Name = "name",
        /// Most joined members first (ties by name).
        Members = "members",
        /// Newest first (by creation time).
        Newest = "newest",
    }
);
