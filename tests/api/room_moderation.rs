//! Room moderation: the admin room routes by role, lock / read-only / slowmode enforced over
//! REST and WebSocket, clearing history and deleting rooms (live and afterwards), kicking and
//! banning in rooms, deleting messages, the audit entry of each action, and bad input.

use reqwest::Method;
use serde_json::{Value, json};

use crate::{
    db_test,
    helpers::{TestApp, TestUser, call as raw_call},
};

/// `method path` as `user` with `body`; returns the status and the JSON body (Null if none).
async fn call(
    app: &TestApp,
    user: &TestUser,
    method: Method,
    path: &str,
    body: Value,
) -> (u16, Value) {
    let resp = app
        .send_auth(method, &format!("/api/v1{path}"), &user.token, &body)
        .await;
    let status = resp.status().as_u16();
    let text = resp.text().await.unwrap_or_default();
    (status, serde_json::from_str(&text).unwrap_or(Value::Null))
}

/// `method path` without credentials.
async fn anonymous(app: &TestApp, method: Method, path: &str) -> u16 {
    raw_call(
        app.http
            .request(method, app.url(&format!("/api/v1{path}")))
            .json(&json!({})),
    )
    .await
    .status()
    .as_u16()
}

/// Everyone a moderation test needs: the setup admin, a server moderator, a room owner and two
/// plain members.
struct Cast {
    admin: TestUser,
    moderator: TestUser,
    owner: TestUser,
    bob: TestUser,
    carol: TestUser,
}

impl Cast {
    async fn new(app: &TestApp) -> Self {
        let admin = app.login("admin").await;
        let moderator = app.user("mod").await;
        assert_eq!(app.set_role(&moderator.id, "moderator").await.status(), 200);
        let moderator = app.login("mod").await;
        Self {
            admin,
            moderator,
            owner: app.user("owner").await,
            bob: app.user("bob").await,
            carol: app.user("carol").await,
        }
    }
}

/// The latest audit entries of `action` about `target`, as the admin reads them.
async fn audit(app: &TestApp, admin: &TestUser, action: &str, target: &str) -> Vec<Value> {
    let page = app
        .get_json(
            &format!("/api/v1/admin/audit?action={action}&target={target}"),
            &admin.token,
        )
        .await;
    page["entries"].as_array().unwrap().clone()
}

async fn patch(app: &TestApp, who: &TestUser, room: &str, body: Value) -> (u16, Value) {
    call(
        app,
        who,
        Method::PATCH,
        &format!("/admin/rooms/{room}"),
        body,
    )
    .await
}

