//! The scheduler's buttons on a target whose outcome was unknown or failed: "it's published", "post again",
//! "skip". Role-checked, workspace-checked, idempotent, and each one settles the post: its status and `/history`
//! are checked after every press. The notices are the scheduler's own (`results::mark_*` and its notify handler).

use crate::common;

use common::{en, ALICE, CAROL, DAVE};
use tochen_domain::{AccountId, PostId, TargetId, TenantId};
use tochen_domain::{JobState, Platform, PostStatus, Role, TargetStatus};
use tochen_scheduler::handlers::results;
use tochen_store::BeginPublish;
use tochen_telegram::button::{Button, Target};
use tochen_testkit::fake_telegram::BotMessage;

/// A post by `author` (chat = their id) scheduled on `accounts`, each target already started by a publish job
/// that has finished.
async fn started_post(
    h: &common::Harness,
    tenant: TenantId,
    author: i64,
    title: &str,
    accounts: &[AccountId],
) -> (PostId, Vec<TargetId>) {
    let user = h.store.user_by_telegram_id(author).await.unwrap().unwrap();
    let post = h.store.create_draft(tenant, Some(user.id), Some(author), title, "idea").await.unwrap();
    let at = tochen_domain::clock::now_ms() + 3_600_000;
    let targets = h.store.schedule_post(tenant, post.id, post.version, at, accounts, false).await.unwrap();
    for t in &targets {
        let (_, begun) = h.store.begin_publishing(tenant, t.id, Platform::ALL).await.unwrap();
        assert!(matches!(begun, BeginPublish::Started(_)), "{begun:?}");
        sqlx::query("UPDATE jobs SET state = 'succeeded' WHERE unique_key = $1")
            .bind(format!("publish:{}", t.id))
            .execute(h.store.sql_for_tests())
            .await
            .unwrap();
    }
    (post.id, targets.into_iter().map(|t| t.id).collect())
}

/// Settles a started target as the scheduler does and returns the notice it sent to the author.
async fn settled(h: &common::Harness, tenant: TenantId, target: TargetId, to: TargetStatus) -> BotMessage {
    let mark = h.tg.mark();
    match to {
        TargetStatus::Unknown => results::mark_unknown(&h.store, tenant, target, "timed out after sending", None).await,
        TargetStatus::Failed => {
            let from = [TargetStatus::Publishing];
            results::mark_failed(&h.store, tenant, target, &from, "permanent", "caption too long", None).await
        }
        _ => results::mark_published(&h.store, tenant, target, "p-1", Some("https://fb.example/p-1"), None).await,
    }
    .unwrap();
    h.run_notify_jobs().await;
    let post = h.store.target(tenant, target).await.unwrap().post_id;
    let title = h.store.post(tenant, post).await.unwrap().title;
    h.tg.said(ALICE, mark, &title).await
}

async fn post_status(h: &common::Harness, tenant: TenantId, post: PostId) -> PostStatus {
    h.store.post(tenant, post).await.unwrap().status
}

