//! Telegram's own failure modes and group chats: two people in one group keep separate conversations, a 429 is
//! waited out, a blocked chat drops its conversation, a group upgraded to a supergroup is followed.

use crate::common;

use common::{en, ALICE, BOB};
use serde_json::json;
use tochen_domain::Role;

const GROUP: i64 = -100_500;
const SUPERGROUP: i64 = -100_999;

bot_test!(two_people_in_one_group_keep_separate_conversations, |h| {
    let a = h.onboard(ALICE, "Alpha").await;
    let bob = h.store.upsert_user(&common::identity(BOB)).await.unwrap();
    h.store.add_member(a, bob.id, Role::Editor).await.unwrap();
    h.store.set_active_tenant(bob.id, a).await.unwrap();

    let mark = h.tg.mark();
    h.tg.send_text_as(GROUP, ALICE, "en", "/start@tochen_test_bot");
    h.tg.said(GROUP, mark, "team chat of Alpha").await;
    assert_eq!(h.store.tenant(a).await.unwrap().team_chat_id, Some(GROUP));

    let mark = h.tg.mark();
    h.tg.send_text_as(GROUP, BOB, "en", "/idea@tochen_test_bot soup");
    let bobs = h.tg.said(GROUP, mark, "Ideas for").await;
    let mark = h.tg.mark();
    h.tg.press_as(GROUP, BOB, bobs.message_id, &bobs.button("1").unwrap());
    let draft = h.tg.said(GROUP, mark, "Draft:").await;
    let mark = h.tg.mark();
    h.tg.press(BOB, &draft, &en("bot.draft.btn_edit"));
    h.tg.said(GROUP, mark, "Send the new text").await;
    // Alice talks in the same group: she is not in Bob's edit.
    let mark = h.tg.mark();
    h.tg.send_text_as(GROUP, ALICE, "en", "/idea@tochen_test_bot tea");
    h.tg.said(GROUP, mark, "Ideas for").await;
    let alice_state = h.store.dialogue_state(GROUP, ALICE).await.unwrap().unwrap();
    let bob_state = h.store.dialogue_state(GROUP, BOB).await.unwrap().unwrap();
    assert!(alice_state.contains("Ideas") && bob_state.contains("EditText"), "{alice_state} / {bob_state}");
    // Bob's next message is his new text.
    let mark = h.tg.mark();
    h.tg.send_text_as(GROUP, BOB, "en", "Soup of the day");
    let m = h.tg.said(GROUP, mark, "Soup of the day").await;
    assert!(m.text.contains("Draft:"));
});

