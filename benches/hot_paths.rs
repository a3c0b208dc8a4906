//! Every figure of the performance issue (21) in one command, printed as its table with the targets beside them:
//!
//! ```text
//! TEST_DATABASE_URL=postgres://postgres@127.0.0.1:5432/test cargo bench --bench hot_paths
//! ```
//!
//! Each figure is the median of `HOT_PATHS_ROUNDS` (5) runs with min and max; the load average is read before
//! and after. The ingress rows load the real `tochen web` (the binary `cargo build --release` makes, as users build
//! it) and a peer written for the comparison (FastAPI + uvicorn in `benches/peer`, installed into `target/peer-venv`
//! on first use) with the same signed Meta deliveries, alternating between the two in every round so both see the
//! same machine. The other rows run the benches that measure them (`scheduler`, the bot's `bench` example,
//! `footprint`) through cargo and read their output. Without `TEST_DATABASE_URL` only SQLite is measured.
//! `HOT_PATHS_ONLY=ingress,claim,drain,bot,footprint` picks rows.

use std::collections::BTreeMap;
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};
use tochen_testkit::webhook_load::signed_meta_deliveries;
use tochen_testkit::TestDb;

const SECRET: &str = "bench-meta-secret";
const REQUESTS: usize = 5000;

/// One row of the table: what is measured, its target, and the figures of each backend.
struct Row {
    what: String,
    target: &'static str,
    values: BTreeMap<&'static str, Vec<f64>>,
}

/// The rows, in the order they are printed.
#[derive(Default)]
struct Table(Vec<Row>);

impl Table {
    fn add(&mut self, what: &str, target: &'static str, backend: &'static str, value: f64) {
        let at = match self.0.iter().position(|r| r.what == what) {
            Some(at) => at,
            None => {
                self.0.push(Row { what: what.to_owned(), target, values: BTreeMap::new() });
                self.0.len() - 1
            }
        };
        self.0[at].values.entry(backend).or_default().push(value);
    }

    fn print(&self) {
        println!("\n| what | SQLite | PostgreSQL | target |\n| --- | --- | --- | --- |");
        for Row { what, target, values } in &self.0 {
            let cell = |b: &str| values.get(b).map_or("not run".to_owned(), |v| summary(v));
            println!("| {what} | {} | {} | {target} |", cell("sqlite"), cell("postgres"));
        }
    }
}

/// `median (min-max)` of `values`, to a precision that suits their size.
fn summary(values: &[f64]) -> String {
    let mut v = values.to_vec();
    v.sort_by(f64::total_cmp);
    let fmt = |x: f64| if x >= 100.0 { format!("{x:.0}") } else { format!("{x:.2}") };
    format!("{} ({}-{}), n={}", fmt(v[v.len() / 2]), fmt(v[0]), fmt(v[v.len() - 1]), v.len())
}

fn load_average() -> String {
    std::fs::read_to_string("/proc/loadavg")
        .unwrap_or_default()
        .split_whitespace()
        .take(3)
        .collect::<Vec<_>>()
        .join(" ")
}

fn env_usize(name: &str, default: usize) -> usize {
    std::env::var(name).ok().and_then(|v| v.parse().ok()).unwrap_or(default)
}

fn free_port() -> u16 {
    std::net::TcpListener::bind("127.0.0.1:0").expect("a free port").local_addr().expect("its address").port()
}

/// The repository root (where this package's manifest is).
fn root() -> &'static str {
    env!("CARGO_MANIFEST_DIR")
}

/// Runs cargo with `args` and `envs` from the repository root; its standard output (also echoed).
fn cargo(args: &[&str], envs: &[(&str, String)]) -> String {
    let out = tochen_testkit::cargo::command()
        .args(args)
        .envs(envs.iter().map(|(k, v)| (*k, v.as_str())))
        .current_dir(root())
        .stderr(Stdio::inherit())
        .output()
        .unwrap_or_else(|e| panic!("cannot run cargo {args:?}: {e}"));
    assert!(out.status.success(), "cargo {args:?} failed");
    let text = String::from_utf8_lossy(&out.stdout).into_owned();
    print!("{text}");
    text
}

/// Every number following `prefix` up to `suffix` on lines that start with `[backend]` or `backend:`.
fn figures(text: &str, prefix: &str, suffix: &str) -> Vec<(&'static str, f64)> {
    text.lines()
        .filter_map(|line| {
            let backend = ["sqlite", "postgres"].into_iter().find(|b| {
                line.starts_with(&format!("[{b}]")) || line.starts_with(&format!("{b}:")) || line.starts_with(b)
            })?;
            let rest = &line[line.find(prefix)? + prefix.len()..];
            let number = rest[..rest.find(suffix)?].trim().replace(',', "");
            Some((backend, number.parse().ok()?))
        })
        .collect()
}

