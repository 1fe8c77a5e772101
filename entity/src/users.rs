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
    /// Suspended until this time (cannot sign in), NULL when not suspended.
    pub suspended_until: Option<DateTimeUtc>,
    /// Why (shown to the user at login), at most 500 characters.
    pub suspend_reason: Option<String>,
    /// Deactivated by an administrator at this time (cannot sign in until reactivated).
    pub deactivated_at: Option<DateTimeUtc>,
    /// Why it was deactivated.
    pub deactivate_reason: Option<String>,
    /// Muted on the whole server until this time, NULL when not muted.
    pub muted_until: Option<DateTimeUtc>,
    /// Why it was muted.
    pub mute_reason: Option<String>,
    /// Shadowbanned since this time: new messages are shown to the sender only.
    pub shadowbanned_at: Option<DateTimeUtc>,
    /// Why it was shadowbanned (required).
    pub shadowban_reason: Option<String>,
}

#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}
