//! Load benchmark of the HTTP API (issue 20): `GET /api/v1/posts` (a page of 50 from the library's query with its
//! targets and tags, following cursors through the list) and `GET /api/v1/stats?days=30` (the `/stats`
//! computation) against the real router on loopback, on SQLite and (with `TEST_DATABASE_URL`) PostgreSQL. The
//! workspace holds `BENCH_POSTS` posts (default 10,000), a tenth of them published with a metrics reading each. Every
//! request is authenticated with a bearer token (a hash lookup) and counted against its rate limit (raised out of
//! the way). Five rounds per route; each round prints req/s and p99, then the median of the rounds with min and max.
//!
//! Run: `TEST_DATABASE_URL=postgres://postgres@127.0.0.1:5432/test cargo bench -p tochen-web --bench api`
//! (env `BENCH_REQUESTS` per round, default 2,000; `BENCH_CONCURRENCY`, default 16; `BENCH_POSTS`).

use std::collections::HashMap;
use std::net::SocketAddr;
use std::sync::Arc;
use std::time::{Duration, Instant};
use tochen_config::Config;
use tochen_domain::clock::now_ms;
use tochen_domain::{ApiScope, AuthKind, Platform, Role, SecretString};
use tochen_store::{MetricValues, NewAccount, NewApiToken, NewSnapshot, TelegramIdentity, TenantProfile};
use tochen_testkit::TestDb;
use tochen_web::{app, AppState, RateLimit};

const ROUNDS: usize = 5;
const DAY_MS: i64 = 86_400_000;

fn env_usize(name: &str, default: usize) -> usize {
    std::env::var(name).ok().and_then(|v| v.parse().ok()).unwrap_or(default)
}

fn config(data_dir: &str) -> Config {
    let env: HashMap<String, String> = [("TOCHEN_DATA_DIR", data_dir), ("TOCHEN_API_RATE_LIMIT", "100000000")]
        .into_iter()
        .map(|(k, v)| (k.to_string(), v.to_string()))
        .collect();
    Config::from_source(&env).expect("bench config")
}

/// A workspace with `posts` posts (a tenth published on an Instagram account, each with one reading) and a token.
async fn seed(db: &TestDb, posts: usize) -> String {
    let store = &db.store;
    let who = TelegramIdentity {
        telegram_id: 1,
        username: None,
        first_name: "Bench".into(),
        last_name: None,
        language_code: None,
    };
    let user = store.upsert_user(&who).await.expect("user");
    let tenant = store.create_tenant("Bench", &TenantProfile::default(), 0, user.id).await.expect("tenant").id;
    let account = NewAccount {
        platform: Platform::Instagram,
        auth_kind: AuthKind::InstagramLogin,
        external_id: "ig".into(),
        name: "ig".into(),
        access_token: SecretString::new("t"),
        refresh_token: None,
        scopes: vec![],
        token_expires_at: None,
        refresh_expires_at: None,
        connected_by: None,
    };
    let ig = store.upsert_account(tenant, &account).await.expect("account").id;
    let now = now_ms();
    for i in 0..posts {
        let p = store.create_draft(tenant, Some(user.id), None, &format!("Post {i}"), "").await.expect("draft");
        if i % 10 == 0 {
            let at = now - ((i as i64 * 7_919) % (29 * DAY_MS));
            let targets = store.schedule_post(tenant, p.id, p.version, at, &[ig], false).await.expect("schedule");
            sqlx::query("UPDATE post_targets SET status = 'published', published_at = $1 WHERE id = $2")
                .bind(at)
                .bind(targets[0].id.to_db())
                .execute(store.sql_for_tests())
                .await
                .expect("publish");
            let values =
                MetricValues { views: Some(100 + i as i64), likes: Some(5), comments: Some(1), ..Default::default() };
            let snap = NewSnapshot {
                account_id: ig,
                target_id: Some(targets[0].id),
                platform: Platform::Instagram,
                captured_at: at + 3_600_000,
                values,
                raw: serde_json::json!({}),
            };
            store.insert_metrics_snapshot(tenant, &snap).await.expect("snapshot");
        }
    }
    sqlx::query("UPDATE posts SET status = 'published' WHERE status = 'scheduled'")
        .execute(store.sql_for_tests())
        .await
        .expect("published posts");
    let new = NewApiToken {
        name: "bench".into(),
        role: Role::Viewer,
        scopes: vec![ApiScope::Read],
        created_by: None,
        expires_at: None,
    };
    let (_, secret) = store.create_api_token(tenant, &new, now).await.expect("token");
    format!("Bearer {secret}")
}

