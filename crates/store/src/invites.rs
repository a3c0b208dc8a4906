//! One-time, expiring invite codes for `t.me/<bot>?start=<code>` deep links.

use crate::{Result, Store, StoreError};
use rand::Rng;
use tochen_domain::clock::{now_ms, Millis};
use tochen_domain::ids::{InviteId, TenantId, UserId};
use tochen_domain::Role;

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Invite {
    pub id: InviteId,
    pub tenant_id: TenantId,
    /// 22 characters of `[A-Za-z0-9]`, prefixed `inv_` in the deep link payload by the bot.
    pub code: String,
    pub role: Role,
    pub expires_at: Millis,
}

#[derive(Debug, thiserror::Error)]
pub enum RedeemError {
    #[error("this invite link is unknown")]
    Unknown,
    #[error("this invite link has expired")]
    Expired,
    #[error("this invite link was already used")]
    Used,
    #[error(transparent)]
    Store(#[from] StoreError),
}

impl From<sqlx::Error> for RedeemError {
    fn from(e: sqlx::Error) -> Self {
        Self::Store(e.into())
    }
}

pub(crate) fn random_code() -> String {
    const ALPHABET: &[u8] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789";
    let mut rng = rand::thread_rng();
    (0..22).map(|_| ALPHABET[rng.gen_range(0..ALPHABET.len())] as char).collect()
}

impl Store {
    /// Creates a one-time invite for `role` that expires after `ttl_ms`.
    pub async fn create_invite(&self, tenant: TenantId, role: Role, by: UserId, ttl_ms: i64) -> Result<Invite> {
        let now = now_ms();
        let invite =
            Invite { id: InviteId::new(), tenant_id: tenant, code: random_code(), role, expires_at: now + ttl_ms };
        sqlx::query(
            "INSERT INTO invites (id, tenant_id, code, role, created_by, expires_at, created_at) \
             VALUES ($1, $2, $3, $4, $5, $6, $7)",
        )
        .bind(invite.id.to_db())
        .bind(tenant.to_db())
        .bind(&invite.code)
        .bind(role.as_str())
        .bind(by.to_db())
        .bind(invite.expires_at)
        .bind(now)
        .execute(&self.pool)
        .await?;
        Ok(invite)
    }

    /// Spends the invite and makes `user` a member with its role. Single use, even under concurrent redemption:
    /// the conditional UPDATE lets exactly one caller through. Someone already in the workspace keeps the higher
    /// of their current role and the invite's.
    pub async fn redeem_invite(&self, code: &str, user: UserId) -> Result<(TenantId, Role), RedeemError> {
        let now = now_ms();
        let mut tx = self.pool.begin().await?;
        let spent: Option<(String, String)> = sqlx::query_as(
            "UPDATE invites SET used_at = $2, used_by = $3 WHERE code = $1 AND used_at IS NULL AND expires_at > $2 \
             RETURNING tenant_id, role",
        )
        .bind(code)
        .bind(now)
        .bind(user.to_db())
        .fetch_optional(&mut *tx)
        .await?;
        let Some((tenant, role)) = spent else {
            tx.rollback().await?;
            let row: Option<(Option<i64>, i64)> =
                sqlx::query_as("SELECT used_at, expires_at FROM invites WHERE code = $1")
                    .bind(code)
                    .fetch_optional(&self.pool)
                    .await?;
            return Err(match row {
                None => RedeemError::Unknown,
                Some((Some(_), _)) => RedeemError::Used,
                Some((None, _)) => RedeemError::Expired,
            });
        };
        let tenant = TenantId::from_db(&tenant).map_err(StoreError::from)?;
        let role = crate::parse_enum(&role, Role::parse, "role")?;
        let current: Option<(String,)> =
            sqlx::query_as("SELECT role FROM memberships WHERE tenant_id = $1 AND user_id = $2")
                .bind(tenant.to_db())
                .bind(user.to_db())
                .fetch_optional(&mut *tx)
                .await?;
        let current = current.and_then(|r| Role::parse(&r.0));
        let effective = match current {
            Some(c) if c.at_least(role) => c,
            _ => role,
        };
        sqlx::query(
            "INSERT INTO memberships (tenant_id, user_id, role, created_at) VALUES ($1, $2, $3, $4) \
             ON CONFLICT (tenant_id, user_id) DO UPDATE SET role = excluded.role",
        )
        .bind(tenant.to_db())
        .bind(user.to_db())
        .bind(effective.as_str())
        .bind(now)
        .execute(&mut *tx)
        .await?;
        sqlx::query("UPDATE users SET active_tenant_id = $2, updated_at = $3 WHERE id = $1")
            .bind(user.to_db())
            .bind(tenant.to_db())
            .bind(now)
            .execute(&mut *tx)
            .await?;
        tx.commit().await?;
        Ok((tenant, effective))
    }
}
