//! Changes to what is already published (issue 16): editing a published target's text and deleting it from the
//! platform, kept as `post_changes` rows that a `post.change` job carries out, and the history of a post.
//!
//! A change is requested in one transaction with its job, its audit row and a bump of the post's version (so
//! buttons drawn before it are refused as stale). The job claims `queued -> sending`, committed before the
//! platform is called; a retried job finds `sending` and does not send blindly ([`BeginChange::InFlight`]).
//! Settling writes the outcome, and on success the target's new state (`current_text`, `deleted_at`), the audit row
//! and another version bump, in one transaction.
//!
//! Every call takes the workspace: another workspace's post, target or change id matches nothing.

use crate::jobs::{insert_job, NewJob};
use crate::targets::{target_from_row, Target, TARGET_COLUMNS};
use crate::{col, parse_enum, Result, Store, StoreError};
use sqlx::any::AnyRow;
use tochen_domain::clock::{now_ms, Millis};
use tochen_domain::ids::{PostId, TargetId, TenantId, UserId};
use tochen_domain::jobs::{keys, PostChangePayload};
use tochen_domain::TargetStatus;

/// What a change does to a published target.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum ChangeKind {
    /// Replace the text (caption) of the published post.
    EditText,
    /// Delete the post from the platform.
    Delete,
}

impl ChangeKind {
    pub fn as_str(self) -> &'static str {
        match self {
            Self::EditText => "edit_text",
            Self::Delete => "delete",
        }
    }

    pub fn parse(s: &str) -> Option<Self> {
        match s {
            "edit_text" => Some(Self::EditText),
            "delete" => Some(Self::Delete),
            _ => None,
        }
    }
}

/// Where a change is.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum ChangeStatus {
    Queued,
    /// The platform call may have been sent (committed before it).
    Sending,
    Done,
    Failed,
    /// The platform never answered and the job gave up: it may or may not have happened.
    Unknown,
}

impl ChangeStatus {
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Queued => "queued",
            Self::Sending => "sending",
            Self::Done => "done",
            Self::Failed => "failed",
            Self::Unknown => "unknown",
        }
    }

    pub fn parse(s: &str) -> Option<Self> {
        match s {
            "queued" => Some(Self::Queued),
            "sending" => Some(Self::Sending),
            "done" => Some(Self::Done),
            "failed" => Some(Self::Failed),
            "unknown" => Some(Self::Unknown),
            _ => None,
        }
    }

    /// Whether the change is settled.
    pub fn is_final(self) -> bool {
        matches!(self, Self::Done | Self::Failed | Self::Unknown)
    }
}

/// One requested change of a published target.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PostChange {
    pub id: String,
    pub tenant_id: TenantId,
    pub post_id: PostId,
    pub target_id: TargetId,
    pub kind: ChangeKind,
    /// The new text of an edit.
    pub new_text: Option<String>,
    pub requested_by: Option<UserId>,
    /// The requester's display name, when they are still known.
    pub requested_by_name: Option<String>,
    /// Where the outcome is told.
    pub requested_chat_id: Option<i64>,
    pub status: ChangeStatus,
    pub error: Option<String>,
    pub attempts: i64,
    pub created_at: Millis,
    pub updated_at: Millis,
    pub finished_at: Option<Millis>,
}

/// A published target with what changed on it since.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TargetOnPlatform {
    pub target: Target,
    /// When it was deleted from the platform.
    pub deleted_at: Option<Millis>,
    /// Its text after the last edit done on the platform.
    pub current_text: Option<String>,
}

/// Why a change could not be requested.
#[derive(Debug, thiserror::Error)]
pub enum ChangeError {
    #[error("the post changed since this screen was shown")]
    Stale,
    #[error("the post is not published on this platform (or was deleted there)")]
    NotPublished,
    #[error("another change of this post on this platform is still under way")]
    Busy,
    #[error("an edit needs the new text")]
    NoText,
    #[error(transparent)]
    Store(#[from] StoreError),
}

impl From<sqlx::Error> for ChangeError {
    fn from(e: sqlx::Error) -> Self {
        Self::Store(e.into())
    }
}

/// What claiming a change found.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum BeginChange {
    /// `queued -> sending` now: send it.
    Started(PostChange),
    /// Already `sending`: an earlier attempt may have reached the platform.
    InFlight(PostChange),
    /// Already settled: nothing to do.
    Settled(PostChange),
}

