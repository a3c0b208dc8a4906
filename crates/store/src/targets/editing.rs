//! Changing a post that has not gone out: a draft, a rejected post, a scheduled post or one waiting for approval.
//!
//! Every change is one transaction that starts with a compare-and-set on the post's version and status, so a stale
//! button, a concurrent edit or a change racing the publish is refused whole, never half-applied. A scheduled post
//! whose publish job is already running (claimed, about to read the post) is refused too: the change could land
//! after the publisher read the post, or send an unapproved change out.
//!
//! Approval rounds follow the change in the same transaction: a post waiting for approval gets a new round of
//! cards (the earlier ones say who changed it), and an editor's change to an approved, scheduled post sends it
//! back to approval (its publish jobs are withdrawn and cards go out), as the approval flow does for a moved post.

use super::{enqueue_publish, pending_targets, target_from_row, Target, TARGET_COLUMNS};
use crate::posts::approval_cards::{queue_cards, settle_cards};
use crate::posts::upsert_content;
use crate::{ApprovalCard, CardOutcome, PostContent, Result, Store, StoreError};
use tochen_domain::clock::{now_ms, Millis};
use tochen_domain::ids::{AccountId, MediaId, PostId, TargetId, TenantId};
use tochen_domain::{Platform, PostStatus};

/// One change to a post.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum PostEdit {
    /// The main text. Every version that follows it gets `body` (and `hashtags`, when given); a version is made,
    /// following it, for each of `platforms` that has none yet.
    MainText {
        body: String,
        hashtags: Option<Vec<String>>,
        platforms: Vec<Platform>,
    },
    /// One platform's own version: from now on the main text no longer changes it.
    Version {
        platform: Platform,
        body: String,
        hashtags: Vec<String>,
    },
    /// A platform's version follows the main text again (and takes it now).
    FollowMain(Platform),
    /// Versions written whole (by the LLM), each with its own `custom`; with `main`, the main text too.
    Versions {
        contents: Vec<PostContent>,
        main: Option<String>,
    },
    /// Media added at the end, in this order (ids of other workspaces match nothing).
    AddMedia(Vec<MediaId>),
    RemoveMedia(MediaId),
    /// Moves a media item one place earlier (or, `earlier` false, one later).
    MoveMedia {
        media: MediaId,
        earlier: bool,
    },
    /// The accounts the post goes to (never empty). A platform that comes in without a version gets one that
    /// follows the main text (or, without one, borrows the first version's text), with the first version's
    /// hashtags.
    Accounts(Vec<AccountId>),
}

/// The approval round that goes with a change to a scheduled or waiting post.
pub struct EditApproval<'a> {
    /// The change is an editor's: an approved (scheduled) post goes back to approval.
    pub send_back: bool,
    /// What the earlier cards of a waiting post say once replaced.
    pub replaced: &'a CardOutcome<'a>,
    /// The new round's cards, for the post's new version and targets (run inside the transaction).
    pub cards: &'a (dyn Fn(i64, &[Target]) -> Vec<ApprovalCard> + Sync),
}

/// What a change did.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum EditOutcome {
    /// Applied: the post is at `version` and in `status`; `resubmitted` when a new round of cards went out.
    Done { version: i64, status: PostStatus, resubmitted: bool },
    /// Nothing changed, and why.
    Refused(EditRefusal),
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum EditRefusal {
    /// The post changed since the caller read it.
    Stale,
    /// The post is no longer one that can change this way (publishing, published, cancelled...).
    WrongStatus(PostStatus),
    /// Its publish job is running: it is being published right now.
    Publishing,
    /// The change would leave the post without accounts.
    NoAccounts,
    NotFound,
}

type Tx<'c> = sqlx::Transaction<'c, sqlx::Any>;

/// Statuses whose content may change.
const EDITABLE: &str = "'draft', 'rejected', 'scheduled', 'pending_approval'";

