//! Account settings (`GET`/`PUT /users/me/settings`): defaults, partial changes, strict input,
//! the `ready` frame's copy, and `settings_updated` to every connection of the same user and to
//! nobody else.
//!
//! "Nobody else" is checked with a marker: after the change, the changer posts in the Lobby;
//! the dispatcher handles events in bus order, so a `settings_updated` for the other user would
//! arrive before that message.

use reqwest::Method;
use serde_json::{Value, json};

use crate::{
    db_test,
    helpers::{TestApp, TestUser, call},
    presence::frames_until,
};

const PATH: &str = "/api/v1/users/me/settings";

fn defaults() -> Value {
    json!({
        "theme": "system",
        "accent": "#5b2a9e",
        "text_size": "medium",
        "status_display": "inline",
        "missed_toast": true,
        "popup_notifications": false,
        "sounds": true,
        "send_read_receipts": true,
    })
}

async fn put(app: &TestApp, user: &TestUser, body: &Value) -> (u16, Value) {
    let resp = app.send_auth(Method::PUT, PATH, &user.token, body).await;
    let status = resp.status().as_u16();
    (status, resp.json().await.unwrap_or(Value::Null))
}

db_test!(
    async fn defaults_then_partial_changes_keep_the_other_keys(app) {
        let ada = app.user("ada").await;
        assert_eq!(app.get_json(PATH, &ada.token).await, defaults());

        let (status, body) = put(&app, &ada, &json!({"theme": "dark", "accent": "#12AB9f"})).await;
        assert_eq!(status, 200, "{body}");
        let mut expected = defaults();
        expected["theme"] = json!("dark");
        expected["accent"] = json!("#12ab9f");
        assert_eq!(body, expected);

        let (status, body) = put(&app, &ada, &json!({"sounds": false, "text_size": "large"})).await;
        assert_eq!(status, 200, "{body}");
        expected["sounds"] = json!(false);
        expected["text_size"] = json!("large");
        assert_eq!(body, expected);

        // An empty change changes nothing; the stored copy is what GET answers, also for a new
        // session (another device).
        assert_eq!(put(&app, &ada, &json!({})).await, (200, expected.clone()));
        let again = app.login("ada").await;
        assert_eq!(app.get_json(PATH, &again.token).await, expected);

        // Others are untouched.
        let bob = app.user("bob").await;
        assert_eq!(app.get_json(PATH, &bob.token).await, defaults());
    }
);

db_test!(
    async fn invalid_values_and_unknown_keys_are_422_and_change_nothing(app) {
        let ada = app.user("ada").await;
        assert_eq!(put(&app, &ada, &json!({"status_display": "hover"})).await.0, 200);
        for bad in [
            json!({"theme": "blue"}),
            json!({"theme": null}),
            json!({"theme": 1}),
            json!({"accent": "purple"}),
            json!({"accent": "#12345"}),
            json!({"accent": "#1234567"}),
            json!({"accent": "#12345z"}),
            json!({"text_size": "huge"}),
            json!({"status_display": "Inline"}),
            json!({"sounds": "false"}),
            json!({"missed_toast": 0}),
            json!({"volume": 3}),
            json!({"sounds": false, "volume": 3}),
            json!([{"sounds": false}]),
            json!("dark"),
        ] {
            let (status, body) = put(&app, &ada, &bad).await;
            assert_eq!(status, 422, "{bad}: {body}");
            assert_eq!(body["code"], "invalid_settings", "{bad}: {body}");
        }
        let mut expected = defaults();
        expected["status_display"] = json!("hover");
        assert_eq!(app.get_json(PATH, &ada.token).await, expected);

        // A body that is not JSON at all is a 400 like everywhere else.
        let resp = call(
            app.http
                .put(app.url(PATH))
                .bearer_auth(&ada.token)
                .header("content-type", "application/json")
                .body("{not json"),
        )
        .await;
        assert_eq!(resp.status(), 400);
    }
);

db_test!(
    async fn settings_need_a_session(app) {
        let resp = call(app.http.get(app.url(PATH))).await;
        assert_eq!(resp.status(), 401);
        let resp = call(app.http.put(app.url(PATH)).json(&json!({"theme": "dark"}))).await;
        assert_eq!(resp.status(), 401);
    }
);

