//! Engagement snapshots and the reads reports, alerts and data sync are computed from.
//!
//! Platforms report cumulative counters (views so far), so a snapshot is a reading at `captured_at`; the value
//! that counts for a period is the LATEST reading inside it. A target-level snapshot (`target_id` set) carries a
//! post's counters; an account-level one (`target_id` NULL) carries followers. Every counter is nullable: a metric
//! the platform did not report (Instagram's lag, a deprecated metric) is missing, never zero. Period totals are
//! summed in SQL (`SUM` is missing when every value is, on both backends); what keeps a period's reads cheap (a
//! target's latest reading, a reading's added views) is written with each reading.

use crate::{parse_enum, Result, Store, StoreError};
use sqlx::{FromRow, Row};
use std::collections::BTreeMap;
use tochen_domain::clock::Millis;
use tochen_domain::ids::{AccountId, CampaignId, PostId, TargetId, TenantId};
use tochen_domain::{AuthKind, Platform, TargetStatus};

/// One reading of a post's or an account's counters.
#[derive(Debug, Clone, Default, PartialEq, Eq, sqlx::FromRow)]
pub struct MetricValues {
    pub views: Option<i64>,
    pub reach: Option<i64>,
    pub likes: Option<i64>,
    pub comments: Option<i64>,
    pub shares: Option<i64>,
    pub saves: Option<i64>,
    pub followers: Option<i64>,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct NewSnapshot {
    pub account_id: AccountId,
    /// `None` for an account-level reading (followers).
    pub target_id: Option<TargetId>,
    pub platform: Platform,
    pub captured_at: Millis,
    pub values: MetricValues,
    /// The platform's answer as received, for later re-reading.
    pub raw: serde_json::Value,
}

/// A target that was published, with what a report shows about it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PublishedTarget {
    pub target_id: TargetId,
    pub post_id: PostId,
    pub title: String,
    pub platform: Platform,
    pub account_id: AccountId,
    /// How the account was connected: a sandbox account's numbers are simulated.
    pub auth_kind: AuthKind,
    pub account_name: String,
    pub permalink: Option<String>,
    pub published_at: Millis,
    /// The campaign its post belongs to.
    pub campaign_id: Option<CampaignId>,
}

/// A target whose publishing failed or whose outcome is unknown.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct FailedTarget {
    pub target_id: TargetId,
    pub title: String,
    pub platform: Platform,
    pub account_id: AccountId,
    pub auth_kind: AuthKind,
    pub account_name: String,
    pub status: TargetStatus,
    pub error_message: Option<String>,
    pub updated_at: Millis,
    /// The campaign its post belongs to.
    pub campaign_id: Option<CampaignId>,
}

/// Followers of one account at the start and end of a period (latest reading at or before each bound).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct FollowerChange {
    pub account_id: AccountId,
    pub auth_kind: AuthKind,
    pub platform: Platform,
    pub at_start: Option<i64>,
    pub at_end: Option<i64>,
}

/// The views one account's posts (published in a period) gained on one day of it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DailyAddition {
    pub account_id: AccountId,
    pub platform: Platform,
    pub auth_kind: AuthKind,
    /// Whole days since the period's start.
    pub day: i64,
    /// May be negative: a platform can lower a counter (removed views, a deleted reaction).
    pub views: i64,
}

/// How far back an account's follower reading may lie and still count as "at the start" of a period.
const FOLLOWER_LOOKBACK_MS: Millis = 35 * 24 * 3600 * 1000;

/// The post counters a snapshot carries, in column order.
const METRIC_COLUMNS: [&str; 6] = ["views", "reach", "likes", "comments", "shares", "saves"];

/// What a period read shows of each target but its post's title, as [`PublishedTargetRow`] decodes it.
const TARGET_COLUMNS: &str = "t.id, t.post_id, t.platform, t.account_id, a.auth_kind, a.name AS account_name, \
     t.permalink, t.published_at";

/// Counter `c` of a target as it stood at the period's end `$3`: the target's latest reading when it lies in
/// `[$2, $3)` (read from its own row, `post_targets.latest_*`), else the latest reading found in the period by
/// [`period_values_from`]'s join (`m`), missing when there is none.
fn period_value(c: &str) -> String {
    format!("CASE WHEN t.latest_captured_at >= $3 THEN m.{c} WHEN t.latest_captured_at >= $2 THEN t.latest_{c} END")
}

