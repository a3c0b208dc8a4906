//! `tochen_scheduler::run_with` as a whole, on both databases: the configuration read from an environment map, the
//! heartbeat, the sweep timer, every handler (publishing, messages, outgoing webhooks, sweeps) and the runner, with
//! fakes only at the edges (a counting platform over HTTP, a recording notifier, a webhook receiver on 127.0.0.1).

use crate::common;

use common::*;
use std::collections::HashMap;
use std::sync::Arc;
use std::time::Duration;
use tochen_config::Config;
use tochen_delivery::webhook::WebhookSecret;
use tochen_domain::clock::now_ms;
use tochen_domain::jobs::{SWEEP_CLEANUP, SWEEP_METRICS, SWEEP_TOKEN_REFRESH};
use tochen_domain::SecretString;
use tochen_domain::{AuthKind, JobState, Platform, PostStatus, TargetStatus};
use tochen_platforms::publish::Publisher;
use tochen_scheduler::sweeps::SWEEP_AUTOMATIONS;
use tochen_scheduler::Publishers;
use tochen_store::NewDestination;
use tochen_store::Store;
use tochen_testkit::fake_platform::{CountingPlatform, HttpPublisher};
use tochen_testkit::webhook_receiver::WebhookReceiver;
use tochen_testkit::{store_test, TestDb};
use tokio_util::sync::CancellationToken;

const GRACE_SECS: u64 = 5;

/// The scheduler's configuration as production reads it, from variables.
fn config(db: &TestDb, data_dir: &std::path::Path) -> Config {
    let grace = GRACE_SECS.to_string();
    let env: HashMap<String, String> = [
        ("DATABASE_URL", db.url.as_str()),
        ("TOCHEN_SECRET_KEYS", db.key.as_str()),
        ("TOCHEN_DATA_DIR", data_dir.to_str().unwrap()),
        ("TOCHEN_PUBLIC_URL", "https://tochen.example"),
        ("TOCHEN_WEBHOOK_ALLOW_PRIVATE", "true"),
        ("SCHEDULER_CONCURRENCY", "8"),
        ("SCHEDULER_LEASE_SECS", "30"),
        ("SCHEDULER_SHUTDOWN_GRACE_SECS", grace.as_str()),
    ]
    .into_iter()
    .map(|(k, v)| (k.to_string(), v.to_string()))
    .collect();
    Config::from_source(&env).unwrap()
}

/// A running `run_with` publishing every platform to `platform`.
struct Scheduler {
    stop: CancellationToken,
    handle: tokio::task::JoinHandle<anyhow::Result<()>>,
    notifier: Arc<RecordingNotifier>,
    _dir: tempfile::TempDir,
}

async fn start(store: &Store, db: &TestDb, platform: &CountingPlatform) -> Scheduler {
    let dir = tempfile::tempdir().unwrap();
    let config = config(db, dir.path());
    let publisher: Arc<dyn Publisher> = Arc::new(HttpPublisher::new(platform.url.clone(), Duration::from_secs(10)));
    let publishers: Publishers =
        AuthKind::ALL.iter().filter(|k| !k.is_sandbox()).map(|k| (*k, publisher.clone())).collect();
    let notifier = Arc::new(RecordingNotifier::default());
    let deps = deps(publishers, notifier.clone());
    let stop = CancellationToken::new();
    let handle = tokio::spawn({
        let (store, stop) = (store.clone(), stop.clone());
        async move { tochen_scheduler::run_with(&config, store, deps, stop).await }
    });
    Scheduler { stop, handle, notifier, _dir: dir }
}

impl Scheduler {
    /// Cancels and waits for `run_with` to return, allowing the grace period and some slack for a busy machine.
    async fn stop(self) {
        self.stop.cancel();
        let limit = Duration::from_secs(GRACE_SECS + 10);
        let result = tokio::time::timeout(limit, self.handle).await.expect("run_with returns after its grace period");
        result.unwrap().unwrap();
    }
}

async fn job_of_kind_succeeded(store: &Store, kind: &str) -> bool {
    !store.jobs_of_kind(kind, JobState::Succeeded, 1).await.unwrap().is_empty()
}

/// Chats of the workspace's `notify` jobs, in any state.
async fn notify_chats(store: &Store, tenant: tochen_domain::TenantId) -> Vec<i64> {
    let mut chats = Vec::new();
    for state in JobState::ALL {
        for j in store.tenant_jobs(tenant, *state, 100).await.unwrap() {
            if j.kind == tochen_domain::jobs::NOTIFY {
                chats.push(j.payload["chat_id"].as_i64().unwrap());
            }
        }
    }
    chats
}

