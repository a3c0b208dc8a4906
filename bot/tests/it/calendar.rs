//! `/calendar` in the chat: this week as a PNG photo whose chips are the workspace's posts in their platforms'
//! colours, placed in the workspace's zone; a button per day with posts opening the day's list and from there a
//! post's card; ‹ › and Week/Month editing the photo in place (editMessageMedia); another workspace's posts never
//! shown; forged or stale day buttons answered.

use crate::common;

use chrono::{Datelike, Duration, NaiveDate, TimeZone, Utc};
use common::{en, ALICE, BOB};
use tochen_delivery::reports::calendar::{self as picture, Rect};
use tochen_domain::{AccountId, Platform, PostStatus, TenantId};
use tochen_store::Post;
use tochen_telegram::button::{Button, Calendar};
use tochen_testkit::fake_telegram::BotMessage;

const ZONE: chrono_tz::Tz = chrono_tz::Asia::Tokyo;

/// A post titled `title` on `accounts` at local `day` `hour`:`minute` in [`ZONE`], in `status` (published ones
/// with their targets published then).
async fn post(
    h: &common::Harness,
    a: TenantId,
    title: &str,
    accounts: &[AccountId],
    at: (NaiveDate, u32, u32),
    status: PostStatus,
) -> Post {
    let when = ZONE.from_local_datetime(&at.0.and_hms_opt(at.1, at.2, 0).unwrap()).unwrap().timestamp_millis();
    let p = h.store.create_draft(a, None, None, title, "").await.unwrap();
    let pending = status == PostStatus::PendingApproval;
    let targets = h.store.schedule_post(a, p.id, p.version, when, accounts, pending).await.unwrap();
    if status == PostStatus::Published {
        for t in &targets {
            sqlx::query("UPDATE post_targets SET status = 'published', published_at = $1 WHERE id = $2")
                .bind(when)
                .bind(t.id.to_db())
                .execute(h.store.sql_for_tests())
                .await
                .unwrap();
        }
    }
    sqlx::query("UPDATE posts SET status = $1, scheduled_at = $2 WHERE id = $3")
        .bind(status.as_str())
        .bind(when)
        .bind(p.id.to_db())
        .execute(h.store.sql_for_tests())
        .await
        .unwrap();
    h.store.post(a, p.id).await.unwrap()
}

async fn in_zone(h: &common::Harness, a: TenantId) {
    let mut profile = h.store.tenant(a).await.unwrap().profile;
    profile.timezone = ZONE.name().into();
    h.store.update_tenant_profile(a, &profile).await.unwrap();
}

/// The PNG the call at or after `since` with `method` uploaded, decoded: (width, height, RGB bytes).
async fn picture_sent(h: &common::Harness, since: usize, method: &str) -> (u32, u32, Vec<u8>) {
    let call = h.tg.wait_call(since, |c| c.method == method && c.params.get("__failed").is_none()).await;
    let bytes = h.tg.uploaded(call.seq).unwrap_or_else(|| panic!("{method} carried no file: {:?}", call.params));
    let decoder = png::Decoder::new(std::io::Cursor::new(bytes));
    let mut reader = decoder.read_info().unwrap();
    let mut buf = vec![0; reader.output_buffer_size()];
    let info = reader.next_frame(&mut buf).unwrap();
    assert_eq!(info.color_type, png::ColorType::Rgb);
    (info.width, info.height, buf)
}

fn has_colour(pic: &(u32, u32, Vec<u8>), r: Rect, p: Platform) -> bool {
    let (r0, g0, b0) = tochen_platforms::registry::module(p).colour();
    let (w, _, buf) = pic;
    (r.y0..r.y1).any(|y| {
        (r.x0..r.x1).any(|x| {
            let i = ((y * w + x) * 3) as usize;
            buf[i..i + 3] == [r0, g0, b0]
        })
    })
}

/// The days the message's day buttons open.
fn day_buttons(m: &BotMessage) -> Vec<NaiveDate> {
    m.buttons
        .iter()
        .flatten()
        .filter_map(|(_, data)| match Button::decode(data) {
            Some(Button::Calendar(Calendar::Day(n))) => Some(NaiveDate::default() + Duration::days(i64::from(n))),
            _ => None,
        })
        .collect()
}

