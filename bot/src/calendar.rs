//! `/calendar`: the workspace's posts on a week or a month, drawn as a picture (`tochen_delivery::reports::
//! calendar`): a chip per post and platform in the platform's colour, published / scheduled / waiting for
//! approval / failed drawn differently, days and hours in the workspace's zone, weekday and month names in the
//! reader's language. Everyone in the workspace may look (viewers too).
//!
//! The photo's buttons move it (‹ › a week or a month, Today, Week/Month) by editing the same message's media
//! (`editMessageMedia`), and name every day that has posts: a day opens, as a new message, the list of its posts
//! with a button each to the post's library card (and from there to its own screen). A day button is a local
//! date, so an old photo's buttons still work: the posts are read again on every press, and a day whose posts
//! are gone says so. Drafts never scheduled, cancelled and rejected posts are not on the calendar.

use crate::ctx::{Active, App, Ctx, HandlerResult, TgBot};
use crate::kb::kb;
use crate::screens::draft::platform_name;
use crate::screens::names::status_name;
use crate::screens::time::{local_midnight, tz_of};
use chrono::{Datelike, Duration, NaiveDate, TimeZone, Utc};
use chrono_tz::Tz;
use teloxide::prelude::*;
use teloxide::types::{InlineKeyboardMarkup, InputFile, InputMedia, InputMediaPhoto, ParseMode};
use tochen_delivery::reports::calendar::{self as picture, Entry, Labels, Mark};
use tochen_domain::html::escape_html;
use tochen_domain::i18n::{t, tf};
use tochen_domain::{PostStatus, Role};
use tochen_store::CalendarPost;
use tochen_telegram::button::{Button, Calendar, CalendarView, Library};
use tochen_telegram::text::{clip, fit, CAPTION_MAX};

/// Longest title in a day's list and on its buttons.
const TITLE_CHARS: usize = 60;
/// Posts per page of a day's list (a button each); a busier day's list has pages.
const DAY_PAGE: usize = 10;
/// Day buttons per row in the month view.
const MONTH_DAYS_PER_ROW: usize = 6;

/// How a post shows on the calendar; `None`: not on it.
pub fn mark_of(s: PostStatus) -> Option<Mark> {
    Mark::of(s)
}

fn epoch() -> NaiveDate {
    NaiveDate::default()
}

/// A local date as a button carries it.
fn day_number(d: NaiveDate) -> i32 {
    i32::try_from((d - epoch()).num_days()).unwrap_or(0)
}

/// A button's day; `None` when it is out of any calendar's reach (a forged button).
fn date_of(n: i32) -> Option<NaiveDate> {
    epoch().checked_add_signed(Duration::try_days(i64::from(n))?).filter(|d| (1900..=9000).contains(&d.year()))
}

fn today(tz: Tz) -> NaiveDate {
    Utc::now().with_timezone(&tz).date_naive()
}

fn monday_of(d: NaiveDate) -> NaiveDate {
    d - Duration::days(i64::from(d.weekday().num_days_from_monday()))
}

fn first_of_month(d: NaiveDate) -> NaiveDate {
    d.with_day(1).unwrap_or(d)
}

fn next_month(d: NaiveDate) -> NaiveDate {
    let first = first_of_month(d);
    (first + Duration::days(32)).with_day(1).unwrap_or(first)
}

fn prev_month(d: NaiveDate) -> NaiveDate {
    first_of_month(first_of_month(d) - Duration::days(1))
}

fn list_item(lang: &str, key: &str, i: usize) -> String {
    t(lang, key).split(',').nth(i).map(|s| s.trim().to_owned()).unwrap_or_default()
}

/// The posts shown in `[from, to)` (local days), with their local times.
async fn posts_between(
    app: &App,
    a: &Active,
    tz: Tz,
    from: NaiveDate,
    to: NaiveDate,
) -> anyhow::Result<Vec<CalendarPost>> {
    let posts = app.store.calendar_posts(a.tenant.id, local_midnight(tz, from), local_midnight(tz, to)).await?;
    Ok(posts.into_iter().filter(|p| mark_of(p.status).is_some()).collect())
}

fn local_date(tz: Tz, at: i64) -> Option<NaiveDate> {
    tz.timestamp_millis_opt(at).single().map(|d| d.date_naive())
}

