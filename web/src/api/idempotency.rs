//! `Idempotency-Key` on POST: the first answer to a key (per token) is kept for a day, and a retry with the same
//! key and the same request gets it again (marked `Idempotent-Replayed: true`) instead of running twice, so a
//! client whose connection dropped before the answer arrived can safely send again. A retry while the first
//! request still runs is a `409` problem; the same key with a different request (method, path or body) is a `422`
//! problem. An answer that says to retry (a `5xx`, `401`, `403`, `408`, `409` or `429`) is not kept: the retry
//! runs the request again.

use super::auth::bearer;
use super::Problem;
use crate::AppState;
use axum::body::{to_bytes, Body};
use axum::extract::{Request, State};
use axum::http::header::{CONTENT_TYPE, ETAG, LOCATION};
use axum::http::{HeaderName, HeaderValue, Method, StatusCode};
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};
use sha2::{Digest, Sha256};
use tochen_domain::api_tokens::hash_token;
use tochen_domain::clock::now_ms;
use tochen_store::Idempotency;

/// The request header.
pub const HEADER: &str = "idempotency-key";
/// Longest key accepted.
pub const MAX_KEY_CHARS: usize = 255;
/// Largest answer kept for replay; a larger one is not kept (a retry runs again).
const MAX_KEPT_BYTES: usize = 1 << 20;
/// The response headers a replay repeats.
const KEPT_HEADERS: [HeaderName; 3] = [CONTENT_TYPE, ETAG, LOCATION];

fn keeps(status: StatusCode) -> bool {
    !(status.is_server_error() || matches!(status.as_u16(), 401 | 403 | 408 | 409 | 429))
}

fn replay(status: u16, headers: Option<String>, body: String) -> Response {
    let mut resp = Response::new(Body::from(body));
    *resp.status_mut() = StatusCode::from_u16(status).unwrap_or(StatusCode::OK);
    let kept: serde_json::Map<String, serde_json::Value> =
        headers.and_then(|h| serde_json::from_str(&h).ok()).unwrap_or_default();
    for (name, value) in kept {
        if let (Ok(n), Some(Ok(v))) = (HeaderName::try_from(name.as_str()), value.as_str().map(HeaderValue::from_str)) {
            resp.headers_mut().insert(n, v);
        }
    }
    resp.headers_mut().insert(HeaderName::from_static("idempotent-replayed"), HeaderValue::from_static("true"));
    resp
}

/// A reserved key that is released if the request never completes (the client went away and the request was
/// dropped mid-way): otherwise every retry would be told the first request is still running.
struct Reservation {
    store: tochen_store::Store,
    token: String,
    key: String,
    armed: bool,
}

impl Drop for Reservation {
    fn drop(&mut self) {
        if !self.armed {
            return;
        }
        let (store, token, key) = (self.store.clone(), std::mem::take(&mut self.token), std::mem::take(&mut self.key));
        if let Ok(rt) = tokio::runtime::Handle::try_current() {
            rt.spawn(async move {
                if let Err(e) = store.release_idempotency(&token, &key).await {
                    tracing::warn!(error = %e, "api: cannot release an abandoned idempotency key");
                }
            });
        }
    }
}

/// The middleware for JSON routes: the request's fingerprint covers its method, path and body.
pub async fn guard(State(state): State<AppState>, req: Request, next: Next) -> Response {
    let (token, key) = match key_of(&req) {
        Ok(Some(k)) => k,
        Ok(None) => return next.run(req).await,
        Err(p) => return p.into_response(),
    };
    let (parts, body) = req.into_parts();
    // The body limit layer outside has capped the body already.
    let Ok(bytes) = to_bytes(body, usize::MAX).await else {
        return Problem::new(
            StatusCode::PAYLOAD_TOO_LARGE,
            "too-large",
            "The body is too large",
            format!("the body is larger than {} bytes", state.config.web.max_body_bytes),
        )
        .into_response();
    };
    let fingerprint = fingerprint(&parts, &bytes);
    run(&state, token, key, fingerprint, Request::from_parts(parts, Body::from(bytes)), next).await
}

