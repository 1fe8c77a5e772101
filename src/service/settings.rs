//! Live settings and invite links: what an administrator changes at run time, without a restart.
//!
//! The configuration file gives each setting its default; a row in `settings` overrides it. The
//! effective values live in memory ([`SettingsService::current`], one read lock and an `Arc`
//! clone) and every consumer reads them from there on each use: registration (auth), the
//! invisible presence (presence), the rate limits ([`RateLimits::reconfigure`]), the pending-caps
//! (conversations, friends), the public server facts (`GET /server`, `ready.server`).
//!
//! A change (`PATCH /admin/settings`, `DELETE /admin/settings/{key}`) is validated as a whole
//! before anything is written, stored and audited (`settings.changed`, old and new values) in one
//! transaction, and published as [`Event::SettingsChanged`]. This instance re-reads the table
//! right after the commit; every instance also re-reads it when the event arrives on the bus
//! ([`SettingsService::spawn_listener`]), so several instances converge once the bus spans them.
//!
//! Keys: `general.server_name` (string, 1–64 characters), `general.motd` (string, 0–1000
//! characters), `general.registration` (`open`, `invite_only`, `closed`),
//! `presence.allow_invisible` (bool), and `limits.<name>` for every entry of `[limits]`: a rate
//! `{count, per_secs, burst}` or a whole number (the caps and `friend_requests_per_minute`).

use std::{
    collections::BTreeMap,
    sync::{Arc, RwLock},
};

use chrono::{DateTime, Utc};
use serde::Deserialize;
use serde_json::{Value, json};

use super::{
    access::Access,
    limits::RateLimits,
    uow::{UnitOfWork, Work},
};
use crate::{
    config::{Config, LimitsConfig, Registration},
    domain::{
        Actor, AuditAction, DomainError, ErrorCode, Permission, RegistrationMode, Scope,
        ServerInfo, Timestamp, UserId,
    },
    events::{Event, Subscription},
    store::{
        Db,
        settings::{self, InviteRow, SettingRow},
    },
};

/// Longest server name, in characters.
pub const SERVER_NAME_MAX_CHARS: usize = 64;
/// Longest message of the day, in characters.
pub const MOTD_MAX_CHARS: usize = 1000;
/// Largest `count` or `burst` of a rate, and largest whole-number limit.
pub const LIMIT_MAX: u64 = 1_000_000;
/// Longest period of a rate, in seconds (one year).
pub const PER_SECS_MAX: u64 = 365 * 24 * 3600;
/// Most uses one invite link may allow.
pub const INVITE_MAX_USES: u32 = 1_000_000;
/// Shortest and longest lifetime of an invite link, in seconds (one minute … one year).
pub const INVITE_EXPIRY_SECS: std::ops::RangeInclusive<u64> = 60..=365 * 24 * 3600;
/// Most invite links `GET /admin/invites` lists (the newest).
pub const INVITES_LISTED: u64 = 200;
/// Random bytes in an invite code (144 bits; 24 URL-safe base64 characters).
const INVITE_CODE_BYTES: usize = 18;
/// Longest invite code looked up (longer ones are wrong without asking the database).
const INVITE_CODE_MAX_BYTES: usize = 64;

/// The effective value of every live setting.
#[derive(Clone, Debug)]
pub struct LiveSettings {
    /// `general.server_name`.
    pub server_name: String,
    /// `general.motd` (empty: none).
    pub motd: String,
    /// `general.registration`.
    pub registration: RegistrationMode,
    /// `presence.allow_invisible`.
    pub allow_invisible: bool,
    /// `limits.*`.
    pub limits: LimitsConfig,
}

impl LiveSettings {
    /// The public server facts (`GET /server`).
    pub fn server(&self) -> ServerInfo {
        ServerInfo {
            name: self.server_name.clone(),
            motd: self.motd.clone(),
            registration: self.registration,
        }
    }

