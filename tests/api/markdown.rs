//! The message formatting renderer (domain/markdown.rs) against an XSS corpus and markdown bombs.
//!
//! Every payload's HTML is scanned tag by tag: only the allowlisted tags and attributes appear,
//! every link target is http(s) or mailto, and no tag carries an event handler, a `style`, or a
//! `javascript:`/`data:`/`vbscript:` value. Text that merely *reads* like a payload (escaped, so
//! `&lt;img onerror=…&gt;`) is harmless and allowed. The bombs check that the result is bounded
//! and produced (no timing asserts: the test finishing is the check).

use echochat::domain::UserId;
use echochat::domain::markdown::{MAX_QUOTE_DEPTH, mention_candidates, render};

const PAYLOADS: &[&str] = &[
    // raw HTML, script and event handlers
    "<script>alert(1)</script>",
    "<SCRIPT SRC=//evil.example/x.js></SCRIPT>",
    "<scr<script>ipt>alert(1)</scr</script>ipt>",
    "<img src=x onerror=alert(1)>",
    "<IMG SRC=\"javascript:alert('XSS');\">",
    "<svg onload=alert(1)>",
    "<svg><script>alert(1)</script></svg>",
    "<iframe src=\"javascript:alert(1)\"></iframe>",
    "<iframe srcdoc=\"<script>alert(1)</script>\">",
    "<body onload=alert(1)>",
    "<div style=\"background:url(javascript:alert(1))\">x</div>",
    "<div style=\"width: expression(alert(1))\">x</div>",
    "<p style=\"color:red\">red</p>",
    "<style>*{background:url(javascript:alert(1))}</style>",
    "<a href=\"javascript:alert(1)\">click</a>",
    "<a href=\"https://ok.example\" onclick=\"alert(1)\">click</a>",
    "<math><mtext><table><mglyph><style><img src=x onerror=alert(1)>",
    "<details open ontoggle=alert(1)>",
    "<input autofocus onfocus=alert(1)>",
    "<object data=\"javascript:alert(1)\">",
    "<embed src=\"data:text/html;base64,PHNjcmlwdD5hbGVydCgxKTwvc2NyaXB0Pg==\">",
    "<form action=\"javascript:alert(1)\"><button>go</button></form>",
    "<meta http-equiv=\"refresh\" content=\"0;url=javascript:alert(1)\">",
    "<base href=\"javascript:alert(1)//\">",
    "<!--<img src=x onerror=alert(1)>-->",
    "<![CDATA[<script>alert(1)</script>]]>",
    "text <b onmouseover=alert(1)>bold</b> more",
    "inline <span class=\"mention\" data-user-id=\"x\" onclick=\"alert(1)\">@fake</span>",
    "<template><script>alert(1)</script></template>",
    "<noscript><p title=\"</noscript><img src=x onerror=alert(1)>\">",
    // markdown links in every form
    "[click](javascript:alert(1))",
    "[click](JaVaScRiPt:alert(1))",
    "[click]( javascript:alert(1) )",
    "[click](<javascript:alert(1)>)",
    "[click](java\tscript:alert(1))",
    "[click](jav&#x61;script:alert(1))",
    "[click](jav&#97;script&colon;alert(1))",
    "[click](&#106;&#97;&#118;&#97;&#115;&#99;&#114;&#105;&#112;&#116;&#58;alert(1))",
    "[click](javascript%3Aalert(1))",
    "[click](data:text/html;base64,PHNjcmlwdD5hbGVydCgxKTwvc2NyaXB0Pg==)",
    "[click](vbscript:msgbox(1))",
    "[click](file:///etc/passwd)",
    "[click](//evil.example/path)",
    "[click](/relative/path)",
    "[ref][x]\n\n[x]: javascript:alert(1)",
    "[ref]\n\n[ref]: data:text/html,<script>alert(1)</script>",
    "<javascript:alert(1)>",
    "<vbscript:msgbox(1)>",
    "<data:text/html,<script>alert(1)</script>>",
    "![img](javascript:alert(1))",
    "![img\" onerror=\"alert(1)](https://ok.example/i.png)",
    "[![img](https://ok.example/i.png)](javascript:alert(1))",
    "[a](https://ok.example/\"onmouseover=\"alert(1))",
    "[a](https://ok.example/' onmouseover='alert(1))",
    "[a](https://ok.example \"title\\\" onmouseover=\\\"alert(1)\")",
    "[a\"><script>alert(1)</script>](https://ok.example)",
    "[[nested [brackets](javascript:alert(1))]](https://ok.example)",
    "[x](https://ok.example)<img src=x onerror=alert(1)>",
    "https://ok.example/\"><script>alert(1)</script>",
    "https://ok.example/<svg/onload=alert(1)>",
    "mailto:x@example.com\"onclick=alert(1)",
    "[mail](mailto:x@example.com?subject=<script>)",
    "`<script>alert(1)</script>`",
    "```html\n<script>alert(1)</script>\n```",
    "    <img src=x onerror=alert(1)>",
    "> <script>alert(1)</script>",
    "**<img src=x onerror=alert(1)>**",
    "~~<svg onload=alert(1)>~~",
    "# <script>alert(1)</script>",
    "- <iframe src=javascript:alert(1)>",
    "| a | b |\n|---|---|\n| <script>x</script> | y |",
    "@admin <img src=x onerror=alert(1)> @root",
    "\u{202e}<script>alert(1)</script>",
    "<a href=\"&#x6A;avascript:alert(1)\">x</a>",
    "<a\nhref=\"javascript:alert(1)\">x</a>",
];

