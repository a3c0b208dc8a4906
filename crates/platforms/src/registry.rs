//! The platform registry: every platform tochen publishes to, one line each in [`MODULES`].
//!
//! A platform is one folder (`facebook/`, `instagram/`, `tiktok/`) whose `mod.rs` implements [`PlatformModule`]:
//! its content rules (which the draft screen, the LLM prompt and the publisher share), the ways an account of it
//! is connected and whether the server is configured for each, its clients (publisher and metrics reader), token
//! refresh and revocation. Everything else in the product asks the registry instead of matching on the platform,
//! so adding a platform is its folder, its line here, its locale keys and its fake.

use crate::http::PollPolicy;
use crate::metrics::MetricsReader;
use crate::publish::Publisher;
use crate::refresh::{RefreshError, RefreshRequest, RefreshedTokens};
use crate::revoke::RevokeOutcome;
use crate::rules::Rules;
use crate::tokens::RevokeError;
use std::collections::HashMap;
use std::sync::Arc;
use tochen_config::Config;
use tochen_domain::{AuthKind, Platform};
use tochen_store::{Store, TokenRevocation};

/// A platform's clients, built once from the configuration.
#[derive(Clone)]
pub struct Clients {
    pub publisher: Arc<dyn Publisher>,
    pub metrics: Arc<dyn MetricsReader>,
}

/// One platform: everything the product needs to know about it and do with it.
#[async_trait::async_trait]
pub trait PlatformModule: Send + Sync {
    fn platform(&self) -> Platform;

    /// The ways an account of this platform is connected (an Instagram account through its Facebook Page or with
    /// Instagram Login), in the order `/connect` offers them.
    fn kinds(&self) -> &'static [AuthKind];

    /// The variable the operator must set before accounts of `kind` can be connected; `None` when it is set.
    fn missing(&self, config: &Config, kind: AuthKind) -> Option<&'static str>;

    /// The platform's rules for a post, with configured limits applied.
    fn rules(&self, config: &Config) -> Rules;

    /// The colour of the platform's series in charts.
    fn colour(&self) -> (u8, u8, u8);

    /// The publisher and metrics reader; `None` when no way of connecting it is configured.
    fn clients(&self, config: &Config, http: reqwest::Client, poll: PollPolicy) -> Option<Clients>;

    /// Exchanges stored tokens of an account of this platform for fresh ones. Platforms whose tokens do not
    /// refresh keep the default.
    async fn refresh(
        &self,
        _http: &reqwest::Client,
        _config: &Config,
        req: &RefreshRequest,
    ) -> Result<RefreshedTokens, RefreshError> {
        Err(RefreshError::Unsupported(req.auth_kind))
    }

    /// Revokes a disconnected account's grant at the provider, where the provider offers that. The default:
    /// there is nothing to revoke (the token is deleted all the same).
    async fn revoke(
        &self,
        _store: &Store,
        _config: &Config,
        _http: &reqwest::Client,
        _r: &TokenRevocation,
    ) -> Result<RevokeOutcome, RevokeError> {
        Ok(RevokeOutcome::NothingToRevoke)
    }
}

/// Every platform, one line each.
pub static MODULES: &[&dyn PlatformModule] =
    &[&crate::facebook::Facebook, &crate::instagram::Instagram, &crate::tiktok::TikTok];

/// The module of `platform`.
pub fn module(platform: Platform) -> &'static dyn PlatformModule {
    // `every_platform_has_exactly_one_module` (below) proves the lookup cannot fail.
    MODULES.iter().copied().find(|m| m.platform() == platform).expect("every platform is in the registry")
}

/// The module through which accounts of `kind` are connected.
pub fn owner(kind: AuthKind) -> &'static dyn PlatformModule {
    // `every_auth_kind_has_exactly_one_owner` (below) proves the lookup cannot fail.
    MODULES.iter().copied().find(|m| m.kinds().contains(&kind)).expect("every auth kind has an owner")
}

/// The platform an account of `kind` publishes to.
pub fn platform_of(kind: AuthKind) -> Platform {
    owner(kind).platform()
}

