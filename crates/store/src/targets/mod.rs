//! Post targets (one per post and platform account) and the scheduling of a post: creating its targets and the
//! `publish` jobs that the scheduler runs at `scheduled_at`.
//!
//! Scheduling, approval, rescheduling and cancelling each happen in one transaction together with the matching
//! job changes, so a post is never scheduled without its jobs nor cancelled with a job still due; submitting for
//! approval queues the approval cards, and deciding, re-submitting after a change or withdrawing writes the
//! outcome on them, in that same transaction (`posts/approval_cards.rs`). Those moves of a post are in `scheduling.rs`.
//!
//! This file holds the moves of a post target outside the platform call: back to `pending` (the pipeline found that nothing went
//! out, or the team pressed "post again"), confirmed by hand ("it's published") and skipped. Begin and settle, the
//! moves around the platform call, are in `publishing.rs`; apart from cancelling a whole post (`scheduling.rs`, its
//! pending targets with it), nothing else writes a target's status after scheduling.
//!
//! Each move is a compare-and-set on the target's status and writes, in one transaction, what goes with it (the
//! publish job queued again, the queued job of a skipped target cancelled) and the post's status recomputed from all
//! of its targets, so a post never stays `publishing` after its last open target was answered by hand. On
//! PostgreSQL the post is recomputed once more after the commit, for the reason `settle_target` gives: a sibling
//! settled at the same moment by another transaction is seen only by a statement that starts after both committed.

use crate::jobs::{insert, keys, NewJob, OnConflict};
use crate::targets::publishing::refresh_post_statement;
use crate::{dialect, parse_enum, Result, Store, StoreError};
use sqlx::any::AnyRow;
use sqlx::FromRow;
use tochen_domain::clock::{now_ms, Millis};
use tochen_domain::ids::{AccountId, PostId, TargetId, TenantId};
use tochen_domain::{Platform, PostStatus, TargetStatus};

mod editing;
pub(crate) mod publishing;
mod scheduling;

pub use editing::{EditApproval, EditOutcome, EditRefusal, PostEdit};

pub use publishing::{BeginPublish, PublishContext, Settle};
pub(crate) use scheduling::move_scheduled;

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

/// A row of `post_targets` as stored.
#[derive(sqlx::FromRow)]
struct TargetRow {
    id: String,
    tenant_id: String,
    post_id: String,
    account_id: String,
    platform: String,
    status: String,
    platform_ref: Option<String>,
    platform_post_id: Option<String>,
    permalink: Option<String>,
    error_class: Option<String>,
    error_message: Option<String>,
    attempts: i64,
    published_at: Option<Millis>,
    updated_at: Millis,
}

impl TryFrom<TargetRow> for Target {
    type Error = StoreError;

    fn try_from(r: TargetRow) -> Result<Self> {
        Ok(Target {
            id: TargetId::from_db(&r.id)?,
            tenant_id: TenantId::from_db(&r.tenant_id)?,
            post_id: PostId::from_db(&r.post_id)?,
            account_id: AccountId::from_db(&r.account_id)?,
            platform: parse_enum(&r.platform, Platform::parse, "platform")?,
            status: parse_enum(&r.status, TargetStatus::parse, "target status")?,
            platform_ref: r.platform_ref,
            platform_post_id: r.platform_post_id,
            permalink: r.permalink,
            error_class: r.error_class,
            error_message: r.error_message,
            attempts: r.attempts,
            published_at: r.published_at,
            updated_at: r.updated_at,
        })
    }
}

