//! The library's filter: a menu naming each filter's current value, one picker per filter (the current choice
//! ticked), and the two typed answers (search words, a date range). Every choice is checked against the
//! workspace before it is saved: an account, a person or a tag of another workspace, or one gone since the
//! picker was drawn, is refused and changes nothing. A choice shows the list at once, from its first page.

use super::view::{tag_hash, View, ASK_RANGE, DATE_PRESETS, SEARCH_CHARS, STATUS_PRESETS, TYPED_RANGE};
use super::{load, show_page, text_of};
use crate::ctx::{Active, App, Ctx, HandlerResult, TgBot};
use crate::daterange::parse_date_range;
use crate::kb::kb;
use crate::screens::draft::platform_name;
use crate::screens::time::tz_of;
use crate::state::State;
use chrono::TimeZone;
use teloxide::types::Message;
use tochen_domain::html::escape_html;
use tochen_domain::i18n::{t, tf};
use tochen_domain::Platform;
use tochen_telegram::button::{Button, Library, LibraryField};
use tochen_telegram::text::clip;

/// Most tags offered in the tag picker (the most used first).
const TAGS_SHOWN: usize = 30;

fn tick(current: bool, label: String) -> String {
    if current {
        format!("✓ {label}")
    } else {
        label
    }
}

fn back_row(lang: &str) -> Vec<(String, Button)> {
    vec![(t(lang, "bot.back"), Button::Library(Library::Menu))]
}

/// The date filter in words: a preset's name, or a typed range's days in the workspace's zone.
pub fn dates_label(lang: &str, a: &Active, v: &View) -> String {
    if v.dates == TYPED_RANGE {
        if let Some((start, end)) = v.range {
            let tz = tz_of(a);
            let day = |ms: i64| tz.timestamp_millis_opt(ms).single().map(|d| d.format("%d.%m.%Y").to_string());
            return format!("{}–{}", day(start).unwrap_or_default(), day(end - 1).unwrap_or_default());
        }
    }
    let key = DATE_PRESETS.iter().find(|(n, _)| *n == v.dates).map_or(DATE_PRESETS[0].1, |p| p.1);
    t(lang, key)
}

pub async fn on_button(bot: &TgBot, app: &App, ctx: &Ctx, a: &Active, b: Library) -> HandlerResult {
    let l = ctx.lang;
    let mut v = load(app, ctx, a).await?;
    match b {
        Library::Menu => {
            ctx.answer(bot, None).await?;
            return menu(bot, app, ctx, a, &v).await;
        }
        Library::Pick(field) => {
            ctx.answer(bot, None).await?;
            return picker(bot, app, ctx, a, &v, field).await;
        }
        Library::Search => {
            ctx.answer(bot, None).await?;
            ctx.dlg.update(State::LibrarySearch).await?;
            let now = v.search.as_deref().map(|s| format!("\n“{}”", escape_html(s))).unwrap_or_default();
            let back = kb(vec![vec![(t(l, "bot.back"), Button::Library(Library::Back))]]);
            return ctx.show(bot, format!("{}{now}", t(l, "bot.library.ask_search")), Some(back)).await;
        }
        Library::Clear => v = View::default(),
        Library::Status(n) => {
            if !STATUS_PRESETS.iter().any(|(p, _, _)| *p == n) {
                return ctx.refuse(bot, t(l, "bot.stale")).await;
            }
            v.status = n;
        }
        Library::Platform(p) => v.platform = p.map(|p| p.as_str().to_owned()),
        Library::Account(acc) => {
            if let Some(acc) = acc {
                if !app.store.accounts(a.tenant.id).await?.iter().any(|x| x.id == acc) {
                    return ctx.refuse(bot, t(l, "bot.library.gone")).await;
                }
            }
            v.account = acc.map(|x| x.to_db());
        }
        Library::Author(user) => {
            if let Some(user) = user {
                if !app.store.members(a.tenant.id).await?.iter().any(|m| m.user_id == user) {
                    return ctx.refuse(bot, t(l, "bot.library.gone")).await;
                }
            }
            v.author = user.map(|u| u.to_db());
        }
        Library::Tag(hash) => {
            v.tag = match hash {
                None => None,
                Some(h) => {
                    let tags = app.store.workspace_tags(a.tenant.id).await?;
                    let Some((tag, _)) = tags.into_iter().find(|(tag, _)| tag_hash(tag) == h) else {
                        return ctx.refuse(bot, t(l, "bot.library.gone")).await;
                    };
                    Some(tag)
                }
            }
        }
        Library::Dates(ASK_RANGE) => {
            ctx.answer(bot, None).await?;
            ctx.dlg.update(State::LibraryRange).await?;
            let text = tf(l, "bot.library.ask_range", &[("tz", &escape_html(tz_of(a).name()))]);
            let back = kb(vec![vec![(t(l, "bot.back"), Button::Library(Library::Back))]]);
            return ctx.show(bot, text, Some(back)).await;
        }
        Library::Dates(n) => {
            if !DATE_PRESETS.iter().any(|(p, _)| *p == n) {
                return ctx.refuse(bot, t(l, "bot.stale")).await;
            }
            v.dates = n;
            v.range = None;
        }
        Library::Campaign(c) => {
            if let Some(c) = c {
                if app.store.campaign(a.tenant.id, c).await.is_err() {
                    return ctx.refuse(bot, t(l, "bot.library.gone")).await;
                }
            }
            v.campaign = c.map(|x| x.to_db());
        }
        // Pages, the card and tags are routed by `super::on_button`.
        Library::Page(_) | Library::Back | Library::Item(_) | Library::Tags(_) => return Ok(()),
    }
    ctx.answer(bot, None).await?;
    show_page(bot, app, ctx, a, v, 0).await
}

