//! The message formatting subset: a message body (markdown, ≤ 4000 characters) becomes the
//! `html` field of a Message. Parsing is pulldown-cmark (CommonMark + strikethrough); the HTML is
//! written here from its events (only the tags below can ever be produced) and then passed through
//! ammonia with a strict allowlist as a second, independent guard.
//!
//! What is rendered:
//! - paragraphs `<p>`, `**bold**` `<strong>`, `*italic*` `<em>`, `~~strike~~` `<del>`,
//!   `` `code` `` `<code>`, fenced and indented code blocks `<pre><code>` (the language is
//!   dropped), block quotes `<blockquote>` (nested at most [`MAX_QUOTE_DEPTH`] deep: deeper
//!   quote markers add no further level, their text stays inside the eighth), and line breaks:
//!   hard and soft breaks both become `<br>` (chat semantics: a newline shows as one);
//! - links `[text](url)`, reference links, autolinks `<https://…>` and bare `http(s)://…` URLs in
//!   text, as `<a href="…" title="<the real href>" rel="noopener noreferrer" target="_blank">`;
//!   only `http`, `https` and `mailto` targets become links (anything else — `javascript:`,
//!   `data:`, relative paths — leaves just the link's text). When the text of a link is not its
//!   URL (nor the URL's host), the host is appended to the text: `[my bank](https://evil.example)`
//!   shows as "my bank (evil.example)", so a link always shows where it really goes;
//! - mentions: `@username` of a resolved mention (case-insensitive, at a word boundary, not in
//!   code or link text) becomes `<span class="mention" data-user-id="<uuid>">@username</span>`.
//!
//! What is not rendered as such: headings become plain paragraphs; lists become one paragraph
//! per item, prefixed by its marker ("• " or "3. "); images become a link to the image with the
//! alt text as text (no `<img>`, so no remote loads); thematic breaks become a paragraph "---";
//! raw HTML (blocks and inline) shows as text; tables, footnotes and the other extensions are
//! off, so their syntax shows as text.
//!
//! Bounds: parsing and rendering are linear in the body; every output construct is produced from
//! at least one input character, so the output is at most a small constant times the input
//! (≈ 90 bytes per 3-character mention in the worst case).

use std::collections::{HashMap, HashSet};
use std::fmt::Write as _;
use std::sync::LazyLock;

use pulldown_cmark::{Event, LinkType, Options, Parser, Tag, TagEnd, TextMergeStream};
use url::Url;

use super::UserId;

/// Block quotes nest at most this deep in the output; deeper markers add no level.
pub const MAX_QUOTE_DEPTH: usize = 8;

/// At most this many distinct `@name` candidates are taken from one body.
pub const MAX_MENTION_CANDIDATES: usize = 20;

/// URL schemes that may become links.
const SCHEMES: [&str; 3] = ["http", "https", "mailto"];

/// The rel of every link (ammonia adds it).
pub const LINK_REL: &str = "noopener noreferrer";

/// The second guard: only the tags and attributes the renderer produces survive.
static SANITIZER: LazyLock<ammonia::Builder<'static>> = LazyLock::new(|| {
    let mut b = ammonia::Builder::empty();
    b.tags(HashSet::from([
        "p",
        "br",
        "strong",
        "em",
        "del",
        "code",
        "pre",
        "blockquote",
        "a",
        "span",
    ]))
    .tag_attributes(HashMap::from([
        ("a", HashSet::from(["href", "title"])),
        ("span", HashSet::from(["data-user-id"])),
    ]))
    .allowed_classes(HashMap::from([("span", HashSet::from(["mention"]))]))
    .url_schemes(HashSet::from(SCHEMES))
    .url_relative(ammonia::UrlRelative::Deny)
    .link_rel(Some(LINK_REL))
    .set_tag_attribute_value("a", "target", "_blank")
    .strip_comments(true);
    b
});

