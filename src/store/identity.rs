//! What database a [`Db`] is: engine, host, name, version and file ([`database_identity`]), and
//! how its applied migrations compare with the ones this binary carries ([`migration_state`]).
//! Used by `GET /admin/server`, `echochat admin …` and `echochat doctor`.

use std::path::{Path, PathBuf};

use migration::{Migrator, MigratorTrait};
use sea_orm::{ConnectionTrait, Statement};

use super::{Backend, Db, database_url, db_backend};
use crate::{
    config::Config,
    domain::{DatabaseBackend, DatabaseIdentity, DomainError},
};

/// Reads the identity of the database `db` is connected to (`config` names the URL it came
/// from). PostgreSQL: `host:port` from the URL (never the user or password), `current_database()`
/// and `version()`. SQLite: the absolute file path (as SQLite opened it), its file name and
/// `sqlite_version()`. Errors: the database does not answer (internal error).
pub async fn database_identity(db: &Db, config: &Config) -> Result<DatabaseIdentity, DomainError> {
    let url = database_url(config);
    match db.backend {
        Backend::Postgres => {
            let (name, version) =
                two_texts(db, "SELECT current_database() AS a, version() AS b").await?;
            Ok(DatabaseIdentity {
                backend: DatabaseBackend::Postgres,
                host: Some(postgres_host(&url)),
                name,
                server_version: version,
                path: None,
            })
        }
        Backend::Sqlite => {
            let (version, _) = two_texts(db, "SELECT sqlite_version() AS a, '' AS b").await?;
            // The file SQLite really opened (absolute), else the path in the URL made absolute.
            let opened: Option<String> = db
                .read
                .query_all_raw(Statement::from_string(
                    db_backend(db.backend),
                    "PRAGMA database_list",
                ))
                .await?
                .into_iter()
                .find(|row| row.try_get::<String>("", "name").is_ok_and(|n| n == "main"))
                .and_then(|row| row.try_get::<String>("", "file").ok())
                .filter(|file| !file.is_empty());
            let path = match opened {
                Some(file) => PathBuf::from(file),
                None => absolute(&sqlite_path(&url)),
            };
            let name = path.file_name().map_or_else(
                || path.display().to_string(),
                |f| f.to_string_lossy().into_owned(),
            );
            Ok(DatabaseIdentity {
                backend: DatabaseBackend::Sqlite,
                host: None,
                name,
                server_version: version,
                path: Some(path.display().to_string()),
            })
        }
    }
}

/// The identity a database URL names, without connecting: for messages about a database that
/// cannot be reached (`server_version` is empty, `name` comes from the URL).
pub fn identity_from_url(config: &Config) -> DatabaseIdentity {
    let url = database_url(config);
    if url.starts_with("sqlite:") {
        let path = absolute(&sqlite_path(&url));
        DatabaseIdentity {
            backend: DatabaseBackend::Sqlite,
            host: None,
            name: path
                .file_name()
                .map(|f| f.to_string_lossy().into_owned())
                .unwrap_or_default(),
            server_version: String::new(),
            path: Some(path.display().to_string()),
        }
    } else {
        let name = url::Url::parse(&url)
            .ok()
            .map(|u| u.path().trim_start_matches('/').to_owned())
            .unwrap_or_default();
        DatabaseIdentity {
            backend: DatabaseBackend::Postgres,
            host: Some(postgres_host(&url)),
            name,
            server_version: String::new(),
            path: None,
        }
    }
}

/// The file path of a `sqlite:` URL (without the query).
pub fn sqlite_path(url: &str) -> PathBuf {
    let path = url
        .trim_start_matches("sqlite://")
        .trim_start_matches("sqlite:");
    PathBuf::from(path.split('?').next().unwrap_or(path))
}

fn absolute(path: &Path) -> PathBuf {
    std::path::absolute(path).unwrap_or_else(|_| path.to_path_buf())
}

