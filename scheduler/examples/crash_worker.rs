//! The crash test's scheduler process, runnable by hand: the real runner and handlers publishing to a counting
//! fake platform over HTTP (see `tests/it/common/worker.rs` for its environment variables).

#[path = "../tests/it/common/worker.rs"]
mod worker;

#[tokio::main]
async fn main() -> anyhow::Result<()> {
    worker::run_worker_from_env().await
}
