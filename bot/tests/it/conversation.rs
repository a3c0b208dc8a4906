//! The feel of the conversation: replies within Telegram's text limits however long the input (the fake Bot API
//! refuses longer ones, as Telegram does), dates in the person's language, only the buttons a role may press,
//! private chats answered at human speed without waiting behind the group limit, and `/drafts` and `/history`
//! newest first with pages.

use crate::common;

use common::{en, ALICE, BOB, CAROL};
use serde_json::json;
use tochen_domain::i18n::t;
use tochen_domain::PostStatus;
use tochen_domain::{AccountId, TenantId};
use tochen_store::{NewDestination, Post};
use tochen_telegram::text::visible_len;
use tochen_testkit::fake_llm::Reply;

/// A scheduled post's time in tests: Thursday 5 December 2030, 12:00 UTC (12:00 in Europe/London).
const THU_5_DEC_2030_NOON: i64 = 1_922_702_400_000;

/// A draft titled `title`, with text on Instagram.
async fn draft(h: &common::Harness, a: TenantId, title: &str) -> Post {
    let post = h.store.create_draft(a, None, None, title, "an idea").await.unwrap();
    let content = tochen_store::PostContent {
        platform: tochen_domain::Platform::Instagram,
        body: format!("{title}: the text"),
        hashtags: vec![],
        link: None,
        custom: false,
    };
    h.store.set_post_content(a, post.id, &content).await.unwrap();
    h.store.post(a, post.id).await.unwrap()
}

/// Sets a post's times and status directly, as if it had been created and gone out then.
async fn set_times(h: &common::Harness, post: &Post, created_at: i64, out: Option<(PostStatus, i64)>) {
    let (status, at) = out.map_or((post.status.as_str().to_owned(), None), |(s, at)| (s.as_str().to_owned(), Some(at)));
    sqlx::query("UPDATE posts SET created_at = $1, status = $2, scheduled_at = $3 WHERE id = $4")
        .bind(created_at)
        .bind(status)
        .bind(at)
        .bind(post.id.to_db())
        .execute(h.store.sql_for_tests())
        .await
        .unwrap();
}

/// Alice's workspace with Bob as editor and Carol as viewer, each having joined through an invite link; the
/// messages Bob and Carol got on joining.
async fn team(h: &common::Harness) -> (TenantId, Vec<AccountId>, [tochen_testkit::fake_telegram::BotMessage; 2]) {
    let a = h.onboard(ALICE, "Alpha").await;
    let accounts = h.connect_accounts(a).await.into_iter().map(|x| x.id).collect();
    let mut joined = Vec::new();
    for (who, role, needle) in [(BOB, "bot.role.editor", "as editor"), (CAROL, "bot.role.viewer", "as viewer")] {
        let m = h.say(ALICE, "/invite", "Which role").await;
        let m = h.press(ALICE, &m, &en(role), "start=inv_").await;
        let code = m.text.split("start=").nth(1).unwrap().split_whitespace().next().unwrap().to_owned();
        joined.push(h.say(who, &format!("/start {code}"), needle).await);
    }
    let [bob, carol]: [_; 2] = joined.try_into().unwrap();
    (a, accounts, [bob, carol])
}

bot_test!(a_five_thousand_character_answer_at_the_time_prompt_gets_a_short_reply, |h| {
    let a = h.onboard(ALICE, "Alpha").await;
    h.connect_accounts(a).await;
    let m = h.say(ALICE, "/idea", "Ideas for").await;
    let d = h.press(ALICE, &m, "1", "Draft:").await;
    h.press(ALICE, &d, &en("bot.draft.btn_schedule"), "When?").await;
    let answer = "x".repeat(5000);
    let reply = h.say(ALICE, &answer, "as a time").await;
    // The reply quotes only the start of the answer; the whole of it would be over Telegram's 4,096.
    assert!(reply.text.contains(&format!("{}…", "x".repeat(100))), "{}", reply.text);
    assert!(visible_len(&reply.text) < 500, "{} characters", reply.text.chars().count());
    // The conversation goes on: a good time is still taken.
    h.say(ALICE, "2030-12-05 14:30", "Post to").await;
});

