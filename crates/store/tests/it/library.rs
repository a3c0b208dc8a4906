//! The content library's query on SQLite and PostgreSQL: filters by status, platform, account, author, tag, date
//! range and words of the text, newest first, paged, and one workspace's posts only; tags normalized.

use tochen_domain::{AccountId, AuthKind, Platform, PostStatus, SecretString, TenantId, UserId};
use tochen_store::{LibraryFilter, NewAccount, Post, PostEdit, Store, StoreError, TelegramIdentity, TenantProfile};
use tochen_testkit::store_test;

async fn workspace(store: &Store, telegram_id: i64) -> (TenantId, UserId, AccountId, AccountId) {
    let who = TelegramIdentity {
        telegram_id,
        username: None,
        first_name: format!("User{telegram_id}"),
        last_name: None,
        language_code: Some("en".into()),
    };
    let admin = store.upsert_user(&who).await.unwrap();
    let t = store.create_tenant("Team", &TenantProfile::default(), 0, admin.id).await.unwrap().id;
    let mut ids = Vec::new();
    for (platform, kind) in
        [(Platform::Facebook, AuthKind::FacebookPage), (Platform::Instagram, AuthKind::InstagramViaPage)]
    {
        let acc = NewAccount {
            platform,
            auth_kind: kind,
            external_id: format!("{platform}-{telegram_id}"),
            name: format!("{platform}"),
            access_token: SecretString::new("t"),
            refresh_token: None,
            scopes: vec![],
            token_expires_at: None,
            refresh_expires_at: None,
            connected_by: None,
        };
        ids.push(store.upsert_account(t, &acc).await.unwrap().id);
    }
    (t, admin.id, ids[0], ids[1])
}

/// A post by `author` with `text` as its main text, aimed at `account`, in `status`, dated `at`.
#[allow(clippy::too_many_arguments)]
async fn post(
    store: &Store,
    t: TenantId,
    author: Option<UserId>,
    title: &str,
    text: &str,
    account: AccountId,
    status: PostStatus,
    at: i64,
) -> Post {
    let p = store.create_draft(t, author, None, title, "").await.unwrap();
    let change = PostEdit::MainText { body: text.into(), hashtags: None, platforms: vec![Platform::Facebook] };
    store.edit_post(t, p.id, p.version, &change, None).await.unwrap();
    let v = store.post(t, p.id).await.unwrap().version;
    store.edit_post(t, p.id, v, &PostEdit::Accounts(vec![account]), None).await.unwrap();
    sqlx::query("UPDATE posts SET created_at = $1, status = $2 WHERE id = $3")
        .bind(at)
        .bind(status.as_str())
        .bind(p.id.to_db())
        .execute(store.sql_for_tests())
        .await
        .unwrap();
    store.post(t, p.id).await.unwrap()
}

fn titles(posts: &[Post]) -> Vec<&str> {
    posts.iter().map(|p| p.title.as_str()).collect()
}

store_test!(the_library_filters_pages_and_searches_one_workspaces_posts, |store| {
    let (a, anna, fb, ig) = workspace(&store, 1).await;
    let (b, _, b_fb, _) = workspace(&store, 2).await;
    let base = 1_700_000_000_000;
    let p1 = post(&store, a, Some(anna), "Rye", "Fresh rye bread at 8", fb, PostStatus::Draft, base + 1_000).await;
    let p2 =
        post(&store, a, None, "Croissant", "Butter croissants, 50% off", ig, PostStatus::Published, base + 2_000).await;
    let p3 = post(&store, a, Some(anna), "Workshop", "Sourdough workshop", ig, PostStatus::Draft, base + 3_000).await;
    post(&store, b, None, "Other", "Fresh rye bread elsewhere", b_fb, PostStatus::Draft, base + 4_000).await;

    let all = store.library(a, &LibraryFilter::default(), 0, 10).await.unwrap();
    assert_eq!(titles(&all), vec!["Workshop", "Croissant", "Rye"], "newest first, this workspace only");
    let page = store.library(a, &LibraryFilter::default(), 1, 1).await.unwrap();
    assert_eq!(titles(&page), vec!["Croissant"]);

    let f = |f: LibraryFilter| {
        let store = store.clone();
        async move { store.library(a, &f, 0, 10).await.unwrap().into_iter().map(|p| p.title).collect::<Vec<_>>() }
    };
    assert_eq!(f(LibraryFilter { statuses: vec![PostStatus::Draft], ..Default::default() }).await, ["Workshop", "Rye"]);
    assert_eq!(
        f(LibraryFilter { platform: Some(Platform::Instagram), ..Default::default() }).await,
        ["Workshop", "Croissant"]
    );
    assert_eq!(f(LibraryFilter { account: Some(fb), ..Default::default() }).await, ["Rye"]);
    assert_eq!(f(LibraryFilter { account: Some(b_fb), ..Default::default() }).await, Vec::<String>::new());
    assert_eq!(f(LibraryFilter { author: Some(anna), ..Default::default() }).await, ["Workshop", "Rye"]);
    let range = LibraryFilter { since: Some(base + 1_500), until: Some(base + 3_000), ..Default::default() };
    assert_eq!(f(range).await, ["Croissant"]);

    // Words must all appear, in any case, in the title, the main text or a version; LIKE's own signs are text.
    assert_eq!(f(LibraryFilter { search: Some("RYE bread".into()), ..Default::default() }).await, ["Rye"]);
    assert_eq!(f(LibraryFilter { search: Some("50%".into()), ..Default::default() }).await, ["Croissant"]);
    assert_eq!(f(LibraryFilter { search: Some("5_%".into()), ..Default::default() }).await, Vec::<String>::new());
    assert_eq!(
        f(LibraryFilter { search: Some("rye workshop".into()), ..Default::default() }).await,
        Vec::<String>::new()
    );

    // Tags, normalized and per post; another workspace's post cannot be tagged.
    let stored = store
        .set_post_tags(a, p1.id, &["#Bread".into(), "bread".into(), "Morning".into(), "two words".into()])
        .await
        .unwrap();
    assert_eq!(stored, ["bread", "morning"]);
    store.set_post_tags(a, p3.id, &["bread".into()]).await.unwrap();
    assert_eq!(store.post_tags(a, p1.id).await.unwrap(), ["bread", "morning"]);
    assert_eq!(f(LibraryFilter { tag: Some("#BREAD".into()), ..Default::default() }).await, ["Workshop", "Rye"]);
    assert_eq!(store.workspace_tags(a).await.unwrap(), vec![("bread".to_string(), 2), ("morning".to_string(), 1)]);
    assert!(matches!(store.set_post_tags(b, p2.id, &["x".into()]).await, Err(StoreError::NotFound(_))));
    assert!(store.post_tags(b, p2.id).await.unwrap().is_empty());
});

