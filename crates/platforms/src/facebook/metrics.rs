//! Facebook Page metrics: a post's engagement and reach, the Page's followers.

use super::FacebookPublisher;
use crate::metrics::{insight, AccountMetrics, MetricsAccount, MetricsReader, PostMetrics};
use crate::publish::PublishError;
use serde_json::json;

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