/// Renders a message body to sanitized HTML (see the module docs for the subset).
/// `mentions`: the resolved mentions, (user id, username); `@username` of these (any case)
/// becomes a mention span. Never fails; an empty body gives "".
pub fn render(body: &str, mentions: &[(UserId, String)]) -> String {
    let mut names: Vec<(String, UserId, &str)> = mentions
        .iter()
        .map(|(id, name)| (name.to_lowercase(), *id, name.as_str()))
        .filter(|(lower, _, _)| !lower.is_empty())
        .collect();
    // Longest first, so "@bob.smith" is not taken for "@bob".
    names.sort_by_key(|n| std::cmp::Reverse(n.0.len()));
    let mut r = Renderer {
        out: String::with_capacity(body.len() * 2),
        mentions: &names,
        quote_depth: 0,
        para_open: false,
        lazy_para: false,
        pending_marker: None,
        lists: Vec::new(),
        links: Vec::new(),
        code_block: false,
        html_block: false,
        raw_lines: 0,
    };
    for event in TextMergeStream::new(Parser::new_ext(body, Options::ENABLE_STRIKETHROUGH)) {
        r.event(event);
    }
    r.close_lazy();
    SANITIZER.clean(&r.out).to_string()
}

/// The distinct `@name` tokens of a body outside code (inline and blocks) and outside link
/// targets, lowercased, in order of appearance, at most [`MAX_MENTION_CANDIDATES`]. A token is
/// `@` at a word boundary followed by username characters (`a-z 0-9 _ . -`); a trailing `.` or
/// `-` (end of a sentence) is also offered without it ("@bob." gives "bob." and "bob").
pub fn mention_candidates(body: &str) -> Vec<String> {
    let mut found: Vec<String> = Vec::new();
    let mut in_code = false;
    for event in TextMergeStream::new(Parser::new_ext(body, Options::ENABLE_STRIKETHROUGH)) {
        match event {
            Event::Start(Tag::CodeBlock(_)) => in_code = true,
            Event::End(TagEnd::CodeBlock) => in_code = false,
            Event::Text(text) if !in_code => {
                for (start, len) in mention_tokens(&text) {
                    let token = text[start + 1..start + len].to_lowercase();
                    let trimmed = token.trim_end_matches(['.', '-']).to_string();
                    for t in [token, trimmed] {
                        if !t.is_empty() && !found.contains(&t) {
                            if found.len() == MAX_MENTION_CANDIDATES {
                                return found;
                            }
                            found.push(t);
                        }
                    }
                }
            }
            _ => {}
        }
    }
    found
}

fn is_name_char(c: char) -> bool {
    c.is_ascii_alphanumeric() || matches!(c, '_' | '.' | '-')
}

/// Byte ranges (start of `@`, length incl. `@`) of `@name` tokens at a word boundary.
fn mention_tokens(text: &str) -> Vec<(usize, usize)> {
    let mut tokens = Vec::new();
    let mut prev: Option<char> = None;
    for (i, c) in text.char_indices() {
        if c == '@'
            && !prev.is_some_and(|p| p.is_alphanumeric() || matches!(p, '_' | '.' | '-' | '@'))
        {
            let len = text[i + 1..]
                .find(|c: char| !is_name_char(c))
                .unwrap_or(text.len() - i - 1);
            if len > 0 {
                tokens.push((i, len + 1));
            }
        }
        prev = Some(c);
    }
    tokens
}

/// A link being rendered: its output starts at `start`; `url` when its target is allowed.
struct LinkFrame {
    start: usize,
    url: Option<Url>,
    raw: String,
    text: String,
}

struct Renderer<'a> {
    out: String,
    /// (lowercase name, id, name), longest first.
    mentions: &'a [(String, UserId, &'a str)],
    quote_depth: usize,
    /// A `<p>` is open (from a paragraph, a heading, or opened lazily for a tight list item).
    para_open: bool,
    lazy_para: bool,
    /// The marker of a list item not yet written ("• ", "2. ").
    pending_marker: Option<String>,
    /// Open lists: the next number of an ordered list, None for bullets.
    lists: Vec<Option<u64>>,
    links: Vec<LinkFrame>,
    code_block: bool,
    html_block: bool,
    /// Lines of raw HTML written so far in the current block or inline run (for the `<br>`s).
    raw_lines: usize,
}

