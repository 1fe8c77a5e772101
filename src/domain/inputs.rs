//! Validated inputs ("parse, don't validate"): once constructed, the type proves the rule.

use unicode_normalization::UnicodeNormalization;

use super::{DomainError, ErrorCode};

/// A username: 3–32 characters of `a-z 0-9 _ . -`, compared without regard to case
/// (input is lower-cased before the check).
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
pub struct Username(String);

impl Username {
    /// Prefix of the placeholder names of deleted accounts; no one may register one.
    pub const DELETED_PREFIX: &'static str = "deleted-";

    /// The rule as a regular expression (for the OpenAPI spec; input is lower-cased first).
    pub const PATTERN: &'static str = "^[A-Za-z0-9_.-]{3,32}$";

    /// Lower-cases and checks `raw`. Errors: `invalid_username` (422).
    pub fn parse(raw: &str) -> Result<Self, DomainError> {
        let name = raw.trim().to_lowercase();
        let len = name.chars().count();
        let charset_ok = name
            .chars()
            .all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || matches!(c, '_' | '.' | '-'));
        if !(3..=32).contains(&len) || !charset_ok {
            return Err(DomainError::invalid(
                ErrorCode::InvalidUsername,
                "username must be 3 to 32 characters of a-z, 0-9, '_', '.' or '-'",
            ));
        }
        if name.starts_with(Self::DELETED_PREFIX) {
            return Err(DomainError::invalid(
                ErrorCode::InvalidUsername,
                "usernames starting with \"deleted-\" are reserved for deleted accounts",
            ));
        }
        Ok(Self(name))
    }

    /// The canonical (lower-case) form.
    pub fn as_str(&self) -> &str {
        &self.0
    }
}

/// A password of 8–1024 bytes (UTF-8). Never logged: `Debug` is redacted.
#[derive(Clone)]
pub struct Password(String);

impl Password {
    /// Checks the length in bytes. Errors: `invalid_password` (422).
    pub fn parse(raw: String) -> Result<Self, DomainError> {
        if !(8..=1024).contains(&raw.len()) {
            return Err(DomainError::invalid(
                ErrorCode::InvalidPassword,
                "password must be 8 to 1024 bytes long",
            ));
        }
        Ok(Self(raw))
    }

    /// The raw password bytes, for hashing.
    pub fn expose(&self) -> &[u8] {
        self.0.as_bytes()
    }
}

impl std::fmt::Debug for Password {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("Password(<redacted>)")
    }
}

/// A message body: 1–4000 characters (Unicode scalar values) after trimming trailing whitespace.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct MessageBody(String);

impl MessageBody {
    /// Maximum length in characters.
    pub const MAX_CHARS: usize = 4000;

    /// Errors: `invalid_message` (422) when empty, longer than [`Self::MAX_CHARS`], or holding
    /// control characters other than newline, carriage return and tab (NUL cannot be stored in
    /// PostgreSQL text, and the others are invisible tricks).
    pub fn parse(raw: &str) -> Result<Self, DomainError> {
        let body = raw.trim_end();
        if body.trim_start().is_empty() {
            return Err(DomainError::invalid(
                ErrorCode::InvalidMessage,
                "message body is empty",
            ));
        }
        if body.chars().count() > Self::MAX_CHARS {
            return Err(DomainError::invalid(
                ErrorCode::InvalidMessage,
                format!("message body is longer than {} characters", Self::MAX_CHARS),
            ));
        }
        if body
            .chars()
            .any(|c| c.is_control() && !matches!(c, '\n' | '\r' | '\t'))
        {
            return Err(DomainError::invalid(
                ErrorCode::InvalidMessage,
                "message body contains control characters",
            ));
        }
        Ok(Self(body.to_owned()))
    }

    /// The text.
    pub fn into_inner(self) -> String {
        self.0
    }

    /// The text, borrowed.
    pub fn as_str(&self) -> &str {
        &self.0
    }
}

/// A client-chosen idempotency key for a send: 1–64 printable ASCII characters.
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
pub struct ClientId(String);

impl ClientId {
    /// Errors: `invalid_client_id` (422).
    pub fn parse(raw: &str) -> Result<Self, DomainError> {
        if raw.is_empty() || raw.len() > 64 || !raw.bytes().all(|b| b.is_ascii_graphic()) {
            return Err(DomainError::invalid(
                ErrorCode::InvalidClientId,
                "client_id must be 1 to 64 printable ASCII characters",
            ));
        }
        Ok(Self(raw.to_owned()))
    }