    /// The settings from the effective value of every key. Errors: a key missing or of the wrong
    /// shape (the message says which).
    fn from_values(values: &BTreeMap<String, Value>) -> Result<Self, String> {
        let text = |key: &str| {
            values
                .get(key)
                .and_then(Value::as_str)
                .map(str::to_owned)
                .ok_or_else(|| format!("{key} is missing"))
        };
        let registration = text("general.registration")?
            .parse::<RegistrationMode>()
            .map_err(|e| e.to_string())?;
        let allow_invisible = values
            .get("presence.allow_invisible")
            .and_then(Value::as_bool)
            .ok_or("presence.allow_invisible is missing")?;
        let limits: serde_json::Map<String, Value> = values
            .iter()
            .filter_map(|(k, v)| Some((k.strip_prefix("limits.")?.to_owned(), v.clone())))
            .collect();
        let limits: LimitsConfig =
            serde_json::from_value(Value::Object(limits)).map_err(|e| e.to_string())?;
        Ok(Self {
            server_name: text("general.server_name")?,
            motd: text("general.motd")?,
            registration,
            allow_invisible,
            limits,
        })
    }
}

/// One setting as `GET /admin/settings` lists it.
#[derive(Clone, Debug)]
pub struct Setting {
    /// The key.
    pub key: String,
    /// The effective value.
    pub value: Value,
    /// The configuration file's value.
    pub default: Value,
    /// Whether an administrator set it (a stored value overrides the default).
    pub changed: bool,
    /// When it was set (`None`: never).
    pub updated_at: Option<Timestamp>,
    /// Who set it (`None`: never, or that account is gone).
    pub updated_by: Option<UserId>,
}

/// One invite link.
#[derive(Clone, Debug)]
pub struct Invite {
    /// The code, as the link carries it (`/register?invite=CODE`).
    pub code: String,
    /// Most accounts it may create (`None`: unlimited).
    pub max_uses: Option<u32>,
    /// Accounts created with it so far.
    pub uses: u32,
    /// When it stops working (`None`: never).
    pub expires_at: Option<Timestamp>,
    /// Who made it.
    pub created_by: Option<UserId>,
    /// When.
    pub created_at: Timestamp,
    /// When it was revoked (`None`: not revoked).
    pub revoked_at: Option<Timestamp>,
    /// Whether it can create an account now (not revoked, not expired, uses left).
    pub usable: bool,
}

impl Invite {
    fn of(row: InviteRow, now: DateTime<Utc>) -> Self {
        let usable = row.revoked_at.is_none()
            && row.expires_at.is_none_or(|e| e > now)
            && row.max_uses.is_none_or(|m| row.uses < m);
        Self {
            code: row.code,
            max_uses: row.max_uses,
            uses: row.uses,
            expires_at: row.expires_at.map(Timestamp),
            created_by: row.created_by,
            created_at: Timestamp(row.created_at),
            revoked_at: row.revoked_at.map(Timestamp),
            usable,
        }
    }
}

/// What is in memory: the effective settings and the stored rows they came from.
struct Snapshot {
    live: Arc<LiveSettings>,
    rows: BTreeMap<String, SettingRow>,
}

struct Inner {
    db: Db,
    uow: UnitOfWork,
    access: Access,
    limits: RateLimits,
    /// The configuration file's value of every key.
    defaults: BTreeMap<String, Value>,
    current: RwLock<Arc<Snapshot>>,
    /// One reload at a time, so that an older read never replaces a newer one.
    reloading: tokio::sync::Mutex<()>,
}

/// Live settings and invite links. Cheap to clone (shared).
#[derive(Clone)]
pub struct SettingsService {
    inner: Arc<Inner>,
}

/// The configuration file's value of every key.
fn defaults(config: &Config) -> BTreeMap<String, Value> {
    let registration = match config.registration {
        Registration::Open => RegistrationMode::Open,
        Registration::InviteOnly => RegistrationMode::InviteOnly,
        Registration::Closed => RegistrationMode::Closed,
    };
    let mut out = BTreeMap::from([
        ("general.server_name".to_owned(), json!(config.server_name)),
        ("general.motd".to_owned(), json!(config.motd)),
        ("general.registration".to_owned(), json!(registration)),
        (
            "presence.allow_invisible".to_owned(),
            json!(config.presence.allow_invisible),
        ),
    ]);
    if let Ok(Value::Object(limits)) = serde_json::to_value(&config.limits) {
        for (name, value) in limits {
            out.insert(format!("limits.{name}"), value);
        }
    }
    out
}

