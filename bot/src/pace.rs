//! The bot's sends, paced to Telegram's limits: about one message a second in a chat, 20 a minute in a group,
//! 30 a second overall. A 429 (`retry_after`) holds that chat for the time Telegram asks and the message is sent
//! again.
//!
//! Handlers see [`TgBot`]: it sends messages, photos, documents and albums through the pace and everything else
//! (edits, button answers, `getFile`, chat actions) straight to the Bot API, which does not count those against the
//! sending limits. Each send is released as soon as its limits allow (the limiters are `governor`'s GCRA cells).
//! teloxide's `Throttle` adaptor, used before, released queued sends from a worker that slept a fixed 250 ms between
//! rounds, so under load every reply could wait up to a quarter of a second for nothing, and the bot's throughput
//! was bounded by that cadence rather than by its work (BENCHMARKS.md).

use governor::{DefaultDirectRateLimiter, DefaultKeyedRateLimiter, Quota, RateLimiter};
use std::collections::HashMap;
use std::future::{Future, IntoFuture};
use std::num::NonZeroU32;
use std::pin::Pin;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Duration;
use teloxide::adaptors::DefaultParseMode;
use teloxide::prelude::*;
use teloxide::requests::{HasPayload, Output};
use teloxide::types::{InputFile, InputMedia, Recipient};
use teloxide::RequestError;
use tokio::time::Instant;

/// The Bot API as the bot calls it: HTML by default.
pub type Api = DefaultParseMode<Bot>;

/// Sending limits; production's are [`crate::telegram_limits`], tests raise them.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Limits {
    pub messages_per_sec_chat: u32,
    /// Private chats and basic groups.
    pub messages_per_min_chat: u32,
    /// Supergroups and channels (ids from `-100...`, or a channel's `@username`).
    pub messages_per_min_channel_or_supergroup: u32,
    pub messages_per_sec_overall: u32,
}

/// How often a send is tried again after a 429, and the longest `retry_after` waited out in place; a longer one
/// fails the send (the chat stays held for it, so the next send waits it out).
const RETRIES: u32 = 3;
const LONGEST_WAIT: Duration = Duration::from_secs(60);

/// Keyed limiters forget idle chats every this many sends, so their memory follows the chats active in the last
/// minute rather than every chat ever written to.
const FORGET_EVERY: u64 = 4096;

/// The shared budget of one bot token in this process.
pub struct Pace {
    overall: DefaultDirectRateLimiter,
    chat_second: DefaultKeyedRateLimiter<Recipient>,
    chat_minute: DefaultKeyedRateLimiter<Recipient>,
    group_minute: DefaultKeyedRateLimiter<Recipient>,
    /// Chats Telegram answered 429 for, and until when they are held.
    held: Mutex<HashMap<Recipient, Instant>>,
    sends: AtomicU64,
}

fn at_least_one(n: u32) -> NonZeroU32 {
    NonZeroU32::new(n).unwrap_or(NonZeroU32::MIN)
}

fn is_group(chat: &Recipient) -> bool {
    match chat {
        Recipient::Id(id) => id.is_channel_or_supergroup(),
        Recipient::ChannelUsername(_) => true,
    }
}

impl Pace {
    pub fn new(limits: Limits) -> Self {
        Pace {
            overall: RateLimiter::direct(Quota::per_second(at_least_one(limits.messages_per_sec_overall))),
            chat_second: RateLimiter::keyed(Quota::per_second(at_least_one(limits.messages_per_sec_chat))),
            chat_minute: RateLimiter::keyed(Quota::per_minute(at_least_one(limits.messages_per_min_chat))),
            group_minute: RateLimiter::keyed(Quota::per_minute(at_least_one(
                limits.messages_per_min_channel_or_supergroup,
            ))),
            held: Mutex::new(HashMap::new()),
            sends: AtomicU64::new(0),
        }
    }

    /// Waits until a message to `chat` may go out, and counts it.
    pub async fn ready(&self, chat: &Recipient) {
        while let Some(until) = self.held_until(chat) {
            tokio::time::sleep_until(until).await;
        }
        // The chat's own limits first, the overall budget last: a send waiting for its chat takes nothing from
        // the others.
        self.chat_second.until_key_ready(chat).await;
        let minute = if is_group(chat) { &self.group_minute } else { &self.chat_minute };
        minute.until_key_ready(chat).await;
        self.overall.until_ready().await;
        if self.sends.fetch_add(1, Ordering::Relaxed) % FORGET_EVERY == FORGET_EVERY - 1 {
            for limiter in [&self.chat_second, &self.chat_minute, &self.group_minute] {
                limiter.retain_recent();
                limiter.shrink_to_fit();
            }
        }
    }

