//! Data sync: the publications of a period with their latest metrics, and the ad campaigns' daily insights of the
//! workspace's ad accounts (issue 19), as JSON (for webhooks) and CSV (documents for Telegram, email attachments).
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

/// The `data` of a data-sync webhook event: the publications and the ad campaigns' days.
pub fn to_json(period: Period, rows: &[ExportRow], ads: &[AdExportRow]) -> serde_json::Value {
    serde_json::json!({ "period": period, "publications": rows, "ads": ads })
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

/// One ad campaign on one day (issue 19): an ad account's daily insights at campaign level, in the account's own
/// currency (amounts as exact decimals, never converted or added across currencies).
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct AdExportRow {
    /// The account's own day (`YYYY-MM-DD` in its time zone).
    pub day: String,
    pub ad_account_id: tochen_domain::ids::AdAccountId,
    pub ad_account: String,
    /// `meta` or `tiktok`.
    pub platform: &'static str,
    /// ISO 4217, the currency of every amount of the row.
    pub currency: String,
    pub campaign_id: String,
    pub campaign: Option<String>,
    pub spend: Option<String>,
    pub impressions: Option<i64>,
    pub reach: Option<i64>,
    pub clicks: Option<i64>,
    /// Percent: `3.04` is 3.04 %.
    pub ctr: Option<String>,
    pub cpc: Option<String>,
    pub cpm: Option<String>,
    pub results: Option<String>,
    pub results_value: Option<String>,
    pub roas: Option<String>,
}

/// The campaign-level ad insights of every ad account of `tenant` for the days `since..=until`, by account, then
/// day, then campaign.
pub async fn ad_export_rows(
    store: &Store,
    tenant: TenantId,
    since: chrono::NaiveDate,
    until: chrono::NaiveDate,
) -> Result<Vec<AdExportRow>, StoreError> {
    let mut out = Vec::new();
    for account in store.ad_accounts(tenant).await? {
        let rows = store.ad_insights(tenant, account.id, tochen_domain::ads::AdLevel::Campaign, (since, until)).await?;
        for r in rows {
            let m = &r.metrics;
            let amount = |a: Option<tochen_domain::ads::Amount>| a.map(|a| a.to_string());
            out.push(AdExportRow {
                day: r.day.to_string(),
                ad_account_id: account.id,
                ad_account: account.name.clone(),
                platform: account.platform.as_str(),
                currency: account.currency.clone(),
                campaign_id: r.object_id,
                campaign: r.object_name,
                spend: amount(m.spend),
                impressions: m.impressions,
                reach: m.reach,
                clicks: m.clicks,
                ctr: amount(m.ctr),
                cpc: amount(m.cpc),
                cpm: amount(m.cpm),
                results: amount(m.conversions),
                results_value: amount(m.conversion_value),
                roas: amount(m.roas),
            });
        }
    }
    Ok(out)
}

/// The ad rows as CSV with a header row; a metric the platform did not send is an empty cell.
pub fn ads_to_csv(rows: &[AdExportRow]) -> Vec<u8> {
    let mut w = csv::Writer::from_writer(Vec::new());
    let n = |v: Option<i64>| v.map(|n| n.to_string()).unwrap_or_default();
    let s = |v: &Option<String>| v.clone().unwrap_or_default();
    w.write_record([
        "day",
        "ad_account_id",
        "ad_account",
        "platform",
        "currency",
        "campaign_id",
        "campaign",
        "spend",
        "impressions",
        "reach",
        "clicks",
        "ctr",
        "cpc",
        "cpm",
        "results",
        "results_value",
        "roas",
    ])
    .expect("writing to memory");
    for r in rows {
        w.write_record([
            r.day.clone(),
            r.ad_account_id.to_string(),
            r.ad_account.clone(),
            r.platform.to_owned(),
            r.currency.clone(),
            r.campaign_id.clone(),
            s(&r.campaign),
            s(&r.spend),
            n(r.impressions),
            n(r.reach),
            n(r.clicks),
            s(&r.ctr),
            s(&r.cpc),
            s(&r.cpm),
            s(&r.results),
            s(&r.results_value),
            s(&r.roas),
        ])
        .expect("writing to memory");
    }
    w.into_inner().expect("flushing to memory")
}
