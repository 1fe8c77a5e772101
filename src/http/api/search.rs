//! Full-text search of my messages.

use poem::web::Data;
use poem_openapi::{Object, OpenApi, param::Query, payload::Json};

use super::{ApiTags, strict::Limit};
use crate::{
    domain::{ConversationId, Message, UserId},
    http::{error::ApiResult, security::Auth},
    service::{Page, search::SearchRequest},
    state::AppState,
};

/// One search hit.
#[derive(Debug, Clone, Object)]
pub struct SearchHit {
    /// The message, as history shows it.
    pub message: Message,
    /// An excerpt of the body around the matching words as safe HTML: the text is
    /// HTML-escaped and every match is wrapped in `<mark>`…`</mark>`; nothing else is markup.
    pub snippet: String,
}

/// A page of search hits, newest first.
#[derive(Debug, Clone, Object)]
#[oai(skip_serializing_if_is_none)]
pub struct SearchResults {
    /// This page's hits.
    pub results: Vec<SearchHit>,
    /// Pass as `cursor` to get the next page; absent on the last page.
    pub next_cursor: Option<String>,
}

impl From<Page<crate::service::search::SearchHit>> for SearchResults {
    fn from(page: Page<crate::service::search::SearchHit>) -> Self {
        Self {
            results: page
                .items
                .into_iter()
                .map(|h| SearchHit {
                    message: h.message,
                    snippet: h.snippet,
                })
                .collect(),
            next_cursor: page.next_cursor,
        }
    }
}

/// Search API.
pub struct SearchApi;

#[OpenApi(prefix_path = "/search", tag = "ApiTags::Search")]
impl SearchApi {
    /// Searches the messages I may read now: conversations I am a joined member of (never one
    /// I left, was removed from or was never in), after a cleared history, not deleted; newest
    /// first. `q` is plain text (1–256 characters after trimming): its words (runs of letters
    /// and digits, at most 16) must all occur, ignoring case and diacritics; the last word
    /// also matches words it begins when it has 3 characters or more. Punctuation, quotes and
    /// operators (`"`, `*`, `OR`, `NEAR`, `-`, `:`) are not query syntax. Paged: pass
    /// `next_cursor` back as `cursor`. Rate-limited per user (`[limits] search_per_user`).
    #[oai(path = "/messages", method = "get", operation_id = "search_messages")]
    #[allow(clippy::too_many_arguments)] // one per query parameter
    async fn messages(
        &self,
        auth: Auth,
        state: Data<&AppState>,
        /// The words to find (1–256 characters after trimming).
        q: Query<String>,
        /// Only this conversation.
        conversation_id: Query<Option<ConversationId>>,
        /// Only this sender's messages.
        sender_id: Query<Option<UserId>>,
        /// Only messages sent at or after this time (RFC 3339).
        from: Query<Option<chrono::DateTime<chrono::Utc>>>,
        /// Only messages sent before this time (RFC 3339).
        to: Query<Option<chrono::DateTime<chrono::Utc>>>,
        /// `next_cursor` of the previous page.
        cursor: Query<Option<String>>,
        /// Page size.
        limit: Query<Limit<20, 50>>,
    ) -> ApiResult<Json<SearchResults>> {
        let page = state
            .search
            .search(
                auth.actor(),
                SearchRequest {
                    q: &q.0,
                    conversation: conversation_id.0,
                    sender: sender_id.0,
                    from: from.0,
                    to: to.0,
                    cursor: cursor.0.as_deref(),
                    limit: limit.0.0,
                },
            )
            .await?;
        Ok(Json(page.into()))
    }
}
