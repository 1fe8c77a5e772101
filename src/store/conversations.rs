//! Queries on `conversations`.

use chrono::{DateTime, Utc};
use entity::conversations::{self, Column, Entity};
use sea_orm::{
    ActiveValue::Set,
    ColumnTrait, Condition, ConnectionTrait, EntityTrait, QueryFilter, QueryOrder, QuerySelect,
    sea_query::{Expr, ExprTrait},
};

use super::{conflict_on_unique, dialect, is_unique_violation};
use crate::{
    config::OfficialRoom,
    domain::{
        ConversationFacts, ConversationId, ConversationKind, DirectorySort, DomainError, ErrorCode,
        RoomName, UserId, Visibility,
    },
};

/// A stored conversation.
#[derive(Clone, Debug)]
pub struct ConversationRecord {
    /// Id.
    pub id: ConversationId,
    /// Room, group or DM.
    pub kind: ConversationKind,
    /// Name as typed (rooms).
    pub name: Option<String>,
    /// Topic line.
    pub topic: Option<String>,
    /// Public or private.
    pub visibility: Visibility,
    /// Directory category.
    pub category: Option<String>,
    /// Official (server) room.
    pub official: bool,
    /// Every new account joins it.
    pub auto_join: bool,
    /// Creator.
    pub created_by: Option<UserId>,
    /// Creation time.
    pub created_at: DateTime<Utc>,
    /// Sequence number of the latest message.
    pub last_seq: i64,
    /// Nobody new may join.
    pub locked: bool,
    /// Only moderators may post.
    pub read_only: bool,
    /// Slowmode in seconds (0 = off).
    pub slowmode_secs: i32,
    /// History cleared up to this seq.
    pub cleared_seq: i64,
    /// The change sequence (highest `change_seq` of its messages).
    pub last_change: i64,
}

impl TryFrom<conversations::Model> for ConversationRecord {
    type Error = DomainError;

    fn try_from(m: conversations::Model) -> Result<Self, DomainError> {
        Ok(Self {
            id: ConversationId(m.id),
            kind: m.kind.parse()?,
            name: m.name,
            topic: m.topic,
            visibility: m.visibility.parse()?,
            category: m.category,
            official: m.official,
            auto_join: m.auto_join,
            created_by: m.created_by.map(UserId),
            created_at: m.created_at,
            last_seq: m.last_seq,
            locked: m.locked,
            read_only: m.read_only,
            slowmode_secs: m.slowmode_secs,
            cleared_seq: m.cleared_seq,
            last_change: m.last_change,
        })
    }
}

impl ConversationRecord {
    /// The facts permission decisions look at.
    pub fn facts(&self) -> ConversationFacts {
        ConversationFacts {
            kind: self.kind,
            visibility: self.visibility,
            locked: self.locked,
            read_only: self.read_only,
            slowmode_secs: self.slowmode_secs,
            cleared_seq: self.cleared_seq,
        }
    }
}

fn records(rows: Vec<conversations::Model>) -> Result<Vec<ConversationRecord>, DomainError> {
    rows.into_iter().map(ConversationRecord::try_from).collect()
}

/// Fields of a new room.
pub struct NewRoom<'a> {
    /// Name (normalized).
    pub name: &'a RoomName,
    /// Public or private.
    pub visibility: Visibility,
    /// Topic line.
    pub topic: Option<String>,
    /// Directory category.
    pub category: Option<String>,
    /// Creator.
    pub created_by: UserId,
    /// Creation time.
    pub now: DateTime<Utc>,
}

