//! The draft screen's "Campaign" button (drafts from `/idea` and `/new`): the campaigns a post may join (those
//! not archived), the one it is in marked, and "No campaign".

use crate::ctx::{App, Ctx, HandlerResult, TgBot};
use crate::kb::kb;
use tochen_domain::html::escape_html;
use tochen_domain::i18n::{t, tf};
use tochen_domain::Role;
use tochen_store::StoreError;
use tochen_telegram::button::{Button, Campaign as Cb, Draft, DraftAct};
use tochen_telegram::text::clip;

/// Campaigns the picker offers (newest first).
const MAX: usize = 20;

pub async fn on_button(bot: &TgBot, app: &App, ctx: &Ctx, b: Cb) -> HandlerResult {
    let Some(a) = ctx.require(bot, Role::Editor).await? else { return Ok(()) };
    let l = ctx.lang;
    let post_id = match b {
        Cb::PickFor(p) | Cb::SetFor(p, _) => p,
        _ => return ctx.refuse(bot, t(l, "bot.stale")).await,
    };
    let post = match app.store.post(a.tenant.id, post_id).await {
        Ok(p) => p,
        Err(StoreError::NotFound(_)) => return ctx.refuse(bot, t(l, "bot.post.not_found")).await,
        Err(e) => return Err(e.into()),
    };
    if !crate::screens::draft::EDITABLE.contains(&post.status) {
        return ctx.refuse(bot, t(l, "bot.post.wrong_status")).await;
    }
    match b {
        Cb::SetFor(_, campaign) => {
            if !app.store.set_post_campaign(a.tenant.id, post.id, campaign).await? {
                return ctx.refuse(bot, t(l, "bot.stale")).await;
            }
            let name = match campaign {
                Some(c) => app.store.campaign(a.tenant.id, c).await.map(|c| c.fields.name).unwrap_or_default(),
                None => String::new(),
            };
            let details = serde_json::json!({"campaign": campaign.map(|c| c.to_db())});
            app.store
                .audit(a.tenant.id, Some(ctx.user.id), "post.campaign_set", "post", Some(&post.id.to_db()), details)
                .await?;
            let notice = if campaign.is_some() {
                tf(l, "campaign.pick.set", &[("name", &clip(&name, 60))])
            } else {
                t(l, "campaign.pick.unset")
            };
            ctx.answer(bot, Some(notice)).await?;
            crate::screens::draft::show(bot, app, ctx, &a, post.id).await
        }
        _ => {
            ctx.answer(bot, None).await?;
            let current = app.store.post_campaign(a.tenant.id, post.id).await?;
            let mut rows = Vec::new();
            let mut text = tf(l, "campaign.pick.title", &[("title", &escape_html(&clip(&post.title, 80)))]);
            let all = app.store.campaigns(a.tenant.id, false).await?;
            if all.is_empty() {
                text.push_str("\n\n");
                text.push_str(&t(l, "campaign.list.empty"));
            }
            for s in all.iter().take(MAX) {
                let c = &s.campaign;
                let mark = if current == Some(c.id) { "✅ " } else { "" };
                rows.push(vec![(
                    format!("{mark}{}", clip(&c.fields.name, 50)),
                    Button::Campaign(Cb::SetFor(post.id, Some(c.id))),
                )]);
            }
            if current.is_some() {
                rows.push(vec![(t(l, "campaign.pick.none"), Button::Campaign(Cb::SetFor(post.id, None)))]);
            }
            rows.push(vec![(t(l, "bot.back"), Button::Draft(Draft::Act(DraftAct::Show, post.id, post.version)))]);
            // A photo draft's caption holds only so much: the list arrives as its own message.
            let target = if ctx.screen_photo { ctx.in_new_message() } else { ctx.clone() };
            target.show(bot, text, Some(kb(rows))).await
        }
    }
}
