//! Editing and deleting what is published, end to end: a post published to a Facebook Page (by the real
//! Facebook client against the fake Graph API) is opened from `/history`, its text edited and then deleted through
//! the bot; the `post.change` jobs run through the scheduler's own handler; the fake shows the new text and the
//! deleted post, the requester is told, the screen's history shows both. Instagram and TikTok targets say their
//! platform does not allow it, with no button. A retried delete job never sends the delete twice. "Duplicate"
//! makes a draft with the same text and media. Viewers read but cannot act; stale buttons change nothing.

use crate::common;

use common::{en, ALICE, CAROL};
use std::collections::HashMap;
use tochen_config::Config;
use tochen_domain::jobs::POST_CHANGE;
use tochen_domain::{AccountId, AuthKind, MediaKind, Platform, PostId, SecretString, TargetId, TenantId};
use tochen_platforms::publish::{PublishOutcome, PublishRequest, Publisher, RefRecorder};
use tochen_scheduler::handlers::post_change::PostChangeHandler;
use tochen_scheduler::handlers::results;
use tochen_scheduler::{JobError, RunJob};
use tochen_store::{ChangeKind, ChangeStatus, NewAccount, NewMedia, PostContent, StoreError};
use tochen_telegram::button::{Button, Published};
use tochen_testkit::fake_graph::FakeGraph;
use tochen_testkit::fake_telegram::BotMessage;

struct NoRefs;

#[async_trait::async_trait]
impl RefRecorder for NoRefs {
    async fn record(&self, _: &str) -> Result<(), StoreError> {
        Ok(())
    }
}

/// The scheduler's configuration for the platforms: Meta's app on the fake Graph API, the sandbox on.
fn platforms_config(graph: &FakeGraph) -> Config {
    let vars: HashMap<String, String> = [
        ("META_APP_ID", "app-1".to_owned()),
        ("META_APP_SECRET", "s".to_owned()),
        ("META_GRAPH_URL", graph.base_url()),
        ("TOCHEN_SANDBOX", "true".to_owned()),
    ]
    .into_iter()
    .map(|(k, v)| (k.to_owned(), v))
    .collect();
    Config::from_source(&vars).unwrap()
}

async fn account(
    h: &common::Harness,
    a: TenantId,
    platform: Platform,
    kind: AuthKind,
    ext: &str,
    token: &str,
) -> AccountId {
    let new = NewAccount {
        platform,
        auth_kind: kind,
        external_id: ext.into(),
        name: format!("{} account", platform.name()),
        access_token: SecretString::new(token),
        refresh_token: None,
        scopes: vec![],
        token_expires_at: None,
        refresh_expires_at: None,
        connected_by: None,
    };
    h.store.upsert_account(a, &new).await.unwrap().id
}

