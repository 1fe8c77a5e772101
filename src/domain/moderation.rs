//! Account moderation and custom roles: the validated inputs of the admin routes and the
//! moderation state of an account, with the rules that read it (may this account sign in, post,
//! be seen).

use std::time::Duration;

use serde::{Deserialize, Serialize};

use super::{DomainError, ErrorCode, Permission, PermissionSet, ServerRole, Timestamp};

/// Longest reason, in characters.
pub const REASON_MAX: usize = 500;

/// Longest moderation duration (suspension, mute): ten years, in seconds.
pub const DURATION_MAX_SECS: u64 = 10 * 366 * 24 * 3600;

/// Why a moderator acted: 1–500 characters after trimming, no control characters but newline
/// and tab. Shown to other moderators in the audit log and, for suspensions, to the user.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Reason(String);

impl Reason {
    /// Trims and checks `raw`. Errors: 422 `invalid_reason`.
    pub fn parse(raw: &str) -> Result<Self, DomainError> {
        let text = raw.trim();
        let len = text.chars().count();
        if len == 0 || len > REASON_MAX {
            return Err(DomainError::invalid(
                ErrorCode::InvalidReason,
                format!("a reason of 1 to {REASON_MAX} characters is required"),
            ));
        }
        if text
            .chars()
            .any(|c| c.is_control() && c != '\n' && c != '\t')
        {
            return Err(DomainError::invalid(
                ErrorCode::InvalidReason,
                "the reason may not contain control characters",
            ));
        }
        Ok(Self(text.to_owned()))
    }

    /// An optional reason: `None` or blank is no reason; else as [`Self::parse`].
    pub fn parse_optional(raw: Option<&str>) -> Result<Option<Self>, DomainError> {
        match raw.map(str::trim) {
            None | Some("") => Ok(None),
            Some(text) => Self::parse(text).map(Some),
        }
    }

    /// The text.
    pub fn as_str(&self) -> &str {
        &self.0
    }
}

/// How long a suspension or mute lasts: 1 second to ten years.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct ModerationDuration(Duration);

impl ModerationDuration {
    /// Checks `secs`. Errors: 422 `invalid_duration`.
    pub fn from_secs(secs: i64) -> Result<Self, DomainError> {
        match u64::try_from(secs) {
            Ok(s) if (1..=DURATION_MAX_SECS).contains(&s) => Ok(Self(Duration::from_secs(s))),
            _ => Err(DomainError::invalid(
                ErrorCode::InvalidDuration,
                format!("the duration must be 1 to {DURATION_MAX_SECS} seconds"),
            )),
        }
    }

    /// The end of a period of this length starting `now`.
    pub fn end_from(self, now: Timestamp) -> Timestamp {
        Timestamp(now.0 + chrono::Duration::seconds(self.0.as_secs() as i64))
    }

    /// An end time given as a time: in the future and at most ten years away. Errors: 422
    /// `invalid_duration`.
    pub fn until(until: Timestamp, now: Timestamp) -> Result<Timestamp, DomainError> {
        Self::from_secs((until.0 - now.0).num_seconds())?;
        Ok(until)
    }
}

/// A custom role name: 2–32 of `a-z 0-9 _ -`, starting with a letter, never a built-in role.
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
pub struct RoleName(String);

impl RoleName {
    /// Lower-cases and checks `raw` as the name of a new custom role. Errors: 422
    /// `invalid_role_name`; 409 `builtin_role` for `admin`, `moderator`, `member`.
    pub fn parse_custom(raw: &str) -> Result<Self, DomainError> {
        let name = raw.trim().to_lowercase();
        let len = name.len();
        let ok = (2..=32).contains(&len)
            && name.starts_with(|c: char| c.is_ascii_lowercase())
            && name
                .chars()
                .all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || matches!(c, '_' | '-'));
        if !ok {
            return Err(DomainError::invalid(
                ErrorCode::InvalidRoleName,
                "a role name is 2 to 32 characters of a-z, 0-9, '_' or '-', starting with a letter",
            ));
        }
        if name.parse::<ServerRole>().is_ok() {
            return Err(DomainError::conflict(
                ErrorCode::BuiltinRole,
                format!("\"{name}\" is a built-in role"),
            ));
        }
        Ok(Self(name))
    }

    /// The name.
    pub fn as_str(&self) -> &str {
        &self.0
    }
}

