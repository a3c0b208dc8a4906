//! Changing a post: `PATCH /posts/{id}` (text, versions, accounts, title, tags), `POST /posts/{id}/schedule` (a
//! time or the next queue slot) and `POST /posts/{id}/cancel`. Every one needs `If-Match` with the post's `ETag`
//! (its version): a missing one is `428`, a stale one `412` with the current `ETag`, so two callers never
//! overwrite each other. The checks and approval rules are the bot's: the store's version and status checks, the
//! platforms' rules, and `tochen_posting`'s approval rounds.

use super::{load, respond, view};
use crate::api::{Caller, JsonBody, Problem};
use crate::AppState;
use axum::extract::{Path, State};
use axum::http::header::{ETAG, IF_MATCH};
use axum::http::{HeaderMap, HeaderValue, StatusCode};
use axum::response::{IntoResponse, Response};

use serde::Deserialize;
use tochen_domain::clock::{now_ms, Millis};
use tochen_domain::{AccountId, AccountStatus, ApiScope, Platform, PostStatus, Role};
use tochen_platforms::Problem as RuleProblem;
use tochen_posting::approval::{self, Actor};
use tochen_store::{EditOutcome, EditRefusal, Post, PostEdit, ScheduleError, Tenant};
use utoipa::ToSchema;

/// A time in the past by more than this is refused (a little slack for clocks and slow networks), as in the bot.
const PAST_SLACK_MS: Millis = 120_000;

/// The `If-Match` check: the post's version must be the one the caller read.
pub(super) fn check_if_match(headers: &HeaderMap, post: &Post) -> Result<(), Problem> {
    let Some(value) = headers.get(IF_MATCH) else {
        return Err(Problem::new(
            StatusCode::PRECONDITION_REQUIRED,
            "precondition-required",
            "If-Match is required",
            format!("send If-Match: {} (the post's ETag) so a concurrent change is not overwritten", view::etag(post)),
        ));
    };
    let current = view::etag(post);
    let text = value.to_str().unwrap_or_default();
    if text.trim() == "*" || text.split(',').any(|t| t.trim() == current) {
        return Ok(());
    }
    Err(stale(post))
}

/// `412` with the post's current `ETag`.
fn stale(post: &Post) -> Problem {
    Problem::new(
        StatusCode::PRECONDITION_FAILED,
        "precondition-failed",
        "The post changed",
        format!("the post is now at version {}: read it again (GET) and retry with its ETag", post.version),
    )
    .with("current_etag", view::etag(post))
}

/// The workspace and the actor a token's change is made as: the member who made the token (cards name the
/// token).
pub(super) async fn actor_parts(state: &AppState, caller: &Caller) -> Result<(Tenant, String), Problem> {
    let tenant = state.store.tenant(caller.tenant()).await?;
    Ok((tenant, format!("{} (API)", caller.token.name)))
}

pub(super) fn actor<'a>(caller: &Caller, name: &'a str) -> Actor<'a> {
    Actor { user: caller.token.created_by, name, role: caller.role() }
}

/// Where a post goes: a time, or the next free queue slot.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct ScheduleIn {
    /// RFC 3339 time (`2026-12-24T09:00:00+01:00`).
    pub at: Option<String>,
    /// `true`: the next free queue slot of the post's accounts.
    pub queue: Option<bool>,
}

fn rule_problem(p: Platform, r: &RuleProblem) -> String {
    let name = p.as_str();
    match r {
        RuleProblem::TooLong { len, max } => format!("{name}: the text is {len} characters, at most {max} fit"),
        RuleProblem::TooManyHashtags { count, max } => format!("{name}: {count} hashtags, at most {max}"),
        RuleProblem::NeedsImageOrVideo => format!("{name}: needs an image or a video"),
        RuleProblem::NeedsVideoOrPhotos => format!("{name}: needs a video or photos"),
        RuleProblem::TooManyMentions { count, max } => format!("{name}: {count} mentions, at most {max}"),
        RuleProblem::LinkNotClickable => format!("{name}: links are not clickable"),
    }
}

