//! The publishing pipeline: `publish` and `publish.check` jobs for one post target each.
//!
//! `publishing` is committed before the platform call. If a later attempt finds the target still `publishing`,
//! the earlier request may have gone out: with a platform reference (Instagram container, TikTok publish_id) the
//! platform is asked; without one the target becomes `unknown` and the team is asked to confirm with buttons.
//! Nothing is ever re-sent blindly. Targets are independent: each has its own job, so one platform failing does
//! not hold up the others.

use crate::error::JobError;
use crate::handlers::results::{self, Known};
use crate::runner::JobHandler;
use std::collections::HashMap;
use std::sync::Arc;
use std::time::Duration;
use tochen_core::clock::now_ms;
use tochen_core::domain::{AccountStatus, Platform, TargetStatus};
use tochen_core::ids::{TargetId, TenantId};
use tochen_core::jobs::{PublishPayload, PUBLISH_CHECK};
use tochen_core::publish::{
    CheckOutcome, ErrorClass, MediaRef, PublishError, PublishOutcome, PublishRequest, Publisher, RefRecorder,
};
use tochen_core::store::{BeginPublish, Job, NewJob, PublishContext};
use tochen_core::{Store, StoreError};

/// The publisher for each platform. A platform without one fails its targets with a clear message.
pub type Publishers = HashMap<Platform, Arc<dyn Publisher>>;

/// Builds the URL a platform downloads a media file from. The web service serves and signs these URLs.
pub type MediaUrls = Arc<dyn Fn(TenantId, &str) -> String + Send + Sync>;

/// How long to wait between asking the platform about a request still processing.
pub const CHECK_INTERVAL: Duration = Duration::from_secs(30);

pub struct PublishHandler {
    pub publishers: Arc<Publishers>,
    pub media_urls: MediaUrls,
}

struct Recorder<'a> {
    store: &'a Store,
    tenant: TenantId,
    target: TargetId,
}

#[async_trait::async_trait]
impl RefRecorder for Recorder<'_> {
    async fn record(&self, platform_ref: &str) -> Result<(), StoreError> {
        self.store.record_platform_ref(self.tenant, self.target, platform_ref).await
    }
}

fn payload(job: &Job) -> Result<(TenantId, TargetId), JobError> {
    let p: PublishPayload = serde_json::from_value(job.payload.clone())
        .map_err(|e| JobError::permanent(format!("publish payload is not valid: {e}")))?;
    let tenant = job.tenant_id.ok_or_else(|| JobError::permanent("publish job without a workspace"))?;
    Ok((tenant, p.target_id))
}

impl PublishHandler {
    fn request(&self, ctx: &PublishContext) -> PublishRequest {
        let (text, link) = match &ctx.content {
            Some(c) => {
                let tags = c.hashtags.iter().map(|h| format!("#{}", h.trim_start_matches('#'))).collect::<Vec<_>>();
                let text = if tags.is_empty() { c.body.clone() } else { format!("{}\n\n{}", c.body, tags.join(" ")) };
                (text, c.link.clone())
            }
            None => (ctx.post.idea.clone(), None),
        };
        let media = ctx
            .media
            .iter()
            .map(|(id, kind, content_type, size, path)| MediaRef {
                kind: *kind,
                url: (self.media_urls)(ctx.post.tenant_id, &id.to_string()),
                content_type: content_type.clone(),
                size_bytes: *size,
                storage_path: path.clone(),
            })
            .collect();
        PublishRequest {
            tenant_id: ctx.post.tenant_id,
            target_id: ctx.target.id,
            account_id: ctx.account.id,
            platform: ctx.target.platform,
            external_account_id: ctx.account.external_id.clone(),
            auth_kind: ctx.account.auth_kind,
            access_token: ctx.tokens.access_token.clone(),
            text,
            title: ctx.post.title.clone(),
            link,
            media,
        }
    }

    fn publisher(&self, platform: Platform) -> Option<&Arc<dyn Publisher>> {
        self.publishers.get(&platform)
    }
}

