//! Videos and platform options through the publishing clients against the fakes, which pull and probe the media
//! with the same limits table as the client: Facebook Page videos and Reels (every phase and the status poll), an
//! Instagram Reel, a TikTok video with the chosen options in `post_info`, and wrong media refused with each
//! platform's own error at its own moment.

use std::collections::HashMap;
use std::time::Duration;
use tochen_config::Config;
use tochen_domain::ids::{AccountId, TargetId, TenantId};
use tochen_domain::SecretString;
use tochen_domain::{AuthKind, MediaKind, Platform};
use tochen_platforms::options::{FacebookVideo, PostOptions};
use tochen_platforms::publish::{CheckOutcome, ErrorClass, MediaRef, PublishOutcome, PublishRequest, Publisher};
use tochen_platforms::{PlatformClients, PollPolicy};
use tochen_testkit::fake_graph::FakeGraph;
use tochen_testkit::fake_tiktok::{CreatorSettings, FakeTikTok};
use tochen_testkit::media_host::MediaHost;
use tochen_testkit::video::{video_bytes, VideoSpec};

use crate::common::Refs;

struct World {
    graph: FakeGraph,
    tiktok: FakeTikTok,
    media: MediaHost,
    clients: PlatformClients,
    _dir: tempfile::TempDir,
}

async fn world() -> World {
    let graph = FakeGraph::start().await;
    let tiktok = FakeTikTok::start().await;
    graph.set_container_delay(Duration::from_millis(50));
    tiktok.set_processing_delay(Duration::from_millis(50));
    let dir = tempfile::tempdir().unwrap();
    let env: HashMap<String, String> = [
        ("META_APP_ID", "app-1"),
        ("META_APP_SECRET", "meta-secret"),
        ("META_GRAPH_URL", graph.base_url().as_str()),
        ("META_GRAPH_VIDEO_URL", graph.base_url().as_str()),
        ("INSTAGRAM_GRAPH_URL", graph.base_url().as_str()),
        ("TIKTOK_CLIENT_KEY", "ck"),
        ("TIKTOK_CLIENT_SECRET", "tiktok-secret"),
        ("TIKTOK_API_URL", tiktok.base_url().as_str()),
        ("TOCHEN_DATA_DIR", dir.path().to_str().unwrap()),
    ]
    .into_iter()
    .map(|(k, v)| (k.to_string(), v.to_string()))
    .collect();
    let config = Config::from_source(&env).unwrap();
    let http = reqwest::Client::builder().timeout(Duration::from_secs(10)).build().unwrap();
    let clients = PlatformClients::new(&config, http, PollPolicy::quick());
    let media = MediaHost::start(None, dir.path().to_owned()).await;
    World { graph, tiktok, media, clients, _dir: dir }
}

impl World {
    fn video(&self, name: &str, spec: &VideoSpec) -> MediaRef {
        let bytes = video_bytes(spec, 300_000);
        MediaRef {
            kind: MediaKind::Video,
            url: self.media.put(name, "video/mp4", bytes),
            content_type: "video/mp4".into(),
            size_bytes: 300_000,
            storage_path: String::new(),
        }
    }

    fn jpeg(&self, name: &str, w: u32, h: u32) -> MediaRef {
        MediaRef {
            kind: MediaKind::Image,
            url: self.media.put(name, "image/jpeg", tochen_testkit::images::jpeg(w, h)),
            content_type: "image/jpeg".into(),
            size_bytes: 2000,
            storage_path: String::new(),
        }
    }
}

fn req(platform: Platform, kind: AuthKind, ext: &str, token: &str, media: Vec<MediaRef>) -> PublishRequest {
    PublishRequest {
        tenant_id: TenantId::new(),
        target_id: TargetId::new(),
        account_id: AccountId::new(),
        platform,
        external_account_id: ext.into(),
        auth_kind: kind,
        access_token: SecretString::new(token),
        text: "New season #bakery".into(),
        title: "Season".into(),
        link: None,
        media,
        options: PostOptions::default(),
    }
}

fn published(o: PublishOutcome) -> String {
    match o {
        PublishOutcome::Published { platform_post_id, .. } => platform_post_id,
        other => panic!("expected published, got {other:?}"),
    }
}

