//! Building and running the server. Used by `main` and by the integration tests alike.

use std::{future::Future, net::SocketAddr, sync::Arc, time::Duration};

use anyhow::Context;
use tokio::{net::TcpListener, task::JoinHandle};
use tokio_util::{sync::CancellationToken, task::TaskTracker};

use crate::{
    cluster::{self, bus::RedisBus, instances, lease::Jobs},
    config::Config,
    events::{EventBus, InProcessBus},
    http,
    mail::Mailer,
    realtime::{Hub, directory, dispatch},
    secrets,
    service::{
        Access, AccountSettingsService, AdminService, AuthService, BlockService, BroadcastService,
        ConversationService, FriendService, MessageChangeService, MessageService, PresenceService,
        ProfileService, RateLimits, ReceiptService, RecoveryService, ReportService, RoleService,
        SearchService, SessionService, SettingsService, SystemActions, UnitOfWork,
        UserAdminService, UserService, janitor::Janitor, passwords::PasswordHasher,
    },
    state::{AppState, AppStateInner},
    store::{Db, DbIdentity, writer::MessageWriter},
    tls::Tls,
};

/// A built server, bound to its port, not yet serving.
pub struct App {
    state: AppState,
    listener: TcpListener,
    local_addr: SocketAddr,
    tls: Option<(Tls, TcpListener)>,
    setup_token: Option<String>,
    writer_task: JoinHandle<()>,
    publisher_task: JoinHandle<()>,
    dispatcher_task: JoinHandle<()>,
    /// `room_stats` coalescing (realtime::directory).
    directory_task: JoinHandle<()>,
    sweeper_task: JoinHandle<()>,
    /// Deletes expired tokens (service::janitor).
    janitor_task: JoinHandle<()>,
    limits_task: JoinHandle<()>,
    away_task: JoinHandle<()>,
    settings_task: JoinHandle<()>,
    /// The Redis bus, the presence announcer, the instance registry, the caches' listener.
    cluster_tasks: Vec<JoinHandle<()>>,
    identity: DbIdentity,
}

