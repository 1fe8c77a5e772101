//! The real binary: zero-config start in an empty folder, secrets, setup link, config ladder,
//! clean SIGTERM, and a failing migration that leaves the database untouched.

use std::{
    io::{BufRead, BufReader},
    process::{Child, Command, Stdio},
    sync::mpsc,
    time::Duration,
};

use echochat::{build_app, config::Config};
use sea_orm::{ConnectionTrait, Database};

use crate::{
    both_backends,
    helpers::{Backend, drop_postgres_database, fresh_postgres_database, test_config},
};

/// The real binary, running, with its output lines.
pub(crate) struct Running {
    child: Child,
    lines: mpsc::Receiver<String>,
    pub(crate) seen: Vec<String>,
}

/// Starts the binary in `dir` on 127.0.0.1:0 with extra environment variables.
pub(crate) fn start(dir: &std::path::Path, envs: &[(&str, &str)]) -> Running {
    let mut cmd = Command::new(env!("CARGO_BIN_EXE_echochat"));
    cmd.current_dir(dir)
        .env_remove("DATABASE_URL")
        .env("ECHOCHAT_LISTEN", "127.0.0.1:0")
        .env("ECHOCHAT_TLS__LISTEN", "127.0.0.1:0")
        .env("ECHOCHAT_LOG", "info")
        .stdout(Stdio::piped())
        .stderr(Stdio::piped());
    for (k, v) in envs {
        cmd.env(k, v);
    }
    let mut child = cmd.spawn().expect("binary starts");
    let (tx, lines) = mpsc::channel();
    for out in [
        Box::new(child.stdout.take().unwrap()) as Box<dyn std::io::Read + Send>,
        Box::new(child.stderr.take().unwrap()),
    ] {
        let tx = tx.clone();
        std::thread::spawn(move || {
            for line in BufReader::new(out).lines().map_while(Result::ok) {
                let _ = tx.send(line);
            }
        });
    }
    Running {
        child,
        lines,
        seen: Vec::new(),
    }
}

impl Running {
    /// The first output line containing `needle` (waits up to 30 s for it).
    pub(crate) fn wait_for(&mut self, needle: &str) -> String {
        if let Some(line) = self.seen.iter().find(|l| l.contains(needle)) {
            return line.clone();
        }
        loop {
            let line = self
                .lines
                .recv_timeout(Duration::from_secs(30))
                .unwrap_or_else(|_| panic!("no line with {needle:?}; saw {:#?}", self.seen));
            self.seen.push(line.clone());
            if line.contains(needle) {
                return line;
            }
        }
    }

    /// SIGTERM, then the exit status (at most 10 s later).
    /// No "unknown configuration key" warning among the lines seen so far.
    pub(crate) fn assert_no_unknown_keys(&self) {
        assert!(
            !self
                .seen
                .iter()
                .any(|l| l.contains("unknown configuration key")),
            "{:#?}",
            self.seen
        );
    }

    pub(crate) fn terminate(mut self) -> std::process::ExitStatus {
        let status = Command::new("kill")
            .args(["-TERM", &self.child.id().to_string()])
            .status()
            .expect("kill");
        assert!(status.success());
        for _ in 0..100 {
            if let Some(status) = self.child.try_wait().expect("wait") {
                return status;
            }
            std::thread::sleep(Duration::from_millis(100));
        }
        let _ = self.child.kill();
        panic!("no exit within 10 s of SIGTERM");
    }
}

/// A test that fails before `terminate` must not leave the server running.
impl Drop for Running {
    fn drop(&mut self) {
        if let Ok(None) = self.child.try_wait() {
            let _ = self.child.kill();
            let _ = self.child.wait();
        }
    }
}

fn token_of(link: &str) -> String {
    link.split("token=")
        .nth(1)
        .and_then(|t| t.split_whitespace().next())
        .expect("token in link")
        .to_owned()
}

/// The port of a `listening listen=…` line.
pub(crate) fn port_of(line: &str) -> u16 {
    let addr = line
        .split("listen=")
        .nth(1)
        .expect("listen=")
        .split_whitespace()
        .next()
        .unwrap();
    addr.rsplit(':').next().unwrap().parse().unwrap()
}

