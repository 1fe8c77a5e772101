//! Queries on `conversations`.

use chrono::{DateTime, Utc};
use entity::conversations::{self, Column, Entity};
use sea_orm::{
    ActiveValue::Set, ColumnTrait, Condition, ConnectionTrait, EntityTrait, QueryFilter,
    QueryOrder, sea_query::Expr,
};
use uuid::Uuid;

use super::{ConversationRow, conflict_on_unique, is_unique_violation};
use crate::{config::OfficialRoom, domain::DomainError};

/// Fields of a new room.
pub struct NewRoom<'a> {
    /// Name as typed.
    pub name: &'a str,
    /// `public` or `private`.
    pub visibility: &'a str,
    /// Topic line.
    pub topic: Option<String>,
    /// Directory category.
    pub category: Option<String>,
    /// Creator.
    pub created_by: Option<Uuid>,
    /// Creation time.
    pub now: DateTime<Utc>,
}

/// Inserts a room. Errors: `room_name_taken` (409).
pub async fn insert_room(
    db: &impl ConnectionTrait,
    room: NewRoom<'_>,
) -> Result<ConversationRow, DomainError> {
    let model = conversations::ActiveModel {
        id: Set(Uuid::now_v7()),
        kind: Set("room".into()),
        name: Set(Some(room.name.to_owned())),
        name_key: Set(Some(room.name.to_lowercase())),
        topic: Set(room.topic),
        visibility: Set(room.visibility.to_owned()),
        category: Set(room.category),
        official: Set(false),
        auto_join: Set(false),
        dm_key: Set(None),
        created_by: Set(room.created_by),
        created_at: Set(room.now),
        last_seq: Set(0),
    };
    Entity::insert(model)
        .exec_with_returning(db)
        .await
        .map_err(conflict_on_unique(
            "room_name_taken",
            "a room with that name exists",
        ))
}

/// Creates the official rooms that do not exist yet and refreshes the flags of those that do.
pub async fn ensure_official(
    db: &impl ConnectionTrait,
    rooms: &[OfficialRoom],
    now: DateTime<Utc>,
) -> Result<(), DomainError> {
    for room in rooms {
        let key = room.name.trim().to_lowercase();
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
                    .col_expr(Column::Visibility, Expr::value("public"))
                    .col_expr(Column::Category, Expr::value(room.category.clone()))
                    .col_expr(Column::Topic, Expr::value(room.topic.clone()))
                    .filter(Column::Id.eq(existing.id))
                    .exec(db)
                    .await?;
            }
            None => {
                let model = conversations::ActiveModel {
                    id: Set(Uuid::now_v7()),
                    kind: Set("room".into()),
                    name: Set(Some(room.name.trim().to_owned())),
                    name_key: Set(Some(key)),
                    topic: Set(room.topic.clone()),
                    visibility: Set("public".into()),
                    category: Set(room.category.clone()),
                    official: Set(true),
                    auto_join: Set(room.auto_join),
                    dm_key: Set(None),
                    created_by: Set(None),
                    created_at: Set(now),
                    last_seq: Set(0),
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
    id: Uuid,
) -> Result<Option<ConversationRow>, DomainError> {
    Ok(Entity::find_by_id(id).one(db).await?)
}

/// Conversations with these ids.
pub async fn by_ids(
    db: &impl ConnectionTrait,
    ids: Vec<Uuid>,
) -> Result<Vec<ConversationRow>, DomainError> {
    if ids.is_empty() {
        return Ok(Vec::new());
    }
    Ok(Entity::find().filter(Column::Id.is_in(ids)).all(db).await?)
}

/// Rooms every new account joins.
pub async fn auto_join(db: &impl ConnectionTrait) -> Result<Vec<ConversationRow>, DomainError> {
    Ok(Entity::find()
        .filter(Column::AutoJoin.eq(true))
        .all(db)
        .await?)
}

/// Public rooms whose name contains `q` (case-insensitive), official first, then by name.
pub async fn directory(
    db: &impl ConnectionTrait,
    q: Option<&str>,
) -> Result<Vec<ConversationRow>, DomainError> {
    let mut cond = Condition::all()
        .add(Column::Kind.eq("room"))
        .add(Column::Visibility.eq("public"));
    if let Some(q) = q.map(str::trim).filter(|q| !q.is_empty()) {
        cond = cond.add(Column::NameKey.contains(q.to_lowercase()));
    }
    Ok(Entity::find()
        .filter(cond)
        .order_by_desc(Column::Official)
        .order_by_asc(Column::NameKey)
        .all(db)
        .await?)
}

/// The DM of a pair, by its key `<min id>:<max id>`.
pub async fn dm_by_key(
    db: &impl ConnectionTrait,
    key: &str,
) -> Result<Option<ConversationRow>, DomainError> {
    Ok(Entity::find().filter(Column::DmKey.eq(key)).one(db).await?)
}

/// Inserts a DM. Returns `None` when a concurrent request created it first.
pub async fn insert_dm(
    db: &impl ConnectionTrait,
    key: String,
    now: DateTime<Utc>,
) -> Result<Option<ConversationRow>, DomainError> {
    let model = conversations::ActiveModel {
        id: Set(Uuid::now_v7()),
        kind: Set("dm".into()),
        name: Set(None),
        name_key: Set(None),
        topic: Set(None),
        visibility: Set("private".into()),
        category: Set(None),
        official: Set(false),
        auto_join: Set(false),
        dm_key: Set(Some(key)),
        created_by: Set(None),
        created_at: Set(now),
        last_seq: Set(0),
    };
    match Entity::insert(model).exec_with_returning(db).await {
        Ok(row) => Ok(Some(row)),
        Err(e) if is_unique_violation(&e) => Ok(None),
        Err(e) => Err(e.into()),
    }
}
