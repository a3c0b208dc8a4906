//! The simulated platform: it takes a post as a real one would (refusing what the real platform would refuse),
//! keeps it, and reports simulated engagement.

use super::simulate;
use crate::metrics::{AccountMetrics, MetricsAccount, MetricsReader, PostMetrics};
use crate::publish::{CheckOutcome, ErrorClass, PublishError, PublishOutcome, PublishRequest, Publisher, RefRecorder};
use crate::rules::{MediaNeed, RuleBook, Rules};
use serde_json::json;
use tochen_domain::clock::{now_ms, Millis};
use tochen_store::{NewSandboxPost, SandboxMedia, Store};
use url::Url;

/// Publisher and metrics reader of every sandbox account.
pub struct SandboxPlatform {
    store: Store,
    rules: RuleBook,
    public_url: Url,
}

impl SandboxPlatform {
    pub fn new(store: Store, rules: RuleBook, public_url: Url) -> Self {
        Self { store, rules, public_url }
    }

    /// The permalink of a sandbox post: its page on the web service.
    pub fn permalink(&self, id: &str) -> String {
        permalink(&self.public_url, id)
    }
}

/// `{public_url}/sandbox/{id}`.
pub fn permalink(public_url: &Url, id: &str) -> String {
    format!("{}/sandbox/{id}", public_url.as_str().trim_end_matches('/'))
}

/// What the real platform would refuse, refused the same way: the caption as the platform counts it, the hashtags,
/// the media it needs.
fn refusal(rules: &Rules, req: &PublishRequest) -> Option<PublishError> {
    let refuse =
        |code: &str, message: String| Some(PublishError::new(ErrorClass::Permanent, Some(code.into()), message));
    let platform = rules.platform.name();
    let len = rules.length(&req.text);
    if len > rules.max_caption {
        return refuse(
            "caption_too_long",
            format!("the caption is {len} characters; {platform} takes at most {}", rules.max_caption),
        );
    }
    let tags = req.text.split_whitespace().filter(|w| w.starts_with('#') && w.len() > 1).count();
    if tags > rules.max_hashtags {
        return refuse(
            "too_many_hashtags",
            format!("the post has {tags} hashtags; {platform} takes at most {}", rules.max_hashtags),
        );
    }
    match rules.media {
        MediaNeed::Optional => None,
        _ if !req.media.is_empty() => None,
        MediaNeed::ImageOrVideo => refuse("media_required", format!("{platform} needs an image or a video")),
        MediaNeed::VideoOrPhotos => refuse("media_required", format!("{platform} needs a video or photos")),
    }
}

fn store_error(e: tochen_store::StoreError) -> PublishError {
    // The post is kept with one idempotent statement (one row per target): trying again cannot post twice.
    PublishError::new(
        ErrorClass::Retryable { retry_after: None },
        None,
        format!("the sandbox could not keep the post: {e}"),
    )
}

/// When a UUIDv7 was made (the sandbox account's id ends with its workspace's id, one).
fn published_at(id: &str) -> Option<Millis> {
    let (secs, nanos) = uuid::Uuid::parse_str(id).ok()?.get_timestamp()?.to_unix();
    Some(secs as i64 * 1000 + i64::from(nanos / 1_000_000))
}

#[async_trait::async_trait]
impl Publisher for SandboxPlatform {
    async fn publish(&self, req: &PublishRequest, _refs: &dyn RefRecorder) -> Result<PublishOutcome, PublishError> {
        if let Some(refused) = refusal(&self.rules.get(req.platform), req) {
            return Err(refused);
        }
        let account_name = match self.store.account(req.tenant_id, req.account_id).await {
            Ok(a) => a.name,
            Err(e) => return Err(store_error(e)),
        };
        let kept = self
            .store
            .publish_sandbox_post(&NewSandboxPost {
                tenant_id: req.tenant_id,
                account_id: req.account_id,
                target_id: req.target_id,
                platform: req.platform,
                account_name,
                caption: req.text.clone(),
                media: req
                    .media
                    .iter()
                    .map(|m| SandboxMedia {
                        kind: m.kind,
                        content_type: m.content_type.clone(),
                        storage_path: m.storage_path.clone(),
                    })
                    .collect(),
            })
            .await
            .map_err(store_error)?;
        Ok(PublishOutcome::Published { permalink: Some(self.permalink(&kept.id)), platform_post_id: kept.id })
    }

