//! Full-text search benchmark (not a test): fills a fresh SQLite file and a fresh PostgreSQL
//! database with synthetic chat history, then times searches through the one store function
//! (`echochat::store::search::search`) the route uses.
//!
//! Data: SEARCH_MESSAGES (1,000,000) messages over SEARCH_CONVERSATIONS (200) rooms and
//! SEARCH_USERS (1,000) users, ~50 members per room; room sizes follow 1/(rank+10) (a few busy
//! rooms, a long tail). Bodies are 1–25 words drawn from a 20,000-word vocabulary with a Zipf
//! distribution (s = 1): the 100 most common English words first, then made-up words, so a
//! "common" word is in ~5 % of messages and a "rare" one in a few dozen. Rows are inserted in
//! time order (one message every 30 s, ids UUIDv7 of that time), 1,000 rows per INSERT and
//! 50,000 per transaction, through the migrated schema (so the FTS5 triggers and the
//! PostgreSQL generated column do their work during the load, as in production).
//!
//! Searches: the searcher is a member of 20 rooms (every 10th by size: ~10 % of the messages).
//! SEARCH_QUERIES (40) per kind: a common word, a medium word, a rare word, two words (common +
//! medium), a common word in one conversation (`conversation_id` filter), a 3-letter prefix
//! (type-ahead), each with the default page of 20; after 20 warm-up searches.
//!
//! ```text
//! cargo run --release --example search_bench
//! SEARCH_PG_URL=postgres://postgres@127.0.0.1:5432/postgres   # the server; default shown
//! SEARCH_ONLY=sqlite|postgres                                   # one engine only
//! SEARCH_KEEP=1                                                 # reuse a filled database
//! SEARCH_DROP=1                                                 # drop the PostgreSQL one at the end
//! ```
//! The SQLite file is `$TMPDIR/echochat_search_bench/echochat.db`; the PostgreSQL database
//! `echochat_search_bench` is dropped and created again (unless SEARCH_KEEP=1).
#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::print_stdout,
    clippy::needless_range_loop,
    clippy::type_complexity
)]

use std::time::{Duration, Instant};

use chrono::{DateTime, TimeZone, Utc};
use echochat::{
    config::Config,
    domain::{ConversationId, SearchTerms, UserId},
    store::{
        Db,
        search::{SearchQuery, search},
    },
};
use rand::{Rng, SeedableRng, rngs::StdRng};
use sea_orm::{ConnectionTrait, DbBackend, Statement, TransactionTrait, Value};
use uuid::Uuid;

const COMMON: &[&str] = &[
    "the", "be", "to", "of", "and", "a", "in", "that", "have", "i", "it", "for", "not", "on",
    "with", "he", "as", "you", "do", "at", "this", "but", "his", "by", "from", "they", "we", "say",
    "her", "she", "or", "an", "will", "my", "one", "all", "would", "there", "their", "what", "so",
    "up", "out", "if", "about", "who", "get", "which", "go", "me", "when", "make", "can", "like",
    "time", "no", "just", "him", "know", "take", "people", "into", "year", "your", "good", "some",
    "could", "them", "see", "other", "than", "then", "now", "look", "only", "come", "its", "over",
    "think", "also", "back", "after", "use", "two", "how", "our", "work", "first", "well", "way",
    "even", "new", "want", "because", "any", "these", "give", "day", "most", "us",
];

const VOCABULARY: usize = 20_000;
const BATCH_ROWS: usize = 1_000;
const ROWS_PER_TX: usize = 50_000;

fn env(name: &str, default: usize) -> usize {
    std::env::var(name)
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(default)
}

/// The vocabulary: common English words, then pronounceable made-up words.
fn vocabulary(rng: &mut StdRng) -> Vec<String> {
    const ONSETS: &[&str] = &[
        "b", "c", "d", "f", "g", "h", "j", "k", "l", "m", "n", "p", "r", "s", "t", "v", "w", "z",
        "br", "ch", "cr", "dr", "fl", "gr", "pl", "sh", "sp", "st", "th", "tr",
    ];
    const VOWELS: &[&str] = &["a", "e", "i", "o", "u", "ai", "ea", "ou", "io"];
    const CODAS: &[&str] = &["", "", "n", "r", "s", "t", "l", "m", "nd", "st", "ck", "ng"];
    let mut words: Vec<String> = COMMON.iter().map(|w| (*w).to_owned()).collect();
    let mut seen: std::collections::HashSet<String> = words.iter().cloned().collect();
    while words.len() < VOCABULARY {
        let syllables = rng.random_range(2..=3);
        let mut w = String::new();
        for _ in 0..syllables {
            w.push_str(ONSETS[rng.random_range(0..ONSETS.len())]);
            w.push_str(VOWELS[rng.random_range(0..VOWELS.len())]);
        }
        w.push_str(CODAS[rng.random_range(0..CODAS.len())]);
        if seen.insert(w.clone()) {
            words.push(w);
        }
    }
    words
}