/// Tags the renderer may produce, with the attributes each may carry.
fn allowed_attrs(tag: &str) -> Option<&'static [&'static str]> {
    Some(match tag {
        "p" | "br" | "strong" | "em" | "del" | "code" | "pre" | "blockquote" => &[],
        "a" => &["href", "title", "target", "rel"],
        "span" => &["class", "data-user-id"],
        _ => return None,
    })
}

/// (tag name, [(attribute, value)]) of every start tag in `html`; panics on an end tag that is
/// not allowlisted.
fn tags(html: &str) -> Vec<(String, Vec<(String, String)>)> {
    let mut out = Vec::new();
    let mut rest = html;
    while let Some(at) = rest.find('<') {
        let end = rest[at..]
            .find('>')
            .map(|e| at + e)
            .unwrap_or_else(|| panic!("unclosed tag in {html}"));
        let inner = &rest[at + 1..end];
        rest = &rest[end + 1..];
        if let Some(name) = inner.strip_prefix('/') {
            assert!(allowed_attrs(name).is_some(), "end tag </{name}> in {html}");
            continue;
        }
        let name_end = inner
            .find(|c: char| c.is_whitespace())
            .unwrap_or(inner.len());
        let name = inner[..name_end].to_string();
        let mut attrs = Vec::new();
        let mut a = inner[name_end..].trim_start();
        while !a.is_empty() {
            let eq = a
                .find('=')
                .unwrap_or_else(|| panic!("attribute without value in <{inner}>"));
            let key = a[..eq].trim().to_string();
            let v = &a[eq + 1..];
            assert!(v.starts_with('"'), "unquoted attribute in <{inner}>");
            let close = v[1..]
                .find('"')
                .unwrap_or_else(|| panic!("unterminated attribute in <{inner}>"));
            attrs.push((key, v[1..1 + close].to_string()));
            a = v[close + 2..].trim_start();
        }
        out.push((name, attrs));
    }
    out
}

fn assert_safe(payload: &str, html: &str) {
    let lower = html.to_lowercase();
    assert!(!lower.contains("<script"), "{payload:?} → {html}");
    for (name, attrs) in tags(html) {
        let allowed = allowed_attrs(&name)
            .unwrap_or_else(|| panic!("tag <{name}> from {payload:?} → {html}"));
        for (key, value) in &attrs {
            assert!(
                allowed.contains(&key.as_str()),
                "attribute {key} on <{name}> from {payload:?} → {html}"
            );
            assert!(
                !key.starts_with("on"),
                "event handler from {payload:?} → {html}"
            );
            let v = value.to_lowercase();
            for bad in ["javascript:", "vbscript:", "data:", "expression(", "<", ">"] {
                assert!(
                    !v.contains(bad),
                    "{bad} in {key} of <{name}> from {payload:?} → {html}"
                );
            }
            match key.as_str() {
                "href" => assert!(
                    v.starts_with("https://")
                        || v.starts_with("http://")
                        || v.starts_with("mailto:"),
                    "href {value} from {payload:?}"
                ),
                "rel" => assert_eq!(value, "noopener noreferrer"),
                "target" => assert_eq!(value, "_blank"),
                "class" => assert_eq!(value, "mention"),
                _ => {}
            }
        }
        if name == "a" {
            let href = attrs
                .iter()
                .find(|(k, _)| k == "href")
                .map(|(_, v)| v.clone());
            let title = attrs
                .iter()
                .find(|(k, _)| k == "title")
                .map(|(_, v)| v.clone());
            assert!(
                href.is_some(),
                "link without href from {payload:?} → {html}"
            );
            assert_eq!(
                href, title,
                "a link's title is its real target ({payload:?} → {html})"
            );
            assert!(
                attrs.iter().any(|(k, _)| k == "rel"),
                "link without rel from {payload:?}"
            );
        }
    }
}

