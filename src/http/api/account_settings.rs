//! My account settings: `GET /users/me/settings` and `PUT /users/me/settings` (a partial change).
//! Every connection of mine learns a change from a `settings_updated` frame; a new connection
//! finds them in `ready.settings` (docs/realtime.md).

use std::borrow::Cow;

use poem::web::Data;
use poem_openapi::{
    OpenApi,
    payload::Json,
    registry::{MetaSchemaRef, Registry},
    types::{ParseFromJSON, ParseResult, Type},
};
use serde_json::Value;

use super::ApiTags;
use crate::{
    domain::{AccountSettings, AccountSettingsPatch},
    http::{error::ApiResult, security::Auth},
    state::AppState,
};

/// The body of `PUT /users/me/settings` as received. The spec shows it as
/// [`AccountSettingsPatch`]; it is parsed by the domain ([`AccountSettingsPatch::parse`]) so
/// that every wrong key or value is a 422 `invalid_settings` naming it, not a generic 400.
#[derive(Debug)]
pub struct SettingsPatchBody(pub Value);

impl Type for SettingsPatchBody {
    const IS_REQUIRED: bool = true;
    type RawValueType = Self;
    type RawElementValueType = Self;

    fn name() -> Cow<'static, str> {
        AccountSettingsPatch::name()
    }

    fn schema_ref() -> MetaSchemaRef {
        AccountSettingsPatch::schema_ref()
    }

    fn register(registry: &mut Registry) {
        AccountSettingsPatch::register(registry);
    }

    fn as_raw_value(&self) -> Option<&Self::RawValueType> {
        Some(self)
    }

    fn raw_element_iter<'a>(
        &'a self,
    ) -> Box<dyn Iterator<Item = &'a Self::RawElementValueType> + 'a> {
        Box::new(self.as_raw_value().into_iter())
    }
}

impl ParseFromJSON for SettingsPatchBody {
    fn parse_from_json(value: Option<Value>) -> ParseResult<Self> {
        Ok(Self(value.unwrap_or_default()))
    }
}

/// Account settings API.
pub struct AccountSettingsApi;

#[OpenApi(prefix_path = "/users/me/settings", tag = "ApiTags::Users")]
impl AccountSettingsApi {
    /// My account settings: theme, accent colour, text size, how friends' status shows, the
    /// missed-messages toast, popup notifications, sounds and read receipts. Keys I never
    /// changed have their defaults.
    #[oai(path = "/", method = "get", operation_id = "get_account_settings")]
    async fn get(&self, auth: Auth, state: Data<&AppState>) -> ApiResult<Json<AccountSettings>> {
        Ok(Json(state.account_settings.get(auth.actor()).await?))
    }

    /// Changes some of my account settings: only the keys given change (`{}` changes
    /// nothing). Answers the whole settings object; every connection of mine gets
    /// `settings_updated`. Errors: 422 `invalid_settings` (an unknown key, a `null`, a value of
    /// the wrong type or not in its set, an accent that is not `#rrggbb`; nothing changes),
    /// 429 `rate_limited` (60 changes a minute, bursts of 30).
    #[oai(path = "/", method = "put", operation_id = "update_account_settings")]
    async fn update(
        &self,
        auth: Auth,
        state: Data<&AppState>,
        body: Json<SettingsPatchBody>,
    ) -> ApiResult<Json<AccountSettings>> {
        Ok(Json(
            state
                .account_settings
                .update(auth.actor(), body.0.0)
                .await?,
        ))
    }
}
