//! Processing of stored incoming webhook events (the `webhook.event` job), after the web service verified,
//! stored and acknowledged them.
//!
//! Webhooks name a Page, an Instagram user or a TikTok open_id, never a workspace, so each event is resolved to
//! the workspaces that connected that account (`accounts_by_external_id`). Comments and reactions reach the
//! team chat; TikTok publish events move targets; `authorization.removed` marks the account and tells the admins.
//! Every message to a chat is a `notify` job, so it is retried and rate-limited like any other.
//!
//! Exactly once in effect: processing first reads what it needs and decides the changes ([`InboundEffect`]),
//! then `Store::apply_inbound_event` writes them all in one transaction that also moves the event out of
//! `received`. A job retried after a crash or an error either finds nothing written (and decides again) or the
//! event handled (and writes nothing). Each change is idempotent on its own too: every `notify` has a unique key
//! made of the event id, the change's position in the event and the recipient; accounts and targets move by
//! compare-and-set; the outgoing `account.needs_reconnect` event is written only by the run that moved the account.

use serde_json::Value;
use tochen_domain::html::escape_html;
use tochen_domain::i18n::tf;
use tochen_domain::ids::{AccountId, TargetId, TenantId};
use tochen_domain::jobs::{keys, NotifyPayload};
use tochen_domain::{AccountStatus, Platform};
use tochen_store::events::prepare_event;
use tochen_store::events::{account_needs_reconnect_data, ACCOUNT_NEEDS_RECONNECT};
use tochen_store::{Account, InboundEffect, NewJob, Store, StoreError, TargetOutcome};

/// The `webhook.event` job payload (defined with the other payloads in `tochen_domain::jobs`).
pub use tochen_domain::jobs::WebhookEventPayload;

#[derive(Debug, thiserror::Error)]
pub enum ProcessError {
    #[error("webhook event {0} does not exist")]
    Missing(String),
    #[error(transparent)]
    Store(#[from] StoreError),
}

/// What processing did, for logs and tests. Only what this run wrote is counted.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Processed {
    pub notifications: usize,
    pub targets_updated: usize,
    pub accounts_marked: usize,
    /// An earlier run already handled the event; this one wrote nothing.
    pub already_handled: bool,
}

/// Processes one stored event: decides what it changes, then writes that and the event's new status (`processed`,
/// or `ignored` when it concerned nobody here) in one transaction. An event no longer `received` changes nothing.
#[tracing::instrument(skip(store))]
pub async fn process_event(store: &Store, event_id: &str) -> Result<Processed, ProcessError> {
    let (source, payload) =
        store.webhook_event_payload(event_id).await?.ok_or_else(|| ProcessError::Missing(event_id.into()))?;
    let body: Value = serde_json::from_str(&payload).unwrap_or(Value::Null);
    let effects = match source.as_str() {
        "meta" => meta(store, event_id, &body).await?,
        "tiktok" => tiktok(store, event_id, &body).await?,
        _ => Vec::new(),
    };
    Ok(match store.apply_inbound_event(event_id, &effects).await? {
        None => Processed { already_handled: true, ..Processed::default() },
        Some(done) => Processed {
            notifications: done.jobs_queued,
            targets_updated: done.targets_settled,
            accounts_marked: done.accounts_marked,
            already_handled: false,
        },
    })
}

/// The targets a TikTok publish event of `event_id` reports on, in every workspace that connected the account.
/// Settling them has consequences outside core (post status, the author's message, the outgoing
/// `post.target.*` event) that the scheduler's handler runs after processing; every one of them is idempotent,
/// so the handler runs them again on a retry, whether this run or an earlier one moved the target.
pub async fn reported_targets(store: &Store, event_id: &str) -> Result<Vec<(TenantId, TargetId)>, StoreError> {
    let Some((source, payload)) = store.webhook_event_payload(event_id).await? else { return Ok(Vec::new()) };
    let Ok(body) = serde_json::from_str::<Value>(&payload) else { return Ok(Vec::new()) };
    let Some(report) = (source == "tiktok").then(|| TikTokEvent::parse(&body)).flatten() else {
        return Ok(Vec::new());
    };
    let Some(publish_id) = report.publish_id() else { return Ok(Vec::new()) };
    let mut found = Vec::new();
    for a in active(store, Platform::TikTok, report.open_id).await? {
        if let Some(target) = store.tiktok_target_by_publish_id(a.tenant_id, publish_id).await? {
            found.push((a.tenant_id, target));
        }
    }
    Ok(found)
}

