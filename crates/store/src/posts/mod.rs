//! Posts and their per-platform text. A post starts as a draft; targets (one per platform account) are added
//! when it is scheduled.

use crate::{col, parse_enum, Result, Store, StoreError};
use sqlx::any::AnyRow;
use sqlx::FromRow;
use tochen_domain::clock::{now_ms, Millis};
use tochen_domain::ids::{PostId, TenantId, UserId};
use tochen_domain::{Platform, PostStatus};

mod albums;
pub(crate) mod approval_cards;
mod drafts;
mod duplicate;
mod library;

pub use approval_cards::{ApprovalCard, CardOutcome, SentCard};
pub use library::{normalize_tag, LibraryCursor, LibraryFilter, MAX_TAGS, TAG_CHARS};

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Post {
    pub id: PostId,
    pub tenant_id: TenantId,
    pub author_id: Option<UserId>,
    pub author_chat_id: Option<i64>,
    pub title: String,
    pub idea: String,
    pub image_prompt: String,
    /// The main text: versions that follow it (`PostContent::custom` false) get it when it changes.
    pub body: String,
    pub status: PostStatus,
    pub scheduled_at: Option<Millis>,
    pub rejection_reason: Option<String>,
    /// Bumped by every change; callers that edit compare it to refuse stale buttons.
    pub version: i64,
    pub created_at: Millis,
    pub updated_at: Millis,
}

/// The text of a post on one platform.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PostContent {
    pub platform: Platform,
    pub body: String,
    pub hashtags: Vec<String>,
    pub link: Option<String>,
    /// Edited for this platform: a change of the main text no longer reaches it.
    pub custom: bool,
}

pub(crate) const POST_COLUMNS: &str = "id, tenant_id, author_id, author_chat_id, title, idea, image_prompt, body, \
                                       status, scheduled_at, rejection_reason, version, created_at, updated_at";

/// A row of `posts` as stored.
#[derive(sqlx::FromRow)]
pub(crate) struct PostRow {
    id: String,
    tenant_id: String,
    author_id: Option<String>,
    author_chat_id: Option<i64>,
    title: String,
    idea: String,
    image_prompt: String,
    body: String,
    status: String,
    scheduled_at: Option<Millis>,
    rejection_reason: Option<String>,
    version: i64,
    created_at: Millis,
    updated_at: Millis,
}

impl PostRow {
    /// Reads a row whose columns carry `prefix` (a joined read that aliases them): the derive has no prefix that
    /// is chosen at run time, so this one is by hand.
    fn prefixed(row: &AnyRow, prefix: &str) -> Result<Self> {
        Ok(Self {
            id: col(row, &format!("{prefix}id"))?,
            tenant_id: col(row, &format!("{prefix}tenant_id"))?,
            author_id: col(row, &format!("{prefix}author_id"))?,
            author_chat_id: col(row, &format!("{prefix}author_chat_id"))?,
            title: col(row, &format!("{prefix}title"))?,
            idea: col(row, &format!("{prefix}idea"))?,
            image_prompt: col(row, &format!("{prefix}image_prompt"))?,
            body: col(row, &format!("{prefix}body"))?,
            status: col(row, &format!("{prefix}status"))?,
            scheduled_at: col(row, &format!("{prefix}scheduled_at"))?,
            rejection_reason: col(row, &format!("{prefix}rejection_reason"))?,
            version: col(row, &format!("{prefix}version"))?,
            created_at: col(row, &format!("{prefix}created_at"))?,
            updated_at: col(row, &format!("{prefix}updated_at"))?,
        })
    }
}

impl TryFrom<PostRow> for Post {
    type Error = StoreError;

