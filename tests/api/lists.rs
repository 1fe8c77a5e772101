//! Lists: literal search (no LIKE wildcards), cursor paging, bounded `ready` frames, and room
//! names that cannot impersonate official rooms.

use std::collections::HashSet;

use serde_json::{Value, json};

use crate::db_test;

db_test!(
    async fn search_text_is_matched_literally_not_as_a_like_pattern(app) {
        let a = app.user("lika").await;
        for q in ["_", "%", "\\", "%25", "Lo_by"] {
            let found = app.get_json(&format!("/api/v1/rooms?q={q}"), &a.token).await;
            assert_eq!(found, json!({"rooms": []}), "q={q} must match nothing");
        }
        app.room(&a, "under_score", "public").await;
        app.room(&a, "fifty%off", "public").await;
        let underscore = app.get_json("/api/v1/rooms?q=_", &a.token).await;
        let names: Vec<&str> = underscore["rooms"].as_array().unwrap().iter().map(|r| r["name"].as_str().unwrap()).collect();
        assert_eq!(names, vec!["under_score"]);
        let percent = app.get_json("/api/v1/rooms?q=%25", &a.token).await;
        assert_eq!(percent["rooms"][0]["name"], "fifty%off");
        assert_eq!(percent["rooms"].as_array().unwrap().len(), 1);
    }
);

db_test!(
    async fn lists_are_paged_with_cursors(app) {
        let a = app.user("pager").await;
        for i in 0..5 {
            app.room(&a, &format!("Paged {i}"), "public").await;
        }
        let first = app.get_json("/api/v1/rooms?limit=4", &a.token).await;
        assert_eq!(first["rooms"].as_array().unwrap().len(), 4);
        assert_eq!(first["rooms"][0]["name"], "Gaming", "official rooms first, by name");
        assert!(first["next_cursor"].is_string());
        let all = app.all_pages("/api/v1/rooms?limit=4", "rooms", &a.token).await;
        let names: Vec<&str> = all.iter().map(|r| r["name"].as_str().unwrap()).collect();
        assert_eq!(names.len(), 11, "{names:?}");
        assert_eq!(names.iter().collect::<HashSet<_>>().len(), 11, "no duplicates: {names:?}");
        assert_eq!(&names[6..], ["Paged 0", "Paged 1", "Paged 2", "Paged 3", "Paged 4"]);
        let filtered = app.all_pages("/api/v1/rooms?q=paged&limit=2", "rooms", &a.token).await;
        assert_eq!(filtered.len(), 5);

        let mine = app.all_pages("/api/v1/conversations?limit=2", "conversations", &a.token).await;
        assert_eq!(mine.len(), 6, "Lobby and the five rooms");
        let ids: Vec<&str> = mine.iter().map(|c| c["id"].as_str().unwrap()).collect();
        let mut sorted = ids.clone();
        sorted.sort();
        assert_eq!(ids, sorted, "ordered by id");

        for name in ["pbb", "pcc", "pdd"] {
            app.user(name).await;
        }
        let lobby = app.lobby(&a).await;
        let members = app.all_pages(&format!("/api/v1/conversations/{lobby}/members?limit=2"), "members", &a.token).await;
        let names: Vec<&str> = members.iter().map(|m| m["username"].as_str().unwrap()).collect();
        assert_eq!(names, vec!["admin", "pager", "pbb", "pcc", "pdd"], "ordered by username");
        assert_eq!(members[0]["server_role"], "admin");
        assert_eq!(members[1]["server_role"], "member");

        for bad in ["/api/v1/rooms?limit=0", "/api/v1/rooms?limit=101", "/api/v1/rooms?cursor=nonsense", "/api/v1/conversations?cursor=eyJ4IjoxfQ"] {
            let resp = app.get(bad, &a.token).await;
            assert_eq!(resp.status(), 422, "{bad}");
            let code = resp.json::<Value>().await.unwrap()["code"].as_str().unwrap().to_owned();
            assert!(code == "invalid_limit" || code == "invalid_cursor", "{bad}: {code}");
        }
    }
);

