//! Groups: private conversations with an owner, moderators and members; invitations, roles,
//! ownership, mute, kick and leave. A `{id}` that is not a group the caller is in is 404.
//! The member list is `GET /conversations/{id}/members` (with `muted_until`).

use poem::web::Data;
use poem_openapi::{ApiResponse, Object, OpenApi, param::Path, payload::Json};

use super::{
    ApiTags,
    rooms::InviteRequest,
    strict::{OptText, RoomNameRule, Seconds, Text, TopicRule},
};
use crate::{
    domain::{Conversation, ConversationId, ConversationRole, Member, User, UserId},
    http::{error::ApiResult, security::Auth},
    service::conversations::{GroupSettingsInput, MUTE_MAX_SECS, NewGroupInput},
    state::AppState,
};

/// Body of `POST /groups`.
#[derive(Debug, Object)]
#[oai(deny_unknown_fields)]
pub struct CreateGroupRequest {
    /// 1–64 characters (NFKC-normalized; no invisible or control characters); need not be
    /// unique.
    pub name: Text<RoomNameRule>,
    /// Optional topic (≤ 512 characters).
    pub topic: OptText<TopicRule>,
}

/// Body of `PATCH /groups/{id}`: only the fields given change; an empty topic clears it.
#[derive(Debug, Object)]
#[oai(deny_unknown_fields)]
pub struct UpdateGroupRequest {
    /// New name (1–64 characters).
    pub name: OptText<RoomNameRule>,
    /// New topic (≤ 512 characters).
    pub topic: OptText<TopicRule>,
}

/// Body of `PUT /groups/{id}/members/{user_id}/role`.
#[derive(Debug, Object)]
#[oai(deny_unknown_fields)]
pub struct SetMemberRoleRequest {
    /// `moderator` or `member` (`owner` is refused with 422 `invalid_role`: transfer the
    /// ownership instead).
    pub role: ConversationRole,
}

/// Body of `POST /groups/{id}/transfer`.
#[derive(Debug, Object)]
#[oai(deny_unknown_fields)]
pub struct TransferRequest {
    /// The new owner: a joined member.
    pub user_id: UserId,
}

/// Body of `PUT /groups/{id}/members/{user_id}/mute`.
#[derive(Debug, Object)]
#[oai(deny_unknown_fields)]
pub struct MuteRequest {
    /// How long, in seconds: 1–2592000 (30 days). Out of range or missing: 422
    /// `invalid_duration`.
    pub duration_secs: Seconds<1, MUTE_MAX_SECS>,
}

/// `GET /groups`.
#[derive(Debug, Object)]
pub struct GroupList {
    /// My joined groups and pending group invitations (`membership: invited`), by id.
    pub groups: Vec<Conversation>,
}

/// Group created.
#[derive(ApiResponse)]
pub enum GroupCreated {
    /// The new group; the caller is its owner.
    #[oai(status = 201)]
    Created(Json<Conversation>),
}

/// Done, nothing to return.
#[derive(ApiResponse)]
pub enum Done {
    /// Done.
    #[oai(status = 204)]
    NoContent,
}

/// Groups API.
pub struct GroupsApi;

#[OpenApi(prefix_path = "/groups", tag = "ApiTags::Groups")]
impl GroupsApi {
    /// Creates a group (private); the caller is its owner.
    #[oai(path = "/", method = "post", operation_id = "create_group")]
    async fn create(
        &self,
        auth: Auth,
        state: Data<&AppState>,
        body: Json<CreateGroupRequest>,
    ) -> ApiResult<GroupCreated> {
        let Json(req) = body;
        let input = NewGroupInput {
            name: req.name.into_inner(),
            topic: req.topic.into_inner(),
        };
        let group = state
            .conversations
            .create_group(auth.actor(), input)
            .await?;
        Ok(GroupCreated::Created(Json(group)))
    }

    /// My groups: joined ones and pending invitations.
    #[oai(path = "/", method = "get", operation_id = "list_groups")]
    async fn list(&self, auth: Auth, state: Data<&AppState>) -> ApiResult<Json<GroupList>> {
        let groups = state.conversations.list_groups(auth.actor()).await?;
        Ok(Json(GroupList { groups }))
    }

