//! Full-text search of messages: THE one place that knows how each backend searches.
//!
//! | | SQLite | PostgreSQL |
//! |---|---|---|
//! | index | `messages_fts` (FTS5, external content, `unicode61 remove_diacritics 2`), kept by triggers | `messages.body_tsv` (generated `tsvector`, config `echochat_search` = `simple` + `unaccent`), GIN index |
//! | query | `"w1" "w2" "w3"*` (every word double-quoted) with `MATCH` | `'w1' & 'w2' & 'w3':*` with `to_tsquery` |
//! | order / cursor | FTS rowid, descending (insertion order: no sort, stops at the page) | message id (UUIDv7), descending |
//! | snippet | `snippet()` | `ts_headline()` over the body with `<` `>` hidden (its parser drops markup) |
//!
//! The query is built from [`SearchTerms`] (words of letters and digits), never from the user's
//! text, and every word is quoted for its syntax besides. Who may read what is decided in the
//! SQL itself: only conversations the viewer is a `joined` member of now, only messages after
//! the conversation's `cleared_seq`, never deleted ones, shadowed ones only the viewer's own.
//! Snippets come back with hits between two sentinel control characters; [`snippet_html`]
//! escapes everything and turns the sentinels into `<mark>`…`</mark>`.

use chrono::{DateTime, Utc};
use entity::messages;
use sea_orm::{
    ConnectionTrait, DbBackend, FromQueryResult, IdenStatic, Iterable, Statement, Value,
};
use serde::{Deserialize, Serialize};

use super::messages::MessageRecord;
use crate::domain::{ConversationId, DomainError, SearchTerms, UserId};

/// Where a hit starts in the database's text: STX (U+0002), a control character no message body
/// can contain (`MessageBody::parse` refuses them), so only the database puts it there.
const HIT_START: char = '\u{2}';
/// Where a hit ends: ETX (U+0003).
const HIT_END: char = '\u{3}';
/// `<` while PostgreSQL makes a headline (EOT, U+0004): its parser drops what looks like markup.
const LT: char = '\u{4}';
/// `>` while PostgreSQL makes a headline (ENQ, U+0005).
const GT: char = '\u{5}';

/// A position in the results (the last hit of a page), opaque to clients: the FTS rowid on
/// SQLite, the message id on PostgreSQL.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(untagged)]
pub enum SearchPosition {
    /// SQLite: `messages_fts.rowid` (= `messages.rowid`).
    Row(i64),
    /// PostgreSQL: `messages.id`.
    Id(uuid::Uuid),
}

/// One search, with everything already parsed and bounded.
#[derive(Clone, Debug)]
pub struct SearchQuery<'a> {
    /// Who searches: decides what may be found.
    pub viewer: UserId,
    /// The words (must not be empty).
    pub terms: &'a SearchTerms,
    /// Only this conversation.
    pub conversation: Option<ConversationId>,
    /// Only messages of this sender.
    pub sender: Option<UserId>,
    /// Only messages committed at or after this time.
    pub from: Option<DateTime<Utc>>,
    /// Only messages committed before this time.
    pub to: Option<DateTime<Utc>>,
    /// Only hits after this position (the previous page's last).
    pub after: Option<SearchPosition>,
    /// Page size (the service bounds it).
    pub limit: u64,
}

/// One hit.
#[derive(Clone, Debug)]
pub struct SearchRow {
    /// The message.
    pub record: MessageRecord,
    /// The excerpt as safe HTML: escaped text with the hits in `<mark>`…`</mark>`.
    pub snippet: String,
    /// Its position, for the next page's cursor.
    pub position: SearchPosition,
}

/// A page of hits, newest first.
#[derive(Clone, Debug)]
pub struct SearchPage {
    /// At most `limit` hits.
    pub rows: Vec<SearchRow>,
    /// More hits exist after the last row.
    pub has_more: bool,
}

/// Searches the messages `query.viewer` may read. Errors: 422 `invalid_cursor` for a position
/// of the other backend; database errors.
pub async fn search(
    db: &impl ConnectionTrait,
    query: &SearchQuery<'_>,
) -> Result<SearchPage, DomainError> {
    let backend = db.get_database_backend();
    if query.terms.is_empty() {
        return Ok(SearchPage {
            rows: Vec::new(),
            has_more: false,
        });
    }
    let mut sql = Sql::new(backend);
    let statement = match backend {
        DbBackend::Sqlite => sqlite_statement(&mut sql, query)?,
        DbBackend::Postgres => postgres_statement(&mut sql, query)?,
        other => {
            return Err(DomainError::Internal(anyhow::anyhow!(
                "search is not available on {other:?}"
            )));
        }
    };
    let results = db
        .query_all_raw(Statement::from_sql_and_values(
            backend, statement, sql.values,
        ))
        .await?;
    let mut rows = Vec::with_capacity(results.len());
    for row in &results {
        let model = messages::Model::from_query_result(row, "")?;
        let position = match backend {
            DbBackend::Sqlite => SearchPosition::Row(row.try_get("", "search_rowid")?),
            _ => SearchPosition::Id(model.id),
        };
        let raw: String = row.try_get("", "search_snippet")?;
        rows.push(SearchRow {
            record: MessageRecord::from(model),
            snippet: snippet_html(&raw),
            position,
        });
    }
    let has_more = rows.len() as u64 > query.limit;
    rows.truncate(usize::try_from(query.limit).unwrap_or(usize::MAX));
    Ok(SearchPage { rows, has_more })
}

