//! Campaigns through the chat (issue 18), end to end on SQLite and PostgreSQL: a campaign created with
//! `/campaign new`, a batch of 10 started from its screen (the progress message edited in place, within the edit
//! limit), reviewed and approved, spread over the campaign's queue slots (a taken slot skipped), published by the
//! scheduler, and the campaign's numbers in `/stats` equal to hand-computed ones. Also: Cancel, Retry failed, an
//! editor's batch going to the admins as one card, and forged or stale campaign buttons.

use crate::common::{self, en, ALICE, BOB};
use std::time::Duration;
use tochen_domain::clock::now_ms;
use tochen_domain::slots::{instants, WeeklySlot};
use tochen_domain::{AuthKind, BatchStatus, Platform, PostStatus, Role, SecretString, TargetStatus, TenantId};
use tochen_store::{CampaignFields, MetricValues, NewAccount, NewBatch, NewBatchItem};
use tochen_telegram::button::{Button, Campaign as Cb, CampaignField};
use tochen_testkit::fake_llm::Reply;
use tokio_util::sync::CancellationToken;

const SANDBOX: &[(&str, &str)] = &[("TOCHEN_SANDBOX", "true")];

async fn wait_until<F, Fut>(what: &str, mut check: F)
where
    F: FnMut() -> Fut,
    Fut: std::future::Future<Output = bool>,
{
    let deadline = tokio::time::Instant::now() + Duration::from_secs(90);
    while !check().await {
        assert!(tokio::time::Instant::now() < deadline, "timed out waiting for {what}");
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
}

async fn sandbox_facebook(h: &common::Harness, t: TenantId) -> tochen_domain::AccountId {
    let acc = NewAccount {
        platform: Platform::Facebook,
        auth_kind: AuthKind::SandboxFacebook,
        external_id: "sandbox-fb".into(),
        name: "Bloom sandbox".into(),
        access_token: SecretString::new("token"),
        refresh_token: None,
        scopes: vec![],
        token_expires_at: None,
        refresh_expires_at: None,
        connected_by: None,
    };
    h.store.upsert_account(t, &acc).await.unwrap().id
}

/// The workspace's time zone.
async fn tz_of(h: &common::Harness, t: TenantId) -> chrono_tz::Tz {
    h.store.tenant(t).await.unwrap().profile.timezone.parse().unwrap_or(chrono_tz::UTC)
}

/// Edits of message `id` the bot made: (all, refused by the Bot API).
fn edits(h: &common::Harness, id: i64) -> (usize, usize) {
    let calls: Vec<_> =
        h.tg.calls()
            .into_iter()
            .filter(|c| c.method == "editmessagetext" && c.params["message_id"].as_i64() == Some(id))
            .collect();
    let refused = calls.iter().filter(|c| !c.params["__failed"].is_null()).count();
    (calls.len(), refused)
}

bot_test!(a_campaign_from_the_chat_to_published_posts_and_its_numbers, env = SANDBOX, |h| {
    let t = h.onboard(ALICE, "Roastery").await;
    let tz = tz_of(&h, t).await;
    let fb = sandbox_facebook(&h, t).await;
    // Queue slots every day at 10:00 and 16:00.
    let days = [
        chrono::Weekday::Mon,
        chrono::Weekday::Tue,
        chrono::Weekday::Wed,
        chrono::Weekday::Thu,
        chrono::Weekday::Fri,
        chrono::Weekday::Sat,
        chrono::Weekday::Sun,
    ];
    let slots: Vec<WeeklySlot> =
        days.iter().flat_map(|d| [WeeklySlot::new(*d, 10, 0).unwrap(), WeeklySlot::new(*d, 16, 0).unwrap()]).collect();
    h.store.replace_queue_slots(t, None, &slots).await.unwrap();

    // The guided flow: name, brief, skip four, dates, Facebook.
    let today = chrono::Utc::now().with_timezone(&tz).date_naive();
    let last = today + chrono::Days::new(13);
    h.say(ALICE, "/campaign new", "What is the campaign called").await;
    h.say(ALICE, "Autumn menu", "What is it about").await;
    let m = h.say(ALICE, "Seasonal drinks and pastries", "Which brand").await;
    let m = h.press(ALICE, &m, &en("campaign.btn.skip"), "Who is it for").await;
    let m = h.press(ALICE, &m, &en("campaign.btn.skip"), "In what tone").await;
    let m = h.press(ALICE, &m, &en("campaign.btn.skip"), "What should it achieve").await;
    h.press(ALICE, &m, &en("campaign.btn.skip"), "When does it run").await;
    h.say(ALICE, "not a date", "is not a date I can read").await;
    let m = h.say(ALICE, &format!("{today} {last}"), "Which platforms and accounts").await;
    let m = h.press(ALICE, &m, "Facebook", "Which platforms and accounts").await;
    assert!(m.has_button("✅ Facebook"), "{m:?}");
    let screen = h.press(ALICE, &m, &en("campaign.btn.create"), "📣 <b>Autumn menu</b>").await;
    assert!(
        screen.text.contains("Seasonal drinks") && screen.text.contains(&format!("{today} – {last}")),
        "{}",
        screen.text
    );
    let list = h.store.campaigns(t, false).await.unwrap();
    assert_eq!(list.len(), 1);
    let c = list[0].campaign.clone();
    assert_eq!(c.fields.platforms, vec![Platform::Facebook]);
    assert_eq!(c.created_by, h.store.user_by_telegram_id(ALICE).await.unwrap().map(|u| u.id));
    let listed = h.say(ALICE, "/campaigns", "<b>Campaigns</b>").await;
    assert!(listed.text.contains("0 posts, 0 published, 0 batches"), "{}", listed.text);

    // A post already in the first free slot: the spread skips it.
    let lead = now_ms() + 10 * 60_000;
    let first = instants(&slots, tz, lead, lead + 2 * 86_400_000)[0];
    let (other, _) = h.post(t, "Already queued", "x", &[fb], first, PostStatus::Scheduled).await;

    // A batch of 10 typed topics.
    h.llm.set_delay(Duration::from_millis(150));
    let m = h.press(ALICE, &screen, &en("campaign.btn.batch"), "how many posts").await;
    let m = h.press(ALICE, &m, "10", "Where do the topics come from").await;
    h.press(ALICE, &m, &en("campaign.batch.btn_type"), "one per line").await;
    let topics: Vec<String> = (1..=10).map(|i| format!("Topic {i} | warm")).collect();
    let confirm = h.say(ALICE, &topics.join("\n"), "10 posts").await;
    assert!(confirm.text.contains("tokens") && confirm.text.contains("Topic 10"), "{}", confirm.text);
    let mark = h.tg.mark();
    h.tg.press(ALICE, &confirm, &en("campaign.batch.btn_start"));
    let progress = h.tg.said(ALICE, mark, "Batch for “Autumn menu”").await;
    assert!(progress.has_button(&en("campaign.batch.btn_cancel")), "{progress:?}");
    let b = h.store.campaign_batches(t, c.id).await.unwrap()[0].clone();
    assert_eq!(b.total, 10);
    wait_until("the progress message remembered", || async {
        h.store.batch(t, b.id).await.unwrap().progress_message_id == Some(progress.message_id)
    })
    .await;
    wait_until("the batch to finish", || async {
        h.store.batch(t, b.id).await.unwrap().status == BatchStatus::Finished
    })
    .await;
    wait_until("the last edit", || async {
        h.tg.message(ALICE, progress.message_id).is_some_and(|m| m.text.contains("Finished in"))
    })
    .await;
    let done = h.tg.message(ALICE, progress.message_id).unwrap();
    assert!(done.text.contains("10 done") && done.text.contains("0 failed"), "{}", done.text);
    assert!(!done.has_button(&en("campaign.batch.btn_cancel")) && done.has_button("Review the drafts (10)"));
    // Edited in place as items finished: at most one edit per 3-second window, each queued by an item that ended
    // (or by the start): never more than the items and the start, and none refused.
    let (count, refused) = edits(&h, progress.message_id);
    assert!((1..=11).contains(&count) && refused == 0, "{count} edits, {refused} refused");
    let items = h.store.batch_items(t, b.id).await.unwrap();
    assert_eq!(items[3].item.tone, "warm", "per-line fields are kept");

    // Review: approve all, then spread over the slots.
    let review = h.press(ALICE, &done, "Review the drafts", "10 made, 0 approved, 10 to review").await;
    let review = h.press(ALICE, &review, &en("campaign.review.btn_approve_all"), "10 made, 10 approved").await;
    let plan = h.press(ALICE, &review, &en("campaign.review.btn_spread"), "into the free queue slots").await;
    let mark = h.tg.mark();
    h.tg.press(ALICE, &plan, &en("campaign.spread.btn_confirm"));
    h.tg.said(ALICE, mark, "10 posts scheduled").await;
    let ends = c.fields.ends_at.unwrap();
    let expected: Vec<i64> = instants(&slots, tz, lead, ends).into_iter().filter(|at| *at != first).take(10).collect();
    let mut got = Vec::new();
    for i in h.store.batch_items(t, b.id).await.unwrap() {
        let p = h.store.post(t, i.post_id.unwrap()).await.unwrap();
        assert_eq!(p.status, PostStatus::Scheduled, "{p:?}");
        got.push(p.scheduled_at.unwrap());
    }
    got.sort_unstable();
    assert_eq!(got, expected, "the first 10 free slots in the period, the taken one skipped");
    assert!(got.iter().all(|at| *at < ends));

    // The scheduler publishes them (their time brought forward).
    sqlx::query("UPDATE jobs SET run_at = 0 WHERE tenant_id = $1 AND kind = 'publish' AND state = 'queued'")
        .bind(t.to_db())
        .execute(h.store.sql_for_tests())
        .await
        .unwrap();
    let shutdown = CancellationToken::new();
    let deps = tochen_scheduler::Deps::from_config(&h.config, &h.store).unwrap();
    let runner = tokio::spawn({
        let (config, store, shutdown) = (h.config.clone(), h.store.clone(), shutdown.clone());
        async move { tochen_scheduler::run_with(&config, store, deps, shutdown).await }
    });
    let posts: Vec<_> = h.store.batch_items(t, b.id).await.unwrap().iter().map(|i| i.post_id.unwrap()).collect();
    wait_until("the campaign's posts published", || async {
        let mut all = true;
        for p in &posts {
            all &= h.store.targets_of_post(t, *p).await.unwrap().iter().all(|x| x.status == TargetStatus::Published);
        }
        all
    })
    .await;
    shutdown.cancel();
    let _ = runner.await;
    assert_eq!(h.store.post_campaign(t, other.id).await.unwrap(), None);

    // Numbers: every campaign post read once: 120 views, 6 likes, 3 comments each.
    for p in &posts {
        let target = h.store.targets_of_post(t, *p).await.unwrap()[0].id;
        let values = MetricValues { views: Some(120), likes: Some(6), comments: Some(3), ..Default::default() };
        h.snapshot(t, target, now_ms(), values).await;
    }
    let stats = h.say(ALICE, "/stats", "Roastery").await;
    let pick = h.press(ALICE, &stats, "🎯 All accounts", &en("bot.stats.pick_scope")).await;
    let numbers = h.press(ALICE, &pick, "📣 Autumn menu", "Views 1,200").await;
    assert!(numbers.text.contains("Posts: 10 published, 0 failed"), "{}", numbers.text);
    assert!(numbers.text.contains("Likes 60") && numbers.text.contains("Comments 30"), "{}", numbers.text);
    assert!(numbers.text.contains("Engagement rate 7.5%"), "(60 + 30) / 1200: {}", numbers.text);
    assert!(!numbers.text.contains("Already queued"), "{}", numbers.text);
    let listed = h.say(ALICE, "/campaigns", "<b>Campaigns</b>").await;
    assert!(listed.text.contains("10 posts, 10 published, 1 batches"), "{}", listed.text);
});

/// A campaign of `t` and a batch of `n` items started through the store with its progress message in ALICE's chat.
async fn started(h: &common::Harness, t: TenantId, n: usize, topic: &str) -> (tochen_store::Campaign, i64) {
    let f = CampaignFields { name: "Winter".into(), platforms: vec![Platform::Facebook], ..Default::default() };
    let c = h.store.create_campaign(t, None, &f).await.unwrap();
    let screen = h.say(ALICE, "/campaigns", "<b>Campaigns</b>").await;
    let screen = h.press(ALICE, &screen, "1. Winter", "📣 <b>Winter</b>").await;
    h.press(ALICE, &screen, &en("campaign.btn.batch"), "how many posts").await;
    let m = h.say(ALICE, &n.to_string(), "Where do the topics come from").await;
    h.press(ALICE, &m, &en("campaign.batch.btn_type"), "one per line").await;
    let lines: Vec<String> = (1..=n).map(|i| format!("{topic} {i}")).collect();
    let confirm = h.say(ALICE, &lines.join("\n"), &format!("{n} posts")).await;
    let mark = h.tg.mark();
    h.tg.press(ALICE, &confirm, &en("campaign.batch.btn_start"));
    let progress = h.tg.said(ALICE, mark, "Batch for “Winter”").await;
    (c, progress.message_id)
}

bot_test!(cancel_stops_the_rest_and_keeps_the_drafts_made, |h| {
    let t = h.onboard(ALICE, "Roastery").await;
    h.llm.set_delay(Duration::from_millis(1500));
    let (c, msg) = started(&h, t, 20, "Cold brew").await;
    let b = h.store.campaign_batches(t, c.id).await.unwrap()[0].clone();
    wait_until("a draft made", || async { h.store.batch_progress(t, b.id).await.unwrap().done >= 1 }).await;
    let progress = h.tg.message(ALICE, msg).unwrap();
    let mark = h.tg.mark();
    h.tg.press(ALICE, &progress, &en("campaign.batch.btn_cancel"));
    h.tg.answered(mark, "Cancelled:").await;
    wait_until("the message to say so", || async {
        h.tg.message(ALICE, msg).is_some_and(|m| m.text.contains("Cancelled:"))
    })
    .await;
    wait_until("no call in flight", || async { h.llm.in_flight() == 0 }).await;
    assert_eq!(h.store.batch(t, b.id).await.unwrap().status, BatchStatus::Cancelled);
    let p = h.store.batch_progress(t, b.id).await.unwrap();
    assert!(p.done >= 1 && p.cancelled >= 1 && p.done + p.cancelled == 20, "{p:?}");
    let f = tochen_store::LibraryFilter { campaign: Some(c.id), ..Default::default() };
    let drafts = h.store.library(t, &f, 0, 100).await.unwrap();
    assert_eq!(drafts.len() as i64, p.done, "the drafts made stay");
    // Cancel again: the batch is not running any more.
    let again = h.tg.message(ALICE, msg).unwrap();
    let data = Button::Campaign(Cb::Cancel(b.id)).encode();
    h.press_data_refused(ALICE, &again, &data, "not running any more").await;
});

bot_test!(failed_items_are_listed_with_their_reason_and_retried, |h| {
    let t = h.onboard(ALICE, "Roastery").await;
    // "Flat white 2" gets malformed answers: it fails for good.
    h.llm.when_contains("Flat white 2", Reply::Text("no json here".into()), None);
    let (c, msg) = started(&h, t, 3, "Flat white").await;
    let b = h.store.campaign_batches(t, c.id).await.unwrap()[0].clone();
    wait_until("the list of failures", || async {
        h.tg.message(ALICE, msg).is_some_and(|m| m.text.contains("Failed:") && m.has_button("Retry failed (1)"))
    })
    .await;
    let ended = h.tg.message(ALICE, msg).unwrap();
    assert!(ended.text.contains("Flat white 2:"), "the failed topic with its reason: {}", ended.text);
    assert!(ended.text.contains("2 done") && ended.text.contains("1 failed"), "{}", ended.text);
    h.llm.clear_rules();
    let mark = h.tg.mark();
    h.tg.press(ALICE, &ended, "Retry failed");
    h.tg.answered(mark, "Retrying 1 posts").await;
    wait_until("all three made", || async { h.store.batch_progress(t, b.id).await.unwrap().done == 3 }).await;
    wait_until("the message to show it", || async {
        h.tg.message(ALICE, msg).is_some_and(|m| m.text.contains("3 done") && m.text.contains("Finished in"))
    })
    .await;
    let item =
        h.store.batch_items(t, b.id).await.unwrap().into_iter().find(|i| i.item.topic == "Flat white 2").unwrap();
    assert_eq!(item.round, 1, "retried once");
    assert!(!h.tg.message(ALICE, msg).unwrap().has_button("Retry failed"));
});

bot_test!(an_editors_batch_goes_to_the_admins_as_one_card, |h| {
    let t = h.onboard(ALICE, "Roastery").await;
    let bob = h.store.upsert_user(&common::identity(BOB)).await.unwrap();
    h.store.add_member(t, bob.id, Role::Editor).await.unwrap();
    h.store.set_active_tenant(bob.id, t).await.unwrap();
    let f = CampaignFields { name: "Spring".into(), ..Default::default() };
    let c = h.store.create_campaign(t, None, &f).await.unwrap();
    let items = (1..=3).map(|i| NewBatchItem { topic: format!("Tulips {i}"), ..Default::default() }).collect();
    let new = NewBatch { started_by: Some(bob.id), chat_id: Some(BOB), items, ..Default::default() };
    let (b, _) = h.store.start_batch(t, c.id, &new).await.unwrap();
    wait_until("the batch", || async { h.store.batch(t, b.id).await.unwrap().status == BatchStatus::Finished }).await;

    // Bob reviews: he may edit and drop, not approve; he sends the batch for approval.
    let screen = h.say(BOB, "/campaigns", "<b>Campaigns</b>").await;
    let screen = h.press(BOB, &screen, "1. Spring", "📣 <b>Spring</b>").await;
    let history = h.press(BOB, &screen, &en("campaign.btn.history"), "Batches of “Spring”").await;
    assert!(history.text.contains("User1002") && history.text.contains("3 made, 0 failed"), "{}", history.text);
    let review = h.press(BOB, &history, "Review batch 1", "3 made, 0 approved, 3 to review").await;
    assert!(!review.has_button(&en("campaign.review.btn_approve_all")));
    let one = h.press(BOB, &review, "1.", "Tulips 1").await;
    assert!(!one.has_button(&en("campaign.review.btn_approve")) && one.has_button(&en("campaign.review.btn_drop")));
    let data = Button::Campaign(Cb::ApproveAll(b.id)).encode();
    h.press_data_refused(BOB, &one, &data, "Only an admin").await;
    let review = h.press(BOB, &one, &en("campaign.review.btn_drop"), "3 made, 0 approved, 2 to review").await;
    h.press(BOB, &review, &en("campaign.review.btn_send"), "2 drafts wait").await;

    // One card for the batch to Alice, whose button opens the review.
    let sent = h.run_notify_jobs().await;
    let cards: Vec<_> = sent.iter().filter(|m| m.chat_id == ALICE).collect();
    assert_eq!(cards.len(), 1, "{sent:?}");
    assert!(cards[0].text_html.contains("asks you to review a batch of “Spring”: 2 drafts"), "{}", cards[0].text_html);
    let card = h.tg.messages_in(ALICE).into_iter().rev().find(|m| m.text.contains("asks you to review")).unwrap();
    let review = h.press(ALICE, &card, &en("campaign.review.btn_open"), "0 approved, 2 to review").await;
    let review = h.press(ALICE, &review, &en("campaign.review.btn_approve_all"), "2 approved, 0 to review").await;
    assert!(review.has_button(&en("campaign.review.btn_spread")));
    let approved = h.store.batch_items(t, b.id).await.unwrap().iter().filter(|i| i.approved_at.is_some()).count();
    assert_eq!(approved, 2, "the dropped draft is not approved");
});

bot_test!(forged_and_stale_campaign_buttons_change_nothing, |h| {
    let a = h.onboard(ALICE, "Alpha").await;
    let b = h.onboard(BOB, "Beta").await;
    let f = CampaignFields { name: "Theirs".into(), ..Default::default() };
    let theirs = h.store.create_campaign(b, None, &f).await.unwrap();
    let items = vec![NewBatchItem { topic: "x".into(), ..Default::default() }];
    let (their_batch, _) = h.store.start_batch(b, theirs.id, &NewBatch { items, ..Default::default() }).await.unwrap();
    let f = CampaignFields { name: "Mine".into(), ..Default::default() };
    let mine = h.store.create_campaign(a, None, &f).await.unwrap();
    let screen = h.say(ALICE, "/campaigns", "<b>Campaigns</b>").await;
    // Another workspace's campaign and batch, whatever the button.
    for forged in [
        Cb::Show(theirs.id),
        Cb::Edit(theirs.id, CampaignField::Name),
        Cb::Archive(theirs.id),
        Cb::Batch(theirs.id),
        Cb::History(theirs.id),
        Cb::Cancel(their_batch.id),
        Cb::RetryFailed(their_batch.id),
        Cb::Review(their_batch.id, 0),
        Cb::ApproveAll(their_batch.id),
        Cb::Spread(their_batch.id),
    ] {
        h.press_data_refused(ALICE, &screen, &Button::Campaign(forged).encode(), "out of date").await;
    }
    // Its batch made it active; nothing archived it.
    assert_eq!(h.store.campaign(b, theirs.id).await.unwrap().status, tochen_domain::CampaignStatus::Active);
    // Their batch ran on (the bot's runner made its draft): not cancelled, nothing approved.
    assert_ne!(h.store.batch(b, their_batch.id).await.unwrap().status, BatchStatus::Cancelled);
    assert!(h.store.batch_items(b, their_batch.id).await.unwrap().iter().all(|i| i.approved_at.is_none()));
    // Steps of a flow that is not running, and a spread nobody planned.
    for stale in [Cb::Count(5), Cb::Start, Cb::Next, Cb::TogglePlatform(0), Cb::SpreadConfirm(their_batch.id)] {
        h.press_data_refused(ALICE, &screen, &Button::Campaign(stale).encode(), "out of date").await;
    }
    // A post of another workspace into my campaign, and my post into theirs.
    let my_post = h.store.create_draft(a, None, None, "Mine", "").await.unwrap();
    let data = Button::Campaign(Cb::SetFor(my_post.id, Some(theirs.id))).encode();
    h.press_data_refused(ALICE, &screen, &data, "out of date").await;
    assert_eq!(h.store.post_campaign(a, my_post.id).await.unwrap(), None);
    // Archive and restore: posts and history stay.
    let shown = h.press(ALICE, &screen, "1. Mine", "📣 <b>Mine</b>").await;
    let archived = h.press(ALICE, &shown, &en("campaign.btn.archive"), "🗄 archived").await;
    assert!(archived.has_button(&en("campaign.btn.restore")) && !archived.has_button(&en("campaign.btn.batch")));
    let data = Button::Campaign(Cb::Batch(mine.id)).encode();
    h.press_data_refused(ALICE, &archived, &data, "archived").await;
    h.press(ALICE, &archived, &en("campaign.btn.restore"), "📝 draft").await;
    assert_eq!(h.store.campaign(a, mine.id).await.unwrap().archived_at, None);
});

bot_test!(posts_join_a_campaign_and_the_library_and_automations_filter_by_it, |h| {
    let t = h.onboard(ALICE, "Roastery").await;
    let f = CampaignFields { name: "Autumn".into(), ..Default::default() };
    let c = h.store.create_campaign(t, None, &f).await.unwrap();
    h.store.create_draft(t, None, None, "Not in it", "").await.unwrap();

    // A post written with /new joins the campaign from its draft screen.
    h.say(ALICE, "/new", "Send your post").await;
    let screen = h.say(ALICE, "Pumpkin spice is back", "Draft:").await;
    let pick = h.press(ALICE, &screen, &en("campaign.btn.for_post"), "Which campaign does").await;
    let mark = h.tg.mark();
    h.tg.press(ALICE, &pick, "Autumn");
    h.tg.answered(mark, "Now in the campaign “Autumn”").await;
    h.tg.said(ALICE, mark, "📣 Campaign: Autumn").await;
    let post = h.store.posts_with_status(t, &[PostStatus::Draft], 0, 10).await.unwrap();
    let post = post.iter().find(|p| p.title != "Not in it").unwrap().clone();
    assert_eq!(h.store.post_campaign(t, post.id).await.unwrap(), Some(c.id));

    // The library's campaign filter shows only its posts.
    let list = h.say(ALICE, "/library", "Library").await;
    let menu = h.press(ALICE, &list, &en("bot.library.btn_filter"), &en("bot.library.menu_title")).await;
    let pick = h.press(ALICE, &menu, &en("bot.library.f_campaign"), &en("bot.library.pick_title")).await;
    let list = h.press(ALICE, &pick, "📣 Autumn", "Filter: 📣 Autumn").await;
    assert!(list.text.contains(&post.title) && !list.text.contains("Not in it"), "{}", list.text);

    // A report automation for the campaign.
    let m = h.say(ALICE, "/automate", &en("bot.auto.title_new")).await;
    let m = h.press(ALICE, &m, &en("bot.auto.kind_report"), "How often?").await;
    let m = h.press(ALICE, &m, &en("bot.auto.preset_weekly"), "Time zone:").await;
    let m = h.press(ALICE, &m, &en("bot.auto.btn_keep"), "team chat gets it").await;
    let m = h.press(ALICE, &m, &en("bot.auto.btn_next"), "Options:").await;
    assert!(m.has_button(&format!("✓ {}", en("bot.auto.campaign_all"))), "{m:#?}");
    let m = h.press(ALICE, &m, "📣 Autumn", "Options:").await;
    assert!(m.has_button("✓ 📣 Autumn"), "{m:#?}");
    let m = h.press(ALICE, &m, &en("bot.auto.btn_next"), "Next runs:").await;
    h.press(ALICE, &m, &en("bot.auto.btn_create"), &en("bot.auto.created")).await;
    let auto = h.store.automations(t).await.unwrap().pop().unwrap();
    assert_eq!(auto.config["campaign"], c.id.to_string());
});

bot_test!(proposed_topics_an_edited_field_and_an_even_spread_without_slots, env = SANDBOX, |h| {
    let t = h.onboard(ALICE, "Roastery").await;
    sandbox_facebook(&h, t).await;
    let now = now_ms();
    let (start, end) = (now - 3_600_000, now + 4 * 86_400_000);
    let f = CampaignFields {
        name: "Winter".into(),
        brief: "Hot chocolate season".into(),
        starts_at: Some(start),
        ends_at: Some(end),
        platforms: vec![Platform::Facebook],
        ..Default::default()
    };
    let c = h.store.create_campaign(t, None, &f).await.unwrap();
    let screen = h.say(ALICE, "/campaigns", "<b>Campaigns</b>").await;
    let screen = h.press(ALICE, &screen, "1. Winter", "📣 <b>Winter</b>").await;

    // One field edited: the answer saves it.
    h.press(ALICE, &screen, &format!("✏️ {}", en("campaign.field.goal")), "What should it achieve").await;
    h.say(ALICE, "x".repeat(2001).as_str(), "longer than 2000 characters").await;
    let screen = h.say(ALICE, "More evening visits", "More evening visits").await;
    assert_eq!(h.store.campaign(t, c.id).await.unwrap().fields.goal, "More evening visits");

    // Five topics proposed by the LLM from the brief; images on, then off again.
    let m = h.press(ALICE, &screen, &en("campaign.btn.batch"), "how many posts").await;
    let m = h.press(ALICE, &m, "5", "Where do the topics come from").await;
    let confirm = h.press(ALICE, &m, &en("campaign.batch.btn_propose"), "5 posts").await;
    assert!(confirm.text.contains("Idea 1: behind the scenes: Angle number 1"), "{}", confirm.text);
    let asked = h.llm.requests().last().unwrap().to_string();
    assert!(asked.contains("Hot chocolate season"), "the brief goes to the LLM: {asked}");
    let on = h.press(ALICE, &confirm, &en("campaign.batch.btn_images_off"), "5 posts").await;
    assert!(on.has_button(&en("campaign.batch.btn_images_on")));
    let off = h.press(ALICE, &on, &en("campaign.batch.btn_images_on"), "5 posts").await;
    let mark = h.tg.mark();
    h.tg.press(ALICE, &off, &en("campaign.batch.btn_start"));
    h.tg.said(ALICE, mark, "Batch for “Winter”").await;
    let b = h.store.campaign_batches(t, c.id).await.unwrap()[0].clone();
    assert!(!b.with_images);
    wait_until("the batch", || async { h.store.batch(t, b.id).await.unwrap().status == BatchStatus::Finished }).await;

    // No queue slots: the five are spaced evenly over what is left of the period.
    let review = h.say(ALICE, "/campaigns", "<b>Campaigns</b>").await;
    let review = h.press(ALICE, &review, "1. Winter", "📣 <b>Winter</b>").await;
    let review = h.press(ALICE, &review, &en("campaign.btn.history"), "Batches of “Winter”").await;
    let review = h.press(ALICE, &review, "Review batch 1", "5 made").await;
    let review = h.press(ALICE, &review, &en("campaign.review.btn_approve_all"), "5 approved").await;
    let plan = h.press(ALICE, &review, &en("campaign.review.btn_spread"), "spaced evenly").await;
    let mark = h.tg.mark();
    h.tg.press(ALICE, &plan, &en("campaign.spread.btn_confirm"));
    h.tg.said(ALICE, mark, "5 posts scheduled").await;
    let mut at = Vec::new();
    for i in h.store.batch_items(t, b.id).await.unwrap() {
        at.push(h.store.post(t, i.post_id.unwrap()).await.unwrap().scheduled_at.unwrap());
    }
    at.sort_unstable();
    assert!(at[0] > now && at[4] < end, "{at:?}");
    let gaps: Vec<i64> = at.windows(2).map(|w| w[1] - w[0]).collect();
    assert!(gaps.iter().all(|g| (g - gaps[0]).abs() <= 60_000), "evenly: {gaps:?}");
    // Confirm again: the plan was used up.
    let data = Button::Campaign(Cb::SpreadConfirm(b.id)).encode();
    h.press_data_refused(ALICE, &plan, &data, "out of date").await;
});