/// Alice's post "Fresh bread" with a text for every platform and an image, published on `accounts`: Facebook
/// through the Facebook client against the fake (the Page `111`), the others settled as the scheduler settles
/// them. Returns the post and its targets in the order of `accounts`.
async fn published_post(
    h: &common::Harness,
    graph: &FakeGraph,
    a: TenantId,
    accounts: &[AccountId],
) -> (PostId, Vec<TargetId>) {
    let alice = h.store.user_by_telegram_id(ALICE).await.unwrap().unwrap();
    let post = h.store.create_draft(a, Some(alice.id), Some(ALICE), "Fresh bread", "bread").await.unwrap();
    for p in Platform::ALL {
        let c =
            PostContent { platform: *p, body: "Fresh bread at 8".into(), hashtags: vec![], link: None, custom: false };
        h.store.set_post_content(a, post.id, &c).await.unwrap();
    }
    let media = NewMedia {
        kind: MediaKind::Image,
        content_type: "image/jpeg".into(),
        size_bytes: 10,
        sha256: "bread".into(),
        storage_path: "media/bread.jpg".into(),
        source: "upload".into(),
        width: None,
        height: None,
        duration_ms: None,
    };
    let m = h.store.insert_media(a, &media).await.unwrap();
    h.store.set_post_media(a, post.id, m.id).await.unwrap();
    let v = h.store.post(a, post.id).await.unwrap().version;
    let targets = h.store.schedule_post(a, post.id, v, tochen_domain::clock::now_ms(), accounts, false).await.unwrap();
    let config = platforms_config(graph);
    let fb =
        tochen_platforms::PlatformClients::new(&config, reqwest::Client::new(), tochen_platforms::PollPolicy::quick())
            .facebook
            .unwrap();
    for t in &targets {
        h.store.begin_publishing(a, t.id, Platform::ALL).await.unwrap();
        let (id, link) = if t.platform == Platform::Facebook {
            let acc = h.store.account(a, t.account_id).await.unwrap();
            let req = PublishRequest {
                tenant_id: a,
                target_id: t.id,
                account_id: acc.id,
                platform: Platform::Facebook,
                external_account_id: acc.external_id.clone(),
                auth_kind: acc.auth_kind,
                access_token: h.store.account_tokens(a, acc.id).await.unwrap().access_token,
                text: "Fresh bread at 8".into(),
                title: String::new(),
                link: None,
                media: vec![],
                options: Default::default(),
            };
            match fb.publish(&req, &NoRefs).await.unwrap() {
                PublishOutcome::Published { platform_post_id, permalink } => (platform_post_id, permalink),
                other => panic!("{other:?}"),
            }
        } else {
            (format!("{}-1", t.platform), Some(format!("https://{}.example/p/1", t.platform)))
        };
        results::mark_published(&h.store, a, t.id, &id, link.as_deref(), None).await.unwrap();
    }
    h.run_notify_jobs().await;
    (post.id, targets.into_iter().map(|t| t.id).collect())
}

/// Runs the due `post.change` jobs as the scheduler's runner would (claim, run, complete), and returns how many
/// ran. A job that fails fails the test.
async fn run_change_jobs(h: &common::Harness, handler: &PostChangeHandler) -> usize {
    let kinds = [POST_CHANGE.to_owned()];
    let req =
        tochen_store::ClaimRequest { owner: "test-changes", limit: 10, lease_ms: 60_000, per_key: 10, kinds: &kinds };
    let mut ran = 0;
    loop {
        let jobs = h.store.claim_jobs(&req).await.unwrap();
        if jobs.is_empty() {
            return ran;
        }
        for job in jobs {
            if let Err(e) = RunJob::<tochen_domain::jobs::PostChangePayload>::run(handler, &h.store, &job).await {
                panic!("post.change job failed: {e}");
            }
            assert!(h.store.complete_job(job.id, job.attempts, "test-changes").await.unwrap());
            ran += 1;
        }
    }
}

/// Opens the post's screen from `/history`.
async fn open(h: &common::Harness, user: i64) -> BotMessage {
    let list = h.say(user, "/history", "Fresh bread").await;
    let card = h.press(user, &list, "1. Fresh bread", "Fresh bread").await;
    h.press(user, &card, &common::en("bot.library.btn_open"), "History").await
}