#[test]
fn zero_config_start_creates_the_data_folder_and_prints_the_setup_link() {
    let dir = tempfile::tempdir().unwrap();
    let mut run = start(dir.path(), &[]);
    let listening = run.wait_for("listening listen=");
    let port = port_of(&listening);
    let link = run.wait_for("to create the admin account");
    assert!(
        link.starts_with(&format!("Open http://127.0.0.1:{port}/setup?token=")),
        "{link}"
    );
    let version = run.wait_for("EchoChat starting");
    assert!(version.contains(env!("CARGO_PKG_VERSION")));
    assert!(
        run.wait_for("configuration loaded")
            .contains("built-in defaults")
    );
    let db = run.wait_for("database connected");
    assert!(
        db.contains("backend=sqlite")
            && db.contains("database=echochat.db")
            && db.contains("server_version=3."),
        "{db}"
    );

    let data = dir.path().join("echochat-data");
    assert!(data.join("echochat.db").exists());
    let key = data.join("secrets/jwt.key");
    use std::os::unix::fs::PermissionsExt;
    assert_eq!(
        std::fs::metadata(&key).unwrap().permissions().mode() & 0o777,
        0o600
    );
    let secret = std::fs::read(&key).unwrap();
    let token1 = token_of(&link);
    assert!(run.terminate().success(), "clean exit on SIGTERM");

    // Second start: same secret, a new setup token (setup still not done).
    let mut run = start(dir.path(), &[]);
    let link = run.wait_for("to create the admin account");
    let token2 = token_of(&link);
    assert_ne!(token1, token2);
    assert_eq!(
        std::fs::read(&key).unwrap(),
        secret,
        "secrets are generated once"
    );
    assert!(run.terminate().success());
}

#[test]
fn config_file_and_environment_are_layered_and_unknown_keys_warned() {
    let dir = tempfile::tempdir().unwrap();
    let data = dir.path().join("data");
    std::fs::create_dir_all(&data).unwrap();
    std::fs::write(data.join("echochat.toml"), "registration = \"closed\"\nlisten = \"127.0.0.1:1\"\ncolour = \"blue\"\n[auth]\naccess_token_ttl_secs = 60\n").unwrap();
    let data_s = data.to_str().unwrap().to_owned();
    // ECHOCHAT_LISTEN (env) beats the file's listen; ECHOCHAT_AUTH__... beats the file's [auth].
    let mut run = start(
        dir.path(),
        &[
            ("ECHOCHAT_DATA_DIR", &data_s),
            ("ECHOCHAT_AUTH__ACCESS_TOKEN_TTL_SECS", "120"),
            ("ECHOCHAT_BOGUS", "1"),
        ],
    );
    let sources = run.wait_for("configuration loaded");
    assert!(
        sources.contains("echochat.toml") && sources.contains("ECHOCHAT_"),
        "{sources}"
    );
    assert!(
        run.wait_for("key=colour")
            .contains("unknown configuration key")
    );
    assert!(
        !run.seen.iter().any(|l| l.contains("key=data_dir")),
        "CLI variables are not config keys"
    );
    let bogus = run.wait_for("key=bogus");
    assert!(bogus.contains("unknown configuration key"));
    let port = port_of(&run.wait_for("listening listen="));
    assert_ne!(port, 1);
    let link = run.wait_for("to create the admin account");
    let token = token_of(&link);
    let rt = tokio::runtime::Runtime::new().unwrap();
    rt.block_on(async {
        let http = reqwest::Client::new();
        let base = format!("http://127.0.0.1:{port}");
        let body =
            serde_json::json!({"token": token, "username": "root", "password": "long-enough-pw"});
        let setup: serde_json::Value = http
            .post(format!("{base}/api/v1/setup"))
            .json(&body)
            .send()
            .await
            .unwrap()
            .json()
            .await
            .unwrap();
        assert_eq!(setup["expires_in"], 120);
        let reg = http
            .post(format!("{base}/api/v1/auth/register"))
            .json(&serde_json::json!({"username": "late", "password": "long-enough-pw"}))
            .send()
            .await
            .unwrap();
        assert_eq!(reg.status(), 403, "file said registration = closed");
    });
    assert!(run.terminate().success());
    assert!(
        !dir.path().join("echochat-data").exists(),
        "ECHOCHAT_DATA_DIR was used"
    );
}

