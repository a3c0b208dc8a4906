//! Workspace API tokens (issue 20): made by an admin (the secret is returned once and never stored), listed,
//! revoked, and looked up by their hash on every API request.

use crate::{parse_enum, Result, Store};
use rand::Rng;
use tochen_domain::api_tokens::{hash_token, looks_like_token, scopes_from_db, scopes_to_db, SHOWN_CHARS};
use tochen_domain::api_tokens::{TOKEN_PREFIX, TOKEN_RANDOM_CHARS};
use tochen_domain::clock::Millis;
use tochen_domain::ids::{ApiTokenId, TenantId, UserId};
use tochen_domain::{ApiScope, Role};

/// A token as lists show it: never its secret.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ApiToken {
    pub id: ApiTokenId,
    pub tenant_id: TenantId,
    pub name: String,
    /// The token's first characters (`tch_ab12…`), to tell tokens apart.
    pub shown: String,
    pub role: Role,
    pub scopes: Vec<ApiScope>,
    pub created_by: Option<UserId>,
    pub created_at: Millis,
    pub expires_at: Option<Millis>,
    pub revoked_at: Option<Millis>,
    pub last_used_at: Option<Millis>,
}

impl ApiToken {
    /// Usable at `now`: not revoked, not expired.
    pub fn active(&self, now: Millis) -> bool {
        self.revoked_at.is_none() && self.expires_at.is_none_or(|e| now < e)
    }

    pub fn allows(&self, scope: ApiScope) -> bool {
        self.scopes.contains(&scope)
    }
}

/// What a new token is made with.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct NewApiToken {
    pub name: String,
    pub role: Role,
    pub scopes: Vec<ApiScope>,
    pub created_by: Option<UserId>,
    pub expires_at: Option<Millis>,
}

#[derive(sqlx::FromRow)]
struct Row {
    id: String,
    tenant_id: String,
    name: String,
    shown: String,
    role: String,
    scopes: String,
    created_by: Option<String>,
    created_at: Millis,
    expires_at: Option<Millis>,
    revoked_at: Option<Millis>,
    last_used_at: Option<Millis>,
}

impl TryFrom<Row> for ApiToken {
    type Error = crate::StoreError;

    fn try_from(r: Row) -> Result<Self> {
        Ok(ApiToken {
            id: ApiTokenId::from_db(&r.id)?,
            tenant_id: TenantId::from_db(&r.tenant_id)?,
            name: r.name,
            shown: r.shown,
            role: parse_enum(&r.role, Role::parse, "role")?,
            scopes: scopes_from_db(&r.scopes),
            created_by: r.created_by.as_deref().map(UserId::from_db).transpose()?,
            created_at: r.created_at,
            expires_at: r.expires_at,
            revoked_at: r.revoked_at,
            last_used_at: r.last_used_at,
        })
    }
}

const COLUMNS: &str =
    "id, tenant_id, name, shown, role, scopes, created_by, created_at, expires_at, revoked_at, last_used_at";

/// How often a token's `last_used_at` is written (not on every request).
const LAST_USED_EVERY_MS: Millis = 60_000;

fn new_secret() -> String {
    const ALPHABET: &[u8] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789";
    let mut rng = rand::thread_rng();
    let random: String = (0..TOKEN_RANDOM_CHARS).map(|_| ALPHABET[rng.gen_range(0..ALPHABET.len())] as char).collect();
    format!("{TOKEN_PREFIX}{random}")
}

impl Store {
    /// Makes a token for `tenant` at `now`; returns it and its secret, which is not kept anywhere.
    pub async fn create_api_token(
        &self,
        tenant: TenantId,
        new: &NewApiToken,
        now: Millis,
    ) -> Result<(ApiToken, String)> {
        let secret = new_secret();
        let token = ApiToken {
            id: ApiTokenId::new(),
            tenant_id: tenant,
            name: new.name.clone(),
            shown: format!("{}…", &secret[..SHOWN_CHARS]),
            role: new.role,
            scopes: scopes_from_db(&scopes_to_db(&new.scopes)),
            created_by: new.created_by,
            created_at: now,
            expires_at: new.expires_at,
            revoked_at: None,
            last_used_at: None,
        };
        sqlx::query(
            "INSERT INTO api_tokens (id, tenant_id, name, token_hash, shown, role, scopes, created_by, created_at, \
             expires_at) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10)",
        )
        .bind(token.id.to_db())
        .bind(tenant.to_db())
        .bind(&token.name)
        .bind(hash_token(&secret))
        .bind(&token.shown)
        .bind(token.role.as_str())
        .bind(scopes_to_db(&token.scopes))
        .bind(token.created_by.map(|u| u.to_db()))
        .bind(now)
        .bind(token.expires_at)
        .execute(&self.pool)
        .await?;
        Ok((token, secret))
    }

    /// The workspace's tokens, newest first, revoked ones included (the list says so).
    pub async fn api_tokens(&self, tenant: TenantId) -> Result<Vec<ApiToken>> {
        let rows: Vec<Row> = sqlx::query_as(&format!(
            "SELECT {COLUMNS} FROM api_tokens WHERE tenant_id = $1 ORDER BY created_at DESC, id DESC"
        ))
        .bind(tenant.to_db())
        .fetch_all(&self.pool)
        .await?;
        rows.into_iter().map(ApiToken::try_from).collect()
    }

    /// Revokes one of the workspace's tokens at `now`; false when it is not the workspace's or already revoked.
    pub async fn revoke_api_token(&self, tenant: TenantId, id: ApiTokenId, now: Millis) -> Result<bool> {
        let done = sqlx::query(
            "UPDATE api_tokens SET revoked_at = $3 WHERE tenant_id = $1 AND id = $2 AND revoked_at IS NULL",
        )
        .bind(tenant.to_db())
        .bind(id.to_db())
        .bind(now)
        .execute(&self.pool)
        .await?;
        Ok(done.rows_affected() == 1)
    }

    /// The active token whose secret is `secret` at `now`, if any; notes its use at most once a minute.
    pub async fn authenticate_api_token(&self, secret: &str, now: Millis) -> Result<Option<ApiToken>> {
        if !looks_like_token(secret) {
            return Ok(None);
        }
        let row: Option<Row> = sqlx::query_as(&format!("SELECT {COLUMNS} FROM api_tokens WHERE token_hash = $1"))
            .bind(hash_token(secret))
            .fetch_optional(&self.pool)
            .await?;
        let Some(token) = row.map(ApiToken::try_from).transpose()? else { return Ok(None) };
        if !token.active(now) {
            return Ok(None);
        }
        if token.last_used_at.is_none_or(|at| now - at >= LAST_USED_EVERY_MS) {
            sqlx::query("UPDATE api_tokens SET last_used_at = $2 WHERE id = $1")
                .bind(token.id.to_db())
                .bind(now)
                .execute(&self.pool)
                .await?;
        }
        Ok(Some(token))
    }
}
