//! The posts API on both databases: create, read with an ETag, change with If-Match (428 without, 412 when stale),
//! schedule as an admin's token (scheduled) and as an editor's (waiting for approval, cards queued), cancel; an
//! Idempotency-Key retried after a dropped answer gets the first answer and makes nothing twice; cursor pages over
//! 1,000 posts; another workspace's ids are never found; scopes and roles; per-token rate limits with RateLimit
//! headers; every error a problem document; the OpenAPI document answers for exactly the routes that answer.

use crate::common;

use axum::body::Body;
use axum::http::Request;
use common::*;
use serde_json::{json, Value};
use std::collections::HashMap;
use tochen_domain::clock::now_ms;
use tochen_domain::{AccountId, ApiScope, AuthKind, Platform, Role, SecretString, TenantId, UserId};
use tochen_store::{NewAccount, NewApiToken, Store, TelegramIdentity, TenantProfile};

type Headers = HashMap<String, String>;

pub(crate) fn facebook(name: &str) -> NewAccount {
    NewAccount {
        platform: Platform::Facebook,
        auth_kind: AuthKind::FacebookPage,
        external_id: name.into(),
        name: name.into(),
        access_token: SecretString::new("page-token"),
        refresh_token: None,
        scopes: vec![],
        token_expires_at: None,
        refresh_expires_at: None,
        connected_by: None,
    }
}

pub(crate) async fn token(store: &Store, tenant: TenantId, user: UserId, role: Role, scopes: &[ApiScope]) -> String {
    let new =
        NewApiToken { name: "zap".into(), role, scopes: scopes.to_vec(), created_by: Some(user), expires_at: None };
    format!("Bearer {}", store.create_api_token(tenant, &new, now_ms()).await.unwrap().1)
}

pub(crate) async fn call(
    w: &Web,
    method: &str,
    uri: &str,
    auth: &str,
    headers: &[(&str, &str)],
    body: Option<Value>,
) -> (u16, Headers, Value) {
    let mut b = Request::builder().method(method).uri(uri).header("authorization", auth);
    for (k, v) in headers {
        b = b.header(*k, *v);
    }
    let body = match body {
        Some(v) => {
            b = b.header("content-type", "application/json");
            Body::from(v.to_string())
        }
        None => Body::empty(),
    };
    let (status, headers, text) = w.send(b.body(body).unwrap()).await;
    let v = if text.is_empty() {
        Value::Null
    } else {
        serde_json::from_str(&text).unwrap_or_else(|_| panic!("not JSON: {text}"))
    };
    (status, headers, v)
}

pub(crate) fn is_problem(h: &Headers, body: &Value, status: u16, kind: &str) {
    assert_eq!(h.get("content-type").map(String::as_str), Some("application/problem+json"), "{body}");
    assert_eq!(
        (body["status"].as_u64(), body["type"].as_str()),
        (Some(u64::from(status)), Some(format!("/api/v1/problems/{kind}").as_str())),
        "{body}"
    );
    assert!(body["detail"].as_str().is_some_and(|t| !t.is_empty()), "{body}");
}

pub(crate) async fn other_workspace(store: &Store) -> (TenantId, UserId) {
    let who = TelegramIdentity {
        telegram_id: 77,
        username: None,
        first_name: "Oz".into(),
        last_name: None,
        language_code: None,
    };
    let admin = store.upsert_user(&who).await.unwrap();
    (store.create_tenant("Other", &TenantProfile::default(), 0, admin.id).await.unwrap().id, admin.id)
}

