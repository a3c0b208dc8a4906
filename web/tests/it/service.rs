//! Media URLs (signature, expiry, content type, Range), health and readiness, rate limiting and metrics.

use crate::common;

use axum::body::Body;
use axum::http::Request;
use common::*;
use tochen_domain::media_url::sign_media_url;
use tochen_domain::MediaKind;
use tochen_store::NewMedia;
use tochen_web::{app, AppState, RateLimit};
use tower::ServiceExt;

tochen_testkit::store_test!(media_urls_are_signed_expiring_and_support_ranges, |store, db| {
    let w = web(&db).await;
    let (tenant, _) = workspace(&store).await;
    std::fs::create_dir_all(w.dir.path().join("media")).unwrap();
    let bytes: Vec<u8> = (0..=255u8).cycle().take(10_000).collect();
    std::fs::write(w.dir.path().join("media/a.jpg"), &bytes).unwrap();
    let m = store
        .insert_media(
            tenant,
            &NewMedia {
                kind: MediaKind::Image,
                content_type: "image/jpeg".into(),
                size_bytes: bytes.len() as i64,
                sha256: "x".into(),
                storage_path: "media/a.jpg".into(),
                source: "upload".into(),
                width: None,
                height: None,
                duration_ms: None,
            },
        )
        .await
        .unwrap();
    let exp = chrono::Utc::now().timestamp() + 3600;
    let url = sign_media_url(&w.state.config.web.public_url, &w.state.media_key, tenant, m.id, exp);
    let path = url.strip_prefix("https://tochen.example").unwrap();

    let (s, h, body) = w.get(path).await;
    assert_eq!((s, h["content-type"].as_str(), h["accept-ranges"].as_str()), (200, "image/jpeg", "bytes"));
    assert_eq!(body.len(), String::from_utf8_lossy(&bytes).len());

    let ranged = Request::get(path).header("range", "bytes=100-199").body(Body::empty()).unwrap();
    let (s, h, _) = w.send(ranged).await;
    assert_eq!((s, h["content-range"].as_str(), h["content-length"].as_str()), (206, "bytes 100-199/10000", "100"));
    let (s, _, _) = w.send(Request::get(path).header("range", "bytes=20000-").body(Body::empty()).unwrap()).await;
    assert_eq!(s, 416);

    let tampered = path.replace("sig=", "sig=00");
    assert_eq!(w.get(&tampered).await.0, 403);
    assert_eq!(w.get(path.split('?').next().unwrap()).await.0, 403, "unsigned");
    let old = sign_media_url(&w.state.config.web.public_url, &w.state.media_key, tenant, m.id, exp - 7200);
    assert_eq!(w.get(old.strip_prefix("https://tochen.example").unwrap()).await.0, 410, "expired");
    let other = tochen_domain::TenantId::new();
    let foreign = sign_media_url(&w.state.config.web.public_url, &w.state.media_key, other, m.id, exp);
    assert_eq!(w.get(foreign.strip_prefix("https://tochen.example").unwrap()).await.0, 404, "another tenant's id");
    db.store.close().await;
});

tochen_testkit::store_test!(health_reports_database_and_scheduler_heartbeat, |store, db| {
    let w = web(&db).await;
    let (s, _, body) = w.get("/health").await;
    assert_eq!(s, 503);
    assert!(body.contains("\"scheduler\":\"missing\""), "{body}");
    let now = tochen_domain::clock::now_ms();
    sqlx::query(
        "INSERT INTO scheduler_heartbeats (instance_id, started_at, beat_at, version) VALUES ('a', $1, $1, 'test')",
    )
    .bind(now)
    .execute(store.sql_for_tests())
    .await
    .unwrap();
    let (s, h, body) = w.get("/health").await;
    assert_eq!(s, 200, "{body}");
    assert!(!h["x-request-id"].is_empty(), "every answer carries a request id");
    assert_eq!(w.get("/ready").await.0, 200);
    db.store.close().await;
});

#[tokio::test]
async fn public_routes_are_rate_limited_per_ip_and_metrics_render() {
    let db = tochen_testkit::TestDb::sqlite().await;
    let base = web(&db).await;
    let state = AppState::new(
        (*base.state.config).clone(),
        db.store.clone(),
        &tochen_domain::SecretString::new(db.key.clone()),
        RateLimit { per_second: 1, burst: 2 },
    );
    let router = app(state);
    let mut codes = Vec::new();
    for _ in 0..4 {
        let r = router
            .clone()
            .oneshot(Request::get("/oauth/facebook/callback?state=x").body(Body::empty()).unwrap())
            .await
            .unwrap();
        codes.push(r.status().as_u16());
    }
    assert_eq!(codes[3], 429, "{codes:?}");
    assert_ne!(codes[0], 429);
    let r = router.clone().oneshot(Request::get("/health").body(Body::empty()).unwrap()).await.unwrap();
    assert_ne!(r.status().as_u16(), 429, "health is not rate limited");
    tochen_web::install_recorder();
    let m = tochen_web::metrics_app().oneshot(Request::get("/metrics").body(Body::empty()).unwrap()).await.unwrap();
    assert_eq!(m.status().as_u16(), 200);
    db.cleanup().await;
}
