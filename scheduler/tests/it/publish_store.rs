//! The store side of the publishing pipeline on both databases: the joined context read (media in post order),
//! settling a target, which moves a sole target's post in the same statement on PostgreSQL and recomputes the post
//! of a target with siblings after the commit, and the moves by hand (skip, confirm, post again), which recompute
//! the post too.

use crate::common;

use common::*;
use tochen_domain::clock::now_ms;
use tochen_domain::ids::{PostId, TargetId, TenantId};
use tochen_domain::{MediaKind, Platform, PostStatus, TargetStatus};
use tochen_store::Store;
use tochen_store::{BeginPublish, NewMedia, Settle};
use tochen_testkit::store_test;

async fn media(store: &Store, tenant: TenantId, kind: MediaKind, path: &str, size: i64) -> String {
    let new = NewMedia {
        kind,
        content_type: if kind == MediaKind::Video { "video/mp4" } else { "image/jpeg" }.into(),
        size_bytes: size,
        sha256: format!("sha-{path}"),
        storage_path: path.into(),
        source: "upload".into(),
        width: None,
        height: None,
        duration_ms: None,
    };
    store.insert_media(tenant, &new).await.unwrap().id.to_string()
}

async fn attach(store: &Store, tenant: TenantId, post: PostId, media: &str, position: i64) {
    sqlx::query("INSERT INTO post_media (post_id, tenant_id, media_id, position) VALUES ($1, $2, $3, $4)")
        .bind(post.to_string())
        .bind(tenant.to_string())
        .bind(media)
        .bind(position)
        .execute(store.sql_for_tests())
        .await
        .unwrap();
}

async fn started(store: &Store, tenant: TenantId, target: TargetId) {
    let begun = begin(store, tenant, target).await;
    assert!(matches!(begun, BeginPublish::Started(_)), "{begun:?}");
}

async fn publish(store: &Store, tenant: TenantId, target: TargetId) {
    let change = Settle::Published { platform_post_id: "p-1", permalink: Some("https://fb.example/p-1") };
    let settled = store.settle_target(tenant, target, change, false, |_| None).await.unwrap();
    assert_eq!(settled.expect("the target was publishing").status, TargetStatus::Published);
}

async fn fail(store: &Store, tenant: TenantId, target: TargetId, to: TargetStatus) {
    let from = [TargetStatus::Publishing];
    let change = Settle::To { from: &from, to, class: "permanent", message: "caption too long" };
    let settled = store.settle_target(tenant, target, change, false, |_| None).await.unwrap();
    assert_eq!(settled.expect("the target was publishing").status, to);
}

async fn post_status(store: &Store, tenant: TenantId, post: PostId) -> PostStatus {
    store.post(tenant, post).await.unwrap().status
}

store_test!(the_context_read_lists_the_media_in_post_order, |store| {
    let tenant = workspace(&store).await;
    let fb = account(&store, tenant, Platform::Facebook, "page-1").await;
    let (post, targets) = scheduled_post(&store, tenant, &[fb], now_ms()).await;
    let ctx = store.publish_context(tenant, targets[0].id).await.unwrap();
    assert!(ctx.media.is_empty(), "a post without media has none: {:?}", ctx.media);

    // Inserted in the opposite order of their positions, so only the ordering puts them right.
    let second = media(&store, tenant, MediaKind::Video, "media/clip.mp4", 2_000_000).await;
    let first = media(&store, tenant, MediaKind::Image, "media/cover.jpg", 52_431).await;
    attach(&store, tenant, post, &second, 1).await;
    attach(&store, tenant, post, &first, 0).await;
    let ctx = store.publish_context(tenant, targets[0].id).await.unwrap();
    let listed: Vec<_> = ctx
        .media
        .iter()
        .map(|(id, kind, ct, size, path)| (id.to_string(), *kind, ct.as_str(), *size, path.as_str()))
        .collect();
    assert_eq!(
        listed,
        vec![
            (first, MediaKind::Image, "image/jpeg", 52_431, "media/cover.jpg"),
            (second, MediaKind::Video, "video/mp4", 2_000_000, "media/clip.mp4"),
        ]
    );
    assert_eq!(ctx.post.id, post);
    assert_eq!(ctx.account.id, fb);
});

