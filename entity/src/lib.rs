//! sea-orm models of the EchoChat schema. Models and relations only: queries live in the
//! server's `store` module, and migrations define the tables with their own identifiers.

pub mod audit_log;
pub mod blocks;
pub mod conversation_members;
pub mod conversations;
pub mod friendships;
pub mod message_reactions;
pub mod messages;
pub mod refresh_tokens;
pub mod reports;
pub mod roles;
pub mod server_invites;
pub mod sessions;
pub mod settings;
pub mod user_roles;
pub mod user_settings;
pub mod user_tokens;
pub mod users;
