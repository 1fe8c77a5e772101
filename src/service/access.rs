//! Access: THE permission function ([`Access::require`]) and the facts it decides on.
//!
//! Facts (a user's server role, a conversation's kind and visibility, a membership's state and
//! role) come from the database through small in-memory caches, so the send hot path does no
//! authorization reads. The caches are kept current by domain events: the unit of work applies
//! every event it publishes ([`Access::apply`]) right after COMMIT and before the caller returns,
//! so a client always sees its own change on its next request (a demoted admin's next admin call
//! is refused). With several instances the bus will feed remote events into the same `apply`.
//!
//! A fill that races an invalidation could store a stale value; a global epoch prevents it (a fill
//! whose load overlapped any invalidation drops what it stored). The cache is an optimisation, not
//! the last word for sends: the message writer re-checks membership inside the insert's
//! transaction.

use std::{
    future::Future,
    hash::Hash,
    sync::{
        Arc,
        atomic::{AtomicU64, Ordering},
    },
    time::Duration,
};

use moka::sync::Cache;

use crate::{
    domain::{
        AccountModeration, Actor, BlockSide, ConversationFacts, ConversationId, ConversationKind,
        DomainError, ErrorCode, Facts, MemberFacts, Permission, PermissionSet, Scope, ServerRole,
        SessionEndReason, SessionId, Timestamp, UserId, decide,
    },
    events::Event,
    store::{Db, blocks, conversations, members, roles, sessions, users},
};

/// What authorization needs to know about a user.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct UserFacts {
    /// Current username.
    pub username: String,
    /// Current built-in server role.
    pub role: ServerRole,
    /// The custom roles held, by name.
    pub custom_roles: Vec<String>,
    /// Effective server permissions: the built-in role's and every custom role's.
    pub permissions: PermissionSet,
    /// False once the account was deleted.
    pub active: bool,
    /// Suspension, deactivation, server-wide mute, shadowban.
    pub moderation: AccountModeration,
}

/// Safety net for entries no event reached (never needed in one process).
const TTL: Duration = Duration::from_secs(600);

/// How long a session's state is trusted from memory before the database is asked again.
const SESSION_TTL: Duration = Duration::from_secs(60);

struct Inner {
    db: Db,
    epoch: AtomicU64,
    /// Sessions: `None` while live, else why they ended. Durable in `sessions`; an entry is
    /// re-read after a minute (another instance may have ended it; the bus tells sooner).
    sessions: Cache<SessionId, Option<SessionEndReason>>,
    users: Cache<UserId, Option<UserFacts>>,
    conversations: Cache<ConversationId, Option<ConversationFacts>>,
    members: Cache<(ConversationId, UserId), Option<MemberFacts>>,
    /// Blocks of a pair keyed `(smaller id, larger id)`: `(smaller blocked larger, larger
    /// blocked smaller)`. Kept current by `BlockChanged`.
    blocks: Cache<(UserId, UserId), (bool, bool)>,
    /// The other user of a DM, by `(dm, me)` (never changes).
    dm_peers: Cache<(ConversationId, UserId), Option<UserId>>,
}

/// The permission function and its caches. Cheap to clone.
#[derive(Clone)]
pub struct Access {
    inner: Arc<Inner>,
}

fn cache<K, V>(capacity: u64) -> Cache<K, V>
where
    K: Hash + Eq + Send + Sync + 'static,
    V: Clone + Send + Sync + 'static,
{
    Cache::builder()
        .max_capacity(capacity)
        .time_to_live(TTL)
        .build()
}

impl Access {
    /// Empty caches over `db`.
    pub fn new(db: Db) -> Self {
        Self {
            inner: Arc::new(Inner {
                db,
                epoch: AtomicU64::new(0),
                sessions: Cache::builder()
                    .max_capacity(1_000_000)
                    .time_to_live(SESSION_TTL)
                    .build(),
                users: cache(100_000),
                conversations: cache(100_000),
                members: cache(500_000),
                blocks: cache(500_000),
                dm_peers: cache(500_000),
            }),
        }
    }

