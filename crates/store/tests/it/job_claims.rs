//! Concurrent claims against one database: the per-key concurrency limit (one running job per platform account)
//! holds when several runners, each on its own connection, claim at the same moment. Runs on both backends.
//!
//! Each round starts every claimer together (a barrier) over a deep queue whose jobs share a few concurrency
//! keys, then counts the running jobs per key in the database before completing them. Without serialization of
//! claims on PostgreSQL, two claims whose snapshots were taken before either committed each see the key as idle
//! and each start a job for it.

use std::collections::HashMap;
use std::sync::Arc;
use tochen_domain::clock::now_ms;
use tochen_domain::JobState;
use tochen_domain::{SecretBox, SecretString};
use tochen_store::Store;
use tochen_store::{ClaimRequest, Job, NewJob};
use tochen_testkit::store_test;
use tokio::sync::Barrier;

const KEYS: usize = 3;
const CLAIMERS: usize = 8;
const ROUNDS: usize = 60;
/// Queued jobs per key at the start of every round: far more than one claim's candidate scan (4 x its limit),
/// so concurrent claims lock different rows of the same key instead of skipping each other's.
const DEPTH: usize = 12;
const PER_KEY: i64 = 1;

/// Tops the queue up to `DEPTH` jobs per key, interleaving the keys in due order.
async fn fill(store: &Store, queued: &mut [usize; KEYS], seq: &mut i64) {
    let base = now_ms() - 60_000;
    for _ in 0..DEPTH {
        for (k, n) in queued.iter_mut().enumerate() {
            if *n < DEPTH {
                *seq += 1;
                let job = NewJob::untyped("noop", serde_json::json!({ "n": *seq }))
                    .concurrency(format!("account:{k}"))
                    .run_at(base + *seq);
                store.enqueue(&job).await.unwrap();
                *n += 1;
            }
        }
    }
}

/// Running jobs with a live lease per concurrency key, as the database sees them.
async fn running_per_key(store: &Store) -> Vec<(String, i64)> {
    sqlx::query_as(
        "SELECT concurrency_key, COUNT(*) FROM jobs WHERE state = 'running' AND lease_expires_at > $1 \
         AND concurrency_key IS NOT NULL GROUP BY concurrency_key ORDER BY concurrency_key",
    )
    .bind(now_ms())
    .fetch_all(store.sql_for_tests())
    .await
    .unwrap()
}

store_test!(concurrent_claims_from_separate_connections_never_exceed_the_per_key_limit, |store, db| {
    let secrets = || SecretBox::from_keys(&[SecretString::new(db.key.clone())]).unwrap();
    let mut claimers = Vec::new();
    for _ in 0..CLAIMERS {
        claimers.push(Store::connect(&db.url, 2, secrets()).await.unwrap());
    }
    let kinds = Arc::new(vec!["noop".to_string()]);
    let mut queued = [0usize; KEYS];
    let mut seq = 0i64;
    let mut claimed_total = 0usize;
    let mut overlapping_rounds = 0usize;

    for round in 0..ROUNDS {
        fill(&store, &mut queued, &mut seq).await;
        let barrier = Arc::new(Barrier::new(CLAIMERS));
        let mut tasks = Vec::new();
        for (i, claimer) in claimers.iter().enumerate() {
            let (claimer, barrier, kinds) = (claimer.clone(), barrier.clone(), kinds.clone());
            tasks.push(tokio::spawn(async move {
                let owner = format!("runner-{i}");
                let req = ClaimRequest {
                    owner: &owner,
                    limit: 1 + (i % 3) as i64,
                    lease_ms: 60_000,
                    per_key: PER_KEY,
                    kinds: &kinds,
                };
                barrier.wait().await;
                claimer.claim_jobs(&req).await.unwrap()
            }));
        }
        let mut claimed: Vec<Job> = Vec::new();
        let mut claimers_with_work = 0;
        for t in tasks {
            let jobs = t.await.unwrap();
            claimers_with_work += usize::from(!jobs.is_empty());
            claimed.extend(jobs);
        }
        overlapping_rounds += usize::from(claimers_with_work > 1);

        let in_db = running_per_key(&store).await;
        assert!(
            in_db.iter().all(|(_, n)| *n <= PER_KEY),
            "round {round}: more than {PER_KEY} running job(s) for one key: {in_db:?}"
        );
        let mut per_key: HashMap<String, usize> = HashMap::new();
        for j in &claimed {
            *per_key.entry(j.concurrency_key.clone().unwrap()).or_default() += 1;
        }
        assert!(per_key.values().all(|n| *n as i64 <= PER_KEY), "round {round}: claimed {per_key:?}");
        assert!(!claimed.is_empty(), "round {round}: every key had queued jobs, yet nothing was claimed");

        for j in &claimed {
            let owner = j.lease_owner.clone().unwrap();
            assert!(store.complete_job(j.id, j.attempts, &owner).await.unwrap());
            let k: usize = j.concurrency_key.as_deref().unwrap().trim_start_matches("account:").parse().unwrap();
            queued[k] -= 1;
        }
        claimed_total += claimed.len();
    }

    // How often more than one claimer came away with work (informative: the race needs overlapping claims).
    eprintln!("claimed {claimed_total} jobs in {ROUNDS} rounds; {overlapping_rounds} rounds had several claimers");
    let counts: HashMap<JobState, i64> = store.job_state_counts().await.unwrap().into_iter().collect();
    assert_eq!(counts.get(&JobState::Succeeded).copied().unwrap_or(0), claimed_total as i64);
    assert_eq!(counts.get(&JobState::Running), None);
    for c in claimers {
        c.close().await;
    }
});

