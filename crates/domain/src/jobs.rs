//! Job kinds and the payloads that cross crate boundaries.
//!
//! The bot and the web service enqueue; the scheduler runs. Keeping the kinds and payload shapes here means a
//! producer and its consumer cannot drift apart. Every payload type implements [`JobArgs`]: it names its kind
//! and the insert options it implies (unique key, concurrency key, attempts), so a producer builds a job from the
//! payload alone (`tochen_store::NewJob::new(&args)`) and a worker is registered by payload type
//! (`tochen_queue::Workers::register`).

use crate::clock::Millis;
use crate::ids::{AutomationId, PostId, TargetId, TenantId};
use serde::de::DeserializeOwned;
use serde::{Deserialize, Serialize};

/// A job payload with its kind. The kind is the `jobs.kind` text in the database, so it never changes once jobs
/// of it exist.
pub trait JobArgs: Serialize + DeserializeOwned + Send + Sync + 'static {
    /// The job kind (`jobs.kind`).
    const KIND: &'static str;

    /// What inserting this payload implies; a producer may still override any of it.
    fn insert_opts(&self) -> InsertOpts {
        InsertOpts::default()
    }
}

/// The insert options a payload implies. `None` leaves the queue's default: no key, due now, 8 attempts.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct InsertOpts {
    /// At most one job ever exists with this key.
    pub unique_key: Option<String>,
    /// Jobs sharing this key run at most the configured few at once.
    pub concurrency_key: Option<String>,
    /// When the job is due; `None`: now.
    pub run_at: Option<Millis>,
    /// Attempts before the job is dead; `None`: [`DEFAULT_MAX_ATTEMPTS`].
    pub max_attempts: Option<i64>,
}

/// How many attempts a job gets unless its payload or producer says otherwise.
pub const DEFAULT_MAX_ATTEMPTS: i64 = 8;

/// The unique and concurrency keys of jobs, built in one place so that every writer of a key (the bot, the web
/// service, the scheduler) agrees on it.
pub mod keys {
    use crate::clock::Millis;
    use crate::ids::{AccountId, AutomationId, JobId, TargetId};

    /// The one publish job of a post target.
    pub fn publish(target: TargetId) -> String {
        format!("publish:{target}")
    }

    /// A `publish.check` of a target, queued by the job `after` (a job queues at most one check).
    pub fn publish_check(target: TargetId, after: JobId) -> String {
        format!("publish.check:{target}:{after}")
    }

    /// The job of one automation slot.
    pub fn automation_slot(id: AutomationId, slot: Millis) -> String {
        format!("automation:{id}:{slot}")
    }

    /// The job that processes one stored inbound webhook event.
    pub fn webhook_event(event_id: &str) -> String {
        format!("{}:{event_id}", super::WEBHOOK_EVENT)
    }

    /// The concurrency key of a platform account: its publishing jobs run one at a time (or the configured few).
    pub fn account(account: AccountId) -> String {
        format!("account:{account}")
    }

    /// The concurrency key of a Telegram chat, for the `notify` jobs that keep a chat's messages in order.
    pub fn chat(chat_id: i64) -> String {
        format!("chat:{chat_id}")
    }

    /// The one job of a Telegram update stored in webhook mode.
    pub fn telegram_update(update_id: i64) -> String {
        format!("{}:{update_id}", super::TELEGRAM_UPDATE)
    }

    /// The concurrency key of the updates of one Telegram chat: they run one at a time, in arrival order. Apart
    /// from [`chat`], so a chat's outgoing `notify` jobs and its incoming updates do not hold each other up.
    pub fn telegram_chat(chat_id: i64) -> String {
        format!("{}:chat:{chat_id}", super::TELEGRAM_UPDATE)
    }
}

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
/// Hand one Telegram update stored by the web service (webhook mode) to the bot's dispatcher. Run by the bot only.
pub const TELEGRAM_UPDATE: &str = "telegram_update";
/// Periodic sweeps; unique key `{kind}:{period}`.
pub const SWEEP_TOKEN_REFRESH: &str = "sweep.token_refresh";
pub const SWEEP_CLEANUP: &str = "sweep.cleanup";
pub const SWEEP_METRICS: &str = "sweep.metrics";
/// Makes sure every active automation has its next slot queued (repairs after restores or manual edits).
pub const SWEEP_AUTOMATIONS: &str = "sweep.automations";

