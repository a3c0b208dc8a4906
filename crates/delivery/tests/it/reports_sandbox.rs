//! Sandbox numbers never mix with real ones: with sandbox mode off (`Sources::Real`) a sandbox account's posts,
//! failures, followers and metrics are left out of reports, the data-sync export, alert totals, alert rules and
//! the metrics sync as if they did not exist; with it on (`Sources::WithSandbox`) they count and the report says
//! sandbox accounts' numbers are simulated.
//!
//! The seed (P is the start of the week), one real and one sandbox Instagram account:
//! - real "Real croissant", published P+1d; reading P+2d (1000 views, 40 likes, 10 comments); followers 500 at P
//!   and 520 at P+6d;
//! - sandbox "Sandbox bagel", published P+2d; reading P+3d (300 views, 20 likes, 5 comments); followers 900 at P
//!   and 800 at P+6d; a sandbox post that failed at P+4d.

use crate::reports::{account_of, m, reading, target, workspace, H, P};
use std::collections::HashMap;
use std::sync::{Arc, Mutex};
use tochen_delivery::alerts::{evaluate, AlertConfig, AlertRule};
use tochen_delivery::reports::export::export_rows;
use tochen_delivery::reports::metrics_sync::{sync_all, SyncOptions};
use tochen_delivery::reports::{compute_report, render, totals, Period, DAY_MS};
use tochen_delivery::sources::Sources;
use tochen_domain::i18n::t;
use tochen_domain::{AccountId, AuthKind, Platform, TenantId};
use tochen_platforms::publish::PublishError;
use tochen_platforms::{AccountMetrics, MetricsAccount, MetricsReader, PostMetrics};
use tochen_store::{MetricValues, Store};
use tochen_testkit::store_test;

const IG: Platform = Platform::Instagram;

async fn account(store: &Store, tenant: TenantId, auth_kind: AuthKind, name: &str) -> AccountId {
    account_of(store, tenant, IG, auth_kind, name).await
}

fn followers(n: i64) -> MetricValues {
    MetricValues { followers: Some(n), ..Default::default() }
}

struct Seeded {
    tenant: TenantId,
    sandbox: AccountId,
}

async fn seed(store: &Store) -> Seeded {
    let tenant = workspace(store).await;
    let real = account(store, tenant, AuthKind::InstagramLogin, "bloomcoffee").await;
    let sandbox = account(store, tenant, AuthKind::SandboxInstagram, "🧪 Bloom").await;
    let r = target(store, tenant, real, IG, "Real croissant", "published", P + DAY_MS).await;
    reading(store, tenant, real, Some(r), IG, P + 2 * DAY_MS, m(Some(1000), Some(40), Some(10), None)).await;
    reading(store, tenant, real, None, IG, P, followers(500)).await;
    reading(store, tenant, real, None, IG, P + 6 * DAY_MS, followers(520)).await;
    let s = target(store, tenant, sandbox, IG, "Sandbox bagel", "published", P + 2 * DAY_MS).await;
    reading(store, tenant, sandbox, Some(s), IG, P + 3 * DAY_MS, m(Some(300), Some(20), Some(5), None)).await;
    reading(store, tenant, sandbox, None, IG, P, followers(900)).await;
    reading(store, tenant, sandbox, None, IG, P + 6 * DAY_MS, followers(800)).await;
    target(store, tenant, sandbox, IG, "Sandbox failure", "failed", P + 4 * DAY_MS + H).await;
    Seeded { tenant, sandbox }
}

fn week() -> Period {
    Period::new(P, P + 7 * DAY_MS)
}

store_test!(with_the_sandbox_off_a_report_counts_only_real_accounts, |store| {
    let s = seed(&store).await;
    let r = compute_report(&store, s.tenant, week(), Sources::Real).await.unwrap();
    let sum = &r.totals;
    assert_eq!((sum.published, sum.failed), (1, 0), "the sandbox post and failure are left out");
    assert_eq!((sum.views, sum.likes, sum.comments), (Some(1000), Some(40), Some(10)));
    assert_eq!(sum.follower_change, Some(20), "the sandbox account's -100 followers are left out");
    assert_eq!(r.platforms.len(), 1);
    assert_eq!((r.platforms[0].totals.published, r.platforms[0].totals.views), (1, Some(1000)));
    let top: Vec<&str> = r.top_posts.iter().map(|p| p.title.as_str()).collect();
    assert_eq!(top, ["Real croissant"]);
    assert_eq!(r.daily_views.series, [(IG, vec![0, 0, 1000, 0, 0, 0, 0])]);
    assert!(!r.simulated);
    let html = render::telegram_html(&r, "en", chrono_tz::UTC);
    assert!(!html.contains(&t("en", "report.simulated")), "{html}");
    assert!(!html.contains("Sandbox bagel"), "{html}");

    let rows = export_rows(&store, s.tenant, week(), Sources::Real).await.unwrap();
    let titles: Vec<&str> = rows.iter().map(|r| r.title.as_str()).collect();
    assert_eq!(titles, ["Real croissant"], "the data sync leaves sandbox posts out too");
});

