//! Probed media facts and per-post platform options over workspace defaults, on both databases, each readable and
//! writable only through its own workspace.

use crate::automations::tenant;
use serde_json::{json, Map, Value};
use tochen_domain::MediaKind;
use tochen_store::{MediaTech, NewMedia, Store, StoreError};
use tochen_testkit::store_test;

fn obj(v: Value) -> Map<String, Value> {
    v.as_object().cloned().unwrap()
}

async fn video(store: &Store, t: tochen_domain::TenantId) -> tochen_store::Media {
    let new = NewMedia {
        kind: MediaKind::Video,
        content_type: "video/mp4".into(),
        size_bytes: 60_000_000,
        sha256: "ab".into(),
        storage_path: "media/v.mp4".into(),
        source: "telegram".into(),
        width: None,
        height: None,
        duration_ms: None,
    };
    store.insert_media(t, &new).await.unwrap()
}

store_test!(probed_facts_are_stored_with_the_media_of_one_workspace, |store| {
    let a = tenant(&store).await;
    let m = video(&store, a).await;
    assert_eq!(store.media_tech(a, m.id).await.unwrap(), MediaTech::default(), "nothing probed yet");
    let tech = MediaTech {
        container: Some("MP4".into()),
        video_codec: Some("avc1".into()),
        audio_codec: Some("mp4a".into()),
        fps: Some(29.97),
    };
    store.set_media_tech(a, m.id, (Some(1080), Some(1920), Some(20_000)), &tech).await.unwrap();
    assert_eq!(store.media_tech(a, m.id).await.unwrap(), tech);
    let back = store.media(a, m.id).await.unwrap();
    assert_eq!((back.info.width, back.info.height, back.info.duration_ms), (Some(1080), Some(1920), Some(20_000)));

    let other = store
        .create_tenant(
            "Other",
            &Default::default(),
            0,
            store.upsert_user(&tochen_testkit::person(77, "O")).await.unwrap().id,
        )
        .await
        .unwrap()
        .id;
    assert!(matches!(store.media_tech(other, m.id).await, Err(StoreError::NotFound(_))));
    assert!(matches!(
        store.set_media_tech(other, m.id, (None, None, None), &MediaTech::default()).await,
        Err(StoreError::NotFound(_))
    ));
    assert_eq!(store.media_tech(a, m.id).await.unwrap(), tech, "untouched by the other workspace");
});

store_test!(post_options_start_from_the_workspace_defaults_and_override_them_per_section, |store| {
    let a = tenant(&store).await;
    let post = store.create_draft(a, None, None, "idea", "").await.unwrap();
    assert!(store.post_options(a, post.id).await.unwrap().is_empty());
    store
        .set_post_defaults(a, &obj(json!({"tiktok": {"privacy_level": "SELF_ONLY", "comments": false}})))
        .await
        .unwrap();
    assert_eq!(store.post_options(a, post.id).await.unwrap()["tiktok"]["privacy_level"], "SELF_ONLY");
    store
        .set_post_options(
            a,
            post.id,
            &obj(json!({"tiktok": {"privacy_level": "PUBLIC_TO_EVERYONE"}, "facebook": {"video": "reel"}})),
        )
        .await
        .unwrap();
    let merged = store.post_options(a, post.id).await.unwrap();
    assert_eq!(merged["tiktok"]["privacy_level"], "PUBLIC_TO_EVERYONE", "the post's own choice wins");
    assert_eq!(merged["tiktok"]["comments"], false, "the rest of the section comes from the defaults");
    assert_eq!(merged["facebook"]["video"], "reel");
    assert_eq!(store.post_options_own(a, post.id).await.unwrap().len(), 2);
    // Options are not content: the version stays.
    assert_eq!(store.post(a, post.id).await.unwrap().version, post.version);

    let other = store
        .create_tenant(
            "Other",
            &Default::default(),
            0,
            store.upsert_user(&tochen_testkit::person(78, "O")).await.unwrap().id,
        )
        .await
        .unwrap()
        .id;
    assert!(matches!(store.post_options(other, post.id).await, Err(StoreError::NotFound(_))));
    assert!(matches!(store.set_post_options(other, post.id, &Map::new()).await, Err(StoreError::NotFound(_))));
    assert!(store.post_defaults(other).await.unwrap().is_empty(), "defaults are per workspace");
});
