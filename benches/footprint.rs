//! `tochen run` start-up time and idle memory (issue 21): the binary users run, built by `cargo build --release
//! --bin tochen` (which this bench runs first; not the bench profile's build, whose dependencies are built with the
//! features the dev-dependencies add, so its symbols differ from `link-order.txt`'s), against a fake Bot API on
//! loopback, on a SQLite file (and on PostgreSQL when `TEST_DATABASE_URL` is set). `FOOTPRINT_BIN` names another
//! binary to measure instead.
//!
//! Each round starts the binary and measures until it is ready: `/health` answers 200 (database reachable, the
//! scheduler's first heartbeat written) and the bot asks the fake Bot API for updates. A round on a new database
//! (migrations applied) and one on the same database again (a restart) are timed apart. After
//! `FOOTPRINT_IDLE_SECS` (default 10) of idling, the process's resident memory is read from `/proc`: VmRSS and
//! where it lies (`smaps`: the binary's own pages, the heap and anonymous mappings, thread stacks, shared
//! libraries). Prints the median of `FOOTPRINT_ROUNDS` (default 5) with min and max, and the load average.
//!
//! ```text
//! cargo bench --bench footprint                    # FOOTPRINT_ROUNDS=5 FOOTPRINT_IDLE_SECS=10
//! ```
//!
//! It also reports how many of `link-order.txt`'s functions the binary has: the file lists the functions start-up
//! and idling run, by their symbols, so that the linker puts them side by side (see `benches/link-order.sh`).

use std::collections::BTreeMap;
use std::net::TcpListener;
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};
use tochen_testkit::fake_telegram::FakeTelegram;

fn env_or(name: &str, default: u64) -> u64 {
    std::env::var(name).ok().and_then(|v| v.parse().ok()).unwrap_or(default)
}

fn free_port() -> u16 {
    TcpListener::bind("127.0.0.1:0").unwrap().local_addr().unwrap().port()
}

fn load() -> String {
    std::fs::read_to_string("/proc/loadavg")
        .map(|s| s.split_whitespace().take(3).collect::<Vec<_>>().join(" "))
        .unwrap_or_default()
}

/// Resident KiB of `pid` by kind of mapping, from `/proc/<pid>/smaps`.
fn resident(pid: u32, exe: &str) -> BTreeMap<&'static str, u64> {
    let smaps = std::fs::read_to_string(format!("/proc/{pid}/smaps")).unwrap_or_default();
    let mut out = BTreeMap::new();
    let mut kind = "anonymous";
    for line in smaps.lines() {
        let first = line.split_whitespace().next().unwrap_or_default();
        if first.contains('-') && first.chars().next().is_some_and(|c| c.is_ascii_hexdigit()) {
            let path = line.split_whitespace().nth(5).unwrap_or_default();
            kind = match path {
                "" => "anonymous (heap arenas, thread stacks)",
                "[heap]" => "[heap] (main arena)",
                "[stack]" => "[stack]",
                p if p == exe => "the binary",
                p if p.contains(".so") => "shared libraries",
                _ => "other",
            };
        } else if let Some(kb) = line.strip_prefix("Rss:") {
            *out.entry(kind).or_insert(0) += kb.trim().trim_end_matches("kB").trim().parse::<u64>().unwrap_or(0);
        }
    }
    out
}

fn vm_rss_kib(pid: u32) -> u64 {
    std::fs::read_to_string(format!("/proc/{pid}/status"))
        .ok()
        .and_then(|s| {
            s.lines().find(|l| l.starts_with("VmRSS:")).and_then(|l| l.split_whitespace().nth(1)?.parse().ok())
        })
        .unwrap_or(0)
}

fn threads(pid: u32) -> usize {
    std::fs::read_dir(format!("/proc/{pid}/task")).map(|d| d.count()).unwrap_or(0)
}

struct Round {
    ready: Duration,
    rss_kib: u64,
    by_kind: BTreeMap<&'static str, u64>,
    threads: usize,
}

/// The release binary, built now (or `FOOTPRINT_BIN`).
fn release_binary() -> String {
    std::env::var("FOOTPRINT_BIN").unwrap_or_else(|_| tochen_testkit::cargo::release_binary("tochen"))
}

/// How many of the symbols `link-order.txt` lists the binary defines (the rest are from another build).
fn link_order_matches(exe: &str) -> Option<(usize, usize)> {
    let listed = std::fs::read_to_string(concat!(env!("CARGO_MANIFEST_DIR"), "/link-order.txt")).ok()?;
    let nm = Command::new("nm").args(["--defined-only", exe]).output().ok()?;
    let defined: std::collections::HashSet<&str> =
        std::str::from_utf8(&nm.stdout).ok()?.lines().filter_map(|l| l.split_whitespace().nth(2)).collect();
    let listed: Vec<&str> = listed.lines().filter(|l| !l.is_empty()).collect();
    Some((listed.iter().filter(|s| defined.contains(*s)).count(), listed.len()))
}

