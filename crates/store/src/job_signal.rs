//! The "jobs changed" signal: `notify_jobs_changed` wakes idle runners in this process after an enqueue;
//! PostgreSQL also wakes other processes with a trigger on `jobs` (LISTEN/NOTIFY channel [`JOBS_CHANNEL`]).

use std::sync::OnceLock;
use tokio::sync::Notify;

/// The PostgreSQL channel the `jobs` trigger notifies.
pub const JOBS_CHANNEL: &str = "tochen_jobs";

fn jobs_notify() -> &'static Notify {
    static N: OnceLock<Notify> = OnceLock::new();
    N.get_or_init(Notify::new)
}

/// Wakes every runner of this process that waits for work. Cheap; call it after enqueueing.
pub fn notify_jobs_changed() {
    jobs_notify().notify_waiters();
}

/// The in-process "jobs changed" signal runners wait on (enable the `Notified` before checking for work).
pub fn jobs_changed() -> &'static Notify {
    jobs_notify()
}
