//! Group commit of verified webhook events: events that arrive while one commit is being written share the next
//! one, so a burst of deliveries costs a few transactions (and a few WAL flushes) instead of one each.
//!
//! There is no writer task and no timer. Each caller queues its event, then waits for a writer permit (FIFO;
//! one on SQLite, which has one connection, up to four on PostgreSQL, so a group is written while another waits
//! for its WAL flush). The caller that gets one either finds its event already stored (and returns), or takes up
//! to [`MAX_GROUP`] queued events, its own among them unless more than a group's worth came first, writes them in
//! ONE transaction and answers every caller of the group after the commit; finding the queue empty, it knows its
//! event is in a group being written and waits for that answer. At low load a group is one event and nothing
//! waits; under load a group holds what arrived during the previous commit. Nothing is acknowledged before the
//! commit that holds it.
//!
//! The event and its `webhook.event` job stay atomic, as with one event at a time: PostgreSQL writes a group in
//! one statement (data-modifying `WITH`), SQLite in one transaction of two statements. Events are deduplicated by
//! `(source, event_key)`, also within a group, and the ids the insert returns say which events were new.
//!
//! On PostgreSQL a group holds a power of two of events (1, 2, 4 ... 64; what is left waits for the next writer),
//! so its statement has seven shapes, each prepared once per connection and then only bound and run: parsing and
//! planning a new statement of up to 64 x 13 values for every group cost more server time than the insert itself
//! (in-process webhook bench, PostgreSQL, concurrency 32: 7,900 req/s with a fresh statement per group, 10,500
//! with every size prepared, 11,450 with the seven shapes). SQLite prepares a statement in microseconds and has one
//! writer, where splitting groups only adds commits, so it keeps any size.
//!
//! If a group's transaction fails, every caller of the group writes its own event alone (a group of one), so one
//! bad event cannot fail its neighbours; if the caller writing a group is cancelled mid-write, the others find
//! their answer channel closed and write alone too. Writing alone after a group that did commit is harmless: the
//! event is then a duplicate, stored once.

use crate::dialect::placeholders_rows;
use crate::jobs::NewJob;
use crate::{Backend, Result, Store};
use std::collections::HashSet;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex};
use tochen_domain::clock::now_ms;
use tochen_domain::ids::JobId;
use tochen_domain::jobs::WebhookEventPayload;
use tokio::sync::oneshot;

/// The most events one group commit holds (a statement of 13 values per event on PostgreSQL).
pub(crate) const MAX_GROUP: usize = 64;

/// The most groups written at once on PostgreSQL (half the pool, at most this).
const MAX_WRITERS: usize = 4;

/// A verified event waiting to be stored.
#[derive(Debug)]
pub(crate) struct Event {
    pub(crate) id: String,
    pub(crate) source: String,
    pub(crate) event_key: String,
    pub(crate) payload: String,
}

/// What the writer of a group tells each of its callers.
enum Outcome {
    /// Committed: `true` when the event was new, `false` for a duplicate.
    Stored(bool),
    /// The group's transaction failed: write the event alone.
    Alone,
}

type Waiting = (Arc<Event>, oneshot::Sender<Outcome>);

/// The queue of events waiting for a commit, and the permits its writers hold. One per store (shared by clones).
pub(crate) struct Group {
    waiting: Mutex<Vec<Waiting>>,
    /// Permits to write a group: one on SQLite (one connection), a few on PostgreSQL, where a group can be
    /// written while another one waits for its WAL flush.
    writers: tokio::sync::Semaphore,
    /// Group transactions committed, and the events they held (for tests and the benchmark's reading).
    groups: AtomicU64,
    grouped: AtomicU64,
    /// Events queued so far.
    queued: AtomicU64,
    /// Groups hold a power of two of events (PostgreSQL), so the group statement has a few shapes, each prepared
    /// once per connection.
    sized: bool,
}

impl std::fmt::Debug for Group {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Group").finish_non_exhaustive()
    }
}

impl Group {
    /// The group commit of a store on `backend` with a pool of `connections`.
    pub(crate) fn new(backend: Backend, connections: u32) -> Self {
        let writers = match backend {
            Backend::Sqlite => 1,
            Backend::Postgres => (connections as usize / 2).clamp(1, MAX_WRITERS),
        };
        Self {
            waiting: Mutex::default(),
            writers: tokio::sync::Semaphore::new(writers),
            groups: AtomicU64::default(),
            grouped: AtomicU64::default(),
            queued: AtomicU64::default(),
            sized: matches!(backend, Backend::Postgres),
        }
    }

    fn take(&self) -> Vec<Waiting> {
        let mut waiting = self.waiting.lock().unwrap_or_else(|e| e.into_inner());
        let mut n = waiting.len().min(MAX_GROUP);
        if self.sized && n > 0 {
            n = 1 << n.ilog2();
        }
        waiting.drain(..n).collect()
    }
}

