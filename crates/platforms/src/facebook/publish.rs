//! Facebook Page publishing: text or link to `/feed`, one photo to `/photos`, several photos as unpublished
//! photos attached to one feed post (`attached_media`).
//!
//! Facebook answers synchronously, so there is no reference to record: the post id comes back with the answer.
//! Nor can Facebook be asked about a POST whose answer was lost, so a timeout, a dropped connection or a 5xx on
//! `/feed` or a published `/photos` is `OutcomeUnknown` and the team is asked. The unpublished photo uploads of a
//! multi-photo post are not visible to anyone, so those are retried like reads.

use crate::graph::{created_id, field, GraphHost};
use crate::http::Effect;
use crate::publish::{CheckOutcome, ErrorClass, PublishError, PublishOutcome, PublishRequest, Publisher, RefRecorder};
use serde_json::json;
use tochen_domain::MediaKind;

#[derive(Debug, Clone)]
pub struct FacebookPublisher {
    pub graph: GraphHost,
}

use super::MAX_CAPTION as MAX_TEXT;
/// Facebook's photo size limit (subcode 1366046 beyond it).
const MAX_PHOTO_BYTES: i64 = 4 * 1024 * 1024;

impl FacebookPublisher {
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
            return Err(PublishError::new(
                ErrorClass::Permanent,
                None,
                "videos on Facebook Pages are not supported yet; post an image or text",
            ));
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
