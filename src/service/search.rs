//! Full-text search of the messages the caller may read (`GET /search/messages`).
//!
//! The query is parsed and bounded here ([`SearchTerms`]: 1–256 characters, at most 16 words)
//! before anything touches the database; the per-user rate ([`Limit::Search`]) is counted next;
//! `store::search::search` then runs ONE statement whose SQL decides what the caller may read
//! (joined conversations now, after a cleared history, not deleted, others' shadowed messages
//! never).

use chrono::{DateTime, Utc};

use super::{
    access::Access,
    limits::{Limit, RateLimits},
    paging::{self, Page},
};
use crate::{
    domain::{Actor, ConversationId, DomainError, Message, SearchTerms, UserId},
    store::{
        Db, messages,
        search::{self, SearchPosition, SearchQuery},
    },
};

/// Default page size.
pub const SEARCH_DEFAULT: u64 = 20;
/// Largest page.
pub const SEARCH_MAX: u64 = 50;

/// What the caller asks for, as received (the service parses and bounds it).
#[derive(Clone, Debug, Default)]
pub struct SearchRequest<'a> {
    /// The text typed: 1–256 characters after trimming.
    pub q: &'a str,
    /// Only this conversation.
    pub conversation: Option<ConversationId>,
    /// Only this sender's messages.
    pub sender: Option<UserId>,
    /// Only messages sent at or after this time.
    pub from: Option<DateTime<Utc>>,
    /// Only messages sent before this time.
    pub to: Option<DateTime<Utc>>,
    /// `next_cursor` of the previous page.
    pub cursor: Option<&'a str>,
    /// Page size 1–50 (default 20).
    pub limit: Option<u64>,
}

/// One hit: the message and an excerpt with the matching words marked.
#[derive(Clone, Debug)]
pub struct SearchHit {
    /// The message, as history shows it.
    pub message: Message,
    /// Safe HTML: escaped text, hits in `<mark>`…`</mark>`.
    pub snippet: String,
}

/// Message search.
#[derive(Clone)]
pub struct SearchService {
    db: Db,
    access: Access,
    limits: RateLimits,
}

impl SearchService {
    /// Builds the service; `limits` holds the per-user search rate ([`Limit::Search`]).
    pub fn new(db: Db, access: Access, limits: RateLimits) -> Self {
        Self { db, access, limits }
    }

    /// The messages the caller may read that contain every word of `q`, newest first. Paged:
    /// pass `next_cursor` back as `cursor`. A query without letters or digits finds nothing.
    /// Errors: 422 `invalid_query` (empty, longer than 256 characters, control characters),
    /// 422 `invalid_limit`, 422 `invalid_cursor`, 429 `rate_limited` (`search_per_user`),
    /// 401/403 for a gone or suspended account.
    pub async fn search(
        &self,
        actor: &Actor,
        request: SearchRequest<'_>,
    ) -> Result<Page<SearchHit>, DomainError> {
        let terms = SearchTerms::parse(request.q)?;
        let limit = paging::limit(request.limit, SEARCH_DEFAULT, SEARCH_MAX)?;
        let after = request
            .cursor
            .map(paging::decode::<SearchPosition>)
            .transpose()?;
        self.limits
            .check(Limit::Search, &actor.user.to_string())
            .await?;
        self.access.active_user(actor.user).await?;
        let page = search::search(
            &self.db.read,
            &SearchQuery {
                viewer: actor.user,
                terms: &terms,
                conversation: request.conversation,
                sender: request.sender,
                from: request.from,
                to: request.to,
                after,
                limit,
            },
        )
        .await?;
        let next_cursor = if page.has_more {
            page.rows.last().map(|r| paging::encode(&r.position))
        } else {
            None
        };
        let records: Vec<_> = page.rows.iter().map(|r| r.record.clone()).collect();
        let views = messages::views(&self.db.read, &records).await?;
        let items = page
            .rows
            .into_iter()
            .zip(views)
            .map(|(row, message)| SearchHit {
                message,
                snippet: row.snippet,
            })
            .collect();
        Ok(Page { items, next_cursor })
    }
}
