//! Outgoing webhooks through a real HTTP receiver on 127.0.0.1, and the destination store, on both databases.
//!
//! The receiver verifies every request the way the Standard Webhooks reference libraries do (signature over
//! `id.timestamp.body`, several space-separated signatures, timestamp within five minutes), so passing here means
//! an off-the-shelf verifier accepts tochen's deliveries.

use axum::http::{HeaderMap, StatusCode};
use axum::response::IntoResponse;
use base64::engine::general_purpose::STANDARD as B64;
use base64::Engine;
use std::collections::VecDeque;
use std::future::Future;
use std::net::IpAddr;
use std::pin::Pin;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Duration;
use tochen_delivery::outbox::{replay, run_delivery, DeliveryStep};
use tochen_delivery::ssrf::Lookup;
use tochen_delivery::webhook::{sign, AttemptVerdict, WebhookSecret, WebhookSender, MAX_RETRY_AFTER, SNIPPET_BYTES};
use tochen_domain::jobs::DeliverPayload;
use tochen_domain::jobs::{NOTIFY, WEBHOOK_DELIVER};
use tochen_domain::{DestinationStatus, JobState};
use tochen_domain::{SecretString, TenantId};
use tochen_store::events::queue_event;
use tochen_store::Store;
use tochen_store::{DeliveryStatus, NewDestination, TelegramIdentity, TenantProfile};
use tochen_testkit::store_test;

/// What a receiver saw: headers of interest and the raw body.
#[derive(Debug, Clone)]
struct Seen {
    id: String,
    timestamp: String,
    signature: String,
    content_type: String,
    body: String,
}