/// Every counter of [`period_value`] named after its column, and a missing `followers` (a post has none).
fn period_values() -> String {
    let values = METRIC_COLUMNS.map(|c| format!("{} AS {c}", period_value(c))).join(", ");
    format!("{values}, CAST(NULL AS BIGINT) AS followers")
}

/// The targets of tenant `$1` published in `[$2, $3)` that [`TargetSelection`] `$4`-`$7` keeps, with their
/// account and, only for a target read again after the period ended, its latest snapshot inside the period
/// (searched newest first on the `(target_id, captured_at, id, …)` index alone; the tenant is checked on the
/// target, whose snapshots are its tenant's): a period's cost follows its own
/// publications, not the snapshot table.
fn period_values_from() -> String {
    let sandbox = AuthKind::ALL.iter().filter(|k| k.is_sandbox()).map(|k| format!("'{}'", k.as_str()));
    format!(
        "FROM post_targets t JOIN social_accounts a ON a.id = t.account_id \
         LEFT JOIN metrics_snapshots m ON m.id = CASE WHEN t.latest_captured_at >= $3 THEN (SELECT s.id \
         FROM metrics_snapshots s WHERE s.target_id = t.id AND s.captured_at >= $2 \
         AND s.captured_at < $3 ORDER BY s.captured_at DESC, s.id DESC LIMIT 1) END \
         WHERE t.tenant_id = $1 AND t.status = 'published' AND t.published_at >= $2 AND t.published_at < $3 \
         AND ($4 IS NULL OR t.platform = $4) AND ($5 IS NULL OR t.account_id = $5) \
         AND ($6 OR a.auth_kind NOT IN ({})) \
         AND ($7 IS NULL OR t.post_id IN (SELECT c.id FROM posts c WHERE c.tenant_id = $1 AND c.campaign_id = $7))",
        sandbox.collect::<Vec<_>>().join(", ")
    )
}

/// Which published targets a period's totals and rankings cover.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct TargetSelection {
    /// Only this platform's.
    pub platform: Option<Platform>,
    /// Only this account's.
    pub account: Option<AccountId>,
    /// Sandbox accounts' too (their numbers are simulated).
    pub with_sandbox: bool,
    /// Only the posts of this campaign.
    pub campaign: Option<CampaignId>,
}

impl TargetSelection {
    fn bind<'q>(
        self,
        q: sqlx::query::Query<'q, sqlx::Any, sqlx::any::AnyArguments<'q>>,
    ) -> sqlx::query::Query<'q, sqlx::Any, sqlx::any::AnyArguments<'q>> {
        q.bind(self.platform.map(|p| p.as_str()))
            .bind(self.account.map(|a| a.to_db()))
            .bind(self.with_sandbox)
            .bind(self.campaign.map(|c| c.to_db()))
    }
}

/// A period's publications as [`Store::published_summary`] reads them.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct PublishedSummary {
    /// Per platform and auth kind.
    pub groups: Vec<PublishedGroup>,
    /// The most viewed, most first.
    pub top: Vec<(PublishedTarget, MetricValues)>,
    /// The least viewed, least first.
    pub bottom: Vec<(PublishedTarget, MetricValues)>,
}

/// The targets of one platform and auth kind published in a period: how many, and their period values summed.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PublishedGroup {
    pub platform: Platform,
    pub auth_kind: AuthKind,
    pub published: i64,
    pub values: MetricValues,
}

/// A target-level row of `metrics_snapshots`.
#[derive(sqlx::FromRow)]
struct SnapshotRow {
    target_id: String,
    captured_at: Millis,
    #[sqlx(flatten)]
    values: MetricValues,
}

/// A row of `Store::published_targets`' read: the target with its post's title and its account's name.
#[derive(sqlx::FromRow)]
struct PublishedTargetRow {
    id: String,
    post_id: String,
    title: String,
    platform: String,
    account_id: String,
    auth_kind: String,
    account_name: String,
    permalink: Option<String>,
    published_at: Millis,
    campaign_id: Option<String>,
}

