//! `friendships`: one row per unordered pair (`user_a < user_b`), `pending` or `accepted`.

use sea_orm::entity::prelude::*;

#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
#[sea_orm(table_name = "friendships")]
pub struct Model {
    #[sea_orm(primary_key, auto_increment = false)]
    pub user_a: Uuid,
    #[sea_orm(primary_key, auto_increment = false)]
    pub user_b: Uuid,
    /// Who asked (one of `user_a`, `user_b`).
    pub requested_by: Uuid,
    /// `pending` or `accepted` (CHECK constraint).
    pub state: String,
    pub created_at: DateTimeUtc,
    /// When the request was accepted (or, while pending, made).
    pub updated_at: DateTimeUtc,
}

#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}
