//! Rate limits (anti-abuse), built on the `governor` crate: one keyed GCRA limiter per
//! [`Limit`], with its quota from `[limits]` (see docs/security.md#rate-limits).
//!
//! Services call [`RateLimits::check`] at the top of a use case, with a key that names who is
//! limited: an IP address in text form, a user id, or a lower-cased account name. Over the
//! limit the answer is [`DomainError::RateLimited`] carrying the wait, which the HTTP layer turns
//! into 429 + `Retry-After` and the realtime layer into an `error` frame with `retry_after_ms`.
//!
//! The quotas can change at run time (the `limits.*` live settings, see `service::settings`):
//! [`RateLimits::reconfigure`] swaps in new limiters for the limits whose rate changed, keeping
//! the counters of the others. The check itself takes an uncontended read lock.
//!
//! Without Redis, limits are kept per process (one instance = its own counters). Each limiter
//! remembers every key it has seen until [`RateLimits::retain_recent`] forgets the keys whose
//! bucket is full again; `app.rs` calls it every [`RETAIN_EVERY`], so memory follows the number
//! of keys active in the last few limit periods, not every address ever seen.
//!
//! With Redis (`[redis] url`), every check is one atomic GCRA step in Redis
//! ([`crate::cluster::limits`], same algorithm and quotas), so a limit holds across all
//! instances together; the known-login exemption is kept there too. When Redis fails or does not
//! answer within `[redis] timeout_ms`, that check falls back to this process's limiter (Redis is
//! marked down, readiness reports it): never an error because of Redis.

use std::{
    net::IpAddr,
    num::NonZeroU32,
    sync::{Arc, RwLock, RwLockReadGuard},
    time::Duration,
};

use governor::{
    Quota, RateLimiter,
    clock::{Clock, DefaultClock},
    state::keyed::DashMapStateStore,
};

use crate::{
    cluster::{self, Cluster},
    config::{LimitsConfig, Rate},
    domain::DomainError,
};

/// How often the background task forgets idle keys ([`RateLimits::retain_recent`]).
pub const RETAIN_EVERY: Duration = Duration::from_secs(60);

/// Longest key kept (longer keys are cut), so a client cannot make one key costly.
const KEY_MAX_BYTES: usize = 128;

/// Accounts kept as "signed in from this address" ([`RateLimits::login_succeeded`]).
const KNOWN_LOGINS_MAX: u64 = 100_000;

/// How long a successful login from an address exempts it from the per-account cap.
const KNOWN_LOGIN_TTL: Duration = Duration::from_secs(30 * 24 * 3600);

/// What is limited; each kind has its own quota (`[limits]`) and its own keys.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum Limit {
    /// Login attempts per client IP (`login_per_ip`). Key: the IP.
    LoginIp,
    /// Login attempts per account and client IP (`login_per_account_and_ip`). Key: see
    /// [`RateLimits::check_login`], which is how login uses it.
    LoginAccount,
    /// Registrations per client IP (`register_per_ip`). Key: the IP.
    Register,
    /// Password-reset requests per client IP (`password_reset_per_ip`). Key: the IP.
    PasswordResetIp,
    /// Password-reset requests per account (`password_reset_per_account`). Key: the lower-cased
    /// account name (or e-mail address) asked for.
    PasswordResetAccount,
    /// PIN attempts per account (`pin_attempts_per_account`). Key: the user id.
    PinAttempt,
    /// Refresh-token rotations per client IP (`refresh_per_ip`). Key: the IP.
    Refresh,
    /// Messages per user, REST and WebSocket together (`messages_per_user`). Key: the user id.
    Send,
    /// Rooms created per user (`rooms_per_user`). Key: the user id.
    RoomCreate,
    /// Room joins per user (`joins_per_user`). Key: the user id.
    Join,
    /// Invitations sent per user (`invites_per_user`). Key: the user id.
    Invite,
    /// Friend requests sent per user (`friend_requests_per_minute`). Key: the user id.
    FriendRequest,
    /// Message searches per user (`search_per_user`). Key: the user id.
    Search,
    /// Account settings changes per user (`PUT /users/me/settings`): a fixed 60 a minute with
    /// bursts of 30, not configurable (a settings screen sends one change per click). Key: the
    /// user id.
    SettingsUpdate,
}

