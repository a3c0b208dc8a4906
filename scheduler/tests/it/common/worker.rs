//! A scheduler process for the crash test: the real runner and handlers, publishing to the
//! counting fake platform over HTTP. Configured by environment variables (set by the test that spawns it):
//! `WORKER_DATABASE_URL`, `WORKER_SECRET_KEY`, `WORKER_PLATFORM_URL`, `WORKER_CONCURRENCY` (default 16),
//! `WORKER_LEASE_MS` (default 2000). Runs until SIGTERM (graceful) or SIGKILL (the point of the test).

use std::sync::Arc;
use std::time::Duration;
use tochen_domain::jobs::NotifyPayload;
use tochen_domain::AuthKind;
use tochen_domain::{SecretBox, SecretString};
use tochen_platforms::publish::Publisher;
use tochen_scheduler::{AutomationRegistry, Deps, JobError, Notifier, Publishers, Runner, RunnerConfig};
use tochen_store::Store;
use tochen_testkit::fake_platform::HttpPublisher;
use tokio_util::sync::CancellationToken;

struct Silent;

#[async_trait::async_trait]
impl Notifier for Silent {
    async fn send(&self, _m: &NotifyPayload) -> Result<(), JobError> {
        Ok(())
    }
}

fn var(name: &str) -> String {
    std::env::var(name).unwrap_or_else(|_| panic!("{name} is not set"))
}

/// Runs the worker until SIGTERM, configured from the environment (see the module docs).
pub async fn run_worker_from_env() -> anyhow::Result<()> {
    let url = var("WORKER_DATABASE_URL");
    let secrets = SecretBox::from_keys(&[SecretString::new(var("WORKER_SECRET_KEY"))])?;
    let concurrency: usize = std::env::var("WORKER_CONCURRENCY").ok().and_then(|v| v.parse().ok()).unwrap_or(16);
    let lease_ms: u64 = std::env::var("WORKER_LEASE_MS").ok().and_then(|v| v.parse().ok()).unwrap_or(2000);
    let store = Store::connect(&url, (concurrency as u32 / 2 + 4).min(24), secrets).await?;
    let publisher: Arc<dyn Publisher> =
        Arc::new(HttpPublisher::new(var("WORKER_PLATFORM_URL"), Duration::from_secs(5)));
    let publishers: Publishers =
        AuthKind::ALL.iter().filter(|k| !k.is_sandbox()).map(|k| (*k, publisher.clone())).collect();
    let deps = Deps {
        publishers,
        notifier: Arc::new(Silent),
        refresher: Arc::new(tochen_platforms::refresh::NoRefresher),
        automations: AutomationRegistry::with_builtins(),
        media_urls: Arc::new(|_, id| format!("http://127.0.0.1:1/media/{id}")),
        data_dir: std::env::temp_dir(),
        sources: tochen_scheduler::Sources::Real,
    };
    let mut config = RunnerConfig::new(tochen_scheduler::owner_name());
    config.concurrency = concurrency;
    config.per_key = 1;
    config.lease = Duration::from_millis(lease_ms);
    config.max_idle = Duration::from_secs(2);
    if url.starts_with("postgres") {
        config.listen_url = Some(url.clone());
    }
    let shutdown = CancellationToken::new();
    let stop = shutdown.clone();
    tokio::spawn(async move {
        let mut term = tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate()).expect("signal");
        term.recv().await;
        stop.cancel();
    });
    Runner::new(store.clone(), tochen_scheduler::handlers(&deps), config).run(shutdown).await?;
    store.close().await;
    Ok(())
}