impl TryFrom<PublishedTargetRow> for PublishedTarget {
    type Error = StoreError;

    fn try_from(r: PublishedTargetRow) -> Result<Self> {
        Ok(PublishedTarget {
            target_id: TargetId::from_db(&r.id)?,
            post_id: PostId::from_db(&r.post_id)?,
            title: r.title,
            platform: parse_enum(&r.platform, Platform::parse, "platform")?,
            account_id: AccountId::from_db(&r.account_id)?,
            auth_kind: parse_enum(&r.auth_kind, AuthKind::parse, "auth kind")?,
            account_name: r.account_name,
            permalink: r.permalink,
            published_at: r.published_at,
            campaign_id: r.campaign_id.as_deref().map(CampaignId::from_db).transpose()?,
        })
    }
}

/// A row of `Store::failed_targets`' read.
#[derive(sqlx::FromRow)]
struct FailedTargetRow {
    id: String,
    title: String,
    platform: String,
    account_id: String,
    auth_kind: String,
    account_name: String,
    status: String,
    error_message: Option<String>,
    updated_at: Millis,
    campaign_id: Option<String>,
}

impl TryFrom<FailedTargetRow> for FailedTarget {
    type Error = StoreError;

    fn try_from(r: FailedTargetRow) -> Result<Self> {
        Ok(FailedTarget {
            target_id: TargetId::from_db(&r.id)?,
            title: r.title,
            platform: parse_enum(&r.platform, Platform::parse, "platform")?,
            account_id: AccountId::from_db(&r.account_id)?,
            auth_kind: parse_enum(&r.auth_kind, AuthKind::parse, "auth kind")?,
            account_name: r.account_name,
            status: parse_enum(&r.status, TargetStatus::parse, "target status")?,
            error_message: r.error_message,
            updated_at: r.updated_at,
            campaign_id: r.campaign_id.as_deref().map(CampaignId::from_db).transpose()?,
        })
    }
}

impl Store {
    /// Stores a reading; a target's reading newer than the one its target holds becomes the target's latest
    /// (`post_targets.latest_*`), in the same transaction.
    pub async fn insert_metrics_snapshot(&self, tenant: TenantId, s: &NewSnapshot) -> Result<()> {
        let v = &s.values;
        let id = uuid::Uuid::now_v7().to_string();
        let mut tx = self.pool.begin().await?;
        sqlx::query(
            "INSERT INTO metrics_snapshots (id, tenant_id, account_id, target_id, platform, captured_at, views, reach, \
             likes, comments, shares, saves, followers, raw, views_added) \
             VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14, \
             CASE WHEN $4 IS NOT NULL THEN $7 - COALESCE((SELECT p.views FROM metrics_snapshots p \
             WHERE p.target_id = $4 AND p.tenant_id = $2 AND p.views IS NOT NULL \
             AND (p.captured_at < $6 OR (p.captured_at = $6 AND p.id < $1)) \
             ORDER BY p.captured_at DESC, p.id DESC LIMIT 1), 0) END)",
        )
        .bind(&id)
        .bind(tenant.to_db())
        .bind(s.account_id.to_db())
        .bind(s.target_id.map(|t| t.to_db()))
        .bind(s.platform.as_str())
        .bind(s.captured_at)
        .bind(v.views)
        .bind(v.reach)
        .bind(v.likes)
        .bind(v.comments)
        .bind(v.shares)
        .bind(v.saves)
        .bind(v.followers)
        .bind(s.raw.to_string())
        .execute(&mut *tx)
        .await?;
        if let (Some(target), Some(views)) = (s.target_id, v.views) {
            // A reading that arrived out of order: the one after it now adds to this one's views.
            sqlx::query(
                "UPDATE metrics_snapshots SET views_added = views - $1 WHERE id = (SELECT n.id \
                 FROM metrics_snapshots n WHERE n.target_id = $2 AND n.tenant_id = $3 AND n.views IS NOT NULL \
                 AND (n.captured_at > $4 OR (n.captured_at = $4 AND n.id > $5)) ORDER BY n.captured_at, n.id LIMIT 1)",
            )
            .bind(views)
            .bind(target.to_db())
            .bind(tenant.to_db())
            .bind(s.captured_at)
            .bind(&id)
            .execute(&mut *tx)
            .await?;
        }
        if let Some(target) = s.target_id {
            sqlx::query(
                "UPDATE post_targets SET latest_snapshot_id = $1, latest_captured_at = $2, latest_views = $3, \
                 latest_reach = $4, latest_likes = $5, latest_comments = $6, latest_shares = $7, latest_saves = $8 \
                 WHERE id = $9 AND tenant_id = $10 AND (latest_captured_at IS NULL OR latest_captured_at < $2 \
                 OR (latest_captured_at = $2 AND latest_snapshot_id < $1))",
            )
            .bind(&id)
            .bind(s.captured_at)
            .bind(v.views)
            .bind(v.reach)
            .bind(v.likes)
            .bind(v.comments)
            .bind(v.shares)
            .bind(v.saves)
            .bind(target.to_db())
            .bind(tenant.to_db())
            .execute(&mut *tx)
            .await?;
        }
        tx.commit().await?;
        Ok(())
    }

