//! Typed domain: CHECK constraints on every kind/state/role column, server roles in the database
//! (`users.role` replaces `users.is_admin`), soft account deletion (`users.deleted_at`), messages
//! that outlive their sender (`messages.sender_id` no longer cascades), and the append-only
//! `audit_log`.
//!
//! SQLite cannot add a CHECK constraint or change a foreign key with ALTER TABLE, so on SQLite the
//! three tables are rebuilt (create new, copy, drop old, rename: the procedure of
//! <https://sqlite.org/lang_altertable.html#otheralter>). The server runs migrations with
//! `PRAGMA foreign_keys = OFF` and checks `PRAGMA foreign_key_check` before COMMIT (see the
//! server's `store::Db::migrate`), so dropping the old `conversations` cascades nothing.
//! PostgreSQL adds the constraints in place.

use sea_orm_migration::prelude::*;
use sea_orm_migration::sea_orm::{ConnectionTrait, DbBackend};

#[derive(DeriveMigrationName)]
pub struct Migration;

#[derive(DeriveIden)]
enum AuditLog {
    Table,
    Id,
    ActorId,
    Action,
    TargetType,
    TargetId,
    Details,
    Ip,
    CreatedAt,
}

const SQLITE: &[&str] = &[
    // users: server role and soft deletion.
    r#"ALTER TABLE "users" ADD COLUMN "role" varchar(16) NOT NULL DEFAULT 'member'
         CHECK ("role" IN ('admin', 'moderator', 'member'))"#,
    r#"UPDATE "users" SET "role" = 'admin' WHERE "is_admin""#,
    r#"ALTER TABLE "users" DROP COLUMN "is_admin""#,
    r#"ALTER TABLE "users" ADD COLUMN "deleted_at" timestamp_with_timezone_text NULL"#,
    // conversations: CHECK on kind and visibility.
    r#"CREATE TABLE "conversations_new" (
         "id" uuid_text NOT NULL PRIMARY KEY,
         "kind" varchar(8) NOT NULL CHECK ("kind" IN ('room', 'group', 'dm')),
         "name" varchar(64) NULL,
         "name_key" varchar(64) NULL UNIQUE,
         "topic" varchar(512) NULL,
         "visibility" varchar(8) NOT NULL CHECK ("visibility" IN ('public', 'private')),
         "category" varchar(64) NULL,
         "official" boolean NOT NULL,
         "auto_join" boolean NOT NULL,
         "dm_key" varchar(80) NULL UNIQUE,
         "created_by" uuid_text NULL,
         "created_at" timestamp_with_timezone_text NOT NULL,
         "last_seq" integer NOT NULL
       )"#,
    r#"INSERT INTO "conversations_new" SELECT "id", "kind", "name", "name_key", "topic",
         "visibility", "category", "official", "auto_join", "dm_key", "created_by", "created_at",
         "last_seq" FROM "conversations""#,
    r#"DROP TABLE "conversations""#,
    r#"ALTER TABLE "conversations_new" RENAME TO "conversations""#,
    // conversation_members: CHECK on state and role.
    r#"CREATE TABLE "conversation_members_new" (
         "conversation_id" uuid_text NOT NULL,
         "user_id" uuid_text NOT NULL,
         "role" varchar(16) NOT NULL CHECK ("role" IN ('owner', 'moderator', 'member')),
         "state" varchar(16) NOT NULL CHECK ("state" IN ('invited', 'joined', 'left', 'banned')),
         "last_read_seq" integer NOT NULL,
         "updated_at" timestamp_with_timezone_text NOT NULL,
         PRIMARY KEY ("conversation_id", "user_id"),
         FOREIGN KEY ("conversation_id") REFERENCES "conversations" ("id") ON DELETE CASCADE,
         FOREIGN KEY ("user_id") REFERENCES "users" ("id") ON DELETE CASCADE
       )"#,
    r#"INSERT INTO "conversation_members_new" SELECT "conversation_id", "user_id", "role",
         "state", "last_read_seq", "updated_at" FROM "conversation_members""#,
    r#"DROP TABLE "conversation_members""#,
    r#"ALTER TABLE "conversation_members_new" RENAME TO "conversation_members""#,
    r#"CREATE INDEX "idx_conversation_members_user" ON "conversation_members" ("user_id")"#,
    // messages: the sender's account row can never take its messages with it.
    r#"CREATE TABLE "messages_new" (
         "id" uuid_text NOT NULL PRIMARY KEY,
         "conversation_id" uuid_text NOT NULL,
         "seq" integer NOT NULL,
         "sender_id" uuid_text NOT NULL,
         "body" text NOT NULL,
         "client_id" varchar(64) NULL,
         "created_at" timestamp_with_timezone_text NOT NULL,
         "edited_at" timestamp_with_timezone_text NULL,
         "deleted_at" timestamp_with_timezone_text NULL,
         FOREIGN KEY ("conversation_id") REFERENCES "conversations" ("id") ON DELETE CASCADE,
         FOREIGN KEY ("sender_id") REFERENCES "users" ("id") ON DELETE RESTRICT
       )"#,
    r#"INSERT INTO "messages_new" SELECT "id", "conversation_id", "seq", "sender_id", "body",
         "client_id", "created_at", "edited_at", "deleted_at" FROM "messages""#,
    r#"DROP TABLE "messages""#,
    r#"ALTER TABLE "messages_new" RENAME TO "messages""#,
    r#"CREATE UNIQUE INDEX "uq_messages_conversation_seq" ON "messages" ("conversation_id", "seq")"#,
    r#"CREATE UNIQUE INDEX "uq_messages_sender_client_id" ON "messages" ("sender_id", "client_id")"#,
];

