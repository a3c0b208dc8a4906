//! SQLite's WAL checkpoints, moved off the writer's path.
//!
//! By default the connection that commits the write crossing 1,000 WAL pages runs the checkpoint itself: it copies
//! the WAL back into the database file and syncs it, while every write queued behind the one connection waits.
//! Measured in the webhook benchmark (concurrency 8): a p99 of 18-21 ms with those stalls, 3.3 ms without. So the
//! pool's connection never checkpoints (`wal_autocheckpoint = 0`, see `dialect::connection_setup`) and a second
//! connection, owned by this task, runs a PASSIVE checkpoint every [`EVERY`]: it copies what no reader still needs
//! and never blocks the writer, which keeps appending to the WAL meanwhile. Durability is unchanged: a commit is
//! durable once it is in the WAL, whoever checkpoints it later. The task stops when the last clone of its store
//! is dropped; the last connection to close checkpoints what is left, as SQLite always does.

use std::time::Duration;
use tokio::sync::oneshot;

/// How often the WAL is checkpointed.
pub(crate) const EVERY: Duration = Duration::from_millis(500);

/// Keeps the checkpoint task running; dropping it (with the last store clone) stops the task.
#[derive(Debug)]
pub(crate) struct Checkpointer {
    _stop: oneshot::Sender<()>,
}

/// Starts the checkpoint task for the SQLite database at `url` (a file; `:memory:` has no WAL).
pub(crate) fn start(url: &str) -> Option<Checkpointer> {
    if url.contains(":memory:") {
        return None;
    }
    let (stop, mut stopped) = oneshot::channel::<()>();
    let url = url.to_owned();
    tokio::spawn(async move {
        use sqlx::{Connection, Executor};
        let mut conn: Option<sqlx::AnyConnection> = None;
        loop {
            tokio::select! {
                _ = &mut stopped => break,
                _ = tokio::time::sleep(EVERY) => {}
            }
            if conn.is_none() {
                conn = sqlx::AnyConnection::connect(&url).await.ok();
            }
            let Some(c) = conn.as_mut() else { continue };
            if let Err(e) = c.execute("PRAGMA busy_timeout = 1000; PRAGMA wal_checkpoint(PASSIVE)").await {
                tracing::warn!(error = %e, "a WAL checkpoint failed; it is tried again");
                conn = None;
            }
        }
        if let Some(c) = conn {
            let _ = c.close().await;
        }
    });
    Some(Checkpointer { _stop: stop })
}
