//! `/calendar`'s read on SQLite and PostgreSQL: the posts of a range, each at the time it went out or is
//! scheduled for, with status and platforms, and one workspace's posts only.

use tochen_domain::{AccountId, AuthKind, Platform, PostStatus, SecretString, TenantId};
use tochen_store::{NewAccount, PostEdit, Store, TelegramIdentity, TenantProfile};
use tochen_testkit::store_test;

async fn workspace(store: &Store, telegram_id: i64) -> (TenantId, AccountId, AccountId, AccountId) {
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
    for (platform, kind) in [
        (Platform::Facebook, AuthKind::FacebookPage),
        (Platform::Instagram, AuthKind::InstagramViaPage),
        (Platform::TikTok, AuthKind::TikTok),
    ] {
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
    (t, ids[0], ids[1], ids[2])
}

store_test!(the_calendar_reads_a_ranges_posts_with_status_time_and_platforms_of_one_workspace, |store| {
    let (a, fb, ig, tt) = workspace(&store, 1).await;
    let (b, b_fb, _, _) = workspace(&store, 2).await;
    let base = 1_796_000_000_000;
    let hour = 3_600_000;
    let draft = |t, title: &'static str| {
        let store = store.clone();
        async move { store.create_draft(t, None, None, title, "").await.unwrap() }
    };
    // Published on Facebook and Instagram: placed at its first target's publish time, not the schedule.
    let p1 = draft(a, "Published").await;
    let t1 = store.schedule_post(a, p1.id, p1.version, base + hour, &[fb, ig], false).await.unwrap();
    for (i, t) in t1.iter().enumerate() {
        sqlx::query("UPDATE post_targets SET status = 'published', published_at = $1 WHERE id = $2")
            .bind(base + 2 * hour + i as i64 * 1000)
            .bind(t.id.to_db())
            .execute(store.sql_for_tests())
            .await
            .unwrap();
    }
    sqlx::query("UPDATE posts SET status = 'published' WHERE id = $1")
        .bind(p1.id.to_db())
        .execute(store.sql_for_tests())
        .await
        .unwrap();
    // Scheduled on TikTok.
    let p2 = draft(a, "Scheduled").await;
    store.schedule_post(a, p2.id, p2.version, base + 5 * hour, &[tt], false).await.unwrap();
    // Waiting for approval.
    let p3 = draft(a, "Waiting").await;
    store.schedule_post(a, p3.id, p3.version, base + 3 * hour, &[ig, tt], true).await.unwrap();
    // A draft with accounts picked and a time set but no targets yet: its draft's accounts are its platforms.
    let p4 = draft(a, "Draft with time").await;
    store.edit_post(a, p4.id, p4.version, &PostEdit::Accounts(vec![tt, fb]), None).await.unwrap();
    sqlx::query("UPDATE posts SET scheduled_at = $1 WHERE id = $2")
        .bind(base + 4 * hour)
        .bind(p4.id.to_db())
        .execute(store.sql_for_tests())
        .await
        .unwrap();
    // A draft without a time, and a post after the range: not in it.
    draft(a, "No time").await;
    let late = draft(a, "Late").await;
    store.schedule_post(a, late.id, late.version, base + 48 * hour, &[fb], false).await.unwrap();
    // Another workspace's post in the same range.
    let theirs = draft(b, "Theirs").await;
    store.schedule_post(b, theirs.id, theirs.version, base + hour, &[b_fb], false).await.unwrap();

    let got = store.calendar_posts(a, base, base + 24 * hour).await.unwrap();
    let summary: Vec<(&str, PostStatus, i64, Vec<Platform>)> =
        got.iter().map(|p| (p.title.as_str(), p.status, (p.at - base) / 1000, p.platforms.clone())).collect();
    assert_eq!(
        summary,
        vec![
            ("Published", PostStatus::Published, 7200, vec![Platform::Facebook, Platform::Instagram]),
            ("Waiting", PostStatus::PendingApproval, 10800, vec![Platform::Instagram, Platform::TikTok]),
            ("Draft with time", PostStatus::Draft, 14400, vec![Platform::Facebook, Platform::TikTok]),
            ("Scheduled", PostStatus::Scheduled, 18000, vec![Platform::TikTok]),
        ]
    );
    assert_eq!(got[0].id, p1.id);
    // The range is half-open, and the other workspace sees only its own post.
    assert!(store.calendar_posts(a, base + 5 * hour + 1, base + 24 * hour).await.unwrap().is_empty());
    assert_eq!(store.calendar_posts(a, base, base + 2 * hour).await.unwrap().len(), 0);
    let theirs_got = store.calendar_posts(b, base, base + 24 * hour).await.unwrap();
    assert_eq!(theirs_got.len(), 1);
    assert_eq!((theirs_got[0].id, theirs_got[0].platforms.clone()), (theirs.id, vec![Platform::Facebook]));
    assert!(store.calendar_posts(a, base + 48 * hour, base + 49 * hour).await.unwrap().iter().all(|p| p.id == late.id));
});
