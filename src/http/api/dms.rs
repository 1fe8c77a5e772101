//! `POST /dms`: open (or get) the direct message with a user; `GET /dms/missed`: the DMs with
//! messages I have not read.

use poem::web::Data;
use poem_openapi::{ApiResponse, Object, OpenApi, payload::Json};

use super::{
    ApiTags,
    strict::{Text, UsernameRule},
};
use crate::{
    domain::{Conversation, MissedDm},
    http::{error::ApiResult, security::Auth},
    state::AppState,
};

/// Body of `POST /dms`.
#[derive(Debug, Object)]
#[oai(deny_unknown_fields)]
pub struct OpenDmRequest {
    /// The other user.
    pub username: Text<UsernameRule>,
}

/// The DM.
#[derive(ApiResponse)]
pub enum DmOpened {
    /// It already existed.
    #[oai(status = 200)]
    Existing(Json<Conversation>),
    /// It was created now.
    #[oai(status = 201)]
    Created(Json<Conversation>),
}

/// DMs with messages from the peer after my read position.
#[derive(Debug, Object)]
pub struct MissedDms {
    /// Newest first, at most 100.
    pub missed: Vec<MissedDm>,
}

/// DMs API.
pub struct DmsApi;

#[OpenApi(prefix_path = "/dms", tag = "ApiTags::Dms")]
impl DmsApi {
    /// Opens the direct message with `username`: the same conversation every time for a pair.
    #[oai(path = "/", method = "post", operation_id = "open_dm")]
    async fn open(
        &self,
        auth: Auth,
        state: Data<&AppState>,
        body: Json<OpenDmRequest>,
    ) -> ApiResult<DmOpened> {
        let (view, created) = state
            .conversations
            .open_dm(auth.actor(), &body.0.username)
            .await?;
        Ok(if created {
            DmOpened::Created(Json(view))
        } else {
            DmOpened::Existing(Json(view))
        })
    }

    /// The DMs where the peer wrote after my read position (the missed-PM list at login),
    /// newest first, at most 100; each `count` is capped at 999. Sending `read` up to a DM's
    /// `last_seq` removes it from the list.
    #[oai(path = "/missed", method = "get", operation_id = "get_missed_dms")]
    async fn missed(&self, auth: Auth, state: Data<&AppState>) -> ApiResult<Json<MissedDms>> {
        Ok(Json(MissedDms {
            missed: state.conversations.missed_dms(auth.actor()).await?,
        }))
    }
}