/// A `notify` job to `chat`, keyed by the event, the change inside it and the recipient, so that deciding the
/// same event twice queues it once.
fn notify(tenant: TenantId, chat_id: i64, text: String, key: String) -> Result<InboundEffect, StoreError> {
    let job =
        NewJob::new(&NotifyPayload::text(chat_id, text)).tenant(tenant).unique(key).concurrency(keys::chat(chat_id));
    Ok(InboundEffect::Enqueue(job))
}

async fn active(store: &Store, platform: Platform, external_id: &str) -> Result<Vec<Account>, StoreError> {
    Ok(store
        .accounts_by_external_id(platform, external_id)
        .await?
        .into_iter()
        .filter(|a| a.status != AccountStatus::Disconnected)
        .collect())
}

fn text_of(v: &Value, keys: &[&str]) -> String {
    keys.iter().find_map(|k| v[*k].as_str()).unwrap_or("").chars().take(300).collect()
}

/// What one change of a Meta event tells the team, read from the body alone (no store): who did what, on which
/// Page or Instagram account. Text is raw here and escaped where it is written into a message.
#[derive(Debug, Clone, PartialEq, Eq)]
struct MetaChange {
    entry: usize,
    change: usize,
    /// The Page or Instagram user id the entry is about.
    owner: String,
    who: String,
    /// Checked against the workspace's reaction alerts rather than its comment alerts.
    is_reaction: bool,
    what: MetaWhat,
}

#[derive(Debug, Clone, PartialEq, Eq)]
enum MetaWhat {
    Comment(String),
    Reaction(String),
}

/// The platform a Meta body is about and its changes worth a message: comments and reactions by someone other
/// than the account itself. Anything else in the body is skipped; nothing in it can fail.
fn meta_changes(body: &Value) -> Option<(Platform, Vec<MetaChange>)> {
    let (platform, field) = match body["object"].as_str() {
        Some("page") => (Platform::Facebook, "feed"),
        Some("instagram") => (Platform::Instagram, "comments"),
        _ => return None,
    };
    let mut out = Vec::new();
    for (e, entry) in body["entry"].as_array().into_iter().flatten().enumerate() {
        let owner = match &entry["id"] {
            Value::String(s) => s.clone(),
            Value::Number(n) => n.to_string(),
            _ => continue,
        };
        let changes = entry["changes"].as_array().into_iter().flatten().enumerate();
        for (c, change) in changes.filter(|(_, c)| c["field"] == field) {
            let v = &change["value"];
            let from = &v["from"];
            // The Page's own activity is not news to the team.
            if from["id"].as_str() == Some(owner.as_str()) {
                continue;
            }
            let what = match (platform, v["item"].as_str(), v["verb"].as_str()) {
                (Platform::Instagram, _, _) => MetaWhat::Comment(text_of(v, &["text"])),
                (_, Some("comment"), Some("add")) => MetaWhat::Comment(text_of(v, &["message"])),
                (_, Some("reaction"), Some("add")) => MetaWhat::Reaction(text_of(v, &["reaction_type"])),
                _ => continue,
            };
            out.push(MetaChange {
                entry: e,
                change: c,
                owner: owner.clone(),
                who: text_of(from, &["name", "username"]),
                is_reaction: v["item"].as_str() == Some("reaction"),
                what,
            });
        }
    }
    Some((platform, out))
}

