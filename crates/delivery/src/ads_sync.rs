//! Reading ad accounts' daily insights into the store: one range of days of one ad account at every level
//! (account, campaign, ad set, ad), each level's answer replacing that level's stored days in one transaction.
//!
//! Ranges: a backfill on connect (`TOCHEN_ADS_BACKFILL_DAYS`, default 30, ending today in the account's zone),
//! then a daily sync from the first day not yet read (or 3 days back, whichever is earlier: the platforms restate
//! recent days as late conversions are attributed) to today. Meta ranges longer than `TOCHEN_ADS_ASYNC_AFTER_DAYS`
//! go through asynchronous report runs, as does a range Meta refuses to answer synchronously. A throttled account
//! keeps its pause in `ad_accounts.throttled_until` and the job is retried after it: no request is made while the
//! pause lasts, and since every attempt reads its whole range again, no day is lost. A refused token marks the ad
//! account invalid and tells the workspace's admins to reconnect it.

use chrono::{NaiveDate, Utc};
use std::time::Duration;
use tochen_domain::ads::{AdLevel, AdPlatform};
use tochen_domain::clock::now_ms;
use tochen_domain::html::escape_html;
use tochen_domain::i18n::tf;
use tochen_domain::ids::{AdAccountId, TenantId};
use tochen_domain::jobs::{AdsSyncPayload, AdsValidatePayload, NotifyPayload};
use tochen_platforms::ads::meta::MetaAds;
use tochen_platforms::ads::tiktok::TikTokAds;
use tochen_platforms::ads::usage::{AccountGate, Backoff};
use tochen_platforms::ads::{AdsError, AdsErrorClass, InsightRow};
use tochen_store::{AdAccount, NewJob, Store, StoreError};

/// Days re-read on every daily sync (late attribution).
pub const RESYNC_DAYS: i64 = 3;

/// The ad platform clients and the sync's settings.
#[derive(Clone)]
pub struct AdsClients {
    pub meta: Option<MetaAds>,
    pub tiktok: Option<TikTokAds>,
    /// Meta ranges longer than this many days are read through report runs.
    pub async_after_days: u32,
    /// Waits between report-run polls.
    pub poll_delays: Vec<Duration>,
    pub backfill_days: u32,
}

impl AdsClients {
    pub fn from_config(config: &tochen_config::Config, http: reqwest::Client) -> Self {
        let poll_delays = [5u64, 5, 10, 10, 20, 30, 60, 60, 120, 120, 300, 300, 300, 300]
            .into_iter()
            .map(Duration::from_secs)
            .collect();
        Self {
            meta: config.meta.app_id.as_ref().map(|_| MetaAds::from_config(config, http.clone())),
            tiktok: TikTokAds::from_config(config, http),
            async_after_days: config.ads.async_after_days,
            poll_delays,
            backfill_days: config.ads.backfill_days,
        }
    }
}

/// Why a sync did not complete.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum SyncError {
    /// The account is paused by its rate limit; try again after the wait.
    #[error("the ad account is rate limited; retry in {} s", .0.as_secs())]
    Throttled(Duration),
    /// The token was refused; the account is marked invalid and the admins were told.
    #[error("the ad account must be reconnected: {0}")]
    Reconnect(String),
    #[error("{0}")]
    Retry(String),
    #[error("{0}")]
    Permanent(String),
}

impl From<StoreError> for SyncError {
    fn from(e: StoreError) -> Self {
        match e {
            StoreError::NotFound(_) | StoreError::Corrupt(_) | StoreError::Crypto(_) => {
                SyncError::Permanent(e.to_string())
            }
            _ => SyncError::Retry(e.to_string()),
        }
    }
}

/// What a completed sync did.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct SyncReport {
    pub rows: usize,
    pub requests: u64,
}

/// "Today" in the account's zone.
pub fn today_in(account: &AdAccount) -> NaiveDate {
    let zone: chrono_tz::Tz = account.zone.parse().unwrap_or(chrono_tz::UTC);
    Utc::now().with_timezone(&zone).date_naive()
}

/// The backfill range of a newly connected account: `days` days ending `today`.
pub fn backfill_range(today: NaiveDate, days: u32) -> (NaiveDate, NaiveDate) {
    let back = chrono::Days::new(u64::from(days.max(1) - 1));
    (today.checked_sub_days(back).unwrap_or(NaiveDate::MIN), today)
}

/// The daily range: from the first day not read yet, or [`RESYNC_DAYS`] back, whichever is earlier, to today.
pub fn daily_range(synced_through: Option<NaiveDate>, today: NaiveDate, backfill_days: u32) -> (NaiveDate, NaiveDate) {
    let resync = today - chrono::Duration::days(RESYNC_DAYS);
    let since = match synced_through {
        Some(d) => (d + chrono::Duration::days(1)).min(resync),
        None => backfill_range(today, backfill_days).0,
    };
    (since, today)
}

