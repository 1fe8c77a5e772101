//! Queries on `users`.

use std::collections::HashMap;

use chrono::{DateTime, Utc};
use entity::users::{self, Column, Entity};
use sea_orm::{
    ActiveValue::Set, ColumnTrait, ConnectionTrait, EntityTrait, PaginatorTrait, QueryFilter,
    QuerySelect, sea_query::Expr,
};

use super::conflict_on_unique;
use crate::domain::{
    AccountModeration, DomainError, ErrorCode, PresenceChoice, ServerRole, Timestamp, User, UserId,
};

/// A stored account.
#[derive(Clone, Debug)]
pub struct UserRecord {
    /// Id.
    pub id: UserId,
    /// Canonical (lower-case) username.
    pub username: String,
    /// Name as typed.
    pub display_name: String,
    /// PHC-format Argon2id hash (`!` once the account was deleted: matches no password).
    pub password_hash: String,
    /// Optional e-mail address.
    pub email: Option<String>,
    /// Server role.
    pub role: ServerRole,
    /// Creation time.
    pub created_at: DateTime<Utc>,
    /// Deletion time (the row stays so that messages keep their sender).
    pub deleted_at: Option<DateTime<Utc>>,
    /// When the current e-mail was confirmed by a link.
    pub email_verified_at: Option<DateTime<Utc>>,
    /// Argon2id PHC hash of the recovery PIN.
    pub recovery_pin_hash: Option<String>,
    /// Suspension, deactivation, server-wide mute and shadowban.
    pub moderation: AccountModeration,
}

impl TryFrom<users::Model> for UserRecord {
    type Error = DomainError;

    fn try_from(m: users::Model) -> Result<Self, DomainError> {
        Ok(Self {
            id: UserId(m.id),
            username: m.username,
            display_name: m.display_name,
            password_hash: m.password_hash,
            email: m.email,
            role: m.role.parse()?,
            created_at: m.created_at,
            deleted_at: m.deleted_at,
            email_verified_at: m.email_verified_at,
            recovery_pin_hash: m.recovery_pin_hash,
            moderation: AccountModeration {
                suspended_until: m.suspended_until.map(Timestamp),
                suspend_reason: m.suspend_reason,
                deactivated_at: m.deactivated_at.map(Timestamp),
                deactivate_reason: m.deactivate_reason,
                muted_until: m.muted_until.map(Timestamp),
                mute_reason: m.mute_reason,
                shadowbanned_at: m.shadowbanned_at.map(Timestamp),
                shadowban_reason: m.shadowban_reason,
            },
        })
    }
}

impl UserRecord {
    /// The account as others see it.
    pub fn view(&self) -> User {
        User {
            id: self.id,
            username: self.username.clone(),
            display_name: self.display_name.clone(),
            role: self.role,
            deleted: self.deleted_at.is_some(),
            created_at: Timestamp(self.created_at),
        }
    }

    /// Whether the account can sign in and act.
    pub fn is_active(&self) -> bool {
        self.deleted_at.is_none()
    }
}

fn records(rows: Vec<users::Model>) -> Result<Vec<UserRecord>, DomainError> {
    rows.into_iter().map(UserRecord::try_from).collect()
}

/// Fields of a new account.
pub struct NewUser<'a> {
    /// Canonical (lower-case) username.
    pub username: &'a str,
    /// Name as typed.
    pub display_name: &'a str,
    /// PHC-format Argon2id hash.
    pub password_hash: String,
    /// Optional e-mail address.
    pub email: Option<String>,
    /// Server role.
    pub role: ServerRole,
    /// Creation time (UTC, from Rust).
    pub now: DateTime<Utc>,
}

