//! Editing and deleting published Facebook posts through the Facebook editor, against the fake Graph API: the
//! fake shows the new text and the deleted state; refusals, missing posts and lost answers map as the scheduler's
//! `post.change` job expects.

use std::collections::HashMap;
use tochen_config::Config;
use tochen_domain::ids::{AccountId, TargetId, TenantId};
use tochen_domain::SecretString;
use tochen_domain::{AuthKind, Platform};
use tochen_platforms::edit::{Deleted, EditRequest, PostEditor};
use tochen_platforms::publish::{ErrorClass, PublishOutcome, PublishRequest, Publisher};
use tochen_platforms::{PlatformClients, PollPolicy};
use tochen_testkit::fake_graph::FakeGraph;

use crate::common::Refs;

async fn facebook(graph: &FakeGraph) -> std::sync::Arc<tochen_platforms::FacebookPublisher> {
    let env: HashMap<String, String> =
        [("META_APP_ID", "app-1"), ("META_APP_SECRET", "s"), ("META_GRAPH_URL", &graph.base_url() as &str)]
            .into_iter()
            .map(|(k, v)| (k.to_string(), v.to_string()))
            .collect();
    let config = Config::from_source(&env).unwrap();
    PlatformClients::new(&config, reqwest::Client::new(), PollPolicy::quick()).facebook.unwrap()
}

/// Publishes `text` to the Page `111` and returns the request to edit or delete the post.
async fn published(fb: &dyn Publisher, token: &str, text: &str) -> EditRequest {
    let req = PublishRequest {
        tenant_id: TenantId::new(),
        target_id: TargetId::new(),
        account_id: AccountId::new(),
        platform: Platform::Facebook,
        external_account_id: "111".into(),
        auth_kind: AuthKind::FacebookPage,
        access_token: SecretString::new(token),
        text: text.into(),
        title: String::new(),
        link: None,
        media: vec![],
        options: Default::default(),
    };
    let PublishOutcome::Published { platform_post_id, .. } = fb.publish(&req, &Refs::default()).await.unwrap() else {
        panic!("Facebook answers at once")
    };
    EditRequest {
        tenant_id: req.tenant_id,
        target_id: req.target_id,
        account_id: req.account_id,
        platform: req.platform,
        auth_kind: req.auth_kind,
        external_account_id: req.external_account_id,
        access_token: req.access_token,
        platform_post_id,
        video: false,
    }
}

#[tokio::test]
async fn a_page_post_is_edited_and_deleted_and_a_second_delete_finds_it_gone() {
    let graph = FakeGraph::start().await;
    let token = graph.add_page("111", "Bakery", None);
    let fb = facebook(&graph).await;
    let req = published(fb.as_ref(), &token, "Fresh bread at 8").await;
    assert_eq!(graph.post_text(&req.platform_post_id).as_deref(), Some("Fresh bread at 8"));

    fb.edit_text(&req, "Fresh bread at 9").await.unwrap();
    assert_eq!(graph.post_text(&req.platform_post_id).as_deref(), Some("Fresh bread at 9"));
    let edit = posts_to(&graph, &req.platform_post_id).remove(0);
    assert_eq!(edit.params["message"], "Fresh bread at 9");

    assert!(fb.exists(&req).await.unwrap());
    assert_eq!(fb.delete(&req).await.unwrap(), Deleted::Deleted);
    assert!(graph.is_deleted(&req.platform_post_id));
    assert!(!fb.exists(&req).await.unwrap(), "a deleted post is gone");
    assert_eq!(fb.delete(&req).await.unwrap(), Deleted::AlreadyGone);
    let gone = fb.edit_text(&req, "too late").await.unwrap_err();
    assert_eq!((gone.class, gone.code.as_deref()), (ErrorClass::Permanent, Some("100/33")));
}

#[tokio::test]
async fn a_refused_edit_is_permanent_with_facebooks_message_and_changes_nothing() {
    let graph = FakeGraph::start().await;
    let token = graph.add_page("111", "Bakery", None);
    let fb = facebook(&graph).await;
    for code in [100, 200] {
        let req = published(fb.as_ref(), &token, "shared post").await;
        graph.mark_not_editable(&req.platform_post_id, code);
        let e = fb.edit_text(&req, "new").await.unwrap_err();
        assert_eq!(e.class, ErrorClass::Permanent, "code {code} means not editable, not reconnect: {e:?}");
        assert!(e.message.contains("cannot be edited"), "{e:?}");
        assert_eq!(graph.post_text(&req.platform_post_id).as_deref(), Some("shared post"));
    }
    // An id Facebook never had, and an invalid token.
    let mut req = published(fb.as_ref(), &token, "x").await;
    req.platform_post_id = "111_404".into();
    assert_eq!(fb.edit_text(&req, "new").await.unwrap_err().class, ErrorClass::Permanent);
    graph.revoke_token(&token);
    assert_eq!(fb.delete(&req).await.unwrap_err().class, ErrorClass::NeedsReconnect);
}

/// The POSTs to the post's own path (its edits).
fn posts_to(graph: &FakeGraph, id: &str) -> Vec<tochen_testkit::fake_graph::GraphCall> {
    graph.calls_to(&format!("/{id}")).into_iter().filter(|c| c.method == "POST").collect()
}

#[tokio::test]
async fn a_lost_delete_answer_is_retryable_and_asking_finds_the_post_gone() {
    let graph = FakeGraph::start().await;
    let token = graph.add_page("111", "Bakery", None);
    let fb = facebook(&graph).await;
    let req = published(fb.as_ref(), &token, "bye").await;
    graph.fail_next_after(&req.platform_post_id, 500, 2, "An unexpected error has occurred");
    let e = fb.delete(&req).await.unwrap_err();
    assert!(matches!(e.class, ErrorClass::Retryable { .. }), "a delete can be asked about: {e:?}");
    assert!(graph.is_deleted(&req.platform_post_id), "the fake deleted it before the answer was lost");
    assert!(!fb.exists(&req).await.unwrap());
}

#[tokio::test]
async fn a_video_post_is_edited_through_its_description() {
    let graph = FakeGraph::start().await;
    let token = graph.add_page("111", "Bakery", None);
    let fb = facebook(&graph).await;
    let mut req = published(fb.as_ref(), &token, "clip").await;
    req.video = true;
    fb.edit_text(&req, "a better description").await.unwrap();
    let call = posts_to(&graph, &req.platform_post_id).remove(0);
    assert_eq!(call.params.get("description").map(String::as_str), Some("a better description"));
    assert!(!call.params.contains_key("message"));
}
