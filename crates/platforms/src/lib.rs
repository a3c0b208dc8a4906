//! Platform clients: publishing (Facebook, Instagram, TikTok), metrics reading, token refresh, the OAuth connect
//! flow and the processing of incoming webhook events.
//!
//! Every client follows the platform's published API and takes every base URL from the configuration, so tests run them
//! against the fakes in `tochen-testkit`. The scheduler gets its publishers from [`publishers`], keyed by platform;
//! a platform without credentials in the configuration is simply absent.

pub mod errors;
pub mod facebook;
pub mod graph;
pub mod http;
pub mod instagram;
pub mod jpeg;
pub mod metrics;
pub mod oauth;
pub mod pending;
pub mod publish;
pub mod refresh;
pub mod revoke;
pub mod sign_in_state;
pub mod tiktok;
pub mod tokens;
pub mod webhook_events;

use crate::publish::Publisher;
use std::collections::HashMap;
use std::sync::Arc;
use tochen_config::Config;
use tochen_domain::Platform;

pub use facebook::FacebookPublisher;
pub use http::PollPolicy;
pub use instagram::InstagramPublisher;
pub use metrics::{AccountMetrics, MetricsAccount, MetricsReader, PostMetrics};
pub use tiktok::TikTokPublisher;
pub use tokens::{facebook_token_info, refresh_instagram, refresh_tiktok, PlatformRefresher, TokenInfo};

/// The clients of every configured platform, built once.
#[derive(Clone)]
pub struct PlatformClients {
    pub facebook: Option<Arc<FacebookPublisher>>,
    pub instagram: Option<Arc<InstagramPublisher>>,
    pub tiktok: Option<Arc<TikTokPublisher>>,
}

impl PlatformClients {
    pub fn new(config: &Config, http: reqwest::Client, poll: PollPolicy) -> Self {
        let meta = &config.meta;
        let page_graph = graph::GraphHost::new(http.clone(), meta.graph_url.clone(), &meta.graph_version);
        let login_graph = graph::GraphHost::new(http.clone(), meta.instagram_graph_url.clone(), &meta.graph_version);
        let meta_on = meta.app_id.is_some();
        let ig_on = meta_on || meta.instagram_app_id.is_some();
        Self {
            facebook: meta_on.then(|| Arc::new(FacebookPublisher { graph: page_graph.clone() })),
            instagram: ig_on.then(|| Arc::new(InstagramPublisher { page_graph, login_graph, poll, max_hashtags: 30 })),
            tiktok: config.tiktok.client_key.is_some().then(|| {
                Arc::new(TikTokPublisher {
                    http,
                    api: config.tiktok.api_url.clone(),
                    data_dir: config.data_dir.clone(),
                    poll,
                    privacy_level: "PUBLIC_TO_EVERYONE".into(),
                    chunk_size: 10 * 1024 * 1024,
                })
            }),
        }
    }
}

/// The publishing clients of the configured platforms, for the scheduler.
pub fn publishers(config: &Config, http: reqwest::Client) -> HashMap<Platform, Arc<dyn Publisher>> {
    publishers_with(config, http, PollPolicy::default())
}

/// Like [`publishers`], with a chosen polling policy (tests use [`PollPolicy::quick`]).
pub fn publishers_with(
    config: &Config,
    http: reqwest::Client,
    poll: PollPolicy,
) -> HashMap<Platform, Arc<dyn Publisher>> {
    let c = PlatformClients::new(config, http, poll);
    let mut out: HashMap<Platform, Arc<dyn Publisher>> = HashMap::new();
    if let Some(p) = c.facebook {
        out.insert(Platform::Facebook, p);
    }
    if let Some(p) = c.instagram {
        out.insert(Platform::Instagram, p);
    }
    if let Some(p) = c.tiktok {
        out.insert(Platform::TikTok, p);
    }
    out
}

/// The metrics readers of the configured platforms, for the metrics-sync job.
pub fn metrics_readers(config: &Config, http: reqwest::Client) -> HashMap<Platform, Arc<dyn MetricsReader>> {
    let c = PlatformClients::new(config, http, PollPolicy::default());
    let mut out: HashMap<Platform, Arc<dyn MetricsReader>> = HashMap::new();
    if let Some(p) = c.facebook {
        out.insert(Platform::Facebook, p);
    }
    if let Some(p) = c.instagram {
        out.insert(Platform::Instagram, p);
    }
    if let Some(p) = c.tiktok {
        out.insert(Platform::TikTok, p);
    }
    out
}

/// The token refresher for the scheduler's refresh sweep.
pub fn refresher(config: &Config, http: reqwest::Client) -> Arc<dyn crate::refresh::TokenRefresher> {
    Arc::new(PlatformRefresher::new(config, http))
}
