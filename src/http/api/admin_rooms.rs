//! Room administration: the room list, moderation and admin settings, clearing and deleting
//! rooms, renaming categories (`/admin/rooms…`, `/admin/categories…`).

use poem::web::Data;
use poem_openapi::{
    ApiResponse, Object, OpenApi,
    param::{Path, Query},
    payload::Json,
};

use super::{
    ApiTags,
    strict::{CategoryRule, Limit, OptText, ReasonRule, RoomNameRule, Text, TopicRule},
};
use crate::{
    domain::{AdminRoom, ConversationId, RoomFilter},
    http::{error::ApiResult, security::Auth},
    service::conversations::AdminRoomInput,
    state::AppState,
};

/// A page of the admin room list.
#[derive(Debug, Clone, Object)]
#[oai(skip_serializing_if_is_none)]
pub struct AdminRoomPage {
    /// This page's rooms, by name.
    pub rooms: Vec<AdminRoom>,
    /// Pass as `cursor` to get the next page; absent on the last page.
    pub next_cursor: Option<String>,
}

/// Body of `PATCH /admin/rooms/{id}`: each given field replaces the stored one.
#[derive(Debug, Object)]
#[oai(deny_unknown_fields)]
pub struct AdminRoomRequest {
    /// Nobody new may join (holders of `rooms.moderate` still may). Needs `rooms.moderate`.
    pub locked: Option<bool>,
    /// Only the room's owner and moderators (and holders of `rooms.moderate`) may post. Needs
    /// `rooms.moderate`.
    pub read_only: Option<bool>,
    /// Seconds a plain member waits between two messages: 0 (off) to 21600 (6 hours); else 422
    /// `invalid_slowmode`. Needs `rooms.moderate`.
    pub slowmode_secs: Option<i64>,
    /// Topic (≤ 512 characters; empty clears it). Needs `rooms.moderate`.
    pub topic: OptText<TopicRule>,
    /// Directory category (≤ 64 characters; empty clears it). Needs `rooms.moderate`.
    pub category: OptText<CategoryRule>,
    /// New name (1–64 characters, unique). Needs `rooms.manage`.
    pub name: OptText<RoomNameRule>,
    /// Official (server) room. Needs `rooms.manage`. Official rooms of the config file are
    /// made official again at the next start.
    pub official: Option<bool>,
    /// Every new account joins it. Needs `rooms.manage`.
    pub auto_join: Option<bool>,
}

/// Body of `POST /admin/rooms/{id}/clear`.
#[derive(Debug, Object)]
#[oai(deny_unknown_fields)]
pub struct ClearHistoryRequest {
    /// Why (1–500 characters; kept in the audit log).
    pub reason: Text<ReasonRule>,
}

/// Answer of `POST /admin/rooms/{id}/clear`.
#[derive(Debug, Object)]
pub struct HistoryCleared {
    /// History now starts after this seq (the room's `last_seq` when it was cleared).
    pub cleared_seq: i64,
}

/// Body of `PUT /admin/categories/{name}`.
#[derive(Debug, Object)]
#[oai(deny_unknown_fields)]
pub struct RenameCategoryRequest {
    /// The new category name (1–64 characters).
    pub name: Text<CategoryRule>,
}

/// Answer of `PUT /admin/categories/{name}`.
#[derive(Debug, Object)]
pub struct CategoryRenamed {
    /// How many rooms changed category.
    pub rooms: u64,
}

/// Deleted, nothing to return.
#[derive(ApiResponse)]
pub enum Deleted {
    /// Deleted.
    #[oai(status = 204)]
    NoContent,
}

/// Room administration API.
pub struct AdminRoomsApi;

#[OpenApi(prefix_path = "/admin", tag = "ApiTags::Admin")]
impl AdminRoomsApi {
    /// Rooms (never groups or DMs) by name, with their moderation settings (needs
    /// `rooms.moderate`). Paged: pass `next_cursor` back as `cursor`.
    #[oai(path = "/rooms", method = "get", operation_id = "admin_list_rooms")]
    async fn list(
        &self,
        auth: Auth,
        state: Data<&AppState>,
        /// Only `official`, `public`, `private`, `locked` or `read_only` rooms.
        filter: Query<Option<RoomFilter>>,
        /// Only rooms whose name contains this text (≤ 64 characters, case-insensitive).
        q: Query<Option<String>>,
        /// `next_cursor` of the previous page.
        cursor: Query<Option<String>>,
        /// Page size.
        limit: Query<Limit<50, 200>>,
    ) -> ApiResult<Json<AdminRoomPage>> {
        let page = state
            .conversations
            .admin_rooms(
                auth.actor(),
                filter.0,
                q.0.as_deref(),
                cursor.0.as_deref(),
                limit.0.0,
            )
            .await?;
        Ok(Json(AdminRoomPage {
            rooms: page.items,
            next_cursor: page.next_cursor,
        }))
    }

