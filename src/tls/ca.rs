//! The local certificate authority of `self-signed` mode, in `<data_dir>/tls/`:
//!
//! | File | What | Mode |
//! |---|---|---|
//! | `ca.key` | the CA's ECDSA P-256 private key (PKCS#8 PEM) | 0600 |
//! | `ca.crt` | the CA certificate (PEM), valid [`CA_VALIDITY_DAYS`] | 0644 |
//! | `server.key` | the server certificate's ECDSA P-256 key (PKCS#8 PEM) | 0600 |
//! | `server.crt` | the server certificate (PEM), signed by the CA, valid [`SERVER_VALIDITY_DAYS`] | 0644 |
//!
//! The CA is made once and kept: it is what people trust. The server certificate is issued again
//! (with a new key) when it is missing or unreadable, when it was not issued by this CA, when it
//! expires within [`RENEW_BEFORE_DAYS`], or when the names it should cover changed (an interface
//! address came or went, the host was renamed). Certificates follow RFC 5280: the CA has
//! `basicConstraints cA=TRUE, pathLen=0` and `keyCertSign`; the server certificate has the
//! `serverAuth` extended key usage and its names only in `subjectAltName`.

use std::{
    collections::BTreeSet,
    fs,
    io::Write,
    net::IpAddr,
    path::{Path, PathBuf},
    sync::Arc,
};

use anyhow::Context;
use rcgen::{
    BasicConstraints, CertificateParams, DistinguishedName, DnType, ExtendedKeyUsagePurpose, IsCa,
    Issuer, KeyPair, KeyUsagePurpose, PKCS_ECDSA_P256_SHA256, SanType,
};
use rustls::pki_types::{CertificateDer, PrivateKeyDer, pem::PemObject};
use sha2::{Digest, Sha256};
use time::{Duration, OffsetDateTime};

/// Lifetime of the local CA: 3650 days (about ten years).
pub const CA_VALIDITY_DAYS: i64 = 3650;
/// Lifetime of a server certificate: 90 days, well under the 398 days browsers accept.
pub const SERVER_VALIDITY_DAYS: i64 = 90;
/// A server certificate is issued again this many days before it expires: 30.
pub const RENEW_BEFORE_DAYS: i64 = 30;

/// The local CA, loaded from or created in its folder.
pub struct LocalCa {
    dir: PathBuf,
    issuer: Issuer<'static, KeyPair>,
    pem: String,
    der: CertificateDer<'static>,
    /// The CA certificate's subject (raw DER), to recognise certificates it issued.
    subject: Vec<u8>,
    not_after: i64,
}

/// A server certificate and key issued by the CA, as PEM and as what rustls serves.
pub struct ServerCert {
    /// The certificate chain (leaf only) and key, ready for rustls.
    pub certified: Arc<rustls::sign::CertifiedKey>,
    /// Names in the certificate (DNS names lower case, IP addresses in Rust's notation).
    pub names: BTreeSet<String>,
    /// Expiry, Unix seconds.
    pub not_after: i64,
}

/// Why a server certificate is issued again.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Reissue {
    /// There is none yet.
    Missing,
    /// The stored files cannot be read or parsed, or the key does not match (the reason).
    Unusable(String),
    /// It was not issued by the current CA.
    OtherIssuer,
    /// It expires within [`RENEW_BEFORE_DAYS`] (expiry in Unix seconds).
    Expiring(i64),
    /// The names it should cover are not the ones it has.
    NamesChanged,
}

impl std::fmt::Display for Reissue {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Self::Missing => f.write_str("no server certificate yet"),
            Self::Unusable(why) => write!(f, "the stored server certificate is unusable: {why}"),
            Self::OtherIssuer => f.write_str("the server certificate was issued by another CA"),
            Self::Expiring(at) => write!(
                f,
                "the server certificate expires within {RENEW_BEFORE_DAYS} days (at {})",
                unix_to_rfc3339(*at)
            ),
            Self::NamesChanged => f.write_str("the host's names or addresses changed"),
        }
    }
}