/// Cumulative weights for sampling `n` items with weight `1 / (rank + offset)^s`.
fn cumulative(n: usize, offset: f64, s: f64) -> Vec<f64> {
    let mut acc = 0.0;
    (0..n)
        .map(|r| {
            acc += 1.0 / (r as f64 + offset).powf(s);
            acc
        })
        .collect()
}

fn sample(cdf: &[f64], rng: &mut StdRng) -> usize {
    let x = rng.random::<f64>() * cdf[cdf.len() - 1];
    cdf.partition_point(|c| *c < x).min(cdf.len() - 1)
}

/// A multi-row INSERT with the backend's placeholders.
fn insert_sql(backend: DbBackend, table: &str, columns: &[&str], rows: usize) -> String {
    let mut sql = format!(
        "INSERT INTO \"{table}\" ({}) VALUES ",
        columns
            .iter()
            .map(|c| format!("\"{c}\""))
            .collect::<Vec<_>>()
            .join(", ")
    );
    let mut n = 0;
    for r in 0..rows {
        if r > 0 {
            sql.push_str(", ");
        }
        sql.push('(');
        for c in 0..columns.len() {
            if c > 0 {
                sql.push_str(", ");
            }
            n += 1;
            match backend {
                DbBackend::Postgres => sql.push_str(&format!("${n}")),
                _ => sql.push('?'),
            }
        }
        sql.push(')');
    }
    sql
}

async fn insert_rows(
    db: &impl ConnectionTrait,
    table: &str,
    columns: &[&str],
    rows: Vec<Vec<Value>>,
) {
    let backend = db.get_database_backend();
    for chunk in rows.chunks(BATCH_ROWS) {
        let sql = insert_sql(backend, table, columns, chunk.len());
        let values: Vec<Value> = chunk.iter().flatten().cloned().collect();
        db.execute_raw(Statement::from_sql_and_values(backend, sql, values))
            .await
            .unwrap_or_else(|e| panic!("insert into {table}: {e}"));
    }
}

struct World {
    users: Vec<Uuid>,
    conversations: Vec<Uuid>,
    members: Vec<Vec<usize>>, // per conversation, user indexes
    searcher_rooms: Vec<usize>,
    words: Vec<String>,
}