impl Store {
    /// Applies `edit` to `post` if it is still at `expected_version` and not yet going out, with the approval round
    /// `approval` asks for when the post is scheduled or waiting. One transaction; refused whole otherwise.
    pub async fn edit_post(
        &self,
        tenant: TenantId,
        post: PostId,
        expected_version: i64,
        edit: &PostEdit,
        approval: Option<&EditApproval<'_>>,
    ) -> Result<EditOutcome> {
        let now = now_ms();
        let mut tx = self.pool.begin().await?;
        let bumped: Option<(String, i64, Option<i64>)> = sqlx::query_as(&format!(
            "UPDATE posts SET version = version + 1, updated_at = $4 WHERE tenant_id = $1 AND id = $2 AND version = $3 \
             AND status IN ({EDITABLE}) RETURNING status, version, scheduled_at"
        ))
        .bind(tenant.to_db())
        .bind(post.to_db())
        .bind(expected_version)
        .bind(now)
        .fetch_optional(&mut *tx)
        .await?;
        let Some((status, version, scheduled_at)) = bumped else {
            tx.rollback().await?;
            return Ok(EditOutcome::Refused(self.edit_refusal(tenant, post).await?));
        };
        let status = PostStatus::parse(&status).ok_or(StoreError::NotFound("post status"))?;
        let live = matches!(status, PostStatus::Scheduled | PostStatus::PendingApproval);
        if live && publish_running(&mut tx, tenant, post).await? {
            tx.rollback().await?;
            return Ok(EditOutcome::Refused(EditRefusal::Publishing));
        }
        let send_back = status == PostStatus::Scheduled && approval.is_some_and(|a| a.send_back);
        let enqueue_at = (status == PostStatus::Scheduled && !send_back).then_some(scheduled_at.unwrap_or(now));
        if let Some(refusal) = apply(&mut tx, tenant, post, status, enqueue_at, edit, now).await? {
            tx.rollback().await?;
            return Ok(EditOutcome::Refused(refusal));
        }
        let mut status = status;
        let mut resubmitted = false;
        if let Some(ap) = approval.filter(|_| live) {
            if send_back {
                withdraw_publish_jobs(&mut tx, tenant, post).await?;
                // A claim that committed while this transaction ran (on PostgreSQL the delete above waited for
                // it and skipped its row) is seen now: the post is going out, and must not wait for approval.
                if publish_running(&mut tx, tenant, post).await? {
                    tx.rollback().await?;
                    return Ok(EditOutcome::Refused(EditRefusal::Publishing));
                }
                sqlx::query("UPDATE posts SET status = 'pending_approval' WHERE tenant_id = $1 AND id = $2")
                    .bind(tenant.to_db())
                    .bind(post.to_db())
                    .execute(&mut *tx)
                    .await?;
                status = PostStatus::PendingApproval;
            }
            if status == PostStatus::PendingApproval {
                let targets = pending_targets(&mut tx, tenant, post).await?;
                settle_cards(&mut tx, tenant, post, ap.replaced, now).await?;
                queue_cards(&mut tx, tenant, post, version, (ap.cards)(version, &targets), now).await?;
                resubmitted = true;
            }
        }
        tx.commit().await?;
        if live {
            self.notify_jobs_changed();
        }
        Ok(EditOutcome::Done { version, status, resubmitted })
    }

    async fn edit_refusal(&self, tenant: TenantId, post: PostId) -> Result<EditRefusal> {
        Ok(match self.post(tenant, post).await {
            Ok(p)
                if matches!(
                    p.status,
                    PostStatus::Draft | PostStatus::Rejected | PostStatus::Scheduled | PostStatus::PendingApproval
                ) =>
            {
                EditRefusal::Stale
            }
            Ok(p) => EditRefusal::WrongStatus(p.status),
            Err(StoreError::NotFound(_)) => EditRefusal::NotFound,
            Err(e) => return Err(e),
        })
    }
}

