//! A post's platform options: TikTok's privacy level (only the levels the creator has, read live from
//! `creator_info`; the person must pick one, there is no default), comments, duet and stitch (greyed out when the
//! creator turned them off; duet and stitch not for photo posts), the commercial disclosure toggles (branded
//! content cannot be private), and whether a Facebook video goes as a Reel or a Page video. The AI-generated label
//! is not a choice: the publishing pipeline sets it when a media item came from the image model.
//!
//! Options are stored on the post over the workspace's defaults; "save as workspace default" makes the current
//! options the defaults new posts start from. The draft screen reaches this screen through `screens::buttons::options_button`.

use crate::ctx::{Active, App, ConnectConfig, Ctx, HandlerResult, TgBot};
use crate::kb::kb;
use crate::screens::draft::{chosen_accounts, platform_name};
use crate::screens::media_checks::{option_text, post_facts, privacy_name};
use std::time::Duration;
use tochen_domain::i18n::{t, tf};
use tochen_domain::{MediaKind, Platform, PostStatus, Role};
use tochen_platforms::options::{tiktok_problems, CreatorInfo, FacebookVideo, PostOptions, TIKTOK_PRIVACY_LEVELS};
use tochen_store::{Post, StoreError};
use tochen_telegram::button::{Button, Draft, DraftAct, OptToggle, PostOpt};

/// What the options screen knows about the post.
struct Situation {
    options: PostOptions,
    /// The creator info of the post's TikTok account; `None` without one, `Some(Err)` when TikTok did not answer.
    creator: Option<Result<CreatorInfo, String>>,
    tiktok: bool,
    facebook_video: bool,
    photos_only: bool,
}

/// Reads `creator_info` of the post's first chosen TikTok account (the sandbox answers with every option).
async fn creator_info(
    app: &App,
    a: &Active,
    cfg: &ConnectConfig,
    post: &Post,
) -> anyhow::Result<Option<Result<CreatorInfo, String>>> {
    let (all, chosen) = chosen_accounts(app, a, post).await?;
    let Some(acc) = all.iter().find(|x| x.platform == Platform::TikTok && chosen.contains(&x.id)) else {
        return Ok(None);
    };
    if acc.auth_kind.is_sandbox() {
        return Ok(Some(Ok(CreatorInfo::everything())));
    }
    let http = reqwest::Client::builder().timeout(Duration::from_secs(10)).build()?;
    let Some(client) = tochen_platforms::tiktok::client(&cfg.0, http, tochen_platforms::PollPolicy::default()) else {
        return Ok(Some(Err("TikTok is not configured".into())));
    };
    let tokens = app.store.account_tokens(a.tenant.id, acc.id).await?;
    Ok(Some(client.creator_info(&tokens.access_token).await.map_err(|e| e.message)))
}

async fn situation(app: &App, a: &Active, cfg: &ConnectConfig, post: &Post) -> anyhow::Result<Situation> {
    let options = PostOptions::from_map(&app.store.post_options(a.tenant.id, post.id).await?);
    let (all, chosen) = chosen_accounts(app, a, post).await?;
    let has = |p: Platform| all.iter().any(|x| x.platform == p && chosen.contains(&x.id));
    let facts = post_facts(app, a, post.id).await?;
    let video = facts.iter().any(|f| f.kind == MediaKind::Video);
    let tiktok = has(Platform::TikTok);
    let creator = if tiktok { creator_info(app, a, cfg, post).await? } else { None };
    Ok(Situation {
        options,
        creator,
        tiktok,
        facebook_video: has(Platform::Facebook) && video,
        photos_only: !facts.is_empty() && !video,
    })
}

fn mark(on: bool) -> &'static str {
    if on {
        "✓"
    } else {
        "✗"
    }
}

