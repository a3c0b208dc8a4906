//! Starting a batch from a campaign's screen: how many posts, topics proposed by the LLM from the brief or typed
//! (one per line, `topic | tone | brief | audience`, only the topic needed), with or without images, and the
//! estimate of tokens and cost against the workspace's quota before Start. Then the progress message (edited in
//! place by `batches.rs`) with Cancel while it runs, and once it ended the failed items with their reasons,
//! Retry failed and Review.

use super::texts;
use crate::ctx::{Active, App, Ctx, HandlerResult, TgBot};
use crate::kb::kb;
use crate::screens::llm::{llm_error_text, typing};
use crate::state::campaign::{BatchDraft, BatchTopic};
use crate::state::State;
use teloxide::prelude::*;
use teloxide::types::InlineKeyboardMarkup;
use tochen_domain::clock::{now_ms, Millis};
use tochen_domain::html::escape_html;
use tochen_domain::i18n::{t, tf};
use tochen_domain::jobs::BatchProgressPayload;
use tochen_domain::{BatchItemStatus, BatchStatus, CampaignStatus, Role};
use tochen_store::{Batch, Campaign, CampaignError, NewBatch, NewBatchItem, Store, MAX_BATCH_ITEMS};
use tochen_telegram::button::{Button, Campaign as Cb};
use tochen_telegram::text::clip;

/// The counts offered as buttons (any other is typed).
const COUNTS: [u16; 4] = [5, 10, 20, 50];
/// Topics the confirmation lists (the rest are counted).
const SHOWN_TOPICS: usize = 15;
/// Failed items the ended progress message lists.
const SHOWN_FAILURES: usize = 10;
/// Most ideas asked of the LLM in one call.
const IDEAS_PER_CALL: usize = 50;

pub async fn on_button(bot: &TgBot, app: &App, ctx: &Ctx, state: State, b: Cb) -> HandlerResult {
    let Some(a) = ctx.require(bot, Role::Editor).await? else { return Ok(()) };
    let l = ctx.lang;
    match b {
        Cb::Batch(id) => {
            let Some(c) = super::load(bot, app, ctx, &a, id).await? else { return Ok(()) };
            if c.status == CampaignStatus::Archived {
                return ctx.refuse(bot, t(l, "campaign.is_archived")).await;
            }
            ctx.answer(bot, None).await?;
            let draft = BatchDraft { campaign: id, count: 0, topics: Vec::new(), with_images: false, typing: false };
            ask_count(bot, ctx, &c, draft).await
        }
        Cb::Cancel(id) => cancel(bot, app, ctx, &a, id).await,
        Cb::RetryFailed(id) => retry(bot, app, ctx, &a, id).await,
        _ => {
            // The steps act on the batch being set up, kept in the dialogue.
            let State::CampaignBatch { mut draft } = state else {
                return ctx.refuse(bot, t(l, "bot.stale")).await;
            };
            let Some(c) = super::load(bot, app, ctx, &a, draft.campaign).await? else { return Ok(()) };
            match b {
                Cb::Count(n) if (1..=MAX_BATCH_ITEMS as u16).contains(&n) && draft.topics.is_empty() => {
                    ctx.answer(bot, None).await?;
                    draft.count = n;
                    ask_topics(bot, ctx, draft).await
                }
                Cb::Topics(true) if draft.count > 0 => propose(bot, app, ctx, &a, &c, draft).await,
                Cb::Topics(false) if draft.count > 0 => {
                    ctx.answer(bot, None).await?;
                    draft.typing = true;
                    ctx.dlg.update(State::CampaignBatch { draft }).await?;
                    let back = kb(vec![vec![(t(l, "bot.back"), Button::Campaign(Cb::Show(c.id)))]]);
                    let text = tf(l, "campaign.batch.type_topics", &[("max", &MAX_BATCH_ITEMS)]);
                    ctx.show(bot, text, Some(back)).await
                }
                Cb::Images if !draft.topics.is_empty() => {
                    ctx.answer(bot, None).await?;
                    draft.with_images = !draft.with_images;
                    confirm_screen(bot, app, ctx, &a, &c, draft).await
                }
                Cb::Start if !draft.topics.is_empty() => start(bot, app, ctx, &a, &c, draft).await,
                _ => ctx.refuse(bot, t(l, "bot.stale")).await,
            }
        }
    }
}