store_test!(a_sole_target_settling_settles_its_post, |store| {
    let tenant = workspace(&store).await;
    let fb = account(&store, tenant, Platform::Facebook, "page-1").await;

    let (post, targets) = scheduled_post(&store, tenant, &[fb], now_ms()).await;
    started(&store, tenant, targets[0].id).await;
    assert_eq!(post_status(&store, tenant, post).await, PostStatus::Publishing);
    publish(&store, tenant, targets[0].id).await;
    assert_eq!(post_status(&store, tenant, post).await, PostStatus::Published);

    let (post, targets) = scheduled_post(&store, tenant, &[fb], now_ms()).await;
    started(&store, tenant, targets[0].id).await;
    fail(&store, tenant, targets[0].id, TargetStatus::Failed).await;
    assert_eq!(post_status(&store, tenant, post).await, PostStatus::Failed);

    // An unknown outcome leaves the post open until the team decides.
    let (post, targets) = scheduled_post(&store, tenant, &[fb], now_ms()).await;
    started(&store, tenant, targets[0].id).await;
    fail(&store, tenant, targets[0].id, TargetStatus::Unknown).await;
    assert_eq!(post_status(&store, tenant, post).await, PostStatus::Publishing);
    assert!(store.confirm_target_by_hand(tenant, targets[0].id).await.unwrap());
    assert_eq!(post_status(&store, tenant, post).await, PostStatus::Published);

    // A settle that finds the target already settled changes nothing.
    let change = Settle::To { from: &[TargetStatus::Publishing], to: TargetStatus::Failed, class: "x", message: "y" };
    assert!(store.settle_target(tenant, targets[0].id, change, false, |_| None).await.unwrap().is_none());
    assert_eq!(post_status(&store, tenant, post).await, PostStatus::Published);
});

store_test!(a_post_with_several_targets_settles_when_the_last_one_does, |store| {
    let (tenant, fb, ig) = facebook_and_instagram(&store).await;
    let (post, targets) = scheduled_post(&store, tenant, &[fb, ig], now_ms()).await;
    started(&store, tenant, targets[0].id).await;
    started(&store, tenant, targets[1].id).await;
    publish(&store, tenant, targets[0].id).await;
    assert_eq!(post_status(&store, tenant, post).await, PostStatus::Publishing, "one target is still out");
    fail(&store, tenant, targets[1].id, TargetStatus::Failed).await;
    assert_eq!(post_status(&store, tenant, post).await, PostStatus::PartiallyPublished);
});

store_test!(siblings_settling_at_the_same_moment_leave_no_post_open, |store| {
    let (tenant, fb, ig) = facebook_and_instagram(&store).await;
    let mut posts = Vec::new();
    for _ in 0..20 {
        let (post, targets) = scheduled_post(&store, tenant, &[fb, ig], now_ms()).await;
        for t in &targets {
            started(&store, tenant, t.id).await;
        }
        posts.push((post, targets[0].id, targets[1].id));
    }
    let mut settling = tokio::task::JoinSet::new();
    for (_, a, b) in &posts {
        for t in [*a, *b] {
            let store = store.clone();
            settling.spawn(async move { publish(&store, tenant, t).await });
        }
    }
    while let Some(done) = settling.join_next().await {
        done.unwrap();
    }
    for (post, _, _) in posts {
        assert_eq!(post_status(&store, tenant, post).await, PostStatus::Published);
    }
});

store_test!(settling_with_an_event_queues_it_and_settles_the_post_together, |store| {
    let (tenant, fb, ig) = facebook_and_instagram(&store).await;
    let (post, targets) = scheduled_post(&store, tenant, &[fb, ig], now_ms()).await;
    started(&store, tenant, targets[0].id).await;
    started(&store, tenant, targets[1].id).await;
    let event = |t: &tochen_store::Target| {
        Some(tochen_store::NewJob::untyped("test.event", serde_json::json!({ "target": t.id })))
    };
    for t in &targets {
        let change = Settle::Published { platform_post_id: "p-1", permalink: None };
        let settled = store.settle_target(tenant, t.id, change, true, event).await.unwrap();
        assert_eq!(settled.expect("publishing").status, TargetStatus::Published);
    }
    assert_eq!(post_status(&store, tenant, post).await, PostStatus::Published);
    let queued = store.jobs_of_kind("test.event", tochen_domain::JobState::Queued, 10).await.unwrap();
    assert_eq!(queued.len(), 2, "one event per settled target");

    // A second settle of the same target queues nothing more.
    let change = Settle::Published { platform_post_id: "p-2", permalink: None };
    assert!(store.settle_target(tenant, targets[0].id, change, true, event).await.unwrap().is_none());
    assert_eq!(store.jobs_of_kind("test.event", tochen_domain::JobState::Queued, 10).await.unwrap().len(), 2);
});

