//! The browser session cookies: HttpOnly and SameSite always; on HTTPS named with the `__Host-`
//! prefix and `Secure` (RFC 6265bis §4.1.3.2); on plain HTTP `Secure` when the public URL is
//! HTTPS (a TLS-terminating proxy in front).
//!
//! Over HTTPS both cookies are `__Host-echochat_access` and `__Host-echochat_refresh`. The
//! prefix makes the browser refuse such a cookie unless it is `Secure`, set from a secure origin,
//! has `Path=/` and no `Domain`: no other host (a sibling subdomain, a plain-HTTP page of this
//! host) can plant or overwrite it. `Path=/` is the price: the refresh cookie, `Path=/api/v1/auth`
//! on plain HTTP, is sent with every request to this origin over HTTPS (still HttpOnly and
//! `SameSite=Strict`). Inside the server the cookies keep their plain names: [`translate`]
//! renames the prefixed ones of an HTTPS request, and drops unprefixed ones there, before anything
//! reads them.

use std::time::Duration;

use poem::{
    Endpoint, IntoResponse, Request, Response,
    http::{HeaderValue, header},
    web::cookie::{Cookie, CookieJar, SameSite},
};

use super::security::{ACCESS_COOKIE, REFRESH_COOKIE, is_https};
use crate::{config::Config, service::Session};

/// Path the refresh cookie is sent to on plain HTTP (only the auth endpoints ever see it).
const REFRESH_PATH: &str = "/api/v1/auth";

/// Prefix of the cookie names on HTTPS.
pub const HOST_PREFIX: &str = "__Host-";

/// The name a session cookie has on the wire: `__Host-<name>` over HTTPS, `<name>` otherwise.
pub fn wire_name(name: &str, https: bool) -> String {
    if https {
        format!("{HOST_PREFIX}{name}")
    } else {
        name.to_owned()
    }
}

fn cookie(
    config: &Config,
    https: bool,
    name: &str,
    value: &str,
    path: &str,
    same_site: SameSite,
    max_age: Duration,
) -> Cookie {
    let mut c = Cookie::new_with_str(wire_name(name, https), value);
    c.set_http_only(true);
    // `__Host-` requires `Path=/`.
    c.set_path(if https { "/" } else { path });
    c.set_same_site(same_site);
    c.set_max_age(max_age);
    c.set_secure(
        https
            || config
                .public_url
                .as_deref()
                .is_some_and(|u| u.starts_with("https://")),
    );
    c
}

/// Sets both cookies for a new or refreshed session; `req` tells HTTPS from HTTP.
pub fn set_session(jar: &CookieJar, req: &Request, config: &Config, session: &Session) {
    let https = is_https(req);
    jar.add(cookie(
        config,
        https,
        ACCESS_COOKIE,
        &session.access_token,
        "/",
        SameSite::Lax,
        Duration::from_secs(session.expires_in),
    ));
    jar.add(cookie(
        config,
        https,
        REFRESH_COOKIE,
        &session.refresh_token,
        REFRESH_PATH,
        SameSite::Strict,
        Duration::from_secs(session.refresh_expires_in),
    ));
}

/// Expires both cookies.
pub fn clear_session(jar: &CookieJar, req: &Request, config: &Config) {
    let https = is_https(req);
    jar.add(cookie(
        config,
        https,
        ACCESS_COOKIE,
        "",
        "/",
        SameSite::Lax,
        Duration::ZERO,
    ));
    jar.add(cookie(
        config,
        https,
        REFRESH_COOKIE,
        "",
        REFRESH_PATH,
        SameSite::Strict,
        Duration::ZERO,
    ));
}

/// Middleware, outside the cookie jar: on an HTTPS request, the `Cookie` header keeps only the
/// `__Host-` session cookies, renamed to their plain names, so every reader (the `CookieAuth`
/// scheme, the WebSocket upgrade, refresh and logout) sees the one trustworthy value under one
/// name. Unprefixed session cookies are dropped there: any host in the domain, or a plain-HTTP
/// page, could have set them. Other cookies and plain-HTTP requests pass unchanged.
pub async fn translate<E: Endpoint>(next: E, mut req: Request) -> poem::Result<Response> {
    if is_https(&req) && req.headers().contains_key(header::COOKIE) {
        let pairs: Vec<String> = req
            .headers()
            .get_all(header::COOKIE)
            .iter()
            .filter_map(|v| v.to_str().ok())
            .flat_map(|v| v.split(';'))
            .map(str::trim)
            .filter(|pair| !pair.is_empty())
            .filter_map(|pair| {
                let name = pair.split_once('=').map_or(pair, |(n, _)| n).trim();
                let session = |n: &str| n == ACCESS_COOKIE || n == REFRESH_COOKIE;
                match name.strip_prefix(HOST_PREFIX) {
                    Some(plain) if session(plain) => Some(pair[HOST_PREFIX.len()..].to_owned()),
                    _ if session(name) => None,
                    _ => Some(pair.to_owned()),
                }
            })
            .collect();
        let headers = req.headers_mut();
        headers.remove(header::COOKIE);
        if !pairs.is_empty()
            && let Ok(value) = HeaderValue::from_str(&pairs.join("; "))
        {
            headers.insert(header::COOKIE, value);
        }
    }
    Ok(next.call(req).await?.into_response())
}
