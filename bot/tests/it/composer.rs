//! Composing by hand through the fake Bot API: an album with a caption becomes one post that the scheduler
//! publishes as an Instagram carousel and a Facebook multi-photo post (the fake Graph API checks the requests);
//! a version edited for one platform keeps its own text; a scheduled post is edited from /queue in place, and an
//! editor's change sends it back to approval; a link imports a file under the SSRF guard; a failing LLM while
//! composing by hand changes nothing.

use crate::common;

use common::{en, Harness, ALICE, BOB};
use std::time::{Duration, Instant};
use tochen_domain::{AuthKind, Platform, PostStatus, SecretString, TargetStatus, TenantId};
use tochen_store::{NewAccount, Post};
use tochen_testkit::db::TestDb;
use tochen_testkit::fake_graph::FakeGraph;
use tochen_testkit::fake_llm::Reply;
use tochen_testkit::media_host::MediaHost;
use tokio_util::sync::CancellationToken;

/// Opens the draft titled `title` from /drafts: a fresh screen, at the post's current version.
async fn open_draft(h: &Harness, user: i64, title: &str) -> tochen_testkit::fake_telegram::BotMessage {
    let list = h.say(user, "/drafts", "Drafts").await;
    h.press(user, &list, title, "Draft:").await
}

/// The one post of the workspace in `status`.
async fn only_post(h: &Harness, a: TenantId, status: PostStatus) -> Post {
    let mut posts = h.store.posts_with_status(a, &[status], 0, 10).await.unwrap();
    assert_eq!(posts.len(), 1, "one {status:?} post: {posts:#?}");
    posts.remove(0)
}

