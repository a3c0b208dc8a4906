//! A `webhook.event` job retried for any reason (a crash after part of the work, an expired lease, a retryable
//! error) must not repeat what the event caused: one message per comment or reaction, one account marked and one
//! outgoing `account.needs_reconnect` per revoked authorization, one settled target (with one announcement and
//! one outgoing event) per TikTok publish report. Every event type is processed twice, by `process_event` and by
//! the job handler; then the crash gaps are replayed: effects written but the event still `received`, an error in
//! the middle of the writes, two runs at once.

use crate::common;

use common::{account, scheduled_post, workspace, ADMIN_TG, AUTHOR_CHAT};
use tochen_delivery::webhook::WebhookSecret;
use tochen_domain::ids::{AccountId, TargetId, TenantId};
use tochen_domain::SecretString;
use tochen_domain::{AccountStatus, Platform, PostStatus, Role, TargetStatus};
use tochen_platforms::webhook_events::process_event;
use tochen_scheduler::handlers::inbound::WebhookEventHandler;
use tochen_scheduler::{JobError, RunJob};
use tochen_store::Store;
use tochen_store::{webhook_event_job_key, NewDestination, TelegramIdentity};

const TEAM_CHAT: i64 = -100_555;
const SECOND_ADMIN_TG: i64 = 5002;

const COMMENT: &str = r#"{"object":"page","entry":[{"id":"111","time":1790000000,"changes":[{"field":"feed","value":{"item":"comment","verb":"add","comment_id":"c1","post_id":"111_9","from":{"id":"55","name":"Jo"},"message":"Lovely","created_time":1790000000}},{"field":"feed","value":{"item":"comment","verb":"add","comment_id":"c2","post_id":"111_9","from":{"id":"56","name":"Bea"},"message":"Same","created_time":1790000001}}]}]}"#;
const REACTION: &str = r#"{"object":"page","entry":[{"id":"111","time":1790000000,"changes":[{"field":"feed","value":{"item":"reaction","verb":"add","reaction_type":"love","post_id":"111_9","from":{"id":"55","name":"Jo"},"created_time":1790000000}}]}]}"#;
const INSTAGRAM_COMMENT: &str = r#"{"object":"instagram","entry":[{"id":"ig-1","time":1790000000,"changes":[{"field":"comments","value":{"id":"17865","text":"So good","from":{"id":"77","username":"bea"},"media":{"id":"1790"}}}]}]}"#;
const REVOKED: &str = r#"{"client_key":"tt-key","event":"authorization.removed","create_time":1790000000,"user_openid":"open-1","content":"{\"reason\":1}"}"#;
const PUBLISH_ID: &str = "v_pub_file~v2-1.77";

fn published_body(event: &str) -> String {
    format!(
        r#"{{"client_key":"tt-key","event":"{event}","create_time":1790000001,"user_openid":"open-1","content":"{{\"publish_id\":\"{PUBLISH_ID}\",\"post_id\":\"7301\",\"publish_type\":\"DIRECT_PUBLISH\"}}"}}"#
    )
}

fn failed_body() -> String {
    format!(
        r#"{{"client_key":"tt-key","event":"post.publish.failed","create_time":1790000001,"user_openid":"open-1","content":"{{\"publish_id\":\"{PUBLISH_ID}\",\"reason\":\"file_format_check_failed\",\"publish_type\":\"DIRECT_PUBLISH\"}}"}}"#
    )
}

/// Stores an event with its `webhook.event` job, as the web service does.
async fn record(store: &Store, source: &str, key: &str, body: &str) -> String {
    store.record_inbound_event(source, key, body).await.unwrap().expect("a new event")
}

/// Runs the event's `webhook.event` job through the production handler, as the runner would.
async fn run_job(store: &Store, event_id: &str) -> Result<(), JobError> {
    let job = store.job_by_unique_key(&webhook_event_job_key(event_id)).await.unwrap().expect("the event's job");
    WebhookEventHandler.run(store, &job).await
}

async fn count(store: &Store, sql: &str) -> i64 {
    sqlx::query_as::<_, (i64,)>(sql).fetch_one(store.sql_for_tests()).await.unwrap().0
}