    async fn cached<K, V, Fut>(
        &self,
        cache: &Cache<K, V>,
        key: K,
        load: impl FnOnce() -> Fut,
    ) -> Result<V, DomainError>
    where
        K: Hash + Eq + Clone + Send + Sync + 'static,
        V: Clone + Send + Sync + 'static,
        Fut: Future<Output = Result<V, DomainError>>,
    {
        if let Some(value) = cache.get(&key) {
            return Ok(value);
        }
        let epoch = self.inner.epoch.load(Ordering::SeqCst);
        let value = load().await?;
        cache.insert(key.clone(), value.clone());
        if self.inner.epoch.load(Ordering::SeqCst) != epoch {
            cache.invalidate(&key);
        }
        Ok(value)
    }

    fn forget<K, V>(&self, cache: &Cache<K, V>, key: &K)
    where
        K: Hash + Eq + Send + Sync + 'static,
        V: Clone + Send + Sync + 'static,
    {
        self.inner.epoch.fetch_add(1, Ordering::SeqCst);
        cache.invalidate(key);
    }

    /// A user's facts, `None` when the account does not exist.
    pub async fn user(&self, id: UserId) -> Result<Option<UserFacts>, DomainError> {
        let db = &self.inner.db;
        self.cached(&self.inner.users, id, || async move {
            let Some(u) = users::by_id(&db.read, id).await? else {
                return Ok(None);
            };
            let custom = roles::of_user(&db.read, id).await?;
            Ok(Some(UserFacts {
                active: u.is_active(),
                permissions: custom
                    .iter()
                    .fold(PermissionSet::of_role(u.role), |set, r| {
                        set.union(r.permissions)
                    }),
                custom_roles: custom.into_iter().map(|r| r.name).collect(),
                username: u.username,
                role: u.role,
                moderation: u.moderation,
            }))
        })
        .await
    }

    /// An active user's facts. Errors: 401 `unauthorized` when the account is gone or deleted;
    /// 403 `suspended` / `deactivated` while it is (its sessions ended when that began, so this
    /// is the backstop).
    pub async fn active_user(&self, id: UserId) -> Result<UserFacts, DomainError> {
        match self.user(id).await? {
            Some(user) if user.active => match user.moderation.sign_in_refusal(Timestamp::now()) {
                Some(refusal) => Err(refusal),
                None => Ok(user),
            },
            _ => Err(DomainError::unauthorized(
                ErrorCode::Unauthorized,
                "the account no longer exists",
            )),
        }
    }

    /// A conversation's facts, `None` when it does not exist.
    pub async fn conversation(
        &self,
        id: ConversationId,
    ) -> Result<Option<ConversationFacts>, DomainError> {
        let db = &self.inner.db;
        self.cached(&self.inner.conversations, id, || async move {
            Ok(conversations::by_id(&db.read, id).await?.map(|c| c.facts()))
        })
        .await
    }

    /// A membership's facts, `None` when the user never was a member or invitee.
    pub async fn member(
        &self,
        conversation: ConversationId,
        user: UserId,
    ) -> Result<Option<MemberFacts>, DomainError> {
        let db = &self.inner.db;
        self.cached(&self.inner.members, (conversation, user), || async move {
            Ok(members::get(&db.read, conversation, user)
                .await?
                .map(|m| m.facts()))
        })
        .await
    }

    /// Everything [`decide`] needs for `actor` in `scope`.
    pub async fn facts(&self, actor: &Actor, scope: Scope) -> Result<Facts, DomainError> {
        let user = self.active_user(actor.user).await?;
        let (conversation, member) = match scope {
            Scope::Server => (None, None),
            Scope::Conversation(id) => {
                tokio::try_join!(self.conversation(id), self.member(id, actor.user))?
            }
        };
        let blocked = match (conversation, scope) {
            (Some(c), Scope::Conversation(id))
                if c.kind == ConversationKind::Dm && member.is_some() =>
            {
                match self.dm_peer(id, actor.user).await? {
                    Some(peer) => self.block_side(actor.user, peer).await?,
                    None => None,
                }
            }
            _ => None,
        };
        Ok(Facts {
            server: user.permissions,
            server_muted_until: user.moderation.muted_until,
            conversation,
            member,
            blocked,
            target: None,
            now: Timestamp::now(),
        })
    }

    /// The other user of the DM `dm`, seen from `me` (`None` when it has no other member).
    pub async fn dm_peer(
        &self,
        dm: ConversationId,
        me: UserId,
    ) -> Result<Option<UserId>, DomainError> {
        let db = &self.inner.db;
        self.cached(&self.inner.dm_peers, (dm, me), || async move {
            Ok(members::dm_peers(&db.read, &[dm], me)
                .await?
                .remove(&dm)
                .map(|u| u.id))
        })
        .await
    }