bot_test!(a_facebook_post_is_edited_then_deleted_and_instagram_and_tiktok_say_they_do_not_allow_it, |h| {
    let graph = FakeGraph::start().await;
    let token = graph.add_page("111", "Bakery", None);
    let a = h.onboard(ALICE, "Alpha").await;
    let fb = account(&h, a, Platform::Facebook, AuthKind::FacebookPage, "111", &token).await;
    let ig = account(&h, a, Platform::Instagram, AuthKind::InstagramViaPage, "ig-1", "t").await;
    let tt = account(&h, a, Platform::TikTok, AuthKind::TikTok, "tt-1", "t").await;
    let (post, t) = published_post(&h, &graph, a, &[fb, ig, tt]).await;
    let fb_post = h.store.target(a, t[0]).await.unwrap().platform_post_id.unwrap();
    assert_eq!(graph.post_text(&fb_post).as_deref(), Some("Fresh bread at 8"));
    let handler = tochen_scheduler::handlers::post_change::handler(&platforms_config(&graph), &h.store);

    let screen = open(&h, ALICE).await;
    for platform in ["Instagram", "TikTok"] {
        let line = format!("{platform} does not allow editing or deleting published posts through its API.");
        assert!(screen.text.contains(&line), "{}", screen.text);
        assert!(!screen.has_button(&format!("Edit text on {platform}")), "{screen:#?}");
        assert!(!screen.has_button(&format!("Delete from {platform}")), "{screen:#?}");
    }
    assert!(!screen.text.contains("Facebook does not allow"), "{}", screen.text);
    assert!(screen.text.contains("https://www.facebook.com/"), "the permalink: {}", screen.text);
    assert!(screen.text.contains("created by User1001"), "{}", screen.text);
    assert!(screen.text.contains("published on Facebook"), "{}", screen.text);

    // Edit: the new text is asked for, shown for confirmation, then sent by the job.
    let ask = h.press(ALICE, &screen, "Edit text on Facebook", "Send the new text").await;
    assert!(ask.text.contains("Fresh bread at 8"), "the current text is quoted: {}", ask.text);
    let confirm = h.say(ALICE, "Fresh bread at 9 today", "Replace the text").await;
    assert!(confirm.text.contains("Fresh bread at 9 today"));
    h.press(ALICE, &confirm, &en("bot.published.btn_confirm_edit"), "Changing the text on Facebook").await;
    // Confirming twice requests nothing more.
    let again = confirm.button(&en("bot.published.btn_confirm_edit")).unwrap();
    h.press_data_refused(ALICE, &confirm, &again, "out of date").await;
    assert_eq!(h.store.post_changes(a, post).await.unwrap().len(), 1);
    let change = &h.store.post_changes(a, post).await.unwrap()[0];
    assert_eq!((change.kind, change.status), (ChangeKind::EditText, ChangeStatus::Queued));
    // The screen drawn before the request is stale now: its buttons change nothing.
    let old_delete = screen.button("Delete from Facebook").unwrap();
    h.press_data_refused(ALICE, &screen, &old_delete, "out of date").await;
    assert_eq!(run_change_jobs(&h, &handler).await, 1);
    assert_eq!(graph.post_text(&fb_post).as_deref(), Some("Fresh bread at 9 today"), "Facebook shows the new text");
    let mark = h.tg.mark();
    h.run_notify_jobs().await;
    h.tg.said(ALICE, mark, "Fresh bread</b> on Facebook (Facebook account) was changed").await;
    assert!(h.run_notify_jobs().await.is_empty(), "told once");

    let screen = open(&h, ALICE).await;
    assert!(screen.text.contains("User1001 asked to edit the text on Facebook: done"), "{}", screen.text);
    assert!(screen.text.contains(&en("bot.published.edited")), "{}", screen.text);

    // Delete, after a confirmation.
    let sure = h.press(ALICE, &screen, "Delete from Facebook", "cannot be brought back").await;
    h.press(ALICE, &sure, &en("bot.published.btn_confirm_delete"), "Deleting from Facebook").await;
    assert_eq!(run_change_jobs(&h, &handler).await, 1);
    assert!(graph.is_deleted(&fb_post), "Facebook deleted it");
    let mark = h.tg.mark();
    h.run_notify_jobs().await;
    h.tg.said(ALICE, mark, "was deleted from Facebook").await;
    let screen = open(&h, ALICE).await;
    assert!(screen.text.contains("🗑 deleted"), "{}", screen.text);
    assert!(screen.text.contains("asked to delete it from Facebook: done"), "{}", screen.text);
    assert!(!screen.has_button("Edit text on Facebook") && !screen.has_button("Delete from Facebook"));
    let deletes = graph.calls().into_iter().filter(|c| c.method == "DELETE").count();
    assert_eq!(deletes, 1);
    // The audit log has both changes, and the target shows what it is now.
    let on = h.store.targets_on_platform(a, post).await.unwrap();
    assert!(on[0].deleted_at.is_some() && on[0].current_text.as_deref() == Some("Fresh bread at 9 today"));
});

