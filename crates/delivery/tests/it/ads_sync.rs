//! The ad insights sync on SQLite and PostgreSQL against the fake Marketing APIs: backfill (Meta through report
//! runs), incremental sync, late-attribution re-sync, throttling without requests while the fake says the limit is
//! reached, and token invalidation turning into a reconnect prompt.

use chrono::NaiveDate;
use std::time::Duration;
use tochen_delivery::ads_sync::{backfill_range, daily_range, enqueue, sync_range, AdsClients, SyncError};
use tochen_domain::ads::{AdLevel, AdPlatform, Amount};
use tochen_domain::jobs::{ADS_SYNC, NOTIFY};
use tochen_domain::{JobState, SecretString, TenantId};
use tochen_platforms::ads::meta::MetaAds;
use tochen_platforms::ads::tiktok::TikTokAds;
use tochen_store::{AdAccount, NewAdAccount, Store, TelegramIdentity, TenantProfile};
use tochen_testkit::fake_ads::AdDay;
use tochen_testkit::fake_meta_ads::FakeMetaAds;
use tochen_testkit::fake_tiktok_ads::{self, FakeTikTokAds};
use tochen_testkit::store_test;

fn d(s: &str) -> NaiveDate {
    NaiveDate::parse_from_str(s, "%Y-%m-%d").unwrap()
}

async fn tenant(store: &Store, telegram_id: i64) -> TenantId {
    let who = TelegramIdentity {
        telegram_id,
        username: None,
        first_name: format!("U{telegram_id}"),
        last_name: None,
        language_code: Some("en".into()),
    };
    let admin = store.upsert_user(&who).await.unwrap();
    store.create_tenant("Team", &TenantProfile::default(), 0, admin.id).await.unwrap().id
}

fn clients(meta: &FakeMetaAds, tiktok: &FakeTikTokAds) -> AdsClients {
    let mut m = MetaAds::new(reqwest::Client::new(), url::Url::parse(&meta.base_url()).unwrap(), "v25.0");
    m.sleep_when_slow = false;
    let t = TikTokAds::new(
        reqwest::Client::new(),
        url::Url::parse(&tiktok.base_url()).unwrap(),
        "v1.3",
        fake_tiktok_ads::APP_ID,
        SecretString::new(fake_tiktok_ads::SECRET),
    );
    AdsClients {
        meta: Some(m),
        tiktok: Some(t),
        async_after_days: 14,
        poll_delays: vec![Duration::from_millis(5); 10],
        backfill_days: 30,
    }
}

/// Two campaigns over November on a Meta account (EUR) and one on a TikTok advertiser (USD).
async fn fakes() -> (FakeMetaAds, FakeTikTokAds) {
    let meta = FakeMetaAds::start().await;
    meta.add_account("1234567890", "Shop", "EUR", "Europe/Berlin");
    meta.issue_token("EAAtok", &["ads_read"], &["1234567890"]);
    let mut rows = Vec::new();
    for day in 1..=30 {
        let date = NaiveDate::from_ymd_opt(2026, 11, day).unwrap();
        rows.push(
            AdDay::campaign(date, "120210000000001", "Black Friday", 1000 + i64::from(day), 2000, 20)
                .with_purchases(1, 2500),
        );
        rows.push(AdDay::campaign(date, "120210000000002", "Retargeting", 500, 1000, 5));
    }
    meta.put_rows("1234567890", rows);
    let tiktok = FakeTikTokAds::start().await;
    tiktok.add_advertiser("7000000000000001", "Shop US", "USD", "America/New_York");
    tiktok.issue_token("tt", &["7000000000000001"]);
    let tt_rows = (1..=30)
        .map(|day| {
            AdDay::campaign(
                NaiveDate::from_ymd_opt(2026, 11, day).unwrap(),
                "1780000000000001",
                "BF video",
                4217,
                10250,
                180,
            )
        })
        .collect();
    tiktok.put_rows("7000000000000001", tt_rows);
    (meta, tiktok)
}

async fn connect(store: &Store, t: TenantId, platform: AdPlatform, account_ref: &str, token: &str) -> AdAccount {
    let new = NewAdAccount {
        platform,
        account_ref: account_ref.into(),
        name: format!("{platform:?} account"),
        currency: if platform == AdPlatform::Meta { "EUR".into() } else { "USD".into() },
        zone: "Europe/Berlin".into(),
        status: "1".into(),
        disable_reason: None,
        token: SecretString::new(token),
        connected_by: None,
    };
    store.upsert_ad_account(t, &new).await.unwrap()
}

