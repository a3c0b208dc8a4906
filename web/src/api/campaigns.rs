//! `/api/v1/campaigns` and batches: list and create campaigns, read one with its batch history, start a batch of
//! drafts from a list of topics (each item a durable `batch.item` job, run by the bot's batch runner with the
//! workspace's LLM concurrency, exactly as a batch started in the chat), and follow a batch's progress.

use super::posts::view::rfc3339;
use super::{Caller, JsonBody, Problem};
use crate::AppState;
use axum::extract::{Path, State};
use axum::http::StatusCode;
use axum::Json;
use serde::{Deserialize, Serialize};
use tochen_domain::clock::now_ms;
use tochen_domain::{AccountId, ApiScope, BatchId, CampaignId, Platform};
use tochen_store::{Batch, BatchItem, Campaign, CampaignError, CampaignFields, NewBatch, NewBatchItem, StoreError};
use utoipa::ToSchema;

#[derive(Debug, Serialize, ToSchema)]
pub struct CampaignOut {
    pub id: String,
    pub name: String,
    pub brief: String,
    pub brand: String,
    pub audience: String,
    pub tone: String,
    pub goal: String,
    pub starts_at: Option<String>,
    pub ends_at: Option<String>,
    pub platforms: Vec<&'static str>,
    pub accounts: Vec<String>,
    /// `draft`, `active`, `finished` or `archived`.
    pub status: &'static str,
    /// List only: posts in it, published ones, batches.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub counts: Option<Counts>,
    /// Detail only: its batches, newest first.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub batches: Option<Vec<BatchOut>>,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct Counts {
    pub posts: i64,
    pub published: i64,
    pub batches: i64,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct CampaignList {
    pub data: Vec<CampaignOut>,
}

/// A new campaign.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct NewCampaign {
    pub name: String,
    #[serde(default)]
    pub brief: String,
    #[serde(default)]
    pub brand: String,
    #[serde(default)]
    pub audience: String,
    #[serde(default)]
    pub tone: String,
    #[serde(default)]
    pub goal: String,
    /// RFC 3339.
    pub starts_at: Option<String>,
    /// RFC 3339.
    pub ends_at: Option<String>,
    #[serde(default)]
    pub platforms: Vec<String>,
    /// Account ids of the workspace.
    #[serde(default)]
    pub accounts: Vec<String>,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct BatchOut {
    pub id: String,
    pub campaign_id: String,
    /// `running`, `finished`, `cancelled` or `quota_stopped`.
    pub status: &'static str,
    pub with_images: bool,
    pub total: i64,
    pub pending: i64,
    pub running: i64,
    pub done: i64,
    pub failed: i64,
    pub cancelled: i64,
    pub skipped: i64,
    pub created_at: String,
    pub finished_at: Option<String>,
    /// Detail only: every item with its status, error and draft.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub items: Option<Vec<ItemOut>>,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct ItemOut {
    pub id: String,
    pub topic: String,
    /// `pending`, `running`, `done`, `failed`, `cancelled` or `skipped`.
    pub status: &'static str,
    pub error: Option<String>,
    /// The draft it made.
    pub post_id: Option<String>,
}

/// One item of a new batch: a topic, optionally with its own tone, brief and audience (else the campaign's).
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct NewItem {
    pub topic: String,
    #[serde(default)]
    pub tone: String,
    #[serde(default)]
    pub brief: String,
    #[serde(default)]
    pub audience: String,
}

/// A batch of drafts to generate.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct NewBatchIn {
    /// 1 to 200 items.
    pub items: Vec<NewItem>,
    #[serde(default)]
    pub with_images: bool,
}

fn campaign_out(c: &Campaign) -> CampaignOut {
    let f = &c.fields;
    CampaignOut {
        id: c.id.to_string(),
        name: f.name.clone(),
        brief: f.brief.clone(),
        brand: f.brand.clone(),
        audience: f.audience.clone(),
        tone: f.tone.clone(),
        goal: f.goal.clone(),
        starts_at: f.starts_at.map(rfc3339),
        ends_at: f.ends_at.map(rfc3339),
        platforms: f.platforms.iter().map(|p| p.as_str()).collect(),
        accounts: f.accounts.iter().map(ToString::to_string).collect(),
        status: c.status_at(now_ms()).as_str(),
        counts: None,
        batches: None,
    }
}

