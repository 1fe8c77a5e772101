//! Application state shared by every handler and WebSocket session. Built once; cheap to clone.

use std::sync::Arc;

use tokio_util::{sync::CancellationToken, task::TaskTracker};

use crate::{
    config::Config,
    events::EventBus,
    realtime::Hub,
    service::{
        Access, AdminService, AuthService, ConversationService, MessageService, UserService,
    },
    store::Db,
};

/// Everything a request needs.
#[derive(Clone)]
pub struct AppState {
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
    /// Roles and the audit log.
    pub admin: AdminService,
    /// Fires when shutdown begins.
    pub shutdown: CancellationToken,
    /// WebSocket session tasks, awaited on shutdown.
    pub ws_tasks: TaskTracker,
}