async fn fill(db: &Db, rng: &mut StdRng, messages: usize, rooms: usize, users: usize) -> World {
    let conn = &db.write;
    let start: DateTime<Utc> = Utc.with_ymd_and_hms(2025, 1, 1, 0, 0, 0).unwrap();
    let words = vocabulary(rng);
    let user_ids: Vec<Uuid> = (0..users).map(|_| Uuid::now_v7()).collect();
    let conv_ids: Vec<Uuid> = (0..rooms).map(|_| Uuid::now_v7()).collect();
    let t = Instant::now();
    let txn = conn.begin().await.unwrap();
    let user_rows = user_ids
        .iter()
        .enumerate()
        .map(|(i, id)| {
            vec![
                Value::from(*id),
                Value::from(format!("bench{i:04}")),
                Value::from(format!("Bench {i}")),
                Value::from("!disabled"),
                Value::from("member"),
                Value::from(start),
                Value::from("online"),
            ]
        })
        .collect();
    insert_rows(
        &txn,
        "users",
        &[
            "id",
            "username",
            "display_name",
            "password_hash",
            "role",
            "created_at",
            "presence",
        ],
        user_rows,
    )
    .await;
    let conv_rows = conv_ids
        .iter()
        .enumerate()
        .map(|(i, id)| {
            vec![
                Value::from(*id),
                Value::from("room"),
                Value::from(format!("Bench room {i}")),
                Value::from(format!("bench room {i}")),
                Value::from("public"),
                Value::from(false),
                Value::from(false),
                Value::from(start),
                Value::from(0i64),
                Value::from(false),
                Value::from(false),
                Value::from(0i32),
                Value::from(0i64),
            ]
        })
        .collect();
    insert_rows(
        &txn,
        "conversations",
        &[
            "id",
            "kind",
            "name",
            "name_key",
            "visibility",
            "official",
            "auto_join",
            "created_at",
            "last_seq",
            "locked",
            "read_only",
            "slowmode_secs",
            "cleared_seq",
        ],
        conv_rows,
    )
    .await;
    // ~50 members per room; the searcher (user 0) is in every 10th room by size.
    let searcher_rooms: Vec<usize> = (0..rooms).step_by(10).take(20).collect();
    let mut members: Vec<Vec<usize>> = Vec::with_capacity(rooms);
    let mut member_rows = Vec::new();
    for c in 0..rooms {
        let mut set = std::collections::BTreeSet::new();
        while set.len() < 50.min(users - 1) {
            set.insert(rng.random_range(1..users));
        }
        if searcher_rooms.contains(&c) {
            set.insert(0);
        }
        for u in &set {
            member_rows.push(vec![
                Value::from(conv_ids[c]),
                Value::from(user_ids[*u]),
                Value::from("member"),
                Value::from("joined"),
                Value::from(0i64),
                Value::from(start),
            ]);
        }
        members.push(set.into_iter().collect());
    }
    insert_rows(
        &txn,
        "conversation_members",
        &[
            "conversation_id",
            "user_id",
            "role",
            "state",
            "last_read_seq",
            "updated_at",
        ],
        member_rows,
    )
    .await;
    txn.commit().await.unwrap();

    let word_cdf = cumulative(words.len(), 1.0, 1.0);
    let room_cdf = cumulative(rooms, 10.0, 1.0);
    let mut last_seq = vec![0i64; rooms];
    let mut done = 0;
    while done < messages {
        let txn = conn.begin().await.unwrap();
        let n = ROWS_PER_TX.min(messages - done);
        let mut rows = Vec::with_capacity(n);
        for i in done..done + n {
            let c = sample(&room_cdf, rng);
            last_seq[c] += 1;
            let sender = members[c][rng.random_range(0..members[c].len())];
            let len = 1 + (rng.random::<f64>().powi(2) * 25.0) as usize;
            let body = (0..len)
                .map(|_| words[sample(&word_cdf, rng)].as_str())
                .collect::<Vec<_>>()
                .join(" ");
            let at = start + chrono::Duration::seconds(30 * i as i64);
            let ts = uuid::Timestamp::from_unix(
                uuid::NoContext,
                at.timestamp() as u64,
                at.timestamp_subsec_nanos(),
            );
            rows.push(vec![
                Value::from(Uuid::new_v7(ts)),
                Value::from(conv_ids[c]),
                Value::from(last_seq[c]),
                Value::from(user_ids[sender]),
                Value::from(body),
                Value::from(at),
                Value::from(false),
            ]);
        }
        insert_rows(
            &txn,
            "messages",
            &[
                "id",
                "conversation_id",
                "seq",
                "sender_id",
                "body",
                "created_at",
                "shadowed",
            ],
            rows,
        )
        .await;
        txn.commit().await.unwrap();
        done += n;
        if done % 200_000 == 0 || done == messages {
            println!("  {done} messages ({:.0} s)", t.elapsed().as_secs_f64());
        }
    }
    let backend = conn.get_database_backend();
    for (c, seq) in last_seq.iter().enumerate() {
        let sql = match backend {
            DbBackend::Postgres => "UPDATE conversations SET last_seq = $1 WHERE id = $2",
            _ => "UPDATE conversations SET last_seq = ? WHERE id = ?",
        };
        conn.execute_raw(Statement::from_sql_and_values(
            backend,
            sql,
            [Value::from(*seq), Value::from(conv_ids[c])],
        ))
        .await
        .unwrap();
    }
    conn.execute_unprepared("ANALYZE").await.unwrap();
    println!(
        "  filled in {:.0} s ({} messages/s)",
        t.elapsed().as_secs_f64(),
        (messages as f64 / t.elapsed().as_secs_f64()) as u64
    );
    World {
        users: user_ids,
        conversations: conv_ids,
        members,
        searcher_rooms,
        words,
    }
}

