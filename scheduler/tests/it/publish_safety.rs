//! A post is never published twice, and images reach each platform in a format it takes: the production publishers
//! (`tochen_platforms`) run in the scheduler against the fake Graph and TikTok APIs, with media served over
//! HTTP by the test media host, on both databases.

use crate::common;

use common::*;
use std::collections::HashMap;
use std::sync::Arc;
use std::time::Duration;
use tochen_config::Config;
use tochen_domain::clock::now_ms;
use tochen_domain::ids::{AccountId, PostId, TargetId, TenantId};
use tochen_domain::SecretString;
use tochen_domain::{AuthKind, MediaKind, Platform, PostStatus, TargetStatus};
use tochen_platforms::publish::{CheckOutcome, ErrorClass, PublishError, Publisher};
use tochen_platforms::PollPolicy;
use tochen_scheduler::{handlers, AutomationRegistry, Deps, Publishers};
use tochen_store::Store;
use tochen_store::{NewAccount, NewMedia, Target};
use tochen_testkit::fake_graph::FakeGraph;
use tochen_testkit::fake_platform::{Scripted, ScriptedPublisher};
use tochen_testkit::fake_tiktok::FakeTikTok;
use tochen_testkit::media_host::MediaHost;
use tochen_testkit::{images, store_test};

/// The fake platforms, the media host and the data directory they share with the scheduler.
struct Platforms {
    graph: FakeGraph,
    tiktok: FakeTikTok,
    media: MediaHost,
    dir: tempfile::TempDir,
    publishers: Publishers,
}

async fn platforms(store: &Store) -> Platforms {
    let graph = FakeGraph::start().await;
    let tiktok = FakeTikTok::start().await;
    graph.set_container_delay(Duration::ZERO);
    tiktok.set_processing_delay(Duration::ZERO);
    let dir = tempfile::tempdir().unwrap();
    let env: HashMap<String, String> = [
        ("META_APP_ID", "app"),
        ("META_APP_SECRET", "secret"),
        ("META_GRAPH_URL", graph.base_url().as_str()),
        ("META_GRAPH_VIDEO_URL", graph.base_url().as_str()),
        ("INSTAGRAM_GRAPH_URL", graph.base_url().as_str()),
        ("TIKTOK_CLIENT_KEY", "ck"),
        ("TIKTOK_CLIENT_SECRET", "cs"),
        ("TIKTOK_API_URL", tiktok.base_url().as_str()),
        ("TOCHEN_DATA_DIR", dir.path().to_str().unwrap()),
    ]
    .into_iter()
    .map(|(k, v)| (k.to_string(), v.to_string()))
    .collect();
    let config = Config::from_source(&env).unwrap();
    let http = reqwest::Client::builder().timeout(Duration::from_secs(5)).build().unwrap();
    let publishers = tochen_platforms::publishers_with(&config, http, PollPolicy::quick(), store);
    let media = MediaHost::start(Some(store.clone()), dir.path().to_owned()).await;
    Platforms { graph, tiktok, media, dir, publishers }
}

impl Platforms {
    fn deps(&self, publishers: Publishers, notifier: Arc<RecordingNotifier>) -> Deps {
        let base = self.media.base_url();
        Deps {
            publishers,
            notifier,
            refresher: Arc::new(tochen_platforms::refresh::NoRefresher),
            automations: AutomationRegistry::with_builtins(),
            media_urls: Arc::new(move |tenant, id| format!("{base}/media/{tenant}/{id}?exp=1&sig=x")),
            data_dir: self.dir.path().to_owned(),
            sources: tochen_scheduler::Sources::Real,
        }
    }

    /// Runs the scheduler with the production publishers until `done` holds; returns what the chats were told.
    async fn run_until<F, Fut>(&self, store: &Store, done: F) -> Arc<RecordingNotifier>
    where
        F: FnMut() -> Fut,
        Fut: std::future::Future<Output = bool>,
    {
        self.run_with(store, self.publishers.clone(), done).await
    }

