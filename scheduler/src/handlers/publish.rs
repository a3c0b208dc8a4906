//! The publishing pipeline: `publish` and `publish.check` jobs for one post target each.
//!
//! `publishing` is committed before the platform call. If a later attempt finds the target still `publishing`,
//! the earlier request may have gone out: with a platform reference (Instagram container, TikTok publish_id) the
//! platform is asked; without one the target becomes `unknown` and the team is asked to confirm with buttons.
//! Nothing is ever re-sent blindly. Targets are independent: each has its own job, so one platform failing does
//! not hold up the others.
//!
//! Once the publisher recorded a reference, an error short of a final answer never sends the target back to
//! `pending`: the platform is asked about the reference instead (at once, then by `publish.check` jobs), and only
//! its answer that the request never became a post (`NotPublished`) starts a new round. Without a reference, only an
//! error that proves nothing was created (`Retryable`) starts a new round; `OutcomeUnknown` asks the team.
//!
//! Images a platform does not take (Instagram takes JPEG only) are converted before the call, once per image
//! (`tochen_platforms::jpeg`).

use crate::handlers::results::{self, Known};
use std::path::PathBuf;
use std::sync::{Arc, Mutex};
use std::time::Duration;
use tochen_domain::clock::now_ms;
use tochen_domain::ids::{TargetId, TenantId};
use tochen_domain::jobs::{PublishCheckPayload, PublishPayload};
use tochen_domain::{AccountStatus, MediaKind, Platform, TargetStatus};
use tochen_platforms::jpeg::{self, ConvertError};
use tochen_platforms::publish::{
    CheckOutcome, ErrorClass, MediaRef, PublishError, PublishOutcome, PublishRequest, Publisher, RefRecorder,
};
use tochen_platforms::registry::platform_of;
use tochen_queue::{JobContext, JobError, Worker};
use tochen_store::{BeginPublish, Job, NewJob, PublishContext};
use tochen_store::{Store, StoreError};

use TargetStatus::{Pending, Publishing, Unknown};

/// The publisher for each way of connecting accounts (`tochen_platforms::publishers`). A target whose account has
/// none fails with a clear message.
pub use tochen_platforms::Publishers;

/// Why a target's account has no publisher here.
fn not_configured(ctx: &PublishContext) -> String {
    if ctx.account.auth_kind.is_sandbox() {
        format!("{} is a sandbox account and the sandbox is off on this server (TOCHEN_SANDBOX)", ctx.account.name)
    } else {
        format!("publishing to {} is not configured", ctx.target.platform)
    }
}

/// Builds the URL a platform downloads a media file from. The web service serves and signs these URLs.
pub type MediaUrls = Arc<dyn Fn(TenantId, &str) -> String + Send + Sync>;

/// How long to wait between asking the platform about a request still processing.
pub const CHECK_INTERVAL: Duration = Duration::from_secs(30);

pub struct PublishHandler {
    pub publishers: Arc<Publishers>,
    pub media_urls: MediaUrls,
    /// Where media files live; converted images are written beside their originals.
    pub data_dir: PathBuf,
}

/// Records a target's platform reference and remembers the last one, so the pipeline knows without reading the
/// store again whether this round has one.
struct Recorder<'a> {
    store: &'a Store,
    tenant: TenantId,
    target: TargetId,
    last: Mutex<Option<String>>,
}

impl<'a> Recorder<'a> {
    fn new(store: &'a Store, tenant: TenantId, target: TargetId, last: Option<String>) -> Self {
        Self { store, tenant, target, last: Mutex::new(last) }
    }

    fn last(&self) -> Option<String> {
        self.last.lock().unwrap_or_else(|e| e.into_inner()).clone()
    }
}

#[async_trait::async_trait]
impl RefRecorder for Recorder<'_> {
    async fn record(&self, platform_ref: &str) -> Result<(), StoreError> {
        self.store.record_platform_ref(self.tenant, self.target, platform_ref).await?;
        *self.last.lock().unwrap_or_else(|e| e.into_inner()) = Some(platform_ref.to_owned());
        Ok(())
    }
}