/// Reads back what `fill` made (SEARCH_KEEP=1): the users and rooms in creation order.
async fn load(db: &Db, rng: &mut StdRng) -> World {
    let conn = &db.read;
    let backend = conn.get_database_backend();
    let ids = |sql: &'static str| async move {
        conn.query_all_raw(Statement::from_string(backend, sql))
            .await
            .unwrap()
            .iter()
            .map(|r| r.try_get::<Uuid>("", "id").unwrap())
            .collect::<Vec<Uuid>>()
    };
    let users = ids("SELECT id FROM users WHERE username LIKE 'bench%' ORDER BY username").await;
    let conversations = ids(
        "SELECT id FROM conversations WHERE name LIKE 'Bench room %' ORDER BY CAST(SUBSTR(name, 12) AS INTEGER)",
    )
    .await;
    let searcher_rooms: Vec<usize> = (0..conversations.len()).step_by(10).take(20).collect();
    World {
        users,
        members: vec![Vec::new(); conversations.len()],
        conversations,
        searcher_rooms,
        words: vocabulary(rng),
    }
}

fn percentile(sorted: &[Duration], p: f64) -> f64 {
    if sorted.is_empty() {
        return 0.0;
    }
    let i = ((sorted.len() as f64 - 1.0) * p).round() as usize;
    sorted[i].as_secs_f64() * 1000.0
}

async fn run_searches(db: &Db, world: &World, rng: &mut StdRng, per_kind: usize) {
    let me = UserId(world.users[0]);
    let pick =
        |rng: &mut StdRng, lo: usize, hi: usize| world.words[rng.random_range(lo..hi)].clone();
    let mut kinds: Vec<(&str, Vec<(String, Option<ConversationId>)>)> = vec![
        ("common word", Vec::new()),
        ("medium word", Vec::new()),
        ("rare word", Vec::new()),
        ("two words", Vec::new()),
        ("common word + conversation", Vec::new()),
        ("3-letter prefix", Vec::new()),
    ];
    for _ in 0..per_kind {
        kinds[0].1.push((pick(rng, 0, 20), None));
        kinds[1].1.push((pick(rng, 100, 500), None));
        kinds[2].1.push((pick(rng, 5_000, 15_000), None));
        kinds[3].1.push((
            format!("{} {}", pick(rng, 0, 20), pick(rng, 100, 500)),
            None,
        ));
        let room = world.searcher_rooms[rng.random_range(0..world.searcher_rooms.len())];
        kinds[4].1.push((
            pick(rng, 0, 20),
            Some(ConversationId(world.conversations[room])),
        ));
        let w = pick(rng, 100, 2_000);
        kinds[5].1.push((w.chars().take(3).collect(), None));
    }
    let once = |q: String, conversation: Option<ConversationId>| async move {
        let terms = SearchTerms::parse(&q).unwrap();
        let query = SearchQuery {
            viewer: me,
            terms: &terms,
            conversation,
            sender: None,
            from: None,
            to: None,
            after: None,
            limit: 20,
        };
        let t = Instant::now();
        let page = search(&db.read, &query).await.unwrap();
        (t.elapsed(), page.rows.len())
    };
    for _ in 0..20 {
        once(pick(rng, 0, 2_000), None).await;
    }
    let mut all = Vec::new();
    println!(
        "  {:<28} {:>5} {:>9} {:>9} {:>9} {:>9} {:>7}",
        "kind", "n", "p50 ms", "p95 ms", "p99 ms", "max ms", "hits"
    );
    for (name, queries) in kinds {
        let mut times = Vec::new();
        let mut hits = 0;
        for (q, conversation) in queries {
            let (d, n) = once(q, conversation).await;
            times.push(d);
            hits += n;
        }
        times.sort();
        println!(
            "  {:<28} {:>5} {:>9.2} {:>9.2} {:>9.2} {:>9.2} {:>7.1}",
            name,
            times.len(),
            percentile(&times, 0.5),
            percentile(&times, 0.95),
            percentile(&times, 0.99),
            percentile(&times, 1.0),
            hits as f64 / times.len() as f64
        );
        all.extend(times);
    }
    all.sort();
    println!(
        "  {:<28} {:>5} {:>9.2} {:>9.2} {:>9.2} {:>9.2}",
        "ALL",
        all.len(),
        percentile(&all, 0.5),
        percentile(&all, 0.95),
        percentile(&all, 0.99),
        percentile(&all, 1.0)
    );
}

