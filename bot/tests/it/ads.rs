//! Ad accounts end to end in the chat, on SQLite and PostgreSQL: an admin connects a Meta ad account and a TikTok
//! advertiser through `/connect` and the fakes (the browser's part, callback and confirmation, is the web
//! service's code: `tochen_platforms::ads::connect` and the pick message it sends), ticks the accounts to keep,
//! `/ads` shows hand-computed numbers per account in its own currency and the campaigns worst first, another
//! workspace's ad account is refused, a refused token asks for a reconnect, and an ads report automation reaches a
//! group chat with its chart.

use crate::common::{Harness, ALICE, BOB};
use std::collections::HashMap;
use std::time::Duration;
use tochen_delivery::ads_pick::pick_payload;
use tochen_delivery::ads_sync::{sync_range, today_in, AdsClients, SyncError};
use tochen_delivery::automations::{run_ads_report, DeliveryDeps};
use tochen_delivery::sources::Sources;
use tochen_domain::ads::{AdLevel, AdMetrics, AdPlatform, Amount, InsightRow};
use tochen_domain::{MissedRunPolicy, SecretString};
use tochen_platforms::ads::connect;
use tochen_platforms::ads::meta::MetaAds;
use tochen_platforms::ads::tiktok::TikTokAds;
use tochen_store::{NewAutomation, NewDestination};
use tochen_telegram::button::{Ads, Button};
use tochen_testkit::fake_meta_ads::FakeMetaAds;
use tochen_testkit::fake_telegram::BotMessage;
use tochen_testkit::fake_tiktok_ads::{self, FakeTikTokAds};
use tochen_testkit::TestDb;

fn query(url: &str) -> HashMap<String, String> {
    reqwest::Url::parse(url).unwrap().query_pairs().map(|(k, v)| (k.to_string(), v.to_string())).collect()
}

/// The browser: follows the sign-in link to the fake provider's dialog and returns the callback's parameters.
async fn consent(link: &str) -> HashMap<String, String> {
    let http = reqwest::Client::builder().redirect(reqwest::redirect::Policy::none()).build().unwrap();
    let resp = http.get(link).send().await.unwrap();
    assert_eq!(resp.status().as_u16(), 302, "the dialog redirects back");
    let to = resp.headers()["location"].to_str().unwrap().to_string();
    assert!(to.starts_with("https://tochen.example/oauth/ads/meta/callback?"), "{to}");
    query(&to)
}

/// What the web service does with a callback and the browser's Confirm: the pick message to the chat.
async fn callback_and_confirm(h: &Harness, p: AdPlatform, params: HashMap<String, String>) {
    let parked = connect::complete(&h.store, &h.config, p, &params).await.unwrap();
    let found = connect::confirm(&h.store, &parked.confirm_token).await.unwrap();
    h.store.enqueue_args(Some(found.sign_in.tenant_id), &pick_payload("en", &found)).await.unwrap();
    h.run_notify_jobs().await;
}

async fn pick_and_keep(h: &Harness, names: &[&str], platform: &str) -> BotMessage {
    let mut msg = h.tg.said(ALICE, 0, &format!("{platform}: ")).await;
    for n in names {
        msg = h.press(ALICE, &msg, n, &format!("{platform}: ")).await;
        assert!(msg.has_button(&format!("☑️ {n}")), "{msg:#?}");
    }
    h.press(ALICE, &msg, "Keep the ticked", "Connected:").await
}

fn row(day: chrono::NaiveDate, level: AdLevel, id: &str, spend: &str, impressions: i64, clicks: i64) -> InsightRow {
    InsightRow {
        day,
        level,
        object_id: id.into(),
        object_name: Some(format!("Campaign {id}")),
        campaign_id: (level == AdLevel::Campaign).then(|| id.to_string()),
        metrics: AdMetrics {
            spend: Some(Amount::parse(spend).unwrap()),
            impressions: Some(impressions),
            clicks: Some(clicks),
            conversions: (id == "good").then(|| Amount::from_int(4)),
            ..Default::default()
        },
    }
}

