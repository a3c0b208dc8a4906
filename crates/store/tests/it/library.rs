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