bot_test!(viewers_read_the_screen_but_cannot_edit_delete_or_duplicate, |h| {
    let graph = FakeGraph::start().await;
    let token = graph.add_page("111", "Bakery", None);
    let a = h.onboard(ALICE, "Alpha").await;
    let fb = account(&h, a, Platform::Facebook, AuthKind::FacebookPage, "111", &token).await;
    let (post, t) = published_post(&h, &graph, a, &[fb]).await;
    let m = h.say(ALICE, "/invite", "Which role").await;
    let m = h.press(ALICE, &m, &en("bot.role.viewer"), "start=inv_").await;
    let code = m.text.split("start=").nth(1).unwrap().split_whitespace().next().unwrap().to_owned();
    h.say(CAROL, &format!("/start {code}"), "as viewer").await;

    let screen = open(&h, CAROL).await;
    assert!(screen.text.contains("published on Facebook"), "{}", screen.text);
    assert!(!screen.has_button("Edit text on Facebook") && !screen.has_button(&en("bot.published.btn_duplicate")));
    // Buttons drawn for an editor are refused to a viewer.
    let v = h.store.post(a, post).await.unwrap().version;
    for b in [Published::EditText(t[0], v), Published::ConfirmDelete(t[0], v), Published::Duplicate(post)] {
        h.press_data_refused(CAROL, &screen, &Button::Published(b).encode(), "Viewers can look").await;
    }
    assert!(h.store.post_changes(a, post).await.unwrap().is_empty());
    assert!(!graph.is_deleted(&h.store.target(a, t[0]).await.unwrap().platform_post_id.unwrap()));
});

bot_test!(a_retried_delete_does_not_send_twice_and_a_refused_edit_is_shown_not_retried, |h| {
    let graph = FakeGraph::start().await;
    let token = graph.add_page("111", "Bakery", None);
    let a = h.onboard(ALICE, "Alpha").await;
    let alice = h.store.user_by_telegram_id(ALICE).await.unwrap().unwrap().id;
    let fb = account(&h, a, Platform::Facebook, AuthKind::FacebookPage, "111", &token).await;
    let (post, t) = published_post(&h, &graph, a, &[fb]).await;
    let fb_post = h.store.target(a, t[0]).await.unwrap().platform_post_id.unwrap();
    let handler = tochen_scheduler::handlers::post_change::handler(&platforms_config(&graph), &h.store);

    // Facebook refuses this edit: the change fails with Facebook's words, the job is done (no retry).
    graph.mark_not_editable(&fb_post, 200);
    let v = h.store.post(a, post).await.unwrap().version;
    let edit = h.store.request_post_change(a, t[0], v, ChangeKind::EditText, Some("new"), Some(alice), Some(ALICE));
    let edit = edit.await.unwrap();
    assert_eq!(run_change_jobs(&h, &handler).await, 1);
    let edit = h.store.post_change(a, &edit.id).await.unwrap();
    assert_eq!(edit.status, ChangeStatus::Failed);
    assert!(edit.error.as_deref().unwrap().contains("cannot be edited"), "{edit:?}");
    assert_eq!(graph.post_text(&fb_post).as_deref(), Some("Fresh bread at 8"));
    let mark = h.tg.mark();
    h.run_notify_jobs().await;
    h.tg.said(ALICE, mark, "did not accept the new text").await;

    // The delete goes out, and its answer is lost (Facebook deleted it, then failed).
    let v = h.store.post(a, post).await.unwrap().version;
    let del =
        h.store.request_post_change(a, t[0], v, ChangeKind::Delete, None, Some(alice), Some(ALICE)).await.unwrap();
    graph.fail_next_after(&fb_post, 500, 2, "An unexpected error has occurred. Please retry your request later.");
    let kinds = [POST_CHANGE.to_owned()];
    let req =
        tochen_store::ClaimRequest { owner: "test-changes", limit: 10, lease_ms: 60_000, per_key: 10, kinds: &kinds };
    let mut job = h.store.claim_jobs(&req).await.unwrap().remove(0);
    let first = RunJob::<tochen_domain::jobs::PostChangePayload>::run(&handler, &h.store, &job).await;
    assert!(matches!(first, Err(JobError::Retryable { .. })), "{first:?}");
    assert_eq!(h.store.post_change(a, &del.id).await.unwrap().status, ChangeStatus::Sending);
    assert!(graph.is_deleted(&fb_post));
    // The runner retries the job: it finds the change in flight, asks, and finds the post gone.
    job.attempts += 1;
    RunJob::<tochen_domain::jobs::PostChangePayload>::run(&handler, &h.store, &job).await.unwrap();
    let del = h.store.post_change(a, &del.id).await.unwrap();
    assert_eq!((del.status, del.attempts), (ChangeStatus::Done, 2));
    let deletes = graph.calls().into_iter().filter(|c| c.method == "DELETE").count();
    assert_eq!(deletes, 1, "the retried job did not send the delete again");
    // A third run (a duplicate delivery) changes nothing and tells nobody twice.
    job.attempts += 1;
    RunJob::<tochen_domain::jobs::PostChangePayload>::run(&handler, &h.store, &job).await.unwrap();
    let mark = h.tg.mark();
    let told = h.run_notify_jobs().await;
    assert_eq!(told.len(), 1, "{told:?}");
    h.tg.said(ALICE, mark, "was deleted from Facebook").await;
    assert!(h.store.targets_on_platform(a, post).await.unwrap()[0].deleted_at.is_some());
});

