//! Conversations in depth (issue 9): edits and deletes through the ordered path (live order and
//! resume by change sequence), replies, reactions, mentions, pins, read receipts and
//! notification levels — with the authorization of every action and bad input.

use std::time::Duration;

use reqwest::Method;
use sea_orm::{ConnectionTrait, Statement};
use serde_json::{Value, json};

use crate::{
    db_test,
    helpers::{TestApp, TestUser, WsClient},
};

fn msg(room: &str, seq: &Value) -> String {
    format!("/conversations/{room}/messages/{seq}")
}

/// A public room owned by `owner` with `members` joined.
async fn room_with(app: &TestApp, owner: &TestUser, name: &str, members: &[&TestUser]) -> String {
    let room = app.room(owner, name, "public").await;
    for m in members {
        app.join(m, &room).await;
    }
    room
}

/// Frames of `room` about messages, until `done` says enough (with a deadline).
async fn collect(
    ws: &mut WsClient,
    room: &str,
    mut done: impl FnMut(&[Value]) -> bool,
) -> Vec<Value> {
    let mut frames = Vec::new();
    let deadline = tokio::time::Instant::now() + Duration::from_secs(20);
    while !done(&frames) {
        let frame = tokio::time::timeout_at(deadline, ws.next_json())
            .await
            .expect("frames arrive before the deadline");
        let kind = frame["type"].as_str().unwrap_or_default().to_owned();
        let conversation = match kind.as_str() {
            "message" | "message_updated" | "ack" => frame["message"]["conversation_id"].clone(),
            _ => frame["conversation_id"].clone(),
        };
        if matches!(
            kind.as_str(),
            "message" | "message_updated" | "message_deleted"
        ) && conversation == room
        {
            frames.push(frame);
        }
    }
    frames
}

fn change_seq(frame: &Value) -> i64 {
    if frame["type"] == "message_deleted" {
        frame["change_seq"].as_i64().unwrap()
    } else {
        frame["message"]["change_seq"].as_i64().unwrap()
    }
}

db_test!(
    async fn edit_is_ordered_authorized_and_shown(app) {
        let ann = app.user("ann").await;
        let bob = app.user("bob").await;
        let eve = app.user("eve").await;
        let room = room_with(&app, &ann, "Edits", &[&bob]).await;
        let first = app.send(&ann, &room, "helo").await;
        assert_eq!(first["change_seq"], first["seq"]);
        let (mut wb, _) = app.ws(&bob).await;
        // The author edits: 200 with the new text, edited_at, a new change_seq; members see it.
        let (status, edited) = app.api(&ann, Method::PATCH, &msg(&room, &first["seq"]), json!({"body": "hello **all**"})).await;
        assert_eq!(status, 200, "{edited}");
        assert_eq!(edited["body"], "hello **all**");
        assert!(edited["edited_at"].is_string());
        assert!(edited["change_seq"].as_i64() > first["change_seq"].as_i64());
        let frame = wb.expect("message_updated").await;
        assert_eq!(frame["message"]["body"], "hello **all**");
        assert_eq!(frame["message"]["change_seq"], edited["change_seq"]);
        // History shows the edit.
        let history = app.get_json(&format!("/api/v1/conversations/{room}/messages"), &bob.token).await;
        assert_eq!(history["messages"][0]["body"], "hello **all**");
        assert!(history["messages"][0]["edited_at"].is_string());
        // Not the author: 403 not_your_message; not a member: 403; no such message: 404.
        let (status, body) = app.api(&bob, Method::PATCH, &msg(&room, &first["seq"]), json!({"body": "mine now"})).await;
        assert_eq!((status, body["code"].as_str()), (403, Some("not_your_message")));
        let (status, _) = app.api(&eve, Method::PATCH, &msg(&room, &first["seq"]), json!({"body": "x"})).await;
        assert_eq!(status, 403);
        assert_eq!(app.api(&ann, Method::PATCH, &msg(&room, &json!(999)), json!({"body": "x"})).await.0, 404);
        // Bad bodies: 422 (empty, too long), 400 (unknown field).
        for body in [json!({"body": "   "}), json!({"body": "x".repeat(4001)})] {
            assert_eq!(app.api(&ann, Method::PATCH, &msg(&room, &first["seq"]), body).await.0, 422);
        }
        assert_eq!(app.api(&ann, Method::PATCH, &msg(&room, &first["seq"]), json!({"body": "x", "seq": 3})).await.0, 400);
        // A former member cannot edit their old message.
        let bobs = app.send(&bob, &room, "bob was here").await;
        assert_eq!(app.api(&bob, Method::POST, &format!("/rooms/{room}/leave"), json!({})).await.0, 204);
        let (status, _) = app.api(&bob, Method::PATCH, &msg(&room, &bobs["seq"]), json!({"body": "rewrite"})).await;
        assert_eq!(status, 403);
        let (status, _) = app.api(&bob, Method::DELETE, &msg(&room, &bobs["seq"]), Value::Null).await;
        assert_eq!(status, 403);
        // A deleted message cannot be edited: 409 message_deleted.
        assert_eq!(app.api(&ann, Method::DELETE, &msg(&room, &first["seq"]), Value::Null).await.0, 204);
        let (status, body) = app.api(&ann, Method::PATCH, &msg(&room, &first["seq"]), json!({"body": "back"})).await;
        assert_eq!((status, body["code"].as_str()), (409, Some("message_deleted")));
    }
);

