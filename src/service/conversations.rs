//! Rooms, direct messages and membership.

use std::collections::HashMap;

use chrono::Utc;
use sea_orm::TransactionTrait;
use uuid::Uuid;

use super::{
    AuthUser,
    views::{ConversationView, MemberView, UserView},
};
use crate::{
    domain::{DomainError, RoomName, Username},
    realtime::{Hub, protocol::ServerFrame},
    store::{
        ConversationRow, Db, MemberRow, conversations,
        members::{self, state},
        users,
    },
};

/// Room visibility.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Visibility {
    /// Listed in the directory; anyone may join.
    Public,
    /// Unlisted; only invited users may join.
    Private,
}

impl Visibility {
    fn as_str(self) -> &'static str {
        match self {
            Self::Public => "public",
            Self::Private => "private",
        }
    }
}

/// Fields of `POST /rooms`.
pub struct NewRoomInput {
    /// Name (1–64 characters, unique without regard to case).
    pub name: String,
    /// Public or private.
    pub visibility: Visibility,
    /// Topic (≤ 512 characters).
    pub topic: Option<String>,
    /// Category (≤ 64 characters).
    pub category: Option<String>,
}

/// Conversation use-cases.
#[derive(Clone)]
pub struct ConversationService {
    db: Db,
    hub: Hub,
}

fn clean(
    text: Option<String>,
    max: usize,
    code: &'static str,
) -> Result<Option<String>, DomainError> {
    let text = text.map(|t| t.trim().to_owned()).filter(|t| !t.is_empty());
    if text
        .as_ref()
        .is_some_and(|t| t.chars().count() > max || t.chars().any(char::is_control))
    {
        return Err(DomainError::invalid(
            code,
            format!("must be at most {max} characters without control characters"),
        ));
    }
    Ok(text)
}

impl ConversationService {
    /// Builds the service.
    pub fn new(db: Db, hub: Hub) -> Self {
        Self { db, hub }
    }

    /// Joins a new account to the auto-join rooms.
    pub async fn auto_join(&self, user: &UserView) -> Result<(), DomainError> {
        for room in conversations::auto_join(&self.db.read).await? {
            self.add_member(&room, user, "member").await?;
        }
        Ok(())
    }

    async fn add_member(
        &self,
        room: &ConversationRow,
        user: &UserView,
        role: &str,
    ) -> Result<(), DomainError> {
        members::upsert(
            &self.db.write,
            room.id,
            user.id,
            role,
            state::JOINED,
            room.last_seq,
            Utc::now(),
        )
        .await?;
        self.hub.subscribe(user.id, room.id);
        let frame = ServerFrame::MemberJoined {
            conversation_id: room.id,
            user,
        }
        .encode();
        self.hub.publish(room.id, &frame, Some(user.id));
        Ok(())
    }

    async fn notify_added(&self, user: Uuid, conversation: Uuid) -> Result<(), DomainError> {
        if self.hub.is_online(user) {
            let view = self.view_for(user, conversation).await?;
            self.hub.send_to_user(
                user,
                &ServerFrame::ConversationAdded {
                    conversation: &view,
                }
                .encode(),
            );
        }
        Ok(())
    }

    async fn user_view(&self, me: &AuthUser) -> Result<UserView, DomainError> {
        let row = users::by_id(&self.db.read, me.id.0).await?.ok_or_else(|| {
            DomainError::Unauthorized("unauthorized", "the account no longer exists".into())
        })?;
        Ok(UserView::from(&row))
    }

    /// Public rooms whose name contains `q`. Errors: 422 `invalid_query` (control characters or
    /// longer than 64 characters).
    pub async fn directory(
        &self,
        me: &AuthUser,
        q: Option<&str>,
    ) -> Result<Vec<ConversationView>, DomainError> {
        if q.is_some_and(|q| q.chars().count() > 64 || !crate::domain::no_control_chars(q)) {
            return Err(DomainError::invalid(
                "invalid_query",
                "q must be at most 64 characters without control characters",
            ));
        }
        let rows = conversations::directory(&self.db.read, q).await?;
        let mine: HashMap<Uuid, MemberRow> = members::for_user(&self.db.read, me.id.0)
            .await?
            .into_iter()
            .map(|m| (m.conversation_id, m))
            .collect();
        self.views(me.id.0, rows, &mine).await
    }

    /// Creates a room; the creator joins as owner. Errors: 422 `invalid_room_name`,
    /// `invalid_topic`, `invalid_category`; 409 `room_name_taken`.
    pub async fn create_room(
        &self,
        me: &AuthUser,
        input: NewRoomInput,
    ) -> Result<ConversationView, DomainError> {
        let name = RoomName::parse(&input.name)?;
        let topic = clean(input.topic, 512, "invalid_topic")?;
        let category = clean(input.category, 64, "invalid_category")?;
        let row = conversations::insert_room(
            &self.db.write,
            conversations::NewRoom {
                name: name.as_str(),
                visibility: input.visibility.as_str(),
                topic,
                category,
                created_by: Some(me.id.0),
                now: Utc::now(),
            },
        )
        .await?;
        let user = self.user_view(me).await?;
        self.add_member(&row, &user, "owner").await?;
        self.notify_added(me.id.0, row.id).await?;
        self.view_for(me.id.0, row.id).await
    }

