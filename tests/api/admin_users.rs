//! Administration of accounts and roles: the role × route matrix of every `/admin` route
//! (admin, moderator, member, suspended, anonymous), and suspension, deactivation,
//! server-wide mute, shadowban, forced logout, custom roles, reset links and broadcasts
//! enforced over REST and WebSocket, each audited in its transaction.

use std::time::Duration;

use reqwest::Method;
use serde_json::{Value, json};

use crate::{
    db_test,
    helpers::{PASSWORD, TestApp, TestUser, call},
};

/// Sends `method path body` with `token` (`None`: anonymous); returns the status.
async fn status(
    app: &TestApp,
    method: &Method,
    path: &str,
    body: &Value,
    token: Option<&str>,
) -> u16 {
    let mut req = app.http.request(method.clone(), app.url(path));
    if let Some(token) = token {
        req = req.bearer_auth(token);
    }
    if *method != Method::GET && *method != Method::DELETE {
        req = req.json(body);
    }
    call(req).await.status().as_u16()
}

async fn act(
    app: &TestApp,
    by: &TestUser,
    method: Method,
    path: &str,
    body: Value,
) -> (u16, Value) {
    let resp = app.send_auth(method, path, &by.token, &body).await;
    let code = resp.status().as_u16();
    let text = resp.text().await.unwrap_or_default();
    (code, serde_json::from_str(&text).unwrap_or(Value::Null))
}

/// A moderator named `name` (role granted by the setup admin).
async fn moderator(app: &TestApp, name: &str) -> TestUser {
    let user = app.user(name).await;
    assert_eq!(app.set_role(&user.id, "moderator").await.status(), 200);
    app.login(name).await
}

/// The latest audit entry of `action` about `target`.
async fn audited(app: &TestApp, admin: &TestUser, action: &str, target: &str) -> Value {
    let page = app
        .get_json(
            &format!("/api/v1/admin/audit?action={action}&target={target}"),
            &admin.token,
        )
        .await;
    page["entries"][0].clone()
}

