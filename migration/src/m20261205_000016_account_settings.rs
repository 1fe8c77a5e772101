//! Account settings that follow the user to every device (issue 9): `user_settings`, one row
//! per user who changed a setting. `settings` is the JSON text of the whole settings object
//! (theme, accent, text size, …; see `domain::AccountSettings`); a user without a row has the
//! defaults. Keys the server does not know are ignored when read, missing keys take their
//! default, so the set of settings can grow without a migration.

use sea_orm_migration::prelude::*;

#[derive(DeriveMigrationName)]
pub struct Migration;

#[derive(DeriveIden)]
enum Users {
    Table,
    Id,
}

#[derive(DeriveIden)]
enum UserSettings {
    Table,
    UserId,
    Settings,
    UpdatedAt,
}

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .create_table(
                Table::create()
                    .table(UserSettings::Table)
                    .col(
                        ColumnDef::new(UserSettings::UserId)
                            .uuid()
                            .not_null()
                            .primary_key(),
                    )
                    .col(ColumnDef::new(UserSettings::Settings).text().not_null())
                    .col(
                        ColumnDef::new(UserSettings::UpdatedAt)
                            .timestamp_with_time_zone()
                            .not_null(),
                    )
                    .foreign_key(
                        ForeignKey::create()
                            .from(UserSettings::Table, UserSettings::UserId)
                            .to(Users::Table, Users::Id)
                            .on_delete(ForeignKeyAction::Cascade),
                    )
                    .to_owned(),
            )
            .await
    }

    async fn down(&self, _manager: &SchemaManager) -> Result<(), DbErr> {
        Err(DbErr::Migration(
            "EchoChat migrations are forward-only; restore a backup to go back".into(),
        ))
    }
}
