//! The core seams: permissions from the database (never a stale token claim), the audit log,
//! the unit of work, account deletion that keeps history, and CHECK constraints.

use reqwest::Method;
use sea_orm::{ConnectionTrait, DbBackend, Statement};
use serde_json::{Value, json};

use crate::{
    both_backends, db_test,
    helpers::{Backend, PASSWORD, call, spawn_ready_app_with},
};

db_test!(
    async fn a_demoted_admin_is_refused_on_the_next_request_even_with_an_open_session(app) {
        let root = app.login("admin").await;
        let me = app.get_json("/api/v1/users/me", &root.token).await;
        assert_eq!(me["user"]["role"], "admin");
        assert_eq!(
            me["permissions"],
            json!([
                "audit.read", "roles.manage", "rooms.create", "rooms.moderate", "rooms.manage",
                "server.view", "users.view", "users.manage", "users.moderate", "settings.manage",
                "broadcast.send", "reports.review"
            ])
        );

        let eve = app.user("eve").await;
        assert_eq!(app.set_role(&eve.id, "admin").await.status(), 200);
        // Eve's token was issued while she was a member: authority is read now, not from it.
        assert_eq!(app.get("/api/v1/admin/audit", &eve.token).await.status(), 200);
        let (mut ws, ready) = app.ws(&eve).await;
        assert!(ready["permissions"].as_array().unwrap().iter().any(|p| p == "audit.read"));

        let demoted = app.set_role(&eve.id, "member").await;
        assert_eq!(demoted.status(), 200);
        assert_eq!(demoted.json::<Value>().await.unwrap()["role"], "member");
        let refused = app.get("/api/v1/admin/audit", &eve.token).await;
        assert_eq!(refused.status(), 403);
        assert_eq!(refused.json::<Value>().await.unwrap()["code"], "permission_denied");
        let update = ws.expect("user_updated").await;
        assert_eq!(update["user"]["role"], "member");
        assert_eq!(update["permissions"], json!(["rooms.create"]));
        let me = app.get_json("/api/v1/users/me", &eve.token).await;
        assert_eq!(me["permissions"], json!(["rooms.create"]));

        // Members cannot change roles; the last admin cannot be demoted.
        let by_member = app
            .send_auth(Method::PUT, &format!("/api/v1/admin/users/{}/role", root.id), &eve.token, &json!({"role": "member"}))
            .await;
        assert_eq!(by_member.status(), 403);
        let last = app.set_role(&root.id, "moderator").await;
        assert_eq!(last.status(), 409);
        assert_eq!(last.json::<Value>().await.unwrap()["code"], "last_admin");
        let nobody = app.set_role("00000000-0000-7000-8000-000000000000", "admin").await;
        assert_eq!(nobody.status(), 404);
    }
);

