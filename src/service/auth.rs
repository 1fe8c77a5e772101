//! Accounts and sessions: first-run setup, register, login, refresh-token rotation, logout,
//! and access-token verification.
//!
//! Refresh tokens follow RFC 9700 §4.14.2: each use rotates the token; a rotated token presented
//! again within `refresh_reuse_grace_secs` (two tabs refreshing at once) gets a fresh sibling,
//! after that it counts as theft and the whole family (session) is revoked.

use std::{
    sync::{Arc, Mutex},
    time::{Duration, Instant},
};

use chrono::Utc;
use sea_orm::TransactionTrait;
use uuid::Uuid;

use super::{
    conversations::ConversationService,
    passwords::PasswordHasher,
    tokens::{JwtKeys, constant_time_eq, hash_token, random_token},
    views::UserView,
};
use crate::{
    config::{Config, Registration},
    domain::{DomainError, Password, UserId, Username},
    realtime::Hub,
    store::{Db, tokens, users},
};

/// The display name: the username as typed (only case may differ from the canonical form).
fn display_name(raw: &str) -> &str {
    raw.trim()
}

/// How long a printed setup token stays valid.
pub const SETUP_TOKEN_TTL: Duration = Duration::from_secs(30 * 60);

/// The authenticated caller, from a verified access token.
#[derive(Clone, Debug)]
pub struct AuthUser {
    /// User id.
    pub id: UserId,
    /// Canonical username.
    pub username: String,
    /// Administrator flag.
    pub is_admin: bool,
    /// Session (refresh-token family) id.
    pub session: Uuid,
    /// When the access token expires (Unix seconds).
    pub expires_at: i64,
}

/// Tokens handed out by login, setup and refresh.
#[derive(Clone, Debug)]
pub struct Session {
    /// Access JWT.
    pub access_token: String,
    /// Opaque refresh token (shown once, stored hashed).
    pub refresh_token: String,
    /// Access token lifetime in seconds.
    pub expires_in: u64,
    /// Refresh token lifetime in seconds (cookie Max-Age).
    pub refresh_expires_in: u64,
    /// The account.
    pub user: UserView,
}

struct SetupToken {
    hash: String,
    expires: Instant,
}

/// Account and session use-cases.
#[derive(Clone)]
pub struct AuthService {
    db: Db,
    config: Arc<Config>,
    keys: JwtKeys,
    hasher: PasswordHasher,
    conversations: ConversationService,
    hub: Hub,
    /// Sessions ended here, remembered for one access-token lifetime (their access tokens are
    /// refused). One process only: a later multi-instance issue moves this to Redis.
    revoked: moka::sync::Cache<Uuid, ()>,
    setup: Arc<Mutex<Option<SetupToken>>>,
}

impl AuthService {
    /// Builds the service from the server secret.
    pub fn new(
        db: Db,
        config: Arc<Config>,
        secret: &[u8],
        hasher: PasswordHasher,
        conversations: ConversationService,
        hub: Hub,
    ) -> Self {
        let revoked = moka::sync::Cache::builder()
            .max_capacity(1_000_000)
            .time_to_live(Duration::from_secs(config.auth.access_token_ttl_secs + 60))
            .build();
        Self {
            db,
            config,
            keys: JwtKeys::new(secret),
            hasher,
            conversations,
            hub,
            revoked,
            setup: Arc::new(Mutex::new(None)),
        }
    }

    /// Whether the first admin still has to be created.
    pub async fn setup_required(&self) -> Result<bool, DomainError> {
        Ok(!users::any(&self.db.read).await?)
    }

    /// When setup is required, makes a new single-use setup token (valid 30 minutes) and
    /// returns it; the previous one stops working.
    pub async fn new_setup_token(&self) -> Result<Option<String>, DomainError> {
        if !self.setup_required().await? {
            return Ok(None);
        }
        let token = random_token();
        let mut slot = self
            .setup
            .lock()
            .map_err(|_| anyhow::anyhow!("setup lock poisoned"))?;
        *slot = Some(SetupToken {
            hash: hash_token(&token),
            expires: Instant::now() + SETUP_TOKEN_TTL,
        });
        Ok(Some(token))
    }