    /// One room with its moderation settings (needs `rooms.moderate`).
    #[oai(path = "/rooms/:id", method = "get", operation_id = "admin_get_room")]
    async fn get(
        &self,
        auth: Auth,
        state: Data<&AppState>,
        id: Path<ConversationId>,
    ) -> ApiResult<Json<AdminRoom>> {
        Ok(Json(
            state.conversations.admin_room(auth.actor(), id.0).await?,
        ))
    }

    /// Changes a room's settings: lock, read-only, slowmode, topic and category need
    /// `rooms.moderate`; name, official and auto-join need `rooms.manage`. Members get
    /// `conversation_updated`; audited as `room.settings_changed`.
    #[oai(
        path = "/rooms/:id",
        method = "patch",
        operation_id = "admin_update_room"
    )]
    async fn update(
        &self,
        auth: Auth,
        state: Data<&AppState>,
        id: Path<ConversationId>,
        body: Json<AdminRoomRequest>,
    ) -> ApiResult<Json<AdminRoom>> {
        let Json(req) = body;
        let input = AdminRoomInput {
            locked: req.locked,
            read_only: req.read_only,
            slowmode_secs: req.slowmode_secs,
            topic: req.topic.into_inner(),
            category: req.category.into_inner(),
            name: req.name.into_inner(),
            official: req.official,
            auto_join: req.auto_join,
        };
        Ok(Json(
            state
                .conversations
                .admin_update_room(auth.actor(), id.0, input)
                .await?,
        ))
    }

    /// Clears a room's history (needs `rooms.moderate`): history, `resume` and unread counts
    /// start after its current `last_seq`. Members get `history_cleared`; audited as
    /// `room.history_cleared` with the reason.
    #[oai(
        path = "/rooms/:id/clear",
        method = "post",
        operation_id = "admin_clear_room"
    )]
    async fn clear(
        &self,
        auth: Auth,
        state: Data<&AppState>,
        id: Path<ConversationId>,
        body: Json<ClearHistoryRequest>,
    ) -> ApiResult<Json<HistoryCleared>> {
        let cleared_seq = state
            .conversations
            .clear_history(auth.actor(), id.0, Some(body.0.reason.as_str()))
            .await?;
        Ok(Json(HistoryCleared { cleared_seq }))
    }

    /// Deletes a room for good with its messages, members and reports (needs `rooms.manage`).
    /// Everyone in it gets `conversation_deleted`; audited as `room.deleted` with its name.
    /// Groups and DMs are 404 here.
    #[oai(
        path = "/rooms/:id",
        method = "delete",
        operation_id = "admin_delete_room"
    )]
    async fn delete(
        &self,
        auth: Auth,
        state: Data<&AppState>,
        id: Path<ConversationId>,
        /// Why (1–500 characters; kept in the audit log).
        reason: Query<Option<String>>,
    ) -> ApiResult<Deleted> {
        state
            .conversations
            .delete_room(auth.actor(), id.0, reason.0.as_deref())
            .await?;
        Ok(Deleted::NoContent)
    }

    /// Renames a category on every room that has it (needs `rooms.manage`). Members of each
    /// room get `conversation_updated`; audited as `category.renamed`.
    #[oai(
        path = "/categories/:name",
        method = "put",
        operation_id = "admin_rename_category"
    )]
    async fn rename_category(
        &self,
        auth: Auth,
        state: Data<&AppState>,
        /// The current category name (exact).
        name: Path<String>,
        body: Json<RenameCategoryRequest>,
    ) -> ApiResult<Json<CategoryRenamed>> {
        let rooms = state
            .conversations
            .rename_category(auth.actor(), &name.0, body.0.name.as_str())
            .await?;
        Ok(Json(CategoryRenamed { rooms }))
    }
}
