//! Changes to published posts (`post_changes`) and "Duplicate", on SQLite and PostgreSQL: a change is requested
//! with its job and a version bump, claimed `queued -> sending` once, settled once, and shows on the target and in
//! the post's history; another workspace's ids match nothing.

use tochen_domain::ids::{AccountId, PostId, TargetId, TenantId};
use tochen_domain::jobs::POST_CHANGE;
use tochen_domain::{AuthKind, MediaKind, Platform, SecretString};
use tochen_store::{BeginChange, ChangeError, ChangeKind, ChangeStatus, Settle, Store, StoreError};
use tochen_store::{NewAccount, NewMedia, PostContent, TelegramIdentity, TenantProfile};
use tochen_testkit::store_test;

async fn workspace(store: &Store, telegram_id: i64) -> (TenantId, tochen_domain::UserId) {
    let who = TelegramIdentity {
        telegram_id,
        username: None,
        first_name: format!("User{telegram_id}"),
        last_name: None,
        language_code: Some("en".into()),
    };
    let admin = store.upsert_user(&who).await.unwrap();
    (store.create_tenant("Team", &TenantProfile::default(), 0, admin.id).await.unwrap().id, admin.id)
}

async fn account(store: &Store, tenant: TenantId, platform: Platform, kind: AuthKind, ext: &str) -> AccountId {
    let new = NewAccount {
        platform,
        auth_kind: kind,
        external_id: ext.into(),
        name: ext.into(),
        access_token: SecretString::new("token"),
        refresh_token: None,
        scopes: vec![],
        token_expires_at: None,
        refresh_expires_at: None,
        connected_by: None,
    };
    store.upsert_account(tenant, &new).await.unwrap().id
}

async fn media(store: &Store, tenant: TenantId, name: &str) -> tochen_domain::MediaId {
    let m = NewMedia {
        kind: MediaKind::Image,
        content_type: "image/jpeg".into(),
        size_bytes: 10,
        sha256: name.into(),
        storage_path: format!("media/{name}.jpg"),
        source: "upload".into(),
        width: None,
        height: None,
        duration_ms: None,
    };
    store.insert_media(tenant, &m).await.unwrap().id
}

/// A post with a text per platform and two images (in that order), published on `accounts`.
async fn published(store: &Store, tenant: TenantId, accounts: &[AccountId]) -> (PostId, Vec<TargetId>) {
    let post = store.create_draft(tenant, None, Some(42), "Launch", "the idea").await.unwrap();
    store.set_post_meta(tenant, post.id, "Launch", "a cup").await.unwrap();
    for (platform, body) in [(Platform::Facebook, "fb text"), (Platform::Instagram, "ig text")] {
        let c = PostContent { platform, body: body.into(), hashtags: vec!["coffee".into()], link: None, custom: false };
        store.set_post_content(tenant, post.id, &c).await.unwrap();
    }
    for (i, name) in ["second", "first"].iter().enumerate() {
        let id = media(store, tenant, name).await;
        sqlx::query("INSERT INTO post_media (post_id, tenant_id, media_id, position) VALUES ($1, $2, $3, $4)")
            .bind(post.id.to_db())
            .bind(tenant.to_db())
            .bind(id.to_db())
            .bind(1 - i as i64)
            .execute(store.sql_for_tests())
            .await
            .unwrap();
    }
    let version = store.post(tenant, post.id).await.unwrap().version;
    let at = tochen_domain::clock::now_ms();
    let targets = store.schedule_post(tenant, post.id, version, at, accounts, false).await.unwrap();
    for (i, t) in targets.iter().enumerate() {
        store.begin_publishing(tenant, t.id, Platform::ALL).await.unwrap();
        let id = format!("111_{i}");
        let settle = Settle::Published { platform_post_id: &id, permalink: Some("https://fb.example/p") };
        store.settle_target(tenant, t.id, settle, false, |_| None).await.unwrap();
    }
    (post.id, targets.into_iter().map(|t| t.id).collect())
}

async fn version(store: &Store, tenant: TenantId, post: PostId) -> i64 {
    store.post(tenant, post).await.unwrap().version
}

