//! `sessions`: one row per login. The id is the refresh-token family id and the `sid` claim of
//! its access tokens; `ended_at` set means every token of the session is refused.

use sea_orm::entity::prelude::*;

#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
#[sea_orm(table_name = "sessions")]
pub struct Model {
    #[sea_orm(primary_key, auto_increment = false)]
    pub id: Uuid,
    pub user_id: Uuid,
    /// Device label derived from the User-Agent at login (`Firefox on Linux`).
    pub device: String,
    /// Client address at login, then at the latest recorded activity.
    pub ip: Option<String>,
    pub created_at: DateTimeUtc,
    /// Latest activity by the person (throttled; see the server's sessions service).
    pub last_active_at: DateTimeUtc,
    pub ended_at: Option<DateTimeUtc>,
    /// Why it ended (CHECK constraint; the server's `SessionEndReason`).
    pub end_reason: Option<String>,
}

#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}
