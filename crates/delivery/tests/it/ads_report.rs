//! Ad numbers on SQLite and PostgreSQL: an ads report over insights synced from the fake Marketing APIs equals
//! hand-computed sums, with an EUR account and a USD advertiser kept apart; the report automation delivers to a
//! group chat (with its chart) and a webhook; `/ads`' glance and worst-first campaigns; and each ad alert rule fires
//! once, stays quiet, resolves, and cools down.

use chrono::NaiveDate;
use std::time::Duration;
use tochen_delivery::ads_report::{self, render, AdMetric, AdsReportConfig};
use tochen_delivery::ads_sync::{sync_range, AdsClients};
use tochen_delivery::alerts::{evaluate, rules, AlertConfig, AlertRule};
use tochen_delivery::automations::{run_ads_report, DeliveryDeps};
use tochen_delivery::sources::Sources;
use tochen_delivery::webhook::WebhookSecret;
use tochen_domain::ads::{AdLevel, AdMetrics, AdPlatform, Amount, InsightRow};
use tochen_domain::jobs::{NOTIFY, WEBHOOK_DELIVER};
use tochen_domain::{JobState, MissedRunPolicy, SecretString, TenantId};
use tochen_platforms::ads::meta::MetaAds;
use tochen_platforms::ads::tiktok::TikTokAds;
use tochen_store::{AdAccount, NewAdAccount, NewAutomation, NewDestination, Store, TelegramIdentity, TenantProfile};
use tochen_testkit::fake_ads::AdDay;
use tochen_testkit::fake_meta_ads::FakeMetaAds;
use tochen_testkit::fake_tiktok_ads::{self, FakeTikTokAds};
use tochen_testkit::store_test;

fn d(s: &str) -> NaiveDate {
    NaiveDate::parse_from_str(s, "%Y-%m-%d").unwrap()
}

fn a(s: &str) -> Amount {
    Amount::parse(s).unwrap()
}

/// 2026-12-01 09:00 UTC: the report's slot; the 30 days before it are November in both accounts' zones.
const SLOT: i64 = 1_796_115_600_000;

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

async fn account(store: &Store, t: TenantId, p: AdPlatform, r: &str, cur: &str, zone: &str, token: &str) -> AdAccount {
    let new = NewAdAccount {
        platform: p,
        account_ref: r.into(),
        name: format!("{cur} shop"),
        currency: cur.into(),
        zone: zone.into(),
        status: if p == AdPlatform::Meta { "1".into() } else { "STATUS_ENABLE".into() },
        disable_reason: None,
        token: SecretString::new(token),
        connected_by: None,
    };
    store.upsert_ad_account(t, &new).await.unwrap()
}

/// Syncs November: a Meta account in EUR (Black Friday with one purchase a day, Retargeting without results)
/// and a TikTok advertiser in USD (one campaign).
async fn synced(store: &Store, t: TenantId) -> (AdAccount, AdAccount) {
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
    tiktok.put_rows(
        "7000000000000001",
        (1..=30)
            .map(|day| {
                let date = NaiveDate::from_ymd_opt(2026, 11, day).unwrap();
                AdDay::campaign(date, "1780000000000001", "BF video", 4217, 10250, 180)
            })
            .collect(),
    );
    let mut m = MetaAds::new(reqwest::Client::new(), url::Url::parse(&meta.base_url()).unwrap(), "v25.0");
    m.sleep_when_slow = false;
    let tt = TikTokAds::new(
        reqwest::Client::new(),
        url::Url::parse(&tiktok.base_url()).unwrap(),
        "v1.3",
        fake_tiktok_ads::APP_ID,
        SecretString::new(fake_tiktok_ads::SECRET),
    );
    let c = AdsClients {
        meta: Some(m),
        tiktok: Some(tt),
        async_after_days: 14,
        poll_delays: vec![Duration::from_millis(5); 10],
        backfill_days: 30,
    };
    let eur = account(store, t, AdPlatform::Meta, "1234567890", "EUR", "Europe/Berlin", "EAAtok").await;
    let usd = account(store, t, AdPlatform::TikTok, "7000000000000001", "USD", "America/New_York", "tt").await;
    let range = (d("2026-10-25"), d("2026-11-30"));
    sync_range(store, &c, t, eur.id, range).await.unwrap();
    sync_range(store, &c, t, usd.id, range).await.unwrap();
    (store.ad_account(t, eur.id).await.unwrap(), store.ad_account(t, usd.id).await.unwrap())
}

