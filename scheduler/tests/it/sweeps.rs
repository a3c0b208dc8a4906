//! Periodic sweeps on both databases: one job per period, token refresh rules with a fake refresher, expiry
//! warnings, cleanup retention, and the heartbeat.

use crate::common;

use common::*;
use std::sync::{Arc, Mutex};
use tochen_domain::clock::now_ms;
use tochen_domain::ids::AccountId;
use tochen_domain::SecretString;
use tochen_domain::{AccountStatus, AuthKind, JobState, Platform};
use tochen_platforms::refresh::{RefreshError, RefreshRequest, RefreshedTokens, TokenRefresher};
use tochen_scheduler::sweeps::{enqueue_sweep, Cleanup, Retention, TokenRefresh};
use tochen_scheduler::RunJob;
use tochen_store::Store;
use tochen_store::{Job, NewAccount, NewJob};
use tochen_testkit::store_test;

const HOUR: i64 = 3_600_000;

struct FakeRefresher {
    calls: Mutex<Vec<(AuthKind, String)>>,
    invalid: bool,
}

#[async_trait::async_trait]
impl TokenRefresher for FakeRefresher {
    async fn refresh(&self, req: &RefreshRequest) -> Result<RefreshedTokens, RefreshError> {
        let refresh = req.tokens.refresh_token.as_ref().map(|t| t.expose().to_owned()).unwrap_or_default();
        self.calls.lock().unwrap().push((req.auth_kind, refresh.clone()));
        if self.invalid {
            return Err(RefreshError::Invalid("refresh_token is invalid".into()));
        }
        Ok(RefreshedTokens {
            access_token: SecretString::new(format!("access-after-{refresh}")),
            token_expires_at: Some(now_ms() + 24 * HOUR),
            refresh_token: Some(SecretString::new(format!("{refresh}+1"))),
            refresh_expires_at: None,
        })
    }
}

async fn connect(
    store: &Store,
    tenant: tochen_domain::ids::TenantId,
    kind: AuthKind,
    id: &str,
    expires: Option<i64>,
) -> AccountId {
    let platform = match kind {
        AuthKind::TikTok => Platform::TikTok,
        AuthKind::FacebookPage => Platform::Facebook,
        _ => Platform::Instagram,
    };
    let new = NewAccount {
        platform,
        auth_kind: kind,
        external_id: id.into(),
        name: format!("acct {id}"),
        access_token: SecretString::new("access-0"),
        refresh_token: Some(SecretString::new("refresh-0")),
        scopes: vec![],
        token_expires_at: expires,
        refresh_expires_at: None,
        connected_by: None,
    };
    store.upsert_account(tenant, &new).await.unwrap().id
}

fn job() -> Job {
    Job {
        id: tochen_domain::ids::JobId::new(),
        tenant_id: None,
        kind: "sweep".into(),
        payload: serde_json::json!({}),
        run_at: 0,
        attempts: 1,
        max_attempts: 3,
        state: JobState::Running,
        lease_owner: None,
        lease_expires_at: None,
        last_error: None,
        unique_key: None,
        concurrency_key: None,
    }
}

store_test!(each_sweep_period_is_enqueued_once_however_many_instances_tick, |store| {
    let now = now_ms();
    for _ in 0..3 {
        enqueue_sweep(&store, "sweep.cleanup", HOUR, now).await.unwrap();
    }
    enqueue_sweep(&store, "sweep.cleanup", HOUR, now + HOUR).await.unwrap();
    assert_eq!(store.jobs_of_kind("sweep.cleanup", JobState::Queued, 10).await.unwrap().len(), 2);
});

store_test!(the_refresh_sweep_rotates_tiktok_and_renews_day_old_instagram_tokens_only, |store| {
    let tenant = workspace(&store).await;
    let tiktok_due = connect(&store, tenant, AuthKind::TikTok, "tt-due", Some(now_ms() + 2 * HOUR)).await;
    let tiktok_fresh = connect(&store, tenant, AuthKind::TikTok, "tt-fresh", Some(now_ms() + 20 * HOUR)).await;
    let ig_new = connect(&store, tenant, AuthKind::InstagramLogin, "ig-new", Some(now_ms() + 50 * 24 * HOUR)).await;
    let ig_old = connect(&store, tenant, AuthKind::InstagramLogin, "ig-old", Some(now_ms() + 50 * 24 * HOUR)).await;
    sqlx::query("UPDATE social_accounts SET token_issued_at = $1 WHERE id = $2")
        .bind(now_ms() - 25 * HOUR)
        .bind(ig_old.to_db())
        .execute(store.sql_for_tests())
        .await
        .unwrap();
    let fake = Arc::new(FakeRefresher { calls: Mutex::new(vec![]), invalid: false });
    TokenRefresh { refresher: fake.clone() }.run(&store, &job()).await.unwrap();
    let calls = fake.calls.lock().unwrap().clone();
    assert_eq!(calls.len(), 2, "{calls:?}");
    let rotated = store.account_tokens(tenant, tiktok_due).await.unwrap();
    assert_eq!(rotated.refresh_token.unwrap().expose(), "refresh-0+1", "the newest refresh token is stored");
    assert_eq!(rotated.access_token.expose(), "access-after-refresh-0");
    assert_eq!(store.account_tokens(tenant, tiktok_fresh).await.unwrap().access_token.expose(), "access-0");
    assert_eq!(store.account_tokens(tenant, ig_new).await.unwrap().access_token.expose(), "access-0");
    assert_eq!(store.account_tokens(tenant, ig_old).await.unwrap().access_token.expose(), "access-after-refresh-0");

    // The next refresh uses the rotated token, not the dead one.
    sqlx::query("UPDATE social_accounts SET token_expires_at = $1 WHERE id = $2")
        .bind(now_ms() + HOUR)
        .bind(tiktok_due.to_db())
        .execute(store.sql_for_tests())
        .await
        .unwrap();
    TokenRefresh { refresher: fake.clone() }.run(&store, &job()).await.unwrap();
    assert!(fake.calls.lock().unwrap().iter().any(|(_, r)| r == "refresh-0+1"));
});

