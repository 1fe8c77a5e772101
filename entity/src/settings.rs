//! `settings`: live settings changed at run time; a key without a row takes the configuration
//! file's value.

use sea_orm::entity::prelude::*;

#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
#[sea_orm(table_name = "settings")]
pub struct Model {
    /// `general.server_name`, `limits.messages_per_user`, …
    #[sea_orm(primary_key, auto_increment = false)]
    pub key: String,
    /// The value as JSON text.
    pub value: String,
    /// Who set it last (null when that account is gone).
    pub updated_by: Option<Uuid>,
    pub updated_at: DateTimeUtc,
}

#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}
