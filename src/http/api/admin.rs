//! Administration: server roles and the audit log (the admin-panel issue adds the rest).

use poem::web::Data;
use poem_openapi::{
    Object, OpenApi,
    param::{Path, Query},
    payload::Json,
};

use super::{ApiTags, dto::AuditPage, strict::Limit};
use crate::{
    domain::{AuditAction, AuditFilter, ServerRole, User, UserId},
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

/// Admin API.
pub struct AdminApi;

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
        /// `next_cursor` of the previous page.
        cursor: Query<Option<String>>,
        /// Page size.
        limit: Query<Limit<50, 200>>,
    ) -> ApiResult<Json<AuditPage>> {
        let filter = AuditFilter {
            actor: actor.0,
            action: action.0,
            target: target.0.map(|t| t.to_string()),
        };
        let page = state
            .admin
            .audit(auth.actor(), filter, cursor.0.as_deref(), limit.0.0)
            .await?;
        Ok(Json(page.into()))
    }
}