impl Limit {
    /// Every kind, in declaration order.
    pub const ALL: [Limit; 14] = [
        Limit::LoginIp,
        Limit::LoginAccount,
        Limit::Register,
        Limit::PasswordResetIp,
        Limit::PasswordResetAccount,
        Limit::PinAttempt,
        Limit::Refresh,
        Limit::Send,
        Limit::RoomCreate,
        Limit::Join,
        Limit::Invite,
        Limit::FriendRequest,
        Limit::Search,
        Limit::SettingsUpdate,
    ];

    /// What the client is told it did too often.
    fn what(self) -> &'static str {
        match self {
            Limit::LoginIp | Limit::LoginAccount => "too many sign-in attempts",
            Limit::Register => "too many accounts registered from this address",
            Limit::PasswordResetIp | Limit::PasswordResetAccount => {
                "too many password reset requests"
            }
            Limit::PinAttempt => "too many PIN attempts",
            Limit::Refresh => "too many session refreshes",
            Limit::Send => "too many messages",
            Limit::RoomCreate => "too many rooms created",
            Limit::Join => "too many rooms joined",
            Limit::Invite => "too many invitations sent",
            Limit::FriendRequest => "too many friend requests",
            Limit::Search => "too many searches",
            Limit::SettingsUpdate => "too many settings changes",
        }
    }

    fn index(self) -> usize {
        self as usize
    }

    /// The limit's name in Redis keys (`<prefix>:rl:<name>:…`).
    pub fn name(self) -> &'static str {
        match self {
            Limit::LoginIp => "login_ip",
            Limit::LoginAccount => "login_account_ip",
            Limit::Register => "register",
            Limit::PasswordResetIp => "password_reset_ip",
            Limit::PasswordResetAccount => "password_reset_account",
            Limit::PinAttempt => "pin_attempt",
            Limit::Refresh => "refresh",
            Limit::Send => "send",
            Limit::RoomCreate => "room_create",
            Limit::Join => "join",
            Limit::Invite => "invite",
            Limit::FriendRequest => "friend_request",
            Limit::Search => "search",
            Limit::SettingsUpdate => "settings_update",
        }
    }
}

/// The Redis name of the per-account login cap (`login_per_account`).
const LOGIN_ACCOUNT_TOTAL: &str = "login_account";

type Keyed = RateLimiter<String, DashMapStateStore<String>, DefaultClock>;

/// The rate limits: shared through Redis when there is one, else (and as a fallback) the
/// limiters of this process. Cheap to clone (shared).
#[derive(Clone)]
pub struct RateLimits {
    inner: Arc<Inner>,
}

struct Inner {
    /// The limiters of the current quotas; replaced by [`RateLimits::reconfigure`].
    limiters: RwLock<Limiters>,
    /// `account|ip` pairs that signed in successfully: exempt from `login_account_total`.
    known_logins: moka::sync::Cache<String, ()>,
    clock: DefaultClock,
    /// Where the shared counters are (with Redis).
    cluster: Cluster,
}

/// The limiters of one set of quotas, with the rates they were built from.
struct Limiters {
    /// The rate of each [`Limit`], by [`Limit::index`].
    rates: Vec<Rate>,
    /// One limiter per [`Limit`], by [`Limit::index`]; `None` when the limit is off.
    by_limit: Vec<Option<Arc<Keyed>>>,
    /// The rate of `login_per_account`.
    total_rate: Rate,
    /// Login attempts per account from addresses without a recent success there.
    login_account_total: Option<Arc<Keyed>>,
    /// The caps of `[limits]` that are not rates.
    caps: Caps,
}

/// The caps of `[limits]` that are not rates (0 = no cap), as they are now.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Caps {
    /// Most pending room invitations per recipient (`max_pending_invites_per_recipient`).
    pub max_pending_invites_per_recipient: u32,
    /// Most pending outgoing friend requests per user (`max_pending_friend_requests`).
    pub max_pending_friend_requests: u32,
}

