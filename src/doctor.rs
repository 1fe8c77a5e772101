//! `echochat doctor`: checks an installation without changing it (no migration, no file created)
//! and prints one line per check, `OK   …`, `WARN …` or `FAIL …`. Exit status 1 when any check
//! failed, else 0. It reads the configuration exactly like `serve`.

use std::{
    net::ToSocketAddrs,
    path::{Path, PathBuf},
    process::ExitCode,
    time::Duration,
};

use crate::{
    admin_cli::describe_identity,
    cli::Cli,
    config::{Config, SmtpSecurity, TlsMode},
    domain::ServerRole,
    store::{Db, database_url, identity, users},
};

/// Free space under which the data folder gets a warning: 1 GiB.
pub const DISK_WARN_BYTES: u64 = 1 << 30;
/// Free space under which the data folder fails the check: 100 MiB.
pub const DISK_FAIL_BYTES: u64 = 100 << 20;
/// A certificate expiring sooner than this gets a warning: 14 days.
pub const CERT_WARN_SECS: i64 = 14 * 86_400;
/// How long the SMTP and database reachability checks wait.
pub const CONNECT_TIMEOUT: Duration = Duration::from_secs(5);

/// The outcome of one check.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord)]
pub enum Level {
    /// Fine.
    Ok,
    /// Works, but deserves a look.
    Warn,
    /// Broken: the server will not start or not work properly.
    Fail,
}

/// The printed lines and the worst level seen.
#[derive(Default)]
struct Report {
    worst: Option<Level>,
}

impl Report {
    fn line(&mut self, level: Level, what: &str, text: impl AsRef<str>) {
        let tag = match level {
            Level::Ok => "OK  ",
            Level::Warn => "WARN",
            Level::Fail => "FAIL",
        };
        println!("{tag} {what}: {}", text.as_ref());
        self.worst = self.worst.max(Some(level));
    }
    fn ok(&mut self, what: &str, text: impl AsRef<str>) {
        self.line(Level::Ok, what, text);
    }
    fn warn(&mut self, what: &str, text: impl AsRef<str>) {
        self.line(Level::Warn, what, text);
    }
    fn fail(&mut self, what: &str, text: impl AsRef<str>) {
        self.line(Level::Fail, what, text);
    }
}

/// Runs every check; exit status 1 when one failed.
pub async fn run(cli: &Cli) -> ExitCode {
    let mut report = Report::default();
    let loaded = match Config::load(cli.overrides()) {
        Ok(loaded) => loaded,
        Err(err) => {
            report.fail("config", format!("{err:#}"));
            return ExitCode::FAILURE;
        }
    };
    report.ok("config", format!("read {}", loaded.sources.join(" < ")));
    for key in &loaded.unknown_keys {
        report.warn(
            "config",
            format!("unknown key {key} (ignored: misspelt, or for another version?)"),
        );
    }
    let config = loaded.config;
    let data_dir = std::path::absolute(&config.data_dir).unwrap_or(config.data_dir.clone());
    if data_dir.is_dir() {
        report.ok("data folder", data_dir.display().to_string());
    } else {
        report.warn(
            "data folder",
            format!(
                "{} does not exist yet (the first start creates it)",
                data_dir.display()
            ),
        );
    }
    check_database(&config, &mut report).await;
    check_secrets(&data_dir, &mut report);
    check_tls(&config, &data_dir, &mut report);
    check_smtp(&config, &mut report).await;
    check_disk(&data_dir, &mut report);
    if report.worst == Some(Level::Fail) {
        ExitCode::FAILURE
    } else {
        ExitCode::SUCCESS
    }
}