tochen_testkit::store_test!(api_posts_are_made_changed_scheduled_and_cancelled_with_etags, |store, db| {
    let w = web(&db).await;
    let (tenant, user) = workspace(&store).await;
    let page: AccountId = store.upsert_account(tenant, &facebook("Bakery page")).await.unwrap().id;
    let admin = token(&store, tenant, user, Role::Admin, &[ApiScope::Read, ApiScope::Write, ApiScope::Publish]).await;

    let new = json!({"text": "Fresh rye today\nfrom the oven", "hashtags": ["bread"], "accounts": [page.to_string()], "tags": ["#Daily"]});
    let (s, h, post) = call(&w, "POST", "/api/v1/posts", &admin, &[], Some(new)).await;
    assert_eq!(s, 201, "{post}");
    let id = post["id"].as_str().unwrap().to_owned();
    assert_eq!(h.get("location").map(String::as_str), Some(format!("/api/v1/posts/{id}").as_str()));
    assert_eq!((post["status"].as_str(), post["title"].as_str()), (Some("draft"), Some("Fresh rye today")));
    assert_eq!(post["accounts"], json!([page.to_string()]));
    assert_eq!(post["tags"], json!(["daily"]));
    assert_eq!(post["versions"][0]["platform"], "facebook", "{post}");
    let etag = h["etag"].clone();
    assert_eq!(etag, format!("\"{}\"", post["version"]));

    // GET gives the same ETag; a change without If-Match is 428, with an old one 412, with the current one 200.
    let (s, h, _) = call(&w, "GET", &format!("/api/v1/posts/{id}"), &admin, &[], None).await;
    assert_eq!((s, &h["etag"]), (200, &etag));
    let patch = json!({"text": "Fresh rye, all day"});
    let (s, h, body) = call(&w, "PATCH", &format!("/api/v1/posts/{id}"), &admin, &[], Some(patch.clone())).await;
    assert_eq!(s, 428);
    is_problem(&h, &body, 428, "precondition-required");
    let (s, h, body) =
        call(&w, "PATCH", &format!("/api/v1/posts/{id}"), &admin, &[("if-match", "\"1\"")], Some(patch.clone())).await;
    assert_eq!(s, 412, "{body}");
    is_problem(&h, &body, 412, "precondition-failed");
    assert_eq!(body["current_etag"], etag);
    let (s, h, changed) =
        call(&w, "PATCH", &format!("/api/v1/posts/{id}"), &admin, &[("if-match", &etag)], Some(patch)).await;
    assert_eq!(s, 200, "{changed}");
    assert_eq!(changed["text"], "Fresh rye, all day");
    assert_ne!(h["etag"], etag, "a change moves the version");
    assert_eq!(
        store.post(tenant, tochen_domain::PostId::parse(&id).unwrap()).await.unwrap().body,
        "Fresh rye, all day"
    );
    // The old ETag no longer changes anything.
    let (s, _, _) =
        call(&w, "PATCH", &format!("/api/v1/posts/{id}"), &admin, &[("if-match", &etag)], Some(json!({"text": "x"})))
            .await;
    assert_eq!(s, 412);

    // Scheduling: a time in the past is refused, a good one schedules (an admin's token), publish jobs exist.
    let etag = h["etag"].clone();
    let (s, h2, body) = call(
        &w,
        "POST",
        &format!("/api/v1/posts/{id}/schedule"),
        &admin,
        &[("if-match", &etag)],
        Some(json!({"at": "2020-01-01T00:00:00Z"})),
    )
    .await;
    assert_eq!(s, 422);
    is_problem(&h2, &body, 422, "time-in-past");
    let at = chrono::Utc::now() + chrono::Duration::days(2);
    let at_text = at.to_rfc3339();
    let (s, h, scheduled) = call(
        &w,
        "POST",
        &format!("/api/v1/posts/{id}/schedule"),
        &admin,
        &[("if-match", &etag)],
        Some(json!({"at": at_text})),
    )
    .await;
    assert_eq!(s, 200, "{scheduled}");
    assert_eq!(scheduled["status"], "scheduled");
    assert_eq!(scheduled["targets"][0]["status"], "pending");
    let publish_jobs = w.count("SELECT COUNT(*) FROM jobs WHERE kind = 'publish'").await;
    assert_eq!(publish_jobs, 1);
    // Moving it to the next queue slot keeps one target and one job.
    let (s, h, moved) = call(
        &w,
        "POST",
        &format!("/api/v1/posts/{id}/schedule"),
        &admin,
        &[("if-match", &h["etag"])],
        Some(json!({"queue": true})),
    )
    .await;
    assert_eq!((s, moved["status"].as_str()), (200, Some("scheduled")), "{moved}");
    assert_ne!(moved["scheduled_at"], scheduled["scheduled_at"]);
    // Cancel.
    let (s, _, cancelled) =
        call(&w, "POST", &format!("/api/v1/posts/{id}/cancel"), &admin, &[("if-match", &h["etag"])], None).await;
    assert_eq!((s, cancelled["status"].as_str()), (200, Some("cancelled")), "{cancelled}");
    let (s, h, body) =
        call(&w, "POST", &format!("/api/v1/posts/{id}/cancel"), &admin, &[("if-match", "*")], None).await;
    assert_eq!(s, 409);
    is_problem(&h, &body, 409, "wrong-status");

    // Bad bodies: problem documents naming the value.
    for (body, status, kind) in [
        (json!({"text": ""}), 400, "invalid-parameter"),
        (json!({"text": "a", "accounts": ["nope"]}), 404, "not-found"),
        (json!({"text": "a", "versions": [{"platform": "myspace", "text": "x"}]}), 400, "invalid-parameter"),
        (json!({"text": "a", "media": [tochen_domain::MediaId::new().to_string()]}), 404, "not-found"),
    ] {
        let (s, h, problem) = call(&w, "POST", "/api/v1/posts", &admin, &[], Some(body.clone())).await;
        assert_eq!(s, status, "{body}: {problem}");
        is_problem(&h, &problem, status, kind);
    }
    let (s, h, problem) = call(&w, "POST", "/api/v1/posts", &admin, &[], Some(json!({"txt": "a"}))).await;
    assert_eq!(s, 400, "{problem}");
    is_problem(&h, &problem, 400, "invalid-body");
    assert!(problem["detail"].as_str().unwrap().contains("txt"), "{problem}");
    let req = Request::post("/api/v1/posts").header("authorization", &admin).body(Body::from("text=a")).unwrap();
    let (s, h, problem) = w.send(req).await;
    assert_eq!((s, h.get("content-type").map(String::as_str)), (415, Some("application/problem+json")), "{problem}");
    let (s, h, problem) = call(&w, "DELETE", "/api/v1/posts", &admin, &[], None).await;
    assert_eq!(s, 405);
    is_problem(&h, &problem, 405, "method-not-allowed");
    // Nothing half-made by the refused bodies.
    assert_eq!(w.count("SELECT COUNT(*) FROM posts").await, 1);
});

