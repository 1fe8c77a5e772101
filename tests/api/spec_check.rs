//! Every JSON answer the tests receive is checked against the committed API documents:
//! REST responses against openapi/openapi.json (the status must be listed for the operation and
//! the body must match its schema), WebSocket frames against openapi/realtime.json. Objects are
//! checked strictly here (`additionalProperties: false`), so a field the documents do not
//! describe fails the test that received it.

use std::{
    collections::HashMap,
    sync::{LazyLock, Mutex},
};

use serde_json::{Value, json};

fn load(name: &str) -> Value {
    let path = format!("{}/openapi/{name}", env!("CARGO_MANIFEST_DIR"));
    let text = std::fs::read_to_string(&path).unwrap_or_else(|e| panic!("read {path}: {e}"));
    serde_json::from_str(&text).unwrap_or_else(|e| panic!("{path} is not JSON: {e}"))
}

/// `additionalProperties: false` on every object schema that lists its properties.
fn strict(schemas: &mut Value) {
    for schema in schemas
        .as_object_mut()
        .into_iter()
        .flat_map(|m| m.values_mut())
    {
        if schema.get("properties").is_some() && schema.get("additionalProperties").is_none() {
            schema["additionalProperties"] = json!(false);
        }
    }
}

static OPENAPI: LazyLock<Value> = LazyLock::new(|| {
    let mut doc = load("openapi.json");
    strict(&mut doc["components"]["schemas"]);
    doc
});

static REALTIME: LazyLock<Value> = LazyLock::new(|| {
    let mut doc = load("realtime.json");
    strict(&mut doc["components"]["schemas"]);
    doc
});

static VALIDATORS: LazyLock<Mutex<HashMap<String, std::sync::Arc<jsonschema::Validator>>>> =
    LazyLock::new(Mutex::default);

fn validator(
    key: &str,
    schema: &Value,
    components: &Value,
) -> std::sync::Arc<jsonschema::Validator> {
    let mut cache = VALIDATORS.lock().unwrap();
    if let Some(v) = cache.get(key) {
        return v.clone();
    }
    let root = json!({"components": components, "allOf": [schema]});
    let built = jsonschema::options()
        .with_draft(jsonschema::Draft::Draft7)
        .should_validate_formats(true)
        .build(&root)
        .unwrap_or_else(|e| panic!("schema for {key} does not compile: {e}"));
    let built = std::sync::Arc::new(built);
    cache.insert(key.to_owned(), built.clone());
    built
}

fn check(what: &str, validator: &jsonschema::Validator, instance: &Value) {
    let errors: Vec<String> = validator
        .iter_errors(instance)
        .map(|e| format!("{} at {}", e, e.instance_path()))
        .collect();
    assert!(
        errors.is_empty(),
        "{what} does not match the committed document:\n  {}\n{instance:#}",
        errors.join("\n  ")
    );
}

/// The OpenAPI path template and operation for a request, if the path is part of the API.
fn operation(method: &str, path: &str) -> Option<(&'static str, &'static Value)> {
    let path = path.strip_prefix("/api/v1")?;
    let parts: Vec<&str> = path.trim_end_matches('/').split('/').collect();
    let paths = OPENAPI["paths"].as_object()?;
    for (template, item) in paths {
        let segments: Vec<&str> = template.trim_end_matches('/').split('/').collect();
        let matches = segments.len() == parts.len()
            && segments.iter().zip(&parts).all(|(s, p)| {
                if s.starts_with('{') {
                    !p.is_empty()
                } else {
                    s == p
                }
            });
        if matches {
            return item
                .get(method.to_ascii_lowercase())
                .map(|op| (template.as_str(), op));
        }
    }
    None
}

/// Checks one REST answer. Paths outside `/api/v1`, unknown paths and methods (404/405 from the
/// router) are not operations and are skipped.
pub fn check_response(method: &str, path: &str, status: u16, body: &[u8]) {
    let Some((template, op)) = operation(method, path) else {
        return;
    };
    let id = op["operationId"].as_str().unwrap_or(template);
    let Some(response) = op["responses"].get(status.to_string()) else {
        panic!(
            "{method} {path} ({id}) answered {status}, which the spec does not list for it: {}",
            String::from_utf8_lossy(body)
        );
    };
    let Some(content) = response.get("content").and_then(Value::as_object) else {
        assert!(
            body.is_empty(),
            "{id} {status} has a body the spec does not describe"
        );
        return;
    };
    let Some((_, media)) = content.iter().next() else {
        return;
    };
    let instance: Value = serde_json::from_slice(body).unwrap_or_else(|e| {
        panic!(
            "{id} {status}: body is not JSON ({e}): {}",
            String::from_utf8_lossy(body)
        )
    });
    let v = validator(
        &format!("rest {id} {status}"),
        &media["schema"],
        &OPENAPI["components"],
    );
    check(&format!("{method} {path} ({id}) {status}"), &v, &instance);
}

/// Checks one server → client WebSocket frame against the schema of its `type`.
pub fn check_frame(frame: &Value) {
    let kind = frame["type"].as_str().unwrap_or_default();
    let message = REALTIME["components"]["messages"]
        .get(format!("server_{kind}"))
        .unwrap_or_else(|| panic!("frame type {kind:?} is not in realtime.json: {frame}"));
    // The payload is `allOf: [{type: <kind>}, {$ref: <Kind>Frame}]`; check the `type`, then the
    // rest strictly against the frame's own object schema.
    let variant = message["payload"]["$ref"]
        .as_str()
        .and_then(|r| r.rsplit('/').next())
        .unwrap_or_default();
    let schema = &REALTIME["components"]["schemas"][variant];
    let inner = schema["allOf"]
        .as_array()
        .into_iter()
        .flatten()
        .find(|s| s.get("$ref").is_some())
        .cloned()
        .unwrap_or_else(|| panic!("{variant} has no frame object"));
    let mut rest = frame.clone();
    if let Some(map) = rest.as_object_mut() {
        map.remove("type");
    }
    let v = validator(&format!("frame {kind}"), &inner, &REALTIME["components"]);
    check(&format!("{kind} frame"), &v, &rest);
}
