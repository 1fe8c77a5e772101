//! `GET /friends`, `POST /friends/requests`, `POST /friends/requests/{user_id}/accept|decline`,
//! `DELETE /friends/requests/{user_id}`, `DELETE /friends/{user_id}`: friends and friend
//! requests.

use poem::web::Data;
use poem_openapi::{ApiResponse, Object, OpenApi, param::Path, payload::Json};

use super::{
    ApiTags,
    strict::{Text, UsernameRule},
};
use crate::{
    domain::{Friend, FriendList, FriendRequestOutcome, User, UserId},
    http::{error::ApiResult, security::Auth},
    state::AppState,
};

/// Body of `POST /friends/requests`.
#[derive(Debug, Object)]
#[oai(deny_unknown_fields)]
pub struct FriendRequestBody {
    /// Who to ask.
    pub username: Text<UsernameRule>,
}

/// What a friend request did.
#[derive(Debug, Object)]
pub struct FriendRequestResult {
    /// `pending`: the request waits for their answer; `accepted`: they had already asked me,
    /// we are friends now.
    pub state: FriendRequestOutcome,
    /// The addressee.
    pub user: User,
}

/// A friend request was taken.
#[derive(ApiResponse)]
pub enum FriendRequestTaken {
    /// Stored (`pending`) or turned into a friendship (`accepted`).
    #[oai(status = 202)]
    Accepted(Json<FriendRequestResult>),
}

/// Done.
#[derive(ApiResponse)]
pub enum FriendDone {
    /// Done.
    #[oai(status = 204)]
    NoContent,
}

/// Friends API.
pub struct FriendsApi;

#[OpenApi(prefix_path = "/friends", tag = "ApiTags::Friends")]
impl FriendsApi {
    /// My friends (by username) and pending requests, incoming and outgoing (newest first).
    /// Presence is not here: it comes from the `ready` and `presence` WebSocket frames.
    #[oai(path = "/", method = "get", operation_id = "list_friends")]
    async fn list(&self, auth: Auth, state: Data<&AppState>) -> ApiResult<Json<FriendList>> {
        Ok(Json(state.friends.list(auth.actor()).await?))
    }

    /// Asks a user to be friends. 202 `pending` when the request was stored (the same answer
    /// when they blocked me: then nothing is stored), `accepted` when they had already asked me.
    /// 422 `cannot_befriend_self`; 404 unknown user; 403 `blocked` when I blocked them; 409
    /// `already_friends`, `request_pending`, `too_many_pending_requests`; 429 `rate_limited`.
    #[oai(
        path = "/requests",
        method = "post",
        operation_id = "send_friend_request"
    )]
    async fn request(
        &self,
        auth: Auth,
        state: Data<&AppState>,
        body: Json<FriendRequestBody>,
    ) -> ApiResult<FriendRequestTaken> {
        let (outcome, user) = state
            .friends
            .request(auth.actor(), &body.0.username)
            .await?;
        Ok(FriendRequestTaken::Accepted(Json(FriendRequestResult {
            state: outcome,
            user,
        })))
    }

    /// Accepts the pending request this user sent me. 404 when there is none.
    #[oai(
        path = "/requests/:user_id/accept",
        method = "post",
        operation_id = "accept_friend_request"
    )]
    async fn accept(
        &self,
        auth: Auth,
        state: Data<&AppState>,
        user_id: Path<UserId>,
    ) -> ApiResult<Json<Friend>> {
        Ok(Json(state.friends.accept(auth.actor(), user_id.0).await?))
    }

    /// Declines the pending request this user sent me. 404 when there is none.
    #[oai(
        path = "/requests/:user_id/decline",
        method = "post",
        operation_id = "decline_friend_request"
    )]
    async fn decline(
        &self,
        auth: Auth,
        state: Data<&AppState>,
        user_id: Path<UserId>,
    ) -> ApiResult<FriendDone> {
        state.friends.decline(auth.actor(), user_id.0).await?;
        Ok(FriendDone::NoContent)
    }

    /// Withdraws my pending request to this user. 404 when there is none.
    #[oai(
        path = "/requests/:user_id",
        method = "delete",
        operation_id = "cancel_friend_request"
    )]
    async fn cancel(
        &self,
        auth: Auth,
        state: Data<&AppState>,
        user_id: Path<UserId>,
    ) -> ApiResult<FriendDone> {
        state.friends.cancel(auth.actor(), user_id.0).await?;
        Ok(FriendDone::NoContent)
    }

    /// Ends a friendship. 404 when we are not friends.
    #[oai(path = "/:user_id", method = "delete", operation_id = "remove_friend")]
    async fn remove(
        &self,
        auth: Auth,
        state: Data<&AppState>,
        user_id: Path<UserId>,
    ) -> ApiResult<FriendDone> {
        state.friends.remove(auth.actor(), user_id.0).await?;
        Ok(FriendDone::NoContent)
    }
}
