//! Changing what is already published: editing a published post's text and deleting it from the platform.
//!
//! What a platform allows is declared by its module (`PlatformModule::published_actions`) and, for the sandbox's
//! simulated accounts, by the connector (`Connector::published_actions`); `registry::published_actions` asks
//! both, and the bot offers only those buttons and says the platform does not allow the rest. The clients implement
//! [`PostEditor`] and are reached from the registry the way publishers are (`registry::editors`).
//!
//! Both calls are safe to repeat: an edit sends the same text again; a delete that finds the post gone is
//! [`Deleted::AlreadyGone`]. The scheduler's `post.change` job still never sends a delete blindly after an attempt
//! whose outcome it did not see: it asks [`PostEditor::exists`] first.

use crate::publish::PublishError;
use std::sync::Arc;
use tochen_domain::ids::{AccountId, TargetId, TenantId};
use tochen_domain::secret::SecretString;
use tochen_domain::{AuthKind, Platform};

/// What a platform's API allows on a post already published.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct PublishedActions {
    /// Replace the post's text (caption).
    pub edit_text: bool,
    /// Delete the post.
    pub delete: bool,
}

impl PublishedActions {
    pub const NONE: Self = Self { edit_text: false, delete: false };
    pub const ALL: Self = Self { edit_text: true, delete: true };
}

/// Everything one edit or delete needs; built by the scheduler from the stored target and account.
#[derive(Debug, Clone)]
pub struct EditRequest {
    pub tenant_id: TenantId,
    pub target_id: TargetId,
    pub account_id: AccountId,
    pub platform: Platform,
    pub auth_kind: AuthKind,
    /// Page id, Instagram user id or TikTok open_id.
    pub external_account_id: String,
    pub access_token: SecretString,
    /// The id the platform gave the post when it was published.
    pub platform_post_id: String,
    /// The post is a video (or reel): Facebook edits the video node's `description` instead of the post's
    /// `message`.
    pub video: bool,
}

/// What a delete found.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Deleted {
    /// The platform deleted it now.
    Deleted,
    /// The platform says there is no such post (deleted before, by this job's earlier attempt or by hand).
    AlreadyGone,
}

/// One platform's client for posts already published. Errors use the publishing classes: `Permanent` (the
/// platform refuses: not editable, not deletable), `NeedsReconnect`, and `Retryable` / `OutcomeUnknown` (try again:
/// both calls are safe to repeat).
#[async_trait::async_trait]
pub trait PostEditor: Send + Sync {
    /// Replaces the published post's text with `text`.
    async fn edit_text(&self, req: &EditRequest, text: &str) -> Result<(), PublishError>;

    /// Deletes the published post.
    async fn delete(&self, req: &EditRequest) -> Result<Deleted, PublishError>;

    /// Whether the platform still has the post (asked before a delete is sent again).
    async fn exists(&self, req: &EditRequest) -> Result<bool, PublishError>;
}

/// The editors of the configured ways of connecting that have one, by the auth kind of the accounts they serve
/// (`registry::editors`).
pub type Editors = std::collections::HashMap<AuthKind, Arc<dyn PostEditor>>;
