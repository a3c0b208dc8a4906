//! Changing a post that has not gone out, on SQLite and PostgreSQL: the main text reaches only the versions that
//! follow it, media keep their order, a scheduled post's accounts move its targets and jobs, and every change is
//! one transaction refused whole when the post changed meanwhile, is being published, or belongs to another
//! workspace. An editor's change to an approved post sends it back to approval with its cards.

use tochen_domain::clock::now_ms;
use tochen_domain::jobs::NotifyPayload;
use tochen_domain::{AccountId, AuthKind, JobState, MediaKind, Platform, PostStatus, SecretString, TenantId, UserId};
use tochen_store::{
    ApprovalCard, CardOutcome, ClaimRequest, EditApproval, EditOutcome, EditRefusal, NewAccount, NewMedia, PostContent,
    PostEdit, Store, TelegramIdentity, TenantProfile,
};
use tochen_testkit::store_test;

async fn workspace(store: &Store, telegram_id: i64) -> (TenantId, UserId, Vec<AccountId>) {
    let who = TelegramIdentity {
        telegram_id,
        username: None,
        first_name: "Anna".into(),
        last_name: None,
        language_code: Some("en".into()),
    };
    let admin = store.upsert_user(&who).await.unwrap();
    let t = store.create_tenant("Bloom", &TenantProfile::default(), 0, admin.id).await.unwrap().id;
    let mut accounts = Vec::new();
    for (platform, kind, ext) in [
        (Platform::Facebook, AuthKind::FacebookPage, "page-1"),
        (Platform::Instagram, AuthKind::InstagramViaPage, "ig-1"),
    ] {
        let account = NewAccount {
            platform,
            auth_kind: kind,
            external_id: format!("{ext}-{telegram_id}"),
            name: "Bloom Coffee".into(),
            access_token: SecretString::new("t"),
            refresh_token: None,
            scopes: vec![],
            token_expires_at: None,
            refresh_expires_at: None,
            connected_by: None,
        };
        accounts.push(store.upsert_account(t, &account).await.unwrap().id);
    }
    (t, admin.id, accounts)
}

async fn media(store: &Store, t: TenantId, n: u8) -> tochen_domain::MediaId {
    let m = NewMedia {
        kind: MediaKind::Image,
        content_type: "image/jpeg".into(),
        size_bytes: 10,
        sha256: format!("{n:064}"),
        storage_path: format!("media/{n}.jpg"),
        source: "telegram".into(),
        width: None,
        height: None,
        duration_ms: None,
    };
    store.insert_media(t, &m).await.unwrap().id
}

async fn edit(store: &Store, t: TenantId, post: tochen_domain::PostId, change: PostEdit) -> EditOutcome {
    let v = store.post(t, post).await.unwrap().version;
    store.edit_post(t, post, v, &change, None).await.unwrap()
}

fn done(o: &EditOutcome) -> bool {
    matches!(o, EditOutcome::Done { .. })
}

store_test!(the_main_text_reaches_only_the_versions_that_follow_it, |store| {
    let (t, anna, _) = workspace(&store, 1).await;
    let post = store.create_draft(t, Some(anna), None, "Launch", "").await.unwrap();
    let main = PostEdit::MainText {
        body: "Fresh bread".into(),
        hashtags: Some(vec!["bakery".into()]),
        platforms: vec![Platform::Facebook, Platform::Instagram],
    };
    assert!(done(&edit(&store, t, post.id, main).await));
    let own =
        PostEdit::Version { platform: Platform::Instagram, body: "Bread 🥖".into(), hashtags: vec!["ig".into()] };
    assert!(done(&edit(&store, t, post.id, own).await));
    let again = PostEdit::MainText { body: "Fresh rye".into(), hashtags: None, platforms: vec![] };
    assert!(done(&edit(&store, t, post.id, again).await));

    let contents = store.post_contents(t, post.id).await.unwrap();
    let fb = contents.iter().find(|c| c.platform == Platform::Facebook).unwrap();
    let ig = contents.iter().find(|c| c.platform == Platform::Instagram).unwrap();
    assert_eq!((fb.body.as_str(), fb.hashtags.clone(), fb.custom), ("Fresh rye", vec!["bakery".to_string()], false));
    assert_eq!((ig.body.as_str(), ig.custom), ("Bread 🥖", true));
    assert_eq!(store.post(t, post.id).await.unwrap().body, "Fresh rye");

    // Following the main text again takes it now; the version keeps its hashtags.
    assert!(done(&edit(&store, t, post.id, PostEdit::FollowMain(Platform::Instagram)).await));
    let ig = store.post_contents(t, post.id).await.unwrap().into_iter().find(|c| c.platform == Platform::Instagram);
    let ig = ig.unwrap();
    assert_eq!((ig.body.as_str(), ig.custom, ig.hashtags), ("Fresh rye", false, vec!["ig".to_string()]));

    // LLM versions written whole keep their flags, and may set the main text.
    let c = PostContent {
        platform: Platform::Facebook,
        body: "LLM text".into(),
        hashtags: vec![],
        link: None,
        custom: false,
    };
    let versions = PostEdit::Versions { contents: vec![c], main: Some("LLM text".into()) };
    assert!(done(&edit(&store, t, post.id, versions).await));
    assert_eq!(store.post(t, post.id).await.unwrap().body, "LLM text");
});

