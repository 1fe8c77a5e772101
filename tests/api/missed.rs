//! Missed direct messages: `GET /dms/missed` counts the peer's messages after my read position,
//! across a logout, newest first; reading clears the entry.

use serde_json::{Value, json};

use crate::{db_test, helpers::TestApp, helpers::TestUser};

async fn missed(app: &TestApp, user: &TestUser) -> Vec<Value> {
    app.get_json("/api/v1/dms/missed", &user.token).await["missed"]
        .as_array()
        .unwrap()
        .clone()
}

async fn dm_id(app: &TestApp, from: &TestUser, to: &str) -> String {
    let resp = app
        .post_auth("/api/v1/dms", &from.token, &json!({ "username": to }))
        .await;
    assert!(resp.status().is_success());
    let body: Value = resp.json().await.unwrap();
    body["id"].as_str().unwrap().to_owned()
}

db_test! {
    async fn missed_dms_are_counted_across_a_logout_and_cleared_by_reading(app) {
        let alice = app.user("alice").await;
        let bob = app.user("bob").await;
        let carol = app.user("carol").await;
        let dm = dm_id(&app, &alice, "bob").await;
        app.send(&bob, &dm, "my own message does not count").await;
        assert!(missed(&app, &bob).await.is_empty());

        // Bob logs out; alice sends 3; bob logs in again.
        assert_eq!(app.post_auth("/api/v1/auth/logout", &bob.token, &json!({})).await.status(), 204);
        for text in ["one", "two", "three"] {
            app.send(&alice, &dm, text).await;
        }
        let bob = app.login("bob").await;
        let list = missed(&app, &bob).await;
        assert_eq!(list.len(), 1, "{list:?}");
        assert_eq!(list[0]["conversation_id"], dm.as_str());
        assert_eq!(list[0]["peer"]["username"], "alice");
        assert_eq!(list[0]["count"], 3);
        assert_eq!(list[0]["last_seq"], 4);
        // Alice's own messages are not missed by her.
        assert!(missed(&app, &alice).await.is_empty());

        // A newer DM from carol comes first.
        let carol_dm = dm_id(&app, &carol, "bob").await;
        app.send(&carol, &carol_dm, "psst").await;
        let list = missed(&app, &bob).await;
        let peers: Vec<&str> = list.iter().map(|m| m["peer"]["username"].as_str().unwrap()).collect();
        assert_eq!(peers, ["carol", "alice"]);
        assert_eq!(list[0]["count"], 1);

        // Reading alice's DM (REST) clears it; reading carol's over WebSocket clears hers.
        let read = app
            .post_auth(&format!("/api/v1/conversations/{dm}/read"), &bob.token, &json!({"seq": 4}))
            .await;
        assert_eq!(read.status(), 204);
        let list = missed(&app, &bob).await;
        assert_eq!(list.len(), 1);
        assert_eq!(list[0]["peer"]["username"], "carol");
        let (mut ws, _) = app.ws(&bob).await;
        ws.send_json(json!({"type": "read", "conversation_id": carol_dm, "seq": 1})).await;
        ws.send_json(json!({"type": "ping"})).await;
        ws.expect("pong").await;
        let deadline = tokio::time::Instant::now() + std::time::Duration::from_secs(10);
        while !missed(&app, &bob).await.is_empty() {
            assert!(tokio::time::Instant::now() < deadline, "the WebSocket read did not clear it");
            tokio::time::sleep(std::time::Duration::from_millis(50)).await;
        }
        // A message after the read shows again, with only the new count.
        app.send(&alice, &dm, "four").await;
        let list = missed(&app, &bob).await;
        assert_eq!(list.len(), 1);
        assert_eq!(list[0]["count"], 1);
        assert_eq!(list[0]["last_seq"], 5);
    }
}
