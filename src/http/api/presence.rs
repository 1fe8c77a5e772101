//! My presence: `GET /presence` and `PUT /presence` (choice and custom status text).
//! What others see arrives over the WebSocket as `presence` frames; my own changes, from any tab,
//! as `my_presence` (docs/realtime.md).

use poem::web::Data;
use poem_openapi::{Object, OpenApi, payload::Json};

use super::{
    ApiTags,
    strict::{OptText, StatusTextRule},
};
use crate::{
    domain::{MyPresence, PresenceChoice},
    http::{error::ApiResult, security::Auth},
    service::PresenceChange,
    state::AppState,
};

/// Body of `PUT /presence`; absent fields stay as they are.
#[derive(Debug, Object)]
#[oai(deny_unknown_fields)]
pub struct PresenceUpdate {
    /// `online` (turns `away` by itself after `auto_away_secs` without activity), `away`,
    /// `busy`, or `invisible` (shown as offline to everyone; refused with 403
    /// `invisible_disabled` when the server does not allow it).
    pub choice: Option<PresenceChoice>,
    /// Custom status text shown next to my name to those who may see my presence: at most 128
    /// characters, no control, line-separator or bidirectional-formatting characters (422
    /// `invalid_status_text`); `""` removes it.
    pub status_text: OptText<StatusTextRule>,
}

/// Presence API.
pub struct PresenceApi;

#[OpenApi(prefix_path = "/presence", tag = "ApiTags::Presence")]
impl PresenceApi {
    /// My presence: what I chose, what others see now, my status text, and the server's
    /// auto-away and invisible settings.
    #[oai(path = "/", method = "get", operation_id = "get_presence")]
    async fn get(&self, auth: Auth, state: Data<&AppState>) -> ApiResult<Json<MyPresence>> {
        Ok(Json(state.presence.get(auth.actor()).await?))
    }

    /// Changes my presence choice and/or custom status text. My other tabs get `my_presence`;
    /// those who may see my presence (friends, fellow members of DMs, groups and private rooms)
    /// get `presence` when what they see changed.
    #[oai(path = "/", method = "put", operation_id = "set_presence")]
    async fn set(
        &self,
        auth: Auth,
        state: Data<&AppState>,
        body: Json<PresenceUpdate>,
    ) -> ApiResult<Json<MyPresence>> {
        let body = body.0;
        let change = PresenceChange {
            choice: body.choice,
            status_text: body.status_text.into_inner(),
        };
        Ok(Json(state.presence.set(auth.actor(), change).await?))
    }
}