    /// Joins a room: public rooms are open, private rooms need an invite.
    /// Errors: 404 `not_found`, 403 `not_invited`.
    pub async fn join(&self, me: &AuthUser, id: Uuid) -> Result<ConversationView, DomainError> {
        let room = conversations::by_id(&self.db.read, id)
            .await?
            .filter(|r| r.kind == "room");
        let member = members::get(&self.db.read, id, me.id.0).await?;
        let Some(room) = room else {
            return Err(DomainError::NotFound("room"));
        };
        let state_now = member.as_ref().map(|m| m.state.as_str());
        if state_now == Some(state::JOINED) {
            return self.view_for(me.id.0, id).await;
        }
        if room.visibility == "private" && state_now != Some(state::INVITED) {
            return Err(if state_now.is_some() {
                DomainError::forbidden("not_invited", "this private room needs an invite")
            } else {
                DomainError::NotFound("room")
            });
        }
        let user = self.user_view(me).await?;
        let role = member.map(|m| m.role).unwrap_or_else(|| "member".into());
        self.add_member(&room, &user, &role).await?;
        self.notify_added(me.id.0, id).await?;
        self.view_for(me.id.0, id).await
    }

    /// Leaves a room. Errors: 404 when not a member.
    pub async fn leave(&self, me: &AuthUser, id: Uuid) -> Result<(), DomainError> {
        let member = members::get(&self.db.read, id, me.id.0).await?;
        let room = conversations::by_id(&self.db.read, id).await?;
        match (room, member) {
            (Some(room), Some(m)) if room.kind == "room" && m.state != state::LEFT => {
                members::set_state(&self.db.write, id, me.id.0, state::LEFT, Utc::now()).await?;
                let frame = ServerFrame::MemberLeft {
                    conversation_id: id,
                    user_id: me.id.0,
                }
                .encode();
                self.hub.publish(id, &frame, None);
                self.hub.unsubscribe(me.id.0, id);
                Ok(())
            }
            _ => Err(DomainError::NotFound("room")),
        }
    }

    /// Invites `username` to a room the caller is in. Errors: 404 (room or user), 409
    /// `already_member`.
    pub async fn invite(
        &self,
        me: &AuthUser,
        id: Uuid,
        username: &str,
    ) -> Result<Uuid, DomainError> {
        let room = self.require_member(me, id).await?;
        if room.kind != "room" {
            return Err(DomainError::NotFound("room"));
        }
        let name = Username::parse(username).map_err(|_| DomainError::NotFound("user"))?;
        let target = users::by_username(&self.db.read, name.as_str())
            .await?
            .ok_or(DomainError::NotFound("user"))?;
        match members::get(&self.db.read, id, target.id).await? {
            Some(m) if m.state == state::JOINED => {
                return Err(DomainError::conflict(
                    "already_member",
                    "that user is already a member",
                ));
            }
            Some(m) if m.state == state::INVITED => {}
            _ => {
                members::upsert(
                    &self.db.write,
                    id,
                    target.id,
                    "member",
                    state::INVITED,
                    room.last_seq,
                    Utc::now(),
                )
                .await?
            }
        }
        self.notify_added(target.id, id).await?;
        Ok(target.id)
    }

    /// Opens (or gets) the DM with `username`. Returns the view and whether it was created.
    /// Errors: 404 unknown user, 422 `invalid_username` for yourself.
    pub async fn open_dm(
        &self,
        me: &AuthUser,
        username: &str,
    ) -> Result<(ConversationView, bool), DomainError> {
        let name = Username::parse(username).map_err(|_| DomainError::NotFound("user"))?;
        let peer = users::by_username(&self.db.read, name.as_str())
            .await?
            .ok_or(DomainError::NotFound("user"))?;
        if peer.id == me.id.0 {
            return Err(DomainError::invalid(
                "invalid_username",
                "you cannot open a direct message with yourself",
            ));
        }
        let (a, b) = if me.id.0 < peer.id {
            (me.id.0, peer.id)
        } else {
            (peer.id, me.id.0)
        };
        let key = format!("{a}:{b}");
        if let Some(row) = conversations::dm_by_key(&self.db.read, &key).await? {
            return Ok((self.view_for(me.id.0, row.id).await?, false));
        }
        // The DM and both memberships commit together: a racing request either finds all of it
        // or loses the unique-key race and reads the winner's committed rows.
        let now = Utc::now();
        let txn = self.db.write.begin().await?;
        let Some(row) = conversations::insert_dm(&txn, key.clone(), now).await? else {
            txn.rollback().await?;
            let row = conversations::dm_by_key(&self.db.write, &key)
                .await?
                .ok_or(DomainError::NotFound("conversation"))?;
            return Ok((self.view_for(me.id.0, row.id).await?, false));
        };
        for user in [me.id.0, peer.id] {
            members::upsert(&txn, row.id, user, "member", state::JOINED, 0, now).await?;
        }
        txn.commit().await?;
        for user in [me.id.0, peer.id] {
            self.hub.subscribe(user, row.id);
        }
        self.notify_added(peer.id, row.id).await?;
        Ok((self.view_for(me.id.0, row.id).await?, true))
    }

