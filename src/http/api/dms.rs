//! `POST /dms`: open (or get) the direct message with a user.

use super::strict::Text;
use poem::web::Data;
use poem_openapi::{ApiResponse, Object, OpenApi, payload::Json};

use super::{ApiTags, dto::Conversation};
use crate::{
    http::{error::ApiResult, security::Auth},
    state::AppState,
};

/// Body of `POST /dms`.
#[derive(Debug, Object)]
pub struct OpenDmRequest {
    /// The other user.
    pub username: Text,
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
            .open_dm(auth.user(), &body.0.username)
            .await?;
        Ok(if created {
            DmOpened::Created(Json(view.into()))
        } else {
            DmOpened::Existing(Json(view.into()))
        })
    }
}