/// One line of a post's history from the audit log.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct HistoryEntry {
    pub at: Millis,
    /// `post.approved`, `target.confirmed`, ...
    pub action: String,
    pub actor_name: Option<String>,
    /// The target the line is about, for target actions.
    pub target_id: Option<TargetId>,
}

const CHANGE_COLUMNS: &str = "c.id, c.tenant_id, c.post_id, c.target_id, c.kind, c.new_text, c.requested_by, \
     c.requested_chat_id, c.status, c.error, c.attempts, c.created_at, c.updated_at, c.finished_at, \
     u.first_name AS u_first_name, u.last_name AS u_last_name, u.username AS u_username";

fn change_from_row(row: &AnyRow) -> Result<PostChange> {
    let requested_by: Option<String> = col(row, "requested_by")?;
    Ok(PostChange {
        id: col(row, "id")?,
        tenant_id: TenantId::from_db(&col::<String>(row, "tenant_id")?)?,
        post_id: PostId::from_db(&col::<String>(row, "post_id")?)?,
        target_id: TargetId::from_db(&col::<String>(row, "target_id")?)?,
        kind: parse_enum(&col::<String>(row, "kind")?, ChangeKind::parse, "change kind")?,
        new_text: col(row, "new_text")?,
        requested_by: requested_by.as_deref().map(UserId::from_db).transpose()?,
        requested_by_name: person(row, "u_")?,
        requested_chat_id: col(row, "requested_chat_id")?,
        status: parse_enum(&col::<String>(row, "status")?, ChangeStatus::parse, "change status")?,
        error: col(row, "error")?,
        attempts: col(row, "attempts")?,
        created_at: col(row, "created_at")?,
        updated_at: col(row, "updated_at")?,
        finished_at: col(row, "finished_at")?,
    })
}

/// A person's name from joined `users` columns carrying `prefix`, as `User::display_name` writes it.
fn person(row: &AnyRow, prefix: &str) -> Result<Option<String>> {
    let first: Option<String> = col(row, &format!("{prefix}first_name"))?;
    let last: Option<String> = col(row, &format!("{prefix}last_name"))?;
    let username: Option<String> = col(row, &format!("{prefix}username"))?;
    Ok(match (first, last, username) {
        (Some(f), Some(l), _) => Some(format!("{f} {l}")),
        (Some(f), None, Some(u)) if f.is_empty() => Some(format!("@{u}")),
        (Some(f), _, _) => Some(f),
        (None, _, _) => None,
    })
}

async fn change_in(
    ex: impl sqlx::Executor<'_, Database = sqlx::Any>,
    tenant: TenantId,
    id: &str,
) -> Result<Option<PostChange>> {
    let row = sqlx::query(&format!(
        "SELECT {CHANGE_COLUMNS} FROM post_changes c LEFT JOIN users u ON u.id = c.requested_by \
         WHERE c.tenant_id = $1 AND c.id = $2"
    ))
    .bind(tenant.to_db())
    .bind(id)
    .fetch_optional(ex)
    .await?;
    row.as_ref().map(change_from_row).transpose()
}

/// Writes an audit row inside the caller's transaction.
async fn audit_in(
    tx: &mut sqlx::Transaction<'_, sqlx::Any>,
    tenant: TenantId,
    actor: Option<UserId>,
    action: &str,
    target: TargetId,
    details: serde_json::Value,
) -> Result<()> {
    sqlx::query(
        "INSERT INTO audit_log (id, tenant_id, actor_id, action, subject_type, subject_id, details, created_at) \
         VALUES ($1, $2, $3, $4, 'target', $5, $6, $7)",
    )
    .bind(uuid::Uuid::now_v7().to_string())
    .bind(tenant.to_db())
    .bind(actor.map(|a| a.to_db()))
    .bind(action)
    .bind(target.to_db())
    .bind(details.to_string())
    .bind(now_ms())
    .execute(&mut **tx)
    .await?;
    Ok(())
}