/// The accounts a post goes to: its targets once scheduled, else its draft's choice, else every connected account
/// of the platforms it has versions for (as the bot's draft screen).
async fn accounts_of(state: &AppState, tenant: &Tenant, post: &Post) -> Result<Vec<AccountId>, Problem> {
    let store = &state.store;
    if matches!(post.status, PostStatus::Scheduled | PostStatus::PendingApproval) {
        return Ok(store.targets_of_post(tenant.id, post.id).await?.iter().map(|t| t.account_id).collect());
    }
    if let Some(chosen) = store.draft_accounts(tenant.id, post.id).await? {
        return Ok(chosen);
    }
    let platforms: Vec<Platform> = store.post_contents(tenant.id, post.id).await?.iter().map(|c| c.platform).collect();
    Ok(store
        .accounts(tenant.id)
        .await?
        .iter()
        .filter(|a| a.status != AccountStatus::Disconnected && platforms.contains(&a.platform))
        .map(|a| a.id)
        .collect())
}

/// What blocks `post` on `accounts`: the platforms' rules, as the draft screen checks them.
async fn blocking(
    state: &AppState,
    tenant: &Tenant,
    post: &Post,
    accounts: &[AccountId],
) -> Result<Vec<String>, Problem> {
    let store = &state.store;
    let all = store.accounts(tenant.id).await?;
    let platforms: Vec<Platform> = all.iter().filter(|a| accounts.contains(&a.id)).map(|a| a.platform).collect();
    let has_media = !store.post_media_kinds(tenant.id, post.id).await?.is_empty();
    let rules = tochen_platforms::RuleBook::new(&state.config);
    let mut out = Vec::new();
    for c in store.post_contents(tenant.id, post.id).await? {
        if platforms.contains(&c.platform) {
            for p in rules.get(c.platform).check(&c.body, &c.hashtags, has_media).iter().filter(|p| p.blocks()) {
                out.push(rule_problem(c.platform, p));
            }
        }
    }
    Ok(out)
}

fn schedule_refused(e: ScheduleError, post: &Post) -> Problem {
    match e {
        ScheduleError::Stale => stale(post),
        ScheduleError::WrongStatus(s) => Problem::conflict(
            "wrong-status",
            "The post cannot change now",
            format!("the post is {} and cannot be scheduled", s.as_str()),
        ),
        ScheduleError::NoAccounts => Problem::unprocessable(
            "no-accounts",
            "No account to post to",
            "choose accounts (PATCH the post's accounts) or connect one with /connect in the bot",
        ),
        ScheduleError::UnknownAccount(a) => Problem::not_found("account", &a.to_string()),
        ScheduleError::Store(e) => e.into(),
    }
}