fn invalid(key: &str, why: impl std::fmt::Display) -> DomainError {
    DomainError::invalid(ErrorCode::InvalidSetting, format!("{key}: {why}"))
}

/// A rate as given: exactly these three whole numbers.
#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RateInput {
    count: u64,
    per_secs: u64,
    burst: u64,
}

/// `value` checked against the rules of `key` (whose configuration value is `default`), in its
/// stored form (texts trimmed). Errors: 422 `invalid_setting` naming the key.
fn validate(key: &str, default: &Value, value: &Value) -> Result<Value, DomainError> {
    let text = |max: usize, min: usize| -> Result<Value, DomainError> {
        let Some(text) = value.as_str() else {
            return Err(invalid(key, "must be a string"));
        };
        let text = text.trim();
        let chars = text.chars().count();
        if chars < min || chars > max {
            return Err(invalid(key, format!("must be {min}–{max} characters")));
        }
        Ok(json!(text))
    };
    match key {
        "general.server_name" => {
            let value = text(SERVER_NAME_MAX_CHARS, 1)?;
            if value
                .as_str()
                .is_some_and(|t| t.chars().any(char::is_control))
            {
                return Err(invalid(key, "must not contain control characters"));
            }
            Ok(value)
        }
        "general.motd" => {
            let value = text(MOTD_MAX_CHARS, 0)?;
            if value
                .as_str()
                .is_some_and(|t| t.chars().any(|c| c.is_control() && c != '\n'))
            {
                return Err(invalid(
                    key,
                    "must not contain control characters (newlines are allowed)",
                ));
            }
            Ok(value)
        }
        "general.registration" => value
            .as_str()
            .and_then(|t| t.parse::<RegistrationMode>().ok())
            .map(|mode| json!(mode))
            .ok_or_else(|| invalid(key, "must be \"open\", \"invite_only\" or \"closed\"")),
        "presence.allow_invisible" => value
            .as_bool()
            .map(Value::Bool)
            .ok_or_else(|| invalid(key, "must be true or false")),
        _ if key.starts_with("limits.") && default.is_object() => {
            let rate = RateInput::deserialize(value).map_err(|_| {
                invalid(
                    key,
                    "must be {\"count\", \"per_secs\", \"burst\"} with whole numbers",
                )
            })?;
            if rate.count > LIMIT_MAX || rate.burst > LIMIT_MAX {
                return Err(invalid(
                    key,
                    format!("count and burst must be 0–{LIMIT_MAX}"),
                ));
            }
            if rate.count > 0 && rate.burst == 0 {
                return Err(invalid(key, "burst must be at least 1"));
            }
            if !(1..=PER_SECS_MAX).contains(&rate.per_secs) {
                return Err(invalid(key, format!("per_secs must be 1–{PER_SECS_MAX}")));
            }
            Ok(json!({"count": rate.count, "per_secs": rate.per_secs, "burst": rate.burst}))
        }
        _ if key.starts_with("limits.") && default.is_u64() => value
            .as_u64()
            .filter(|n| *n <= LIMIT_MAX)
            .map(|n| json!(n))
            .ok_or_else(|| invalid(key, format!("must be a whole number 0–{LIMIT_MAX}"))),
        _ => Err(invalid(key, "no such setting")),
    }
}

impl SettingsService {
    /// Loads the settings: `config` gives the defaults, the `settings` table overrides them (a
    /// stored value that is unknown or invalid is ignored with a warning). Applies the limits to
    /// `limits`. Errors: the database.
    pub async fn load(
        db: Db,
        uow: UnitOfWork,
        access: Access,
        config: &Config,
        limits: RateLimits,
    ) -> Result<Self, DomainError> {
        let defaults = defaults(config);
        let live = LiveSettings::from_values(&defaults).map_err(DomainError::internal)?;
        let service = Self {
            inner: Arc::new(Inner {
                db,
                uow,
                access,
                limits,
                defaults,
                current: RwLock::new(Arc::new(Snapshot {
                    live: Arc::new(live),
                    rows: BTreeMap::new(),
                })),
                reloading: tokio::sync::Mutex::new(()),
            }),
        };
        service.reload().await?;
        Ok(service)
    }