store_test!(with_the_sandbox_on_a_report_counts_both_and_says_what_is_simulated, |store| {
    let s = seed(&store).await;
    let r = compute_report(&store, s.tenant, week(), Sources::WithSandbox).await.unwrap();
    let sum = &r.totals;
    assert_eq!((sum.published, sum.failed), (2, 1));
    assert_eq!((sum.views, sum.likes, sum.comments), (Some(1300), Some(60), Some(15)));
    assert_eq!(sum.follower_change, Some(-80));
    let top: Vec<&str> = r.top_posts.iter().map(|p| p.title.as_str()).collect();
    assert_eq!(top, ["Real croissant", "Sandbox bagel"]);
    assert_eq!(r.daily_views.series, [(IG, vec![0, 0, 1000, 300, 0, 0, 0])]);
    assert!(r.simulated);
    for lang in ["en", "ru", "uk", "de", "es"] {
        let html = render::telegram_html(&r, lang, chrono_tz::UTC);
        assert!(html.contains(&t(lang, "report.simulated")), "{lang}: {html}");
    }
    let rows = export_rows(&store, s.tenant, week(), Sources::WithSandbox).await.unwrap();
    assert_eq!(rows.len(), 2);

    // A day with only real numbers is not marked simulated, even in sandbox mode.
    let day = Period::new(P + DAY_MS, P + 2 * DAY_MS);
    let real_only = compute_report(&store, s.tenant, day, Sources::WithSandbox).await.unwrap();
    assert_eq!(real_only.totals.published, 1);
    assert!(!real_only.simulated);
});

store_test!(with_the_sandbox_off_alerts_see_only_real_accounts, |store| {
    let s = seed(&store).await;
    let real = totals(&store, s.tenant, week(), Sources::Real).await.unwrap();
    assert_eq!((real.published, real.failed, real.views), (1, 0, Some(1000)));
    let all = totals(&store, s.tenant, week(), Sources::WithSandbox).await.unwrap();
    assert_eq!((all.published, all.failed, all.views), (2, 1, Some(1300)));

    let now = P + 7 * DAY_MS;
    let config = AlertConfig {
        rules: vec![AlertRule::PublishFailed, AlertRule::FollowersDropped],
        cooldown_minutes: 60,
        ..Default::default()
    };
    let events = evaluate(&store, s.tenant, &config, Sources::Real, now).await.unwrap();
    assert!(events.is_empty(), "the sandbox failure and follower drop are not announced: {events:?}");
    let events = evaluate(&store, s.tenant, &config, Sources::WithSandbox, now).await.unwrap();
    let mut fired: Vec<(AlertRule, bool)> = events.iter().map(|e| (e.rule, e.resolved)).collect();
    fired.sort_by_key(|(r, _)| r.as_str());
    assert_eq!(fired, [(AlertRule::FollowersDropped, false), (AlertRule::PublishFailed, false)]);
    let dropped = events.iter().find(|e| e.rule == AlertRule::FollowersDropped).unwrap();
    assert_eq!(dropped.subject, s.sandbox.to_db());
});

/// Answers for any account and records whose posts it was asked about.
#[derive(Default)]
struct Reader {
    asked: Mutex<Vec<String>>,
}

#[async_trait::async_trait]
impl MetricsReader for Reader {
    async fn post_metrics(&self, a: &MetricsAccount, _post: &str) -> Result<PostMetrics, PublishError> {
        self.asked.lock().unwrap().push(a.external_id.clone());
        Ok(PostMetrics { views: Some(5), ..Default::default() })
    }

    async fn account_metrics(&self, _a: &MetricsAccount) -> Result<AccountMetrics, PublishError> {
        Ok(AccountMetrics { followers: Some(1), raw: serde_json::json!({}) })
    }
}

store_test!(with_the_sandbox_off_the_metrics_sync_reads_no_sandbox_account, |store| {
    seed(&store).await;
    sqlx::query("UPDATE post_targets SET platform_post_id = id WHERE status = 'published'")
        .execute(store.sql_for_tests())
        .await
        .unwrap();
    let reader = Arc::new(Reader::default());
    // Even with a reader for sandbox accounts at hand, the sources decide.
    let readers: HashMap<AuthKind, Arc<dyn MetricsReader>> = HashMap::from([
        (AuthKind::InstagramLogin, reader.clone() as _),
        (AuthKind::SandboxInstagram, reader.clone() as _),
    ]);
    let now = P + 7 * DAY_MS;
    let off = sync_all(&store, &readers, SyncOptions::default(), Sources::Real, now).await.unwrap();
    assert_eq!((off.accounts, off.posts), (1, 1));
    assert_eq!(*reader.asked.lock().unwrap(), ["bloomcoffee"]);
    let on = sync_all(&store, &readers, SyncOptions::default(), Sources::WithSandbox, now + H).await.unwrap();
    assert_eq!((on.accounts, on.posts), (2, 2));
    assert!(reader.asked.lock().unwrap().contains(&"🧪 Bloom".to_owned()), "in sandbox mode it is read too");
});