/// Queues the sync of `range` for an ad account.
pub async fn enqueue(
    store: &Store,
    tenant: TenantId,
    id: AdAccountId,
    (since, until): (NaiveDate, NaiveDate),
) -> Result<(), StoreError> {
    let payload =
        AdsSyncPayload { tenant_id: tenant, ad_account_id: id, since: since.to_string(), until: until.to_string() };
    let mut job = NewJob::new(&payload);
    job.tenant_id = Some(tenant);
    store.enqueue(&job).await?;
    Ok(())
}

/// Queues the daily sync and the validation of every valid ad account (each from its own "today").
pub async fn plan_daily(store: &Store, backfill_days: u32) -> Result<usize, StoreError> {
    let accounts = store.ad_accounts_to_sync().await?;
    for a in &accounts {
        enqueue(store, a.tenant_id, a.id, daily_range(a.synced_through, today_in(a), backfill_days)).await?;
        let v = AdsValidatePayload { tenant_id: a.tenant_id, ad_account_id: a.id, day: today_in(a).to_string() };
        store.enqueue_args(Some(a.tenant_id), &v).await?;
    }
    Ok(accounts.len())
}

/// Checks one ad account's token and status with its platform: a success records the status and
/// `last_validated`; a refused token marks the account invalid and tells the admins to reconnect (as a sync does).
pub async fn validate(store: &Store, clients: &AdsClients, tenant: TenantId, id: AdAccountId) -> Result<(), SyncError> {
    let account = store.ad_account(tenant, id).await?;
    if !account.is_valid {
        return Ok(());
    }
    let backoff = match account.platform {
        AdPlatform::Meta => Backoff::META,
        AdPlatform::TikTok => Backoff::TIKTOK,
    };
    let paused = account.throttled_until.and_then(chrono::DateTime::from_timestamp_millis);
    let mut gate = AccountGate::new(backoff, paused);
    if let Err(e) = gate.before(Utc::now()) {
        return Err(SyncError::Throttled(wait_of(&e)));
    }
    let token = store.ad_account_token(tenant, id).await?;
    let not_configured = |what: &str| {
        AdsError::new(AdsErrorClass::Permanent, "config", format!("{what} is not configured; set its variables"))
    };
    let info = match account.platform {
        AdPlatform::Meta => match clients.meta.as_ref() {
            Some(m) => m.account(&mut gate, &token, &account.account_ref).await,
            None => Err(not_configured("the Meta app (META_APP_ID)")),
        },
        AdPlatform::TikTok => match clients.tiktok.as_ref() {
            Some(t) => {
                t.advertiser_info(&mut gate, &token, std::slice::from_ref(&account.account_ref)).await.and_then(|l| {
                    l.into_iter().next().ok_or_else(|| {
                        AdsError::new(AdsErrorClass::Reconnect, "40001", "the advertiser is no longer authorised")
                    })
                })
            }
            None => Err(not_configured("the TikTok for Business app (TIKTOK_ADS_APP_ID)")),
        },
    };
    match info {
        Ok(i) => Ok(store.set_ad_account_validated(tenant, id, &i.status, i.disable_reason).await?),
        Err(e) => Err(failed(store, &account, &gate, e).await),
    }
}

/// Reads `since..=until` of one ad account at every level into the store.
pub async fn sync_range(
    store: &Store,
    clients: &AdsClients,
    tenant: TenantId,
    id: AdAccountId,
    (since, until): (NaiveDate, NaiveDate),
) -> Result<SyncReport, SyncError> {
    if since > until {
        return Err(SyncError::Permanent(format!("the range {since}..{until} is empty")));
    }
    let account = store.ad_account(tenant, id).await?;
    if !account.is_valid {
        return Err(SyncError::Permanent("the ad account must be reconnected first".into()));
    }
    let backoff = match account.platform {
        AdPlatform::Meta => Backoff::META,
        AdPlatform::TikTok => Backoff::TIKTOK,
    };
    let paused = account.throttled_until.and_then(chrono::DateTime::from_timestamp_millis);
    let mut gate = AccountGate::new(backoff, paused);
    if let Err(e) = gate.before(Utc::now()) {
        return Err(SyncError::Throttled(wait_of(&e)));
    }
    gate.requests = 0;
    let token = store.ad_account_token(tenant, id).await?;
    let mut report = SyncReport::default();
    for level in AdLevel::ALL {
        let rows = match read(clients, &account, &mut gate, &token, level, (since, until)).await {
            Ok(rows) => rows,
            Err(e) => return Err(failed(store, &account, &gate, e).await),
        };
        report.rows += store.replace_ad_insights(tenant, id, level, (since, until), &rows).await?;
    }
    report.requests = gate.requests;
    store.set_ad_account_synced_through(tenant, id, until).await?;
    let until_ms = gate.paused_until.map(|t| t.timestamp_millis());
    store.set_ad_account_throttle(tenant, id, until_ms).await?;
    Ok(report)
}

