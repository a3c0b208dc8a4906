//! `/admin`, the operator's screens, on both databases: only an operator in a private chat gets them; the home
//! and the workspace list count what the store holds; quotas, suspending and resuming act through the store and
//! are audited as `telegram:<id>`; the health screen lists a dead job and retries it; and a forged or stale
//! button (or a quota prompt answered by someone who is not an operator) changes nothing.

use crate::common;

use common::{en, ALICE, BOB};
use tochen_domain::clock::{month_start_ms, now_ms};
use tochen_domain::{JobState, TenantId};
use tochen_store::{ClaimRequest, NewJob, TenantProfile};
use tochen_telegram::button::{Admin, Button};

const GROUP: i64 = -100_777;

/// A harness whose only operator is Alice (1001).
const ALICE_OPERATES: &[(&str, &str)] = &[("TOCHEN_OPERATORS", "1001")];

/// The month `tochen admin` counts from.
fn month() -> i64 {
    month_start_ms("UTC", now_ms())
}

/// Alice opens `/admin`, the workspace list, and the screen of the workspace labelled `label`.
async fn open_workspace(h: &common::Harness, label: &str) -> tochen_testkit::fake_telegram::BotMessage {
    let home = h.say(ALICE, "/admin", "<b>Operator</b>").await;
    let list = h.press(ALICE, &home, &en("admin.btn_workspaces"), "<b>Workspaces</b>").await;
    h.press(ALICE, &list, label, "Created:").await
}

bot_test!(only_an_operator_gets_the_screens_and_they_count_what_the_store_holds, env = ALICE_OPERATES, |h| {
    let alpha = h.onboard(ALICE, "Alpha").await;
    let beta = h.onboard(BOB, "Beta").await;
    h.store.record_llm_usage(beta, &tochen_testkit::llm_call("gpt-4o-mini", 1200, 1_234_567)).await.unwrap();
    h.store.set_workspace_quota(beta, 50_000, "cli:test").await.unwrap();

    // Bob is no operator: a polite refusal, in his language, and no screen.
    let refused = h.say(BOB, "/admin", &en("admin.not_operator")).await;
    assert!(refused.buttons.is_empty());
    // Alice, in a group, is asked to use a private chat.
    let mark = h.tg.mark();
    h.tg.send_text_as(GROUP, ALICE, "en", "/admin@tochen_test_bot");
    h.tg.said(GROUP, mark, &en("admin.private_only")).await;

    let home = h.say(ALICE, "/admin", "<b>Operator</b>").await;
    let all = h.store.workspace_overviews(month()).await.unwrap();
    let tokens: i64 = all.iter().map(|w| w.tokens).sum();
    assert!(home.text.contains("Workspaces: 2 (2 active, 0 suspended)"), "{}", home.text);
    assert!(home.text.contains(&format!("{tokens} tokens")), "{}", home.text);
    assert!(home.text.contains("$1.2345"), "{}", home.text);

    let list = h.press(ALICE, &home, &en("admin.btn_workspaces"), "<b>Workspaces</b>: 2 (page 1 of 1)").await;
    assert_eq!(list.message_id, home.message_id, "the screens edit in place");
    assert!(list.has_button("1. Alpha") && list.has_button("2. Beta"), "{list:#?}");

    // Beta's screen shows what `tochen admin workspaces` prints from the same overview.
    let screen = h.press(ALICE, &list, "2. Beta", "<b>Beta</b>").await;
    let w = h.store.workspace_overview(beta, month()).await.unwrap();
    assert_eq!((w.tokens, w.quota, w.cost_micros, w.members), (1200, 50_000, 1_234_567, 1));
    assert!(screen.text.contains(&format!("<code>{}</code>", beta.to_db())), "{}", screen.text);
    assert!(screen.text.contains("Status: active"), "{}", screen.text);
    assert!(screen.text.contains("Members: 1, posts: 0, accounts: 0"), "{}", screen.text);
    assert!(screen.text.contains("1200 tokens, $1.2345\nMonthly quota: 50000"), "{}", screen.text);

    // Ten more workspaces: the list pages by eight.
    let anna = h.store.user_by_telegram_id(ALICE).await.unwrap().unwrap().id;
    for i in 0..10 {
        h.store.create_tenant(&format!("W{i:02}"), &TenantProfile::default(), 0, anna).await.unwrap();
    }
    let list = h.press(ALICE, &screen, &en("admin.btn_back"), "(page 1 of 2)").await;
    assert!(!list.has_button("9. "), "{list:#?}");
    let page2 = h.press(ALICE, &list, &en("admin.btn_next"), "(page 2 of 2)").await;
    assert!(page2.has_button("9. ") && page2.has_button("12. "), "{page2:#?}");
    assert!(h.store.tenant(alpha).await.unwrap().suspended_at.is_none());
});

