//! Live settings and invite links: who may use the routes; each setting taking effect without a
//! restart (registration modes with invite links, invisible presence, a rate limit, the server's
//! name and MOTD in `GET /server`, `ready` and `server_updated`); reset to the config value; the
//! `changed` flag; audit entries; bad input changing nothing.

use reqwest::Method;
use serde_json::{Value, json};

use crate::{
    both_backends, db_test,
    helpers::{Backend, PASSWORD, TestApp, TestUser, call, spawn_ready_app_with},
};

async fn patch(app: &TestApp, user: &TestUser, body: Value) -> (u16, Value) {
    let resp = app
        .send_auth(Method::PATCH, "/api/v1/admin/settings", &user.token, &body)
        .await;
    let status = resp.status().as_u16();
    (status, resp.json().await.unwrap_or(Value::Null))
}

async fn reset(app: &TestApp, user: &TestUser, key: &str) -> (u16, Value) {
    let resp = call(
        app.http
            .delete(app.url(&format!("/api/v1/admin/settings/{key}")))
            .bearer_auth(&user.token),
    )
    .await;
    let status = resp.status().as_u16();
    (status, resp.json().await.unwrap_or(Value::Null))
}

/// Registers `name` with `invite` (when given); returns the status and body.
async fn register(app: &TestApp, name: &str, invite: Option<&str>) -> (u16, Value) {
    let mut body = json!({"username": name, "password": PASSWORD});
    if let Some(code) = invite {
        body["invite"] = json!(code);
    }
    let resp = app.post_json("/api/v1/auth/register", &body).await;
    let status = resp.status().as_u16();
    (status, resp.json().await.unwrap_or(Value::Null))
}

async fn create_invite(app: &TestApp, admin: &TestUser, body: Value) -> Value {
    let resp = app
        .post_auth("/api/v1/admin/invites", &admin.token, &body)
        .await;
    assert_eq!(resp.status(), 201, "create invite");
    resp.json().await.unwrap()
}

/// The setting `key` of a settings list.
fn setting<'a>(list: &'a Value, key: &str) -> &'a Value {
    list["settings"]
        .as_array()
        .unwrap()
        .iter()
        .find(|s| s["key"] == key)
        .unwrap_or_else(|| panic!("no {key} in {list}"))
}

async fn audit(app: &TestApp, admin: &TestUser, action: &str) -> Vec<Value> {
    app.get_json(
        &format!("/api/v1/admin/audit?action={action}"),
        &admin.token,
    )
    .await["entries"]
        .as_array()
        .unwrap()
        .clone()
}

db_test!(
    async fn settings_routes_need_settings_manage(app) {
        let admin = app.login("admin").await;
        let moderator = app.user("mod").await;
        assert_eq!(app.set_role(&moderator.id, "moderator").await.status(), 200);
        let member = app.user("mia").await;
        let invite = create_invite(&app, &admin, json!({})).await;
        let code = invite["code"].as_str().unwrap();

        let routes: Vec<(Method, String, Value)> = vec![
            (Method::GET, "/api/v1/admin/settings".into(), Value::Null),
            (Method::PATCH, "/api/v1/admin/settings".into(), json!({"general.motd": "hi"})),
            (Method::DELETE, "/api/v1/admin/settings/general.motd".into(), Value::Null),
            (Method::POST, "/api/v1/admin/invites".into(), json!({})),
            (Method::GET, "/api/v1/admin/invites".into(), Value::Null),
            (Method::DELETE, format!("/api/v1/admin/invites/{code}"), Value::Null),
        ];
        for (method, path, body) in &routes {
            for (who, user) in [("moderator", &moderator), ("member", &member)] {
                let mut req = app.http.request(method.clone(), app.url(path)).bearer_auth(&user.token);
                if !body.is_null() {
                    req = req.json(body);
                }
                let resp = call(req).await;
                assert_eq!(resp.status(), 403, "{who} {method} {path}");
                let body: Value = resp.json().await.unwrap();
                assert_eq!(body["code"], "permission_denied");
            }
            let mut req = app.http.request(method.clone(), app.url(path));
            if !body.is_null() {
                req = req.json(body);
            }
            assert_eq!(call(req).await.status(), 401, "anonymous {method} {path}");
        }
        // Nothing the refused requests asked for happened…
        let list = app.get_json("/api/v1/admin/settings", &admin.token).await;
        assert_eq!(setting(&list, "general.motd")["changed"], false);
        let invites = app.get_json("/api/v1/admin/invites", &admin.token).await;
        assert_eq!(invites["invites"].as_array().unwrap().len(), 1);
        assert_eq!(invites["invites"][0]["usable"], true);
        // …and the admin may do each of them.
        for (method, path, body) in &routes {
            let mut req = app.http.request(method.clone(), app.url(path)).bearer_auth(&admin.token);
            if !body.is_null() {
                req = req.json(body);
            }
            let status = call(req).await.status().as_u16();
            assert!([200, 201, 204].contains(&status), "admin {method} {path}: {status}");
        }
        // The public server facts need no login.
        let server = app.get_public_json("/api/v1/server").await;
        assert_eq!(server, json!({"name": "EchoChat", "motd": "", "registration": "open"}));
    }
);

