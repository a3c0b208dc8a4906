//! Campaigns and batches, automations and destinations over the API, on both databases: a campaign made and
//! listed, a batch started from topics (one durable job per item) and its progress read; automations listed, run
//! now (a queued run), paused and resumed by an admin's token only; destinations listed without secrets and a
//! webhook test delivered (signed, logged) or a Telegram test queued; another workspace's ids never found.

use crate::api_posts::{call, is_problem, other_workspace, token};
use crate::common::*;
use serde_json::json;
use tochen_domain::{ApiScope, MissedRunPolicy, Role, SecretString};
use tochen_store::{NewAutomation, NewDestination};
use tochen_testkit::webhook_receiver::WebhookReceiver;

tochen_testkit::store_test!(api_campaigns_and_batches, |store, db| {
    let w = web(&db).await;
    let (tenant, user) = workspace(&store).await;
    let editor = token(&store, tenant, user, Role::Editor, &[ApiScope::Read, ApiScope::Write]).await;
    let new = json!({"name": "Spring menu", "brief": "Seasonal bakes", "platforms": ["facebook"],
        "starts_at": "2027-03-01T00:00:00Z", "ends_at": "2027-03-31T00:00:00Z"});
    let (s, _, c) = call(&w, "POST", "/api/v1/campaigns", &editor, &[], Some(new)).await;
    assert_eq!(s, 201, "{c}");
    assert_eq!((c["status"].as_str(), c["platforms"].clone()), (Some("draft"), json!(["facebook"])));
    let id = c["id"].as_str().unwrap().to_owned();
    let (s, h, p) = call(
        &w,
        "POST",
        "/api/v1/campaigns",
        &editor,
        &[],
        Some(json!({"name": "x", "starts_at": "2027-03-31T00:00:00Z", "ends_at": "2027-03-01T00:00:00Z"})),
    )
    .await;
    assert_eq!(s, 400, "{p}");
    is_problem(&h, &p, 400, "invalid-parameter");

    let items = json!({"items": [{"topic": "Rhubarb tart"}, {"topic": "Wild garlic bread", "tone": "playful"}, {"topic": "Easter buns"}]});
    let (s, _, batch) = call(&w, "POST", &format!("/api/v1/campaigns/{id}/batches"), &editor, &[], Some(items)).await;
    assert_eq!(s, 202, "{batch}");
    assert_eq!(
        (batch["total"].as_i64(), batch["pending"].as_i64(), batch["status"].as_str()),
        (Some(3), Some(3), Some("running"))
    );
    assert_eq!(batch["items"][1]["topic"], "Wild garlic bread");
    assert_eq!(w.count("SELECT COUNT(*) FROM jobs WHERE kind = 'batch.item'").await, 3, "one durable job per item");
    let bid = batch["id"].as_str().unwrap();
    let (s, _, progress) = call(&w, "GET", &format!("/api/v1/batches/{bid}"), &editor, &[], None).await;
    assert_eq!((s, progress["total"].as_i64()), (200, Some(3)));
    let (s, _, list) = call(&w, "GET", "/api/v1/campaigns", &editor, &[], None).await;
    assert_eq!(s, 200);
    assert_eq!(list["data"][0]["counts"]["batches"], 1);
    assert_eq!(list["data"][0]["status"], "active", "a campaign with a batch is active");
    let (_, _, detail) = call(&w, "GET", &format!("/api/v1/campaigns/{id}"), &editor, &[], None).await;
    assert_eq!(detail["batches"].as_array().unwrap().len(), 1);
    let (s, h, p) =
        call(&w, "POST", &format!("/api/v1/campaigns/{id}/batches"), &editor, &[], Some(json!({"items": []}))).await;
    assert_eq!(s, 400);
    is_problem(&h, &p, 400, "invalid-parameter");

    // Another workspace's campaign and batch are not found.
    let (other, other_user) = other_workspace(&store).await;
    let theirs = store
        .create_campaign(
            other,
            Some(other_user),
            &tochen_store::CampaignFields { name: "Theirs".into(), ..Default::default() },
        )
        .await
        .unwrap();
    for (method, path, body) in [
        ("GET", format!("/api/v1/campaigns/{}", theirs.id), None),
        ("POST", format!("/api/v1/campaigns/{}/batches", theirs.id), Some(json!({"items": [{"topic": "x"}]}))),
        ("GET", format!("/api/v1/batches/{}", tochen_domain::BatchId::new()), None),
    ] {
        let (s, h, p) = call(&w, method, &path, &editor, &[], body).await;
        assert_eq!(s, 404, "{path}: {p}");
        is_problem(&h, &p, 404, "not-found");
    }
    assert_eq!(w.count("SELECT COUNT(*) FROM jobs WHERE kind = 'batch.item'").await, 3);
});

