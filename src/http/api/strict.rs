//! Strict request types.
//!
//! - [`Text`]: a request string that must be a JSON string. poem-openapi's `String` also accepts
//!   numbers and booleans (`42` becomes `"42"`); a chat API refuses wrong-typed JSON instead.
//! - [`OptText`]: an optional string that may be absent but not `null` (the spec says string).
//! - [`Limit`]: a page size query parameter with its bounds and default in the spec.
//!
//! The rules a field follows (length, pattern) are declared with a [`TextRule`] and appear in the
//! OpenAPI spec, but are **not** enforced here: the domain parsers (`Username::parse`, …) are the
//! one place that enforces them, with specific 422 codes. A unit test keeps the two in step.

use std::{borrow::Cow, marker::PhantomData};

use poem_openapi::{
    registry::{MetaSchema, MetaSchemaRef},
    types::{ParseError, ParseFromJSON, ParseFromParameter, ParseResult, ToJSON, Type},
};
use serde_json::Value;

/// Schema facts of a string field (documented, enforced by the domain layer).
pub trait TextRule: Send + Sync + 'static {
    /// Shortest length, in characters.
    const MIN: Option<usize> = None;
    /// Longest length, in characters.
    const MAX: Option<usize> = None;
    /// ECMA-262 regular expression the value matches.
    const PATTERN: Option<&'static str> = None;
}

