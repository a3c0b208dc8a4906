//! Cross-cutting layers: rate limiting of public routes, and request observation (a tracing span with the
//! request id, plus Prometheus counters and latency histograms labelled by route, never by raw path).
//!
//! Unsigned routes (OAuth callbacks, media, the Meta handshake) go through [`rate_limit`], keyed on the client
//! address [`client_ip`] gives: the TCP peer, or behind a trusted reverse proxy the address the proxy put in
//! `X-Forwarded-For`. Signed routes verify first and then call [`admit_signed`] (see `limits` for why).

use crate::client_ip::client_ip;
use crate::limits::SignedRoute;
use crate::AppState;
use axum::extract::{ConnectInfo, FromRequestParts, MatchedPath, Request, State};
use axum::http::request::Parts;
use axum::http::{HeaderMap, StatusCode};
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};
use std::convert::Infallible;
use std::net::{IpAddr, Ipv4Addr, SocketAddr};
use std::time::Instant;
use tracing::Instrument;

/// The TCP peer of a request; unspecified when the server runs without connect info (`oneshot` in tests).
pub struct Peer(pub IpAddr);

impl<S: Send + Sync> FromRequestParts<S> for Peer {
    type Rejection = Infallible;

    async fn from_request_parts(parts: &mut Parts, _: &S) -> Result<Self, Self::Rejection> {
        Ok(Peer(peer_of(&parts.extensions)))
    }
}

pub(crate) fn peer_of(extensions: &axum::http::Extensions) -> IpAddr {
    extensions.get::<ConnectInfo<SocketAddr>>().map(|c| c.0.ip()).unwrap_or(IpAddr::V4(Ipv4Addr::UNSPECIFIED))
}

fn too_many(route: &'static str) -> Response {
    metrics::counter!("tochen_web_rate_limited_total", "route" => route).increment(1);
    (StatusCode::TOO_MANY_REQUESTS, [("retry-after", "1")], "too many requests").into_response()
}

/// Refuses with 429 when one client address goes over its allowance.
pub async fn rate_limit(State(state): State<AppState>, req: Request, next: Next) -> Response {
    let ip = client_ip(&state.config.web.trusted_proxies, peer_of(req.extensions()), req.headers());
    if !state.limits.client_allowed(ip) {
        return too_many("unsigned");
    }
    next.run(req).await
}

/// Decides a signed route's request once its signature (or the Telegram secret) was checked: `checked` is
/// `Ok` for a valid one, else the status to refuse with. `None`: go on; otherwise the answer. A valid request
/// takes a token from the route's shared allowance, never from its address's; anything else counts against the
/// sender's address (so a forger is limited like any client) and is refused with `checked`'s status, or 429
/// once the address is over its limit.
pub fn admit_signed(
    state: &AppState,
    route: SignedRoute,
    checked: Result<(), StatusCode>,
    peer: IpAddr,
    headers: &HeaderMap,
) -> Option<Response> {
    match checked {
        Ok(()) if state.limits.signed_allowed(route) => None,
        Ok(()) => Some(too_many(route.label())),
        Err(status) => {
            let ip = client_ip(&state.config.web.trusted_proxies, peer, headers);
            if state.limits.client_allowed(ip) {
                Some(status.into_response())
            } else {
                Some(too_many("unsigned"))
            }
        }
    }
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
