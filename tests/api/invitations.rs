//! Invitations to rooms and groups: listed with who sent them, accepted or declined.

use reqwest::Method;
use serde_json::{Value, json};

use crate::{
    db_test,
    helpers::{TestApp, TestUser},
};

async fn call(app: &TestApp, user: &TestUser, method: Method, path: &str) -> (u16, Value) {
    let resp = app
        .send_auth(method, &format!("/api/v1{path}"), &user.token, &json!({}))
        .await;
    let status = resp.status().as_u16();
    let text = resp.text().await.unwrap_or_default();
    (status, serde_json::from_str(&text).unwrap_or(Value::Null))
}

async fn invite(app: &TestApp, by: &TestUser, path: &str, who: &TestUser) -> u16 {
    app.post_auth(path, &by.token, &json!({"username": who.username}))
        .await
        .status()
        .as_u16()
}

db_test!(
    async fn invitations_to_rooms_and_groups_are_accepted_or_declined(app) {
        let olga = app.user("olga").await;
        let ivy = app.user("ivy").await;
        let room = app.room(&olga, "Back room", "private").await;
        let group = app
            .post_auth("/api/v1/groups", &olga.token, &json!({"name": "Friends", "topic": "hi"}))
            .await
            .json::<Value>()
            .await
            .unwrap()["id"]
            .as_str()
            .unwrap()
            .to_owned();
        let (mut wi, _) = app.ws(&ivy).await;
        let (mut wo, _) = app.ws(&olga).await;
        assert_eq!(invite(&app, &olga, &format!("/api/v1/rooms/{room}/invites"), &ivy).await, 201);
        assert_eq!(invite(&app, &olga, &format!("/api/v1/groups/{group}/invites"), &ivy).await, 200);
        // Both arrive live, saying who invited.
        for _ in 0..2 {
            let f = wi.expect("conversation_added").await;
            assert_eq!(f["conversation"]["membership"], "invited");
            assert_eq!(f["conversation"]["invited_by"]["username"], "olga");
        }
        // Both are listed, newest first, with the inviter.
        let list = app.get_json("/api/v1/invitations", &ivy.token).await;
        let items = list["invitations"].as_array().unwrap();
        assert_eq!(items.len(), 2);
        assert_eq!(items[0]["conversation"]["id"], group.as_str());
        assert_eq!(items[1]["conversation"]["id"], room.as_str());
        for item in items {
            assert_eq!(item["invited_by"]["id"], olga.id.as_str());
            assert!(item["invited_at"].is_string());
            assert_eq!(item["conversation"]["membership"], "invited");
        }
        let view = app.get_json(&format!("/api/v1/conversations/{group}"), &ivy.token).await;
        assert_eq!(view["invited_by"]["username"], "olga");
        // A group invitation is not accepted through the rooms API.
        let (status, _) = call(&app, &ivy, Method::POST, &format!("/rooms/{group}/join")).await;
        assert_eq!(status, 404);
        // Accept the group: joined, the members are told.
        let (status, body) = call(&app, &ivy, Method::POST, &format!("/invitations/{group}/accept")).await;
        assert_eq!(status, 200, "{body}");
        assert_eq!(body["membership"], "joined");
        assert_eq!(body["role"], "member");
        assert!(body.get("invited_by").is_none(), "{body}");
        let joined = wo.expect("member_joined").await;
        assert_eq!(joined["conversation_id"], group.as_str());
        assert_eq!(joined["user"]["id"], ivy.id.as_str());
        app.send(&ivy, &group, "thanks").await;
        // Decline the room: gone, nobody else told.
        let (status, _) = call(&app, &ivy, Method::POST, &format!("/invitations/{room}/decline")).await;
        assert_eq!(status, 204);
        let left = wi.expect("member_left").await;
        assert_eq!(left["conversation_id"], room.as_str());
        assert_eq!(left["reason"], "left");
        let list = app.get_json("/api/v1/invitations", &ivy.token).await;
        assert_eq!(list["invitations"], json!([]));
        let (status, _) = call(&app, &ivy, Method::GET, &format!("/conversations/{room}")).await;
        assert_eq!(status, 404);
        // No invitation (any more): 404, for accept and decline alike.
        for path in [
            format!("/invitations/{room}/accept"),
            format!("/invitations/{room}/decline"),
            format!("/invitations/{group}/accept"),
            format!("/invitations/{group}/decline"),
            format!("/invitations/{}/accept", uuid::Uuid::now_v7()),
        ] {
            let (status, body) = call(&app, &ivy, Method::POST, &path).await;
            assert_eq!((status, body["code"].clone()), (404, json!("not_found")), "{path}");
        }
        // Someone else's invitation is not mine to accept.
        let xena = app.user("xena").await;
        let lobby = app.lobby(&xena).await;
        let (status, _) = call(&app, &xena, Method::POST, &format!("/invitations/{lobby}/accept")).await;
        assert_eq!(status, 404);
        let (status, _) = call(&app, &xena, Method::POST, &format!("/invitations/{group}/accept")).await;
        assert_eq!(status, 404);
        // Audited.
        let admin = app.login("admin").await;
        for (target, action) in [
            (&room, "room.invite"),
            (&room, "invitation.declined"),
            (&group, "member.invited"),
            (&group, "invitation.accepted"),
        ] {
            let audit = app
                .get_json(&format!("/api/v1/admin/audit?target={target}&action={action}"), &admin.token)
                .await;
            assert_eq!(audit["entries"].as_array().unwrap().len(), 1, "{action}");
        }
        // A room invitation can be accepted too, and a declined one can be sent again.
        assert_eq!(invite(&app, &olga, &format!("/api/v1/rooms/{room}/invites"), &ivy).await, 201);
        let (status, body) = call(&app, &ivy, Method::POST, &format!("/invitations/{room}/accept")).await;
        assert_eq!(status, 200);
        assert_eq!(body["membership"], "joined");
        app.send(&ivy, &room, "in the room").await;
    }
);

db_test!(
    async fn members_cannot_invite_to_groups_but_may_to_rooms(app) {
        let olga = app.user("olga").await;
        let mel = app.user("mel").await;
        let nick = app.user("nick").await;
        let group = app
            .post_auth("/api/v1/groups", &olga.token, &json!({"name": "Club"}))
            .await
            .json::<Value>()
            .await
            .unwrap()["id"]
            .as_str()
            .unwrap()
            .to_owned();
        assert_eq!(invite(&app, &olga, &format!("/api/v1/groups/{group}/invites"), &mel).await, 200);
        let (status, _) = call(&app, &mel, Method::POST, &format!("/invitations/{group}/accept")).await;
        assert_eq!(status, 200);
        let resp = app
            .post_auth(&format!("/api/v1/groups/{group}/invites"), &mel.token, &json!({"username": "nick"}))
            .await;
        assert_eq!(resp.status(), 403);
        assert_eq!(resp.json::<Value>().await.unwrap()["code"], "permission_denied");
        let room = app.room(&olga, "Open door", "private").await;
        assert_eq!(invite(&app, &olga, &format!("/api/v1/rooms/{room}/invites"), &mel).await, 201);
        let (status, _) = call(&app, &mel, Method::POST, &format!("/invitations/{room}/accept")).await;
        assert_eq!(status, 200);
        assert_eq!(invite(&app, &mel, &format!("/api/v1/rooms/{room}/invites"), &nick).await, 201);
        let list = app.get_json("/api/v1/invitations", &nick.token).await;
        assert_eq!(list["invitations"][0]["invited_by"]["username"], "mel");
    }
);
