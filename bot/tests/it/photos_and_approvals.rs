//! The draft shown as its image (a preview too long for a caption goes below the photo), and approval cards
//! that reach every admin and the team chat as durable notify jobs (run here by the scheduler's own notify
//! handler), where the first decision wins and shows on every card; a waiting post that is moved is submitted
//! again (old cards say so, new cards decide), one that is withdrawn says so on every card, and an admin's
//! "publish now" approves it.

use crate::common;

use common::{en, ALICE, BOB, DAVE};
use serde_json::json;
use tochen_domain::TenantId;
use tochen_domain::{JobState, PostStatus};
use tochen_store::Post;
use tochen_testkit::fake_telegram::BotMessage;

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

/// Alice (admin) with Dave (admin) and Bob (editor) in her workspace, whose team chat is `GROUP`.
async fn team(h: &common::Harness) -> TenantId {
    let a = h.onboard(ALICE, "Alpha").await;
    h.connect_accounts(a).await;
    h.store.set_team_chat(a, Some(GROUP)).await.unwrap();
    for (who, role, joined) in [(DAVE, "bot.role.admin", "as admin"), (BOB, "bot.role.editor", "as editor")] {
        let m = h.say(ALICE, "/invite", "Which role").await;
        let m = h.press(ALICE, &m, &en(role), "start=inv_").await;
        let code = m.text.split("start=").nth(1).unwrap().split_whitespace().next().unwrap().to_owned();
        h.say(who, &format!("/start {code}"), joined).await;
    }
    a
}

/// Bob drafts with an image and schedules it: the post waits for approval. Returns it.
async fn bob_submits(h: &common::Harness, a: TenantId) -> Post {
    let m = h.say(BOB, "/idea", "Ideas for").await;
    let m = h.press(BOB, &m, "1", "Draft:").await;
    let m = h.press(BOB, &m, &en("bot.draft.btn_image"), "Image attached").await;
    h.press(BOB, &m, &en("bot.draft.btn_schedule"), "When?").await;
    let m = h.say(BOB, "tomorrow 9:30", "Post to").await;
    h.press(BOB, &m, &en("bot.schedule.btn_confirm"), "Sent for approval").await;
    h.store.posts_with_status(a, &[PostStatus::PendingApproval], 0, 1).await.unwrap().remove(0)
}

fn edits_in(h: &common::Harness, chat: i64, since: usize) -> usize {
    h.tg.calls()
        .iter()
        .skip(since)
        .filter(|c| c.method == "editmessagetext" && c.params["chat_id"].as_i64() == Some(chat))
        .count()
}

bot_test!(approval_cards_reach_every_admin_and_the_team_chat_and_the_first_decision_shows_on_all_of_them, |h| {
    let a = team(&h).await;
    let post = bob_submits(&h, a).await;
    // The cards were queued with the submission: one per admin and one for the group.
    let rows = h.store.approval_cards(a, post.id).await.unwrap();
    assert_eq!(rows.iter().map(|r| r.chat_id).collect::<Vec<_>>(), vec![GROUP, ALICE, DAVE]);
    assert!(rows.iter().all(|r| r.round == post.version && r.message_id.is_none()));
    let mark = h.tg.mark();
    let mut chats: Vec<i64> = h.run_notify_jobs().await.iter().map(|c| c.chat_id).collect();
    chats.sort();
    assert_eq!(chats, vec![GROUP, ALICE, DAVE]);
    let alices = h.tg.said(ALICE, mark, "drafted a post").await;
    let daves = h.tg.said(DAVE, mark, "drafted a post").await;
    let groups = h.tg.said(GROUP, mark, "drafted a post").await;
    assert!(h.run_notify_jobs().await.is_empty(), "each card is sent once");
    let rows = h.store.approval_cards(a, post.id).await.unwrap();
    let sent: Vec<_> = rows.iter().map(|r| (r.chat_id, r.message_id)).collect();
    assert_eq!(
        sent,
        vec![(GROUP, Some(groups.message_id)), (ALICE, Some(alices.message_id)), (DAVE, Some(daves.message_id))]
    );

    // Alice approves first: her card shows it at once, Bob hears it.
    let mark = h.tg.mark();
    let decided = h.press(ALICE, &alices, &en("bot.approval.btn_approve"), "Approved by").await;
    assert_eq!(decided.message_id, alices.message_id);
    assert!(decided.buttons.is_empty());
    h.tg.said(BOB, mark, "was approved").await;
    // Until the edits arrive, a press on another card is told it was decided.
    let approve = daves.button(&en("bot.approval.btn_approve")).unwrap();
    h.press_data_refused(DAVE, &daves, &approve, "already approved").await;
    // The decision queued an edit for every other card: Dave's and the group's show who decided, without buttons.
    let mark = h.tg.mark();
    let mut edited: Vec<i64> = h.run_notify_jobs().await.iter().map(|c| c.chat_id).collect();
    edited.sort();
    assert_eq!(edited, vec![GROUP, DAVE]);
    for (chat, card) in [(DAVE, &daves), (GROUP, &groups)] {
        let now = h.tg.message(chat, card.message_id).unwrap();
        assert!(now.text.contains("Approved by User1001") && now.text.contains(&post.title), "{now:#?}");
        assert!(now.buttons.is_empty(), "{now:#?}");
    }
    assert_eq!(edits_in(&h, ALICE, mark), 0, "the card Alice pressed is not edited twice");
    let reject = daves.button(&en("bot.approval.btn_reject")).unwrap();
    h.press_data_refused(DAVE, &daves, &reject, "already approved").await;
    assert_eq!(h.store.post(a, post.id).await.unwrap().status, PostStatus::Scheduled);
});

