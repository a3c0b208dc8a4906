//! What a platform is to the rest of the product: the [`PlatformModule`] each platform folder implements and the
//! registry lists.

use crate::http::PollPolicy;
use crate::metrics::MetricsReader;
use crate::publish::Publisher;
use crate::refresh::{RefreshError, RefreshRequest, RefreshedTokens};
use crate::rules::Rules;
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
