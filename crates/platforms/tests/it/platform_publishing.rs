//! Every post kind to every platform through the publishing clients, against the fakes in tochen-testkit, and
//! every error class the clients map.

use std::collections::HashMap;
use std::time::Duration;
use tochen_config::Config;
use tochen_domain::ids::{AccountId, TargetId, TenantId};
use tochen_domain::SecretString;
use tochen_domain::{AuthKind, MediaKind, Platform};
use tochen_platforms::publish::{CheckOutcome, ErrorClass, MediaRef, PublishOutcome, PublishRequest, Publisher};
use tochen_platforms::refresh::{RefreshError, RefreshRequest};
use tochen_platforms::{MetricsAccount, MetricsReader, PlatformClients, PollPolicy};
use tochen_store::AccountTokens;
use tochen_testkit::fake_graph::FakeGraph;
use tochen_testkit::fake_tiktok::FakeTikTok;
use tochen_testkit::media_host::MediaHost;
use tochen_testkit::video::{video_bytes, VideoSpec};

use crate::common::Refs;

fn config(graph: &str, tiktok: &str, data_dir: &str) -> Config {
    let env: HashMap<String, String> = [
        ("META_APP_ID", "app-1"),
        ("META_APP_SECRET", "meta-secret"),
        ("META_GRAPH_URL", graph),
        ("META_GRAPH_VERSION", "v26.0"),
        ("INSTAGRAM_GRAPH_URL", graph),
        ("TIKTOK_CLIENT_KEY", "ck"),
        ("TIKTOK_CLIENT_SECRET", "tiktok-secret"),
        ("TIKTOK_API_URL", tiktok),
        ("TOCHEN_DATA_DIR", data_dir),
    ]
    .into_iter()
    .map(|(k, v)| (k.to_string(), v.to_string()))
    .collect();
    Config::from_source(&env).unwrap()
}

fn video(path: &str, size: i64) -> MediaRef {
    MediaRef {
        kind: MediaKind::Video,
        url: "https://media.example/v.mp4".into(),
        content_type: "video/mp4".into(),
        size_bytes: size,
        storage_path: path.into(),
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
        text: "Hello from tochen #launch".into(),
        title: "Launch".into(),
        link: None,
        media,
        options: Default::default(),
    }
}

struct World {
    graph: FakeGraph,
    tiktok: FakeTikTok,
    media: MediaHost,
    clients: PlatformClients,
    config: Config,
    _dir: tempfile::TempDir,
}

impl World {
    /// A valid vertical MP4 (20 s, H.264, 30 fps) served over HTTP.
    fn video(&self) -> MediaRef {
        let bytes = video_bytes(&VideoSpec::vertical(20), 200_000);
        MediaRef {
            kind: MediaKind::Video,
            url: self.media.put("v.mp4", "video/mp4", bytes),
            content_type: "video/mp4".into(),
            size_bytes: 200_000,
            storage_path: String::new(),
        }
    }

    /// A JPEG image served over HTTP, as the web service serves media to the platforms.
    fn image(&self, n: usize) -> MediaRef {
        MediaRef {
            kind: MediaKind::Image,
            url: self.media.put(&format!("{n}.jpg"), "image/jpeg", tochen_testkit::images::jpeg(8, 8)),
            content_type: "image/jpeg".into(),
            size_bytes: 1000,
            storage_path: String::new(),
        }
    }
}

async fn world_with_timeout(timeout: Duration) -> World {
    let graph = FakeGraph::start().await;
    let tiktok = FakeTikTok::start().await;
    graph.set_container_delay(Duration::from_millis(100));
    tiktok.set_processing_delay(Duration::from_millis(100));
    let dir = tempfile::tempdir().unwrap();
    let config = config(&graph.base_url(), &tiktok.base_url(), dir.path().to_str().unwrap());
    let http = reqwest::Client::builder().timeout(timeout).build().unwrap();
    let clients = PlatformClients::new(&config, http, PollPolicy::quick());
    let media = MediaHost::start(None, dir.path().to_owned()).await;
    World { graph, tiktok, media, clients, config, _dir: dir }
}

