//! Account recovery: password reset by an e-mailed single-use link, optionally guarded by a
//! recovery PIN, and e-mail address verification.
//!
//! - `request_reset` always answers the same and in the same time, whether or not the account
//!   exists (no account enumeration): the lookup, the token and the mail happen in a background
//!   task after the answer.
//! - Tokens are 256-bit random, stored as SHA-256 hashes, single use, 30 minutes (reset) or
//!   24 hours (verification); a new link ends the previous one. Links carry the token in the
//!   URL fragment (`#token=`), which browsers send to no server and no `Referer`.
//! - When the account has a recovery PIN, the reset needs it too; 5 wrong PINs end the link.
//! - A reset ends every session of the account (reason `password_reset`).

use std::{net::IpAddr, time::Duration};

use chrono::Utc;

use super::{
    limits::{Limit, RateLimits, ip_key},
    passwords::PasswordHasher,
    sessions::end_in,
    settings::SettingsService,
    tokens::{hash_token, random_token},
    uow::UnitOfWork,
};
use crate::{
    domain::{
        Actor, AuditAction, AuditTarget, DomainError, Email, ErrorCode, NewAuditEntry, Password,
        RecoveryPin, SessionEndReason, TokenPurpose, Username,
    },
    mail::{Mail, Mailer},
    store::{
        Db,
        sessions::Which,
        user_tokens,
        users::{self, UserRecord},
    },
};

/// How long a reset link works: 30 minutes.
pub const RESET_TOKEN_TTL: Duration = Duration::from_secs(30 * 60);
/// How long a verification link works: 24 hours.
pub const VERIFY_TOKEN_TTL: Duration = Duration::from_secs(24 * 3600);
/// Wrong PINs that end a reset link: 5.
pub const MAX_PIN_ATTEMPTS: i32 = 5;

fn invalid_token() -> DomainError {
    DomainError::forbidden(
        ErrorCode::InvalidToken,
        "this link is wrong, was already used or has expired: ask for a new one",
    )
}

/// Recovery use-cases. Cheap to clone.
#[derive(Clone)]
pub struct RecoveryService {
    db: Db,
    uow: UnitOfWork,
    hasher: PasswordHasher,
    mailer: Mailer,
    limits: RateLimits,
    /// The server's name in the mails (`general.server_name`, live).
    settings: SettingsService,
}

impl RecoveryService {
    /// Builds the service.
    pub fn new(
        db: Db,
        uow: UnitOfWork,
        hasher: PasswordHasher,
        mailer: Mailer,
        limits: RateLimits,
        settings: SettingsService,
    ) -> Self {
        Self {
            db,
            uow,
            hasher,
            mailer,
            limits,
            settings,
        }
    }

    /// The mailer (for `smtp_configured` and the start-up log).
    pub fn mailer(&self) -> &Mailer {
        &self.mailer
    }

    /// Starts a password reset for the account named by `username_or_email` (a username, or an
    /// e-mail address in any case). Returns at once, the same for every input: the work runs in
    /// the background. `link_base` is the server's public base URL (`https://host:port`); `ip`
    /// is the requester's address, written into the mail. Errors: 429 `rate_limited` per client
    /// address and per identifier (`password_reset_per_ip`, `password_reset_per_account`),
    /// counted whether or not the account exists, so the limit reveals nothing either.
    pub async fn request_reset(
        &self,
        username_or_email: &str,
        link_base: &str,
        ip: Option<IpAddr>,
    ) -> Result<(), DomainError> {
        let identifier = username_or_email.trim().to_owned();
        self.limits
            .check(Limit::PasswordResetIp, &ip_key(ip))
            .await?;
        self.limits
            .check(Limit::PasswordResetAccount, &identifier.to_lowercase())
            .await?;
        let this = self.clone();
        let link_base = link_base.trim_end_matches('/').to_owned();
        tokio::spawn(async move {
            if let Err(err) = this.send_reset(&identifier, &link_base, ip).await {
                tracing::warn!(error = %err, "password reset request failed");
            }
        });
        Ok(())
    }

    /// The account a reset request names, when it can receive mail: an active account with an
    /// e-mail address that is verified when mail goes out over SMTP.
    async fn reset_target(&self, identifier: &str) -> Result<Option<UserRecord>, DomainError> {
        let user = if identifier.contains('@') {
            match Email::parse(identifier) {
                Ok(email) => users::by_email_key(&self.db.read, &email.key()).await?,
                Err(_) => None,
            }
        } else {
            match Username::parse(identifier) {
                Ok(name) => users::by_username(&self.db.read, name.as_str()).await?,
                Err(_) => None,
            }
        };
        let smtp = self.mailer.is_smtp();
        Ok(user.filter(|u| {
            u.is_active() && u.email.is_some() && (!smtp || u.email_verified_at.is_some())
        }))
    }