db_test!(
    async fn admin_room_routes_answer_each_role(app) {
        let cast = Cast::new(&app).await;
        let room = app.room(&cast.owner, "Garden", "public").await;
        let doomed = app.room(&cast.owner, "Doomed", "public").await;
        let get_room = format!("/admin/rooms/{room}");
        let clear = format!("/admin/rooms/{room}/clear");
        // Anonymous callers are refused everywhere.
        for (method, path) in [
            (Method::GET, "/admin/rooms".to_owned()),
            (Method::GET, get_room.clone()),
            (Method::PATCH, get_room.clone()),
            (Method::POST, clear.clone()),
            (Method::DELETE, get_room.clone()),
            (Method::PUT, "/admin/categories/x".to_owned()),
        ] {
            assert_eq!(anonymous(&app, method.clone(), &path).await, 401, "{method} {path}");
        }
        // A plain member (even the room's owner) is refused the admin routes.
        for who in [&cast.bob, &cast.owner] {
            assert_eq!(call(&app, who, Method::GET, "/admin/rooms", json!(null)).await.0, 403);
            assert_eq!(call(&app, who, Method::GET, &get_room, json!(null)).await.0, 403);
            assert_eq!(patch(&app, who, &room, json!({"locked": true})).await.0, 403);
            assert_eq!(call(&app, who, Method::POST, &clear, json!({"reason": "x"})).await.0, 403);
            assert_eq!(call(&app, who, Method::DELETE, &get_room, json!(null)).await.0, 403);
            let (status, body) = call(&app, who, Method::PUT, "/admin/categories/a", json!({"name": "b"})).await;
            assert_eq!((status, body["code"].as_str()), (403, Some("permission_denied")));
        }
        // A server moderator moderates (list, lock, clear) but does not manage (name,
        // official, auto-join, delete, categories).
        let (status, body) = call(&app, &cast.moderator, Method::GET, "/admin/rooms?q=gar", json!(null)).await;
        assert_eq!(status, 200, "{body}");
        let rooms = body["rooms"].as_array().unwrap();
        assert_eq!(rooms.len(), 1, "{body}");
        assert_eq!(rooms[0]["name"], "Garden");
        assert_eq!(rooms[0]["member_count"], 1);
        assert_eq!(rooms[0]["locked"], false);
        assert_eq!(call(&app, &cast.moderator, Method::GET, &get_room, json!(null)).await.0, 200);
        let (status, body) = patch(&app, &cast.moderator, &room, json!({"locked": true, "slowmode_secs": 5})).await;
        assert_eq!(status, 200, "{body}");
        assert_eq!((body["locked"].as_bool(), body["slowmode_secs"].as_i64()), (Some(true), Some(5)));
        for field in [json!({"name": "Renamed"}), json!({"official": true}), json!({"auto_join": true})] {
            let (status, body) = patch(&app, &cast.moderator, &room, field.clone()).await;
            assert_eq!((status, body["code"].as_str()), (403, Some("permission_denied")), "{field}");
        }
        let (status, body) = call(&app, &cast.moderator, Method::POST, &clear, json!({"reason": "spam"})).await;
        assert_eq!((status, body["cleared_seq"].as_i64()), (200, Some(0)), "{body}");
        assert_eq!(call(&app, &cast.moderator, Method::DELETE, &format!("/admin/rooms/{doomed}"), json!(null)).await.0, 403);
        assert_eq!(call(&app, &cast.moderator, Method::PUT, "/admin/categories/a", json!({"name": "b"})).await.0, 403);
        // The admin does everything.
        let (status, body) = patch(&app, &cast.admin, &room, json!({
            "name": "Orchard", "official": true, "auto_join": false, "locked": false,
            "read_only": true, "topic": "apples", "category": "Outdoors"
        })).await;
        assert_eq!(status, 200, "{body}");
        assert_eq!(body["name"], "Orchard");
        assert_eq!(body["official"], true);
        assert_eq!(body["read_only"], true);
        assert_eq!(body["category"], "Outdoors");
        // Filters.
        let official = app.all_pages("/api/v1/admin/rooms?filter=official", "rooms", &cast.admin.token).await;
        assert!(official.iter().any(|r| r["id"] == room.as_str()));
        assert!(official.iter().all(|r| r["official"] == true));
        let read_only = app.all_pages("/api/v1/admin/rooms?filter=read_only", "rooms", &cast.admin.token).await;
        assert_eq!(read_only.len(), 1);
        let locked = app.all_pages("/api/v1/admin/rooms?filter=locked", "rooms", &cast.admin.token).await;
        assert!(locked.is_empty());
        // Paging covers every room once.
        let all = app.all_pages("/api/v1/admin/rooms?limit=1", "rooms", &cast.admin.token).await;
        let names: Vec<&str> = all.iter().map(|r| r["name"].as_str().unwrap()).collect();
        let one_page = app.get_json("/api/v1/admin/rooms?limit=200", &cast.admin.token).await;
        assert_eq!(names.len(), one_page["rooms"].as_array().unwrap().len(), "{names:?}");
        assert!(names.contains(&"Doomed") && names.contains(&"Orchard") && names.contains(&"Lobby"), "{names:?}");
        let mut sorted = names.clone();
        sorted.sort_by_key(|n| n.to_lowercase());
        assert_eq!(names, sorted);
        // Categories.
        let (status, body) = call(&app, &cast.admin, Method::PUT, "/admin/categories/Outdoors", json!({"name": "Nature"})).await;
        assert_eq!((status, body["rooms"].as_u64()), (200, Some(1)), "{body}");
        let view = app.get_json(&format!("/api/v1/admin/rooms/{room}"), &cast.admin.token).await;
        assert_eq!(view["category"], "Nature");
        assert_eq!(call(&app, &cast.admin, Method::DELETE, &format!("/admin/rooms/{doomed}"), json!(null)).await.0, 204);
        // Audited.
        let changes = audit(&app, &cast.admin, "room.settings_changed", &room).await;
        assert_eq!(changes.len(), 2, "{changes:?}");
        assert_eq!(changes[0]["details"]["changes"]["name"]["to"], "Orchard");
        assert_eq!(changes[1]["details"]["changes"]["locked"]["to"], true);
        assert_eq!(changes[1]["actor_id"], cast.moderator.id.as_str());
        assert_eq!(audit(&app, &cast.admin, "room.history_cleared", &room).await[0]["details"]["reason"], "spam");
        let renamed = app.get_json("/api/v1/admin/audit?action=category.renamed", &cast.admin.token).await;
        assert_eq!(renamed["entries"][0]["details"]["to"], "Nature");
        assert_eq!(audit(&app, &cast.admin, "room.deleted", &doomed).await[0]["details"]["name"], "Doomed");
    }
);