impl Renderer<'_> {
    fn event(&mut self, event: Event<'_>) {
        match event {
            Event::Start(tag) => self.start(tag),
            Event::End(tag) => self.end(tag),
            Event::Text(text) => {
                if self.code_block {
                    escape_into(&mut self.out, &text);
                } else if self.html_block {
                    self.open_lazy();
                    self.raw_lines(&text);
                } else {
                    self.inline_text(&text);
                }
            }
            Event::Code(code) => {
                self.open_lazy();
                self.out.push_str("<code>");
                escape_into(&mut self.out, &code);
                self.out.push_str("</code>");
                self.link_text(&code);
            }
            Event::Html(html) => {
                if !self.html_block {
                    self.raw_lines = 0;
                }
                self.open_lazy();
                self.raw_lines(&html);
            }
            Event::InlineHtml(html) | Event::InlineMath(html) | Event::DisplayMath(html) => {
                self.open_lazy();
                escape_into(&mut self.out, &html);
                self.link_text(&html);
            }
            Event::FootnoteReference(name) => {
                self.open_lazy();
                self.out.push_str("[^");
                escape_into(&mut self.out, &name);
                self.out.push(']');
            }
            Event::SoftBreak | Event::HardBreak => {
                if self.code_block {
                    self.out.push('\n');
                } else {
                    self.open_lazy();
                    self.out.push_str("<br>");
                    self.link_text(" ");
                }
            }
            Event::Rule => {
                self.close_lazy();
                self.out.push_str("<p>---</p>");
            }
            Event::TaskListMarker(done) => {
                self.open_lazy();
                self.out.push_str(if done { "[x] " } else { "[ ] " });
            }
        }
    }

    fn start(&mut self, tag: Tag<'_>) {
        match tag {
            Tag::Paragraph | Tag::Heading { .. } => self.open_para(),
            Tag::BlockQuote(_) => {
                self.close_lazy();
                self.quote_depth += 1;
                if self.quote_depth <= MAX_QUOTE_DEPTH {
                    self.out.push_str("<blockquote>");
                }
            }
            Tag::CodeBlock(_) => {
                self.close_lazy();
                // A code block in a list item keeps the item's marker before it.
                if let Some(marker) = self.pending_marker.take() {
                    self.out.push_str("<p>");
                    escape_into(&mut self.out, marker.trim_end());
                    self.out.push_str("</p>");
                }
                self.code_block = true;
                self.out.push_str("<pre><code>");
            }
            Tag::HtmlBlock => {
                self.close_lazy();
                self.html_block = true;
                self.raw_lines = 0;
            }
            Tag::List(first) => {
                self.close_lazy();
                self.lists.push(first);
            }
            Tag::Item => {
                self.close_lazy();
                let marker = match self.lists.last_mut() {
                    Some(Some(n)) => {
                        let m = format!("{n}. ");
                        *n += 1;
                        m
                    }
                    _ => "• ".to_string(),
                };
                self.pending_marker = Some(marker);
            }
            Tag::Emphasis => self.inline_tag("<em>"),
            Tag::Strong => self.inline_tag("<strong>"),
            Tag::Strikethrough => self.inline_tag("<del>"),
            Tag::Link {
                link_type,
                dest_url,
                ..
            }
            | Tag::Image {
                link_type,
                dest_url,
                ..
            } => {
                self.open_lazy();
                let url = if link_type == LinkType::Email {
                    allowed_url(&format!("mailto:{dest_url}"))
                } else {
                    allowed_url(&dest_url)
                };
                self.links.push(LinkFrame {
                    start: self.out.len(),
                    url,
                    raw: dest_url.to_string(),
                    text: String::new(),
                });
            }
            // Not enabled (tables, footnotes, definition lists, metadata, sub/superscript): their
            // content, if any, flows into the surrounding paragraph as text.
            _ => {}
        }
    }

    fn end(&mut self, tag: TagEnd) {
        match tag {
            TagEnd::Paragraph | TagEnd::Heading(_) => self.close_para(),
            TagEnd::BlockQuote(_) => {
                self.close_lazy();
                if self.quote_depth <= MAX_QUOTE_DEPTH {
                    self.out.push_str("</blockquote>");
                }
                self.quote_depth = self.quote_depth.saturating_sub(1);
            }
            TagEnd::CodeBlock => {
                self.code_block = false;
                self.out.push_str("</code></pre>");
            }
            TagEnd::HtmlBlock => {
                self.html_block = false;
                self.close_lazy();
            }
            TagEnd::List(_) => {
                self.close_lazy();
                self.lists.pop();
            }
            TagEnd::Item => {
                self.close_lazy();
                self.pending_marker = None;
            }
            TagEnd::Emphasis => self.out.push_str("</em>"),
            TagEnd::Strong => self.out.push_str("</strong>"),
            TagEnd::Strikethrough => self.out.push_str("</del>"),
            TagEnd::Link | TagEnd::Image => self.end_link(),
            _ => {}
        }
    }

    fn open_para(&mut self) {
        self.close_lazy();
        self.out.push_str("<p>");
        self.para_open = true;
        self.lazy_para = false;
        if let Some(marker) = self.pending_marker.take() {
            self.out.push_str(&marker);
        }
    }

    fn close_para(&mut self) {
        if self.para_open {
            self.out.push_str("</p>");
        }
        self.para_open = false;
        self.lazy_para = false;
    }

    /// Inline content outside a paragraph (a tight list item, raw HTML): open one.
    fn open_lazy(&mut self) {
        if !self.para_open {
            self.open_para();
            self.lazy_para = true;
        }
    }

    fn close_lazy(&mut self) {
        if self.para_open && self.lazy_para {
            self.close_para();
        }
    }

    fn inline_tag(&mut self, open: &str) {
        self.open_lazy();
        self.out.push_str(open);
    }

    /// Text also counts towards the text of the link being rendered, if any.
    fn link_text(&mut self, text: &str) {
        if let Some(frame) = self.links.last_mut() {
            frame.text.push_str(text);
        }
    }

    /// Raw HTML shows as text, its lines separated by `<br>`.
    fn raw_lines(&mut self, text: &str) {
        let text = text.strip_suffix('\n').unwrap_or(text);
        for line in text.split('\n') {
            if self.raw_lines > 0 {
                self.out.push_str("<br>");
            }
            self.raw_lines += 1;
            escape_into(&mut self.out, line);
        }
        self.link_text(text);
    }

    fn end_link(&mut self) {
        let Some(frame) = self.links.pop() else {
            return;
        };
        let inner = self.out.split_off(frame.start);
        let Some(url) = frame.url else {
            // Not an allowed target: only the text remains (an image without alt text: nothing).
            self.out.push_str(&inner);
            return;
        };
        let href = url.as_str();
        self.out.push_str("<a href=\"");
        escape_into(&mut self.out, href);
        self.out.push_str("\" title=\"");
        escape_into(&mut self.out, href);
        self.out.push_str("\">");
        if frame.text.trim().is_empty() {
            escape_into(&mut self.out, href);
        } else {
            self.out.push_str(&inner);
            if let Some(host) = shown_target(&url, &frame.raw, &frame.text) {
                self.out.push_str(" (");
                escape_into(&mut self.out, &host);
                self.out.push(')');
            }
        }
        self.out.push_str("</a>");
        // The whole link counts as text of an enclosing link (an image inside a link).
        let text = frame.text;
        self.link_text(&text);
    }

    /// Plain text: escaped; outside links, bare URLs become links and mentions become spans.
    fn inline_text(&mut self, text: &str) {
        self.open_lazy();
        if !self.links.is_empty() {
            escape_into(&mut self.out, text);
            self.link_text(text);
            return;
        }
        let mut rest = 0;
        let mut i = 0;
        let bytes = text.as_bytes();
        while i < text.len() {
            let prev = text[..i].chars().next_back();
            let boundary = !prev.is_some_and(|p| {
                p.is_alphanumeric() || matches!(p, '_' | '.' | '-' | '@' | '/' | ':')
            });
            let mention = (bytes[i] == b'@' && boundary)
                .then(|| mention_at(self.mentions, &text[i + 1..]))
                .flatten();
            if let Some((len, id, name)) = mention {
                escape_into(&mut self.out, &text[rest..i]);
                let _ = write!(self.out, "<span class=\"mention\" data-user-id=\"{id}\">@");
                escape_into(&mut self.out, name);
                self.out.push_str("</span>");
                i += 1 + len;
                rest = i;
                continue;
            }
            let bare = (matches!(bytes[i], b'h' | b'H') && boundary)
                .then(|| bare_url_at(&text[i..]))
                .flatten();
            if let Some((len, url)) = bare {
                escape_into(&mut self.out, &text[rest..i]);
                self.out.push_str("<a href=\"");
                escape_into(&mut self.out, url.as_str());
                self.out.push_str("\" title=\"");
                escape_into(&mut self.out, url.as_str());
                self.out.push_str("\">");
                escape_into(&mut self.out, &text[i..i + len]);
                self.out.push_str("</a>");
                i += len;
                rest = i;
                continue;
            }
            i += text[i..].chars().next().map_or(1, char::len_utf8);
        }
        escape_into(&mut self.out, &text[rest..]);
    }
}