fn spend(rows: &[tochen_domain::ads::InsightRow]) -> Amount {
    rows.iter().filter_map(|r| r.metrics.spend).sum()
}

store_test!(backfill_reads_every_level_and_meta_uses_report_runs, |store| {
    let (meta, tiktok) = fakes().await;
    let c = clients(&meta, &tiktok);
    let t = tenant(&store, 1).await;
    let m = connect(&store, t, AdPlatform::Meta, "1234567890", "EAAtok").await;
    let range = backfill_range(d("2026-11-30"), 30);
    enqueue(&store, t, m.id, range).await.unwrap();
    let jobs = store.jobs_of_kind(ADS_SYNC, JobState::Queued, 10).await.unwrap();
    assert_eq!(jobs.len(), 1);
    assert_eq!(jobs[0].concurrency_key.as_deref(), Some(format!("ad_account:{}", m.id).as_str()));

    let report = sync_range(&store, &c, t, m.id, range).await.unwrap();
    assert_eq!(report.rows, 30 + 60 + 60 + 60);
    assert_eq!(meta.calls().iter().filter(|c| c.method == "POST").count(), 4, "30 days > 14: one report run per level");
    let account = store.ad_insights(t, m.id, AdLevel::Account, range).await.unwrap();
    // Hand-computed: Black Friday 30 x 10.00 + (1+..+30) cents = 304.65, Retargeting 30 x 5.00 = 150.00.
    assert_eq!(spend(&account), Amount::parse("454.65").unwrap());
    let campaigns = store.ad_insights(t, m.id, AdLevel::Campaign, range).await.unwrap();
    assert_eq!(spend(&campaigns), Amount::parse("454.65").unwrap());
    let bf: Vec<_> = campaigns.iter().filter(|r| r.object_id == "120210000000001").collect();
    assert!(bf.iter().all(|r| r.metrics.conversions == Some(Amount::from_int(1))));
    let rt: Vec<_> = campaigns.iter().filter(|r| r.object_id == "120210000000002").collect();
    assert!(rt.iter().all(|r| r.metrics.conversions.is_none() && r.metrics.roas.is_none()), "missing stays missing");
    assert_eq!(store.ad_account(t, m.id).await.unwrap().synced_through, Some(d("2026-11-30")));

    let tt = connect(&store, t, AdPlatform::TikTok, "7000000000000001", "tt").await;
    sync_range(&store, &c, t, tt.id, range).await.unwrap();
    let tt_rows = store.ad_insights(t, tt.id, AdLevel::Campaign, range).await.unwrap();
    assert_eq!(spend(&tt_rows), Amount::parse("1265.10").unwrap(), "30 x 42.17 USD, apart from the EUR account");
});

store_test!(incremental_sync_rereads_the_last_days_for_late_attribution, |store| {
    let (meta, tiktok) = fakes().await;
    let c = clients(&meta, &tiktok);
    let t = tenant(&store, 2).await;
    let m = connect(&store, t, AdPlatform::Meta, "1234567890", "EAAtok").await;
    sync_range(&store, &c, t, m.id, (d("2026-11-01"), d("2026-11-27"))).await.unwrap();
    let synced = store.ad_account(t, m.id).await.unwrap().synced_through;
    assert_eq!(synced, Some(d("2026-11-27")));

    // Late conversions restate Nov 26; the next day's sync re-reads it.
    meta.put_rows(
        "1234567890",
        vec![AdDay::campaign(d("2026-11-26"), "120210000000002", "Retargeting", 500, 1000, 5).with_purchases(3, 9000)],
    );
    let range = daily_range(synced, d("2026-11-28"), 30);
    assert_eq!(range, (d("2026-11-25"), d("2026-11-28")));
    let posts_before = meta.calls().iter().filter(|c| c.method == "POST").count();
    sync_range(&store, &c, t, m.id, range).await.unwrap();
    assert_eq!(meta.calls().iter().filter(|c| c.method == "POST").count(), posts_before, "4 days: synchronous");
    let day26 = store.ad_insights(t, m.id, AdLevel::Campaign, (d("2026-11-26"), d("2026-11-26"))).await.unwrap();
    let rt = day26.iter().find(|r| r.object_id == "120210000000002").unwrap();
    assert_eq!(rt.metrics.conversions, Some(Amount::from_int(3)));
    assert_eq!(rt.metrics.conversion_value, Some(Amount::parse("90.00").unwrap()));
    let all = store.ad_insights(t, m.id, AdLevel::Account, (d("2026-11-01"), d("2026-11-30"))).await.unwrap();
    assert_eq!(all.len(), 28, "Nov 1-28, no day lost or doubled");
});

