//! The platform registry: every platform tochen publishes to, and every way accounts are connected, one line each.
//!
//! A platform is one folder (`facebook/`, `instagram/`, `tiktok/`) whose `mod.rs` implements [`PlatformModule`]
//! (its content rules, which the draft screen, the LLM prompt and the publisher share, and its chart colour) and
//! [`Connector`] (the ways an account of it is connected and whether the server is configured for each, its
//! clients, token refresh and revocation). The sandbox (`sandbox/`) is a connector only: simulated accounts of
//! every platform, under that platform's rules. Everything else in the product asks the registry instead of
//! matching on the platform, so adding a platform is its folder, its lines here, its locale keys and its fake.

use crate::edit::{Editors, PublishedActions};
use crate::http::PollPolicy;
pub use crate::module::{ClientDeps, Clients, Connector, PlatformModule};
use crate::refresh::{RefreshError, RefreshRequest, RefreshedTokens, TokenRefresher};
use crate::rules::{RuleBook, Rules};
use std::collections::HashMap;
use tochen_config::{Config, SandboxMode};
use tochen_domain::{AuthKind, Platform};
use tochen_store::Store;

/// Every platform, one line each.
pub static MODULES: &[&dyn PlatformModule] =
    &[&crate::facebook::Facebook, &crate::instagram::Instagram, &crate::tiktok::TikTok];

/// Every way of connecting accounts, one line each, in the order `/connect` offers them.
pub static CONNECTORS: &[&dyn Connector] =
    &[&crate::facebook::Facebook, &crate::instagram::Instagram, &crate::tiktok::TikTok, &crate::sandbox::Sandbox];

/// The module of `platform`.
pub fn module(platform: Platform) -> &'static dyn PlatformModule {
    // `every_platform_has_exactly_one_module` (below) proves the lookup cannot fail.
    MODULES.iter().copied().find(|m| m.platform() == platform).expect("every platform is in the registry")
}

/// The connector through which accounts of `kind` are connected.
pub fn owner(kind: AuthKind) -> &'static dyn Connector {
    // `every_auth_kind_has_exactly_one_owner` (below) proves the lookup cannot fail.
    CONNECTORS.iter().copied().find(|m| m.kinds().contains(&kind)).expect("every auth kind has an owner")
}

/// The platform an account of `kind` publishes to.
pub fn platform_of(kind: AuthKind) -> Platform {
    owner(kind).platform_of(kind)
}

/// The rules of `platform` under `config`.
pub fn rules(config: &Config, platform: Platform) -> Rules {
    module(platform).rules(config)
}

/// The variable the operator sets before accounts of `kind` can be connected; `None` when they can. A simulated
/// connector also needs sandbox mode on.
pub fn missing(config: &Config, kind: AuthKind) -> Option<&'static str> {
    let owner = owner(kind);
    match owner.missing(config, kind) {
        None if owner.simulated() && !sandbox_on(config) => Some("TOCHEN_SANDBOX"),
        other => other,
    }
}

/// Whether accounts of `kind` can be connected on this server.
pub fn configured(config: &Config, kind: AuthKind) -> bool {
    missing(config, kind).is_none()
}

/// Every way of connecting an account that this server is configured for, in the registry's order.
pub fn connectable(config: &Config) -> Vec<AuthKind> {
    CONNECTORS.iter().flat_map(|m| m.kinds().iter().copied()).filter(|k| configured(config, *k)).collect()
}

/// Every real (not simulated) way of connecting this server is not set up for, with the variable the operator sets.
pub fn not_set_up(config: &Config) -> Vec<(AuthKind, &'static str)> {
    CONNECTORS
        .iter()
        .filter(|m| !m.simulated())
        .flat_map(|m| m.kinds().iter().filter_map(move |k| Some((*k, m.missing(config, *k)?))))
        .collect()
}

/// Whether a real (not simulated) platform is configured: some sign-in other than the sandbox's can be used.
pub fn live(config: &Config) -> bool {
    CONNECTORS.iter().filter(|m| !m.simulated()).any(|m| m.kinds().iter().any(|k| m.missing(config, *k).is_none()))
}

/// Whether sandbox mode is on: `TOCHEN_SANDBOX=true`, or `auto` (the default) while no real platform is configured.
pub fn sandbox_on(config: &Config) -> bool {
    match config.sandbox {
        SandboxMode::On => true,
        SandboxMode::Off => false,
        SandboxMode::Auto => !live(config),
    }
}

