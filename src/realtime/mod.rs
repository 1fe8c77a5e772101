//! Realtime delivery over WebSockets. Sits above the services, like the HTTP handlers:
//! - [`dispatch`] subscribes to the event bus and turns domain events into frames;
//! - [`sequencer`] keeps each conversation's message events in change order;
//! - [`directory`] coalesces the public directory's member counts into `room_stats` frames;
//! - [`hub`] holds this process's connections, subscriptions, member-list watchers and presence;
//! - [`connection`] is one WebSocket session;
//! - [`protocol`] defines the frames, and [`schema`] publishes them as an AsyncAPI document.

pub mod connection;
pub mod directory;
pub mod dispatch;
pub mod hub;
pub mod protocol;
pub mod schema;
pub mod sequencer;

pub use hub::Hub;
