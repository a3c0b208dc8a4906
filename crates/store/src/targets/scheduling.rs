//! Scheduling a post: its targets and publish jobs written with it, the approval round (submit, approve, reject,
//! resubmit) and moving or cancelling it while its targets are still pending. Every move is a compare-and-set on
//! the post's version.

use super::{enqueue_publish, pending_targets, target_from_row, ScheduleError, Target, TARGET_COLUMNS};
use crate::posts::approval_cards::{queue_cards, settle_cards, ApprovalCard, CardOutcome};
use crate::{Result, Store};
use tochen_domain::clock::{now_ms, Millis};
use tochen_domain::ids::{AccountId, PostId, TargetId, TenantId, UserId};
use tochen_domain::PostStatus;

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
        settle_cards(&mut tx, tenant, post, replaced, now).await?;
        queue_cards(&mut tx, tenant, post, version, cards(version, &targets), now).await?;
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
            queue_cards(&mut tx, tenant, post, version, cards(version, &targets), now).await?;
        } else {
            for t in &targets {
                enqueue_publish(&mut tx, t, at, now).await?;
            }
        }
        tx.commit().await?;
        self.notify_jobs_changed();
        Ok(targets)
    }

    /// Test support (only with the `test-support` feature). Approves a post waiting for approval and enqueues its
    /// publish jobs. A post whose time has passed while it waited is published right away. Its approval cards are left
    /// as they are; see [`Store::approve_post_with_cards`].
    #[cfg(feature = "test-support")]
    pub async fn approve_post(
        &self,
        tenant: TenantId,
        post: PostId,
        expected_version: i64,
        approver: UserId,
    ) -> Result<Vec<Target>, ScheduleError> {
        self.approve(tenant, post, expected_version, approver, None, false).await
    }

    /// Approves a post waiting for approval and enqueues its publish jobs (a post whose time has passed while it
    /// waited is published right away), and in the same transaction the approval cards of the post get `outcome`: every
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
            settle_cards(&mut tx, tenant, post, outcome, now).await?;
        }
        tx.commit().await?;
        self.notify_jobs_changed();
        Ok(targets)
    }

    /// Rejects a post waiting for approval, with the admin's reason, and in the same transaction the approval cards
    /// of the post get `outcome`: every
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
            Some(outcome) => settle_cards(&mut tx, tenant, post, outcome, now).await?,
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
        if !move_scheduled(&mut tx, tenant, post, expected_version, at, now).await? {
            tx.rollback().await?;
            return Ok(false);
        }
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
            settle_cards(&mut tx, tenant, post, outcome, now).await?;
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
}

/// Moves a scheduled post at `expected_version` (and its queued publish jobs) to `at` inside `tx`: its version
/// moves on. `Ok(false)` when the post is no longer scheduled or changed since (nothing was written then).
pub(crate) async fn move_scheduled(
    tx: &mut sqlx::Transaction<'_, sqlx::Any>,
    tenant: TenantId,
    post: PostId,
    expected_version: i64,
    at: Millis,
    now: Millis,
) -> Result<bool> {
    let moved = sqlx::query(
        "UPDATE posts SET scheduled_at = $4, version = version + 1, updated_at = $5 WHERE tenant_id = $1 \
         AND id = $2 AND version = $3 AND status = 'scheduled'",
    )
    .bind(tenant.to_db())
    .bind(post.to_db())
    .bind(expected_version)
    .bind(at)
    .bind(now)
    .execute(&mut **tx)
    .await?;
    if moved.rows_affected() == 0 {
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
    .execute(&mut **tx)
    .await?;
    Ok(true)
}