/// Inserts a room. Errors: `room_name_taken` (409).
pub async fn insert_room(
    db: &impl ConnectionTrait,
    room: NewRoom<'_>,
) -> Result<ConversationRecord, DomainError> {
    let model = conversations::ActiveModel {
        id: Set(ConversationId::new().0),
        kind: Set(ConversationKind::Room.as_str().into()),
        name: Set(Some(room.name.as_str().to_owned())),
        name_key: Set(Some(room.name.key())),
        topic: Set(room.topic),
        visibility: Set(room.visibility.as_str().into()),
        category: Set(room.category),
        official: Set(false),
        auto_join: Set(false),
        dm_key: Set(None),
        created_by: Set(Some(room.created_by.0)),
        created_at: Set(room.now),
        last_seq: Set(0),
        last_change: Set(0),
        locked: Set(false),
        read_only: Set(false),
        slowmode_secs: Set(0),
        cleared_seq: Set(0),
    };
    Entity::insert(model)
        .exec_with_returning(db)
        .await
        .map_err(conflict_on_unique(
            ErrorCode::RoomNameTaken,
            "a room with that name exists",
        ))?
        .try_into()
}

/// Creates the official rooms that do not exist yet and refreshes the flags of those that do.
pub async fn ensure_official(
    db: &impl ConnectionTrait,
    rooms: &[OfficialRoom],
    now: DateTime<Utc>,
) -> Result<(), DomainError> {
    for room in rooms {
        let name = RoomName::parse(&room.name).map_err(|_| {
            DomainError::internal(format!(
                "official room name {:?} is not a valid room name",
                room.name
            ))
        })?;
        let key = name.key();
        match Entity::find()
            .filter(Column::NameKey.eq(key.clone()))
            .one(db)
            .await?
        {
            Some(existing) if !existing.official => {
                // Never turn a user's (maybe private) room into a public official one.
                tracing::error!(
                    room = %room.name,
                    "official room not created: a user room already has this name; rename one of them"
                );
            }
            Some(existing) => {
                Entity::update_many()
                    .col_expr(Column::Official, Expr::value(true))
                    .col_expr(Column::AutoJoin, Expr::value(room.auto_join))
                    .col_expr(Column::Visibility, Expr::value(Visibility::Public.as_str()))
                    .col_expr(Column::Category, Expr::value(room.category.clone()))
                    .col_expr(Column::Topic, Expr::value(room.topic.clone()))
                    .filter(Column::Id.eq(existing.id))
                    .exec(db)
                    .await?;
            }
            None => {
                let model = conversations::ActiveModel {
                    id: Set(ConversationId::new().0),
                    kind: Set(ConversationKind::Room.as_str().into()),
                    name: Set(Some(name.as_str().to_owned())),
                    name_key: Set(Some(key)),
                    topic: Set(room.topic.clone()),
                    visibility: Set(Visibility::Public.as_str().into()),
                    category: Set(room.category.clone()),
                    official: Set(true),
                    auto_join: Set(room.auto_join),
                    dm_key: Set(None),
                    created_by: Set(None),
                    created_at: Set(now),
                    last_seq: Set(0),
                    last_change: Set(0),
                    locked: Set(false),
                    read_only: Set(false),
                    slowmode_secs: Set(0),
                    cleared_seq: Set(0),
                };
                Entity::insert(model).exec(db).await?;
            }
        }
    }
    Ok(())
}

/// The conversation with this id.
pub async fn by_id(
    db: &impl ConnectionTrait,
    id: ConversationId,
) -> Result<Option<ConversationRecord>, DomainError> {
    Entity::find_by_id(id.0)
        .one(db)
        .await?
        .map(ConversationRecord::try_from)
        .transpose()
}

/// [`by_id`], locking the row until the transaction `db` ends (`SELECT … FOR UPDATE` on
/// PostgreSQL; SQLite has one writer, so its transactions never interleave). Membership changes
/// that must see each other's result (transfers, role changes, leaves, accepts) take this lock
/// first, so two of them on one conversation run one after the other.
pub async fn by_id_locked(
    db: &impl ConnectionTrait,
    id: ConversationId,
) -> Result<Option<ConversationRecord>, DomainError> {
    Entity::find_by_id(id.0)
        .lock_exclusive()
        .one(db)
        .await?
        .map(ConversationRecord::try_from)
        .transpose()
}

