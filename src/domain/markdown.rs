//! TEMPORARY stand-in for the markdown renderer (the msgui helper's pulldown-cmark + ammonia
//! module replaces this file on merge): escapes the text and wraps it in a paragraph.

use super::UserId;

/// `body` as safe HTML.
pub fn render(body: &str, _mentions: &[(UserId, String)]) -> String {
    let mut out = String::with_capacity(body.len() + 7);
    out.push_str("<p>");
    for c in body.chars() {
        match c {
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '&' => out.push_str("&amp;"),
            '"' => out.push_str("&quot;"),
            '\'' => out.push_str("&#39;"),
            c => out.push(c),
        }
    }
    out.push_str("</p>");
    out
}

/// The distinct `@name` tokens of `body`, lower-cased, at most 20.
pub fn mention_candidates(body: &str) -> Vec<String> {
    let mut out: Vec<String> = Vec::new();
    for word in
        body.split(|c: char| !(c.is_alphanumeric() || c == '_' || c == '-' || c == '@' || c == '.'))
    {
        if let Some(name) = word.strip_prefix('@') {
            let name = name.trim_end_matches('.').to_lowercase();
            if !name.is_empty() && !out.contains(&name) && out.len() < 20 {
                out.push(name);
            }
        }
    }
    out
}
