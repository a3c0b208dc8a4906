//! Queued email through the job runner, against a real SMTP conversation with a local sink: an `email.deliver`
//! job sends the HTML with its inline chart read back from the data directory; a 5xx refusal fails the job at
//! once; a 4xx refusal and a server that cannot be reached are retried with the runner's backoff. With TLS: a
//! relay whose certificate comes from a CA the test made is trusted through `SMTP_CA_FILE` (STARTTLS and implicit
//! TLS, with AUTH); an untrusted certificate fails the job at once with a clear message, in the run history of
//! the automation that queued it and in one notice to the admins. Both databases.

use crate::common;

use std::collections::HashMap;
use std::time::Duration;
use tochen_config::{Config, SmtpTls};
use tochen_delivery::email::{EmailContent, EmailSender};
use tochen_delivery::email_queue;
use tochen_delivery::email_queue::{EmailJob, RunRef};
use tochen_domain::jobs::NOTIFY;
use tochen_domain::JobId;
use tochen_domain::JobState;
use tochen_domain::TenantId;
use tochen_domain::{MissedRunPolicy, RunOutcome};
use tochen_scheduler::handlers::delivery::EmailDeliverHandler;
use tochen_store::Store;
use tochen_store::{Job, NewDestination};
use tochen_testkit::smtp_sink::{SinkOptions, SmtpSink, TestPki};
use tochen_testkit::store_test;

fn content() -> EmailContent {
    EmailContent {
        subject: "Bloom: week 47".into(),
        text: "Views 321".into(),
        html: "<p>Views 321</p><img src=\"cid:chart\">".into(),
        chart_png: Some(vec![0x89, b'P', b'N', b'G']),
        attachments: vec![],
    }
}

/// Queues one email to `boss@bloom.test` and runs the runner with an `email.deliver` handler sending to `addr`
/// in clear (`SMTP_TLS=none`, allowed to loopback).
async fn queue_and_run(
    store: &Store,
    addr: &str,
    dir: &std::path::Path,
) -> (JobId, tokio_util::sync::CancellationToken) {
    let sender = EmailSender::new(&format!("smtp://{addr}"), "r@tochen.test", SmtpTls::None, &[]).unwrap();
    let tenant = common::workspace(store).await;
    let job = queue_email(store, tenant, dir, None).await;
    (job, run_with(store, sender, dir))
}

/// Queues one email to `boss@bloom.test` (a destination named Boss), for automation run `run` if given.
async fn queue_email(store: &Store, tenant: TenantId, dir: &std::path::Path, run: Option<&RunRef>) -> JobId {
    let d = match store.destinations(tenant).await.unwrap().into_iter().find(|d| d.name == "Boss") {
        Some(d) => d,
        None => store
            .create_destination(
                tenant,
                &NewDestination::Email { name: "Boss".into(), address: "boss@bloom.test".into() },
            )
            .await
            .unwrap(),
    };
    email_queue::queue(store, dir, tenant, d.id, "boss@bloom.test", &content(), run).await.unwrap().unwrap()
}

fn run_with(store: &Store, sender: EmailSender, dir: &std::path::Path) -> tokio_util::sync::CancellationToken {
    let mut handlers = tochen_scheduler::new_workers();
    handlers.register::<EmailJob, _>(EmailDeliverHandler { sender, data_dir: dir.to_owned() });
    let (token, _handle) = common::spawn_runner(store, handlers, common::quick_config("email-test"));
    token
}

/// The sender the service builds from its environment: `SMTP_URL`, `SMTP_FROM`, and `extra` (SMTP_TLS,
/// SMTP_CA_FILE...).
fn sender_from_env(url: &str, extra: &[(&str, &str)]) -> EmailSender {
    let mut vars: HashMap<String, String> = extra.iter().map(|(k, v)| ((*k).to_owned(), (*v).to_owned())).collect();
    vars.insert("SMTP_URL".into(), url.into());
    vars.insert("SMTP_FROM".into(), "tochen <r@tochen.test>".into());
    let config = Config::from_source(&vars).unwrap();
    EmailSender::from_config(config.smtp.as_ref().unwrap()).unwrap()
}

/// Queues one email in a new workspace and waits until the runner has sent it with `sender`.
async fn send_one(store: &Store, sender: EmailSender, dir: &std::path::Path) {
    let tenant = common::workspace(store).await;
    let id = queue_email(store, tenant, dir, None).await;
    let token = run_with(store, sender, dir);
    wait_state(store, id, JobState::Succeeded).await;
    token.cancel();
}

