//! Authentication of REST calls: `Authorization: Bearer <JWT>` (API clients) or the HttpOnly
//! `echochat_access` cookie (browsers; `__Host-echochat_access` on the wire over HTTPS, renamed
//! by `cookies::translate`). Cookie-authenticated state-changing requests must carry an
//! `Origin` that is the server's own (CSRF defence; OWASP "Verifying Origin With Standard Headers").

use std::net::IpAddr;

use poem::{
    Request,
    http::{Method, uri::Scheme},
};
use poem_openapi::{
    SecurityScheme,
    auth::{ApiKey, Bearer},
};

use super::error::ApiError;
use crate::{
    config::Config,
    domain::{Actor, DomainError, ErrorCode, SessionEndReason},
    service::ClientInfo,
    state::AppState,
};

/// Name of the access-token cookie.
pub const ACCESS_COOKIE: &str = "echochat_access";
/// Name of the refresh-token cookie.
pub const REFRESH_COOKIE: &str = "echochat_refresh";

/// Whether the request came over this server's own TLS listener. The accept loop sets the scheme
/// (`http::server`); no client-sent header can change it.
pub fn is_https(req: &Request) -> bool {
    *req.scheme() == Scheme::HTTPS
}

/// The host (and port) the client addressed: the `Host` header (HTTP/1), else the URI's
/// authority (HTTP/2's `:authority`, which has no `Host` header).
pub fn request_host(req: &Request) -> Option<&str> {
    req.header("host")
        .or_else(|| req.uri().authority().map(|a| a.as_str()))
}

fn state(req: &Request) -> poem::Result<&AppState> {
    req.data::<AppState>()
        .ok_or_else(|| ApiError::from(DomainError::internal("state missing")).into())
}

/// The client's IP address: the TCP peer, or, when the peer is one of `trusted_proxies`, the
/// address the proxies forwarded: the last one in `X-Forwarded-For` that is not itself a trusted
/// proxy, or, when the request has no `X-Forwarded-For`, the same from the `for=` parameters of
/// RFC 7239 `Forwarded`. Obfuscated or `unknown` identifiers are skipped; with no usable address
/// the peer is used. From any other peer both headers are ignored (clients can write them).
pub fn client_ip(req: &Request, config: &Config) -> Option<IpAddr> {
    let peer = req.remote_addr().as_socket_addr().map(|a| a.ip())?;
    if !config.trusted_proxies.contains(&peer) {
        return Some(peer);
    }
    let values = |name: &str| -> Vec<&str> {
        req.headers()
            .get_all(name)
            .iter()
            .filter_map(|v| v.to_str().ok())
            .collect()
    };
    let xff = values("x-forwarded-for");
    let chain: Vec<Option<IpAddr>> = if xff.is_empty() {
        forwarded_for(&values("forwarded"))
    } else {
        xff.iter()
            .flat_map(|v| v.split(','))
            .map(|a| a.trim().parse::<IpAddr>().ok())
            .collect()
    };
    chain
        .into_iter()
        .rev()
        .flatten()
        .find(|ip| !config.trusted_proxies.contains(ip))
        .or(Some(peer))
}

/// The client's address and User-Agent, for a new session.
pub fn client_info(req: &Request, config: &Config) -> ClientInfo {
    ClientInfo {
        ip: client_ip(req, config),
        user_agent: req.header("user-agent").map(str::to_owned),
    }
}

/// The base URL of links in e-mails (`scheme://host[:port]`, no trailing slash): `public_url`
/// when set; else the request's `Host` when it cannot point elsewhere (`localhost` or an IP
/// address); else `localhost` with the request's port. A `Host` header is never trusted to
/// name another site: that would let anyone send a victim a reset link to their own server
/// ("password reset poisoning").
pub fn link_base(req: &Request, config: &Config) -> String {
    if let Some(url) = &config.public_url {
        return url.trim_end_matches('/').to_owned();
    }
    let scheme = if is_https(req) { "https" } else { "http" };
    let host = request_host(req).unwrap_or("localhost");
    let authority = host.parse::<poem::http::uri::Authority>().ok();
    let name = authority.as_ref().map_or("localhost", |a| a.host());
    let port = authority
        .as_ref()
        .and_then(|a| a.port_u16())
        .map_or_else(String::new, |p| format!(":{p}"));
    let literal = name.trim_start_matches('[').trim_end_matches(']');
    if name.eq_ignore_ascii_case("localhost") || literal.parse::<IpAddr>().is_ok() {
        format!("{scheme}://{name}{port}")
    } else {
        format!("{scheme}://localhost{port}")
    }
}

/// The `for=` addresses of RFC 7239 `Forwarded` header values, in order (one per forwarded
/// element; `None` for an element whose `for` is missing, `unknown`, obfuscated (`_hidden`) or
/// not an address). Accepts `for=192.0.2.60`, `for="192.0.2.60:8080"`,
/// `for="[2001:db8:cafe::17]:4711"` and `for="[2001:db8::1]"`, any case of `for`.
pub fn forwarded_for(values: &[&str]) -> Vec<Option<IpAddr>> {
    values
        .iter()
        .flat_map(|v| split_outside_quotes(v, ','))
        .map(|element| {
            split_outside_quotes(element, ';')
                .into_iter()
                .filter_map(|pair| pair.split_once('='))
                .find(|(key, _)| key.trim().eq_ignore_ascii_case("for"))
                .and_then(|(_, value)| node_ip(value.trim()))
        })
        .collect()
}