/// Binds a job's eight values in the order of `jobs::insert_statement`: id, tenant, kind, payload, run at,
/// attempts, unique key, concurrency key (a macro: `Query` and `QueryAs` share no binding trait).
macro_rules! bind_job {
    ($query:expr, $job:expr) => {{
        let job: &NewJob = $job;
        $query
            .bind(JobId::new().to_db())
            .bind(job.tenant_id.map(|t| t.to_db()))
            .bind(job.kind.clone())
            .bind(job.payload.to_string())
            .bind(job.run_at)
            .bind(job.max_attempts)
            .bind(job.unique_key.clone())
            .bind(job.concurrency_key.clone())
    }};
}

impl Store {
    /// Group commits of webhook events written so far by this store, and the events they held.
    pub fn ingest_groups(&self) -> (u64, u64) {
        (self.ingest.groups.load(Ordering::Relaxed), self.ingest.grouped.load(Ordering::Relaxed))
    }

    /// Test support (only with the `test-support` feature): events queued for a group commit so far, and those
    /// of them still waiting to be taken into a group.
    #[cfg(feature = "test-support")]
    pub fn ingest_queue(&self) -> (u64, usize) {
        let waiting = self.ingest.waiting.lock().unwrap_or_else(|e| e.into_inner()).len();
        (self.ingest.queued.load(Ordering::Relaxed), waiting)
    }

    /// Stores a verified platform event (deduplicated by `(source, event_key)`) and queues its `webhook.event`
    /// job atomically with it, in a group commit with the events arriving at the same time. Returns the new
    /// event id, or `None` for a duplicate (nothing is queued). Returns only after the commit that holds it.
    pub async fn record_inbound_event(&self, source: &str, event_key: &str, payload: &str) -> Result<Option<String>> {
        let event = Arc::new(Event {
            id: uuid::Uuid::now_v7().to_string(),
            source: source.to_owned(),
            event_key: event_key.to_owned(),
            payload: payload.to_owned(),
        });
        let (reply, mut answer) = oneshot::channel();
        self.ingest.waiting.lock().unwrap_or_else(|e| e.into_inner()).push((event.clone(), reply));
        self.ingest.queued.fetch_add(1, Ordering::Relaxed);
        loop {
            let writing = self.ingest.writers.acquire().await;
            match answer.try_recv() {
                Ok(Outcome::Stored(new)) => return Ok(new.then(|| event.id.clone())),
                Ok(Outcome::Alone) | Err(oneshot::error::TryRecvError::Closed) => break,
                Err(oneshot::error::TryRecvError::Empty) => {}
            }
            // Write the oldest group: ours, unless more than a group's worth came first; when the queue is empty,
            // ours is in a group another writer is writing now, so wait for its answer.
            let group = self.ingest.take();
            if group.is_empty() {
                drop(writing);
                match answer.await {
                    Ok(Outcome::Stored(new)) => return Ok(new.then(|| event.id.clone())),
                    Ok(Outcome::Alone) | Err(_) => break,
                }
            }
            self.write_group(group).await;
        }
        self.record_event_alone(&event).await
    }

    /// Writes one group and answers each of its callers.
    async fn write_group(&self, group: Vec<Waiting>) {
        if group.is_empty() {
            return;
        }
        let events: Vec<&Event> = group.iter().map(|(e, _)| e.as_ref()).collect();
        match self.insert_group(&events).await {
            Ok(new) => {
                self.ingest.groups.fetch_add(1, Ordering::Relaxed);
                self.ingest.grouped.fetch_add(group.len() as u64, Ordering::Relaxed);
                metrics::counter!("tochen_webhook_group_commits_total").increment(1);
                metrics::counter!("tochen_webhook_group_commit_events_total").increment(group.len() as u64);
                if !new.is_empty() {
                    self.notify_jobs_changed();
                }
                for (event, reply) in group {
                    let _ = reply.send(Outcome::Stored(new.contains(&event.id)));
                }
            }
            Err(e) => {
                tracing::warn!(error = %e, events = group.len(), "a group commit of webhook events failed; each is written alone");
                for (_, reply) in group {
                    let _ = reply.send(Outcome::Alone);
                }
            }
        }
    }

