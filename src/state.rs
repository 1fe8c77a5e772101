//! Application state shared by every handler and WebSocket session. Built once; cheap to clone.

use std::sync::Arc;

use tokio_util::{sync::CancellationToken, task::TaskTracker};

use crate::{
    cluster::Cluster,
    config::Config,
    events::EventBus,
    realtime::Hub,
    service::{
        Access, AccountSettingsService, AdminService, AuthService, BlockService, BroadcastService,
        ConversationService, FriendService, MessageChangeService, MessageService, PresenceService,
        ProfileService, RateLimits, ReceiptService, RecoveryService, ReportService, RoleService,
        SearchService, SessionService, SettingsService, SystemActions, UserAdminService,
        UserService,
    },
    store::Db,
    tls::TlsInfo,
};

/// Everything a request needs: a cheap handle (one pointer) to [`AppStateInner`], so that each
/// WebSocket session, which keeps a clone for its whole life, costs 8 bytes for it rather than
/// the ~1.7 KB the services take by value.
#[derive(Clone)]
pub struct AppState(Arc<AppStateInner>);

impl AppState {
    /// Wraps the state.
    pub fn new(inner: AppStateInner) -> Self {
        Self(Arc::new(inner))
    }
}

impl std::ops::Deref for AppState {
    type Target = AppStateInner;

    fn deref(&self) -> &AppStateInner {
        &self.0
    }
}

/// The shared state behind [`AppState`].
pub struct AppStateInner {
    /// Effective configuration.
    pub config: Arc<Config>,
    /// Database handles (health check; everything else goes through services).
    pub db: Db,
    /// The event bus (realtime publishes presence changes on it).
    pub bus: Arc<dyn EventBus>,
    /// This process's connections, subscriptions and presence.
    pub hub: Hub,
    /// The permission function.
    pub access: Access,
    /// Accounts and sessions.
    pub auth: AuthService,
    /// The caller's own account.
    pub users: UserService,
    /// Rooms, DMs, membership.
    pub conversations: ConversationService,
    /// Messages.
    pub messages: MessageService,
    /// Edits, deletions, reactions and pins.
    pub message_changes: MessageChangeService,
    /// Read positions, read receipts, notification levels.
    pub receipts: ReceiptService,
    /// Message search.
    pub search: SearchService,
    /// Built-in roles, the audit log, who am I.
    pub admin: AdminService,
    /// Account administration and moderation.
    pub user_admin: UserAdminService,
    /// Custom roles and grants.
    pub roles: RoleService,
    /// Announcements.
    pub broadcast: BroadcastService,
    /// When this process started serving (uptime in `GET /admin/server`).
    pub started_at: crate::domain::Timestamp,
    /// Reported messages and the moderation queue.
    pub reports: ReportService,
    /// Account administration shared with the command line (roles, account creation, reset
    /// links, the user list, the audit log's tail).
    pub system: SystemActions,
    /// Friends and friend requests.
    pub friends: FriendService,
    /// Blocks.
    pub blocks: BlockService,
    /// Listing and ending sessions; activity and idle logout.
    pub sessions: SessionService,
    /// Password reset, recovery PIN, e-mail verification.
    pub recovery: RecoveryService,
    /// Display name, e-mail address, password changes.
    pub profile: ProfileService,
    /// Presence choice and custom status text.
    pub presence: PresenceService,
    /// The rate limiters (also held by the services that check them).
    pub limits: RateLimits,
    /// Live settings (server name, MOTD, registration, invisible, limits) and invite links.
    pub settings: SettingsService,
    /// My account settings (theme, notifications, read receipts, …).
    pub account_settings: AccountSettingsService,
    /// Fires when shutdown begins.
    pub shutdown: CancellationToken,
    /// WebSocket session tasks, awaited on shutdown.
    pub ws_tasks: TaskTracker,
    /// HTTPS facts (`None` when `[tls] mode = "off"`).
    pub tls: Option<TlsInfo>,
    /// This instance's id and, with several instances, the shared Redis.
    pub cluster: Cluster,
}
