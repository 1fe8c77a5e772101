//! Room moderation: the admin room list and settings (lock, read-only, slowmode, name,
//! official, auto-join), clearing and deleting rooms, renaming categories, kicking and banning
//! in rooms, and deleting messages.
//!
//! Every action is decided by the one permission function (server `rooms.moderate` /
//! `rooms.manage`, or the room's own roles through `member.kick`, `member.ban`,
//! `message.delete`), audited in its transaction, and announced after commit. What the settings
//! enforce (joining a locked room, posting in a read-only room or under slowmode) is decided in
//! `domain::permissions::decide` and `service::messages`, so REST and WebSocket share it.

use serde::{Deserialize, Serialize};
use serde_json::{Map, Value, json};

use super::{ConversationService, moderation::outranks};
use crate::{
    domain::{
        Actor, AdminRoom, AuditAction, AuditTarget, ConversationId, ConversationKind,
        ConversationRole, DomainError, ErrorCode, LeaveReason, MembershipState, Permission,
        RoomFilter, RoomName, Scope, Timestamp, UserId, moderates_rooms, no_control_chars,
        optional_text, reason,
    },
    events::Event,
    service::{
        paging::{self, Page},
        slowmode::SLOWMODE_MAX_SECS,
    },
    store::{
        conversations::{self, AdminRoomChanges, AdminRoomQuery, ConversationRecord},
        members::{self, MemberRecord},
        messages, reports, users,
    },
};

use super::rooms::{CATEGORY_MAX_CHARS, QUERY_MAX_CHARS, TOPIC_MAX_CHARS};

/// Fields of `PATCH /admin/rooms/{id}`: each given field replaces the stored one (empty topic or
/// category clears it).
#[derive(Clone, Debug, Default)]
pub struct AdminRoomInput {
    /// Lock: nobody new may join (`rooms.moderate`).
    pub locked: Option<bool>,
    /// Read-only: only the owner and moderators post (`rooms.moderate`).
    pub read_only: Option<bool>,
    /// Slowmode seconds, 0–21600 (`rooms.moderate`).
    pub slowmode_secs: Option<i64>,
    /// Topic (`rooms.moderate`).
    pub topic: Option<String>,
    /// Category (`rooms.moderate`).
    pub category: Option<String>,
    /// Name (`rooms.manage`).
    pub name: Option<String>,
    /// Official flag (`rooms.manage`).
    pub official: Option<bool>,
    /// Auto-join flag (`rooms.manage`).
    pub auto_join: Option<bool>,
}

/// Position of an admin room page (by lower-cased name).
#[derive(Serialize, Deserialize)]
struct AdminRoomPosition(String);

/// The admin view of a room.
fn admin_view(row: &ConversationRecord, member_count: i64) -> AdminRoom {
    AdminRoom {
        id: row.id,
        name: row.name.clone().unwrap_or_default(),
        topic: row.topic.clone(),
        category: row.category.clone(),
        visibility: row.visibility,
        official: row.official,
        auto_join: row.auto_join,
        locked: row.locked,
        read_only: row.read_only,
        slowmode_secs: row.slowmode_secs,
        member_count,
        last_seq: row.last_seq,
        cleared_seq: row.cleared_seq,
        created_at: Timestamp(row.created_at),
    }
}

fn denied() -> DomainError {
    DomainError::forbidden(ErrorCode::PermissionDenied, "your role does not allow this")
}

/// The room `id` read (and on PostgreSQL locked) in `db`; 404 for groups, DMs and unknown ids.
async fn room_locked(
    db: &impl sea_orm::ConnectionTrait,
    id: ConversationId,
) -> Result<ConversationRecord, DomainError> {
    conversations::by_id_locked(db, id)
        .await?
        .filter(|c| c.kind == ConversationKind::Room)
        .ok_or(DomainError::NotFound("conversation"))
}

