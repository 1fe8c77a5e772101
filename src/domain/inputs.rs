//! Validated inputs ("parse, don't validate"): once constructed, the type proves the rule.

use super::DomainError;

/// A username: 3–32 characters of `a-z 0-9 _ . -`, compared without regard to case
/// (input is lower-cased before the check).
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
pub struct Username(String);

impl Username {
    /// Lower-cases and checks `raw`. Errors: `invalid_username` (422).
    pub fn parse(raw: &str) -> Result<Self, DomainError> {
        let name = raw.trim().to_lowercase();
        let len = name.chars().count();
        let charset_ok = name
            .chars()
            .all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || matches!(c, '_' | '.' | '-'));
        if !(3..=32).contains(&len) || !charset_ok {
            return Err(DomainError::invalid(
                "invalid_username",
                "username must be 3 to 32 characters of a-z, 0-9, '_', '.' or '-'",
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
                "invalid_password",
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
                "invalid_message",
                "message body is empty",
            ));
        }
        if body.chars().count() > Self::MAX_CHARS {
            return Err(DomainError::invalid(
                "invalid_message",
                format!("message body is longer than {} characters", Self::MAX_CHARS),
            ));
        }
        if body
            .chars()
            .any(|c| c.is_control() && !matches!(c, '\n' | '\r' | '\t'))
        {
            return Err(DomainError::invalid(
                "invalid_message",
                "message body contains control characters",
            ));
        }
        Ok(Self(body.to_owned()))
    }

    /// The text.
    pub fn into_inner(self) -> String {
        self.0
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
                "invalid_client_id",
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

/// A room name: 1–64 characters after trimming, no control characters.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct RoomName(String);

impl RoomName {
    /// Errors: `invalid_room_name` (422).
    pub fn parse(raw: &str) -> Result<Self, DomainError> {
        let name = raw.trim();
        let len = name.chars().count();
        if !(1..=64).contains(&len) || name.chars().any(char::is_control) {
            return Err(DomainError::invalid(
                "invalid_room_name",
                "room name must be 1 to 64 characters without control characters",
            ));
        }
        Ok(Self(name.to_owned()))
    }

    /// The name as typed (trimmed).
    pub fn as_str(&self) -> &str {
        &self.0
    }

    /// The uniqueness key: lower-cased.
    pub fn key(&self) -> String {
        self.0.to_lowercase()
    }
}

/// True when `text` holds no control characters (NUL cannot be stored in PostgreSQL text).
pub fn no_control_chars(text: &str) -> bool {
    !text.chars().any(char::is_control)
}

#[cfg(test)]
mod tests {
    use super::*;

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
    fn passwords_count_bytes() {
        assert!(Password::parse("1234567".into()).is_err());
        assert!(Password::parse("12345678".into()).is_ok());
        assert!(Password::parse("x".repeat(1025)).is_err());
    }
}