bot_test!(the_quota_is_set_through_the_bot_and_a_bad_one_is_explained, env = ALICE_OPERATES, |h| {
    let alpha = h.onboard(ALICE, "Alpha").await;
    let screen = open_workspace(&h, "1. Alpha").await;
    let prompt = h.press(ALICE, &screen, &en("admin.btn_quota"), "monthly AI token quota for <b>Alpha</b>").await;
    assert!(prompt.text.contains("(now: unlimited)"), "{}", prompt.text);

    h.say(ALICE, "lots", "\"lots\" is not a quota").await;
    h.say(ALICE, "0", "\"0\" is not a quota").await;
    assert_eq!(h.store.tenant(alpha).await.unwrap().llm_monthly_token_quota, 0, "nothing set");
    // The prompt stays until a quota comes.
    let set = h.say(ALICE, "50 000", "Monthly quota set: 50000.").await;
    assert!(set.text.contains("Monthly quota: 50000"), "the workspace screen follows: {}", set.text);
    assert_eq!(h.store.tenant(alpha).await.unwrap().llm_monthly_token_quota, 50_000);
    assert!(h.store.dialogue_state(ALICE, ALICE).await.unwrap().is_none(), "the prompt is closed");
    h.say(ALICE, "70000", &en("bot.fallback")).await;
    assert_eq!(h.store.tenant(alpha).await.unwrap().llm_monthly_token_quota, 50_000);

    // "unlimited" sets it back to 0.
    h.press(ALICE, &set, &en("admin.btn_quota"), "(now: 50000)").await;
    h.say(ALICE, "Unlimited", "Monthly quota set: unlimited.").await;
    assert_eq!(h.store.tenant(alpha).await.unwrap().llm_monthly_token_quota, 0);
    let log = h.store.operator_actions(10).await.unwrap();
    let quotas: Vec<_> = log.iter().filter(|a| a.action == "workspace.quota_set").collect();
    assert_eq!(quotas.len(), 2, "{log:?}");
    assert!(quotas.iter().all(|a| a.actor == format!("telegram:{ALICE}") && a.tenant_id == Some(alpha)));

    // A quota takes effect on the next AI call: under what was used this month, /idea is refused with the quota's
    // message; unlimited again, ideas come.
    h.store.record_llm_usage(alpha, &tochen_testkit::llm_call("gpt-4o-mini", 1200, 0)).await.unwrap();
    let screen = open_workspace(&h, "1. Alpha").await;
    h.press(ALICE, &screen, &en("admin.btn_quota"), "(now: unlimited)").await;
    let set = h.say(ALICE, "1000", "Monthly quota set: 1000.").await;
    h.say(ALICE, "/idea", "used its AI quota for the month").await;
    h.press(ALICE, &set, &en("admin.btn_quota"), "(now: 1000)").await;
    h.say(ALICE, "unlimited", "Monthly quota set: unlimited.").await;
    h.say(ALICE, "/idea", "Ideas for").await;
});

