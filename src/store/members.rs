//! Queries on `conversation_members`.

use std::collections::HashMap;

use chrono::{DateTime, Utc};
use entity::conversation_members::{self, Column, Entity};
use sea_orm::{
    ActiveValue::Set,
    ColumnTrait, ConnectionTrait, EntityTrait, PaginatorTrait, QueryFilter, QueryOrder,
    QuerySelect,
    sea_query::{Expr, ExprTrait, OnConflict, Query},
};

use super::users::UserRecord;
use crate::domain::{
    ConversationId, ConversationRole, DomainError, MemberFacts, MembershipState, NotifyLevel,
    Timestamp, UserId,
};

/// A stored membership.
#[derive(Clone, Debug)]
pub struct MemberRecord {
    /// The conversation.
    pub conversation_id: ConversationId,
    /// The user.
    pub user_id: UserId,
    /// Role inside the conversation.
    pub role: ConversationRole,
    /// Invited, joined, left or banned.
    pub state: MembershipState,
    /// Highest seq the user has read.
    pub last_read_seq: i64,
    /// Last change.
    pub updated_at: DateTime<Utc>,
    /// Until when the member may not post (`None`: never muted or unmuted; a past time: the
    /// mute ended). Kept by [`upsert`]: only [`set_muted`] changes it.
    pub muted_until: Option<DateTime<Utc>>,
    /// Who sent the invitation (pending invitations; `None` when unknown).
    pub invited_by: Option<UserId>,
    /// The read position other members may see (read receipts).
    pub receipt_seq: i64,
    /// Notification level here.
    pub notify: NotifyLevel,
}

impl TryFrom<conversation_members::Model> for MemberRecord {
    type Error = DomainError;

    fn try_from(m: conversation_members::Model) -> Result<Self, DomainError> {
        Ok(Self {
            conversation_id: ConversationId(m.conversation_id),
            user_id: UserId(m.user_id),
            role: m.role.parse()?,
            state: m.state.parse()?,
            last_read_seq: m.last_read_seq,
            updated_at: m.updated_at,
            muted_until: m.muted_until,
            invited_by: m.invited_by.map(UserId),
            receipt_seq: m.receipt_seq,
            notify: m.notify.parse()?,
        })
    }
}

impl MemberRecord {
    /// The facts permission decisions look at.
    pub fn facts(&self) -> MemberFacts {
        MemberFacts {
            user_id: self.user_id,
            state: self.state,
            role: self.role,
            muted_until: self.muted_until.map(Timestamp),
        }
    }

    /// The end of the member's mute, if it is still muted at `now`.
    pub fn muted_at(&self, now: DateTime<Utc>) -> Option<DateTime<Utc>> {
        self.muted_until.filter(|until| *until > now)
    }
}

fn records(rows: Vec<conversation_members::Model>) -> Result<Vec<MemberRecord>, DomainError> {
    rows.into_iter().map(MemberRecord::try_from).collect()
}

/// The membership row of `user` in `conversation`.
pub async fn get(
    db: &impl ConnectionTrait,
    conversation: ConversationId,
    user: UserId,
) -> Result<Option<MemberRecord>, DomainError> {
    Entity::find_by_id((conversation.0, user.0))
        .one(db)
        .await?
        .map(MemberRecord::try_from)
        .transpose()
}

/// Inserts or updates a membership and returns the stored row. `last_read_seq` and
/// `muted_until` are set on insert only, so a re-join keeps the old read position and a mute
/// (the returned row has them); `invited_by` is replaced.
pub async fn upsert(
    db: &impl ConnectionTrait,
    m: &MemberRecord,
) -> Result<MemberRecord, DomainError> {
    let model = conversation_members::ActiveModel {
        conversation_id: Set(m.conversation_id.0),
        user_id: Set(m.user_id.0),
        role: Set(m.role.as_str().to_owned()),
        state: Set(m.state.as_str().to_owned()),
        last_read_seq: Set(m.last_read_seq),
        updated_at: Set(m.updated_at),
        muted_until: Set(m.muted_until),
        invited_by: Set(m.invited_by.map(|u| u.0)),
        receipt_seq: Set(m.receipt_seq),
        notify: Set(m.notify.as_str().to_owned()),
    };
    Entity::insert(model)
        .on_conflict(
            OnConflict::columns([Column::ConversationId, Column::UserId])
                .update_columns([
                    Column::Role,
                    Column::State,
                    Column::UpdatedAt,
                    Column::InvitedBy,
                ])
                .to_owned(),
        )
        .exec_with_returning(db)
        .await?
        .try_into()
}

