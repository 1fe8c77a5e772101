//! EchoChat schema migrations. Each file is frozen once released: it declares its own
//! identifiers (`DeriveIden` enums) and never imports the entity crate.
//!
//! The server applies all pending migrations inside ONE transaction (see `store::Db::migrate`),
//! so a failing migration leaves the database exactly as it was on SQLite and PostgreSQL. On
//! SQLite that transaction runs with `PRAGMA foreign_keys = OFF` and ends with
//! `PRAGMA foreign_key_check`, so a migration may rebuild a table (SQLite cannot ALTER a CHECK
//! constraint or a foreign key) without cascading deletes.

pub use sea_orm_migration::prelude::*;

mod m20261121_000001_create_users;
mod m20261121_000002_create_refresh_tokens;
mod m20261121_000003_create_conversations;
mod m20261121_000004_create_conversation_members;
mod m20261121_000005_create_messages;
mod m20261201_000006_typed_domain;
mod m20261202_000007_sessions_and_recovery;
mod m20261203_000008_social_graph;
mod m20261203_000009_groups;
mod m20261203_000010_presence;
mod m20261204_000011_administration;
mod m20261204_000012_room_moderation;
mod m20261204_000013_settings;
mod m20261205_000014_conversation_depth;
mod m20261205_000015_search;
mod m20261205_000016_account_settings;
mod m20261206_000017_server_secrets;

/// The ordered list of migrations.
pub struct Migrator;

#[async_trait::async_trait]
impl MigratorTrait for Migrator {
    fn migrations() -> Vec<Box<dyn MigrationTrait>> {
        vec![
            Box::new(m20261121_000001_create_users::Migration),
            Box::new(m20261121_000002_create_refresh_tokens::Migration),
            Box::new(m20261121_000003_create_conversations::Migration),
            Box::new(m20261121_000004_create_conversation_members::Migration),
            Box::new(m20261121_000005_create_messages::Migration),
            Box::new(m20261201_000006_typed_domain::Migration),
            Box::new(m20261202_000007_sessions_and_recovery::Migration),
            Box::new(m20261203_000008_social_graph::Migration),
            Box::new(m20261203_000009_groups::Migration),
            Box::new(m20261203_000010_presence::Migration),
            Box::new(m20261204_000011_administration::Migration),
            Box::new(m20261204_000012_room_moderation::Migration),
            Box::new(m20261204_000013_settings::Migration),
            Box::new(m20261205_000014_conversation_depth::Migration),
            Box::new(m20261205_000015_search::Migration),
            Box::new(m20261205_000016_account_settings::Migration),
            Box::new(m20261206_000017_server_secrets::Migration),
        ]
    }
}