    /// The key.
    pub fn as_str(&self) -> &str {
        &self.0
    }
}

/// A room name: NFKC-normalized (so fullwidth `Ｌｏｂｂｙ` is `Lobby`), trimmed, 1–64 characters,
/// without control, format (zero-width, bidi overrides), private-use, surrogate or line/paragraph
/// separator characters (Unicode general categories Cc, Cf, Co, Cs, Zl, Zp; UAX #44).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct RoomName(String);

impl RoomName {
    /// Longest name, in characters.
    pub const MAX_CHARS: usize = 64;

    /// Errors: `invalid_room_name` (422).
    pub fn parse(raw: &str) -> Result<Self, DomainError> {
        visible_name(raw, Self::MAX_CHARS).map(Self).ok_or_else(|| {
            DomainError::invalid(
                ErrorCode::InvalidRoomName,
                "room name must be 1 to 64 characters without control or invisible characters",
            )
        })
    }

    /// The name (normalized, trimmed).
    pub fn as_str(&self) -> &str {
        &self.0
    }

    /// The uniqueness key: lower-cased.
    pub fn key(&self) -> String {
        self.0.to_lowercase()
    }

    /// The confusable skeleton of the lower-cased name (UTS #39 §4, via `unicode-security`):
    /// names that look alike (`Lobby`, `Lоbby` with a Cyrillic `о`, `L0bby`…) share it.
    pub fn skeleton(&self) -> String {
        skeleton_of(&self.key())
    }
}

/// The lower-cased UTS #39 confusable skeleton of `text`.
pub fn skeleton_of(text: &str) -> String {
    let lower: String = text.nfkc().collect::<String>().to_lowercase();
    unicode_security::confusable_detection::skeleton(&lower)
        .collect::<String>()
        .to_lowercase()
}

/// `raw` NFKC-normalized and trimmed, when it is 1–`max` characters without control or
/// invisible characters ([`invisible_or_control`]): the rule of room and display names.
pub(super) fn visible_name(raw: &str, max: usize) -> Option<String> {
    let name: String = raw.nfkc().collect();
    let name = name.trim();
    let len = name.chars().count();
    ((1..=max).contains(&len) && !name.chars().any(invisible_or_control)).then(|| name.to_owned())
}

/// Characters that have no place in a name: control, format (zero-width, bidi controls),
/// private-use, surrogate, and line/paragraph separators.
fn invisible_or_control(c: char) -> bool {
    use unicode_properties::{GeneralCategory as G, UnicodeGeneralCategory};
    matches!(
        c.general_category(),
        G::Control
            | G::Format
            | G::PrivateUse
            | G::Surrogate
            | G::LineSeparator
            | G::ParagraphSeparator
    )
}

/// An optional short text (topic, category): trimmed, empty means none, at most `max`
/// characters, no control characters. Errors: `code` (422).
pub fn optional_text(
    text: Option<String>,
    max: usize,
    code: ErrorCode,
) -> Result<Option<String>, DomainError> {
    let text = text.map(|t| t.trim().to_owned()).filter(|t| !t.is_empty());
    if text
        .as_ref()
        .is_some_and(|t| t.chars().count() > max || t.chars().any(char::is_control))
    {
        return Err(DomainError::invalid(
            code,
            format!("must be at most {max} characters without control characters"),
        ));
    }
    Ok(text)
}

/// Longest custom status text, in characters.
pub const STATUS_TEXT_MAX_CHARS: usize = 128;

/// A custom status text ("In a meeting until 3"): trimmed, 1–128 characters, without control
/// characters, line/paragraph separators or bidirectional formatting characters (U+061C,
/// U+200E/U+200F, U+202A–U+202E, U+2066–U+2069: Unicode TR #9 explicit formatting, which could
/// make the text around it read differently). Other format characters (the zero-width joiner of
/// emoji sequences) are allowed. Empty (after trimming) means "no status text".
/// Errors: 422 `invalid_status_text`.
pub fn status_text(raw: &str) -> Result<Option<String>, DomainError> {
    let text = raw.trim();
    if text.is_empty() {
        return Ok(None);
    }
    let bidi = |c: char| matches!(c, '\u{061C}' | '\u{200E}' | '\u{200F}' | '\u{202A}'..='\u{202E}' | '\u{2066}'..='\u{2069}');
    let separator = |c: char| matches!(c, '\u{2028}' | '\u{2029}');
    if text.chars().count() > STATUS_TEXT_MAX_CHARS {
        return Err(DomainError::invalid(
            ErrorCode::InvalidStatusText,
            format!("a status text is at most {STATUS_TEXT_MAX_CHARS} characters"),
        ));
    }
    if text
        .chars()
        .any(|c| c.is_control() || bidi(c) || separator(c))
    {
        return Err(DomainError::invalid(
            ErrorCode::InvalidStatusText,
            "a status text cannot hold control, line-separator or bidirectional-formatting characters",
        ));
    }
    Ok(Some(text.to_owned()))
}