    async fn run_with<F, Fut>(&self, store: &Store, publishers: Publishers, done: F) -> Arc<RecordingNotifier>
    where
        F: FnMut() -> Fut,
        Fut: std::future::Future<Output = bool>,
    {
        let notifier = Arc::new(RecordingNotifier::default());
        let (stop, handle) =
            spawn_runner(store, handlers(&self.deps(publishers, notifier.clone())), quick_config("safety"));
        wait_for("the pipeline", Duration::from_secs(15), done).await;
        // Time for a wrongful second attempt (the runner retries within 400 ms here) to show.
        tokio::time::sleep(Duration::from_millis(600)).await;
        stop.cancel();
        handle.await.unwrap().unwrap();
        notifier
    }

    /// Writes `bytes` under the data directory and records them as a media row.
    async fn media(&self, store: &Store, tenant: TenantId, name: &str, content_type: &str, bytes: &[u8]) -> String {
        let rel = format!("media/{name}");
        std::fs::create_dir_all(self.dir.path().join("media")).unwrap();
        std::fs::write(self.dir.path().join(&rel), bytes).unwrap();
        let kind = if content_type.starts_with("video/") { MediaKind::Video } else { MediaKind::Image };
        let new = NewMedia {
            kind,
            content_type: content_type.into(),
            size_bytes: bytes.len() as i64,
            sha256: format!("sha-{name}"),
            storage_path: rel,
            source: "generated".into(),
            width: None,
            height: None,
            duration_ms: None,
        };
        store.insert_media(tenant, &new).await.unwrap().id.to_string()
    }
}

/// An account connected with the token the fake platform issued.
async fn connected(store: &Store, tenant: TenantId, platform: Platform, external: &str, token: &str) -> AccountId {
    let auth_kind = match platform {
        Platform::Facebook => AuthKind::FacebookPage,
        Platform::Instagram => AuthKind::InstagramViaPage,
        Platform::TikTok => AuthKind::TikTok,
    };
    let new = NewAccount {
        platform,
        auth_kind,
        external_id: external.into(),
        name: format!("{platform} {external}"),
        access_token: SecretString::new(token),
        refresh_token: None,
        scopes: vec![],
        token_expires_at: None,
        refresh_expires_at: None,
        connected_by: None,
    };
    store.upsert_account(tenant, &new).await.unwrap().id
}

/// A post with `media` (if any) scheduled now on `accounts`.
async fn post_now(
    store: &Store,
    tenant: TenantId,
    accounts: &[AccountId],
    media: Option<&str>,
) -> (PostId, Vec<Target>) {
    let post = store.create_draft(tenant, None, Some(AUTHOR_CHAT), "Autumn menu", "new pumpkin latte").await.unwrap();
    if let Some(m) = media {
        store.set_post_media(tenant, post.id, tochen_domain::MediaId::parse(m).unwrap()).await.unwrap();
    }
    let version = store.post(tenant, post.id).await.unwrap().version;
    let targets = store.schedule_post(tenant, post.id, version, now_ms(), accounts, false).await.unwrap();
    (post.id, targets)
}

async fn status(store: &Store, tenant: TenantId, target: TargetId) -> TargetStatus {
    store.target(tenant, target).await.unwrap().status
}

/// The author was sent the unknown-outcome notice: it carries the "It's published" button.
fn asks_the_team(notifier: &RecordingNotifier) -> bool {
    let confirm = "tp:".to_owned();
    notifier.sent.lock().unwrap().iter().any(|m| {
        m.chat_id == AUTHOR_CHAT
            && m.buttons.iter().flatten().any(|b| b.callback_data.as_deref().is_some_and(|d| d.starts_with(&confirm)))
    })
}

