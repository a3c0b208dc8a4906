//! `spawn`-style helpers: the web app on a fresh database with the fake Graph and TikTok APIs behind it.
#![allow(dead_code)]

use axum::body::Body;
use axum::http::{Request, Response};
use http_body_util::BodyExt;
use std::collections::HashMap;
use tochen_config::Config;
use tochen_domain::{SecretString, TenantId, UserId};
use tochen_store::Store;
use tochen_store::{TelegramIdentity, TenantProfile};
use tochen_testkit::fake_graph::FakeGraph;
use tochen_testkit::fake_tiktok::FakeTikTok;
use tochen_testkit::TestDb;
use tochen_web::{app, AppState, RateLimit};
use tower::ServiceExt;

pub const META_SECRET: &str = "meta-app-secret";
pub const TIKTOK_SECRET: &str = "tiktok-client-secret";
pub const TELEGRAM_SECRET: &str = "tg_webhook-secret";

pub struct Web {
    pub state: AppState,
    pub graph: FakeGraph,
    pub tiktok: FakeTikTok,
    pub store: Store,
    pub dir: tempfile::TempDir,
}

pub fn config(graph: &str, tiktok: &str, data_dir: &str) -> Config {
    let env: HashMap<String, String> = [
        ("META_APP_ID", "meta-app"),
        ("META_APP_SECRET", META_SECRET),
        ("META_GRAPH_URL", graph),
        ("META_DIALOG_URL", graph),
        ("META_WEBHOOK_VERIFY_TOKEN", "verify-me"),
        ("INSTAGRAM_APP_ID", "ig-app"),
        ("INSTAGRAM_APP_SECRET", "ig-secret"),
        ("INSTAGRAM_GRAPH_URL", graph),
        ("INSTAGRAM_API_URL", graph),
        ("INSTAGRAM_AUTHORIZE_URL", graph),
        ("TIKTOK_CLIENT_KEY", "tt-key"),
        ("TIKTOK_CLIENT_SECRET", TIKTOK_SECRET),
        ("TIKTOK_API_URL", tiktok),
        ("TIKTOK_AUTH_URL", tiktok),
        ("TOCHEN_PUBLIC_URL", "https://tochen.example"),
        ("TOCHEN_DATA_DIR", data_dir),
        ("TOCHEN_MAX_BODY_BYTES", "65536"),
        ("TELEGRAM_MODE", "webhook"),
        ("TELEGRAM_WEBHOOK_SECRET", TELEGRAM_SECRET),
    ]
    .into_iter()
    .map(|(k, v)| (k.to_string(), v.to_string()))
    .collect();
    Config::from_source(&env).unwrap()
}

pub async fn web(db: &TestDb) -> Web {
    let graph = FakeGraph::start().await;
    let tiktok = FakeTikTok::start().await;
    let dir = tempfile::tempdir().unwrap();
    let config = config(&graph.base_url(), &tiktok.base_url(), dir.path().to_str().unwrap());
    let state = AppState::new(
        config,
        db.store.clone(),
        &SecretString::new(db.key.clone()),
        RateLimit { per_second: 10_000, burst: 10_000 },
    );
    Web { state, graph, tiktok, store: db.store.clone(), dir }
}

/// A workspace with one admin who talks to the bot in chat 4242.
pub async fn workspace(store: &Store) -> (TenantId, UserId) {
    let who = TelegramIdentity {
        telegram_id: 4242,
        username: Some("ana".into()),
        first_name: "Ana".into(),
        last_name: None,
        language_code: Some("en".into()),
    };
    let user = store.upsert_user(&who).await.unwrap();
    let tenant = store.create_tenant("Bakery", &TenantProfile::default(), 0, user.id).await.unwrap();
    store.set_team_chat(tenant.id, Some(-100777)).await.unwrap();
    (tenant.id, user.id)
}

impl Web {
    pub async fn send(&self, req: Request<Body>) -> (u16, HashMap<String, String>, String) {
        let resp: Response<Body> = app(self.state.clone()).oneshot(req).await.unwrap();
        let status = resp.status().as_u16();
        let headers =
            resp.headers().iter().map(|(k, v)| (k.to_string(), v.to_str().unwrap_or("").to_string())).collect();
        let body = resp.into_body().collect().await.unwrap().to_bytes();
        (status, headers, String::from_utf8_lossy(&body).to_string())
    }

    pub async fn get(&self, uri: &str) -> (u16, HashMap<String, String>, String) {
        self.send(Request::get(uri).body(Body::empty()).unwrap()).await
    }

    pub async fn post(&self, uri: &str, headers: &[(&str, &str)], body: &[u8]) -> u16 {
        let mut b = Request::post(uri).header("content-type", "application/json");
        for (k, v) in headers {
            b = b.header(*k, *v);
        }
        self.send(b.body(Body::from(body.to_vec())).unwrap()).await.0
    }

    /// Posts an HTML form (`application/x-www-form-urlencoded`), as a browser submits one.
    pub async fn post_form(&self, uri: &str, fields: &[(&str, &str)]) -> (u16, HashMap<String, String>, String) {
        let body = url::form_urlencoded::Serializer::new(String::new()).extend_pairs(fields).finish();
        let req = Request::post(uri).header("content-type", "application/x-www-form-urlencoded");
        self.send(req.body(Body::from(body)).unwrap()).await
    }

    /// Presses `action` ("confirm" or "cancel") on a confirmation page, as the browser would.
    pub async fn answer_page(&self, page: &str, action: &str) -> (u16, HashMap<String, String>, String) {
        let token = form_token(page);
        assert!(page.contains("action=\"https://tochen.example/oauth/confirm\""), "{page}");
        self.post_form("/oauth/confirm", &[("token", &token), ("action", action)]).await
    }

    /// Opens the callback and confirms on the page it shows; returns the outcome page.
    pub async fn consent_and_confirm(&self, authorize_url: &str) -> (u16, HashMap<String, String>, String) {
        let (status, _, page) = self.get(&consent(authorize_url).await).await;
        assert_eq!(status, 200, "{page}");
        assert!(page.contains("Confirm and connect"), "the callback asks for confirmation first: {page}");
        self.answer_page(&page, "confirm").await
    }

    pub async fn count(&self, sql: &str) -> i64 {
        let (n,): (i64,) = sqlx::query_as(sql).fetch_one(self.store.sql_for_tests()).await.unwrap();
        n
    }
}

/// Follows an authorize URL on a fake provider and returns the callback's path and query on our side.
pub async fn consent(authorize_url: &str) -> String {
    let http = reqwest::Client::builder().redirect(reqwest::redirect::Policy::none()).build().unwrap();
    let resp = http.get(authorize_url).send().await.unwrap();
    assert_eq!(resp.status().as_u16(), 302, "the provider redirects back");
    let location = resp.headers()["location"].to_str().unwrap().to_string();
    let callback = location.strip_prefix("https://tochen.example").expect("redirect_uri is ours").to_string();
    callback.split('#').next().unwrap().to_string()
}

/// The one-time token in a confirmation page's form.
pub fn form_token(page: &str) -> String {
    let start = page.find("name=\"token\" value=\"").expect("a confirmation form") + "name=\"token\" value=\"".len();
    let len = page[start..].find('"').unwrap();
    page[start..start + len].to_string()
}