db_test!(
    async fn every_account_and_role_route_answers_each_role_as_documented(app) {
        let admin = app.login("admin").await;
        let moder = moderator(&app, "mod").await;
        let member = app.user("member").await;
        let suspended = app.user("sus").await;
        let (code, _) = act(&app, &admin, Method::PUT, &format!("/api/v1/admin/users/{}/suspension", suspended.id),
            json!({"duration_secs": 3600, "reason": "matrix"})).await;
        assert_eq!(code, 200);
        let created = act(&app, &admin, Method::POST, "/api/v1/admin/roles",
            json!({"name": "helpers", "permissions": ["users.view"]})).await;
        assert_eq!(created.0, 201);
        let doomed = act(&app, &admin, Method::POST, "/api/v1/admin/roles",
            json!({"name": "doomed", "permissions": []})).await;
        assert_eq!(doomed.0, 201);

        // (method, path with {t} = a fresh target, body, admin, moderator, member)
        let rows: Vec<(Method, &str, Value, u16, u16, u16)> = vec![
            (Method::GET, "/api/v1/admin/whoami", json!(null), 200, 200, 200),
            (Method::GET, "/api/v1/admin/server", json!(null), 200, 403, 403),
            (Method::GET, "/api/v1/admin/users?q=t", json!(null), 200, 200, 403),
            (Method::GET, "/api/v1/admin/users/{t}", json!(null), 200, 200, 403),
            (Method::POST, "/api/v1/admin/users", json!({"username": "{n}", "password": PASSWORD}), 201, 403, 403),
            (Method::POST, "/api/v1/admin/users/{t}/reset-link", json!({}), 200, 403, 403),
            (Method::POST, "/api/v1/admin/users/{t}/logout", json!({"reason": "matrix"}), 200, 200, 403),
            (Method::PUT, "/api/v1/admin/users/{t}/suspension", json!({"duration_secs": 60, "reason": "r"}), 200, 200, 403),
            (Method::DELETE, "/api/v1/admin/users/{t}/suspension", json!(null), 200, 200, 403),
            (Method::PUT, "/api/v1/admin/users/{t}/deactivation", json!({"reason": "r"}), 200, 403, 403),
            (Method::DELETE, "/api/v1/admin/users/{t}/deactivation", json!(null), 200, 403, 403),
            (Method::PUT, "/api/v1/admin/users/{t}/mute", json!({"duration_secs": 60, "reason": "r"}), 200, 200, 403),
            (Method::DELETE, "/api/v1/admin/users/{t}/mute", json!(null), 200, 200, 403),
            (Method::PUT, "/api/v1/admin/users/{t}/shadowban", json!({"reason": "r"}), 200, 200, 403),
            (Method::DELETE, "/api/v1/admin/users/{t}/shadowban", json!(null), 200, 200, 403),
            (Method::PUT, "/api/v1/admin/users/{t}/roles/helpers", json!(null), 200, 403, 403),
            (Method::DELETE, "/api/v1/admin/users/{t}/roles/helpers", json!(null), 200, 403, 403),
            (Method::PUT, "/api/v1/admin/users/{t}/role", json!({"role": "member"}), 200, 403, 403),
            (Method::GET, "/api/v1/admin/roles", json!(null), 200, 403, 403),
            (Method::POST, "/api/v1/admin/roles", json!({"name": "{n}", "permissions": []}), 201, 403, 403),
            (Method::PATCH, "/api/v1/admin/roles/helpers", json!({"description": "d"}), 200, 403, 403),
            (Method::POST, "/api/v1/admin/broadcast", json!({"text": "hello"}), 200, 403, 403),
            (Method::GET, "/api/v1/admin/audit", json!(null), 200, 403, 403),
            (Method::DELETE, "/api/v1/admin/roles/doomed", json!(null), 204, 403, 403),
            // Rooms, reports, settings and invites (their behaviour: room_moderation.rs,
            // reports.rs, settings.rs).
            (Method::GET, "/api/v1/admin/rooms", json!(null), 200, 200, 403),
            (Method::GET, "/api/v1/admin/rooms/{r}", json!(null), 200, 200, 403),
            (Method::PATCH, "/api/v1/admin/rooms/{r}", json!({"slowmode_secs": 5}), 200, 200, 403),
            (Method::PATCH, "/api/v1/admin/rooms/{r}", json!({"official": true}), 200, 403, 403),
            (Method::POST, "/api/v1/admin/rooms/{r}/clear", json!({"reason": "r"}), 200, 200, 403),
            (Method::PUT, "/api/v1/admin/categories/misc", json!({"name": "misc"}), 200, 403, 403),
            (Method::DELETE, "/api/v1/admin/rooms/{r}", json!(null), 204, 403, 403),
            (Method::GET, "/api/v1/admin/reports", json!(null), 200, 200, 403),
            (Method::GET, "/api/v1/admin/settings", json!(null), 200, 403, 403),
            (Method::PATCH, "/api/v1/admin/settings", json!({"general.motd": "hi"}), 200, 403, 403),
            (Method::DELETE, "/api/v1/admin/settings/general.motd", json!(null), 200, 403, 403),
            (Method::GET, "/api/v1/admin/invites", json!(null), 200, 403, 403),
            (Method::POST, "/api/v1/admin/invites", json!({}), 201, 403, 403),
        ];
        for (i, (method, template, body, for_admin, for_mod, for_member)) in rows.iter().enumerate() {
            let target = app.user(&format!("tgt{i}")).await;
            let room = app.room(&admin, &format!("room {i}"), "public").await;
            let fill = |s: &str, who: &str| {
                s.replace("{t}", &target.id).replace("{r}", &room).replace("{n}", &format!("n{i}{who}"))
            };
            let body_for = |who: &str| serde_json::from_str::<Value>(&fill(&body.to_string(), who)).unwrap();
            for (who, token, expected) in [
                ("x", None, 401),
                ("s", Some(suspended.token.as_str()), 401),
                ("m", Some(member.token.as_str()), *for_member),
                ("o", Some(moder.token.as_str()), *for_mod),
                ("a", Some(admin.token.as_str()), *for_admin),
            ] {
                let path = fill(template, who);
                let got = status(&app, method, &path, &body_for(who), token).await;
                assert_eq!(got, expected, "{method} {template} as {who}");
            }
        }
    }
);

