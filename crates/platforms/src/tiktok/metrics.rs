//! TikTok metrics: a video's counts from `/v2/video/query/`, the creator's followers from `/v2/user/info/`.

use super::publish::envelope;
use super::TikTokPublisher;
use crate::http::{send, Effect};
use crate::metrics::{AccountMetrics, MetricsAccount, MetricsReader, PostMetrics};
use crate::publish::PublishError;
use serde_json::json;

#[async_trait::async_trait]
impl MetricsReader for TikTokPublisher {
    async fn post_metrics(&self, a: &MetricsAccount, video: &str) -> Result<PostMetrics, PublishError> {
        let url = format!(
            "{}/v2/video/query/?fields=id,title,create_time,view_count,like_count,comment_count,share_count",
            self.api.as_str().trim_end_matches('/')
        );
        let req =
            self.http.post(url).bearer_auth(a.access_token.expose()).json(&json!({"filters": {"video_ids": [video]}}));
        let data = envelope(send(req, Effect::Read).await?)?;
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
        let data = envelope(send(req, Effect::Read).await?)?;
        Ok(AccountMetrics { followers: data["user"]["follower_count"].as_i64(), raw: data })
    }
}
