//! The `account.revoke` job: revokes a disconnected account's grant at the provider and deletes the last copy of
//! its token (the work is `tochen_platforms::revoke`). A temporary failure is retried with the runner's
//! backoff; when the last attempt fails too, the token is deleted all the same, so no token outlives a disconnect.

use std::time::Duration;
use tochen_config::Config;
use tochen_domain::jobs::RevokePayload;
use tochen_platforms::http::no_redirect_client;
use tochen_platforms::revoke::{give_up, revoke, RevokeJobError};
use tochen_queue::Workers;
use tochen_queue::{JobContext, JobError, Worker};

/// Registers `account.revoke`.
pub fn register_jobs(w: &mut Workers, config: &Config) {
    let handler = RevokeHandler { config: config.clone(), http: no_redirect_client(Duration::from_secs(30)) };
    w.register::<RevokePayload, _>(handler);
}

pub struct RevokeHandler {
    pub config: Config,
    pub http: reqwest::Client,
}

#[async_trait::async_trait]
impl Worker<RevokePayload> for RevokeHandler {
    async fn work(&self, cx: &JobContext, p: RevokePayload) -> Result<(), JobError> {
        let (store, job) = (cx.store(), cx.job());
        let tenant = job.tenant_id.ok_or_else(|| JobError::permanent("an account.revoke job without a workspace"))?;
        match revoke(store, &self.config, &self.http, tenant, &p.revocation_id).await {
            Ok(_) => Ok(()),
            Err(RevokeJobError::Temporary(e)) if job.attempts >= job.max_attempts => {
                tracing::warn!(error = %e, "the provider could not be reached to revoke a token");
                give_up(store, tenant, &p.revocation_id).await?;
                Ok(())
            }
            Err(RevokeJobError::Temporary(e)) => Err(JobError::retry(e.to_string())),
            Err(RevokeJobError::Store(e)) => Err(e.into()),
        }
    }
}