/// Reachability, identity, migrations and whether an admin exists.
async fn check_database(config: &Config, report: &mut Report) {
    let url = database_url(config);
    if url.starts_with("sqlite:") {
        let path = identity::sqlite_path(&url);
        if !path.exists() {
            report.warn(
                "database",
                format!(
                    "{} does not exist yet (the first start creates it)",
                    std::path::absolute(&path).unwrap_or(path).display()
                ),
            );
            report.warn(
                "admin",
                "no admin account yet: open the setup link printed at the first start, or run \
                 \"echochat admin create-user NAME --admin\"",
            );
            return;
        }
    }
    let db = match tokio::time::timeout(CONNECT_TIMEOUT * 3, Db::connect(config)).await {
        Ok(Ok(db)) => db,
        Ok(Err(err)) => {
            report.fail("database", format!("{err:#}"));
            return;
        }
        Err(_) => {
            report.fail(
                "database",
                format!(
                    "{} did not answer within {} s",
                    describe_identity(&identity::identity_from_url(config)),
                    (CONNECT_TIMEOUT * 3).as_secs()
                ),
            );
            return;
        }
    };
    match identity::database_identity(&db, config).await {
        Ok(id) => report.ok(
            "database",
            describe_identity(&id).trim_start_matches("database: "),
        ),
        Err(err) => report.fail(
            "database",
            format!("connected, but it does not answer: {err}"),
        ),
    }
    let state = match identity::migration_state(&db).await {
        Ok(state) => state,
        Err(err) => {
            report.fail("migrations", format!("cannot read them: {err}"));
            db.close().await;
            return;
        }
    };
    let schema = state.pending.len() < state.known.len();
    if !state.unknown.is_empty() {
        report.fail(
            "migrations",
            format!(
                "the database has migrations this binary does not know ({}): it was migrated by \
                 a newer EchoChat; run that version",
                state.unknown.join(", ")
            ),
        );
    } else if !schema {
        report.warn(
            "migrations",
            "the database is empty: the first start creates the schema",
        );
    } else if !state.pending.is_empty() {
        report.warn(
            "migrations",
            format!(
                "{} pending ({}): the next start applies them",
                state.pending.len(),
                state.pending.join(", ")
            ),
        );
    } else {
        report.ok("migrations", format!("all {} applied", state.known.len()));
    }
    if schema {
        match users::list(&db.read, Some(ServerRole::Admin), true).await {
            Ok(admins) if admins.is_empty() => report.warn(
                "admin",
                "no admin account: create one with \"echochat admin create-user NAME --admin\" \
                 (or \"echochat admin grant USER admin\")",
            ),
            Ok(admins) => report.ok(
                "admin",
                format!(
                    "{} admin account(s): {}",
                    admins.len(),
                    admins
                        .iter()
                        .map(|a| a.username.as_str())
                        .collect::<Vec<_>>()
                        .join(", ")
                ),
            ),
            Err(err) => report.fail("admin", format!("cannot read the accounts: {err}")),
        }
    } else {
        report.warn(
            "admin",
            "no admin account yet: open the setup link printed at the first start, or run \
             \"echochat admin create-user NAME --admin\"",
        );
    }
    db.close().await;
}

/// The files that must be private: `<data>/secrets/*` and the TLS private keys.
fn secret_files(data_dir: &Path) -> Vec<PathBuf> {
    let mut files = Vec::new();
    if let Ok(entries) = std::fs::read_dir(data_dir.join("secrets")) {
        files.extend(entries.flatten().map(|e| e.path()).filter(|p| p.is_file()));
    }
    for key in ["ca.key", "server.key"] {
        let path = data_dir.join("tls").join(key);
        if path.is_file() {
            files.push(path);
        }
    }
    files.sort();
    files
}

fn check_secrets(data_dir: &Path, report: &mut Report) {
    let files = secret_files(data_dir);
    if files.is_empty() {
        report.ok(
            "secrets",
            "none yet (the first start creates them, mode 0600)",
        );
        return;
    }
    let mut open = 0;
    #[cfg(unix)]
    for file in &files {
        use std::os::unix::fs::PermissionsExt;
        match std::fs::metadata(file) {
            Ok(meta) if meta.permissions().mode() & 0o077 != 0 => {
                open += 1;
                report.warn(
                    "secrets",
                    format!(
                        "{} has mode {:04o}: others may read it (chmod 600 {})",
                        file.display(),
                        meta.permissions().mode() & 0o777,
                        file.display()
                    ),
                );
            }
            Ok(_) => {}
            Err(err) => {
                open += 1;
                report.warn("secrets", format!("{}: {err}", file.display()));
            }
        }
    }
    if open == 0 {
        report.ok(
            "secrets",
            format!("{} file(s), readable by the owner only", files.len()),
        );
    }
}

