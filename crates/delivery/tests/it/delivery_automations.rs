//! A report automation delivers to a Telegram chat (a notify job with the chart file), a webhook (a logged
//! delivery of `report.generated`) and an email inbox (a real SMTP conversation with a local sink).

use tochen_config::SmtpTls;
use tochen_delivery::automations::{period_before, run_alerts, run_data_sync, run_report, DeliveryDeps};
use tochen_delivery::email::EmailSender;
use tochen_delivery::email_queue;
use tochen_delivery::reports::DAY_MS;
use tochen_delivery::sources::Sources;
use tochen_delivery::webhook::WebhookSecret;
use tochen_domain::jobs::{EMAIL_DELIVER, NOTIFY, WEBHOOK_DELIVER};
use tochen_domain::{AuthKind, JobState, MissedRunPolicy, Platform};
use tochen_domain::{SecretString, TargetId, TenantId};
use tochen_store::{Destination, Store};
use tochen_store::{
    MetricValues, NewAccount, NewAutomation, NewDestination, NewSnapshot, TelegramIdentity, TenantProfile,
};
use tochen_testkit::smtp_sink::SmtpSink;
use tochen_testkit::store_test;

/// Monday 2024-10-07 09:00 UTC: the weekly slot; the period is the 7 days before that Monday's midnight.
const SLOT: i64 = 1_728_291_600_000;

async fn seed(store: &Store) -> TenantId {
    let who = TelegramIdentity {
        telegram_id: 5,
        username: None,
        first_name: "Anna".into(),
        last_name: None,
        language_code: None,
    };
    let admin = store.upsert_user(&who).await.unwrap();
    let tenant = store.create_tenant("Bloom", &TenantProfile::default(), 0, admin.id).await.unwrap().id;
    let account = NewAccount {
        platform: Platform::Instagram,
        auth_kind: AuthKind::InstagramLogin,
        external_id: "ig".into(),
        name: "bloom".into(),
        access_token: SecretString::new("t"),
        refresh_token: None,
        scopes: vec![],
        token_expires_at: None,
        refresh_expires_at: None,
        connected_by: None,
    };
    let account = store.upsert_account(tenant, &account).await.unwrap().id;
    let (post, target) = (uuid::Uuid::now_v7().to_string(), TargetId::new());
    let at = SLOT - 3 * DAY_MS;
    sqlx::query("INSERT INTO posts (id, tenant_id, title, status, created_at, updated_at) VALUES ($1, $2, 'Roaster', 'published', $3, $3)")
        .bind(&post).bind(tenant.to_db()).bind(at).execute(store.sql_for_tests()).await.unwrap();
    sqlx::query(
        "INSERT INTO post_targets (id, tenant_id, post_id, account_id, platform, status, permalink, published_at, \
         created_at, updated_at) VALUES ($1, $2, $3, $4, 'instagram', 'published', 'https://ig.test/p/1', $5, $5, $5)",
    )
    .bind(target.to_db())
    .bind(tenant.to_db())
    .bind(&post)
    .bind(account.to_db())
    .bind(at)
    .execute(store.sql_for_tests())
    .await
    .unwrap();
    let values = MetricValues { views: Some(321), likes: Some(20), comments: Some(4), ..Default::default() };
    let snap = NewSnapshot {
        account_id: account,
        target_id: Some(target),
        platform: Platform::Instagram,
        captured_at: at + 3_600_000,
        values,
        raw: serde_json::json!({}),
    };
    store.insert_metrics_snapshot(tenant, &snap).await.unwrap();
    tenant
}

async fn automation(store: &Store, tenant: TenantId, kind: &str) -> tochen_domain::AutomationId {
    let new = NewAutomation {
        kind: kind.into(),
        name: kind.into(),
        cron: "0 9 * * 1".into(),
        timezone: "UTC".into(),
        config: serde_json::json!({}),
        missed_run_policy: MissedRunPolicy::RunOnce,
        max_consecutive_failures: 5,
        created_by: None,
    };
    store.create_automation(tenant, &new).await.unwrap().id
}

/// A Telegram chat (-1001), a webhook and an email inbox (boss@bloom.test).
async fn destinations(store: &Store, tenant: TenantId) -> (Destination, Destination, Destination) {
    let chat = store
        .create_destination(tenant, &NewDestination::Telegram { name: "Clients".into(), chat_id: -1001 })
        .await
        .unwrap();
    let secret = SecretString::new(WebhookSecret::generate().expose());
    let hook = store
        .create_destination(
            tenant,
            &NewDestination::Webhook { name: "CRM".into(), url: "https://crm.test/h".into(), secret },
        )
        .await
        .unwrap();
    let mail = store
        .create_destination(tenant, &NewDestination::Email { name: "Boss".into(), address: "boss@bloom.test".into() })
        .await
        .unwrap();
    (chat, hook, mail)
}

