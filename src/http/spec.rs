//! The OpenAPI document as published: poem-openapi's output, post-processed so that generated
//! clients read it as intended.
//!
//! - Properties that are `allOf: [{$ref}, {description}]` become plain `$ref`s
//!   ([`crate::spec::unwrap_described_refs`]).
//! - Each operation lists only the error statuses it can return ([`ERROR_STATUSES`]); the shared
//!   `ApiError` type carries them all. The tests validate every response they receive against
//!   the document, so a status missing here fails a test.
//! - Public operations say so with `security: []`.
//!
//! [`allowed_methods`] serves the `Allow` header of 405 answers from the same document.

use std::sync::LazyLock;

use serde_json::Value;

/// Error statuses each operation can return, by `operationId`. 400: unparsable body, path or
/// query; 401: missing or bad credentials; 403: Origin check of cookie requests, permissions;
/// 408/413/415: the body of a POST/PUT/PATCH/DELETE was too slow, too large or not JSON; 429:
/// a rate limit of `[limits]` (with `Retry-After`; see `service::limits`); 503:
/// shutting down (health: the database does not answer). Every operation also lists 503
/// `too_many_connections` (the connection limit, answered before any routing); see [`finish`].
pub const ERROR_STATUSES: &[(&str, &[u16])] = &[
    ("get_health", &[503]),
    ("get_health_live", &[]),
    ("get_health_ready", &[503]),
    ("get_server_tls", &[]),
    ("get_setup_status", &[500]),
    ("complete_setup", &[400, 403, 408, 409, 413, 415, 422, 500]),
    ("register", &[400, 403, 408, 409, 413, 415, 422, 429, 500]),
    ("login", &[400, 401, 403, 408, 413, 415, 429, 500]),
    (
        "request_password_reset",
        &[400, 403, 408, 413, 415, 429, 500],
    ),
    (
        "confirm_password_reset",
        &[400, 403, 408, 413, 415, 422, 429, 500],
    ),
    ("verify_email", &[400, 403, 408, 413, 415, 500]),
    ("list_sessions", &[401, 500]),
    ("end_session", &[400, 401, 403, 404, 408, 413, 500]),
    ("logout_other_sessions", &[400, 401, 403, 408, 413, 500]),
    ("logout_all_sessions", &[400, 401, 403, 408, 413, 500]),
    (
        "update_profile",
        &[400, 401, 403, 408, 409, 413, 415, 422, 500],
    ),
    ("change_password", &[400, 401, 403, 408, 413, 415, 422, 500]),
    (
        "set_recovery_pin",
        &[400, 401, 403, 408, 413, 415, 422, 500],
    ),
    ("remove_recovery_pin", &[400, 401, 403, 408, 413, 415, 500]),
    ("get_account_settings", &[401, 500]),
    (
        "update_account_settings",
        &[400, 401, 403, 408, 413, 415, 422, 429, 500],
    ),
    ("get_presence", &[401, 500]),
    ("set_presence", &[400, 401, 403, 408, 413, 415, 422, 500]),
    ("refresh_session", &[400, 401, 403, 408, 413, 415, 429, 500]),
    ("logout", &[400, 403, 408, 413, 415, 500]),
    ("get_me", &[401, 500]),
    ("delete_me", &[400, 401, 403, 408, 409, 413, 415, 500]),
    ("list_rooms", &[400, 401, 422, 500]),
    ("list_room_categories", &[401, 500]),
    (
        "create_room",
        &[400, 401, 403, 408, 409, 413, 415, 422, 429, 500],
    ),
    (
        "update_room",
        &[400, 401, 403, 404, 408, 413, 415, 422, 500],
    ),
    ("join_room", &[400, 401, 403, 404, 408, 413, 429, 500]),
    ("leave_room", &[400, 401, 403, 404, 408, 413, 500]),
    (
        "invite_to_room",
        &[400, 401, 403, 404, 408, 409, 413, 415, 429, 500],
    ),
    ("open_dm", &[400, 401, 403, 404, 408, 413, 415, 422, 500]),
    ("get_missed_dms", &[401, 500]),
    ("list_friends", &[401, 500]),
    (
        "send_friend_request",
        &[400, 401, 403, 404, 408, 409, 413, 415, 422, 429, 500],
    ),
    (
        "accept_friend_request",
        &[400, 401, 403, 404, 408, 413, 500],
    ),
    (
        "decline_friend_request",
        &[400, 401, 403, 404, 408, 413, 500],
    ),
    (
        "cancel_friend_request",
        &[400, 401, 403, 404, 408, 413, 500],
    ),
    ("remove_friend", &[400, 401, 403, 404, 408, 413, 500]),
    ("list_blocks", &[401, 500]),
    ("block_user", &[400, 401, 403, 404, 408, 413, 422, 500]),
    ("unblock_user", &[400, 401, 403, 404, 408, 413, 500]),
    (
        "create_group",
        &[400, 401, 403, 408, 413, 415, 422, 429, 500],
    ),
    ("list_groups", &[401, 500]),
    (
        "update_group",
        &[400, 401, 403, 404, 408, 413, 415, 422, 500],
    ),
    (
        "invite_to_group",
        &[400, 401, 403, 404, 408, 409, 413, 415, 429, 500],
    ),
    (
        "set_group_member_role",
        &[400, 401, 403, 404, 408, 413, 415, 422, 500],
    ),
    (
        "transfer_group",
        &[400, 401, 403, 404, 408, 413, 415, 422, 500],
    ),
    (
        "mute_group_member",
        &[400, 401, 403, 404, 408, 413, 415, 422, 500],
    ),
    (
        "unmute_group_member",
        &[400, 401, 403, 404, 408, 413, 422, 500],
    ),
    (
        "kick_group_member",
        &[400, 401, 403, 404, 408, 413, 422, 500],
    ),
    ("leave_group", &[400, 401, 403, 404, 408, 409, 413, 500]),
    ("list_invitations", &[401, 500]),
    ("accept_invitation", &[400, 401, 403, 404, 408, 413, 500]),
    ("decline_invitation", &[400, 401, 403, 404, 408, 413, 500]),
    ("list_conversations", &[400, 401, 422, 500]),
    ("get_conversation", &[400, 401, 404, 500]),
    ("list_members", &[400, 401, 403, 404, 422, 500]),
    ("list_messages", &[400, 401, 403, 404, 422, 500]),
    ("search_messages", &[400, 401, 403, 422, 429, 500]),
    (
        "send_message",
        &[400, 401, 403, 404, 408, 409, 413, 415, 422, 429, 500, 503],
    ),
    ("mark_read", &[400, 401, 403, 404, 408, 413, 415, 500]),
    ("get_message", &[400, 401, 403, 404, 500]),
    (
        "edit_message",
        &[400, 401, 403, 404, 408, 409, 413, 415, 422, 429, 500, 503],
    ),
    (
        "add_reaction",
        &[400, 401, 403, 404, 409, 422, 429, 500, 503],
    ),
    (
        "remove_reaction",
        &[400, 401, 403, 404, 409, 422, 429, 500, 503],
    ),
    ("list_reactions", &[400, 401, 403, 404, 500]),
    ("list_pins", &[400, 401, 403, 404, 500]),
    ("pin_message", &[400, 401, 403, 404, 409, 429, 500, 503]),
    ("unpin_message", &[400, 401, 403, 404, 409, 429, 500, 503]),
    ("list_receipts", &[400, 401, 403, 404, 500]),
    (
        "set_notification_level",
        &[400, 401, 403, 404, 408, 413, 415, 422, 500],
    ),
    (
        "set_user_role",
        &[400, 401, 403, 404, 408, 409, 413, 415, 500],
    ),
    ("list_audit_log", &[400, 401, 403, 422, 500]),
    ("admin_whoami", &[401, 403, 500]),
    ("admin_server_status", &[401, 403, 500]),
    (
        "admin_broadcast",
        &[400, 401, 403, 408, 413, 415, 422, 429, 500],
    ),
    ("admin_search_users", &[400, 401, 403, 422, 500]),
    (
        "admin_create_user",
        &[400, 401, 403, 408, 409, 413, 415, 422, 500],
    ),
    ("admin_get_user", &[400, 401, 403, 404, 500]),
    ("admin_reset_link", &[400, 401, 403, 404, 500]),
    (
        "admin_logout_user",
        &[400, 401, 403, 404, 408, 413, 415, 422, 500],
    ),
    (
        "admin_suspend_user",
        &[400, 401, 403, 404, 408, 413, 415, 422, 500],
    ),
    ("admin_unsuspend_user", &[400, 401, 403, 404, 422, 500]),
    (
        "admin_deactivate_user",
        &[400, 401, 403, 404, 408, 413, 415, 422, 500],
    ),
    ("admin_reactivate_user", &[400, 401, 403, 404, 422, 500]),
    (
        "admin_mute_user",
        &[400, 401, 403, 404, 408, 413, 415, 422, 500],
    ),
    ("admin_unmute_user", &[400, 401, 403, 404, 422, 500]),
    (
        "admin_shadowban_user",
        &[400, 401, 403, 404, 408, 413, 415, 422, 500],
    ),
    ("admin_unshadowban_user", &[400, 401, 403, 404, 422, 500]),
    ("admin_grant_role", &[400, 401, 403, 404, 409, 422, 500]),
    ("admin_revoke_role", &[400, 401, 403, 404, 409, 422, 500]),
    ("admin_list_roles", &[401, 403, 500]),
    (
        "admin_create_role",
        &[400, 401, 403, 408, 409, 413, 415, 422, 500],
    ),
    (
        "admin_update_role",
        &[400, 401, 403, 404, 408, 409, 413, 415, 422, 500],
    ),
    ("admin_delete_role", &[400, 401, 403, 404, 409, 500]),
    ("admin_list_rooms", &[400, 401, 403, 422, 500]),
    ("admin_get_room", &[400, 401, 403, 404, 500]),
    (
        "admin_update_room",
        &[400, 401, 403, 404, 408, 409, 413, 415, 422, 500],
    ),
    (
        "admin_clear_room",
        &[400, 401, 403, 404, 408, 413, 415, 422, 500],
    ),
    (
        "admin_delete_room",
        &[400, 401, 403, 404, 408, 413, 422, 500],
    ),
    (
        "admin_rename_category",
        &[400, 401, 403, 408, 413, 415, 422, 500],
    ),
    ("list_reports", &[400, 401, 403, 422, 500]),
    (
        "resolve_report",
        &[400, 401, 403, 404, 408, 413, 415, 422, 500],
    ),
    (
        "kick_room_member",
        &[400, 401, 403, 404, 408, 413, 415, 422, 500],
    ),
    (
        "ban_room_member",
        &[400, 401, 403, 404, 408, 413, 415, 422, 500],
    ),
    ("unban_room_member", &[400, 401, 403, 404, 408, 413, 500]),
    (
        "delete_message",
        &[400, 401, 403, 404, 408, 413, 422, 429, 500, 503],
    ),
    (
        "report_message",
        &[400, 401, 403, 404, 408, 413, 415, 422, 500],
    ),
    ("get_server_info", &[]),
    ("list_settings", &[401, 403, 500]),
    ("update_settings", &[400, 401, 403, 408, 413, 415, 422, 500]),
    ("reset_setting", &[400, 401, 403, 408, 413, 422, 500]),
    ("create_invite", &[400, 401, 403, 408, 413, 415, 422, 500]),
    ("list_invites", &[401, 403, 500]),
    ("revoke_invite", &[400, 401, 403, 404, 408, 413, 500]),
];