async fn batch_out(state: &AppState, caller: &Caller, b: &Batch, items: bool) -> Result<BatchOut, Problem> {
    let p = state.store.batch_progress(caller.tenant(), b.id).await?;
    let items = if items {
        let all = state.store.batch_items(caller.tenant(), b.id).await?;
        Some(
            all.into_iter()
                .map(|i: BatchItem| ItemOut {
                    id: i.id.to_string(),
                    topic: i.item.topic,
                    status: i.status.as_str(),
                    error: i.error,
                    post_id: i.post_id.map(|p| p.to_string()),
                })
                .collect(),
        )
    } else {
        None
    };
    Ok(BatchOut {
        id: b.id.to_string(),
        campaign_id: b.campaign_id.to_string(),
        status: b.status.as_str(),
        with_images: b.with_images,
        total: p.total,
        pending: p.pending,
        running: p.running,
        done: p.done,
        failed: p.failed,
        cancelled: p.cancelled,
        skipped: p.skipped,
        created_at: rfc3339(b.created_at),
        finished_at: b.finished_at.map(rfc3339),
        items,
    })
}

fn refused(e: CampaignError) -> Problem {
    match e {
        CampaignError::UnknownAccount(a) => Problem::not_found("account", &a.to_string()),
        CampaignError::Store(e) => e.into(),
        CampaignError::Archived => {
            Problem::conflict("archived", "The campaign is archived", "restore it in the bot first")
        }
        other => Problem::invalid(other.to_string()),
    }
}

async fn load(state: &AppState, caller: &Caller, id: &str) -> Result<Campaign, Problem> {
    let cid = CampaignId::parse(id).ok_or_else(|| Problem::not_found("campaign", id))?;
    match state.store.campaign(caller.tenant(), cid).await {
        Ok(c) => Ok(c),
        Err(StoreError::NotFound(_)) => Err(Problem::not_found("campaign", id)),
        Err(e) => Err(e.into()),
    }
}

/// The workspace's campaigns (archived ones too), with their counts.
#[utoipa::path(get, path = "/campaigns", tag = "campaigns",
    responses((status = 200, body = CampaignList), (status = 401, body = Problem)),
    security(("token" = ["read"])))]
pub async fn list(State(state): State<AppState>, caller: Caller) -> Result<Json<CampaignList>, Problem> {
    caller.require(ApiScope::Read)?;
    let data = state
        .store
        .campaigns(caller.tenant(), true)
        .await?
        .iter()
        .map(|s| CampaignOut {
            counts: Some(Counts { posts: s.posts, published: s.published, batches: s.batches }),
            ..campaign_out(&s.campaign)
        })
        .collect();
    Ok(Json(CampaignList { data }))
}

fn instant(name: &str, v: &Option<String>) -> Result<Option<i64>, Problem> {
    v.as_deref()
        .map(|s| {
            chrono::DateTime::parse_from_rfc3339(s)
                .map(|t| t.timestamp_millis())
                .map_err(|_| Problem::invalid(format!("{name}={s:?} is not an RFC 3339 time")))
        })
        .transpose()
}

/// Makes a campaign (a draft until its first batch or post).
#[utoipa::path(post, path = "/campaigns", tag = "campaigns", request_body = NewCampaign,
    params(("Idempotency-Key" = Option<String>, Header)),
    responses((status = 201, body = CampaignOut), (status = 400, body = Problem), (status = 404, body = Problem)),
    security(("token" = ["write"])))]
