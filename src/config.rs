//! Configuration: built-in defaults → TOML file → `DATABASE_URL` → `ECHOCHAT_*` environment
//! (nested keys joined with `__`) → command-line flags. Unknown keys are reported, not fatal.

use std::{net::SocketAddr, path::PathBuf, time::Duration};

use figment::{
    Figment,
    providers::{Env, Format, Serialized, Toml},
};
use serde::{Deserialize, Serialize};

/// The effective configuration of one server process.
#[derive(Clone, Debug, Serialize, Deserialize)]
#[serde(default)]
pub struct Config {
    /// Where this configuration came from, in precedence order (set by [`Config::load`]; shown
    /// by `GET /admin/server` and `echochat doctor`). Not a setting.
    #[serde(skip)]
    pub sources: Vec<String>,
    /// Address to listen on. Default `0.0.0.0:8080`.
    pub listen: SocketAddr,
    /// Public base URL (`https://chat.example.com`), used in printed links and as an allowed Origin.
    pub public_url: Option<String>,
    /// `sqlite://…` or `postgres://…`; `None` means `<data_dir>/echochat.db`.
    pub database_url: Option<String>,
    /// Who may create accounts: `open`, `invite_only` or `closed`. The default of the live
    /// setting `general.registration` (an administrator's change at run time wins).
    pub registration: Registration,
    /// The server's name, shown on the sign-in pages and in the client (1–64 characters).
    /// Default `EchoChat`. The default of the live setting `general.server_name`.
    pub server_name: String,
    /// The message of the day shown in the client (0–1000 characters; empty: none). Default
    /// empty. The default of the live setting `general.motd`.
    pub motd: String,
    /// Extra Origins (`scheme://host[:port]`) allowed for cookie-authenticated requests.
    pub allowed_origins: Vec<String>,
    /// Reverse proxies whose `X-Forwarded-For` (or, without it, RFC 7239 `Forwarded`) is believed
    /// (their IP addresses). The audit log and rate limits use the client address they forward;
    /// from anyone else the headers are ignored (see `http::security::client_ip`).
    pub trusted_proxies: Vec<std::net::IpAddr>,
    /// Database tuning.
    pub database: DatabaseConfig,
    /// Token lifetimes.
    pub auth: AuthConfig,
    /// WebSocket tuning.
    pub realtime: RealtimeConfig,
    /// Connection limits and timeouts of the HTTP server.
    pub http: HttpConfig,
    /// Outgoing e-mail (password reset, address verification).
    pub smtp: SmtpConfig,
    /// HTTPS: the local certificate authority, operator certificates, or off.
    pub tls: TlsConfig,
    /// Rate limits and anti-abuse caps (per instance).
    pub limits: LimitsConfig,
    /// Presence: auto-away and whether invisible is allowed.
    pub presence: PresenceConfig,
    /// Messages: the edit window.
    pub messages: MessagesConfig,
    /// Redis: the event bus and shared state of several instances (off without `url`).
    pub redis: RedisConfig,
    /// This instance among several: its id and the periodic jobs' schedule.
    pub cluster: ClusterConfig,
    /// Official rooms created at start-up; replaces the default list when given.
    pub official_rooms: Vec<OfficialRoom>,
    /// The data folder (database, secrets). Set from `--data-dir`, not from the file.
    #[serde(skip)]
    pub data_dir: PathBuf,
}

/// Registration policy.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Registration {
    /// Anyone may register (default).
    Open,
    /// Only the admin creates accounts.
    Closed,
    /// Only people with an invite link made by an administrator may register.
    InviteOnly,
}

/// SQLite `synchronous` pragma.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum SqliteSynchronous {
    /// fsync on every commit: durable across power loss (default).
    Full,
    /// WAL-safe across application crashes, may lose the last commits on power loss.
    Normal,
}

/// `[database]`.
#[derive(Clone, Debug, Serialize, Deserialize)]
#[serde(default)]
pub struct DatabaseConfig {
    /// PostgreSQL pool size. Default 10.
    pub max_connections: u32,
    /// SQLite durability. Default `full`.
    pub sqlite_synchronous: SqliteSynchronous,
}