/// Sets the state of an existing membership.
pub async fn set_state(
    db: &impl ConnectionTrait,
    conversation: ConversationId,
    user: UserId,
    state: MembershipState,
    now: DateTime<Utc>,
) -> Result<(), DomainError> {
    Entity::update_many()
        .col_expr(Column::State, Expr::value(state.as_str()))
        .col_expr(Column::UpdatedAt, Expr::value(now))
        .filter(Column::ConversationId.eq(conversation.0))
        .filter(Column::UserId.eq(user.0))
        .exec(db)
        .await?;
    Ok(())
}

/// Sets a member's role.
pub async fn set_role(
    db: &impl ConnectionTrait,
    conversation: ConversationId,
    user: UserId,
    role: ConversationRole,
    now: DateTime<Utc>,
) -> Result<(), DomainError> {
    Entity::update_many()
        .col_expr(Column::Role, Expr::value(role.as_str()))
        .col_expr(Column::UpdatedAt, Expr::value(now))
        .filter(Column::ConversationId.eq(conversation.0))
        .filter(Column::UserId.eq(user.0))
        .exec(db)
        .await?;
    Ok(())
}

/// Withdraws every pending invitation to `conversation` (state `left`); returns the invitees.
/// Used when the last member leaves a group: nobody may reopen an abandoned group (and read its
/// history) through an old invitation.
pub async fn withdraw_invitations(
    db: &impl ConnectionTrait,
    conversation: ConversationId,
    now: DateTime<Utc>,
) -> Result<Vec<UserId>, DomainError> {
    let invited: Vec<uuid::Uuid> = Entity::find()
        .select_only()
        .column(Column::UserId)
        .filter(Column::ConversationId.eq(conversation.0))
        .filter(Column::State.eq(MembershipState::Invited.as_str()))
        .into_tuple()
        .all(db)
        .await?;
    Entity::update_many()
        .col_expr(Column::State, Expr::value(MembershipState::Left.as_str()))
        .col_expr(Column::UpdatedAt, Expr::value(now))
        .filter(Column::ConversationId.eq(conversation.0))
        .filter(Column::State.eq(MembershipState::Invited.as_str()))
        .exec(db)
        .await?;
    Ok(invited.into_iter().map(UserId).collect())
}

/// Who takes over `conversation` when its owner's account goes: the joined moderator, else the
/// joined member, who has been in that state longest (`updated_at`, then user id); `None` when
/// nobody is left.
pub async fn successor(
    db: &impl ConnectionTrait,
    conversation: ConversationId,
) -> Result<Option<MemberRecord>, DomainError> {
    for role in [ConversationRole::Moderator, ConversationRole::Member] {
        let row = Entity::find()
            .filter(Column::ConversationId.eq(conversation.0))
            .filter(Column::State.eq(MembershipState::Joined.as_str()))
            .filter(Column::Role.eq(role.as_str()))
            .order_by_asc(Column::UpdatedAt)
            .order_by_asc(Column::UserId)
            .one(db)
            .await?;
        if let Some(row) = row {
            return Ok(Some(MemberRecord::try_from(row)?));
        }
    }
    Ok(None)
}

