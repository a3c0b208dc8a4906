//! Bulk seeding of scheduled posts for the crash test and the benchmarks: thousands of posts with one target and
//! one publish job each, written in chunks (the row-by-row path through `schedule_post` would dominate the run).
//! Values are generated ids and numbers only, so they are inlined.

use tochen_domain::ids::{AccountId, JobId, PostId, TargetId, TenantId};
use tochen_domain::Platform;
use tochen_store::Store;

pub async fn seed_posts(
    store: &Store,
    tenant: TenantId,
    accounts: &[(AccountId, Platform)],
    n: usize,
    at: impl Fn(usize) -> i64,
) -> Vec<TargetId> {
    let now = tochen_domain::clock::now_ms();
    let mut targets = Vec::with_capacity(n);
    for chunk_start in (0..n).step_by(250) {
        let (mut posts, mut rows, mut jobs) = (Vec::new(), Vec::new(), Vec::new());
        for i in chunk_start..(chunk_start + 250).min(n) {
            let (post, target) = (PostId::new(), TargetId::new());
            let (account, platform) = accounts[i % accounts.len()];
            let run_at = at(i);
            posts.push(format!(
                "('{post}', '{tenant}', 'Post {i}', 'idea {i}', 'scheduled', {run_at}, 1, {now}, {now})"
            ));
            rows.push(format!(
                "('{target}', '{tenant}', '{post}', '{account}', '{platform}', 'pending', {now}, {now})"
            ));
            jobs.push(format!(
                "('{}', '{tenant}', 'publish', '{{\"target_id\":\"{target}\"}}', {run_at}, 8, 'publish:{target}', \
                 'account:{account}', {now}, {now})",
                JobId::new()
            ));
            targets.push(target);
        }
        let mut tx = store.sql_for_tests().begin().await.unwrap();
        let statements = [
            format!(
                "INSERT INTO posts (id, tenant_id, title, idea, status, scheduled_at, version, created_at, updated_at) \
                 VALUES {}",
                posts.join(",")
            ),
            format!(
                "INSERT INTO post_targets (id, tenant_id, post_id, account_id, platform, status, created_at, updated_at) \
                 VALUES {}",
                rows.join(",")
            ),
            format!(
                "INSERT INTO jobs (id, tenant_id, kind, payload, run_at, max_attempts, unique_key, concurrency_key, \
                 created_at, updated_at) VALUES {}",
                jobs.join(",")
            ),
        ];
        for sql in statements {
            sqlx::query(&sql).execute(&mut *tx).await.unwrap();
        }
        tx.commit().await.unwrap();
    }
    store.notify_jobs_changed();
    targets
}
