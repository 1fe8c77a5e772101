//! The social graph: friendships and blocks.
//!
//! - `friendships`: one row per unordered pair of users (`user_a < user_b`), `pending` while
//!   `requested_by` waits for the other one's answer, `accepted` once they are friends.
//! - `blocks`: who blocked whom (one row per direction).
//!
//! Both cascade when an account row is removed (accounts are soft-deleted, so in practice never).

use sea_orm_migration::prelude::*;

#[derive(DeriveMigrationName)]
pub struct Migration;

#[derive(DeriveIden)]
enum Friendships {
    Table,
    UserA,
    UserB,
    RequestedBy,
    State,
    CreatedAt,
    UpdatedAt,
}

#[derive(DeriveIden)]
enum Blocks {
    Table,
    BlockerId,
    BlockedId,
    CreatedAt,
}

#[derive(DeriveIden)]
enum Users {
    Table,
    Id,
}

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .create_table(
                Table::create()
                    .table(Friendships::Table)
                    .col(ColumnDef::new(Friendships::UserA).uuid().not_null())
                    .col(ColumnDef::new(Friendships::UserB).uuid().not_null())
                    .col(ColumnDef::new(Friendships::RequestedBy).uuid().not_null())
                    .col(
                        ColumnDef::new(Friendships::State)
                            .string_len(16)
                            .not_null()
                            .check(Expr::col(Friendships::State).is_in(["pending", "accepted"])),
                    )
                    .col(
                        ColumnDef::new(Friendships::CreatedAt)
                            .timestamp_with_time_zone()
                            .not_null(),
                    )
                    .col(
                        ColumnDef::new(Friendships::UpdatedAt)
                            .timestamp_with_time_zone()
                            .not_null(),
                    )
                    .primary_key(
                        Index::create()
                            .col(Friendships::UserA)
                            .col(Friendships::UserB),
                    )
                    .check(Expr::col(Friendships::UserA).lt(Expr::col(Friendships::UserB)))
                    .foreign_key(
                        ForeignKey::create()
                            .from(Friendships::Table, Friendships::UserA)
                            .to(Users::Table, Users::Id)
                            .on_delete(ForeignKeyAction::Cascade),
                    )
                    .foreign_key(
                        ForeignKey::create()
                            .from(Friendships::Table, Friendships::UserB)
                            .to(Users::Table, Users::Id)
                            .on_delete(ForeignKeyAction::Cascade),
                    )
                    .to_owned(),
            )
            .await?;
        manager
            .create_index(
                Index::create()
                    .name("idx_friendships_user_b")
                    .table(Friendships::Table)
                    .col(Friendships::UserB)
                    .to_owned(),
            )
            .await?;

        manager
            .create_table(
                Table::create()
                    .table(Blocks::Table)
                    .col(ColumnDef::new(Blocks::BlockerId).uuid().not_null())
                    .col(ColumnDef::new(Blocks::BlockedId).uuid().not_null())
                    .col(
                        ColumnDef::new(Blocks::CreatedAt)
                            .timestamp_with_time_zone()
                            .not_null(),
                    )
                    .primary_key(
                        Index::create()
                            .col(Blocks::BlockerId)
                            .col(Blocks::BlockedId),
                    )
                    .foreign_key(
                        ForeignKey::create()
                            .from(Blocks::Table, Blocks::BlockerId)
                            .to(Users::Table, Users::Id)
                            .on_delete(ForeignKeyAction::Cascade),
                    )
                    .foreign_key(
                        ForeignKey::create()
                            .from(Blocks::Table, Blocks::BlockedId)
                            .to(Users::Table, Users::Id)
                            .on_delete(ForeignKeyAction::Cascade),
                    )
                    .to_owned(),
            )
            .await?;
        manager
            .create_index(
                Index::create()
                    .name("idx_blocks_blocked")
                    .table(Blocks::Table)
                    .col(Blocks::BlockedId)
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