async fn world() -> World {
    world_with_timeout(Duration::from_secs(10)).await
}

fn published(o: PublishOutcome) -> (String, Option<String>) {
    match o {
        PublishOutcome::Published { platform_post_id, permalink } => (platform_post_id, permalink),
        other => panic!("expected published, got {other:?}"),
    }
}

#[tokio::test]
async fn facebook_publishes_text_one_photo_and_several_photos() {
    let w = world().await;
    let token = w.graph.add_page("111", "Bakery", None);
    let fb = w.clients.facebook.clone().unwrap();
    let refs = Refs::default();

    let mut text = req(Platform::Facebook, AuthKind::FacebookPage, "111", &token, vec![]);
    text.link = Some("https://bakery.example".into());
    let (id, permalink) = published(fb.publish(&text, &refs).await.unwrap());
    assert!(id.starts_with("111_"));
    assert!(permalink.unwrap().contains(&id));
    assert_eq!(w.graph.published(&id).unwrap()["link"], "https://bakery.example");

    let one = req(Platform::Facebook, AuthKind::FacebookPage, "111", &token, vec![w.image(1)]);
    let (id, _) = published(fb.publish(&one, &refs).await.unwrap());
    assert_eq!(w.graph.published(&id).unwrap()["caption"], "Hello from tochen #launch");

    let many = req(Platform::Facebook, AuthKind::FacebookPage, "111", &token, vec![w.image(1), w.image(2), w.image(3)]);
    let (id, _) = published(fb.publish(&many, &refs).await.unwrap());
    let unpublished = w
        .graph
        .calls_to("/111/photos")
        .into_iter()
        .filter(|c| c.params.get("published").map(String::as_str) == Some("false"))
        .count();
    assert_eq!(unpublished, 3);
    let attached = w.graph.published(&id).unwrap()["attached_media"].as_str().unwrap().to_string();
    assert_eq!(serde_json::from_str::<serde_json::Value>(&attached).unwrap().as_array().unwrap().len(), 3);
    assert!(w.graph.calls().iter().all(|c| !c.path.starts_with("/v26.0")), "the fake strips the configured version");
}

#[tokio::test]
async fn instagram_publishes_image_carousel_and_reel_after_checking_the_quota() {
    let w = world().await;
    let token = w.graph.add_page("222", "Bakery", Some("17840001"));
    let ig = w.clients.instagram.clone().unwrap();
    for media in [vec![w.image(1)], vec![w.image(1), w.image(2), w.video()], vec![w.video()]] {
        let refs = Refs::default();
        let r = req(Platform::Instagram, AuthKind::InstagramViaPage, "17840001", &token, media);
        let (id, permalink) = published(ig.publish(&r, &refs).await.unwrap());
        assert!(id.starts_with("ig-media-"));
        assert!(permalink.unwrap().starts_with("https://www.instagram.com/p/"));
        let recorded = refs.all();
        assert_eq!(recorded.len(), 2, "the container, then the mark before media_publish: {recorded:?}");
        assert_eq!(recorded[1], format!("{}#publish_sent", recorded[0]));
    }
    assert_eq!(w.graph.calls_to("/content_publishing_limit").len(), 3);
    let reel = w
        .graph
        .calls_to("/17840001/media")
        .into_iter()
        .find(|c| c.params.get("media_type").map(String::as_str) == Some("REELS"));
    assert!(reel.is_some());
    let carousel = w
        .graph
        .calls_to("/17840001/media")
        .into_iter()
        .find(|c| c.params.get("media_type").map(String::as_str) == Some("CAROUSEL"))
        .unwrap();
    assert_eq!(carousel.params["children"].split(',').count(), 3);
}

#[tokio::test]
async fn instagram_login_accounts_publish_on_the_instagram_host() {
    let w = world().await;
    w.graph.add_token("ig-login-token");
    let ig = w.clients.instagram.clone().unwrap();
    let r = req(Platform::Instagram, AuthKind::InstagramLogin, "17841400000000001", "ig-login-token", vec![w.image(1)]);
    published(ig.publish(&r, &Refs::default()).await.unwrap());
}

