//! Campaigns and their batches on SQLite and PostgreSQL (issue 18): create, edit, archive (soft), list with counts,
//! posts joining a campaign and the library filtering by it; a batch with its jobs, each item ending exactly once
//! (a second run saves nothing), failures counted and retried, cancel and quota stop; every call tried from
//! another workspace too.

use tochen_domain::jobs::{BatchItemPayload, JobArgs, BATCH_ITEM};
use tochen_domain::{
    AccountId, AuthKind, BatchItemStatus, BatchStatus, CampaignStatus, JobState, Platform, SecretString, TenantId,
    UserId,
};
use tochen_store::{
    CampaignError, CampaignFields, GeneratedDraft, LibraryFilter, NewAccount, NewBatch, NewBatchItem, PostContent,
    Store, TelegramIdentity, TenantProfile,
};
use tochen_testkit::store_test;

async fn workspace(store: &Store, telegram_id: i64) -> (TenantId, UserId, AccountId) {
    let who = TelegramIdentity {
        telegram_id,
        username: None,
        first_name: format!("User{telegram_id}"),
        last_name: None,
        language_code: Some("en".into()),
    };
    let admin = store.upsert_user(&who).await.unwrap();
    let t = store.create_tenant("Team", &TenantProfile::default(), 0, admin.id).await.unwrap().id;
    let acc = NewAccount {
        platform: Platform::Facebook,
        auth_kind: AuthKind::FacebookPage,
        external_id: format!("fb-{telegram_id}"),
        name: "Page".into(),
        access_token: SecretString::new("t"),
        refresh_token: None,
        scopes: vec![],
        token_expires_at: None,
        refresh_expires_at: None,
        connected_by: None,
    };
    let acc = store.upsert_account(t, &acc).await.unwrap().id;
    (t, admin.id, acc)
}

fn fields(name: &str, accounts: Vec<AccountId>) -> CampaignFields {
    CampaignFields {
        name: name.into(),
        brief: "Autumn menu launch".into(),
        brand: "Roastery".into(),
        audience: "commuters".into(),
        tone: "warm".into(),
        goal: "visits".into(),
        starts_at: Some(1_000),
        ends_at: Some(2_000),
        platforms: vec![Platform::Facebook],
        accounts,
    }
}

fn items(n: usize) -> Vec<NewBatchItem> {
    (0..n).map(|i| NewBatchItem { topic: format!("topic {i}"), ..Default::default() }).collect()
}

fn draft(title: &str) -> GeneratedDraft {
    GeneratedDraft {
        title: title.into(),
        idea: "idea".into(),
        image_prompt: "prompt".into(),
        texts: vec![PostContent {
            platform: Platform::Facebook,
            body: format!("{title} body"),
            hashtags: vec!["x".into()],
            link: None,
            custom: false,
        }],
        media: None,
    }
}

