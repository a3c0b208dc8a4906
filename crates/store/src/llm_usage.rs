//! Every LLM call, with its tokens, cost and outcome, and the monthly totals the quota is checked against.

use crate::{Result, Store};
use tochen_domain::clock::{now_ms, Millis};
use tochen_domain::ids::{TenantId, UserId};

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct LlmUsageRecord {
    pub user_id: Option<UserId>,
    pub provider: String,
    pub model: String,
    /// ideas, post, hashtags, rewrite, image.
    pub request_type: String,
    pub prompt_tokens: i64,
    pub completion_tokens: i64,
    pub images: i64,
    /// Cost in millionths of a US dollar.
    pub cost_micros: i64,
    pub latency_ms: i64,
    /// `None` on success, the error otherwise.
    pub error: Option<String>,
}

#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct MonthlyUsage {
    pub calls: i64,
    pub failed_calls: i64,
    pub tokens: i64,
    pub images: i64,
    pub cost_micros: i64,
}

impl Store {
    pub async fn record_llm_usage(&self, tenant: TenantId, r: &LlmUsageRecord) -> Result<()> {
        sqlx::query(
            "INSERT INTO llm_usage (id, tenant_id, user_id, provider, model, request_type, prompt_tokens, \
             completion_tokens, total_tokens, images, cost_micros, latency_ms, outcome, error, created_at) \
             VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14, $15)",
        )
        .bind(uuid::Uuid::now_v7().to_string())
        .bind(tenant.to_db())
        .bind(r.user_id.map(|u| u.to_db()))
        .bind(&r.provider)
        .bind(&r.model)
        .bind(&r.request_type)
        .bind(r.prompt_tokens)
        .bind(r.completion_tokens)
        .bind(r.prompt_tokens + r.completion_tokens)
        .bind(r.images)
        .bind(r.cost_micros)
        .bind(r.latency_ms)
        .bind(if r.error.is_none() { "success" } else { "error" })
        .bind(&r.error)
        .bind(now_ms())
        .execute(&self.pool)
        .await?;
        Ok(())
    }

    /// Totals since `since` (the start of the workspace's month, computed by the caller in its time zone).
    pub async fn llm_usage_since(&self, tenant: TenantId, since: Millis) -> Result<MonthlyUsage> {
        let row: (i64, Option<i64>, Option<i64>, Option<i64>, Option<i64>) = sqlx::query_as(
            // SUM over BIGINT is NUMERIC on PostgreSQL; the casts keep both backends on BIGINT.
            "SELECT COUNT(*), CAST(SUM(CASE WHEN outcome = 'error' THEN 1 ELSE 0 END) AS BIGINT), \
             CAST(SUM(total_tokens) AS BIGINT), CAST(SUM(images) AS BIGINT), CAST(SUM(cost_micros) AS BIGINT) \
             FROM llm_usage WHERE tenant_id = $1 AND created_at >= $2",
        )
        .bind(tenant.to_db())
        .bind(since)
        .fetch_one(&self.pool)
        .await?;
        Ok(MonthlyUsage {
            calls: row.0,
            failed_calls: row.1.unwrap_or(0),
            tokens: row.2.unwrap_or(0),
            images: row.3.unwrap_or(0),
            cost_micros: row.4.unwrap_or(0),
        })
    }
}
