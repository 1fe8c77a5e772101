//! The real binary's `echochat admin …` and `echochat doctor`, on a running test server's
//! database (SQLite and PostgreSQL) and on a data folder no server has used yet.

use std::{path::Path, process::Stdio, time::Duration};

use echochat::build_app;
use reqwest::StatusCode;
use sea_orm::ConnectionTrait;
use serde_json::{Value, json};
use tokio::io::AsyncWriteExt;

use crate::{
    both_backends,
    helpers::{
        Backend, PASSWORD, TestApp, drop_postgres_database, fresh_postgres_database, spawn_app,
        spawn_ready_app, test_config,
    },
    recovery::token_after,
};

/// What one run of the binary printed, and how it ended.
#[derive(Debug)]
struct Out {
    code: i32,
    stdout: String,
    stderr: String,
}

impl Out {
    fn ok(&self) -> &Self {
        assert_eq!(self.code, 0, "expected success: {self:#?}");
        self
    }

    /// The lines starting with `prefix`.
    fn lines(&self, prefix: &str) -> Vec<&str> {
        self.stdout
            .lines()
            .filter(|l| l.starts_with(prefix))
            .collect()
    }

    fn has(&self, prefix: &str, needle: &str) -> bool {
        self.lines(prefix).iter().any(|l| l.contains(needle))
    }
}

/// Where a command runs: the data folder and, on PostgreSQL, the database URL.
#[derive(Clone)]
struct Target {
    dir: std::path::PathBuf,
    database_url: Option<String>,
}

impl Target {
    fn of(app: &TestApp) -> Self {
        Self {
            dir: app.config.data_dir.clone(),
            database_url: app.config.database_url.clone(),
        }
    }

    /// Runs `echochat <args>` with `--data-dir` (and `--database-url`), extra environment and
    /// `stdin`; at most 60 s.
    async fn run(&self, args: &[&str], envs: &[(&str, &str)], stdin: &str) -> Out {
        let mut cmd = tokio::process::Command::new(env!("CARGO_BIN_EXE_echochat"));
        cmd.current_dir(&self.dir).env_remove("DATABASE_URL");
        for (key, _) in std::env::vars() {
            if key.starts_with("ECHOCHAT_") {
                cmd.env_remove(key);
            }
        }
        cmd.arg("--data-dir").arg(&self.dir);
        if let Some(url) = &self.database_url {
            cmd.arg("--database-url").arg(url);
        }
        cmd.args(args)
            .envs(envs.iter().copied())
            .stdin(Stdio::piped())
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .kill_on_drop(true);
        let mut child = cmd.spawn().expect("the binary starts");
        let mut input = child.stdin.take().expect("stdin");
        input
            .write_all(stdin.as_bytes())
            .await
            .expect("write stdin");
        drop(input);
        let output = tokio::time::timeout(Duration::from_secs(60), child.wait_with_output())
            .await
            .unwrap_or_else(|_| panic!("echochat {args:?} did not end within 60 s"))
            .expect("output");
        Out {
            code: output.status.code().unwrap_or(-1),
            stdout: String::from_utf8_lossy(&output.stdout).into_owned(),
            stderr: String::from_utf8_lossy(&output.stderr).into_owned(),
        }
    }

    async fn admin(&self, args: &[&str]) -> Out {
        let mut all = vec!["admin"];
        all.extend_from_slice(args);
        self.run(&all, &[], "").await
    }

    async fn doctor(&self, envs: &[(&str, &str)]) -> Out {
        self.run(&["doctor"], envs, "").await
    }
}

fn backend_name(backend: Backend) -> &'static str {
    match backend {
        Backend::Sqlite => "sqlite",
        Backend::Postgres => "postgres",
    }
}

async fn login_status(app: &TestApp, name: &str, password: &str) -> StatusCode {
    app.post_json(
        "/api/v1/auth/login",
        &json!({"username": name, "password": password}),
    )
    .await
    .status()
}

async fn permissions(app: &TestApp, name: &str) -> Vec<String> {
    let user = app.login(name).await;
    let me = app.get_json("/api/v1/users/me", &user.token).await;
    me["permissions"]
        .as_array()
        .expect("permissions")
        .iter()
        .map(|p| p.as_str().expect("text").to_owned())
        .collect()
}