async fn ask_count(bot: &TgBot, ctx: &Ctx, c: &Campaign, draft: BatchDraft) -> HandlerResult {
    let l = ctx.lang;
    let counts = COUNTS.iter().map(|n| (n.to_string(), Button::Campaign(Cb::Count(*n)))).collect();
    let rows = vec![counts, vec![(t(l, "bot.back"), Button::Campaign(Cb::Show(c.id)))]];
    ctx.dlg.update(State::CampaignBatch { draft }).await?;
    let text = tf(
        l,
        "campaign.batch.ask_count",
        &[("name", &escape_html(&clip(&c.fields.name, 60))), ("max", &MAX_BATCH_ITEMS)],
    );
    ctx.show(bot, text, Some(kb(rows))).await
}

async fn ask_topics(bot: &TgBot, ctx: &Ctx, draft: BatchDraft) -> HandlerResult {
    let l = ctx.lang;
    let rows = vec![
        vec![(t(l, "campaign.batch.btn_propose"), Button::Campaign(Cb::Topics(true)))],
        vec![(t(l, "campaign.batch.btn_type"), Button::Campaign(Cb::Topics(false)))],
        vec![(t(l, "bot.back"), Button::Campaign(Cb::Show(draft.campaign)))],
    ];
    let text = tf(l, "campaign.batch.ask_topics", &[("n", &draft.count)]);
    ctx.dlg.update(State::CampaignBatch { draft }).await?;
    ctx.show(bot, text, Some(kb(rows))).await
}

/// The workspace's profile with the campaign's audience and tone, for asking the LLM about the campaign.
fn profile_for(a: &Active, c: &Campaign) -> tochen_store::TenantProfile {
    let mut profile = a.tenant.profile.clone();
    if !c.fields.audience.trim().is_empty() {
        profile.target_audience = c.fields.audience.clone();
    }
    if !c.fields.tone.trim().is_empty() {
        profile.tone = c.fields.tone.clone();
    }
    profile
}

/// Topics proposed by the LLM from the campaign's brief, as many as asked (in calls of at most
/// [`IDEAS_PER_CALL`], each avoiding the titles so far).
async fn propose(bot: &TgBot, app: &App, ctx: &Ctx, a: &Active, c: &Campaign, mut draft: BatchDraft) -> HandlerResult {
    ctx.answer(bot, None).await?;
    typing(bot, ctx).await;
    let f = &c.fields;
    let about = [f.name.as_str(), f.brief.as_str(), f.goal.as_str(), f.brand.as_str()]
        .iter()
        .filter(|s| !s.trim().is_empty())
        .copied()
        .collect::<Vec<_>>()
        .join(". ");
    let profile = profile_for(a, c);
    let mut topics: Vec<BatchTopic> = Vec::new();
    let want = draft.count as usize;
    while topics.len() < want {
        let avoid: Vec<String> = topics.iter().map(|t| t.topic.clone()).collect();
        let n = (want - topics.len()).min(IDEAS_PER_CALL);
        let ideas = match app.llm.ideas(ctx.llm_ctx(a), &a.tenant.name, &profile, &about, n, &avoid).await {
            Ok(i) => i,
            Err(e) => {
                tracing::warn!(error = %e, "batch topic proposal failed");
                return ctx.say(bot, llm_error_text(ctx.lang, &e), None).await.map(|_| ());
            }
        };
        let before = topics.len();
        for i in ideas {
            let topic = if i.angle.trim().is_empty() { i.title } else { format!("{}: {}", i.title, i.angle) };
            if topics.len() < want && !topics.iter().any(|t| t.topic == topic) {
                topics.push(BatchTopic { topic, ..Default::default() });
            }
        }
        if topics.len() == before {
            break; // nothing new came: take what there is
        }
    }
    if topics.is_empty() {
        return ctx.refuse(bot, t(ctx.lang, "llm.error.malformed")).await;
    }
    draft.topics = topics;
    draft.typing = false;
    confirm_screen(bot, app, &ctx.in_new_message(), a, c, draft).await
}

