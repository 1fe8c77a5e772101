//! HTTPS next to plain HTTP (docs/https.md): where the certificate comes from, and keeping it
//! current while the server runs.
//!
//! - `self-signed` (default): [`ca::LocalCa`] in `<data_dir>/tls/` signs a server certificate
//!   for this machine's names and addresses; a task re-checks them every
//!   [`SELF_SIGNED_CHECK`] and issues a new certificate when they changed or expiry is near.
//! - `files`: the operator's `cert_file` and `key_file` (PEM), polled every [`FILES_POLL`] and
//!   reloaded when they change. A bad file at start is a start-up error; a bad file later keeps
//!   the certificate in use and logs an error.
//! - `off`: no HTTPS listener.
//!
//! Either way the certificate is served through [`CertResolver`], so a new one applies to the
//! next handshake without a restart. The accept loop (`http::server`) does the handshake.
//!
//! With several instances (Redis), the `self-signed` check runs under the `tls-renewal` lease
//! (`cluster::lease`) as a mutual exclusion: each instance still checks and holds its own
//! certificate, but never two at once, so instances that share a data folder do not write the
//! certificate files together. The lease is released after the check (compare-and-delete).

pub mod ca;

use std::{
    net::SocketAddr,
    path::{Path, PathBuf},
    sync::{Arc, RwLock},
    time::{Duration, SystemTime},
};

use anyhow::Context;
use rustls::{
    server::{ClientHello, ResolvesServerCert},
    sign::CertifiedKey,
};
use tokio::task::JoinHandle;
use tokio_rustls::TlsAcceptor;
use tokio_util::sync::CancellationToken;

use crate::{
    cluster::lease::{Job, Jobs},
    config::{Config, TlsMode},
};

/// How often `self-signed` mode re-checks the host's names, addresses and the certificate's
/// expiry: every hour.
pub const SELF_SIGNED_CHECK: Duration = Duration::from_secs(3600);
/// How often `files` mode looks at the certificate and key files for changes: every 2 seconds
/// (two `stat` calls).
pub const FILES_POLL: Duration = Duration::from_secs(2);
/// How long one self-signed check may hold the `tls-renewal` lease at most (it is released as
/// soon as the check is done; this bounds it if the instance dies mid-check).
pub const RENEWAL_LEASE: Duration = Duration::from_secs(120);
/// When another instance holds the `tls-renewal` lease: wait this long and ask again…
const RENEWAL_RETRY: Duration = Duration::from_secs(5);
/// …at most this many times, then wait for the next [`SELF_SIGNED_CHECK`].
const RENEWAL_ATTEMPTS: u32 = 30;

/// Serves whichever certificate is current; [`CertResolver::set`] swaps it for new handshakes.
#[derive(Debug)]
pub struct CertResolver {
    current: RwLock<Arc<CertifiedKey>>,
}

impl CertResolver {
    fn new(cert: Arc<CertifiedKey>) -> Self {
        Self {
            current: RwLock::new(cert),
        }
    }

    /// Serves `cert` from the next handshake on.
    pub fn set(&self, cert: Arc<CertifiedKey>) {
        *self.current.write().unwrap_or_else(|e| e.into_inner()) = cert;
    }

    /// The certificate being served.
    pub fn current(&self) -> Arc<CertifiedKey> {
        self.current
            .read()
            .unwrap_or_else(|e| e.into_inner())
            .clone()
    }
}

impl ResolvesServerCert for CertResolver {
    fn resolve(&self, _hello: ClientHello<'_>) -> Option<Arc<CertifiedKey>> {
        Some(self.current())
    }
}

/// What the HTTP layer needs to know about HTTPS (the `/ca` routes, HSTS, the banner's JSON).
#[derive(Clone, Debug)]
pub struct TlsInfo {
    /// `self-signed` or `files` (there is no `TlsInfo` when HTTPS is off).
    pub mode: TlsMode,
    /// The bound HTTPS address (port 0 resolved).
    pub addr: SocketAddr,
    /// The local CA certificate (PEM), in `self-signed` mode.
    pub ca_pem: Option<String>,
    /// The local CA's SHA-256 fingerprint (`AB:CD:…`), in `self-signed` mode.
    pub ca_fingerprint: Option<String>,
    /// The `Strict-Transport-Security` value sent on HTTPS answers: `files` mode with
    /// `hsts_max_age_secs > 0` only (RFC 6797 §7.2: never over plain HTTP).
    pub hsts: Option<String>,
}

/// Where the certificate comes from, with what keeping it current needs.
enum Source {
    SelfSigned {
        ca: Arc<ca::LocalCa>,
        extra: Vec<String>,
        names: std::collections::BTreeSet<String>,
    },
    Files {
        cert_file: PathBuf,
        key_file: PathBuf,
        stamp: FileStamp,
    },
}

