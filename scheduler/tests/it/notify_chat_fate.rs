//! What a `notify` job does when Telegram says the chat itself changed: a chat that kicked or blocked the bot
//! takes its destinations out of service and the admins hear about it once; a group that became a supergroup
//! moves its destinations and team chat to the new id and still gets the message. Both databases.

use crate::common;

use serde_json::json;
use std::sync::Arc;
use tochen_domain::jobs::NotifyPayload;
use tochen_domain::DestinationStatus;
use tochen_scheduler::handlers::notify::NotifyHandler;
use tochen_scheduler::{JobError, RunJob, TelegramNotifier};
use tochen_store::Store;
use tochen_store::{Job, NewDestination, NewJob};
use tochen_testkit::fake_telegram::FakeTelegram;
use tochen_testkit::store_test;

const GROUP: i64 = -4242;

fn handler(tg: &FakeTelegram) -> NotifyHandler {
    let notifier = TelegramNotifier::new(&tg.token, url::Url::parse(&tg.api_url).unwrap(), std::env::temp_dir());
    NotifyHandler { notifier: Arc::new(notifier) }
}

async fn notify_job(store: &Store, chat: i64) -> Job {
    let job = NewJob::new(&NotifyPayload::text(chat, "📊 weekly report"));
    let id = store.enqueue(&job).await.unwrap().unwrap();
    store.job(id).await.unwrap().unwrap()
}

async fn notices_to(store: &Store, chat: i64) -> usize {
    let rows: Vec<(String,)> = sqlx::query_as("SELECT payload FROM jobs WHERE kind = 'notify'")
        .fetch_all(store.sql_for_tests())
        .await
        .unwrap();
    rows.iter().filter(|r| serde_json::from_str::<NotifyPayload>(&r.0).unwrap().chat_id == chat).count()
}

store_test!(a_chat_that_kicked_the_bot_pauses_its_destinations_and_tells_the_admins_once, |store| {
    let tg = FakeTelegram::start().await;
    let tenant = common::workspace(&store).await;
    let d = store
        .create_destination(tenant, &NewDestination::Telegram { name: "Clients".into(), chat_id: GROUP })
        .await
        .unwrap();

    tg.fail_next("sendMessage", 403, "Forbidden: bot was kicked from the group chat", json!({}));
    let job = notify_job(&store, GROUP).await;
    let err = handler(&tg).run(&store, &job).await.unwrap_err();
    assert!(matches!(err, JobError::Permanent(_)), "{err:?}");
    let after = store.destination(tenant, d.id).await.unwrap();
    assert_eq!(after.status, DestinationStatus::Inactive);
    assert_eq!(notices_to(&store, common::ADMIN_TG).await, 1, "the admin is told");

    // The same chat failing again (another queued report) tells nobody a second time.
    tg.fail_next("sendMessage", 403, "Forbidden: bot was kicked from the group chat", json!({}));
    let job = notify_job(&store, GROUP).await;
    handler(&tg).run(&store, &job).await.unwrap_err();
    assert_eq!(notices_to(&store, common::ADMIN_TG).await, 1);

    // The admin's own chat blocking the bot is not a destination: no notice about it, no loop.
    tg.fail_next("sendMessage", 403, "Forbidden: bot was blocked by the user", json!({}));
    let job = notify_job(&store, common::ADMIN_TG).await;
    handler(&tg).run(&store, &job).await.unwrap_err();
    assert_eq!(notices_to(&store, common::ADMIN_TG).await, 2, "only the job that failed, no new notice");
});

store_test!(a_group_that_became_a_supergroup_moves_its_destinations_and_team_chat_and_gets_the_message, |store| {
    let tg = FakeTelegram::start().await;
    let tenant = common::workspace(&store).await;
    store.set_team_chat(tenant, Some(GROUP)).await.unwrap();
    let d = store
        .create_destination(tenant, &NewDestination::Telegram { name: "Clients".into(), chat_id: GROUP })
        .await
        .unwrap();
    tg.fail_next(
        "sendMessage",
        400,
        "Bad Request: group chat was upgraded to a supergroup chat",
        json!({"migrate_to_chat_id": -100_777}),
    );
    let job = notify_job(&store, GROUP).await;
    handler(&tg).run(&store, &job).await.unwrap();
    tg.wait_call(0, |c| c.method == "sendmessage" && c.params["chat_id"] == -100_777).await;
    assert_eq!(store.destination(tenant, d.id).await.unwrap().telegram_chat_id, Some(-100_777));
    assert_eq!(store.tenant(tenant).await.unwrap().team_chat_id, Some(-100_777));
});
