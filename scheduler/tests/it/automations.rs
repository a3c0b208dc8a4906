//! Cron automations on both databases: slots fire once, missed-run policies, DST through the whole slot chain,
//! pause/resume/run now, automatic pause and run history.

use crate::common;

use chrono::NaiveDate;
use common::*;
use std::sync::{Arc, Mutex};
use tochen_domain::clock::{now_ms, Millis};
use tochen_domain::ids::{AutomationId, TenantId};
use tochen_domain::{AutomationStatus, JobState, MissedRunPolicy, RunOutcome};
use tochen_scheduler::handlers::automation::{AutomationRunHandler, TEST_KIND};
use tochen_scheduler::{AutomationHandler, AutomationRegistry, AutomationRun, RunJob};
use tochen_store::automation_slot_key as slot_key;
use tochen_store::Store;
use tochen_store::{Automation, NewAutomation};
use tochen_testkit::store_test;

const HOUR: Millis = 3_600_000;

struct Counting {
    slots: Arc<Mutex<Vec<Millis>>>,
}

#[async_trait::async_trait]
impl AutomationHandler for Counting {
    async fn run(&self, run: &AutomationRun<'_>) -> Result<(), String> {
        self.slots.lock().unwrap().push(run.slot_at);
        Ok(())
    }
}

fn engine() -> (AutomationRunHandler, Arc<Mutex<Vec<Millis>>>) {
    let slots = Arc::new(Mutex::new(Vec::new()));
    let mut registry = AutomationRegistry::with_builtins();
    registry.register("count", Arc::new(Counting { slots: slots.clone() }));
    let mut h = AutomationRunHandler::new(Arc::new(registry));
    h.max_catch_up = 100_000;
    (h, slots)
}

pub(crate) fn new_automation(kind: &str, cron: &str, tz: &str, policy: MissedRunPolicy) -> NewAutomation {
    NewAutomation {
        kind: kind.into(),
        name: "Weekly digest".into(),
        cron: cron.into(),
        timezone: tz.into(),
        config: serde_json::json!({}),
        missed_run_policy: policy,
        max_consecutive_failures: 3,
        created_by: None,
    }
}

fn utc(y: i32, mo: u32, d: u32, h: u32, mi: u32) -> Millis {
    NaiveDate::from_ymd_opt(y, mo, d).unwrap().and_hms_opt(h, mi, 0).unwrap().and_utc().timestamp_millis()
}

/// Points the automation's schedule at `slot` (as if the scheduler had been down since) and queues that slot.
async fn rewind(store: &Store, a: &Automation, slot: Millis) -> Automation {
    sqlx::query("UPDATE automations SET next_run_at = $1 WHERE id = $2")
        .bind(slot)
        .bind(a.id.to_db())
        .execute(store.sql_for_tests())
        .await
        .unwrap();
    let a = store.automation(a.tenant_id, a.id).await.unwrap();
    store.ensure_slot_job(&a).await.unwrap();
    a
}

/// Runs the queued job of the automation's current slot through the handler; returns false if there is none due.
async fn run_current_slot(store: &Store, h: &AutomationRunHandler, tenant: TenantId, id: AutomationId) -> bool {
    let a = store.automation(tenant, id).await.unwrap();
    let Some(next) = a.next_run_at.filter(|n| *n <= now_ms()) else { return false };
    let job = store.job_by_unique_key(&slot_key(id, next)).await.unwrap().expect("slot job queued");
    h.run(store, &job).await.unwrap();
    true
}

store_test!(creating_an_automation_queues_its_next_slot_exactly_once, |store| {
    let tenant = workspace(&store).await;
    let a = store
        .create_automation(tenant, &new_automation("count", "0 9 * * 1", "Europe/Berlin", MissedRunPolicy::RunOnce))
        .await
        .unwrap();
    let next = a.next_run_at.expect("has a next slot");
    assert!(next > now_ms());
    assert!(store.job_by_unique_key(&slot_key(a.id, next)).await.unwrap().is_some());
    store.ensure_slot_job(&a).await.unwrap();
    assert_eq!(store.jobs_of_kind("automation.run", JobState::Queued, 10).await.unwrap().len(), 1);
    let bad = store.create_automation(tenant, &new_automation("count", "0 9 * *", "UTC", MissedRunPolicy::Skip)).await;
    assert!(bad.unwrap_err().to_string().contains("0 9 * *"));
});

