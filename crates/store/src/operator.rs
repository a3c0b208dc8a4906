//! The operator's side of the instance: every workspace at a glance, quotas, suspending and resuming, LLM cost per
//! model, the queue's health with retry of dead jobs, and the operator audit log.
//!
//! The bot's `/admin` and the command line's `tochen admin` both call these functions, so they show the same
//! numbers and every action is audited the same way: each action writes its `operator_audit` entry in the
//! transaction that makes the change. `actor` names who acted: `telegram:<user id>` from the bot, `cli:<login>`
//! from a shell.

use crate::jobs::{job_from_row, Job, JOB_COLUMNS};
use crate::tenants::{tenant_from_row, COLUMNS as TENANT_COLUMNS};
use crate::{Result, Store, StoreError, Tenant};
use sqlx::FromRow;
use tochen_domain::clock::{now_ms, Millis};
use tochen_domain::ids::{JobId, TenantId};
use tochen_domain::DestinationKind;

/// One workspace as the operator sees it. Tokens and cost count from `since` (the caller's month start).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct WorkspaceOverview {
    pub id: TenantId,
    pub name: String,
    pub created_at: Millis,
    pub suspended_at: Option<Millis>,
    /// Monthly LLM token quota; 0 means unlimited.
    pub quota: i64,
    pub members: i64,
    /// Posts of every status, drafts included.
    pub posts: i64,
    pub accounts: i64,
    pub tokens: i64,
    /// Millionths of a US dollar.
    pub cost_micros: i64,
}

#[derive(FromRow)]
struct OverviewRow {
    id: String,
    name: String,
    created_at: Millis,
    suspended_at: Option<Millis>,
    quota: i64,
    members: i64,
    posts: i64,
    accounts: i64,
    tokens: i64,
    cost_micros: i64,
}

/// LLM spending on one model across every workspace.
#[derive(Debug, Clone, PartialEq, Eq, FromRow)]
pub struct ModelCost {
    pub provider: String,
    pub model: String,
    pub calls: i64,
    pub tokens: i64,
    pub images: i64,
    /// Millionths of a US dollar.
    pub cost_micros: i64,
    /// How many workspaces used it.
    pub workspaces: i64,
}

/// The queue and the scheduler, for the operator's health screen.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct QueueHealth {
    /// The latest scheduler heartbeat; `None` when no scheduler ever ran.
    pub last_beat: Option<Millis>,
    /// Queued jobs that are due now (a backlog), of workspaces that are not suspended.
    pub due: i64,
    pub queued: i64,
    pub running: i64,
    pub dead: i64,
    /// Queued jobs of suspended workspaces.
    pub held: i64,
}

/// A destination that is not delivering (deactivated or disabled), with its workspace.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct FailingDestination {
    pub tenant_id: TenantId,
    pub workspace: String,
    pub name: String,
    pub kind: DestinationKind,
    pub reason: Option<String>,
}

/// One entry of the operator audit log.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct OperatorAction {
    pub actor: String,
    /// A dotted verb: `workspace.suspended`, `workspace.quota_set`, `jobs.retried`, `code.created`...
    pub action: String,
    pub tenant_id: Option<TenantId>,
    pub subject: Option<String>,
    pub details: serde_json::Value,
    pub created_at: Millis,
}

#[derive(FromRow)]
struct AuditRow {
    actor: String,
    action: String,
    tenant_id: Option<String>,
    subject: Option<String>,
    details: String,
    created_at: Millis,
}

/// Writes an operator audit entry with the change it records.
pub(crate) async fn record<'e, E>(
    ex: E,
    actor: &str,
    action: &str,
    tenant: Option<TenantId>,
    subject: Option<&str>,
    details: serde_json::Value,
) -> Result<()>
where
    E: sqlx::Executor<'e, Database = sqlx::Any>,
{
    sqlx::query(
        "INSERT INTO operator_audit (id, actor, action, tenant_id, subject, details, created_at) \
         VALUES ($1, $2, $3, $4, $5, $6, $7)",
    )
    .bind(uuid::Uuid::now_v7().to_string())
    .bind(actor)
    .bind(action)
    .bind(tenant.map(|t| t.to_db()))
    .bind(subject)
    .bind(details.to_string())
    .bind(now_ms())
    .execute(ex)
    .await?;
    Ok(())
}