    async fn send_reset(
        &self,
        identifier: &str,
        link_base: &str,
        ip: Option<IpAddr>,
    ) -> Result<(), DomainError> {
        let Some(user) = self.reset_target(identifier).await? else {
            tracing::info!(
                "password reset asked for an unknown account or one without a usable e-mail address"
            );
            return Ok(());
        };
        let Some(email) = user.email.clone() else {
            return Ok(());
        };
        let token = random_token();
        let delivery = if self.mailer.is_smtp() {
            "smtp"
        } else {
            "spool"
        };
        self.uow
            .run(async |work| {
                let now = work.now();
                user_tokens::insert(
                    work.db(),
                    user.id,
                    TokenPurpose::PasswordReset,
                    hash_token(&token),
                    None,
                    now,
                    now + chrono::Duration::from_std(RESET_TOKEN_TTL).unwrap_or_default(),
                )
                .await?;
                work.record(NewAuditEntry {
                    actor: None,
                    action: AuditAction::PasswordResetRequested,
                    target: Some(AuditTarget::User(user.id)),
                    details: serde_json::json!({"delivery": delivery}),
                    ip,
                })
                .await
            })
            .await?;
        let pin_line = if user.recovery_pin_hash.is_some() {
            "You set a recovery PIN: you will need it too.\n\n"
        } else {
            ""
        };
        let from = ip.map_or_else(String::new, |ip| format!(" from {ip}"));
        let server = self.settings.current().server_name.clone();
        self.mailer.send_later(
            Mail {
                to: email,
                to_name: Some(user.display_name.clone()),
                subject: format!("Reset your {server} password"),
                body: format!(
                    "Someone{from} asked to reset the password of the {server} account \"{name}\".\n\n\
                     To choose a new password, open this link within 30 minutes:\n\n\
                     {link_base}/reset-password#token={token}\n\n\
                     {pin_line}\
                     The link works once. If you did not ask for it, ignore this message: your \
                     password stays as it is.\n",
                    name = user.username,
                ),
            },
            "password reset",
        );
        Ok(())
    }

    /// Sets a new password with a reset link's token (and the recovery PIN when the account has
    /// one), then ends every session of the account. Errors: 422 `invalid_password`; 403
    /// `invalid_token` (wrong, used, expired, or ended by 5 wrong PINs); 403 `invalid_pin`
    /// (missing or wrong PIN; the message says how many tries are left); 429 `rate_limited`
    /// (`pin_attempts_per_account`, whatever link is used).
    pub async fn confirm_reset(
        &self,
        token: &str,
        new_password: String,
        pin: Option<&str>,
        ip: Option<IpAddr>,
    ) -> Result<(), DomainError> {
        let password = Password::parse(new_password)?;
        let now = Utc::now();
        let row = user_tokens::by_hash(
            &self.db.write,
            TokenPurpose::PasswordReset,
            &hash_token(token),
        )
        .await?
        .filter(|t| t.used_at.is_none() && t.expires_at > now)
        .ok_or_else(invalid_token)?;
        let user = users::by_id(&self.db.read, row.user_id)
            .await?
            .filter(UserRecord::is_active)
            .ok_or_else(invalid_token)?;
        if let Some(pin_hash) = &user.recovery_pin_hash {
            self.limits
                .check(Limit::PinAttempt, &user.id.to_string())
                .await?;
            let given = pin.unwrap_or_default();
            if !self.hasher.verify(given, Some(pin_hash)).await? {
                let attempts =
                    user_tokens::fail_attempt(&self.db.write, &row, MAX_PIN_ATTEMPTS, now).await?;
                self.uow
                    .run(async |work| {
                        work.record(NewAuditEntry {
                            actor: None,
                            action: AuditAction::RecoveryPinFailed,
                            target: Some(AuditTarget::User(user.id)),
                            details: serde_json::json!({"attempts": attempts}),
                            ip,
                        })
                        .await
                    })
                    .await?;
                let left = MAX_PIN_ATTEMPTS - attempts;
                return Err(if left <= 0 {
                    invalid_token()
                } else if pin.is_none() {
                    DomainError::forbidden(
                        ErrorCode::InvalidPin,
                        "this account has a recovery PIN: enter it too",
                    )
                } else {
                    DomainError::forbidden(
                        ErrorCode::InvalidPin,
                        format!("wrong recovery PIN ({left} tries left for this link)"),
                    )
                });
            }
        }
        let hash = self.hasher.hash(&password).await?;
        self.uow
            .run(async |work| {
                if !user_tokens::consume(work.db(), row.id, work.now()).await? {
                    return Err(invalid_token());
                }
                users::set_password_hash(work.db(), user.id, hash).await?;
                end_in(
                    work,
                    user.id,
                    Which::All,
                    SessionEndReason::PasswordReset,
                    None,
                    ip,
                )
                .await?;
                work.record(NewAuditEntry {
                    actor: None,
                    action: AuditAction::PasswordReset,
                    target: Some(AuditTarget::User(user.id)),
                    details: serde_json::json!({"username": user.username}),
                    ip,
                })
                .await
            })
            .await
    }