db_test!(
    async fn a_change_reaches_every_connection_of_mine_and_nobody_else(app) {
        let ada = app.user("ada").await;
        let bob = app.user("bob").await;
        let lobby = app.lobby(&ada).await;
        let (mut tab1, ready) = app.ws(&ada).await;
        assert_eq!(ready["settings"], defaults(), "ready carries the settings");
        let (mut tab2, _) = app.ws(&ada).await;
        let (mut bobs, bob_ready) = app.ws(&bob).await;
        assert_eq!(bob_ready["settings"], defaults());

        let (status, saved) =
            put(&app, &ada, &json!({"popup_notifications": true, "theme": "light"})).await;
        assert_eq!(status, 200);
        for tab in [&mut tab1, &mut tab2] {
            let frame = tab.expect("settings_updated").await;
            assert_eq!(frame["settings"], saved);
        }

        // The marker: a message after the change, through the same bus.
        app.send(&ada, &lobby, "marker").await;
        let before = frames_until(&mut bobs, "message").await;
        assert!(
            before.iter().all(|f| f["type"] != "settings_updated"),
            "bob got ada's settings: {before:?}"
        );

        // A change that changes nothing sends nothing: the next frame ada's tab sees after
        // another marker is the message.
        assert_eq!(put(&app, &ada, &json!({"theme": "light"})).await.0, 200);
        app.send(&ada, &lobby, "marker 2").await;
        let before = frames_until(&mut tab1, "message").await;
        assert!(
            before.iter().all(|f| f["type"] != "settings_updated"),
            "{before:?}"
        );

        // A new connection starts with the stored settings.
        let (_tab3, ready) = app.ws(&ada).await;
        assert_eq!(ready["settings"], saved);
    }
);

db_test!(
    async fn unknown_keys_in_the_stored_json_are_ignored_and_missing_ones_defaulted(app) {
        let ada = app.user("ada").await;
        assert_eq!(put(&app, &ada, &json!({"theme": "dark"})).await.0, 200);
        // As an older or newer server might have left it.
        let db = app.database().await;
        // Ada's is the only row (ids are stored differently on the two databases).
        let sql = r#"UPDATE user_settings SET settings = '{"theme":"light","volume":7,"accent":"nope"}'"#;
        sea_orm::ConnectionTrait::execute_unprepared(&db, sql)
            .await
            .unwrap();
        let mut expected = defaults();
        expected["theme"] = json!("light");
        assert_eq!(app.get_json(PATH, &ada.token).await, expected);
        // A change writes a clean object again.
        let (status, body) = put(&app, &ada, &json!({"sounds": false})).await;
        assert_eq!(status, 200);
        expected["sounds"] = json!(false);
        assert_eq!(body, expected);
    }
);

db_test!(
    async fn changes_are_rate_limited(app) {
        let ada = app.user("ada").await;
        let mut limited = None;
        for i in 0..100 {
            let theme = if i % 2 == 0 { "dark" } else { "light" };
            let resp = app
                .send_auth(Method::PUT, PATH, &ada.token, &json!({"theme": theme}))
                .await;
            if resp.status() == 429 {
                limited = Some(i);
                assert!(resp.headers().contains_key("retry-after"));
                break;
            }
            assert_eq!(resp.status(), 200);
        }
        let at = limited.expect("100 changes at once meet the limit");
        assert!(at >= 30, "the burst is 30: limited after {at}");
    }
);

db_test!(
    async fn receipts_are_not_sent_with_send_read_receipts_off(app) {
        let ann = app.user("ann").await;
        let bob = app.user("bob").await;
        let dm: Value = app
            .post_auth("/api/v1/dms", &ann.token, &json!({"username": "bob"}))
            .await
            .json()
            .await
            .unwrap();
        let dm = dm["id"].as_str().unwrap().to_owned();
        let first = app.send(&ann, &dm, "one").await;
        let second = app.send(&ann, &dm, "two").await;
        let (mut wa, _) = app.ws(&ann).await;
        let (mut wb, _) = app.ws(&bob).await;
        // Receipts on (the default): ann learns bob's position.
        wb.send_json(json!({"type": "read", "conversation_id": dm, "seq": first["seq"]}))
            .await;
        assert_eq!(wa.expect("read_receipt").await["seq"], first["seq"]);

        // Off: bob's own tabs still learn his position, ann is told nothing.
        assert_eq!(put(&app, &bob, &json!({"send_read_receipts": false})).await.0, 200);
        wb.expect("settings_updated").await;
        wb.send_json(json!({"type": "read", "conversation_id": dm, "seq": second["seq"]}))
            .await;
        assert_eq!(wb.expect("read_position").await["seq"], second["seq"]);
        // The marker: ann's own message after it.
        wa.send_json(json!({"type": "send", "conversation_id": dm, "client_id": "marker", "body": "marker"}))
            .await;
        loop {
            let frame = wa.next_json().await;
            assert_ne!(frame["type"], "read_receipt", "a receipt with receipts off: {frame}");
            if frame["type"] == "ack" {
                break;
            }
        }
        let list = app
            .get_json(&format!("/api/v1/conversations/{dm}/receipts"), &ann.token)
            .await;
        assert_eq!(list["receipts"][0]["seq"], first["seq"], "{list}");
    }
);