/// The workspace of a publish job (its payload names the target).
fn tenant_of(job: &Job) -> Result<TenantId, JobError> {
    job.tenant_id.ok_or_else(|| JobError::permanent("publish job without a workspace"))
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
            options: tochen_platforms::options::PostOptions::default(),
        }
    }

    /// The post's platform options (over the workspace's defaults), with the AI-generated mark set when an item
    /// came from the image model.
    async fn options_for(
        &self,
        store: &Store,
        ctx: &PublishContext,
    ) -> Result<tochen_platforms::options::PostOptions, StoreError> {
        let tenant = ctx.post.tenant_id;
        let mut o = tochen_platforms::options::PostOptions::from_map(&ctx.options);
        let mut facts = Vec::with_capacity(ctx.media.len());
        for (id, ..) in &ctx.media {
            let media = store.media(tenant, *id).await?;
            if matches!(media.info.source.as_str(), "generated" | "sandbox") {
                o.ai_generated = true;
            }
            facts.push(tochen_platforms::media::facts_of(store, &media).await?);
        }
        // A Facebook video goes as a Reel when it fits Reels, unless the post chose otherwise.
        if let (None, [video]) = (o.facebook.video, facts.as_slice()) {
            if video.kind == MediaKind::Video {
                let reel = tochen_platforms::media::MediaLimits::default().fits_facebook_reel(video);
                use tochen_platforms::options::FacebookVideo;
                o.facebook.video = Some(if reel { FacebookVideo::Reel } else { FacebookVideo::Page });
            }
        }
        Ok(o)
    }

    /// Points every image of `req` that the platform does not take at a JPEG version of it, converted and stored
    /// once (a later attempt finds it). Nothing to do, and no I/O, when the platform takes the images as they are.
    async fn with_images_for(
        &self,
        store: &Store,
        publisher: &dyn Publisher,
        ctx: &PublishContext,
        mut req: PublishRequest,
    ) -> Result<PublishRequest, ConvertError> {
        let Some(types) = publisher.image_types() else { return Ok(req) };
        let tenant = ctx.post.tenant_id;
        for (m, (_, kind, content_type, _, path)) in req.media.iter_mut().zip(&ctx.media) {
            if *kind != MediaKind::Image || jpeg::is_one_of(content_type, types) {
                continue;
            }
            let converted = jpeg::jpeg_version(store, &self.data_dir, tenant, path).await?;
            m.url = (self.media_urls)(tenant, &converted.id.to_string());
            m.content_type = converted.info.content_type;
            m.size_bytes = converted.info.size_bytes;
            m.storage_path = converted.info.storage_path;
        }
        Ok(req)
    }
}

#[async_trait::async_trait]
impl Worker<PublishPayload> for PublishHandler {
    async fn work(&self, cx: &JobContext, args: PublishPayload) -> Result<(), JobError> {
        let (store, job) = (cx.store(), cx.job());
        let (tenant, target_id) = (tenant_of(job)?, args.target_id);
        let platforms: Vec<Platform> = self.publishers.keys().map(|k| platform_of(*k)).collect();
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
        let Some(publisher) = self.publishers.get(&ctx.account.auth_kind).cloned() else {
            let message = not_configured(&ctx);
            results::mark_failed(store, tenant, target_id, &[Pending, Publishing], "permanent", &message, Some(known))
                .await?;
            return Err(JobError::permanent(message));
        };
        if ctx.account.status != AccountStatus::Active {
            let message = format!("the account {} must be reconnected", ctx.account.name);
            if ctx.target.status == TargetStatus::Publishing {
                // An earlier attempt may have gone out before the account broke: the team decides.
                return results::mark_unknown(store, tenant, target_id, &message, Some(known)).await;
            }
            results::mark_failed(store, tenant, target_id, &[Pending], "needs_reconnect", &message, Some(known))
                .await?;
            return Err(JobError::permanent(message));
        }
        let mut req = self.request(&ctx);
        req.options = self.options_for(store, &ctx).await?;
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
                let req = match self.with_images_for(store, publisher.as_ref(), &ctx, req).await {
                    Ok(req) => req,
                    Err(e) => return not_sent(store, &ctx, publisher.image_types(), e, job, known).await,
                };
                let refs = Recorder::new(store, tenant, target_id, None);
                let outcome = publisher.publish(&req, &refs).await;
                // The platform answered: recording it need not hold a slot from the next publish. An error with a
                // reference keeps the slot, since the platform is asked about it next.
                let asks_next = refs.last().is_some()
                    && matches!(&outcome, Err(e) if matches!(e.class, ErrorClass::Retryable { .. } | ErrorClass::OutcomeUnknown));
                if !asks_next {
                    cx.release_slot();
                }
                on_publish_result(store, publisher.as_ref(), &req, outcome, &refs, job, known).await
            }
        }
    }
}

