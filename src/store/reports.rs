//! Queries on `reports` (the moderation queue).

use chrono::{DateTime, Utc};
use entity::reports::{self, Column, Entity};
use sea_orm::{
    ActiveValue::Set, ColumnTrait, ConnectionTrait, EntityTrait, QueryFilter, QueryOrder,
    QuerySelect, sea_query::Expr,
};

use crate::domain::{ConversationId, DomainError, MessageId, ReportId, ReportStatus, UserId};

/// A stored report.
#[derive(Clone, Debug)]
pub struct ReportRecord {
    /// Id (UUIDv7).
    pub id: ReportId,
    /// Who reported.
    pub reporter_id: UserId,
    /// Where.
    pub conversation_id: ConversationId,
    /// The message's seq.
    pub message_seq: i64,
    /// The message's id.
    pub message_id: MessageId,
    /// Why.
    pub reason: String,
    /// Open, resolved or dismissed.
    pub status: ReportStatus,
    /// When reported.
    pub created_at: DateTime<Utc>,
    /// Who resolved or dismissed it.
    pub resolved_by: Option<UserId>,
    /// When.
    pub resolved_at: Option<DateTime<Utc>>,
    /// The moderator's note.
    pub resolution: Option<String>,
}

impl TryFrom<reports::Model> for ReportRecord {
    type Error = DomainError;

    fn try_from(m: reports::Model) -> Result<Self, DomainError> {
        Ok(Self {
            id: ReportId(m.id),
            reporter_id: UserId(m.reporter_id),
            conversation_id: ConversationId(m.conversation_id),
            message_seq: m.message_seq,
            message_id: MessageId(m.message_id),
            reason: m.reason,
            status: m.status.parse()?,
            created_at: m.created_at,
            resolved_by: m.resolved_by.map(UserId),
            resolved_at: m.resolved_at,
            resolution: m.resolution,
        })
    }
}

/// Inserts a new open report.
pub async fn insert(db: &impl ConnectionTrait, r: &ReportRecord) -> Result<(), DomainError> {
    let model = reports::ActiveModel {
        id: Set(r.id.0),
        reporter_id: Set(r.reporter_id.0),
        conversation_id: Set(r.conversation_id.0),
        message_seq: Set(r.message_seq),
        message_id: Set(r.message_id.0),
        reason: Set(r.reason.clone()),
        status: Set(r.status.as_str().to_owned()),
        created_at: Set(r.created_at),
        resolved_by: Set(r.resolved_by.map(|u| u.0)),
        resolved_at: Set(r.resolved_at),
        resolution: Set(r.resolution.clone()),
    };
    Entity::insert(model).exec(db).await?;
    Ok(())
}

/// The open report of `reporter` on the message `message`, if any.
pub async fn open_by(
    db: &impl ConnectionTrait,
    reporter: UserId,
    message: MessageId,
) -> Result<Option<ReportRecord>, DomainError> {
    Entity::find()
        .filter(Column::ReporterId.eq(reporter.0))
        .filter(Column::MessageId.eq(message.0))
        .filter(Column::Status.eq(ReportStatus::Open.as_str()))
        .one(db)
        .await?
        .map(ReportRecord::try_from)
        .transpose()
}

/// The report with this id.
pub async fn by_id(
    db: &impl ConnectionTrait,
    id: ReportId,
) -> Result<Option<ReportRecord>, DomainError> {
    Entity::find_by_id(id.0)
        .one(db)
        .await?
        .map(ReportRecord::try_from)
        .transpose()
}

/// One page of reports, oldest first (by id), optionally of one status, after `after`. Returns
/// up to `limit + 1` rows so the caller can tell whether more exist.
pub async fn page(
    db: &impl ConnectionTrait,
    status: Option<ReportStatus>,
    after: Option<ReportId>,
    limit: u64,
) -> Result<Vec<ReportRecord>, DomainError> {
    let mut query = Entity::find();
    if let Some(status) = status {
        query = query.filter(Column::Status.eq(status.as_str()));
    }
    if let Some(after) = after {
        query = query.filter(Column::Id.gt(after.0));
    }
    query
        .order_by_asc(Column::Id)
        .limit(limit + 1)
        .all(db)
        .await?
        .into_iter()
        .map(ReportRecord::try_from)
        .collect()
}

/// Closes a report as `status` with an optional note.
pub async fn resolve(
    db: &impl ConnectionTrait,
    id: ReportId,
    status: ReportStatus,
    by: UserId,
    note: Option<String>,
    now: DateTime<Utc>,
) -> Result<(), DomainError> {
    Entity::update_many()
        .col_expr(Column::Status, Expr::value(status.as_str()))
        .col_expr(Column::ResolvedBy, Expr::value(Some(by.0)))
        .col_expr(Column::ResolvedAt, Expr::value(Some(now)))
        .col_expr(Column::Resolution, Expr::value(note))
        .filter(Column::Id.eq(id.0))
        .exec(db)
        .await?;
    Ok(())
}

/// Deletes every report about `conversation`; returns how many.
pub async fn delete_for(
    db: &impl ConnectionTrait,
    conversation: ConversationId,
) -> Result<u64, DomainError> {
    Ok(Entity::delete_many()
        .filter(Column::ConversationId.eq(conversation.0))
        .exec(db)
        .await?
        .rows_affected)
}