#[test]
fn the_period_is_the_whole_days_before_the_run() {
    let p = period_before(SLOT, 7, chrono_tz::UTC);
    assert_eq!((p.start, p.end), (SLOT - 9 * 3_600_000 - 7 * DAY_MS, SLOT - 9 * 3_600_000));
}

store_test!(a_report_reaches_telegram_webhook_and_email_destinations, |store| {
    let tenant = seed(&store).await;
    let sink = SmtpSink::start().await;
    let dir = tempfile::tempdir().unwrap();
    let deps = DeliveryDeps {
        email: Some(EmailSender::new(&format!("smtp://{}", sink.addr), "r@tochen.test", SmtpTls::None, &[]).unwrap()),
        data_dir: dir.path().to_owned(),
        sources: Sources::Real,
        run: None,
    };
    let (chat, hook, mail) = destinations(&store, tenant).await;
    let report = automation(&store, tenant, "report").await;
    store.set_automation_destinations(tenant, report, &[chat.id, hook.id, mail.id]).await.unwrap();
    assert_eq!(store.automation_destinations(tenant, report).await.unwrap().len(), 3);

    assert!(run_report(&store, &deps, tenant, report, &serde_json::json!({}), "UTC", SLOT).await.unwrap());

    let jobs = store.tenant_jobs(tenant, JobState::Queued, 50).await.unwrap();
    let notify = jobs.iter().find(|j| j.kind == NOTIFY).expect("a notify job for the chat");
    assert_eq!(notify.payload["chat_id"], -1001);
    assert!(notify.payload["text_html"].as_str().unwrap().contains("Views 321"));
    let png = dir.path().join(notify.payload["attachment_path"].as_str().unwrap());
    assert_eq!(tochen_delivery::reports::chart::png_size(&std::fs::read(png).unwrap()), Some((800, 400)));
    assert!(jobs.iter().any(|j| j.kind == WEBHOOK_DELIVER));
    let delivery = &store.deliveries(tenant, hook.id, 10).await.unwrap()[0];
    assert_eq!(delivery.event_type, "report.generated");
    let body: serde_json::Value = serde_json::from_str(&delivery.payload).unwrap();
    assert_eq!(body["data"]["totals"]["views"], 321);
    // Email is queued, not sent inside the run; the job's sender reads the chart back from the data directory.
    assert!(sink.messages().is_empty());
    let email = jobs.iter().find(|j| j.kind == EMAIL_DELIVER).expect("an email.deliver job");
    let queued: email_queue::EmailJob = serde_json::from_value(email.payload.clone()).unwrap();
    assert_eq!(queued.to, "boss@bloom.test");
    email_queue::deliver(deps.email.as_ref().unwrap(), dir.path(), &queued).await.unwrap();
    let mails = sink.messages();
    assert_eq!((mails.len(), mails[0].to[0].as_str()), (1, "boss@bloom.test"));
    assert!(mails[0].data.contains("Content-ID: <chart>"));

    // Data sync: a CSV document to the chat.
    let sync = automation(&store, tenant, "data_sync").await;
    store.set_automation_destinations(tenant, sync, &[chat.id]).await.unwrap();
    assert!(run_data_sync(&store, &deps, tenant, sync, &serde_json::json!({}), "UTC", SLOT).await.unwrap());
    let jobs = store.tenant_jobs(tenant, JobState::Queued, 50).await.unwrap();
    let csv_job =
        jobs.iter().find(|j| j.payload["attachment_path"].as_str().is_some_and(|p| p.ends_with(".csv"))).unwrap();
    let csv = std::fs::read_to_string(dir.path().join(csv_job.payload["attachment_path"].as_str().unwrap())).unwrap();
    assert!(csv.lines().nth(1).unwrap().contains("Roaster"));

    // Deleting an automation cancels its queued slot and keeps the others.
    let queued_slots = |jobs: &[tochen_store::Job], id: tochen_domain::AutomationId| {
        jobs.iter()
            .filter(|j| j.unique_key.as_deref().is_some_and(|k| k.starts_with(&format!("automation:{id}:"))))
            .count()
    };
    let before = store.tenant_jobs(tenant, JobState::Queued, 100).await.unwrap();
    assert_eq!((queued_slots(&before, sync), queued_slots(&before, report)), (1, 1));
    assert!(store.delete_automation(tenant, sync).await.unwrap());
    assert!(!store.delete_automation(tenant, sync).await.unwrap());
    let after = store.tenant_jobs(tenant, JobState::Queued, 100).await.unwrap();
    assert_eq!((queued_slots(&after, sync), queued_slots(&after, report)), (0, 1));
    assert_eq!(store.automations(tenant).await.unwrap().len(), 1);

    // An empty period is skipped when asked.
    let skip = serde_json::json!({"skip_when_empty": true});
    assert!(!run_report(&store, &deps, tenant, report, &skip, "UTC", SLOT + 30 * DAY_MS).await.unwrap());
});

