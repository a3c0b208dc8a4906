//! No input stops the bot: an overflowing time at the schedule prompt, a handler that panics (on a message or a
//! button), and commands typed during a prompt. Each gets its answer, and the same chat is served afterwards.

use crate::common;

use common::{en, ALICE, BOB};
use teloxide::dispatching::UpdateHandler;
use teloxide::prelude::*;
use tochen_domain::i18n::t;

/// Reaches the "When?" prompt of a fresh draft (an account is connected: without one, scheduling is not offered).
async fn at_the_time_prompt(h: &common::Harness, user: i64) -> tochen_testkit::fake_telegram::BotMessage {
    let tenant = h.onboard(user, "Alpha").await;
    h.connect_accounts(tenant).await;
    let m = h.say(user, "/idea", "Ideas for").await;
    let m = h.press(user, &m, "1", "Draft:").await;
    h.press(user, &m, &en("bot.draft.btn_schedule"), "When?").await
}

bot_test!(an_overflowing_time_is_refused_and_the_chat_is_still_served, |h| {
    at_the_time_prompt(&h, ALICE).await;
    let m = h.say(ALICE, "in 9223372036854775807 minutes", "as a time").await;
    assert!(m.text.contains("9223372036854775807"), "{}", m.text);
    h.say(ALICE, "через 9223372036854775807 дней", "as a time").await;
    // The same chat goes on: yesterday is in the past, tomorrow is a time.
    h.say(ALICE, "yesterday 9:00", "already passed").await;
    h.say(ALICE, "gestern um 9:00", "already passed").await;
    h.say(ALICE, "tomorrow 9:30", "UTC").await;
});

/// A handler that panics on the text "boom" and on the button "boom", ahead of the bot's own handlers.
fn panicking() -> UpdateHandler<anyhow::Error> {
    dptree::entry()
        .branch(Update::filter_message().filter(|m: Message| m.text() == Some("boom")).endpoint(
            |_: Message| async move {
                if true {
                    panic!("a handler bug");
                }
                anyhow::Ok(())
            },
        ))
        .branch(Update::filter_callback_query().filter(|q: CallbackQuery| q.data.as_deref() == Some("boom")).endpoint(
            |_: CallbackQuery| async move {
                if true {
                    panic!("a button handler bug");
                }
                anyhow::Ok(())
            },
        ))
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_panicking_handler_is_answered_and_the_bot_goes_on_sqlite() {
    let db = tochen_testkit::TestDb::sqlite().await;
    a_panicking_handler_is_answered_and_the_bot_goes_on(&db).await;
    db.cleanup().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_panicking_handler_is_answered_and_the_bot_goes_on_postgres() {
    let Some(db) = tochen_testkit::TestDb::postgres().await else { return };
    a_panicking_handler_is_answered_and_the_bot_goes_on(&db).await;
    db.cleanup().await;
}

async fn a_panicking_handler_is_answered_and_the_bot_goes_on(db: &tochen_testkit::TestDb) {
    let mut h = common::Harness::start_with(db, Some(panicking())).await;
    let crashed = en("bot.crashed");
    let m = h.say(ALICE, "/help", "/idea").await;
    h.say(ALICE, "boom", &crashed).await;
    // The same chat, whose worker would have died with the panic, is served; so is another chat.
    h.say(ALICE, "/help", "/idea").await;
    h.say(BOB, "/start", "What's it called").await;
    // In the person's language.
    let mark = h.tg.mark();
    h.tg.send_text_as(BOB, BOB, "uk", "boom");
    h.tg.said(BOB, mark, &t("uk", "bot.crashed")).await;
    // A button press is answered with the notice.
    let mark = h.tg.mark();
    h.tg.press_as(ALICE, ALICE, m.message_id, "boom");
    h.tg.answered(mark, &crashed).await;
    h.say(ALICE, "boom", &crashed).await;
    h.say(ALICE, "/help", "/idea").await;
    h.stop().await;
}

bot_test!(a_command_typed_at_a_prompt_runs_instead_of_being_the_answer, |h| {
    let a = h.onboard(ALICE, "Alpha").await;
    h.connect_accounts(a).await;
    let m = h.say(ALICE, "/idea", "Ideas for").await;
    let draft = h.press(ALICE, &m, "1", "Draft:").await;
    let post = h.store.posts_with_status(a, &[tochen_domain::PostStatus::Draft], 0, 1).await.unwrap().remove(0);
    let text_now = || async { h.store.post_contents(a, post.id).await.unwrap()[0].body.clone() };
    let before = text_now().await;

    // At "Send the new text", commands in any case and addressed to this bot run; the prompt is left.
    for command in ["/Queue", "/queue", "/QUEUE@tochen_test_bot", "/help@Tochen_Test_Bot"] {
        h.press(ALICE, &draft, &en("bot.draft.btn_edit"), "Send the new text").await;
        let expected = if command.to_lowercase().starts_with("/help") { "/idea" } else { "Nothing scheduled" };
        h.say(ALICE, command, expected).await;
        // The prompt is gone: the next text is not taken as the draft's text.
        h.say(ALICE, "Some words", &en("bot.fallback")).await;
    }
    // An unknown command is not the answer either; it is explained and the prompt stays.
    h.press(ALICE, &draft, &en("bot.draft.btn_edit"), "Send the new text").await;
    h.say(ALICE, "/qeueu", "/qeueu").await;
    // A command for another bot is not ours: no answer, and it is not the new text.
    let mark = h.tg.mark();
    h.tg.send_text(ALICE, "/queue@some_other_bot");
    let fresh = h.say(ALICE, "The new text", "Draft:").await;
    assert!(fresh.text.contains("The new text"), "{}", fresh.text);
    assert!(
        !h.tg
            .calls()
            .iter()
            .skip(mark)
            .any(|c| c.params["text"].as_str().is_some_and(|t| t.contains("some_other_bot"))),
        "another bot's command is never echoed"
    );
    assert_ne!(text_now().await, before);
    assert!(!text_now().await.contains('/'), "no command became the post's text");

    // /cancel at the time prompt leaves it.
    h.press(ALICE, &fresh, &en("bot.draft.btn_schedule"), "When?").await;
    h.say(ALICE, "/Cancel", &en("common.cancelled")).await;
    h.say(ALICE, "tomorrow 9:30", &en("bot.fallback")).await;
});