    /// The block between `me` and `other`, from `me`'s side: `Mine` when I blocked them (also
    /// when both did), `Theirs` when only they blocked me, `None` without a block. Cached, kept
    /// current by `BlockChanged` events.
    pub async fn block_side(
        &self,
        me: UserId,
        other: UserId,
    ) -> Result<Option<BlockSide>, DomainError> {
        let key = if me < other { (me, other) } else { (other, me) };
        let db = &self.inner.db;
        let (low_blocked, high_blocked) = self
            .cached(&self.inner.blocks, key, || async move {
                blocks::between(&db.read, key.0, key.1).await
            })
            .await?;
        let (mine, theirs) = if me == key.0 {
            (low_blocked, high_blocked)
        } else {
            (high_blocked, low_blocked)
        };
        Ok(if mine {
            Some(BlockSide::Mine)
        } else if theirs {
            Some(BlockSide::Theirs)
        } else {
            None
        })
    }

    /// Whether either of `a` and `b` blocked the other.
    pub async fn blocked_between(&self, a: UserId, b: UserId) -> Result<bool, DomainError> {
        Ok(self.block_side(a, b).await?.is_some())
    }

    /// May `actor` do `permission` in `scope`? The one permission function every service calls
    /// at the top of a use case. Errors: as [`decide`] (403/404), and 401 when the actor's
    /// account is gone.
    pub async fn require(
        &self,
        actor: &Actor,
        permission: Permission,
        scope: Scope,
    ) -> Result<(), DomainError> {
        decide(permission, &self.facts(actor, scope).await?)
    }

    /// [`Self::require`], returning the facts it decided on (for rules that also need state, such
    /// as a room's slowmode). Errors: as [`Self::require`].
    pub async fn require_with_facts(
        &self,
        actor: &Actor,
        permission: Permission,
        scope: Scope,
    ) -> Result<Facts, DomainError> {
        let facts = self.facts(actor, scope).await?;
        decide(permission, &facts)?;
        Ok(facts)
    }

    /// [`Self::require`] in the conversation `conversation`.
    pub async fn require_in(
        &self,
        actor: &Actor,
        permission: Permission,
        conversation: ConversationId,
    ) -> Result<(), DomainError> {
        self.require(actor, permission, Scope::Conversation(conversation))
            .await
    }

    /// [`Self::require_in`] for an action on another member of the conversation
    /// (`member.role`, `member.mute`, `member.kick`, `conversation.transfer`): [`decide`] also
    /// sees the target's membership and applies the outranking rule. Errors: as [`decide`];
    /// 404 `not_found` when `target` was never a member (after the actor's own role was
    /// checked, so a plain member learns nothing new).
    pub async fn require_on(
        &self,
        actor: &Actor,
        permission: Permission,
        conversation: ConversationId,
        target: UserId,
    ) -> Result<(), DomainError> {
        let mut facts = self.facts(actor, Scope::Conversation(conversation)).await?;
        decide(permission, &facts)?;
        facts.target = Some(
            self.member(conversation, target)
                .await?
                .ok_or(DomainError::NotFound("member"))?,
        );
        decide(permission, &facts)
    }

    /// The effective server permissions of `actor` (for `GET /users/me` and `ready`).
    pub async fn server_permissions(&self, actor: &Actor) -> Result<Vec<Permission>, DomainError> {
        let user = self.active_user(actor.user).await?;
        Ok(user.permissions.to_vec())
    }

    /// The effective server permissions of `user` read now from the database (not the cache):
    /// for events published right after a change of roles.
    pub async fn fresh_permissions(
        &self,
        db: &impl sea_orm::ConnectionTrait,
        user: UserId,
        role: ServerRole,
    ) -> Result<PermissionSet, DomainError> {
        Ok(roles::of_user(db, user)
            .await?
            .iter()
            .fold(PermissionSet::of_role(role), |set, r| {
                set.union(r.permissions)
            }))
    }

