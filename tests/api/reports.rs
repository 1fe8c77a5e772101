//! Reports: reporting a message (who may, what is refused), the moderation queue by role and
//! status, resolving and dismissing, and the audit entries.

use reqwest::Method;
use serde_json::{Value, json};

use crate::{
    db_test,
    helpers::{TestApp, TestUser, call as raw_call},
};

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

async fn report(
    app: &TestApp,
    who: &TestUser,
    room: &str,
    seq: &Value,
    reason: &str,
) -> (u16, Value) {
    call(
        app,
        who,
        Method::POST,
        &format!("/conversations/{room}/messages/{seq}/report"),
        json!({"reason": reason}),
    )
    .await
}

db_test!(
    async fn reports_reach_the_queue_and_are_resolved(app) {
        let admin = app.login("admin").await;
        let moderator = app.user("mod").await;
        assert_eq!(app.set_role(&moderator.id, "moderator").await.status(), 200);
        let moderator = app.login("mod").await;
        let owner = app.user("owner").await;
        let bob = app.user("bob").await;
        let carol = app.user("carol").await;
        let outsider = app.user("outsider").await;
        let room = app.room(&owner, "Forum", "public").await;
        let secret = app.room(&owner, "Secret", "private").await;
        app.join(&bob, &room).await;
        app.join(&carol, &room).await;
        let rude = app.send(&carol, &room, "rude words").await;
        let hidden = app.send(&owner, &secret, "private words").await;

        // Who may report what.
        let (status, body) = report(&app, &bob, &room, &rude["seq"], "insulting").await;
        assert_eq!(status, 201, "{body}");
        let id = body["id"].as_str().unwrap().to_owned();
        let (status, again) = report(&app, &bob, &room, &rude["seq"], "still insulting").await;
        assert_eq!((status, again["id"].as_str()), (201, Some(id.as_str())), "my open report again");
        let (status, body) = report(&app, &carol, &room, &rude["seq"], "mine").await;
        assert_eq!((status, body["code"].as_str()), (422, Some("cannot_target_self")));
        let (status, body) = report(&app, &outsider, &room, &rude["seq"], "seen it").await;
        assert_eq!((status, body["code"].as_str()), (403, Some("not_a_member")));
        let (status, _) = report(&app, &outsider, &secret, &hidden["seq"], "guess").await;
        assert_eq!(status, 404);
        let (status, _) = report(&app, &bob, &room, &json!(99), "nothing").await;
        assert_eq!(status, 404);
        let (status, body) = report(&app, &bob, &room, &rude["seq"], &"x".repeat(501)).await;
        assert_eq!((status, body["code"].as_str()), (422, Some("invalid_reason")));
        let (status, body) = report(&app, &bob, &room, &rude["seq"], "   ").await;
        assert_eq!((status, body["code"].as_str()), (422, Some("invalid_reason")));
        let anonymous = raw_call(
            app.http
                .post(app.url(&format!("/api/v1/conversations/{room}/messages/1/report")))
                .json(&json!({"reason": "x"})),
        )
        .await;
        assert_eq!(anonymous.status(), 401);

        // The queue: moderators and admins, not members or anonymous callers.
        assert_eq!(call(&app, &bob, Method::GET, "/admin/reports", json!(null)).await.0, 403);
        assert_eq!(raw_call(app.http.get(app.url("/api/v1/admin/reports"))).await.status(), 401);
        let (status, page) = call(&app, &moderator, Method::GET, "/admin/reports?status=open", json!(null)).await;
        assert_eq!(status, 200, "{page}");
        let reports = page["reports"].as_array().unwrap();
        assert_eq!(reports.len(), 1, "{page}");
        let r = &reports[0];
        assert_eq!(r["id"], id.as_str());
        assert_eq!(r["status"], "open");
        assert_eq!(r["reason"], "insulting");
        assert_eq!(r["reporter"], json!({"id": bob.id, "username": "bob"}));
        assert_eq!(r["conversation"], json!({"id": room, "name": "Forum", "kind": "room"}));
        assert_eq!(r["message"]["seq"], rude["seq"]);
        assert_eq!(r["message"]["body"], "rude words");
        assert_eq!(r["message"]["sender"]["username"], "carol");
        assert!(r.get("resolved_by").is_none());

        // Resolving: members cannot; moderators can; `open` is not a resolution.
        let resolve = format!("/admin/reports/{id}/resolve");
        assert_eq!(call(&app, &bob, Method::POST, &resolve, json!({"status": "resolved"})).await.0, 403);
        let (status, body) = call(&app, &moderator, Method::POST, &resolve, json!({"status": "open"})).await;
        assert_eq!((status, body["code"].as_str()), (422, Some("unprocessable_entity")));
        let (status, body) = call(&app, &moderator, Method::POST, &resolve, json!({"status": "closed"})).await;
        assert_eq!(status, 400, "{body}");
        let (status, body) = call(&app, &moderator, Method::POST, &resolve, json!({"status": "resolved", "note": "x".repeat(501)})).await;
        assert_eq!((status, body["code"].as_str()), (422, Some("invalid_reason")));
        let unknown = uuid::Uuid::now_v7();
        assert_eq!(call(&app, &moderator, Method::POST, &format!("/admin/reports/{unknown}/resolve"), json!({"status": "resolved"})).await.0, 404);
        // The moderator deletes the message, then resolves the report.
        let path = format!("/conversations/{room}/messages/{}?reason=report", rude["seq"]);
        assert_eq!(call(&app, &moderator, Method::DELETE, &path, json!(null)).await.0, 204);
        let (status, body) = call(&app, &moderator, Method::POST, &resolve, json!({"status": "resolved", "note": "deleted"})).await;
        assert_eq!(status, 200, "{body}");
        assert_eq!(body["status"], "resolved");
        assert_eq!(body["resolution"], "deleted");
        assert_eq!(body["resolved_by"]["username"], "mod");
        assert!(body["resolved_at"].is_string());
        assert_eq!((body["message"]["deleted"].as_bool(), body["message"]["body"].as_str()), (Some(true), Some("")));
        // A deleted message cannot be reported any more.
        let (status, _) = report(&app, &owner, &room, &rude["seq"], "late").await;
        assert_eq!(status, 404);

        // Filters by status, and paging.
        let second = app.send(&owner, &room, "borderline").await;
        let (status, body) = report(&app, &bob, &room, &second["seq"], "hmm").await;
        assert_eq!(status, 201, "{body}");
        let second_id = body["id"].as_str().unwrap().to_owned();
        let (status, _) = call(&app, &admin, Method::POST, &format!("/admin/reports/{second_id}/resolve"), json!({"status": "dismissed"})).await;
        assert_eq!(status, 200);
        let open = app.all_pages("/api/v1/admin/reports?status=open", "reports", &admin.token).await;
        assert!(open.is_empty(), "{open:?}");
        let resolved = app.all_pages("/api/v1/admin/reports?status=resolved", "reports", &admin.token).await;
        assert_eq!(resolved.len(), 1);
        let dismissed = app.all_pages("/api/v1/admin/reports?status=dismissed", "reports", &admin.token).await;
        assert_eq!(dismissed.len(), 1);
        assert_eq!(dismissed[0]["id"], second_id.as_str());
        let all = app.all_pages("/api/v1/admin/reports?limit=1", "reports", &admin.token).await;
        let ids: Vec<&str> = all.iter().map(|r| r["id"].as_str().unwrap()).collect();
        assert_eq!(ids, [id.as_str(), second_id.as_str()], "oldest first");
        assert_eq!(call(&app, &admin, Method::GET, "/admin/reports?status=weird", json!(null)).await.0, 400);
        assert_eq!(call(&app, &admin, Method::GET, "/admin/reports?cursor=zzz", json!(null)).await.0, 422);

        // Audited: each report and each resolution.
        let reported = app.get_json(&format!("/api/v1/admin/audit?action=message.reported&target={room}"), &admin.token).await;
        let reported = reported["entries"].as_array().unwrap();
        assert_eq!(reported.len(), 2, "{reported:?}");
        assert_eq!(reported[1]["actor_id"], bob.id.as_str());
        assert_eq!(reported[1]["details"]["report_id"], id.as_str());
        let resolved = app.get_json(&format!("/api/v1/admin/audit?action=report.resolved&target={room}"), &admin.token).await;
        let resolved = resolved["entries"].as_array().unwrap();
        assert_eq!(resolved.len(), 2);
        assert_eq!(resolved[1]["details"]["status"], "resolved");
        assert_eq!(resolved[1]["details"]["note"], "deleted");
        assert_eq!(resolved[0]["details"]["status"], "dismissed");
    }
);
