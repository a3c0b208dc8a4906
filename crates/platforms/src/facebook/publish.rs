//! Facebook Page publishing: text or link to `/feed`, one photo to `/photos`, several photos as unpublished
//! photos attached to one feed post (`attached_media`), a video as a Page video (`file_url` on the graph-video
//! host) or as a Reel (three phases: start, upload to `rupload` by `file_url` header, finish), both then polled
//! until Facebook reports them published (`docs/contracts/media-formats.md`).
//!
//! Videos hand out an id before the post exists: it is recorded through `RefRecorder` (`video:<id>` for a Page
//! video, `reel:<id>` for a Reel, `reel:<id>#finish` once `finish` is being sent) before anything waits, and
//! [`Publisher::check`] polls the video's status. A Reel whose `finish` was never sent is invisible, so a new
//! attempt is safe; one whose `finish` was sent is only ever asked about.
//!
//! Facebook answers synchronously, so there is no reference to record: the post id comes back with the answer.
//! Nor can Facebook be asked about a POST whose answer was lost, so a timeout, a dropped connection or a 5xx on
//! `/feed` or a published `/photos` is `OutcomeUnknown` and the team is asked. The unpublished photo uploads of a
//! multi-photo post are not visible to anyone, so those are retried like reads.

use crate::errors::graph_error;
use crate::graph::{created_id, field, GraphHost};
use crate::http::{send, Effect, PollPolicy};
use crate::options::FacebookVideo;
use crate::publish::{
    CheckOutcome, ErrorClass, MediaRef, PublishError, PublishOutcome, PublishRequest, Publisher, RefRecorder,
};
use serde_json::{json, Value};
use tochen_domain::MediaKind;

#[derive(Debug, Clone)]
pub struct FacebookPublisher {
    pub graph: GraphHost,
    /// graph-video.facebook.com: Page video uploads.
    pub video_graph: GraphHost,
    /// For the Reels upload host (`rupload.facebook.com`), whose URL Facebook hands out.
    pub http: reqwest::Client,
    pub poll: PollPolicy,
}

/// Where a video stands, from `GET /{video-id}?fields=status`.
#[derive(Debug, Clone, PartialEq, Eq)]
enum VideoState {
    Published,
    Processing,
    Failed(String),
}

fn video_state(v: &Value) -> VideoState {
    let st = &v["status"];
    let phase = |k: &str| st[k]["status"].as_str().unwrap_or_default().to_owned();
    if st["video_status"] == "error"
        || ["uploading_phase", "processing_phase", "publishing_phase"].iter().any(|k| phase(k) == "error")
    {
        let why = st["processing_phase"]["errors"][0]["message"].as_str().unwrap_or("the video could not be processed");
        return VideoState::Failed(why.to_owned());
    }
    if phase("publishing_phase") == "complete" || (st["video_status"] == "ready" && st["publishing_phase"].is_null()) {
        return VideoState::Published;
    }
    VideoState::Processing
}

async fn record(refs: &dyn RefRecorder, r: &str) -> Result<(), PublishError> {
    refs.record(r).await.map_err(|e| {
        PublishError::new(ErrorClass::OutcomeUnknown, None, format!("could not record the Facebook video id: {e}"))
    })
}

use super::MAX_CAPTION as MAX_TEXT;
/// Facebook's photo size limit (subcode 1366046 beyond it).
const MAX_PHOTO_BYTES: i64 = 4 * 1024 * 1024;

impl FacebookPublisher {
    async fn video_status(&self, req: &PublishRequest, id: &str) -> Result<(VideoState, Option<String>), PublishError> {
        let v = self.graph.get(id, &req.access_token, &[("fields", "status,permalink_url")]).await?;
        Ok((video_state(&v), v["permalink_url"].as_str().map(str::to_string)))
    }