bot_test!(the_calendar_draws_the_weeks_and_months_posts_and_opens_a_days_posts, |h| {
    let a = h.onboard(ALICE, "Alpha").await;
    in_zone(&h, a).await;
    let accounts = h.connect_accounts(a).await;
    let (ig, fb) = (accounts[0].id, accounts[1].id);
    let today = Utc::now().with_timezone(&ZONE).date_naive();
    let monday = today - Duration::days(i64::from(today.weekday().num_days_from_monday()));
    let (wed, fri, next_tue) = (monday + Duration::days(2), monday + Duration::days(4), monday + Duration::days(8));
    // 09:30 in Tokyo is 00:30 UTC: read in UTC it would be an hour row before 06:00.
    let bread = post(&h, a, "Morning bread", &[ig, fb], (monday, 9, 30), PostStatus::Published).await;
    post(&h, a, "Cake day", &[ig], (wed, 18, 0), PostStatus::Scheduled).await;
    post(&h, a, "Owner's pick", &[fb], (wed, 20, 0), PostStatus::PendingApproval).await;
    post(&h, a, "Broken video", &[ig], (fri, 10, 0), PostStatus::Failed).await;
    post(&h, a, "Next week's soup", &[fb], (next_tue, 12, 0), PostStatus::Scheduled).await;
    let cancelled = post(&h, a, "Called off", &[fb], (fri, 11, 0), PostStatus::Cancelled).await;
    // Another workspace's post on Tuesday: never on Alice's calendar.
    let b = h.onboard(BOB, "Beta").await;
    in_zone(&h, b).await;
    let theirs = h.connect_accounts(b).await[0].id;
    post(&h, b, "Their secret", &[theirs], (monday + Duration::days(1), 9, 0), PostStatus::Scheduled).await;

    // This week: a PNG of the stated size, each post in its day and hour in its platforms' colours.
    let mark = h.tg.mark();
    let week =
        h.say(ALICE, "/calendar", "Posts: 4 · published 1 · scheduled 1 · waiting for approval 1 · failed 1").await;
    assert!(week.photo, "the calendar is a photo");
    assert!(week.text.contains("Asia/Tokyo"), "{}", week.text);
    let pic = picture_sent(&h, mark, "sendphoto").await;
    assert_eq!((pic.0, pic.1), (picture::WEEK_WIDTH, picture::WEEK_HEIGHT));
    let cell = |day: usize, hour: u32| picture::week_cell(picture::DAY_START_HOUR, day, hour);
    assert!(has_colour(&pic, cell(0, 9), Platform::Instagram));
    assert!(has_colour(&pic, cell(0, 9), Platform::Facebook));
    assert!(has_colour(&pic, cell(2, 18), Platform::Instagram));
    assert!(has_colour(&pic, cell(2, 20), Platform::Facebook));
    assert!(has_colour(&pic, cell(4, 10), Platform::Instagram));
    // Bob's Tuesday post and the cancelled one are not drawn; nothing in UTC's hours.
    assert!(!has_colour(&pic, cell(1, 9), Platform::Instagram));
    assert!(!has_colour(&pic, cell(4, 11), Platform::Facebook));
    assert!(!has_colour(&pic, cell(0, 6), Platform::Instagram));
    // A button per day with posts, and only those.
    assert_eq!(day_buttons(&week), vec![monday, wed, fri]);

    // The day's list names its posts; a post opens its card.
    let mark = h.tg.mark();
    h.tg.press(ALICE, &week, &format!("Mon {} (1)", monday.format("%d")));
    let list = h.tg.said(ALICE, mark, "Morning bread").await;
    assert_ne!(list.message_id, week.message_id, "the list is a new message; the calendar stays");
    assert!(list.text.contains("09:30") && list.text.contains("Facebook, Instagram"), "{}", list.text);
    assert!(!list.text.contains("Their secret"), "{}", list.text);
    let card = h.press(ALICE, &list, "09:30 Morning bread", "Morning bread").await;
    assert!(card.has_button(&en("bot.library.btn_open")), "{:?}", card.buttons);
    let _ = bread;

    // Next week: the same message, its photo replaced.
    let mark = h.tg.mark();
    let next = h.press(ALICE, &week, &en("bot.calendar.btn_next_week"), "Posts: 1 ·").await;
    assert_eq!(next.message_id, week.message_id, "edited in place");
    let pic = picture_sent(&h, mark, "editmessagemedia").await;
    assert_eq!((pic.0, pic.1), (picture::WEEK_WIDTH, picture::WEEK_HEIGHT));
    assert!(has_colour(&pic, cell(1, 12), Platform::Facebook));
    assert!(!has_colour(&pic, cell(0, 9), Platform::Instagram));
    assert_eq!(day_buttons(&next), vec![next_tue]);
    // And back.
    let mark = h.tg.mark();
    let back = h.press(ALICE, &next, &en("bot.calendar.btn_prev_week"), "Posts: 4 ·").await;
    assert_eq!(day_buttons(&back), vec![monday, wed, fri]);
    picture_sent(&h, mark, "editmessagemedia").await;

    // The month: a grid of days, a chip per platform in each day with posts.
    let mark = h.tg.mark();
    // This week's month is today's (the week may begin in the month before).
    let month_name = en("bot.calendar.months").split(',').nth(today.month0() as usize).unwrap().to_owned();
    let month = h.press(ALICE, &back, &en("bot.calendar.btn_month"), &format!("{month_name} {}", today.year())).await;
    assert_eq!(month.message_id, week.message_id);
    let pic = picture_sent(&h, mark, "editmessagemedia").await;
    assert_eq!((pic.0, pic.1), (picture::MONTH_WIDTH, picture::MONTH_HEIGHT));
    let day_cell = |d: NaiveDate| {
        let (r, c) = picture::month_position(today, d).unwrap();
        picture::month_cell(r, c)
    };
    assert!(has_colour(&pic, day_cell(monday), Platform::Instagram));
    assert!(has_colour(&pic, day_cell(monday), Platform::Facebook));
    assert!(has_colour(&pic, day_cell(fri), Platform::Instagram));
    assert!(!has_colour(&pic, day_cell(monday + Duration::days(1)), Platform::Instagram));
    let month_days = day_buttons(&month);
    for d in [monday, wed, fri, next_tue] {
        assert_eq!(month_days.contains(&d), d.month() == today.month(), "{d}: {month_days:?}");
    }
    h.press(ALICE, &month, &en("bot.calendar.btn_week"), "Posts:").await;

    // A day with no posts (or a forged day) is answered, not ignored.
    let empty_day =
        Button::Calendar(Calendar::Day((monday + Duration::days(1) - NaiveDate::default()).num_days() as i32));
    h.press_data_refused(ALICE, &week, &empty_day.encode(), "No posts on this day").await;
    h.press_data_refused(ALICE, &week, "cvs:w:-2147483648", "out of date").await;
    let _ = cancelled;
});

