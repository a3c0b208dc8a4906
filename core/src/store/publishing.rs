//! The target state machine of the publishing pipeline: `pending -> publishing -> published | failed | unknown`.
//!
//! Each transition is a compare-and-set on the current status, so a stale or duplicated job cannot move a target
//! twice. `publishing` is committed before the platform is called; a target found in `publishing` by a later
//! attempt is one whose earlier request may have gone out, and must be checked or confirmed, never re-sent.
//! After each final transition the post's own status is recomputed from all of its targets.

use super::posts::{post_from_row, POST_COLUMNS};
use super::targets::{target_from_row, Target, TARGET_COLUMNS};
use super::{col, Result, Store, StoreError};
use crate::clock::now_ms;
use crate::domain::{MediaKind, PostStatus, TargetStatus};
use crate::ids::{MediaId, PostId, TargetId, TenantId};
use crate::store::{Account, AccountTokens, Post, PostContent};

/// The result of trying to move a target to `publishing`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum BeginPublish {
    /// This attempt moved it from `pending`; go ahead and call the platform.
    Started(Target),
    /// It was already `publishing`: an earlier attempt may have sent the request.
    InFlight(Target),
    /// It is in a final state (or cancelled): nothing to do.
    Settled(Target),
}

/// Everything the pipeline needs to build a publish request.
#[derive(Debug, Clone)]
pub struct PublishContext {
    pub post: Post,
    pub target: Target,
    pub account: Account,
    pub tokens: AccountTokens,
    pub content: Option<PostContent>,
    /// (media id, kind, content type, size, storage path) in post order.
    pub media: Vec<(MediaId, MediaKind, String, i64, String)>,
}

impl Store {
    /// Moves a `pending` target to `publishing` and its post to `publishing`, committed before the platform call.
    pub async fn begin_publishing(&self, tenant: TenantId, target: TargetId) -> Result<BeginPublish> {
        let now = now_ms();
        let row = sqlx::query(&format!(
            "UPDATE post_targets SET status = 'publishing', attempts = attempts + 1, error_class = NULL, \
             error_message = NULL, updated_at = $3 WHERE tenant_id = $1 AND id = $2 AND status = 'pending' \
             RETURNING {TARGET_COLUMNS}"
        ))
        .bind(tenant.to_db())
        .bind(target.to_db())
        .bind(now)
        .fetch_optional(&self.pool)
        .await?;
        if let Some(row) = row {
            let t = target_from_row(&row)?;
            sqlx::query(
                "UPDATE posts SET status = 'publishing', updated_at = $3 WHERE tenant_id = $1 AND id = $2 \
                 AND status = 'scheduled'",
            )
            .bind(tenant.to_db())
            .bind(t.post_id.to_db())
            .bind(now)
            .execute(&self.pool)
            .await?;
            return Ok(BeginPublish::Started(t));
        }
        let t = self.target(tenant, target).await?;
        Ok(match t.status {
            TargetStatus::Publishing => BeginPublish::InFlight(t),
            _ => BeginPublish::Settled(t),
        })
    }

    /// Durably records the platform's reference (container id, publish_id) of a target being published.
    pub async fn record_platform_ref(&self, tenant: TenantId, target: TargetId, platform_ref: &str) -> Result<()> {
        sqlx::query("UPDATE post_targets SET platform_ref = $3, updated_at = $4 WHERE tenant_id = $1 AND id = $2")
            .bind(tenant.to_db())
            .bind(target.to_db())
            .bind(platform_ref)
            .bind(now_ms())
            .execute(&self.pool)
            .await?;
        Ok(())
    }

    /// `publishing | unknown -> published`, with the platform's post id and permalink. `false` if it was not in
    /// one of those states.
    pub async fn mark_target_published(
        &self,
        tenant: TenantId,
        target: TargetId,
        platform_post_id: &str,
        permalink: Option<&str>,
    ) -> Result<bool> {
        let now = now_ms();
        let done = sqlx::query(
            "UPDATE post_targets SET status = 'published', platform_post_id = $3, permalink = $4, published_at = $5, \
             error_class = NULL, error_message = NULL, updated_at = $5 WHERE tenant_id = $1 AND id = $2 \
             AND status IN ('publishing', 'unknown')",
        )
        .bind(tenant.to_db())
        .bind(target.to_db())
        .bind(platform_post_id)
        .bind(permalink)
        .bind(now)
        .execute(&self.pool)
        .await?;
        Ok(done.rows_affected() == 1)
    }

    /// Moves a target from one of `from` to `to` (failed, unknown or back to pending) with an error class and
    /// message. `false` when the target was not in one of `from`.
    pub async fn move_target(
        &self,
        tenant: TenantId,
        target: TargetId,
        from: &[TargetStatus],
        to: TargetStatus,
        error: Option<(&str, &str)>,
    ) -> Result<bool> {
        let list = from.iter().map(|s| format!("'{}'", s.as_str())).collect::<Vec<_>>().join(",");
        let done = sqlx::query(&format!(
            "UPDATE post_targets SET status = $3, error_class = $4, error_message = $5, updated_at = $6 \
             WHERE tenant_id = $1 AND id = $2 AND status IN ({list})"
        ))
        .bind(tenant.to_db())
        .bind(target.to_db())
        .bind(to.as_str())
        .bind(error.map(|e| e.0))
        .bind(error.map(|e| e.1))
        .bind(now_ms())
        .execute(&self.pool)
        .await?;
        Ok(done.rows_affected() == 1)
    }