#[test]
fn the_xss_corpus_renders_only_allowlisted_markup() {
    assert!(
        PAYLOADS.len() >= 60,
        "the corpus has {} payloads",
        PAYLOADS.len()
    );
    let admin = (UserId::new(), "admin".to_string());
    for payload in PAYLOADS {
        let html = render(payload, std::slice::from_ref(&admin));
        assert_safe(payload, &html);
        // Every payload also survives being quoted, emphasised and linked around.
        for wrapped in [
            format!("> {payload}"),
            format!("*{payload}*"),
            format!("[{payload}](https://ok.example)"),
        ] {
            assert_safe(&wrapped, &render(&wrapped, &[]));
        }
    }
}

#[test]
fn refused_link_targets_never_become_links() {
    for payload in PAYLOADS
        .iter()
        .filter(|p| p.contains("javascript") || p.contains("data:") || p.contains("vbscript"))
    {
        let html = render(payload, &[]);
        for (name, attrs) in tags(&html) {
            if name == "a" {
                let href = &attrs.iter().find(|(k, _)| k == "href").unwrap().1;
                assert!(
                    href.starts_with("https://ok.example") || href.starts_with("mailto:"),
                    "{payload:?} linked to {href}"
                );
            }
        }
    }
}

#[test]
fn markdown_bombs_are_bounded() {
    // 2000-deep quotes: at most MAX_QUOTE_DEPTH levels, the text is still there.
    let deep = format!("{}deep", ">".repeat(2000));
    let html = render(&deep, &[]);
    assert_eq!(html.matches("<blockquote>").count(), MAX_QUOTE_DEPTH);
    assert!(html.contains("deep") && html.len() < 400, "{html}");
    // The same with a space after each marker, and one quote level per line.
    let spaced = "> ".repeat(2000);
    assert!(render(&spaced, &[]).matches("<blockquote>").count() <= MAX_QUOTE_DEPTH);
    let lines: String = (0..1000)
        .map(|i| format!("{}x\n", ">".repeat(i % 40)))
        .collect();
    assert!(render(&lines[..4000.min(lines.len())], &[]).len() < 64 * 1024);

    // 4000 characters of links (307 of them), and of autolinks and bare URLs.
    for unit in ["[a](http://a)", "<http://a.example>", "http://a.example "] {
        let body = unit.repeat(4000 / unit.len());
        let html = render(&body, &[]);
        assert_eq!(html.matches("<a ").count(), 4000 / unit.len(), "{unit}");
        assert!(html.len() < body.len() * 12, "{unit}: {} bytes", html.len());
    }

    // Deep emphasis, brackets and list nesting.
    for body in [
        "*".repeat(4000),
        "[".repeat(4000),
        "](".repeat(2000),
        "- ".repeat(2000),
        "`".repeat(4000),
        "***a".repeat(1000),
    ] {
        let html = render(&body, &[]);
        assert!(
            html.len() < body.len() * 12 + 64,
            "{} bytes from {} bytes",
            html.len(),
            body.len()
        );
        assert_safe(&body[..20], &html);
    }

    // Mentions everywhere: the output stays proportional.
    let bob = (UserId::new(), "bob".to_string());
    let body = "@bob ".repeat(800);
    let html = render(&body, &[bob]);
    assert_eq!(html.matches("class=\"mention\"").count(), 800);
    assert!(html.len() < body.len() * 20);
}

#[test]
fn mention_candidates_come_from_text_only() {
    assert_eq!(
        mention_candidates("@Ann `@code` [@link](https://x.example/@path) @ann"),
        vec!["ann", "link"]
    );
    assert!(mention_candidates(&"@x ".repeat(2000)).len() <= 1);
}
