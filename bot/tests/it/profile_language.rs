//! The workspace's content language (posts and reports) is asked in /profile, separately from the person's own
//! interface language.

use crate::common;

use common::{en, ALICE};
use tochen_domain::i18n::t;

bot_test!(profile_sets_the_content_language_without_touching_the_persons_own, |h| {
    let a = h.onboard(ALICE, "Alpha").await;
    assert_eq!(h.store.tenant(a).await.unwrap().profile.language, "en", "the default is the founder's language");
    let m = h.say(ALICE, "/profile", "in a sentence or two").await;
    let summary = h.tg.messages_in(ALICE).into_iter().rev().nth(1).unwrap();
    assert!(summary.text.contains("Posts and reports in"), "{}", summary.text);
    let m = h.press(ALICE, &m, &en("bot.profile.skip"), "Describe your audience").await;
    let m = h.press(ALICE, &m, &en("bot.profile.skip"), "Tone of voice").await;
    let m = h.press(ALICE, &m, &en("bot.profile.skip"), "posts and reports").await;
    let m = h.press(ALICE, &m, &t("de", "bot.language.name"), "Time zone").await;
    h.press(ALICE, &m, &en("bot.profile.tz_keep"), &en("bot.profile.saved")).await;
    assert_eq!(h.store.tenant(a).await.unwrap().profile.language, "de");
    let alice = h.store.user_by_telegram_id(ALICE).await.unwrap().unwrap();
    assert_eq!(alice.language_override, None, "Alice still reads the bot in English");
});