/// `[auth]`.
#[derive(Clone, Debug, Serialize, Deserialize)]
#[serde(default)]
pub struct AuthConfig {
    /// Access JWT lifetime in seconds. Default 900.
    pub access_token_ttl_secs: u64,
    /// Refresh token lifetime in seconds. Default 30 days.
    pub refresh_token_ttl_secs: u64,
    /// Seconds during which a just-rotated refresh token may be presented again (parallel tabs)
    /// before that counts as reuse and revokes the whole family. Default 10.
    pub refresh_reuse_grace_secs: u64,
    /// A session with no activity by its person for this many minutes ends (reason `idle`);
    /// fractions are allowed (`0.5` = 30 s). 0 = never (default).
    pub idle_timeout_minutes: f64,
}

impl AuthConfig {
    /// [`Self::idle_timeout_minutes`] as a duration, `None` when off (0, negative or not a
    /// number).
    pub fn idle_timeout(&self) -> Option<Duration> {
        let minutes = self.idle_timeout_minutes;
        (minutes.is_finite() && minutes > 0.0)
            .then(|| Duration::from_secs_f64((minutes * 60.0).min(1e9)))
    }
}

/// `[messages]`.
#[derive(Clone, Debug, Default, Serialize, Deserialize)]
#[serde(default)]
pub struct MessagesConfig {
    /// How long after sending its author may edit a message, in seconds; an edit later is
    /// refused with 403 `edit_window_closed`. 0 = no limit (default). Deleting is never limited.
    pub edit_window_secs: u64,
}

/// `[redis]`: several EchoChat instances share one Redis for the event bus (pub/sub), presence,
/// rate-limit counters, the setup token and the leases of periodic jobs (see docs/scaling.md).
#[derive(Clone, Debug, Serialize, Deserialize)]
#[serde(default)]
pub struct RedisConfig {
    /// `redis://[user:password@]host:port[/db]` (also `REDIS_URL`). `None` (default): one
    /// instance, everything in process. Needs PostgreSQL: the server refuses to start with Redis
    /// on SQLite, and when Redis cannot be reached at start.
    pub url: Option<String>,
    /// Prefix of every key and channel this server uses in Redis, so that several EchoChat
    /// clusters (or tests) can share one Redis. Default `echochat`. Instances of one cluster
    /// must use the same prefix.
    pub key_prefix: String,
    /// How long connecting to Redis and each command may take, in milliseconds. Default 2000.
    pub timeout_ms: u64,
}

impl Default for RedisConfig {
    fn default() -> Self {
        Self {
            url: None,
            key_prefix: "echochat".to_owned(),
            timeout_ms: 2000,
        }
    }
}

impl RedisConfig {
    /// [`Self::timeout_ms`] as a duration (at least 50 ms).
    pub fn timeout(&self) -> Duration {
        Duration::from_millis(self.timeout_ms.max(50))
    }
}

/// `[cluster]`: this instance's identity and the schedule of the jobs that run on one instance
/// at a time.
#[derive(Clone, Debug, Serialize, Deserialize)]
#[serde(default)]
pub struct ClusterConfig {
    /// This instance's id in logs, the admin panel and Redis (1–64 of `A-Z a-z 0-9 . _ -`).
    /// `None` (default): `<hostname>-<6 random hex digits>`, new at every start.
    pub instance_id: Option<String>,
    /// How often the janitor deletes expired refresh tokens and expired one-time tokens
    /// (password reset, e-mail verification), in seconds. With Redis, one instance per period
    /// does it (a lease). Default 3600.
    pub janitor_interval_secs: u64,
}

impl Default for ClusterConfig {
    fn default() -> Self {
        Self {
            instance_id: None,
            janitor_interval_secs: 3600,
        }
    }
}