/// Sets (or, with `None`, lifts) a member's mute.
pub async fn set_muted(
    db: &impl ConnectionTrait,
    conversation: ConversationId,
    user: UserId,
    until: Option<DateTime<Utc>>,
    now: DateTime<Utc>,
) -> Result<(), DomainError> {
    Entity::update_many()
        .col_expr(Column::MutedUntil, Expr::value(until))
        .col_expr(Column::UpdatedAt, Expr::value(now))
        .filter(Column::ConversationId.eq(conversation.0))
        .filter(Column::UserId.eq(user.0))
        .exec(db)
        .await?;
    Ok(())
}

/// The user's pending invitations (`invited` memberships), newest first.
pub async fn invitations_of(
    db: &impl ConnectionTrait,
    user: UserId,
) -> Result<Vec<MemberRecord>, DomainError> {
    records(
        Entity::find()
            .filter(Column::UserId.eq(user.0))
            .filter(Column::State.eq(MembershipState::Invited.as_str()))
            .order_by_desc(Column::UpdatedAt)
            .all(db)
            .await?,
    )
}

/// Ends every `joined` or `invited` membership of `user` (account deletion) in one statement;
/// returns them as they were.
pub async fn leave_all(
    db: &impl ConnectionTrait,
    user: UserId,
    now: DateTime<Utc>,
) -> Result<Vec<MemberRecord>, DomainError> {
    let current = for_user(db, user, None, None).await?;
    Entity::update_many()
        .col_expr(Column::State, Expr::value(MembershipState::Left.as_str()))
        .col_expr(Column::UpdatedAt, Expr::value(now))
        .filter(Column::UserId.eq(user.0))
        .filter(Column::State.is_in([
            MembershipState::Joined.as_str(),
            MembershipState::Invited.as_str(),
        ]))
        .exec(db)
        .await?;
    Ok(current)
}

/// The user's memberships that are `joined` or `invited`, ordered by conversation id, after
/// `after`, at most `limit` rows (`None`: all).
pub async fn for_user(
    db: &impl ConnectionTrait,
    user: UserId,
    after: Option<ConversationId>,
    limit: Option<u64>,
) -> Result<Vec<MemberRecord>, DomainError> {
    let mut query = Entity::find()
        .filter(Column::UserId.eq(user.0))
        .filter(Column::State.is_in([
            MembershipState::Joined.as_str(),
            MembershipState::Invited.as_str(),
        ]))
        .order_by_asc(Column::ConversationId);
    if let Some(after) = after {
        query = query.filter(Column::ConversationId.gt(after.0));
    }
    if let Some(limit) = limit {
        query = query.limit(limit);
    }
    records(query.all(db).await?)
}

/// Number of joined members per conversation.
pub async fn joined_counts(
    db: &impl ConnectionTrait,
    conversations: &[ConversationId],
) -> Result<HashMap<ConversationId, i64>, DomainError> {
    if conversations.is_empty() {
        return Ok(HashMap::new());
    }
    let ids: Vec<_> = conversations.iter().map(|c| c.0).collect();
    let rows: Vec<(uuid::Uuid, i64)> = Entity::find()
        .select_only()
        .column(Column::ConversationId)
        .column_as(Column::UserId.count(), "n")
        .filter(Column::ConversationId.is_in(ids))
        .filter(Column::State.eq(MembershipState::Joined.as_str()))
        .group_by(Column::ConversationId)
        .into_tuple()
        .all(db)
        .await?;
    Ok(rows
        .into_iter()
        .map(|(id, n)| (ConversationId(id), n))
        .collect())
}

/// For each DM, the member that is not `me`.
pub async fn dm_peers(
    db: &impl ConnectionTrait,
    dms: &[ConversationId],
    me: UserId,
) -> Result<HashMap<ConversationId, UserRecord>, DomainError> {
    if dms.is_empty() {
        return Ok(HashMap::new());
    }
    let ids: Vec<_> = dms.iter().map(|c| c.0).collect();
    let rows = records(
        Entity::find()
            .filter(Column::ConversationId.is_in(ids))
            .filter(Column::UserId.ne(me.0))
            .all(db)
            .await?,
    )?;
    let users: Vec<UserId> = rows.iter().map(|m| m.user_id).collect();
    let users = super::users::by_ids(db, &users).await?;
    Ok(rows
        .into_iter()
        .filter_map(|m| {
            users
                .get(&m.user_id)
                .cloned()
                .map(|u| (m.conversation_id, u))
        })
        .collect())
}