async fn start(tg: &FakeTelegram, exe: &str, database_url: &str, data_dir: &std::path::Path, idle: Duration) -> Round {
    let port = free_port();
    let mark = tg.mark();
    let started = Instant::now();
    // `FOOTPRINT_WRAPPER` runs the binary under another program (`benches/link-order.sh` uses callgrind).
    let wrapper = std::env::var("FOOTPRINT_WRAPPER").unwrap_or_default();
    let mut words = wrapper.split_whitespace().chain([exe]);
    let mut child: Child = Command::new(words.next().expect("a program to run"))
        .args(words)
        .arg("run")
        .env_clear()
        .env("PATH", std::env::var("PATH").unwrap_or_default())
        .env("TELEGRAM_BOT_TOKEN", &tg.token)
        .env("TELEGRAM_API_URL", &tg.api_url)
        .env("DATABASE_URL", database_url)
        .env("TOCHEN_DATA_DIR", data_dir)
        .env("TOCHEN_BIND", format!("127.0.0.1:{port}"))
        .env("TOCHEN_METRICS_BIND", format!("127.0.0.1:{}", free_port()))
        .env("RUST_LOG", "warn")
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .expect("tochen starts");
    let http = reqwest::Client::new();
    let health = format!("http://127.0.0.1:{port}/health");
    let deadline = Instant::now() + Duration::from_secs(60);
    loop {
        let healthy = matches!(http.get(&health).send().await, Ok(r) if r.status() == 200);
        let polling = tg.count(mark, "getupdates") > 0;
        if healthy && polling {
            break;
        }
        assert!(Instant::now() < deadline, "tochen did not become ready in 60 s");
        assert!(child.try_wait().unwrap().is_none(), "tochen exited during start-up");
        tokio::time::sleep(Duration::from_millis(2)).await;
    }
    let ready = started.elapsed();
    tokio::time::sleep(idle).await;
    let pid = child.id();
    let round = Round { ready, rss_kib: vm_rss_kib(pid), by_kind: resident(pid, exe), threads: threads(pid) };
    let _ = Command::new("kill").args(["-TERM", &pid.to_string()]).status();
    let stopped = Instant::now();
    while child.try_wait().unwrap().is_none() {
        if stopped.elapsed() > Duration::from_secs(30) {
            let _ = child.kill();
        }
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    round
}

fn stats(mut v: Vec<f64>) -> String {
    v.sort_by(|a, b| a.partial_cmp(b).unwrap());
    format!("{:.3} ({:.3}-{:.3})", v[v.len() / 2], v[0], v[v.len() - 1])
}

async fn measure(label: &str, tg: &FakeTelegram, exe: &str, url_for: impl Fn(usize) -> (String, Option<String>)) {
    let rounds = env_or("FOOTPRINT_ROUNDS", 5) as usize;
    let idle = Duration::from_secs(env_or("FOOTPRINT_IDLE_SECS", 10));
    let (mut first, mut again, mut rss) = (Vec::new(), Vec::new(), Vec::new());
    let mut kinds: BTreeMap<&'static str, Vec<f64>> = BTreeMap::new();
    let mut thread_counts = Vec::new();
    let load_before = load();
    for i in 0..rounds {
        let dir = tempfile::tempdir().unwrap();
        let (url, drop_db) = url_for(i);
        let url = url.replace("{dir}", &dir.path().display().to_string());
        let a = start(tg, exe, &url, dir.path(), Duration::from_millis(100)).await;
        let b = start(tg, exe, &url, dir.path(), idle).await;
        // One line per round, for `cargo bench --bench hot_paths`, which takes the median itself.
        println!(
            "[{label}] round {}: restart ready s={:.3}; idle VmRSS MiB={:.1};",
            i + 1,
            b.ready.as_secs_f64(),
            b.rss_kib as f64 / 1024.0
        );
        first.push(a.ready.as_secs_f64());
        again.push(b.ready.as_secs_f64());
        rss.push(b.rss_kib as f64 / 1024.0);
        thread_counts.push(b.threads as f64);
        for (k, v) in b.by_kind {
            kinds.entry(k).or_default().push(v as f64 / 1024.0);
        }
        if let Some(name) = drop_db {
            if let Ok(admin) = std::env::var("TEST_DATABASE_URL") {
                tochen_testkit::db::drop_database(&admin, &name).await;
            }
        }
    }
    println!(
        "[{label}] {rounds} rounds, idle {} s; load average before {load_before}, after {}",
        idle.as_secs(),
        load()
    );
    println!("[{label}] start to ready, new database (migrations): {} s", stats(first));
    println!("[{label}] start to ready, restart: {} s", stats(again));
    println!("[{label}] idle VmRSS: {} MiB, threads {}", stats(rss), stats(thread_counts));
    for (k, v) in kinds {
        println!("[{label}]     {k}: {} MiB", stats(v));
    }
}

#[tokio::main(flavor = "multi_thread", worker_threads = 2)]
async fn main() {
    let exe = release_binary();
    match link_order_matches(&exe) {
        Some((found, listed)) => println!("link-order.txt: the binary defines {found} of its {listed} symbols"),
        None => println!("link-order.txt: not checked (no file, or no `nm`)"),
    }
    let tg = FakeTelegram::start().await;
    measure("sqlite", &tg, &exe, |_| ("sqlite://{dir}/tochen.db".to_owned(), None)).await;
    if let Ok(admin) = std::env::var("TEST_DATABASE_URL") {
        let mut urls = Vec::new();
        for _ in 0..env_or("FOOTPRINT_ROUNDS", 5) {
            let name = format!("tochen_fp_{}", uuid::Uuid::new_v4().simple());
            urls.push((tochen_testkit::db::create_database(&admin, &name).await, Some(name)));
        }
        measure("postgres", &tg, &exe, |i| urls[i].clone()).await;
    }
}
