//! Realtime delivery. `hub` (fan-out to local connections) and `protocol` (frame types) are
//! infrastructure the services publish through; `connection` is one WebSocket session and
//! sits above the services, like the HTTP handlers.

pub mod connection;
pub mod hub;
pub mod protocol;

pub use hub::Hub;
