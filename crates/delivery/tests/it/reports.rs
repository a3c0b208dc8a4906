//! Report numbers from seeded data equal numbers computed by hand, on SQLite and PostgreSQL.
//!
//! The seed (P is the start of the week):
//! - Instagram "Behind the roaster", published P+1d; readings P+1d+1h (1000 views, 50 likes, 5 comments) and
//!   P+3d (3210 views, 200 likes, 14 comments, shares not reported).
//! - Instagram "Latte <art> & more", published P+2d; reading P+2d+2h (800 views, 60 likes, 6 comments, 3 shares).
//! - Facebook "Weekend brunch", published P+4d; reading P+5d (500 views, likes not reported, 2 comments, 7
//!   shares), and a reading after the period (9999 views) that must not count.
//! - Facebook "No metrics yet", published P+5d, no reading at all.
//! - A Facebook target that failed at P+3d.
//! - Previous week: Instagram post published P-3d, reading P-2d (2000 views, 100 likes, 10 comments, 5 shares).
//! - Followers: Instagram 1000 at P-1d and 1057 at P+6d; Facebook 500 at P+1d and 490 at P+6d.

use tochen_delivery::reports::chart::{png_size, render_png, HEIGHT, WIDTH};
use tochen_delivery::reports::export::{export_rows, to_csv};
use tochen_delivery::reports::{compute_report, compute_scoped, render, Period, Scope, DAY_MS};
use tochen_delivery::sources::Sources;
use tochen_domain::{AccountId, SecretString, TargetId, TenantId};
use tochen_domain::{AuthKind, Platform};
use tochen_store::Store;
use tochen_store::{MetricValues, NewAccount, NewSnapshot, TelegramIdentity, TenantProfile};
use tochen_testkit::store_test;

pub(crate) const P: i64 = 20_000 * DAY_MS;
pub(crate) const H: i64 = 3600 * 1000;

pub(crate) async fn workspace(store: &Store) -> TenantId {
    let who = TelegramIdentity {
        telegram_id: 42,
        username: None,
        first_name: "Anna".into(),
        last_name: None,
        language_code: None,
    };
    let admin = store.upsert_user(&who).await.unwrap();
    store.create_tenant("Bloom & Co", &TenantProfile::default(), 0, admin.id).await.unwrap().id
}

async fn account(store: &Store, tenant: TenantId, platform: Platform, name: &str) -> AccountId {
    let auth_kind = if platform == Platform::Facebook { AuthKind::FacebookPage } else { AuthKind::InstagramLogin };
    account_of(store, tenant, platform, auth_kind, name).await
}

/// Connects an account of `platform` signed in as `auth_kind`.
pub(crate) async fn account_of(
    store: &Store,
    tenant: TenantId,
    platform: Platform,
    auth_kind: AuthKind,
    name: &str,
) -> AccountId {
    let new = NewAccount {
        platform,
        auth_kind,
        external_id: name.into(),
        name: name.into(),
        access_token: SecretString::new("t"),
        refresh_token: None,
        scopes: vec![],
        token_expires_at: None,
        refresh_expires_at: None,
        connected_by: None,
    };
    store.upsert_account(tenant, &new).await.unwrap().id
}

/// Inserts a post with one target in the given state.
pub(crate) async fn target(
    store: &Store,
    tenant: TenantId,
    account: AccountId,
    platform: Platform,
    title: &str,
    status: &str,
    at: i64,
) -> TargetId {
    let post = uuid::Uuid::now_v7().to_string();
    let target = TargetId::new();
    sqlx::query(
        "INSERT INTO posts (id, tenant_id, title, status, created_at, updated_at) VALUES ($1, $2, $3, 'published', $4, $4)",
    )
    .bind(&post)
    .bind(tenant.to_db())
    .bind(title)
    .bind(at)
    .execute(store.sql_for_tests())
    .await
    .unwrap();
    let published_at = (status == "published").then_some(at);
    sqlx::query(
        "INSERT INTO post_targets (id, tenant_id, post_id, account_id, platform, status, permalink, published_at, \
         created_at, updated_at) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $9)",
    )
    .bind(target.to_db())
    .bind(tenant.to_db())
    .bind(&post)
    .bind(account.to_db())
    .bind(platform.as_str())
    .bind(status)
    .bind(format!("https://example.com/{}", title.len()))
    .bind(published_at)
    .bind(at)
    .execute(store.sql_for_tests())
    .await
    .unwrap();
    target
}