tochen_testkit::store_test!(api_editor_tokens_submit_for_approval_and_scopes_and_roles_hold, |store, db| {
    let w = web(&db).await;
    let (tenant, user) = workspace(&store).await;
    let page = store.upsert_account(tenant, &facebook("Bakery page")).await.unwrap().id;
    let editor = token(&store, tenant, user, Role::Editor, &[ApiScope::Read, ApiScope::Write, ApiScope::Publish]).await;
    let writer = token(&store, tenant, user, Role::Admin, &[ApiScope::Read, ApiScope::Write]).await;
    let viewer = token(&store, tenant, user, Role::Viewer, &[ApiScope::Read, ApiScope::Write, ApiScope::Publish]).await;
    let reader = token(&store, tenant, user, Role::Admin, &[ApiScope::Read]).await;

    let at = (chrono::Utc::now() + chrono::Duration::days(1)).to_rfc3339();
    let new = json!({"text": "Cinnamon buns", "accounts": [page.to_string()], "schedule": {"at": at}});
    let (s, _, post) = call(&w, "POST", "/api/v1/posts", &editor, &[], Some(new.clone())).await;
    assert_eq!(s, 201, "{post}");
    assert_eq!(post["status"], "pending_approval", "an editor's post waits for an admin");
    // The approval cards went out as notify jobs, to the team chat and the admin, with Approve buttons.
    let cards: Vec<(String,)> = sqlx::query_as("SELECT payload FROM jobs WHERE kind = 'notify'")
        .fetch_all(store.sql_for_tests())
        .await
        .unwrap();
    assert_eq!(cards.len(), 2, "{cards:?}");
    assert!(cards.iter().all(|(p,)| p.contains("zap (API)") && p.contains("Cinnamon buns")), "{cards:?}");
    assert_eq!(w.count("SELECT COUNT(*) FROM jobs WHERE kind = 'publish'").await, 0);

    // write without publish: a draft yes, scheduling no.
    let (s, h, body) = call(&w, "POST", "/api/v1/posts", &writer, &[], Some(new.clone())).await;
    assert_eq!(s, 403);
    is_problem(&h, &body, 403, "missing-scope");
    assert_eq!(body["scope"], "publish");
    let (s, _, _) = call(&w, "POST", "/api/v1/posts", &writer, &[], Some(json!({"text": "draft only"}))).await;
    assert_eq!(s, 201);
    // A viewer's token only reads, whatever its scopes; a read-only token cannot write.
    let (s, h, body) = call(&w, "POST", "/api/v1/posts", &viewer, &[], Some(json!({"text": "x"}))).await;
    assert_eq!(s, 403);
    is_problem(&h, &body, 403, "role");
    let (s, h, body) = call(&w, "POST", "/api/v1/posts", &reader, &[], Some(json!({"text": "x"}))).await;
    assert_eq!(s, 403);
    is_problem(&h, &body, 403, "missing-scope");

    // Another workspace's post and account are never found, with any method.
    let (other, other_user) = other_workspace(&store).await;
    let theirs = store.create_draft(other, Some(other_user), None, "Theirs", "").await.unwrap();
    let their_page = store.upsert_account(other, &facebook("Their page")).await.unwrap().id;
    for (method, path, body) in [
        ("GET", format!("/api/v1/posts/{}", theirs.id), None),
        ("PATCH", format!("/api/v1/posts/{}", theirs.id), Some(json!({"text": "mine now"}))),
        ("POST", format!("/api/v1/posts/{}/schedule", theirs.id), Some(json!({"queue": true}))),
        ("POST", format!("/api/v1/posts/{}/cancel", theirs.id), None),
        ("POST", "/api/v1/posts".to_owned(), Some(json!({"text": "x", "accounts": [their_page.to_string()]}))),
    ] {
        let (s, h, problem) = call(&w, method, &path, &editor, &[("if-match", "*")], body).await;
        assert_eq!(s, 404, "{method} {path}: {problem}");
        is_problem(&h, &problem, 404, "not-found");
    }
    assert_eq!(store.post(other, theirs.id).await.unwrap().body, "", "untouched");
    let (_, _, list) = call(&w, "GET", "/api/v1/posts?limit=200", &editor, &[], None).await;
    assert!(list["data"].as_array().unwrap().iter().all(|p| p["id"] != json!(theirs.id.to_string())));
});