store_test!(media_keep_their_order_and_can_move_and_go, |store| {
    let (t, anna, _) = workspace(&store, 2).await;
    let post = store.create_draft(t, Some(anna), None, "Album", "").await.unwrap();
    let (a, b, c) = (media(&store, t, 1).await, media(&store, t, 2).await, media(&store, t, 3).await);
    assert!(done(&edit(&store, t, post.id, PostEdit::AddMedia(vec![a, b])).await));
    assert!(done(&edit(&store, t, post.id, PostEdit::AddMedia(vec![c, a])).await), "a repeat is ignored");
    let order = |store: Store| async move {
        store.post_media_kinds(t, post.id).await.unwrap().into_iter().map(|(id, _)| id).collect::<Vec<_>>()
    };
    assert_eq!(order(store.clone()).await, vec![a, b, c]);
    assert!(done(&edit(&store, t, post.id, PostEdit::MoveMedia { media: c, earlier: true }).await));
    assert_eq!(order(store.clone()).await, vec![a, c, b]);
    assert!(done(&edit(&store, t, post.id, PostEdit::MoveMedia { media: a, earlier: true }).await), "first stays");
    assert!(done(&edit(&store, t, post.id, PostEdit::MoveMedia { media: a, earlier: false }).await));
    assert_eq!(order(store.clone()).await, vec![c, a, b]);
    assert!(done(&edit(&store, t, post.id, PostEdit::RemoveMedia(a)).await));
    assert_eq!(order(store.clone()).await, vec![c, b]);

    // Another workspace's media id matches nothing.
    let (other, _, _) = workspace(&store, 3).await;
    let foreign = media(&store, other, 9).await;
    assert!(done(&edit(&store, t, post.id, PostEdit::AddMedia(vec![foreign])).await));
    assert_eq!(order(store.clone()).await, vec![c, b]);
});

store_test!(a_stale_version_another_workspace_or_a_sent_post_changes_nothing, |store| {
    let (t, anna, accounts) = workspace(&store, 4).await;
    let post = store.create_draft(t, Some(anna), None, "Launch", "").await.unwrap();
    let change = PostEdit::MainText { body: "x".into(), hashtags: None, platforms: vec![Platform::Facebook] };
    let stale = store.edit_post(t, post.id, post.version + 1, &change, None).await.unwrap();
    assert_eq!(stale, EditOutcome::Refused(EditRefusal::Stale));
    let (other, _, _) = workspace(&store, 5).await;
    let foreign = store.edit_post(other, post.id, post.version, &change, None).await.unwrap();
    assert_eq!(foreign, EditOutcome::Refused(EditRefusal::NotFound));
    assert!(store.post_contents(t, post.id).await.unwrap().is_empty());
    assert_eq!(store.post(t, post.id).await.unwrap().version, post.version);

    // Published posts do not change here.
    let at = now_ms() + 3_600_000;
    store.schedule_post(t, post.id, post.version, at, &accounts[..1], false).await.unwrap();
    let p = store.post(t, post.id).await.unwrap();
    assert!(store.set_post_status_if_version(t, post.id, p.version, PostStatus::Published).await.unwrap());
    let p = store.post(t, post.id).await.unwrap();
    let sent = store.edit_post(t, post.id, p.version, &change, None).await.unwrap();
    assert_eq!(sent, EditOutcome::Refused(EditRefusal::WrongStatus(PostStatus::Published)));
});

