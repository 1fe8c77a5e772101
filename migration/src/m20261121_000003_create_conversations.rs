use sea_orm_migration::prelude::*;

#[derive(DeriveMigrationName)]
pub struct Migration;

#[derive(DeriveIden)]
enum Conversations {
    Table,
    Id,
    Kind,
    Name,
    NameKey,
    Topic,
    Visibility,
    Category,
    Official,
    AutoJoin,
    DmKey,
    CreatedBy,
    CreatedAt,
    LastSeq,
}

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .create_table(
                Table::create()
                    .table(Conversations::Table)
                    .col(
                        ColumnDef::new(Conversations::Id)
                            .uuid()
                            .not_null()
                            .primary_key(),
                    )
                    .col(ColumnDef::new(Conversations::Kind).string_len(8).not_null())
                    .col(ColumnDef::new(Conversations::Name).string_len(64).null())
                    .col(
                        ColumnDef::new(Conversations::NameKey)
                            .string_len(64)
                            .null()
                            .unique_key(),
                    )
                    .col(ColumnDef::new(Conversations::Topic).string_len(512).null())
                    .col(
                        ColumnDef::new(Conversations::Visibility)
                            .string_len(8)
                            .not_null(),
                    )
                    .col(
                        ColumnDef::new(Conversations::Category)
                            .string_len(64)
                            .null(),
                    )
                    .col(ColumnDef::new(Conversations::Official).boolean().not_null())
                    .col(ColumnDef::new(Conversations::AutoJoin).boolean().not_null())
                    .col(
                        ColumnDef::new(Conversations::DmKey)
                            .string_len(80)
                            .null()
                            .unique_key(),
                    )
                    .col(ColumnDef::new(Conversations::CreatedBy).uuid().null())
                    .col(
                        ColumnDef::new(Conversations::CreatedAt)
                            .timestamp_with_time_zone()
                            .not_null(),
                    )
                    .col(
                        ColumnDef::new(Conversations::LastSeq)
                            .big_integer()
                            .not_null(),
                    )
                    .to_owned(),
            )
            .await
    }

    async fn down(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .drop_table(Table::drop().table(Conversations::Table).to_owned())
            .await
    }
}
