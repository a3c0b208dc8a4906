//! Automation slots across daylight-saving changes: slots are UTC instants, so the keys of an interval job's two
//! runs at the same wall time in a repeated hour differ, and a fixed-time job gets one slot there (the rules are
//! in `tochen_domain::cron`).

use super::automations::{queued_slots, tenant};
use chrono::NaiveDate;
use tochen_domain::clock::Millis;
use tochen_domain::cron::Schedule;
use tochen_domain::{MissedRunPolicy, TenantId};
use tochen_store::{automation_slot_key, NewAutomation, SlotStart, Store};
use tochen_testkit::store_test;

fn utc(y: i32, mo: u32, d: u32, h: u32, mi: u32) -> Millis {
    NaiveDate::from_ymd_opt(y, mo, d).unwrap().and_hms_opt(h, mi, 0).unwrap().and_utc().timestamp_millis()
}

/// Creates the automation, points it at `first` (as if it had been waiting for that slot) and starts its slots
/// one after the other the way the scheduler does, until one is after `until`. Returns the slots that ran and the
/// unique keys of the slot jobs it queued on the way (the workspace has no other automation).
async fn walk(store: &Store, tenant: TenantId, cron: &str, first: Millis, until: Millis) -> (Vec<Millis>, Vec<String>) {
    let new = NewAutomation {
        kind: "test".into(),
        name: cron.into(),
        cron: cron.into(),
        timezone: "America/New_York".into(),
        config: serde_json::json!({}),
        missed_run_policy: MissedRunPolicy::CatchUp,
        max_consecutive_failures: 5,
        created_by: None,
    };
    let a = store.create_automation(tenant, &new).await.unwrap();
    sqlx::query("UPDATE automations SET next_run_at = $1 WHERE id = $2")
        .bind(first)
        .bind(a.id.to_db())
        .execute(store.sql_for_tests())
        .await
        .unwrap();
    // Its first slot job (after today) is not part of the walk.
    sqlx::query("DELETE FROM jobs WHERE unique_key LIKE $1")
        .bind(format!("automation:{}:%", a.id))
        .execute(store.sql_for_tests())
        .await
        .unwrap();
    let schedule = Schedule::parse(cron, "America/New_York").unwrap();
    let mut slot = first;
    while slot <= until {
        let next = schedule.next_after(slot);
        let start = store.start_slot(tenant, a.id, slot, slot, next, false).await.unwrap();
        assert!(matches!(start, SlotStart::Run { .. }), "slot {slot} of {cron} runs");
        slot = next.unwrap();
    }
    let mut ran: Vec<Millis> =
        store.automation_runs(tenant, a.id, 100).await.unwrap().into_iter().map(|r| r.slot_at).collect();
    ran.sort();
    (ran, queued_slots(store, tenant).await)
}

// America/New_York goes back on 2026-11-01 at 06:00 UTC: 01:00-02:00 local is 05:00-06:00 UTC (EDT), then again
// 06:00-07:00 UTC (EST).

store_test!(an_interval_job_gets_distinct_slot_keys_in_both_passes_of_the_repeated_hour, |store| {
    let tenant = tenant(&store).await;
    let first = utc(2026, 11, 1, 5, 0);
    let (ran, keys) = walk(&store, tenant, "*/30 1 * * *", first, utc(2026, 11, 1, 6, 30)).await;
    // 01:00, 01:30 EDT, 01:00, 01:30 EST; the walk stops with 01:00 EST on 2 November (06:00 UTC) queued.
    let expected = [utc(2026, 11, 1, 5, 0), utc(2026, 11, 1, 5, 30), utc(2026, 11, 1, 6, 0), utc(2026, 11, 1, 6, 30)];
    assert_eq!(ran, expected);
    let id = store.automations(tenant).await.unwrap()[0].id;
    let mut want: Vec<String> = expected[1..].iter().map(|s| automation_slot_key(id, *s)).collect();
    want.push(automation_slot_key(id, utc(2026, 11, 2, 6, 0)));
    assert_eq!(keys, want, "one job per slot, none lost to a colliding key");
});

store_test!(a_fixed_time_job_gets_one_slot_in_the_repeated_hour, |store| {
    let tenant = tenant(&store).await;
    // 0 1-3 on Sundays in November: 01:00 EDT (05:00), 02:00 EST (07:00), 03:00 EST (08:00); not 01:00 EST.
    let (ran, keys) = walk(&store, tenant, "0 1-3 * 11 0", utc(2026, 11, 1, 5, 0), utc(2026, 11, 1, 8, 0)).await;
    assert_eq!(ran, vec![utc(2026, 11, 1, 5, 0), utc(2026, 11, 1, 7, 0), utc(2026, 11, 1, 8, 0)]);
    let id = store.automations(tenant).await.unwrap()[0].id;
    let want: Vec<String> = [utc(2026, 11, 1, 7, 0), utc(2026, 11, 1, 8, 0), utc(2026, 11, 8, 6, 0)]
        .iter()
        .map(|s| automation_slot_key(id, *s))
        .collect();
    assert_eq!(keys, want);
});