// ---- ingress: tochen web and the peer, interleaved ----

/// The peer's virtual environment, made and filled on first use.
fn peer_python() -> String {
    let venv = format!("{}/target/peer-venv", root());
    let python = format!("{venv}/bin/python");
    if !std::path::Path::new(&format!("{venv}/bin/uvicorn")).exists() {
        let ok = Command::new("python3").args(["-m", "venv", &venv]).status().is_ok_and(|s| s.success())
            && Command::new(&python)
                .args(["-m", "pip", "install", "-q", "-r", &format!("{}/benches/peer/requirements.txt", root())])
                .status()
                .is_ok_and(|s| s.success());
        assert!(ok, "cannot install the peer's packages into {venv} (python3 with venv and pip, and PyPI, are needed)");
    }
    python
}

/// Starts `tochen web` or the peer on `db`; the process and the port it serves.
fn start_server(server: &str, exe: &str, db: &TestDb, dir: &std::path::Path) -> (Child, u16) {
    let port = free_port();
    let mut cmd = match server {
        "tochen" => {
            let mut c = Command::new(exe);
            c.arg("web")
                .env("DATABASE_URL", &db.url)
                .env("TOCHEN_SECRET_KEYS", &db.key)
                .env("TOCHEN_DATA_DIR", dir)
                .env("TOCHEN_BIND", format!("127.0.0.1:{port}"))
                .env("TOCHEN_METRICS_BIND", format!("127.0.0.1:{}", free_port()))
                .env("TOCHEN_WEBHOOK_RATE_LIMIT", "1000000")
                .env("RUST_LOG", "warn")
                .env("META_APP_ID", "bench-app");
            c
        }
        _ => {
            let mut c = Command::new(peer_python());
            c.args(["-m", "uvicorn", "app:app", "--app-dir", &format!("{}/benches/peer", root())])
                .args(["--host", "127.0.0.1", "--port", &port.to_string(), "--workers", "1"])
                .args(["--log-level", "warning", "--no-access-log"])
                .env("PEER_DATABASE_URL", &db.url)
                .env("PYTHONDONTWRITEBYTECODE", "1");
            c
        }
    };
    let child = cmd
        .env("META_APP_SECRET", SECRET)
        .current_dir(dir)
        .stdout(Stdio::null())
        .stderr(Stdio::inherit())
        .spawn()
        .unwrap_or_else(|e| panic!("cannot start {server}: {e}"));
    (child, port)
}

