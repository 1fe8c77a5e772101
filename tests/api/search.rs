//! Full-text search (`GET /search/messages`): words, prefixes and diacritics, filters, paging,
//! snippets, and above all that it never finds what the caller may not read (a conversation
//! left, kicked from or never joined, a cleared history, deleted and others' shadowed
//! messages). FTS operator syntax and huge queries are harmless.

use reqwest::Method;
use serde_json::{Value, json};
use std::collections::HashSet;

use crate::{
    both_backends, db_test,
    helpers::{Backend, TestApp, TestUser, spawn_ready_app_with},
};

/// `GET /search/messages` with these query pairs: (status, body).
async fn search_with(app: &TestApp, user: &TestUser, params: &[(&str, &str)]) -> (u16, Value) {
    let url = url::Url::parse_with_params(&app.url("/api/v1/search/messages"), params).unwrap();
    let req = app.http.get(url).bearer_auth(&user.token);
    let resp = crate::helpers::call(req).await;
    let status = resp.status().as_u16();
    let text = resp.text().await.unwrap();
    (status, serde_json::from_str(&text).unwrap_or(Value::Null))
}

/// The bodies found for `q` (first page, up to 50).
async fn found(app: &TestApp, user: &TestUser, q: &str) -> Vec<String> {
    let (status, body) = search_with(app, user, &[("q", q), ("limit", "50")]).await;
    assert_eq!(status, 200, "search {q:?}: {body}");
    body["results"]
        .as_array()
        .unwrap()
        .iter()
        .map(|h| h["message"]["body"].as_str().unwrap().to_owned())
        .collect()
}

/// Whether the PostgreSQL database has `unaccent` (then diacritics are folded there too).
async fn folds_diacritics(app: &TestApp) -> bool {
    use sea_orm::{ConnectionTrait, Statement};
    if !app.on_postgres() {
        return true;
    }
    let db = app.database().await;
    let row = db
        .query_one_raw(Statement::from_string(
            sea_orm::DbBackend::Postgres,
            "SELECT count(*) AS n FROM pg_extension WHERE extname = 'unaccent'",
        ))
        .await
        .unwrap()
        .unwrap();
    row.try_get::<i64>("", "n").unwrap() == 1
}

db_test!(
    async fn words_are_found_ignoring_case_and_diacritics_and_the_last_word_as_a_prefix(app) {
        let alice = app.user("alice").await;
        let room = app.room(&alice, "Kitchen", "public").await;
        app.send(&alice, &room, "Un Café au lait, s'il vous plaît").await;
        app.send(&alice, &room, "The quick brown fox jumps").await;
        app.send(&alice, &room, "quickly now").await;
        assert_eq!(found(&app, &alice, "brown").await, ["The quick brown fox jumps"]);
        assert_eq!(found(&app, &alice, "BROWN Fox").await, ["The quick brown fox jumps"]);
        assert!(found(&app, &alice, "brown zebra").await.is_empty(), "every word must occur");
        // The last word also matches words it begins (3+ characters), the others do not.
        assert_eq!(found(&app, &alice, "qui").await, ["quickly now", "The quick brown fox jumps"]);
        assert!(found(&app, &alice, "qu").await.is_empty(), "two letters are a whole word");
        assert_eq!(found(&app, &alice, "quick").await.len(), 2);
        assert_eq!(found(&app, &alice, "quick fox").await, ["The quick brown fox jumps"]);
        assert!(found(&app, &alice, "qui fox").await.is_empty(), "only the last word is a prefix");
        if folds_diacritics(&app).await {
            assert_eq!(found(&app, &alice, "cafe").await.len(), 1);
            assert_eq!(found(&app, &alice, "PLAIT").await.len(), 1);
        }
        assert_eq!(found(&app, &alice, "café").await.len(), 1);
        // The hit carries the whole message and a snippet with the match marked.
        let (_, body) = search_with(&app, &alice, &[("q", "fox")]).await;
        let hit = &body["results"][0];
        assert_eq!(hit["message"]["conversation_id"], room.as_str());
        assert_eq!(hit["message"]["sender_username"], "alice");
        assert_eq!(hit["message"]["seq"], 2);
        assert!(hit["snippet"].as_str().unwrap().contains("<mark>fox</mark>"), "{hit}");
        assert!(body.get("next_cursor").is_none(), "{body}");
    }
);

