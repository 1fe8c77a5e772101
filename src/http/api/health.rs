//! `GET /health` (database), `GET /health/live` (liveness) and `GET /health/ready` (readiness:
//! database, and with several instances Redis and the bus subscription).

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

/// Liveness answer.
#[derive(Debug, Object)]
pub struct Liveness {
    /// Always `ok`: the process serves HTTP.
    pub status: HealthStatus,
    /// Server version.
    pub version: String,
    /// This instance's id.
    pub instance_id: String,
}

/// One dependency's state in a readiness answer.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Enum)]
#[oai(rename_all = "snake_case")]
pub enum DependencyStatus {
    /// It answers.
    Ok,
    /// It does not answer (or, for Redis, this instance does not receive the bus).
    Unavailable,
    /// Not used by this server (Redis without `[redis] url`).
    NotConfigured,
}

/// Readiness answer.
#[derive(Debug, Object)]
#[oai(skip_serializing_if_is_none)]
pub struct Readiness {
    /// `ok` when this instance should get traffic, `unavailable` otherwise.
    pub status: HealthStatus,
    /// Server version.
    pub version: String,
    /// This instance's id.
    pub instance_id: String,
    /// The database (`SELECT 1` within 2 s).
    pub database: DependencyStatus,
    /// Redis: answers, and this instance's event bus subscription is up.
    pub redis: DependencyStatus,
    /// Whether the server is shutting down (drained: not ready).
    pub shutting_down: bool,
    /// What is wrong, when something is.
    pub message: Option<String>,
}

/// Readiness answers.
#[derive(ApiResponse)]
pub enum ReadinessResponse {
    /// Ready for traffic.
    #[oai(status = 200)]
    Ready(Json<Readiness>),
    /// Not ready: the database or Redis does not answer, the bus subscription is down, or the
    /// server is shutting down. Keep the process (liveness is still 200), route traffic elsewhere.
    #[oai(status = 503)]
    NotReady(Json<Readiness>),
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

    /// Liveness: 200 as long as the process serves HTTP, whatever its dependencies do (for a
    /// Kubernetes `livenessProbe`: restarting the process would not bring Redis back).
    #[oai(
        path = "/health/live",
        method = "get",
        operation_id = "get_health_live"
    )]
    async fn live(&self, state: Data<&AppState>) -> Json<Liveness> {
        Json(Liveness {
            status: HealthStatus::Ok,
            version: VERSION.into(),
            instance_id: state.cluster.instance().to_string(),
        })
    }

    /// Readiness: 200 when this instance should get traffic — the database answers within 2 s
    /// and, with several instances (`[redis] url`), Redis answers and this instance receives the
    /// event bus; 503 otherwise, and while shutting down (for a load balancer's health check or
    /// a Kubernetes `readinessProbe`).
    #[oai(
        path = "/health/ready",
        method = "get",
        operation_id = "get_health_ready"
    )]
    async fn ready(&self, state: Data<&AppState>) -> ReadinessResponse {
        let mut problems = Vec::new();
        let database = match state.db.ping(DB_TIMEOUT).await {
            Ok(()) => DependencyStatus::Ok,
            Err(message) => {
                problems.push(format!("database: {message}"));
                DependencyStatus::Unavailable
            }
        };
        let redis = match state.cluster.redis() {
            None => DependencyStatus::NotConfigured,
            Some(r) if r.is_healthy() && r.is_subscribed() => DependencyStatus::Ok,
            Some(r) => {
                problems.push(format!(
                    "redis: {}",
                    r.problem()
                        .unwrap_or_else(|| "the event bus subscription is not up".into())
                ));
                DependencyStatus::Unavailable
            }
        };
        let shutting_down = state.shutdown.is_cancelled();
        if shutting_down {
            problems.push("shutting down".into());
        }
        let answer = Readiness {
            status: if problems.is_empty() {
                HealthStatus::Ok
            } else {
                HealthStatus::Unavailable
            },
            version: VERSION.into(),
            instance_id: state.cluster.instance().to_string(),
            database,
            redis,
            shutting_down,
            message: (!problems.is_empty()).then(|| problems.join("; ")),
        };
        if problems.is_empty() {
            ReadinessResponse::Ready(Json(answer))
        } else {
            ReadinessResponse::NotReady(Json(answer))
        }
    }
}
