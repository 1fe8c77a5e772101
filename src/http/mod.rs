//! HTTP: poem + poem-openapi only. Routes, the OpenAPI document, and middleware; `server` is the
//! accept loop that serves them through hyper (connection limits and timeouts).

pub mod api;
pub mod assets;
pub mod ca;
pub mod cookies;
pub mod error;
pub mod middleware;
pub mod security;
pub mod server;
pub mod spec;
pub mod ws;

use poem::{
    Endpoint, EndpointExt, Response, Route, endpoint::make_sync, get, middleware::CookieJarManager,
    web::Html,
};
use poem_openapi::OpenApiService;

use crate::{VERSION, state::AppState};

use api::Apis;

/// The OpenAPI service of the REST API, served under `/api/v1`.
pub fn openapi_service() -> OpenApiService<Apis, ()> {
    OpenApiService::new(api::apis(), "EchoChat", VERSION)
        .description(
            "REST API of EchoChat. Authenticate with `Authorization: Bearer <access_token>` or, in browsers, \
             the HttpOnly session cookies. Errors are `{\"code\", \"message\"}`; `code` is one of the \
             `ErrorCode` values. Lists are paged with an opaque `cursor` (`next_cursor` of the previous \
             page). Optional fields are left out when absent, never `null`. Realtime events use the \
             WebSocket at `/api/v1/ws`, described by the AsyncAPI document openapi/realtime.json.",
        )
        .license("BSD-2-Clause")
        .server("/api/v1")
}

/// The OpenAPI document as pretty JSON (what `echochat openapi` prints and openapi/openapi.json
/// holds), post-processed by [`spec::finish`].
pub fn openapi_json() -> String {
    published(&openapi_service().spec())
}

/// poem-openapi's document `raw`, post-processed and pretty-printed.
fn published(raw: &str) -> String {
    let mut doc: serde_json::Value = serde_json::from_str(raw).unwrap_or_default();
    spec::finish(&mut doc);
    serde_json::to_string_pretty(&doc).unwrap_or_default()
}

/// Every route of the server with its middleware.
pub fn routes(state: AppState) -> impl Endpoint {
    let body_read_timeout = state.config.http.body_read_timeout();
    let api = openapi_service();
    let raw = api.spec();
    let document = published(&raw);
    // The docs page embeds poem-openapi's document; it shows the published one instead.
    let docs_html = api.swagger_ui_html().replace(&raw, &document);
    let realtime = crate::realtime::schema::asyncapi_json();
    let route = Route::new()
        .at("/api/v1/ws", get(ws::upgrade))
        .nest("/api/v1", api)
        .at(
            "/api/openapi.json",
            make_sync(move |_| json(document.clone())),
        )
        .at(
            "/api/realtime.json",
            make_sync(move |_| json(realtime.clone())),
        )
        .at("/api/docs", make_sync(move |_| Html(docs_html.clone())))
        .at("/ca.crt", get(ca::certificate));
    assets::routes(route)
        .with(CookieJarManager::new())
        .around(cookies::translate)
        .around(move |next, req| middleware::limit_body(next, req, body_read_timeout))
        .around(error::json_errors)
        .around(middleware::security_headers)
        .data(state)
}

fn json(body: String) -> Response {
    Response::builder()
        .content_type("application/json")
        .body(body)
}
