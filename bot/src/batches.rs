//! Campaign batches (issue 18): the worker of `batch.item` jobs (one LLM draft each) and of `batch.progress` jobs
//! (the progress message edited in place), and the runner that runs them.
//!
//! The worker lives in the bot because it needs the LLM client (the scheduler does not use `tochen-llm`). It is a
//! `tochen_queue::Runner` of its own with only these two kinds, like webhook mode's runner of stored updates:
//!
//! - **Concurrency.** Every item's job carries the workspace's concurrency key (`llm:{tenant}`), and the runner's
//!   `per_key` is `LLM_BATCH_CONCURRENCY` (default 5): the claim query never holds more of one workspace's items
//!   at once, across processes. The runner's own concurrency, `LLM_BATCH_GLOBAL_CONCURRENCY`, caps all
//!   workspaces together in a process.
//! - **Rate limits.** The client hands a 429 straight back ([`LlmClient::passing_rate_limits`]); the item goes back
//!   to `pending` without counting a failure and its job is retried after the provider's retry-after, freeing its
//!   slot meanwhile.
//! - **Failures.** Any other error counts against the item (`BATCH_ITEM_MAX_FAILURES`, retried with backoff in
//!   between); a malformed answer or an empty draft ends it `failed` with the reason. One item's failure never
//!   touches another.
//! - **Quota.** Before each call the client checks the workspace's monthly quota; when it is used up the whole
//!   batch stops (`quota_stopped`) and its items not started are skipped, saying so; the items in flight finish.
//! - **Exactly once.** The draft is saved in the transaction that ends the item (`Store::complete_batch_item`), so
//!   a job run again after a crash, or an item cancelled meanwhile, saves nothing twice.
//! - **Progress.** Each item that ends queues a `batch.progress` job for the current 3-second window (unique per
//!   window, due when it closes); its worker edits the message once, after claiming the edit in the database
//!   (`Store::claim_batch_progress_edit`), so two edits of one message are never less than 3 s apart. The message
//!   and its buttons are drawn by `campaigns::progress_screen` (its texts in `campaigns::texts`): Cancel while the batch runs; once it ended the failed
//!   items with their reasons, Retry failed and Review.

use crate::ctx::TgBot;
use std::sync::Arc;
use std::time::Duration;
use teloxide::prelude::*;
use teloxide::types::MessageId;
use tochen_config::{Config, DatabaseKind};
use tochen_domain::clock::now_ms;
use tochen_domain::ids::TenantId;
use tochen_domain::jobs::{
    BatchItemPayload, BatchProgressPayload, BATCH_ITEM, BATCH_ITEM_MAX_FAILURES, BATCH_PROGRESS_EVERY_MS,
};
use tochen_domain::BatchItemStatus;
use tochen_llm::{CallContext, LlmClient, LlmError};
use tochen_platforms::RuleBook;
use tochen_queue::{Backoff, FailureHooks, JobContext, JobError, Runner, RunnerConfig, Worker, Workers};
use tochen_store::{Batch, GeneratedDraft, ItemWork, Job, PostContent, Store};

/// How long a batch job's lease lasts without being extended.
const LEASE: Duration = Duration::from_secs(120);

/// Generates one batch item.
pub struct ItemWorker {
    llm: LlmClient,
    rules: RuleBook,
}

impl ItemWorker {
    /// `llm` is made to pass rate limits through here.
    pub fn new(llm: LlmClient, rules: RuleBook) -> Self {
        Self { llm: llm.passing_rate_limits(), rules }
    }
}

/// The idea the LLM writes a draft for: the item's topic with the campaign's brief, each item field overriding the
/// campaign's.
fn idea_text(w: &ItemWork) -> String {
    let c = &w.campaign.fields;
    let i = &w.item.item;
    let pick = |own: &str, campaign: &str| if own.trim().is_empty() { campaign.to_owned() } else { own.to_owned() };
    let mut parts = vec![i.topic.clone()];
    let brief = pick(&i.brief, &c.brief);
    if !brief.trim().is_empty() {
        parts.push(format!("Campaign \"{}\": {brief}", c.name));
    }
    if !c.brand.trim().is_empty() {
        parts.push(format!("Brand: {}", c.brand));
    }
    if !c.goal.trim().is_empty() {
        parts.push(format!("Goal: {}", c.goal));
    }
    parts.join(". ")
}

async fn queue_progress(store: &Store, tenant: TenantId, batch: &Batch) -> Result<(), JobError> {
    if batch.progress_message_id.is_some() && batch.chat_id.is_some() {
        store.enqueue_args(Some(tenant), &BatchProgressPayload::at(tenant, batch.id, now_ms())).await?;
    }
    Ok(())
}

