//! `/api/v1/posts`: list (the library's filters, cursor pages), read one (with its `ETag`), create, change, schedule
//! and cancel. Changes go through the store's version checks and the approval rounds the bot uses
//! (`tochen_posting`), so a token acting as an editor puts its posts up for approval.

mod change;
mod create;
pub(crate) mod view;

use super::cursor;
use super::{Caller, Problem};
use crate::AppState;
use axum::extract::{Path, Query, State};
use axum::http::header::ETAG;
use axum::http::HeaderValue;
use axum::response::{IntoResponse, Response};
use axum::Json;
use serde::{Deserialize, Serialize};
use tochen_domain::{AccountId, ApiScope, CampaignId, Platform, PostId, PostStatus};
use tochen_store::{LibraryCursor, LibraryFilter, Post, StoreError};
use utoipa::{IntoParams, ToSchema};
pub use view::PostOut;

pub use change::{__path_cancel, __path_schedule, __path_update, cancel, schedule, update};
pub use create::{__path_create, create};

/// The library's filters and a page.
#[derive(Debug, Default, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct ListQuery {
    /// Comma-separated statuses (`draft,scheduled`); every status when absent.
    status: Option<String>,
    /// `facebook`, `instagram` or `tiktok`.
    platform: Option<String>,
    /// An account id of the workspace.
    account: Option<String>,
    /// A campaign id of the workspace.
    campaign: Option<String>,
    /// A tag, with or without `#`.
    tag: Option<String>,
    /// Words that must all appear in the title or a text.
    q: Option<String>,
    /// RFC 3339: posts going (or gone) out, else made, from this moment.
    since: Option<String>,
    /// RFC 3339: ... before this moment.
    until: Option<String>,
    /// 1 to 200, default 50.
    limit: Option<i64>,
    /// `next_cursor` of the previous page.
    cursor: Option<String>,
}

/// A page of posts.
#[derive(Debug, Serialize, ToSchema)]
pub struct PostList {
    pub data: Vec<PostOut>,
    /// Pass as `cursor` for the next page; absent on the last page.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub next_cursor: Option<String>,
}

fn instant(name: &str, v: &str) -> Result<i64, Problem> {
    chrono::DateTime::parse_from_rfc3339(v)
        .map(|t| t.timestamp_millis())
        .map_err(|_| Problem::invalid(format!("{name}={v:?} is not an RFC 3339 time such as 2026-12-01T00:00:00Z")))
}

fn filter(q: &ListQuery) -> Result<LibraryFilter, Problem> {
    let mut f = LibraryFilter::default();
    for s in q.status.as_deref().unwrap_or_default().split(',').map(str::trim).filter(|s| !s.is_empty()) {
        f.statuses.push(PostStatus::parse(s).ok_or_else(|| {
            Problem::invalid(format!(
                "status={s:?} is not one of draft, pending_approval, scheduled, publishing, published, \
                 partially_published, failed, cancelled, rejected"
            ))
        })?);
    }
    if let Some(p) = &q.platform {
        f.platform =
            Some(Platform::parse(p).ok_or_else(|| {
                Problem::invalid(format!("platform={p:?} is not one of facebook, instagram, tiktok"))
            })?);
    }
    // An id that does not parse matches nothing, as another workspace's id does.
    if let Some(a) = &q.account {
        f.account = Some(AccountId::parse(a).ok_or_else(|| Problem::not_found("account", a))?);
    }
    if let Some(c) = &q.campaign {
        f.campaign = Some(CampaignId::parse(c).ok_or_else(|| Problem::not_found("campaign", c))?);
    }
    f.tag = q.tag.clone();
    f.search = q.q.clone();
    f.since = q.since.as_deref().map(|v| instant("since", v)).transpose()?;
    f.until = q.until.as_deref().map(|v| instant("until", v)).transpose()?;
    Ok(f)
}

/// The posts of the workspace, newest first (by when they go or went out, else when they were made).
#[utoipa::path(get, path = "/posts", tag = "posts", params(ListQuery),
    responses((status = 200, body = PostList), (status = 400, body = Problem), (status = 401, body = Problem)),
    security(("token" = ["read"])))]
pub async fn list(
    State(state): State<AppState>,
    caller: Caller,
    Query(q): Query<ListQuery>,
) -> Result<Json<PostList>, Problem> {
    caller.require(ApiScope::Read)?;
    let f = filter(&q)?;
    let limit = cursor::limit(q.limit)?;
    let after = q.cursor.as_deref().map(cursor::decode).transpose()?;
    // One more than the page tells whether there is a next one.
    let mut posts = state.store.library_after(caller.tenant(), &f, after, limit + 1).await?;
    let more = posts.len() as i64 > limit;
    posts.truncate(limit as usize);
    let next_cursor = if more { posts.last().map(|p| cursor::encode(LibraryCursor::of(p))) } else { None };
    let data = view::summaries(&state.store, caller.tenant(), &posts).await?;
    Ok(Json(PostList { data, next_cursor }))
}

/// A post of the caller's workspace; another workspace's (or a malformed) id is not found.
pub(crate) async fn load(state: &AppState, caller: &Caller, id: &str) -> Result<Post, Problem> {
    let pid = PostId::parse(id).ok_or_else(|| Problem::not_found("post", id))?;
    match state.store.post(caller.tenant(), pid).await {
        Ok(p) => Ok(p),
        Err(StoreError::NotFound(_)) => Err(Problem::not_found("post", id)),
        Err(e) => Err(e.into()),
    }
}

/// A post with its `ETag`.
pub(crate) async fn respond(
    state: &AppState,
    caller: &Caller,
    post: &Post,
    status: axum::http::StatusCode,
) -> Result<Response, Problem> {
    let out = view::detail(&state.store, caller.tenant(), post).await?;
    let mut resp = (status, Json(out)).into_response();
    if let Ok(v) = HeaderValue::from_str(&view::etag(post)) {
        resp.headers_mut().insert(ETAG, v);
    }
    Ok(resp)
}

/// One post: its versions, media, accounts and per-platform status with the latest metrics. The `ETag` header is
/// its version.
#[utoipa::path(get, path = "/posts/{id}", tag = "posts", params(("id" = String, Path, description = "post id")),
    responses((status = 200, body = PostOut, headers(("ETag" = String))), (status = 404, body = Problem)),
    security(("token" = ["read"])))]
pub async fn get(State(state): State<AppState>, caller: Caller, Path(id): Path<String>) -> Result<Response, Problem> {
    caller.require(ApiScope::Read)?;
    let post = load(&state, &caller, &id).await?;
    respond(&state, &caller, &post, axum::http::StatusCode::OK).await
}
