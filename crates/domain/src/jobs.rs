//! Job kinds and the payloads that cross crate boundaries.
//!
//! The bot and the web service enqueue; the scheduler runs. Keeping the kinds and payload shapes here means a
//! producer and its consumer cannot drift apart.

use crate::ids::{AutomationId, PostId, TargetId};
use serde::{Deserialize, Serialize};

/// Publish one post target. Unique key `publish:{target_id}`; concurrency key `account:{account_id}`.
pub const PUBLISH: &str = "publish";
/// Ask the platform again about a target that is `Pending` on the platform side.
pub const PUBLISH_CHECK: &str = "publish.check";
/// Send a Telegram message that is not a direct reply to an update (results, alerts, notices).
pub const NOTIFY: &str = "notify";
/// Run one slot of an automation. Unique key `automation:{automation_id}:{slot_ms}`.
pub const AUTOMATION_RUN: &str = "automation.run";
/// Process a stored incoming webhook event (Meta, TikTok).
pub const WEBHOOK_EVENT: &str = "webhook.event";
/// Deliver one outgoing Standard Webhooks message.
pub const WEBHOOK_DELIVER: &str = "webhook.deliver";
/// Send one queued email to one address (`delivery::email_queue`); retried on transient SMTP errors.
pub const EMAIL_DELIVER: &str = "email.deliver";
/// Revoke a disconnected account's token at the provider, then delete it (`platforms::revoke`). Unique key
/// `account.revoke:{revocation_id}`.
pub const ACCOUNT_REVOKE: &str = "account.revoke";
/// Periodic sweeps; unique key `{kind}:{period}`.
pub const SWEEP_TOKEN_REFRESH: &str = "sweep.token_refresh";
pub const SWEEP_CLEANUP: &str = "sweep.cleanup";
pub const SWEEP_METRICS: &str = "sweep.metrics";

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct PublishPayload {
    pub target_id: TargetId,
}

/// The payload of `account.revoke`: a row of `token_revocations` (the token itself stays encrypted there).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct RevokePayload {
    pub revocation_id: String,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct AutomationRunPayload {
    pub automation_id: AutomationId,
    /// The cron slot this run is for, UTC milliseconds.
    pub slot_at: i64,
    /// True for "run now" from the bot (does not move the schedule).
    #[serde(default)]
    pub manual: bool,
}

/// A Telegram message to send. Text is already localized and in Telegram HTML (user text escaped).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct NotifyPayload {
    pub chat_id: i64,
    pub text_html: String,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub buttons: Vec<Vec<NotifyButton>>,
    /// Optional PNG/CSV attachment from media storage, sent as photo or document with the text as caption.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub attachment_path: Option<String>,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct NotifyButton {
    pub text: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub callback_data: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub url: Option<String>,
}

impl NotifyPayload {
    pub fn text(chat_id: i64, text_html: impl Into<String>) -> Self {
        Self { chat_id, text_html: text_html.into(), buttons: Vec::new(), attachment_path: None }
    }
}

/// A `notify` job's payload: the message plus what the job does with it beyond a plain send. The extras sit in
/// the same JSON object as the message (flattened), so a plain `NotifyPayload` is a valid job payload and every
/// producer of plain messages stays as it is.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct NotifyJob {
    #[serde(flatten)]
    pub message: NotifyPayload,
    #[serde(flatten)]
    pub extras: NotifyExtras,
}

#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct NotifyExtras {
    /// Edit this message of `chat_id` to show the text and buttons (none: the buttons go) instead of sending a
    /// new one. An edit whose message is gone or already shows the text is done, not failed.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub edit_message_id: Option<i64>,
    /// The message is an approval card: the notify handler records the sent message's id (`approval_cards`), so
    /// the decision can edit it, and does not send a card whose post was decided before it went out.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub approval_card: Option<ApprovalCardRef>,
}

/// Which approval card a notify job carries: the post and its submission round (the post's version once
/// submitted). With the job's chat it names one row of `approval_cards`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub struct ApprovalCardRef {
    pub post_id: PostId,
    pub round: i64,
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_plain_message_is_a_notify_job_without_extras_and_extras_sit_beside_the_message() {
        let plain = serde_json::to_value(NotifyPayload::text(42, "hi")).unwrap();
        let job: NotifyJob = serde_json::from_value(plain.clone()).unwrap();
        assert_eq!(job.extras, NotifyExtras::default());
        assert_eq!(serde_json::to_value(&job).unwrap(), plain);
        let edit = NotifyJob {
            message: NotifyPayload::text(42, "done"),
            extras: NotifyExtras { edit_message_id: Some(7), approval_card: None },
        };
        let v = serde_json::to_value(&edit).unwrap();
        assert_eq!(v, serde_json::json!({"chat_id": 42, "text_html": "done", "edit_message_id": 7}));
        assert_eq!(serde_json::from_value::<NotifyPayload>(v.clone()).unwrap(), edit.message);
        assert_eq!(serde_json::from_value::<NotifyJob>(v).unwrap(), edit);
    }

    #[test]
    fn notify_payload_round_trips() {
        let p = NotifyPayload::text(42, "hi");
        let v = serde_json::to_value(&p).unwrap();
        assert_eq!(v, serde_json::json!({"chat_id": 42, "text_html": "hi"}));
        assert_eq!(serde_json::from_value::<NotifyPayload>(v).unwrap(), p);
    }
}

/// Payload of a `webhook.deliver` job.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct DeliverPayload {
    pub tenant_id: crate::ids::TenantId,
    pub delivery_id: crate::ids::DeliveryId,
    /// The delivery's attempt count when this round of retries started (0, or the count at a replay), so a
    /// replay gets a fresh schedule.
    #[serde(default)]
    pub round_start: i64,
}
