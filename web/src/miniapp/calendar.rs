//! The calendar screen's data and the drag that moves a post.
//!
//! `GET /app/api/calendar?view=week|month&date=YYYY-MM-DD`: the week (Monday to Sunday) or the month grid (six
//! weeks from the Monday before the 1st) around `date` (default today in the workspace's zone), with the posts
//! `Store::calendar_posts` places there and the bot's calendar shows (`Mark::of`: published, scheduled, waiting
//! for approval, failed), each with its platforms, local day and time, and, for a scheduled post, the version a
//! move must name.
//!
//! `POST /app/api/posts/{id}/reschedule` `{"version": 7, "date": "2026-12-10", "time": "09:30"}` (`time`
//! optional: the post keeps its time of day) moves a scheduled post with the bot's checks (`schedule::confirm`):
//! editor or admin, the version it was shown at, not in the past (two minutes' grace, as in the bot), then
//! `Store::reschedule_post` and the audit line `post.rescheduled`. A post waiting for approval moves as in the
//! chat: it is submitted again (`tochen_posting::approval::resubmit`: the earlier cards say who moved it, new cards
//! go to the admins and the team chat, in the transaction of the move), and its author hears of it when someone
//! else moved it. Posts that went out, failed or are not scheduled cannot be moved.

use super::{bad, not_found, Member, Refusal};
use crate::api::Problem;
use crate::AppState;
use axum::extract::rejection::{JsonRejection, QueryRejection};
use axum::extract::{Path, Query, State};
use axum::http::StatusCode;
use axum::Json;
use chrono::{Datelike, Duration, NaiveDate, NaiveTime, TimeZone, Utc};
use serde::Deserialize;
use serde_json::{json, Value};
use std::collections::HashMap;
use tochen_delivery::reports::calendar::{local_midnight, month_grid_start, Mark, MONTH_ROWS};
use tochen_domain::clock::now_ms;
use tochen_domain::html::escape_html;
use tochen_domain::i18n::{normalize, t, tf};
use tochen_domain::jobs::NotifyPayload;
use tochen_domain::{PostId, PostStatus, Role};
use tochen_posting::approval::{self, Actor};
use tochen_store::{LibraryFilter, ScheduleError, StoreError};

/// How far in the past a move may land and still count as "now" (the bot's grace).
const PAST_GRACE_MS: i64 = 120_000;

#[derive(Debug, Deserialize)]
pub struct CalendarQuery {
    view: Option<String>,
    date: Option<String>,
}

fn parse_date(v: &str) -> Result<NaiveDate, Refusal> {
    NaiveDate::parse_from_str(v, "%Y-%m-%d")
        .ok()
        .filter(|d| (1900..=9000).contains(&d.year()))
        .ok_or_else(|| bad(format!("date={v:?} is not a day such as 2026-12-10")))
}

fn mark_name(m: Mark) -> &'static str {
    match m {
        Mark::Published => "published",
        Mark::Scheduled => "scheduled",
        Mark::Pending => "pending",
        Mark::Failed => "failed",
    }
}

fn list_item(lang: &str, key: &str, i: usize) -> String {
    t(lang, key).split(',').nth(i).map(|s| s.trim().to_owned()).unwrap_or_default()
}

fn iso(d: NaiveDate) -> String {
    d.format("%Y-%m-%d").to_string()
}

/// A moment as the bot writes it: "Thu 26 Nov 2026, 08:00 (Europe/Lisbon)".
pub use tochen_posting::approval::local_time_in as local_time;