/// What a stored server certificate says, as far as the re-issue decision needs it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct StoredCert {
    /// Raw DER of the issuer name.
    pub issuer: Vec<u8>,
    /// Expiry, Unix seconds.
    pub not_after: i64,
    /// Its subjectAltName entries, normalised like [`wanted_names`].
    pub names: BTreeSet<String>,
}

/// Whether (and why) the server certificate must be issued again, at `now` (Unix seconds), for a
/// CA whose subject is `ca_subject` and the names `wanted`. `None`: keep it.
pub fn reissue_reason(
    stored: &StoredCert,
    ca_subject: &[u8],
    wanted: &BTreeSet<String>,
    now: i64,
) -> Option<Reissue> {
    if stored.issuer != ca_subject {
        Some(Reissue::OtherIssuer)
    } else if stored.not_after - now < RENEW_BEFORE_DAYS * 86_400 {
        Some(Reissue::Expiring(stored.not_after))
    } else if &stored.names != wanted {
        Some(Reissue::NamesChanged)
    } else {
        None
    }
}

/// The names the server certificate should cover: `localhost`, `127.0.0.1`, `::1`, the host name
/// and `<short host name>.local` (when the host name is a valid DNS name), every address in
/// `addrs` that is not loopback or IPv6 link-local, and `extra` (config `[tls] names` and the host
/// of `public_url`). DNS names are lower-cased; IP addresses are written the way Rust prints them.
pub fn wanted_names(
    hostname: Option<&str>,
    addrs: &[IpAddr],
    extra: &[String],
) -> BTreeSet<String> {
    let mut names = BTreeSet::from([
        "localhost".to_owned(),
        "127.0.0.1".to_owned(),
        "::1".to_owned(),
    ]);
    if let Some(host) = hostname.map(str::to_ascii_lowercase)
        && is_dns_name(&host)
    {
        let short = host.split('.').next().unwrap_or(&host).to_owned();
        names.insert(format!("{short}.local"));
        names.insert(host);
    }
    for ip in addrs {
        let link_local_v6 = matches!(ip, IpAddr::V6(v6) if v6.segments()[0] & 0xffc0 == 0xfe80);
        if !ip.is_loopback() && !ip.is_unspecified() && !link_local_v6 {
            names.insert(ip.to_string());
        }
    }
    for name in extra {
        if let Some(name) = normalise_name(name) {
            names.insert(name);
        }
    }
    names
}

/// A name as it is stored: an IP address in canonical form, or a lower-case DNS name. `None` when
/// it is neither.
pub fn normalise_name(name: &str) -> Option<String> {
    let name = name.trim().trim_start_matches('[').trim_end_matches(']');
    if let Ok(ip) = name.parse::<IpAddr>() {
        return Some(ip.to_string());
    }
    let lower = name.to_ascii_lowercase();
    is_dns_name(&lower).then_some(lower)
}

/// Letters, digits and hyphens in dot-separated labels of 1–63 characters, 253 in all; a leading
/// `*.` wildcard is allowed.
fn is_dns_name(name: &str) -> bool {
    let body = name.strip_prefix("*.").unwrap_or(name);
    !body.is_empty()
        && name.len() <= 253
        && body.split('.').all(|label| {
            !label.is_empty()
                && label.len() <= 63
                && !label.starts_with('-')
                && !label.ends_with('-')
                && label
                    .bytes()
                    .all(|b| b.is_ascii_alphanumeric() || b == b'-')
        })
}

/// The host name of this machine, if the OS tells it and it is valid UTF-8.
pub fn hostname() -> Option<String> {
    hostname::get()
        .ok()
        .and_then(|h| h.into_string().ok())
        .filter(|h| !h.is_empty())
}