store_test!(campaigns_are_created_edited_archived_and_listed_per_workspace, |store| {
    let (a, anna, fb) = workspace(&store, 1).await;
    let (b, _, b_fb) = workspace(&store, 2).await;

    let c = store.create_campaign(a, Some(anna), &fields("Autumn", vec![fb])).await.unwrap();
    assert_eq!(c.status, CampaignStatus::Draft);
    assert_eq!(c.fields, fields("Autumn", vec![fb]));
    assert_eq!(c.status_at(1_500), CampaignStatus::Draft);
    // Bad input is refused with what was wrong.
    assert!(matches!(store.create_campaign(a, None, &fields("  ", vec![])).await, Err(CampaignError::BadName)));
    let mut backwards = fields("Back", vec![]);
    backwards.ends_at = Some(500);
    assert!(matches!(store.create_campaign(a, None, &backwards).await, Err(CampaignError::BadPeriod)));
    // Another workspace's account is not accepted, and the campaign is invisible to it.
    assert!(matches!(
        store.create_campaign(a, None, &fields("X", vec![b_fb])).await,
        Err(CampaignError::UnknownAccount(x)) if x == b_fb
    ));
    assert!(store.campaign(b, c.id).await.is_err());
    assert!(store.campaigns(b, true).await.unwrap().is_empty());
    assert!(!store.set_campaign_status(b, c.id, CampaignStatus::Archived).await.unwrap());
    assert!(store.update_campaign(b, c.id, &fields("Hijack", vec![])).await.is_err());
    assert_eq!(store.campaign(a, c.id).await.unwrap().fields.name, "Autumn");

    let mut edited = fields("Autumn 2", vec![]);
    edited.goal = "sales".into();
    let c2 = store.update_campaign(a, c.id, &edited).await.unwrap();
    assert_eq!(c2.fields, edited);

    // Posts join a campaign (only this workspace's post and campaign); the library filters by it.
    let p = store.create_draft(a, None, None, "In campaign", "").await.unwrap();
    let q = store.create_draft(a, None, None, "Outside", "").await.unwrap();
    let bp = store.create_draft(b, None, None, "Other team", "").await.unwrap();
    assert!(store.set_post_campaign(a, p.id, Some(c.id)).await.unwrap());
    assert!(!store.set_post_campaign(b, bp.id, Some(c.id)).await.unwrap());
    assert!(!store.set_post_campaign(b, p.id, None).await.unwrap());
    assert_eq!(store.post_campaign(a, p.id).await.unwrap(), Some(c.id));
    assert_eq!(store.post_campaign(a, q.id).await.unwrap(), None);
    let f = LibraryFilter { campaign: Some(c.id), ..Default::default() };
    let lib: Vec<String> = store.library(a, &f, 0, 10).await.unwrap().into_iter().map(|p| p.title).collect();
    assert_eq!(lib, ["In campaign"]);
    assert!(store.library(b, &f, 0, 10).await.unwrap().is_empty());

    let list = store.campaigns(a, false).await.unwrap();
    assert_eq!(list.len(), 1);
    assert_eq!((list[0].posts, list[0].published, list[0].batches), (1, 0, 0));
    assert!(store.has_open_campaigns(a).await.unwrap());
    assert!(!store.has_open_campaigns(b).await.unwrap(), "another workspace's campaign is not this one's");

    // Archive is soft: hidden from the default list, kept with its posts; no edits, no new posts, no batches.
    assert!(store.set_campaign_status(a, c.id, CampaignStatus::Archived).await.unwrap());
    assert!(store.campaigns(a, false).await.unwrap().is_empty());
    assert!(!store.has_open_campaigns(a).await.unwrap());
    let all = store.campaigns(a, true).await.unwrap();
    assert_eq!(all[0].campaign.status, CampaignStatus::Archived);
    assert!(all[0].campaign.archived_at.is_some());
    assert_eq!(all[0].posts, 1);
    assert!(matches!(store.update_campaign(a, c.id, &edited).await, Err(CampaignError::Archived)));
    assert!(!store.set_post_campaign(a, q.id, Some(c.id)).await.unwrap());
    let nb = NewBatch { items: items(1), ..Default::default() };
    assert!(matches!(store.start_batch(a, c.id, &nb).await, Err(CampaignError::Archived)));
    // Restored, an ended active campaign shows as finished.
    assert!(store.set_campaign_status(a, c.id, CampaignStatus::Active).await.unwrap());
    let c3 = store.campaign(a, c.id).await.unwrap();
    assert_eq!(c3.archived_at, None);
    assert_eq!(c3.status_at(1_500), CampaignStatus::Active);
    assert_eq!(c3.status_at(2_000), CampaignStatus::Finished);
});

