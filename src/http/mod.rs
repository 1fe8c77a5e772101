//! HTTP: poem + poem-openapi only. Routes, the OpenAPI document, and middleware; `server` is the
//! accept loop that serves them through hyper (connection limits and timeouts).

pub mod api;
pub mod assets;
pub mod cookies;
pub mod error;
pub mod middleware;
pub mod security;
pub mod server;
pub mod ws;

use poem::{Endpoint, EndpointExt, Route, get, middleware::CookieJarManager};
use poem_openapi::OpenApiService;

use crate::{VERSION, state::AppState};

type Apis = (
    api::health::HealthApi,
    api::setup::SetupApi,
    api::auth::AuthApi,
    api::users::UsersApi,
    api::rooms::RoomsApi,
    api::dms::DmsApi,
    api::conversations::ConversationsApi,
);

/// The OpenAPI service of the REST API, served under `/api/v1`.
pub fn openapi_service() -> OpenApiService<Apis, ()> {
    OpenApiService::new(api::apis(), "EchoChat", VERSION)
        .description(
            "REST API of EchoChat. Authenticate with `Authorization: Bearer <access_token>` or, in browsers, \
             the HttpOnly session cookies. Errors are `{\"code\", \"message\"}`. Realtime events use the \
             WebSocket at `/api/v1/ws` (see docs/realtime.md).",
        )
        .license("BSD-2-Clause")
        .server("/api/v1")
}

/// The OpenAPI document as pretty JSON (what `echochat openapi` prints and openapi/openapi.json holds).
pub fn openapi_json() -> String {
    openapi_service().spec()
}

/// Every route of the server with its middleware.
pub fn routes(state: AppState) -> impl Endpoint {
    let body_read_timeout = state.config.http.body_read_timeout();
    let api = openapi_service();
    let spec = api.spec_endpoint();
    let docs = api.swagger_ui();
    let route = Route::new()
        .at("/api/v1/ws", get(ws::upgrade))
        .nest("/api/v1", api)
        .at("/api/openapi.json", spec)
        .nest("/api/docs", docs);
    assets::routes(route)
        .with(CookieJarManager::new())
        .around(move |next, req| middleware::limit_body(next, req, body_read_timeout))
        .around(error::json_errors)
        .around(middleware::security_headers)
        .data(state)
}