async fn ingress(table: &mut Table, rounds: usize, postgres: bool) {
    let http = reqwest::Client::builder().pool_max_idle_per_host(64).build().expect("client");
    let exe = tochen_testkit::cargo::release_binary("tochen");
    let backends: &[&'static str] = if postgres { &["sqlite", "postgres"] } else { &["sqlite"] };
    for round in 0..rounds {
        for &backend in backends {
            for server in ["tochen", "peer"] {
                let db = match backend {
                    "sqlite" => TestDb::sqlite().await,
                    _ => TestDb::postgres().await.expect("TEST_DATABASE_URL"),
                };
                let dir = tempfile::tempdir().expect("temp dir");
                let (mut child, port) = start_server(server, &exe, &db, dir.path());
                let up = Instant::now();
                while !http.get(format!("http://127.0.0.1:{port}/health")).send().await.is_ok_and(|r| r.status() != 404)
                {
                    assert!(child.try_wait().expect("wait").is_none(), "{server} exited at start-up");
                    assert!(up.elapsed() < Duration::from_secs(60), "{server} did not start");
                    tokio::time::sleep(Duration::from_millis(50)).await;
                }
                for concurrency in [32, 8] {
                    let url = format!("http://127.0.0.1:{port}/webhooks/meta");
                    let tag = format!("r{round}c{concurrency}");
                    let load = signed_meta_deliveries(&http, &url, SECRET, REQUESTS, concurrency, &tag).await;
                    let (rps, p99) = (load.per_second, load.quantile(0.99).as_secs_f64() * 1000.0);
                    println!(
                        "[{backend}] {server} round {} concurrency {concurrency}: {rps:.0} req/s, p99 {p99:.2} ms (load {})",
                        round + 1,
                        load_average()
                    );
                    let who = if server == "tochen" { "tochen" } else { "FastAPI + uvicorn peer" };
                    table.add(
                        &format!("signed Meta webhooks, {who}, concurrency {concurrency}: req/s"),
                        if server == "tochen" && concurrency == 32 { ">= 6,000" } else { "" },
                        backend,
                        rps,
                    );
                    table.add(
                        &format!("signed Meta webhooks, {who}, concurrency {concurrency}: p99 ms"),
                        if server == "tochen" && concurrency == 8 { "< 10" } else { "" },
                        backend,
                        p99,
                    );
                }
                let _ = child.kill();
                let _ = child.wait();
                db.cleanup().await;
            }
        }
    }
}

// ---- the rows other benches measure ----

/// The claim and drain rows: `scheduler`'s `throughput` or `drain` part, once per round.
fn scheduler_rows(table: &mut Table, part: &str, rounds: usize, pg: &[(&str, String)]) {
    let (what, target, suffix) = match part {
        "throughput" => {
            ("claim-and-complete, 20,000 no-op jobs: jobs/s", ">= 20,000 SQLite, >= 10,000 PostgreSQL", "jobs/s")
        }
        _ => ("drain of 10,000 posts at 50 ms, concurrency 32: x the ideal", "<= 1.1", "x"),
    };
    for _ in 0..rounds {
        let mut envs = pg.to_vec();
        envs.push(("BENCH_ONLY", part.into()));
        let out = cargo(&["bench", "-q", "-p", "tochen-scheduler", "--bench", "scheduler"], &envs);
        for (backend, v) in figures(&out, "s = ", suffix) {
            table.add(what, target, backend, v);
        }
    }
}

fn bot_rows(table: &mut Table, rounds: usize, pg: &[(&str, String)]) {
    for _ in 0..rounds {
        // 500 people talking at once, two rounds of `/profile` (5,000 updates): with fewer, one chat's pace (its
        // updates handled in order) bounds the run, not the handling.
        let args = ["run", "-q", "--release", "-p", "tochen-bot", "--example", "bench", "--", "500", "2"];
        let out = cargo(&args, pg);
        for (backend, v) in figures(&out, "s = ", "updates/s") {
            table.add(
                "bot updates with persisted state, 500 people: updates/s",
                ">= 2,000 SQLite, >= 1,000 PostgreSQL",
                backend,
                v,
            );
        }
    }
}

fn footprint_rows(table: &mut Table, rounds: usize, pg: &[(&str, String)]) {
    let mut envs = pg.to_vec();
    envs.push(("FOOTPRINT_ROUNDS", rounds.to_string()));
    let out = cargo(&["bench", "-q", "--bench", "footprint"], &envs);
    for (backend, v) in figures(&out, "restart ready s=", ";") {
        table.add("`tochen run` start to ready (restart): s", "<= 0.2", backend, v);
    }
    for (backend, v) in figures(&out, "idle VmRSS MiB=", ";") {
        table.add("`tochen run` idle RSS: MiB", "<= 20", backend, v);
    }
}

fn main() {
    if std::env::args().any(|a| a == "--list") {
        return;
    }
    let rounds = env_usize("HOT_PATHS_ROUNDS", 5);
    let only = std::env::var("HOT_PATHS_ONLY").unwrap_or_default();
    let wanted = |row: &str| only.is_empty() || only.split(',').any(|o| o.trim() == row);
    let pg_url = std::env::var("TEST_DATABASE_URL").ok().filter(|u| !u.is_empty());
    let pg: Vec<(&str, String)> = pg_url.iter().map(|u| ("TEST_DATABASE_URL", u.clone())).collect();
    let commit = Command::new("git")
        .args(["rev-parse", "--short", "HEAD"])
        .current_dir(root())
        .output()
        .map(|o| String::from_utf8_lossy(&o.stdout).trim().to_owned())
        .unwrap_or_default();
    let before = load_average();
    let started = Instant::now();
    let mut table = Table::default();
    if wanted("ingress") {
        let rt = tokio::runtime::Builder::new_multi_thread().worker_threads(2).enable_all().build().expect("runtime");
        rt.block_on(ingress(&mut table, rounds, pg_url.is_some()));
    }
    if wanted("claim") {
        scheduler_rows(&mut table, "throughput", rounds, &pg);
    }
    if wanted("drain") {
        scheduler_rows(&mut table, "drain", rounds, &pg);
    }
    if wanted("bot") {
        bot_rows(&mut table, rounds, &pg);
    }
    if wanted("footprint") {
        footprint_rows(&mut table, rounds, &pg);
    }
    println!(
        "\nissue 21 hot paths at {commit}, median (min-max) of {rounds} rounds; load average {before} before, {} after; {:.0} s",
        load_average(),
        started.elapsed().as_secs_f64()
    );
    table.print();
}
