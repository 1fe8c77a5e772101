//! Queries on `blocks`: who blocked whom (one row per direction).

use chrono::{DateTime, Utc};
use entity::blocks::{self, Column, Entity};
use sea_orm::{
    ActiveValue::Set, ColumnTrait, Condition, ConnectionTrait, EntityTrait, QueryFilter,
    QueryOrder, sea_query::OnConflict,
};

use crate::domain::{DomainError, UserId};

/// A stored block.
#[derive(Clone, Debug)]
pub struct BlockRecord {
    /// Who blocked.
    pub blocker: UserId,
    /// Who is blocked.
    pub blocked: UserId,
    /// When.
    pub created_at: DateTime<Utc>,
}

impl From<blocks::Model> for BlockRecord {
    fn from(m: blocks::Model) -> Self {
        Self {
            blocker: UserId(m.blocker_id),
            blocked: UserId(m.blocked_id),
            created_at: m.created_at,
        }
    }
}

fn one_way(blocker: UserId, blocked: UserId) -> Condition {
    Condition::all()
        .add(Column::BlockerId.eq(blocker.0))
        .add(Column::BlockedId.eq(blocked.0))
}

/// The blocks between `x` and `y`: `(x blocked y, y blocked x)`.
pub async fn between(
    db: &impl ConnectionTrait,
    x: UserId,
    y: UserId,
) -> Result<(bool, bool), DomainError> {
    let rows = Entity::find()
        .filter(Condition::any().add(one_way(x, y)).add(one_way(y, x)))
        .all(db)
        .await?;
    Ok((
        rows.iter().any(|r| r.blocker_id == x.0),
        rows.iter().any(|r| r.blocker_id == y.0),
    ))
}

/// `blocker` blocks `blocked` (nothing changes when they already did). Returns the stored row
/// and whether it is new.
pub async fn insert(
    db: &impl ConnectionTrait,
    blocker: UserId,
    blocked: UserId,
    now: DateTime<Utc>,
) -> Result<(BlockRecord, bool), DomainError> {
    let inserted = Entity::insert(blocks::ActiveModel {
        blocker_id: Set(blocker.0),
        blocked_id: Set(blocked.0),
        created_at: Set(now),
    })
    .on_conflict(
        OnConflict::columns([Column::BlockerId, Column::BlockedId])
            .do_nothing()
            .to_owned(),
    )
    .exec_without_returning(db)
    .await?;
    let row = Entity::find()
        .filter(one_way(blocker, blocked))
        .one(db)
        .await?
        .ok_or_else(|| DomainError::internal("block row missing after insert"))?;
    Ok((row.into(), inserted == 1))
}

/// `blocker` unblocks `blocked`; returns whether there was a block.
pub async fn delete(
    db: &impl ConnectionTrait,
    blocker: UserId,
    blocked: UserId,
) -> Result<bool, DomainError> {
    Ok(Entity::delete_many()
        .filter(one_way(blocker, blocked))
        .exec(db)
        .await?
        .rows_affected
        == 1)
}

/// The users `blocker` blocked, most recent first.
pub async fn by_blocker(
    db: &impl ConnectionTrait,
    blocker: UserId,
) -> Result<Vec<BlockRecord>, DomainError> {
    Ok(Entity::find()
        .filter(Column::BlockerId.eq(blocker.0))
        .order_by_desc(Column::CreatedAt)
        .all(db)
        .await?
        .into_iter()
        .map(BlockRecord::from)
        .collect())
}

/// Every user in a block with `user`, either direction (each once).
pub async fn related(db: &impl ConnectionTrait, user: UserId) -> Result<Vec<UserId>, DomainError> {
    let rows = Entity::find()
        .filter(
            Condition::any()
                .add(Column::BlockerId.eq(user.0))
                .add(Column::BlockedId.eq(user.0)),
        )
        .all(db)
        .await?;
    let mut ids: Vec<UserId> = rows
        .into_iter()
        .map(|r| {
            if r.blocker_id == user.0 {
                UserId(r.blocked_id)
            } else {
                UserId(r.blocker_id)
            }
        })
        .collect();
    ids.sort_unstable();
    ids.dedup();
    Ok(ids)
}
