//! What a probe of a media file found beyond width, height and duration (container, codecs, frame rate), and the
//! per-post platform options with the workspace defaults they start from. Both are read by the media checks
//! before scheduling and by the publishers.

use crate::{Result, Store, StoreError};
use serde_json::{Map, Value};
use sqlx::Row;
use tochen_domain::clock::now_ms;
use tochen_domain::ids::{MediaId, PostId, TenantId};

/// The technical facts of a stored media file (`None` where the probe found nothing, or for images).
#[derive(Debug, Clone, Default, PartialEq)]
pub struct MediaTech {
    /// `MP4`, `MOV`, `JPEG`, `PNG`, `WebP`, `GIF` or `unknown`.
    pub container: Option<String>,
    /// ISO-BMFF sample entry of the video track (`avc1`, `hvc1`...).
    pub video_codec: Option<String>,
    pub audio_codec: Option<String>,
    pub fps: Option<f64>,
}

fn object(raw: &str) -> Map<String, Value> {
    match serde_json::from_str::<Value>(raw) {
        Ok(Value::Object(m)) => m,
        _ => Map::new(),
    }
}

impl Store {
    /// Records what a probe found, with the dimensions and duration.
    pub async fn set_media_tech(
        &self,
        tenant: TenantId,
        media: MediaId,
        size: (Option<i64>, Option<i64>, Option<i64>),
        tech: &MediaTech,
    ) -> Result<()> {
        let (width, height, duration_ms) = size;
        let done = sqlx::query(
            "UPDATE media SET width = $1, height = $2, duration_ms = $3, container = $4, video_codec = $5, \
             audio_codec = $6, fps_milli = $7 WHERE tenant_id = $8 AND id = $9",
        )
        .bind(width)
        .bind(height)
        .bind(duration_ms)
        .bind(tech.container.as_deref())
        .bind(tech.video_codec.as_deref())
        .bind(tech.audio_codec.as_deref())
        .bind(tech.fps.map(|f| (f * 1000.0).round() as i64))
        .bind(tenant.to_db())
        .bind(media.to_db())
        .execute(&self.pool)
        .await?;
        if done.rows_affected() == 0 {
            return Err(StoreError::NotFound("media"));
        }
        Ok(())
    }

    pub async fn media_tech(&self, tenant: TenantId, media: MediaId) -> Result<MediaTech> {
        let row = sqlx::query(
            "SELECT container, video_codec, audio_codec, fps_milli FROM media WHERE tenant_id = $1 AND id = $2",
        )
        .bind(tenant.to_db())
        .bind(media.to_db())
        .fetch_optional(self.reader())
        .await?
        .ok_or(StoreError::NotFound("media"))?;
        Ok(MediaTech {
            container: row.try_get("container")?,
            video_codec: row.try_get("video_codec")?,
            audio_codec: row.try_get("audio_codec")?,
            fps: row.try_get::<Option<i64>, _>("fps_milli")?.map(|f| f as f64 / 1000.0),
        })
    }

    /// The workspace's defaults for new posts' platform options (a JSON object, `{}` when none).
    pub async fn post_defaults(&self, tenant: TenantId) -> Result<Map<String, Value>> {
        let row = sqlx::query("SELECT post_defaults FROM tenants WHERE id = $1")
            .bind(tenant.to_db())
            .fetch_optional(self.reader())
            .await?
            .ok_or(StoreError::NotFound("tenant"))?;
        Ok(object(&row.try_get::<String, _>("post_defaults")?))
    }

    pub async fn set_post_defaults(&self, tenant: TenantId, defaults: &Map<String, Value>) -> Result<()> {
        sqlx::query("UPDATE tenants SET post_defaults = $1, updated_at = $2 WHERE id = $3")
            .bind(Value::Object(defaults.clone()).to_string())
            .bind(now_ms())
            .bind(tenant.to_db())
            .execute(&self.pool)
            .await?;
        Ok(())
    }

    /// The post's own platform options (only what was set on it).
    pub async fn post_options_own(&self, tenant: TenantId, post: PostId) -> Result<Map<String, Value>> {
        let row = sqlx::query("SELECT platform_options FROM posts WHERE tenant_id = $1 AND id = $2")
            .bind(tenant.to_db())
            .bind(post.to_db())
            .fetch_optional(self.reader())
            .await?
            .ok_or(StoreError::NotFound("post"))?;
        Ok(object(&row.try_get::<String, _>("platform_options")?))
    }

    /// The options a post publishes with: the workspace defaults, overridden key by key (one level deep, per
    /// platform section) by what was set on the post.
    /// One statement: the publish path reads this for every target.
    pub async fn post_options(&self, tenant: TenantId, post: PostId) -> Result<Map<String, Value>> {
        let row = sqlx::query(
            "SELECT t.post_defaults, p.platform_options FROM posts p JOIN tenants t ON t.id = p.tenant_id \
             WHERE p.tenant_id = $1 AND p.id = $2",
        )
        .bind(tenant.to_db())
        .bind(post.to_db())
        .fetch_optional(self.reader())
        .await?
        .ok_or(StoreError::NotFound("post"))?;
        Ok(merged_options(&row.try_get::<String, _>("post_defaults")?, &row.try_get::<String, _>("platform_options")?))
    }

    /// Replaces the post's own options. Options are not content: the post's version does not change.
    pub async fn set_post_options(&self, tenant: TenantId, post: PostId, options: &Map<String, Value>) -> Result<()> {
        let done = sqlx::query("UPDATE posts SET platform_options = $1 WHERE tenant_id = $2 AND id = $3")
            .bind(Value::Object(options.clone()).to_string())
            .bind(tenant.to_db())
            .bind(post.to_db())
            .execute(&self.pool)
            .await?;
        if done.rows_affected() == 0 {
            return Err(StoreError::NotFound("post"));
        }
        Ok(())
    }
}

/// The options a post publishes with, from the workspace's defaults and the post's own (both JSON objects as
/// stored): the post's override the defaults key by key, one level deep (per platform section).
pub(crate) fn merged_options(defaults: &str, own: &str) -> Map<String, Value> {
    let mut merged = object(defaults);
    for (k, v) in object(own) {
        match (merged.get_mut(&k), v) {
            (Some(Value::Object(base)), Value::Object(over)) => base.extend(over),
            (_, v) => {
                merged.insert(k, v);
            }
        }
    }
    merged
}