    fn snapshot(&self) -> Arc<Snapshot> {
        self.inner
            .current
            .read()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
            .clone()
    }

    /// The effective settings now.
    pub fn current(&self) -> Arc<LiveSettings> {
        self.snapshot().live.clone()
    }

    /// The public server facts now (`GET /server`, no login needed).
    pub fn server(&self) -> ServerInfo {
        self.current().server()
    }

    /// Re-reads the `settings` table and applies it (also to the rate limits). Rows with an
    /// unknown key or an invalid value are ignored with a warning. Errors: the database.
    pub async fn reload(&self) -> Result<(), DomainError> {
        let _one_at_a_time = self.inner.reloading.lock().await;
        let stored = settings::all(&self.inner.db.read).await?;
        let mut values = self.inner.defaults.clone();
        let mut rows = BTreeMap::new();
        for row in stored {
            let Some(default) = self.inner.defaults.get(&row.key) else {
                tracing::warn!(key = %row.key, "ignoring a stored setting this server does not know");
                continue;
            };
            match validate(&row.key, default, &row.value) {
                Ok(value) => {
                    values.insert(row.key.clone(), value);
                    rows.insert(row.key.clone(), row);
                }
                Err(err) => {
                    tracing::warn!(key = %row.key, error = %err, "ignoring an invalid stored setting");
                }
            }
        }
        let live = LiveSettings::from_values(&values).map_err(DomainError::internal)?;
        self.inner.limits.reconfigure(&live.limits);
        *self
            .inner
            .current
            .write()
            .unwrap_or_else(std::sync::PoisonError::into_inner) = Arc::new(Snapshot {
            live: Arc::new(live),
            rows,
        });
        Ok(())
    }

    /// Spawns the task that re-reads the settings whenever a [`Event::SettingsChanged`] arrives
    /// on `events` (from this instance or another one), until the bus is gone.
    pub fn spawn_listener(&self, mut events: Subscription) -> tokio::task::JoinHandle<()> {
        let service = self.clone();
        tokio::spawn(async move {
            while let Some(event) = events.recv().await {
                if matches!(
                    *event,
                    Event::SettingsChanged { .. } | Event::BusInterrupted { .. }
                ) && let Err(err) = service.reload().await
                {
                    tracing::error!(error = %err, "cannot re-read the live settings");
                }
            }
        })
    }

    fn listing(&self) -> Vec<Setting> {
        let snapshot = self.snapshot();
        self.inner
            .defaults
            .iter()
            .map(|(key, default)| {
                let row = snapshot.rows.get(key);
                Setting {
                    key: key.clone(),
                    value: row.map_or_else(|| default.clone(), |r| r.value.clone()),
                    default: default.clone(),
                    changed: row.is_some(),
                    updated_at: row.map(|r| Timestamp(r.updated_at)),
                    updated_by: row.and_then(|r| r.updated_by),
                }
            })
            .collect()
    }

    /// Every setting with its value, default and whether it was changed, by key.
    /// Errors: 403 `permission_denied` (needs `settings.manage`).
    pub async fn list(&self, actor: &Actor) -> Result<Vec<Setting>, DomainError> {
        self.inner
            .access
            .require(actor, Permission::SettingsManage, Scope::Server)
            .await?;
        Ok(self.listing())
    }