/// `[presence]`.
#[derive(Clone, Debug, Serialize, Deserialize)]
#[serde(default)]
pub struct PresenceConfig {
    /// Whether users may pick the `invisible` presence (shown as offline to everyone). When
    /// false, `PUT /presence` refuses it (403 `invisible_disabled`) and a user whose stored
    /// choice is invisible becomes online on their next connection, with the `ready` notice
    /// `invisible_disabled`. Default true.
    pub allow_invisible: bool,
    /// A user whose choice is `online` shows as `away` after this many minutes without activity
    /// on any connection (clients report activity with the `activity` frame); fractions are
    /// allowed. 0 = never. Default 10.
    pub auto_away_minutes: f64,
}

impl PresenceConfig {
    /// [`Self::auto_away_minutes`] as a duration, `None` when off (0, negative or not a number).
    pub fn auto_away(&self) -> Option<Duration> {
        let minutes = self.auto_away_minutes;
        (minutes.is_finite() && minutes > 0.0)
            .then(|| Duration::from_secs_f64((minutes * 60.0).min(1e9)))
    }
}

/// How the SMTP connection is secured.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum SmtpSecurity {
    /// Plain connection upgraded with STARTTLS, which is required (RFC 3207; port 587). Default.
    Starttls,
    /// TLS from the first byte ("implicit TLS", RFC 8314; port 465).
    Tls,
    /// No encryption: only for a relay on this machine or a trusted network (port 25).
    None,
}

/// `[smtp]`: where e-mail goes. Without `host`, mail is written to `<data>/mail-spool/` as
/// `.eml` files instead (development; the start-up log says so).
#[derive(Clone, Debug, Serialize, Deserialize)]
#[serde(default)]
pub struct SmtpConfig {
    /// SMTP server host name; absent = spool folder.
    pub host: Option<String>,
    /// Port; default by `security`: 587, 465 or 25.
    pub port: Option<u16>,
    /// `starttls` (default), `tls` or `none`.
    pub security: SmtpSecurity,
    /// Login user, when the server wants AUTH.
    pub username: Option<String>,
    /// Login password (prefer `ECHOCHAT_SMTP__PASSWORD` over the file).
    pub password: Option<String>,
    /// Sender, `Name <address>` or `address`. Default `EchoChat <echochat@localhost>`.
    pub from: String,
    /// Seconds for the whole SMTP dialogue. Default 15.
    pub timeout_secs: u64,
}

impl Default for SmtpConfig {
    fn default() -> Self {
        Self {
            host: None,
            port: None,
            security: SmtpSecurity::Starttls,
            username: None,
            password: None,
            from: "EchoChat <echochat@localhost>".into(),
            timeout_secs: 15,
        }
    }
}

/// `[realtime]`.
#[derive(Clone, Debug, Serialize, Deserialize)]
#[serde(default)]
pub struct RealtimeConfig {
    /// Frames queued per connection before a slow consumer is closed with 1013. Default 1024:
    /// well above the writer's largest commit burst (256 messages), so only a client that really
    /// stops reading is dropped. Frames are shared buffers, so a slot costs a pointer, not a copy.
    pub outgoing_queue_frames: usize,
    /// Largest gap served by `resume`; larger gaps get `resync_required`. Default 500.
    pub resume_max_messages: u64,
    /// How long a typing indicator lasts on clients, in seconds. Default 6.
    pub typing_ttl_secs: u64,
    /// Interval of the server's WebSocket pings, in milliseconds. A connection from which
    /// nothing (not even a pong) arrived for two intervals is closed. Default 30000.
    pub ping_interval_ms: u64,
    /// How long a user stays online after their last connection closed, in milliseconds, so a
    /// reconnect (e.g. to renew the access token) does not flap their presence. Default 5000.
    pub presence_grace_ms: u64,
}

impl RealtimeConfig {
    /// [`Self::ping_interval_ms`] as a duration (at least 10 ms).
    pub fn ping_interval(&self) -> std::time::Duration {
        std::time::Duration::from_millis(self.ping_interval_ms.max(10))
    }