/// The payload of `publish`: one post target. Unique key `publish:{target_id}`; the producer adds the account's
/// concurrency key ([`keys::account`]), which the payload does not name.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct PublishPayload {
    pub target_id: TargetId,
}

impl JobArgs for PublishPayload {
    const KIND: &'static str = PUBLISH;

    fn insert_opts(&self) -> InsertOpts {
        InsertOpts { unique_key: Some(keys::publish(self.target_id)), ..Default::default() }
    }
}

/// The payload of `publish.check` (same shape as [`PublishPayload`]): asked up to 120 times. The producer adds
/// the unique key naming the job that queued it ([`keys::publish_check`]) and the account's concurrency key.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct PublishCheckPayload {
    pub target_id: TargetId,
}

impl JobArgs for PublishCheckPayload {
    const KIND: &'static str = PUBLISH_CHECK;

    fn insert_opts(&self) -> InsertOpts {
        InsertOpts { max_attempts: Some(120), ..Default::default() }
    }
}

/// The payload of `webhook.event`: a stored incoming platform event. Unique key `webhook.event:{event_id}`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct WebhookEventPayload {
    pub event_id: String,
}

impl JobArgs for WebhookEventPayload {
    const KIND: &'static str = WEBHOOK_EVENT;

    fn insert_opts(&self) -> InsertOpts {
        InsertOpts { unique_key: Some(keys::webhook_event(&self.event_id)), ..Default::default() }
    }
}

/// How many times a Telegram update's job is started before it is given up: an update whose handler takes the bot
/// down every time ends `dead` after this many, instead of taking down every bot after it.
pub const TELEGRAM_UPDATE_MAX_ATTEMPTS: i64 = 5;

/// The payload of `telegram_update`: an update the web service stored in `webhook_events` (webhook mode), queued
/// in the same transaction. Unique key `telegram_update:{update_id}`; the updates of one chat share a concurrency
/// key ([`keys::telegram_chat`]) so they run one at a time in arrival order; an update without a chat has none.
/// 5 attempts ([`TELEGRAM_UPDATE_MAX_ATTEMPTS`]).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct TelegramUpdatePayload {
    /// The `webhook_events` row holding the update's body.
    pub event_id: String,
    pub update_id: i64,
    /// The chat the update belongs to, when it has one (read from the update by the web service).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub chat_id: Option<i64>,
}

impl JobArgs for TelegramUpdatePayload {
    const KIND: &'static str = TELEGRAM_UPDATE;

    fn insert_opts(&self) -> InsertOpts {
        InsertOpts {
            unique_key: Some(keys::telegram_update(self.update_id)),
            concurrency_key: self.chat_id.map(keys::telegram_chat),
            max_attempts: Some(TELEGRAM_UPDATE_MAX_ATTEMPTS),
            ..Default::default()
        }
    }
}

