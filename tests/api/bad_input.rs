//! Hostile and malformed requests get clear 4xx JSON errors, never a 5xx.

use serde_json::{Value, json};

use crate::{
    db_test,
    helpers::{TestResponse, call},
};

async fn assert_json_error(resp: TestResponse, status: u16) -> Value {
    assert_eq!(resp.status().as_u16(), status);
    let ctype = resp
        .headers()
        .get("content-type")
        .and_then(|v| v.to_str().ok())
        .unwrap_or_default()
        .to_owned();
    assert!(
        ctype.starts_with("application/json"),
        "content-type {ctype}"
    );
    let body: Value = resp.json().await.expect("JSON error body");
    assert!(
        body["code"].is_string() && body["message"].is_string(),
        "{body}"
    );
    body
}

db_test!(
    async fn oversized_malformed_and_mistyped_bodies_are_4xx(app) {
        let a = app.user("norm").await;
        let lobby = app.lobby(&a).await;
        let path = app.url(&format!("/api/v1/conversations/{lobby}/messages"));

        let huge = json!({"body": "x".repeat(70 * 1024)}).to_string();
        let resp = call(app.http.post(&path).bearer_auth(&a.token).header("content-type", "application/json").body(huge.clone())).await;
        assert_eq!(assert_json_error(resp, 413).await["code"], "payload_too_large");
        // Chunked (no Content-Length) is limited too.
        let stream = futures_util::stream::iter(vec![Ok::<_, std::io::Error>(huge.into_bytes())]);
        let resp = call(
            app.http
                .post(&path)
                .bearer_auth(&a.token)
                .header("content-type", "application/json")
                .body(reqwest::Body::wrap_stream(stream)),
        )
        .await;
        assert_eq!(assert_json_error(resp, 413).await["code"], "payload_too_large");

        // HTTP/2 (cleartext, prior knowledge) bodies have no Content-Length: limited all the same.
        let h2 = reqwest::Client::builder().http2_prior_knowledge().build().unwrap();
        let stream = futures_util::stream::iter(vec![Ok::<_, std::io::Error>(json!({"body": "y".repeat(200 * 1024)}).to_string().into_bytes())]);
        let resp = h2.post(&path).bearer_auth(&a.token).header("content-type", "application/json").body(reqwest::Body::wrap_stream(stream)).send().await.unwrap();
        assert_eq!(resp.version(), reqwest::Version::HTTP_2);
        assert_eq!(resp.status(), 413);
        assert_eq!(resp.json::<Value>().await.unwrap()["code"], "payload_too_large");

        let resp = call(app.http.post(&path).bearer_auth(&a.token).header("content-type", "application/json").body("{\"body\": ")).await;
        assert_json_error(resp, 400).await;
        let resp = app.post_auth(&format!("/api/v1/conversations/{lobby}/messages"), &a.token, &json!({"body": 42})).await;
        assert_json_error(resp, 400).await;
        // An optional string is a string or absent: null is refused, like any other wrong type.
        let resp = app.post_auth(&format!("/api/v1/conversations/{lobby}/messages"), &a.token, &json!({"body": "x", "client_id": null})).await;
        assert_json_error(resp, 400).await;
        // Unknown fields are refused (a misspelled optional field is not silently ignored).
        let resp = app.post_auth(&format!("/api/v1/conversations/{lobby}/messages"), &a.token, &json!({"body": "x", "clientId": "c"})).await;
        assert_json_error(resp, 400).await;
        // A body without Content-Type is 415, as documented.
        let resp = call(app.http.post(&path).bearer_auth(&a.token).body("{\"body\": \"x\"}")).await;
        assert_eq!(assert_json_error(resp, 415).await["code"], "unsupported_media_type");
        let resp = app.post_auth("/api/v1/rooms", &a.token, &json!({"name": "r", "visibility": "secret"})).await;
        assert_json_error(resp, 400).await;
        let resp = app.get("/api/v1/conversations/not-a-uuid/messages", &a.token).await;
        assert_json_error(resp, 400).await;
        let resp = app.get("/api/v1/conversations/00000000-0000-0000-0000-000000000000/messages", &a.token).await;
        assert_json_error(resp, 404).await;
        let resp = call(app.http.post(app.url("/api/v1/auth/login")).header("content-type", "application/x-www-form-urlencoded").body("username=a&password=b")).await;
        assert_json_error(resp, 415).await;
        let resp = app.get("/api/v1/no-such-route", &a.token).await;
        assert_json_error(resp, 404).await;
        let resp = call(app.http.delete(app.url("/api/v1/health"))).await;
        let allow = resp.headers().get("allow").and_then(|v| v.to_str().ok()).unwrap_or_default().to_owned();
        assert_eq!(assert_json_error(resp, 405).await["code"], "method_not_allowed");
        assert_eq!(allow, "GET, HEAD", "405 says what is allowed (RFC 9110 §15.5.6)");
        let resp = call(app.http.put(app.url(&format!("/api/v1/conversations/{lobby}/messages"))).bearer_auth(&a.token)).await;
        let allow = resp.headers().get("allow").and_then(|v| v.to_str().ok()).unwrap_or_default().to_owned();
        assert_json_error(resp, 405).await;
        assert!(allow.contains("GET") && allow.contains("POST"), "{allow}");
        // Still serving.
        assert_eq!(app.send(&a, &lobby, "still alive").await["seq"], 1);
    }
);

db_test!(
    async fn pages_are_served_with_a_strict_csp(app) {
        for page in ["/", "/login", "/register", "/setup", "/forgot-password", "/reset-password", "/verify-email"] {
            let resp = app.http.get(app.url(page)).send().await.unwrap();
            assert_eq!(resp.status(), 200, "{page}");
            let csp = resp.headers().get("content-security-policy").and_then(|v| v.to_str().ok()).unwrap_or_default().to_owned();
            assert!(csp.contains("script-src 'self'") && !csp.contains("unsafe-inline"), "{csp}");
            let html = resp.text().await.unwrap();
            assert!(html.contains("<script type=\"module\" src=\"/static/"), "{page} loads its module");
            assert!(!html.contains("http://") && !html.contains("https://"), "{page} loads nothing from the internet");
        }
        let spec: Value = app.get_public_json("/api/openapi.json").await;
        assert!(spec["paths"]["/conversations/{id}/messages"]["post"].is_object(), "spec served");
        assert_eq!(spec.to_string(), echochat::http::openapi_json().parse::<Value>().unwrap().to_string(), "the served spec is the published one");
        let realtime: Value = app.get_public_json("/api/realtime.json").await;
        assert_eq!(realtime["asyncapi"], "3.0.0");
        let docs = app.http.get(app.url("/api/docs")).send().await.unwrap();
        assert_eq!(docs.status(), 200);
        assert!(docs.text().await.unwrap().to_lowercase().contains("swagger"), "docs page served");
        let js = app.http.get(app.url("/static/js/api.js")).send().await.unwrap();
        assert_eq!(js.status(), 200);
        assert!(js.headers()["content-type"].to_str().unwrap().contains("javascript"));
    }
);