/// Conversations with these ids, in no particular order.
pub async fn by_ids(
    db: &impl ConnectionTrait,
    ids: &[ConversationId],
) -> Result<Vec<ConversationRecord>, DomainError> {
    if ids.is_empty() {
        return Ok(Vec::new());
    }
    let ids: Vec<_> = ids.iter().map(|i| i.0).collect();
    records(Entity::find().filter(Column::Id.is_in(ids)).all(db).await?)
}

/// Rooms every new account joins.
pub async fn auto_join(db: &impl ConnectionTrait) -> Result<Vec<ConversationRecord>, DomainError> {
    records(
        Entity::find()
            .filter(Column::AutoJoin.eq(true))
            .all(db)
            .await?,
    )
}

/// Filters and order of a directory page (`GET /rooms`).
#[derive(Clone, Copy, Debug)]
pub struct DirectoryQuery<'a> {
    /// Only rooms whose name, topic or category contains this text (case-insensitive, matched
    /// literally: `%` and `_` are not wildcards).
    pub q: Option<&'a str>,
    /// Only rooms of this category (case-insensitive, whole value).
    pub category: Option<&'a str>,
    /// The order after "official first".
    pub sort: DirectorySort,
}

/// Position in the room directory: the sort keys of the last room of a page.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct DirectoryPosition {
    /// The official flag of the last room seen.
    pub official: bool,
    /// Its lower-cased name.
    pub name_key: String,
    /// Its joined member count (sort `members`).
    pub members: i64,
    /// Its creation time (sort `newest`).
    pub created_at: DateTime<Utc>,
    /// Its id (sort `newest`: ties of creation time).
    pub id: ConversationId,
}

/// The number of joined members of the row's room, as an SQL expression (same on both backends).
fn joined_count_expr() -> Expr {
    Expr::cust(
        "(SELECT COUNT(*) FROM conversation_members cm \
         WHERE cm.conversation_id = conversations.id AND cm.state = 'joined')",
    )
}

/// One page of public rooms matching `query`, official first, then in the query's order,
/// starting after `after`. Returns up to `limit + 1` rows so the caller can tell whether more
/// exist.
pub async fn directory(
    db: &impl ConnectionTrait,
    query: &DirectoryQuery<'_>,
    after: Option<&DirectoryPosition>,
    limit: u64,
) -> Result<Vec<ConversationRecord>, DomainError> {
    use sea_orm::{Order, sea_query::Func};
    let lower = |c: Column| Expr::expr(Func::lower(Expr::col(c)));
    let mut cond = Condition::all()
        .add(Column::Kind.eq(ConversationKind::Room.as_str()))
        .add(Column::Visibility.eq(Visibility::Public.as_str()));
    if let Some(q) = query.q.map(str::trim).filter(|q| !q.is_empty()) {
        let q = q.to_lowercase();
        cond = cond.add(
            Condition::any()
                .add(Expr::col(Column::NameKey).like(dialect::contains(&q)))
                .add(lower(Column::Topic).like(dialect::contains(&q)))
                .add(lower(Column::Category).like(dialect::contains(&q))),
        );
    }
    if let Some(category) = query.category.map(str::trim).filter(|c| !c.is_empty()) {
        cond = cond.add(lower(Column::Category).eq(category.to_lowercase()));
    }
    if let Some(after) = after {
        // Rows after the position: a lower official flag, or the same one and later in the order.
        let later = match query.sort {
            DirectorySort::Name => Condition::all().add(Column::NameKey.gt(after.name_key.clone())),
            DirectorySort::Members => Condition::any()
                .add(joined_count_expr().lt(after.members))
                .add(
                    Condition::all()
                        .add(joined_count_expr().eq(after.members))
                        .add(Column::NameKey.gt(after.name_key.clone())),
                ),
            DirectorySort::Newest => Condition::any()
                .add(Column::CreatedAt.lt(after.created_at))
                .add(
                    Condition::all()
                        .add(Column::CreatedAt.eq(after.created_at))
                        .add(Column::Id.lt(after.id.0)),
                ),
        };
        cond = cond.add(
            Condition::any()
                .add(Column::Official.lt(after.official))
                .add(
                    Condition::all()
                        .add(Column::Official.eq(after.official))
                        .add(later),
                ),
        );
    }
    let mut find = Entity::find().filter(cond).order_by_desc(Column::Official);
    find = match query.sort {
        DirectorySort::Name => find.order_by_asc(Column::NameKey),
        DirectorySort::Members => find
            .order_by(joined_count_expr(), Order::Desc)
            .order_by_asc(Column::NameKey),
        DirectorySort::Newest => find
            .order_by_desc(Column::CreatedAt)
            .order_by_desc(Column::Id),
    };
    records(find.limit(limit + 1).all(db).await?)
}

