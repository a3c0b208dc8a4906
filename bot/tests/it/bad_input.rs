//! Bad input through the real bot: forged and stale buttons, a viewer and an editor overstepping, LLM failures
//! and malformed output, an exhausted quota, text over the limits. Each gets its own message and leaves no
//! half-written state.

use crate::common;

use common::{en, ALICE, BOB, CAROL, DAVE};
use tochen_domain::{PostStatus, Role};
use tochen_telegram::button::{Button, Draft, DraftAct, Team};
use tochen_testkit::fake_llm::Reply;

bot_test!(forged_stale_and_overstepping_buttons_change_nothing, |h| {
    let a = h.onboard(ALICE, "Alpha").await;
    let c = h.onboard(CAROL, "Gamma").await;
    h.connect_accounts(a).await;
    // Carol has a draft in her own workspace.
    let m = h.say(CAROL, "/idea", "Ideas for").await;
    h.press(CAROL, &m, "1", "Draft:").await;
    let carols = h.store.posts_with_status(c, &[PostStatus::Draft], 0, 1).await.unwrap().remove(0);

    // Alice forges a discard button with Carol's post id.
    let m = h.say(ALICE, "/idea", "Ideas for").await;
    let draft = h.press(ALICE, &m, "1", "Draft:").await;
    let forged = Button::Draft(Draft::Act(tochen_bot_draft_discard(), carols.id, carols.version)).encode();
    h.press_data_refused(ALICE, &draft, &forged, "can't find that post").await;
    assert_eq!(h.store.post(c, carols.id).await.unwrap().status, PostStatus::Draft);
    // A workspace switch to a workspace she is not in.
    let forged = Button::Team(Team::Workspace(c)).encode();
    h.press_data_refused(ALICE, &draft, &forged, "not a member of that workspace").await;
    // Garbage callback data.
    h.press_data_refused(ALICE, &draft, "zz:garbage", "out of date").await;

    // Stale: the draft changes (an edit), then an old button is pressed.
    let alices = h.store.posts_with_status(a, &[PostStatus::Draft], 0, 1).await.unwrap().remove(0);
    h.press(ALICE, &draft, &en("bot.draft.btn_edit"), "Send the new text").await;
    let long = "x".repeat(2300);
    let fresh = h.say(ALICE, &long, "Draft:").await;
    assert!(fresh.text.contains("limit is 2200"), "{}", fresh.text);
    h.press_data_refused(ALICE, &draft, &draft.button(&en("bot.draft.btn_discard")).unwrap(), "out of date").await;
    assert_eq!(h.store.post(a, alices.id).await.unwrap().status, PostStatus::Draft);
    // Text over the limit cannot be scheduled, and nothing is scheduled.
    let m = h.press(ALICE, &fresh, &en("bot.draft.btn_now"), "can't schedule this yet").await;
    assert!(m.text.contains("limit is 2200"));
    assert_eq!(h.store.post(a, alices.id).await.unwrap().status, PostStatus::Draft);
    assert!(h.store.targets_of_post(a, alices.id).await.unwrap().is_empty());

    // A viewer and an editor overstep.
    let dave = h.store.upsert_user(&common::identity(DAVE)).await.unwrap();
    h.store.add_member(a, dave.id, Role::Viewer).await.unwrap();
    h.store.set_active_tenant(dave.id, a).await.unwrap();
    let discard = fresh.button(&en("bot.draft.btn_discard")).unwrap();
    h.press_data_refused(DAVE, &fresh, &discard, "Viewers can look").await;
    h.say(DAVE, "/idea", "Viewers can look").await;
    let bob = h.store.upsert_user(&common::identity(BOB)).await.unwrap();
    h.store.add_member(a, bob.id, Role::Editor).await.unwrap();
    h.store.set_active_tenant(bob.id, a).await.unwrap();
    h.say(BOB, "/invite", "Only an admin").await;
    assert_eq!(h.store.post(a, alices.id).await.unwrap().status, PostStatus::Draft);
});

bot_test!(llm_failures_and_an_exhausted_quota_leave_no_draft, |h| {
    let a = h.onboard(ALICE, "Alpha").await;
    let drafts = |h: &common::Harness| {
        let store = h.store.clone();
        async move { store.posts_with_status(a, &[PostStatus::Draft], 0, 50).await.unwrap().len() }
    };
    h.llm.push(Reply::Text("I'd love to help! Here are ideas: coffee, tea".into()));
    h.llm.push(Reply::Text("still not json".into()));
    h.say(ALICE, "/idea", "couldn't use").await;
    h.llm.push(Reply::Truncated);
    h.llm.push(Reply::Truncated);
    h.say(ALICE, "/idea", "cut off").await;
    h.llm.push(Reply::InsufficientQuota);
    h.say(ALICE, "/idea", "no credit left").await;
    for _ in 0..4 {
        h.llm.push(Reply::RateLimited { retry_after_secs: 0 });
    }
    h.say(ALICE, "/idea", "busy right now").await;
    // One server error and a fenced answer: retried, then parsed.
    h.llm.push(Reply::ServerError);
    h.llm.push(Reply::Fenced(serde_json::json!({"ideas": [{"title": "Fenced idea", "angle": "from prose"}]})));
    let m = h.say(ALICE, "/idea", "Fenced idea").await;
    // Picking it with a malformed draft answer: no post is created.
    h.llm.push(Reply::Text("{\"posts\": []}".into()));
    h.llm.push(Reply::Text("nope".into()));
    h.press(ALICE, &m, "1", "couldn't use").await;
    assert_eq!(drafts(&h).await, 0);

    // Every call was recorded, failures included.
    let usage = h.store.llm_usage_since(a, 0).await.unwrap();
    assert!(usage.calls >= 13 && usage.failed_calls >= 6, "{usage:?}");

    // Quota: spent before the call, so the provider is not even asked.
    h.store.set_workspace_quota(a, usage.tokens, "test").await.unwrap();
    let before = h.llm.requests().len();
    h.say(ALICE, "/idea", "used its AI quota").await;
    assert_eq!(h.llm.requests().len(), before);
    assert_eq!(drafts(&h).await, 0);
    h.say(ALICE, "/usage", &format!("of {}", usage.tokens)).await;
});

fn tochen_bot_draft_discard() -> DraftAct {
    DraftAct::Discard
}