const OVERVIEW: &str = "SELECT t.id, t.name, t.created_at, t.suspended_at, t.llm_monthly_token_quota AS quota, \
    (SELECT COUNT(*) FROM memberships m WHERE m.tenant_id = t.id) AS members, \
    (SELECT COUNT(*) FROM posts p WHERE p.tenant_id = t.id) AS posts, \
    (SELECT COUNT(*) FROM social_accounts a WHERE a.tenant_id = t.id) AS accounts, \
    CAST((SELECT COALESCE(SUM(u.total_tokens), 0) FROM llm_usage u \
          WHERE u.tenant_id = t.id AND u.created_at >= $1) AS BIGINT) AS tokens, \
    CAST((SELECT COALESCE(SUM(u.cost_micros), 0) FROM llm_usage u \
          WHERE u.tenant_id = t.id AND u.created_at >= $1) AS BIGINT) AS cost_micros \
    FROM tenants t";

impl TryFrom<OverviewRow> for WorkspaceOverview {
    type Error = StoreError;

    fn try_from(r: OverviewRow) -> Result<Self> {
        Ok(WorkspaceOverview {
            id: TenantId::from_db(&r.id)?,
            name: r.name,
            created_at: r.created_at,
            suspended_at: r.suspended_at,
            quota: r.quota,
            members: r.members,
            posts: r.posts,
            accounts: r.accounts,
            tokens: r.tokens,
            cost_micros: r.cost_micros,
        })
    }
}

impl Store {
    /// Every workspace, oldest first, with LLM use since `since`.
    pub async fn workspace_overviews(&self, since: Millis) -> Result<Vec<WorkspaceOverview>> {
        let rows: Vec<OverviewRow> = sqlx::query_as(&format!("{OVERVIEW} ORDER BY t.created_at, t.id"))
            .bind(since)
            .fetch_all(&self.pool)
            .await?;
        rows.into_iter().map(TryInto::try_into).collect()
    }

    /// One workspace's overview.
    pub async fn workspace_overview(&self, id: TenantId, since: Millis) -> Result<WorkspaceOverview> {
        let row: Option<OverviewRow> = sqlx::query_as(&format!("{OVERVIEW} WHERE t.id = $2"))
            .bind(since)
            .bind(id.to_db())
            .fetch_optional(&self.pool)
            .await?;
        row.ok_or(StoreError::NotFound("workspace"))?.try_into()
    }

    /// The workspaces a shell argument names: its full id, an id prefix of at least 4 characters, or its name
    /// (case-insensitive). Several when the argument is ambiguous.
    pub async fn find_workspaces(&self, query: &str) -> Result<Vec<Tenant>> {
        let query = query.trim();
        if query.is_empty() {
            return Ok(Vec::new());
        }
        let rows = sqlx::query(&format!(
            "SELECT {TENANT_COLUMNS} FROM tenants WHERE id = $1 OR (LENGTH($1) >= 4 AND id LIKE $2) \
             OR LOWER(name) = LOWER($1) ORDER BY created_at, id"
        ))
        .bind(query)
        // Ids are UUIDs: only hex digits and dashes make a prefix (anything else, `%` included, matches no id).
        .bind(if query.chars().all(|c| c.is_ascii_hexdigit() || c == '-') {
            format!("{query}%")
        } else {
            String::new()
        })
        .fetch_all(&self.pool)
        .await?;
        rows.iter().map(tenant_from_row).collect()
    }

    /// Sets a workspace's monthly LLM token quota (0: unlimited). Takes effect on the next LLM call.
    pub async fn set_workspace_quota(&self, id: TenantId, tokens: i64, actor: &str) -> Result<()> {
        if tokens < 0 {
            return Err(StoreError::Corrupt(format!("a quota of {tokens} tokens is negative; use 0 for unlimited")));
        }
        let mut tx = self.pool.begin().await?;
        let before: Option<(i64,)> = sqlx::query_as(
            "UPDATE tenants SET llm_monthly_token_quota = $2, updated_at = $3 WHERE id = $1 \
                            RETURNING llm_monthly_token_quota",
        )
        .bind(id.to_db())
        .bind(tokens)
        .bind(now_ms())
        .fetch_optional(&mut *tx)
        .await?;
        if before.is_none() {
            return Err(StoreError::NotFound("workspace"));
        }
        record(&mut *tx, actor, "workspace.quota_set", Some(id), None, serde_json::json!({ "tokens": tokens })).await?;
        tx.commit().await?;
        Ok(())
    }

    /// Suspends a workspace: the bot refuses its members politely and its jobs are held (queued, not claimed)
    /// until it is resumed. `false` when it was already suspended (nothing changes, nothing is audited).
    pub async fn suspend_workspace(&self, id: TenantId, actor: &str) -> Result<bool> {
        self.set_suspended(id, Some(now_ms()), actor).await
    }