    fn try_from(r: PostRow) -> Result<Self> {
        Ok(Post {
            id: PostId::from_db(&r.id)?,
            tenant_id: TenantId::from_db(&r.tenant_id)?,
            author_id: r.author_id.as_deref().map(UserId::from_db).transpose()?,
            author_chat_id: r.author_chat_id,
            title: r.title,
            idea: r.idea,
            image_prompt: r.image_prompt,
            body: r.body,
            status: parse_enum(&r.status, PostStatus::parse, "post status")?,
            scheduled_at: r.scheduled_at,
            rejection_reason: r.rejection_reason,
            version: r.version,
            created_at: r.created_at,
            updated_at: r.updated_at,
        })
    }
}

pub(crate) fn post_from_row(row: &AnyRow) -> Result<Post> {
    PostRow::from_row(row)?.try_into()
}

/// Decodes a row whose columns carry `prefix` (a joined read that aliases them).
pub(crate) fn post_from_prefixed(row: &AnyRow, prefix: &str) -> Result<Post> {
    PostRow::prefixed(row, prefix)?.try_into()
}

/// A row of `post_contents` as stored (hashtags are a JSON array).
#[derive(sqlx::FromRow)]
struct PostContentRow {
    platform: String,
    body: String,
    hashtags: String,
    link: Option<String>,
    custom: i64,
}

impl TryFrom<PostContentRow> for PostContent {
    type Error = StoreError;

    fn try_from(r: PostContentRow) -> Result<Self> {
        Ok(PostContent {
            platform: parse_enum(&r.platform, Platform::parse, "platform")?,
            body: r.body,
            hashtags: serde_json::from_str(&r.hashtags).unwrap_or_default(),
            link: r.link,
            custom: r.custom != 0,
        })
    }
}

impl Store {
    /// Creates a draft post.
    pub async fn create_draft(
        &self,
        tenant: TenantId,
        author: Option<UserId>,
        author_chat_id: Option<i64>,
        title: &str,
        idea: &str,
    ) -> Result<Post> {
        let now = now_ms();
        let row = sqlx::query(&format!(
            "INSERT INTO posts (id, tenant_id, author_id, author_chat_id, title, idea, status, created_at, updated_at) \
             VALUES ($1, $2, $3, $4, $5, $6, 'draft', $7, $7) RETURNING {POST_COLUMNS}"
        ))
        .bind(PostId::new().to_db())
        .bind(tenant.to_db())
        .bind(author.map(|a| a.to_db()))
        .bind(author_chat_id)
        .bind(title)
        .bind(idea)
        .bind(now)
        .fetch_one(&self.pool)
        .await?;
        post_from_row(&row)
    }

    /// A post of this workspace; another workspace's post id is `NotFound`, exactly like a missing one.
    pub async fn post(&self, tenant: TenantId, id: PostId) -> Result<Post> {
        let row = sqlx::query(&format!("SELECT {POST_COLUMNS} FROM posts WHERE tenant_id = $1 AND id = $2"))
            .bind(tenant.to_db())
            .bind(id.to_db())
            .fetch_optional(&self.pool)
            .await?
            .ok_or(StoreError::NotFound("post"))?;
        post_from_row(&row)
    }

    /// Posts of the workspace in any of `statuses`, by scheduled time then creation, paged.
    pub async fn posts_with_status(
        &self,
        tenant: TenantId,
        statuses: &[PostStatus],
        offset: i64,
        limit: i64,
    ) -> Result<Vec<Post>> {
        // The status list comes from the enum, never from input, so inlining it is safe.
        let list = statuses.iter().map(|s| format!("'{}'", s.as_str())).collect::<Vec<_>>().join(",");
        let rows = sqlx::query(&format!(
            "SELECT {POST_COLUMNS} FROM posts WHERE tenant_id = $1 AND status IN ({list}) \
             ORDER BY COALESCE(scheduled_at, created_at), id LIMIT $2 OFFSET $3"
        ))
        .bind(tenant.to_db())
        .bind(limit)
        .bind(offset)
        .fetch_all(&self.pool)
        .await?;
        rows.iter().map(post_from_row).collect()
    }

