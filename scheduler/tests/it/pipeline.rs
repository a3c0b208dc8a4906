//! The publishing pipeline on both databases, with a scripted fake publisher.

use crate::common;

use common::*;
use std::sync::Arc;
use std::time::Duration;
use tochen_delivery::webhook::WebhookSecret;
use tochen_domain::clock::now_ms;
use tochen_domain::ids::TenantId;
use tochen_domain::DestinationStatus;
use tochen_domain::SecretString;
use tochen_domain::{AccountStatus, AuthKind, Platform, PostStatus, TargetStatus};
use tochen_platforms::publish::{CheckOutcome, ErrorClass, PublishError, PublishOutcome, Publisher};
use tochen_platforms::registry::platform_of;
use tochen_scheduler::{handlers, Publishers, WEBHOOK_EVENT_OUT};
use tochen_store::Store;
use tochen_store::{BeginPublish, Job, NewDestination};
use tochen_telegram::button::pack_uuid;
use tochen_testkit::fake_platform::{Scripted, ScriptedPublisher};
use tochen_testkit::store_test;

/// The scripted publisher of each platform, serving every real (not sandbox) auth kind of that platform.
fn publishers(list: &[(Platform, Arc<ScriptedPublisher>)]) -> Publishers {
    let kinds = || AuthKind::ALL.iter().copied().filter(|k| !k.is_sandbox());
    list.iter()
        .flat_map(|(p, s)| {
            kinds().filter(move |k| platform_of(*k) == *p).map(move |k| (k, s.clone() as Arc<dyn Publisher>))
        })
        .collect()
}

/// Runs the scheduler with these publishers until `done` holds.
async fn run_until<F, Fut>(store: &Store, pubs: Publishers, done: F) -> Arc<RecordingNotifier>
where
    F: FnMut() -> Fut,
    Fut: std::future::Future<Output = bool>,
{
    let notifier = Arc::new(RecordingNotifier::default());
    let d = deps(pubs, notifier.clone());
    let (stop, handle) = spawn_runner(store, handlers(&d), quick_config("pipeline"));
    // A bound on liveness, not a timing target: under a full parallel suite on PostgreSQL a retry with its backoff
    // once took longer than 10 s.
    wait_for("the pipeline", Duration::from_secs(30), done).await;
    // Let the notify jobs queued at the end go out.
    tokio::time::sleep(Duration::from_millis(200)).await;
    stop.cancel();
    handle.await.unwrap().unwrap();
    notifier
}

async fn target_status(store: &Store, tenant: TenantId, id: tochen_domain::ids::TargetId) -> TargetStatus {
    store.target(tenant, id).await.unwrap().status
}

async fn jobs_of(store: &Store, tenant: TenantId, kind: &str) -> Vec<Job> {
    let mut all = Vec::new();
    for state in tochen_domain::JobState::ALL {
        all.extend(store.tenant_jobs(tenant, *state, 1000).await.unwrap().into_iter().filter(|j| j.kind == kind));
    }
    all
}

store_test!(a_due_post_is_published_stored_announced_and_queued_for_webhooks, |store| {
    let tenant = workspace(&store).await;
    let secret = SecretString::new(WebhookSecret::generate().expose());
    let url = "https://crm.example/hook".to_string();
    store.create_destination(tenant, &NewDestination::Webhook { name: "CRM".into(), url, secret }).await.unwrap();
    let fb = account(&store, tenant, Platform::Facebook, "page-1").await;
    let (post, targets) = scheduled_post(&store, tenant, &[fb], now_ms()).await;
    let fake = ScriptedPublisher::new();
    let t = targets[0].id;
    let notifier = run_until(&store, publishers(&[(Platform::Facebook, fake.clone())]), || async {
        target_status(&store, tenant, t).await == TargetStatus::Published
    })
    .await;
    let target = store.target(tenant, t).await.unwrap();
    assert_eq!(target.platform_post_id, Some(format!("post-{t}")));
    assert!(target.permalink.is_some());
    assert_eq!(store.post(tenant, post).await.unwrap().status, PostStatus::Published);
    assert_eq!(fake.publishes(), 1);
    let sent = notifier.sent.lock().unwrap().clone();
    let to_author = sent.iter().find(|m| m.chat_id == AUTHOR_CHAT).expect("the author is told");
    assert!(to_author.text_html.contains("Autumn menu") && to_author.text_html.contains("Facebook"));
    let events = jobs_of(&store, tenant, WEBHOOK_EVENT_OUT).await;
    assert_eq!(events.len(), 1);
    assert_eq!(events[0].payload["type"], "post.target.published");
    assert_eq!(events[0].payload["data"]["target_id"], t.to_string());
});

