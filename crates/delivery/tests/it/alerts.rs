//! Alert rules against real stores: announced once, quiet while persisting, resolved when cleared, and held back
//! by the cooldown when flapping. Time is passed in explicitly, so nothing here waits or depends on speed.

use tochen_delivery::alerts::rules::message;
use tochen_delivery::alerts::{evaluate, AlertConfig, AlertRule};
use tochen_delivery::sources::Sources;
use tochen_domain::clock::now_ms;
use tochen_domain::{AccountStatus, AuthKind, Platform};
use tochen_domain::{SecretString, TenantId};
use tochen_store::Store;
use tochen_store::{LlmUsageRecord, NewAccount, TelegramIdentity, TenantProfile};
use tochen_testkit::store_test;

const MIN: i64 = 60_000;

async fn workspace(store: &Store) -> TenantId {
    let who = TelegramIdentity {
        telegram_id: 9,
        username: None,
        first_name: "Anna".into(),
        last_name: None,
        language_code: None,
    };
    let admin = store.upsert_user(&who).await.unwrap();
    store.create_tenant("Bloom", &TenantProfile::default(), 1000, admin.id).await.unwrap().id
}

fn only(rule: AlertRule) -> AlertConfig {
    AlertConfig { rules: vec![rule], cooldown_minutes: 60, ..Default::default() }
}

async fn beat(store: &Store, at: i64) {
    sqlx::query(
        "INSERT INTO scheduler_heartbeats (instance_id, started_at, beat_at, version) VALUES ('s1', $1, $1, 'test') \
         ON CONFLICT (instance_id) DO UPDATE SET beat_at = excluded.beat_at",
    )
    .bind(at)
    .execute(store.sql_for_tests())
    .await
    .unwrap();
}

fn fb_page(token_expires_at: Option<i64>) -> NewAccount {
    NewAccount {
        platform: Platform::Facebook,
        auth_kind: AuthKind::FacebookPage,
        external_id: "page-1".into(),
        name: "Bloom <Coffee>".into(),
        access_token: SecretString::new("t"),
        refresh_token: None,
        scopes: vec![],
        token_expires_at,
        refresh_expires_at: None,
        connected_by: None,
    }
}

store_test!(a_stale_scheduler_alert_respects_the_cooldown_and_resolves, |store| {
    let tenant = workspace(&store).await;
    let config = only(AlertRule::SchedulerStale);
    let b = 1_800_000_000_000;
    beat(&store, b).await;
    assert!(
        evaluate(&store, tenant, &config, Sources::Real, b + 5 * MIN).await.unwrap().is_empty(),
        "fresh beat: nothing"
    );

    let fired = evaluate(&store, tenant, &config, Sources::Real, b + 20 * MIN).await.unwrap();
    assert_eq!(fired.len(), 1);
    assert!(!fired[0].resolved);
    assert_eq!(fired[0].event_type(), "alert.triggered");
    assert!(message(&fired[0], "en", chrono_tz::UTC).contains("20 minutes"));
    assert!(
        evaluate(&store, tenant, &config, Sources::Real, b + 30 * MIN).await.unwrap().is_empty(),
        "not repeated while it persists"
    );

    beat(&store, b + 35 * MIN).await;
    let resolved = evaluate(&store, tenant, &config, Sources::Real, b + 36 * MIN).await.unwrap();
    assert_eq!(resolved.len(), 1);
    assert!(resolved[0].resolved);
    assert_eq!(resolved[0].event_type(), "alert.resolved");
    assert!(
        evaluate(&store, tenant, &config, Sources::Real, b + 37 * MIN).await.unwrap().is_empty(),
        "resolved only once"
    );

    // Stale again 30 minutes after the last announcement: the 60-minute cooldown holds it back...
    assert!(evaluate(&store, tenant, &config, Sources::Real, b + 50 * MIN).await.unwrap().is_empty());
    // ...until the cooldown is over, when the still-firing alert is announced.
    let again = evaluate(&store, tenant, &config, Sources::Real, b + 81 * MIN).await.unwrap();
    assert_eq!((again.len(), again[0].resolved), (1, false));
    assert!(evaluate(&store, tenant, &config, Sources::Real, b + 90 * MIN).await.unwrap().is_empty());
});

