//! Queue slots on SQLite and PostgreSQL: the workspace's and an account's own slots (add, remove, preset, clear),
//! one workspace's only; the next free slot across the 2026 DST changes in Europe/Berlin with taken instants from
//! scheduled posts; swapping two queued posts' times with their publish jobs; and the best-time input (latest
//! metrics of published targets) against hand-computed numbers.

use chrono::{TimeZone, Utc, Weekday};
use tochen_domain::besttime::{aggregate, engagement};
use tochen_domain::slots::{self, Preset, WeeklySlot};
use tochen_domain::{AccountId, AuthKind, Platform, PostStatus, SecretString, TenantId, UserId};
use tochen_store::{MetricValues, NewAccount, NewSnapshot, PostEdit, Store, TelegramIdentity, TenantProfile};
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

/// (likes, comments, shares, saves, reach, views).
type Counters = (Option<i64>, Option<i64>, Option<i64>, Option<i64>, Option<i64>, Option<i64>);

fn utc(y: i32, mo: u32, d: u32, h: u32, mi: u32) -> i64 {
    Utc.with_ymd_and_hms(y, mo, d, h, mi, 0).unwrap().timestamp_millis()
}

fn slot(d: Weekday, h: u8, m: u8) -> WeeklySlot {
    WeeklySlot::new(d, h, m).unwrap()
}

/// A draft with text for `platforms`, scheduled at `at` on `accounts`.
async fn scheduled(store: &Store, t: TenantId, title: &str, at: i64, accounts: &[AccountId]) -> tochen_store::Post {
    let p = store.create_draft(t, None, None, title, "").await.unwrap();
    let change = PostEdit::MainText {
        body: format!("{title} text"),
        hashtags: None,
        platforms: vec![Platform::Facebook, Platform::Instagram],
    };
    store.edit_post(t, p.id, p.version, &change, None).await.unwrap();
    let v = store.post(t, p.id).await.unwrap().version;
    store.schedule_post(t, p.id, v, at, accounts, false).await.unwrap();
    store.post(t, p.id).await.unwrap()
}

store_test!(slots_are_kept_per_workspace_and_per_account, |store| {
    let (a, _, fb, ig) = workspace(&store, 1).await;
    let (b, _, b_fb, _) = workspace(&store, 2).await;
    assert!(store.queue_slots(a, None).await.unwrap().is_empty());

    store.replace_queue_slots(a, None, &Preset::Weekdays.slots()).await.unwrap();
    assert_eq!(store.queue_slots(a, None).await.unwrap(), Preset::Weekdays.slots());
    // Adding skips what is there; an account's own slots are apart from the workspace's.
    let added = store.add_queue_slots(a, None, &slots::parse("Mon 09:00 Sat 10:00").unwrap()).await.unwrap();
    assert_eq!(added, 1);
    assert_eq!(store.queue_slots(a, None).await.unwrap().len(), 16);
    store.add_queue_slots(a, Some(ig), &[slot(Weekday::Tue, 11, 30)]).await.unwrap();
    assert_eq!(store.queue_slots(a, Some(ig)).await.unwrap(), vec![slot(Weekday::Tue, 11, 30)]);
    assert_eq!(store.accounts_with_own_slots(a).await.unwrap(), vec![ig]);

    // Effective slots: the account's own replace the workspace's for it; together for several accounts.
    assert_eq!(store.effective_queue_slots(a, &[ig]).await.unwrap(), vec![slot(Weekday::Tue, 11, 30)]);
    assert_eq!(store.effective_queue_slots(a, &[fb]).await.unwrap().len(), 16);
    assert_eq!(store.effective_queue_slots(a, &[fb, ig]).await.unwrap().len(), 17);
    assert_eq!(store.effective_queue_slots(a, &[]).await.unwrap().len(), 16);

    // Remove one, clear a scope: the other scope stays.
    assert!(store.remove_queue_slot(a, None, slot(Weekday::Sat, 10, 0)).await.unwrap());
    assert!(!store.remove_queue_slot(a, None, slot(Weekday::Sat, 10, 0)).await.unwrap());
    assert_eq!(store.clear_queue_slots(a, Some(ig)).await.unwrap(), 1);
    assert_eq!(store.queue_slots(a, None).await.unwrap(), Preset::Weekdays.slots());

    // Another workspace sees none of it and changes none of it.
    assert!(store.queue_slots(b, None).await.unwrap().is_empty());
    assert!(store.effective_queue_slots(b, &[b_fb]).await.unwrap().is_empty());
    assert!(store.effective_queue_slots(b, &[fb]).await.unwrap().is_empty(), "a foreign account has no slots there");
    assert_eq!(store.clear_queue_slots(b, None).await.unwrap(), 0);
    assert!(!store.remove_queue_slot(b, None, slot(Weekday::Mon, 9, 0)).await.unwrap());
    assert_eq!(store.queue_slots(a, None).await.unwrap().len(), 15);
});

