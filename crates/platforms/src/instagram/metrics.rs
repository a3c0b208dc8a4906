//! Instagram metrics: a media's insights (they lag up to 48 hours) and the account's followers.

use super::InstagramPublisher;
use crate::metrics::{insight, AccountMetrics, MetricsAccount, MetricsReader, PostMetrics};
use crate::publish::PublishError;

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
