//! Server roles (`/admin/roles…`, needs `roles.manage`): the fixed built-in roles and custom
//! roles, each a set of server permissions. Grants live under `/admin/users/{id}/roles/{role}`.

use poem::web::Data;
use poem_openapi::{ApiResponse, Object, OpenApi, param::Path, payload::Json};

use super::ApiTags;
use crate::{
    domain::{Permission, RoleList, RoleView},
    http::{error::ApiResult, security::Auth},
    state::AppState,
};

/// Body of `POST /admin/roles`.
#[derive(Debug, Object)]
#[oai(deny_unknown_fields)]
pub struct AdminCreateRoleRequest {
    /// 2–32 of `a-z 0-9 _ -`, starting with a letter; not `admin`, `moderator` or `member`.
    pub name: String,
    /// What it is for (at most 200 characters).
    pub description: Option<String>,
    /// Server permissions it grants.
    pub permissions: Vec<Permission>,
}

/// Body of `PATCH /admin/roles/{name}`: absent fields stay as they are.
#[derive(Debug, Object)]
#[oai(deny_unknown_fields)]
pub struct AdminUpdateRoleRequest {
    /// New description (empty: none).
    pub description: Option<String>,
    /// The complete new set of server permissions.
    pub permissions: Option<Vec<Permission>>,
}

/// `POST /admin/roles` answers.
#[derive(ApiResponse)]
pub enum CreatedRole {
    /// The new role.
    #[oai(status = 201)]
    Created(Json<RoleView>),
}

/// `DELETE /admin/roles/{name}` answers.
#[derive(ApiResponse)]
pub enum DeletedRole {
    /// The role is gone; its holders lost it.
    #[oai(status = 204)]
    NoContent,
}

/// Roles API.
pub struct AdminRolesApi;

#[OpenApi(prefix_path = "/admin/roles", tag = "ApiTags::Admin")]
impl AdminRolesApi {
    /// Every role, built-in first, with its permissions and number of holders.
    #[oai(path = "/", method = "get", operation_id = "admin_list_roles")]
    async fn list(&self, auth: Auth, state: Data<&AppState>) -> ApiResult<Json<RoleList>> {
        Ok(Json(state.roles.list(auth.actor()).await?))
    }

    /// Creates a custom role (audited as `role.created`). Conversation permissions cannot be
    /// held by roles (422 `invalid_permission`).
    #[oai(path = "/", method = "post", operation_id = "admin_create_role")]
    async fn create(
        &self,
        auth: Auth,
        state: Data<&AppState>,
        body: Json<AdminCreateRoleRequest>,
    ) -> ApiResult<CreatedRole> {
        let b = body.0;
        let role = state
            .roles
            .create(
                auth.actor(),
                &b.name,
                b.description.as_deref(),
                &b.permissions,
            )
            .await?;
        Ok(CreatedRole::Created(Json(role)))
    }

    /// Changes a custom role (built-in roles: 409 `builtin_role`); its holders' permissions
    /// change at once (their pages learn it by `user_updated`).
    #[oai(path = "/:name", method = "patch", operation_id = "admin_update_role")]
    async fn update(
        &self,
        auth: Auth,
        state: Data<&AppState>,
        name: Path<String>,
        body: Json<AdminUpdateRoleRequest>,
    ) -> ApiResult<Json<RoleView>> {
        let b = body.0;
        let role = state
            .roles
            .update(
                auth.actor(),
                &name.0,
                b.description.as_deref().map(Some),
                b.permissions.as_deref(),
            )
            .await?;
        Ok(Json(role))
    }

    /// Deletes a custom role (built-in roles: 409 `builtin_role`); audited as `role.deleted`.
    #[oai(path = "/:name", method = "delete", operation_id = "admin_delete_role")]
    async fn delete(
        &self,
        auth: Auth,
        state: Data<&AppState>,
        name: Path<String>,
    ) -> ApiResult<DeletedRole> {
        state.roles.delete(auth.actor(), &name.0).await?;
        Ok(DeletedRole::NoContent)
    }
}