/// `notify` jobs to `chat`, in any state.
async fn messages_to(store: &Store, chat: i64) -> i64 {
    let rows: Vec<(String,)> = sqlx::query_as("SELECT payload FROM jobs WHERE kind = 'notify'")
        .fetch_all(store.sql_for_tests())
        .await
        .unwrap();
    rows.iter().filter(|(p,)| serde_json::from_str::<serde_json::Value>(p).unwrap()["chat_id"] == chat).count() as i64
}

/// Everything an event can cause, counted, so two moments can be compared.
async fn effects(store: &Store) -> [i64; 4] {
    [
        count(store, "SELECT COUNT(*) FROM jobs WHERE kind = 'notify'").await,
        count(store, "SELECT COUNT(*) FROM webhook_deliveries").await,
        count(store, "SELECT COUNT(*) FROM jobs WHERE kind = 'webhook.deliver'").await,
        count(store, "SELECT COUNT(*) FROM jobs WHERE kind = 'webhook.event_out'").await,
    ]
}

async fn event_status(store: &Store, id: &str) -> String {
    store.webhook_event_status(id).await.unwrap().unwrap()
}

async fn team(store: &Store) -> TenantId {
    let tenant = workspace(store).await;
    store.set_team_chat(tenant, Some(TEAM_CHAT)).await.unwrap();
    tenant
}

/// An active webhook destination, so settling and revoking queue outgoing events.
async fn with_webhook(store: &Store, tenant: TenantId) {
    let secret = WebhookSecret::generate();
    let hook = NewDestination::Webhook {
        name: "CRM".into(),
        url: "https://crm.test/hook".into(),
        secret: SecretString::new(secret.expose()),
    };
    store.create_destination(tenant, &hook).await.unwrap();
}

async fn second_admin(store: &Store, tenant: TenantId) {
    let who = TelegramIdentity {
        telegram_id: SECOND_ADMIN_TG,
        username: None,
        first_name: "Ben".into(),
        last_name: None,
        language_code: Some("en".into()),
    };
    let user = store.upsert_user(&who).await.unwrap();
    store.add_member(tenant, user.id, Role::Admin).await.unwrap();
}

/// A TikTok post whose only target is being published under `PUBLISH_ID`.
async fn tiktok_target_in_flight(store: &Store, tenant: TenantId, account: AccountId) -> TargetId {
    let (_, targets) = scheduled_post(store, tenant, &[account], tochen_domain::clock::now_ms() + 3_600_000).await;
    let target = targets[0].id;
    sqlx::query("UPDATE post_targets SET status = 'publishing', attempts = 1, platform_ref = $2 WHERE id = $1")
        .bind(target.to_db())
        .bind(PUBLISH_ID)
        .execute(store.sql_for_tests())
        .await
        .unwrap();
    sqlx::query("UPDATE posts SET status = 'publishing' WHERE id = $1")
        .bind(targets[0].post_id.to_db())
        .execute(store.sql_for_tests())
        .await
        .unwrap();
    target
}

/// Processes a Meta event twice directly and twice through the job: the team chat gets `expected` messages.
async fn meta_event_twice(store: &Store, body: &str, expected: i64) {
    let id = record(store, "meta", "e1", body).await;
    let first = process_event(store, &id).await.unwrap();
    assert_eq!(first.notifications as i64, expected);
    let again = process_event(store, &id).await.unwrap();
    assert!(again.already_handled && again.notifications == 0, "{again:?}");
    run_job(store, &id).await.unwrap();
    run_job(store, &id).await.unwrap();
    assert_eq!(messages_to(store, TEAM_CHAT).await, expected);
    assert_eq!(event_status(store, &id).await, "processed");
    let keys: Vec<(String,)> = sqlx::query_as("SELECT unique_key FROM jobs WHERE kind = 'notify'")
        .fetch_all(store.sql_for_tests())
        .await
        .unwrap();
    assert!(keys.iter().all(|(k,)| k.starts_with(&format!("inbound:{id}:"))), "{keys:?}");
}

tochen_testkit::store_test!(a_meta_comment_processed_twice_tells_the_team_chat_once_per_comment, |store| {
    let tenant = team(&store).await;
    account(&store, tenant, Platform::Facebook, "111").await;
    meta_event_twice(&store, COMMENT, 2).await;
});

