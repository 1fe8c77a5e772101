//! Reports: anyone who can read a message may report it; holders of `reports.review` work
//! through the moderation queue (`GET /admin/reports`) and resolve or dismiss each report.
//! Reporting and resolving are audited (`message.reported`, `report.resolved`).

use std::collections::HashMap;

use serde::{Deserialize, Serialize};
use serde_json::json;

use super::{
    access::Access,
    paging::{self, Page},
    uow::UnitOfWork,
};
use crate::{
    domain::{
        Actor, AuditAction, AuditTarget, ConversationId, DomainError, ErrorCode, MessageId,
        Permission, Report, ReportConversation, ReportId, ReportMessage, ReportStatus, Scope,
        Timestamp, UserId, UserRef, reason,
    },
    store::{
        Db, conversations,
        messages::{self, MessageRecord},
        reports::{self, ReportRecord},
        users,
    },
};

/// Largest page of the moderation queue.
pub const REPORT_PAGE_MAX: u64 = 100;

/// Position of a report page (oldest first, by id).
#[derive(Serialize, Deserialize)]
struct ReportPosition(ReportId);

/// Report use-cases.
#[derive(Clone)]
pub struct ReportService {
    db: Db,
    uow: UnitOfWork,
    access: Access,
}

impl ReportService {
    /// Builds the service.
    pub fn new(db: Db, uow: UnitOfWork, access: Access) -> Self {
        Self { db, uow, access }
    }

    /// Reports the message `seq` of conversation `id` with a reason (1–500 characters); returns
    /// the report's id. Reporting the same message again while my report is open returns that
    /// report. Audited as `message.reported`. Errors: 403/404 as reading the conversation
    /// (members only), 404 `not_found` (no such message, a deleted one, or one before a cleared
    /// history), 422 `invalid_reason`, `cannot_target_self` (my own message).
    pub async fn report(
        &self,
        actor: &Actor,
        id: ConversationId,
        seq: i64,
        why: &str,
    ) -> Result<ReportId, DomainError> {
        self.access
            .require_in(actor, Permission::ConversationRead, id)
            .await?;
        let why = reason(Some(why), true)?.unwrap_or_default();
        self.uow
            .run(async |work| {
                let conversation = conversations::by_id(work.db(), id)
                    .await?
                    .ok_or(DomainError::NotFound("conversation"))?;
                let message = messages::by_seq(work.db(), id, seq)
                    .await?
                    .filter(|m| m.seq > conversation.cleared_seq && m.deleted_at.is_none())
                    .ok_or(DomainError::NotFound("message"))?;
                if message.sender_id == actor.user {
                    return Err(DomainError::invalid(
                        ErrorCode::CannotTargetSelf,
                        "you cannot report your own message; delete it instead",
                    ));
                }
                if let Some(open) = reports::open_by(work.db(), actor.user, message.id).await? {
                    return Ok(open.id);
                }
                let report = ReportRecord {
                    id: ReportId::new(),
                    reporter_id: actor.user,
                    conversation_id: id,
                    message_seq: seq,
                    message_id: message.id,
                    reason: why.clone(),
                    status: ReportStatus::Open,
                    created_at: work.now(),
                    resolved_by: None,
                    resolved_at: None,
                    resolution: None,
                };
                reports::insert(work.db(), &report).await?;
                work.audit(
                    Some(actor),
                    AuditAction::MessageReported,
                    Some(AuditTarget::Conversation(id)),
                    json!({"report_id": report.id, "seq": seq, "sender_id": message.sender_id, "reason": why}),
                )
                .await?;
                Ok(report.id)
            })
            .await
    }

    /// One page of the moderation queue, oldest first, optionally of one status. Errors: 403
    /// `permission_denied` (needs `reports.review`), 422 `invalid_limit`, `invalid_cursor`.
    pub async fn list(
        &self,
        actor: &Actor,
        status: Option<ReportStatus>,
        cursor: Option<&str>,
        limit: Option<u64>,
    ) -> Result<Page<Report>, DomainError> {
        self.access
            .require(actor, Permission::ReportsReview, Scope::Server)
            .await?;
        let limit = paging::limit(limit, 50, REPORT_PAGE_MAX)?;
        let after = cursor
            .map(paging::decode::<ReportPosition>)
            .transpose()?
            .map(|p| p.0);
        let rows = reports::page(&self.db.read, status, after, limit).await?;
        let page = paging::page(rows, limit, |r: &ReportRecord| ReportPosition(r.id));
        let Page { items, next_cursor } = page;
        Ok(Page {
            items: self.views(items).await?,
            next_cursor,
        })
    }

