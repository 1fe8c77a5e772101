//! Persistence: the only code that imports `entity` and builds queries.
//!
//! SQLite runs in WAL mode with ONE writer connection and a small read pool (SQLite allows one
//! writer at a time; a single connection avoids `SQLITE_BUSY` storms). PostgreSQL uses one pool
//! for both. Every SQLite-vs-PostgreSQL difference lives in [`dialect`].

pub mod account_settings;
pub mod audit;
pub mod blocks;
pub mod conversations;
pub mod dialect;
pub mod friends;
pub mod identity;
pub mod members;
pub mod messages;
pub mod reactions;
pub mod reports;
pub mod roles;
pub mod search;
pub mod secrets;
pub mod sessions;
pub mod settings;
pub mod tokens;
pub mod user_admin;
pub mod user_tokens;
pub mod users;
pub mod writer;

use std::time::Duration;

use anyhow::Context;
use migration::{Migrator, MigratorTrait};
use sea_orm::{
    ConnectOptions, ConnectionTrait, Database, DatabaseConnection, DbBackend, Statement,
    TransactionTrait,
};

use crate::config::Config;

pub use entity::refresh_tokens::Model as RefreshTokenRow;

/// The key of the PostgreSQL advisory lock the migration transaction takes first
/// (`pg_advisory_xact_lock`): `"EchoChat"` in ASCII read as a big-endian `i64`. Instances that
/// start together on one database migrate one at a time: the first applies the pending
/// migrations, the others wait for its commit and then find nothing to do. The lock is released
/// with the transaction (commit, rollback or a dropped connection). Anything else on the same
/// database that uses this key would wait for migrations too.
pub const MIGRATION_LOCK_KEY: i64 = 0x4563_686F_4368_6174;

/// Which database engine is behind a [`Db`].
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Backend {
    /// Embedded SQLite file.
    Sqlite,
    /// PostgreSQL server.
    Postgres,
}

impl Backend {
    /// `sqlite` or `postgres`, as reported by `/health`.
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Sqlite => "sqlite",
            Self::Postgres => "postgres",
        }
    }
}

/// Database handles: `read` for queries, `write` for every write. On PostgreSQL both are the
/// same pool; on SQLite `write` is a pool of exactly one connection.
#[derive(Clone, Debug)]
pub struct Db {
    /// Pool for reads.
    pub read: DatabaseConnection,
    /// Pool (SQLite: single connection) for writes.
    pub write: DatabaseConnection,
    /// The engine.
    pub backend: Backend,
}

/// What the server is connected to, for the start-up log (never contains a password).
#[derive(Clone, Debug)]
pub struct DbIdentity {
    /// Engine.
    pub backend: Backend,
    /// Host (PostgreSQL) or file path (SQLite).
    pub host: String,
    /// Database name (PostgreSQL) or file name (SQLite).
    pub database: String,
    /// `SHOW server_version` / `sqlite_version()`.
    pub server_version: String,
}

impl std::fmt::Display for DbIdentity {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(
            f,
            "backend={} host={} database={} server_version={}",
            self.backend.as_str(),
            self.host,
            self.database,
            self.server_version
        )
    }
}

/// The database URL the config selects: `database_url`, else `<data_dir>/echochat.db`.
pub fn database_url(config: &Config) -> String {
    match &config.database_url {
        Some(url) if !url.trim().is_empty() => url.trim().to_owned(),
        _ => format!(
            "sqlite://{}?mode=rwc",
            config.data_dir.join("echochat.db").display()
        ),
    }
}

impl Db {
    /// Connects (creating the SQLite file if needed). Errors name the backend and host, never the
    /// password.
    pub async fn connect(config: &Config) -> anyhow::Result<Self> {
        let url = database_url(config);
        let backend = if url.starts_with("postgres://") || url.starts_with("postgresql://") {
            Backend::Postgres
        } else if url.starts_with("sqlite:") {
            Backend::Sqlite
        } else {
            anyhow::bail!("unsupported database URL scheme (use sqlite:// or postgres://)");
        };
        let redacted = dialect::redact_url(&url);
        match backend {
            Backend::Postgres => {
                let mut opts = ConnectOptions::new(url);
                opts.max_connections(config.database.max_connections.max(1))
                    .connect_timeout(Duration::from_secs(10))
                    .sqlx_logging(false);
                let pool = Database::connect(opts)
                    .await
                    .with_context(|| format!("cannot connect to PostgreSQL at {redacted}"))?;
                Ok(Self {
                    read: pool.clone(),
                    write: pool,
                    backend,
                })
            }
            Backend::Sqlite => {
                let sync = config.database.sqlite_synchronous;
                let open = |max: u32| {
                    let mut opts = ConnectOptions::new(url.clone());
                    opts.max_connections(max)
                        .min_connections(1)
                        .sqlx_logging(false)
                        .map_sqlx_sqlite_opts(move |o| dialect::sqlite_options(o, sync));
                    Database::connect(opts)
                };
                let write = open(1)
                    .await
                    .with_context(|| format!("cannot open SQLite database {redacted}"))?;
                let read = open(4)
                    .await
                    .with_context(|| format!("cannot open SQLite database {redacted}"))?;
                Ok(Self {
                    read,
                    write,
                    backend,
                })
            }
        }
    }