db_test!(
    async fn deleted_text_is_gone_and_only_moderator_deletions_are_audited(app) {
        let admin = app.login("admin").await;
        let ann = app.user("ann").await;
        let bob = app.user("bob").await;
        let room = room_with(&app, &ann, "Deletes", &[&bob]).await;
        let own = app.send(&bob, &room, "secret one").await;
        let other = app.send(&bob, &room, "secret two").await;
        app.api(&bob, Method::PUT, &format!("/conversations/{room}/messages/{}/reactions/%F0%9F%91%8D", own["seq"]), Value::Null).await;
        assert_eq!(app.api(&bob, Method::DELETE, &msg(&room, &own["seq"]), Value::Null).await.0, 204);
        // The room owner deletes bob's second message.
        assert_eq!(app.api(&ann, Method::DELETE, &msg(&room, &other["seq"]), Value::Null).await.0, 204);
        let db = app.database().await;
        let rows = db
            .query_all_raw(Statement::from_string(
                db.get_database_backend(),
                "SELECT body FROM messages WHERE body LIKE '%secret%'".to_owned(),
            ))
            .await
            .unwrap();
        assert!(rows.is_empty(), "deleted text stays in messages");
        let audit = app.get_json("/api/v1/admin/audit?action=message.deleted", &admin.token).await;
        let entries = audit["entries"].as_array().unwrap();
        assert_eq!(entries.len(), 1, "only the moderator deletion: {entries:?}");
        assert_eq!(entries[0]["details"]["body"], "secret two");
        // History: placeholders with empty text and html.
        let history = app.get_json(&format!("/api/v1/conversations/{room}/messages"), &ann.token).await;
        for m in history["messages"].as_array().unwrap() {
            assert_eq!((m["deleted"].as_bool(), m["body"].as_str(), m["html"].as_str()), (Some(true), Some(""), Some("")));
            assert!(m.get("reactions").is_none());
        }
    }
);