async fn failing_migration(backend: Backend) {
    echochat::install_crypto_provider();
    let dir = tempfile::tempdir().unwrap();
    let mut config: Config = test_config(dir.path());
    let url = match backend {
        Backend::Sqlite => format!("sqlite://{}?mode=rwc", dir.path().join("pre.db").display()),
        Backend::Postgres => fresh_postgres_database().await.0,
    };
    let pg_name = (backend == Backend::Postgres)
        .then(|| url.rsplit('/').next().unwrap_or_default().to_owned());
    config.database_url = Some(url.clone());
    // An object in the way of the fifth migration.
    let db = Database::connect(&url).await.unwrap();
    db.execute_unprepared("CREATE TABLE messages (legacy TEXT)")
        .await
        .unwrap();
    db.execute_unprepared("INSERT INTO messages (legacy) VALUES ('keep me')")
        .await
        .unwrap();
    let err = build_app(config).await.err().expect("start-up must fail");
    let text = format!("{err:#}");
    assert!(
        text.contains("migration failed") && text.contains("nothing was changed"),
        "{text}"
    );
    for table in ["users", "conversations", "seaql_migrations"] {
        let sql = match backend {
            Backend::Sqlite => {
                format!("SELECT count(*) AS n FROM sqlite_master WHERE name = '{table}'")
            }
            Backend::Postgres => format!(
                "SELECT count(*)::bigint AS n FROM information_schema.tables WHERE table_name = '{table}'"
            ),
        };
        let row = db
            .query_one_raw(sea_orm::Statement::from_string(
                db.get_database_backend(),
                sql,
            ))
            .await
            .unwrap()
            .unwrap();
        let n: i64 = row.try_get("", "n").unwrap();
        assert_eq!(n, 0, "{table} must not exist after a failed migration");
    }
    let row = db
        .query_one_raw(sea_orm::Statement::from_string(
            db.get_database_backend(),
            "SELECT legacy FROM messages",
        ))
        .await
        .unwrap()
        .unwrap();
    assert_eq!(row.try_get::<String>("", "legacy").unwrap(), "keep me");
    db.close().await.ok();
    if let Some(name) = pg_name {
        drop_postgres_database(name);
    }
}

both_backends!(a_failing_migration_stops_start_up_and_changes_nothing => super::failing_migration);

#[test]
fn an_explicit_config_file_is_used_and_a_missing_one_stops_start_up() {
    let dir = tempfile::tempdir().unwrap();
    let file = dir.path().join("elsewhere.toml");
    std::fs::write(&file, "registration = \"closed\"\n").unwrap();
    let file_s = file.to_str().unwrap().to_owned();
    let mut run = start(dir.path(), &[("ECHOCHAT_CONFIG", &file_s)]);
    assert!(
        run.wait_for("configuration loaded")
            .contains("elsewhere.toml")
    );
    run.wait_for("listening listen=");
    assert!(run.terminate().success());

    let missing = Command::new(env!("CARGO_BIN_EXE_echochat"))
        .current_dir(dir.path())
        .args(["--config", "nope.toml", "--listen", "127.0.0.1:0"])
        .output()
        .unwrap();
    assert!(!missing.status.success());
    let stderr = String::from_utf8_lossy(&missing.stderr);
    assert!(
        stderr.contains("config file nope.toml does not exist"),
        "{stderr}"
    );
}