    /// My conversations: joined, plus invitations.
    pub async fn list(&self, me: Uuid) -> Result<Vec<ConversationView>, DomainError> {
        let mine: HashMap<Uuid, MemberRow> = members::for_user(&self.db.read, me)
            .await?
            .into_iter()
            .map(|m| (m.conversation_id, m))
            .collect();
        let rows = conversations::by_ids(&self.db.read, mine.keys().copied().collect()).await?;
        let mut views = self.views(me, rows, &mine).await?;
        views.sort_by(|a, b| {
            (a.kind.as_str(), a.name.as_deref()).cmp(&(b.kind.as_str(), b.name.as_deref()))
        });
        Ok(views)
    }

    /// One conversation: members and invitees see it, and anyone sees a public room.
    pub async fn get(&self, me: &AuthUser, id: Uuid) -> Result<ConversationView, DomainError> {
        self.view_for(me.id.0, id).await
    }

    async fn view_for(&self, me: Uuid, id: Uuid) -> Result<ConversationView, DomainError> {
        let row = conversations::by_id(&self.db.read, id)
            .await?
            .ok_or(DomainError::NotFound("conversation"))?;
        let member = members::get(&self.db.read, id, me).await?;
        let visible =
            row.visibility == "public" || member.as_ref().is_some_and(|m| m.state != state::LEFT);
        if !visible {
            return Err(DomainError::NotFound("conversation"));
        }
        let mine: HashMap<Uuid, MemberRow> =
            member.into_iter().map(|m| (m.conversation_id, m)).collect();
        self.views(me, vec![row], &mine)
            .await?
            .pop()
            .ok_or(DomainError::NotFound("conversation"))
    }

    async fn views(
        &self,
        me: Uuid,
        rows: Vec<ConversationRow>,
        mine: &HashMap<Uuid, MemberRow>,
    ) -> Result<Vec<ConversationView>, DomainError> {
        let ids: Vec<Uuid> = rows.iter().map(|r| r.id).collect();
        let counts = members::joined_counts(&self.db.read, ids).await?;
        let dms: Vec<Uuid> = rows
            .iter()
            .filter(|r| r.kind == "dm")
            .map(|r| r.id)
            .collect();
        let peers = members::dm_peers(&self.db.read, dms, me).await?;
        Ok(rows
            .iter()
            .map(|row| {
                let member = mine
                    .get(&row.id)
                    .filter(|m| m.state == state::JOINED || m.state == state::INVITED)
                    .map(|m| (m.state.as_str(), m.last_read_seq));
                ConversationView::build(
                    row,
                    counts.get(&row.id).copied().unwrap_or(0),
                    member,
                    peers.get(&row.id),
                )
            })
            .collect())
    }

    /// Members of a conversation with presence. Errors as [`Self::require_member`].
    pub async fn members(&self, me: &AuthUser, id: Uuid) -> Result<Vec<MemberView>, DomainError> {
        self.require_member(me, id).await?;
        let mut list: Vec<MemberView> = members::joined_with_users(&self.db.read, id)
            .await?
            .into_iter()
            .map(|(m, u)| MemberView {
                user_id: u.id,
                status: if self.hub.is_online(u.id) {
                    "online"
                } else {
                    "offline"
                }
                .into(),
                username: u.username,
                display_name: u.display_name,
                role: m.role,
            })
            .collect();
        list.sort_by(|a, b| {
            (a.status != "online", &a.username).cmp(&(b.status != "online", &b.username))
        });
        Ok(list)
    }

    /// The conversation, if `me` has joined it. Errors: 404 when it does not exist or is not
    /// visible to the caller, 403 `not_a_member` for a public room the caller has not joined.
    pub async fn require_member(
        &self,
        me: &AuthUser,
        id: Uuid,
    ) -> Result<ConversationRow, DomainError> {
        // On every send: the two independent reads run concurrently.
        let (row, member) = tokio::try_join!(
            conversations::by_id(&self.db.read, id),
            members::get(&self.db.read, id, me.id.0)
        )?;
        match (row, member) {
            (Some(row), Some(m)) if m.state == state::JOINED => Ok(row),
            (Some(row), _) if row.kind == "room" && row.visibility == "public" => Err(
                DomainError::forbidden("not_a_member", "join this room first"),
            ),
            _ => Err(DomainError::NotFound("conversation")),
        }
    }
}