/// The resolved mention `after` (the text after an `@`) starts with, if any: (length of the
/// name in bytes, id, username).
fn mention_at<'m>(
    mentions: &'m [(String, UserId, &'m str)],
    after: &str,
) -> Option<(usize, UserId, &'m str)> {
    for (lower, id, name) in mentions {
        let Some(head) = after.get(..lower.len()) else {
            continue;
        };
        if !head.eq_ignore_ascii_case(lower) {
            continue;
        }
        let mut next = after[lower.len()..].chars();
        let ends = match next.next() {
            None => true,
            // "@bob." or "@bob-" at the end of a sentence still mentions bob.
            Some('.' | '-') => !next.next().is_some_and(is_name_char),
            Some(c) => !is_name_char(c),
        };
        if ends {
            return Some((lower.len(), *id, name));
        }
    }
    None
}

/// A bare `http://` or `https://` URL at the start of `text`: its length in bytes (trailing
/// punctuation left out) and the parsed URL, when it parses with a host.
fn bare_url_at(text: &str) -> Option<(usize, Url)> {
    let lower = text.get(..8)?.to_ascii_lowercase();
    if !(lower.starts_with("http://") || lower.starts_with("https://")) {
        return None;
    }
    let mut len = text
        .find(|c: char| c.is_whitespace() || matches!(c, '<' | '>' | '"'))
        .unwrap_or(text.len());
    loop {
        let candidate = &text[..len];
        let last = candidate.chars().next_back()?;
        let unbalanced_paren =
            last == ')' && candidate.matches('(').count() < candidate.matches(')').count();
        if matches!(
            last,
            '.' | ',' | ';' | ':' | '!' | '?' | '\'' | '*' | '_' | '~'
        ) || unbalanced_paren
        {
            len -= last.len_utf8();
        } else {
            break;
        }
    }
    let url = Url::parse(&text[..len]).ok()?;
    (url.host_str().is_some_and(|h| !h.is_empty())).then_some((len, url))
}