    /// Creates the first (admin) account with the printed token. Errors: 409 `already_set_up`,
    /// 403 `invalid_setup_token` (wrong, used or expired), 422 for bad username/password.
    pub async fn setup(
        &self,
        token: &str,
        username: &str,
        password: String,
    ) -> Result<Session, DomainError> {
        let raw_name = username;
        if !self.setup_required().await? {
            return Err(DomainError::conflict(
                "already_set_up",
                "the admin account already exists",
            ));
        }
        let username = Username::parse(username)?;
        let password = Password::parse(password)?;
        {
            let mut slot = self
                .setup
                .lock()
                .map_err(|_| anyhow::anyhow!("setup lock poisoned"))?;
            let valid = slot.as_ref().is_some_and(|s| {
                s.expires > Instant::now() && constant_time_eq(&s.hash, &hash_token(token))
            });
            if !valid {
                return Err(DomainError::forbidden(
                    "invalid_setup_token",
                    "the setup token is wrong, used or expired",
                ));
            }
            *slot = None;
        }
        let created = self
            .create_user(&username, display_name(raw_name), &password, None, true)
            .await;
        let user = match created {
            Ok(user) => user,
            Err(err) => {
                // Nothing was created: the printed link stays usable.
                if let Ok(mut slot) = self.setup.lock() {
                    *slot = Some(SetupToken {
                        hash: hash_token(token),
                        expires: Instant::now() + SETUP_TOKEN_TTL,
                    });
                }
                return Err(err);
            }
        };
        self.issue(&user, None).await
    }

    /// Registers an account (policy `open`). Errors: 403 `setup_required`,
    /// 403 `registration_closed`, 409 `username_taken`, 422 invalid input.
    pub async fn register(
        &self,
        username: &str,
        password: String,
        email: Option<String>,
    ) -> Result<UserView, DomainError> {
        let raw = username;
        if self.setup_required().await? {
            return Err(DomainError::forbidden(
                "setup_required",
                "the admin account must be created first",
            ));
        }
        if self.config.registration == Registration::Closed {
            return Err(DomainError::forbidden(
                "registration_closed",
                "registration is closed on this server",
            ));
        }
        let username = Username::parse(username)?;
        let password = Password::parse(password)?;
        let email = email.map(|e| e.trim().to_owned()).filter(|e| !e.is_empty());
        if email.as_ref().is_some_and(|e| {
            e.len() > 254 || !e.contains('@') || !crate::domain::no_control_chars(e)
        }) {
            return Err(DomainError::invalid(
                "invalid_email",
                "email must look like name@example.com",
            ));
        }
        self.create_user(&username, display_name(raw), &password, email, false)
            .await
    }

    async fn create_user(
        &self,
        username: &Username,
        display_name: &str,
        password: &Password,
        email: Option<String>,
        is_admin: bool,
    ) -> Result<UserView, DomainError> {
        if users::by_username(&self.db.read, username.as_str())
            .await?
            .is_some()
        {
            return Err(DomainError::conflict(
                "username_taken",
                "that username is taken",
            ));
        }
        let password_hash = self.hasher.hash(password).await?;
        let now = Utc::now();
        let row = users::insert(
            &self.db.write,
            users::NewUser {
                username: username.as_str(),
                display_name,
                password_hash,
                email,
                is_admin,
                now,
            },
        )
        .await?;
        let user = UserView::from(&row);
        self.conversations.auto_join(&user).await?;
        Ok(user)
    }

    /// Checks credentials. Unknown user and wrong password give the same 401 `invalid_credentials`
    /// and take the same time.
    pub async fn login(&self, username: &str, password: &str) -> Result<Session, DomainError> {
        let user = match Username::parse(username) {
            Ok(name) => users::by_username(&self.db.read, name.as_str()).await?,
            Err(_) => None,
        };
        let ok = self
            .hasher
            .verify(password, user.as_ref().map(|u| u.password_hash.as_str()))
            .await?;
        match user {
            Some(user) if ok => self.issue(&UserView::from(&user), None).await,
            _ => Err(DomainError::Unauthorized(
                "invalid_credentials",
                "wrong username or password".into(),
            )),
        }
    }

