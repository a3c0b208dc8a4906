//! Queue slots and best time in the chat: `/slots` set by a preset and by typed text (bad text explained), "Add
//! to queue" filling the next free slot and a second post the one after, Earlier/Later swapping two queued posts,
//! and `/besttime` saying "not enough data" and then sending a heat-map PNG of the stated size.

use crate::common;

use common::{en, ALICE};
use tochen_domain::slots::{self, Preset};
use tochen_domain::{AccountId, Platform, PostStatus, TenantId};
use tochen_store::{MetricValues, NewSnapshot, Post};
use tochen_telegram::button::{Button, Draft, DraftAct};

/// A Facebook-only draft titled `title`.
async fn draft(h: &common::Harness, a: TenantId, title: &str) -> Post {
    let p = h.store.create_draft(a, None, None, title, "").await.unwrap();
    let edit = tochen_store::PostEdit::MainText {
        body: format!("{title} text"),
        hashtags: None,
        platforms: vec![Platform::Facebook],
    };
    h.store.edit_post(a, p.id, p.version, &edit, None).await.unwrap();
    h.store.post(a, p.id).await.unwrap()
}

/// Schedules `post` with "Add to queue" from the scheduling screen, and returns its time.
async fn add_to_queue(h: &common::Harness, a: TenantId, post: &Post) -> i64 {
    let anchor = h.say(ALICE, "/queue", "").await;
    let mark = h.tg.mark();
    let data = Button::Draft(Draft::Act(DraftAct::Schedule, post.id, post.version)).encode();
    h.tg.press_as(anchor.chat_id, ALICE, anchor.message_id, &data);
    let when = h.tg.said(anchor.chat_id, mark, "When?").await;
    assert!(when.has_button(&en("bot.schedule.queue")) && when.has_button(&en("bot.schedule.best")));
    let confirm = h.press(ALICE, &when, &en("bot.schedule.queue"), "Post to").await;
    assert!(!confirm.text.contains("No queue slots"), "slots are configured: {}", confirm.text);
    h.press(ALICE, &confirm, &en("bot.schedule.btn_confirm"), "Scheduled").await;
    let p = h.store.post(a, post.id).await.unwrap();
    assert_eq!(p.status, PostStatus::Scheduled);
    p.scheduled_at.unwrap()
}

bot_test!(slots_are_set_and_add_to_queue_fills_them_in_order, |h| {
    let a = h.onboard(ALICE, "Alpha").await;
    let accounts = h.connect_accounts(a).await;
    let fb: AccountId = accounts[1].id;

    // Nothing set: the defaults are named. A preset, then typed slots (a bad day and a bad time explained).
    let screen = h.say(ALICE, "/slots", "Queue slots").await;
    assert!(screen.text.contains("No slots yet"), "{}", screen.text);
    let screen = h.press(ALICE, &screen, &en("bot.slots.preset_weekdays"), "Mon-Fri 09:00, 13:00, 18:00").await;
    let ask = h.press(ALICE, &screen, &en("bot.slots.btn_add"), "Send days and times").await;
    let _ = ask;
    h.say(ALICE, "Funday 09:00", "“funday” is not a day").await;
    h.say(ALICE, "Sat 25:00", "“25:00” is not a time").await;
    h.say(ALICE, "Mon-Fri", "has no time after it").await;
    h.say(ALICE, "Sat 10:30", "1 slot(s) added").await;
    let mut want = Preset::Weekdays.slots();
    want.extend(slots::parse("Sat 10:30").unwrap());
    assert_eq!(h.store.queue_slots(a, None).await.unwrap(), slots::normalize(want.clone()));

    // "Add to queue": the next free slot, then the one after it for a second post.
    let tenant = h.store.tenant(a).await.unwrap();
    let tz: chrono_tz::Tz = tenant.profile.timezone.parse().unwrap_or(chrono_tz::UTC);
    let now = tochen_domain::clock::now_ms();
    let first_slot = slots::next_free(&want, tz, now, &[]).unwrap();
    let second_slot = slots::next_free(&want, tz, now, &[first_slot]).unwrap();
    let one = draft(&h, a, "First").await;
    let two = draft(&h, a, "Second").await;
    assert_eq!(add_to_queue(&h, a, &one).await, first_slot);
    assert_eq!(add_to_queue(&h, a, &two).await, second_slot);
    let targets = h.store.targets_of_post(a, two.id).await.unwrap();
    assert_eq!(targets.iter().map(|t| t.account_id).collect::<Vec<_>>(), vec![fb]);

    // Earlier on the second post swaps the two times; Later swaps them back.
    let list = h.say(ALICE, "/queue", "Second").await;
    let item = h.press(ALICE, &list, "2. Second", "Second").await;
    let item = h.press(ALICE, &item, &en("bot.queue.btn_earlier"), "Second").await;
    let (p1, p2) = (h.store.post(a, one.id).await.unwrap(), h.store.post(a, two.id).await.unwrap());
    assert_eq!((p1.scheduled_at, p2.scheduled_at), (Some(second_slot), Some(first_slot)));
    h.press_data_refused(
        ALICE,
        &item,
        &Button::Queue(tochen_telegram::button::Queue::Earlier(two.id, p2.version)).encode(),
        "already the first",
    )
    .await;
    h.press(ALICE, &item, &en("bot.queue.btn_later"), "Second").await;
    let (p1, p2) = (h.store.post(a, one.id).await.unwrap(), h.store.post(a, two.id).await.unwrap());
    assert_eq!((p1.scheduled_at, p2.scheduled_at), (Some(first_slot), Some(second_slot)));

    // Clearing leaves "Add to queue" on the defaults, and it says so.
    let screen = h.say(ALICE, "/slots", "Queue slots").await;
    h.press(ALICE, &screen, &en("bot.slots.btn_clear"), "No slots yet").await;
    assert!(h.store.queue_slots(a, None).await.unwrap().is_empty());
    let three = draft(&h, a, "Third").await;
    let anchor = h.say(ALICE, "/queue", "").await;
    let mark = h.tg.mark();
    let data = Button::Draft(Draft::Act(DraftAct::Schedule, three.id, three.version)).encode();
    h.tg.press_as(anchor.chat_id, ALICE, anchor.message_id, &data);
    let when = h.tg.said(anchor.chat_id, mark, "When?").await;
    h.press(ALICE, &when, &en("bot.schedule.queue"), "No queue slots are set up").await;
});