impl ConversationService {
    /// One page of rooms (never groups or DMs) by name, for the admin panel. `filter` keeps
    /// official, public, private, locked or read-only rooms; `q` keeps names containing it.
    /// Errors: 403 `permission_denied` (needs `rooms.moderate`), 422 `invalid_query`,
    /// `invalid_limit`, `invalid_cursor`.
    pub async fn admin_rooms(
        &self,
        actor: &Actor,
        filter: Option<RoomFilter>,
        q: Option<&str>,
        cursor: Option<&str>,
        limit: Option<u64>,
    ) -> Result<Page<AdminRoom>, DomainError> {
        self.access
            .require(actor, Permission::RoomsModerate, Scope::Server)
            .await?;
        if q.is_some_and(|q| q.chars().count() > QUERY_MAX_CHARS || !no_control_chars(q)) {
            return Err(DomainError::invalid(
                ErrorCode::InvalidQuery,
                "q must be at most 64 characters without control characters",
            ));
        }
        let limit = paging::limit(limit, 50, 200)?;
        let after = cursor
            .map(paging::decode::<AdminRoomPosition>)
            .transpose()?
            .map(|p| p.0);
        let query = AdminRoomQuery { filter, q, after };
        let rows = conversations::admin_page(&self.db.read, &query, limit).await?;
        let page = paging::page(rows, limit, |r: &ConversationRecord| {
            AdminRoomPosition(r.name.as_deref().unwrap_or_default().to_lowercase())
        });
        let ids: Vec<ConversationId> = page.items.iter().map(|r| r.id).collect();
        let counts = members::joined_counts(&self.db.read, &ids).await?;
        Ok(page.map(|r| admin_view(&r, counts.get(&r.id).copied().unwrap_or(0))))
    }

    /// One room as the admin panel shows it. Errors: 403 (needs `rooms.moderate`), 404.
    pub async fn admin_room(
        &self,
        actor: &Actor,
        id: ConversationId,
    ) -> Result<AdminRoom, DomainError> {
        self.access
            .require(actor, Permission::RoomsModerate, Scope::Server)
            .await?;
        let row = conversations::by_id(&self.db.read, id)
            .await?
            .filter(|c| c.kind == ConversationKind::Room)
            .ok_or(DomainError::NotFound("conversation"))?;
        let count = self.count(&self.db.read, id).await?;
        Ok(admin_view(&row, count))
    }