/// Schedules (or, for an editor's token, submits for approval) `post` as `how` says; a scheduled or waiting post
/// moves. Returns the post as it is now.
pub(super) async fn place(state: &AppState, caller: &Caller, post: Post, how: &ScheduleIn) -> Result<Post, Problem> {
    caller.require_change(ApiScope::Publish)?;
    let (tenant, name) = actor_parts(state, caller).await?;
    let actor = actor(caller, &name);
    let store = &state.store;
    let now = now_ms();
    let accounts = accounts_of(state, &tenant, &post).await?;
    let at = match (how.at.as_deref(), how.queue) {
        (Some(at), None | Some(false)) => {
            let t = chrono::DateTime::parse_from_rfc3339(at)
                .map_err(|_| {
                    Problem::invalid(format!("at={at:?} is not an RFC 3339 time such as 2026-12-24T09:00:00Z"))
                })?
                .timestamp_millis();
            if t < now - PAST_SLACK_MS {
                return Err(Problem::unprocessable(
                    "time-in-past",
                    "The time has passed",
                    format!("at={at:?} is in the past: give a later time"),
                ));
            }
            t.max(now)
        }
        (None, Some(true)) => {
            let skip = Some(post.id);
            match tochen_posting::queue::next_queue_time(store, &tenant, &accounts, skip, now).await? {
                (Some(t), _) => t,
                (None, _) => {
                    return Err(Problem::unprocessable(
                        "queue-full",
                        "No free queue slot",
                        "no free queue slot in the coming weeks: add slots with /slots in the bot, or give a time",
                    ))
                }
            }
        }
        _ => return Err(Problem::invalid("give either at (a time) or queue: true")),
    };
    if matches!(post.status, PostStatus::Scheduled | PostStatus::PendingApproval) {
        let moved = if post.status == PostStatus::PendingApproval {
            approval::resubmit(store, &tenant, &actor, &post, at).await.map(|_| true).or_else(|e| match e {
                ScheduleError::Store(e) => Err(Problem::from(e)),
                _ => Ok(false),
            })?
        } else {
            store.reschedule_post(tenant.id, post.id, post.version, at).await?
        };
        if !moved {
            return Err(stale(&post));
        }
        store
            .audit(tenant.id, actor.user, "post.rescheduled", "post", Some(&post.id.to_db()), via_api(caller, at))
            .await?;
        return Ok(store.post(tenant.id, post.id).await?);
    }
    let problems = blocking(state, &tenant, &post, &accounts).await?;
    if !problems.is_empty() {
        return Err(Problem::unprocessable(
            "post-does-not-fit",
            "The post does not fit a platform",
            format!("fix these first: {}", problems.join("; ")),
        )
        .with("problems", problems));
    }
    let needs_approval = caller.role() == Role::Editor;
    let scheduled = if needs_approval {
        approval::submit(store, &tenant, &name, &post, at, &accounts).await
    } else {
        store.schedule_post(tenant.id, post.id, post.version, at, &accounts, false).await
    };
    scheduled.map_err(|e| schedule_refused(e, &post))?;
    let action = if needs_approval { "post.submitted" } else { "post.scheduled" };
    store.audit(tenant.id, actor.user, action, "post", Some(&post.id.to_db()), via_api(caller, at)).await?;
    if !needs_approval {
        tochen_store::events::post_scheduled(store, tenant.id, post.id).await?;
    }
    Ok(store.post(tenant.id, post.id).await?)
}

/// The audit log's details of a change made through the API.
pub(super) fn via_api(caller: &Caller, at: Millis) -> serde_json::Value {
    serde_json::json!({"at": at, "via": "api", "token": caller.token.id})
}

/// Schedules the post at a time or in the next free queue slot. A token acting as an editor submits it for
/// approval (`pending_approval`); a scheduled or waiting post moves.
#[utoipa::path(post, path = "/posts/{id}/schedule", tag = "posts", request_body = ScheduleIn,
    params(("id" = String, Path), ("If-Match" = String, Header, description = "the post's ETag"),
        ("Idempotency-Key" = Option<String>, Header)),
    responses((status = 200, body = super::PostOut), (status = 412, body = Problem), (status = 422, body = Problem),
        (status = 428, body = Problem)),
    security(("token" = ["publish"])))]
pub async fn schedule(
    State(state): State<AppState>,
    caller: Caller,
    Path(id): Path<String>,
    headers: HeaderMap,
    JsonBody(how): JsonBody<ScheduleIn>,
) -> Result<Response, Problem> {
    caller.require_change(ApiScope::Publish)?;
    let post = load(&state, &caller, &id).await?;
    check_if_match(&headers, &post)?;
    let post = place(&state, &caller, post, &how).await?;
    respond(&state, &caller, &post, StatusCode::OK).await
}

/// Cancels a post that has not gone out (a waiting post's approval cards say it was withdrawn).
#[utoipa::path(post, path = "/posts/{id}/cancel", tag = "posts",
    params(("id" = String, Path), ("If-Match" = String, Header, description = "the post's ETag"),
        ("Idempotency-Key" = Option<String>, Header)),
    responses((status = 200, body = super::PostOut), (status = 409, body = Problem), (status = 412, body = Problem),
        (status = 428, body = Problem)),
    security(("token" = ["write"])))]