store_test!(without_a_webhook_destination_no_outgoing_event_is_queued, |store| {
    let tenant = workspace(&store).await;
    // An inactive webhook destination does not count either.
    let secret = SecretString::new(WebhookSecret::generate().expose());
    let url = "https://crm.example/hook".to_string();
    let d =
        store.create_destination(tenant, &NewDestination::Webhook { name: "CRM".into(), url, secret }).await.unwrap();
    store.set_destination_status(tenant, d.id, DestinationStatus::Disabled, Some("410")).await.unwrap();
    let fb = account(&store, tenant, Platform::Facebook, "page-1").await;
    let (post, targets) = scheduled_post(&store, tenant, &[fb], now_ms()).await;
    let t = targets[0].id;
    run_until(&store, publishers(&[(Platform::Facebook, ScriptedPublisher::new())]), || async {
        target_status(&store, tenant, t).await == TargetStatus::Published
    })
    .await;
    assert_eq!(store.post(tenant, post).await.unwrap().status, PostStatus::Published);
    assert!(jobs_of(&store, tenant, WEBHOOK_EVENT_OUT).await.is_empty());
});

store_test!(targets_are_independent_and_the_post_ends_partially_published, |store| {
    let (tenant, fb, ig) = facebook_and_instagram(&store).await;
    let (post, targets) = scheduled_post(&store, tenant, &[fb, ig], now_ms()).await;
    let fb_fake = ScriptedPublisher::new();
    let ig_fake = ScriptedPublisher::new();
    ig_fake.then_publish(Scripted::Err(PublishError::new(
        ErrorClass::Permanent,
        Some("2207010".into()),
        "caption too long",
    )));
    let pubs = publishers(&[(Platform::Facebook, fb_fake.clone()), (Platform::Instagram, ig_fake.clone())]);
    let ids: Vec<_> = targets.iter().map(|t| t.id).collect();
    run_until(&store, pubs, || async {
        let mut settled = true;
        for id in &ids {
            settled &=
                matches!(target_status(&store, tenant, *id).await, TargetStatus::Published | TargetStatus::Failed);
        }
        settled
    })
    .await;
    assert_eq!(store.post(tenant, post).await.unwrap().status, PostStatus::PartiallyPublished);
    let ig_target = targets.iter().find(|t| t.platform == Platform::Instagram).unwrap();
    let failed = store.target(tenant, ig_target.id).await.unwrap();
    assert_eq!(failed.status, TargetStatus::Failed);
    assert_eq!(failed.error_message.as_deref(), Some("caption too long"));
    assert_eq!((fb_fake.publishes(), ig_fake.publishes()), (1, 1), "a permanent error is not retried");
});

store_test!(a_retryable_error_before_sending_is_retried_until_published, |store| {
    let tenant = workspace(&store).await;
    let fb = account(&store, tenant, Platform::Facebook, "page-1").await;
    let (_, targets) = scheduled_post(&store, tenant, &[fb], now_ms()).await;
    let fake = ScriptedPublisher::new();
    fake.then_publish(Scripted::Err(PublishError::new(ErrorClass::Retryable { retry_after: None }, None, "503")));
    let t = targets[0].id;
    run_until(&store, publishers(&[(Platform::Facebook, fake.clone())]), || async {
        target_status(&store, tenant, t).await == TargetStatus::Published
    })
    .await;
    assert_eq!(fake.publishes(), 2);
    assert_eq!(store.target(tenant, t).await.unwrap().attempts, 2);
});

