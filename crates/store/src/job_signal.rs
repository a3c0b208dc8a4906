//! The in-process signals, owned by the [`Store`] (every clone of a store shares them; there are no global ones):
//! "jobs changed", woken by every enqueue through that store (a stored Telegram update's job included) and waited
//! on by the runners built on it. PostgreSQL also wakes other processes with a trigger on `jobs` (LISTEN/NOTIFY
//! channel [`JOBS_CHANNEL`]); a runner forwards those to its store's signal.

use super::Store;
use std::sync::Arc;
use tokio::sync::Notify;

/// The PostgreSQL channel the `jobs` trigger notifies.
pub const JOBS_CHANNEL: &str = "tochen_jobs";

/// The signals themselves; a store and its clones hold the same ones.
#[derive(Debug, Clone, Default)]
pub(crate) struct Signals {
    jobs: Arc<Notify>,
}

impl Store {
    /// Wakes every runner on this store (or a clone of it) that waits for work. Cheap; call it after enqueueing
    /// outside the store (the store's own writes call it after their commit).
    pub fn notify_jobs_changed(&self) {
        self.signals.jobs.notify_waiters();
    }

    /// The "jobs changed" signal runners wait on (enable the `Notified` before checking for work).
    pub fn jobs_changed(&self) -> &Notify {
        &self.signals.jobs
    }
}