impl Store {
    /// Requests a change of a published target, if its post is still at `expected_version`: the change row, its
    /// `post.change` job (one at a time per account, like publishing), an audit row and a bump of the post's
    /// version, in one transaction. Refused when the post moved on ([`ChangeError::Stale`]), the target is not
    /// published or already deleted ([`ChangeError::NotPublished`]) or another change of it is open
    /// ([`ChangeError::Busy`]).
    #[allow(clippy::too_many_arguments)]
    pub async fn request_post_change(
        &self,
        tenant: TenantId,
        target: TargetId,
        expected_version: i64,
        kind: ChangeKind,
        new_text: Option<&str>,
        by: Option<UserId>,
        chat: Option<i64>,
    ) -> Result<PostChange, ChangeError> {
        if kind == ChangeKind::EditText && new_text.is_none_or(|t| t.trim().is_empty()) {
            return Err(ChangeError::NoText);
        }
        let now = now_ms();
        let mut tx = self.pool.begin().await?;
        let row: Option<(String, String, String, Option<Millis>)> = sqlx::query_as(
            "SELECT post_id, account_id, status, deleted_at FROM post_targets WHERE tenant_id = $1 AND id = $2",
        )
        .bind(tenant.to_db())
        .bind(target.to_db())
        .fetch_optional(&mut *tx)
        .await?;
        let Some((post, account, status, deleted_at)) = row else {
            return Err(StoreError::NotFound("post target").into());
        };
        // The version check first: whoever changed the post since the screen was drawn wins, and this press is stale.
        let bumped = sqlx::query(
            "UPDATE posts SET version = version + 1, updated_at = $4 WHERE tenant_id = $1 AND id = $2 AND version = $3",
        )
        .bind(tenant.to_db())
        .bind(&post)
        .bind(expected_version)
        .bind(now)
        .execute(&mut *tx)
        .await?;
        if bumped.rows_affected() == 0 {
            return Err(ChangeError::Stale);
        }
        if status != TargetStatus::Published.as_str() || deleted_at.is_some() {
            return Err(ChangeError::NotPublished);
        }
        let open: Option<(String,)> = sqlx::query_as(
            "SELECT id FROM post_changes WHERE tenant_id = $1 AND target_id = $2 AND status IN ('queued', 'sending')",
        )
        .bind(tenant.to_db())
        .bind(target.to_db())
        .fetch_optional(&mut *tx)
        .await?;
        if open.is_some() {
            return Err(ChangeError::Busy);
        }
        let id = uuid::Uuid::now_v7().to_string();
        sqlx::query(
            "INSERT INTO post_changes (id, tenant_id, post_id, target_id, kind, new_text, requested_by, \
             requested_chat_id, status, created_at, updated_at) \
             VALUES ($1, $2, $3, $4, $5, $6, $7, $8, 'queued', $9, $9)",
        )
        .bind(&id)
        .bind(tenant.to_db())
        .bind(&post)
        .bind(target.to_db())
        .bind(kind.as_str())
        .bind(new_text.filter(|_| kind == ChangeKind::EditText))
        .bind(by.map(|b| b.to_db()))
        .bind(chat)
        .bind(now)
        .execute(&mut *tx)
        .await?;
        let account = tochen_domain::ids::AccountId::from_db(&account).map_err(StoreError::from)?;
        let job = NewJob::new(&PostChangePayload { change_id: id.clone() })
            .tenant(tenant)
            .concurrency(keys::account(account));
        insert_job(&mut tx, &job, now).await?;
        let details = serde_json::json!({"change": id, "kind": kind.as_str()});
        audit_in(&mut tx, tenant, by, "post.change_requested", target, details).await?;
        let change = change_in(&mut *tx, tenant, &id).await?.ok_or(StoreError::NotFound("post change"))?;
        tx.commit().await?;
        self.notify_jobs_changed();
        Ok(change)
    }

