//! Post targets (one per post and platform account) and the scheduling of a post: creating its targets and the
//! `publish` jobs that the scheduler runs at `scheduled_at`.
//!
//! Scheduling, approval, rescheduling and cancelling each happen in one transaction together with the matching
//! job changes, so a post is never scheduled without its jobs nor cancelled with a job still due; submitting for
//! approval queues the approval cards, and deciding, re-submitting after a change or withdrawing writes the
//! outcome on them, in that same transaction (`approval_cards.rs`).

use super::approval_cards::{ApprovalCard, CardOutcome};
use super::jobs::{NewJob, OnConflict};
use super::{col, parse_enum, Result, Store, StoreError};
use sqlx::any::AnyRow;
use tochen_domain::clock::{now_ms, Millis};
use tochen_domain::ids::{AccountId, PostId, TargetId, TenantId, UserId};
use tochen_domain::{Platform, PostStatus, TargetStatus};

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Target {
    pub id: TargetId,
    pub tenant_id: TenantId,
    pub post_id: PostId,
    pub account_id: AccountId,
    pub platform: Platform,
    pub status: TargetStatus,
    /// Instagram container id or TikTok publish_id, once the platform handed one out.
    pub platform_ref: Option<String>,
    pub platform_post_id: Option<String>,
    pub permalink: Option<String>,
    pub error_class: Option<String>,
    pub error_message: Option<String>,
    pub attempts: i64,
    pub published_at: Option<Millis>,
    pub updated_at: Millis,
}

pub(crate) const TARGET_COLUMNS: &str = "id, tenant_id, post_id, account_id, platform, status, platform_ref, \
     platform_post_id, permalink, error_class, error_message, attempts, published_at, updated_at";

pub(crate) fn target_from_row(row: &AnyRow) -> Result<Target> {
    Ok(Target {
        id: TargetId::from_db(&col::<String>(row, "id")?)?,
        tenant_id: TenantId::from_db(&col::<String>(row, "tenant_id")?)?,
        post_id: PostId::from_db(&col::<String>(row, "post_id")?)?,
        account_id: AccountId::from_db(&col::<String>(row, "account_id")?)?,
        platform: parse_enum(&col::<String>(row, "platform")?, Platform::parse, "platform")?,
        status: parse_enum(&col::<String>(row, "status")?, TargetStatus::parse, "target status")?,
        platform_ref: col(row, "platform_ref")?,
        platform_post_id: col(row, "platform_post_id")?,
        permalink: col(row, "permalink")?,
        error_class: col(row, "error_class")?,
        error_message: col(row, "error_message")?,
        attempts: col(row, "attempts")?,
        published_at: col(row, "published_at")?,
        updated_at: col(row, "updated_at")?,
    })
}

/// Why a scheduling change was refused.
#[derive(Debug, thiserror::Error)]
pub enum ScheduleError {
    #[error("the post changed since this screen was shown")]
    Stale,
    #[error("the post is {0} and cannot be scheduled")]
    WrongStatus(PostStatus),
    #[error("pick at least one account")]
    NoAccounts,
    #[error("account {0} is not connected to this workspace")]
    UnknownAccount(AccountId),
    #[error(transparent)]
    Store(#[from] StoreError),
}

impl From<sqlx::Error> for ScheduleError {
    fn from(e: sqlx::Error) -> Self {
        Self::Store(e.into())
    }
}

impl Store {
    /// Schedules a draft (or re-schedules a rejected post) for `at` on `accounts`. With `needs_approval` the post
    /// waits in `pending_approval` with its targets but without jobs (and without approval cards: see
    /// [`Store::submit_for_approval`]); otherwise its publish jobs are enqueued.
    pub async fn schedule_post(
        &self,
        tenant: TenantId,
        post: PostId,
        expected_version: i64,
        at: Millis,
        accounts: &[AccountId],
        needs_approval: bool,
    ) -> Result<Vec<Target>, ScheduleError> {
        self.schedule(tenant, post, expected_version, at, accounts, needs_approval, |_, _| Vec::new()).await
    }