    /// Rotates a refresh token. Errors: 401 `invalid_refresh_token`.
    pub async fn refresh(&self, refresh_token: &str) -> Result<Session, DomainError> {
        let invalid = || {
            DomainError::Unauthorized(
                "invalid_refresh_token",
                "the refresh token is invalid or expired".into(),
            )
        };
        let now = Utc::now();
        let row = tokens::by_hash(&self.db.write, &hash_token(refresh_token))
            .await?
            .ok_or_else(invalid)?;
        if row.revoked_at.is_some()
            || row.expires_at <= now
            || tokens::family_revoked(&self.db.write, row.family_id).await?
        {
            return Err(invalid());
        }
        if !tokens::mark_used(&self.db.write, row.id, now).await? {
            let used = tokens::by_hash(&self.db.write, &row.token_hash)
                .await?
                .and_then(|r| r.used_at);
            let grace = chrono::Duration::seconds(
                i64::try_from(self.config.auth.refresh_reuse_grace_secs).unwrap_or(0),
            );
            if used.is_none_or(|used| now - used > grace) {
                tracing::warn!(family = %row.family_id, user = %row.user_id, "refresh token reuse detected; revoking the session");
                self.end_session(row.family_id).await?;
                return Err(invalid());
            }
        }
        let user = users::by_id(&self.db.read, row.user_id)
            .await?
            .ok_or_else(invalid)?;
        self.issue(&UserView::from(&user), Some(row.family_id))
            .await
    }

    /// Revokes the session of `refresh_token` (if any). Always succeeds.
    pub async fn logout(&self, refresh_token: Option<&str>) -> Result<(), DomainError> {
        if let Some(token) = refresh_token
            && let Some(row) = tokens::by_hash(&self.db.write, &hash_token(token)).await?
        {
            self.end_session(row.family_id).await?;
        }
        Ok(())
    }

    /// Revokes a session everywhere: its refresh tokens (database), its access tokens (this
    /// process remembers the session as revoked for one access-token lifetime), and its open
    /// WebSockets (closed with 1008).
    /// Revokes a session everywhere: its refresh tokens (database), its access tokens (this
    /// process remembers the session as ended for one access-token lifetime), and its open
    /// WebSockets (closed with 1008).
    async fn end_session(&self, family: Uuid) -> Result<(), DomainError> {
        tokens::revoke_family(&self.db.write, family, Utc::now()).await?;
        self.revoked.insert(family, ());
        self.hub.close_session(family);
        Ok(())
    }

    /// Verifies an access token and that its session was not ended. Errors: 401 `unauthorized`.
    pub fn authenticate(&self, access_token: &str) -> Result<AuthUser, DomainError> {
        let claims = self.keys.verify(access_token)?;
        if self.revoked.contains_key(&claims.sid) {
            return Err(DomainError::Unauthorized(
                "unauthorized",
                "this session has ended".into(),
            ));
        }
        Ok(AuthUser {
            id: UserId(claims.sub),
            username: claims.name,
            is_admin: claims.adm,
            session: claims.sid,
            expires_at: claims.exp,
        })
    }

    /// The caller's account. Errors: 401 when it was deleted.
    pub async fn me(&self, user: &AuthUser) -> Result<UserView, DomainError> {
        let row = users::by_id(&self.db.read, user.id.0)
            .await?
            .ok_or_else(|| {
                DomainError::Unauthorized("unauthorized", "the account no longer exists".into())
            })?;
        Ok(UserView::from(&row))
    }

    async fn issue(&self, user: &UserView, family: Option<Uuid>) -> Result<Session, DomainError> {
        let auth = &self.config.auth;
        let family = family.unwrap_or_else(Uuid::now_v7);
        let refresh_token = random_token();
        let now = Utc::now();
        let ttl = chrono::Duration::seconds(
            i64::try_from(auth.refresh_token_ttl_secs).unwrap_or(2_592_000),
        );
        let txn = self.db.write.begin().await?;
        tokens::insert(
            &txn,
            family,
            user.id,
            hash_token(&refresh_token),
            now,
            now + ttl,
        )
        .await?;
        txn.commit().await?;
        let access_token = self.keys.issue(
            user.id,
            family,
            &user.username,
            user.is_admin,
            auth.access_token_ttl_secs,
        )?;
        Ok(Session {
            access_token,
            refresh_token,
            expires_in: auth.access_token_ttl_secs,
            refresh_expires_in: auth.refresh_token_ttl_secs,
            user: user.clone(),
        })
    }
}
