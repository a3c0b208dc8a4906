//! Data sync: the publications of a period with their latest metrics, as JSON (for webhooks) and CSV (a document
//! for Telegram or an email attachment).
//!
//! Missing metrics are `null` in JSON and an EMPTY cell in CSV, never 0, so a spreadsheet's averages stay honest.
//! Like reports, it holds only the accounts [`Sources`] counts (no sandbox posts when sandbox mode is off).

use super::Period;
use crate::sources::Sources;
use chrono::SecondsFormat;
use serde::Serialize;
use tochen_domain::ids::{CampaignId, PostId, TargetId, TenantId};
use tochen_domain::Platform;
use tochen_store::{Store, StoreError};

/// One published target with its latest reading in the period.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct ExportRow {
    pub post_id: PostId,
    pub target_id: TargetId,
    pub title: String,
    pub platform: Platform,
    pub account: String,
    /// RFC 3339, UTC.
    pub published_at: String,
    pub permalink: Option<String>,
    pub views: Option<i64>,
    pub reach: Option<i64>,
    pub likes: Option<i64>,
    pub comments: Option<i64>,
    pub shares: Option<i64>,
    pub saves: Option<i64>,
    /// The campaign the post belongs to: its id and name.
    pub campaign_id: Option<CampaignId>,
    pub campaign: Option<String>,
}

/// The rows of a period from the accounts `sources` counts, oldest publication first.
pub async fn export_rows(
    store: &Store,
    tenant: TenantId,
    period: Period,
    sources: Sources,
) -> Result<Vec<ExportRow>, StoreError> {
    let published = sources.published_targets(store, tenant, period.start, period.end).await?;
    let mut campaigns = std::collections::HashMap::new();
    if published.iter().any(|(t, _)| t.campaign_id.is_some()) {
        for archived in [false, true] {
            for c in store.campaigns(tenant, archived).await? {
                campaigns.insert(c.campaign.id, c.campaign.fields.name);
            }
        }
    }
    Ok(published
        .into_iter()
        .map(|(t, m)| ExportRow {
            post_id: t.post_id,
            target_id: t.target_id,
            title: t.title,
            platform: t.platform,
            account: t.account_name,
            published_at: tochen_domain::clock::to_datetime(t.published_at).to_rfc3339_opts(SecondsFormat::Secs, true),
            permalink: t.permalink,
            views: m.views,
            reach: m.reach,
            likes: m.likes,
            comments: m.comments,
            shares: m.shares,
            saves: m.saves,
            campaign: t.campaign_id.and_then(|c| campaigns.get(&c).cloned()),
            campaign_id: t.campaign_id,
        })
        .collect())
}

/// The `data` of a data-sync webhook event.
pub fn to_json(period: Period, rows: &[ExportRow]) -> serde_json::Value {
    serde_json::json!({ "period": period, "publications": rows })
}

/// CSV with a header row; cells are quoted as needed by the csv crate (commas, quotes, newlines in titles).
pub fn to_csv(rows: &[ExportRow]) -> Vec<u8> {
    let mut w = csv::Writer::from_writer(Vec::new());
    let cell = |v: Option<i64>| v.map(|n| n.to_string()).unwrap_or_default();
    w.write_record([
        "post_id",
        "target_id",
        "title",
        "platform",
        "account",
        "published_at",
        "permalink",
        "views",
        "reach",
        "likes",
        "comments",
        "shares",
        "saves",
        "campaign",
    ])
    .expect("writing to memory");
    for r in rows {
        w.write_record([
            r.post_id.to_string(),
            r.target_id.to_string(),
            r.title.clone(),
            r.platform.as_str().to_owned(),
            r.account.clone(),
            r.published_at.clone(),
            r.permalink.clone().unwrap_or_default(),
            cell(r.views),
            cell(r.reach),
            cell(r.likes),
            cell(r.comments),
            cell(r.shares),
            cell(r.saves),
            r.campaign.clone().unwrap_or_default(),
        ])
        .expect("writing to memory");
    }
    w.into_inner().expect("flushing to memory")
}
