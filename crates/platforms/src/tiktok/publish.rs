//! TikTok publishing through the Content Posting API: creator info first (privacy level checked against its
//! options), then a video by PULL_FROM_URL or chunked FILE_UPLOAD, or a photo post, then status polling to
//! PUBLISH_COMPLETE or FAILED. The publish_id is recorded the moment TikTok hands it out; from then on the post is
//! only ever asked about (status fetch), never initialised again. An init whose answer is lost (timeout, dropped
//! connection, 5xx) cannot be asked about, having no publish_id, so it is `OutcomeUnknown` and the team is asked.
//! Photo posts take JPEG or WebP only ([`Publisher::image_types`]).

use crate::errors::{tiktok_error, tiktok_fail_reason};
use crate::http::{send, Answer, Effect, PollPolicy};
use crate::options::{CreatorInfo, TikTokOptions};
use crate::publish::{CheckOutcome, ErrorClass, PublishError, PublishOutcome, PublishRequest, Publisher, RefRecorder};
use serde_json::{json, Value};
use std::path::PathBuf;
use tochen_domain::secret::SecretString;
use tochen_domain::MediaKind;
use tokio::io::AsyncReadExt;
use url::Url;

const MB: u64 = 1024 * 1024;

#[derive(Debug, Clone)]
pub struct TikTokPublisher {
    pub http: reqwest::Client,
    pub api: Url,
    pub data_dir: PathBuf,
    pub poll: PollPolicy,
    /// The privacy level wanted; when the creator's options lack it, SELF_ONLY is used if offered.
    pub privacy_level: String,
    /// Chunk size for FILE_UPLOAD (5-64 MB).
    pub chunk_size: u64,
}

fn permanent(msg: impl Into<String>) -> PublishError {
    PublishError::new(ErrorClass::Permanent, None, msg)
}

/// The chunk plan of `docs/contracts/tiktok.md`: (chunk_size, total_chunk_count). Files under 5 MB go in one
/// chunk; otherwise the count is floor(size / chunk) and the last chunk takes the remainder.
pub fn chunk_plan(size: u64, preferred: u64) -> (u64, u64) {
    if size < 5 * MB {
        return (size, 1);
    }
    let chunk = preferred.clamp(5 * MB, 64 * MB).min(size);
    (chunk, (size / chunk).max(1))
}

impl TikTokPublisher {
    fn url(&self, path: &str) -> String {
        format!("{}{}", self.api.as_str().trim_end_matches('/'), path)
    }

    async fn call(&self, path: &str, token: &SecretString, body: Value, effect: Effect) -> Result<Value, PublishError> {
        let a = send(self.http.post(self.url(path)).bearer_auth(token.expose()).json(&body), effect).await?;
        envelope_for(a, effect)
    }

    /// Reads `creator_info` live (before every post, as TikTok asks; the bot's options screen reads it too).
    pub async fn creator_info(&self, token: &SecretString) -> Result<CreatorInfo, PublishError> {
        let v = self.call("/v2/post/publish/creator_info/query/", token, json!({}), Effect::Read).await?;
        Ok(CreatorInfo::from_data(&v))
    }

    /// The privacy level to send: the one chosen for the post, which must be among the creator's options. A post
    /// with no choice (made before options existed, or by an automation without workspace defaults) falls back to
    /// the configured level, or SELF_ONLY when the creator lacks it; the draft screen never lets a person schedule
    /// without choosing.
    fn privacy_level(&self, info: &CreatorInfo, o: &TikTokOptions) -> Result<String, PublishError> {
        let options = &info.privacy_level_options;
        let mismatch =
            |why: String| PublishError::new(ErrorClass::Permanent, Some("privacy_level_option_mismatch".into()), why);
        let level = match &o.privacy_level {
            Some(chosen) if options.contains(chosen) => chosen.clone(),
            Some(chosen) => {
                return Err(mismatch(format!(
                    "the TikTok account no longer offers the privacy level {chosen} (options: {}); choose another",
                    options.join(", ")
                )))
            }
            None if options.contains(&self.privacy_level) => self.privacy_level.clone(),
            None if options.iter().any(|x| x == "SELF_ONLY") => "SELF_ONLY".into(),
            None => {
                return Err(mismatch(format!(
                    "the TikTok account offers no usable privacy level (options: {})",
                    options.join(", ")
                )))
            }
        };
        if o.brand_content && level == "SELF_ONLY" {
            return Err(permanent(
                "branded content cannot be private on TikTok (SELF_ONLY); choose another privacy level",
            ));
        }
        Ok(level)
    }

