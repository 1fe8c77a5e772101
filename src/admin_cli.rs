//! `echochat admin …`: account administration from the server's own machine, on the database the
//! configuration ladder selects (the same `--data-dir`, `--config`, `--database-url`,
//! `echochat.toml`, `DATABASE_URL` and `ECHOCHAT_*` as `serve`). Whoever can read the data folder
//! is the operator: the commands need no login, and their audit entries have no actor and
//! `details.via = "cli"`. Every command first prints which database it works on.
//!
//! Exit status: 0 done, 1 refused or failed (the reason on stderr), 2 bad usage (clap).

use std::{
    io::{BufRead, IsTerminal},
    path::Path,
    process::ExitCode,
    sync::Arc,
};

use anyhow::Context as _;
use clap::Subcommand;

use crate::{
    cli::Cli,
    config::Config,
    domain::{AuditEntry, DatabaseBackend, DatabaseIdentity, DomainError, ServerRole},
    events::InProcessBus,
    secrets,
    service::{
        Access, ConversationService, RateLimits, UnitOfWork,
        passwords::PasswordHasher,
        presence::NoPresence,
        system::{AccountStatus, NewAccount, SystemActions},
    },
    store::{Db, identity},
};

/// Printed after a role change: a running server keeps roles in its permission cache.
const CACHE_NOTE: &str = "note: a running server applies this role change within 10 minutes \
     (its permission cache), or at once when restarted";

/// `echochat admin` subcommands.
#[derive(Debug, Subcommand)]
pub enum AdminCommand {
    /// Show one account: role, roles, creation time, e-mail and state.
    Status {
        /// Username or account id.
        user: String,
    },
    /// List the accounts with their roles (deleted ones included, marked).
    List {
        /// Only accounts with this role (admin, moderator or member).
        #[arg(long)]
        role: Option<String>,
    },
    /// Give an account a role (admin, moderator or member).
    Grant {
        /// Username or account id.
        user: String,
        /// Role name.
        role: String,
    },
    /// Take a role from an account: revoking admin or moderator makes it a member. The last
    /// admin cannot be demoted.
    Revoke {
        /// Username or account id.
        user: String,
        /// Role name.
        role: String,
    },
    /// Create an account. The password is asked for without echo on a terminal, else read as
    /// one line from standard input.
    CreateUser {
        /// Username (3–32 of a-z 0-9 _ . -, like registration).
        username: String,
        /// Make the account an admin.
        #[arg(long)]
        admin: bool,
        /// E-mail address (not verified).
        #[arg(long)]
        email: Option<String>,
        /// Display name (default: the username as typed).
        #[arg(long)]
        display_name: Option<String>,
    },
    /// Print a one-time password reset link for an account (works 24 hours; earlier links of
    /// the account stop working).
    ResetPassword {
        /// Username or account id.
        user: String,
    },
    /// Print the latest audit-log entries, oldest first, one per line.
    Audit {
        /// How many entries.
        #[arg(long, default_value_t = 20)]
        tail: u64,
    },
}

/// What an admin command works with: the configuration, the database, and the service.
pub struct AdminContext {
    /// The effective configuration.
    pub config: Config,
    /// The database handles.
    pub db: Db,
    /// Which database it is.
    pub identity: DatabaseIdentity,
    /// The use cases.
    pub system: SystemActions,
}

impl AdminContext {
    /// Loads the configuration like `serve`, connects, applies pending migrations (as `serve`
    /// would at start; refused when the database is newer than this binary), makes sure the
    /// official rooms exist, and prints the database identity and data folder.
    pub async fn open(cli: &Cli) -> anyhow::Result<Self> {
        let loaded = Config::load(cli.overrides())?;
        for key in &loaded.unknown_keys {
            eprintln!("warning: unknown configuration key {key} ignored");
        }
        let config = loaded.config;
        secrets::create_private_dir(&config.data_dir)?;
        let db = Db::connect(&config).await?;
        let state = identity::migration_state(&db).await?;
        anyhow::ensure!(
            state.unknown.is_empty(),
            "the database was migrated by a newer EchoChat (migrations {} are unknown to this \
             binary): use that version",
            state.unknown.join(", ")
        );
        if !state.pending.is_empty() {
            db.migrate().await?;
            eprintln!(
                "applied {} pending database migration(s)",
                state.pending.len()
            );
        }
        db.ensure_official_rooms(&config.official_rooms).await?;
        let identity = identity::database_identity(&db, &config).await?;
        println!("{}", describe_identity(&identity));
        println!("data folder: {}", absolute(&config.data_dir));
        let bus = Arc::new(InProcessBus::new());
        let access = Access::new(db.clone());
        let uow = UnitOfWork::new(db.clone(), bus, access.clone());
        let conversations = ConversationService::new(
            db.clone(),
            uow.clone(),
            access.clone(),
            Arc::new(NoPresence),
            &config.official_rooms,
            RateLimits::new(&config.limits, crate::cluster::Cluster::local()),
        );
        let system = SystemActions::new(
            db.clone(),
            uow,
            access,
            PasswordHasher::new()?,
            conversations,
        );
        Ok(Self {
            config,
            db,
            identity,
            system,
        })
    }
}