/// Splits `text` at `sep` where it is not inside a quoted string.
fn split_outside_quotes(text: &str, sep: char) -> Vec<&str> {
    let (mut parts, mut start, mut quoted, mut escaped) = (Vec::new(), 0, false, false);
    for (i, c) in text.char_indices() {
        match c {
            _ if escaped => escaped = false,
            '\\' if quoted => escaped = true,
            '"' => quoted = !quoted,
            c if c == sep && !quoted => {
                parts.push(&text[start..i]);
                start = i + c.len_utf8();
            }
            _ => {}
        }
    }
    parts.push(&text[start..]);
    parts
}

/// The IP of an RFC 7239 node (`192.0.2.1`, `"192.0.2.1:80"`, `"[2001:db8::1]:80"`), if it
/// is one.
fn node_ip(value: &str) -> Option<IpAddr> {
    let value = value
        .strip_prefix('"')
        .and_then(|v| v.strip_suffix('"'))
        .unwrap_or(value);
    if let Some(rest) = value.strip_prefix('[') {
        let (ip, _) = rest.split_once(']')?;
        return ip.parse::<std::net::Ipv6Addr>().ok().map(IpAddr::V6);
    }
    let host = value.split_once(':').map_or(value, |(host, _)| host);
    host.parse::<std::net::Ipv4Addr>().ok().map(IpAddr::V4)
}

/// Authenticates `token` and stamps the actor with the client's address.
async fn actor_of(req: &Request, state: &AppState, token: &str) -> Result<Actor, DomainError> {
    let mut actor = state.auth.authenticate(token).await?;
    actor.ip = client_ip(req, &state.config);
    if counts_as_activity(req) {
        state.sessions.touch(&actor);
    }
    Ok(actor)
}

/// Whether an authenticated request is the person doing something (idle logout): a
/// state-changing method, except the session plumbing a client does by itself (refresh, logout).
fn counts_as_activity(req: &Request) -> bool {
    let safe = matches!(*req.method(), Method::GET | Method::HEAD | Method::OPTIONS);
    let path = req.uri().path();
    !safe && !path.ends_with("/auth/refresh") && !path.ends_with("/auth/logout")
}

/// Bearer access token (RFC 6750).
#[derive(SecurityScheme)]
#[oai(ty = "bearer", bearer_format = "JWT", checker = "check_bearer")]
pub struct BearerAuth(Actor);

async fn check_bearer(req: &Request, bearer: Bearer) -> poem::Result<Actor> {
    let state = state(req)?;
    actor_of(req, state, &bearer.token).await.map_err(|e| {
        if let (DomainError::SessionEnded(reason), Some(slot)) =
            (&e, req.extensions().get::<BearerRefusal>())
        {
            slot.set(*reason);
        }
        ApiError::from(e).into()
    })
}

/// Access token in the `echochat_access` cookie (browsers).
#[derive(SecurityScheme)]
#[oai(
    ty = "api_key",
    key_name = "echochat_access",
    key_in = "cookie",
    checker = "check_cookie"
)]
pub struct CookieAuth(Actor);

async fn check_cookie(req: &Request, key: ApiKey) -> poem::Result<Actor> {
    let state = state(req)?;
    let safe = matches!(*req.method(), Method::GET | Method::HEAD | Method::OPTIONS);
    if !safe {
        require_own_origin(req, &state.config).map_err(ApiError::from)?;
    }
    actor_of(req, state, &key.key)
        .await
        .map_err(|e| ApiError::from(e).into())
}

/// Either way of authenticating; Bearer is tried first. When both fail, poem-openapi answers
/// with the last scheme's error (the cookie's); [`BearerRefusal`] lets the Bearer token's own
/// error (`session_ended` with its reason) reach an API client instead.
#[derive(SecurityScheme)]
pub enum Auth {
    /// `Authorization: Bearer`.
    Bearer(BearerAuth),
    /// `echochat_access` cookie.
    Cookie(CookieAuth),
}

/// A per-request slot where the Bearer checker leaves why it refused the token. The
/// `json_errors` middleware puts one in every request, and answers a 401 with the error found
/// there: the specific reason of the token the client actually sent.
#[derive(Clone, Default)]
pub struct BearerRefusal(std::sync::Arc<std::sync::Mutex<Option<SessionEndReason>>>);

impl BearerRefusal {
    fn set(&self, reason: SessionEndReason) {
        if let Ok(mut slot) = self.0.lock() {
            *slot = Some(reason);
        }
    }

    /// The Bearer token's refusal, if it was refused because its session ended.
    pub fn take(&self) -> Option<DomainError> {
        let reason = self.0.lock().ok().and_then(|mut slot| slot.take())?;
        Some(DomainError::SessionEnded(reason))
    }
}