    async fn upload(
        &self,
        upload_url: &str,
        path: &PathBuf,
        content_type: &str,
        size: u64,
        chunk: u64,
        count: u64,
    ) -> Result<(), PublishError> {
        let mut file = tokio::fs::File::open(path)
            .await
            .map_err(|e| permanent(format!("cannot read the video file {}: {e}", path.display())))?;
        for i in 0..count {
            let first = i * chunk;
            let len = if i + 1 == count { size - first } else { chunk };
            let mut buf = vec![0u8; len as usize];
            file.read_exact(&mut buf).await.map_err(|e| permanent(format!("cannot read the video file: {e}")))?;
            let req = self
                .http
                .put(upload_url)
                .header("Content-Type", content_type)
                .header("Content-Range", format!("bytes {first}-{}/{size}", first + len - 1))
                .body(buf);
            let a = send(req, Effect::Read).await?;
            if !matches!(a.status.as_u16(), 200 | 201 | 206) {
                return Err(tiktok_error(&a).unwrap_or_else(|| permanent("TikTok refused a video chunk")));
            }
        }
        Ok(())
    }

    async fn status(&self, token: &SecretString, publish_id: &str) -> Result<Value, PublishError> {
        self.call("/v2/post/publish/status/fetch/", token, json!({"publish_id": publish_id}), Effect::Read).await
    }

    fn done(v: &Value, publish_id: &str) -> Option<Result<(String, Option<String>), PublishError>> {
        match v["status"].as_str().unwrap_or("") {
            "PUBLISH_COMPLETE" => {
                let id = v["publicaly_available_post_id"][0]
                    .as_i64()
                    .map(|n| n.to_string())
                    .unwrap_or_else(|| publish_id.to_string());
                Some(Ok((id, None)))
            }
            "FAILED" => Some(Err(tiktok_fail_reason(v["fail_reason"].as_str().unwrap_or("unknown")))),
            _ => None,
        }
    }
}

pub fn envelope(a: Answer) -> Result<Value, PublishError> {
    envelope_for(a, Effect::Read)
}

/// The `data` of a successful envelope, or its error seen in the light of `effect` (`internal_error` is a failure
/// on TikTok's side).
pub fn envelope_for(a: Answer, effect: Effect) -> Result<Value, PublishError> {
    match tiktok_error(&a) {
        Some(e) => {
            let server_side = matches!(e.code.as_deref(), Some("internal_error" | "internal"));
            Err(effect.answered(a.status, server_side, e))
        }
        None => Ok(a.json()["data"].clone()),
    }
}

fn utf16_prefix(text: &str, max: usize) -> String {
    let mut n = 0;
    text.chars()
        .take_while(|c| {
            n += c.len_utf16();
            n <= max
        })
        .collect()
}