db_test!(
    async fn changes_are_ordered_with_sends_and_resumable(app) {
        let ann = app.user("ann").await;
        let bob = app.user("bob").await;
        let room = room_with(&app, &ann, "Order", &[&bob]).await;
        let base = app.send(&ann, &room, "base").await;
        let (mut wb, _) = app.ws(&bob).await;
        let (mut wa, _) = app.ws(&ann).await;
        // Ann sends over her socket while editing and reacting over REST at the same time.
        let sender = async {
            for i in 0..30 {
                wa.send_json(json!({"type": "send", "conversation_id": room, "client_id": format!("c{i}"), "body": format!("m{i}")})).await;
            }
            for _ in 0..30 {
                wa.expect("ack").await;
            }
        };
        let editor = async {
            for i in 0..15 {
                let (status, _) = app.api(&ann, Method::PATCH, &msg(&room, &base["seq"]), json!({"body": format!("base v{i}")})).await;
                assert_eq!(status, 200);
                let emoji = if i % 2 == 0 { Method::PUT } else { Method::DELETE };
                let (status, _) = app.api(&bob, emoji, &format!("/conversations/{room}/messages/{}/reactions/%F0%9F%8E%89", base["seq"]), Value::Null).await;
                assert_eq!(status, 200);
            }
        };
        tokio::join!(sender, editor);
        // Bob saw every change in change_seq order, gap-free, with sends among them.
        let frames = collect(&mut wb, &room, |f| f.len() >= 60).await;
        let seqs: Vec<i64> = frames.iter().map(change_seq).collect();
        let first = seqs[0];
        assert_eq!(seqs, (first..first + 60).collect::<Vec<_>>(), "change_seq order");
        let conv = app.get_json(&format!("/api/v1/conversations/{room}"), &bob.token).await;
        assert_eq!(conv["last_change"].as_i64(), Some(first + 59));
        // Bob goes away after change K; more edits, a delete, a reaction and a send happen.
        drop(wb);
        let seen_seq = conv["last_seq"].as_i64().unwrap();
        let seen_change = conv["last_change"].as_i64().unwrap();
        app.api(&ann, Method::PATCH, &msg(&room, &base["seq"]), json!({"body": "base final"})).await;
        let m3 = app.get_json(&format!("/api/v1/conversations/{room}/messages?after_seq={}&limit=3", base["seq"]), &bob.token).await;
        let victim = m3["messages"][1]["seq"].clone();
        assert_eq!(app.api(&ann, Method::DELETE, &msg(&room, &victim), Value::Null).await.0, 204);
        app.api(&bob, Method::PUT, &format!("/conversations/{room}/messages/{}/reactions/%E2%9D%A4%EF%B8%8F", m3["messages"][0]["seq"]), Value::Null).await;
        let fresh = app.send(&ann, &room, "after the gap").await;
        // Resume with after_seq and after_change: the new message, then the changes in order.
        let (mut wb, _) = app.ws(&bob).await;
        wb.send_json(json!({"type": "resume", "conversation_id": room, "after_seq": seen_seq, "after_change": seen_change})).await;
        let frames = collect(&mut wb, &room, |f| f.len() >= 4).await;
        assert_eq!(frames[0]["type"], "message");
        assert_eq!(frames[0]["message"]["seq"], fresh["seq"]);
        let kinds: Vec<&str> = frames[1..].iter().map(|f| f["type"].as_str().unwrap()).collect();
        assert_eq!(kinds, ["message_updated", "message_deleted", "message_updated"]);
        assert_eq!(frames[1]["message"]["body"], "base final");
        assert_eq!(frames[2]["seq"], victim);
        assert_eq!(frames[3]["message"]["reactions"][0]["emoji"], "❤️");
        let changes: Vec<i64> = frames[1..].iter().map(change_seq).collect();
        assert!(changes.windows(2).all(|w| w[0] < w[1]), "{changes:?}");
        // Without after_change the old behaviour stays: only new messages.
        wb.send_json(json!({"type": "resume", "conversation_id": room, "after_seq": seen_seq})).await;
        let frame = wb.expect("message").await;
        assert_eq!(frame["message"]["seq"], fresh["seq"]);
    }
);