bot_test!(a_rejection_is_shown_on_every_card_and_the_author_hears_why, |h| {
    let a = team(&h).await;
    let post = bob_submits(&h, a).await;
    let mark = h.tg.mark();
    h.run_notify_jobs().await;
    let card = h.tg.said(DAVE, mark, "drafted a post").await;
    let alices = h.tg.said(ALICE, mark, "drafted a post").await;
    let groups = h.tg.said(GROUP, mark, "drafted a post").await;

    h.press(DAVE, &card, &en("bot.approval.btn_reject"), "Why are you rejecting").await;
    let mark = h.tg.mark();
    h.tg.send_text(DAVE, "too sweet for our tone");
    let decided = h.tg.said(DAVE, mark, "Rejected").await;
    assert_eq!(decided.message_id, card.message_id, "the card shows the rejection in place");
    assert!(decided.buttons.is_empty());
    h.tg.said(BOB, mark, "too sweet for our tone").await;
    assert_eq!(h.store.post(a, post.id).await.unwrap().status, PostStatus::Rejected);

    // Alice's card and the group's show who rejected it and why.
    h.run_notify_jobs().await;
    for (chat, card) in [(ALICE, &alices), (GROUP, &groups)] {
        let now = h.tg.message(chat, card.message_id).unwrap();
        assert!(now.text.contains("Rejected by User1004") && now.text.contains("too sweet for our tone"), "{now:#?}");
        assert!(now.buttons.is_empty());
    }
});

bot_test!(a_card_that_is_gone_or_already_shows_the_outcome_is_not_retried, |h| {
    let a = team(&h).await;
    bob_submits(&h, a).await;
    let mark = h.tg.mark();
    h.run_notify_jobs().await;
    let alices = h.tg.said(ALICE, mark, "drafted a post").await;
    h.press(ALICE, &alices, &en("bot.approval.btn_approve"), "Approved by").await;
    // Dave deleted his card; the group's already shows the outcome (Telegram says "not modified").
    h.tg.fail_next("editmessagetext", 400, "Bad Request: message to edit not found", json!({}));
    h.tg.fail_next(
        "editmessagetext",
        400,
        "Bad Request: message is not modified: specified new message content and reply markup are exactly the same \
         as a current content and reply markup of the message",
        json!({}),
    );
    let mark = h.tg.mark();
    assert_eq!(h.run_notify_jobs().await.len(), 2, "both edits are done, not failed");
    assert_eq!(h.tg.count(mark, "editmessagetext"), 2, "each edit was tried once");
    assert!(h.store.tenant_jobs(a, JobState::Queued, 10).await.unwrap().iter().all(|j| j.kind != "notify"));
    assert!(h.store.tenant_jobs(a, JobState::Failed, 10).await.unwrap().is_empty());
});