    /// Sets several settings at once; they apply at once (no restart). All or nothing: any bad
    /// key or value and nothing changes. Audited as `settings.changed` with the old and new
    /// values. Errors: 403 `permission_denied` (needs `settings.manage`), 422 `invalid_setting`
    /// naming the key (unknown key, wrong type, out of range).
    pub async fn update(
        &self,
        actor: &Actor,
        changes: BTreeMap<String, Value>,
    ) -> Result<Vec<Setting>, DomainError> {
        self.inner
            .access
            .require(actor, Permission::SettingsManage, Scope::Server)
            .await?;
        let mut checked = BTreeMap::new();
        for (key, value) in &changes {
            let Some(default) = self.inner.defaults.get(key) else {
                return Err(invalid(key, "no such setting"));
            };
            checked.insert(key.clone(), validate(key, default, value)?);
        }
        if checked.is_empty() {
            return Ok(self.listing());
        }
        self.write(actor, checked, Vec::new()).await?;
        Ok(self.listing())
    }

    /// Sets `key` back to the configuration file's value (a no-op when it was not changed).
    /// Audited as `settings.changed` (`details.reset`). Errors: 403 `permission_denied` (needs
    /// `settings.manage`), 422 `invalid_setting` (no such key).
    pub async fn reset(&self, actor: &Actor, key: &str) -> Result<Vec<Setting>, DomainError> {
        self.inner
            .access
            .require(actor, Permission::SettingsManage, Scope::Server)
            .await?;
        if !self.inner.defaults.contains_key(key) {
            return Err(invalid(key, "no such setting"));
        }
        self.write(actor, BTreeMap::new(), vec![key.to_owned()])
            .await?;
        Ok(self.listing())
    }

    /// Stores `set` and removes `reset` in one unit of work with its audit entry and event, then
    /// re-reads the settings.
    async fn write(
        &self,
        actor: &Actor,
        set: BTreeMap<String, Value>,
        reset: Vec<String>,
    ) -> Result<(), DomainError> {
        let defaults = &self.inner.defaults;
        let changed = self
            .inner
            .uow
            .run(async |work: &mut Work| {
                let stored: BTreeMap<String, Value> = settings::all(work.db())
                    .await?
                    .into_iter()
                    // As `reload` does: a stored row this server does not accept is ignored.
                    .filter(|r| {
                        defaults
                            .get(&r.key)
                            .is_some_and(|d| validate(&r.key, d, &r.value).is_ok())
                    })
                    .map(|r| (r.key, r.value))
                    .collect();
                let effective = |key: &str| {
                    stored
                        .get(key)
                        .or_else(|| defaults.get(key))
                        .cloned()
                        .unwrap_or(Value::Null)
                };
                let mut after: BTreeMap<String, Value> = defaults.clone();
                after.extend(stored.clone());
                let mut changes = serde_json::Map::new();
                let mut reset_keys = Vec::new();
                for (key, value) in &set {
                    // Setting a key to what it already holds changes nothing (and is not
                    // audited); setting an unchanged key, even to its default, stores it.
                    if stored.get(key) == Some(value) {
                        continue;
                    }
                    settings::put(work.db(), key, value, actor.user, work.now()).await?;
                    changes.insert(key.clone(), json!({"old": effective(key), "new": value}));
                    after.insert(key.clone(), value.clone());
                }
                for key in &reset {
                    if settings::remove(work.db(), key).await? {
                        let default = defaults.get(key).cloned().unwrap_or(Value::Null);
                        changes.insert(key.clone(), json!({"old": effective(key), "new": default}));
                        after.insert(key.clone(), default);
                        reset_keys.push(key.clone());
                    }
                }
                if changes.is_empty() {
                    return Ok(false);
                }
                let live = LiveSettings::from_values(&after)
                    .map_err(|why| DomainError::invalid(ErrorCode::InvalidSetting, why))?;
                let keys: Vec<String> = changes.keys().cloned().collect();
                work.audit(
                    Some(actor),
                    AuditAction::SettingsChanged,
                    None,
                    json!({"changes": changes, "reset": reset_keys}),
                )
                .await?;
                work.publish(Event::SettingsChanged {
                    server: live.server(),
                    keys,
                });
                Ok(true)
            })
            .await?;
        if changed {
            self.reload().await?;
        }
        Ok(())
    }

