//! The operator's store functions on both databases: overviews, quota, suspending (jobs held) and resuming, cost
//! per model, dead job retry, creation codes and the operator claim, each action audited.

use tochen_domain::clock::now_ms;
use tochen_domain::{JobState, TenantId, UserId};
use tochen_store::{ClaimRequest, CodeError, NewJob, Store, TenantProfile};
use tochen_testkit::person;
use tochen_testkit::store_test;

async fn workspace(store: &Store, telegram_id: i64, name: &str) -> (TenantId, UserId) {
    let admin = store.upsert_user(&person(telegram_id, name)).await.unwrap();
    let t = store.create_tenant(name, &TenantProfile::default(), 1000, admin.id).await.unwrap();
    (t.id, admin.id)
}

fn claim_all(kinds: &[String]) -> ClaimRequest<'_> {
    ClaimRequest { owner: "op-test", limit: 50, lease_ms: 60_000, per_key: 10, kinds }
}

store_test!(the_overview_counts_each_workspace_and_its_llm_use_this_month, |store| {
    let (bloom, anna) = workspace(&store, 1, "Bloom").await;
    let (forge, _) = workspace(&store, 2, "Forge").await;
    let bob = store.upsert_user(&person(3, "Bob")).await.unwrap();
    let invite = store.create_invite(bloom, tochen_domain::Role::Editor, anna, 60_000).await.unwrap();
    store.redeem_invite(&invite.code, bob.id).await.unwrap();
    store.record_llm_usage(bloom, &tochen_testkit::llm_call("gpt-4o-mini", 1200, 300)).await.unwrap();
    store.record_llm_usage(bloom, &tochen_testkit::llm_call("gpt-4o", 800, 5000)).await.unwrap();
    store.record_llm_usage(forge, &tochen_testkit::llm_call("gpt-4o", 100, 700)).await.unwrap();

    let all = store.workspace_overviews(0).await.unwrap();
    assert_eq!(all.iter().map(|w| w.name.as_str()).collect::<Vec<_>>(), ["Bloom", "Forge"]);
    let b = &all[0];
    assert_eq!((b.members, b.posts, b.accounts, b.tokens, b.cost_micros), (2, 0, 0, 2000, 5300));
    assert_eq!(b.quota, 1000);
    assert_eq!(b.suspended_at, None);
    assert_eq!(store.workspace_overview(forge, 0).await.unwrap().tokens, 100);
    // Usage before `since` is not this month's.
    assert_eq!(store.workspace_overview(forge, now_ms() + 1000).await.unwrap().tokens, 0);

    let models = store.cost_per_model(0).await.unwrap();
    assert_eq!(models[0].model, "gpt-4o", "the most expensive first");
    assert_eq!((models[0].calls, models[0].tokens, models[0].cost_micros, models[0].workspaces), (2, 900, 5700, 2));
    assert_eq!((models[1].model.as_str(), models[1].workspaces), ("gpt-4o-mini", 1));
});

store_test!(a_workspace_is_found_by_id_prefix_or_name, |store| {
    let (bloom, _) = workspace(&store, 1, "Bloom Coffee").await;
    workspace(&store, 2, "Forge").await;
    let by_id = store.find_workspaces(&bloom.to_db()).await.unwrap();
    assert_eq!(by_id.len(), 1);
    assert_eq!(by_id[0].id, bloom);
    let by_name = store.find_workspaces("bloom coffee").await.unwrap();
    assert_eq!(by_name.iter().map(|t| t.id).collect::<Vec<_>>(), [bloom]);
    assert!(store.find_workspaces("nobody").await.unwrap().is_empty());
    assert!(store.find_workspaces("%").await.unwrap().is_empty(), "a wildcard is not a prefix");
    assert!(store.find_workspaces("%%%%").await.unwrap().is_empty(), "nor are four");
    assert!(store.find_workspaces("____").await.unwrap().is_empty());
    // Ids are UUIDv7: workspaces made in the same millisecond share their first 12 digits, so a short prefix may
    // name both (the command line then asks for a longer one); a longer one names one.
    let id = bloom.to_db();
    assert!(store.find_workspaces(&id[..8]).await.unwrap().iter().any(|t| t.id == bloom));
    assert_eq!(store.find_workspaces(&id[..30]).await.unwrap().len(), 1);
    assert!(store.find_workspaces("").await.unwrap().is_empty());
});

