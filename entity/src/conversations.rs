//! `conversations`: rooms, groups and direct messages in one table (`kind`).
//! `last_seq` is the per-conversation sequence counter, bumped in each message insert's transaction.
use sea_orm::entity::prelude::*;

#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
#[sea_orm(table_name = "conversations")]
pub struct Model {
    #[sea_orm(primary_key, auto_increment = false)]
    pub id: Uuid,
    /// `room`, `group` or `dm` (CHECK constraint).
    pub kind: String,
    pub name: Option<String>,
    /// Lower-cased name, unique among rooms (NULL for DMs).
    #[sea_orm(unique)]
    pub name_key: Option<String>,
    pub topic: Option<String>,
    /// `public` or `private` (CHECK constraint).
    pub visibility: String,
    pub category: Option<String>,
    pub official: bool,
    pub auto_join: bool,
    /// `<smaller user id>:<larger user id>` for DMs, so a pair has exactly one DM.
    #[sea_orm(unique)]
    pub dm_key: Option<String>,
    pub created_by: Option<Uuid>,
    pub created_at: DateTimeUtc,
    pub last_seq: i64,
    /// Nobody new may join (holders of `rooms.moderate` still may).
    pub locked: bool,
    /// Only the room's owner and moderators (and `rooms.moderate`) may post.
    pub read_only: bool,
    /// Seconds between two messages of a plain member (0 = off; CHECK 0..=21600).
    pub slowmode_secs: i32,
    /// History was cleared up to this seq (0 = never).
    pub cleared_seq: i64,
    /// The change sequence: bumped by every message change (create, edit, delete, reaction,
    /// pin); `messages.change_seq` holds the value of each message's latest change.
    pub last_change: i64,
}

#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}