/// An FTS5 query: every word a quoted string (a `"` inside doubled), all of them required; the
/// last one also as a prefix when the terms say so.
fn fts5_query(terms: &SearchTerms) -> String {
    let words = terms.words();
    let mut out = String::new();
    for (i, word) in words.iter().enumerate() {
        if i > 0 {
            out.push(' ');
        }
        out.push('"');
        out.push_str(&word.replace('"', "\"\""));
        out.push('"');
        if i + 1 == words.len() && terms.prefix_last() {
            out.push('*');
        }
    }
    out
}

/// A `to_tsquery` text: every word a quoted lexeme (`'` and `\` escaped), joined by `&`; the
/// last one with `:*` when the terms say so.
fn tsquery(terms: &SearchTerms) -> String {
    let words = terms.words();
    let mut out = String::new();
    for (i, word) in words.iter().enumerate() {
        if i > 0 {
            out.push_str(" & ");
        }
        out.push('\'');
        out.push_str(&word.replace('\\', "\\\\").replace('\'', "''"));
        out.push('\'');
        if i + 1 == words.len() && terms.prefix_last() {
            out.push_str(":*");
        }
    }
    out
}

/// The `messages` columns the entity knows, as `m."col"` (never `body_tsv`).
fn message_columns() -> String {
    messages::Column::iter()
        .map(|c| format!("m.\"{}\"", c.as_str()))
        .collect::<Vec<_>>()
        .join(", ")
}

/// The authorization and filter conditions shared by both backends (`m`, `cm`, `c` aliases).
fn conditions(sql: &mut Sql, query: &SearchQuery<'_>) -> String {
    let viewer = sql.bind(query.viewer.0);
    let viewer_again = sql.bind(query.viewer.0);
    let mut out = format!(
        "cm.\"user_id\" = {viewer} AND cm.\"state\" = 'joined' \
         AND m.\"seq\" > c.\"cleared_seq\" AND m.\"deleted_at\" IS NULL \
         AND (NOT m.\"shadowed\" OR m.\"sender_id\" = {viewer_again})"
    );
    if let Some(conversation) = query.conversation {
        out.push_str(&format!(
            " AND m.\"conversation_id\" = {}",
            sql.bind(conversation.0)
        ));
    }
    if let Some(sender) = query.sender {
        out.push_str(&format!(" AND m.\"sender_id\" = {}", sql.bind(sender.0)));
    }
    if let Some(from) = query.from {
        out.push_str(&format!(" AND m.\"created_at\" >= {}", sql.bind(from)));
    }
    if let Some(to) = query.to {
        out.push_str(&format!(" AND m.\"created_at\" < {}", sql.bind(to)));
    }
    out
}

fn wrong_cursor() -> DomainError {
    DomainError::invalid(
        crate::domain::ErrorCode::InvalidCursor,
        "cursor is not valid here",
    )
}

/// SQLite: the FTS index drives the query in rowid order (newest first, no sort), each hit is
/// checked against the viewer's membership; the snippet is computed for the page only.
fn sqlite_statement(sql: &mut Sql, query: &SearchQuery<'_>) -> Result<String, DomainError> {
    let text = fts5_query(query.terms);
    let columns = message_columns();
    let matches = sql.bind(text.clone());
    let conditions = conditions(sql, query);
    let after = match query.after {
        None => String::new(),
        Some(SearchPosition::Row(rowid)) => {
            format!(" AND \"messages_fts\".\"rowid\" < {}", sql.bind(rowid))
        }
        Some(SearchPosition::Id(_)) => return Err(wrong_cursor()),
    };
    let limit = sql.bind(page_limit(query.limit));
    let matches_again = sql.bind(text);
    // CROSS JOIN fixes the join order in SQLite: the FTS index first, then the lookups.
    Ok(format!(
        "WITH \"page\" AS (\
           SELECT \"messages_fts\".\"rowid\" AS \"search_rowid\", {columns} \
           FROM \"messages_fts\" \
           CROSS JOIN \"messages\" m ON m.\"rowid\" = \"messages_fts\".\"rowid\" \
           CROSS JOIN \"conversation_members\" cm ON cm.\"conversation_id\" = m.\"conversation_id\" \
           CROSS JOIN \"conversations\" c ON c.\"id\" = m.\"conversation_id\" \
           WHERE \"messages_fts\" MATCH {matches} AND {conditions}{after} \
           ORDER BY \"messages_fts\".\"rowid\" DESC LIMIT {limit}\
         ) \
         SELECT \"page\".*, snippet(\"messages_fts\", 0, char({start}), char({end}), '…', 16) \
           AS \"search_snippet\" \
         FROM \"page\" CROSS JOIN \"messages_fts\" ON \"messages_fts\".\"rowid\" = \"page\".\"search_rowid\" \
         WHERE \"messages_fts\" MATCH {matches_again} \
         ORDER BY \"page\".\"search_rowid\" DESC",
        start = HIT_START as u32,
        end = HIT_END as u32,
    ))
}

