//! Stored media files (uploads, generated images). The bytes live under the data directory; the row says where
//! and what they are.

use crate::{parse_enum, Result, Store, StoreError};
use sqlx::any::AnyRow;
use sqlx::FromRow;
use tochen_domain::clock::{now_ms, Millis};
use tochen_domain::ids::{MediaId, TenantId};
use tochen_domain::MediaKind;

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct NewMedia {
    pub kind: MediaKind,
    pub content_type: String,
    pub size_bytes: i64,
    pub sha256: String,
    /// Relative to the data directory.
    pub storage_path: String,
    /// upload, generated, telegram.
    pub source: String,
    pub width: Option<i64>,
    pub height: Option<i64>,
    pub duration_ms: Option<i64>,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Media {
    pub id: MediaId,
    pub tenant_id: TenantId,
    pub info: NewMedia,
    pub created_at: Millis,
}

/// A row of `media` as stored.
#[derive(sqlx::FromRow)]
struct MediaRow {
    id: String,
    tenant_id: String,
    kind: String,
    content_type: String,
    size_bytes: i64,
    sha256: String,
    storage_path: String,
    source: String,
    width: Option<i64>,
    height: Option<i64>,
    duration_ms: Option<i64>,
    created_at: Millis,
}

impl TryFrom<MediaRow> for Media {
    type Error = StoreError;

    fn try_from(r: MediaRow) -> Result<Self> {
        Ok(Media {
            id: MediaId::from_db(&r.id)?,
            tenant_id: TenantId::from_db(&r.tenant_id)?,
            info: NewMedia {
                kind: parse_enum(&r.kind, MediaKind::parse, "media kind")?,
                content_type: r.content_type,
                size_bytes: r.size_bytes,
                sha256: r.sha256,
                storage_path: r.storage_path,
                source: r.source,
                width: r.width,
                height: r.height,
                duration_ms: r.duration_ms,
            },
            created_at: r.created_at,
        })
    }
}

fn media_from_row(row: &AnyRow) -> Result<Media> {
    MediaRow::from_row(row)?.try_into()
}

const COLUMNS: &str = "id, tenant_id, kind, content_type, size_bytes, sha256, storage_path, source, width, height, \
                       duration_ms, created_at";

impl Store {
    pub async fn insert_media(&self, tenant: TenantId, m: &NewMedia) -> Result<Media> {
        let row = sqlx::query(&format!(
            "INSERT INTO media (id, tenant_id, kind, content_type, size_bytes, sha256, storage_path, source, width, \
             height, duration_ms, created_at) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12) RETURNING {COLUMNS}"
        ))
        .bind(MediaId::new().to_db())
        .bind(tenant.to_db())
        .bind(m.kind.as_str())
        .bind(&m.content_type)
        .bind(m.size_bytes)
        .bind(&m.sha256)
        .bind(&m.storage_path)
        .bind(&m.source)
        .bind(m.width)
        .bind(m.height)
        .bind(m.duration_ms)
        .bind(now_ms())
        .fetch_one(&self.pool)
        .await?;
        media_from_row(&row)
    }

    /// The media stored at `storage_path` (the oldest, if two were written at once), if any.
    pub async fn media_at_path(&self, tenant: TenantId, storage_path: &str) -> Result<Option<Media>> {
        let row = sqlx::query(&format!(
            "SELECT {COLUMNS} FROM media WHERE tenant_id = $1 AND storage_path = $2 ORDER BY created_at, id LIMIT 1"
        ))
        .bind(tenant.to_db())
        .bind(storage_path)
        .fetch_optional(&self.pool)
        .await?;
        row.as_ref().map(media_from_row).transpose()
    }

    pub async fn media(&self, tenant: TenantId, id: MediaId) -> Result<Media> {
        let row = sqlx::query(&format!("SELECT {COLUMNS} FROM media WHERE tenant_id = $1 AND id = $2"))
            .bind(tenant.to_db())
            .bind(id.to_db())
            .fetch_optional(&self.pool)
            .await?
            .ok_or(StoreError::NotFound("media"))?;
        media_from_row(&row)
    }
}