fn render(lang: &str, post: &Post, s: &Situation) -> (String, Vec<Vec<(String, Button)>>) {
    let mut text = t(lang, "bot.options.title");
    let mut rows: Vec<Vec<(String, Button)>> = Vec::new();
    let id = post.id;
    if s.tiktok {
        let o = &s.options.tiktok;
        text.push_str(&format!("\n\n<b>{}</b>", platform_name(lang, Platform::TikTok)));
        let info = match &s.creator {
            Some(Ok(info)) => Some(info),
            Some(Err(_)) => {
                text.push('\n');
                text.push_str(&t(lang, "bot.options.creator_unreachable"));
                None
            }
            None => None,
        };
        let chosen = o
            .privacy_level
            .as_deref()
            .map(|l| privacy_name(lang, l))
            .unwrap_or_else(|| t(lang, "bot.options.not_chosen"));
        text.push('\n');
        text.push_str(&tf(lang, "bot.options.privacy", &[("level", &chosen)]));
        for p in tiktok_problems(o, info) {
            text.push_str(&format!("\n⚠️ {}", option_text(lang, &p)));
        }
        // Only the levels the creator has (all of them when TikTok could not be asked: TikTok checks again).
        for (i, level) in TIKTOK_PRIVACY_LEVELS.iter().enumerate() {
            if info.is_some_and(|info| !info.privacy_level_options.iter().any(|x| x == level)) {
                continue;
            }
            let dot = if o.privacy_level.as_deref() == Some(level) { "● " } else { "" };
            rows.push(vec![(
                format!("{dot}{}", privacy_name(lang, level)),
                Button::PostOpt(PostOpt::Privacy(id, i as u8)),
            )]);
        }
        let off_by_creator = |t: OptToggle| {
            info.is_some_and(|i| match t {
                OptToggle::Comments => i.comment_disabled,
                OptToggle::Duet => i.duet_disabled,
                OptToggle::Stitch => i.stitch_disabled,
                _ => false,
            })
        };
        let mut toggles = Vec::new();
        for toggle in OptToggle::ALL {
            if s.photos_only && matches!(toggle, OptToggle::Duet | OptToggle::Stitch) {
                continue;
            }
            let (key, on) = match toggle {
                OptToggle::Comments => ("bot.options.comments", o.comments),
                OptToggle::Duet => ("bot.options.duet", o.duet),
                OptToggle::Stitch => ("bot.options.stitch", o.stitch),
                OptToggle::BrandOrganic => ("bot.options.brand_organic", o.brand_organic),
                OptToggle::BrandContent => ("bot.options.brand_content", o.brand_content),
            };
            let label = if off_by_creator(toggle) {
                format!("🚫 {}", t(lang, key))
            } else {
                format!("{} {}", mark(on), t(lang, key))
            };
            toggles.push((label, Button::PostOpt(PostOpt::Toggle(id, toggle))));
        }
        for pair in toggles.chunks(2) {
            rows.push(pair.to_vec());
        }
        text.push('\n');
        text.push_str(&t(lang, "bot.options.aigc_note"));
    }
    if s.facebook_video {
        text.push_str(&format!("\n\n<b>{}</b>\n", platform_name(lang, Platform::Facebook)));
        let how = match s.options.facebook.video {
            Some(FacebookVideo::Reel) => t(lang, "bot.options.fb_reel"),
            Some(FacebookVideo::Page) => t(lang, "bot.options.fb_page"),
            None => t(lang, "bot.options.fb_auto"),
        };
        text.push_str(&tf(lang, "bot.options.fb_as", &[("how", &how)]));
        let reel = s.options.facebook.video == Some(FacebookVideo::Reel);
        let page = s.options.facebook.video == Some(FacebookVideo::Page);
        rows.push(vec![
            (
                format!("{} {}", if reel { "●" } else { "○" }, t(lang, "bot.options.fb_reel")),
                Button::PostOpt(PostOpt::FacebookReel(id, true)),
            ),
            (
                format!("{} {}", if page { "●" } else { "○" }, t(lang, "bot.options.fb_page")),
                Button::PostOpt(PostOpt::FacebookReel(id, false)),
            ),
        ]);
    }
    if !s.tiktok && !s.facebook_video {
        text.push_str("\n\n");
        text.push_str(&t(lang, "bot.options.none"));
    } else {
        rows.push(vec![(t(lang, "bot.options.save_default"), Button::PostOpt(PostOpt::SaveDefaults(id)))]);
    }
    rows.push(vec![(t(lang, "bot.back"), Button::Draft(Draft::Act(DraftAct::Show, id, post.version)))]);
    (text, rows)
}

/// Loads the post of a button: the caller's workspace only, drafts only.
async fn load(
    bot: &TgBot,
    app: &App,
    ctx: &Ctx,
    a: &Active,
    id: tochen_domain::PostId,
) -> anyhow::Result<Option<Post>> {
    match app.store.post(a.tenant.id, id).await {
        Ok(p) if p.status == PostStatus::Draft => Ok(Some(p)),
        Ok(_) => {
            ctx.refuse(bot, t(ctx.lang, "bot.stale")).await?;
            Ok(None)
        }
        Err(StoreError::NotFound(_)) => {
            ctx.refuse(bot, t(ctx.lang, "bot.post.not_found")).await?;
            Ok(None)
        }
        Err(e) => Err(e.into()),
    }
}

