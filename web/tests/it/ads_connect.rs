//! Connecting ad accounts through the web callback on SQLite and PostgreSQL: Facebook Login with `ads_read` against
//! the fake Marketing API, the TikTok for Business advertiser flow against its fake; the confirmation page first,
//! then the chat's pick where only the ticked accounts are kept (token encrypted), single-use at every step, and
//! another workspace's admin cannot take the pick.

use crate::common::{form_token, workspace};
use std::collections::HashMap;
use tochen_domain::ads::AdPlatform;
use tochen_domain::{JobState, SecretString};
use tochen_platforms::ads::connect::{authorize_url, found, keep, toggle};
use tochen_testkit::fake_ads::AdDay;
use tochen_testkit::fake_meta_ads::FakeMetaAds;
use tochen_testkit::fake_tiktok_ads::{self, FakeTikTokAds};
use tochen_web::{AppState, RateLimit};

fn config(meta: &str, tiktok: &str, dir: &str) -> tochen_config::Config {
    let env: HashMap<String, String> = [
        ("META_APP_ID", "meta-app"),
        ("META_APP_SECRET", "meta-app-secret"),
        ("META_GRAPH_URL", meta),
        ("META_DIALOG_URL", meta),
        ("TIKTOK_ADS_URL", tiktok),
        ("TIKTOK_ADS_APP_ID", fake_tiktok_ads::APP_ID),
        ("TIKTOK_ADS_SECRET", fake_tiktok_ads::SECRET),
        ("TOCHEN_PUBLIC_URL", "https://tochen.example"),
        ("TOCHEN_DATA_DIR", dir),
    ]
    .into_iter()
    .map(|(k, v)| (k.to_string(), v.to_string()))
    .collect();
    tochen_config::Config::from_source(&env).unwrap()
}

fn state_of(url: &str) -> String {
    url::Url::parse(url).unwrap().query_pairs().find(|(k, _)| k == "state").unwrap().1.to_string()
}