    async fn check(
        &self,
        req: &PublishRequest,
        _platform_ref: &str,
        _refs: &dyn RefRecorder,
    ) -> Result<CheckOutcome, PublishError> {
        match self.store.sandbox_post_of_target(req.tenant_id, req.target_id).await {
            Ok(Some(kept)) => {
                Ok(CheckOutcome::Published { permalink: Some(self.permalink(&kept.id)), platform_post_id: kept.id })
            }
            Ok(None) => Ok(CheckOutcome::NotPublished { reason: "the sandbox never received this post".into() }),
            Err(e) => Err(store_error(e)),
        }
    }
}

#[async_trait::async_trait]
impl MetricsReader for SandboxPlatform {
    async fn post_metrics(
        &self,
        account: &MetricsAccount,
        platform_post_id: &str,
    ) -> Result<PostMetrics, PublishError> {
        // The engagement grows from when the simulated platform published the post.
        let kept = match self.store.sandbox_post(platform_post_id).await {
            Ok(Some(kept)) => kept,
            Ok(None) => {
                let message = format!("the sandbox has no post {platform_post_id:?}");
                return Err(PublishError::new(ErrorClass::Permanent, Some("not_found".into()), message));
            }
            Err(e) => return Err(store_error(e)),
        };
        Ok(simulate::post(kept.platform, &kept.id, &account.external_id, kept.created_at, now_ms()))
    }

    async fn account_metrics(&self, account: &MetricsAccount) -> Result<AccountMetrics, PublishError> {
        // The account's id ends with its workspace's id (a UUIDv7): followers count from the workspace's start.
        let since = account.external_id.splitn(3, '-').nth(2).and_then(published_at).unwrap_or_else(now_ms);
        Ok(AccountMetrics {
            followers: Some(simulate::followers(&account.external_id, since, now_ms())),
            raw: json!({"simulated": true}),
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::publish::MediaRef;
    use tochen_domain::ids::{AccountId, TargetId, TenantId};
    use tochen_domain::{AuthKind, MediaKind, Platform, SecretString};

    fn req(platform: Platform, text: &str, media: usize) -> PublishRequest {
        PublishRequest {
            tenant_id: TenantId::new(),
            target_id: TargetId::new(),
            account_id: AccountId::new(),
            platform,
            external_account_id: "sandbox".into(),
            auth_kind: AuthKind::SandboxFacebook,
            access_token: SecretString::new("sandbox"),
            text: text.into(),
            title: String::new(),
            link: None,
            media: (0..media)
                .map(|_| MediaRef {
                    kind: MediaKind::Image,
                    url: String::new(),
                    content_type: "image/png".into(),
                    size_bytes: 1,
                    storage_path: "media/x.png".into(),
                })
                .collect(),
            options: Default::default(),
        }
    }

    fn rules(p: Platform) -> Rules {
        use crate::module::PlatformModule;
        let config = tochen_config::Config::from_source(&std::collections::HashMap::new()).unwrap();
        match p {
            Platform::Facebook => crate::facebook::Facebook.rules(&config),
            Platform::Instagram => crate::instagram::Instagram.rules(&config),
            Platform::TikTok => crate::tiktok::TikTok.rules(&config),
        }
    }

    #[test]
    fn the_sandbox_refuses_what_the_real_platform_would() {
        assert!(refusal(&rules(Platform::Facebook), &req(Platform::Facebook, "text only", 0)).is_none());
        let ig = refusal(&rules(Platform::Instagram), &req(Platform::Instagram, "text only", 0)).unwrap();
        assert_eq!((ig.class, ig.message.as_str()), (ErrorClass::Permanent, "Instagram needs an image or a video"));
        assert!(refusal(&rules(Platform::Instagram), &req(Platform::Instagram, "with a photo", 1)).is_none());
        let long = refusal(&rules(Platform::TikTok), &req(Platform::TikTok, &"😀".repeat(1101), 1)).unwrap();
        assert_eq!(long.message, "the caption is 2202 characters; TikTok takes at most 2200");
        let tags: Vec<String> = (0..31).map(|i| format!("#t{i}")).collect();
        let many = refusal(&rules(Platform::Facebook), &req(Platform::Facebook, &tags.join(" "), 0)).unwrap();
        assert_eq!(many.code.as_deref(), Some("too_many_hashtags"));
    }

    #[test]
    fn a_uuid_v7_tells_when_it_was_made() {
        let before = now_ms();
        let id = uuid::Uuid::now_v7().to_string();
        let at = published_at(&id).unwrap();
        assert!(at >= before - 1 && at <= now_ms() + 1, "{at} vs {before}");
        assert_eq!(published_at("not-an-id"), None);
        assert_eq!(published_at(&uuid::Uuid::new_v4().to_string()), None, "a v4 id carries no time");
    }
}