pub(crate) fn target_from_row(row: &AnyRow) -> Result<Target> {
    TargetRow::from_row(row)?.try_into()
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

    /// The targets of several posts in one read (a page of the library), by post then platform.
    pub async fn targets_of_posts(&self, tenant: TenantId, posts: &[PostId]) -> Result<Vec<Target>> {
        if posts.is_empty() {
            return Ok(Vec::new());
        }
        let list = crate::dialect::placeholders(2, posts.len());
        let sql = format!(
            "SELECT {TARGET_COLUMNS} FROM post_targets WHERE tenant_id = $1 AND post_id IN ({list}) \
             ORDER BY post_id, platform, id"
        );
        let mut q = sqlx::query(&sql).bind(tenant.to_db());
        for p in posts {
            q = q.bind(p.to_db());
        }
        q.fetch_all(&self.pool).await?.iter().map(target_from_row).collect()
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

    /// The TikTok target of `tenant` whose platform reference is this `publish_id`.
    pub async fn tiktok_target_by_publish_id(&self, tenant: TenantId, publish_id: &str) -> Result<Option<TargetId>> {
        let row: Option<(String,)> = sqlx::query_as(
            "SELECT id FROM post_targets WHERE tenant_id = $1 AND platform = 'tiktok' AND platform_ref = $2",
        )
        .bind(tenant.to_db())
        .bind(publish_id)
        .fetch_optional(&self.pool)
        .await?;
        row.map(|(id,)| TargetId::from_db(&id).map_err(crate::StoreError::from)).transpose()
    }
}

/// The targets of a post that have not gone out, read inside the caller's transaction.
pub(crate) async fn pending_targets(
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
pub(crate) async fn enqueue_publish(
    tx: &mut sqlx::Transaction<'_, sqlx::Any>,
    target: &Target,
    at: Millis,
    now: Millis,
) -> Result<()> {
    let job = NewJob::publish(target.tenant_id, target.id, target.account_id, at);
    crate::jobs::insert(&mut **tx, &job, now, OnConflict::Requeue).await?;
    Ok(())
}

type Tx<'c> = sqlx::Transaction<'c, sqlx::Any>;

impl Store {
    /// Moves a target from one of `from` back to `pending`, so that it is published anew: its platform reference is
    /// dropped, its error becomes `error` (class, message), and a post that had ended (published, partially
    /// published, failed) is open again (`publishing`). With `requeue` its publish job is queued to run now; without,
    /// the caller is that job, running, and the runner retries it. `false` when the target was not in one of `from`.
    pub async fn retry_target(
        &self,
        tenant: TenantId,
        target: TargetId,
        from: &[TargetStatus],
        error: Option<(&str, &str)>,
        requeue: bool,
    ) -> Result<bool> {
        let now = now_ms();
        let mut tx = self.pool.begin().await?;
        let moved: Option<(String, String)> = sqlx::query_as(&format!(
            "UPDATE post_targets SET status = 'pending', platform_ref = NULL, error_class = $3, error_message = $4, \
             updated_at = $5 WHERE tenant_id = $1 AND id = $2 AND status IN ({}) RETURNING post_id, account_id",
            status_list(from)
        ))
        .bind(tenant.to_db())
        .bind(target.to_db())
        .bind(error.map(|e| e.0))
        .bind(error.map(|e| e.1))
        .bind(now)
        .fetch_optional(&mut *tx)
        .await?;
        let Some((post, account)) = moved else {
            tx.rollback().await?;
            return Ok(false);
        };
        if requeue {
            let job = NewJob::publish(tenant, target, AccountId::from_db(&account)?, now);
            insert(&mut *tx, &job, now, OnConflict::Requeue).await?;
        }
        // The recompute of a post with an open target: it is under way again.
        sqlx::query(
            "UPDATE posts SET status = 'publishing', version = version + 1, updated_at = $3 WHERE tenant_id = $1 \
             AND id = $2 AND status IN ('published', 'partially_published', 'failed')",
        )
        .bind(tenant.to_db())
        .bind(&post)
        .bind(now)
        .execute(&mut *tx)
        .await?;
        tx.commit().await?;
        if requeue {
            self.notify_jobs_changed();
        }
        Ok(true)
    }

    /// "It's published": the team confirms that a target whose outcome was unknown (or that failed) did go out.
    /// `false` when the target is in neither state.
    pub async fn confirm_target_by_hand(&self, tenant: TenantId, target: TargetId) -> Result<bool> {
        let now = now_ms();
        let mut tx = self.pool.begin().await?;
        let moved: Option<(String,)> = sqlx::query_as(
            "UPDATE post_targets SET status = 'published', published_at = $3, error_class = NULL, \
             error_message = NULL, updated_at = $3 WHERE tenant_id = $1 AND id = $2 \
             AND status IN ('unknown', 'failed') RETURNING post_id",
        )
        .bind(tenant.to_db())
        .bind(target.to_db())
        .bind(now)
        .fetch_optional(&mut *tx)
        .await?;
        self.finish_move(tx, tenant, moved.map(|(p,)| p), now).await
    }

    /// "Skip": the team gives a target up. A failed, unknown or still pending target is `cancelled` and its queued
    /// publish job with it. `false` when the target is in none of those states.
    pub async fn skip_target(&self, tenant: TenantId, target: TargetId) -> Result<bool> {
        let now = now_ms();
        let mut tx = self.pool.begin().await?;
        let moved: Option<(String,)> = sqlx::query_as(
            "UPDATE post_targets SET status = 'cancelled', updated_at = $3 WHERE tenant_id = $1 AND id = $2 \
             AND status IN ('failed', 'unknown', 'pending') RETURNING post_id",
        )
        .bind(tenant.to_db())
        .bind(target.to_db())
        .bind(now)
        .fetch_optional(&mut *tx)
        .await?;
        if moved.is_some() {
            sqlx::query(
                "UPDATE jobs SET state = 'cancelled', finished_at = $3, updated_at = $3 WHERE tenant_id = $1 \
                 AND unique_key = $2 AND state = 'queued'",
            )
            .bind(tenant.to_db())
            .bind(keys::publish(target))
            .bind(now)
            .execute(&mut *tx)
            .await?;
        }
        self.finish_move(tx, tenant, moved.map(|(p,)| p), now).await
    }

    /// Recomputes the post of a moved target (`post`, `None` when nothing moved) and commits; on PostgreSQL the
    /// post is recomputed again after the commit (see the module docs).
    async fn finish_move(&self, mut tx: Tx<'_>, tenant: TenantId, post: Option<String>, now: Millis) -> Result<bool> {
        let Some(post) = post else {
            tx.rollback().await?;
            return Ok(false);
        };
        sqlx::query(&refresh_post_statement("$2", "$3"))
            .bind(tenant.to_db())
            .bind(&post)
            .bind(now)
            .fetch_optional(&mut *tx)
            .await?;
        tx.commit().await?;
        if dialect::recompute_post_after_commit(self.backend) {
            self.refresh_post_status(tenant, PostId::from_db(&post)?).await?;
        }
        Ok(true)
    }
}

/// `'a','b'` for `status IN (...)`: statuses are code constants, never input.
fn status_list(statuses: &[TargetStatus]) -> String {
    statuses.iter().map(|s| format!("'{}'", s.as_str())).collect::<Vec<_>>().join(",")
}