bot_test!(a_long_emoji_draft_keeps_its_photo_and_shows_the_full_preview_below_it, |h| {
    let a = h.onboard(ALICE, "Alpha").await;
    h.connect_accounts(a).await;
    let m = h.say(ALICE, "/idea", "Ideas for").await;
    // Fewer than 1,024 characters, but every 🍂 counts twice for Telegram: over a caption's limit.
    let body = format!("Autumn menu {}", "🍂".repeat(300));
    let post = |p: &str| json!({"platform": p, "body": body, "hashtags": ["autumn"]});
    h.llm.push(Reply::Json(
        json!({"title": "Leaves", "image_prompt": "leaves", "posts": [post("instagram"), post("facebook")]}),
    ));
    let d = h.press(ALICE, &m, "1", "Draft:").await;
    assert!(d.text.chars().count() < 1024 && visible_len(&d.text) > 1024, "{}", d.text.chars().count());

    let mark = h.tg.mark();
    h.tg.press(ALICE, &d, &en("bot.draft.btn_image"));
    let below = h.tg.said(ALICE, mark, "Image attached").await;
    let photo = h.tg.messages_in(ALICE).into_iter().rev().find(|m| m.photo).expect("the draft's photo was sent");
    assert!(photo.text.contains("Leaves") && visible_len(&photo.text) <= 1024, "{photo:#?}");
    assert!(!below.photo && below.text.contains(&body), "the full preview below: {below:#?}");
    assert!(below.has_button(&en("bot.draft.btn_schedule")));
    let refused = h.tg.calls().iter().skip(mark).filter(|c| c.params["__failed"] == true).count();
    assert_eq!(refused, 0, "Telegram refused nothing");
});

bot_test!(a_notice_about_a_post_with_a_very_long_title_still_reaches_the_chat, |h| {
    let a = h.onboard(ALICE, "Alpha").await;
    let accounts = h.connect_accounts(a).await;
    let title = "Autumn menu ".repeat(450);
    let post = h.store.create_draft(a, None, Some(ALICE), &title, "idea").await.unwrap();
    let targets =
        h.store.schedule_post(a, post.id, post.version, THU_5_DEC_2030_NOON, &[accounts[0].id], false).await.unwrap();
    tochen_scheduler::handlers::results::mark_failed(
        &h.store,
        a,
        targets[0].id,
        &[tochen_domain::TargetStatus::Pending],
        "permanent",
        "refused",
        None,
    )
    .await
    .unwrap();
    let mark = h.tg.mark();
    // A notice over the limit would be refused for good, and the job would fail here.
    let sent = h.run_notify_jobs().await;
    assert!(sent.iter().any(|m| visible_len(&m.text_html) > 4096), "the notice was longer than Telegram takes");
    let m = h.tg.said(ALICE, mark, "Autumn menu").await;
    assert!(visible_len(&m.text) <= 4096 && m.text.contains('…'), "{} characters", m.text.chars().count());
});