db_test!(
    async fn a_suspension_closes_the_sockets_and_login_tells_until_when_and_why(app) {
        let admin = app.login("admin").await;
        let eve = app.user("eve").await;
        let (mut ws, _) = app.ws(&eve).await;
        let (code, body) = act(&app, &admin, Method::PUT, &format!("/api/v1/admin/users/{}/suspension", eve.id),
            json!({"duration_secs": 3600, "reason": "spamming the lobby"})).await;
        assert_eq!(code, 200, "{body}");
        assert!(body["suspended_until"].is_string());
        assert_eq!(body["suspend_reason"], "spamming the lobby");
        let (close, reason) = ws.close_frame(Duration::from_secs(1)).await;
        assert_eq!((close, reason.as_str()), (1008, "suspended"));
        assert_eq!(app.get("/api/v1/users/me", &eve.token).await.status(), 401);
        let login = app.post_json("/api/v1/auth/login", &json!({"username": "eve", "password": PASSWORD})).await;
        assert_eq!(login.status(), 403);
        let err: Value = login.json().await.unwrap();
        assert_eq!(err["code"], "suspended");
        assert!(err["message"].as_str().unwrap().contains("spamming the lobby"), "{err}");
        // A wrong password learns nothing about the suspension.
        let wrong = app.post_json("/api/v1/auth/login", &json!({"username": "eve", "password": "wrong-password"})).await;
        assert_eq!(wrong.status(), 401);
        let entry = audited(&app, &admin, "user.suspended", &eve.id).await;
        assert_eq!(entry["details"]["reason"], "spamming the lobby");
        assert_eq!(entry["actor_username"], "admin");

        let (code, _) = act(&app, &admin, Method::DELETE, &format!("/api/v1/admin/users/{}/suspension", eve.id), json!(null)).await;
        assert_eq!(code, 200);
        app.login("eve").await;
        assert_eq!(audited(&app, &admin, "user.unsuspended", &eve.id).await["action"], "user.unsuspended");
    }
);

db_test!(
    async fn deactivation_and_forced_logout_end_every_session(app) {
        let admin = app.login("admin").await;
        let eve = app.user("eve").await;
        let eve2 = app.login("eve").await;
        let (mut ws, _) = app.ws(&eve2).await;
        let (code, body) = act(&app, &admin, Method::POST, &format!("/api/v1/admin/users/{}/logout", eve.id), json!({})).await;
        assert_eq!(code, 200);
        assert_eq!(body["ended"], 2);
        let (close, reason) = ws.close_frame(Duration::from_secs(1)).await;
        assert_eq!((close, reason.as_str()), (1008, "revoked_by_admin"));
        assert_eq!(app.get("/api/v1/users/me", &eve.token).await.status(), 401);

        let eve = app.login("eve").await;
        let (mut ws, _) = app.ws(&eve).await;
        let (code, body) = act(&app, &admin, Method::PUT, &format!("/api/v1/admin/users/{}/deactivation", eve.id),
            json!({"reason": "left the company"})).await;
        assert_eq!(code, 200);
        assert!(body["deactivated_at"].is_string());
        assert_eq!(ws.close_frame(Duration::from_secs(1)).await.1, "deactivated");
        let login = app.post_json("/api/v1/auth/login", &json!({"username": "eve", "password": PASSWORD})).await;
        assert_eq!(login.status(), 403);
        assert_eq!(login.json::<Value>().await.unwrap()["code"], "deactivated");
        let (code, _) = act(&app, &admin, Method::DELETE, &format!("/api/v1/admin/users/{}/deactivation", eve.id), json!(null)).await;
        assert_eq!(code, 200);
        app.login("eve").await;
    }
);