/// The target of a markdown link, when its scheme may be linked.
fn allowed_url(dest: &str) -> Option<Url> {
    let url = Url::parse(dest.trim()).ok()?;
    if !SCHEMES.contains(&url.scheme()) {
        return None;
    }
    if url.scheme() != "mailto" && url.host_str().is_none_or(str::is_empty) {
        return None;
    }
    Some(url)
}

/// What to append to a link's text so it shows its real target: None when the text already is
/// the URL (or its host, or the address of a mailto link).
fn shown_target(url: &Url, raw: &str, text: &str) -> Option<String> {
    let norm = |s: &str| {
        let s = s.trim().to_lowercase();
        let s = s.strip_prefix("mailto:").unwrap_or(&s).to_string();
        let s = s
            .strip_prefix("https://")
            .or_else(|| s.strip_prefix("http://"))
            .unwrap_or(&s)
            .to_string();
        s.strip_prefix("www.")
            .unwrap_or(&s)
            .trim_end_matches('/')
            .to_string()
    };
    let shown = norm(text);
    let target = if url.scheme() == "mailto" {
        url.path().to_string()
    } else {
        url.host_str().unwrap_or_default().to_string()
    };
    if shown == norm(url.as_str()) || shown == norm(raw) || shown == norm(&target) {
        return None;
    }
    Some(target)
}

