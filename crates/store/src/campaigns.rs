//! Campaigns and their generation batches (issue 18).
//!
//! A campaign groups posts under a brief (name, brief, brand, audience, tone, goal, period, platforms and
//! accounts). Archiving is a soft delete: the row, its posts and its batch history stay.
//!
//! A batch is a list of items, each one post to generate, each run by one durable `batch.item` job (queued in the
//! transaction that creates the batch). Every item ends exactly once: the worker moves it `pending` -> `running`
//! ([`Store::begin_batch_item`]), and the draft it made is saved in the same transaction that moves it `running`
//! -> `done` ([`Store::complete_batch_item`]), guarded by the status, so a job that runs again after a crash, or
//! an item cancelled meanwhile, never saves a second draft. When no item is open any more the batch is finished
//! in that same transaction.

use crate::jobs::{insert_job, NewJob};
use crate::posts::PostContent;
use crate::{parse_enum, Result, Store, StoreError};
use tochen_domain::clock::{now_ms, Millis};
use tochen_domain::ids::{AccountId, BatchId, BatchItemId, CampaignId, MediaId, PostId, TenantId, UserId};
use tochen_domain::jobs::BatchItemPayload;
use tochen_domain::{BatchItemStatus, BatchStatus, CampaignStatus, Platform};

/// Longest campaign name, in characters.
pub const CAMPAIGN_NAME_CHARS: usize = 100;
/// Longest brief or other free-text field of a campaign, in characters.
pub const CAMPAIGN_TEXT_CHARS: usize = 2000;
/// Most items in one batch.
pub const MAX_BATCH_ITEMS: usize = 200;

/// What a person gives a campaign: on creation and on edit.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct CampaignFields {
    pub name: String,
    pub brief: String,
    pub brand: String,
    pub audience: String,
    pub tone: String,
    pub goal: String,
    pub starts_at: Option<Millis>,
    pub ends_at: Option<Millis>,
    pub platforms: Vec<Platform>,
    pub accounts: Vec<AccountId>,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Campaign {
    pub id: CampaignId,
    pub tenant_id: TenantId,
    pub fields: CampaignFields,
    /// As stored; [`Campaign::status_at`] tells an ended active campaign as finished.
    pub status: CampaignStatus,
    pub archived_at: Option<Millis>,
    pub created_by: Option<UserId>,
    pub created_at: Millis,
    pub updated_at: Millis,
}

impl Campaign {
    pub fn status_at(&self, now: Millis) -> CampaignStatus {
        self.status.effective(self.fields.ends_at, now)
    }
}

/// A campaign in the list, with its counts.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CampaignSummary {
    pub campaign: Campaign,
    pub posts: i64,
    pub published: i64,
    pub batches: i64,
}

/// Why a campaign change was refused.
#[derive(Debug, thiserror::Error)]
pub enum CampaignError {
    #[error("the campaign name is empty or longer than {CAMPAIGN_NAME_CHARS} characters")]
    BadName,
    #[error("the campaign ends before it starts")]
    BadPeriod,
    #[error("account {0} is not one of this workspace's")]
    UnknownAccount(AccountId),
    #[error("the campaign is archived")]
    Archived,
    #[error("a batch needs 1 to {MAX_BATCH_ITEMS} items with a topic")]
    BadBatchSize,
    #[error(transparent)]
    Store(#[from] StoreError),
}

impl From<sqlx::Error> for CampaignError {
    fn from(e: sqlx::Error) -> Self {
        CampaignError::Store(e.into())
    }
}

/// One post to generate: its topic and, optionally, its own tone, brief and audience (else the campaign's).
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct NewBatchItem {
    pub topic: String,
    pub tone: String,
    pub brief: String,
    pub audience: String,
}

/// How a batch is started.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct NewBatch {
    pub started_by: Option<UserId>,
    pub chat_id: Option<i64>,
    pub with_images: bool,
    pub items: Vec<NewBatchItem>,
    /// The estimate shown before starting (kept for the history).
    pub estimate_tokens: i64,
    pub estimate_cost_micros: i64,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Batch {
    pub id: BatchId,
    pub tenant_id: TenantId,
    pub campaign_id: CampaignId,
    pub started_by: Option<UserId>,
    pub chat_id: Option<i64>,
    pub with_images: bool,
    pub status: BatchStatus,
    pub total: i64,
    pub estimate_tokens: i64,
    pub estimate_cost_micros: i64,
    pub progress_message_id: Option<i64>,
    pub created_at: Millis,
    pub finished_at: Option<Millis>,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct BatchItem {
    pub id: BatchItemId,
    pub batch_id: BatchId,
    pub position: i64,
    pub item: NewBatchItem,
    pub status: BatchItemStatus,
    pub error: Option<String>,
    pub post_id: Option<PostId>,
    /// Failed generations so far (rate limits do not count).
    pub attempts: i64,
    /// How many times a person retried it.
    pub round: i64,
    /// When an admin approved its draft in the batch's review (`None`: not approved).
    pub approved_at: Option<Millis>,
}

/// How far a batch is, counted from its items.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct BatchProgress {
    pub total: i64,
    pub pending: i64,
    pub running: i64,
    pub done: i64,
    pub failed: i64,
    pub cancelled: i64,
    pub skipped: i64,
}

impl BatchProgress {
    /// Items that ended (any final status).
    pub fn ended(&self) -> i64 {
        self.done + self.failed + self.cancelled + self.skipped
    }
}

/// What a worker needs to generate an item: the item, its batch and campaign.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ItemWork {
    pub item: BatchItem,
    pub batch: Batch,
    pub campaign: Campaign,
}