db_test!(
    async fn a_server_mute_refuses_sends_over_rest_and_websocket(app) {
        let admin = app.login("admin").await;
        let eve = app.user("eve").await;
        let lobby = app.lobby(&eve).await;
        let (mut ws, _) = app.ws(&eve).await;
        let (code, _) = act(&app, &admin, Method::PUT, &format!("/api/v1/admin/users/{}/mute", eve.id),
            json!({"duration_secs": 600, "reason": "cool down"})).await;
        assert_eq!(code, 200);
        let resp = app.post_auth(&format!("/api/v1/conversations/{lobby}/messages"), &eve.token, &json!({"body": "hi"})).await;
        assert_eq!(resp.status(), 403);
        let err: Value = resp.json().await.unwrap();
        assert_eq!(err["code"], "muted");
        assert!(err["message"].as_str().unwrap().contains("on this server"));
        ws.send_json(json!({"type": "send", "conversation_id": lobby, "client_id": "m-1", "body": "hi"})).await;
        let error = ws.expect("error").await;
        assert_eq!((error["code"].as_str(), error["client_id"].as_str()), (Some("muted"), Some("m-1")));
        let (code, _) = act(&app, &admin, Method::DELETE, &format!("/api/v1/admin/users/{}/mute", eve.id), json!(null)).await;
        assert_eq!(code, 200);
        app.send(&eve, &lobby, "back").await;
        assert_eq!(audited(&app, &admin, "user.muted", &eve.id).await["details"]["reason"], "cool down");
    }
);

db_test!(
    async fn a_shadowbanned_sender_alone_sees_their_messages_and_moderators_see_them_flagged(app) {
        let admin = app.login("admin").await;
        let moder = moderator(&app, "mod").await;
        let troll = app.user("troll").await;
        let bob = app.user("bob").await;
        let lobby = app.lobby(&bob).await;
        let (mut bob_ws, _) = app.ws(&bob).await;
        let (mut troll_ws, _) = app.ws(&troll).await;
        let (code, _) = act(&app, &moder, Method::PUT, &format!("/api/v1/admin/users/{}/shadowban", troll.id), json!({"reason": "   "})).await;
        assert_eq!(code, 422, "a shadowban needs a reason");
        let (code, body) = act(&app, &moder, Method::PUT, &format!("/api/v1/admin/users/{}/shadowban", troll.id),
            json!({"reason": "ban evasion"})).await;
        assert_eq!(code, 200);
        assert_eq!(body["shadowbanned"], true);

        let hidden = app.send(&troll, &lobby, "buy my stuff").await;
        assert_eq!(hidden["shadowed"], true);
        assert_eq!(troll_ws.expect("message").await["message"]["body"], "buy my stuff");
        app.send(&admin, &lobby, "marker").await;
        // Bob's next message frame is the marker: the shadowed one never reached him.
        assert_eq!(bob_ws.expect("message").await["message"]["body"], "marker");
        let bodies = |history: Value| -> Vec<String> {
            history["messages"].as_array().unwrap().iter().map(|m| m["body"].as_str().unwrap().to_owned()).collect()
        };
        let path = format!("/api/v1/conversations/{lobby}/messages");
        assert!(!bodies(app.get_json(&path, &bob.token).await).contains(&"buy my stuff".to_owned()));
        assert!(bodies(app.get_json(&path, &troll.token).await).contains(&"buy my stuff".to_owned()));
        let seen = app.get_json(&path, &moder.token).await;
        let flagged = seen["messages"].as_array().unwrap().iter().find(|m| m["body"] == "buy my stuff").cloned();
        assert_eq!(flagged.map(|m| m["shadowed"].clone()), Some(json!(true)));
        let entry = audited(&app, &admin, "user.shadowbanned", &troll.id).await;
        assert_eq!((entry["details"]["reason"].as_str(), entry["actor_username"].as_str()), (Some("ban evasion"), Some("mod")));
    }
);