/// The HTTPS set-up of one server: the rustls configuration and what keeps its certificate current.
pub struct Tls {
    mode: TlsMode,
    resolver: Arc<CertResolver>,
    acceptor: TlsAcceptor,
    source: Source,
    hsts_max_age_secs: u64,
}

impl Tls {
    /// Prepares HTTPS as `[tls]` says; `None` when `mode = "off"`. In `self-signed` mode this
    /// creates or loads the local CA and a server certificate in `<data_dir>/tls/`. Errors, all
    /// naming the path: the certificate folder cannot be created or written; in `files` mode a
    /// missing `cert_file`/`key_file` setting, an unreadable file, a key that does not match.
    pub fn setup(config: &Config) -> anyhow::Result<Option<Self>> {
        let tls = &config.tls;
        let (source, cert) = match tls.mode {
            TlsMode::Off => return Ok(None),
            TlsMode::SelfSigned => {
                let hostname = ca::hostname();
                let ca = Arc::new(ca::LocalCa::load_or_create(
                    &config.data_dir.join("tls"),
                    hostname.as_deref(),
                )?);
                let mut extra = tls.names.clone();
                for name in &tls.names {
                    anyhow::ensure!(
                        ca::normalise_name(name).is_some(),
                        "[tls] names: {name:?} is neither a DNS name nor an IP address"
                    );
                }
                if let Some(host) = public_host(config) {
                    extra.push(host);
                }
                let (cert, names) = refresh_self_signed(&ca, &extra, None)?
                    .context("a server certificate is issued at start")?;
                (Source::SelfSigned { ca, extra, names }, cert)
            }
            TlsMode::Files => {
                let cert_file = tls
                    .cert_file
                    .clone()
                    .context("[tls] mode = \"files\" needs cert_file (a PEM certificate chain)")?;
                let key_file = tls
                    .key_file
                    .clone()
                    .context("[tls] mode = \"files\" needs key_file (a PEM private key)")?;
                let stamp = FileStamp::of(&cert_file, &key_file);
                let cert = load_files(&cert_file, &key_file)?;
                (
                    Source::Files {
                        cert_file,
                        key_file,
                        stamp,
                    },
                    cert,
                )
            }
        };
        let resolver = Arc::new(CertResolver::new(cert));
        let mut server_config = rustls::ServerConfig::builder_with_provider(Arc::new(
            rustls::crypto::aws_lc_rs::default_provider(),
        ))
        .with_safe_default_protocol_versions()
        .context("TLS protocol versions")?
        .with_no_client_auth()
        .with_cert_resolver(resolver.clone());
        server_config.alpn_protocols = vec![b"h2".to_vec(), b"http/1.1".to_vec()];
        Ok(Some(Self {
            mode: tls.mode,
            resolver,
            acceptor: TlsAcceptor::from(Arc::new(server_config)),
            source,
            hsts_max_age_secs: tls.hsts_max_age_secs,
        }))
    }

    /// The handshake step for the accept loop.
    pub fn acceptor(&self) -> TlsAcceptor {
        self.acceptor.clone()
    }

    /// The certificate resolver (to look at or swap the served certificate).
    pub fn resolver(&self) -> &Arc<CertResolver> {
        &self.resolver
    }

    /// The facts the HTTP layer needs, for a listener bound at `addr`.
    pub fn info(&self, addr: SocketAddr) -> TlsInfo {
        let ca = match &self.source {
            Source::SelfSigned { ca, .. } => Some(ca),
            Source::Files { .. } => None,
        };
        TlsInfo {
            mode: self.mode,
            addr,
            ca_pem: ca.map(|ca| ca.pem().to_owned()),
            ca_fingerprint: ca.map(|ca| ca.fingerprint()),
            hsts: (self.mode == TlsMode::Files && self.hsts_max_age_secs > 0)
                .then(|| format!("max-age={}", self.hsts_max_age_secs)),
        }
    }