/// A generated draft, saved when its item completes.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct GeneratedDraft {
    pub title: String,
    pub idea: String,
    pub image_prompt: String,
    /// One text per platform, each with its own `custom`; the first one's text is the main text.
    pub texts: Vec<PostContent>,
    pub media: Option<MediaId>,
}

const CAMPAIGN_COLUMNS: &str = "id, tenant_id, name, description, brand, audience, tone, goal, starts_at, ends_at, \
                                platforms, account_ids, status, archived_at, created_by, created_at, updated_at";

#[derive(sqlx::FromRow)]
struct CampaignRow {
    id: String,
    tenant_id: String,
    name: String,
    description: String,
    brand: String,
    audience: String,
    tone: String,
    goal: String,
    starts_at: Option<Millis>,
    ends_at: Option<Millis>,
    platforms: String,
    account_ids: String,
    status: String,
    archived_at: Option<Millis>,
    created_by: Option<String>,
    created_at: Millis,
    updated_at: Millis,
}

impl TryFrom<CampaignRow> for Campaign {
    type Error = StoreError;

    fn try_from(r: CampaignRow) -> Result<Self> {
        let platforms: Vec<String> = serde_json::from_str(&r.platforms).unwrap_or_default();
        let accounts: Vec<String> = serde_json::from_str(&r.account_ids).unwrap_or_default();
        Ok(Campaign {
            id: CampaignId::from_db(&r.id)?,
            tenant_id: TenantId::from_db(&r.tenant_id)?,
            fields: CampaignFields {
                name: r.name,
                brief: r.description,
                brand: r.brand,
                audience: r.audience,
                tone: r.tone,
                goal: r.goal,
                starts_at: r.starts_at,
                ends_at: r.ends_at,
                platforms: platforms.iter().filter_map(|p| Platform::parse(p)).collect(),
                accounts: accounts.iter().map(|a| AccountId::from_db(a)).collect::<Result<_, _>>()?,
            },
            status: parse_enum(&r.status, CampaignStatus::parse, "campaign status")?,
            archived_at: r.archived_at,
            created_by: r.created_by.as_deref().map(UserId::from_db).transpose()?,
            created_at: r.created_at,
            updated_at: r.updated_at,
        })
    }
}

const BATCH_COLUMNS: &str = "id, tenant_id, campaign_id, started_by, chat_id, with_images, status, total, \
                             estimate_tokens, estimate_cost_micros, progress_message_id, created_at, finished_at";

#[derive(sqlx::FromRow)]
struct BatchRow {
    id: String,
    tenant_id: String,
    campaign_id: String,
    started_by: Option<String>,
    chat_id: Option<i64>,
    with_images: i64,
    status: String,
    total: i64,
    estimate_tokens: i64,
    estimate_cost_micros: i64,
    progress_message_id: Option<i64>,
    created_at: Millis,
    finished_at: Option<Millis>,
}

impl TryFrom<BatchRow> for Batch {
    type Error = StoreError;

    fn try_from(r: BatchRow) -> Result<Self> {
        Ok(Batch {
            id: BatchId::from_db(&r.id)?,
            tenant_id: TenantId::from_db(&r.tenant_id)?,
            campaign_id: CampaignId::from_db(&r.campaign_id)?,
            started_by: r.started_by.as_deref().map(UserId::from_db).transpose()?,
            chat_id: r.chat_id,
            with_images: r.with_images != 0,
            status: parse_enum(&r.status, BatchStatus::parse, "batch status")?,
            total: r.total,
            estimate_tokens: r.estimate_tokens,
            estimate_cost_micros: r.estimate_cost_micros,
            progress_message_id: r.progress_message_id,
            created_at: r.created_at,
            finished_at: r.finished_at,
        })
    }
}

const ITEM_COLUMNS: &str =
    "id, batch_id, position, topic, tone, brief, audience, status, error, post_id, attempts, round, approved_at";

#[derive(sqlx::FromRow)]
struct ItemRow {
    id: String,
    batch_id: String,
    position: i64,
    topic: String,
    tone: String,
    brief: String,
    audience: String,
    status: String,
    error: Option<String>,
    post_id: Option<String>,
    attempts: i64,
    round: i64,
    approved_at: Option<Millis>,
}

impl TryFrom<ItemRow> for BatchItem {
    type Error = StoreError;

    fn try_from(r: ItemRow) -> Result<Self> {
        Ok(BatchItem {
            id: BatchItemId::from_db(&r.id)?,
            batch_id: BatchId::from_db(&r.batch_id)?,
            position: r.position,
            item: NewBatchItem { topic: r.topic, tone: r.tone, brief: r.brief, audience: r.audience },
            status: parse_enum(&r.status, BatchItemStatus::parse, "batch item status")?,
            error: r.error,
            post_id: r.post_id.as_deref().map(PostId::from_db).transpose()?,
            attempts: r.attempts,
            round: r.round,
            approved_at: r.approved_at,
        })
    }
}

fn clip(s: &str, max: usize) -> String {
    s.trim().chars().take(max).collect()
}

fn json_list<T: std::fmt::Display>(items: &[T]) -> String {
    serde_json::to_string(&items.iter().map(|i| i.to_string()).collect::<Vec<_>>()).unwrap_or_else(|_| "[]".into())
}

type Tx<'a> = sqlx::Transaction<'a, sqlx::Any>;

