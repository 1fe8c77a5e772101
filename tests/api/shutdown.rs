//! Shutdown: every in-flight send is either acknowledged and stored, or refused.

use std::collections::{HashMap, HashSet};

use futures_util::StreamExt;
use serde_json::{Value, json};
use tokio_tungstenite::tungstenite::Message;

use crate::db_test;

db_test!(
    async fn in_flight_sends_are_acked_and_stored_or_refused(app) {
        let a = app.user("quinn").await;
        let lobby = app.lobby(&a).await;
        let (mut ws, _) = app.ws(&a).await;
        let total = 300;
        for i in 0..total {
            ws.send_json(json!({"type": "send", "conversation_id": lobby, "client_id": format!("s{i}"), "body": format!("n{i}")})).await;
        }
        let mut outcome: HashMap<String, &str> = HashMap::new();
        let mut close_code = None;
        // Shut down while the stream of sends is being processed: after the first ack.
        let first = ws.expect("ack").await;
        outcome.insert(first["client_id"].as_str().unwrap().to_owned(), "acked");
        {
        let mut stopper = std::pin::pin!(app.stop());
        let mut stopped = false;
        loop {
            tokio::select! {
                () = &mut stopper, if !stopped => stopped = true,
                frame = ws.stream.next() => match frame {
                    Some(Ok(Message::Text(text))) => {
                        let v: Value = serde_json::from_str(&text).unwrap();
                        match v["type"].as_str() {
                            Some("ack") => { outcome.insert(v["client_id"].as_str().unwrap().to_owned(), "acked"); }
                            Some("error") => {
                                assert_eq!(v["code"], "shutting_down", "{v}");
                                outcome.insert(v["client_id"].as_str().unwrap().to_owned(), "refused");
                            }
                            _ => {}
                        }
                    }
                    Some(Ok(Message::Close(frame))) => { close_code = frame.map(|f| u16::from(f.code)); }
                    Some(Ok(_)) => {}
                    Some(Err(_)) | None => break,
                },
            }
        }
        if !stopped {
            stopper.await;
        }
        }
        assert_eq!(close_code, Some(1001), "going away");
        let acked: HashSet<String> = outcome.iter().filter(|(_, o)| **o == "acked").map(|(k, _)| k.clone()).collect();
        assert!(!acked.is_empty(), "some sends completed before shutdown");

        app.restart().await;
        let a = app.login("quinn").await;
        let mut stored = HashSet::new();
        let mut before = None;
        loop {
            let q = before.map(|b: i64| format!("&before_seq={b}")).unwrap_or_default();
            let page = app.get_json(&format!("/api/v1/conversations/{lobby}/messages?limit=100{q}"), &a.token).await;
            let msgs = page["messages"].as_array().unwrap();
            before = msgs.first().map(|m| m["seq"].as_i64().unwrap());
            stored.extend(msgs.iter().map(|m| m["client_id"].as_str().unwrap().to_owned()));
            if page["has_more"] == false {
                break;
            }
        }
        assert!(acked.is_subset(&stored), "every ack is durable");
        for (id, o) in &outcome {
            if *o == "refused" {
                assert!(!stored.contains(id), "{id} was refused but stored");
            }
        }
        // Sends never answered were never read by the server: none of them may be stored.
        let unanswered: Vec<String> = (0..total).map(|i| format!("s{i}")).filter(|id| !outcome.contains_key(id)).collect();
        assert!(unanswered.iter().all(|id| !stored.contains(id)), "an unanswered send was stored");
        // The client resends those (same client_id) after reconnecting: each is stored exactly once.
        let (mut ws, _) = app.ws(&a).await;
        for id in &unanswered {
            ws.send_json(json!({"type": "send", "conversation_id": lobby, "client_id": id, "body": "retry"})).await;
            ws.expect("ack").await;
        }
        let last = app.get_json(&format!("/api/v1/conversations/{lobby}"), &a.token).await;
        assert_eq!(last["last_seq"].as_i64().unwrap() as usize, acked.len() + unanswered.len());
    }
);