db_test!(
    async fn registration_modes_and_invite_links_apply_at_once(app) {
        let admin = app.login("admin").await;

        assert_eq!(patch(&app, &admin, json!({"general.registration": "closed"})).await.0, 200);
        assert_eq!(app.get_public_json("/api/v1/server").await["registration"], "closed");
        let (status, body) = register(&app, "carl", None).await;
        assert_eq!((status, body["code"].as_str()), (403, Some("registration_closed")));

        assert_eq!(patch(&app, &admin, json!({"general.registration": "invite_only"})).await.0, 200);
        assert_eq!(app.get_public_json("/api/v1/server").await["registration"], "invite_only");
        let (status, body) = register(&app, "carl", None).await;
        assert_eq!((status, body["code"].as_str()), (403, Some("invite_required")));
        let (status, body) = register(&app, "carl", Some("not-a-real-code")).await;
        assert_eq!((status, body["code"].as_str()), (403, Some("invalid_invite")));

        let invite = create_invite(&app, &admin, json!({"max_uses": 1, "expires_in_secs": 3600})).await;
        let code = invite["code"].as_str().unwrap().to_owned();
        assert!(code.len() >= 22, "at least 128 bits: {code}");
        assert!(code.chars().all(|c| c.is_ascii_alphanumeric() || c == '-' || c == '_'), "{code}");
        assert!(invite["url"].as_str().unwrap().ends_with(&format!("/register?invite={code}")));
        assert_eq!(invite["uses"], 0);
        assert_eq!(invite["max_uses"], 1);
        assert_eq!(invite["created_by"], admin.id.as_str());
        assert!(invite["expires_at"].is_string());

        let (status, _) = register(&app, "carl", Some(&code)).await;
        assert_eq!(status, 201, "the invite works");
        app.login("carl").await;
        let (status, body) = register(&app, "dora", Some(&code)).await;
        assert_eq!((status, body["code"].as_str()), (403, Some("invalid_invite")), "used up");
        let invites = app.get_json("/api/v1/admin/invites", &admin.token).await;
        let listed = &invites["invites"][0];
        assert_eq!((listed["code"].as_str(), &listed["uses"], &listed["usable"]), (Some(code.as_str()), &json!(1), &json!(false)));

        // A revoked link stops working.
        let unlimited = create_invite(&app, &admin, json!({})).await;
        let unlimited = unlimited["code"].as_str().unwrap().to_owned();
        assert_eq!(register(&app, "dora", Some(&unlimited)).await.0, 201);
        let resp = call(app.http.delete(app.url(&format!("/api/v1/admin/invites/{unlimited}"))).bearer_auth(&admin.token)).await;
        assert_eq!(resp.status(), 204);
        let (status, body) = register(&app, "emil", Some(&unlimited)).await;
        assert_eq!((status, body["code"].as_str()), (403, Some("invalid_invite")), "revoked");
        let resp = call(app.http.delete(app.url("/api/v1/admin/invites/nope")).bearer_auth(&admin.token)).await;
        assert_eq!(resp.status(), 404);

        // An expired link stops working (its expiry moved into the past in the database).
        let expiring = create_invite(&app, &admin, json!({"expires_in_secs": 60})).await;
        let expiring = expiring["code"].as_str().unwrap().to_owned();
        let db = app.database().await;
        use sea_orm::ConnectionTrait;
        let sql = if app.on_postgres() {
            format!("UPDATE server_invites SET expires_at = now() - interval '1 second' WHERE code = '{expiring}'")
        } else {
            format!("UPDATE server_invites SET expires_at = '2020-01-01T00:00:00Z' WHERE code = '{expiring}'")
        };
        db.execute_unprepared(&sql).await.unwrap();
        let (status, body) = register(&app, "emil", Some(&expiring)).await;
        assert_eq!((status, body["code"].as_str()), (403, Some("invalid_invite")), "expired");

        let audit_created = audit(&app, &admin, "invite.created").await;
        assert_eq!(audit_created.len(), 3);
        let revoked = audit(&app, &admin, "invite.revoked").await;
        assert_eq!(revoked.len(), 1);
        assert_eq!(revoked[0]["details"]["code"], unlimited.as_str());

        // Open again: no invite needed, and a given one is ignored.
        assert_eq!(patch(&app, &admin, json!({"general.registration": "open"})).await.0, 200);
        assert_eq!(register(&app, "emil", None).await.0, 201);
        assert_eq!(register(&app, "finn", Some("whatever")).await.0, 201);
    }
);