pub async fn create(
    State(state): State<AppState>,
    caller: Caller,
    JsonBody(n): JsonBody<NewCampaign>,
) -> Result<(StatusCode, Json<CampaignOut>), Problem> {
    caller.require_change(ApiScope::Write)?;
    let mut platforms = Vec::new();
    for p in &n.platforms {
        platforms
            .push(Platform::parse(p).ok_or_else(|| {
                Problem::invalid(format!("platform={p:?} is not one of facebook, instagram, tiktok"))
            })?);
    }
    let mut accounts = Vec::new();
    for a in &n.accounts {
        accounts.push(AccountId::parse(a).ok_or_else(|| Problem::not_found("account", a))?);
    }
    let fields = CampaignFields {
        name: n.name,
        brief: n.brief,
        brand: n.brand,
        audience: n.audience,
        tone: n.tone,
        goal: n.goal,
        starts_at: instant("starts_at", &n.starts_at)?,
        ends_at: instant("ends_at", &n.ends_at)?,
        platforms,
        accounts,
    };
    let c = state.store.create_campaign(caller.tenant(), caller.token.created_by, &fields).await.map_err(refused)?;
    Ok((StatusCode::CREATED, Json(campaign_out(&c))))
}

/// A campaign with its batches.
#[utoipa::path(get, path = "/campaigns/{id}", tag = "campaigns", params(("id" = String, Path)),
    responses((status = 200, body = CampaignOut), (status = 404, body = Problem)),
    security(("token" = ["read"])))]
pub async fn get(
    State(state): State<AppState>,
    caller: Caller,
    Path(id): Path<String>,
) -> Result<Json<CampaignOut>, Problem> {
    caller.require(ApiScope::Read)?;
    let c = load(&state, &caller, &id).await?;
    let mut batches = Vec::new();
    for b in state.store.campaign_batches(caller.tenant(), c.id).await? {
        batches.push(batch_out(&state, &caller, &b, false).await?);
    }
    Ok(Json(CampaignOut { batches: Some(batches), ..campaign_out(&c) }))
}

/// Starts a batch: one draft per item, generated on the durable queue (at most the workspace's LLM concurrency at
/// a time). `202`; follow it with `GET /batches/{id}`.
#[utoipa::path(post, path = "/campaigns/{id}/batches", tag = "campaigns", request_body = NewBatchIn,
    params(("id" = String, Path), ("Idempotency-Key" = Option<String>, Header)),
    responses((status = 202, body = BatchOut), (status = 400, body = Problem), (status = 404, body = Problem),
        (status = 409, body = Problem)),
    security(("token" = ["write"])))]
pub async fn start_batch(
    State(state): State<AppState>,
    caller: Caller,
    Path(id): Path<String>,
    JsonBody(b): JsonBody<NewBatchIn>,
) -> Result<(StatusCode, Json<BatchOut>), Problem> {
    caller.require_change(ApiScope::Write)?;
    let c = load(&state, &caller, &id).await?;
    let new = NewBatch {
        started_by: caller.token.created_by,
        chat_id: None,
        with_images: b.with_images,
        items: b
            .items
            .into_iter()
            .map(|i| NewBatchItem { topic: i.topic, tone: i.tone, brief: i.brief, audience: i.audience })
            .collect(),
        ..Default::default()
    };
    let (batch, _) = state.store.start_batch(caller.tenant(), c.id, &new).await.map_err(refused)?;
    Ok((StatusCode::ACCEPTED, Json(batch_out(&state, &caller, &batch, true).await?)))
}

/// A batch's progress, with every item's status, error and draft.
#[utoipa::path(get, path = "/batches/{id}", tag = "campaigns", params(("id" = String, Path)),
    responses((status = 200, body = BatchOut), (status = 404, body = Problem)),
    security(("token" = ["read"])))]
pub async fn batch(
    State(state): State<AppState>,
    caller: Caller,
    Path(id): Path<String>,
) -> Result<Json<BatchOut>, Problem> {
    caller.require(ApiScope::Read)?;
    let bid = BatchId::parse(&id).ok_or_else(|| Problem::not_found("batch", &id))?;
    let b = match state.store.batch(caller.tenant(), bid).await {
        Ok(b) => b,
        Err(StoreError::NotFound(_)) => return Err(Problem::not_found("batch", &id)),
        Err(e) => return Err(e.into()),
    };
    Ok(Json(batch_out(&state, &caller, &b, true).await?))
}