store_test!(the_next_free_slot_follows_dst_and_skips_taken_ones, |store| {
    let (a, _, fb, ig) = workspace(&store, 1).await;
    let (b, _, b_fb, _) = workspace(&store, 2).await;
    let berlin: chrono_tz::Tz = "Europe/Berlin".parse().unwrap();
    // Sunday slots at 02:30 (in the spring gap on 2026-03-29, repeated on 2026-10-25) and 09:00.
    store.replace_queue_slots(a, None, &slots::parse("Sun 02:30 09:00").unwrap()).await.unwrap();
    let s = store.effective_queue_slots(a, &[fb]).await.unwrap();

    // Spring forward: 02:30 does not exist, the slot is right after the gap (03:00 CEST = 01:00 UTC).
    let before_spring = utc(2026, 3, 28, 12, 0);
    let taken = store.queue_taken_instants(a, &[fb], before_spring, None).await.unwrap();
    assert_eq!(slots::next_free(&s, berlin, before_spring, &taken), Some(utc(2026, 3, 29, 1, 0)));
    // A post there takes it; the next is 09:00 CEST = 07:00 UTC.
    let first = scheduled(&store, a, "First", utc(2026, 3, 29, 1, 0), &[fb]).await;
    let taken = store.queue_taken_instants(a, &[fb], before_spring, None).await.unwrap();
    assert_eq!(taken, vec![utc(2026, 3, 29, 1, 0)]);
    assert_eq!(slots::next_free(&s, berlin, before_spring, &taken), Some(utc(2026, 3, 29, 7, 0)));
    // Placing that same post again leaves it out of the taken times.
    let again = store.queue_taken_instants(a, &[fb], before_spring, Some(first.id)).await.unwrap();
    assert!(again.is_empty());
    // A post on another account does not take this account's slot, another workspace's never.
    assert!(store.queue_taken_instants(a, &[ig], before_spring, None).await.unwrap().is_empty());
    scheduled(&store, b, "Theirs", utc(2026, 3, 29, 7, 0), &[b_fb]).await;
    let taken = store.queue_taken_instants(a, &[fb], before_spring, None).await.unwrap();
    assert_eq!(slots::next_free(&s, berlin, before_spring, &taken), Some(utc(2026, 3, 29, 7, 0)));

    // Fall back: 02:30 happens twice; the slot is its first occurrence (CEST, 00:30 UTC), once.
    let before_fall = utc(2026, 10, 24, 12, 0);
    let taken = store.queue_taken_instants(a, &[fb], before_fall, None).await.unwrap();
    assert_eq!(slots::next_free(&s, berlin, before_fall, &taken), Some(utc(2026, 10, 25, 0, 30)));
    scheduled(&store, a, "Fall", utc(2026, 10, 25, 0, 30), &[fb]).await;
    let taken = store.queue_taken_instants(a, &[fb], before_fall, None).await.unwrap();
    // Not the second pass through 02:30 (01:30 UTC): 09:00 CET = 08:00 UTC.
    assert_eq!(slots::next_free(&s, berlin, before_fall, &taken), Some(utc(2026, 10, 25, 8, 0)));
});

store_test!(swapping_two_queued_posts_moves_their_publish_jobs, |store| {
    let (a, _, fb, _) = workspace(&store, 1).await;
    let (b, _, b_fb, _) = workspace(&store, 2).await;
    let (t1, t2) = (utc(2030, 1, 7, 8, 0), utc(2030, 1, 7, 12, 0));
    let p1 = scheduled(&store, a, "One", t1, &[fb]).await;
    let p2 = scheduled(&store, a, "Two", t2, &[fb]).await;
    let jobs_of = |p: tochen_domain::PostId| {
        let store = store.clone();
        async move {
            let rows: Vec<(i64,)> = sqlx::query_as(
                "SELECT j.run_at FROM jobs j JOIN post_targets t ON j.unique_key = 'publish:' || t.id \
                 WHERE t.post_id = $1 AND j.state = 'queued'",
            )
            .bind(p.to_db())
            .fetch_all(store.sql_for_tests())
            .await
            .unwrap();
            rows.into_iter().map(|r| r.0).collect::<Vec<_>>()
        }
    };
    assert_eq!(jobs_of(p1.id).await, vec![t1]);
    // A stale version moves nothing.
    assert!(!store.swap_scheduled_posts(a, (p1.id, p1.version - 1), (p2.id, p2.version)).await.unwrap());
    // Another workspace cannot move them.
    assert!(!store.swap_scheduled_posts(b, (p1.id, p1.version), (p2.id, p2.version)).await.unwrap());
    assert!(store.swap_scheduled_posts(a, (p1.id, p1.version), (p2.id, p2.version)).await.unwrap());
    let (n1, n2) = (store.post(a, p1.id).await.unwrap(), store.post(a, p2.id).await.unwrap());
    assert_eq!((n1.scheduled_at, n2.scheduled_at), (Some(t2), Some(t1)));
    assert_eq!((n1.version, n2.version), (p1.version + 1, p2.version + 1));
    assert_eq!(jobs_of(p1.id).await, vec![t2], "one job each, moved");
    assert_eq!(jobs_of(p2.id).await, vec![t1]);
    // The old versions are stale now.
    assert!(!store.swap_scheduled_posts(a, (p1.id, p1.version), (p2.id, p2.version)).await.unwrap());
    let theirs = scheduled(&store, b, "Theirs", t1, &[b_fb]).await;
    assert!(!store.swap_scheduled_posts(a, (n1.id, n1.version), (theirs.id, theirs.version)).await.unwrap());
    assert_eq!(store.post(a, p1.id).await.unwrap().scheduled_at, Some(t2), "a failed swap changes nothing");
    let _ = PostStatus::Scheduled;
});

