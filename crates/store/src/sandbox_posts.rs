//! What the simulated platform of sandbox mode keeps: one row per post target published to a sandbox account,
//! with the caption as published and the media it was sent. Its permalink page (`/sandbox/{id}` on the web
//! service) reads it by id alone: the id (a UUIDv7 with 74 random bits) is the link's only credential, as a
//! platform's unlisted permalink would be.

use crate::{parse_enum, Result, Store, StoreError};
use serde::{Deserialize, Serialize};
use sqlx::any::AnyRow;
use sqlx::FromRow;
use tochen_domain::clock::{now_ms, Millis};
use tochen_domain::ids::{AccountId, TargetId, TenantId};
use tochen_domain::{MediaKind, Platform};

/// A media file the simulated platform received.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct SandboxMedia {
    pub kind: MediaKind,
    pub content_type: String,
    /// Path under the data directory.
    pub storage_path: String,
}

/// A post as the simulated platform published it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SandboxPost {
    pub id: String,
    pub tenant_id: TenantId,
    pub account_id: AccountId,
    pub target_id: TargetId,
    pub platform: Platform,
    pub account_name: String,
    pub caption: String,
    pub media: Vec<SandboxMedia>,
    pub created_at: Millis,
}

/// What the simulated platform is asked to publish.
#[derive(Debug, Clone)]
pub struct NewSandboxPost {
    pub tenant_id: TenantId,
    pub account_id: AccountId,
    pub target_id: TargetId,
    pub platform: Platform,
    pub account_name: String,
    pub caption: String,
    pub media: Vec<SandboxMedia>,
}

const COLUMNS: &str = "id, tenant_id, account_id, target_id, platform, account_name, caption, media, created_at";

/// A row of `sandbox_posts` as stored (ids and the platform as text, the media as JSON).
#[derive(sqlx::FromRow)]
struct SandboxPostRow {
    id: String,
    tenant_id: String,
    account_id: String,
    target_id: String,
    platform: String,
    account_name: String,
    caption: String,
    media: String,
    created_at: Millis,
}

impl TryFrom<SandboxPostRow> for SandboxPost {
    type Error = StoreError;

    fn try_from(r: SandboxPostRow) -> Result<Self> {
        Ok(SandboxPost {
            id: r.id,
            tenant_id: TenantId::from_db(&r.tenant_id)?,
            account_id: AccountId::from_db(&r.account_id)?,
            target_id: TargetId::from_db(&r.target_id)?,
            platform: parse_enum(&r.platform, Platform::parse, "platform")?,
            account_name: r.account_name,
            caption: r.caption,
            media: serde_json::from_str(&r.media).map_err(|e| StoreError::Corrupt(format!("sandbox media: {e}")))?,
            created_at: r.created_at,
        })
    }
}

fn from_row(row: &AnyRow) -> Result<SandboxPost> {
    SandboxPostRow::from_row(row)?.try_into()
}

impl Store {
    /// Keeps a post the simulated platform published. Publishing the same target again returns the post kept
    /// the first time, unchanged: a retried job never makes a second post.
    pub async fn publish_sandbox_post(&self, p: &NewSandboxPost) -> Result<SandboxPost> {
        let media = serde_json::to_string(&p.media).map_err(|e| StoreError::Corrupt(format!("sandbox media: {e}")))?;
        sqlx::query(
            "INSERT INTO sandbox_posts (id, tenant_id, account_id, target_id, platform, account_name, caption, media, \
             created_at) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9) ON CONFLICT (target_id) DO NOTHING",
        )
        .bind(uuid::Uuid::now_v7().to_string())
        .bind(p.tenant_id.to_db())
        .bind(p.account_id.to_db())
        .bind(p.target_id.to_db())
        .bind(p.platform.as_str())
        .bind(&p.account_name)
        .bind(&p.caption)
        .bind(media)
        .bind(now_ms())
        .execute(&self.pool)
        .await?;
        self.sandbox_post_of_target(p.tenant_id, p.target_id).await?.ok_or(StoreError::NotFound("sandbox post"))
    }

    /// The post the simulated platform kept for a target of this workspace, if it published one.
    pub async fn sandbox_post_of_target(&self, tenant: TenantId, target: TargetId) -> Result<Option<SandboxPost>> {
        let row = sqlx::query(&format!("SELECT {COLUMNS} FROM sandbox_posts WHERE tenant_id = $1 AND target_id = $2"))
            .bind(tenant.to_db())
            .bind(target.to_db())
            .fetch_optional(&self.pool)
            .await?;
        row.as_ref().map(from_row).transpose()
    }

    /// A sandbox post by its id, for its public permalink page.
    pub async fn sandbox_post(&self, id: &str) -> Result<Option<SandboxPost>> {
        let row = sqlx::query(&format!("SELECT {COLUMNS} FROM sandbox_posts WHERE id = $1"))
            .bind(id)
            .fetch_optional(&self.pool)
            .await?;
        row.as_ref().map(from_row).transpose()
    }
}