/// A status and extra headers the receiver answers with.
type Reply = (u16, Vec<(&'static str, String)>);

#[derive(Clone, Default)]
struct Receiver {
    script: Arc<Mutex<VecDeque<Reply>>>,
    seen: Arc<Mutex<Vec<Seen>>>,
}

impl Receiver {
    async fn start(script: Vec<Reply>) -> (Self, String) {
        let r = Receiver { script: Arc::new(Mutex::new(script.into())), ..Default::default() };
        let state = r.clone();
        let app = axum::Router::new().fallback(move |headers: HeaderMap, body: String| {
            let state = state.clone();
            async move {
                let h = |n: &str| headers.get(n).and_then(|v| v.to_str().ok()).unwrap_or_default().to_owned();
                state.seen.lock().unwrap().push(Seen {
                    id: h("webhook-id"),
                    timestamp: h("webhook-timestamp"),
                    signature: h("webhook-signature"),
                    content_type: h("content-type"),
                    body,
                });
                let (status, extra) = state.script.lock().unwrap().pop_front().unwrap_or((200, vec![]));
                let mut resp = (StatusCode::from_u16(status).unwrap(), "receiver says hi").into_response();
                for (k, v) in extra {
                    resp.headers_mut().insert(k, v.parse().unwrap());
                }
                resp
            }
        });
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let addr = listener.local_addr().unwrap();
        tokio::spawn(async move { axum::serve(listener, app).await.unwrap() });
        (r, format!("http://{addr}/hooks"))
    }

    fn seen(&self) -> Vec<Seen> {
        self.seen.lock().unwrap().clone()
    }
}

/// A receiver-side verifier following the reference libraries' rules.
fn verify(secret: &str, seen: &Seen, now_secs: i64) -> Result<(), &'static str> {
    let key = B64.decode(secret.strip_prefix("whsec_").ok_or("no prefix")?).map_err(|_| "bad secret")?;
    let ts: i64 = seen.timestamp.parse().map_err(|_| "bad timestamp")?;
    if (now_secs - ts).abs() > 5 * 60 {
        return Err("timestamp outside tolerance");
    }
    let expected = sign(&key, &seen.id, ts, seen.body.as_bytes());
    let expected_b64 = expected.strip_prefix("v1,").unwrap();
    seen.signature
        .split(' ')
        .filter_map(|s| s.strip_prefix("v1,"))
        .any(|s| s == expected_b64)
        .then_some(())
        .ok_or("no matching signature")
}

async fn workspace(store: &Store, telegram_id: i64) -> TenantId {
    let who = TelegramIdentity {
        telegram_id,
        username: None,
        first_name: "Anna".into(),
        last_name: None,
        language_code: Some("en".into()),
    };
    let admin = store.upsert_user(&who).await.unwrap();
    let t = store.create_tenant("Bloom Coffee", &TenantProfile::default(), 0, admin.id).await.unwrap();
    store.set_team_chat(t.id, Some(-100_777)).await.unwrap();
    t.id
}

async fn webhook(store: &Store, tenant: TenantId, url: &str) -> (tochen_domain::DestinationId, WebhookSecret) {
    let secret = WebhookSecret::generate();
    let d = store
        .create_destination(
            tenant,
            &NewDestination::Webhook {
                name: "CRM".into(),
                url: url.into(),
                secret: SecretString::new(secret.expose()),
            },
        )
        .await
        .unwrap();
    (d.id, secret)
}

fn sender(allow_private: bool) -> WebhookSender {
    WebhookSender::new(allow_private, Duration::from_secs(15)).unwrap()
}

#[test]
fn the_reference_verifier_accepts_a_rotation_header_and_refuses_stale_timestamps() {
    let old = WebhookSecret::generate();
    let new = WebhookSecret::generate();
    let body = r#"{"type":"post.published"}"#;
    let ts = 1_800_000_000;
    let seen = Seen {
        id: "msg_1".into(),
        timestamp: ts.to_string(),
        signature: format!(
            "{} {}",
            sign(&old.key(), "msg_1", ts, body.as_bytes()),
            sign(&new.key(), "msg_1", ts, body.as_bytes())
        ),
        content_type: "application/json".into(),
        body: body.into(),
    };
    assert_eq!(verify(new.expose(), &seen, ts + 299), Ok(()));
    assert_eq!(verify(old.expose(), &seen, ts - 299), Ok(()));
    assert_eq!(verify(new.expose(), &seen, ts + 301), Err("timestamp outside tolerance"));
    let tampered = Seen { body: r#"{"type":"post.failed"}"#.into(), ..seen };
    assert_eq!(verify(new.expose(), &tampered, ts), Err("no matching signature"));
}

store_test!(retries_keep_the_webhook_id_and_every_attempt_verifies, |store| {
    let tenant = workspace(&store, 1).await;
    let (rx, url) = Receiver::start(vec![(500, vec![]), (503, vec![("retry-after", "1".into())]), (204, vec![])]).await;
    let (dest, secret) = webhook(&store, tenant, &url).await;
    let ids = queue_event(&store, tenant, "post.published", serde_json::json!({"post_id": "p1"})).await.unwrap();
    assert_eq!(ids.len(), 1);
    let p = DeliverPayload { tenant_id: tenant, delivery_id: ids[0], round_start: 0 };
    let s = sender(true);
    assert!(matches!(run_delivery(&store, &s, &p).await.unwrap(), DeliveryStep::RetryAt(_)));
    assert!(matches!(run_delivery(&store, &s, &p).await.unwrap(), DeliveryStep::RetryAt(_)));
    assert_eq!(run_delivery(&store, &s, &p).await.unwrap(), DeliveryStep::Delivered);
    assert_eq!(
        run_delivery(&store, &s, &p).await.unwrap(),
        DeliveryStep::Skipped,
        "a delivered message is not re-sent"
    );

    let seen = rx.seen();
    assert_eq!(seen.len(), 3);
    let now = chrono::Utc::now().timestamp();
    for s in &seen {
        assert_eq!(s.id, seen[0].id, "the same webhook-id on every retry");
        assert_eq!(s.content_type, "application/json");
        verify(secret.expose(), s, now).unwrap();
        let body: serde_json::Value = serde_json::from_str(&s.body).unwrap();
        assert_eq!(body["type"], "post.published");
        assert_eq!(body["data"]["post_id"], "p1");
        assert!(body["timestamp"].as_str().unwrap().ends_with('Z'));
    }
    let d = store.delivery(tenant, ids[0]).await.unwrap();
    assert_eq!((d.status, d.attempts, d.message_id.clone()), (DeliveryStatus::Delivered, 3, seen[0].id.clone()));
    let attempts = store.delivery_attempts(tenant, ids[0]).await.unwrap();
    let codes: Vec<_> = attempts.iter().map(|a| a.status_code).collect();
    assert_eq!(codes, [Some(500), Some(503), Some(204)]);
    assert_eq!(attempts[0].response_snippet.as_deref(), Some("receiver says hi"));
    assert_eq!(store.deliveries(tenant, dest, 50).await.unwrap().len(), 1);

    // A replay sends the same id and body once more, with a fresh schedule.
    replay(&store, tenant, ids[0]).await.unwrap();
    let p2 = DeliverPayload { round_start: 3, ..p };
    assert_eq!(run_delivery(&store, &s, &p2).await.unwrap(), DeliveryStep::Delivered);
    let seen = rx.seen();
    assert_eq!((seen[3].id.as_str(), seen[3].body.as_str()), (seen[0].id.as_str(), seen[0].body.as_str()));
    assert_ne!(seen[3].signature, "");
});

store_test!(failures_follow_the_schedule_then_give_up_and_tell_the_team, |store| {
    let tenant = workspace(&store, 2).await;
    let (_rx, url) = Receiver::start((0..8).map(|_| (500, vec![])).collect()).await;
    let (_dest, _secret) = webhook(&store, tenant, &url).await;
    let id = queue_event(&store, tenant, "alert.triggered", serde_json::json!({})).await.unwrap()[0];
    let p = DeliverPayload { tenant_id: tenant, delivery_id: id, round_start: 0 };
    let s = sender(true);
    let expected = [5u64, 300, 1800, 7200, 18000, 36000, 36000];
    for wait in expected {
        let before = chrono::Utc::now().timestamp_millis();
        match run_delivery(&store, &s, &p).await.unwrap() {
            DeliveryStep::RetryAt(at) => {
                let delay = (at - before) / 1000;
                assert!(delay >= wait as i64 && delay <= (wait as f64 * 1.1) as i64 + 60, "{delay} vs {wait}");
            }
            other => panic!("expected a retry, got {other:?}"),
        }
    }
    assert_eq!(run_delivery(&store, &s, &p).await.unwrap(), DeliveryStep::GaveUp);
    assert_eq!(store.delivery(tenant, id).await.unwrap().status, DeliveryStatus::Failed);
    let jobs = store.tenant_jobs(tenant, JobState::Queued, 100).await.unwrap();
    assert_eq!(jobs.iter().filter(|j| j.kind == WEBHOOK_DELIVER).count(), 8, "the first attempt plus 7 retries");
    let notice = jobs.iter().find(|j| j.kind == NOTIFY).expect("the team is told");
    assert_eq!(notice.payload["chat_id"], -100_777);
    assert!(notice.payload["text_html"].as_str().unwrap().contains("CRM"));
});

store_test!(gone_disables_the_destination_and_redirects_are_failures, |store| {
    let tenant = workspace(&store, 3).await;
    // The redirect points at a live receiver: following it would deliver there.
    let (elsewhere, elsewhere_url) = Receiver::start(vec![]).await;
    let (rx, url) = Receiver::start(vec![(302, vec![("location", elsewhere_url)]), (410, vec![])]).await;
    let (dest, _secret) = webhook(&store, tenant, &url).await;
    let id = queue_event(&store, tenant, "post.failed", serde_json::json!({})).await.unwrap()[0];
    let p = DeliverPayload { tenant_id: tenant, delivery_id: id, round_start: 0 };
    let s = sender(true);
    assert!(matches!(run_delivery(&store, &s, &p).await.unwrap(), DeliveryStep::RetryAt(_)), "3xx is a failure");
    assert_eq!(rx.seen().len(), 1);
    assert!(elsewhere.seen().is_empty(), "the redirect was not followed: {:?}", elsewhere.seen());
    assert_eq!(store.delivery_attempts(tenant, id).await.unwrap()[0].status_code, Some(302));
    assert_eq!(run_delivery(&store, &s, &p).await.unwrap(), DeliveryStep::Disabled);
    let d = store.destination(tenant, dest).await.unwrap();
    assert_eq!(d.status, DestinationStatus::Disabled);
    assert_eq!(store.delivery(tenant, id).await.unwrap().status, DeliveryStatus::Failed);
    assert!(queue_event(&store, tenant, "post.failed", serde_json::json!({})).await.unwrap().is_empty());
});

store_test!(loopback_receivers_are_refused_unless_private_addresses_are_allowed, |store| {
    let tenant = workspace(&store, 4).await;
    let (rx, url) = Receiver::start(vec![]).await;
    let (_dest, _secret) = webhook(&store, tenant, &url).await;
    let localhost = url.replace("127.0.0.1", "localhost");
    let (_dest2, _secret2) = webhook(&store, tenant, &localhost).await;
    let ids = queue_event(&store, tenant, "post.published", serde_json::json!({})).await.unwrap();
    let s = sender(false);
    for id in &ids {
        let p = DeliverPayload { tenant_id: tenant, delivery_id: *id, round_start: 0 };
        assert!(matches!(run_delivery(&store, &s, &p).await.unwrap(), DeliveryStep::RetryAt(_)));
        let a = store.delivery_attempts(tenant, *id).await.unwrap();
        assert_eq!(a[0].status_code, None);
        assert!(a[0].error.as_deref().unwrap().contains("private, loopback"), "{:?}", a[0].error);
    }
    assert!(rx.seen().is_empty(), "no request reached the loopback receiver");
});

store_test!(destinations_keep_secrets_encrypted_and_follow_group_migration, |store| {
    let tenant = workspace(&store, 5).await;
    let other = workspace(&store, 6).await;
    let secret = WebhookSecret::generate();
    let hook = store
        .create_destination(
            tenant,
            &NewDestination::Webhook {
                name: "Zapier".into(),
                url: "https://hooks.example.com/x".into(),
                secret: SecretString::new(secret.expose()),
            },
        )
        .await
        .unwrap();
    let raw: (String,) = sqlx::query_as("SELECT secret_enc FROM destinations WHERE id = $1")
        .bind(hook.id.to_db())
        .fetch_one(store.sql_for_tests())
        .await
        .unwrap();
    assert!(!raw.0.contains("whsec_"));
    assert_eq!(store.destination_secret(tenant, hook.id).await.unwrap().expose(), secret.expose());
    assert!(store.destination(other, hook.id).await.is_err(), "another workspace cannot read it");

    let group = NewDestination::Telegram { name: "Clients".into(), chat_id: -4242 };
    let a = store.create_destination(tenant, &group).await.unwrap();
    let b = store.create_destination(other, &group).await.unwrap();
    store
        .create_destination(tenant, &NewDestination::Email { name: "Boss".into(), address: "b@example.com".into() })
        .await
        .unwrap();
    assert_eq!(store.destinations(tenant).await.unwrap().len(), 3);

    let mut moved = store.migrate_destination_chat(-4242, -100_4242).await.unwrap();
    moved.sort();
    let mut both = vec![tenant, other];
    both.sort();
    assert_eq!(moved, both);
    assert_eq!(store.destination(tenant, a.id).await.unwrap().telegram_chat_id, Some(-100_4242));
    assert!(store.destinations_by_chat(-4242).await.unwrap().is_empty());

    let told = store.deactivate_chat_destinations(-100_4242, "bot was kicked").await.unwrap();
    assert_eq!(told.len(), 2);
    let b = store.destination(other, b.id).await.unwrap();
    assert_eq!((b.status, b.status_reason.as_deref()), (DestinationStatus::Inactive, Some("bot was kicked")));
    store.set_destination_status(other, b.id, DestinationStatus::Active, None).await.unwrap();
    assert!(store.delete_destination(tenant, a.id).await.unwrap());
    assert!(!store.delete_destination(tenant, a.id).await.unwrap());
    assert_eq!(store.destinations(tenant).await.unwrap().len(), 2);
});

store_test!(account_events_are_logged_for_every_active_webhook, |store| {
    let tenant = workspace(&store, 7).await;
    let (dest, _secret) = webhook(&store, tenant, "https://crm.example.com/hooks").await;
    let new = tochen_store::NewAccount {
        platform: tochen_domain::Platform::TikTok,
        auth_kind: tochen_domain::AuthKind::TikTok,
        external_id: "open-1".into(),
        name: "bloom.tt".into(),
        access_token: SecretString::new("t"),
        refresh_token: None,
        scopes: vec![],
        token_expires_at: Some(1_800_000_000_000),
        refresh_expires_at: None,
        connected_by: None,
    };
    let account = store.upsert_account(tenant, &new).await.unwrap();
    tochen_store::events::account_connected(&store, &account).await.unwrap();
    tochen_store::events::account_needs_reconnect(&store, tenant, account.id, "token revoked").await.unwrap();
    let log = store.deliveries(tenant, dest, 10).await.unwrap();
    let types: Vec<&str> = log.iter().map(|d| d.event_type.as_str()).collect();
    assert_eq!(types.len(), 2);
    assert!(types.contains(&"account.connected") && types.contains(&"account.needs_reconnect"));
    let body: serde_json::Value =
        serde_json::from_str(&log.iter().find(|d| d.event_type == "account.connected").unwrap().payload).unwrap();
    assert_eq!(body["data"]["platform"], "tiktok");
    assert_eq!(body["data"]["token_expires_at"], "2027-01-15T08:00:00Z");
    assert_ne!(log[0].message_id, log[1].message_id, "each event has its own webhook-id");
});

store_test!(an_enormous_retry_after_is_honoured_for_an_hour_at_most, |store| {
    let tenant = workspace(&store, 8).await;
    let (rx, url) = Receiver::start(vec![
        (429, vec![("retry-after", u64::MAX.to_string())]),
        (503, vec![("retry-after", "999999".into())]),
    ])
    .await;
    let (_dest, _secret) = webhook(&store, tenant, &url).await;
    let id = queue_event(&store, tenant, "post.published", serde_json::json!({})).await.unwrap()[0];
    let s = sender(true);
    for round_start in [0, 1] {
        let p = DeliverPayload { tenant_id: tenant, delivery_id: id, round_start };
        let before = chrono::Utc::now().timestamp_millis();
        let at = match run_delivery(&store, &s, &p).await.unwrap() {
            DeliveryStep::RetryAt(at) => at,
            other => panic!("expected a retry, got {other:?}"),
        };
        let after = chrono::Utc::now().timestamp_millis();
        let hour = MAX_RETRY_AFTER.as_millis() as i64;
        assert!(at >= before + hour && at <= after + hour, "retry {} ms from now, not an hour", at - before);
    }
    assert_eq!(rx.seen().len(), 2);
});

/// A receiver that answers 200 with a `total`-byte body and counts how much of it it managed to write.
async fn streaming_receiver(total: usize) -> (String, tokio::task::JoinHandle<usize>) {
    use tokio::io::{AsyncReadExt, AsyncWriteExt};
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let url = format!("http://{}/hooks", listener.local_addr().unwrap());
    let task = tokio::spawn(async move {
        let (mut conn, _) = listener.accept().await.unwrap();
        // Read the request: headers, then the body its content-length announces.
        let mut request = Vec::new();
        let mut buf = [0u8; 8192];
        let body_len = loop {
            let n = conn.read(&mut buf).await.unwrap();
            assert!(n > 0, "the sender sent a whole request");
            request.extend_from_slice(&buf[..n]);
            if let Some(end) = request.windows(4).position(|w| w == b"\r\n\r\n") {
                let head = String::from_utf8_lossy(&request[..end]).to_ascii_lowercase();
                let len: usize = head
                    .lines()
                    .find_map(|l| l.strip_prefix("content-length:"))
                    .map(|v| v.trim().parse().unwrap())
                    .unwrap_or(0);
                break end + 4 + len;
            }
        };
        while request.len() < body_len {
            let n = conn.read(&mut buf).await.unwrap();
            assert!(n > 0);
            request.extend_from_slice(&buf[..n]);
        }
        let head = format!("HTTP/1.1 200 OK\r\ncontent-type: text/plain\r\ncontent-length: {total}\r\n\r\n");
        conn.write_all(head.as_bytes()).await.unwrap();
        let chunk = vec![b'x'; 64 * 1024];
        let mut written = 0;
        while written < total {
            match conn.write(&chunk[..chunk.len().min(total - written)]).await {
                Ok(0) | Err(_) => break, // the sender hung up
                Ok(n) => written += n,
            }
        }
        written
    });
    (url, task)
}

#[tokio::test]
async fn a_huge_response_body_is_not_downloaded() {
    const TOTAL: usize = 128 * 1024 * 1024;
    let (url, receiver) = streaming_receiver(TOTAL).await;
    let secret = WebhookSecret::generate();
    let report = sender(true).send(&url.parse().unwrap(), &[secret], "msg_1", "{}").await;
    assert_eq!(report.verdict, AttemptVerdict::Delivered);
    let snippet = report.response_snippet.unwrap();
    assert!(snippet.len() <= SNIPPET_BYTES && snippet.chars().all(|c| c == 'x'), "{}", snippet.len());
    let written = tokio::time::timeout(Duration::from_secs(60), receiver).await.expect("the receiver stops").unwrap();
    // What the kernel buffers took before the sender hung up, never the whole body.
    assert!(written < TOTAL / 2, "the sender downloaded {written} of {TOTAL} bytes");
}

/// A DNS server that rebinds: a public address for the first question, loopback for every later one.
#[derive(Debug, Default)]
struct Rebinding {
    questions: AtomicUsize,
}

impl Lookup for Rebinding {
    fn lookup<'a>(&'a self, _host: &'a str) -> Pin<Box<dyn Future<Output = std::io::Result<Vec<IpAddr>>> + Send + 'a>> {
        let n = self.questions.fetch_add(1, Ordering::SeqCst);
        let ip: IpAddr = if n == 0 { "93.184.216.34".parse().unwrap() } else { "127.0.0.1".parse().unwrap() };
        Box::pin(async move { Ok(vec![ip]) })
    }
}

#[tokio::test]
async fn a_name_that_rebinds_to_loopback_after_the_check_is_not_connected_to() {
    let (rx, url) = Receiver::start(vec![]).await;
    let port = url.rsplit(':').next().unwrap().split('/').next().unwrap().to_owned();
    let rebinding = Arc::new(Rebinding::default());
    let s = WebhookSender::with_lookup(false, Duration::from_secs(15), rebinding.clone()).unwrap();
    let target: url::Url = format!("http://hooks.rebind.example:{port}/hooks").parse().unwrap();
    let report = s.send(&target, &[WebhookSecret::generate()], "msg_1", "{}").await;
    assert_eq!(rebinding.questions.load(Ordering::SeqCst), 2, "checked first, then resolved again to connect");
    assert_eq!(report.status_code, None);
    assert!(report.error.as_deref().unwrap().contains("127.0.0.1"), "{:?}", report.error);
    assert!(rx.seen().is_empty(), "nothing reached the loopback receiver");
}

store_test!(event_filters_choose_what_a_webhook_receives_and_a_ping_is_signed_and_logged, |store| {
    let tenant = workspace(&store, 9).await;
    let (rx, url) = Receiver::start(vec![(204, vec![])]).await;
    let (dest, secret) = webhook(&store, tenant, &url).await;
    let (other, _) = webhook(&store, tenant, &format!("{url}/other")).await;
    store
        .set_destination_events(tenant, dest, Some(&["post.failed".to_owned(), "post.failed".to_owned()]))
        .await
        .unwrap();
    let d = store.destination(tenant, dest).await.unwrap();
    assert_eq!(d.event_types, Some(vec!["post.failed".to_owned()]), "kept once");
    assert!(d.receives("post.failed") && d.receives("ping") && !d.receives("post.published"));

    // Broadcast events, events prepared for a transaction, and automation results all follow the filter.
    let published = queue_event(&store, tenant, "post.published", serde_json::json!({})).await.unwrap();
    let failed = queue_event(&store, tenant, "post.failed", serde_json::json!({})).await.unwrap();
    assert_eq!((published.len(), failed.len()), (1, 2), "the filtered webhook gets post.failed only");
    assert!(store.deliveries(tenant, dest, 10).await.unwrap().iter().all(|x| x.event_type == "post.failed"));
    let prepared =
        tochen_store::events::prepare_event(&store, tenant, "account.connected", serde_json::json!({})).await.unwrap();
    assert_eq!(prepared.iter().map(|(d, _)| d.destination_id).collect::<Vec<_>>(), vec![other]);
    let deps = tochen_delivery::automations::DeliveryDeps {
        email: None,
        data_dir: std::env::temp_dir(),
        sources: tochen_delivery::sources::Sources::new(false),
        run: None,
    };
    let out = tochen_delivery::automations::Outgoing {
        webhook: Some(("report.generated".into(), serde_json::json!({}))),
        ..Default::default()
    };
    let both = [d.clone(), store.destination(tenant, other).await.unwrap()];
    let sent = tochen_delivery::automations::deliver(&store, &deps, tenant, &both, &out).await.unwrap();
    assert_eq!(sent, 1, "the report went to the unfiltered webhook only");
    assert!(!store.deliveries(tenant, dest, 10).await.unwrap().iter().any(|x| x.event_type == "report.generated"));

    // "All events" again.
    store.set_destination_events(tenant, dest, None).await.unwrap();
    assert!(store.destination(tenant, dest).await.unwrap().receives("report.generated"));
    store.set_destination_events(tenant, dest, Some(&["post.failed".to_owned()])).await.unwrap();

    // A ping ignores the filter, is signed like every event, and is logged with its webhook-id and attempt.
    let ping = tochen_delivery::outbox::ping(&store, &sender(true), tenant, dest).await.unwrap();
    assert_eq!(ping.report.verdict, AttemptVerdict::Delivered);
    let seen = rx.seen();
    assert_eq!(seen.len(), 1);
    assert_eq!(seen[0].id, ping.message_id);
    verify(secret.expose(), &seen[0], chrono::Utc::now().timestamp()).unwrap();
    let body: serde_json::Value = serde_json::from_str(&seen[0].body).unwrap();
    assert_eq!((body["type"].as_str(), body["data"]["name"].as_str()), (Some("ping"), Some("CRM")));
    let logged = store.deliveries(tenant, dest, 10).await.unwrap();
    let row = logged.iter().find(|x| x.message_id == ping.message_id).expect("the ping is in the log");
    assert_eq!((row.event_type.as_str(), row.status, row.attempts), ("ping", DeliveryStatus::Delivered, 1));
    assert_eq!(store.delivery_attempts(tenant, row.id).await.unwrap()[0].status_code, Some(204));

    // Another workspace's destination cannot be pinged or filtered.
    let stranger = workspace(&store, 10).await;
    assert!(tochen_delivery::outbox::ping(&store, &sender(true), stranger, dest).await.is_err());
    assert!(store.set_destination_events(stranger, dest, None).await.is_err());
    assert_eq!(rx.seen().len(), 1);
});
