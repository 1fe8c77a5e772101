//! The append-only `audit_log`: inserted inside the transaction of the action it records, read
//! newest first.

use chrono::{DateTime, Utc};
use entity::audit_log::{self, Column, Entity};
use sea_orm::{
    ActiveValue::Set, ColumnTrait, ConnectionTrait, EntityTrait, QueryFilter, QueryOrder,
    QuerySelect,
};

use crate::domain::{AuditAction, AuditFilter, AuditId, DomainError, NewAuditEntry, UserId};

/// A stored audit entry.
#[derive(Clone, Debug)]
pub struct AuditRecord {
    /// Id (UUIDv7).
    pub id: AuditId,
    /// Acting user.
    pub actor_id: Option<UserId>,
    /// What happened.
    pub action: AuditAction,
    /// `user`, `conversation` or `session`.
    pub target_type: Option<String>,
    /// The target's id.
    pub target_id: Option<String>,
    /// JSON object.
    pub details: serde_json::Value,
    /// Client address.
    pub ip: Option<String>,
    /// When.
    pub created_at: DateTime<Utc>,
}

impl TryFrom<audit_log::Model> for AuditRecord {
    type Error = DomainError;

    fn try_from(m: audit_log::Model) -> Result<Self, DomainError> {
        Ok(Self {
            id: AuditId(m.id),
            actor_id: m.actor_id.map(UserId),
            action: m.action.parse()?,
            target_type: m.target_type,
            target_id: m.target_id,
            details: m.details,
            ip: m.ip,
            created_at: m.created_at,
        })
    }
}

/// Appends an entry (call it with the action's transaction).
pub async fn insert(
    db: &impl ConnectionTrait,
    entry: &NewAuditEntry,
    now: DateTime<Utc>,
) -> Result<AuditId, DomainError> {
    let id = AuditId::new();
    let model = audit_log::ActiveModel {
        id: Set(id.0),
        actor_id: Set(entry.actor.map(|a| a.0)),
        action: Set(entry.action.as_str().to_owned()),
        target_type: Set(entry.target.map(|t| t.kind().to_owned())),
        target_id: Set(entry.target.map(|t| t.id())),
        details: Set(entry.details.clone()),
        ip: Set(entry.ip.map(|ip| ip.to_string())),
        created_at: Set(now),
    };
    Entity::insert(model).exec(db).await?;
    Ok(id)
}

/// Entries matching `filter`, newest first, older than `before`; up to `limit + 1` rows so the
/// caller can tell whether more exist.
pub async fn page(
    db: &impl ConnectionTrait,
    filter: &AuditFilter,
    before: Option<AuditId>,
    limit: u64,
) -> Result<Vec<AuditRecord>, DomainError> {
    let mut query = Entity::find().order_by_desc(Column::Id).limit(limit + 1);
    if let Some(actor) = filter.actor {
        query = query.filter(Column::ActorId.eq(actor.0));
    }
    if let Some(action) = filter.action {
        query = query.filter(Column::Action.eq(action.as_str()));
    }
    if let Some(target) = &filter.target {
        query = query.filter(Column::TargetId.eq(target.as_str()));
    }
    if let Some(from) = filter.from {
        query = query.filter(Column::CreatedAt.gte(from.0));
    }
    if let Some(to) = filter.to {
        query = query.filter(Column::CreatedAt.lt(to.0));
    }
    if let Some(before) = before {
        query = query.filter(Column::Id.lt(before.0));
    }
    query
        .all(db)
        .await?
        .into_iter()
        .map(AuditRecord::try_from)
        .collect()
}
