//! tochen-web: the public HTTP face of tochen.
//!
//! It serves OAuth callbacks, signed media URLs for platforms to pull, incoming webhooks (Meta, TikTok, and
//! Telegram in webhook mode), and `/health` + `/ready`; Prometheus metrics live on a separate listener so they
//! are never public by accident. Nothing here does slow work inside a request: events are verified, stored and
//! deduplicated, then a job does the rest, so an answer is quick and a crash loses nothing that was acknowledged.
//!
//! [`app`] builds the router (tests drive it with `oneshot` or on port 0); [`run`] binds the listeners, registers
//! the Telegram webhook when that mode is on (in the background, retrying while the Bot API is unreachable, so
//! the platforms' webhooks are served meanwhile), and shuts down gracefully when the token is cancelled.

mod ads_oauth;
pub mod api;
mod client_ip;
mod health;
mod limits;
mod media;
mod middleware;
mod miniapp;
mod oauth;
mod page;
mod sandbox;
mod telegram;
mod webhooks;

use axum::extract::DefaultBodyLimit;
use axum::routing::{get, post};
use axum::Router;
use std::net::SocketAddr;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;
use std::time::Duration;
use tochen_config::Config;
use tochen_domain::media_url::MediaSigningKey;
use tochen_domain::SecretString;
use tochen_store::Store;
use tokio_util::sync::CancellationToken;

pub use client_ip::client_ip;
pub use health::install_recorder;
pub use limits::RateLimit;
pub use limits::{client_key, Limits, SignedRoute};
pub use telegram::{set_webhook, BotLink};
use tochen_domain::readiness::Readiness;

/// Everything a handler needs.
#[derive(Clone)]
pub struct AppState {
    pub store: Store,
    pub config: Arc<Config>,
    pub media_key: MediaSigningKey,
    /// `https://t.me/<bot>` once known, for the "back to the bot" links.
    pub bot_link: BotLink,
    pub ready: Arc<AtomicBool>,
    pub limits: Arc<Limits>,
    /// What the process still waits for (`/ready` reports it).
    pub readiness: Readiness,
}

impl AppState {
    /// State for `config` and `store`. The media key derives from `secret_key`, the first secret key; `rate` is
    /// the per-client limit, and each signed webhook route admits `config.web.rate_limits.webhook_per_second`.
    /// Inside a Tokio runtime a task forgets idle clients every [`limits::FORGET_EVERY`].
    pub fn new(config: Config, store: Store, secret_key: &SecretString, rate: RateLimit) -> Self {
        let shared = Arc::new(
            Limits::new(rate, config.web.rate_limits.webhook_per_second)
                .with_api_per_minute(config.web.rate_limits.api_per_minute),
        );
        if tokio::runtime::Handle::try_current().is_ok() {
            limits::spawn_forgetting(&shared, limits::FORGET_EVERY);
        }
        Self {
            store,
            config: Arc::new(config),
            media_key: MediaSigningKey::derive(secret_key),
            bot_link: BotLink::default(),
            ready: Arc::new(AtomicBool::new(true)),
            limits: shared,
            readiness: Readiness::new(),
        }
    }

    /// State as `run` builds it: the media key from the one secret-key resolution the scheduler uses too
    /// (refused when there is no key), the limits from the configuration.
    pub fn from_config(config: Config, store: Store) -> Result<Self, tochen_config::ConfigError> {
        let secret_key = tochen_config::first_secret_key(&config)?;
        let rate = RateLimit::from(&config.web.rate_limits);
        Ok(Self::new(config, store, &secret_key, rate))
    }
}