db_test!(
    async fn the_audit_log_records_who_did_what_to_what_from_where(app) {
        let root = app.login("admin").await;
        let ann = app.user("ann").await;
        let ben = app.user("ben").await;
        let room = app.room(&ann, "Audited", "private").await;
        assert_eq!(app.post_auth(&format!("/api/v1/rooms/{room}/invites"), &ann.token, &json!({"username": "ben"})).await.status(), 201);
        assert_eq!(app.set_role(&ben.id, "moderator").await.status(), 200);
        let ben_session = app.login("ben").await;
        assert_eq!(app.post_json("/api/v1/auth/logout", &json!({"refresh_token": ben_session.refresh})).await.status(), 204);

        let page = app.get_json("/api/v1/admin/audit", &root.token).await;
        let entries = page["entries"].as_array().unwrap();
        let actions: Vec<&str> = entries.iter().map(|e| e["action"].as_str().unwrap()).collect();
        assert_eq!(
            actions,
            vec!["session.logout", "user.role_changed", "room.invite", "room.created", "setup.completed"],
            "newest first"
        );
        let created = &entries[3];
        assert_eq!(created["actor_id"], ann.id.as_str());
        assert_eq!(created["actor_username"], "ann");
        assert_eq!(created["target_type"], "conversation");
        assert_eq!(created["target_id"], room.as_str());
        assert_eq!(created["details"], json!({"name": "Audited", "visibility": "private"}));
        assert_eq!(created["ip"], "127.0.0.1");
        let role = &entries[1];
        assert_eq!(role["details"], json!({"username": "ben", "from": "member", "to": "moderator", "via": "api"}));
        assert_eq!(role["target_id"], ben.id.as_str());

        // Filters and paging.
        let by_ann = app.get_json(&format!("/api/v1/admin/audit?actor={}", ann.id), &root.token).await;
        assert_eq!(by_ann["entries"].as_array().unwrap().len(), 2);
        let invites = app.get_json("/api/v1/admin/audit?action=room.invite", &root.token).await;
        assert_eq!(invites["entries"][0]["details"]["username"], "ben");
        let about_room = app.get_json(&format!("/api/v1/admin/audit?target={room}"), &root.token).await;
        assert_eq!(about_room["entries"].as_array().unwrap().len(), 2);
        let first = app.get_json("/api/v1/admin/audit?limit=2", &root.token).await;
        let cursor = first["next_cursor"].as_str().expect("more pages");
        let second = app.get_json(&format!("/api/v1/admin/audit?limit=2&cursor={cursor}"), &root.token).await;
        assert_eq!(second["entries"][0]["action"], "room.invite");
        let all = app.all_pages("/api/v1/admin/audit?limit=2", "entries", &root.token).await;
        assert_eq!(all.len(), 5);
        assert_eq!(app.get("/api/v1/admin/audit?action=nope", &root.token).await.status(), 400);
        assert_eq!(app.get("/api/v1/admin/audit?cursor=garbage", &root.token).await.status(), 422);
        assert_eq!(app.get("/api/v1/admin/audit", &ann.token).await.status(), 403);
    }
);

db_test!(
    async fn creating_a_room_is_one_unit_of_work(app) {
        let ida = app.user("ida").await;
        // Fault injection: the audit record of the use case cannot be written.
        let db = app.database().await;
        let (create, drop) = if app.on_postgres() {
            (
                vec![
                    "CREATE FUNCTION fail_audit() RETURNS trigger AS $$ BEGIN RAISE EXCEPTION 'injected'; END $$ LANGUAGE plpgsql",
                    "CREATE TRIGGER fail_audit BEFORE INSERT ON audit_log FOR EACH ROW EXECUTE FUNCTION fail_audit()",
                ],
                vec!["DROP TRIGGER fail_audit ON audit_log"],
            )
        } else {
            (
                vec!["CREATE TRIGGER fail_audit BEFORE INSERT ON audit_log BEGIN SELECT RAISE(ABORT, 'injected'); END"],
                vec!["DROP TRIGGER fail_audit"],
            )
        };
        for sql in create {
            db.execute_unprepared(sql).await.unwrap();
        }
        let resp = app.post_auth("/api/v1/rooms", &ida.token, &json!({"name": "Atomic", "visibility": "public"})).await;
        assert_eq!(resp.status(), 500);
        for sql in drop {
            db.execute_unprepared(sql).await.unwrap();
        }
        // Nothing of it was committed: no room, no membership, and the name is still free.
        let listed = app.get_json("/api/v1/rooms?q=atomic", &ida.token).await;
        assert_eq!(listed, json!({"rooms": []}));
        let backend = if app.on_postgres() { DbBackend::Postgres } else { DbBackend::Sqlite };
        let rows = db
            .query_all_raw(Statement::from_string(backend, "SELECT name FROM conversations WHERE name = 'Atomic'"))
            .await
            .unwrap();
        assert!(rows.is_empty());
        let ok = app.post_auth("/api/v1/rooms", &ida.token, &json!({"name": "Atomic", "visibility": "public"})).await;
        assert_eq!(ok.status(), 201);
        let view: Value = ok.json().await.unwrap();
        assert_eq!(view["role"], "owner");
        assert_eq!(view["member_count"], 1);
    }
);

