//! Approval cards in the store, on SQLite and PostgreSQL: the cards of a submitted post are queued in the
//! transaction that makes it wait for approval (a failure leaves neither), and a decision writes its outcome on
//! every card in its own transaction, queueing edits for the cards already sent but the one pressed, while a
//! card sent after the decision is edited as soon as it is recorded. A change to a waiting post replaces its cards
//! with a new round, and a withdrawal writes its outcome on them, each in the transaction of the change.

use std::sync::atomic::{AtomicBool, Ordering};
use tochen_domain::jobs::{ApprovalCardRef, NotifyJob, NotifyPayload};
use tochen_domain::{AccountId, PostId, SecretString, TenantId, UserId};
use tochen_domain::{AuthKind, JobState, Platform, PostStatus};
use tochen_store::Store;
use tochen_store::{ApprovalCard, CardOutcome, Job, NewAccount, ScheduleError, TelegramIdentity, TenantProfile};
use tochen_testkit::store_test;

const GROUP: i64 = -100_500;
const ANNA: i64 = 10;
const DAVE: i64 = 20;

async fn workspace(store: &Store) -> (TenantId, UserId, AccountId) {
    let who = TelegramIdentity {
        telegram_id: ANNA,
        username: None,
        first_name: "Anna".into(),
        last_name: None,
        language_code: Some("en".into()),
    };
    let admin = store.upsert_user(&who).await.unwrap();
    let t = store.create_tenant("Bloom", &TenantProfile::default(), 0, admin.id).await.unwrap().id;
    let account = NewAccount {
        platform: Platform::Facebook,
        auth_kind: AuthKind::FacebookPage,
        external_id: "page-1".into(),
        name: "Bloom Coffee".into(),
        access_token: SecretString::new("t"),
        refresh_token: None,
        scopes: vec![],
        token_expires_at: None,
        refresh_expires_at: None,
        connected_by: None,
    };
    let account = store.upsert_account(t, &account).await.unwrap().id;
    (t, admin.id, account)
}

fn cards(chats: &[(i64, &str)]) -> Vec<ApprovalCard> {
    chats
        .iter()
        .map(|(chat, lang)| ApprovalCard {
            lang: (*lang).to_owned(),
            message: NotifyPayload::text(*chat, format!("card for {chat}")),
        })
        .collect()
}

async fn notify_jobs(store: &Store, t: TenantId) -> Vec<(Job, NotifyJob)> {
    let jobs = store.tenant_jobs(t, JobState::Queued, 100).await.unwrap();
    jobs.into_iter()
        .filter(|j| j.kind == "notify")
        .map(|j| {
            let n: NotifyJob = serde_json::from_value(j.payload.clone()).unwrap();
            (j, n)
        })
        .collect()
}

/// Submits a fresh draft with cards for Anna, Dave and the group; returns the post and its round.
async fn submitted(store: &Store, t: TenantId, anna: UserId, account: AccountId) -> (PostId, ApprovalCardRef) {
    let post = store.create_draft(t, Some(anna), None, "Behind the roaster", "").await.unwrap();
    let at = tochen_domain::clock::now_ms() + 3_600_000;
    store
        .submit_for_approval(t, post.id, post.version, at, &[account], |_, _| {
            cards(&[(ANNA, "en"), (DAVE, "de"), (GROUP, "es")])
        })
        .await
        .unwrap();
    let round = store.post(t, post.id).await.unwrap().version;
    (post.id, ApprovalCardRef { post_id: post.id, round })
}

