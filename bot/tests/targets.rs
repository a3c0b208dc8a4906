//! The scheduler's buttons on a target whose outcome was unknown or failed: "it's published", "post again",
//! "skip". Role-checked, workspace-checked, and idempotent.

mod common;

use common::{ALICE, CAROL, DAVE};
use tochen_bot::Cb;
use tochen_core::domain::{JobState, PostStatus, Role, TargetStatus};
use tochen_core::store::PostContent;
use tochen_core::{TargetId, TenantId};

async fn scheduled_targets(h: &common::Harness, tenant: TenantId, author: i64) -> Vec<TargetId> {
    let accounts = h.connect_accounts(tenant).await;
    let user = h.store.user_by_telegram_id(author).await.unwrap().unwrap();
    let post = h.store.create_draft(tenant, Some(user.id), Some(author), "T", "idea").await.unwrap();
    let content = PostContent {
        platform: tochen_core::domain::Platform::Facebook,
        body: "hi".into(),
        hashtags: vec![],
        link: None,
    };
    h.store.set_post_content(tenant, post.id, &content).await.unwrap();
    let post = h.store.post(tenant, post.id).await.unwrap();
    let ids: Vec<_> = accounts.iter().map(|a| a.id).collect();
    let at = tochen_core::clock::now_ms() + 3_600_000;
    let targets = h.store.schedule_post(tenant, post.id, post.version, at, &ids, false).await.unwrap();
    for t in &targets {
        sqlx::query("UPDATE post_targets SET status = 'unknown' WHERE id = $1")
            .bind(t.id.to_db())
            .execute(h.store.pool())
            .await
            .unwrap();
        sqlx::query("UPDATE jobs SET state = 'failed' WHERE unique_key = $1")
            .bind(format!("publish:{}", t.id))
            .execute(h.store.pool())
            .await
            .unwrap();
    }
    targets.into_iter().map(|t| t.id).collect()
}

bot_test!(target_buttons_confirm_retry_and_skip_within_the_workspace, |h| {
    let a = h.onboard(ALICE, "Alpha").await;
    h.onboard(CAROL, "Gamma").await;
    let targets = scheduled_targets(&h, a, ALICE).await;
    let notice = h.say(ALICE, "/help", "What I can do").await;

    // Someone from another workspace, and a viewer, change nothing.
    let carols = h.say(CAROL, "/help", "What I can do").await;
    h.press_data_refused(CAROL, &carols, &Cb::TargetPublished(targets[0]).encode(), "can't find that post").await;
    let dave = h.store.upsert_user(&common::identity(DAVE)).await.unwrap();
    h.store.add_member(a, dave.id, Role::Viewer).await.unwrap();
    h.store.set_active_tenant(dave.id, a).await.unwrap();
    let daves = h.say(DAVE, "/help", "What I can do").await;
    h.press_data_refused(DAVE, &daves, &Cb::TargetRetry(targets[0]).encode(), "Viewers can look").await;
    assert_eq!(h.store.target(a, targets[0]).await.unwrap().status, TargetStatus::Unknown);

    // It's published.
    let mark = h.tg.mark();
    h.tg.press_as(ALICE, ALICE, notice.message_id, &Cb::TargetPublished(targets[0]).encode());
    h.tg.said(ALICE, mark, "marked as published").await;
    assert_eq!(h.store.target(a, targets[0]).await.unwrap().status, TargetStatus::Published);
    h.press_data_refused(ALICE, &notice, &Cb::TargetPublished(targets[0]).encode(), "already published").await;

    // Post again: pending, with its publish job queued again.
    let mark = h.tg.mark();
    h.tg.press_as(ALICE, ALICE, notice.message_id, &Cb::TargetRetry(targets[1]).encode());
    h.tg.said(ALICE, mark, "queued to post again").await;
    let t = h.store.target(a, targets[1]).await.unwrap();
    assert_eq!(t.status, TargetStatus::Pending);
    let job = h.store.tenant_jobs(a, JobState::Queued, 10).await.unwrap();
    assert_eq!(job.len(), 1);
    assert_eq!(h.store.post(a, t.post_id).await.unwrap().status, PostStatus::Scheduled);

    // Skip.
    let mark = h.tg.mark();
    h.tg.press_as(ALICE, ALICE, notice.message_id, &Cb::TargetSkip(targets[1]).encode());
    h.tg.said(ALICE, mark, "skipped").await;
    assert_eq!(h.store.target(a, targets[1]).await.unwrap().status, TargetStatus::Cancelled);
});