bot_test!(suspend_asks_first_then_suspend_and_resume_toggle_the_workspace_and_are_audited, env = ALICE_OPERATES, |h| {
    h.onboard(ALICE, "Alpha").await;
    let beta = h.onboard(BOB, "Beta").await;
    let screen = open_workspace(&h, "2. Beta").await;
    let ask = h.press(ALICE, &screen, &en("admin.btn_suspend"), "Suspend <b>Beta</b>?").await;
    assert!(h.store.tenant(beta).await.unwrap().suspended_at.is_none(), "asked, not done");
    let done = h.press(ALICE, &ask, &en("admin.btn_suspend_yes"), &en("admin.suspend.done")).await;
    assert!(done.text.contains("Status: suspended since"), "{}", done.text);
    assert!(h.store.tenant(beta).await.unwrap().suspended_at.is_some());

    // The confirmation pressed again (a double tap) changes nothing.
    h.press(ALICE, &ask, &en("admin.btn_suspend_yes"), &en("admin.suspend.already")).await;

    let resumed = h.press(ALICE, &done, &en("admin.btn_resume"), &en("admin.resume.done")).await;
    assert!(resumed.text.contains("Status: active"), "{}", resumed.text);
    assert!(h.store.tenant(beta).await.unwrap().suspended_at.is_none());

    let log = h.store.operator_actions(10).await.unwrap();
    let mut actions: Vec<(&str, &str)> = log.iter().map(|a| (a.action.as_str(), a.actor.as_str())).collect();
    actions.sort_unstable();
    let me = format!("telegram:{ALICE}");
    assert_eq!(actions, [("workspace.resumed", me.as_str()), ("workspace.suspended", me.as_str())]);
    assert!(log.iter().all(|a| a.tenant_id == Some(beta)));
});

bot_test!(an_operator_whose_own_workspace_is_suspended_still_has_the_screens, env = ALICE_OPERATES, |h| {
    // Alice suspends the workspace she works in: its work is refused, her operator's screens are not.
    let alpha = h.onboard(ALICE, "Alpha").await;
    let screen = open_workspace(&h, "1. Alpha").await;
    let ask = h.press(ALICE, &screen, &en("admin.btn_suspend"), "Suspend <b>Alpha</b>?").await;
    let done = h.press(ALICE, &ask, &en("admin.btn_suspend_yes"), &en("admin.suspend.done")).await;
    h.say(ALICE, "/queue", "is paused by this server's operator").await;
    h.press(ALICE, &done, &en("admin.btn_quota"), "monthly AI token quota").await;
    let set = h.say(ALICE, "1000", "Monthly quota set: 1000.").await;
    assert_eq!(h.store.tenant(alpha).await.unwrap().llm_monthly_token_quota, 1000);
    let home = h.say(ALICE, "/admin", "<b>Operator</b>").await;
    assert!(home.text.contains("(0 active, 1 suspended)"), "{}", home.text);
    h.press(ALICE, &set, &en("admin.btn_resume"), &en("admin.resume.done")).await;
    assert!(h.store.tenant(alpha).await.unwrap().suspended_at.is_none());
});

