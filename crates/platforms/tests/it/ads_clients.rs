//! The ad reporting clients against the fakes that follow the Marketing API contracts (docs/ads.md).

use chrono::NaiveDate;
use std::time::Duration;
use tochen_domain::ads::{AdLevel, Amount};
use tochen_domain::secret::SecretString;
use tochen_platforms::ads::meta::MetaAds;
use tochen_platforms::ads::tiktok::TikTokAds;
use tochen_platforms::ads::usage::{AccountGate, Backoff};
use tochen_platforms::ads::AdsErrorClass;
use tochen_testkit::fake_ads::{generated, AdDay};
use tochen_testkit::fake_meta_ads::FakeMetaAds;
use tochen_testkit::fake_tiktok_ads::{self, FakeTikTokAds};

fn d(s: &str) -> NaiveDate {
    NaiveDate::parse_from_str(s, "%Y-%m-%d").unwrap()
}

fn meta(fake: &FakeMetaAds) -> MetaAds {
    let mut c = MetaAds::new(reqwest::Client::new(), url::Url::parse(&fake.base_url()).unwrap(), "v25.0");
    c.sleep_when_slow = false;
    c
}

fn tiktok(fake: &FakeTikTokAds) -> TikTokAds {
    TikTokAds::new(
        reqwest::Client::new(),
        url::Url::parse(&fake.base_url()).unwrap(),
        "v1.3",
        fake_tiktok_ads::APP_ID,
        SecretString::new(fake_tiktok_ads::SECRET),
    )
}

fn gate() -> AccountGate {
    AccountGate::new(Backoff::META, None)
}

fn token(s: &str) -> SecretString {
    SecretString::new(s)
}

async fn seeded_meta() -> FakeMetaAds {
    let fake = FakeMetaAds::start().await;
    fake.add_account("1234567890", "Shop", "EUR", "Europe/Berlin");
    fake.add_account("555", "Closed shop", "USD", "America/New_York");
    fake.set_status("555", 101, 0);
    fake.issue_token("EAAtok", &["ads_read"], &["1234567890", "555"]);
    fake.issue_token("no-ads", &["pages_show_list"], &["1234567890"]);
    fake.put_rows(
        "1234567890",
        vec![
            AdDay::campaign(d("2026-11-01"), "120210000000001", "Black Friday", 12345, 10234, 311)
                .with_purchases(7, 69930),
            AdDay::campaign(d("2026-11-01"), "120210000000002", "Retargeting", 1000, 500, 0),
            AdDay::campaign(d("2026-11-02"), "120210000000001", "Black Friday", 5000, 2000, 20),
        ],
    );
    fake
}

#[tokio::test]
async fn meta_lists_ad_accounts_with_currency_zone_and_status() {
    let fake = seeded_meta().await;
    let accounts = meta(&fake).ad_accounts(&mut gate(), &token("EAAtok")).await.unwrap();
    assert_eq!(accounts.len(), 2);
    let shop = accounts.iter().find(|a| a.account_ref == "1234567890").unwrap();
    assert_eq!((shop.currency.as_str(), shop.zone.as_str(), shop.is_active()), ("EUR", "Europe/Berlin", true));
    let closed = accounts.iter().find(|a| a.account_ref == "555").unwrap();
    assert_eq!((closed.status.as_str(), closed.is_active()), ("101", false));
    let e = meta(&fake).ad_accounts(&mut gate(), &token("no-ads")).await.unwrap_err();
    assert_eq!(e.class, AdsErrorClass::Reconnect, "no ads_read: ask for the permission, do not retry");
}

