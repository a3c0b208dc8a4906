//! Telegram albums being composed: a media group arrives as one message per item, and every item after the first
//! joins the draft the first one made. The row is keyed by chat and group, so whichever process handles an item
//! finds the same draft; rows older than a day are dropped as new ones come (an album arrives within seconds).

use crate::{Result, Store};
use tochen_domain::clock::now_ms;
use tochen_domain::ids::{PostId, TenantId};

const KEEP_MS: i64 = 24 * 3600 * 1000;

impl Store {
    /// Records `post` as the draft of album `group` in `chat`, unless another item got there first; returns the
    /// album's draft either way.
    pub async fn claim_album(&self, tenant: TenantId, chat: i64, group: &str, post: PostId) -> Result<PostId> {
        let now = now_ms();
        sqlx::query("DELETE FROM compose_albums WHERE created_at < $1").bind(now - KEEP_MS).execute(&self.pool).await?;
        sqlx::query(
            "INSERT INTO compose_albums (chat_id, media_group_id, tenant_id, post_id, created_at) \
             VALUES ($1, $2, $3, $4, $5) ON CONFLICT (chat_id, media_group_id) DO NOTHING",
        )
        .bind(chat)
        .bind(group)
        .bind(tenant.to_db())
        .bind(post.to_db())
        .bind(now)
        .execute(&self.pool)
        .await?;
        Ok(self.album_post(tenant, chat, group).await?.unwrap_or(post))
    }

    /// The draft album `group` of `chat` is being composed into, if any (in this workspace).
    pub async fn album_post(&self, tenant: TenantId, chat: i64, group: &str) -> Result<Option<PostId>> {
        let row: Option<(String,)> = sqlx::query_as(
            "SELECT post_id FROM compose_albums WHERE tenant_id = $1 AND chat_id = $2 AND media_group_id = $3",
        )
        .bind(tenant.to_db())
        .bind(chat)
        .bind(group)
        .fetch_optional(&self.pool)
        .await?;
        row.map(|r| PostId::from_db(&r.0).map_err(Into::into)).transpose()
    }
}