/// What a calendar screen shows: the picture, its caption and its buttons.
struct Screen {
    png: Vec<u8>,
    caption: String,
    kb: InlineKeyboardMarkup,
}

async fn screen(app: &App, a: &Active, lang: &str, view: CalendarView, around: NaiveDate) -> anyhow::Result<Screen> {
    let tz = tz_of(a);
    let weekdays: Vec<String> = (0..7).map(|i| list_item(lang, "date.weekdays", i)).collect();
    let (from, to, title) = match view {
        CalendarView::Week => {
            let start = monday_of(around);
            let end = start + Duration::days(6);
            let title = tf(
                lang,
                "bot.calendar.week_title",
                &[("from", &start.format("%d.%m").to_string()), ("to", &end.format("%d.%m.%Y").to_string())],
            );
            (start, start + Duration::days(7), title)
        }
        CalendarView::Month => {
            let start = picture::month_grid_start(around);
            let month = list_item(lang, "bot.calendar.months", around.month0() as usize);
            let title = tf(lang, "bot.calendar.month_title", &[("month", &month), ("year", &around.year())]);
            (start, start + Duration::days(7 * picture::MONTH_ROWS as i64), title)
        }
    };
    let posts = posts_between(app, a, tz, from, to).await?;
    let mut entries = Vec::new();
    for p in &posts {
        let (Some(mark), Some(at)) = (mark_of(p.status), tz.timestamp_millis_opt(p.at).single()) else { continue };
        for platform in &p.platforms {
            entries.push(Entry { at: at.naive_local(), platform: *platform, mark });
        }
    }
    let labels = Labels {
        title: title.clone(),
        weekdays: weekdays.clone(),
        marks: ["published", "scheduled", "pending", "failed"]
            .iter()
            .map(|m| t(lang, &format!("bot.calendar.mark_{m}")))
            .collect(),
    };
    let png = match view {
        CalendarView::Week => picture::render_week(from, &entries, &labels)?,
        CalendarView::Month => picture::render_month(around, &entries, &labels)?,
    };
    // The caption counts the period itself (the month's own days, not the grid's neighbours).
    let in_period = |p: &&CalendarPost| {
        local_date(tz, p.at).is_some_and(|d| view == CalendarView::Week || d.month() == around.month())
    };
    let shown: Vec<&CalendarPost> = posts.iter().filter(in_period).collect();
    let count = |m: Mark| shown.iter().filter(|p| mark_of(p.status) == Some(m)).count();
    let summary = if shown.is_empty() {
        t(lang, "bot.calendar.none")
    } else {
        tf(
            lang,
            "bot.calendar.summary",
            &[
                ("n", &shown.len()),
                ("published", &count(Mark::Published)),
                ("scheduled", &count(Mark::Scheduled)),
                ("pending", &count(Mark::Pending)),
                ("failed", &count(Mark::Failed)),
            ],
        )
    };
    let caption = tf(
        lang,
        "bot.calendar.caption",
        &[("title", &escape_html(&title)), ("summary", &summary), ("tz", &escape_html(tz.name()))],
    );
    // One button per day with posts, in order.
    let mut days: Vec<(NaiveDate, usize)> = Vec::new();
    for d in shown.iter().filter_map(|p| local_date(tz, p.at)) {
        match days.last_mut() {
            Some((last, n)) if *last == d => *n += 1,
            _ => days.push((d, 1)),
        }
    }
    let mut rows: Vec<Vec<(String, Button)>> = Vec::new();
    match view {
        CalendarView::Week => {
            let cells: Vec<(String, Button)> = days
                .iter()
                .map(|(d, n)| {
                    let wd = weekdays.get(d.weekday().num_days_from_monday() as usize).cloned().unwrap_or_default();
                    (format!("{wd} {} ({n})", d.format("%d")), Button::Calendar(Calendar::Day(day_number(*d))))
                })
                .collect();
            rows.extend(cells.chunks(4).map(<[_]>::to_vec));
            rows.push(vec![
                (t(lang, "bot.calendar.btn_prev_week"), show(view, from - Duration::days(7))),
                (t(lang, "bot.calendar.btn_today"), Button::Calendar(Calendar::Today(view))),
                (t(lang, "bot.calendar.btn_next_week"), show(view, from + Duration::days(7))),
            ]);
            // To a month: today's when this week holds today, else the month most of the week is in.
            let now = today(tz);
            let month = if (from..to).contains(&now) { now } else { from + Duration::days(3) };
            rows.push(vec![(t(lang, "bot.calendar.btn_month"), show(CalendarView::Month, month))]);
        }
        CalendarView::Month => {
            let cells: Vec<(String, Button)> = days
                .iter()
                .map(|(d, n)| (format!("{} ({n})", d.day()), Button::Calendar(Calendar::Day(day_number(*d)))))
                .collect();
            rows.extend(cells.chunks(MONTH_DAYS_PER_ROW).map(<[_]>::to_vec));
            rows.push(vec![
                (t(lang, "bot.calendar.btn_prev_month"), show(view, prev_month(around))),
                (t(lang, "bot.calendar.btn_today"), Button::Calendar(Calendar::Today(view))),
                (t(lang, "bot.calendar.btn_next_month"), show(view, next_month(around))),
            ]);
            // Back to a week: the month's first week, or this week when it is this month.
            let now = today(tz);
            let week = if first_of_month(now) == first_of_month(around) { now } else { first_of_month(around) };
            rows.push(vec![(t(lang, "bot.calendar.btn_week"), show(CalendarView::Week, week))]);
        }
    }
    Ok(Screen { png, caption: fit(&caption, CAPTION_MAX).into_owned(), kb: kb(rows) })
}

