//! TikTok creators: publishing videos and photo posts through the Content Posting API, video metrics, TikTok
//! Login with PKCE, the rotating refresh token and revocation.

pub mod metrics;
pub mod oauth;
pub mod publish;
pub mod tokens;

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

pub use publish::{chunk_plan, envelope, envelope_for, TikTokPublisher};

/// TikTok's limit on a video caption, in UTF-16 units.
pub const MAX_CAPTION: usize = 2200;

/// The TikTok entry of the registry.
pub struct TikTok;

/// The TikTok publisher, when TikTok's app is configured.
pub fn client(config: &Config, http: reqwest::Client, poll: PollPolicy) -> Option<Arc<TikTokPublisher>> {
    config.tiktok.client_key.as_ref()?;
    Some(Arc::new(TikTokPublisher {
        http,
        api: config.tiktok.api_url.clone(),
        data_dir: config.data_dir.clone(),
        poll,
        privacy_level: "PUBLIC_TO_EVERYONE".into(),
        chunk_size: 10 * 1024 * 1024,
    }))
}

impl PlatformModule for TikTok {
    fn platform(&self) -> Platform {
        Platform::TikTok
    }

    fn rules(&self, _config: &Config) -> Rules {
        Rules {
            platform: Platform::TikTok,
            max_caption: MAX_CAPTION,
            counting: Counting::Utf16,
            max_hashtags: 30,
            media: MediaNeed::VideoOrPhotos,
            aim_caption: 300,
            aim_hashtags: (3, 5),
            max_mentions: None,
            links_clickable: false,
        }
    }

    fn colour(&self) -> (u8, u8, u8) {
        (37, 244, 238)
    }
}

#[async_trait::async_trait]
impl Connector for TikTok {
    fn provider(&self, _kind: AuthKind) -> Option<Provider> {
        Some(Provider::TikTok)
    }

    /// Access tokens live 24 hours: refreshed when less than 6 are left.
    fn refresh_rule(&self, _kind: AuthKind) -> RefreshRule {
        RefreshRule::BeforeExpiry(6 * 3_600_000)
    }

    fn kinds(&self) -> &'static [AuthKind] {
        &[AuthKind::TikTok]
    }

    fn platform_of(&self, _kind: AuthKind) -> Platform {
        Platform::TikTok
    }

    fn missing(&self, config: &Config, _kind: AuthKind) -> Option<&'static str> {
        config.tiktok.client_key.is_none().then_some("TIKTOK_CLIENT_KEY")
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
        let rt =
            req.tokens.refresh_token.as_ref().ok_or_else(|| RefreshError::Invalid("no refresh token stored".into()))?;
        tokens::refresh_tiktok(http, config, rt).await
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