impl Auth {
    /// The authenticated caller.
    pub fn actor(&self) -> &Actor {
        match self {
            Self::Bearer(b) => &b.0,
            Self::Cookie(c) => &c.0,
        }
    }
}

/// Refuses a request whose `Origin` is not this server. Errors: 403 `origin_mismatch`.
pub fn require_own_origin(req: &Request, config: &Config) -> Result<(), DomainError> {
    if origin_allowed(req, config) {
        Ok(())
    } else {
        Err(DomainError::forbidden(
            ErrorCode::OriginMismatch,
            "request Origin is not this server",
        ))
    }
}

/// Login CSRF defence for endpoints that take no cookie but set one or act on an account
/// (login, register, setup, password reset): a request that carries an `Origin` (every browser
/// POST does) must come from this server; API clients that send no `Origin` pass. Errors: 403
/// `origin_mismatch`.
pub fn require_own_origin_if_browser(req: &Request, config: &Config) -> Result<(), DomainError> {
    if req.header("origin").is_none() {
        Ok(())
    } else {
        require_own_origin(req, config)
    }
}

/// Whether the request's `Origin` is this server: `<scheme>://<host>` ([`request_host`]), where the scheme is
/// `https` for a request over this server's TLS listener, else `X-Forwarded-Proto` when a TLS
/// proxy sets it, else `http`; or `public_url`'s origin; or one of `allowed_origins`. A missing or `null` Origin fails.
/// Scheme, host and port must all match (RFC 6454 §5).
pub fn origin_allowed(req: &Request, config: &Config) -> bool {
    let Some(origin) = req.header("origin").map(|o| o.trim_end_matches('/')) else {
        return false;
    };
    let same = |allowed: &str| allowed.trim_end_matches('/').eq_ignore_ascii_case(origin);
    let scheme = if is_https(req) {
        "https"
    } else {
        req.header("x-forwarded-proto")
            .map(str::trim)
            .unwrap_or("http")
    };
    if let Some(host) = request_host(req)
        && same(&format!("{scheme}://{host}"))
    {
        return true;
    }
    config
        .public_url
        .as_deref()
        .is_some_and(|u| same(&origin_of(u)))
        || config.allowed_origins.iter().any(|o| same(o))
}

fn origin_of(url: &str) -> String {
    url::Url::parse(url)
        .map(|u| u.origin().ascii_serialization())
        .unwrap_or_else(|_| url.to_owned())
}

/// Authenticates a non-OpenAPI request (the WebSocket upgrade) the same way: Bearer header, else
/// cookie with the Origin check. Errors: 401 `unauthorized`, 403 `origin_mismatch`.
pub async fn authenticate_request(req: &Request, state: &AppState) -> Result<Actor, DomainError> {
    if let Some(token) = req
        .header("authorization")
        .and_then(|h| h.strip_prefix("Bearer "))
    {
        return actor_of(req, state, token.trim()).await;
    }
    let cookie = req
        .cookie()
        .get(ACCESS_COOKIE)
        .map(|c| c.value_str().to_owned());
    let Some(token) = cookie else {
        return Err(DomainError::unauthorized(
            ErrorCode::Unauthorized,
            "sign in first",
        ));
    };
    require_own_origin(req, &state.config)?;
    actor_of(req, state, &token).await
}

#[cfg(test)]
mod tests {
    use super::*;

    fn ip(text: &str) -> Option<IpAddr> {
        Some(text.parse().expect("ip"))
    }

    #[test]
    fn forwarded_for_reads_rfc_7239_nodes() {
        assert_eq!(forwarded_for(&["for=192.0.2.60"]), vec![ip("192.0.2.60")]);
        assert_eq!(
            forwarded_for(&[r#"For="[2001:db8:cafe::17]:4711""#]),
            vec![ip("2001:db8:cafe::17")]
        );
        assert_eq!(
            forwarded_for(&[r#"for=192.0.2.43, for="[2001:db8::1]";proto=http;by=203.0.113.43"#]),
            vec![ip("192.0.2.43"), ip("2001:db8::1")]
        );
        assert_eq!(
            forwarded_for(&["for=\"192.0.2.1:8080\";proto=https", "for=198.51.100.17"]),
            vec![ip("192.0.2.1"), ip("198.51.100.17")]
        );
        // Obfuscated, unknown, missing and malformed identifiers name no address.
        assert_eq!(
            forwarded_for(&["for=_hidden, for=unknown, proto=http, for=\"[::1\", for=1.2.3"]),
            vec![None, None, None, None, None]
        );
        // A quoted comma or semicolon does not split.
        assert_eq!(
            forwarded_for(&[r#"by="a,b;c";for=192.0.2.9"#]),
            vec![ip("192.0.2.9")]
        );
        // An IPv6 address needs brackets and quotes in RFC 7239; a bare one is not read.
        assert_eq!(forwarded_for(&["for=2001:db8::1"]), vec![None]);
    }
}
