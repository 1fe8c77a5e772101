//! Queries on `sessions`: one row per login, the durable record of which sessions ended.

use chrono::{DateTime, Utc};
use entity::sessions::{self, Column, Entity};
use sea_orm::{
    ActiveValue::Set, ColumnTrait, ConnectionTrait, EntityTrait, QueryFilter, QueryOrder,
    QuerySelect, sea_query::Expr,
};
use uuid::Uuid;

use crate::domain::{DomainError, SessionEndReason, SessionId, UserId};

/// A stored session.
#[derive(Clone, Debug)]
pub struct SessionRecord {
    /// Id (= refresh-token family id = the access token's `sid`).
    pub id: SessionId,
    /// Owner.
    pub user_id: UserId,
    /// Device label.
    pub device: String,
    /// Latest client address.
    pub ip: Option<String>,
    /// Login time.
    pub created_at: DateTime<Utc>,
    /// Latest recorded activity.
    pub last_active_at: DateTime<Utc>,
    /// Why it ended; `None` while it is live.
    pub ended: Option<SessionEndReason>,
}

impl TryFrom<sessions::Model> for SessionRecord {
    type Error = DomainError;

    fn try_from(m: sessions::Model) -> Result<Self, DomainError> {
        let ended = match (m.ended_at, m.end_reason) {
            (None, _) => None,
            (Some(_), Some(reason)) => Some(reason.parse()?),
            (Some(_), None) => Some(SessionEndReason::Logout),
        };
        Ok(Self {
            id: SessionId(m.id),
            user_id: UserId(m.user_id),
            device: m.device,
            ip: m.ip,
            created_at: m.created_at,
            last_active_at: m.last_active_at,
            ended,
        })
    }
}

/// Fields of a new session.
pub struct NewSession<'a> {
    /// Id (the refresh-token family).
    pub id: SessionId,
    /// Owner.
    pub user_id: UserId,
    /// Device label (at most 128 characters; longer is cut).
    pub device: &'a str,
    /// Client address.
    pub ip: Option<String>,
    /// Now.
    pub now: DateTime<Utc>,
}

/// Stores a new live session.
pub async fn insert(db: &impl ConnectionTrait, new: NewSession<'_>) -> Result<(), DomainError> {
    let device: String = new.device.chars().take(128).collect();
    Entity::insert(sessions::ActiveModel {
        id: Set(new.id.0),
        user_id: Set(new.user_id.0),
        device: Set(device),
        ip: Set(new.ip),
        created_at: Set(new.now),
        last_active_at: Set(new.now),
        ended_at: Set(None),
        end_reason: Set(None),
    })
    .exec(db)
    .await?;
    Ok(())
}

/// The session with this id.
pub async fn by_id(
    db: &impl ConnectionTrait,
    id: SessionId,
) -> Result<Option<SessionRecord>, DomainError> {
    Entity::find_by_id(id.0)
        .one(db)
        .await?
        .map(SessionRecord::try_from)
        .transpose()
}

/// A user's live sessions, most recently active first.
pub async fn live_of(
    db: &impl ConnectionTrait,
    user: UserId,
) -> Result<Vec<SessionRecord>, DomainError> {
    Entity::find()
        .filter(Column::UserId.eq(user.0))
        .filter(Column::EndedAt.is_null())
        .order_by_desc(Column::LastActiveAt)
        .order_by_desc(Column::Id)
        .all(db)
        .await?
        .into_iter()
        .map(SessionRecord::try_from)
        .collect()
}

/// Records activity: `last_active_at = now` (and the address, when known) of a live session.
pub async fn touch(
    db: &impl ConnectionTrait,
    id: SessionId,
    ip: Option<String>,
    now: DateTime<Utc>,
) -> Result<(), DomainError> {
    let mut update = Entity::update_many().col_expr(Column::LastActiveAt, Expr::value(now));
    if let Some(ip) = ip {
        update = update.col_expr(Column::Ip, Expr::value(ip));
    }
    update
        .filter(Column::Id.eq(id.0))
        .filter(Column::EndedAt.is_null())
        .exec(db)
        .await?;
    Ok(())
}

/// Which of a user's sessions to end.
#[derive(Clone, Copy, Debug)]
pub enum Which {
    /// This one.
    One(SessionId),
    /// Every live one but this.
    AllBut(SessionId),
    /// Every live one.
    All,
}

/// Ends the chosen live sessions of `user` with `reason`; returns the ones that were live (an
/// already ended session is left as it was).
pub async fn end(
    db: &impl ConnectionTrait,
    user: UserId,
    which: Which,
    reason: SessionEndReason,
    now: DateTime<Utc>,
) -> Result<Vec<SessionId>, DomainError> {
    let mut select = Entity::find()
        .select_only()
        .column(Column::Id)
        .filter(Column::UserId.eq(user.0))
        .filter(Column::EndedAt.is_null());
    select = match which {
        Which::One(id) => select.filter(Column::Id.eq(id.0)),
        Which::AllBut(id) => select.filter(Column::Id.ne(id.0)),
        Which::All => select,
    };
    let ids: Vec<Uuid> = select.into_tuple().all(db).await?;
    if ids.is_empty() {
        return Ok(Vec::new());
    }
    Entity::update_many()
        .col_expr(Column::EndedAt, Expr::value(now))
        .col_expr(Column::EndReason, Expr::value(reason.as_str()))
        .filter(Column::Id.is_in(ids.clone()))
        .filter(Column::EndedAt.is_null())
        .exec(db)
        .await?;
    Ok(ids.into_iter().map(SessionId).collect())
}

/// Live sessions whose latest activity is before `cutoff` (idle), at most `limit`, as
/// `(session, owner)`.
pub async fn idle_before(
    db: &impl ConnectionTrait,
    cutoff: DateTime<Utc>,
    limit: u64,
) -> Result<Vec<(SessionId, UserId)>, DomainError> {
    let rows: Vec<(Uuid, Uuid)> = Entity::find()
        .select_only()
        .column(Column::Id)
        .column(Column::UserId)
        .filter(Column::EndedAt.is_null())
        .filter(Column::LastActiveAt.lt(cutoff))
        .order_by_asc(Column::LastActiveAt)
        .limit(limit)
        .into_tuple()
        .all(db)
        .await?;
    Ok(rows
        .into_iter()
        .map(|(s, u)| (SessionId(s), UserId(u)))
        .collect())
}