store_test!(run_with_publishes_a_scheduled_post_once_tells_the_author_beats_and_runs_the_sweeps, |store, db| {
    let tenant = workspace(&store).await;
    let fb = account(&store, tenant, Platform::Facebook, "page-1").await;
    let hooks = WebhookReceiver::start().await;
    let url = hooks.url.clone();
    let secret = SecretString::new(WebhookSecret::generate().expose());
    store.create_destination(tenant, &NewDestination::Webhook { name: "CRM".into(), url, secret }).await.unwrap();
    let platform = CountingPlatform::start(Duration::ZERO).await;
    let started = now_ms();
    let scheduler = start(&store, &db, &platform).await;

    // The heartbeat /health reads appears.
    wait_for("the heartbeat", Duration::from_secs(10), || async {
        store.last_scheduler_beat().await.unwrap().is_some_and(|beat| beat >= started)
    })
    .await;
    let beats = store.scheduler_heartbeats().await.unwrap();
    assert_eq!(beats.len(), 1, "one instance: {beats:?}");
    assert_eq!(beats[0].version, env!("CARGO_PKG_VERSION"));

    // A post scheduled through the store's normal API, due now, after the scheduler is idle.
    let (post, targets) = scheduled_post(&store, tenant, &[fb], now_ms()).await;
    let target = targets[0].id;
    wait_for("the post to be published", Duration::from_secs(20), || async {
        store.target(tenant, target).await.unwrap().status == TargetStatus::Published
    })
    .await;
    wait_for("the author's chat to be told", Duration::from_secs(20), || async {
        scheduler.notifier.sent.lock().unwrap().iter().any(|m| m.chat_id == AUTHOR_CHAT)
    })
    .await;
    // Outgoing webhooks go through the delivery handlers `run_with` registers from the configuration.
    wait_for("the webhook delivery", Duration::from_secs(20), || async { !hooks.received().is_empty() }).await;
    // Every sweep was enqueued at start-up and its handler ran it.
    for kind in [SWEEP_AUTOMATIONS, SWEEP_CLEANUP, SWEEP_TOKEN_REFRESH, SWEEP_METRICS] {
        wait_for(&format!("a {kind} job to run"), Duration::from_secs(20), || job_of_kind_succeeded(&store, kind))
            .await;
    }
    scheduler.stop().await;

    assert_eq!(platform.counts().get(&target.to_string()).copied(), Some(1), "published exactly once");
    assert_eq!(platform.total(), 1);
    let t = store.target(tenant, target).await.unwrap();
    assert_eq!(t.platform_post_id, Some(format!("post-{target}")));
    assert_eq!(store.post(tenant, post).await.unwrap().status, PostStatus::Published);
    let to_author: Vec<_> =
        notify_chats(&store, tenant).await.into_iter().filter(|chat| *chat == AUTHOR_CHAT).collect();
    assert_eq!(to_author.len(), 1, "one notify job for the author");
    let body: serde_json::Value = serde_json::from_str(&hooks.received()[0].1).unwrap();
    assert_eq!(body["type"], "post.published", "{body}");
    // A stopped instance removes its heartbeat.
    assert!(store.scheduler_heartbeats().await.unwrap().is_empty());
});

store_test!(cancelling_run_with_lets_an_in_flight_publish_finish_within_the_grace_period, |store, db| {
    let tenant = workspace(&store).await;
    let fb = account(&store, tenant, Platform::Facebook, "page-1").await;
    // Every publish takes 500 ms on the platform's side.
    let platform = CountingPlatform::start(Duration::from_millis(500)).await;
    let scheduler = start(&store, &db, &platform).await;
    let (post, targets) = scheduled_post(&store, tenant, &[fb], now_ms()).await;
    let target = targets[0].id;
    // The platform has the request: the job is in flight.
    wait_for("the publish request", Duration::from_secs(20), || async { platform.total() == 1 }).await;
    assert_eq!(store.target(tenant, target).await.unwrap().status, TargetStatus::Publishing);
    scheduler.stop().await;

    // The in-flight job finished and was recorded before `run_with` returned: nothing is left to lease expiry.
    let t = store.target(tenant, target).await.unwrap();
    assert_eq!(t.status, TargetStatus::Published, "{t:?}");
    assert_eq!(store.post(tenant, post).await.unwrap().status, PostStatus::Published);
    let job = store.job_by_unique_key(&format!("publish:{target}")).await.unwrap().unwrap();
    assert_eq!(job.state, JobState::Succeeded);
    assert_eq!(job.attempts, 1);
    assert_eq!(platform.counts().get(&target.to_string()).copied(), Some(1), "published exactly once");
    assert!(store.scheduler_heartbeats().await.unwrap().is_empty());
});
