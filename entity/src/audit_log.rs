//! `audit_log`: append-only record of security-relevant actions (who, what, to what, from where).
use sea_orm::entity::prelude::*;

#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
#[sea_orm(table_name = "audit_log")]
pub struct Model {
    #[sea_orm(primary_key, auto_increment = false)]
    pub id: Uuid,
    /// The acting user; NULL for the server itself. Not a foreign key: the log outlives anything.
    pub actor_id: Option<Uuid>,
    /// e.g. `user.role_changed`.
    pub action: String,
    /// `user`, `conversation` or `session`.
    pub target_type: Option<String>,
    pub target_id: Option<String>,
    /// A JSON object.
    pub details: Json,
    pub ip: Option<String>,
    pub created_at: DateTimeUtc,
}

#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}
