//! The draft shown as its image (a preview too long for a caption goes below the photo), and approval cards
//! that reach every admin and the team chat as durable notify jobs, where the first decision wins.

mod common;

use common::{en, ALICE, BOB, DAVE};
use tochen_core::domain::PostStatus;

const GROUP: i64 = -100_500;

bot_test!(a_long_draft_keeps_its_photo_with_a_short_caption_and_the_full_preview_below, |h| {
    let a = h.onboard(ALICE, "Alpha").await;
    h.connect_accounts(a).await;
    let m = h.say(ALICE, "/idea", "Ideas for").await;
    let draft = h.press(ALICE, &m, "1", "Draft:").await;
    h.press(ALICE, &draft, &en("bot.draft.btn_edit"), "Send the new text").await;
    let draft = h.say(ALICE, &"long coffee story ".repeat(80), "Draft:").await;
    assert!(draft.text.chars().count() > 1024, "the preview is longer than a caption");

    let mark = h.tg.mark();
    h.tg.press(ALICE, &draft, &en("bot.draft.btn_image"));
    let below = h.tg.said(ALICE, mark, "Image attached").await;
    assert!(!below.photo && below.has_button(&en("bot.draft.btn_schedule")), "full preview with buttons: {below:#?}");
    let photo = h.tg.messages_in(ALICE).into_iter().rev().find(|m| m.photo).expect("the draft's photo was sent");
    assert!(photo.message_id < below.message_id, "the photo comes first");
    assert!(photo.text.contains("Draft:") && photo.text.chars().count() <= 1024, "short caption: {photo:#?}");
    assert!(photo.buttons.is_empty(), "the buttons sit under the full preview");

    // The next screen edits the preview message in place.
    let when = h.press(ALICE, &below, &en("bot.draft.btn_schedule"), "When?").await;
    assert_eq!(when.message_id, below.message_id);
});

bot_test!(approval_cards_reach_every_admin_and_the_team_chat_and_the_first_decision_wins, |h| {
    let a = h.onboard(ALICE, "Alpha").await;
    h.connect_accounts(a).await;
    h.store.set_team_chat(a, Some(GROUP)).await.unwrap();
    for (who, role, joined) in [(DAVE, "bot.role.admin", "as admin"), (BOB, "bot.role.editor", "as editor")] {
        let m = h.say(ALICE, "/invite", "Which role").await;
        let m = h.press(ALICE, &m, &en(role), "start=inv_").await;
        let code = m.text.split("start=").nth(1).unwrap().split_whitespace().next().unwrap().to_owned();
        h.say(who, &format!("/start {code}"), joined).await;
    }

    // Bob drafts with an image and schedules: the post waits, and a card is queued per admin and for the group.
    let m = h.say(BOB, "/idea", "Ideas for").await;
    let m = h.press(BOB, &m, "1", "Draft:").await;
    let m = h.press(BOB, &m, &en("bot.draft.btn_image"), "Image attached").await;
    h.press(BOB, &m, &en("bot.draft.btn_schedule"), "When?").await;
    let m = h.say(BOB, "tomorrow 9:30", "Post to").await;
    h.press(BOB, &m, &en("bot.schedule.btn_confirm"), "Sent for approval").await;
    let post = h.store.posts_with_status(a, &[PostStatus::PendingApproval], 0, 1).await.unwrap().remove(0);
    let mark = h.tg.mark();
    let mut chats: Vec<i64> = h.run_notify_jobs().await.iter().map(|c| c.chat_id).collect();
    chats.sort();
    assert_eq!(chats, vec![GROUP, ALICE, DAVE]);
    let alices = h.tg.said(ALICE, mark, "drafted a post").await;
    let daves = h.tg.said(DAVE, mark, "drafted a post").await;
    h.tg.said(GROUP, mark, "drafted a post").await;
    assert!(h.run_notify_jobs().await.is_empty(), "each card is sent once");

    // Alice approves first: her card shows it, Dave's stale card says it was already decided, Bob hears it.
    let mark = h.tg.mark();
    let decided = h.press(ALICE, &alices, &en("bot.approval.btn_approve"), "Approved by").await;
    assert_eq!(decided.message_id, alices.message_id);
    assert!(decided.buttons.is_empty());
    h.tg.said(BOB, mark, "was approved").await;
    let approve = daves.button(&en("bot.approval.btn_approve")).unwrap();
    h.press_data_refused(DAVE, &daves, &approve, "already approved").await;
    let reject = daves.button(&en("bot.approval.btn_reject")).unwrap();
    h.press_data_refused(DAVE, &daves, &reject, "already approved").await;
    assert_eq!(h.store.post(a, post.id).await.unwrap().status, PostStatus::Scheduled);
});

bot_test!(a_rejection_is_shown_on_the_card_the_admin_pressed_and_the_author_hears_why, |h| {
    let a = h.onboard(ALICE, "Alpha").await;
    h.connect_accounts(a).await;
    let m = h.say(ALICE, "/invite", "Which role").await;
    let m = h.press(ALICE, &m, &en("bot.role.editor"), "start=inv_").await;
    let code = m.text.split("start=").nth(1).unwrap().split_whitespace().next().unwrap().to_owned();
    h.say(BOB, &format!("/start {code}"), "as editor").await;
    let m = h.say(BOB, "/idea", "Ideas for").await;
    let m = h.press(BOB, &m, "1", "Draft:").await;
    let m = h.press(BOB, &m, &en("bot.draft.btn_image"), "Image attached").await;
    h.press(BOB, &m, &en("bot.draft.btn_schedule"), "When?").await;
    let m = h.say(BOB, "tomorrow 9:30", "Post to").await;
    h.press(BOB, &m, &en("bot.schedule.btn_confirm"), "Sent for approval").await;
    let mark = h.tg.mark();
    h.run_notify_jobs().await;
    let card = h.tg.said(ALICE, mark, "drafted a post").await;

    h.press(ALICE, &card, &en("bot.approval.btn_reject"), "Why are you rejecting").await;
    let mark = h.tg.mark();
    h.tg.send_text(ALICE, "too sweet for our tone");
    let decided = h.tg.said(ALICE, mark, "Rejected").await;
    assert_eq!(decided.message_id, card.message_id, "the card shows the rejection in place");
    assert!(decided.buttons.is_empty());
    h.tg.said(BOB, mark, "too sweet for our tone").await;
    let post = h.store.posts_with_status(a, &[PostStatus::Rejected], 0, 1).await.unwrap();
    assert_eq!(post.len(), 1);
});
