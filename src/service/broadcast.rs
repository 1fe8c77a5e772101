//! Announcements (`POST /admin/broadcast`, needs `broadcast.send`): a text shown as a banner to
//! everyone connected (`announcement` frame), optionally also stored as a message in every
//! official room the sender belongs to (so it stays in history).

use super::{access::Access, messages::MessageService, uow::UnitOfWork};
use crate::{
    domain::{Actor, AuditAction, DomainError, ErrorCode, Permission, Scope, Timestamp},
    events::Event,
    store::{Db, conversations},
};

/// Longest announcement, in characters.
pub const ANNOUNCEMENT_MAX: usize = 2000;

/// Announcement use-cases.
#[derive(Clone)]
pub struct BroadcastService {
    db: Db,
    uow: UnitOfWork,
    access: Access,
    messages: MessageService,
}

impl BroadcastService {
    /// Builds the service; `messages` stores the copies in official rooms.
    pub fn new(db: Db, uow: UnitOfWork, access: Access, messages: MessageService) -> Self {
        Self {
            db,
            uow,
            access,
            messages,
        }
    }

    /// Sends an announcement to everyone connected, audited as `broadcast.sent`; with `store`,
    /// also posts it in each official room the sender has joined. Returns in how many rooms it
    /// was stored. Errors: 403 (needs `broadcast.send`), 422 `invalid_message` (1–2000
    /// characters, no control characters but newline and tab).
    pub async fn send(&self, actor: &Actor, text: &str, store: bool) -> Result<u64, DomainError> {
        self.access
            .require(actor, Permission::BroadcastSend, Scope::Server)
            .await?;
        let text = text.trim();
        let len = text.chars().count();
        if len == 0
            || len > ANNOUNCEMENT_MAX
            || text
                .chars()
                .any(|c| c.is_control() && c != '\n' && c != '\t')
        {
            return Err(DomainError::invalid(
                ErrorCode::InvalidMessage,
                format!(
                    "an announcement is 1 to {ANNOUNCEMENT_MAX} characters without control characters"
                ),
            ));
        }
        let rooms = if store {
            conversations::official(&self.db.read).await?
        } else {
            Vec::new()
        };
        let mut stored = 0u64;
        for room in &rooms {
            // Rooms the sender is not in are skipped, not an error.
            let body = format!("📢 {text}");
            if self
                .messages
                .send(actor, room.id, &body, None, None)
                .await
                .is_ok()
            {
                stored += 1;
            }
        }
        self.uow
            .run(async |work| {
                work.audit(
                    Some(actor),
                    AuditAction::BroadcastSent,
                    None,
                    serde_json::json!({"text": text, "stored_in": stored}),
                )
                .await?;
                work.publish(Event::Announcement {
                    text: text.to_owned(),
                    by_username: actor.username.clone(),
                    at: Timestamp(work.now()),
                });
                Ok(())
            })
            .await?;
        Ok(stored)
    }
}