/// The categories of public rooms with how many public rooms each has, by name
/// (case-sensitive values as stored; rooms without a category are not counted).
pub async fn directory_categories(
    db: &impl ConnectionTrait,
) -> Result<Vec<(String, i64)>, DomainError> {
    let rows: Vec<(Option<String>, i64)> = Entity::find()
        .select_only()
        .column(Column::Category)
        .column_as(Column::Id.count(), "n")
        .filter(Column::Kind.eq(ConversationKind::Room.as_str()))
        .filter(Column::Visibility.eq(Visibility::Public.as_str()))
        .filter(Column::Category.is_not_null())
        .group_by(Column::Category)
        .order_by_asc(Column::Category)
        .into_tuple()
        .all(db)
        .await?;
    Ok(rows
        .into_iter()
        .filter_map(|(c, n)| c.map(|c| (c, n)))
        .collect())
}

/// The DM key of a pair: `<smaller id>:<larger id>`, so a pair has exactly one DM.
pub fn dm_key(a: UserId, b: UserId) -> String {
    let (low, high) = if a < b { (a, b) } else { (b, a) };
    format!("{low}:{high}")
}

/// The DM of a pair.
pub async fn dm_of(
    db: &impl ConnectionTrait,
    a: UserId,
    b: UserId,
) -> Result<Option<ConversationRecord>, DomainError> {
    Entity::find()
        .filter(Column::DmKey.eq(dm_key(a, b)))
        .one(db)
        .await?
        .map(ConversationRecord::try_from)
        .transpose()
}

/// Inserts the DM of a pair. Returns `None` when a concurrent request created it first.
pub async fn insert_dm(
    db: &impl ConnectionTrait,
    a: UserId,
    b: UserId,
    now: DateTime<Utc>,
) -> Result<Option<ConversationRecord>, DomainError> {
    let model = conversations::ActiveModel {
        id: Set(ConversationId::new().0),
        kind: Set(ConversationKind::Dm.as_str().into()),
        name: Set(None),
        name_key: Set(None),
        topic: Set(None),
        visibility: Set(Visibility::Private.as_str().into()),
        category: Set(None),
        official: Set(false),
        auto_join: Set(false),
        dm_key: Set(Some(dm_key(a, b))),
        created_by: Set(Some(a.0)),
        created_at: Set(now),
        last_seq: Set(0),
        last_change: Set(0),
        locked: Set(false),
        read_only: Set(false),
        slowmode_secs: Set(0),
        cleared_seq: Set(0),
    };
    match Entity::insert(model).exec_with_returning(db).await {
        Ok(row) => Ok(Some(row.try_into()?)),
        Err(e) if is_unique_violation(&e) => Ok(None),
        Err(e) => Err(e.into()),
    }
}

/// Sets a room's topic and category.
pub async fn update_settings(
    db: &impl ConnectionTrait,
    id: ConversationId,
    topic: Option<String>,
    category: Option<String>,
) -> Result<(), DomainError> {
    Entity::update_many()
        .col_expr(Column::Topic, Expr::value(topic))
        .col_expr(Column::Category, Expr::value(category))
        .filter(Column::Id.eq(id.0))
        .exec(db)
        .await?;
    Ok(())
}