db_test!(
    async fn a_deleted_account_keeps_its_messages_and_frees_its_name(app) {
        let dee = app.user("dee").await;
        let bob = app.user("bob").await;
        let lobby = app.lobby(&dee).await;
        for i in 1..=3 {
            app.send(&dee, &lobby, &format!("from dee {i}")).await;
        }
        app.send(&bob, &lobby, "from bob").await;
        let (mut wb, _) = app.ws(&bob).await;
        let (mut wd, _) = app.ws(&dee).await;

        let wrong = app.send_auth(Method::DELETE, "/api/v1/users/me", &dee.token, &json!({"password": "wrong password"})).await;
        assert_eq!(wrong.status(), 403);
        assert_eq!(wrong.json::<Value>().await.unwrap()["code"], "invalid_credentials");
        let gone = app.send_auth(Method::DELETE, "/api/v1/users/me", &dee.token, &json!({"password": PASSWORD})).await;
        assert_eq!(gone.status(), 204);

        assert_eq!(wd.close_code().await, Some(1008), "the deleted account's sockets close");
        let left = wb.expect("member_left").await;
        assert_eq!(left["user_id"], dee.id.as_str());
        assert_eq!(app.get("/api/v1/users/me", &dee.token).await.status(), 401);
        let login = app.post_json("/api/v1/auth/login", &json!({"username": "dee", "password": PASSWORD})).await;
        assert_eq!(login.status(), 401);

        let history = app.get_json(&format!("/api/v1/conversations/{lobby}/messages"), &bob.token).await;
        let messages = history["messages"].as_array().unwrap();
        let seqs: Vec<i64> = messages.iter().map(|m| m["seq"].as_i64().unwrap()).collect();
        assert_eq!(seqs, vec![1, 2, 3, 4], "history is whole and gap-free");
        let placeholder = messages[0]["sender_username"].as_str().unwrap();
        assert!(placeholder.starts_with("deleted-"), "{placeholder}");
        assert_eq!(messages[0]["sender_id"], dee.id.as_str());
        assert_eq!(messages[3]["sender_username"], "bob");

        // The name is free again; the next message continues the sequence.
        let again = app.user("dee").await;
        assert_ne!(again.id, dee.id);
        assert_eq!(app.send(&bob, &lobby, "welcome back").await["seq"], 5);
        // Nobody may register a deleted account's placeholder name.
        let squat = app.post_json("/api/v1/auth/register", &json!({"username": placeholder, "password": PASSWORD})).await;
        assert_eq!(squat.status(), 422);

        // The only admin cannot delete their account.
        let root = app.login("admin").await;
        let last = app.send_auth(Method::DELETE, "/api/v1/users/me", &root.token, &json!({"password": PASSWORD})).await;
        assert_eq!(last.status(), 409);
    }
);

db_test!(
    async fn kinds_states_and_roles_are_checked_by_the_database(app) {
        let cora = app.user("cora").await;
        let lobby = app.lobby(&cora).await;
        app.send(&cora, &lobby, "my words stay").await;
        let db = app.database().await;
        let backend = if app.on_postgres() { DbBackend::Postgres } else { DbBackend::Sqlite };
        for sql in [
            "UPDATE conversations SET kind = 'channel'",
            "UPDATE conversations SET visibility = 'secret'",
            "UPDATE conversation_members SET state = 'lurking'",
            "UPDATE conversation_members SET role = 'king'",
            "UPDATE users SET role = 'root'",
        ] {
            let result = db.execute_raw(Statement::from_string(backend, sql)).await;
            assert!(result.is_err(), "{sql} must violate a CHECK constraint");
        }
        // A message's sender cannot be removed from under it (no cascade from users to messages).
        let delete = db
            .execute_raw(Statement::from_string(backend, "DELETE FROM users WHERE username = 'cora'"))
            .await;
        assert!(delete.is_err(), "deleting a sender must be refused");
        let still = app.get_json(&format!("/api/v1/conversations/{lobby}/messages"), &cora.token).await;
        assert_eq!(still["messages"][0]["body"], "my words stay");
    }
);