bot_test!(the_target_buttons_settle_the_post_and_history_shows_it, |h| {
    let a = h.onboard(ALICE, "Alpha").await;
    let accounts = h.connect_accounts(a).await;
    let (ig, fb) = (accounts[0].id, accounts[1].id);
    let confirm = en("sched.button_confirm_published");
    let again = en("sched.button_retry");
    let skip = en("sched.button_skip");

    // "It's published" on the only target, whose outcome was lost: the post is published and in the history.
    let (solo, t) = started_post(&h, a, ALICE, "Solo launch", &[fb]).await;
    let notice = settled(&h, a, t[0], TargetStatus::Unknown).await;
    assert_eq!(post_status(&h, a, solo).await, PostStatus::Publishing, "open while the outcome is unknown");
    h.say(ALICE, "/history", &en("bot.history.empty")).await;
    h.press(ALICE, &notice, &confirm, "marked as published").await;
    assert_eq!(h.store.target(a, t[0]).await.unwrap().status, TargetStatus::Published);
    assert_eq!(post_status(&h, a, solo).await, PostStatus::Published);
    let history = h.say(ALICE, "/history", "Solo launch").await;
    assert!(history.text.contains("Solo launch</b> (published)"), "{}", history.text);
    h.press_data_refused(ALICE, &notice, &Button::Target(Target::Published(t[0])).encode(), "already published").await;

    // "Skip" on the open target of two: the post takes the status of the one that went out.
    let (pair, t) = started_post(&h, a, ALICE, "Pair launch", &[ig, fb]).await;
    let (ig_t, fb_t) = (t[0], t[1]);
    settled(&h, a, fb_t, TargetStatus::Published).await;
    let notice = settled(&h, a, ig_t, TargetStatus::Unknown).await;
    assert_eq!(post_status(&h, a, pair).await, PostStatus::Publishing);
    h.press(ALICE, &notice, &skip, "skipped").await;
    assert_eq!(h.store.target(a, ig_t).await.unwrap().status, TargetStatus::Cancelled);
    assert_eq!(post_status(&h, a, pair).await, PostStatus::Published);
    let history = h.say(ALICE, "/history", "Pair launch").await;
    assert!(history.text.contains("Pair launch</b> (published)"), "{}", history.text);

    // "Post again" on a failed post: it is open again, its one publish job queued to run now, and it leaves the
    // history until it settles.
    let (retry, t) = started_post(&h, a, ALICE, "Retry launch", &[fb]).await;
    let failed = settled(&h, a, t[0], TargetStatus::Failed).await;
    assert_eq!(post_status(&h, a, retry).await, PostStatus::Failed);
    let history = h.say(ALICE, "/history", "Retry launch").await;
    assert!(history.text.contains("Retry launch</b> (failed)"), "{}", history.text);
    h.press(ALICE, &failed, &again, "queued to post again").await;
    let target = h.store.target(a, t[0]).await.unwrap();
    assert_eq!((target.status, target.error_message), (TargetStatus::Pending, None));
    assert_eq!(post_status(&h, a, retry).await, PostStatus::Publishing);
    let queued = h.store.tenant_jobs(a, JobState::Queued, 10).await.unwrap();
    let publish: Vec<_> = queued.iter().filter(|j| j.unique_key == Some(format!("publish:{}", t[0]))).collect();
    assert_eq!(publish.len(), 1, "{queued:?}");
    assert!(publish[0].attempts == 0 && publish[0].run_at <= tochen_domain::clock::now_ms());
    let history = h.say(ALICE, "/history", "Solo launch").await;
    assert!(!history.text.contains("Retry launch"), "{}", history.text);

    // "Post again" on an unknown target of a post still open: the post stays open.
    let (open, t) = started_post(&h, a, ALICE, "Open launch", &[fb]).await;
    let notice = settled(&h, a, t[0], TargetStatus::Unknown).await;
    h.press(ALICE, &notice, &again, "queued to post again").await;
    assert_eq!(h.store.target(a, t[0]).await.unwrap().status, TargetStatus::Pending);
    assert_eq!(post_status(&h, a, open).await, PostStatus::Publishing);
    // Skipping the pending target gives the post up: nothing went out, and its queued job is cancelled.
    h.press(ALICE, &notice, &skip, "skipped").await;
    assert_eq!(post_status(&h, a, open).await, PostStatus::Cancelled);
    let job = h.store.job_by_unique_key(&format!("publish:{}", t[0])).await.unwrap().unwrap();
    assert_eq!(job.state, JobState::Cancelled);
});

bot_test!(target_buttons_work_only_for_editors_of_the_workspace, |h| {
    let a = h.onboard(ALICE, "Alpha").await;
    h.onboard(CAROL, "Gamma").await;
    let accounts = h.connect_accounts(a).await;
    let (post, t) = started_post(&h, a, ALICE, "Guarded launch", &[accounts[1].id]).await;
    settled(&h, a, t[0], TargetStatus::Unknown).await;

    // Someone from another workspace, and a viewer, change nothing.
    let carols = h.say(CAROL, "/help", "What I can do").await;
    h.press_data_refused(CAROL, &carols, &Button::Target(Target::Published(t[0])).encode(), "can't find that post")
        .await;
    let dave = h.store.upsert_user(&common::identity(DAVE)).await.unwrap();
    h.store.add_member(a, dave.id, Role::Viewer).await.unwrap();
    h.store.set_active_tenant(dave.id, a).await.unwrap();
    let daves = h.say(DAVE, "/help", "What I can do").await;
    h.press_data_refused(DAVE, &daves, &Button::Target(Target::Retry(t[0])).encode(), "Viewers can look").await;
    assert_eq!(h.store.target(a, t[0]).await.unwrap().status, TargetStatus::Unknown);
    assert_eq!(post_status(&h, a, post).await, PostStatus::Publishing);
});