async fn ads_in_the_chat(db: TestDb) {
    let meta = FakeMetaAds::start().await;
    meta.add_account("1111", "Shop EU", "EUR", "Europe/Berlin");
    meta.add_account("2222", "Shop UK", "GBP", "Europe/London");
    meta.grant_on_login(&["ads_read"], &["1111", "2222"]);
    let tiktok = FakeTikTokAds::start().await;
    tiktok.add_advertiser("7000000000000001", "Shop US", "USD", "America/New_York");
    let (m, t) = (meta.base_url(), tiktok.base_url());
    let env = [
        ("TOCHEN_PUBLIC_URL", "https://tochen.example"),
        ("META_APP_ID", "meta-app"),
        ("META_APP_SECRET", "meta-secret"),
        ("META_GRAPH_URL", m.as_str()),
        ("META_DIALOG_URL", m.as_str()),
        ("TIKTOK_ADS_URL", t.as_str()),
        ("TIKTOK_ADS_APP_ID", fake_tiktok_ads::APP_ID),
        ("TIKTOK_ADS_SECRET", fake_tiktok_ads::SECRET),
    ];
    let h = Harness::start_with_env(&db, &env).await;
    let a = h.onboard(ALICE, "Alpha").await;

    // Meta: /connect, the sign-in link, the browser, then the pick in the chat: only Shop EU is kept.
    let menu = h.say(ALICE, "/connect", "Which account").await;
    let linked = h.press(ALICE, &menu, "Meta ad account", "Open this link").await;
    let link = linked.button("Sign in").expect("a sign-in button");
    assert!(link.contains("scope=ads_read"), "{link}");
    callback_and_confirm(&h, AdPlatform::Meta, consent(&link).await).await;
    let done = pick_and_keep(&h, &["Shop EU"], "Meta Ads").await;
    assert!(done.text.contains("Shop EU") && !done.text.contains("Shop UK"), "{}", done.text);
    let kept = h.store.ad_accounts(a).await.unwrap();
    assert_eq!(kept.iter().map(|k| k.name.as_str()).collect::<Vec<_>>(), ["Shop EU"]);
    let jobs = h.store.jobs_of_kind(tochen_domain::jobs::ADS_SYNC, tochen_domain::JobState::Queued, 10).await;
    assert_eq!(jobs.unwrap().len(), 1, "the backfill is queued on connect");

    // TikTok: the advertiser authorisation brings an auth_code to the callback.
    let menu = h.say(ALICE, "/connect", "Which account").await;
    let linked = h.press(ALICE, &menu, "TikTok ads", "Open this link").await;
    let link = linked.button("Sign in").unwrap();
    let mut params = HashMap::new();
    params.insert("state".to_string(), query(&link)["state"].clone());
    params.insert("auth_code".to_string(), tiktok.auth_code(&["7000000000000001"]));
    callback_and_confirm(&h, AdPlatform::TikTok, params).await;
    pick_and_keep(&h, &["Shop US"], "TikTok Ads").await;
    let accounts = h.store.ad_accounts(a).await.unwrap();
    let eur = accounts.iter().find(|x| x.currency == "EUR").unwrap().clone();
    let usd = accounts.iter().find(|x| x.currency == "USD").unwrap().clone();

    // Numbers: today and yesterday in each account's zone, seeded as a sync stores them.
    for (acc, spend) in [(&eur, ["12.50", "7.25"]), (&usd, ["40.00", "0.10"])] {
        let today = today_in(acc);
        let yesterday = today.pred_opt().unwrap();
        let rows = vec![
            row(today, AdLevel::Account, "acct", spend[0], 1000, 50),
            row(yesterday, AdLevel::Account, "acct", spend[1], 400, 4),
        ];
        h.store.replace_ad_insights(a, acc.id, AdLevel::Account, (yesterday, today), &rows).await.unwrap();
        let campaigns = vec![
            row(today, AdLevel::Campaign, "good", "2.50", 500, 40),
            row(today, AdLevel::Campaign, "bad", "10.00", 500, 10),
        ];
        h.store.replace_ad_insights(a, acc.id, AdLevel::Campaign, (yesterday, today), &campaigns).await.unwrap();
    }
    let screen = h.say(ALICE, "/ads", "Ad accounts").await;
    let text = &screen.text;
    // Shop EU today: 12.50 EUR, 1,000 impressions, 50 clicks: CTR 5.00%, CPC 0.25 EUR, CPM 12.50 EUR.
    assert!(
        text.contains(
            "Today: spend 12.50 EUR · impressions 1,000 · clicks 50 · CTR 5.00% · CPC 0.25 EUR · CPM 12.50 EUR"
        ),
        "{text}"
    );
    assert!(text.contains("Yesterday: spend 7.25 EUR"), "{text}");
    assert!(text.contains("Last 7 days: spend 19.75 EUR · impressions 1,400 · clicks 54"), "{text}");
    assert!(text.contains("Today: spend 40.00 USD"), "{text}");
    assert!(!text.contains("52.50") && !text.contains("59.85"), "currencies are never added: {text}");
    let list = h.press(ALICE, &screen, "Campaigns: Shop EU", "worst first").await;
    let (bad, good) = (list.text.find("Campaign bad").unwrap(), list.text.find("Campaign good").unwrap());
    assert!(bad < good, "spent without results first: {}", list.text);
    assert!(list.text.contains("cost per result 0.63 EUR"), "2.50 / 4: {}", list.text);

    // Another workspace's ad account is refused as out of date.
    let b = h.onboard(BOB, "Beta").await;
    let _ = b;
    let forged = Button::from(Ads::Account { account: eur.id, page: 0 }).encode();
    let bobs = h.say(BOB, "/ads", "No ad account").await;
    let refused = h.press_data_refused(BOB, &bobs, &forged, "out of date").await;
    assert!(!refused.contains("Shop EU"));

    // A revoked token: the sync marks the account and asks the admins to reconnect.
    let mut mc = MetaAds::new(reqwest::Client::new(), reqwest::Url::parse(&m).unwrap(), "v25.0");
    mc.sleep_when_slow = false;
    let tc = TikTokAds::new(
        reqwest::Client::new(),
        reqwest::Url::parse(&t).unwrap(),
        "v1.3",
        fake_tiktok_ads::APP_ID,
        SecretString::new(fake_tiktok_ads::SECRET),
    );
    let clients = AdsClients {
        meta: Some(mc),
        tiktok: Some(tc),
        async_after_days: 14,
        poll_delays: vec![Duration::from_millis(5); 5],
        backfill_days: 30,
    };
    let token = h.store.ad_account_token(a, usd.id).await.unwrap();
    tiktok.revoke(token.expose());
    let today = today_in(&usd);
    let err = sync_range(&h.store, &clients, a, usd.id, (today, today)).await.unwrap_err();
    assert!(matches!(err, SyncError::Reconnect(_)), "{err:?}");
    h.run_notify_jobs().await;
    h.tg.said(ALICE, 0, "must be reconnected").await;
    let screen = h.say(ALICE, "/ads", "Ad accounts").await;
    assert!(screen.text.contains("must be reconnected (/connect)"), "{}", screen.text);

    // An ads report automation to the marketing group, with its chart as a photo.
    let group = -100_555;
    let dest = NewDestination::Telegram { name: "Marketing".into(), chat_id: group };
    let dest = h.store.create_destination(a, &dest).await.unwrap();
    let new = NewAutomation {
        kind: "ads".into(),
        name: "Daily ads".into(),
        cron: "0 9 * * *".into(),
        timezone: "UTC".into(),
        config: serde_json::json!({"period_days": 7, "accounts": [eur.id]}),
        missed_run_policy: MissedRunPolicy::RunOnce,
        max_consecutive_failures: 5,
        created_by: None,
    };
    let auto = h.store.create_automation(a, &new).await.unwrap();
    h.store.set_automation_destinations(a, auto.id, &[dest.id]).await.unwrap();
    let deps = DeliveryDeps { email: None, data_dir: h.config.data_dir.clone(), sources: Sources::Real, run: None };
    // The slot is tomorrow morning: the period ends with today.
    let slot = tochen_domain::clock::now_ms() + 86_400_000;
    assert!(run_ads_report(&h.store, &deps, a, auto.id, &auto.config, slot).await.unwrap());
    h.run_notify_jobs().await;
    let sent = h.tg.messages_in(group);
    let photo = sent.iter().find(|m| m.photo).expect("the chart is a photo in the group");
    let all: String = sent.iter().map(|m| m.text.clone()).collect();
    assert!(all.contains("Ads report: Alpha") && all.contains("19.75 EUR"), "{all}");
    assert!(photo.text.contains("Ads report") || all.contains("spend"), "{all}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn ad_accounts_in_the_chat_sqlite() {
    ads_in_the_chat(TestDb::sqlite().await).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn ad_accounts_in_the_chat_postgres() {
    let Some(db) = TestDb::postgres().await else { return };
    ads_in_the_chat(db).await;
}
