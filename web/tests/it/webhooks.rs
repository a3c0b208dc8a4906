//! Incoming webhooks: signatures (good, one byte changed, missing, stale, replayed), storage before the 200,
//! processing by the job, and Telegram webhook-mode updates surviving a crash.

use crate::common;

use common::*;
use tochen_domain::{AccountStatus, AuthKind, JobState, Platform};
use tochen_domain::{SecretBox, SecretString};
use tochen_platforms::webhook_events::process_event;
use tochen_store::NewAccount;
use tochen_store::Store;
use tochen_testkit::fake_graph::sign_meta_webhook;
use tochen_testkit::fake_tiktok::sign_tiktok_webhook;

fn now() -> i64 {
    chrono::Utc::now().timestamp()
}

async fn events(w: &Web) -> i64 {
    w.count("SELECT COUNT(*) FROM webhook_events").await
}

async fn connect(
    store: &Store,
    tenant: tochen_domain::TenantId,
    platform: Platform,
    kind: AuthKind,
    ext: &str,
) -> tochen_store::Account {
    let new = NewAccount {
        platform,
        auth_kind: kind,
        external_id: ext.into(),
        name: format!("acct {ext}"),
        access_token: SecretString::new("tok"),
        refresh_token: None,
        scopes: vec![],
        token_expires_at: None,
        refresh_expires_at: None,
        connected_by: None,
    };
    store.upsert_account(tenant, &new).await.unwrap()
}

tochen_testkit::store_test!(meta_webhooks_are_verified_stored_once_and_processed, |store, db| {
    let w = web(&db).await;
    let (tenant, _) = workspace(&store).await;
    connect(&store, tenant, Platform::Facebook, AuthKind::FacebookPage, "111").await;

    let (s, _, body) =
        w.get("/webhooks/meta?hub.mode=subscribe&hub.challenge=1158201444&hub.verify_token=verify-me").await;
    assert_eq!((s, body.as_str()), (200, "1158201444"));
    assert_eq!(w.get("/webhooks/meta?hub.mode=subscribe&hub.challenge=1&hub.verify_token=wrong").await.0, 403);

    let body = br#"{"object":"page","entry":[{"id":"111","time":1790000000,"changes":[{"field":"feed","value":{"item":"comment","verb":"add","comment_id":"c1","post_id":"111_9","from":{"id":"55","name":"Jo\u00e3o"},"message":"Caf\u00e9 <3","created_time":1790000000}},{"field":"feed","value":{"item":"reaction","verb":"add","reaction_type":"love","post_id":"111_9","from":{"id":"56","name":"Bea"}}}]}]}"#;
    let sig = sign_meta_webhook(META_SECRET, body);
    let mut changed = body.to_vec();
    changed[40] ^= 0x01;
    assert_eq!(w.post("/webhooks/meta", &[("x-hub-signature-256", &sig)], &changed).await, 403, "one byte changed");
    assert_eq!(w.post("/webhooks/meta", &[], body).await, 401, "missing signature");
    let wrong = sign_meta_webhook("not-the-secret", body);
    assert_eq!(w.post("/webhooks/meta", &[("x-hub-signature-256", &wrong)], body).await, 403);
    let junk = b"{not json";
    assert_eq!(
        w.post("/webhooks/meta", &[("x-hub-signature-256", &sign_meta_webhook(META_SECRET, junk))], junk).await,
        400
    );
    let big = vec![b' '; 70_000];
    assert_eq!(
        w.post("/webhooks/meta", &[("x-hub-signature-256", &sign_meta_webhook(META_SECRET, &big))], &big).await,
        413
    );
    assert_eq!(events(&w).await, 0, "refused deliveries store nothing");

    assert_eq!(w.post("/webhooks/meta", &[("x-hub-signature-256", &sig)], body).await, 200);
    assert_eq!(w.post("/webhooks/meta", &[("x-hub-signature-256", &sig)], body).await, 200, "a replay is acknowledged");
    let ig_signed = sign_meta_webhook("ig-secret", body);
    assert_eq!(
        w.post("/webhooks/meta", &[("x-hub-signature-256", &ig_signed)], body).await,
        200,
        "Instagram Login app secret"
    );
    assert_eq!(events(&w).await, 1, "and deduplicated");
    let jobs = w.count("SELECT COUNT(*) FROM jobs WHERE kind = 'webhook.event'").await;
    assert_eq!(jobs, 1);

    let (id,): (String,) =
        sqlx::query_as("SELECT id FROM webhook_events").fetch_one(store.sql_for_tests()).await.unwrap();
    let done = process_event(&store, &id).await.unwrap();
    assert_eq!(done.notifications, 2);
    let notes = store.tenant_jobs(tenant, JobState::Queued, 10).await.unwrap();
    let texts: Vec<String> = notes
        .iter()
        .filter(|j| j.kind == "notify")
        .map(|j| j.payload["text_html"].as_str().unwrap().to_string())
        .collect();
    assert!(texts.iter().any(|t| t.contains("João") && t.contains("Café &lt;3")), "{texts:?}");
    assert!(notes.iter().all(|j| j.kind != "notify" || j.payload["chat_id"] == -100777));

    // With reaction alerts off, the same kind of delivery only brings the comment.
    use tochen_store::EngagementAlerts;
    store.set_engagement_alerts(tenant, EngagementAlerts { comments: true, reactions: false }).await.unwrap();
    let again = String::from_utf8(body.to_vec()).unwrap().replace("c1", "c2");
    let sig = sign_meta_webhook(META_SECRET, again.as_bytes());
    assert_eq!(w.post("/webhooks/meta", &[("x-hub-signature-256", &sig)], again.as_bytes()).await, 200);
    let (id,): (String,) = sqlx::query_as("SELECT id FROM webhook_events WHERE status = 'received'")
        .fetch_one(store.sql_for_tests())
        .await
        .unwrap();
    assert_eq!(process_event(&store, &id).await.unwrap().notifications, 1);
    db.store.close().await;
});