    /// Renames a group or changes its topic (owner and moderators).
    #[oai(path = "/:id", method = "patch", operation_id = "update_group")]
    async fn update(
        &self,
        auth: Auth,
        state: Data<&AppState>,
        id: Path<ConversationId>,
        body: Json<UpdateGroupRequest>,
    ) -> ApiResult<Json<Conversation>> {
        let Json(req) = body;
        let input = GroupSettingsInput {
            name: req.name.into_inner(),
            topic: req.topic.into_inner(),
        };
        Ok(Json(
            state
                .conversations
                .update_group(auth.actor(), id.0, input)
                .await?,
        ))
    }

    /// Invites a user (owner and moderators); they accept or decline under `/invitations`.
    #[oai(
        path = "/:id/invites",
        method = "post",
        operation_id = "invite_to_group"
    )]
    async fn invite(
        &self,
        auth: Auth,
        state: Data<&AppState>,
        id: Path<ConversationId>,
        body: Json<InviteRequest>,
    ) -> ApiResult<Json<User>> {
        Ok(Json(
            state
                .conversations
                .invite_to_group(auth.actor(), id.0, &body.0.username)
                .await?,
        ))
    }

    /// Changes a member's role to `moderator` or `member` (owner only).
    #[oai(
        path = "/:id/members/:user_id/role",
        method = "put",
        operation_id = "set_group_member_role"
    )]
    async fn set_role(
        &self,
        auth: Auth,
        state: Data<&AppState>,
        id: Path<ConversationId>,
        user_id: Path<UserId>,
        body: Json<SetMemberRoleRequest>,
    ) -> ApiResult<Json<Member>> {
        Ok(Json(
            state
                .conversations
                .set_member_role(auth.actor(), id.0, user_id.0, body.0.role)
                .await?,
        ))
    }

    /// Hands the group to another joined member (owner only); the old owner becomes a
    /// moderator.
    #[oai(
        path = "/:id/transfer",
        method = "post",
        operation_id = "transfer_group"
    )]
    async fn transfer(
        &self,
        auth: Auth,
        state: Data<&AppState>,
        id: Path<ConversationId>,
        body: Json<TransferRequest>,
    ) -> ApiResult<Json<Conversation>> {
        Ok(Json(
            state
                .conversations
                .transfer_group(auth.actor(), id.0, body.0.user_id)
                .await?,
        ))
    }

    /// Mutes a member for a while: they read but cannot post (owner: anyone else; moderators:
    /// members).
    #[oai(
        path = "/:id/members/:user_id/mute",
        method = "put",
        operation_id = "mute_group_member"
    )]
    async fn mute(
        &self,
        auth: Auth,
        state: Data<&AppState>,
        id: Path<ConversationId>,
        user_id: Path<UserId>,
        body: Json<MuteRequest>,
    ) -> ApiResult<Json<Member>> {
        Ok(Json(
            state
                .conversations
                .mute_member(auth.actor(), id.0, user_id.0, body.0.duration_secs.0)
                .await?,
        ))
    }

    /// Lifts a member's mute (same rule as muting).
    #[oai(
        path = "/:id/members/:user_id/mute",
        method = "delete",
        operation_id = "unmute_group_member"
    )]
    async fn unmute(
        &self,
        auth: Auth,
        state: Data<&AppState>,
        id: Path<ConversationId>,
        user_id: Path<UserId>,
    ) -> ApiResult<Json<Member>> {
        Ok(Json(
            state
                .conversations
                .unmute_member(auth.actor(), id.0, user_id.0)
                .await?,
        ))
    }

    /// Removes a member (owner: anyone else; moderators: members). They may be invited again.
    #[oai(
        path = "/:id/members/:user_id",
        method = "delete",
        operation_id = "kick_group_member"
    )]
    async fn kick(
        &self,
        auth: Auth,
        state: Data<&AppState>,
        id: Path<ConversationId>,
        user_id: Path<UserId>,
    ) -> ApiResult<Done> {
        state
            .conversations
            .kick_member(auth.actor(), id.0, user_id.0)
            .await?;
        Ok(Done::NoContent)
    }

    /// Leaves a group. The owner transfers the ownership first, unless they are the last
    /// member (the group is then left empty; its history is kept).
    #[oai(path = "/:id/leave", method = "post", operation_id = "leave_group")]
    async fn leave(
        &self,
        auth: Auth,
        state: Data<&AppState>,
        id: Path<ConversationId>,
    ) -> ApiResult<Done> {
        state.conversations.leave_group(auth.actor(), id.0).await?;
        Ok(Done::NoContent)
    }
}