/// `host:port` of a PostgreSQL URL (port 5432 when absent); for a Unix socket given as
/// `?host=/run/postgresql`, that folder. Never the user or password.
fn postgres_host(url: &str) -> String {
    let Ok(parsed) = url::Url::parse(url) else {
        return "unknown".into();
    };
    let port = parsed.port().unwrap_or(5432);
    match parsed.host_str().filter(|h| !h.is_empty()) {
        Some(host) => format!("{host}:{port}"),
        None => parsed
            .query_pairs()
            .find(|(k, _)| k == "host")
            .map_or_else(|| format!("localhost:{port}"), |(_, v)| v.into_owned()),
    }
}

async fn two_texts(db: &Db, sql: &str) -> Result<(String, String), DomainError> {
    let row = db
        .read
        .query_one_raw(Statement::from_string(db_backend(db.backend), sql))
        .await?
        .ok_or_else(|| DomainError::internal("the database returned no row"))?;
    Ok((row.try_get("", "a")?, row.try_get("", "b")?))
}

/// How the database's applied migrations compare with this binary's.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct MigrationState {
    /// Every migration this binary carries, oldest first.
    pub known: Vec<String>,
    /// Migrations of this binary the database has not applied yet (oldest first): the next
    /// start applies them.
    pub pending: Vec<String>,
    /// Migrations the database has applied that this binary does not know: it was migrated by
    /// a newer EchoChat, and this binary must not run on it.
    pub unknown: Vec<String>,
}

/// Reads `seaql_migrations` (read-only: a database that was never migrated has every migration
/// pending) and compares it with [`Migrator::migrations`]. Errors: the database does not answer.
pub async fn migration_state(db: &Db) -> Result<MigrationState, DomainError> {
    let known: Vec<String> = Migrator::migrations()
        .iter()
        .map(|m| m.name().to_owned())
        .collect();
    let exists_sql = match db.backend {
        Backend::Sqlite => {
            "SELECT count(*) AS n FROM sqlite_master WHERE type = 'table' AND name = 'seaql_migrations'"
        }
        Backend::Postgres => {
            "SELECT count(*) AS n FROM information_schema.tables \
             WHERE table_schema = current_schema() AND table_name = 'seaql_migrations'"
        }
    };
    let backend = db_backend(db.backend);
    let exists: i64 = db
        .read
        .query_one_raw(Statement::from_string(backend, exists_sql))
        .await?
        .map(|row| row.try_get("", "n"))
        .transpose()?
        .unwrap_or(0);
    let applied: Vec<String> = if exists > 0 {
        db.read
            .query_all_raw(Statement::from_string(
                backend,
                "SELECT version FROM seaql_migrations ORDER BY version",
            ))
            .await?
            .into_iter()
            .map(|row| row.try_get::<String>("", "version"))
            .collect::<Result<_, _>>()?
    } else {
        Vec::new()
    };
    let pending = known
        .iter()
        .filter(|k| !applied.contains(k))
        .cloned()
        .collect();
    let unknown = applied
        .iter()
        .filter(|a| !known.contains(a))
        .cloned()
        .collect();
    Ok(MigrationState {
        known,
        pending,
        unknown,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn postgres_host_never_shows_credentials() {
        assert_eq!(
            postgres_host("postgres://app:s3cret@db.example.com:6543/chat"),
            "db.example.com:6543"
        );
        assert_eq!(postgres_host("postgres://app@db/chat"), "db:5432");
        assert_eq!(
            postgres_host("postgresql:///chat?host=/run/postgresql"),
            "/run/postgresql"
        );
    }

    #[test]
    fn sqlite_paths_lose_the_query() {
        assert_eq!(
            sqlite_path("sqlite:///var/lib/echochat/echochat.db?mode=rwc"),
            PathBuf::from("/var/lib/echochat/echochat.db")
        );
        assert_eq!(sqlite_path("sqlite:chat.db"), PathBuf::from("chat.db"));
    }
}