pub async fn cancel(
    State(state): State<AppState>,
    caller: Caller,
    Path(id): Path<String>,
    headers: HeaderMap,
) -> Result<Response, Problem> {
    caller.require_change(ApiScope::Write)?;
    let post = load(&state, &caller, &id).await?;
    check_if_match(&headers, &post)?;
    if !matches!(
        post.status,
        PostStatus::Draft | PostStatus::Rejected | PostStatus::Scheduled | PostStatus::PendingApproval
    ) {
        return Err(Problem::conflict(
            "wrong-status",
            "The post cannot change now",
            format!("the post is {} and cannot be cancelled", post.status.as_str()),
        ));
    }
    let (tenant, name) = actor_parts(&state, &caller).await?;
    let actor = actor(&caller, &name);
    if !approval::cancel(&state.store, &tenant, &actor, &post).await? {
        let now = state.store.post(tenant.id, post.id).await?;
        return Err(stale(&now));
    }
    let details = serde_json::json!({"via": "api", "token": caller.token.id});
    state.store.audit(tenant.id, actor.user, "post.cancelled", "post", Some(&post.id.to_db()), details).await?;
    let post = state.store.post(tenant.id, post.id).await?;
    respond(&state, &caller, &post, StatusCode::OK).await
}

/// One platform's own text.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct VersionIn {
    /// `facebook`, `instagram` or `tiktok`.
    pub platform: String,
    pub text: String,
    #[serde(default)]
    pub hashtags: Vec<String>,
}

/// What a `PATCH` changes; absent fields stay as they are.
#[derive(Debug, Default, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct PostPatch {
    pub title: Option<String>,
    /// The main text (versions that follow it change too).
    pub text: Option<String>,
    pub hashtags: Option<Vec<String>>,
    /// Per-platform texts (from then on the main text no longer changes them).
    pub versions: Option<Vec<VersionIn>>,
    /// The accounts the post goes to (account ids of the workspace).
    pub accounts: Option<Vec<String>>,
    /// The post's tags (the team's labels; they do not change the version).
    pub tags: Option<Vec<String>>,
}

/// Longest main or platform text accepted, in characters (the platforms' own limits are checked on scheduling).
pub const MAX_TEXT_CHARS: usize = 10_000;

pub(super) fn platform(p: &str) -> Result<Platform, Problem> {
    Platform::parse(p)
        .ok_or_else(|| Problem::invalid(format!("platform={p:?} is not one of facebook, instagram, tiktok")))
}

pub(super) fn text_ok(name: &str, t: &str) -> Result<(), Problem> {
    if t.chars().count() > MAX_TEXT_CHARS {
        return Err(Problem::invalid(format!("{name} is longer than {MAX_TEXT_CHARS} characters")));
    }
    Ok(())
}

/// The workspace's connected accounts among `ids`, or a 404 naming the first that is not one.
pub(super) async fn own_accounts(
    state: &AppState,
    caller: &Caller,
    ids: &[String],
) -> Result<Vec<(AccountId, Platform)>, Problem> {
    let all = state.store.accounts(caller.tenant()).await?;
    let mut out = Vec::new();
    for id in ids {
        let found = AccountId::parse(id).and_then(|a| {
            all.iter().find(|x| x.id == a && x.status != AccountStatus::Disconnected).map(|x| (x.id, x.platform))
        });
        let found = found.ok_or_else(|| Problem::not_found("account", id))?;
        if !out.contains(&found) {
            out.push(found);
        }
    }
    Ok(out)
}

