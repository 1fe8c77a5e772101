//! What the admin routes answer (`/api/v1/admin/…`): accounts with their moderation state,
//! roles, and "who am I" for troubleshooting a missing admin panel.

use poem_openapi::Object;
use serde::{Deserialize, Serialize};

use super::{
    AuditEntry, ConversationId, ConversationKind, ConversationRole, Permission, ServerRole,
    SessionInfo, Timestamp, UserId,
};

/// An account as administrators see it: identity, roles and moderation state.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize, Object)]
#[oai(skip_serializing_if_is_none)]
pub struct AdminUser {
    /// The account's id.
    pub id: UserId,
    /// Canonical username.
    pub username: String,
    /// Display name.
    pub display_name: String,
    /// E-mail address, when one is set.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub email: Option<String>,
    /// The built-in server role.
    pub role: ServerRole,
    /// Custom roles held, by name.
    pub roles: Vec<String>,
    /// Creation time (RFC 3339).
    pub created_at: Timestamp,
    /// True once the account was deleted by its owner.
    pub deleted: bool,
    /// Suspended until then (cannot sign in); absent when not suspended now.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub suspended_until: Option<Timestamp>,
    /// Why it is suspended.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub suspend_reason: Option<String>,
    /// Deactivated since then (cannot sign in until reactivated).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub deactivated_at: Option<Timestamp>,
    /// Why it was deactivated.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub deactivate_reason: Option<String>,
    /// Muted on the whole server until then; absent when not muted now.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub muted_until: Option<Timestamp>,
    /// Why it is muted.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub mute_reason: Option<String>,
    /// True while shadowbanned: new messages are shown to the sender (and moderators) only.
    pub shadowbanned: bool,
    /// Why it is shadowbanned.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub shadowban_reason: Option<String>,
    /// True while the account has a WebSocket connection to this server.
    pub online: bool,
}

/// A page of accounts (`GET /admin/users`), by username.
#[derive(Clone, Debug, Serialize, Object)]
#[oai(skip_serializing_if_is_none)]
pub struct AdminUserPage {
    /// The accounts.
    pub users: Vec<AdminUser>,
    /// Pass as `cursor` for the next page; absent on the last page.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub next_cursor: Option<String>,
}

/// A conversation an account belongs to (joined or invited), in its detail.
#[derive(Clone, Debug, Serialize, Object)]
#[oai(skip_serializing_if_is_none)]
pub struct AdminMembership {
    /// The conversation.
    pub id: ConversationId,
    /// Room, group or DM.
    pub kind: ConversationKind,
    /// Its name (rooms and groups; absent for DMs).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub name: Option<String>,
    /// The account's role there.
    pub role: ConversationRole,
}

/// One account in detail (`GET /admin/users/{id}`).
#[derive(Clone, Debug, Serialize, Object)]
pub struct AdminUserDetail {
    /// The account.
    pub user: AdminUser,
    /// Its live sessions, newest activity first (`current` is always false here).
    pub sessions: Vec<SessionInfo>,
    /// Rooms, groups and DMs it belongs to (at most 200).
    pub conversations: Vec<AdminMembership>,
    /// The latest 20 audit entries about it or by it, newest first.
    pub audit: Vec<AuditEntry>,
}

/// Where an effective permission comes from.
#[derive(Clone, Debug, Serialize, Object)]
pub struct PermissionSource {
    /// The permission.
    pub permission: Permission,
    /// The roles that grant it (built-in or custom).
    pub sources: Vec<String>,
}

/// The caller's identity and effective server permissions (`GET /admin/whoami`): the first thing
/// to check when the admin panel is missing.
#[derive(Clone, Debug, Serialize, Object)]
pub struct WhoAmI {
    /// My id.
    pub user_id: UserId,
    /// My username.
    pub username: String,
    /// My roles: the built-in one first, then custom ones.
    pub roles: Vec<String>,
    /// Every server permission I hold and which roles grant it.
    pub permissions: Vec<PermissionSource>,
    /// Whether these permissions open the admin panel in the web client.
    pub admin_panel: bool,
}