store_test!(a_batch_queues_a_job_per_item_and_every_item_ends_exactly_once, |store| {
    let (a, anna, fb) = workspace(&store, 1).await;
    let (b, _, _) = workspace(&store, 2).await;
    let c = store.create_campaign(a, Some(anna), &fields("Autumn", vec![fb])).await.unwrap();
    assert!(matches!(
        store.start_batch(a, c.id, &NewBatch { items: vec![], ..Default::default() }).await,
        Err(CampaignError::BadBatchSize)
    ));
    assert!(store.start_batch(b, c.id, &NewBatch { items: items(2), ..Default::default() }).await.is_err());

    let nb = NewBatch {
        started_by: Some(anna),
        chat_id: Some(77),
        items: items(4),
        estimate_tokens: 600,
        ..Default::default()
    };
    let (batch, its) = store.start_batch(a, c.id, &nb).await.unwrap();
    assert_eq!((batch.status, batch.total, batch.estimate_tokens), (BatchStatus::Running, 4, 600));
    assert_eq!(its.len(), 4);
    assert_eq!(store.campaign(a, c.id).await.unwrap().status, CampaignStatus::Active);
    let jobs: Vec<_> = store
        .tenant_jobs(a, JobState::Queued, 100)
        .await
        .unwrap()
        .into_iter()
        .filter(|j| j.kind == BATCH_ITEM)
        .collect();
    assert_eq!(jobs.len(), 4);
    let p0 = BatchItemPayload { tenant_id: a, item_id: its[0].id, round: 0 };
    assert!(jobs
        .iter()
        .any(|j| j.concurrency_key == p0.insert_opts().concurrency_key && j.unique_key == p0.insert_opts().unique_key));

    // Another workspace sees nothing and can change nothing.
    assert!(store.batch(b, batch.id).await.is_err());
    assert!(store.batch_items(b, batch.id).await.unwrap().is_empty());
    assert!(store.begin_batch_item(b, its[0].id).await.unwrap().is_none());
    assert_eq!(store.cancel_batch(b, batch.id).await.unwrap(), 0);
    assert!(store.complete_batch_item(b, its[0].id, &draft("x")).await.unwrap().is_none());

    // Item 0: done once; a second run (after a crash) finds it ended and saves nothing.
    let work = store.begin_batch_item(a, its[0].id).await.unwrap().unwrap();
    assert_eq!(work.campaign.id, c.id);
    assert_eq!(work.item.item.topic, "topic 0");
    let post = store.complete_batch_item(a, its[0].id, &draft("First")).await.unwrap().unwrap();
    assert!(store.begin_batch_item(a, its[0].id).await.unwrap().is_none());
    assert!(store.complete_batch_item(a, its[0].id, &draft("Again")).await.unwrap().is_none());
    let saved = store.post(a, post).await.unwrap();
    assert_eq!((saved.title.as_str(), saved.body.as_str()), ("First", "First body"));
    assert_eq!(saved.author_id, Some(anna));
    assert_eq!(store.post_campaign(a, post).await.unwrap(), Some(c.id));
    assert_eq!(store.post_contents(a, post).await.unwrap()[0].hashtags, vec!["x"]);

    // Item 1: a restart while running takes it again (running -> running), then it completes.
    store.begin_batch_item(a, its[1].id).await.unwrap().unwrap();
    store.begin_batch_item(a, its[1].id).await.unwrap().unwrap();
    store.complete_batch_item(a, its[1].id, &draft("Second")).await.unwrap().unwrap();

    // Item 2: two failures count, the third ends it failed with its reason; a rate limit hands it back uncounted.
    for expected in [BatchItemStatus::Pending, BatchItemStatus::Pending, BatchItemStatus::Failed] {
        store.begin_batch_item(a, its[2].id).await.unwrap().unwrap();
        assert!(store.release_batch_item(a, its[2].id).await.unwrap());
        store.begin_batch_item(a, its[2].id).await.unwrap().unwrap();
        let s = store.fail_batch_item(a, its[2].id, "provider said 500", false, 3).await.unwrap();
        assert_eq!(s, Some(expected));
    }
    let failed = store.batch_item(a, its[2].id).await.unwrap();
    assert_eq!((failed.attempts, failed.error.as_deref()), (3, Some("provider said 500")));
    assert!(store.fail_batch_item(a, its[2].id, "late", false, 3).await.unwrap().is_none());

    // Item 3 permanent failure: the last open item, so the batch finishes.
    store.begin_batch_item(a, its[3].id).await.unwrap().unwrap();
    assert_eq!(
        store.fail_batch_item(a, its[3].id, "bad answer", true, 3).await.unwrap(),
        Some(BatchItemStatus::Failed)
    );
    let p = store.batch_progress(a, batch.id).await.unwrap();
    assert_eq!((p.total, p.done, p.failed, p.ended()), (4, 2, 2, 4));
    let done = store.batch(a, batch.id).await.unwrap();
    assert_eq!(done.status, BatchStatus::Finished);
    assert!(done.finished_at.is_some());

    // Retry one failed item: new round, new job, the batch runs again; the other workspace cannot retry.
    assert_eq!(store.retry_batch_items(b, batch.id, None).await.unwrap(), 0);
    assert_eq!(store.retry_batch_items(a, batch.id, Some(its[3].id)).await.unwrap(), 1);
    let again = store.batch_item(a, its[3].id).await.unwrap();
    assert_eq!((again.status, again.round, again.attempts, again.error), (BatchItemStatus::Pending, 1, 0, None));
    assert_eq!(store.batch(a, batch.id).await.unwrap().status, BatchStatus::Running);
    let retry_key = BatchItemPayload { tenant_id: a, item_id: its[3].id, round: 1 }.insert_opts().unique_key;
    let queued = store.tenant_jobs(a, JobState::Queued, 100).await.unwrap();
    assert!(queued.iter().any(|j| j.unique_key == retry_key));
    store.begin_batch_item(a, its[3].id).await.unwrap().unwrap();
    store.complete_batch_item(a, its[3].id, &draft("Fourth")).await.unwrap().unwrap();
    assert_eq!(store.batch(a, batch.id).await.unwrap().status, BatchStatus::Finished);

    // History: the campaign's batches; the library lists the drafts made.
    assert_eq!(store.campaign_batches(a, c.id).await.unwrap().len(), 1);
    assert!(store.campaign_batches(b, c.id).await.unwrap().is_empty());
    let f = LibraryFilter { campaign: Some(c.id), ..Default::default() };
    assert_eq!(store.library(a, &f, 0, 10).await.unwrap().len(), 3);
    store.set_batch_progress_message(a, batch.id, 77, 5).await.unwrap();
    store.set_batch_progress_message(b, batch.id, 78, 9).await.unwrap();
    assert_eq!(store.batch(a, batch.id).await.unwrap().progress_message_id, Some(5));
});

