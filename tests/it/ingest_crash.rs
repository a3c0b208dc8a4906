//! The group commit of webhook events under SIGKILL: the real `tochen web` takes signed Meta deliveries from 32
//! concurrent senders, its group commits are seen on `/metrics` holding several events each, and the process is
//! killed mid-load, three times per database. Every delivery answered 200 must then be stored with its
//! `webhook.event` job, and no stored event may lack its job: nothing is acknowledged before the commit that holds
//! it, and a group is committed whole or not at all.

use std::collections::HashSet;
use std::process::{Child, Command, Stdio};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};
use tochen_testkit::fake_graph::sign_meta_webhook;
use tochen_testkit::TestDb;

const SECRET: &str = "crash-meta-secret";
const SENDERS: usize = 32;

fn free_port() -> u16 {
    std::net::TcpListener::bind("127.0.0.1:0").unwrap().local_addr().unwrap().port()
}

fn spawn_web(db: &TestDb, dir: &std::path::Path, port: u16, metrics_port: u16) -> Child {
    Command::new(env!("CARGO_BIN_EXE_tochen"))
        .arg("web")
        .current_dir(dir)
        .env_clear()
        .env("PATH", std::env::var("PATH").unwrap_or_default())
        .env("DATABASE_URL", &db.url)
        .env("TOCHEN_SECRET_KEYS", &db.key)
        .env("TOCHEN_DATA_DIR", dir)
        .env("TOCHEN_BIND", format!("127.0.0.1:{port}"))
        .env("TOCHEN_METRICS_BIND", format!("127.0.0.1:{metrics_port}"))
        .env("TOCHEN_WEBHOOK_RATE_LIMIT", "1000000")
        .env("META_APP_ID", "crash-app")
        .env("META_APP_SECRET", SECRET)
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .expect("start tochen web")
}

/// `(group commits, events they held)` from the metrics listener, zero before the first.
async fn group_commits(http: &reqwest::Client, metrics_port: u16) -> (u64, u64) {
    let Ok(resp) = http.get(format!("http://127.0.0.1:{metrics_port}/metrics")).send().await else { return (0, 0) };
    let text = resp.text().await.unwrap_or_default();
    let value = |name: &str| {
        text.lines()
            .find_map(|l| l.strip_prefix(name).and_then(|v| v.trim().parse::<f64>().ok()))
            .map_or(0, |v| v as u64)
    };
    (value("tochen_webhook_group_commits_total "), value("tochen_webhook_group_commit_events_total "))
}

/// One round: start, wait until ready, send until group commits hold several events each and 300 deliveries
/// were acknowledged, SIGKILL with deliveries in flight. Returns the acknowledged bodies.
async fn load_and_kill(db: &TestDb, round: usize) -> Vec<String> {
    let dir = tempfile::tempdir().unwrap();
    let (port, metrics_port) = (free_port(), free_port());
    let mut child = spawn_web(db, dir.path(), port, metrics_port);
    let http = reqwest::Client::builder().timeout(Duration::from_secs(10)).build().unwrap();
    let url = format!("http://127.0.0.1:{port}/webhooks/meta");
    let up = Instant::now();
    while !http.get(format!("http://127.0.0.1:{port}/ready")).send().await.is_ok_and(|r| r.status() == 200) {
        assert!(child.try_wait().unwrap().is_none(), "tochen web exited at start-up");
        assert!(up.elapsed() < Duration::from_secs(30), "tochen web did not become ready");
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    let acked = Arc::new(Mutex::new(Vec::new()));
    let killed = Arc::new(AtomicBool::new(false));
    let senders: Vec<_> = (0..SENDERS)
        .map(|sender| {
            let (http, url, acked, killed) = (http.clone(), url.clone(), acked.clone(), killed.clone());
            tokio::spawn(async move {
                for i in 0.. {
                    if killed.load(Ordering::SeqCst) {
                        break;
                    }
                    let body = format!(
                        r#"{{"object":"page","entry":[{{"id":"1","time":{i},"changes":[{{"field":"feed","value":{{"item":"comment","verb":"add","comment_id":"r{round}s{sender}i{i}","post_id":"1_1"}}}}]}}]}}"#
                    );
                    let sent = http
                        .post(&url)
                        .header("content-type", "application/json")
                        .header("x-hub-signature-256", sign_meta_webhook(SECRET, body.as_bytes()))
                        .body(body.clone())
                        .send()
                        .await;
                    match sent {
                        Ok(resp) if resp.status() == 200 => acked.lock().unwrap().push(body),
                        Ok(resp) => panic!("a signed delivery was refused with {}", resp.status()),
                        Err(_) => break, // the process is gone
                    }
                }
            })
        })
        .collect();
    let loaded = Instant::now();
    loop {
        let (groups, events) = group_commits(&http, metrics_port).await;
        let acks = acked.lock().unwrap().len();
        if acks >= 300 && events >= groups + 50 {
            break;
        }
        assert!(loaded.elapsed() < Duration::from_secs(60), "no group commits seen: {groups} groups, {events} events");
        tokio::time::sleep(Duration::from_millis(10)).await;
    }
    let at_kill = group_commits(&http, metrics_port).await;
    let acks = acked.lock().unwrap().len();
    eprintln!("round {round}: {acks} acknowledged, {at_kill:?} (group commits, events) before the kill");
    child.kill().unwrap(); // SIGKILL, with the senders' deliveries in flight
    killed.store(true, Ordering::SeqCst);
    child.wait().unwrap();
    for s in senders {
        s.await.unwrap();
    }
    let acked = acked.lock().unwrap().clone();
    acked
}

async fn every_acknowledged_delivery_survives(db: TestDb) {
    let mut acked = Vec::new();
    for round in 0..3 {
        acked.extend(load_and_kill(&db, round).await);
    }
    let pool = db.store.sql_for_tests();
    let stored: Vec<(String,)> = sqlx::query_as(
        "SELECT e.payload FROM webhook_events e JOIN jobs j ON j.unique_key = 'webhook.event:' || e.id \
         WHERE e.source = 'meta' AND j.kind = 'webhook.event'",
    )
    .fetch_all(pool)
    .await
    .unwrap();
    let stored: HashSet<String> = stored.into_iter().map(|(p,)| p).collect();
    let lost: Vec<&String> = acked.iter().filter(|body| !stored.contains(*body)).collect();
    assert!(
        lost.is_empty(),
        "{} of {} acknowledged deliveries were lost, e.g. {:?}",
        lost.len(),
        acked.len(),
        lost.first()
    );
    let (without_job,): (i64,) = sqlx::query_as(
        "SELECT COUNT(*) FROM webhook_events e WHERE NOT EXISTS \
         (SELECT 1 FROM jobs j WHERE j.unique_key = 'webhook.event:' || e.id)",
    )
    .fetch_one(pool)
    .await
    .unwrap();
    assert_eq!(without_job, 0, "an event was stored without its job");
    assert!(stored.len() >= acked.len());
    db.cleanup().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn killed_during_group_commits_sqlite() {
    every_acknowledged_delivery_survives(TestDb::sqlite().await).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn killed_during_group_commits_postgres() {
    let Some(db) = TestDb::postgres().await else { return };
    every_acknowledged_delivery_survives(db).await;
}