const POSTGRES: &[&str] = &[
    r#"ALTER TABLE "users" ADD COLUMN "role" varchar(16) NOT NULL DEFAULT 'member'"#,
    r#"ALTER TABLE "users" ADD CONSTRAINT "ck_users_role"
         CHECK ("role" IN ('admin', 'moderator', 'member'))"#,
    r#"UPDATE "users" SET "role" = 'admin' WHERE "is_admin""#,
    r#"ALTER TABLE "users" DROP COLUMN "is_admin""#,
    r#"ALTER TABLE "users" ADD COLUMN "deleted_at" timestamp with time zone NULL"#,
    r#"ALTER TABLE "conversations" ADD CONSTRAINT "ck_conversations_kind"
         CHECK ("kind" IN ('room', 'group', 'dm'))"#,
    r#"ALTER TABLE "conversations" ADD CONSTRAINT "ck_conversations_visibility"
         CHECK ("visibility" IN ('public', 'private'))"#,
    r#"ALTER TABLE "conversation_members" ALTER COLUMN "role" TYPE varchar(16)"#,
    r#"ALTER TABLE "conversation_members" ALTER COLUMN "state" TYPE varchar(16)"#,
    r#"ALTER TABLE "conversation_members" ADD CONSTRAINT "ck_conversation_members_role"
         CHECK ("role" IN ('owner', 'moderator', 'member'))"#,
    r#"ALTER TABLE "conversation_members" ADD CONSTRAINT "ck_conversation_members_state"
         CHECK ("state" IN ('invited', 'joined', 'left', 'banned'))"#,
    r#"ALTER TABLE "messages" DROP CONSTRAINT "messages_sender_id_fkey""#,
    r#"ALTER TABLE "messages" ADD CONSTRAINT "messages_sender_id_fkey"
         FOREIGN KEY ("sender_id") REFERENCES "users" ("id") ON DELETE RESTRICT"#,
];

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        let db = manager.get_connection();
        let statements = match manager.get_database_backend() {
            DbBackend::Sqlite => SQLITE,
            DbBackend::Postgres => POSTGRES,
            other => {
                return Err(DbErr::Migration(format!("unsupported backend {other:?}")));
            }
        };
        for sql in statements {
            db.execute_unprepared(sql).await?;
        }
        manager
            .create_table(
                Table::create()
                    .table(AuditLog::Table)
                    .col(ColumnDef::new(AuditLog::Id).uuid().not_null().primary_key())
                    .col(ColumnDef::new(AuditLog::ActorId).uuid().null())
                    .col(ColumnDef::new(AuditLog::Action).string_len(64).not_null())
                    .col(ColumnDef::new(AuditLog::TargetType).string_len(16).null())
                    .col(ColumnDef::new(AuditLog::TargetId).string_len(64).null())
                    .col(ColumnDef::new(AuditLog::Details).json().not_null())
                    .col(ColumnDef::new(AuditLog::Ip).string_len(64).null())
                    .col(
                        ColumnDef::new(AuditLog::CreatedAt)
                            .timestamp_with_time_zone()
                            .not_null(),
                    )
                    .to_owned(),
            )
            .await?;
        for (name, col) in [
            ("idx_audit_log_actor", AuditLog::ActorId),
            ("idx_audit_log_action", AuditLog::Action),
            ("idx_audit_log_target", AuditLog::TargetId),
        ] {
            manager
                .create_index(
                    Index::create()
                        .name(name)
                        .table(AuditLog::Table)
                        .col(col)
                        .col(AuditLog::Id)
                        .to_owned(),
                )
                .await?;
        }
        Ok(())
    }

    async fn down(&self, _manager: &SchemaManager) -> Result<(), DbErr> {
        Err(DbErr::Migration(
            "m20261201_000006_typed_domain cannot be reverted: restore a backup instead".into(),
        ))
    }
}