store_test!(the_cards_are_queued_with_the_status_change_and_a_failure_in_between_leaves_neither, |store| {
    let (t, anna, account) = workspace(&store).await;
    let post = store.create_draft(t, Some(anna), None, "Behind the roaster", "").await.unwrap();
    let at = tochen_domain::clock::now_ms() + 3_600_000;

    // The card writes fail after the post was moved and its targets written (the same chat twice breaks the
    // cards' key): everything is rolled back.
    let err = store
        .submit_for_approval(t, post.id, post.version, at, &[account], |_, _| cards(&[(ANNA, "en"), (ANNA, "en")]))
        .await
        .unwrap_err();
    assert!(matches!(err, ScheduleError::Store(_)), "{err:?}");
    let p = store.post(t, post.id).await.unwrap();
    assert_eq!((p.status, p.version), (PostStatus::Draft, post.version));
    assert!(store.targets_of_post(t, post.id).await.unwrap().is_empty());
    assert!(notify_jobs(&store, t).await.is_empty());
    assert!(store.approval_cards(t, post.id).await.unwrap().is_empty());

    // A stale screen is refused before any card is built.
    let built = AtomicBool::new(false);
    let stale = store
        .submit_for_approval(t, post.id, post.version + 1, at, &[account], |_, _| {
            built.store(true, Ordering::SeqCst);
            cards(&[(ANNA, "en")])
        })
        .await
        .unwrap_err();
    assert!(matches!(stale, ScheduleError::Stale));
    assert!(!built.load(Ordering::SeqCst));
    assert!(notify_jobs(&store, t).await.is_empty());

    // Success: the post waits and every card is queued, built for the post's new version and its targets.
    let mut seen = None;
    let targets = store
        .submit_for_approval(t, post.id, post.version, at, &[account], |version, targets| {
            seen = Some((version, targets.len()));
            cards(&[(ANNA, "en"), (GROUP, "es")])
        })
        .await
        .unwrap();
    let p = store.post(t, post.id).await.unwrap();
    assert_eq!(p.status, PostStatus::PendingApproval);
    assert_eq!(seen, Some((p.version, targets.len())));
    let jobs = notify_jobs(&store, t).await;
    let mut keys: Vec<String> = jobs.iter().map(|(j, _)| j.unique_key.clone().unwrap()).collect();
    keys.sort();
    assert_eq!(
        keys,
        vec![
            format!("approval:{}:{}:{GROUP}", post.id.to_db(), p.version),
            format!("approval:{}:{}:{ANNA}", post.id.to_db(), p.version)
        ]
    );
    for (_, n) in &jobs {
        assert_eq!(n.extras.approval_card, Some(ApprovalCardRef { post_id: post.id, round: p.version }));
        assert_eq!(n.extras.edit_message_id, None);
    }
    let rows = store.approval_cards(t, post.id).await.unwrap();
    assert_eq!(rows.len(), 2);
    assert!(rows.iter().all(|r| r.message_id.is_none() && r.outcome_html.is_none() && r.round == p.version));
    // No publish job before the approval.
    assert!(store.tenant_jobs(t, JobState::Queued, 100).await.unwrap().iter().all(|j| j.kind == "notify"));
});

store_test!(a_decision_edits_every_sent_card_but_the_pressed_one_and_a_card_sent_later_on_arrival, |store| {
    let (t, anna, account) = workspace(&store).await;
    let (post, card) = submitted(&store, t, anna, account).await;
    assert!(!store.approval_card_settled(t, card, DAVE).await.unwrap());
    // Anna's and Dave's cards went out; the group's is still on its way.
    assert!(!store.record_approval_card(t, card, ANNA, ANNA, 5).await.unwrap());
    assert!(!store.record_approval_card(t, card, DAVE, DAVE, 6).await.unwrap());

    // Anna approves on her card (message 5).
    let text = |lang: &str| format!("approved ({lang})");
    let outcome = CardOutcome { text: &text, shown: Some((ANNA, 5)) };
    store.approve_post_with_cards(t, post, card.round, anna, &outcome).await.unwrap();
    let edits: Vec<NotifyJob> = notify_jobs(&store, t)
        .await
        .into_iter()
        .map(|(_, n)| n)
        .filter(|n| n.extras.edit_message_id.is_some())
        .collect();
    assert_eq!(edits.len(), 1, "only Dave's sent card needs an edit: {edits:?}");
    assert_eq!(edits[0].message.chat_id, DAVE);
    assert_eq!(edits[0].extras.edit_message_id, Some(6));
    assert_eq!(edits[0].message.text_html, "approved (de)", "in the card's language");
    assert!(edits[0].message.buttons.is_empty());
    let rows = store.approval_cards(t, post).await.unwrap();
    assert!(rows.iter().all(|r| r.outcome_html.as_deref() == Some(&*text(&r.lang))), "{rows:?}");

    // The group's card is not worth sending any more; if it was already in flight, recording it queues its edit.
    assert!(store.approval_card_settled(t, card, GROUP).await.unwrap());
    assert!(store.record_approval_card(t, card, GROUP, GROUP, 9).await.unwrap());
    let group_edit: Vec<NotifyJob> = notify_jobs(&store, t)
        .await
        .into_iter()
        .map(|(_, n)| n)
        .filter(|n| n.message.chat_id == GROUP && n.extras.edit_message_id == Some(9))
        .collect();
    assert_eq!(group_edit.len(), 1);
    assert_eq!(group_edit[0].message.text_html, "approved (es)");

    // A second decision is refused and writes nothing more.
    let again = CardOutcome { text: &|_: &str| "twice".to_owned(), shown: None };
    assert!(store.approve_post_with_cards(t, post, card.round, anna, &again).await.is_err());
    assert!(!store.reject_post_with_cards(t, post, card.round, "no", &again).await.unwrap());
    assert!(store.approval_cards(t, post).await.unwrap().iter().all(|r| r.outcome_html.as_deref() != Some("twice")));
});