bot_test!(a_card_whose_post_was_decided_before_it_went_out_is_not_sent, |h| {
    let a = team(&h).await;
    let post = bob_submits(&h, a).await;
    // Alice decides before any card went out (a forged press on another of her messages stands in for a card
    // that reached her some other way).
    let other = h.tg.messages_in(ALICE).pop().unwrap();
    let mark = h.tg.mark();
    h.tg.press_as(
        ALICE,
        ALICE,
        other.message_id,
        &tochen_telegram::button::Button::Approval(tochen_telegram::button::Approval::Approve(post.id, post.version))
            .encode(),
    );
    h.tg.said(ALICE, mark, "Approved by").await;
    h.tg.said(BOB, mark, "was approved").await;
    let mark = h.tg.mark();
    h.run_notify_jobs().await;
    assert_eq!(h.tg.count(mark, "sendmessage"), 0, "no card is sent for a decided post");
    assert!(h.store.approval_cards(a, post.id).await.unwrap().iter().all(|r| r.message_id.is_none()));
});

/// `who` opens `post` from /queue; returns its screen (reschedule, publish now, cancel).
async fn queue_item(h: &common::Harness, who: i64, post: &Post) -> BotMessage {
    let m = h.say(who, "/queue", "Upcoming posts").await;
    h.press(who, &m, &post.title, "Status:").await
}

/// Runs the queued cards and returns each recipient's, in the order Alice, Dave, the group.
async fn cards_out(h: &common::Harness) -> [BotMessage; 3] {
    let mark = h.tg.mark();
    h.run_notify_jobs().await;
    [
        h.tg.said(ALICE, mark, "drafted a post").await,
        h.tg.said(DAVE, mark, "drafted a post").await,
        h.tg.said(GROUP, mark, "drafted a post").await,
    ]
}

bot_test!(a_waiting_post_its_author_moves_is_submitted_again_and_only_the_new_cards_decide, |h| {
    let a = team(&h).await;
    let post = bob_submits(&h, a).await;
    let old = cards_out(&h).await;

    // Bob moves his waiting post in /queue: it waits again, for a new request.
    let item = queue_item(&h, BOB, &post).await;
    h.press(BOB, &item, &en("bot.queue.btn_reschedule"), "When?").await;
    let m = h.say(BOB, "tomorrow 11:00", "Post to").await;
    h.press(BOB, &m, &en("bot.schedule.btn_confirm"), "needs approval again").await;
    let moved = h.store.post(a, post.id).await.unwrap();
    assert_eq!(moved.status, PostStatus::PendingApproval);
    assert_ne!(moved.scheduled_at, post.scheduled_at);
    // The change replaced the old round's cards and queued the new round's, in its transaction.
    let rows = h.store.approval_cards(a, post.id).await.unwrap();
    let (earlier, latest): (Vec<_>, Vec<_>) = rows.iter().partition(|r| r.round == post.version);
    assert_eq!(earlier.len(), 3);
    assert!(earlier.iter().all(|r| r.outcome_html.as_deref().is_some_and(|o| o.contains("Changed by User1002"))));
    assert_eq!(latest.iter().map(|r| (r.round, r.chat_id)).collect::<Vec<_>>(), {
        vec![(moved.version, GROUP), (moved.version, ALICE), (moved.version, DAVE)]
    });
    assert!(latest.iter().all(|r| r.outcome_html.is_none()));

    // The old cards are edited to say so, without buttons; the new cards go to every admin and the group.
    let new = cards_out(&h).await;
    for (card, fresh) in old.iter().zip(&new) {
        let now = h.tg.message(card.chat_id, card.message_id).unwrap();
        assert!(now.text.contains("Changed by User1002") && now.text.contains(&post.title), "{now:#?}");
        assert!(now.text.contains("replaced"), "{now:#?}");
        assert!(now.buttons.is_empty(), "{now:#?}");
        assert_ne!(fresh.message_id, card.message_id, "a new card, not the old one");
        assert!(fresh.text.contains("User1002 drafted") && fresh.has_button(&en("bot.approval.btn_approve")));
    }
    assert!(h.run_notify_jobs().await.is_empty(), "each card and each edit goes out once");

    // A press on an old card (its edit not seen yet) says the request was replaced, and changes nothing.
    let [old_alice, old_dave, _] = &old;
    let stale = old_dave.button(&en("bot.approval.btn_approve")).unwrap();
    h.press_data_refused(DAVE, old_dave, &stale, "was replaced").await;
    let stale = old_alice.button(&en("bot.approval.btn_reject")).unwrap();
    h.press_data_refused(ALICE, old_alice, &stale, "was replaced").await;
    assert_eq!(h.store.post(a, post.id).await.unwrap().version, moved.version);

    // The new card approves it, for the new time.
    let [new_alice, new_dave, new_group] = &new;
    let mark = h.tg.mark();
    h.press(DAVE, new_dave, &en("bot.approval.btn_approve"), "Approved by").await;
    h.tg.said(BOB, mark, "was approved").await;
    let approved = h.store.post(a, post.id).await.unwrap();
    assert_eq!((approved.status, approved.scheduled_at), (PostStatus::Scheduled, moved.scheduled_at));
    let publish = h.store.tenant_jobs(a, JobState::Queued, 20).await.unwrap();
    assert_eq!(publish.iter().filter(|j| j.kind == "publish").count(), 2, "one per account");
    h.run_notify_jobs().await;
    for card in [new_alice, new_group] {
        let now = h.tg.message(card.chat_id, card.message_id).unwrap();
        assert!(now.text.contains("Approved by User1004") && now.buttons.is_empty(), "{now:#?}");
    }
    for card in &old {
        let now = h.tg.message(card.chat_id, card.message_id).unwrap();
        assert!(now.text.contains("Changed by User1002"), "an old card keeps saying it was replaced: {now:#?}");
    }
    let stale = old_alice.button(&en("bot.approval.btn_approve")).unwrap();
    h.press_data_refused(ALICE, old_alice, &stale, "was replaced").await;
});