store_test!(an_unknown_outcome_without_a_reference_is_never_resent_and_the_team_is_asked, |store| {
    let tenant = workspace(&store).await;
    let fb = account(&store, tenant, Platform::Facebook, "page-1").await;
    let (post, targets) = scheduled_post(&store, tenant, &[fb], now_ms()).await;
    let fake = ScriptedPublisher::new();
    fake.then_publish(Scripted::Err(PublishError::new(ErrorClass::OutcomeUnknown, None, "timed out after sending")));
    let t = targets[0].id;
    let notifier = run_until(&store, publishers(&[(Platform::Facebook, fake.clone())]), || async {
        target_status(&store, tenant, t).await == TargetStatus::Unknown
    })
    .await;
    assert_eq!(fake.publishes(), 1);
    assert_eq!(store.post(tenant, post).await.unwrap().status, PostStatus::Publishing);
    let sent = notifier.sent.lock().unwrap().clone();
    let ask = sent.iter().find(|m| m.chat_id == AUTHOR_CHAT).expect("the team is asked");
    let packed = pack_uuid(t.as_uuid());
    let data: Vec<_> = ask.buttons.iter().flatten().filter_map(|b| b.callback_data.clone()).collect();
    assert_eq!(data, vec![format!("tp:{packed}"), format!("tr:{packed}"), format!("ts:{packed}")]);

    // "It's published" settles the target and the post.
    assert!(store.confirm_target_by_hand(tenant, t).await.unwrap());
    assert_eq!(store.post(tenant, post).await.unwrap().status, PostStatus::Published);
});

store_test!(a_crash_after_publishing_was_committed_asks_the_platform_instead_of_posting_again, |store| {
    let tenant = workspace(&store).await;
    let ig = account(&store, tenant, Platform::Instagram, "ig-1").await;
    let (_, targets) = scheduled_post(&store, tenant, &[ig], now_ms() + 60_000).await;
    let t = targets[0].id;
    // The earlier attempt moved the target to publishing and recorded the container id, then died.
    begin(&store, tenant, t).await;
    store.record_platform_ref(tenant, t, "container-9").await.unwrap();
    sqlx::query("UPDATE jobs SET run_at = $1 WHERE unique_key = $2")
        .bind(now_ms())
        .bind(format!("publish:{t}"))
        .execute(store.sql_for_tests())
        .await
        .unwrap();
    let fake = ScriptedPublisher::new();
    fake.then_check(Ok(CheckOutcome::Published { platform_post_id: "media-1".into(), permalink: None }));
    run_until(&store, publishers(&[(Platform::Instagram, fake.clone())]), || async {
        target_status(&store, tenant, t).await == TargetStatus::Published
    })
    .await;
    assert_eq!(fake.publishes(), 0, "never re-sent");
    assert_eq!(fake.check_calls.lock().unwrap().clone(), vec!["container-9".to_string()]);
    assert_eq!(store.target(tenant, t).await.unwrap().platform_post_id.as_deref(), Some("media-1"));
});

store_test!(a_crash_without_a_reference_marks_the_target_unknown, |store| {
    let tenant = workspace(&store).await;
    let fb = account(&store, tenant, Platform::Facebook, "page-1").await;
    let (post, targets) = scheduled_post(&store, tenant, &[fb], now_ms()).await;
    let t = targets[0].id;
    assert!(matches!(begin(&store, tenant, t).await, BeginPublish::Started(_)));
    // Target and post moved together (one statement on PostgreSQL, two on SQLite).
    assert_eq!(target_status(&store, tenant, t).await, TargetStatus::Publishing);
    assert_eq!(store.post(tenant, post).await.unwrap().status, PostStatus::Publishing);
    assert!(matches!(begin(&store, tenant, t).await, BeginPublish::InFlight(_)));
    let fake = ScriptedPublisher::new();
    run_until(&store, publishers(&[(Platform::Facebook, fake.clone())]), || async {
        target_status(&store, tenant, t).await == TargetStatus::Unknown
    })
    .await;
    assert_eq!(fake.publishes(), 0);
});

