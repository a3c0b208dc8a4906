//! Incoming platform webhooks end to end: a signed delivery posted to the web app is stored with its
//! `webhook.event` job in one transaction, and the scheduler's runner turns it into a `notify` job to the team
//! chat or a moved TikTok target. An event left without a job (stored by an older version) is picked up by the
//! cleanup sweep.

use axum::body::Body;
use axum::http::Request;
use std::collections::HashMap;
use std::time::Duration;
use tochen_config::Config;
use tochen_domain::jobs::{SweepCleanup, WebhookEventPayload, NOTIFY, WEBHOOK_EVENT};
use tochen_domain::{AuthKind, JobState, Platform};
use tochen_domain::{SecretString, TenantId};
use tochen_scheduler::handlers::inbound::WebhookEventHandler;
use tochen_scheduler::sweeps::{Cleanup, Retention};
use tochen_scheduler::{Runner, RunnerConfig};
use tochen_store::Store;
use tochen_store::{NewAccount, NewJob, TelegramIdentity, TenantProfile};
use tochen_testkit::fake_graph::sign_meta_webhook;
use tochen_testkit::fake_tiktok::sign_tiktok_webhook;
use tochen_testkit::TestDb;
use tokio_util::sync::CancellationToken;
use tower::ServiceExt;

const META_SECRET: &str = "meta-app-secret";
const TIKTOK_SECRET: &str = "tiktok-client-secret";
const TEAM_CHAT: i64 = -100777;

fn config(db: &TestDb, dir: &tempfile::TempDir) -> Config {
    let env: HashMap<String, String> = [
        ("DATABASE_URL", db.url.as_str()),
        ("TOCHEN_SECRET_KEYS", db.key.as_str()),
        ("TOCHEN_DATA_DIR", dir.path().to_str().unwrap()),
        ("TOCHEN_PUBLIC_URL", "https://tochen.example"),
        ("META_APP_ID", "meta-app"),
        ("META_APP_SECRET", META_SECRET),
        ("TIKTOK_CLIENT_KEY", "tt-key"),
        ("TIKTOK_CLIENT_SECRET", TIKTOK_SECRET),
    ]
    .into_iter()
    .map(|(k, v)| (k.to_string(), v.to_string()))
    .collect();
    Config::from_source(&env).unwrap()
}

async fn post(db: &TestDb, config: &Config, uri: &str, header: (&str, &str), body: &[u8]) -> u16 {
    let state = tochen_web::AppState::new(
        config.clone(),
        db.store.clone(),
        &SecretString::new(db.key.clone()),
        tochen_web::RateLimit { per_second: 10_000, burst: 10_000 },
    );
    let req = Request::post(uri)
        .header("content-type", "application/json")
        .header(header.0, header.1)
        .body(Body::from(body.to_vec()))
        .unwrap();
    tochen_web::app(state).oneshot(req).await.unwrap().status().as_u16()
}

async fn workspace(store: &Store) -> TenantId {
    let who = TelegramIdentity {
        telegram_id: 4242,
        username: None,
        first_name: "Ana".into(),
        last_name: None,
        language_code: Some("en".into()),
    };
    let user = store.upsert_user(&who).await.unwrap();
    let tenant = store.create_tenant("Bakery", &TenantProfile::default(), 0, user.id).await.unwrap().id;
    store.set_team_chat(tenant, Some(TEAM_CHAT)).await.unwrap();
    tenant
}

async fn connect(store: &Store, tenant: TenantId, platform: Platform, kind: AuthKind, ext: &str) -> String {
    let new = NewAccount {
        platform,
        auth_kind: kind,
        external_id: ext.into(),
        name: format!("acct {ext}"),
        access_token: SecretString::new("tok"),
        refresh_token: None,
        scopes: vec![],
        token_expires_at: None,
        refresh_expires_at: None,
        connected_by: None,
    };
    store.upsert_account(tenant, &new).await.unwrap().id.to_db()
}

/// A runner with the `webhook.event` and cleanup handlers only, so the `notify` jobs it creates stay queued.
fn runner(store: &Store) -> (CancellationToken, tokio::task::JoinHandle<anyhow::Result<()>>) {
    let mut h = tochen_scheduler::new_workers();
    h.register::<WebhookEventPayload, _>(WebhookEventHandler)
        .register::<SweepCleanup, _>(Cleanup { retention: Retention::default() });
    let rc = RunnerConfig {
        lease: Duration::from_secs(30),
        max_idle: Duration::from_millis(200),
        blocked_wait: Duration::from_millis(50),
        ..RunnerConfig::new("inbound-test")
    };
    let token = CancellationToken::new();
    (token.clone(), tokio::spawn(Runner::new(store.clone(), h, rc).run(token)))
}

