//! Ad accounts (Meta ad accounts, TikTok advertisers) and their daily insights.
//!
//! The token is encrypted with the store's `SecretBox` and decrypted only by [`Store::ad_account_token`]. Insights
//! are kept per (ad account, level, object, day) in exact integer millionths (`tochen_domain::ads::Amount`), NULL
//! when the platform did not send a metric, in the account's own currency and time zone. Every read and write is
//! scoped by workspace; the sync sweep's list ([`Store::ad_accounts_to_sync`]) is the one read across workspaces.

use crate::{parse_enum, Result, Store, StoreError};
use chrono::NaiveDate;
use sqlx::any::AnyRow;
use sqlx::Row;
use tochen_domain::ads::{AdLevel, AdMetrics, AdPlatform, Amount, InsightRow};
use tochen_domain::clock::{now_ms, Millis};
use tochen_domain::ids::{AdAccountId, TenantId, UserId};
use tochen_domain::secret::SecretString;

/// A connected ad account, without its token.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AdAccount {
    pub id: AdAccountId,
    pub tenant_id: TenantId,
    pub platform: AdPlatform,
    /// Meta: the bare account number (paths add `act_`); TikTok: the advertiser id.
    pub account_ref: String,
    pub name: String,
    /// ISO 4217; every amount of this account is in it.
    pub currency: String,
    /// IANA zone the platform counts this account's days in.
    pub zone: String,
    /// The platform's status (`1`, `2`, ... on Meta; `STATUS_ENABLE`, ... on TikTok).
    pub status: String,
    pub disable_reason: Option<i64>,
    pub last_validated: Option<Millis>,
    /// False once the token was refused (expired, revoked, permission missing): the owner must reconnect.
    pub is_valid: bool,
    pub invalid_reason: Option<String>,
    /// The platform's rate limit paused this account until then.
    pub throttled_until: Option<Millis>,
    /// The last day (account zone) read successfully, with every earlier day since the backfill.
    pub synced_through: Option<NaiveDate>,
    pub created_at: Millis,
}

/// An ad account the owner picked after signing in.
#[derive(Debug, Clone)]
pub struct NewAdAccount {
    pub platform: AdPlatform,
    pub account_ref: String,
    pub name: String,
    pub currency: String,
    pub zone: String,
    pub status: String,
    pub disable_reason: Option<i64>,
    pub token: SecretString,
    pub connected_by: Option<UserId>,
}

type AnyQuery<'a> = sqlx::query::Query<'a, sqlx::Any, sqlx::any::AnyArguments<'a>>;

const COLUMNS: &str = "id, tenant_id, platform, account_ref, name, currency, zone, status, disable_reason, \
     last_validated, is_valid, invalid_reason, throttled_until, synced_through, created_at";

const METRICS: [&str; 11] = [
    "spend",
    "impressions",
    "reach",
    "frequency",
    "clicks",
    "cpc",
    "cpm",
    "ctr",
    "conversions",
    "conversion_value",
    "roas",
];

fn day(s: &str) -> Result<NaiveDate> {
    NaiveDate::parse_from_str(s, "%Y-%m-%d").map_err(|_| StoreError::Corrupt(format!("ad insight day {s:?}")))
}

fn account_from_row(r: &AnyRow) -> Result<AdAccount> {
    let synced: Option<String> = r.try_get("synced_through")?;
    Ok(AdAccount {
        id: AdAccountId::from_db(&r.try_get::<String, _>("id")?)?,
        tenant_id: TenantId::from_db(&r.try_get::<String, _>("tenant_id")?)?,
        platform: parse_enum(&r.try_get::<String, _>("platform")?, AdPlatform::parse, "ad platform")?,
        account_ref: r.try_get("account_ref")?,
        name: r.try_get("name")?,
        currency: r.try_get("currency")?,
        zone: r.try_get("zone")?,
        status: r.try_get("status")?,
        disable_reason: r.try_get("disable_reason")?,
        last_validated: r.try_get("last_validated")?,
        is_valid: r.try_get::<i64, _>("is_valid")? != 0,
        invalid_reason: r.try_get("invalid_reason")?,
        throttled_until: r.try_get("throttled_until")?,
        synced_through: synced.as_deref().map(day).transpose()?,
        created_at: r.try_get("created_at")?,
    })
}