db_test!(
    async fn replies_quote_and_jump(app) {
        let ann = app.user("ann").await;
        let bob = app.user("bob").await;
        let room = room_with(&app, &ann, "Replies", &[&bob]).await;
        let other = room_with(&app, &ann, "Elsewhere", &[&bob]).await;
        let original = app.send(&ann, &room, "the original question").await;
        for i in 0..60 {
            app.send(&bob, &room, &format!("filler {i}")).await;
        }
        let (status, reply) = app.api(&bob, Method::POST, &format!("/conversations/{room}/messages"), json!({"body": "an answer", "reply_to_seq": original["seq"]})).await;
        assert_eq!(status, 201, "{reply}");
        assert_eq!(reply["reply_to"]["seq"], original["seq"]);
        assert_eq!(reply["reply_to"]["excerpt"], "the original question");
        assert_eq!(reply["reply_to"]["sender_username"], "ann");
        // Over the WebSocket too, and the ack carries the preview.
        let (mut wb, _) = app.ws(&bob).await;
        wb.send_json(json!({"type": "send", "conversation_id": room, "client_id": "r1", "body": "again", "reply_to_seq": original["seq"]})).await;
        let ack = wb.expect("ack").await;
        assert_eq!(ack["message"]["reply_to"]["seq"], original["seq"]);
        // A reply to a seq of another conversation (or none): 422 invalid_reply.
        let in_other = app.send(&ann, &other, "other room").await;
        assert!(in_other["seq"].as_i64() < Some(60));
        for seq in [json!(9999), json!(0)] {
            let (status, body) = app.api(&bob, Method::POST, &format!("/conversations/{other}/messages"), json!({"body": "x", "reply_to_seq": seq})).await;
            assert_eq!((status, body["code"].as_str()), (422, Some("invalid_reply")), "{seq}");
        }
        wb.send_json(json!({"type": "send", "conversation_id": other, "client_id": "r2", "body": "x", "reply_to_seq": 9999})).await;
        assert_eq!(wb.expect("error").await["code"], "invalid_reply");
        // The jump: a page around the original, and the message itself.
        let page = app.get_json(&format!("/api/v1/conversations/{room}/messages?around_seq={}&limit=20", original["seq"]), &bob.token).await;
        let seqs: Vec<i64> = page["messages"].as_array().unwrap().iter().map(|m| m["seq"].as_i64().unwrap()).collect();
        assert!(seqs.contains(&original["seq"].as_i64().unwrap()), "{seqs:?}");
        assert!(seqs.windows(2).all(|w| w[1] == w[0] + 1), "{seqs:?}");
        let one = app.get_json(&format!("/api/v1{}", msg(&room, &original["seq"])), &bob.token).await;
        assert_eq!(one["body"], "the original question");
        // Non-members cannot read a single message either.
        let eve = app.user("eve").await;
        assert_eq!(app.api(&eve, Method::GET, &msg(&room, &original["seq"]), Value::Null).await.0, 403);
        // The preview follows the original's deletion.
        app.api(&ann, Method::DELETE, &msg(&room, &original["seq"]), Value::Null).await;
        let again = app.get_json(&format!("/api/v1{}", msg(&room, &reply["seq"])), &bob.token).await;
        assert_eq!((again["reply_to"]["deleted"].as_bool(), again["reply_to"]["excerpt"].as_str()), (Some(true), Some("")));
    }
);

