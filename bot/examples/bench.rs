//! Benchmark: updates per second through the real dispatcher, with dialogue state persisted in the database,
//! against the fake Bot API (127.0.0.1). Each person walks `/profile` (summary + five answers), so every update
//! loads the person, their workspace and role and their dialogue state, writes the profile and the next state,
//! and sends one or two messages.
//!
//! Run: `CARGO_TARGET_DIR=/work/target-bot cargo run --release -p tochen-bot --example bench -- [users] [rounds]`
//! (add `TEST_DATABASE_URL=postgres://...` to also run on PostgreSQL). Sending limits are raised so the numbers
//! show handling cost, not Telegram's 30 messages per second.

use std::collections::HashMap;
use std::time::{Duration, Instant};
use tochen_bot::Limits;
use tochen_config::Config;
use tochen_store::{TelegramIdentity, TenantProfile};
use tochen_testkit::fake_llm::FakeLlm;
use tochen_testkit::fake_telegram::FakeTelegram;
use tochen_testkit::TestDb;
use tokio_util::sync::CancellationToken;

fn rss_kib(field: &str) -> u64 {
    std::fs::read_to_string("/proc/self/status")
        .ok()
        .and_then(|s| s.lines().find(|l| l.starts_with(field)).and_then(|l| l.split_whitespace().nth(1)?.parse().ok()))
        .unwrap_or(0)
}

async fn run(label: &str, db: TestDb, users: i64, rounds: usize) {
    let tg = FakeTelegram::start().await;
    let llm = FakeLlm::start().await;
    let dir = tempfile::tempdir().unwrap();
    let vars: HashMap<String, String> = [
        ("TELEGRAM_BOT_TOKEN", tg.token.clone()),
        ("TELEGRAM_API_URL", tg.api_url.clone()),
        ("DATABASE_URL", db.url.clone()),
        ("TOCHEN_SECRET_KEYS", db.key.clone()),
        ("TOCHEN_DATA_DIR", dir.path().display().to_string()),
        ("LLM_PROVIDER", "openai_compatible".into()),
        ("LLM_BASE_URL", llm.base_url.clone()),
    ]
    .into_iter()
    .map(|(k, v)| (k.to_owned(), v))
    .collect();
    let config = Config::from_source(&vars).unwrap();
    let profile = TenantProfile {
        business_description: String::new(),
        target_audience: String::new(),
        tone: "friendly".into(),
        language: "en".into(),
        timezone: "UTC".into(),
    };
    for u in 0..users {
        let id = 10_000 + u;
        let who = TelegramIdentity {
            telegram_id: id,
            username: None,
            first_name: format!("U{u}"),
            last_name: None,
            language_code: Some("en".into()),
        };
        let user = db.store.upsert_user(&who).await.unwrap();
        db.store.create_tenant(&format!("W{u}"), &profile, 0, user.id).await.unwrap();
    }
    let shutdown = CancellationToken::new();
    let options = tochen_bot::Options {
        limits: Limits {
            messages_per_sec_chat: 1_000_000,
            messages_per_min_chat: 1_000_000,
            messages_per_min_channel_or_supergroup: 1_000_000,
            messages_per_sec_overall: 1_000_000,
        },
        llm_backoff: Duration::from_millis(5),
        ..Default::default()
    };
    let mark = tg.mark();
    let bot = tokio::spawn(tochen_bot::run_with(config, db.store.clone(), shutdown.clone(), options));
    tg.wait_call(mark, |c| c.method == "getupdates").await;

    let rss_before = rss_kib("VmRSS:");
    let mark = tg.mark();
    let started = Instant::now();
    let answers = ["/profile", "We roast coffee", "Locals and tourists", "warm", "Europe/Lisbon"];
    for _ in 0..rounds {
        for a in answers {
            for u in 0..users {
                tg.send_text(10_000 + u, a);
            }
        }
    }
    let updates = users as usize * rounds * answers.len();
    let expected = users as usize * rounds * (answers.len() + 1);
    loop {
        if tg.count(mark, "sendmessage") >= expected {
            break;
        }
        assert!(started.elapsed() < Duration::from_secs(600), "bench did not finish");
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    let secs = started.elapsed().as_secs_f64();
    println!(
        "{label}: {updates} updates ({users} people x {rounds} rounds x 5) in {secs:.2} s = {:.0} updates/s; \
         RSS {} MiB before, {} MiB after, peak {} MiB",
        updates as f64 / secs,
        rss_before / 1024,
        rss_kib("VmRSS:") / 1024,
        rss_kib("VmHWM:") / 1024
    );
    shutdown.cancel();
    let _ = bot.await;
    db.cleanup().await;
}

#[tokio::main(flavor = "multi_thread")]
async fn main() {
    let args: Vec<String> = std::env::args().collect();
    let users: i64 = args.get(1).and_then(|s| s.parse().ok()).unwrap_or(50);
    let rounds: usize = args.get(2).and_then(|s| s.parse().ok()).unwrap_or(4);
    run("sqlite", TestDb::sqlite().await, users, rounds).await;
    if let Some(db) = TestDb::postgres().await {
        run("postgres", db, users, rounds).await;
    }
}