bot_test!(health_lists_a_dead_job_and_retry_all_queues_it_again, env = ALICE_OPERATES, |h| {
    let alpha = h.onboard(ALICE, "Alpha").await;
    let job = NewJob::untyped("test.dead", serde_json::json!({})).tenant(alpha).run_at(now_ms() - 1).max_attempts(1);
    let job = h.store.enqueue(&job).await.unwrap().unwrap();
    let kinds = vec!["test.dead".to_string()];
    let req = ClaimRequest { owner: "t", limit: 10, lease_ms: 60_000, per_key: 1, kinds: &kinds };
    let claimed = h.store.claim_jobs(&req).await.unwrap();
    let j = &claimed[0];
    h.store.finish_job(j.id, j.attempts, "t", JobState::Dead, Some("platform said <no>")).await.unwrap();

    let home = h.say(ALICE, "/admin", "<b>Operator</b>").await;
    let health = h.press(ALICE, &home, &en("admin.btn_health"), "<b>Health</b>").await;
    assert!(health.text.contains("Scheduler heartbeat: never"), "{}", health.text);
    assert!(health.text.contains("1 dead"), "{}", health.text);
    assert!(health.text.contains("<code>test.dead</code>: platform said &lt;no&gt;"), "{}", health.text);

    let mark = h.tg.mark();
    h.tg.press(ALICE, &health, &en("admin.btn_retry_all"));
    h.tg.answered(mark, "1 dead job(s) queued again").await;
    h.tg.said(ALICE, mark, "0 dead").await;
    assert_eq!(h.store.job(job).await.unwrap().unwrap().state, JobState::Queued);
    let log = h.store.operator_actions(10).await.unwrap();
    assert!(log.iter().any(|a| a.action == "jobs.retried" && a.actor == format!("telegram:{ALICE}")), "{log:?}");

    // The per-job button of the old screen: the job is no longer dead.
    let mark = h.tg.mark();
    h.tg.press(ALICE, &health, "♻️ 1");
    h.tg.answered(mark, &en("admin.retry_none")).await;
});

bot_test!(a_new_workspace_link_is_shown_once_and_audited, env = ALICE_OPERATES, |h| {
    h.onboard(ALICE, "Alpha").await;
    let home = h.say(ALICE, "/admin", "<b>Operator</b>").await;
    let link = h.press(ALICE, &home, &en("admin.btn_link"), "https://t.me/tochen_test_bot?start=new_").await;
    assert!(link.text.contains("valid for 7 days"), "{}", link.text);
    // The harness opens creation to everyone, so the screen says such links count only under `code`.
    assert!(link.text.contains("workspace creation is <code>open</code> now"), "{}", link.text);
    let log = h.store.operator_actions(10).await.unwrap();
    assert!(log.iter().any(|a| a.action == "code.created" && a.actor == format!("telegram:{ALICE}")), "{log:?}");
});

bot_test!(a_forged_or_stale_admin_button_changes_nothing, env = ALICE_OPERATES, |h| {
    let alpha = h.onboard(ALICE, "Alpha").await;
    h.onboard(BOB, "Beta").await;
    let bobs = h.say(BOB, "/admin", &en("admin.not_operator")).await;
    let refusal = en("admin.not_operator");
    for forged in
        [Admin::SuspendConfirmed(alpha), Admin::Quota(alpha), Admin::RetryAll, Admin::NewLink, Admin::Workspaces(0)]
    {
        h.press_data_refused(BOB, &bobs, &Button::Admin(forged).encode(), &refusal).await;
    }
    assert!(h.store.tenant(alpha).await.unwrap().suspended_at.is_none());
    assert!(h.store.dialogue_state(BOB, BOB).await.unwrap().is_none(), "no quota prompt for Bob");
    assert!(h.store.operator_actions(10).await.unwrap().is_empty(), "nothing was done");

    // A quota prompt answered by someone who is not an operator (a state left from when they were) sets nothing.
    let state = serde_json::json!({"s": "AdminQuota", "tenant": alpha}).to_string();
    h.store.set_dialogue_state(BOB, BOB, &state).await.unwrap();
    h.say(BOB, "5", &refusal).await;
    assert_eq!(h.store.tenant(alpha).await.unwrap().llm_monthly_token_quota, 0);
    assert!(h.store.dialogue_state(BOB, BOB).await.unwrap().is_none(), "the prompt is closed");

    // The operator's button for a workspace that is gone says so.
    let home = h.say(ALICE, "/admin", "<b>Operator</b>").await;
    let gone = Button::Admin(Admin::Suspend(TenantId::new())).encode();
    h.press_data_refused(ALICE, &home, &gone, &en("admin.gone")).await;
    assert!(h.store.operator_actions(10).await.unwrap().is_empty());
});
