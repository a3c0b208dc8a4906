//! Big files through a self-hosted Bot API server (`TELEGRAM_LOCAL_MODE`): a 60 MB video attached to a draft is
//! copied from the server's disk (never downloaded over HTTP, never held whole in memory), probed, and published by
//! the scheduler's real publishers to TikTok (FILE_UPLOAD, with the privacy level chosen on the options screen)
//! and as an Instagram Reel, against the fakes, which probe the file with the shared limits table. With the cloud
//! Bot API a 25 MB file is refused at once with a message that says what to do. Both databases.

use crate::common;

use common::{en, ALICE};
use std::sync::{Arc, Mutex};
use std::time::Duration;
use tochen_domain::jobs::NotifyPayload;
use tochen_domain::SecretString;
use tochen_domain::{AuthKind, Platform, PostStatus, TargetStatus, TenantId};
use tochen_platforms::PollPolicy;
use tochen_scheduler::{handlers, AutomationRegistry, Deps, JobError, Notifier, Runner, RunnerConfig};
use tochen_store::NewAccount;
use tochen_telegram::button::{Button, PostOpt};
use tochen_testkit::fake_graph::FakeGraph;
use tochen_testkit::fake_tiktok::FakeTikTok;
use tochen_testkit::media_host::MediaHost;
use tochen_testkit::video::{write_video, VideoSpec};
use tochen_testkit::TestDb;
use tokio_util::sync::CancellationToken;

const MB: u64 = 1024 * 1024;

struct Fakes {
    graph: FakeGraph,
    tiktok: FakeTikTok,
    /// The self-hosted Bot API server's disk.
    server: tempfile::TempDir,
}

async fn start(db: &TestDb, local: bool) -> (common::Harness, Fakes) {
    let graph = FakeGraph::start().await;
    let tiktok = FakeTikTok::start().await;
    graph.set_container_delay(Duration::from_millis(50));
    tiktok.set_processing_delay(Duration::from_millis(50));
    let (g, t) = (graph.base_url(), tiktok.base_url());
    let env: Vec<(&str, &str)> = vec![
        ("TELEGRAM_LOCAL_MODE", if local { "true" } else { "false" }),
        ("META_APP_ID", "app"),
        ("META_APP_SECRET", "secret"),
        ("META_GRAPH_URL", &g),
        ("META_GRAPH_VIDEO_URL", &g),
        ("INSTAGRAM_GRAPH_URL", &g),
        ("TIKTOK_CLIENT_KEY", "ck"),
        ("TIKTOK_CLIENT_SECRET", "cs"),
        ("TIKTOK_API_URL", &t),
    ];
    let h = common::Harness::start_with_env(db, &env).await;
    let server = tempfile::tempdir().unwrap();
    if local {
        h.tg.set_local_mode(Some(server.path().to_owned()));
    }
    (h, Fakes { graph, tiktok, server })
}

macro_rules! media_test {
    ($name:ident, local = $local:expr, |$h:ident, $f:ident| $body:block) => {
        mod $name {
            use super::*;

            #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
            async fn sqlite() {
                let db = TestDb::sqlite().await;
                let (mut $h, $f) = start(&db, $local).await;
                $body
                $h.stop().await;
                db.cleanup().await;
            }

            #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
            async fn postgres() {
                let Some(db) = TestDb::postgres().await else { return };
                let (mut $h, $f) = start(&db, $local).await;
                $body
                $h.stop().await;
                db.cleanup().await;
            }
        }
    };
}

#[derive(Default)]
struct Told(Mutex<Vec<NotifyPayload>>);

#[async_trait::async_trait]
impl Notifier for Told {
    async fn send(&self, m: &NotifyPayload) -> Result<(), JobError> {
        self.0.lock().unwrap().push(m.clone());
        Ok(())
    }
}