/// Reads typed topics: one per line, `topic | tone | brief | audience` (only the topic needed; empty lines
/// ignored).
pub fn parse_topics(text: &str) -> Vec<BatchTopic> {
    text.lines()
        .filter_map(|line| {
            let mut parts = line.split('|').map(|p| p.trim().to_owned());
            let topic = parts.next().filter(|t| !t.is_empty())?;
            let mut next = || parts.next().unwrap_or_default();
            Some(BatchTopic { topic, tone: next(), brief: next(), audience: next() })
        })
        .collect()
}

/// A typed answer while setting up a batch: the number of posts, or the topics.
pub async fn got_text(bot: TgBot, app: App, ctx: Ctx, msg: Message, mut draft: BatchDraft) -> HandlerResult {
    let Some(a) = ctx.require(&bot, Role::Editor).await? else { return Ok(()) };
    let l = ctx.lang;
    let Some(c) = super::load(&bot, &app, &ctx, &a, draft.campaign).await? else { return Ok(()) };
    let text = msg.text().unwrap_or_default().trim();
    if draft.count == 0 {
        return match text.parse::<u16>() {
            Ok(n) if (1..=MAX_BATCH_ITEMS as u16).contains(&n) => {
                draft.count = n;
                ask_topics(&bot, &ctx, draft).await
            }
            _ => {
                let text = tf(l, "campaign.batch.bad_count", &[("max", &MAX_BATCH_ITEMS)]);
                ctx.say(&bot, text, None).await.map(|_| ())
            }
        };
    }
    if !draft.typing {
        return ctx.say(&bot, t(l, "campaign.use_buttons"), None).await.map(|_| ());
    }
    let topics = parse_topics(text);
    if topics.is_empty() {
        let text = tf(l, "campaign.batch.type_topics", &[("max", &MAX_BATCH_ITEMS)]);
        return ctx.say(&bot, text, None).await.map(|_| ());
    }
    if topics.len() > MAX_BATCH_ITEMS {
        let why = tf(l, "campaign.batch.too_many", &[("n", &topics.len()), ("max", &MAX_BATCH_ITEMS)]);
        return ctx.say(&bot, why, None).await.map(|_| ());
    }
    draft.topics = topics;
    draft.typing = false;
    confirm_screen(&bot, &app, &ctx, &a, &c, draft).await
}

/// The batch as it will run: its topics, images or not, and the estimate against the quota, with Start.
async fn confirm_screen(
    bot: &TgBot,
    app: &App,
    ctx: &Ctx,
    a: &Active,
    c: &Campaign,
    draft: BatchDraft,
) -> HandlerResult {
    let l = ctx.lang;
    let n = draft.topics.len();
    let mut text = tf(l, "campaign.batch.confirm", &[("name", &escape_html(&clip(&c.fields.name, 60))), ("n", &n)]);
    for (i, topic) in draft.topics.iter().take(SHOWN_TOPICS).enumerate() {
        text.push_str(&format!("\n{}. {}", i + 1, escape_html(&clip(&topic.topic, 90))));
    }
    if n > SHOWN_TOPICS {
        text.push_str(&format!("\n{}", tf(l, "campaign.batch.more_topics", &[("n", &(n - SHOWN_TOPICS))])));
    }
    let (tokens, cost) = app.llm.estimate_batch(n, draft.with_images);
    let left = app.llm.quota_left(a.tenant.id).await?;
    text.push_str("\n\n");
    text.push_str(&texts::estimate_text(l, n, tokens, cost, left));
    let images = if draft.with_images { "campaign.batch.btn_images_on" } else { "campaign.batch.btn_images_off" };
    let mut rows = vec![vec![(t(l, images), Button::Campaign(Cb::Images))]];
    if left != Some(0) {
        rows.push(vec![(t(l, "campaign.batch.btn_start"), Button::Campaign(Cb::Start))]);
    } else {
        text.push('\n');
        text.push_str(&t(l, "campaign.batch.no_quota"));
    }
    rows.push(vec![(t(l, "bot.back"), Button::Campaign(Cb::Show(c.id)))]);
    ctx.dlg.update(State::CampaignBatch { draft }).await?;
    ctx.show(bot, text, Some(kb(rows))).await
}