#[tokio::test]
async fn instagram_full_quota_is_retryable_and_creates_nothing() {
    let w = world().await;
    let token = w.graph.add_page("222", "Bakery", Some("17840001"));
    w.graph.set_quota(50, 50);
    let r = req(Platform::Instagram, AuthKind::InstagramViaPage, "17840001", &token, vec![w.image(1)]);
    let e = w.clients.instagram.clone().unwrap().publish(&r, &Refs::default()).await.unwrap_err();
    assert!(matches!(e.class, ErrorClass::Retryable { retry_after: Some(_) }));
    assert!(w.graph.calls_to("/17840001/media").is_empty());
}

#[tokio::test]
async fn captions_over_the_hashtag_limit_and_oversized_images_are_refused_before_any_call() {
    let w = world().await;
    let token = w.graph.add_page("222", "Bakery", Some("17840001"));
    let mut r = req(Platform::Instagram, AuthKind::InstagramViaPage, "17840001", &token, vec![w.image(1)]);
    r.text = (0..31).map(|i| format!("#tag{i}")).collect::<Vec<_>>().join(" ");
    let e = w.clients.instagram.clone().unwrap().publish(&r, &Refs::default()).await.unwrap_err();
    assert_eq!(e.class, ErrorClass::Permanent);
    assert!(e.message.contains("31 hashtags"));
    let mut big = w.image(1);
    big.size_bytes = 9 * 1024 * 1024;
    let r = req(Platform::Instagram, AuthKind::InstagramViaPage, "17840001", &token, vec![big.clone()]);
    let e = w.clients.instagram.clone().unwrap().publish(&r, &Refs::default()).await.unwrap_err();
    assert_eq!((e.class, e.code.as_deref()), (ErrorClass::Permanent, Some("2207004")));
    let r = req(Platform::Facebook, AuthKind::FacebookPage, "222", &token, vec![big]);
    assert_eq!(
        w.clients.facebook.clone().unwrap().publish(&r, &Refs::default()).await.unwrap_err().class,
        ErrorClass::Permanent
    );
    assert!(w.graph.calls().is_empty());
}

#[tokio::test]
async fn a_slow_instagram_container_is_pending_and_check_finishes_it() {
    let w = world().await;
    let token = w.graph.add_page("222", "Bakery", Some("17840001"));
    w.graph.set_container_delay(Duration::from_secs(8));
    let ig = w.clients.instagram.clone().unwrap();
    let r = req(Platform::Instagram, AuthKind::InstagramViaPage, "17840001", &token, vec![w.image(1)]);
    let refs = Refs::default();
    let container = match ig.publish(&r, &refs).await.unwrap() {
        PublishOutcome::Pending { platform_ref } => platform_ref,
        other => panic!("expected pending, got {other:?}"),
    };
    assert_eq!(refs.all(), vec![container.clone()]);
    assert_eq!(ig.check(&r, &container, &refs).await.unwrap(), CheckOutcome::Pending);
    w.graph.set_container_delay(Duration::ZERO);
    assert!(matches!(ig.check(&r, &container, &refs).await.unwrap(), CheckOutcome::Published { .. }));
}

#[tokio::test]
async fn tiktok_publishes_pulled_video_uploaded_video_and_photos() {
    let w = world().await;
    let (token, _) = w.tiktok.issue_tokens();
    let tt = w.clients.tiktok.clone().unwrap();
    let open_id = w.tiktok.open_id();

    let refs = Refs::default();
    let pull = req(Platform::TikTok, AuthKind::TikTok, &open_id, &token, vec![w.video()]);
    published(tt.publish(&pull, &refs).await.unwrap());
    assert_eq!(refs.all().len(), 1);

    let size = 11 * 1024 * 1024;
    std::fs::write(w.config.data_dir.join("v.mp4"), video_bytes(&VideoSpec::vertical(20), size)).unwrap();
    let refs = Refs::default();
    let upload = req(Platform::TikTok, AuthKind::TikTok, &open_id, &token, vec![video("v.mp4", size as i64)]);
    published(tt.publish(&upload, &refs).await.unwrap());
    assert_eq!(w.tiktok.uploaded_bytes(&refs.all()[0]), size as u64);
    let put = w.tiktok.calls_to("/upload/");
    assert_eq!(put[0].headers["content-range"], format!("bytes 0-{}/{size}", size - 1));

    let photos = req(Platform::TikTok, AuthKind::TikTok, &open_id, &token, vec![w.image(1), w.image(2)]);
    published(tt.publish(&photos, &Refs::default()).await.unwrap());
    assert_eq!(w.tiktok.calls_to("/v2/post/publish/creator_info/query/").len(), 3, "creator info before every post");
}