db_test!(
    async fn an_invites_last_use_goes_to_exactly_one_registration(app) {
        let admin = app.login("admin").await;
        assert_eq!(patch(&app, &admin, json!({"general.registration": "invite_only"})).await.0, 200);
        let invite = create_invite(&app, &admin, json!({"max_uses": 2})).await;
        let code = invite["code"].as_str().unwrap().to_owned();
        let names: Vec<String> = (0..8).map(|i| format!("racer{i}")).collect();
        let results = futures_util::future::join_all(
            names.iter().map(|name| register(&app, name, Some(&code))),
        )
        .await;
        let created = results.iter().filter(|(s, _)| *s == 201).count();
        assert_eq!(created, 2, "{results:?}");
        for (status, body) in results.iter().filter(|(s, _)| *s != 201) {
            assert_eq!((*status, body["code"].as_str()), (403, Some("invalid_invite")));
        }
        let invites = app.get_json("/api/v1/admin/invites", &admin.token).await;
        assert_eq!(invites["invites"][0]["uses"], 2);
    }
);

db_test!(
    async fn allow_invisible_and_a_rate_limit_change_live(app) {
        let admin = app.login("admin").await;
        let ivy = app.user("ivy").await;
        let set_invisible = async || {
            let resp = app
                .send_auth(Method::PUT, "/api/v1/presence", &ivy.token, &json!({"choice": "invisible"}))
                .await;
            let status = resp.status().as_u16();
            (status, resp.json::<Value>().await.unwrap_or(Value::Null))
        };
        assert_eq!(set_invisible().await.0, 200);
        assert_eq!(
            app.send_auth(Method::PUT, "/api/v1/presence", &ivy.token, &json!({"choice": "online"})).await.status(),
            200
        );

        assert_eq!(patch(&app, &admin, json!({"presence.allow_invisible": false})).await.0, 200);
        let (status, body) = set_invisible().await;
        assert_eq!((status, body["code"].as_str()), (403, Some("invisible_disabled")));
        assert_eq!(app.get_json("/api/v1/presence", &ivy.token).await["allow_invisible"], false);
        assert_eq!(reset(&app, &admin, "presence.allow_invisible").await.0, 200);
        assert_eq!(set_invisible().await.0, 200);

        // messages_per_user: the test server's limit is far away; two in a row now.
        let lobby = app.lobby(&ivy).await;
        let send = async || {
            app.post_auth(
                &format!("/api/v1/conversations/{lobby}/messages"),
                &ivy.token,
                &json!({"body": "hi"}),
            )
            .await
            .status()
            .as_u16()
        };
        for _ in 0..3 {
            assert_eq!(send().await, 201);
        }
        let rate = json!({"count": 1, "per_secs": 3600, "burst": 2});
        let (status, list) = patch(&app, &admin, json!({"limits.messages_per_user": rate})).await;
        assert_eq!(status, 200);
        assert_eq!(setting(&list, "limits.messages_per_user")["value"], rate);
        assert_eq!(send().await, 201);
        assert_eq!(send().await, 201);
        assert_eq!(send().await, 429, "the third in a row is over the new limit");
        assert_eq!(reset(&app, &admin, "limits.messages_per_user").await.0, 200);
        assert_eq!(send().await, 201, "back to the config's limit");

        // A cap (not a rate): pending friend requests.
        assert_eq!(patch(&app, &admin, json!({"limits.max_pending_friend_requests": 1})).await.0, 200);
        app.user("fox").await;
        app.user("gus").await;
        for (name, expected) in [("fox", 202), ("gus", 409)] {
            let resp = app
                .post_auth("/api/v1/friends/requests", &ivy.token, &json!({"username": name}))
                .await;
            assert_eq!(resp.status().as_u16(), expected, "friend request to {name}");
        }
    }
);