db_test!(
    async fn moderators_act_on_members_only_and_nobody_on_themselves(app) {
        let admin = app.login("admin").await;
        let moder = moderator(&app, "mod").await;
        let other = moderator(&app, "mod2").await;
        let path = |id: &str| format!("/api/v1/admin/users/{id}/suspension");
        let body = json!({"duration_secs": 60, "reason": "r"});
        assert_eq!(act(&app, &moder, Method::PUT, &path(&admin.id), body.clone()).await.0, 403);
        assert_eq!(act(&app, &moder, Method::PUT, &path(&other.id), body.clone()).await.0, 403);
        let (code, err) = act(&app, &admin, Method::PUT, &path(&admin.id), body.clone()).await;
        assert_eq!((code, err["code"].as_str()), (422, Some("cannot_target_self")));
        let unknown = uuid::Uuid::new_v4();
        assert_eq!(act(&app, &admin, Method::PUT, &path(&unknown.to_string()), body.clone()).await.0, 404);
        for bad in [
            json!({"duration_secs": -5, "reason": "r"}),
            json!({"duration_secs": 0, "reason": "r"}),
            json!({"duration_secs": 999_999_999_999i64, "reason": "r"}),
            json!({"duration_secs": 60, "reason": "x".repeat(501)}),
            json!({"reason": "neither until nor duration"}),
            json!({"until": "2001-01-01T00:00:00Z", "reason": "in the past"}),
        ] {
            let (code, err) = act(&app, &admin, Method::PUT, &path(&moder.id), bad.clone()).await;
            assert_eq!(code, 422, "{bad} → {err}");
        }
        // Nothing changed: the moderator still signs in.
        app.login("mod").await;
        let detail = app.get_json(&format!("/api/v1/admin/users/{}", moder.id), &admin.token).await;
        assert_eq!(detail["user"]["suspended_until"], Value::Null);
    }
);

db_test!(
    async fn custom_roles_grant_permissions_live_and_whoami_names_their_sources(app) {
        let admin = app.login("admin").await;
        let eve = app.user("eve").await;
        let (mut ws, _) = app.ws(&eve).await;
        assert_eq!(app.get("/api/v1/admin/users", &eve.token).await.status(), 403);
        for (body, code) in [
            (json!({"name": "Admin", "permissions": []}), "builtin_role"),
            (json!({"name": "x", "permissions": []}), "invalid_role_name"),
            (json!({"name": "chat", "permissions": ["message.send"]}), "invalid_permission"),
        ] {
            let (_, err) = act(&app, &admin, Method::POST, "/api/v1/admin/roles", body).await;
            assert_eq!(err["code"], code);
        }
        let (code, role) = act(&app, &admin, Method::POST, "/api/v1/admin/roles",
            json!({"name": "support", "description": "Helps people", "permissions": ["users.view", "audit.read"]})).await;
        assert_eq!(code, 201, "{role}");
        assert_eq!(act(&app, &admin, Method::POST, "/api/v1/admin/roles", json!({"name": "support", "permissions": []})).await.0, 409);
        let (code, user) = act(&app, &admin, Method::PUT, &format!("/api/v1/admin/users/{}/roles/support", eve.id), json!(null)).await;
        assert_eq!(code, 200);
        assert_eq!(user["roles"], json!(["support"]));
        let frame = ws.expect("user_updated").await;
        assert!(frame["permissions"].as_array().unwrap().contains(&json!("users.view")));
        assert_eq!(app.get("/api/v1/admin/users", &eve.token).await.status(), 200);
        let who = app.get_json("/api/v1/admin/whoami", &eve.token).await;
        assert_eq!(who["roles"], json!(["member", "support"]));
        assert_eq!(who["admin_panel"], true);
        let sources: Vec<Value> = who["permissions"].as_array().unwrap().clone();
        assert!(sources.contains(&json!({"permission": "users.view", "sources": ["support"]})), "{who}");
        assert!(sources.contains(&json!({"permission": "rooms.create", "sources": ["member"]})), "{who}");

        // Narrowing the role takes effect at once; deleting it too.
        let (code, _) = act(&app, &admin, Method::PATCH, "/api/v1/admin/roles/support", json!({"permissions": ["audit.read"]})).await;
        assert_eq!(code, 200);
        assert_eq!(app.get("/api/v1/admin/users", &eve.token).await.status(), 403);
        assert_eq!(app.get("/api/v1/admin/audit", &eve.token).await.status(), 200);
        let roles = app.get_json("/api/v1/admin/roles", &admin.token).await;
        let support = roles["roles"].as_array().unwrap().iter().find(|r| r["name"] == "support").cloned().unwrap();
        assert_eq!(support["members"], 1);
        assert_eq!(act(&app, &admin, Method::DELETE, "/api/v1/admin/roles/support", json!(null)).await.0, 204);
        assert_eq!(app.get("/api/v1/admin/audit", &eve.token).await.status(), 403);
        let who = app.get_json("/api/v1/admin/whoami", &eve.token).await;
        assert_eq!((who["roles"].clone(), who["admin_panel"].clone()), (json!(["member"]), json!(false)));
        for action in ["role.created", "role.granted", "role.updated", "role.deleted"] {
            let page = app.get_json(&format!("/api/v1/admin/audit?action={action}"), &admin.token).await;
            assert_eq!(page["entries"].as_array().unwrap().len(), 1, "{action}");
        }
        // Built-in roles stay; the last admin stays.
        let (code, err) = act(&app, &admin, Method::DELETE, "/api/v1/admin/roles/moderator", json!(null)).await;
        assert_eq!((code, err["code"].as_str()), (409, Some("builtin_role")));
        let (code, err) = act(&app, &admin, Method::DELETE, &format!("/api/v1/admin/users/{}/roles/admin", admin.id), json!(null)).await;
        assert_eq!((code, err["code"].as_str()), (409, Some("last_admin")));
        let (code, err) = act(&app, &admin, Method::DELETE, &format!("/api/v1/admin/users/{}/roles/member", eve.id), json!(null)).await;
        assert_eq!((code, err["code"].as_str()), (422, Some("invalid_role")));
        assert_eq!(act(&app, &admin, Method::PUT, &format!("/api/v1/admin/users/{}/roles/nope", eve.id), json!(null)).await.0, 404);
        let (code, user) = act(&app, &admin, Method::PUT, &format!("/api/v1/admin/users/{}/roles/moderator", eve.id), json!(null)).await;
        assert_eq!((code, user["role"].as_str()), (200, Some("moderator")));
        let (code, user) = act(&app, &admin, Method::DELETE, &format!("/api/v1/admin/users/{}/roles/moderator", eve.id), json!(null)).await;
        assert_eq!((code, user["role"].as_str()), (200, Some("member")));
    }
);