db_test!(
    async fn lock_read_only_and_slowmode_hold_over_rest_and_websocket(app) {
        let cast = Cast::new(&app).await;
        let room = app.room(&cast.owner, "Hall", "public").await;
        app.join(&cast.bob, &room).await;
        let (mut wb, _) = app.ws(&cast.bob).await;

        // Lock: nobody new joins; server moderators still may; members stay.
        assert_eq!(patch(&app, &cast.admin, &room, json!({"locked": true})).await.0, 200);
        let updated = wb.expect("conversation_updated").await;
        assert_eq!((updated["conversation_id"].as_str(), updated["locked"].as_bool()), (Some(room.as_str()), Some(true)));
        let (status, body) = call(&app, &cast.carol, Method::POST, &format!("/rooms/{room}/join"), json!({})).await;
        assert_eq!((status, body["code"].as_str()), (403, Some("room_locked")), "{body}");
        let view = app.get_json(&format!("/api/v1/conversations/{room}"), &cast.carol.token).await;
        assert_eq!(view["locked"], true);
        assert!(!view["permissions"].as_array().unwrap().contains(&json!("conversation.join")));
        assert_eq!(call(&app, &cast.moderator, Method::POST, &format!("/rooms/{room}/join"), json!({})).await.0, 200);
        app.send(&cast.bob, &room, "still here").await;
        assert_eq!(patch(&app, &cast.admin, &room, json!({"locked": false})).await.0, 200);
        assert_eq!(wb.expect("conversation_updated").await["locked"], false);
        app.join(&cast.carol, &room).await;

        // Read-only: plain members cannot post (REST and WebSocket); the owner and server
        // moderators can.
        assert_eq!(patch(&app, &cast.moderator, &room, json!({"read_only": true})).await.0, 200);
        let updated = wb.expect("conversation_updated").await;
        assert_eq!(updated["read_only"], true);
        let (status, body) = call(&app, &cast.bob, Method::POST, &format!("/conversations/{room}/messages"), json!({"body": "hi"})).await;
        assert_eq!((status, body["code"].as_str()), (403, Some("read_only")), "{body}");
        wb.send_json(json!({"type": "send", "conversation_id": room, "client_id": "ro-1", "body": "hi"})).await;
        let err = wb.expect("error").await;
        assert_eq!((err["code"].as_str(), err["client_id"].as_str()), (Some("read_only"), Some("ro-1")));
        let view = app.get_json(&format!("/api/v1/conversations/{room}"), &cast.bob.token).await;
        assert!(!view["permissions"].as_array().unwrap().contains(&json!("message.send")));
        app.send(&cast.owner, &room, "announcement").await;
        app.send(&cast.moderator, &room, "from the staff").await;
        assert_eq!(patch(&app, &cast.moderator, &room, json!({"read_only": false})).await.0, 200);
        assert_eq!(wb.expect("conversation_updated").await["read_only"], false);

        // Slowmode: one message per interval for plain members; 429 `slowmode` with the wait.
        assert_eq!(patch(&app, &cast.moderator, &room, json!({"slowmode_secs": 120})).await.0, 200);
        let updated = wb.expect("conversation_updated").await;
        assert_eq!(updated["slowmode_secs"], 120);
        app.send(&cast.bob, &room, "first").await;
        let resp = app.post_auth(&format!("/api/v1/conversations/{room}/messages"), &cast.bob.token, &json!({"body": "second"})).await;
        assert_eq!(resp.status(), 429);
        let retry: u64 = resp.headers()["retry-after"].to_str().unwrap().parse().unwrap();
        assert!((100..=120).contains(&retry), "{retry}");
        let body: Value = resp.json().await.unwrap();
        assert_eq!(body["code"], "slowmode");
        assert!(body["message"].as_str().unwrap().starts_with("slowmode: wait "), "{body}");
        wb.send_json(json!({"type": "send", "conversation_id": room, "client_id": "sm-1", "body": "third"})).await;
        let err = wb.expect("error").await;
        assert_eq!((err["code"].as_str(), err["client_id"].as_str()), (Some("slowmode"), Some("sm-1")));
        let wait = err["retry_after_ms"].as_u64().unwrap();
        assert!(wait > 100_000 && wait <= 120_000, "{wait}");
        // Per member; the owner and server moderators are exempt.
        app.send(&cast.carol, &room, "carol's one").await;
        for _ in 0..2 {
            app.send(&cast.owner, &room, "owner talks freely").await;
            app.send(&cast.moderator, &room, "moderator too").await;
        }
        // Off again: bob may post at once.
        assert_eq!(patch(&app, &cast.moderator, &room, json!({"slowmode_secs": 0})).await.0, 200);
        app.send(&cast.bob, &room, "free again").await;
        let history = app.get_json(&format!("/api/v1/conversations/{room}/messages"), &cast.bob.token).await;
        let bodies: Vec<&str> = history["messages"].as_array().unwrap().iter().map(|m| m["body"].as_str().unwrap()).collect();
        assert!(!bodies.contains(&"second") && !bodies.contains(&"third") && !bodies.contains(&"hi"), "{bodies:?}");
        assert!(bodies.contains(&"free again"));
        let changes = audit(&app, &cast.admin, "room.settings_changed", &room).await;
        assert_eq!(changes.len(), 6, "{changes:?}");
    }
);