#[tokio::test]
async fn tiktok_privacy_level_is_checked_against_the_creator_options() {
    let w = world().await;
    let (token, _) = w.tiktok.issue_tokens();
    let tt = w.clients.tiktok.clone().unwrap();
    let r = req(Platform::TikTok, AuthKind::TikTok, "o", &token, vec![w.video()]);
    w.tiktok.set_privacy_options(&["SELF_ONLY"]);
    published(tt.publish(&r, &Refs::default()).await.unwrap());
    let init = w.tiktok.calls_to("/video/init/").pop().unwrap();
    assert!(init.params["post_info"].contains("SELF_ONLY"));
    w.tiktok.set_privacy_options(&["FOLLOWER_OF_CREATOR"]);
    let e = tt.publish(&r, &Refs::default()).await.unwrap_err();
    assert_eq!(e.class, ErrorClass::Permanent);
}

#[tokio::test]
async fn tiktok_failures_map_into_error_classes() {
    let w = world().await;
    let (token, _) = w.tiktok.issue_tokens();
    let tt = w.clients.tiktok.clone().unwrap();
    let r = req(Platform::TikTok, AuthKind::TikTok, "o", &token, vec![w.video()]);
    w.tiktok.fail_next_publish("file_format_check_failed");
    let e = tt.publish(&r, &Refs::default()).await.unwrap_err();
    assert_eq!((e.class, e.code.as_deref()), (ErrorClass::Permanent, Some("file_format_check_failed")));
    w.tiktok.fail_next("creator_info", 429, "rate_limit_exceeded", "Too many requests");
    assert!(matches!(tt.publish(&r, &Refs::default()).await.unwrap_err().class, ErrorClass::Retryable { .. }));
    w.tiktok.fail_next("video/init", 403, "spam_risk_user_banned_from_posting", "banned");
    let e = tt.publish(&r, &Refs::default()).await.unwrap_err();
    assert_eq!(e.class, ErrorClass::Permanent);
    assert_eq!(e.message, "banned", "the platform's own message is kept");
    let bad = req(Platform::TikTok, AuthKind::TikTok, "o", "act.revoked", vec![w.video()]);
    assert_eq!(tt.publish(&bad, &Refs::default()).await.unwrap_err().class, ErrorClass::NeedsReconnect);
}

#[tokio::test]
async fn graph_failures_map_into_error_classes() {
    let w = world().await;
    let token = w.graph.add_page("111", "Bakery", None);
    let fb = w.clients.facebook.clone().unwrap();
    let r = req(Platform::Facebook, AuthKind::FacebookPage, "111", &token, vec![]);
    let cases = [
        (4, None, "retry"),
        (17, None, "retry"),
        (190, Some(463), "reconnect"),
        (200, None, "reconnect"),
        (100, None, "permanent"),
        (368, None, "permanent"),
        (506, None, "permanent"),
    ];
    for (code, sub, want) in cases {
        w.graph.fail_next("/111/feed", 400, code, sub, "platform says no");
        let e = fb.publish(&r, &Refs::default()).await.unwrap_err();
        let got = match e.class {
            ErrorClass::Retryable { .. } => "retry",
            ErrorClass::NeedsReconnect => "reconnect",
            ErrorClass::Permanent => "permanent",
            ErrorClass::OutcomeUnknown => "unknown",
        };
        assert_eq!(got, want, "code {code}");
        assert_eq!(e.message, "platform says no");
    }
    w.graph.revoke_token(&token);
    assert_eq!(fb.publish(&r, &Refs::default()).await.unwrap_err().class, ErrorClass::NeedsReconnect);
}