store_test!(beginning_a_target_already_under_way_moves_nothing, |store| {
    let (tenant, fb, ig) = facebook_and_instagram(&store).await;
    let (post, targets) = scheduled_post(&store, tenant, &[fb, ig], now_ms()).await;
    started(&store, tenant, targets[0].id).await;
    let again = begin(&store, tenant, targets[0].id).await;
    assert!(matches!(again, BeginPublish::InFlight(ref t) if t.attempts == 1), "{again:?}");
    publish(&store, tenant, targets[0].id).await;
    let again = begin(&store, tenant, targets[0].id).await;
    assert!(matches!(again, BeginPublish::Settled(_)), "{again:?}");
    assert_eq!(post_status(&store, tenant, post).await, PostStatus::Publishing, "the other target is pending");
    // The second target starts; its post, already publishing, stays so until both are settled.
    started(&store, tenant, targets[1].id).await;
    publish(&store, tenant, targets[1].id).await;
    assert_eq!(post_status(&store, tenant, post).await, PostStatus::Published);
});

store_test!(the_context_carries_the_options_the_post_publishes_with, |store| {
    let tenant = workspace(&store).await;
    let fb = account(&store, tenant, Platform::Facebook, "page-1").await;
    let (post, targets) = scheduled_post(&store, tenant, &[fb], now_ms()).await;
    assert!(store.publish_context(tenant, targets[0].id).await.unwrap().options.is_empty());
    let defaults = serde_json::json!({"tiktok": {"privacy_level": "SELF_ONLY", "comments": false}});
    store.set_post_defaults(tenant, defaults.as_object().unwrap()).await.unwrap();
    let own = serde_json::json!({"tiktok": {"privacy_level": "PUBLIC_TO_EVERYONE"}, "facebook": {"video": "reel"}});
    store.set_post_options(tenant, post, own.as_object().unwrap()).await.unwrap();
    let expected = serde_json::json!({
        "tiktok": {"privacy_level": "PUBLIC_TO_EVERYONE", "comments": false},
        "facebook": {"video": "reel"}
    });
    let read = store.publish_context(tenant, targets[0].id).await.unwrap();
    assert_eq!(serde_json::Value::Object(read.options.clone()), expected);
    assert_eq!(read.options, store.post_options(tenant, post).await.unwrap(), "the same merge as post_options");
    let (ctx, begun) = store.begin_publishing(tenant, targets[0].id, Platform::ALL).await.unwrap();
    assert!(matches!(begun, BeginPublish::Started(_)), "{begun:?}");
    assert_eq!(serde_json::Value::Object(ctx.options), expected, "starting reads them in the same message");

    // Another workspace's defaults do not reach this post.
    let other = workspace(&store).await;
    let theirs = serde_json::json!({"facebook": {"video": "page"}, "instagram": {"x": 1}});
    store.set_post_defaults(other, theirs.as_object().unwrap()).await.unwrap();
    let read = store.publish_context(tenant, targets[0].id).await.unwrap();
    assert_eq!(serde_json::Value::Object(read.options), expected);
});

store_test!(starting_reads_the_context_and_holds_back_a_target_that_cannot_go_out, |store| {
    let tenant = workspace(&store).await;
    let fb = account(&store, tenant, Platform::Facebook, "page-1").await;
    let tt = account(&store, tenant, Platform::TikTok, "tt-1").await;
    let (post, targets) = scheduled_post(&store, tenant, &[fb, tt], now_ms()).await;

    // No publisher for TikTok: the target stays pending, the post scheduled.
    let (ctx, begun) = store.begin_publishing(tenant, targets[1].id, &[Platform::Facebook]).await.unwrap();
    assert!(matches!(begun, BeginPublish::NotReady(ref t) if t.status == TargetStatus::Pending), "{begun:?}");
    assert_eq!((ctx.target.id, ctx.account.id, ctx.post.id), (targets[1].id, tt, post));
    assert_eq!(post_status(&store, tenant, post).await, PostStatus::Scheduled);

    // An account that must be reconnected holds its target back too.
    sqlx::query("UPDATE social_accounts SET status = 'needs_reconnect' WHERE id = $1")
        .bind(fb.to_string())
        .execute(store.sql_for_tests())
        .await
        .unwrap();
    let (_, begun) = store.begin_publishing(tenant, targets[0].id, Platform::ALL).await.unwrap();
    assert!(matches!(begun, BeginPublish::NotReady(_)), "{begun:?}");
    assert_eq!(store.target(tenant, targets[0].id).await.unwrap().attempts, 0);

    // Once it can go out, the context shows the started target; the post moves with it.
    sqlx::query("UPDATE social_accounts SET status = 'active' WHERE id = $1")
        .bind(fb.to_string())
        .execute(store.sql_for_tests())
        .await
        .unwrap();
    let (ctx, begun) = store.begin_publishing(tenant, targets[0].id, Platform::ALL).await.unwrap();
    assert!(matches!(begun, BeginPublish::Started(_)), "{begun:?}");
    assert_eq!((ctx.target.status, ctx.target.attempts), (TargetStatus::Publishing, 1));
    assert_eq!(post_status(&store, tenant, post).await, PostStatus::Publishing);

    // A target of another workspace is not found, and nothing moves.
    let other = workspace(&store).await;
    let err = store.begin_publishing(other, targets[1].id, Platform::ALL).await.unwrap_err();
    assert!(matches!(err, tochen_store::StoreError::NotFound("post target")), "{err:?}");
    assert_eq!(store.target(tenant, targets[1].id).await.unwrap().status, TargetStatus::Pending);
});

