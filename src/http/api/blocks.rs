//! `GET /blocks`, `PUT /blocks/{user_id}`, `DELETE /blocks/{user_id}`: the users I blocked.

use poem::web::Data;
use poem_openapi::{ApiResponse, Object, OpenApi, param::Path, payload::Json};

use super::ApiTags;
use crate::{
    domain::{BlockedUser, UserId},
    http::{error::ApiResult, security::Auth},
    state::AppState,
};

/// The users I blocked.
#[derive(Debug, Object)]
pub struct BlockList {
    /// Most recent first.
    pub blocked: Vec<BlockedUser>,
}

/// Unblocked.
#[derive(ApiResponse)]
pub enum Unblocked {
    /// Not blocked (any more).
    #[oai(status = 204)]
    NoContent,
}

/// Blocks API.
pub struct BlocksApi;

#[OpenApi(prefix_path = "/blocks", tag = "ApiTags::Blocks")]
impl BlocksApi {
    /// The users I blocked.
    #[oai(path = "/", method = "get", operation_id = "list_blocks")]
    async fn list(&self, auth: Auth, state: Data<&AppState>) -> ApiResult<Json<BlockList>> {
        Ok(Json(BlockList {
            blocked: state.blocks.list(auth.actor()).await?,
        }))
    }

    /// Blocks a user (idempotent). Ends any friendship or pending request between us; DMs
    /// between us are refused (403 `blocked`), their invitations and friend requests go
    /// nowhere, neither sees the other's presence. 422 `cannot_block_self`; 404 unknown user.
    #[oai(path = "/:user_id", method = "put", operation_id = "block_user")]
    async fn block(
        &self,
        auth: Auth,
        state: Data<&AppState>,
        user_id: Path<UserId>,
    ) -> ApiResult<Json<BlockedUser>> {
        Ok(Json(state.blocks.block(auth.actor(), user_id.0).await?))
    }

    /// Unblocks a user (idempotent: 204 also when they were not blocked). 404 unknown user.
    #[oai(path = "/:user_id", method = "delete", operation_id = "unblock_user")]
    async fn unblock(
        &self,
        auth: Auth,
        state: Data<&AppState>,
        user_id: Path<UserId>,
    ) -> ApiResult<Unblocked> {
        state.blocks.unblock(auth.actor(), user_id.0).await?;
        Ok(Unblocked::NoContent)
    }
}