store_test!(a_failed_tiktok_status_poll_is_asked_again_and_never_makes_a_second_post, |store| {
    let tenant = workspace(&store).await;
    let p = platforms(&store).await;
    let (token, _) = p.tiktok.issue_tokens();
    let tt = connected(&store, tenant, Platform::TikTok, &p.tiktok.open_id(), &token).await;
    // A valid video (the fake TikTok probes what it receives), uploaded from the data directory.
    let bytes = tochen_testkit::video::video_bytes(&tochen_testkit::video::VideoSpec::vertical(10), 50_000);
    let video = p.media(&store, tenant, "clip.mp4", "video/mp4", &bytes).await;
    let (post, targets) = post_now(&store, tenant, &[tt], Some(&video)).await;
    let t = targets[0].id;
    // The publish_id is handed out, then the first status poll fails.
    p.tiktok.fail_next("status/fetch", 500, "internal_error", "Something went wrong");

    p.run_until(&store, || async { status(&store, tenant, t).await == TargetStatus::Published }).await;
    assert_eq!(p.tiktok.calls_to("/video/init/").len(), 1, "exactly one publish request");
    assert!(p.tiktok.calls_to("/status/fetch/").len() >= 2, "the platform was asked again");
    assert_eq!(store.post(tenant, post).await.unwrap().status, PostStatus::Published);
});

store_test!(a_502_on_facebook_feed_is_unknown_and_never_posted_again, |store| {
    let tenant = workspace(&store).await;
    let p = platforms(&store).await;
    let token = p.graph.add_page("111", "Bakery", None);
    let fb = connected(&store, tenant, Platform::Facebook, "111", &token).await;
    let (post, targets) = post_now(&store, tenant, &[fb], None).await;
    let t = targets[0].id;
    p.graph.fail_next("/111/feed", 502, 2, None, "Service temporarily unavailable");

    let told = p.run_until(&store, || async { status(&store, tenant, t).await == TargetStatus::Unknown }).await;
    assert_eq!(p.graph.calls_to("/111/feed").len(), 1, "no second POST");
    assert_eq!(status(&store, tenant, t).await, TargetStatus::Unknown);
    assert!(asks_the_team(&told), "the team is asked with the buttons");
    assert_eq!(store.post(tenant, post).await.unwrap().status, PostStatus::Publishing, "open until the team answers");
});

store_test!(a_502_on_instagram_media_publish_is_unknown_and_never_sent_again, |store| {
    let tenant = workspace(&store).await;
    let p = platforms(&store).await;
    let token = p.graph.add_page("111", "Bakery", Some("17840001"));
    let ig = connected(&store, tenant, Platform::Instagram, "17840001", &token).await;
    let photo = p.media(&store, tenant, "photo.jpg", "image/jpeg", &images::jpeg(8, 8)).await;
    let (_, targets) = post_now(&store, tenant, &[ig], Some(&photo)).await;
    let t = targets[0].id;
    p.graph.fail_next("/media_publish", 502, 2, None, "Service temporarily unavailable");

    let told = p.run_until(&store, || async { status(&store, tenant, t).await == TargetStatus::Unknown }).await;
    assert_eq!(p.graph.calls_to("/media_publish").len(), 1, "no second POST");
    assert_eq!(p.graph.calls_to("/17840001/media").len(), 1, "no second container either");
    assert_eq!(status(&store, tenant, t).await, TargetStatus::Unknown);
    assert!(asks_the_team(&told));
});

store_test!(a_media_publish_that_went_through_unseen_is_found_published, |store| {
    let tenant = workspace(&store).await;
    let p = platforms(&store).await;
    let token = p.graph.add_page("111", "Bakery", Some("17840001"));
    let ig = connected(&store, tenant, Platform::Instagram, "17840001", &token).await;
    let photo = p.media(&store, tenant, "photo.jpg", "image/jpeg", &images::jpeg(8, 8)).await;
    let (post, targets) = post_now(&store, tenant, &[ig], Some(&photo)).await;
    let t = targets[0].id;
    p.graph.fail_next_after("/media_publish", 502, 2, "Service temporarily unavailable");

    p.run_until(&store, || async { status(&store, tenant, t).await == TargetStatus::Published }).await;
    assert_eq!(p.graph.calls_to("/media_publish").len(), 1);
    assert_eq!(store.post(tenant, post).await.unwrap().status, PostStatus::Published);
});