    /// Recomputes every target's latest reading and every reading's added views from the snapshots (what the
    /// migrations that added them did): for readings written around [`Store::insert_metrics_snapshot`], such as a
    /// bulk import.
    pub async fn recompute_latest_metrics(&self) -> Result<()> {
        sqlx::query(
            "UPDATE metrics_snapshots SET views_added = views - COALESCE((SELECT p.views FROM metrics_snapshots p \
             WHERE p.target_id = metrics_snapshots.target_id AND p.views IS NOT NULL \
             AND (p.captured_at < metrics_snapshots.captured_at \
             OR (p.captured_at = metrics_snapshots.captured_at AND p.id < metrics_snapshots.id)) \
             ORDER BY p.captured_at DESC, p.id DESC LIMIT 1), 0) WHERE target_id IS NOT NULL AND views IS NOT NULL",
        )
        .execute(&self.pool)
        .await?;
        sqlx::query(
            "UPDATE post_targets SET latest_snapshot_id = (SELECT s.id FROM metrics_snapshots s \
             WHERE s.target_id = post_targets.id ORDER BY s.captured_at DESC, s.id DESC LIMIT 1)",
        )
        .execute(&self.pool)
        .await?;
        sqlx::query(
            "UPDATE post_targets SET latest_captured_at = m.captured_at, latest_views = m.views, \
             latest_reach = m.reach, latest_likes = m.likes, latest_comments = m.comments, latest_shares = m.shares, \
             latest_saves = m.saves FROM metrics_snapshots m WHERE m.id = post_targets.latest_snapshot_id",
        )
        .execute(&self.pool)
        .await?;
        Ok(())
    }

    /// Targets published in `[start, end)`, oldest first, each with its latest reading captured in `[start, end)`
    /// (all missing when it has none): what the data sync export lists. [`Store::published_totals`] and
    /// [`Store::published_ranked`] read the same values (see [`period_values_from`]) summed or ranked.
    pub async fn published_targets(
        &self,
        tenant: TenantId,
        start: Millis,
        end: Millis,
    ) -> Result<Vec<(PublishedTarget, MetricValues)>> {
        let sql = format!(
            "SELECT {TARGET_COLUMNS}, p.title, p.campaign_id, {} {} ORDER BY t.published_at, t.id",
            period_values(),
            period_values_from().replacen(
                "FROM post_targets t",
                "FROM post_targets t JOIN posts p ON p.id = t.post_id",
                1
            )
        );
        let rows = sqlx::query(&sql)
            .bind(tenant.to_db())
            .bind(start)
            .bind(end)
            .bind(None::<&str>)
            .bind(None::<String>)
            .bind(true)
            .bind(None::<String>)
            .fetch_all(&self.pool)
            .await?;
        rows.iter().map(|r| Ok((PublishedTargetRow::from_row(r)?.try_into()?, MetricValues::from_row(r)?))).collect()
    }

