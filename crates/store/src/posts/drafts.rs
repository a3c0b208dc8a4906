//! Store calls the bot needs around drafts: the accounts a draft is aimed at, its title and image prompt, and its
//! attached media. (The team's answers to the "did it go out?" buttons are target moves, in `targets`.)
//!
//! Every call takes the workspace, so an id from a forged button of another workspace simply matches nothing.

use crate::{Result, Store, StoreError};
use tochen_domain::clock::now_ms;
use tochen_domain::ids::{AccountId, MediaId, PostId, TenantId};

impl Store {
    /// The accounts a draft will be published to; `None` until someone chose (the bot then proposes
    /// every active account of the draft's platforms). A choice is never empty: the bot keeps at least one.
    pub async fn draft_accounts(&self, tenant: TenantId, post: PostId) -> Result<Option<Vec<AccountId>>> {
        let rows: Vec<(String,)> = sqlx::query_as(
            "SELECT account_id FROM draft_accounts WHERE tenant_id = $1 AND post_id = $2 ORDER BY account_id",
        )
        .bind(tenant.to_db())
        .bind(post.to_db())
        .fetch_all(&self.pool)
        .await?;
        if rows.is_empty() {
            return Ok(None);
        }
        rows.iter().map(|r| AccountId::from_db(&r.0).map_err(StoreError::from)).collect::<Result<Vec<_>>>().map(Some)
    }

    /// Sets the title and image prompt of a post and bumps its version.
    pub async fn set_post_meta(&self, tenant: TenantId, post: PostId, title: &str, image_prompt: &str) -> Result<()> {
        let done = sqlx::query(
            "UPDATE posts SET title = $3, image_prompt = $4, version = version + 1, updated_at = $5 \
             WHERE tenant_id = $1 AND id = $2",
        )
        .bind(tenant.to_db())
        .bind(post.to_db())
        .bind(title)
        .bind(image_prompt)
        .bind(now_ms())
        .execute(&self.pool)
        .await?;
        if done.rows_affected() == 0 {
            return Err(StoreError::NotFound("post"));
        }
        Ok(())
    }

    /// Test support (only with the `test-support` feature): makes `media` the (only) media of a post and bumps
    /// its version. The bot adds media through `Store::edit_post`.
    #[cfg(feature = "test-support")]
    pub async fn set_post_media(&self, tenant: TenantId, post: PostId, media: MediaId) -> Result<()> {
        let mut tx = self.pool.begin().await?;
        crate::posts::bump_version(&mut tx, tenant, post, false).await?;
        sqlx::query("DELETE FROM post_media WHERE tenant_id = $1 AND post_id = $2")
            .bind(tenant.to_db())
            .bind(post.to_db())
            .execute(&mut *tx)
            .await?;
        sqlx::query(
            "INSERT INTO post_media (post_id, tenant_id, media_id, position) \
             SELECT $1, $2, id, 0 FROM media WHERE tenant_id = $2 AND id = $3",
        )
        .bind(post.to_db())
        .bind(tenant.to_db())
        .bind(media.to_db())
        .execute(&mut *tx)
        .await?;
        tx.commit().await?;
        Ok(())
    }

    /// The media of a post with their kinds, in order.
    pub async fn post_media_kinds(&self, tenant: TenantId, post: PostId) -> Result<Vec<(MediaId, String)>> {
        let rows: Vec<(String, String)> = sqlx::query_as(
            "SELECT m.id, m.kind FROM post_media pm JOIN media m ON m.id = pm.media_id \
             WHERE pm.tenant_id = $1 AND pm.post_id = $2 ORDER BY pm.position",
        )
        .bind(tenant.to_db())
        .bind(post.to_db())
        .fetch_all(&self.pool)
        .await?;
        rows.into_iter().map(|(id, kind)| Ok((MediaId::from_db(&id)?, kind))).collect()
    }
}