bot_test!(
    sends_keep_telegrams_pace_and_a_429_holds_only_its_chat_for_the_time_asked,
    limits = tochen_bot::telegram_limits(),
    |h| {
        use std::time::Duration;
        let sends_to = |chat: i64, since: usize| {
            h.tg.calls()
                .into_iter()
                .skip(since)
                .filter(|c| c.method == "sendmessage" && c.params["chat_id"].as_i64() == Some(chat))
                .collect::<Vec<_>>()
        };
        // Three commands at once from one person: the replies reach Telegram about a second apart.
        let mark = h.tg.mark();
        for _ in 0..3 {
            h.tg.send_text(ALICE, "/help");
        }
        let deadline = tokio::time::Instant::now() + Duration::from_secs(15);
        while sends_to(ALICE, mark).len() < 3 && tokio::time::Instant::now() < deadline {
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
        let alice = sends_to(ALICE, mark);
        assert_eq!(alice.len(), 3, "{alice:#?}");
        for pair in alice.windows(2) {
            let gap = pair[1].at - pair[0].at;
            assert!(gap >= Duration::from_millis(900), "replies in one chat {gap:?} apart");
        }

        // A 429 for Bob's chat: his reply is sent again after the two seconds asked, and Alice, asking after the
        // 429, is answered before that; her chat is not held.
        let mark = h.tg.mark();
        h.tg.fail_next("sendmessage", 429, "Too Many Requests: retry after 2", json!({"retry_after": 2}));
        h.tg.send_text(BOB, "/help");
        h.tg.wait_call(mark, |c| c.params["__failed"].as_bool() == Some(true)).await;
        h.tg.send_text(ALICE, "/help");
        h.tg.said(BOB, mark, "What I can do").await;
        let bob = sends_to(BOB, mark);
        assert_eq!(bob.len(), 2, "the refused send and its retry: {bob:#?}");
        let held = bob[1].at - bob[0].at;
        assert!(held >= Duration::from_millis(1_900), "sent again after {held:?}, asked to wait 2 s");
        h.tg.said(ALICE, mark, "What I can do").await;
        let alice = sends_to(ALICE, mark);
        assert!(alice.len() == 1 && alice[0].seq < bob[1].seq, "Alice waited for Bob's hold: {alice:#?}");
    }
);

bot_test!(rate_limits_blocked_chats_and_migrations_are_handled, |h| {
    h.onboard(ALICE, "Alpha").await;
    // 429 with retry_after: the message still arrives.
    h.tg.fail_next("sendmessage", 429, "Too Many Requests: retry after 1", json!({"retry_after": 1}));
    h.say(ALICE, "/help", "What I can do").await;

    // Blocked: the conversation is dropped, nothing crashes.
    let m = h.say(ALICE, "/idea", "Ideas for").await;
    assert!(h.store.dialogue_state(ALICE, ALICE).await.unwrap().is_some());
    let mark = h.tg.mark();
    h.tg.fail_next("sendmessage", 403, "Forbidden: bot was blocked by the user", json!({}));
    h.tg.send_text(ALICE, "/help");
    h.tg.wait_call(mark, |c| c.method == "sendmessage").await;
    h.say(ALICE, "/usage", "Tokens").await;
    assert!(h.store.dialogue_state(ALICE, ALICE).await.unwrap().is_none());
    drop(m);

    // A group upgraded to a supergroup: the send follows the new id and conversations move.
    let mark = h.tg.mark();
    h.tg.send_text_as(GROUP, ALICE, "en", "/idea@tochen_test_bot");
    h.tg.said(GROUP, mark, "Ideas for").await;
    h.tg.fail_next(
        "sendmessage",
        400,
        "Bad Request: group chat was upgraded to a supergroup chat",
        json!({"migrate_to_chat_id": SUPERGROUP}),
    );
    let mark = h.tg.mark();
    h.tg.send_text_as(GROUP, ALICE, "en", "/help@tochen_test_bot");
    h.tg.said(SUPERGROUP, mark, "What I can do").await;
    assert!(h.store.dialogue_state(SUPERGROUP, ALICE).await.unwrap().is_some());
    // The service message about the migration is understood too.
    h.tg.push_message(
        json!({"chat": {"id": SUPERGROUP, "type": "supergroup", "title": "T"}, "migrate_from_chat_id": GROUP,
        "from": {"id": 1, "is_bot": false, "first_name": "x"}}),
    );
    h.say(ALICE, "/help", "What I can do").await;
});

bot_test!(people_are_answered_in_their_language_and_can_switch_it, |h| {
    const OLGA: i64 = 1_010;
    let mark = h.tg.mark();
    h.tg.send_text_as(OLGA, OLGA, "ru", "/start");
    h.tg.said(OLGA, mark, "Как оно называется").await;
    let mark = h.tg.mark();
    h.tg.send_text_as(OLGA, OLGA, "ru", "/language");
    let m = h.tg.said(OLGA, mark, "Выберите язык").await;
    let mark = h.tg.mark();
    h.tg.press(OLGA, &m, "Deutsch");
    h.tg.said(OLGA, mark, "ich spreche jetzt Deutsch").await;
    let mark = h.tg.mark();
    h.tg.send_text_as(OLGA, OLGA, "ru", "/help");
    h.tg.said(OLGA, mark, "Was ich kann").await;
    // The command menu is registered per language and scope.
    let calls = h.tg.calls();
    let (menus, own): (Vec<_>, Vec<_>) =
        calls.iter().filter(|c| c.method == "setmycommands").partition(|c| c.params["scope"]["type"] != "chat");
    assert_eq!(menus.len(), 15, "5 languages x (private, groups, group admins)");
    // Olga, the first to start, became the operator: her own chat's menu, in 5 languages, adds /admin.
    assert_eq!(own.len(), 5, "{own:?}");
    assert!(own.iter().all(|c| c.params["scope"]["chat_id"] == OLGA), "{own:?}");
    let admins = menus
        .iter()
        .find(|c| c.params["language_code"] == "de" && c.params["scope"]["type"] == "all_chat_administrators")
        .expect("group admins get their own menu");
    assert!(admins.params["commands"].as_array().unwrap().iter().any(|c| c["command"] == "start"), "{admins:?}");
    assert!(menus.iter().any(|c| c.params["language_code"] == "uk" && c.params["scope"]["type"] == "all_group_chats"));

    // The management commands are in the menus: private chats list them all but /link (it works in a group
    // only), group admins get /link and the automations, every group member the list of automations.
    let menu = |lang: Option<&str>, scope: &str| -> Vec<(String, String)> {
        let call = menus
            .iter()
            .find(|c| c.params["language_code"].as_str() == lang && c.params["scope"]["type"] == scope)
            .unwrap_or_else(|| panic!("no {scope} menu in {lang:?}"));
        call.params["commands"]
            .as_array()
            .unwrap()
            .iter()
            .map(|c| (c["command"].as_str().unwrap().to_owned(), c["description"].as_str().unwrap().to_owned()))
            .collect()
    };
    let names = |m: &[(String, String)]| m.iter().map(|(c, _)| c.clone()).collect::<Vec<_>>();
    let private = menu(None, "all_private_chats");
    for cmd in ["automate", "automations", "destinations", "webhook", "email", "connect", "accounts"] {
        assert!(names(&private).iter().any(|c| c == cmd), "/{cmd} in the private menu: {private:?}");
    }
    assert!(!names(&private).iter().any(|c| c == "link"));
    let group_admins = names(&menu(None, "all_chat_administrators"));
    for cmd in ["link", "automate", "automations", "destinations"] {
        assert!(group_admins.iter().any(|c| c == cmd), "/{cmd} for group admins: {group_admins:?}");
    }
    assert!(!group_admins.iter().any(|c| c == "webhook"), "a webhook's secret is not shown in a group");
    let group = names(&menu(None, "all_group_chats"));
    assert!(group.iter().any(|c| c == "automations") && !group.iter().any(|c| c == "link" || c == "automate"));
    // Localized: the German menu describes them in German.
    let de = menu(Some("de"), "all_private_chats");
    let automate = de.iter().find(|(c, _)| c == "automate").unwrap();
    assert_eq!(automate.1, tochen_domain::i18n::t("de", "bot.cmd.automate"));
    assert_ne!(automate.1, en("bot.cmd.automate"));
});

/// `user` says `/help` in `chat` and is answered there: every update of that chat before it has been handled.
async fn settled(h: &common::Harness, chat: i64, user: i64) {
    let mark = h.tg.mark();
    h.tg.send_text_as(chat, user, "en", "/help@tochen_test_bot");
    h.tg.said(chat, mark, "What I can do").await;
}

fn migration(old: i64, new: i64, in_old_chat: bool) -> serde_json::Value {
    let from = json!({"id": 1, "is_bot": false, "first_name": "x"});
    if in_old_chat {
        json!({"chat": {"id": old, "type": "group", "title": "T"}, "migrate_to_chat_id": new, "from": from})
    } else {
        json!({"chat": {"id": new, "type": "supergroup", "title": "T"}, "migrate_from_chat_id": old, "from": from})
    }
}

bot_test!(a_team_chat_that_becomes_a_supergroup_is_followed_by_its_workspace_and_destinations, |h| {
    // Alice's group is her team chat and a destination.
    let a = h.onboard(ALICE, "Alpha").await;
    let mark = h.tg.mark();
    h.tg.send_text_as(GROUP, ALICE, "en", "/start@tochen_test_bot");
    h.tg.said(GROUP, mark, "team chat of Alpha").await;
    let mark = h.tg.mark();
    h.tg.send_text_as(GROUP, ALICE, "en", "/link@tochen_test_bot");
    h.tg.said(GROUP, mark, "receives reports").await;

    // Telegram's service message in the old group moves everything to the supergroup.
    h.tg.push_message(migration(GROUP, SUPERGROUP, true));
    settled(&h, GROUP, ALICE).await;
    assert_eq!(h.store.tenant(a).await.unwrap().team_chat_id, Some(SUPERGROUP));
    let chats: Vec<_> = h.store.destinations(a).await.unwrap().iter().map(|d| d.telegram_chat_id).collect();
    assert_eq!(chats, vec![Some(SUPERGROUP)]);
    // Its twin in the new supergroup, and the scheduler learning it from a send, find nothing left to move.
    h.tg.push_message(migration(GROUP, SUPERGROUP, false));
    settled(&h, SUPERGROUP, ALICE).await;
    assert!(h.store.migrate_team_chat(GROUP, SUPERGROUP).await.unwrap().is_empty());
    assert_eq!(h.store.tenant(a).await.unwrap().team_chat_id, Some(SUPERGROUP));
    assert_eq!(h.store.destinations(a).await.unwrap().len(), 1);

    // Only the message in the new supergroup arrives: it is enough.
    const GROUP2: i64 = -100_501;
    const SUPERGROUP2: i64 = -100_998;
    h.store.set_team_chat(a, Some(GROUP2)).await.unwrap();
    h.tg.push_message(migration(GROUP2, SUPERGROUP2, false));
    settled(&h, SUPERGROUP2, ALICE).await;
    assert_eq!(h.store.tenant(a).await.unwrap().team_chat_id, Some(SUPERGROUP2));

    // A send the bot makes there is answered with the new id: the team chat follows too.
    const GROUP3: i64 = -100_502;
    const SUPERGROUP3: i64 = -100_997;
    h.store.set_team_chat(a, Some(GROUP3)).await.unwrap();
    h.tg.fail_next(
        "sendmessage",
        400,
        "Bad Request: group chat was upgraded to a supergroup chat",
        json!({"migrate_to_chat_id": SUPERGROUP3}),
    );
    let mark = h.tg.mark();
    h.tg.send_text_as(GROUP3, ALICE, "en", "/help@tochen_test_bot");
    h.tg.said(SUPERGROUP3, mark, "What I can do").await;
    assert_eq!(h.store.tenant(a).await.unwrap().team_chat_id, Some(SUPERGROUP3));
});