store_test!(a_refused_refresh_marks_the_account_for_reconnection, |store| {
    let tenant = workspace(&store).await;
    let tt = connect(&store, tenant, AuthKind::TikTok, "tt", Some(now_ms() + HOUR)).await;
    let fake = Arc::new(FakeRefresher { calls: Mutex::new(vec![]), invalid: true });
    TokenRefresh { refresher: fake }.run(&store, &job()).await.unwrap();
    assert_eq!(store.account(tenant, tt).await.unwrap().status, AccountStatus::NeedsReconnect);
});

store_test!(facebook_tokens_are_warned_about_seven_days_and_one_day_ahead_once_each, |store| {
    let tenant = workspace(&store).await;
    let fb = connect(&store, tenant, AuthKind::FacebookPage, "page", Some(now_ms() + 6 * 24 * HOUR)).await;
    let fake = Arc::new(FakeRefresher { calls: Mutex::new(vec![]), invalid: false });
    let sweep = TokenRefresh { refresher: fake.clone() };
    sweep.run(&store, &job()).await.unwrap();
    sweep.run(&store, &job()).await.unwrap();
    let warnings = |store: Store| async move {
        store
            .tenant_jobs(tenant, JobState::Queued, 50)
            .await
            .unwrap()
            .into_iter()
            .filter(|j| j.kind == "notify")
            .count()
    };
    assert_eq!(warnings(store.clone()).await, 1, "one 7-day warning however often the sweep runs");
    sqlx::query("UPDATE social_accounts SET token_expires_at = $1 WHERE id = $2")
        .bind(now_ms() + 20 * HOUR)
        .bind(fb.to_db())
        .execute(store.sql_for_tests())
        .await
        .unwrap();
    sweep.run(&store, &job()).await.unwrap();
    assert_eq!(warnings(store.clone()).await, 2, "then a 1-day warning");
    assert!(fake.calls.lock().unwrap().is_empty(), "facebook tokens are never refreshed");
});

store_test!(cleanup_removes_only_what_is_past_retention, |store| {
    let old = store.enqueue(&NewJob::untyped("noop", serde_json::json!({}))).await.unwrap().unwrap();
    let recent = store.enqueue(&NewJob::untyped("noop", serde_json::json!({}))).await.unwrap().unwrap();
    let queued = store.enqueue(&NewJob::untyped("noop", serde_json::json!({}))).await.unwrap().unwrap();
    for (id, finished) in [(old, now_ms() - 20 * 24 * HOUR), (recent, now_ms() - HOUR)] {
        sqlx::query("UPDATE jobs SET state = 'succeeded', finished_at = $1 WHERE id = $2")
            .bind(finished)
            .bind(id.to_db())
            .execute(store.sql_for_tests())
            .await
            .unwrap();
    }
    store.scheduler_beat("gone", now_ms() - 3 * 24 * HOUR, "0").await.unwrap();
    sqlx::query("UPDATE scheduler_heartbeats SET beat_at = $1")
        .bind(now_ms() - 2 * 24 * HOUR)
        .execute(store.sql_for_tests())
        .await
        .unwrap();
    store.scheduler_beat("alive", now_ms(), "0").await.unwrap();
    Cleanup { retention: Retention::default() }.run(&store, &job()).await.unwrap();
    assert!(store.job(old).await.unwrap().is_none());
    assert!(store.job(recent).await.unwrap().is_some());
    assert!(store.job(queued).await.unwrap().is_some());
    let beats = store.scheduler_heartbeats().await.unwrap();
    assert_eq!(beats.iter().map(|b| b.instance_id.as_str()).collect::<Vec<_>>(), vec!["alive"]);
    assert!(store.last_scheduler_beat().await.unwrap().unwrap() > now_ms() - 5000);
});

store_test!(starting_the_sweep_timer_enqueues_this_periods_sweeps_right_away, |store| {
    let mut timer = tochen_scheduler::sweeps::start(store.clone()).await.unwrap();
    for (kind, _, _) in tochen_scheduler::sweeps::SWEEPS {
        assert_eq!(store.jobs_of_kind(kind, JobState::Queued, 10).await.unwrap().len(), 1, "{kind}");
    }
    // A second instance starting in the same period adds nothing.
    let mut second = tochen_scheduler::sweeps::start(store.clone()).await.unwrap();
    assert_eq!(store.jobs_of_kind("sweep.cleanup", JobState::Queued, 10).await.unwrap().len(), 1);
    timer.shutdown().await.unwrap();
    second.shutdown().await.unwrap();
});
