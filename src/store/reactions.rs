//! Queries on `message_reactions` (writes happen inside the message writer's transactions).

use std::collections::HashMap;

use chrono::{DateTime, Utc};
use entity::message_reactions::{self, Column, Entity};
use sea_orm::{
    ActiveValue::Set, ColumnTrait, ConnectionTrait, EntityTrait, PaginatorTrait, QueryFilter,
    QueryOrder, QuerySelect, sea_query::OnConflict,
};

use crate::domain::{DomainError, MessageId, REACTION_USERS_SHOWN, Reaction, UserId};

/// The reactions of these messages: per message, by emoji in order of first use, each with its
/// count and its first [`REACTION_USERS_SHOWN`] users.
pub async fn of_messages(
    db: &impl ConnectionTrait,
    ids: &[MessageId],
) -> Result<HashMap<MessageId, Vec<Reaction>>, DomainError> {
    let mut out: HashMap<MessageId, Vec<Reaction>> = HashMap::new();
    if ids.is_empty() {
        return Ok(out);
    }
    for chunk in ids.chunks(500) {
        let rows = Entity::find()
            .filter(Column::MessageId.is_in(chunk.iter().map(|i| i.0)))
            .order_by_asc(Column::CreatedAt)
            .order_by_asc(Column::UserId)
            .all(db)
            .await?;
        for row in rows {
            let list = out.entry(MessageId(row.message_id)).or_default();
            let reaction = match list.iter_mut().position(|r| r.emoji == row.emoji) {
                Some(i) => &mut list[i],
                None => {
                    list.push(Reaction {
                        emoji: row.emoji.clone(),
                        count: 0,
                        user_ids: Vec::new(),
                    });
                    list.last_mut().expect("just pushed")
                }
            };
            reaction.count += 1;
            if reaction.user_ids.len() < REACTION_USERS_SHOWN {
                reaction.user_ids.push(UserId(row.user_id));
            }
        }
    }
    Ok(out)
}

/// Every reaction of one message as `(emoji, users)`, by emoji in order of first use.
pub async fn users_of(
    db: &impl ConnectionTrait,
    message: MessageId,
) -> Result<Vec<(String, Vec<UserId>)>, DomainError> {
    let rows = Entity::find()
        .filter(Column::MessageId.eq(message.0))
        .order_by_asc(Column::CreatedAt)
        .order_by_asc(Column::UserId)
        .all(db)
        .await?;
    let mut out: Vec<(String, Vec<UserId>)> = Vec::new();
    for row in rows {
        match out.iter_mut().find(|(e, _)| *e == row.emoji) {
            Some((_, users)) => users.push(UserId(row.user_id)),
            None => out.push((row.emoji, vec![UserId(row.user_id)])),
        }
    }
    Ok(out)
}

/// The distinct emojis on a message.
pub async fn emojis_of(
    db: &impl ConnectionTrait,
    message: MessageId,
) -> Result<Vec<String>, sea_orm::DbErr> {
    Entity::find()
        .select_only()
        .column(Column::Emoji)
        .distinct()
        .filter(Column::MessageId.eq(message.0))
        .into_tuple()
        .all(db)
        .await
}

/// Adds `user`'s reaction (nothing when it exists). Returns whether a row was added.
pub async fn add(
    db: &impl ConnectionTrait,
    message: MessageId,
    emoji: &str,
    user: UserId,
    now: DateTime<Utc>,
) -> Result<bool, sea_orm::DbErr> {
    let exists = Entity::find()
        .filter(Column::MessageId.eq(message.0))
        .filter(Column::Emoji.eq(emoji))
        .filter(Column::UserId.eq(user.0))
        .count(db)
        .await?
        > 0;
    if exists {
        return Ok(false);
    }
    Entity::insert(message_reactions::ActiveModel {
        message_id: Set(message.0),
        emoji: Set(emoji.to_owned()),
        user_id: Set(user.0),
        created_at: Set(now),
    })
    .on_conflict(
        OnConflict::columns([Column::MessageId, Column::Emoji, Column::UserId])
            .do_nothing()
            .to_owned(),
    )
    .exec_without_returning(db)
    .await?;
    Ok(true)
}

/// Removes `user`'s reaction. Returns whether a row was removed.
pub async fn remove(
    db: &impl ConnectionTrait,
    message: MessageId,
    emoji: &str,
    user: UserId,
) -> Result<bool, sea_orm::DbErr> {
    Ok(Entity::delete_many()
        .filter(Column::MessageId.eq(message.0))
        .filter(Column::Emoji.eq(emoji))
        .filter(Column::UserId.eq(user.0))
        .exec(db)
        .await?
        .rows_affected
        > 0)
}

/// Removes every reaction of a message (it was deleted).
pub async fn clear(db: &impl ConnectionTrait, message: MessageId) -> Result<(), sea_orm::DbErr> {
    Entity::delete_many()
        .filter(Column::MessageId.eq(message.0))
        .exec(db)
        .await?;
    Ok(())
}
