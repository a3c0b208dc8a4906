//! Editing an automation's schedule recomputes `next_run_at` with the scheduler's cron code and keeps exactly one
//! queued slot job; an invalid expression is refused without changing anything.

use tochen_domain::MissedRunPolicy;
use tochen_domain::TenantId;
use tochen_store::Store;
use tochen_store::{automation_slot_key, AutomationChanges, NewAutomation, TelegramIdentity, TenantProfile};
use tochen_testkit::store_test;

pub(crate) async fn tenant(store: &Store) -> TenantId {
    let who = TelegramIdentity {
        telegram_id: 7,
        username: None,
        first_name: "A".into(),
        last_name: None,
        language_code: None,
    };
    let admin = store.upsert_user(&who).await.unwrap();
    store.create_tenant("Bloom", &TenantProfile::default(), 0, admin.id).await.unwrap().id
}

pub(crate) async fn queued_slots(store: &Store, tenant: TenantId) -> Vec<String> {
    let rows: Vec<(String,)> = sqlx::query_as(
        "SELECT unique_key FROM jobs WHERE tenant_id = $1 AND state = 'queued' AND kind = 'automation.run' \
         ORDER BY unique_key",
    )
    .bind(tenant.to_db())
    .fetch_all(store.sql_for_tests())
    .await
    .unwrap();
    rows.into_iter().map(|r| r.0).collect()
}

store_test!(a_new_cron_moves_the_next_run_and_its_single_queued_slot, |store| {
    let tenant = tenant(&store).await;
    let new = NewAutomation {
        kind: "report".into(),
        name: "weekly".into(),
        cron: "0 9 * * 1".into(),
        timezone: "Europe/Berlin".into(),
        config: serde_json::json!({}),
        missed_run_policy: MissedRunPolicy::RunOnce,
        max_consecutive_failures: 5,
        created_by: None,
    };
    let a = store.create_automation(tenant, &new).await.unwrap();
    let old_next = a.next_run_at.unwrap();

    let changes = AutomationChanges {
        cron: Some("30 7 * * *".into()),
        timezone: Some("America/New_York".into()),
        config: Some(serde_json::json!({"period_days": 1})),
        ..Default::default()
    };
    let edited = store.update_automation(tenant, a.id, &changes).await.unwrap();
    let expected = tochen_domain::cron::Schedule::parse("30 7 * * *", "America/New_York")
        .unwrap()
        .next_after(tochen_domain::clock::now_ms())
        .unwrap();
    assert_eq!(edited.next_run_at, Some(expected));
    assert_eq!(edited.cron, "30 7 * * *");
    assert_eq!(edited.timezone, "America/New_York");
    assert_eq!(edited.config["period_days"], 1);
    assert_eq!(queued_slots(&store, tenant).await, vec![automation_slot_key(a.id, expected)]);

    // Back to the first schedule: its cancelled slot job is queued again rather than lost to the unique key.
    let back = AutomationChanges {
        cron: Some("0 9 * * 1".into()),
        timezone: Some("Europe/Berlin".into()),
        ..Default::default()
    };
    let edited = store.update_automation(tenant, a.id, &back).await.unwrap();
    assert_eq!(edited.next_run_at, Some(old_next));
    assert_eq!(queued_slots(&store, tenant).await, vec![automation_slot_key(a.id, old_next)]);

    let bad = AutomationChanges { cron: Some("every monday".into()), ..Default::default() };
    assert!(store.update_automation(tenant, a.id, &bad).await.is_err());
    let bad_tz = AutomationChanges { timezone: Some("Mars/Olympus".into()), ..Default::default() };
    assert!(store.update_automation(tenant, a.id, &bad_tz).await.is_err());
    assert_eq!(store.automation(tenant, a.id).await.unwrap().next_run_at, Some(old_next));

    let other = {
        let who = TelegramIdentity {
            telegram_id: 8,
            username: None,
            first_name: "B".into(),
            last_name: None,
            language_code: None,
        };
        let u = store.upsert_user(&who).await.unwrap();
        store.create_tenant("Other", &TenantProfile::default(), 0, u.id).await.unwrap().id
    };
    assert!(store.update_automation(other, a.id, &changes).await.is_err(), "another workspace cannot edit it");
});