store_test!(a_throttled_account_waits_without_requests_and_loses_no_day, |store| {
    let (meta, tiktok) = fakes().await;
    let c = clients(&meta, &tiktok);
    let t = tenant(&store, 3).await;
    let m = connect(&store, t, AdPlatform::Meta, "1234567890", "EAAtok").await;
    let range = (d("2026-11-20"), d("2026-11-22"));
    meta.set_usage("1234567890", 100.0);
    let e = sync_range(&store, &c, t, m.id, range).await.unwrap_err();
    assert_eq!(e, SyncError::Throttled(Duration::from_secs(300)));
    assert!(store.ad_account(t, m.id).await.unwrap().throttled_until.is_some());
    let calls = meta.call_count();
    let again = sync_range(&store, &c, t, m.id, range).await.unwrap_err();
    assert!(matches!(again, SyncError::Throttled(_)));
    assert_eq!(meta.call_count(), calls, "no request while the fake says the limit is reached");
    assert_eq!(meta.calls_over_limit(), 1);

    // The pause passes: the same range is read whole.
    meta.set_usage("1234567890", 10.0);
    store.set_ad_account_throttle(t, m.id, Some(0)).await.unwrap();
    sync_range(&store, &c, t, m.id, range).await.unwrap();
    assert_eq!(store.ad_insights(t, m.id, AdLevel::Account, range).await.unwrap().len(), 3);
    assert_eq!(store.ad_account(t, m.id).await.unwrap().throttled_until, None);

    // TikTok: a 40100 burst pauses the advertiser; the retry after the pause completes.
    let tt = connect(&store, t, AdPlatform::TikTok, "7000000000000001", "tt").await;
    tiktok.rate_limit_after(1, 1);
    let e = sync_range(&store, &c, t, tt.id, range).await.unwrap_err();
    assert_eq!(e, SyncError::Throttled(Duration::from_secs(60)));
    let calls = tiktok.calls().len();
    assert!(matches!(sync_range(&store, &c, t, tt.id, range).await, Err(SyncError::Throttled(_))));
    assert_eq!(tiktok.calls().len(), calls);
    store.set_ad_account_throttle(t, tt.id, None).await.unwrap();
    sync_range(&store, &c, t, tt.id, range).await.unwrap();
    assert_eq!(store.ad_insights(t, tt.id, AdLevel::Campaign, range).await.unwrap().len(), 3);
});

store_test!(a_refused_token_marks_the_account_and_prompts_a_reconnect, |store| {
    let (meta, tiktok) = fakes().await;
    let c = clients(&meta, &tiktok);
    let t = tenant(&store, 4).await;
    let m = connect(&store, t, AdPlatform::Meta, "1234567890", "EAAtok").await;
    meta.revoke("EAAtok");
    let e = sync_range(&store, &c, t, m.id, (d("2026-11-29"), d("2026-11-30"))).await.unwrap_err();
    assert!(matches!(e, SyncError::Reconnect(ref r) if r.contains("190")), "{e:?}");
    let a = store.ad_account(t, m.id).await.unwrap();
    assert!(!a.is_valid);
    let notices = store.jobs_of_kind(NOTIFY, JobState::Queued, 10).await.unwrap();
    assert_eq!(notices.len(), 1);
    assert_eq!(notices[0].payload["chat_id"], 4);
    assert!(notices[0].payload["text_html"].as_str().unwrap().contains("/connect"));
    let calls = meta.call_count();
    assert!(matches!(
        sync_range(&store, &c, t, m.id, (d("2026-11-29"), d("2026-11-30"))).await,
        Err(SyncError::Permanent(_))
    ));
    assert_eq!(meta.call_count(), calls, "an invalid account is not asked again");

    let tt = connect(&store, t, AdPlatform::TikTok, "7000000000000001", "tt").await;
    tiktok.revoke("tt");
    let e = sync_range(&store, &c, t, tt.id, (d("2026-11-29"), d("2026-11-30"))).await.unwrap_err();
    assert!(matches!(e, SyncError::Reconnect(ref r) if r.contains("40105")), "{e:?}");
    assert!(!store.ad_account(t, tt.id).await.unwrap().is_valid);

    // Another workspace cannot sync this one's account.
    let other = tenant(&store, 5).await;
    assert!(matches!(
        sync_range(&store, &c, other, tt.id, (d("2026-11-29"), d("2026-11-30"))).await,
        Err(SyncError::Permanent(_))
    ));
});

