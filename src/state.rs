//! Application state shared by every handler and WebSocket session. Built once; cheap to clone.

use std::sync::Arc;

use tokio_util::{sync::CancellationToken, task::TaskTracker};

use crate::{
    config::Config,
    realtime::Hub,
    service::{AuthService, ConversationService, MessageService},
    store::Db,
};

/// Everything a request needs.
#[derive(Clone)]
pub struct AppState {
    /// Effective configuration.
    pub config: Arc<Config>,
    /// Database handles.
    pub db: Db,
    /// Local fan-out.
    pub hub: Hub,
    /// Accounts and sessions.
    pub auth: AuthService,
    /// Rooms, DMs, membership.
    pub conversations: ConversationService,
    /// Messages.
    pub messages: MessageService,
    /// Fires when shutdown begins.
    pub shutdown: CancellationToken,
    /// WebSocket session tasks, awaited on shutdown.
    pub ws_tasks: TaskTracker,
}
