//! The library screen and a post's detail, from the store reads the bot's `/library` uses.
//!
//! `GET /app/api/library?status=scheduled,pending_approval&platform=instagram&q=words&page=0`: newest first
//! (`Store::library`), [`PAGE`] posts a page with `has_more`; `status` is a comma list of post statuses (empty:
//! any), `q` the words that must all appear. Each post comes with its platforms and each one's status.
//!
//! `GET /app/api/posts/{id}`: the post's title, text, status, time and tags, and per platform its account,
//! status, error, link and latest numbers (with when they were measured). Another workspace's post is not found.

use super::calendar::local_time;
use super::{bad, not_found, Member, Refusal};
use crate::AppState;
use axum::extract::rejection::QueryRejection;
use axum::extract::{Path, Query, State};
use axum::Json;
use serde::Deserialize;
use serde_json::{json, Value};
use std::collections::{BTreeMap, HashMap};
use tochen_domain::{Platform, PostId, PostStatus, TargetStatus};
use tochen_store::{LibraryFilter, Post, StoreError, Target};

/// Posts per page.
pub const PAGE: i64 = 20;
/// The longest search accepted, in characters (the bot's library takes as much).
const SEARCH_CHARS: usize = 200;

#[derive(Debug, Deserialize)]
pub struct LibraryQuery {
    status: Option<String>,
    platform: Option<String>,
    q: Option<String>,
    page: Option<u32>,
}

fn filter_of(q: &LibraryQuery) -> Result<LibraryFilter, Refusal> {
    let mut statuses = Vec::new();
    for s in q.status.as_deref().unwrap_or_default().split(',').map(str::trim).filter(|s| !s.is_empty()) {
        statuses.push(PostStatus::parse(s).ok_or_else(|| bad(format!("status={s:?} is not a post status")))?);
    }
    let platform = match q.platform.as_deref().filter(|p| !p.is_empty()) {
        Some(p) => Some(
            Platform::parse(p)
                .ok_or_else(|| bad(format!("platform={p:?} is not one of facebook, instagram, tiktok")))?,
        ),
        None => None,
    };
    let search =
        q.q.as_deref().map(str::trim).filter(|s| !s.is_empty()).map(|s| s.chars().take(SEARCH_CHARS).collect());
    Ok(LibraryFilter { statuses, platform, search, ..Default::default() })
}

fn targets_by_post(targets: Vec<Target>) -> HashMap<PostId, Vec<Target>> {
    let mut of: HashMap<PostId, Vec<Target>> = HashMap::new();
    for t in targets {
        of.entry(t.post_id).or_default().push(t);
    }
    of
}

fn summary(member: &Member, p: &Post, targets: &[Target]) -> Value {
    json!({
        "id": p.id.to_db(),
        "title": p.title,
        "status": p.status.as_str(),
        "at": p.scheduled_at,
        "when": p.scheduled_at.map(|at| local_time(member.lang, member.tz(), at)),
        "targets": targets.iter().map(|t| json!({"platform": t.platform.as_str(), "status": t.status.as_str()})).collect::<Vec<_>>(),
    })
}

pub async fn list(
    State(state): State<AppState>,
    member: Member,
    q: Result<Query<LibraryQuery>, QueryRejection>,
) -> Result<Json<Value>, Refusal> {
    let q = super::query(q)?;
    let filter = filter_of(&q)?;
    let page = i64::from(q.page.unwrap_or(0));
    let tenant = member.tenant.id;
    let mut posts = state.store.library(tenant, &filter, page.saturating_mul(PAGE), PAGE + 1).await?;
    let has_more = posts.len() as i64 > PAGE;
    posts.truncate(PAGE as usize);
    let ids: Vec<PostId> = posts.iter().map(|p| p.id).collect();
    let targets = targets_by_post(state.store.targets_of_posts(tenant, &ids).await?);
    let items: Vec<Value> =
        posts.iter().map(|p| summary(&member, p, targets.get(&p.id).map(Vec::as_slice).unwrap_or_default())).collect();
    Ok(Json(json!({"page": page, "has_more": has_more, "posts": items})))
}

pub async fn detail(
    State(state): State<AppState>,
    member: Member,
    Path(id): Path<String>,
) -> Result<Json<Value>, Refusal> {
    let tenant = member.tenant.id;
    let pid = PostId::from_db(&id).map_err(|_| not_found("such post"))?;
    let post = match state.store.post(tenant, pid).await {
        Ok(p) => p,
        Err(StoreError::NotFound(_)) => return Err(not_found("such post")),
        Err(e) => return Err(e.into()),
    };
    let targets = state.store.targets_of_posts(tenant, &[pid]).await?;
    let published: Vec<_> = targets.iter().filter(|t| t.status == TargetStatus::Published).map(|t| t.id).collect();
    let metrics = state.store.latest_metrics_of_targets(tenant, &published).await?;
    let accounts: BTreeMap<String, String> =
        state.store.accounts(tenant).await?.into_iter().map(|a| (a.id.to_db(), a.name)).collect();
    let tags = state.store.post_tags(tenant, pid).await?;
    let (lang, tz) = (member.lang, member.tz());
    let per_platform: Vec<Value> = targets
        .iter()
        .map(|t| {
            let numbers = metrics.get(&t.id).map(|(at, m)| {
                json!({
                    "measured_at": at,
                    "measured": local_time(lang, tz, *at),
                    "views": m.views, "reach": m.reach, "likes": m.likes,
                    "comments": m.comments, "shares": m.shares, "saves": m.saves,
                })
            });
            json!({
                "platform": t.platform.as_str(),
                "account": accounts.get(&t.account_id.to_db()),
                "status": t.status.as_str(),
                "permalink": t.permalink.as_deref().filter(|u| u.starts_with("https://") || u.starts_with("http://")),
                "error": t.error_message.as_deref().filter(|_| t.status != TargetStatus::Published),
                "published_at": t.published_at,
                "metrics": numbers,
            })
        })
        .collect();
    let mut out = summary(&member, &post, &targets);
    out["body"] = json!(post.body);
    out["version"] = json!(post.version);
    out["tags"] = json!(tags);
    out["targets"] = json!(per_platform);
    Ok(Json(out))
}