fn insight_from_row(r: &AnyRow) -> Result<InsightRow> {
    let a = |k: &str| -> Result<Option<Amount>> { Ok(r.try_get::<Option<i64>, _>(k)?.map(Amount::from_micros)) };
    let n = |k: &str| -> Result<Option<i64>> { Ok(r.try_get::<Option<i64>, _>(k)?) };
    Ok(InsightRow {
        day: day(&r.try_get::<String, _>("day")?)?,
        level: parse_enum(&r.try_get::<String, _>("level")?, AdLevel::parse, "ad level")?,
        object_id: r.try_get("object_id")?,
        object_name: r.try_get("object_name")?,
        campaign_id: r.try_get("campaign_id")?,
        metrics: AdMetrics {
            spend: a("spend")?,
            impressions: n("impressions")?,
            reach: n("reach")?,
            frequency: a("frequency")?,
            clicks: n("clicks")?,
            cpc: a("cpc")?,
            cpm: a("cpm")?,
            ctr: a("ctr")?,
            conversions: a("conversions")?,
            conversion_value: a("conversion_value")?,
            roas: a("roas")?,
        },
    })
}

fn values(m: &AdMetrics) -> [Option<i64>; 11] {
    let a = |x: Option<Amount>| x.map(Amount::micros);
    [
        a(m.spend),
        m.impressions,
        m.reach,
        a(m.frequency),
        m.clicks,
        a(m.cpc),
        a(m.cpm),
        a(m.ctr),
        a(m.conversions),
        a(m.conversion_value),
        a(m.roas),
    ]
}

impl Store {
    /// Stores a picked ad account, or (same platform and account in this workspace) takes the new token and
    /// details and marks it valid again: a reconnect.
    pub async fn upsert_ad_account(&self, tenant: TenantId, new: &NewAdAccount) -> Result<AdAccount> {
        let now = now_ms();
        let row = sqlx::query(&format!(
            "INSERT INTO ad_accounts (id, tenant_id, platform, account_ref, name, currency, zone, status, \
             disable_reason, token_enc, last_validated, is_valid, connected_by, created_at, updated_at) \
             VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, 1, $12, $11, $11) \
             ON CONFLICT (tenant_id, platform, account_ref) DO UPDATE SET name = excluded.name, \
             currency = excluded.currency, zone = excluded.zone, status = excluded.status, \
             disable_reason = excluded.disable_reason, token_enc = excluded.token_enc, \
             last_validated = excluded.last_validated, is_valid = 1, invalid_reason = NULL, \
             connected_by = excluded.connected_by, updated_at = excluded.updated_at RETURNING {COLUMNS}"
        ))
        .bind(AdAccountId::new().to_db())
        .bind(tenant.to_db())
        .bind(new.platform.as_str())
        .bind(new.account_ref.trim())
        .bind(&new.name)
        .bind(&new.currency)
        .bind(&new.zone)
        .bind(&new.status)
        .bind(new.disable_reason)
        .bind(self.secrets.encrypt(new.token.expose()))
        .bind(now)
        .bind(new.connected_by.map(|u| u.to_db()))
        .fetch_one(&self.pool)
        .await?;
        account_from_row(&row)
    }

    pub async fn ad_account(&self, tenant: TenantId, id: AdAccountId) -> Result<AdAccount> {
        let row = sqlx::query(&format!("SELECT {COLUMNS} FROM ad_accounts WHERE tenant_id = $1 AND id = $2"))
            .bind(tenant.to_db())
            .bind(id.to_db())
            .fetch_optional(&self.pool)
            .await?
            .ok_or(StoreError::NotFound("ad account"))?;
        account_from_row(&row)
    }

    /// The workspace's ad accounts by platform and name.
    pub async fn ad_accounts(&self, tenant: TenantId) -> Result<Vec<AdAccount>> {
        let rows = sqlx::query(&format!(
            "SELECT {COLUMNS} FROM ad_accounts WHERE tenant_id = $1 ORDER BY platform, name, account_ref"
        ))
        .bind(tenant.to_db())
        .fetch_all(&self.pool)
        .await?;
        rows.iter().map(account_from_row).collect()
    }

