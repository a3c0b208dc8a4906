//! Platform clients: publishing (Facebook, Instagram, TikTok), metrics reading, token refresh, the OAuth connect
//! flow and the processing of incoming webhook events.
//!
//! Each platform is one folder (`facebook/`, `instagram/`, `tiktok/`) registered in [`registry`]: its rules, its
//! clients, its login, its tokens. Every client follows the platform's published API and takes every base URL
//! from the configuration, so tests run them against the fakes in `tochen-testkit`. The scheduler gets its
//! publishers from [`publishers`], keyed by platform; a platform without credentials in the configuration is
//! simply absent.

pub mod ads;
pub mod edit;
pub mod errors;
pub mod facebook;
pub mod graph;
pub mod http;
pub mod instagram;
pub mod jpeg;
pub mod login;
pub mod media;
pub mod metrics;
pub mod module;
pub mod oauth;
pub mod options;
pub mod pending;
pub mod publish;
pub mod refresh;
pub mod registry;
pub mod revoke;
pub mod rules;
pub mod sandbox;
pub mod sign_in_state;
pub mod tiktok;
pub mod tokens;
pub mod webhook_events;

use crate::publish::Publisher;
use std::collections::HashMap;
use std::sync::Arc;
use tochen_config::Config;
use tochen_domain::AuthKind;
use tochen_store::Store;

pub use facebook::FacebookPublisher;
pub use http::PollPolicy;
pub use instagram::InstagramPublisher;
pub use metrics::{AccountMetrics, MetricsAccount, MetricsReader, PostMetrics};
pub use registry::PlatformRefresher;
pub use rules::{Problem, RuleBook, Rules};
pub use tiktok::TikTokPublisher;

/// The typed clients of every configured platform, built once (tests reach each client's own methods).
#[derive(Clone)]
pub struct PlatformClients {
    pub facebook: Option<Arc<FacebookPublisher>>,
    pub instagram: Option<Arc<InstagramPublisher>>,
    pub tiktok: Option<Arc<TikTokPublisher>>,
}

impl PlatformClients {
    pub fn new(config: &Config, http: reqwest::Client, poll: PollPolicy) -> Self {
        Self {
            facebook: facebook::client(config, http.clone(), poll),
            instagram: instagram::client(config, http.clone(), poll),
            tiktok: tiktok::client(config, http, poll),
        }
    }
}

/// The publishers of every configured way of connecting, by the auth kind of the accounts they publish for.
pub type Publishers = HashMap<AuthKind, Arc<dyn Publisher>>;

/// The publishing clients of the configured platforms (and the sandbox, when on), for the scheduler.
pub fn publishers(config: &Config, http: reqwest::Client, store: &Store) -> Publishers {
    publishers_with(config, http, PollPolicy::default(), store)
}

/// Like [`publishers`], with a chosen polling policy (tests use [`PollPolicy::quick`]).
pub fn publishers_with(config: &Config, http: reqwest::Client, poll: PollPolicy, store: &Store) -> Publishers {
    registry::clients(config, http, poll, store).into_iter().map(|(k, c)| (k, c.publisher)).collect()
}

/// The metrics readers of the configured platforms (and the sandbox, when on), for the metrics-sync job.
pub fn metrics_readers(
    config: &Config,
    http: reqwest::Client,
    store: &Store,
) -> HashMap<AuthKind, Arc<dyn MetricsReader>> {
    registry::clients(config, http, PollPolicy::default(), store).into_iter().map(|(k, c)| (k, c.metrics)).collect()
}

/// The token refresher for the scheduler's refresh sweep.
pub fn refresher(config: &Config, http: reqwest::Client) -> Arc<dyn crate::refresh::TokenRefresher> {
    Arc::new(PlatformRefresher::new(config, http))
}