#[async_trait::async_trait]
impl Worker<BatchItemPayload> for ItemWorker {
    async fn work(&self, cx: &JobContext, p: BatchItemPayload) -> Result<(), JobError> {
        let store = cx.store();
        let tenant = p.tenant_id;
        let Some(w) = store.begin_batch_item(tenant, p.item_id).await? else {
            return Ok(()); // ended already (done, cancelled, stopped): nothing to do
        };
        let ws = store.tenant(tenant).await?;
        let mut profile = ws.profile.clone();
        let (c, i) = (&w.campaign.fields, &w.item.item);
        for (own, campaign, slot) in
            [(&i.tone, &c.tone, &mut profile.tone), (&i.audience, &c.audience, &mut profile.target_audience)]
        {
            if !own.trim().is_empty() {
                *slot = own.clone();
            } else if !campaign.trim().is_empty() {
                *slot = campaign.clone();
            }
        }
        let platforms =
            if c.platforms.is_empty() { tochen_domain::Platform::ALL.to_vec() } else { c.platforms.clone() };
        let rules: Vec<_> = platforms.iter().map(|pl| self.rules.get(*pl)).collect();
        let ctx = CallContext { tenant, user: w.batch.started_by };
        let idea = idea_text(&w);
        let result = match self.llm.draft(ctx, &ws.name, &profile, &idea, &rules).await {
            Ok(d) if d.texts.is_empty() => Err(LlmError::Malformed("the draft has no text".into())),
            Ok(d) if w.batch.with_images && !d.image_prompt.trim().is_empty() => {
                match self.llm.image(ctx, &d.image_prompt).await {
                    Ok(m) => Ok((d, Some(m.id))),
                    Err(e) => Err(e),
                }
            }
            Ok(d) => Ok((d, None)),
            Err(e) => Err(e),
        };
        let outcome = match result {
            Ok((d, media)) => {
                let title = if d.title.trim().is_empty() { i.topic.clone() } else { d.title.clone() };
                let texts = d
                    .texts
                    .iter()
                    .map(|x| PostContent {
                        platform: x.platform,
                        body: x.body.clone(),
                        hashtags: x.hashtags.clone(),
                        link: None,
                        custom: false,
                    })
                    .collect();
                let draft = GeneratedDraft { title, idea, image_prompt: d.image_prompt, texts, media };
                store.complete_batch_item(tenant, p.item_id, &draft).await?;
                Ok(())
            }
            Err(LlmError::Throttled(after)) => {
                store.release_batch_item(tenant, p.item_id).await?;
                if cx.is_last_attempt() {
                    store.begin_batch_item(tenant, p.item_id).await?;
                    store.fail_batch_item(tenant, p.item_id, "rate limited too often", true, 1).await?;
                    Ok(())
                } else {
                    // Not a failure of the item: the queue waits the provider's retry-after and tries again.
                    return Err(JobError::Retryable {
                        message: "rate limited by the LLM provider".into(),
                        retry_after: Some(after.unwrap_or(Duration::from_secs(1))),
                    });
                }
            }
            Err(e @ (LlmError::QuotaExhausted { .. } | LlmError::ProviderQuota)) => {
                store.release_batch_item(tenant, p.item_id).await?;
                store.stop_batch_for_quota(tenant, w.batch.id, &e.to_string()).await?;
                Ok(())
            }
            Err(e) => {
                let permanent = matches!(e, LlmError::Malformed(_) | LlmError::Truncated) || cx.is_last_attempt();
                let status = store
                    .fail_batch_item(tenant, p.item_id, &e.to_string(), permanent, BATCH_ITEM_MAX_FAILURES)
                    .await?;
                if status == Some(BatchItemStatus::Pending) {
                    return Err(JobError::retry(format!("batch item failed, retrying: {e}")));
                }
                Ok(())
            }
        };
        let batch = store.batch(tenant, w.batch.id).await?;
        queue_progress(store, tenant, &batch).await?;
        outcome
    }
}

/// A `batch.item` job that died without ending its item (its runner crashed on every attempt) fails the item, so
/// the batch still ends.
struct DeadItems;

#[async_trait::async_trait]
impl FailureHooks for DeadItems {
    async fn job_dead(&self, store: &Store, job: &Job, message: &str) -> tochen_store::Result<()> {
        if job.kind != BATCH_ITEM {
            return Ok(());
        }
        let Ok(p) = serde_json::from_value::<BatchItemPayload>(job.payload.clone()) else { return Ok(()) };
        store.begin_batch_item(p.tenant_id, p.item_id).await?;
        store.fail_batch_item(p.tenant_id, p.item_id, message, true, 1).await?;
        Ok(())
    }