/// Meta (Page feed, Instagram comments): one message to the team chat per change and workspace.
async fn meta(store: &Store, event_id: &str, body: &Value) -> Result<Vec<InboundEffect>, StoreError> {
    let mut effects = Vec::new();
    let Some((platform, changes)) = meta_changes(body) else { return Ok(effects) };
    let mut accounts_of: std::collections::HashMap<String, Vec<Account>> = std::collections::HashMap::new();
    for ch in changes {
        if !accounts_of.contains_key(&ch.owner) {
            accounts_of.insert(ch.owner.clone(), active(store, platform, &ch.owner).await?);
        }
        let who = escape_html(&ch.who);
        for a in accounts_of.get(&ch.owner).into_iter().flatten() {
            let tenant = store.tenant(a.tenant_id).await?;
            let Some(chat) = tenant.team_chat_id else { continue };
            let wanted = store.engagement_alerts(a.tenant_id).await?;
            if (ch.is_reaction && !wanted.reactions) || (!ch.is_reaction && !wanted.comments) {
                continue;
            }
            let lang = tenant.profile.language.as_str();
            let account = escape_html(&a.name);
            let text = match &ch.what {
                MetaWhat::Comment(msg) => tf(
                    lang,
                    "web.webhook_comment",
                    &[("who", &who), ("account", &account), ("text", &escape_html(msg))],
                ),
                MetaWhat::Reaction(kind) => tf(
                    lang,
                    "web.webhook_reaction",
                    &[("who", &who), ("account", &account), ("reaction", &escape_html(kind))],
                ),
            };
            effects.push(notify(a.tenant_id, chat, text, change_key(event_id, ch.entry, ch.change, a.id, chat))?);
        }
    }
    Ok(effects)
}

/// The unique key of the message about change `change` of entry `entry` of an event, for one account and chat.
fn change_key(event_id: &str, entry: usize, change: usize, account: AccountId, chat: i64) -> String {
    format!("inbound:{event_id}:{entry}.{change}:{account}:{chat}")
}

/// The parts of a TikTok event processing reads.
struct TikTokEvent<'a> {
    event: &'a str,
    open_id: &'a str,
    content: Value,
}

impl<'a> TikTokEvent<'a> {
    fn parse(body: &'a Value) -> Option<Self> {
        Some(Self {
            event: body["event"].as_str()?,
            open_id: body["user_openid"].as_str().unwrap_or(""),
            // `content` is a JSON document inside a string.
            content: body["content"].as_str().and_then(|c| serde_json::from_str(c).ok()).unwrap_or(Value::Null),
        })
    }

    /// The publish_id of a publish event.
    fn publish_id(&self) -> Option<&str> {
        match self.event {
            "post.publish.complete" | "post.publish.publicly_available" | "post.publish.failed" => {
                self.content["publish_id"].as_str().filter(|p| !p.is_empty())
            }
            _ => None,
        }
    }
}

async fn tiktok(store: &Store, event_id: &str, body: &Value) -> Result<Vec<InboundEffect>, StoreError> {
    let mut effects = Vec::new();
    let Some(report) = TikTokEvent::parse(body) else { return Ok(effects) };
    for a in active(store, Platform::TikTok, report.open_id).await? {
        if report.event == "authorization.removed" {
            let reason = "authorization.removed";
            let data = account_needs_reconnect_data(&a, reason);
            let deliveries = prepare_event(store, a.tenant_id, ACCOUNT_NEEDS_RECONNECT, data).await?;
            effects.push(InboundEffect::NeedsReconnect {
                tenant: a.tenant_id,
                account: a.id,
                reason: reason.to_owned(),
                deliveries,
            });
            let tenant = store.tenant(a.tenant_id).await?;
            let lang = tenant.profile.language.as_str();
            let text = tf(lang, "web.webhook_authorization_removed", &[("account", &escape_html(&a.name))]);
            for admin in store.admin_telegram_ids(a.tenant_id).await? {
                let key = format!("inbound:{event_id}:revoked:{}:{admin}", a.id);
                effects.push(notify(a.tenant_id, admin, text.clone(), key)?);
            }
            continue;
        }
        let Some(publish_id) = report.publish_id() else { continue };
        let Some(target) = store.tiktok_target_by_publish_id(a.tenant_id, publish_id).await? else { continue };
        let outcome = if report.event == "post.publish.failed" {
            TargetOutcome::Failed { reason: report.content["reason"].as_str().unwrap_or("failed").to_owned() }
        } else {
            let platform_post_id = match &report.content["post_id"] {
                Value::String(s) => s.clone(),
                Value::Number(n) => n.to_string(),
                _ => publish_id.to_owned(),
            };
            TargetOutcome::Published { platform_post_id }
        };
        effects.push(InboundEffect::SettleTarget { tenant: a.tenant_id, target, outcome });
    }
    Ok(effects)
}

/// Bodies of every shape, as a verified but hostile or buggy sender could sign them: reading them never panics,
/// and what is read stays within the body (indexes in range, text cut to 300 characters).
#[cfg(test)]
mod props {
    use super::*;
    use proptest::prelude::*;