/// Inserts a group (private; names need not be unique, so no `name_key`).
pub async fn insert_group(
    db: &impl ConnectionTrait,
    name: &RoomName,
    topic: Option<String>,
    created_by: UserId,
    now: DateTime<Utc>,
) -> Result<ConversationRecord, DomainError> {
    let model = conversations::ActiveModel {
        id: Set(ConversationId::new().0),
        kind: Set(ConversationKind::Group.as_str().into()),
        name: Set(Some(name.as_str().to_owned())),
        name_key: Set(None),
        topic: Set(topic),
        visibility: Set(Visibility::Private.as_str().into()),
        category: Set(None),
        official: Set(false),
        auto_join: Set(false),
        dm_key: Set(None),
        created_by: Set(Some(created_by.0)),
        created_at: Set(now),
        last_seq: Set(0),
        last_change: Set(0),
        locked: Set(false),
        read_only: Set(false),
        slowmode_secs: Set(0),
        cleared_seq: Set(0),
    };
    Entity::insert(model)
        .exec_with_returning(db)
        .await?
        .try_into()
}

/// Sets a group's name and topic.
pub async fn update_group(
    db: &impl ConnectionTrait,
    id: ConversationId,
    name: &str,
    topic: Option<String>,
) -> Result<(), DomainError> {
    Entity::update_many()
        .col_expr(Column::Name, Expr::value(name))
        .col_expr(Column::Topic, Expr::value(topic))
        .filter(Column::Id.eq(id.0))
        .exec(db)
        .await?;
    Ok(())
}

/// Every official room.
pub async fn official(db: &impl ConnectionTrait) -> Result<Vec<ConversationRecord>, DomainError> {
    Entity::find()
        .filter(Column::Official.eq(true))
        .filter(Column::Kind.eq(ConversationKind::Room.as_str()))
        .all(db)
        .await?
        .into_iter()
        .map(ConversationRecord::try_from)
        .collect()
}

/// Which rooms the admin room list shows.
#[derive(Clone, Debug, Default)]
pub struct AdminRoomQuery<'a> {
    /// Only official, public, private, locked or read-only rooms.
    pub filter: Option<crate::domain::RoomFilter>,
    /// Only rooms whose lower-cased name contains this text (literally).
    pub q: Option<&'a str>,
    /// Start after this lower-cased name.
    pub after: Option<String>,
}

/// One page of rooms (never groups or DMs) by lower-cased name. Returns up to `limit + 1` rows
/// so the caller can tell whether more exist.
pub async fn admin_page(
    db: &impl ConnectionTrait,
    query: &AdminRoomQuery<'_>,
    limit: u64,
) -> Result<Vec<ConversationRecord>, DomainError> {
    use crate::domain::RoomFilter;
    let mut cond = Condition::all().add(Column::Kind.eq(ConversationKind::Room.as_str()));
    cond = match query.filter {
        None => cond,
        Some(RoomFilter::Official) => cond.add(Column::Official.eq(true)),
        Some(RoomFilter::Public) => cond.add(Column::Visibility.eq(Visibility::Public.as_str())),
        Some(RoomFilter::Private) => cond.add(Column::Visibility.eq(Visibility::Private.as_str())),
        Some(RoomFilter::Locked) => cond.add(Column::Locked.eq(true)),
        Some(RoomFilter::ReadOnly) => cond.add(Column::ReadOnly.eq(true)),
    };
    if let Some(q) = query.q.map(str::trim).filter(|q| !q.is_empty()) {
        cond = cond.add(Expr::col(Column::NameKey).like(dialect::contains(&q.to_lowercase())));
    }
    if let Some(after) = &query.after {
        cond = cond.add(Column::NameKey.gt(after.clone()));
    }
    records(
        Entity::find()
            .filter(cond)
            .order_by_asc(Column::NameKey)
            .limit(limit + 1)
            .all(db)
            .await?,
    )
}