bot_test!(a_waiting_post_an_admin_moves_is_submitted_again_in_the_authors_name_and_the_author_hears_it, |h| {
    let a = team(&h).await;
    let post = bob_submits(&h, a).await;
    let old = cards_out(&h).await;
    let item = queue_item(&h, ALICE, &post).await;
    h.press(ALICE, &item, &en("bot.queue.btn_reschedule"), "When?").await;
    let m = h.say(ALICE, "tomorrow 11:00", "Post to").await;
    let mark = h.tg.mark();
    h.press(ALICE, &m, &en("bot.schedule.btn_confirm"), "needs approval again").await;
    h.tg.said(BOB, mark, "User1001 moved your post").await;
    let new = cards_out(&h).await;
    for (card, fresh) in old.iter().zip(&new) {
        let now = h.tg.message(card.chat_id, card.message_id).unwrap();
        assert!(now.text.contains("Changed by User1001") && now.buttons.is_empty(), "{now:#?}");
        assert!(fresh.text.contains("User1002 drafted"), "the new card names the author: {fresh:#?}");
    }
});

bot_test!(a_waiting_post_that_is_withdrawn_shows_it_on_every_card, |h| {
    let a = team(&h).await;

    // Bob withdraws his own request.
    let post = bob_submits(&h, a).await;
    let cards = cards_out(&h).await;
    let item = queue_item(&h, BOB, &post).await;
    h.press(BOB, &item, &en("bot.queue.btn_cancel"), "Post cancelled").await;
    assert_eq!(h.store.post(a, post.id).await.unwrap().status, PostStatus::Cancelled);
    let rows = h.store.approval_cards(a, post.id).await.unwrap();
    assert!(rows.iter().all(|r| r.outcome_html.as_deref().is_some_and(|o| o.contains("Withdrawn by User1002"))));
    // A press before the edit arrives says so.
    let approve = cards[1].button(&en("bot.approval.btn_approve")).unwrap();
    h.press_data_refused(DAVE, &cards[1], &approve, "was withdrawn").await;
    assert_eq!(h.run_notify_jobs().await.len(), 3, "an edit for every card");
    for card in &cards {
        let now = h.tg.message(card.chat_id, card.message_id).unwrap();
        assert!(now.text.contains("Withdrawn by User1002") && now.text.contains(&post.title), "{now:#?}");
        assert!(now.buttons.is_empty(), "{now:#?}");
    }

    // An admin withdraws Bob's next request: the cards name her, and Bob hears it.
    let post = bob_submits(&h, a).await;
    let cards = cards_out(&h).await;
    let item = queue_item(&h, ALICE, &post).await;
    let mark = h.tg.mark();
    h.press(ALICE, &item, &en("bot.queue.btn_cancel"), "Post cancelled").await;
    h.tg.said(BOB, mark, "User1001 withdrew your post").await;
    h.run_notify_jobs().await;
    for card in &cards {
        let now = h.tg.message(card.chat_id, card.message_id).unwrap();
        assert!(now.text.contains("Withdrawn by User1001") && now.buttons.is_empty(), "{now:#?}");
    }
    assert!(h.run_notify_jobs().await.is_empty());
    assert!(h.store.tenant_jobs(a, JobState::Queued, 20).await.unwrap().iter().all(|j| j.kind != "publish"));
});