bot_test!(a_russian_speaker_reads_dates_in_russian, |h| {
    let a = h.onboard(ALICE, "Alpha").await;
    let accounts: Vec<AccountId> = h.connect_accounts(a).await.into_iter().map(|x| x.id).collect();
    let post = draft(&h, a, "Осеннее меню").await;
    h.store.schedule_post(a, post.id, post.version, THU_5_DEC_2030_NOON, &accounts, false).await.unwrap();
    let alice = h.store.user_by_telegram_id(ALICE).await.unwrap().unwrap();
    h.store.set_user_language(alice.id, Some("ru")).await.unwrap();

    let list = h.say(ALICE, "/queue", &t("ru", "bot.status.scheduled")).await;
    assert!(list.text.contains("Чт 05 дек 2030, 12:00 (Europe/London)"), "{}", list.text);
    assert!(!list.text.contains("Thu") && !list.text.contains("Dec"), "{}", list.text);
    let item = h.press(ALICE, &list, "1.", "Осеннее меню").await;
    assert!(item.text.contains("Чт 05 дек 2030"), "{}", item.text);
    // The same moment for a German speaker.
    h.store.set_user_language(alice.id, Some("de")).await.unwrap();
    let list = h.say(ALICE, "/queue", &t("de", "bot.status.scheduled")).await;
    assert!(list.text.contains("Do., 05. Dez. 2030, 12:00"), "{}", list.text);
});

bot_test!(editors_and_viewers_are_not_offered_admin_only_buttons, |h| {
    let (a, accounts, [bob_joined, carol_joined]) = team(&h).await;
    let admin_only = [en("bot.menu.invite"), en("bot.menu.connect")];
    // Joining: an editor may get ideas, a viewer only reads.
    assert!(bob_joined.has_button(&en("bot.menu.ideas")), "{bob_joined:#?}");
    assert!(admin_only.iter().all(|b| !bob_joined.has_button(b)), "{bob_joined:#?}");
    assert!(carol_joined.buttons.is_empty(), "{carol_joined:#?}");
    // Coming back.
    let m = h.say(BOB, "/start", "Welcome back").await;
    assert!(m.has_button(&en("bot.menu.ideas")) && admin_only.iter().all(|b| !m.has_button(b)), "{m:#?}");
    assert!(h.say(CAROL, "/start", "Welcome back").await.buttons.is_empty());
    // The admin still gets all of them.
    let m = h.say(ALICE, "/start", "Welcome back").await;
    assert!(admin_only.iter().all(|b| m.has_button(b)), "{m:#?}");

    // A post waiting for approval: publishing it now approves it, which only an admin may do.
    let waiting = draft(&h, a, "Waiting").await;
    h.store.schedule_post(a, waiting.id, waiting.version, THU_5_DEC_2030_NOON, &accounts, true).await.unwrap();
    let list = h.say(BOB, "/queue", "Upcoming").await;
    let item = h.press(BOB, &list, "1.", "Waiting").await;
    assert!(item.has_button(&en("bot.queue.btn_reschedule")), "{item:#?}");
    assert!(!item.has_button(&en("bot.queue.btn_now")), "{item:#?}");
    let list = h.say(ALICE, "/queue", "Upcoming").await;
    let item = h.press(ALICE, &list, "1.", "Waiting").await;
    assert!(item.has_button(&en("bot.queue.btn_now")), "{item:#?}");

    // A viewer opens a draft to read it: no button that changes it.
    draft(&h, a, "Readable").await;
    let list = h.say(CAROL, "/drafts", "Drafts").await;
    let screen = h.press(CAROL, &list, "Readable", "Draft:").await;
    for b in ["bot.draft.btn_edit", "bot.draft.btn_schedule", "bot.draft.btn_discard", "bot.draft.btn_image"] {
        assert!(!screen.has_button(&en(b)), "{b}: {screen:#?}");
    }
    let list = h.say(BOB, "/drafts", "Drafts").await;
    let screen = h.press(BOB, &list, "Readable", "Draft:").await;
    assert!(screen.has_button(&en("bot.draft.btn_edit")), "{screen:#?}");

    // Team, accounts and destinations: reading is for everyone, changing for admins.
    let m = h.say(BOB, "/team", "Team of").await;
    assert!(m.buttons.is_empty(), "{m:#?}");
    let m = h.say(CAROL, "/accounts", "bloomcoffee").await;
    assert!(m.buttons.is_empty(), "{m:#?}");
    let new = NewDestination::Email { name: "Boss".into(), address: "boss@example.com".into() };
    h.store.create_destination(a, &new).await.unwrap();
    let m = h.say(CAROL, "/destinations", "Boss").await;
    assert!(!m.has_button("🗑"), "{m:#?}");
    let m = h.say(ALICE, "/destinations", "Boss").await;
    assert!(m.has_button("🗑"), "{m:#?}");
});