async fn wait_state(store: &Store, id: JobId, state: JobState) {
    common::wait_for("the email job to end", Duration::from_secs(20), || {
        let store = store.clone();
        async move { job(&store, id).await.state == state }
    })
    .await;
}

async fn job(store: &Store, id: JobId) -> Job {
    store.job(id).await.unwrap().unwrap()
}

store_test!(a_queued_email_is_sent_with_its_chart_read_from_the_data_directory, |store| {
    let sink = SmtpSink::start().await;
    let dir = tempfile::tempdir().unwrap();
    let (id, token) = queue_and_run(&store, &sink.addr.to_string(), dir.path()).await;
    let queued = job(&store, id).await;
    assert!(queued.payload["chart_path"].as_str().is_some_and(|p| dir.path().join(p).exists()));
    common::wait_for("the email job to finish", Duration::from_secs(20), || {
        let store = store.clone();
        async move { job(&store, id).await.state == JobState::Succeeded }
    })
    .await;
    token.cancel();
    let mails = sink.messages();
    assert_eq!((mails.len(), mails[0].to[0].as_str()), (1, "boss@bloom.test"));
    assert!(mails[0].data.contains("Content-ID: <chart>"));
});

store_test!(a_permanent_smtp_refusal_fails_the_email_job_without_retrying, |store| {
    let sink = SmtpSink::start_refusing("550 5.1.1 no such user").await;
    let dir = tempfile::tempdir().unwrap();
    let (id, token) = queue_and_run(&store, &sink.addr.to_string(), dir.path()).await;
    common::wait_for("the email job to fail", Duration::from_secs(20), || {
        let store = store.clone();
        async move { job(&store, id).await.state == JobState::Failed }
    })
    .await;
    token.cancel();
    let failed = job(&store, id).await;
    assert_eq!(failed.attempts, 1);
    assert!(failed.last_error.unwrap_or_default().contains("550"));
    assert!(sink.messages().is_empty());
});

store_test!(a_transient_smtp_refusal_is_retried_by_the_runner, |store| {
    let sink = SmtpSink::start_refusing("451 4.3.0 try again later").await;
    let dir = tempfile::tempdir().unwrap();
    let (id, token) = queue_and_run(&store, &sink.addr.to_string(), dir.path()).await;
    common::wait_for("a second attempt", Duration::from_secs(20), || {
        let store = store.clone();
        async move { job(&store, id).await.attempts >= 2 }
    })
    .await;
    token.cancel();
    let j = job(&store, id).await;
    assert_ne!(j.state, JobState::Failed);
    assert!(j.last_error.unwrap_or_default().contains("451"));
});

store_test!(an_unreachable_smtp_server_is_retried_by_the_runner, |store| {
    // A port that was just free: nothing listens there.
    let addr = std::net::TcpListener::bind("127.0.0.1:0").unwrap().local_addr().unwrap();
    let dir = tempfile::tempdir().unwrap();
    let (id, token) = queue_and_run(&store, &addr.to_string(), dir.path()).await;
    common::wait_for("a second attempt", Duration::from_secs(20), || {
        let store = store.clone();
        async move { job(&store, id).await.attempts >= 2 }
    })
    .await;
    token.cancel();
    assert_ne!(job(&store, id).await.state, JobState::Failed);
});

store_test!(a_relay_with_a_private_ca_is_trusted_through_smtp_ca_file_over_starttls_with_auth, |store| {
    let pki = TestPki::new();
    let sink = SmtpSink::start_with(SinkOptions::starttls(&pki).login("reports", "p@ss word")).await;
    let dir = tempfile::tempdir().unwrap();
    let ca = pki.write_ca(dir.path());
    let url = format!("smtp://reports:p%40ss%20word@localhost:{}", sink.addr.port());
    let sender = sender_from_env(&url, &[("SMTP_CA_FILE", ca.to_str().unwrap())]);
    send_one(&store, sender, dir.path()).await;
    let mails = sink.messages();
    assert_eq!(mails.len(), 1);
    assert!(mails[0].tls, "sent after STARTTLS");
    assert_eq!(mails[0].user.as_deref(), Some("reports"));
    assert_eq!(mails[0].to, ["boss@bloom.test"]);
});

