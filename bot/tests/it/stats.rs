//! `/stats` in the chat: the numbers of a period equal those a report automation sends for the same days (one
//! computation), missing counters stay missing, the five best and weakest posts, a platform's and an account's
//! share, typed ranges with bad ones explained, the chart as a picture, and another workspace's account refused.

use crate::common;

use chrono::TimeZone;
use common::{en, ALICE, BOB};
use tochen_delivery::automations::{period_before, run_report, DeliveryDeps};
use tochen_delivery::sources::Sources;
use tochen_domain::{JobState, MissedRunPolicy, PostStatus};
use tochen_store::{MetricValues, NewAutomation, NewDestination};
use tochen_telegram::button::{Button, Stats, StatsPeriod, StatsScope};

const HOUR: i64 = 3_600_000;
const DAY: i64 = 24 * HOUR;

fn views(v: i64) -> MetricValues {
    MetricValues { views: Some(v), ..Default::default() }
}

bot_test!(stats_equal_the_report_automation_of_the_same_days_and_narrow_to_a_platform_or_account, |h| {
    let a = h.onboard(ALICE, "Alpha").await;
    let tz: chrono_tz::Tz = h.store.tenant(a).await.unwrap().profile.timezone.parse().unwrap_or(chrono_tz::UTC);
    let accounts = h.connect_accounts(a).await;
    let (ig, fb) = (accounts[0].id, accounts[1].id);
    // A weekly report run on Monday 9 December 2030 at 09:00 covers the 7 local days before.
    let slot = tz.with_ymd_and_hms(2030, 12, 9, 9, 0, 0).unwrap().timestamp_millis();
    let week = period_before(slot, 7, tz);
    let d = |days: i64, hours: i64| week.start + days * DAY + hours * HOUR;

    let (_, rye) = h.post(a, "Rye bread", "Fresh rye", &[ig], d(1, 10), PostStatus::Published).await;
    let full = MetricValues {
        views: Some(500),
        reach: Some(400),
        likes: Some(40),
        comments: Some(5),
        shares: Some(3),
        saves: Some(7),
        followers: None,
    };
    h.snapshot(a, rye[0], d(2, 0), full).await;
    let latest = MetricValues { views: Some(900), likes: Some(60), comments: Some(8), ..Default::default() };
    h.snapshot(a, rye[0], d(3, 0), latest).await;
    let (_, sale) = h.post(a, "Croissant sale", "50% off", &[fb], d(3, 9), PostStatus::Published).await;
    let sale_values =
        MetricValues { views: Some(2000), likes: Some(90), comments: Some(10), shares: Some(12), ..Default::default() };
    h.snapshot(a, sale[0], d(4, 0), sale_values).await;
    let (_, quiet) = h.post(a, "Quiet morning", "Shh", &[ig], d(4, 9), PostStatus::Published).await;
    h.snapshot(a, quiet[0], d(5, 0), MetricValues { likes: Some(1), comments: Some(0), ..views(50) }).await;
    for i in 1..=5 {
        let (_, tip) = h.post(a, &format!("Tip {i}"), "tip", &[ig], d(5, i), PostStatus::Published).await;
        h.snapshot(a, tip[0], d(6, i), views(100 * i)).await;
    }
    // The week before: the base of the change.
    let (_, old) = h.post(a, "Old news", "old", &[ig], week.start - 3 * DAY, PostStatus::Published).await;
    h.snapshot(a, old[0], week.start - 2 * DAY, views(1000)).await;
    // Another workspace's post in the same days counts nowhere here.
    let b = h.onboard(BOB, "Beta").await;
    let theirs = h.connect_accounts(b).await;
    let (_, other) = h.post(b, "Not ours", "x", &[theirs[0].id], d(2, 0), PostStatus::Published).await;
    h.snapshot(b, other[0], d(3, 0), views(77_777)).await;

    // The report automation of that week, to a chat.
    let chat =
        h.store.create_destination(a, &NewDestination::Telegram { name: "Team".into(), chat_id: -1001 }).await.unwrap();
    let new = NewAutomation {
        kind: "report".into(),
        name: "Weekly".into(),
        cron: "0 9 * * 1".into(),
        timezone: tz.name().into(),
        config: serde_json::json!({}),
        missed_run_policy: MissedRunPolicy::RunOnce,
        max_consecutive_failures: 5,
        created_by: None,
    };
    let auto = h.store.create_automation(a, &new).await.unwrap().id;
    h.store.set_automation_destinations(a, auto, &[chat.id]).await.unwrap();
    let deps = DeliveryDeps { email: None, data_dir: std::env::temp_dir(), sources: Sources::Real, run: None };
    assert!(run_report(&h.store, &deps, a, auto, &serde_json::json!({}), tz.name(), slot).await.unwrap());
    let jobs = h.store.tenant_jobs(a, JobState::Queued, 50).await.unwrap();
    let sent = jobs.iter().find(|j| j.payload["chat_id"] == -1001).expect("the report's notify job");
    let report = sent.payload["text_html"].as_str().unwrap();

    // /stats for the same days shows every number of the report, with the same changes.
    let day = |ms: i64| tz.timestamp_millis_opt(ms).unwrap().format("%Y-%m-%d").to_string();
    let typed = format!("/stats {} {}", day(week.start), day(week.end - 1));
    let stats = h.say(ALICE, &typed, "Alpha").await;
    let posts_line = report.lines().find(|l| l.starts_with("Posts:")).unwrap();
    assert!(stats.text.contains(posts_line), "{posts_line:?} in {}", stats.text);
    let metrics_line = report.lines().find(|l| l.starts_with("Views")).unwrap();
    for piece in metrics_line.split("   ").filter(|p| !p.starts_with("Followers")) {
        assert!(stats.text.contains(piece), "{piece:?} in {}", stats.text);
    }
    let engagement = report.lines().find(|l| l.starts_with("Engagement rate")).unwrap();
    assert!(stats.text.contains(engagement), "{engagement:?} in {}", stats.text);
    for top in report.lines().filter(|l| l.starts_with(|c: char| c.is_ascii_digit())) {
        assert!(stats.text.contains(top), "top post {top:?} in {}", stats.text);
    }
    // And the hand-computed numbers: latest readings only, missing counters left out, not zeros.
    assert!(stats.text.contains("Posts: 8 published, 0 failed"), "{}", stats.text);
    assert!(stats.text.contains("Views 4,450 (+345%)"), "{}", stats.text);
    assert!(stats.text.contains("Likes 151") && stats.text.contains("Comments 18"), "{}", stats.text);
    assert!(stats.text.contains("Shares 12") && stats.text.contains("Reach n/a"), "{}", stats.text);
    assert!(stats.text.contains("Engagement rate 3.8%"), "(151 + 18) / 4450: {}", stats.text);
    assert!(stats.text.contains("Croissant sale</a> (Facebook): 2,000 views, 90 likes, 10 comments"), "{}", stats.text);
    let fewest = stats.text.split("Fewest views").nth(1).expect("a bottom list");
    let at = |needle: &str| fewest.find(needle).unwrap_or_else(|| panic!("{needle} in {fewest}"));
    assert!(at("Quiet morning") < at("Tip 1") && at("Tip 1") < at("Tip 2"), "fewest first: {fewest}");
    assert!(!fewest.contains("Tip 3") && !fewest.contains("Rye"), "never a top post: {fewest}");
    assert!(!stats.text.contains("Not ours") && !stats.text.contains("77,777"), "{}", stats.text);
    assert!(stats.text.contains("(likes + comments) ÷ views"), "{}", stats.text);

    // One platform, then one account, through the scope picker.
    let pick = h.press(ALICE, &stats, "🎯 All accounts", &en("bot.stats.pick_scope")).await;
    let fb_only = h.press(ALICE, &pick, "Facebook", "Views 2,000").await;
    assert!(fb_only.text.contains("Posts: 1 published") && !fb_only.text.contains("Rye"), "{}", fb_only.text);
    let pick = h.press(ALICE, &fb_only, "🎯 Facebook", &en("bot.stats.pick_scope")).await;
    let ig_only = h.press(ALICE, &pick, "bloomcoffee · Instagram", "Views 2,450").await;
    assert!(ig_only.text.contains("Posts: 7 published"), "{}", ig_only.text);

    // The chart of what is shown, as a picture.
    let mark = h.tg.mark();
    h.tg.press(ALICE, &ig_only, &en("bot.stats.chart"));
    let photo = h.tg.wait_call(mark, |c| c.method == "sendphoto").await;
    assert!(photo.params["caption"].as_str().unwrap().contains("new views per day"), "{:?}", photo.params);
    assert_eq!(photo.params["photo"]["file_name"], "stats.png");
    assert!(photo.params["photo"]["size"].as_u64().unwrap() > 1000);

    // A preset with nothing in it says so.
    h.press(ALICE, &ig_only, "7 days", &en("report.no_data")).await;

    // Typed ranges: a bad one explained (the prompt stays), a good one shown.
    h.say(ALICE, "/stats 2030-13-01", "is not a date I can read").await;
    let stats = h.say(ALICE, "/stats", "Alpha").await;
    h.press(ALICE, &stats, &en("bot.stats.range"), "Send the days").await;
    h.say(ALICE, "2030-12-08 2030-12-01", "ends before it starts").await;
    let ranged = h.say(ALICE, &format!("{} {}", day(week.start), day(week.end - 1)), "Views 4,450").await;

    // Another workspace's account, forged into a button, is refused.
    let forged = Button::Stats(Stats::Show(StatsPeriod::Last(30), StatsScope::Account(theirs[0].id))).encode();
    h.press_data_refused(ALICE, &stats, &forged, "out of date").await;

    // A campaign's numbers: only its posts (the rye bread and the croissant sale), no followers of its own.
    let fields = |name: &str| tochen_store::CampaignFields { name: name.into(), ..Default::default() };
    let bread = h.store.create_campaign(a, None, &fields("Bread week")).await.unwrap().id;
    sqlx::query("UPDATE posts SET campaign_id = $1 WHERE tenant_id = $2 AND title IN ('Rye bread', 'Croissant sale')")
        .bind(bread.to_db())
        .bind(a.to_db())
        .execute(h.store.sql_for_tests())
        .await
        .unwrap();
    let pick = h.press(ALICE, &ranged, "🎯 All accounts", &en("bot.stats.pick_scope")).await;
    let campaign = h.press(ALICE, &pick, "📣 Bread week", "Views 2,900").await;
    assert!(campaign.text.contains("Posts: 2 published"), "{}", campaign.text);
    assert!(campaign.text.contains("Bread week") && !campaign.text.contains("Tip 1"), "{}", campaign.text);
    // A report automation with the campaign in its config sends the same campaign numbers.
    let config = serde_json::json!({ "campaign": bread.to_string() });
    let mark = h.store.tenant_jobs(a, JobState::Queued, 500).await.unwrap().len();
    assert!(run_report(&h.store, &deps, a, auto, &config, tz.name(), slot).await.unwrap());
    let jobs = h.store.tenant_jobs(a, JobState::Queued, 500).await.unwrap();
    assert!(jobs.len() > mark);
    let texts: Vec<&str> = jobs.iter().filter_map(|j| j.payload["text_html"].as_str()).collect();
    assert!(texts.iter().any(|t| t.contains("Views 2,900") && t.contains("Posts: 2 published")), "{texts:?}");
    // Another workspace's campaign, forged into a button, is refused.
    let theirs_campaign = h.store.create_campaign(b, None, &fields("Their week")).await.unwrap().id;
    let forged = Button::Stats(Stats::Show(StatsPeriod::Last(30), StatsScope::Campaign(theirs_campaign))).encode();
    h.press_data_refused(ALICE, &stats, &forged, "out of date").await;
});