    /// [`Self::presence_grace_ms`] as a duration.
    pub fn presence_grace(&self) -> std::time::Duration {
        std::time::Duration::from_millis(self.presence_grace_ms)
    }
}

/// `[http]`: how long the server waits for a client, and how many connections it keeps open.
/// A value of 0 turns that limit off.
#[derive(Clone, Debug, Serialize, Deserialize)]
#[serde(default)]
pub struct HttpConfig {
    /// Most TCP connections open at once (HTTP and WebSocket alike); the connections beyond it are
    /// answered with 503 `too_many_connections` and closed. Default 10000.
    pub max_connections: usize,
    /// Seconds a client has to send a complete request head: the first one from the moment it
    /// connects, and on HTTP/1 each next one from the end of the previous response. Default 10.
    pub header_read_timeout_secs: u64,
    /// Seconds a request body may take to arrive in full before the request gets 408
    /// `request_timeout`. Default 30.
    pub body_read_timeout_secs: u64,
    /// Seconds a connection may sit with no request being handled and no byte read or written
    /// before it is closed (an idle keep-alive connection, or a client that stopped reading).
    /// Default 60.
    pub idle_timeout_secs: u64,
    /// Seconds from the `101 Switching Protocols` answer until the WebSocket session starts.
    /// Default 10.
    pub websocket_handshake_timeout_secs: u64,
}

/// Where the HTTPS listener's certificate comes from (`[tls] mode`).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum TlsMode {
    /// EchoChat's own local CA in `<data_dir>/tls/` signs a server certificate (default).
    SelfSigned,
    /// The operator's certificate chain and key (`cert_file`, `key_file`), reloaded on change.
    Files,
    /// No HTTPS listener (plain HTTP only, e.g. behind a TLS-terminating proxy).
    Off,
}

impl TlsMode {
    /// The config spelling: `self-signed`, `files` or `off`.
    pub fn as_str(self) -> &'static str {
        match self {
            Self::SelfSigned => "self-signed",
            Self::Files => "files",
            Self::Off => "off",
        }
    }
}

/// One rate: `count` events per `per_secs` seconds on average (one token comes back every
/// `per_secs / count` seconds), with at most `burst` at once. `count = 0` turns the limit off.
/// In TOML: `login_per_ip = { count = 20, per_secs = 60, burst = 10 }`.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Rate {
    /// Events allowed per `per_secs` on average; 0 = no limit.
    pub count: u32,
    /// The period `count` is measured over, in seconds (at least 1).
    pub per_secs: u64,
    /// The most events allowed in a row before the average applies (at least 1).
    pub burst: u32,
}

impl Rate {
    /// `count` per `per_secs` seconds, `burst` at once.
    pub const fn new(count: u32, per_secs: u64, burst: u32) -> Self {
        Self {
            count,
            per_secs,
            burst,
        }
    }
}

/// `[tls]`: the HTTPS listener next to the plain HTTP one (docs/https.md).
#[derive(Clone, Debug, Serialize, Deserialize)]
#[serde(default)]
pub struct TlsConfig {
    /// `self-signed` (default), `files` or `off`.
    pub mode: TlsMode,
    /// Address and port of the HTTPS listener. Default `0.0.0.0:8443`.
    pub listen: SocketAddr,
    /// `files` mode: PEM certificate chain, leaf first. Required in that mode.
    pub cert_file: Option<PathBuf>,
    /// `files` mode: PEM private key (PKCS#8, PKCS#1 or SEC1). Required in that mode.
    pub key_file: Option<PathBuf>,
    /// `self-signed` mode: extra DNS names or IP addresses for the server certificate, besides
    /// `localhost`, the host name, `<hostname>.local`, the loopback and interface addresses and
    /// the host of `public_url`. Default none.
    pub names: Vec<String>,
    /// `files` mode: `max-age` of the `Strict-Transport-Security` header sent on HTTPS answers,
    /// in seconds (RFC 6797). Default 31536000 (one year); 0 sends no header.
    pub hsts_max_age_secs: u64,
}

