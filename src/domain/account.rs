//! Account rules: why sessions end, what one-time tokens are for, and the validated profile
//! inputs (display name, e-mail address, recovery PIN).

use super::{DomainError, ErrorCode, inputs::visible_name, kinds::text_enum};

text_enum!(
    /// Why a session ended: the `reason` of a `session_ended` error, the close reason of the
    /// WebSocket (code 1008), and what the login page tells the person.
    SessionEndReason, "session end reason" {
        /// Its owner logged out of it.
        Logout = "logout",
        /// Its owner ended it from another session (log out this / others / all).
        LoggedOutElsewhere = "logged_out_elsewhere",
        /// Nothing happened in it for `idle_timeout_minutes`.
        Idle = "idle",
        /// Its owner changed the password in another session.
        PasswordChanged = "password_changed",
        /// The password was reset with an e-mailed link.
        PasswordReset = "password_reset",
        /// An administrator ended it.
        RevokedByAdmin = "revoked_by_admin",
        /// A rotated refresh token was used again: the token was probably stolen
        /// (RFC 9700 §4.14.2).
        TokenReuse = "token_reuse",
        /// The account was deleted.
        AccountDeleted = "account_deleted",
        /// A moderator suspended the account (login answers 403 `suspended` with until when and
        /// why).
        Suspended = "suspended",
        /// An administrator deactivated the account (login answers 403 `deactivated`).
        Deactivated = "deactivated",
    }
);

text_enum!(
    /// What a single-use e-mailed token is for.
    TokenPurpose, "token purpose" {
        /// Sets a new password (`POST /auth/password-reset/confirm`); valid 30 minutes.
        PasswordReset = "password_reset",
        /// Confirms an e-mail address (`POST /auth/verify-email`); valid 24 hours.
        EmailVerify = "email_verify",
    }
);

/// A display name: NFKC-normalized, trimmed, 1–64 characters, without control or invisible
/// characters (the rule of room names; it also keeps CR/LF out of e-mail headers).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct DisplayName(String);

impl DisplayName {
    /// Longest name, in characters.
    pub const MAX_CHARS: usize = 64;

    /// Errors: `invalid_display_name` (422).
    pub fn parse(raw: &str) -> Result<Self, DomainError> {
        visible_name(raw, Self::MAX_CHARS).map(Self).ok_or_else(|| {
            DomainError::invalid(
                ErrorCode::InvalidDisplayName,
                "display name must be 1 to 64 characters without control or invisible characters",
            )
        })
    }

    /// The name.
    pub fn as_str(&self) -> &str {
        &self.0
    }
}

/// An e-mail address: trimmed, at most 254 characters (RFC 5321 §4.5.3.1.3), one `@` with a
/// non-empty local part and a domain that has a dot and no spaces, no control characters (so no
/// header injection). Compared without regard to case ([`Email::key`]).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Email(String);

impl Email {
    /// The rule as a regular expression (for the OpenAPI spec).
    pub const PATTERN: &'static str = r"^[^@\s]+@[^@\s]+\.[^@\s]+$";

    /// Errors: `invalid_email` (422).
    pub fn parse(raw: &str) -> Result<Self, DomainError> {
        let email = raw.trim();
        let valid = email.len() <= 254
            && !email.chars().any(|c| c.is_control() || c.is_whitespace())
            && email.split_once('@').is_some_and(|(local, domain)| {
                !local.is_empty()
                    && !domain.contains('@')
                    && domain.contains('.')
                    && !domain.starts_with('.')
                    && !domain.ends_with('.')
            })
            && email.parse::<lettre::Address>().is_ok();
        if !valid {
            return Err(DomainError::invalid(
                ErrorCode::InvalidEmail,
                "email must look like name@example.com",
            ));
        }
        Ok(Self(email.to_owned()))
    }

    /// The address as given (trimmed).
    pub fn as_str(&self) -> &str {
        &self.0
    }

    /// The uniqueness key: lower-cased.
    pub fn key(&self) -> String {
        self.0.to_lowercase()
    }
}

/// A recovery PIN: 4–8 ASCII digits. Never logged: `Debug` is redacted.
#[derive(Clone)]
pub struct RecoveryPin(String);

impl RecoveryPin {
    /// The rule as a regular expression (for the OpenAPI spec).
    pub const PATTERN: &'static str = "^[0-9]{4,8}$";

    /// Errors: `invalid_pin_format` (422).
    pub fn parse(raw: &str) -> Result<Self, DomainError> {
        if !(4..=8).contains(&raw.len()) || !raw.bytes().all(|b| b.is_ascii_digit()) {
            return Err(DomainError::invalid(
                ErrorCode::InvalidPinFormat,
                "the recovery PIN must be 4 to 8 digits",
            ));
        }
        Ok(Self(raw.to_owned()))
    }

    /// The digits, for hashing.
    pub fn expose(&self) -> &str {
        &self.0
    }
}

impl std::fmt::Debug for RecoveryPin {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("RecoveryPin(***)")
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn emails_refuse_header_injection_and_fold_case() {
        assert_eq!(
            Email::parse(" Ann@Example.COM ").map(|e| e.key()).ok(),
            Some("ann@example.com".into())
        );
        for bad in [
            "ann@example.com\r\nBcc: x@evil.test",
            "ann@example.com\nBcc:x@evil.test",
            "ann",
            "@example.com",
            "ann@localhost",
            "a b@example.com",
            "ann@@example.com",
        ] {
            assert!(Email::parse(bad).is_err(), "{bad:?}");
        }
        assert!(Email::parse(&format!("{}@example.com", "a".repeat(250))).is_err());
    }

    #[test]
    fn display_names_refuse_control_and_bidi() {
        assert_eq!(
            DisplayName::parse("  Ann Lee ").map(|d| d.0).ok(),
            Some("Ann Lee".into())
        );
        for bad in ["Ann\r\nBcc: x", "\u{202E}nnA", "", "   ", &"x".repeat(65)] {
            assert!(DisplayName::parse(bad).is_err(), "{bad:?}");
        }
    }

    #[test]
    fn pins_are_4_to_8_digits() {
        assert!(RecoveryPin::parse("1234").is_ok());
        assert!(RecoveryPin::parse("12345678").is_ok());
        for bad in ["123", "123456789", "12a4", "١٢٣٤", " 1234"] {
            assert!(RecoveryPin::parse(bad).is_err(), "{bad:?}");
        }
    }
}