async fn revoked_and_bearer_logout(backend: Backend) {
    let app = spawn_ready_app_with(backend, |c| c.auth.refresh_reuse_grace_secs = 0).await;
    let root = app.login("admin").await;
    app.user("rita").await;
    let stolen = app.login("rita").await;
    let rotated = app
        .post_json(
            "/api/v1/auth/refresh",
            &json!({"refresh_token": stolen.refresh}),
        )
        .await;
    assert_eq!(rotated.status(), 200);
    // The rotated token presented again (no grace window here): theft, the family is revoked.
    let reuse = app
        .post_json(
            "/api/v1/auth/refresh",
            &json!({"refresh_token": stolen.refresh}),
        )
        .await;
    assert_eq!(reuse.status(), 401);
    let revoked = app
        .get_json("/api/v1/admin/audit?action=session.revoked", &root.token)
        .await;
    assert_eq!(revoked["entries"][0]["details"]["reason"], "token_reuse");
    assert_eq!(revoked["entries"][0]["target_type"], "session");

    // Logout with only the Bearer token ends that token's session.
    let bearer = app.login("rita").await;
    let out = call(
        app.http
            .post(app.url("/api/v1/auth/logout"))
            .bearer_auth(&bearer.token)
            .json(&json!({})),
    )
    .await;
    assert_eq!(out.status(), 204);
    assert_eq!(
        app.get("/api/v1/users/me", &bearer.token).await.status(),
        401
    );
    let refresh = app
        .post_json(
            "/api/v1/auth/refresh",
            &json!({"refresh_token": bearer.refresh}),
        )
        .await;
    assert_eq!(refresh.status(), 401, "its refresh token is revoked too");
    let logouts = app
        .get_json("/api/v1/admin/audit?action=session.logout", &root.token)
        .await;
    assert_eq!(logouts["entries"][0]["actor_username"], "rita");
}

both_backends!(a_revoked_session_and_a_bearer_only_logout_are_audited => super::revoked_and_bearer_logout);

db_test!(
    async fn a_request_abandoned_after_commit_still_updates_permissions(app) {
        use sea_orm::{ConnectionTrait, DbBackend, Statement};
        let root = app.login("admin").await;
        let bob = app.user("bobby").await;
        let db = app.database().await;
        let backend = if app.on_postgres() { DbBackend::Postgres } else { DbBackend::Sqlite };
        let role_in_db = || async {
            let sql = "SELECT role FROM users WHERE username = 'bobby'";
            let row = db.query_one_raw(Statement::from_string(backend, sql)).await.unwrap().unwrap();
            row.try_get_by_index::<String>(0).unwrap()
        };
        // Role changes whose client gives up after 0–9 ms: some commit, some do not; whatever
        // happened, the permissions bob gets must match his role in the database.
        for attempt in 0..20u64 {
            let role = if attempt % 2 == 0 { "admin" } else { "member" };
            let client = reqwest::Client::builder()
                .timeout(std::time::Duration::from_millis(attempt % 10))
                .build()
                .unwrap();
            let _ = client
                .put(app.url(&format!("/api/v1/admin/users/{}/role", bob.id)))
                .bearer_auth(&root.token)
                .json(&json!({ "role": role }))
                .send()
                .await;
            let deadline = tokio::time::Instant::now() + std::time::Duration::from_secs(5);
            loop {
                let stored = role_in_db().await;
                let me = app.get_json("/api/v1/users/me", &bob.token).await;
                let admin_perms = me["permissions"].as_array().unwrap().iter().any(|p| p == "roles.manage");
                if admin_perms == (stored == "admin") {
                    break;
                }
                assert!(tokio::time::Instant::now() < deadline, "attempt {attempt}: role {stored} in the database, permissions {me}");
                tokio::time::sleep(std::time::Duration::from_millis(20)).await;
            }
        }
    }
);