#[tokio::test]
async fn meta_daily_insights_parse_exactly_and_missing_stays_missing() {
    let fake = seeded_meta().await;
    let rows = meta(&fake)
        .insights(&mut gate(), &token("EAAtok"), "1234567890", AdLevel::Campaign, d("2026-11-01"), d("2026-11-02"))
        .await
        .unwrap();
    assert_eq!(rows.len(), 3);
    let bf1 = rows.iter().find(|r| r.object_id == "120210000000001" && r.day == d("2026-11-01")).unwrap();
    assert_eq!(bf1.metrics.spend, Some(Amount::parse("123.45").unwrap()));
    assert_eq!(bf1.metrics.impressions, Some(10234));
    assert_eq!(bf1.metrics.clicks, Some(311));
    assert_eq!(bf1.metrics.cpc, Some(Amount::parse("0.396945").unwrap()));
    assert_eq!(bf1.metrics.conversions, Some(Amount::from_int(7)));
    assert_eq!(bf1.metrics.conversion_value, Some(Amount::parse("699.30").unwrap()));
    assert_eq!(bf1.object_name.as_deref(), Some("Black Friday"));
    let rt = rows.iter().find(|r| r.object_id == "120210000000002").unwrap();
    assert_eq!(rt.metrics.clicks, Some(0));
    assert_eq!((rt.metrics.cpc, rt.metrics.conversions, rt.metrics.roas), (None, None, None), "absent, not zero");
    let account = meta(&fake)
        .insights(&mut gate(), &token("EAAtok"), "act_1234567890", AdLevel::Account, d("2026-11-01"), d("2026-11-01"))
        .await
        .unwrap();
    assert_eq!(account.len(), 1);
    assert_eq!(account[0].metrics.spend, Some(Amount::parse("133.45").unwrap()));
    assert_eq!(account[0].object_id, "1234567890");
    let call = &fake.calls_to("/insights")[0];
    assert_eq!(call.params.get("time_increment").map(String::as_str), Some("1"));
    assert!(call.path.starts_with("/v25.0/act_"));
}

#[tokio::test]
async fn meta_insights_follow_every_page() {
    let fake = seeded_meta().await;
    fake.put_rows("555", generated("9", 20, 30, d("2026-11-30")));
    let rows = meta(&fake)
        .insights(&mut gate(), &token("EAAtok"), "555", AdLevel::Campaign, d("2026-11-01"), d("2026-11-30"))
        .await
        .unwrap();
    assert_eq!(rows.len(), 600);
    assert_eq!(fake.calls_to("/insights").len(), 2, "two pages of 500");
    let total: Amount = rows.iter().filter_map(|r| r.metrics.spend).sum();
    let expected: i64 = generated("9", 20, 30, d("2026-11-30")).iter().map(|r| r.spend_cents).sum();
    assert_eq!(total, Amount::from_micros(expected * 10_000));
}

#[tokio::test]
async fn meta_async_report_runs_poll_until_complete_and_resubmit_once_on_failure() {
    let fake = seeded_meta().await;
    fake.set_polls_to_complete(2);
    let c = meta(&fake);
    let delays = [Duration::from_millis(5); 6];
    let rows = c
        .insights_async(
            &mut gate(),
            &token("EAAtok"),
            "1234567890",
            AdLevel::Campaign,
            (d("2026-11-01"), d("2026-11-02")),
            &delays,
        )
        .await
        .unwrap();
    assert_eq!(rows.len(), 3);
    assert_eq!(fake.calls().iter().filter(|c| c.method == "POST").count(), 1);
    assert_eq!(fake.calls().iter().filter(|c| c.method == "GET" && !c.path.ends_with("/insights")).count(), 3);

    fake.fail_next_run();
    let rows = c
        .insights_async(
            &mut gate(),
            &token("EAAtok"),
            "1234567890",
            AdLevel::Account,
            (d("2026-11-01"), d("2026-11-02")),
            &delays,
        )
        .await
        .unwrap();
    assert_eq!(rows.len(), 2);
    assert_eq!(fake.calls().iter().filter(|c| c.method == "POST").count(), 3, "the failed run was resubmitted once");

    fake.set_polls_to_complete(50);
    let e = c
        .insights_async(
            &mut gate(),
            &token("EAAtok"),
            "1234567890",
            AdLevel::Account,
            (d("2026-11-01"), d("2026-11-02")),
            &delays,
        )
        .await
        .unwrap_err();
    assert_eq!(e.class, AdsErrorClass::Retryable, "a run still running after the delays is read again later");
}

