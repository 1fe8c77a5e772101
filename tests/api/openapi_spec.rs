//! The OpenAPI document: committed copy is current; every operation is tagged and named.

use serde_json::Value;

#[test]
fn committed_openapi_json_is_current() {
    let current = echochat::http::openapi_json();
    let path = concat!(env!("CARGO_MANIFEST_DIR"), "/openapi/openapi.json");
    let committed = std::fs::read_to_string(path).unwrap_or_default();
    assert!(
        committed.trim() == current.trim(),
        "openapi/openapi.json is stale: run `cargo run -- openapi > openapi/openapi.json`"
    );
}

#[test]
fn every_operation_has_a_tag_a_snake_case_id_and_json_errors() {
    let spec: Value = serde_json::from_str(&echochat::http::openapi_json()).unwrap();
    let mut ids = Vec::new();
    for (path, item) in spec["paths"].as_object().unwrap() {
        for (method, op) in item.as_object().unwrap() {
            let id = op["operationId"]
                .as_str()
                .unwrap_or_else(|| panic!("{method} {path} has no operationId"));
            assert!(
                id.chars().all(|c| c.is_ascii_lowercase() || c == '_'),
                "{id} is snake_case"
            );
            assert!(
                op["tags"].as_array().is_some_and(|t| !t.is_empty()),
                "{id} has a tag"
            );
            let responses = op["responses"].as_object().unwrap();
            assert!(
                responses.keys().any(|s| s.starts_with('5')),
                "{id} documents a 5xx"
            );
            for (status, response) in responses {
                if status.starts_with('4') || status == "500" {
                    let schema =
                        &response["content"]["application/json; charset=utf-8"]["schema"]["$ref"];
                    assert_eq!(
                        schema, "#/components/schemas/ErrorBody",
                        "{id} {status} is a JSON error"
                    );
                }
            }
            if !id.starts_with("get_health")
                && ![
                    "get_setup_status",
                    "get_server_tls",
                    "get_server_info",
                    "complete_setup",
                    "register",
                    "login",
                    "refresh_session",
                    "logout",
                    "request_password_reset",
                    "confirm_password_reset",
                    "verify_email",
                ]
                .contains(&id)
            {
                assert!(
                    op["security"].as_array().is_some_and(|s| !s.is_empty()),
                    "{id} needs credentials"
                );
            } else {
                assert_eq!(
                    op["security"],
                    serde_json::json!([]),
                    "{id} is public and says so"
                );
            }
            ids.push(id.to_owned());
        }
    }
    let n = ids.len();
    ids.sort();
    ids.dedup();
    assert_eq!(ids.len(), n, "operation ids are unique");
    for expected in [
        "register",
        "login",
        "refresh_session",
        "logout",
        "get_me",
        "list_rooms",
        "create_room",
        "join_room",
        "leave_room",
        "invite_to_room",
        "open_dm",
        "list_conversations",
        "list_messages",
        "send_message",
        "get_health",
        "complete_setup",
    ] {
        assert!(ids.iter().any(|i| i == expected), "{expected} missing");
    }
}

#[test]
fn the_web_clients_audit_filter_offers_every_action() {
    let path = concat!(env!("CARGO_MANIFEST_DIR"), "/assets/js/ui/admin/audit.js");
    let source = std::fs::read_to_string(path).expect("read admin/audit.js");
    let line = source
        .lines()
        .find(|l| l.starts_with("const ACTIONS = ["))
        .expect("admin/audit.js declares ACTIONS");
    let offered: Vec<&str> = line.split('\'').skip(1).step_by(2).collect();
    let actions: Vec<&str> = echochat::domain::AuditAction::ALL
        .iter()
        .map(|a| a.as_str())
        .collect();
    assert_eq!(
        offered, actions,
        "ACTIONS in assets/js/ui/admin/audit.js must list AuditAction, in order"
    );
}