/// One page of the joined members of a conversation with their accounts, ordered by username,
/// after `after_username`; up to `limit + 1` rows so the caller can tell whether more exist.
pub async fn joined_page(
    db: &impl ConnectionTrait,
    conversation: ConversationId,
    after_username: Option<&str>,
    limit: u64,
) -> Result<Vec<(MemberRecord, UserRecord)>, DomainError> {
    use entity::users;
    let members = Query::select()
        .column(Column::UserId)
        .from(Entity)
        .and_where(Expr::col(Column::ConversationId).eq(conversation.0))
        .and_where(Expr::col(Column::State).eq(MembershipState::Joined.as_str()))
        .to_owned();
    let mut query = users::Entity::find()
        .filter(users::Column::Id.in_subquery(members))
        .order_by_asc(users::Column::Username)
        .limit(limit + 1);
    if let Some(after) = after_username {
        query = query.filter(users::Column::Username.gt(after));
    }
    let accounts = query
        .all(db)
        .await?
        .into_iter()
        .map(UserRecord::try_from)
        .collect::<Result<Vec<_>, _>>()?;
    if accounts.is_empty() {
        return Ok(Vec::new());
    }
    let ids: Vec<_> = accounts.iter().map(|u| u.id.0).collect();
    let mut rows: HashMap<UserId, MemberRecord> = records(
        Entity::find()
            .filter(Column::ConversationId.eq(conversation.0))
            .filter(Column::UserId.is_in(ids))
            .all(db)
            .await?,
    )?
    .into_iter()
    .map(|m| (m.user_id, m))
    .collect();
    Ok(accounts
        .into_iter()
        .filter_map(|u| rows.remove(&u.id).map(|m| (m, u)))
        .collect())
}

/// How many pending invitations (`invited` memberships) `user` has.
pub async fn pending_invites(db: &impl ConnectionTrait, user: UserId) -> Result<u64, DomainError> {
    Ok(Entity::find()
        .filter(Column::UserId.eq(user.0))
        .filter(Column::State.eq(MembershipState::Invited.as_str()))
        .count(db)
        .await?)
}

/// The conversations a user has joined (what the realtime layer subscribes a new connection to).
pub async fn joined_conversations(
    db: &impl ConnectionTrait,
    user: UserId,
) -> Result<Vec<ConversationId>, DomainError> {
    let ids: Vec<uuid::Uuid> = Entity::find()
        .select_only()
        .column(Column::ConversationId)
        .filter(Column::UserId.eq(user.0))
        .filter(Column::State.eq(MembershipState::Joined.as_str()))
        .into_tuple()
        .all(db)
        .await?;
    Ok(ids.into_iter().map(ConversationId).collect())
}

/// Moves the read position forward to `seq` (never backwards).
pub async fn mark_read(
    db: &impl ConnectionTrait,
    conversation: ConversationId,
    user: UserId,
    seq: i64,
) -> Result<(), DomainError> {
    move_forward(db, conversation, user, Column::LastReadSeq, seq).await
}

/// Sets a position column of one membership to `seq` if it is below it.
async fn move_forward(
    db: &impl ConnectionTrait,
    conversation: ConversationId,
    user: UserId,
    column: Column,
    seq: i64,
) -> Result<(), DomainError> {
    Entity::update_many()
        .col_expr(column, Expr::value(seq))
        .filter(Column::ConversationId.eq(conversation.0))
        .filter(Column::UserId.eq(user.0))
        .filter(column.lt(seq))
        .exec(db)
        .await?;
    Ok(())
}