store_test!(a_slot_run_by_two_instances_at_once_fires_once_and_queues_one_next_slot, |store| {
    let tenant = workspace(&store).await;
    let a = store
        .create_automation(tenant, &new_automation("count", "* * * * *", "UTC", MissedRunPolicy::RunOnce))
        .await
        .unwrap();
    let slot = a.next_run_at.unwrap();
    let job = store.job_by_unique_key(&slot_key(a.id, slot)).await.unwrap().unwrap();
    let (h, slots) = engine();
    let h = Arc::new(h);
    let (h1, h2, s1, s2, j1, j2) = (h.clone(), h.clone(), store.clone(), store.clone(), job.clone(), job.clone());
    let (r1, r2) = tokio::join!(
        tokio::spawn(async move { h1.run(&s1, &j1).await }),
        tokio::spawn(async move { h2.run(&s2, &j2).await })
    );
    r1.unwrap().unwrap();
    r2.unwrap().unwrap();
    assert_eq!(slots.lock().unwrap().clone(), vec![slot]);
    let after = store.automation(tenant, a.id).await.unwrap();
    assert_eq!(after.next_run_at, Some(slot + 60_000));
    assert_eq!(after.run_count, 1);
    let queued = store.jobs_of_kind("automation.run", JobState::Queued, 10).await.unwrap();
    assert_eq!(
        queued.iter().filter(|j| j.unique_key.as_deref() == Some(&slot_key(a.id, slot + 60_000)[..])).count(),
        1
    );
    let runs = store.automation_runs(tenant, a.id, 10).await.unwrap();
    assert_eq!(runs.len(), 1);
    assert_eq!(runs[0].outcome, RunOutcome::Success);
    assert!(runs[0].duration_ms.is_some());
});

async fn missed_five_hours(store: &Store, policy: MissedRunPolicy) -> (Vec<Millis>, Automation) {
    let tenant = workspace(store).await;
    let a = store.create_automation(tenant, &new_automation("count", "0 * * * *", "UTC", policy)).await.unwrap();
    let this_hour = now_ms() / HOUR * HOUR;
    rewind(store, &a, this_hour - 5 * HOUR).await;
    let (h, slots) = engine();
    let mut guard = 0;
    while run_current_slot(store, &h, tenant, a.id).await {
        guard += 1;
        assert!(guard < 20, "the slot chain does not end");
    }
    let ran = slots.lock().unwrap().clone();
    (ran, store.automation(tenant, a.id).await.unwrap())
}

store_test!(missed_slots_are_skipped_under_the_skip_policy, |store| {
    let (ran, a) = missed_five_hours(&store, MissedRunPolicy::Skip).await;
    assert!(ran.is_empty(), "{ran:?}");
    assert!(a.next_run_at.unwrap() > now_ms());
    let runs = store.automation_runs(a.tenant_id, a.id, 10).await.unwrap();
    assert_eq!(runs.len(), 1);
    assert_eq!(runs[0].outcome, RunOutcome::Skipped);
});

store_test!(missed_slots_run_once_for_the_latest_under_run_once, |store| {
    let (ran, a) = missed_five_hours(&store, MissedRunPolicy::RunOnce).await;
    assert_eq!(ran, vec![now_ms() / HOUR * HOUR]);
    assert!(a.next_run_at.unwrap() > now_ms());
    assert_eq!(a.run_count, 1);
});

store_test!(missed_slots_all_run_in_order_under_catch_up, |store| {
    let (ran, a) = missed_five_hours(&store, MissedRunPolicy::CatchUp).await;
    let this_hour = now_ms() / HOUR * HOUR;
    assert_eq!(ran, (0..=5).rev().map(|k| this_hour - k * HOUR).collect::<Vec<_>>());
    assert!(a.next_run_at.unwrap() > now_ms());
});

/// Walks the slot chain from `start` through the engine for `n` slots and returns the slots that ran.
async fn walk(store: &Store, cron: &str, start: Millis, n: usize) -> Vec<Millis> {
    let tenant = workspace(store).await;
    let a = store
        .create_automation(tenant, &new_automation("count", cron, "Europe/Berlin", MissedRunPolicy::CatchUp))
        .await
        .unwrap();
    rewind(store, &a, start).await;
    let (h, slots) = engine();
    for _ in 0..n {
        assert!(run_current_slot(store, &h, tenant, a.id).await);
    }
    let ran = slots.lock().unwrap().clone();
    ran
}

store_test!(a_fixed_time_in_the_spring_forward_gap_fires_once_right_after_the_gap, |store| {
    let ran = walk(&store, "30 2 * * *", utc(2026, 3, 28, 1, 30), 3).await;
    assert_eq!(ran, vec![utc(2026, 3, 28, 1, 30), utc(2026, 3, 29, 1, 0), utc(2026, 3, 30, 0, 30)]);
});

store_test!(a_fixed_time_in_the_fall_back_hour_fires_once, |store| {
    let ran = walk(&store, "30 2 * * *", utc(2026, 10, 24, 0, 30), 3).await;
    assert_eq!(ran, vec![utc(2026, 10, 24, 0, 30), utc(2026, 10, 25, 0, 30), utc(2026, 10, 26, 1, 30)]);
});

store_test!(every_thirty_minutes_across_the_fall_back_hour_fires_in_strictly_increasing_utc_order, |store| {
    let ran = walk(&store, "*/30 * * * *", utc(2026, 10, 24, 23, 0), 9).await;
    assert!(ran.windows(2).all(|w| w[1] - w[0] == 30 * 60_000), "{ran:?}");
    assert_eq!(ran.first(), Some(&utc(2026, 10, 24, 23, 0)));
    assert_eq!(ran.last(), Some(&utc(2026, 10, 25, 3, 0)));
});