    /// Resumes a suspended workspace: its held jobs become claimable at once (runners are woken). `false` when it
    /// was not suspended.
    pub async fn resume_workspace(&self, id: TenantId, actor: &str) -> Result<bool> {
        let changed = self.set_suspended(id, None, actor).await?;
        if changed {
            self.notify_jobs_changed();
        }
        Ok(changed)
    }

    async fn set_suspended(&self, id: TenantId, at: Option<Millis>, actor: &str) -> Result<bool> {
        let mut tx = self.pool.begin().await?;
        let exists: Option<(Option<Millis>,)> = sqlx::query_as("SELECT suspended_at FROM tenants WHERE id = $1")
            .bind(id.to_db())
            .fetch_optional(&mut *tx)
            .await?;
        let Some((current,)) = exists else { return Err(StoreError::NotFound("workspace")) };
        if current.is_some() == at.is_some() {
            return Ok(false);
        }
        let condition = if at.is_some() { "suspended_at IS NULL" } else { "suspended_at IS NOT NULL" };
        let done = sqlx::query(&format!(
            "UPDATE tenants SET suspended_at = $2, updated_at = $3 WHERE id = $1 AND {condition}"
        ))
        .bind(id.to_db())
        .bind(at)
        .bind(now_ms())
        .execute(&mut *tx)
        .await?;
        if done.rows_affected() == 0 {
            return Ok(false);
        }
        let action = if at.is_some() { "workspace.suspended" } else { "workspace.resumed" };
        if at.is_none() {
            // Wakes runners in other processes too: PostgreSQL's trigger on `jobs` fires on an update of run_at.
            sqlx::query("UPDATE jobs SET run_at = run_at WHERE tenant_id = $1 AND state = 'queued' AND run_at <= $2")
                .bind(id.to_db())
                .bind(now_ms())
                .execute(&mut *tx)
                .await?;
        }
        record(&mut *tx, actor, action, Some(id), None, serde_json::json!({})).await?;
        tx.commit().await?;
        Ok(true)
    }

    /// LLM calls, tokens and cost per model across every workspace since `since`, the most expensive first.
    pub async fn cost_per_model(&self, since: Millis) -> Result<Vec<ModelCost>> {
        Ok(sqlx::query_as(
            "SELECT provider, model, COUNT(*) AS calls, CAST(COALESCE(SUM(total_tokens), 0) AS BIGINT) AS tokens, \
             CAST(COALESCE(SUM(images), 0) AS BIGINT) AS images, \
             CAST(COALESCE(SUM(cost_micros), 0) AS BIGINT) AS cost_micros, \
             COUNT(DISTINCT tenant_id) AS workspaces \
             FROM llm_usage WHERE created_at >= $1 GROUP BY provider, model \
             ORDER BY cost_micros DESC, tokens DESC, provider, model",
        )
        .bind(since)
        .fetch_all(self.reader())
        .await?)
    }

    /// The scheduler's heartbeat and the queue's depth by state.
    pub async fn queue_health(&self) -> Result<QueueHealth> {
        let now = now_ms();
        let held = "tenant_id IN (SELECT id FROM tenants WHERE suspended_at IS NOT NULL)";
        let row: (i64, i64, i64, i64, i64) = sqlx::query_as(&format!(
            "SELECT \
             (SELECT COUNT(*) FROM jobs WHERE state = 'queued' AND run_at <= $1 AND {not_held}), \
             (SELECT COUNT(*) FROM jobs WHERE state = 'queued'), \
             (SELECT COUNT(*) FROM jobs WHERE state = 'running' AND lease_expires_at IS NOT NULL), \
             (SELECT COUNT(*) FROM jobs WHERE state = 'dead'), \
             (SELECT COUNT(*) FROM jobs WHERE state = 'queued' AND {held})",
            not_held = crate::dialect::NOT_HELD
        ))
        .bind(now)
        .fetch_one(&self.pool)
        .await?;
        Ok(QueueHealth {
            last_beat: self.last_scheduler_beat().await?,
            due: row.0,
            queued: row.1,
            running: row.2,
            dead: row.3,
            held: row.4,
        })
    }

    /// Dead jobs (out of attempts) across every workspace, the most recent first.
    pub async fn dead_jobs(&self, limit: i64) -> Result<Vec<Job>> {
        let rows = sqlx::query(&format!(
            "SELECT {JOB_COLUMNS} FROM jobs WHERE state = 'dead' ORDER BY updated_at DESC, id LIMIT $1"
        ))
        .bind(limit)
        .fetch_all(&self.pool)
        .await?;
        rows.iter().map(job_from_row).collect()
    }

