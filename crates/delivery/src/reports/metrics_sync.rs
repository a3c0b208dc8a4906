//! The metrics sync: reads engagement of recently published posts and followers of each active account from the
//! platforms and stores them as snapshots, which reports, alerts and data sync are computed from.
//!
//! It is gentle with rate limits: one account's reads are sequential, a bounded number of recent posts is read per
//! account, and the first rate-limit or token error stops that account for this run (the next run picks it up);
//! other accounts go on. What a platform does not report is stored as NULL, never 0. Only the accounts the given
//! [`Sources`] counts are read: with sandbox mode off, sandbox accounts get no new (simulated) readings.

use crate::sources::Sources;
use std::collections::HashMap;
use std::sync::Arc;
use std::time::Duration;
use tochen_domain::clock::Millis;
use tochen_domain::ids::TenantId;
use tochen_domain::{AccountStatus, AuthKind};
use tochen_platforms::publish::{ErrorClass, PublishError};
use tochen_platforms::{MetricsAccount, MetricsReader};
use tochen_store::{MetricValues, NewSnapshot, Store, StoreError};

/// How much one run reads.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct SyncOptions {
    /// Posts published this many days ago or later are read.
    pub post_window_days: i64,
    /// At most this many posts per account per run (newest first).
    pub max_posts_per_account: i64,
}

impl Default for SyncOptions {
    fn default() -> Self {
        Self { post_window_days: 30, max_posts_per_account: 50 }
    }
}

/// What a run did.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct SyncReport {
    pub accounts: usize,
    pub posts: usize,
    /// Accounts whose reads stopped early, with the reason.
    pub stopped: Vec<String>,
    /// The longest wait a platform asked for, if any.
    pub retry_after: Option<Duration>,
}

/// Reads the metrics of every active account of a workspace that `sources` counts.
#[tracing::instrument(skip(store, readers))]
pub async fn sync_tenant(
    store: &Store,
    readers: &HashMap<AuthKind, Arc<dyn MetricsReader>>,
    tenant: TenantId,
    opts: SyncOptions,
    sources: Sources,
    now: Millis,
) -> Result<SyncReport, StoreError> {
    let mut report = SyncReport::default();
    for account in sources.accounts(store, tenant).await? {
        if account.status != AccountStatus::Active {
            continue;
        }
        let Some(reader) = readers.get(&account.auth_kind) else { continue };
        let tokens = store.account_tokens(tenant, account.id).await?;
        let who = MetricsAccount {
            auth_kind: account.auth_kind,
            external_id: account.external_id.clone(),
            access_token: tokens.access_token,
        };
        report.accounts += 1;
        let snapshot = |target_id, values, raw| NewSnapshot {
            account_id: account.id,
            target_id,
            platform: account.platform,
            captured_at: now,
            values,
            raw,
        };
        let stop = |report: &mut SyncReport, e: &PublishError| {
            report.stopped.push(format!("{} ({}): {e}", account.name, account.platform));
            if let ErrorClass::Retryable { retry_after: Some(d) } = e.class {
                report.retry_after = report.retry_after.max(Some(d));
            }
        };
        match reader.account_metrics(&who).await {
            Ok(m) => {
                let values = MetricValues { followers: m.followers, ..Default::default() };
                store.insert_metrics_snapshot(tenant, &snapshot(None, values, m.raw)).await?;
            }
            Err(e) if matches!(e.class, ErrorClass::Retryable { .. } | ErrorClass::NeedsReconnect) => {
                stop(&mut report, &e);
                continue;
            }
            Err(e) => tracing::warn!(account = %account.id, error = %e, "follower count not read"),
        }
        let since = now - opts.post_window_days * crate::reports::DAY_MS;
        for (target, post_id) in store.measurable_targets(tenant, account.id, since, opts.max_posts_per_account).await?
        {
            match reader.post_metrics(&who, &post_id).await {
                Ok(m) => {
                    let values = MetricValues {
                        views: m.views,
                        reach: m.reach,
                        likes: m.likes,
                        comments: m.comments,
                        shares: m.shares,
                        saves: m.saves,
                        followers: None,
                    };
                    store.insert_metrics_snapshot(tenant, &snapshot(Some(target), values, m.raw)).await?;
                    report.posts += 1;
                }
                Err(e) if matches!(e.class, ErrorClass::Retryable { .. } | ErrorClass::NeedsReconnect) => {
                    stop(&mut report, &e);
                    break;
                }
                // A deleted post or a metric the platform refuses for this media type: skip it, keep going.
                Err(e) => tracing::warn!(target = %target, error = %e, "post metrics not read"),
            }
        }
    }
    Ok(report)
}

/// Runs [`sync_tenant`] for every workspace, summing the reports.
pub async fn sync_all(
    store: &Store,
    readers: &HashMap<AuthKind, Arc<dyn MetricsReader>>,
    opts: SyncOptions,
    sources: Sources,
    now: Millis,
) -> Result<SyncReport, StoreError> {
    let mut total = SyncReport::default();
    for tenant in store.all_tenant_ids().await? {
        let r = sync_tenant(store, readers, tenant, opts, sources, now).await?;
        total.accounts += r.accounts;
        total.posts += r.posts;
        total.stopped.extend(r.stopped);
        total.retry_after = total.retry_after.max(r.retry_after);
    }
    Ok(total)
}