/// Inserts a user. Errors: `username_taken` (409).
pub async fn insert(
    db: &impl ConnectionTrait,
    new: NewUser<'_>,
) -> Result<UserRecord, DomainError> {
    let model = users::ActiveModel {
        id: Set(UserId::new().0),
        username: Set(new.username.to_owned()),
        display_name: Set(new.display_name.to_owned()),
        password_hash: Set(new.password_hash),
        email_key: Set(new.email.as_ref().map(|e| e.to_lowercase())),
        email: Set(new.email),
        role: Set(new.role.as_str().to_owned()),
        created_at: Set(new.now),
        deleted_at: Set(None),
        email_verified_at: Set(None),
        recovery_pin_hash: Set(None),
        presence: Set(PresenceChoice::Online.as_str().to_owned()),
        status_text: Set(None),
        suspended_until: Set(None),
        suspend_reason: Set(None),
        deactivated_at: Set(None),
        deactivate_reason: Set(None),
        muted_until: Set(None),
        mute_reason: Set(None),
        shadowbanned_at: Set(None),
        shadowban_reason: Set(None),
    };
    Entity::insert(model)
        .exec_with_returning(db)
        .await
        .map_err(|err| {
            if super::is_unique_violation(&err) && err.to_string().contains("email") {
                DomainError::conflict(
                    ErrorCode::EmailTaken,
                    "another account uses that e-mail address",
                )
            } else {
                conflict_on_unique(ErrorCode::UsernameTaken, "that username is taken")(err)
            }
        })?
        .try_into()
}

/// The active account whose e-mail is `key` (lower-cased).
pub async fn by_email_key(
    db: &impl ConnectionTrait,
    key: &str,
) -> Result<Option<UserRecord>, DomainError> {
    Entity::find()
        .filter(Column::EmailKey.eq(key))
        .filter(Column::DeletedAt.is_null())
        .one(db)
        .await?
        .map(UserRecord::try_from)
        .transpose()
}

/// Sets the display name.
pub async fn set_display_name(
    db: &impl ConnectionTrait,
    id: UserId,
    name: &str,
) -> Result<(), DomainError> {
    Entity::update_many()
        .col_expr(Column::DisplayName, Expr::value(name))
        .filter(Column::Id.eq(id.0))
        .exec(db)
        .await?;
    Ok(())
}

/// Sets (or with `None` removes) the e-mail address and whether it is verified. Errors:
/// `email_taken` (409) when another account uses the address in any case.
pub async fn set_email(
    db: &impl ConnectionTrait,
    id: UserId,
    email: Option<&str>,
    verified_at: Option<DateTime<Utc>>,
) -> Result<(), DomainError> {
    Entity::update_many()
        .col_expr(Column::Email, Expr::value(email.map(str::to_owned)))
        .col_expr(Column::EmailKey, Expr::value(email.map(str::to_lowercase)))
        .col_expr(Column::EmailVerifiedAt, Expr::value(verified_at))
        .filter(Column::Id.eq(id.0))
        .exec(db)
        .await
        .map_err(conflict_on_unique(
            ErrorCode::EmailTaken,
            "another account uses that e-mail address",
        ))?;
    Ok(())
}

/// Marks the e-mail verified when it is still `email` (lower-cased compare). Returns whether
/// it was.
pub async fn mark_email_verified(
    db: &impl ConnectionTrait,
    id: UserId,
    email: &str,
    now: DateTime<Utc>,
) -> Result<bool, DomainError> {
    let result = Entity::update_many()
        .col_expr(Column::EmailVerifiedAt, Expr::value(now))
        .filter(Column::Id.eq(id.0))
        .filter(Column::EmailKey.eq(email.to_lowercase()))
        .filter(Column::DeletedAt.is_null())
        .exec(db)
        .await?;
    Ok(result.rows_affected == 1)
}

/// Replaces the password hash (PHC string).
pub async fn set_password_hash(
    db: &impl ConnectionTrait,
    id: UserId,
    hash: String,
) -> Result<(), DomainError> {
    Entity::update_many()
        .col_expr(Column::PasswordHash, Expr::value(hash))
        .filter(Column::Id.eq(id.0))
        .exec(db)
        .await?;
    Ok(())
}

/// Sets (or with `None` removes) the recovery PIN hash (PHC string).
pub async fn set_recovery_pin_hash(
    db: &impl ConnectionTrait,
    id: UserId,
    hash: Option<String>,
) -> Result<(), DomainError> {
    Entity::update_many()
        .col_expr(Column::RecoveryPinHash, Expr::value(hash))
        .filter(Column::Id.eq(id.0))
        .exec(db)
        .await?;
    Ok(())
}