store_test!(next_wake_names_the_earliest_job_and_lease_of_the_runners_kinds_only, |store| {
    let now = now_ms();
    let kinds = |k: &[&str]| k.iter().map(|s| s.to_string()).collect::<Vec<_>>();
    assert_eq!(store.next_wake(&kinds(&["b"])).await.unwrap().earliest(), None, "nothing queued");
    for (kind, at) in [("a", now + 1_000), ("b", now + 5_000), ("b", now + 3_000), ("a", now + 2_000)] {
        store.enqueue(&NewJob::untyped(kind, serde_json::json!({ "at": at })).run_at(at)).await.unwrap();
    }
    // Earlier jobs of another kind do not count: this runner could not take them.
    let wake = store.next_wake(&kinds(&["b"])).await.unwrap();
    assert_eq!((wake.next_due, wake.next_lease_expiry), (Some(now + 3_000), None));
    assert_eq!(store.next_wake(&kinds(&["a", "b"])).await.unwrap().next_due, Some(now + 1_000));
    // A claimed job's lease expiry is the other reason to wake.
    sqlx::query("UPDATE jobs SET run_at = $1 WHERE kind = 'b'")
        .bind(now - 1)
        .execute(store.sql_for_tests())
        .await
        .unwrap();
    let req = ClaimRequest { owner: "w", limit: 1, lease_ms: 60_000, per_key: 1, kinds: &kinds(&["b"]) };
    let claimed = store.claim_jobs(&req).await.unwrap();
    assert_eq!(claimed.len(), 1);
    let wake = store.next_wake(&kinds(&["b"])).await.unwrap();
    assert_eq!(wake.next_due, Some(now - 1), "the other b job is due");
    let expiry = wake.next_lease_expiry.expect("the claimed job's lease");
    assert!(expiry >= now + 60_000, "{expiry}");
    assert_eq!(wake.earliest(), Some(now - 1));
});