db_test!(
    async fn server_name_and_motd_reach_connected_clients_live(app) {
        let admin = app.login("admin").await;
        let mia = app.user("mia").await;
        let (mut ws, ready) = app.ws(&mia).await;
        assert_eq!(ready["server"]["name"], "EchoChat");
        assert_eq!(ready["server"]["motd"], "");

        let (status, _) = patch(
            &app,
            &admin,
            json!({"general.server_name": "  Acme Chat ", "general.motd": "Maintenance at 22:00\nBe nice."}),
        )
        .await;
        assert_eq!(status, 200);
        let frame = ws.expect("server_updated").await;
        assert_eq!(frame["server"]["name"], "Acme Chat", "trimmed");
        assert_eq!(frame["server"]["motd"], "Maintenance at 22:00\nBe nice.");
        let server = app.get_public_json("/api/v1/server").await;
        assert_eq!(server["name"], "Acme Chat");
        let (_ws2, ready) = app.ws(&mia).await;
        assert_eq!(ready["server"]["name"], "Acme Chat");

        // E-mails name the server by its live name too.
        let resp = app
            .post_json(
                "/api/v1/auth/register",
                &json!({"username": "rob", "password": PASSWORD, "email": "rob@example.com"}),
            )
            .await;
        assert_eq!(resp.status(), 201);
        let resp = app
            .post_json("/api/v1/auth/password-reset", &json!({"username_or_email": "rob"}))
            .await;
        assert_eq!(resp.status(), 202);
        let spool = app.config.data_dir.join("mail-spool");
        let deadline = tokio::time::Instant::now() + std::time::Duration::from_secs(20);
        loop {
            let subjects: Vec<String> = std::fs::read_dir(&spool)
                .into_iter()
                .flatten()
                .filter_map(|e| std::fs::read_to_string(e.ok()?.path()).ok())
                .collect();
            if subjects.iter().any(|m| m.contains("Subject: Reset your Acme Chat password")) {
                break;
            }
            assert!(tokio::time::Instant::now() < deadline, "no reset mail naming Acme Chat: {subjects:?}");
            tokio::time::sleep(std::time::Duration::from_millis(50)).await;
        }

        // Stored: a restart keeps the change.
        drop(ws);
        app.restart().await;
        let server = app.get_public_json("/api/v1/server").await;
        assert_eq!(server["name"], "Acme Chat");
        assert_eq!(server["motd"], "Maintenance at 22:00\nBe nice.");
    }
);