    /// Every valid ad account of every workspace, for the daily sync sweep (the one cross-workspace read).
    pub async fn ad_accounts_to_sync(&self) -> Result<Vec<AdAccount>> {
        let rows = sqlx::query(&format!(
            "SELECT {COLUMNS} FROM ad_accounts WHERE is_valid = 1 ORDER BY tenant_id, platform, account_ref"
        ))
        .fetch_all(&self.pool)
        .await?;
        rows.iter().map(account_from_row).collect()
    }

    /// Decrypts the token of an ad account, for the one call that needs it.
    pub async fn ad_account_token(&self, tenant: TenantId, id: AdAccountId) -> Result<SecretString> {
        let enc: Option<String> =
            sqlx::query_scalar("SELECT token_enc FROM ad_accounts WHERE tenant_id = $1 AND id = $2")
                .bind(tenant.to_db())
                .bind(id.to_db())
                .fetch_optional(self.reader())
                .await?;
        let enc = enc.ok_or(StoreError::NotFound("ad account"))?;
        Ok(self.secrets.decrypt(&enc)?)
    }

    /// Records a successful validation with the platform's current status.
    pub async fn set_ad_account_validated(
        &self,
        tenant: TenantId,
        id: AdAccountId,
        status: &str,
        disable_reason: Option<i64>,
    ) -> Result<()> {
        self.ad_account_update(
            tenant,
            id,
            "status = $3, disable_reason = $4, last_validated = $5, is_valid = 1, invalid_reason = NULL, updated_at = $5",
            |q| q.bind(status.to_string()).bind(disable_reason).bind(now_ms()),
        )
        .await
    }

    /// The token was refused: the account stops syncing until reconnected.
    pub async fn mark_ad_account_invalid(&self, tenant: TenantId, id: AdAccountId, reason: &str) -> Result<()> {
        let reason: String = reason.chars().take(300).collect();
        self.ad_account_update(
            tenant,
            id,
            "is_valid = 0, invalid_reason = $3, last_validated = $4, updated_at = $4",
            |q| q.bind(reason).bind(now_ms()),
        )
        .await
    }

    /// Pauses (or with `None` resumes) the account's requests for its rate limit.
    pub async fn set_ad_account_throttle(
        &self,
        tenant: TenantId,
        id: AdAccountId,
        until: Option<Millis>,
    ) -> Result<()> {
        self.ad_account_update(tenant, id, "throttled_until = $3", |q| q.bind(until)).await
    }

    /// Moves the "read through" day forward (never back).
    pub async fn set_ad_account_synced_through(
        &self,
        tenant: TenantId,
        id: AdAccountId,
        through: NaiveDate,
    ) -> Result<()> {
        self.ad_account_update(
            tenant,
            id,
            "synced_through = CASE WHEN synced_through IS NULL OR synced_through < $3 THEN $3 ELSE synced_through END",
            |q| q.bind(through.to_string()),
        )
        .await
    }

