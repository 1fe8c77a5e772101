//! Blocking: a block between two users (either direction) forbids DMs between them, makes
//! invitations and friend requests from the blocked side silently go nowhere, and hides
//! presence (the presence audiences use [`super::friends::FriendService::graph`]). Blocking
//! ends any friendship or pending request between the two.

use super::{access::Access, uow::UnitOfWork};
use crate::{
    domain::{
        Actor, AuditAction, AuditTarget, BlockedUser, DomainError, ErrorCode,
        FriendRequestEndReason, FriendshipState, Timestamp, UserId,
    },
    events::Event,
    store::{Db, blocks, friends, users},
};

/// Block use-cases.
#[derive(Clone)]
pub struct BlockService {
    db: Db,
    uow: UnitOfWork,
    access: Access,
}

impl BlockService {
    /// Builds the service.
    pub fn new(db: Db, uow: UnitOfWork, access: Access) -> Self {
        Self { db, uow, access }
    }

    /// The users I blocked, most recent first (deleted accounts included: they can be
    /// unblocked).
    pub async fn list(&self, actor: &Actor) -> Result<Vec<BlockedUser>, DomainError> {
        self.access.active_user(actor.user).await?;
        let rows = blocks::by_blocker(&self.db.read, actor.user).await?;
        let ids: Vec<UserId> = rows.iter().map(|b| b.blocked).collect();
        let accounts = users::by_ids(&self.db.read, &ids).await?;
        Ok(rows
            .iter()
            .filter_map(|b| {
                accounts.get(&b.blocked).map(|u| BlockedUser {
                    user: u.view(),
                    created_at: Timestamp(b.created_at),
                })
            })
            .collect())
    }

    /// Blocks `target` (idempotent: blocking again returns the existing block). Ends any
    /// friendship or pending request between us; audited as `user.blocked`. Errors: 422
    /// `cannot_block_self`; 404 `not_found` (unknown or deleted user).
    pub async fn block(&self, actor: &Actor, target: UserId) -> Result<BlockedUser, DomainError> {
        self.access.active_user(actor.user).await?;
        if target == actor.user {
            return Err(DomainError::invalid(
                ErrorCode::CannotBlockSelf,
                "you cannot block yourself",
            ));
        }
        self.uow
            .run(async |work| {
                let other = users::by_id(work.db(), target)
                    .await?
                    .filter(users::UserRecord::is_active)
                    .ok_or(DomainError::NotFound("user"))?;
                let (row, new) = blocks::insert(work.db(), actor.user, target, work.now()).await?;
                if new {
                    match friends::remove_any(work.db(), actor.user, target).await? {
                        Some(f) if f.state == FriendshipState::Accepted => {
                            work.publish(Event::FriendRemoved {
                                a: actor.user,
                                b: target,
                            });
                        }
                        Some(f) => work.publish(Event::FriendRequestEnded {
                            from: f.requested_by,
                            to: f.other(f.requested_by),
                            reason: FriendRequestEndReason::Blocked,
                            by: actor.user,
                        }),
                        None => {}
                    }
                    work.audit(
                        Some(actor),
                        AuditAction::UserBlocked,
                        Some(AuditTarget::User(target)),
                        serde_json::json!({"username": other.username}),
                    )
                    .await?;
                    work.publish(Event::BlockChanged {
                        blocker: actor.user,
                        blocked: target,
                        user: other.view(),
                        blocking: true,
                        remains: true,
                    });
                }
                Ok(BlockedUser {
                    user: other.view(),
                    created_at: Timestamp(row.created_at),
                })
            })
            .await
    }

    /// Lifts my block of `target` (idempotent: also fine when there is none); audited as
    /// `user.unblocked`. Errors: 404 `not_found` when no such account ever existed.
    pub async fn unblock(&self, actor: &Actor, target: UserId) -> Result<(), DomainError> {
        self.access.active_user(actor.user).await?;
        self.uow
            .run(async |work| {
                let other = users::by_id(work.db(), target)
                    .await?
                    .ok_or(DomainError::NotFound("user"))?;
                if blocks::delete(work.db(), actor.user, target).await? {
                    let (_, theirs) = blocks::between(work.db(), actor.user, target).await?;
                    work.audit(
                        Some(actor),
                        AuditAction::UserUnblocked,
                        Some(AuditTarget::User(target)),
                        serde_json::json!({"username": other.username}),
                    )
                    .await?;
                    work.publish(Event::BlockChanged {
                        blocker: actor.user,
                        blocked: target,
                        user: other.view(),
                        blocking: false,
                        remains: theirs,
                    });
                }
                Ok(())
            })
            .await
    }
}