/// One line naming a database: `database: sqlite echochat.db (SQLite 3.46.0) at /path` or
/// `database: postgres chat on db:5432 (PostgreSQL 16.4 …)`.
pub fn describe_identity(identity: &DatabaseIdentity) -> String {
    let version = if identity.server_version.is_empty() {
        String::new()
    } else if identity.backend == DatabaseBackend::Sqlite {
        format!(" (SQLite {})", identity.server_version)
    } else {
        format!(" ({})", identity.server_version)
    };
    match identity.backend {
        DatabaseBackend::Sqlite => format!(
            "database: sqlite {}{version} at {}",
            identity.name,
            identity.path.as_deref().unwrap_or("?")
        ),
        DatabaseBackend::Postgres => format!(
            "database: postgres {} on {}{version}",
            identity.name,
            identity.host.as_deref().unwrap_or("?")
        ),
    }
}

fn absolute(path: &Path) -> String {
    std::path::absolute(path)
        .unwrap_or_else(|_| path.to_path_buf())
        .display()
        .to_string()
}

/// Runs `echochat admin <command>`; prints the outcome, or the reason on stderr (exit 1).
pub async fn run(cli: &Cli, command: &AdminCommand) -> ExitCode {
    let context = match AdminContext::open(cli).await {
        Ok(context) => context,
        Err(err) => {
            eprintln!("echochat admin: {err:#}");
            return ExitCode::FAILURE;
        }
    };
    let outcome = execute(&context, command).await;
    context.db.close().await;
    match outcome {
        Ok(()) => ExitCode::SUCCESS,
        Err(err) => {
            eprintln!("echochat admin: {err:#}");
            ExitCode::FAILURE
        }
    }
}

/// A domain error as the command line says it (`user not found`, the conflict's message…).
fn refused(err: DomainError) -> anyhow::Error {
    match err {
        DomainError::Internal(err) => err,
        other => anyhow::anyhow!("{other} ({})", other.code().as_str()),
    }
}

async fn execute(context: &AdminContext, command: &AdminCommand) -> anyhow::Result<()> {
    let system = &context.system;
    match command {
        AdminCommand::Status { user } => {
            let account = system.find(None, user).await.map_err(refused)?;
            print_status(&account);
        }
        AdminCommand::List { role } => {
            let accounts = system.list(None, role.as_deref()).await.map_err(refused)?;
            for account in &accounts {
                println!("{}", list_line(account));
            }
            println!("{} account(s)", accounts.len());
        }
        AdminCommand::Grant { user, role } => {
            let account = system.find(None, user).await.map_err(refused)?;
            let change = system
                .grant_role(None, account.user.id, role)
                .await
                .map_err(refused)?;
            if change.changed {
                println!(
                    "granted {role} to {} (was {}; now {})",
                    account.user.username, account.user.role, change.account.user.role
                );
                println!("{CACHE_NOTE}");
            } else {
                println!("{} already has the role {role}", account.user.username);
            }
        }
        AdminCommand::Revoke { user, role } => {
            let account = system.find(None, user).await.map_err(refused)?;
            let change = system
                .revoke_role(None, account.user.id, role)
                .await
                .map_err(refused)?;
            if change.changed {
                println!(
                    "revoked {role} from {} (now {})",
                    account.user.username, change.account.user.role
                );
                println!("{CACHE_NOTE}");
            } else {
                println!(
                    "{} does not have the role {role} (role {}): nothing changed",
                    account.user.username, change.account.user.role
                );
            }
        }
        AdminCommand::CreateUser {
            username,
            admin,
            email,
            display_name,
        } => {
            let password = read_password(username)?;
            let account = system
                .create_user(
                    None,
                    NewAccount {
                        username: username.clone(),
                        password,
                        display_name: display_name.clone(),
                        email: email.clone(),
                        role: if *admin {
                            ServerRole::Admin
                        } else {
                            ServerRole::Member
                        },
                    },
                )
                .await
                .map_err(refused)?;
            println!(
                "created {} ({}), id {}",
                account.user.username, account.user.role, account.user.id
            );
        }
        AdminCommand::ResetPassword { user } => {
            let account = system.find(None, user).await.map_err(refused)?;
            let base = crate::app::public_base(&context.config, context.config.listen);
            let link = system
                .reset_link(None, account.user.id, &base)
                .await
                .map_err(refused)?;
            println!(
                "one-time password reset link for {} (works until {}):",
                account.user.username,
                link.expires_at.to_rfc3339()
            );
            println!("{}", link.url);
            if account.recovery_pin {
                println!("the account has a recovery PIN: the reset asks for it too");
            }
        }
        AdminCommand::Audit { tail } => {
            for entry in system.audit_tail(None, *tail).await.map_err(refused)? {
                println!("{}", audit_line(&entry));
            }
        }
    }
    Ok(())
}

