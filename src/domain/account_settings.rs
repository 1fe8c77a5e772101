//! Account settings: how the web client looks and behaves for one user, stored on the server so
//! they follow the user to every device (`GET`/`PUT /users/me/settings`, the `ready` frame's
//! `settings`, the `settings_updated` frame).
//!
//! [`AccountSettings`] is the whole object (every key always present); [`AccountSettingsPatch`]
//! is a partial change (only the given keys change), parsed strictly: an unknown key, a `null`,
//! a wrong type, an unknown enum value or an accent that is not `#rrggbb` is refused with 422
//! `invalid_settings`. Reading what is stored is lenient instead: unknown or old keys are
//! ignored and a missing or unreadable key takes its default, so the set of settings can grow
//! without a migration.

use poem_openapi::Object;
use serde::{Deserialize, Serialize, de::DeserializeOwned};
use serde_json::Value;

use super::{DomainError, ErrorCode, kinds::text_enum};

text_enum!(
    /// The colour scheme of the web client.
    Theme, "theme" {
        /// Follow the device's light or dark setting (`prefers-color-scheme`).
        System = "system",
        /// Always light.
        Light = "light",
        /// Always dark.
        Dark = "dark",
    }
);

text_enum!(
    /// The size of message text.
    TextSize, "text size" {
        /// Smaller than the default (13 px in the web client).
        Small = "small",
        /// The default (15 px).
        Medium = "medium",
        /// Larger than the default (18 px).
        Large = "large",
    }
);

text_enum!(
    /// Where friends' custom status text shows.
    StatusDisplay, "status display" {
        /// Under their name.
        Inline = "inline",
        /// Only as a tooltip on their name.
        Hover = "hover",
    }
);

/// The default accent colour (the web client's purple).
pub const DEFAULT_ACCENT: &str = "#5b2a9e";

/// My account settings. Every key is always present; a user who never changed anything has
/// the defaults shown below.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize, Object)]
pub struct AccountSettings {
    /// `system` (default), `light` or `dark`.
    pub theme: Theme,
    /// Accent colour, `#rrggbb` (lower-case hex). Default `#5b2a9e`.
    pub accent: String,
    /// Message text size: `small`, `medium` (default) or `large`.
    pub text_size: TextSize,
    /// Friends' custom status text `inline` under their name (default) or on `hover` only.
    pub status_display: StatusDisplay,
    /// A toast at login when direct messages arrived while I was away. Default true.
    pub missed_toast: bool,
    /// Browser notifications for new messages while the tab is hidden or the conversation is
    /// not on screen (the browser asks for permission too). Default false.
    pub popup_notifications: bool,
    /// A short sound for new messages that are not on screen. Default true.
    pub sounds: bool,
    /// Let the other members of my DMs and groups see how far I have read. Default true.
    pub send_read_receipts: bool,
}

impl Default for AccountSettings {
    fn default() -> Self {
        Self {
            theme: Theme::System,
            accent: DEFAULT_ACCENT.to_owned(),
            text_size: TextSize::Medium,
            status_display: StatusDisplay::Inline,
            missed_toast: true,
            popup_notifications: false,
            sounds: true,
            send_read_receipts: true,
        }
    }
}

/// A change to my account settings (`PUT /users/me/settings`): only the given keys change.
/// Unknown keys and `null` values are refused (422 `invalid_settings`).
#[derive(Clone, Debug, Default, PartialEq, Eq, Deserialize, Object)]
#[serde(deny_unknown_fields)]
#[oai(deny_unknown_fields)]
pub struct AccountSettingsPatch {
    /// `system`, `light` or `dark`.
    pub theme: Option<Theme>,
    /// `#rrggbb` (hex digits in either case; stored in lower case).
    #[oai(validator(pattern = r"^#[0-9A-Fa-f]{6}$"))]
    pub accent: Option<String>,
    /// `small`, `medium` or `large`.
    pub text_size: Option<TextSize>,
    /// `inline` or `hover`.
    pub status_display: Option<StatusDisplay>,
    /// A toast at login for missed direct messages.
    pub missed_toast: Option<bool>,
    /// Browser notifications for new messages not on screen.
    pub popup_notifications: Option<bool>,
    /// A sound for new messages not on screen.
    pub sounds: Option<bool>,
    /// Send read receipts.
    pub send_read_receipts: Option<bool>,
}

fn invalid(message: impl Into<String>) -> DomainError {
    DomainError::invalid(ErrorCode::InvalidSettings, message)
}

/// `raw` as an accent colour (`#rrggbb`, lower-cased), or `None`.
pub fn parse_accent(raw: &str) -> Option<String> {
    let hex = raw.strip_prefix('#')?;
    (hex.len() == 6 && hex.bytes().all(|b| b.is_ascii_hexdigit()))
        .then(|| format!("#{}", hex.to_ascii_lowercase()))
}

impl AccountSettingsPatch {
    /// Parses a request body. Errors: 422 `invalid_settings` naming the key, when the body is
    /// not an object, has an unknown key or a `null`, a value of the wrong type, an unknown enum
    /// value, or an accent that is not `#rrggbb`.
    pub fn parse(body: Value) -> Result<Self, DomainError> {
        let Value::Object(map) = &body else {
            return Err(invalid("the settings must be a JSON object"));
        };
        if let Some((key, _)) = map.iter().find(|(_, v)| v.is_null()) {
            return Err(invalid(format!("{key}: null is not a value")));
        }
        let mut patch: Self =
            serde_json::from_value(body).map_err(|e| invalid(format!("invalid settings: {e}")))?;
        if let Some(raw) = patch.accent.take() {
            patch.accent = Some(
                parse_accent(&raw)
                    .ok_or_else(|| invalid("accent: a colour like #5b2a9e (#rrggbb)"))?,
            );
        }
        Ok(patch)
    }

