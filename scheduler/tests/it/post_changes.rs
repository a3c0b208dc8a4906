//! `post.change` jobs through `tochen_scheduler::run_with` (its registration from the configuration), on both
//! databases: a post published to a sandbox account has its text edited and is then deleted by the simulated
//! platform, each settled once and told to the requester's chat.

use crate::common;

use common::*;
use std::collections::HashMap;
use std::sync::Arc;
use std::time::Duration;
use tochen_config::Config;
use tochen_domain::{AuthKind, Platform};
use tochen_scheduler::handlers::results;
use tochen_store::{ChangeKind, ChangeStatus, NewSandboxPost, PostContent, Store};
use tochen_testkit::{store_test, TestDb};
use tokio_util::sync::CancellationToken;

fn config(db: &TestDb, data_dir: &std::path::Path) -> Config {
    let env: HashMap<String, String> = [
        ("DATABASE_URL", db.url.as_str()),
        ("TOCHEN_SECRET_KEYS", db.key.as_str()),
        ("TOCHEN_DATA_DIR", data_dir.to_str().unwrap()),
        ("SCHEDULER_SHUTDOWN_GRACE_SECS", "5"),
    ]
    .into_iter()
    .map(|(k, v)| (k.to_string(), v.to_string()))
    .collect();
    Config::from_source(&env).unwrap()
}

async fn change_status(store: &Store, tenant: tochen_domain::TenantId, id: &str) -> ChangeStatus {
    store.post_change(tenant, id).await.unwrap().status
}

store_test!(run_with_edits_and_deletes_a_sandbox_post_and_tells_the_requester, |store, db| {
    let dir = tempfile::tempdir().unwrap();
    let config = config(&db, dir.path());
    let tenant = workspace(&store).await;
    let account =
        tochen_platforms::sandbox::connect(&store, tenant, "Bloom", AuthKind::SandboxFacebook, None).await.unwrap();
    let post = store.create_draft(tenant, None, Some(AUTHOR_CHAT), "Fresh bread", "idea").await.unwrap();
    let c =
        PostContent { platform: Platform::Facebook, body: "at 8".into(), hashtags: vec![], link: None, custom: false };
    store.set_post_content(tenant, post.id, &c).await.unwrap();
    let v = store.post(tenant, post.id).await.unwrap().version;
    let at = tochen_domain::clock::now_ms() + 3_600_000;
    let t = store.schedule_post(tenant, post.id, v, at, &[account.id], false).await.unwrap().remove(0);
    begin(&store, tenant, t.id).await;
    let new = NewSandboxPost {
        tenant_id: tenant,
        account_id: account.id,
        target_id: t.id,
        platform: Platform::Facebook,
        account_name: account.name.clone(),
        caption: "at 8".into(),
        media: vec![],
    };
    let kept = store.publish_sandbox_post(&new).await.unwrap();
    results::mark_published(&store, tenant, t.id, &kept.id, None, None).await.unwrap();

    let notifier = Arc::new(RecordingNotifier::default());
    let deps = deps(Default::default(), notifier.clone());
    let stop = CancellationToken::new();
    let handle = tokio::spawn({
        let (store, stop, config) = (store.clone(), stop.clone(), config.clone());
        async move { tochen_scheduler::run_with(&config, store, deps, stop).await }
    });

    let v = store.post(tenant, post.id).await.unwrap().version;
    let edit = store
        .request_post_change(tenant, t.id, v, ChangeKind::EditText, Some("at 9"), None, Some(AUTHOR_CHAT))
        .await
        .unwrap();
    wait_for("the edit", Duration::from_secs(30), || async {
        change_status(&store, tenant, &edit.id).await == ChangeStatus::Done
    })
    .await;
    assert_eq!(store.sandbox_post(&kept.id).await.unwrap().unwrap().caption, "at 9");
    let v = store.post(tenant, post.id).await.unwrap().version;
    let del =
        store.request_post_change(tenant, t.id, v, ChangeKind::Delete, None, None, Some(AUTHOR_CHAT)).await.unwrap();
    wait_for("the delete", Duration::from_secs(30), || async {
        change_status(&store, tenant, &del.id).await == ChangeStatus::Done
    })
    .await;
    assert!(store.sandbox_post(&kept.id).await.unwrap().is_none());
    wait_for("both notices", Duration::from_secs(30), || async {
        notifier.sent.lock().unwrap().iter().filter(|m| m.text_html.contains("Fresh bread")).count() >= 3
    })
    .await;
    stop.cancel();
    tokio::time::timeout(Duration::from_secs(20), handle).await.unwrap().unwrap().unwrap();
    let sent = notifier.sent.lock().unwrap().clone();
    let to_author: Vec<&str> = sent.iter().filter(|m| m.chat_id == AUTHOR_CHAT).map(|m| m.text_html.as_str()).collect();
    assert_eq!(to_author.iter().filter(|m| m.contains("was changed")).count(), 1, "{to_author:?}");
    assert_eq!(to_author.iter().filter(|m| m.contains("was deleted from Facebook")).count(), 1, "{to_author:?}");
    let on = store.targets_on_platform(tenant, post.id).await.unwrap();
    assert_eq!(on[0].current_text.as_deref(), Some("at 9"));
    assert!(on[0].deleted_at.is_some());
});