async fn album_to_carousel_and_multi_photo(db: TestDb) {
    let graph = FakeGraph::start().await;
    graph.set_container_delay(Duration::ZERO);
    let dir = tempfile::tempdir().unwrap();
    let host = MediaHost::start(Some(db.store.clone()), dir.path().to_owned()).await;
    let data_dir = dir.path().display().to_string();
    let env = [
        ("TOCHEN_DATA_DIR", data_dir.as_str()),
        ("TOCHEN_PUBLIC_URL", &host.base_url()),
        ("META_APP_ID", "app"),
        ("META_APP_SECRET", "secret"),
        ("META_GRAPH_URL", &graph.base_url()),
        ("INSTAGRAM_GRAPH_URL", &graph.base_url()),
    ];
    let h = Harness::start_with_env(&db, &env).await;
    let a = h.onboard(ALICE, "Alpha").await;
    let token = graph.add_page("111", "Bakery", Some("17840001"));
    for (platform, kind, ext) in [
        (Platform::Facebook, AuthKind::FacebookPage, "111"),
        (Platform::Instagram, AuthKind::InstagramViaPage, "17840001"),
    ] {
        let acc = NewAccount {
            platform,
            auth_kind: kind,
            external_id: ext.into(),
            name: format!("{platform} Bakery"),
            access_token: SecretString::new(token.clone()),
            refresh_token: None,
            scopes: vec![],
            token_expires_at: None,
            refresh_expires_at: None,
            connected_by: None,
        };
        h.store.upsert_account(a, &acc).await.unwrap();
    }

    h.say(ALICE, "/new", "Send your post").await;
    let mark = h.tg.mark();
    let photos: Vec<Vec<u8>> = (0..3).map(|i| tochen_testkit::images::jpeg(1080 + i, 1080)).collect();
    h.tg.send_album(ALICE, ALICE, &photos, "Three loaves, one oven\n\n#bakery #bread");
    let screen = h.tg.said(ALICE, mark, "Album: 3 items").await;
    assert_eq!(h.tg.count(mark, "sendmediagroup"), 1, "the album preview is sent once, after the last item");
    assert!(screen.text.contains("Three loaves, one oven") && screen.text.contains("#bakery"), "{screen:#?}");
    let post = only_post(&h, a, PostStatus::Draft).await;
    assert_eq!(h.store.post_media_kinds(a, post.id).await.unwrap().len(), 3, "one post with three photos");
    assert_eq!(h.store.posts_with_status(a, &[PostStatus::Draft], 0, 10).await.unwrap().len(), 1);

    h.press(ALICE, &screen, &en("bot.draft.btn_now"), "Scheduled").await;
    let post = h.store.post(a, post.id).await.unwrap();
    assert_eq!(post.status, PostStatus::Scheduled, "{post:#?}");

    let shutdown = CancellationToken::new();
    let deps = tochen_scheduler::Deps::from_config(&h.config, &h.store).unwrap();
    let runner = tokio::spawn({
        let (config, store, shutdown) = (h.config.clone(), h.store.clone(), shutdown.clone());
        async move { tochen_scheduler::run_with(&config, store, deps, shutdown).await }
    });
    let started = Instant::now();
    let targets = loop {
        let targets = h.store.targets_of_post(a, post.id).await.unwrap();
        if targets.iter().all(|t| t.status == TargetStatus::Published) || started.elapsed() > Duration::from_secs(30) {
            break targets;
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    };
    shutdown.cancel();
    let _ = runner.await;
    for t in &targets {
        assert_eq!(t.status, TargetStatus::Published, "{:?}: {:?}", t.platform, t.error_message);
    }
    // Instagram: three carousel items, one carousel container with all three children, one publish.
    let items: Vec<_> =
        graph.calls_to("/17840001/media").into_iter().filter(|c| c.params.contains_key("is_carousel_item")).collect();
    assert_eq!(items.len(), 3, "{:#?}", graph.calls());
    let carousel: Vec<_> = graph
        .calls_to("/17840001/media")
        .into_iter()
        .filter(|c| c.params.get("media_type").map(String::as_str) == Some("CAROUSEL"))
        .collect();
    assert_eq!(carousel.len(), 1);
    assert_eq!(carousel[0].params["children"].split(',').count(), 3);
    assert!(carousel[0].params["caption"].contains("Three loaves"));
    assert_eq!(graph.calls_to("/17840001/media_publish").len(), 1);
    // Facebook: three unpublished photos attached to one feed post.
    let photos = graph.calls_to("/111/photos");
    assert_eq!(photos.len(), 3);
    assert!(photos.iter().all(|c| c.params.get("published").map(String::as_str) == Some("false")));
    let feed = graph.calls_to("/111/feed");
    assert_eq!(feed.len(), 1);
    assert_eq!(
        serde_json::from_str::<serde_json::Value>(&feed[0].params["attached_media"]).unwrap().as_array().unwrap().len(),
        3
    );
    assert!(feed[0].params["message"].starts_with("Three loaves, one oven"));
}

#[tokio::test]
async fn an_album_becomes_an_instagram_carousel_and_a_facebook_multi_photo_post_sqlite() {
    album_to_carousel_and_multi_photo(TestDb::sqlite().await).await;
}

#[tokio::test]
async fn an_album_becomes_an_instagram_carousel_and_a_facebook_multi_photo_post_postgres() {
    let Some(db) = TestDb::postgres().await else { return };
    album_to_carousel_and_multi_photo(db).await;
}

bot_test!(a_post_written_by_hand_needs_no_llm_and_a_failing_llm_changes_nothing, |h| {
    let a = h.onboard(ALICE, "Alpha").await;
    h.connect_accounts(a).await;
    let start = h.llm.requests().len();
    h.say(ALICE, "/new", "Send your post").await;
    let screen = h.say(ALICE, "Our new rye is out!\n\n#bakery", "Draft:").await;
    assert!(screen.text.contains("Our new rye is out!") && screen.text.contains("#bakery"), "{screen:#?}");
    assert_eq!(h.llm.requests().len(), start, "composing by hand calls no LLM");
    let post = only_post(&h, a, PostStatus::Draft).await;
    assert_eq!(post.body, "Our new rye is out!");
    let before = h.store.post_contents(a, post.id).await.unwrap();
    assert_eq!(before.len(), 2, "a version per connected platform: {before:#?}");
    assert!(before.iter().all(|c| c.hashtags == vec!["bakery".to_string()] && !c.custom));

    // The LLM is one tap away, and when it fails nothing changes.
    for _ in 0..4 {
        h.llm.push(Reply::InsufficientQuota);
    }
    h.press(ALICE, &screen, &en("bot.draft.btn_rewrite"), "How should I rewrite").await;
    h.say(ALICE, "shorter", "no credit left").await;
    assert_eq!(h.store.post_contents(a, post.id).await.unwrap(), before);
    let screen = open_draft(&h, ALICE, "Our new rye").await;
    h.press(ALICE, &screen, &en("bot.draft.btn_hashtags"), "no credit left").await;
    assert_eq!(h.store.post_contents(a, post.id).await.unwrap(), before);

    // It is checked and scheduled like any draft: Instagram needs a photo, then it goes.
    h.press(ALICE, &screen, &en("bot.draft.btn_schedule"), "When?").await;
    let m = h.say(ALICE, "tomorrow 9:30", "Post to").await;
    h.press(ALICE, &m, &en("bot.schedule.btn_confirm"), "Instagram needs an image or a video").await;
    let screen = open_draft(&h, ALICE, "Our new rye").await;
    h.press(ALICE, &screen, &en("bot.draft.btn_attach"), "Send photos or videos").await;
    let mark = h.tg.mark();
    h.tg.send_photo(ALICE, ALICE, &tochen_testkit::images::jpeg(1080, 1080));
    let screen = h.tg.said(ALICE, mark, "Image attached").await;
    h.press(ALICE, &screen, &en("bot.draft.btn_schedule"), "When?").await;
    let m = h.say(ALICE, "tomorrow 9:30", "Post to").await;
    h.press(ALICE, &m, &en("bot.schedule.btn_confirm"), "Scheduled").await;
    assert_eq!(h.store.post(a, post.id).await.unwrap().status, PostStatus::Scheduled);
});

bot_test!(a_version_edited_for_instagram_keeps_its_own_text, |h| {
    let a = h.onboard(ALICE, "Alpha").await;
    h.connect_accounts(a).await;
    h.say(ALICE, "/new", "Send your post").await;
    let screen = h.say(ALICE, "Fresh bread at 8", "Draft:").await;
    let versions = h.press(ALICE, &screen, &en("bot.draft.btn_versions"), "Versions per platform").await;
    h.press(ALICE, &versions, "✏️ Instagram", "only").await;
    let screen = h.say(ALICE, "Fresh bread at 8 🥖 link in bio\n\n#bakery #instabread", "own text").await;
    let post = only_post(&h, a, PostStatus::Draft).await;
    let get = |c: &Vec<tochen_store::PostContent>, p: Platform| c.iter().find(|x| x.platform == p).cloned().unwrap();
    let contents = h.store.post_contents(a, post.id).await.unwrap();
    assert_eq!(get(&contents, Platform::Instagram).body, "Fresh bread at 8 🥖 link in bio");
    assert_eq!(get(&contents, Platform::Instagram).hashtags, vec!["bakery".to_string(), "instabread".to_string()]);
    assert_eq!(get(&contents, Platform::Facebook).body, "Fresh bread at 8");

    // The main text changes Facebook, which follows it, and leaves Instagram's own text alone.
    h.press(ALICE, &screen, &en("bot.draft.btn_edit"), "Send the new text").await;
    h.say(ALICE, "Fresh bread at 7", "Draft:").await;
    let contents = h.store.post_contents(a, post.id).await.unwrap();
    assert_eq!(get(&contents, Platform::Facebook).body, "Fresh bread at 7");
    assert_eq!(get(&contents, Platform::Instagram).body, "Fresh bread at 8 🥖 link in bio");
    assert!(get(&contents, Platform::Instagram).custom);

    // Limits are checked per version: too many mentions for Instagram only.
    let screen = open_draft(&h, ALICE, "Fresh bread").await;
    let versions = h.press(ALICE, &screen, &en("bot.draft.btn_versions"), "Versions per platform").await;
    h.press(ALICE, &versions, "✏️ Instagram", "only").await;
    let mentions: Vec<String> = (0..21).map(|i| format!("@friend{i}")).collect();
    let screen = h.say(ALICE, &format!("Thanks {}", mentions.join(" ")), "Draft:").await;
    assert!(screen.text.contains("allows 20 @-mentions; this text has 21"), "{screen:#?}");
    let when = h.press(ALICE, &screen, &en("bot.draft.btn_schedule"), "When?").await;
    let _ = when;
    let m = h.say(ALICE, "tomorrow 9:30", "Post to").await;
    h.press(ALICE, &m, &en("bot.schedule.btn_confirm"), "@-mentions").await;
    assert_eq!(h.store.post(a, post.id).await.unwrap().status, PostStatus::Draft, "not scheduled with a problem");

    // Following the main text again.
    let screen = open_draft(&h, ALICE, "Fresh bread").await;
    let versions = h.press(ALICE, &screen, &en("bot.draft.btn_versions"), "Versions per platform").await;
    h.press(ALICE, &versions, &en("bot.versions.btn_follow"), "follows the main text").await;
    let contents = h.store.post_contents(a, post.id).await.unwrap();
    assert_eq!(get(&contents, Platform::Instagram).body, "Fresh bread at 7");
});

/// Alice (admin) and Bob (editor) in one workspace with accounts.
async fn team(h: &Harness) -> TenantId {
    let a = h.onboard(ALICE, "Alpha").await;
    h.connect_accounts(a).await;
    let m = h.say(ALICE, "/invite", "Which role").await;
    let m = h.press(ALICE, &m, &en("bot.role.editor"), "start=inv_").await;
    let code = m.text.split("start=").nth(1).unwrap().split_whitespace().next().unwrap().to_owned();
    h.say(BOB, &format!("/start {code}"), "as editor").await;
    a
}

bot_test!(a_scheduled_post_is_edited_from_the_queue_and_an_editors_change_goes_back_to_approval, |h| {
    let a = team(&h).await;
    h.say(ALICE, "/new", "Send your post").await;
    let screen = h.say(ALICE, "Open on Sunday", "Draft:").await;
    // Instagram needs a photo.
    h.press(ALICE, &screen, &en("bot.draft.btn_attach"), "Send photos or videos").await;
    let mark = h.tg.mark();
    h.tg.send_photo(ALICE, ALICE, &tochen_testkit::images::jpeg(1080, 1080));
    let screen = h.tg.said(ALICE, mark, "Image attached").await;
    h.press(ALICE, &screen, &en("bot.draft.btn_schedule"), "When?").await;
    let m = h.say(ALICE, "tomorrow 9:30", "Post to").await;
    h.press(ALICE, &m, &en("bot.schedule.btn_confirm"), "Scheduled").await;
    let post = only_post(&h, a, PostStatus::Scheduled).await;

    // Alice (admin) fixes the text from /queue: it stays scheduled, at the same time, with its jobs.
    let list = h.say(ALICE, "/queue", "Upcoming posts").await;
    let item = h.press(ALICE, &list, "Open on Sunday", "Status").await;
    let screen = h.press(ALICE, &item, &en("bot.queue.btn_edit"), "Scheduled for").await;
    h.press(ALICE, &screen, &en("bot.draft.btn_edit"), "Send the new text").await;
    h.say(ALICE, "Open on Sunday, 9 to 5", "Scheduled for").await;
    let p = h.store.post(a, post.id).await.unwrap();
    assert_eq!(
        (p.status, p.scheduled_at, p.body.as_str()),
        (PostStatus::Scheduled, post.scheduled_at, "Open on Sunday, 9 to 5")
    );
    let jobs = h.store.tenant_jobs(a, tochen_domain::JobState::Queued, 20).await.unwrap();
    assert_eq!(jobs.iter().filter(|j| j.kind == "publish").count(), 2);

    // A stale screen (the post changed since) changes nothing.
    let stale = h.tg.messages_in(ALICE).into_iter().find(|m| m.message_id == screen.message_id).unwrap();
    let data = stale.button(&en("bot.draft.btn_edit")).unwrap();
    h.press_data_refused(ALICE, &stale, &data, "out of date").await;

    // Bob (editor) changes the approved post: it goes back to approval, off the queue, with new cards.
    let list = h.say(BOB, "/queue", "Upcoming posts").await;
    let item = h.press(BOB, &list, "Open on Sunday", "Status").await;
    let screen = h.press(BOB, &item, &en("bot.queue.btn_edit"), "Scheduled for").await;
    h.press(BOB, &screen, &en("bot.draft.btn_edit"), "Send the new text").await;
    let mark = h.tg.mark();
    h.tg.send_text(BOB, "Open on Sunday, 10 to 4");
    h.tg.said(BOB, mark, "goes back to the admins").await;
    let p = h.store.post(a, post.id).await.unwrap();
    assert_eq!((p.status, p.body.as_str()), (PostStatus::PendingApproval, "Open on Sunday, 10 to 4"));
    let jobs = h.store.tenant_jobs(a, tochen_domain::JobState::Queued, 20).await.unwrap();
    assert_eq!(jobs.iter().filter(|j| j.kind == "publish").count(), 0, "withdrawn until approved");
    let mark = h.tg.mark();
    h.run_notify_jobs().await;
    let card = h.tg.said(ALICE, mark, "Open on Sunday").await;
    h.press(ALICE, &card, &en("bot.approval.btn_approve"), "Approved by").await;
    assert_eq!(h.store.post(a, post.id).await.unwrap().status, PostStatus::Scheduled);
});

bot_test!(a_link_to_a_file_is_imported_under_the_ssrf_guard, |h| {
    let a = h.onboard(ALICE, "Alpha").await;
    h.connect_accounts(a).await;
    let dir = tempfile::tempdir().unwrap();
    let host = MediaHost::start(None, dir.path().to_owned()).await;
    let url = host.put("loaf.jpg", "image/jpeg", tochen_testkit::images::jpeg(800, 1000));
    // The test host is on 127.0.0.1: refused like a webhook into the private network.
    let refused = h.say(ALICE, &format!("/new {url}"), "could not import").await;
    assert!(refused.text.contains("TOCHEN_WEBHOOK_ALLOW_PRIVATE"), "{refused:#?}");
    assert!(h.store.posts_with_status(a, &[PostStatus::Draft], 0, 10).await.unwrap().is_empty());
    assert!(host.fetched().is_empty(), "nothing was fetched");
});

async fn import_allowed(db: TestDb) {
    let h =
        Harness::start_with_env(&db, &[("TOCHEN_WEBHOOK_ALLOW_PRIVATE", "true"), ("TOCHEN_MEDIA_IMPORT_MAX_MB", "1")])
            .await;
    let a = h.onboard(ALICE, "Alpha").await;
    h.connect_accounts(a).await;
    let dir = tempfile::tempdir().unwrap();
    let host = MediaHost::start(None, dir.path().to_owned()).await;
    let url = host.put("loaf.bin", "application/octet-stream", tochen_testkit::images::jpeg(800, 1000));
    h.say(ALICE, &format!("/new {url}"), "Image attached").await;
    let post = only_post(&h, a, PostStatus::Draft).await;
    let media = h.store.post_media_kinds(a, post.id).await.unwrap();
    assert_eq!(media.len(), 1);
    let m = h.store.media(a, media[0].0).await.unwrap();
    assert_eq!((m.info.content_type.as_str(), m.info.source.as_str()), ("image/jpeg", "url"), "known by its bytes");

    let big = host.put("big.jpg", "image/jpeg", vec![0xFF; 2 * 1024 * 1024]);
    h.say(ALICE, &format!("/new {big}"), "larger than 1048576 bytes").await;
    let page = host.put("page.html", "text/html", b"<html>a page</html>".to_vec());
    h.say(ALICE, &format!("/new {page}"), "not an image").await;
    assert_eq!(h.store.posts_with_status(a, &[PostStatus::Draft], 0, 10).await.unwrap().len(), 1);
}

#[tokio::test]
async fn a_linked_file_becomes_a_draft_and_oversized_or_wrong_files_are_refused_sqlite() {
    import_allowed(TestDb::sqlite().await).await;
}

#[tokio::test]
async fn a_linked_file_becomes_a_draft_and_oversized_or_wrong_files_are_refused_postgres() {
    let Some(db) = TestDb::postgres().await else { return };
    import_allowed(db).await;
}

bot_test!(a_forwarded_message_becomes_a_draft, |h| {
    let a = h.onboard(ALICE, "Alpha").await;
    h.connect_accounts(a).await;
    h.say(ALICE, "/new", "Send your post").await;
    let mark = h.tg.mark();
    h.tg.push_message(serde_json::json!({
        "chat": {"id": ALICE, "type": "private", "first_name": "Alice"},
        "from": {"id": ALICE, "is_bot": false, "first_name": "Alice", "language_code": "en"},
        "forward_origin": {"type": "hidden_user", "sender_user_name": "Bakery news", "date": 1_700_000_000},
        "text": "Sourdough workshop on Saturday\n\n#sourdough",
    }));
    let screen = h.tg.said(ALICE, mark, "Draft:").await;
    assert!(screen.text.contains("Sourdough workshop on Saturday"), "{screen:#?}");
    let post = only_post(&h, a, PostStatus::Draft).await;
    assert_eq!(post.title, "Sourdough workshop on Saturday");
    let contents = h.store.post_contents(a, post.id).await.unwrap();
    assert!(contents.iter().all(|c| c.hashtags == vec!["sourdough".to_string()]), "{contents:#?}");
});