/// The clients of every configured way of connecting, by the auth kind of the accounts they serve.
pub fn clients(config: &Config, http: reqwest::Client, poll: PollPolicy, store: &Store) -> HashMap<AuthKind, Clients> {
    let deps = ClientDeps { config, http, poll, store, rules: RuleBook::new(config) };
    let sandbox = sandbox_on(config);
    CONNECTORS
        .iter()
        .filter(|m| sandbox || !m.simulated())
        .filter_map(|m| Some((m, m.clients(&deps)?)))
        .flat_map(|(m, c)| m.kinds().iter().map(move |k| (*k, c.clone())))
        .collect()
}

/// The editors of published posts of the configured ways of connecting that have one (and the sandbox, when on),
/// by the auth kind of the accounts they serve, for the scheduler's `post.change` job.
pub fn editors(config: &Config, http: reqwest::Client, store: &Store) -> Editors {
    clients(config, http, PollPolicy::default(), store).into_iter().filter_map(|(k, c)| Some((k, c.editor?))).collect()
}

/// What an account of `kind` allows on its published posts: its connector's answer (the sandbox allows both), else
/// its platform's.
pub fn published_actions(kind: AuthKind) -> PublishedActions {
    owner(kind).published_actions(kind).unwrap_or_else(|| module(platform_of(kind)).published_actions())
}

impl RuleBook {
    /// The rules of every platform under `config`.
    pub fn new(config: &Config) -> Self {
        Self::from_modules(MODULES.iter().map(|m| (m.platform(), m.rules(config))).collect())
    }
}

/// Refreshes tokens against the configured platforms: each request goes to the connector owning its `AuthKind`.
#[derive(Debug, Clone)]
pub struct PlatformRefresher {
    http: reqwest::Client,
    config: Config,
}

impl PlatformRefresher {
    pub fn new(config: &Config, http: reqwest::Client) -> Self {
        Self { http, config: config.clone() }
    }
}