/// Moves the batch to `finished` when none of its items is open any more (inside the caller's transaction).
async fn finish_if_done(tx: &mut Tx<'_>, tenant: TenantId, batch: &str, now: Millis) -> Result<()> {
    sqlx::query(
        "UPDATE campaign_batches SET status = 'finished', finished_at = $3 WHERE tenant_id = $1 AND id = $2 \
         AND status = 'running' AND NOT EXISTS (SELECT 1 FROM batch_items i WHERE i.tenant_id = $1 \
         AND i.batch_id = $2 AND i.status IN ('pending', 'running'))",
    )
    .bind(tenant.to_db())
    .bind(batch)
    .bind(now)
    .execute(&mut **tx)
    .await?;
    Ok(())
}

/// Whether the batch still runs (inside the caller's transaction).
async fn batch_runs(tx: &mut Tx<'_>, tenant: TenantId, batch: &str) -> Result<bool> {
    let row: Option<(String,)> = sqlx::query_as("SELECT status FROM campaign_batches WHERE tenant_id = $1 AND id = $2")
        .bind(tenant.to_db())
        .bind(batch)
        .fetch_optional(&mut **tx)
        .await?;
    Ok(row.is_some_and(|(s,)| s == BatchStatus::Running.as_str()))
}

/// Locks the batch row of `item` for the rest of the caller's transaction (an UPDATE that changes nothing), so
/// the transactions that end a batch's items run one after another: on PostgreSQL each then sees the others'
/// committed items, and the last one to end finishes the batch (two concurrent ends would each still see the
/// other running and neither would).
async fn lock_batch_of_item(tx: &mut Tx<'_>, tenant: TenantId, item: BatchItemId) -> Result<()> {
    sqlx::query(
        "UPDATE campaign_batches SET total = total WHERE tenant_id = $1 AND id = (SELECT batch_id FROM batch_items \
         WHERE tenant_id = $1 AND id = $2)",
    )
    .bind(tenant.to_db())
    .bind(item.to_db())
    .execute(&mut **tx)
    .await?;
    Ok(())
}

impl Store {
    async fn check_campaign_fields(&self, tenant: TenantId, f: &CampaignFields) -> Result<(), CampaignError> {
        let name = f.name.trim();
        if name.is_empty() || name.chars().count() > CAMPAIGN_NAME_CHARS {
            return Err(CampaignError::BadName);
        }
        if let (Some(s), Some(e)) = (f.starts_at, f.ends_at) {
            if e < s {
                return Err(CampaignError::BadPeriod);
            }
        }
        for a in &f.accounts {
            let row: Option<(String,)> =
                sqlx::query_as("SELECT id FROM social_accounts WHERE tenant_id = $1 AND id = $2")
                    .bind(tenant.to_db())
                    .bind(a.to_db())
                    .fetch_optional(self.reader())
                    .await?;
            if row.is_none() {
                return Err(CampaignError::UnknownAccount(*a));
            }
        }
        Ok(())
    }

    /// Creates a campaign as a draft.
    pub async fn create_campaign(
        &self,
        tenant: TenantId,
        by: Option<UserId>,
        f: &CampaignFields,
    ) -> Result<Campaign, CampaignError> {
        self.check_campaign_fields(tenant, f).await?;
        let now = now_ms();
        let id = CampaignId::new();
        sqlx::query(
            "INSERT INTO campaigns (id, tenant_id, name, description, brand, audience, tone, goal, starts_at, \
             ends_at, platforms, account_ids, status, created_by, created_at, updated_at) \
             VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, 'draft', $13, $14, $14)",
        )
        .bind(id.to_db())
        .bind(tenant.to_db())
        .bind(clip(&f.name, CAMPAIGN_NAME_CHARS))
        .bind(clip(&f.brief, CAMPAIGN_TEXT_CHARS))
        .bind(clip(&f.brand, CAMPAIGN_TEXT_CHARS))
        .bind(clip(&f.audience, CAMPAIGN_TEXT_CHARS))
        .bind(clip(&f.tone, CAMPAIGN_TEXT_CHARS))
        .bind(clip(&f.goal, CAMPAIGN_TEXT_CHARS))
        .bind(f.starts_at)
        .bind(f.ends_at)
        .bind(json_list(&f.platforms))
        .bind(json_list(&f.accounts))
        .bind(by.map(|u| u.to_db()))
        .bind(now)
        .execute(&self.pool)
        .await?;
        Ok(self.campaign(tenant, id).await?)
    }

    /// A campaign of this workspace; another workspace's is `NotFound`, like a missing one.
    pub async fn campaign(&self, tenant: TenantId, id: CampaignId) -> Result<Campaign> {
        let row: CampaignRow =
            sqlx::query_as(&format!("SELECT {CAMPAIGN_COLUMNS} FROM campaigns WHERE tenant_id = $1 AND id = $2"))
                .bind(tenant.to_db())
                .bind(id.to_db())
                .fetch_optional(&self.pool)
                .await?
                .ok_or(StoreError::NotFound("campaign"))?;
        row.try_into()
    }

    /// Whether the workspace has a campaign that is not archived (one cheap read: the draft screen asks on every
    /// render whether to offer its Campaign button).
    pub async fn has_open_campaigns(&self, tenant: TenantId) -> Result<bool> {
        let row: Option<(i64,)> =
            sqlx::query_as("SELECT 1 FROM campaigns WHERE tenant_id = $1 AND status <> 'archived' LIMIT 1")
                .bind(tenant.to_db())
                .fetch_optional(self.reader())
                .await?;
        Ok(row.is_some())
    }

