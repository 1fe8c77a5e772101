//! Rooms (official, public, private), invites, DMs, and my conversation list.

use serde_json::{Value, json};

use crate::db_test;

db_test!(
    async fn official_rooms_are_seeded_and_searchable(app) {
        let amy = app.user("amy").await;
        let rooms = app.all_pages("/api/v1/rooms", "rooms", &amy.token).await;
        let names: Vec<&str> = rooms.iter().map(|r| r["name"].as_str().unwrap()).collect();
        for name in ["Lobby", "Help", "Tech", "Music", "Gaming", "Off-topic"] {
            assert!(names.contains(&name), "{name} in {names:?}");
        }
        let lobby = rooms.iter().find(|r| r["name"] == "Lobby").unwrap();
        assert_eq!(lobby["official"], true);
        assert_eq!(lobby["category"], "General");
        assert_eq!(lobby["kind"], "room");
        assert_eq!(lobby["membership"], "joined", "new accounts auto-join the Lobby");

        let found = app.get_json("/api/v1/rooms?q=MUS", &amy.token).await;
        assert_eq!(found["rooms"].as_array().unwrap().len(), 1);
        assert_eq!(found["rooms"][0]["name"], "Music");
        assert_eq!(found.get("next_cursor"), None);
        assert_eq!(app.get_json("/api/v1/rooms?q=zzz", &amy.token).await, json!({"rooms": []}));
    }
);

db_test!(
    async fn public_rooms_can_be_created_joined_and_left(app) {
        let owner = app.user("olga").await;
        let guest = app.user("gus").await;
        let room = app.room(&owner, "Book Club", "public").await;
        let dup = app.post_auth("/api/v1/rooms", &guest.token, &json!({"name": "book club", "visibility": "public"})).await;
        assert_eq!(dup.status(), 409);
        let bad = app.post_auth("/api/v1/rooms", &guest.token, &json!({"name": "  ", "visibility": "public"})).await;
        assert_eq!(bad.status(), 422);

        let listed = app.get_json("/api/v1/rooms?q=book", &guest.token).await;
        assert_eq!(listed["rooms"][0]["id"], room.as_str());
        assert_eq!(listed["rooms"][0].get("membership"), None, "absent, not null");

        // Not a member yet: cannot read or post.
        let read = app.get(&format!("/api/v1/conversations/{room}/messages"), &guest.token).await;
        assert_eq!(read.status(), 403);
        let post = app.post_auth(&format!("/api/v1/conversations/{room}/messages"), &guest.token, &json!({"body": "hi"})).await;
        assert_eq!(post.status(), 403);

        let joined: Value = app.post_auth(&format!("/api/v1/rooms/{room}/join"), &guest.token, &json!({})).await.json().await.unwrap();
        assert_eq!(joined["membership"], "joined");
        assert_eq!(joined["member_count"], 2);
        app.send(&guest, &room, "hello club").await;

        let left = app.post_auth(&format!("/api/v1/rooms/{room}/leave"), &guest.token, &json!({})).await;
        assert_eq!(left.status(), 204);
        let post = app.post_auth(&format!("/api/v1/conversations/{room}/messages"), &guest.token, &json!({"body": "still here?"})).await;
        assert_eq!(post.status(), 403);
        let mine = app.all_pages("/api/v1/conversations", "conversations", &guest.token).await;
        assert!(mine.iter().all(|c| c["id"] != room.as_str()));
    }
);

