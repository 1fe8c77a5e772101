//! `GET /users/me`.

use poem::web::Data;
use poem_openapi::{OpenApi, payload::Json};

use super::{ApiTags, dto::User};
use crate::{
    http::{error::ApiResult, security::Auth},
    state::AppState,
};

/// Users API.
pub struct UsersApi;

#[OpenApi(prefix_path = "/users", tag = "ApiTags::Users")]
impl UsersApi {
    /// The signed-in account.
    #[oai(path = "/me", method = "get", operation_id = "get_me")]
    async fn me(&self, auth: Auth, state: Data<&AppState>) -> ApiResult<Json<User>> {
        Ok(Json(state.auth.me(auth.user()).await?.into()))
    }
}
