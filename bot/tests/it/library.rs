//! The content library in the chat: every post newest first with its platforms, numbers and links; filters by
//! buttons (a forged choice of another workspace refused), search by words, tags typed on a post's card and used
//! as a filter, typed date ranges with bad ones explained; `/drafts` and `/history` as its views.

use crate::common;

use common::{en, ALICE};
use tochen_domain::{PostId, PostStatus};
use tochen_store::MetricValues;
use tochen_telegram::button::{Button, Library};

/// Thursday 5 December 2030, 12:00 UTC.
const NOON: i64 = 1_922_702_400_000;
const DAY: i64 = 86_400_000;

fn position(text: &str, needle: &str) -> usize {
    text.find(needle).unwrap_or_else(|| panic!("{needle:?} not in {text}"))
}

bot_test!(the_library_filters_searches_tags_and_shows_each_platforms_numbers, |h| {
    let a = h.onboard(ALICE, "Alpha").await;
    let accounts = h.connect_accounts(a).await;
    let (ig, fb) = (accounts[0].id, accounts[1].id);
    let (rye, _) = h.post(a, "Rye bread", "Fresh rye at 8", &[ig], NOON + 3 * DAY, PostStatus::Scheduled).await;
    let (sale, t) = h.post(a, "Croissant sale", "Croissants 50% off", &[fb], NOON - DAY, PostStatus::Published).await;
    let values = MetricValues { views: Some(2000), likes: Some(90), comments: Some(10), ..Default::default() };
    h.snapshot(a, t[0], tochen_domain::clock::now_ms(), values).await;
    let (old, _) = h.post(a, "Old workshop", "Sourdough", &[ig, fb], NOON - 40 * DAY, PostStatus::Published).await;

    // Everything, newest first, each platform with its status; published ones with numbers (missing ones left
    // out) and the link.
    let list = h.say(ALICE, "/library", "Library").await;
    assert!(position(&list.text, "Rye bread") < position(&list.text, "Croissant sale"));
    assert!(position(&list.text, "Croissant sale") < position(&list.text, "Old workshop"));
    assert!(list.text.contains("👁 2,000 · ❤️ 90 · 💬 10 · 📈 5.0%"), "{}", list.text);
    assert!(list.text.contains(&format!("https://example.com/p/{}", t[0].to_db())), "{}", list.text);
    assert!(list.text.contains(&en("bot.library.no_numbers")), "the old post has no reading yet: {}", list.text);

    // Search: every word, any case; a miss says so.
    let found = h.say(ALICE, "/library CROISSANTS off", "Library").await;
    assert!(found.text.contains("Croissant sale") && !found.text.contains("Rye bread"), "{}", found.text);
    h.say(ALICE, "/library rye croissant", &en("bot.library.no_match")).await;

    // Filter by buttons: Instagram only, then cleared.
    let list = h.say(ALICE, "/library", "Library").await;
    let menu = h.press(ALICE, &list, &en("bot.library.btn_filter"), &en("bot.library.menu_title")).await;
    let pick = h.press(ALICE, &menu, &en("bot.library.f_platform"), &en("bot.library.pick_title")).await;
    let list = h.press(ALICE, &pick, "Instagram", "Filter: Instagram").await;
    assert!(list.text.contains("Rye bread") && list.text.contains("Old workshop"), "{}", list.text);
    assert!(!list.text.contains("Croissant sale"), "{}", list.text);
    let list = h.press(ALICE, &list, &en("bot.library.btn_clear"), "Croissant sale").await;
    assert!(!list.text.contains("Filter:"), "{}", list.text);

    // A forged choice (another workspace's account) is refused and the view stays.
    let b = h.onboard(common::BOB, "Beta").await;
    let theirs = h.connect_accounts(b).await[0].id;
    let data = Button::Library(Library::Account(Some(theirs))).encode();
    h.press_data_refused(ALICE, &list, &data, "no longer in this workspace").await;
    let list = h.say(ALICE, "/library", "Library").await;
    assert!(list.text.contains("Croissant sale") && list.text.contains("Rye bread"), "{}", list.text);

    // Tags on a post's card: bad ones explained, good ones saved (normalized), then a filter.
    let card = h.press(ALICE, &list, "2. Croissant sale", "Croissants 50% off").await;
    assert!(card.text.contains(&en("bot.library.engagement_note")), "{}", card.text);
    let prompt = h.press(ALICE, &card, &en("bot.library.btn_tags"), "Send the tags").await;
    let _ = prompt;
    let too_many = (0..21).map(|i| format!("t{i}")).collect::<Vec<_>>().join(" ");
    h.say(ALICE, &too_many, "That is 21 tags").await;
    h.say(ALICE, &"x".repeat(60), "too long for a tag").await;
    let card = h.say(ALICE, "#Promo, bread", &en("bot.library.tags_saved")).await;
    assert!(card.text.contains("#bread #promo"), "{}", card.text);
    assert_eq!(h.store.post_tags(a, sale.id).await.unwrap(), ["bread", "promo"]);
    assert_eq!(h.store.post(a, sale.id).await.unwrap().version, sale.version, "tags leave the version alone");
    let tagged = h.say(ALICE, "/library #PROMO", "Library").await;
    assert!(tagged.text.contains("Croissant sale") && !tagged.text.contains("Rye bread"), "{}", tagged.text);
    assert!(tagged.text.contains("#promo"), "{}", tagged.text);

    // The card opens the post's own screen.
    let card = h.press(ALICE, &tagged, "1. Croissant sale", "Croissants 50% off").await;
    h.press(ALICE, &card, &en("bot.library.btn_open"), "History").await;

    // A typed date range: a bad one explained (the prompt stays), a good one filters.
    let list = h.say(ALICE, "/library", "Library").await;
    let menu = h.press(ALICE, &list, &en("bot.library.btn_filter"), &en("bot.library.menu_title")).await;
    let pick = h.press(ALICE, &menu, &en("bot.library.f_dates"), &en("bot.library.pick_title")).await;
    h.press(ALICE, &pick, &en("bot.library.dates_typed"), "Send the days").await;
    h.say(ALICE, "2030-13-01", "is not a date I can read").await;
    h.say(ALICE, "2030-12-10 2030-12-01", "ends before it starts").await;
    let list = h.say(ALICE, "2030-12-01 2030-12-06", "Filter: 01.12.2030–06.12.2030").await;
    assert!(list.text.contains("Croissant sale") && !list.text.contains("Old workshop"), "{}", list.text);
    assert!(!list.text.contains("Rye bread"), "8 December is outside: {}", list.text);

    // /drafts and /history are the library's views; /history shows what went out.
    let history = h.say(ALICE, "/history", "History").await;
    assert!(history.text.contains("Old workshop") && !history.text.contains("Rye bread"), "{}", history.text);
    let _ = (rye, old, PostId::new());
});