db_test!(
    async fn clearing_history_is_seen_live_and_in_history(app) {
        let cast = Cast::new(&app).await;
        let room = app.room(&cast.owner, "Chatter", "public").await;
        app.join(&cast.bob, &room).await;
        for i in 0..3 {
            app.send(&cast.owner, &room, &format!("old {i}")).await;
        }
        let (mut wb, _) = app.ws(&cast.bob).await;
        let (status, body) = call(&app, &cast.moderator, Method::POST, &format!("/admin/rooms/{room}/clear"), json!({"reason": "cleanup"})).await;
        assert_eq!((status, body["cleared_seq"].as_i64()), (200, Some(3)), "{body}");
        let frame = wb.expect("history_cleared").await;
        assert_eq!((frame["conversation_id"].as_str(), frame["cleared_seq"].as_i64()), (Some(room.as_str()), Some(3)));
        let history = app.get_json(&format!("/api/v1/conversations/{room}/messages"), &cast.bob.token).await;
        assert_eq!(history["messages"], json!([]));
        let view = app.get_json(&format!("/api/v1/conversations/{room}"), &cast.bob.token).await;
        assert_eq!(view["unread_count"], 0);
        let fresh = app.send(&cast.owner, &room, "new").await;
        assert_eq!(fresh["seq"], 4);
        let live = wb.expect("message").await;
        assert_eq!(live["message"]["seq"], 4);
        let history = app.get_json(&format!("/api/v1/conversations/{room}/messages?after_seq=0"), &cast.bob.token).await;
        let seqs: Vec<i64> = history["messages"].as_array().unwrap().iter().map(|m| m["seq"].as_i64().unwrap()).collect();
        assert_eq!(seqs, [4]);
        // Resume starts after the cleared seq too.
        wb.send_json(json!({"type": "resume", "conversation_id": room, "after_seq": 0})).await;
        let resumed = wb.expect("message").await;
        assert_eq!(resumed["message"]["seq"], 4, "resume starts after the cleared seq");
        let entry = &audit(&app, &cast.admin, "room.history_cleared", &room).await[0];
        assert_eq!(entry["details"]["cleared_seq"], 3);
        assert_eq!(entry["details"]["reason"], "cleanup");
        assert_eq!(entry["actor_id"], cast.moderator.id.as_str());
    }
);