store_test!(a_platform_that_says_nothing_was_made_gets_a_new_round, |store| {
    let tenant = workspace(&store).await;
    let p = platforms(&store).await;
    let tt = account(&store, tenant, Platform::TikTok, "open-1").await;
    let (post, targets) = post_now(&store, tenant, &[tt], None).await;
    let t = targets[0].id;
    let fake = ScriptedPublisher::new();
    // A reference is handed out, the poll fails; asked, the platform says the request never became a post.
    let lost = PublishError::new(ErrorClass::Retryable { retry_after: None }, None, "status poll failed");
    fake.then_publish(Scripted::RecordThen("publish-1".into(), Box::new(Scripted::Err(lost))));
    fake.then_check(Ok(CheckOutcome::NotPublished { reason: "publish_cancelled".into() }));
    let pubs: Publishers = [(AuthKind::TikTok, fake.clone() as Arc<dyn Publisher>)].into_iter().collect();

    p.run_with(&store, pubs, || async { status(&store, tenant, t).await == TargetStatus::Published }).await;
    assert_eq!(fake.publishes(), 2, "a second round only after the platform said the first made nothing");
    assert_eq!(fake.check_calls.lock().unwrap().clone(), vec!["publish-1".to_string()]);
    assert_eq!(store.target(tenant, t).await.unwrap().attempts, 2);
    assert_eq!(store.post(tenant, post).await.unwrap().status, PostStatus::Published);
});

store_test!(a_generated_png_reaches_instagram_as_a_jpeg_and_facebook_as_it_is, |store| {
    let tenant = workspace(&store).await;
    let p = platforms(&store).await;
    let token = p.graph.add_page("111", "Bakery", Some("17840001"));
    let fb = connected(&store, tenant, Platform::Facebook, "111", &token).await;
    let ig = connected(&store, tenant, Platform::Instagram, "17840001", &token).await;
    let png = p.media(&store, tenant, "generated.png", "image/png", &images::png(64, 48)).await;
    let (post, targets) = post_now(&store, tenant, &[fb, ig], Some(&png)).await;

    let ids: Vec<_> = targets.iter().map(|t| t.id).collect();
    p.run_until(&store, || async {
        let mut all = true;
        for id in &ids {
            all &= status(&store, tenant, *id).await == TargetStatus::Published;
        }
        all
    })
    .await;
    assert_eq!(store.post(tenant, post).await.unwrap().status, PostStatus::Published);
    let fetched = p.graph.fetched_images();
    assert_eq!(fetched.len(), 1);
    assert!(fetched[0].jpeg && fetched[0].content_type == "image/jpeg", "{fetched:?}");
    let converted = store.media_at_path(tenant, "media/generated.png.jpg").await.unwrap().expect("the JPEG is stored");
    assert_eq!((converted.info.content_type.as_str(), converted.info.source.as_str()), ("image/jpeg", "converted"));
    assert_eq!((converted.info.width, converted.info.height), (Some(64), Some(48)));
    assert!(fetched[0].url.contains(&converted.id.to_string()), "Instagram got the JPEG's URL");
    let photo = &p.graph.calls_to("/111/photos")[0];
    assert!(photo.params["url"].contains(&png), "Facebook takes PNG: it gets the original");

    // A second post with the same image reuses the stored JPEG.
    let (_, again) = post_now(&store, tenant, &[ig], Some(&png)).await;
    let t = again[0].id;
    p.run_until(&store, || async { status(&store, tenant, t).await == TargetStatus::Published }).await;
    let (n,): (i64,) = sqlx::query_as("SELECT COUNT(*) FROM media WHERE storage_path = 'media/generated.png.jpg'")
        .fetch_one(store.sql_for_tests())
        .await
        .unwrap();
    assert_eq!(n, 1, "converted once");
});