bot_test!(an_admin_who_publishes_a_waiting_post_now_approves_it_on_every_card, |h| {
    let a = team(&h).await;
    let post = bob_submits(&h, a).await;
    let cards = cards_out(&h).await;
    let item = queue_item(&h, ALICE, &post).await;
    let mark = h.tg.mark();
    h.press(ALICE, &item, &en("bot.queue.btn_now"), "Publishing now").await;
    h.tg.said(BOB, mark, "was approved").await;
    let p = h.store.post(a, post.id).await.unwrap();
    assert_eq!(p.status, PostStatus::Scheduled);
    assert!(p.scheduled_at < post.scheduled_at, "the post goes out now, not at its planned time");
    let jobs = h.store.tenant_jobs(a, JobState::Queued, 20).await.unwrap();
    let publish: Vec<_> = jobs.iter().filter(|j| j.kind == "publish").collect();
    assert_eq!(publish.len(), 2);
    assert!(publish.iter().all(|j| Some(j.run_at) == p.scheduled_at));
    h.run_notify_jobs().await;
    for card in &cards {
        let now = h.tg.message(card.chat_id, card.message_id).unwrap();
        assert!(now.text.contains("Approved by User1001") && now.buttons.is_empty(), "{now:#?}");
    }
});

bot_test!(a_preview_opens_as_its_own_message_and_the_card_keeps_its_decision_buttons, |h| {
    let a = team(&h).await;
    let post = bob_submits(&h, a).await;
    let mark = h.tg.mark();
    h.run_notify_jobs().await;
    let card = h.tg.said(ALICE, mark, "drafted a post").await;

    let mark = h.tg.mark();
    h.tg.press(ALICE, &card, &en("bot.approval.btn_preview"));
    let preview = h.tg.said(ALICE, mark, "Draft:").await;
    assert_ne!(preview.message_id, card.message_id, "the preview is a message of its own");
    assert!(preview.text.contains(&post.title), "{preview:#?}");
    // A waiting post can still be corrected (a change sends a new request), but it is decided on the card only.
    assert!(preview.has_button(&en("bot.draft.btn_edit")), "{preview:#?}");
    assert!(!preview.has_button(&en("bot.draft.btn_schedule")) && !preview.has_button(&en("bot.draft.btn_now")));
    assert!(!preview.has_button(&en("bot.approval.btn_approve")), "{preview:#?}");
    let still = h.tg.message(ALICE, card.message_id).expect("the card is still there");
    assert_eq!(still.text, card.text);
    assert!(still.has_button(&en("bot.approval.btn_approve")) && still.has_button(&en("bot.approval.btn_reject")));
    assert_eq!(edits_in(&h, ALICE, mark), 0);
    assert_eq!(h.tg.count(mark, "deletemessage"), 0);

    // The decision is still made on the card.
    let decided = h.press(ALICE, &still, &en("bot.approval.btn_approve"), "Approved by").await;
    assert_eq!(decided.message_id, card.message_id);
    assert_eq!(h.store.post(a, post.id).await.unwrap().status, PostStatus::Scheduled);
});