    /// The workspace's campaigns with their counts, newest first; archived ones only with `archived`.
    pub async fn campaigns(&self, tenant: TenantId, archived: bool) -> Result<Vec<CampaignSummary>> {
        let cond = if archived { "" } else { "AND c.status <> 'archived'" };
        let rows: Vec<(String,)> = sqlx::query_as(&format!(
            "SELECT c.id FROM campaigns c WHERE c.tenant_id = $1 {cond} ORDER BY c.created_at DESC, c.id DESC"
        ))
        .bind(tenant.to_db())
        .fetch_all(&self.pool)
        .await?;
        let mut out = Vec::with_capacity(rows.len());
        for (id,) in rows {
            let campaign = self.campaign(tenant, CampaignId::from_db(&id)?).await?;
            let counts: (i64, Option<i64>) = sqlx::query_as(
                "SELECT COUNT(*), CAST(SUM(CASE WHEN status IN ('published', 'partially_published') THEN 1 ELSE 0 \
                 END) AS BIGINT) FROM posts WHERE tenant_id = $1 AND campaign_id = $2",
            )
            .bind(tenant.to_db())
            .bind(&id)
            .fetch_one(self.reader())
            .await?;
            let batches: (i64,) =
                sqlx::query_as("SELECT COUNT(*) FROM campaign_batches WHERE tenant_id = $1 AND campaign_id = $2")
                    .bind(tenant.to_db())
                    .bind(&id)
                    .fetch_one(self.reader())
                    .await?;
            out.push(CampaignSummary {
                campaign,
                posts: counts.0,
                published: counts.1.unwrap_or(0),
                batches: batches.0,
            });
        }
        Ok(out)
    }

    /// Replaces a campaign's fields. `Archived` for an archived one (restore it first).
    pub async fn update_campaign(
        &self,
        tenant: TenantId,
        id: CampaignId,
        f: &CampaignFields,
    ) -> Result<Campaign, CampaignError> {
        self.check_campaign_fields(tenant, f).await?;
        let current = self.campaign(tenant, id).await?;
        if current.status == CampaignStatus::Archived {
            return Err(CampaignError::Archived);
        }
        sqlx::query(
            "UPDATE campaigns SET name = $3, description = $4, brand = $5, audience = $6, tone = $7, goal = $8, \
             starts_at = $9, ends_at = $10, platforms = $11, account_ids = $12, updated_at = $13 \
             WHERE tenant_id = $1 AND id = $2 AND status <> 'archived'",
        )
        .bind(tenant.to_db())
        .bind(id.to_db())
        .bind(clip(&f.name, CAMPAIGN_NAME_CHARS))
        .bind(clip(&f.brief, CAMPAIGN_TEXT_CHARS))
        .bind(clip(&f.brand, CAMPAIGN_TEXT_CHARS))
        .bind(clip(&f.audience, CAMPAIGN_TEXT_CHARS))
        .bind(clip(&f.tone, CAMPAIGN_TEXT_CHARS))
        .bind(clip(&f.goal, CAMPAIGN_TEXT_CHARS))
        .bind(f.starts_at)
        .bind(f.ends_at)
        .bind(json_list(&f.platforms))
        .bind(json_list(&f.accounts))
        .bind(now_ms())
        .execute(&self.pool)
        .await?;
        Ok(self.campaign(tenant, id).await?)
    }

    /// Sets a campaign's status; archiving stamps `archived_at` (a soft delete: posts and batches stay), any
    /// other status clears it (restore). `false` when the workspace has no such campaign.
    pub async fn set_campaign_status(&self, tenant: TenantId, id: CampaignId, status: CampaignStatus) -> Result<bool> {
        let now = now_ms();
        let archived_at = (status == CampaignStatus::Archived).then_some(now);
        let done = sqlx::query(
            "UPDATE campaigns SET status = $3, archived_at = $4, updated_at = $5 WHERE tenant_id = $1 AND id = $2",
        )
        .bind(tenant.to_db())
        .bind(id.to_db())
        .bind(status.as_str())
        .bind(archived_at)
        .bind(now)
        .execute(&self.pool)
        .await?;
        Ok(done.rows_affected() == 1)
    }

    /// Puts a post in a campaign (or takes it out with `None`). `false` when the post or the campaign is not
    /// this workspace's, or the campaign is archived.
    pub async fn set_post_campaign(
        &self,
        tenant: TenantId,
        post: PostId,
        campaign: Option<CampaignId>,
    ) -> Result<bool> {
        let done = match campaign {
            Some(c) => {
                sqlx::query(
                    "UPDATE posts SET campaign_id = $3, updated_at = $4 WHERE tenant_id = $1 AND id = $2 \
                     AND EXISTS (SELECT 1 FROM campaigns c WHERE c.tenant_id = $1 AND c.id = $3 \
                     AND c.status <> 'archived')",
                )
                .bind(tenant.to_db())
                .bind(post.to_db())
                .bind(c.to_db())
                .bind(now_ms())
                .execute(&self.pool)
                .await?
            }
            None => {
                sqlx::query("UPDATE posts SET campaign_id = NULL, updated_at = $3 WHERE tenant_id = $1 AND id = $2")
                    .bind(tenant.to_db())
                    .bind(post.to_db())
                    .bind(now_ms())
                    .execute(&self.pool)
                    .await?
            }
        };
        Ok(done.rows_affected() == 1)
    }

    /// The campaign a post belongs to.
    pub async fn post_campaign(&self, tenant: TenantId, post: PostId) -> Result<Option<CampaignId>> {
        let row: Option<(Option<String>,)> =
            sqlx::query_as("SELECT campaign_id FROM posts WHERE tenant_id = $1 AND id = $2")
                .bind(tenant.to_db())
                .bind(post.to_db())
                .fetch_optional(self.reader())
                .await?;
        Ok(row.and_then(|r| r.0).as_deref().map(CampaignId::from_db).transpose()?)
    }