tochen_testkit::store_test!(api_idempotency_keys_replay_the_first_answer, |store, db| {
    let w = web(&db).await;
    let (tenant, user) = workspace(&store).await;
    let admin = token(&store, tenant, user, Role::Admin, &[ApiScope::Read, ApiScope::Write]).await;
    let other = token(&store, tenant, user, Role::Admin, &[ApiScope::Read, ApiScope::Write]).await;
    let body = json!({"text": "Sourdough class on Saturday"});
    let key = [("idempotency-key", "7b1f6c1e-retry-1")];
    let (s1, h1, first) = call(&w, "POST", "/api/v1/posts", &admin, &key, Some(body.clone())).await;
    assert_eq!(s1, 201, "{first}");
    // The answer was "dropped": the client sends again with the same key and gets the same answer.
    let (s2, h2, second) = call(&w, "POST", "/api/v1/posts", &admin, &key, Some(body.clone())).await;
    assert_eq!((s2, &second), (201, &first));
    assert_eq!(h2.get("idempotent-replayed").map(String::as_str), Some("true"));
    assert_eq!((h2.get("location"), h2.get("etag")), (h1.get("location"), h1.get("etag")));
    assert_eq!(w.count("SELECT COUNT(*) FROM posts").await, 1, "made once");
    // The same key with another body is refused; another token's same key is its own.
    let (s, h, problem) = call(&w, "POST", "/api/v1/posts", &admin, &key, Some(json!({"text": "other"}))).await;
    assert_eq!(s, 422);
    is_problem(&h, &problem, 422, "idempotency-key-reused");
    let (s, _, theirs) = call(&w, "POST", "/api/v1/posts", &other, &key, Some(body.clone())).await;
    assert_eq!(s, 201);
    assert_ne!(theirs["id"], first["id"]);
    // A key whose first request still runs: 409, and nothing is made.
    let hash = tochen_domain::api_tokens::hash_token(admin.trim_start_matches("Bearer "));
    store.reserve_idempotency(&hash, "running", "whatever", now_ms()).await.unwrap();
    let (s, h, problem) =
        call(&w, "POST", "/api/v1/posts", &admin, &[("idempotency-key", "running")], Some(body.clone())).await;
    assert_eq!(s, 409);
    is_problem(&h, &problem, 409, "idempotency-in-progress");
    // A refused request (a 4xx that says to retry, here a missing scope) is not kept: fixed, it runs.
    assert_eq!(w.count("SELECT COUNT(*) FROM posts").await, 2);
    let (s, _, _) =
        call(&w, "POST", "/api/v1/posts", &admin, &[("idempotency-key", &"k".repeat(300))], Some(body)).await;
    assert_eq!(s, 400);
});

