//! The main story through the real bot: a new user creates a workspace and profile, invites an editor, the
//! editor gets ideas, drafts, edits (across a restart), adds an image, schedules (after garbage and past
//! times), an admin approves, and the post is cancelled from the queue.

use crate::common;

use common::{en, ALICE, BOB};
use tochen_domain::{JobState, PostStatus, Role};

bot_test!(a_team_goes_from_start_to_an_approved_post_and_back_out, |h| {
    // First contact and profile.
    h.say(ALICE, "/start", "What's it called").await;
    let m = h.say(ALICE, "Bloom <Coffee>", "in a sentence or two").await;
    assert!(m.text.contains("Bloom &lt;Coffee&gt;"), "user text is escaped: {}", m.text);
    let m = h.say(ALICE, "Specialty coffee shop in Lisbon", "Describe your audience").await;
    let m = h.press(ALICE, &m, &en("bot.profile.skip"), "Tone of voice").await;
    h.press(ALICE, &m, &en("bot.tone.playful"), "posts and reports").await;
    // The content language is the workspace's, apart from Alice's English menus: a button or any two-letter code.
    h.say(ALICE, "Portuguese", "not a two-letter language code").await;
    let m = h.say(ALICE, "PT", "Europe/London").await;
    h.press(ALICE, &m, &en("bot.profile.tz_change"), "region/city").await;
    h.say(ALICE, "Mars/Olympus", "I don't know the time zone").await;
    let m = h.say(ALICE, "Europe/Lisbon", "All set").await;
    assert!(m.has_button(&en("bot.menu.ideas")));
    let alice = h.store.user_by_telegram_id(ALICE).await.unwrap().unwrap();
    let tenant_id = alice.active_tenant_id.unwrap();
    let tenant = h.store.tenant(tenant_id).await.unwrap();
    assert_eq!(tenant.name, "Bloom <Coffee>");
    assert_eq!(tenant.profile.business_description, "Specialty coffee shop in Lisbon");
    assert_eq!(tenant.profile.tone, "playful");
    assert_eq!(tenant.profile.timezone, "Europe/Lisbon");
    assert_eq!(tenant.profile.language, "pt");
    h.connect_accounts(tenant_id).await;

    // Invite an editor.
    let m = h.say(ALICE, "/invite", "Which role").await;
    let m = h.press(ALICE, &m, &en("bot.role.editor"), "t.me/tochen_test_bot?start=inv_").await;
    let code = m.text.split("start=").nth(1).unwrap().split_whitespace().next().unwrap().to_owned();
    h.say(BOB, &format!("/start {code}"), "You joined as editor").await;
    let bob = h.store.user_by_telegram_id(BOB).await.unwrap().unwrap();
    assert_eq!(h.store.role_of(tenant_id, bob.id).await.unwrap(), Some(Role::Editor));
    h.say(CAROL_WHO_REUSES, &format!("/start {code}"), "already used").await;

    // Ideas, more ideas, a draft.
    let mark = h.tg.mark();
    let m = h.say(BOB, "/idea autumn menu", "Ideas for").await;
    assert!(h.tg.calls().iter().skip(mark).any(|c| c.method == "sendchataction"), "typing is shown");
    let m = h.press(BOB, &m, &en("bot.ideas.more"), "Ideas for").await;
    let m = h.press(BOB, &m, "2", "Draft:").await;
    assert!(m.text.contains("&lt;3 &amp; more"), "model text is escaped: {}", m.text);
    assert!(m.text.contains("Instagram needs an image"), "{}", m.text);
    let post = h.store.posts_with_status(tenant_id, &[PostStatus::Draft], 0, 10).await.unwrap().remove(0);
    assert_eq!(h.store.post_contents(tenant_id, post.id).await.unwrap().len(), 2);

    // Edit text, with a restart in the middle of the conversation.
    h.press(BOB, &m, &en("bot.draft.btn_edit"), "Send the new text").await;
    h.restart().await;
    let m = h.say(BOB, "Fresh roast, new beans", "Draft:").await;
    assert!(m.text.contains("Fresh roast, new beans"));

    // An image, then scheduling with bad times first.
    let mark = h.tg.mark();
    let text_screen = m.message_id;
    let m = h.press(BOB, &m, &en("bot.draft.btn_image"), "Image attached").await;
    assert!(!m.text.contains("needs an image"));
    assert!(m.photo, "the draft became its image: {m:#?}");
    assert!(m.has_button(&en("bot.draft.btn_schedule")), "with the same buttons: {m:#?}");
    let sent = h.tg.calls().into_iter().skip(mark).find(|c| c.method == "sendphoto").unwrap();
    assert!(
        sent.params["photo"]["size"].as_u64().is_some_and(|n| n > 0),
        "the stored image was uploaded: {:?}",
        sent.params
    );
    h.tg.wait_call(mark, |c| c.method == "deletemessage" && c.params["message_id"] == text_screen).await;
    assert!(h.tg.message(BOB, text_screen).is_none(), "the text draft was replaced, not piled up");
    let mark = h.tg.mark();
    let when = h.press(BOB, &m, &en("bot.draft.btn_schedule"), "When?").await;
    assert_eq!(when.message_id, m.message_id, "screens after the photo edit its caption");
    assert!(h.tg.count(mark, "editmessagecaption") > 0);
    h.say(BOB, "banana o'clock", "can't read").await;
    h.say(BOB, "2020-01-01 10:00", "already passed").await;
    h.say(BOB, "tomorrow", "Which hour").await;
    let m = h.say(BOB, "tomorrow 9:30", "Post to").await;
    assert!(m.text.contains("Europe/Lisbon"), "{}", m.text);
    h.press(BOB, &m, &en("bot.schedule.btn_confirm"), "Sent for approval").await;
    let post = h.store.post(tenant_id, post.id).await.unwrap();
    assert_eq!(post.status, PostStatus::PendingApproval);
    assert_eq!(h.store.targets_of_post(tenant_id, post.id).await.unwrap().len(), 2);
    // The card is a durable notify job per admin, sent by the scheduler.
    let mark = h.tg.mark();
    let cards = h.run_notify_jobs().await;
    assert_eq!(cards.iter().map(|c| c.chat_id).collect::<Vec<_>>(), vec![ALICE], "one card per admin: {cards:?}");
    let card = h.tg.said(ALICE, mark, "drafted a post").await;

    // An editor cannot approve; the admin can, and the author hears it.
    let approve = card.button(&en("bot.approval.btn_approve")).unwrap();
    h.press_data_refused(BOB, &card, &approve, "Only an admin").await;
    assert_eq!(h.store.post(tenant_id, post.id).await.unwrap().status, PostStatus::PendingApproval);
    let mark = h.tg.mark();
    let decided = h.press(ALICE, &card, &en("bot.approval.btn_approve"), "Approved by").await;
    assert_eq!(decided.message_id, card.message_id, "the card is edited in place");
    assert!(decided.buttons.is_empty(), "and loses its buttons: {decided:#?}");
    h.tg.said(BOB, mark, "was approved").await;
    let post = h.store.post(tenant_id, post.id).await.unwrap();
    assert_eq!(post.status, PostStatus::Scheduled);
    let queued = h.store.tenant_jobs(tenant_id, JobState::Queued, 10).await.unwrap();
    assert_eq!(queued.len(), 2, "one publish job per target: {queued:?}");
    // The same approve button again is stale.
    h.press_data_refused(ALICE, &card, &approve, "already approved").await;

    // Queue, then cancel.
    let m = h.say(ALICE, "/queue", "Upcoming posts").await;
    let m = h.press(ALICE, &m, "1.", "Status").await;
    // Rescheduling from the queue and changing one's mind goes back to the post in the queue, not the draft.
    let when = h.press(ALICE, &m, &en("bot.queue.btn_reschedule"), "When?").await;
    let m = h.press(ALICE, &when, &en("bot.back"), "Status").await;
    assert!(m.has_button(&en("bot.queue.btn_cancel")), "{m:#?}");
    h.press(ALICE, &m, &en("bot.queue.btn_cancel"), "Post cancelled").await;
    assert_eq!(h.store.post(tenant_id, post.id).await.unwrap().status, PostStatus::Cancelled);
    assert!(h.store.tenant_jobs(tenant_id, JobState::Queued, 10).await.unwrap().is_empty());
    h.say(ALICE, "/usage", "Tokens").await;
});

const CAROL_WHO_REUSES: i64 = common::CAROL;