/// The certificate the HTTPS listener would serve, and (self-signed) the local CA.
fn check_tls(config: &Config, data_dir: &Path, report: &mut Report) {
    let files: Vec<(&str, PathBuf)> = match config.tls.mode {
        TlsMode::Off => {
            report.ok("tls", "off (plain HTTP only)");
            return;
        }
        TlsMode::SelfSigned => {
            let dir = data_dir.join("tls");
            if !dir.join("ca.crt").exists() {
                report.ok(
                    "tls",
                    "self-signed: no local CA yet (the first start creates it)",
                );
                return;
            }
            let mut files = vec![("local CA", dir.join("ca.crt"))];
            if dir.join("server.crt").exists() {
                files.push(("server certificate", dir.join("server.crt")));
            }
            files
        }
        TlsMode::Files => match &config.tls.cert_file {
            Some(path) => vec![("certificate", path.clone())],
            None => {
                report.fail(
                    "tls",
                    "[tls] mode = \"files\" needs cert_file and key_file (or set mode = \"off\")",
                );
                return;
            }
        },
    };
    let now = chrono::Utc::now().timestamp();
    for (what, path) in files {
        let not_after = std::fs::read(&path)
            .map_err(|e| e.to_string())
            .and_then(|pem| {
                use rustls::pki_types::{CertificateDer, pem::PemObject};
                CertificateDer::from_pem_slice(&pem)
                    .map_err(|e| format!("not a PEM certificate: {e}"))
            })
            .and_then(|der| {
                crate::tls::ca::describe(&der)
                    .map(|c| c.not_after)
                    .map_err(|e| format!("{e:#}"))
            });
        let mode = config.tls.mode.as_str();
        match not_after {
            Err(err) => report.fail("tls", format!("{mode}: {what} {}: {err}", path.display())),
            Ok(at) => {
                let when = chrono::DateTime::from_timestamp(at, 0)
                    .map(|t| t.to_rfc3339())
                    .unwrap_or_else(|| at.to_string());
                let left = at - now;
                if left <= 0 {
                    report.fail(
                        "tls",
                        format!("{mode}: {what} {} expired at {when}", path.display()),
                    );
                } else if left < CERT_WARN_SECS {
                    report.warn(
                        "tls",
                        format!(
                            "{mode}: {what} {} expires in {} day(s), at {when}",
                            path.display(),
                            left / 86_400
                        ),
                    );
                } else {
                    report.ok(
                        "tls",
                        format!("{mode}: {what} valid until {when} ({} days)", left / 86_400),
                    );
                }
            }
        }
    }
}

/// A TCP connection to the `[smtp]` host, when one is set.
async fn check_smtp(config: &Config, report: &mut Report) {
    let smtp = &config.smtp;
    let Some(host) = smtp.host.as_deref().filter(|h| !h.trim().is_empty()) else {
        report.ok("smtp", "not configured (mail goes to the spool folder)");
        return;
    };
    let port = smtp.port.unwrap_or(match smtp.security {
        SmtpSecurity::Starttls => 587,
        SmtpSecurity::Tls => 465,
        SmtpSecurity::None => 25,
    });
    let target = format!("{host}:{port}");
    let connect = async {
        let addrs: Vec<_> = tokio::task::spawn_blocking({
            let target = target.clone();
            move || target.to_socket_addrs().map(Iterator::collect::<Vec<_>>)
        })
        .await
        .map_err(|e| e.to_string())?
        .map_err(|e| format!("cannot resolve: {e}"))?;
        let mut last = "no address".to_owned();
        for addr in addrs {
            match tokio::net::TcpStream::connect(addr).await {
                Ok(_) => return Ok(addr),
                Err(err) => last = err.to_string(),
            }
        }
        Err(last)
    };
    match tokio::time::timeout(CONNECT_TIMEOUT, connect).await {
        Ok(Ok(addr)) => report.ok("smtp", format!("{target} accepts connections ({addr})")),
        Ok(Err(err)) => report.fail("smtp", format!("cannot connect to {target}: {err}")),
        Err(_) => report.fail(
            "smtp",
            format!(
                "{target} did not answer within {} s",
                CONNECT_TIMEOUT.as_secs()
            ),
        ),
    }
}

/// Free space on the file system of the data folder (or of its nearest existing parent).
fn check_disk(data_dir: &Path, report: &mut Report) {
    let mut dir = data_dir.to_path_buf();
    while !dir.exists() {
        if !dir.pop() {
            break;
        }
    }
    match free_bytes(&dir) {
        Some(free) => {
            let text = format!("{} free in {}", human(free), dir.display());
            if free < DISK_FAIL_BYTES {
                report.fail("disk", text);
            } else if free < DISK_WARN_BYTES {
                report.warn("disk", text);
            } else {
                report.ok("disk", text);
            }
        }
        None => report.warn(
            "disk",
            format!("cannot tell the free space of {}", dir.display()),
        ),
    }
}

#[cfg(unix)]
fn free_bytes(dir: &Path) -> Option<u64> {
    let stat = rustix::fs::statvfs(dir).ok()?;
    Some(stat.f_bavail.saturating_mul(stat.f_frsize))
}

#[cfg(not(unix))]
fn free_bytes(_dir: &Path) -> Option<u64> {
    None
}

/// `1.5 GiB`, `230 MiB`, `12 KiB`.
fn human(bytes: u64) -> String {
    const UNITS: [&str; 5] = ["B", "KiB", "MiB", "GiB", "TiB"];
    let mut value = bytes as f64;
    let mut unit = 0;
    while value >= 1024.0 && unit + 1 < UNITS.len() {
        value /= 1024.0;
        unit += 1;
    }
    if unit == 0 {
        format!("{bytes} B")
    } else {
        format!("{value:.1} {}", UNITS[unit])
    }
}
