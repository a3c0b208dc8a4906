//! Whose numbers count in reports, alerts, data sync and the metrics sync: sandbox accounts' numbers are simulated,
//! so they never mix with real ones unless sandbox mode is on.
//!
//! With sandbox mode off, sandbox accounts and everything of theirs (published and failed posts, their metrics,
//! followers) are left out as if they did not exist. With it on they count beside real accounts, and a report
//! says that sandbox accounts' numbers are simulated (`Report::simulated`). The mode is read once at start-up
//! (`tochen_platforms::registry::sandbox_on`) and handed down as a [`Sources`]; the reads below are the one place
//! the filter is applied, keyed on the account's [`AuthKind`], so a disconnected sandbox account is left out too.

use tochen_domain::clock::Millis;
use tochen_domain::ids::{AccountId, TenantId};
use tochen_domain::{AuthKind, Platform};
use tochen_store::{
    Account, FailedTarget, FollowerChange, MetricValues, PublishedTarget, Store, StoreError, TargetSelection,
};

/// Which accounts' numbers count.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Sources {
    /// Real accounts only: sandbox mode is off.
    Real,
    /// Real and sandbox accounts: sandbox mode is on.
    WithSandbox,
}

impl Sources {
    /// The sources under sandbox mode `sandbox_on` (`tochen_platforms::registry::sandbox_on`).
    pub fn new(sandbox_on: bool) -> Self {
        if sandbox_on {
            Self::WithSandbox
        } else {
            Self::Real
        }
    }

    /// Whether the numbers of accounts connected as `kind` count.
    pub fn counts(self, kind: AuthKind) -> bool {
        self == Self::WithSandbox || !kind.is_sandbox()
    }

    /// The published targets of counted accounts, of one platform or account when given, for the store's period
    /// totals and rankings (`Store::published_totals`, `Store::published_ranked`), which filter in SQL.
    pub fn selection(self, platform: Option<Platform>, account: Option<AccountId>) -> TargetSelection {
        TargetSelection { platform, account, with_sandbox: self == Self::WithSandbox, campaign: None }
    }

    /// Targets published in `[start, end)` on counted accounts, with their latest reading in the period
    /// (`Store::published_targets`).
    pub async fn published_targets(
        self,
        store: &Store,
        tenant: TenantId,
        start: Millis,
        end: Millis,
    ) -> Result<Vec<(PublishedTarget, MetricValues)>, StoreError> {
        let mut all = store.published_targets(tenant, start, end).await?;
        all.retain(|(t, _)| self.counts(t.auth_kind));
        Ok(all)
    }

    /// Failed or unknown targets of counted accounts (`Store::failed_targets`).
    pub async fn failed_targets(
        self,
        store: &Store,
        tenant: TenantId,
        start: Millis,
        end: Millis,
    ) -> Result<Vec<FailedTarget>, StoreError> {
        let mut all = store.failed_targets(tenant, start, end).await?;
        all.retain(|t| self.counts(t.auth_kind));
        Ok(all)
    }

    /// Follower changes of counted accounts (`Store::follower_changes`).
    pub async fn follower_changes(
        self,
        store: &Store,
        tenant: TenantId,
        start: Millis,
        end: Millis,
    ) -> Result<Vec<FollowerChange>, StoreError> {
        let mut all = store.follower_changes(tenant, start, end).await?;
        all.retain(|f| self.counts(f.auth_kind));
        Ok(all)
    }

    /// The counted accounts that are not disconnected (`Store::accounts`).
    pub async fn accounts(self, store: &Store, tenant: TenantId) -> Result<Vec<Account>, StoreError> {
        let mut all = store.accounts(tenant).await?;
        all.retain(|a| self.counts(a.auth_kind));
        Ok(all)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sandbox_accounts_count_only_in_sandbox_mode() {
        assert!(!Sources::new(false).counts(AuthKind::SandboxInstagram));
        assert!(Sources::new(false).counts(AuthKind::InstagramLogin));
        assert!(Sources::new(true).counts(AuthKind::SandboxInstagram));
        assert!(Sources::new(true).counts(AuthKind::FacebookPage));
    }
}