/// The addresses of this machine's network interfaces (loopback included; [`wanted_names`]
/// drops it). An error reading them is logged and gives the empty list.
pub fn interface_addrs() -> Vec<IpAddr> {
    match if_addrs::get_if_addrs() {
        Ok(interfaces) => interfaces.iter().map(|i| i.ip()).collect(),
        Err(err) => {
            tracing::warn!(error = %err, "cannot list the network interfaces; the server certificate covers only localhost and the host name");
            Vec::new()
        }
    }
}

/// `AB:CD:…`: the SHA-256 of `der`, upper-case hex bytes joined by colons (how browsers and
/// `openssl x509 -fingerprint -sha256` show certificate fingerprints).
pub fn fingerprint_sha256(der: &[u8]) -> String {
    Sha256::digest(der)
        .iter()
        .map(|b| format!("{b:02X}"))
        .collect::<Vec<_>>()
        .join(":")
}

impl LocalCa {
    /// Loads the CA from `dir` (`ca.key`, `ca.crt`), or creates the folder (0700) and a new CA
    /// named "EchoChat local CA (<hostname>)". Errors name the path: a folder that cannot be
    /// created or written (for example because a file of that name is in the way), or CA files
    /// that cannot be read or parsed (only one of the two present counts as damaged: the other is
    /// never silently replaced).
    pub fn load_or_create(dir: &Path, hostname: Option<&str>) -> anyhow::Result<Self> {
        crate::secrets::create_private_dir(dir).with_context(|| {
            format!(
                "the TLS certificate directory {} cannot be used (fix it, or set [tls] mode = \"off\")",
                dir.display()
            )
        })?;
        let key_path = dir.join("ca.key");
        let crt_path = dir.join("ca.crt");
        match (key_path.exists(), crt_path.exists()) {
            (true, true) => Self::load(dir, &key_path, &crt_path),
            (false, false) => Self::create(dir, hostname),
            (true, false) | (false, true) => anyhow::bail!(
                "{} holds only one of ca.key and ca.crt: restore the missing file, or delete both to \
                 make a new local CA (which every device must then trust again)",
                dir.display()
            ),
        }
    }

    fn load(dir: &Path, key_path: &Path, crt_path: &Path) -> anyhow::Result<Self> {
        let key_pem = fs::read_to_string(key_path)
            .with_context(|| format!("reading {}", key_path.display()))?;
        let key = KeyPair::from_pem(&key_pem)
            .with_context(|| format!("{} is not a PEM private key", key_path.display()))?;
        let pem = fs::read_to_string(crt_path)
            .with_context(|| format!("reading {}", crt_path.display()))?;
        let der = CertificateDer::from_pem_slice(pem.as_bytes())
            .with_context(|| format!("{} is not a PEM certificate", crt_path.display()))?;
        let (subject, not_after) = {
            let (_, cert) = x509_parser::parse_x509_certificate(&der)
                .with_context(|| format!("{} is not an X.509 certificate", crt_path.display()))?;
            (
                cert.subject().as_raw().to_vec(),
                cert.validity().not_after.timestamp(),
            )
        };
        let issuer = Issuer::from_ca_cert_der(&der, key)
            .with_context(|| format!("{} cannot sign certificates", crt_path.display()))?;
        if not_after < OffsetDateTime::now_utc().unix_timestamp() {
            tracing::warn!(path = %crt_path.display(), "the local CA has expired: delete the tls folder to make a new one, and trust the new one on every device");
        }
        Ok(Self {
            dir: dir.to_path_buf(),
            issuer,
            pem,
            der,
            subject,
            not_after,
        })
    }

