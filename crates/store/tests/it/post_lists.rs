//! The lists people page through (the library's `/drafts` and `/history` views): newest first by when a post goes
//! or went out (else when it was made), paged, one workspace's posts only, on SQLite and PostgreSQL.

use tochen_domain::PostStatus;
use tochen_domain::TenantId;
use tochen_store::Store;
use tochen_store::{LibraryFilter, Post, TelegramIdentity, TenantProfile};
use tochen_testkit::store_test;

async fn workspace(store: &Store, telegram_id: i64) -> TenantId {
    let who = TelegramIdentity {
        telegram_id,
        username: None,
        first_name: format!("User{telegram_id}"),
        last_name: None,
        language_code: Some("en".into()),
    };
    let admin = store.upsert_user(&who).await.unwrap();
    store.create_tenant("Team", &TenantProfile::default(), 0, admin.id).await.unwrap().id
}

/// A post titled `title` created at `created_at`, in `status`, out (scheduled) at `at`.
async fn post(store: &Store, tenant: TenantId, title: &str, created_at: i64, status: PostStatus, at: Option<i64>) {
    let p = store.create_draft(tenant, None, None, title, "idea").await.unwrap();
    sqlx::query("UPDATE posts SET created_at = $1, status = $2, scheduled_at = $3 WHERE id = $4")
        .bind(created_at)
        .bind(status.as_str())
        .bind(at)
        .bind(p.id.to_db())
        .execute(store.sql_for_tests())
        .await
        .unwrap();
}

/// A page of the library showing only `statuses`.
async fn page(store: &Store, tenant: TenantId, statuses: &[PostStatus], offset: i64, limit: i64) -> Vec<Post> {
    let f = LibraryFilter { statuses: statuses.to_vec(), ..Default::default() };
    store.library(tenant, &f, offset, limit).await.unwrap()
}

fn titles(posts: &[Post]) -> Vec<String> {
    posts.iter().map(|p| p.title.clone()).collect()
}

fn names(prefix: &str, range: impl Iterator<Item = i64>) -> Vec<String> {
    range.map(|i| format!("{prefix} {i:03}")).collect()
}

store_test!(drafts_come_newest_first_in_pages, |store| {
    let a = workspace(&store, 1).await;
    let b = workspace(&store, 2).await;
    let base = 1_700_000_000_000;
    for i in 1..=25 {
        post(&store, a, &format!("Draft {i:03}"), base + i * 1000, PostStatus::Draft, None).await;
    }
    // A rejected post to rework is a draft too, placed by its creation when it has no time.
    post(&store, a, "Rejected", base + 12_500, PostStatus::Rejected, None).await;
    post(&store, a, "Scheduled", base + 30_000, PostStatus::Scheduled, Some(base)).await;
    post(&store, b, "Other workspace", base + 40_000, PostStatus::Draft, None).await;

    let statuses = [PostStatus::Draft, PostStatus::Rejected];
    let first = page(&store, a, &statuses, 0, 20).await;
    let mut expected = names("Draft", (13..=25).rev());
    expected.push("Rejected".into());
    expected.extend(names("Draft", (7..=12).rev()));
    assert_eq!(titles(&first), expected);
    let second = page(&store, a, &statuses, 20, 20).await;
    assert_eq!(titles(&second), names("Draft", (1..=6).rev()));
    assert!(page(&store, a, &statuses, 40, 20).await.is_empty());
});

store_test!(history_starts_with_the_latest_of_more_than_two_hundred_posts, |store| {
    let a = workspace(&store, 1).await;
    let b = workspace(&store, 2).await;
    let base = 1_700_000_000_000;
    // Created in the opposite order of going out: the time they went out decides.
    for i in 1..=205 {
        let status = if i % 7 == 0 { PostStatus::Failed } else { PostStatus::Published };
        post(&store, a, &format!("Post {i:03}"), base - i * 1000, status, Some(base + i * 60_000)).await;
    }
    post(&store, a, "Still a draft", base + 1, PostStatus::Draft, None).await;
    post(&store, b, "Other workspace", base, PostStatus::Published, Some(base + 999 * 60_000)).await;

    let done = [PostStatus::Published, PostStatus::PartiallyPublished, PostStatus::Failed];
    let newest = page(&store, a, &done, 0, 10).await;
    assert_eq!(titles(&newest), names("Post", (196..=205).rev()));
    let last = page(&store, a, &done, 200, 10).await;
    assert_eq!(titles(&last), names("Post", (1..=5).rev()));
    // Every one is on some page, once.
    let all = page(&store, a, &done, 0, 1000).await;
    assert_eq!(all.len(), 205);
    assert!(all.windows(2).all(|w| w[0].scheduled_at > w[1].scheduled_at));
});

store_test!(equal_times_keep_one_order_across_pages, |store| {
    let a = workspace(&store, 1).await;
    for i in 1..=9 {
        post(&store, a, &format!("Same {i:03}"), 1_700_000_000_000, PostStatus::Draft, None).await;
    }
    let statuses = [PostStatus::Draft];
    let mut paged = Vec::new();
    for n in 0..3 {
        paged.extend(page(&store, a, &statuses, n * 4, 4).await);
    }
    let whole = page(&store, a, &statuses, 0, 100).await;
    assert_eq!(titles(&paged), titles(&whole));
    assert_eq!(whole.len(), 9);
});