    async fn ad_account_update(
        &self,
        tenant: TenantId,
        id: AdAccountId,
        set: &str,
        bind: impl for<'a> FnOnce(AnyQuery<'a>) -> AnyQuery<'a>,
    ) -> Result<()> {
        let sql = format!("UPDATE ad_accounts SET {set} WHERE tenant_id = $1 AND id = $2");
        let q = sqlx::query(&sql).bind(tenant.to_db()).bind(id.to_db());
        let done = bind(q).execute(&self.pool).await?;
        if done.rows_affected() == 0 {
            return Err(StoreError::NotFound("ad account"));
        }
        Ok(())
    }

    /// Removes an ad account, its token and its insights.
    pub async fn remove_ad_account(&self, tenant: TenantId, id: AdAccountId) -> Result<()> {
        let mut tx = self.pool.begin().await?;
        sqlx::query("DELETE FROM ad_insights WHERE tenant_id = $1 AND ad_account_id = $2")
            .bind(tenant.to_db())
            .bind(id.to_db())
            .execute(&mut *tx)
            .await?;
        let done = sqlx::query("DELETE FROM ad_accounts WHERE tenant_id = $1 AND id = $2")
            .bind(tenant.to_db())
            .bind(id.to_db())
            .execute(&mut *tx)
            .await?;
        if done.rows_affected() == 0 {
            return Err(StoreError::NotFound("ad account"));
        }
        tx.commit().await?;
        Ok(())
    }

    /// Replaces the account's insights at `level` for `since..=until` with `rows` (what the platform answered for
    /// that range is the truth: a restated day changes, a day that no longer has delivery loses its row). One
    /// transaction; returns the rows written.
    pub async fn replace_ad_insights(
        &self,
        tenant: TenantId,
        account: AdAccountId,
        level: AdLevel,
        (since, until): (NaiveDate, NaiveDate),
        rows: &[InsightRow],
    ) -> Result<usize> {
        // The account must be this workspace's.
        self.ad_account(tenant, account).await?;
        let now = now_ms();
        let mut tx = self.pool.begin().await?;
        sqlx::query(
            "DELETE FROM ad_insights WHERE tenant_id = $1 AND ad_account_id = $2 AND level = $3 AND day >= $4 AND day <= $5",
        )
        .bind(tenant.to_db())
        .bind(account.to_db())
        .bind(level.as_str())
        .bind(since.to_string())
        .bind(until.to_string())
        .execute(&mut *tx)
        .await?;
        let cols = METRICS.join(", ");
        let per_row = 7 + METRICS.len();
        let kept: Vec<&InsightRow> =
            rows.iter().filter(|r| r.level == level && r.day >= since && r.day <= until).collect();
        // Multi-row inserts, under both backends' parameter limits.
        for chunk in kept.chunks(40) {
            let mut sql = format!(
                "INSERT INTO ad_insights (ad_account_id, tenant_id, level, object_id, day, object_name, campaign_id, \
                 {cols}, fetched_at) VALUES "
            );
            for i in 0..chunk.len() {
                let base = i * (per_row + 1);
                let ps: Vec<String> = (1..=per_row + 1).map(|k| format!("${}", base + k)).collect();
                if i > 0 {
                    sql.push_str(", ");
                }
                sql.push_str(&format!("({})", ps.join(", ")));
            }
            sql.push_str(
                " ON CONFLICT (ad_account_id, level, object_id, day) DO UPDATE SET object_name = excluded.object_name, \
                 campaign_id = excluded.campaign_id, spend = excluded.spend, impressions = excluded.impressions, \
                 reach = excluded.reach, frequency = excluded.frequency, clicks = excluded.clicks, cpc = excluded.cpc, \
                 cpm = excluded.cpm, ctr = excluded.ctr, conversions = excluded.conversions, \
                 conversion_value = excluded.conversion_value, roas = excluded.roas, fetched_at = excluded.fetched_at",
            );
            let mut q = sqlx::query(&sql);
            for r in chunk {
                q = q
                    .bind(account.to_db())
                    .bind(tenant.to_db())
                    .bind(level.as_str())
                    .bind(r.object_id.clone())
                    .bind(r.day.to_string())
                    .bind(r.object_name.clone())
                    .bind(r.campaign_id.clone());
                for v in values(&r.metrics) {
                    q = q.bind(v);
                }
                q = q.bind(now);
            }
            q.execute(&mut *tx).await?;
        }
        tx.commit().await?;
        Ok(kept.len())
    }

    /// The account's insights at `level` for `since..=until`, by day then object.
    pub async fn ad_insights(
        &self,
        tenant: TenantId,
        account: AdAccountId,
        level: AdLevel,
        (since, until): (NaiveDate, NaiveDate),
    ) -> Result<Vec<InsightRow>> {
        let rows = sqlx::query(&format!(
            "SELECT level, object_id, day, object_name, campaign_id, {} FROM ad_insights \
             WHERE tenant_id = $1 AND ad_account_id = $2 AND level = $3 AND day >= $4 AND day <= $5 \
             ORDER BY day, object_id",
            METRICS.join(", ")
        ))
        .bind(tenant.to_db())
        .bind(account.to_db())
        .bind(level.as_str())
        .bind(since.to_string())
        .bind(until.to_string())
        .fetch_all(&self.pool)
        .await?;
        rows.iter().map(insight_from_row).collect()
    }
}