store_test!(a_rejection_writes_its_outcome_on_the_cards_in_its_transaction, |store| {
    let (t, anna, account) = workspace(&store).await;
    let (post, card) = submitted(&store, t, anna, account).await;
    store.record_approval_card(t, card, GROUP, GROUP, 7).await.unwrap();
    let text = |lang: &str| format!("rejected ({lang})");
    // A stale rejection changes nothing, cards included.
    let outcome = CardOutcome { text: &text, shown: None };
    assert!(!store.reject_post_with_cards(t, post, card.round + 1, "too sweet", &outcome).await.unwrap());
    assert!(store.approval_cards(t, post).await.unwrap().iter().all(|r| r.outcome_html.is_none()));

    assert!(store.reject_post_with_cards(t, post, card.round, "too sweet", &outcome).await.unwrap());
    assert_eq!(store.post(t, post).await.unwrap().status, PostStatus::Rejected);
    let edits: Vec<NotifyJob> = notify_jobs(&store, t)
        .await
        .into_iter()
        .map(|(_, n)| n)
        .filter(|n| n.extras.edit_message_id.is_some())
        .collect();
    assert_eq!(edits.len(), 1);
    assert_eq!((edits[0].message.chat_id, edits[0].message.text_html.as_str()), (GROUP, "rejected (es)"));
    assert!(store.approval_card_settled(t, card, ANNA).await.unwrap());
});

fn edits_of(jobs: Vec<(Job, NotifyJob)>) -> Vec<NotifyJob> {
    jobs.into_iter().map(|(_, n)| n).filter(|n| n.extras.edit_message_id.is_some()).collect()
}