impl Limiters {
    /// The limiters of `config`; those whose rate is the same as in `previous` are kept (with
    /// their counters), the others start afresh.
    fn build(config: &LimitsConfig, previous: Option<&Limiters>) -> Self {
        let rates: Vec<Rate> = Limit::ALL.iter().map(|l| rate_of(config, *l)).collect();
        let by_limit = rates
            .iter()
            .enumerate()
            .map(|(i, rate)| match previous {
                Some(p) if p.rates.get(i) == Some(rate) => p.by_limit.get(i).cloned().flatten(),
                _ => limiter(*rate).map(Arc::new),
            })
            .collect();
        let total_rate = config.login_per_account;
        let login_account_total = match previous {
            Some(p) if p.total_rate == total_rate => p.login_account_total.clone(),
            _ => limiter(total_rate).map(Arc::new),
        };
        Self {
            rates,
            by_limit,
            total_rate,
            login_account_total,
            caps: Caps {
                max_pending_invites_per_recipient: config.max_pending_invites_per_recipient,
                max_pending_friend_requests: config.max_pending_friend_requests,
            },
        }
    }

    fn all(&self) -> impl Iterator<Item = &Keyed> {
        let each = self.by_limit.iter().flatten();
        each.chain(self.login_account_total.iter()).map(|l| &**l)
    }
}

/// The rate of `limit` in `config`.
fn rate_of(config: &LimitsConfig, limit: Limit) -> Rate {
    match limit {
        Limit::LoginIp => config.login_per_ip,
        Limit::LoginAccount => config.login_per_account_and_ip,
        Limit::Register => config.register_per_ip,
        Limit::PasswordResetIp => config.password_reset_per_ip,
        Limit::PasswordResetAccount => config.password_reset_per_account,
        Limit::PinAttempt => config.pin_attempts_per_account,
        Limit::Refresh => config.refresh_per_ip,
        Limit::Send => config.messages_per_user,
        Limit::RoomCreate => config.rooms_per_user,
        Limit::Join => config.joins_per_user,
        Limit::Invite => config.invites_per_user,
        Limit::FriendRequest => {
            let n = config.friend_requests_per_minute;
            Rate::new(n, 60, n)
        }
        Limit::Search => config.search_per_user,
        Limit::SettingsUpdate => Rate::new(60, 60, 30),
    }
}

/// The governor quota of a [`crate::config::Rate`]; `None` when it is off (`count = 0`).
fn quota(rate: crate::config::Rate) -> Option<Quota> {
    let count = NonZeroU32::new(rate.count)?;
    let period = Duration::from_secs(rate.per_secs.max(1)) / count.get();
    let burst = NonZeroU32::new(rate.burst.max(1))?;
    Quota::with_period(period.max(Duration::from_nanos(1))).map(|q| q.allow_burst(burst))
}

fn limiter(rate: crate::config::Rate) -> Option<Keyed> {
    quota(rate).map(RateLimiter::dashmap)
}

/// `key`, cut to [`KEY_MAX_BYTES`] on a character boundary.
fn bounded(key: &str) -> &str {
    if key.len() <= KEY_MAX_BYTES {
        return key;
    }
    let mut end = KEY_MAX_BYTES;
    while !key.is_char_boundary(end) {
        end -= 1;
    }
    &key[..end]
}

/// `<prefix>:known-login:<sha256 hex of account|ip>`: the pair is hashed so that Redis holds
/// neither account names nor addresses.
fn known_login_key(redis: &cluster::Redis, pair: &str) -> String {
    redis.key(&format!("known-login:{}", super::tokens::hash_token(pair)))
}

/// The key of a client address (`unknown` when the server could not tell it).
pub fn ip_key(ip: Option<IpAddr>) -> String {
    ip.map_or_else(|| "unknown".to_owned(), |ip| ip.to_string())
}