tochen_testkit::store_test!(api_pages_cover_1000_posts_once_each_in_order, |store, db| {
    let w = web(&db).await;
    let (tenant, user) = workspace(&store).await;
    let reader = token(&store, tenant, user, Role::Viewer, &[ApiScope::Read]).await;
    let mut made = std::collections::BTreeSet::new();
    for i in 0..1000 {
        made.insert(
            store.create_draft(tenant, Some(user), None, &format!("Post {i}"), "").await.unwrap().id.to_string(),
        );
    }
    let (other, other_user) = other_workspace(&store).await;
    for i in 0..5 {
        store.create_draft(other, Some(other_user), None, &format!("Theirs {i}"), "").await.unwrap();
    }
    let mut seen = Vec::new();
    let mut uri = "/api/v1/posts?limit=200".to_owned();
    let mut pages = 0;
    loop {
        let (s, _, page) = call(&w, "GET", &uri, &reader, &[], None).await;
        assert_eq!(s, 200, "{page}");
        pages += 1;
        for p in page["data"].as_array().unwrap() {
            seen.push((p["created_at"].as_str().unwrap().to_owned(), p["id"].as_str().unwrap().to_owned()));
        }
        match page["next_cursor"].as_str() {
            Some(c) => uri = format!("/api/v1/posts?limit=200&cursor={c}"),
            None => break,
        }
        // A post added while paging (newer than every page so far) does not shift the pages.
        if pages == 2 {
            store.create_draft(tenant, Some(user), None, "Late", "").await.unwrap();
        }
    }
    assert_eq!(pages, 5);
    let ids: std::collections::BTreeSet<String> = seen.iter().map(|(_, id)| id.clone()).collect();
    assert_eq!(ids, made, "every post once, none of the other workspace");
    assert_eq!(seen.len(), 1000);
    let mut sorted = seen.clone();
    sorted.sort_by(|a, b| b.cmp(a));
    assert_eq!(seen, sorted, "newest first");
    for bad in ["limit=0", "limit=201", "cursor=garbage", "status=lost"] {
        let (s, h, problem) = call(&w, "GET", &format!("/api/v1/posts?{bad}"), &reader, &[], None).await;
        assert_eq!(s, 400, "{bad}");
        is_problem(&h, &problem, 400, "invalid-parameter");
    }
    let (s, _, drafts) = call(&w, "GET", "/api/v1/posts?status=draft&q=Late", &reader, &[], None).await;
    assert_eq!((s, drafts["data"].as_array().unwrap().len()), (200, 1));
});