    /// A change of this workspace.
    pub async fn post_change(&self, tenant: TenantId, id: &str) -> Result<PostChange> {
        change_in(&self.pool, tenant, id).await?.ok_or(StoreError::NotFound("post change"))
    }

    /// The changes of a post, oldest first.
    pub async fn post_changes(&self, tenant: TenantId, post: PostId) -> Result<Vec<PostChange>> {
        let rows = sqlx::query(&format!(
            "SELECT {CHANGE_COLUMNS} FROM post_changes c LEFT JOIN users u ON u.id = c.requested_by \
             WHERE c.tenant_id = $1 AND c.post_id = $2 ORDER BY c.created_at, c.id"
        ))
        .bind(tenant.to_db())
        .bind(post.to_db())
        .fetch_all(&self.pool)
        .await?;
        rows.iter().map(change_from_row).collect()
    }

    /// Claims a change for the job that runs it: `queued -> sending` (counted as an attempt), committed before
    /// the platform is called. A change already `sending` is returned as [`BeginChange::InFlight`] (its attempts
    /// counted again), a settled one as [`BeginChange::Settled`].
    pub async fn begin_post_change(&self, tenant: TenantId, id: &str) -> Result<BeginChange> {
        let now = now_ms();
        let started = sqlx::query(
            "UPDATE post_changes SET status = 'sending', attempts = attempts + 1, updated_at = $3 \
             WHERE tenant_id = $1 AND id = $2 AND status = 'queued'",
        )
        .bind(tenant.to_db())
        .bind(id)
        .bind(now)
        .execute(&self.pool)
        .await?;
        if started.rows_affected() == 1 {
            return Ok(BeginChange::Started(self.post_change(tenant, id).await?));
        }
        let again = sqlx::query(
            "UPDATE post_changes SET attempts = attempts + 1, updated_at = $3 \
             WHERE tenant_id = $1 AND id = $2 AND status = 'sending'",
        )
        .bind(tenant.to_db())
        .bind(id)
        .bind(now)
        .execute(&self.pool)
        .await?;
        let change = self.post_change(tenant, id).await?;
        Ok(if again.rows_affected() == 1 { BeginChange::InFlight(change) } else { BeginChange::Settled(change) })
    }

    /// Settles a `sending` change as `to` (done, failed or unknown) with `error`. On `done` the target shows it
    /// (the new text kept, or the time of the delete), the post's version is bumped and an audit row written, all
    /// in one transaction. `Ok(None)` when the change was not `sending` (another attempt settled it).
    pub async fn settle_post_change(
        &self,
        tenant: TenantId,
        id: &str,
        to: ChangeStatus,
        error: Option<&str>,
    ) -> Result<Option<PostChange>> {
        if !to.is_final() {
            return Err(StoreError::Corrupt(format!("a change cannot be settled as {}", to.as_str())));
        }
        let now = now_ms();
        let mut tx = self.pool.begin().await?;
        let done = sqlx::query(
            "UPDATE post_changes SET status = $3, error = $4, updated_at = $5, finished_at = $5 \
             WHERE tenant_id = $1 AND id = $2 AND status = 'sending'",
        )
        .bind(tenant.to_db())
        .bind(id)
        .bind(to.as_str())
        .bind(error)
        .bind(now)
        .execute(&mut *tx)
        .await?;
        if done.rows_affected() == 0 {
            return Ok(None);
        }
        let change = change_in(&mut *tx, tenant, id).await?.ok_or(StoreError::NotFound("post change"))?;
        if to == ChangeStatus::Done {
            let q = match (change.kind, &change.new_text) {
                (ChangeKind::EditText, text) => sqlx::query(
                    "UPDATE post_targets SET current_text = $3, updated_at = $4 WHERE tenant_id = $1 AND id = $2",
                )
                .bind(tenant.to_db())
                .bind(change.target_id.to_db())
                .bind(text.clone())
                .bind(now),
                (ChangeKind::Delete, _) => sqlx::query(
                    "UPDATE post_targets SET deleted_at = $3, updated_at = $3 WHERE tenant_id = $1 AND id = $2",
                )
                .bind(tenant.to_db())
                .bind(change.target_id.to_db())
                .bind(now),
            };
            q.execute(&mut *tx).await?;
        }
        sqlx::query("UPDATE posts SET version = version + 1, updated_at = $3 WHERE tenant_id = $1 AND id = $2")
            .bind(tenant.to_db())
            .bind(change.post_id.to_db())
            .bind(now)
            .execute(&mut *tx)
            .await?;
        let action = format!("post.change_{}", to.as_str());
        let details = serde_json::json!({"change": id, "kind": change.kind.as_str(), "error": error});
        audit_in(&mut tx, tenant, None, &action, change.target_id, details).await?;
        tx.commit().await?;
        Ok(Some(change))
    }

