//! Instagram publishing: container, status polling, `media_publish`, with the publishing quota read first.
//!
//! The same paths serve both hosts: graph.facebook.com for accounts linked to a Page and graph.instagram.com for
//! Instagram Login; the account's `AuthKind` picks the host. The container id is recorded through `RefRecorder`
//! the moment it exists, so a crash or a lost answer can be resolved by asking for the container's status.
//!
//! A container is not a post: creating one again is harmless, so container creation is retried like a read. The
//! post is made by `media_publish`, so before it is sent the reference is recorded again with a mark
//! (`<container>#publish_sent`). A container with the mark is never published again: if Instagram still shows it
//! unpublished after the answer was lost, the team is asked ([`CheckOutcome::Unknown`]). A refusal that proves
//! nothing was published (not ready yet, quota, rate limit) records the plain container again.
//!
//! Instagram takes JPEG images only ([`Publisher::image_types`]); the pipeline converts other images first.

use crate::graph::{created_id, field, GraphHost};
use crate::http::{Effect, PollPolicy};
use crate::publish::{
    CheckOutcome, ErrorClass, MediaRef, PublishError, PublishOutcome, PublishRequest, Publisher, RefRecorder,
};
use std::time::Duration;
use tochen_domain::secret::SecretString;
use tochen_domain::{AuthKind, MediaKind};

#[derive(Debug, Clone)]
pub struct InstagramPublisher {
    /// graph.facebook.com, for `InstagramViaPage`.
    pub page_graph: GraphHost,
    /// graph.instagram.com, for `InstagramLogin`.
    pub login_graph: GraphHost,
    pub poll: PollPolicy,
    /// Instagram's hashtag limit: 30 for years, 5 announced in Dec 2025; configurable for that reason.
    pub max_hashtags: usize,
    /// Most carousel items (Meta's reference says 10; configurable, `TOCHEN_INSTAGRAM_CAROUSEL_MAX`).
    pub carousel_max: usize,
}

/// Instagram's subcode in a container's `status` ("Error: ... Error code 2207026"), if any.
pub fn status_subcode(status: &str) -> Option<String> {
    status.split(|c: char| !c.is_ascii_digit()).find(|w| w.len() == 7 && w.starts_with("2207")).map(str::to_owned)
}

/// Instagram's limit on @-mentions in a caption.
const MAX_MENTIONS: usize = 20;

fn count_tags(text: &str, sigil: char) -> usize {
    text.split_whitespace().filter(|w| w.starts_with(sigil) && w.chars().count() > 1).count()
}

use super::MAX_CAPTION;
const MAX_IMAGE_BYTES: i64 = 8 * 1024 * 1024;

fn permanent(msg: impl Into<String>) -> PublishError {
    PublishError::new(ErrorClass::Permanent, None, msg)
}

/// A container whose processing failed, with Instagram's subcode when its status names one.
fn processing_failed(status: &str) -> PublishError {
    let detail = if status.is_empty() || status == "ERROR" { String::new() } else { format!(": {status}") };
    PublishError::new(
        ErrorClass::Permanent,
        status_subcode(status),
        format!("Instagram could not process the media (container status ERROR){detail}"),
    )
}

/// The mark on a recorded container once `media_publish` is being sent for it.
const SENT: &str = "#publish_sent";

/// A recorded reference as (container id, whether `media_publish` was sent for it).
fn parse_ref(platform_ref: &str) -> (&str, bool) {
    match platform_ref.strip_suffix(SENT) {
        Some(container) => (container, true),
        None => (platform_ref, false),
    }
}

/// Records a reference. A container is not a post, so a failure to record one is retried.
async fn record(refs: &dyn RefRecorder, platform_ref: &str) -> Result<(), PublishError> {
    refs.record(platform_ref).await.map_err(|e| {
        let class = ErrorClass::Retryable { retry_after: None };
        PublishError::new(class, None, format!("could not record the Instagram container id: {e}"))
    })
}

impl InstagramPublisher {
    pub fn host(&self, kind: AuthKind) -> &GraphHost {
        if kind == AuthKind::InstagramLogin {
            &self.login_graph
        } else {
            &self.page_graph
        }
    }