tochen_testkit::store_test!(api_tokens_are_rate_limited_with_ratelimit_headers, |store, db| {
    let mut w = web(&db).await;
    let mut config = (*w.state.config).clone();
    config.web.rate_limits.api_per_minute = 3;
    w.state = tochen_web::AppState::new(
        config,
        db.store.clone(),
        &SecretString::new(db.key.clone()),
        tochen_web::RateLimit { per_second: 10_000, burst: 10_000 },
    );
    let (tenant, user) = workspace(&store).await;
    let a = token(&store, tenant, user, Role::Viewer, &[ApiScope::Read]).await;
    let b = token(&store, tenant, user, Role::Viewer, &[ApiScope::Read]).await;
    for left in [2, 1, 0] {
        let (s, h, _) = call(&w, "GET", "/api/v1/accounts", &a, &[], None).await;
        assert_eq!(s, 200);
        assert_eq!(h.get("ratelimit-remaining").map(String::as_str), Some(left.to_string().as_str()), "{h:?}");
        assert_eq!(h.get("ratelimit-policy").map(String::as_str), Some("\"token\";q=3;w=60"));
        assert!(h["ratelimit"].starts_with(&format!("\"token\";r={left};t=")), "{h:?}");
    }
    let (s, h, problem) = call(&w, "GET", "/api/v1/accounts", &a, &[], None).await;
    assert_eq!(s, 429);
    is_problem(&h, &problem, 429, "rate-limited");
    let wait: u64 = h["retry-after"].parse().unwrap();
    assert!((1..=20).contains(&wait), "{wait}");
    // Another token has its own allowance.
    let (s, _, _) = call(&w, "GET", "/api/v1/accounts", &b, &[], None).await;
    assert_eq!(s, 200);
    // One client address's allowance holds too (before any token is looked up), answered as a problem.
    let config = (*w.state.config).clone();
    w.state = tochen_web::AppState::new(
        config,
        db.store.clone(),
        &SecretString::new(db.key.clone()),
        tochen_web::RateLimit { per_second: 1, burst: 2 },
    );
    let statuses = [
        call(&w, "GET", "/api/v1/accounts", "Bearer nope", &[], None).await.0,
        call(&w, "GET", "/api/v1/accounts", "Bearer nope", &[], None).await.0,
    ];
    assert_eq!(statuses, [401, 401]);
    let (s, h, problem) = call(&w, "GET", "/api/v1/accounts", &b, &[], None).await;
    assert_eq!(s, 429);
    is_problem(&h, &problem, 429, "rate-limited");
    assert!(h.contains_key("retry-after"));
});

tochen_testkit::store_test!(api_openapi_document_lists_exactly_the_routes_that_answer, |store, db| {
    let w = web(&db).await;
    let _ = store;
    let (s, _, doc) = w.get("/api/v1/openapi.json").await;
    assert_eq!(s, 200);
    let doc: Value = serde_json::from_str(&doc).unwrap();
    assert!(doc["openapi"].as_str().unwrap().starts_with("3.1"), "{}", doc["openapi"]);
    let paths = doc["paths"].as_object().unwrap();
    let mut documented = Vec::new();
    for (path, item) in paths {
        for method in
            item.as_object().unwrap().keys().filter(|m| ["get", "post", "patch", "put", "delete"].contains(&m.as_str()))
        {
            documented.push((method.to_uppercase(), path.clone()));
        }
    }
    documented.sort();
    let expected = [
        ("GET", "/accounts"),
        ("GET", "/automations"),
        ("GET", "/batches/{id}"),
        ("GET", "/campaigns"),
        ("GET", "/campaigns/{id}"),
        ("GET", "/destinations"),
        ("GET", "/posts"),
        ("GET", "/posts/{id}"),
        ("GET", "/stats"),
        ("PATCH", "/posts/{id}"),
        ("POST", "/automations/{id}/pause"),
        ("POST", "/automations/{id}/resume"),
        ("POST", "/automations/{id}/run"),
        ("POST", "/campaigns"),
        ("POST", "/campaigns/{id}/batches"),
        ("POST", "/destinations/{id}/test"),
        ("POST", "/media"),
        ("POST", "/posts"),
        ("POST", "/posts/{id}/cancel"),
        ("POST", "/posts/{id}/schedule"),
    ];
    let expected: Vec<(String, String)> = expected.iter().map(|(m, p)| (m.to_string(), p.to_string())).collect();
    assert_eq!(documented, expected, "the document lists the routes");
    // Every documented route answers (without a token: 401, never 404 or 405), and its schemas resolve.
    for (method, path) in &documented {
        let uri = format!("/api/v1{}", path.replace("{id}", &tochen_domain::PostId::new().to_string()));
        let (s, h, body) =
            w.send(Request::builder().method(method.as_str()).uri(&uri).body(Body::empty()).unwrap()).await;
        assert_eq!(s, 401, "{method} {uri}: {body}");
        assert_eq!(h.get("content-type").map(String::as_str), Some("application/problem+json"));
    }
    let text = doc.to_string();
    for r in text.split("\"$ref\":\"#/components/schemas/").skip(1) {
        let name = &r[..r.find('"').unwrap()];
        assert!(doc["components"]["schemas"].get(name).is_some(), "unresolved schema {name}");
    }
    // Undocumented paths do not answer as routes.
    let (s, _, _) = w.get("/api/v1/posts/x/publish").await;
    assert_eq!(s, 404);
});