/// On PostgreSQL a job row another transaction holds locked is skipped, not waited for, and is claimed once free.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn on_postgres_a_claim_skips_a_job_row_locked_by_another_transaction() {
    let Some(db) = tochen_testkit::TestDb::postgres().await else { return };
    let store = db.store.clone();
    let kinds = vec!["k".to_string()];
    let mut ids = Vec::new();
    for i in 0..3 {
        let job = NewJob::untyped("k", serde_json::json!({ "i": i })).run_at(now_ms() - 1000 + i);
        ids.push(store.enqueue(&job).await.unwrap().unwrap());
    }
    // Another writer (an admin cancelling it, say) holds the oldest job's row.
    let mut other = store.sql_for_tests().begin().await.unwrap();
    sqlx::query("SELECT id FROM jobs WHERE id = $1 FOR UPDATE")
        .bind(ids[0].to_db())
        .execute(&mut *other)
        .await
        .unwrap();

    let req = ClaimRequest { owner: "w", limit: 10, lease_ms: 60_000, per_key: 1, kinds: &kinds };
    let claimed = tokio::time::timeout(std::time::Duration::from_secs(5), store.claim_jobs(&req))
        .await
        .expect("the claim does not wait for the locked row")
        .unwrap();
    assert_eq!(claimed.iter().map(|j| j.id).collect::<Vec<_>>(), ids[1..].to_vec());

    // The other writer settles the job: it is not claimed afterwards.
    sqlx::query("UPDATE jobs SET state = 'cancelled' WHERE id = $1")
        .bind(ids[0].to_db())
        .execute(&mut *other)
        .await
        .unwrap();
    other.commit().await.unwrap();
    assert!(store.claim_jobs(&req).await.unwrap().is_empty());
    assert_eq!(store.job(ids[0]).await.unwrap().unwrap().state, JobState::Cancelled);
}

store_test!(held_jobs_are_updated_by_primary_key_even_with_statistics_from_an_idle_queue, |store| {
    // A deep queue analyzed while nothing runs: the statistics every busy queue has between two ANALYZEs, which
    // made PostgreSQL plan the completion as a scan of the running index joined row by row with the batch.
    tochen_testkit::db::insert_due_noop_jobs(&store, 20_000, now_ms()).await;
    if store.backend() == tochen_store::Backend::Postgres {
        sqlx::query("ANALYZE jobs").execute(store.sql_for_tests()).await.unwrap();
    }
    let kinds = vec!["noop".to_owned()];
    let req = ClaimRequest { owner: "runner", limit: 600, lease_ms: 60_000, per_key: 1, kinds: &kinds };
    let mut held: Vec<(tochen_domain::ids::JobId, i64)> = Vec::new();
    while held.len() < 600 {
        let jobs = store.claim_jobs(&req).await.unwrap();
        assert!(!jobs.is_empty(), "the queue holds 20,000 due jobs");
        held.extend(jobs.iter().map(|j| (j.id, j.attempts)));
    }
    let [complete, extend] = store.held_job_update_plans("runner", &held[..300]).await.unwrap();
    for (what, plan) in [("the batched completion", &complete), ("a lease extension", &extend)] {
        let plan: String = plan.chars().take(600).collect();
        assert!(
            !plan.contains("jobs_lease") && !plan.contains("jobs_running_key"),
            "{what} scans running jobs:\n{plan}"
        );
        let by_key = match store.backend() {
            tochen_store::Backend::Postgres => plan.contains("jobs_pkey"),
            tochen_store::Backend::Sqlite => plan.contains("sqlite_autoindex_jobs_1"),
        };
        assert!(by_key, "{what} is not a primary-key lookup:\n{plan}");
    }

    // The grouped form matches exactly the pairs it is given: a batch mixing attempts, with one stale pair.
    let (id, attempt) = held[0];
    assert!(store.retry_job(id, attempt, "runner", now_ms() - 1, "again").await.unwrap());
    let mut again = Vec::new();
    while !again.iter().any(|(j, _): &(tochen_domain::ids::JobId, i64)| *j == id) {
        again.extend(store.claim_jobs(&req).await.unwrap().iter().map(|j| (j.id, j.attempts)));
    }
    let second = again.iter().find(|(j, _)| *j == id).copied().unwrap();
    assert_eq!(second.1, attempt + 1);
    let batch = [second, (held[1].0, held[1].1 + 1), held[2], held[3]];
    assert_eq!(store.complete_jobs("runner", &batch).await.unwrap(), 3, "the stale attempt of held[1] is left alone");
    let state = |id: tochen_domain::ids::JobId| {
        let store = store.clone();
        async move { store.job(id).await.unwrap().expect("the job exists").state }
    };
    assert_eq!(state(id).await, JobState::Succeeded);
    assert_eq!(state(held[1].0).await, JobState::Running);
    assert_eq!(state(held[2].0).await, JobState::Succeeded);
});