store_test!(quota_changes_take_effect_and_are_audited, |store| {
    let (bloom, _) = workspace(&store, 1, "Bloom").await;
    store.set_workspace_quota(bloom, 50_000, "cli:root").await.unwrap();
    assert_eq!(store.tenant(bloom).await.unwrap().llm_monthly_token_quota, 50_000);
    assert!(store.set_workspace_quota(bloom, -1, "cli:root").await.is_err());
    assert_eq!(store.tenant(bloom).await.unwrap().llm_monthly_token_quota, 50_000, "a refused quota changes nothing");
    let missing = TenantId::new();
    assert!(matches!(
        store.set_workspace_quota(missing, 1, "cli:root").await,
        Err(tochen_store::StoreError::NotFound(_))
    ));
    let log = store.operator_actions(10).await.unwrap();
    assert_eq!(log.len(), 1);
    assert_eq!((log[0].actor.as_str(), log[0].action.as_str()), ("cli:root", "workspace.quota_set"));
    assert_eq!(log[0].tenant_id, Some(bloom));
    assert_eq!(log[0].details["tokens"], 50_000);
});

store_test!(a_suspended_workspace_s_jobs_are_held_and_run_after_resume, |store| {
    let (bloom, _) = workspace(&store, 1, "Bloom").await;
    let (forge, _) = workspace(&store, 2, "Forge").await;
    let now = now_ms();
    let kinds = vec!["op.test".to_string()];
    let job = |t: TenantId| NewJob::untyped("op.test", serde_json::json!({})).tenant(t).run_at(now - 1);
    store.enqueue(&job(bloom)).await.unwrap().unwrap();
    store.enqueue(&job(forge)).await.unwrap().unwrap();
    store.enqueue(&NewJob::untyped("op.test", serde_json::json!({})).run_at(now - 1)).await.unwrap().unwrap();

    assert!(store.suspend_workspace(bloom, "telegram:1").await.unwrap());
    assert!(!store.suspend_workspace(bloom, "telegram:1").await.unwrap(), "already suspended");
    assert!(store.tenant(bloom).await.unwrap().suspended_at.is_some());
    let health = store.queue_health().await.unwrap();
    assert_eq!((health.queued, health.held, health.due), (3, 1, 2));

    let claimed = store.claim_jobs(&claim_all(&kinds)).await.unwrap();
    assert_eq!(claimed.len(), 2, "the suspended workspace's job is held");
    assert!(claimed.iter().all(|j| j.tenant_id != Some(bloom)));
    for j in &claimed {
        assert!(store.complete_job(j.id, j.attempts, "op-test").await.unwrap());
    }
    let wake = store.next_wake(&kinds).await.unwrap();
    assert_eq!(wake.next_due, None, "a held job does not wake the runner");

    assert!(store.resume_workspace(bloom, "cli:root").await.unwrap());
    assert!(!store.resume_workspace(bloom, "cli:root").await.unwrap(), "not suspended any more");
    assert!(store.next_wake(&kinds).await.unwrap().next_due.is_some());
    let claimed = store.claim_jobs(&claim_all(&kinds)).await.unwrap();
    assert_eq!(claimed.iter().map(|j| j.tenant_id).collect::<Vec<_>>(), [Some(bloom)]);

    let actions: Vec<String> = store.operator_actions(10).await.unwrap().into_iter().map(|a| a.action).collect();
    assert_eq!(actions, ["workspace.resumed", "workspace.suspended"]);
});