impl RateLimits {
    /// Builds every limiter from `config` (`[limits]`); a rate with `count = 0` is off. With
    /// `cluster`'s Redis the counters are shared by every instance, the local limiters being the
    /// fallback; without Redis ([`Cluster::local`]) they are this process's own.
    pub fn new(config: &LimitsConfig, cluster: Cluster) -> Self {
        Self {
            inner: Arc::new(Inner {
                limiters: RwLock::new(Limiters::build(config, None)),
                known_logins: moka::sync::Cache::builder()
                    .max_capacity(KNOWN_LOGINS_MAX)
                    .time_to_live(KNOWN_LOGIN_TTL)
                    .build(),
                clock: DefaultClock::default(),
                cluster,
            }),
        }
    }

    /// The cluster the counters are shared in (services that keep other shared state, such as
    /// the slowmode, reach Redis through it).
    pub fn cluster(&self) -> &Cluster {
        &self.inner.cluster
    }

    /// Applies new quotas at run time: each limit whose rate changed gets a new limiter (its
    /// keys start with a full burst); the others keep their counters.
    pub fn reconfigure(&self, config: &LimitsConfig) {
        let mut current = self
            .inner
            .limiters
            .write()
            .unwrap_or_else(std::sync::PoisonError::into_inner);
        let next = Limiters::build(config, Some(&current));
        *current = next;
    }