tochen_testkit::store_test!(api_automations_and_destinations, |store, db| {
    let mut w = web(&db).await;
    let mut config = (*w.state.config).clone();
    config.webhook_allow_private = true;
    w.state = tochen_web::AppState::new(
        config,
        db.store.clone(),
        &SecretString::new(db.key.clone()),
        tochen_web::RateLimit { per_second: 10_000, burst: 10_000 },
    );
    let (tenant, user) = workspace(&store).await;
    let admin = token(&store, tenant, user, Role::Admin, &[ApiScope::Read, ApiScope::Write]).await;
    let editor = token(&store, tenant, user, Role::Editor, &[ApiScope::Read, ApiScope::Write]).await;
    let new = NewAutomation {
        kind: "test".into(),
        name: "Weekly numbers".into(),
        cron: "0 9 * * 1".into(),
        timezone: "Europe/Berlin".into(),
        config: json!({}),
        missed_run_policy: MissedRunPolicy::Skip,
        max_consecutive_failures: 5,
        created_by: Some(user),
    };
    let a = store.create_automation(tenant, &new).await.unwrap();
    let (s, _, list) = call(&w, "GET", "/api/v1/automations", &editor, &[], None).await;
    assert_eq!(
        (s, list["data"][0]["name"].as_str(), list["data"][0]["status"].as_str()),
        (200, Some("Weekly numbers"), Some("active"))
    );
    let (s, h, p) = call(&w, "POST", &format!("/api/v1/automations/{}/run", a.id), &editor, &[], None).await;
    assert_eq!(s, 403, "only admins");
    is_problem(&h, &p, 403, "role");
    let runs = "SELECT COUNT(*) FROM jobs WHERE kind = 'automation.run'";
    let before = w.count(runs).await;
    let (s, _, run) = call(&w, "POST", &format!("/api/v1/automations/{}/run", a.id), &admin, &[], None).await;
    assert_eq!(s, 202, "{run}");
    assert!(run["job_id"].is_string());
    assert_eq!(w.count(runs).await, before + 1, "a manual run is queued");
    let (s, _, paused) = call(&w, "POST", &format!("/api/v1/automations/{}/pause", a.id), &admin, &[], None).await;
    assert_eq!((s, paused["status"].as_str()), (200, Some("paused")));
    let (s, _, resumed) = call(&w, "POST", &format!("/api/v1/automations/{}/resume", a.id), &admin, &[], None).await;
    assert_eq!((s, resumed["status"].as_str()), (200, Some("active")));

    let receiver = WebhookReceiver::start().await;
    let hook = store
        .create_destination(
            tenant,
            &NewDestination::Webhook {
                name: "n8n".into(),
                url: receiver.url.clone(),
                secret: SecretString::new("whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw"),
            },
        )
        .await
        .unwrap();
    let chat = store
        .create_destination(tenant, &NewDestination::Telegram { name: "Team".into(), chat_id: -100123 })
        .await
        .unwrap();
    let (s, _, list) = call(&w, "GET", "/api/v1/destinations", &editor, &[], None).await;
    assert_eq!((s, list["data"].as_array().unwrap().len()), (200, 2));
    assert!(!list.to_string().contains("whsec_"), "no secret leaves: {list}");
    let (s, _, test) = call(&w, "POST", &format!("/api/v1/destinations/{}/test", hook.id), &admin, &[], None).await;
    assert_eq!(
        (s, test["outcome"].as_str(), test["status_code"].as_u64()),
        (200, Some("delivered"), Some(204)),
        "{test}"
    );
    let got = receiver.received();
    assert_eq!(got.len(), 1);
    assert_eq!(Some(got[0].0.as_str()), test["message_id"].as_str());
    assert!(got[0].1.contains("\"ping\""), "{}", got[0].1);
    let (s, _, test) = call(&w, "POST", &format!("/api/v1/destinations/{}/test", chat.id), &admin, &[], None).await;
    assert_eq!((s, test["outcome"].as_str()), (202, Some("queued")));
    let notify: Vec<(String,)> = sqlx::query_as("SELECT payload FROM jobs WHERE kind = 'notify'")
        .fetch_all(store.sql_for_tests())
        .await
        .unwrap();
    assert!(notify.iter().any(|(p,)| p.contains("-100123")), "{notify:?}");

    let (other, _) = other_workspace(&store).await;
    let their_hook = store
        .create_destination(other, &NewDestination::Telegram { name: "Theirs".into(), chat_id: -5 })
        .await
        .unwrap();
    for path in [
        format!("/api/v1/destinations/{}/test", their_hook.id),
        format!("/api/v1/automations/{}/run", tochen_domain::AutomationId::new()),
    ] {
        let (s, h, p) = call(&w, "POST", &path, &admin, &[], None).await;
        assert_eq!(s, 404, "{path}");
        is_problem(&h, &p, 404, "not-found");
    }
});