/// Whether a publish job of one of the post's targets is running (claimed by a worker).
async fn publish_running(tx: &mut Tx<'_>, tenant: TenantId, post: PostId) -> Result<bool> {
    let running: Option<(i64,)> = sqlx::query_as(
        "SELECT 1 FROM jobs WHERE tenant_id = $1 AND kind = 'publish' AND state = 'running' AND unique_key IN \
         (SELECT 'publish:' || id FROM post_targets WHERE tenant_id = $1 AND post_id = $2) LIMIT 1",
    )
    .bind(tenant.to_db())
    .bind(post.to_db())
    .fetch_optional(&mut **tx)
    .await?;
    Ok(running.is_some())
}

/// Deletes the queued publish jobs of the post's pending targets.
async fn withdraw_publish_jobs(tx: &mut Tx<'_>, tenant: TenantId, post: PostId) -> Result<()> {
    sqlx::query(
        "DELETE FROM jobs WHERE tenant_id = $1 AND kind = 'publish' AND state = 'queued' AND unique_key IN \
         (SELECT 'publish:' || id FROM post_targets WHERE tenant_id = $1 AND post_id = $2 AND status = 'pending')",
    )
    .bind(tenant.to_db())
    .bind(post.to_db())
    .execute(&mut **tx)
    .await?;
    Ok(())
}

fn tags_json(tags: &[String]) -> String {
    serde_json::to_string(tags).unwrap_or_else(|_| "[]".into())
}