store_test!(a_scheduled_post_changes_in_place_and_its_accounts_move_its_targets_and_jobs, |store| {
    let (t, anna, accounts) = workspace(&store, 6).await;
    let post = store.create_draft(t, Some(anna), None, "Launch", "").await.unwrap();
    let at = now_ms() + 3_600_000;
    store.schedule_post(t, post.id, post.version, at, &accounts[..1], false).await.unwrap();
    let main = PostEdit::MainText { body: "Changed".into(), hashtags: None, platforms: vec![Platform::Facebook] };
    let out = edit(&store, t, post.id, main).await;
    assert!(matches!(out, EditOutcome::Done { status: PostStatus::Scheduled, resubmitted: false, .. }), "{out:?}");

    // Instagram in, Facebook out: one pending target and one queued job, for Instagram, at the same time.
    assert!(done(&edit(&store, t, post.id, PostEdit::Accounts(vec![accounts[1]])).await));
    let targets = store.targets_of_post(t, post.id).await.unwrap();
    assert_eq!(targets.iter().map(|x| x.account_id).collect::<Vec<_>>(), vec![accounts[1]]);
    let jobs: Vec<_> = store.tenant_jobs(t, JobState::Queued, 20).await.unwrap();
    let publish: Vec<_> = jobs.iter().filter(|j| j.kind == "publish").collect();
    assert_eq!(publish.len(), 1);
    assert_eq!(publish[0].unique_key.as_deref(), Some(format!("publish:{}", targets[0].id.to_db()).as_str()));
    assert_eq!(publish[0].run_at, at);
    assert_eq!(
        edit(&store, t, post.id, PostEdit::Accounts(vec![])).await,
        EditOutcome::Refused(EditRefusal::NoAccounts)
    );

    // A worker claimed the publish job: the post is being published, and a change is refused whole.
    let kinds = vec!["publish".to_string()];
    let claimed = store
        .claim_jobs(&ClaimRequest { owner: "w", limit: 10, lease_ms: 60_000, per_key: 1, kinds: &kinds })
        .await
        .unwrap();
    // The job runs at `at`, an hour ahead: claiming it needs it due, so move it first.
    assert!(claimed.is_empty());
    let p = store.post(t, post.id).await.unwrap();
    assert!(store.reschedule_post(t, post.id, p.version, now_ms() - 1).await.unwrap());
    let claimed = store
        .claim_jobs(&ClaimRequest { owner: "w", limit: 10, lease_ms: 60_000, per_key: 1, kinds: &kinds })
        .await
        .unwrap();
    assert_eq!(claimed.len(), 1);
    let before = store.post(t, post.id).await.unwrap();
    let late = PostEdit::MainText { body: "Too late".into(), hashtags: None, platforms: vec![] };
    assert_eq!(edit(&store, t, post.id, late).await, EditOutcome::Refused(EditRefusal::Publishing));
    let after = store.post(t, post.id).await.unwrap();
    assert_eq!((after.body, after.version), (before.body, before.version));
});

store_test!(an_editors_change_to_an_approved_post_sends_it_back_to_approval, |store| {
    let (t, anna, accounts) = workspace(&store, 7).await;
    let post = store.create_draft(t, Some(anna), None, "Launch", "").await.unwrap();
    let at = now_ms() + 3_600_000;
    store.schedule_post(t, post.id, post.version, at, &accounts, false).await.unwrap();
    let text = |_: &str| "changed".to_string();
    let replaced = CardOutcome { text: &text, shown: None };
    let cards = |_: i64, _: &[tochen_store::Target]| {
        vec![ApprovalCard { lang: "en".into(), message: NotifyPayload::text(77, "card") }]
    };
    let approval = EditApproval { send_back: true, replaced: &replaced, cards: &cards };
    let p = store.post(t, post.id).await.unwrap();
    let change = PostEdit::MainText { body: "Editor's words".into(), hashtags: None, platforms: vec![] };
    let out = store.edit_post(t, post.id, p.version, &change, Some(&approval)).await.unwrap();
    assert!(matches!(out, EditOutcome::Done { status: PostStatus::PendingApproval, resubmitted: true, .. }), "{out:?}");
    let p = store.post(t, post.id).await.unwrap();
    assert_eq!(p.status, PostStatus::PendingApproval);
    let jobs = store.tenant_jobs(t, JobState::Queued, 20).await.unwrap();
    assert!(jobs.iter().all(|j| j.kind != "publish"), "the publish jobs are withdrawn: {jobs:?}");
    assert_eq!(jobs.iter().filter(|j| j.kind == "notify").count(), 1, "one card for the new round");
    assert_eq!(store.targets_of_post(t, post.id).await.unwrap().len(), 2, "the targets wait with it");
    assert_eq!(store.approval_round(t, post.id).await.unwrap(), Some(p.version));
});

store_test!(a_platform_chosen_without_a_version_gets_one_that_follows_the_main_text, |store| {
    let (t, anna, accounts) = workspace(&store, 8).await;
    let post = store.create_draft(t, Some(anna), None, "Launch", "").await.unwrap();
    let main = PostEdit::MainText {
        body: "Fresh bread".into(),
        hashtags: Some(vec!["bakery".into()]),
        platforms: vec![Platform::Facebook],
    };
    assert!(done(&edit(&store, t, post.id, main).await));
    assert!(done(&edit(&store, t, post.id, PostEdit::Accounts(accounts.clone())).await));
    let contents = store.post_contents(t, post.id).await.unwrap();
    let ig = contents.iter().find(|c| c.platform == Platform::Instagram).expect("a version for Instagram");
    assert_eq!((ig.body.as_str(), ig.hashtags.clone(), ig.custom), ("Fresh bread", vec!["bakery".to_string()], false));
    assert_eq!(
        store.draft_accounts(t, post.id).await.unwrap(),
        Some({
            let mut a = accounts.clone();
            a.sort_by_key(|x| x.to_db());
            a
        })
    );
});