/// The workspace's Instagram account (through a Page of the fake Graph) and TikTok account (of the fake TikTok).
async fn connect(h: &common::Harness, f: &Fakes, tenant: TenantId) {
    let page_token = f.graph.add_page("111", "Bloom", Some("17840001"));
    let (tt_token, _) = f.tiktok.issue_tokens();
    for (platform, kind, ext, token) in [
        (Platform::Instagram, AuthKind::InstagramViaPage, "17840001".to_owned(), page_token),
        (Platform::TikTok, AuthKind::TikTok, f.tiktok.open_id(), tt_token),
    ] {
        let acc = NewAccount {
            platform,
            auth_kind: kind,
            external_id: ext,
            name: format!("bloom-{}", platform.as_str()),
            access_token: SecretString::new(token),
            refresh_token: None,
            scopes: vec![],
            token_expires_at: None,
            refresh_expires_at: None,
            connected_by: None,
        };
        h.store.upsert_account(tenant, &acc).await.unwrap();
    }
}

/// The scheduler with the production publishers, configured as the bot is (same fakes, same data directory).
fn scheduler(
    h: &common::Harness,
    media: &MediaHost,
) -> (CancellationToken, tokio::task::JoinHandle<anyhow::Result<()>>) {
    let http = reqwest::Client::builder().timeout(Duration::from_secs(30)).build().unwrap();
    let base = media.base_url();
    let deps = Deps {
        publishers: tochen_platforms::publishers_with(&h.config, http, PollPolicy::quick(), &h.store),
        notifier: Arc::new(Told::default()),
        refresher: Arc::new(tochen_platforms::refresh::NoRefresher),
        automations: AutomationRegistry::with_builtins(),
        media_urls: Arc::new(move |tenant, id| format!("{base}/media/{tenant}/{id}?exp=1&sig=x")),
        data_dir: h.config.data_dir.clone(),
        sources: tochen_scheduler::Sources::Real,
    };
    let config = RunnerConfig {
        concurrency: 4,
        backoff: tochen_scheduler::Backoff { base: Duration::from_millis(40), cap: Duration::from_millis(400) },
        blocked_wait: Duration::from_millis(100),
        ..RunnerConfig::new("media-big")
    };
    let token = CancellationToken::new();
    let runner = Runner::new(h.store.clone(), handlers(&deps), config);
    (token.clone(), tokio::spawn(runner.run(token)))
}