    /// Makes an invite link for `registration = invite_only`: usable `max_uses` times (`None`:
    /// unlimited; 1–1,000,000) until `expires_in_secs` from now (`None`: never; 60 s – 1 year).
    /// Audited as `invite.created`. Errors: 403 `permission_denied` (needs `settings.manage`),
    /// 422 `unprocessable_entity` (max_uses), 422 `invalid_duration` (expires_in_secs).
    pub async fn create_invite(
        &self,
        actor: &Actor,
        max_uses: Option<u32>,
        expires_in_secs: Option<u64>,
    ) -> Result<Invite, DomainError> {
        self.inner
            .access
            .require(actor, Permission::SettingsManage, Scope::Server)
            .await?;
        if max_uses.is_some_and(|n| !(1..=INVITE_MAX_USES).contains(&n)) {
            return Err(DomainError::invalid(
                ErrorCode::UnprocessableEntity,
                format!("max_uses must be 1–{INVITE_MAX_USES}"),
            ));
        }
        if expires_in_secs.is_some_and(|s| !INVITE_EXPIRY_SECS.contains(&s)) {
            return Err(DomainError::invalid(
                ErrorCode::InvalidDuration,
                format!(
                    "expires_in_secs must be {}–{}",
                    INVITE_EXPIRY_SECS.start(),
                    INVITE_EXPIRY_SECS.end()
                ),
            ));
        }
        let code = {
            use base64::Engine as _;
            let bytes: [u8; INVITE_CODE_BYTES] = rand::random();
            base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(bytes)
        };
        self.inner
            .uow
            .run(async |work| {
                let now = work.now();
                let expires_at = expires_in_secs
                    .and_then(|s| chrono::Duration::try_seconds(i64::try_from(s).ok()?))
                    .map(|d| now + d);
                let row = InviteRow {
                    code: code.clone(),
                    max_uses,
                    uses: 0,
                    expires_at,
                    created_by: Some(actor.user),
                    created_at: now,
                    revoked_at: None,
                };
                settings::insert_invite(work.db(), &row).await?;
                work.audit(
                    Some(actor),
                    AuditAction::InviteCreated,
                    None,
                    json!({"code": code, "max_uses": max_uses, "expires_at": expires_at.map(Timestamp)}),
                )
                .await?;
                Ok(Invite::of(row, now))
            })
            .await
    }

    /// The newest 200 invite links (revoked and used-up ones too, with `usable`), newest first.
    /// Errors: 403 `permission_denied` (needs `settings.manage`).
    pub async fn invites(&self, actor: &Actor) -> Result<Vec<Invite>, DomainError> {
        self.inner
            .access
            .require(actor, Permission::SettingsManage, Scope::Server)
            .await?;
        let now = Utc::now();
        Ok(settings::invites(&self.inner.db.read, INVITES_LISTED)
            .await?
            .into_iter()
            .map(|row| Invite::of(row, now))
            .collect())
    }

    /// Revokes an invite link: it creates no more accounts (accounts made with it stay).
    /// Revoking a revoked link changes nothing. Audited as `invite.revoked`. Errors: 403
    /// `permission_denied` (needs `settings.manage`), 404 unknown code.
    pub async fn revoke_invite(&self, actor: &Actor, code: &str) -> Result<(), DomainError> {
        self.inner
            .access
            .require(actor, Permission::SettingsManage, Scope::Server)
            .await?;
        self.inner
            .uow
            .run(async |work| {
                let invite = settings::invite(work.db(), code)
                    .await?
                    .ok_or(DomainError::NotFound("invite"))?;
                if settings::revoke_invite(work.db(), code, work.now()).await? {
                    work.audit(
                        Some(actor),
                        AuditAction::InviteRevoked,
                        None,
                        json!({"code": invite.code, "uses": invite.uses}),
                    )
                    .await?;
                }
                Ok(())
            })
            .await
    }