    /// Keeps the certificate current until `shutdown`: in `self-signed` mode re-checks names and
    /// expiry every [`SELF_SIGNED_CHECK`] (with several instances under the `tls-renewal` lease
    /// of `jobs`, one instance at a time; when Redis fails the check waits for the next period),
    /// in `files` mode polls the files every [`FILES_POLL`] (no lease: reading is harmless).
    pub fn spawn_refresh(self, shutdown: CancellationToken, jobs: Jobs) -> JoinHandle<()> {
        tokio::spawn(async move {
            let Self {
                resolver, source, ..
            } = self;
            match source {
                Source::SelfSigned { ca, extra, names } => {
                    let mut names = Some(names);
                    loop {
                        tokio::select! {
                            () = shutdown.cancelled() => return,
                            () = tokio::time::sleep(SELF_SIGNED_CHECK) => {}
                        }
                        let mut leased = false;
                        for attempt in 0..RENEWAL_ATTEMPTS {
                            if attempt > 0 {
                                tokio::select! {
                                    () = shutdown.cancelled() => return,
                                    () = tokio::time::sleep(RENEWAL_RETRY) => {}
                                }
                            }
                            if jobs.try_acquire(Job::TlsRenewal, RENEWAL_LEASE).await {
                                leased = true;
                                break;
                            }
                        }
                        if !leased {
                            tracing::warn!(
                                "another instance held the certificate check lease throughout (or Redis failed); checking again at the next period"
                            );
                            continue;
                        }
                        let (ca, extra, known) = (ca.clone(), extra.clone(), names.clone());
                        let checked = tokio::task::spawn_blocking(move || {
                            refresh_self_signed(&ca, &extra, known.as_ref())
                        })
                        .await;
                        match checked {
                            Ok(Ok(Some((cert, now_names)))) => {
                                resolver.set(cert);
                                names = Some(now_names);
                            }
                            Ok(Ok(None)) => {}
                            Ok(Err(err)) => tracing::error!(
                                "cannot issue a new server certificate; keeping the current one: {err:#}"
                            ),
                            Err(err) => tracing::error!(error = %err, "certificate check failed"),
                        }
                        jobs.release(Job::TlsRenewal).await;
                    }
                }
                Source::Files {
                    cert_file,
                    key_file,
                    mut stamp,
                } => loop {
                    tokio::select! {
                        () = shutdown.cancelled() => return,
                        () = tokio::time::sleep(FILES_POLL) => {}
                    }
                    let now = FileStamp::of(&cert_file, &key_file);
                    if now == stamp {
                        continue;
                    }
                    stamp = now;
                    match load_files(&cert_file, &key_file) {
                        Ok(cert) => {
                            resolver.set(cert);
                            tracing::info!(cert_file = %cert_file.display(), "reloaded the TLS certificate");
                        }
                        Err(err) => tracing::error!(
                            cert_file = %cert_file.display(),
                            "the changed TLS certificate files cannot be used; keeping the previous certificate: {err:#}"
                        ),
                    }
                },
            }
        })
    }
}

/// Checks the self-signed server certificate against this machine's names now; returns the
/// certificate to serve and its names when it is new or differs from `known` (`None`: keep
/// serving the current one).
fn refresh_self_signed(
    ca: &ca::LocalCa,
    extra: &[String],
    known: Option<&std::collections::BTreeSet<String>>,
) -> anyhow::Result<Option<(Arc<CertifiedKey>, std::collections::BTreeSet<String>)>> {
    let hostname = ca::hostname();
    let wanted = ca::wanted_names(hostname.as_deref(), &ca::interface_addrs(), extra);
    let now = time::OffsetDateTime::now_utc().unix_timestamp();
    let (cert, reason) = ca.server_cert(&wanted, now)?;
    if let Some(reason) = &reason {
        tracing::info!(%reason, names = ?cert.names, "issued a new server certificate");
    }
    Ok((reason.is_some() || known.is_none()).then_some((cert.certified, cert.names)))
}

/// Loads the operator's chain and key. Errors name the file.
fn load_files(cert_file: &Path, key_file: &Path) -> anyhow::Result<Arc<CertifiedKey>> {
    let chain = std::fs::read(cert_file)
        .with_context(|| format!("reading [tls] cert_file {}", cert_file.display()))?;
    let key = std::fs::read(key_file)
        .with_context(|| format!("reading [tls] key_file {}", key_file.display()))?;
    let (cert, stored) = ca::certified_key(&chain, &key).with_context(|| {
        format!(
            "[tls] cert_file {} and key_file {}",
            cert_file.display(),
            key_file.display()
        )
    })?;
    if stored.not_after < time::OffsetDateTime::now_utc().unix_timestamp() {
        tracing::warn!(cert_file = %cert_file.display(), "the TLS certificate has expired");
    }
    Ok(cert)
}

/// Modification time and length of the two files (`None` when unreadable): a change of either
/// triggers a reload.
#[derive(Debug, Clone, PartialEq, Eq)]
struct FileStamp([Option<(SystemTime, u64)>; 2]);

impl FileStamp {
    fn of(cert_file: &Path, key_file: &Path) -> Self {
        let stamp = |p: &Path| {
            std::fs::metadata(p)
                .ok()
                .and_then(|m| Some((m.modified().ok()?, m.len())))
        };
        Self([stamp(cert_file), stamp(key_file)])
    }
}

/// The host of `public_url`, when it is set: its certificate should cover it.
fn public_host(config: &Config) -> Option<String> {
    let url = url::Url::parse(config.public_url.as_deref()?).ok()?;
    match url.host()? {
        url::Host::Domain(d) => Some(d.to_owned()),
        url::Host::Ipv4(ip) => Some(ip.to_string()),
        url::Host::Ipv6(ip) => Some(ip.to_string()),
    }
}
