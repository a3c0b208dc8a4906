//! Analytics benchmark (harness = false): `/stats` and the library on one large workspace. Numbers, not asserts;
//! results go to BENCHMARKS.md.
//!
//! The workspace: 100,000 published posts over two years (about 137 a day) on four accounts (two Instagram, one
//! Facebook, one TikTok), one target each, 10 readings per target (1,000,000 target snapshots, at 1 h, 1, 2, 3,
//! 5, 7, 10, 14, 21 and 30 days after publication, TikTok's without reach, Facebook's without saves), a daily
//! follower reading per account, a tag on every tenth post, and a second workspace of 1,000 posts beside it. The
//! history ends at the moment the benchmark measures from, so "the last 30 days" holds ~4,100 posts and their
//! ~30,000 readings in the period.
//!
//! Measured, each `BENCH_ITERS` times (default 20) after two warm-up calls, in `BENCH_ROUNDS` rounds (default 5)
//! on the same seeded database: `reports::compute_scoped` without the chart's series (what the `/stats` screen
//! runs; it computes the previous period too) for 7, 30 and 90 days, the workspace and one platform; the chart's
//! series (`reports::daily_views`, what the Chart button adds) for 30 and 90 days; `Store::library`'s first page
//! (5 posts) unfiltered, by platform, by tag, by a word in 1% of posts, and a date range. Printed per round: p50
//! and p95 in ms; then per case the median of the rounds' p95 with min and max.
//!
//! `cargo bench -p tochen-delivery --bench analytics` runs SQLite, and PostgreSQL too when TEST_DATABASE_URL is set
//! (`BENCH_BACKEND=sqlite|postgres` narrows it down; `BENCH_KEEP=1` leaves the seeded PostgreSQL database in place
//! for `EXPLAIN`, and `BENCH_SQLITE_COPY=file` keeps a copy of the SQLite one).

use std::time::Instant;
use tochen_delivery::reports::{compute_scoped, daily_views, Period, Scope, DAY_MS};
use tochen_delivery::sources::Sources;
use tochen_domain::ids::{AccountId, TenantId};
use tochen_domain::{AuthKind, Platform, SecretString};
use tochen_store::{LibraryFilter, NewAccount, Store, TelegramIdentity, TenantProfile};
use tochen_testkit::TestDb;

const POSTS: i64 = 100_000;
const READINGS: [i64; 10] = [0, 1, 2, 3, 5, 7, 10, 14, 21, 30];
const HISTORY_DAYS: i64 = 730;
/// Rows per INSERT statement while seeding.
const BATCH: usize = 1_000;

fn env_num(name: &str, default: usize) -> usize {
    std::env::var(name).ok().and_then(|v| v.parse().ok()).unwrap_or(default)
}

async fn insert_rows(store: &Store, head: &str, rows: &[String]) {
    for chunk in rows.chunks(BATCH) {
        let sql = format!("{head} VALUES {}", chunk.join(","));
        sqlx::query(&sql).execute(store.sql_for_tests()).await.expect("seed insert");
    }
}

async fn workspace(store: &Store, telegram_id: i64, name: &str) -> (TenantId, Vec<(AccountId, Platform)>) {
    let who =
        TelegramIdentity { telegram_id, username: None, first_name: name.into(), last_name: None, language_code: None };
    let user = store.upsert_user(&who).await.unwrap();
    let tenant = store.create_tenant(name, &TenantProfile::default(), 0, user.id).await.unwrap().id;
    let mut accounts = Vec::new();
    for (i, (platform, kind)) in [
        (Platform::Instagram, AuthKind::InstagramLogin),
        (Platform::Instagram, AuthKind::InstagramViaPage),
        (Platform::Facebook, AuthKind::FacebookPage),
        (Platform::TikTok, AuthKind::TikTok),
    ]
    .into_iter()
    .enumerate()
    {
        let new = NewAccount {
            platform,
            auth_kind: kind,
            external_id: format!("{name}-{i}"),
            name: format!("{name} {i}"),
            access_token: SecretString::new("t"),
            refresh_token: None,
            scopes: vec![],
            token_expires_at: None,
            refresh_expires_at: None,
            connected_by: None,
        };
        accounts.push((store.upsert_account(tenant, &new).await.unwrap().id, platform));
    }
    (tenant, accounts)
}

