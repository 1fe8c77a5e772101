//! `GET /health`.

use poem::web::Data;
use poem_openapi::{Object, OpenApi, payload::Json};

use super::ApiTags;
use crate::{VERSION, http::error::ApiResult, state::AppState};

/// Liveness answer.
#[derive(Debug, Object)]
pub struct Health {
    /// Always `ok`.
    pub status: String,
    /// Server version.
    pub version: String,
    /// `sqlite` or `postgres`.
    pub database: String,
}

/// Health API.
pub struct HealthApi;

#[OpenApi(tag = "ApiTags::Health")]
impl HealthApi {
    /// Liveness: the server answers and which database backend it runs on.
    #[oai(path = "/health", method = "get", operation_id = "get_health")]
    async fn health(&self, state: Data<&AppState>) -> ApiResult<Json<Health>> {
        Ok(Json(Health {
            status: "ok".into(),
            version: VERSION.into(),
            database: state.db.backend.as_str().into(),
        }))
    }
}
