//! The scheduler's side of tokens that must not outlive their purpose, on both databases: the `account.revoke`
//! job revokes a disconnected account's token at the provider (the fake TikTok), retries while the provider is
//! down and deletes the token when its last attempt fails too; the cleanup sweep deletes sign-ins nobody
//! confirmed or chose from in time, and revocations stuck for a day.

use crate::common;

use common::*;
use std::collections::HashMap;
use std::time::Duration;
use tochen_config::Config;
use tochen_domain::clock::now_ms;
use tochen_domain::jobs::{RevokePayload, ACCOUNT_REVOKE};
use tochen_domain::{AuthKind, JobState, Platform};
use tochen_domain::{SecretString, TenantId};
use tochen_platforms::http::no_redirect_client;
use tochen_platforms::pending::{self, Candidate};
use tochen_scheduler::handlers::revoke::RevokeHandler;
use tochen_scheduler::sweeps::{Cleanup, Retention};
use tochen_scheduler::{JobError, RunJob};
use tochen_store::Store;
use tochen_store::{Job, NewAccount, OAuthState};
use tochen_testkit::fake_tiktok::FakeTikTok;
use tochen_testkit::store_test;

fn config(tiktok: &str) -> Config {
    let env: HashMap<String, String> =
        [("TIKTOK_CLIENT_KEY", "tt-key"), ("TIKTOK_CLIENT_SECRET", "tt-secret"), ("TIKTOK_API_URL", tiktok)]
            .into_iter()
            .map(|(k, v)| (k.to_string(), v.to_string()))
            .collect();
    Config::from_source(&env).unwrap()
}

async fn tiktok_account(store: &Store, tenant: TenantId, open_id: &str, token: &str) -> tochen_domain::AccountId {
    let new = NewAccount {
        platform: Platform::TikTok,
        auth_kind: AuthKind::TikTok,
        external_id: open_id.into(),
        name: "@creator".into(),
        access_token: SecretString::new(token),
        refresh_token: Some(SecretString::new("rft.x")),
        scopes: vec![],
        token_expires_at: None,
        refresh_expires_at: None,
        connected_by: None,
    };
    store.upsert_account(tenant, &new).await.unwrap().id
}

/// The queued `account.revoke` job whose token is still parked, as the runner hands it over on `attempt`.
async fn revoke_job(store: &Store, tenant: TenantId, attempt: i64) -> Job {
    for mut job in store.tenant_jobs(tenant, JobState::Queued, 10).await.unwrap() {
        let Ok(p) = serde_json::from_value::<RevokePayload>(job.payload.clone()) else { continue };
        if job.kind == ACCOUNT_REVOKE && store.token_revocation(tenant, &p.revocation_id).await.unwrap().is_some() {
            job.attempts = attempt;
            return job;
        }
    }
    panic!("disconnecting queued no account.revoke");
}

async fn parked_revocations(store: &Store) -> i64 {
    let (n,): (i64,) =
        sqlx::query_as("SELECT COUNT(*) FROM token_revocations").fetch_one(store.sql_for_tests()).await.unwrap();
    n
}

