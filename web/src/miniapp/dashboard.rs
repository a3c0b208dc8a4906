//! The dashboard: `GET /app/api/stats?days=7|30|90` is `/stats` for the whole workspace over the last days, the
//! one computation (`reports::compute_scoped`, with the chart's daily series) as the report's JSON, plus the
//! bot's own `/stats` text of it (`render::stats_html` as plain text) in the person's language.

use super::{bad, Member, Refusal};
use crate::AppState;
use axum::extract::rejection::QueryRejection;
use axum::extract::{Query, State};
use axum::Json;
use serde::Deserialize;
use serde_json::{json, Value};
use tochen_delivery::reports::{self, render, Period, Scope, DAY_MS};
use tochen_delivery::sources::Sources;
use tochen_domain::clock::now_ms;

/// The periods the dashboard offers, in days.
pub const PERIODS: [i64; 3] = [7, 30, 90];

#[derive(Debug, Deserialize)]
pub struct StatsQuery {
    days: Option<i64>,
}

pub async fn get(
    State(state): State<AppState>,
    member: Member,
    q: Result<Query<StatsQuery>, QueryRejection>,
) -> Result<Json<Value>, Refusal> {
    let q = super::query(q)?;
    let days = q.days.unwrap_or(7);
    if !PERIODS.contains(&days) {
        return Err(bad(format!("days={days} is not one of 7, 30, 90")));
    }
    let now = now_ms();
    let period = Period::new(now - days * DAY_MS, now);
    let sources = Sources::new(tochen_platforms::registry::sandbox_on(&state.config));
    let report =
        reports::compute_scoped(&state.store, member.tenant.id, period, Scope::Workspace, sources, true).await?;
    let html = render::stats_html(&report, &member.tenant.name, member.lang, member.tz());
    Ok(Json(json!({"days": days, "report": render::json(&report), "text": render::html_to_text(&html)})))
}
