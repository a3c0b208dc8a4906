//! The seam between the scheduler's publishing pipeline and the platform clients.
//!
//! The scheduler owns the target state machine (`pending -> publishing -> published | failed | unknown`); a
//! `Publisher` only talks to one platform. Platform clients (Facebook, Instagram, TikTok) implement it in
//! `crate`; tests use the fake in `tochen-testkit`.
//!
//! Asynchronous platforms hand out an id before the post exists (an Instagram container, a TikTok publish_id).
//! The publisher reports it through [`RefRecorder`] the moment it has it, so that after a crash or a lost answer
//! the pipeline can ask the platform ([`Publisher::check`]) instead of posting again blindly. Once a reference is
//! recorded, the pipeline never calls `publish` for that round again: every error that does not prove the post
//! failed leads to `check`.
//!
//! Errors say whether anything may have been created. A request that creates a post and ends in a timeout after
//! sending, a dropped connection or a 5xx is [`ErrorClass::OutcomeUnknown`]; only a refusal that proves nothing was
//! created (the connection was refused, a 4xx, a rate limit the platform answered) is
//! [`ErrorClass::Retryable`].

use std::time::Duration;
use tochen_domain::ids::{AccountId, TargetId, TenantId};
use tochen_domain::secret::SecretString;
use tochen_domain::{MediaKind, Platform};

/// Everything one publish call needs; built by the scheduler from the stored post, target and account.
#[derive(Debug, Clone)]
pub struct PublishRequest {
    pub tenant_id: TenantId,
    pub target_id: TargetId,
    pub account_id: AccountId,
    pub platform: Platform,
    /// Page id, Instagram user id or TikTok open_id.
    pub external_account_id: String,
    pub auth_kind: tochen_domain::AuthKind,
    pub access_token: SecretString,
    /// Post text for this platform, hashtags already appended.
    pub text: String,
    pub title: String,
    pub link: Option<String>,
    pub media: Vec<MediaRef>,
    /// The post's platform options (TikTok privacy and toggles, Facebook video or Reel).
    pub options: crate::options::PostOptions,
}

/// A media file as a platform pulls it: a signed, expiring public URL served by the web service.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct MediaRef {
    pub kind: MediaKind,
    pub url: String,
    pub content_type: String,
    pub size_bytes: i64,
    /// Path under the data directory, for clients that upload bytes (TikTok FILE_UPLOAD).
    pub storage_path: String,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum PublishOutcome {
    /// Live on the platform.
    Published { platform_post_id: String, permalink: Option<String> },
    /// Accepted and still processing (Instagram container IN_PROGRESS, TikTok PROCESSING_*): check again later
    /// with this reference.
    Pending { platform_ref: String },
}

/// The answer to "what happened to this request?".
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum CheckOutcome {
    Published {
        platform_post_id: String,
        permalink: Option<String>,
    },
    /// Still processing.
    Pending,
    /// The platform says it never became a post and will not (container expired, publish cancelled): a new
    /// attempt is safe.
    NotPublished {
        reason: String,
    },
    /// The platform rejected it; the error says how.
    Failed(PublishError),
    /// The platform cannot tell whether the request became a post (Instagram: `media_publish` was sent and its
    /// answer lost, the container is still unpublished): the team is asked; nothing is sent again.
    Unknown {
        reason: String,
    },
}

/// How the pipeline should react to an error.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ErrorClass {
    /// Nothing was created, try again later: the request never left (connection refused, DNS), the platform
    /// refused it for now (rate limit, quota), or it only read or prepared something (a status poll, an Instagram
    /// container, an unpublished photo) whose answer was lost.
    Retryable { retry_after: Option<Duration> },
    /// This content will never be accepted as it is (too long, bad media, policy).
    Permanent,
    /// The token is invalid or lacks permission: the account must be reconnected.
    NeedsReconnect,
    /// A request that creates a post was sent and its answer never seen, or was answered with a 5xx: it may or may
    /// not have been published.
    OutcomeUnknown,
}

/// A platform error, with the platform's own message kept for the user.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{message}")]
pub struct PublishError {
    pub class: ErrorClass,
    /// The platform's code, e.g. `190/463` (Graph code/subcode) or `spam_risk_too_many_posts`.
    pub code: Option<String>,
    pub message: String,
}

impl PublishError {
    pub fn new(class: ErrorClass, code: Option<String>, message: impl Into<String>) -> Self {
        Self { class, code, message: message.into() }
    }
}

/// Records a platform reference (container id, publish_id) durably before the publisher goes on.
#[async_trait::async_trait]
pub trait RefRecorder: Send + Sync {
    async fn record(&self, platform_ref: &str) -> Result<(), tochen_store::StoreError>;
}

/// One platform's publishing client.
#[async_trait::async_trait]
pub trait Publisher: Send + Sync {
    /// Publishes `req`. Must call `refs.record` as soon as the platform hands out an id it can later be asked
    /// about, and before waiting on anything else.
    async fn publish(&self, req: &PublishRequest, refs: &dyn RefRecorder) -> Result<PublishOutcome, PublishError>;

    /// Asks the platform about an earlier request identified by `platform_ref` (the last reference recorded), and
    /// finishes it where that is safe (an Instagram container that finished processing is published). Records
    /// through `refs` before any request that may create the post, as `publish` does.
    async fn check(
        &self,
        req: &PublishRequest,
        platform_ref: &str,
        refs: &dyn RefRecorder,
    ) -> Result<CheckOutcome, PublishError>;

    /// The image types (MIME) this platform takes. An image of another type is converted to JPEG before `publish`
    /// is called (Instagram takes JPEG only). `None`, the default: the platform takes the stored images as they are.
    fn image_types(&self) -> Option<&'static [&'static str]> {
        None
    }
}