/// `[limits]`: rate limits and anti-abuse caps, each kept per key (an IP address, an account or
/// a user) in this process's memory. See docs/security.md#rate-limits.
#[derive(Clone, Debug, Serialize, Deserialize)]
#[serde(default)]
pub struct LimitsConfig {
    /// Login attempts per client IP, whatever the account. Default 20/min, burst 10.
    pub login_per_ip: Rate,
    /// Login attempts per (account, client IP) pair. Default 5 at once, then 1 per 20 s.
    pub login_per_account_and_ip: Rate,
    /// Login attempts per account from addresses it has not signed in from successfully
    /// (since this process started). Default 100/hour, burst 30.
    pub login_per_account: Rate,
    /// Registrations per client IP. Default 5/hour, burst 5.
    pub register_per_ip: Rate,
    /// Password-reset requests per client IP. Default 5/hour, burst 5.
    pub password_reset_per_ip: Rate,
    /// Password-reset requests per account. Default 3/hour, burst 3.
    pub password_reset_per_account: Rate,
    /// PIN attempts per account. Default 5 per 15 minutes, burst 5.
    pub pin_attempts_per_account: Rate,
    /// Refresh-token rotations per client IP. Default 60/min, burst 30.
    pub refresh_per_ip: Rate,
    /// Messages sent per user (REST and WebSocket together). Default 10/s, burst 20.
    pub messages_per_user: Rate,
    /// Rooms created per user. Default 10/hour, burst 5.
    pub rooms_per_user: Rate,
    /// Room joins per user. Default 30/min, burst 30.
    pub joins_per_user: Rate,
    /// Invitations sent per user. Default 30/hour, burst 30.
    pub invites_per_user: Rate,
    /// Most pending (not yet accepted or declined) room invitations one user may have; an
    /// invitation beyond it is refused with 409 `too_many_pending_invites`. 0 = no cap.
    /// Default 20.
    pub max_pending_invites_per_recipient: u32,
    /// Friend requests one user may send per minute (with a burst of as many); more are refused
    /// with 429 `rate_limited`. 0 = no limit. Default 10.
    pub friend_requests_per_minute: u32,
    /// Most pending outgoing friend requests one user may have; one more is refused with 409
    /// `too_many_pending_requests`. 0 = no cap. Default 100.
    pub max_pending_friend_requests: u32,
    /// Message searches per user (`GET /search/messages`). Default 30/min, burst 10.
    pub search_per_user: Rate,
}

impl Default for LimitsConfig {
    fn default() -> Self {
        Self {
            login_per_ip: Rate::new(20, 60, 10),
            login_per_account_and_ip: Rate::new(3, 60, 5),
            login_per_account: Rate::new(100, 3600, 30),
            register_per_ip: Rate::new(5, 3600, 5),
            password_reset_per_ip: Rate::new(5, 3600, 5),
            password_reset_per_account: Rate::new(3, 3600, 3),
            pin_attempts_per_account: Rate::new(5, 900, 5),
            refresh_per_ip: Rate::new(60, 60, 30),
            messages_per_user: Rate::new(10, 1, 20),
            rooms_per_user: Rate::new(10, 3600, 5),
            joins_per_user: Rate::new(30, 60, 30),
            invites_per_user: Rate::new(30, 3600, 30),
            max_pending_invites_per_recipient: 20,
            friend_requests_per_minute: 10,
            max_pending_friend_requests: 100,
            search_per_user: Rate::new(30, 60, 10),
        }
    }
}

/// One `[[official_rooms]]` entry.
#[derive(Clone, Debug, Serialize, Deserialize)]
pub struct OfficialRoom {
    /// Room name (unique, case-insensitive).
    pub name: String,
    /// Directory category.
    #[serde(default)]
    pub category: Option<String>,
    /// Topic line.
    #[serde(default)]
    pub topic: Option<String>,
    /// Whether every new account joins it.
    #[serde(default)]
    pub auto_join: bool,
}