media_test!(
    a_60_mb_video_through_the_local_bot_api_is_published_to_tiktok_and_as_an_instagram_reel,
    local = true,
    |h, f| {
        let tenant = h.onboard(ALICE, "Bloom").await;
        connect(&h, &f, tenant).await;
        let m = h.say(ALICE, "/idea", "Ideas for").await;
        let draft = h.press(ALICE, &m, "1", "Draft:").await;
        h.press(ALICE, &draft, &en("bot.draft.btn_attach"), "Send photos or videos").await;

        // The video is on the Bot API server's disk only; the fake serves no download URL in local mode.
        let path = f.server.path().join("file_7.mp4");
        write_video(&path, &VideoSpec::vertical(20), 60 * MB).unwrap();
        let mark = h.tg.mark();
        h.tg.send_video_file(ALICE, ALICE, &path);
        let draft = h.tg.said(ALICE, mark, "Draft:").await;
        let post = h.store.posts_with_status(tenant, &[PostStatus::Draft], 0, 1).await.unwrap().remove(0);
        let media = h.store.post_media_kinds(tenant, post.id).await.unwrap();
        assert_eq!(media.len(), 1, "the video is the draft's media");
        let stored = h.store.media(tenant, media[0].0).await.unwrap();
        assert_eq!(stored.info.size_bytes as u64, 60 * MB);
        assert_eq!(stored.info.content_type, "video/mp4", "probed from the bytes");
        assert_eq!(
            (stored.info.width, stored.info.height, stored.info.duration_ms),
            (Some(1080), Some(1920), Some(20_000))
        );
        let tech = h.store.media_tech(tenant, stored.id).await.unwrap();
        assert_eq!((tech.video_codec.as_deref(), tech.fps), (Some("avc1"), Some(30.0)));
        let copy = h.config.data_dir.join(&stored.info.storage_path);
        assert_eq!(std::fs::metadata(&copy).unwrap().len(), 60 * MB, "the file is in the data directory");

        // The TikTok audience is chosen on the options screen: only the creator's levels are offered.
        let privacy = Button::PostOpt(PostOpt::Privacy(post.id, 3)).encode();
        let mark = h.tg.mark();
        h.tg.press_as(ALICE, ALICE, draft.message_id, &privacy);
        let options = h.tg.said(ALICE, mark, "Who can see it: Only me").await;
        assert!(!options.has_button("Followers"), "the fake creator does not offer FOLLOWER_OF_CREATOR: {options:#?}");
        assert!(options.has_button("🚫"), "stitch is off for this creator and greyed out: {options:#?}");
        let draft = h.press(ALICE, &options, &en("bot.back"), "Draft:").await;

        let media_host = MediaHost::start(Some(h.store.clone()), h.config.data_dir.clone()).await;
        let (stop, runner) = scheduler(&h, &media_host);
        h.press(ALICE, &draft, &en("bot.draft.btn_now"), "Scheduled ✓").await;
        let deadline = tokio::time::Instant::now() + Duration::from_secs(60);
        loop {
            let targets = h.store.targets_of_post(tenant, post.id).await.unwrap();
            if targets.len() == 2 && targets.iter().all(|t| t.status == TargetStatus::Published) {
                break;
            }
            let failed: Vec<_> = targets.iter().filter(|t| t.status == TargetStatus::Failed).collect();
            assert!(failed.is_empty(), "a target failed: {failed:#?}");
            assert!(tokio::time::Instant::now() < deadline, "not published in time: {targets:#?}");
            tokio::time::sleep(Duration::from_millis(100)).await;
        }
        stop.cancel();
        runner.await.unwrap().unwrap();

        // TikTok received the whole file in chunks, with the chosen audience.
        let init = f.tiktok.calls_to("/v2/post/publish/video/init/").pop().expect("a TikTok video init");
        let source: serde_json::Value = serde_json::from_str(&init.params["source_info"]).unwrap();
        assert_eq!((source["source"].as_str(), source["video_size"].as_u64()), (Some("FILE_UPLOAD"), Some(60 * MB)));
        let info = f.tiktok.post_infos().pop().unwrap();
        assert_eq!(info["privacy_level"], "SELF_ONLY");
        assert!(f.tiktok.calls_to("/upload/").len() >= 5, "uploaded in chunks");
        // Instagram pulled it as a Reel from the media URL, and its probe found nothing wrong.
        let reel = f
            .graph
            .calls_to("/17840001/media")
            .into_iter()
            .find(|c| c.params.get("media_type").map(String::as_str) == Some("REELS"));
        assert!(reel.is_some_and(|c| c.params["video_url"].contains(&stored.id.to_string())));
        assert!(media_host.fetched().iter().any(|p| p.contains(&stored.id.to_string())));
    }
);

media_test!(the_cloud_bot_api_refuses_a_25_mb_file_with_a_clear_message, local = false, |h, f| {
    let tenant = h.onboard(ALICE, "Bloom").await;
    connect(&h, &f, tenant).await;
    let m = h.say(ALICE, "/idea", "Ideas for").await;
    let draft = h.press(ALICE, &m, "1", "Draft:").await;
    h.press(ALICE, &draft, &en("bot.draft.btn_attach"), "Send photos or videos").await;
    let path = f.server.path().join("big.mp4");
    write_video(&path, &VideoSpec::vertical(20), 25 * MB).unwrap();
    let mark = h.tg.mark();
    h.tg.send_video_file(ALICE, ALICE, &path);
    let refused = h.tg.said(ALICE, mark, "at most 20 MB").await;
    assert!(refused.text.contains("25 MB") && refused.text.contains("TELEGRAM_LOCAL_MODE"), "{}", refused.text);
    let post = h.store.posts_with_status(tenant, &[PostStatus::Draft], 0, 1).await.unwrap().remove(0);
    assert!(h.store.post_media_kinds(tenant, post.id).await.unwrap().is_empty(), "nothing was stored");
    // Refused before asking Telegram: the cloud server would refuse getFile for it anyway.
    assert_eq!(h.tg.count(mark, "getfile"), 0);

    // The fake cloud server refuses getFile beyond 20 MB like Telegram does, should a client ask.
    let resp = reqwest::Client::new()
        .post(format!("{}/bot{}/getFile", h.tg.api_url, h.tg.token))
        .json(&serde_json::json!({"file_id": last_video_file_id(&h)}))
        .send()
        .await
        .unwrap();
    let v: serde_json::Value = resp.json().await.unwrap();
    assert_eq!(v["description"], "Bad Request: file is too big");
});

