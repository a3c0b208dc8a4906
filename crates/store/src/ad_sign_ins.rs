//! Rows of `ad_sign_ins`: one sign-in to an ad platform from the link the bot hands out to the ad accounts the
//! admin keeps. The token and the ad accounts found are encrypted by the store's `SecretBox`; the OAuth state and
//! the confirmation form's token are kept only as SHA-256 hashes. Every step is a compare-and-set, so a state, a
//! confirmation or a choice is spent once. The rules of the flow live in `tochen_platforms::ads::connect`.

use crate::{parse_enum, Result, Store, StoreError};
use tochen_domain::ads::AdPlatform;
use tochen_domain::clock::Millis;
use tochen_domain::ids::{TenantId, UserId};
use tochen_domain::secret::SecretString;

/// A sign-in link handed out.
#[derive(Debug, Clone)]
pub struct NewAdSignIn<'a> {
    pub id: &'a str,
    pub tenant_id: TenantId,
    pub user_id: UserId,
    pub chat_id: i64,
    pub platform: AdPlatform,
    pub state_hash: &'a str,
    pub created_at: Millis,
    pub expires_at: Millis,
}

/// A sign-in as read back; `token`/`candidates_json` decrypted (absent before the callback filled them).
#[derive(Debug, Clone)]
pub struct AdSignIn {
    pub id: String,
    pub tenant_id: TenantId,
    pub user_id: UserId,
    pub chat_id: i64,
    pub platform: AdPlatform,
    pub token: Option<SecretString>,
    pub candidates_json: Option<SecretString>,
    /// Indexes of the candidates ticked in the chat.
    pub picked: Vec<usize>,
}

#[derive(sqlx::FromRow)]
struct Row {
    id: String,
    tenant_id: String,
    user_id: String,
    chat_id: i64,
    platform: String,
    token_enc: Option<String>,
    candidates_enc: Option<String>,
    picked: String,
}

const COLUMNS: &str = "id, tenant_id, user_id, chat_id, platform, token_enc, candidates_enc, picked";

/// The ticked indexes as stored (`"0,2"`).
fn parse_picked(s: &str) -> Vec<usize> {
    s.split(',').filter_map(|x| x.trim().parse().ok()).collect()
}

impl Store {
    fn ad_sign_in_from(&self, r: Row) -> Result<AdSignIn> {
        let dec = |v: Option<String>| -> Result<Option<SecretString>> {
            v.map(|e| self.secrets.decrypt(&e)).transpose().map_err(StoreError::from)
        };
        Ok(AdSignIn {
            id: r.id,
            tenant_id: TenantId::from_db(&r.tenant_id)?,
            user_id: UserId::from_db(&r.user_id)?,
            chat_id: r.chat_id,
            platform: parse_enum(&r.platform, AdPlatform::parse, "ad platform")?,
            token: dec(r.token_enc)?,
            candidates_json: dec(r.candidates_enc)?,
            picked: parse_picked(&r.picked),
        })
    }

    pub async fn insert_ad_sign_in(&self, new: &NewAdSignIn<'_>) -> Result<()> {
        sqlx::query(
            "INSERT INTO ad_sign_ins (id, tenant_id, user_id, chat_id, platform, state_hash, created_at, expires_at) \
             VALUES ($1, $2, $3, $4, $5, $6, $7, $8)",
        )
        .bind(new.id)
        .bind(new.tenant_id.to_db())
        .bind(new.user_id.to_db())
        .bind(new.chat_id)
        .bind(new.platform.as_str())
        .bind(new.state_hash)
        .bind(new.created_at)
        .bind(new.expires_at)
        .execute(&self.pool)
        .await?;
        Ok(())
    }

    /// Spends the OAuth state of an unexpired sign-in of `platform`; `None` when unknown, spent, expired or of
    /// another platform.
    pub async fn spend_ad_sign_in_state(
        &self,
        platform: AdPlatform,
        state_hash: &str,
        now: Millis,
    ) -> Result<Option<AdSignIn>> {
        let row: Option<Row> = sqlx::query_as(&format!(
            "UPDATE ad_sign_ins SET state_used_at = $3 WHERE state_hash = $1 AND platform = $2 \
             AND state_used_at IS NULL AND expires_at > $3 RETURNING {COLUMNS}"
        ))
        .bind(state_hash)
        .bind(platform.as_str())
        .bind(now)
        .fetch_optional(&self.pool)
        .await?;
        row.map(|r| self.ad_sign_in_from(r)).transpose()
    }

    /// Parks what the exchange found (encrypted) with the confirmation form's token hash.
    pub async fn park_ad_sign_in(
        &self,
        id: &str,
        token: &SecretString,
        candidates_json: &str,
        confirm_hash: &str,
        expires_at: Millis,
    ) -> Result<()> {
        sqlx::query(
            "UPDATE ad_sign_ins SET token_enc = $2, candidates_enc = $3, confirm_hash = $4, expires_at = $5 \
             WHERE id = $1 AND state_used_at IS NOT NULL AND token_enc IS NULL",
        )
        .bind(id)
        .bind(self.secrets.encrypt(token.expose()))
        .bind(self.secrets.encrypt(candidates_json))
        .bind(confirm_hash)
        .bind(expires_at)
        .execute(&self.pool)
        .await?;
        Ok(())
    }

