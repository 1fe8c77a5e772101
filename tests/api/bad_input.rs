//! Hostile and malformed requests get clear 4xx JSON errors, never a 5xx.

use serde_json::{Value, json};

use crate::db_test;

async fn assert_json_error(resp: reqwest::Response, status: u16) -> Value {
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
        let resp = app.http.post(&path).bearer_auth(&a.token).header("content-type", "application/json").body(huge.clone()).send().await.unwrap();
        assert_eq!(assert_json_error(resp, 413).await["code"], "payload_too_large");
        // Chunked (no Content-Length) is limited too.
        let stream = futures_util::stream::iter(vec![Ok::<_, std::io::Error>(huge.into_bytes())]);
        let resp = app
            .http
            .post(&path)
            .bearer_auth(&a.token)
            .header("content-type", "application/json")
            .body(reqwest::Body::wrap_stream(stream))
            .send()
            .await
            .unwrap();
        assert_eq!(assert_json_error(resp, 413).await["code"], "payload_too_large");

        // HTTP/2 (cleartext, prior knowledge) bodies have no Content-Length: limited all the same.
        let h2 = reqwest::Client::builder().http2_prior_knowledge().build().unwrap();
        let stream = futures_util::stream::iter(vec![Ok::<_, std::io::Error>(json!({"body": "y".repeat(200 * 1024)}).to_string().into_bytes())]);
        let resp = h2.post(&path).bearer_auth(&a.token).header("content-type", "application/json").body(reqwest::Body::wrap_stream(stream)).send().await.unwrap();
        assert_eq!(resp.version(), reqwest::Version::HTTP_2);
        assert_eq!(assert_json_error(resp, 413).await["code"], "payload_too_large");

        let resp = app.http.post(&path).bearer_auth(&a.token).header("content-type", "application/json").body("{\"body\": ").send().await.unwrap();
        assert_json_error(resp, 400).await;
        let resp = app.post_auth(&format!("/api/v1/conversations/{lobby}/messages"), &a.token, &json!({"body": 42})).await;
        let status = resp.status().as_u16();
        assert!(status == 400 || status == 422, "{status}");
        assert_json_error(resp, status).await;
        let resp = app.post_auth("/api/v1/rooms", &a.token, &json!({"name": "r", "visibility": "secret"})).await;
        assert_json_error(resp, 400).await;
        let resp = app.get("/api/v1/conversations/not-a-uuid/messages", &a.token).await;
        assert_json_error(resp, 400).await;
        let resp = app.get("/api/v1/conversations/00000000-0000-0000-0000-000000000000/messages", &a.token).await;
        assert_json_error(resp, 404).await;
        let resp = app.http.post(app.url("/api/v1/auth/login")).body("username=a&password=b").send().await.unwrap();
        let status = resp.status().as_u16();
        assert!((400..500).contains(&status), "{status}");
        assert_json_error(resp, status).await;
        let resp = app.get("/api/v1/no-such-route", &a.token).await;
        assert_json_error(resp, 404).await;
        let resp = app.http.delete(app.url("/api/v1/health")).send().await.unwrap();
        assert_json_error(resp, 405).await;
        // Still serving.
        assert_eq!(app.send(&a, &lobby, "still alive").await["seq"], 1);
    }
);

db_test!(
    async fn pages_are_served_with_a_strict_csp(app) {
        for page in ["/", "/login", "/register", "/setup"] {
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
        let docs = app.http.get(app.url("/api/docs")).send().await.unwrap();
        assert_eq!(docs.status(), 200);
        assert!(docs.text().await.unwrap().to_lowercase().contains("swagger"), "docs page served");
        let js = app.http.get(app.url("/static/js/api.js")).send().await.unwrap();
        assert_eq!(js.status(), 200);
        assert!(js.headers()["content-type"].to_str().unwrap().contains("javascript"));
    }
);
