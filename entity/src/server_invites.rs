//! `server_invites`: invite links for `registration = invite_only`.

use sea_orm::entity::prelude::*;

#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
#[sea_orm(table_name = "server_invites")]
pub struct Model {
    /// The random, URL-safe code of the link.
    #[sea_orm(primary_key, auto_increment = false)]
    pub code: String,
    /// Most accounts it may create (null: unlimited).
    pub max_uses: Option<i32>,
    /// Accounts created with it so far.
    pub uses: i32,
    /// When it stops working (null: never).
    pub expires_at: Option<DateTimeUtc>,
    /// Who made it (null when that account is gone).
    pub created_by: Option<Uuid>,
    pub created_at: DateTimeUtc,
    /// When it was revoked (null: not revoked).
    pub revoked_at: Option<DateTimeUtc>,
}

#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}