/// An image could not be converted before anything was sent: a bad image fails the target, a storage error
/// starts the round again later.
async fn not_sent(
    store: &Store,
    ctx: &PublishContext,
    takes: Option<&[&str]>,
    e: ConvertError,
    job: &Job,
    known: Known<'_>,
) -> Result<(), JobError> {
    let (tenant, target) = (ctx.post.tenant_id, ctx.target.id);
    let takes: Vec<&str> = takes.unwrap_or_default().iter().map(|t| t.trim_start_matches("image/")).collect();
    let takes = takes.join(" or ").to_uppercase();
    let message = format!("{} takes {takes} images only, and {e}", ctx.target.platform.name());
    match e {
        ConvertError::Storage { .. } if job.attempts < job.max_attempts => {
            store.retry_target(tenant, target, &[Publishing], Some(("retryable", &message)), false).await?;
            Err(JobError::retry(message))
        }
        _ => {
            results::mark_failed(store, tenant, target, &[Publishing], "permanent", &message, Some(known)).await?;
            Err(JobError::permanent(message))
        }
    }
}

/// Applies what `Publisher::publish` answered.
async fn on_publish_result(
    store: &Store,
    publisher: &dyn Publisher,
    req: &PublishRequest,
    outcome: Result<PublishOutcome, PublishError>,
    refs: &Recorder<'_>,
    job: &Job,
    known: Known<'_>,
) -> Result<(), JobError> {
    let (tenant, target) = (req.tenant_id, req.target_id);
    match outcome {
        Ok(PublishOutcome::Published { platform_post_id, permalink }) => {
            results::mark_published(store, tenant, target, &platform_post_id, permalink.as_deref(), Some(known)).await
        }
        Ok(PublishOutcome::Pending { platform_ref }) => {
            if refs.last().as_deref() != Some(platform_ref.as_str()) {
                store.record_platform_ref(tenant, target, &platform_ref).await?;
            }
            enqueue_check(store, req, job).await
        }
        Err(e) => on_publish_error(store, publisher, req, e, refs.last(), job, known).await,
    }
}

/// Applies an error of `Publisher::publish`; `recorded` is the platform reference this round recorded, if any.
async fn on_publish_error(
    store: &Store,
    publisher: &dyn Publisher,
    req: &PublishRequest,
    e: PublishError,
    recorded: Option<String>,
    job: &Job,
    known: Known<'_>,
) -> Result<(), JobError> {
    let (tenant, target) = (req.tenant_id, req.target_id);
    match (e.class, recorded) {
        (ErrorClass::Permanent, _) => {
            results::mark_failed(store, tenant, target, &[Publishing], "permanent", &e.message, Some(known)).await?;
            Err(JobError::permanent(e.message))
        }
        (ErrorClass::NeedsReconnect, recorded) => {
            if recorded.is_some() {
                // The request is under way on the platform and can no longer be asked about: the team decides.
                results::mark_unknown(store, tenant, target, &e.message, Some(known)).await?;
            } else {
                results::mark_failed(store, tenant, target, &[Publishing], "needs_reconnect", &e.message, Some(known))
                    .await?;
            }
            Err(JobError::NeedsReconnect { tenant, account: req.account_id, message: e.message })
        }
        // The platform holds a request it can be asked about: ask, never send again.
        (ErrorClass::Retryable { .. } | ErrorClass::OutcomeUnknown, Some(r)) => {
            check_now(store, publisher, req, &r, job, known).await
        }
        (ErrorClass::OutcomeUnknown, None) => {
            results::mark_unknown(store, tenant, target, &e.message, Some(known)).await
        }
        // Nothing was created: a new round, when the job has attempts left.
        (ErrorClass::Retryable { retry_after }, None) if job.attempts < job.max_attempts => {
            store.retry_target(tenant, target, &[Publishing], Some(("retryable", &e.message)), false).await?;
            Err(JobError::Retryable { message: e.message, retry_after })
        }
        (ErrorClass::Retryable { .. }, None) => {
            results::mark_failed(store, tenant, target, &[Publishing], "permanent", &e.message, Some(known)).await?;
            Err(JobError::permanent(e.message))
        }
    }
}