#[allow(clippy::too_many_arguments)]
pub(crate) async fn reading(
    store: &Store,
    tenant: TenantId,
    account: AccountId,
    target: Option<TargetId>,
    platform: Platform,
    at: i64,
    values: MetricValues,
) {
    let s = NewSnapshot {
        account_id: account,
        target_id: target,
        platform,
        captured_at: at,
        values,
        raw: serde_json::json!({}),
    };
    store.insert_metrics_snapshot(tenant, &s).await.unwrap();
}

pub(crate) fn m(views: Option<i64>, likes: Option<i64>, comments: Option<i64>, shares: Option<i64>) -> MetricValues {
    MetricValues { views, likes, comments, shares, ..Default::default() }
}

pub(crate) fn followers(n: i64) -> MetricValues {
    MetricValues { followers: Some(n), ..Default::default() }
}

async fn seed(store: &Store) -> TenantId {
    let tenant = workspace(store).await;
    let ig = account(store, tenant, Platform::Instagram, "bloomcoffee").await;
    let fb = account(store, tenant, Platform::Facebook, "Bloom Coffee").await;
    let (i, f) = (Platform::Instagram, Platform::Facebook);
    let t1 = target(store, tenant, ig, i, "Behind the roaster", "published", P + DAY_MS).await;
    reading(store, tenant, ig, Some(t1), i, P + DAY_MS + H, m(Some(1000), Some(50), Some(5), None)).await;
    reading(store, tenant, ig, Some(t1), i, P + 3 * DAY_MS, m(Some(3210), Some(200), Some(14), None)).await;
    let t2 = target(store, tenant, ig, i, "Latte <art> & more", "published", P + 2 * DAY_MS).await;
    reading(store, tenant, ig, Some(t2), i, P + 2 * DAY_MS + 2 * H, m(Some(800), Some(60), Some(6), Some(3))).await;
    let t3 = target(store, tenant, fb, f, "Weekend brunch", "published", P + 4 * DAY_MS).await;
    reading(store, tenant, fb, Some(t3), f, P + 5 * DAY_MS, m(Some(500), None, Some(2), Some(7))).await;
    reading(store, tenant, fb, Some(t3), f, P + 8 * DAY_MS, m(Some(9999), Some(9), Some(9), Some(9))).await;
    target(store, tenant, fb, f, "No metrics yet", "published", P + 5 * DAY_MS).await;
    target(store, tenant, fb, f, "Broken", "failed", P + 3 * DAY_MS).await;
    let t6 = target(store, tenant, ig, i, "Last week", "published", P - 3 * DAY_MS).await;
    reading(store, tenant, ig, Some(t6), i, P - 2 * DAY_MS, m(Some(2000), Some(100), Some(10), Some(5))).await;
    reading(store, tenant, ig, None, i, P - DAY_MS, followers(1000)).await;
    reading(store, tenant, ig, None, i, P + 6 * DAY_MS, followers(1057)).await;
    reading(store, tenant, fb, None, f, P + DAY_MS, followers(500)).await;
    reading(store, tenant, fb, None, f, P + 6 * DAY_MS, followers(490)).await;
    tenant
}

fn close(a: Option<f64>, b: f64) -> bool {
    a.is_some_and(|a| (a - b).abs() < 1e-9)
}

