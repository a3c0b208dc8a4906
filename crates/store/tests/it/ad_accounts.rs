//! Ad accounts and their daily insights on SQLite and PostgreSQL: the token encrypted at rest, reconnect, validity,
//! throttle and sync marks, insights replaced per range with missing metrics kept missing and amounts exact, and
//! no access from another workspace.

use chrono::NaiveDate;
use tochen_domain::ads::{AdLevel, AdMetrics, AdPlatform, Amount, InsightRow};
use tochen_domain::{SecretString, TenantId};
use tochen_store::{NewAdAccount, Store, StoreError, TelegramIdentity, TenantProfile};
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

fn meta_account(token: &str) -> NewAdAccount {
    NewAdAccount {
        platform: AdPlatform::Meta,
        account_ref: "1234567890".into(),
        name: "Shop".into(),
        currency: "EUR".into(),
        zone: "Europe/Berlin".into(),
        status: "1".into(),
        disable_reason: Some(0),
        token: SecretString::new(token),
        connected_by: None,
    }
}

fn row(day: &str, id: &str, spend: &str, clicks: Option<i64>) -> InsightRow {
    InsightRow {
        day: d(day),
        level: AdLevel::Campaign,
        object_id: id.into(),
        object_name: Some(format!("Campaign {id}")),
        campaign_id: Some(id.into()),
        metrics: AdMetrics {
            spend: Some(Amount::parse(spend).unwrap()),
            impressions: Some(1000),
            clicks,
            ctr: Some(Amount::parse("3.038890").unwrap()),
            ..AdMetrics::default()
        },
    }
}

store_test!(ad_accounts_keep_tokens_encrypted_and_reconnect, |store| {
    let t = tenant(&store, 1).await;
    let a = store.upsert_ad_account(t, &meta_account("EAAsecret-one")).await.unwrap();
    assert_eq!((a.platform, a.account_ref.as_str(), a.currency.as_str()), (AdPlatform::Meta, "1234567890", "EUR"));
    assert!(a.is_valid && a.last_validated.is_some() && a.synced_through.is_none());
    let raw: String =
        sqlx::query_scalar("SELECT token_enc FROM ad_accounts").fetch_one(store.sql_for_tests()).await.unwrap();
    assert!(!raw.contains("EAAsecret"), "the token is encrypted at rest");
    assert_eq!(store.ad_account_token(t, a.id).await.unwrap().expose(), "EAAsecret-one");

    store.mark_ad_account_invalid(t, a.id, "190: token expired").await.unwrap();
    let bad = store.ad_account(t, a.id).await.unwrap();
    assert!(!bad.is_valid);
    assert_eq!(bad.invalid_reason.as_deref(), Some("190: token expired"));
    assert!(store.ad_accounts_to_sync().await.unwrap().is_empty(), "an invalid account is not synced");

    let again = store.upsert_ad_account(t, &meta_account("EAAsecret-two")).await.unwrap();
    assert_eq!(again.id, a.id, "a reconnect keeps the account");
    assert!(again.is_valid && again.invalid_reason.is_none());
    assert_eq!(store.ad_account_token(t, a.id).await.unwrap().expose(), "EAAsecret-two");
    assert_eq!(store.ad_accounts_to_sync().await.unwrap().len(), 1);

    store.set_ad_account_validated(t, a.id, "2", Some(3)).await.unwrap();
    store.set_ad_account_throttle(t, a.id, Some(123)).await.unwrap();
    store.set_ad_account_synced_through(t, a.id, d("2026-11-30")).await.unwrap();
    store.set_ad_account_synced_through(t, a.id, d("2026-11-01")).await.unwrap();
    let v = store.ad_account(t, a.id).await.unwrap();
    assert_eq!((v.status.as_str(), v.disable_reason, v.throttled_until), ("2", Some(3), Some(123)));
    assert_eq!(v.synced_through, Some(d("2026-11-30")), "never moves back");
});

