//! The signed-in user's own account: who am I, what may I do, delete my account.

use super::{access::Access, passwords::PasswordHasher, sessions::end_in, uow::UnitOfWork};
use crate::{
    domain::{
        Actor, AuditAction, AuditTarget, ConversationId, ConversationRole, DomainError, ErrorCode,
        MembershipState, Permission, PermissionSet, ServerRole, SessionEndReason, Timestamp, User,
    },
    events::Event,
    store::{Db, members, sessions::Which, users},
};

/// The caller's account and server permissions (`GET /users/me`).
#[derive(Clone, Debug)]
pub struct Me {
    /// The account.
    pub user: User,
    /// What the server allows this account server-wide.
    pub permissions: Vec<Permission>,
    /// My e-mail address.
    pub email: Option<String>,
    /// Whether it was confirmed by a link.
    pub email_verified: bool,
    /// Whether a recovery PIN is set.
    pub recovery_pin_set: bool,
}

/// Own-account use-cases.
#[derive(Clone)]
pub struct UserService {
    db: Db,
    uow: UnitOfWork,
    access: Access,
    hasher: PasswordHasher,
}

impl UserService {
    /// Builds the service.
    pub fn new(db: Db, uow: UnitOfWork, access: Access, hasher: PasswordHasher) -> Self {
        Self {
            db,
            uow,
            access,
            hasher,
        }
    }

    /// The caller's account with its server permissions. Errors: 401 when it was deleted.
    pub async fn me(&self, actor: &Actor) -> Result<Me, DomainError> {
        let (user, permissions) = tokio::try_join!(
            super::active_account(&self.db.read, actor.user),
            self.access.server_permissions(actor)
        )?;
        Ok(Me {
            user: user.view(),
            permissions,
            email_verified: user.email_verified_at.is_some(),
            recovery_pin_set: user.recovery_pin_hash.is_some(),
            email: user.email,
        })
    }

    /// Deletes the caller's account after checking `password`. Conversations they owned pass to
    /// the longest-standing moderator, else member (audited as an ownership transfer). The row stays, anonymized, so
    /// its messages keep their sender and every conversation's sequence stays gap-free; the
    /// username is freed; every membership and session ends. Errors: 403 `invalid_credentials`
    /// (wrong password), 409 `last_admin` (the only admin cannot leave the server without one).
    pub async fn delete_account(&self, actor: &Actor, password: &str) -> Result<(), DomainError> {
        let account = super::active_account(&self.db.read, actor.user).await?;
        if !self
            .hasher
            .verify(password, Some(&account.password_hash))
            .await?
        {
            return Err(DomainError::forbidden(
                ErrorCode::InvalidCredentials,
                "the password is wrong",
            ));
        }
        self.uow
            .run(async |work| {
                if account.role == ServerRole::Admin
                    && users::ids_with_role_locked(work.db(), ServerRole::Admin)
                        .await?
                        .len()
                        <= 1
                {
                    return Err(DomainError::conflict(
                        ErrorCode::LastAdmin,
                        "make someone else an admin before deleting the only admin account",
                    ));
                }
                users::soft_delete(work.db(), actor.user, work.now()).await?;
                for m in members::leave_all(work.db(), actor.user, work.now()).await? {
                    work.publish(Event::departure(m.conversation_id, actor.user, m.state));
                    if m.role == ConversationRole::Owner && m.state == MembershipState::Joined {
                        hand_over(work, actor, m.conversation_id).await?;
                    }
                }
                end_in(
                    work,
                    actor.user,
                    Which::All,
                    SessionEndReason::AccountDeleted,
                    Some(actor),
                    None,
                )
                .await?;
                work.audit(
                    Some(actor),
                    AuditAction::UserDeleted,
                    Some(AuditTarget::User(actor.user)),
                    serde_json::json!({"username": account.username}),
                )
                .await?;
                let deleted = users::by_id(work.db(), actor.user)
                    .await?
                    .ok_or(DomainError::NotFound("user"))?;
                work.publish(Event::UserUpdated {
                    user: deleted.view(),
                    permissions: Some(PermissionSet::default()),
                });
                Ok(())
            })
            .await
    }
}

/// The owner of `conversation` (`actor`) is leaving with their account: the successor becomes
/// the owner, told to the members as `member_updated` and audited as an ownership transfer.
/// Nothing happens when nobody is left (the conversation and its history stay).
async fn hand_over(
    work: &mut crate::service::uow::Work,
    actor: &Actor,
    conversation: ConversationId,
) -> Result<(), DomainError> {
    let Some(next) = members::successor(work.db(), conversation).await? else {
        // Nobody is left: withdraw the pending invitations (see `leave_group`).
        for invitee in members::withdraw_invitations(work.db(), conversation, work.now()).await? {
            work.publish(Event::departure(
                conversation,
                invitee,
                MembershipState::Invited,
            ));
        }
        return Ok(());
    };
    members::set_role(
        work.db(),
        conversation,
        next.user_id,
        ConversationRole::Owner,
        work.now(),
    )
    .await?;
    work.audit(
        Some(actor),
        AuditAction::OwnershipTransferred,
        Some(AuditTarget::Conversation(conversation)),
        serde_json::json!({"from": actor.user, "to": next.user_id, "reason": "account_deleted"}),
    )
    .await?;
    work.publish(Event::MemberUpdated {
        conversation_id: conversation,
        user_id: next.user_id,
        role: ConversationRole::Owner,
        muted_until: next.muted_at(work.now()).map(Timestamp),
        by: actor.user,
    });
    Ok(())
}