db_test!(
    async fn settings_list_reset_changed_flag_and_audit(app) {
        let admin = app.login("admin").await;
        let list = app.get_json("/api/v1/admin/settings", &admin.token).await;
        let keys: Vec<&str> = list["settings"].as_array().unwrap().iter().map(|s| s["key"].as_str().unwrap()).collect();
        for key in [
            "general.server_name",
            "general.motd",
            "general.registration",
            "presence.allow_invisible",
            "limits.messages_per_user",
            "limits.login_per_ip",
            "limits.max_pending_friend_requests",
            "limits.friend_requests_per_minute",
        ] {
            assert!(keys.contains(&key), "{key} in {keys:?}");
        }
        assert!(list["settings"].as_array().unwrap().iter().all(|s| s["changed"] == false && s["updated_at"].is_null()));
        let motd = setting(&list, "general.motd");
        assert_eq!((&motd["value"], &motd["default"]), (&json!(""), &json!("")));

        let (status, list) = patch(&app, &admin, json!({"general.motd": "Hello"})).await;
        assert_eq!(status, 200);
        let motd = setting(&list, "general.motd");
        assert_eq!(motd["value"], "Hello");
        assert_eq!(motd["default"], "");
        assert_eq!(motd["changed"], true);
        assert_eq!(motd["updated_by"], admin.id.as_str());
        assert!(motd["updated_at"].is_string());
        assert_eq!(setting(&list, "general.server_name")["changed"], false);

        // The same value again changes nothing and is not audited.
        let (status, again) = patch(&app, &admin, json!({"general.motd": "Hello"})).await;
        assert_eq!(status, 200);
        assert_eq!(setting(&again, "general.motd"), motd);
        let entries = audit(&app, &admin, "settings.changed").await;
        assert_eq!(entries.len(), 1);
        assert_eq!(entries[0]["actor_id"], admin.id.as_str());
        assert_eq!(entries[0]["details"]["changes"]["general.motd"], json!({"old": "", "new": "Hello"}));

        let (status, list) = reset(&app, &admin, "general.motd").await;
        assert_eq!(status, 200);
        let motd = setting(&list, "general.motd");
        assert_eq!((&motd["value"], &motd["changed"]), (&json!(""), &json!(false)));
        assert!(motd["updated_at"].is_null());
        assert_eq!(app.get_public_json("/api/v1/server").await["motd"], "");
        let entries = audit(&app, &admin, "settings.changed").await;
        assert_eq!(entries.len(), 2);
        assert_eq!(entries[0]["details"]["changes"]["general.motd"], json!({"old": "Hello", "new": ""}));
        assert_eq!(entries[0]["details"]["reset"], json!(["general.motd"]));

        // Resetting what is not changed does nothing (no audit entry).
        assert_eq!(reset(&app, &admin, "general.motd").await.0, 200);
        assert_eq!(audit(&app, &admin, "settings.changed").await.len(), 2);
    }
);

