//! Sessions you can list and end, durably; account recovery.
//!
//! - `sessions`: one row per login (the refresh-token family id is its id), with the device
//!   label, client address, last activity and, once ended, when and why. Access tokens name
//!   their session, and a token whose session has `ended_at` set is refused — also after a
//!   restart (before, the list of ended sessions lived only in memory). Existing refresh-token
//!   families become sessions (`Unknown device`; ended when any of their tokens was revoked).
//! - `users.email_key` (the lower-cased e-mail, unique: one account per address whatever its
//!   case), `users.email_verified_at`, `users.recovery_pin_hash` (Argon2id PHC string).
//!   Accounts that shared an address (any case) before keep it only on the oldest account.
//! - `user_tokens`: single-use tokens sent by e-mail (password reset, address verification),
//!   stored as SHA-256 hashes, with their expiry, use and wrong-PIN count.

use sea_orm_migration::prelude::*;

#[derive(DeriveMigrationName)]
pub struct Migration;

#[derive(DeriveIden)]
enum Sessions {
    Table,
    Id,
    UserId,
    Device,
    Ip,
    CreatedAt,
    LastActiveAt,
    EndedAt,
    EndReason,
}

#[derive(DeriveIden)]
enum UserTokens {
    Table,
    Id,
    UserId,
    Purpose,
    TokenHash,
    Email,
    CreatedAt,
    ExpiresAt,
    UsedAt,
    FailedAttempts,
}

#[derive(DeriveIden)]
enum Users {
    Table,
    Id,
    EmailKey,
    EmailVerifiedAt,
    RecoveryPinHash,
}

/// Runs on both engines (standard SQL, double-quoted identifiers).
const BACKFILL: &[&str] = &[
    // Older accounts that share an address (any case) with an older account lose it.
    r#"UPDATE "users" SET "email" = NULL WHERE "email" IS NOT NULL AND EXISTS (
         SELECT 1 FROM "users" AS "older" WHERE lower("older"."email") = lower("users"."email")
           AND ("older"."created_at" < "users"."created_at"
                OR ("older"."created_at" = "users"."created_at" AND "older"."id" < "users"."id")))"#,
    r#"UPDATE "users" SET "email_key" = lower("email") WHERE "email" IS NOT NULL"#,
    r#"INSERT INTO "sessions" ("id", "user_id", "device", "ip", "created_at", "last_active_at",
         "ended_at", "end_reason")
       SELECT "family_id", "user_id", 'Unknown device', NULL, MIN("created_at"), MAX("created_at"),
         CASE WHEN COUNT("revoked_at") > 0 THEN MAX("revoked_at") END,
         CASE WHEN COUNT("revoked_at") > 0 THEN 'logout' END
       FROM "refresh_tokens" GROUP BY "family_id", "user_id""#,
];

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .create_table(
                Table::create()
                    .table(Sessions::Table)
                    .col(ColumnDef::new(Sessions::Id).uuid().not_null().primary_key())
                    .col(ColumnDef::new(Sessions::UserId).uuid().not_null())
                    .col(ColumnDef::new(Sessions::Device).string_len(128).not_null())
                    .col(ColumnDef::new(Sessions::Ip).string_len(45).null())
                    .col(
                        ColumnDef::new(Sessions::CreatedAt)
                            .timestamp_with_time_zone()
                            .not_null(),
                    )
                    .col(
                        ColumnDef::new(Sessions::LastActiveAt)
                            .timestamp_with_time_zone()
                            .not_null(),
                    )
                    .col(
                        ColumnDef::new(Sessions::EndedAt)
                            .timestamp_with_time_zone()
                            .null(),
                    )
                    .col(
                        ColumnDef::new(Sessions::EndReason)
                            .string_len(32)
                            .null()
                            .check(Expr::col(Sessions::EndReason).is_in([
                                "logout",
                                "logged_out_elsewhere",
                                "idle",
                                "password_changed",
                                "password_reset",
                                "revoked_by_admin",
                                "token_reuse",
                                "account_deleted",
                            ])),
                    )
                    .foreign_key(
                        ForeignKey::create()
                            .from(Sessions::Table, Sessions::UserId)
                            .to(Users::Table, Users::Id)
                            .on_delete(ForeignKeyAction::Cascade),
                    )
                    .to_owned(),
            )
            .await?;
        manager
            .create_index(
                Index::create()
                    .name("idx_sessions_user")
                    .table(Sessions::Table)
                    .col(Sessions::UserId)
                    .to_owned(),
            )
            .await?;
        manager
            .create_index(
                Index::create()
                    .name("idx_sessions_live_activity")
                    .table(Sessions::Table)
                    .col(Sessions::EndedAt)
                    .col(Sessions::LastActiveAt)
                    .to_owned(),
            )
            .await?;

        for column in [
            ColumnDef::new(Users::EmailKey)
                .string_len(254)
                .null()
                .to_owned(),
            ColumnDef::new(Users::EmailVerifiedAt)
                .timestamp_with_time_zone()
                .null()
                .to_owned(),
            ColumnDef::new(Users::RecoveryPinHash)
                .string_len(255)
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

        manager
            .create_table(
                Table::create()
                    .table(UserTokens::Table)
                    .col(
                        ColumnDef::new(UserTokens::Id)
                            .uuid()
                            .not_null()
                            .primary_key(),
                    )
                    .col(ColumnDef::new(UserTokens::UserId).uuid().not_null())
                    .col(
                        ColumnDef::new(UserTokens::Purpose)
                            .string_len(16)
                            .not_null()
                            .check(
                                Expr::col(UserTokens::Purpose)
                                    .is_in(["password_reset", "email_verify"]),
                            ),
                    )
                    .col(
                        ColumnDef::new(UserTokens::TokenHash)
                            .string_len(64)
                            .not_null()
                            .unique_key(),
                    )
                    .col(ColumnDef::new(UserTokens::Email).string_len(254).null())
                    .col(
                        ColumnDef::new(UserTokens::CreatedAt)
                            .timestamp_with_time_zone()
                            .not_null(),
                    )
                    .col(
                        ColumnDef::new(UserTokens::ExpiresAt)
                            .timestamp_with_time_zone()
                            .not_null(),
                    )
                    .col(
                        ColumnDef::new(UserTokens::UsedAt)
                            .timestamp_with_time_zone()
                            .null(),
                    )
                    .col(
                        ColumnDef::new(UserTokens::FailedAttempts)
                            .integer()
                            .not_null()
                            .default(0),
                    )
                    .foreign_key(
                        ForeignKey::create()
                            .from(UserTokens::Table, UserTokens::UserId)
                            .to(Users::Table, Users::Id)
                            .on_delete(ForeignKeyAction::Cascade),
                    )
                    .to_owned(),
            )
            .await?;
        manager
            .create_index(
                Index::create()
                    .name("idx_user_tokens_user")
                    .table(UserTokens::Table)
                    .col(UserTokens::UserId)
                    .to_owned(),
            )
            .await?;

        let db = manager.get_connection();
        for sql in BACKFILL {
            db.execute_unprepared(sql).await?;
        }
        manager
            .create_index(
                Index::create()
                    .name("idx_users_email_key")
                    .table(Users::Table)
                    .col(Users::EmailKey)
                    .unique()
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
