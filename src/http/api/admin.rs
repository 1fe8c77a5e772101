//! Administration: server roles and the audit log (the admin-panel issue adds the rest).

use poem::web::Data;
use poem_openapi::{
    Object, OpenApi,
    param::{Path, Query},
    payload::Json,
};

use super::{ApiTags, dto::AuditPage, strict::Limit};
use crate::{
    cluster::instances,
    domain::{
        AuditAction, AuditFilter, BroadcastOutcome, ClusterStatus, InstanceInfo, ServerRole,
        ServerStatus, Timestamp, User, UserId, WhoAmI,
    },
    http::{error::ApiResult, security::Auth},
    state::AppState,
};

/// Body of `PUT /admin/users/{id}/role`.
#[derive(Debug, Object)]
#[oai(deny_unknown_fields)]
pub struct SetRoleRequest {
    /// The new server role.
    pub role: ServerRole,
}

/// Body of `POST /admin/broadcast`.
#[derive(Debug, Object)]
#[oai(deny_unknown_fields)]
pub struct BroadcastRequest {
    /// The announcement (1–2000 characters, plain text).
    pub text: String,
    /// Also post it as a message in every official room the sender belongs to.
    #[oai(default)]
    pub store_in_official_rooms: bool,
}

/// Admin API.
pub struct AdminApi;

/// This instance and the live ones (from the Redis registry).
async fn cluster_status(state: &AppState) -> ClusterStatus {
    let cluster = &state.cluster;
    let redis = cluster.redis();
    ClusterStatus {
        instance_id: cluster.instance().to_string(),
        shared: cluster.is_shared(),
        redis_healthy: redis.is_none_or(|r| r.is_healthy() && r.is_subscribed()),
        redis_problem: redis.and_then(|r| r.problem()),
        instances: instances::live(cluster, state.started_at)
            .await
            .into_iter()
            .map(|e| InstanceInfo {
                id: e.id,
                version: e.version,
                started_at: e.started_at,
                last_seen: e.last_seen,
            })
            .collect(),
    }
}

#[OpenApi(prefix_path = "/admin", tag = "ApiTags::Admin")]
impl AdminApi {
    /// Changes a user's server role (needs `roles.manage`). Takes effect on that user's next
    /// request, also on an open WebSocket; the last admin cannot be demoted (409 `last_admin`).
    #[oai(
        path = "/users/:id/role",
        method = "put",
        operation_id = "set_user_role"
    )]
    async fn set_role(
        &self,
        auth: Auth,
        state: Data<&AppState>,
        id: Path<UserId>,
        body: Json<SetRoleRequest>,
    ) -> ApiResult<Json<User>> {
        Ok(Json(
            state
                .admin
                .set_role(auth.actor(), id.0, body.0.role)
                .await?,
        ))
    }

    /// The server's identity and statistics (needs `server.view`): version, uptime, the database
    /// (backend, host, name, server version, file), the data folder, where the configuration
    /// came from, and counts. The answer to "am I on the database I think I am?".
    #[oai(path = "/server", method = "get", operation_id = "admin_server_status")]
    async fn server(&self, auth: Auth, state: Data<&AppState>) -> ApiResult<Json<ServerStatus>> {
        let mut status = state
            .admin
            .server_status(auth.actor(), &state.config, state.started_at)
            .await?;
        status.counts.online = state.hub.online_count() as u64;
        status.cluster = cluster_status(&state).await;
        Ok(Json(status))
    }

    /// My username, roles and effective server permissions with the roles granting each, and
    /// whether they open the admin panel. Any signed-in user may ask: it is the first check when
    /// the panel is missing.
    #[oai(path = "/whoami", method = "get", operation_id = "admin_whoami")]
    async fn whoami(&self, auth: Auth, state: Data<&AppState>) -> ApiResult<Json<WhoAmI>> {
        Ok(Json(state.admin.whoami(auth.actor()).await?))
    }

    /// Sends an announcement to everyone connected, shown as a banner (`announcement` frame);
    /// optionally also stored as a message in the official rooms (needs `broadcast.send`).
    #[oai(path = "/broadcast", method = "post", operation_id = "admin_broadcast")]
    async fn broadcast(
        &self,
        auth: Auth,
        state: Data<&AppState>,
        body: Json<BroadcastRequest>,
    ) -> ApiResult<Json<BroadcastOutcome>> {
        let stored_in = state
            .broadcast
            .send(auth.actor(), &body.0.text, body.0.store_in_official_rooms)
            .await?;
        Ok(Json(BroadcastOutcome {
            delivered_to: state.hub.connection_count() as u64,
            stored_in,
        }))
    }

    /// The audit log, newest first (needs `audit.read`), filtered by actor, action and target.
    /// Paged: pass `next_cursor` back as `cursor`.
    #[oai(path = "/audit", method = "get", operation_id = "list_audit_log")]
    #[allow(clippy::too_many_arguments)] // one per query parameter
    async fn audit(
        &self,
        auth: Auth,
        state: Data<&AppState>,
        /// Only entries by this user.
        actor: Query<Option<UserId>>,
        /// Only entries of this action.
        action: Query<Option<AuditAction>>,
        /// Only entries about this target (a user, conversation or session id).
        target: Query<Option<uuid::Uuid>>,
        /// Only entries at or after this time (RFC 3339).
        from: Query<Option<chrono::DateTime<chrono::Utc>>>,
        /// Only entries before this time (RFC 3339).
        to: Query<Option<chrono::DateTime<chrono::Utc>>>,
        /// `next_cursor` of the previous page.
        cursor: Query<Option<String>>,
        /// Page size.
        limit: Query<Limit<50, 200>>,
    ) -> ApiResult<Json<AuditPage>> {
        let filter = AuditFilter {
            actor: actor.0,
            action: action.0,
            target: target.0.map(|t| t.to_string()),
            from: from.0.map(Timestamp),
            to: to.0.map(Timestamp),
        };
        let page = state
            .admin
            .audit(auth.actor(), filter, cursor.0.as_deref(), limit.0.0)
            .await?;
        Ok(Json(page.into()))
    }
}