db_test!(
    async fn deleting_a_room_removes_it_live_and_for_good(app) {
        let cast = Cast::new(&app).await;
        let room = app.room(&cast.owner, "Gone", "public").await;
        let other = app.room(&cast.owner, "Stays", "public").await;
        app.join(&cast.bob, &room).await;
        app.join(&cast.bob, &other).await;
        app.send(&cast.bob, &room, "a message").await;
        let (mut wb, _) = app.ws(&cast.bob).await;
        assert_eq!(call(&app, &cast.admin, Method::DELETE, &format!("/admin/rooms/{room}?reason=abandoned"), json!(null)).await.0, 204);
        let frame = wb.expect("conversation_deleted").await;
        assert_eq!(frame["conversation_id"], room.as_str());
        // No more frames of it reach bob; the connection still works (a marker in another room).
        wb.send_json(json!({"type": "send", "conversation_id": room, "client_id": "gone-1", "body": "hello?"})).await;
        let err = wb.expect("error").await;
        assert_eq!((err["code"].as_str(), err["client_id"].as_str()), (Some("not_found"), Some("gone-1")));
        app.send(&cast.owner, &other, "marker").await;
        let marker = wb.expect("message").await;
        assert_eq!(marker["message"]["conversation_id"], other.as_str());
        assert_eq!(call(&app, &cast.bob, Method::GET, &format!("/conversations/{room}"), json!(null)).await.0, 404);
        assert_eq!(call(&app, &cast.admin, Method::GET, &format!("/admin/rooms/{room}"), json!(null)).await.0, 404);
        let mine = app.all_pages("/api/v1/conversations", "conversations", &cast.bob.token).await;
        assert!(mine.iter().all(|c| c["id"] != room.as_str()));
        let entry = &audit(&app, &cast.admin, "room.deleted", &room).await[0];
        assert_eq!(entry["details"]["name"], "Gone");
        assert_eq!(entry["details"]["reason"], "abandoned");
        assert_eq!(entry["details"]["messages"], 1);
        // Twice: 404. Groups and DMs are not rooms: 404 here.
        assert_eq!(call(&app, &cast.admin, Method::DELETE, &format!("/admin/rooms/{room}"), json!(null)).await.0, 404);
        let (status, dm) = call(&app, &cast.bob, Method::POST, "/dms", json!({"username": "carol"})).await;
        assert!(status == 200 || status == 201, "{dm}");
        let dm = dm["id"].as_str().unwrap();
        let (status, group) = call(&app, &cast.bob, Method::POST, "/groups", json!({"name": "Pals"})).await;
        assert_eq!(status, 201);
        let group = group["id"].as_str().unwrap();
        for id in [dm, group] {
            let (status, body) = call(&app, &cast.admin, Method::DELETE, &format!("/admin/rooms/{id}"), json!(null)).await;
            assert_eq!((status, body["code"].as_str()), (404, Some("not_found")));
            assert_eq!(patch(&app, &cast.admin, id, json!({"locked": true})).await.0, 404);
            assert_eq!(call(&app, &cast.admin, Method::POST, &format!("/admin/rooms/{id}/clear"), json!({"reason": "x"})).await.0, 404);
        }
        assert_eq!(call(&app, &cast.bob, Method::GET, &format!("/conversations/{dm}"), json!(null)).await.0, 200);
    }
);