store_test!(a_weekly_report_matches_the_hand_computed_numbers, |store| {
    let tenant = seed(&store).await;
    let r = compute_report(&store, tenant, Period::new(P, P + 7 * DAY_MS), Sources::Real).await.unwrap();
    let t = &r.totals;
    assert_eq!((t.published, t.failed), (4, 1));
    assert_eq!(t.views, Some(4510)); // 3210 + 800 + 500
    assert_eq!(t.likes, Some(260)); // 200 + 60; Facebook's likes were not reported
    assert_eq!(t.comments, Some(22)); // 14 + 6 + 2
    assert_eq!(t.shares, Some(10)); // 3 + 7; the roaster post's shares were not reported
    assert_eq!(t.follower_change, Some(47)); // +57 - 10
    assert!(close(t.engagement_rate, 282.0 / 4510.0));

    let prev = &r.previous;
    assert_eq!((prev.published, prev.views, prev.likes), (1, Some(2000), Some(100)));
    assert!(close(r.change.published, 300.0));
    assert!(close(r.change.views, 125.5));
    assert!(close(r.change.likes, 160.0));
    assert!(close(r.change.comments, 120.0));
    assert!(close(r.change.shares, 100.0));
    assert!(close(r.change.engagement_rate, (282.0 / 4510.0 - 0.055) / 0.055 * 100.0));

    assert_eq!(r.platforms.len(), 2);
    let fb = &r.platforms[0];
    assert_eq!(fb.platform, Platform::Facebook);
    assert_eq!((fb.totals.published, fb.totals.failed, fb.totals.views), (2, 1, Some(500)));
    assert_eq!((fb.totals.likes, fb.totals.follower_change), (None, Some(-10)));
    assert!(close(fb.totals.engagement_rate, 2.0 / 500.0));
    let ig = &r.platforms[1];
    assert_eq!((ig.platform, ig.totals.published, ig.totals.views), (Platform::Instagram, 2, Some(4010)));
    assert_eq!((ig.totals.likes, ig.totals.comments, ig.totals.follower_change), (Some(260), Some(20), Some(57)));

    let top: Vec<_> = r.top_posts.iter().map(|p| (p.title.as_str(), p.views)).collect();
    assert_eq!(
        top,
        [("Behind the roaster", Some(3210)), ("Latte <art> & more", Some(800)), ("Weekend brunch", Some(500))]
    );

    assert_eq!(r.daily_views.days.len(), 7);
    assert_eq!(r.daily_views.series[0], (Platform::Facebook, vec![0, 0, 0, 0, 0, 500, 0]));
    assert_eq!(r.daily_views.series[1], (Platform::Instagram, vec![0, 1000, 800, 2210, 0, 0, 0]));

    let html = render::telegram_html(&r, "en", chrono_tz::UTC);
    for needle in [
        "📊 <b>Bloom &amp; Co</b>",
        "Posts: 4 published, 1 failed",
        "Views 4,510 (+125.5%)",
        "Followers +47",
        "Engagement rate 6.3%",
        "Latte &lt;art&gt; &amp; more",
        "<a href=\"https://example.com/18\">Behind the roaster</a> (Instagram): 3,210 views",
    ] {
        assert!(html.contains(needle), "missing {needle:?} in\n{html}");
    }
    let de = render::telegram_html(&r, "de", chrono_tz::UTC);
    assert!(de.contains("Aufrufe 4.510 (+125,5%)"), "{de}");
    let email = render::email(&r, "en", chrono_tz::UTC, Some(vec![1, 2, 3]));
    assert!(email.html.contains("cid:chart") && email.text.contains("Latte <art> & more"));
    let json = render::json(&r);
    assert_eq!(json["totals"]["views"], 4510);
    assert_eq!(json["platforms"][0]["totals"]["likes"], serde_json::Value::Null);

    let png = render_png(&r.daily_views, "Views", chrono_tz::UTC).unwrap();
    assert_eq!(png_size(&png), Some((WIDTH, HEIGHT)));
});

store_test!(an_empty_period_has_no_data_and_shows_missing_not_zero, |store| {
    let tenant = seed(&store).await;
    let r = compute_report(&store, tenant, Period::new(P + 30 * DAY_MS, P + 37 * DAY_MS), Sources::Real).await.unwrap();
    assert!(!r.has_data());
    assert_eq!((r.totals.views, r.totals.engagement_rate, r.change.views), (None, None, None));
    assert!(render::telegram_html(&r, "en", chrono_tz::UTC).contains("Nothing was published"));
});

store_test!(the_data_sync_export_leaves_missing_metrics_empty, |store| {
    let tenant = seed(&store).await;
    let rows = export_rows(&store, tenant, Period::new(P, P + 7 * DAY_MS), Sources::Real).await.unwrap();
    assert_eq!(rows.len(), 4);
    let csv = String::from_utf8(to_csv(&rows)).unwrap();
    let lines: Vec<&str> = csv.lines().collect();
    assert!(lines[0].starts_with("post_id,target_id,title,platform"));
    assert!(lines[2].contains("\"Latte <art> & more\"") || lines[2].contains("Latte <art> & more"));
    assert!(lines[4].ends_with(",,,,,,"), "no metrics: empty cells, {}", lines[4]);
    assert!(lines[3].contains(",500,,,2,7,"), "likes missing stays empty: {}", lines[3]);
});