db_test!(
    async fn bad_settings_are_refused_and_change_nothing(app) {
        let admin = app.login("admin").await;
        let before = app.get_json("/api/v1/admin/settings", &admin.token).await;
        let good_rate = json!({"count": 1, "per_secs": 60, "burst": 1});
        let ok = json!({"limits.rooms_per_user": good_rate});
        for (body, key) in [
            (json!({"nope": 1}), "nope"),
            (json!({"limits.nope": 1}), "limits.nope"),
            (json!({"general.server_name": ""}), "general.server_name"),
            (json!({"general.server_name": "x".repeat(65)}), "general.server_name"),
            (json!({"general.server_name": 7}), "general.server_name"),
            (json!({"general.server_name": null}), "general.server_name"),
            (json!({"general.motd": "x".repeat(1001)}), "general.motd"),
            (json!({"general.registration": "sometimes"}), "general.registration"),
            (json!({"presence.allow_invisible": "no"}), "presence.allow_invisible"),
            (json!({"limits.messages_per_user": 10}), "limits.messages_per_user"),
            (json!({"limits.messages_per_user": {"count": 1, "per_secs": 0, "burst": 1}}), "limits.messages_per_user"),
            (json!({"limits.messages_per_user": {"count": 1, "per_secs": 1}}), "limits.messages_per_user"),
            (json!({"limits.messages_per_user": {"count": 2000000, "per_secs": 1, "burst": 1}}), "limits.messages_per_user"),
            (json!({"limits.max_pending_friend_requests": -1}), "limits.max_pending_friend_requests"),
            (json!({"limits.max_pending_friend_requests": "5"}), "limits.max_pending_friend_requests"),
        ] {
            // Together with a good change: nothing of either happens.
            let mut body = body;
            body.as_object_mut().unwrap().extend(ok.as_object().unwrap().clone());
            let (status, answer) = patch(&app, &admin, body.clone()).await;
            assert_eq!(status, 422, "{body}");
            assert_eq!(answer["code"], "invalid_setting", "{body}");
            assert!(answer["message"].as_str().unwrap().contains(key), "{answer}");
        }
        let (status, answer) = patch(&app, &admin, json!(["general.motd"])).await;
        assert_eq!((status, answer["code"].as_str()), (400, Some("bad_request")));
        let (status, answer) = reset(&app, &admin, "nope").await;
        assert_eq!((status, answer["code"].as_str()), (422, Some("invalid_setting")));

        for (body, code) in [
            (json!({"max_uses": 0}), "unprocessable_entity"),
            (json!({"expires_in_secs": 5}), "invalid_duration"),
            (json!({"expires_in_secs": 400_000_000}), "invalid_duration"),
        ] {
            let resp = app.post_auth("/api/v1/admin/invites", &admin.token, &body).await;
            assert_eq!(resp.status(), 422, "{body}");
            assert_eq!(resp.json::<Value>().await.unwrap()["code"], code);
        }
        let resp = app.post_auth("/api/v1/admin/invites", &admin.token, &json!({"max_uses": -1})).await;
        assert_eq!(resp.status(), 400);
        let resp = app.post_auth("/api/v1/admin/invites", &admin.token, &json!({"uses": 5})).await;
        assert_eq!(resp.status(), 400, "unknown field");

        assert_eq!(app.get_json("/api/v1/admin/settings", &admin.token).await, before);
        assert!(audit(&app, &admin, "settings.changed").await.is_empty());
        assert!(audit(&app, &admin, "invite.created").await.is_empty());
        let invites = app.get_json("/api/v1/admin/invites", &admin.token).await;
        assert!(invites["invites"].as_array().unwrap().is_empty());
        // The good change alone goes through.
        let (status, list) = patch(&app, &admin, ok).await;
        assert_eq!(status, 200);
        assert_eq!(setting(&list, "limits.rooms_per_user")["value"], good_rate);
    }
);

both_backends!(config_values_are_the_defaults => super::config_defaults);

async fn config_defaults(backend: Backend) {
    let app = spawn_ready_app_with(backend, |c| {
        c.server_name = "Team Chat".into();
        c.motd = "Welcome".into();
        c.registration = echochat::config::Registration::InviteOnly;
        c.presence.allow_invisible = false;
    })
    .await;
    let server = app.get_public_json("/api/v1/server").await;
    assert_eq!(
        server,
        json!({"name": "Team Chat", "motd": "Welcome", "registration": "invite_only"})
    );
    let (status, body) = register(&app, "carl", None).await;
    assert_eq!(
        (status, body["code"].as_str()),
        (403, Some("invite_required"))
    );
    let admin = app.login("admin").await;
    let list = app.get_json("/api/v1/admin/settings", &admin.token).await;
    let invisible = setting(&list, "presence.allow_invisible");
    assert_eq!(
        (
            &invisible["value"],
            &invisible["default"],
            &invisible["changed"]
        ),
        (&json!(false), &json!(false), &json!(false))
    );
    // A run-time change wins over the file; resetting goes back to the file's value.
    assert_eq!(
        patch(&app, &admin, json!({"general.registration": "open"}))
            .await
            .0,
        200
    );
    assert_eq!(register(&app, "carl", None).await.0, 201);
    let (_, list) = reset(&app, &admin, "general.registration").await;
    assert_eq!(
        setting(&list, "general.registration")["value"],
        "invite_only"
    );
    assert_eq!(register(&app, "dora", None).await.0, 403);
}

