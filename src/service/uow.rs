//! The unit of work: one use case's writes in one transaction, its audit records included, and
//! its domain events published only after COMMIT.
//!
//! ```ignore
//! let room = self.uow.run(async |work| {
//!     let room = conversations::insert_room(work.db(), new_room).await?;
//!     members::upsert(work.db(), &owner_membership).await?;
//!     work.audit(actor, AuditAction::RoomCreated, target, details).await?;
//!     work.publish(Event::ConversationCreated { .. });
//!     Ok(room)
//! }).await?;
//! ```
//!
//! Order, as the code follows it: BEGIN → the closure's writes → COMMIT → the permission caches
//! apply the events (so the caller's next request sees its own change) → the events go on the bus
//! in the order they were recorded → the caller returns. A failed closure or COMMIT rolls back and
//! publishes nothing. COMMIT and what follows run in a task of their own, so a cancelled request
//! (its client disconnected) cannot commit without applying and publishing.

use std::sync::Arc;

use chrono::{DateTime, Utc};
use sea_orm::{DatabaseTransaction, TransactionTrait};

use super::access::Access;
use crate::{
    domain::{Actor, AuditAction, AuditTarget, DomainError, NewAuditEntry},
    events::{Event, EventBus},
    store::{Db, audit},
};

/// Runs units of work. Cheap to clone.
#[derive(Clone)]
pub struct UnitOfWork {
    db: Db,
    bus: Arc<dyn EventBus>,
    access: Access,
}

/// One open unit of work: the transaction, the events to publish after commit, and the time of
/// the use case (every timestamp it writes is the same instant).
pub struct Work {
    txn: DatabaseTransaction,
    events: Vec<Event>,
    now: DateTime<Utc>,
}

impl Work {
    /// The transaction, for store functions.
    pub fn db(&self) -> &DatabaseTransaction {
        &self.txn
    }

    /// The time of this use case (UTC, from Rust).
    pub fn now(&self) -> DateTime<Utc> {
        self.now
    }

    /// Records an event to publish after commit (in recording order).
    pub fn publish(&mut self, event: Event) {
        self.events.push(event);
    }

    /// Appends an audit-log entry inside this transaction: it commits (or not) with the action.
    /// `actor` is `None` for actions of the server itself.
    pub async fn audit(
        &self,
        actor: Option<&Actor>,
        action: AuditAction,
        target: Option<AuditTarget>,
        details: serde_json::Value,
    ) -> Result<(), DomainError> {
        self.record(NewAuditEntry {
            actor: actor.map(|a| a.user),
            action,
            target,
            details,
            ip: actor.and_then(|a| a.ip),
        })
        .await
    }

    /// Appends a fully described audit-log entry inside this transaction.
    pub async fn record(&self, entry: NewAuditEntry) -> Result<(), DomainError> {
        audit::insert(&self.txn, &entry, self.now).await?;
        Ok(())
    }
}

impl UnitOfWork {
    /// Builds the helper.
    pub fn new(db: Db, bus: Arc<dyn EventBus>, access: Access) -> Self {
        Self { db, bus, access }
    }

    /// Runs `f` in one transaction on the write connection and commits it; then applies and
    /// publishes the recorded events. Errors: whatever `f` returns (rolled back), or a database
    /// error (rolled back; a failed COMMIT may or may not have applied, like any database).
    pub async fn run<T>(
        &self,
        f: impl AsyncFnOnce(&mut Work) -> Result<T, DomainError>,
    ) -> Result<T, DomainError> {
        let txn = self.db.write.begin().await?;
        let mut work = Work {
            txn,
            events: Vec::new(),
            now: Utc::now(),
        };
        let value = match f(&mut work).await {
            Ok(value) => value,
            Err(err) => {
                work.txn.rollback().await.ok();
                return Err(err);
            }
        };
        let Work { txn, events, .. } = work;
        // From COMMIT on, nothing may be cancelled: a request whose client went away is dropped
        // at its next await, and a commit that happened without its cache invalidation and
        // events would leave stale permissions (a demoted admin still an admin) and connections
        // that never heard of the change. So the rest runs in a task of its own.
        let (access, bus) = (self.access.clone(), self.bus.clone());
        let finish = tokio::spawn(async move {
            txn.commit().await?;
            for event in &events {
                access.apply(event);
            }
            for event in events {
                bus.publish(event).await;
            }
            Ok::<(), DomainError>(())
        });
        finish
            .await
            .map_err(|e| DomainError::internal(format!("commit task failed: {e}")))??;
        Ok(value)
    }

    /// Publishes an event that no transaction of ours caused (e.g. after the message writer's
    /// commit): applied to the caches, then put on the bus.
    pub async fn publish(&self, event: Event) {
        self.access.apply(&event);
        self.bus.publish(event).await;
    }
}
