//! EchoChat's one integration-test binary: the real server over real HTTP and WebSocket, on
//! SQLite and (with TEST_DATABASE_URL) PostgreSQL.

#![allow(clippy::unwrap_used)] // tests may unwrap: a panic is a test failure

mod account_settings;
mod accounts;
mod admin_users;
mod bad_input;
mod blocks;
mod browser;
mod browser_account;
mod browser_admin;
mod browser_messages;
mod browser_mobile;
mod browser_search;
mod browser_settings;
mod browser_social;
mod cli;
mod cluster;
mod cluster_bus;
mod cluster_harness;
mod cluster_shared;
mod conversations;
mod depth;
mod directory;
mod friends;
mod groups;
mod health;
mod helpers;
mod https;
mod https_browser;
mod hygiene;
mod invitations;
mod layers;
mod limits;
mod lists;
mod markdown;
mod messages;
mod missed;
mod openapi_spec;
mod presence;
mod realtime;
mod recovery;
mod reports;
mod review_fixes;
mod room_moderation;
mod seams;
mod search;
mod sessions;
mod settings;
mod shutdown;
mod spec_check;
mod startup;
