//! Every SQLite-vs-PostgreSQL difference in one place.

use std::time::Duration;

use sea_orm::{
    ConnectionTrait, DatabaseConnection, Statement,
    sea_query::LikeExpr,
    sqlx::sqlite::{SqliteConnectOptions, SqliteJournalMode, SqliteSynchronous as Sync},
};

use super::{Backend, DbIdentity, db_backend};
use crate::config::SqliteSynchronous;

/// SQLite connection settings: WAL, the configured `synchronous`, foreign keys, busy timeout.
pub fn sqlite_options(opts: SqliteConnectOptions, sync: SqliteSynchronous) -> SqliteConnectOptions {
    opts.journal_mode(SqliteJournalMode::Wal)
        .synchronous(match sync {
            SqliteSynchronous::Full => Sync::Full,
            SqliteSynchronous::Normal => Sync::Normal,
        })
        .foreign_keys(true)
        .busy_timeout(Duration::from_secs(10))
        .create_if_missing(true)
}

/// `url` with any password replaced by `***`.
pub fn redact_url(url: &str) -> String {
    match url::Url::parse(url) {
        Ok(mut parsed) if parsed.password().is_some() => {
            let _ = parsed.set_password(Some("***"));
            parsed.to_string()
        }
        _ => url.to_owned(),
    }
}

/// Reads backend, host, database name and server version.
pub async fn identity(
    db: &DatabaseConnection,
    backend: Backend,
    url: &str,
) -> anyhow::Result<DbIdentity> {
    let sql = match backend {
        Backend::Sqlite => "SELECT sqlite_version() AS v",
        Backend::Postgres => "SELECT current_setting('server_version') AS v",
    };
    let row = db
        .query_one_raw(Statement::from_string(db_backend(backend), sql))
        .await?
        .ok_or_else(|| anyhow::anyhow!("no server version row"))?;
    let server_version: String = row.try_get("", "v")?;
    let (host, database) = match backend {
        Backend::Sqlite => {
            let path = url
                .trim_start_matches("sqlite://")
                .trim_start_matches("sqlite:");
            let path = path.split('?').next().unwrap_or(path).to_owned();
            let file = std::path::Path::new(&path)
                .file_name()
                .map(|f| f.to_string_lossy().into_owned())
                .unwrap_or_else(|| path.clone());
            (path, file)
        }
        Backend::Postgres => {
            let row = db
                .query_one_raw(Statement::from_string(
                    db_backend(backend),
                    "SELECT current_database() AS d",
                ))
                .await?
                .ok_or_else(|| anyhow::anyhow!("no current_database row"))?;
            let database: String = row.try_get("", "d")?;
            let host = url::Url::parse(url)
                .ok()
                .map(|u| {
                    format!(
                        "{}:{}",
                        u.host_str().unwrap_or("localhost"),
                        u.port().unwrap_or(5432)
                    )
                })
                .unwrap_or_else(|| "unknown".into());
            (host, database)
        }
    };
    Ok(DbIdentity {
        backend,
        host,
        database,
        server_version,
    })
}

/// The escape character of every LIKE pattern built here.
const LIKE_ESCAPE: char = '\\';

/// `text` with the LIKE wildcards (`%`, `_`) and the escape character escaped, so user input is
/// matched literally (Kellnr's `escape_like_pattern`). SQLite has no default LIKE escape
/// character, PostgreSQL's is `\`: the pattern always names it explicitly.
pub fn escape_like(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    for c in text.chars() {
        if matches!(c, '%' | '_' | LIKE_ESCAPE) {
            out.push(LIKE_ESCAPE);
        }
        out.push(c);
    }
    out
}

/// A LIKE expression matching values that contain `text` literally.
pub fn contains(text: &str) -> LikeExpr {
    LikeExpr::new(format!("%{}%", escape_like(text))).escape(LIKE_ESCAPE)
}

#[cfg(test)]
mod tests {
    #[test]
    fn like_wildcards_are_escaped() {
        assert_eq!(super::escape_like("50%_off\\"), "50\\%\\_off\\\\");
        assert_eq!(super::escape_like("lobby"), "lobby");
    }
}