store_test!(a_change_is_requested_with_its_job_claimed_once_and_settled_once, |store| {
    let (a, alice) = workspace(&store, 1).await;
    let fb = account(&store, a, Platform::Facebook, AuthKind::FacebookPage, "page").await;
    let (post, t) = published(&store, a, &[fb]).await;
    let v = version(&store, a, post).await;
    assert_eq!(store.measurable_targets(a, fb, 0, 10).await.unwrap().len(), 1);

    // A stale screen changes nothing; an edit needs its text.
    let stale = store.request_post_change(a, t[0], v - 1, ChangeKind::EditText, Some("new"), None, None).await;
    assert!(matches!(stale, Err(ChangeError::Stale)), "{stale:?}");
    let empty = store.request_post_change(a, t[0], v, ChangeKind::EditText, Some("  "), None, None).await;
    assert!(matches!(empty, Err(ChangeError::NoText)), "{empty:?}");
    assert!(store.post_changes(a, post).await.unwrap().is_empty());

    let c = store
        .request_post_change(a, t[0], v, ChangeKind::EditText, Some("new text"), Some(alice), Some(7))
        .await
        .unwrap();
    assert_eq!(
        (c.status, c.new_text.as_deref(), c.requested_chat_id),
        (ChangeStatus::Queued, Some("new text"), Some(7))
    );
    assert_eq!(c.requested_by_name.as_deref(), Some("User1"));
    assert_eq!(version(&store, a, post).await, v + 1, "old buttons are stale now");
    let job = store.job_by_unique_key(&format!("{POST_CHANGE}:{}", c.id)).await.unwrap().expect("its job is queued");
    assert_eq!((job.kind.as_str(), job.tenant_id), (POST_CHANGE, Some(a)));
    // One open change per target.
    let busy = store.request_post_change(a, t[0], v + 1, ChangeKind::Delete, None, None, None).await;
    assert!(matches!(busy, Err(ChangeError::Busy)), "{busy:?}");

    // Claimed once; a retry finds it in flight; settled once.
    let BeginChange::Started(started) = store.begin_post_change(a, &c.id).await.unwrap() else { panic!("starts") };
    assert_eq!((started.status, started.attempts), (ChangeStatus::Sending, 1));
    let BeginChange::InFlight(again) = store.begin_post_change(a, &c.id).await.unwrap() else { panic!("in flight") };
    assert_eq!(again.attempts, 2);
    let v = version(&store, a, post).await;
    let done = store.settle_post_change(a, &c.id, ChangeStatus::Done, None).await.unwrap().expect("settled");
    assert_eq!((done.status, done.finished_at.is_some()), (ChangeStatus::Done, true));
    assert!(store.settle_post_change(a, &c.id, ChangeStatus::Failed, Some("late")).await.unwrap().is_none());
    assert!(matches!(store.begin_post_change(a, &c.id).await.unwrap(), BeginChange::Settled(_)));
    assert!(store.settle_post_change(a, &c.id, ChangeStatus::Sending, None).await.is_err(), "not a final state");
    assert_eq!(version(&store, a, post).await, v + 1, "the screen shows the outcome");
    let on = store.targets_on_platform(a, post).await.unwrap();
    assert_eq!((on[0].current_text.as_deref(), on[0].deleted_at), (Some("new text"), None));

    // A delete: done, the target deleted, and no further change is possible there.
    let v = version(&store, a, post).await;
    let d = store.request_post_change(a, t[0], v, ChangeKind::Delete, Some("ignored"), None, None).await.unwrap();
    assert_eq!(d.new_text, None);
    store.begin_post_change(a, &d.id).await.unwrap();
    store.settle_post_change(a, &d.id, ChangeStatus::Done, None).await.unwrap().unwrap();
    assert!(store.targets_on_platform(a, post).await.unwrap()[0].deleted_at.is_some());
    assert!(store.measurable_targets(a, fb, 0, 10).await.unwrap().is_empty(), "no metrics of a deleted post");
    let v = version(&store, a, post).await;
    let gone = store.request_post_change(a, t[0], v, ChangeKind::EditText, Some("x"), None, None).await;
    assert!(matches!(gone, Err(ChangeError::NotPublished)), "{gone:?}");

    // The history: both changes in order, and the audit log of the target.
    let kinds: Vec<_> = store.post_changes(a, post).await.unwrap().iter().map(|c| (c.kind, c.status)).collect();
    assert_eq!(kinds, vec![(ChangeKind::EditText, ChangeStatus::Done), (ChangeKind::Delete, ChangeStatus::Done)]);
    let actions: Vec<String> = store.post_history(a, post, 50).await.unwrap().into_iter().map(|e| e.action).collect();
    assert_eq!(
        actions,
        vec!["post.change_requested", "post.change_done", "post.change_requested", "post.change_done"],
        "oldest first"
    );
    let latest = store.post_history(a, post, 1).await.unwrap();
    assert_eq!((latest.len(), latest[0].target_id), (1, Some(t[0])), "a limit keeps the latest");
});

