//! The machine-readable description of the WebSocket protocol: an **AsyncAPI 3.0** document
//! (openapi/realtime.json, printed by `echochat asyncapi`), generated from the frame types in
//! [`super::protocol`] through the same poem-openapi schema registry that writes the REST spec.
//!
//! Why AsyncAPI rather than a bare JSON Schema: it is the standard description of message-driven
//! APIs (channel address, direction of each message, authentication), AsyncAPI tools render and
//! generate code from it, and its payload schemas are plain JSON Schema, so the shared types
//! (`User`, `Conversation`, `Message`…) are the very same schemas as in openapi/openapi.json.
//! The tests validate every frame they receive against it.

use poem_openapi::{registry::Registry, types::Type};
use serde_json::{Map, Value, json};

use super::protocol::{ClientFrame, ServerFrame};
use crate::VERSION;

/// The AsyncAPI 3.0 document of `/api/v1/ws`.
pub fn asyncapi() -> Value {
    let mut registry = Registry::new();
    <ServerFrame as Type>::register(&mut registry);
    <ClientFrame as Type>::register(&mut registry);
    let mut schemas = serde_json::to_value(&registry.schemas).unwrap_or_default();
    crate::spec::unwrap_described_refs(&mut schemas);
    let server = mappings(&schemas, "ServerFrame");
    let client = mappings(&schemas, "ClientFrame");
    discriminators_to_property_names(&mut schemas);

    let mut messages = Map::new();
    let mut channel_messages = Map::new();
    let mut refs = |side: &str, list: &[(String, String)]| -> Vec<Value> {
        list.iter()
            .map(|(name, schema)| {
                let id = format!("{side}_{name}");
                let description = schemas
                    .pointer(&format!("/{}/description", schema_name(schema)))
                    .cloned()
                    .unwrap_or(Value::Null);
                let mut message = json!({
                    "name": name,
                    "title": format!("{name} ({side} frame)"),
                    "payload": {"$ref": schema},
                });
                if !description.is_null() {
                    message["summary"] = description;
                }
                messages.insert(id.clone(), message);
                channel_messages.insert(
                    id.clone(),
                    json!({"$ref": format!("#/components/messages/{id}")}),
                );
                json!({"$ref": format!("#/channels/ws/messages/{id}")})
            })
            .collect()
    };
    let server_refs = refs("server", &server);
    let client_refs = refs("client", &client);

    json!({
        "asyncapi": "3.0.0",
        "info": {
            "title": "EchoChat realtime protocol",
            "version": VERSION,
            "description": "The WebSocket at /api/v1/ws: JSON text frames with a `type` field. \
                The server sends `ready` first; see docs/realtime.md for ordering, resume and \
                close codes. Shared objects (User, Conversation, Message) are the same schemas \
                as in the REST API's OpenAPI document.",
            "license": {"name": "BSD-2-Clause"}
        },
        "defaultContentType": "application/json",
        "servers": {
            "echochat": {
                "host": "localhost:8080",
                "protocol": "ws",
                "pathname": "/api/v1/ws",
                "description": "Any EchoChat server (wss behind TLS).",
                "security": [
                    {"$ref": "#/components/securitySchemes/bearer"},
                    {"$ref": "#/components/securitySchemes/cookie"}
                ]
            }
        },
        "channels": {
            "ws": {
                "address": "/api/v1/ws",
                "title": "One WebSocket per client",
                "messages": channel_messages
            }
        },
        "operations": {
            "sendServerFrames": {
                "action": "send",
                "title": "Frames the server sends",
                "channel": {"$ref": "#/channels/ws"},
                "messages": server_refs
            },
            "receiveClientFrames": {
                "action": "receive",
                "title": "Frames the server accepts",
                "channel": {"$ref": "#/channels/ws"},
                "messages": client_refs
            }
        },
        "components": {
            "securitySchemes": {
                "bearer": {"type": "http", "scheme": "bearer", "bearerFormat": "JWT",
                           "description": "Authorization: Bearer <access token> on the upgrade request."},
                "cookie": {"type": "httpApiKey", "in": "cookie", "name": "echochat_access",
                           "description": "Browsers: the access cookie; the Origin must be the server's own."}
            },
            "messages": messages,
            "schemas": schemas
        }
    })
}

/// The AsyncAPI document as pretty JSON (what openapi/realtime.json holds).
pub fn asyncapi_json() -> String {
    serde_json::to_string_pretty(&asyncapi()).unwrap_or_default()
}

/// `(type value, schema ref)` of each variant of a union, in declaration order.
fn mappings(schemas: &Value, union: &str) -> Vec<(String, String)> {
    schemas
        .pointer(&format!("/{union}/discriminator/mapping"))
        .and_then(Value::as_object)
        .map(|m| {
            m.iter()
                .map(|(k, v)| (k.clone(), v.as_str().unwrap_or_default().to_owned()))
                .collect()
        })
        .unwrap_or_default()
}

fn schema_name(reference: &str) -> &str {
    reference.rsplit('/').next().unwrap_or(reference)
}

/// AsyncAPI's schema object names the discriminator property with a string, where OpenAPI uses
/// `{propertyName, mapping}`.
fn discriminators_to_property_names(doc: &mut Value) {
    match doc {
        Value::Object(map) => {
            if let Some(name) = map
                .get("discriminator")
                .and_then(|d| d.get("propertyName"))
                .cloned()
            {
                map.insert("discriminator".into(), name);
            }
            map.values_mut().for_each(discriminators_to_property_names);
        }
        Value::Array(items) => items.iter_mut().for_each(discriminators_to_property_names),
        _ => {}
    }
}