#[async_trait::async_trait]
impl JobHandler for PublishHandler {
    async fn run(&self, store: &Store, job: &Job) -> Result<(), JobError> {
        let (tenant, target_id) = payload(job)?;
        let platforms: Vec<Platform> = self.publishers.keys().copied().collect();
        let (ctx, begun) = match store.begin_publishing(tenant, target_id, &platforms).await {
            Ok(c) => c,
            Err(StoreError::NotFound("post target")) => return Ok(()),
            Err(e @ StoreError::NotFound(_)) => {
                // The post or account is gone: nothing to do for a settled target, an error otherwise.
                let t = store.target(tenant, target_id).await?;
                if t.status != TargetStatus::Pending && t.status != TargetStatus::Publishing {
                    return Ok(());
                }
                return Err(e.into());
            }
            Err(e) => return Err(e.into()),
        };
        let known = Known::from(&ctx);
        if ctx.target.status != TargetStatus::Pending && ctx.target.status != TargetStatus::Publishing {
            return Ok(());
        }
        let Some(publisher) = self.publisher(ctx.target.platform).cloned() else {
            let message = format!("publishing to {} is not configured", ctx.target.platform);
            let failed = [TargetStatus::Pending, TargetStatus::Publishing];
            if store
                .move_target(tenant, target_id, &failed, TargetStatus::Failed, Some(("permanent", &message)))
                .await?
            {
                results::target_settled(store, tenant, target_id).await?;
            }
            return Err(JobError::permanent(message));
        };
        if ctx.account.status != AccountStatus::Active {
            let message = format!("the account {} must be reconnected", ctx.account.name);
            if ctx.target.status == TargetStatus::Publishing {
                // An earlier attempt may have gone out before the account broke: the team decides.
                return results::mark_unknown(store, tenant, target_id, &message, Some(known)).await;
            }
            let from = [TargetStatus::Pending];
            if store
                .move_target(tenant, target_id, &from, TargetStatus::Failed, Some(("needs_reconnect", &message)))
                .await?
            {
                results::target_settled(store, tenant, target_id).await?;
            }
            return Err(JobError::permanent(message));
        }
        let req = self.request(&ctx);
        match begun {
            BeginPublish::Settled(_) => Ok(()),
            // Not expected: the starting statement checks what the lines above checked, on the same read. Retried
            // rather than trusted.
            BeginPublish::NotReady(_) => Err(JobError::retry("the post target changed while starting; trying again")),
            BeginPublish::InFlight(t) => match t.platform_ref {
                Some(r) => check_now(store, publisher.as_ref(), &req, &r, job, known).await,
                None => {
                    let why = "the outcome of an earlier attempt was lost";
                    results::mark_unknown(store, tenant, target_id, why, Some(known)).await
                }
            },
            BeginPublish::Started(_) => {
                let refs = Recorder { store, tenant, target: target_id };
                let outcome = publisher.publish(&req, &refs).await;
                // The platform answered: recording it need not hold a slot from the next publish.
                crate::runner::release_slot();
                on_publish_result(store, &req, outcome, job, known).await
            }
        }
    }
}

/// Applies what `Publisher::publish` answered.
async fn on_publish_result(
    store: &Store,
    req: &PublishRequest,
    outcome: Result<PublishOutcome, PublishError>,
    job: &Job,
    known: Known<'_>,
) -> Result<(), JobError> {
    let (tenant, target) = (req.tenant_id, req.target_id);
    match outcome {
        Ok(PublishOutcome::Published { platform_post_id, permalink }) => {
            results::mark_published(store, tenant, target, &platform_post_id, permalink.as_deref(), Some(known)).await
        }
        Ok(PublishOutcome::Pending { platform_ref }) => {
            store.record_platform_ref(tenant, target, &platform_ref).await?;
            enqueue_check(store, req, job).await
        }
        Err(e) => on_publish_error(store, req, e, job, known).await,
    }
}

async fn on_publish_error(
    store: &Store,
    req: &PublishRequest,
    e: PublishError,
    job: &Job,
    known: Known<'_>,
) -> Result<(), JobError> {
    let (tenant, target) = (req.tenant_id, req.target_id);
    match e.class {
        ErrorClass::Retryable { retry_after } if job.attempts < job.max_attempts => {
            let from = [TargetStatus::Publishing];
            store.move_target(tenant, target, &from, TargetStatus::Pending, Some(("retryable", &e.message))).await?;
            Err(JobError::Retryable { message: e.message, retry_after })
        }
        ErrorClass::Retryable { .. } | ErrorClass::Permanent => {
            results::mark_failed(store, tenant, target, "permanent", &e.message, Some(known)).await?;
            Err(JobError::permanent(e.message))
        }
        ErrorClass::NeedsReconnect => {
            results::mark_failed(store, tenant, target, "needs_reconnect", &e.message, Some(known)).await?;
            Err(JobError::NeedsReconnect { tenant, account: req.account_id, message: e.message })
        }
        ErrorClass::OutcomeUnknown => {
            let current = store.target(tenant, target).await?;
            match current.platform_ref {
                Some(_) => enqueue_check(store, req, job).await,
                None => results::mark_unknown(store, tenant, target, &e.message, Some(known)).await,
            }
        }
    }
}