/// Seeds `posts` published posts ending at `now`; returns the tenant and its accounts.
async fn seed(store: &Store, telegram_id: i64, name: &str, posts: i64, now: i64) -> (TenantId, Vec<AccountId>) {
    let (tenant, accounts) = workspace(store, telegram_id, name).await;
    let t = tenant.to_db();
    let span = HISTORY_DAYS * DAY_MS;
    let (mut p_rows, mut t_rows, mut m_rows, mut g_rows) = (Vec::new(), Vec::new(), Vec::new(), Vec::new());
    let words = ["sourdough", "croissant", "latte", "brunch", "roaster", "espresso", "cake", "workshop"];
    for i in 0..posts {
        let at = now - span + span * i / posts;
        let (account, platform) = accounts[(i % 4) as usize];
        let post = uuid::Uuid::now_v7().to_string();
        let target = uuid::Uuid::now_v7().to_string();
        let word = if i % 100 == 7 { "pumpernickel" } else { words[(i % 8) as usize] };
        p_rows.push(format!(
            "('{post}','{t}','Post {i} {word}','Fresh {word} today, come by #{i}','published',{at},{at},{at})"
        ));
        t_rows.push(format!(
            "('{target}','{t}','{post}','{}','{}','published','pp-{i}','https://example.com/{i}',{at},{at},{at})",
            account.to_db(),
            platform.as_str()
        ));
        if i % 10 == 0 {
            g_rows.push(format!("('{post}','{t}','promo')"));
        }
        for (k, days) in READINGS.iter().enumerate() {
            let captured = at + if *days == 0 { 3_600_000 } else { days * DAY_MS };
            if captured >= now {
                continue;
            }
            let views = 100 + (i % 50) * 20 + k as i64 * 150;
            let reach = if platform == Platform::TikTok { "NULL".to_owned() } else { (views * 8 / 10).to_string() };
            let saves = if platform == Platform::Facebook { "NULL".to_owned() } else { (views / 50).to_string() };
            m_rows.push(format!(
                "('{}','{t}','{}','{target}','{}',{captured},{views},{reach},{},{},{},{saves},NULL)",
                uuid::Uuid::now_v7(),
                account.to_db(),
                platform.as_str(),
                views / 10,
                views / 40,
                views / 80,
            ));
        }
        if p_rows.len() >= 20 * BATCH {
            flush(store, &mut p_rows, &mut t_rows, &mut g_rows, &mut m_rows).await;
        }
    }
    flush(store, &mut p_rows, &mut t_rows, &mut g_rows, &mut m_rows).await;
    for (n, (account, platform)) in accounts.iter().enumerate() {
        let rows: Vec<String> = (0..HISTORY_DAYS)
            .map(|d| {
                format!(
                    "('{}','{t}','{}',NULL,'{}',{},NULL,NULL,NULL,NULL,NULL,NULL,{})",
                    uuid::Uuid::now_v7(),
                    account.to_db(),
                    platform.as_str(),
                    now - span + d * DAY_MS,
                    1000 * (n as i64 + 1) + d * 3
                )
            })
            .collect();
        insert_rows(store, SNAPSHOT_HEAD, &rows).await;
    }
    (tenant, accounts.into_iter().map(|(a, _)| a).collect())
}

const SNAPSHOT_HEAD: &str =
    "INSERT INTO metrics_snapshots (id, tenant_id, account_id, target_id, platform, captured_at, \
                             views, reach, likes, comments, shares, saves, followers)";

async fn flush(
    store: &Store,
    posts: &mut Vec<String>,
    targets: &mut Vec<String>,
    tags: &mut Vec<String>,
    snapshots: &mut Vec<String>,
) {
    let head = "INSERT INTO posts (id, tenant_id, title, body, status, scheduled_at, created_at, updated_at)";
    insert_rows(store, head, posts).await;
    let head = "INSERT INTO post_targets (id, tenant_id, post_id, account_id, platform, status, platform_post_id, \
                permalink, published_at, created_at, updated_at)";
    insert_rows(store, head, targets).await;
    insert_rows(store, "INSERT INTO post_tags (post_id, tenant_id, tag)", tags).await;
    insert_rows(store, SNAPSHOT_HEAD, snapshots).await;
    posts.clear();
    targets.clear();
    tags.clear();
    snapshots.clear();
}

fn percentile(sorted: &[f64], p: f64) -> f64 {
    let i = ((sorted.len() as f64 - 1.0) * p).round() as usize;
    sorted[i.min(sorted.len() - 1)]
}

type Case<'a> = (&'a str, Box<dyn Fn() -> std::pin::Pin<Box<dyn std::future::Future<Output = ()> + 'a>> + 'a>);

async fn run(backend: &str, db: TestDb) {
    measure(backend, &db.store).await;
    if std::env::var("BENCH_KEEP").is_err() {
        db.cleanup().await;
    }
}