/// Prepares everything: data folder, secrets, database (migrated), official rooms, services,
/// the TLS certificate, and the listening sockets (HTTP, and HTTPS unless `[tls] mode = "off"`).
/// Errors: unreachable database, failed migration (nothing changed), port in use, unwritable data
/// folder or certificate folder, unusable `[tls]` certificate files.
pub async fn build_app(config: Config) -> anyhow::Result<App> {
    secrets::create_private_dir(&config.data_dir)?;
    let jwt_secret = secrets::load_or_create(&config.data_dir.join("secrets"), "jwt.key", 64)?;
    let tls = Tls::setup(&config)?;

    let db = Db::connect(&config).await?;
    let identity = db.identity(&config).await?;
    tracing::info!(%identity, "database connected");
    // Before anything is written: refuse Redis on SQLite, fail fast on an unreachable Redis.
    let cluster = cluster::connect(&config, db.backend).await?;
    tracing::info!(instance = %cluster.instance(), shared = cluster.is_shared(), "instance");
    db.migrate().await?;
    // Several instances accept each other's tokens: the signing key is the database's (the
    // first instance's file key, so tokens issued before the switch stay valid).
    let jwt_secret = if cluster.is_shared() {
        crate::store::secrets::get_or_insert(&db.write, "jwt", &jwt_secret)
            .await
            .context("reading the shared JWT signing key (server_secrets)")?
    } else {
        jwt_secret
    };
    // (Issue 10: under the start-up lock, so instances starting together create the rooms once.)
    db.ensure_official_rooms(&config.official_rooms).await?;

    let listener = TcpListener::bind(config.listen)
        .await
        .with_context(|| format!("cannot listen on {}", config.listen))?;
    let local_addr = listener
        .local_addr()
        .context("listener has no socket address")?;
    let tls = match tls {
        Some(tls) => {
            let tls_listener = TcpListener::bind(config.tls.listen).await.with_context(|| {
                format!(
                    "cannot listen on {} for HTTPS (change [tls] listen, or set [tls] mode = \"off\")",
                    config.tls.listen
                )
            })?;
            let tls_addr = tls_listener
                .local_addr()
                .context("HTTPS listener has no socket address")?;
            Some((tls, tls_listener, tls_addr))
        }
        None => None,
    };
    let tls_info = tls.as_ref().map(|(tls, _, addr)| tls.info(*addr));

    let config = Arc::new(config);
    let shutdown = CancellationToken::new();

    // The seams, bottom up: the bus and the permission caches; the unit of work that commits,
    // then applies and publishes events; the services; the realtime layer subscribed to the bus.
    // With Redis the bus reaches every instance (cluster::bus); without, it stays in process.
    let mut cluster_tasks = Vec::new();
    let bus: Arc<dyn EventBus> = match RedisBus::start(&cluster, shutdown.clone()) {
        Some((bus, tasks)) => {
            cluster_tasks.extend(tasks);
            Arc::new(bus)
        }
        None => Arc::new(InProcessBus::new()),
    };
    let mut hub = Hub::new(
        config.realtime.outgoing_queue_frames,
        config.presence.auto_away(),
    );
    if cluster.is_shared() {
        hub = hub.shared_as(cluster.instance().clone());
    }
    let away_task = spawn_auto_away(hub.clone(), config.presence.auto_away(), shutdown.clone());
    let dispatcher_task = dispatch::spawn(hub.clone(), bus.subscribe("realtime"));
    cluster_tasks.push(dispatch::spawn_announcer(&hub, bus.clone()));
    let access = Access::new(db.clone());
    if cluster.is_shared() {
        // Events of other instances reach the permission caches too.
        cluster_tasks.push(access.spawn_listener(bus.subscribe("access")));
    }
    let started_at = crate::domain::Timestamp::now();
    cluster_tasks.extend(instances::spawn_registration(
        &cluster,
        started_at,
        shutdown.clone(),
    ));
    let mailer = Mailer::from_config(&config)?;
    tracing::info!(delivery = %mailer.describe(), "e-mail");
    let uow = UnitOfWork::new(db.clone(), bus.clone(), access.clone());
    let (writer, committed, writer_task) = MessageWriter::spawn(db.write.clone(), shutdown.clone());
    let publisher_task = MessageService::spawn_publisher(db.clone(), committed, uow.clone());
    // Rate limits are per process; a janitor forgets idle keys every minute so their memory
    // stays bounded by the recently active clients.
    // (Issue 10, shared state: with Redis the counters are shared by every instance.)
    let limits = RateLimits::new(&config.limits, cluster.clone());
    let limits_task = limits.spawn_janitor(shutdown.clone());
    // Live settings: the config file's values overridden by the `settings` table; re-read on
    // every `SettingsChanged` (from this instance or, with a shared bus, another one).
    let settings = SettingsService::load(
        db.clone(),
        uow.clone(),
        access.clone(),
        &config,
        limits.clone(),
    )
    .await?;
    let settings_task = settings.spawn_listener(bus.subscribe("settings"));
    let conversations = ConversationService::new(
        db.clone(),
        uow.clone(),
        access.clone(),
        Arc::new(hub.clone()),
        &config.official_rooms,
        limits.clone(),
    );
    let directory_task = directory::spawn(
        hub.clone(),
        conversations.clone(),
        bus.subscribe("directory"),
    );
    let hasher = PasswordHasher::new()?;
    let sessions = SessionService::new(db.clone(), uow.clone(), &config, cluster.clone());
    if let Some(idle) = sessions.idle_timeout() {
        tracing::info!(
            idle_timeout_secs = idle.as_secs_f64(),
            "idle sessions end by themselves"
        );
    }
    let sweeper = tokio::spawn(sessions.clone().run_idle_sweeper(shutdown.clone()));
    // (Issue 10, shared state: expired tokens deleted by one instance at a time.)
    let janitor_task = Janitor::new(
        db.clone(),
        Jobs::new(cluster.clone()),
        Duration::from_secs(config.cluster.janitor_interval_secs),
    )
    .spawn(shutdown.clone());
    let recovery = RecoveryService::new(
        db.clone(),
        uow.clone(),
        hasher.clone(),
        mailer,
        limits.clone(),
        settings.clone(),
    );
    let profile = ProfileService::new(db.clone(), uow.clone(), hasher.clone(), recovery.clone());
    let presence = PresenceService::new(
        db.clone(),
        uow.clone(),
        Arc::new(hub.clone()),
        config.presence.clone(),
        settings.clone(),
    );
    let auth = AuthService::new(
        db.clone(),
        config.clone(),
        &jwt_secret,
        hasher.clone(),
        uow.clone(),
        access.clone(),
        conversations.clone(),
        sessions.clone(),
        limits.clone(),
        settings.clone(),
    );
    let system = SystemActions::new(
        db.clone(),
        uow.clone(),
        access.clone(),
        hasher.clone(),
        conversations.clone(),
    );
    let users = UserService::new(db.clone(), uow.clone(), access.clone(), hasher);
    let messages = MessageService::new(db.clone(), writer.clone(), access.clone(), limits.clone());
    let message_changes = MessageChangeService::new(
        db.clone(),
        writer,
        access.clone(),
        limits.clone(),
        messages.clone(),
        config.messages.edit_window_secs,
    );
    let receipts = ReceiptService::new(db.clone(), uow.clone(), access.clone());
    let friends = FriendService::new(db.clone(), uow.clone(), access.clone(), limits.clone());
    let search = SearchService::new(db.clone(), access.clone(), limits.clone());
    let blocks = BlockService::new(db.clone(), uow.clone(), access.clone());
    let reports = ReportService::new(db.clone(), uow.clone(), access.clone());
    let admin = AdminService::new(db.clone(), uow.clone(), access.clone());
    let user_admin = UserAdminService::new(db.clone(), uow.clone(), access.clone(), auth.clone());
    let roles = RoleService::new(db.clone(), uow.clone(), access.clone());
    let account_settings = AccountSettingsService::new(db.clone(), uow.clone(), limits.clone());
    let broadcast = BroadcastService::new(db.clone(), uow, access.clone(), messages.clone());
    let state = AppState::new(AppStateInner {
        config: config.clone(),
        db,
        bus,
        hub,
        access,
        auth,
        users,
        conversations,
        messages,
        message_changes,
        receipts,
        search,
        admin,
        reports,
        user_admin,
        roles,
        broadcast,
        started_at,
        system,
        friends,
        blocks,
        sessions,
        recovery,
        profile,
        presence,
        limits,
        settings,
        account_settings,
        shutdown,
        ws_tasks: TaskTracker::new(),
        tls: tls_info.clone(),
        cluster: cluster.clone(),
    });

    tracing::info!(listen = %local_addr, "listening");
    let base = public_base(&config, local_addr);
    if let Some(info) = &tls_info {
        let https_url = https_base(&config, info.addr);
        match &info.ca_fingerprint {
            Some(fingerprint) => {
                tracing::info!(listen = %info.addr, %https_url, ca_sha256 = %fingerprint, "listening for HTTPS (local CA)");
                println!(
                    "HTTPS: {https_url}/ (local CA SHA-256 fingerprint {fingerprint}; how to trust it: {base}/ca)"
                );
            }
            None => {
                tracing::info!(listen = %info.addr, %https_url, "listening for HTTPS (certificate files)");
                println!("HTTPS: {https_url}/");
            }
        }
    }

    let setup_token = state.auth.new_setup_token().await?;
    if let Some(token) = &setup_token {
        let setup_url = format!("{base}/setup?token={token}");
        // On stdout for whoever started the server, and in the log (a structured field) for
        // those who read JSON logs.
        tracing::warn!(%setup_url, "no account exists yet: the setup link creates the admin account");
        println!("Open {setup_url} to create the admin account");
    }
    Ok(App {
        state,
        listener,
        local_addr,
        tls: tls.map(|(tls, listener, _)| (tls, listener)),
        setup_token,
        writer_task,
        publisher_task,
        dispatcher_task,
        directory_task,
        sweeper_task: sweeper,
        janitor_task,
        limits_task,
        away_task,
        settings_task,
        cluster_tasks,
        identity,
    })
}