tochen_testkit::store_test!(tiktok_webhooks_check_signature_and_age_and_update_state, |store, db| {
    let w = web(&db).await;
    let (tenant, _) = workspace(&store).await;
    let account = connect(&store, tenant, Platform::TikTok, AuthKind::TikTok, "open-1").await;

    let removed = br#"{"client_key":"tt-key","event":"authorization.removed","create_time":1790000000,"user_openid":"open-1","content":"{\"reason\":1}"}"#;
    let good = sign_tiktok_webhook(TIKTOK_SECRET, now(), removed);
    let stale = sign_tiktok_webhook(TIKTOK_SECRET, now() - 600, removed);
    let mut changed = removed.to_vec();
    changed[5] ^= 0x01;
    assert_eq!(w.post("/webhooks/tiktok", &[("tiktok-signature", &stale)], removed).await, 401, "stale");
    assert_eq!(w.post("/webhooks/tiktok", &[("tiktok-signature", &good)], &changed).await, 403, "one byte changed");
    assert_eq!(w.post("/webhooks/tiktok", &[], removed).await, 401, "missing");
    assert_eq!(events(&w).await, 0);
    assert_eq!(w.post("/webhooks/tiktok", &[("tiktok-signature", &good)], removed).await, 200);
    let later = sign_tiktok_webhook(TIKTOK_SECRET, now() + 1, removed);
    assert_eq!(w.post("/webhooks/tiktok", &[("tiktok-signature", &later)], removed).await, 200, "replayed");
    assert_eq!(events(&w).await, 1);

    let (id,): (String,) =
        sqlx::query_as("SELECT id FROM webhook_events").fetch_one(store.sql_for_tests()).await.unwrap();
    let done = process_event(&store, &id).await.unwrap();
    assert_eq!((done.accounts_marked, done.notifications), (1, 1));
    assert_eq!(store.account(tenant, account.id).await.unwrap().status, AccountStatus::NeedsReconnect);
    let admin_note = store
        .tenant_jobs(tenant, JobState::Queued, 10)
        .await
        .unwrap()
        .into_iter()
        .find(|j| j.kind == "notify")
        .unwrap();
    assert_eq!(admin_note.payload["chat_id"], 4242);

    // A publish event moves the target that holds the publish_id.
    let now_ms = tochen_domain::clock::now_ms();
    let (post, target) = (uuid::Uuid::now_v7().to_string(), uuid::Uuid::now_v7().to_string());
    sqlx::query(
        "INSERT INTO posts (id, tenant_id, status, created_at, updated_at) VALUES ($1, $2, 'publishing', $3, $3)",
    )
    .bind(&post)
    .bind(tenant.to_db())
    .bind(now_ms)
    .execute(store.sql_for_tests())
    .await
    .unwrap();
    sqlx::query("INSERT INTO post_targets (id, tenant_id, post_id, account_id, platform, status, platform_ref, created_at, updated_at) \
                 VALUES ($1, $2, $3, $4, 'tiktok', 'publishing', 'v_pub_file~v2-1.77', $5, $5)")
        .bind(&target).bind(tenant.to_db()).bind(&post).bind(account.id.to_db()).bind(now_ms).execute(store.sql_for_tests()).await.unwrap();
    store.set_account_status(tenant, account.id, AccountStatus::Active, None).await.unwrap();
    let complete = br#"{"client_key":"tt-key","event":"post.publish.publicly_available","create_time":1790000001,"user_openid":"open-1","content":"{\"publish_id\":\"v_pub_file~v2-1.77\",\"post_id\":\"7301\",\"publish_type\":\"DIRECT_PUBLISH\"}"}"#;
    assert_eq!(
        w.post(
            "/webhooks/tiktok",
            &[("tiktok-signature", &sign_tiktok_webhook(TIKTOK_SECRET, now(), complete))],
            complete
        )
        .await,
        200
    );
    let (id,): (String,) = sqlx::query_as("SELECT id FROM webhook_events WHERE status = 'received'")
        .fetch_one(store.sql_for_tests())
        .await
        .unwrap();
    assert_eq!(process_event(&store, &id).await.unwrap().targets_updated, 1);
    let (status, post_id): (String, Option<String>) =
        sqlx::query_as("SELECT status, platform_post_id FROM post_targets WHERE id = $1")
            .bind(&target)
            .fetch_one(store.sql_for_tests())
            .await
            .unwrap();
    assert_eq!((status.as_str(), post_id.as_deref()), ("published", Some("7301")));
    db.store.close().await;
});