async fn read(
    clients: &AdsClients,
    account: &AdAccount,
    gate: &mut AccountGate,
    token: &tochen_domain::SecretString,
    level: AdLevel,
    (since, until): (NaiveDate, NaiveDate),
) -> Result<Vec<InsightRow>, AdsError> {
    let not_configured = |what: &str| {
        AdsError::new(AdsErrorClass::Permanent, "config", format!("{what} is not configured; set its variables"))
    };
    match account.platform {
        AdPlatform::Meta => {
            let meta = clients.meta.as_ref().ok_or_else(|| not_configured("the Meta app (META_APP_ID)"))?;
            let days = (until - since).num_days() + 1;
            let r = &account.account_ref;
            if days > i64::from(clients.async_after_days) {
                return meta.insights_async(gate, token, r, level, (since, until), &clients.poll_delays).await;
            }
            match meta.insights(gate, token, r, level, since, until).await {
                Err(e) if e.class == AdsErrorClass::TooMuchData => {
                    meta.insights_async(gate, token, r, level, (since, until), &clients.poll_delays).await
                }
                other => other,
            }
        }
        AdPlatform::TikTok => {
            let tt = clients
                .tiktok
                .as_ref()
                .ok_or_else(|| not_configured("the TikTok for Business app (TIKTOK_ADS_APP_ID)"))?;
            tt.report(gate, token, &account.account_ref, level, since, until).await
        }
    }
}

fn wait_of(e: &AdsError) -> Duration {
    match e.class {
        AdsErrorClass::Throttled { wait: Some(w) } => w,
        _ => Duration::from_secs(60),
    }
}

async fn failed(store: &Store, account: &AdAccount, gate: &AccountGate, e: AdsError) -> SyncError {
    let (tenant, id) = (account.tenant_id, account.id);
    match e.class {
        AdsErrorClass::Throttled { .. } => {
            let until = gate.paused_until.map(|t| t.timestamp_millis()).unwrap_or_else(|| now_ms() + 60_000);
            if let Err(se) = store.set_ad_account_throttle(tenant, id, Some(until)).await {
                return se.into();
            }
            SyncError::Throttled(wait_of(&e))
        }
        AdsErrorClass::Reconnect => {
            let reason = format!("{} ({})", e.message, e.code);
            if let Err(se) = store.mark_ad_account_invalid(tenant, id, &reason).await {
                return se.into();
            }
            if let Err(se) = reconnect_notice(store, account, &reason).await {
                return se.into();
            }
            SyncError::Reconnect(reason)
        }
        AdsErrorClass::Permanent => SyncError::Permanent(e.to_string()),
        AdsErrorClass::Retryable | AdsErrorClass::TooMuchData => SyncError::Retry(e.to_string()),
    }
}

/// Tells each admin of the workspace, in their language, that the ad account must be reconnected (`/connect`).
async fn reconnect_notice(store: &Store, account: &AdAccount, reason: &str) -> Result<(), StoreError> {
    let tenant = account.tenant_id;
    let lang_default = store.tenant(tenant).await.map(|t| t.profile.language).unwrap_or_else(|_| "en".into());
    for admin in store.admin_telegram_ids(tenant).await? {
        let lang = match store.user_by_telegram_id(admin).await {
            Ok(Some(u)) => u.language().to_owned(),
            _ => lang_default.clone(),
        };
        let text_html = tf(
            &lang,
            "ads.reconnect_needed",
            &[("account", &escape_html(&account.name)), ("error", &escape_html(reason))],
        );
        let payload = NotifyPayload { chat_id: admin, text_html, buttons: Vec::new(), attachment_path: None };
        let mut job = NewJob::new(&payload).concurrency(tochen_domain::jobs::keys::chat(admin));
        job.tenant_id = Some(tenant);
        job.unique_key = Some(format!("notice:ads_reconnect:{}:{}:{admin}", account.id, now_ms() / 3_600_000));
        store.enqueue(&job).await?;
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn d(s: &str) -> NaiveDate {
        NaiveDate::parse_from_str(s, "%Y-%m-%d").unwrap()
    }

    #[test]
    fn ranges_backfill_then_resync_the_last_days() {
        assert_eq!(backfill_range(d("2026-11-30"), 30), (d("2026-11-01"), d("2026-11-30")));
        assert_eq!(daily_range(None, d("2026-11-30"), 30), (d("2026-11-01"), d("2026-11-30")));
        assert_eq!(daily_range(Some(d("2026-11-30")), d("2026-12-01"), 30), (d("2026-11-28"), d("2026-12-01")));
        assert_eq!(
            daily_range(Some(d("2026-11-20")), d("2026-12-01"), 30),
            (d("2026-11-21"), d("2026-12-01")),
            "a gap is read whole"
        );
    }
}
