//! Job kinds and the payloads that cross crate boundaries.
//!
//! The bot and the web service enqueue; the scheduler runs. Keeping the kinds and payload shapes here means a
//! producer and its consumer cannot drift apart.

use crate::ids::{AutomationId, TargetId};
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
/// Periodic sweeps; unique key `{kind}:{period}`.
pub const SWEEP_TOKEN_REFRESH: &str = "sweep.token_refresh";
pub const SWEEP_CLEANUP: &str = "sweep.cleanup";
pub const SWEEP_METRICS: &str = "sweep.metrics";

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct PublishPayload {
    pub target_id: TargetId,
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

/// Escapes text for Telegram's HTML parse mode. Every piece of user or model text goes through it.
pub fn escape_html(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    for c in text.chars() {
        match c {
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '&' => out.push_str("&amp;"),
            '"' => out.push_str("&quot;"),
            _ => out.push(c),
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn html_is_escaped() {
        assert_eq!(escape_html(r#"<b>"Tom & Jerry"</b>"#), "&lt;b&gt;&quot;Tom &amp; Jerry&quot;&lt;/b&gt;");
    }

    #[test]
    fn notify_payload_round_trips() {
        let p = NotifyPayload::text(42, "hi");
        let v = serde_json::to_value(&p).unwrap();
        assert_eq!(v, serde_json::json!({"chat_id": 42, "text_html": "hi"}));
        assert_eq!(serde_json::from_value::<NotifyPayload>(v).unwrap(), p);
    }
}