impl Default for Config {
    fn default() -> Self {
        Self {
            sources: Vec::new(),
            listen: SocketAddr::from(([0, 0, 0, 0], 8080)),
            public_url: None,
            database_url: None,
            registration: Registration::Open,
            server_name: "EchoChat".to_owned(),
            motd: String::new(),
            allowed_origins: Vec::new(),
            trusted_proxies: Vec::new(),
            database: DatabaseConfig {
                max_connections: 10,
                sqlite_synchronous: SqliteSynchronous::Full,
            },
            auth: AuthConfig {
                access_token_ttl_secs: 900,
                refresh_token_ttl_secs: 30 * 24 * 3600,
                refresh_reuse_grace_secs: 10,
                idle_timeout_minutes: 0.0,
            },
            realtime: RealtimeConfig {
                outgoing_queue_frames: 1024,
                resume_max_messages: 500,
                typing_ttl_secs: 6,
                ping_interval_ms: 30_000,
                presence_grace_ms: 5_000,
            },
            http: HttpConfig {
                max_connections: 10_000,
                header_read_timeout_secs: 10,
                body_read_timeout_secs: 30,
                idle_timeout_secs: 60,
                websocket_handshake_timeout_secs: 10,
            },
            smtp: SmtpConfig::default(),
            tls: TlsConfig {
                mode: TlsMode::SelfSigned,
                listen: SocketAddr::from(([0, 0, 0, 0], 8443)),
                cert_file: None,
                key_file: None,
                names: Vec::new(),
                hsts_max_age_secs: 365 * 24 * 3600,
            },
            limits: LimitsConfig::default(),
            presence: PresenceConfig {
                allow_invisible: true,
                auto_away_minutes: 10.0,
            },
            messages: MessagesConfig::default(),
            redis: RedisConfig::default(),
            cluster: ClusterConfig::default(),
            official_rooms: default_official_rooms(),
            data_dir: PathBuf::from("echochat-data"),
        }
    }
}

impl Default for DatabaseConfig {
    fn default() -> Self {
        Config::default().database
    }
}
impl Default for AuthConfig {
    fn default() -> Self {
        Config::default().auth
    }
}
impl Default for PresenceConfig {
    fn default() -> Self {
        Config::default().presence
    }
}
impl Default for RealtimeConfig {
    fn default() -> Self {
        Config::default().realtime
    }
}
impl Default for HttpConfig {
    fn default() -> Self {
        Config::default().http
    }
}

impl Default for TlsConfig {
    fn default() -> Self {
        Config::default().tls
    }
}

impl HttpConfig {
    /// `max_connections`, `None` when 0 (no cap).
    pub fn connection_cap(&self) -> Option<usize> {
        (self.max_connections > 0).then_some(self.max_connections)
    }

    /// `header_read_timeout_secs`, `None` when 0 (off).
    pub fn header_read_timeout(&self) -> Option<Duration> {
        secs(self.header_read_timeout_secs)
    }

    /// `body_read_timeout_secs`, `None` when 0 (off).
    pub fn body_read_timeout(&self) -> Option<Duration> {
        secs(self.body_read_timeout_secs)
    }

    /// `idle_timeout_secs`, `None` when 0 (off).
    pub fn idle_timeout(&self) -> Option<Duration> {
        secs(self.idle_timeout_secs)
    }

    /// `websocket_handshake_timeout_secs`, `None` when 0 (off).
    pub fn websocket_handshake_timeout(&self) -> Option<Duration> {
        secs(self.websocket_handshake_timeout_secs)
    }
}

fn secs(n: u64) -> Option<Duration> {
    (n > 0).then(|| Duration::from_secs(n))
}

fn default_official_rooms() -> Vec<OfficialRoom> {
    let room = |name: &str, category: &str, topic: &str, auto_join: bool| OfficialRoom {
        name: name.into(),
        category: Some(category.into()),
        topic: Some(topic.into()),
        auto_join,
    };
    vec![
        room("Lobby", "General", "Say hello", true),
        room("Help", "General", "Questions about this server", false),
        room("Tech", "Interests", "Computers, code and gadgets", false),
        room("Music", "Interests", "What are you listening to?", false),
        room("Gaming", "Interests", "Games and gamers", false),
        room(
            "Off-topic",
            "Social",
            "Anything goes (within the rules)",
            false,
        ),
    ]
}