    /// One transaction for `events`; the ids of those that were new.
    async fn insert_group(&self, events: &[&Event]) -> Result<HashSet<String>> {
        let now = now_ms();
        let jobs: Vec<NewJob> = events.iter().map(|e| event_job(&e.id, now)).collect();
        let new: Vec<(String,)> = match self.backend {
            Backend::Postgres => {
                let sql = format!(
                    "WITH e AS ({}), j AS (INSERT INTO jobs (id, tenant_id, kind, payload, run_at, max_attempts, \
                     unique_key, concurrency_key, created_at, updated_at) SELECT v.id, v.tenant_id, v.kind, v.payload, \
                     v.run_at, v.max_attempts, v.unique_key, v.concurrency_key, $1, $1 FROM (VALUES {}) AS v (event_id, \
                     id, tenant_id, kind, payload, run_at, max_attempts, unique_key, concurrency_key) \
                     JOIN e ON e.id = v.event_id ON CONFLICT (unique_key) DO NOTHING) SELECT id FROM e",
                    insert_events_sql(events.len()),
                    placeholders_rows(2 + 4 * events.len(), events.len(), 9, ""),
                );
                // Prepared once per connection and size (`Group::sized`).
                let mut query = bind_events(sqlx::query_as(&sql).persistent(true).bind(now), events);
                for (event, job) in events.iter().zip(&jobs) {
                    query = query.bind(&event.id);
                    query = bind_job!(query, job);
                }
                query.fetch_all(&self.pool).await?
            }
            Backend::Sqlite => {
                let mut tx = self.pool.begin().await?;
                let sql = insert_events_sql(events.len());
                let new: Vec<(String,)> =
                    bind_events(sqlx::query_as(&sql).persistent(false).bind(now), events).fetch_all(&mut *tx).await?;
                let inserted: HashSet<&str> = new.iter().map(|(id,)| id.as_str()).collect();
                let new_jobs: Vec<&NewJob> = events
                    .iter()
                    .zip(&jobs)
                    .filter(|(e, _)| inserted.contains(e.id.as_str()))
                    .map(|(_, j)| j)
                    .collect();
                if !new_jobs.is_empty() {
                    let sql = format!(
                        "INSERT INTO jobs (id, tenant_id, kind, payload, run_at, max_attempts, unique_key, \
                         concurrency_key, created_at, updated_at) VALUES {} ON CONFLICT (unique_key) DO NOTHING",
                        placeholders_rows(2, new_jobs.len(), 8, ", $1, $1"),
                    );
                    let mut query = sqlx::query(&sql).persistent(false).bind(now);
                    for job in new_jobs {
                        query = bind_job!(query, job);
                    }
                    query.execute(&mut *tx).await?;
                }
                tx.commit().await?;
                new
            }
        };
        Ok(new.into_iter().map(|(id,)| id).collect())
    }

    /// One event and its job in their own transaction (a group of one): the path of an event whose group failed.
    async fn record_event_alone(&self, event: &Event) -> Result<Option<String>> {
        let new = self.insert_group(&[event]).await?;
        if new.is_empty() {
            return Ok(None);
        }
        self.notify_jobs_changed();
        Ok(Some(event.id.clone()))
    }
}

/// The `webhook.event` job of an event, keyed by the event (`webhook_event_job_key`): the payload's insert options.
pub(crate) fn event_job(event_id: &str, now: tochen_domain::clock::Millis) -> NewJob {
    NewJob::new(&WebhookEventPayload { event_id: event_id.to_owned() }).run_at(now)
}

/// `INSERT INTO webhook_events ... VALUES` for `n` events (binds from `$2`, four per event, `$1` the time),
/// skipping duplicates and returning the ids of the new ones.
fn insert_events_sql(n: usize) -> String {
    format!(
        "INSERT INTO webhook_events (id, source, event_key, payload, received_at) VALUES {} \
         ON CONFLICT (source, event_key) DO NOTHING RETURNING id",
        placeholders_rows(2, n, 4, ", $1"),
    )
}

fn bind_events<'q, O>(
    mut query: sqlx::query::QueryAs<'q, sqlx::Any, O, sqlx::any::AnyArguments<'q>>,
    events: &'q [&Event],
) -> sqlx::query::QueryAs<'q, sqlx::Any, O, sqlx::any::AnyArguments<'q>> {
    for e in events {
        query = query.bind(&e.id).bind(&e.source).bind(&e.event_key).bind(&e.payload);
    }
    query
}

#[cfg(test)]
mod tests {
    use super::*;

    fn queued(group: &Group, n: usize) -> Vec<oneshot::Receiver<Outcome>> {
        (0..n)
            .map(|i| {
                let (reply, answer) = oneshot::channel();
                let event =
                    Event { id: i.to_string(), source: "meta".into(), event_key: i.to_string(), payload: "{}".into() };
                group.waiting.lock().unwrap().push((Arc::new(event), reply));
                answer
            })
            .collect()
    }

    fn ids(taken: &[Waiting]) -> Vec<String> {
        taken.iter().map(|(e, _)| e.id.clone()).collect()
    }

    #[test]
    fn postgres_groups_hold_a_power_of_two_oldest_first_and_sqlite_groups_any_size() {
        let group = Group::new(Backend::Postgres, 10);
        let _answers = queued(&group, 75);
        let sizes: Vec<usize> = std::iter::from_fn(|| Some(group.take().len())).take_while(|&n| n > 0).collect();
        assert_eq!(sizes, [64, 8, 2, 1]);
        let _answers = queued(&group, 3);
        assert_eq!(ids(&group.take()), ["0", "1"], "the oldest first");
        assert_eq!(ids(&group.take()), ["2"]);

        let group = Group::new(Backend::Sqlite, 1);
        let _answers = queued(&group, 75);
        let sizes: Vec<usize> = std::iter::from_fn(|| Some(group.take().len())).take_while(|&n| n > 0).collect();
        assert_eq!(sizes, [64, 11]);
    }
}
