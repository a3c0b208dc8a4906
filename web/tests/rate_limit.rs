//! The per-IP rate limit behind a reverse proxy: clients behind a trusted proxy get one bucket each (from
//! `X-Forwarded-For`), while a client talking to tochen directly cannot escape its bucket by writing the header.
//!
//! Each client's first `BURST` requests are always allowed (a fresh bucket); an exhausted bucket is found by
//! sending until a 429, which comes long before the quota's one request per second could refill it.

use axum::body::Body;
use axum::extract::ConnectInfo;
use axum::http::Request;
use axum::Router;
use std::collections::HashMap;
use std::net::SocketAddr;
use tochen_core::{Config, SecretString};
use tochen_web::{app, AppState, RateLimit};
use tower::ServiceExt;

const BURST: u32 = 3;
const PROXY: &str = "10.0.0.2:41000";

fn router(db: &tochen_testkit::TestDb, dir: &tempfile::TempDir) -> Router {
    let env: HashMap<String, String> =
        [("TOCHEN_DATA_DIR", dir.path().to_str().unwrap()), ("TOCHEN_TRUSTED_PROXIES", "127.0.0.1, 10.0.0.0/8")]
            .into_iter()
            .map(|(k, v)| (k.to_string(), v.to_string()))
            .collect();
    let config = Config::from_source(&env).unwrap();
    let rate = RateLimit { per_second: 1, burst: BURST };
    app(AppState::new(config, db.store.clone(), &SecretString::new(db.key.clone()), rate))
}

/// One public request from TCP peer `peer`, optionally with an `X-Forwarded-For` header; the status.
async fn hit(router: &Router, peer: &str, forwarded_for: Option<&str>) -> u16 {
    let mut req = Request::get("/webhooks/meta?hub.mode=subscribe&hub.verify_token=x&hub.challenge=1");
    if let Some(v) = forwarded_for {
        req = req.header("x-forwarded-for", v);
    }
    let mut req = req.body(Body::empty()).unwrap();
    req.extensions_mut().insert(ConnectInfo(peer.parse::<SocketAddr>().unwrap()));
    router.clone().oneshot(req).await.unwrap().status().as_u16()
}

/// Sends until refused; panics if 50 requests all pass.
async fn exhaust(router: &Router, peer: &str, forwarded_for: impl Fn(usize) -> Option<String>) {
    for i in 0..50 {
        if hit(router, peer, forwarded_for(i).as_deref()).await == 429 {
            return;
        }
    }
    panic!("{peer} was never rate limited");
}

#[tokio::test]
async fn clients_behind_a_trusted_proxy_have_their_own_limits() {
    let db = tochen_testkit::TestDb::sqlite().await;
    let dir = tempfile::tempdir().unwrap();
    let router = router(&db, &dir);

    exhaust(&router, PROXY, |_| Some("203.0.113.1".into())).await;
    assert_eq!(hit(&router, PROXY, Some("203.0.113.1")).await, 429, "the first client stays limited");
    for _ in 0..BURST {
        assert_ne!(hit(&router, PROXY, Some("203.0.113.2")).await, 429, "the second client has its own bucket");
    }
    // What a client writes before the proxy's entry does not choose the bucket.
    assert_eq!(hit(&router, PROXY, Some("198.51.100.99, 203.0.113.1")).await, 429);
    // The proxy's own requests (health checks without the header) are a third bucket.
    assert_ne!(hit(&router, PROXY, None).await, 429);
    db.cleanup().await;
}

#[tokio::test]
async fn a_direct_client_cannot_escape_its_limit_with_a_forged_header() {
    let db = tochen_testkit::TestDb::sqlite().await;
    let dir = tempfile::tempdir().unwrap();
    let router = router(&db, &dir);
    let spoofer = "198.51.100.7:5000";

    // A new made-up address on every request: all of them count against the spoofer's own address.
    exhaust(&router, spoofer, |i| Some(format!("203.0.113.{}", 100 + i))).await;
    assert_eq!(hit(&router, spoofer, Some("203.0.113.250")).await, 429);
    assert_eq!(hit(&router, spoofer, Some("10.0.0.9")).await, 429, "claiming a proxy address changes nothing");
    assert_eq!(hit(&router, spoofer, None).await, 429);
    // A client behind the proxy whose address the spoofer wrote is not affected.
    assert_ne!(hit(&router, PROXY, Some("203.0.113.250")).await, 429);
    db.cleanup().await;
}