/// The rules of `platform` under `config`.
pub fn rules(config: &Config, platform: Platform) -> Rules {
    module(platform).rules(config)
}

/// Whether accounts of `kind` can be connected on this server.
pub fn configured(config: &Config, kind: AuthKind) -> bool {
    owner(kind).missing(config, kind).is_none()
}

/// Every way of connecting an account that this server is configured for, in the registry's order.
pub fn connectable(config: &Config) -> Vec<AuthKind> {
    MODULES.iter().flat_map(|m| m.kinds().iter().copied().filter(|k| m.missing(config, *k).is_none())).collect()
}

/// The clients of every configured platform.
pub fn clients(config: &Config, http: reqwest::Client, poll: PollPolicy) -> HashMap<Platform, Clients> {
    MODULES.iter().filter_map(|m| Some((m.platform(), m.clients(config, http.clone(), poll)?))).collect()
}

/// The rules of every platform under one configuration, read once (the bot keeps one).
#[derive(Debug, Clone)]
pub struct RuleBook(HashMap<Platform, Rules>);

impl RuleBook {
    pub fn new(config: &Config) -> Self {
        Self(MODULES.iter().map(|m| (m.platform(), m.rules(config))).collect())
    }

    pub fn get(&self, platform: Platform) -> Rules {
        // Built from every module, and every platform has one (`every_platform_has_exactly_one_module`).
        self.0[&platform]
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn config(vars: &[(&str, &str)]) -> Config {
        let map: HashMap<String, String> = vars.iter().map(|(k, v)| (k.to_string(), v.to_string())).collect();
        Config::from_source(&map).unwrap()
    }

    #[test]
    fn every_platform_has_exactly_one_module() {
        for p in Platform::ALL {
            assert_eq!(MODULES.iter().filter(|m| m.platform() == *p).count(), 1, "{p:?}");
            assert_eq!(module(*p).platform(), *p);
        }
    }

    #[test]
    fn every_auth_kind_has_exactly_one_owner() {
        for k in AuthKind::ALL {
            assert_eq!(MODULES.iter().filter(|m| m.kinds().contains(k)).count(), 1, "{k:?}");
        }
        assert_eq!(platform_of(AuthKind::InstagramViaPage), Platform::Instagram);
        assert_eq!(platform_of(AuthKind::FacebookPage), Platform::Facebook);
    }

    #[test]
    fn configured_follows_the_credentials() {
        assert!(connectable(&config(&[])).is_empty());
        assert!(clients(&config(&[]), reqwest::Client::new(), PollPolicy::default()).is_empty());
        let meta = config(&[("META_APP_ID", "1"), ("META_APP_SECRET", "s")]);
        assert_eq!(connectable(&meta), vec![AuthKind::FacebookPage, AuthKind::InstagramViaPage]);
        assert_eq!(owner(AuthKind::InstagramLogin).missing(&meta, AuthKind::InstagramLogin), Some("INSTAGRAM_APP_ID"));
        assert_eq!(module(Platform::TikTok).missing(&meta, AuthKind::TikTok), Some("TIKTOK_CLIENT_KEY"));
        let ig = config(&[("INSTAGRAM_APP_ID", "1"), ("INSTAGRAM_APP_SECRET", "s")]);
        assert_eq!(connectable(&ig), vec![AuthKind::InstagramLogin]);
        let built = clients(&ig, reqwest::Client::new(), PollPolicy::default());
        assert_eq!(built.keys().copied().collect::<Vec<_>>(), vec![Platform::Instagram]);
        let tt = config(&[("TIKTOK_CLIENT_KEY", "k"), ("TIKTOK_CLIENT_SECRET", "s")]);
        assert!(configured(&tt, AuthKind::TikTok) && !configured(&tt, AuthKind::FacebookPage));
    }

    #[test]
    fn the_configured_instagram_hashtag_limit_reaches_the_rules() {
        let c = config(&[("TOCHEN_INSTAGRAM_MAX_HASHTAGS", "5")]);
        assert_eq!(RuleBook::new(&c).get(Platform::Instagram).max_hashtags, 5);
        assert_eq!(rules(&c, Platform::Facebook).max_hashtags, 30);
    }
}
