//! A Standard Webhooks receiver on 127.0.0.1 for tests of outgoing deliveries: records each request's
//! `webhook-id` header and body, and answers 204.

use crate::fake_server::{serve, ServerTask};
use axum::body::Bytes;
use axum::extract::State;
use axum::http::{HeaderMap, StatusCode};
use std::sync::{Arc, Mutex};

type Log = Arc<Mutex<Vec<(String, String)>>>;

pub struct WebhookReceiver {
    /// The URL to register as a webhook destination (`http://127.0.0.1:<port>/hook`).
    pub url: String,
    log: Log,
    _task: ServerTask,
}

impl WebhookReceiver {
    pub async fn start() -> Self {
        let log: Log = Arc::default();
        let app = axum::Router::new().route("/hook", axum::routing::post(record)).with_state(log.clone());
        let (base, task) = serve(app).await;
        Self { url: format!("{base}/hook"), log, _task: task }
    }

    /// (webhook-id, body) of every request so far, in arrival order.
    pub fn received(&self) -> Vec<(String, String)> {
        self.log.lock().unwrap().clone()
    }
}

async fn record(State(log): State<Log>, headers: HeaderMap, body: Bytes) -> StatusCode {
    let id = headers.get("webhook-id").and_then(|v| v.to_str().ok()).unwrap_or_default().to_owned();
    log.lock().unwrap().push((id, String::from_utf8_lossy(&body).into_owned()));
    StatusCode::NO_CONTENT
}