store_test!(a_change_replaces_the_cards_with_a_new_round_in_one_transaction, |store| {
    let (t, anna, account) = workspace(&store).await;
    let (post, card) = submitted(&store, t, anna, account).await;
    assert!(!store.record_approval_card(t, card, DAVE, DAVE, 6).await.unwrap());
    let later = tochen_domain::clock::now_ms() + 7_200_000;
    let text = |lang: &str| format!("replaced ({lang})");
    let replaced = CardOutcome { text: &text, shown: None };

    // The new round's cards fail to queue (the same chat twice): the post, its old cards and the jobs stay.
    let err = store
        .resubmit_for_approval(t, post, card.round, later, &replaced, |_, _| cards(&[(ANNA, "en"), (ANNA, "en")]))
        .await
        .unwrap_err();
    assert!(matches!(err, ScheduleError::Store(_)), "{err:?}");
    let p = store.post(t, post).await.unwrap();
    assert_eq!((p.version, p.status), (card.round, PostStatus::PendingApproval));
    assert!(store.approval_cards(t, post).await.unwrap().iter().all(|r| r.round == card.round));
    assert!(store.approval_cards(t, post).await.unwrap().iter().all(|r| r.outcome_html.is_none()));
    assert!(edits_of(notify_jobs(&store, t).await).is_empty());

    // A stale change is refused before any card is built.
    let stale = store
        .resubmit_for_approval(t, post, card.round - 1, later, &replaced, |_, _| unreachable!("no cards"))
        .await
        .unwrap_err();
    assert!(matches!(stale, ScheduleError::Stale), "{stale:?}");

    // The change: the post moves and waits at a new version, the old cards get "replaced" (an edit for the sent
    // one, and the unsent ones will not be sent) and the new round's cards are queued.
    let mut seen = None;
    store
        .resubmit_for_approval(t, post, card.round, later, &replaced, |version, targets| {
            seen = Some((version, targets.len()));
            cards(&[(ANNA, "en"), (DAVE, "de"), (GROUP, "es")])
        })
        .await
        .unwrap();
    let p = store.post(t, post).await.unwrap();
    assert_eq!((p.status, p.scheduled_at), (PostStatus::PendingApproval, Some(later)));
    assert_eq!(seen, Some((p.version, 1)));
    assert_eq!(store.approval_round(t, post).await.unwrap(), Some(p.version));
    let rows = store.approval_cards(t, post).await.unwrap();
    for r in &rows {
        let expected = (r.round == card.round).then(|| text(&r.lang));
        assert_eq!(r.outcome_html, expected, "{r:?}");
    }
    assert_eq!(rows.iter().filter(|r| r.round == p.version).count(), 3);
    let edits = edits_of(notify_jobs(&store, t).await);
    assert_eq!(edits.len(), 1, "{edits:?}");
    assert_eq!((edits[0].message.chat_id, edits[0].extras.edit_message_id), (DAVE, Some(6)));
    assert_eq!(edits[0].message.text_html, "replaced (de)");
    assert!(store.approval_card_settled(t, card, ANNA).await.unwrap(), "the old round's unsent card is not sent");
    let fresh = ApprovalCardRef { post_id: post, round: p.version };
    assert!(!store.approval_card_settled(t, fresh, ANNA).await.unwrap());

    // The old round's buttons are refused; the new round's decide, and only its cards show the decision.
    let approved = |lang: &str| format!("approved ({lang})");
    let outcome = CardOutcome { text: &approved, shown: None };
    assert!(matches!(
        store.approve_post_with_cards(t, post, card.round, anna, &outcome).await,
        Err(ScheduleError::Stale)
    ));
    store.approve_post_with_cards(t, post, p.version, anna, &outcome).await.unwrap();
    for r in store.approval_cards(t, post).await.unwrap() {
        let expected = if r.round == card.round { text(&r.lang) } else { approved(&r.lang) };
        assert_eq!(r.outcome_html, Some(expected), "{r:?}");
    }
    // A scheduled post is moved by reschedule_post, a waiting one only by a re-submission.
    let p = store.post(t, post).await.unwrap();
    assert!(store.reschedule_post(t, post, p.version, later + 1).await.unwrap());
});

store_test!(a_withdrawal_writes_its_outcome_on_the_cards_in_its_transaction, |store| {
    let (t, anna, account) = workspace(&store).await;
    let (post, card) = submitted(&store, t, anna, account).await;
    // A waiting post is not moved without replacing its cards.
    assert!(!store.reschedule_post(t, post, card.round, tochen_domain::clock::now_ms()).await.unwrap());
    store.record_approval_card(t, card, GROUP, GROUP, 7).await.unwrap();
    let text = |lang: &str| format!("withdrawn ({lang})");
    let outcome = CardOutcome { text: &text, shown: None };
    assert!(!store.cancel_post_with_cards(t, post, card.round + 1, &outcome).await.unwrap());
    assert!(store.approval_cards(t, post).await.unwrap().iter().all(|r| r.outcome_html.is_none()));

    assert!(store.cancel_post_with_cards(t, post, card.round, &outcome).await.unwrap());
    assert_eq!(store.post(t, post).await.unwrap().status, PostStatus::Cancelled);
    let rows = store.approval_cards(t, post).await.unwrap();
    assert!(rows.iter().all(|r| r.outcome_html.as_deref() == Some(&*text(&r.lang))), "{rows:?}");
    let edits = edits_of(notify_jobs(&store, t).await);
    assert_eq!(edits.len(), 1);
    assert_eq!((edits[0].message.chat_id, edits[0].message.text_html.as_str()), (GROUP, "withdrawn (es)"));
    assert!(store.approval_card_settled(t, card, ANNA).await.unwrap());
});