store_test!(best_time_reads_the_latest_metrics_of_published_targets, |store| {
    let (a, _, fb, ig) = workspace(&store, 1).await;
    let (b, _, b_fb, _) = workspace(&store, 2).await;
    let berlin: chrono_tz::Tz = "Europe/Berlin".parse().unwrap();
    // Three Facebook posts on Monday 2026-12-07 at 11:xx Berlin (10:xx UTC), one Instagram post on Tuesday.
    let when = [utc(2026, 12, 7, 10, 0), utc(2026, 12, 7, 10, 15), utc(2026, 12, 7, 10, 45), utc(2026, 12, 8, 17, 0)];
    let accounts = [fb, fb, fb, ig];
    // (likes, comments, shares, saves, reach, views) of each post's LATEST reading.
    let latest: [Counters; 4] = [
        (Some(8), Some(2), None, None, Some(100), Some(400)), // 10 / 100 = 0.10
        (Some(10), Some(5), Some(3), Some(2), None, Some(200)), // 20 / 200 = 0.10 (no reach: views)
        (Some(30), Some(10), None, None, Some(100), None),    // 40 / 100 = 0.40
        (Some(1), None, None, None, None, None),              // no reach, no views: not measured
    ];
    for (i, ((at, acc), v)) in when.iter().zip(accounts).zip(latest).enumerate() {
        let p = scheduled(&store, a, &format!("P{i}"), *at, &[acc]).await;
        let target = store.targets_of_post(a, p.id).await.unwrap()[0].id;
        sqlx::query("UPDATE post_targets SET status = 'published', published_at = $1 WHERE id = $2")
            .bind(*at)
            .bind(target.to_db())
            .execute(store.sql_for_tests())
            .await
            .unwrap();
        let platform = if acc == fb { Platform::Facebook } else { Platform::Instagram };
        // An older reading that must not count, then the latest.
        let old = MetricValues { likes: Some(999), reach: Some(1), ..Default::default() };
        let new = MetricValues {
            likes: v.0,
            comments: v.1,
            shares: v.2,
            saves: v.3,
            reach: v.4,
            views: v.5,
            followers: None,
        };
        for (k, values) in [old, new].into_iter().enumerate() {
            let snap = NewSnapshot {
                account_id: acc,
                target_id: Some(target),
                platform,
                captured_at: at + 3_600_000 * (k as i64 + 1),
                values,
                raw: serde_json::json!({}),
            };
            store.insert_metrics_snapshot(a, &snap).await.unwrap();
        }
    }
    // Another workspace's published, measured post is not read.
    let theirs = scheduled(&store, b, "Theirs", when[0], &[b_fb]).await;
    let their_target = store.targets_of_post(b, theirs.id).await.unwrap()[0].id;
    sqlx::query("UPDATE post_targets SET status = 'published', published_at = $1 WHERE id = $2")
        .bind(when[0])
        .bind(their_target.to_db())
        .execute(store.sql_for_tests())
        .await
        .unwrap();
    let snap = NewSnapshot {
        account_id: b_fb,
        target_id: Some(their_target),
        platform: Platform::Facebook,
        captured_at: when[0] + 1,
        values: MetricValues { likes: Some(50), reach: Some(50), ..Default::default() },
        raw: serde_json::json!({}),
    };
    store.insert_metrics_snapshot(b, &snap).await.unwrap();

    let rows = store.besttime_posts(a, utc(2026, 11, 1, 0, 0)).await.unwrap();
    assert_eq!(rows.len(), 4);
    let rates: Vec<Option<f64>> = rows.iter().map(engagement).collect();
    assert_eq!(rates, vec![Some(0.1), Some(0.1), Some(0.4), None]);
    let bests = aggregate(&rows, berlin);
    let fb_best = bests.iter().find(|x| x.platform == Platform::Facebook).unwrap();
    assert_eq!(fb_best.measured, 3);
    // (0.10 + 0.10 + 0.40) / 3 = 0.20 on Monday 11:00 Berlin.
    assert!((fb_best.rate(Weekday::Mon, 11).unwrap() - 0.2).abs() < 1e-12);
    assert_eq!(fb_best.cells[0][11].posts, 3);
    assert!(!fb_best.enough(), "3 posts are fewer than the 20 a platform needs");
    assert!(bests.iter().all(|x| x.platform != Platform::Instagram), "an unmeasurable post counts nowhere");
    // Published before the window: not read.
    assert!(store.besttime_posts(a, utc(2026, 12, 9, 0, 0)).await.unwrap().is_empty());
    assert_eq!(store.besttime_posts(b, 0).await.unwrap().len(), 1);
});