    async fn needs_reconnect(
        &self,
        _: &Store,
        _: TenantId,
        _: tochen_domain::ids::AccountId,
        _: &str,
    ) -> tochen_store::Result<()> {
        Ok(())
    }
}

/// Edits a batch's progress message.
pub struct ProgressWorker {
    bot: TgBot,
}

#[async_trait::async_trait]
impl Worker<BatchProgressPayload> for ProgressWorker {
    async fn work(&self, cx: &JobContext, p: BatchProgressPayload) -> Result<(), JobError> {
        let store = cx.store();
        let b = store.batch(p.tenant_id, p.batch_id).await?;
        let (Some(chat), Some(msg)) = (b.chat_id, b.progress_message_id) else { return Ok(()) };
        let now = now_ms();
        if !store.claim_batch_progress_edit(p.tenant_id, b.id, now, BATCH_PROGRESS_EVERY_MS).await? {
            let last = store.batch_progress_edited_at(p.tenant_id, b.id).await?.unwrap_or(now);
            let wait = (last + BATCH_PROGRESS_EVERY_MS - now).clamp(1, BATCH_PROGRESS_EVERY_MS);
            return Err(JobError::retry_after("progress edited moments ago", Duration::from_millis(wait as u64)));
        }
        let ws = store.tenant(p.tenant_id).await?;
        let lang = tochen_domain::i18n::normalize(&ws.profile.language);
        // Cancel while it runs; once it ended, the failed items, Retry failed and Review.
        let (text, markup) = crate::campaigns::progress_screen(store, lang, &b, now)
            .await
            .map_err(|e| JobError::retry(format!("cannot draw the batch progress: {e}")))?;
        let text = tochen_telegram::text::fit(&text, tochen_telegram::text::MESSAGE_MAX).into_owned();
        let edit = self.bot.edit_message_text(ChatId(chat), MessageId(msg as i32), text).reply_markup(markup);
        if let Err(e) = edit.await {
            // "message is not modified" or a deleted message: nothing to retry.
            tracing::debug!(error = %e, "batch progress edit failed");
        }
        Ok(())
    }
}

/// The runner of batch jobs: `batch.item` always, `batch.progress` when a bot is given to edit with.
pub fn runner(config: &Config, store: &Store, llm: LlmClient, rules: RuleBook, bot: Option<TgBot>) -> Runner {
    let mut w = Workers::new();
    w.register::<BatchItemPayload, _>(ItemWorker::new(llm, rules)).hooks(Arc::new(DeadItems));
    if let Some(bot) = bot {
        w.register::<BatchProgressPayload, _>(ProgressWorker { bot });
    }
    let mut cfg = RunnerConfig::new(format!("batch:{}", tochen_queue::owner_name()));
    cfg.concurrency = config.llm.batch_global_concurrency.max(1);
    cfg.per_key = config.llm.batch_concurrency.max(1);
    cfg.lease = LEASE;
    cfg.backoff = Backoff { base: Duration::from_secs(2), cap: Duration::from_secs(120) };
    cfg.claim_ahead = Some(0);
    let postgres = config.database.kind == DatabaseKind::Postgres;
    cfg.listen_url = postgres.then(|| config.database.url.expose().to_owned());
    cfg.max_idle = if postgres { Duration::from_secs(5) } else { Duration::from_millis(500) };
    Runner::new(store.clone(), w, cfg)
}

/// The runner with explicit limits (tests and benchmarks): `per_workspace` items of one workspace, `global` in all.
pub fn runner_with(
    store: &Store,
    llm: LlmClient,
    rules: RuleBook,
    per_workspace: usize,
    global: usize,
    lease: Duration,
) -> Runner {
    let mut w = Workers::new();
    w.register::<BatchItemPayload, _>(ItemWorker::new(llm, rules)).hooks(Arc::new(DeadItems));
    let mut cfg = RunnerConfig::new(format!("batch:{}", tochen_queue::owner_name()));
    cfg.concurrency = global.max(1);
    cfg.per_key = per_workspace.max(1);
    cfg.lease = lease;
    cfg.backoff = Backoff { base: Duration::from_millis(50), cap: Duration::from_secs(2) };
    cfg.claim_ahead = Some(0);
    cfg.max_idle = Duration::from_millis(200);
    cfg.blocked_wait = Duration::from_millis(50);
    Runner::new(store.clone(), w, cfg)
}