    /// Submits an editor's draft (or rejected post) for approval: the post waits in `pending_approval` with its
    /// targets, and the approval `cards` are queued as `notify` jobs in the same transaction, so the post is
    /// never waiting without its cards nor are cards out for a post that is not waiting. `cards` gets the
    /// post's new version (the round, which the cards' buttons carry) and its targets; it runs inside the
    /// transaction, so it must not touch the store.
    #[allow(clippy::too_many_arguments)]
    pub async fn submit_for_approval(
        &self,
        tenant: TenantId,
        post: PostId,
        expected_version: i64,
        at: Millis,
        accounts: &[AccountId],
        cards: impl FnOnce(i64, &[Target]) -> Vec<ApprovalCard>,
    ) -> Result<Vec<Target>, ScheduleError> {
        self.schedule(tenant, post, expected_version, at, accounts, true, cards).await
    }

    /// Re-submits a post waiting for approval that was changed (moved to `at`): its version moves on, so the
    /// buttons of the earlier cards are refused; every earlier card gets `replaced` (an edit is queued for those
    /// already sent) and the new round's `cards` are queued, all in one transaction, so the post never waits
    /// with only outdated cards out. `cards` gets the new version and the post's targets; it runs inside the
    /// transaction, so it must not touch the store.
    pub async fn resubmit_for_approval(
        &self,
        tenant: TenantId,
        post: PostId,
        expected_version: i64,
        at: Millis,
        replaced: &CardOutcome<'_>,
        cards: impl FnOnce(i64, &[Target]) -> Vec<ApprovalCard>,
    ) -> Result<Vec<Target>, ScheduleError> {
        let now = now_ms();
        let mut tx = self.pool.begin().await?;
        let moved: Option<(i64,)> = sqlx::query_as(
            "UPDATE posts SET scheduled_at = $4, version = version + 1, updated_at = $5 WHERE tenant_id = $1 \
             AND id = $2 AND version = $3 AND status = 'pending_approval' RETURNING version",
        )
        .bind(tenant.to_db())
        .bind(post.to_db())
        .bind(expected_version)
        .bind(at)
        .bind(now)
        .fetch_optional(&mut *tx)
        .await?;
        let Some((version,)) = moved else {
            tx.rollback().await?;
            return Err(self.refusal(tenant, post, expected_version).await);
        };
        let targets = pending_targets(&mut tx, tenant, post).await?;
        // The earlier rounds first: the new round's rows must not get the outcome meant for the old ones.
        super::approval_cards::settle_cards(&mut tx, tenant, post, replaced, now).await?;
        super::approval_cards::queue_cards(&mut tx, tenant, post, version, cards(version, &targets), now).await?;
        tx.commit().await?;
        self.notify_jobs_changed();
        Ok(targets)
    }

    #[allow(clippy::too_many_arguments)]
    async fn schedule(
        &self,
        tenant: TenantId,
        post: PostId,
        expected_version: i64,
        at: Millis,
        accounts: &[AccountId],
        needs_approval: bool,
        cards: impl FnOnce(i64, &[Target]) -> Vec<ApprovalCard>,
    ) -> Result<Vec<Target>, ScheduleError> {
        if accounts.is_empty() {
            return Err(ScheduleError::NoAccounts);
        }
        let now = now_ms();
        let status = if needs_approval { PostStatus::PendingApproval } else { PostStatus::Scheduled };
        let mut tx = self.pool.begin().await?;
        let moved: Option<(i64,)> = sqlx::query_as(
            "UPDATE posts SET status = $4, scheduled_at = $5, rejection_reason = NULL, version = version + 1, \
             updated_at = $6 WHERE tenant_id = $1 AND id = $2 AND version = $3 AND status IN ('draft', 'rejected') \
             RETURNING version",
        )
        .bind(tenant.to_db())
        .bind(post.to_db())
        .bind(expected_version)
        .bind(status.as_str())
        .bind(at)
        .bind(now)
        .fetch_optional(&mut *tx)
        .await?;
        let Some((version,)) = moved else {
            tx.rollback().await?;
            return Err(self.refusal(tenant, post, expected_version).await);
        };
        sqlx::query("DELETE FROM post_targets WHERE tenant_id = $1 AND post_id = $2 AND status = 'pending'")
            .bind(tenant.to_db())
            .bind(post.to_db())
            .execute(&mut *tx)
            .await?;
        let mut targets = Vec::with_capacity(accounts.len());
        for account in accounts {
            let platform: Option<(String,)> = sqlx::query_as(
                "SELECT platform FROM social_accounts WHERE tenant_id = $1 AND id = $2 AND status <> 'disconnected'",
            )
            .bind(tenant.to_db())
            .bind(account.to_db())
            .fetch_optional(&mut *tx)
            .await?;
            let Some((platform,)) = platform else {
                tx.rollback().await?;
                return Err(ScheduleError::UnknownAccount(*account));
            };
            let row = sqlx::query(&format!(
                "INSERT INTO post_targets (id, tenant_id, post_id, account_id, platform, status, created_at, updated_at) \
                 VALUES ($1, $2, $3, $4, $5, 'pending', $6, $6) RETURNING {TARGET_COLUMNS}"
            ))
            .bind(TargetId::new().to_db())
            .bind(tenant.to_db())
            .bind(post.to_db())
            .bind(account.to_db())
            .bind(platform)
            .bind(now)
            .fetch_one(&mut *tx)
            .await?;
            targets.push(target_from_row(&row)?);
        }
        if needs_approval {
            super::approval_cards::queue_cards(&mut tx, tenant, post, version, cards(version, &targets), now).await?;
        } else {
            for t in &targets {
                enqueue_publish(&mut tx, t, at, now).await?;
            }
        }
        tx.commit().await?;
        self.notify_jobs_changed();
        Ok(targets)
    }