#[test]
fn the_openapi_command_prints_the_committed_spec() {
    let out = Command::new(env!("CARGO_BIN_EXE_echochat"))
        .arg("openapi")
        .output()
        .unwrap();
    assert!(out.status.success());
    let printed: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    let committed: serde_json::Value = serde_json::from_str(
        &std::fs::read_to_string(concat!(env!("CARGO_MANIFEST_DIR"), "/openapi/openapi.json"))
            .unwrap(),
    )
    .unwrap();
    assert_eq!(printed, committed);
    assert_eq!(printed["info"]["title"], "EchoChat");
}

#[test]
fn the_asyncapi_command_prints_the_committed_realtime_schema() {
    let out = Command::new(env!("CARGO_BIN_EXE_echochat"))
        .arg("asyncapi")
        .output()
        .unwrap();
    assert!(out.status.success());
    let printed: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    let committed: serde_json::Value = serde_json::from_str(
        &std::fs::read_to_string(concat!(
            env!("CARGO_MANIFEST_DIR"),
            "/openapi/realtime.json"
        ))
        .unwrap(),
    )
    .unwrap();
    assert_eq!(
        printed, committed,
        "openapi/realtime.json is stale: run `cargo run -- asyncapi > openapi/realtime.json`"
    );
    assert_eq!(printed["asyncapi"], "3.0.0");
}

#[test]
fn json_logs_carry_the_setup_link_and_no_false_warnings() {
    let dir = tempfile::tempdir().unwrap();
    let mut run = start(dir.path(), &[("ECHOCHAT_LOG_FORMAT", "json")]);
    let link = run.wait_for("\"setup_url\":\"http://127.0.0.1:");
    let line: serde_json::Value = serde_json::from_str(&link).expect("a JSON log line");
    let url = line["fields"]["setup_url"].as_str().unwrap();
    assert!(url.contains("/setup?token="), "{url}");
    let sources = run.wait_for("configuration loaded");
    assert!(
        !sources.contains("log_format") && !sources.contains("command line"),
        "only the sources that were used: {sources}"
    );
    run.wait_for("listening");
    run.assert_no_unknown_keys();
    assert!(run.terminate().success());
}

#[test]
fn a_data_folder_of_another_user_is_used_as_it_is() {
    use std::os::unix::fs::{MetadataExt, PermissionsExt};
    let dir = tempfile::tempdir().unwrap();
    let data = dir.path().join("echochat-data");
    std::fs::create_dir(&data).unwrap();
    std::fs::set_permissions(&data, std::fs::Permissions::from_mode(0o750)).unwrap();
    // Give it away (only root can); the server, running as root, may still write in it.
    let chown = Command::new("chown")
        .args(["65534:65534", data.to_str().unwrap()])
        .status();
    if !chown.is_ok_and(|s| s.success()) {
        assert!(
            std::env::var("CI").is_err(),
            "CI runs as root and can chown"
        );
        eprintln!("skipped: chown needs root");
        return;
    }
    let mut run = start(dir.path(), &[]);
    run.wait_for("listening listen=");
    let meta = std::fs::metadata(&data).unwrap();
    assert_eq!(meta.uid(), 65534, "ownership untouched");
    assert_eq!(meta.mode() & 0o777, 0o750, "mode untouched");
    assert!(run.terminate().success());

    // An unusable path is reported with its name.
    let file = dir.path().join("not-a-folder");
    std::fs::write(&file, "x").unwrap();
    let out = Command::new(env!("CARGO_BIN_EXE_echochat"))
        .args([
            "--data-dir",
            file.to_str().unwrap(),
            "--listen",
            "127.0.0.1:0",
        ])
        .output()
        .unwrap();
    assert!(!out.status.success());
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(stderr.contains(file.to_str().unwrap()), "{stderr}");
}