/// The password of a new account: asked twice without echo on a terminal, else the first line
/// of standard input.
fn read_password(username: &str) -> anyhow::Result<String> {
    if std::io::stdin().is_terminal() {
        let first = rpassword::prompt_password(format!("Password for {username}: "))
            .context("reading the password")?;
        let again =
            rpassword::prompt_password("Repeat the password: ").context("reading the password")?;
        anyhow::ensure!(
            first == again,
            "the two passwords differ: nothing was created"
        );
        Ok(first)
    } else {
        let mut line = String::new();
        std::io::stdin()
            .lock()
            .read_line(&mut line)
            .context("reading the password from standard input")?;
        Ok(line.trim_end_matches(['\r', '\n']).to_owned())
    }
}

/// The state word of an account: `active` or `deleted`. (Suspension and deactivation join here.)
fn state_of(account: &AccountStatus) -> String {
    match account.deleted_at {
        Some(at) => format!("deleted ({})", at.to_rfc3339()),
        None => "active".into(),
    }
}

/// `echochat admin status`: one account, one fact per line.
pub fn print_status(account: &AccountStatus) {
    let user = &account.user;
    println!("user:         {}", user.username);
    println!("id:           {}", user.id);
    println!("display name: {}", user.display_name);
    println!("role:         {}", user.role);
    println!("roles:        {}", account.roles.join(", "));
    println!("created:      {}", user.created_at.to_rfc3339());
    match (&account.email, account.email_verified_at) {
        (Some(email), Some(at)) => {
            println!("e-mail:       {email} (verified {})", at.to_rfc3339());
        }
        (Some(email), None) => println!("e-mail:       {email} (not verified)"),
        (None, _) => println!("e-mail:       none"),
    }
    println!(
        "recovery PIN: {}",
        if account.recovery_pin { "set" } else { "none" }
    );
    println!("state:        {}", state_of(account));
}

/// `echochat admin list`: one account per line.
fn list_line(account: &AccountStatus) -> String {
    let user = &account.user;
    format!(
        "{:<32} {:<9} roles={} created={} state={} e-mail={}",
        user.username,
        user.role.as_str(),
        account.roles.join(","),
        user.created_at.to_rfc3339(),
        state_of(account),
        account.email.as_deref().unwrap_or("-")
    )
}

/// `echochat admin audit`: one entry per line (time, action, who, target, details).
fn audit_line(entry: &AuditEntry) -> String {
    let by = match (&entry.actor_username, entry.actor_id) {
        (Some(name), _) => name.clone(),
        (None, Some(id)) => id.to_string(),
        (None, None) if entry.details.get("via").and_then(|v| v.as_str()) == Some("cli") => {
            "(command line)".into()
        }
        (None, None) => "(server)".into(),
    };
    let target = match (&entry.target_type, &entry.target_id) {
        (Some(kind), Some(id)) => format!("{kind}:{id}"),
        _ => "-".into(),
    };
    format!(
        "{}  {}  by={}  target={}  {}",
        entry.created_at.to_rfc3339(),
        entry.action,
        by,
        target,
        entry.details
    )
}