db_test!(
    async fn kicks_and_bans_in_rooms(app) {
        let cast = Cast::new(&app).await;
        let room = app.room(&cast.owner, "Club", "public").await;
        app.join(&cast.bob, &room).await;
        app.join(&cast.carol, &room).await;
        let (mut wb, _) = app.ws(&cast.bob).await;
        let kick = |who: &TestUser| format!("/rooms/{room}/members/{}/kick", who.id);
        let ban = |who: &TestUser| format!("/rooms/{room}/members/{}/ban", who.id);
        // Plain members, anonymous callers and strangers are refused.
        let (status, body) = call(&app, &cast.carol, Method::POST, &kick(&cast.bob), json!({})).await;
        assert_eq!((status, body["code"].as_str()), (403, Some("permission_denied")), "{body}");
        assert_eq!(call(&app, &cast.carol, Method::POST, &ban(&cast.bob), json!({})).await.0, 403);
        assert_eq!(anonymous(&app, Method::POST, &kick(&cast.bob)).await, 401);
        // Kicking oneself, or someone not in the room.
        let (status, body) = call(&app, &cast.owner, Method::POST, &kick(&cast.owner), json!({})).await;
        assert_eq!((status, body["code"].as_str()), (422, Some("cannot_target_self")));
        assert_eq!(call(&app, &cast.owner, Method::POST, &kick(&cast.admin), json!({})).await.0, 404);
        // The owner kicks bob: he is told live, and may come back.
        let (status, body) = call(&app, &cast.owner, Method::POST, &kick(&cast.bob), json!({"reason": "calm down"})).await;
        assert_eq!(status, 204, "{body}");
        let left = wb.expect("member_left").await;
        assert_eq!((left["user_id"].as_str(), left["reason"].as_str()), (Some(cast.bob.id.as_str()), Some("kicked")));
        assert_eq!(call(&app, &cast.bob, Method::GET, &format!("/conversations/{room}/messages"), json!(null)).await.0, 403);
        app.join(&cast.bob, &room).await;
        // A server moderator who is not in the room bans bob: he leaves and cannot come back.
        let (status, body) = call(&app, &cast.moderator, Method::POST, &ban(&cast.bob), json!({"reason": "spam"})).await;
        assert_eq!(status, 204, "{body}");
        let left = wb.expect("member_left").await;
        assert_eq!(left["reason"], "banned");
        let (status, body) = call(&app, &cast.bob, Method::POST, &format!("/rooms/{room}/join"), json!({})).await;
        assert_eq!(status, 403, "{body}");
        let (status, _) = call(&app, &cast.carol, Method::POST, &format!("/rooms/{room}/invites"), json!({"username": "bob"})).await;
        assert_eq!(status, 403);
        // Banning again changes nothing; banning someone who never joined works.
        assert_eq!(call(&app, &cast.owner, Method::POST, &ban(&cast.bob), json!({})).await.0, 204);
        let dave = app.user("dave").await;
        assert_eq!(call(&app, &cast.owner, Method::POST, &ban(&dave), json!({})).await.0, 204);
        assert_eq!(call(&app, &dave, Method::POST, &format!("/rooms/{room}/join"), json!({})).await.0, 403);
        // A member cannot lift a ban; the owner can; then bob joins again.
        assert_eq!(call(&app, &cast.carol, Method::DELETE, &ban(&cast.bob), json!(null)).await.0, 403);
        assert_eq!(call(&app, &cast.owner, Method::DELETE, &ban(&cast.bob), json!(null)).await.0, 204);
        assert_eq!(call(&app, &cast.owner, Method::DELETE, &ban(&cast.bob), json!(null)).await.0, 404);
        app.join(&cast.bob, &room).await;
        // Audited with the reasons.
        let kicked = audit(&app, &cast.admin, "member.kicked", &room).await;
        assert_eq!(kicked[0]["details"]["reason"], "calm down");
        assert_eq!(kicked[0]["details"]["user_id"], cast.bob.id.as_str());
        let banned = audit(&app, &cast.admin, "member.banned", &room).await;
        assert_eq!(banned.len(), 2, "{banned:?}");
        assert_eq!(banned[1]["details"]["reason"], "spam");
        assert_eq!(banned[1]["actor_id"], cast.moderator.id.as_str());
        assert_eq!(audit(&app, &cast.admin, "member.unbanned", &room).await.len(), 1);
        // Bad input: a reason over 500 characters; an unknown room.
        let long = "x".repeat(501);
        let (status, body) = call(&app, &cast.owner, Method::POST, &kick(&cast.carol), json!({"reason": long})).await;
        assert_eq!((status, body["code"].as_str()), (422, Some("invalid_reason")), "{body}");
        let unknown = uuid::Uuid::now_v7();
        assert_eq!(call(&app, &cast.admin, Method::POST, &format!("/rooms/{unknown}/members/{}/ban", cast.carol.id), json!({})).await.0, 404);
    }
);

