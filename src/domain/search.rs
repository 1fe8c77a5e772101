//! The words of a message search, parsed from what the user typed.
//!
//! User text is never handed to a database as query syntax: it is cut into words here (runs of
//! letters and digits; everything else separates words), and `store::search` builds each
//! backend's query from the words alone, quoting every one. So `"`, `*`, `NEAR(a b)`, `OR`,
//! `-x`, `body:x`, `^`, quotes, `%` and backslashes are only separators (or plain words, like
//! `OR`), never operators.

use super::{DomainError, ErrorCode};

/// What a search looks for: up to [`SearchTerms::MAX_WORDS`] lower-cased words, all of which a
/// message must contain (as whole words; the last one also as the start of a word when it has
/// at least [`SearchTerms::PREFIX_MIN_CHARS`] characters, so results follow typing).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct SearchTerms {
    words: Vec<String>,
    prefix_last: bool,
}

impl SearchTerms {
    /// Longest query, in characters after trimming.
    pub const MAX_CHARS: usize = 256;
    /// Most words used; later ones are ignored.
    pub const MAX_WORDS: usize = 16;
    /// The last word is also matched as a prefix from this many characters on.
    pub const PREFIX_MIN_CHARS: usize = 3;

    /// Parses a query: 1–256 characters after trimming, no control characters. A query with
    /// no letters or digits at all (only punctuation) parses to no words: it finds nothing.
    /// Errors: 422 `invalid_query`.
    pub fn parse(raw: &str) -> Result<Self, DomainError> {
        let text = raw.trim();
        // Counting stops after the limit: a huge query costs no more than a long one.
        let chars = text.chars().take(Self::MAX_CHARS + 1).count();
        if chars == 0 || chars > Self::MAX_CHARS {
            return Err(DomainError::invalid(
                ErrorCode::InvalidQuery,
                format!(
                    "a search needs 1–{} characters (after trimming)",
                    Self::MAX_CHARS
                ),
            ));
        }
        if text.chars().any(|c| c.is_control() && !c.is_whitespace()) {
            return Err(DomainError::invalid(
                ErrorCode::InvalidQuery,
                "a search may not contain control characters",
            ));
        }
        let mut words: Vec<String> = Vec::new();
        for word in text
            .split(|c: char| !c.is_alphanumeric())
            .filter(|w| !w.is_empty())
        {
            let word = word.to_lowercase();
            if !words.contains(&word) {
                words.push(word);
            }
            if words.len() == Self::MAX_WORDS {
                break;
            }
        }
        let prefix_last = words
            .last()
            .is_some_and(|w| w.chars().count() >= Self::PREFIX_MIN_CHARS);
        Ok(Self { words, prefix_last })
    }

    /// The words, lower-cased, without duplicates, in the order typed. Each is a non-empty run
    /// of alphanumeric characters.
    pub fn words(&self) -> &[String] {
        &self.words
    }

    /// Whether the last word also matches words it begins.
    pub fn prefix_last(&self) -> bool {
        self.prefix_last
    }

    /// No words: nothing can match.
    pub fn is_empty(&self) -> bool {
        self.words.is_empty()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn operators_are_only_separators() {
        let t = SearchTerms::parse(r#"  "hello" NEAR(a b) -x body:y ^z OR w* 50% a_b \c 'q' "#)
            .expect("parses");
        assert_eq!(
            t.words(),
            [
                "hello", "near", "a", "b", "x", "body", "y", "z", "or", "w", "50", "c", "q"
            ]
        );
        assert!(!t.prefix_last(), "q is shorter than 3 characters");
        let t = SearchTerms::parse("Café crème").expect("parses");
        assert_eq!(t.words(), ["café", "crème"]);
        assert!(t.prefix_last());
        assert!(SearchTerms::parse("\"*()").expect("parses").is_empty());
    }

    #[test]
    fn bounds() {
        assert!(SearchTerms::parse("   ").is_err());
        assert!(SearchTerms::parse(&"a".repeat(256)).is_ok());
        assert!(SearchTerms::parse(&"a".repeat(257)).is_err());
        assert!(SearchTerms::parse(&"x ".repeat(5000)).is_err());
        assert!(SearchTerms::parse("a\u{0}b").is_err());
        let many: Vec<String> = (0..40).map(|i| format!("w{i}")).collect();
        let t = SearchTerms::parse(&many.join(" ")).expect("parses");
        assert_eq!(t.words().len(), SearchTerms::MAX_WORDS);
        assert_eq!(
            SearchTerms::parse("Dup dup DUP")
                .expect("parses")
                .words()
                .len(),
            1
        );
    }
}