/// The edits a patch makes, in order (checked before any is applied).
pub(super) async fn edits_of(state: &AppState, caller: &Caller, p: &PostPatch) -> Result<Vec<PostEdit>, Problem> {
    let mut edits = Vec::new();
    let accounts = match &p.accounts {
        Some(ids) if ids.is_empty() => return Err(Problem::invalid("accounts is empty: give at least one account id")),
        Some(ids) => Some(own_accounts(state, caller, ids).await?),
        None => None,
    };
    if let Some(text) = &p.text {
        text_ok("text", text)?;
        let platforms = accounts.iter().flatten().map(|(_, p)| *p).collect();
        edits.push(PostEdit::MainText { body: text.clone(), hashtags: p.hashtags.clone(), platforms });
    } else if p.hashtags.is_some() {
        return Err(Problem::invalid("hashtags go with text: send the main text too"));
    }
    for v in p.versions.iter().flatten() {
        text_ok("versions[].text", &v.text)?;
        edits.push(PostEdit::Version {
            platform: platform(&v.platform)?,
            body: v.text.clone(),
            hashtags: v.hashtags.clone(),
        });
    }
    if let Some(a) = accounts {
        edits.push(PostEdit::Accounts(a.into_iter().map(|(id, _)| id).collect()));
    }
    Ok(edits)
}

/// Applies `edits` one after the other (each is one transaction that checks the version the previous one left).
pub(super) async fn apply(
    state: &AppState,
    caller: &Caller,
    mut post: Post,
    edits: &[PostEdit],
) -> Result<Post, Problem> {
    let (tenant, name) = actor_parts(state, caller).await?;
    let actor = actor(caller, &name);
    for edit in edits {
        match approval::edit(&state.store, &tenant, &actor, &post, edit).await? {
            EditOutcome::Done { .. } => post = state.store.post(tenant.id, post.id).await?,
            EditOutcome::Refused(EditRefusal::Stale) => {
                return Err(stale(&state.store.post(tenant.id, post.id).await?))
            }
            EditOutcome::Refused(EditRefusal::WrongStatus(s)) => {
                return Err(Problem::conflict(
                    "wrong-status",
                    "The post cannot change now",
                    format!("the post is {} and cannot be edited", s.as_str()),
                ))
            }
            EditOutcome::Refused(EditRefusal::Publishing) => {
                return Err(Problem::conflict(
                    "publishing",
                    "The post is being published",
                    "the post is going out right now and cannot change; read it again in a minute",
                ))
            }
            EditOutcome::Refused(EditRefusal::NoAccounts) => {
                return Err(Problem::unprocessable("no-accounts", "No account to post to", "give at least one account"))
            }
            EditOutcome::Refused(EditRefusal::NotFound) => {
                return Err(Problem::not_found("post", &post.id.to_string()))
            }
        }
    }
    Ok(post)
}

/// Changes a post that has not gone out. A token acting as an editor sends an approved post back to approval; a
/// waiting post gets a new round of approval cards.
#[utoipa::path(patch, path = "/posts/{id}", tag = "posts", request_body = PostPatch,
    params(("id" = String, Path), ("If-Match" = String, Header, description = "the post's ETag")),
    responses((status = 200, body = super::PostOut, headers(("ETag" = String))), (status = 409, body = Problem),
        (status = 412, body = Problem), (status = 428, body = Problem)),
    security(("token" = ["write"])))]
pub async fn update(
    State(state): State<AppState>,
    caller: Caller,
    Path(id): Path<String>,
    headers: HeaderMap,
    JsonBody(patch): JsonBody<PostPatch>,
) -> Result<Response, Problem> {
    caller.require_change(ApiScope::Write)?;
    let post = load(&state, &caller, &id).await?;
    check_if_match(&headers, &post)?;
    let edits = edits_of(&state, &caller, &patch).await?;
    let mut post = apply(&state, &caller, post, &edits).await?;
    if let Some(title) = &patch.title {
        text_ok("title", title)?;
        state.store.set_post_meta(caller.tenant(), post.id, title, &post.image_prompt).await?;
        post = state.store.post(caller.tenant(), post.id).await?;
    }
    if let Some(tags) = &patch.tags {
        state.store.set_post_tags(caller.tenant(), post.id, tags).await?;
    }
    let mut resp = respond(&state, &caller, &post, StatusCode::OK).await?;
    if let Ok(v) = HeaderValue::from_str(&view::etag(&post)) {
        resp.headers_mut().insert(ETAG, v);
    }
    Ok(resp.into_response())
}
