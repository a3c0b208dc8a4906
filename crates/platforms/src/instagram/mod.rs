//! Instagram professional accounts, connected through their Facebook Page (Facebook Login) or with Instagram
//! Login: publishing through media containers, insights, and Instagram Login's token refresh.

pub mod metrics;
pub mod oauth;
pub mod publish;
pub mod tokens;

use crate::graph::GraphHost;
use crate::http::PollPolicy;
use crate::login::Provider;
use crate::module::{ClientDeps, Clients, Connector, PlatformModule, RevokeOutcome};
use crate::refresh::RefreshRule;
use crate::refresh::{RefreshError, RefreshRequest, RefreshedTokens};
use crate::rules::{Counting, MediaNeed, Rules};
use crate::tokens::RevokeError;
use std::sync::Arc;
use tochen_config::Config;
use tochen_domain::{AuthKind, Platform};
use tochen_store::{Store, TokenRevocation};

pub use publish::InstagramPublisher;

/// Instagram's limit on a caption, hashtags included.
pub const MAX_CAPTION: usize = 2200;

/// The Instagram entry of the registry.
pub struct Instagram;

/// The Instagram publisher, when either way of connecting Instagram is configured.
pub fn client(config: &Config, http: reqwest::Client, poll: PollPolicy) -> Option<Arc<InstagramPublisher>> {
    let meta = &config.meta;
    if meta.app_id.is_none() && meta.instagram_app_id.is_none() {
        return None;
    }
    Some(Arc::new(InstagramPublisher {
        page_graph: GraphHost::new(http.clone(), meta.graph_url.clone(), &meta.graph_version),
        login_graph: GraphHost::new(http, meta.instagram_graph_url.clone(), &meta.graph_version),
        poll,
        max_hashtags: meta.instagram_max_hashtags,
        carousel_max: meta.instagram_carousel_max,
    }))
}

impl PlatformModule for Instagram {
    fn platform(&self) -> Platform {
        Platform::Instagram
    }

    fn rules(&self, config: &Config) -> Rules {
        Rules {
            platform: Platform::Instagram,
            max_caption: MAX_CAPTION,
            counting: Counting::Chars,
            max_hashtags: config.meta.instagram_max_hashtags,
            media: MediaNeed::ImageOrVideo,
            aim_caption: 2000,
            aim_hashtags: (3, 10),
            max_mentions: Some(20),
            links_clickable: false,
        }
    }

    fn colour(&self) -> (u8, u8, u8) {
        (225, 48, 108)
    }
}

#[async_trait::async_trait]
impl Connector for Instagram {
    /// Through a Page, Facebook Login; otherwise Instagram Login.
    fn provider(&self, kind: AuthKind) -> Option<Provider> {
        Some(if kind == AuthKind::InstagramLogin { Provider::Instagram } else { Provider::Facebook })
    }

    /// Instagram Login tokens are refreshed once a day old; a Page's token cannot be, so the admins are warned.
    fn refresh_rule(&self, kind: AuthKind) -> RefreshRule {
        if kind == AuthKind::InstagramLogin {
            RefreshRule::OlderThan(24 * 3_600_000)
        } else {
            RefreshRule::WarnBeforeExpiry
        }
    }

    fn kinds(&self) -> &'static [AuthKind] {
        &[AuthKind::InstagramViaPage, AuthKind::InstagramLogin]
    }

    fn platform_of(&self, _kind: AuthKind) -> Platform {
        Platform::Instagram
    }

    fn missing(&self, config: &Config, kind: AuthKind) -> Option<&'static str> {
        match kind {
            AuthKind::InstagramLogin => config.meta.instagram_app_id.is_none().then_some("INSTAGRAM_APP_ID"),
            _ => crate::facebook::login_missing(config),
        }
    }

    fn clients(&self, deps: &ClientDeps<'_>) -> Option<Clients> {
        client(deps.config, deps.http.clone(), deps.poll).map(Clients::of)
    }

    async fn refresh(
        &self,
        http: &reqwest::Client,
        config: &Config,
        req: &RefreshRequest,
    ) -> Result<RefreshedTokens, RefreshError> {
        match req.auth_kind {
            AuthKind::InstagramLogin => tokens::refresh_instagram(http, config, &req.tokens.access_token).await,
            other => Err(RefreshError::Unsupported(other)),
        }
    }

    async fn revoke(
        &self,
        store: &Store,
        config: &Config,
        http: &reqwest::Client,
        r: &TokenRevocation,
    ) -> Result<RevokeOutcome, RevokeError> {
        match r.auth_kind {
            // Instagram Login has no revocation endpoint.
            AuthKind::InstagramLogin => Ok(RevokeOutcome::NothingToRevoke),
            // Connected through a Page: the grant is the Facebook user's.
            _ => crate::facebook::tokens::revoke_grant(store, config, http, r).await,
        }
    }
}