#[tokio::test]
async fn a_facebook_page_video_is_posted_by_url_on_the_video_host_and_polled() {
    let w = world().await;
    let token = w.graph.add_page("111", "Bakery", None);
    let fb = w.clients.facebook.clone().unwrap();
    let landscape = w.video("wide.mp4", &VideoSpec { width: 1920, height: 1080, ..VideoSpec::vertical(120) });
    let mut r = req(Platform::Facebook, AuthKind::FacebookPage, "111", &token, vec![landscape]);
    r.options.facebook.video = Some(FacebookVideo::Page);
    let refs = Refs::default();
    let id = published(fb.publish(&r, &refs).await.unwrap());
    assert_eq!(refs.all(), vec![format!("video:{id}")], "the video id is recorded before waiting");
    let call = w.graph.calls_to("/111/videos").pop().expect("a /videos call");
    assert!(call.params["file_url"].ends_with("/files/wide.mp4"));
    assert_eq!(call.params["description"], "New season #bakery");
    assert_eq!(w.graph.videos(), vec![(id.clone(), false, true)]);
    // Asking about it later reads the status.
    let checked = fb.check(&r, &format!("video:{id}"), &Refs::default()).await.unwrap();
    assert!(matches!(checked, CheckOutcome::Published { platform_post_id, .. } if platform_post_id == id));
}

#[tokio::test]
async fn a_facebook_reel_goes_through_start_upload_finish_and_status() {
    let w = world().await;
    let token = w.graph.add_page("111", "Bakery", None);
    let fb = w.clients.facebook.clone().unwrap();
    let mut r = req(
        Platform::Facebook,
        AuthKind::FacebookPage,
        "111",
        &token,
        vec![w.video("reel.mp4", &VideoSpec::vertical(30))],
    );
    r.options.facebook.video = Some(FacebookVideo::Reel);
    let refs = Refs::default();
    let id = published(fb.publish(&r, &refs).await.unwrap());
    assert_eq!(refs.all(), vec![format!("reel:{id}"), format!("reel:{id}#finish")]);
    let phases: Vec<String> =
        w.graph.calls_to("/111/video_reels").iter().map(|c| c.params["upload_phase"].clone()).collect();
    assert_eq!(phases, ["start", "finish"]);
    let upload = w.graph.calls().into_iter().find(|c| c.path.starts_with("/rupload/")).expect("the upload phase");
    assert_eq!(upload.params["access_token"], token, "the Page token travels as `Authorization: OAuth`");
    assert_eq!(w.graph.videos(), vec![(id.clone(), true, true)]);
    let finish = w.graph.calls_to("/111/video_reels").pop().unwrap();
    assert_eq!((finish.params["video_state"].as_str(), finish.params["video_id"].as_str()), ("PUBLISHED", id.as_str()));

    // Asked about later, the reel reads as published from its status.
    let checked = fb.check(&r, &format!("reel:{id}#finish"), &Refs::default()).await.unwrap();
    assert!(matches!(checked, CheckOutcome::Published { .. }), "{checked:?}");

    // A reel started and never finished is invisible: a new attempt is safe.
    let v = fb
        .graph
        .post_as(
            "111/video_reels",
            &SecretString::new(&token),
            &[("upload_phase", "start".into())],
            tochen_platforms::http::Effect::Prepare,
        )
        .await
        .unwrap();
    let orphan = v["video_id"].as_str().unwrap().to_owned();
    let checked = fb.check(&r, &format!("reel:{orphan}"), &Refs::default()).await.unwrap();
    assert!(matches!(checked, CheckOutcome::NotPublished { .. }), "{checked:?}");
}

#[tokio::test]
async fn a_reel_that_breaks_the_reels_limits_fails_in_the_status_as_facebook_does() {
    let w = world().await;
    let token = w.graph.add_page("111", "Bakery", None);
    let fb = w.clients.facebook.clone().unwrap();
    let square = w.video("square.mp4", &VideoSpec { width: 1080, height: 1080, ..VideoSpec::vertical(30) });
    let mut r = req(Platform::Facebook, AuthKind::FacebookPage, "111", &token, vec![square]);
    r.options.facebook.video = Some(FacebookVideo::Reel);
    let refs = Refs::default();
    let e = fb.publish(&r, &refs).await.unwrap_err();
    assert_eq!((e.class, e.code.as_deref()), (ErrorClass::Permanent, Some("video_status=error")));
    assert!(e.message.contains("9:16"), "{}", e.message);
    let id = refs.all()[0].trim_start_matches("reel:").to_owned();
    let checked = fb.check(&r, &format!("reel:{id}#finish"), &Refs::default()).await.unwrap();
    assert!(matches!(checked, CheckOutcome::Failed(_)), "{checked:?}");
}

