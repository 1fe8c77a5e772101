//! Room directory, creation, settings and membership.

use poem::web::Data;
use poem_openapi::{
    ApiResponse, Object, OpenApi,
    param::{Path, Query},
    payload::Json,
};

use super::{
    ApiTags,
    dto::RoomPage,
    strict::{CategoryRule, Limit, OptText, RoomNameRule, Text, TopicRule, UsernameRule},
};
use crate::{
    domain::{Conversation, ConversationId, DirectorySort, User, Visibility},
    http::{error::ApiResult, security::Auth},
    service::conversations::{DirectoryFilter, NewRoomInput, RoomSettingsInput},
    state::AppState,
};

/// Body of `POST /rooms`.
#[derive(Debug, Object)]
#[oai(deny_unknown_fields)]
pub struct CreateRoomRequest {
    /// 1–64 characters (NFKC-normalized; no invisible or control characters), unique without
    /// regard to case, and not confusable with an official room's name.
    pub name: Text<RoomNameRule>,
    /// Public (listed, open) or private (invite only).
    pub visibility: Visibility,
    /// Optional topic (≤ 512 characters).
    pub topic: OptText<TopicRule>,
    /// Optional directory category (≤ 64 characters).
    pub category: OptText<CategoryRule>,
}

/// Body of `PATCH /rooms/{id}`: only the fields given change; an empty string clears one.
#[derive(Debug, Object)]
#[oai(deny_unknown_fields)]
pub struct UpdateRoomRequest {
    /// New topic (≤ 512 characters).
    pub topic: OptText<TopicRule>,
    /// New directory category (≤ 64 characters).
    pub category: OptText<CategoryRule>,
}

/// Body of `POST /rooms/{id}/invites`.
#[derive(Debug, Object)]
#[oai(deny_unknown_fields)]
pub struct InviteRequest {
    /// Who to invite.
    pub username: Text<UsernameRule>,
}

/// An invitation.
#[derive(Debug, Object)]
pub struct Invite {
    /// The room.
    pub conversation_id: ConversationId,
    /// The invited user.
    pub user: User,
}

/// One category of the public room directory.
#[derive(Debug, Object)]
pub struct RoomCategory {
    /// The category as stored.
    pub name: String,
    /// How many public rooms have it.
    pub room_count: i64,
}

/// Body of `GET /rooms/categories`.
#[derive(Debug, Object)]
pub struct RoomCategories {
    /// Categories of public rooms, by name (rooms without a category are not counted).
    pub categories: Vec<RoomCategory>,
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
    /// Public room directory, official rooms first, then by name (`sort=name`, the default),
    /// by joined member count, most first (`sort=members`, ties by name), or newest first
    /// (`sort=newest`). `q` keeps rooms whose name, topic or category contains it
    /// (case-insensitive, matched literally); `category` keeps one category (case-insensitive,
    /// whole value). Paged: pass `next_cursor` back as `cursor` with the same `q`, `category`
    /// and `sort`. Errors: 400 (an unknown `sort`), 422 `invalid_query` (`q` or `category` over
    /// 64 characters or with control characters), `invalid_limit`, `invalid_cursor`.
    #[oai(path = "/", method = "get", operation_id = "list_rooms")]
    #[allow(clippy::too_many_arguments)]
    async fn list(
        &self,
        auth: Auth,
        state: Data<&AppState>,
        /// Text the room's name, topic or category contains (≤ 64 characters).
        q: Query<Option<String>>,
        /// Only rooms of this category (≤ 64 characters).
        category: Query<Option<String>>,
        /// Order after "official first": `name` (default), `members` or `newest`.
        sort: Query<Option<DirectorySort>>,
        /// `next_cursor` of the previous page.
        cursor: Query<Option<String>>,
        /// Page size.
        limit: Query<Limit<50, 100>>,
    ) -> ApiResult<Json<RoomPage>> {
        let filter = DirectoryFilter {
            q: q.0.as_deref(),
            category: category.0.as_deref(),
            sort: sort.0,
        };
        let page = state
            .conversations
            .directory(auth.actor(), filter, cursor.0.as_deref(), limit.0.0)
            .await?;
        Ok(Json(page.into()))
    }

    /// The categories of public rooms, by name, with how many public rooms each has (for the
    /// directory's category filter).
    #[oai(
        path = "/categories",
        method = "get",
        operation_id = "list_room_categories"
    )]
    async fn categories(
        &self,
        _auth: Auth,
        state: Data<&AppState>,
    ) -> ApiResult<Json<RoomCategories>> {
        let categories = state.conversations.directory_categories().await?;
        Ok(Json(RoomCategories {
            categories: categories
                .into_iter()
                .map(|c| RoomCategory {
                    name: c.name,
                    room_count: c.room_count,
                })
                .collect(),
        }))
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
            name: req.name.into_inner(),
            visibility: req.visibility,
            topic: req.topic.into_inner(),
            category: req.category.into_inner(),
        };
        let room = state.conversations.create_room(auth.actor(), input).await?;
        Ok(RoomCreated::Created(Json(room)))
    }

    /// Changes a room's topic or category (owners, moderators, server moderators).
    #[oai(path = "/:id", method = "patch", operation_id = "update_room")]
    async fn update(
        &self,
        auth: Auth,
        state: Data<&AppState>,
        id: Path<ConversationId>,
        body: Json<UpdateRoomRequest>,
    ) -> ApiResult<Json<Conversation>> {
        let Json(req) = body;
        let input = RoomSettingsInput {
            topic: req.topic.into_inner(),
            category: req.category.into_inner(),
        };
        Ok(Json(
            state
                .conversations
                .update_room(auth.actor(), id.0, input)
                .await?,
        ))
    }

    /// Joins a public room, or a private room the caller was invited to.
    #[oai(path = "/:id/join", method = "post", operation_id = "join_room")]
    async fn join(
        &self,
        auth: Auth,
        state: Data<&AppState>,
        id: Path<ConversationId>,
    ) -> ApiResult<Json<Conversation>> {
        Ok(Json(state.conversations.join(auth.actor(), id.0).await?))
    }

    /// Leaves a room (or declines an invitation).
    #[oai(path = "/:id/leave", method = "post", operation_id = "leave_room")]
    async fn leave(
        &self,
        auth: Auth,
        state: Data<&AppState>,
        id: Path<ConversationId>,
    ) -> ApiResult<Left> {
        state.conversations.leave(auth.actor(), id.0).await?;
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
        id: Path<ConversationId>,
        body: Json<InviteRequest>,
    ) -> ApiResult<InviteCreated> {
        let user = state
            .conversations
            .invite(auth.actor(), id.0, &body.0.username)
            .await?;
        Ok(InviteCreated::Created(Json(Invite {
            conversation_id: id.0,
            user,
        })))
    }
}