store_test!(ad_insights_are_replaced_per_range_exactly_and_missing_stays_missing, |store| {
    let t = tenant(&store, 2).await;
    let a = store.upsert_ad_account(t, &meta_account("tok")).await.unwrap();
    let range = (d("2026-11-01"), d("2026-11-03"));
    let first = vec![
        row("2026-11-01", "c1", "123.45", Some(311)),
        row("2026-11-01", "c2", "0.10", None),
        row("2026-11-02", "c1", "0.20", Some(1)),
        row("2026-11-03", "c1", "0.30", Some(2)),
    ];
    assert_eq!(store.replace_ad_insights(t, a.id, AdLevel::Campaign, range, &first).await.unwrap(), 4);
    let got = store.ad_insights(t, a.id, AdLevel::Campaign, range).await.unwrap();
    assert_eq!(got, first, "round trip, exact");
    let c2 = &got[1];
    assert_eq!((c2.metrics.clicks, c2.metrics.reach, c2.metrics.conversions), (None, None, None));
    let total: Amount = got.iter().filter_map(|r| r.metrics.spend).sum();
    assert_eq!(total, Amount::parse("124.05").unwrap());

    // Late attribution: days 2 and 3 restated, day 3 lost its delivery; day 1 is outside the re-read range.
    let restated = vec![row("2026-11-02", "c1", "0.25", Some(1))];
    store.replace_ad_insights(t, a.id, AdLevel::Campaign, (d("2026-11-02"), d("2026-11-03")), &restated).await.unwrap();
    let got = store.ad_insights(t, a.id, AdLevel::Campaign, range).await.unwrap();
    assert_eq!(got.len(), 3);
    assert_eq!(got[2].metrics.spend, Some(Amount::parse("0.25").unwrap()));
    assert!(got.iter().all(|r| r.day != d("2026-11-03")));
    assert!(store.ad_insights(t, a.id, AdLevel::Account, range).await.unwrap().is_empty(), "levels are apart");

    // Many rows go in chunked multi-row inserts.
    let many: Vec<InsightRow> = (0..130).map(|i| row("2026-11-05", &format!("m{i:03}"), "1.01", Some(i))).collect();
    store.replace_ad_insights(t, a.id, AdLevel::Campaign, (d("2026-11-05"), d("2026-11-05")), &many).await.unwrap();
    let got = store.ad_insights(t, a.id, AdLevel::Campaign, (d("2026-11-05"), d("2026-11-05"))).await.unwrap();
    assert_eq!(got.len(), 130);
    assert_eq!(got.iter().filter_map(|r| r.metrics.spend).sum::<Amount>(), Amount::parse("131.30").unwrap());

    store.remove_ad_account(t, a.id).await.unwrap();
    assert!(matches!(store.ad_account(t, a.id).await, Err(StoreError::NotFound(_))));
    assert!(store.ad_insights(t, a.id, AdLevel::Campaign, range).await.unwrap().is_empty());
});

store_test!(ad_accounts_are_invisible_to_other_workspaces, |store| {
    let t = tenant(&store, 3).await;
    let other = tenant(&store, 4).await;
    let a = store.upsert_ad_account(t, &meta_account("tok")).await.unwrap();
    let range = (d("2026-11-01"), d("2026-11-01"));
    store.replace_ad_insights(t, a.id, AdLevel::Campaign, range, &[row("2026-11-01", "c1", "1", None)]).await.unwrap();

    assert!(store.ad_accounts(other).await.unwrap().is_empty());
    assert!(matches!(store.ad_account(other, a.id).await, Err(StoreError::NotFound(_))));
    assert!(matches!(store.ad_account_token(other, a.id).await, Err(StoreError::NotFound(_))));
    assert!(store.ad_insights(other, a.id, AdLevel::Campaign, range).await.unwrap().is_empty());
    let write = store.replace_ad_insights(other, a.id, AdLevel::Campaign, range, &[]).await;
    assert!(matches!(write, Err(StoreError::NotFound(_))), "cannot wipe another workspace's insights");
    assert!(matches!(store.mark_ad_account_invalid(other, a.id, "x").await, Err(StoreError::NotFound(_))));
    assert!(matches!(store.remove_ad_account(other, a.id).await, Err(StoreError::NotFound(_))));
    assert_eq!(store.ad_insights(t, a.id, AdLevel::Campaign, range).await.unwrap().len(), 1);
    assert!(store.ad_account(t, a.id).await.unwrap().is_valid);

    // The same ad account may be connected in two workspaces; each keeps its own token.
    let b = store.upsert_ad_account(other, &meta_account("other-token")).await.unwrap();
    assert_ne!(a.id, b.id);
    assert_eq!(store.ad_account_token(t, a.id).await.unwrap().expose(), "tok");
    assert_eq!(store.ad_account_token(other, b.id).await.unwrap().expose(), "other-token");
});