store_test!(a_scoped_report_counts_only_its_platform_or_account_and_ranks_the_weakest, |store| {
    let tenant = seed(&store).await;
    let week = Period::new(P, P + 7 * DAY_MS);
    let fb =
        compute_scoped(&store, tenant, week, Scope::Platform(Platform::Facebook), Sources::Real, true).await.unwrap();
    let t = &fb.totals;
    assert_eq!((t.published, t.failed, t.views, t.likes), (2, 1, Some(500), None));
    assert_eq!((t.followers, t.follower_change), (Some(490), Some(-10)));
    assert_eq!(fb.daily_views.series, [(Platform::Facebook, vec![0, 0, 0, 0, 0, 500, 0])]);
    assert_eq!((fb.previous.published, fb.change.published), (0, None), "no Facebook post the week before");

    let whole = compute_report(&store, tenant, week, Sources::Real).await.unwrap();
    assert_eq!(whole.totals.followers, Some(1547), "1057 + 490 at the end of the week");
    let ig_account = whole.top_posts[0].account_name.clone();
    assert_eq!(ig_account, "bloomcoffee");
    let ig_id = store.accounts(tenant).await.unwrap().into_iter().find(|a| a.name == ig_account).unwrap().id;
    let ig = compute_scoped(&store, tenant, week, Scope::Account(ig_id), Sources::Real, false).await.unwrap();
    assert_eq!((ig.totals.published, ig.totals.failed, ig.totals.views), (2, 0, Some(4010)));
    assert_eq!(ig.totals.follower_change, Some(57));
    assert_eq!(ig.previous.views, Some(2000));
    assert!(ig.top_posts.iter().all(|p| p.platform == Platform::Instagram));
    assert!(ig.daily_views.series.is_empty(), "the chart's series only when asked for");

    // With more than five measured posts, the weakest come fewest first and never repeat a top post.
    let ig_acc = ig_id;
    for (i, v) in [40, 30, 20].into_iter().enumerate() {
        let t = target(&store, tenant, ig_acc, Platform::Instagram, &format!("Small {i}"), "published", P + H).await;
        reading(&store, tenant, ig_acc, Some(t), Platform::Instagram, P + 2 * H, m(Some(v), None, None, None)).await;
    }
    let r = compute_report(&store, tenant, week, Sources::Real).await.unwrap();
    let top: Vec<_> = r.top_posts.iter().map(|p| p.views.unwrap()).collect();
    let bottom: Vec<_> = r.bottom_posts.iter().map(|p| p.views.unwrap()).collect();
    assert_eq!((top, bottom), (vec![3210, 800, 500, 40, 30], vec![20]));
    assert_eq!(r.scope, Scope::Workspace);
    assert_eq!(render::json(&r)["scope"]["kind"], "workspace");
});

store_test!(ties_rank_by_publication_and_another_workspace_never_counts, |store| {
    let tenant = seed(&store).await;
    let week = Period::new(P, P + 7 * DAY_MS);
    let before = compute_report(&store, tenant, week, Sources::Real).await.unwrap();
    // Another workspace (same external account name, same period, far more views) changes nothing here.
    let other = store.create_tenant("Other", &TenantProfile::default(), 0, store_admin(&store).await).await.unwrap().id;
    let theirs = account(&store, other, Platform::Instagram, "bloomcoffee").await;
    let t = target(&store, other, theirs, Platform::Instagram, "Theirs", "published", P + H).await;
    reading(&store, other, theirs, Some(t), Platform::Instagram, P + 2 * H, m(Some(99_999), None, None, None)).await;
    let after = compute_report(&store, tenant, week, Sources::Real).await.unwrap();
    assert_eq!(after.totals, before.totals);
    assert_eq!(after.top_posts, before.top_posts);
    let ig = store.accounts(tenant).await.unwrap().into_iter().find(|a| a.name == "bloomcoffee").unwrap().id;
    let scoped = compute_scoped(&store, other, week, Scope::Account(ig), Sources::Real, false).await.unwrap();
    assert_eq!(scoped.totals.published, 0, "an account of another workspace selects nothing");

    // Equal views: the earlier publication ranks higher, and the weakest list is the same order reversed.
    for (i, at) in [5, 3, 4, 1, 2, 6].into_iter().enumerate() {
        let t = target(&store, tenant, ig, Platform::Instagram, &format!("Tie {i}"), "published", P + at * H).await;
        reading(&store, tenant, ig, Some(t), Platform::Instagram, P + 6 * DAY_MS, m(Some(1), None, None, None)).await;
    }
    let r = compute_scoped(&store, tenant, week, Scope::Account(ig), Sources::Real, false).await.unwrap();
    let top: Vec<_> = r.top_posts.iter().map(|p| p.title.as_str()).collect();
    let bottom: Vec<_> = r.bottom_posts.iter().map(|p| p.title.as_str()).collect();
    assert_eq!(top, ["Behind the roaster", "Latte <art> & more", "Tie 3", "Tie 4", "Tie 1"]);
    assert_eq!(bottom, ["Tie 5", "Tie 0", "Tie 2"]);
});

