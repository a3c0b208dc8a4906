//! Cross-cutting layers: per-IP rate limiting of public routes, and request observation (a tracing span with
//! the request id, plus Prometheus counters and latency histograms labelled by route, never by raw path).
//!
//! The rate limit is keyed on the client address [`client_ip`] gives: the TCP peer, or behind a trusted reverse
//! proxy the address the proxy put in `X-Forwarded-For`.

use crate::client_ip::client_ip;
use crate::AppState;
use axum::extract::{ConnectInfo, MatchedPath, Request, State};
use axum::http::StatusCode;
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};
use governor::{DefaultKeyedRateLimiter, Quota, RateLimiter};
use std::net::{IpAddr, Ipv4Addr, SocketAddr};
use std::num::NonZeroU32;
use std::time::Instant;
use tracing::Instrument;

/// Requests per second allowed from one IP, and the burst on top.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct RateLimit {
    pub per_second: u32,
    pub burst: u32,
}

impl Default for RateLimit {
    fn default() -> Self {
        Self { per_second: 50, burst: 200 }
    }
}

pub struct IpLimiter(DefaultKeyedRateLimiter<IpAddr>);

impl IpLimiter {
    pub fn new(r: RateLimit) -> Self {
        let per = NonZeroU32::new(r.per_second.max(1)).unwrap_or(NonZeroU32::MIN);
        let burst = NonZeroU32::new(r.burst.max(1)).unwrap_or(NonZeroU32::MIN);
        Self(RateLimiter::keyed(Quota::per_second(per).allow_burst(burst)))
    }
}

/// Refuses with 429 when one client address goes over its quota.
pub async fn rate_limit(State(state): State<AppState>, req: Request, next: Next) -> Response {
    let peer = req
        .extensions()
        .get::<ConnectInfo<SocketAddr>>()
        .map(|c| c.0.ip())
        .unwrap_or(IpAddr::V4(Ipv4Addr::UNSPECIFIED));
    let ip = client_ip(&state.config.web.trusted_proxies, peer, req.headers());
    if state.limiter.0.check_key(&ip).is_err() {
        metrics::counter!("tochen_web_rate_limited_total").increment(1);
        return (StatusCode::TOO_MANY_REQUESTS, [("retry-after", "1")], "too many requests").into_response();
    }
    next.run(req).await
}

/// One span per request carrying its id; counts and times every answer by route and status.
pub async fn observe(req: Request, next: Next) -> Response {
    let route = req.extensions().get::<MatchedPath>().map(|p| p.as_str().to_string()).unwrap_or_else(|| "other".into());
    let id = req.headers().get("x-request-id").and_then(|v| v.to_str().ok()).unwrap_or("").to_string();
    let method = req.method().to_string();
    let span = tracing::info_span!("request", request_id = %id, %method, route = %route);
    let started = Instant::now();
    let resp = next.run(req).instrument(span.clone()).await;
    let status = resp.status().as_u16();
    let elapsed = started.elapsed();
    span.in_scope(|| tracing::info!(status, latency_ms = elapsed.as_millis() as u64, "answered"));
    metrics::counter!("tochen_web_requests_total", "route" => route.clone(), "status" => status.to_string())
        .increment(1);
    metrics::histogram!("tochen_web_request_seconds", "route" => route).record(elapsed.as_secs_f64());
    resp
}
