//! Conversations in depth (issue 9): edits, deletes, replies, reactions, mentions, pins, receipts.
//!
//! - `conversations.last_change`: the per-conversation **change sequence**. Every change of a
//!   message (creation, edit, deletion, reaction, pin) bumps it inside the change's transaction
//!   and stamps the message with the new value (`messages.change_seq`), so a client that saw
//!   changes up to N asks for `change_seq > N` on resume and gets every later change, in order.
//!   Existing rows start at `last_change = last_seq` and `change_seq = seq`.
//! - `messages.reply_to_seq`: the message this one replies to (same conversation; NULL = none).
//! - `messages.mentions`: JSON `[[user_id, username], …]` of the resolved `@username` mentions
//!   (NULL = none).
//! - `messages.pinned_at` / `pinned_by`: pinned by whom, when (NULL = not pinned).
//! - `message_reactions`: one row per (message, emoji, user).
//! - `conversation_members.receipt_seq`: the read position others may see (moves only while the
//!   member sends read receipts and is not invisible); `last_read_seq` stays the private one.
//! - `conversation_members.notify`: `all`, `mentions` or `none` (muted), the member's
//!   notification level for this conversation.

use sea_orm_migration::prelude::*;

#[derive(DeriveMigrationName)]
pub struct Migration;

#[derive(DeriveIden)]
enum Conversations {
    Table,
    LastChange,
    LastSeq,
}

#[derive(DeriveIden)]
enum Messages {
    Table,
    Id,
    ConversationId,
    Seq,
    ChangeSeq,
    ReplyToSeq,
    Mentions,
    PinnedAt,
    PinnedBy,
}

#[derive(DeriveIden)]
enum ConversationMembers {
    Table,
    ReceiptSeq,
    Notify,
}

#[derive(DeriveIden)]
enum MessageReactions {
    Table,
    MessageId,
    Emoji,
    UserId,
    CreatedAt,
}

#[derive(DeriveIden)]
enum Users {
    Table,
    Id,
}

async fn add(
    manager: &SchemaManager<'_>,
    table: impl IntoIden,
    column: ColumnDef,
) -> Result<(), DbErr> {
    let mut column = column;
    manager
        .alter_table(
            Table::alter()
                .table(table)
                .add_column(&mut column)
                .to_owned(),
        )
        .await
}

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        // One ALTER per statement (SQLite).
        add(
            manager,
            Conversations::Table,
            ColumnDef::new(Conversations::LastChange)
                .big_integer()
                .not_null()
                .default(0)
                .to_owned(),
        )
        .await?;
        for column in [
            ColumnDef::new(Messages::ChangeSeq)
                .big_integer()
                .not_null()
                .default(0)
                .to_owned(),
            ColumnDef::new(Messages::ReplyToSeq)
                .big_integer()
                .null()
                .to_owned(),
            ColumnDef::new(Messages::Mentions).text().null().to_owned(),
            ColumnDef::new(Messages::PinnedAt)
                .timestamp_with_time_zone()
                .null()
                .to_owned(),
            ColumnDef::new(Messages::PinnedBy).uuid().null().to_owned(),
        ] {
            add(manager, Messages::Table, column).await?;
        }
        add(
            manager,
            ConversationMembers::Table,
            ColumnDef::new(ConversationMembers::ReceiptSeq)
                .big_integer()
                .not_null()
                .default(0)
                .to_owned(),
        )
        .await?;
        add(
            manager,
            ConversationMembers::Table,
            ColumnDef::new(ConversationMembers::Notify)
                .string_len(16)
                .not_null()
                .default("all")
                .check(Expr::col(ConversationMembers::Notify).is_in(["all", "mentions", "none"]))
                .to_owned(),
        )
        .await?;
        // Existing history: every message's last change is its creation.
        manager
            .exec_stmt(
                Query::update()
                    .table(Messages::Table)
                    .value(Messages::ChangeSeq, Expr::col(Messages::Seq))
                    .to_owned(),
            )
            .await?;
        manager
            .exec_stmt(
                Query::update()
                    .table(Conversations::Table)
                    .value(Conversations::LastChange, Expr::col(Conversations::LastSeq))
                    .to_owned(),
            )
            .await?;
        manager
            .create_index(
                Index::create()
                    .name("idx_messages_conversation_change")
                    .table(Messages::Table)
                    .col(Messages::ConversationId)
                    .col(Messages::ChangeSeq)
                    .to_owned(),
            )
            .await?;
        manager
            .create_index(
                Index::create()
                    .name("idx_messages_pinned")
                    .table(Messages::Table)
                    .col(Messages::ConversationId)
                    .col(Messages::PinnedAt)
                    .to_owned(),
            )
            .await?;
        manager
            .create_table(
                Table::create()
                    .table(MessageReactions::Table)
                    .col(
                        ColumnDef::new(MessageReactions::MessageId)
                            .uuid()
                            .not_null(),
                    )
                    .col(
                        ColumnDef::new(MessageReactions::Emoji)
                            .string_len(64)
                            .not_null(),
                    )
                    .col(ColumnDef::new(MessageReactions::UserId).uuid().not_null())
                    .col(
                        ColumnDef::new(MessageReactions::CreatedAt)
                            .timestamp_with_time_zone()
                            .not_null(),
                    )
                    .primary_key(
                        Index::create()
                            .col(MessageReactions::MessageId)
                            .col(MessageReactions::Emoji)
                            .col(MessageReactions::UserId),
                    )
                    .foreign_key(
                        ForeignKey::create()
                            .from(MessageReactions::Table, MessageReactions::MessageId)
                            .to(Messages::Table, Messages::Id)
                            .on_delete(ForeignKeyAction::Cascade),
                    )
                    .foreign_key(
                        ForeignKey::create()
                            .from(MessageReactions::Table, MessageReactions::UserId)
                            .to(Users::Table, Users::Id)
                            .on_delete(ForeignKeyAction::Cascade),
                    )
                    .to_owned(),
            )
            .await
    }

    async fn down(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .drop_table(Table::drop().table(MessageReactions::Table).to_owned())
            .await?;
        for index in ["idx_messages_pinned", "idx_messages_conversation_change"] {
            manager
                .drop_index(Index::drop().name(index).table(Messages::Table).to_owned())
                .await?;
        }
        for column in [
            Messages::ChangeSeq,
            Messages::ReplyToSeq,
            Messages::Mentions,
            Messages::PinnedAt,
            Messages::PinnedBy,
        ] {
            manager
                .alter_table(
                    Table::alter()
                        .table(Messages::Table)
                        .drop_column(column)
                        .to_owned(),
                )
                .await?;
        }
        for column in [ConversationMembers::ReceiptSeq, ConversationMembers::Notify] {
            manager
                .alter_table(
                    Table::alter()
                        .table(ConversationMembers::Table)
                        .drop_column(column)
                        .to_owned(),
                )
                .await?;
        }
        manager
            .alter_table(
                Table::alter()
                    .table(Conversations::Table)
                    .drop_column(Conversations::LastChange)
                    .to_owned(),
            )
            .await
    }
}
