//! Stored Telegram updates (webhook mode): claimed in update_id order with a lease, exclusive while the lease
//! holds, taken over once it expires, marked only by the bot that holds them, and given back on shutdown.

use std::time::Duration;
use tochen_testkit::store_test;

const MINUTE: Duration = Duration::from_secs(60);

store_test!(updates_are_claimed_in_update_id_order_and_only_once_while_leased, |store| {
    for id in [10, 9, 11] {
        store.record_telegram_update(id, &format!(r#"{{"update_id":{id}}}"#)).await.unwrap().unwrap();
    }
    assert!(store.record_telegram_update(10, "{}").await.unwrap().is_none(), "deduplicated by update_id");
    let a = store.claim_telegram_updates("a", 2, MINUTE).await.unwrap();
    assert_eq!(a.iter().map(|u| u.update_id).collect::<Vec<_>>(), vec![9, 10], "numeric order, not text order");
    let b = store.claim_telegram_updates("b", 10, MINUTE).await.unwrap();
    assert_eq!(b.iter().map(|u| u.update_id).collect::<Vec<_>>(), vec![11]);
    assert!(store.claim_telegram_updates("c", 10, MINUTE).await.unwrap().is_empty());

    assert!(!store.finish_telegram_update(9, "b", "processed").await.unwrap(), "only the holder marks");
    assert!(store.finish_telegram_update(9, "a", "processed").await.unwrap());
    assert_eq!(store.release_telegram_updates("a", &[10]).await.unwrap(), 1);
    let c = store.claim_telegram_updates("c", 10, MINUTE).await.unwrap();
    assert_eq!(c.iter().map(|u| (u.update_id, u.attempts)).collect::<Vec<_>>(), vec![(10, 1)], "released: at once");
    assert_eq!(store.pending_telegram_updates().await.unwrap(), 2);
});

store_test!(an_expired_claim_is_taken_over_and_the_old_holder_can_no_longer_mark_it, |store| {
    store.record_telegram_update(5, r#"{"update_id":5}"#).await.unwrap().unwrap();
    assert_eq!(store.claim_telegram_updates("dead", 10, Duration::from_millis(1)).await.unwrap().len(), 1);
    tokio::time::sleep(Duration::from_millis(5)).await;
    let taken = store.claim_telegram_updates("alive", 10, MINUTE).await.unwrap();
    assert_eq!(taken.iter().map(|u| (u.update_id, u.attempts)).collect::<Vec<_>>(), vec![(5, 2)]);
    assert!(!store.finish_telegram_update(5, "dead", "processed").await.unwrap());
    assert_eq!(store.extend_telegram_leases("alive", MINUTE).await.unwrap(), 1);
    assert!(store.finish_telegram_update(5, "alive", "processed").await.unwrap());
    assert_eq!(store.pending_telegram_updates().await.unwrap(), 0);
    assert!(store.claim_telegram_updates("alive", 10, MINUTE).await.unwrap().is_empty());
});

store_test!(an_event_and_its_job_are_written_together_and_a_duplicate_writes_neither, |store| {
    let id = store.record_inbound_event("meta", "k1", r#"{"object":"page","entry":[]}"#).await.unwrap().unwrap();
    assert!(store.record_inbound_event("meta", "k1", "{}").await.unwrap().is_none());
    let job = store.job_by_unique_key(&format!("webhook.event:{id}")).await.unwrap().expect("the job exists");
    assert_eq!(job.payload["event_id"], id.as_str());
    let (jobs,): (i64,) = sqlx::query_as("SELECT COUNT(*) FROM jobs").fetch_one(store.sql_for_tests()).await.unwrap();
    assert_eq!(jobs, 1);
    assert_eq!(store.webhook_event_status(&id).await.unwrap().as_deref(), Some("received"));
});

store_test!(an_update_every_claimer_died_on_is_dead_lettered_after_max_claims_and_never_claimed_again, |store| {
    use tochen_store::telegram_updates::MAX_CLAIMS;
    store.record_telegram_update(20, r#"{"update_id":20}"#).await.unwrap().unwrap();
    store.record_telegram_update(21, r#"{"update_id":21}"#).await.unwrap().unwrap();
    // Each bot claims update 20 and dies before marking it; 21 is handled on the first claim.
    for attempt in 1..=MAX_CLAIMS {
        assert!(store.dead_letter_telegram_updates().await.unwrap().is_empty(), "attempt {attempt}");
        let claimed = store.claim_telegram_updates("dies", 1, Duration::from_millis(1)).await.unwrap();
        assert_eq!(claimed.iter().map(|u| (u.update_id, u.attempts)).collect::<Vec<_>>(), vec![(20, attempt)]);
        tokio::time::sleep(Duration::from_millis(5)).await;
    }
    // A lease still held is not set aside, even at the limit.
    sqlx::query("UPDATE webhook_events SET lease_expires_at = 99999999999999 WHERE update_id = 20")
        .execute(store.sql_for_tests())
        .await
        .unwrap();
    assert!(store.dead_letter_telegram_updates().await.unwrap().is_empty());
    sqlx::query("UPDATE webhook_events SET lease_expires_at = 1 WHERE update_id = 20")
        .execute(store.sql_for_tests())
        .await
        .unwrap();
    assert_eq!(store.dead_letter_telegram_updates().await.unwrap(), vec![(20, MAX_CLAIMS)]);
    assert_eq!(store.dead_letter_telegram_updates().await.unwrap(), vec![], "once");
    let next = store.claim_telegram_updates("alive", 10, MINUTE).await.unwrap();
    assert_eq!(next.iter().map(|u| u.update_id).collect::<Vec<_>>(), vec![21], "20 is never claimed again");
    let (status, attempts): (String, i64) =
        sqlx::query_as("SELECT status, attempts FROM webhook_events WHERE source = 'telegram' AND update_id = 20")
            .fetch_one(store.sql_for_tests())
            .await
            .unwrap();
    assert_eq!((status.as_str(), attempts), ("failed", MAX_CLAIMS));
    assert_eq!(store.pending_telegram_updates().await.unwrap(), 1);
});

store_test!(an_update_at_the_claim_limit_is_not_claimed_even_before_it_is_dead_lettered, |store| {
    use tochen_store::telegram_updates::MAX_CLAIMS;
    store.record_telegram_update(30, r#"{"update_id":30}"#).await.unwrap().unwrap();
    sqlx::query("UPDATE webhook_events SET attempts = $1 WHERE update_id = 30")
        .bind(MAX_CLAIMS)
        .execute(store.sql_for_tests())
        .await
        .unwrap();
    assert!(store.claim_telegram_updates("a", 10, MINUTE).await.unwrap().is_empty());
    sqlx::query("UPDATE webhook_events SET attempts = $1 WHERE update_id = 30")
        .bind(MAX_CLAIMS - 1)
        .execute(store.sql_for_tests())
        .await
        .unwrap();
    assert_eq!(store.claim_telegram_updates("a", 10, MINUTE).await.unwrap().len(), 1);
});
