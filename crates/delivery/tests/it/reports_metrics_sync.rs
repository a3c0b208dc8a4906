//! The metrics sync stores what readers report, keeps missing values missing, and stops an account at a rate
//! limit while other accounts go on. Readers are fakes: no network.

use std::collections::HashMap;
use std::sync::{Arc, Mutex};
use std::time::Duration;
use tochen_delivery::reports::metrics_sync::{sync_all, SyncOptions};
use tochen_delivery::reports::DAY_MS;
use tochen_delivery::sources::Sources;
use tochen_domain::{AccountId, SecretString, TenantId};
use tochen_domain::{AuthKind, Platform};
use tochen_platforms::publish::{ErrorClass, PublishError};
use tochen_platforms::{AccountMetrics, MetricsAccount, MetricsReader, PostMetrics};
use tochen_store::Store;
use tochen_store::{NewAccount, TelegramIdentity, TenantProfile};
use tochen_testkit::store_test;

/// Instagram-like: followers known, views still missing (insights lag); rate-limits after `budget` post reads.
struct FakeReader {
    budget: Mutex<usize>,
    calls: Mutex<Vec<String>>,
}

#[async_trait::async_trait]
impl MetricsReader for FakeReader {
    async fn post_metrics(&self, a: &MetricsAccount, post: &str) -> Result<PostMetrics, PublishError> {
        self.calls.lock().unwrap().push(format!("{}:{post}", a.external_id));
        let mut budget = self.budget.lock().unwrap();
        if *budget == 0 {
            let class = ErrorClass::Retryable { retry_after: Some(Duration::from_secs(600)) };
            return Err(PublishError::new(class, Some("4".into()), "application request limit reached"));
        }
        *budget -= 1;
        Ok(PostMetrics {
            views: None,
            likes: Some(7),
            comments: Some(1),
            raw: serde_json::json!({"post": post}),
            ..Default::default()
        })
    }

    async fn account_metrics(&self, a: &MetricsAccount) -> Result<AccountMetrics, PublishError> {
        assert_eq!(a.access_token.expose(), "token-of-".to_owned() + &a.external_id, "the decrypted token is used");
        Ok(AccountMetrics { followers: Some(1200), raw: serde_json::json!({}) })
    }
}

async fn account(store: &Store, tenant: TenantId, external: &str) -> AccountId {
    let new = NewAccount {
        platform: Platform::Instagram,
        auth_kind: AuthKind::InstagramLogin,
        external_id: external.into(),
        name: external.into(),
        access_token: SecretString::new(format!("token-of-{external}")),
        refresh_token: None,
        scopes: vec![],
        token_expires_at: None,
        refresh_expires_at: None,
        connected_by: None,
    };
    store.upsert_account(tenant, &new).await.unwrap().id
}

async fn published(store: &Store, tenant: TenantId, account: AccountId, media: &str, at: i64) {
    let post = uuid::Uuid::now_v7().to_string();
    sqlx::query("INSERT INTO posts (id, tenant_id, title, status, created_at, updated_at) VALUES ($1, $2, 'p', 'published', $3, $3)")
        .bind(&post).bind(tenant.to_db()).bind(at).execute(store.sql_for_tests()).await.unwrap();
    sqlx::query(
        "INSERT INTO post_targets (id, tenant_id, post_id, account_id, platform, status, platform_post_id, published_at, \
         created_at, updated_at) VALUES ($1, $2, $3, $4, 'instagram', 'published', $5, $6, $6, $6)",
    )
    .bind(uuid::Uuid::now_v7().to_string()).bind(tenant.to_db()).bind(&post).bind(account.to_db()).bind(media).bind(at)
    .execute(store.sql_for_tests()).await.unwrap();
}

store_test!(metrics_sync_stores_snapshots_keeps_missing_values_and_stops_at_rate_limits, |store| {
    let who = TelegramIdentity {
        telegram_id: 3,
        username: None,
        first_name: "A".into(),
        last_name: None,
        language_code: None,
    };
    let admin = store.upsert_user(&who).await.unwrap();
    let tenant = store.create_tenant("Bloom", &TenantProfile::default(), 0, admin.id).await.unwrap().id;
    let now = 1_800_000_000_000;
    let a = account(&store, tenant, "alpha").await;
    let b = account(&store, tenant, "beta").await;
    published(&store, tenant, a, "a-new", now - DAY_MS).await;
    published(&store, tenant, a, "a-old", now - 40 * DAY_MS).await; // outside the 30-day window
    published(&store, tenant, b, "b-1", now - 2 * DAY_MS).await;
    published(&store, tenant, b, "b-2", now - 3 * DAY_MS).await;

    let reader = Arc::new(FakeReader { budget: Mutex::new(2), calls: Mutex::new(Vec::new()) });
    let readers: HashMap<AuthKind, Arc<dyn MetricsReader>> =
        HashMap::from([(AuthKind::InstagramLogin, reader.clone() as _)]);
    let report = sync_all(&store, &readers, SyncOptions::default(), Sources::Real, now).await.unwrap();

    assert_eq!(report.accounts, 2);
    assert_eq!(report.posts, 2, "alpha's post and beta's newest, then the limit");
    assert_eq!(report.stopped.len(), 1);
    assert!(report.stopped[0].contains("beta"));
    assert_eq!(report.retry_after, Some(Duration::from_secs(600)));
    assert_eq!(*reader.calls.lock().unwrap(), ["alpha:a-new", "beta:b-1", "beta:b-2"], "stopped after the limit");

    let all = store.published_targets(tenant, now - 50 * DAY_MS, now + 1).await.unwrap();
    let latest: Vec<_> = all.iter().filter(|(_, m)| *m != Default::default()).map(|(_, m)| m).collect();
    assert_eq!(latest.len(), 2);
    for m in latest {
        assert_eq!((m.views, m.likes, m.comments), (None, Some(7), Some(1)), "missing views stay missing");
    }
    let followers = store.follower_changes(tenant, now - DAY_MS, now + 1).await.unwrap();
    assert_eq!(followers.len(), 2);
    assert!(followers.iter().all(|f| f.at_end == Some(1200)));
});