bot_test!(a_busy_days_list_has_pages_edited_in_place, |h| {
    let a = h.onboard(ALICE, "Alpha").await;
    in_zone(&h, a).await;
    let ig = h.connect_accounts(a).await[0].id;
    let today = Utc::now().with_timezone(&ZONE).date_naive();
    let monday = today - Duration::days(i64::from(today.weekday().num_days_from_monday()));
    for i in 0..12u32 {
        post(&h, a, &format!("Slot {i:02}"), &[ig], (monday, 8 + i, 0), PostStatus::Scheduled).await;
    }
    let week = h.say(ALICE, "/calendar", "Posts: 12").await;
    let mark = h.tg.mark();
    h.tg.press(ALICE, &week, &format!("Mon {} (12)", monday.format("%d")));
    let first = h.tg.said(ALICE, mark, "Slot 00").await;
    assert!(first.text.contains("Slot 09") && !first.text.contains("Slot 10"), "{}", first.text);
    assert!(first.text.contains("1/2"), "{}", first.text);
    assert!(first.has_button("›") && !first.has_button("‹"), "{:?}", first.buttons);
    let second = h.press(ALICE, &first, "›", "Slot 11").await;
    assert_eq!(second.message_id, first.message_id, "the list is edited in place");
    assert!(!second.text.contains("Slot 09") && second.text.contains("2/2"), "{}", second.text);
    assert!(second.has_button("19:00 Slot 11") && second.has_button("‹"), "{:?}", second.buttons);
    let back = h.press(ALICE, &second, "‹", "Slot 00").await;
    assert_eq!(back.message_id, first.message_id);
    // A page past the end (the day emptied since) shows the last page.
    let past = Button::Calendar(Calendar::DayPage((monday - NaiveDate::default()).num_days() as i32, 9));
    let mark = h.tg.mark();
    h.tg.press_as(back.chat_id, ALICE, back.message_id, &past.encode());
    let last = h.tg.said(back.chat_id, mark, "Slot 11").await;
    assert!(last.text.contains("2/2"), "{}", last.text);
});
