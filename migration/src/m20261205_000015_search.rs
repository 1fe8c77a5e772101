//! Full-text search over `messages.body` (issue 9).
//!
//! - **SQLite**: `messages_fts`, an external-content FTS5 table over `messages.body` keyed by
//!   the message row's `rowid` (`messages` is an ordinary rowid table: its UUID primary key is
//!   not an `INTEGER PRIMARY KEY`). Tokenizer `unicode61 remove_diacritics 2`: case and
//!   diacritics are folded ("Café" is found by "cafe"). Three triggers keep it in step with
//!   every insert, body change (edit, and the soft delete that empties the body) and row
//!   delete; the existing rows are indexed once (`rebuild`).
//!   A later migration that rebuilds `messages` (create, copy, drop, rename) drops these
//!   triggers and changes rowids: it must create them again and `rebuild` the index. So must an
//!   operator after `VACUUM` (which may renumber the rowids of such a table):
//!   `INSERT INTO messages_fts(messages_fts) VALUES ('rebuild')`.
//! - **PostgreSQL**: `messages.body_tsv`, a stored generated `tsvector` column with a GIN
//!   index, so edits and deletes update it by construction. The text search configuration
//!   `echochat_search` is a copy of `simple` (no stemming, no stop words: language-neutral, a
//!   chat server's messages are in every language), with the `unaccent` dictionary in front when
//!   that extension can be installed (then diacritics are folded as on SQLite). `<` and `>` are
//!   read as spaces, so text that looks like markup is indexed as words (as FTS5 does). The
//!   entity does not list the column: sea-orm never writes or reads it.

use sea_orm_migration::{prelude::*, sea_orm::DatabaseBackend};

#[derive(DeriveMigrationName)]
pub struct Migration;

const SQLITE_UP: &[&str] = &[
    r#"CREATE VIRTUAL TABLE "messages_fts" USING fts5(
         "body",
         content = 'messages',
         tokenize = 'unicode61 remove_diacritics 2'
       )"#,
    r#"CREATE TRIGGER "messages_fts_insert" AFTER INSERT ON "messages" BEGIN
         INSERT INTO "messages_fts" ("rowid", "body") VALUES (new."rowid", new."body");
       END"#,
    r#"CREATE TRIGGER "messages_fts_update" AFTER UPDATE OF "body" ON "messages" BEGIN
         INSERT INTO "messages_fts" ("messages_fts", "rowid", "body")
           VALUES ('delete', old."rowid", old."body");
         INSERT INTO "messages_fts" ("rowid", "body") VALUES (new."rowid", new."body");
       END"#,
    r#"CREATE TRIGGER "messages_fts_delete" AFTER DELETE ON "messages" BEGIN
         INSERT INTO "messages_fts" ("messages_fts", "rowid", "body")
           VALUES ('delete', old."rowid", old."body");
       END"#,
    r#"INSERT INTO "messages_fts" ("messages_fts") VALUES ('rebuild')"#,
];

const SQLITE_DOWN: &[&str] = &[
    r#"DROP TRIGGER IF EXISTS "messages_fts_insert""#,
    r#"DROP TRIGGER IF EXISTS "messages_fts_update""#,
    r#"DROP TRIGGER IF EXISTS "messages_fts_delete""#,
    r#"DROP TABLE IF EXISTS "messages_fts""#,
];

const POSTGRES_UP: &[&str] = &[
    // unaccent is a trusted extension (PostgreSQL 13+: a database owner may install it); when it
    // is missing or may not be installed, the search is simply diacritic-sensitive. The inner
    // block is a subtransaction, so a refusal does not abort the migration's transaction.
    r#"DO $$
       BEGIN
         IF EXISTS (SELECT 1 FROM pg_available_extensions WHERE name = 'unaccent') THEN
           BEGIN
             CREATE EXTENSION IF NOT EXISTS unaccent;
           EXCEPTION WHEN OTHERS THEN
             RAISE NOTICE 'unaccent not installed: search is diacritic-sensitive';
           END;
         END IF;
       END $$"#,
    r#"CREATE TEXT SEARCH CONFIGURATION echochat_search (COPY = pg_catalog.simple)"#,
    r#"DO $$
       BEGIN
         IF EXISTS (SELECT 1 FROM pg_extension WHERE extname = 'unaccent') THEN
           ALTER TEXT SEARCH CONFIGURATION echochat_search
             ALTER MAPPING FOR asciiword, word, numword, asciihword, hword, numhword,
                               hword_asciipart, hword_part, hword_numpart
             WITH unaccent, simple;
         END IF;
       END $$"#,
    // `<` and `>` become spaces first: PostgreSQL's parser would otherwise take `<b>` or
    // `<script>` for markup and leave the words inside out of the index (FTS5 indexes them).
    r#"ALTER TABLE "messages" ADD COLUMN "body_tsv" tsvector
         GENERATED ALWAYS AS (to_tsvector('echochat_search'::regconfig, translate("body", '<>', '  '))) STORED"#,
    r#"CREATE INDEX "ix_messages_body_tsv" ON "messages" USING GIN ("body_tsv")"#,
];

const POSTGRES_DOWN: &[&str] = &[
    r#"DROP INDEX IF EXISTS "ix_messages_body_tsv""#,
    r#"ALTER TABLE "messages" DROP COLUMN IF EXISTS "body_tsv""#,
    r#"DROP TEXT SEARCH CONFIGURATION IF EXISTS echochat_search"#,
];

async fn run(manager: &SchemaManager<'_>, statements: &[&str]) -> Result<(), DbErr> {
    let db = manager.get_connection();
    for sql in statements {
        db.execute_unprepared(sql).await?;
    }
    Ok(())
}

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        match manager.get_database_backend() {
            DatabaseBackend::Sqlite => run(manager, SQLITE_UP).await,
            DatabaseBackend::Postgres => run(manager, POSTGRES_UP).await,
            other => Err(DbErr::Migration(format!("unsupported backend {other:?}"))),
        }
    }

    async fn down(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        match manager.get_database_backend() {
            DatabaseBackend::Sqlite => run(manager, SQLITE_DOWN).await,
            DatabaseBackend::Postgres => run(manager, POSTGRES_DOWN).await,
            other => Err(DbErr::Migration(format!("unsupported backend {other:?}"))),
        }
    }
}
