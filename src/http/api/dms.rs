//! `POST /dms`: open (or get) the direct message with a user.

use poem::web::Data;
use poem_openapi::{ApiResponse, Object, OpenApi, payload::Json};

use super::{
    ApiTags,
    strict::{Text, UsernameRule},
};
use crate::{
    domain::Conversation,
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
}