    /// Changes a room's moderation and admin settings. `locked`, `read_only`, `slowmode_secs`,
    /// `topic` and `category` need `rooms.moderate`; `name`, `official` and `auto_join` need
    /// `rooms.manage`. Audited as `room.settings_changed` (only when something changed);
    /// members get `conversation_updated`. Errors: 403 `permission_denied`, 404 (not a room),
    /// 409 `room_name_taken`, 422 `invalid_slowmode`, `invalid_room_name`, `invalid_topic`,
    /// `invalid_category`.
    pub async fn admin_update_room(
        &self,
        actor: &Actor,
        id: ConversationId,
        input: AdminRoomInput,
    ) -> Result<AdminRoom, DomainError> {
        self.access
            .require(actor, Permission::RoomsModerate, Scope::Server)
            .await?;
        if input.name.is_some() || input.official.is_some() || input.auto_join.is_some() {
            self.access
                .require(actor, Permission::RoomsManage, Scope::Server)
                .await?;
        }
        let slowmode_secs = input
            .slowmode_secs
            .map(|s| {
                i32::try_from(s)
                    .ok()
                    .filter(|s| (0..=SLOWMODE_MAX_SECS).contains(s))
                    .ok_or_else(|| {
                        DomainError::invalid(
                            ErrorCode::InvalidSlowmode,
                            format!(
                                "slowmode_secs must be 0 (off) to {SLOWMODE_MAX_SECS} seconds (6 hours)"
                            ),
                        )
                    })
            })
            .transpose()?;
        let name = input.name.as_deref().map(RoomName::parse).transpose()?;
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
                let before = room_locked(work.db(), id).await?;
                let changes = AdminRoomChanges {
                    name: name.filter(|n| before.name.as_deref() != Some(n.as_str())),
                    topic: topic.filter(|t| *t != before.topic),
                    category: category.filter(|c| *c != before.category),
                    official: input.official.filter(|v| *v != before.official),
                    auto_join: input.auto_join.filter(|v| *v != before.auto_join),
                    locked: input.locked.filter(|v| *v != before.locked),
                    read_only: input.read_only.filter(|v| *v != before.read_only),
                    slowmode_secs: slowmode_secs.filter(|v| *v != before.slowmode_secs),
                };
                let diff = describe(&before, &changes);
                if diff.is_empty() {
                    let count = self.count(work.db(), id).await?;
                    return Ok(admin_view(&before, count));
                }
                conversations::apply_admin_changes(work.db(), id, &changes).await?;
                let after = room_locked(work.db(), id).await?;
                work.audit(
                    Some(actor),
                    AuditAction::RoomSettingsChanged,
                    Some(AuditTarget::Conversation(id)),
                    json!({"name": after.name, "changes": diff}),
                )
                .await?;
                work.publish(Event::ConversationUpdated {
                    conversation_id: id,
                    name: after.name.clone(),
                    topic: after.topic.clone(),
                    category: after.category.clone(),
                    locked: after.locked,
                    read_only: after.read_only,
                    slowmode_secs: after.slowmode_secs,
                });
                self.publish_listing(work, id).await?;
                let count = self.count(work.db(), id).await?;
                Ok(admin_view(&after, count))
            })
            .await
    }

    /// Clears a room's history: reads (history, `resume`, unread counts) start after its
    /// current `last_seq`, which is returned. Audited as `room.history_cleared` with the
    /// reason; members get `history_cleared`. Errors: 403 (needs `rooms.moderate`), 404 (not a
    /// room), 422 `invalid_reason` (required, 1–500 characters).
    pub async fn clear_history(
        &self,
        actor: &Actor,
        id: ConversationId,
        why: Option<&str>,
    ) -> Result<i64, DomainError> {
        self.access
            .require(actor, Permission::RoomsModerate, Scope::Server)
            .await?;
        let why = reason(why, true)?;
        self.uow
            .run(async |work| {
                let room = room_locked(work.db(), id).await?;
                conversations::set_cleared_seq(work.db(), id, room.last_seq).await?;
                work.audit(
                    Some(actor),
                    AuditAction::RoomHistoryCleared,
                    Some(AuditTarget::Conversation(id)),
                    json!({
                        "name": room.name,
                        "cleared_seq": room.last_seq,
                        "previously_cleared_seq": room.cleared_seq,
                        "reason": why,
                    }),
                )
                .await?;
                work.publish(Event::HistoryCleared {
                    conversation_id: id,
                    cleared_seq: room.last_seq,
                });
                Ok(room.last_seq)
            })
            .await
    }

    /// Deletes a room for good: its messages, memberships, reports and the room itself, in one
    /// transaction. Audited as `room.deleted` with its name; everyone who was in it (or invited)
    /// gets `conversation_deleted` and stops getting its frames. Official rooms of the config
    /// file come back at the next start. Errors: 403 (needs `rooms.manage`), 404 (not a room:
    /// groups and DMs cannot be deleted here), 422 `invalid_reason`.
    pub async fn delete_room(
        &self,
        actor: &Actor,
        id: ConversationId,
        why: Option<&str>,
    ) -> Result<(), DomainError> {
        self.access
            .require(actor, Permission::RoomsManage, Scope::Server)
            .await?;
        let why = reason(why, false)?;
        self.uow
            .run(async |work| {
                let room = room_locked(work.db(), id).await?;
                let everyone = members::all_users(work.db(), id).await?;
                let joined = self.count(work.db(), id).await?;
                let removed_reports = reports::delete_for(work.db(), id).await?;
                let removed_messages = messages::delete_all(work.db(), id).await?;
                members::delete_all(work.db(), id).await?;
                conversations::delete(work.db(), id).await?;
                work.audit(
                    Some(actor),
                    AuditAction::RoomDeleted,
                    Some(AuditTarget::Conversation(id)),
                    json!({
                        "name": room.name,
                        "visibility": room.visibility,
                        "official": room.official,
                        "members": joined,
                        "messages": removed_messages,
                        "reports": removed_reports,
                        "reason": why,
                    }),
                )
                .await?;
                work.publish(Event::ConversationDeleted {
                    conversation_id: id,
                    members: everyone,
                });
                if room.visibility == crate::domain::Visibility::Public {
                    work.publish(Event::RoomUnlisted {
                        conversation_id: id,
                    });
                }
                Ok(())
            })
            .await
    }

    /// Renames the category `from` to `to` on every room that has it; returns how many rooms
    /// changed. Audited as `category.renamed`; each room's members get `conversation_updated`.
    /// Errors: 403 (needs `rooms.manage`), 422 `invalid_category` (`to` empty, over 64
    /// characters or with control characters).
    pub async fn rename_category(
        &self,
        actor: &Actor,
        from: &str,
        to: &str,
    ) -> Result<u64, DomainError> {
        self.access
            .require(actor, Permission::RoomsManage, Scope::Server)
            .await?;
        let to = optional_text(
            Some(to.to_owned()),
            CATEGORY_MAX_CHARS,
            ErrorCode::InvalidCategory,
        )?
        .ok_or_else(|| {
            DomainError::invalid(ErrorCode::InvalidCategory, "the new category name is empty")
        })?;
        if from == to {
            return Ok(0);
        }
        self.uow
            .run(async |work| {
                let rooms = conversations::in_category(work.db(), from).await?;
                if rooms.is_empty() {
                    return Ok(0);
                }
                let n = conversations::rename_category(work.db(), from, &to).await?;
                work.audit(
                    Some(actor),
                    AuditAction::CategoryRenamed,
                    None,
                    json!({"from": from, "to": to, "rooms": n}),
                )
                .await?;
                for room in rooms {
                    work.publish(Event::ConversationUpdated {
                        conversation_id: room.id,
                        name: room.name,
                        topic: room.topic,
                        category: Some(to.clone()),
                        locked: room.locked,
                        read_only: room.read_only,
                        slowmode_secs: room.slowmode_secs,
                    });
                    self.publish_listing(work, room.id).await?;
                }
                Ok(n)
            })
            .await
    }

    /// The rank `actor` moderates room `id` with, read in the unit of work: the owner's for
    /// holders of `rooms.moderate`, else their joined role there. Errors: 403.
    async fn rank_in(
        &self,
        db: &impl sea_orm::ConnectionTrait,
        actor: &Actor,
        id: ConversationId,
        server_moderator: bool,
    ) -> Result<ConversationRole, DomainError> {
        if server_moderator {
            return Ok(ConversationRole::Owner);
        }
        members::get(db, id, actor.user)
            .await?
            .filter(|m| m.state == MembershipState::Joined && m.role != ConversationRole::Member)
            .map(|m| m.role)
            .ok_or_else(denied)
    }

    /// Removes `user` from room `id` (membership `left`: they may join again unless the room is
    /// locked or private). Room owners and moderators (outranking the target) and holders of
    /// `rooms.moderate` may. Audited as `member.kicked`; members (and the kicked user) get
    /// `member_left` with `reason: kicked`. Errors: 404 (room, or not a joined member), 403
    /// `permission_denied`, 422 `cannot_target_self`, `invalid_reason`.
    pub async fn kick_from_room(
        &self,
        actor: &Actor,
        id: ConversationId,
        user: UserId,
        why: Option<&str>,
    ) -> Result<(), DomainError> {
        self.require_room(id).await?;
        self.access
            .require_on(actor, Permission::MemberKick, id, user)
            .await?;
        let facts = self.access.facts(actor, Scope::Server).await?;
        let why = reason(why, false)?;
        self.uow
            .run(async |work| {
                room_locked(work.db(), id).await?;
                let target = members::get(work.db(), id, user)
                    .await?
                    .filter(|m| m.state == MembershipState::Joined)
                    .ok_or(DomainError::NotFound("member"))?;
                let rank = self
                    .rank_in(work.db(), actor, id, moderates_rooms(&facts))
                    .await?;
                if !outranks(rank, target.role) {
                    return Err(denied());
                }
                members::set_state(work.db(), id, user, MembershipState::Left, work.now()).await?;
                let username = users::by_id(work.db(), user).await?.map(|u| u.username);
                work.audit(
                    Some(actor),
                    AuditAction::MemberKicked,
                    Some(AuditTarget::Conversation(id)),
                    json!({"user_id": user, "username": username, "reason": why}),
                )
                .await?;
                work.publish(Event::MemberLeft {
                    conversation_id: id,
                    user_id: user,
                    reason: LeaveReason::Kicked,
                    by: Some(actor.user),
                });
                Ok(())
            })
            .await
    }

    /// Bans `user` from room `id`: they leave it (if in it), their invitation (if any) ends, and
    /// they cannot join or be invited again until the ban is lifted. Works on users who are not
    /// members too. Room owners and moderators (outranking a member target) and holders of
    /// `rooms.moderate` may. Banning a banned user changes nothing. Audited as
    /// `member.banned`; members get `member_left` with `reason: banned`. Errors: 404 (room or
    /// user), 403 `permission_denied`, 422 `cannot_target_self`, `invalid_reason`.
    pub async fn ban_from_room(
        &self,
        actor: &Actor,
        id: ConversationId,
        user: UserId,
        why: Option<&str>,
    ) -> Result<(), DomainError> {
        self.require_room(id).await?;
        let facts = self
            .access
            .require_with_facts(actor, Permission::MemberBan, Scope::Conversation(id))
            .await?;
        if user == actor.user {
            return Err(DomainError::invalid(
                ErrorCode::CannotTargetSelf,
                "you cannot ban yourself; leave instead",
            ));
        }
        let why = reason(why, false)?;
        self.uow
            .run(async |work| {
                let room = room_locked(work.db(), id).await?;
                let target = users::by_id(work.db(), user)
                    .await?
                    .filter(|u| u.is_active())
                    .ok_or(DomainError::NotFound("user"))?;
                let existing = members::get(work.db(), id, user).await?;
                let was = existing.as_ref().map(|m| m.state);
                if was == Some(MembershipState::Banned) {
                    return Ok(());
                }
                let rank = self
                    .rank_in(work.db(), actor, id, moderates_rooms(&facts))
                    .await?;
                let target_role = existing
                    .as_ref()
                    .filter(|m| m.state == MembershipState::Joined)
                    .map_or(ConversationRole::Member, |m| m.role);
                if !outranks(rank, target_role) {
                    return Err(denied());
                }
                members::upsert(
                    work.db(),
                    &MemberRecord {
                        conversation_id: id,
                        user_id: user,
                        role: ConversationRole::Member,
                        state: MembershipState::Banned,
                        last_read_seq: existing.as_ref().map_or(room.last_seq, |m| m.last_read_seq),
                        updated_at: work.now(),
                        muted_until: None,
                        invited_by: None,
                        receipt_seq: 0,
                        notify: crate::domain::NotifyLevel::All,
                    },
                )
                .await?;
                work.audit(
                    Some(actor),
                    AuditAction::MemberBanned,
                    Some(AuditTarget::Conversation(id)),
                    json!({"user_id": user, "username": target.username, "reason": why}),
                )
                .await?;
                match was {
                    Some(MembershipState::Joined) => work.publish(Event::MemberLeft {
                        conversation_id: id,
                        user_id: user,
                        reason: LeaveReason::Banned,
                        by: Some(actor.user),
                    }),
                    Some(MembershipState::Invited) => {
                        work.publish(Event::departure(id, user, MembershipState::Invited))
                    }
                    _ => {}
                }
                work.publish(Event::MemberBanChanged {
                    conversation_id: id,
                    user_id: user,
                    banned: true,
                    by: actor.user,
                });
                Ok(())
            })
            .await
    }

    /// Lifts `user`'s ban from room `id` (membership `left`: they may join again). Audited as
    /// `member.unbanned`. Errors: 404 (room, or the user is not banned there), 403
    /// `permission_denied`.
    pub async fn unban_from_room(
        &self,
        actor: &Actor,
        id: ConversationId,
        user: UserId,
    ) -> Result<(), DomainError> {
        self.require_room(id).await?;
        self.access
            .require_in(actor, Permission::MemberBan, id)
            .await?;
        self.uow
            .run(async |work| {
                room_locked(work.db(), id).await?;
                members::get(work.db(), id, user)
                    .await?
                    .filter(|m| m.state == MembershipState::Banned)
                    .ok_or(DomainError::NotFound("ban"))?;
                members::set_state(work.db(), id, user, MembershipState::Left, work.now()).await?;
                let username = users::by_id(work.db(), user).await?.map(|u| u.username);
                work.audit(
                    Some(actor),
                    AuditAction::MemberUnbanned,
                    Some(AuditTarget::Conversation(id)),
                    json!({"user_id": user, "username": username}),
                )
                .await?;
                work.publish(Event::MemberBanChanged {
                    conversation_id: id,
                    user_id: user,
                    banned: false,
                    by: actor.user,
                });
                Ok(())
            })
            .await
    }

    /// 404 unless `id` is a room.
    async fn require_room(&self, id: ConversationId) -> Result<(), DomainError> {
        match self.access.conversation(id).await? {
            Some(facts) if facts.kind == ConversationKind::Room => Ok(()),
            _ => Err(DomainError::NotFound("conversation")),
        }
    }
}

/// The changed fields as `{field: {from, to}}`.
fn describe(before: &ConversationRecord, c: &AdminRoomChanges) -> Map<String, Value> {
    let mut diff = Map::new();
    let mut put = |field: &str, from: Value, to: Value| {
        diff.insert(field.into(), json!({"from": from, "to": to}));
    };
    if let Some(name) = &c.name {
        put("name", json!(before.name), json!(name.as_str()));
    }
    if let Some(topic) = &c.topic {
        put("topic", json!(before.topic), json!(topic));
    }
    if let Some(category) = &c.category {
        put("category", json!(before.category), json!(category));
    }
    for (field, old, new) in [
        ("official", before.official, c.official),
        ("auto_join", before.auto_join, c.auto_join),
        ("locked", before.locked, c.locked),
        ("read_only", before.read_only, c.read_only),
    ] {
        if let Some(new) = new {
            put(field, json!(old), json!(new));
        }
    }
    if let Some(secs) = c.slowmode_secs {
        put("slowmode_secs", json!(before.slowmode_secs), json!(secs));
    }
    diff
}