    fn limiters(&self) -> RwLockReadGuard<'_, Limiters> {
        self.inner
            .limiters
            .read()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
    }

    /// The caps (pending invitations, pending friend requests) as they are now.
    pub fn caps(&self) -> Caps {
        self.limiters().caps
    }

    /// Counts one event of `limit` for `key` (an IP's text form, a user id, a lower-cased
    /// account name): in Redis when there is one (across every instance), else — or when Redis
    /// fails — in this process. Errors: [`DomainError::RateLimited`] with the wait until the
    /// next event would be allowed, when `key` is over the limit (the refused event is not
    /// counted). Never an error because of Redis.
    pub async fn check(&self, limit: Limit, key: &str) -> Result<(), DomainError> {
        let (rate, local) = {
            let limiters = self.limiters();
            let local = limiters.by_limit.get(limit.index()).cloned().flatten();
            (limiters.rates.get(limit.index()).copied(), local)
        };
        match (rate, local) {
            (Some(rate), Some(local)) => {
                self.check_in(limit.name(), rate, &local, key, limit.what())
                    .await
            }
            _ => Ok(()),
        }
    }

    /// One check of the limit named `name` at `rate`: in Redis, else in `local`.
    async fn check_in(
        &self,
        name: &str,
        rate: Rate,
        local: &Keyed,
        key: &str,
        what: &str,
    ) -> Result<(), DomainError> {
        let key = bounded(key);
        let shared = match self.inner.cluster.redis() {
            Some(redis) => cluster::limits::check(redis, name, rate, key).await,
            None => None,
        };
        let wait = match shared {
            Some(wait) => wait,
            None => local
                .check_key(&key.to_owned())
                .err()
                .map(|not_until| not_until.wait_time_from(self.inner.clock.now())),
        };
        match wait {
            None => Ok(()),
            Some(wait) => Err(DomainError::rate_limited(
                format!("{what}; retry in {} s", wait.as_secs_f64().ceil()),
                wait,
            )),
        }
    }

    /// Counts one login attempt for `account` (as typed; it is lower-cased) from `ip`, before the
    /// password is checked:
    ///
    /// 1. [`Limit::LoginIp`]: per address, whatever the account;
    /// 2. [`Limit::LoginAccount`]: per (account, address) pair, so a stranger who guesses slows
    ///    down only their own pair, never the owner's;
    /// 3. `login_per_account`: per account, but only from addresses that have not signed in to
    ///    it successfully ([`Self::login_succeeded`]), so a botnet spread over many addresses is
    ///    slowed down too, while the owner at a known address is never locked out.
    ///
    /// With Redis all three count across every instance (see [`Self::check`]). Errors:
    /// [`DomainError::RateLimited`].
    pub async fn check_login(&self, account: &str, ip: Option<IpAddr>) -> Result<(), DomainError> {
        let ip = ip_key(ip);
        let account = bounded(account.trim()).to_lowercase();
        self.check(Limit::LoginIp, &ip).await?;
        let pair = format!("{account}|{ip}");
        self.check(Limit::LoginAccount, &pair).await?;
        let (rate, total) = {
            let limiters = self.limiters();
            (limiters.total_rate, limiters.login_account_total.clone())
        };
        if let Some(total) = total
            && !self.is_known_login(&pair).await
        {
            self.check_in(
                LOGIN_ACCOUNT_TOTAL,
                rate,
                &total,
                &account,
                Limit::LoginAccount.what(),
            )
            .await?;
        }
        Ok(())
    }

    /// Whether `pair` (`account|ip`) signed in successfully within 30 days: in Redis when there
    /// is one (any instance saw it), else — or when Redis fails — as this process saw it.
    async fn is_known_login(&self, pair: &str) -> bool {
        if let Some(redis) = self.inner.cluster.redis() {
            let key = known_login_key(redis, pair);
            let exists = cluster::limits::with_redis(
                redis,
                "known-login lookup",
                redis::cmd("EXISTS")
                    .arg(key)
                    .query_async::<i64>(&mut redis.conn()),
            )
            .await;
            if let Some(n) = exists {
                return n > 0;
            }
        }
        self.inner.known_logins.contains_key(pair)
    }

    /// Records a successful login of `account` from `ip`: that address is exempt from the
    /// per-account cap of [`Self::check_login`] for 30 days — on every instance with Redis
    /// (`SET <prefix>:known-login:<sha256 of account|ip> 1 EX <30 days>`), and in this process
    /// (until it restarts) in any case, which is what counts while Redis fails.
    pub async fn login_succeeded(&self, account: &str, ip: Option<IpAddr>) {
        let account = bounded(account.trim()).to_lowercase();
        let pair = format!("{account}|{}", ip_key(ip));
        if let Some(redis) = self.inner.cluster.redis() {
            let key = known_login_key(redis, &pair);
            let _ = cluster::limits::with_redis(
                redis,
                "known-login record",
                redis::cmd("SET")
                    .arg(key)
                    .arg(1)
                    .arg("EX")
                    .arg(KNOWN_LOGIN_TTL.as_secs())
                    .query_async::<()>(&mut redis.conn()),
            )
            .await;
        }
        self.inner.known_logins.insert(pair, ());
    }

    /// Forgets the keys whose bucket is full again (they would be allowed a full burst anyway)
    /// and gives the freed memory back. Called every [`RETAIN_EVERY`] by a task `app.rs` starts.
    pub fn retain_recent(&self) {
        for limiter in self.limiters().all() {
            limiter.retain_recent();
            limiter.shrink_to_fit();
        }
        self.inner.known_logins.run_pending_tasks();
    }

    /// Keys currently remembered, over every limiter (for tests and diagnostics).
    pub fn keys(&self) -> usize {
        self.limiters().all().map(RateLimiter::len).sum()
    }

    /// Spawns the task that calls [`Self::retain_recent`] every [`RETAIN_EVERY`] until
    /// `shutdown` fires.
    pub fn spawn_janitor(
        &self,
        shutdown: tokio_util::sync::CancellationToken,
    ) -> tokio::task::JoinHandle<()> {
        let limits = self.clone();
        tokio::spawn(async move {
            let mut every = tokio::time::interval(RETAIN_EVERY);
            every.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
            loop {
                tokio::select! {
                    _ = shutdown.cancelled() => return,
                    _ = every.tick() => limits.retain_recent(),
                }
            }
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn limits(adjust: impl FnOnce(&mut LimitsConfig)) -> RateLimits {
        let mut config = LimitsConfig::default();
        adjust(&mut config);
        RateLimits::new(&config, Cluster::local())
    }

    #[tokio::test]
    async fn a_burst_is_allowed_then_refused_with_the_wait() {
        let limits = limits(|c| c.register_per_ip = Rate::new(1, 3600, 3));
        for _ in 0..3 {
            assert!(limits.check(Limit::Register, "10.0.0.1").await.is_ok());
        }
        let Err(DomainError::RateLimited { retry_after, .. }) =
            limits.check(Limit::Register, "10.0.0.1").await
        else {
            panic!("the fourth registration is refused");
        };
        assert!(retry_after > Duration::from_secs(3500), "{retry_after:?}");
        assert!(retry_after <= Duration::from_secs(3600), "{retry_after:?}");
        // Other keys and other limits are separate.
        assert!(limits.check(Limit::Register, "10.0.0.2").await.is_ok());
        assert!(limits.check(Limit::Join, "10.0.0.1").await.is_ok());
    }

    #[tokio::test]
    async fn count_zero_turns_a_limit_off() {
        let limits = limits(|c| c.messages_per_user = Rate::new(0, 1, 1));
        for _ in 0..1000 {
            assert!(limits.check(Limit::Send, "u").await.is_ok());
        }
    }

    fn login_config(c: &mut LimitsConfig) {
        c.login_per_ip = Rate::new(1000, 1, 1000);
        c.login_per_account_and_ip = Rate::new(1, 3600, 2);
        c.login_per_account = Rate::new(1, 3600, 3);
    }

    /// The login rules, with attempts spread over `a` and `b` (one process twice, or two
    /// instances on one Redis).
    async fn stranger_and_owner(a: &RateLimits, b: &RateLimits) {
        let owner: IpAddr = "192.0.2.1".parse().expect("ip");
        assert!(a.check_login("Alice", Some(owner)).await.is_ok());
        a.login_succeeded("alice", Some(owner)).await;
        let stranger: IpAddr = "198.51.100.7".parse().expect("ip");
        assert!(b.check_login("alice", Some(stranger)).await.is_ok());
        assert!(a.check_login("ALICE", Some(stranger)).await.is_ok());
        assert!(b.check_login("alice", Some(stranger)).await.is_err());
        // A botnet: other addresses share the per-account cap (one left of 3; the owner's
        // first attempt used one)…
        let other: IpAddr = "203.0.113.9".parse().expect("ip");
        assert!(a.check_login("alice", Some(other)).await.is_err());
        // …but the owner's known address is exempt from it, wherever it signs in.
        assert!(b.check_login("alice", Some(owner)).await.is_ok());
    }

    #[tokio::test]
    async fn a_stranger_does_not_lock_out_the_owner() {
        let limits = limits(login_config);
        stranger_and_owner(&limits, &limits).await;
    }

    /// Two instances on one Redis with a fresh prefix, or `None` (skip).
    async fn two_instances(config: &LimitsConfig) -> Option<(RateLimits, RateLimits)> {
        use crate::cluster::limits::testing;
        let a = testing::cluster().await?;
        let prefix = a.redis()?.key("");
        let prefix = prefix.trim_end_matches(':');
        let b = testing::cluster_with_prefix(testing::TEST_REDIS, prefix, 500).await?;
        Some((RateLimits::new(config, a), RateLimits::new(config, b)))
    }

    #[tokio::test]
    async fn with_redis_the_login_rules_hold_across_instances() {
        let mut config = LimitsConfig::default();
        login_config(&mut config);
        let Some((a, b)) = two_instances(&config).await else {
            return;
        };
        stranger_and_owner(&a, &b).await;
        // The local limiters were not used.
        assert_eq!(a.keys() + b.keys(), 0);
    }

    #[tokio::test]
    async fn with_redis_one_limit_for_all_instances_and_reconfigure_starts_afresh() {
        let config = LimitsConfig {
            register_per_ip: Rate::new(1, 3600, 3),
            joins_per_user: Rate::new(1, 3600, 1),
            ..LimitsConfig::default()
        };
        let Some((a, b)) = two_instances(&config).await else {
            return;
        };
        assert!(a.check(Limit::Register, "10.0.0.1").await.is_ok());
        assert!(b.check(Limit::Register, "10.0.0.1").await.is_ok());
        assert!(a.check(Limit::Register, "10.0.0.1").await.is_ok());
        let Err(DomainError::RateLimited { retry_after, .. }) =
            b.check(Limit::Register, "10.0.0.1").await
        else {
            panic!("the fourth registration, on any instance, is refused");
        };
        assert!(retry_after > Duration::from_secs(3500), "{retry_after:?}");
        assert!(a.check(Limit::Join, "10.0.0.1").await.is_ok());
        assert!(b.check(Limit::Join, "10.0.0.1").await.is_err());
        // A new register rate (both instances apply the live setting) starts afresh; the
        // unchanged join limit keeps its count.
        let config = LimitsConfig {
            register_per_ip: Rate::new(1, 3600, 2),
            ..config
        };
        a.reconfigure(&config);
        b.reconfigure(&config);
        assert!(a.check(Limit::Register, "10.0.0.1").await.is_ok());
        assert!(b.check(Limit::Register, "10.0.0.1").await.is_ok());
        assert!(a.check(Limit::Register, "10.0.0.1").await.is_err());
        assert!(a.check(Limit::Join, "10.0.0.1").await.is_err());
    }

    #[tokio::test]
    async fn a_redis_failure_falls_back_to_the_local_limiter() {
        use crate::cluster::limits::testing;
        let proxy = testing::Proxy::start().await;
        let Some(cluster) = testing::cluster_on(&proxy.url, 300).await else {
            return;
        };
        let config = LimitsConfig {
            register_per_ip: Rate::new(1, 3600, 2),
            ..LimitsConfig::default()
        };
        let limits = RateLimits::new(&config, cluster.clone());
        assert!(limits.check(Limit::Register, "10.0.0.1").await.is_ok());
        proxy.cut();
        // Redis is gone: the local limiter (which has not counted the first one) decides.
        assert!(limits.check(Limit::Register, "10.0.0.1").await.is_ok());
        assert!(limits.check(Limit::Register, "10.0.0.1").await.is_ok());
        assert!(matches!(
            limits.check(Limit::Register, "10.0.0.1").await,
            Err(DomainError::RateLimited { .. })
        ));
        assert!(!cluster.redis().expect("redis").is_healthy());
        // Logins too, with the known-login exemption from this process's memory.
        let ip: IpAddr = "192.0.2.1".parse().expect("ip");
        assert!(limits.check_login("bob", Some(ip)).await.is_ok());
        limits.login_succeeded("bob", Some(ip)).await;
        assert!(limits.is_known_login("bob|192.0.2.1").await);
    }

    #[tokio::test]
    async fn reconfigure_changes_only_the_limits_whose_rate_changed() {
        let limits = limits(|c| {
            c.messages_per_user = Rate::new(1, 3600, 1);
            c.joins_per_user = Rate::new(1, 3600, 1);
        });
        assert!(limits.check(Limit::Send, "u").await.is_ok());
        assert!(limits.check(Limit::Send, "u").await.is_err());
        assert!(limits.check(Limit::Join, "u").await.is_ok());
        let mut config = LimitsConfig {
            messages_per_user: Rate::new(1, 3600, 3),
            joins_per_user: Rate::new(1, 3600, 1),
            ..LimitsConfig::default()
        };
        limits.reconfigure(&config);
        // The new send quota applies at once (a fresh burst of 3)…
        for _ in 0..3 {
            assert!(limits.check(Limit::Send, "u").await.is_ok());
        }
        assert!(limits.check(Limit::Send, "u").await.is_err());
        // …and the unchanged join limiter kept its counter.
        assert!(limits.check(Limit::Join, "u").await.is_err());
        config.messages_per_user = Rate::new(0, 1, 1);
        limits.reconfigure(&config);
        for _ in 0..100 {
            assert!(limits.check(Limit::Send, "u").await.is_ok());
        }
    }

    #[tokio::test]
    async fn idle_keys_are_forgotten_and_long_keys_cut() {
        let limits = limits(|c| c.joins_per_user = Rate::new(1000, 1, 10));
        limits
            .check(Limit::Join, &"x".repeat(10_000))
            .await
            .expect("allowed");
        assert_eq!(limits.keys(), 1);
        tokio::time::sleep(Duration::from_millis(20)).await;
        limits.retain_recent();
        assert_eq!(limits.keys(), 0);
        assert_eq!(bounded(&"é".repeat(100)).len(), 128);
    }
}
