//! The `ads.sync` and `sweep.ads` jobs on both databases, with clients built from the configuration pointing at
//! the fake Marketing API: the sweep queues each valid ad account's daily range, the job reads it, a rate-limited
//! account is retried after the platform's pause, a refused token stops the job.

use crate::common;

use common::*;
use std::collections::HashMap;
use std::time::Duration;
use tochen_config::Config;
use tochen_delivery::ads_sync::AdsClients;
use tochen_domain::ads::{AdLevel, AdPlatform};
use tochen_domain::jobs::{SweepAds, ADS_SYNC, ADS_VALIDATE};
use tochen_domain::{JobState, SecretString};
use tochen_scheduler::handlers::ads::{AdsSweep, AdsSyncHandler, AdsValidateHandler};
use tochen_scheduler::{JobError, RunJob};
use tochen_store::{Job, NewAdAccount, NewJob};
use tochen_testkit::fake_ads::AdDay;
use tochen_testkit::fake_meta_ads::FakeMetaAds;
use tochen_testkit::store_test;

fn config(graph: &str) -> Config {
    let env: HashMap<String, String> = [
        ("META_APP_ID", "app"),
        ("META_APP_SECRET", "secret"),
        ("META_GRAPH_URL", graph),
        ("TOCHEN_ADS_BACKFILL_DAYS", "5"),
    ]
    .into_iter()
    .map(|(k, v)| (k.to_string(), v.to_string()))
    .collect();
    Config::from_source(&env).unwrap()
}

store_test!(the_sweep_queues_daily_syncs_that_read_retry_and_stop, |store| {
    let meta = FakeMetaAds::start().await;
    meta.add_account("42", "Shop", "EUR", "UTC");
    meta.issue_token("EAAtok", &["ads_read"], &["42"]);
    let today = chrono::Utc::now().date_naive();
    meta.put_rows(
        "42",
        (0..5).map(|i| AdDay::campaign(today - chrono::Duration::days(i), "1201", "BF", 1000, 100, 3)).collect(),
    );
    let cfg = config(&meta.base_url());
    let mut clients = AdsClients::from_config(&cfg, reqwest::Client::new());
    clients.meta.as_mut().unwrap().sleep_when_slow = false;
    let tenant = workspace(&store).await;
    let new = NewAdAccount {
        platform: AdPlatform::Meta,
        account_ref: "42".into(),
        name: "Shop".into(),
        currency: "EUR".into(),
        zone: "UTC".into(),
        status: "1".into(),
        disable_reason: Some(0),
        token: SecretString::new("EAAtok"),
        connected_by: None,
    };
    let account = store.upsert_ad_account(tenant, &new).await.unwrap();

    let sweep_job: Job = {
        let id = store.enqueue(&NewJob::new(&SweepAds { period: 1 })).await.unwrap().unwrap();
        store.job(id).await.unwrap().unwrap()
    };
    AdsSweep { backfill_days: clients.backfill_days }.run(&store, &sweep_job).await.unwrap();
    let jobs = store.jobs_of_kind(ADS_SYNC, JobState::Queued, 10).await.unwrap();
    assert_eq!(jobs.len(), 1, "one daily job per valid ad account");
    let job = &jobs[0];
    assert_eq!(job.payload["since"], (today - chrono::Duration::days(4)).to_string());
    assert_eq!(job.payload["until"], today.to_string());

    let handler = AdsSyncHandler { clients };
    meta.set_usage("42", 100.0);
    match handler.run(&store, job).await {
        Err(JobError::Retryable { retry_after: Some(w), .. }) => assert_eq!(w, Duration::from_secs(300)),
        other => panic!("expected a retry after the pause, got {other:?}"),
    }
    meta.set_usage("42", 0.0);
    store.set_ad_account_throttle(tenant, account.id, None).await.unwrap();
    handler.run(&store, job).await.unwrap();
    let rows = store
        .ad_insights(tenant, account.id, AdLevel::Campaign, (today - chrono::Duration::days(4), today))
        .await
        .unwrap();
    assert_eq!(rows.len(), 5);

    meta.revoke("EAAtok");
    assert!(matches!(handler.run(&store, job).await, Err(JobError::Permanent(_))));
    assert!(!store.ad_account(tenant, account.id).await.unwrap().is_valid);
    let again = {
        let id = store.enqueue(&NewJob::new(&SweepAds { period: 2 })).await.unwrap().unwrap();
        store.job(id).await.unwrap().unwrap()
    };
    AdsSweep { backfill_days: 5 }.run(&store, &again).await.unwrap();
    assert_eq!(
        store.jobs_of_kind(ADS_SYNC, JobState::Queued, 10).await.unwrap().len(),
        1,
        "an invalid account is not planned"
    );
});

store_test!(the_sweep_validates_each_ad_account_and_a_refused_token_asks_for_a_reconnect, |store| {
    let meta = FakeMetaAds::start().await;
    meta.add_account("42", "Shop", "EUR", "UTC");
    meta.issue_token("EAAtok", &["ads_read"], &["42"]);
    let cfg = config(&meta.base_url());
    let mut clients = AdsClients::from_config(&cfg, reqwest::Client::new());
    clients.meta.as_mut().unwrap().sleep_when_slow = false;
    let tenant = workspace(&store).await;
    let new = NewAdAccount {
        platform: AdPlatform::Meta,
        account_ref: "42".into(),
        name: "Shop".into(),
        currency: "EUR".into(),
        zone: "UTC".into(),
        status: "1".into(),
        disable_reason: Some(0),
        token: SecretString::new("EAAtok"),
        connected_by: None,
    };
    let account = store.upsert_ad_account(tenant, &new).await.unwrap();
    let sweep_job: Job = {
        let id = store.enqueue(&NewJob::new(&SweepAds { period: 7 })).await.unwrap().unwrap();
        store.job(id).await.unwrap().unwrap()
    };
    AdsSweep { backfill_days: 5 }.run(&store, &sweep_job).await.unwrap();
    let jobs = store.jobs_of_kind(ADS_VALIDATE, JobState::Queued, 10).await.unwrap();
    assert_eq!(jobs.len(), 1, "one validation per valid ad account");
    let handler = AdsValidateHandler { clients };
    // The platform disabled the account for an unpaid bill: the status is recorded with the time of the check.
    meta.set_status("42", 3, 0);
    handler.run(&store, &jobs[0]).await.unwrap();
    let a = store.ad_account(tenant, account.id).await.unwrap();
    assert_eq!((a.status.as_str(), a.is_valid), ("3", true));
    assert!(a.last_validated.is_some());
    meta.revoke("EAAtok");
    assert!(matches!(handler.run(&store, &jobs[0]).await, Err(JobError::Permanent(_))));
    let a = store.ad_account(tenant, account.id).await.unwrap();
    assert!(!a.is_valid && a.invalid_reason.is_some());
    let notices = store.tenant_jobs(tenant, JobState::Queued, 20).await.unwrap();
    assert!(
        notices
            .iter()
            .any(|j| j.kind == "notify" && j.payload["text_html"].as_str().unwrap_or("").contains("reconnected")),
        "the admins are asked to reconnect"
    );
});