store_test!(an_image_that_cannot_be_converted_fails_its_instagram_target_clearly, |store| {
    let tenant = workspace(&store).await;
    let p = platforms(&store).await;
    let token = p.graph.add_page("111", "Bakery", Some("17840001"));
    let ig = connected(&store, tenant, Platform::Instagram, "17840001", &token).await;
    let broken = p.media(&store, tenant, "broken.png", "image/png", b"this is not a png").await;
    let (post, targets) = post_now(&store, tenant, &[ig], Some(&broken)).await;
    let t = targets[0].id;

    p.run_until(&store, || async { status(&store, tenant, t).await == TargetStatus::Failed }).await;
    let target = store.target(tenant, t).await.unwrap();
    let message = target.error_message.unwrap_or_default();
    assert!(message.contains("Instagram takes JPEG images only") && message.contains("media/broken.png"), "{message}");
    assert!(p.graph.calls_to("/17840001/media").is_empty(), "nothing was sent");
    assert_eq!(store.post(tenant, post).await.unwrap().status, PostStatus::Failed);
});

/// Stores a valid MP4 of `spec` with its probed facts, as the bot's ingest does.
async fn probed_video(
    p: &Platforms,
    store: &Store,
    tenant: TenantId,
    name: &str,
    spec: &tochen_testkit::video::VideoSpec,
) -> String {
    let bytes = tochen_testkit::video::video_bytes(spec, 80_000);
    let id = p.media(store, tenant, name, "video/mp4", &bytes).await;
    let media = store.media(tenant, tochen_domain::MediaId::parse(&id).unwrap()).await.unwrap();
    let probe = tochen_platforms::media::probe_bytes(&bytes);
    tochen_platforms::media::ingest::record_probe(store, &media, &probe).await.unwrap();
    id
}

store_test!(a_facebook_video_goes_as_a_reel_when_it_fits_and_generated_media_is_labelled_ai_on_tiktok, |store| {
    use tochen_testkit::video::VideoSpec;
    let tenant = workspace(&store).await;
    let p = platforms(&store).await;
    let token = p.graph.add_page("111", "Bakery", None);
    let fb = connected(&store, tenant, Platform::Facebook, "111", &token).await;
    let (tt_token, _) = p.tiktok.issue_tokens();
    let tt = connected(&store, tenant, Platform::TikTok, &p.tiktok.open_id(), &tt_token).await;

    // Vertical and 20 s: it fits Reels, so Facebook gets a Reel; the file is "generated" (`Platforms::media`).
    let vertical = probed_video(&p, &store, tenant, "v.mp4", &VideoSpec::vertical(20)).await;
    let (post, targets) = post_now(&store, tenant, &[fb, tt], Some(&vertical)).await;
    p.run_until(&store, || async {
        let mut done = true;
        for t in &targets {
            done &= status(&store, tenant, t.id).await == TargetStatus::Published;
        }
        done
    })
    .await;
    assert_eq!(store.post(tenant, post).await.unwrap().status, PostStatus::Published);
    assert_eq!(p.graph.calls_to("/111/video_reels").len(), 2, "start and finish");
    assert!(p.graph.calls_to("/111/videos").is_empty());
    let info = p.tiktok.post_infos().pop().unwrap();
    assert_eq!(info["is_aigc"], true, "media from the image model is labelled AI-generated");

    // Landscape and two minutes: not a Reel, a Page video.
    let wide = VideoSpec { width: 1920, height: 1080, ..VideoSpec::vertical(120) };
    let landscape = probed_video(&p, &store, tenant, "w.mp4", &wide).await;
    let (_, targets) = post_now(&store, tenant, &[fb], Some(&landscape)).await;
    let t = targets[0].id;
    p.run_until(&store, || async { status(&store, tenant, t).await == TargetStatus::Published }).await;
    assert_eq!(p.graph.calls_to("/111/videos").len(), 1);
    assert_eq!(p.graph.calls_to("/111/video_reels").len(), 2, "no second reel");

    // The post chose a Page video: that wins over the default.
    let (second, targets) = post_now(&store, tenant, &[fb], Some(&vertical)).await;
    let opts = serde_json::json!({"facebook": {"video": "page"}});
    store.set_post_options(tenant, second, opts.as_object().unwrap()).await.unwrap();
    let t = targets[0].id;
    p.run_until(&store, || async { status(&store, tenant, t).await == TargetStatus::Published }).await;
    assert_eq!(p.graph.calls_to("/111/videos").len(), 2);
});
