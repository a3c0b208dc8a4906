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
use tochen_config::Config;
use tochen_domain::SecretString;
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

// Signed routes: the signature (or the Telegram secret) is checked first. A valid one skips the per-address
// limit (Meta and TikTok deliver from a few shared addresses) and draws on the route's shared allowance; a
// missing or wrong one counts against the sender's address.

const META_SECRET: &str = "meta-app-secret";
const TIKTOK_SECRET: &str = "tiktok-client-secret";
const TELEGRAM_SECRET: &str = "tg_webhook-secret";
/// Where Meta delivers from, as far as these tests are concerned.
const META_PEER: &str = "173.252.64.1:443";

fn signed_router(db: &tochen_testkit::TestDb, dir: &tempfile::TempDir, webhook_rate: &str) -> Router {
    let env: HashMap<String, String> = [
        ("TOCHEN_DATA_DIR", dir.path().to_str().unwrap()),
        ("META_APP_ID", "meta-app"),
        ("META_APP_SECRET", META_SECRET),
        ("TIKTOK_CLIENT_KEY", "tt-key"),
        ("TIKTOK_CLIENT_SECRET", TIKTOK_SECRET),
        ("TELEGRAM_MODE", "webhook"),
        ("TELEGRAM_WEBHOOK_SECRET", TELEGRAM_SECRET),
        ("TOCHEN_WEBHOOK_RATE_LIMIT", webhook_rate),
    ]
    .into_iter()
    .map(|(k, v)| (k.to_string(), v.to_string()))
    .collect();
    let config = Config::from_source(&env).unwrap();
    let rate = RateLimit { per_second: 1, burst: BURST };
    app(AppState::new(config, db.store.clone(), &SecretString::new(db.key.clone()), rate))
}

/// POSTs `body` to `path` from TCP peer `peer` with `headers`; the status.
async fn post(router: &Router, peer: &str, path: &str, headers: &[(&str, String)], body: &str) -> u16 {
    let mut req = Request::post(path).header("content-type", "application/json");
    for (k, v) in headers {
        req = req.header(*k, v);
    }
    let mut req = req.body(Body::from(body.to_owned())).unwrap();
    req.extensions_mut().insert(ConnectInfo(peer.parse::<SocketAddr>().unwrap()));
    router.clone().oneshot(req).await.unwrap().status().as_u16()
}