store_test!(an_account_alert_fires_on_reconnect_or_expiry_and_resolves_after_reconnecting, |store| {
    let tenant = workspace(&store).await;
    let config = AlertConfig { token_expiry_days: 7, ..only(AlertRule::AccountReconnect) };
    let now = now_ms();
    let account = store.upsert_account(tenant, &fb_page(Some(now + 30 * 24 * 60 * MIN))).await.unwrap();
    assert!(evaluate(&store, tenant, &config, Sources::Real, now).await.unwrap().is_empty());

    store.set_account_status(tenant, account.id, AccountStatus::NeedsReconnect, Some("token revoked")).await.unwrap();
    let fired = evaluate(&store, tenant, &config, Sources::Real, now + MIN).await.unwrap();
    assert_eq!(fired.len(), 1);
    let text = message(&fired[0], "en", chrono_tz::UTC);
    assert!(text.contains("Bloom &lt;Coffee&gt;") && text.contains("reconnecting"), "{text}");
    assert!(evaluate(&store, tenant, &config, Sources::Real, now + 2 * MIN).await.unwrap().is_empty());

    store.upsert_account(tenant, &fb_page(Some(now + 60 * 24 * 60 * MIN))).await.unwrap();
    let resolved = evaluate(&store, tenant, &config, Sources::Real, now + 3 * MIN).await.unwrap();
    assert_eq!((resolved.len(), resolved[0].resolved), (1, true));
    assert!(message(&resolved[0], "de", chrono_tz::UTC).contains("wieder verbunden"));

    // A token expiring within 7 days fires as well, after the cooldown.
    store.upsert_account(tenant, &fb_page(Some(now + 2 * 24 * 60 * MIN))).await.unwrap();
    let expiring = evaluate(&store, tenant, &config, Sources::Real, now + 120 * MIN).await.unwrap();
    assert_eq!(expiring.len(), 1);
    assert!(message(&expiring[0], "en", chrono_tz::UTC).contains("expires on"));
});

store_test!(llm_quota_and_failed_publish_alerts_fire_and_clear, |store| {
    let tenant = workspace(&store).await;
    let usage = LlmUsageRecord {
        user_id: None,
        provider: "openai".into(),
        model: "m".into(),
        request_type: "post".into(),
        prompt_tokens: 850,
        completion_tokens: 0,
        images: 0,
        cost_micros: 0,
        latency_ms: 1,
        error: None,
    };
    store.record_llm_usage(tenant, &usage).await.unwrap();
    let now = now_ms() + MIN;
    let fired = evaluate(&store, tenant, &only(AlertRule::LlmQuota), Sources::Real, now).await.unwrap();
    assert_eq!(fired.len(), 1);
    assert!(message(&fired[0], "en", chrono_tz::UTC).contains("85%"));
    store.set_workspace_quota(tenant, 10_000, "test").await.unwrap();
    let cleared = evaluate(&store, tenant, &only(AlertRule::LlmQuota), Sources::Real, now + MIN).await.unwrap();
    assert_eq!((cleared.len(), cleared[0].resolved), (1, true));

    let account = store.upsert_account(tenant, &fb_page(None)).await.unwrap();
    let (post, target) = (uuid::Uuid::now_v7().to_string(), uuid::Uuid::now_v7().to_string());
    sqlx::query("INSERT INTO posts (id, tenant_id, title, status, created_at, updated_at) VALUES ($1, $2, 'Brunch', 'failed', $3, $3)")
        .bind(&post).bind(tenant.to_db()).bind(now).execute(store.sql_for_tests()).await.unwrap();
    sqlx::query(
        "INSERT INTO post_targets (id, tenant_id, post_id, account_id, platform, status, error_message, created_at, \
         updated_at) VALUES ($1, $2, $3, $4, 'facebook', 'unknown', 'timeout', $5, $5)",
    )
    .bind(&target)
    .bind(tenant.to_db())
    .bind(&post)
    .bind(account.id.to_db())
    .bind(now)
    .execute(store.sql_for_tests())
    .await
    .unwrap();
    let config = only(AlertRule::PublishFailed);
    let fired = evaluate(&store, tenant, &config, Sources::Real, now + 2 * MIN).await.unwrap();
    assert_eq!((fired.len(), fired[0].subject.as_str()), (1, target.as_str()));
    assert!(message(&fired[0], "en", chrono_tz::UTC).contains("\"Brunch\" to Facebook"));
    assert!(evaluate(&store, tenant, &config, Sources::Real, now + 3 * MIN).await.unwrap().is_empty());
    sqlx::query("UPDATE post_targets SET status = 'published', updated_at = $2 WHERE id = $1")
        .bind(&target)
        .bind(now + 4 * MIN)
        .execute(store.sql_for_tests())
        .await
        .unwrap();
    let resolved = evaluate(&store, tenant, &config, Sources::Real, now + 5 * MIN).await.unwrap();
    assert_eq!((resolved.len(), resolved[0].resolved), (1, true));
    assert!(message(&resolved[0], "en", chrono_tz::UTC).contains("sorted out"));
});