    /// Approves a post waiting for approval and enqueues its publish jobs. A post whose time has passed while it
    /// waited is published right away. Its approval cards are left as they are; see
    /// [`Store::approve_post_with_cards`].
    pub async fn approve_post(
        &self,
        tenant: TenantId,
        post: PostId,
        expected_version: i64,
        approver: UserId,
    ) -> Result<Vec<Target>, ScheduleError> {
        self.approve(tenant, post, expected_version, approver, None, false).await
    }

    /// [`Store::approve_post`], and in the same transaction the approval cards of the post get `outcome`: every
    /// sent card but the one the approver pressed is queued for an edit that shows it.
    pub async fn approve_post_with_cards(
        &self,
        tenant: TenantId,
        post: PostId,
        expected_version: i64,
        approver: UserId,
        outcome: &CardOutcome<'_>,
    ) -> Result<Vec<Target>, ScheduleError> {
        self.approve(tenant, post, expected_version, approver, Some(outcome), false).await
    }

    /// [`Store::approve_post_with_cards`] for an admin who publishes a waiting post now: it is approved and its
    /// time becomes now, in the same transaction.
    pub async fn approve_post_now_with_cards(
        &self,
        tenant: TenantId,
        post: PostId,
        expected_version: i64,
        approver: UserId,
        outcome: &CardOutcome<'_>,
    ) -> Result<Vec<Target>, ScheduleError> {
        self.approve(tenant, post, expected_version, approver, Some(outcome), true).await
    }

    async fn approve(
        &self,
        tenant: TenantId,
        post: PostId,
        expected_version: i64,
        approver: UserId,
        outcome: Option<&CardOutcome<'_>>,
        now_instead: bool,
    ) -> Result<Vec<Target>, ScheduleError> {
        let now = now_ms();
        let mut tx = self.pool.begin().await?;
        let at = if now_instead { "scheduled_at = $5, " } else { "" };
        let moved = sqlx::query(&format!(
            "UPDATE posts SET status = 'scheduled', {at}approved_by = $4, approved_at = $5, version = version + 1, \
             updated_at = $5 WHERE tenant_id = $1 AND id = $2 AND version = $3 AND status = 'pending_approval'"
        ))
        .bind(tenant.to_db())
        .bind(post.to_db())
        .bind(expected_version)
        .bind(approver.to_db())
        .bind(now)
        .execute(&mut *tx)
        .await?;
        if moved.rows_affected() == 0 {
            tx.rollback().await?;
            return Err(self.refusal(tenant, post, expected_version).await);
        }
        let (at,): (Option<i64>,) = sqlx::query_as("SELECT scheduled_at FROM posts WHERE tenant_id = $1 AND id = $2")
            .bind(tenant.to_db())
            .bind(post.to_db())
            .fetch_one(&mut *tx)
            .await?;
        let targets = pending_targets(&mut tx, tenant, post).await?;
        for t in &targets {
            enqueue_publish(&mut tx, t, at.unwrap_or(now).max(now), now).await?;
        }
        if let Some(outcome) = outcome {
            super::approval_cards::settle_cards(&mut tx, tenant, post, outcome, now).await?;
        }
        tx.commit().await?;
        self.notify_jobs_changed();
        Ok(targets)
    }

