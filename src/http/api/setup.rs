//! First-run setup: `GET /setup`, `POST /setup`.

use poem::{
    Request,
    web::{Data, cookie::CookieJar},
};
use poem_openapi::{ApiResponse, Object, OpenApi, payload::Json};

use super::{
    ApiTags,
    dto::LoginResponse,
    strict::{PasswordRule, Text, TokenRule, UsernameRule},
};
use crate::{
    http::{
        cookies,
        error::ApiResult,
        security::{client_info, require_own_origin_if_browser},
    },
    state::AppState,
};

/// Whether setup is still needed.
#[derive(Debug, Object)]
pub struct SetupStatus {
    /// True until the admin account exists.
    pub required: bool,
}

/// Body of `POST /setup`.
#[derive(Debug, Object)]
#[oai(deny_unknown_fields)]
pub struct SetupRequest {
    /// The token from the link printed at start-up.
    pub token: Text<TokenRule>,
    /// Admin username (3–32 of `a-z 0-9 _ . -`).
    pub username: Text<UsernameRule>,
    /// Admin password (8–1024 bytes).
    pub password: Text<PasswordRule>,
}

/// Setup succeeded.
#[derive(ApiResponse)]
pub enum SetupCreated {
    /// The admin account exists and is signed in (cookies set).
    #[oai(status = 201)]
    Created(Json<LoginResponse>),
}

/// Setup API.
pub struct SetupApi;

#[OpenApi(prefix_path = "/setup", tag = "ApiTags::Setup")]
impl SetupApi {
    /// Whether the admin account still has to be created.
    #[oai(path = "/", method = "get", operation_id = "get_setup_status")]
    async fn status(&self, state: Data<&AppState>) -> ApiResult<Json<SetupStatus>> {
        Ok(Json(SetupStatus {
            required: state.auth.setup_required().await?,
        }))
    }

    /// Creates the admin account with the single-use setup token (403 when wrong, used or
    /// expired; 409 once setup is done).
    #[oai(path = "/", method = "post", operation_id = "complete_setup")]
    async fn setup(
        &self,
        request: &Request,
        state: Data<&AppState>,
        jar: &CookieJar,
        body: Json<SetupRequest>,
    ) -> ApiResult<SetupCreated> {
        require_own_origin_if_browser(request, &state.config)?;
        let Json(req) = body;
        let client = client_info(request, &state.config);
        let session = state
            .auth
            .setup(&req.token, &req.username, req.password.0, &client)
            .await?;
        cookies::set_session(jar, request, &state.config, &session);
        Ok(SetupCreated::Created(Json(session.into())))
    }
}