    /// Resolves (`resolved`) or dismisses (`dismissed`) a report, with an optional note (≤ 500
    /// characters); a closed report may be closed again (the latest decision counts). Audited as
    /// `report.resolved`. Errors: 403 (needs `reports.review`), 404, 422 `unprocessable_entity`
    /// (`status: open`), `invalid_reason` (the note).
    pub async fn resolve(
        &self,
        actor: &Actor,
        id: ReportId,
        status: ReportStatus,
        note: Option<&str>,
    ) -> Result<Report, DomainError> {
        self.access
            .require(actor, Permission::ReportsReview, Scope::Server)
            .await?;
        if status == ReportStatus::Open {
            return Err(DomainError::invalid(
                ErrorCode::UnprocessableEntity,
                "status must be resolved or dismissed",
            ));
        }
        let note = reason(note, false)?;
        let row = self
            .uow
            .run(async |work| {
                let before = reports::by_id(work.db(), id)
                    .await?
                    .ok_or(DomainError::NotFound("report"))?;
                reports::resolve(work.db(), id, status, actor.user, note.clone(), work.now())
                    .await?;
                work.audit(
                    Some(actor),
                    AuditAction::ReportResolved,
                    Some(AuditTarget::Conversation(before.conversation_id)),
                    json!({
                        "report_id": id,
                        "seq": before.message_seq,
                        "from": before.status,
                        "status": status,
                        "note": note,
                    }),
                )
                .await?;
                reports::by_id(work.db(), id)
                    .await?
                    .ok_or(DomainError::NotFound("report"))
            })
            .await?;
        self.views(vec![row])
            .await?
            .pop()
            .ok_or(DomainError::NotFound("report"))
    }

    /// The wire shape of reports (their messages and people as they are now).
    async fn views(&self, rows: Vec<ReportRecord>) -> Result<Vec<Report>, DomainError> {
        let db = &self.db.read;
        let message_ids: Vec<MessageId> = rows.iter().map(|r| r.message_id).collect();
        let messages: HashMap<MessageId, MessageRecord> = messages::by_ids(db, &message_ids)
            .await?
            .into_iter()
            .map(|m| (m.id, m))
            .collect();
        let conversation_ids: Vec<ConversationId> =
            rows.iter().map(|r| r.conversation_id).collect();
        let conversations: HashMap<ConversationId, _> =
            conversations::by_ids(db, &conversation_ids)
                .await?
                .into_iter()
                .map(|c| (c.id, c))
                .collect();
        let mut people: Vec<UserId> = Vec::new();
        for r in &rows {
            people.push(r.reporter_id);
            people.extend(r.resolved_by);
        }
        people.extend(messages.values().map(|m| m.sender_id));
        let names = users::usernames(db, &people).await?;
        let user = |id: UserId| UserRef {
            id,
            username: names
                .get(&id)
                .cloned()
                .unwrap_or_else(|| "deleted".to_owned()),
        };
        Ok(rows
            .into_iter()
            .filter_map(|r| {
                let conversation = conversations.get(&r.conversation_id)?;
                let message = messages.get(&r.message_id)?;
                Some(Report {
                    id: r.id,
                    status: r.status,
                    reason: r.reason,
                    reporter: user(r.reporter_id),
                    conversation: ReportConversation {
                        id: conversation.id,
                        name: conversation.name.clone(),
                        kind: conversation.kind,
                    },
                    message: ReportMessage {
                        seq: message.seq,
                        body: message.body.clone(),
                        deleted: message.deleted_at.is_some(),
                        sender: user(message.sender_id),
                        created_at: Timestamp(message.created_at),
                    },
                    created_at: Timestamp(r.created_at),
                    resolved_by: r.resolved_by.map(user),
                    resolved_at: r.resolved_at.map(Timestamp),
                    resolution: r.resolution,
                })
            })
            .collect())
    }
}
