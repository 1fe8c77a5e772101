//! My profile: display name, e-mail address (verified by a link when SMTP is configured), and
//! password changes (which end my other sessions).

use super::{
    passwords::PasswordHasher, recovery::RecoveryService, sessions::end_in, uow::UnitOfWork,
};
use crate::{
    domain::{
        Actor, AuditAction, AuditTarget, DisplayName, DomainError, Email, ErrorCode, Password,
        SessionEndReason,
    },
    events::Event,
    store::{Db, sessions::Which, users},
};

/// Changes to my profile; absent fields stay as they are.
#[derive(Clone, Debug, Default)]
pub struct ProfileChange {
    /// New display name.
    pub display_name: Option<String>,
    /// New e-mail address; `Some("")` removes it.
    pub email: Option<String>,
    /// My password: required to change the e-mail address (it is where reset links go).
    pub current_password: Option<String>,
}

/// Profile use-cases. Cheap to clone.
#[derive(Clone)]
pub struct ProfileService {
    db: Db,
    uow: UnitOfWork,
    hasher: PasswordHasher,
    recovery: RecoveryService,
}

fn wrong_password() -> DomainError {
    DomainError::forbidden(
        ErrorCode::InvalidCredentials,
        "the current password is wrong",
    )
}

impl ProfileService {
    /// Builds the service.
    pub fn new(db: Db, uow: UnitOfWork, hasher: PasswordHasher, recovery: RecoveryService) -> Self {
        Self {
            db,
            uow,
            hasher,
            recovery,
        }
    }

    /// Applies `change`. A new e-mail address is unverified; with SMTP configured a link to
    /// confirm it goes out (to `link_base`/verify-email). Errors: 422 `invalid_display_name`,
    /// 422 `invalid_email`, 403 `invalid_credentials` (e-mail change without the right
    /// password), 409 `email_taken` (another account has the address, in any case).
    pub async fn update(
        &self,
        actor: &Actor,
        change: ProfileChange,
        link_base: &str,
    ) -> Result<(), DomainError> {
        let display_name = change
            .display_name
            .as_deref()
            .map(DisplayName::parse)
            .transpose()?;
        let email = match change.email.as_deref().map(str::trim) {
            None => None,
            Some("") => Some(None),
            Some(raw) => Some(Some(Email::parse(raw)?)),
        };
        let account = super::active_account(&self.db.read, actor.user).await?;
        let email = email.filter(|new| new.as_ref().map(Email::as_str) != account.email.as_deref());
        if email.is_some() {
            let password = change.current_password.as_deref().unwrap_or_default();
            if !self
                .hasher
                .verify(password, Some(&account.password_hash))
                .await?
            {
                return Err(wrong_password());
            }
        }
        if display_name.is_none() && email.is_none() {
            return Ok(());
        }
        let mut changed = serde_json::Map::new();
        self.uow
            .run(async |work| {
                if let Some(name) = &display_name {
                    users::set_display_name(work.db(), actor.user, name.as_str()).await?;
                    changed.insert("display_name".into(), name.as_str().into());
                }
                if let Some(email) = &email {
                    users::set_email(
                        work.db(),
                        actor.user,
                        email.as_ref().map(Email::as_str),
                        None,
                    )
                    .await?;
                    changed.insert(
                        "email".into(),
                        email
                            .as_ref()
                            .map_or(serde_json::Value::Null, |e| e.as_str().into()),
                    );
                }
                work.audit(
                    Some(actor),
                    AuditAction::ProfileUpdated,
                    Some(AuditTarget::User(actor.user)),
                    serde_json::Value::Object(changed.clone()),
                )
                .await?;
                let user = users::by_id(work.db(), actor.user)
                    .await?
                    .ok_or(DomainError::NotFound("user"))?;
                work.publish(Event::UserUpdated {
                    user: user.view(),
                    permissions: None,
                });
                Ok(())
            })
            .await?;
        if let Some(Some(email)) = &email {
            let account = super::active_account(&self.db.read, actor.user).await?;
            self.recovery
                .send_verification(&account, email, link_base)
                .await?;
        }
        Ok(())
    }

    /// Changes my password after checking the current one, and ends my other sessions (reason
    /// `password_changed`); this session stays. Errors: 403 `invalid_credentials`, 422
    /// `invalid_password`.
    pub async fn change_password(
        &self,
        actor: &Actor,
        current: &str,
        new_password: String,
    ) -> Result<usize, DomainError> {
        let password = Password::parse(new_password)?;
        let account = super::active_account(&self.db.read, actor.user).await?;
        if !self
            .hasher
            .verify(current, Some(&account.password_hash))
            .await?
        {
            return Err(wrong_password());
        }
        let hash = self.hasher.hash(&password).await?;
        self.uow
            .run(async |work| {
                users::set_password_hash(work.db(), actor.user, hash).await?;
                let ended = end_in(
                    work,
                    actor.user,
                    Which::AllBut(actor.session),
                    SessionEndReason::PasswordChanged,
                    Some(actor),
                    None,
                )
                .await?;
                work.audit(
                    Some(actor),
                    AuditAction::PasswordChanged,
                    Some(AuditTarget::User(actor.user)),
                    serde_json::json!({"sessions_ended": ended.len()}),
                )
                .await?;
                Ok(ended.len())
            })
            .await
    }
}
