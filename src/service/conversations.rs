//! Rooms, direct messages and membership.

use std::{collections::HashMap, sync::Arc};

use serde::{Deserialize, Serialize};

use super::{
    access::Access,
    paging::{self, Page},
    presence::PresenceDirectory,
    uow::{UnitOfWork, Work},
};
use crate::{
    config::OfficialRoom,
    domain::{
        Actor, AuditAction, AuditTarget, Conversation, ConversationFacts, ConversationId,
        ConversationKind, ConversationRole, DomainError, ErrorCode, Facts, Member, MembershipState,
        Permission, RoomName, Scope, ServerRole, User, UserId, Username, Visibility,
        conversation_permissions, no_control_chars, optional_text, skeleton_of,
    },
    events::Event,
    store::{
        Db,
        conversations::{self, ConversationRecord, DirectoryPosition},
        members::{self, MemberRecord},
        users::{self, UserRecord},
    },
};

/// Longest topic, in characters.
pub const TOPIC_MAX_CHARS: usize = 512;
/// Longest category, in characters.
pub const CATEGORY_MAX_CHARS: usize = 64;
/// Longest directory search, in characters.
pub const QUERY_MAX_CHARS: usize = 64;

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

/// Fields of `PATCH /rooms/{id}`: each given field replaces the stored one (empty text clears it).
pub struct RoomSettingsInput {
    /// New topic.
    pub topic: Option<String>,
    /// New category.
    pub category: Option<String>,
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
}

/// Position of a conversation list page (ordered by conversation id).
#[derive(Serialize, Deserialize)]
struct ListPosition(ConversationId);

/// Position of a member list page (ordered by username).
#[derive(Serialize, Deserialize)]
struct MemberPosition(String);

/// Position of a room directory page.
#[derive(Serialize, Deserialize)]
struct DirectoryCursor(bool, String);

/// The caller's side of a conversation view.
struct Caller<'a> {
    role: ServerRole,
    member: Option<&'a MemberRecord>,
}

/// Assembles the view of `row` as `caller` sees it.
fn view_of(
    row: &ConversationRecord,
    member_count: i64,
    caller: &Caller<'_>,
    peer: Option<&UserRecord>,
) -> Conversation {
    let member = caller
        .member
        .filter(|m| matches!(m.state, MembershipState::Joined | MembershipState::Invited));
    let unread = match member {
        Some(m) if m.state == MembershipState::Joined => (row.last_seq - m.last_read_seq).max(0),
        _ => 0,
    };
    let facts = Facts {
        server_role: caller.role,
        conversation: Some(row.facts()),
        member: caller.member.map(MemberRecord::facts),
    };
    Conversation {
        id: row.id,
        kind: row.kind,
        name: peer
            .map(|p| p.username.clone())
            .or_else(|| row.name.clone()),
        topic: row.topic.clone(),
        visibility: row.visibility,
        category: row.category.clone(),
        official: row.official,
        member_count,
        last_seq: row.last_seq,
        unread_count: unread,
        membership: member.map(|m| m.state),
        role: member.map(|m| m.role),
        permissions: conversation_permissions(&facts),
        peer: peer.map(UserRecord::view),
    }
}

