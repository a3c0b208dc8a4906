//! Workspace API tokens on both databases: the secret shown once and only its hash kept, scopes and role kept,
//! revocation and expiry, another workspace never able to list or revoke them, malformed secrets never looked up.

use tochen_domain::api_tokens::hash_token;
use tochen_domain::{ApiScope, Role, TenantId, UserId};
use tochen_store::{NewApiToken, Store, TenantProfile};
use tochen_testkit::person;
use tochen_testkit::store_test;

async fn workspace(store: &Store, telegram_id: i64, name: &str) -> (TenantId, UserId) {
    let admin = store.upsert_user(&person(telegram_id, name)).await.unwrap();
    let t = store.create_tenant(name, &TenantProfile::default(), 1000, admin.id).await.unwrap();
    (t.id, admin.id)
}

fn new(name: &str, role: Role, scopes: &[ApiScope], by: UserId, expires_at: Option<i64>) -> NewApiToken {
    NewApiToken { name: name.into(), role, scopes: scopes.to_vec(), created_by: Some(by), expires_at }
}

store_test!(api_tokens_are_kept_hashed_scoped_revocable_and_per_workspace, |store| {
    let (bloom, anna) = workspace(&store, 1, "Bloom").await;
    let (forge, fred) = workspace(&store, 2, "Forge").await;
    let now = 1_800_000_000_000;
    let (zap, secret) = store
        .create_api_token(bloom, &new("Zapier", Role::Editor, &[ApiScope::Write, ApiScope::Read], anna, None), now)
        .await
        .unwrap();
    assert!(secret.starts_with("tch_") && secret.len() == 44, "{secret}");
    assert_eq!(zap.scopes, vec![ApiScope::Read, ApiScope::Write]);
    assert!(zap.shown.starts_with(&secret[..8]) && !zap.shown.contains(&secret[8..]));
    // Only the hash is stored.
    let stored: Vec<(String,)> =
        sqlx::query_as("SELECT token_hash FROM api_tokens").fetch_all(store.sql_for_tests()).await.unwrap();
    assert_eq!(stored, vec![(hash_token(&secret),)]);

    let found = store.authenticate_api_token(&secret, now + 1).await.unwrap().unwrap();
    assert_eq!((found.id, found.tenant_id, found.role), (zap.id, bloom, Role::Editor));
    assert!(found.allows(ApiScope::Write) && !found.allows(ApiScope::Publish));
    assert_eq!(store.api_tokens(bloom).await.unwrap()[0].last_used_at, Some(now + 1));
    // Used again within the minute: not written again.
    store.authenticate_api_token(&secret, now + 30_000).await.unwrap().unwrap();
    assert_eq!(store.api_tokens(bloom).await.unwrap()[0].last_used_at, Some(now + 1));

    // Wrong, malformed or another shape of secret: nothing.
    let wrong = format!("tch_{}", "x".repeat(40));
    assert!(store.authenticate_api_token(&wrong, now).await.unwrap().is_none());
    assert!(store.authenticate_api_token(&secret[..43], now).await.unwrap().is_none());
    assert!(store.authenticate_api_token("", now).await.unwrap().is_none());

    // Another workspace sees none of Bloom's tokens and cannot revoke them.
    let (mine, _) =
        store.create_api_token(forge, &new("CI", Role::Admin, &[ApiScope::Read], fred, None), now).await.unwrap();
    assert_eq!(store.api_tokens(forge).await.unwrap().iter().map(|t| t.id).collect::<Vec<_>>(), vec![mine.id]);
    assert!(!store.revoke_api_token(forge, zap.id, now).await.unwrap());
    assert!(store.authenticate_api_token(&secret, now + 2).await.unwrap().is_some());

    // Revoked: refused from then on, listed as revoked, revoking twice says so.
    assert!(store.revoke_api_token(bloom, zap.id, now + 5).await.unwrap());
    assert!(!store.revoke_api_token(bloom, zap.id, now + 6).await.unwrap());
    assert!(store.authenticate_api_token(&secret, now + 7).await.unwrap().is_none());
    assert_eq!(store.api_tokens(bloom).await.unwrap()[0].revoked_at, Some(now + 5));

    // Expiring: good until its time, refused from it on.
    let (_, short) = store
        .create_api_token(bloom, &new("Make", Role::Viewer, &[ApiScope::Read], anna, Some(now + 1000)), now)
        .await
        .unwrap();
    assert!(store.authenticate_api_token(&short, now + 999).await.unwrap().is_some());
    assert!(store.authenticate_api_token(&short, now + 1000).await.unwrap().is_none());
    let listed = store.api_tokens(bloom).await.unwrap();
    assert_eq!(listed.len(), 2);
    assert!(!listed.iter().any(|t| t.active(now + 1000)));
});