tochen_testkit::store_test!(an_instagram_comment_processed_twice_tells_the_team_chat_once, |store| {
    let tenant = team(&store).await;
    account(&store, tenant, Platform::Instagram, "ig-1").await;
    meta_event_twice(&store, INSTAGRAM_COMMENT, 1).await;
});

tochen_testkit::store_test!(a_meta_reaction_processed_twice_tells_the_team_chat_once, |store| {
    let tenant = team(&store).await;
    account(&store, tenant, Platform::Facebook, "111").await;
    meta_event_twice(&store, REACTION, 1).await;
});

tochen_testkit::store_test!(a_revoked_authorization_processed_twice_marks_and_tells_once, |store| {
    let tenant = team(&store).await;
    second_admin(&store, tenant).await;
    with_webhook(&store, tenant).await;
    let acct = account(&store, tenant, Platform::TikTok, "open-1").await;
    let id = record(&store, "tiktok", "r1", REVOKED).await;

    let first = process_event(&store, &id).await.unwrap();
    assert_eq!((first.accounts_marked, first.notifications), (1, 2));
    let (_, _, updated_at): (String, Option<String>, i64) =
        sqlx::query_as("SELECT status, status_reason, updated_at FROM social_accounts WHERE id = $1")
            .bind(acct.to_db())
            .fetch_one(store.sql_for_tests())
            .await
            .unwrap();
    assert!(process_event(&store, &id).await.unwrap().already_handled);
    run_job(&store, &id).await.unwrap();
    run_job(&store, &id).await.unwrap();

    let a = store.account(tenant, acct).await.unwrap();
    assert_eq!((a.status, a.status_reason.as_deref()), (AccountStatus::NeedsReconnect, Some("authorization.removed")));
    let (again,): (i64,) = sqlx::query_as("SELECT updated_at FROM social_accounts WHERE id = $1")
        .bind(acct.to_db())
        .fetch_one(store.sql_for_tests())
        .await
        .unwrap();
    assert_eq!(again, updated_at, "the status changed once");
    assert_eq!((messages_to(&store, ADMIN_TG).await, messages_to(&store, SECOND_ADMIN_TG).await), (1, 1));
    assert_eq!(
        count(&store, "SELECT COUNT(*) FROM webhook_deliveries WHERE event_type = 'account.needs_reconnect'").await,
        1
    );
    assert_eq!(effects(&store).await, [2, 1, 1, 0]);
});

/// Processes a TikTok publish report twice (directly, then twice through the job) and checks the target, the
/// post and what the author and the webhook destination were told.
async fn publish_report_twice(store: &Store, body: &str, target_status: TargetStatus, post_status: PostStatus) {
    let tenant = team(store).await;
    with_webhook(store, tenant).await;
    let acct = account(store, tenant, Platform::TikTok, "open-1").await;
    let target = tiktok_target_in_flight(store, tenant, acct).await;
    let id = record(store, "tiktok", "p1", body).await;

    assert_eq!(process_event(store, &id).await.unwrap().targets_updated, 1);
    assert!(process_event(store, &id).await.unwrap().already_handled);
    // The job runs what settling means beyond core (post status, announcement, outgoing event) once, however
    // often it runs.
    run_job(store, &id).await.unwrap();
    run_job(store, &id).await.unwrap();

    let t = store.target(tenant, target).await.unwrap();
    assert_eq!(t.status, target_status);
    assert_eq!(store.post(tenant, t.post_id).await.unwrap().status, post_status);
    assert_eq!(messages_to(store, AUTHOR_CHAT).await, 1, "the author is told once");
    assert_eq!(effects(store).await, [1, 0, 0, 1], "one message, one outgoing event");
}

tochen_testkit::store_test!(a_tiktok_publish_complete_processed_twice_publishes_the_target_once, |store| {
    let body = published_body("post.publish.complete");
    publish_report_twice(&store, &body, TargetStatus::Published, PostStatus::Published).await;
    let (post_id,): (Option<String>,) =
        sqlx::query_as("SELECT platform_post_id FROM post_targets").fetch_one(store.sql_for_tests()).await.unwrap();
    assert_eq!(post_id.as_deref(), Some("7301"));
});

