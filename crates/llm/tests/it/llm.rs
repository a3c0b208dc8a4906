//! The LLM client against the fake OpenAI-compatible server: retries, what is never retried, usage records with
//! cost, the quota, and images stored at once (base64 and URL).

use std::time::{Duration, Instant};
use tochen_config::{LlmConfig, LlmModels, LlmProvider};
use tochen_domain::UserId;
use tochen_llm::{CallContext, LlmClient, LlmError};
use tochen_store::Store;
use tochen_store::TenantProfile;
use tochen_testkit::fake_llm::{FakeLlm, Reply, TINY_PNG};
use tochen_testkit::store_test;

pub(crate) fn config(base: &str) -> LlmConfig {
    let m = "gpt-4o-mini".to_owned();
    LlmConfig {
        provider: LlmProvider::OpenAiCompatible,
        api_key: Some(tochen_domain::SecretString::new("sk-test")),
        base_url: base.parse().unwrap(),
        models: LlmModels {
            ideas: m.clone(),
            post: m.clone(),
            hashtags: m.clone(),
            rewrite: m,
            image: "gpt-image-1".into(),
        },
        timeout: Duration::from_secs(5),
        price_table: None,
        default_monthly_token_quota: 0,
        batch_concurrency: 5,
        batch_global_concurrency: 20,
    }
}

pub(crate) fn profile() -> TenantProfile {
    TenantProfile {
        business_description: "coffee".into(),
        target_audience: "locals".into(),
        tone: "friendly".into(),
        language: "en".into(),
        timezone: "Europe/Lisbon".into(),
    }
}

async fn setup(store: &Store) -> (FakeLlm, LlmClient, CallContext, tempfile::TempDir) {
    let who = tochen_store::TelegramIdentity {
        telegram_id: 5,
        username: None,
        first_name: "A".into(),
        last_name: None,
        language_code: None,
    };
    let user = store.upsert_user(&who).await.unwrap();
    let tenant = store.create_tenant("T", &profile(), 0, user.id).await.unwrap();
    let fake = FakeLlm::start().await;
    let dir = tempfile::tempdir().unwrap();
    let client = LlmClient::new(config(&fake.base_url), store.clone(), dir.path().to_owned())
        .unwrap()
        .with_backoff(Duration::from_millis(5));
    (fake, client, CallContext { tenant: tenant.id, user: Some(UserId::from_uuid(user.id.as_uuid())) }, dir)
}

store_test!(rate_limits_are_retried_after_the_header_and_5xx_with_backoff, |store| {
    let (fake, client, ctx, _dir) = setup(&store).await;
    fake.push(Reply::RateLimited { retry_after_secs: 1 });
    fake.push(Reply::ServerError);
    let started = Instant::now();
    let ideas = client.ideas(ctx, "T", &profile(), "autumn", 3, &[]).await.unwrap();
    assert_eq!(ideas.len(), 3);
    assert!(started.elapsed() >= Duration::from_millis(900), "retry-after of 1 s was honoured");
    assert_eq!(fake.requests().len(), 3);
    let req = &fake.requests()[2];
    assert_eq!(req["response_format"]["type"], "json_schema", "structured output is asked for");
    let usage = store.llm_usage_since(ctx.tenant, 0).await.unwrap();
    assert_eq!((usage.calls, usage.failed_calls, usage.tokens), (3, 2, 150));
    // 100 prompt tokens x 0.15 + 50 completion tokens x 0.60 micro-dollars.
    assert_eq!(usage.cost_micros, 45);
});

store_test!(insufficient_quota_is_not_retried_and_truncation_is_retried_once, |store| {
    let (fake, client, ctx, _dir) = setup(&store).await;
    fake.push(Reply::InsufficientQuota);
    let err = client.ideas(ctx, "T", &profile(), "", 3, &[]).await.unwrap_err();
    assert!(matches!(err, LlmError::ProviderQuota), "{err}");
    assert_eq!(fake.requests().len(), 1);
    fake.push(Reply::Truncated);
    fake.push(Reply::Truncated);
    assert!(matches!(client.ideas(ctx, "T", &profile(), "", 3, &[]).await, Err(LlmError::Truncated)));
    fake.push(Reply::Truncated);
    assert_eq!(client.ideas(ctx, "T", &profile(), "", 3, &[]).await.unwrap().len(), 3, "one retry recovers");
    fake.push(Reply::Json(serde_json::json!({"wrong": "shape"})));
    fake.push(Reply::Json(serde_json::json!({"ideas": []})));
    assert!(matches!(client.ideas(ctx, "T", &profile(), "", 3, &[]).await, Err(LlmError::Malformed(_))));
});

store_test!(the_quota_is_checked_before_calling, |store| {
    let (fake, client, ctx, _dir) = setup(&store).await;
    client.ideas(ctx, "T", &profile(), "", 3, &[]).await.unwrap();
    store.set_workspace_quota(ctx.tenant, 150, "test").await.unwrap();
    let err = client.ideas(ctx, "T", &profile(), "", 3, &[]).await.unwrap_err();
    assert!(matches!(err, LlmError::QuotaExhausted { used: 150, quota: 150 }), "{err}");
    assert_eq!(fake.requests().len(), 1);
});

store_test!(images_are_stored_at_once_from_base64_or_url, |store| {
    let (fake, client, ctx, dir) = setup(&store).await;
    let media = client.image(ctx, "a cup").await.unwrap();
    assert_eq!(std::fs::read(dir.path().join(&media.info.storage_path)).unwrap(), TINY_PNG);
    fake.images_as_url(true);
    let media = client.image(ctx, "a cup").await.unwrap();
    assert_eq!(media.info.size_bytes, TINY_PNG.len() as i64);
    assert_eq!(store.media(ctx.tenant, media.id).await.unwrap().info.source, "generated");
    let usage = store.llm_usage_since(ctx.tenant, 0).await.unwrap();
    assert_eq!(usage.images, 2);
    assert_eq!(usage.cost_micros, 84_000);
});
