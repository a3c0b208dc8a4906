//! Who may create a workspace (`TOCHEN_WORKSPACE_CREATION`), the operator claim on first `/start`, and a
//! suspended workspace refused politely with its ways out left open; on both databases.

use crate::common;

use common::{en, ALICE, BOB, CAROL};

const CODE_ONLY: &[(&str, &str)] = &[("TOCHEN_WORKSPACE_CREATION", "code"), ("TOCHEN_OPERATORS", "1003")];

async fn active(h: &common::Harness, who: i64) -> Option<tochen_domain::TenantId> {
    h.store.user_by_telegram_id(who).await.unwrap().and_then(|u| u.active_tenant_id)
}

bot_test!(policy_code_refuses_start_without_a_code_and_accepts_one_code_once, env = CODE_ONLY, |h| {
    h.say(ALICE, "/start", &en("bot.create.code_needed")).await;
    assert_eq!(active(&h, ALICE).await, None, "nothing was created");
    h.say(ALICE, "/workspaces", &en("bot.create.code_needed")).await;

    let code = h.store.create_workspace_code("telegram:1003", 86_400_000).await.unwrap().code;
    h.say(ALICE, "/start new_wrongcode", &en("bot.create.code_unknown")).await;
    h.say(ALICE, &format!("/start new_{code}"), "What's it called").await;
    // Bob opens the same link: it is Alice's now.
    h.say(BOB, &format!("/start new_{code}"), &en("bot.create.code_used")).await;
    h.say(ALICE, "Bloom Coffee", "in a sentence or two").await;
    let bloom = active(&h, ALICE).await.expect("the code made a workspace");
    assert_eq!(h.store.tenant(bloom).await.unwrap().name, "Bloom Coffee");

    // Spent: Alice cannot make a second one, and the list does not offer it.
    let list = h.say(ALICE, "/workspaces", &en("bot.workspaces.title")).await;
    assert!(list.button(&en("bot.workspaces.new")).is_none(), "{list:#?}");
    h.say(ALICE, &format!("/start new_{code}"), &en("bot.create.code_used")).await;
    assert_eq!(h.store.workspace_overviews(0).await.unwrap().len(), 1);

    // The operator (TOCHEN_OPERATORS) creates without a code and is not told they were chosen first.
    let m = h.say(CAROL, "/start", "What's it called").await;
    assert!(!m.text.contains(&en("bot.operator.claimed")[..20]));
});

bot_test!(
    the_first_person_to_start_becomes_the_operator_when_none_is_configured,
    env = &[("TOCHEN_WORKSPACE_CREATION", "operators")],
    |h| {
        let mark = h.tg.mark();
        h.tg.send_text(BOB, "/start");
        h.tg.said(BOB, mark, "You are this server's operator").await;
        h.tg.said(BOB, mark, "What's it called").await;
        assert_eq!(h.store.claimed_operator().await.unwrap(), Some(BOB));
        // Their private chat's menu gains /admin at once.
        h.tg.wait_call(mark, |c| {
            c.method == "setmycommands"
                && c.params["scope"]["chat_id"].as_i64() == Some(BOB)
                && c.params["commands"].to_string().contains("\"admin\"")
        })
        .await;
        // The second person is not; under `operators` they cannot create, and are told how to join instead.
        h.say(ALICE, "/start", &en("bot.create.operators_only")).await;
        assert_eq!(h.store.claimed_operator().await.unwrap(), Some(BOB));
        let code = h.store.create_workspace_code("telegram:1002", 86_400_000).await.unwrap().code;
        h.say(ALICE, &format!("/start new_{code}"), "What's it called").await;
        h.say(ALICE, "Forge", &en("bot.create.operators_only")).await;
        assert_eq!(active(&h, ALICE).await, None, "a code does not open the `operators` policy");
    }
);

bot_test!(a_suspended_workspace_is_refused_politely_and_its_members_can_still_move, |h| {
    let alpha = h.onboard(ALICE, "Alpha").await;
    h.store.suspend_workspace(alpha, "cli:root").await.unwrap();
    let refused = h.say(ALICE, "/idea", "is paused by this server's operator").await;
    assert!(refused.text.contains("<b>Alpha</b>"), "{}", refused.text);
    h.say(ALICE, "/queue", "is paused by this server's operator").await;
    h.say(ALICE, "/start", "is paused by this server's operator").await;
    // Ways out stay open: creating (and so switching to) another workspace.
    let list = h.say(ALICE, "/workspaces", &en("bot.workspaces.title")).await;
    h.press(ALICE, &list, &en("bot.workspaces.new"), "What's it called").await;
    h.say(ALICE, "Beta", "in a sentence or two").await;
    let beta = active(&h, ALICE).await.unwrap();
    assert_ne!(beta, alpha);
    h.say(ALICE, "/cancel", "").await;
    h.say(ALICE, "/queue", &en("bot.queue.empty")).await;

    // Resumed: Alpha works again.
    h.store.resume_workspace(alpha, "cli:root").await.unwrap();
    let list = h.say(ALICE, "/workspaces", &en("bot.workspaces.title")).await;
    h.press(ALICE, &list, "Alpha (admin)", "Now working in Alpha").await;
    h.say(ALICE, "/queue", &en("bot.queue.empty")).await;
});