db_test!(
    async fn reactions_count_who_and_refuse_bad_input(app) {
        let ann = app.user("ann").await;
        let bob = app.user("bob").await;
        let eve = app.user("eve").await;
        let room = room_with(&app, &ann, "Reacts", &[&bob]).await;
        let m = app.send(&ann, &room, "react to me").await;
        let react = |emoji: &str| format!("/conversations/{room}/messages/{}/reactions/{}", m["seq"], urlencoding(emoji));
        let (mut wa, _) = app.ws(&ann).await;
        let (status, after) = app.api(&bob, Method::PUT, &react("👍"), Value::Null).await;
        assert_eq!(status, 200, "{after}");
        assert_eq!(after["reactions"], json!([{"emoji": "👍", "count": 1, "user_ids": [bob.id]}]));
        let frame = wa.expect("message_updated").await;
        assert_eq!(frame["message"]["reactions"][0]["count"], 1);
        // Idempotent; a second user counts; the list names everyone.
        assert_eq!(app.api(&bob, Method::PUT, &react("👍"), Value::Null).await.1["reactions"][0]["count"], 1);
        assert_eq!(app.api(&ann, Method::PUT, &react("👍"), Value::Null).await.1["reactions"][0]["count"], 2);
        let list = app.get_json(&format!("/api/v1/conversations/{room}/messages/{}/reactions", m["seq"]), &ann.token).await;
        let names: Vec<&str> = list["reactions"][0]["users"].as_array().unwrap().iter().map(|u| u["username"].as_str().unwrap()).collect();
        assert_eq!(names, ["bob", "ann"]);
        // Removing, also idempotent.
        let (_, after) = app.api(&bob, Method::DELETE, &react("👍"), Value::Null).await;
        assert_eq!(after["reactions"][0]["count"], 1);
        assert_eq!(app.api(&bob, Method::DELETE, &react("👍"), Value::Null).await.0, 200);
        // Not an emoji: 422 invalid_emoji.
        for bad in ["abc", "👍👍", "<script>", ":+1:", &"x".repeat(200)] {
            let (status, body) = app.api(&bob, Method::PUT, &react(bad), Value::Null).await;
            assert_eq!((status, body["code"].as_str()), (422, Some("invalid_emoji")), "{bad}");
        }
        // At most 20 different emojis on one message: the 21st is 409.
        let many = ["😀", "😃", "😄", "😁", "😆", "😅", "😂", "🤣", "😊", "😇", "🙂", "🙃", "😉", "😌", "😍", "🥰", "😘", "😗", "😙"];
        for e in many {
            assert_eq!(app.api(&bob, Method::PUT, &react(e), Value::Null).await.0, 200, "{e}");
        }
        let (status, body) = app.api(&bob, Method::PUT, &react("😚"), Value::Null).await;
        assert_eq!((status, body["code"].as_str()), (409, Some("too_many_reactions")));
        // Outsiders cannot react or list.
        assert_eq!(app.api(&eve, Method::PUT, &react("👍"), Value::Null).await.0, 403);
        assert_eq!(app.api(&eve, Method::GET, &format!("/conversations/{room}/messages/{}/reactions", m["seq"]), Value::Null).await.0, 403);
    }
);

fn urlencoding(text: &str) -> String {
    text.bytes().map(|b| format!("%{b:02X}")).collect()
}

db_test!(
    async fn mentions_resolve_members_only(app) {
        let ann = app.user("ann").await;
        let bob = app.user("bob").await;
        let _eve = app.user("eve").await;
        let room = room_with(&app, &ann, "Mentions", &[&bob]).await;
        let m = app.send(&ann, &room, "hi @bob and @eve and @nobody, `@bob` again").await;
        assert_eq!(m["mentions"], json!([bob.id]));
        let plain = app.send(&ann, &room, "no mentions here").await;
        assert!(plain.get("mentions").is_none());
        // An edit resolves them again.
        let (_, edited) = app.api(&ann, Method::PATCH, &msg(&room, &plain["seq"]), json!({"body": "now @ann"})).await;
        assert_eq!(edited["mentions"], json!([ann.id]));
    }
);

