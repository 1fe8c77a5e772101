//! The live public directory: `room_listed` / `room_unlisted` to every connection (never for
//! private rooms), coalesced `room_stats` member counts, and `GET /rooms` search, category
//! filter, sorting and `GET /rooms/categories`.

use reqwest::Method;
use serde_json::{Value, json};

use crate::{db_test, helpers::WsClient};

/// Frames until one of `kind` whose `key` is `value` arrives; returns them all (the match last).
async fn until(ws: &mut WsClient, kind: &str, check: impl Fn(&Value) -> bool) -> Vec<Value> {
    let mut seen = Vec::new();
    loop {
        let frame = ws.next_json().await;
        let done = frame["type"] == kind && check(&frame);
        seen.push(frame);
        if done {
            return seen;
        }
    }
}

async fn create(app: &crate::helpers::TestApp, token: &str, body: Value) -> Value {
    let resp = app.post_auth("/api/v1/rooms", token, &body).await;
    assert_eq!(resp.status(), 201, "create room {body}");
    resp.json().await.unwrap()
}

db_test!(
    async fn public_rooms_appear_and_disappear_live_and_private_rooms_never(app) {
        let admin = app.login("admin").await;
        let alice = app.user("dira").await;
        let bob = app.user("dirb").await;
        let (mut ws, _) = app.ws(&bob).await;

        let live = create(&app, &alice.token, json!({"name": "Live Room", "visibility": "public", "topic": "all about live", "category": "Fun"})).await;
        let live_id = live["id"].as_str().unwrap().to_owned();
        let frames = until(&mut ws, "room_listed", |f| f["room"]["id"] == live["id"]).await;
        let entry = &frames.last().unwrap()["room"];
        assert_eq!(entry["name"], "Live Room");
        assert_eq!(entry["topic"], "all about live");
        assert_eq!(entry["category"], "Fun");
        assert_eq!(entry["member_count"], 1);
        assert!(entry.get("membership").is_none(), "a non-member's view: {entry}");
        assert!(entry.get("role").is_none(), "{entry}");
        assert!(entry["permissions"].as_array().unwrap().iter().any(|p| p == "conversation.join"), "{entry}");

        // A private room is never announced: the next public one is the first listing bob gets.
        let secret = create(&app, &alice.token, json!({"name": "Hush", "visibility": "private", "topic": "secret plans"})).await;
        let marker = create(&app, &alice.token, json!({"name": "Marker", "visibility": "public"})).await;
        let frames = until(&mut ws, "room_listed", |f| f["room"]["id"] == marker["id"]).await;
        let text = serde_json::to_string(&frames).unwrap();
        assert!(!text.contains(secret["id"].as_str().unwrap()) && !text.contains("Hush"), "private room leaked: {text}");

        // A topic change is a new listing.
        let resp = app.send_auth(Method::PATCH, &format!("/api/v1/rooms/{live_id}"), &alice.token, &json!({"topic": "new topic"})).await;
        assert_eq!(resp.status(), 200);
        let frames = until(&mut ws, "room_listed", |f| f["room"]["id"] == live["id"]).await;
        assert_eq!(frames.last().unwrap()["room"]["topic"], "new topic");

        // Deleting: the private room tells bob nothing, the public ones are unlisted.
        let secret_id = secret["id"].as_str().unwrap();
        for id in [secret_id, live_id.as_str()] {
            let resp = app.send_auth(Method::DELETE, &format!("/api/v1/admin/rooms/{id}?reason=cleanup"), &admin.token, &Value::Null).await;
            assert_eq!(resp.status(), 204, "delete {id}");
        }
        let frames = until(&mut ws, "room_unlisted", |_| true).await;
        assert_eq!(frames.last().unwrap()["room_id"], live["id"], "the private room is not unlisted: {frames:?}");
    }
);

db_test!(
    async fn member_counts_are_coalesced_room_stats_for_public_rooms_only(app) {
        let alice = app.user("cnta").await;
        let watcher = app.user("cntw").await;
        let mut joiners = Vec::new();
        for i in 0..5 {
            joiners.push(app.user(&format!("cnt{i}")).await);
        }
        let room = create(&app, &alice.token, json!({"name": "Busy", "visibility": "public"})).await;
        let room_id = room["id"].as_str().unwrap().to_owned();
        let private = app.room(&alice, "Quiet", "private").await;
        let (mut ws, _) = app.ws(&watcher).await;

        // A private room's membership changes are never counted in public.
        let resp = app.post_auth(&format!("/api/v1/rooms/{private}/invites"), &alice.token, &json!({"username": "cnt0"})).await;
        assert_eq!(resp.status(), 201);
        app.join(&joiners[0], &private).await;

        // Five joins in quick succession: one or two frames (one per second), ending at 6.
        for user in &joiners {
            app.join(user, &room_id).await;
        }
        let frames = until(&mut ws, "room_stats", |f| f["room_id"] == room["id"] && f["member_count"] == 6).await;
        let stats: Vec<&Value> = frames.iter().filter(|f| f["type"] == "room_stats").collect();
        assert!(stats.iter().all(|f| f["room_id"] != private.as_str()), "a private room is never counted in public: {stats:?}");
        // (the Lobby, public too, is counted when the test users register; the room's own
        // creation may be counted after the socket connected)
        let joins: Vec<&&Value> = stats.iter().filter(|f| f["room_id"] == room["id"] && f["member_count"].as_i64() > Some(1)).collect();
        assert!(joins.len() <= 2, "five joins within a second are coalesced into one or two frames: {stats:?}");

        // A leave is counted too.
        let resp = app.post_auth(&format!("/api/v1/rooms/{room_id}/leave"), &joiners[4].token, &json!({})).await;
        assert_eq!(resp.status(), 204);
        let frames = until(&mut ws, "room_stats", |f| f["room_id"] == room["id"]).await;
        assert_eq!(frames.last().unwrap()["member_count"], 5);

        // The REST directory agrees.
        let page = app.get_json("/api/v1/rooms?q=busy", &alice.token).await;
        assert_eq!(page["rooms"][0]["member_count"], 5);
    }
);