/// Values given on the command line, which win over every other source.
#[derive(Clone, Debug, Default)]
pub struct Overrides {
    /// `--listen`.
    pub listen: Option<SocketAddr>,
    /// `--data-dir` / `ECHOCHAT_DATA_DIR`.
    pub data_dir: Option<PathBuf>,
    /// `--config` / `ECHOCHAT_CONFIG`.
    pub config_file: Option<PathBuf>,
    /// `--database-url`.
    pub database_url: Option<String>,
}

/// The loaded configuration plus where it came from, for the start-up log.
#[derive(Debug)]
pub struct Loaded {
    /// The effective configuration.
    pub config: Config,
    /// Human-readable list of the sources that contributed, in precedence order.
    pub sources: Vec<String>,
    /// Keys present in the file or environment that EchoChat does not know.
    pub unknown_keys: Vec<String>,
}

/// `ECHOCHAT_*` variables that are not configuration keys: the data folder and config file
/// (read by the command line), and the logging settings (read by `telemetry`).
const CLI_ENV_KEYS: [&str; 4] = ["data_dir", "config", "log", "log_format"];

impl Config {
    /// Loads the configuration ladder. Errors: an explicit `--config` file that does not exist,
    /// unparsable TOML, or values of the wrong type (the message names the key).
    pub fn load(overrides: Overrides) -> anyhow::Result<Loaded> {
        let data_dir = overrides
            .data_dir
            .clone()
            .unwrap_or_else(|| PathBuf::from("echochat-data"));
        let mut sources = vec!["built-in defaults".to_owned()];
        let mut figment = Figment::from(Serialized::defaults(Config::default()));

        let file = match &overrides.config_file {
            Some(path) if !path.exists() => {
                anyhow::bail!("config file {} does not exist", path.display())
            }
            Some(path) => Some(path.clone()),
            None => Some(data_dir.join("echochat.toml")).filter(|p| p.exists()),
        };
        if let Some(path) = &file {
            figment = figment.merge(Toml::file_exact(path));
            sources.push(format!("file {}", path.display()));
        }
        if std::env::var_os("DATABASE_URL").is_some() {
            figment = figment.merge(
                Env::raw()
                    .only(&["DATABASE_URL"])
                    .map(|_| "database_url".into()),
            );
            sources.push("env DATABASE_URL".to_owned());
        }
        if std::env::var_os("REDIS_URL").is_some() {
            figment = figment.merge(Env::raw().only(&["REDIS_URL"]).map(|_| "redis.url".into()));
            sources.push("env REDIS_URL".to_owned());
        }
        let env = Env::prefixed("ECHOCHAT_")
            .split("__")
            .filter(|k| !CLI_ENV_KEYS.contains(&k.as_str().to_ascii_lowercase().as_str()));
        let env_keys: Vec<String> = env.iter().map(|(k, _)| k.to_string()).collect();
        if !env_keys.is_empty() {
            sources.push(format!("env ECHOCHAT_* ({})", env_keys.join(", ")));
        }
        figment = figment.merge(env);

        let mut unknown_keys = Vec::new();
        let given: serde_json::Value = figment.extract()?;
        let known = serde_json::to_value(Config::default())?;
        collect_unknown("", &given, &known, &mut unknown_keys);

        let mut config: Config = figment.extract()?;
        config.data_dir = data_dir;
        let mut cli = Vec::new();
        if let Some(listen) = overrides.listen {
            config.listen = listen;
            cli.push("--listen");
        }
        if let Some(url) = overrides.database_url {
            config.database_url = Some(url);
            cli.push("--database-url");
        }
        if !cli.is_empty() {
            sources.push(format!("command line ({})", cli.join(", ")));
        }
        config.sources = sources.clone();
        Ok(Loaded {
            config,
            sources,
            unknown_keys,
        })
    }
}