/// True when `text` holds no control characters (NUL cannot be stored in PostgreSQL text).
pub fn no_control_chars(text: &str) -> bool {
    !text.chars().any(char::is_control)
}

/// Longest moderation or report reason, in characters.
pub const REASON_MAX_CHARS: usize = super::REASON_MAX;

/// A moderation or report reason as text (see [`super::Reason`]: trimmed, 1–500 characters, no
/// control characters but newline and tab). `None` (or blank) is allowed unless `required`.
/// Errors: 422 `invalid_reason`.
pub fn reason(raw: Option<&str>, required: bool) -> Result<Option<String>, DomainError> {
    match super::Reason::parse_optional(raw)? {
        Some(reason) => Ok(Some(reason.as_str().to_owned())),
        None if required => super::Reason::parse("").map(|r| Some(r.as_str().to_owned())),
        None => Ok(None),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn status_texts_refuse_control_and_bidi_characters() {
        assert_eq!(
            status_text("  In a meeting ").ok().flatten().as_deref(),
            Some("In a meeting")
        );
        assert_eq!(status_text("   ").ok().flatten(), None);
        assert!(
            status_text("family \u{1F468}\u{200D}\u{1F469}").is_ok(),
            "emoji ZWJ sequences are fine"
        );
        for bad in [
            "a\u{202E}b",
            "a\u{2066}b",
            "a\u{0007}b",
            "a\nb",
            "a\u{2028}b",
            "a\u{200F}",
        ] {
            assert!(status_text(bad).is_err(), "{bad:?}");
        }
        assert!(status_text(&"x".repeat(128)).is_ok());
        assert!(status_text(&"x".repeat(129)).is_err());
    }

    #[test]
    fn usernames_are_lowercased_and_checked() {
        assert_eq!(
            Username::parse("Alice_1").map(|u| u.0).ok(),
            Some("alice_1".into())
        );
        assert!(Username::parse("ab").is_err());
        assert!(Username::parse(&"a".repeat(33)).is_err());
        assert!(Username::parse("al ice").is_err());
        assert!(Username::parse("zoë").is_err());
    }

    #[test]
    fn message_bodies_count_characters_not_bytes() {
        assert!(MessageBody::parse(&"é".repeat(4000)).is_ok());
        assert!(MessageBody::parse(&"é".repeat(4001)).is_err());
        assert!(MessageBody::parse("   \n").is_err());
        assert!(MessageBody::parse("a\u{0}b").is_err());
        assert!(MessageBody::parse("line\nline\ttab").is_ok());
    }

    #[test]
    fn room_names_are_normalized_and_lookalikes_share_a_skeleton() {
        assert_eq!(
            RoomName::parse("  Ｌｏｂｂｙ ").map(|r| r.0).ok(),
            Some("Lobby".into())
        );
        for invisible in [
            "Lob\u{200B}by",
            "\u{202E}ybboL",
            "Lobby\u{2066}",
            "Lo\u{00AD}bby",
            "a\u{2028}b",
        ] {
            assert!(RoomName::parse(invisible).is_err(), "{invisible:?}");
        }
        let lobby = RoomName::parse("Lobby").map(|r| r.skeleton()).ok();
        for lookalike in ["L\u{043E}bby", "LOBBY", "lobby", "Ⅼobby"] {
            assert_eq!(
                RoomName::parse(lookalike).map(|r| r.skeleton()).ok(),
                lobby,
                "{lookalike:?}"
            );
        }
        assert_ne!(RoomName::parse("Lobbies").map(|r| r.skeleton()).ok(), lobby);
        assert!(RoomName::parse(&"x".repeat(65)).is_err());
        assert!(RoomName::parse("   ").is_err());
    }

    #[test]
    fn passwords_count_bytes() {
        assert!(Password::parse("1234567".into()).is_err());
        assert!(Password::parse("12345678".into()).is_ok());
        assert!(Password::parse("x".repeat(1025)).is_err());
    }
}