pub async fn on_button(bot: TgBot, app: App, ctx: Ctx, b: PostOpt, cfg: ConnectConfig) -> HandlerResult {
    let needed = match b {
        PostOpt::SaveDefaults(_) => Role::Admin,
        _ => Role::Editor,
    };
    let Some(a) = ctx.require(&bot, needed).await? else { return Ok(()) };
    let id = match b {
        PostOpt::Show(id) | PostOpt::Privacy(id, _) | PostOpt::Toggle(id, _) | PostOpt::FacebookReel(id, _) => id,
        PostOpt::SaveDefaults(id) => id,
    };
    let Some(post) = load(&bot, &app, &ctx, &a, id).await? else { return Ok(()) };
    let l = ctx.lang;
    let s = situation(&app, &a, &cfg, &post).await?;
    let info = s.creator.as_ref().and_then(|c| c.as_ref().ok());
    let mut own = PostOptions::from_map(&app.store.post_options_own(a.tenant.id, id).await?);
    // The post's own options start from what it shows (the defaults included), so a change keeps the rest.
    own.tiktok = s.options.tiktok.clone();
    own.facebook = s.options.facebook.clone();
    let mut note = None;
    match b {
        PostOpt::Show(_) => {}
        PostOpt::Privacy(_, i) => {
            let Some(level) = TIKTOK_PRIVACY_LEVELS.get(i as usize) else {
                return ctx.refuse(&bot, t(l, "bot.stale")).await;
            };
            if info.is_some_and(|info| !info.privacy_level_options.iter().any(|x| x == level)) {
                return ctx.refuse(&bot, t(l, "bot.options.level_not_offered")).await;
            }
            if own.tiktok.brand_content && *level == "SELF_ONLY" {
                return ctx.refuse(&bot, t(l, "bot.media.tiktok_branded_private")).await;
            }
            own.tiktok.privacy_level = Some(level.to_string());
        }
        PostOpt::Toggle(_, toggle) => {
            let by_creator = info.is_some_and(|i| match toggle {
                OptToggle::Comments => i.comment_disabled,
                OptToggle::Duet => i.duet_disabled,
                OptToggle::Stitch => i.stitch_disabled,
                _ => false,
            });
            if by_creator {
                return ctx.refuse(&bot, t(l, "bot.options.disabled_by_creator")).await;
            }
            if s.photos_only && matches!(toggle, OptToggle::Duet | OptToggle::Stitch) {
                return ctx.refuse(&bot, t(l, "bot.options.not_for_photos")).await;
            }
            let o = &mut own.tiktok;
            match toggle {
                OptToggle::Comments => o.comments = !o.comments,
                OptToggle::Duet => o.duet = !o.duet,
                OptToggle::Stitch => o.stitch = !o.stitch,
                OptToggle::BrandOrganic => o.brand_organic = !o.brand_organic,
                OptToggle::BrandContent => {
                    if !o.brand_content && o.privacy_level.as_deref() == Some("SELF_ONLY") {
                        return ctx.refuse(&bot, t(l, "bot.media.tiktok_branded_private")).await;
                    }
                    o.brand_content = !o.brand_content
                }
            }
        }
        PostOpt::FacebookReel(_, reel) => {
            own.facebook.video = Some(if reel { FacebookVideo::Reel } else { FacebookVideo::Page });
        }
        PostOpt::SaveDefaults(_) => {
            app.store.set_post_defaults(a.tenant.id, &own.to_map()).await?;
            app.store
                .audit(a.tenant.id, Some(ctx.user.id), "workspace.post_defaults", "tenant", None, serde_json::json!({}))
                .await?;
            note = Some(t(l, "bot.options.saved_default"));
        }
    }
    if !matches!(b, PostOpt::Show(_) | PostOpt::SaveDefaults(_)) {
        app.store.set_post_options(a.tenant.id, id, &own.to_map()).await?;
    }
    ctx.answer(&bot, note).await?;
    let s = Situation { options: PostOptions::from_map(&app.store.post_options(a.tenant.id, id).await?), ..s };
    let (text, rows) = render(l, &post, &s);
    ctx.show(&bot, text, Some(kb(rows))).await
}
