//! tochen-scheduler: runs the durable job queue (publishing, messages, automations, sweeps) with `tochen-queue`'s
//! runner and the handlers registered here, one per payload type.
//!
//! `run` wires the production dependencies from the configuration; `run_with` takes them explicitly, which is
//! how tests, the crash-test worker and the benchmarks run the same code against fakes. Everything the scheduler
//! does is a job in the `jobs` table, so any number of instances can run side by side on PostgreSQL.

pub mod handlers;
pub mod notices;
pub mod sweeps;

pub use handlers::automation::{AutomationHandler, AutomationRegistry, AutomationRun};
pub use handlers::notify::{Notifier, TelegramNotifier};
pub use handlers::publish::{MediaUrls, Publishers};
pub use handlers::results::{WebhookEventOut, WEBHOOK_EVENT_OUT};
pub use tochen_delivery::sources::Sources;
pub use tochen_queue::{
    owner_name, Backoff, FailureHooks, JobContext, JobError, RunJob, Runner, RunnerConfig, Worker, Workers,
};

use std::sync::Arc;
use std::time::Duration;
use tochen_config::Config;
use tochen_config::{ConfigError, DatabaseKind};
use tochen_domain::jobs;
use tochen_platforms::refresh::TokenRefresher;
use tochen_store::Store;
use tokio_util::sync::CancellationToken;

/// What the scheduler talks to. Production values come from [`Deps::from_config`].
pub struct Deps {
    pub publishers: Publishers,
    pub notifier: Arc<dyn Notifier>,
    pub refresher: Arc<dyn TokenRefresher>,
    pub automations: AutomationRegistry,
    pub media_urls: MediaUrls,
    /// Where media files live (`TOCHEN_DATA_DIR`): images a platform does not take are converted beside them.
    pub data_dir: std::path::PathBuf,
    /// Whose numbers the metrics sync reads and reports and alerts count: sandbox accounts only in sandbox mode.
    pub sources: Sources,
}

impl Deps {
    /// Refuses (naming `TOCHEN_SECRET_KEYS`) when there is no secret key to derive the media signing key from:
    /// URLs signed with a key the web service does not have would be refused when a platform pulls them.
    pub fn from_config(config: &Config, store: &Store) -> Result<Self, ConfigError> {
        let notifier: Arc<dyn Notifier> = match &config.telegram.bot_token {
            Some(token) => Arc::new(TelegramNotifier::new(
                token.expose(),
                config.telegram.api_url.clone(),
                config.data_dir.clone(),
            )),
            None => Arc::new(handlers::notify::NoNotifier),
        };
        let http = reqwest::Client::builder()
            .timeout(Duration::from_secs(120))
            .build()
            .unwrap_or_else(|_| reqwest::Client::new());
        let public_url = config.web.public_url.clone();
        let key = tochen_config::media_signing_key(config)?;
        let sources = Sources::new(tochen_platforms::registry::sandbox_on(config));
        Ok(Self {
            publishers: tochen_platforms::publishers(config, http.clone(), store),
            notifier,
            refresher: tochen_platforms::refresher(config, http),
            automations: handlers::delivery::with_delivery_automations(
                AutomationRegistry::with_builtins(),
                config,
                sources,
            ),
            media_urls: Arc::new(move |tenant, media_id| {
                let exp = tochen_domain::clock::now_ms() / 1000 + MEDIA_URL_TTL_SECS;
                match tochen_domain::MediaId::parse(media_id) {
                    Some(m) => tochen_domain::media_url::sign_media_url(&public_url, &key, tenant, m, exp),
                    None => String::new(),
                }
            }),
            data_dir: config.data_dir.clone(),
            sources,
        })
    }
}

/// How long a media URL handed to a platform stays valid: long enough for slow video processing.
const MEDIA_URL_TTL_SECS: i64 = 24 * 3600;

/// An empty set of workers whose failures are told as the scheduler tells them: a dead job to the workspace's
/// admins, an account that must be reconnected marked and its admins told (`notices`).
pub fn new_workers() -> Workers {
    let mut w = Workers::new();
    w.hooks(Arc::new(notices::Notices));
    w
}

/// Every job kind this scheduler runs, with its handler (registered by payload type).
pub fn handlers(deps: &Deps) -> Workers {
    use handlers::{automation, notify, publish};
    let publishers = Arc::new(deps.publishers.clone());
    let publish = Arc::new(publish::PublishHandler {
        publishers: publishers.clone(),
        media_urls: deps.media_urls.clone(),
        data_dir: deps.data_dir.clone(),
    });
    let mut w = new_workers();
    w.register::<jobs::PublishPayload, _>(publish.clone())
        .register::<jobs::PublishCheckPayload, _>(publish::PublishCheckHandler { publishers, inner: publish })
        .register::<jobs::NotifyJob, _>(notify::NotifyHandler { notifier: deps.notifier.clone() })
        .register::<jobs::WebhookEventPayload, _>(handlers::inbound::WebhookEventHandler)
        .register::<jobs::AutomationRunPayload, _>(automation::AutomationRunHandler::new(Arc::new(
            deps.automations.clone(),
        )))
        .register::<jobs::SweepAutomations, _>(sweeps::AutomationPlanner)
        .register::<jobs::SweepCleanup, _>(sweeps::Cleanup { retention: sweeps::Retention::default() })
        .register::<jobs::SweepTokenRefresh, _>(sweeps::TokenRefresh { refresher: deps.refresher.clone() });
    w
}

/// Runs the scheduler until `shutdown` is cancelled.
pub async fn run(config: Config, store: Store, shutdown: CancellationToken) -> anyhow::Result<()> {
    let deps = Deps::from_config(&config, &store)?;
    run_with(&config, store, deps, shutdown).await
}

/// Runs the runner, the sweeps and the heartbeat with explicit dependencies.
pub async fn run_with(config: &Config, store: Store, deps: Deps, shutdown: CancellationToken) -> anyhow::Result<()> {
    let owner = owner_name();
    let mut rc = RunnerConfig::from_config(owner.clone(), &config.scheduler);
    if config.database.kind == DatabaseKind::Postgres {
        rc.listen_url = Some(config.database.url.expose().to_owned());
    }
    // The sweep timer first: if it cannot start, no heartbeat was written to claim a healthy scheduler.
    let mut cron = sweeps::start(store.clone()).await?;
    // The heartbeat stops with the runner, whether the runner stopped for shutdown or for an error.
    let beat_stop = shutdown.child_token();
    let beat = tokio::spawn(sweeps::heartbeat(store.clone(), owner, Duration::from_secs(15), beat_stop.clone()));
    let mut all = handlers(&deps);
    handlers::delivery::register_jobs(&mut all, config, &store, deps.sources);
    handlers::revoke::register_jobs(&mut all, config);
    handlers::ads::register_jobs(&mut all, config);
    handlers::post_change::register_jobs(&mut all, config, &store);
    let result = Runner::new(store, all, rc).run(shutdown).await;
    beat_stop.cancel();
    if let Err(e) = cron.shutdown().await {
        tracing::warn!(error = %e, "stopping the sweep timer failed");
    }
    let _ = beat.await;
    result
}
