//! The `post.change` job: edits a published post's text or deletes it from the platform (one `post_changes` row),
//! with the care of publishing.
//!
//! `sending` is committed before the platform is called (`Store::begin_post_change`). A retried job that finds
//! the change already `sending` does not send blindly: an edit sends the same text again, which changes nothing
//! twice; a delete first asks the platform whether the post is still there, and a post that is gone counts as
//! deleted. A refusal (Facebook's "not editable") fails the change and is shown as it is, never retried; a
//! temporary failure is retried with the runner's backoff, and when the last attempt fails too the change is
//! `unknown` (the platform may or may not have done it). Whatever the end, the requester's chat is told once.

use crate::notices;
use std::sync::Arc;
use std::time::Duration;
use tochen_config::Config;
use tochen_domain::html::escape_html;
use tochen_domain::i18n::tf;
use tochen_domain::jobs::{NotifyPayload, PostChangePayload};
use tochen_domain::MediaKind;
use tochen_platforms::edit::{EditRequest, Editors, PostEditor};
use tochen_platforms::publish::{ErrorClass, PublishError};
use tochen_platforms::registry::editors;
use tochen_queue::{JobContext, JobError, Worker, Workers};
use tochen_store::{BeginChange, ChangeKind, ChangeStatus, PostChange, PublishContext, Store, StoreError};

/// Registers `post.change` with the editors of the configured platforms.
pub fn register_jobs(w: &mut Workers, config: &Config, store: &Store) {
    w.register::<PostChangePayload, _>(handler(config, store));
}

/// The handler with the editors of the configured platforms (tests run it against the fakes).
pub fn handler(config: &Config, store: &Store) -> PostChangeHandler {
    let http =
        reqwest::Client::builder().timeout(Duration::from_secs(60)).build().unwrap_or_else(|_| reqwest::Client::new());
    PostChangeHandler { editors: Arc::new(editors(config, http, store)) }
}

pub struct PostChangeHandler {
    pub editors: Arc<Editors>,
}

#[async_trait::async_trait]
impl Worker<PostChangePayload> for PostChangeHandler {
    async fn work(&self, cx: &JobContext, p: PostChangePayload) -> Result<(), JobError> {
        let (store, job) = (cx.store(), cx.job());
        let tenant = job.tenant_id.ok_or_else(|| JobError::permanent("a post.change job without a workspace"))?;
        let (change, in_flight) = match store.begin_post_change(tenant, &p.change_id).await {
            Ok(BeginChange::Started(c)) => (c, false),
            Ok(BeginChange::InFlight(c)) => (c, true),
            // Settled by an earlier attempt, which may have stopped before telling: telling is once per outcome.
            Ok(BeginChange::Settled(c)) => return tell(store, &c).await,
            Err(StoreError::NotFound(_)) => return Ok(()),
            Err(e) => return Err(e.into()),
        };
        let ctx = match store.publish_context(tenant, change.target_id).await {
            Ok(ctx) => ctx,
            Err(StoreError::NotFound(what)) => {
                return settle(store, &change, ChangeStatus::Failed, &format!("the {what} is gone")).await;
            }
            Err(e) => return Err(e.into()),
        };
        let Some(editor) = self.editors.get(&ctx.account.auth_kind).cloned() else {
            let why = format!("changing published posts on {} is not configured here", ctx.target.platform.name());
            return settle(store, &change, ChangeStatus::Failed, &why).await;
        };
        let Some(req) = request(&ctx) else {
            let why = "the platform never gave this post an id";
            return settle(store, &change, ChangeStatus::Failed, why).await;
        };
        match send(editor.as_ref(), &change, &req, in_flight).await {
            Ok(()) => settle(store, &change, ChangeStatus::Done, "").await,
            Err(e) => match e.class {
                ErrorClass::Permanent => settle(store, &change, ChangeStatus::Failed, &e.message).await,
                ErrorClass::NeedsReconnect => {
                    settle(store, &change, ChangeStatus::Failed, &e.message).await?;
                    Err(JobError::NeedsReconnect { tenant, account: req.account_id, message: e.message })
                }
                // Both calls are safe to repeat (a delete asks first), so a temporary failure is tried again; after
                // the last attempt nobody knows whether the platform did it.
                ErrorClass::Retryable { .. } | ErrorClass::OutcomeUnknown if job.attempts >= job.max_attempts => {
                    settle(store, &change, ChangeStatus::Unknown, &e.message).await
                }
                ErrorClass::Retryable { retry_after } => Err(JobError::Retryable { message: e.message, retry_after }),
                ErrorClass::OutcomeUnknown => Err(JobError::retry(e.message)),
            },
        }
    }
}