async fn enqueue_check(store: &Store, req: &PublishRequest, job: &Job) -> Result<(), JobError> {
    let at = now_ms() + CHECK_INTERVAL.as_millis() as i64;
    store.enqueue(&NewJob::publish_check(req.tenant_id, req.target_id, req.account_id, job.id, at)).await?;
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
    let (tenant, target) = (req.tenant_id, req.target_id);
    let refs = Recorder::new(store, tenant, target, Some(platform_ref.to_owned()));
    match publisher.check(req, platform_ref, &refs).await {
        Ok(CheckOutcome::Pending) => enqueue_check(store, req, job).await,
        // Nothing became a post: this job, still running, starts a new round when the runner retries it.
        Ok(CheckOutcome::NotPublished { reason }) if job.attempts < job.max_attempts => {
            store.retry_target(tenant, target, &[Publishing, Unknown], Some(("retryable", &reason)), false).await?;
            Err(JobError::retry(reason))
        }
        Ok(CheckOutcome::NotPublished { reason }) => {
            let from = [Publishing, Unknown];
            results::mark_failed(store, tenant, target, &from, "permanent", &reason, Some(known)).await?;
            Err(JobError::permanent(reason))
        }
        Ok(other) => on_check(store, req, other, known).await,
        Err(e) if matches!(e.class, ErrorClass::Retryable { .. } | ErrorClass::OutcomeUnknown) => {
            enqueue_check(store, req, job).await
        }
        Err(e) if e.class == ErrorClass::NeedsReconnect => {
            results::mark_unknown(store, tenant, target, &e.message, Some(known)).await?;
            Err(JobError::NeedsReconnect { tenant, account: req.account_id, message: e.message })
        }
        Err(e) => on_check(store, req, CheckOutcome::Failed(e), known).await,
    }
}

/// Applies a final check answer: published, failed or unknown (`Pending` and `NotPublished` are the callers').
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
        CheckOutcome::Failed(e) => {
            let class = if e.class == ErrorClass::NeedsReconnect { "needs_reconnect" } else { "permanent" };
            results::mark_failed(store, tenant, target, &[Publishing, Unknown], class, &e.message, Some(known)).await
        }
        CheckOutcome::Unknown { reason } => results::mark_unknown(store, tenant, target, &reason, Some(known)).await,
        CheckOutcome::Pending | CheckOutcome::NotPublished { .. } => Ok(()),
    }
}

/// `publish.check`: asks the platform again until it answers, then settles the target. On the last attempt a
/// target still processing becomes `unknown` and the team is asked.
pub struct PublishCheckHandler {
    pub publishers: Arc<Publishers>,
    pub inner: Arc<PublishHandler>,
}

#[async_trait::async_trait]
impl Worker<PublishCheckPayload> for PublishCheckHandler {
    async fn work(&self, cx: &JobContext, args: PublishCheckPayload) -> Result<(), JobError> {
        let (store, job) = (cx.store(), cx.job());
        let (tenant, target_id) = (tenant_of(job)?, args.target_id);
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
        let Some(publisher) = self.publishers.get(&ctx.account.auth_kind) else {
            return Err(JobError::permanent(not_configured(&ctx)));
        };
        let req = self.inner.request(&ctx);
        let last = job.attempts >= job.max_attempts;
        let refs = Recorder::new(store, tenant, target_id, Some(platform_ref.clone()));
        match publisher.check(&req, &platform_ref, &refs).await {
            Ok(CheckOutcome::Pending) if last => {
                results::mark_unknown(store, tenant, target_id, "the platform is still processing it", Some(known))
                    .await
            }
            Ok(CheckOutcome::Pending) => Err(JobError::retry_after("still processing", CHECK_INTERVAL)),
            // The platform says the earlier request never became a post: a new round, with the publish job queued.
            Ok(CheckOutcome::NotPublished { reason }) => {
                let from = [Publishing, Unknown];
                store.retry_target(tenant, target_id, &from, Some(("retryable", &reason)), true).await?;
                Ok(())
            }
            Ok(other) => on_check(store, &req, other, known).await,
            Err(e) => match e.class {
                ErrorClass::Retryable { .. } | ErrorClass::OutcomeUnknown if last => {
                    results::mark_unknown(store, tenant, target_id, &e.message, Some(known)).await
                }
                ErrorClass::Retryable { retry_after } => {
                    Err(JobError::Retryable { message: e.message, retry_after: retry_after.or(Some(CHECK_INTERVAL)) })
                }
                ErrorClass::OutcomeUnknown => Err(JobError::retry_after(e.message, CHECK_INTERVAL)),
                ErrorClass::NeedsReconnect => {
                    results::mark_unknown(store, tenant, target_id, &e.message, Some(known)).await?;
                    Err(JobError::NeedsReconnect { tenant, account: req.account_id, message: e.message })
                }
                ErrorClass::Permanent => on_check(store, &req, CheckOutcome::Failed(e), known).await,
            },
        }
    }
}