    /// Reads `content_publishing_limit`; a full quota is retryable after the window moves.
    async fn check_quota(&self, g: &GraphHost, ig: &str, token: &SecretString) -> Result<(), PublishError> {
        let v = g.get(&format!("{ig}/content_publishing_limit"), token, &[("fields", "quota_usage,config")]).await?;
        let entry = &v["data"][0];
        let usage = entry["quota_usage"].as_i64().unwrap_or(0);
        let total = entry["config"]["quota_total"].as_i64();
        if let Some(total) = total.filter(|t| usage >= *t) {
            return Err(PublishError::new(
                ErrorClass::Retryable { retry_after: Some(Duration::from_secs(3600)) },
                Some("quota".into()),
                format!("Instagram's publishing limit is reached ({usage} of {total} posts in 24 hours)"),
            ));
        }
        Ok(())
    }

    async fn container(
        &self,
        g: &GraphHost,
        ig: &str,
        token: &SecretString,
        form: Vec<(&str, String)>,
    ) -> Result<String, PublishError> {
        field(&g.post_as(&format!("{ig}/media"), token, &form, Effect::Prepare).await?, "id")
    }

    /// `status_code` of a container, and its `status` text.
    async fn status_of(
        &self,
        g: &GraphHost,
        container: &str,
        token: &SecretString,
    ) -> Result<(String, String), PublishError> {
        let v = g.get(container, token, &[("fields", "status_code,status")]).await?;
        let code = v["status_code"].as_str().unwrap_or("IN_PROGRESS").to_string();
        Ok((code, v["status"].as_str().unwrap_or_default().to_string()))
    }

    async fn status(&self, g: &GraphHost, container: &str, token: &SecretString) -> Result<String, PublishError> {
        Ok(self.status_of(g, container, token).await?.0)
    }

    /// Polls until FINISHED (true), or the budget runs out (false); ERROR and EXPIRED are errors.
    async fn wait_finished(&self, g: &GraphHost, container: &str, token: &SecretString) -> Result<bool, PublishError> {
        let mut delays = self.poll.delays();
        loop {
            let (code, status) = self.status_of(g, container, token).await?;
            match code.as_str() {
                "FINISHED" | "PUBLISHED" => return Ok(true),
                "ERROR" => return Err(processing_failed(&status)),
                "EXPIRED" => {
                    return Err(PublishError::new(
                        ErrorClass::Retryable { retry_after: None },
                        Some("EXPIRED".into()),
                        "the Instagram container expired before it was published",
                    ))
                }
                _ => match delays.next() {
                    Some(d) => tokio::time::sleep(d).await,
                    None => return Ok(false),
                },
            }
        }
    }

    async fn publish_container(
        &self,
        g: &GraphHost,
        ig: &str,
        container: &str,
        token: &SecretString,
    ) -> Result<PublishOutcome, PublishError> {
        let v = g.post(&format!("{ig}/media_publish"), token, &[("creation_id", container.to_string())]).await?;
        let media_id = created_id(&v, "id")?;
        let permalink = g
            .get(&media_id, token, &[("fields", "permalink")])
            .await
            .ok()
            .and_then(|v| v["permalink"].as_str().map(str::to_string));
        Ok(PublishOutcome::Published { platform_post_id: media_id, permalink })
    }

    /// Sends `media_publish` for a finished container once: the mark is recorded first, and taken back when
    /// Instagram refuses in a way that proves nothing was published.
    async fn publish_marked(
        &self,
        g: &GraphHost,
        ig: &str,
        container: &str,
        token: &SecretString,
        refs: &dyn RefRecorder,
    ) -> Result<PublishOutcome, PublishError> {
        record(refs, &format!("{container}{SENT}")).await?;
        match self.publish_container(g, ig, container, token).await {
            // Meta may report FINISHED a moment before media_publish accepts it.
            Err(e) if e.code.as_deref() == Some("9007/2207027") => {
                record(refs, container).await?;
                Ok(PublishOutcome::Pending { platform_ref: container.to_string() })
            }
            Err(e) if matches!(e.class, ErrorClass::Retryable { .. }) => {
                record(refs, container).await?;
                Err(e)
            }
            other => other,
        }
    }

    fn child_form(m: &MediaRef) -> Vec<(&'static str, String)> {
        match m.kind {
            MediaKind::Image => vec![("image_url", m.url.clone()), ("is_carousel_item", "true".into())],
            MediaKind::Video => {
                vec![("media_type", "VIDEO".into()), ("video_url", m.url.clone()), ("is_carousel_item", "true".into())]
            }
        }
    }
}