    /// Polls a recorded video until it is published, fails, or the budget runs out (then `Pending`).
    async fn wait_video(
        &self,
        req: &PublishRequest,
        id: &str,
        platform_ref: &str,
    ) -> Result<PublishOutcome, PublishError> {
        let mut delays = self.poll.delays();
        loop {
            match self.video_status(req, id).await? {
                (VideoState::Published, permalink) => {
                    return Ok(PublishOutcome::Published { platform_post_id: id.to_owned(), permalink })
                }
                (VideoState::Failed(why), _) => {
                    return Err(PublishError::new(
                        ErrorClass::Permanent,
                        Some("video_status=error".into()),
                        format!("Facebook could not process the video: {why}"),
                    ))
                }
                (VideoState::Processing, _) => match delays.next() {
                    Some(d) => tokio::time::sleep(d).await,
                    None => return Ok(PublishOutcome::Pending { platform_ref: platform_ref.to_owned() }),
                },
            }
        }
    }

    /// A Page video from its public URL.
    async fn page_video(
        &self,
        req: &PublishRequest,
        m: &MediaRef,
        refs: &dyn RefRecorder,
    ) -> Result<PublishOutcome, PublishError> {
        let page = &req.external_account_id;
        let mut form = vec![("file_url", m.url.clone()), ("description", req.text.clone())];
        if !req.title.is_empty() {
            form.push(("title", req.title.clone()));
        }
        let v = self.video_graph.post(&format!("{page}/videos"), &req.access_token, &form).await?;
        let id = created_id(&v, "id")?;
        let r = format!("video:{id}");
        record(refs, &r).await?;
        self.wait_video(req, &id, &r).await
    }

    /// A Reel in three phases.
    async fn reel(
        &self,
        req: &PublishRequest,
        m: &MediaRef,
        refs: &dyn RefRecorder,
    ) -> Result<PublishOutcome, PublishError> {
        let page = &req.external_account_id;
        let token = &req.access_token;
        // Starting makes nothing visible: retried like a read.
        let v = self
            .graph
            .post_as(&format!("{page}/video_reels"), token, &[("upload_phase", "start".into())], Effect::Prepare)
            .await?;
        let id = field(&v, "video_id")?;
        let upload_url = field(&v, "upload_url")?;
        record(refs, &format!("reel:{id}")).await?;
        let up = self
            .http
            .post(&upload_url)
            .header("Authorization", format!("OAuth {}", token.expose()))
            .header("file_url", m.url.clone());
        let a = send(up, Effect::Prepare).await?;
        if let Some(e) = graph_error(&a) {
            return Err(Effect::Prepare.answered(a.status, false, e));
        }
        let marked = format!("reel:{id}#finish");
        record(refs, &marked).await?;
        let form = vec![
            ("upload_phase", "finish".to_string()),
            ("video_id", id.clone()),
            ("video_state", "PUBLISHED".into()),
            ("description", req.text.clone()),
        ];
        self.graph.post(&format!("{page}/video_reels"), token, &form).await?;
        self.wait_video(req, &id, &marked).await
    }

    async fn permalink(&self, req: &PublishRequest, post_id: &str) -> Option<String> {
        let v = self.graph.get(post_id, &req.access_token, &[("fields", "permalink_url")]).await.ok()?;
        v["permalink_url"].as_str().map(str::to_string)
    }
}