db_test!(
    async fn administrators_create_accounts_find_them_and_hand_out_reset_links(app) {
        let admin = app.login("admin").await;
        let (code, user) = act(&app, &admin, Method::POST, "/api/v1/admin/users",
            json!({"username": "Newbie", "password": PASSWORD, "display_name": "New Person", "email": "new@example.test"})).await;
        assert_eq!(code, 201, "{user}");
        assert_eq!((user["username"].as_str(), user["role"].as_str()), (Some("newbie"), Some("member")));
        let newbie = app.login("newbie").await;
        assert_eq!(act(&app, &admin, Method::POST, "/api/v1/admin/users", json!({"username": "newbie", "password": PASSWORD})).await.0, 409);
        assert_eq!(act(&app, &admin, Method::POST, "/api/v1/admin/users", json!({"username": "x", "password": PASSWORD})).await.0, 422);
        for name in ["nea", "neb", "nec"] {
            app.user(name).await;
        }
        let page = app.get_json("/api/v1/admin/users?q=NE&limit=2", &admin.token).await;
        let names: Vec<&str> = page["users"].as_array().unwrap().iter().map(|u| u["username"].as_str().unwrap()).collect();
        assert_eq!(names, ["nea", "neb"]);
        let cursor = page["next_cursor"].as_str().unwrap();
        let rest = app.get_json(&format!("/api/v1/admin/users?q=ne&limit=2&cursor={cursor}"), &admin.token).await;
        let names: Vec<&str> = rest["users"].as_array().unwrap().iter().map(|u| u["username"].as_str().unwrap()).collect();
        assert_eq!(names, ["nec", "newbie"]);
        assert_eq!(app.get("/api/v1/admin/users?q=%25", &admin.token).await.status(), 200);
        let none = app.get_json("/api/v1/admin/users?q=%25", &admin.token).await;
        assert_eq!(none["users"], json!([]), "LIKE wildcards are literal");

        let detail = app.get_json(&format!("/api/v1/admin/users/{}", newbie.id), &admin.token).await;
        assert_eq!(detail["sessions"].as_array().unwrap().len(), 1);
        assert!(detail["conversations"].as_array().unwrap().iter().any(|c| c["name"] == "Lobby"));
        assert!(detail["audit"].as_array().unwrap().iter().any(|e| e["action"] == "user.created"));

        let (code, link) = act(&app, &admin, Method::POST, &format!("/api/v1/admin/users/{}/reset-link", newbie.id), json!({})).await;
        assert_eq!(code, 200);
        let url = link["url"].as_str().unwrap();
        let token = url.split("#token=").nth(1).unwrap();
        assert!(url.contains("/reset-password#token="));
        let reset = app.post_json("/api/v1/auth/password-reset/confirm", &json!({"token": token, "new_password": "a-brand-new-password"})).await;
        assert!(reset.status().is_success(), "{}", reset.status());
        let login = app.post_json("/api/v1/auth/login", &json!({"username": "newbie", "password": "a-brand-new-password"})).await;
        assert_eq!(login.status(), 200);
        assert_eq!(audited(&app, &admin, "user.reset_link_issued", &newbie.id).await["actor_username"], "admin");
    }
);