db_test!(
    async fn snippets_mark_hits_and_escape_everything_else(app) {
        let alice = app.user("alice").await;
        let room = app.room(&alice, "Html", "public").await;
        app.send(&alice, &room, r#"<script>alert("x")</script> needle & <b>bold</b> 'q'"#).await;
        app.send(&alice, &room, "plain «haystack» words").await;
        let (_, body) = search_with(&app, &alice, &[("q", "needle")]).await;
        let snippet = body["results"][0]["snippet"].as_str().unwrap().to_owned();
        assert!(snippet.contains("<mark>needle</mark>"), "{snippet}");
        assert!(snippet.contains("&lt;script&gt;"), "{snippet}");
        assert!(snippet.contains("&amp;") && snippet.contains("&quot;x&quot;"), "{snippet}");
        assert!(!snippet.contains("<script") && !snippet.contains("<b>"), "{snippet}");
        assert_eq!(body["results"].as_array().unwrap().len(), 1, "{body}");
        // Short bodies come back whole.
        let (_, body) = search_with(&app, &alice, &[("q", "haystack")]).await;
        let snippet = body["results"][0]["snippet"].as_str().unwrap();
        assert_eq!(snippet, "plain «<mark>haystack</mark>» words", "{body}");
    }
);

db_test!(
    async fn filters_and_paging_without_duplicates(app) {
        let alice = app.user("alice").await;
        let bob = app.user("bob").await;
        let one = app.room(&alice, "One", "public").await;
        let two = app.room(&alice, "Two", "public").await;
        app.join(&bob, &one).await;
        app.join(&bob, &two).await;
        for i in 0..24 {
            let who = if i % 3 == 0 { &bob } else { &alice };
            app.send(who, &one, &format!("apple number {i}")).await;
        }
        for i in 0..6 {
            app.send(&alice, &two, &format!("apple in two {i}")).await;
        }
        // Pages of 7, newest first, each message once.
        let mut seen = Vec::new();
        let mut cursor: Option<String> = None;
        let mut pages = 0;
        loop {
            let mut params = vec![("q", "apple".to_owned()), ("limit", "7".to_owned())];
            if let Some(c) = &cursor {
                params.push(("cursor", c.clone()));
            }
            let params: Vec<(&str, &str)> = params.iter().map(|(k, v)| (*k, v.as_str())).collect();
            let (status, body) = search_with(&app, &bob, &params).await;
            assert_eq!(status, 200, "{body}");
            let results = body["results"].as_array().unwrap();
            assert!(results.len() <= 7);
            seen.extend(results.iter().map(|h| h["message"].clone()));
            pages += 1;
            match body["next_cursor"].as_str() {
                Some(c) => cursor = Some(c.to_owned()),
                None => break,
            }
            assert!(pages < 10, "paging ends");
        }
        assert_eq!(seen.len(), 30);
        let ids: HashSet<&str> = seen.iter().map(|m| m["id"].as_str().unwrap()).collect();
        assert_eq!(ids.len(), 30, "no duplicates");
        let times: Vec<&str> = seen.iter().map(|m| m["created_at"].as_str().unwrap()).collect();
        let parsed: Vec<chrono::DateTime<chrono::Utc>> = times.iter().map(|t| t.parse().unwrap()).collect();
        assert!(parsed.windows(2).all(|w| w[0] >= w[1]), "newest first: {times:?}");
        assert_eq!(seen[0]["body"], "apple in two 5");

        // Conversation and sender filters.
        let (_, body) = search_with(&app, &bob, &[("q", "apple"), ("conversation_id", &two), ("limit", "50")]).await;
        assert_eq!(body["results"].as_array().unwrap().len(), 6);
        let (_, body) = search_with(&app, &alice, &[("q", "apple"), ("sender_id", &bob.id), ("limit", "50")]).await;
        let from_bob = body["results"].as_array().unwrap();
        assert_eq!(from_bob.len(), 8);
        assert!(from_bob.iter().all(|h| h["message"]["sender_id"] == bob.id.as_str()));
        let (_, body) = search_with(&app, &alice, &[("q", "apple number 3"), ("conversation_id", &one), ("sender_id", &bob.id)]).await;
        assert_eq!(body["results"].as_array().unwrap().len(), 1);

        // Dates: [from, to) around a message in the middle.
        let pivot = parsed[10];
        let expected_after = parsed.iter().filter(|t| **t >= pivot).count();
        let from = pivot.to_rfc3339();
        let (status, body) = search_with(&app, &bob, &[("q", "apple"), ("from", &from), ("limit", "50")]).await;
        assert_eq!(status, 200, "{body}");
        assert_eq!(body["results"].as_array().unwrap().len(), expected_after);
        let (_, body) = search_with(&app, &bob, &[("q", "apple"), ("to", &from), ("limit", "50")]).await;
        assert_eq!(body["results"].as_array().unwrap().len(), 30 - expected_after);
        let (_, body) = search_with(&app, &bob, &[("q", "apple"), ("from", "2000-01-01T00:00:00Z"), ("to", "2001-01-01T00:00:00Z")]).await;
        assert!(body["results"].as_array().unwrap().is_empty());

        // Bad parameters are clear 4xx.
        for (params, status, code) in [
            (vec![("q", "apple"), ("limit", "0")], 422, "invalid_limit"),
            (vec![("q", "apple"), ("limit", "51")], 422, "invalid_limit"),
            (vec![("q", "apple"), ("cursor", "!!")], 422, "invalid_cursor"),
            (vec![("q", "apple"), ("cursor", "ImFiYyI")], 422, "invalid_cursor"),
            (vec![("q", "   ")], 422, "invalid_query"),
            (vec![("q", "")], 422, "invalid_query"),
        ] {
            let (got, body) = search_with(&app, &bob, &params).await;
            assert_eq!((got, body["code"].as_str()), (status, Some(code)), "{params:?}: {body}");
        }
        for params in [
            vec![("q", "apple"), ("from", "yesterday")],
            vec![("q", "apple"), ("conversation_id", "nope")],
            vec![("q", "apple"), ("limit", "x")],
            vec![],
        ] {
            let (got, body) = search_with(&app, &bob, &params).await;
            assert_eq!(got, 400, "{params:?}: {body}");
        }
        let anonymous = crate::helpers::call(app.http.get(app.url("/api/v1/search/messages?q=apple"))).await;
        assert_eq!(anonymous.status(), 401);
    }
);

db_test!(
    async fn never_finds_what_i_may_not_read(app) {
        let admin = app.login("admin").await;
        let alice = app.user("alice").await;
        let bob = app.user("bob").await;
        let carol = app.user("carol").await;
        let troll = app.user("troll").await;
        let public = app.room(&alice, "Open", "public").await;
        let private = app.room(&alice, "Closed", "private").await;
        for u in [&bob, &carol, &troll] {
            app.join(u, &public).await;
        }
        app.send(&alice, &public, "zebra in the open").await;
        app.send(&alice, &private, "zebra behind doors").await;
        // A DM between alice and bob.
        let dm = app.post_auth("/api/v1/dms", &alice.token, &json!({"username": "bob"})).await;
        let dm: Value = dm.json().await.unwrap();
        let dm = dm["id"].as_str().unwrap().to_owned();
        app.send(&alice, &dm, "zebra whispered").await;

        // Never in: the private room, the DM; a public room I have not joined.
        let dave = app.user("dave").await;
        assert!(found(&app, &dave, "zebra").await.is_empty());
        assert_eq!(found(&app, &carol, "zebra").await, ["zebra in the open"]);
        let bobs = found(&app, &bob, "zebra").await;
        assert_eq!(bobs, ["zebra whispered", "zebra in the open"]);
        let (_, body) = search_with(&app, &dave, &[("q", "zebra"), ("conversation_id", &private)]).await;
        assert!(body["results"].as_array().unwrap().is_empty());

        // Left: nothing of that room any more, also what was sent while I was in.
        let left = app.post_auth(&format!("/api/v1/rooms/{public}/leave"), &carol.token, &json!({})).await;
        assert!(left.status().is_success(), "{}", left.status());
        assert!(found(&app, &carol, "zebra").await.is_empty());

        // Kicked: the same.
        let kicked = app
            .post_auth(&format!("/api/v1/rooms/{public}/members/{}/kick", bob.id), &alice.token, &json!({}))
            .await;
        assert!(kicked.status().is_success(), "{}", kicked.status());
        assert_eq!(found(&app, &bob, "zebra").await, ["zebra whispered"]);

        // Shadowed: only the sender finds them.
        let ban = app
            .send_auth(Method::PUT, &format!("/api/v1/admin/users/{}/shadowban", troll.id), &admin.token, &json!({"reason": "spam"}))
            .await;
        assert!(ban.status().is_success(), "{}", ban.status());
        app.send(&troll, &public, "zebra spam everywhere").await;
        assert_eq!(found(&app, &alice, "spam").await, Vec::<String>::new());
        assert_eq!(found(&app, &troll, "spam").await, ["zebra spam everywhere"]);

        // Deleted: gone from the index.
        let gone = app.send(&alice, &public, "zebra crossing soon deleted").await;
        assert_eq!(found(&app, &alice, "crossing").await.len(), 1);
        let seq = gone["seq"].as_i64().unwrap();
        let del = crate::helpers::call(
            app.http.delete(app.url(&format!("/api/v1/conversations/{public}/messages/{seq}"))).bearer_auth(&alice.token),
        )
        .await;
        assert_eq!(del.status(), 204);
        assert!(found(&app, &alice, "crossing").await.is_empty());
        assert!(!found(&app, &alice, "zebra").await.iter().any(|b| b.contains("crossing")));

        // Cleared history: only what came after.
        let cleared = app
            .post_auth(&format!("/api/v1/admin/rooms/{public}/clear"), &admin.token, &json!({"reason": "cleanup"}))
            .await;
        assert_eq!(cleared.status(), 200);
        app.send(&alice, &public, "zebra after the clearing").await;
        let after = found(&app, &alice, "zebra").await;
        assert!(after.contains(&"zebra after the clearing".to_owned()), "{after:?}");
        assert!(!after.contains(&"zebra in the open".to_owned()), "{after:?}");
        assert!(after.contains(&"zebra behind doors".to_owned()), "other rooms are not cleared");
    }
);

db_test!(
    async fn edits_and_deletes_update_the_index(app) {
        use sea_orm::{ConnectionTrait, Statement};
        let alice = app.user("alice").await;
        let room = app.room(&alice, "Edits", "public").await;
        let m = app.send(&alice, &room, "original wording").await;
        assert_eq!(found(&app, &alice, "original").await.len(), 1);
        // The edit use case changes `body`; the index follows whatever path changes it.
        let db = app.database().await;
        let backend = db.get_database_backend();
        let sql = match backend {
            sea_orm::DbBackend::Postgres => "UPDATE messages SET body = $1 WHERE conversation_id = $2 AND seq = $3",
            _ => "UPDATE messages SET body = ? WHERE conversation_id = ? AND seq = ?",
        };
        let room_id: uuid::Uuid = room.parse().unwrap();
        db.execute_raw(Statement::from_sql_and_values(
            backend,
            sql,
            [ "revised phrasing".into(), room_id.into(), m["seq"].as_i64().unwrap().into() ],
        ))
        .await
        .unwrap();
        assert!(found(&app, &alice, "original").await.is_empty());
        assert_eq!(found(&app, &alice, "revised").await, ["revised phrasing"]);
        // A row deleted with its room leaves nothing behind in the index either.
        let del = match backend {
            sea_orm::DbBackend::Postgres => "DELETE FROM messages WHERE conversation_id = $1",
            _ => "DELETE FROM messages WHERE conversation_id = ?",
        };
        db.execute_raw(Statement::from_sql_and_values(backend, del, [room_id.into()])).await.unwrap();
        assert!(found(&app, &alice, "revised").await.is_empty());
        if backend == sea_orm::DbBackend::Sqlite {
            // The external-content index agrees with its table.
            db.execute_unprepared("INSERT INTO messages_fts(messages_fts) VALUES ('integrity-check')").await.unwrap();
        }
    }
);

db_test!(
    async fn operator_syntax_and_huge_queries_never_fail(app) {
        let alice = app.user("alice").await;
        let room = app.room(&alice, "Syntax", "public").await;
        app.send(&alice, &room, "hello world, this is 50% off_the_shelf C:\\path").await;
        let queries = [
            "\"", "\"hello", "hello\"", "*", "hello*", "NEAR(hello world)", "NEAR(hello", "hello OR world",
            "hello AND world", "hello NOT world", "-hello", "-", "body:hello", "messages_fts:hello", "^hello",
            "(", ")", "((hello)", "'", "' OR 1=1 --", "'; DROP TABLE messages; --", "%", "_", "50%", "\\",
            "C:\\path", "hello & world", "hello | world", "!hello", "hello:*", "<->", "hello <-> world",
            "{hello}", "[hello]", "+hello", "~hello", "hello\u{E000}", "\u{200B}", "👋", "日本語",
            "hello\tworld", "NEAR", "AND", "OR", "NOT",
        ];
        for q in queries {
            let (status, body) = search_with(&app, &alice, &[("q", q)]).await;
            assert!(status == 200 || status == 422, "{q:?}: {status} {body}");
        }
        // Operators are separators: the words still match…
        for q in ["\"hello", "-hello", "^hello", "hello*", "(hello)", "'hello'", "hello\"world", "{world}"] {
            let (status, body) = search_with(&app, &alice, &[("q", q)]).await;
            assert_eq!((status, body["results"].as_array().map(Vec::len)), (200, Some(1)), "{q:?}: {body}");
        }
        // …and operator names are words like any other, which every hit must contain.
        for q in ["NEAR(hello world)", "body:hello", "hello OR world", "hello NOT world"] {
            let (status, body) = search_with(&app, &alice, &[("q", q)]).await;
            assert_eq!((status, body["results"].as_array().map(Vec::len)), (200, Some(0)), "{q:?}: {body}");
        }
        assert_eq!(found(&app, &alice, "50").await.len(), 1);
        assert_eq!(found(&app, &alice, "shelf").await.len(), 1);
        // Too long: refused before the database is asked.
        for q in ["x".repeat(257), "word ".repeat(2048), "\"".repeat(10_240)] {
            let (status, body) = search_with(&app, &alice, &[("q", q.as_str())]).await;
            assert_eq!((status, body["code"].as_str()), (422, Some("invalid_query")), "{} chars", q.len());
        }
        let (status, _) = search_with(&app, &alice, &[("q", "a\u{0}b")]).await;
        assert_eq!(status, 422);
        // Many words: only the first 16 count, and the query still answers.
        let many: Vec<String> = (0..60).map(|i| format!("w{i}")).collect();
        let (status, _) = search_with(&app, &alice, &[("q", &many.join(" "))]).await;
        assert_eq!(status, 200);
    }
);

async fn rate_limited(backend: Backend) {
    let app = spawn_ready_app_with(backend, |c| {
        c.limits.search_per_user = echochat::config::Rate::new(1, 3600, 3);
    })
    .await;
    let alice = app.user("alice").await;
    let bob = app.user("bob").await;
    for _ in 0..3 {
        assert_eq!(search_with(&app, &alice, &[("q", "anything")]).await.0, 200);
    }
    let (status, body) = search_with(&app, &alice, &[("q", "anything")]).await;
    assert_eq!((status, body["code"].as_str()), (429, Some("rate_limited")));
    // Per user: bob is not slowed down by alice.
    assert_eq!(search_with(&app, &bob, &[("q", "anything")]).await.0, 200);
}
both_backends!(searches_are_rate_limited_per_user => super::rate_limited);
