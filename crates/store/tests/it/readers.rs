//! Reads beside the writer: on SQLite a read that needs no transaction goes to a read-only connection of its own
//! (WAL), so it answers while the one writer holds a write transaction, and it sees every write committed before
//! it. On PostgreSQL the pool serves both and the same holds. Runs on both backends.

use std::time::Duration;
use tochen_domain::Role;
use tochen_store::TenantProfile;
use tochen_testkit::{person, store_test};

/// Long enough for any read on a loaded machine, far shorter than "until the writer lets go" (never, here).
const PATIENCE: Duration = Duration::from_secs(10);

store_test!(reads_answer_while_the_writer_holds_a_write_and_see_what_was_committed, |store| {
    let (ana, _) = store.person(&person(1, "Ana")).await.unwrap();
    let (bo, _) = store.person(&person(2, "Bo")).await.unwrap();
    let t = store.create_tenant("Bloom", &TenantProfile::default(), 0, ana.id).await.unwrap();
    store.set_dialogue_state(1, 1, "Idle").await.unwrap();

    let held = store.hold_writer().await.unwrap();
    let members = tokio::time::timeout(PATIENCE, store.members(t.id)).await.expect("the read waited for the writer");
    assert_eq!(members.unwrap().len(), 1);
    let role = tokio::time::timeout(PATIENCE, store.role_of(t.id, ana.id)).await.expect("waited for the writer");
    assert_eq!(role.unwrap(), Some(Role::Admin));
    let state = tokio::time::timeout(PATIENCE, store.dialogue_state(1, 1)).await.expect("waited for the writer");
    assert_eq!(state.unwrap().as_deref(), Some("Idle"));
    // A write still waits for the writer: it goes through once the held transaction ends.
    let adding = tokio::spawn({
        let store = store.clone();
        async move { store.add_member(t.id, bo.id, Role::Editor).await }
    });
    drop(held);
    tokio::time::timeout(PATIENCE, adding).await.expect("the write went through").unwrap().unwrap();

    // What was committed is what the next read sees, at once.
    assert_eq!(store.role_of(t.id, bo.id).await.unwrap(), Some(Role::Editor));
    assert_eq!(store.members(t.id).await.unwrap().len(), 2);
    store.set_dialogue_state(1, 1, "Busy").await.unwrap();
    assert_eq!(store.dialogue_state(1, 1).await.unwrap().as_deref(), Some("Busy"));
});
