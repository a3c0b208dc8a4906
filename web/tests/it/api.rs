//! The API's first routes on both databases: bearer tokens (missing, malformed, unknown, revoked, expired: 401
//! problems with `WWW-Authenticate`; a missing scope: 403), every error as `application/problem+json`, and a
//! workspace's token seeing only that workspace's accounts.

use crate::common;

use axum::body::Body;
use axum::http::Request;
use common::*;
use tochen_domain::clock::now_ms;
use tochen_domain::{ApiScope, AuthKind, Platform, Role, SecretString};
use tochen_store::{NewAccount, NewApiToken, TelegramIdentity, TenantProfile};

fn account(name: &str) -> NewAccount {
    NewAccount {
        platform: Platform::Instagram,
        auth_kind: AuthKind::InstagramLogin,
        external_id: name.into(),
        name: name.into(),
        access_token: SecretString::new("secret-token"),
        refresh_token: None,
        scopes: vec![],
        token_expires_at: None,
        refresh_expires_at: None,
        connected_by: None,
    }
}

async fn call(
    w: &Web,
    uri: &str,
    auth: Option<&str>,
) -> (u16, std::collections::HashMap<String, String>, serde_json::Value) {
    let mut b = Request::get(uri);
    if let Some(a) = auth {
        b = b.header("authorization", a);
    }
    let (status, headers, body) = w.send(b.body(Body::empty()).unwrap()).await;
    (status, headers, serde_json::from_str(&body).unwrap_or_else(|_| panic!("not JSON: {body}")))
}

fn is_problem(h: &std::collections::HashMap<String, String>, body: &serde_json::Value, status: u16, kind: &str) {
    assert_eq!(h.get("content-type").map(String::as_str), Some("application/problem+json"), "{body}");
    assert_eq!(body["status"], status, "{body}");
    assert_eq!(body["type"], format!("/api/v1/problems/{kind}"), "{body}");
    assert!(body["title"].as_str().is_some_and(|t| !t.is_empty()), "{body}");
    assert!(body["detail"].as_str().is_some_and(|t| !t.is_empty()), "{body}");
}

tochen_testkit::store_test!(api_tokens_authenticate_scope_and_keep_workspaces_apart, |store, db| {
    let w = web(&db).await;
    let (tenant, user) = workspace(&store).await;
    store.upsert_account(tenant, &account("bloom")).await.unwrap();
    let other_admin = store
        .upsert_user(&TelegramIdentity {
            telegram_id: 99,
            username: None,
            first_name: "Oz".into(),
            last_name: None,
            language_code: None,
        })
        .await
        .unwrap();
    let other = store.create_tenant("Other", &TenantProfile::default(), 0, other_admin.id).await.unwrap().id;
    store.upsert_account(other, &account("theirs")).await.unwrap();
    let now = now_ms();
    let token = |scopes: &[ApiScope], expires_at: Option<i64>| NewApiToken {
        name: "t".into(),
        role: Role::Admin,
        scopes: scopes.to_vec(),
        created_by: Some(user),
        expires_at,
    };
    let (_, reader) = store.create_api_token(tenant, &token(&[ApiScope::Read], None), now).await.unwrap();
    let (_, writer) = store.create_api_token(tenant, &token(&[ApiScope::Write], None), now).await.unwrap();
    let (revoked, gone) = store.create_api_token(tenant, &token(&[ApiScope::Read], None), now).await.unwrap();
    store.revoke_api_token(tenant, revoked.id, now).await.unwrap();
    let (_, expired) =
        store.create_api_token(tenant, &token(&[ApiScope::Read], Some(now - 1)), now - 10).await.unwrap();

    let (s, h, body) = call(&w, "/api/v1/accounts", Some(&format!("Bearer {reader}"))).await;
    assert_eq!(s, 200, "{body}");
    let names: Vec<&str> = body["data"].as_array().unwrap().iter().map(|a| a["name"].as_str().unwrap()).collect();
    assert_eq!(names, ["bloom"], "only the token's workspace");
    assert_eq!(body["data"][0]["platform"], "instagram");
    assert!(!body.to_string().contains("secret-token"), "no platform token leaves: {body}");
    assert!(h.contains_key("x-request-id"));

    for (auth, detail) in [
        (None, "Bearer"),
        (Some("Basic abc".to_owned()), "Bearer"),
        (Some(format!("Bearer tch_{}", "x".repeat(40))), "unknown"),
        (Some(format!("Bearer {gone}")), "revoked"),
        (Some(format!("Bearer {expired}")), "expired"),
    ] {
        let (s, h, body) = call(&w, "/api/v1/accounts", auth.as_deref()).await;
        assert_eq!(s, 401, "{auth:?}: {body}");
        is_problem(&h, &body, 401, "unauthenticated");
        assert!(h.get("www-authenticate").is_some_and(|v| v.starts_with("Bearer")), "{h:?}");
        assert!(body["detail"].as_str().unwrap().contains(detail), "{body}");
    }
    let (s, h, body) = call(&w, "/api/v1/accounts", Some(&format!("Bearer {writer}"))).await;
    assert_eq!(s, 403);
    is_problem(&h, &body, 403, "missing-scope");
    assert_eq!(body["scope"], "read");
    let (s, h, body) = call(&w, "/api/v1/nothing-here", Some(&format!("Bearer {reader}"))).await;
    assert_eq!(s, 404);
    is_problem(&h, &body, 404, "not-found");
});

