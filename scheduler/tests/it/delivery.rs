//! The delivery job handlers as the runner calls them: a post result queued as `webhook.event_out` fans out to a
//! webhook destination as `post.published`, and its `webhook.deliver` job reaches a receiver on 127.0.0.1.

use std::time::Duration;
use tochen_delivery::webhook::{WebhookSecret, WebhookSender};
use tochen_domain::jobs::WEBHOOK_DELIVER;
use tochen_domain::JobState;
use tochen_domain::{SecretString, TenantId};
use tochen_scheduler::handlers::delivery::{WebhookDeliverHandler, WebhookEventOutHandler};
use tochen_scheduler::{RunJob, WEBHOOK_EVENT_OUT};
use tochen_store::Store;
use tochen_store::{NewDestination, TelegramIdentity, TenantProfile};
use tochen_testkit::store_test;
use tochen_testkit::webhook_receiver::WebhookReceiver;

async fn workspace(store: &Store) -> TenantId {
    let who = TelegramIdentity {
        telegram_id: 77,
        username: None,
        first_name: "A".into(),
        last_name: None,
        language_code: None,
    };
    let admin = store.upsert_user(&who).await.unwrap();
    store.create_tenant("Bloom", &TenantProfile::default(), 0, admin.id).await.unwrap().id
}

store_test!(a_post_result_reaches_a_webhook_as_post_published, |store| {
    let tenant = workspace(&store).await;
    let hook = WebhookReceiver::start().await;
    let url = hook.url.clone();
    let secret = SecretString::new(WebhookSecret::generate().expose());
    store.create_destination(tenant, &NewDestination::Webhook { name: "CRM".into(), url, secret }).await.unwrap();

    let event = serde_json::json!({"tenant": tenant, "type": "post.target.published",
        "data": {"post_id": "p", "platform": "instagram", "status": "published"}});
    let job = tochen_store::NewJob::untyped(WEBHOOK_EVENT_OUT, event).tenant(tenant);
    store.enqueue(&job).await.unwrap();
    let queued = store.tenant_jobs(tenant, JobState::Queued, 10).await.unwrap();
    WebhookEventOutHandler.run(&store, &queued[0]).await.unwrap();

    let deliver = store.tenant_jobs(tenant, JobState::Queued, 10).await.unwrap();
    let deliver = deliver.iter().find(|j| j.kind == WEBHOOK_DELIVER).expect("a delivery job");
    let handler = WebhookDeliverHandler { sender: WebhookSender::new(true, Duration::from_secs(15)).unwrap() };
    handler.run(&store, deliver).await.unwrap();

    let seen = hook.received();
    assert_eq!(seen.len(), 1);
    assert!(seen[0].0.starts_with("msg_"));
    let body: serde_json::Value = serde_json::from_str(&seen[0].1).unwrap();
    assert_eq!(body["type"], "post.published");
    assert_eq!(body["data"]["platform"], "instagram");
});