async fn measure(backend: &str, store: &Store) {
    let now = tochen_domain::clock::now_ms();
    let t0 = Instant::now();
    let (tenant, accounts) = seed(store, 1, "Big", POSTS, now).await;
    seed(store, 2, "Neighbour", 1_000, now).await;
    // Rows were written around `insert_metrics_snapshot`: each target's latest reading as it would have kept it.
    store.recompute_latest_metrics().await.unwrap();
    // Fresh statistics and visibility maps, as a long-running database would have (autovacuum on PostgreSQL,
    // `PRAGMA optimize` on SQLite).
    let analyze = if backend == "postgres" { "VACUUM ANALYZE" } else { "ANALYZE" };
    sqlx::query(analyze).execute(store.sql_for_tests()).await.unwrap();
    // `BENCH_SQLITE_COPY=/path/file.db` keeps a copy of the seeded SQLite database to look at query plans.
    if let (Ok(path), "sqlite") = (std::env::var("BENCH_SQLITE_COPY"), backend) {
        sqlx::query(&format!("VACUUM INTO '{}'", path.replace('\'', "''")))
            .execute(store.sql_for_tests())
            .await
            .unwrap();
    }
    let count: (i64,) =
        sqlx::query_as("SELECT COUNT(*) FROM metrics_snapshots WHERE tenant_id = $1 AND target_id IS NOT NULL")
            .bind(tenant.to_db())
            .fetch_one(store.sql_for_tests())
            .await
            .unwrap();
    println!("[{backend}] seeded {POSTS} posts, {} target snapshots in {:.1} s", count.0, t0.elapsed().as_secs_f64());
    let _ = accounts;

    let stats = |days: i64, scope: Scope| {
        move || {
            Box::pin(async move {
                let period = Period::new(now - days * DAY_MS, now);
                let r = compute_scoped(store, tenant, period, scope, Sources::Real, false).await.unwrap();
                assert!(r.totals.published > 0);
            }) as std::pin::Pin<Box<dyn std::future::Future<Output = ()>>>
        }
    };
    let chart = |days: i64| {
        move || {
            Box::pin(async move {
                let period = Period::new(now - days * DAY_MS, now);
                let d = daily_views(store, tenant, period, Scope::Workspace, Sources::Real).await.unwrap();
                assert!(!d.series.is_empty());
            }) as std::pin::Pin<Box<dyn std::future::Future<Output = ()>>>
        }
    };
    let library = |f: LibraryFilter| {
        move || {
            let f = f.clone();
            Box::pin(async move {
                let page = store.library(tenant, &f, 0, 5).await.unwrap();
                assert!(!page.is_empty());
            }) as std::pin::Pin<Box<dyn std::future::Future<Output = ()>>>
        }
    };
    let cases: Vec<Case<'_>> = vec![
        ("/stats 7 days", Box::new(stats(7, Scope::Workspace))),
        ("/stats 30 days", Box::new(stats(30, Scope::Workspace))),
        ("/stats 90 days", Box::new(stats(90, Scope::Workspace))),
        ("/stats 30 days, Instagram", Box::new(stats(30, Scope::Platform(Platform::Instagram)))),
        ("/stats chart series, 30 days", Box::new(chart(30))),
        ("/stats chart series, 90 days", Box::new(chart(90))),
        ("library first page", Box::new(library(LibraryFilter::default()))),
        (
            "library, platform TikTok",
            Box::new(library(LibraryFilter { platform: Some(Platform::TikTok), ..Default::default() })),
        ),
        ("library, tag", Box::new(library(LibraryFilter { tag: Some("promo".into()), ..Default::default() }))),
        (
            "library, word in 1% of posts",
            Box::new(library(LibraryFilter { search: Some("pumpernickel".into()), ..Default::default() })),
        ),
        (
            "library, a month a year ago",
            Box::new(library(LibraryFilter {
                since: Some(now - 395 * DAY_MS),
                until: Some(now - 365 * DAY_MS),
                ..Default::default()
            })),
        ),
    ];
    let iters = env_num("BENCH_ITERS", 20);
    let rounds = env_num("BENCH_ROUNDS", 5);
    let mut p95s: Vec<Vec<f64>> = vec![Vec::new(); cases.len()];
    for round in 1..=rounds {
        for (i, (name, case)) in cases.iter().enumerate() {
            case().await;
            case().await;
            let mut ms = Vec::with_capacity(iters);
            for _ in 0..iters {
                let t = Instant::now();
                case().await;
                ms.push(t.elapsed().as_secs_f64() * 1000.0);
            }
            ms.sort_by(f64::total_cmp);
            let (p50, p95) = (percentile(&ms, 0.5), percentile(&ms, 0.95));
            println!("[{backend}] round {round} {name}: p50 {p50:.1} ms, p95 {p95:.1} ms");
            p95s[i].push(p95);
        }
    }
    println!("[{backend}] p95, median of {rounds} rounds (min-max):");
    for (i, (name, _)) in cases.iter().enumerate() {
        let mut v = p95s[i].clone();
        v.sort_by(f64::total_cmp);
        println!("[{backend}]   {name}: {:.1} ms ({:.1}-{:.1})", percentile(&v, 0.5), v[0], v[v.len() - 1]);
    }
}

#[tokio::main]
async fn main() {
    let only = std::env::var("BENCH_BACKEND").unwrap_or_default();
    if only.is_empty() || only == "sqlite" {
        run("sqlite", TestDb::sqlite().await).await;
    }
    if only.is_empty() || only == "postgres" {
        if let Some(db) = TestDb::postgres().await {
            run("postgres", db).await;
        }
    }
}
