//! Posts as the API shows them: the list's summaries (targets and tags read for the whole page at once) and one
//! post's detail (its per-platform versions, media, per-platform status with the latest metrics).

use crate::api::Problem;
use chrono::{DateTime, SecondsFormat, Utc};
use serde::Serialize;
use std::collections::BTreeMap;
use tochen_domain::clock::Millis;
use tochen_domain::{PostId, TenantId};
use tochen_store::{MetricValues, Post, Store, Target};
use utoipa::ToSchema;

/// A time as the API writes it: RFC 3339 in UTC, to the second.
pub fn rfc3339(ms: Millis) -> String {
    DateTime::<Utc>::from_timestamp_millis(ms).unwrap_or_default().to_rfc3339_opts(SecondsFormat::Secs, true)
}

/// The `ETag` of a post: its version, which every change bumps.
pub fn etag(post: &Post) -> String {
    format!("\"{}\"", post.version)
}

/// A post on one account: where it is in publishing, and what it earned.
#[derive(Debug, Serialize, ToSchema)]
pub struct TargetOut {
    pub id: String,
    pub account_id: String,
    /// `facebook`, `instagram` or `tiktok`.
    pub platform: &'static str,
    /// `pending`, `publishing`, `published`, `failed`, `unknown` or `cancelled`.
    pub status: &'static str,
    pub permalink: Option<String>,
    pub published_at: Option<String>,
    /// The platform's error, when it failed.
    pub error: Option<String>,
    /// The latest metrics reading (absent before the first one; a metric the platform does not give is absent).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub metrics: Option<MetricsOut>,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct MetricsOut {
    pub captured_at: String,
    pub views: Option<i64>,
    pub reach: Option<i64>,
    pub likes: Option<i64>,
    pub comments: Option<i64>,
    pub shares: Option<i64>,
    pub saves: Option<i64>,
}

impl MetricsOut {
    fn new(at: Millis, m: &MetricValues) -> Self {
        MetricsOut {
            captured_at: rfc3339(at),
            views: m.views,
            reach: m.reach,
            likes: m.likes,
            comments: m.comments,
            shares: m.shares,
            saves: m.saves,
        }
    }
}

/// A post's text on one platform.
#[derive(Debug, Serialize, ToSchema)]
pub struct VersionOut {
    pub platform: &'static str,
    pub text: String,
    pub hashtags: Vec<String>,
    pub link: Option<String>,
    /// Edited for this platform: a change of the main text no longer reaches it.
    pub custom: bool,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct MediaOut {
    pub id: String,
    /// `image` or `video`.
    pub kind: String,
}

/// A post. `version` is also its `ETag`: send it back as `If-Match` to change the post.
#[derive(Debug, Serialize, ToSchema)]
pub struct PostOut {
    pub id: String,
    /// `draft`, `pending_approval`, `scheduled`, `publishing`, `published`, `partially_published`, `failed`,
    /// `cancelled` or `rejected`.
    pub status: &'static str,
    pub title: String,
    /// The main text.
    pub text: String,
    pub scheduled_at: Option<String>,
    pub version: i64,
    pub rejection_reason: Option<String>,
    pub tags: Vec<String>,
    pub targets: Vec<TargetOut>,
    /// Detail only: the per-platform versions.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub versions: Option<Vec<VersionOut>>,
    /// Detail only: the media, in order.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub media: Option<Vec<MediaOut>>,
    /// Detail only: the accounts a draft is aimed at (a scheduled post's are its targets').
    #[serde(skip_serializing_if = "Option::is_none")]
    pub accounts: Option<Vec<String>>,
    /// Detail only: the campaign it belongs to.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub campaign: Option<String>,
    pub created_at: String,
    pub updated_at: String,
}

fn target_out(t: &Target, metrics: Option<&(Millis, MetricValues)>) -> TargetOut {
    TargetOut {
        id: t.id.to_string(),
        account_id: t.account_id.to_string(),
        platform: t.platform.as_str(),
        status: t.status.as_str(),
        permalink: t.permalink.clone(),
        published_at: t.published_at.map(rfc3339),
        error: t.error_message.clone(),
        metrics: metrics.map(|(at, m)| MetricsOut::new(*at, m)),
    }
}

fn base(p: &Post, tags: Vec<String>, targets: Vec<TargetOut>) -> PostOut {
    PostOut {
        id: p.id.to_string(),
        status: p.status.as_str(),
        title: p.title.clone(),
        text: p.body.clone(),
        scheduled_at: p.scheduled_at.map(rfc3339),
        version: p.version,
        rejection_reason: p.rejection_reason.clone(),
        tags,
        targets,
        versions: None,
        media: None,
        accounts: None,
        campaign: None,
        created_at: rfc3339(p.created_at),
        updated_at: rfc3339(p.updated_at),
    }
}

/// A page of posts with their targets and tags (two reads for the page, not two per post).
pub async fn summaries(store: &Store, tenant: TenantId, posts: &[Post]) -> Result<Vec<PostOut>, Problem> {
    let ids: Vec<PostId> = posts.iter().map(|p| p.id).collect();
    let mut tags: BTreeMap<PostId, Vec<String>> = BTreeMap::new();
    for (p, t) in store.tags_of_posts(tenant, &ids).await? {
        tags.entry(p).or_default().push(t);
    }
    let mut targets: BTreeMap<PostId, Vec<TargetOut>> = BTreeMap::new();
    for t in store.targets_of_posts(tenant, &ids).await? {
        targets.entry(t.post_id).or_default().push(target_out(&t, None));
    }
    Ok(posts
        .iter()
        .map(|p| base(p, tags.remove(&p.id).unwrap_or_default(), targets.remove(&p.id).unwrap_or_default()))
        .collect())
}

/// One post with everything about it.
pub async fn detail(store: &Store, tenant: TenantId, post: &Post) -> Result<PostOut, Problem> {
    let targets = store.targets_of_post(tenant, post.id).await?;
    let ids: Vec<_> = targets.iter().map(|t| t.id).collect();
    let metrics = store.latest_metrics_of_targets(tenant, &ids).await?;
    let targets_out = targets.iter().map(|t| target_out(t, metrics.get(&t.id))).collect();
    let mut out = base(post, store.post_tags(tenant, post.id).await?, targets_out);
    let versions = store.post_contents(tenant, post.id).await?;
    out.versions = Some(
        versions
            .into_iter()
            .map(|c| VersionOut {
                platform: c.platform.as_str(),
                text: c.body,
                hashtags: c.hashtags,
                link: c.link,
                custom: c.custom,
            })
            .collect(),
    );
    let media = store.post_media_kinds(tenant, post.id).await?;
    out.media = Some(media.into_iter().map(|(id, kind)| MediaOut { id: id.to_string(), kind }).collect());
    let accounts = if targets.is_empty() {
        store.draft_accounts(tenant, post.id).await?.unwrap_or_default()
    } else {
        targets.iter().map(|t| t.account_id).collect()
    };
    out.accounts = Some(accounts.iter().map(ToString::to_string).collect());
    out.campaign = store.post_campaign(tenant, post.id).await?.map(|c| c.to_string());
    Ok(out)
}
