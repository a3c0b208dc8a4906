//! `tochen admin` at a shell, on both databases: what it prints is what the store holds, every action is audited
//! as `cli:<login>`, and a suspended workspace's due job is held until `resume`.

use std::process::{Command, Output};
use tochen_domain::clock::now_ms;
use tochen_domain::JobState;
use tochen_store::{ClaimRequest, NewJob, TenantProfile};
use tochen_testkit::person;
use tochen_testkit::{store_test, TestDb};

/// `tochen admin <args>` against `db`, as the operator `ops`.
pub(crate) fn admin(db: &TestDb, args: &[&str]) -> Output {
    let dir = tempfile::tempdir().unwrap();
    Command::new(env!("CARGO_BIN_EXE_tochen"))
        .arg("admin")
        .args(args)
        .current_dir(dir.path())
        .env_clear()
        .env("PATH", std::env::var("PATH").unwrap_or_default())
        .env("USER", "ops")
        .env("DATABASE_URL", &db.url)
        .env("TOCHEN_SECRET_KEYS", &db.key)
        .output()
        .expect("run tochen admin")
}

/// The output of a run that succeeded.
pub(crate) fn ok(out: Output) -> String {
    let stdout = String::from_utf8_lossy(&out.stdout).into_owned();
    assert!(out.status.success(), "stdout: {stdout}\nstderr: {}", String::from_utf8_lossy(&out.stderr));
    stdout
}

fn failed(out: Output) -> String {
    assert!(!out.status.success(), "{}", String::from_utf8_lossy(&out.stdout));
    String::from_utf8_lossy(&out.stderr).into_owned()
}

#[test]
fn every_admin_command_has_help() {
    let dir = tempfile::tempdir().unwrap();
    for cmd in ["workspaces", "quota", "suspend", "resume", "jobs", "retry", "costs", "code"] {
        let out =
            Command::new(env!("CARGO_BIN_EXE_tochen")).args(["admin", cmd, "--help"]).current_dir(dir.path()).output();
        let out = out.unwrap();
        assert!(out.status.success(), "admin {cmd} --help failed");
        assert!(String::from_utf8_lossy(&out.stdout).contains("Usage: tochen admin"), "{cmd}");
    }
}

store_test!(the_command_line_operates_workspaces_and_the_queue, |store, db| {
    let anna = store.upsert_user(&person(1, "Anna")).await.unwrap();
    let bloom = store.create_tenant("Bloom Coffee", &TenantProfile::default(), 1000, anna.id).await.unwrap().id;
    let usage = tochen_testkit::llm_call("gpt-4o-mini", 1200, 1_234_567);
    store.record_llm_usage(bloom, &usage).await.unwrap();

    let list = ok(admin(&db, &["workspaces"]));
    let row = list.lines().find(|l| l.contains("Bloom Coffee")).expect(&list);
    assert!(row.contains(&bloom.to_db()) && row.contains("active") && row.contains("1200"), "{row}");
    assert!(row.contains("$1.2345") && row.contains("1000"), "{row}");
    let costs = ok(admin(&db, &["costs"]));
    assert!(costs.contains("gpt-4o-mini") && costs.contains("1200 tokens") && costs.contains("$1.2345"), "{costs}");

    // Quota by name, case-insensitively; bad values change nothing.
    assert!(ok(admin(&db, &["quota", "bloom coffee", "50_000"])).contains("50000"));
    assert_eq!(store.tenant(bloom).await.unwrap().llm_monthly_token_quota, 50_000);
    assert!(failed(admin(&db, &["quota", "bloom coffee", "lots"])).contains("\"lots\" is not a quota"));
    assert!(failed(admin(&db, &["quota", "nobody", "5"])).contains("no workspace is named \"nobody\""));
    ok(admin(&db, &["quota", &bloom.to_db()[..8], "unlimited"]));
    assert_eq!(store.tenant(bloom).await.unwrap().llm_monthly_token_quota, 0);

    // Suspend: the due job is held; resume: it is claimable.
    let job = NewJob::untyped("cli.test", serde_json::json!({})).tenant(bloom).run_at(now_ms() - 1);
    let job = store.enqueue(&job).await.unwrap().unwrap();
    assert!(ok(admin(&db, &["suspend", "Bloom Coffee"])).contains("suspended"));
    assert!(ok(admin(&db, &["suspend", "Bloom Coffee"])).contains("already suspended"));
    assert!(ok(admin(&db, &["workspaces"])).lines().any(|l| l.contains("Bloom Coffee") && l.contains("suspended")));
    assert!(ok(admin(&db, &["jobs"])).contains("1 held"));
    let kinds = vec!["cli.test".to_string()];
    let req = ClaimRequest { owner: "t", limit: 10, lease_ms: 60_000, per_key: 1, kinds: &kinds };
    assert!(store.claim_jobs(&req).await.unwrap().is_empty(), "held while suspended");
    assert!(ok(admin(&db, &["resume", "Bloom Coffee"])).contains("resumed"));
    let claimed = store.claim_jobs(&req).await.unwrap();
    assert_eq!(claimed.iter().map(|j| j.id).collect::<Vec<_>>(), [job]);

    // A dead job is listed and retried.
    let j = &claimed[0];
    store.finish_job(j.id, j.attempts, "t", JobState::Dead, Some("platform said no")).await.unwrap();
    let jobs = ok(admin(&db, &["jobs"]));
    assert!(jobs.contains("1 dead") && jobs.contains(&job.to_string()) && jobs.contains("platform said no"), "{jobs}");
    assert!(failed(admin(&db, &["retry"])).contains("--all"));
    assert!(failed(admin(&db, &["retry", "not-a-job"])).contains("is not a job id"));
    assert!(ok(admin(&db, &["retry", &job.to_string()])).contains("1 dead job(s) queued again"));
    assert_eq!(store.job(job).await.unwrap().unwrap().state, JobState::Queued);
    assert!(failed(admin(&db, &["retry", &job.to_string()])).contains("is not dead"));

    // A creation link; without a bot token the username is a placeholder.
    let code = ok(admin(&db, &["code", "--days", "3"]));
    assert!(code.contains("?start=new_") && code.contains("single use"), "{code}");
    assert!(failed(admin(&db, &["code", "--days", "0"])).contains("--days 0"));

    let log = store.operator_actions(50).await.unwrap();
    assert!(log.iter().all(|a| a.actor == "cli:ops"), "{log:?}");
    let mut actions: Vec<&str> = log.iter().map(|a| a.action.as_str()).collect();
    actions.sort_unstable();
    assert_eq!(
        actions,
        [
            "code.created",
            "jobs.retried",
            "workspace.quota_set",
            "workspace.quota_set",
            "workspace.resumed",
            "workspace.suspended"
        ]
    );
});
