//! Sending and history: gap-free seq, idempotent resend, paging.

use serde_json::{Value, json};

use crate::db_test;

db_test!(
    async fn history_pages_by_sequence_number(app) {
        let a = app.user("hilda").await;
        let room = app.room(&a, "History", "public").await;
        for i in 1..=7 {
            let m = app.send(&a, &room, &format!("message {i}")).await;
            assert_eq!(m["seq"], i);
            assert_eq!(m["sender_username"], "hilda");
            assert_eq!(m["conversation_id"], room.as_str());
        }
        let path = format!("/api/v1/conversations/{room}/messages");
        let latest = app.get_json(&format!("{path}?limit=3"), &a.token).await;
        let seqs: Vec<i64> = latest["messages"].as_array().unwrap().iter().map(|m| m["seq"].as_i64().unwrap()).collect();
        assert_eq!(seqs, vec![5, 6, 7]);
        assert_eq!(latest["has_more"], true);
        let older = app.get_json(&format!("{path}?limit=3&before_seq=5"), &a.token).await;
        let seqs: Vec<i64> = older["messages"].as_array().unwrap().iter().map(|m| m["seq"].as_i64().unwrap()).collect();
        assert_eq!(seqs, vec![2, 3, 4]);
        let oldest = app.get_json(&format!("{path}?limit=3&before_seq=2"), &a.token).await;
        assert_eq!(oldest["messages"].as_array().unwrap().len(), 1);
        assert_eq!(oldest["has_more"], false);
        let newer = app.get_json(&format!("{path}?after_seq=4&limit=2"), &a.token).await;
        let seqs: Vec<i64> = newer["messages"].as_array().unwrap().iter().map(|m| m["seq"].as_i64().unwrap()).collect();
        assert_eq!(seqs, vec![5, 6]);
        assert_eq!(newer["has_more"], true);
        let all = app.get_json(&path, &a.token).await;
        assert_eq!(all["messages"].as_array().unwrap().len(), 7);
        for bad in ["limit=0", "limit=101"] {
            let resp = app.get(&format!("{path}?{bad}"), &a.token).await;
            assert_eq!(resp.status(), 422, "{bad}");
        }
        let resp = app.get(&format!("{path}?limit=abc"), &a.token).await;
        assert_eq!(resp.status(), 400);
    }
);

db_test!(
    async fn a_resend_with_the_same_client_id_returns_the_original(app) {
        let a = app.user("ida").await;
        let lobby = app.lobby(&a).await;
        let path = format!("/api/v1/conversations/{lobby}/messages");
        let first = app.post_auth(&path, &a.token, &json!({"body": "once", "client_id": "c-1"})).await;
        assert_eq!(first.status(), 201);
        let first: Value = first.json().await.unwrap();
        let again = app.post_auth(&path, &a.token, &json!({"body": "once", "client_id": "c-1"})).await;
        assert_eq!(again.status(), 200);
        let again: Value = again.json().await.unwrap();
        assert_eq!(again["id"], first["id"]);
        assert_eq!(again["seq"], first["seq"]);
        let history = app.get_json(&path, &a.token).await;
        assert_eq!(history["messages"].as_array().unwrap().len(), 1);
        // Another user may use the same client_id independently.
        let b = app.user("jack").await;
        let other = app.post_auth(&path, &b.token, &json!({"body": "mine", "client_id": "c-1"})).await;
        assert_eq!(other.status(), 201);
    }
);

db_test!(
    async fn concurrent_senders_get_gap_free_sequence_numbers(app) {
        let users = futures_util::future::join_all((0..4).map(|i| app.user_owned(format!("racer{i}")))).await;
        let lobby = app.lobby(&users[0]).await;
        let sends = users.iter().flat_map(|u| (0..25).map(move |i| (u, i))).map(|(u, i)| {
            let path = format!("/api/v1/conversations/{lobby}/messages");
            let req = app.http.post(app.url(&path)).bearer_auth(&u.token).json(&json!({"body": format!("{} {i}", u.username), "client_id": format!("k{i}")}));
            async move { crate::helpers::call(req).await.status() }
        });
        let statuses = futures_util::future::join_all(sends).await;
        assert!(statuses.iter().all(|s| *s == 201), "{statuses:?}");
        let mut seqs = Vec::new();
        let mut before = None;
        loop {
            let q = before.map(|b: i64| format!("&before_seq={b}")).unwrap_or_default();
            let page = app.get_json(&format!("/api/v1/conversations/{lobby}/messages?limit=100{q}"), &users[0].token).await;
            let page_seqs: Vec<i64> = page["messages"].as_array().unwrap().iter().map(|m| m["seq"].as_i64().unwrap()).collect();
            before = page_seqs.first().copied();
            seqs.splice(0..0, page_seqs);
            if page["has_more"] == false {
                break;
            }
        }
        assert_eq!(seqs, (1..=100).collect::<Vec<i64>>());
    }
);

db_test!(
    async fn messages_keep_unicode_and_reject_empty_and_overlong_bodies(app) {
        let a = app.user("kim").await;
        let lobby = app.lobby(&a).await;
        let path = format!("/api/v1/conversations/{lobby}/messages");
        let text = "héllo <b>wörld</b> 👋";
        let m = app.send(&a, &lobby, text).await;
        assert_eq!(m["body"], text);
        let max = "é".repeat(4000);
        assert_eq!(app.post_auth(&path, &a.token, &json!({"body": max})).await.status(), 201);
        for body in ["", "   ", &"a".repeat(4001)] {
            let resp = app.post_auth(&path, &a.token, &json!({"body": body})).await;
            assert_eq!(resp.status(), 422);
            assert_eq!(resp.json::<Value>().await.unwrap()["code"], "invalid_message");
        }
        let bad_id = app.post_auth(&path, &a.token, &json!({"body": "x", "client_id": "has space"})).await;
        assert_eq!(bad_id.status(), 422);
    }
);