db_test!(
    async fn pins_by_moderators_and_dm_peers(app) {
        let ann = app.user("ann").await;
        let bob = app.user("bob").await;
        let room = room_with(&app, &ann, "Pins", &[&bob]).await;
        let m = app.send(&bob, &room, "pin me").await;
        let pin = format!("/conversations/{room}/pins/{}", m["seq"]);
        // A plain member may not pin; the owner may; the conversation says who may.
        let (status, body) = app.api(&bob, Method::PUT, &pin, Value::Null).await;
        assert_eq!((status, body["code"].as_str()), (403, Some("permission_denied")));
        let conv = app.get_json(&format!("/api/v1/conversations/{room}"), &ann.token).await;
        assert!(conv["permissions"].as_array().unwrap().contains(&json!("message.pin")));
        let (mut wb, _) = app.ws(&bob).await;
        let (status, pinned) = app.api(&ann, Method::PUT, &pin, Value::Null).await;
        assert_eq!(status, 200);
        assert_eq!(pinned["pinned"]["by_username"], "ann");
        assert_eq!(wb.expect("message_updated").await["message"]["pinned"]["by"], ann.id.as_str());
        let list = app.get_json(&format!("/api/v1/conversations/{room}/pins"), &bob.token).await;
        assert_eq!(list["messages"][0]["seq"], m["seq"]);
        let (status, unpinned) = app.api(&ann, Method::DELETE, &pin, Value::Null).await;
        assert_eq!((status, unpinned.get("pinned")), (200, None));
        let list = app.get_json(&format!("/api/v1/conversations/{room}/pins"), &bob.token).await;
        assert_eq!(list["messages"], json!([]));
        // In a DM both people may pin.
        let dm: Value = app.post_auth("/api/v1/dms", &bob.token, &json!({"username": "ann"})).await.json().await.unwrap();
        let dm = dm["id"].as_str().unwrap().to_owned();
        let d = app.send(&ann, &dm, "in the dm").await;
        assert_eq!(app.api(&bob, Method::PUT, &format!("/conversations/{dm}/pins/{}", d["seq"]), Value::Null).await.0, 200);
        // Outsiders: 403/404.
        let eve = app.user("eve").await;
        assert_eq!(app.api(&eve, Method::GET, &format!("/conversations/{dm}/pins"), Value::Null).await.0, 404);
    }
);

db_test!(
    async fn read_receipts_and_positions(app) {
        let ann = app.user("ann").await;
        let bob = app.user("bob").await;
        let dm: Value = app.post_auth("/api/v1/dms", &ann.token, &json!({"username": "bob"})).await.json().await.unwrap();
        let dm = dm["id"].as_str().unwrap().to_owned();
        let first = app.send(&ann, &dm, "one").await;
        let second = app.send(&ann, &dm, "two").await;
        let (mut wa, _) = app.ws(&ann).await;
        let (mut wb1, _) = app.ws(&bob).await;
        let (mut wb2, _) = app.ws(&bob).await;
        let conv = app.get_json(&format!("/api/v1/conversations/{dm}"), &bob.token).await;
        assert_eq!((conv["read_seq"].as_i64(), conv["unread_count"].as_i64()), (Some(0), Some(2)));
        // Bob reads the first in one tab: his other tab learns his position, Ann gets a receipt.
        wb1.send_json(json!({"type": "read", "conversation_id": dm, "seq": first["seq"]})).await;
        let position = wb2.expect("read_position").await;
        assert_eq!((position["seq"].as_i64(), position["unread_count"].as_i64()), (first["seq"].as_i64(), Some(1)));
        let receipt = wa.expect("read_receipt").await;
        assert_eq!((receipt["user_id"].as_str(), receipt["seq"].as_i64()), (Some(bob.id.as_str()), first["seq"].as_i64()));
        let list = app.get_json(&format!("/api/v1/conversations/{dm}/receipts"), &ann.token).await;
        assert_eq!(list["receipts"], json!([{"user_id": bob.id, "username": "bob", "seq": first["seq"]}]));
        // Invisible, Bob's position still syncs to his tabs but Ann is told nothing.
        let (status, _) = app.api(&bob, Method::PUT, "/presence", json!({"choice": "invisible"})).await;
        assert_eq!(status, 200);
        wb1.send_json(json!({"type": "read", "conversation_id": dm, "seq": second["seq"]})).await;
        assert_eq!(wb2.expect("read_position").await["seq"], second["seq"]);
        // Ann's next frame about the DM is her own message's ack, not a receipt.
        wa.send_json(json!({"type": "send", "conversation_id": dm, "client_id": "marker", "body": "marker"})).await;
        loop {
            let frame = wa.next_json().await;
            assert_ne!(frame["type"], "read_receipt", "an invisible user's receipt: {frame}");
            if frame["type"] == "ack" {
                break;
            }
        }
        let list = app.get_json(&format!("/api/v1/conversations/{dm}/receipts"), &ann.token).await;
        assert_eq!(list["receipts"][0]["seq"], first["seq"]);
        let conv = app.get_json(&format!("/api/v1/conversations/{dm}"), &bob.token).await;
        assert_eq!(conv["read_seq"], second["seq"]);
        // Rooms have no receipts.
        let room = room_with(&app, &ann, "Quiet", &[&bob]).await;
        let list = app.get_json(&format!("/api/v1/conversations/{room}/receipts"), &ann.token).await;
        assert_eq!(list["receipts"], json!([]));
    }
);

