//! `users`: one row per account. `username` is stored lower-cased and is unique.
use sea_orm::entity::prelude::*;

#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
#[sea_orm(table_name = "users")]
pub struct Model {
    #[sea_orm(primary_key, auto_increment = false)]
    pub id: Uuid,
    #[sea_orm(unique)]
    pub username: String,
    pub display_name: String,
    pub password_hash: String,
    pub email: Option<String>,
    /// Server role: `admin`, `moderator` or `member` (CHECK constraint).
    pub role: String,
    pub created_at: DateTimeUtc,
    /// Set when the account was deleted (the row stays: its messages keep their sender).
    pub deleted_at: Option<DateTimeUtc>,
    /// `lower(email)`, unique: one account per address whatever its case.
    #[sea_orm(unique)]
    pub email_key: Option<String>,
    /// When the current `email` was confirmed through a link (NULL: unverified).
    pub email_verified_at: Option<DateTimeUtc>,
    /// Argon2id PHC hash of the recovery PIN (NULL: no PIN set).
    pub recovery_pin_hash: Option<String>,
    /// Chosen presence: `online`, `away`, `busy` or `invisible` (CHECK constraint).
    pub presence: String,
    /// Custom status text (at most 128 characters), NULL when none.
    pub status_text: Option<String>,
}

#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}