async fn wait_until<F, Fut>(what: &str, mut cond: F)
where
    F: FnMut() -> Fut,
    Fut: std::future::Future<Output = bool>,
{
    let deadline = tokio::time::Instant::now() + Duration::from_secs(30);
    while !cond().await {
        assert!(tokio::time::Instant::now() < deadline, "timed out waiting for: {what}");
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
}

async fn event_statuses(store: &Store) -> Vec<String> {
    let rows: Vec<(String,)> = sqlx::query_as("SELECT status FROM webhook_events ORDER BY received_at")
        .fetch_all(store.sql_for_tests())
        .await
        .unwrap();
    rows.into_iter().map(|(s,)| s).collect()
}

async fn team_notes(store: &Store, tenant: TenantId) -> Vec<String> {
    let jobs = store.tenant_jobs(tenant, JobState::Queued, 50).await.unwrap();
    jobs.into_iter()
        .filter(|j| j.kind == NOTIFY && j.payload["chat_id"] == TEAM_CHAT)
        .map(|j| j.payload["text_html"].as_str().unwrap_or_default().to_string())
        .collect()
}

const COMMENT: &[u8] = br#"{"object":"page","entry":[{"id":"111","time":1790000000,"changes":[{"field":"feed","value":{"item":"comment","verb":"add","comment_id":"c1","post_id":"111_9","from":{"id":"55","name":"Jo\u00e3o"},"message":"Caf\u00e9 please","created_time":1790000000}}]}]}"#;

tochen_testkit::store_test!(
    a_signed_meta_comment_reaches_the_team_chat_after_the_scheduler_runs_its_job,
    |store, db| {
        let dir = tempfile::tempdir().unwrap();
        let config = config(&db, &dir);
        let kinds = tochen_scheduler::handlers(&tochen_scheduler::Deps::from_config(&config, &store).unwrap()).kinds();
        assert!(kinds.iter().any(|k| k == WEBHOOK_EVENT), "the production registry runs webhook.event: {kinds:?}");
        let tenant = workspace(&store).await;
        connect(&store, tenant, Platform::Facebook, AuthKind::FacebookPage, "111").await;

        let sig = sign_meta_webhook(META_SECRET, COMMENT);
        assert_eq!(post(&db, &config, "/webhooks/meta", ("x-hub-signature-256", &sig), COMMENT).await, 200);
        assert_eq!(post(&db, &config, "/webhooks/meta", ("x-hub-signature-256", &sig), COMMENT).await, 200);
        let queued = store.jobs_of_kind(WEBHOOK_EVENT, JobState::Queued, 10).await.unwrap();
        assert_eq!(queued.len(), 1, "a replayed delivery queues nothing more");
        let event_id = queued[0].payload["event_id"].as_str().unwrap().to_string();
        assert_eq!(queued[0].unique_key.as_deref(), Some(format!("webhook.event:{event_id}").as_str()));

        let (stop, handle) = runner(&store);
        wait_until("the webhook.event job succeeds", || async {
            store.jobs_of_kind(WEBHOOK_EVENT, JobState::Succeeded, 10).await.unwrap().len() == 1
        })
        .await;
        stop.cancel();
        handle.await.unwrap().unwrap();

        let notes = team_notes(&store, tenant).await;
        assert_eq!(notes.len(), 1, "{notes:?}");
        assert!(notes[0].contains("João") && notes[0].contains("Café please"), "{notes:?}");
        assert_eq!(event_statuses(&store).await, vec!["processed"]);
        db.store.close().await;
    }
);

tochen_testkit::store_test!(a_tiktok_publicly_available_event_moves_its_target_to_published, |store, db| {
    let dir = tempfile::tempdir().unwrap();
    let config = config(&db, &dir);
    let tenant = workspace(&store).await;
    let account = connect(&store, tenant, Platform::TikTok, AuthKind::TikTok, "open-1").await;
    let now = tochen_domain::clock::now_ms();
    let (post_id, target) = (uuid::Uuid::now_v7().to_string(), uuid::Uuid::now_v7().to_string());
    sqlx::query(
        "INSERT INTO posts (id, tenant_id, status, created_at, updated_at) VALUES ($1, $2, 'publishing', $3, $3)",
    )
    .bind(&post_id)
    .bind(tenant.to_db())
    .bind(now)
    .execute(store.sql_for_tests())
    .await
    .unwrap();
    sqlx::query(
        "INSERT INTO post_targets (id, tenant_id, post_id, account_id, platform, status, platform_ref, created_at, \
         updated_at) VALUES ($1, $2, $3, $4, 'tiktok', 'publishing', 'v_pub_file~v2-1.77', $5, $5)",
    )
    .bind(&target)
    .bind(tenant.to_db())
    .bind(&post_id)
    .bind(&account)
    .bind(now)
    .execute(store.sql_for_tests())
    .await
    .unwrap();

    let body = br#"{"client_key":"tt-key","event":"post.publish.publicly_available","create_time":1790000001,"user_openid":"open-1","content":"{\"publish_id\":\"v_pub_file~v2-1.77\",\"post_id\":\"7301\",\"publish_type\":\"DIRECT_PUBLISH\"}"}"#;
    let sig = sign_tiktok_webhook(TIKTOK_SECRET, chrono::Utc::now().timestamp(), body);
    assert_eq!(post(&db, &config, "/webhooks/tiktok", ("tiktok-signature", &sig), body).await, 200);

    let (stop, handle) = runner(&store);
    wait_until("the target is published", || async {
        let (status,): (String,) = sqlx::query_as("SELECT status FROM post_targets WHERE id = $1")
            .bind(&target)
            .fetch_one(store.sql_for_tests())
            .await
            .unwrap();
        status == "published"
    })
    .await;
    wait_until("the job succeeds", || async {
        store.jobs_of_kind(WEBHOOK_EVENT, JobState::Succeeded, 10).await.unwrap().len() == 1
    })
    .await;
    stop.cancel();
    handle.await.unwrap().unwrap();
    let (post_ref,): (Option<String>,) = sqlx::query_as("SELECT platform_post_id FROM post_targets WHERE id = $1")
        .bind(&target)
        .fetch_one(store.sql_for_tests())
        .await
        .unwrap();
    assert_eq!(post_ref.as_deref(), Some("7301"));
    assert_eq!(event_statuses(&store).await, vec!["processed"]);
    db.store.close().await;
});

tochen_testkit::store_test!(an_event_stored_without_its_job_is_queued_by_the_cleanup_sweep_once, |store, db| {
    let tenant = workspace(&store).await;
    connect(&store, tenant, Platform::Facebook, AuthKind::FacebookPage, "111").await;
    // The crash gap of the old write path: the event row exists, its job was never written.
    let body = std::str::from_utf8(COMMENT).unwrap();
    let orphan = store.record_webhook_event("meta", "orphan", None, body).await.unwrap().unwrap();
    let broken = store.record_webhook_event("meta", "broken", None, "{not json").await.unwrap().unwrap();
    store.record_telegram_update(77, None, r#"{"update_id":77}"#).await.unwrap().unwrap();
    let recent = store.record_inbound_event("meta", "recent", body).await.unwrap().unwrap();
    sqlx::query("UPDATE webhook_events SET received_at = received_at - 120000 WHERE id <> $1")
        .bind(&recent)
        .execute(store.sql_for_tests())
        .await
        .unwrap();
    assert_eq!(
        store.requeue_unprocessed_webhook_events(tochen_domain::clock::now_ms() - 60_000, 100).await.unwrap(),
        2
    );
    assert_eq!(
        store.requeue_unprocessed_webhook_events(tochen_domain::clock::now_ms() - 60_000, 100).await.unwrap(),
        0,
        "idempotent"
    );
    let jobs = store.jobs_of_kind(WEBHOOK_EVENT, JobState::Queued, 10).await.unwrap();
    assert_eq!(jobs.len(), 3, "orphan, broken and the transactional one; never a telegram update");
    sqlx::query("DELETE FROM jobs WHERE unique_key = $1")
        .bind(format!("webhook.event:{orphan}"))
        .execute(store.sql_for_tests())
        .await
        .unwrap();

    // The hourly cleanup sweep queues the orphan's job again; the runner processes all of them.
    store.enqueue(&NewJob::new(&tochen_domain::jobs::SweepCleanup { period: 1 })).await.unwrap();
    let (stop, handle) = runner(&store);
    wait_until("every webhook.event job finished", || async {
        let done = store.jobs_of_kind(WEBHOOK_EVENT, JobState::Succeeded, 10).await.unwrap().len();
        let failed = store.jobs_of_kind(WEBHOOK_EVENT, JobState::Failed, 10).await.unwrap().len();
        done == 2 && failed == 1
    })
    .await;
    stop.cancel();
    handle.await.unwrap().unwrap();
    assert_eq!(store.webhook_event_status(&orphan).await.unwrap().as_deref(), Some("processed"));
    assert_eq!(store.webhook_event_status(&broken).await.unwrap().as_deref(), Some("failed"), "malformed: permanent");
    assert_eq!(team_notes(&store, tenant).await.len(), 2, "orphan and recent, once each");
    db.store.close().await;
});
