//! `GET /sessions`, `DELETE /sessions/{id}`, `POST /sessions/logout-others`,
//! `POST /sessions/logout-all`: my logins on every device, and ending them.

use poem::{
    Request,
    web::{Data, cookie::CookieJar},
};
use poem_openapi::{ApiResponse, Object, OpenApi, param::Path, payload::Json};

use super::ApiTags;
use crate::{
    domain::{SessionId, SessionInfo},
    http::{cookies, error::ApiResult, security::Auth},
    state::AppState,
};

/// My live sessions.
#[derive(Debug, Object)]
pub struct SessionList {
    /// Most recently active first; the one that made this request has `current: true`.
    pub sessions: Vec<SessionInfo>,
}

/// How many sessions ended.
#[derive(Debug, Object)]
pub struct SessionsEnded {
    /// Number of sessions that were live and are now ended.
    pub ended: u64,
}

/// A session ended.
#[derive(ApiResponse)]
pub enum SessionEnded {
    /// It ended: its tokens are refused and its WebSockets closed with 1008 (`logout` when it
    /// was this session — then the cookies are cleared too — else `logged_out_elsewhere`).
    #[oai(status = 204)]
    NoContent,
}

/// Sessions API.
pub struct SessionsApi;

#[OpenApi(prefix_path = "/sessions", tag = "ApiTags::Sessions")]
impl SessionsApi {
    /// Lists my live sessions: device (from the User-Agent at login), address, login time,
    /// latest activity, and which one is this.
    #[oai(path = "/", method = "get", operation_id = "list_sessions")]
    async fn list(&self, auth: Auth, state: Data<&AppState>) -> ApiResult<Json<SessionList>> {
        let sessions = state.sessions.list(auth.actor()).await?;
        Ok(Json(SessionList { sessions }))
    }

    /// Ends one of my sessions. Another user's session, an unknown id and an ended session all
    /// answer 404.
    #[oai(path = "/:id", method = "delete", operation_id = "end_session")]
    async fn end(
        &self,
        req: &Request,
        auth: Auth,
        state: Data<&AppState>,
        jar: &CookieJar,
        id: Path<SessionId>,
    ) -> ApiResult<SessionEnded> {
        state.sessions.end(auth.actor(), id.0).await?;
        if id.0 == auth.actor().session {
            cookies::clear_session(jar, req, &state.config);
        }
        Ok(SessionEnded::NoContent)
    }

    /// Ends every session of mine except this one (reason `logged_out_elsewhere`).
    #[oai(
        path = "/logout-others",
        method = "post",
        operation_id = "logout_other_sessions"
    )]
    async fn logout_others(
        &self,
        auth: Auth,
        state: Data<&AppState>,
    ) -> ApiResult<Json<SessionsEnded>> {
        let ended = state.sessions.end_others(auth.actor()).await?;
        Ok(Json(SessionsEnded {
            ended: ended as u64,
        }))
    }

    /// Ends every session of mine, this one included, and clears the cookies.
    #[oai(
        path = "/logout-all",
        method = "post",
        operation_id = "logout_all_sessions"
    )]
    async fn logout_all(
        &self,
        req: &Request,
        auth: Auth,
        state: Data<&AppState>,
        jar: &CookieJar,
    ) -> ApiResult<Json<SessionsEnded>> {
        let ended = state.sessions.end_all(auth.actor()).await?;
        cookies::clear_session(jar, req, &state.config);
        Ok(Json(SessionsEnded {
            ended: ended as u64,
        }))
    }
}