store_test!(a_relay_with_implicit_tls_and_a_private_ca_gets_the_email, |store| {
    let pki = TestPki::new();
    let sink = SmtpSink::start_with(SinkOptions::implicit_tls(&pki)).await;
    let dir = tempfile::tempdir().unwrap();
    let ca = pki.write_ca(dir.path());
    let sender =
        sender_from_env(&format!("smtps://localhost:{}", sink.addr.port()), &[("SMTP_CA_FILE", ca.to_str().unwrap())]);
    send_one(&store, sender, dir.path()).await;
    assert!(sink.messages()[0].tls);
});

store_test!(plain_smtp_on_loopback_is_delivered_when_smtp_tls_is_none, |store| {
    let sink = SmtpSink::start().await;
    let dir = tempfile::tempdir().unwrap();
    let sender = sender_from_env(&format!("smtp://127.0.0.1:{}", sink.addr.port()), &[("SMTP_TLS", "none")]);
    send_one(&store, sender, dir.path()).await;
    let mails = sink.messages();
    assert_eq!(mails.len(), 1);
    assert!(!mails[0].tls);
});

store_test!(an_untrusted_certificate_fails_at_once_in_the_run_history_with_one_notice_to_the_admins, |store| {
    // The relay's CA is not given: its certificate is from an issuer nobody trusts.
    let pki = TestPki::new();
    let sink = SmtpSink::start_with(SinkOptions::starttls(&pki)).await;
    let dir = tempfile::tempdir().unwrap();
    let sender = sender_from_env(&format!("smtp://localhost:{}", sink.addr.port()), &[]);
    let tenant = common::workspace(&store).await;
    let new = crate::automations::new_automation("report", "0 9 * * 1", "UTC", MissedRunPolicy::RunOnce);
    let automation = store.create_automation(tenant, &new).await.unwrap().id;
    // Two runs, each queuing one email: the first finishes before its email fails, the second is still running
    // when it fails (its error must survive finishing the run).
    let first = store.start_manual_run(tenant, automation, 1).await.unwrap();
    store.finish_run(tenant, automation, &first, None).await.unwrap();
    let first_ref = RunRef { automation_id: automation, run_id: first.clone() };
    let second = store.start_manual_run(tenant, automation, 2).await.unwrap();
    let second_ref = RunRef { automation_id: automation, run_id: second.clone() };
    let a = queue_email(&store, tenant, dir.path(), Some(&first_ref)).await;
    let b = queue_email(&store, tenant, dir.path(), Some(&second_ref)).await;
    let token = run_with(&store, sender, dir.path());
    wait_state(&store, a, JobState::Failed).await;
    wait_state(&store, b, JobState::Failed).await;
    token.cancel();
    store.finish_run(tenant, automation, &second, None).await.unwrap();

    let failed = job(&store, a).await;
    assert_eq!(failed.attempts, 1, "a certificate problem is not retried");
    let error = failed.last_error.unwrap_or_default();
    assert!(error.starts_with("tls: invalid peer certificate: UnknownIssuer"), "{error}");
    assert!(error.contains("SMTP_CA_FILE"), "says what to do: {error}");
    assert!(sink.messages().is_empty());

    let runs = store.automation_runs(tenant, automation, 10).await.unwrap();
    for id in [&first, &second] {
        let run = runs.iter().find(|r| &r.id == id).unwrap();
        assert_eq!(run.outcome, RunOutcome::Failed, "{run:?}");
        let text = run.error.clone().unwrap_or_default();
        assert!(text.starts_with("Boss (email to boss@bloom.test): tls: invalid peer certificate"), "{text}");
    }
    let after = store.automation(tenant, automation).await.unwrap();
    assert_eq!(after.failure_count, 2);

    let notices: Vec<Job> = store
        .tenant_jobs(tenant, JobState::Queued, 50)
        .await
        .unwrap()
        .into_iter()
        .filter(|j| j.kind == NOTIFY)
        .collect();
    assert_eq!(notices.len(), 1, "the admins are told once: {notices:?}");
    assert_eq!(notices[0].payload["chat_id"], common::ADMIN_TG);
    let text = notices[0].payload["text_html"].as_str().unwrap();
    assert!(text.contains("boss@bloom.test") && text.contains("UnknownIssuer"), "{text}");
});