    /// Rejects a post waiting for approval, with the admin's reason. Its approval cards are left as they are; see
    /// [`Store::reject_post_with_cards`].
    pub async fn reject_post(
        &self,
        tenant: TenantId,
        post: PostId,
        expected_version: i64,
        reason: &str,
    ) -> Result<bool> {
        self.reject(tenant, post, expected_version, reason, None).await
    }

    /// [`Store::reject_post`], and in the same transaction the approval cards of the post get `outcome`: every
    /// sent card but the one the admin pressed is queued for an edit that shows it.
    pub async fn reject_post_with_cards(
        &self,
        tenant: TenantId,
        post: PostId,
        expected_version: i64,
        reason: &str,
        outcome: &CardOutcome<'_>,
    ) -> Result<bool> {
        self.reject(tenant, post, expected_version, reason, Some(outcome)).await
    }

    async fn reject(
        &self,
        tenant: TenantId,
        post: PostId,
        expected_version: i64,
        reason: &str,
        outcome: Option<&CardOutcome<'_>>,
    ) -> Result<bool> {
        let now = now_ms();
        let mut tx = self.pool.begin().await?;
        let done = sqlx::query(
            "UPDATE posts SET status = 'rejected', rejection_reason = $4, version = version + 1, updated_at = $5 \
             WHERE tenant_id = $1 AND id = $2 AND version = $3 AND status = 'pending_approval'",
        )
        .bind(tenant.to_db())
        .bind(post.to_db())
        .bind(expected_version)
        .bind(reason)
        .bind(now)
        .execute(&mut *tx)
        .await?;
        if done.rows_affected() != 1 {
            tx.rollback().await?;
            return Ok(false);
        }
        let queued = match outcome {
            Some(outcome) => super::approval_cards::settle_cards(&mut tx, tenant, post, outcome, now).await?,
            None => false,
        };
        tx.commit().await?;
        if queued {
            self.notify_jobs_changed();
        }
        Ok(true)
    }

    /// Moves a scheduled post (and its queued publish jobs) to `at`. `Ok(false)` when the post is no longer
    /// scheduled or changed since. A post waiting for approval is moved by [`Store::resubmit_for_approval`],
    /// which replaces its cards.
    pub async fn reschedule_post(
        &self,
        tenant: TenantId,
        post: PostId,
        expected_version: i64,
        at: Millis,
    ) -> Result<bool> {
        let now = now_ms();
        let mut tx = self.pool.begin().await?;
        let moved = sqlx::query(
            "UPDATE posts SET scheduled_at = $4, version = version + 1, updated_at = $5 WHERE tenant_id = $1 \
             AND id = $2 AND version = $3 AND status = 'scheduled'",
        )
        .bind(tenant.to_db())
        .bind(post.to_db())
        .bind(expected_version)
        .bind(at)
        .bind(now)
        .execute(&mut *tx)
        .await?;
        if moved.rows_affected() == 0 {
            tx.rollback().await?;
            return Ok(false);
        }
        sqlx::query(
            "UPDATE jobs SET run_at = $3, updated_at = $4 WHERE tenant_id = $1 AND kind = 'publish' AND state = 'queued' \
             AND unique_key IN (SELECT 'publish:' || id FROM post_targets WHERE tenant_id = $1 AND post_id = $2 \
             AND status = 'pending')",
        )
        .bind(tenant.to_db())
        .bind(post.to_db())
        .bind(at)
        .bind(now)
        .execute(&mut *tx)
        .await?;
        tx.commit().await?;
        self.notify_jobs_changed();
        Ok(true)
    }

    /// Cancels a post that has not gone out: its pending targets and their queued jobs are cancelled too.
    /// Targets already publishing or published are left as they are. The approval cards of a post that was
    /// waiting are left as they are; see [`Store::cancel_post_with_cards`].
    pub async fn cancel_post(&self, tenant: TenantId, post: PostId, expected_version: i64) -> Result<bool> {
        self.cancel(tenant, post, expected_version, None).await
    }

    /// [`Store::cancel_post`], and in the same transaction the undecided approval cards of the post (it was
    /// waiting for approval) get `outcome` ("withdrawn by …"): an edit is queued for every one already sent, so
    /// no card keeps buttons for a post that no longer waits.
    pub async fn cancel_post_with_cards(
        &self,
        tenant: TenantId,
        post: PostId,
        expected_version: i64,
        outcome: &CardOutcome<'_>,
    ) -> Result<bool> {
        self.cancel(tenant, post, expected_version, Some(outcome)).await
    }

