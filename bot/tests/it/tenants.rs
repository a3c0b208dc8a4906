//! Workspaces and roles across multi-step flows, on both databases: a flow belongs to the workspace it started in,
//! so switching workspaces in another chat, a demotion or a removal mid-flow stops the next answer (nothing is
//! saved anywhere, and the person is told why); and `/webhook` hands out its signing secret only in a private
//! chat.

use crate::common;

use common::{en, ALICE, BOB};
use tochen_domain::Role;
use tochen_domain::{TenantId, UserId};

const GROUP: i64 = -100_555;

async fn user(h: &common::Harness, telegram_id: i64) -> UserId {
    h.store.user_by_telegram_id(telegram_id).await.unwrap().unwrap().id
}

async fn description(h: &common::Harness, tenant: TenantId) -> String {
    h.store.tenant(tenant).await.unwrap().profile.business_description
}

/// `who` switches to the workspace whose button reads `label` from a group chat (not the chat of their flow).
async fn switch_in_group(h: &common::Harness, who: i64, label: &str, name: &str) {
    let mark = h.tg.mark();
    h.tg.send_text_as(GROUP, who, "en", "/workspaces@tochen_test_bot");
    let list = h.tg.said(GROUP, mark, &en("bot.workspaces.title")).await;
    let mark = h.tg.mark();
    h.tg.press_as(GROUP, who, list.message_id, &list.button(label).unwrap_or_else(|| panic!("{label}: {list:#?}")));
    h.tg.said(GROUP, mark, &format!("Now working in {name}")).await;
}

bot_test!(a_profile_answer_after_a_switch_to_a_workspace_where_one_is_a_viewer_changes_nothing, |h| {
    // Alice is the admin of Alpha and a viewer of Beta.
    let alpha = h.onboard(ALICE, "Alpha").await;
    let beta = h.onboard(BOB, "Beta").await;
    h.store.add_member(beta, user(&h, ALICE).await, Role::Viewer).await.unwrap();

    // She starts /profile in her private chat (Alpha is active) ...
    h.say(ALICE, "/profile", "in a sentence or two").await;
    // ... switches to Beta in a group ...
    switch_in_group(&h, ALICE, "Beta (viewer)", "Beta").await;
    // ... and answers the question in the private chat.
    let refused = h.say(ALICE, "We rewrite other people's profiles", "you are now working in").await;
    assert!(refused.text.contains("<b>Alpha</b>") && refused.text.contains("<b>Beta</b>"), "{}", refused.text);
    assert_eq!(description(&h, beta).await, "", "the viewer did not write Beta's profile");
    assert_eq!(description(&h, alpha).await, "", "nor did the answer land in Alpha: the flow was refused");
    assert!(h.store.dialogue_state(ALICE, ALICE).await.unwrap().is_none(), "the flow is closed");
    // The next message is no answer to anything.
    h.say(ALICE, "Second try", &en("bot.fallback")).await;
    assert_eq!(description(&h, beta).await, "");

    // Back in Alpha, /profile works as before and saves to Alpha.
    switch_in_group(&h, ALICE, "Alpha (admin)", "Alpha").await;
    h.say(ALICE, "/profile", "in a sentence or two").await;
    h.say(ALICE, "Specialty coffee in Lisbon", "Describe your audience").await;
    assert_eq!(description(&h, alpha).await, "Specialty coffee in Lisbon");
    assert_eq!(description(&h, beta).await, "");
});