store_test!(dead_jobs_are_listed_and_retried_with_fresh_attempts, |store| {
    let (bloom, _) = workspace(&store, 1, "Bloom").await;
    let kinds = vec!["op.dead".to_string()];
    let now = now_ms();
    for _ in 0..2 {
        let job = NewJob::untyped("op.dead", serde_json::json!({})).tenant(bloom).run_at(now - 1).max_attempts(1);
        store.enqueue(&job).await.unwrap().unwrap();
    }
    for j in store.claim_jobs(&claim_all(&kinds)).await.unwrap() {
        assert!(store.finish_job(j.id, j.attempts, "op-test", JobState::Dead, Some("platform said no")).await.unwrap());
    }
    let dead = store.dead_jobs(10).await.unwrap();
    assert_eq!(dead.len(), 2);
    assert_eq!(store.queue_health().await.unwrap().dead, 2);

    assert_eq!(store.retry_dead_jobs(Some(dead[0].id), "telegram:1").await.unwrap(), 1);
    let again = store.job(dead[0].id).await.unwrap().unwrap();
    assert_eq!((again.state, again.attempts), (JobState::Queued, 0));
    assert_eq!(store.retry_dead_jobs(None, "cli:root").await.unwrap(), 1, "the other one");
    assert_eq!(store.retry_dead_jobs(None, "cli:root").await.unwrap(), 0, "none left");
    assert_eq!(store.claim_jobs(&claim_all(&kinds)).await.unwrap().len(), 2);

    let log = store.operator_actions(10).await.unwrap();
    assert_eq!(log.len(), 2, "a retry of nothing is not an action");
    assert_eq!(log[1].subject.as_deref(), Some(dead[0].id.to_db().as_str()));
});

store_test!(a_creation_code_is_claimed_once_and_spent_with_the_workspace, |store| {
    let cleo = store.upsert_user(&person(10, "Cleo")).await.unwrap();
    let dan = store.upsert_user(&person(11, "Dan")).await.unwrap();
    assert!(!store.holds_workspace_code(cleo.id).await.unwrap());
    assert!(store.create_tenant_spending_code("Nope", &TenantProfile::default(), 0, cleo.id).await.unwrap().is_none());

    let code = store.create_workspace_code("telegram:1", 60_000).await.unwrap();
    assert!(matches!(store.claim_workspace_code("nonsense", cleo.id).await, Err(CodeError::Unknown)));
    store.claim_workspace_code(&code.code, cleo.id).await.unwrap();
    store.claim_workspace_code(&code.code, cleo.id).await.unwrap();
    assert!(matches!(store.claim_workspace_code(&code.code, dan.id).await, Err(CodeError::Used)));
    assert!(store.holds_workspace_code(cleo.id).await.unwrap());

    let t = store.create_tenant_spending_code("Cleo's", &TenantProfile::default(), 0, cleo.id).await.unwrap();
    let t = t.expect("the code allows one workspace");
    assert_eq!(store.user(cleo.id).await.unwrap().active_tenant_id, Some(t.id));
    assert!(!store.holds_workspace_code(cleo.id).await.unwrap());
    assert!(
        store.create_tenant_spending_code("Again", &TenantProfile::default(), 0, cleo.id).await.unwrap().is_none(),
        "single use"
    );
    assert!(matches!(store.claim_workspace_code(&code.code, cleo.id).await, Err(CodeError::Used)));

    let expired = store.create_workspace_code("cli:root", -1).await.unwrap();
    assert!(matches!(store.claim_workspace_code(&expired.code, dan.id).await, Err(CodeError::Expired)));
    let log = store.operator_actions(10).await.unwrap();
    assert!(log.iter().all(|a| a.action == "code.created" && !a.details.to_string().contains(&code.code)));
});

store_test!(only_the_first_claim_makes_an_operator, |store| {
    assert_eq!(store.claimed_operator().await.unwrap(), None);
    let (a, b) = tokio::join!(store.claim_operator(7), store.claim_operator(8));
    assert!(a.unwrap() ^ b.unwrap(), "exactly one wins");
    let who = store.claimed_operator().await.unwrap().unwrap();
    assert!(who == 7 || who == 8);
    assert!(!store.claim_operator(9).await.unwrap());
    assert_eq!(store.claimed_operator().await.unwrap(), Some(who));
});