/// Applies the post-processing to poem-openapi's document.
pub fn finish(doc: &mut Value) {
    crate::spec::unwrap_described_refs(doc);
    let Some(paths) = doc.get_mut("paths").and_then(Value::as_object_mut) else {
        return;
    };
    for item in paths.values_mut().filter_map(Value::as_object_mut) {
        for op in item.values_mut().filter_map(Value::as_object_mut) {
            let id = op
                .get("operationId")
                .and_then(Value::as_str)
                .unwrap_or_default()
                .to_owned();
            let allowed = ERROR_STATUSES
                .iter()
                .find(|(op_id, _)| *op_id == id)
                .map(|(_, statuses)| *statuses);
            if let Some(responses) = op.get_mut("responses").and_then(Value::as_object_mut) {
                responses.retain(|status, _| {
                    let code: u16 = status.parse().unwrap_or(0);
                    code < 400 || allowed.is_some_and(|a| a.contains(&code))
                });
                for response in responses.values_mut() {
                    title_case_headers(response);
                }
                responses.entry("503").or_insert_with(|| {
                    serde_json::json!({
                        "description": "The server is at its connection limit \
                            (`too_many_connections`); retry shortly.",
                        "content": {"application/json; charset=utf-8": {
                            "schema": {"$ref": "#/components/schemas/ErrorBody"}
                        }}
                    })
                });
            }
            if !op.contains_key("security") {
                op.insert("security".into(), Value::Array(Vec::new()));
            }
        }
    }
}