bot_test!(an_admin_demoted_or_removed_mid_flow_cannot_finish_it, |h| {
    let alpha = h.onboard(ALICE, "Alpha").await;
    let bob = h.store.upsert_user(&common::identity(BOB)).await.unwrap().id;
    h.store.add_member(alpha, bob, Role::Admin).await.unwrap();
    let alice = user(&h, ALICE).await;

    // Demoted to viewer while the description question waits: neither a typed answer nor a button gets through.
    let question = h.say(ALICE, "/profile", "in a sentence or two").await;
    h.store.set_role(alpha, alice, Role::Viewer).await.unwrap();
    let refused = h.say(ALICE, "A new description", "which cannot finish this").await;
    assert!(refused.text.contains("You are now viewer in <b>Alpha</b>"), "{}", refused.text);
    assert_eq!(description(&h, alpha).await, "");
    assert!(h.store.dialogue_state(ALICE, ALICE).await.unwrap().is_none());

    // The same with a button of the flow: promoted again, she starts over and is demoted before pressing Skip.
    h.store.set_role(alpha, alice, Role::Admin).await.unwrap();
    let question2 = h.say(ALICE, "/profile", "in a sentence or two").await;
    h.store.set_role(alpha, alice, Role::Editor).await.unwrap();
    h.press(ALICE, &question2, &en("bot.profile.skip"), "You are now editor in <b>Alpha</b>").await;
    assert!(h.store.dialogue_state(ALICE, ALICE).await.unwrap().is_none());
    // An old button from the first question changes nothing either.
    let mark = h.tg.mark();
    h.tg.press(ALICE, &question, &en("bot.profile.skip"));
    h.tg.answered(mark, "").await;
    assert!(h.store.dialogue_state(ALICE, ALICE).await.unwrap().is_none());

    // Removed from the workspace mid-flow.
    h.store.set_role(alpha, alice, Role::Admin).await.unwrap();
    h.say(ALICE, "/profile", "in a sentence or two").await;
    h.store.remove_member(alpha, alice).await.unwrap();
    let refused = h.say(ALICE, "A description from outside", "no longer a member").await;
    assert!(refused.text.contains("<b>Alpha</b>"), "{}", refused.text);
    assert_eq!(description(&h, alpha).await, "");
});

bot_test!(the_automation_wizard_does_not_carry_over_into_another_workspace, |h| {
    // Alice is an admin of both workspaces; the wizard started in Alpha must not create its automation in Beta.
    let alpha = h.onboard(ALICE, "Alpha").await;
    let beta = h.onboard(BOB, "Beta").await;
    h.store.add_member(beta, user(&h, ALICE).await, Role::Admin).await.unwrap();
    let first = h.say(ALICE, "/automate", &en("bot.auto.title_new")).await;
    switch_in_group(&h, ALICE, "Beta (admin)", "Beta").await;
    h.press(ALICE, &first, &en("bot.auto.kind_report"), "This step belongs to <b>Alpha</b>").await;
    assert!(h.store.dialogue_state(ALICE, ALICE).await.unwrap().is_none());
    assert!(h.store.automations(alpha).await.unwrap().is_empty());
    assert!(h.store.automations(beta).await.unwrap().is_empty());
    // Started afresh in Beta, it works there.
    let m = h.say(ALICE, "/automate", &en("bot.auto.title_new")).await;
    h.press(ALICE, &m, &en("bot.auto.kind_report"), "How often?").await;
});

bot_test!(webhook_secrets_are_only_handed_out_in_a_private_chat, |h| {
    let tenant = h.onboard(ALICE, "Alpha").await;
    let mark = h.tg.mark();
    h.tg.send_text_as(GROUP, ALICE, "en", "/webhook@tochen_test_bot https://93.184.216.34/hook");
    let answer = h.tg.said(GROUP, mark, "webhooks are added in a private chat").await;
    assert_eq!(answer.button("Open private chat").as_deref(), Some("https://t.me/tochen_test_bot"));
    assert!(h.store.destinations(tenant).await.unwrap().is_empty(), "nothing was created");
    assert!(h.tg.messages_in(GROUP).iter().all(|m| !m.text.contains("whsec_")), "no secret in the group");
    // In the private chat the same command adds it and shows the secret once.
    h.say(ALICE, "/webhook https://93.184.216.34/hook", "whsec_").await;
    assert_eq!(h.store.destinations(tenant).await.unwrap().len(), 1);
});