tochen_testkit::store_test!(a_tiktok_publish_failed_processed_twice_fails_the_target_once, |store| {
    publish_report_twice(&store, &failed_body(), TargetStatus::Failed, PostStatus::Failed).await;
    let (message,): (Option<String>,) =
        sqlx::query_as("SELECT error_message FROM post_targets").fetch_one(store.sql_for_tests()).await.unwrap();
    assert_eq!(message.as_deref(), Some("file_format_check_failed"));
});

tochen_testkit::store_test!(publicly_available_after_complete_changes_nothing_more, |store| {
    let tenant = team(&store).await;
    let acct = account(&store, tenant, Platform::TikTok, "open-1").await;
    let target = tiktok_target_in_flight(&store, tenant, acct).await;
    let complete = record(&store, "tiktok", "p1", &published_body("post.publish.complete")).await;
    let public = record(&store, "tiktok", "p2", &published_body("post.publish.publicly_available")).await;
    run_job(&store, &complete).await.unwrap();
    let before = effects(&store).await;
    let published_at = store.target(tenant, target).await.unwrap().published_at;
    run_job(&store, &public).await.unwrap();
    assert_eq!(effects(&store).await, before);
    assert_eq!(store.target(tenant, target).await.unwrap().published_at, published_at);
    assert_eq!(event_status(&store, &public).await, "processed");
});

tochen_testkit::store_test!(a_rerun_after_the_effects_were_written_but_not_the_mark_repeats_none_of_them, |store| {
    // The gap a crash leaves in a non-transactional write path: everything was written, the event still says
    // `received`, and the job runs again.
    let tenant = team(&store).await;
    with_webhook(&store, tenant).await;
    account(&store, tenant, Platform::Facebook, "111").await;
    let tiktok = account(&store, tenant, Platform::TikTok, "open-1").await;
    let target = tiktok_target_in_flight(&store, tenant, tiktok).await;
    let events = [
        record(&store, "meta", "c", COMMENT).await,
        record(&store, "meta", "r", REACTION).await,
        record(&store, "tiktok", "p", &published_body("post.publish.complete")).await,
        record(&store, "tiktok", "x", REVOKED).await,
    ];
    for id in &events {
        run_job(&store, id).await.unwrap();
    }
    let written = effects(&store).await;
    assert_eq!(written, [2 + 1 + 1 + 1, 1, 1, 1]);
    let account_row = || async {
        sqlx::query_as::<_, (String, i64)>("SELECT status, updated_at FROM social_accounts WHERE id = $1")
            .bind(tiktok.to_db())
            .fetch_one(store.sql_for_tests())
            .await
            .unwrap()
    };
    let (account_before, target_before) = (account_row().await, store.target(tenant, target).await.unwrap());

    sqlx::query("UPDATE webhook_events SET status = 'received', processed_at = NULL")
        .execute(store.sql_for_tests())
        .await
        .unwrap();
    for id in &events {
        run_job(&store, id).await.unwrap();
        let again = process_event(&store, id).await.unwrap();
        assert!(again.already_handled, "{again:?}");
        assert_eq!(event_status(&store, id).await, "processed");
    }
    assert_eq!(effects(&store).await, written, "no message, delivery or event twice");
    assert_eq!(account_row().await, account_before, "the account was not touched again");
    assert_eq!(store.target(tenant, target).await.unwrap(), target_before, "the target was not touched again");
});

tochen_testkit::store_test!(a_crash_after_processing_before_the_follow_ups_is_completed_by_the_retry, |store| {
    let tenant = team(&store).await;
    let acct = account(&store, tenant, Platform::TikTok, "open-1").await;
    let target = tiktok_target_in_flight(&store, tenant, acct).await;
    let id = record(&store, "tiktok", "p1", &published_body("post.publish.complete")).await;
    // The transaction committed (target published, event processed), then the process died before the job
    // recomputed the post and told the author.
    process_event(&store, &id).await.unwrap();
    let post = store.target(tenant, target).await.unwrap().post_id;
    assert_eq!(store.post(tenant, post).await.unwrap().status, PostStatus::Publishing);
    assert_eq!(messages_to(&store, AUTHOR_CHAT).await, 0);

    run_job(&store, &id).await.unwrap();
    run_job(&store, &id).await.unwrap();
    assert_eq!(store.post(tenant, post).await.unwrap().status, PostStatus::Published);
    assert_eq!(messages_to(&store, AUTHOR_CHAT).await, 1);
});