db_test!(
    async fn notification_levels_follow_the_account(app) {
        let ann = app.user("ann").await;
        let eve = app.user("eve").await;
        let room = room_with(&app, &ann, "Loud", &[]).await;
        let path = format!("/conversations/{room}/notifications");
        let (status, conv) = app.api(&ann, Method::PUT, &path, json!({"level": "none"})).await;
        assert_eq!((status, conv["notify"].as_str()), (200, Some("none")));
        let list = app.all_pages("/api/v1/conversations", "conversations", &ann.token).await;
        assert_eq!(list.iter().find(|c| c["id"] == room.as_str()).unwrap()["notify"], "none");
        assert_eq!(app.api(&ann, Method::PUT, &path, json!({"level": "loud"})).await.0, 400);
        assert_eq!(app.api(&eve, Method::PUT, &path, json!({"level": "all"})).await.0, 403);
    }
);

async fn edit_window(backend: crate::helpers::Backend) {
    let app =
        crate::helpers::spawn_ready_app_with(backend, |c| c.messages.edit_window_secs = 1).await;
    let ann = app.user("ann").await;
    let room = room_with(&app, &ann, "Window", &[]).await;
    let m = app.send(&ann, &room, "quick").await;
    let (status, _) = app
        .api(
            &ann,
            Method::PATCH,
            &msg(&room, &m["seq"]),
            json!({"body": "quick fix"}),
        )
        .await;
    assert_eq!(status, 200, "inside the window");
    // The window is measured from the send: wait until it has passed (a positive condition).
    tokio::time::sleep(Duration::from_millis(2100)).await;
    let (status, body) = app
        .api(
            &ann,
            Method::PATCH,
            &msg(&room, &m["seq"]),
            json!({"body": "too late"}),
        )
        .await;
    assert_eq!(
        (status, body["code"].as_str()),
        (403, Some("edit_window_closed"))
    );
    // Deleting is never limited.
    assert_eq!(
        app.api(&ann, Method::DELETE, &msg(&room, &m["seq"]), Value::Null)
            .await
            .0,
        204
    );
}
crate::both_backends!(the_edit_window_closes => super::edit_window);

db_test!(
    async fn a_mention_reaches_a_muted_member_flagged(app) {
        let ann = app.user("ann").await;
        let bob = app.user("bob").await;
        let room = room_with(&app, &ann, "Muted", &[&bob]).await;
        let (status, conv) = app.api(&bob, Method::PUT, &format!("/conversations/{room}/notifications"), json!({"level": "none"})).await;
        assert_eq!((status, conv["notify"].as_str()), (200, Some("none")));
        let (mut wb, ready) = app.ws(&bob).await;
        let listed = ready["conversations"].as_array().unwrap().iter().find(|c| c["id"] == room.as_str()).unwrap().clone();
        assert_eq!(listed["notify"], "none", "the level follows the account to every connection");
        app.send(&ann, &room, "plain chatter").await;
        app.send(&ann, &room, "@bob look at this").await;
        let first = wb.expect("message").await;
        assert!(first["message"].get("mentions").is_none());
        let second = wb.expect("message").await;
        assert_eq!(second["message"]["mentions"], json!([bob.id]), "clients notify a mention even when muted");
    }
);