    /// The targets of a post with what changed on them since they were published, in the post's target order.
    pub async fn targets_on_platform(&self, tenant: TenantId, post: PostId) -> Result<Vec<TargetOnPlatform>> {
        let rows = sqlx::query(&format!(
            "SELECT {TARGET_COLUMNS}, deleted_at, current_text FROM post_targets \
             WHERE tenant_id = $1 AND post_id = $2 ORDER BY created_at, id"
        ))
        .bind(tenant.to_db())
        .bind(post.to_db())
        .fetch_all(&self.pool)
        .await?;
        rows.iter()
            .map(|r| {
                Ok(TargetOnPlatform {
                    target: target_from_row(r)?,
                    deleted_at: col(r, "deleted_at")?,
                    current_text: col(r, "current_text")?,
                })
            })
            .collect()
    }

    /// The audit log of a post and its targets, oldest first (at most `limit` lines, the latest kept).
    pub async fn post_history(&self, tenant: TenantId, post: PostId, limit: i64) -> Result<Vec<HistoryEntry>> {
        let rows = sqlx::query(
            "SELECT l.created_at, l.action, l.subject_type, l.subject_id, \
             u.first_name AS u_first_name, u.last_name AS u_last_name, u.username AS u_username \
             FROM audit_log l LEFT JOIN users u ON u.id = l.actor_id \
             WHERE l.tenant_id = $1 AND ((l.subject_type = 'post' AND l.subject_id = $2) OR \
             (l.subject_type = 'target' AND l.subject_id IN \
              (SELECT id FROM post_targets WHERE tenant_id = $1 AND post_id = $2))) \
             ORDER BY l.created_at DESC, l.id DESC LIMIT $3",
        )
        .bind(tenant.to_db())
        .bind(post.to_db())
        .bind(limit.max(0))
        .fetch_all(self.reader())
        .await?;
        let mut out = rows
            .iter()
            .map(|r| {
                let subject: Option<String> = col(r, "subject_id")?;
                let target = match col::<String>(r, "subject_type")?.as_str() {
                    "target" => subject.as_deref().map(TargetId::from_db).transpose()?,
                    _ => None,
                };
                Ok(HistoryEntry {
                    at: col(r, "created_at")?,
                    action: col(r, "action")?,
                    actor_name: person(r, "u_")?,
                    target_id: target,
                })
            })
            .collect::<Result<Vec<_>>>()?;
        out.reverse();
        Ok(out)
    }

    /// The simulated platform edits the caption of a post it keeps. `false` when it keeps no such post.
    pub async fn edit_sandbox_post(&self, tenant: TenantId, id: &str, caption: &str) -> Result<bool> {
        let done = sqlx::query("UPDATE sandbox_posts SET caption = $3 WHERE tenant_id = $1 AND id = $2")
            .bind(tenant.to_db())
            .bind(id)
            .bind(caption)
            .execute(&self.pool)
            .await?;
        Ok(done.rows_affected() == 1)
    }

    /// The simulated platform deletes a post it keeps (its permalink page is gone with it). `false` when it keeps
    /// no such post (already deleted).
    pub async fn delete_sandbox_post(&self, tenant: TenantId, id: &str) -> Result<bool> {
        let done = sqlx::query("DELETE FROM sandbox_posts WHERE tenant_id = $1 AND id = $2")
            .bind(tenant.to_db())
            .bind(id)
            .execute(&self.pool)
            .await?;
        Ok(done.rows_affected() == 1)
    }
}
