//! "Duplicate" on any post: a new draft with the post's title, idea, image prompt, every per-platform text, its
//! media in order and its accounts (the draft's choice, or the accounts of a scheduled or published post's
//! targets). The copy is one transaction of `INSERT ... SELECT`s that name their columns, each filtered by the
//! workspace, so another workspace's post id copies nothing and is `NotFound`.

use super::{post_from_row, Post, POST_COLUMNS};
use crate::{Result, Store, StoreError};
use tochen_domain::clock::now_ms;
use tochen_domain::ids::{PostId, TenantId, UserId};

impl Store {
    /// Copies `post` of this workspace into a new draft by `author` (told in `author_chat`).
    pub async fn duplicate_post(
        &self,
        tenant: TenantId,
        post: PostId,
        author: Option<UserId>,
        author_chat: Option<i64>,
    ) -> Result<Post> {
        let now = now_ms();
        let new = PostId::new();
        let (t, src, dst) = (tenant.to_db(), post.to_db(), new.to_db());
        let mut tx = self.pool.begin().await?;
        let copied = sqlx::query(
            "INSERT INTO posts (id, tenant_id, author_id, author_chat_id, title, idea, image_prompt, body, \
             platform_options, status, created_at, updated_at) \
             SELECT $3, tenant_id, $4, $5, title, idea, image_prompt, body, platform_options, 'draft', $6, $6 FROM posts \
             WHERE tenant_id = $1 AND id = $2",
        )
        .bind(&t)
        .bind(&src)
        .bind(&dst)
        .bind(author.map(|a| a.to_db()))
        .bind(author_chat)
        .bind(now)
        .execute(&mut *tx)
        .await?;
        if copied.rows_affected() == 0 {
            return Err(StoreError::NotFound("post"));
        }
        sqlx::query(
            "INSERT INTO post_contents (post_id, tenant_id, platform, body, hashtags, link, custom, updated_at) \
             SELECT $3, tenant_id, platform, body, hashtags, link, custom, $4 FROM post_contents \
             WHERE tenant_id = $1 AND post_id = $2",
        )
        .bind(&t)
        .bind(&src)
        .bind(&dst)
        .bind(now)
        .execute(&mut *tx)
        .await?;
        sqlx::query(
            "INSERT INTO post_media (post_id, tenant_id, media_id, position) \
             SELECT $3, tenant_id, media_id, position FROM post_media WHERE tenant_id = $1 AND post_id = $2",
        )
        .bind(&t)
        .bind(&src)
        .bind(&dst)
        .execute(&mut *tx)
        .await?;
        // The accounts: those of the post's targets once it was scheduled, else the draft's choice (none: the
        // bot proposes every active account, as for any new draft).
        let targets: (i64,) = sqlx::query_as("SELECT COUNT(*) FROM post_targets WHERE tenant_id = $1 AND post_id = $2")
            .bind(&t)
            .bind(&src)
            .fetch_one(&mut *tx)
            .await?;
        let accounts = if targets.0 > 0 {
            "INSERT INTO draft_accounts (post_id, tenant_id, account_id) \
             SELECT DISTINCT $3, t.tenant_id, t.account_id FROM post_targets t \
             JOIN social_accounts a ON a.id = t.account_id AND a.tenant_id = t.tenant_id \
             WHERE t.tenant_id = $1 AND t.post_id = $2"
        } else {
            "INSERT INTO draft_accounts (post_id, tenant_id, account_id) \
             SELECT $3, tenant_id, account_id FROM draft_accounts WHERE tenant_id = $1 AND post_id = $2"
        };
        sqlx::query(accounts).bind(&t).bind(&src).bind(&dst).execute(&mut *tx).await?;
        let row = sqlx::query(&format!("SELECT {POST_COLUMNS} FROM posts WHERE tenant_id = $1 AND id = $2"))
            .bind(&t)
            .bind(&dst)
            .fetch_one(&mut *tx)
            .await?;
        let copy = post_from_row(&row)?;
        sqlx::query(
            "INSERT INTO audit_log (id, tenant_id, actor_id, action, subject_type, subject_id, details, created_at) \
             VALUES ($1, $2, $3, 'post.duplicated', 'post', $4, $5, $6)",
        )
        .bind(uuid::Uuid::now_v7().to_string())
        .bind(&t)
        .bind(author.map(|a| a.to_db()))
        .bind(&dst)
        .bind(serde_json::json!({"from": src}).to_string())
        .bind(now)
        .execute(&mut *tx)
        .await?;
        tx.commit().await?;
        Ok(copy)
    }
}
