//! `conversation_members`: membership state (`invited`, `joined`, `left`, `banned`), role and
//! read position.
use sea_orm::entity::prelude::*;

#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
#[sea_orm(table_name = "conversation_members")]
pub struct Model {
    #[sea_orm(primary_key, auto_increment = false)]
    pub conversation_id: Uuid,
    #[sea_orm(primary_key, auto_increment = false)]
    pub user_id: Uuid,
    /// `owner`, `moderator` or `member` (CHECK constraint).
    pub role: String,
    /// `invited`, `joined`, `left` or `banned` (CHECK constraint).
    pub state: String,
    pub last_read_seq: i64,
    pub updated_at: DateTimeUtc,
    /// Until when the member may not post (NULL: not muted).
    pub muted_until: Option<DateTimeUtc>,
    /// Who sent the (pending) invitation, when known.
    pub invited_by: Option<Uuid>,
    /// The read position other members may see (read receipts); moves only while the member
    /// sends receipts and is not invisible.
    pub receipt_seq: i64,
    /// Notification level here: `all`, `mentions` or `none` (CHECK constraint).
    pub notify: String,
}

#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}
