//! The person behind an update on both databases (`Store::person`): made on first contact, read with their active
//! workspace and role in one statement, written again only when their Telegram details change, and no workspace
//! once they are no longer a member of it.

use tochen_domain::Role;
use tochen_store::TenantProfile;
use tochen_testkit::{person, store_test};

store_test!(person_is_read_with_workspace_and_role_and_written_only_on_change, |store| {
    let who = person(7, "Ana");
    let (ana, none) = store.person(&who).await.unwrap();
    assert_eq!((ana.telegram_id, ana.first_name.as_str(), none), (7, "Ana", None), "made on first contact");
    let t = store.create_tenant("Bloom", &TenantProfile::default(), 0, ana.id).await.unwrap();
    let (same, active) = store.person(&who).await.unwrap();
    assert_eq!(same.id, ana.id);
    let (tenant, role) = active.expect("the active workspace");
    assert_eq!((tenant.id, tenant.name.as_str(), role), (t.id, "Bloom", Role::Admin));
    assert_eq!(tenant, store.tenant(t.id).await.unwrap(), "the joined workspace decodes as the plain read does");

    // The same details: no write (updated_at stays); new details: written and returned.
    let stamp = "SELECT updated_at FROM users WHERE telegram_id = 7";
    let (before,): (i64,) = sqlx::query_as(stamp).fetch_one(store.sql_for_tests()).await.unwrap();
    sqlx::query("UPDATE users SET updated_at = 1 WHERE telegram_id = 7").execute(store.sql_for_tests()).await.unwrap();
    store.person(&who).await.unwrap();
    let (after,): (i64,) = sqlx::query_as(stamp).fetch_one(store.sql_for_tests()).await.unwrap();
    assert_eq!(after, 1, "nothing written for an unchanged person (was {before})");
    let renamed = tochen_store::TelegramIdentity { first_name: "Anna".into(), ..who.clone() };
    let (u, _) = store.person(&renamed).await.unwrap();
    assert_eq!((u.id, u.first_name.as_str()), (ana.id, "Anna"));

    // A member of another workspace only as a viewer, then removed from it: the role follows, then no workspace.
    let fred = store.person(&person(8, "Fred")).await.unwrap().0;
    let forge = store.create_tenant("Forge", &TenantProfile::default(), 0, fred.id).await.unwrap();
    store.add_member(forge.id, ana.id, Role::Viewer).await.unwrap();
    store.set_active_tenant(ana.id, forge.id).await.unwrap();
    let (_, active) = store.person(&renamed).await.unwrap();
    assert_eq!(active.map(|(t, r)| (t.id, r)), Some((forge.id, Role::Viewer)));
    store.remove_member(forge.id, ana.id).await.unwrap();
    let (_, active) = store.person(&renamed).await.unwrap();
    assert_eq!(active, None, "not a member any more");
});

store_test!(person_in_chat_brings_their_dialogue_in_that_chat_only, |store| {
    let who = person(9, "Ines");
    let first = store.person_in_chat(&who, Some(9)).await.unwrap();
    assert_eq!((first.user.first_name.as_str(), first.dialogue), ("Ines", None), "made on first contact, idle");
    store.set_dialogue_state(9, 9, r#"{"s":"SetupTone"}"#).await.unwrap();
    store.set_dialogue_state(-100, 9, r#"{"s":"Group"}"#).await.unwrap();
    store.set_dialogue_state(9, 10, r#"{"s":"Someone else"}"#).await.unwrap();
    let private = store.person_in_chat(&who, Some(9)).await.unwrap();
    assert_eq!(private.dialogue.as_deref(), Some(r#"{"s":"SetupTone"}"#));
    let group = store.person_in_chat(&who, Some(-100)).await.unwrap();
    assert_eq!(group.dialogue.as_deref(), Some(r#"{"s":"Group"}"#), "the state of that chat");
    assert_eq!(store.person_in_chat(&who, Some(-200)).await.unwrap().dialogue, None, "no state in another chat");
    assert_eq!(store.person_in_chat(&who, None).await.unwrap().dialogue, None, "no chat, no state");
    store.remove_dialogue_state(9, 9).await.unwrap();
    assert_eq!(store.person_in_chat(&who, Some(9)).await.unwrap().dialogue, None);
});