    /// The targets of `selection` published in `[start, end)`, their period values as
    /// [`Store::published_targets`] reads them, in one pass: counted and summed per platform and auth kind (a sum
    /// is missing when every value in it is: SQL's `SUM`, as `reports::sum_present` has it), and the `ranked` best
    /// and worst of those with views, by views (ties: published first, then by id; the worst are the exact reverse
    /// order, and may repeat a best one when fewer than twice `ranked` have views). Nothing else per target leaves
    /// the database.
    pub async fn published_summary(
        &self,
        tenant: TenantId,
        start: Millis,
        end: Millis,
        selection: &TargetSelection,
        ranked: i64,
    ) -> Result<PublishedSummary> {
        let sums = METRIC_COLUMNS.map(|c| format!("CAST(SUM(v.{c}) AS BIGINT) AS {c}")).join(", ");
        let metrics = METRIC_COLUMNS.map(|c| format!("v.{c}")).join(", ") + ", v.followers";
        let ranked_part = |part: &str, order: &str| {
            format!(
                "SELECT * FROM (SELECT '{part}' AS part, v.platform, v.auth_kind, 1 AS published, v.id, v.post_id, \
                 v.account_id, v.account_name, v.permalink, v.published_at, {metrics} FROM v \
                 WHERE v.views IS NOT NULL ORDER BY {order} LIMIT $8) ranked_{part}"
            )
        };
        let sql = format!(
            "WITH v AS MATERIALIZED (SELECT {TARGET_COLUMNS}, {} {}) \
             SELECT 'sum' AS part, v.platform, v.auth_kind, COUNT(*) AS published, CAST(NULL AS TEXT) AS id, \
             CAST(NULL AS TEXT) AS post_id, CAST(NULL AS TEXT) AS account_id, CAST(NULL AS TEXT) AS account_name, \
             CAST(NULL AS TEXT) AS permalink, CAST(NULL AS BIGINT) AS published_at, {sums}, \
             CAST(NULL AS BIGINT) AS followers \
             FROM v GROUP BY v.platform, v.auth_kind \
             UNION ALL {} UNION ALL {}",
            period_values(),
            period_values_from(),
            ranked_part("top", "v.views DESC, v.published_at, v.id"),
            ranked_part("bottom", "v.views, v.published_at DESC, v.id DESC"),
        );
        let query = selection.bind(sqlx::query(&sql).bind(tenant.to_db()).bind(start).bind(end));
        let rows = query.bind(ranked).fetch_all(&self.pool).await?;
        let mut summary = PublishedSummary::default();
        let mut ranked_rows = Vec::new();
        for r in &rows {
            let part: String = r.try_get("part")?;
            let platform: String = r.try_get("platform")?;
            let auth_kind: String = r.try_get("auth_kind")?;
            let platform = parse_enum(&platform, Platform::parse, "platform")?;
            let auth_kind = parse_enum(&auth_kind, AuthKind::parse, "auth kind")?;
            let values = MetricValues::from_row(r)?;
            if part == "sum" {
                summary.groups.push(PublishedGroup { platform, auth_kind, published: r.try_get("published")?, values });
                continue;
            }
            let (id, post_id, account_id): (String, String, String) =
                (r.try_get("id")?, r.try_get("post_id")?, r.try_get("account_id")?);
            let target = PublishedTarget {
                target_id: TargetId::from_db(&id)?,
                post_id: PostId::from_db(&post_id)?,
                title: String::new(),
                campaign_id: None,
                platform,
                account_id: AccountId::from_db(&account_id)?,
                auth_kind,
                account_name: r.try_get("account_name")?,
                permalink: r.try_get("permalink")?,
                published_at: r.try_get("published_at")?,
            };
            ranked_rows.push((part == "top", target, values));
        }
        // The ranked few get their posts' titles (and campaigns) in a second, small read.
        let posts: Vec<String> = ranked_rows.iter().map(|(_, t, _)| t.post_id.to_db()).collect();
        let mut titles = BTreeMap::new();
        if !posts.is_empty() {
            let sql = format!(
                "SELECT id, title, campaign_id FROM posts WHERE tenant_id = $1 AND id IN ({})",
                crate::dialect::placeholders(2, posts.len())
            );
            let mut query = sqlx::query_as::<_, (String, String, Option<String>)>(&sql).bind(tenant.to_db());
            for id in &posts {
                query = query.bind(id);
            }
            titles = query.fetch_all(&self.pool).await?.into_iter().map(|(id, t, c)| (id, (t, c))).collect();
        }
        for (top, mut target, values) in ranked_rows {
            if let Some((title, campaign)) = titles.get(&target.post_id.to_db()) {
                target.title = title.clone();
                target.campaign_id = campaign.as_deref().map(CampaignId::from_db).transpose()?;
            }
            if top { &mut summary.top } else { &mut summary.bottom }.push((target, values));
        }
        Ok(summary)
    }