async fn bench(name: &str, config: Config, keep: bool) {
    let messages = env("SEARCH_MESSAGES", 1_000_000);
    let rooms = env("SEARCH_CONVERSATIONS", 200);
    let users = env("SEARCH_USERS", 1_000);
    let per_kind = env("SEARCH_QUERIES", 40);
    let mut rng = StdRng::seed_from_u64(9);
    println!("== {name}");
    let db = Db::connect(&config).await.expect("connect");
    db.migrate().await.expect("migrate");
    let world = if keep {
        load(&db, &mut rng).await
    } else {
        println!("  filling: {messages} messages, {rooms} rooms, {users} users");
        fill(&db, &mut rng, messages, rooms, users).await
    };
    if db.backend == echochat::store::Backend::Sqlite {
        let plan = db
            .read
            .query_all_raw(Statement::from_string(
                DbBackend::Sqlite,
                "EXPLAIN QUERY PLAN SELECT m.id FROM messages_fts \
                 CROSS JOIN messages m ON m.rowid = messages_fts.rowid \
                 CROSS JOIN conversation_members cm ON cm.conversation_id = m.conversation_id \
                 CROSS JOIN conversations c ON c.id = m.conversation_id \
                 WHERE messages_fts MATCH '\"the\"' AND cm.user_id = x'00' \
                 ORDER BY messages_fts.rowid DESC LIMIT 21",
            ))
            .await
            .unwrap();
        for row in plan {
            let detail: String = row.try_get("", "detail").unwrap();
            println!("  plan: {detail}");
        }
    }
    let _ = &world.members;
    run_searches(&db, &world, &mut rng, per_kind).await;
    db.close().await;
}

#[tokio::main]
async fn main() {
    echochat::install_crypto_provider();
    let only = std::env::var("SEARCH_ONLY").unwrap_or_default();
    let keep = std::env::var("SEARCH_KEEP").is_ok_and(|v| v == "1");
    println!(
        "search_bench: {} CPUs, release={}",
        std::thread::available_parallelism().map_or(0, |n| n.get()),
        !cfg!(debug_assertions)
    );
    if only.is_empty() || only == "sqlite" {
        let dir = std::env::temp_dir().join("echochat_search_bench");
        if !keep {
            let _ = std::fs::remove_dir_all(&dir);
        }
        std::fs::create_dir_all(&dir).unwrap();
        let config = Config {
            data_dir: dir.clone(),
            ..Config::default()
        };
        bench("SQLite", config, keep).await;
        let size = std::fs::metadata(dir.join("echochat.db")).map_or(0, |m| m.len());
        println!("  database file: {:.0} MB", size as f64 / 1e6);
    }
    if only.is_empty() || only == "postgres" {
        let admin_url = std::env::var("SEARCH_PG_URL")
            .unwrap_or_else(|_| "postgres://postgres@127.0.0.1:5432/postgres".to_owned());
        let name = "echochat_search_bench";
        if !keep {
            let admin = sea_orm::Database::connect(&admin_url)
                .await
                .expect("connect to PostgreSQL");
            admin
                .execute_unprepared(&format!("DROP DATABASE IF EXISTS {name} WITH (FORCE)"))
                .await
                .unwrap();
            admin
                .execute_unprepared(&format!("CREATE DATABASE {name}"))
                .await
                .unwrap();
            admin.close().await.ok();
        }
        let mut url = url::Url::parse(&admin_url).unwrap();
        url.set_path(&format!("/{name}"));
        let config = Config {
            database_url: Some(url.to_string()),
            ..Config::default()
        };
        bench("PostgreSQL", config, keep).await;
        let admin = sea_orm::Database::connect(&admin_url).await.unwrap();
        let row = admin
            .query_one_raw(Statement::from_string(
                DbBackend::Postgres,
                format!("SELECT pg_database_size('{name}')::bigint AS n"),
            ))
            .await
            .unwrap()
            .unwrap();
        let size: i64 = row.try_get("", "n").unwrap();
        println!("  database size: {:.0} MB", size as f64 / 1e6);
        if std::env::var("SEARCH_DROP").is_ok_and(|v| v == "1") {
            admin
                .execute_unprepared(&format!("DROP DATABASE IF EXISTS {name} WITH (FORCE)"))
                .await
                .unwrap();
        }
        admin.close().await.ok();
    }
}
