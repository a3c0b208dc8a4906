//! Queued email through the job runner, against a real SMTP conversation with a local sink: an `email.deliver`
//! job sends the HTML with its inline chart read back from the data directory; a 5xx refusal fails the job at
//! once; a 4xx refusal and a server that cannot be reached are retried with the runner's backoff. Both databases.

use crate::common;

use std::time::Duration;
use tochen_delivery::email::{EmailContent, EmailSender, SmtpSecurity};
use tochen_delivery::email_queue;
use tochen_delivery::email_queue::EmailJob;
use tochen_domain::JobId;
use tochen_domain::JobState;
use tochen_scheduler::handlers::delivery::EmailDeliverHandler;
use tochen_store::Store;
use tochen_store::{Job, NewDestination};
use tochen_testkit::smtp_sink::SmtpSink;
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

/// Queues one email to `boss@bloom.test` and runs the runner with an `email.deliver` handler sending to `addr`.
async fn queue_and_run(
    store: &Store,
    addr: &str,
    dir: &std::path::Path,
) -> (JobId, tokio_util::sync::CancellationToken) {
    let tenant = common::workspace(store).await;
    let d = store
        .create_destination(tenant, &NewDestination::Email { name: "Boss".into(), address: "boss@bloom.test".into() })
        .await
        .unwrap();
    let job = email_queue::queue(store, dir, tenant, d.id, "boss@bloom.test", &content()).await.unwrap().unwrap();
    let sender = EmailSender::new(&format!("smtp://{addr}"), "r@tochen.test", SmtpSecurity::PlaintextLoopback).unwrap();
    let mut handlers = tochen_scheduler::new_workers();
    handlers.register::<EmailJob, _>(EmailDeliverHandler { sender, data_dir: dir.to_owned() });
    let (token, _handle) = common::spawn_runner(store, handlers, common::quick_config("email-test"));
    (job, token)
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