#[async_trait::async_trait]
impl TokenRefresher for PlatformRefresher {
    async fn refresh(&self, req: &RefreshRequest) -> Result<RefreshedTokens, RefreshError> {
        owner(req.auth_kind).refresh(&self.http, &self.config, req).await
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::rules::Problem;

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
            assert_eq!(CONNECTORS.iter().filter(|m| m.kinds().contains(k)).count(), 1, "{k:?}");
        }
        assert_eq!(platform_of(AuthKind::InstagramViaPage), Platform::Instagram);
        assert_eq!(platform_of(AuthKind::FacebookPage), Platform::Facebook);
        assert_eq!(platform_of(AuthKind::SandboxTikTok), Platform::TikTok);
    }

    #[test]
    fn configured_follows_the_credentials() {
        let off = ("TOCHEN_SANDBOX", "false");
        assert!(connectable(&config(&[off])).is_empty());
        let meta = config(&[off, ("META_APP_ID", "1"), ("META_APP_SECRET", "s")]);
        assert_eq!(connectable(&meta), vec![AuthKind::FacebookPage, AuthKind::InstagramViaPage]);
        assert_eq!(owner(AuthKind::InstagramLogin).missing(&meta, AuthKind::InstagramLogin), Some("INSTAGRAM_APP_ID"));
        assert_eq!(owner(AuthKind::TikTok).missing(&meta, AuthKind::TikTok), Some("TIKTOK_CLIENT_KEY"));
        let ig = config(&[off, ("INSTAGRAM_APP_ID", "1"), ("INSTAGRAM_APP_SECRET", "s")]);
        assert_eq!(connectable(&ig), vec![AuthKind::InstagramLogin]);
        let tt = config(&[off, ("TIKTOK_CLIENT_KEY", "k"), ("TIKTOK_CLIENT_SECRET", "s")]);
        assert!(configured(&tt, AuthKind::TikTok) && !configured(&tt, AuthKind::FacebookPage));
    }

    #[test]
    fn the_sandbox_is_on_while_no_real_platform_is_configured_unless_told() {
        let sandbox = vec![AuthKind::SandboxFacebook, AuthKind::SandboxInstagram, AuthKind::SandboxTikTok];
        let bare = config(&[]);
        assert!(sandbox_on(&bare) && !live(&bare));
        assert_eq!(connectable(&bare), sandbox);
        assert_eq!(
            owner(AuthKind::SandboxFacebook)
                .missing(&config(&[("TOCHEN_SANDBOX", "false")]), AuthKind::SandboxFacebook),
            Some("TOCHEN_SANDBOX")
        );

        let meta = config(&[("META_APP_ID", "1"), ("META_APP_SECRET", "s")]);
        assert!(live(&meta) && !sandbox_on(&meta), "a real platform turns auto off");
        assert_eq!(connectable(&meta), vec![AuthKind::FacebookPage, AuthKind::InstagramViaPage]);
        let both = config(&[("META_APP_ID", "1"), ("META_APP_SECRET", "s"), ("TOCHEN_SANDBOX", "true")]);
        assert!(sandbox_on(&both));
        assert_eq!(connectable(&both)[2..], sandbox[..], "the sandbox comes after the real sign-ins");
    }

    #[test]
    fn each_platform_declares_what_it_allows_on_published_posts_and_the_sandbox_allows_both() {
        assert_eq!(published_actions(AuthKind::FacebookPage), PublishedActions::ALL);
        for k in [AuthKind::InstagramViaPage, AuthKind::InstagramLogin, AuthKind::TikTok] {
            assert_eq!(published_actions(k), PublishedActions::NONE, "{k:?}");
        }
        for k in [AuthKind::SandboxFacebook, AuthKind::SandboxInstagram, AuthKind::SandboxTikTok] {
            assert_eq!(published_actions(k), PublishedActions::ALL, "{k:?}");
        }
    }

    #[tokio::test]
    async fn editors_exist_only_where_editing_is_allowed() {
        let c = config(&[("META_APP_ID", "1"), ("META_APP_SECRET", "s"), ("TOCHEN_SANDBOX", "true")]);
        let db = tochen_testkit::TestDb::sqlite().await;
        let mut kinds: Vec<AuthKind> = editors(&c, reqwest::Client::new(), &db.store).keys().copied().collect();
        kinds.sort_by_key(|k| k.as_str());
        let expected =
            [AuthKind::FacebookPage, AuthKind::SandboxFacebook, AuthKind::SandboxInstagram, AuthKind::SandboxTikTok];
        assert_eq!(kinds, expected);
        for k in kinds {
            assert_ne!(published_actions(k), PublishedActions::NONE, "{k:?} has an editor but allows nothing");
        }
        db.cleanup().await;
    }

    #[test]
    fn the_configured_instagram_hashtag_limit_reaches_the_rules() {
        let c = config(&[("TOCHEN_INSTAGRAM_MAX_HASHTAGS", "5")]);
        assert_eq!(RuleBook::new(&c).get(Platform::Instagram).max_hashtags, 5);
        assert_eq!(rules(&c, Platform::Facebook).max_hashtags, 30);
    }

    fn rules_of(p: Platform) -> Rules {
        rules(&config(&[]), p)
    }

    #[test]
    fn instagram_needs_media_and_respects_the_configured_hashtag_limit() {
        let ig = Rules { max_hashtags: 5, ..rules_of(Platform::Instagram) };
        let tags: Vec<String> = (0..6).map(|i| format!("t{i}")).collect();
        let p = ig.check("hi", &tags, false);
        assert!(p.contains(&Problem::NeedsImageOrVideo));
        assert!(p.contains(&Problem::TooManyHashtags { count: 6, max: 5 }));
        assert!(rules_of(Platform::Facebook).check("hi", &tags[..3], false).is_empty());
    }

    #[test]
    fn long_captions_are_flagged() {
        let body = "x".repeat(2300);
        let p = rules_of(Platform::Instagram).check(&body, &[], true);
        assert_eq!(p, vec![Problem::TooLong { len: 2300, max: 2200 }]);
    }

    #[test]
    fn tiktok_counts_utf16_units() {
        // 1,100 emoji are 1,100 characters but 2,200 UTF-16 units: at the limit, one more is over it.
        let tt = rules_of(Platform::TikTok);
        assert!(tt.check(&"😀".repeat(1100), &[], true).is_empty());
        assert_eq!(tt.check(&"😀".repeat(1101), &[], true), vec![Problem::TooLong { len: 2202, max: 2200 }]);
    }

    #[test]
    fn the_prompt_never_aims_above_the_limits() {
        let ig = Rules { max_hashtags: 5, ..rules_of(Platform::Instagram) };
        assert_eq!(
            ig.prompt_hint(),
            "instagram: caption under 2000 characters (never over 2200), 3-5 hashtags (never more than 5)"
        );
        for p in Platform::ALL {
            let r = rules_of(*p);
            assert!(r.aim_caption <= r.max_caption && r.aim_hashtags.0 <= r.aim_hashtags.1, "{p:?}");
        }
    }
}