pub async fn get(
    State(state): State<AppState>,
    member: Member,
    q: Result<Query<CalendarQuery>, QueryRejection>,
) -> Result<Json<Value>, Refusal> {
    let q = super::query(q)?;
    let tz = member.tz();
    let lang = member.lang;
    let today = Utc::now().with_timezone(&tz).date_naive();
    let around = q.date.as_deref().map(parse_date).transpose()?.unwrap_or(today);
    let month = match q.view.as_deref().unwrap_or("week") {
        "week" => false,
        "month" => true,
        other => return Err(bad(format!("view={other:?} is not week or month"))),
    };
    let (from, days, title, prev, next) = if month {
        let first = around.with_day(1).unwrap_or(around);
        let prev = (first - Duration::days(1)).with_day(1).unwrap_or(first);
        let next = (first + Duration::days(32)).with_day(1).unwrap_or(first);
        let name = list_item(lang, "bot.calendar.months", around.month0() as usize);
        let title = tf(lang, "bot.calendar.month_title", &[("month", &name), ("year", &around.year())]);
        (month_grid_start(around), 7 * MONTH_ROWS as i64, title, prev, next)
    } else {
        let from = around - Duration::days(i64::from(around.weekday().num_days_from_monday()));
        let to = from + Duration::days(6);
        let title = tf(
            lang,
            "bot.calendar.week_title",
            &[("from", &from.format("%d.%m").to_string()), ("to", &to.format("%d.%m.%Y").to_string())],
        );
        (from, 7, title, from - Duration::days(7), from + Duration::days(7))
    };
    let to = from + Duration::days(days);
    let (start, end) = (local_midnight(tz, from), local_midnight(tz, to));
    let tenant = member.tenant.id;
    let posts: Vec<_> = state
        .store
        .calendar_posts(tenant, start, end)
        .await?
        .into_iter()
        .filter(|p| Mark::of(p.status).is_some())
        .collect();
    // The versions a move names: the scheduled and waiting posts of the same stretch, in one library read.
    let waiting = [PostStatus::Scheduled, PostStatus::PendingApproval];
    let movable = posts.iter().filter(|p| waiting.contains(&p.status)).count() as i64;
    let filter =
        LibraryFilter { statuses: waiting.to_vec(), since: Some(start), until: Some(end), ..Default::default() };
    let versions: HashMap<PostId, i64> = if movable > 0 {
        state.store.library(tenant, &filter, 0, movable).await?.into_iter().map(|p| (p.id, p.version)).collect()
    } else {
        HashMap::new()
    };
    let posts: Vec<Value> = posts
        .iter()
        .filter_map(|p| {
            let mark = Mark::of(p.status)?;
            let local = tz.timestamp_millis_opt(p.at).single()?;
            Some(json!({
                "id": p.id.to_db(),
                "title": p.title,
                "status": p.status.as_str(),
                "mark": mark_name(mark),
                "at": p.at,
                "date": iso(local.date_naive()),
                "time": local.format("%H:%M").to_string(),
                "platforms": p.platforms.iter().map(|x| x.as_str()).collect::<Vec<_>>(),
                "version": versions.get(&p.id),
                "movable": waiting.contains(&p.status) && versions.contains_key(&p.id),
            }))
        })
        .collect();
    let grid: Vec<Value> = (0..days)
        .map(|i| {
            let d = from + Duration::days(i);
            json!({
                "date": iso(d),
                "day": d.day(),
                "weekday": list_item(lang, "date.weekdays", d.weekday().num_days_from_monday() as usize),
                "in_period": !month || d.month() == around.month(),
                "today": d == today,
            })
        })
        .collect();
    Ok(Json(json!({
        "view": if month { "month" } else { "week" },
        "date": iso(around),
        "today": iso(today),
        "prev": iso(prev),
        "next": iso(next),
        "title": title,
        "tz": tz.name(),
        "days": grid,
        "posts": posts,
    })))
}

#[derive(Debug, Deserialize)]
pub struct Move {
    version: i64,
    date: String,
    time: Option<String>,
}

fn conflict(slug: &str, title: &str, detail: &str) -> Refusal {
    Refusal(Problem::new(StatusCode::CONFLICT, slug, title, detail))
}