/// PostgreSQL: the GIN index finds the candidates (or, for a common word, the id index is walked
/// newest first until the page is full: the planner sees the query value, so it can choose),
/// the newest page is kept, and the headline is computed for that page only.
fn postgres_statement(sql: &mut Sql, query: &SearchQuery<'_>) -> Result<String, DomainError> {
    let columns = message_columns();
    let tsquery = sql.bind(tsquery(query.terms));
    let conditions = conditions(sql, query);
    let after = match query.after {
        None => String::new(),
        Some(SearchPosition::Id(id)) => format!(" AND m.\"id\" < {}", sql.bind(id)),
        Some(SearchPosition::Row(_)) => return Err(wrong_cursor()),
    };
    let limit = sql.bind(page_limit(query.limit));
    let options = sql.bind(format!(
        "StartSel={HIT_START}, StopSel={HIT_END}, MaxWords=24, MinWords=10"
    ));
    Ok(format!(
        "WITH \"page\" AS (\
           SELECT {columns} \
           FROM \"messages\" m \
           JOIN \"conversation_members\" cm ON cm.\"conversation_id\" = m.\"conversation_id\" \
           JOIN \"conversations\" c ON c.\"id\" = m.\"conversation_id\" \
           WHERE m.\"body_tsv\" @@ to_tsquery('echochat_search', {tsquery}) AND {conditions}{after} \
           ORDER BY m.\"id\" DESC LIMIT {limit}\
         ) \
         SELECT \"page\".*, \
           ts_headline('echochat_search', translate(\"page\".\"body\", '<>', chr({lt}) || chr({gt})), \
             to_tsquery('echochat_search', {tsquery}), {options}) \
             AS \"search_snippet\" \
         FROM \"page\" ORDER BY \"page\".\"id\" DESC",
        lt = LT as u32,
        gt = GT as u32,
    ))
}

/// One more row than the page, to know whether more exist.
fn page_limit(limit: u64) -> i64 {
    i64::try_from(limit.saturating_add(1)).unwrap_or(i64::MAX)
}

/// A snippet as safe HTML: the text HTML-escaped, hits (between the sentinels) in
/// `<mark>`…`</mark>`. Bodies cannot hold the sentinels, and even so they could not unbalance
/// the markup: a start inside a hit and an end outside one are dropped, an open hit is closed.
pub fn snippet_html(raw: &str) -> String {
    let mut out = String::with_capacity(raw.len() + 32);
    let mut open = false;
    for c in raw.chars() {
        match c {
            HIT_START if !open => {
                out.push_str("<mark>");
                open = true;
            }
            HIT_END if open => {
                out.push_str("</mark>");
                open = false;
            }
            HIT_START | HIT_END => {}
            '&' => out.push_str("&amp;"),
            '<' | LT => out.push_str("&lt;"),
            '>' | GT => out.push_str("&gt;"),
            '"' => out.push_str("&quot;"),
            '\'' => out.push_str("&#39;"),
            c => out.push(c),
        }
    }
    if open {
        out.push_str("</mark>");
    }
    out
}

/// A statement under construction: values and their placeholders (`?` on SQLite, `$n` on
/// PostgreSQL).
struct Sql {
    backend: DbBackend,
    values: Vec<Value>,
}

impl Sql {
    fn new(backend: DbBackend) -> Self {
        Self {
            backend,
            values: Vec::new(),
        }
    }

    /// Adds a value; returns its placeholder.
    fn bind(&mut self, value: impl Into<Value>) -> String {
        self.values.push(value.into());
        match self.backend {
            DbBackend::Postgres => format!("${}", self.values.len()),
            _ => "?".to_owned(),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn queries_quote_every_word() {
        let terms = SearchTerms::parse(r#"say "hi" NEAR(x) OR déjà*"#).expect("parses");
        assert_eq!(fts5_query(&terms), r#""say" "hi" "near" "x" "or" "déjà"*"#);
        assert_eq!(
            tsquery(&terms),
            "'say' & 'hi' & 'near' & 'x' & 'or' & 'déjà':*"
        );
    }

    #[test]
    fn snippets_are_escaped_and_balanced() {
        assert_eq!(
            snippet_html("a \u{2}<script>\u{3} & \"b'"),
            "a <mark>&lt;script&gt;</mark> &amp; &quot;b&#39;"
        );
        assert_eq!(snippet_html("\u{3}x\u{2}\u{2}y"), "x<mark>y</mark>");
    }

    #[test]
    fn positions_round_trip_untagged() {
        let row = serde_json::to_string(&SearchPosition::Row(42)).expect("json");
        assert_eq!(row, "42");
        let id = uuid::Uuid::nil();
        let back: SearchPosition =
            serde_json::from_str(&serde_json::to_string(&SearchPosition::Id(id)).expect("json"))
                .expect("parses");
        assert_eq!(back, SearchPosition::Id(id));
    }
}