#[tokio::test]
async fn a_timeout_after_sending_is_unknown_and_before_sending_is_retryable() {
    let w = world_with_timeout(Duration::from_millis(300)).await;
    let token = w.graph.add_page("111", "Bakery", None);
    w.graph.inject(tochen_testkit::fake_graph::InjectedFailure {
        path_contains: "/111/feed".into(),
        status: 0,
        code: 0,
        subcode: None,
        message: String::new(),
        delay: Some(Duration::from_secs(2)),
        after_processing: false,
    });
    let fb = w.clients.facebook.clone().unwrap();
    let r = req(Platform::Facebook, AuthKind::FacebookPage, "111", &token, vec![]);
    assert_eq!(fb.publish(&r, &Refs::default()).await.unwrap_err().class, ErrorClass::OutcomeUnknown);

    let closed = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let port = closed.local_addr().unwrap().port();
    drop(closed);
    let cfg = config(&format!("http://127.0.0.1:{port}"), &w.tiktok.base_url(), "/tmp");
    let clients = PlatformClients::new(&cfg, reqwest::Client::new(), PollPolicy::quick());
    let e = clients.facebook.unwrap().publish(&r, &Refs::default()).await.unwrap_err();
    assert!(matches!(e.class, ErrorClass::Retryable { .. }), "{e:?}");
}

#[tokio::test]
async fn tiktok_refresh_rotates_and_the_old_refresh_token_dies() {
    let w = world().await;
    let (access, refresh) = w.tiktok.issue_tokens();
    let refresher = tochen_platforms::refresher(&w.config, reqwest::Client::new());
    let mut rq = RefreshRequest {
        tenant_id: TenantId::new(),
        account_id: AccountId::new(),
        auth_kind: AuthKind::TikTok,
        external_id: "o".into(),
        tokens: AccountTokens {
            access_token: SecretString::new(access),
            refresh_token: Some(SecretString::new(refresh)),
        },
    };
    let fresh = refresher.refresh(&rq).await.unwrap();
    assert_ne!(fresh.refresh_token.as_ref().unwrap(), rq.tokens.refresh_token.as_ref().unwrap());
    assert!(fresh.token_expires_at.is_some());
    assert!(matches!(refresher.refresh(&rq).await.unwrap_err(), RefreshError::Invalid(_)));
    rq.tokens.refresh_token = fresh.refresh_token;
    assert!(refresher.refresh(&rq).await.is_ok());
    rq.auth_kind = AuthKind::FacebookPage;
    assert!(matches!(refresher.refresh(&rq).await.unwrap_err(), RefreshError::Unsupported(_)));
}

#[tokio::test]
async fn metrics_keep_missing_data_as_none() {
    let w = world().await;
    let token = w.graph.add_page("222", "Bakery", Some("17840001"));
    let ig = w.clients.instagram.clone().unwrap();
    let acct = MetricsAccount {
        auth_kind: AuthKind::InstagramViaPage,
        external_id: "17840001".into(),
        access_token: SecretString::new(token.clone()),
    };
    let m = ig.post_metrics(&acct, "ig-media-1").await.unwrap();
    assert!(m.views.is_some() && m.reach.is_some());
    assert_eq!(m.saves, None, "the fake leaves `saved` out, as Meta does while data lags");
    assert_eq!(ig.account_metrics(&acct).await.unwrap().followers, Some(1234));
    let fb = w.clients.facebook.clone().unwrap();
    let fm = fb.post_metrics(&acct, "222_1").await.unwrap();
    assert_eq!((fm.shares, fm.likes, fm.comments), (Some(3), Some(12), Some(4)));
    let (tt_token, _) = w.tiktok.issue_tokens();
    let tacct = MetricsAccount {
        auth_kind: AuthKind::TikTok,
        external_id: "o".into(),
        access_token: SecretString::new(tt_token),
    };
    let tt = w.clients.tiktok.clone().unwrap();
    assert_eq!(tt.post_metrics(&tacct, "7300").await.unwrap().views, Some(1500));
    assert_eq!(tt.account_metrics(&tacct).await.unwrap().followers, Some(4321));
}