/// The settings `PATCH /admin/rooms/{id}` may change; `None` keeps the stored value.
#[derive(Clone, Debug, Default)]
pub struct AdminRoomChanges {
    /// New name (normalized).
    pub name: Option<RoomName>,
    /// New topic (`Some(None)` clears it).
    pub topic: Option<Option<String>>,
    /// New category (`Some(None)` clears it).
    pub category: Option<Option<String>>,
    /// Official flag.
    pub official: Option<bool>,
    /// Auto-join flag.
    pub auto_join: Option<bool>,
    /// Locked flag.
    pub locked: Option<bool>,
    /// Read-only flag.
    pub read_only: Option<bool>,
    /// Slowmode seconds.
    pub slowmode_secs: Option<i32>,
}

/// Applies admin changes to a room. Errors: 409 `room_name_taken`.
pub async fn apply_admin_changes(
    db: &impl ConnectionTrait,
    id: ConversationId,
    changes: &AdminRoomChanges,
) -> Result<(), DomainError> {
    let mut update = Entity::update_many().filter(Column::Id.eq(id.0));
    let mut any = false;
    if let Some(name) = &changes.name {
        update = update
            .col_expr(Column::Name, Expr::value(name.as_str()))
            .col_expr(Column::NameKey, Expr::value(name.key()));
        any = true;
    }
    if let Some(topic) = &changes.topic {
        update = update.col_expr(Column::Topic, Expr::value(topic.clone()));
        any = true;
    }
    if let Some(category) = &changes.category {
        update = update.col_expr(Column::Category, Expr::value(category.clone()));
        any = true;
    }
    for (column, value) in [
        (Column::Official, changes.official),
        (Column::AutoJoin, changes.auto_join),
        (Column::Locked, changes.locked),
        (Column::ReadOnly, changes.read_only),
    ] {
        if let Some(value) = value {
            update = update.col_expr(column, Expr::value(value));
            any = true;
        }
    }
    if let Some(secs) = changes.slowmode_secs {
        update = update.col_expr(Column::SlowmodeSecs, Expr::value(secs));
        any = true;
    }
    if !any {
        return Ok(());
    }
    update.exec(db).await.map_err(conflict_on_unique(
        ErrorCode::RoomNameTaken,
        "a room with that name exists",
    ))?;
    Ok(())
}

/// Sets the seq a room's history was cleared up to.
pub async fn set_cleared_seq(
    db: &impl ConnectionTrait,
    id: ConversationId,
    seq: i64,
) -> Result<(), DomainError> {
    Entity::update_many()
        .col_expr(Column::ClearedSeq, Expr::value(seq))
        .filter(Column::Id.eq(id.0))
        .exec(db)
        .await?;
    Ok(())
}

/// Deletes the conversation row.
pub async fn delete(db: &impl ConnectionTrait, id: ConversationId) -> Result<(), DomainError> {
    Entity::delete_by_id(id.0).exec(db).await?;
    Ok(())
}

/// The rooms in category `name` (exact match).
pub async fn in_category(
    db: &impl ConnectionTrait,
    name: &str,
) -> Result<Vec<ConversationRecord>, DomainError> {
    records(
        Entity::find()
            .filter(Column::Kind.eq(ConversationKind::Room.as_str()))
            .filter(Column::Category.eq(name))
            .all(db)
            .await?,
    )
}

/// Moves every room of category `from` to category `to`; returns how many.
pub async fn rename_category(
    db: &impl ConnectionTrait,
    from: &str,
    to: &str,
) -> Result<u64, DomainError> {
    Ok(Entity::update_many()
        .col_expr(Column::Category, Expr::value(to))
        .filter(Column::Kind.eq(ConversationKind::Room.as_str()))
        .filter(Column::Category.eq(from))
        .exec(db)
        .await?
        .rows_affected)
}
