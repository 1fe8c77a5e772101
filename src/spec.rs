//! Post-processing shared by the two generated API documents (openapi/openapi.json and
//! openapi/realtime.json), so that client generators read them as intended.

use serde_json::{Map, Value};

/// Rewrites, anywhere in `doc`, a property schema of the form
/// `{"allOf": [{"$ref": X}, {<annotations only>}], …}` to plain `{"$ref": X}`.
///
/// poem-openapi wraps a `$ref` in `allOf` to attach a field's description (OpenAPI 3.0 ignores
/// siblings of `$ref`). Generators handle that wrapper badly: openapi-python-client dropped the
/// models `Conversation`, `CreateRoomRequest` and `Member` because of it. The referenced schema
/// keeps its own description.
pub fn unwrap_described_refs(doc: &mut Value) {
    match doc {
        Value::Object(map) => {
            if let Some(reference) = described_ref(map) {
                map.clear();
                map.insert("$ref".into(), Value::String(reference));
                return;
            }
            for value in map.values_mut() {
                unwrap_described_refs(value);
            }
        }
        Value::Array(items) => items.iter_mut().for_each(unwrap_described_refs),
        _ => {}
    }
}

/// The `$ref` of an `allOf: [{$ref}, {annotations}]` wrapper, if `map` is one.
fn described_ref(map: &Map<String, Value>) -> Option<String> {
    const ANNOTATIONS: [&str; 6] = [
        "description",
        "title",
        "readOnly",
        "writeOnly",
        "deprecated",
        "example",
    ];
    let Some(Value::Array(all_of)) = map.get("allOf") else {
        return None;
    };
    let [Value::Object(first), Value::Object(second)] = all_of.as_slice() else {
        return None;
    };
    let reference = first.get("$ref")?.as_str()?;
    let plain = first.len() == 1
        && second.keys().all(|k| ANNOTATIONS.contains(&k.as_str()))
        && map
            .keys()
            .all(|k| k == "allOf" || ANNOTATIONS.contains(&k.as_str()));
    plain.then(|| reference.to_owned())
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    #[test]
    fn described_refs_become_plain_refs_and_nothing_else_changes() {
        let mut doc = json!({"properties": {
            "peer": {"allOf": [{"$ref": "#/components/schemas/User"}, {"description": "x"}],
                     "description": "x"},
            "frame": {"allOf": [{"type": "object"}, {"$ref": "#/components/schemas/Ready"}]}
        }});
        super::unwrap_described_refs(&mut doc);
        assert_eq!(
            doc["properties"]["peer"],
            json!({"$ref": "#/components/schemas/User"})
        );
        assert_eq!(
            doc["properties"]["frame"]["allOf"][0],
            json!({"type": "object"})
        );
    }
}