store_test!(an_ads_report_equals_hand_computed_sums_with_two_currencies_kept_apart, |store| {
    let t = tenant(&store, 1).await;
    let (eur, usd) = synced(&store, t).await;
    let config = AdsReportConfig { period_days: 30, top: 1, ..Default::default() };
    let r = ads_report::compute(&store, t, &config, SLOT).await.unwrap();
    assert_eq!(r.accounts.len(), 2);
    let e = r.accounts.iter().find(|x| x.account.id == eur.id).unwrap();
    assert_eq!(e.range, (d("2026-11-01"), d("2026-11-30")));
    // Hand-computed: Black Friday 30 x 10.00 + (1 + ... + 30) cents = 304.65, Retargeting 30 x 5.00 = 150.00.
    assert_eq!(e.totals.spend, Some(a("454.65")));
    assert_eq!(e.totals.impressions, Some(30 * 3000));
    assert_eq!(e.totals.clicks, Some(30 * 25));
    assert_eq!(e.totals.results, Some(a("30")));
    assert_eq!(e.totals.ctr(), Some(a("0.833333")), "750 / 90,000 clicks per impression, in percent");
    assert_eq!(e.totals.cost_per_result(), Some(a("15.155")), "454.65 / 30");
    assert_eq!(e.previous.spend, None, "nothing synced before November: missing, not zero");
    assert_eq!(e.daily.len(), 30);
    assert_eq!(e.daily[0].1.spend, Some(a("15.01")));
    assert_eq!(e.top.iter().map(|c| c.name.as_str()).collect::<Vec<_>>(), ["Black Friday"]);
    assert_eq!(e.worst.iter().map(|c| c.name.as_str()).collect::<Vec<_>>(), ["Retargeting"], "spent without results");
    let u = r.accounts.iter().find(|x| x.account.id == usd.id).unwrap();
    assert_eq!(u.totals.spend, Some(a("1265.10")), "30 x 42.17 USD");
    assert_eq!(u.totals.results, Some(Amount::ZERO), "TikTok reports 0 conversions as \"0\"");
    let groups = r.by_currency();
    let spend: Vec<(&str, Option<Amount>)> = groups.iter().map(|(c, t_, _)| (c.as_str(), t_.spend)).collect();
    assert_eq!(spend, [("EUR", Some(a("454.65"))), ("USD", Some(a("1265.10")))], "never one sum of both");

    let html = render::telegram_html(&r, "en");
    assert!(html.contains("spend: 454.65 EUR"), "{html}");
    assert!(html.contains("1,265.10 USD"), "{html}");
    assert!(!html.contains("1,719.75"), "EUR and USD are never added: {html}");
    let json = render::json(&r);
    assert_eq!(json["totals_by_currency"][0]["totals"]["spend"], "454.65");
    assert_eq!(json["totals_by_currency"][1]["totals"]["spend"], "1265.1");
    assert_eq!(json["accounts"].as_array().unwrap().len(), 2);

    // Another workspace sees none of it.
    let other = tenant(&store, 2).await;
    let theirs = ads_report::compute(&store, other, &AdsReportConfig { accounts: vec![eur.id], ..config }, SLOT).await;
    assert!(theirs.unwrap().accounts.is_empty());
});

store_test!(the_ads_report_automation_reaches_a_group_chat_with_its_chart_and_a_webhook, |store| {
    let t = tenant(&store, 3).await;
    let (eur, _) = synced(&store, t).await;
    let dir = tempfile::tempdir().unwrap();
    let deps = DeliveryDeps { email: None, data_dir: dir.path().to_owned(), sources: Sources::Real, run: None };
    let group = NewDestination::Telegram { name: "Marketing".into(), chat_id: -100777 };
    let chat = store.create_destination(t, &group).await.unwrap();
    let secret = SecretString::new(WebhookSecret::generate().expose());
    let hook = NewDestination::Webhook { name: "BI".into(), url: "https://bi.test/h".into(), secret };
    let hook = store.create_destination(t, &hook).await.unwrap();
    let new = NewAutomation {
        kind: "ads".into(),
        name: "ads".into(),
        cron: "0 9 * * *".into(),
        timezone: "UTC".into(),
        config: serde_json::json!({"period_days": 30, "accounts": [eur.id]}),
        missed_run_policy: MissedRunPolicy::RunOnce,
        max_consecutive_failures: 5,
        created_by: None,
    };
    let auto = store.create_automation(t, &new).await.unwrap();
    store.set_automation_destinations(t, auto.id, &[chat.id, hook.id]).await.unwrap();
    assert!(run_ads_report(&store, &deps, t, auto.id, &auto.config, SLOT).await.unwrap());
    let jobs = store.tenant_jobs(t, JobState::Queued, 50).await.unwrap();
    let notes: Vec<_> = jobs.iter().filter(|j| j.kind == NOTIFY && j.payload["chat_id"] == -100777).collect();
    let text: String = notes.iter().filter_map(|j| j.payload["text_html"].as_str()).collect();
    assert!(text.contains("454.65 EUR") && !text.contains("USD"), "only the chosen account: {text}");
    let png = notes.iter().find_map(|j| j.payload["attachment_path"].as_str()).expect("the chart goes to the chat");
    let png = std::fs::read(dir.path().join(png)).unwrap();
    assert_eq!(tochen_delivery::reports::chart::png_size(&png), Some((800, 480)));
    assert!(jobs.iter().any(|j| j.kind == WEBHOOK_DELIVER), "report.generated goes to the webhook");
    // Skipped when asked and there is nothing.
    let empty = serde_json::json!({"period_days": 7, "skip_when_empty": true});
    assert!(!run_ads_report(&store, &deps, t, auto.id, &empty, SLOT + 400 * 86_400_000).await.unwrap());
});