/// A user's chosen presence and custom status text; `None` when the account does not exist.
pub async fn presence(
    db: &impl ConnectionTrait,
    id: UserId,
) -> Result<Option<(PresenceChoice, Option<String>)>, DomainError> {
    let row: Option<(String, Option<String>)> = Entity::find_by_id(id.0)
        .select_only()
        .column(Column::Presence)
        .column(Column::StatusText)
        .into_tuple()
        .one(db)
        .await?;
    row.map(|(choice, text)| Ok((choice.parse::<PresenceChoice>()?, text)))
        .transpose()
}

/// Stores a user's chosen presence and custom status text (`None` clears it).
pub async fn set_presence(
    db: &impl ConnectionTrait,
    id: UserId,
    choice: PresenceChoice,
    status_text: Option<&str>,
) -> Result<(), DomainError> {
    Entity::update_many()
        .col_expr(Column::Presence, Expr::value(choice.as_str()))
        .col_expr(
            Column::StatusText,
            Expr::value(status_text.map(str::to_owned)),
        )
        .filter(Column::Id.eq(id.0))
        .exec(db)
        .await?;
    Ok(())
}

/// The user with this canonical username.
pub async fn by_username(
    db: &impl ConnectionTrait,
    username: &str,
) -> Result<Option<UserRecord>, DomainError> {
    Entity::find()
        .filter(Column::Username.eq(username))
        .one(db)
        .await?
        .map(UserRecord::try_from)
        .transpose()
}

/// The user with this id.
pub async fn by_id(
    db: &impl ConnectionTrait,
    id: UserId,
) -> Result<Option<UserRecord>, DomainError> {
    Entity::find_by_id(id.0)
        .one(db)
        .await?
        .map(UserRecord::try_from)
        .transpose()
}

/// These users, by id (unknown ids are skipped).
pub async fn by_ids(
    db: &impl ConnectionTrait,
    ids: &[UserId],
) -> Result<HashMap<UserId, UserRecord>, DomainError> {
    if ids.is_empty() {
        return Ok(HashMap::new());
    }
    let mut ids: Vec<_> = ids.iter().map(|i| i.0).collect();
    ids.sort_unstable();
    ids.dedup();
    let rows = Entity::find().filter(Column::Id.is_in(ids)).all(db).await?;
    Ok(records(rows)?.into_iter().map(|u| (u.id, u)).collect())
}

/// Whether any account exists (setup is done).
pub async fn any(db: &impl ConnectionTrait) -> Result<bool, DomainError> {
    Ok(Entity::find().count(db).await? > 0)
}

/// Every account (deleted ones too, unless `active_only`), optionally only those with `role`,
/// in username order (the command line's `admin list`; an installation has few enough).
pub async fn list(
    db: &impl ConnectionTrait,
    role: Option<ServerRole>,
    active_only: bool,
) -> Result<Vec<UserRecord>, DomainError> {
    use sea_orm::QueryOrder;
    let mut query = Entity::find().order_by_asc(Column::Username);
    if let Some(role) = role {
        query = query.filter(Column::Role.eq(role.as_str()));
    }
    if active_only {
        query = query.filter(Column::DeletedAt.is_null());
    }
    records(query.all(db).await?)
}

/// Usernames of these users, by id.
pub async fn usernames(
    db: &impl ConnectionTrait,
    ids: &[UserId],
) -> Result<HashMap<UserId, String>, DomainError> {
    if ids.is_empty() {
        return Ok(HashMap::new());
    }
    let mut ids: Vec<_> = ids.iter().map(|i| i.0).collect();
    ids.sort_unstable();
    ids.dedup();
    let rows: Vec<(uuid::Uuid, String)> = Entity::find()
        .select_only()
        .column(Column::Id)
        .column(Column::Username)
        .filter(Column::Id.is_in(ids))
        .into_tuple()
        .all(db)
        .await?;
    Ok(rows
        .into_iter()
        .map(|(id, name)| (UserId(id), name))
        .collect())
}

