//! REST operations, one `#[OpenApi]` struct per tag. Handlers translate HTTP to a service call
//! and back; `operation_id`s are stable once released.

pub mod account;
pub mod account_settings;
pub mod admin;
pub mod admin_roles;
pub mod admin_rooms;
pub mod admin_settings;
pub mod admin_users;
pub mod auth;
pub mod blocks;
pub mod conversations;
pub mod dms;
pub mod dto;
pub mod friends;
pub mod groups;
pub mod health;
pub mod invitations;
pub mod message_actions;
pub mod moderation;
pub mod presence;
pub mod recovery;
pub mod reports;
pub mod rooms;
pub mod search;
pub mod server_info;
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
    /// Friends and friend requests.
    Friends,
    /// Blocked users.
    Blocks,
    /// Groups: private conversations with roles, moderation and invitations.
    Groups,
    /// My pending invitations to rooms and groups.
    Invitations,
    /// My conversations, their members and messages.
    Conversations,
    /// Server administration: accounts, roles, moderation, settings and the audit log.
    Admin,
    /// My presence (online, away, busy, invisible) and custom status text.
    Presence,
    /// Full-text search of the messages I may read.
    Search,
}

/// Every API of the service, in tag order (nested tuples keep each one short).
pub type Apis = (
    (health::HealthApi, server_info::ServerInfoApi),
    tls::TlsApi,
    setup::SetupApi,
    auth::AuthApi,
    recovery::RecoveryApi,
    sessions::SessionsApi,
    users::UsersApi,
    (account::AccountApi, account_settings::AccountSettingsApi),
    rooms::RoomsApi,
    dms::DmsApi,
    (friends::FriendsApi, blocks::BlocksApi),
    (groups::GroupsApi, invitations::InvitationsApi),
    (
        conversations::ConversationsApi,
        message_actions::MessageActionsApi,
        search::SearchApi,
    ),
    (
        admin::AdminApi,
        admin_users::AdminUsersApi,
        admin_roles::AdminRolesApi,
        admin_settings::AdminSettingsApi,
    ),
    presence::PresenceApi,
    (
        admin_rooms::AdminRoomsApi,
        reports::ReportsApi,
        moderation::RoomModerationApi,
        moderation::MessageModerationApi,
    ),
);

/// Every API of the service, in tag order.
pub fn apis() -> Apis {
    (
        (health::HealthApi, server_info::ServerInfoApi),
        tls::TlsApi,
        setup::SetupApi,
        auth::AuthApi,
        recovery::RecoveryApi,
        sessions::SessionsApi,
        users::UsersApi,
        (account::AccountApi, account_settings::AccountSettingsApi),
        rooms::RoomsApi,
        dms::DmsApi,
        (friends::FriendsApi, blocks::BlocksApi),
        (groups::GroupsApi, invitations::InvitationsApi),
        (
            conversations::ConversationsApi,
            message_actions::MessageActionsApi,
            search::SearchApi,
        ),
        (
            admin::AdminApi,
            admin_users::AdminUsersApi,
            admin_roles::AdminRolesApi,
            admin_settings::AdminSettingsApi,
        ),
        presence::PresenceApi,
        (
            admin_rooms::AdminRoomsApi,
            reports::ReportsApi,
            moderation::RoomModerationApi,
            moderation::MessageModerationApi,
        ),
    )
}