/// The filter menu: each filter with its current value.
async fn menu(bot: &TgBot, app: &App, ctx: &Ctx, a: &Active, v: &View) -> HandlerResult {
    let l = ctx.lang;
    let any = t(l, "bot.library.any");
    let account = match v.account() {
        Some(id) => app.store.accounts(a.tenant.id).await?.into_iter().find(|x| x.id == id).map(|x| x.name),
        None => None,
    };
    let author = match v.author() {
        Some(id) => app.store.members(a.tenant.id).await?.into_iter().find(|m| m.user_id == id).map(|m| m.name),
        None => None,
    };
    let campaign = match v.campaign() {
        Some(id) => app.store.campaign(a.tenant.id, id).await.ok().map(|c| c.fields.name),
        None => None,
    };
    let lines = [
        ("bot.library.f_status", v.status_label(l)),
        ("bot.library.f_platform", v.platform().map_or_else(|| any.clone(), |p| platform_name(l, p))),
        ("bot.library.f_account", account.map_or_else(|| any.clone(), |n| escape_html(&n))),
        ("bot.library.f_author", author.map_or_else(|| any.clone(), |n| escape_html(&n))),
        ("bot.library.f_tag", v.tag.as_deref().map_or_else(|| any.clone(), |tag| format!("#{}", escape_html(tag)))),
        ("bot.library.f_dates", dates_label(l, a, v)),
        ("bot.library.f_campaign", campaign.map_or_else(|| any.clone(), |n| escape_html(&n))),
        ("bot.library.f_search", v.search.as_deref().map_or_else(|| any.clone(), |s| format!("“{}”", escape_html(s)))),
    ];
    let mut text = t(l, "bot.library.menu_title");
    for (key, value) in lines {
        text.push_str(&format!("\n{}: {value}", t(l, key)));
    }
    let pick = |field, key: &str| (format!("{} ▸", t(l, key)), Button::Library(Library::Pick(field)));
    let rows = vec![
        vec![
            pick(LibraryField::Status, "bot.library.f_status"),
            pick(LibraryField::Platform, "bot.library.f_platform"),
        ],
        vec![pick(LibraryField::Account, "bot.library.f_account"), pick(LibraryField::Author, "bot.library.f_author")],
        vec![pick(LibraryField::Tag, "bot.library.f_tag"), pick(LibraryField::Dates, "bot.library.f_dates")],
        vec![pick(LibraryField::Campaign, "bot.library.f_campaign")],
        vec![
            (t(l, "bot.library.btn_search"), Button::Library(Library::Search)),
            (t(l, "bot.library.btn_clear"), Button::Library(Library::Clear)),
        ],
        vec![(t(l, "bot.library.btn_show"), Button::Library(Library::Page(0)))],
    ];
    ctx.show(bot, text, Some(kb(rows))).await
}