async fn upload(
    w: &Web,
    auth: &str,
    content_type: &str,
    bytes: Vec<u8>,
    key: Option<&str>,
) -> (u16, std::collections::HashMap<String, String>, serde_json::Value) {
    let mut b =
        axum::http::Request::post("/api/v1/media").header("authorization", auth).header("content-type", content_type);
    if let Some(k) = key {
        b = b.header("idempotency-key", k);
    }
    let (s, h, text) = w.send(b.body(axum::body::Body::from(bytes)).unwrap()).await;
    (s, h, serde_json::from_str(&text).unwrap_or_else(|_| panic!("not JSON: {text}")))
}

tochen_testkit::store_test!(api_media_uploads_are_type_checked_capped_and_usable_in_posts, |store, db| {
    let mut w = web(&db).await;
    let mut config = (*w.state.config).clone();
    config.media_import_max_bytes = 200_000;
    w.state = tochen_web::AppState::new(
        config,
        db.store.clone(),
        &SecretString::new(db.key.clone()),
        tochen_web::RateLimit { per_second: 10_000, burst: 10_000 },
    );
    let (tenant, user) = workspace(&store).await;
    let writer = token(&store, tenant, user, Role::Admin, &[ApiScope::Read, ApiScope::Write]).await;
    let reader = token(&store, tenant, user, Role::Admin, &[ApiScope::Read]).await;
    // Larger than the JSON body limit (64 KiB in these tests), within the upload cap.
    let png = tochen_testkit::images::png(400, 300);
    // A JPEG padded past the 64 KiB JSON body limit of these tests (decoders stop at its end marker).
    let mut big = tochen_testkit::images::jpeg(64, 48);
    big.extend(vec![0u8; 100_000]);
    let (s, _, m2) = upload(&w, &writer, "image/jpeg", big, None).await;
    assert_eq!((s, m2["size_bytes"].as_i64().unwrap_or_default() > 100_000), (201, true), "{m2}");
    sqlx::query("DELETE FROM media").execute(store.sql_for_tests()).await.unwrap();
    let (s, _, m) = upload(&w, &writer, "image/png", png.clone(), Some("up-1")).await;
    assert_eq!(s, 201, "{m}");
    assert_eq!((m["kind"].as_str(), m["width"].as_i64(), m["height"].as_i64()), (Some("image"), Some(400), Some(300)));
    assert_eq!(m["content_type"], "image/png");
    // Retried with the same key: the same media, not a second one.
    let (s, h, again) = upload(&w, &writer, "image/png", png.clone(), Some("up-1")).await;
    assert_eq!((s, &again), (201, &m));
    assert_eq!(h.get("idempotent-replayed").map(String::as_str), Some("true"));
    assert_eq!(w.count("SELECT COUNT(*) FROM media").await, 1);
    // What the bytes are decides: a PNG sent as a video, garbage, an unknown type.
    for (ct, bytes) in
        [("video/mp4", png.clone()), ("image/jpeg", b"not an image at all".to_vec()), ("application/pdf", png.clone())]
    {
        let (s, h, p) = upload(&w, &writer, ct, bytes, None).await;
        assert_eq!(s, 415, "{ct}: {p}");
        is_problem(&h, &p, 415, "unsupported-media-type");
    }
    let huge = vec![0u8; 300_000];
    let (s, h, p) = upload(&w, &writer, "image/jpeg", huge, None).await;
    assert_eq!(s, 413, "{p}");
    is_problem(&h, &p, 413, "too-large");
    let (s, h, p) = upload(&w, &reader, "image/png", png, None).await;
    assert_eq!(s, 403);
    is_problem(&h, &p, 403, "missing-scope");
    assert_eq!(w.count("SELECT COUNT(*) FROM media").await, 1, "nothing stored from refused uploads");
    // The id goes into a post; another workspace cannot use it.
    let (s, _, post) =
        call(&w, "POST", "/api/v1/posts", &writer, &[], Some(json!({"text": "Our new oven", "media": [m["id"]]})))
            .await;
    assert_eq!(s, 201, "{post}");
    assert_eq!(post["media"][0]["id"], m["id"]);
    let (other, other_user) = other_workspace(&store).await;
    let theirs = token(&store, other, other_user, Role::Admin, &[ApiScope::Read, ApiScope::Write]).await;
    let (s, h, p) =
        call(&w, "POST", "/api/v1/posts", &theirs, &[], Some(json!({"text": "x", "media": [m["id"]]}))).await;
    assert_eq!(s, 404, "{p}");
    is_problem(&h, &p, 404, "not-found");
    let (s, h, p) = call(&w, "GET", "/api/v1/media", &writer, &[], None).await;
    assert_eq!(s, 405, "{p}");
    is_problem(&h, &p, 405, "method-not-allowed");
});