/// Applies one edit inside the transaction. `enqueue_at`: the post is scheduled (and stays so), so new targets
/// get their publish jobs at that time. `Some(refusal)` when the edit cannot apply.
async fn apply(
    tx: &mut Tx<'_>,
    tenant: TenantId,
    post: PostId,
    status: PostStatus,
    enqueue_at: Option<Millis>,
    edit: &PostEdit,
    now: Millis,
) -> Result<Option<EditRefusal>> {
    let (t, p) = (tenant.to_db(), post.to_db());
    match edit {
        PostEdit::MainText { body, hashtags, platforms } => {
            sqlx::query("UPDATE posts SET body = $3 WHERE tenant_id = $1 AND id = $2")
                .bind(&t)
                .bind(&p)
                .bind(body)
                .execute(&mut **tx)
                .await?;
            match hashtags {
                Some(tags) => {
                    sqlx::query(
                        "UPDATE post_contents SET body = $3, hashtags = $4, updated_at = $5 WHERE tenant_id = $1 \
                         AND post_id = $2 AND custom = 0",
                    )
                    .bind(&t)
                    .bind(&p)
                    .bind(body)
                    .bind(tags_json(tags))
                    .bind(now)
                    .execute(&mut **tx)
                    .await?;
                }
                None => {
                    sqlx::query(
                        "UPDATE post_contents SET body = $3, updated_at = $4 WHERE tenant_id = $1 AND post_id = $2 \
                         AND custom = 0",
                    )
                    .bind(&t)
                    .bind(&p)
                    .bind(body)
                    .bind(now)
                    .execute(&mut **tx)
                    .await?;
                }
            }
            for platform in platforms {
                sqlx::query(
                    "INSERT INTO post_contents (post_id, tenant_id, platform, body, hashtags, custom, updated_at) \
                     VALUES ($1, $2, $3, $4, $5, 0, $6) ON CONFLICT (post_id, platform) DO NOTHING",
                )
                .bind(&p)
                .bind(&t)
                .bind(platform.as_str())
                .bind(body)
                .bind(hashtags.as_deref().map(tags_json).unwrap_or_else(|| "[]".into()))
                .bind(now)
                .execute(&mut **tx)
                .await?;
            }
        }
        PostEdit::Version { platform, body, hashtags } => {
            let c = PostContent {
                platform: *platform,
                body: body.clone(),
                hashtags: hashtags.clone(),
                link: None,
                custom: true,
            };
            upsert_content(tx, tenant, post, &c, now).await?;
        }
        PostEdit::FollowMain(platform) => {
            sqlx::query(
                "UPDATE post_contents SET custom = 0, updated_at = $4, body = (SELECT body FROM posts \
                 WHERE posts.id = post_contents.post_id) WHERE tenant_id = $1 AND post_id = $2 AND platform = $3",
            )
            .bind(&t)
            .bind(&p)
            .bind(platform.as_str())
            .bind(now)
            .execute(&mut **tx)
            .await?;
        }
        PostEdit::Versions { contents, main } => {
            for c in contents {
                upsert_content(tx, tenant, post, c, now).await?;
            }
            if let Some(main) = main {
                sqlx::query("UPDATE posts SET body = $3 WHERE tenant_id = $1 AND id = $2")
                    .bind(&t)
                    .bind(&p)
                    .bind(main)
                    .execute(&mut **tx)
                    .await?;
            }
        }
        PostEdit::AddMedia(ids) => {
            for id in ids {
                sqlx::query(
                    "INSERT INTO post_media (post_id, tenant_id, media_id, position) \
                     SELECT $1, $2, id, (SELECT COALESCE(MAX(position), -1) + 1 FROM post_media WHERE post_id = $1) \
                     FROM media WHERE tenant_id = $2 AND id = $3 ON CONFLICT (post_id, media_id) DO NOTHING",
                )
                .bind(&p)
                .bind(&t)
                .bind(id.to_db())
                .execute(&mut **tx)
                .await?;
            }
        }
        PostEdit::RemoveMedia(id) => {
            sqlx::query("DELETE FROM post_media WHERE tenant_id = $1 AND post_id = $2 AND media_id = $3")
                .bind(&t)
                .bind(&p)
                .bind(id.to_db())
                .execute(&mut **tx)
                .await?;
            renumber(tx, tenant, post, None).await?;
        }
        PostEdit::MoveMedia { media, earlier } => {
            renumber(tx, tenant, post, Some((*media, *earlier))).await?;
        }
        PostEdit::Accounts(accounts) => {
            if accounts.is_empty() {
                return Ok(Some(EditRefusal::NoAccounts));
            }
            for account in accounts {
                sqlx::query(
                    "INSERT INTO post_contents (post_id, tenant_id, platform, body, hashtags, custom, updated_at) \
                     SELECT $1, $2, a.platform, COALESCE(NULLIF(p.body, ''), (SELECT c.body FROM post_contents c \
                     WHERE c.post_id = $1 ORDER BY c.platform LIMIT 1), ''), COALESCE((SELECT c.hashtags FROM \
                     post_contents c WHERE c.post_id = $1 ORDER BY c.platform LIMIT 1), '[]'), 0, $4 \
                     FROM social_accounts a JOIN posts p ON p.id = $1 AND p.tenant_id = $2 \
                     WHERE a.tenant_id = $2 AND a.id = $3 ON CONFLICT (post_id, platform) DO NOTHING",
                )
                .bind(&p)
                .bind(&t)
                .bind(account.to_db())
                .bind(now)
                .execute(&mut **tx)
                .await?;
            }
            if matches!(status, PostStatus::Draft | PostStatus::Rejected) {
                set_draft_accounts(tx, tenant, post, accounts).await?;
            } else {
                set_target_accounts(tx, tenant, post, accounts, enqueue_at, now).await?;
                if pending_targets(tx, tenant, post).await?.is_empty() {
                    return Ok(Some(EditRefusal::NoAccounts));
                }
            }
        }
    }
    Ok(None)
}