    /// Whether registration needs an invite now, checking a given `invite` early (before the
    /// password is hashed). Errors: 403 `registration_closed`, 403 `invite_required` (none
    /// given), 403 `invalid_invite` (unknown, revoked, expired or used up). Returns the code to
    /// count with [`Self::use_invite`] in the registration's transaction (`None`: open
    /// registration, any invite is ignored).
    pub async fn registration_invite<'a>(
        &self,
        invite: Option<&'a str>,
    ) -> Result<Option<&'a str>, DomainError> {
        match self.current().registration {
            RegistrationMode::Open => Ok(None),
            RegistrationMode::Closed => Err(DomainError::forbidden(
                ErrorCode::RegistrationClosed,
                "registration is closed on this server",
            )),
            RegistrationMode::InviteOnly => {
                let Some(code) = invite.map(str::trim).filter(|c| !c.is_empty()) else {
                    return Err(DomainError::forbidden(
                        ErrorCode::InviteRequired,
                        "registration on this server needs an invite link",
                    ));
                };
                let row = if code.len() <= INVITE_CODE_MAX_BYTES {
                    settings::invite(&self.inner.db.read, code).await?
                } else {
                    None
                };
                let usable = row.is_some_and(|row| Invite::of(row, Utc::now()).usable);
                if !usable {
                    return Err(invalid_invite());
                }
                Ok(Some(code))
            }
        }
    }

    /// Counts one use of `code` inside the registration's unit of work: the use and the account
    /// commit together, and two registrations cannot both take an invite's last use.
    /// Errors: 403 `invalid_invite` (revoked, expired or used up meanwhile).
    pub async fn use_invite(work: &Work, code: &str) -> Result<(), DomainError> {
        if settings::use_invite(work.db(), code, work.now()).await? {
            Ok(())
        } else {
            Err(invalid_invite())
        }
    }
}

fn invalid_invite() -> DomainError {
    DomainError::forbidden(
        ErrorCode::InvalidInvite,
        "this invite link is wrong, revoked, expired or used up",
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    fn defaults_of(config: &Config) -> BTreeMap<String, Value> {
        defaults(config)
    }

    #[test]
    fn the_defaults_make_live_settings_and_every_default_validates() {
        let config = Config::default();
        let values = defaults_of(&config);
        let live = LiveSettings::from_values(&values).expect("defaults");
        assert_eq!(live.server_name, "EchoChat");
        assert_eq!(
            live.limits.messages_per_user,
            config.limits.messages_per_user
        );
        for (key, value) in &values {
            assert_eq!(
                validate(key, value, value).ok().as_ref(),
                Some(value),
                "{key}"
            );
        }
        assert!(values.contains_key("limits.max_pending_friend_requests"));
    }

    #[test]
    fn bad_values_name_the_key() {
        let values = defaults_of(&Config::default());
        let check = |key: &str, value: Value| {
            let default = values.get(key).cloned().unwrap_or(Value::Null);
            validate(key, &default, &value)
        };
        for (key, value) in [
            ("general.server_name", json!("")),
            ("general.server_name", json!("x".repeat(65))),
            ("general.server_name", json!(5)),
            ("general.motd", json!("x".repeat(1001))),
            ("general.motd", json!("a\u{7}b")),
            ("general.registration", json!("sometimes")),
            ("presence.allow_invisible", json!("yes")),
            ("limits.messages_per_user", json!(5)),
            (
                "limits.messages_per_user",
                json!({"count": 1, "per_secs": 0, "burst": 1}),
            ),
            (
                "limits.messages_per_user",
                json!({"count": 1, "per_secs": 1, "burst": 1, "x": 1}),
            ),
            (
                "limits.messages_per_user",
                json!({"count": -1, "per_secs": 1, "burst": 1}),
            ),
            ("limits.max_pending_friend_requests", json!(-1)),
            ("limits.max_pending_friend_requests", json!(1.5)),
            ("limits.nope", json!(1)),
        ] {
            let err = check(key, value.clone()).expect_err(&format!("{key} = {value}"));
            assert_eq!(err.code(), ErrorCode::InvalidSetting);
            assert!(err.to_string().starts_with(key), "{err}");
        }
        assert_eq!(
            check("general.motd", json!("  hi\nthere ")).ok(),
            Some(json!("hi\nthere"))
        );
    }
}