store_test!(cancel_and_quota_stop_end_the_open_items_and_keep_the_drafts, |store| {
    let (a, anna, fb) = workspace(&store, 1).await;
    let c = store.create_campaign(a, Some(anna), &fields("Autumn", vec![fb])).await.unwrap();
    let (batch, its) = store.start_batch(a, c.id, &NewBatch { items: items(3), ..Default::default() }).await.unwrap();
    store.begin_batch_item(a, its[0].id).await.unwrap().unwrap();
    store.complete_batch_item(a, its[0].id, &draft("Kept")).await.unwrap().unwrap();
    store.begin_batch_item(a, its[1].id).await.unwrap().unwrap();
    assert_eq!(store.cancel_batch(a, batch.id).await.unwrap(), 2);
    assert_eq!(store.cancel_batch(a, batch.id).await.unwrap(), 0);
    // The item in flight when cancelled saves nothing; the pending one never starts.
    assert!(store.complete_batch_item(a, its[1].id, &draft("Late")).await.unwrap().is_none());
    assert!(store.begin_batch_item(a, its[2].id).await.unwrap().is_none());
    let p = store.batch_progress(a, batch.id).await.unwrap();
    assert_eq!((p.done, p.cancelled), (1, 2));
    assert_eq!(store.batch(a, batch.id).await.unwrap().status, BatchStatus::Cancelled);
    let f = LibraryFilter { campaign: Some(c.id), ..Default::default() };
    assert_eq!(store.library(a, &f, 0, 10).await.unwrap().len(), 1);

    let (batch, its) = store.start_batch(a, c.id, &NewBatch { items: items(3), ..Default::default() }).await.unwrap();
    store.begin_batch_item(a, its[0].id).await.unwrap().unwrap();
    store.complete_batch_item(a, its[0].id, &draft("Made")).await.unwrap().unwrap();
    assert_eq!(store.stop_batch_for_quota(a, batch.id, "quota used up").await.unwrap(), 2);
    let b = store.batch(a, batch.id).await.unwrap();
    assert_eq!(b.status, BatchStatus::QuotaStopped);
    let p = store.batch_progress(a, batch.id).await.unwrap();
    assert_eq!((p.done, p.skipped), (1, 2));
    assert_eq!(store.batch_item(a, its[1].id).await.unwrap().error.as_deref(), Some("quota used up"));
    // Skipped items can be retried once there is quota again.
    assert_eq!(store.retry_batch_items(a, batch.id, None).await.unwrap(), 2);
    assert_eq!(store.batch(a, batch.id).await.unwrap().status, BatchStatus::Running);
    assert_eq!(store.campaign_batches(a, c.id).await.unwrap().len(), 2);
});

