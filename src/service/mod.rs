//! Use-cases, one file per capability. No HTTP types and no WebSocket connections here: handlers
//! and the realtime layer call these and translate the results; services tell the rest of the
//! system what happened by publishing domain events after commit (see [`uow`]).
//!
//! Every use case starts with the one permission function, [`access::Access::require`].

pub mod access;
pub mod account_settings;
pub mod admin;
pub mod auth;
pub mod blocks;
pub mod broadcast;
pub mod conversations;
pub mod friends;
pub mod janitor;
pub mod limits;
pub mod message_changes;
pub mod messages;
pub mod paging;
pub mod passwords;
pub mod presence;
pub mod profile;
pub mod receipts;
pub mod recovery;
pub mod reports;
pub mod roles;
pub mod search;
pub mod sessions;
pub mod settings;
pub mod slowmode;
pub mod system;
pub mod tokens;
pub mod uow;
pub mod user_admin;
pub mod users;

pub use access::Access;
pub use account_settings::AccountSettingsService;
pub use admin::AdminService;
pub use auth::{AuthService, ClientInfo, Session};
pub use blocks::BlockService;
pub use broadcast::BroadcastService;
pub use conversations::ConversationService;
pub use friends::FriendService;
pub use limits::{Limit, RateLimits};
pub use message_changes::MessageChangeService;
pub use messages::MessageService;
pub use paging::Page;
pub use presence::{PresenceChange, PresenceDirectory, PresenceService, StartingPresence};
pub use profile::{ProfileChange, ProfileService};
pub use receipts::ReceiptService;
pub use recovery::RecoveryService;
pub use reports::ReportService;
pub use roles::RoleService;
pub use search::SearchService;
pub use sessions::SessionService;
pub use settings::{LiveSettings, SettingsService};
pub use system::SystemActions;
pub use uow::UnitOfWork;
pub use user_admin::{AccountAction, UserAdminService};
pub use users::UserService;

/// The active (not deleted) account `user`, read through `db` (a transaction or a pool).
/// Errors: 401 `unauthorized` when it is gone or deleted.
pub(crate) async fn active_account(
    db: &impl sea_orm::ConnectionTrait,
    user: crate::domain::UserId,
) -> Result<crate::store::users::UserRecord, crate::domain::DomainError> {
    crate::store::users::by_id(db, user)
        .await?
        .filter(crate::store::users::UserRecord::is_active)
        .ok_or_else(|| {
            crate::domain::DomainError::unauthorized(
                crate::domain::ErrorCode::Unauthorized,
                "the account no longer exists",
            )
        })
}