async fn upgrade(backend: Backend) {
    use migration::MigratorTrait;
    echochat::install_crypto_provider();
    let dir = tempfile::tempdir().unwrap();
    let mut config: Config = test_config(dir.path());
    let url = match backend {
        Backend::Sqlite => format!("sqlite://{}?mode=rwc", dir.path().join("old.db").display()),
        Backend::Postgres => fresh_postgres_database().await.0,
    };
    let pg_name = (backend == Backend::Postgres)
        .then(|| url.rsplit('/').next().unwrap_or_default().to_owned());
    config.database_url = Some(url.clone());
    // A database of the foundation release: the first five migrations, with data in it.
    let db = Database::connect(&url).await.unwrap();
    migration::Migrator::up(&db, Some(5)).await.unwrap();
    let (user, room) = (uuid::Uuid::now_v7(), uuid::Uuid::now_v7());
    let now = chrono::Utc::now();
    let backend_kind = db.get_database_backend();
    let exec = |sql: &str, values: Vec<sea_orm::Value>| {
        sea_orm::Statement::from_sql_and_values(backend_kind, sql, values)
    };
    let p = |n: usize| match backend {
        Backend::Sqlite => "?".to_owned(),
        Backend::Postgres => format!("${n}"),
    };
    db.execute_raw(exec(
        &format!("INSERT INTO users (id, username, display_name, password_hash, email, is_admin, created_at) VALUES ({}, 'olduser', 'Old User', 'x', NULL, {}, {})", p(1), p(2), p(3)),
        vec![user.into(), true.into(), now.into()],
    ))
    .await
    .unwrap();
    db.execute_raw(exec(
        &format!("INSERT INTO conversations (id, kind, name, name_key, topic, visibility, category, official, auto_join, dm_key, created_by, created_at, last_seq) VALUES ({}, 'room', 'Old Room', 'old room', NULL, 'private', NULL, {}, {}, NULL, {}, {}, 2)", p(1), p(2), p(3), p(4), p(5)),
        vec![room.into(), false.into(), false.into(), user.into(), now.into()],
    ))
    .await
    .unwrap();
    db.execute_raw(exec(
        &format!("INSERT INTO conversation_members (conversation_id, user_id, role, state, last_read_seq, updated_at) VALUES ({}, {}, 'owner', 'joined', 2, {})", p(1), p(2), p(3)),
        vec![room.into(), user.into(), now.into()],
    ))
    .await
    .unwrap();
    for seq in 1..=2i64 {
        db.execute_raw(exec(
            &format!("INSERT INTO messages (id, conversation_id, seq, sender_id, body, client_id, created_at, edited_at, deleted_at) VALUES ({}, {}, {}, {}, 'kept', NULL, {}, NULL, NULL)", p(1), p(2), p(3), p(4), p(5)),
            vec![uuid::Uuid::now_v7().into(), room.into(), seq.into(), user.into(), now.into()],
        ))
        .await
        .unwrap();
    }

    // The new server migrates it in place.
    let app = build_app(config).await.expect("the upgrade succeeds");
    drop(app);
    let count = |sql: &'static str| {
        let db = &db;
        async move {
            let row = db
                .query_one_raw(sea_orm::Statement::from_string(backend_kind, sql))
                .await
                .unwrap()
                .unwrap();
            row.try_get_by_index::<i64>(0).unwrap()
        }
    };
    assert_eq!(
        count("SELECT count(*) FROM messages WHERE body = 'kept'").await,
        2
    );
    assert_eq!(
        count("SELECT count(*) FROM users WHERE role = 'admin' AND username = 'olduser'").await,
        1,
        "is_admin became role"
    );
    assert_eq!(
        count(
            "SELECT count(*) FROM conversation_members WHERE state = 'joined' AND role = 'owner'"
        )
        .await,
        1
    );
    assert_eq!(
        count("SELECT count(*) FROM conversations WHERE name = 'Old Room' AND last_seq = 2").await,
        1
    );
    // The new rules hold for old rows too: no cascade from a sender, CHECK on kinds.
    assert!(
        db.execute_unprepared("DELETE FROM users WHERE username = 'olduser'")
            .await
            .is_err()
    );
    assert!(
        db.execute_unprepared("UPDATE conversations SET kind = 'channel'")
            .await
            .is_err()
    );
    db.close().await.ok();
    if let Some(name) = pg_name {
        drop_postgres_database(name);
    }
}

both_backends!(a_foundation_database_is_upgraded_in_place_with_its_data => super::upgrade);