/// The file id of the last video a user sent (from the update the fake queued).
fn last_video_file_id(h: &common::Harness) -> String {
    h.tg.sent_file_ids().into_iter().rev().find(|id| id.starts_with("video")).expect("a video was sent")
}

media_test!(
    the_options_screen_offers_only_what_the_creator_allows_and_saves_workspace_defaults,
    local = false,
    |h, f| {
        let tenant = h.onboard(ALICE, "Bloom").await;
        connect(&h, &f, tenant).await;
        f.tiktok
            .set_creator(tochen_testkit::fake_tiktok::CreatorSettings { comment_disabled: true, ..Default::default() });
        let m = h.say(ALICE, "/idea", "Ideas for").await;
        let draft = h.press(ALICE, &m, "1", "Draft:").await;
        let post = h.store.posts_with_status(tenant, &[PostStatus::Draft], 0, 1).await.unwrap().remove(0);
        let mark = h.tg.mark();
        h.tg.press_as(ALICE, ALICE, draft.message_id, &Button::PostOpt(PostOpt::Show(post.id)).encode());
        let screen = h.tg.said(ALICE, mark, "Who can see it: not chosen").await;
        // The creator offers Everyone, Friends and Only me (not Followers); comments are off on TikTok's side.
        for level in ["Everyone", "Friends", "Only me"] {
            assert!(screen.has_button(level), "{level}: {screen:#?}");
        }
        assert!(!screen.has_button("Followers"));
        assert!(screen.has_button("🚫 Comments") && screen.has_button("🚫 Stitch"), "{screen:#?}");
        h.press_data_refused(ALICE, &screen, &screen.button("🚫 Comments").unwrap(), "turned this off in TikTok").await;

        let screen = h.press(ALICE, &screen, "✓ Duet", "Post options").await;
        assert!(screen.has_button("✗ Duet"), "{screen:#?}");
        let screen = h.press(ALICE, &screen, "Only me", "Who can see it: Only me").await;
        let branded = screen.button("Branded content").unwrap();
        h.press_data_refused(ALICE, &screen, &branded, "cannot be private").await;
        let own = h.store.post_options_own(tenant, post.id).await.unwrap();
        assert_eq!(
            (own["tiktok"]["privacy_level"].as_str(), own["tiktok"]["duet"].as_bool()),
            (Some("SELF_ONLY"), Some(false))
        );
        assert_eq!(own["tiktok"]["brand_content"], false, "the refused toggle changed nothing");

        let mark = h.tg.mark();
        h.tg.press(ALICE, &screen, "Save as workspace default");
        h.tg.answered(mark, "new posts start with these options").await;
        assert_eq!(h.store.post_defaults(tenant).await.unwrap()["tiktok"]["privacy_level"], "SELF_ONLY");
        // A new draft starts from the defaults.
        let m = h.say(ALICE, "/idea", "Ideas for").await;
        h.press(ALICE, &m, "2", "Draft:").await;
        let newest = h.store.posts_with_status(tenant, &[PostStatus::Draft], 0, 5).await.unwrap();
        let other = newest.iter().find(|p| p.id != post.id).expect("a second draft");
        let opts = h.store.post_options(tenant, other.id).await.unwrap();
        assert_eq!(
            (opts["tiktok"]["privacy_level"].as_str(), opts["tiktok"]["duet"].as_bool()),
            (Some("SELF_ONLY"), Some(false))
        );
    }
);