    /// Starts a batch: the batch, its items and one `batch.item` job per item, in one transaction. The campaign
    /// must be this workspace's and not archived.
    pub async fn start_batch(
        &self,
        tenant: TenantId,
        campaign: CampaignId,
        b: &NewBatch,
    ) -> Result<(Batch, Vec<BatchItem>), CampaignError> {
        if b.items.is_empty() || b.items.len() > MAX_BATCH_ITEMS || b.items.iter().any(|i| i.topic.trim().is_empty()) {
            return Err(CampaignError::BadBatchSize);
        }
        let c = self.campaign(tenant, campaign).await?;
        if c.status == CampaignStatus::Archived {
            return Err(CampaignError::Archived);
        }
        let now = now_ms();
        let id = BatchId::new();
        let mut tx = self.pool.begin().await?;
        sqlx::query(
            "INSERT INTO campaign_batches (id, tenant_id, campaign_id, started_by, chat_id, with_images, status, \
             total, estimate_tokens, estimate_cost_micros, created_at) \
             VALUES ($1, $2, $3, $4, $5, $6, 'running', $7, $8, $9, $10)",
        )
        .bind(id.to_db())
        .bind(tenant.to_db())
        .bind(campaign.to_db())
        .bind(b.started_by.map(|u| u.to_db()))
        .bind(b.chat_id)
        .bind(i64::from(b.with_images))
        .bind(b.items.len() as i64)
        .bind(b.estimate_tokens)
        .bind(b.estimate_cost_micros)
        .bind(now)
        .execute(&mut *tx)
        .await?;
        for (pos, item) in b.items.iter().enumerate() {
            let item_id = BatchItemId::new();
            sqlx::query(
                "INSERT INTO batch_items (id, tenant_id, batch_id, position, topic, tone, brief, audience, status, \
                 created_at, updated_at) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, 'pending', $9, $9)",
            )
            .bind(item_id.to_db())
            .bind(tenant.to_db())
            .bind(id.to_db())
            .bind(pos as i64)
            .bind(clip(&item.topic, CAMPAIGN_TEXT_CHARS))
            .bind(clip(&item.tone, CAMPAIGN_TEXT_CHARS))
            .bind(clip(&item.brief, CAMPAIGN_TEXT_CHARS))
            .bind(clip(&item.audience, CAMPAIGN_TEXT_CHARS))
            .bind(now)
            .execute(&mut *tx)
            .await?;
            let job = NewJob::new(&BatchItemPayload { tenant_id: tenant, item_id, round: 0 }).tenant(tenant);
            insert_job(&mut tx, &job, now).await?;
        }
        tx.commit().await?;
        self.notify_jobs_changed();
        if c.status == CampaignStatus::Draft {
            self.set_campaign_status(tenant, campaign, CampaignStatus::Active).await?;
        }
        let batch = self.batch(tenant, id).await?;
        let items = self.batch_items(tenant, id).await?;
        Ok((batch, items))
    }

    pub async fn batch(&self, tenant: TenantId, id: BatchId) -> Result<Batch> {
        let row: BatchRow =
            sqlx::query_as(&format!("SELECT {BATCH_COLUMNS} FROM campaign_batches WHERE tenant_id = $1 AND id = $2"))
                .bind(tenant.to_db())
                .bind(id.to_db())
                .fetch_optional(&self.pool)
                .await?
                .ok_or(StoreError::NotFound("batch"))?;
        row.try_into()
    }

    /// The batches of a campaign, newest first: its history.
    pub async fn campaign_batches(&self, tenant: TenantId, campaign: CampaignId) -> Result<Vec<Batch>> {
        let rows: Vec<BatchRow> = sqlx::query_as(&format!(
            "SELECT {BATCH_COLUMNS} FROM campaign_batches WHERE tenant_id = $1 AND campaign_id = $2 \
             ORDER BY created_at DESC, id DESC"
        ))
        .bind(tenant.to_db())
        .bind(campaign.to_db())
        .fetch_all(&self.pool)
        .await?;
        rows.into_iter().map(Batch::try_from).collect()
    }

    /// The items of a batch in order.
    pub async fn batch_items(&self, tenant: TenantId, batch: BatchId) -> Result<Vec<BatchItem>> {
        let rows: Vec<ItemRow> = sqlx::query_as(&format!(
            "SELECT {ITEM_COLUMNS} FROM batch_items WHERE tenant_id = $1 AND batch_id = $2 ORDER BY position"
        ))
        .bind(tenant.to_db())
        .bind(batch.to_db())
        .fetch_all(&self.pool)
        .await?;
        rows.into_iter().map(BatchItem::try_from).collect()
    }

    pub async fn batch_item(&self, tenant: TenantId, id: BatchItemId) -> Result<BatchItem> {
        let row: ItemRow =
            sqlx::query_as(&format!("SELECT {ITEM_COLUMNS} FROM batch_items WHERE tenant_id = $1 AND id = $2"))
                .bind(tenant.to_db())
                .bind(id.to_db())
                .fetch_optional(&self.pool)
                .await?
                .ok_or(StoreError::NotFound("batch item"))?;
        row.try_into()
    }