store_test!(a_processing_post_is_checked_later_until_the_platform_says_published, |store| {
    let tenant = workspace(&store).await;
    let tt = account(&store, tenant, Platform::TikTok, "open-1").await;
    let (_, targets) = scheduled_post(&store, tenant, &[tt], now_ms()).await;
    let t = targets[0].id;
    let fake = ScriptedPublisher::new();
    fake.then_publish(Scripted::RecordThen(
        "publish-77".into(),
        Box::new(Scripted::Ok(PublishOutcome::Pending { platform_ref: "publish-77".into() })),
    ));
    let notifier = Arc::new(RecordingNotifier::default());
    let d = deps(publishers(&[(Platform::TikTok, fake.clone())]), notifier);
    let (stop, handle) = spawn_runner(&store, handlers(&d), quick_config("p"));
    wait_for("the check job", Duration::from_secs(5), || async {
        !jobs_of(&store, tenant, "publish.check").await.is_empty()
    })
    .await;
    assert_eq!(target_status(&store, tenant, t).await, TargetStatus::Publishing);
    assert_eq!(store.target(tenant, t).await.unwrap().platform_ref.as_deref(), Some("publish-77"));
    // Make the check due now instead of in 30 s.
    sqlx::query("UPDATE jobs SET run_at = $1 WHERE kind = 'publish.check'")
        .bind(now_ms())
        .execute(store.sql_for_tests())
        .await
        .unwrap();
    fake.then_check(Ok(CheckOutcome::Published { platform_post_id: "v-1".into(), permalink: None }));
    store.notify_jobs_changed();
    wait_for("published", Duration::from_secs(5), || async {
        target_status(&store, tenant, t).await == TargetStatus::Published
    })
    .await;
    stop.cancel();
    handle.await.unwrap().unwrap();
    assert_eq!(fake.publishes(), 1);
});

store_test!(a_platform_without_a_publisher_fails_with_a_clear_message, |store| {
    let tenant = workspace(&store).await;
    let tt = account(&store, tenant, Platform::TikTok, "open-1").await;
    let (post, targets) = scheduled_post(&store, tenant, &[tt], now_ms()).await;
    let t = targets[0].id;
    run_until(&store, Publishers::new(), || async { target_status(&store, tenant, t).await == TargetStatus::Failed })
        .await;
    let target = store.target(tenant, t).await.unwrap();
    assert_eq!(target.error_message.as_deref(), Some("publishing to tiktok is not configured"));
    assert_eq!(store.post(tenant, post).await.unwrap().status, PostStatus::Failed);
});

store_test!(an_invalid_token_fails_the_target_and_marks_the_account_for_reconnection, |store| {
    let tenant = workspace(&store).await;
    let fb = account(&store, tenant, Platform::Facebook, "page-1").await;
    let (_, targets) = scheduled_post(&store, tenant, &[fb], now_ms()).await;
    let t = targets[0].id;
    let fake = ScriptedPublisher::new();
    fake.then_publish(Scripted::Err(PublishError::new(
        ErrorClass::NeedsReconnect,
        Some("190".into()),
        "token invalid",
    )));
    let notifier = run_until(&store, publishers(&[(Platform::Facebook, fake.clone())]), || async {
        store.account(tenant, fb).await.unwrap().status == AccountStatus::NeedsReconnect
    })
    .await;
    assert_eq!(target_status(&store, tenant, t).await, TargetStatus::Failed);
    let sent = notifier.sent.lock().unwrap().clone();
    assert!(sent.iter().any(|m| m.chat_id == ADMIN_TG && m.text_html.contains("/accounts")), "{sent:?}");
});

store_test!(retrying_an_unknown_target_publishes_it_again, |store| {
    let tenant = workspace(&store).await;
    let fb = account(&store, tenant, Platform::Facebook, "page-1").await;
    let (post, targets) = scheduled_post(&store, tenant, &[fb], now_ms()).await;
    let t = targets[0].id;
    let fake = ScriptedPublisher::new();
    fake.then_publish(Scripted::Err(PublishError::new(ErrorClass::OutcomeUnknown, None, "timeout")));
    run_until(&store, publishers(&[(Platform::Facebook, fake.clone())]), || async {
        target_status(&store, tenant, t).await == TargetStatus::Unknown
    })
    .await;
    assert!(store.retry_target(tenant, t, &[TargetStatus::Unknown, TargetStatus::Failed], None, true).await.unwrap());
    run_until(&store, publishers(&[(Platform::Facebook, fake.clone())]), || async {
        target_status(&store, tenant, t).await == TargetStatus::Published
    })
    .await;
    assert_eq!(fake.publishes(), 2);
    assert_eq!(store.post(tenant, post).await.unwrap().status, PostStatus::Published);
});
