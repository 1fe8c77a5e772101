//! The embedded web client (`assets/`, compiled into the binary with rust-embed).

use poem::{
    Route,
    endpoint::{EmbeddedFileEndpoint, EmbeddedFilesEndpoint},
};
use rust_embed::RustEmbed;

/// Files under `assets/`.
#[derive(RustEmbed)]
#[folder = "assets/"]
pub struct Assets;

/// Pages (`/`, `/login`, `/register`, `/setup`, `/ca`, `/forgot-password`, `/reset-password`,
/// `/verify-email`) and static files under `/static/`.
pub fn routes(route: Route) -> Route {
    route
        .at("/", EmbeddedFileEndpoint::<Assets>::new("index.html"))
        .at("/login", EmbeddedFileEndpoint::<Assets>::new("login.html"))
        .at(
            "/register",
            EmbeddedFileEndpoint::<Assets>::new("register.html"),
        )
        .at("/setup", EmbeddedFileEndpoint::<Assets>::new("setup.html"))
        .at("/ca", EmbeddedFileEndpoint::<Assets>::new("ca.html"))
        .at(
            "/forgot-password",
            EmbeddedFileEndpoint::<Assets>::new("forgot-password.html"),
        )
        .at(
            "/reset-password",
            EmbeddedFileEndpoint::<Assets>::new("reset-password.html"),
        )
        .at(
            "/verify-email",
            EmbeddedFileEndpoint::<Assets>::new("verify-email.html"),
        )
        .at(
            "/favicon.ico",
            EmbeddedFileEndpoint::<Assets>::new("favicon.svg"),
        )
        .nest("/static", EmbeddedFilesEndpoint::<Assets>::new())
}