/// One round: `requests` GETs of `route` at `concurrency` (a posts worker follows its pages' cursors).
async fn round(
    http: &reqwest::Client,
    base: &str,
    auth: &str,
    route: &'static str,
    requests: usize,
    concurrency: usize,
) -> (f64, Duration) {
    let next = Arc::new(std::sync::atomic::AtomicUsize::new(0));
    let started = Instant::now();
    let mut workers = Vec::new();
    for _ in 0..concurrency {
        let (http, base, auth, next) = (http.clone(), base.to_owned(), auth.to_owned(), next.clone());
        workers.push(tokio::spawn(async move {
            let mut latencies = Vec::new();
            let mut cursor: Option<String> = None;
            while next.fetch_add(1, std::sync::atomic::Ordering::Relaxed) < requests {
                let url = match (route, &cursor) {
                    ("posts", Some(c)) => format!("{base}/api/v1/posts?limit=50&cursor={c}"),
                    ("posts", None) => format!("{base}/api/v1/posts?limit=50"),
                    _ => format!("{base}/api/v1/stats?days=30"),
                };
                let t = Instant::now();
                let resp = http.get(&url).header("authorization", &auth).send().await.expect("request");
                assert_eq!(resp.status().as_u16(), 200, "{url}");
                let body: serde_json::Value = resp.json().await.expect("json");
                latencies.push(t.elapsed());
                // Walk the list page after page, starting over at its end.
                cursor = body["next_cursor"].as_str().map(str::to_owned);
            }
            latencies
        }));
    }
    let mut all = Vec::with_capacity(requests);
    for w in workers {
        all.extend(w.await.expect("worker"));
    }
    let elapsed = started.elapsed();
    all.sort();
    let p99 = all[((all.len() as f64 * 0.99).ceil() as usize).saturating_sub(1).min(all.len() - 1)];
    (all.len() as f64 / elapsed.as_secs_f64(), p99)
}

fn median_min_max(mut v: Vec<f64>) -> (f64, f64, f64) {
    v.sort_by(f64::total_cmp);
    (v[v.len() / 2], v[0], v[v.len() - 1])
}

async fn run(label: &str, db: TestDb, posts: usize, requests: usize, concurrency: usize) {
    let seeded = Instant::now();
    let auth = seed(&db, posts).await;
    println!("{label:<10} seeded {posts} posts in {:.1} s", seeded.elapsed().as_secs_f64());
    let dir = tempfile::tempdir().expect("temp dir");
    let state = AppState::new(
        config(dir.path().to_str().unwrap_or(".")),
        db.store.clone(),
        &SecretString::new(db.key.clone()),
        RateLimit { per_second: 1_000_000, burst: 1_000_000 },
    );
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.expect("bind");
    let addr = listener.local_addr().expect("addr");
    let server = tokio::spawn(async move {
        let _ = axum::serve(listener, app(state).into_make_service_with_connect_info::<SocketAddr>()).await;
    });
    let base = format!("http://{addr}");
    let http = reqwest::Client::builder().pool_max_idle_per_host(concurrency).build().expect("client");
    for route in ["posts", "stats"] {
        let (mut rates, mut p99s) = (Vec::new(), Vec::new());
        for r in 0..ROUNDS {
            let (rate, p99) = round(&http, &base, &auth, route, requests, concurrency).await;
            println!("{label:<10} {route:<5} round {} req/s={rate:.0} p99={:.2}ms", r + 1, p99.as_secs_f64() * 1000.0);
            rates.push(rate);
            p99s.push(p99.as_secs_f64() * 1000.0);
        }
        let (rm, rmin, rmax) = median_min_max(rates);
        let (pm, pmin, pmax) = median_min_max(p99s);
        println!(
            "{label:<10} {route:<5} median of {ROUNDS}: req/s={rm:.0} ({rmin:.0}-{rmax:.0}) p99={pm:.2}ms ({pmin:.2}-{pmax:.2}) \
             requests={requests} concurrency={concurrency}"
        );
    }
    server.abort();
    db.cleanup().await;
}

#[tokio::main(flavor = "multi_thread", worker_threads = 2)]
async fn main() {
    let posts = env_usize("BENCH_POSTS", 10_000);
    let requests = env_usize("BENCH_REQUESTS", 2_000);
    let concurrency = env_usize("BENCH_CONCURRENCY", 16);
    if let Ok(load) = std::fs::read_to_string("/proc/loadavg") {
        println!("load average at start: {}", load.split_whitespace().take(3).collect::<Vec<_>>().join(" "));
    }
    run("sqlite", TestDb::sqlite().await, posts, requests, concurrency).await;
    match TestDb::postgres().await {
        Some(db) => run("postgres", db, posts, requests, concurrency).await,
        None => println!("postgres   skipped: TEST_DATABASE_URL is not set"),
    }
    if let Ok(load) = std::fs::read_to_string("/proc/loadavg") {
        println!("load average at end: {}", load.split_whitespace().take(3).collect::<Vec<_>>().join(" "));
    }
}
