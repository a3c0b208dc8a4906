//! Metrics readers for the metrics-sync job: engagement of one published post and the followers of an account.
//!
//! Missing data stays `None`, never 0: Instagram insights lag up to 48 hours and answer an empty list meanwhile,
//! and a zero would read as "nobody looked".

use super::facebook::FacebookPublisher;
use super::instagram::InstagramPublisher;
use super::tiktok::TikTokPublisher;
use crate::publish::PublishError;
use serde_json::{json, Value};
use tochen_domain::secret::SecretString;
use tochen_domain::AuthKind;

/// The account a metrics read is for.
#[derive(Debug, Clone)]
pub struct MetricsAccount {
    pub auth_kind: AuthKind,
    pub external_id: String,
    pub access_token: SecretString,
}

#[derive(Debug, Clone, Default, PartialEq)]
pub struct PostMetrics {
    pub views: Option<i64>,
    pub reach: Option<i64>,
    pub likes: Option<i64>,
    pub comments: Option<i64>,
    pub shares: Option<i64>,
    pub saves: Option<i64>,
    /// The platform's answer, kept for the `raw` column.
    pub raw: Value,
}

#[derive(Debug, Clone, Default, PartialEq)]
pub struct AccountMetrics {
    pub followers: Option<i64>,
    pub raw: Value,
}

#[async_trait::async_trait]
pub trait MetricsReader: Send + Sync {
    async fn post_metrics(&self, account: &MetricsAccount, platform_post_id: &str)
        -> Result<PostMetrics, PublishError>;
    async fn account_metrics(&self, account: &MetricsAccount) -> Result<AccountMetrics, PublishError>;
}

/// `{"data":[{"name","values":[{"value"}]}]}` -> the value of `name`, `None` when absent.
fn insight(v: &Value, name: &str) -> Option<i64> {
    v["data"].as_array()?.iter().find(|m| m["name"] == name)?["values"][0]["value"].as_i64()
}

#[async_trait::async_trait]
impl MetricsReader for FacebookPublisher {
    async fn post_metrics(&self, a: &MetricsAccount, post: &str) -> Result<PostMetrics, PublishError> {
        let fields = "shares,reactions.summary(total_count).limit(0),comments.summary(total_count).limit(0)";
        let e = self.graph.get(post, &a.access_token, &[("fields", fields)]).await?;
        let metric = "post_total_media_view_unique,post_clicks,post_reactions_by_type_total";
        let i = self.graph.get(&format!("{post}/insights"), &a.access_token, &[("metric", metric)]).await?;
        Ok(PostMetrics {
            // `shares` is absent when nobody shared: that is a real zero.
            shares: Some(e["shares"]["count"].as_i64().unwrap_or(0)),
            likes: e["reactions"]["summary"]["total_count"].as_i64(),
            comments: e["comments"]["summary"]["total_count"].as_i64(),
            reach: insight(&i, "post_total_media_view_unique"),
            views: None,
            saves: None,
            raw: json!({"engagement": e, "insights": i}),
        })
    }

    async fn account_metrics(&self, a: &MetricsAccount) -> Result<AccountMetrics, PublishError> {
        let v = self.graph.get(&a.external_id, &a.access_token, &[("fields", "followers_count,fan_count")]).await?;
        Ok(AccountMetrics { followers: v["followers_count"].as_i64().or(v["fan_count"].as_i64()), raw: v })
    }
}

#[async_trait::async_trait]
impl MetricsReader for InstagramPublisher {
    async fn post_metrics(&self, a: &MetricsAccount, media: &str) -> Result<PostMetrics, PublishError> {
        let g = self.host(a.auth_kind);
        let metric = "views,reach,likes,comments,shares,saved,total_interactions";
        let v = g.get(&format!("{media}/insights"), &a.access_token, &[("metric", metric)]).await?;
        Ok(PostMetrics {
            views: insight(&v, "views"),
            reach: insight(&v, "reach"),
            likes: insight(&v, "likes"),
            comments: insight(&v, "comments"),
            shares: insight(&v, "shares"),
            saves: insight(&v, "saved"),
            raw: v,
        })
    }

    async fn account_metrics(&self, a: &MetricsAccount) -> Result<AccountMetrics, PublishError> {
        let g = self.host(a.auth_kind);
        let v = g.get(&a.external_id, &a.access_token, &[("fields", "followers_count,media_count")]).await?;
        Ok(AccountMetrics { followers: v["followers_count"].as_i64(), raw: v })
    }
}

#[async_trait::async_trait]
impl MetricsReader for TikTokPublisher {
    async fn post_metrics(&self, a: &MetricsAccount, video: &str) -> Result<PostMetrics, PublishError> {
        let url = format!(
            "{}/v2/video/query/?fields=id,title,create_time,view_count,like_count,comment_count,share_count",
            self.api.as_str().trim_end_matches('/')
        );
        let req =
            self.http.post(url).bearer_auth(a.access_token.expose()).json(&json!({"filters": {"video_ids": [video]}}));
        let data = super::tiktok::envelope(super::http::send(req, super::http::Effect::Read).await?)?;
        let v = data["videos"]
            .as_array()
            .and_then(|l| {
                l.iter().find(|x| x["id"] == *video || x["id"].as_i64().is_some_and(|n| video.parse() == Ok(n)))
            })
            .cloned();
        let Some(v) = v else {
            return Ok(PostMetrics { raw: data, ..Default::default() });
        };
        Ok(PostMetrics {
            views: v["view_count"].as_i64(),
            likes: v["like_count"].as_i64(),
            comments: v["comment_count"].as_i64(),
            shares: v["share_count"].as_i64(),
            reach: None,
            saves: None,
            raw: v,
        })
    }

    async fn account_metrics(&self, a: &MetricsAccount) -> Result<AccountMetrics, PublishError> {
        let url = format!(
            "{}/v2/user/info/?fields=open_id,display_name,username,follower_count,following_count,likes_count,video_count",
            self.api.as_str().trim_end_matches('/')
        );
        let req = self.http.get(url).bearer_auth(a.access_token.expose());
        let data = super::tiktok::envelope(super::http::send(req, super::http::Effect::Read).await?)?;
        Ok(AccountMetrics { followers: data["user"]["follower_count"].as_i64(), raw: data })
    }
}