store_test!(a_paused_automation_does_not_fire_and_resumes_from_now, |store| {
    let tenant = workspace(&store).await;
    let a = store
        .create_automation(tenant, &new_automation("count", "0 * * * *", "UTC", MissedRunPolicy::RunOnce))
        .await
        .unwrap();
    let a = rewind(&store, &a, now_ms() / HOUR * HOUR).await;
    assert!(store.pause_automation(tenant, a.id, Some("holiday")).await.unwrap());
    let (h, slots) = engine();
    let job = store.job_by_unique_key(&slot_key(a.id, a.next_run_at.unwrap())).await.unwrap().unwrap();
    h.run(&store, &job).await.unwrap();
    assert!(slots.lock().unwrap().is_empty());
    assert!(store.resume_automation(tenant, a.id).await.unwrap());
    let resumed = store.automation(tenant, a.id).await.unwrap();
    assert_eq!(resumed.status, AutomationStatus::Active);
    let next = resumed.next_run_at.unwrap();
    assert!(next > now_ms());
    assert!(store.job_by_unique_key(&slot_key(a.id, next)).await.unwrap().is_some());
});

store_test!(repeated_failures_pause_the_automation_and_tell_the_admins, |store| {
    let tenant = workspace(&store).await;
    let mut new = new_automation(TEST_KIND, "0 9 * * *", "UTC", MissedRunPolicy::RunOnce);
    new.config = serde_json::json!({ "fail": true });
    new.max_consecutive_failures = 2;
    let a = store.create_automation(tenant, &new).await.unwrap();
    let (h, _) = engine();
    for _ in 0..2 {
        let job_id = store.run_automation_now(tenant, a.id).await.unwrap().unwrap();
        let job = store.job(job_id).await.unwrap().unwrap();
        h.run(&store, &job).await.unwrap();
        tokio::time::sleep(std::time::Duration::from_millis(2)).await;
    }
    let after = store.automation(tenant, a.id).await.unwrap();
    assert_eq!(after.status, AutomationStatus::Paused);
    assert_eq!((after.failure_count, after.consecutive_failures), (2, 2));
    let runs = store.automation_runs(tenant, a.id, 10).await.unwrap();
    assert!(runs.iter().all(|r| r.outcome == RunOutcome::Failed && r.error.is_some()));
    let notices = store.tenant_jobs(tenant, JobState::Queued, 50).await.unwrap();
    assert!(notices.iter().any(|j| j.kind == "notify"
        && j.payload["chat_id"] == ADMIN_TG
        && j.payload["text_html"].as_str().unwrap().contains("paused")));
});

store_test!(the_test_automation_sends_a_message_when_run_now, |store| {
    let tenant = workspace(&store).await;
    let a = store
        .create_automation(tenant, &new_automation(TEST_KIND, "0 9 * * *", "UTC", MissedRunPolicy::RunOnce))
        .await
        .unwrap();
    let (h, _) = engine();
    let job = store.job(store.run_automation_now(tenant, a.id).await.unwrap().unwrap()).await.unwrap().unwrap();
    h.run(&store, &job).await.unwrap();
    let after = store.automation(tenant, a.id).await.unwrap();
    assert_eq!(after.next_run_at, a.next_run_at, "run now does not move the schedule");
    assert_eq!(after.run_count, 1);
    let notices = store.tenant_jobs(tenant, JobState::Queued, 50).await.unwrap();
    assert!(notices
        .iter()
        .any(|j| j.kind == "notify" && j.payload["text_html"].as_str().unwrap().contains("Weekly digest")));
});

store_test!(a_slot_interrupted_by_a_crash_is_resumed_by_the_next_attempt_only, |store| {
    let tenant = workspace(&store).await;
    let a = store
        .create_automation(tenant, &new_automation("count", "0 * * * *", "UTC", MissedRunPolicy::RunOnce))
        .await
        .unwrap();
    let a = rewind(&store, &a, now_ms() / HOUR * HOUR).await;
    let slot = a.next_run_at.unwrap();
    let mut job = store.job_by_unique_key(&slot_key(a.id, slot)).await.unwrap().unwrap();
    // The first attempt started the slot (schedule moved on, run row `running`) and then its process died.
    let started = store.start_slot(tenant, a.id, slot, slot, Some(slot + HOUR), false).await.unwrap();
    assert!(matches!(started, tochen_store::SlotStart::Run { resumed: false, .. }));
    let (h, slots) = engine();
    job.attempts = 1;
    h.run(&store, &job).await.unwrap();
    assert!(slots.lock().unwrap().is_empty(), "the same attempt number never runs a started slot twice");
    job.attempts = 2;
    h.run(&store, &job).await.unwrap();
    assert_eq!(slots.lock().unwrap().clone(), vec![slot]);
    let runs = store.automation_runs(tenant, a.id, 10).await.unwrap();
    assert_eq!(runs.len(), 1);
    assert_eq!(runs[0].outcome, RunOutcome::Success);
});