store_test!(alerts_without_destinations_go_to_the_team_chat, |store| {
    let tenant = seed(&store).await;
    store.set_team_chat(tenant, Some(-1009)).await.unwrap();
    store.set_workspace_quota(tenant, 100, "test").await.unwrap();
    sqlx::query("INSERT INTO llm_usage (id, tenant_id, provider, model, request_type, total_tokens, outcome, created_at) VALUES ($1, $2, 'p', 'm', 'post', 95, 'success', $3)")
        .bind(uuid::Uuid::now_v7().to_string()).bind(tenant.to_db()).bind(tochen_domain::clock::now_ms())
        .execute(store.sql_for_tests()).await.unwrap();
    let alert = automation(&store, tenant, "alert").await;
    let deps = DeliveryDeps { email: None, data_dir: std::env::temp_dir(), sources: Sources::Real, run: None };
    let config = serde_json::json!({"rules": ["llm_quota"]});
    let now = tochen_domain::clock::now_ms();
    assert_eq!(run_alerts(&store, &deps, tenant, alert, &config, "UTC", now).await.unwrap(), 1);
    assert_eq!(run_alerts(&store, &deps, tenant, alert, &config, "UTC", now + 60_000).await.unwrap(), 0);
    let jobs = store.tenant_jobs(tenant, JobState::Queued, 50).await.unwrap();
    let n: Vec<_> = jobs.iter().filter(|j| j.kind == NOTIFY).collect();
    assert_eq!(n.len(), 1);
    assert_eq!(n[0].payload["chat_id"], -1009);
    assert!(n[0].payload["text_html"].as_str().unwrap().contains("95%"));
});

store_test!(without_a_mail_relay_reports_and_alerts_still_reach_telegram_and_webhooks, |store| {
    let tenant = seed(&store).await;
    let dir = tempfile::tempdir().unwrap();
    // No SMTP_URL: no sender. The email destination is left out; the run succeeds for the others.
    let deps = DeliveryDeps { email: None, data_dir: dir.path().to_owned(), sources: Sources::Real, run: None };
    let (chat, hook, mail) = destinations(&store, tenant).await;
    let report = automation(&store, tenant, "report").await;
    store.set_automation_destinations(tenant, report, &[chat.id, hook.id, mail.id]).await.unwrap();
    assert!(run_report(&store, &deps, tenant, report, &serde_json::json!({}), "UTC", SLOT).await.unwrap());

    store.set_workspace_quota(tenant, 100, "test").await.unwrap();
    sqlx::query("INSERT INTO llm_usage (id, tenant_id, provider, model, request_type, total_tokens, outcome, created_at) VALUES ($1, $2, 'p', 'm', 'post', 95, 'success', $3)")
        .bind(uuid::Uuid::now_v7().to_string()).bind(tenant.to_db()).bind(tochen_domain::clock::now_ms())
        .execute(store.sql_for_tests()).await.unwrap();
    let alert = automation(&store, tenant, "alert").await;
    store.set_automation_destinations(tenant, alert, &[chat.id, hook.id, mail.id]).await.unwrap();
    let config = serde_json::json!({"rules": ["llm_quota"]});
    assert_eq!(run_alerts(&store, &deps, tenant, alert, &config, "UTC", tochen_domain::clock::now_ms()).await, Ok(1));

    let jobs = store.tenant_jobs(tenant, JobState::Queued, 50).await.unwrap();
    let to_chat: Vec<_> = jobs.iter().filter(|j| j.kind == NOTIFY && j.payload["chat_id"] == -1001).collect();
    assert!(to_chat.iter().any(|j| j.payload["text_html"].as_str().unwrap().contains("Views 321")), "the report");
    assert!(to_chat.iter().any(|j| j.payload["text_html"].as_str().unwrap().contains("95%")), "the alert");
    let events: Vec<_> =
        store.deliveries(tenant, hook.id, 10).await.unwrap().into_iter().map(|d| d.event_type).collect();
    assert!(events.contains(&"report.generated".to_owned()) && events.len() == 2, "{events:?}");
    assert!(!jobs.iter().any(|j| j.kind == EMAIL_DELIVER));
});

