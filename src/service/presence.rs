//! Presence: what a user chooses (`online`, `away`, `busy`, `invisible` and a custom status
//! text, stored in `users`) and what others see (derived in `realtime`, which tracks connections
//! and activity). Services read the latter through [`PresenceDirectory`], implemented there and
//! handed in when the server is built, so that no service imports `realtime`.

use std::sync::Arc;

use super::settings::SettingsService;
use crate::{
    config::PresenceConfig,
    domain::{
        Actor, DomainError, ErrorCode, MyPresence, PresenceChoice, PresenceStatus, UserId,
        status_text,
    },
    events::Event,
    service::uow::UnitOfWork,
    store::{Db, users},
};

/// Answers "how does this user look to that one" for member lists and `GET /presence`.
pub trait PresenceDirectory: Send + Sync + 'static {
    /// `user`'s status as `viewer` may see it: `offline` when a block stands between them, when
    /// `user` is invisible or not connected.
    fn status(&self, viewer: UserId, user: UserId) -> PresenceStatus;

    /// What others would see of `user` with `choice` (for the answer to `PUT /presence`, before
    /// the change reached the realtime layer).
    fn preview(&self, user: UserId, choice: PresenceChoice) -> PresenceStatus;
}

/// Everyone offline: for code paths without a realtime layer (tests of services, commands).
pub struct NoPresence;

impl PresenceDirectory for NoPresence {
    fn status(&self, _viewer: UserId, _user: UserId) -> PresenceStatus {
        PresenceStatus::Offline
    }

    fn preview(&self, _user: UserId, _choice: PresenceChoice) -> PresenceStatus {
        PresenceStatus::Offline
    }
}

/// Fields of `PUT /presence`: each given field replaces the stored one.
#[derive(Clone, Debug, Default)]
pub struct PresenceChange {
    /// The new choice.
    pub choice: Option<PresenceChoice>,
    /// The new custom status text (`""` clears it).
    pub status_text: Option<String>,
}

/// What a new connection needs of its user's presence.
#[derive(Clone, Debug)]
pub struct StartingPresence {
    /// The stored choice (never `invisible` when the server disallows it).
    pub choice: PresenceChoice,
    /// The stored custom status text.
    pub status_text: Option<String>,
    /// The stored choice was `invisible` and the server no longer allows it: it became
    /// `online` now (the client tells the person).
    pub invisible_reset: bool,
}

/// Presence use cases.
#[derive(Clone)]
pub struct PresenceService {
    db: Db,
    uow: UnitOfWork,
    directory: Arc<dyn PresenceDirectory>,
    config: PresenceConfig,
    /// `presence.allow_invisible`, live.
    settings: SettingsService,
}

impl PresenceService {
    /// Builds the service.
    pub fn new(
        db: Db,
        uow: UnitOfWork,
        directory: Arc<dyn PresenceDirectory>,
        config: PresenceConfig,
        settings: SettingsService,
    ) -> Self {
        Self {
            db,
            uow,
            directory,
            config,
            settings,
        }
    }

    /// Whether the server allows the `invisible` choice now (the live setting
    /// `presence.allow_invisible`, default `[presence] allow_invisible`).
    pub fn allow_invisible(&self) -> bool {
        self.settings.current().allow_invisible
    }

    fn stored(
        &self,
        choice: PresenceChoice,
        status_text: Option<String>,
        status: PresenceStatus,
    ) -> MyPresence {
        MyPresence {
            choice,
            status,
            status_text,
            auto_away_secs: self.config.auto_away().map_or(0, |d| d.as_secs().max(1)),
            allow_invisible: self.allow_invisible(),
        }
    }

    async fn load(&self, user: UserId) -> Result<(PresenceChoice, Option<String>), DomainError> {
        users::presence(&self.db.read, user).await?.ok_or_else(|| {
            DomainError::unauthorized(ErrorCode::Unauthorized, "the account no longer exists")
        })
    }

    /// My presence: my choice, my status text and what others see now.
    /// Errors: 401 when the account is gone.
    pub async fn get(&self, actor: &Actor) -> Result<MyPresence, DomainError> {
        let (choice, text) = self.load(actor.user).await?;
        let status = self.directory.status(actor.user, actor.user);
        Ok(self.stored(choice, text, status))
    }

    /// Changes my presence choice and/or status text; my connections and those who may see my
    /// presence learn it. Errors: 422 `invalid_status_text`, 403 `invisible_disabled`.
    pub async fn set(
        &self,
        actor: &Actor,
        change: PresenceChange,
    ) -> Result<MyPresence, DomainError> {
        let new_text = change.status_text.as_deref().map(status_text).transpose()?;
        if change.choice == Some(PresenceChoice::Invisible) && !self.allow_invisible() {
            return Err(DomainError::forbidden(
                ErrorCode::InvisibleDisabled,
                "this server does not allow the invisible presence",
            ));
        }
        let (choice, text) = self
            .uow
            .run(async |work| {
                let (old_choice, old_text) = users::presence(work.db(), actor.user)
                    .await?
                    .ok_or_else(|| {
                        DomainError::unauthorized(
                            ErrorCode::Unauthorized,
                            "the account no longer exists",
                        )
                    })?;
                let choice = change.choice.unwrap_or(old_choice);
                let text = new_text.clone().unwrap_or(old_text);
                users::set_presence(work.db(), actor.user, choice, text.as_deref()).await?;
                work.publish(Event::PresenceChosen {
                    user_id: actor.user,
                    choice,
                    status_text: text.clone(),
                });
                Ok((choice, text))
            })
            .await?;
        let status = self.directory.preview(actor.user, choice);
        Ok(self.stored(choice, text, status))
    }

    /// The presence a new connection of `user` starts with. A stored `invisible` that the
    /// server no longer allows becomes `online` (durably) and is reported.
    pub async fn for_connection(&self, user: UserId) -> Result<StartingPresence, DomainError> {
        let (choice, status_text) = self.load(user).await?;
        if choice != PresenceChoice::Invisible || self.allow_invisible() {
            return Ok(StartingPresence {
                choice,
                status_text,
                invisible_reset: false,
            });
        }
        let text = status_text.clone();
        self.uow
            .run(async |work| {
                users::set_presence(work.db(), user, PresenceChoice::Online, text.as_deref()).await
            })
            .await?;
        Ok(StartingPresence {
            choice: PresenceChoice::Online,
            status_text,
            invisible_reset: true,
        })
    }

    /// My presence as a new connection reports it in `ready`.
    pub fn my_presence(&self, start: &StartingPresence, status: PresenceStatus) -> MyPresence {
        self.stored(start.choice, start.status_text.clone(), status)
    }
}
