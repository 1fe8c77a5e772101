//! Queries on `settings` (live settings changed at run time) and `server_invites` (invite
//! links).

use chrono::{DateTime, Utc};
use entity::{server_invites, settings};
use sea_orm::{
    ActiveValue::Set,
    ColumnTrait, Condition, ConnectionTrait, EntityTrait, QueryFilter, QueryOrder, QuerySelect,
    sea_query::{Expr, ExprTrait, OnConflict},
};

use crate::domain::{DomainError, UserId};

/// One stored setting.
#[derive(Clone, Debug)]
pub struct SettingRow {
    /// The key (`general.server_name`, …).
    pub key: String,
    /// The value (parsed from the stored JSON text).
    pub value: serde_json::Value,
    /// Who set it.
    pub updated_by: Option<UserId>,
    /// When.
    pub updated_at: DateTime<Utc>,
}

/// Every stored setting. A row whose value is not JSON is skipped with a warning.
pub async fn all(db: &impl ConnectionTrait) -> Result<Vec<SettingRow>, DomainError> {
    let rows = settings::Entity::find()
        .order_by_asc(settings::Column::Key)
        .all(db)
        .await?;
    Ok(rows
        .into_iter()
        .filter_map(|m| match serde_json::from_str(&m.value) {
            Ok(value) => Some(SettingRow {
                key: m.key,
                value,
                updated_by: m.updated_by.map(UserId),
                updated_at: m.updated_at,
            }),
            Err(err) => {
                tracing::warn!(key = %m.key, error = %err, "ignoring a stored setting that is not JSON");
                None
            }
        })
        .collect())
}

/// Stores `value` for `key` (insert or replace).
pub async fn put(
    db: &impl ConnectionTrait,
    key: &str,
    value: &serde_json::Value,
    by: UserId,
    now: DateTime<Utc>,
) -> Result<(), DomainError> {
    settings::Entity::insert(settings::ActiveModel {
        key: Set(key.to_owned()),
        value: Set(value.to_string()),
        updated_by: Set(Some(by.0)),
        updated_at: Set(now),
    })
    .on_conflict(
        OnConflict::column(settings::Column::Key)
            .update_columns([
                settings::Column::Value,
                settings::Column::UpdatedBy,
                settings::Column::UpdatedAt,
            ])
            .to_owned(),
    )
    .exec(db)
    .await?;
    Ok(())
}

/// Removes the stored value of `key` (back to the configuration's). Returns whether there was one.
pub async fn remove(db: &impl ConnectionTrait, key: &str) -> Result<bool, DomainError> {
    Ok(settings::Entity::delete_many()
        .filter(settings::Column::Key.eq(key))
        .exec(db)
        .await?
        .rows_affected
        > 0)
}

/// One invite link.
#[derive(Clone, Debug)]
pub struct InviteRow {
    /// The code of the link.
    pub code: String,
    /// Most accounts it may create (`None`: unlimited).
    pub max_uses: Option<u32>,
    /// Accounts created with it.
    pub uses: u32,
    /// When it stops working.
    pub expires_at: Option<DateTime<Utc>>,
    /// Who made it.
    pub created_by: Option<UserId>,
    /// When.
    pub created_at: DateTime<Utc>,
    /// When it was revoked.
    pub revoked_at: Option<DateTime<Utc>>,
}

impl From<server_invites::Model> for InviteRow {
    fn from(m: server_invites::Model) -> Self {
        Self {
            code: m.code,
            max_uses: m.max_uses.map(|n| u32::try_from(n).unwrap_or(0)),
            uses: u32::try_from(m.uses).unwrap_or(0),
            expires_at: m.expires_at,
            created_by: m.created_by.map(UserId),
            created_at: m.created_at,
            revoked_at: m.revoked_at,
        }
    }
}

/// Stores a new invite link.
pub async fn insert_invite(
    db: &impl ConnectionTrait,
    invite: &InviteRow,
) -> Result<(), DomainError> {
    server_invites::Entity::insert(server_invites::ActiveModel {
        code: Set(invite.code.clone()),
        max_uses: Set(invite
            .max_uses
            .map(|n| i32::try_from(n).unwrap_or(i32::MAX))),
        uses: Set(0),
        expires_at: Set(invite.expires_at),
        created_by: Set(invite.created_by.map(|u| u.0)),
        created_at: Set(invite.created_at),
        revoked_at: Set(None),
    })
    .exec(db)
    .await?;
    Ok(())
}

/// The newest `limit` invite links, newest first.
pub async fn invites(db: &impl ConnectionTrait, limit: u64) -> Result<Vec<InviteRow>, DomainError> {
    Ok(server_invites::Entity::find()
        .order_by_desc(server_invites::Column::CreatedAt)
        .order_by_desc(server_invites::Column::Code)
        .limit(limit)
        .all(db)
        .await?
        .into_iter()
        .map(InviteRow::from)
        .collect())
}

/// The invite link `code`, if it exists.
pub async fn invite(
    db: &impl ConnectionTrait,
    code: &str,
) -> Result<Option<InviteRow>, DomainError> {
    Ok(server_invites::Entity::find_by_id(code.to_owned())
        .one(db)
        .await?
        .map(InviteRow::from))
}

/// Marks `code` revoked at `now` (kept for the record). Returns whether it was usable before.
pub async fn revoke_invite(
    db: &impl ConnectionTrait,
    code: &str,
    now: DateTime<Utc>,
) -> Result<bool, DomainError> {
    Ok(server_invites::Entity::update_many()
        .col_expr(server_invites::Column::RevokedAt, Expr::value(now))
        .filter(server_invites::Column::Code.eq(code))
        .filter(server_invites::Column::RevokedAt.is_null())
        .exec(db)
        .await?
        .rows_affected
        == 1)
}

/// Counts one use of `code` if it is usable at `now` (not revoked, not expired, uses left), in
/// one conditional UPDATE: two registrations racing for the last use cannot both get it (the
/// second one's UPDATE waits for the first's row lock and then re-checks `uses`). Returns
/// whether a use was counted.
pub async fn use_invite(
    db: &impl ConnectionTrait,
    code: &str,
    now: DateTime<Utc>,
) -> Result<bool, DomainError> {
    use server_invites::Column;
    Ok(server_invites::Entity::update_many()
        .col_expr(Column::Uses, Expr::col(Column::Uses).add(1))
        .filter(Column::Code.eq(code))
        .filter(Column::RevokedAt.is_null())
        .filter(
            Condition::any()
                .add(Column::ExpiresAt.is_null())
                .add(Column::ExpiresAt.gt(now)),
        )
        .filter(
            Condition::any()
                .add(Column::MaxUses.is_null())
                .add(Expr::col(Column::Uses).lt(Expr::col(Column::MaxUses))),
        )
        .exec(db)
        .await?
        .rows_affected
        == 1)
}
