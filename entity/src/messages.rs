//! `messages`: unique (conversation_id, seq) and unique (sender_id, client_id).
use sea_orm::entity::prelude::*;

#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
#[sea_orm(table_name = "messages")]
pub struct Model {
    #[sea_orm(primary_key, auto_increment = false)]
    pub id: Uuid,
    pub conversation_id: Uuid,
    pub seq: i64,
    pub sender_id: Uuid,
    pub body: String,
    pub client_id: Option<String>,
    pub created_at: DateTimeUtc,
    pub edited_at: Option<DateTimeUtc>,
    pub deleted_at: Option<DateTimeUtc>,
    /// Sent while the sender was shadowbanned: shown to the sender (and to moderators) only.
    pub shadowed: bool,
    /// The conversation's change sequence at this message's latest change (create, edit,
    /// delete, reaction, pin).
    pub change_seq: i64,
    /// The message this one replies to (same conversation).
    pub reply_to_seq: Option<i64>,
    /// JSON `[[user_id, username], …]` of resolved mentions; NULL = none.
    pub mentions: Option<String>,
    /// When it was pinned (NULL = not pinned).
    pub pinned_at: Option<DateTimeUtc>,
    /// Who pinned it.
    pub pinned_by: Option<Uuid>,
}

#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}
