//! One post with one generated (PNG) image goes through the scheduler's real pipeline to Facebook, Instagram and
//! TikTok (the fakes from tochen-testkit), using the production publishers from `tochen_platforms::publishers`.
//! The platforms fetch the media over HTTP from the test media host standing in for the web service; Instagram
//! (and TikTok's photo posts) get a JPEG version, Facebook the PNG.

use std::collections::HashMap;
use std::time::{Duration, Instant};
use tochen_config::Config;
use tochen_domain::SecretString;
use tochen_domain::{AuthKind, MediaKind, Platform, TargetStatus};
use tochen_store::{NewAccount, NewMedia, PostContent, TelegramIdentity, TenantProfile};
use tochen_testkit::fake_graph::FakeGraph;
use tochen_testkit::fake_tiktok::FakeTikTok;
use tochen_testkit::media_host::MediaHost;
use tokio_util::sync::CancellationToken;

fn account(platform: Platform, auth_kind: AuthKind, external_id: &str, token: &str) -> NewAccount {
    NewAccount {
        platform,
        auth_kind,
        external_id: external_id.into(),
        name: format!("{platform} account"),
        access_token: SecretString::new(token),
        refresh_token: None,
        scopes: vec![],
        token_expires_at: None,
        refresh_expires_at: None,
        connected_by: None,
    }
}

tochen_testkit::store_test!(a_post_reaches_every_platform_through_the_scheduler, |store, db| {
    let graph = FakeGraph::start().await;
    let tiktok = FakeTikTok::start().await;
    graph.set_container_delay(Duration::ZERO);
    tiktok.set_processing_delay(Duration::ZERO);
    let dir = tempfile::tempdir().unwrap();
    let host = MediaHost::start(Some(store.clone()), dir.path().to_owned()).await;
    let env: HashMap<String, String> = [
        ("DATABASE_URL", db.url.as_str()),
        ("TOCHEN_SECRET_KEYS", db.key.as_str()),
        ("TOCHEN_DATA_DIR", dir.path().to_str().unwrap()),
        ("TOCHEN_PUBLIC_URL", &host.base_url()),
        ("META_APP_ID", "app"),
        ("META_APP_SECRET", "secret"),
        ("META_GRAPH_URL", &graph.base_url()),
        ("INSTAGRAM_GRAPH_URL", &graph.base_url()),
        ("TIKTOK_CLIENT_KEY", "ck"),
        ("TIKTOK_CLIENT_SECRET", "cs"),
        ("TIKTOK_API_URL", &tiktok.base_url()),
    ]
    .into_iter()
    .map(|(k, v)| (k.to_string(), v.to_string()))
    .collect();
    let config = Config::from_source(&env).unwrap();

    let who = TelegramIdentity {
        telegram_id: 7,
        username: None,
        first_name: "Ana".into(),
        last_name: None,
        language_code: None,
    };
    let user = store.upsert_user(&who).await.unwrap();
    let tenant = store.create_tenant("Bakery", &TenantProfile::default(), 0, user.id).await.unwrap().id;
    let page_token = graph.add_page("111", "Bakery", Some("17840001"));
    let (tt_token, _) = tiktok.issue_tokens();
    let fb = store
        .upsert_account(tenant, &account(Platform::Facebook, AuthKind::FacebookPage, "111", &page_token))
        .await
        .unwrap();
    let ig = store
        .upsert_account(tenant, &account(Platform::Instagram, AuthKind::InstagramViaPage, "17840001", &page_token))
        .await
        .unwrap();
    let tt = store
        .upsert_account(tenant, &account(Platform::TikTok, AuthKind::TikTok, &tiktok.open_id(), &tt_token))
        .await
        .unwrap();

    let png = tochen_testkit::images::png(1080, 1080);
    std::fs::create_dir_all(dir.path().join("media")).unwrap();
    std::fs::write(dir.path().join("media/a.png"), &png).unwrap();
    let media = store
        .insert_media(
            tenant,
            &NewMedia {
                kind: MediaKind::Image,
                content_type: "image/png".into(),
                size_bytes: png.len() as i64,
                sha256: "x".into(),
                storage_path: "media/a.png".into(),
                source: "generated".into(),
                width: Some(1080),
                height: Some(1080),
                duration_ms: None,
            },
        )
        .await
        .unwrap();
    let post = store.create_draft(tenant, Some(user.id), Some(7), "Launch", "new bread").await.unwrap();
    for platform in Platform::ALL {
        let content = PostContent {
            platform: *platform,
            body: "Fresh bread today".into(),
            hashtags: vec!["bread".into()],
            link: None,
            custom: false,
        };
        store.set_post_content(tenant, post.id, &content).await.unwrap();
    }
    store.set_post_media(tenant, post.id, media.id).await.unwrap();
    let version = store.post(tenant, post.id).await.unwrap().version;
    store
        .schedule_post(tenant, post.id, version, tochen_domain::clock::now_ms(), &[fb.id, ig.id, tt.id], false)
        .await
        .unwrap();

    let shutdown = CancellationToken::new();
    let deps = tochen_scheduler::Deps::from_config(&config, &store).unwrap();
    let runner = tokio::spawn({
        let (config, store, shutdown) = (config.clone(), store.clone(), shutdown.clone());
        async move { tochen_scheduler::run_with(&config, store, deps, shutdown).await }
    });
    let started = Instant::now();
    let targets = loop {
        let targets = store.targets_of_post(tenant, post.id).await.unwrap();
        if targets.iter().all(|t| t.status == TargetStatus::Published) || started.elapsed() > Duration::from_secs(30) {
            break targets;
        }
        tokio::time::sleep(Duration::from_millis(200)).await;
    };
    shutdown.cancel();
    let _ = runner.await;
    for t in &targets {
        assert_eq!(t.status, TargetStatus::Published, "{:?}: {:?} {:?}", t.platform, t.error_class, t.error_message);
        assert!(t.platform_post_id.is_some());
    }
    assert_eq!(graph.calls_to("/111/photos").len(), 1);
    let photo = &graph.calls_to("/111/photos")[0];
    assert!(
        photo.params["url"].starts_with(&format!("{}/media/", host.base_url())),
        "a signed media URL: {}",
        photo.params["url"]
    );
    assert!(photo.params["url"].contains(&media.id.to_string()), "Facebook takes the PNG as it is");
    assert_eq!(graph.calls_to("/17840001/media_publish").len(), 1);
    let fetched = graph.fetched_images();
    assert!(fetched.len() == 1 && fetched[0].jpeg, "Instagram fetched a JPEG: {fetched:?}");
    let jpeg = store.media_at_path(tenant, "media/a.png.jpg").await.unwrap().expect("the JPEG version is stored");
    assert!(fetched[0].url.contains(&jpeg.id.to_string()), "converted once, for both platforms");
    let init = tiktok.calls_to("/v2/post/publish/content/init/");
    assert_eq!(init.len(), 1);
    assert!(init[0].params["source_info"].contains(&jpeg.id.to_string()), "TikTok photos take JPEG or WebP");
});