#[tokio::test]
async fn an_instagram_reel_is_published_and_a_short_one_fails_with_the_subcode() {
    let w = world().await;
    let token = w.graph.add_page("222", "Bakery", Some("17840001"));
    let ig = w.clients.instagram.clone().unwrap();
    let r = req(
        Platform::Instagram,
        AuthKind::InstagramViaPage,
        "17840001",
        &token,
        vec![w.video("r.mp4", &VideoSpec::vertical(15))],
    );
    published(ig.publish(&r, &Refs::default()).await.unwrap());
    let reel = w
        .graph
        .calls_to("/17840001/media")
        .into_iter()
        .find(|c| c.params.get("media_type").map(String::as_str) == Some("REELS"));
    assert!(reel.is_some_and(|c| c.params["video_url"].ends_with("/files/r.mp4")));

    let short = VideoSpec { duration_ms: 2000, ..VideoSpec::vertical(2) };
    let r =
        req(Platform::Instagram, AuthKind::InstagramViaPage, "17840001", &token, vec![w.video("short.mp4", &short)]);
    let e = ig.publish(&r, &Refs::default()).await.unwrap_err();
    assert_eq!((e.class, e.code.as_deref()), (ErrorClass::Permanent, Some("2207026")), "{e:?}");

    // Images with a ratio Instagram refuses are refused when the container is made (2207009).
    let tall =
        req(Platform::Instagram, AuthKind::InstagramViaPage, "17840001", &token, vec![w.jpeg("tall.jpg", 400, 1000)]);
    let e = ig.publish(&tall, &Refs::default()).await.unwrap_err();
    assert_eq!(e.code.as_deref(), Some("36003/2207009"), "{e:?}");
}

#[tokio::test]
async fn carousel_counts_are_checked_by_the_fake_with_the_configured_maximum() {
    let w = world().await;
    let token = w.graph.add_page("222", "Bakery", Some("17840001"));
    let mut ig = (*w.clients.instagram.clone().unwrap()).clone();
    // The client allows 12 (configured higher than Meta's 10); the fake keeps Meta's 10 and refuses.
    ig.carousel_max = 12;
    let media: Vec<MediaRef> = (0..11).map(|i| w.jpeg(&format!("{i}.jpg"), 100, 100)).collect();
    let r = req(Platform::Instagram, AuthKind::InstagramViaPage, "17840001", &token, media.clone());
    let e = ig.publish(&r, &Refs::default()).await.unwrap_err();
    assert!(e.message.contains("2 to 10"), "{e:?}");
    w.graph.set_media_limits(tochen_platforms::media::MediaLimits { instagram_carousel_max: 12, ..Default::default() });
    published(ig.publish(&r, &Refs::default()).await.unwrap());
}

#[tokio::test]
async fn a_tiktok_video_carries_the_chosen_options_and_the_creator_limits() {
    let w = world().await;
    let (token, _) = w.tiktok.issue_tokens();
    let tt = w.clients.tiktok.clone().unwrap();
    w.tiktok.set_creator(CreatorSettings { comment_disabled: true, ..Default::default() });
    let mut r = req(Platform::TikTok, AuthKind::TikTok, "o", &token, vec![w.video("t.mp4", &VideoSpec::vertical(20))]);
    r.options.tiktok.privacy_level = Some("MUTUAL_FOLLOW_FRIENDS".into());
    r.options.tiktok.duet = false;
    r.options.tiktok.brand_organic = true;
    r.options.ai_generated = true;
    published(tt.publish(&r, &Refs::default()).await.unwrap());
    let info = w.tiktok.post_infos().pop().unwrap();
    assert_eq!(info["privacy_level"], "MUTUAL_FOLLOW_FRIENDS");
    assert_eq!(info["disable_comment"], true, "the creator turned comments off");
    assert_eq!(info["disable_duet"], true, "the post turned duets off");
    assert_eq!(info["disable_stitch"], true, "the fake creator has stitch off by default");
    assert_eq!(
        (info["brand_organic_toggle"].as_bool(), info["brand_content_toggle"].as_bool()),
        (Some(true), Some(false))
    );
    assert_eq!(info["is_aigc"], true);

    // A level the creator does not offer, and branded content set private, are refused before anything is sent.
    r.options.tiktok.privacy_level = Some("FOLLOWER_OF_CREATOR".into());
    let e = tt.publish(&r, &Refs::default()).await.unwrap_err();
    assert_eq!(e.code.as_deref(), Some("privacy_level_option_mismatch"));
    r.options.tiktok.privacy_level = Some("SELF_ONLY".into());
    r.options.tiktok.brand_content = true;
    let before = w.tiktok.calls_to("/init/").len();
    assert_eq!(tt.publish(&r, &Refs::default()).await.unwrap_err().class, ErrorClass::Permanent);
    assert_eq!(w.tiktok.calls_to("/init/").len(), before);
}

