//! My account settings (theme, accent, text size, notifications, read receipts, …): stored per
//! account so they follow me to every device. A change is told to all my connections
//! (`Event::AccountSettingsChanged` → `settings_updated` frames).

use super::{Limit, RateLimits, uow::UnitOfWork};
use crate::{
    domain::{AccountSettings, AccountSettingsPatch, Actor, DomainError},
    events::Event,
    store::{Db, account_settings},
};

/// Account settings use-cases. Cheap to clone.
#[derive(Clone)]
pub struct AccountSettingsService {
    db: Db,
    uow: UnitOfWork,
    limits: RateLimits,
}

impl AccountSettingsService {
    /// Builds the service.
    pub fn new(db: Db, uow: UnitOfWork, limits: RateLimits) -> Self {
        Self { db, uow, limits }
    }

    /// My settings (the defaults for keys I never changed).
    pub async fn get(&self, actor: &Actor) -> Result<AccountSettings, DomainError> {
        account_settings::load(&self.db.read, actor.user).await
    }

    /// Applies a partial change, `body` as received (a JSON object of the keys to change), and
    /// answers the settings now. Unless the body is empty, my connections get
    /// `settings_updated` after the commit. Errors: 422 `invalid_settings` (see
    /// [`AccountSettingsPatch::parse`]), 429 `rate_limited` ([`Limit::SettingsUpdate`]).
    pub async fn update(
        &self,
        actor: &Actor,
        body: serde_json::Value,
    ) -> Result<AccountSettings, DomainError> {
        self.limits
            .check(Limit::SettingsUpdate, &actor.user.to_string())
            .await?;
        let patch = AccountSettingsPatch::parse(body)?;
        if patch.is_empty() {
            return self.get(actor).await;
        }
        let user = actor.user;
        self.uow
            .run(async |work| {
                let current = account_settings::load(work.db(), user).await?;
                let next = patch.apply(current.clone());
                if next != current {
                    account_settings::save(work.db(), user, &next, work.now()).await?;
                    work.publish(Event::AccountSettingsChanged {
                        user,
                        settings: next.clone(),
                    });
                }
                Ok(next)
            })
            .await
    }
}
