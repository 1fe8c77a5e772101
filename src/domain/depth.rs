//! Conversations in depth (issue 9): the parts of a message beyond its text (reply preview,
//! reactions, pin), read receipts and per-conversation notification levels, and the validated
//! inputs for them (an emoji, an edit).

use poem_openapi::Object;
use serde::{Deserialize, Serialize};

use super::{DomainError, ErrorCode, Timestamp, User, UserId};

/// Longest reply excerpt, in characters.
pub const EXCERPT_CHARS: usize = 200;
/// Most reacting users listed per emoji in a [`Reaction`] (the count is exact).
pub const REACTION_USERS_SHOWN: usize = 50;
/// Most distinct emojis on one message.
pub const MAX_EMOJIS_PER_MESSAGE: usize = 20;
/// Most resolved mentions per message.
pub const MAX_MENTIONS: usize = 20;

/// The message a reply quotes, as shown above the reply.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize, Object)]
pub struct ReplyPreview {
    /// The quoted message's sequence number (same conversation).
    pub seq: i64,
    /// Its author.
    pub sender_id: UserId,
    /// Its author's username.
    pub sender_username: String,
    /// The start of its text (≤ 200 characters, markdown source); empty once deleted.
    pub excerpt: String,
    /// True when the quoted message was deleted since.
    pub deleted: bool,
}

/// One emoji's reactions on a message.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize, Object)]
pub struct Reaction {
    /// The emoji (one Unicode emoji, possibly a ZWJ sequence or with a skin tone).
    pub emoji: String,
    /// How many users reacted with it.
    pub count: i64,
    /// Who reacted, first reactions first (at most 50; `GET …/reactions` lists everyone).
    pub user_ids: Vec<UserId>,
}

/// Who pinned a message, and when.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize, Object)]
pub struct PinInfo {
    /// Who pinned it.
    pub by: UserId,
    /// Their username.
    pub by_username: String,
    /// When (RFC 3339).
    pub at: Timestamp,
}

/// Everyone who reacted with one emoji (`GET /conversations/{id}/messages/{seq}/reactions`).
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize, Object)]
pub struct ReactionUsers {
    /// The emoji.
    pub emoji: String,
    /// Who reacted with it, first reactions first.
    pub users: Vec<User>,
}

/// A member's shared read position (read receipts).
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize, Object)]
pub struct Receipt {
    /// The member.
    pub user_id: UserId,
    /// Their username.
    pub username: String,
    /// They have read every message up to this sequence number.
    pub seq: i64,
}

super::kinds::text_enum!(
    /// How a member wants to be notified about a conversation (it follows the account to every
    /// device; clients decide how to notify).
    NotifyLevel, "notification level" {
        /// Every message.
        All = "all",
        /// Only messages that mention me.
        Mentions = "mentions",
        /// Nothing (muted); a mention of me is still notified.
        None = "none",
    }
);

/// The notification level of a conversation without a membership row: `all`.
pub(crate) fn default_notify() -> NotifyLevel {
    NotifyLevel::All
}

/// A reaction emoji: exactly one Unicode emoji (per the Unicode emoji list, so ZWJ sequences,
/// flags, keycaps and skin tones count as one), at most 64 bytes.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Emoji(String);

impl Emoji {
    /// Validates `text`. Errors: 422 `invalid_emoji`.
    pub fn parse(text: &str) -> Result<Self, DomainError> {
        let invalid = || {
            DomainError::invalid(
                ErrorCode::InvalidEmoji,
                "a reaction must be exactly one emoji",
            )
        };
        if text.is_empty() || text.len() > 64 {
            return Err(invalid());
        }
        // Accept the fully-qualified form and the form without variation selectors.
        let found = emojis::get(text).or_else(|| emojis::get(&text.replace('\u{fe0f}', "")));
        match found {
            Some(e) => Ok(Self(e.as_str().to_owned())),
            None => Err(invalid()),
        }
    }

    /// The emoji text (as stored).
    pub fn as_str(&self) -> &str {
        &self.0
    }
}

/// The start of `body` for a reply preview: at most [`EXCERPT_CHARS`] characters, on one line.
pub fn excerpt(body: &str) -> String {
    let flat: String = body
        .chars()
        .map(|c| if c.is_control() { ' ' } else { c })
        .take(EXCERPT_CHARS)
        .collect();
    flat.trim().to_owned()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn emoji_accepts_single_emojis_only() {
        for ok in ["👍", "❤️", "❤", "👍🏽", "🇫🇷", "👨‍👩‍👧", "1️⃣"]
        {
            assert!(Emoji::parse(ok).is_ok(), "{ok}");
        }
        for bad in ["", "a", "👍👍", "ok", ":+1:", "<script>", &"👍".repeat(40)] {
            assert!(Emoji::parse(bad).is_err(), "{bad}");
        }
    }

    #[test]
    fn excerpt_is_bounded_and_flat() {
        assert_eq!(excerpt("a\nb"), "a b");
        assert_eq!(excerpt(&"x".repeat(500)).chars().count(), EXCERPT_CHARS);
    }
}