store_test!(the_revoke_job_revokes_at_the_provider_retries_and_never_keeps_the_token, |store| {
    let tiktok = FakeTikTok::start().await;
    let handler =
        RevokeHandler { config: config(&tiktok.base_url()), http: no_redirect_client(Duration::from_secs(10)) };
    let tenant = workspace(&store).await;
    let (access, _) = tiktok.issue_tokens();
    let acc = tiktok_account(&store, tenant, &tiktok.open_id(), &access).await;
    store.disconnect_account(tenant, acc).await.unwrap();
    let job = revoke_job(&store, tenant, 1).await;
    assert_eq!(job.max_attempts, 8);

    // TikTok is down: retried, the token stays parked (encrypted) for the next attempt.
    tiktok.fail_next("/v2/oauth/revoke/", 503, "internal_error", "unavailable");
    assert!(matches!(handler.run(&store, &job).await, Err(JobError::Retryable { .. })));
    assert_eq!(parked_revocations(&store).await, 1);
    // Up again: revoked, and the last copy of the token is gone.
    handler.run(&store, &job).await.unwrap();
    assert_eq!(tiktok.revocations(), [access]);
    assert_eq!(parked_revocations(&store).await, 0);
    handler.run(&store, &job).await.unwrap();
    assert_eq!(tiktok.revocations().len(), 1, "a job run again finds nothing left to do");

    // Another account whose provider stays down through the last attempt: the token is deleted all the same.
    let (access, _) = tiktok.issue_tokens();
    let acc = tiktok_account(&store, tenant, "open-2", &access).await;
    store.disconnect_account(tenant, acc).await.unwrap();
    let job = revoke_job(&store, tenant, 8).await;
    tiktok.fail_next("/v2/oauth/revoke/", 503, "internal_error", "unavailable");
    handler.run(&store, &job).await.unwrap();
    assert_eq!(parked_revocations(&store).await, 0);
});

store_test!(the_cleanup_sweep_deletes_expired_sign_ins_and_stuck_revocations, |store| {
    let tenant = workspace(&store).await;
    let admin = store.user_by_telegram_id(ADMIN_TG).await.unwrap().unwrap().id;
    let state = OAuthState {
        tenant_id: tenant,
        user_id: admin,
        chat_id: ADMIN_TG,
        platform: Platform::Facebook,
        auth_kind: AuthKind::FacebookPage,
        pkce_verifier: None,
    };
    let candidate = |id: &str| Candidate {
        auth_kind: AuthKind::FacebookPage,
        external_id: id.into(),
        name: id.into(),
        access_token: format!("page-token-{id}"),
        refresh_token: None,
        scopes: vec![],
        token_expires_at: None,
        refresh_expires_at: None,
        grantor_id: None,
    };
    // One sign-in never confirmed and one confirmed but never chosen from, both expired; one still fresh.
    let (unconfirmed, _) = pending::park(&store, &state, &[candidate("1"), candidate("2")]).await.unwrap();
    let (chosen_never, token) = pending::park(&store, &state, &[candidate("3"), candidate("4")]).await.unwrap();
    pending::confirm(&store, &token).await.unwrap();
    let (fresh, _) = pending::park(&store, &state, &[candidate("5"), candidate("6")]).await.unwrap();
    for id in [&unconfirmed, &chosen_never] {
        sqlx::query("UPDATE pending_connections SET expires_at = $1 WHERE id = $2")
            .bind(now_ms() - 1)
            .bind(id)
            .execute(store.sql_for_tests())
            .await
            .unwrap();
    }
    // Two revocations: one stuck for more than a day, one just queued.
    let old = tiktok_account(&store, tenant, "open-old", "act.old").await;
    let new = tiktok_account(&store, tenant, "open-new", "act.new").await;
    store.disconnect_account(tenant, old).await.unwrap();
    sqlx::query("UPDATE token_revocations SET created_at = $1")
        .bind(now_ms() - 25 * 3_600_000)
        .execute(store.sql_for_tests())
        .await
        .unwrap();
    store.disconnect_account(tenant, new).await.unwrap();

    Cleanup { retention: Retention::default() }.run(&store, &sweep_job()).await.unwrap();
    let left: Vec<(String,)> =
        sqlx::query_as("SELECT id FROM pending_connections").fetch_all(store.sql_for_tests()).await.unwrap();
    assert_eq!(left, [(fresh,)], "only the sign-in still in time is kept");
    let kept: Vec<(String,)> =
        sqlx::query_as("SELECT account_id FROM token_revocations").fetch_all(store.sql_for_tests()).await.unwrap();
    assert_eq!(kept, [(new.to_db(),)]);
});

fn sweep_job() -> Job {
    Job {
        id: tochen_domain::ids::JobId::new(),
        tenant_id: None,
        kind: "sweep.cleanup".into(),
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