    /// Keeps the caches current: called with every event after its transaction committed.
    pub fn apply(&self, event: &Event) {
        let inner = &self.inner;
        match event {
            Event::MemberJoined { user, view, .. } => {
                self.forget(&inner.members, &(view.id, user.id));
            }
            Event::MemberInvited { user_id, view } => {
                self.forget(&inner.members, &(view.id, *user_id));
            }
            Event::MemberLeft {
                conversation_id,
                user_id,
                ..
            }
            | Event::MemberUpdated {
                conversation_id,
                user_id,
                ..
            }
            | Event::InvitationDeclined {
                conversation_id,
                user_id,
            }
            | Event::MemberBanChanged {
                conversation_id,
                user_id,
                ..
            } => self.forget(&inner.members, &(*conversation_id, *user_id)),
            Event::ConversationCreated {
                conversation_id, ..
            }
            | Event::ConversationUpdated {
                conversation_id, ..
            }
            | Event::HistoryCleared {
                conversation_id, ..
            } => self.forget(&inner.conversations, conversation_id),
            Event::UserUpdated { user, .. } => self.forget(&inner.users, &user.id),
            Event::RolesChanged => {
                inner.epoch.fetch_add(1, Ordering::SeqCst);
                inner.users.invalidate_all();
            }
            Event::ConversationDeleted {
                conversation_id,
                members,
            } => {
                self.forget(&inner.conversations, conversation_id);
                for user in members {
                    self.forget(&inner.members, &(*conversation_id, *user));
                }
            }
            Event::SessionEnded {
                session_id, reason, ..
            } => {
                inner.sessions.insert(*session_id, Some(*reason));
            }
            Event::BlockChanged {
                blocker, blocked, ..
            } => {
                let key = if blocker < blocked {
                    (*blocker, *blocked)
                } else {
                    (*blocked, *blocker)
                };
                self.forget(&inner.blocks, &key);
            }
            Event::MessageCreated { .. }
            | Event::Announcement { .. }
            | Event::MessageDeleted { .. }
            | Event::MessageUpdated { .. }
            | Event::ReadMoved { .. }
            | Event::SettingsChanged { .. }
            | Event::AccountSettingsChanged { .. }
            | Event::RoomListed { .. }
            | Event::RoomUnlisted { .. }
            | Event::PresenceChanged { .. }
            | Event::PresenceChosen { .. }
            | Event::FriendRequested { .. }
            | Event::FriendAccepted { .. }
            | Event::FriendRequestEnded { .. }
            | Event::FriendRemoved { .. }
            | Event::Typing { .. }
            | Event::PresenceSyncRequested { .. }
            | Event::InstanceGone { .. } => {}
            Event::BusInterrupted { .. } => {
                // Events from other instances may have been missed: every cached fact may be
                // stale; the database answers again.
                inner.epoch.fetch_add(1, Ordering::SeqCst);
                inner.users.invalidate_all();
                inner.conversations.invalidate_all();
                inner.members.invalidate_all();
                inner.sessions.invalidate_all();
                inner.blocks.invalidate_all();
            }
        }
    }

    /// Keeps the caches current with events from other instances (with several instances):
    /// applies every event of `events` (applying a local event twice is harmless) until the bus
    /// is gone.
    pub fn spawn_listener(
        &self,
        mut events: crate::events::Subscription,
    ) -> tokio::task::JoinHandle<()> {
        let access = self.clone();
        tokio::spawn(async move {
            while let Some(event) = events.recv().await {
                access.apply(&event);
            }
        })
    }

    /// Why the session ended, `None` while it is live: from memory (kept current by
    /// `SessionEnded` events), else from the `sessions` table, so an ended session stays ended
    /// after a restart. A session id without a row (impossible for a token this server signed
    /// after migration 7) counts as ended.
    pub async fn session_ended(
        &self,
        id: SessionId,
    ) -> Result<Option<SessionEndReason>, DomainError> {
        let db = &self.inner.db;
        self.cached(&self.inner.sessions, id, || async move {
            Ok(match sessions::by_id(&db.read, id).await? {
                Some(record) => record.ended,
                None => Some(SessionEndReason::Logout),
            })
        })
        .await
    }

    /// Why the session ended, if this process knows it ended (no database read): the close
    /// reason of its WebSockets.
    pub fn known_end(&self, id: SessionId) -> Option<SessionEndReason> {
        self.inner.sessions.get(&id).flatten()
    }

    /// Forgets a membership (after the message writer found it ended).
    pub fn forget_member(&self, conversation: ConversationId, user: UserId) {
        self.forget(&self.inner.members, &(conversation, user));
    }
}
