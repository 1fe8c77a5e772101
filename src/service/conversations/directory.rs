//! The public room directory: `GET /rooms` (search over name, topic and category, a category
//! filter, three orders, paged), its category list, and what keeps other users' directories
//! live: the `RoomListed` / `RoomUnlisted` events (published here, in the unit of work of the
//! change) and the member counts the realtime layer asks for when it coalesces `room_stats`.
//!
//! A directory entry sent to everyone is the view of a user who is not a member (no
//! membership, role or unread count; the permissions of a plain member of the server), so no
//! per-user detail leaves with it. Private rooms are never listed, announced or counted here.

use std::collections::HashMap;

use serde::{Deserialize, Serialize};

use super::{
    ConversationService, QUERY_MAX_CHARS,
    views::{Caller, view_of},
};
use crate::{
    domain::{
        Actor, Conversation, ConversationId, ConversationKind, DirectorySort, DomainError,
        ErrorCode, ServerRole, Timestamp, Visibility, no_control_chars,
    },
    events::Event,
    service::{
        paging::{self, Page},
        uow::Work,
    },
    store::{
        conversations::{self, ConversationRecord, DirectoryPosition, DirectoryQuery},
        members,
    },
};

/// Longest category filter, in characters (a category is at most 64).
const CATEGORY_FILTER_MAX_CHARS: usize = 64;

/// Position of a room directory page: official flag, lower-cased name, member count, creation
/// time, id (only the keys of the page's order are compared).
#[derive(Serialize, Deserialize)]
struct DirectoryCursor(bool, String, i64, Timestamp, ConversationId);

/// One category of the public directory.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct DirectoryCategory {
    /// The category as stored.
    pub name: String,
    /// How many public rooms have it.
    pub room_count: i64,
}

/// What `GET /rooms` filters by and how it orders.
#[derive(Clone, Copy, Debug, Default)]
pub struct DirectoryFilter<'a> {
    /// Text the name, topic or category contains (case-insensitive, literal; ≤ 64 characters).
    pub q: Option<&'a str>,
    /// Only this category (case-insensitive, whole value; ≤ 64 characters).
    pub category: Option<&'a str>,
    /// The order after "official first" (default: by name).
    pub sort: Option<DirectorySort>,
}

/// The directory entry of `row` as a non-member sees it.
pub(super) fn listing(row: &ConversationRecord, member_count: i64) -> Conversation {
    let caller = Caller {
        role: ServerRole::Member,
        member: None,
        inviter: None,
    };
    view_of(row, member_count, &caller, None)
}

fn check_text(text: Option<&str>, max: usize, what: &str) -> Result<(), DomainError> {
    if text.is_some_and(|t| t.chars().count() > max || !no_control_chars(t)) {
        return Err(DomainError::invalid(
            ErrorCode::InvalidQuery,
            format!("{what} must be at most {max} characters without control characters"),
        ));
    }
    Ok(())
}

impl ConversationService {
    /// One page of public rooms matching `filter`, official first, then by name (or by member
    /// count, or newest first). Errors: 422 `invalid_query` (`q` or `category` over 64
    /// characters or with control characters), `invalid_limit`, `invalid_cursor` (also a cursor
    /// of another order). Sorting by members pages by the counts at the time of each page: a
    /// room whose count changes between two pages may show twice or not at all.
    pub async fn directory(
        &self,
        actor: &Actor,
        filter: DirectoryFilter<'_>,
        cursor: Option<&str>,
        limit: Option<u64>,
    ) -> Result<Page<Conversation>, DomainError> {
        check_text(filter.q, QUERY_MAX_CHARS, "q")?;
        check_text(filter.category, CATEGORY_FILTER_MAX_CHARS, "category")?;
        let limit = paging::limit(limit, 50, 100)?;
        let after = cursor
            .map(paging::decode::<DirectoryCursor>)
            .transpose()?
            .map(
                |DirectoryCursor(official, name_key, members, created_at, id)| DirectoryPosition {
                    official,
                    name_key,
                    members,
                    created_at: created_at.0,
                    id,
                },
            );
        let query = DirectoryQuery {
            q: filter.q,
            category: filter.category,
            sort: filter.sort.unwrap_or(DirectorySort::Name),
        };
        let rows = conversations::directory(&self.db.read, &query, after.as_ref(), limit).await?;
        let ids: Vec<ConversationId> = rows.iter().map(|r| r.id).collect();
        let counts = members::joined_counts(&self.db.read, &ids).await?;
        let page = paging::page(rows, limit, |r: &ConversationRecord| {
            DirectoryCursor(
                r.official,
                r.name.as_deref().unwrap_or_default().to_lowercase(),
                counts.get(&r.id).copied().unwrap_or(0),
                Timestamp(r.created_at),
                r.id,
            )
        });
        let views = self.views(actor, page.items).await?;
        Ok(Page {
            items: views,
            next_cursor: page.next_cursor,
        })
    }

    /// The categories of public rooms, by name, with their room counts (for the directory's
    /// category filter).
    pub async fn directory_categories(&self) -> Result<Vec<DirectoryCategory>, DomainError> {
        Ok(conversations::directory_categories(&self.db.read)
            .await?
            .into_iter()
            .map(|(name, room_count)| DirectoryCategory { name, room_count })
            .collect())
    }

    /// The joined member counts of those of `ids` that are public rooms (private rooms, groups,
    /// DMs and deleted rooms are left out). The realtime layer sends them as `room_stats`.
    pub async fn listed_member_counts(
        &self,
        ids: &[ConversationId],
    ) -> Result<HashMap<ConversationId, i64>, DomainError> {
        let rows = conversations::by_ids(&self.db.read, ids).await?;
        let public: Vec<ConversationId> = rows
            .iter()
            .filter(|r| r.kind == ConversationKind::Room && r.visibility == Visibility::Public)
            .map(|r| r.id)
            .collect();
        let mut counts = members::joined_counts(&self.db.read, &public).await?;
        for id in public {
            counts.entry(id).or_insert(0);
        }
        Ok(counts)
    }

    /// Publishes `RoomListed` for room `id` when it is public (read in the unit of work, after
    /// the change).
    pub(super) async fn publish_listing(
        &self,
        work: &mut Work,
        id: ConversationId,
    ) -> Result<(), DomainError> {
        let Some(row) = conversations::by_id(work.db(), id).await? else {
            return Ok(());
        };
        if row.kind != ConversationKind::Room || row.visibility != Visibility::Public {
            return Ok(());
        }
        let count = self.count(work.db(), id).await?;
        work.publish(Event::RoomListed {
            room: listing(&row, count),
        });
        Ok(())
    }
}
