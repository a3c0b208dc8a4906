//! Per-token rate limits: every API request takes one from its token's allowance (`TOCHEN_API_RATE_LIMIT` per
//! minute, keyed by the hash of the bearer secret, so requests with unknown tokens are limited too, and by client
//! address when there is none). Every answer says where the caller stands, in the IETF RateLimit header fields
//! (`RateLimit-Policy: "token";q=600;w=60` and `RateLimit: "token";r=599;t=1`) and in the older, widely read
//! `RateLimit-Limit`, `RateLimit-Remaining` and `RateLimit-Reset`; a request over the limit is a `429` problem
//! with `Retry-After`.

use super::auth::bearer;
use super::Problem;
use crate::limits::ApiAllowance;
use crate::AppState;
use axum::extract::{Request, State};
use axum::http::{HeaderMap, HeaderName, HeaderValue, StatusCode};
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};
use tochen_domain::api_tokens::hash_token;

/// The key a request's allowance is counted under.
fn key(req: &Request, state: &AppState) -> String {
    match bearer(req.headers()) {
        Some(secret) => hash_token(secret),
        None => {
            let peer = crate::middleware::peer_of(req.extensions());
            let ip = crate::client_ip(&state.config.web.trusted_proxies, peer, req.headers());
            format!("ip:{}", crate::client_key(ip))
        }
    }
}

fn set(headers: &mut HeaderMap, name: &'static str, value: String) {
    if let Ok(v) = HeaderValue::from_str(&value) {
        headers.insert(HeaderName::from_static(name), v);
    }
}

fn annotate(headers: &mut HeaderMap, a: &ApiAllowance) {
    set(headers, "ratelimit-policy", format!("\"token\";q={};w=60", a.limit));
    set(headers, "ratelimit", format!("\"token\";r={};t={}", a.remaining, a.reset_secs));
    set(headers, "ratelimit-limit", a.limit.to_string());
    set(headers, "ratelimit-remaining", a.remaining.to_string());
    set(headers, "ratelimit-reset", a.reset_secs.to_string());
}

fn too_many(detail: String, retry_after: u64) -> Response {
    metrics::counter!("tochen_web_rate_limited_total", "route" => "/api/v1").increment(1);
    let mut r =
        Problem::new(StatusCode::TOO_MANY_REQUESTS, "rate-limited", "Too many requests", detail).into_response();
    set(r.headers_mut(), "retry-after", retry_after.max(1).to_string());
    r
}

/// The middleware every unsigned route has, as a problem document: one client address's allowance
/// (`TOCHEN_RATE_LIMIT_PER_IP`), before any token is looked up.
pub async fn per_client(State(state): State<AppState>, req: Request, next: Next) -> Response {
    let peer = crate::middleware::peer_of(req.extensions());
    let ip = crate::client_ip(&state.config.web.trusted_proxies, peer, req.headers());
    if !state.limits.client_allowed(ip) {
        return too_many("too many requests from this address: slow down and try again in a second".into(), 1);
    }
    next.run(req).await
}

/// The middleware: refuses a request over its token's allowance, and annotates every answer.
pub async fn limit(State(state): State<AppState>, req: Request, next: Next) -> Response {
    let allowance = state.limits.api_check(&key(&req, &state));
    let mut resp = if allowance.allowed {
        next.run(req).await
    } else {
        let detail = format!(
            "this token may make {} requests a minute: wait {} s (Retry-After) and try again",
            allowance.limit,
            allowance.reset_secs.max(1)
        );
        too_many(detail, allowance.reset_secs)
    };
    annotate(resp.headers_mut(), &allowance);
    resp
}