fn class_name(e: &tochen_platforms::publish::PublishError) -> &'static str {
    match e.class {
        ErrorClass::Retryable { .. } => "retry",
        ErrorClass::NeedsReconnect => "reconnect",
        ErrorClass::Permanent => "permanent",
        ErrorClass::OutcomeUnknown => "unknown",
    }
}

#[tokio::test]
async fn a_5xx_to_a_request_that_creates_a_post_is_unknown_and_a_refusal_is_retried() {
    let w = world().await;
    let token = w.graph.add_page("111", "Bakery", Some("17840001"));
    let fb = w.clients.facebook.clone().unwrap();
    let text = req(Platform::Facebook, AuthKind::FacebookPage, "111", &token, vec![]);

    // Facebook /feed: a 502 (even with a Graph envelope) may have made the post; a rate limit is a refusal.
    w.graph.fail_next("/111/feed", 502, 2, None, "Service temporarily unavailable");
    assert_eq!(class_name(&fb.publish(&text, &Refs::default()).await.unwrap_err()), "unknown");
    w.graph.fail_next("/111/feed", 400, 2, None, "Service temporarily unavailable");
    assert_eq!(class_name(&fb.publish(&text, &Refs::default()).await.unwrap_err()), "unknown", "code 2 is Meta's side");
    w.graph.fail_next("/111/feed", 400, 4, None, "Application request limit reached");
    assert_eq!(class_name(&fb.publish(&text, &Refs::default()).await.unwrap_err()), "retry");
    // One published photo is a post; the unpublished uploads of several photos are not.
    let one = req(Platform::Facebook, AuthKind::FacebookPage, "111", &token, vec![w.image(1)]);
    w.graph.fail_next("/111/photos", 500, 1, None, "An unknown error occurred");
    assert_eq!(class_name(&fb.publish(&one, &Refs::default()).await.unwrap_err()), "unknown");
    let many = req(Platform::Facebook, AuthKind::FacebookPage, "111", &token, vec![w.image(1), w.image(2)]);
    w.graph.fail_next("/111/photos", 503, 1, None, "An unknown error occurred");
    assert_eq!(class_name(&fb.publish(&many, &Refs::default()).await.unwrap_err()), "retry");
    assert_eq!(w.graph.calls_to("/111/feed").len(), 3, "the multi-photo post never reached /feed");

    // Instagram: a container is not a post, so its creation is retried; media_publish is the post.
    let ig = w.clients.instagram.clone().unwrap();
    let r = req(Platform::Instagram, AuthKind::InstagramViaPage, "17840001", &token, vec![w.image(1)]);
    w.graph.fail_next("/17840001/media", 500, 1, None, "An unknown error occurred");
    let refs = Refs::default();
    assert_eq!(class_name(&ig.publish(&r, &refs).await.unwrap_err()), "retry");
    assert!(refs.all().is_empty());
    w.graph.fail_next("/media_publish", 502, 2, None, "Service temporarily unavailable");
    let refs = Refs::default();
    assert_eq!(class_name(&ig.publish(&r, &refs).await.unwrap_err()), "unknown");
    let recorded = refs.all();
    assert!(recorded.last().unwrap().ends_with("#publish_sent"), "marked before sending: {recorded:?}");
    // A refusal of media_publish takes the mark back: the container may be published later.
    w.graph.fail_next("/media_publish", 400, 4, None, "Application request limit reached");
    let refs = Refs::default();
    assert_eq!(class_name(&ig.publish(&r, &refs).await.unwrap_err()), "retry");
    let recorded = refs.all();
    assert_eq!(recorded.first(), recorded.last(), "the plain container is recorded last: {recorded:?}");

    // TikTok: init makes the publish_id; a 5xx there is unknown, a 429 a refusal; a status poll is a read.
    let (tt_token, _) = w.tiktok.issue_tokens();
    let tt = w.clients.tiktok.clone().unwrap();
    let v = req(Platform::TikTok, AuthKind::TikTok, "o", &tt_token, vec![w.video()]);
    w.tiktok.fail_next("video/init", 500, "internal_error", "Something went wrong");
    assert_eq!(class_name(&tt.publish(&v, &Refs::default()).await.unwrap_err()), "unknown");
    w.tiktok.fail_next("video/init", 429, "rate_limit_exceeded", "Too many requests");
    assert_eq!(class_name(&tt.publish(&v, &Refs::default()).await.unwrap_err()), "retry");
    w.tiktok.fail_next("status/fetch", 500, "internal_error", "Something went wrong");
    let refs = Refs::default();
    assert_eq!(class_name(&tt.publish(&v, &refs).await.unwrap_err()), "retry");
    assert_eq!(refs.all().len(), 1, "the publish_id was recorded before the poll failed");
}