    /// Counts of a batch's items by status.
    pub async fn batch_progress(&self, tenant: TenantId, batch: BatchId) -> Result<BatchProgress> {
        let rows: Vec<(String, i64)> = sqlx::query_as(
            "SELECT status, COUNT(*) FROM batch_items WHERE tenant_id = $1 AND batch_id = $2 GROUP BY status",
        )
        .bind(tenant.to_db())
        .bind(batch.to_db())
        .fetch_all(self.reader())
        .await?;
        let mut p = BatchProgress::default();
        for (status, n) in rows {
            p.total += n;
            match parse_enum(&status, BatchItemStatus::parse, "batch item status")? {
                BatchItemStatus::Pending => p.pending += n,
                BatchItemStatus::Running => p.running += n,
                BatchItemStatus::Done => p.done += n,
                BatchItemStatus::Failed => p.failed += n,
                BatchItemStatus::Cancelled => p.cancelled += n,
                BatchItemStatus::Skipped => p.skipped += n,
            }
        }
        Ok(p)
    }

    /// Remembers the message that shows a batch's progress (edited in place): its chat and id.
    pub async fn set_batch_progress_message(
        &self,
        tenant: TenantId,
        batch: BatchId,
        chat_id: i64,
        message_id: i64,
    ) -> Result<()> {
        sqlx::query(
            "UPDATE campaign_batches SET chat_id = $3, progress_message_id = $4 WHERE tenant_id = $1 AND id = $2",
        )
        .bind(tenant.to_db())
        .bind(batch.to_db())
        .bind(chat_id)
        .bind(message_id)
        .execute(&self.pool)
        .await?;
        Ok(())
    }

    /// Claims the right to edit a batch's progress message at `now`: `true` (and stamped) when the last edit is
    /// at least `every_ms` ago, so two edits of one message are never closer than that.
    pub async fn claim_batch_progress_edit(
        &self,
        tenant: TenantId,
        batch: BatchId,
        now: Millis,
        every_ms: i64,
    ) -> Result<bool> {
        let done = sqlx::query(
            "UPDATE campaign_batches SET progress_edited_at = $3 WHERE tenant_id = $1 AND id = $2 \
             AND (progress_edited_at IS NULL OR progress_edited_at <= $4)",
        )
        .bind(tenant.to_db())
        .bind(batch.to_db())
        .bind(now)
        .bind(now - every_ms)
        .execute(&self.pool)
        .await?;
        Ok(done.rows_affected() == 1)
    }

    /// When the batch's progress message was last edited.
    pub async fn batch_progress_edited_at(&self, tenant: TenantId, batch: BatchId) -> Result<Option<Millis>> {
        let row: Option<(Option<Millis>,)> =
            sqlx::query_as("SELECT progress_edited_at FROM campaign_batches WHERE tenant_id = $1 AND id = $2")
                .bind(tenant.to_db())
                .bind(batch.to_db())
                .fetch_optional(self.reader())
                .await?;
        Ok(row.and_then(|r| r.0))
    }

    /// The worker takes an item: `pending` (or `running`, after a crash) becomes `running`, while its batch runs.
    /// `None` when the item ended already (cancelled, done, failed, skipped) or its batch stopped: the job has
    /// nothing to do.
    pub async fn begin_batch_item(&self, tenant: TenantId, item: BatchItemId) -> Result<Option<ItemWork>> {
        let done = sqlx::query(
            "UPDATE batch_items SET status = 'running', updated_at = $3 WHERE tenant_id = $1 AND id = $2 \
             AND status IN ('pending', 'running') AND EXISTS (SELECT 1 FROM campaign_batches b \
             WHERE b.tenant_id = $1 AND b.id = batch_items.batch_id AND b.status = 'running')",
        )
        .bind(tenant.to_db())
        .bind(item.to_db())
        .bind(now_ms())
        .execute(&self.pool)
        .await?;
        if done.rows_affected() == 0 {
            return Ok(None);
        }
        let item = self.batch_item(tenant, item).await?;
        let batch = self.batch(tenant, item.batch_id).await?;
        let campaign = self.campaign(tenant, batch.campaign_id).await?;
        Ok(Some(ItemWork { item, batch, campaign }))
    }

    /// Saves the draft an item made and ends the item `done`, in one transaction, only while the item is still
    /// `running` (a cancelled item or a second run saves nothing: `None`). The post is a draft of the campaign,
    /// authored by whoever started the batch. Finishes the batch when it was the last open item.
    pub async fn complete_batch_item(
        &self,
        tenant: TenantId,
        item: BatchItemId,
        d: &GeneratedDraft,
    ) -> Result<Option<PostId>> {
        let now = now_ms();
        let mut tx = self.pool.begin().await?;
        lock_batch_of_item(&mut tx, tenant, item).await?;
        let row: Option<(String, String, Option<String>, Option<i64>)> = sqlx::query_as(
            "SELECT i.batch_id, b.campaign_id, b.started_by, b.chat_id FROM batch_items i \
             JOIN campaign_batches b ON b.tenant_id = i.tenant_id AND b.id = i.batch_id \
             WHERE i.tenant_id = $1 AND i.id = $2 AND i.status = 'running'",
        )
        .bind(tenant.to_db())
        .bind(item.to_db())
        .fetch_optional(&mut *tx)
        .await?;
        let Some((batch, campaign, author, chat)) = row else {
            tx.rollback().await?;
            return Ok(None);
        };
        let post = PostId::new();
        let main = d.texts.first().map(|c| c.body.clone()).unwrap_or_default();
        sqlx::query(
            "INSERT INTO posts (id, tenant_id, campaign_id, author_id, author_chat_id, title, idea, image_prompt, \
             body, status, created_at, updated_at) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, 'draft', $10, $10)",
        )
        .bind(post.to_db())
        .bind(tenant.to_db())
        .bind(&campaign)
        .bind(author)
        .bind(chat)
        .bind(&d.title)
        .bind(&d.idea)
        .bind(&d.image_prompt)
        .bind(&main)
        .bind(now)
        .execute(&mut *tx)
        .await?;
        for c in &d.texts {
            crate::posts::upsert_content(&mut tx, tenant, post, c, now).await?;
        }
        if let Some(media) = d.media {
            sqlx::query(
                "INSERT INTO post_media (post_id, tenant_id, media_id, position) \
                 SELECT $1, $2, id, 0 FROM media WHERE tenant_id = $2 AND id = $3",
            )
            .bind(post.to_db())
            .bind(tenant.to_db())
            .bind(media.to_db())
            .execute(&mut *tx)
            .await?;
        }
        sqlx::query(
            "UPDATE batch_items SET status = 'done', post_id = $3, error = NULL, updated_at = $4, finished_at = $4 \
             WHERE tenant_id = $1 AND id = $2",
        )
        .bind(tenant.to_db())
        .bind(item.to_db())
        .bind(post.to_db())
        .bind(now)
        .execute(&mut *tx)
        .await?;
        finish_if_done(&mut tx, tenant, &batch, now).await?;
        tx.commit().await?;
        Ok(Some(post))
    }

