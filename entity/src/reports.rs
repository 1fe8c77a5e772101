//! `reports`: messages reported by users (the moderation queue), indexed by (status, created_at).
use sea_orm::entity::prelude::*;

#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
#[sea_orm(table_name = "reports")]
pub struct Model {
    #[sea_orm(primary_key, auto_increment = false)]
    pub id: Uuid,
    pub reporter_id: Uuid,
    pub conversation_id: Uuid,
    pub message_seq: i64,
    pub message_id: Uuid,
    pub reason: String,
    /// `open`, `resolved` or `dismissed` (CHECK constraint).
    pub status: String,
    pub created_at: DateTimeUtc,
    pub resolved_by: Option<Uuid>,
    pub resolved_at: Option<DateTimeUtc>,
    pub resolution: Option<String>,
}

#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}