fn meta_event(n: usize) -> (String, Vec<(&'static str, String)>) {
    let body = format!(r#"{{"object":"page","entry":[{{"id":"1","time":{n},"changes":[]}}]}}"#);
    let sig = tochen_testkit::fake_graph::sign_meta_webhook(META_SECRET, body.as_bytes());
    (body, vec![("x-hub-signature-256", sig)])
}

fn tiktok_event(n: usize) -> (String, Vec<(&'static str, String)>) {
    let body =
        format!(r#"{{"client_key":"tt-key","event":"post.publish.complete","create_time":{n},"content":"{{}}"}}"#);
    let now = chrono::Utc::now().timestamp();
    let sig = tochen_testkit::fake_tiktok::sign_tiktok_webhook(TIKTOK_SECRET, now, body.as_bytes());
    (body, vec![("tiktok-signature", sig)])
}

fn telegram_update(n: usize, secret: &str) -> (String, Vec<(&'static str, String)>) {
    (format!(r#"{{"update_id":{n}}}"#), vec![("x-telegram-bot-api-secret-token", secret.to_owned())])
}

async fn stored(store: &tochen_store::Store, source: &str) -> i64 {
    let (n,): (i64,) = sqlx::query_as("SELECT COUNT(*) FROM webhook_events WHERE source = $1")
        .bind(source)
        .fetch_one(store.sql_for_tests())
        .await
        .unwrap();
    n
}

tochen_testkit::store_test!(validly_signed_webhooks_from_one_address_are_not_limited_per_address, |store, db| {
    let dir = tempfile::tempdir().unwrap();
    let router = signed_router(&db, &dir, "10000");
    let n = 10 * BURST as usize;
    for i in 0..n {
        let (body, headers) = meta_event(i);
        assert_eq!(post(&router, META_PEER, "/webhooks/meta", &headers, &body).await, 200, "meta delivery {i}");
        let (body, headers) = tiktok_event(i);
        assert_eq!(post(&router, META_PEER, "/webhooks/tiktok", &headers, &body).await, 200, "tiktok delivery {i}");
        let (body, headers) = telegram_update(i, TELEGRAM_SECRET);
        assert_eq!(post(&router, META_PEER, "/telegram/webhook", &headers, &body).await, 200, "telegram update {i}");
    }
    for source in ["meta", "tiktok", "telegram"] {
        assert_eq!(stored(&store, source).await, n as i64, "every {source} request was stored");
    }
    // None of them drew on the address's own allowance: its unsigned requests still have a full burst.
    for _ in 0..BURST {
        assert_ne!(hit(&router, META_PEER, None).await, 429);
    }
});

tochen_testkit::store_test!(bad_signatures_count_against_the_sender_and_never_drain_the_route, |store, db| {
    let dir = tempfile::tempdir().unwrap();
    // One signed request per second per route, and as many at once.
    let router = signed_router(&db, &dir, "1");
    let forger = "198.51.100.7:5000";

    // A forger is refused with 403 until its address is over its limit, then with 429; a missing signature and
    // a wrong Telegram secret count against the same address.
    let (body, _) = meta_event(0);
    let forged = [("x-hub-signature-256", format!("sha256={}", "00".repeat(32)))];
    let mut codes = Vec::new();
    for _ in 0..50 {
        let code = post(&router, forger, "/webhooks/meta", &forged, &body).await;
        codes.push(code);
        if code == 429 {
            break;
        }
    }
    assert_eq!(codes.last(), Some(&429), "a forger is limited: {codes:?}");
    assert!(codes[..codes.len() - 1].iter().all(|c| *c == 403), "{codes:?}");
    assert_eq!(post(&router, forger, "/webhooks/meta", &[], &body).await, 429);
    let (body, wrong) = telegram_update(1, "not-the-secret");
    assert_eq!(post(&router, forger, "/telegram/webhook", &wrong, &body).await, 429);
    // A valid request from that very address still passes: it is not counted per address.
    let (body, headers) = telegram_update(2, TELEGRAM_SECRET);
    assert_eq!(post(&router, forger, "/telegram/webhook", &headers, &body).await, 200);

    // Forgeries from many addresses (each under its own limit) do not touch the allowance of real deliveries.
    for i in 0..20 {
        let (body, _) = meta_event(1000 + i);
        let bad = [("x-hub-signature-256", format!("sha256={}", "11".repeat(32)))];
        assert_eq!(post(&router, &format!("203.0.113.{}:4000", i + 1), "/webhooks/meta", &bad, &body).await, 403);
    }
    let (body, headers) = meta_event(1);
    assert_eq!(post(&router, META_PEER, "/webhooks/meta", &headers, &body).await, 200, "the first real one passes");

    // Valid requests beyond the route's allowance are refused, whatever their addresses...
    let mut refused = false;
    for i in 0..50 {
        let (body, headers) = meta_event(2 + i);
        if post(&router, &format!("173.252.64.{}:443", 2 + i), "/webhooks/meta", &headers, &body).await == 429 {
            refused = true;
            break;
        }
    }
    assert!(refused, "the meta route's shared allowance ran out");
    // ...on that route only.
    let (body, headers) = tiktok_event(1);
    assert_eq!(post(&router, META_PEER, "/webhooks/tiktok", &headers, &body).await, 200);
    assert_eq!(stored(&store, "tiktok").await, 1);
});

#[tokio::test]
async fn the_limits_come_from_the_configuration() {
    let db = tochen_testkit::TestDb::sqlite().await;
    let dir = tempfile::tempdir().unwrap();
    let env: HashMap<String, String> = [
        ("TOCHEN_DATA_DIR", dir.path().to_str().unwrap()),
        ("TOCHEN_SECRET_KEYS", db.key.as_str()),
        ("TOCHEN_RATE_LIMIT_PER_IP", "1"),
        ("TOCHEN_RATE_LIMIT_BURST", "2"),
    ]
    .into_iter()
    .map(|(k, v)| (k.to_string(), v.to_string()))
    .collect();
    // `AppState::from_config` is what `tochen_web::run` builds its state with.
    let router = app(AppState::from_config(Config::from_source(&env).unwrap(), db.store.clone()).unwrap());
    let client = "198.51.100.20:1234";
    let codes = [hit(&router, client, None).await, hit(&router, client, None).await, hit(&router, client, None).await];
    assert_ne!(codes[0], 429, "{codes:?}");
    assert_ne!(codes[1], 429, "{codes:?}");
    assert_eq!(codes[2], 429, "a burst of two, as configured: {codes:?}");
    db.cleanup().await;
}