db_test!(
    async fn a_declined_invitation_is_not_announced_and_ended_sessions_are_audited_once(app) {
        let owner = app.user("olly").await;
        let member = app.user("mina").await;
        let guest = app.user("gwen").await;
        let room = app.room(&owner, "Quiet", "private").await;
        app.post_auth(&format!("/api/v1/rooms/{room}/invites"), &owner.token, &json!({"username": "mina"})).await;
        app.join(&member, &room).await;
        app.post_auth(&format!("/api/v1/rooms/{room}/invites"), &owner.token, &json!({"username": "gwen"})).await;
        let (mut wm, _) = app.ws(&member).await;
        let (wg, _) = app.ws(&guest).await;
        let (mut wg2, _) = app.ws(&guest).await;
        assert_eq!(app.post_auth(&format!("/api/v1/rooms/{room}/leave"), &guest.token, &json!({})).await.status(), 204);
        // The invitee's other connection drops the invitation...
        assert_eq!(wg2.expect("member_left").await["conversation_id"], room.as_str());
        drop(wg);
        // ...but the room's members are not told (marker: the owner's next message).
        app.send(&owner, &room, "marker").await;
        loop {
            let frame = wm.next_json().await;
            assert_ne!(frame["type"], "member_left", "a declined invitation was announced: {frame}");
            if frame["type"] == "message" {
                break;
            }
        }
        // Nor when an invitee deletes their account: only memberships are announced.
        let ivy = app.user("ivy").await;
        app.post_auth(&format!("/api/v1/rooms/{room}/invites"), &owner.token, &json!({"username": "ivy"})).await;
        let gone = app.send_auth(Method::DELETE, "/api/v1/users/me", &ivy.token, &json!({"password": PASSWORD})).await;
        assert_eq!(gone.status(), 204);
        app.send(&owner, &room, "second marker").await;
        loop {
            let frame = wm.next_json().await;
            let about_room = frame["type"] == "member_left" && frame["conversation_id"] == room.as_str();
            assert!(!about_room, "a deleted invitee was announced: {frame}");
            if frame["type"] == "message" {
                break;
            }
        }

        // Logging out again with an old refresh token changes and audits nothing.
        let root = app.login("admin").await;
        let session = app.login("olly").await;
        for _ in 0..3 {
            let out = app.post_json("/api/v1/auth/logout", &json!({"refresh_token": session.refresh})).await;
            assert_eq!(out.status(), 204);
        }
        let logouts = app.get_json("/api/v1/admin/audit?action=session.logout", &root.token).await;
        assert_eq!(logouts["entries"].as_array().unwrap().len(), 1);
        assert_eq!(logouts["entries"][0]["ip"], "127.0.0.1", "the client address is recorded");

        // Cursors and filters with NUL are refused, never a 500 (PostgreSQL has no NUL in text).
        use base64::Engine;
        let b64 = |s: &str| base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(s);
        let nul_member = b64("\"a\\u0000\"");
        let nul_room = b64("[true,\"a\\u0000\"]");
        let lobby = app.lobby(&owner).await;
        for path in [
            format!("/api/v1/conversations/{lobby}/members?cursor={nul_member}"),
            format!("/api/v1/rooms?cursor={nul_room}"),
        ] {
            let resp = app.get(&path, &owner.token).await;
            assert_eq!(resp.status(), 422, "{path}");
        }
        assert_eq!(app.get("/api/v1/admin/audit?target=%00", &root.token).await.status(), 400);
        // A GET's declared body length is no reason to refuse it.
        let get = call(app.http.get(app.url("/api/v1/health")).header("content-length", "2000000")).await;
        assert_ne!(get.status(), 413);
        // A resume error names its conversation.
        let (mut wo, _) = app.ws(&guest).await;
        wo.send_json(json!({"type": "resume", "conversation_id": room, "after_seq": 0})).await;
        let err = wo.expect("error").await;
        assert_eq!(err["conversation_id"], room.as_str());
    }
);