#[tokio::test]
async fn meta_throttle_codes_pause_the_account_without_further_requests() {
    let fake = seeded_meta().await;
    let c = meta(&fake);
    for (code, sub) in [(17, Some(2446079)), (613, Some(1487742)), (80004, None)] {
        let mut g = gate();
        fake.fail_next("/insights", 400, code, sub, 0);
        let e = c
            .insights(&mut g, &token("EAAtok"), "1234567890", AdLevel::Account, d("2026-11-01"), d("2026-11-01"))
            .await
            .unwrap_err();
        assert_eq!(
            e.class,
            AdsErrorClass::Throttled { wait: Some(Duration::from_secs(60)) },
            "{code}: backoff from 60 s"
        );
        let before = fake.call_count();
        let again = c
            .insights(&mut g, &token("EAAtok"), "1234567890", AdLevel::Account, d("2026-11-01"), d("2026-11-01"))
            .await;
        assert!(matches!(again.unwrap_err().class, AdsErrorClass::Throttled { .. }));
        assert_eq!(fake.call_count(), before, "{code}: no request while paused");
    }
    let mut g = gate();
    fake.fail_next("/insights", 400, 80000, None, 7);
    let e = c
        .insights(&mut g, &token("EAAtok"), "1234567890", AdLevel::Account, d("2026-11-01"), d("2026-11-01"))
        .await
        .unwrap_err();
    assert_eq!(
        e.class,
        AdsErrorClass::Throttled { wait: Some(Duration::from_secs(420)) },
        "the platform's estimate wins"
    );
}

#[tokio::test]
async fn meta_usage_headers_slow_down_then_stop_at_the_limit() {
    let fake = seeded_meta().await;
    let c = meta(&fake);
    let mut g = gate();
    fake.set_usage("1234567890", 80.0);
    c.insights(&mut g, &token("EAAtok"), "1234567890", AdLevel::Account, d("2026-11-01"), d("2026-11-01"))
        .await
        .unwrap();
    assert!(g.slow_delay() > Duration::ZERO, "above 75 % the next request waits");
    fake.set_usage("1234567890", 100.0);
    let e = c
        .insights(&mut g, &token("EAAtok"), "1234567890", AdLevel::Account, d("2026-11-01"), d("2026-11-01"))
        .await
        .unwrap_err();
    assert_eq!(e.class, AdsErrorClass::Throttled { wait: Some(Duration::from_secs(300)) });
    let before = fake.call_count();
    for _ in 0..3 {
        assert!(c
            .insights(&mut g, &token("EAAtok"), "1234567890", AdLevel::Account, d("2026-11-01"), d("2026-11-01"))
            .await
            .is_err());
    }
    assert_eq!(fake.call_count(), before, "no request while the fake says the limit is reached");
    assert_eq!(fake.calls_over_limit(), 1);
}

#[tokio::test]
async fn meta_token_and_timeout_errors_are_classified() {
    let fake = seeded_meta().await;
    let c = meta(&fake);
    fake.fail_next("/insights", 400, 100, Some(1504018), 0);
    let e = c
        .insights(&mut gate(), &token("EAAtok"), "1234567890", AdLevel::Ad, d("2026-11-01"), d("2026-11-30"))
        .await
        .unwrap_err();
    assert_eq!(e.class, AdsErrorClass::TooMuchData);
    fake.revoke("EAAtok");
    let e = c
        .insights(&mut gate(), &token("EAAtok"), "1234567890", AdLevel::Ad, d("2026-11-01"), d("2026-11-30"))
        .await
        .unwrap_err();
    assert_eq!((e.class.clone(), e.code.as_str()), (AdsErrorClass::Reconnect, "190/460"));
    assert!(!e.to_string().contains("EAAtok"), "no token in the message");
}

async fn seeded_tiktok() -> FakeTikTokAds {
    let fake = FakeTikTokAds::start().await;
    fake.add_advertiser("7000000000000001", "Shop EU", "EUR", "Europe/Berlin");
    fake.add_advertiser("7000000000000002", "Shop US", "USD", "America/New_York");
    fake.add_advertiser("7000000000000009", "Someone else", "GBP", "Europe/London");
    fake.set_status("7000000000000002", "STATUS_LIMIT");
    fake
}

