//! `/health` (database reachable, scheduler heartbeat fresh), `/ready` (accepting traffic, false while shutting
//! down, and what the process still waits for), and the Prometheus text on the private metrics listener.

use crate::AppState;
use axum::extract::State;
use axum::http::StatusCode;
use axum::response::IntoResponse;
use axum::Json;
use metrics_exporter_prometheus::{PrometheusBuilder, PrometheusHandle};
use serde_json::json;
use std::sync::atomic::Ordering;
use std::sync::OnceLock;
use tochen_domain::clock::now_ms;

/// A heartbeat older than this means the scheduler is down.
pub const HEARTBEAT_STALE_MS: i64 = 120_000;

static HANDLE: OnceLock<Option<PrometheusHandle>> = OnceLock::new();

/// Installs the global Prometheus recorder once per process (later calls reuse it).
pub fn install_recorder() -> Option<&'static PrometheusHandle> {
    HANDLE.get_or_init(|| PrometheusBuilder::new().install_recorder().ok()).as_ref()
}

pub async fn metrics() -> impl IntoResponse {
    match install_recorder() {
        Some(h) => (StatusCode::OK, [("content-type", "text/plain; version=0.0.4")], h.render()).into_response(),
        None => (StatusCode::SERVICE_UNAVAILABLE, "metrics recorder unavailable").into_response(),
    }
}

pub async fn health(State(state): State<AppState>) -> impl IntoResponse {
    let db_ok = state.store.ping().await.is_ok();
    let last: Option<i64> = if db_ok { state.store.last_scheduler_beat().await.ok().flatten() } else { None };
    let scheduler = match last {
        Some(at) if now_ms() - at <= HEARTBEAT_STALE_MS => "ok",
        Some(_) => "stale",
        None => "missing",
    };
    let ok = db_ok && scheduler == "ok";
    let body = json!({
        "status": if ok { "ok" } else { "degraded" },
        "database": if db_ok { "ok" } else { "unreachable" },
        "scheduler": scheduler,
        "scheduler_last_beat_ms": last,
    });
    (if ok { StatusCode::OK } else { StatusCode::SERVICE_UNAVAILABLE }, Json(body))
}

/// 200 while this web service serves, even when another component still waits (the bot retrying an unreachable
/// Bot API): a load balancer must keep sending Meta's and TikTok's webhooks to a service that stores them. 503
/// once shutdown began or without a database. The body names what is waiting, for operators:
/// `{"status":"ready","waiting":{"bot":"Telegram Bot API unreachable, retrying (attempt 3)"}}`.
pub async fn ready(State(state): State<AppState>) -> impl IntoResponse {
    let serving = state.ready.load(Ordering::SeqCst) && state.store.ping().await.is_ok();
    let body = json!({
        "status": if serving { "ready" } else { "not_ready" },
        "waiting": state.readiness.waiting_for(),
    });
    (if serving { StatusCode::OK } else { StatusCode::SERVICE_UNAVAILABLE }, Json(body))
}
