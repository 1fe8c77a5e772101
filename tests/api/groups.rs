//! Groups: every action by every role (a role × action table), mute enforcement over REST and
//! WebSocket, ownership transfer, leave rules, live `member_updated`/`member_left` frames, and
//! bad input.

use std::time::Duration;

use reqwest::Method;
use serde_json::{Value, json};

use crate::{
    db_test,
    helpers::{TestApp, TestUser},
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

/// Creates a group owned by `owner`; returns its id.
async fn group(app: &TestApp, owner: &TestUser, name: &str) -> String {
    let (status, body) = call(app, owner, Method::POST, "/groups", json!({"name": name})).await;
    assert_eq!(status, 201, "{body}");
    assert_eq!(body["kind"], "group");
    assert_eq!(body["visibility"], "private");
    assert_eq!(body["role"], "owner");
    body["id"].as_str().unwrap().to_owned()
}

async fn invite(app: &TestApp, by: &TestUser, group: &str, who: &TestUser) {
    let (status, body) = call(
        app,
        by,
        Method::POST,
        &format!("/groups/{group}/invites"),
        json!({"username": who.username}),
    )
    .await;
    assert_eq!(status, 200, "{body}");
    assert_eq!(body["id"], who.id.as_str());
}

async fn accept(app: &TestApp, who: &TestUser, group: &str) {
    let (status, body) = call(
        app,
        who,
        Method::POST,
        &format!("/invitations/{group}/accept"),
        json!({}),
    )
    .await;
    assert_eq!(status, 200, "{body}");
    assert_eq!(body["membership"], "joined");
}

/// The cast of a group: owner, moderator, member, the target of actions (a member), an
/// invitee, an outsider, and someone to invite.
struct Cast {
    owner: TestUser,
    moderator: TestUser,
    member: TestUser,
    target: TestUser,
    invited: TestUser,
    outsider: TestUser,
    newcomer: TestUser,
}

impl Cast {
    async fn new(app: &TestApp) -> Self {
        Self {
            owner: app.user("olga").await,
            moderator: app.user("mona").await,
            member: app.user("mel").await,
            target: app.user("tom").await,
            invited: app.user("ivy").await,
            outsider: app.user("xena").await,
            newcomer: app.user("nick").await,
        }
    }

    /// A fresh group with everyone in place.
    async fn group(&self, app: &TestApp, name: &str) -> String {
        let id = group(app, &self.owner, name).await;
        for who in [&self.moderator, &self.member, &self.target, &self.invited] {
            invite(app, &self.owner, &id, who).await;
        }
        for who in [&self.moderator, &self.member, &self.target] {
            accept(app, who, &id).await;
        }
        let (status, body) = call(
            app,
            &self.owner,
            Method::PUT,
            &format!("/groups/{id}/members/{}/role", self.moderator.id),
            json!({"role": "moderator"}),
        )
        .await;
        assert_eq!(status, 200, "{body}");
        id
    }
}

/// One action of the table, done by `actor` in `group` (on the cast's target where it has one).
async fn act(
    app: &TestApp,
    cast: &Cast,
    actor: &TestUser,
    group: &str,
    action: &str,
) -> (u16, Value) {
    let target = &cast.target.id;
    let (method, path, body) = match action {
        "create" => (
            Method::POST,
            "/groups".to_owned(),
            json!({"name": "Another"}),
        ),
        "invite" => (
            Method::POST,
            format!("/groups/{group}/invites"),
            json!({"username": cast.newcomer.username}),
        ),
        "set_role" => (
            Method::PUT,
            format!("/groups/{group}/members/{target}/role"),
            json!({"role": "moderator"}),
        ),
        "transfer" => (
            Method::POST,
            format!("/groups/{group}/transfer"),
            json!({"user_id": target}),
        ),
        "mute" => (
            Method::PUT,
            format!("/groups/{group}/members/{target}/mute"),
            json!({"duration_secs": 60}),
        ),
        "unmute" => (
            Method::DELETE,
            format!("/groups/{group}/members/{target}/mute"),
            json!({}),
        ),
        "kick" => (
            Method::DELETE,
            format!("/groups/{group}/members/{target}"),
            json!({}),
        ),
        "leave" => (Method::POST, format!("/groups/{group}/leave"), json!({})),
        "update" => (
            Method::PATCH,
            format!("/groups/{group}"),
            json!({"name": "Renamed", "topic": "new topic"}),
        ),
        "send" => (
            Method::POST,
            format!("/conversations/{group}/messages"),
            json!({"body": "hello"}),
        ),
        other => panic!("unknown action {other}"),
    };
    call(app, actor, method, &path, body).await
}

const ACTIONS: [&str; 10] = [
    "create", "invite", "set_role", "transfer", "mute", "unmute", "kick", "leave", "update", "send",
];

db_test!(
    async fn every_group_action_by_every_role(app) {
        let cast = Cast::new(&app).await;
        // Expected status (and code when refused) per actor, in the order of ACTIONS.
        let table: [(&str, &TestUser, [&str; 10]); 5] = [
            ("owner", &cast.owner, [
                "201", "200", "200", "200", "200", "200", "204", "409 owner_must_transfer", "200", "201",
            ]),
            ("moderator", &cast.moderator, [
                "201", "200", "403 permission_denied", "403 permission_denied", "200", "200", "204",
                "204", "200", "201",
            ]),
            ("member", &cast.member, [
                "201", "403 permission_denied", "403 permission_denied", "403 permission_denied",
                "403 permission_denied", "403 permission_denied", "403 permission_denied", "204",
                "403 permission_denied", "201",
            ]),
            ("non-member", &cast.outsider, [
                "201", "404 not_found", "404 not_found", "404 not_found", "404 not_found",
                "404 not_found", "404 not_found", "404 not_found", "404 not_found", "404 not_found",
            ]),
            ("invited", &cast.invited, [
                "201", "404 not_found", "404 not_found", "404 not_found", "404 not_found",
                "404 not_found", "404 not_found", "404 not_found", "404 not_found", "404 not_found",
            ]),
        ];
        let mut n = 0;
        for (who, actor, row) in &table {
            for (action, expected) in ACTIONS.iter().zip(row) {
                n += 1;
                let id = cast.group(&app, &format!("G{n}")).await;
                let (status, body) = act(&app, &cast, actor, &id, action).await;
                let got = match body["code"].as_str() {
                    Some(code) if status >= 400 => format!("{status} {code}"),
                    _ => status.to_string(),
                };
                assert_eq!(&got, expected, "{who} {action}: {body}");
                // A 404 must not reveal the group: the same answer as for a missing one.
                if status == 404 {
                    assert_eq!(body["message"], "conversation not found", "{who} {action}");
                }
            }
        }
    }
);

db_test!(
    async fn refused_actions_change_nothing_and_allowed_ones_are_visible(app) {
        let cast = Cast::new(&app).await;
        let id = cast.group(&app, "Visible").await;
        // The member list shows roles; the target is a member.
        let members = app
            .all_pages(&format!("/api/v1/conversations/{id}/members"), "members", &cast.member.token)
            .await;
        let role = |name: &str| {
            members
                .iter()
                .find(|m| m["username"] == name)
                .map(|m| m["role"].clone())
        };
        assert_eq!(role("olga"), Some(json!("owner")));
        assert_eq!(role("mona"), Some(json!("moderator")));
        assert_eq!(role("tom"), Some(json!("member")));
        assert_eq!(role("ivy"), None, "invitees are not members");
        // The permissions the client is told match the table.
        let perms = |c: &Value| -> Vec<String> {
            c["permissions"].as_array().unwrap().iter().map(|p| p.as_str().unwrap().to_owned()).collect()
        };
        let of = |user: &TestUser| {
            let app = &app;
            let id = id.clone();
            let token = user.token.clone();
            async move { app.get_json(&format!("/api/v1/conversations/{id}"), &token).await }
        };
        let owner = perms(&of(&cast.owner).await);
        for p in ["member.role", "member.mute", "member.kick", "conversation.transfer", "member.invite", "conversation.update"] {
            assert!(owner.contains(&p.to_owned()), "owner lacks {p}: {owner:?}");
        }
        let moderator = perms(&of(&cast.moderator).await);
        assert!(moderator.contains(&"member.mute".to_owned()));
        assert!(moderator.contains(&"member.kick".to_owned()));
        assert!(!moderator.contains(&"member.role".to_owned()));
        assert!(!moderator.contains(&"conversation.transfer".to_owned()));
        let member = perms(&of(&cast.member).await);
        assert_eq!(member, vec!["conversation.view", "conversation.read", "message.send"]);
        // A refused kick leaves the target in place.
        let (status, _) = act(&app, &cast, &cast.member, &id, "kick").await;
        assert_eq!(status, 403);
        let count = app.get_json(&format!("/api/v1/conversations/{id}"), &cast.owner.token).await["member_count"].clone();
        assert_eq!(count, 4);
        // GET /groups: my groups and invitations.
        let groups = app.get_json("/api/v1/groups", &cast.invited.token).await;
        let mine: Vec<&Value> = groups["groups"].as_array().unwrap().iter().filter(|g| g["id"] == id.as_str()).collect();
        assert_eq!(mine.len(), 1);
        assert_eq!(mine[0]["membership"], "invited");
        assert_eq!(mine[0]["invited_by"]["username"], "olga");
        let groups = app.get_json("/api/v1/groups", &cast.outsider.token).await;
        assert!(groups["groups"].as_array().unwrap().iter().all(|g| g["id"] != id.as_str()));
        // Rooms are not groups: their ids are unknown under /groups.
        let room = app.room(&cast.owner, "Plain room", "private").await;
        let (status, _) = act(&app, &cast, &cast.owner, &room, "update").await;
        assert_eq!(status, 404);
        let (status, _) = act(&app, &cast, &cast.owner, &room, "invite").await;
        assert_eq!(status, 404);
    }
);

db_test!(
    async fn a_muted_member_reads_but_cannot_post_over_rest_or_websocket(app) {
        let cast = Cast::new(&app).await;
        let id = cast.group(&app, "Quiet").await;
        let (mut wt, _) = app.ws(&cast.target).await;
        let (status, body) = act(&app, &cast, &cast.moderator, &id, "mute").await;
        assert_eq!(status, 200, "{body}");
        assert_eq!(body["user_id"], cast.target.id.as_str());
        let until = body["muted_until"].as_str().unwrap().to_owned();
        // The member list shows the mute to everyone.
        let members = app
            .all_pages(&format!("/api/v1/conversations/{id}/members"), "members", &cast.member.token)
            .await;
        let tom = members.iter().find(|m| m["username"] == "tom").unwrap();
        assert_eq!(tom["muted_until"], until.as_str());
        // REST: 403 muted, saying until when.
        let (status, body) = act(&app, &cast, &cast.target, &id, "send").await;
        assert_eq!(status, 403, "{body}");
        assert_eq!(body["code"], "muted");
        assert!(body["message"].as_str().unwrap().contains("until"), "{body}");
        // The client is told it may not send.
        let view = app.get_json(&format!("/api/v1/conversations/{id}"), &cast.target.token).await;
        assert!(!view["permissions"].as_array().unwrap().contains(&json!("message.send")));
        // WebSocket: an error frame with the client_id.
        wt.send_json(json!({"type": "send", "conversation_id": id, "client_id": "m-1", "body": "psst"})).await;
        let err = wt.expect("error").await;
        assert_eq!(err["code"], "muted");
        assert_eq!(err["client_id"], "m-1");
        // Reading still works.
        app.send(&cast.owner, &id, "you may read this").await;
        let msg = wt.expect("message").await;
        assert_eq!(msg["message"]["body"], "you may read this");
        // Unmuted: sending works again, over both.
        let (status, body) = act(&app, &cast, &cast.owner, &id, "unmute").await;
        assert_eq!(status, 200);
        assert!(body.get("muted_until").is_none(), "{body}");
        app.send(&cast.target, &id, "back").await;
        wt.send_json(json!({"type": "send", "conversation_id": id, "client_id": "m-2", "body": "again"})).await;
        let ack = wt.expect("ack").await;
        assert_eq!(ack["client_id"], "m-2");
        // A mute ends by itself.
        let (status, _) = call(
            &app,
            &cast.owner,
            Method::PUT,
            &format!("/groups/{id}/members/{}/mute", cast.target.id),
            json!({"duration_secs": 1}),
        )
        .await;
        assert_eq!(status, 200);
        let (status, body) = act(&app, &cast, &cast.target, &id, "send").await;
        assert_eq!((status, body["code"].clone()), (403, json!("muted")));
        let deadline = tokio::time::Instant::now() + Duration::from_secs(10);
        loop {
            let (status, body) = act(&app, &cast, &cast.target, &id, "send").await;
            if status == 201 {
                break;
            }
            assert_eq!(body["code"], "muted");
            assert!(tokio::time::Instant::now() < deadline, "the mute did not end");
            tokio::time::sleep(Duration::from_millis(200)).await;
        }
        wt.send_json(json!({"type": "send", "conversation_id": id, "client_id": "m-3", "body": "free"})).await;
        assert_eq!(wt.expect("ack").await["client_id"], "m-3");
    }
);

db_test!(
    async fn members_see_role_changes_mutes_kicks_and_leaves_live(app) {
        let cast = Cast::new(&app).await;
        let id = cast.group(&app, "Live").await;
        let (mut wm, _) = app.ws(&cast.member).await;
        let (mut wt, _) = app.ws(&cast.target).await;
        let (mut wo, _) = app.ws(&cast.owner).await;
        // Role change: everyone, the target included.
        let (status, _) = act(&app, &cast, &cast.owner, &id, "set_role").await;
        assert_eq!(status, 200);
        for ws in [&mut wm, &mut wt] {
            let f = ws.expect("member_updated").await;
            assert_eq!(f["conversation_id"], id.as_str());
            assert_eq!(f["user_id"], cast.target.id.as_str());
            assert_eq!(f["role"], "moderator");
            assert!(f.get("muted_until").is_none());
        }
        // Mute.
        let (status, _) = act(&app, &cast, &cast.owner, &id, "mute").await;
        assert_eq!(status, 200);
        for ws in [&mut wm, &mut wt] {
            let f = ws.expect("member_updated").await;
            assert_eq!(f["user_id"], cast.target.id.as_str());
            assert!(f["muted_until"].is_string(), "{f}");
        }
        // Kick: members and the kicked user learn it, with the reason.
        let (status, _) = act(&app, &cast, &cast.owner, &id, "kick").await;
        assert_eq!(status, 204);
        for ws in [&mut wm, &mut wt] {
            let f = ws.expect("member_left").await;
            assert_eq!(f["conversation_id"], id.as_str());
            assert_eq!(f["user_id"], cast.target.id.as_str());
            assert_eq!(f["reason"], "kicked");
        }
        // The kicked user's connection no longer gets the group's messages: a message, then a
        // marker the kicked user must see (a new invitation).
        app.send(&cast.owner, &id, "after the kick").await;
        assert_eq!(wm.expect("message").await["message"]["body"], "after the kick");
        invite(&app, &cast.owner, &id, &cast.target).await;
        loop {
            let f = wt.next_json().await;
            assert_ne!(f["type"], "message", "a kicked member got a message: {f}");
            if f["type"] == "conversation_added" {
                assert_eq!(f["conversation"]["membership"], "invited");
                assert_eq!(f["conversation"]["invited_by"]["username"], "olga");
                break;
            }
        }
        // The kicked user's REST access is gone (not revealing the group: 404).
        let (status, _) = act(&app, &cast, &cast.target, &id, "send").await;
        assert_eq!(status, 404);
        // Leave: reason left.
        let (status, _) = act(&app, &cast, &cast.member, &id, "leave").await;
        assert_eq!(status, 204);
        // (The owner's socket saw the kick first.)
        let kicked = wo.expect("member_left").await;
        assert_eq!(kicked["reason"], "kicked");
        let f = wo.expect("member_left").await;
        assert_eq!(f["user_id"], cast.member.id.as_str());
        assert_eq!(f["reason"], "left");
        // The audit log has every step.
        let admin = app.login("admin").await;
        let audit = app.get_json(&format!("/api/v1/admin/audit?target={id}&limit=100"), &admin.token).await;
        let actions: Vec<&str> = audit["entries"].as_array().unwrap().iter().map(|e| e["action"].as_str().unwrap()).collect();
        for a in ["group.created", "member.invited", "invitation.accepted", "member.role_changed", "member.muted", "member.kicked", "member.left"] {
            assert!(actions.contains(&a), "{a} missing from {actions:?}");
        }
    }
);

db_test!(
    async fn ownership_transfer_and_the_leave_rules(app) {
        let cast = Cast::new(&app).await;
        let id = cast.group(&app, "Handover").await;
        app.send(&cast.member, &id, "history").await;
        let (mut wm, _) = app.ws(&cast.member).await;
        // The owner cannot leave while others are in.
        let (status, body) = act(&app, &cast, &cast.owner, &id, "leave").await;
        assert_eq!((status, body["code"].clone()), (409, json!("owner_must_transfer")));
        // Transfer to a non-member or an invitee: 404; to oneself: 422.
        for who in [&cast.outsider, &cast.invited] {
            let (status, _) = call(&app, &cast.owner, Method::POST, &format!("/groups/{id}/transfer"), json!({"user_id": who.id})).await;
            assert_eq!(status, 404);
        }
        let (status, body) = call(&app, &cast.owner, Method::POST, &format!("/groups/{id}/transfer"), json!({"user_id": cast.owner.id})).await;
        assert_eq!((status, body["code"].clone()), (422, json!("cannot_target_self")));
        // Transfer to the member: they own it, the old owner is a moderator.
        let (status, body) = call(&app, &cast.owner, Method::POST, &format!("/groups/{id}/transfer"), json!({"user_id": cast.member.id})).await;
        assert_eq!(status, 200, "{body}");
        assert_eq!(body["role"], "moderator");
        let mut seen = std::collections::HashMap::new();
        while seen.len() < 2 {
            let f = wm.expect("member_updated").await;
            seen.insert(f["user_id"].as_str().unwrap().to_owned(), f["role"].as_str().unwrap().to_owned());
        }
        assert_eq!(seen.get(&cast.member.id).map(String::as_str), Some("owner"));
        assert_eq!(seen.get(&cast.owner.id).map(String::as_str), Some("moderator"));
        let view = app.get_json(&format!("/api/v1/conversations/{id}"), &cast.member.token).await;
        assert_eq!(view["role"], "owner");
        // The old owner no longer may transfer or change roles.
        let (status, _) = call(&app, &cast.owner, Method::POST, &format!("/groups/{id}/transfer"), json!({"user_id": cast.owner.id})).await;
        assert_eq!(status, 403);
        // Everyone but the new owner leaves; then the new owner, last, may leave.
        for who in [&cast.owner, &cast.moderator, &cast.target] {
            let (status, _) = act(&app, &cast, who, &id, "leave").await;
            assert_eq!(status, 204);
        }
        let (status, _) = act(&app, &cast, &cast.member, &id, "leave").await;
        assert_eq!(status, 204);
        let (status, _) = act(&app, &cast, &cast.member, &id, "send").await;
        assert_eq!(status, 404);
        // The conversation and its history are kept (for audit).
        use sea_orm::{ColumnTrait, EntityTrait, PaginatorTrait, QueryFilter};
        let db = app.database().await;
        let n = entity::messages::Entity::find()
            .filter(entity::messages::Column::ConversationId.eq(uuid::Uuid::parse_str(&id).unwrap()))
            .count(&db)
            .await
            .unwrap();
        assert_eq!(n, 1);
        let kept = entity::conversations::Entity::find_by_id(uuid::Uuid::parse_str(&id).unwrap()).one(&db).await.unwrap();
        assert!(kept.is_some());
        let admin = app.login("admin").await;
        let audit = app.get_json(&format!("/api/v1/admin/audit?target={id}&action=member.left"), &admin.token).await;
        let last = audit["entries"].as_array().unwrap().iter().filter(|e| e["details"]["last"] == true).count();
        assert_eq!(last, 1);
        let audit = app.get_json(&format!("/api/v1/admin/audit?target={id}&action=conversation.ownership_transferred"), &admin.token).await;
        assert_eq!(audit["entries"][0]["details"]["to"], cast.member.id.as_str());
    }
);

db_test!(
    async fn bad_group_input_is_refused_and_changes_nothing(app) {
        let cast = Cast::new(&app).await;
        let id = cast.group(&app, "Strict").await;
        let role = |user: &str| format!("/groups/{id}/members/{user}/role");
        let mute = |user: &str| format!("/groups/{id}/members/{user}/mute");
        let cases: Vec<(&TestUser, Method, String, Value, u16, &str)> = vec![
            // Demoting the owner.
            (&cast.owner, Method::PUT, role(&cast.owner.id), json!({"role": "member"}), 403, "cannot_change_owner"),
            (&cast.moderator, Method::PUT, role(&cast.owner.id), json!({"role": "member"}), 403, "permission_denied"),
            // Making an owner by role change.
            (&cast.owner, Method::PUT, role(&cast.target.id), json!({"role": "owner"}), 422, "invalid_role"),
            (&cast.owner, Method::PUT, role(&cast.target.id), json!({"role": "admin"}), 400, "bad_request"),
            (&cast.owner, Method::PUT, role(&cast.target.id), json!({"role": "moderator", "x": 1}), 400, "bad_request"),
            // Mute durations.
            (&cast.owner, Method::PUT, mute(&cast.target.id), json!({"duration_secs": -5}), 422, "invalid_duration"),
            (&cast.owner, Method::PUT, mute(&cast.target.id), json!({"duration_secs": 0}), 422, "invalid_duration"),
            (&cast.owner, Method::PUT, mute(&cast.target.id), json!({"duration_secs": 2_592_001}), 422, "invalid_duration"),
            (&cast.owner, Method::PUT, mute(&cast.target.id), json!({"duration_secs": 1e30}), 422, "invalid_duration"),
            (&cast.owner, Method::PUT, mute(&cast.target.id), json!({"duration_secs": 1.5}), 422, "invalid_duration"),
            (&cast.owner, Method::PUT, mute(&cast.target.id), json!({}), 422, "invalid_duration"),
            (&cast.owner, Method::PUT, mute(&cast.target.id), json!({"duration_secs": "60"}), 400, "bad_request"),
            // Acting on oneself.
            (&cast.owner, Method::PUT, mute(&cast.owner.id), json!({"duration_secs": 60}), 422, "cannot_target_self"),
            (&cast.moderator, Method::PUT, mute(&cast.moderator.id), json!({"duration_secs": 60}), 422, "cannot_target_self"),
            (&cast.owner, Method::DELETE, format!("/groups/{id}/members/{}", cast.owner.id), json!({}), 422, "cannot_target_self"),
            // A moderator does not act on moderators or the owner.
            (&cast.moderator, Method::DELETE, format!("/groups/{id}/members/{}", cast.owner.id), json!({}), 403, "permission_denied"),
            // Targets that are not joined members.
            (&cast.owner, Method::PUT, mute(&cast.invited.id), json!({"duration_secs": 60}), 404, "not_found"),
            (&cast.owner, Method::DELETE, format!("/groups/{id}/members/{}", cast.outsider.id), json!({}), 404, "not_found"),
            (&cast.owner, Method::PUT, role(&uuid::Uuid::now_v7().to_string()), json!({"role": "member"}), 404, "not_found"),
            // Names and topics.
            (&cast.owner, Method::PATCH, format!("/groups/{id}"), json!({"name": ""}), 422, "invalid_room_name"),
            (&cast.owner, Method::PATCH, format!("/groups/{id}"), json!({"topic": "x".repeat(513)}), 422, "invalid_topic"),
            (&cast.owner, Method::POST, "/groups".to_owned(), json!({"name": "a\u{202e}b"}), 422, "invalid_room_name"),
            (&cast.owner, Method::POST, "/groups".to_owned(), json!({"name": "x".repeat(65)}), 422, "invalid_room_name"),
            // Invites.
            (&cast.owner, Method::POST, format!("/groups/{id}/invites"), json!({"username": "nobody-here"}), 404, "not_found"),
            (&cast.owner, Method::POST, format!("/groups/{id}/invites"), json!({"username": cast.member.username}), 409, "already_member"),
            // A group that does not exist, or that I am not in.
            (&cast.owner, Method::PATCH, format!("/groups/{}", uuid::Uuid::now_v7()), json!({"name": "n"}), 404, "not_found"),
            (&cast.outsider, Method::PUT, mute(&cast.target.id), json!({"duration_secs": -5}), 404, "not_found"),
            (&cast.outsider, Method::PUT, role(&cast.owner.id), json!({"role": "owner"}), 404, "not_found"),
        ];
        for (who, method, path, body, status, code) in cases {
            let (got, answer) = call(&app, who, method.clone(), &path, body.clone()).await;
            assert_eq!((got, answer["code"].as_str().unwrap_or_default()), (status, code), "{} {method} {path} {body}: {answer}", who.username);
        }
        // Nothing changed: roles and mutes as before.
        let members = app
            .all_pages(&format!("/api/v1/conversations/{id}/members"), "members", &cast.owner.token)
            .await;
        for m in &members {
            assert!(m.get("muted_until").is_none(), "{m}");
        }
        let roles: Vec<(String, String)> = members.iter().map(|m| (m["username"].as_str().unwrap().to_owned(), m["role"].as_str().unwrap().to_owned())).collect();
        assert!(roles.contains(&("olga".into(), "owner".into())));
        assert!(roles.contains(&("tom".into(), "member".into())));
        assert_eq!(members.len(), 4);
        let view = app.get_json(&format!("/api/v1/conversations/{id}"), &cast.owner.token).await;
        assert_eq!(view["name"], "Strict");
    }
);

db_test!(
    async fn a_deleted_owner_hands_the_group_to_a_moderator_then_a_member(app) {
        let owner = app.user("olga").await;
        let member = app.user("mia").await;
        let moderator = app.user("moe").await;
        let id = group(&app, &owner, "Inheritance").await;
        for who in [&member, &moderator] {
            invite(&app, &owner, &id, who).await;
            accept(&app, who, &id).await;
        }
        let (status, _) = call(&app, &owner, Method::PUT, &format!("/groups/{id}/members/{}/role", moderator.id), json!({"role": "moderator"})).await;
        assert_eq!(status, 200);
        let (mut wm, _) = app.ws(&member).await;
        let (status, body) = call(&app, &owner, Method::DELETE, "/users/me", json!({"password": crate::helpers::PASSWORD})).await;
        assert_eq!(status, 204, "{body}");
        let updated = wm.expect("member_updated").await;
        assert_eq!((updated["user_id"].as_str(), updated["role"].as_str()), (Some(moderator.id.as_str()), Some("owner")));
        let view = app.get_json(&format!("/api/v1/conversations/{id}"), &moderator.token).await;
        assert_eq!(view["role"], "owner");
        // The new owner deletes their account too: the member inherits.
        let (status, _) = call(&app, &moderator, Method::DELETE, "/users/me", json!({"password": crate::helpers::PASSWORD})).await;
        assert_eq!(status, 204);
        let view = app.get_json(&format!("/api/v1/conversations/{id}"), &member.token).await;
        assert_eq!(view["role"], "owner");
        let admin = app.login("admin").await;
        let audit = app.get_json(&format!("/api/v1/admin/audit?target={id}&action=conversation.ownership_transferred"), &admin.token).await;
        assert_eq!(audit["entries"].as_array().unwrap().len(), 2, "{audit}");
        assert_eq!(audit["entries"][0]["details"]["reason"], "account_deleted");
    }
);

db_test!(
    async fn the_writer_refuses_a_mute_the_permission_cache_has_not_seen(app) {
        let owner = app.user("olga").await;
        let member = app.user("mia").await;
        let id = group(&app, &owner, "Race").await;
        invite(&app, &owner, &id, &member).await;
        accept(&app, &member, &id).await;
        app.send(&member, &id, "before").await;
        // A mute written behind the caches' back (as another instance would): only the message
        // writer's check inside the insert's transaction can see it.
        use sea_orm::{ColumnTrait, EntityTrait, QueryFilter, sea_query::Expr};
        let db = app.database().await;
        let until = chrono::Utc::now() + chrono::Duration::hours(1);
        entity::conversation_members::Entity::update_many()
            .col_expr(entity::conversation_members::Column::MutedUntil, Expr::value(until))
            .filter(entity::conversation_members::Column::ConversationId.eq(uuid::Uuid::parse_str(&id).unwrap()))
            .filter(entity::conversation_members::Column::UserId.eq(uuid::Uuid::parse_str(&member.id).unwrap()))
            .exec(&db)
            .await
            .unwrap();
        let (status, body) = call(&app, &member, Method::POST, &format!("/conversations/{id}/messages"), json!({"body": "after"})).await;
        assert_eq!((status, body["code"].as_str()), (403, Some("muted")), "{body}");
        let history = app.get_json(&format!("/api/v1/conversations/{id}/messages"), &owner.token).await;
        assert_eq!(history["messages"].as_array().unwrap().len(), 1, "{history}");
    }
);

db_test!(
    async fn the_last_member_leaving_withdraws_invitations_and_rooms_routes_refuse_groups(app) {
        let owner = app.user("olga").await;
        let invitee = app.user("ivan").await;
        let id = group(&app, &owner, "Abandoned").await;
        app.send(&owner, &id, "secret history").await;
        invite(&app, &owner, &id, &invitee).await;
        let (mut wi, _) = app.ws(&invitee).await;
        // A group is not a room: the room settings route does not know it.
        let (status, _) = call(&app, &owner, Method::PATCH, &format!("/rooms/{id}"), json!({"category": "x"})).await;
        assert_eq!(status, 404);
        let (status, _) = call(&app, &owner, Method::POST, &format!("/groups/{id}/leave"), json!({})).await;
        assert_eq!(status, 204);
        let gone = wi.expect("member_left").await;
        assert_eq!((gone["conversation_id"].as_str(), gone["user_id"].as_str()), (Some(id.as_str()), Some(invitee.id.as_str())));
        let (_, list) = call(&app, &invitee, Method::GET, "/invitations", Value::Null).await;
        assert_eq!(list["invitations"], json!([]), "{list}");
        let (status, _) = call(&app, &invitee, Method::POST, &format!("/invitations/{id}/accept"), json!({})).await;
        assert_eq!(status, 404);
        let resp = app.get(&format!("/api/v1/conversations/{id}/messages"), &invitee.token).await;
        assert_eq!(resp.status(), 404);
    }
);

db_test!(
    async fn concurrent_transfers_leave_exactly_one_owner(app) {
        let owner = app.user("olga").await;
        let b = app.user("bea").await;
        let c = app.user("cid").await;
        let id = group(&app, &owner, "Contested").await;
        for who in [&b, &c] {
            invite(&app, &owner, &id, who).await;
            accept(&app, who, &id).await;
        }
        let path = format!("/groups/{id}/transfer");
        for round in 0..5 {
            let (to_b, to_c) = tokio::join!(
                call(&app, &owner, Method::POST, &path, json!({"user_id": b.id})),
                call(&app, &owner, Method::POST, &path, json!({"user_id": c.id})),
            );
            let won = [to_b.0, to_c.0].iter().filter(|s| **s == 200).count();
            assert_eq!(won, 1, "round {round}: exactly one transfer wins: {to_b:?} {to_c:?}");
            let members = app.get_json(&format!("/api/v1/conversations/{id}/members"), &owner.token).await;
            let owners: Vec<&Value> = members["members"].as_array().unwrap().iter().filter(|m| m["role"] == "owner").collect();
            assert_eq!(owners.len(), 1, "{members}");
            // Give it back for the next round.
            let new_owner = if to_b.0 == 200 { &b } else { &c };
            let (status, _) = call(&app, new_owner, Method::POST, &path, json!({"user_id": owner.id})).await;
            assert_eq!(status, 200);
        }
    }
);