    /// Targets that failed or whose outcome is unknown, last changed in `[start, end)`.
    pub async fn failed_targets(&self, tenant: TenantId, start: Millis, end: Millis) -> Result<Vec<FailedTarget>> {
        let rows = sqlx::query(
            "SELECT t.id, p.title, t.platform, t.account_id, a.auth_kind, a.name AS account_name, t.status, \
             t.error_message, t.updated_at, p.campaign_id \
             FROM post_targets t JOIN posts p ON p.id = t.post_id JOIN social_accounts a ON a.id = t.account_id \
             WHERE t.tenant_id = $1 AND t.status IN ('failed', 'unknown') AND t.updated_at >= $2 AND t.updated_at < $3 \
             ORDER BY t.updated_at, t.id",
        )
        .bind(tenant.to_db())
        .bind(start)
        .bind(end)
        .fetch_all(self.reader())
        .await?;
        rows.iter().map(|r| FailedTargetRow::from_row(r)?.try_into()).collect()
    }

    /// New views per whole day of `[start, end)` (day `i` = `[start + i * day_ms, start + (i + 1) * day_ms)`) of the
    /// targets published in the period, summed per account: each reading adds its views minus those of the
    /// target's reading before it that has views (`metrics_snapshots.views_added`; the first one adds all its
    /// views), so a day's sum is the growth of the cumulative counters over that day. Readings without views are
    /// skipped; days from `max_days` on are left out; with `campaign`, only that campaign's posts. Driven by the period's publications (the tenant is checked
    /// on the target; a snapshot belongs to its target's tenant) and read from the `(target_id, captured_at, id,
    /// views_added)` index alone; the accounts are joined to the few summed rows.
    pub async fn daily_view_additions(
        &self,
        tenant: TenantId,
        start: Millis,
        end: Millis,
        day_ms: Millis,
        max_days: i64,
        campaign: Option<CampaignId>,
    ) -> Result<Vec<DailyAddition>> {
        let rows: Vec<(String, String, String, i64, Option<i64>)> = sqlx::query_as(
            "SELECT x.account_id, x.platform, a.auth_kind, x.day, x.added FROM (\
             SELECT (m.captured_at - $2) / $4 AS day, t.account_id, t.platform, \
             CAST(SUM(m.views_added) AS BIGINT) AS added \
             FROM post_targets t JOIN metrics_snapshots m ON m.target_id = t.id \
             WHERE t.tenant_id = $1 AND t.status = 'published' AND t.published_at >= $2 AND t.published_at < $3 \
             AND m.views_added IS NOT NULL AND m.captured_at >= $2 AND m.captured_at < $3 \
             AND (m.captured_at - $2) / $4 < $5 \
             AND ($6 IS NULL OR t.post_id IN (SELECT c.id FROM posts c WHERE c.tenant_id = $1 AND c.campaign_id = $6)) \
             GROUP BY 1, 2, 3) x \
             JOIN social_accounts a ON a.id = x.account_id ORDER BY x.day",
        )
        .bind(tenant.to_db())
        .bind(start)
        .bind(end)
        .bind(day_ms.max(1))
        .bind(max_days)
        .bind(campaign.map(|c| c.to_db()))
        .fetch_all(self.reader())
        .await?;
        rows.into_iter()
            .map(|(account, platform, auth_kind, day, added)| {
                Ok(DailyAddition {
                    account_id: AccountId::from_db(&account)?,
                    platform: parse_enum(&platform, Platform::parse, "platform")?,
                    auth_kind: parse_enum(&auth_kind, AuthKind::parse, "auth kind")?,
                    day,
                    views: added.unwrap_or(0),
                })
            })
            .collect()
    }