fn show(view: CalendarView, d: NaiveDate) -> Button {
    Button::Calendar(Calendar::Show(view, day_number(d)))
}

fn photo_file(png: Vec<u8>) -> InputFile {
    InputFile::memory(png).file_name("calendar.png")
}

/// `/calendar`: this week, as a new photo.
pub async fn calendar(bot: TgBot, app: App, ctx: Ctx) -> HandlerResult {
    let Some(a) = ctx.require(&bot, Role::Viewer).await? else { return Ok(()) };
    let mut s = screen(&app, &a, ctx.lang, CalendarView::Week, today(tz_of(&a))).await?;
    s.kb = crate::miniapp::with_button(s.kb, &app, &ctx, "calendar");
    send(&bot, &ctx, s).await
}

async fn send(bot: &TgBot, ctx: &Ctx, s: Screen) -> HandlerResult {
    bot.send_photo(ctx.chat_id, photo_file(s.png)).caption(s.caption).reply_markup(s.kb).await?;
    Ok(())
}

/// Replaces the pressed photo with `s`; a message that cannot be edited (too old, deleted, not a photo) gets
/// the screen as a new photo instead.
async fn replace(bot: &TgBot, ctx: &Ctx, s: Screen) -> HandlerResult {
    if let Some(id) = ctx.screen.filter(|_| ctx.screen_photo) {
        let media = InputMedia::Photo(
            InputMediaPhoto::new(photo_file(s.png.clone())).caption(s.caption.clone()).parse_mode(ParseMode::Html),
        );
        match bot.edit_message_media(ctx.chat_id, id, media).reply_markup(s.kb.clone()).await {
            Ok(_) => return Ok(()),
            Err(e) => tracing::warn!(error = %e, "cannot edit the calendar in place; sending it anew"),
        }
    }
    send(bot, ctx, s).await
}

pub async fn on_button(bot: TgBot, app: App, ctx: Ctx, b: Calendar) -> HandlerResult {
    let Some(a) = ctx.require(&bot, Role::Viewer).await? else { return Ok(()) };
    let tz = tz_of(&a);
    let (view, around) = match b {
        Calendar::Show(view, n) => match date_of(n) {
            Some(d) => (view, d),
            None => return ctx.refuse(&bot, t(ctx.lang, "bot.stale")).await,
        },
        Calendar::Today(view) => (view, today(tz)),
        Calendar::Day(n) | Calendar::DayPage(n, _) => {
            let Some(d) = date_of(n) else { return ctx.refuse(&bot, t(ctx.lang, "bot.stale")).await };
            let page = match b {
                Calendar::DayPage(_, p) => Some(usize::from(p)),
                _ => None,
            };
            return day(&bot, &app, &ctx, &a, d, page).await;
        }
    };
    ctx.answer(&bot, None).await?;
    let mut s = screen(&app, &a, ctx.lang, view, around).await?;
    s.kb = crate::miniapp::with_button(s.kb, &app, &ctx, "calendar");
    replace(&bot, &ctx, s).await
}

