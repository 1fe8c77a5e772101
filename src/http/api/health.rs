//! `GET /health`.

use std::time::Duration;

use poem::web::Data;
use poem_openapi::{ApiResponse, Enum, Object, OpenApi, payload::Json};

use super::ApiTags;
use crate::{VERSION, state::AppState};

/// How long the health check waits for the database.
const DB_TIMEOUT: Duration = Duration::from_secs(2);

/// Whether the server can do its work.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Enum)]
#[oai(rename_all = "snake_case")]
pub enum HealthStatus {
    /// The server and its database answer.
    Ok,
    /// The database cannot be reached: requests that need it fail.
    Unavailable,
}

/// Health answer.
#[derive(Debug, Object)]
#[oai(skip_serializing_if_is_none)]
pub struct Health {
    /// `ok`, or `unavailable` when the database does not answer.
    pub status: HealthStatus,
    /// Server version.
    pub version: String,
    /// `sqlite` or `postgres`.
    pub database: String,
    /// Why the server is unavailable.
    pub message: Option<String>,
}

/// Health answers.
#[derive(ApiResponse)]
pub enum HealthResponse {
    /// The server and its database answer.
    #[oai(status = 200)]
    Ok(Json<Health>),
    /// The database does not answer (within 2 s): do not route traffic here.
    #[oai(status = 503)]
    Unavailable(Json<Health>),
}

/// Health API.
pub struct HealthApi;

#[OpenApi(tag = "ApiTags::Health")]
impl HealthApi {
    /// Health: whether the server and its database answer (`SELECT 1` within 2 s), the version and
    /// the database backend. 503 with `status: unavailable` when the database cannot be reached.
    #[oai(path = "/health", method = "get", operation_id = "get_health")]
    async fn health(&self, state: Data<&AppState>) -> HealthResponse {
        let database = state.db.backend.as_str().to_owned();
        match state.db.ping(DB_TIMEOUT).await {
            Ok(()) => HealthResponse::Ok(Json(Health {
                status: HealthStatus::Ok,
                version: VERSION.into(),
                database,
                message: None,
            })),
            Err(message) => {
                tracing::warn!(%message, "health check: database unavailable");
                HealthResponse::Unavailable(Json(Health {
                    status: HealthStatus::Unavailable,
                    version: VERSION.into(),
                    database,
                    message: Some(message),
                }))
            }
        }
    }
}