bot_test!(
    a_person_at_one_action_a_second_is_answered_before_the_next_action,
    limits = tochen_bot::telegram_limits(),
    |h| {
        // Production's limits. teloxide's defaults held a private chat to 20 messages a minute, so from the 21st
        // action on each reply waited for the minute window: the person was answered further and further behind.
        let start = tokio::time::Instant::now();
        for i in 0..30u64 {
            tokio::time::sleep_until(start + std::time::Duration::from_secs(i)).await;
            let mark = h.tg.mark();
            h.tg.send_text(ALICE, "/help");
            // No backlog: this action's reply arrives before the next action is sent.
            h.tg.said(ALICE, mark, "What I can do").await;
            assert_eq!(h.tg.count(0, "sendmessage"), i as usize + 1, "reply {i} and no other is out");
        }
    }
);

bot_test!(drafts_are_listed_newest_first_with_pages, |h| {
    let a = h.onboard(ALICE, "Alpha").await;
    for i in 1..=25 {
        let p = draft(&h, a, &format!("Draft {i:02}")).await;
        set_times(&h, &p, 1_700_000_000_000 + i * 60_000, None).await;
    }
    let labels = |m: &tochen_testkit::fake_telegram::BotMessage| {
        m.buttons.iter().flatten().map(|(l, _)| l.clone()).filter(|l| l.starts_with("Draft")).collect::<Vec<_>>()
    };
    let page = h.say(ALICE, "/drafts", "Drafts").await;
    assert_eq!(labels(&page), (16..=25).rev().map(|i| format!("Draft {i:02}")).collect::<Vec<_>>());
    assert!(page.has_button("›") && !page.has_button("‹"));
    let page = h.press(ALICE, &page, "›", "page 2").await;
    assert_eq!(labels(&page), (6..=15).rev().map(|i| format!("Draft {i:02}")).collect::<Vec<_>>());
    let page = h.press(ALICE, &page, "›", "page 3").await;
    assert_eq!(labels(&page), (1..=5).rev().map(|i| format!("Draft {i:02}")).collect::<Vec<_>>());
    assert!(!page.has_button("›") && page.has_button("‹"));
    let page = h.press(ALICE, &page, "‹", "page 2").await;
    assert_eq!(labels(&page)[0], "Draft 15");
});

bot_test!(history_lists_the_latest_posts_first_with_pages, |h| {
    let a = h.onboard(ALICE, "Alpha").await;
    // Created in one order, gone out in the opposite one: history follows when they went out.
    for i in 1..=7i64 {
        let p = draft(&h, a, &format!("Post {i:02}")).await;
        let out = THU_5_DEC_2030_NOON - (10 - i) * 86_400_000;
        set_times(&h, &p, 1_700_000_000_000 - i * 60_000, Some((PostStatus::Published, out))).await;
    }
    let order = |text: &str| {
        let mut found: Vec<(usize, String)> =
            (1..=7).map(|i| format!("Post {i:02}")).filter_map(|p| text.find(&p).map(|at| (at, p))).collect();
        found.sort();
        found.into_iter().map(|(_, p)| p).collect::<Vec<_>>()
    };
    let page = h.say(ALICE, "/history", "History").await;
    assert_eq!(order(&page.text), ["Post 07", "Post 06", "Post 05", "Post 04", "Post 03"]);
    assert!(page.has_button("›") && !page.has_button("‹"));
    let page = h.press(ALICE, &page, "›", "page 2").await;
    assert_eq!(order(&page.text), ["Post 02", "Post 01"]);
    assert!(!page.has_button("›") && page.has_button("‹"));
});
