//! Shared setup for the scheduler's behaviour tests: a workspace with an admin, accounts, scheduled posts, a
//! runner on fakes, and a wait helper.
#![allow(dead_code)]

pub mod seed;
pub mod worker;

use std::future::Future;
use std::sync::{Arc, Mutex};
use std::time::Duration;
use tochen_domain::ids::{AccountId, PostId, TenantId};
use tochen_domain::jobs::NotifyPayload;
use tochen_domain::SecretString;
use tochen_domain::{AuthKind, Platform, Role};
use tochen_scheduler::{AutomationRegistry, Backoff, Deps, JobError, Notifier, Publishers, Runner, RunnerConfig};
use tochen_store::Store;
use tochen_store::{BeginPublish, NewAccount, Target, TelegramIdentity, TenantProfile};
use tokio_util::sync::CancellationToken;

pub const ADMIN_TG: i64 = 5001;
pub const AUTHOR_CHAT: i64 = 7007;

pub async fn workspace(store: &Store) -> TenantId {
    let who = TelegramIdentity {
        telegram_id: ADMIN_TG,
        username: Some("anna".into()),
        first_name: "Anna".into(),
        last_name: None,
        language_code: Some("en".into()),
    };
    let admin = store.upsert_user(&who).await.unwrap();
    let t = store.create_tenant("Bloom", &TenantProfile::default(), 0, admin.id).await.unwrap();
    assert_eq!(store.role_of(t.id, admin.id).await.unwrap(), Some(Role::Admin));
    t.id
}

pub async fn account(store: &Store, tenant: TenantId, platform: Platform, external: &str) -> AccountId {
    let auth_kind = match platform {
        Platform::Facebook => AuthKind::FacebookPage,
        Platform::Instagram => AuthKind::InstagramViaPage,
        Platform::TikTok => AuthKind::TikTok,
    };
    let new = NewAccount {
        platform,
        auth_kind,
        external_id: external.into(),
        name: format!("{platform} {external}"),
        access_token: SecretString::new("token"),
        refresh_token: None,
        scopes: vec![],
        token_expires_at: None,
        refresh_expires_at: None,
        connected_by: None,
    };
    store.upsert_account(tenant, &new).await.unwrap().id
}

/// A workspace with a Facebook Page and an Instagram account.
pub async fn facebook_and_instagram(store: &Store) -> (TenantId, AccountId, AccountId) {
    let tenant = workspace(store).await;
    let fb = account(store, tenant, Platform::Facebook, "page-1").await;
    let ig = account(store, tenant, Platform::Instagram, "ig-1").await;
    (tenant, fb, ig)
}

/// A post scheduled at `at` on `accounts`; returns its id and targets.
pub async fn scheduled_post(store: &Store, tenant: TenantId, accounts: &[AccountId], at: i64) -> (PostId, Vec<Target>) {
    let post = store.create_draft(tenant, None, Some(AUTHOR_CHAT), "Autumn menu", "new pumpkin latte").await.unwrap();
    let targets = store.schedule_post(tenant, post.id, post.version, at, accounts, false).await.unwrap();
    (post.id, targets)
}

/// Records messages instead of sending them.
#[derive(Default)]
pub struct RecordingNotifier {
    pub sent: Mutex<Vec<NotifyPayload>>,
}

#[async_trait::async_trait]
impl Notifier for RecordingNotifier {
    async fn send(&self, m: &NotifyPayload) -> Result<(), JobError> {
        self.sent.lock().unwrap().push(m.clone());
        Ok(())
    }
}

pub fn deps(publishers: Publishers, notifier: Arc<RecordingNotifier>) -> Deps {
    Deps {
        publishers,
        notifier,
        refresher: Arc::new(tochen_platforms::refresh::NoRefresher),
        automations: AutomationRegistry::with_builtins(),
        media_urls: Arc::new(|_, id| format!("http://127.0.0.1:1/media/{id}")),
        data_dir: std::env::temp_dir(),
        sources: tochen_scheduler::Sources::Real,
    }
}

pub fn quick_config(owner: &str) -> RunnerConfig {
    RunnerConfig {
        concurrency: 8,
        per_key: 1,
        lease: Duration::from_secs(30),
        shutdown_grace: Duration::from_secs(5),
        backoff: Backoff { base: Duration::from_millis(40), cap: Duration::from_millis(400) },
        max_idle: Duration::from_secs(60),
        blocked_wait: Duration::from_millis(100),
        ..RunnerConfig::new(owner)
    }
}

/// A runner in the background; cancel the token and await the handle to stop it.
pub fn spawn_runner(
    store: &Store,
    handlers: tochen_scheduler::Workers,
    config: RunnerConfig,
) -> (CancellationToken, tokio::task::JoinHandle<anyhow::Result<()>>) {
    let token = CancellationToken::new();
    let runner = Runner::new(store.clone(), handlers, config);
    let handle = tokio::spawn(runner.run(token.clone()));
    (token, handle)
}

/// Polls `cond` every 20 ms until it holds or `timeout` passes; panics with `what` on timeout.
pub async fn wait_for<F, Fut>(what: &str, timeout: Duration, mut cond: F)
where
    F: FnMut() -> Fut,
    Fut: Future<Output = bool>,
{
    let deadline = tokio::time::Instant::now() + timeout;
    while !cond().await {
        assert!(tokio::time::Instant::now() < deadline, "timed out waiting for: {what}");
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
}

/// Starts publishing a target as a runner with a publisher for every platform would.
pub async fn begin(store: &Store, tenant: TenantId, target: tochen_domain::ids::TargetId) -> BeginPublish {
    store.begin_publishing(tenant, target, Platform::ALL).await.expect("begin publishing").1
}