db_test!(
    async fn the_ready_frame_stays_under_the_frame_limit_and_pages_the_rest(app) {
        let spammer = app.user("spammer").await;
        let victim = app.user("victim").await;
        let long_topic = "t".repeat(500);
        for i in 0..150 {
            let room = app
                .post_auth("/api/v1/rooms", &spammer.token, &json!({"name": format!("Spam room number {i:03} with a long name"), "visibility": "private", "topic": long_topic}))
                .await;
            assert_eq!(room.status(), 201);
            let id = room.json::<Value>().await.unwrap()["id"].as_str().unwrap().to_owned();
            let invite = app.post_auth(&format!("/api/v1/rooms/{id}/invites"), &spammer.token, &json!({"username": "victim"})).await;
            assert_eq!(invite.status(), 201);
        }
        let (mut ws, ready) = app.ws(&victim).await;
        let size = ready.to_string().len();
        assert!(size <= 60 * 1024, "ready is {size} bytes");
        let cursor = ready["conversations_cursor"].as_str().expect("the rest is paged");
        let shown = ready["conversations"].as_array().unwrap().len();
        let rest = app.pages_from("/api/v1/conversations", "conversations", &victim.token, Some(cursor.to_owned())).await;
        assert_eq!(shown + rest.len(), 151, "150 invitations and the Lobby");
        ws.send_json(json!({"type": "ping"})).await;
        ws.expect("pong").await;
    }
);

db_test!(
    async fn room_names_cannot_impersonate_official_rooms(app) {
        let a = app.user("mimic").await;
        let create = |name: &'static str| {
            let token = a.token.clone();
            let app = &app;
            async move {
                app.post_auth("/api/v1/rooms", &token, &json!({"name": name, "visibility": "public"})).await
            }
        };
        // Lookalikes of "Lobby": Cyrillic о, fullwidth letters, digit zero for o, other case.
        for name in ["L\u{043E}bby", "\u{FF2C}\u{FF4F}\u{FF42}\u{FF42}\u{FF59}", "L0bby", "LOBBY", " lobby "] {
            let resp = create(name).await;
            assert_eq!(resp.status(), 409, "{name:?}");
            assert_eq!(resp.json::<Value>().await.unwrap()["code"], "room_name_taken");
        }
        // Invisible and direction-changing characters are refused outright.
        for name in ["Lob\u{200B}by", "\u{202E}ybboL", "Lobby\u{2066}", "Lo\u{00AD}bby", "Lob\u{FEFF}by"] {
            let resp = create(name).await;
            assert_eq!(resp.status(), 422, "{name:?}");
            assert_eq!(resp.json::<Value>().await.unwrap()["code"], "invalid_room_name");
        }
        let fine = create("Lobby Games").await;
        assert_eq!(fine.status(), 201);
        let rooms = app.all_pages("/api/v1/rooms?q=lobby", "rooms", &a.token).await;
        let names: Vec<&str> = rooms.iter().map(|r| r["name"].as_str().unwrap()).collect();
        assert_eq!(names, vec!["Lobby", "Lobby Games"]);
    }
);

db_test!(
    async fn room_owners_change_the_topic_and_members_see_it_live(app) {
        let owner = app.user("owen").await;
        let member = app.user("mel").await;
        let room = app.room(&owner, "Topical", "public").await;
        app.join(&member, &room).await;
        let (mut wm, _) = app.ws(&member).await;
        let path = format!("/api/v1/rooms/{room}");
        let denied = app.send_auth(reqwest::Method::PATCH, &path, &member.token, &json!({"topic": "mine now"})).await;
        assert_eq!(denied.status(), 403);
        assert_eq!(denied.json::<Value>().await.unwrap()["code"], "permission_denied");
        let view: Value = app.get_json(&format!("/api/v1/conversations/{room}"), &member.token).await;
        assert!(!view["permissions"].as_array().unwrap().iter().any(|p| p == "conversation.update"));

        let changed = app.send_auth(reqwest::Method::PATCH, &path, &owner.token, &json!({"topic": "Talk about topics"})).await;
        assert_eq!(changed.status(), 200);
        let changed: Value = changed.json().await.unwrap();
        assert_eq!(changed["topic"], "Talk about topics");
        assert!(changed["permissions"].as_array().unwrap().iter().any(|p| p == "conversation.update"));
        let frame = wm.expect("conversation_updated").await;
        assert_eq!(frame["conversation_id"], room.as_str());
        assert_eq!(frame["topic"], "Talk about topics");
        assert_eq!(frame["name"], "Topical");

        // A server moderator may change any room; an empty string clears.
        assert_eq!(app.set_role(&member.id, "moderator").await.status(), 200);
        let cleared = app.send_auth(reqwest::Method::PATCH, &path, &member.token, &json!({"topic": ""})).await;
        assert_eq!(cleared.status(), 200);
        assert_eq!(cleared.json::<Value>().await.unwrap().get("topic"), None);
        let frame = wm.expect("conversation_updated").await;
        assert_eq!(frame.get("topic"), None);
        let long = app.send_auth(reqwest::Method::PATCH, &path, &owner.token, &json!({"topic": "x".repeat(513)})).await;
        assert_eq!(long.status(), 422);
    }
);