/// Starts the auto-away sweeper: users with no activity for `after` show as away. It checks a
/// quarter as often as `after` (between every 250 ms and every 15 s), so an automatic away comes
/// at most a quarter late.
fn spawn_auto_away(
    hub: Hub,
    after: Option<Duration>,
    shutdown: CancellationToken,
) -> JoinHandle<()> {
    tokio::spawn(async move {
        let Some(after) = after else {
            return;
        };
        let every = (after / 4).clamp(Duration::from_millis(250), Duration::from_secs(15));
        let mut tick = tokio::time::interval(every);
        loop {
            tokio::select! {
                () = shutdown.cancelled() => return,
                _ = tick.tick() => {
                    hub.sweep_auto_away();
                }
            }
        }
    })
}

/// The base URL printed in links: `public_url`, else `http://<listen address>` with
/// `localhost` standing in for an unspecified address.
pub fn public_base(config: &Config, addr: SocketAddr) -> String {
    match &config.public_url {
        Some(url) => url.trim_end_matches('/').to_owned(),
        None if addr.ip().is_unspecified() => format!("http://localhost:{}", addr.port()),
        None => format!("http://{addr}"),
    }
}

/// The base URL of the HTTPS listener: `public_url` when it is `https://…`, else
/// `https://<listen address>` with `localhost` standing in for an unspecified address.
fn https_base(config: &Config, addr: SocketAddr) -> String {
    match &config.public_url {
        Some(url) if url.starts_with("https://") => url.trim_end_matches('/').to_owned(),
        _ if addr.ip().is_unspecified() => format!("https://localhost:{}", addr.port()),
        _ => format!("https://{addr}"),
    }
}