async fn start(bot: &TgBot, app: &App, ctx: &Ctx, a: &Active, c: &Campaign, draft: BatchDraft) -> HandlerResult {
    let l = ctx.lang;
    let (tokens, cost) = app.llm.estimate_batch(draft.topics.len(), draft.with_images);
    let items = draft
        .topics
        .iter()
        .map(|x| NewBatchItem {
            topic: x.topic.clone(),
            tone: x.tone.clone(),
            brief: x.brief.clone(),
            audience: x.audience.clone(),
        })
        .collect();
    let new = NewBatch {
        started_by: Some(ctx.user.id),
        chat_id: Some(ctx.chat_id.0),
        with_images: draft.with_images,
        items,
        estimate_tokens: tokens,
        estimate_cost_micros: cost,
    };
    let (batch, _) = match app.store.start_batch(a.tenant.id, c.id, &new).await {
        Ok(b) => b,
        Err(CampaignError::Archived) => return ctx.refuse(bot, t(l, "campaign.is_archived")).await,
        Err(CampaignError::BadBatchSize) => {
            let text = tf(l, "campaign.batch.bad_count", &[("max", &MAX_BATCH_ITEMS)]);
            return ctx.refuse(bot, text).await;
        }
        Err(CampaignError::Store(tochen_store::StoreError::NotFound(_))) => {
            return ctx.refuse(bot, t(l, "bot.stale")).await
        }
        Err(e) => return Err(e.into()),
    };
    ctx.dlg.exit().await?;
    ctx.answer(bot, None).await?;
    app.store
        .audit(
            a.tenant.id,
            Some(ctx.user.id),
            "campaign.batch_started",
            "campaign",
            Some(&c.id.to_db()),
            serde_json::json!({"batch": batch.id.to_db(), "items": batch.total, "images": batch.with_images}),
        )
        .await?;
    // The progress message: its own message, edited in place from now on.
    let (text, markup) = progress_screen(&app.store, l, &batch, now_ms()).await?;
    if let Some(m) = ctx.say(bot, text, Some(markup)).await? {
        app.store.set_batch_progress_message(a.tenant.id, batch.id, m.chat.id.0, i64::from(m.id.0)).await?;
        // Items may have ended before the message was known: bring it up to date.
        app.store.enqueue_args(Some(a.tenant.id), &BatchProgressPayload::at(a.tenant.id, batch.id, now_ms())).await?;
    }
    Ok(())
}

/// The progress message of a batch at `now` and its buttons: Cancel while it runs; once it ended the failed items
/// with their reasons, Retry failed (when some failed or were skipped) and Review (when drafts were made).
pub async fn progress_screen(
    store: &Store,
    lang: &str,
    batch: &Batch,
    now: Millis,
) -> anyhow::Result<(String, InlineKeyboardMarkup)> {
    let campaign = store.campaign(batch.tenant_id, batch.campaign_id).await?;
    let p = store.batch_progress(batch.tenant_id, batch.id).await?;
    let mut text = texts::progress_text(lang, &campaign.fields.name, batch, &p, now);
    let mut rows = Vec::new();
    if batch.status == BatchStatus::Running {
        rows.push(vec![(t(lang, "campaign.batch.btn_cancel"), Button::Campaign(Cb::Cancel(batch.id)))]);
    } else {
        let items = store.batch_items(batch.tenant_id, batch.id).await?;
        let failed: Vec<_> = items.iter().filter(|i| i.status == BatchItemStatus::Failed).collect();
        if !failed.is_empty() {
            text.push_str("\n\n");
            text.push_str(&t(lang, "campaign.batch.failed_title"));
            for i in failed.iter().take(SHOWN_FAILURES) {
                text.push('\n');
                text.push_str(&texts::failed_line(lang, &i.item.topic, i.error.as_deref().unwrap_or("")));
            }
            if failed.len() > SHOWN_FAILURES {
                text.push('\n');
                text.push_str(&tf(lang, "campaign.batch.more_topics", &[("n", &(failed.len() - SHOWN_FAILURES))]));
            }
        }
        let retryable = items.iter().filter(|i| matches!(i.status, BatchItemStatus::Failed | BatchItemStatus::Skipped));
        let retryable = retryable.count();
        if retryable > 0 {
            let label = tf(lang, "campaign.batch.btn_retry", &[("n", &retryable)]);
            rows.push(vec![(label, Button::Campaign(Cb::RetryFailed(batch.id)))]);
        }
        if p.done > 0 {
            let label = tf(lang, "campaign.batch.btn_review", &[("n", &p.done)]);
            rows.push(vec![(label, Button::Campaign(Cb::Review(batch.id, 0)))]);
        }
    }
    Ok((text, kb(rows)))
}