/// poem-openapi writes response header names in upper case (`RETRY-AFTER`); the document
/// shows them as RFC 9110 spells them (`Retry-After`). Header names are case-insensitive.
fn title_case_headers(response: &mut Value) {
    let Some(headers) = response.get_mut("headers").and_then(Value::as_object_mut) else {
        return;
    };
    let taken = std::mem::take(headers);
    for (name, value) in taken {
        let name = name
            .split('-')
            .map(|word| {
                let lower = word.to_ascii_lowercase();
                let mut chars = lower.chars();
                chars.next().map_or_else(String::new, |first| {
                    first.to_ascii_uppercase().to_string() + chars.as_str()
                })
            })
            .collect::<Vec<_>>()
            .join("-");
        headers.insert(name, value);
    }
}

struct Template {
    segments: Vec<Option<String>>,
    allow: String,
}

static TEMPLATES: LazyLock<Vec<Template>> = LazyLock::new(|| {
    let doc: Value = serde_json::from_str(&super::openapi_json()).unwrap_or_default();
    let mut out = Vec::new();
    for (path, item) in doc["paths"].as_object().into_iter().flatten() {
        let full = format!("/api/v1{path}");
        let segments = full
            .trim_end_matches('/')
            .split('/')
            .map(|s| (!s.starts_with('{')).then(|| s.to_owned()))
            .collect();
        let mut methods: Vec<String> = item
            .as_object()
            .into_iter()
            .flatten()
            .map(|(m, _)| m.to_ascii_uppercase())
            .collect();
        if methods.iter().any(|m| m == "GET") {
            methods.push("HEAD".into());
        }
        out.push(Template {
            segments,
            allow: methods.join(", "),
        });
    }
    out
});

