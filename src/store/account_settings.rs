//! Queries on `user_settings`: a user's account settings as one JSON object (see
//! `domain::AccountSettings`).

use chrono::{DateTime, Utc};
use entity::user_settings;
use sea_orm::{ActiveValue::Set, ConnectionTrait, EntityTrait, sea_query::OnConflict};

use crate::domain::{AccountSettings, DomainError, UserId};

/// `user`'s account settings: the defaults when they never changed one. The stored JSON is
/// read leniently (unknown keys ignored, missing or unreadable keys defaulted), so a row
/// written by an older or newer server still reads. Errors: database errors only.
pub async fn load(db: &impl ConnectionTrait, user: UserId) -> Result<AccountSettings, DomainError> {
    let row = user_settings::Entity::find_by_id(user.0).one(db).await?;
    Ok(row.map_or_else(AccountSettings::default, |m| {
        AccountSettings::from_stored(&m.settings)
    }))
}

/// Stores `settings` as `user`'s (insert or replace the whole object).
pub async fn save(
    db: &impl ConnectionTrait,
    user: UserId,
    settings: &AccountSettings,
    now: DateTime<Utc>,
) -> Result<(), DomainError> {
    user_settings::Entity::insert(user_settings::ActiveModel {
        user_id: Set(user.0),
        settings: Set(settings.to_stored()),
        updated_at: Set(now),
    })
    .on_conflict(
        OnConflict::column(user_settings::Column::UserId)
            .update_columns([
                user_settings::Column::Settings,
                user_settings::Column::UpdatedAt,
            ])
            .to_owned(),
    )
    .exec(db)
    .await?;
    Ok(())
}