    /// Records a failed generation of a running item: below `max_failures` it goes back to `pending` (its job
    /// retries), at `max_failures`, or with `permanent`, it ends `failed` with `error`. Returns its status after;
    /// `None` when it was not running (cancelled meanwhile).
    pub async fn fail_batch_item(
        &self,
        tenant: TenantId,
        item: BatchItemId,
        error: &str,
        permanent: bool,
        max_failures: i64,
    ) -> Result<Option<BatchItemStatus>> {
        let now = now_ms();
        let error = clip(error, 500);
        let mut tx = self.pool.begin().await?;
        lock_batch_of_item(&mut tx, tenant, item).await?;
        let row: Option<(String, i64)> = sqlx::query_as(
            "SELECT batch_id, attempts FROM batch_items WHERE tenant_id = $1 AND id = $2 AND status = 'running'",
        )
        .bind(tenant.to_db())
        .bind(item.to_db())
        .fetch_optional(&mut *tx)
        .await?;
        let Some((batch, attempts)) = row else {
            tx.rollback().await?;
            return Ok(None);
        };
        let attempts = attempts + 1;
        let mut status =
            if permanent || attempts >= max_failures { BatchItemStatus::Failed } else { BatchItemStatus::Pending };
        // An item that ran on after its batch stopped (the quota ran out meanwhile) cannot go back to wait: no job
        // would take it up again. It ends with the rest of the batch's skipped items.
        if status == BatchItemStatus::Pending && !batch_runs(&mut tx, tenant, &batch).await? {
            status = BatchItemStatus::Skipped;
        }
        sqlx::query(
            "UPDATE batch_items SET status = $3, attempts = $4, error = $5, updated_at = $6, finished_at = $7 \
             WHERE tenant_id = $1 AND id = $2",
        )
        .bind(tenant.to_db())
        .bind(item.to_db())
        .bind(status.as_str())
        .bind(attempts)
        .bind(&error)
        .bind(now)
        .bind(status.is_final().then_some(now))
        .execute(&mut *tx)
        .await?;
        finish_if_done(&mut tx, tenant, &batch, now).await?;
        tx.commit().await?;
        Ok(Some(status))
    }

    /// Hands a running item back (`pending`) without counting a failure: the provider rate-limited us. When its
    /// batch stopped meanwhile (the quota ran out while it was in flight) it is skipped instead, as the batch's
    /// other waiting items were: no job would take it up again.
    pub async fn release_batch_item(&self, tenant: TenantId, item: BatchItemId) -> Result<bool> {
        let now = now_ms();
        let mut tx = self.pool.begin().await?;
        lock_batch_of_item(&mut tx, tenant, item).await?;
        let row: Option<(String,)> =
            sqlx::query_as("SELECT batch_id FROM batch_items WHERE tenant_id = $1 AND id = $2 AND status = 'running'")
                .bind(tenant.to_db())
                .bind(item.to_db())
                .fetch_optional(&mut *tx)
                .await?;
        let Some((batch,)) = row else {
            tx.rollback().await?;
            return Ok(false);
        };
        if batch_runs(&mut tx, tenant, &batch).await? {
            sqlx::query("UPDATE batch_items SET status = 'pending', updated_at = $3 WHERE tenant_id = $1 AND id = $2")
                .bind(tenant.to_db())
                .bind(item.to_db())
                .bind(now)
                .execute(&mut *tx)
                .await?;
        } else {
            sqlx::query(
                "UPDATE batch_items SET status = 'skipped', error = COALESCE((SELECT error FROM batch_items o \
                 WHERE o.tenant_id = $1 AND o.batch_id = $3 AND o.status = 'skipped' AND o.error IS NOT NULL \
                 ORDER BY o.attempts, o.finished_at, o.position LIMIT 1), 'stopped'), updated_at = $4, finished_at = $4 \
                 WHERE tenant_id = $1 AND id = $2",
            )
            .bind(tenant.to_db())
            .bind(item.to_db())
            .bind(&batch)
            .bind(now)
            .execute(&mut *tx)
            .await?;
        }
        tx.commit().await?;
        Ok(true)
    }