store_test!(the_glance_shows_today_yesterday_and_the_week_and_campaigns_worst_first, |store| {
    let t = tenant(&store, 4).await;
    let (eur, _) = synced(&store, t).await;
    // 2026-11-30 15:00 UTC: 16:00 in Berlin, so "today" is the 30th.
    let now = 1_796_050_800_000;
    let g = ads_report::glance(&store, &eur, now).await.unwrap();
    assert_eq!(g.today.spend, Some(a("15.30")), "10.30 + 5.00");
    assert_eq!(g.yesterday.spend, Some(a("15.29")));
    assert_eq!(g.week.spend, Some(a("106.89")), "7 x 15.00 + (24 + ... + 30) cents");
    let worst = ads_report::campaigns_worst_first(&store, &eur, now).await.unwrap();
    assert_eq!(worst.iter().map(|c| c.name.as_str()).collect::<Vec<_>>(), ["Retargeting", "Black Friday"]);
    let html = render::glance_html(&[g], "en");
    assert!(html.contains("Today: spend 15.30 EUR"), "{html}");
    assert_eq!(worst[1].totals.metric(AdMetric::CostPerResult), Some(a("10.27")), "71.89 / 7");
});

fn row(day: &str, level: AdLevel, id: &str, spend: &str, impressions: i64, clicks: i64) -> InsightRow {
    InsightRow {
        day: d(day),
        level,
        object_id: id.into(),
        object_name: Some(format!("Campaign {id}")),
        campaign_id: (level == AdLevel::Campaign).then(|| id.to_string()),
        metrics: AdMetrics {
            spend: Some(a(spend)),
            impressions: Some(impressions),
            clicks: Some(clicks),
            ..Default::default()
        },
    }
}

/// 2026-11-20 12:00 UTC.
const NOW: i64 = 1_795_176_000_000;

