//! The media URL signing key: the scheduler signs the URLs platforms pull, the web service verifies them, so
//! both must derive the same key from the same secret-key resolution; with no key at all the scheduler must
//! refuse to start instead of signing with an empty key that nobody can verify.

use axum::body::Body;
use axum::http::Request;
use std::collections::HashMap;
use tochen_config::Config;
use tochen_domain::MediaKind;
use tochen_domain::{SecretBox, TenantId};
use tochen_store::Store;
use tochen_store::{NewMedia, TelegramIdentity, TenantProfile};
use tokio_util::sync::CancellationToken;
use tower::ServiceExt;

const PUBLIC_URL: &str = "https://tochen.example";

fn config(dir: &std::path::Path, keys: Option<&str>) -> Config {
    let mut env: HashMap<String, String> = HashMap::new();
    env.insert("TOCHEN_DATA_DIR".into(), dir.display().to_string());
    env.insert("TOCHEN_PUBLIC_URL".into(), PUBLIC_URL.into());
    if let Some(k) = keys {
        env.insert("TOCHEN_SECRET_KEYS".into(), k.into());
    }
    Config::from_source(&env).unwrap()
}

/// A tenant with one stored image file; (tenant, media id as the scheduler sees it, the bytes).
async fn stored_image(store: &Store, dir: &std::path::Path) -> (TenantId, String, Vec<u8>) {
    let who = TelegramIdentity {
        telegram_id: 7,
        username: None,
        first_name: "Ana".into(),
        last_name: None,
        language_code: Some("en".into()),
    };
    let user = store.upsert_user(&who).await.unwrap();
    let tenant = store.create_tenant("Bakery", &TenantProfile::default(), 0, user.id).await.unwrap().id;
    let bytes: Vec<u8> = (0..=255u8).cycle().take(4096).collect();
    std::fs::create_dir_all(dir.join("media")).unwrap();
    std::fs::write(dir.join("media/bread.jpg"), &bytes).unwrap();
    let media = NewMedia {
        kind: MediaKind::Image,
        content_type: "image/jpeg".into(),
        size_bytes: bytes.len() as i64,
        sha256: "x".into(),
        storage_path: "media/bread.jpg".into(),
        source: "upload".into(),
        width: None,
        height: None,
        duration_ms: None,
    };
    let m = store.insert_media(tenant, &media).await.unwrap();
    (tenant, m.id.to_db(), bytes)
}

/// GETs a URL the scheduler signed from the web service built as `tochen_web::run` builds it.
async fn fetch(config: &Config, store: &Store, url: &str) -> (u16, Vec<u8>) {
    let state = tochen_web::AppState::from_config(config.clone(), store.clone()).expect("the web service has a key");
    let path = url.strip_prefix(PUBLIC_URL).expect("signed for the public URL");
    let resp = tochen_web::app(state).oneshot(Request::get(path).body(Body::empty()).unwrap()).await.unwrap();
    let status = resp.status().as_u16();
    let body = axum::body::to_bytes(resp.into_body(), 1 << 20).await.unwrap().to_vec();
    (status, body)
}

tochen_testkit::store_test!(a_url_the_scheduler_signs_is_served_by_the_web_service, |store, db| {
    // Keys configured, and keys only in the generated key file (with the newline an editor adds).
    for from_file in [false, true] {
        let dir = tempfile::tempdir().unwrap();
        let config = if from_file {
            std::fs::write(dir.path().join("secret.key"), format!("{}\n", db.key)).unwrap();
            config(dir.path(), None)
        } else {
            config(dir.path(), Some(&format!("{},{}", db.key, SecretBox::generate_key())))
        };
        let (tenant, media, bytes) = stored_image(&store, dir.path()).await;
        let deps = tochen_scheduler::Deps::from_config(&config, &store).unwrap();
        let url = (deps.media_urls)(tenant, &media);
        assert!(url.starts_with(PUBLIC_URL), "{url}");
        assert_eq!(fetch(&config, &store, &url).await, (200, bytes), "from_file={from_file}");

        // A key the web service does not have is refused: the check above could fail.
        let other = config_with_other_key(dir.path());
        let foreign = (tochen_scheduler::Deps::from_config(&other, &store).unwrap().media_urls)(tenant, &media);
        assert_eq!(fetch(&config, &store, &foreign).await.0, 403);
    }
});

fn config_with_other_key(dir: &std::path::Path) -> Config {
    config(dir, Some(&SecretBox::generate_key()))
}

tochen_testkit::store_test!(the_scheduler_refuses_to_start_without_a_secret_key, |store| {
    let dir = tempfile::tempdir().unwrap();
    let config = config(dir.path(), None);
    let err = tochen_scheduler::Deps::from_config(&config, &store).err().expect("no key, no scheduler");
    assert_eq!(err.var, "TOCHEN_SECRET_KEYS", "{err}");
    assert!(err.to_string().contains("tochen keygen"), "says what to do: {err}");

    let err = tochen_scheduler::run(config.clone(), store.clone(), CancellationToken::new())
        .await
        .expect_err("run refuses instead of signing with an empty key");
    assert!(format!("{err:#}").contains("TOCHEN_SECRET_KEYS"), "{err:#}");
    let (beats,): (i64,) =
        sqlx::query_as("SELECT COUNT(*) FROM scheduler_heartbeats").fetch_one(store.sql_for_tests()).await.unwrap();
    assert_eq!(beats, 0, "it never claimed to be running");

    // The web service refuses the same way, and an empty key file is no key.
    assert!(tochen_web::AppState::from_config(config.clone(), store.clone()).is_err());
    std::fs::write(dir.path().join("secret.key"), "\n").unwrap();
    let err = tochen_scheduler::Deps::from_config(&config, &store).err().expect("an empty key file is no key");
    assert!(err.to_string().contains("does not hold a valid Fernet key"), "{err}");
});