    /// The team confirmed that a target whose outcome was unknown did go out (button "it's published").
    pub async fn confirm_target_published(&self, tenant: TenantId, target: TargetId) -> Result<bool> {
        let now = now_ms();
        let done = sqlx::query(
            "UPDATE post_targets SET status = 'published', published_at = $3, error_class = NULL, \
             error_message = NULL, updated_at = $3 WHERE tenant_id = $1 AND id = $2 AND status = 'unknown'",
        )
        .bind(tenant.to_db())
        .bind(target.to_db())
        .bind(now)
        .execute(&self.pool)
        .await?;
        if done.rows_affected() == 1 {
            let t = self.target(tenant, target).await?;
            self.refresh_post_status(tenant, t.post_id).await?;
        }
        Ok(done.rows_affected() == 1)
    }

    /// The team asked to post a failed or unknown target again (button "post again"): it goes back to `pending`
    /// and its publish job is queued to run now.
    pub async fn retry_target(&self, tenant: TenantId, target: TargetId) -> Result<bool> {
        let moved = self
            .move_target(tenant, target, &[TargetStatus::Unknown, TargetStatus::Failed], TargetStatus::Pending, None)
            .await?;
        if moved {
            sqlx::query("UPDATE post_targets SET platform_ref = NULL WHERE tenant_id = $1 AND id = $2")
                .bind(tenant.to_db())
                .bind(target.to_db())
                .execute(&self.pool)
                .await?;
            let key = format!("publish:{target}");
            if !self.requeue_unique_job(&key, now_ms()).await? {
                let t = self.target(tenant, target).await?;
                let payload = serde_json::json!({ "target_id": target });
                let job = super::NewJob::new(crate::jobs::PUBLISH, payload)
                    .tenant(tenant)
                    .unique(key)
                    .concurrency(format!("account:{}", t.account_id));
                self.enqueue(&job).await?;
            }
        }
        Ok(moved)
    }

    /// Recomputes a post's status from its targets: still `publishing` while any target is pending, publishing or
    /// unknown; then `published` (all went out), `partially_published` (some did) or `failed` (none did).
    /// Returns the new status when it changed.
    pub async fn refresh_post_status(&self, tenant: TenantId, post: PostId) -> Result<Option<PostStatus>> {
        let rows: Vec<(String, i64)> = sqlx::query_as(
            "SELECT status, COUNT(*) FROM post_targets WHERE tenant_id = $1 AND post_id = $2 GROUP BY status",
        )
        .bind(tenant.to_db())
        .bind(post.to_db())
        .fetch_all(&self.pool)
        .await?;
        let count = |s: TargetStatus| rows.iter().find(|r| r.0 == s.as_str()).map(|r| r.1).unwrap_or(0);
        let open = count(TargetStatus::Pending) + count(TargetStatus::Publishing) + count(TargetStatus::Unknown);
        let (published, failed) = (count(TargetStatus::Published), count(TargetStatus::Failed));
        let status = if open > 0 {
            return Ok(None);
        } else if published > 0 && failed == 0 {
            PostStatus::Published
        } else if published > 0 {
            PostStatus::PartiallyPublished
        } else if failed > 0 {
            PostStatus::Failed
        } else {
            return Ok(None);
        };
        let done = sqlx::query(
            "UPDATE posts SET status = $3, updated_at = $4 WHERE tenant_id = $1 AND id = $2 AND status <> $3 \
             AND status IN ('scheduled', 'publishing', 'published', 'partially_published', 'failed')",
        )
        .bind(tenant.to_db())
        .bind(post.to_db())
        .bind(status.as_str())
        .bind(now_ms())
        .execute(&self.pool)
        .await?;
        Ok((done.rows_affected() == 1).then_some(status))
    }

    /// Loads what a publish request is built from. No transaction is held: each read is its own statement.
    pub async fn publish_context(&self, tenant: TenantId, target: TargetId) -> Result<PublishContext> {
        let target = self.target(tenant, target).await?;
        let row = sqlx::query(&format!("SELECT {POST_COLUMNS} FROM posts WHERE tenant_id = $1 AND id = $2"))
            .bind(tenant.to_db())
            .bind(target.post_id.to_db())
            .fetch_optional(&self.pool)
            .await?
            .ok_or(StoreError::NotFound("post"))?;
        let post = post_from_row(&row)?;
        let account = self.account(tenant, target.account_id).await?;
        let tokens = self.account_tokens(tenant, target.account_id).await?;
        let content = self.post_contents(tenant, post.id).await?.into_iter().find(|c| c.platform == target.platform);
        let rows = sqlx::query(
            "SELECT m.id, m.kind, m.content_type, m.size_bytes, m.storage_path FROM post_media pm \
             JOIN media m ON m.id = pm.media_id WHERE pm.tenant_id = $1 AND pm.post_id = $2 ORDER BY pm.position",
        )
        .bind(tenant.to_db())
        .bind(post.id.to_db())
        .fetch_all(&self.pool)
        .await?;
        let mut media = Vec::with_capacity(rows.len());
        for r in &rows {
            let kind: String = col(r, "kind")?;
            media.push((
                MediaId::from_db(&col::<String>(r, "id")?)?,
                super::parse_enum(&kind, MediaKind::parse, "media kind")?,
                col(r, "content_type")?,
                col(r, "size_bytes")?,
                col(r, "storage_path")?,
            ));
        }
        Ok(PublishContext { post, target, account, tokens, content, media })
    }

    /// Targets of every workspace in a status, for the crash test and for recovery views. A system read.
    pub async fn target_status_counts(&self) -> Result<Vec<(TargetStatus, i64)>> {
        let rows: Vec<(String, i64)> =
            sqlx::query_as("SELECT status, COUNT(*) FROM post_targets GROUP BY status ORDER BY status")
                .fetch_all(&self.pool)
                .await?;
        rows.into_iter().map(|(s, n)| Ok((super::parse_enum(&s, TargetStatus::parse, "target status")?, n))).collect()
    }
}