/// The sweeps' payloads: the period the sweep is for (`now / period length`). Unique key `{kind}:{period}`, so
/// each period's sweep runs once however many schedulers enqueue it; 3 attempts.
macro_rules! sweep_payload {
    ($(#[$doc:meta])* $name:ident, $kind:expr) => {
        $(#[$doc])*
        #[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
        pub struct $name {
            /// Only keys the job: a sweep does the same work whatever its period, so a payload without one runs.
            #[serde(default)]
            pub period: i64,
        }

        impl JobArgs for $name {
            const KIND: &'static str = $kind;

            fn insert_opts(&self) -> InsertOpts {
                InsertOpts {
                    unique_key: Some(format!("{}:{}", Self::KIND, self.period)),
                    max_attempts: Some(3),
                    ..Default::default()
                }
            }
        }
    };
}

sweep_payload!(
    /// `sweep.automations`: queue missing automation slots.
    SweepAutomations,
    SWEEP_AUTOMATIONS
);
sweep_payload!(
    /// `sweep.token_refresh`: refresh tokens that expire soon.
    SweepTokenRefresh,
    SWEEP_TOKEN_REFRESH
);
sweep_payload!(
    /// `sweep.cleanup`: expired and finished rows.
    SweepCleanup,
    SWEEP_CLEANUP
);
sweep_payload!(
    /// `sweep.metrics`: read the metrics of published targets.
    SweepMetrics,
    SWEEP_METRICS
);

/// The payload of `account.revoke`: a row of `token_revocations` (the token itself stays encrypted there).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct RevokePayload {
    pub revocation_id: String,
}

impl JobArgs for RevokePayload {
    const KIND: &'static str = ACCOUNT_REVOKE;

    fn insert_opts(&self) -> InsertOpts {
        InsertOpts {
            unique_key: Some(format!("{ACCOUNT_REVOKE}:{}", self.revocation_id)),
            max_attempts: Some(8),
            ..Default::default()
        }
    }
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

impl JobArgs for AutomationRunPayload {
    const KIND: &'static str = AUTOMATION_RUN;

    /// A scheduled slot: due at the slot, one job per slot, 3 attempts. A manual run: due now, one attempt, keyed
    /// by the moment it was asked for.
    fn insert_opts(&self) -> InsertOpts {
        if self.manual {
            InsertOpts {
                unique_key: Some(format!("automation:{}:manual:{}", self.automation_id, self.slot_at)),
                max_attempts: Some(1),
                ..Default::default()
            }
        } else {
            InsertOpts {
                unique_key: Some(keys::automation_slot(self.automation_id, self.slot_at)),
                run_at: Some(self.slot_at),
                max_attempts: Some(3),
                ..Default::default()
            }
        }
    }
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

/// A plain message is a valid `notify` payload (see [`NotifyJob`]).
impl JobArgs for NotifyPayload {
    const KIND: &'static str = NOTIFY;
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

impl JobArgs for NotifyJob {
    const KIND: &'static str = NOTIFY;
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

/// `sweep.ads`: queue the daily insights sync of every valid ad account (incremental, re-reading the last days).
pub const SWEEP_ADS: &str = "sweep.ads";

sweep_payload!(
    /// `sweep.ads`: queue the daily ad insights sync of every valid ad account.
    SweepAds,
    SWEEP_ADS
);

/// Read one ad account's insights for a range of days (`YYYY-MM-DD`, inclusive, in the account's time zone) at
/// every level. Unique key `ads_sync:{ad_account}:{since}:{until}`; concurrency key `ad_account:{id}` (one request
/// stream per ad account); 12 attempts, since a rate-limited account may wait several times.
pub const ADS_SYNC: &str = "ads.sync";

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct AdsSyncPayload {
    pub tenant_id: TenantId,
    pub ad_account_id: crate::ids::AdAccountId,
    pub since: String,
    pub until: String,
}

impl JobArgs for AdsSyncPayload {
    const KIND: &'static str = ADS_SYNC;

    fn insert_opts(&self) -> InsertOpts {
        InsertOpts {
            unique_key: Some(format!("ads_sync:{}:{}:{}", self.ad_account_id, self.since, self.until)),
            concurrency_key: Some(format!("ad_account:{}", self.ad_account_id)),
            run_at: None,
            max_attempts: Some(12),
        }
    }
}

/// Check one ad account's token and status with its platform (the periodic validation): records `last_validated`
/// and the status, or marks the account invalid and tells the admins to reconnect. Unique key
/// `ads_validate:{ad_account}:{day}`; concurrency key `ad_account:{id}`.
pub const ADS_VALIDATE: &str = "ads.validate";

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct AdsValidatePayload {
    pub tenant_id: TenantId,
    pub ad_account_id: crate::ids::AdAccountId,
    /// Only keys the job (one validation per account and day).
    #[serde(default)]
    pub day: String,
}

impl JobArgs for AdsValidatePayload {
    const KIND: &'static str = ADS_VALIDATE;

    fn insert_opts(&self) -> InsertOpts {
        InsertOpts {
            unique_key: Some(format!("ads_validate:{}:{}", self.ad_account_id, self.day)),
            concurrency_key: Some(format!("ad_account:{}", self.ad_account_id)),
            run_at: None,
            max_attempts: Some(5),
        }
    }
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
    fn batch_progress_edits_of_one_window_share_a_job_due_when_the_window_closes() {
        use crate::ids::{BatchId, TenantId};
        let (t, b) = (TenantId::new(), BatchId::new());
        let a = BatchProgressPayload::at(t, b, 6_000).insert_opts();
        let same = BatchProgressPayload::at(t, b, 8_999).insert_opts();
        let next = BatchProgressPayload::at(t, b, 9_000).insert_opts();
        assert_eq!(a.unique_key, same.unique_key);
        assert_ne!(a.unique_key, next.unique_key);
        assert_eq!((a.run_at, next.run_at), (Some(9_000), Some(12_000)));
        assert_eq!(a.concurrency_key, next.concurrency_key);
        let item = BatchItemPayload { tenant_id: t, item_id: crate::ids::BatchItemId::new(), round: 0 };
        let retry = BatchItemPayload { round: 1, ..item.clone() };
        assert_ne!(item.insert_opts().unique_key, retry.insert_opts().unique_key);
        assert_eq!(item.insert_opts().concurrency_key, Some(llm_batch_key(t)));
    }

    #[test]
    fn payloads_name_their_kinds_and_the_keys_producers_used() {
        use crate::ids::{AutomationId, TargetId};
        let target = TargetId::new();
        assert_eq!(PublishPayload::KIND, "publish");
        assert_eq!(PublishPayload { target_id: target }.insert_opts().unique_key, Some(format!("publish:{target}")));
        assert_eq!(PublishCheckPayload { target_id: target }.insert_opts().max_attempts, Some(120));
        let id = AutomationId::new();
        let slot = AutomationRunPayload { automation_id: id, slot_at: 60_000, manual: false }.insert_opts();
        assert_eq!(
            slot,
            InsertOpts {
                unique_key: Some(format!("automation:{id}:60000")),
                concurrency_key: None,
                run_at: Some(60_000),
                max_attempts: Some(3)
            }
        );
        let manual = AutomationRunPayload { automation_id: id, slot_at: 5, manual: true }.insert_opts();
        assert_eq!(
            (manual.unique_key, manual.run_at, manual.max_attempts),
            (Some(format!("automation:{id}:manual:5")), None, Some(1))
        );
        let sweep = SweepCleanup { period: 42 }.insert_opts();
        assert_eq!((sweep.unique_key.as_deref(), sweep.max_attempts), (Some("sweep.cleanup:42"), Some(3)));
        assert_eq!(SweepAutomations::KIND, SWEEP_AUTOMATIONS);
        let event = WebhookEventPayload { event_id: "e1".into() }.insert_opts();
        assert_eq!(event.unique_key.as_deref(), Some("webhook.event:e1"));
        let revoke = RevokePayload { revocation_id: "r1".into() }.insert_opts();
        assert_eq!((revoke.unique_key.as_deref(), revoke.max_attempts), (Some("account.revoke:r1"), Some(8)));
        assert_eq!((NotifyPayload::KIND, NotifyJob::KIND), (NOTIFY, NOTIFY));
        assert_eq!(NotifyPayload::text(1, "x").insert_opts(), InsertOpts::default());
        let update = TelegramUpdatePayload { event_id: "e".into(), update_id: 7, chat_id: Some(-42) };
        assert_eq!(TelegramUpdatePayload::KIND, "telegram_update");
        assert_eq!(
            update.insert_opts(),
            InsertOpts {
                unique_key: Some("telegram_update:7".into()),
                concurrency_key: Some("telegram_update:chat:-42".into()),
                run_at: None,
                max_attempts: Some(5)
            }
        );
        let no_chat = TelegramUpdatePayload { chat_id: None, ..update }.insert_opts();
        assert_eq!((no_chat.unique_key.as_deref(), no_chat.concurrency_key), (Some("telegram_update:7"), None));
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

/// The producer adds the unique key of the attempt (`webhook:{delivery}:{attempt}`). Network failures are
/// attempts too (logged and scheduled by the outbox); the runner retries only crashes, 3 times.
impl JobArgs for DeliverPayload {
    const KIND: &'static str = WEBHOOK_DELIVER;

    fn insert_opts(&self) -> InsertOpts {
        InsertOpts { max_attempts: Some(3), ..Default::default() }
    }
}

/// Edit or delete a published post target (issue 16): one `post_changes` row. Unique key
/// `post.change:{change_id}`; the producer adds the account's concurrency key ([`keys::account`]). 8 attempts.
pub const POST_CHANGE: &str = "post.change";

/// The payload of `post.change`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct PostChangePayload {
    pub change_id: String,
}

impl JobArgs for PostChangePayload {
    const KIND: &'static str = POST_CHANGE;

    fn insert_opts(&self) -> InsertOpts {
        InsertOpts { unique_key: Some(format!("{POST_CHANGE}:{}", self.change_id)), ..Default::default() }
    }
}

/// Generate one item of a campaign batch (issue 18): one LLM draft (and image), saved as a draft of the campaign.
pub const BATCH_ITEM: &str = "batch.item";

/// Job attempts of a batch item: a provider's 429 hands the job back with its retry-after and costs an attempt, so
/// there are many; the item's own failures are counted apart (`batch_items.attempts`) and end it after
/// [`BATCH_ITEM_MAX_FAILURES`].
pub const BATCH_ITEM_JOB_ATTEMPTS: i64 = 100;
/// Failed generations (not rate limits) after which an item is `failed`.
pub const BATCH_ITEM_MAX_FAILURES: i64 = 3;

/// The concurrency key of a workspace's LLM batch calls: at most `LLM_BATCH_CONCURRENCY` run at once.
pub fn llm_batch_key(tenant: crate::ids::TenantId) -> String {
    format!("llm:{tenant}")
}

/// The payload of `batch.item`. `round` counts the person's retries of the item, so a retried item gets a new job
/// (unique key `batch.item:{item}:{round}`).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct BatchItemPayload {
    pub tenant_id: crate::ids::TenantId,
    pub item_id: crate::ids::BatchItemId,
    #[serde(default)]
    pub round: i64,
}

impl JobArgs for BatchItemPayload {
    const KIND: &'static str = BATCH_ITEM;

    fn insert_opts(&self) -> InsertOpts {
        InsertOpts {
            unique_key: Some(format!("{BATCH_ITEM}:{}:{}", self.item_id, self.round)),
            concurrency_key: Some(llm_batch_key(self.tenant_id)),
            run_at: None,
            max_attempts: Some(BATCH_ITEM_JOB_ATTEMPTS),
        }
    }
}

/// Edit a batch's progress message (issue 18). At most one per batch per [`BATCH_PROGRESS_EVERY_MS`]: the unique
/// key names the time window the change happened in and the job runs when that window closes, so every item
/// ending in one window is shown by one edit.
pub const BATCH_PROGRESS: &str = "batch.progress";
/// The shortest time between two edits of one progress message (Telegram allows about one edit a second per
/// chat and fewer per message; we keep well below).
pub const BATCH_PROGRESS_EVERY_MS: i64 = 3_000;

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct BatchProgressPayload {
    pub tenant_id: crate::ids::TenantId,
    pub batch_id: crate::ids::BatchId,
    /// The time window (`now / BATCH_PROGRESS_EVERY_MS`) of the change shown.
    pub window: i64,
}

impl BatchProgressPayload {
    /// The edit showing a change made at `now`.
    pub fn at(tenant_id: crate::ids::TenantId, batch_id: crate::ids::BatchId, now: Millis) -> Self {
        Self { tenant_id, batch_id, window: now.div_euclid(BATCH_PROGRESS_EVERY_MS) }
    }
}

impl JobArgs for BatchProgressPayload {
    const KIND: &'static str = BATCH_PROGRESS;

    fn insert_opts(&self) -> InsertOpts {
        InsertOpts {
            unique_key: Some(format!("{BATCH_PROGRESS}:{}:{}", self.batch_id, self.window)),
            concurrency_key: Some(format!("{BATCH_PROGRESS}:{}", self.batch_id)),
            run_at: Some((self.window + 1) * BATCH_PROGRESS_EVERY_MS),
            max_attempts: Some(5),
        }
    }
}
