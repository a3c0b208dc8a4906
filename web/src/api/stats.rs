//! `GET /api/v1/stats` (scope `read`): `/stats`' computation (`reports::compute_scoped`, the one report
//! automations use) as JSON, the same document as a `report.generated` webhook's `report`.
//!
//! Query: `days` (1 to 1,830; default 30) for the last days up to now, or `since` and `until` (RFC 3339) for a
//! range; `platform` (`facebook`, `instagram`, `tiktok`), `account` (an account id of the workspace) or
//! `campaign` (a campaign id of the workspace) to narrow it; `chart=true` adds the daily views series.

use super::{Caller, Problem};
use crate::AppState;
use axum::extract::{Query, State};
use axum::Json;
use serde::Deserialize;
use tochen_delivery::reports::{self, Period, Scope, DAY_MS, MAX_PERIOD_DAYS};
use tochen_delivery::sources::Sources;
use tochen_domain::clock::now_ms;
use tochen_domain::{AccountId, ApiScope, CampaignId, Platform};

#[derive(Debug, Deserialize, utoipa::IntoParams)]
#[into_params(parameter_in = Query)]
pub struct StatsQuery {
    /// The last days up to now, 1 to 1,830 (default 30).
    days: Option<i64>,
    /// RFC 3339: the start of a range (with `until`, instead of `days`).
    since: Option<String>,
    /// RFC 3339: the end of a range.
    until: Option<String>,
    /// `facebook`, `instagram` or `tiktok`.
    platform: Option<String>,
    /// An account id of the workspace.
    account: Option<String>,
    /// A campaign id of the workspace.
    campaign: Option<String>,
    /// `true` adds the daily views series.
    #[serde(default)]
    chart: bool,
}

fn bad(detail: String) -> Problem {
    Problem::invalid(detail)
}

fn instant(name: &str, v: &str) -> Result<i64, Problem> {
    chrono::DateTime::parse_from_rfc3339(v)
        .map(|t| t.timestamp_millis())
        .map_err(|_| bad(format!("{name}={v:?} is not an RFC 3339 time such as 2026-12-01T00:00:00Z")))
}

fn period(q: &StatsQuery, now: i64) -> Result<Period, Problem> {
    match (q.days, &q.since, &q.until) {
        (Some(_), Some(_), _) | (Some(_), _, Some(_)) => {
            Err(bad("give either days or since and until, not both".into()))
        }
        (None, Some(s), Some(u)) => {
            let (start, end) = (instant("since", s)?, instant("until", u)?);
            if end <= start {
                return Err(bad(format!("until={u:?} is not after since={s:?}")));
            }
            if end - start > MAX_PERIOD_DAYS * DAY_MS {
                return Err(bad(format!("the range is longer than {MAX_PERIOD_DAYS} days")));
            }
            Ok(Period::new(start, end))
        }
        (None, Some(_), None) | (None, None, Some(_)) => Err(bad("give both since and until".into())),
        (days, None, None) => {
            let days = days.unwrap_or(30);
            if !(1..=MAX_PERIOD_DAYS).contains(&days) {
                return Err(bad(format!("days={days} is not between 1 and {MAX_PERIOD_DAYS}")));
            }
            Ok(Period::new(now - days * DAY_MS, now))
        }
    }
}

async fn scope(state: &AppState, caller: &Caller, q: &StatsQuery) -> Result<Scope, Problem> {
    let not_found = Problem::not_found;
    match (&q.platform, &q.account, &q.campaign) {
        (Some(p), None, None) => Platform::parse(p)
            .map(Scope::Platform)
            .ok_or_else(|| bad(format!("platform={p:?} is not one of facebook, instagram, tiktok"))),
        (None, Some(a), None) => {
            let id = AccountId::from_db(a).map_err(|_| not_found("account", a))?;
            let accounts = state.store.accounts(caller.tenant()).await?;
            accounts.iter().any(|x| x.id == id).then_some(Scope::Account(id)).ok_or_else(|| not_found("account", a))
        }
        (None, None, Some(c)) => {
            let id = CampaignId::from_db(c).map_err(|_| not_found("campaign", c))?;
            match state.store.campaign(caller.tenant(), id).await {
                Ok(_) => Ok(Scope::Campaign(id)),
                Err(tochen_store::StoreError::NotFound(_)) => Err(not_found("campaign", c)),
                Err(e) => Err(e.into()),
            }
        }
        (None, None, None) => Ok(Scope::Workspace),
        _ => Err(bad("give one of platform, account and campaign".into())),
    }
}

/// `/stats`' numbers as JSON (the `report` document of a `report.generated` webhook).
#[utoipa::path(get, path = "/stats", tag = "stats", params(StatsQuery),
    responses((status = 200, description = "the report document (docs/webhooks.md)", body = Object),
        (status = 400, body = Problem), (status = 404, body = Problem)),
    security(("token" = ["read"])))]
pub async fn get(
    State(state): State<AppState>,
    caller: Caller,
    Query(q): Query<StatsQuery>,
) -> Result<Json<serde_json::Value>, Problem> {
    caller.require(ApiScope::Read)?;
    let period = period(&q, now_ms())?;
    let scope = scope(&state, &caller, &q).await?;
    let sources = Sources::new(tochen_platforms::registry::sandbox_on(&state.config));
    let report = reports::compute_scoped(&state.store, caller.tenant(), period, scope, sources, q.chart).await?;
    Ok(Json(reports::render::json(&report)))
}