/// Cancel on the progress message: the items not made yet stop; the drafts made stay.
async fn cancel(bot: &TgBot, app: &App, ctx: &Ctx, a: &Active, id: tochen_domain::BatchId) -> HandlerResult {
    let l = ctx.lang;
    let Some((batch, _)) = super::load_batch(bot, app, ctx, a, id).await? else { return Ok(()) };
    if batch.status != BatchStatus::Running {
        return ctx.refuse(bot, t(l, "campaign.batch.not_running")).await;
    }
    let stopped = app.store.cancel_batch(a.tenant.id, id).await?;
    app.store
        .audit(
            a.tenant.id,
            Some(ctx.user.id),
            "campaign.batch_cancelled",
            "campaign",
            Some(&batch.campaign_id.to_db()),
            serde_json::json!({"batch": id.to_db(), "stopped": stopped}),
        )
        .await?;
    let notice = tf(l, "campaign.batch.cancelled", &[("n", &stopped)]);
    ctx.answer(bot, Some(notice)).await?;
    // The message shows it as the progress worker draws it, within the edit limit.
    app.store.enqueue_args(Some(a.tenant.id), &BatchProgressPayload::at(a.tenant.id, id, now_ms())).await?;
    Ok(())
}

/// Retry failed on the ended progress message: the failed (and quota-skipped) items run again.
async fn retry(bot: &TgBot, app: &App, ctx: &Ctx, a: &Active, id: tochen_domain::BatchId) -> HandlerResult {
    let l = ctx.lang;
    let Some((batch, campaign)) = super::load_batch(bot, app, ctx, a, id).await? else { return Ok(()) };
    if campaign.status == CampaignStatus::Archived {
        return ctx.refuse(bot, t(l, "campaign.is_archived")).await;
    }
    if batch.status == BatchStatus::Running {
        return ctx.refuse(bot, t(l, "campaign.batch.still_running")).await;
    }
    let n = app.store.retry_batch_items(a.tenant.id, id, None).await?;
    if n == 0 {
        return ctx.refuse(bot, t(l, "campaign.batch.nothing_to_retry")).await;
    }
    app.store
        .audit(
            a.tenant.id,
            Some(ctx.user.id),
            "campaign.batch_retried",
            "campaign",
            Some(&batch.campaign_id.to_db()),
            serde_json::json!({"batch": id.to_db(), "items": n}),
        )
        .await?;
    let notice = tf(l, "campaign.batch.retrying", &[("n", &n)]);
    ctx.answer(bot, Some(notice)).await?;
    app.store.enqueue_args(Some(a.tenant.id), &BatchProgressPayload::at(a.tenant.id, id, now_ms())).await?;
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn typed_topics_read_one_per_line_with_optional_fields() {
        let got = parse_topics("Pumpkin latte | cosy | autumn drinks | students\n\n  Cinnamon buns  \n| no topic\nA|b");
        assert_eq!(got.len(), 3);
        assert_eq!(
            got[0],
            BatchTopic {
                topic: "Pumpkin latte".into(),
                tone: "cosy".into(),
                brief: "autumn drinks".into(),
                audience: "students".into()
            }
        );
        assert_eq!(got[1], BatchTopic { topic: "Cinnamon buns".into(), ..Default::default() });
        assert_eq!(got[2], BatchTopic { topic: "A".into(), tone: "b".into(), ..Default::default() });
    }
}