    /// Sets or replaces the text of a post on one platform and bumps the post's version.
    pub async fn set_post_content(&self, tenant: TenantId, post: PostId, content: &PostContent) -> Result<()> {
        let mut tx = self.pool.begin().await?;
        bump_version(&mut tx, tenant, post, false).await?;
        upsert_content(&mut tx, tenant, post, content, now_ms()).await?;
        tx.commit().await?;
        Ok(())
    }

    pub async fn post_contents(&self, tenant: TenantId, post: PostId) -> Result<Vec<PostContent>> {
        let rows: Vec<PostContentRow> = sqlx::query_as(
            "SELECT platform, body, hashtags, link, custom FROM post_contents WHERE tenant_id = $1 AND post_id = $2 ORDER BY platform",
        )
        .bind(tenant.to_db())
        .bind(post.to_db())
        .fetch_all(&self.pool)
        .await?;
        rows.into_iter().map(PostContent::try_from).collect()
    }

    /// Test support (only with the `test-support` feature). Moves a post to `to` only if it is still at
    /// `expected_version`: a stale button or a concurrent edit gets `Ok(false)` and changes nothing.
    #[cfg(feature = "test-support")]
    pub async fn set_post_status_if_version(
        &self,
        tenant: TenantId,
        post: PostId,
        expected_version: i64,
        to: PostStatus,
    ) -> Result<bool> {
        let done = sqlx::query(
            "UPDATE posts SET status = $4, version = version + 1, updated_at = $5 \
             WHERE tenant_id = $1 AND id = $2 AND version = $3",
        )
        .bind(tenant.to_db())
        .bind(post.to_db())
        .bind(expected_version)
        .bind(to.as_str())
        .bind(now_ms())
        .execute(&self.pool)
        .await?;
        Ok(done.rows_affected() == 1)
    }
}

/// Writes one platform's version of a post inside the caller's transaction.
pub(crate) async fn upsert_content(
    tx: &mut sqlx::Transaction<'_, sqlx::Any>,
    tenant: TenantId,
    post: PostId,
    c: &PostContent,
    now: Millis,
) -> Result<()> {
    sqlx::query(
        "INSERT INTO post_contents (post_id, tenant_id, platform, body, hashtags, link, custom, updated_at) \
         VALUES ($1, $2, $3, $4, $5, $6, $7, $8) ON CONFLICT (post_id, platform) DO UPDATE SET body = excluded.body, \
         hashtags = excluded.hashtags, link = excluded.link, custom = excluded.custom, updated_at = excluded.updated_at",
    )
    .bind(post.to_db())
    .bind(tenant.to_db())
    .bind(c.platform.as_str())
    .bind(&c.body)
    .bind(serde_json::to_string(&c.hashtags).unwrap_or_else(|_| "[]".into()))
    .bind(&c.link)
    .bind(i64::from(c.custom))
    .bind(now)
    .execute(&mut **tx)
    .await?;
    Ok(())
}

/// Bumps a post's version inside the caller's transaction, so buttons drawn for the old version are refused.
/// With `draft_only` only a draft matches. No matching row is `NotFound`.
pub(crate) async fn bump_version(
    tx: &mut sqlx::Transaction<'_, sqlx::Any>,
    tenant: TenantId,
    post: PostId,
    draft_only: bool,
) -> Result<()> {
    let sql = if draft_only {
        "UPDATE posts SET version = version + 1, updated_at = $3 WHERE tenant_id = $1 AND id = $2 AND status = 'draft'"
    } else {
        "UPDATE posts SET version = version + 1, updated_at = $3 WHERE tenant_id = $1 AND id = $2"
    };
    let bumped = sqlx::query(sql).bind(tenant.to_db()).bind(post.to_db()).bind(now_ms()).execute(&mut **tx).await?;
    if bumped.rows_affected() == 0 {
        return Err(StoreError::NotFound(if draft_only { "draft" } else { "post" }));
    }
    Ok(())
}