pub async fn reschedule(
    State(state): State<AppState>,
    member: Member,
    Path(id): Path<String>,
    m: Result<Json<Move>, JsonRejection>,
) -> Result<Json<Value>, Refusal> {
    let m = super::body(m)?;
    member.require(Role::Editor)?;
    let tenant = member.tenant.id;
    let tz = member.tz();
    let pid = PostId::from_db(&id).map_err(|_| not_found("such post"))?;
    let post = match state.store.post(tenant, pid).await {
        Ok(p) => p,
        Err(StoreError::NotFound(_)) => return Err(not_found("such post")),
        Err(e) => return Err(e.into()),
    };
    let day = parse_date(&m.date)?;
    let time = match m.time.as_deref() {
        Some(v) => NaiveTime::parse_from_str(v, "%H:%M").map_err(|_| bad(format!("time={v:?} is not HH:MM")))?,
        None => {
            post.scheduled_at.and_then(|at| tz.timestamp_millis_opt(at).single()).map(|d| d.time()).unwrap_or_default()
        }
    };
    if post.version != m.version {
        return Err(conflict("stale", "The post changed", "the post changed since the calendar was drawn: reload it"));
    }
    match post.status {
        PostStatus::Scheduled | PostStatus::PendingApproval => {}
        other => {
            return Err(conflict(
                "not-movable",
                "The post cannot be moved",
                &format!("a {} post cannot be moved: only scheduled posts can", other.as_str()),
            ))
        }
    }
    let naive = day.and_time(time);
    let at = tz
        .from_local_datetime(&naive)
        .earliest()
        .or_else(|| tz.from_local_datetime(&(naive + Duration::hours(1))).earliest())
        .map(|d| d.timestamp_millis())
        .ok_or_else(|| bad(format!("{naive} does not exist in {}", tz.name())))?;
    let now = now_ms();
    if at < now - PAST_GRACE_MS {
        return Err(Refusal(Problem::new(
            StatusCode::UNPROCESSABLE_ENTITY,
            "in-the-past",
            "The time has passed",
            format!("{naive} has already passed in {}: pick a time in the future", tz.name()),
        )));
    }
    let at = at.max(now);
    let waiting = post.status == PostStatus::PendingApproval;
    let moved = if waiting {
        let actor = Actor { user: Some(member.user.id), name: &member.user.first_name, role: member.role };
        match approval::resubmit(&state.store, &member.tenant, &actor, &post, at).await {
            Ok((_, author)) => {
                if author.is_some() {
                    tell_author(&state, &member, &post, at).await;
                }
                true
            }
            Err(ScheduleError::Store(e)) => return Err(e.into()),
            Err(_) => false,
        }
    } else {
        state.store.reschedule_post(tenant, pid, m.version, at).await?
    };
    if !moved {
        return Err(conflict("stale", "The post changed", "the post changed since the calendar was drawn: reload it"));
    }
    state
        .store
        .audit(
            tenant,
            Some(member.user.id),
            "post.rescheduled",
            "post",
            Some(&pid.to_db()),
            json!({"at": at, "via": "miniapp"}),
        )
        .await?;
    let when = local_time(member.lang, tz, at);
    let key = if waiting { "bot.approval.resent" } else { "miniapp.moved" };
    Ok(Json(json!({"id": pid.to_db(), "at": at, "when": when, "message": tf(member.lang, key, &[("when", &when)])})))
}

/// Tells the author of a waiting post that `member` moved it (a durable notify job to the author's chat, in their
/// language), as the bot does; a failure is logged, the move stands.
async fn tell_author(state: &AppState, member: &Member, post: &tochen_store::Post, at: i64) {
    let (Some(author), Some(chat)) = (post.author_id, post.author_chat_id) else { return };
    let lang = match state.store.user(author).await {
        Ok(u) => normalize(u.language_override.as_deref().or(u.language_code.as_deref()).unwrap_or("en")),
        Err(_) => "en",
    };
    let text = tf(
        lang,
        "bot.approval.author_moved",
        &[
            ("name", &escape_html(&member.user.first_name)),
            ("title", &approval::title_of(post)),
            ("when", &local_time(lang, member.tz(), at)),
        ],
    );
    if let Err(e) = state.store.enqueue_args(Some(member.tenant.id), &NotifyPayload::text(chat, text)).await {
        tracing::warn!(error = %e, post = %post.id, "cannot tell the author their post was moved");
    }
}