#[async_trait::async_trait]
impl Publisher for FacebookPublisher {
    #[tracing::instrument(skip_all, fields(page = %req.external_account_id, target = %req.target_id))]
    async fn publish(&self, req: &PublishRequest, _refs: &dyn RefRecorder) -> Result<PublishOutcome, PublishError> {
        if req.text.chars().count() > MAX_TEXT {
            return Err(PublishError::new(
                ErrorClass::Permanent,
                None,
                format!("the text has {} characters; Facebook allows {MAX_TEXT}", req.text.chars().count()),
            ));
        }
        if req.media.iter().any(|m| m.kind == MediaKind::Video) {
            let [m] = req.media.as_slice() else {
                return Err(PublishError::new(
                    ErrorClass::Permanent,
                    None,
                    "a Facebook post takes one video, or photos; split the video into a post of its own",
                ));
            };
            // The pipeline resolves the default (a Reel when the video fits Reels); a request without a choice
            // goes as a Page video, which takes any video.
            return match req.options.facebook.video {
                Some(FacebookVideo::Reel) => self.reel(req, m, _refs).await,
                _ => self.page_video(req, m, _refs).await,
            };
        }
        if let Some(big) = req.media.iter().find(|m| m.size_bytes > MAX_PHOTO_BYTES) {
            return Err(PublishError::new(
                ErrorClass::Permanent,
                Some("324/1366046".into()),
                format!("a photo has {} bytes; Facebook takes photos up to about 4 MB", big.size_bytes),
            ));
        }
        let page = &req.external_account_id;
        let token = &req.access_token;
        let post_id = match req.media.as_slice() {
            [] => {
                let mut form = vec![("message", req.text.clone())];
                if let Some(link) = &req.link {
                    form.push(("link", link.clone()));
                }
                created_id(&self.graph.post(&format!("{page}/feed"), token, &form).await?, "id")?
            }
            [one] => {
                let form = vec![("url", one.url.clone()), ("caption", req.text.clone())];
                let v = self.graph.post(&format!("{page}/photos"), token, &form).await?;
                field(&v, "post_id").or_else(|_| created_id(&v, "id"))?
            }
            many => {
                let mut ids = Vec::with_capacity(many.len());
                for m in many {
                    let form = vec![("url", m.url.clone()), ("published", "false".to_string())];
                    let v = self.graph.post_as(&format!("{page}/photos"), token, &form, Effect::Prepare).await?;
                    ids.push(field(&v, "id")?);
                }
                let attached: Vec<_> = ids.iter().map(|id| json!({"media_fbid": id})).collect();
                let form = vec![
                    ("message", req.text.clone()),
                    ("attached_media", serde_json::to_string(&attached).unwrap_or_default()),
                ];
                created_id(&self.graph.post(&format!("{page}/feed"), token, &form).await?, "id")?
            }
        };
        let permalink = self.permalink(req, &post_id).await;
        Ok(PublishOutcome::Published { platform_post_id: post_id, permalink })
    }

    async fn check(
        &self,
        req: &PublishRequest,
        platform_ref: &str,
        _refs: &dyn RefRecorder,
    ) -> Result<CheckOutcome, PublishError> {
        if let Some(rest) = platform_ref.strip_prefix("video:").or_else(|| platform_ref.strip_prefix("reel:")) {
            let (id, finish_sent) = match rest.strip_suffix("#finish") {
                Some(id) => (id, true),
                None => (rest, platform_ref.starts_with("video:")),
            };
            return Ok(match self.video_status(req, id).await? {
                (VideoState::Published, permalink) => {
                    CheckOutcome::Published { platform_post_id: id.to_owned(), permalink }
                }
                (VideoState::Failed(why), _) => CheckOutcome::Failed(PublishError::new(
                    ErrorClass::Permanent,
                    Some("video_status=error".into()),
                    format!("Facebook could not process the video: {why}"),
                )),
                // A Reel never finished is invisible and stays so: a new attempt is safe.
                (VideoState::Processing, _) if !finish_sent => {
                    CheckOutcome::NotPublished { reason: "the Facebook Reel upload never finished".into() }
                }
                (VideoState::Processing, _) => CheckOutcome::Pending,
            });
        }
        // Facebook hands out no reference before the post exists; a reference here is the post id itself.
        match self.graph.get(platform_ref, &req.access_token, &[("fields", "permalink_url")]).await {
            Ok(v) => Ok(CheckOutcome::Published {
                platform_post_id: platform_ref.to_string(),
                permalink: v["permalink_url"].as_str().map(str::to_string),
            }),
            Err(e) if e.class == ErrorClass::Permanent => Ok(CheckOutcome::NotPublished { reason: e.message }),
            Err(e) => Err(e),
        }
    }
}
