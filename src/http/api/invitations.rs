//! My pending invitations to rooms and groups: list, accept, decline.

use poem::web::Data;
use poem_openapi::{ApiResponse, Object, OpenApi, param::Path, payload::Json};

use super::ApiTags;
use crate::{
    domain::{Conversation, ConversationId, Invitation},
    http::{error::ApiResult, security::Auth},
    state::AppState,
};

/// `GET /invitations`.
#[derive(Debug, Object)]
pub struct InvitationList {
    /// Pending invitations, newest first.
    pub invitations: Vec<Invitation>,
}

/// Declined.
#[derive(ApiResponse)]
pub enum Declined {
    /// The invitation is gone.
    #[oai(status = 204)]
    NoContent,
}

/// Invitations API.
pub struct InvitationsApi;

#[OpenApi(prefix_path = "/invitations", tag = "ApiTags::Invitations")]
impl InvitationsApi {
    /// My pending invitations to rooms and groups, with who sent each.
    #[oai(path = "/", method = "get", operation_id = "list_invitations")]
    async fn list(&self, auth: Auth, state: Data<&AppState>) -> ApiResult<Json<InvitationList>> {
        let invitations = state.conversations.invitations(auth.actor()).await?;
        Ok(Json(InvitationList { invitations }))
    }

    /// Accepts an invitation: the caller joins the room or group.
    #[oai(
        path = "/:conversation_id/accept",
        method = "post",
        operation_id = "accept_invitation"
    )]
    async fn accept(
        &self,
        auth: Auth,
        state: Data<&AppState>,
        conversation_id: Path<ConversationId>,
    ) -> ApiResult<Json<Conversation>> {
        Ok(Json(
            state
                .conversations
                .accept_invitation(auth.actor(), conversation_id.0)
                .await?,
        ))
    }

    /// Declines an invitation (nobody else is told).
    #[oai(
        path = "/:conversation_id/decline",
        method = "post",
        operation_id = "decline_invitation"
    )]
    async fn decline(
        &self,
        auth: Auth,
        state: Data<&AppState>,
        conversation_id: Path<ConversationId>,
    ) -> ApiResult<Declined> {
        state
            .conversations
            .decline_invitation(auth.actor(), conversation_id.0)
            .await?;
        Ok(Declined::NoContent)
    }
}