tochen_testkit::store_test!(ad_accounts_connect_through_the_callback_and_only_ticked_ones_are_kept, |store, db| {
    let meta = FakeMetaAds::start().await;
    meta.add_account("1111", "Shop EU", "EUR", "Europe/Berlin");
    meta.add_account("2222", "Shop UK", "GBP", "Europe/London");
    meta.add_account("3333", "Old shop", "EUR", "Europe/Berlin");
    meta.set_status("3333", 2, 1);
    meta.put_rows(
        "1111",
        vec![AdDay::campaign(chrono::NaiveDate::from_ymd_opt(2026, 11, 1).unwrap(), "1", "A", 100, 10, 1)],
    );
    meta.grant_on_login(&["ads_read"], &["1111", "2222", "3333"]);
    let tiktok = FakeTikTokAds::start().await;
    tiktok.add_advertiser("7000000000000001", "Shop US", "USD", "America/New_York");
    tiktok.add_advertiser("7000000000000002", "Shop MX", "MXN", "America/Mexico_City");
    let dir = tempfile::tempdir().unwrap();
    let config = config(&meta.base_url(), &tiktok.base_url(), dir.path().to_str().unwrap());
    let state = AppState::new(
        config.clone(),
        store.clone(),
        &SecretString::new(db.key.clone()),
        RateLimit { per_second: 10_000, burst: 10_000 },
    );
    let w = crate::common::Web {
        state,
        graph: tochen_testkit::fake_graph::FakeGraph::start().await,
        tiktok: tochen_testkit::fake_tiktok::FakeTikTok::start().await,
        store: store.clone(),
        dir,
    };
    let (tenant, user) = workspace(&store).await;

    // Meta: the dialog asks for ads_read only and comes back to the ads callback.
    let url = authorize_url(&store, &config, tenant, user, 4242, AdPlatform::Meta).await.unwrap();
    assert!(url.contains("/v25.0/dialog/oauth?") && url.contains("scope=ads_read&"), "{url}");
    let callback = crate::common::consent(&url).await;
    assert!(callback.starts_with("/oauth/ads/meta/callback?"), "{callback}");
    let (status, _, page) = w.get(&callback).await;
    assert_eq!(status, 200, "{page}");
    assert!(page.contains("Shop UK (GBP, Europe/London)") && page.contains("Ana (@ana)"), "{page}");
    assert!(page.contains("action=\"https://tochen.example/oauth/ads/confirm\""), "{page}");
    let (replayed, _, _) = w.get(&callback).await;
    assert_eq!(replayed, 400, "the state is single-use");
    assert!(store.ad_accounts(tenant).await.unwrap().is_empty(), "nothing before the confirmation");
    let token = form_token(&page);
    let (status, _, _) = w.post_form("/oauth/ads/confirm", &[("token", &token), ("action", "confirm")]).await;
    assert_eq!(status, 200);
    let (again, _, _) = w.post_form("/oauth/ads/confirm", &[("token", &token), ("action", "confirm")]).await;
    assert_eq!(again, 400, "a confirmation is single-use");
    let jobs = store.tenant_jobs(tenant, JobState::Queued, 20).await.unwrap();
    let ask = jobs.iter().find(|j| j.kind == "notify").expect("the chat is asked to pick");
    let buttons = ask.payload["buttons"].as_array().unwrap();
    assert_eq!(buttons.len(), 4, "three accounts and Keep: {buttons:?}");
    let data = buttons[1][0]["callback_data"].as_str().unwrap();
    let Some(tochen_telegram::button::Button::Ads(tochen_telegram::button::Ads::Toggle { sign_in, index })) =
        tochen_telegram::button::Button::decode(data)
    else {
        panic!("{data}")
    };
    // Another workspace's admin cannot see or take the pick.
    let (other_tenant, other_user) = {
        let who = tochen_store::TelegramIdentity {
            telegram_id: 777,
            username: None,
            first_name: "Eve".into(),
            last_name: None,
            language_code: None,
        };
        let u = store.upsert_user(&who).await.unwrap();
        let t = store.create_tenant("Other", &tochen_store::TenantProfile::default(), 0, u.id).await.unwrap();
        (t.id, u.id)
    };
    assert!(toggle(&store, other_tenant, other_user, &sign_in, index).await.is_err());
    assert!(keep(&store, other_tenant, other_user, &sign_in).await.is_err());
    assert!(toggle(&store, tenant, user, &sign_in, 9).await.is_err(), "no such account");
    let f = toggle(&store, tenant, user, &sign_in, index).await.unwrap();
    assert_eq!(f.sign_in.picked, vec![1]);
    toggle(&store, tenant, user, &sign_in, 0).await.unwrap();
    toggle(&store, tenant, user, &sign_in, 0).await.unwrap();
    assert_eq!(found(&store, tenant, user, &sign_in).await.unwrap().sign_in.picked, vec![1], "ticked twice: off");
    let kept = keep(&store, tenant, user, &sign_in).await.unwrap();
    assert_eq!(kept.len(), 1);
    let uk = &kept[0];
    assert_eq!((uk.account_ref.as_str(), uk.currency.as_str(), uk.zone.as_str()), ("2222", "GBP", "Europe/London"));
    assert!(keep(&store, tenant, user, &sign_in).await.is_err(), "the pick is single-use");
    let stored: String = sqlx::query_scalar("SELECT token_enc FROM ad_accounts WHERE id = $1")
        .bind(uk.id.to_db())
        .fetch_one(store.sql_for_tests())
        .await
        .unwrap();
    let clear = store.ad_account_token(tenant, uk.id).await.unwrap();
    assert!(clear.expose().starts_with("EAAlong"), "the long-lived token is kept");
    assert!(!stored.contains(clear.expose()), "encrypted at rest");
    let left: i64 =
        sqlx::query_scalar("SELECT COUNT(*) FROM ad_sign_ins").fetch_one(store.sql_for_tests()).await.unwrap();
    assert_eq!(left, 0, "the sign-in and the tokens of the accounts not kept are gone");

    // TikTok: the advertiser authorisation page, then the callback with auth_code (and code).
    let url = authorize_url(&store, &config, tenant, user, 4242, AdPlatform::TikTok).await.unwrap();
    assert!(url.contains("/portal/auth?app_id=7000000000000000001"), "{url}");
    let code = tiktok.auth_code(&["7000000000000001", "7000000000000002"]);
    let cb = format!("/oauth/ads/tiktok/callback?auth_code={code}&code={code}&state={}", state_of(&url));
    let (status, _, page) = w.get(&cb).await;
    assert_eq!(status, 200, "{page}");
    assert!(page.contains("Shop MX (MXN, America/Mexico_City)"), "{page}");
    let token = form_token(&page);
    let (status, _, _) = w.post_form("/oauth/ads/confirm", &[("token", &token), ("action", "confirm")]).await;
    assert_eq!(status, 200);
    let jobs = store.tenant_jobs(tenant, JobState::Queued, 20).await.unwrap();
    let ask = jobs.iter().rev().find(|j| j.kind == "notify").unwrap();
    let data = ask.payload["buttons"][0][0]["callback_data"].as_str().unwrap().to_string();
    let (_, fields) = tochen_telegram::button::split(&data);
    toggle(&store, tenant, user, fields[0], 0).await.unwrap();
    let kept = keep(&store, tenant, user, fields[0]).await.unwrap();
    assert_eq!((kept[0].account_ref.as_str(), kept[0].currency.as_str()), ("7000000000000001", "USD"));

    // A refused consent and a cancelled page store nothing and tell the chat.
    let url = authorize_url(&store, &config, tenant, user, 4242, AdPlatform::TikTok).await.unwrap();
    let (status, _, _) = w.get(&format!("/oauth/ads/tiktok/callback?state={}", state_of(&url))).await;
    assert_eq!(status, 200, "no code: refused consent");
    let url = authorize_url(&store, &config, tenant, user, 4242, AdPlatform::TikTok).await.unwrap();
    let code = tiktok.auth_code(&["7000000000000002"]);
    let (_, _, page) = w.get(&format!("/oauth/ads/tiktok/callback?auth_code={code}&state={}", state_of(&url))).await;
    let (status, _, _) =
        w.post_form("/oauth/ads/confirm", &[("token", &form_token(&page)), ("action", "cancel")]).await;
    assert_eq!(status, 200);
    assert_eq!(store.ad_accounts(tenant).await.unwrap().len(), 2);
    let (status, _, _) = w.get("/oauth/ads/nowhere/callback?state=x").await;
    assert_eq!(status, 404);
    let (status, _, _) = w.get("/oauth/ads/meta/callback?state=forged&code=x").await;
    assert_eq!(status, 400, "an unknown state stores nothing");
});
