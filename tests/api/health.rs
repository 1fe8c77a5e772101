//! `GET /health` tells the truth: 503 `unavailable` while the database cannot be reached.

use std::time::Duration;

use sea_orm::{ConnectionTrait, Database};
use serde_json::Value;

use crate::{
    db_test,
    helpers::{call, spawn_ready_app},
};

db_test!(
    async fn health_reports_the_database(app) {
        let health = app.get_public_json("/api/v1/health").await;
        assert_eq!(health["status"], "ok");
        assert_eq!(health["database"], if app.on_postgres() { "postgres" } else { "sqlite" });
        assert_eq!(health.get("message"), None);
    }
);

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn health_is_503_while_postgres_is_unreachable() {
    let Some(backend) = crate::helpers::postgres() else {
        return;
    };
    let app = spawn_ready_app(backend).await;
    let url = app.config.database_url.clone().unwrap();
    let name = url.rsplit('/').next().unwrap().to_owned();
    let admin = Database::connect(std::env::var("TEST_DATABASE_URL").unwrap())
        .await
        .unwrap();
    // Cut the server off: no new connections to its database, existing ones terminated.
    admin
        .execute_unprepared(&format!("ALTER DATABASE {name} ALLOW_CONNECTIONS false"))
        .await
        .unwrap();
    admin
        .execute_unprepared(&format!(
            "SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE datname = '{name}'"
        ))
        .await
        .unwrap();
    let deadline = tokio::time::Instant::now() + Duration::from_secs(20);
    let down = loop {
        let resp = call(app.http.get(app.url("/api/v1/health"))).await;
        if resp.status() == 503 {
            break resp.json::<Value>().await.unwrap();
        }
        assert!(
            tokio::time::Instant::now() < deadline,
            "health never reported the outage"
        );
        tokio::time::sleep(Duration::from_millis(100)).await;
    };
    assert_eq!(down["status"], "unavailable");
    assert!(
        down["message"].as_str().is_some_and(|m| !m.is_empty()),
        "{down}"
    );
    // Back again once the database is reachable.
    admin
        .execute_unprepared(&format!("ALTER DATABASE {name} ALLOW_CONNECTIONS true"))
        .await
        .unwrap();
    let deadline = tokio::time::Instant::now() + Duration::from_secs(20);
    loop {
        let resp = call(app.http.get(app.url("/api/v1/health"))).await;
        if resp.status() == 200 {
            break;
        }
        assert!(
            tokio::time::Instant::now() < deadline,
            "health never recovered"
        );
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    admin.close().await.ok();
}
