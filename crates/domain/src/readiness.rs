//! What the process is still waiting for before every component works, shared by the components of one process.
//!
//! `tochen run` starts the bot, the scheduler and the web service together. When one of them cannot start yet (the
//! Telegram Bot API unreachable at start-up) it keeps retrying in the background while the others serve, and says
//! so here; `/ready` of the web service reports the list, so an operator sees what is waiting without reading
//! logs. The binary creates one registry and hands it to every component; a component run alone gets its own.

use std::collections::BTreeMap;
use std::sync::{Arc, Mutex, MutexGuard};
use std::time::Duration;

/// The first wait of a start-up retry, and the longest.
pub const FIRST_RETRY: Duration = Duration::from_secs(1);
pub const MAX_RETRY: Duration = Duration::from_secs(60);

/// The wait after failed attempt number `attempt` (from 1): `first`, doubled each time, never over `cap`.
pub fn backoff(attempt: u32, first: Duration, cap: Duration) -> Duration {
    let factor = 1u32.checked_shl(attempt.saturating_sub(1)).unwrap_or(u32::MAX);
    first.checked_mul(factor).unwrap_or(cap).min(cap)
}

/// The shared list of `component -> why it is waiting`. Cloning shares it.
#[derive(Clone, Debug, Default)]
pub struct Readiness {
    waiting: Arc<Mutex<BTreeMap<String, String>>>,
}

impl Readiness {
    pub fn new() -> Self {
        Self::default()
    }

    fn map(&self) -> MutexGuard<'_, BTreeMap<String, String>> {
        // Nothing panics while holding the lock; a poisoned one still holds a consistent map.
        self.waiting.lock().unwrap_or_else(|poisoned| poisoned.into_inner())
    }

    /// `component` is waiting, for `reason` (shown to operators: never put a secret in it).
    pub fn waiting(&self, component: &str, reason: impl Into<String>) {
        self.map().insert(component.to_owned(), reason.into());
    }

    /// `component` has what it needs.
    pub fn ready(&self, component: &str) {
        self.map().remove(component);
    }

    /// What is waiting now, by component.
    pub fn waiting_for(&self) -> BTreeMap<String, String> {
        self.map().clone()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn backoff_doubles_up_to_its_cap() {
        let s = Duration::from_secs;
        let waits: Vec<Duration> = (1..=8).map(|a| backoff(a, s(1), s(60))).collect();
        assert_eq!(waits, [s(1), s(2), s(4), s(8), s(16), s(32), s(60), s(60)]);
        assert_eq!(backoff(0, s(1), s(60)), s(1));
        assert_eq!(backoff(u32::MAX, s(1), s(60)), s(60));
    }

    #[test]
    fn clones_share_one_list() {
        let r = Readiness::new();
        let seen_by_web = r.clone();
        r.waiting("bot", "Telegram Bot API unreachable, retrying (attempt 1)");
        r.waiting("bot", "Telegram Bot API unreachable, retrying (attempt 2)");
        let reason = seen_by_web.waiting_for().get("bot").cloned();
        assert_eq!(reason.as_deref(), Some("Telegram Bot API unreachable, retrying (attempt 2)"));
        r.ready("bot");
        assert!(seen_by_web.waiting_for().is_empty());
    }
}