store_test!(skipping_a_target_settles_the_post_from_the_others, |store| {
    let (tenant, fb, ig) = facebook_and_instagram(&store).await;
    // One went out, the other is given up: published.
    let (post, targets) = scheduled_post(&store, tenant, &[fb, ig], now_ms()).await;
    started(&store, tenant, targets[0].id).await;
    started(&store, tenant, targets[1].id).await;
    publish(&store, tenant, targets[0].id).await;
    fail(&store, tenant, targets[1].id, TargetStatus::Unknown).await;
    assert!(store.skip_target(tenant, targets[1].id).await.unwrap());
    assert_eq!(post_status(&store, tenant, post).await, PostStatus::Published);

    // One failed, the other is given up: failed.
    let (post, targets) = scheduled_post(&store, tenant, &[fb, ig], now_ms()).await;
    started(&store, tenant, targets[0].id).await;
    started(&store, tenant, targets[1].id).await;
    fail(&store, tenant, targets[0].id, TargetStatus::Failed).await;
    fail(&store, tenant, targets[1].id, TargetStatus::Unknown).await;
    assert!(store.skip_target(tenant, targets[1].id).await.unwrap());
    assert_eq!(post_status(&store, tenant, post).await, PostStatus::Failed);
    assert!(!store.skip_target(tenant, targets[1].id).await.unwrap(), "already skipped");

    // A target of another workspace is not touched.
    let other = workspace(&store).await;
    assert!(!store.skip_target(other, targets[0].id).await.unwrap());
    assert!(!store.confirm_target_by_hand(other, targets[0].id).await.unwrap());
    assert!(!store.retry_target(other, targets[0].id, &[TargetStatus::Failed], None, true).await.unwrap());
    assert_eq!(store.target(tenant, targets[0].id).await.unwrap().status, TargetStatus::Failed);

    // Confirming the failed one by hand makes the post published after all.
    assert!(store.confirm_target_by_hand(tenant, targets[0].id).await.unwrap());
    assert_eq!(post_status(&store, tenant, post).await, PostStatus::Published);
});

store_test!(posting_a_failed_target_again_reopens_its_post_and_requeues_its_one_job, |store| {
    let tenant = workspace(&store).await;
    let fb = account(&store, tenant, Platform::Facebook, "page-1").await;
    let (post, targets) = scheduled_post(&store, tenant, &[fb], now_ms() + 60_000).await;
    let t = targets[0].id;
    started(&store, tenant, t).await;
    store.record_platform_ref(tenant, t, "ref-1").await.unwrap();
    fail(&store, tenant, t, TargetStatus::Failed).await;
    sqlx::query("UPDATE jobs SET state = 'failed', attempts = 8, finished_at = 1 WHERE unique_key = $1")
        .bind(format!("publish:{t}"))
        .execute(store.sql_for_tests())
        .await
        .unwrap();
    assert_eq!(post_status(&store, tenant, post).await, PostStatus::Failed);

    let before = now_ms();
    assert!(store.retry_target(tenant, t, &[TargetStatus::Unknown, TargetStatus::Failed], None, true).await.unwrap());
    let target = store.target(tenant, t).await.unwrap();
    assert_eq!((target.status, target.platform_ref, target.error_message), (TargetStatus::Pending, None, None));
    assert_eq!(post_status(&store, tenant, post).await, PostStatus::Publishing);
    let job = store.job_by_unique_key(&format!("publish:{t}")).await.unwrap().unwrap();
    assert_eq!((job.state, job.attempts), (tochen_domain::JobState::Queued, 0));
    assert!(job.run_at >= before && job.run_at <= now_ms(), "due now");
    let (n,): (i64,) = sqlx::query_as("SELECT COUNT(*) FROM jobs WHERE unique_key = $1")
        .bind(format!("publish:{t}"))
        .fetch_one(store.sql_for_tests())
        .await
        .unwrap();
    assert_eq!(n, 1, "the one publish job of the target, queued again");
    assert!(!store.retry_target(tenant, t, &[TargetStatus::Unknown, TargetStatus::Failed], None, true).await.unwrap());
});