async fn enqueue_check(store: &Store, req: &PublishRequest, job: &Job) -> Result<(), JobError> {
    let payload = serde_json::to_value(PublishPayload { target_id: req.target_id }).expect("payload serializes");
    let check = NewJob::new(PUBLISH_CHECK, payload)
        .tenant(req.tenant_id)
        .run_at(now_ms() + CHECK_INTERVAL.as_millis() as i64)
        .unique(format!("publish.check:{}:{}", req.target_id, job.id))
        .concurrency(format!("account:{}", req.account_id))
        .max_attempts(120);
    store.enqueue(&check).await?;
    Ok(())
}

/// Asks the platform about a request whose outcome was not seen, from within a `publish` job.
async fn check_now(
    store: &Store,
    publisher: &dyn Publisher,
    req: &PublishRequest,
    platform_ref: &str,
    job: &Job,
    known: Known<'_>,
) -> Result<(), JobError> {
    match publisher.check(req, platform_ref).await {
        Ok(CheckOutcome::Pending) => enqueue_check(store, req, job).await,
        Ok(other) => on_check(store, req, other, known).await,
        Err(e) if matches!(e.class, ErrorClass::Retryable { .. }) => enqueue_check(store, req, job).await,
        Err(e) => on_check(store, req, CheckOutcome::Failed(e), known).await,
    }
}

/// Applies a final check answer (anything but `Pending`).
async fn on_check(
    store: &Store,
    req: &PublishRequest,
    outcome: CheckOutcome,
    known: Known<'_>,
) -> Result<(), JobError> {
    let (tenant, target) = (req.tenant_id, req.target_id);
    match outcome {
        CheckOutcome::Published { platform_post_id, permalink } => {
            results::mark_published(store, tenant, target, &platform_post_id, permalink.as_deref(), Some(known)).await
        }
        CheckOutcome::NotPublished { reason } => {
            // The platform says the earlier request never became a post: a new attempt is safe.
            let from = [TargetStatus::Publishing, TargetStatus::Unknown];
            if store.move_target(tenant, target, &from, TargetStatus::Pending, Some(("retryable", &reason))).await? {
                store.requeue_unique_job(&format!("publish:{target}"), now_ms()).await?;
            }
            Ok(())
        }
        CheckOutcome::Failed(e) => {
            let class = if e.class == ErrorClass::NeedsReconnect { "needs_reconnect" } else { "permanent" };
            results::mark_failed(store, tenant, target, class, &e.message, Some(known)).await
        }
        CheckOutcome::Pending => Ok(()),
    }
}

/// `publish.check`: asks the platform again until it answers, then settles the target. On the last attempt a
/// target still processing becomes `unknown` and the team is asked.
pub struct PublishCheckHandler {
    pub publishers: Arc<Publishers>,
    pub inner: Arc<PublishHandler>,
}

#[async_trait::async_trait]
impl JobHandler for PublishCheckHandler {
    async fn run(&self, store: &Store, job: &Job) -> Result<(), JobError> {
        let (tenant, target_id) = payload(job)?;
        let ctx = match store.publish_context(tenant, target_id).await {
            Ok(c) => c,
            Err(StoreError::NotFound(_)) => return Ok(()),
            Err(e) => return Err(e.into()),
        };
        if ctx.target.status != TargetStatus::Publishing {
            return Ok(());
        }
        let known = Known::from(&ctx);
        let Some(platform_ref) = ctx.target.platform_ref.clone() else {
            return results::mark_unknown(store, tenant, target_id, "no platform reference to check", Some(known))
                .await;
        };
        let Some(publisher) = self.publishers.get(&ctx.target.platform) else {
            return Err(JobError::permanent(format!("publishing to {} is not configured", ctx.target.platform)));
        };
        let req = self.inner.request(&ctx);
        let last = job.attempts >= job.max_attempts;
        match publisher.check(&req, &platform_ref).await {
            Ok(CheckOutcome::Pending) if last => {
                results::mark_unknown(store, tenant, target_id, "the platform is still processing it", Some(known))
                    .await
            }
            Ok(CheckOutcome::Pending) => Err(JobError::retry_after("still processing", CHECK_INTERVAL)),
            Ok(other) => on_check(store, &req, other, known).await,
            Err(e) => match e.class {
                ErrorClass::Retryable { .. } | ErrorClass::OutcomeUnknown if last => {
                    results::mark_unknown(store, tenant, target_id, &e.message, Some(known)).await
                }
                ErrorClass::Retryable { retry_after } => {
                    Err(JobError::Retryable { message: e.message, retry_after: retry_after.or(Some(CHECK_INTERVAL)) })
                }
                ErrorClass::OutcomeUnknown => Err(JobError::retry_after(e.message, CHECK_INTERVAL)),
                _ => on_check(store, &req, CheckOutcome::Failed(e), known).await,
            },
        }
    }
}