/// create-user, grant/revoke, the last admin, status, list, reset-password and audit, against
/// a running server's database.
async fn admin_commands(backend: Backend) {
    let mut app = spawn_ready_app(backend).await;
    let cli = Target::of(&app);

    // Every command names the database first.
    let created = cli
        .run(
            &[
                "admin",
                "create-user",
                "Carol",
                "--email",
                "carol@example.com",
                "--display-name",
                "Carol C",
            ],
            &[],
            &format!("{PASSWORD}\n"),
        )
        .await;
    created.ok();
    let first = created.stdout.lines().next().unwrap_or_default();
    assert!(
        first.starts_with(&format!("database: {}", backend_name(backend))),
        "{created:#?}"
    );
    assert!(created.has("data folder: ", &cli.dir.display().to_string()));
    assert!(created.has("created carol (member)", ""), "{created:#?}");
    // The account works over HTTP at once, and joined the auto-join rooms.
    assert_eq!(login_status(&app, "carol", PASSWORD).await, 200);
    let carol = app.login("carol").await;
    app.lobby(&carol).await;

    // Registration's rules apply; nothing is created when they are broken.
    let weak = cli
        .run(&["admin", "create-user", "dave"], &[], "short\n")
        .await;
    assert_eq!(weak.code, 1, "{weak:#?}");
    assert!(weak.stderr.contains("invalid_password"), "{weak:#?}");
    assert_eq!(login_status(&app, "dave", "short").await, 401);
    let taken = cli
        .run(
            &["admin", "create-user", "carol"],
            &[],
            &format!("{PASSWORD}\n"),
        )
        .await;
    assert_eq!(taken.code, 1);
    assert!(taken.stderr.contains("username_taken"), "{taken:#?}");
    let bad_name = cli
        .run(
            &["admin", "create-user", "no spaces"],
            &[],
            &format!("{PASSWORD}\n"),
        )
        .await;
    assert_eq!(bad_name.code, 1);
    assert!(
        bad_name.stderr.contains("invalid_username"),
        "{bad_name:#?}"
    );

    // An admin made on the command line, before their first request, is an admin over HTTP.
    cli.run(
        &["admin", "create-user", "erin"],
        &[],
        &format!("{PASSWORD}\n"),
    )
    .await
    .ok();
    let granted = cli.admin(&["grant", "erin", "admin"]).await;
    granted.ok();
    assert!(
        granted
            .stdout
            .contains("granted admin to erin (was member; now admin)")
    );
    assert!(
        permissions(&app, "erin")
            .await
            .contains(&"audit.read".to_owned())
    );
    let again = cli.admin(&["grant", "erin", "admin"]).await;
    again.ok();
    assert!(again.stdout.contains("erin already has the role admin"));

    // Revoking admin makes a member (a running server's permission cache learns it when it
    // restarts: see docs/admin.md).
    cli.admin(&["revoke", "erin", "admin"]).await.ok();
    app.restart().await;
    assert_eq!(permissions(&app, "erin").await, vec!["rooms.create"]);
    let none = cli.admin(&["revoke", "erin", "moderator"]).await;
    none.ok();
    assert!(none.stdout.contains("nothing changed"), "{none:#?}");

    // The last admin cannot be demoted, neither by revoke nor by granting member.
    for args in [["revoke", "admin", "admin"], ["grant", "admin", "member"]] {
        let refused = cli.admin(&args).await;
        assert_eq!(refused.code, 1, "{refused:#?}");
        assert!(refused.stderr.contains("last admin"), "{refused:#?}");
        assert!(refused.stderr.contains("last_admin"), "{refused:#?}");
    }
    assert!(
        permissions(&app, "admin")
            .await
            .contains(&"roles.manage".to_owned())
    );
    // Unknown roles, users and usage.
    let role = cli.admin(&["grant", "carol", "wizard"]).await;
    assert_eq!(role.code, 1);
    assert!(role.stderr.contains("role not found"), "{role:#?}");
    let nobody = cli.admin(&["status", "nobody"]).await;
    assert_eq!(nobody.code, 1);
    assert!(nobody.stderr.contains("user not found"), "{nobody:#?}");
    assert_eq!(cli.admin(&["grant", "carol"]).await.code, 2);
    assert_eq!(cli.admin(&["frobnicate"]).await.code, 2);

    // Moderator, then status and list.
    cli.admin(&["grant", "carol", "moderator"]).await.ok();
    let status = cli.admin(&["status", "carol"]).await;
    status.ok();
    for line in [
        "user:         carol",
        &format!("id:           {}", carol.id),
        "display name: Carol C",
        "role:         moderator",
        "roles:        moderator",
        "e-mail:       carol@example.com (not verified)",
        "recovery PIN: none",
        "state:        active",
    ] {
        assert!(status.stdout.contains(line), "{line:?} in {status:#?}");
    }
    assert!(status.has("created:      ", "Z"));
    let by_id = cli.admin(&["status", &carol.id]).await;
    assert!(by_id.ok().stdout.contains("user:         carol"));

    let list = cli.admin(&["list"]).await;
    list.ok();
    for (name, role) in [
        ("admin", "admin"),
        ("carol", "moderator"),
        ("erin", "member"),
    ] {
        let line = list
            .stdout
            .lines()
            .find(|l| l.split_whitespace().next() == Some(name))
            .unwrap_or_else(|| panic!("{name} listed: {list:#?}"));
        assert!(line.contains(&format!("roles={role}")), "{line}");
        assert!(line.contains("state=active"), "{line}");
    }
    assert!(list.stdout.contains("3 account(s)"));
    let admins = cli.admin(&["list", "--role", "admin"]).await;
    admins.ok();
    assert!(admins.stdout.contains("1 account(s)"), "{admins:#?}");
    assert!(!admins.stdout.contains("carol"));

    // A reset link made on the command line sets a new password through the API.
    let reset = cli
        .run(
            &["admin", "reset-password", "carol"],
            &[("ECHOCHAT_PUBLIC_URL", app.base.as_str())],
            "",
        )
        .await;
    reset.ok();
    let link = reset
        .stdout
        .lines()
        .find(|l| l.starts_with(&format!("{}/reset-password#token=", app.base)))
        .unwrap_or_else(|| panic!("a link on its own line: {reset:#?}"));
    let token = token_after(link, "#token=");
    let confirm = app
        .post_json(
            "/api/v1/auth/password-reset/confirm",
            &json!({"token": token, "new_password": "a-brand-new-password"}),
        )
        .await;
    assert!(confirm.status().is_success(), "{:?}", confirm.status());
    assert_eq!(
        login_status(&app, "carol", "a-brand-new-password").await,
        200
    );
    assert_eq!(login_status(&app, "carol", PASSWORD).await, 401);
    // One time only.
    let reuse = app
        .post_json(
            "/api/v1/auth/password-reset/confirm",
            &json!({"token": token, "new_password": "yet-another-password"}),
        )
        .await;
    assert_eq!(reuse.status(), 403);

    // The audit log has every change, oldest first, without an actor and marked `via: cli`.
    let audit = cli.admin(&["audit", "--tail", "50"]).await;
    audit.ok();
    let entries: Vec<&str> = audit
        .stdout
        .lines()
        .filter(|l| l.contains("  by="))
        .collect();
    let position = |needle: &str| {
        entries
            .iter()
            .position(|l| l.contains(needle))
            .unwrap_or_else(|| panic!("{needle} in {entries:#?}"))
    };
    let created_at = position("user.created");
    let granted_at = position("user.role_changed");
    let reset_at = position("user.reset_link_issued");
    let done_at = position("user.password_reset  ");
    assert!(created_at < granted_at && granted_at < reset_at && reset_at < done_at);
    assert!(
        entries[created_at].contains("by=(command line)"),
        "{}",
        entries[created_at]
    );
    assert!(entries[created_at].contains(r#""via":"cli""#));
    let tail = cli.admin(&["audit", "--tail", "2"]).await;
    let last_two: Vec<&str> = tail
        .stdout
        .lines()
        .filter(|l| l.contains("  by="))
        .collect();
    assert_eq!(last_two.len(), 2, "{tail:#?}");
    assert_eq!(last_two[1], *entries.last().expect("entries"));

    // The admin API shows the same entries.
    let admin = app.login("admin").await;
    let page = app
        .get_json("/api/v1/admin/audit?action=user.created", &admin.token)
        .await;
    let entry = page["entries"]
        .as_array()
        .and_then(|e| e.iter().find(|e| e["details"]["username"] == "carol"))
        .cloned()
        .unwrap_or_else(|| panic!("carol's creation in {page}"));
    assert!(entry.get("actor_id").is_none_or(Value::is_null), "{entry}");
    assert_eq!(entry["details"]["via"], "cli");
    assert_eq!(entry["details"]["role"], "member");
}
both_backends!(admin_commands_on_a_running_servers_database => super::admin_commands);

/// The config a server started on `dir` (and `database_url`) runs with.
fn config_for(dir: &Path, database_url: Option<String>) -> echochat::config::Config {
    let mut config = test_config(dir);
    config.database_url = database_url;
    config
}

/// On a folder no server has used: the first admin from the command line, doctor, then a server
/// that lets that admin sign in.
async fn fresh_folder(backend: Backend) {
    let dir = tempfile::tempdir().expect("tempdir");
    let data = dir.path().join("data");
    let mut pg = None;
    if backend == Backend::Postgres {
        pg = Some(fresh_postgres_database().await);
    }
    let cli = Target {
        dir: dir.path().to_path_buf(),
        database_url: pg.as_ref().map(|(url, _)| url.clone()),
    };
    let cli = Target {
        dir: data.clone(),
        ..cli
    };
    std::fs::create_dir_all(&data).expect("data dir");

    let before = cli.doctor(&[]).await;
    assert_eq!(before.code, 0, "{before:#?}");
    assert!(
        before.has("WARN admin:", "echochat admin create-user"),
        "{before:#?}"
    );

    let created = cli
        .run(
            &["admin", "create-user", "root", "--admin"],
            &[],
            &format!("{PASSWORD}\n"),
        )
        .await;
    created.ok();
    assert!(
        created.stdout.contains("created root (admin)"),
        "{created:#?}"
    );

    let after = cli.doctor(&[]).await;
    assert_eq!(after.code, 0, "{after:#?}");
    assert!(
        after.has("OK   database:", backend_name(backend)),
        "{after:#?}"
    );
    assert!(after.has("OK   migrations:", "applied"), "{after:#?}");
    assert!(
        after.has("OK   admin:", "1 admin account(s): root"),
        "{after:#?}"
    );
    assert!(after.lines("FAIL").is_empty(), "{after:#?}");

    let app = build_app(config_for(&data, cli.database_url.clone()))
        .await
        .expect("server starts");
    assert!(
        app.setup_token().is_none(),
        "the admin exists: no setup link"
    );
    let base = format!("http://{}", app.local_addr());
    let (stop, stopped) = tokio::sync::oneshot::channel::<()>();
    let server = tokio::spawn(app.run_until_stopped(async move {
        let _ = stopped.await;
    }));
    let http = reqwest::Client::new();
    let login = http
        .post(format!("{base}/api/v1/auth/login"))
        .json(&json!({"username": "root", "password": PASSWORD}))
        .send()
        .await
        .expect("login");
    assert_eq!(login.status(), 200);
    let _ = stop.send(());
    server.await.expect("task").expect("clean stop");
    if let Some((_, name)) = pg {
        drop_postgres_database(name);
    }
}
both_backends!(first_admin_from_the_command_line_on_a_fresh_folder => super::fresh_folder);

/// doctor on a healthy running installation, then with faults: unknown key, readable secret,
/// pending and unknown migrations, SMTP, TLS.
async fn doctor_checks(backend: Backend) {
    let app = spawn_ready_app(backend).await;
    let cli = Target::of(&app);

    let healthy = cli.doctor(&[]).await;
    assert_eq!(healthy.code, 0, "{healthy:#?}");
    for (prefix, needle) in [
        ("OK   config:", "built-in defaults"),
        ("OK   data folder:", ""),
        ("OK   database:", backend_name(backend)),
        ("OK   migrations:", "applied"),
        ("OK   admin:", "admin"),
        ("OK   secrets:", "owner only"),
        ("OK   tls:", "self-signed: local CA valid until"),
        ("OK   tls:", "self-signed: server certificate valid until"),
        ("OK   smtp:", "not configured"),
    ] {
        assert!(
            healthy.has(prefix, needle),
            "{prefix} {needle} in {healthy:#?}"
        );
    }
    // The free space depends on the machine: only its line is checked, and it is the only one
    // that may warn.
    assert!(
        healthy
            .stdout
            .lines()
            .any(|l| l.contains(" disk: ") && l.contains("free in")),
        "{healthy:#?}"
    );
    assert!(
        healthy
            .lines("WARN")
            .iter()
            .all(|l| l.starts_with("WARN disk:")),
        "{healthy:#?}"
    );

    // An unknown key in the file is a warning, not a failure.
    std::fs::write(
        cli.dir.join("echochat.toml"),
        "lisen = \"0.0.0.0:1\"\n[auth]\nacess = 1\n",
    )
    .expect("toml");
    let typo = cli.doctor(&[]).await;
    assert_eq!(typo.code, 0, "{typo:#?}");
    assert!(typo.has("OK   config:", "echochat.toml"), "{typo:#?}");
    assert!(typo.has("WARN config:", "unknown key lisen"), "{typo:#?}");
    assert!(
        typo.has("WARN config:", "unknown key auth.acess"),
        "{typo:#?}"
    );
    std::fs::remove_file(cli.dir.join("echochat.toml")).expect("rm");

    // A secret others may read.
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        let key = cli.dir.join("secrets").join("jwt.key");
        std::fs::set_permissions(&key, std::fs::Permissions::from_mode(0o644)).expect("chmod");
        let open = cli.doctor(&[]).await;
        assert_eq!(open.code, 0, "{open:#?}");
        assert!(
            open.has("WARN secrets:", "jwt.key has mode 0644"),
            "{open:#?}"
        );
        std::fs::set_permissions(&key, std::fs::Permissions::from_mode(0o600)).expect("chmod");
    }

    // SMTP: a port nobody listens on fails; a listening one is fine.
    let closed = {
        let listener = std::net::TcpListener::bind("127.0.0.1:0").expect("bind");
        listener.local_addr().expect("addr").port()
    };
    let closed = closed.to_string();
    let down = cli
        .doctor(&[
            ("ECHOCHAT_SMTP__HOST", "127.0.0.1"),
            ("ECHOCHAT_SMTP__PORT", closed.as_str()),
        ])
        .await;
    assert_eq!(down.code, 1, "{down:#?}");
    assert!(
        down.has("FAIL smtp:", "cannot connect to 127.0.0.1"),
        "{down:#?}"
    );
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0")
        .await
        .expect("bind");
    let open_port = listener.local_addr().expect("addr").port().to_string();
    let up = cli
        .doctor(&[
            ("ECHOCHAT_SMTP__HOST", "127.0.0.1"),
            ("ECHOCHAT_SMTP__PORT", open_port.as_str()),
        ])
        .await;
    assert_eq!(up.code, 0, "{up:#?}");
    assert!(up.has("OK   smtp:", "accepts connections"), "{up:#?}");

    // TLS: off; operator files expiring soon, expired, missing.
    let off = cli.doctor(&[("ECHOCHAT_TLS__MODE", "off")]).await;
    assert!(off.has("OK   tls:", "off"), "{off:#?}");
    let tls_dir = tempfile::tempdir().expect("tempdir");
    for (days, code, prefix, needle) in [
        (5, 0, "WARN tls:", "expires in"),
        (-1, 1, "FAIL tls:", "expired at"),
        (90, 0, "OK   tls:", "files: certificate valid until"),
    ] {
        let (cert, key) = write_cert(tls_dir.path(), days);
        let out = cli
            .doctor(&[
                ("ECHOCHAT_TLS__MODE", "files"),
                ("ECHOCHAT_TLS__CERT_FILE", cert.as_str()),
                ("ECHOCHAT_TLS__KEY_FILE", key.as_str()),
            ])
            .await;
        assert_eq!(out.code, code, "{days} days: {out:#?}");
        assert!(out.has(prefix, needle), "{days} days: {out:#?}");
    }
    let missing = cli
        .doctor(&[
            ("ECHOCHAT_TLS__MODE", "files"),
            ("ECHOCHAT_TLS__CERT_FILE", "/nonexistent/cert.pem"),
            ("ECHOCHAT_TLS__KEY_FILE", "/nonexistent/key.pem"),
        ])
        .await;
    assert_eq!(missing.code, 1, "{missing:#?}");
    assert!(
        missing.has("FAIL tls:", "/nonexistent/cert.pem"),
        "{missing:#?}"
    );

    // Migrations: one the database lacks is a warning; one the binary lacks is a failure, and
    // the admin commands refuse to run on such a database.
    let db = app.database().await;
    db.execute_unprepared(
        "DELETE FROM seaql_migrations WHERE version = 'm20261203_000010_presence'",
    )
    .await
    .expect("forget a migration");
    let pending = cli.doctor(&[]).await;
    assert_eq!(pending.code, 0, "{pending:#?}");
    assert!(
        pending.has("WARN migrations:", "1 pending (m20261203_000010_presence)"),
        "{pending:#?}"
    );
    db.execute_unprepared(
        "INSERT INTO seaql_migrations (version, applied_at) VALUES ('m20261203_000010_presence', 0), \
         ('m29991231_000099_from_the_future', 0)",
    )
    .await
    .expect("a future migration");
    let newer = cli.doctor(&[]).await;
    assert_eq!(newer.code, 1, "{newer:#?}");
    assert!(
        newer.has("FAIL migrations:", "m29991231_000099_from_the_future"),
        "{newer:#?}"
    );
    let refused = cli.admin(&["list"]).await;
    assert_eq!(refused.code, 1, "{refused:#?}");
    assert!(refused.stderr.contains("newer EchoChat"), "{refused:#?}");
    db.close().await.ok();
}
both_backends!(doctor_reports_ok_warn_and_fail => super::doctor_checks);

/// A self-signed certificate for `localhost` expiring in `days` days (negative: expired);
/// returns the certificate and key paths.
fn write_cert(dir: &Path, days: i64) -> (String, String) {
    let mut params = rcgen::CertificateParams::new(vec!["localhost".to_owned()]).expect("params");
    let now = time::OffsetDateTime::now_utc();
    params.not_before = now - time::Duration::days(30);
    params.not_after = now + time::Duration::days(days);
    let key = rcgen::KeyPair::generate().expect("key");
    let cert = params.self_signed(&key).expect("cert");
    let cert_path = dir.join(format!("cert{days}.pem"));
    let key_path = dir.join(format!("key{days}.pem"));
    std::fs::write(&cert_path, cert.pem()).expect("write cert");
    std::fs::write(&key_path, key.serialize_pem()).expect("write key");
    (
        cert_path.display().to_string(),
        key_path.display().to_string(),
    )
}

/// An unreachable database fails; a folder where nothing exists yet only warns; a database
/// without an admin warns with the way to make one.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn doctor_on_unreachable_empty_and_adminless_installations() {
    let dir = tempfile::tempdir().expect("tempdir");
    let cli = Target {
        dir: dir.path().to_path_buf(),
        database_url: Some("postgres://echochat:secret-pw@127.0.0.1:1/nothing".into()),
    };
    let down = cli.doctor(&[]).await;
    assert_eq!(down.code, 1, "{down:#?}");
    assert!(down.has("FAIL database:", "127.0.0.1:1"), "{down:#?}");
    assert!(
        !down.stdout.contains("secret-pw"),
        "the password is never printed"
    );
    let admin = cli.admin(&["list"]).await;
    assert_eq!(admin.code, 1, "{admin:#?}");
    assert!(!admin.stderr.contains("secret-pw"));

    let empty = Target {
        dir: dir.path().join("not-yet"),
        database_url: None,
    };
    std::fs::create_dir_all(&empty.dir).expect("dir");
    let fresh = empty.doctor(&[]).await;
    assert_eq!(fresh.code, 0, "{fresh:#?}");
    assert!(
        fresh.has("WARN database:", "does not exist yet"),
        "{fresh:#?}"
    );
    assert!(fresh.has("OK   secrets:", "none yet"), "{fresh:#?}");
    assert!(fresh.has("OK   tls:", "no local CA yet"), "{fresh:#?}");
    assert!(
        !empty.dir.join("echochat.db").exists(),
        "doctor creates nothing"
    );

    let app = spawn_app(Backend::Sqlite).await;
    let adminless = Target::of(&app).doctor(&[]).await;
    assert_eq!(adminless.code, 0, "{adminless:#?}");
    assert!(
        adminless.has("WARN admin:", "echochat admin create-user NAME --admin"),
        "{adminless:#?}"
    );
    let db = app.database().await;
    let users = db
        .query_one_raw(sea_orm::Statement::from_string(
            db.get_database_backend(),
            "SELECT count(*) AS n FROM users",
        ))
        .await
        .expect("count")
        .expect("row");
    assert_eq!(
        users.try_get::<i64>("", "n").expect("n"),
        0,
        "doctor changed nothing"
    );
}