#[async_trait::async_trait]
impl Publisher for TikTokPublisher {
    #[tracing::instrument(skip_all, fields(open_id = %req.external_account_id, target = %req.target_id))]
    async fn publish(&self, req: &PublishRequest, refs: &dyn RefRecorder) -> Result<PublishOutcome, PublishError> {
        let token = &req.access_token;
        let kinds: Vec<MediaKind> = req.media.iter().map(|m| m.kind).collect();
        if kinds.is_empty() {
            return Err(permanent("a TikTok post needs a video or photos"));
        }
        let info = self.creator_info(token).await?;
        let o = &req.options.tiktok;
        let privacy = self.privacy_level(&info, o)?;
        let (init, upload) = if kinds == [MediaKind::Video] {
            let m = &req.media[0];
            // A toggle the creator turned off is sent off, whatever the post asked.
            let post_info = json!({"title": utf16_prefix(&req.text, super::MAX_CAPTION), "privacy_level": privacy,
                "disable_duet": !o.duet || info.duet_disabled,
                "disable_comment": !o.comments || info.comment_disabled,
                "disable_stitch": !o.stitch || info.stitch_disabled,
                "video_cover_timestamp_ms": 1000,
                "brand_content_toggle": o.brand_content, "brand_organic_toggle": o.brand_organic,
                "is_aigc": req.options.ai_generated});
            let path = self.data_dir.join(&m.storage_path);
            let local = !m.storage_path.is_empty() && tokio::fs::metadata(&path).await.is_ok_and(|md| md.is_file());
            if local {
                // The creator's own cap (often 180, 300 or 600 s) is below the API's: checked before uploading.
                let probed = path.clone();
                let duration = tokio::task::spawn_blocking(move || crate::media::probe_file(&probed).ok())
                    .await
                    .ok()
                    .flatten()
                    .and_then(|p| p.duration_ms);
                if let (Some(d), Some(max)) = (duration, info.max_video_post_duration_sec) {
                    if d > max * 1000 {
                        return Err(PublishError::new(
                            ErrorClass::Permanent,
                            Some("duration_check_failed".into()),
                            format!(
                                "the video lasts {:.0} s; this TikTok account posts videos up to {max} s; trim it",
                                d as f64 / 1000.0
                            ),
                        ));
                    }
                }
                let size = tokio::fs::metadata(&path).await.map(|md| md.len()).unwrap_or(0);
                let (chunk, count) = chunk_plan(size, self.chunk_size);
                let body = json!({"post_info": post_info, "source_info": {"source": "FILE_UPLOAD",
                    "video_size": size, "chunk_size": chunk, "total_chunk_count": count}});
                let v = self.call("/v2/post/publish/video/init/", token, body, Effect::Create).await?;
                (v, Some((path, m.content_type.clone(), size, chunk, count)))
            } else {
                let body =
                    json!({"post_info": post_info, "source_info": {"source": "PULL_FROM_URL", "video_url": m.url}});
                (self.call("/v2/post/publish/video/init/", token, body, Effect::Create).await?, None)
            }
        } else if kinds.iter().all(|k| *k == MediaKind::Image) {
            if kinds.len() > 35 {
                return Err(permanent(format!(
                    "a TikTok photo post holds at most 35 images, this one has {}",
                    kinds.len()
                )));
            }
            let urls: Vec<&str> = req.media.iter().map(|m| m.url.as_str()).collect();
            let title = if req.title.is_empty() { &req.text } else { &req.title };
            let body = json!({"post_mode": "DIRECT_POST", "media_type": "PHOTO",
                "post_info": {"title": utf16_prefix(title, 90), "description": utf16_prefix(&req.text, 4000),
                    "privacy_level": privacy, "disable_comment": !o.comments || info.comment_disabled,
                    "brand_content_toggle": o.brand_content, "brand_organic_toggle": o.brand_organic,
                    "is_aigc": req.options.ai_generated},
                "source_info": {"source": "PULL_FROM_URL", "photo_cover_index": 0, "photo_images": urls}});
            (self.call("/v2/post/publish/content/init/", token, body, Effect::Create).await?, None)
        } else {
            return Err(permanent("TikTok cannot mix photos and videos in one post"));
        };
        let publish_id = init["publish_id"]
            .as_str()
            .ok_or_else(|| PublishError::new(ErrorClass::OutcomeUnknown, None, "TikTok returned no publish_id"))?
            .to_string();
        refs.record(&publish_id).await.map_err(|e| {
            PublishError::new(ErrorClass::OutcomeUnknown, None, format!("could not record the publish_id: {e}"))
        })?;
        if let Some((path, ct, size, chunk, count)) = upload {
            let url = init["upload_url"].as_str().ok_or_else(|| permanent("TikTok returned no upload_url"))?;
            self.upload(url, &path, &ct, size, chunk, count).await?;
        }
        let mut delays = self.poll.delays();
        loop {
            let v = self.status(token, &publish_id).await?;
            if let Some(done) = Self::done(&v, &publish_id) {
                let (platform_post_id, permalink) = done?;
                return Ok(PublishOutcome::Published { platform_post_id, permalink });
            }
            match delays.next() {
                Some(d) => tokio::time::sleep(d).await,
                None => return Ok(PublishOutcome::Pending { platform_ref: publish_id }),
            }
        }
    }

    async fn check(
        &self,
        req: &PublishRequest,
        platform_ref: &str,
        _refs: &dyn RefRecorder,
    ) -> Result<CheckOutcome, PublishError> {
        let v = self.status(&req.access_token, platform_ref).await?;
        Ok(match Self::done(&v, platform_ref) {
            None => CheckOutcome::Pending,
            Some(Ok((platform_post_id, permalink))) => CheckOutcome::Published { platform_post_id, permalink },
            // FAILED for good: a new attempt is safe (and worth it when the reason is one to retry).
            Some(Err(e))
                if e.code.as_deref() == Some("publish_cancelled")
                    || matches!(e.class, ErrorClass::Retryable { .. }) =>
            {
                CheckOutcome::NotPublished { reason: e.message }
            }
            Some(Err(e)) => CheckOutcome::Failed(e),
        })
    }

    fn image_types(&self) -> Option<&'static [&'static str]> {
        Some(&["image/jpeg", "image/webp"])
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn chunk_plan_follows_the_upload_rules() {
        assert_eq!(chunk_plan(3 * MB, 10 * MB), (3 * MB, 1));
        assert_eq!(chunk_plan(11 * MB, 10 * MB), (10 * MB, 1));
        assert_eq!(chunk_plan(25 * MB, 10 * MB), (10 * MB, 2));
        assert_eq!(chunk_plan(6 * MB, 1), (5 * MB, 1));
        let (c, n) = chunk_plan(4000 * MB, 10 * MB);
        assert!(4000 * MB - c * (n - 1) <= 128 * MB);
    }

    #[test]
    fn titles_are_cut_in_utf16_units() {
        assert_eq!(utf16_prefix("a😀b", 2), "a");
        assert_eq!(utf16_prefix("a😀b", 3), "a😀");
    }
}