impl App {
    /// The bound address (resolves port 0).
    pub fn local_addr(&self) -> SocketAddr {
        self.local_addr
    }

    /// The bound HTTPS address (resolves port 0); `None` when `[tls] mode = "off"`.
    pub fn tls_addr(&self) -> Option<SocketAddr> {
        self.state.tls.as_ref().map(|t| t.addr)
    }

    /// The HTTPS set-up, to look at the served certificate; `None` when `[tls] mode = "off"`.
    pub fn tls(&self) -> Option<&Tls> {
        self.tls.as_ref().map(|(tls, _)| tls)
    }

    /// The setup token printed at start, while no account exists.
    pub fn setup_token(&self) -> Option<&str> {
        self.setup_token.as_deref()
    }

    /// What database this server runs on.
    pub fn identity(&self) -> &DbIdentity {
        &self.identity
    }

    /// Serves until `signal` completes, then shuts down cleanly: stops accepting, closes
    /// WebSockets with 1001 after answering their in-flight sends, lets the message writer
    /// commit everything queued (later sends are refused), and closes the database.
    pub async fn run_until_stopped(
        self,
        signal: impl Future<Output = ()> + Send + 'static,
    ) -> anyhow::Result<()> {
        let App {
            state,
            listener,
            tls,
            writer_task,
            publisher_task,
            dispatcher_task,
            directory_task,
            sweeper_task,
            janitor_task,
            limits_task,
            away_task,
            settings_task,
            cluster_tasks,
            ..
        } = self;
        let shutdown = state.shutdown.clone();
        let ws_tasks = state.ws_tasks.clone();
        let db = state.db.clone();
        // (Issue 10, shared state: the certificate check runs under a lease.)
        let jobs = Jobs::new(state.cluster.clone());
        let limits = http::server::Limits::from(&state.config.http);
        let endpoint = http::routes(state);
        let stop = shutdown.clone();
        let mut listeners = vec![http::server::Listener::from(listener)];
        let mut tls_task = None;
        if let Some((tls, tls_listener)) = tls {
            listeners.push(http::server::Listener {
                tcp: tls_listener,
                tls: Some(tls.acceptor()),
            });
            tls_task = Some(tls.spawn_refresh(shutdown.clone(), jobs));
        }
        http::server::run(
            listeners,
            endpoint,
            limits,
            async move {
                signal.await;
                tracing::info!("shutting down");
                stop.cancel();
            },
            Duration::from_secs(10),
        )
        .await?;
        shutdown.cancel();
        if let Some(task) = tls_task {
            let _ = task.await;
        }
        ws_tasks.close();
        if tokio::time::timeout(Duration::from_secs(15), ws_tasks.wait())
            .await
            .is_err()
        {
            tracing::warn!("some WebSocket sessions did not finish in time");
        }
        let _ = writer_task.await;
        // The writer is done, so the publisher drains the last committed messages and ends.
        let _ = publisher_task.await;
        dispatcher_task.abort();
        directory_task.abort();
        let _ = sweeper_task.await;
        let _ = janitor_task.await;
        limits_task.abort();
        away_task.abort();
        settings_task.abort();
        for task in cluster_tasks {
            task.abort();
        }
        db.close().await;
        tracing::info!("stopped");
        Ok(())
    }
}
