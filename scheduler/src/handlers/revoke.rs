//! The `account.revoke` job: revokes a disconnected account's grant at the provider and deletes the last copy of
//! its token (the work is `tochen_platforms::revoke`). A temporary failure is retried with the runner's
//! backoff; when the last attempt fails too, the token is deleted all the same, so no token outlives a disconnect.

use crate::error::JobError;
use crate::runner::{Handlers, JobHandler};
use std::sync::Arc;
use std::time::Duration;
use tochen_config::Config;
use tochen_domain::jobs::{RevokePayload, ACCOUNT_REVOKE};
use tochen_platforms::http::no_redirect_client;
use tochen_platforms::revoke::{give_up, revoke, RevokeJobError};
use tochen_store::Job;
use tochen_store::Store;

/// Registers `account.revoke`.
pub fn register_jobs(h: &mut Handlers, config: &Config) {
    let handler = RevokeHandler { config: config.clone(), http: no_redirect_client(Duration::from_secs(30)) };
    h.register(ACCOUNT_REVOKE, Arc::new(handler));
}

pub struct RevokeHandler {
    pub config: Config,
    pub http: reqwest::Client,
}

#[async_trait::async_trait]
impl JobHandler for RevokeHandler {
    async fn run(&self, store: &Store, job: &Job) -> Result<(), JobError> {
        let tenant = job.tenant_id.ok_or_else(|| JobError::permanent("an account.revoke job without a workspace"))?;
        let p: RevokePayload = serde_json::from_value(job.payload.clone())
            .map_err(|e| JobError::permanent(format!("bad account.revoke payload: {e}")))?;
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