/// The user's membership rows (any state) in these conversations.
pub async fn of_user_in(
    db: &impl ConnectionTrait,
    user: UserId,
    conversations: &[ConversationId],
) -> Result<Vec<MemberRecord>, DomainError> {
    if conversations.is_empty() {
        return Ok(Vec::new());
    }
    let ids: Vec<_> = conversations.iter().map(|c| c.0).collect();
    records(
        Entity::find()
            .filter(Column::UserId.eq(user.0))
            .filter(Column::ConversationId.is_in(ids))
            .all(db)
            .await?,
    )
}

/// Every user with a membership row in `conversation` (joined, invited, left or banned).
pub async fn all_users(
    db: &impl ConnectionTrait,
    conversation: ConversationId,
) -> Result<Vec<UserId>, DomainError> {
    let rows: Vec<uuid::Uuid> = Entity::find()
        .select_only()
        .column(Column::UserId)
        .filter(Column::ConversationId.eq(conversation.0))
        .into_tuple()
        .all(db)
        .await?;
    Ok(rows.into_iter().map(UserId).collect())
}

/// Deletes every membership row of `conversation`.
pub async fn delete_all(
    db: &impl ConnectionTrait,
    conversation: ConversationId,
) -> Result<(), DomainError> {
    Entity::delete_many()
        .filter(Column::ConversationId.eq(conversation.0))
        .exec(db)
        .await?;
    Ok(())
}

/// Moves the shared read position (read receipts) forward to `seq` (never backwards).
pub async fn share_read(
    db: &impl ConnectionTrait,
    conversation: ConversationId,
    user: UserId,
    seq: i64,
) -> Result<(), DomainError> {
    move_forward(db, conversation, user, Column::ReceiptSeq, seq).await
}

/// Sets `user`'s notification level in `conversation`.
pub async fn set_notify(
    db: &impl ConnectionTrait,
    conversation: ConversationId,
    user: UserId,
    level: NotifyLevel,
) -> Result<(), DomainError> {
    Entity::update_many()
        .col_expr(Column::Notify, Expr::value(level.as_str()))
        .filter(Column::ConversationId.eq(conversation.0))
        .filter(Column::UserId.eq(user.0))
        .exec(db)
        .await?;
    Ok(())
}

/// The joined members' shared read positions `(user, receipt_seq)`, where above 0.
pub async fn receipts(
    db: &impl ConnectionTrait,
    conversation: ConversationId,
) -> Result<Vec<(UserId, i64)>, DomainError> {
    let rows: Vec<(uuid::Uuid, i64)> = Entity::find()
        .select_only()
        .column(Column::UserId)
        .column(Column::ReceiptSeq)
        .filter(Column::ConversationId.eq(conversation.0))
        .filter(Column::State.eq(MembershipState::Joined.as_str()))
        .filter(Column::ReceiptSeq.gt(0))
        .into_tuple()
        .all(db)
        .await?;
    Ok(rows.into_iter().map(|(u, s)| (UserId(u), s)).collect())
}

/// Of these canonical usernames, the joined members of `conversation`: `(id, username)`.
pub async fn joined_named(
    db: &impl ConnectionTrait,
    conversation: ConversationId,
    usernames: &[String],
) -> Result<Vec<(UserId, String)>, DomainError> {
    if usernames.is_empty() {
        return Ok(Vec::new());
    }
    use entity::users;
    let joined = Query::select()
        .column(Column::UserId)
        .from(Entity)
        .and_where(Expr::col(Column::ConversationId).eq(conversation.0))
        .and_where(Expr::col(Column::State).eq(MembershipState::Joined.as_str()))
        .to_owned();
    let rows: Vec<(uuid::Uuid, String)> = users::Entity::find()
        .select_only()
        .column(users::Column::Id)
        .column(users::Column::Username)
        .filter(users::Column::Username.is_in(usernames.iter().cloned()))
        .filter(users::Column::Id.in_subquery(joined))
        .into_tuple()
        .all(db)
        .await?;
    Ok(rows.into_iter().map(|(u, n)| (UserId(u), n)).collect())
}
