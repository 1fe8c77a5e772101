//! Presence you choose: `users.presence` (`online`, `away`, `busy`, `invisible`; default
//! `online`) and `users.status_text` (a custom status, at most 128 characters — up to 512 bytes
//! of UTF-8). Both are kept across sessions; what others see is derived from them and the
//! user's connections (see `realtime::hub`).

use sea_orm_migration::prelude::*;

#[derive(DeriveMigrationName)]
pub struct Migration;

#[derive(DeriveIden)]
enum Users {
    Table,
    Presence,
    StatusText,
}

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        for column in [
            ColumnDef::new(Users::Presence)
                .string_len(16)
                .not_null()
                .default("online")
                .check(Expr::col(Users::Presence).is_in(["online", "away", "busy", "invisible"]))
                .to_owned(),
            ColumnDef::new(Users::StatusText)
                .string_len(512)
                .null()
                .to_owned(),
        ] {
            let mut column = column;
            manager
                .alter_table(
                    Table::alter()
                        .table(Users::Table)
                        .add_column(&mut column)
                        .to_owned(),
                )
                .await?;
        }
        Ok(())
    }

    async fn down(&self, _manager: &SchemaManager) -> Result<(), DbErr> {
        Err(DbErr::Migration(
            "EchoChat migrations are forward-only; restore a backup to go back".into(),
        ))
    }
}
