//! Administration: custom server roles and account moderation.
//!
//! - `roles`: custom server roles (the built-in `admin`, `moderator` and `member` live in code and
//!   are never rows). `permissions` is a JSON array of server permission names.
//! - `user_roles`: which custom roles a user holds, besides the one built-in role in
//!   `users.role`. Cascades when the role is deleted.
//! - `users` gains the moderation state: a suspension (until a time, with a reason), a
//!   deactivation (until lifted), a server-wide mute (until a time) and a shadowban, each with the
//!   reason shown to moderators (and, for suspensions, to the user at login).
//! - `sessions.end_reason` accepts `suspended` and `deactivated`.
//! - `messages.shadowed`: stored while the sender was shadowbanned; shown to the sender (and to
//!   moderators, flagged) only.

use sea_orm_migration::prelude::*;
use sea_orm_migration::sea_orm::{ConnectionTrait, DbBackend};

/// Every session end reason after this migration (adds `suspended` and `deactivated`).
const END_REASONS: &str = "'logout', 'logged_out_elsewhere', 'idle', 'password_changed', \
     'password_reset', 'revoked_by_admin', 'token_reuse', 'account_deleted', 'suspended', \
     'deactivated'";

/// SQLite cannot change a CHECK constraint: `sessions` is rebuilt (the procedure of
/// <https://sqlite.org/lang_altertable.html#otheralter>; migrations run with foreign keys off).
fn sqlite_sessions() -> Vec<String> {
    vec![
        format!(
            r#"CREATE TABLE "sessions_new" (
                 "id" uuid_text NOT NULL PRIMARY KEY,
                 "user_id" uuid_text NOT NULL,
                 "device" varchar(128) NOT NULL,
                 "ip" varchar(45) NULL,
                 "created_at" timestamp_with_timezone_text NOT NULL,
                 "last_active_at" timestamp_with_timezone_text NOT NULL,
                 "ended_at" timestamp_with_timezone_text NULL,
                 "end_reason" varchar(32) NULL CHECK ("end_reason" IN ({END_REASONS})),
                 FOREIGN KEY ("user_id") REFERENCES "users" ("id") ON DELETE CASCADE
               )"#
        ),
        r#"INSERT INTO "sessions_new" SELECT "id", "user_id", "device", "ip", "created_at",
             "last_active_at", "ended_at", "end_reason" FROM "sessions""#
            .to_owned(),
        r#"DROP TABLE "sessions""#.to_owned(),
        r#"ALTER TABLE "sessions_new" RENAME TO "sessions""#.to_owned(),
        r#"CREATE INDEX "idx_sessions_user" ON "sessions" ("user_id")"#.to_owned(),
        r#"CREATE INDEX "idx_sessions_live_activity" ON "sessions" ("ended_at", "last_active_at")"#
            .to_owned(),
    ]
}

/// PostgreSQL replaces the constraint in place (its generated name is `<table>_<column>_check`).
fn postgres_sessions() -> Vec<String> {
    vec![
        r#"ALTER TABLE "sessions" DROP CONSTRAINT IF EXISTS "sessions_end_reason_check""#
            .to_owned(),
        format!(
            r#"ALTER TABLE "sessions" ADD CONSTRAINT "ck_sessions_end_reason"
                 CHECK ("end_reason" IN ({END_REASONS}))"#
        ),
    ]
}

#[derive(DeriveMigrationName)]
pub struct Migration;

#[derive(DeriveIden)]
enum Roles {
    Table,
    Name,
    Description,
    Permissions,
    CreatedAt,
    UpdatedAt,
}

#[derive(DeriveIden)]
enum UserRoles {
    Table,
    UserId,
    RoleName,
    GrantedBy,
    GrantedAt,
}

#[derive(DeriveIden)]
enum Users {
    Table,
    Id,
    SuspendedUntil,
    SuspendReason,
    DeactivatedAt,
    DeactivateReason,
    MutedUntil,
    MuteReason,
    ShadowbannedAt,
    ShadowbanReason,
}

#[derive(DeriveIden)]
enum Messages {
    Table,
    Shadowed,
}

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        let statements = match manager.get_database_backend() {
            DbBackend::Sqlite => sqlite_sessions(),
            DbBackend::Postgres => postgres_sessions(),
            other => {
                return Err(DbErr::Migration(format!("unsupported backend {other:?}")));
            }
        };
        for sql in statements {
            manager.get_connection().execute_unprepared(&sql).await?;
        }
        manager
            .create_table(
                Table::create()
                    .table(Roles::Table)
                    .col(
                        ColumnDef::new(Roles::Name)
                            .string_len(32)
                            .not_null()
                            .primary_key(),
                    )
                    .col(ColumnDef::new(Roles::Description).string_len(200).null())
                    .col(ColumnDef::new(Roles::Permissions).text().not_null())
                    .col(
                        ColumnDef::new(Roles::CreatedAt)
                            .timestamp_with_time_zone()
                            .not_null(),
                    )
                    .col(
                        ColumnDef::new(Roles::UpdatedAt)
                            .timestamp_with_time_zone()
                            .not_null(),
                    )
                    .to_owned(),
            )
            .await?;
        manager
            .create_table(
                Table::create()
                    .table(UserRoles::Table)
                    .col(ColumnDef::new(UserRoles::UserId).uuid().not_null())
                    .col(
                        ColumnDef::new(UserRoles::RoleName)
                            .string_len(32)
                            .not_null(),
                    )
                    .col(ColumnDef::new(UserRoles::GrantedBy).uuid().null())
                    .col(
                        ColumnDef::new(UserRoles::GrantedAt)
                            .timestamp_with_time_zone()
                            .not_null(),
                    )
                    .primary_key(
                        Index::create()
                            .col(UserRoles::UserId)
                            .col(UserRoles::RoleName),
                    )
                    .foreign_key(
                        ForeignKey::create()
                            .from(UserRoles::Table, UserRoles::UserId)
                            .to(Users::Table, Users::Id)
                            .on_delete(ForeignKeyAction::Cascade),
                    )
                    .foreign_key(
                        ForeignKey::create()
                            .from(UserRoles::Table, UserRoles::RoleName)
                            .to(Roles::Table, Roles::Name)
                            .on_delete(ForeignKeyAction::Cascade)
                            .on_update(ForeignKeyAction::Cascade),
                    )
                    .to_owned(),
            )
            .await?;
        manager
            .create_index(
                Index::create()
                    .name("idx_user_roles_role")
                    .table(UserRoles::Table)
                    .col(UserRoles::RoleName)
                    .to_owned(),
            )
            .await?;
        let time = |c: Users| {
            ColumnDef::new(c)
                .timestamp_with_time_zone()
                .null()
                .to_owned()
        };
        let reason = |c: Users| ColumnDef::new(c).string_len(2000).null().to_owned();
        for column in [
            time(Users::SuspendedUntil),
            reason(Users::SuspendReason),
            time(Users::DeactivatedAt),
            reason(Users::DeactivateReason),
            time(Users::MutedUntil),
            reason(Users::MuteReason),
            time(Users::ShadowbannedAt),
            reason(Users::ShadowbanReason),
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
        manager
            .alter_table(
                Table::alter()
                    .table(Messages::Table)
                    .add_column(
                        ColumnDef::new(Messages::Shadowed)
                            .boolean()
                            .not_null()
                            .default(false),
                    )
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