store_test!(a_library_page_reads_its_targets_tags_and_latest_numbers_in_one_workspace, |store| {
    use tochen_store::{MetricValues, NewSnapshot};
    let (a, anna, fb, ig) = workspace(&store, 1).await;
    let (b, bob, b_fb, _) = workspace(&store, 2).await;
    let base = 1_700_000_000_000;
    let p1 = post(&store, a, Some(anna), "One", "first", fb, PostStatus::Draft, base).await;
    let p2 = post(&store, a, Some(anna), "Two", "second", ig, PostStatus::Draft, base).await;
    let other = post(&store, b, Some(bob), "Theirs", "x", b_fb, PostStatus::Draft, base).await;
    let t1 = store.schedule_post(a, p1.id, p1.version, base + 10_000, &[fb, ig], false).await.unwrap();
    let t2 = store.schedule_post(a, p2.id, p2.version, base + 20_000, &[ig], false).await.unwrap();
    let theirs = store.schedule_post(b, other.id, other.version, base + 30_000, &[b_fb], false).await.unwrap();

    // Targets of a page in one read; another workspace's post adds nothing.
    let got = store.targets_of_posts(a, &[p1.id, p2.id, other.id]).await.unwrap();
    let mut ids: Vec<_> = got.iter().map(|t| t.id).collect();
    let mut want: Vec<_> = t1.iter().chain(&t2).map(|t| t.id).collect();
    ids.sort();
    want.sort();
    assert_eq!(ids, want);
    assert!(store.targets_of_posts(a, &[]).await.unwrap().is_empty());

    // Tags leave the version (and so approval cards and schedule screens) alone.
    let before = store.post(a, p1.id).await.unwrap().version;
    store.set_post_tags(a, p1.id, &["promo".into(), "bread".into()]).await.unwrap();
    store.set_post_tags(b, other.id, &["promo".into()]).await.unwrap();
    assert_eq!(store.post(a, p1.id).await.unwrap().version, before);
    let tags = store.tags_of_posts(a, &[p1.id, p2.id, other.id]).await.unwrap();
    assert_eq!(tags, vec![(p1.id, "bread".to_string()), (p1.id, "promo".to_string())]);

    // The latest reading of each target, whenever it was taken; missing counters stay missing; never another
    // workspace's.
    let snap = |tenant, account, target: &tochen_store::Target, at: i64, views: Option<i64>, likes: Option<i64>| {
        let store = store.clone();
        let s = NewSnapshot {
            account_id: account,
            target_id: Some(target.id),
            platform: target.platform,
            captured_at: at,
            values: MetricValues { views, likes, ..Default::default() },
            raw: serde_json::json!({}),
        };
        async move { store.insert_metrics_snapshot(tenant, &s).await.unwrap() }
    };
    snap(a, fb, &t1[0], base + 100, Some(10), Some(1)).await;
    snap(a, fb, &t1[0], base + 300, Some(30), None).await;
    snap(a, fb, &t1[0], base + 200, Some(20), Some(2)).await;
    snap(a, ig, &t2[0], base + 50, None, Some(7)).await;
    snap(b, b_fb, &theirs[0], base + 400, Some(99), None).await;
    let ids = [t1[0].id, t1[1].id, t2[0].id, theirs[0].id];
    let latest = store.latest_metrics_of_targets(a, &ids).await.unwrap();
    assert_eq!(latest.len(), 2, "{latest:?}");
    let (at, m) = &latest[&t1[0].id];
    assert_eq!((*at, m.views, m.likes), (base + 300, Some(30), None));
    let (at, m) = &latest[&t2[0].id];
    assert_eq!((*at, m.views, m.likes), (base + 50, None, Some(7)));
    assert!(store.latest_metrics_of_targets(a, &[]).await.unwrap().is_empty());
});

store_test!(each_person_keeps_a_library_view_per_workspace, |store| {
    let (a, anna, _, _) = workspace(&store, 1).await;
    let (b, bob, _, _) = workspace(&store, 2).await;
    assert_eq!(store.library_view(a, anna).await.unwrap(), None);
    store.set_library_view(a, anna, r#"{"status":1}"#).await.unwrap();
    store.set_library_view(a, anna, r#"{"status":7}"#).await.unwrap();
    store.set_library_view(b, bob, r#"{"tag":"x"}"#).await.unwrap();
    assert_eq!(store.library_view(a, anna).await.unwrap().as_deref(), Some(r#"{"status":7}"#));
    assert_eq!(store.library_view(b, anna).await.unwrap(), None);
    assert_eq!(store.library_view(a, bob).await.unwrap(), None);
});