    /// Holds `chat` for `wait` (Telegram's `retry_after`).
    pub fn hold(&self, chat: &Recipient, wait: Duration) {
        let until = Instant::now() + wait;
        let mut held = self.held.lock().unwrap_or_else(|e| e.into_inner());
        let entry = held.entry(chat.clone()).or_insert(until);
        *entry = (*entry).max(until);
    }

    /// When the hold on `chat` ends, if it is held; a hold that ended is dropped.
    fn held_until(&self, chat: &Recipient) -> Option<Instant> {
        let mut held = self.held.lock().unwrap_or_else(|e| e.into_inner());
        let until = *held.get(chat)?;
        if until > Instant::now() {
            return Some(until);
        }
        held.remove(chat);
        None
    }
}

/// The bot as handlers see it. Message sends (`send_message`, `send_photo`, `send_document`, `send_media_group`)
/// are paced; every other method is the Bot API's own (through `Deref`), as Telegram does not count them.
#[derive(Clone)]
pub struct TgBot {
    api: Api,
    pace: Arc<Pace>,
}

impl std::ops::Deref for TgBot {
    type Target = Api;

    fn deref(&self) -> &Api {
        &self.api
    }
}

impl TgBot {
    pub fn new(api: Api, limits: Limits) -> Self {
        TgBot { api, pace: Arc::new(Pace::new(limits)) }
    }

    /// The unpaced Bot API, for the dispatcher (it polls `getUpdates`) and start-up calls.
    pub fn api(&self) -> &Api {
        &self.api
    }

    fn paced<R>(&self, chat: Recipient, request: R) -> Paced<R> {
        Paced { pace: self.pace.clone(), chat, request }
    }

    pub fn send_message<C, T>(&self, chat_id: C, text: T) -> Paced<<Api as Requester>::SendMessage>
    where
        C: Into<Recipient>,
        T: Into<String>,
    {
        let chat = chat_id.into();
        self.paced(chat.clone(), self.api.send_message(chat, text))
    }

    pub fn send_photo<C: Into<Recipient>>(&self, chat_id: C, photo: InputFile) -> Paced<<Api as Requester>::SendPhoto> {
        let chat = chat_id.into();
        self.paced(chat.clone(), self.api.send_photo(chat, photo))
    }

    pub fn send_document<C: Into<Recipient>>(
        &self,
        chat_id: C,
        document: InputFile,
    ) -> Paced<<Api as Requester>::SendDocument> {
        let chat = chat_id.into();
        self.paced(chat.clone(), self.api.send_document(chat, document))
    }

    pub fn send_media_group<C, M>(&self, chat_id: C, media: M) -> Paced<<Api as Requester>::SendMediaGroup>
    where
        C: Into<Recipient>,
        M: IntoIterator<Item = InputMedia>,
    {
        let chat = chat_id.into();
        self.paced(chat.clone(), self.api.send_media_group(chat, media))
    }
}

/// A send that waits for its turn when awaited. Its payload's setters (`.caption(..)`, `.reply_markup(..)`) work
/// as on the request itself.
#[must_use = "a send does nothing until it is awaited"]
pub struct Paced<R> {
    pace: Arc<Pace>,
    chat: Recipient,
    request: R,
}

impl<R: HasPayload> HasPayload for Paced<R> {
    type Payload = R::Payload;

    fn payload_mut(&mut self) -> &mut Self::Payload {
        self.request.payload_mut()
    }

    fn payload_ref(&self) -> &Self::Payload {
        self.request.payload_ref()
    }
}

