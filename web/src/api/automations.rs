//! `/api/v1/automations`: list (scope `read`); run now, pause and resume (scope `write`, an admin's token: in the
//! chat only admins manage automations). The same store calls as the bot's buttons.

use super::posts::view::rfc3339;
use super::{Caller, Problem};
use crate::AppState;
use axum::extract::{Path, State};
use axum::http::StatusCode;
use axum::Json;
use serde::Serialize;
use tochen_domain::{ApiScope, AutomationId, Role};
use tochen_store::{Automation, StoreError};
use utoipa::ToSchema;

#[derive(Debug, Serialize, ToSchema)]
pub struct AutomationOut {
    pub id: String,
    /// What it does (`report.weekly`, `alert.engagement`, `sync.data`...).
    pub kind: String,
    pub name: String,
    pub cron: String,
    pub timezone: String,
    /// `active` or `paused`.
    pub status: &'static str,
    pub paused_reason: Option<String>,
    pub next_run_at: Option<String>,
    pub last_run_at: Option<String>,
    pub run_count: i64,
    pub failure_count: i64,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct AutomationList {
    pub data: Vec<AutomationOut>,
}

/// What a run-now request did.
#[derive(Debug, Serialize, ToSchema)]
pub struct RunQueued {
    /// The queued job; `null` when the same run was already queued.
    pub job_id: Option<String>,
}

fn out(a: Automation) -> AutomationOut {
    AutomationOut {
        id: a.id.to_string(),
        kind: a.kind,
        name: a.name,
        cron: a.cron,
        timezone: a.timezone,
        status: a.status.as_str(),
        paused_reason: a.paused_reason,
        next_run_at: a.next_run_at.map(rfc3339),
        last_run_at: a.last_run_at.map(rfc3339),
        run_count: a.run_count,
        failure_count: a.failure_count,
    }
}

/// The workspace's scheduled reports, alerts and data syncs.
#[utoipa::path(get, path = "/automations", tag = "automations",
    responses((status = 200, body = AutomationList), (status = 401, body = Problem)),
    security(("token" = ["read"])))]
pub async fn list(State(state): State<AppState>, caller: Caller) -> Result<Json<AutomationList>, Problem> {
    caller.require(ApiScope::Read)?;
    let data = state.store.automations(caller.tenant()).await?.into_iter().map(out).collect();
    Ok(Json(AutomationList { data }))
}

/// The workspace's automation `id`, for an admin's token with `write`.
async fn managed(state: &AppState, caller: &Caller, id: &str) -> Result<Automation, Problem> {
    caller.require_change(ApiScope::Write)?;
    if caller.role() != Role::Admin {
        return Err(Problem::role("only an admin's token manages automations, as only admins do in the chat"));
    }
    let aid = AutomationId::parse(id).ok_or_else(|| Problem::not_found("automation", id))?;
    match state.store.automation(caller.tenant(), aid).await {
        Ok(a) => Ok(a),
        Err(StoreError::NotFound(_)) => Err(Problem::not_found("automation", id)),
        Err(e) => Err(e.into()),
    }
}

/// Runs the automation now (queued for the scheduler; its schedule is unchanged). `202`.
#[utoipa::path(post, path = "/automations/{id}/run", tag = "automations",
    params(("id" = String, Path), ("Idempotency-Key" = Option<String>, Header)),
    responses((status = 202, body = RunQueued), (status = 403, body = Problem), (status = 404, body = Problem)),
    security(("token" = ["write"])))]
pub async fn run(
    State(state): State<AppState>,
    caller: Caller,
    Path(id): Path<String>,
) -> Result<(StatusCode, Json<RunQueued>), Problem> {
    let a = managed(&state, &caller, &id).await?;
    let job = state.store.run_automation_now(caller.tenant(), a.id).await?;
    Ok((StatusCode::ACCEPTED, Json(RunQueued { job_id: job.map(|j| j.to_string()) })))
}

/// Pauses the automation (no runs until resumed).
#[utoipa::path(post, path = "/automations/{id}/pause", tag = "automations",
    params(("id" = String, Path), ("Idempotency-Key" = Option<String>, Header)),
    responses((status = 200, body = AutomationOut), (status = 403, body = Problem), (status = 404, body = Problem)),
    security(("token" = ["write"])))]
pub async fn pause(
    State(state): State<AppState>,
    caller: Caller,
    Path(id): Path<String>,
) -> Result<Json<AutomationOut>, Problem> {
    let a = managed(&state, &caller, &id).await?;
    state.store.pause_automation(caller.tenant(), a.id, None).await?;
    Ok(Json(out(state.store.automation(caller.tenant(), a.id).await?)))
}

/// Resumes a paused automation from its next scheduled time.
#[utoipa::path(post, path = "/automations/{id}/resume", tag = "automations",
    params(("id" = String, Path), ("Idempotency-Key" = Option<String>, Header)),
    responses((status = 200, body = AutomationOut), (status = 403, body = Problem), (status = 404, body = Problem)),
    security(("token" = ["write"])))]
pub async fn resume(
    State(state): State<AppState>,
    caller: Caller,
    Path(id): Path<String>,
) -> Result<Json<AutomationOut>, Problem> {
    let a = managed(&state, &caller, &id).await?;
    state.store.resume_automation(caller.tenant(), a.id).await?;
    Ok(Json(out(state.store.automation(caller.tenant(), a.id).await?)))
}
