//! Room moderation and reports.
//!
//! - `conversations.locked`: nobody new may join (holders of `rooms.moderate` still may).
//! - `conversations.read_only`: only the room's owner and moderators (and holders of
//!   `rooms.moderate`) may post.
//! - `conversations.slowmode_secs`: seconds a plain member must wait between two messages
//!   (0 = off, at most 21600 = 6 h).
//! - `conversations.cleared_seq`: history was cleared up to this seq; history, resume and
//!   unread counts start after it (0 = never cleared).
//! - `reports`: messages reported by users, the moderation queue (`open`, `resolved`,
//!   `dismissed`). `message_seq` and `message_id` name the message; a deleted room takes its
//!   reports with it.

use sea_orm_migration::prelude::*;

#[derive(DeriveMigrationName)]
pub struct Migration;

#[derive(DeriveIden)]
enum Conversations {
    Table,
    Id,
    Locked,
    ReadOnly,
    SlowmodeSecs,
    ClearedSeq,
}

#[derive(DeriveIden)]
enum Users {
    Table,
    Id,
}

#[derive(DeriveIden)]
enum Reports {
    Table,
    Id,
    ReporterId,
    ConversationId,
    MessageSeq,
    MessageId,
    Reason,
    Status,
    CreatedAt,
    ResolvedBy,
    ResolvedAt,
    Resolution,
}

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        // One ALTER per statement (SQLite).
        for column in [
            ColumnDef::new(Conversations::Locked)
                .boolean()
                .not_null()
                .default(false)
                .to_owned(),
            ColumnDef::new(Conversations::ReadOnly)
                .boolean()
                .not_null()
                .default(false)
                .to_owned(),
            ColumnDef::new(Conversations::SlowmodeSecs)
                .integer()
                .not_null()
                .default(0)
                .check(Expr::col(Conversations::SlowmodeSecs).between(0, 21_600))
                .to_owned(),
            ColumnDef::new(Conversations::ClearedSeq)
                .big_integer()
                .not_null()
                .default(0)
                .to_owned(),
        ] {
            let mut column = column;
            manager
                .alter_table(
                    Table::alter()
                        .table(Conversations::Table)
                        .add_column(&mut column)
                        .to_owned(),
                )
                .await?;
        }
        manager
            .create_table(
                Table::create()
                    .table(Reports::Table)
                    .col(ColumnDef::new(Reports::Id).uuid().not_null().primary_key())
                    .col(ColumnDef::new(Reports::ReporterId).uuid().not_null())
                    .col(ColumnDef::new(Reports::ConversationId).uuid().not_null())
                    .col(ColumnDef::new(Reports::MessageSeq).big_integer().not_null())
                    .col(ColumnDef::new(Reports::MessageId).uuid().not_null())
                    .col(ColumnDef::new(Reports::Reason).string_len(2000).not_null())
                    .col(
                        ColumnDef::new(Reports::Status)
                            .string_len(16)
                            .not_null()
                            .default("open")
                            .check(Expr::col(Reports::Status).is_in([
                                "open",
                                "resolved",
                                "dismissed",
                            ])),
                    )
                    .col(
                        ColumnDef::new(Reports::CreatedAt)
                            .timestamp_with_time_zone()
                            .not_null(),
                    )
                    .col(ColumnDef::new(Reports::ResolvedBy).uuid().null())
                    .col(
                        ColumnDef::new(Reports::ResolvedAt)
                            .timestamp_with_time_zone()
                            .null(),
                    )
                    .col(ColumnDef::new(Reports::Resolution).string_len(2000).null())
                    .foreign_key(
                        ForeignKey::create()
                            .from(Reports::Table, Reports::ReporterId)
                            .to(Users::Table, Users::Id)
                            .on_delete(ForeignKeyAction::Cascade),
                    )
                    .foreign_key(
                        ForeignKey::create()
                            .from(Reports::Table, Reports::ConversationId)
                            .to(Conversations::Table, Conversations::Id)
                            .on_delete(ForeignKeyAction::Cascade),
                    )
                    .foreign_key(
                        ForeignKey::create()
                            .from(Reports::Table, Reports::ResolvedBy)
                            .to(Users::Table, Users::Id)
                            .on_delete(ForeignKeyAction::SetNull),
                    )
                    .to_owned(),
            )
            .await?;
        manager
            .create_index(
                Index::create()
                    .name("idx_reports_status_created")
                    .table(Reports::Table)
                    .col(Reports::Status)
                    .col(Reports::CreatedAt)
                    .to_owned(),
            )
            .await?;
        manager
            .create_index(
                Index::create()
                    .name("idx_reports_conversation")
                    .table(Reports::Table)
                    .col(Reports::ConversationId)
                    .to_owned(),
            )
            .await?;
        Ok(())
    }

    async fn down(&self, _manager: &SchemaManager) -> Result<(), DbErr> {
        Err(DbErr::Migration(
            "EchoChat migrations are forward-only; restore a backup to go back".into(),
        ))
    }
}