tochen_testkit::store_test!(telegram_updates_are_persisted_before_the_ack_and_survive_a_crash, |store, db| {
    let w = web(&db).await;
    let update = br#"{"update_id":900001,"message":{"message_id":1,"from":{"id":4242,"is_bot":false,"first_name":"Ana"},"chat":{"id":4242,"type":"private"},"date":1790000000,"text":"/start"}}"#;
    assert_eq!(w.post("/telegram/webhook", &[], update).await, 401);
    assert_eq!(w.post("/telegram/webhook", &[("x-telegram-bot-api-secret-token", "wrong")], update).await, 401);
    assert_eq!(events(&w).await, 0);
    let secret = [("x-telegram-bot-api-secret-token", TELEGRAM_SECRET)];
    assert_eq!(w.post("/telegram/webhook", &secret, update).await, 200);
    assert_eq!(w.post("/telegram/webhook", &secret, update).await, 200, "Telegram's retry is deduplicated");
    assert_eq!(w.post("/telegram/webhook", &secret, b"{\"no_update_id\":1}").await, 400);

    // Crash: the process dies right after the 200. A new process on the same database finds the update.
    let url = db.url.clone();
    drop(w);
    store.close().await;
    let secrets = SecretBox::from_keys(&[SecretString::new(db.key.clone())]).unwrap();
    let reopened = Store::connect(&url, 2, secrets).await.unwrap();
    let (n,): (i64,) =
        sqlx::query_as("SELECT COUNT(*) FROM webhook_events WHERE source = 'telegram' AND event_key = '900001'")
            .fetch_one(reopened.sql_for_tests())
            .await
            .unwrap();
    assert_eq!(n, 1);
    let (jobs,): (i64,) =
        sqlx::query_as("SELECT COUNT(*) FROM jobs").fetch_one(reopened.sql_for_tests()).await.unwrap();
    assert_eq!(jobs, 1, "one job for the update, none for the duplicate");
    // The bot's runner claims its job, keyed by the chat, and finds the body as Telegram sent it.
    let kinds = vec![tochen_domain::jobs::TELEGRAM_UPDATE.to_string()];
    let req = tochen_store::ClaimRequest { owner: "bot", limit: 10, lease_ms: 60_000, per_key: 1, kinds: &kinds };
    let claimed = reopened.claim_jobs(&req).await.unwrap();
    assert_eq!(claimed.len(), 1);
    assert_eq!(claimed[0].payload["update_id"], 900001);
    assert_eq!(claimed[0].concurrency_key.as_deref(), Some("telegram_update:chat:4242"));
    let event = claimed[0].payload["event_id"].as_str().unwrap();
    let stored = reopened.telegram_update(event).await.unwrap().unwrap();
    assert_eq!((stored.update_id, stored.payload.as_bytes()), (900001, &update[..]));
    reopened.close().await;
});