    /// Followers per account at the start and the end of `[start, end)`: the latest account-level reading at or
    /// before `start` (within 35 days; else the first one inside the period), and the latest inside the period
    /// (missing when there is none: an old reading says nothing about the end of this period).
    pub async fn follower_changes(&self, tenant: TenantId, start: Millis, end: Millis) -> Result<Vec<FollowerChange>> {
        let rows: Vec<(String, String, String, Millis, i64)> = sqlx::query_as(
            "SELECT m.account_id, a.auth_kind, m.platform, m.captured_at, m.followers FROM metrics_snapshots m \
             JOIN social_accounts a ON a.id = m.account_id \
             WHERE m.tenant_id = $1 AND m.target_id IS NULL AND m.followers IS NOT NULL \
             AND m.captured_at >= $2 AND m.captured_at < $3 ORDER BY m.account_id, m.captured_at, m.id",
        )
        .bind(tenant.to_db())
        .bind(start - FOLLOWER_LOOKBACK_MS)
        .bind(end)
        .fetch_all(self.reader())
        .await?;
        let mut by_account: BTreeMap<AccountId, FollowerChange> = BTreeMap::new();
        for (account, auth_kind, platform, at, followers) in rows {
            let account = AccountId::from_db(&account)?;
            let auth_kind = parse_enum(&auth_kind, AuthKind::parse, "auth kind")?;
            let platform = parse_enum(&platform, Platform::parse, "platform")?;
            let entry = by_account.entry(account).or_insert(FollowerChange {
                account_id: account,
                auth_kind,
                platform,
                at_start: None,
                at_end: None,
            });
            if at <= start || entry.at_start.is_none() {
                entry.at_start = Some(followers);
            }
            if at >= start {
                entry.at_end = Some(followers);
            }
        }
        Ok(by_account.into_values().collect())
    }
}

impl Store {
    /// The latest reading of each of `targets` whenever it was captured, with its capture time: what the library
    /// shows beside a published post. A target never measured is absent.
    pub async fn latest_metrics_of_targets(
        &self,
        tenant: TenantId,
        targets: &[TargetId],
    ) -> Result<BTreeMap<TargetId, (Millis, MetricValues)>> {
        if targets.is_empty() {
            return Ok(BTreeMap::new());
        }
        let list = crate::dialect::placeholders(2, targets.len());
        // The newest row per target: no later reading of the same target exists (ties broken by id).
        let sql = format!(
            "SELECT m.target_id, m.captured_at, m.views, m.reach, m.likes, m.comments, m.shares, m.saves, m.followers \
             FROM metrics_snapshots m WHERE m.tenant_id = $1 AND m.target_id IN ({list}) AND NOT EXISTS ( \
             SELECT 1 FROM metrics_snapshots n WHERE n.tenant_id = m.tenant_id AND n.target_id = m.target_id \
             AND (n.captured_at > m.captured_at OR (n.captured_at = m.captured_at AND n.id > m.id)))"
        );
        let mut q = sqlx::query_as::<_, SnapshotRow>(&sql).bind(tenant.to_db());
        for t in targets {
            q = q.bind(t.to_db());
        }
        q.fetch_all(&self.pool)
            .await?
            .into_iter()
            .map(|r| Ok((TargetId::from_db(&r.target_id)?, (r.captured_at, r.values))))
            .collect()
    }
}

impl Store {
    /// Published targets of an account since `since` that have a platform post id and were not deleted from the
    /// platform since, newest first: what the metrics sync reads.
    pub async fn measurable_targets(
        &self,
        tenant: TenantId,
        account: AccountId,
        since: Millis,
        limit: i64,
    ) -> Result<Vec<(TargetId, String)>> {
        let rows: Vec<(String, String)> = sqlx::query_as(
            "SELECT id, platform_post_id FROM post_targets WHERE tenant_id = $1 AND account_id = $2 \
             AND status = 'published' AND platform_post_id IS NOT NULL AND published_at >= $3 \
             AND deleted_at IS NULL ORDER BY published_at DESC, id LIMIT $4",
        )
        .bind(tenant.to_db())
        .bind(account.to_db())
        .bind(since)
        .bind(limit)
        .fetch_all(self.reader())
        .await?;
        rows.into_iter().map(|(id, post)| Ok((TargetId::from_db(&id)?, post))).collect()
    }
}