    /// Whether nothing would change.
    pub fn is_empty(&self) -> bool {
        *self == Self::default()
    }

    /// `settings` with this change applied.
    pub fn apply(&self, mut settings: AccountSettings) -> AccountSettings {
        let Self {
            theme,
            accent,
            text_size,
            status_display,
            missed_toast,
            popup_notifications,
            sounds,
            send_read_receipts,
        } = self.clone();
        if let Some(v) = theme {
            settings.theme = v;
        }
        if let Some(v) = accent {
            settings.accent = v;
        }
        if let Some(v) = text_size {
            settings.text_size = v;
        }
        if let Some(v) = status_display {
            settings.status_display = v;
        }
        if let Some(v) = missed_toast {
            settings.missed_toast = v;
        }
        if let Some(v) = popup_notifications {
            settings.popup_notifications = v;
        }
        if let Some(v) = sounds {
            settings.sounds = v;
        }
        if let Some(v) = send_read_receipts {
            settings.send_read_receipts = v;
        }
        settings
    }
}

/// The value of `key` in `map` as a `T`, when present and readable.
fn lenient<T: DeserializeOwned>(map: &serde_json::Map<String, Value>, key: &str) -> Option<T> {
    map.get(key)
        .and_then(|v| serde_json::from_value(v.clone()).ok())
}

impl AccountSettings {
    /// The settings stored as `json` (the `user_settings.settings` text), read leniently: keys
    /// this server does not know are ignored, and a missing or unreadable key (or text that is
    /// not a JSON object at all) takes its default.
    pub fn from_stored(json: &str) -> Self {
        let defaults = Self::default();
        let Ok(Value::Object(map)) = serde_json::from_str::<Value>(json) else {
            return defaults;
        };
        Self {
            theme: lenient(&map, "theme").unwrap_or(defaults.theme),
            accent: lenient::<String>(&map, "accent")
                .and_then(|a| parse_accent(&a))
                .unwrap_or(defaults.accent),
            text_size: lenient(&map, "text_size").unwrap_or(defaults.text_size),
            status_display: lenient(&map, "status_display").unwrap_or(defaults.status_display),
            missed_toast: lenient(&map, "missed_toast").unwrap_or(defaults.missed_toast),
            popup_notifications: lenient(&map, "popup_notifications")
                .unwrap_or(defaults.popup_notifications),
            sounds: lenient(&map, "sounds").unwrap_or(defaults.sounds),
            send_read_receipts: lenient(&map, "send_read_receipts")
                .unwrap_or(defaults.send_read_receipts),
        }
    }

    /// The JSON text to store.
    pub fn to_stored(&self) -> String {
        serde_json::to_string(self).unwrap_or_else(|_| "{}".to_owned())
    }
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    use super::*;

    #[test]
    fn defaults_when_nothing_or_garbage_is_stored() {
        assert_eq!(
            AccountSettings::from_stored("{}"),
            AccountSettings::default()
        );
        assert_eq!(
            AccountSettings::from_stored("not json"),
            AccountSettings::default()
        );
        assert_eq!(
            AccountSettings::from_stored("[1]"),
            AccountSettings::default()
        );
    }

    #[test]
    fn stored_json_is_read_leniently() {
        let s = AccountSettings::from_stored(
            r##"{"theme":"dark","accent":"#ABCDEF","old_key":1,"sounds":"yes","text_size":"huge"}"##,
        );
        assert_eq!(s.theme, Theme::Dark);
        assert_eq!(s.accent, "#abcdef");
        assert!(s.sounds, "unreadable value: default");
        assert_eq!(s.text_size, TextSize::Medium);
        let again = AccountSettings::from_stored(&s.to_stored());
        assert_eq!(again, s);
    }

    #[test]
    fn patches_are_strict() {
        for bad in [
            json!([]),
            json!({"theme": "blue"}),
            json!({"theme": null}),
            json!({"accent": "red"}),
            json!({"accent": "#12345"}),
            json!({"accent": "#12345g"}),
            json!({"sounds": "true"}),
            json!({"volume": 3}),
        ] {
            let err = AccountSettingsPatch::parse(bad.clone()).expect_err(&bad.to_string());
            assert_eq!(err.code(), ErrorCode::InvalidSettings, "{bad}");
        }
        let patch = AccountSettingsPatch::parse(json!({"accent": "#A0B0C0", "sounds": false}))
            .expect("valid");
        let s = patch.apply(AccountSettings::default());
        assert_eq!(s.accent, "#a0b0c0");
        assert!(!s.sounds);
        assert_eq!(s.theme, Theme::System);
        assert!(
            AccountSettingsPatch::parse(json!({}))
                .expect("empty")
                .is_empty()
        );
    }

    #[test]
    fn rest_and_websocket_encodings_agree() {
        use poem_openapi::types::ToJSON;
        let s = AccountSettings::default();
        assert_eq!(s.to_json(), serde_json::to_value(&s).ok());
    }
}