bot_test!(duplicate_of_a_published_post_opens_a_draft_with_the_same_text_and_media, |h| {
    let graph = FakeGraph::start().await;
    let token = graph.add_page("111", "Bakery", None);
    let a = h.onboard(ALICE, "Alpha").await;
    let fb = account(&h, a, Platform::Facebook, AuthKind::FacebookPage, "111", &token).await;
    let (post, _) = published_post(&h, &graph, a, &[fb]).await;
    // A long history is clipped to fit one message (the fake Bot API refuses longer texts): the oldest lines go.
    for i in 0..60 {
        let action = format!("custom.{i:02}.{}", "x".repeat(120));
        h.store.audit(a, None, &action, "post", Some(&post.to_db()), serde_json::json!({})).await.unwrap();
    }
    let screen = open(&h, ALICE).await;
    assert!(screen.text.contains("\n…") && !screen.text.contains("created by"), "{}", screen.text);
    assert!(screen.text.contains("custom.59."), "the newest line is kept: {}", screen.text);
    let draft = h.press(ALICE, &screen, &en("bot.published.btn_duplicate"), "Draft:").await;
    assert!(draft.text.contains("Fresh bread at 8"), "{}", draft.text);
    let drafts = h.store.posts_with_status(a, &[tochen_domain::PostStatus::Draft], 0, 10).await.unwrap();
    assert_eq!(drafts.len(), 1);
    let copy = &drafts[0];
    assert_eq!(copy.title, "Fresh bread");
    assert_eq!(h.store.post_contents(a, copy.id).await.unwrap(), h.store.post_contents(a, post).await.unwrap());
    assert_eq!(h.store.post_media_kinds(a, copy.id).await.unwrap(), h.store.post_media_kinds(a, post).await.unwrap());
    assert_eq!(h.store.draft_accounts(a, copy.id).await.unwrap(), Some(vec![fb]));
    // The published post is as it was.
    assert_eq!(h.store.post(a, post).await.unwrap().status, tochen_domain::PostStatus::Published);
});