    /// Ends a running batch early as `to` (cancelled by a person, or stopped by the quota): its open items end
    /// `item_status` with `reason`, drafts made stay, and their jobs find nothing to do. Returns how many items
    /// were stopped; 0 (and nothing changed) when the batch was not running.
    async fn stop_batch(
        &self,
        tenant: TenantId,
        batch: BatchId,
        to: BatchStatus,
        item_status: BatchItemStatus,
        reason: &str,
    ) -> Result<u64> {
        let now = now_ms();
        let mut tx = self.pool.begin().await?;
        let done = sqlx::query(
            "UPDATE campaign_batches SET status = $3, finished_at = $4 WHERE tenant_id = $1 AND id = $2 \
             AND status = 'running'",
        )
        .bind(tenant.to_db())
        .bind(batch.to_db())
        .bind(to.as_str())
        .bind(now)
        .execute(&mut *tx)
        .await?;
        if done.rows_affected() == 0 {
            tx.rollback().await?;
            return Ok(0);
        }
        // A cancel stops every open item; the quota only those not started: the ones in flight already paid
        // for their call and finish (their jobs end them `done`, or `skipped` should they fail).
        let open = if item_status == BatchItemStatus::Skipped { "('pending')" } else { "('pending', 'running')" };
        let items = sqlx::query(&format!(
            "UPDATE batch_items SET status = $3, error = $4, updated_at = $5, finished_at = $5 \
             WHERE tenant_id = $1 AND batch_id = $2 AND status IN {open}"
        ))
        .bind(tenant.to_db())
        .bind(batch.to_db())
        .bind(item_status.as_str())
        .bind(reason)
        .bind(now)
        .execute(&mut *tx)
        .await?;
        tx.commit().await?;
        Ok(items.rows_affected())
    }

    /// A person cancels a batch: the items not made yet are cancelled; drafts made stay.
    pub async fn cancel_batch(&self, tenant: TenantId, batch: BatchId) -> Result<u64> {
        self.stop_batch(tenant, batch, BatchStatus::Cancelled, BatchItemStatus::Cancelled, "cancelled").await
    }

    /// The workspace's LLM quota ran out: the batch stops, its items not started yet are skipped with `reason`;
    /// those in flight finish (their drafts are kept).
    pub async fn stop_batch_for_quota(&self, tenant: TenantId, batch: BatchId, reason: &str) -> Result<u64> {
        self.stop_batch(tenant, batch, BatchStatus::QuotaStopped, BatchItemStatus::Skipped, reason).await
    }

    /// Retries failed (and quota-skipped) items of a batch, or the one `item`: they become `pending` again with
    /// their failures reset and a new job each, and the batch runs again. Returns how many.
    pub async fn retry_batch_items(
        &self,
        tenant: TenantId,
        batch: BatchId,
        item: Option<BatchItemId>,
    ) -> Result<usize> {
        let now = now_ms();
        let mut tx = self.pool.begin().await?;
        sqlx::query("UPDATE campaign_batches SET total = total WHERE tenant_id = $1 AND id = $2")
            .bind(tenant.to_db())
            .bind(batch.to_db())
            .execute(&mut *tx)
            .await?;
        let rows: Vec<(String, i64)> = sqlx::query_as(
            "SELECT id, round FROM batch_items WHERE tenant_id = $1 AND batch_id = $2 \
             AND status IN ('failed', 'skipped') AND ($3 = '' OR id = $3) ORDER BY position",
        )
        .bind(tenant.to_db())
        .bind(batch.to_db())
        .bind(item.map(|i| i.to_db()).unwrap_or_default())
        .fetch_all(&mut *tx)
        .await?;
        for (id, round) in &rows {
            sqlx::query(
                "UPDATE batch_items SET status = 'pending', attempts = 0, error = NULL, round = $3, updated_at = $4, \
                 finished_at = NULL WHERE tenant_id = $1 AND id = $2",
            )
            .bind(tenant.to_db())
            .bind(id)
            .bind(round + 1)
            .bind(now)
            .execute(&mut *tx)
            .await?;
            let payload = BatchItemPayload { tenant_id: tenant, item_id: BatchItemId::from_db(id)?, round: round + 1 };
            insert_job(&mut tx, &NewJob::new(&payload).tenant(tenant), now).await?;
        }
        if !rows.is_empty() {
            sqlx::query(
                "UPDATE campaign_batches SET status = 'running', finished_at = NULL WHERE tenant_id = $1 AND id = $2",
            )
            .bind(tenant.to_db())
            .bind(batch.to_db())
            .execute(&mut *tx)
            .await?;
        }
        tx.commit().await?;
        self.notify_jobs_changed();
        Ok(rows.len())
    }

    /// Approves generated drafts of a batch in its review (every one, or the one of `post`): done items whose post
    /// is still a draft and not approved yet. Returns how many were approved.
    pub async fn approve_batch_drafts(
        &self,
        tenant: TenantId,
        batch: BatchId,
        post: Option<PostId>,
        by: UserId,
    ) -> Result<u64> {
        let done = sqlx::query(
            "UPDATE batch_items SET approved_at = $4, approved_by = $5 WHERE tenant_id = $1 AND batch_id = $2 \
             AND status = 'done' AND approved_at IS NULL AND ($3 = '' OR post_id = $3) AND post_id IN \
             (SELECT p.id FROM posts p WHERE p.tenant_id = $1 AND p.status = 'draft')",
        )
        .bind(tenant.to_db())
        .bind(batch.to_db())
        .bind(post.map(|p| p.to_db()).unwrap_or_default())
        .bind(now_ms())
        .bind(by.to_db())
        .execute(&self.pool)
        .await?;
        Ok(done.rows_affected())
    }
}