fn escape_into(out: &mut String, text: &str) {
    for c in text.chars() {
        match c {
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '"' => out.push_str("&quot;"),
            '\'' => out.push_str("&#39;"),
            c => out.push(c),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn md(body: &str) -> String {
        render(body, &[])
    }

    #[test]
    fn paragraphs_and_inline_styles() {
        assert_eq!(md("hello"), "<p>hello</p>");
        assert_eq!(
            md("**b** *i* ~~s~~ `c`"),
            "<p><strong>b</strong> <em>i</em> <del>s</del> <code>c</code></p>"
        );
        assert_eq!(md("a\nb"), "<p>a<br>b</p>");
        assert_eq!(md("a\n\nb"), "<p>a</p><p>b</p>");
        assert_eq!(md(""), "");
    }

    #[test]
    fn code_blocks_keep_text_verbatim() {
        assert_eq!(
            md("```rust\nlet a = <b>;\n```"),
            "<pre><code>let a = &lt;b&gt;;\n</code></pre>"
        );
        assert_eq!(
            md("    indented **no**"),
            "<pre><code>indented **no**</code></pre>"
        );
    }

    #[test]
    fn quotes_nest_up_to_the_cap() {
        assert_eq!(md("> a"), "<blockquote><p>a</p></blockquote>");
        let deep = format!("{} deep", ">".repeat(2000));
        let html = md(&deep);
        assert_eq!(html.matches("<blockquote>").count(), MAX_QUOTE_DEPTH);
        assert_eq!(html.matches("</blockquote>").count(), MAX_QUOTE_DEPTH);
        assert!(html.contains("deep"));
    }

    #[test]
    fn links_get_rel_target_title_and_their_host() {
        let html = md("[docs](https://example.com/a)");
        assert_eq!(
            html,
            "<p><a href=\"https://example.com/a\" title=\"https://example.com/a\" target=\"_blank\" rel=\"noopener noreferrer\">docs (example.com)</a></p>"
        );
        let html = md("<https://example.com/>");
        assert!(html.contains(">https://example.com/</a>"), "{html}");
        let html = md("see https://example.com/x.");
        assert!(html.contains("href=\"https://example.com/x\""), "{html}");
        assert!(html.ends_with("</a>.</p>"), "{html}");
        let html = md("[example.com](https://example.com)");
        assert!(html.contains(">example.com</a>"), "{html}");
        let html = md("<me@example.com>");
        assert!(html.contains("href=\"mailto:me@example.com\""), "{html}");
        assert!(html.contains(">me@example.com</a>"), "{html}");
    }

    #[test]
    fn bad_schemes_leave_only_text() {
        for body in [
            "[x](javascript:alert(1))",
            "[x](data:text/html,hi)",
            "[x](/relative)",
            "[x](vbscript:msgbox)",
        ] {
            let html = md(body);
            assert_eq!(html, "<p>x</p>", "{body}");
        }
        // An autolink to a refused scheme stays text (harmless: not a link).
        assert_eq!(md("<javascript:alert(1)>"), "<p>javascript:alert(1)</p>");
        assert_eq!(md("[x](jav&#x61;script:alert(1))"), "<p>x</p>");
    }

    #[test]
    fn raw_html_and_images_and_headings() {
        assert_eq!(md("<b>hi</b>"), "<p>&lt;b&gt;hi&lt;/b&gt;</p>");
        assert_eq!(
            md("<div>\nx\n</div>"),
            "<p>&lt;div&gt;<br>x<br>&lt;/div&gt;</p>"
        );
        assert_eq!(md("# Title"), "<p>Title</p>");
        let html = md("![alt](https://example.com/i.png)");
        assert!(
            html.contains("<a href=\"https://example.com/i.png\""),
            "{html}"
        );
        assert!(!html.contains("<img"), "{html}");
        assert_eq!(md("![alt](javascript:x)"), "<p>alt</p>");
    }

    #[test]
    fn lists_become_paragraphs_with_markers() {
        assert_eq!(md("- a\n- b"), "<p>• a</p><p>• b</p>");
        assert_eq!(md("3. a\n4. b"), "<p>3. a</p><p>4. b</p>");
        assert_eq!(md("- a\n\n- b"), "<p>• a</p><p>• b</p>");
        assert_eq!(md("- a\n  - b"), "<p>• a</p><p>• b</p>");
    }

    #[test]
    fn mentions_become_spans_outside_code() {
        let bob = UserId::new();
        let ms = [(bob, "bob".to_string())];
        let html = render("hi @Bob, and `@bob` and mail@bob.com and @bobby", &ms);
        assert_eq!(html.matches("class=\"mention\"").count(), 1, "{html}");
        assert!(
            html.contains(&format!(
                "<span class=\"mention\" data-user-id=\"{bob}\">@bob</span>"
            )),
            "{html}"
        );
        let html = render("thanks @bob.", &ms);
        assert!(html.contains("@bob</span>.</p>"), "{html}");
    }

    #[test]
    fn mention_candidates_skip_code_and_cap() {
        assert_eq!(
            mention_candidates("hi @Alice and @bob. `@carol`\n```\n@dave\n```\na@b.c @alice"),
            vec!["alice", "bob.", "bob"]
        );
        let many: String = (0..50).map(|i| format!("@user{i} ")).collect();
        assert_eq!(mention_candidates(&many).len(), MAX_MENTION_CANDIDATES);
    }

    #[test]
    fn many_links_render_bounded() {
        let body = "[a](http://a)".repeat(4000 / 13);
        let html = md(&body);
        assert_eq!(html.matches("<a ").count(), 4000 / 13);
        assert!(html.len() < body.len() * 10);
    }
}