/// The permissions a custom role may hold: server-scoped ones only. Errors: 422
/// `invalid_permission` naming the first conversation-scoped one.
pub fn role_permissions(permissions: &[Permission]) -> Result<PermissionSet, DomainError> {
    if let Some(p) = permissions.iter().find(|p| !p.is_server_scoped()) {
        return Err(DomainError::invalid(
            ErrorCode::InvalidPermission,
            format!("\"{p}\" is a conversation permission; roles hold server permissions"),
        ));
    }
    Ok(permissions.iter().copied().collect())
}

/// An account's moderation state (all `None`: in good standing).
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct AccountModeration {
    /// Suspended until then (cannot sign in).
    pub suspended_until: Option<Timestamp>,
    /// Why it was suspended (shown to the user at login).
    pub suspend_reason: Option<String>,
    /// Deactivated since then (cannot sign in until reactivated).
    pub deactivated_at: Option<Timestamp>,
    /// Why it was deactivated.
    pub deactivate_reason: Option<String>,
    /// Muted on the whole server until then.
    pub muted_until: Option<Timestamp>,
    /// Why it was muted.
    pub mute_reason: Option<String>,
    /// Shadowbanned since then.
    pub shadowbanned_at: Option<Timestamp>,
    /// Why it was shadowbanned.
    pub shadowban_reason: Option<String>,
}

impl AccountModeration {
    /// Whether the account is suspended at `now`.
    pub fn suspended_at(&self, now: Timestamp) -> bool {
        self.suspended_until.is_some_and(|u| u > now)
    }

    /// Whether the account is muted at `now`.
    pub fn muted_at(&self, now: Timestamp) -> bool {
        self.muted_until.is_some_and(|u| u > now)
    }

    /// Whether the account is shadowbanned.
    pub fn shadowbanned(&self) -> bool {
        self.shadowbanned_at.is_some()
    }

    /// Why the account may not sign in at `now`, if it may not: 403 `deactivated`, or 403
    /// `suspended` whose message gives the end (RFC 3339) and the reason.
    pub fn sign_in_refusal(&self, now: Timestamp) -> Option<DomainError> {
        if self.deactivated_at.is_some() {
            return Some(DomainError::forbidden(
                ErrorCode::Deactivated,
                match &self.deactivate_reason {
                    Some(reason) => format!("this account was deactivated: {reason}"),
                    None => "this account was deactivated".to_owned(),
                },
            ));
        }
        let until = self.suspended_until.filter(|u| *u > now)?;
        Some(DomainError::forbidden(
            ErrorCode::Suspended,
            format!(
                "this account is suspended until {}: {}",
                until.to_rfc3339(),
                self.suspend_reason.as_deref().unwrap_or("no reason given")
            ),
        ))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reasons_durations_and_role_names_are_checked() {
        assert!(Reason::parse("  ").is_err());
        assert!(Reason::parse(&"x".repeat(REASON_MAX + 1)).is_err());
        assert!(Reason::parse("spam\u{7}").is_err());
        assert_eq!(Reason::parse(" spam\n").unwrap().as_str(), "spam");
        assert!(ModerationDuration::from_secs(0).is_err());
        assert!(ModerationDuration::from_secs(-5).is_err());
        assert!(ModerationDuration::from_secs(DURATION_MAX_SECS as i64 + 1).is_err());
        assert!(ModerationDuration::from_secs(60).is_ok());
        assert_eq!(
            RoleName::parse_custom("Admin").err().map(|e| e.code()),
            Some(ErrorCode::BuiltinRole)
        );
        assert!(RoleName::parse_custom("9lives").is_err());
        assert_eq!(
            RoleName::parse_custom("Support-Team").unwrap().as_str(),
            "support-team"
        );
        assert!(role_permissions(&[Permission::MessageSend]).is_err());
    }

    #[test]
    fn a_suspension_ends_by_itself() {
        let now = Timestamp::now();
        let m = AccountModeration {
            suspended_until: Some(Timestamp(now.0 + chrono::Duration::seconds(60))),
            suspend_reason: Some("spam".into()),
            ..Default::default()
        };
        let refusal = m.sign_in_refusal(now).unwrap();
        assert_eq!(refusal.code(), ErrorCode::Suspended);
        assert!(refusal.to_string().contains("spam"));
        assert!(
            m.sign_in_refusal(Timestamp(now.0 + chrono::Duration::seconds(61)))
                .is_none()
        );
    }
}