db_test!(
    async fn the_directory_searches_filters_and_sorts(app) {
        let a = app.user("sorta").await;
        let b = app.user("sortb").await;
        let c = app.user("sortc").await;
        // Created in this order (newest last), with 1, 3 and 2 members.
        let alpha = create(&app, &a.token, json!({"name": "Zq Alpha", "visibility": "public", "topic": "rust talk", "category": "Zqcat"})).await;
        let beta = create(&app, &a.token, json!({"name": "Zq Beta", "visibility": "public", "category": "zqcat"})).await;
        let gamma = create(&app, &a.token, json!({"name": "Zq Gamma", "visibility": "public", "category": "Other Zq"})).await;
        create(&app, &a.token, json!({"name": "Zq Hidden", "visibility": "private", "category": "Secretcat"})).await;
        for user in [&b, &c] {
            app.join(user, beta["id"].as_str().unwrap()).await;
        }
        app.join(&b, gamma["id"].as_str().unwrap()).await;
        let names = |page: &Value| -> Vec<String> { page["rooms"].as_array().unwrap().iter().map(|r| r["name"].as_str().unwrap().to_owned()).collect() };

        // q matches name, topic and category, case-insensitively.
        assert_eq!(names(&app.get_json("/api/v1/rooms?q=RUST", &a.token).await), ["Zq Alpha"]);
        assert_eq!(names(&app.get_json("/api/v1/rooms?q=other%20zq", &a.token).await), ["Zq Gamma"]);
        assert_eq!(names(&app.get_json("/api/v1/rooms?q=zq", &a.token).await), ["Zq Alpha", "Zq Beta", "Zq Gamma"]);
        assert!(names(&app.get_json("/api/v1/rooms?q=secretcat", &a.token).await).is_empty(), "private rooms are not listed");

        // category: whole value, case-insensitive.
        assert_eq!(names(&app.get_json("/api/v1/rooms?category=ZQCAT", &a.token).await), ["Zq Alpha", "Zq Beta"]);
        assert!(names(&app.get_json("/api/v1/rooms?category=zq", &a.token).await).is_empty());

        // Orders, also across pages of one room.
        for (sort, expected) in [("name", ["Zq Alpha", "Zq Beta", "Zq Gamma"]), ("members", ["Zq Beta", "Zq Gamma", "Zq Alpha"]), ("newest", ["Zq Gamma", "Zq Beta", "Zq Alpha"])] {
            assert_eq!(names(&app.get_json(&format!("/api/v1/rooms?q=zq&sort={sort}"), &a.token).await), expected, "sort={sort}");
            let paged = app.all_pages(&format!("/api/v1/rooms?q=zq&sort={sort}&limit=1"), "rooms", &a.token).await;
            let paged: Vec<&str> = paged.iter().map(|r| r["name"].as_str().unwrap()).collect();
            assert_eq!(paged, expected, "sort={sort}, paged");
        }
        // Official rooms stay first in every order.
        for sort in ["name", "members", "newest"] {
            let page = app.get_json(&format!("/api/v1/rooms?sort={sort}"), &a.token).await;
            let flags: Vec<bool> = page["rooms"].as_array().unwrap().iter().map(|r| r["official"].as_bool().unwrap()).collect();
            assert!(flags.windows(2).all(|w| w[0] >= w[1]), "sort={sort}: {flags:?}");
        }

        // Bad input.
        assert_eq!(app.get("/api/v1/rooms?sort=popular", &a.token).await.status(), 400);
        let long = "x".repeat(65);
        assert_eq!(app.get(&format!("/api/v1/rooms?category={long}"), &a.token).await.status(), 422);
        assert_eq!(app.get("/api/v1/rooms?category=%07", &a.token).await.status(), 422);

        // The categories of public rooms, with counts (the private room's is not there).
        let cats = app.get_json("/api/v1/rooms/categories", &a.token).await;
        let list = cats["categories"].as_array().unwrap();
        assert!(list.iter().any(|c| c["name"] == "Zqcat" && c["room_count"] == 1), "{cats}");
        assert!(list.iter().any(|c| c["name"] == "Other Zq" && c["room_count"] == 1), "{cats}");
        assert!(!list.iter().any(|c| c["name"] == "Secretcat"), "{cats}");
        assert_eq!(app.get("/api/v1/rooms/categories", "not-a-token").await.status(), 401);
        let _ = alpha;
    }
);