/// Rewrites the positions of a post's media as 0, 1, 2... in their order, with `moved` one place earlier or later.
async fn renumber(tx: &mut Tx<'_>, tenant: TenantId, post: PostId, moved: Option<(MediaId, bool)>) -> Result<()> {
    let rows: Vec<(String,)> = sqlx::query_as(
        "SELECT media_id FROM post_media WHERE tenant_id = $1 AND post_id = $2 ORDER BY position, media_id",
    )
    .bind(tenant.to_db())
    .bind(post.to_db())
    .fetch_all(&mut **tx)
    .await?;
    let mut ids: Vec<String> = rows.into_iter().map(|r| r.0).collect();
    if let Some((media, earlier)) = moved {
        if let Some(i) = ids.iter().position(|x| *x == media.to_db()) {
            let j = if earlier { i.checked_sub(1) } else { Some(i + 1).filter(|j| *j < ids.len()) };
            if let Some(j) = j {
                ids.swap(i, j);
            }
        }
    }
    for (pos, id) in ids.iter().enumerate() {
        sqlx::query("UPDATE post_media SET position = $4 WHERE tenant_id = $1 AND post_id = $2 AND media_id = $3")
            .bind(tenant.to_db())
            .bind(post.to_db())
            .bind(id)
            .bind(pos as i64)
            .execute(&mut **tx)
            .await?;
    }
    Ok(())
}

async fn set_draft_accounts(tx: &mut Tx<'_>, tenant: TenantId, post: PostId, accounts: &[AccountId]) -> Result<()> {
    sqlx::query("DELETE FROM draft_accounts WHERE tenant_id = $1 AND post_id = $2")
        .bind(tenant.to_db())
        .bind(post.to_db())
        .execute(&mut **tx)
        .await?;
    for a in accounts {
        sqlx::query(
            "INSERT INTO draft_accounts (post_id, tenant_id, account_id) \
             SELECT $1, $2, id FROM social_accounts WHERE tenant_id = $2 AND id = $3",
        )
        .bind(post.to_db())
        .bind(tenant.to_db())
        .bind(a.to_db())
        .execute(&mut **tx)
        .await?;
    }
    Ok(())
}

/// The pending targets of a scheduled or waiting post become one per account of `accounts`: removed accounts'
/// targets and queued jobs go, new accounts get a target (and, when `enqueue_at`, its publish job).
async fn set_target_accounts(
    tx: &mut Tx<'_>,
    tenant: TenantId,
    post: PostId,
    accounts: &[AccountId],
    enqueue_at: Option<Millis>,
    now: Millis,
) -> Result<()> {
    let current = pending_targets(tx, tenant, post).await?;
    for gone in current.iter().filter(|x| !accounts.contains(&x.account_id)) {
        sqlx::query(
            "DELETE FROM jobs WHERE tenant_id = $1 AND kind = 'publish' AND state = 'queued' AND unique_key = $2",
        )
        .bind(tenant.to_db())
        .bind(format!("publish:{}", gone.id.to_db()))
        .execute(&mut **tx)
        .await?;
        sqlx::query("DELETE FROM post_targets WHERE tenant_id = $1 AND id = $2 AND status = 'pending'")
            .bind(tenant.to_db())
            .bind(gone.id.to_db())
            .execute(&mut **tx)
            .await?;
    }
    for account in accounts.iter().filter(|a| !current.iter().any(|x| x.account_id == **a)) {
        let row = sqlx::query(&format!(
            "INSERT INTO post_targets (id, tenant_id, post_id, account_id, platform, status, created_at, updated_at) \
             SELECT $1, $2, $3, id, platform, 'pending', $5, $5 FROM social_accounts WHERE tenant_id = $2 AND id = $4 \
             AND status <> 'disconnected' ON CONFLICT (post_id, account_id) DO NOTHING RETURNING {TARGET_COLUMNS}"
        ))
        .bind(TargetId::new().to_db())
        .bind(tenant.to_db())
        .bind(post.to_db())
        .bind(account.to_db())
        .bind(now)
        .fetch_optional(&mut **tx)
        .await?;
        if let (Some(row), Some(at)) = (row, enqueue_at) {
            enqueue_publish(tx, &target_from_row(&row)?, at, now).await?;
        }
    }
    Ok(())
}
