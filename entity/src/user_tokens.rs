//! `user_tokens`: single-use tokens sent by e-mail (password reset, e-mail verification),
//! stored as hex SHA-256 hashes.

use sea_orm::entity::prelude::*;

#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
#[sea_orm(table_name = "user_tokens")]
pub struct Model {
    #[sea_orm(primary_key, auto_increment = false)]
    pub id: Uuid,
    pub user_id: Uuid,
    /// `password_reset` or `email_verify` (CHECK constraint).
    pub purpose: String,
    #[sea_orm(unique)]
    pub token_hash: String,
    /// The address being verified (`email_verify` only).
    pub email: Option<String>,
    pub created_at: DateTimeUtc,
    pub expires_at: DateTimeUtc,
    pub used_at: Option<DateTimeUtc>,
    /// Wrong recovery PINs given with this token; the token dies at the limit.
    pub failed_attempts: i32,
}

#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}