/// Waits (at most [`crate::browser::WAIT`]) until the text of `css` is `expected`.
async fn wait_text(c: &fantoccini::Client, css: &str, expected: &str) {
    let deadline = tokio::time::Instant::now() + crate::browser::WAIT;
    loop {
        let text = match c.find(fantoccini::Locator::Css(css)).await {
            Ok(el) => el
                .prop("textContent")
                .await
                .ok()
                .flatten()
                .unwrap_or_default(),
            Err(_) => String::new(),
        };
        if text.trim() == expected {
            return;
        }
        if tokio::time::Instant::now() >= deadline {
            let page = c.source().await.unwrap_or_default();
            panic!("{css} shows {text:?}, not {expected:?}; the page: {page}");
        }
        tokio::time::sleep(std::time::Duration::from_millis(100)).await;
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_web_client_registers_with_an_invite_link_and_shows_the_motd_live() {
    use crate::browser::{browser, chromedriver, click, displayed, wait_css, wait_online};
    use fantoccini::Locator;

    let Some(driver) = chromedriver().await else {
        return;
    };
    let app = crate::helpers::spawn_ready_app(Backend::Sqlite).await;
    let admin = app.login("admin").await;
    let (status, _) = patch(
        &app,
        &admin,
        json!({"general.registration": "invite_only", "general.server_name": "Acme Chat",
               "general.motd": "Welcome to Acme"}),
    )
    .await;
    assert_eq!(status, 200);
    let invite = create_invite(&app, &admin, json!({"max_uses": 1})).await;
    let url = invite["url"].as_str().unwrap();
    assert!(url.starts_with(&app.base), "{url}");

    let c = browser(&driver).await;
    c.goto(url).await.expect("register page");
    wait_text(&c, ".auth-titlebar .server-name", "Acme Chat").await;
    wait_text(&c, "#auth-title", "Join Acme Chat").await;
    c.find(Locator::Id("username"))
        .await
        .unwrap()
        .send_keys("newbie")
        .await
        .unwrap();
    c.find(Locator::Id("password"))
        .await
        .unwrap()
        .send_keys(PASSWORD)
        .await
        .unwrap();
    click(
        &c,
        Locator::Css("#register-form button[type=submit]"),
        "create account",
    )
    .await;
    wait_css(&c, "#room-compose", "chat screen").await;
    wait_online(&c).await;
    wait_text(&c, "#motd .motd-text", "Welcome to Acme").await;
    wait_text(&c, "#room-browser .brand-name", "Acme Chat").await;
    let invites = app.get_json("/api/v1/admin/invites", &admin.token).await;
    assert_eq!(
        invites["invites"][0]["uses"], 1,
        "the page sent the invite code"
    );

    // Live: a new MOTD replaces the line; dismissing hides it until the text changes.
    assert_eq!(
        patch(
            &app,
            &admin,
            json!({"general.motd": "Maintenance at 22:00"})
        )
        .await
        .0,
        200
    );
    wait_text(&c, "#motd .motd-text", "Maintenance at 22:00").await;
    click(&c, Locator::Css("#motd .motd-close"), "dismiss the MOTD").await;
    assert!(!displayed(&c, "#motd").await, "dismissed");
    assert_eq!(
        patch(&app, &admin, json!({"general.motd": "Back up"}))
            .await
            .0,
        200
    );
    wait_text(&c, "#motd .motd-text", "Back up").await;
    assert!(displayed(&c, "#motd").await, "a new MOTD shows again");

    // Closed: the login page offers no registration.
    assert_eq!(
        patch(&app, &admin, json!({"general.registration": "closed"}))
            .await
            .0,
        200
    );
    let other = browser(&driver).await;
    other.goto(&app.url("/login")).await.expect("login page");
    wait_text(&other, ".auth-titlebar .server-name", "Acme Chat").await;
    let deadline = tokio::time::Instant::now() + crate::browser::WAIT;
    while other.find(Locator::Id("register-switch")).await.is_ok() {
        assert!(
            tokio::time::Instant::now() < deadline,
            "the register link stays when closed"
        );
        tokio::time::sleep(std::time::Duration::from_millis(100)).await;
    }
    c.close().await.ok();
    other.close().await.ok();
}
