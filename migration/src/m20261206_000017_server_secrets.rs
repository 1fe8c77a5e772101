//! Secrets shared by every instance of a server (issue 10): `server_secrets`, one row per named
//! secret. With several instances (`[redis] url`), the JWT signing key lives here, so that an
//! access token signed by one instance is accepted by all; the first instance to start writes it
//! (from its `secrets/jwt.key`, so tokens issued before the switch stay valid). `value` is the
//! secret in unpadded base64url. One instance on its own keeps using the file.

use sea_orm_migration::prelude::*;

#[derive(DeriveMigrationName)]
pub struct Migration;

#[derive(DeriveIden)]
enum ServerSecrets {
    Table,
    Name,
    Value,
    CreatedAt,
}

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .create_table(
                Table::create()
                    .table(ServerSecrets::Table)
                    .col(
                        ColumnDef::new(ServerSecrets::Name)
                            .string_len(64)
                            .not_null()
                            .primary_key(),
                    )
                    .col(ColumnDef::new(ServerSecrets::Value).text().not_null())
                    .col(
                        ColumnDef::new(ServerSecrets::CreatedAt)
                            .timestamp_with_time_zone()
                            .not_null(),
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