    /// Applies every pending migration inside ONE transaction: either all apply or the
    /// database is left exactly as it was (both engines have transactional DDL). On PostgreSQL
    /// the transaction first takes the advisory lock [`MIGRATION_LOCK_KEY`], so that several
    /// instances starting together migrate once (the others wait, then find nothing to do).
    ///
    /// On SQLite the transaction runs with `PRAGMA foreign_keys = OFF` (it can only be changed
    /// outside a transaction) so that a migration may rebuild a table without cascading deletes,
    /// and `PRAGMA foreign_key_check` must come back empty before COMMIT: the procedure of
    /// <https://sqlite.org/lang_altertable.html#otheralter>.
    pub async fn migrate(&self) -> anyhow::Result<()> {
        let sqlite = self.backend == Backend::Sqlite;
        if sqlite {
            self.write
                .execute_unprepared("PRAGMA foreign_keys = OFF")
                .await
                .context("disabling foreign keys for the migration")?;
        }
        let result = self.migrate_in_transaction(sqlite).await;
        if sqlite {
            self.write
                .execute_unprepared("PRAGMA foreign_keys = ON")
                .await
                .context("enabling foreign keys after the migration")?;
        }
        result
    }

    async fn migrate_in_transaction(&self, sqlite: bool) -> anyhow::Result<()> {
        let txn = self.write.begin().await?;
        if !sqlite {
            txn.execute_unprepared(&format!(
                "SELECT pg_advisory_xact_lock({MIGRATION_LOCK_KEY})"
            ))
            .await
            .context("waiting for the migration lock (another instance may be migrating)")?;
        }
        if sqlite {
            // The pool has one writer connection, so the pragma above applies to this
            // transaction; make sure, since a rebuild under foreign keys would cascade.
            let on: Option<i32> = txn
                .query_one_raw(Statement::from_string(
                    DbBackend::Sqlite,
                    "PRAGMA foreign_keys",
                ))
                .await?
                .and_then(|row| row.try_get_by_index(0).ok());
            anyhow::ensure!(
                on == Some(0),
                "cannot migrate: foreign keys are still enforced on the migration connection"
            );
        }
        if let Err(err) = Migrator::up(&txn, None).await {
            txn.rollback().await.ok();
            anyhow::bail!("database migration failed, nothing was changed: {err}");
        }
        if sqlite {
            let broken = txn
                .query_all_raw(Statement::from_string(
                    DbBackend::Sqlite,
                    "PRAGMA foreign_key_check",
                ))
                .await?;
            if !broken.is_empty() {
                txn.rollback().await.ok();
                anyhow::bail!(
                    "database migration failed, nothing was changed: {} rows break a foreign key",
                    broken.len()
                );
            }
        }
        txn.commit().await.context("committing migrations")?;
        Ok(())
    }

    /// Creates or updates the official rooms of `[[official_rooms]]` (see
    /// [`conversations::ensure_official`]) in one transaction that, on PostgreSQL, first takes
    /// the same advisory lock as the migrations ([`MIGRATION_LOCK_KEY`]): instances starting
    /// together would otherwise both see no Lobby and both insert it (a unique violation that
    /// stops the second). Errors: the database's.
    pub async fn ensure_official_rooms(
        &self,
        rooms: &[crate::config::OfficialRoom],
    ) -> anyhow::Result<()> {
        let txn = self.write.begin().await?;
        if self.backend == Backend::Postgres {
            txn.execute_unprepared(&format!(
                "SELECT pg_advisory_xact_lock({MIGRATION_LOCK_KEY})"
            ))
            .await
            .context("waiting for the start-up lock (another instance may be starting)")?;
        }
        conversations::ensure_official(&txn, rooms, chrono::Utc::now()).await?;
        txn.commit()
            .await
            .context("committing the official rooms")?;
        Ok(())
    }

    /// Whether the database answers `SELECT 1` within `timeout` (the health check).
    pub async fn ping(&self, timeout: Duration) -> Result<(), String> {
        match tokio::time::timeout(timeout, self.read.ping()).await {
            Ok(Ok(())) => Ok(()),
            Ok(Err(err)) => Err(format!("database error: {err}")),
            Err(_) => Err(format!(
                "the database did not answer within {} ms",
                timeout.as_millis()
            )),
        }
    }

    /// Reads the identity of the connected database.
    pub async fn identity(&self, config: &Config) -> anyhow::Result<DbIdentity> {
        dialect::identity(&self.read, self.backend, &database_url(config)).await
    }

    /// Closes both pools (WAL checkpoint on SQLite).
    pub async fn close(self) {
        let _ = self.read.close().await;
        if self.backend == Backend::Sqlite {
            let _ = self.write.close().await;
        }
    }
}

/// Maps a unique-constraint violation to a 409 with `code`/`message`; other errors stay internal.
pub fn conflict_on_unique(
    code: crate::domain::ErrorCode,
    message: &'static str,
) -> impl FnOnce(sea_orm::DbErr) -> crate::domain::DomainError {
    move |err| {
        if is_unique_violation(&err) {
            crate::domain::DomainError::conflict(code, message)
        } else {
            err.into()
        }
    }
}

/// True when `err` is a unique-constraint violation.
pub fn is_unique_violation(err: &sea_orm::DbErr) -> bool {
    matches!(
        err.sql_err(),
        Some(sea_orm::SqlErr::UniqueConstraintViolation(_))
    )
}

/// The sea-orm backend enum for a [`Backend`].
pub fn db_backend(backend: Backend) -> DbBackend {
    match backend {
        Backend::Sqlite => DbBackend::Sqlite,
        Backend::Postgres => DbBackend::Postgres,
    }
}