/// The public router: OAuth callbacks, media, webhooks, the API, health.
pub fn app(state: AppState) -> Router {
    let max_body = state.config.web.max_body_bytes;
    // Unsigned routes are limited per client address before anything else runs.
    let unsigned = Router::new()
        .route("/oauth/{provider}/callback", get(oauth::callback))
        .route(oauth::CONFIRM_PATH, post(oauth::confirm))
        .route("/oauth/ads/{platform}/callback", get(ads_oauth::callback))
        .route(ads_oauth::CONFIRM_PATH, post(ads_oauth::confirm))
        .route("/media/{tenant}/{media}", get(media::serve))
        .route("/sandbox/{id}", get(sandbox::page))
        .route("/sandbox/{id}/media/{n}", get(sandbox::media))
        .route("/webhooks/meta", get(webhooks::meta_verify))
        .route_layer(axum::middleware::from_fn_with_state(state.clone(), middleware::rate_limit));
    // Signed routes verify first and then apply the limits themselves (`middleware::admit_signed`).
    let signed = Router::new()
        .route("/webhooks/meta", post(webhooks::meta_event))
        .route("/webhooks/tiktok", post(webhooks::tiktok_event))
        .route("/telegram/webhook", post(telegram::update));
    Router::new()
        .merge(unsigned)
        .merge(signed)
        .nest("/api/v1", api::routes(&state))
        .nest("/app", miniapp::routes(&state))
        .route("/health", get(health::health))
        .route("/ready", get(health::ready))
        .layer(DefaultBodyLimit::max(max_body))
        .layer(tower_http::limit::RequestBodyLimitLayer::new(max_body))
        // Uploads stream to disk under their own cap, outside the small JSON body limit above.
        .merge(api::upload_routes(&state))
        .layer(axum::middleware::from_fn(middleware::observe))
        .layer(tower_http::timeout::TimeoutLayer::with_status_code(
            axum::http::StatusCode::REQUEST_TIMEOUT,
            Duration::from_secs(30),
        ))
        .layer(tower_http::request_id::PropagateRequestIdLayer::x_request_id())
        .layer(tower_http::request_id::SetRequestIdLayer::x_request_id(tower_http::request_id::MakeRequestUuid))
        .with_state(state)
}

/// The metrics router, for the private listener.
pub fn metrics_app() -> Router {
    Router::new().route("/metrics", get(health::metrics))
}

/// Runs the web service until `shutdown` is cancelled.
pub async fn run(config: Config, store: Store, shutdown: CancellationToken) -> anyhow::Result<()> {
    run_with(config, store, shutdown, Readiness::new()).await
}

/// `run`, reporting in `readiness` (shared with the other components of the process) what is still waiting.
pub async fn run_with(
    config: Config,
    store: Store,
    shutdown: CancellationToken,
    readiness: Readiness,
) -> anyhow::Result<()> {
    let mut state = AppState::from_config(config.clone(), store)?;
    state.readiness = readiness;
    health::install_recorder();
    let ready = state.ready.clone();
    let listener = tokio::net::TcpListener::bind(config.web.bind).await?;
    let metrics_listener = tokio::net::TcpListener::bind(config.web.metrics_bind).await?;
    tracing::info!(bind = %config.web.bind, metrics = %config.web.metrics_bind, "web service listening");
    // getMe (for the links back to the bot) and setWebhook wait for the Bot API without holding up the listeners.
    let telegram_setup = config.telegram.bot_token.is_some().then(|| {
        let (config, link, readiness, stop) =
            (config.clone(), state.bot_link.clone(), state.readiness.clone(), shutdown.clone());
        tokio::spawn(async move {
            tokio::select! {
                _ = telegram::start_up(&config, &link, &readiness) => {}
                _ = stop.cancelled() => {}
            }
        })
    });
    let s1 = shutdown.clone();
    let metrics = tokio::spawn(async move {
        axum::serve(metrics_listener, metrics_app()).with_graceful_shutdown(s1.cancelled_owned()).await
    });
    let s2 = shutdown.clone();
    let flag = ready.clone();
    let public = axum::serve(listener, app(state).into_make_service_with_connect_info::<SocketAddr>())
        .with_graceful_shutdown(async move {
            s2.cancelled().await;
            flag.store(false, Ordering::SeqCst);
        });
    public.await?;
    metrics.await??;
    if let Some(setup) = telegram_setup {
        setup.abort();
    }
    tracing::info!("web service stopped");
    Ok(())
}