/// Sets a user's server role.
pub async fn set_role(
    db: &impl ConnectionTrait,
    id: UserId,
    role: ServerRole,
) -> Result<(), DomainError> {
    Entity::update_many()
        .col_expr(Column::Role, Expr::value(role.as_str()))
        .filter(Column::Id.eq(id.0))
        .exec(db)
        .await?;
    Ok(())
}

/// The active (not deleted) accounts with this role, in id order, their rows locked until the
/// transaction ends (`FOR UPDATE` on PostgreSQL, always in the same order so that two such
/// transactions cannot deadlock; SQLite serializes writers anyway). Two concurrent demotions
/// therefore cannot both see another admin left.
pub async fn ids_with_role_locked(
    db: &impl ConnectionTrait,
    role: ServerRole,
) -> Result<Vec<UserId>, DomainError> {
    use sea_orm::QueryOrder;
    let ids: Vec<uuid::Uuid> = Entity::find()
        .select_only()
        .column(Column::Id)
        .filter(Column::Role.eq(role.as_str()))
        .filter(Column::DeletedAt.is_null())
        .order_by_asc(Column::Id)
        .lock_exclusive()
        .into_tuple()
        .all(db)
        .await?;
    Ok(ids.into_iter().map(UserId).collect())
}

/// Deletes an account softly: the row stays (its messages keep their sender), but the username
/// is freed (`deleted-<first 8 hex of the id>`), the display name becomes `Deleted user`, the
/// password hash matches nothing, the e-mail is dropped and the role is `member`.
pub async fn soft_delete(
    db: &impl ConnectionTrait,
    id: UserId,
    now: DateTime<Utc>,
) -> Result<(), DomainError> {
    let placeholder = format!("deleted-{}", &id.0.simple().to_string()[..8]);
    let placeholder = match by_username(db, &placeholder).await? {
        Some(other) if other.id != id => {
            format!("deleted-{}", &id.0.simple().to_string()[..24])
        }
        _ => placeholder,
    };
    Entity::update_many()
        .col_expr(Column::Username, Expr::value(placeholder))
        .col_expr(Column::DisplayName, Expr::value("Deleted user"))
        .col_expr(Column::PasswordHash, Expr::value("!"))
        .col_expr(Column::Email, Expr::value(Option::<String>::None))
        .col_expr(Column::EmailKey, Expr::value(Option::<String>::None))
        .col_expr(
            Column::EmailVerifiedAt,
            Expr::value(Option::<DateTime<Utc>>::None),
        )
        .col_expr(Column::RecoveryPinHash, Expr::value(Option::<String>::None))
        .col_expr(Column::StatusText, Expr::value(Option::<String>::None))
        .col_expr(Column::Role, Expr::value(ServerRole::Member.as_str()))
        .col_expr(Column::DeletedAt, Expr::value(now))
        .filter(Column::Id.eq(id.0))
        .exec(db)
        .await?;
    Ok(())
}

/// Active accounts whose built-in role is `role`.
pub async fn count_with_role(
    db: &impl ConnectionTrait,
    role: ServerRole,
) -> Result<u64, DomainError> {
    Ok(Entity::find()
        .filter(Column::Role.eq(role.as_str()))
        .filter(Column::DeletedAt.is_null())
        .count(db)
        .await?)
}

/// The accounts holding the custom role `role`.
pub async fn holders_of(
    db: &impl ConnectionTrait,
    role: &str,
) -> Result<Vec<UserRecord>, DomainError> {
    let ids: Vec<uuid::Uuid> = entity::user_roles::Entity::find()
        .select_only()
        .column(entity::user_roles::Column::UserId)
        .filter(entity::user_roles::Column::RoleName.eq(role))
        .into_tuple()
        .all(db)
        .await?;
    if ids.is_empty() {
        return Ok(Vec::new());
    }
    records(Entity::find().filter(Column::Id.is_in(ids)).all(db).await?)
}
