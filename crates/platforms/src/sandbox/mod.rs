//! The sandbox: simulated Facebook, Instagram and TikTok accounts, so that the whole product works with only a bot
//! token. It is a [`Connector`] and nothing else: a sandbox account publishes under the real platform's
//! [`Rules`](crate::rules::Rules) (caption limits, media required), through the real pipeline (jobs, `publishing`
//! committed first, settle, the author told, outgoing webhooks), to a simulated platform inside the process that
//! keeps the post in the store (`sandbox_posts`) and hands back a permalink to a page on the web service. Its
//! metrics are simulated ([`simulate`]): they grow over hours and days, the same at the same moment.
//!
//! On while no real platform is configured (`TOCHEN_SANDBOX=auto`, the default), or when asked for (`true`).
//! Connecting is one tap: no credentials, no sign-in. Accounts are marked 🧪 wherever they are shown.

pub mod edit;
pub mod publish;
pub mod simulate;

use crate::module::{ClientDeps, Clients, Connector};
use publish::SandboxPlatform;
use std::sync::Arc;
use tochen_config::Config;
use tochen_config::SandboxMode;
use tochen_domain::ids::{TenantId, UserId};
use tochen_domain::secret::SecretString;
use tochen_domain::{AuthKind, Platform};
use tochen_store::{Account, NewAccount, Store, StoreError};

/// The sandbox entry of the registry.
pub struct Sandbox;

/// The sandbox kind of each platform, and back.
const KINDS: &[(AuthKind, Platform)] = &[
    (AuthKind::SandboxFacebook, Platform::Facebook),
    (AuthKind::SandboxInstagram, Platform::Instagram),
    (AuthKind::SandboxTikTok, Platform::TikTok),
];

#[async_trait::async_trait]
impl Connector for Sandbox {
    fn kinds(&self) -> &'static [AuthKind] {
        &[AuthKind::SandboxFacebook, AuthKind::SandboxInstagram, AuthKind::SandboxTikTok]
    }

    fn platform_of(&self, kind: AuthKind) -> Platform {
        KINDS.iter().find(|(k, _)| *k == kind).map(|(_, p)| *p).unwrap_or(Platform::Facebook)
    }

    /// Only an explicit `TOCHEN_SANDBOX=false` is "not set up" here: whether `auto` means on is the registry's
    /// question (`registry::sandbox_on`), as it depends on the other connectors.
    fn missing(&self, config: &Config, _kind: AuthKind) -> Option<&'static str> {
        (config.sandbox == SandboxMode::Off).then_some("TOCHEN_SANDBOX")
    }

    fn simulated(&self) -> bool {
        true
    }

    /// The simulated platform edits and deletes what it keeps, so the whole flow can be tried in the sandbox.
    fn published_actions(&self, _kind: AuthKind) -> Option<crate::edit::PublishedActions> {
        Some(crate::edit::PublishedActions::ALL)
    }

    fn clients(&self, deps: &ClientDeps<'_>) -> Option<Clients> {
        let platform = SandboxPlatform::new(deps.store.clone(), deps.rules.clone(), deps.config.web.public_url.clone());
        let editor = Arc::new(edit::SandboxEditor::new(deps.store.clone()));
        Some(Clients::of(Arc::new(platform)).with_editor(editor))
    }
}

/// The id a workspace's sandbox account of `platform` has on the simulated platform: one per workspace and
/// platform, so connecting again finds the same account. It carries the workspace id, a UUIDv7, whose time is
/// when the simulated account's followers started counting.
pub fn external_id(tenant: TenantId, platform: Platform) -> String {
    format!("sandbox-{}-{}", platform.as_str(), tenant.to_db())
}

/// Connects (or reconnects) the workspace's sandbox account of `kind`'s platform: no credentials, one call.
pub async fn connect(
    store: &Store,
    tenant: TenantId,
    workspace_name: &str,
    kind: AuthKind,
    by: Option<UserId>,
) -> Result<Account, StoreError> {
    let platform = Sandbox.platform_of(kind);
    let account = NewAccount {
        platform,
        auth_kind: kind,
        external_id: external_id(tenant, platform),
        name: format!("🧪 {workspace_name}"),
        // Nothing to protect, but the column is a token column like any other: it is encrypted all the same.
        access_token: SecretString::new("sandbox"),
        refresh_token: None,
        scopes: vec!["sandbox".into()],
        token_expires_at: None,
        refresh_expires_at: None,
        connected_by: by,
    };
    store.upsert_account(tenant, &account).await
}