    fn create(dir: &Path, hostname: Option<&str>) -> anyhow::Result<Self> {
        let key =
            KeyPair::generate_for(&PKCS_ECDSA_P256_SHA256).context("generating the CA key")?;
        let now = OffsetDateTime::now_utc();
        let mut params = CertificateParams::default();
        let mut name = DistinguishedName::new();
        name.push(
            DnType::CommonName,
            format!("EchoChat local CA ({})", hostname.unwrap_or("unknown host")),
        );
        name.push(DnType::OrganizationName, "EchoChat");
        params.distinguished_name = name;
        params.is_ca = IsCa::Ca(BasicConstraints::Constrained(0));
        params.key_usages = vec![
            KeyUsagePurpose::KeyCertSign,
            KeyUsagePurpose::CrlSign,
            KeyUsagePurpose::DigitalSignature,
        ];
        params.not_before = now - Duration::days(1);
        params.not_after = now + Duration::days(CA_VALIDITY_DAYS);
        let cert = params
            .self_signed(&key)
            .context("signing the CA certificate")?;
        write_file(&dir.join("ca.key"), key.serialize_pem().as_bytes(), true)?;
        write_file(&dir.join("ca.crt"), cert.pem().as_bytes(), false)?;
        tracing::info!(path = %dir.display(), "created a new local certificate authority");
        Self::load(dir, &dir.join("ca.key"), &dir.join("ca.crt"))
    }

    /// The CA certificate, PEM.
    pub fn pem(&self) -> &str {
        &self.pem
    }

    /// The CA certificate, DER.
    pub fn der(&self) -> &CertificateDer<'static> {
        &self.der
    }

    /// The CA certificate's SHA-256 fingerprint, `AB:CD:…` ([`fingerprint_sha256`]).
    pub fn fingerprint(&self) -> String {
        fingerprint_sha256(&self.der)
    }

    /// The stored server certificate if it is still good for `wanted` at `now` (Unix seconds),
    /// else a new one (written to `server.key`/`server.crt` first), with the reason it was issued.
    /// Errors: the new files cannot be written (the message names them), signing failed.
    pub fn server_cert(
        &self,
        wanted: &BTreeSet<String>,
        now: i64,
    ) -> anyhow::Result<(ServerCert, Option<Reissue>)> {
        let reason = match self.stored_server_cert() {
            Ok(None) => Some(Reissue::Missing),
            Err(err) => Some(Reissue::Unusable(format!("{err:#}"))),
            Ok(Some((stored, cert))) => match reissue_reason(&stored, &self.subject, wanted, now) {
                None => return Ok((cert, None)),
                reason => reason,
            },
        };
        Ok((self.issue(wanted, now)?, reason))
    }

    fn server_paths(&self) -> (PathBuf, PathBuf) {
        (self.dir.join("server.key"), self.dir.join("server.crt"))
    }

    fn stored_server_cert(&self) -> anyhow::Result<Option<(StoredCert, ServerCert)>> {
        let (key_path, crt_path) = self.server_paths();
        if !key_path.exists() || !crt_path.exists() {
            return Ok(None);
        }
        let crt = fs::read(&crt_path).with_context(|| format!("reading {}", crt_path.display()))?;
        let key = fs::read(&key_path).with_context(|| format!("reading {}", key_path.display()))?;
        let (certified, stored) = certified_key(&crt, &key)?;
        let cert = ServerCert {
            certified,
            names: stored.names.clone(),
            not_after: stored.not_after,
        };
        Ok(Some((stored, cert)))
    }

    fn issue(&self, names: &BTreeSet<String>, now: i64) -> anyhow::Result<ServerCert> {
        let key =
            KeyPair::generate_for(&PKCS_ECDSA_P256_SHA256).context("generating the server key")?;
        let now = OffsetDateTime::from_unix_timestamp(now).context("the clock is out of range")?;
        let mut params = CertificateParams::default();
        let mut dn = DistinguishedName::new();
        dn.push(DnType::CommonName, "EchoChat server");
        dn.push(DnType::OrganizationName, "EchoChat");
        params.distinguished_name = dn;
        params.subject_alt_names = names
            .iter()
            .map(|name| match name.parse::<IpAddr>() {
                Ok(ip) => Ok(SanType::IpAddress(ip)),
                Err(_) => Ok(SanType::DnsName(name.as_str().try_into()?)),
            })
            .collect::<Result<_, rcgen::Error>>()
            .context("a certificate name is not valid")?;
        params.key_usages = vec![KeyUsagePurpose::DigitalSignature];
        params.extended_key_usages = vec![ExtendedKeyUsagePurpose::ServerAuth];
        params.use_authority_key_identifier_extension = true;
        params.not_before = now - Duration::hours(1);
        let ca_end = OffsetDateTime::from_unix_timestamp(self.not_after).unwrap_or(now);
        params.not_after = (now + Duration::days(SERVER_VALIDITY_DAYS)).min(ca_end);
        let cert = params
            .signed_by(&key, &self.issuer)
            .context("signing the server certificate")?;
        let (key_path, crt_path) = self.server_paths();
        write_file(&key_path, key.serialize_pem().as_bytes(), true)?;
        write_file(&crt_path, cert.pem().as_bytes(), false)?;
        let (certified, stored) =
            certified_key(cert.pem().as_bytes(), key.serialize_pem().as_bytes())?;
        Ok(ServerCert {
            certified,
            names: stored.names,
            not_after: stored.not_after,
        })
    }
}

