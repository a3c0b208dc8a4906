//! `POST /posts`: a draft from text (and per-platform versions, media, accounts, tags, a campaign), optionally
//! scheduled at once. Everything the body names is checked before anything is written, so a bad id or a text too
//! long leaves no half-made draft.

use super::change::{apply, edits_of, own_accounts, place, text_ok, PostPatch, ScheduleIn, VersionIn};
use super::respond;
use crate::api::{Caller, JsonBody, Problem};
use crate::AppState;
use axum::extract::State;
use axum::http::header::LOCATION;
use axum::http::{HeaderValue, StatusCode};
use axum::response::Response;

use serde::Deserialize;
use tochen_domain::{ApiScope, CampaignId, MediaId};
use tochen_store::{PostEdit, StoreError};
use utoipa::ToSchema;

/// Most characters of a title made from the text's first line.
const TITLE_CHARS: usize = 60;

/// A new post.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct NewPost {
    /// Defaults to the text's first line.
    pub title: Option<String>,
    /// The main text.
    pub text: String,
    pub hashtags: Option<Vec<String>>,
    /// Per-platform texts.
    pub versions: Option<Vec<VersionIn>>,
    /// Account ids of the workspace the post goes to (defaults: every connected account of the platforms with a
    /// version).
    pub accounts: Option<Vec<String>>,
    /// Media ids from `POST /media`, in order.
    pub media: Option<Vec<String>>,
    pub tags: Option<Vec<String>>,
    /// A campaign id of the workspace.
    pub campaign: Option<String>,
    /// Schedule at once (needs the `publish` scope).
    pub schedule: Option<ScheduleIn>,
}

fn title_from(text: &str) -> String {
    text.lines().map(str::trim).find(|l| !l.is_empty()).unwrap_or("").chars().take(TITLE_CHARS).collect()
}

/// Makes a draft (`201` with its `Location` and `ETag`); with `schedule`, schedules it too (or, for a token acting as
/// an editor, submits it for approval).
#[utoipa::path(post, path = "/posts", tag = "posts", request_body = NewPost,
    params(("Idempotency-Key" = Option<String>, Header, description = "a retry with the same key gets the first answer")),
    responses((status = 201, body = super::PostOut, headers(("ETag" = String), ("Location" = String))),
        (status = 400, body = Problem), (status = 403, body = Problem), (status = 404, body = Problem),
        (status = 422, body = Problem)),
    security(("token" = ["write"])))]
pub async fn create(
    State(state): State<AppState>,
    caller: Caller,
    JsonBody(new): JsonBody<NewPost>,
) -> Result<Response, Problem> {
    caller.require_change(ApiScope::Write)?;
    if new.schedule.is_some() {
        caller.require(ApiScope::Publish)?;
    }
    if new.text.trim().is_empty() {
        return Err(Problem::invalid("text is empty: give the post's main text"));
    }
    let tenant = caller.tenant();
    let store = &state.store;
    // Checks first: nothing is written for a body that names something wrong.
    let mut media = Vec::new();
    for id in new.media.iter().flatten() {
        let m = MediaId::parse(id).ok_or_else(|| Problem::not_found("media", id))?;
        match store.media(tenant, m).await {
            Ok(_) => media.push(m),
            Err(StoreError::NotFound(_)) => return Err(Problem::not_found("media", id)),
            Err(e) => return Err(e.into()),
        }
    }
    let campaign = match &new.campaign {
        Some(c) => {
            let id = CampaignId::parse(c).ok_or_else(|| Problem::not_found("campaign", c))?;
            match store.campaign(tenant, id).await {
                Ok(_) => Some(id),
                Err(StoreError::NotFound(_)) => return Err(Problem::not_found("campaign", c)),
                Err(e) => return Err(e.into()),
            }
        }
        None => None,
    };
    let title = new.title.clone().unwrap_or_else(|| title_from(&new.text));
    text_ok("title", &title)?;
    let patch = PostPatch {
        text: Some(new.text.clone()),
        hashtags: new.hashtags.clone(),
        versions: new.versions,
        accounts: new.accounts.clone(),
        ..Default::default()
    };
    let mut edits = edits_of(&state, &caller, &patch).await?;
    // Without accounts, the platforms of the versions decide (as a draft in the chat); without versions either,
    // every connected account.
    if new.accounts.is_none() {
        let ids: Vec<String> = store.accounts(tenant).await?.iter().map(|a| a.id.to_string()).collect();
        let platforms: Vec<_> = edits
            .iter()
            .filter_map(|e| if let PostEdit::Version { platform, .. } = e { Some(*platform) } else { None })
            .collect();
        let chosen: Vec<_> = own_accounts(&state, &caller, &ids)
            .await?
            .into_iter()
            .filter(|(_, p)| platforms.is_empty() || platforms.contains(p))
            .collect();
        if !chosen.is_empty() {
            edits.push(PostEdit::Accounts(chosen.into_iter().map(|(id, _)| id).collect()));
        }
    }
    if !media.is_empty() {
        edits.push(PostEdit::AddMedia(media));
    }
    let post = store.create_draft(tenant, caller.token.created_by, None, &title, "").await?;
    let mut post = apply(&state, &caller, post, &edits).await?;
    if let Some(tags) = &new.tags {
        store.set_post_tags(tenant, post.id, tags).await?;
    }
    if let Some(c) = campaign {
        store.set_post_campaign(tenant, post.id, Some(c)).await?;
        post = store.post(tenant, post.id).await?;
    }
    let details = serde_json::json!({"via": "api", "token": caller.token.id});
    store.audit(tenant, caller.token.created_by, "post.created", "post", Some(&post.id.to_db()), details).await?;
    if let Some(how) = &new.schedule {
        post = place(&state, &caller, post, how).await?;
    }
    let mut resp = respond(&state, &caller, &post, StatusCode::CREATED).await?;
    if let Ok(v) = HeaderValue::from_str(&format!("/api/v1/posts/{}", post.id)) {
        resp.headers_mut().insert(LOCATION, v);
    }
    Ok(resp)
}
