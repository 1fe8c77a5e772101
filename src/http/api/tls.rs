//! `GET /server/tls`: how to reach this server over HTTPS, for the web client's banner and the
//! `/ca` page. Public: it tells nothing a TLS handshake would not.

use poem::{Request, web::Data};
use poem_openapi::{Enum, Object, OpenApi, payload::Json};

use super::ApiTags;
use crate::{config::TlsMode, state::AppState};

/// Where the HTTPS certificate comes from (`[tls] mode`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Enum)]
pub enum TlsModeView {
    /// EchoChat's local CA signs the certificate; trust the CA (see `/ca`).
    #[oai(rename = "self-signed")]
    SelfSigned,
    /// The operator's certificate files (usually from a public CA).
    #[oai(rename = "files")]
    Files,
    /// No HTTPS listener.
    #[oai(rename = "off")]
    Off,
}

impl From<TlsMode> for TlsModeView {
    fn from(mode: TlsMode) -> Self {
        match mode {
            TlsMode::SelfSigned => Self::SelfSigned,
            TlsMode::Files => Self::Files,
            TlsMode::Off => Self::Off,
        }
    }
}

/// How to reach this server over HTTPS.
#[derive(Debug, Object)]
#[oai(skip_serializing_if_is_none)]
pub struct TlsStatus {
    /// `self-signed`, `files` or `off`.
    pub mode: TlsModeView,
    /// Port of the HTTPS listener (absent when `off`).
    pub https_port: Option<u16>,
    /// The HTTPS address for the host this request named: `public_url` when it is HTTPS, else
    /// `https://<Host header's host>:<https_port>/` (absent when `off`).
    pub https_url: Option<String>,
    /// SHA-256 fingerprint of the local CA certificate, upper-case hex bytes joined by colons
    /// (`self-signed` only): compare it with the one the server printed at start.
    pub ca_fingerprint_sha256: Option<String>,
}

/// HTTPS facts.
pub struct TlsApi;

#[OpenApi(tag = "ApiTags::Health")]
impl TlsApi {
    /// How to reach this server over HTTPS: the mode, the port and URL, and the local CA's
    /// fingerprint. Public.
    #[oai(path = "/server/tls", method = "get", operation_id = "get_server_tls")]
    async fn server_tls(&self, req: &Request, state: Data<&AppState>) -> Json<TlsStatus> {
        let Some(tls) = &state.tls else {
            return Json(TlsStatus {
                mode: TlsModeView::Off,
                https_port: None,
                https_url: None,
                ca_fingerprint_sha256: None,
            });
        };
        let port = tls.addr.port();
        let https_url = match state.config.public_url.as_deref() {
            Some(url) if url.starts_with("https://") => format!("{}/", url.trim_end_matches('/')),
            _ => {
                let host = crate::http::security::request_host(req)
                    .and_then(|h| url::Url::parse(&format!("http://{h}")).ok())
                    .and_then(|u| u.host_str().map(str::to_owned))
                    .unwrap_or_else(|| "localhost".to_owned());
                format!("https://{host}:{port}/")
            }
        };
        Json(TlsStatus {
            mode: tls.mode.into(),
            https_port: Some(port),
            https_url: Some(https_url),
            ca_fingerprint_sha256: tls.ca_fingerprint.clone(),
        })
    }
}