store_test!(the_data_sync_exports_ad_campaigns_per_day_in_their_own_currency, |store| {
    use tochen_domain::ads::{AdLevel, AdMetrics, AdPlatform, Amount, InsightRow};
    let tenant = seed(&store).await;
    let dir = tempfile::tempdir().unwrap();
    let deps = DeliveryDeps { email: None, data_dir: dir.path().to_owned(), sources: Sources::Real, run: None };
    let (chat, hook, _) = destinations(&store, tenant).await;
    let day = |d: u32| chrono::NaiveDate::from_ymd_opt(2024, 10, d).unwrap();
    let account = |currency: &str, r: &str| tochen_store::NewAdAccount {
        platform: AdPlatform::Meta,
        account_ref: r.into(),
        name: format!("Bloom {currency}"),
        currency: currency.into(),
        zone: "UTC".into(),
        status: "1".into(),
        disable_reason: None,
        token: SecretString::new("ads-token"),
        connected_by: None,
    };
    let row = |d: u32, spend: &str, impressions: i64| InsightRow {
        day: day(d),
        level: AdLevel::Campaign,
        object_id: "c1".into(),
        object_name: Some("Autumn, \"sale\"".into()),
        campaign_id: Some("c1".into()),
        metrics: AdMetrics {
            spend: Some(Amount::parse(spend).unwrap()),
            impressions: Some(impressions),
            clicks: Some(10),
            ..Default::default()
        },
    };
    let eur = store.upsert_ad_account(tenant, &account("EUR", "1")).await.unwrap().id;
    let usd = store.upsert_ad_account(tenant, &account("USD", "2")).await.unwrap().id;
    // In the period (the 7 days before Monday 2024-10-07): the 3rd and the 4th; the 7th is after it.
    let range = (day(1), day(7));
    store
        .replace_ad_insights(tenant, eur, AdLevel::Campaign, range, &[row(3, "12.5", 1000), row(7, "99", 1)])
        .await
        .unwrap();
    store.replace_ad_insights(tenant, usd, AdLevel::Campaign, range, &[row(4, "0.396945", 250)]).await.unwrap();

    let sync = automation(&store, tenant, "data_sync").await;
    store.set_automation_destinations(tenant, sync, &[chat.id, hook.id]).await.unwrap();
    assert!(run_data_sync(&store, &deps, tenant, sync, &serde_json::json!({}), "UTC", SLOT).await.unwrap());
    // The webhook's JSON: each day and campaign in its own account's currency, amounts as exact decimals.
    let delivery = &store.deliveries(tenant, hook.id, 10).await.unwrap()[0];
    let body: serde_json::Value = serde_json::from_str(&delivery.payload).unwrap();
    let ads = body["data"]["ads"].as_array().unwrap();
    let got: Vec<(&str, &str, &str, i64)> = ads
        .iter()
        .map(|a| {
            (
                a["day"].as_str().unwrap(),
                a["currency"].as_str().unwrap(),
                a["spend"].as_str().unwrap(),
                a["impressions"].as_i64().unwrap(),
            )
        })
        .collect();
    assert_eq!(got, [("2024-10-03", "EUR", "12.5", 1000), ("2024-10-04", "USD", "0.396945", 250)]);
    assert_eq!(ads[0]["reach"], serde_json::Value::Null, "missing stays missing");
    assert_eq!(body["data"]["publications"].as_array().unwrap().len(), 1);
    // Telegram: the publications CSV, then the ads CSV as a second document.
    let jobs = store.tenant_jobs(tenant, JobState::Queued, 50).await.unwrap();
    let ads_job = jobs
        .iter()
        .find(|j| j.payload["attachment_path"].as_str().is_some_and(|p| p.contains("tochen-ads-")))
        .expect("the ads CSV");
    let csv = std::fs::read_to_string(dir.path().join(ads_job.payload["attachment_path"].as_str().unwrap())).unwrap();
    let lines: Vec<&str> = csv.lines().collect();
    assert!(lines[0].starts_with("day,ad_account_id,ad_account,platform,currency,campaign_id,campaign,spend"));
    assert_eq!(lines.len(), 3, "{csv}");
    assert!(
        lines[1].starts_with("2024-10-03,") && lines[1].contains(",EUR,c1,\"Autumn, \"\"sale\"\"\",12.5,1000,,10,"),
        "{csv}"
    );
    // A sync for one of the workspace's campaigns leaves the ad platforms' campaigns out.
    let spring = store
        .create_campaign(tenant, None, &tochen_store::CampaignFields { name: "Spring".into(), ..Default::default() })
        .await
        .unwrap()
        .id;
    let config = serde_json::json!({"campaign": spring.to_string()});
    assert!(run_data_sync(&store, &deps, tenant, sync, &config, "UTC", SLOT).await.unwrap());
    let latest = &store.deliveries(tenant, hook.id, 10).await.unwrap()[0];
    let body: serde_json::Value = serde_json::from_str(&latest.payload).unwrap();
    assert_eq!(body["data"]["ads"], serde_json::json!([]));
});