/// Parses a PEM certificate chain (leaf first) and a PEM private key into what rustls serves, and
/// reads the leaf's issuer, expiry and names. Errors: no certificate, no or unsupported key, a
/// key that does not belong to the leaf, a leaf that is not X.509.
pub fn certified_key(
    chain_pem: &[u8],
    key_pem: &[u8],
) -> anyhow::Result<(Arc<rustls::sign::CertifiedKey>, StoredCert)> {
    let chain = CertificateDer::pem_slice_iter(chain_pem)
        .collect::<Result<Vec<_>, _>>()
        .context("the certificate file is not PEM")?;
    let leaf = chain
        .first()
        .context("the certificate file holds no certificate")?;
    let stored = describe(leaf)?;
    let key =
        PrivateKeyDer::from_pem_slice(key_pem).context("the key file holds no PEM private key")?;
    let provider = rustls::crypto::aws_lc_rs::default_provider();
    let certified = rustls::sign::CertifiedKey::from_der(chain, key, &provider)
        .context("the private key cannot be used with the certificate")?;
    Ok((Arc::new(certified), stored))
}

/// Issuer, expiry and subjectAltName entries of a DER certificate.
pub fn describe(der: &[u8]) -> anyhow::Result<StoredCert> {
    use x509_parser::extensions::GeneralName;
    let (_, cert) = x509_parser::parse_x509_certificate(der).context("not an X.509 certificate")?;
    let mut names = BTreeSet::new();
    if let Some(san) = cert
        .subject_alternative_name()
        .context("invalid subjectAltName")?
    {
        for name in &san.value.general_names {
            match name {
                GeneralName::DNSName(dns) => {
                    names.insert(dns.to_ascii_lowercase());
                }
                GeneralName::IPAddress(bytes) => {
                    let ip = match bytes.len() {
                        4 => <[u8; 4]>::try_from(*bytes).ok().map(IpAddr::from),
                        16 => <[u8; 16]>::try_from(*bytes).ok().map(IpAddr::from),
                        _ => None,
                    };
                    if let Some(ip) = ip {
                        names.insert(ip.to_string());
                    }
                }
                _ => {}
            }
        }
    }
    Ok(StoredCert {
        issuer: cert.issuer().as_raw().to_vec(),
        not_after: cert.validity().not_after.timestamp(),
        names,
    })
}

