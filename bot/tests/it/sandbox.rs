//! A first try with only a bot token: without an LLM the sandbox writer answers `/idea`, drafts, rewrites and
//! images from templates, and every screen showing what it wrote says so (🧪). With an LLM configured nothing of
//! this shows.

use crate::common;

use common::{en, ALICE};
use tochen_domain::PostStatus;

bot_test!(without_an_llm_key_ideas_and_drafts_come_from_templates_marked_sandbox, without_llm, |h| {
    let note = en("bot.sandbox.note");
    let a = h.onboard(ALICE, "Bloom Coffee").await;
    h.connect_accounts(a).await;

    let ideas = h.say(ALICE, "/idea latte art", "Ideas for").await;
    assert!(ideas.text.contains(&note), "the ideas are marked: {}", ideas.text);
    assert!(ideas.text.contains("latte art"), "the ideas are about the topic: {}", ideas.text);
    // "More ideas" gives other ones, still marked.
    let more = h.press(ALICE, &ideas, &en("bot.ideas.more"), "Ideas for").await;
    assert!(more.text.contains(&note));
    assert_ne!(more.text, ideas.text);

    let draft = h.press(ALICE, &more, "1", "Draft:").await;
    assert!(draft.text.contains(&note), "the draft is marked: {}", draft.text);
    assert!(draft.has_button(&en("bot.draft.btn_schedule")), "{draft:#?}");
    let post = h.store.posts_with_status(a, &[PostStatus::Draft], 0, 1).await.unwrap().remove(0);
    let contents = h.store.post_contents(a, post.id).await.unwrap();
    assert_eq!(contents.len(), 2, "a text for each connected platform");
    for c in &contents {
        let rules = tochen_platforms::registry::rules(&h.config, c.platform);
        assert!(rules.check(&c.body, &c.hashtags, true).is_empty(), "{c:?}");
        assert!(!c.body.is_empty());
    }

    // A rewrite and a placeholder image work too.
    h.press(ALICE, &draft, &en("bot.draft.btn_rewrite"), "How should I rewrite it").await;
    let rewritten = h.say(ALICE, "shorter", "Draft:").await;
    assert!(rewritten.text.contains(&note));
    let shorter = h.store.post_contents(a, post.id).await.unwrap();
    for (before, after) in contents.iter().zip(&shorter) {
        assert!(after.body.chars().count() < before.body.chars().count(), "{after:?}");
    }
    h.press(ALICE, &rewritten, &en("bot.draft.btn_image"), "Image attached").await;
    let photo = h.tg.messages_in(ALICE).into_iter().rev().find(|m| m.photo).expect("the placeholder was sent");
    assert!(photo.text.contains("Draft:"), "{photo:#?}");
    let media = h.store.post_media_kinds(a, post.id).await.unwrap();
    assert_eq!(media.len(), 1);
    assert_eq!(h.store.media(a, media[0].0).await.unwrap().info.source, "sandbox");

    // Nothing was asked of an LLM, and nothing was counted as LLM usage.
    assert!(h.llm.requests().is_empty(), "the LLM was called");
    assert_eq!(h.store.llm_usage_since(a, 0).await.unwrap().calls, 0);
});

bot_test!(with_an_llm_configured_nothing_is_marked_sandbox, |h| {
    let note = en("bot.sandbox.note");
    let a = h.onboard(ALICE, "Alpha").await;
    h.connect_accounts(a).await;
    let ideas = h.say(ALICE, "/idea", "Ideas for").await;
    assert!(!ideas.text.contains(&note) && !ideas.text.contains('🧪'), "{}", ideas.text);
    let draft = h.press(ALICE, &ideas, "1", "Draft:").await;
    assert!(!draft.text.contains(&note) && !draft.text.contains('🧪'), "{}", draft.text);
    assert!(!h.llm.requests().is_empty(), "the configured LLM wrote them");
});

bot_test!(a_draft_without_an_account_leads_to_connecting_one_not_to_a_refusal, without_llm, |h| {
    let a = h.onboard(ALICE, "Bloom Coffee").await;
    let ideas = h.say(ALICE, "/idea latte art", "Ideas for").await;
    let draft = h.press(ALICE, &ideas, "1", "Draft:").await;
    // Nothing to post to yet: no Schedule or Publish now that would only refuse, but the way to an account.
    assert!(!draft.has_button(&en("bot.draft.btn_schedule")) && !draft.has_button(&en("bot.draft.btn_now")));
    assert!(draft.has_button(&en("bot.menu.connect")), "{draft:#?}");
    // In sandbox mode (no platform configured here) the connect menu offers sandbox accounts, one tap each.
    let menu = h.press(ALICE, &draft, &en("bot.menu.connect"), "Which account do you want to connect?").await;
    assert!(menu.text.contains(&en("connect.sandbox_note")), "{}", menu.text);
    h.press(ALICE, &menu, &en("connect.kind_sandbox_instagram"), "a sandbox Instagram account").await;
    let accounts = h.store.accounts(a).await.unwrap();
    assert_eq!(accounts.len(), 1);
    assert!(accounts[0].auth_kind.is_sandbox() && accounts[0].name.starts_with("🧪"), "{accounts:?}");
    // Back on the draft, scheduling is offered.
    let post = h.store.posts_with_status(a, &[PostStatus::Draft], 0, 1).await.unwrap().remove(0);
    let list = h.say(ALICE, "/drafts", "Drafts").await;
    let draft = h.press(ALICE, &list, &post.title, "Draft:").await;
    assert!(draft.has_button(&en("bot.draft.btn_schedule")), "{draft:#?}");
});
