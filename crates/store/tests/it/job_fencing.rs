//! Fencing by attempt number, on both databases: an attempt that was overtaken cannot complete, retry, extend or
//! finish the job, even when the SAME runner took the job over again.
//!
//! The runner's owner name is per process, so "lease ran out, the same process claimed the job again" is the
//! case only the `attempts = $n` condition stops: `lease_owner` and `state` still match the stale attempt.
//! Every test below therefore reclaims with the same owner, and each store call is checked on its own, so
//! dropping the attempt condition from any one of `complete_job`, `complete_jobs`, `retry_job`, `extend_lease`
//! or `finish_job` fails a test.

use tochen_domain::clock::now_ms;
use tochen_domain::JobId;
use tochen_domain::JobState;
use tochen_store::Store;
use tochen_store::{ClaimRequest, Job, NewJob};
use tochen_testkit::store_test;

const OWNER: &str = "host-1:runner";

/// A job claimed twice by the same owner (the first lease expired): (id, the stale attempt, the live attempt).
async fn reclaimed_by_the_same_owner(store: &Store) -> (JobId, i64, i64) {
    let id = store.enqueue(&NewJob::untyped("noop", serde_json::json!({}))).await.unwrap().unwrap();
    let kinds = vec!["noop".to_string()];
    let claim = ClaimRequest { owner: OWNER, limit: 1, lease_ms: 60_000, per_key: 1, kinds: &kinds };
    let first = store.claim_jobs(&claim).await.unwrap();
    assert_eq!(first.len(), 1);
    // The runner stalls (a long GC pause, a frozen VM) past its lease...
    sqlx::query("UPDATE jobs SET lease_expires_at = $1 WHERE id = $2")
        .bind(now_ms() - 1)
        .bind(id.to_db())
        .execute(store.sql_for_tests())
        .await
        .unwrap();
    // ...and the same process claims the job again as a new attempt.
    let second = store.claim_jobs(&claim).await.unwrap();
    assert_eq!(second.len(), 1);
    assert_eq!(second[0].lease_owner.as_deref(), Some(OWNER));
    assert_eq!((first[0].attempts, second[0].attempts), (1, 2));
    (id, first[0].attempts, second[0].attempts)
}

async fn job(store: &Store, id: JobId) -> Job {
    store.job(id).await.unwrap().unwrap()
}

/// The live attempt is untouched: still running, under its lease, without an error.
async fn assert_untouched(store: &Store, id: JobId, lease_before: Option<i64>) {
    let j = job(store, id).await;
    assert_eq!(j.state, JobState::Running);
    assert_eq!(j.attempts, 2);
    assert_eq!(j.lease_owner.as_deref(), Some(OWNER));
    assert_eq!(j.lease_expires_at, lease_before, "the live attempt's lease is unchanged");
    assert_eq!(j.last_error, None);
}

store_test!(a_stale_attempt_cannot_complete_a_reclaimed_job, |store| {
    let (id, stale, live) = reclaimed_by_the_same_owner(&store).await;
    let lease = job(&store, id).await.lease_expires_at;
    assert!(!store.complete_job(id, stale, OWNER).await.unwrap(), "complete_job fenced");
    assert_untouched(&store, id, lease).await;
    assert_eq!(store.complete_jobs(OWNER, &[(id, stale)]).await.unwrap(), 0, "complete_jobs fenced");
    assert_untouched(&store, id, lease).await;
    assert!(store.complete_job(id, live, OWNER).await.unwrap());
    assert_eq!(job(&store, id).await.state, JobState::Succeeded);
});

store_test!(a_stale_attempt_cannot_retry_a_reclaimed_job, |store| {
    let (id, stale, live) = reclaimed_by_the_same_owner(&store).await;
    let lease = job(&store, id).await.lease_expires_at;
    assert!(!store.retry_job(id, stale, OWNER, now_ms() + 60_000, "late").await.unwrap(), "retry_job fenced");
    assert_untouched(&store, id, lease).await;
    assert!(store.retry_job(id, live, OWNER, now_ms() + 60_000, "again").await.unwrap());
    assert_eq!(job(&store, id).await.state, JobState::Queued);
});

store_test!(a_stale_attempt_cannot_extend_the_lease_of_a_reclaimed_job, |store| {
    let (id, stale, live) = reclaimed_by_the_same_owner(&store).await;
    let lease = job(&store, id).await.lease_expires_at;
    assert!(!store.extend_lease(id, stale, OWNER, 3_600_000).await.unwrap(), "extend_lease fenced");
    assert_untouched(&store, id, lease).await;
    assert!(store.extend_lease(id, live, OWNER, 3_600_000).await.unwrap());
    assert!(job(&store, id).await.lease_expires_at > lease);
});

store_test!(a_stale_attempt_cannot_finish_a_reclaimed_job, |store| {
    let (id, stale, live) = reclaimed_by_the_same_owner(&store).await;
    let lease = job(&store, id).await.lease_expires_at;
    for state in [JobState::Failed, JobState::Dead] {
        assert!(!store.finish_job(id, stale, OWNER, state, Some("stale")).await.unwrap(), "finish_job fenced");
        assert_untouched(&store, id, lease).await;
    }
    assert!(store.finish_job(id, live, OWNER, JobState::Dead, Some("gave up")).await.unwrap());
    let j = job(&store, id).await;
    assert_eq!((j.state, j.last_error.as_deref()), (JobState::Dead, Some("gave up")));
});
