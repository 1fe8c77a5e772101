//! `GET /server`: the public facts of the server (no login needed).

use poem::web::Data;
use poem_openapi::{OpenApi, payload::Json};

use super::ApiTags;
use crate::{domain::ServerInfo, state::AppState};

/// Public server facts API.
pub struct ServerInfoApi;

#[OpenApi(tag = "ApiTags::Health")]
impl ServerInfoApi {
    /// The server's name, message of the day and registration mode (`open`, `invite_only`,
    /// `closed`), for the sign-in and register pages. No login needed. The values are the live
    /// settings (an administrator changes them without a restart).
    #[oai(path = "/server", method = "get", operation_id = "get_server_info")]
    async fn server(&self, state: Data<&AppState>) -> Json<ServerInfo> {
        Json(state.settings.server())
    }
}