#[tokio::test]
async fn tiktok_exchange_works_once_and_lists_the_granted_advertisers() {
    let fake = seeded_tiktok().await;
    let c = tiktok(&fake);
    let code = fake.auth_code(&["7000000000000001", "7000000000000002"]);
    let grant = c.exchange(&code).await.unwrap();
    assert_eq!(grant.advertiser_ids, vec!["7000000000000001", "7000000000000002"]);
    assert!(grant.refresh_token.is_none() && grant.expires_in.is_none(), "advertiser tokens do not expire");
    let again = c.exchange(&code).await.unwrap_err();
    assert_eq!((again.class.clone(), again.code.as_str()), (AdsErrorClass::Permanent, "40110"));
    let list = c.advertisers(&mut gate(), &grant.access_token).await.unwrap();
    assert_eq!(list.len(), 2);
    let us = list.iter().find(|a| a.account_ref == "7000000000000002").unwrap();
    assert_eq!((us.currency.as_str(), us.zone.as_str(), us.is_active()), ("USD", "America/New_York", false));
    let call = &fake.calls_to("advertiser/info/")[0];
    assert_eq!(call.params["advertiser_ids"], r#"["7000000000000001","7000000000000002"]"#);
    let wrong = TikTokAds::new(
        reqwest::Client::new(),
        url::Url::parse(&fake.base_url()).unwrap(),
        "v1.3",
        "1",
        SecretString::new("x"),
    );
    assert_eq!(wrong.exchange(&fake.auth_code(&[])).await.unwrap_err().code, "40101");
}

#[tokio::test]
async fn tiktok_reports_split_long_ranges_follow_pages_and_keep_strings_exact() {
    let fake = seeded_tiktok().await;
    fake.issue_token("tt", &["7000000000000001"]);
    let rows = generated("178", 40, 45, d("2026-11-30"));
    fake.put_rows("7000000000000001", rows.clone());
    let got = tiktok(&fake)
        .report(&mut gate(), &token("tt"), "7000000000000001", AdLevel::Campaign, d("2026-10-17"), d("2026-11-30"))
        .await
        .unwrap();
    assert_eq!(got.len(), 40 * 45);
    let calls = fake.calls_to("report/integrated/get/");
    assert_eq!(calls.len(), 3, "30 days x 40 = 1200 rows: two pages, then 15 days on one");
    assert_eq!(calls[0].params["dimensions"], r#"["campaign_id","stat_time_day"]"#);
    let total: Amount = got.iter().filter_map(|r| r.metrics.spend).sum();
    assert_eq!(total, Amount::from_micros(rows.iter().map(|r| r.spend_cents).sum::<i64>() * 10_000));
    assert!(got.iter().all(|r| r.metrics.conversion_value.is_none()));
}

#[tokio::test]
async fn tiktok_rate_limit_and_token_codes_are_classified() {
    let fake = seeded_tiktok().await;
    fake.issue_token("tt", &["7000000000000001"]);
    fake.put_rows(
        "7000000000000001",
        vec![AdDay::campaign(d("2026-11-01"), "1780000000000001", "BF video", 4217, 10250, 180)],
    );
    let c = tiktok(&fake);
    let mut g = AccountGate::new(Backoff::TIKTOK, None);
    fake.rate_limit_after(0, 1);
    let e = c
        .report(&mut g, &token("tt"), "7000000000000001", AdLevel::Account, d("2026-11-01"), d("2026-11-01"))
        .await
        .unwrap_err();
    assert_eq!(e.class, AdsErrorClass::Throttled { wait: Some(Duration::from_secs(60)) });
    let before = fake.calls().len();
    assert!(c
        .report(&mut g, &token("tt"), "7000000000000001", AdLevel::Account, d("2026-11-01"), d("2026-11-01"))
        .await
        .is_err());
    assert_eq!(fake.calls().len(), before, "paused: no request");
    let rows = c
        .report(&mut gate(), &token("tt"), "7000000000000001", AdLevel::Account, d("2026-11-01"), d("2026-11-01"))
        .await
        .unwrap();
    assert_eq!(rows[0].metrics.spend, Some(Amount::parse("42.17").unwrap()));
    let e = c
        .report(&mut gate(), &token("tt"), "7000000000000009", AdLevel::Account, d("2026-11-01"), d("2026-11-01"))
        .await
        .unwrap_err();
    assert_eq!((e.class.clone(), e.code.as_str()), (AdsErrorClass::Reconnect, "40001"));
    fake.revoke("tt");
    let e = c
        .report(&mut gate(), &token("tt"), "7000000000000001", AdLevel::Account, d("2026-11-01"), d("2026-11-01"))
        .await
        .unwrap_err();
    assert_eq!((e.class.clone(), e.code.as_str()), (AdsErrorClass::Reconnect, "40105"));
}