    async fn cancel(
        &self,
        tenant: TenantId,
        post: PostId,
        expected_version: i64,
        outcome: Option<&CardOutcome<'_>>,
    ) -> Result<bool> {
        let now = now_ms();
        let mut tx = self.pool.begin().await?;
        let moved = sqlx::query(
            "UPDATE posts SET status = 'cancelled', version = version + 1, updated_at = $4 WHERE tenant_id = $1 \
             AND id = $2 AND version = $3 AND status IN ('draft', 'pending_approval', 'scheduled', 'rejected')",
        )
        .bind(tenant.to_db())
        .bind(post.to_db())
        .bind(expected_version)
        .bind(now)
        .execute(&mut *tx)
        .await?;
        if moved.rows_affected() == 0 {
            tx.rollback().await?;
            return Ok(false);
        }
        sqlx::query(
            "UPDATE jobs SET state = 'cancelled', finished_at = $3, updated_at = $3 WHERE tenant_id = $1 \
             AND kind = 'publish' AND state = 'queued' AND unique_key IN (SELECT 'publish:' || id FROM post_targets \
             WHERE tenant_id = $1 AND post_id = $2 AND status = 'pending')",
        )
        .bind(tenant.to_db())
        .bind(post.to_db())
        .bind(now)
        .execute(&mut *tx)
        .await?;
        sqlx::query(
            "UPDATE post_targets SET status = 'cancelled', updated_at = $3 WHERE tenant_id = $1 AND post_id = $2 \
             AND status = 'pending'",
        )
        .bind(tenant.to_db())
        .bind(post.to_db())
        .bind(now)
        .execute(&mut *tx)
        .await?;
        if let Some(outcome) = outcome {
            super::approval_cards::settle_cards(&mut tx, tenant, post, outcome, now).await?;
        }
        tx.commit().await?;
        self.notify_jobs_changed();
        Ok(true)
    }

    /// Why a guarded post update matched no row: the post moved on (stale) or is in a status that forbids it.
    async fn refusal(&self, tenant: TenantId, post: PostId, expected_version: i64) -> ScheduleError {
        match self.post(tenant, post).await {
            Ok(current) if current.version != expected_version => ScheduleError::Stale,
            Ok(current) => ScheduleError::WrongStatus(current.status),
            Err(e) => e.into(),
        }
    }

    pub async fn targets_of_post(&self, tenant: TenantId, post: PostId) -> Result<Vec<Target>> {
        let rows = sqlx::query(&format!(
            "SELECT {TARGET_COLUMNS} FROM post_targets WHERE tenant_id = $1 AND post_id = $2 ORDER BY platform, id"
        ))
        .bind(tenant.to_db())
        .bind(post.to_db())
        .fetch_all(&self.pool)
        .await?;
        rows.iter().map(target_from_row).collect()
    }

    pub async fn target(&self, tenant: TenantId, id: TargetId) -> Result<Target> {
        let row = sqlx::query(&format!("SELECT {TARGET_COLUMNS} FROM post_targets WHERE tenant_id = $1 AND id = $2"))
            .bind(tenant.to_db())
            .bind(id.to_db())
            .fetch_optional(&self.pool)
            .await?
            .ok_or(StoreError::NotFound("post target"))?;
        target_from_row(&row)
    }
}

/// The targets of a post that have not gone out, read inside the caller's transaction.
async fn pending_targets(
    tx: &mut sqlx::Transaction<'_, sqlx::Any>,
    tenant: TenantId,
    post: PostId,
) -> Result<Vec<Target>> {
    let rows = sqlx::query(&format!(
        "SELECT {TARGET_COLUMNS} FROM post_targets WHERE tenant_id = $1 AND post_id = $2 AND status = 'pending' ORDER BY id"
    ))
    .bind(tenant.to_db())
    .bind(post.to_db())
    .fetch_all(&mut **tx)
    .await?;
    rows.iter().map(target_from_row).collect()
}

/// Enqueues the publish job of a target inside the caller's transaction.
async fn enqueue_publish(
    tx: &mut sqlx::Transaction<'_, sqlx::Any>,
    target: &Target,
    at: Millis,
    now: Millis,
) -> Result<()> {
    let job = NewJob::publish(target.tenant_id, target.id, target.account_id, at);
    super::jobs::insert(&mut **tx, &job, now, OnConflict::Requeue).await?;
    Ok(())
}
