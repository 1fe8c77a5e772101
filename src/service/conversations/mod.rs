//! Conversations: the service and what every kind shares (my list, one conversation, its
//! members, what a connection subscribes to). Rooms are in `rooms`, direct messages in `dms`,
//! the public room directory in `directory`, and how a conversation looks to one user in `views`.

mod directory;
mod dms;
mod groups;
mod invitations;
mod missed;
mod moderation;
mod room_moderation;
mod rooms;
mod views;

use std::sync::Arc;

use serde::{Deserialize, Serialize};

use super::{
    access::Access,
    limits::RateLimits,
    paging::{self, Page},
    presence::PresenceDirectory,
    uow::UnitOfWork,
};
use crate::{
    config::OfficialRoom,
    domain::{
        Actor, Conversation, ConversationFacts, ConversationId, DomainError, Member, Permission,
        PresenceStatus, Timestamp, UserId, Visibility, skeleton_of,
    },
    store::{
        Db, conversations,
        members::{self, MemberRecord},
        users::UserRecord,
    },
};

pub use directory::{DirectoryCategory, DirectoryFilter};
pub use missed::{MISSED_COUNT_CAP, MISSED_MAX};
pub use moderation::MUTE_MAX_SECS;
pub use room_moderation::AdminRoomInput;
pub use rooms::{CATEGORY_MAX_CHARS, QUERY_MAX_CHARS, TOPIC_MAX_CHARS};

/// Fields of `POST /rooms`.
pub struct NewRoomInput {
    /// Name (1–64 characters, unique without regard to case, not confusable with an official room).
    pub name: String,
    /// Public or private.
    pub visibility: Visibility,
    /// Topic (≤ 512 characters).
    pub topic: Option<String>,
    /// Category (≤ 64 characters).
    pub category: Option<String>,
}

/// Fields of `POST /groups`.
pub struct NewGroupInput {
    /// Name (1–64 visible characters; need not be unique).
    pub name: String,
    /// Topic (≤ 512 characters).
    pub topic: Option<String>,
}

/// Fields of `PATCH /groups/{id}`: each given field replaces the stored one (an empty topic
/// clears it).
pub struct GroupSettingsInput {
    /// New name.
    pub name: Option<String>,
    /// New topic.
    pub topic: Option<String>,
}

/// Fields of `PATCH /rooms/{id}`: each given field replaces the stored one (empty text clears it).
pub struct RoomSettingsInput {
    /// New topic.
    pub topic: Option<String>,
    /// New category.
    pub category: Option<String>,
}

/// A member as listed: `muted_until` only while the mute lasts.
fn member_view(
    m: &MemberRecord,
    u: UserRecord,
    status: PresenceStatus,
    now: chrono::DateTime<chrono::Utc>,
) -> Member {
    Member {
        user_id: u.id,
        status,
        username: u.username,
        display_name: u.display_name,
        role: m.role,
        server_role: u.role,
        muted_until: m.muted_at(now).map(Timestamp),
    }
}

/// Conversation use-cases.
#[derive(Clone)]
pub struct ConversationService {
    db: Db,
    uow: UnitOfWork,
    access: Access,
    presence: Arc<dyn PresenceDirectory>,
    /// Confusable skeletons of the official rooms' names, with the names.
    official: Arc<Vec<(String, String)>>,
    /// Room creation, join and invite rates, and the cap on pending invitations per recipient
    /// (`limits.max_pending_invites_per_recipient`, live).
    limits: RateLimits,
}

/// Position of a conversation list page (ordered by conversation id).
#[derive(Serialize, Deserialize)]
struct ListPosition(ConversationId);

/// Position of a member list page (ordered by username).
#[derive(Serialize, Deserialize)]
struct MemberPosition(String);

impl ConversationService {
    /// Builds the service.
    pub fn new(
        db: Db,
        uow: UnitOfWork,
        access: Access,
        presence: Arc<dyn PresenceDirectory>,
        official_rooms: &[OfficialRoom],
        limits: RateLimits,
    ) -> Self {
        let official = official_rooms
            .iter()
            .map(|r| (skeleton_of(r.name.trim()), r.name.trim().to_owned()))
            .collect();
        Self {
            db,
            uow,
            access,
            presence,
            official: Arc::new(official),
            limits,
        }
    }

    /// One page of my conversations (joined, plus invitations), ordered by id. Errors:
    /// 422 `invalid_limit`, `invalid_cursor`.
    pub async fn list(
        &self,
        actor: &Actor,
        cursor: Option<&str>,
        limit: Option<u64>,
    ) -> Result<Page<Conversation>, DomainError> {
        let limit = paging::limit(limit, 100, 200)?;
        let after = cursor
            .map(paging::decode::<ListPosition>)
            .transpose()?
            .map(|p| p.0);
        let mine = members::for_user(&self.db.read, actor.user, after, Some(limit + 1)).await?;
        let page = paging::page(mine, limit, |m: &MemberRecord| {
            ListPosition(m.conversation_id)
        });
        let ids: Vec<ConversationId> = page.items.iter().map(|m| m.conversation_id).collect();
        let mut rows = conversations::by_ids(&self.db.read, &ids).await?;
        rows.sort_by_key(|r| r.id);
        let views = self.views(actor, rows).await?;
        Ok(Page {
            items: views,
            next_cursor: page.next_cursor,
        })
    }

    /// The `cursor` of [`Self::list`] that continues after `conversation`.
    pub fn cursor_after(&self, conversation: &Conversation) -> String {
        paging::encode(&ListPosition(conversation.id))
    }

    /// One conversation: members and invitees see it, and anyone sees a public room.
    /// Errors: 404.
    pub async fn get(
        &self,
        actor: &Actor,
        id: ConversationId,
    ) -> Result<Conversation, DomainError> {
        self.access
            .require_in(actor, Permission::ConversationView, id)
            .await?;
        self.view_for(actor, id).await
    }

    /// One page of the joined members of a conversation, by username, with presence.
    /// Errors: as [`Access::require`] for `conversation.read`; 422 `invalid_limit`,
    /// `invalid_cursor`.
    pub async fn members(
        &self,
        actor: &Actor,
        id: ConversationId,
        cursor: Option<&str>,
        limit: Option<u64>,
    ) -> Result<Page<Member>, DomainError> {
        self.access
            .require_in(actor, Permission::ConversationRead, id)
            .await?;
        let limit = paging::limit(limit, 100, 500)?;
        let after = cursor
            .map(paging::decode::<MemberPosition>)
            .transpose()?
            .map(|p| p.0);
        let rows = members::joined_page(&self.db.read, id, after.as_deref(), limit).await?;
        let page = paging::page(rows, limit, |(_, u): &(MemberRecord, UserRecord)| {
            MemberPosition(u.username.clone())
        });
        let now = chrono::Utc::now();
        Ok(page.map(|(m, u)| {
            let status = self.presence.status(actor.user, u.id);
            member_view(&m, u, status, now)
        }))
    }

    /// The conversations `user` has joined with their facts: what a new connection subscribes to.
    pub async fn subscriptions(
        &self,
        user: UserId,
    ) -> Result<Vec<(ConversationId, ConversationFacts)>, DomainError> {
        let ids = members::joined_conversations(&self.db.read, user).await?;
        Ok(conversations::by_ids(&self.db.read, &ids)
            .await?
            .into_iter()
            .map(|c| (c.id, c.facts()))
            .collect())
    }
}
