//! Room directory and membership.

use super::strict::Text;
use poem::web::Data;
use poem_openapi::{
    ApiResponse, Object, OpenApi,
    param::{Path, Query},
    payload::Json,
};
use uuid::Uuid;

use super::{
    ApiTags,
    dto::{Conversation, Visibility},
};
use crate::{
    http::{error::ApiResult, security::Auth},
    service::conversations::{NewRoomInput, Visibility as RoomVisibility},
    state::AppState,
};

/// Body of `POST /rooms`.
#[derive(Debug, Object)]
pub struct CreateRoomRequest {
    /// 1–64 characters, unique without regard to case.
    pub name: Text,
    /// Public (listed, open) or private (invite only).
    pub visibility: Visibility,
    /// Optional topic (≤ 512 characters).
    pub topic: Option<Text>,
    /// Optional directory category (≤ 64 characters).
    pub category: Option<Text>,
}

/// Body of `POST /rooms/{id}/invites`.
#[derive(Debug, Object)]
pub struct InviteRequest {
    /// Who to invite.
    pub username: Text,
}

/// An invitation.
#[derive(Debug, Object)]
pub struct Invite {
    /// The room.
    pub conversation_id: Uuid,
    /// The invited user.
    pub username: String,
}

/// Room created.
#[derive(ApiResponse)]
pub enum RoomCreated {
    /// The new room; the caller is its owner.
    #[oai(status = 201)]
    Created(Json<Conversation>),
}

/// Invitation created.
#[derive(ApiResponse)]
pub enum InviteCreated {
    /// The user may now join.
    #[oai(status = 201)]
    Created(Json<Invite>),
}

/// Left.
#[derive(ApiResponse)]
pub enum Left {
    /// No longer a member.
    #[oai(status = 204)]
    NoContent,
}

/// Rooms API.
pub struct RoomsApi;

#[OpenApi(prefix_path = "/rooms", tag = "ApiTags::Rooms")]
impl RoomsApi {
    /// Public room directory (official rooms first); `q` filters by name, case-insensitive.
    #[oai(path = "/", method = "get", operation_id = "list_rooms")]
    async fn list(
        &self,
        auth: Auth,
        state: Data<&AppState>,
        q: Query<Option<String>>,
    ) -> ApiResult<Json<Vec<Conversation>>> {
        let rooms = state
            .conversations
            .directory(auth.user(), q.0.as_deref())
            .await?;
        Ok(Json(rooms.into_iter().map(Into::into).collect()))
    }

    /// Creates a room; the caller joins it as owner.
    #[oai(path = "/", method = "post", operation_id = "create_room")]
    async fn create(
        &self,
        auth: Auth,
        state: Data<&AppState>,
        body: Json<CreateRoomRequest>,
    ) -> ApiResult<RoomCreated> {
        let Json(req) = body;
        let input = NewRoomInput {
            name: req.name.0,
            visibility: match req.visibility {
                Visibility::Public => RoomVisibility::Public,
                Visibility::Private => RoomVisibility::Private,
            },
            topic: req.topic.map(|t| t.0),
            category: req.category.map(|c| c.0),
        };
        let room = state.conversations.create_room(auth.user(), input).await?;
        Ok(RoomCreated::Created(Json(room.into())))
    }

    /// Joins a public room, or a private room the caller was invited to.
    #[oai(path = "/:id/join", method = "post", operation_id = "join_room")]
    async fn join(
        &self,
        auth: Auth,
        state: Data<&AppState>,
        id: Path<Uuid>,
    ) -> ApiResult<Json<Conversation>> {
        Ok(Json(
            state.conversations.join(auth.user(), id.0).await?.into(),
        ))
    }

    /// Leaves a room.
    #[oai(path = "/:id/leave", method = "post", operation_id = "leave_room")]
    async fn leave(&self, auth: Auth, state: Data<&AppState>, id: Path<Uuid>) -> ApiResult<Left> {
        state.conversations.leave(auth.user(), id.0).await?;
        Ok(Left::NoContent)
    }

    /// Invites a user to a room the caller is a member of.
    #[oai(
        path = "/:id/invites",
        method = "post",
        operation_id = "invite_to_room"
    )]
    async fn invite(
        &self,
        auth: Auth,
        state: Data<&AppState>,
        id: Path<Uuid>,
        body: Json<InviteRequest>,
    ) -> ApiResult<InviteCreated> {
        state
            .conversations
            .invite(auth.user(), id.0, &body.0.username)
            .await?;
        Ok(InviteCreated::Created(Json(Invite {
            conversation_id: id.0,
            username: body.0.username.trim().to_lowercase(),
        })))
    }
}