db_test!(
    async fn deleting_messages_live_and_in_history(app) {
        let cast = Cast::new(&app).await;
        let room = app.room(&cast.owner, "Board", "public").await;
        app.join(&cast.bob, &room).await;
        app.join(&cast.carol, &room).await;
        let mine = app.send(&cast.bob, &room, "my own").await;
        let theirs = app.send(&cast.carol, &room, "rude words").await;
        let (mut wb, _) = app.ws(&cast.bob).await;
        let delete = |seq: &Value| format!("/conversations/{room}/messages/{seq}");
        // A member deletes their own message, not someone else's.
        assert_eq!(call(&app, &cast.bob, Method::DELETE, &delete(&mine["seq"]), json!(null)).await.0, 204);
        let frame = wb.expect("message_deleted").await;
        assert_eq!((frame["conversation_id"].as_str(), frame["seq"].as_i64()), (Some(room.as_str()), mine["seq"].as_i64()));
        let (status, body) = call(&app, &cast.bob, Method::DELETE, &delete(&theirs["seq"]), json!(null)).await;
        assert_eq!((status, body["code"].as_str()), (403, Some("permission_denied")));
        assert_eq!(anonymous(&app, Method::DELETE, &delete(&theirs["seq"])).await, 401);
        // A server moderator (not in the room) deletes anyone's, with a reason.
        let path = format!("{}?reason=insults", delete(&theirs["seq"]));
        assert_eq!(call(&app, &cast.moderator, Method::DELETE, &path, json!(null)).await.0, 204);
        let frame = wb.expect("message_deleted").await;
        assert_eq!(frame["seq"], theirs["seq"]);
        // History shows both as deleted with empty bodies.
        let history = app.get_json(&format!("/api/v1/conversations/{room}/messages"), &cast.carol.token).await;
        for m in history["messages"].as_array().unwrap() {
            assert_eq!((m["deleted"].as_bool(), m["body"].as_str()), (Some(true), Some("")), "{m}");
        }
        // The room's owner deletes too; again is a no-op; unknown seq is 404.
        let third = app.send(&cast.carol, &room, "more").await;
        assert_eq!(call(&app, &cast.owner, Method::DELETE, &delete(&third["seq"]), json!(null)).await.0, 204);
        assert_eq!(call(&app, &cast.owner, Method::DELETE, &delete(&third["seq"]), json!(null)).await.0, 204);
        assert_eq!(call(&app, &cast.owner, Method::DELETE, &delete(&json!(99)), json!(null)).await.0, 404);
        // The audit log keeps the old text of moderator deletions (an author's own deletion is
        // not an administrative act: its text is gone).
        let entries = audit(&app, &cast.admin, "message.deleted", &room).await;
        assert_eq!(entries.len(), 2, "{entries:?}");
        assert!(entries.iter().all(|e| e["details"]["body"] != "my own"), "{entries:?}");
        let by_mod = entries.iter().find(|e| e["actor_id"] == cast.moderator.id.as_str()).unwrap();
        assert_eq!(by_mod["details"]["body"], "rude words");
        assert_eq!(by_mod["details"]["reason"], "insults");
        assert_eq!(by_mod["details"]["own"], false);
    }
);