/// One filter's choices, two a row, the current one ticked.
async fn picker(bot: &TgBot, app: &App, ctx: &Ctx, a: &Active, v: &View, field: LibraryField) -> HandlerResult {
    let l = ctx.lang;
    let any = t(l, "bot.library.any");
    let choices: Vec<(String, Button)> = match field {
        LibraryField::Status => STATUS_PRESETS
            .iter()
            .map(|(n, key, _)| (tick(v.status == *n, t(l, key)), Button::Library(Library::Status(*n))))
            .collect(),
        LibraryField::Platform => std::iter::once((tick(v.platform.is_none(), any), Library::Platform(None)))
            .chain(
                Platform::ALL
                    .iter()
                    .map(|p| (tick(v.platform() == Some(*p), platform_name(l, *p)), Library::Platform(Some(*p)))),
            )
            .map(|(label, b)| (label, Button::Library(b)))
            .collect(),
        LibraryField::Account => {
            let accounts = app.store.accounts(a.tenant.id).await?;
            std::iter::once((tick(v.account.is_none(), any), Library::Account(None)))
                .chain(accounts.into_iter().map(|acc| {
                    let label = format!("{} · {}", platform_name(l, acc.platform), acc.name);
                    (tick(v.account() == Some(acc.id), label), Library::Account(Some(acc.id)))
                }))
                .map(|(label, b)| (label, Button::Library(b)))
                .collect()
        }
        LibraryField::Author => {
            let members = app.store.members(a.tenant.id).await?;
            std::iter::once((tick(v.author.is_none(), any), Library::Author(None)))
                .chain(
                    members
                        .into_iter()
                        .map(|m| (tick(v.author() == Some(m.user_id), m.name), Library::Author(Some(m.user_id)))),
                )
                .map(|(label, b)| (label, Button::Library(b)))
                .collect()
        }
        LibraryField::Tag => {
            let tags = app.store.workspace_tags(a.tenant.id).await?;
            if tags.is_empty() {
                let rows = vec![back_row(l)];
                return ctx.show(bot, t(l, "bot.library.no_tags"), Some(kb(rows))).await;
            }
            std::iter::once((tick(v.tag.is_none(), any), Library::Tag(None)))
                .chain(tags.into_iter().take(TAGS_SHOWN).map(|(tag, n)| {
                    let current = v.tag.as_deref() == Some(tag.as_str());
                    (tick(current, format!("#{tag} ({n})")), Library::Tag(Some(tag_hash(&tag))))
                }))
                .map(|(label, b)| (label, Button::Library(b)))
                .collect()
        }
        LibraryField::Dates => DATE_PRESETS
            .iter()
            .map(|(n, key)| (tick(v.dates == *n, t(l, key)), Library::Dates(*n)))
            .chain(std::iter::once((
                tick(v.dates == TYPED_RANGE, t(l, "bot.library.dates_typed")),
                Library::Dates(ASK_RANGE),
            )))
            .map(|(label, b)| (label, Button::Library(b)))
            .collect(),
        LibraryField::Campaign => {
            let campaigns = app.store.campaigns(a.tenant.id, true).await?;
            std::iter::once((tick(v.campaign.is_none(), any), Library::Campaign(None)))
                .chain(campaigns.into_iter().take(TAGS_SHOWN).map(|s| {
                    let c = s.campaign;
                    (
                        tick(v.campaign() == Some(c.id), format!("📣 {}", clip(&c.fields.name, 40))),
                        Library::Campaign(Some(c.id)),
                    )
                }))
                .map(|(label, b)| (label, Button::Library(b)))
                .collect()
        }
    };
    let mut rows: Vec<Vec<(String, Button)>> = choices.chunks(2).map(<[_]>::to_vec).collect();
    rows.push(back_row(l));
    ctx.show(bot, t(l, "bot.library.pick_title"), Some(kb(rows))).await
}

/// The answer to "words to look for": `-` clears the search.
pub async fn got_search(bot: TgBot, app: App, ctx: Ctx, msg: Message) -> HandlerResult {
    let Some(a) = ctx.workspace(&bot).await? else { return Ok(()) };
    let text = text_of(&msg);
    if text.is_empty() {
        return ctx.say(&bot, t(ctx.lang, "bot.library.ask_search"), None).await.map(|_| ());
    }
    ctx.dlg.exit().await?;
    let mut v = load(&app, &ctx, &a).await?;
    v.search = (text != "-").then(|| clip(text, SEARCH_CHARS).into_owned());
    show_page(&bot, &app, &ctx.in_new_message(), &a, v, 0).await
}

/// The answer to "which days": a range, one day, or `-` for any time; a bad one is explained and asked again.
pub async fn got_range(bot: TgBot, app: App, ctx: Ctx, msg: Message) -> HandlerResult {
    let Some(a) = ctx.workspace(&bot).await? else { return Ok(()) };
    let l = ctx.lang;
    let text = text_of(&msg);
    let mut v = load(&app, &ctx, &a).await?;
    if text == "-" {
        v.dates = 0;
        v.range = None;
    } else {
        match parse_date_range(text, tz_of(&a)) {
            Ok(range) => {
                v.dates = TYPED_RANGE;
                v.range = Some(range);
            }
            Err(e) => {
                // The prompt stays: the next message is read as the range again.
                return ctx.say(&bot, e.explain(l), None).await.map(|_| ());
            }
        }
    }
    ctx.dlg.exit().await?;
    show_page(&bot, &app, &ctx.in_new_message(), &a, v, 0).await
}
