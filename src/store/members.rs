//! Queries on `conversation_members`.

use std::collections::HashMap;

use chrono::{DateTime, Utc};
use entity::conversation_members::{self, Column, Entity};
use sea_orm::{
    ActiveValue::Set,
    ColumnTrait, ConnectionTrait, EntityTrait, QueryFilter, QuerySelect,
    sea_query::{Expr, OnConflict},
};
use uuid::Uuid;

use super::{MemberRow, UserRow};
use crate::domain::DomainError;

/// Membership states stored in `conversation_members.state`.
pub mod state {
    /// Invited to a private room, not yet joined.
    pub const INVITED: &str = "invited";
    /// A member: may read and post.
    pub const JOINED: &str = "joined";
    /// Was a member.
    pub const LEFT: &str = "left";
}

/// The membership row of `user` in `conversation`.
pub async fn get(
    db: &impl ConnectionTrait,
    conversation: Uuid,
    user: Uuid,
) -> Result<Option<MemberRow>, DomainError> {
    Ok(Entity::find_by_id((conversation, user)).one(db).await?)
}

/// Inserts or updates a membership to `state` with `role`. `last_read_seq` is set on insert
/// only, so a re-join keeps the old read position.
pub async fn upsert(
    db: &impl ConnectionTrait,
    conversation: Uuid,
    user: Uuid,
    role: &str,
    state: &str,
    last_read_seq: i64,
    now: DateTime<Utc>,
) -> Result<(), DomainError> {
    let model = conversation_members::ActiveModel {
        conversation_id: Set(conversation),
        user_id: Set(user),
        role: Set(role.to_owned()),
        state: Set(state.to_owned()),
        last_read_seq: Set(last_read_seq),
        updated_at: Set(now),
    };
    Entity::insert(model)
        .on_conflict(
            OnConflict::columns([Column::ConversationId, Column::UserId])
                .update_columns([Column::Role, Column::State, Column::UpdatedAt])
                .to_owned(),
        )
        .exec(db)
        .await?;
    Ok(())
}

/// Sets the state of an existing membership.
pub async fn set_state(
    db: &impl ConnectionTrait,
    conversation: Uuid,
    user: Uuid,
    state: &str,
    now: DateTime<Utc>,
) -> Result<(), DomainError> {
    Entity::update_many()
        .col_expr(Column::State, Expr::value(state))
        .col_expr(Column::UpdatedAt, Expr::value(now))
        .filter(Column::ConversationId.eq(conversation))
        .filter(Column::UserId.eq(user))
        .exec(db)
        .await?;
    Ok(())
}

/// The user's memberships that are `joined` or `invited`.
pub async fn for_user(
    db: &impl ConnectionTrait,
    user: Uuid,
) -> Result<Vec<MemberRow>, DomainError> {
    Ok(Entity::find()
        .filter(Column::UserId.eq(user))
        .filter(Column::State.is_in([state::JOINED, state::INVITED]))
        .all(db)
        .await?)
}

/// Ids of the joined members of a conversation.
pub async fn joined_user_ids(
    db: &impl ConnectionTrait,
    conversation: Uuid,
) -> Result<Vec<Uuid>, DomainError> {
    Ok(Entity::find()
        .select_only()
        .column(Column::UserId)
        .filter(Column::ConversationId.eq(conversation))
        .filter(Column::State.eq(state::JOINED))
        .into_tuple()
        .all(db)
        .await?)
}

/// Number of joined members per conversation.
pub async fn joined_counts(
    db: &impl ConnectionTrait,
    conversations: Vec<Uuid>,
) -> Result<HashMap<Uuid, i64>, DomainError> {
    if conversations.is_empty() {
        return Ok(HashMap::new());
    }
    let rows: Vec<(Uuid, i64)> = Entity::find()
        .select_only()
        .column(Column::ConversationId)
        .column_as(Column::UserId.count(), "n")
        .filter(Column::ConversationId.is_in(conversations))
        .filter(Column::State.eq(state::JOINED))
        .group_by(Column::ConversationId)
        .into_tuple()
        .all(db)
        .await?;
    Ok(rows.into_iter().collect())
}

/// For each DM, the member that is not `me`.
pub async fn dm_peers(
    db: &impl ConnectionTrait,
    dms: Vec<Uuid>,
    me: Uuid,
) -> Result<HashMap<Uuid, UserRow>, DomainError> {
    if dms.is_empty() {
        return Ok(HashMap::new());
    }
    let rows = Entity::find()
        .filter(Column::ConversationId.is_in(dms))
        .filter(Column::UserId.ne(me))
        .find_also_related_users(db)
        .await?;
    Ok(rows
        .into_iter()
        .filter_map(|(m, u)| u.map(|u| (m.conversation_id, u)))
        .collect())
}

/// Joined members with their accounts.
pub async fn joined_with_users(
    db: &impl ConnectionTrait,
    conversation: Uuid,
) -> Result<Vec<(MemberRow, UserRow)>, DomainError> {
    let rows = Entity::find()
        .filter(Column::ConversationId.eq(conversation))
        .filter(Column::State.eq(state::JOINED))
        .find_also_related_users(db)
        .await?;
    Ok(rows
        .into_iter()
        .filter_map(|(m, u)| u.map(|u| (m, u)))
        .collect())
}

/// Moves the read position forward to `seq` (never backwards).
pub async fn mark_read(
    db: &impl ConnectionTrait,
    conversation: Uuid,
    user: Uuid,
    seq: i64,
) -> Result<(), DomainError> {
    Entity::update_many()
        .col_expr(Column::LastReadSeq, Expr::value(seq))
        .filter(Column::ConversationId.eq(conversation))
        .filter(Column::UserId.eq(user))
        .filter(Column::LastReadSeq.lt(seq))
        .exec(db)
        .await?;
    Ok(())
}

/// Loads members plus their user rows without declaring entity relations.
trait FindAlsoUsers {
    async fn find_also_related_users(
        self,
        db: &impl ConnectionTrait,
    ) -> Result<Vec<(MemberRow, Option<UserRow>)>, sea_orm::DbErr>;
}

impl FindAlsoUsers for sea_orm::Select<Entity> {
    async fn find_also_related_users(
        self,
        db: &impl ConnectionTrait,
    ) -> Result<Vec<(MemberRow, Option<UserRow>)>, sea_orm::DbErr> {
        let members = self.all(db).await?;
        let ids: Vec<Uuid> = members.iter().map(|m| m.user_id).collect();
        let users: HashMap<Uuid, UserRow> = if ids.is_empty() {
            HashMap::new()
        } else {
            entity::users::Entity::find()
                .filter(entity::users::Column::Id.is_in(ids))
                .all(db)
                .await?
                .into_iter()
                .map(|u| (u.id, u))
                .collect()
        };
        Ok(members
            .into_iter()
            .map(|m| {
                let user = users.get(&m.user_id).cloned();
                (m, user)
            })
            .collect())
    }
}