store_test!(a_failed_change_leaves_the_target_as_it_was, |store| {
    let (a, _) = workspace(&store, 1).await;
    let fb = account(&store, a, Platform::Facebook, AuthKind::FacebookPage, "page").await;
    let (post, t) = published(&store, a, &[fb]).await;
    let v = version(&store, a, post).await;
    let c = store.request_post_change(a, t[0], v, ChangeKind::EditText, Some("new"), None, None).await.unwrap();
    // Not claimed yet: it cannot be settled.
    assert!(store.settle_post_change(a, &c.id, ChangeStatus::Done, None).await.unwrap().is_none());
    store.begin_post_change(a, &c.id).await.unwrap();
    let failed = store.settle_post_change(a, &c.id, ChangeStatus::Failed, Some("(#100) not editable")).await.unwrap();
    assert_eq!(failed.unwrap().error.as_deref(), Some("(#100) not editable"));
    let on = &store.targets_on_platform(a, post).await.unwrap()[0];
    assert_eq!((on.current_text.as_deref(), on.deleted_at), (None, None));
    // A new change can be asked for once the last one settled.
    let v = version(&store, a, post).await;
    store.request_post_change(a, t[0], v, ChangeKind::EditText, Some("again"), None, None).await.unwrap();
});

store_test!(another_workspaces_ids_match_nothing, |store| {
    let (a, _) = workspace(&store, 1).await;
    let (b, bob) = workspace(&store, 2).await;
    let fb = account(&store, a, Platform::Facebook, AuthKind::FacebookPage, "page").await;
    let (post, t) = published(&store, a, &[fb]).await;
    let v = version(&store, a, post).await;
    let c = store.request_post_change(a, t[0], v, ChangeKind::EditText, Some("mine"), None, None).await.unwrap();

    let theirs = store.request_post_change(b, t[0], v + 1, ChangeKind::Delete, None, None, None).await;
    assert!(matches!(theirs, Err(ChangeError::Store(StoreError::NotFound(_)))), "{theirs:?}");
    assert!(matches!(store.post_change(b, &c.id).await, Err(StoreError::NotFound(_))));
    assert!(matches!(store.begin_post_change(b, &c.id).await, Err(StoreError::NotFound(_))));
    assert!(store.settle_post_change(b, &c.id, ChangeStatus::Done, None).await.unwrap().is_none());
    assert!(store.post_changes(b, post).await.unwrap().is_empty());
    assert!(store.targets_on_platform(b, post).await.unwrap().is_empty());
    assert!(store.post_history(b, post, 50).await.unwrap().is_empty());
    assert!(matches!(store.duplicate_post(b, post, Some(bob), None).await, Err(StoreError::NotFound(_))));
    assert_eq!(store.post_change(a, &c.id).await.unwrap().status, ChangeStatus::Queued, "untouched");
    assert_eq!(store.posts_with_status(b, &[tochen_domain::PostStatus::Draft], 0, 10).await.unwrap().len(), 0);
});

store_test!(duplicate_copies_texts_media_in_order_and_accounts_into_a_new_draft, |store| {
    let (a, alice) = workspace(&store, 1).await;
    let fb = account(&store, a, Platform::Facebook, AuthKind::FacebookPage, "page").await;
    let ig = account(&store, a, Platform::Instagram, AuthKind::InstagramViaPage, "ig").await;
    let (post, _) = published(&store, a, &[ig, fb]).await;

    let copy = store.duplicate_post(a, post, Some(alice), Some(99)).await.unwrap();
    let original = store.post(a, post).await.unwrap();
    assert_ne!(copy.id, post);
    assert_eq!(copy.status, tochen_domain::PostStatus::Draft);
    assert_eq!((copy.title.as_str(), copy.idea.as_str(), copy.image_prompt.as_str()), ("Launch", "the idea", "a cup"));
    assert_eq!((copy.author_id, copy.author_chat_id, copy.scheduled_at), (Some(alice), Some(99), None));
    assert_eq!(store.post_contents(a, copy.id).await.unwrap(), store.post_contents(a, post).await.unwrap());
    let media: Vec<_> = store.post_media_kinds(a, copy.id).await.unwrap();
    assert_eq!(media, store.post_media_kinds(a, post).await.unwrap());
    let first = store.media(a, media[0].0).await.unwrap();
    assert_eq!(first.info.sha256, "first", "the order is kept");
    let mut accounts = store.draft_accounts(a, copy.id).await.unwrap().expect("the targets' accounts");
    accounts.sort();
    let mut expected = vec![fb, ig];
    expected.sort();
    assert_eq!(accounts, expected);
    assert_eq!(original.status, store.post(a, post).await.unwrap().status, "the original is untouched");
    assert!(store.targets_of_post(a, copy.id).await.unwrap().is_empty());

    // A draft's copy takes the draft's own choice of accounts, and none when there was none.
    let draft = store.create_draft(a, None, None, "Draft", "d").await.unwrap();
    let none = store.duplicate_post(a, draft.id, None, None).await.unwrap();
    assert_eq!(store.draft_accounts(a, none.id).await.unwrap(), None);
    let v = store.post(a, draft.id).await.unwrap().version;
    store.edit_post(a, draft.id, v, &tochen_store::PostEdit::Accounts(vec![ig]), None).await.unwrap();
    let chosen = store.duplicate_post(a, draft.id, None, None).await.unwrap();
    assert_eq!(store.draft_accounts(a, chosen.id).await.unwrap(), Some(vec![ig]));
});