db_test!(
    async fn private_rooms_admit_only_invited_users(app) {
        let owner = app.user("paula").await;
        let friend = app.user("fred").await;
        let stranger = app.user("sid").await;
        let room = app.room(&owner, "Secret Lair", "private").await;

        let listed = app.get_json("/api/v1/rooms?q=secret", &stranger.token).await;
        assert_eq!(listed, json!({"rooms": []}), "private rooms are not in the directory");
        let join = app.post_auth(&format!("/api/v1/rooms/{room}/join"), &stranger.token, &json!({})).await;
        assert_eq!(join.status(), 404);
        let read = app.get(&format!("/api/v1/conversations/{room}/messages"), &stranger.token).await;
        assert_eq!(read.status(), 404);

        // Only members invite.
        let by_stranger = app.post_auth(&format!("/api/v1/rooms/{room}/invites"), &stranger.token, &json!({"username": "sid"})).await;
        assert_eq!(by_stranger.status(), 404);
        let unknown = app.post_auth(&format!("/api/v1/rooms/{room}/invites"), &owner.token, &json!({"username": "ghost"})).await;
        assert_eq!(unknown.status(), 404);
        let invite = app.post_auth(&format!("/api/v1/rooms/{room}/invites"), &owner.token, &json!({"username": "Fred"})).await;
        assert_eq!(invite.status(), 201);
        let invite: Value = invite.json().await.unwrap();
        assert_eq!(invite["user"]["username"], "fred");

        let mine = app.all_pages("/api/v1/conversations", "conversations", &friend.token).await;
        let entry = mine.iter().find(|c| c["id"] == room.as_str()).expect("invite listed");
        assert_eq!(entry["membership"], "invited");
        let read = app.get(&format!("/api/v1/conversations/{room}/messages"), &friend.token).await;
        assert_eq!(read.status(), 403, "an invite is not membership");
        assert_eq!(read.json::<Value>().await.unwrap()["code"], "not_a_member");

        app.join(&friend, &room).await;
        app.send(&friend, &room, "thanks for the invite").await;
        let again = app.post_auth(&format!("/api/v1/rooms/{room}/invites"), &owner.token, &json!({"username": "fred"})).await;
        assert_eq!(again.status(), 409);
        let join = app.post_auth(&format!("/api/v1/rooms/{room}/join"), &stranger.token, &json!({})).await;
        assert_eq!(join.status(), 404);
    }
);

db_test!(
    async fn a_dm_is_the_same_conversation_every_time(app) {
        let a = app.user("anna").await;
        let b = app.user("bert").await;
        let c = app.user("cleo").await;
        let first = app.post_auth("/api/v1/dms", &a.token, &json!({"username": "bert"})).await;
        assert_eq!(first.status(), 201);
        let first: Value = first.json().await.unwrap();
        assert_eq!(first["kind"], "dm");
        assert_eq!(first["name"], "bert");
        assert_eq!(first["peer"]["username"], "bert");
        let again = app.post_auth("/api/v1/dms", &a.token, &json!({"username": "BERT"})).await;
        assert_eq!(again.status(), 200);
        let reverse: Value = app.post_auth("/api/v1/dms", &b.token, &json!({"username": "anna"})).await.json().await.unwrap();
        assert_eq!(again.json::<Value>().await.unwrap()["id"], first["id"]);
        assert_eq!(reverse["id"], first["id"]);
        assert_eq!(reverse["name"], "anna");

        let dm = first["id"].as_str().unwrap();
        app.send(&a, dm, "psst").await;
        let outsider = app.get(&format!("/api/v1/conversations/{dm}/messages"), &c.token).await;
        assert_eq!(outsider.status(), 404);
        let self_dm = app.post_auth("/api/v1/dms", &a.token, &json!({"username": "anna"})).await;
        assert_eq!(self_dm.status(), 422);
        let nobody = app.post_auth("/api/v1/dms", &a.token, &json!({"username": "nobody"})).await;
        assert_eq!(nobody.status(), 404);
    }
);

db_test!(
    async fn my_conversations_report_last_seq_and_unread_count(app) {
        let a = app.user("uma").await;
        let b = app.user("vic").await;
        let lobby = app.lobby(&a).await;
        for i in 0..3 {
            app.send(&a, &lobby, &format!("m{i}")).await;
        }
        let list_b = app.all_pages("/api/v1/conversations", "conversations", &b.token).await;
        let entry = list_b.iter().find(|c| c["id"] == lobby.as_str()).unwrap();
        assert_eq!(entry["last_seq"], 3);
        assert_eq!(entry["unread_count"], 3);
        let list_a = app.all_pages("/api/v1/conversations", "conversations", &a.token).await;
        let entry = list_a.iter().find(|c| c["id"] == lobby.as_str()).unwrap();
        assert_eq!(entry["unread_count"], 0, "own messages are read");

        let read = app.post_auth(&format!("/api/v1/conversations/{lobby}/read"), &b.token, &json!({"seq": 2})).await;
        assert_eq!(read.status(), 204);
        let one: Value = app.get_json(&format!("/api/v1/conversations/{lobby}"), &b.token).await;
        assert_eq!(one["unread_count"], 1);

        let members = app.all_pages(&format!("/api/v1/conversations/{lobby}/members"), "members", &b.token).await;
        let names: Vec<&str> = members.iter().map(|m| m["username"].as_str().unwrap()).collect();
        assert!(names.contains(&"uma") && names.contains(&"vic") && names.contains(&"admin"), "{names:?}");
        assert!(members.iter().all(|m| m["status"] == "offline"));
    }
);