bot_test!(besttime_says_when_data_is_missing_and_sends_a_heat_map, |h| {
    let a = h.onboard(ALICE, "Alpha").await;
    let accounts = h.connect_accounts(a).await;
    let ig = accounts[0].id;

    let text = h.say(ALICE, "/besttime", "Best time to post").await;
    assert!(text.text.contains("Instagram</b>: not enough data (0 of 20"), "{}", text.text);
    assert!(text.text.contains("Facebook</b>: not enough data"), "{}", text.text);

    // 21 measured Instagram posts published last week: a heat-map PNG of 960 x 400 for Instagram.
    let base = tochen_domain::clock::now_ms() - 7 * 86_400_000;
    for i in 0..21 {
        let at = base + (i % 3) * 3_600_000;
        let p = h.store.create_draft(a, None, None, &format!("P{i}"), "").await.unwrap();
        let targets = h.store.schedule_post(a, p.id, p.version, at, &[ig], false).await.unwrap();
        sqlx::query("UPDATE post_targets SET status = 'published', published_at = $1 WHERE id = $2")
            .bind(at)
            .bind(targets[0].id.to_db())
            .execute(h.store.sql_for_tests())
            .await
            .unwrap();
        let s = NewSnapshot {
            account_id: ig,
            target_id: Some(targets[0].id),
            platform: Platform::Instagram,
            captured_at: at + 1,
            values: MetricValues { reach: Some(100), likes: Some(i + 1), ..Default::default() },
            raw: serde_json::json!({}),
        };
        h.store.insert_metrics_snapshot(a, &s).await.unwrap();
    }
    let mark = h.tg.mark();
    let text = h.say(ALICE, "/besttime", "Best time to post").await;
    assert!(text.text.contains("Instagram</b>: 21 measured posts"), "{}", text.text);
    assert!(text.text.contains("Facebook</b>: not enough data"), "{}", text.text);
    assert!(text.has_button(&en("bot.besttime.btn_add")));
    let photo = h.tg.wait_call(mark, |c| c.method.eq_ignore_ascii_case("sendPhoto")).await;
    let bytes = h.tg.uploaded(photo.seq).expect("the upload's bytes");
    let decoder = png::Decoder::new(std::io::Cursor::new(&bytes));
    let reader = decoder.read_info().unwrap();
    let info = reader.info();
    assert_eq!((info.width, info.height), (960, 400));

    // The suggested slots go to the queue slots (Instagram's top 3 hours, Facebook's defaults).
    h.press(ALICE, &text, &en("bot.besttime.btn_add"), "slot(s) added").await;
    let slots_now = h.store.queue_slots(a, None).await.unwrap();
    assert!(slots_now.len() >= 3, "{slots_now:?}");
});