macro_rules! rule {
    ($(#[$doc:meta])* $name:ident { $($item:tt)* }) => {
        $(#[$doc])*
        #[derive(Debug, Clone, Copy, PartialEq, Eq)]
        pub struct $name;
        impl TextRule for $name { $($item)* }
    };
}

rule!(
    /// Any string.
    AnyText {}
);
rule!(
    /// A username: 3–32 of `a-z 0-9 _ . -` (upper case is folded to lower case).
    UsernameRule {
        const MIN: Option<usize> = Some(3);
        const MAX: Option<usize> = Some(32);
        const PATTERN: Option<&'static str> = Some(crate::domain::Username::PATTERN);
    }
);
rule!(
    /// A password: 8–1024 bytes.
    PasswordRule {
        const MIN: Option<usize> = Some(8);
        const MAX: Option<usize> = Some(1024);
    }
);
rule!(
    /// A message body: 1–4000 characters.
    MessageBodyRule {
        const MIN: Option<usize> = Some(1);
        const MAX: Option<usize> = Some(crate::domain::MessageBody::MAX_CHARS);
    }
);
rule!(
    /// An idempotency key: 1–64 printable ASCII characters.
    ClientIdRule {
        const MIN: Option<usize> = Some(1);
        const MAX: Option<usize> = Some(64);
        const PATTERN: Option<&'static str> = Some(r"^[\x21-\x7E]+$");
    }
);
rule!(
    /// A room name: 1–64 characters.
    RoomNameRule {
        const MIN: Option<usize> = Some(1);
        const MAX: Option<usize> = Some(crate::domain::RoomName::MAX_CHARS);
    }
);
rule!(
    /// A topic: at most 512 characters (empty clears it).
    TopicRule {
        const MAX: Option<usize> = Some(crate::service::conversations::TOPIC_MAX_CHARS);
    }
);
rule!(
    /// A custom status text: at most 128 characters, no control, line-separator or
    /// bidirectional-formatting characters (empty clears it).
    StatusTextRule {
        const MAX: Option<usize> = Some(crate::domain::STATUS_TEXT_MAX_CHARS);
    }
);
rule!(
    /// A category: at most 64 characters (empty clears it).
    CategoryRule {
        const MAX: Option<usize> = Some(crate::service::conversations::CATEGORY_MAX_CHARS);
    }
);
rule!(
    /// An e-mail address: at most 254 characters.
    EmailRule {
        const MAX: Option<usize> = Some(254);
    }
);
rule!(
    /// A display name: 1–64 characters, no control or invisible characters.
    DisplayNameRule {
        const MIN: Option<usize> = Some(1);
        const MAX: Option<usize> = Some(crate::domain::DisplayName::MAX_CHARS);
    }
);
rule!(
    /// A recovery PIN: 4–8 digits.
    PinRule {
        const MIN: Option<usize> = Some(4);
        const MAX: Option<usize> = Some(8);
        const PATTERN: Option<&'static str> = Some(crate::domain::RecoveryPin::PATTERN);
    }
);
rule!(
    /// A username or an e-mail address: at most 254 characters.
    IdentifierRule {
        const MIN: Option<usize> = Some(1);
        const MAX: Option<usize> = Some(254);
    }
);
rule!(
    /// A moderation or report reason: 1–500 characters, no control characters but newline and
    /// tab (422 `invalid_reason`).
    ReasonRule {
        const MIN: Option<usize> = Some(1);
        const MAX: Option<usize> = Some(crate::domain::REASON_MAX_CHARS);
    }
);
rule!(
    /// A token (setup or refresh): at most 512 characters.
    TokenRule {
        const MIN: Option<usize> = Some(1);
        const MAX: Option<usize> = Some(512);
    }
);

fn string_schema<R: TextRule>() -> MetaSchema {
    MetaSchema {
        min_length: R::MIN,
        max_length: R::MAX,
        pattern: R::PATTERN.map(str::to_owned),
        ..MetaSchema::new("string")
    }
}

/// A JSON string (and only a JSON string), documented with the rule `R`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Text<R: TextRule = AnyText>(pub String, PhantomData<R>);

impl<R: TextRule> Text<R> {
    /// The text.
    pub fn as_str(&self) -> &str {
        &self.0
    }

    /// The owned text.
    pub fn into_inner(self) -> String {
        self.0
    }
}

impl<R: TextRule> Type for Text<R> {
    const IS_REQUIRED: bool = true;
    type RawValueType = Self;
    type RawElementValueType = Self;

    fn name() -> Cow<'static, str> {
        "string".into()
    }

    fn schema_ref() -> MetaSchemaRef {
        MetaSchemaRef::Inline(Box::new(string_schema::<R>()))
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

impl<R: TextRule> ParseFromJSON for Text<R> {
    fn parse_from_json(value: Option<Value>) -> ParseResult<Self> {
        match value.unwrap_or_default() {
            Value::String(s) => Ok(Self(s, PhantomData)),
            other => Err(ParseError::expected_type(other)),
        }
    }
}

impl<R: TextRule> ToJSON for Text<R> {
    fn to_json(&self) -> Option<Value> {
        Some(Value::String(self.0.clone()))
    }
}

impl<R: TextRule> std::ops::Deref for Text<R> {
    type Target = String;

    fn deref(&self) -> &String {
        &self.0
    }
}

/// An optional string field: absent is `None`; `null` and non-strings are refused (400).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct OptText<R: TextRule = AnyText>(pub Option<String>, PhantomData<R>);

impl<R: TextRule> OptText<R> {
    /// The text, if given.
    pub fn into_inner(self) -> Option<String> {
        self.0
    }

    /// The text, if given.
    pub fn as_deref(&self) -> Option<&str> {
        self.0.as_deref()
    }

    /// Whether the field was given.
    pub fn is_some(&self) -> bool {
        self.0.is_some()
    }
}

impl<R: TextRule> Default for OptText<R> {
    fn default() -> Self {
        Self(None, PhantomData)
    }
}

impl<R: TextRule> Type for OptText<R> {
    const IS_REQUIRED: bool = false;
    type RawValueType = String;
    type RawElementValueType = String;

    fn name() -> Cow<'static, str> {
        "string".into()
    }

    fn schema_ref() -> MetaSchemaRef {
        MetaSchemaRef::Inline(Box::new(string_schema::<R>()))
    }

    fn as_raw_value(&self) -> Option<&Self::RawValueType> {
        self.0.as_ref()
    }

    fn raw_element_iter<'a>(
        &'a self,
    ) -> Box<dyn Iterator<Item = &'a Self::RawElementValueType> + 'a> {
        Box::new(self.0.iter())
    }
}

impl<R: TextRule> ParseFromJSON for OptText<R> {
    fn parse_from_json(value: Option<Value>) -> ParseResult<Self> {
        match value {
            None => Ok(Self(None, PhantomData)),
            Some(Value::String(s)) => Ok(Self(Some(s), PhantomData)),
            Some(Value::Null) => Err(ParseError::custom("must be a string or left out, not null")),
            Some(other) => Err(ParseError::expected_type(other)),
        }
    }
}

impl<R: TextRule> ToJSON for OptText<R> {
    fn to_json(&self) -> Option<Value> {
        self.0.clone().map(Value::String)
    }
}

/// A duration in whole seconds, documented as `MIN`–`MAX`. Any JSON number is taken (and
/// `null` or absence as none), so that a negative, fractional or huge value gets the service's
/// specific 422 rather than a generic 400; a non-integer or a value beyond `i64` becomes `0`,
/// which every duration rule refuses. Non-numbers are 400.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Seconds<const MIN: i64, const MAX: i64>(pub Option<i64>);

impl<const MIN: i64, const MAX: i64> Type for Seconds<MIN, MAX> {
    const IS_REQUIRED: bool = true;
    type RawValueType = i64;
    type RawElementValueType = i64;

    fn name() -> Cow<'static, str> {
        "integer_int64".into()
    }

    fn schema_ref() -> MetaSchemaRef {
        MetaSchemaRef::Inline(Box::new(MetaSchema {
            minimum: Some(MIN as f64),
            maximum: Some(MAX as f64),
            ..MetaSchema::new_with_format("integer", "int64")
        }))
    }

    fn as_raw_value(&self) -> Option<&Self::RawValueType> {
        self.0.as_ref()
    }

    fn raw_element_iter<'a>(
        &'a self,
    ) -> Box<dyn Iterator<Item = &'a Self::RawElementValueType> + 'a> {
        Box::new(self.0.iter())
    }
}

