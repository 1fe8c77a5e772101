//! The browser session cookies: HttpOnly, SameSite, Secure when the public URL is HTTPS.

use std::time::Duration;

use poem::web::cookie::{Cookie, CookieJar, SameSite};

use super::security::{ACCESS_COOKIE, REFRESH_COOKIE};
use crate::{config::Config, service::Session};

/// Path the refresh cookie is sent to (only the auth endpoints ever see it).
const REFRESH_PATH: &str = "/api/v1/auth";

fn cookie(
    config: &Config,
    name: &str,
    value: &str,
    path: &str,
    same_site: SameSite,
    max_age: Duration,
) -> Cookie {
    let mut c = Cookie::new_with_str(name, value);
    c.set_http_only(true);
    c.set_path(path);
    c.set_same_site(same_site);
    c.set_max_age(max_age);
    c.set_secure(
        config
            .public_url
            .as_deref()
            .is_some_and(|u| u.starts_with("https://")),
    );
    c
}

/// Sets both cookies for a new or refreshed session.
pub fn set_session(jar: &CookieJar, config: &Config, session: &Session) {
    jar.add(cookie(
        config,
        ACCESS_COOKIE,
        &session.access_token,
        "/",
        SameSite::Lax,
        Duration::from_secs(session.expires_in),
    ));
    jar.add(cookie(
        config,
        REFRESH_COOKIE,
        &session.refresh_token,
        REFRESH_PATH,
        SameSite::Strict,
        Duration::from_secs(session.refresh_expires_in),
    ));
}

/// Expires both cookies.
pub fn clear_session(jar: &CookieJar, config: &Config) {
    jar.add(cookie(
        config,
        ACCESS_COOKIE,
        "",
        "/",
        SameSite::Lax,
        Duration::ZERO,
    ));
    jar.add(cookie(
        config,
        REFRESH_COOKIE,
        "",
        REFRESH_PATH,
        SameSite::Strict,
        Duration::ZERO,
    ));
}
