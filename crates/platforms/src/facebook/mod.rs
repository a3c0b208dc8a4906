//! Facebook Pages: publishing to a Page's feed (text, photos, videos and Reels), its metrics, Facebook Login (which also connects Instagram
//! accounts through their Page), `debug_token` and revoking a user's grant.

pub mod edit;
pub mod metrics;
pub mod oauth;
pub mod publish;
pub mod tokens;

use crate::graph::GraphHost;
use crate::http::PollPolicy;
use crate::login::Provider;
use crate::module::{ClientDeps, Clients, Connector, PlatformModule, RevokeOutcome};
use crate::refresh::RefreshRule;
use crate::rules::{Counting, MediaNeed, Rules};
use crate::tokens::RevokeError;
use std::sync::Arc;
use tochen_config::Config;
use tochen_domain::{AuthKind, Platform};
use tochen_store::{Store, TokenRevocation};

pub use publish::FacebookPublisher;

/// Facebook's limit on post text.
pub const MAX_CAPTION: usize = 63_206;

/// The Facebook entry of the registry.
pub struct Facebook;

/// The Facebook Page publisher, when Meta's app is configured.
pub fn client(config: &Config, http: reqwest::Client, poll: PollPolicy) -> Option<Arc<FacebookPublisher>> {
    let meta = &config.meta;
    meta.app_id.as_ref()?;
    Some(Arc::new(FacebookPublisher {
        graph: GraphHost::new(http.clone(), meta.graph_url.clone(), &meta.graph_version),
        video_graph: GraphHost::new(http.clone(), meta.graph_video_url.clone(), &meta.graph_version),
        http,
        poll,
    }))
}

/// Whether Meta's app (Facebook Login) is configured: it connects Pages and Instagram accounts through a Page.
pub(crate) fn login_missing(config: &Config) -> Option<&'static str> {
    config.meta.app_id.is_none().then_some("META_APP_ID")
}

impl PlatformModule for Facebook {
    fn platform(&self) -> Platform {
        Platform::Facebook
    }

    fn rules(&self, _config: &Config) -> Rules {
        Rules {
            platform: Platform::Facebook,
            max_caption: MAX_CAPTION,
            counting: Counting::Chars,
            max_hashtags: 30,
            media: MediaNeed::Optional,
            aim_caption: 1500,
            aim_hashtags: (0, 3),
            max_mentions: None,
            links_clickable: true,
        }
    }

    fn colour(&self) -> (u8, u8, u8) {
        (24, 119, 242)
    }

    fn published_actions(&self) -> crate::edit::PublishedActions {
        crate::edit::PublishedActions::ALL
    }
}

#[async_trait::async_trait]
impl Connector for Facebook {
    fn provider(&self, _kind: AuthKind) -> Option<Provider> {
        Some(Provider::Facebook)
    }

    fn refresh_rule(&self, _kind: AuthKind) -> RefreshRule {
        RefreshRule::WarnBeforeExpiry
    }

    fn kinds(&self) -> &'static [AuthKind] {
        &[AuthKind::FacebookPage]
    }

    fn platform_of(&self, _kind: AuthKind) -> Platform {
        Platform::Facebook
    }

    fn missing(&self, config: &Config, _kind: AuthKind) -> Option<&'static str> {
        login_missing(config)
    }

    fn clients(&self, deps: &ClientDeps<'_>) -> Option<Clients> {
        client(deps.config, deps.http.clone(), deps.poll).map(|c| Clients::of(c.clone()).with_editor(c))
    }

    async fn revoke(
        &self,
        store: &Store,
        config: &Config,
        http: &reqwest::Client,
        r: &TokenRevocation,
    ) -> Result<RevokeOutcome, RevokeError> {
        tokens::revoke_grant(store, config, http, r).await
    }
}
