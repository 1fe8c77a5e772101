//! EchoChat: a self-hosted realtime chat server in one binary.
//!
//! Layers (imports run one way): `http`/`realtime` → `service` → `store` → `entity`; everyone
//! may use `domain` and `events`. Services publish domain events after commit; `realtime`
//! subscribes to them (docs/architecture.md).

pub mod admin_cli;
pub mod app;
pub mod cli;
pub mod cluster;
pub mod config;
pub mod doctor;
pub mod domain;
pub mod events;
pub mod http;
pub mod mail;
pub mod realtime;
pub mod secrets;
pub mod service;
pub mod spec;
pub mod state;
pub mod store;
pub mod telemetry;
pub mod tls;

pub use app::{App, build_app};

/// The crate version, as reported by `/health` and `--version`.
pub const VERSION: &str = env!("CARGO_PKG_VERSION");

/// Installs the process-wide rustls crypto provider (aws-lc-rs). Call first thing; repeated
/// calls are harmless.
pub fn install_crypto_provider() {
    let _ = rustls::crypto::aws_lc_rs::default_provider().install_default();
}