impl ConversationService {
    /// Builds the service.
    pub fn new(
        db: Db,
        uow: UnitOfWork,
        access: Access,
        presence: Arc<dyn PresenceDirectory>,
        official_rooms: &[OfficialRoom],
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
        }
    }

    /// Joins a new account to the auto-join rooms, inside the registration's unit of work.
    pub async fn auto_join(&self, work: &mut Work, user: &UserRecord) -> Result<(), DomainError> {
        for room in conversations::auto_join(work.db()).await? {
            let membership = MemberRecord {
                conversation_id: room.id,
                user_id: user.id,
                role: ConversationRole::Member,
                state: MembershipState::Joined,
                last_read_seq: room.last_seq,
                updated_at: work.now(),
            };
            members::upsert(work.db(), &membership).await?;
            let count = self.count(work.db(), room.id).await?;
            let caller = Caller {
                role: user.role,
                member: Some(&membership),
            };
            work.publish(Event::MemberJoined {
                user: user.view(),
                role: membership.role,
                view: view_of(&room, count, &caller, None),
            });
        }
        Ok(())
    }

    async fn count(
        &self,
        db: &impl sea_orm::ConnectionTrait,
        id: ConversationId,
    ) -> Result<i64, DomainError> {
        Ok(members::joined_counts(db, &[id])
            .await?
            .get(&id)
            .copied()
            .unwrap_or(0))
    }

    /// One page of public rooms whose name contains `q` (literally), official first, then by
    /// name. Errors: 422 `invalid_query` (over 64 characters or control characters),
    /// `invalid_limit`, `invalid_cursor`.
    pub async fn directory(
        &self,
        actor: &Actor,
        q: Option<&str>,
        cursor: Option<&str>,
        limit: Option<u64>,
    ) -> Result<Page<Conversation>, DomainError> {
        if q.is_some_and(|q| q.chars().count() > QUERY_MAX_CHARS || !no_control_chars(q)) {
            return Err(DomainError::invalid(
                ErrorCode::InvalidQuery,
                "q must be at most 64 characters without control characters",
            ));
        }
        let limit = paging::limit(limit, 50, 100)?;
        let after = cursor
            .map(paging::decode::<DirectoryCursor>)
            .transpose()?
            .map(|DirectoryCursor(official, name_key)| DirectoryPosition { official, name_key });
        let rows = conversations::directory(&self.db.read, q, after.as_ref(), limit).await?;
        let page = paging::page(rows, limit, |r: &ConversationRecord| {
            DirectoryCursor(
                r.official,
                r.name.as_deref().unwrap_or_default().to_lowercase(),
            )
        });
        let views = self.views(actor, page.items).await?;
        Ok(Page {
            items: views,
            next_cursor: page.next_cursor,
        })
    }

    /// Creates a room; the creator joins as owner. One unit of work: the room, the owner's
    /// membership and the audit record commit together. Errors: 403 `permission_denied`,
    /// 422 `invalid_room_name`/`invalid_topic`/`invalid_category`, 409 `room_name_taken` (also
    /// for a name that looks like an official room's).
    pub async fn create_room(
        &self,
        actor: &Actor,
        input: NewRoomInput,
    ) -> Result<Conversation, DomainError> {
        self.access
            .require(actor, Permission::RoomsCreate, Scope::Server)
            .await?;
        let name = RoomName::parse(&input.name)?;
        let topic = optional_text(input.topic, TOPIC_MAX_CHARS, ErrorCode::InvalidTopic)?;
        let category = optional_text(
            input.category,
            CATEGORY_MAX_CHARS,
            ErrorCode::InvalidCategory,
        )?;
        let skeleton = name.skeleton();
        if let Some((_, official)) = self.official.iter().find(|(s, _)| *s == skeleton) {
            return Err(DomainError::conflict(
                ErrorCode::RoomNameTaken,
                format!("the name is too similar to the official room {official:?}"),
            ));
        }
        self.uow
            .run(async |work| {
                let owner = super::active_account(work.db(), actor.user).await?;
                let room = conversations::insert_room(
                    work.db(),
                    conversations::NewRoom {
                        name: &name,
                        visibility: input.visibility,
                        topic,
                        category,
                        created_by: actor.user,
                        now: work.now(),
                    },
                )
                .await?;
                let membership = MemberRecord {
                    conversation_id: room.id,
                    user_id: actor.user,
                    role: ConversationRole::Owner,
                    state: MembershipState::Joined,
                    last_read_seq: 0,
                    updated_at: work.now(),
                };
                members::upsert(work.db(), &membership).await?;
                work.audit(
                    Some(actor),
                    AuditAction::RoomCreated,
                    Some(AuditTarget::Conversation(room.id)),
                    serde_json::json!({"name": name.as_str(), "visibility": input.visibility}),
                )
                .await?;
                let caller = Caller {
                    role: owner.role,
                    member: Some(&membership),
                };
                let view = view_of(&room, 1, &caller, None);
                work.publish(Event::ConversationCreated {
                    conversation_id: room.id,
                    kind: room.kind,
                    visibility: room.visibility,
                    created_by: Some(actor.user),
                });
                work.publish(Event::MemberJoined {
                    user: owner.view(),
                    role: ConversationRole::Owner,
                    view: view.clone(),
                });
                Ok(view)
            })
            .await
    }

    /// Joins a room: public rooms are open, private rooms need an invite. Joining again is a
    /// no-op. Errors: 404 `not_found`, 403 `not_invited`.
    pub async fn join(
        &self,
        actor: &Actor,
        id: ConversationId,
    ) -> Result<Conversation, DomainError> {
        self.access
            .require(actor, Permission::ConversationJoin, Scope::Conversation(id))
            .await?;
        let member = members::get(&self.db.read, id, actor.user).await?;
        if member
            .as_ref()
            .is_some_and(|m| m.state == MembershipState::Joined)
        {
            return self.view_for(actor, id).await;
        }
        let role = member.map_or(ConversationRole::Member, |m| m.role);
        self.uow
            .run(async |work| {
                let room = conversations::by_id(work.db(), id)
                    .await?
                    .ok_or(DomainError::NotFound("conversation"))?;
                let user = super::active_account(work.db(), actor.user).await?;
                let membership = MemberRecord {
                    conversation_id: id,
                    user_id: actor.user,
                    role,
                    state: MembershipState::Joined,
                    last_read_seq: room.last_seq,
                    updated_at: work.now(),
                };
                // A re-join keeps the old read position: the stored row has it.
                let membership = members::upsert(work.db(), &membership).await?;
                let count = self.count(work.db(), id).await?;
                let caller = Caller {
                    role: user.role,
                    member: Some(&membership),
                };
                let view = view_of(&room, count, &caller, None);
                work.publish(Event::MemberJoined {
                    user: user.view(),
                    role,
                    view: view.clone(),
                });
                Ok(view)
            })
            .await
    }

    /// Leaves a room (or declines an invitation). Errors: 404 when not a member of a room.
    pub async fn leave(&self, actor: &Actor, id: ConversationId) -> Result<(), DomainError> {
        self.uow
            .run(async |work| {
                let room = conversations::by_id(work.db(), id).await?;
                let state = members::get(work.db(), id, actor.user)
                    .await?
                    .map(|m| m.state);
                let is_room = room.is_some_and(|r| r.kind == ConversationKind::Room);
                let was = match state {
                    Some(s @ (MembershipState::Joined | MembershipState::Invited)) if is_room => s,
                    _ => return Err(DomainError::NotFound("conversation")),
                };
                members::set_state(work.db(), id, actor.user, MembershipState::Left, work.now())
                    .await?;
                work.publish(Event::departure(id, actor.user, was));
                Ok(())
            })
            .await
    }

    /// Invites `username` to a room the caller is in; returns the invitee's id. Inviting someone
    /// already invited sends the invitation again. Errors: 404 (room or user), 403
    /// `permission_denied`, 409 `already_member`.
    pub async fn invite(
        &self,
        actor: &Actor,
        id: ConversationId,
        username: &str,
    ) -> Result<User, DomainError> {
        self.access
            .require(actor, Permission::MemberInvite, Scope::Conversation(id))
            .await?;
        let name = Username::parse(username).map_err(|_| DomainError::NotFound("user"))?;
        let target = users::by_username(&self.db.read, name.as_str())
            .await?
            .filter(UserRecord::is_active)
            .ok_or(DomainError::NotFound("user"))?;
        self.uow
            .run(async |work| {
                let room = conversations::by_id(work.db(), id)
                    .await?
                    .ok_or(DomainError::NotFound("conversation"))?;
                let existing = members::get(work.db(), id, target.id).await?;
                let membership = match existing {
                    Some(m) if m.state == MembershipState::Joined => {
                        return Err(DomainError::conflict(
                            ErrorCode::AlreadyMember,
                            "that user is already a member",
                        ));
                    }
                    Some(m) if m.state == MembershipState::Invited => m,
                    _ => {
                        let m = MemberRecord {
                            conversation_id: id,
                            user_id: target.id,
                            role: ConversationRole::Member,
                            state: MembershipState::Invited,
                            last_read_seq: room.last_seq,
                            updated_at: work.now(),
                        };
                        members::upsert(work.db(), &m).await?;
                        m
                    }
                };
                work.audit(
                    Some(actor),
                    AuditAction::RoomInvite,
                    Some(AuditTarget::Conversation(id)),
                    serde_json::json!({"user_id": target.id, "username": target.username}),
                )
                .await?;
                let count = self.count(work.db(), id).await?;
                let caller = Caller {
                    role: target.role,
                    member: Some(&membership),
                };
                work.publish(Event::MemberInvited {
                    user_id: target.id,
                    view: view_of(&room, count, &caller, None),
                });
                Ok(target.view())
            })
            .await
    }

    /// Opens (or gets) the DM with `username`. Returns the view and whether it was created.
    /// The DM and both memberships commit together: a racing request either finds all of it or
    /// loses the unique-key race and reads the winner's rows. Errors: 404 unknown user,
    /// 422 `invalid_username` for yourself.
    pub async fn open_dm(
        &self,
        actor: &Actor,
        username: &str,
    ) -> Result<(Conversation, bool), DomainError> {
        let name = Username::parse(username).map_err(|_| DomainError::NotFound("user"))?;
        let peer = users::by_username(&self.db.read, name.as_str())
            .await?
            .filter(UserRecord::is_active)
            .ok_or(DomainError::NotFound("user"))?;
        if peer.id == actor.user {
            return Err(DomainError::invalid(
                ErrorCode::InvalidUsername,
                "you cannot open a direct message with yourself",
            ));
        }
        if let Some(row) = conversations::dm_of(&self.db.read, actor.user, peer.id).await? {
            return Ok((self.view_for(actor, row.id).await?, false));
        }
        let created = self
            .uow
            .run(async |work| {
                let me = super::active_account(work.db(), actor.user).await?;
                let Some(row) =
                    conversations::insert_dm(work.db(), actor.user, peer.id, work.now()).await?
                else {
                    return Ok(None);
                };
                let mut mine = None;
                work.publish(Event::ConversationCreated {
                    conversation_id: row.id,
                    kind: row.kind,
                    visibility: row.visibility,
                    created_by: Some(actor.user),
                });
                for (user, other) in [(&me, &peer), (&peer, &me)] {
                    let membership = MemberRecord {
                        conversation_id: row.id,
                        user_id: user.id,
                        role: ConversationRole::Member,
                        state: MembershipState::Joined,
                        last_read_seq: 0,
                        updated_at: work.now(),
                    };
                    members::upsert(work.db(), &membership).await?;
                    let caller = Caller {
                        role: user.role,
                        member: Some(&membership),
                    };
                    let view = view_of(&row, 2, &caller, Some(other));
                    if user.id == actor.user {
                        mine = Some(view.clone());
                    }
                    work.publish(Event::MemberJoined {
                        user: user.view(),
                        role: ConversationRole::Member,
                        view,
                    });
                }
                Ok(mine)
            })
            .await?;
        match created {
            Some(view) => Ok((view, true)),
            None => {
                let row = conversations::dm_of(&self.db.write, actor.user, peer.id)
                    .await?
                    .ok_or(DomainError::NotFound("conversation"))?;
                Ok((self.view_for(actor, row.id).await?, false))
            }
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
            .require(actor, Permission::ConversationView, Scope::Conversation(id))
            .await?;
        self.view_for(actor, id).await
    }

    /// Changes a room's topic and category. Errors: 404, 403 `not_a_member`/`permission_denied`,
    /// 422 `invalid_topic`/`invalid_category`.
    pub async fn update_room(
        &self,
        actor: &Actor,
        id: ConversationId,
        input: RoomSettingsInput,
    ) -> Result<Conversation, DomainError> {
        self.access
            .require(
                actor,
                Permission::ConversationUpdate,
                Scope::Conversation(id),
            )
            .await?;
        let topic = input
            .topic
            .map(|t| optional_text(Some(t), TOPIC_MAX_CHARS, ErrorCode::InvalidTopic))
            .transpose()?;
        let category = input
            .category
            .map(|c| optional_text(Some(c), CATEGORY_MAX_CHARS, ErrorCode::InvalidCategory))
            .transpose()?;
        self.uow
            .run(async |work| {
                let room = conversations::by_id(work.db(), id)
                    .await?
                    .ok_or(DomainError::NotFound("conversation"))?;
                let topic = topic.unwrap_or(room.topic.clone());
                let category = category.unwrap_or(room.category.clone());
                conversations::update_settings(work.db(), id, topic.clone(), category.clone())
                    .await?;
                let mut details = serde_json::Map::new();
                for (key, value) in [("topic", &topic), ("category", &category)] {
                    if let Some(value) = value {
                        details.insert(key.into(), value.clone().into());
                    }
                }
                work.audit(
                    Some(actor),
                    AuditAction::RoomUpdated,
                    Some(AuditTarget::Conversation(id)),
                    details.into(),
                )
                .await?;
                work.publish(Event::ConversationUpdated {
                    conversation_id: id,
                    name: room.name.clone(),
                    topic,
                    category,
                });
                Ok(())
            })
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
            .require(actor, Permission::ConversationRead, Scope::Conversation(id))
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
        Ok(page.map(|(m, u)| Member {
            user_id: u.id,
            status: self.presence.status(u.id),
            username: u.username,
            display_name: u.display_name,
            role: m.role,
            server_role: u.role,
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

    async fn view_for(
        &self,
        actor: &Actor,
        id: ConversationId,
    ) -> Result<Conversation, DomainError> {
        let row = conversations::by_id(&self.db.read, id)
            .await?
            .ok_or(DomainError::NotFound("conversation"))?;
        self.views(actor, vec![row])
            .await?
            .pop()
            .ok_or(DomainError::NotFound("conversation"))
    }

    /// Views of `rows` as `actor` sees them (in the order given).
    async fn views(
        &self,
        actor: &Actor,
        rows: Vec<ConversationRecord>,
    ) -> Result<Vec<Conversation>, DomainError> {
        let user = self.access.active_user(actor.user).await?;
        let ids: Vec<ConversationId> = rows.iter().map(|r| r.id).collect();
        let dms: Vec<ConversationId> = rows
            .iter()
            .filter(|r| r.kind == ConversationKind::Dm)
            .map(|r| r.id)
            .collect();
        let (counts, peers, mine) = tokio::try_join!(
            members::joined_counts(&self.db.read, &ids),
            members::dm_peers(&self.db.read, &dms, actor.user),
            self.memberships(actor.user, &ids),
        )?;
        Ok(rows
            .iter()
            .map(|row| {
                let caller = Caller {
                    role: user.role,
                    member: mine.get(&row.id),
                };
                view_of(
                    row,
                    counts.get(&row.id).copied().unwrap_or(0),
                    &caller,
                    peers.get(&row.id),
                )
            })
            .collect())
    }

    async fn memberships(
        &self,
        user: UserId,
        ids: &[ConversationId],
    ) -> Result<HashMap<ConversationId, MemberRecord>, DomainError> {
        Ok(members::of_user_in(&self.db.read, user, ids)
            .await?
            .into_iter()
            .map(|m| (m.conversation_id, m))
            .collect())
    }
}