/// A day's posts as a list (a new message, so the calendar stays), each with a button to its library card; `page`
/// (`Some` from the list's own page buttons) edits the list in place.
async fn day(bot: &TgBot, app: &App, ctx: &Ctx, a: &Active, d: NaiveDate, page: Option<usize>) -> HandlerResult {
    let l = ctx.lang;
    let tz = tz_of(a);
    let posts = posts_between(app, a, tz, d, d + Duration::days(1)).await?;
    if posts.is_empty() {
        return ctx.refuse(bot, t(l, "bot.calendar.day_empty")).await;
    }
    ctx.answer(bot, None).await?;
    let weekday = list_item(l, "date.weekdays", d.weekday().num_days_from_monday() as usize);
    let month = list_item(l, "bot.calendar.months", d.month0() as usize);
    let title = format!("{weekday} {} {month} {}", d.day(), d.year());
    let mut text = tf(
        l,
        "bot.calendar.day_title",
        &[("day", &escape_html(&title)), ("tz", &escape_html(tz.name())), ("n", &posts.len())],
    );
    let pages = posts.len().div_ceil(DAY_PAGE);
    let current = page.unwrap_or(0).min(pages - 1);
    let mut rows = Vec::new();
    for p in posts.iter().skip(current * DAY_PAGE).take(DAY_PAGE) {
        let time = tz.timestamp_millis_opt(p.at).single().map(|x| x.format("%H:%M").to_string()).unwrap_or_default();
        let platforms = if p.platforms.is_empty() {
            t(l, "bot.calendar.no_platforms")
        } else {
            p.platforms.iter().map(|x| platform_name(l, *x)).collect::<Vec<_>>().join(", ")
        };
        let title = clip(&p.title, TITLE_CHARS);
        text.push('\n');
        text.push_str(&tf(
            l,
            "bot.calendar.day_line",
            &[
                ("time", &time),
                ("title", &escape_html(&title)),
                ("platforms", &escape_html(&platforms)),
                ("status", &status_name(l, p.status)),
            ],
        ));
        rows.push(vec![(format!("{time} {title}"), Button::Library(Library::Item(p.id)))]);
    }
    if pages > 1 {
        text.push_str(&format!("\n{}/{pages}", current + 1));
        let n = day_number(d);
        let mut pager = Vec::new();
        if current > 0 {
            pager.push(("‹".to_owned(), Button::Calendar(Calendar::DayPage(n, (current - 1) as u16))));
        }
        if current + 1 < pages {
            pager.push(("›".to_owned(), Button::Calendar(Calendar::DayPage(n, (current + 1) as u16))));
        }
        rows.push(pager);
    }
    let ctx = if page.is_some() { ctx.clone() } else { ctx.in_new_message() };
    ctx.show(bot, text, Some(kb(rows))).await
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn days_go_to_buttons_and_back() {
        let d = NaiveDate::from_ymd_opt(2026, 12, 10).unwrap();
        assert_eq!(date_of(day_number(d)), Some(d));
        assert_eq!(date_of(0), Some(epoch()));
        assert_eq!(date_of(i32::MIN), None);
        assert_eq!(date_of(i32::MAX), None);
        assert_eq!(monday_of(d), NaiveDate::from_ymd_opt(2026, 12, 7).unwrap());
        assert_eq!(
            next_month(NaiveDate::from_ymd_opt(2026, 12, 31).unwrap()),
            NaiveDate::from_ymd_opt(2027, 1, 1).unwrap()
        );
        assert_eq!(
            prev_month(NaiveDate::from_ymd_opt(2026, 3, 31).unwrap()),
            NaiveDate::from_ymd_opt(2026, 2, 1).unwrap()
        );
    }

    #[test]
    fn only_what_is_planned_or_went_out_is_on_the_calendar() {
        assert_eq!(mark_of(PostStatus::PartiallyPublished), Some(Mark::Published));
        assert_eq!(mark_of(PostStatus::Publishing), Some(Mark::Scheduled));
        assert_eq!(mark_of(PostStatus::PendingApproval), Some(Mark::Pending));
        assert_eq!(mark_of(PostStatus::Failed), Some(Mark::Failed));
        for s in [PostStatus::Draft, PostStatus::Cancelled, PostStatus::Rejected] {
            assert_eq!(mark_of(s), None);
        }
    }
}
