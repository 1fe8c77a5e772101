//! Accounts and sessions: first-run setup, register, login, refresh-token rotation, logout,
//! and access-token verification.
//!
//! Refresh tokens follow RFC 9700 §4.14.2: each use rotates the token; a rotated token presented
//! again within `refresh_reuse_grace_secs` (two tabs refreshing at once) gets a fresh sibling,
//! after that it counts as theft and the whole family (session) is revoked.
//!
//! Authentication yields an [`Actor`] (identity only). The access token carries no authority:
//! roles are looked up by the permission function on every check.

use std::{
    sync::{Arc, Mutex},
    time::{Duration, Instant},
};

use chrono::Utc;

use super::{
    access::Access,
    conversations::ConversationService,
    limits::{Limit, RateLimits, ip_key},
    passwords::PasswordHasher,
    sessions::{SessionService, end_in},
    settings::SettingsService,
    tokens::{JwtKeys, constant_time_eq, hash_token, random_token},
    uow::{UnitOfWork, Work},
};
use crate::{
    cluster::setup,
    config::Config,
    domain::{
        Actor, AuditAction, AuditTarget, DomainError, Email, ErrorCode, NewAuditEntry, Password,
        ServerRole, SessionEndReason, SessionId, User, UserId, Username,
    },
    store::{
        Db,
        sessions::{self, Which},
        tokens,
        users::{self, UserRecord},
    },
};

/// How an account comes to be, for its audit entry.
enum Creation<'a> {
    /// The first admin, with the setup token from this address.
    Setup(Option<std::net::IpAddr>),
    /// Self-service registration (not audited).
    Registration,
    /// An administrator (`None`: the command line).
    ByAdmin(Option<&'a Actor>),
}

/// The display name: the username as typed (only case may differ from the canonical form).
fn display_name(raw: &str) -> &str {
    raw.trim()
}

/// How long a printed setup token stays valid.
pub const SETUP_TOKEN_TTL: Duration = Duration::from_secs(30 * 60);

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
    pub user: User,
}

/// Who is logging in, as far as the request tells: the session list shows it.
#[derive(Clone, Debug, Default)]
pub struct ClientInfo {
    /// Client address (the socket peer, or what a trusted proxy forwarded).
    pub ip: Option<std::net::IpAddr>,
    /// The `User-Agent` header, for the device label.
    pub user_agent: Option<String>,
}

struct SetupToken {
    hash: String,
    expires: Instant,
}

/// What [`AuthService::issue`] makes tokens for.
enum Issue<'a> {
    /// A login: a new session from this client.
    NewSession(&'a ClientInfo),
    /// A refresh: new tokens in the same session.
    Rotate(SessionId),
}

/// Account and session use-cases.
#[derive(Clone)]
pub struct AuthService {
    db: Db,
    config: Arc<Config>,
    keys: JwtKeys,
    hasher: PasswordHasher,
    uow: UnitOfWork,
    access: Access,
    conversations: ConversationService,
    sessions: SessionService,
    setup: Arc<Mutex<Option<SetupToken>>>,
    limits: RateLimits,
    /// The registration mode and invite links (live).
    settings: SettingsService,
}

