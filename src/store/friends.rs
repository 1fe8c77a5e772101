//! Queries on `friendships`: one row per unordered pair of users, stored with the smaller id in
//! `user_a` (see [`pair`]).

use chrono::{DateTime, Utc};
use entity::friendships::{self, Column, Entity};
use sea_orm::{
    ActiveValue::Set, ColumnTrait, Condition, ConnectionTrait, EntityTrait, PaginatorTrait,
    QueryFilter, QueryOrder, sea_query::Expr,
};

use super::conflict_on_unique;
use crate::domain::{DomainError, ErrorCode, FriendshipState, UserId};

/// A stored friendship or friend request.
#[derive(Clone, Debug)]
pub struct FriendshipRecord {
    /// The smaller id of the pair.
    pub user_a: UserId,
    /// The larger id of the pair.
    pub user_b: UserId,
    /// Who asked.
    pub requested_by: UserId,
    /// Pending or accepted.
    pub state: FriendshipState,
    /// When the request was made.
    pub created_at: DateTime<Utc>,
    /// When it was accepted (while pending: when it was made).
    pub updated_at: DateTime<Utc>,
}

impl TryFrom<friendships::Model> for FriendshipRecord {
    type Error = DomainError;

    fn try_from(m: friendships::Model) -> Result<Self, DomainError> {
        Ok(Self {
            user_a: UserId(m.user_a),
            user_b: UserId(m.user_b),
            requested_by: UserId(m.requested_by),
            state: m.state.parse()?,
            created_at: m.created_at,
            updated_at: m.updated_at,
        })
    }
}

impl FriendshipRecord {
    /// The member of the pair that is not `me`.
    pub fn other(&self, me: UserId) -> UserId {
        if self.user_a == me {
            self.user_b
        } else {
            self.user_a
        }
    }
}

/// The pair as stored: `(smaller id, larger id)`.
pub fn pair(x: UserId, y: UserId) -> (UserId, UserId) {
    if x < y { (x, y) } else { (y, x) }
}

fn of_pair(x: UserId, y: UserId) -> Condition {
    let (a, b) = pair(x, y);
    Condition::all()
        .add(Column::UserA.eq(a.0))
        .add(Column::UserB.eq(b.0))
}

/// The row of the pair `x`, `y`, if any.
pub async fn get(
    db: &impl ConnectionTrait,
    x: UserId,
    y: UserId,
) -> Result<Option<FriendshipRecord>, DomainError> {
    Entity::find()
        .filter(of_pair(x, y))
        .one(db)
        .await?
        .map(FriendshipRecord::try_from)
        .transpose()
}

/// Stores a pending request from `from` to `to`. Errors: 409 `request_pending` when a row for
/// the pair appeared meanwhile.
pub async fn insert_request(
    db: &impl ConnectionTrait,
    from: UserId,
    to: UserId,
    now: DateTime<Utc>,
) -> Result<FriendshipRecord, DomainError> {
    let (a, b) = pair(from, to);
    Entity::insert(friendships::ActiveModel {
        user_a: Set(a.0),
        user_b: Set(b.0),
        requested_by: Set(from.0),
        state: Set(FriendshipState::Pending.as_str().to_owned()),
        created_at: Set(now),
        updated_at: Set(now),
    })
    .exec_with_returning(db)
    .await
    .map_err(conflict_on_unique(
        ErrorCode::RequestPending,
        "a friend request between you is already pending",
    ))?
    .try_into()
}

/// Accepts the pending request that `requester` sent; false when there is none.
pub async fn accept(
    db: &impl ConnectionTrait,
    requester: UserId,
    addressee: UserId,
    now: DateTime<Utc>,
) -> Result<bool, DomainError> {
    let result = Entity::update_many()
        .col_expr(
            Column::State,
            Expr::value(FriendshipState::Accepted.as_str()),
        )
        .col_expr(Column::UpdatedAt, Expr::value(now))
        .filter(of_pair(requester, addressee))
        .filter(Column::RequestedBy.eq(requester.0))
        .filter(Column::State.eq(FriendshipState::Pending.as_str()))
        .exec(db)
        .await?;
    Ok(result.rows_affected == 1)
}

/// Deletes the pair's row if it is in `state` (and, when given, was requested by
/// `requested_by`); returns whether a row was deleted.
pub async fn delete(
    db: &impl ConnectionTrait,
    x: UserId,
    y: UserId,
    state: FriendshipState,
    requested_by: Option<UserId>,
) -> Result<bool, DomainError> {
    let mut query = Entity::delete_many()
        .filter(of_pair(x, y))
        .filter(Column::State.eq(state.as_str()));
    if let Some(requester) = requested_by {
        query = query.filter(Column::RequestedBy.eq(requester.0));
    }
    Ok(query.exec(db).await?.rows_affected == 1)
}

/// Deletes the pair's row whatever its state; returns it as it was.
pub async fn remove_any(
    db: &impl ConnectionTrait,
    x: UserId,
    y: UserId,
) -> Result<Option<FriendshipRecord>, DomainError> {
    let existing = get(db, x, y).await?;
    if existing.is_some() {
        Entity::delete_many().filter(of_pair(x, y)).exec(db).await?;
    }
    Ok(existing)
}

/// Every row `user` is part of (friends and pending requests both ways), oldest change first.
pub async fn of_user(
    db: &impl ConnectionTrait,
    user: UserId,
) -> Result<Vec<FriendshipRecord>, DomainError> {
    Entity::find()
        .filter(
            Condition::any()
                .add(Column::UserA.eq(user.0))
                .add(Column::UserB.eq(user.0)),
        )
        .order_by_asc(Column::UpdatedAt)
        .all(db)
        .await?
        .into_iter()
        .map(FriendshipRecord::try_from)
        .collect()
}

/// How many requests `user` sent that are still pending.
pub async fn pending_outgoing(db: &impl ConnectionTrait, user: UserId) -> Result<u64, DomainError> {
    Ok(Entity::find()
        .filter(Column::RequestedBy.eq(user.0))
        .filter(Column::State.eq(FriendshipState::Pending.as_str()))
        .count(db)
        .await?)
}
