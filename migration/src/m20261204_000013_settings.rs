//! Live settings and invite links (issue 8).
//!
//! - `settings`: one row per setting changed at run time (`PATCH /admin/settings`); `value` is
//!   the JSON text of the value. A key without a row takes the configuration file's value.
//! - `server_invites`: invite links for `registration = invite_only`. `code` is the random,
//!   URL-safe code of the link (at least 128 bits); `uses` counts the accounts registered with
//!   it, at most `max_uses` (null: unlimited) before `expires_at` (null: never) unless revoked.

use sea_orm_migration::prelude::*;

#[derive(DeriveMigrationName)]
pub struct Migration;

#[derive(DeriveIden)]
enum Users {
    Table,
    Id,
}

#[derive(DeriveIden)]
enum Settings {
    Table,
    Key,
    Value,
    UpdatedBy,
    UpdatedAt,
}

#[derive(DeriveIden)]
enum ServerInvites {
    Table,
    Code,
    MaxUses,
    Uses,
    ExpiresAt,
    CreatedBy,
    CreatedAt,
    RevokedAt,
}

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .create_table(
                Table::create()
                    .table(Settings::Table)
                    .col(
                        ColumnDef::new(Settings::Key)
                            .string_len(64)
                            .not_null()
                            .primary_key(),
                    )
                    .col(ColumnDef::new(Settings::Value).text().not_null())
                    .col(ColumnDef::new(Settings::UpdatedBy).uuid().null())
                    .col(
                        ColumnDef::new(Settings::UpdatedAt)
                            .timestamp_with_time_zone()
                            .not_null(),
                    )
                    .foreign_key(
                        ForeignKey::create()
                            .from(Settings::Table, Settings::UpdatedBy)
                            .to(Users::Table, Users::Id)
                            .on_delete(ForeignKeyAction::SetNull),
                    )
                    .to_owned(),
            )
            .await?;
        manager
            .create_table(
                Table::create()
                    .table(ServerInvites::Table)
                    .col(
                        ColumnDef::new(ServerInvites::Code)
                            .string_len(64)
                            .not_null()
                            .primary_key(),
                    )
                    .col(
                        ColumnDef::new(ServerInvites::MaxUses)
                            .integer()
                            .null()
                            .check(Expr::col(ServerInvites::MaxUses).gte(1)),
                    )
                    .col(
                        ColumnDef::new(ServerInvites::Uses)
                            .integer()
                            .not_null()
                            .default(0),
                    )
                    .col(
                        ColumnDef::new(ServerInvites::ExpiresAt)
                            .timestamp_with_time_zone()
                            .null(),
                    )
                    .col(ColumnDef::new(ServerInvites::CreatedBy).uuid().null())
                    .col(
                        ColumnDef::new(ServerInvites::CreatedAt)
                            .timestamp_with_time_zone()
                            .not_null(),
                    )
                    .col(
                        ColumnDef::new(ServerInvites::RevokedAt)
                            .timestamp_with_time_zone()
                            .null(),
                    )
                    .foreign_key(
                        ForeignKey::create()
                            .from(ServerInvites::Table, ServerInvites::CreatedBy)
                            .to(Users::Table, Users::Id)
                            .on_delete(ForeignKeyAction::SetNull),
                    )
                    .to_owned(),
            )
            .await?;
        manager
            .create_index(
                Index::create()
                    .name("idx_server_invites_created")
                    .table(ServerInvites::Table)
                    .col(ServerInvites::CreatedAt)
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
