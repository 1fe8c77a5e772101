//! Use-cases, one file per capability. No HTTP types here: handlers and the WebSocket
//! connection call these and translate the results.

pub mod auth;
pub mod conversations;
pub mod messages;
pub mod passwords;
pub mod tokens;
pub mod views;

pub use auth::{AuthService, AuthUser, Session};
pub use conversations::ConversationService;
pub use messages::MessageService;
