//! Crash test: real scheduler processes (this test binary re-run as `crash_worker_entry`, see `common/worker.rs`) publish 5,000 posts due within a few seconds
//! to a fake platform that counts every publish, while one process is killed with SIGKILL again and again.
//! Every post must end up published exactly once or marked `unknown` (its request was in flight when its process
//! died); none may be lost and none published twice.
//!
//! PostgreSQL: three processes, one killed and restarted four times. SQLite: one process, killed and restarted
//! mid-run. `CRASH_POSTS` overrides the number of posts.

use crate::common;

use common::seed::seed_posts;
use common::*;
use std::collections::HashMap;
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};
use tochen_domain::clock::now_ms;
use tochen_domain::ids::TargetId;
use tochen_domain::{Platform, TargetStatus};
use tochen_testkit::fake_platform::CountingPlatform;
use tochen_testkit::TestDb;

/// The worker process is this test binary itself, running only [`crash_worker_entry`]: no separate build step.
fn spawn_worker(db: &TestDb, platform: &str) -> Child {
    Command::new(std::env::current_exe().unwrap())
        .args(["--exact", "crash::crash_worker_entry", "--nocapture", "--test-threads=1"])
        .env(WORKER_FLAG, "1")
        .env("WORKER_DATABASE_URL", &db.url)
        .env("WORKER_SECRET_KEY", &db.key)
        .env("WORKER_PLATFORM_URL", platform)
        .env("WORKER_CONCURRENCY", "16")
        .env("WORKER_LEASE_MS", "2000")
        .stdout(Stdio::null())
        .stderr(Stdio::inherit())
        .spawn()
        .expect("start the worker")
}

const WORKER_FLAG: &str = "TOCHEN_CRASH_WORKER";

/// Not a test of its own: the entry point of the worker processes the crash tests spawn.
#[test]
fn crash_worker_entry() {
    if std::env::var(WORKER_FLAG).is_err() {
        return;
    }
    let rt = tokio::runtime::Builder::new_multi_thread().enable_all().build().unwrap();
    rt.block_on(common::worker::run_worker_from_env()).unwrap();
}

fn posts() -> usize {
    std::env::var("CRASH_POSTS").ok().and_then(|v| v.parse().ok()).unwrap_or(5000)
}

/// The two runs share two cores; running them one after the other keeps each one's timing meaningful.
static SERIAL: tokio::sync::Mutex<()> = tokio::sync::Mutex::const_new(());

async fn crash_run(db: TestDb, processes: usize, kills: usize) {
    let _serial = SERIAL.lock().await;
    let store = db.store.clone();
    let tenant = workspace(&store).await;
    let platforms = [Platform::Facebook, Platform::Instagram, Platform::TikTok];
    let mut accounts = Vec::new();
    for i in 0..60 {
        let p = platforms[i % 3];
        accounts.push((account(&store, tenant, p, &format!("acct-{i}")).await, p));
    }
    let fake = CountingPlatform::start(Duration::from_millis(5)).await;
    let n = posts();
    let start = now_ms() + 2000;
    let targets: Vec<TargetId> =
        seed_posts(&store, tenant, &accounts, n, |i| start + (i as i64 * 3000 / n as i64)).await;

    let mut workers: Vec<Child> = (0..processes).map(|_| spawn_worker(&db, &fake.url)).collect();
    let began = Instant::now();
    for k in 0..kills {
        tokio::time::sleep(Duration::from_millis(if k == 0 { 2800 } else { 1500 })).await;
        let victim = k % workers.len();
        workers[victim].kill().expect("SIGKILL the worker");
        workers[victim].wait().ok();
        eprintln!("killed worker {victim} at {:?}, published so far {}", began.elapsed(), fake.total());
        tokio::time::sleep(Duration::from_millis(300)).await;
        workers[victim] = spawn_worker(&db, &fake.url);
    }

    let deadline = Instant::now() + Duration::from_secs(100);
    loop {
        let counts: HashMap<TargetStatus, i64> = store.target_status_counts().await.unwrap().into_iter().collect();
        let settled =
            counts.get(&TargetStatus::Published).unwrap_or(&0) + counts.get(&TargetStatus::Unknown).unwrap_or(&0);
        if settled as usize == n {
            break;
        }
        assert!(Instant::now() < deadline, "not settled in time: {counts:?}");
        tokio::time::sleep(Duration::from_millis(250)).await;
    }
    for w in &mut workers {
        w.kill().ok();
        w.wait().ok();
    }

    let published_on_platform = fake.counts();
    let (mut published, mut unknown) = (0, 0);
    for t in &targets {
        let target = store.target(tenant, *t).await.unwrap();
        let calls = published_on_platform.get(&t.to_string()).copied().unwrap_or(0);
        assert!(calls <= 1, "target {t} was published {calls} times");
        match target.status {
            TargetStatus::Published => {
                assert_eq!(calls, 1, "target {t} is marked published but the platform never saw it");
                published += 1;
            }
            TargetStatus::Unknown => unknown += 1,
            other => panic!("target {t} ended {other}"),
        }
    }
    eprintln!(
        "{n} posts, {processes} process(es), {kills} kill(s): {published} published, {unknown} unknown, {:?}",
        began.elapsed()
    );
    assert_eq!(published + unknown, n);
    assert!(unknown <= kills * 16 * 2, "at most the in-flight requests of killed processes are unknown: {unknown}");
    db.cleanup().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn three_postgres_processes_survive_repeated_sigkill_without_losing_or_duplicating_a_post() {
    let Some(db) = TestDb::postgres().await else { return };
    crash_run(db, 3, 4).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn one_sqlite_process_restarted_mid_run_loses_and_duplicates_nothing() {
    let db = TestDb::sqlite().await;
    crash_run(db, 1, 1).await;
}
