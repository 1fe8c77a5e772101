//! Cursor pagination: `limit` checks and opaque cursors.
//!
//! A cursor is the position of the last item of a page, serialized as JSON and base64url-encoded
//! (no padding). Clients treat it as an opaque string and send it back as `cursor`; a string this
//! server could not have produced is refused with 422 `invalid_cursor`.

use base64::{Engine, engine::general_purpose::URL_SAFE_NO_PAD};
use serde::{Serialize, de::DeserializeOwned};

use crate::domain::{DomainError, ErrorCode};

/// One page of a list.
#[derive(Clone, Debug)]
pub struct Page<T> {
    /// The items, in the list's order.
    pub items: Vec<T>,
    /// Pass this as `cursor` to get the next page; `None` on the last page.
    pub next_cursor: Option<String>,
}

/// The page size: `raw` or `default`, which must lie in `1..=max`. Errors: 422 `invalid_limit`.
pub fn limit(raw: Option<u64>, default: u64, max: u64) -> Result<u64, DomainError> {
    let limit = raw.unwrap_or(default);
    if (1..=max).contains(&limit) {
        Ok(limit)
    } else {
        Err(DomainError::invalid(
            ErrorCode::InvalidLimit,
            format!("limit must be between 1 and {max}"),
        ))
    }
}

/// The cursor for a position.
pub fn encode<T: Serialize>(position: &T) -> String {
    URL_SAFE_NO_PAD.encode(serde_json::to_vec(position).unwrap_or_default())
}

/// The position in a cursor. Errors: 422 `invalid_cursor`.
pub fn decode<T: DeserializeOwned>(cursor: &str) -> Result<T, DomainError> {
    let invalid = || DomainError::invalid(ErrorCode::InvalidCursor, "cursor is not valid here");
    if cursor.len() > 512 {
        return Err(invalid());
    }
    let bytes = URL_SAFE_NO_PAD.decode(cursor).map_err(|_| invalid())?;
    let value: serde_json::Value = serde_json::from_slice(&bytes).map_err(|_| invalid())?;
    // No position this server writes holds a control character (PostgreSQL refuses NUL in text).
    if has_control_chars(&value) {
        return Err(invalid());
    }
    serde_json::from_value(value).map_err(|_| invalid())
}

fn has_control_chars(value: &serde_json::Value) -> bool {
    match value {
        serde_json::Value::String(s) => s.chars().any(char::is_control),
        serde_json::Value::Array(items) => items.iter().any(has_control_chars),
        serde_json::Value::Object(map) => map
            .iter()
            .any(|(k, v)| k.chars().any(char::is_control) || has_control_chars(v)),
        _ => false,
    }
}

/// Splits `limit + 1` fetched rows into a page: when the extra row exists, it is dropped and the
/// cursor points after the last kept item.
pub fn page<T, P: Serialize>(mut rows: Vec<T>, limit: u64, position: impl Fn(&T) -> P) -> Page<T> {
    let more = rows.len() as u64 > limit;
    rows.truncate(usize::try_from(limit).unwrap_or(usize::MAX));
    let next_cursor = if more {
        rows.last().map(|last| encode(&position(last)))
    } else {
        None
    };
    Page {
        items: rows,
        next_cursor,
    }
}

impl<T> Page<T> {
    /// The same page with its items converted.
    pub fn map<U>(self, f: impl FnMut(T) -> U) -> Page<U> {
        Page {
            items: self.items.into_iter().map(f).collect(),
            next_cursor: self.next_cursor,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn cursors_round_trip_and_garbage_is_refused() {
        let c = encode(&(true, "lobby"));
        assert_eq!(
            decode::<(bool, String)>(&c).ok(),
            Some((true, "lobby".into()))
        );
        assert!(decode::<(bool, String)>("!!").is_err());
        assert!(decode::<(bool, String)>(&encode(&42)).is_err());
        assert!(decode::<(bool, String)>(&encode(&(true, "a\u{0}"))).is_err());
        assert_eq!(limit(None, 50, 100).ok(), Some(50));
        assert!(limit(Some(0), 50, 100).is_err());
        assert!(limit(Some(101), 50, 100).is_err());
        let p = page(vec![1, 2, 3], 2, |n| *n);
        assert_eq!(p.items, vec![1, 2]);
        assert_eq!(
            p.next_cursor
                .as_deref()
                .map(decode::<i32>)
                .and_then(Result::ok),
            Some(2)
        );
    }
}
