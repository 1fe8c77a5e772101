//! Moderation inside conversations: kicking and banning in rooms, deleting messages, and
//! reporting them.

use poem::web::Data;
use poem_openapi::{
    ApiResponse, Object, OpenApi,
    param::{Path, Query},
    payload::Json,
};

use super::{
    ApiTags,
    strict::{OptText, ReasonRule, Text},
};
use crate::{
    domain::{ConversationId, ReportId, UserId},
    http::{error::ApiResult, security::Auth},
    state::AppState,
};

/// Body of `POST /rooms/{id}/members/{user_id}/kick` and `…/ban`.
#[derive(Debug, Object, Default)]
#[oai(deny_unknown_fields)]
pub struct ModerationRequest {
    /// Why (1–500 characters; kept in the audit log).
    pub reason: OptText<ReasonRule>,
}

/// Body of `POST /conversations/{id}/messages/{seq}/report`.
#[derive(Debug, Object)]
#[oai(deny_unknown_fields)]
pub struct ReportRequest {
    /// Why (1–500 characters).
    pub reason: Text<ReasonRule>,
}

/// Answer of a report.
#[derive(Debug, Object)]
pub struct ReportCreated {
    /// The report's id.
    pub id: ReportId,
}

/// Done, nothing to return.
#[derive(ApiResponse)]
pub enum Done {
    /// Done.
    #[oai(status = 204)]
    NoContent,
}

/// A report was stored.
#[derive(ApiResponse)]
pub enum Reported {
    /// Stored (or my open report of the same message).
    #[oai(status = 201)]
    Created(Json<ReportCreated>),
}

/// Room moderation API (kick, ban).
pub struct RoomModerationApi;

#[OpenApi(prefix_path = "/rooms", tag = "ApiTags::Rooms")]
impl RoomModerationApi {
    /// Removes a member from a room (room owner and moderators outranking them, or
    /// `rooms.moderate`). They may join again (unless the room is private or locked); members
    /// get `member_left` with `reason: kicked`.
    #[oai(
        path = "/:id/members/:user_id/kick",
        method = "post",
        operation_id = "kick_room_member"
    )]
    async fn kick(
        &self,
        auth: Auth,
        state: Data<&AppState>,
        id: Path<ConversationId>,
        user_id: Path<UserId>,
        body: Json<ModerationRequest>,
    ) -> ApiResult<Done> {
        state
            .conversations
            .kick_from_room(auth.actor(), id.0, user_id.0, body.0.reason.as_deref())
            .await?;
        Ok(Done::NoContent)
    }

    /// Bans a user from a room (room owner and moderators, or `rooms.moderate`): they leave it
    /// and cannot join or be invited again until the ban is lifted. Members get `member_left`
    /// with `reason: banned`.
    #[oai(
        path = "/:id/members/:user_id/ban",
        method = "post",
        operation_id = "ban_room_member"
    )]
    async fn ban(
        &self,
        auth: Auth,
        state: Data<&AppState>,
        id: Path<ConversationId>,
        user_id: Path<UserId>,
        body: Json<ModerationRequest>,
    ) -> ApiResult<Done> {
        state
            .conversations
            .ban_from_room(auth.actor(), id.0, user_id.0, body.0.reason.as_deref())
            .await?;
        Ok(Done::NoContent)
    }

    /// Lifts a room ban (room owner and moderators, or `rooms.moderate`); 404 when the user is
    /// not banned there.
    #[oai(
        path = "/:id/members/:user_id/ban",
        method = "delete",
        operation_id = "unban_room_member"
    )]
    async fn unban(
        &self,
        auth: Auth,
        state: Data<&AppState>,
        id: Path<ConversationId>,
        user_id: Path<UserId>,
    ) -> ApiResult<Done> {
        state
            .conversations
            .unban_from_room(auth.actor(), id.0, user_id.0)
            .await?;
        Ok(Done::NoContent)
    }
}

/// Message moderation API (delete, report).
pub struct MessageModerationApi;

#[OpenApi(prefix_path = "/conversations", tag = "ApiTags::Conversations")]
impl MessageModerationApi {
    /// Deletes a message: my own anywhere I am a member; anyone's as a room's owner or
    /// moderator, a holder of `rooms.moderate` (rooms), or a group's owner or moderator. The
    /// body is emptied and history shows it with `deleted: true`; members get
    /// `message_deleted`; audited as `message.deleted` (with the old text).
    #[oai(
        path = "/:id/messages/:seq",
        method = "delete",
        operation_id = "delete_message"
    )]
    async fn delete(
        &self,
        auth: Auth,
        state: Data<&AppState>,
        id: Path<ConversationId>,
        seq: Path<i64>,
        /// Why (1–500 characters; kept in the audit log).
        reason: Query<Option<String>>,
    ) -> ApiResult<Done> {
        state
            .message_changes
            .delete(auth.actor(), id.0, seq.0, reason.0.as_deref())
            .await?;
        Ok(Done::NoContent)
    }

    /// Reports a message to the moderators (anyone who can read it; not my own). Reporting it
    /// again while my report is open returns that report.
    #[oai(
        path = "/:id/messages/:seq/report",
        method = "post",
        operation_id = "report_message"
    )]
    async fn report(
        &self,
        auth: Auth,
        state: Data<&AppState>,
        id: Path<ConversationId>,
        seq: Path<i64>,
        body: Json<ReportRequest>,
    ) -> ApiResult<Reported> {
        let id = state
            .reports
            .report(auth.actor(), id.0, seq.0, body.0.reason.as_str())
            .await?;
        Ok(Reported::Created(Json(ReportCreated { id })))
    }
}
