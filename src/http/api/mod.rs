//! REST operations, one `#[OpenApi]` struct per tag. Handlers translate HTTP to a service call
//! and back; `operation_id`s are stable once released.

pub mod account;
pub mod admin;
pub mod auth;
pub mod conversations;
pub mod dms;
pub mod dto;
pub mod health;
pub mod presence;
pub mod recovery;
pub mod rooms;
pub mod sessions;
pub mod setup;
pub mod strict;
pub mod tls;
pub mod users;

use poem_openapi::Tags;

/// OpenAPI tags.
#[derive(Tags)]
pub enum ApiTags {
    /// Liveness and server facts.
    Health,
    /// First-run setup of the admin account.
    Setup,
    /// Accounts: register, login, refresh, logout, password reset.
    Auth,
    /// My sessions on every device.
    Sessions,
    /// User profiles.
    Users,
    /// Room directory and membership.
    Rooms,
    /// Direct messages.
    Dms,
    /// My conversations, their members and messages.
    Conversations,
    /// Server administration: roles and the audit log.
    Admin,
    /// My presence (online, away, busy, invisible) and custom status text.
    Presence,
}

/// The APIs of accounts, rooms, DMs, conversations and administration.
pub type CoreApis = (
    health::HealthApi,
    tls::TlsApi,
    setup::SetupApi,
    auth::AuthApi,
    recovery::RecoveryApi,
    sessions::SessionsApi,
    users::UsersApi,
    account::AccountApi,
    rooms::RoomsApi,
    dms::DmsApi,
    conversations::ConversationsApi,
    admin::AdminApi,
);

/// The APIs of the social messenger: presence, friends, blocks, groups, invitations.
pub type SocialApis = presence::PresenceApi;

/// Every API of the service (poem-openapi implements `OpenApi` for tuples of up to 16, so they
/// are grouped).
pub type Apis = (CoreApis, SocialApis);

/// Every API of the service, in tag order.
pub fn apis() -> Apis {
    (
        (
            health::HealthApi,
            tls::TlsApi,
            setup::SetupApi,
            auth::AuthApi,
            recovery::RecoveryApi,
            sessions::SessionsApi,
            users::UsersApi,
            account::AccountApi,
            rooms::RoomsApi,
            dms::DmsApi,
            conversations::ConversationsApi,
            admin::AdminApi,
        ),
        presence::PresenceApi,
    )
}