impl<const MIN: i64, const MAX: i64> ParseFromJSON for Seconds<MIN, MAX> {
    fn parse_from_json(value: Option<Value>) -> ParseResult<Self> {
        match value {
            None | Some(Value::Null) => Ok(Self(None)),
            Some(Value::Number(n)) => Ok(Self(Some(n.as_i64().unwrap_or(0)))),
            Some(other) => Err(ParseError::expected_type(other)),
        }
    }
}

impl<const MIN: i64, const MAX: i64> ToJSON for Seconds<MIN, MAX> {
    fn to_json(&self) -> Option<Value> {
        self.0.map(Value::from)
    }
}

/// A page size (`limit` query parameter): documented as 1–`MAX`, default `DEFAULT`; the service
/// answers 422 `invalid_limit` outside that range.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Limit<const DEFAULT: u64, const MAX: u64>(pub Option<u64>);

impl<const DEFAULT: u64, const MAX: u64> Type for Limit<DEFAULT, MAX> {
    const IS_REQUIRED: bool = false;
    type RawValueType = u64;
    type RawElementValueType = u64;

    fn name() -> Cow<'static, str> {
        "integer_uint64".into()
    }

    fn schema_ref() -> MetaSchemaRef {
        MetaSchemaRef::Inline(Box::new(MetaSchema {
            minimum: Some(1.0),
            maximum: Some(MAX as f64),
            default: Some(Value::from(DEFAULT)),
            ..MetaSchema::new_with_format("integer", "int64")
        }))
    }

    fn as_raw_value(&self) -> Option<&Self::RawValueType> {
        self.0.as_ref()
    }

    fn raw_element_iter<'a>(
        &'a self,
    ) -> Box<dyn Iterator<Item = &'a Self::RawElementValueType> + 'a> {
        Box::new(self.0.iter())
    }
}

impl<const DEFAULT: u64, const MAX: u64> ParseFromParameter for Limit<DEFAULT, MAX> {
    fn parse_from_parameter(value: &str) -> ParseResult<Self> {
        value
            .parse::<u64>()
            .map(|n| Self(Some(n)))
            .map_err(|_| ParseError::custom("limit must be a positive integer"))
    }

    fn parse_from_parameters<I: IntoIterator<Item = A>, A: AsRef<str>>(
        iter: I,
    ) -> ParseResult<Self> {
        match iter.into_iter().next() {
            Some(value) => Self::parse_from_parameter(value.as_ref()),
            None => Ok(Self(None)),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::domain::{ClientId, MessageBody, RoomName, Username};

    /// A string one character shorter than `min` and one longer than `max`.
    fn bounds(min: usize, max: usize) -> (String, String) {
        ("x".repeat(min.saturating_sub(1)), "x".repeat(max + 1))
    }

    #[test]
    fn documented_rules_match_the_domain_parsers() {
        let (short, long) = bounds(3, 32);
        assert!(Username::parse(&short).is_err() && Username::parse(&long).is_err());
        assert!(Username::parse(&"x".repeat(32)).is_ok());
        let (_, long) = bounds(1, 4000);
        assert!(MessageBody::parse(&long).is_err());
        assert!(MessageBody::parse(&"x".repeat(4000)).is_ok());
        assert!(
            ClientId::parse(&"x".repeat(64)).is_ok() && ClientId::parse(&"x".repeat(65)).is_err()
        );
        assert!(
            ClientId::parse("a b").is_err(),
            "space is outside \\x21-\\x7E"
        );
        assert!(
            RoomName::parse(&"x".repeat(64)).is_ok() && RoomName::parse(&"x".repeat(65)).is_err()
        );
        assert_eq!(MessageBodyRule::MAX, Some(MessageBody::MAX_CHARS));
    }

    #[test]
    fn null_is_not_an_optional_string() {
        assert!(OptText::<AnyText>::parse_from_json(Some(Value::Null)).is_err());
        assert!(OptText::<AnyText>::parse_from_json(Some(Value::from(1))).is_err());
        assert_eq!(
            OptText::<AnyText>::parse_from_json(None)
                .ok()
                .and_then(|t| t.0),
            None
        );
        assert!(Text::<AnyText>::parse_from_json(Some(Value::from(42))).is_err());
    }
}