bot_test!(the_sandbox_edits_and_deletes_what_it_published, without_llm, |h| {
    let graph = FakeGraph::start().await;
    let a = h.onboard(ALICE, "Alpha").await;
    let sb = tochen_platforms::sandbox::connect(&h.store, a, "Alpha", AuthKind::SandboxInstagram, None).await.unwrap();
    let alice = h.store.user_by_telegram_id(ALICE).await.unwrap().unwrap();
    let post = h.store.create_draft(a, Some(alice.id), Some(ALICE), "Fresh bread", "bread").await.unwrap();
    let c =
        PostContent { platform: Platform::Instagram, body: "at 8".into(), hashtags: vec![], link: None, custom: false };
    h.store.set_post_content(a, post.id, &c).await.unwrap();
    let v = h.store.post(a, post.id).await.unwrap().version;
    let t = h.store.schedule_post(a, post.id, v, tochen_domain::clock::now_ms(), &[sb.id], false).await.unwrap();
    h.store.begin_publishing(a, t[0].id, Platform::ALL).await.unwrap();
    let kept = h
        .store
        .publish_sandbox_post(&tochen_store::NewSandboxPost {
            tenant_id: a,
            account_id: sb.id,
            target_id: t[0].id,
            platform: Platform::Instagram,
            account_name: sb.name.clone(),
            caption: "at 8".into(),
            media: vec![],
        })
        .await
        .unwrap();
    results::mark_published(&h.store, a, t[0].id, &kept.id, None, None).await.unwrap();
    let handler = tochen_scheduler::handlers::post_change::handler(&platforms_config(&graph), &h.store);

    // A sandbox Instagram account allows both, though Instagram itself does not.
    let screen = open(&h, ALICE).await;
    assert!(!screen.text.contains("does not allow"), "{}", screen.text);
    h.press(ALICE, &screen, "Edit text on Instagram", "Send the new text").await;
    // Instagram's caption limit holds for the new text too.
    h.say(ALICE, &"x".repeat(2300), "2300 characters; Instagram takes at most 2200").await;
    let confirm = h.say(ALICE, "at 9", "Replace the text").await;
    h.press(ALICE, &confirm, &en("bot.published.btn_confirm_edit"), "Changing the text").await;
    run_change_jobs(&h, &handler).await;
    assert_eq!(h.store.sandbox_post(&kept.id).await.unwrap().unwrap().caption, "at 9");
    let screen = open(&h, ALICE).await;
    let sure = h.press(ALICE, &screen, "Delete from Instagram", "cannot be brought back").await;
    h.press(ALICE, &sure, &en("bot.published.btn_confirm_delete"), "Deleting").await;
    run_change_jobs(&h, &handler).await;
    assert!(h.store.sandbox_post(&kept.id).await.unwrap().is_none(), "its permalink page is gone");
    let mark = h.tg.mark();
    h.run_notify_jobs().await;
    h.tg.said(ALICE, mark, "was deleted from Instagram").await;
});

bot_test!(duplicate_on_a_queued_post_opens_a_draft_of_it, |h| {
    let a = h.onboard(ALICE, "Alpha").await;
    let accounts = h.connect_accounts(a).await;
    let alice = h.store.user_by_telegram_id(ALICE).await.unwrap().unwrap();
    let post = h.store.create_draft(a, Some(alice.id), Some(ALICE), "Weekend menu", "menu").await.unwrap();
    let c = PostContent {
        platform: Platform::Facebook,
        body: "Pancakes on Sunday".into(),
        hashtags: vec![],
        link: None,
        custom: false,
    };
    h.store.set_post_content(a, post.id, &c).await.unwrap();
    let at = tochen_domain::clock::now_ms() + 86_400_000;
    h.store.schedule_post(a, post.id, post.version + 1, at, &[accounts[1].id], false).await.unwrap();
    let list = h.say(ALICE, "/queue", "Weekend menu").await;
    let item = h.press(ALICE, &list, "1. Weekend menu", "Status").await;
    let draft = h.press(ALICE, &item, &en("bot.published.btn_duplicate"), "Draft:").await;
    assert!(draft.text.contains("Pancakes on Sunday"), "{}", draft.text);
    let drafts = h.store.posts_with_status(a, &[tochen_domain::PostStatus::Draft], 0, 10).await.unwrap();
    assert_eq!(drafts.len(), 1);
    assert_eq!(h.store.draft_accounts(a, drafts[0].id).await.unwrap(), Some(vec![accounts[1].id]));
    assert_eq!(h.store.post(a, post.id).await.unwrap().status, tochen_domain::PostStatus::Scheduled, "untouched");
});
