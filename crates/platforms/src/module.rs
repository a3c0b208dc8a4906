//! What a platform is to the rest of the product: the [`PlatformModule`] (what a post on it must look like) and
//! the [`Connector`] (how accounts are connected and posted to) that platform folders implement and the registry
//! lists.

use crate::edit::{PostEditor, PublishedActions};
use crate::http::PollPolicy;
use crate::login::Provider;
use crate::metrics::MetricsReader;
use crate::publish::Publisher;
use crate::refresh::{RefreshError, RefreshRequest, RefreshRule, RefreshedTokens};
use crate::rules::{RuleBook, Rules};
use crate::tokens::RevokeError;
use std::sync::Arc;
use tochen_config::Config;
use tochen_domain::{AuthKind, Platform};
use tochen_store::{Store, TokenRevocation};

/// What a revocation job did.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum RevokeOutcome {
    /// The provider revoked the grant.
    Revoked,
    /// Another connected account relies on the same grant: not revoked at the provider, token deleted.
    StillInUse,
    /// The provider has no revocation endpoint, or does not say who granted the token: token deleted.
    NothingToRevoke,
    /// The provider refused for good (the token was already invalid): token deleted.
    Refused(String),
    /// The row was already handled (a retried job).
    AlreadyDone,
}

/// A platform's clients, built once from the configuration.
#[derive(Clone)]
pub struct Clients {
    pub publisher: Arc<dyn Publisher>,
    pub metrics: Arc<dyn MetricsReader>,
    /// Edits and deletes published posts, where the platform allows it (`edit`).
    pub editor: Option<Arc<dyn PostEditor>>,
}

impl Clients {
    /// One client that both publishes and reads metrics.
    pub fn of<C: Publisher + MetricsReader + 'static>(client: Arc<C>) -> Self {
        Self { publisher: client.clone(), metrics: client, editor: None }
    }

    /// The same clients, with `editor` for published posts.
    pub fn with_editor(mut self, editor: Arc<dyn PostEditor>) -> Self {
        self.editor = Some(editor);
        self
    }
}

/// What a connector may build its clients from.
#[derive(Clone)]
pub struct ClientDeps<'a> {
    pub config: &'a Config,
    pub http: reqwest::Client,
    pub poll: PollPolicy,
    /// The simulated platform of sandbox mode keeps what it publishes in the store.
    pub store: &'a Store,
    /// Every platform's rules under `config`.
    pub rules: RuleBook,
}

/// A platform tochen publishes to: what a post on it must look like and how it is drawn.
pub trait PlatformModule: Send + Sync {
    fn platform(&self) -> Platform;

    /// The platform's rules for a post, with configured limits applied.
    fn rules(&self, config: &Config) -> Rules;

    /// The colour of the platform's series in charts.
    fn colour(&self) -> (u8, u8, u8);

    /// What the platform's API allows on a post already published; the default: nothing.
    fn published_actions(&self) -> PublishedActions {
        PublishedActions::NONE
    }
}

/// A way accounts are connected and posted to: a platform's own sign-ins (Facebook Login connects Pages, Instagram
/// Login connects Instagram accounts), or the sandbox's simulated accounts of every platform. Publishing, metrics,
/// token refresh and revocation go to the connector that owns the account's [`AuthKind`].
#[async_trait::async_trait]
pub trait Connector: Send + Sync {
    /// The ways of connecting this connector owns, in the order `/connect` offers them.
    fn kinds(&self) -> &'static [AuthKind];

    /// The platform an account of `kind` publishes to.
    fn platform_of(&self, kind: AuthKind) -> Platform;

    /// The variable the operator must set before accounts of `kind` can be connected; `None` when it is set.
    fn missing(&self, config: &Config, kind: AuthKind) -> Option<&'static str>;

    /// The sign-in (and its callback route) that connects accounts of `kind`; `None` when they connect without one.
    fn provider(&self, _kind: AuthKind) -> Option<Provider> {
        None
    }

    /// How the token of an account of `kind` is kept usable.
    fn refresh_rule(&self, _kind: AuthKind) -> RefreshRule {
        RefreshRule::Never
    }

    /// Whether this connector's accounts are simulated (the sandbox): offered only in sandbox mode, and never what
    /// makes a server "live".
    fn simulated(&self) -> bool {
        false
    }

    /// What an account of `kind` allows on its published posts when the connector decides it (the sandbox's
    /// simulated accounts allow both); `None`, the default: what its platform's module says
    /// (`registry::published_actions`).
    fn published_actions(&self, _kind: AuthKind) -> Option<PublishedActions> {
        None
    }

    /// The publisher and metrics reader for accounts of this connector's kinds; `None` when none of them is
    /// configured.
    fn clients(&self, deps: &ClientDeps<'_>) -> Option<Clients>;

    /// Exchanges stored tokens of an account for fresh ones. Connectors whose tokens do not refresh keep the
    /// default.
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