db_test!(
    async fn a_broadcast_reaches_every_connection_and_can_be_kept_in_official_rooms(app) {
        let admin = app.login("admin").await;
        let eve = app.user("eve").await;
        let lobby = app.lobby(&eve).await;
        let (mut ws, _) = app.ws(&eve).await;
        let (code, _) = act(&app, &admin, Method::POST, "/api/v1/admin/broadcast", json!({"text": "  "})).await;
        assert_eq!(code, 422);
        let (code, out) = act(&app, &admin, Method::POST, "/api/v1/admin/broadcast",
            json!({"text": "Maintenance at 22:00", "store_in_official_rooms": true})).await;
        assert_eq!(code, 200, "{out}");
        assert_eq!(out["stored_in"], 1);
        let frame = ws.expect("announcement").await;
        assert_eq!((frame["text"].as_str(), frame["by_username"].as_str()), (Some("Maintenance at 22:00"), Some("admin")));
        let history = app.get_json(&format!("/api/v1/conversations/{lobby}/messages"), &eve.token).await;
        assert!(history["messages"].as_array().unwrap().iter().any(|m| m["body"] == "📢 Maintenance at 22:00"));
        let page = app.get_json("/api/v1/admin/audit?action=broadcast.sent", &admin.token).await;
        assert_eq!(page["entries"][0]["details"]["text"], "Maintenance at 22:00");
    }
);

db_test!(
    async fn the_server_tells_which_database_it_is_on_and_what_it_holds(app) {
        let admin = app.login("admin").await;
        let eve = app.user("eve").await;
        let (_ws, _) = app.ws(&eve).await;
        let lobby = app.lobby(&eve).await;
        app.send(&eve, &lobby, "hello").await;
        let status = app.get_json("/api/v1/admin/server", &admin.token).await;
        assert_eq!(status["version"], env!("CARGO_PKG_VERSION"));
        let db = &status["database"];
        if app.on_postgres() {
            assert_eq!(db["backend"], "postgres");
            assert!(db["server_version"].as_str().unwrap().starts_with("PostgreSQL"));
            assert!(db["host"].as_str().unwrap().contains("127.0.0.1"));
            assert!(db.get("path").is_none());
        } else {
            assert_eq!(db["backend"], "sqlite");
            assert_eq!(db["name"], "echochat.db");
            assert!(db["path"].as_str().unwrap().ends_with("echochat.db"));
        }
        assert!(!status["data_dir"].as_str().unwrap().is_empty());
        let counts = &status["counts"];
        assert_eq!(counts["users"], 2);
        assert_eq!(counts["online"], 1);
        assert!(counts["rooms"].as_u64().unwrap() >= 1);
        assert!(counts["messages_today"].as_u64().unwrap() >= 1);
        assert!(status["uptime_secs"].as_u64().is_some());
    }
);