    /// Arbitrary JSON, a few levels deep.
    fn json() -> impl Strategy<Value = Value> {
        let leaf = prop_oneof![
            Just(Value::Null),
            any::<bool>().prop_map(Value::Bool),
            any::<i64>().prop_map(Value::from),
            any::<f64>().prop_map(|f| serde_json::Number::from_f64(f).map(Value::Number).unwrap_or(Value::Null)),
            "\\PC{0,400}".prop_map(Value::String),
            prop::sample::select(vec![
                "page",
                "instagram",
                "feed",
                "comments",
                "comment",
                "reaction",
                "add",
                "remove",
                "post.publish.complete",
                "post.publish.failed",
                "authorization.removed",
                "{\"publish_id\":\"p1\",\"post_id\":7}",
                "{",
            ])
            .prop_map(|s| Value::String(s.to_owned())),
        ];
        leaf.prop_recursive(4, 64, 6, |inner| {
            prop_oneof![
                prop::collection::vec(inner.clone(), 0..6).prop_map(Value::Array),
                prop::collection::hash_map(
                    prop::sample::select(vec![
                        "object",
                        "entry",
                        "id",
                        "changes",
                        "field",
                        "value",
                        "from",
                        "item",
                        "verb",
                        "message",
                        "text",
                        "name",
                        "username",
                        "reaction_type",
                        "event",
                        "user_openid",
                        "content",
                        "x",
                    ])
                    .prop_map(str::to_owned),
                    inner,
                    0..6,
                )
                .prop_map(|m| Value::Object(m.into_iter().collect())),
            ]
        })
    }

    /// A Meta-shaped body with random parts where they matter.
    fn meta_body() -> impl Strategy<Value = Value> {
        (prop::sample::select(vec!["page", "instagram", "user"]), prop::collection::vec((json(), json(), json()), 0..4))
            .prop_map(|(object, entries)| {
                let entry: Vec<Value> = entries
                    .into_iter()
                    .map(|(id, from, value)| {
                        let mut value = if value.is_object() {
                            value
                        } else {
                            serde_json::json!({"item": "comment", "verb": "add"})
                        };
                        value["from"] = from;
                        serde_json::json!({"id": id, "changes": [{"field": "feed", "value": value.clone()},
                            {"field": "comments", "value": value}]})
                    })
                    .collect();
                serde_json::json!({"object": object, "entry": entry})
            })
    }

    proptest! {
        #![proptest_config(tochen_testkit::props::config(512))]

        #[test]
        fn meta_bodies_are_read_without_panics_and_within_their_bounds(body in prop_oneof![json(), meta_body()]) {
            if let Some((_, changes)) = meta_changes(&body) {
                let entries = body["entry"].as_array().map_or(0, Vec::len);
                for ch in changes {
                    prop_assert!(ch.entry < entries);
                    let changes = body["entry"][ch.entry]["changes"].as_array().map_or(0, Vec::len);
                    prop_assert!(ch.change < changes);
                    let (MetaWhat::Comment(t) | MetaWhat::Reaction(t)) = &ch.what;
                    prop_assert!(t.chars().count() <= 300 && ch.who.chars().count() <= 300);
                }
            }
        }

        #[test]
        fn tiktok_bodies_are_read_without_panics(body in json(), content in prop_oneof!["\\PC{0,80}", json().prop_map(|v| v.to_string())]) {
            let mut with_content = body.clone();
            if let Some(o) = with_content.as_object_mut() {
                o.insert("content".into(), Value::String(content));
            }
            for b in [body, with_content] {
                if let Some(ev) = TikTokEvent::parse(&b) {
                    if let Some(p) = ev.publish_id() {
                        prop_assert!(!p.is_empty());
                    }
                }
            }
        }

        /// Raw bytes as stored: whatever the web service kept, processing's first step reads it or sees nothing.
        #[test]
        fn stored_payload_bytes_never_panic(bytes in prop::collection::vec(any::<u8>(), 0..512)) {
            let text = String::from_utf8_lossy(&bytes);
            let body: Value = serde_json::from_str(&text).unwrap_or(Value::Null);
            let _ = meta_changes(&body);
            let _ = TikTokEvent::parse(&body).map(|e| e.publish_id().map(str::to_owned));
        }
    }
}