#[tokio::test]
async fn tiktok_fails_wrong_media_in_the_status_with_its_fail_reason() {
    let w = world().await;
    let (token, _) = w.tiktok.issue_tokens();
    let tt = w.clients.tiktok.clone().unwrap();
    let cases = [
        (VideoSpec { fps: 15, ..VideoSpec::vertical(20) }, "frame_rate_check_failed"),
        (VideoSpec { width: 200, height: 356, ..VideoSpec::vertical(20) }, "picture_size_check_failed"),
        (VideoSpec::vertical(11 * 60), "duration_check_failed"),
    ];
    for (i, (spec, reason)) in cases.iter().enumerate() {
        let r = req(Platform::TikTok, AuthKind::TikTok, "o", &token, vec![w.video(&format!("{i}.mp4"), spec)]);
        let refs = Refs::default();
        let e = tt.publish(&r, &refs).await.unwrap_err();
        assert_eq!(e.code.as_deref(), Some(*reason), "{e:?}");
        assert_eq!(refs.all().len(), 1, "the init succeeded and the publish_id was recorded: it fails in the status");
    }
    // The creator's own cap is below the API's: the fake fails a pulled video over it in the status...
    w.tiktok.set_creator(CreatorSettings { max_video_post_duration_sec: 60, ..Default::default() });
    let r = req(Platform::TikTok, AuthKind::TikTok, "o", &token, vec![w.video("long.mp4", &VideoSpec::vertical(90))]);
    assert_eq!(tt.publish(&r, &Refs::default()).await.unwrap_err().code.as_deref(), Some("duration_check_failed"));
    // ...and the client refuses a file it uploads itself before sending anything.
    let dir = tempfile::tempdir().unwrap();
    let mut local = (*tt).clone();
    local.data_dir = dir.path().to_owned();
    std::fs::write(dir.path().join("long.mp4"), video_bytes(&VideoSpec::vertical(90), 300_000)).unwrap();
    let mut m = w.video("long2.mp4", &VideoSpec::vertical(90));
    m.storage_path = "long.mp4".into();
    let before = w.tiktok.calls_to("/init/").len();
    let e = local
        .publish(&req(Platform::TikTok, AuthKind::TikTok, "o", &token, vec![m]), &Refs::default())
        .await
        .unwrap_err();
    assert_eq!((e.class, e.code.as_deref()), (ErrorClass::Permanent, Some("duration_check_failed")), "{e:?}");
    assert!(e.message.contains("60 s"), "{}", e.message);
    assert_eq!(w.tiktok.calls_to("/init/").len(), before, "nothing was sent");
    // A photo that is not JPEG or WebP (a GIF here, which nothing converts) fails in the status.
    let gif = MediaRef {
        kind: MediaKind::Image,
        url: w.media.put("a.gif", "image/gif", b"GIF89a\x01\x00\x01\x00\x00\x00\x00;".to_vec()),
        content_type: "image/gif".into(),
        size_bytes: 14,
        storage_path: String::new(),
    };
    let r = req(Platform::TikTok, AuthKind::TikTok, "o", &token, vec![w.jpeg("ok.jpg", 100, 100), gif]);
    assert_eq!(tt.publish(&r, &Refs::default()).await.unwrap_err().code.as_deref(), Some("file_format_check_failed"));
}

#[tokio::test]
async fn the_fake_tiktok_refuses_photo_counts_outside_1_to_35_at_init() {
    let w = world().await;
    let (token, _) = w.tiktok.issue_tokens();
    let urls: Vec<String> = (0..36).map(|i| w.jpeg(&format!("p{i}.jpg"), 100, 100).url).collect();
    let body = serde_json::json!({"post_mode": "DIRECT_POST", "media_type": "PHOTO",
        "post_info": {"title": "t", "privacy_level": "SELF_ONLY"},
        "source_info": {"source": "PULL_FROM_URL", "photo_cover_index": 0, "photo_images": urls}});
    let resp = reqwest::Client::new()
        .post(format!("{}/v2/post/publish/content/init/", w.tiktok.base_url()))
        .bearer_auth(&token)
        .json(&body)
        .send()
        .await
        .unwrap();
    assert_eq!(resp.status(), 400);
    let v: serde_json::Value = resp.json().await.unwrap();
    assert_eq!(v["error"]["code"], "invalid_param");
}