impl AuthService {
    /// Builds the service from the server secret.
    #[expect(
        clippy::too_many_arguments,
        reason = "the service's collaborators, wired once in app.rs"
    )]
    pub fn new(
        db: Db,
        config: Arc<Config>,
        secret: &[u8],
        hasher: PasswordHasher,
        uow: UnitOfWork,
        access: Access,
        conversations: ConversationService,
        sessions: SessionService,
        limits: RateLimits,
        settings: SettingsService,
    ) -> Self {
        Self {
            db,
            config,
            keys: JwtKeys::new(secret),
            hasher,
            uow,
            access,
            conversations,
            sessions,
            setup: Arc::new(Mutex::new(None)),
            limits,
            settings,
        }
    }

    /// Whether the first admin still has to be created.
    pub async fn setup_required(&self) -> Result<bool, DomainError> {
        Ok(!users::any(&self.db.read).await?)
    }

    /// When setup is required, returns the single-use setup token to print (`None` once the
    /// admin exists).
    ///
    /// Without Redis: a new token, valid 30 minutes; the previous one stops working. With Redis
    /// (several instances): the token all instances share (`cluster::setup`), made by whichever
    /// instance asked first and valid 30 minutes from then, so every instance prints the same
    /// link and it works once on any of them. When Redis fails: a token of this process, as
    /// without Redis (it works on this instance only).
    pub async fn new_setup_token(&self) -> Result<Option<String>, DomainError> {
        if !self.setup_required().await? {
            return Ok(None);
        }
        let token = random_token();
        let hash = hash_token(&token);
        if let Some(redis) = self.limits.cluster().redis()
            && let Some(shared) = setup::issue(redis, &token, &hash, SETUP_TOKEN_TTL).await
        {
            return Ok(Some(shared));
        }
        let mut slot = self
            .setup
            .lock()
            .map_err(|_| DomainError::internal("setup lock poisoned"))?;
        *slot = Some(SetupToken {
            hash,
            expires: Instant::now() + SETUP_TOKEN_TTL,
        });
        Ok(Some(token))
    }

    /// Uses this process's setup token if its hash is `hash` and it has not expired: true (and
    /// the token is cleared), else false.
    fn take_local_setup_token(&self, hash: &str) -> Result<bool, DomainError> {
        let mut slot = self
            .setup
            .lock()
            .map_err(|_| DomainError::internal("setup lock poisoned"))?;
        let valid = slot
            .as_ref()
            .is_some_and(|s| s.expires > Instant::now() && constant_time_eq(&s.hash, hash));
        if valid {
            *slot = None;
        }
        Ok(valid)
    }

    /// Consumes the setup token whose hash is `hash`: the shared one (with Redis; deleted there
    /// by a Lua compare-and-delete, so it works once across instances), else this process's own
    /// (without Redis, or one made while Redis failed). False: wrong, used or expired.
    async fn take_setup_token(&self, hash: &str) -> Result<bool, DomainError> {
        if let Some(redis) = self.limits.cluster().redis()
            && setup::consume(redis, hash).await == Some(true)
        {
            return Ok(true);
        }
        self.take_local_setup_token(hash)
    }

    /// Puts a consumed setup token back (the account creation failed): in Redis when there is
    /// one and unless another token was made meanwhile, else (or when Redis fails) in this
    /// process.
    async fn restore_setup_token(&self, token: &str) {
        let hash = hash_token(token);
        if let Some(redis) = self.limits.cluster().redis()
            && setup::issue(redis, token, &hash, SETUP_TOKEN_TTL)
                .await
                .is_some()
        {
            return;
        }
        if let Ok(mut slot) = self.setup.lock() {
            *slot = Some(SetupToken {
                hash,
                expires: Instant::now() + SETUP_TOKEN_TTL,
            });
        }
    }

    /// Creates the first (admin) account with the printed token (with Redis: on any instance,
    /// once). Errors: 409 `already_set_up`, 403 `invalid_setup_token` (wrong, used or expired),
    /// 422 for bad username/password.
    pub async fn setup(
        &self,
        token: &str,
        username: &str,
        password: String,
        client: &ClientInfo,
    ) -> Result<Session, DomainError> {
        let ip = client.ip;
        let raw_name = username;
        if !self.setup_required().await? {
            return Err(DomainError::conflict(
                ErrorCode::AlreadySetUp,
                "the admin account already exists",
            ));
        }
        let username = Username::parse(username)?;
        let password = Password::parse(password)?;
        if !self.take_setup_token(&hash_token(token)).await? {
            return Err(DomainError::forbidden(
                ErrorCode::InvalidSetupToken,
                "the setup token is wrong, used or expired",
            ));
        }
        let created = self
            .create_user(
                &username,
                display_name(raw_name),
                &password,
                None,
                ServerRole::Admin,
                Creation::Setup(ip),
                None,
            )
            .await;
        let user = match created {
            Ok(user) => user,
            Err(err) => {
                // Nothing was created: the printed link stays usable.
                self.restore_setup_token(token).await;
                return Err(err);
            }
        };
        self.issue(&user, Issue::NewSession(client)).await
    }

    /// Registers an account for a client at `ip`, as the live `general.registration` allows:
    /// `open` (any `invite` is ignored), `invite_only` (`invite` must be a usable invite code;
    /// its use is counted with the account, in one transaction) or `closed`. Errors: 429
    /// `rate_limited` (`register_per_ip`), 403 `setup_required`, 403 `registration_closed`,
    /// 403 `invite_required`, 403 `invalid_invite`, 409 `username_taken`, 422 invalid input.
    pub async fn register(
        &self,
        username: &str,
        password: String,
        email: Option<String>,
        invite: Option<&str>,
        ip: Option<std::net::IpAddr>,
    ) -> Result<User, DomainError> {
        self.limits.check(Limit::Register, &ip_key(ip)).await?;
        let raw = username;
        if self.setup_required().await? {
            return Err(DomainError::forbidden(
                ErrorCode::SetupRequired,
                "the admin account must be created first",
            ));
        }
        let invite = self.settings.registration_invite(invite).await?;
        let username = Username::parse(username)?;
        let password = Password::parse(password)?;
        let email = email
            .filter(|e| !e.trim().is_empty())
            .map(|e| Email::parse(&e))
            .transpose()?
            .map(|e| e.as_str().to_owned());
        let user = self
            .create_user(
                &username,
                display_name(raw),
                &password,
                email,
                ServerRole::Member,
                Creation::Registration,
                invite,
            )
            .await?;
        Ok(user.view())
    }

    /// Creates an account for an administrator (`by`: `None` for the command line), with the
    /// registration rules for username, password, display name and e-mail, joined to the
    /// auto-join rooms; audited as `user.created`. Errors: 422 for bad input, 409
    /// `username_taken` / `email_taken`.
    pub async fn create_account(
        &self,
        by: Option<&Actor>,
        username: &str,
        password: String,
        display: Option<&str>,
        email: Option<&str>,
        role: ServerRole,
    ) -> Result<UserRecord, DomainError> {
        let parsed = Username::parse(username)?;
        let password = Password::parse(password)?;
        let display = match display.map(str::trim).filter(|d| !d.is_empty()) {
            Some(d) => crate::domain::DisplayName::parse(d)?.as_str().to_owned(),
            None => display_name(username).to_owned(),
        };
        let email = email
            .filter(|e| !e.trim().is_empty())
            .map(Email::parse)
            .transpose()?
            .map(|e| e.as_str().to_owned());
        self.create_user(
            &parsed,
            &display,
            &password,
            email,
            role,
            Creation::ByAdmin(by),
            None,
        )
        .await
    }

    /// Creates an account and joins it to the auto-join rooms, in one unit of work (the first
    /// admin's creation is audited as `setup.completed`, an administrator's as `user.created`;
    /// a use of `invite` is counted in it).
    #[expect(
        clippy::too_many_arguments,
        reason = "the new account's fields and how it was allowed"
    )]
    async fn create_user(
        &self,
        username: &Username,
        display_name: &str,
        password: &Password,
        email: Option<String>,
        role: ServerRole,
        creation: Creation<'_>,
        invite: Option<&str>,
    ) -> Result<UserRecord, DomainError> {
        if users::by_username(&self.db.read, username.as_str())
            .await?
            .is_some()
        {
            return Err(DomainError::conflict(
                ErrorCode::UsernameTaken,
                "that username is taken",
            ));
        }
        let password_hash = self.hasher.hash(password).await?;
        self.uow
            .run(async |work: &mut Work| {
                if let Some(code) = invite {
                    SettingsService::use_invite(work, code).await?;
                }
                let user = users::insert(
                    work.db(),
                    users::NewUser {
                        username: username.as_str(),
                        display_name,
                        password_hash,
                        email,
                        role,
                        now: work.now(),
                    },
                )
                .await?;
                match creation {
                    Creation::Setup(ip) => {
                        work.record(NewAuditEntry {
                            actor: Some(user.id),
                            action: AuditAction::SetupCompleted,
                            target: Some(AuditTarget::User(user.id)),
                            details: serde_json::json!({"username": user.username}),
                            ip,
                        })
                        .await?;
                    }
                    Creation::Registration => {}
                    Creation::ByAdmin(by) => {
                        work.record(NewAuditEntry {
                            actor: by.map(|a| a.user),
                            action: AuditAction::UserCreated,
                            target: Some(AuditTarget::User(user.id)),
                            details: serde_json::json!({
                                "username": user.username,
                                "role": role,
                                "via": if by.is_some() { "api" } else { "cli" },
                            }),
                            ip: by.and_then(|a| a.ip),
                        })
                        .await?;
                    }
                }
                self.conversations.auto_join(work, &user).await?;
                Ok(user)
            })
            .await
    }

    /// Checks credentials. Unknown user, deleted account and wrong password give the same 401
    /// `invalid_credentials` and take the same time. Attempts are rate-limited per client `ip` and
    /// per account (see [`RateLimits::check_login`]): 429 `rate_limited`.
    pub async fn login(
        &self,
        username: &str,
        password: &str,
        client: &ClientInfo,
    ) -> Result<Session, DomainError> {
        let ip = client.ip;
        self.limits.check_login(username, ip).await?;
        let user = match Username::parse(username) {
            Ok(name) => users::by_username(&self.db.read, name.as_str())
                .await?
                .filter(UserRecord::is_active),
            Err(_) => None,
        };
        let ok = self
            .hasher
            .verify(password, user.as_ref().map(|u| u.password_hash.as_str()))
            .await?;
        match user {
            Some(user) if ok => {
                self.limits.login_succeeded(username, ip).await;
                // Only after the right password: a guesser learns nothing about the account.
                if let Some(refusal) = user
                    .moderation
                    .sign_in_refusal(crate::domain::Timestamp::now())
                {
                    return Err(refusal);
                }
                self.issue(&user, Issue::NewSession(client)).await
            }
            _ => Err(DomainError::unauthorized(
                ErrorCode::InvalidCredentials,
                "wrong username or password",
            )),
        }
    }

    /// Rotates a refresh token for a client at `ip`. Errors: 401 `invalid_refresh_token`; 401
    /// `session_ended` with the reason when its session ended (also: idle past the timeout,
    /// which ends it now); 429 `rate_limited` (`refresh_per_ip`).
    pub async fn refresh(
        &self,
        refresh_token: &str,
        ip: Option<std::net::IpAddr>,
    ) -> Result<Session, DomainError> {
        self.limits.check(Limit::Refresh, &ip_key(ip)).await?;
        let invalid = || {
            DomainError::unauthorized(
                ErrorCode::InvalidRefreshToken,
                "the refresh token is invalid or expired",
            )
        };
        let now = Utc::now();
        let row = tokens::by_hash(&self.db.write, &hash_token(refresh_token))
            .await?
            .ok_or_else(invalid)?;
        let family = SessionId(row.family_id);
        let owner = UserId(row.user_id);
        let session = sessions::by_id(&self.db.write, family).await?;
        if let Some(reason) = session.as_ref().and_then(|s| s.ended) {
            return Err(self.ended(reason, owner).await);
        }
        if session.is_some_and(|s| self.sessions.is_idle(&s)) {
            self.sessions.end_as_idle(owner, family).await?;
            return Err(DomainError::SessionEnded(SessionEndReason::Idle));
        }
        if row.revoked_at.is_some()
            || row.expires_at <= now
            || tokens::family_revoked(&self.db.write, family).await?
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
                tracing::warn!(session = %family, user = %owner, "refresh token reuse detected; revoking the session");
                self.end(owner, family, None, None, SessionEndReason::TokenReuse)
                    .await?;
                return Err(DomainError::SessionEnded(SessionEndReason::TokenReuse));
            }
        }
        let user = users::by_id(&self.db.read, owner)
            .await?
            .filter(UserRecord::is_active)
            .ok_or_else(invalid)?;
        self.issue(&user, Issue::Rotate(family)).await
    }

    /// Ends a session: the one of `refresh_token` when given (and known), else the one of the
    /// authenticated `actor` (a Bearer-only logout). Unknown tokens, and sessions that already
    /// ended, are not an error (and are not audited again). `ip` is the client's address.
    pub async fn logout(
        &self,
        refresh_token: Option<&str>,
        actor: Option<&Actor>,
        ip: Option<std::net::IpAddr>,
    ) -> Result<(), DomainError> {
        let row = match refresh_token {
            Some(token) => tokens::by_hash(&self.db.write, &hash_token(token)).await?,
            None => None,
        };
        if let Some(row) = row {
            let owner = UserId(row.user_id);
            let by = actor.filter(|a| a.user == owner);
            self.end(
                owner,
                SessionId(row.family_id),
                by,
                ip,
                SessionEndReason::Logout,
            )
            .await?;
        } else if let Some(actor) = actor {
            self.end(
                actor.user,
                actor.session,
                Some(actor),
                ip,
                SessionEndReason::Logout,
            )
            .await?;
        }
        Ok(())
    }

    /// Ends one session (see `sessions::end_in`); an already ended one is left as it is.
    async fn end(
        &self,
        user: UserId,
        session: SessionId,
        by: Option<&Actor>,
        ip: Option<std::net::IpAddr>,
        reason: SessionEndReason,
    ) -> Result<(), DomainError> {
        self.uow
            .run(async |work| end_in(work, user, Which::One(session), reason, by, ip).await)
            .await?;
        Ok(())
    }

    /// Why a session of `user` ended, as an error: for a suspension or deactivation still in
    /// force, its message says until when and why (the login page shows it).
    async fn ended(&self, reason: SessionEndReason, user: UserId) -> DomainError {
        if matches!(
            reason,
            SessionEndReason::Suspended | SessionEndReason::Deactivated
        ) && let Ok(Some(facts)) = self.access.user(user).await
            && let Some(refusal) = facts
                .moderation
                .sign_in_refusal(crate::domain::Timestamp::now())
        {
            return DomainError::SessionEndedWith {
                reason,
                message: refusal.to_string(),
            };
        }
        DomainError::SessionEnded(reason)
    }

    /// Verifies an access token, that its session was not ended and that the account is active.
    /// The returned actor has no IP yet (the HTTP layer sets it). Errors: 401 `unauthorized`.
    pub async fn authenticate(&self, access_token: &str) -> Result<Actor, DomainError> {
        let claims = self.keys.verify(access_token)?;
        let session = claims.sid;
        let user = claims.sub;
        if let Some(reason) = self.access.session_ended(session).await? {
            return Err(self.ended(reason, user).await);
        }
        let facts = self.access.active_user(user).await?;
        Ok(Actor {
            user,
            session,
            username: facts.username,
            expires_at: claims.exp,
            ip: None,
        })
    }

    /// The sessions service (listing, ending, activity).
    pub fn sessions(&self) -> &SessionService {
        &self.sessions
    }

    async fn issue(&self, user: &UserRecord, how: Issue<'_>) -> Result<Session, DomainError> {
        let auth = &self.config.auth;
        let family = match how {
            Issue::Rotate(family) => family,
            Issue::NewSession(client) => {
                let id = SessionId::new();
                self.sessions
                    .start(id, user.id, client.user_agent.as_deref(), client.ip)
                    .await?;
                id
            }
        };
        let refresh_token = random_token();
        let now = Utc::now();
        let ttl = chrono::Duration::seconds(
            i64::try_from(auth.refresh_token_ttl_secs).unwrap_or(2_592_000),
        );
        tokens::insert(
            &self.db.write,
            family,
            user.id,
            hash_token(&refresh_token),
            now,
            now + ttl,
        )
        .await?;
        let access_token = self
            .keys
            .issue(user.id, family, auth.access_token_ttl_secs)?;
        Ok(Session {
            access_token,
            refresh_token,
            expires_in: auth.access_token_ttl_secs,
            refresh_expires_in: auth.refresh_token_ttl_secs,
            user: user.view(),
        })
    }
}