/// A server role (`GET /admin/roles`).
#[derive(Clone, Debug, Serialize, Object)]
#[oai(skip_serializing_if_is_none)]
pub struct RoleView {
    /// Name (lower case).
    pub name: String,
    /// What it is for.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub description: Option<String>,
    /// The server permissions it grants.
    pub permissions: Vec<Permission>,
    /// True for `admin`, `moderator` and `member`: fixed, cannot be edited or deleted.
    pub builtin: bool,
    /// How many accounts hold it.
    pub members: u64,
}

/// Every role (`GET /admin/roles`).
#[derive(Clone, Debug, Serialize, Object)]
pub struct RoleList {
    /// Built-in roles first, then custom ones by name.
    pub roles: Vec<RoleView>,
}

/// What a broadcast reached (`POST /admin/broadcast`).
#[derive(Clone, Debug, Serialize, Object)]
pub struct BroadcastOutcome {
    /// Connections of this server the announcement was queued to.
    pub delivered_to: u64,
    /// Official rooms it was also stored in, as a message.
    pub stored_in: u64,
}

/// How many of each thing the server holds (`GET /admin/server`).
#[derive(Clone, Debug, Serialize, Object)]
pub struct ServerCounts {
    /// Accounts that are not deleted.
    pub users: u64,
    /// Accounts with a WebSocket connection to this instance now.
    pub online: u64,
    /// Rooms.
    pub rooms: u64,
    /// Groups.
    pub groups: u64,
    /// Direct message conversations.
    pub dms: u64,
    /// Messages committed since midnight UTC.
    pub messages_today: u64,
}

/// The server's identity and statistics (`GET /admin/server`): the answer to "am I on the
/// database I think I am?".
#[derive(Clone, Debug, Serialize, Object)]
pub struct ServerStatus {
    /// The EchoChat version (`CARGO_PKG_VERSION`).
    pub version: String,
    /// When this process started serving (RFC 3339).
    pub started_at: Timestamp,
    /// Seconds since then.
    pub uptime_secs: u64,
    /// The database this process uses (never a password).
    pub database: super::DatabaseIdentity,
    /// The data folder (absolute when it could be resolved).
    pub data_dir: String,
    /// Where the configuration came from, in precedence order (defaults, file, environment,
    /// command line).
    pub config_sources: Vec<String>,
    /// Counts.
    pub counts: ServerCounts,
    /// This instance among several (docs/scaling.md).
    pub cluster: ClusterStatus,
}

/// This instance and the others sharing the database and Redis (`GET /admin/server`).
#[derive(Clone, Debug, Default, Serialize, Object)]
pub struct ClusterStatus {
    /// This instance's id (`[cluster] instance_id`, or `<hostname>-<6 hex digits>` made at
    /// start); it also appears in every log line of the start-up.
    pub instance_id: String,
    /// Whether several instances may share this server (`[redis] url` / `REDIS_URL` is set).
    pub shared: bool,
    /// Whether Redis answers and this instance receives the others' events (always true
    /// without Redis). When false, `GET /health/ready` answers 503.
    pub redis_healthy: bool,
    /// Why Redis is unhealthy, when it is.
    #[oai(skip_serializing_if_is_none)]
    pub redis_problem: Option<String>,
    /// The instances that refreshed their registration in the last 10 s, by id (with one
    /// instance: this one).
    pub instances: Vec<InstanceInfo>,
}

/// One live instance (`GET /admin/server`).
#[derive(Clone, Debug, Serialize, Object)]
pub struct InstanceInfo {
    /// Its id.
    pub id: String,
    /// The EchoChat version it runs.
    pub version: String,
    /// When it started.
    pub started_at: Timestamp,
    /// When it last refreshed its registration (every 2 s).
    pub last_seen: Timestamp,
}
