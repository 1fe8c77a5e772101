//! Command line: `echochat [serve]` (default), `echochat openapi`, `echochat asyncapi`,
//! `echochat smtp-test --to ADDRESS`, `echochat admin …` and `echochat doctor`.

use std::{net::SocketAddr, path::PathBuf};

use clap::{Parser, Subcommand};

use crate::config::Overrides;

/// EchoChat: a self-hosted realtime chat server in one binary.
#[derive(Debug, Parser)]
#[command(name = "echochat", version, about)]
pub struct Cli {
    /// Address to listen on, e.g. 0.0.0.0:8080 (`ECHOCHAT_LISTEN` is read by the config ladder).
    #[arg(long, global = true)]
    pub listen: Option<SocketAddr>,
    /// Data folder (database, secrets). Default ./echochat-data.
    #[arg(long, global = true, env = "ECHOCHAT_DATA_DIR")]
    pub data_dir: Option<PathBuf>,
    /// TOML config file. Default <data-dir>/echochat.toml when it exists.
    #[arg(long, global = true, env = "ECHOCHAT_CONFIG")]
    pub config: Option<PathBuf>,
    /// Database URL (sqlite://… or postgres://…); also DATABASE_URL / ECHOCHAT_DATABASE_URL.
    #[arg(long, global = true)]
    pub database_url: Option<String>,
    /// What to do; `serve` when omitted.
    #[command(subcommand)]
    pub command: Option<Command>,
}

/// Subcommands.
#[derive(Debug, Subcommand)]
pub enum Command {
    /// Run the chat server (the default).
    Serve,
    /// Print the OpenAPI 3 document of the REST API as JSON (openapi/openapi.json).
    Openapi,
    /// Print the AsyncAPI 3 document of the WebSocket protocol as JSON (openapi/realtime.json).
    Asyncapi,
    /// Send a test e-mail with the `[smtp]` settings and print how the SMTP dialogue ended
    /// (or where the spool file went when no SMTP host is set). Exit status 1 on failure.
    SmtpTest {
        /// Recipient address.
        #[arg(long)]
        to: String,
    },
    /// Account administration on this server's database (same configuration as `serve`):
    /// status, list, grant, revoke, create-user, reset-password, audit. Exit status 1 when
    /// refused or failed.
    Admin {
        /// What to do.
        #[command(subcommand)]
        command: crate::admin_cli::AdminCommand,
    },
    /// Check the installation (configuration, database, migrations, admin account, secret
    /// files, TLS certificate, SMTP, disk space): one `OK`/`WARN`/`FAIL` line per check, exit
    /// status 1 when one failed. Changes nothing.
    Doctor,
}

impl Cli {
    /// The config overrides given on the command line (`ECHOCHAT_LISTEN` and
    /// `ECHOCHAT_DATABASE_URL` are read by the config ladder itself, and logged as environment).
    pub fn overrides(&self) -> Overrides {
        Overrides {
            listen: self.listen,
            data_dir: self.data_dir.clone(),
            config_file: self.config.clone(),
            database_url: self.database_url.clone(),
        }
    }
}