/// The `Allow` header value for a request path of the REST API (RFC 9110 §10.2.1), if the path
/// exists.
pub fn allowed_methods(path: &str) -> Option<&'static str> {
    let parts: Vec<&str> = path.trim_end_matches('/').split('/').collect();
    TEMPLATES
        .iter()
        .find(|t| {
            t.segments.len() == parts.len()
                && t.segments.iter().zip(&parts).all(|(s, p)| match s {
                    Some(s) => s == p,
                    None => !p.is_empty(),
                })
        })
        .map(|t| t.allow.as_str())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_operation_has_an_error_list_and_allow_headers_resolve() {
        let doc: Value = serde_json::from_str(&super::super::openapi_json()).unwrap_or_default();
        let mut ids = Vec::new();
        for item in doc["paths"].as_object().into_iter().flatten() {
            for op in item.1.as_object().into_iter().flatten() {
                ids.push(op.1["operationId"].as_str().unwrap_or_default().to_owned());
            }
        }
        for id in &ids {
            assert!(
                ERROR_STATUSES.iter().any(|(op, _)| op == id),
                "{id} has no entry in ERROR_STATUSES"
            );
        }
        for (op, _) in ERROR_STATUSES {
            assert!(ids.iter().any(|i| i == op), "{op} is not an operation");
        }
        assert_eq!(allowed_methods("/api/v1/health"), Some("GET, HEAD"));
        assert!(allowed_methods("/api/v1/users/me").is_some_and(|a| a.contains("DELETE")));
        assert!(
            allowed_methods("/api/v1/rooms/0193a4c2-5f1e-7b3a-9c2d-4e5f6a7b8c01/join").is_some()
        );
        assert_eq!(allowed_methods("/api/v1/nope"), None);
    }
}