    /// The browser confirmed: clears the hash of the unexpired parked row that carries it and restarts its lifetime
    /// for the chat's choice.
    pub async fn confirm_ad_sign_in(
        &self,
        confirm_hash: &str,
        now: Millis,
        expires_at: Millis,
    ) -> Result<Option<AdSignIn>> {
        let row: Option<Row> = sqlx::query_as(&format!(
            "UPDATE ad_sign_ins SET confirm_hash = NULL, expires_at = $3 WHERE confirm_hash = $1 AND expires_at > $2 \
             RETURNING {COLUMNS}"
        ))
        .bind(confirm_hash)
        .bind(now)
        .bind(expires_at)
        .fetch_optional(&self.pool)
        .await?;
        row.map(|r| self.ad_sign_in_from(r)).transpose()
    }

    /// The browser cancelled: deletes the unconfirmed row (and its token) that carries `confirm_hash`.
    pub async fn cancel_ad_sign_in(&self, confirm_hash: &str) -> Result<Option<AdSignIn>> {
        let row: Option<Row> =
            sqlx::query_as(&format!("DELETE FROM ad_sign_ins WHERE confirm_hash = $1 RETURNING {COLUMNS}"))
                .bind(confirm_hash)
                .fetch_optional(&self.pool)
                .await?;
        row.map(|r| self.ad_sign_in_from(r)).transpose()
    }

    /// The confirmed, unexpired sign-in `id` started by `user` in `tenant`.
    pub async fn confirmed_ad_sign_in(
        &self,
        tenant: TenantId,
        user: UserId,
        id: &str,
        now: Millis,
    ) -> Result<Option<AdSignIn>> {
        let row: Option<Row> = sqlx::query_as(&format!(
            "SELECT {COLUMNS} FROM ad_sign_ins WHERE id = $1 AND tenant_id = $2 AND user_id = $3 \
             AND token_enc IS NOT NULL AND confirm_hash IS NULL AND expires_at > $4"
        ))
        .bind(id)
        .bind(tenant.to_db())
        .bind(user.to_db())
        .bind(now)
        .fetch_optional(&self.pool)
        .await?;
        row.map(|r| self.ad_sign_in_from(r)).transpose()
    }

    /// Stores the ticked indexes of a confirmed sign-in of `user`; false when there is no such sign-in.
    pub async fn set_ad_sign_in_picked(
        &self,
        tenant: TenantId,
        user: UserId,
        id: &str,
        picked: &[usize],
        now: Millis,
    ) -> Result<bool> {
        let text = picked.iter().map(|i| i.to_string()).collect::<Vec<_>>().join(",");
        let done = sqlx::query(
            "UPDATE ad_sign_ins SET picked = $4 WHERE id = $1 AND tenant_id = $2 AND user_id = $3 \
             AND token_enc IS NOT NULL AND confirm_hash IS NULL AND expires_at > $5",
        )
        .bind(id)
        .bind(tenant.to_db())
        .bind(user.to_db())
        .bind(text)
        .bind(now)
        .execute(&self.pool)
        .await?;
        Ok(done.rows_affected() == 1)
    }

    /// Deletes the confirmed, unexpired sign-in `id` of `user` and returns it (once: a second call gets `None`).
    pub async fn take_ad_sign_in(
        &self,
        tenant: TenantId,
        user: UserId,
        id: &str,
        now: Millis,
    ) -> Result<Option<AdSignIn>> {
        let row: Option<Row> = sqlx::query_as(&format!(
            "DELETE FROM ad_sign_ins WHERE id = $1 AND tenant_id = $2 AND user_id = $3 \
             AND token_enc IS NOT NULL AND confirm_hash IS NULL AND expires_at > $4 RETURNING {COLUMNS}"
        ))
        .bind(id)
        .bind(tenant.to_db())
        .bind(user.to_db())
        .bind(now)
        .fetch_optional(&self.pool)
        .await?;
        row.map(|r| self.ad_sign_in_from(r)).transpose()
    }

    /// Deletes one sign-in (a failed exchange leaves nothing behind).
    pub async fn delete_ad_sign_in(&self, id: &str) -> Result<()> {
        sqlx::query("DELETE FROM ad_sign_ins WHERE id = $1").bind(id).execute(&self.pool).await?;
        Ok(())
    }

    /// Deletes every sign-in that expired by `now`, with its tokens; returns how many.
    pub async fn delete_expired_ad_sign_ins(&self, now: Millis) -> Result<u64> {
        let done = sqlx::query("DELETE FROM ad_sign_ins WHERE expires_at <= $1").bind(now).execute(&self.pool).await?;
        Ok(done.rows_affected())
    }
}

#[cfg(test)]
mod tests {
    #[test]
    fn ticked_indexes_read_back() {
        assert_eq!(super::parse_picked("0,2"), vec![0, 2]);
        assert!(super::parse_picked("").is_empty());
    }
}
