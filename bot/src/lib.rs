//! tochen-bot. Built by its own issue; until then `run` reports honestly that it is not built yet.

use tochen_core::{Config, Store};
use tokio_util::sync::CancellationToken;

/// Runs the bot until `shutdown` is cancelled.
pub async fn run(_config: Config, _store: Store, shutdown: CancellationToken) -> anyhow::Result<()> {
    tracing::warn!("the bot component is not built yet; it idles until shutdown");
    shutdown.cancelled().await;
    Ok(())
}