/// Writes `bytes` to `path` through a temporary file and a rename, so a reader never sees half a
/// file; `private` files get mode 0600 (on Unix), others 0644. Errors name the path.
fn write_file(path: &Path, bytes: &[u8], private: bool) -> anyhow::Result<()> {
    let tmp = path.with_extension("tmp");
    let _ = fs::remove_file(&tmp);
    let mut options = fs::OpenOptions::new();
    options.write(true).create_new(true);
    #[cfg(unix)]
    {
        use std::os::unix::fs::OpenOptionsExt;
        options.mode(if private { 0o600 } else { 0o644 });
    }
    #[cfg(not(unix))]
    let _ = private;
    let mut file = options
        .open(&tmp)
        .with_context(|| format!("cannot write {} (is the folder writable?)", tmp.display()))?;
    file.write_all(bytes)
        .and_then(|()| file.sync_all())
        .with_context(|| format!("writing {}", tmp.display()))?;
    fs::rename(&tmp, path)
        .with_context(|| format!("replacing {} with {}", path.display(), tmp.display()))?;
    Ok(())
}

/// Unix seconds as RFC 3339 (for messages).
fn unix_to_rfc3339(secs: i64) -> String {
    chrono::DateTime::from_timestamp(secs, 0)
        .map(|t| t.to_rfc3339())
        .unwrap_or_else(|| secs.to_string())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn names(list: &[&str]) -> BTreeSet<String> {
        list.iter().map(|s| (*s).to_owned()).collect()
    }

    #[test]
    fn the_wanted_names_cover_loopback_the_host_and_its_addresses() {
        let addrs: Vec<IpAddr> = ["127.0.0.1", "192.168.1.20", "::1", "fe80::1", "2001:db8::5"]
            .iter()
            .map(|a| a.parse().expect("ip"))
            .collect();
        let got = wanted_names(
            Some("Chat-Box.lan"),
            &addrs,
            &["Echo.Example".into(), "bad name".into()],
        );
        assert_eq!(
            got,
            names(&[
                "127.0.0.1",
                "192.168.1.20",
                "2001:db8::5",
                "::1",
                "chat-box.lan",
                "chat-box.local",
                "echo.example",
                "localhost",
            ])
        );
        assert_eq!(
            wanted_names(Some("not a name"), &[], &[]),
            names(&["127.0.0.1", "::1", "localhost"])
        );
    }

    #[test]
    fn the_certificate_is_issued_again_when_expiring_renamed_or_from_another_ca() {
        let wanted = names(&["localhost", "127.0.0.1"]);
        let day = 86_400;
        let now = 1_000_000_000;
        let good = StoredCert {
            issuer: b"ca".to_vec(),
            not_after: now + 60 * day,
            names: wanted.clone(),
        };
        assert_eq!(reissue_reason(&good, b"ca", &wanted, now), None);
        let expiring = StoredCert {
            not_after: now + 10 * day,
            ..good.clone()
        };
        assert_eq!(
            reissue_reason(&expiring, b"ca", &wanted, now),
            Some(Reissue::Expiring(now + 10 * day))
        );
        assert_eq!(
            reissue_reason(&good, b"ca", &names(&["localhost"]), now),
            Some(Reissue::NamesChanged)
        );
        assert_eq!(
            reissue_reason(&good, b"other", &wanted, now),
            Some(Reissue::OtherIssuer)
        );
    }

    #[test]
    fn a_ca_signs_a_server_certificate_with_the_wanted_names() {
        let dir = tempfile_dir();
        let ca = LocalCa::load_or_create(&dir, Some("box")).expect("CA");
        let wanted = wanted_names(Some("box"), &[], &[]);
        let now = OffsetDateTime::now_utc().unix_timestamp();
        let (cert, reason) = ca.server_cert(&wanted, now).expect("issued");
        assert_eq!(reason, Some(Reissue::Missing));
        assert_eq!(cert.names, wanted);
        let (again, reason) = ca.server_cert(&wanted, now).expect("kept");
        assert_eq!(reason, None);
        assert_eq!(again.certified.cert, cert.certified.cert);
        let _ = fs::remove_dir_all(&dir);
    }

    fn tempfile_dir() -> PathBuf {
        std::env::temp_dir().join(format!(
            "echochat-ca-test-{}",
            uuid::Uuid::new_v4().simple()
        ))
    }
}