async fn store_admin(store: &Store) -> tochen_domain::UserId {
    let who = TelegramIdentity {
        telegram_id: 43,
        username: None,
        first_name: "Ben".into(),
        last_name: None,
        language_code: None,
    };
    store.upsert_user(&who).await.unwrap().id
}

store_test!(a_reading_that_arrives_late_or_without_views_keeps_the_daily_chart_right, |store| {
    let tenant = seed(&store).await;
    let ig = store.accounts(tenant).await.unwrap().into_iter().find(|a| a.name == "bloomcoffee").unwrap().id;
    let i = Platform::Instagram;
    let t = target(&store, tenant, ig, i, "Late readings", "published", P + 7 * DAY_MS + H).await;
    let day = |d: i64| P + (7 + d) * DAY_MS + 2 * H;
    // Day 1 arrives before day 0, day 2 has no views, day 3 arrives last.
    reading(&store, tenant, ig, Some(t), i, day(1), m(Some(300), None, None, None)).await;
    reading(&store, tenant, ig, Some(t), i, day(0), m(Some(100), None, None, None)).await;
    reading(&store, tenant, ig, Some(t), i, day(2), m(None, Some(4), None, None)).await;
    reading(&store, tenant, ig, Some(t), i, day(3), m(Some(500), None, None, None)).await;
    let week = Period::new(P + 7 * DAY_MS, P + 14 * DAY_MS);
    let r = compute_report(&store, tenant, week, Sources::Real).await.unwrap();
    assert_eq!(r.daily_views.series, [(i, vec![100, 200, 0, 200, 0, 0, 0])]);
    // A bulk recomputation (after an import) gives the same series.
    store.recompute_latest_metrics().await.unwrap();
    let again = compute_report(&store, tenant, week, Sources::Real).await.unwrap();
    assert_eq!(again.daily_views, r.daily_views);
    assert_eq!(again.totals.views, Some(500));
});

store_test!(a_campaigns_report_counts_only_its_posts_and_the_export_names_it, |store| {
    let tenant = seed(&store).await;
    let spring = store
        .create_campaign(
            tenant,
            None,
            &tochen_store::CampaignFields { name: "Spring menu".into(), ..Default::default() },
        )
        .await
        .unwrap()
        .id;
    // The roaster post, the brunch post and the failed one are the campaign's.
    sqlx::query("UPDATE posts SET campaign_id = $1 WHERE tenant_id = $2 AND title IN ('Behind the roaster', 'Weekend brunch', 'Broken')")
        .bind(spring.to_db())
        .bind(tenant.to_db())
        .execute(store.sql_for_tests())
        .await
        .unwrap();
    let week = Period::new(P, P + 7 * DAY_MS);
    let r = compute_scoped(&store, tenant, week, Scope::Campaign(spring), Sources::Real, true).await.unwrap();
    let t = &r.totals;
    assert_eq!((t.published, t.failed), (2, 1));
    assert_eq!((t.views, t.likes, t.comments, t.shares), (Some(3710), Some(200), Some(16), Some(7)));
    assert_eq!((t.followers, t.follower_change), (None, None), "a campaign has no followers of its own");
    assert!(close(t.engagement_rate, 216.0 / 3710.0));
    let per: Vec<_> =
        r.platforms.iter().map(|p| (p.platform, p.totals.published, p.totals.failed, p.totals.views)).collect();
    assert_eq!(per, [(Platform::Facebook, 1, 1, Some(500)), (Platform::Instagram, 1, 0, Some(3210))]);
    let top: Vec<_> = r.top_posts.iter().map(|p| p.title.as_str()).collect();
    assert_eq!(top, ["Behind the roaster", "Weekend brunch"]);
    assert_eq!(r.previous.published, 0, "last week's post is not the campaign's");
    assert_eq!(
        r.daily_views.series,
        [(Platform::Facebook, vec![0, 0, 0, 0, 0, 500, 0]), (Platform::Instagram, vec![0, 1000, 0, 2210, 0, 0, 0])]
    );
    assert_eq!(render::json(&r)["scope"]["kind"], "campaign");

    let rows = export_rows(&store, tenant, week, Sources::Real).await.unwrap();
    let named: Vec<_> = rows.iter().map(|r| (r.title.as_str(), r.campaign.as_deref())).collect();
    assert!(named.contains(&("Behind the roaster", Some("Spring menu"))), "{named:?}");
    assert!(named.contains(&("Latte <art> & more", None)), "{named:?}");
    let csv = String::from_utf8(to_csv(&rows)).unwrap();
    assert!(csv.lines().next().unwrap().ends_with(",saves,campaign"), "{csv}");
    assert!(csv.contains(",Spring menu"), "{csv}");
});