store_test!(a_quota_stop_lets_the_items_in_flight_finish, |store| {
    let (a, anna, fb) = workspace(&store, 1).await;
    let c = store.create_campaign(a, Some(anna), &fields("Autumn", vec![fb])).await.unwrap();
    let (batch, its) = store.start_batch(a, c.id, &NewBatch { items: items(5), ..Default::default() }).await.unwrap();
    for i in &its[..3] {
        store.begin_batch_item(a, i.id).await.unwrap().unwrap();
    }
    // Three in flight, two waiting: the stop skips the two.
    assert_eq!(store.stop_batch_for_quota(a, batch.id, "quota used up").await.unwrap(), 2);
    assert_eq!(store.batch(a, batch.id).await.unwrap().status, BatchStatus::QuotaStopped);
    // One in flight finishes and keeps its draft; one fails (it cannot wait again: skipped); one is rate-limited
    // (handed back: skipped too, with the batch's reason).
    assert!(store.complete_batch_item(a, its[0].id, &draft("Made in flight")).await.unwrap().is_some());
    let failed = store.fail_batch_item(a, its[1].id, "server error", false, 3).await.unwrap();
    assert_eq!(failed, Some(BatchItemStatus::Skipped));
    assert!(store.release_batch_item(a, its[2].id).await.unwrap());
    assert_eq!(store.batch_item(a, its[2].id).await.unwrap().error.as_deref(), Some("quota used up"));
    let p = store.batch_progress(a, batch.id).await.unwrap();
    assert_eq!((p.done, p.skipped, p.pending, p.running), (1, 4, 0, 0));
    // Nothing more runs: a job of a skipped item finds nothing to do.
    assert!(store.begin_batch_item(a, its[3].id).await.unwrap().is_none());
    let f = LibraryFilter { campaign: Some(c.id), ..Default::default() };
    assert_eq!(store.library(a, &f, 0, 10).await.unwrap().len(), 1);
    // A running batch still hands a rate-limited item back to wait.
    let (batch, its) = store.start_batch(a, c.id, &NewBatch { items: items(1), ..Default::default() }).await.unwrap();
    store.begin_batch_item(a, its[0].id).await.unwrap().unwrap();
    assert!(store.release_batch_item(a, its[0].id).await.unwrap());
    assert_eq!(store.batch_item(a, its[0].id).await.unwrap().status, BatchItemStatus::Pending);
    assert_eq!(store.batch(a, batch.id).await.unwrap().status, BatchStatus::Running);
});

store_test!(approving_a_batchs_drafts_marks_only_its_drafts, |store| {
    let (a, anna, fb) = workspace(&store, 1).await;
    let (b, bob, _) = workspace(&store, 2).await;
    let c = store.create_campaign(a, Some(anna), &fields("Autumn", vec![fb])).await.unwrap();
    let (batch, its) = store.start_batch(a, c.id, &NewBatch { items: items(3), ..Default::default() }).await.unwrap();
    let mut posts = Vec::new();
    for i in &its {
        store.begin_batch_item(a, i.id).await.unwrap().unwrap();
        posts.push(store.complete_batch_item(a, i.id, &draft("Made")).await.unwrap().unwrap());
    }
    // Another workspace's caller changes nothing.
    assert_eq!(store.approve_batch_drafts(b, batch.id, None, bob).await.unwrap(), 0);
    // One, then all the rest; a discarded draft is not approved.
    assert_eq!(store.approve_batch_drafts(a, batch.id, Some(posts[0]), anna).await.unwrap(), 1);
    assert_eq!(store.approve_batch_drafts(a, batch.id, Some(posts[0]), anna).await.unwrap(), 0, "once");
    let p2 = store.post(a, posts[2]).await.unwrap();
    assert!(store.cancel_post(a, posts[2], p2.version).await.unwrap());
    assert_eq!(store.approve_batch_drafts(a, batch.id, None, anna).await.unwrap(), 1);
    let approved: Vec<bool> =
        store.batch_items(a, batch.id).await.unwrap().iter().map(|i| i.approved_at.is_some()).collect();
    assert_eq!(approved, vec![true, true, false]);
});