store_test!(each_ad_alert_rule_fires_once_stays_quiet_resolves_and_cools_down, |store| {
    let t = tenant(&store, 5).await;
    let acc = account(&store, t, AdPlatform::Meta, "999", "EUR", "UTC", "tok").await;
    store.set_ad_account_synced_through(t, acc.id, d("2026-11-20")).await.unwrap();
    let put = |level: AdLevel, since: &str, rows: Vec<InsightRow>| {
        let store = store.clone();
        let since = d(since);
        async move {
            store.replace_ad_insights(t, acc.id, level, (since, d("2026-11-20")), &rows).await.unwrap();
        }
    };
    let base = AlertConfig {
        cooldown_minutes: 60,
        ad_daily_spend_above: Some(100.0),
        ad_monthly_budget: Some(1000.0),
        ad_cpc_above: Some(1.0),
        ad_cpm_above: Some(10.0),
        ad_ctr_below: Some(1.0),
        ad_zero_impressions_hours: Some(24),
        ..Default::default()
    };
    let acct = AdLevel::Account;
    for rule in [
        AlertRule::AdDailySpend,
        AlertRule::AdBudgetPacing,
        AlertRule::AdCpcHigh,
        AlertRule::AdCpmHigh,
        AlertRule::AdCtrLow,
        AlertRule::AdZeroImpressions,
        AlertRule::AdAccountProblem,
    ] {
        let bad = || async {
            match rule {
                AlertRule::AdDailySpend => {
                    put(acct, "2026-11-01", vec![row("2026-11-20", acct, "999", "120", 1, 1)]).await
                }
                // 1,000 spent by the 20th heads for 1,500 in a 30-day month, over 1,000 + 10 %.
                AlertRule::AdBudgetPacing => {
                    put(acct, "2026-11-01", vec![row("2026-11-01", acct, "999", "1000", 1, 1)]).await
                }
                AlertRule::AdCpcHigh => {
                    put(acct, "2026-11-01", vec![row("2026-11-19", acct, "999", "100", 5000, 50)]).await
                }
                AlertRule::AdCpmHigh => {
                    put(acct, "2026-11-01", vec![row("2026-11-19", acct, "999", "100", 5000, 500)]).await
                }
                AlertRule::AdCtrLow => {
                    put(acct, "2026-11-01", vec![row("2026-11-19", acct, "999", "1", 10000, 50)]).await
                }
                AlertRule::AdZeroImpressions => {
                    put(AdLevel::Campaign, "2026-11-01", vec![row("2026-11-15", AdLevel::Campaign, "c1", "5", 1000, 9)])
                        .await
                }
                _ => store.set_ad_account_validated(t, acc.id, "3", Some(0)).await.unwrap(),
            }
        };
        let good = || async {
            match rule {
                AlertRule::AdDailySpend => {
                    put(acct, "2026-11-01", vec![row("2026-11-20", acct, "999", "50", 1, 1)]).await
                }
                AlertRule::AdBudgetPacing => {
                    put(acct, "2026-11-01", vec![row("2026-11-01", acct, "999", "600", 1, 1)]).await
                }
                AlertRule::AdCpcHigh => {
                    put(acct, "2026-11-01", vec![row("2026-11-19", acct, "999", "100", 5000, 200)]).await
                }
                AlertRule::AdCpmHigh => {
                    put(acct, "2026-11-01", vec![row("2026-11-19", acct, "999", "100", 20000, 500)]).await
                }
                AlertRule::AdCtrLow => {
                    put(acct, "2026-11-01", vec![row("2026-11-19", acct, "999", "1", 10000, 200)]).await
                }
                AlertRule::AdZeroImpressions => {
                    let rows = vec![
                        row("2026-11-15", AdLevel::Campaign, "c1", "5", 1000, 9),
                        row("2026-11-20", AdLevel::Campaign, "c1", "1", 300, 2),
                    ];
                    put(AdLevel::Campaign, "2026-11-01", rows).await
                }
                _ => store.set_ad_account_validated(t, acc.id, "1", Some(0)).await.unwrap(),
            }
        };
        let config = AlertConfig { rules: vec![rule], ..base.clone() };
        let min = 60_000;
        bad().await;
        let fired = evaluate(&store, t, &config, Sources::Real, NOW).await.unwrap();
        assert_eq!(fired.len(), 1, "{rule:?} fires once: {fired:?}");
        assert!(!fired[0].resolved && fired[0].rule == rule);
        let text = rules::message(&fired[0], "en", chrono_tz::UTC);
        assert!(text.contains("EUR shop"), "{rule:?}: {text}");
        assert!(
            evaluate(&store, t, &config, Sources::Real, NOW + min).await.unwrap().is_empty(),
            "{rule:?} stays quiet"
        );
        good().await;
        let resolved = evaluate(&store, t, &config, Sources::Real, NOW + 2 * min).await.unwrap();
        assert_eq!(resolved.len(), 1, "{rule:?} resolves: {resolved:?}");
        assert!(resolved[0].resolved);
        assert!(!rules::message(&resolved[0], "de", chrono_tz::UTC).is_empty());
        bad().await;
        let cooling = evaluate(&store, t, &config, Sources::Real, NOW + 3 * min).await.unwrap();
        assert!(cooling.is_empty(), "{rule:?} is quiet within the cooldown: {cooling:?}");
        let again = evaluate(&store, t, &config, Sources::Real, NOW + 62 * min).await.unwrap();
        assert_eq!(again.len(), 1, "{rule:?} is announced once the cooldown is over");
        good().await;
        evaluate(&store, t, &config, Sources::Real, NOW + 63 * min).await.unwrap();
    }
    // Without a threshold, a rule judges nothing.
    let off = AlertConfig { rules: vec![AlertRule::AdDailySpend], ..Default::default() };
    put(acct, "2026-11-01", vec![row("2026-11-20", acct, "999", "100000", 1, 1)]).await;
    assert!(evaluate(&store, t, &off, Sources::Real, NOW + 200 * min_ms()).await.unwrap().is_empty());
});

fn min_ms() -> i64 {
    60_000
}