/// The edit request of a published target; `None` when the platform never gave the post an id.
fn request(ctx: &PublishContext) -> Option<EditRequest> {
    Some(EditRequest {
        tenant_id: ctx.post.tenant_id,
        target_id: ctx.target.id,
        account_id: ctx.account.id,
        platform: ctx.target.platform,
        auth_kind: ctx.account.auth_kind,
        external_account_id: ctx.account.external_id.clone(),
        access_token: ctx.tokens.access_token.clone(),
        platform_post_id: ctx.target.platform_post_id.clone()?,
        video: ctx.media.iter().any(|m| m.1 == MediaKind::Video),
    })
}

/// Sends the change. A delete retried after an attempt whose outcome was not seen asks first.
async fn send(
    editor: &dyn PostEditor,
    change: &PostChange,
    req: &EditRequest,
    in_flight: bool,
) -> Result<(), PublishError> {
    match change.kind {
        ChangeKind::EditText => editor.edit_text(req, change.new_text.as_deref().unwrap_or_default()).await,
        ChangeKind::Delete => {
            if in_flight && !editor.exists(req).await? {
                return Ok(());
            }
            editor.delete(req).await.map(|_| ())
        }
    }
}

/// Settles the change (if still `sending`) and tells the requester how it ended.
async fn settle(store: &Store, change: &PostChange, to: ChangeStatus, error: &str) -> Result<(), JobError> {
    let error = (!error.is_empty()).then_some(error);
    let settled = store.settle_post_change(change.tenant_id, &change.id, to, error).await?;
    match settled {
        Some(c) => tell(store, &c).await,
        None => Ok(()),
    }
}

/// Tells the requester's chat (else the author's, else the team chat) how a settled change ended; once per change
/// and outcome.
pub async fn tell(store: &Store, c: &PostChange) -> Result<(), JobError> {
    if !c.status.is_final() {
        return Ok(());
    }
    let tenant = c.tenant_id;
    // A post deleted since (its targets and changes with it) has nobody left to tell about it.
    let (post, target) = match (store.post(tenant, c.post_id).await, store.target(tenant, c.target_id).await) {
        (Ok(post), Ok(target)) => (post, target),
        (Err(StoreError::NotFound(_)), _) | (_, Err(StoreError::NotFound(_))) => return Ok(()),
        (Err(e), _) | (_, Err(e)) => return Err(e.into()),
    };
    let chat = match (c.requested_chat_id, post.author_chat_id) {
        (Some(chat), _) | (None, Some(chat)) => Some(chat),
        (None, None) => store.tenant(tenant).await?.team_chat_id,
    };
    let Some(chat) = chat else { return Ok(()) };
    let account = store.account(tenant, target.account_id).await.map(|a| a.name).unwrap_or_default();
    let lang = notices::language_of(store, chat, Some(tenant)).await;
    let title = if post.title.is_empty() { post.idea.chars().take(60).collect() } else { post.title.clone() };
    let key = match (c.kind, c.status) {
        (ChangeKind::EditText, ChangeStatus::Done) => "sched.change.edit_done",
        (ChangeKind::Delete, ChangeStatus::Done) => "sched.change.delete_done",
        (ChangeKind::EditText, ChangeStatus::Failed) => "sched.change.edit_failed",
        (ChangeKind::Delete, ChangeStatus::Failed) => "sched.change.delete_failed",
        (ChangeKind::EditText, _) => "sched.change.edit_unknown",
        (ChangeKind::Delete, _) => "sched.change.delete_unknown",
    };
    let error: String = c.error.as_deref().unwrap_or_default().chars().take(500).collect();
    let text = tf(
        &lang,
        key,
        &[
            ("title", &escape_html(&title)),
            ("platform", &target.platform.name()),
            ("account", &escape_html(&account)),
            ("error", &escape_html(&error)),
        ],
    );
    let unique = format!("post_change:{}:{}", c.id, c.status.as_str());
    notices::send(store, Some(tenant), NotifyPayload::text(chat, text), Some(unique)).await?;
    Ok(())
}