tochen_testkit::store_test!(api_stats_are_the_stats_computation_and_refuse_bad_parameters, |store, db| {
    use tochen_delivery::reports::{compute_scoped, render, Period, Scope, DAY_MS};
    use tochen_delivery::sources::Sources;
    let w = web(&db).await;
    let (tenant, user) = workspace(&store).await;
    let ig = store.upsert_account(tenant, &account("bloom")).await.unwrap().id;
    let other_admin = store
        .upsert_user(&TelegramIdentity {
            telegram_id: 98,
            username: None,
            first_name: "Oz".into(),
            last_name: None,
            language_code: None,
        })
        .await
        .unwrap();
    let other = store.create_tenant("Other", &TenantProfile::default(), 0, other_admin.id).await.unwrap().id;
    let theirs = store.upsert_account(other, &account("theirs")).await.unwrap().id;
    let now = now_ms();
    // One published post two days ago with a reading a day later.
    let post = store.create_draft(tenant, None, None, "Bread", "").await.unwrap();
    let targets = store.schedule_post(tenant, post.id, post.version, now - 2 * DAY_MS, &[ig], false).await.unwrap();
    sqlx::query("UPDATE post_targets SET status = 'published', published_at = $1 WHERE id = $2")
        .bind(now - 2 * DAY_MS)
        .bind(targets[0].id.to_db())
        .execute(store.sql_for_tests())
        .await
        .unwrap();
    let values =
        tochen_store::MetricValues { views: Some(321), likes: Some(12), comments: Some(3), ..Default::default() };
    let snapshot = tochen_store::NewSnapshot {
        account_id: ig,
        target_id: Some(targets[0].id),
        platform: Platform::Instagram,
        captured_at: now - DAY_MS,
        values,
        raw: serde_json::json!({}),
    };
    store.insert_metrics_snapshot(tenant, &snapshot).await.unwrap();
    let (_, reader) = store
        .create_api_token(
            tenant,
            &NewApiToken {
                name: "r".into(),
                role: Role::Viewer,
                scopes: vec![ApiScope::Read],
                created_by: Some(user),
                expires_at: None,
            },
            now,
        )
        .await
        .unwrap();
    let auth = format!("Bearer {reader}");

    let (s, _, body) = call(&w, "/api/v1/stats?days=7", Some(&auth)).await;
    assert_eq!(s, 200, "{body}");
    assert_eq!(body["totals"]["published"], 1);
    assert_eq!(body["totals"]["views"], 321);
    assert_eq!(body["top_posts"][0]["title"], "Bread");
    // The same numbers as the computation /stats and report automations run, for the same period.
    let start = body["period"]["start"].as_i64().unwrap();
    let end = body["period"]["end"].as_i64().unwrap();
    assert_eq!(end - start, 7 * DAY_MS);
    let same = compute_scoped(&store, tenant, Period::new(start, end), Scope::Workspace, Sources::WithSandbox, false)
        .await
        .unwrap();
    assert_eq!(body, render::json(&same));
    let (s, _, body) = call(&w, &format!("/api/v1/stats?days=7&account={ig}&chart=true"), Some(&auth)).await;
    assert_eq!((s, body["scope"]["kind"].as_str()), (200, Some("account")), "{body}");
    assert!(!body["daily_views"]["days"].as_array().unwrap().is_empty(), "{body}");
    let (s, _, body) =
        call(&w, "/api/v1/stats?since=2026-01-01T00:00:00Z&until=2026-02-01T00:00:00Z&platform=tiktok", Some(&auth))
            .await;
    assert_eq!((s, &body["totals"]["published"]), (200, &serde_json::json!(0)), "{body}");

    for (query, status, kind, needle) in [
        ("days=0", 400, "invalid-parameter", "days=0"),
        ("days=9999", 400, "invalid-parameter", "days=9999"),
        ("days=7&since=2026-01-01T00:00:00Z", 400, "invalid-parameter", "either days"),
        ("since=2026-01-01T00:00:00Z", 400, "invalid-parameter", "both since and until"),
        ("since=yesterday&until=2026-01-01T00:00:00Z", 400, "invalid-parameter", "RFC 3339"),
        ("since=2026-02-01T00:00:00Z&until=2026-01-01T00:00:00Z", 400, "invalid-parameter", "not after"),
        ("platform=myspace", 400, "invalid-parameter", "myspace"),
        ("platform=tiktok&account=x", 400, "invalid-parameter", "one of platform"),
        ("account=not-an-id", 404, "not-found", "not-an-id"),
    ] {
        let (s, h, body) = call(&w, &format!("/api/v1/stats?{query}"), Some(&auth)).await;
        assert_eq!(s, status, "{query}: {body}");
        is_problem(&h, &body, status, kind);
        assert!(body["detail"].as_str().unwrap().contains(needle), "{query}: {body}");
    }
    // A campaign of the workspace narrows it; another workspace's campaign is not found.
    let fields = |name: &str| tochen_store::CampaignFields { name: name.into(), ..Default::default() };
    let spring = store.create_campaign(tenant, None, &fields("Spring")).await.unwrap().id;
    let empty = store.create_campaign(tenant, None, &fields("Empty")).await.unwrap().id;
    let foreign = store.create_campaign(other, None, &fields("Theirs")).await.unwrap().id;
    assert!(store.set_post_campaign(tenant, post.id, Some(spring)).await.unwrap());
    let (s, _, body) = call(&w, &format!("/api/v1/stats?days=7&campaign={spring}"), Some(&auth)).await;
    assert_eq!(
        (s, &body["totals"]["views"], &body["scope"]["kind"]),
        (200, &serde_json::json!(321), &serde_json::json!("campaign")),
        "{body}"
    );
    let (s, _, body) = call(&w, &format!("/api/v1/stats?days=7&campaign={empty}"), Some(&auth)).await;
    assert_eq!((s, &body["totals"]["published"]), (200, &serde_json::json!(0)), "{body}");
    let (s, h, body) = call(&w, &format!("/api/v1/stats?campaign={foreign}"), Some(&auth)).await;
    assert_eq!(s, 404, "{body}");
    is_problem(&h, &body, 404, "not-found");
    // Another workspace's account is not found, as if it did not exist.
    let (s, h, body) = call(&w, &format!("/api/v1/stats?account={theirs}"), Some(&auth)).await;
    assert_eq!(s, 404, "{body}");
    is_problem(&h, &body, 404, "not-found");
});
