//! Groups with roles, invitations that say who sent them, and muting.
//!
//! - `conversation_members.muted_until`: until when a member may read but not post (NULL: not
//!   muted; a past time counts as not muted).
//! - `conversation_members.invited_by`: who sent a pending invitation (NULL for rows from
//!   before this migration and for memberships that never were invitations).

use sea_orm_migration::prelude::*;

#[derive(DeriveMigrationName)]
pub struct Migration;

#[derive(DeriveIden)]
enum ConversationMembers {
    Table,
    MutedUntil,
    InvitedBy,
}

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        // One ALTER per statement (SQLite).
        for column in [
            ColumnDef::new(ConversationMembers::MutedUntil)
                .timestamp_with_time_zone()
                .null()
                .to_owned(),
            ColumnDef::new(ConversationMembers::InvitedBy)
                .uuid()
                .null()
                .to_owned(),
        ] {
            let mut column = column;
            manager
                .alter_table(
                    Table::alter()
                        .table(ConversationMembers::Table)
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