impl<R> IntoFuture for Paced<R>
where
    R: Request<Err = RequestError> + Send + Sync + 'static,
    Output<R>: Send,
{
    type Output = Result<Output<R>, RequestError>;
    type IntoFuture = Pin<Box<dyn Future<Output = Self::Output> + Send>>;

    fn into_future(self) -> Self::IntoFuture {
        let Paced { pace, chat, request } = self;
        Box::pin(async move {
            let mut retries = 0;
            loop {
                pace.ready(&chat).await;
                match request.send_ref().await {
                    Err(RequestError::RetryAfter(after)) => {
                        let wait = after.duration();
                        pace.hold(&chat, wait);
                        if retries == RETRIES || wait > LONGEST_WAIT {
                            return Err(RequestError::RetryAfter(after));
                        }
                        retries += 1;
                        tracing::warn!(retry_after = ?wait, "telegram asked to slow down; the send waits and goes again");
                    }
                    done => return done,
                }
            }
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn limits(per_sec_chat: u32, per_min_group: u32, overall: u32) -> Limits {
        Limits {
            messages_per_sec_chat: per_sec_chat,
            messages_per_min_chat: 1_000_000,
            messages_per_min_channel_or_supergroup: per_min_group,
            messages_per_sec_overall: overall,
        }
    }

    /// How many of `n` sends to `chat` are let through within `window`.
    async fn released(pace: &Pace, chat: &Recipient, n: usize, window: Duration) -> usize {
        let deadline = Instant::now() + window;
        let mut done = 0;
        for _ in 0..n {
            if tokio::time::timeout_at(deadline, pace.ready(chat)).await.is_err() {
                break;
            }
            done += 1;
        }
        done
    }

    #[tokio::test]
    async fn a_chat_gets_one_message_a_second_while_other_chats_go_at_once() {
        let pace = Pace::new(limits(1, 20, 30));
        let alice = Recipient::Id(ChatId(1));
        assert_eq!(released(&pace, &alice, 3, Duration::from_millis(600)).await, 1);
        // Other people are not held by the first one's pace (each would wait a second if they were).
        let mut through = 0;
        for id in 2..12 {
            through += released(&pace, &Recipient::Id(ChatId(id)), 1, Duration::from_millis(600)).await;
        }
        assert_eq!(through, 10);
    }

    #[tokio::test]
    async fn a_supergroup_is_held_to_its_minute_budget_and_the_overall_budget_holds_everyone() {
        let pace = Pace::new(limits(1_000, 3, 1_000));
        let group = Recipient::Id(ChatId(-1_001_234_567_890));
        assert_eq!(released(&pace, &group, 5, Duration::from_millis(300)).await, 3);
        // A private chat's minute budget is not the group's.
        let person = Recipient::Id(ChatId(42));
        assert_eq!(released(&pace, &person, 5, Duration::from_millis(300)).await, 5);

        let pace = Pace::new(limits(1_000, 1_000, 2));
        let mut through = 0;
        for id in 0..8 {
            through += released(&pace, &Recipient::Id(ChatId(id)), 1, Duration::from_millis(50)).await;
        }
        assert_eq!(through, 2, "30 a second overall, here 2");
    }

    #[tokio::test]
    async fn a_held_chat_waits_for_the_hold_and_others_do_not() {
        let pace = Pace::new(limits(1_000, 1_000, 1_000));
        let held = Recipient::Id(ChatId(7));
        pace.hold(&held, Duration::from_secs(2));
        assert_eq!(released(&pace, &held, 1, Duration::from_millis(200)).await, 0);
        assert_eq!(released(&pace, &Recipient::Id(ChatId(8)), 1, Duration::from_millis(200)).await, 1);
        assert_eq!(released(&pace, &held, 1, Duration::from_secs(3)).await, 1);
        assert!(pace.held.lock().unwrap().is_empty(), "an ended hold is forgotten");
    }

    /// Every message-sending call in the bot goes through [`TgBot`]'s paced methods: a send method it does not
    /// shadow would reach the Bot API unpaced through `Deref`.
    #[test]
    fn every_send_method_the_bot_calls_is_paced() {
        let paced = ["send_message", "send_photo", "send_document", "send_media_group"];
        // Not messages (Telegram does not count them), the request trait's own, or the bot's helpers that call
        // the paced ones.
        let other = ["send_chat_action", "send_ref", "send_to", "send_for"];
        let mut unknown = Vec::new();
        let mut dirs = vec![std::path::PathBuf::from(concat!(env!("CARGO_MANIFEST_DIR"), "/src"))];
        while let Some(dir) = dirs.pop() {
            for entry in std::fs::read_dir(&dir).unwrap() {
                let path = entry.unwrap().path();
                if path.is_dir() {
                    dirs.push(path);
                } else if path.extension().is_some_and(|e| e == "rs") {
                    let source = std::fs::read_to_string(&path).unwrap();
                    for name in called_methods(&source) {
                        let sends = ["send_", "copy_", "forward_"].iter().any(|p| name.starts_with(p));
                        if sends && !paced.contains(&name) && !other.contains(&name) {
                            unknown.push(format!("{}: {name}", path.display()));
                        }
                    }
                }
            }
        }
        assert!(unknown.is_empty(), "sends that bypass the pace (add them to TgBot): {unknown:?}");
    }

    /// The names in `.name(` calls of `source`.
    fn called_methods(source: &str) -> impl Iterator<Item = &str> {
        source.split('.').skip(1).filter_map(|rest| {
            let end = rest.find(|c: char| !(c.is_ascii_lowercase() || c == '_'))?;
            (end > 0 && rest[end..].starts_with('(')).then(|| &rest[..end])
        })
    }
}