/// The benchmark of BENCHMARKS.md ("Ad insights sync"): `ADS_BENCH_ACCOUNTS` (50) Meta ad accounts x
/// `ADS_BENCH_CAMPAIGNS` (200) campaigns x 30 days, backfilled at every level through the sync against the fake,
/// on SQLite (or PostgreSQL with `ADS_BENCH_BACKEND=postgres` and `TEST_DATABASE_URL`), `ADS_BENCH_ROUNDS` (5)
/// times on a new database each. Prints each round's wall time, requests and rows, then the median with min and
/// max and the load average before and after. Run with
/// `cargo test --release -p tochen-delivery --test it -- --ignored ads_sync_benchmark --nocapture`.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
#[ignore = "benchmark: run by hand"]
async fn ads_sync_benchmark() {
    let env = |name: &str, default: usize| std::env::var(name).ok().and_then(|v| v.parse().ok()).unwrap_or(default);
    let (n_accounts, n_campaigns, rounds) =
        (env("ADS_BENCH_ACCOUNTS", 50), env("ADS_BENCH_CAMPAIGNS", 200), env("ADS_BENCH_ROUNDS", 5).max(1));
    let load = || {
        std::fs::read_to_string("/proc/loadavg").unwrap_or_default().split(' ').take(3).collect::<Vec<_>>().join(" ")
    };
    let load_before = load();
    let mut times = Vec::new();
    let mut backend = "sqlite";
    for round in 1..=rounds {
        let db = match std::env::var("ADS_BENCH_BACKEND").as_deref() {
            Ok("postgres") => {
                tochen_testkit::TestDb::postgres().await.expect("ADS_BENCH_BACKEND=postgres needs TEST_DATABASE_URL")
            }
            _ => tochen_testkit::TestDb::sqlite().await,
        };
        backend = if db.url.starts_with("postgres") { "postgres" } else { "sqlite" };
        let store = db.store.clone();
        let meta = FakeMetaAds::start().await;
        let tiktok = FakeTikTokAds::start().await;
        let mut c = clients(&meta, &tiktok);
        c.poll_delays = vec![Duration::from_millis(1); 20];
        let t = tenant(&store, 9).await;
        let range = backfill_range(d("2026-11-30"), 30);
        let mut ids = Vec::new();
        let refs: Vec<String> = (0..n_accounts).map(|i| format!("{}", 100_000 + i)).collect();
        let ref_strs: Vec<&str> = refs.iter().map(String::as_str).collect();
        meta.issue_token("EAAbench", &["ads_read"], &ref_strs);
        for r in &refs {
            meta.add_account(r, "Bench", "EUR", "UTC");
            meta.put_rows(r, tochen_testkit::fake_ads::generated(&format!("{r}9"), n_campaigns, 30, range.1));
            ids.push(connect(&store, t, AdPlatform::Meta, r, "EAAbench").await.id);
        }
        let started = std::time::Instant::now();
        let (mut rows, mut requests) = (0usize, 0u64);
        for id in &ids {
            let r = sync_range(&store, &c, t, *id, range).await.unwrap();
            rows += r.rows;
            requests += r.requests;
        }
        let elapsed = started.elapsed().as_secs_f64();
        assert_eq!(requests as usize, meta.call_count());
        assert_eq!(rows, n_accounts * (30 + 3 * n_campaigns * 30));
        println!(
            "ads_sync_benchmark {backend} round {round}: {n_accounts} accounts x {n_campaigns} campaigns x 30 days: \
             {elapsed:.2} s, {requests} requests, {rows} rows"
        );
        times.push(elapsed);
        db.cleanup().await;
    }
    times.sort_by(f64::total_cmp);
    println!(
        "ads_sync_benchmark {backend}: median {:.2} s (min {:.2}, max {:.2}) of {rounds} rounds; load average {load_before} before, {} after",
        times[times.len() / 2],
        times[0],
        times[times.len() - 1],
        load()
    );
}