/// Makes the insert of the message to `chat` fail, as a lost connection would in the middle of the writes.
async fn break_messages_to(store: &Store, db_url: &str, chat: i64) {
    let statements: Vec<String> = if db_url.starts_with("postgres") {
        vec![
            format!(
                "CREATE FUNCTION fail_notify() RETURNS trigger AS $$ BEGIN \
                 IF NEW.kind = 'notify' AND NEW.payload LIKE '%\"chat_id\":{chat}%' THEN \
                 RAISE EXCEPTION 'injected failure'; END IF; RETURN NEW; END $$ LANGUAGE plpgsql"
            ),
            "CREATE TRIGGER fail_notify BEFORE INSERT ON jobs FOR EACH ROW EXECUTE FUNCTION fail_notify()".into(),
        ]
    } else {
        vec![format!(
            "CREATE TRIGGER fail_notify BEFORE INSERT ON jobs \
             WHEN NEW.kind = 'notify' AND NEW.payload LIKE '%\"chat_id\":{chat}%' \
             BEGIN SELECT RAISE(ABORT, 'injected failure'); END"
        )]
    };
    for sql in statements {
        sqlx::raw_sql(&sql).execute(store.sql_for_tests()).await.unwrap();
    }
}

tochen_testkit::store_test!(an_error_midway_leaves_nothing_behind_and_the_retry_does_everything_once, |store, db| {
    let tenant = team(&store).await;
    second_admin(&store, tenant).await;
    with_webhook(&store, tenant).await;
    let acct = account(&store, tenant, Platform::TikTok, "open-1").await;
    let id = record(&store, "tiktok", "r1", REVOKED).await;
    // The account is marked, its outgoing event and the first admin's message are written, then the second
    // admin's message fails.
    break_messages_to(&store, &db.url, SECOND_ADMIN_TG).await;
    let err = run_job(&store, &id).await.unwrap_err();
    assert!(matches!(err, JobError::Retryable { .. }), "a database error is retried: {err:?}");
    assert_eq!(effects(&store).await, [0, 0, 0, 0], "nothing of the failed attempt stays");
    assert_eq!(store.account(tenant, acct).await.unwrap().status, AccountStatus::Active);
    assert_eq!(event_status(&store, &id).await, "received");

    let repair = if db.url.starts_with("postgres") {
        "DROP TRIGGER fail_notify ON jobs; DROP FUNCTION fail_notify()"
    } else {
        "DROP TRIGGER fail_notify"
    };
    sqlx::raw_sql(repair).execute(store.sql_for_tests()).await.unwrap();
    run_job(&store, &id).await.unwrap();
    run_job(&store, &id).await.unwrap();
    assert_eq!((messages_to(&store, ADMIN_TG).await, messages_to(&store, SECOND_ADMIN_TG).await), (1, 1));
    assert_eq!(effects(&store).await, [2, 1, 1, 0]);
    assert_eq!(store.account(tenant, acct).await.unwrap().status, AccountStatus::NeedsReconnect);
});

tochen_testkit::store_test!(two_runs_of_one_event_at_once_write_its_effects_once, |store| {
    let tenant = team(&store).await;
    second_admin(&store, tenant).await;
    with_webhook(&store, tenant).await;
    account(&store, tenant, Platform::TikTok, "open-1").await;
    let id = record(&store, "tiktok", "r1", REVOKED).await;
    let (a, b) = tokio::join!(process_event(&store, &id), process_event(&store, &id));
    let (a, b) = (a.unwrap(), b.unwrap());
    assert_eq!(a.notifications + b.notifications, 2, "{a:?} {b:?}");
    assert_eq!(a.accounts_marked + b.accounts_marked, 1, "{a:?} {b:?}");
    assert!(a.already_handled != b.already_handled, "{a:?} {b:?}");
    assert_eq!(effects(&store).await, [2, 1, 1, 0]);
});