db_test!(
    async fn bad_input_gets_clear_errors(app) {
        let cast = Cast::new(&app).await;
        let room = app.room(&cast.owner, "Strict", "public").await;
        for secs in [21_601_i64, -1, 1_000_000_000_000] {
            let (status, body) = patch(&app, &cast.admin, &room, json!({"slowmode_secs": secs})).await;
            assert_eq!((status, body["code"].as_str()), (422, Some("invalid_slowmode")), "{secs}: {body}");
        }
        let (status, body) = patch(&app, &cast.admin, &room, json!({"slowmode_secs": 21_600})).await;
        assert_eq!((status, body["slowmode_secs"].as_i64()), (200, Some(21_600)));
        let (status, body) = patch(&app, &cast.admin, &room, json!({"slowmode_secs": "soon"})).await;
        assert_eq!((status, body["code"].as_str()), (400, Some("bad_request")));
        let (status, body) = patch(&app, &cast.admin, &room, json!({"colour": "red"})).await;
        assert_eq!(status, 400, "{body}");
        let (status, body) = patch(&app, &cast.admin, &room, json!({"name": ""})).await;
        assert_eq!((status, body["code"].as_str()), (422, Some("invalid_room_name")));
        let lobby = app.lobby(&cast.admin).await;
        let (status, body) = patch(&app, &cast.admin, &lobby, json!({"name": "strict"})).await;
        assert_eq!((status, body["code"].as_str()), (409, Some("room_name_taken")));
        let unknown = uuid::Uuid::now_v7();
        assert_eq!(patch(&app, &cast.admin, &unknown.to_string(), json!({"locked": true})).await.0, 404);
        assert_eq!(call(&app, &cast.admin, Method::GET, "/admin/rooms/not-a-uuid", json!(null)).await.0, 400);
        let clear = format!("/admin/rooms/{room}/clear");
        for reason in [json!(""), json!("x".repeat(501)), json!("a\u{0007}b")] {
            let (status, body) = call(&app, &cast.admin, Method::POST, &clear, json!({"reason": reason})).await;
            assert_eq!((status, body["code"].as_str()), (422, Some("invalid_reason")), "{body}");
        }
        assert_eq!(call(&app, &cast.admin, Method::POST, &clear, json!({})).await.0, 400);
        let (status, body) = call(&app, &cast.admin, Method::GET, "/admin/rooms?filter=huge", json!(null)).await;
        assert_eq!(status, 400, "{body}");
        for (query, expected) in [("cursor=nonsense", 422), ("limit=0", 422), ("limit=201", 422), ("q=", 200)] {
            let (status, _) = call(&app, &cast.admin, Method::GET, &format!("/admin/rooms?{query}"), json!(null)).await;
            assert_eq!(status, expected, "{query}");
        }
        let (status, body) = call(&app, &cast.admin, Method::GET, &format!("/admin/rooms?q={}", "q".repeat(65)), json!(null)).await;
        assert_eq!((status, body["code"].as_str()), (422, Some("invalid_query")));
        let (status, body) = call(&app, &cast.admin, Method::PUT, "/admin/categories/a", json!({"name": "  "})).await;
        assert_eq!((status, body["code"].as_str()), (422, Some("invalid_category")), "{body}");
        let (status, body) = call(&app, &cast.admin, Method::PUT, "/admin/categories/none-here", json!({"name": "b"})).await;
        assert_eq!((status, body["rooms"].as_u64()), (200, Some(0)));
        let (status, body) = call(&app, &cast.admin, Method::DELETE, &format!("/admin/rooms/{room}?reason={}", "r".repeat(501)), json!(null)).await;
        assert_eq!((status, body["code"].as_str()), (422, Some("invalid_reason")));
        // Nothing of that changed the room (but the one valid slowmode).
        let view = app.get_json(&format!("/api/v1/admin/rooms/{room}"), &cast.admin.token).await;
        assert_eq!((view["name"].as_str(), view["slowmode_secs"].as_i64()), (Some("Strict"), Some(21_600)));
    }
);