/// The middleware for uploads, whose bodies stream to disk: the fingerprint covers the method, path, type and
/// length, not the bytes (a key reused for another file of the same type and length gets the first answer).
pub async fn guard_streaming(State(state): State<AppState>, req: Request, next: Next) -> Response {
    let (token, key) = match key_of(&req) {
        Ok(Some(k)) => k,
        Ok(None) => return next.run(req).await,
        Err(p) => return p.into_response(),
    };
    let h = req.headers();
    let described = format!(
        "{:?}\0{:?}",
        h.get(CONTENT_TYPE).and_then(|v| v.to_str().ok()),
        h.get(axum::http::header::CONTENT_LENGTH).and_then(|v| v.to_str().ok())
    );
    let (parts, body) = req.into_parts();
    let fingerprint = fingerprint(&parts, described.as_bytes());
    run(&state, token, key, fingerprint, Request::from_parts(parts, body), next).await
}

/// The token's hash and the key of a POST with an `Idempotency-Key`; `None` for any other request; a refusal for
/// a malformed key.
fn key_of(req: &Request) -> Result<Option<(String, String)>, Problem> {
    if req.method() != Method::POST {
        return Ok(None);
    }
    let Some(raw) = req.headers().get(HEADER) else { return Ok(None) };
    let Some(token) = bearer(req.headers()).map(hash_token) else { return Ok(None) };
    match raw.to_str() {
        Ok(k) if !k.trim().is_empty() && k.chars().count() <= MAX_KEY_CHARS => Ok(Some((token, k.trim().to_owned()))),
        _ => Err(Problem::invalid(format!(
            "Idempotency-Key must be 1 to {MAX_KEY_CHARS} visible characters (a UUID is a good key)"
        ))),
    }
}

fn fingerprint(parts: &axum::http::request::Parts, body: &[u8]) -> String {
    let mut h = Sha256::new();
    h.update(parts.method.as_str());
    h.update([0]);
    h.update(parts.uri.path_and_query().map(|p| p.as_str()).unwrap_or_default());
    h.update([0]);
    h.update(body);
    hex::encode(h.finalize())
}

/// Reserves the key, runs the request once, and keeps its answer (or replays the first one).
async fn run(state: &AppState, token: String, key: String, fingerprint: String, req: Request, next: Next) -> Response {
    let store = &state.store;
    match store.reserve_idempotency(&token, &key, &fingerprint, now_ms()).await {
        Ok(Idempotency::Reserved) => {}
        Ok(Idempotency::InProgress) => {
            return Problem::conflict(
                "idempotency-in-progress",
                "The first request with this key is still running",
                "a request with this Idempotency-Key is still running: retry in a moment to get its answer",
            )
            .into_response()
        }
        Ok(Idempotency::Mismatch) => {
            return Problem::unprocessable(
                "idempotency-key-reused",
                "The key was used for another request",
                "this Idempotency-Key was used for a different request: use a new key for a new request",
            )
            .into_response()
        }
        Ok(Idempotency::Done { status, headers, body }) => return replay(status, headers, body),
        Err(e) => return Problem::from(e).into_response(),
    }
    let mut reservation = Reservation { store: store.clone(), token: token.clone(), key: key.clone(), armed: true };
    let resp = next.run(req).await;
    let status = resp.status();
    let (rparts, rbody) = resp.into_parts();
    let rbytes = match to_bytes(rbody, MAX_KEPT_BYTES).await {
        Ok(b) => b,
        Err(e) => {
            tracing::warn!(error = %e, "api: an answer could not be kept for its idempotency key");
            return Problem::internal().into_response();
        }
    };
    let text = std::str::from_utf8(&rbytes).ok();
    let outcome = match text {
        Some(text) if keeps(status) => {
            let kept: serde_json::Map<String, serde_json::Value> = KEPT_HEADERS
                .iter()
                .filter_map(|n| rparts.headers.get(n).and_then(|v| v.to_str().ok()).map(|v| (n.to_string(), v.into())))
                .collect();
            let headers = serde_json::Value::Object(kept).to_string();
            store.finish_idempotency(&token, &key, status.as_u16(), Some(&headers), text).await
        }
        _ => store.release_idempotency(&token, &key).await,
    };
    reservation.armed = false;
    if let Err(e) = outcome {
        // The answer stands; only its replay is lost (a retry may run the request again).
        tracing::warn!(error = %e, "api: cannot record an idempotency key's answer");
    }
    Response::from_parts(rparts, Body::from(rbytes))
}