    /// Sets (`Some`) or removes (`None`) the caller's recovery PIN, confirmed by the password.
    /// Errors: 403 `invalid_credentials` (wrong password), 422 `invalid_pin_format`.
    pub async fn set_pin(
        &self,
        actor: &Actor,
        password: &str,
        pin: Option<&str>,
    ) -> Result<(), DomainError> {
        let pin = pin.map(RecoveryPin::parse).transpose()?;
        let account = super::active_account(&self.db.read, actor.user).await?;
        if !self
            .hasher
            .verify(password, Some(&account.password_hash))
            .await?
        {
            return Err(DomainError::forbidden(
                ErrorCode::InvalidCredentials,
                "the password is wrong",
            ));
        }
        let hash = match &pin {
            Some(pin) => Some(self.hasher.hash_pin(pin).await?),
            None => None,
        };
        let set = hash.is_some();
        self.uow
            .run(async |work| {
                users::set_recovery_pin_hash(work.db(), actor.user, hash).await?;
                work.audit(
                    Some(actor),
                    AuditAction::RecoveryPinChanged,
                    Some(AuditTarget::User(actor.user)),
                    serde_json::json!({"set": set}),
                )
                .await
            })
            .await
    }

    /// Sends a verification link to `email` for `user` (background; SMTP only: without SMTP
    /// addresses are not verified).
    pub async fn send_verification(
        &self,
        user: &UserRecord,
        email: &Email,
        link_base: &str,
    ) -> Result<(), DomainError> {
        if !self.mailer.is_smtp() {
            return Ok(());
        }
        let token = random_token();
        let now = Utc::now();
        user_tokens::insert(
            &self.db.write,
            user.id,
            TokenPurpose::EmailVerify,
            hash_token(&token),
            Some(email.as_str().to_owned()),
            now,
            now + chrono::Duration::from_std(VERIFY_TOKEN_TTL).unwrap_or_default(),
        )
        .await?;
        let server = self.settings.current().server_name.clone();
        self.mailer.send_later(
            Mail {
                to: email.as_str().to_owned(),
                to_name: Some(user.display_name.clone()),
                subject: format!("Confirm your e-mail address for {server}"),
                body: format!(
                    "To confirm that this address belongs to the {server} account \"{name}\", open \
                     this link within 24 hours:\n\n{base}/verify-email#token={token}\n\n\
                     If you did not add this address, ignore this message.\n",
                    name = user.username,
                    base = link_base.trim_end_matches('/'),
                ),
            },
            "e-mail verification",
        );
        Ok(())
    }

    /// Confirms an e-mail address with a verification link's token. Errors: 403
    /// `invalid_token` (wrong, used, expired, or the account's address changed since).
    pub async fn verify_email(&self, token: &str) -> Result<(), DomainError> {
        let now = Utc::now();
        let row = user_tokens::by_hash(
            &self.db.write,
            TokenPurpose::EmailVerify,
            &hash_token(token),
        )
        .await?
        .filter(|t| t.used_at.is_none() && t.expires_at > now)
        .ok_or_else(invalid_token)?;
        let email = row.email.clone().ok_or_else(invalid_token)?;
        self.uow
            .run(async |work| {
                if !user_tokens::consume(work.db(), row.id, work.now()).await?
                    || !users::mark_email_verified(work.db(), row.user_id, &email, work.now())
                        .await?
                {
                    return Err(invalid_token());
                }
                work.record(NewAuditEntry {
                    actor: Some(row.user_id),
                    action: AuditAction::EmailVerified,
                    target: Some(AuditTarget::User(row.user_id)),
                    details: serde_json::json!({"email": email}),
                    ip: None,
                })
                .await
            })
            .await
    }
}