#[async_trait::async_trait]
impl Publisher for InstagramPublisher {
    #[tracing::instrument(skip_all, fields(ig_user = %req.external_account_id, target = %req.target_id))]
    async fn publish(&self, req: &PublishRequest, refs: &dyn RefRecorder) -> Result<PublishOutcome, PublishError> {
        let g = self.host(req.auth_kind);
        let ig = req.external_account_id.as_str();
        let token = &req.access_token;
        if req.text.chars().count() > MAX_CAPTION {
            return Err(permanent(format!(
                "the caption has {} characters; Instagram allows {MAX_CAPTION}",
                req.text.chars().count()
            )));
        }
        let hashtags = count_tags(&req.text, '#');
        if hashtags > self.max_hashtags {
            return Err(permanent(format!(
                "the caption has {hashtags} hashtags; Instagram allows {}",
                self.max_hashtags
            )));
        }
        let mentions = count_tags(&req.text, '@');
        if mentions > MAX_MENTIONS {
            return Err(permanent(format!("the caption tags {mentions} accounts; Instagram allows {MAX_MENTIONS}")));
        }
        if req.media.is_empty() {
            return Err(permanent("an Instagram post needs an image or a video"));
        }
        if req.media.len() > self.carousel_max {
            return Err(permanent(format!(
                "a carousel holds at most {} items, this post has {}",
                self.carousel_max,
                req.media.len()
            )));
        }
        if let Some(big) = req.media.iter().find(|m| m.kind == MediaKind::Image && m.size_bytes > MAX_IMAGE_BYTES) {
            return Err(PublishError::new(
                ErrorClass::Permanent,
                Some("2207004".into()),
                format!("an image has {} bytes; Instagram takes images up to 8 MB", big.size_bytes),
            ));
        }
        self.check_quota(g, ig, token).await?;
        let caption = req.text.clone();
        let container = match req.media.as_slice() {
            [m] if m.kind == MediaKind::Image => {
                self.container(g, ig, token, vec![("image_url", m.url.clone()), ("caption", caption)]).await?
            }
            [m] => {
                let form = vec![
                    ("media_type", "REELS".to_string()),
                    ("video_url", m.url.clone()),
                    ("caption", caption),
                    ("share_to_feed", "true".into()),
                ];
                self.container(g, ig, token, form).await?
            }
            many => {
                let mut children = Vec::with_capacity(many.len());
                for m in many {
                    let child = self.container(g, ig, token, Self::child_form(m)).await?;
                    if m.kind == MediaKind::Video && !self.wait_finished(g, &child, token).await? {
                        return Err(PublishError::new(
                            ErrorClass::Retryable { retry_after: None },
                            None,
                            "an Instagram carousel video took too long to process",
                        ));
                    }
                    children.push(child);
                }
                let form = vec![
                    ("media_type", "CAROUSEL".to_string()),
                    ("children", children.join(",")),
                    ("caption", caption),
                ];
                self.container(g, ig, token, form).await?
            }
        };
        record(refs, &container).await?;
        if !self.wait_finished(g, &container, token).await? {
            return Ok(PublishOutcome::Pending { platform_ref: container });
        }
        self.publish_marked(g, ig, &container, token, refs).await
    }

    async fn check(
        &self,
        req: &PublishRequest,
        platform_ref: &str,
        refs: &dyn RefRecorder,
    ) -> Result<CheckOutcome, PublishError> {
        let g = self.host(req.auth_kind);
        let token = &req.access_token;
        let (container, sent) = parse_ref(platform_ref);
        match self.status(g, container, token).await?.as_str() {
            "IN_PROGRESS" => Ok(CheckOutcome::Pending),
            "EXPIRED" => Ok(CheckOutcome::NotPublished { reason: "the Instagram container expired".into() }),
            "ERROR" => {
                let (_, status) = self.status_of(g, container, token).await?;
                Ok(CheckOutcome::Failed(processing_failed(&status)))
            }
            // Published already: the container no longer says which media it became.
            "PUBLISHED" => Ok(CheckOutcome::Published { platform_post_id: container.to_string(), permalink: None }),
            _ if sent => Ok(CheckOutcome::Unknown {
                reason: "Instagram was asked to publish the post, its answer was lost, and the post does not show as \
                         published"
                    .into(),
            }),
            _ => match self.publish_marked(g, &req.external_account_id, container, token, refs).await {
                Ok(PublishOutcome::Published { platform_post_id, permalink }) => {
                    Ok(CheckOutcome::Published { platform_post_id, permalink })
                }
                Ok(PublishOutcome::Pending { .. }) => Ok(CheckOutcome::Pending),
                Err(e) if e.class == ErrorClass::Permanent => Ok(CheckOutcome::Failed(e)),
                Err(e) => Err(e),
            },
        }
    }

    fn image_types(&self) -> Option<&'static [&'static str]> {
        Some(&["image/jpeg"])
    }
}