    /// Gives dead jobs a fresh set of attempts, due now: one job by id, or every dead job. Returns how many were
    /// requeued. Handlers re-check the state of what they act on (a failed post target is not published again
    /// by a retried job unless its handler says so), so a retry never publishes twice.
    pub async fn retry_dead_jobs(&self, only: Option<JobId>, actor: &str) -> Result<u64> {
        let now = now_ms();
        let mut tx = self.pool.begin().await?;
        let filter = if only.is_some() { "AND id = $2" } else { "" };
        let sql = format!(
            "UPDATE jobs SET state = 'queued', attempts = 0, run_at = $1, lease_owner = NULL, \
             lease_expires_at = NULL, finished_at = NULL, updated_at = $1 WHERE state = 'dead' {filter}"
        );
        let mut query = sqlx::query(&sql).bind(now);
        if let Some(id) = only {
            query = query.bind(id.to_db());
        }
        let n = query.execute(&mut *tx).await?.rows_affected();
        if n > 0 {
            let subject = only.map(|id| id.to_db());
            record(&mut *tx, actor, "jobs.retried", None, subject.as_deref(), serde_json::json!({ "jobs": n })).await?;
        }
        tx.commit().await?;
        if n > 0 {
            self.notify_jobs_changed();
        }
        Ok(n)
    }

    /// Destinations that are not delivering, in every workspace.
    pub async fn failing_destinations(&self) -> Result<Vec<FailingDestination>> {
        let rows: Vec<(String, String, String, String, Option<String>)> = sqlx::query_as(
            "SELECT d.tenant_id, t.name, d.name, d.kind, d.status_reason FROM destinations d \
             JOIN tenants t ON t.id = d.tenant_id WHERE d.status <> 'active' ORDER BY t.name, d.name",
        )
        .fetch_all(self.reader())
        .await?;
        rows.into_iter()
            .map(|(tenant, workspace, name, kind, reason)| {
                Ok(FailingDestination {
                    tenant_id: TenantId::from_db(&tenant)?,
                    workspace,
                    name,
                    kind: crate::parse_enum(&kind, DestinationKind::parse, "destination kind")?,
                    reason,
                })
            })
            .collect()
    }

    /// The latest operator actions, newest first.
    pub async fn operator_actions(&self, limit: i64) -> Result<Vec<OperatorAction>> {
        let rows: Vec<AuditRow> = sqlx::query_as(
            "SELECT actor, action, tenant_id, subject, details, created_at FROM operator_audit \
             ORDER BY created_at DESC, id DESC LIMIT $1",
        )
        .bind(limit)
        .fetch_all(self.reader())
        .await?;
        rows.into_iter()
            .map(|r| {
                Ok(OperatorAction {
                    actor: r.actor,
                    action: r.action,
                    tenant_id: r.tenant_id.as_deref().map(TenantId::from_db).transpose()?,
                    subject: r.subject,
                    details: serde_json::from_str(&r.details).unwrap_or(serde_json::Value::Null),
                    created_at: r.created_at,
                })
            })
            .collect()
    }

    /// Makes `telegram_id` the operator if nobody is yet (for an instance without `TOCHEN_OPERATORS`). `true`
    /// when this call made them the operator; two people starting at once cannot both win.
    pub async fn claim_operator(&self, telegram_id: i64) -> Result<bool> {
        let mut tx = self.pool.begin().await?;
        let done = sqlx::query(
            "INSERT INTO instance_operator (slot, telegram_id, created_at) VALUES (1, $1, $2) \
             ON CONFLICT (slot) DO NOTHING",
        )
        .bind(telegram_id)
        .bind(now_ms())
        .execute(&mut *tx)
        .await?;
        let won = done.rows_affected() == 1;
        if won {
            let actor = format!("telegram:{telegram_id}");
            record(&mut *tx, &actor, "operator.claimed", None, None, serde_json::json!({})).await?;
        }
        tx.commit().await?;
        Ok(won)
    }

    /// The operator who claimed the instance by being the first to `/start`, if any.
    pub async fn claimed_operator(&self) -> Result<Option<i64>> {
        let row: Option<(i64,)> = sqlx::query_as("SELECT telegram_id FROM instance_operator WHERE slot = 1")
            .fetch_optional(self.reader())
            .await?;
        Ok(row.map(|r| r.0))
    }
}
