//! One post with one image goes through the scheduler's real pipeline to Facebook, Instagram and TikTok (the
//! fakes from tochen-testkit), using the production publishers from `tochen_core::platforms::publishers`.

use std::collections::HashMap;
use std::time::{Duration, Instant};
use tochen_core::domain::{AuthKind, MediaKind, Platform, TargetStatus};
use tochen_core::store::{NewAccount, NewMedia, PostContent, TelegramIdentity, TenantProfile};
use tochen_core::{Config, SecretString};
use tochen_testkit::fake_graph::FakeGraph;
use tochen_testkit::fake_tiktok::FakeTikTok;
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
    let env: HashMap<String, String> = [
        ("DATABASE_URL", db.url.as_str()),
        ("TOCHEN_SECRET_KEYS", db.key.as_str()),
        ("TOCHEN_DATA_DIR", dir.path().to_str().unwrap()),
        ("TOCHEN_PUBLIC_URL", "https://tochen.example"),
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

    let media = store
        .insert_media(
            tenant,
            &NewMedia {
                kind: MediaKind::Image,
                content_type: "image/jpeg".into(),
                size_bytes: 1000,
                sha256: "x".into(),
                storage_path: "media/a.jpg".into(),
                source: "upload".into(),
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
        };
        store.set_post_content(tenant, post.id, &content).await.unwrap();
    }
    store.set_post_media(tenant, post.id, media.id).await.unwrap();
    let version = store.post(tenant, post.id).await.unwrap().version;
    store
        .schedule_post(tenant, post.id, version, tochen_core::clock::now_ms(), &[fb.id, ig.id, tt.id], false)
        .await
        .unwrap();

    let shutdown = CancellationToken::new();
    let deps = tochen_scheduler::Deps::from_config(&config).unwrap();
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
        photo.params["url"].starts_with("https://tochen.example/media/"),
        "a signed media URL: {}",
        photo.params["url"]
    );
    assert_eq!(graph.calls_to("/17840001/media_publish").len(), 1);
    assert_eq!(tiktok.calls_to("/v2/post/publish/content/init/").len(), 1);
});
