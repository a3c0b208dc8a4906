//! The moves of a post target outside the platform call: back to `pending` (the pipeline found that nothing went
//! out, or the team pressed "post again"), confirmed by hand ("it's published") and skipped. Begin and settle, the
//! moves around the platform call, are in `publishing.rs`; apart from cancelling a whole post (`targets.rs`, its
//! pending targets with it), nothing else writes a target's status after scheduling.
//!
//! Each move is a compare-and-set on the target's status and writes, in one transaction, what goes with it (the
//! publish job queued again, the queued job of a skipped target cancelled) and the post's status recomputed from all
//! of its targets, so a post never stays `publishing` after its last open target was answered by hand. On
//! PostgreSQL the post is recomputed once more after the commit, for the reason `settle_target` gives: a sibling
//! settled at the same moment by another transaction is seen only by a statement that starts after both committed.

use super::jobs::{insert, keys, NewJob, OnConflict};
use super::publishing::refresh_post_statement;
use super::{Backend, Result, Store};
use tochen_domain::clock::{now_ms, Millis};
use tochen_domain::ids::{AccountId, PostId, TargetId, TenantId};
use tochen_domain::TargetStatus;

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
        if self.backend == Backend::Postgres {
            self.refresh_post_status(tenant, PostId::from_db(&post)?).await?;
        }
        Ok(true)
    }
}

/// `'a','b'` for `status IN (...)`: statuses are code constants, never input.
fn status_list(statuses: &[TargetStatus]) -> String {
    statuses.iter().map(|s| format!("'{}'", s.as_str())).collect::<Vec<_>>().join(",")
}