/// Walks `given` and records every key path that has no counterpart in `known`.
fn collect_unknown(
    prefix: &str,
    given: &serde_json::Value,
    known: &serde_json::Value,
    out: &mut Vec<String>,
) {
    use serde_json::Value;
    match (given, known) {
        (Value::Object(given), Value::Object(known)) => {
            for (key, value) in given {
                let path = if prefix.is_empty() {
                    key.clone()
                } else {
                    format!("{prefix}.{key}")
                };
                match known.get(key) {
                    Some(known_value) => collect_unknown(&path, value, known_value, out),
                    None => out.push(path),
                }
            }
        }
        (Value::Array(given), Value::Array(known)) => {
            if let Some(template) = known.first() {
                for (i, item) in given.iter().enumerate() {
                    collect_unknown(&format!("{prefix}[{i}]"), item, template, out);
                }
            }
        }
        _ => {}
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn unknown_keys_are_found_at_any_depth() {
        let known = serde_json::to_value(Config::default()).expect("serializable");
        let given = serde_json::json!({"listen": "x", "lisen": 1, "auth": {"acess": 2},
            "official_rooms": [{"name": "A", "colour": "red"}]});
        let mut out = Vec::new();
        collect_unknown("", &given, &known, &mut out);
        assert_eq!(out, vec!["auth.acess", "lisen", "official_rooms[0].colour"]);
    }

    #[test]
    fn http_keys_are_known_and_zero_turns_a_limit_off() {
        let known = serde_json::to_value(Config::default()).expect("serializable");
        let given = serde_json::json!({"http": {"max_connections": 3, "header_read_timeout_secs": 1,
            "body_read_timeout_secs": 1, "idle_timeout_secs": 1, "websocket_handshake_timeout_secs": 1,
            "idle_timeout": 5}});
        let mut out = Vec::new();
        collect_unknown("", &given, &known, &mut out);
        assert_eq!(out, vec!["http.idle_timeout"]);

        let http = HttpConfig::default();
        assert_eq!(http.connection_cap(), Some(10_000));
        assert_eq!(http.header_read_timeout(), Some(Duration::from_secs(10)));
        assert_eq!(http.body_read_timeout(), Some(Duration::from_secs(30)));
        assert_eq!(http.idle_timeout(), Some(Duration::from_secs(60)));
        assert_eq!(
            http.websocket_handshake_timeout(),
            Some(Duration::from_secs(10))
        );
        let off = HttpConfig {
            max_connections: 0,
            header_read_timeout_secs: 0,
            body_read_timeout_secs: 0,
            idle_timeout_secs: 0,
            websocket_handshake_timeout_secs: 0,
        };
        assert_eq!(off.connection_cap(), None);
        assert_eq!(off.header_read_timeout(), None);
        assert_eq!(off.body_read_timeout(), None);
        assert_eq!(off.idle_timeout(), None);
        assert_eq!(off.websocket_handshake_timeout(), None);
    }

    #[test]
    fn tls_keys_are_known_and_modes_use_their_config_spelling() {
        let known = serde_json::to_value(Config::default()).expect("serializable");
        let given = serde_json::json!({"tls": {"mode": "files", "listen": "127.0.0.1:1",
            "cert_file": "/c.pem", "key_file": "/k.pem", "names": ["chat.lan"],
            "hsts_max_age_secs": 1, "hsts": true}});
        let mut out = Vec::new();
        collect_unknown("", &given, &known, &mut out);
        assert_eq!(out, vec!["tls.hsts"]);
        let config: Config = Figment::from(Serialized::defaults(Config::default()))
            .merge(Serialized::defaults(given))
            .extract()
            .expect("valid [tls]");
        assert_eq!(config.tls.mode, TlsMode::Files);
        assert_eq!(config.tls.mode.as_str(), "files");
        assert_eq!(Config::default().tls.mode, TlsMode::SelfSigned);
        assert_eq!(Config::default().tls.listen.port(), 8443);
    }
}