#[tokio::test]
async fn instagram_never_sends_media_publish_twice_for_one_container() {
    let w = world().await;
    let token = w.graph.add_page("222", "Bakery", Some("17840001"));
    let ig = w.clients.instagram.clone().unwrap();
    let r = req(Platform::Instagram, AuthKind::InstagramViaPage, "17840001", &token, vec![w.image(1)]);

    // The 502 came before Meta did anything: the container still shows FINISHED, and nobody can tell.
    w.graph.fail_next("/media_publish", 502, 2, None, "Service temporarily unavailable");
    let refs = Refs::default();
    ig.publish(&r, &refs).await.unwrap_err();
    let marked = refs.all().pop().unwrap();
    assert!(matches!(ig.check(&r, &marked, &refs).await.unwrap(), CheckOutcome::Unknown { .. }));
    assert_eq!(w.graph.calls_to("/media_publish").len(), 1, "asked about, never sent again");

    // The post was made and the answer lost: the container says PUBLISHED.
    w.graph.fail_next_after("/media_publish", 502, 2, "Service temporarily unavailable");
    let refs = Refs::default();
    ig.publish(&r, &refs).await.unwrap_err();
    let marked = refs.all().pop().unwrap();
    assert!(matches!(ig.check(&r, &marked, &refs).await.unwrap(), CheckOutcome::Published { .. }));
    assert_eq!(w.graph.calls_to("/media_publish").len(), 2);
}

#[tokio::test]
async fn instagram_refuses_images_that_are_not_jpeg_or_cannot_be_fetched() {
    let w = world().await;
    let token = w.graph.add_page("222", "Bakery", Some("17840001"));
    let ig = w.clients.instagram.clone().unwrap();
    let mut png = w.image(1);
    png.url = w.media.put("generated.png", "image/png", tochen_testkit::images::png(8, 8));
    png.content_type = "image/png".into();
    let r = req(Platform::Instagram, AuthKind::InstagramViaPage, "17840001", &token, vec![png]);
    let e = ig.publish(&r, &Refs::default()).await.unwrap_err();
    assert_eq!((e.class, e.code.as_deref()), (ErrorClass::Permanent, Some("36001/2207005")), "{e:?}");
    assert_eq!(ig.image_types(), Some(&["image/jpeg"][..]), "the pipeline converts what Instagram refuses");

    let mut gone = w.image(2);
    gone.url = format!("{}/files/missing.jpg", w.media.base_url());
    let r = req(Platform::Instagram, AuthKind::InstagramViaPage, "17840001", &token, vec![gone]);
    let e = ig.publish(&r, &Refs::default()).await.unwrap_err();
    assert_eq!((e.class, e.code.as_deref()), (ErrorClass::Permanent, Some("9004/2207052")), "{e:?}");
    let fetched = w.graph.fetched_images();
    assert_eq!(fetched.iter().map(|f| f.jpeg).collect::<Vec<_>>(), vec![false]);
}
