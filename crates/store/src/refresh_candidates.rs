//! The accounts the token-refresh sweep looks at.

use crate::{Result, Store};
use tochen_domain::clock::Millis;
use tochen_domain::{AccountId, AuthKind, TenantId};

/// An account the sweep looks at, with the times that decide what to do.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RefreshCandidate {
    pub tenant_id: TenantId,
    pub account_id: AccountId,
    pub auth_kind: AuthKind,
    pub name: String,
    pub token_expires_at: Option<Millis>,
    pub token_issued_at: Millis,
}

impl Store {
    /// Active accounts of every workspace, for the refresh sweep. This is a system sweep over all workspaces,
    /// like the webhook lookup, so it is not scoped by tenant; every follow-up call is.
    pub async fn refresh_candidates(&self) -> Result<Vec<RefreshCandidate>> {
        let rows: Vec<(String, String, String, String, Option<i64>, i64)> = sqlx::query_as(
            "SELECT tenant_id, id, auth_kind, name, token_expires_at, token_issued_at FROM social_accounts \
             WHERE status = 'active' ORDER BY tenant_id, id",
        )
        .fetch_all(&self.pool)
        .await?;
        let mut out = Vec::with_capacity(rows.len());
        for (tenant, id, kind, name, token_expires_at, token_issued_at) in rows {
            let Some(auth_kind) = AuthKind::parse(&kind) else { continue };
            out.push(RefreshCandidate {
                tenant_id: TenantId::from_db(&tenant)?,
                account_id: AccountId::from_db(&id)?,
                auth_kind,
                name,
                token_expires_at,
                token_issued_at,
            });
        }
        Ok(out)
    }
}
