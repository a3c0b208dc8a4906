//! The ad insights jobs: `ads.sync` (one ad account, one range of days, every level; the work is
//! `tochen_delivery::ads_sync`) and `sweep.ads` (the daily incremental sync of every valid ad account).
//!
//! A rate-limited account is retried after the platform's pause (the job's range is read whole again, so no day
//! is lost); a refused token has already marked the ad account invalid and told the admins, so the job stops.

use chrono::NaiveDate;
use std::time::Duration;
use tochen_config::Config;
use tochen_delivery::ads_sync::{plan_daily, sync_range, validate, AdsClients, SyncError};
use tochen_domain::jobs::{AdsSyncPayload, AdsValidatePayload, SweepAds};
use tochen_queue::{JobContext, JobError, Worker, Workers};

/// Registers `ads.sync` and `sweep.ads` with the clients of the configured ad platforms.
pub fn register_jobs(w: &mut Workers, config: &Config) {
    let http =
        reqwest::Client::builder().timeout(Duration::from_secs(120)).build().unwrap_or_else(|_| reqwest::Client::new());
    let clients = AdsClients::from_config(config, http);
    w.register::<SweepAds, _>(AdsSweep { backfill_days: clients.backfill_days });
    w.register::<AdsValidatePayload, _>(AdsValidateHandler { clients: clients.clone() });
    w.register::<AdsSyncPayload, _>(AdsSyncHandler { clients });
}

pub struct AdsSyncHandler {
    pub clients: AdsClients,
}

fn date(s: &str) -> Result<NaiveDate, JobError> {
    NaiveDate::parse_from_str(s, "%Y-%m-%d").map_err(|_| JobError::permanent(format!("{s:?} is not a YYYY-MM-DD day")))
}

#[async_trait::async_trait]
impl Worker<AdsSyncPayload> for AdsSyncHandler {
    async fn work(&self, cx: &JobContext, p: AdsSyncPayload) -> Result<(), JobError> {
        if cx.job().tenant_id != Some(p.tenant_id) {
            return Err(JobError::permanent("an ads.sync job whose payload names another workspace"));
        }
        let range = (date(&p.since)?, date(&p.until)?);
        match sync_range(cx.store(), &self.clients, p.tenant_id, p.ad_account_id, range).await {
            Ok(r) => {
                tracing::info!(rows = r.rows, requests = r.requests, "ad insights synced");
                Ok(())
            }
            Err(SyncError::Throttled(wait)) => Err(JobError::retry_after("the ad account is rate limited", wait)),
            Err(SyncError::Retry(m)) => Err(JobError::retry(m)),
            Err(e @ (SyncError::Reconnect(_) | SyncError::Permanent(_))) => Err(JobError::permanent(e.to_string())),
        }
    }
}

/// `ads.validate`: the periodic check of an ad account's token and status.
pub struct AdsValidateHandler {
    pub clients: AdsClients,
}

#[async_trait::async_trait]
impl Worker<AdsValidatePayload> for AdsValidateHandler {
    async fn work(&self, cx: &JobContext, p: AdsValidatePayload) -> Result<(), JobError> {
        if cx.job().tenant_id != Some(p.tenant_id) {
            return Err(JobError::permanent("an ads.validate job whose payload names another workspace"));
        }
        match validate(cx.store(), &self.clients, p.tenant_id, p.ad_account_id).await {
            Ok(()) => Ok(()),
            Err(SyncError::Throttled(wait)) => Err(JobError::retry_after("the ad account is rate limited", wait)),
            Err(SyncError::Retry(m)) => Err(JobError::retry(m)),
            // A refused token already marked the account and told the admins.
            Err(e @ (SyncError::Reconnect(_) | SyncError::Permanent(_))) => Err(JobError::permanent(e.to_string())),
        }
    }
}

pub struct AdsSweep {
    pub backfill_days: u32,
}

#[async_trait::async_trait]
impl Worker<SweepAds> for AdsSweep {
    async fn work(&self, cx: &JobContext, _args: SweepAds) -> Result<(), JobError> {
        plan_daily(cx.store(), self.backfill_days).await?;
        Ok(())
    }
}
