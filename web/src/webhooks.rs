//! Incoming platform webhooks: Meta (GET handshake, POST signed with `X-Hub-Signature-256`) and TikTok (POST
//! signed with `TikTok-Signature: t=..,s=..` over `t.body`, with a timestamp tolerance).
//!
//! The signature is checked over the RAW body before any parsing, in constant time. A verified event is stored
//! and deduplicated (`webhook_events`, keyed by a hash of the body: providers deliver at least once) and its
//! `webhook.event` job is queued in the same transaction, all before the 200; the job does the real work. Forged, stale, oversized or
//! malformed requests are refused and nothing is stored. The signature is checked before any rate limit, once:
//! a valid one draws on the route's shared allowance, anything else on the sender's address (`limits`).

use crate::limits::SignedRoute;
use crate::middleware::{admit_signed, Peer};
use crate::AppState;
use axum::body::Bytes;
use axum::extract::{Query, State};
use axum::http::{HeaderMap, StatusCode};
use axum::response::{IntoResponse, Response};
use hmac::{Hmac, Mac};
use sha2::{Digest, Sha256};
use std::collections::HashMap;
use subtle::ConstantTimeEq;

/// How far a TikTok signature timestamp may be from now.
pub const TIKTOK_TOLERANCE_SECS: i64 = 300;

fn hmac(key: &[u8]) -> Hmac<Sha256> {
    Hmac::<Sha256>::new_from_slice(key).expect("hmac takes any key length")
}

/// Checks `sha256=<hex>` against HMAC-SHA256(secret, body), in constant time.
pub fn verify_meta_signature(secret: &str, header: &str, body: &[u8]) -> bool {
    let Some(hex_sig) = header.trim().strip_prefix("sha256=") else { return false };
    let Ok(sig) = hex::decode(hex_sig) else { return false };
    let mut mac = hmac(secret.as_bytes());
    mac.update(body);
    mac.verify_slice(&sig).is_ok()
}

/// Why a TikTok signature was refused.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum TikTokSignature {
    Valid,
    Malformed,
    Stale,
    Forged,
}

/// Checks `t=<unix>,s=<hex>`: the timestamp within the tolerance, then the HMAC over `t.body`.
pub fn verify_tiktok_signature(secret: &str, header: &str, body: &[u8], now_unix: i64) -> TikTokSignature {
    let mut t = None;
    let mut s = None;
    for part in header.split(',') {
        match part.trim().split_once('=') {
            Some(("t", v)) => t = v.parse::<i64>().ok(),
            Some(("s", v)) => s = hex::decode(v).ok(),
            _ => {}
        }
    }
    let (Some(t), Some(s)) = (t, s) else { return TikTokSignature::Malformed };
    // `t` is whatever the header says: a far-away one must be stale, not an overflow.
    if now_unix.abs_diff(t) > TIKTOK_TOLERANCE_SECS.unsigned_abs() {
        return TikTokSignature::Stale;
    }
    let mut mac = hmac(secret.as_bytes());
    mac.update(format!("{t}.").as_bytes());
    mac.update(body);
    if mac.verify_slice(&s).is_ok() {
        TikTokSignature::Valid
    } else {
        TikTokSignature::Forged
    }
}

/// Stores the event (deduplicated) and queues its processing in one transaction; `true` when it was new.
async fn store_and_queue(state: &AppState, source: &str, body: &str) -> Result<bool, Response> {
    let key = hex::encode(Sha256::digest(body.as_bytes()));
    let id = state.store.record_inbound_event(source, &key, body).await.map_err(|e| {
        tracing::error!(error = %e, "could not store a webhook event");
        StatusCode::SERVICE_UNAVAILABLE.into_response()
    })?;
    if id.is_none() {
        metrics::counter!("tochen_webhook_duplicates_total", "source" => source.to_string()).increment(1);
        return Ok(false);
    }
    metrics::counter!("tochen_webhook_events_total", "source" => source.to_string()).increment(1);
    Ok(true)
}

fn header<'a>(h: &'a HeaderMap, name: &str) -> Option<&'a str> {
    h.get(name).and_then(|v| v.to_str().ok())
}

/// The subscription handshake: echo `hub.challenge` when the verify token matches.
pub async fn meta_verify(State(state): State<AppState>, Query(q): Query<HashMap<String, String>>) -> Response {
    let Some(expected) = &state.config.meta.webhook_verify_token else {
        return StatusCode::NOT_FOUND.into_response();
    };
    let given = q.get("hub.verify_token").map(String::as_str).unwrap_or("");
    let token_ok: bool = given.as_bytes().ct_eq(expected.expose().as_bytes()).into();
    match (q.get("hub.mode").map(String::as_str), q.get("hub.challenge")) {
        (Some("subscribe"), Some(challenge)) if token_ok => (StatusCode::OK, challenge.clone()).into_response(),
        _ => StatusCode::FORBIDDEN.into_response(),
    }
}

/// Checks `X-Hub-Signature-256` against every configured Meta secret: 404 when none is configured (the route is
/// off), 401 when the header is missing, 403 when it matches none.
fn check_meta(state: &AppState, headers: &HeaderMap, body: &[u8]) -> Result<(), StatusCode> {
    // Page webhooks are signed with the Meta app secret; Instagram Login apps sign with their own secret.
    let meta = &state.config.meta;
    let secrets: Vec<&str> =
        [&meta.app_secret, &meta.instagram_app_secret].into_iter().flatten().map(|s| s.expose()).collect();
    if secrets.is_empty() {
        return Err(StatusCode::NOT_FOUND);
    }
    let sig = header(headers, "x-hub-signature-256").ok_or(StatusCode::UNAUTHORIZED)?;
    // Check every secret (no early exit), so timing does not tell which one matched.
    let valid = secrets.iter().fold(false, |ok, secret| verify_meta_signature(secret, sig, body) | ok);
    if valid {
        Ok(())
    } else {
        Err(StatusCode::FORBIDDEN)
    }
}

pub async fn meta_event(State(state): State<AppState>, Peer(peer): Peer, headers: HeaderMap, body: Bytes) -> Response {
    let checked = check_meta(&state, &headers, &body);
    if let Some(refused) = admit_signed(&state, SignedRoute::Meta, checked, peer, &headers) {
        return refused;
    }
    let Ok(text) = std::str::from_utf8(&body) else { return StatusCode::BAD_REQUEST.into_response() };
    let parsed: Result<serde_json::Value, _> = serde_json::from_str(text);
    let well_formed = parsed.as_ref().is_ok_and(|v| v["object"].is_string() && v["entry"].is_array());
    if !well_formed {
        return StatusCode::BAD_REQUEST.into_response();
    }
    match store_and_queue(&state, "meta", text).await {
        Ok(_) => StatusCode::OK.into_response(),
        Err(r) => r,
    }
}

/// Checks `TikTok-Signature`: 404 when TikTok is not configured, 401 when the header is missing, malformed or
/// stale, 403 when forged.
fn check_tiktok(state: &AppState, headers: &HeaderMap, body: &[u8]) -> Result<(), StatusCode> {
    let Some(secret) = &state.config.tiktok.client_secret else { return Err(StatusCode::NOT_FOUND) };
    let sig = header(headers, "tiktok-signature").ok_or(StatusCode::UNAUTHORIZED)?;
    match verify_tiktok_signature(secret.expose(), sig, body, chrono::Utc::now().timestamp()) {
        TikTokSignature::Valid => Ok(()),
        TikTokSignature::Malformed | TikTokSignature::Stale => Err(StatusCode::UNAUTHORIZED),
        TikTokSignature::Forged => Err(StatusCode::FORBIDDEN),
    }
}

pub async fn tiktok_event(
    State(state): State<AppState>,
    Peer(peer): Peer,
    headers: HeaderMap,
    body: Bytes,
) -> Response {
    let checked = check_tiktok(&state, &headers, &body);
    if let Some(refused) = admit_signed(&state, SignedRoute::TikTok, checked, peer, &headers) {
        return refused;
    }
    let Some(key) = &state.config.tiktok.client_key else { return StatusCode::NOT_FOUND.into_response() };
    let Ok(text) = std::str::from_utf8(&body) else { return StatusCode::BAD_REQUEST.into_response() };
    let Ok(v) = serde_json::from_str::<serde_json::Value>(text) else {
        return StatusCode::BAD_REQUEST.into_response();
    };
    if !v["event"].is_string() || v["client_key"].as_str() != Some(key.as_str()) {
        return StatusCode::BAD_REQUEST.into_response();
    }
    match store_and_queue(&state, "tiktok", text).await {
        Ok(_) => StatusCode::OK.into_response(),
        Err(r) => r,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn meta_sig(secret: &str, body: &[u8]) -> String {
        let mut m = hmac(secret.as_bytes());
        m.update(body);
        format!("sha256={}", hex::encode(m.finalize().into_bytes()))
    }

    #[test]
    fn meta_signatures_are_checked_over_raw_bytes() {
        let body = br#"{"object":"page","entry":[{"message":"caf\u00e9"}]}"#;
        let sig = meta_sig("s3cret", body);
        assert!(verify_meta_signature("s3cret", &sig, body));
        assert!(!verify_meta_signature("other", &sig, body));
        let mut changed = body.to_vec();
        changed[10] ^= 1;
        assert!(!verify_meta_signature("s3cret", &sig, &changed));
        assert!(!verify_meta_signature("s3cret", "sha1=abc", body));
        assert!(!verify_meta_signature("s3cret", "sha256=zz", body));
    }

    #[test]
    fn tiktok_signatures_check_time_and_mac() {
        let body = br#"{"event":"post.publish.complete"}"#;
        let mut m = hmac(b"k");
        m.update(b"1000.");
        m.update(body);
        let header = format!("t=1000,s={}", hex::encode(m.finalize().into_bytes()));
        assert_eq!(verify_tiktok_signature("k", &header, body, 1100), TikTokSignature::Valid);
        assert_eq!(verify_tiktok_signature("k", &header, body, 1000 + 301), TikTokSignature::Stale);
        assert_eq!(verify_tiktok_signature("x", &header, body, 1000), TikTokSignature::Forged);
        assert_eq!(verify_tiktok_signature("k", "garbage", body, 1000), TikTokSignature::Malformed);
    }
}

/// Headers and bodies of any shape reach the verifiers before anything is trusted: they never panic, and only the
/// right secret over the exact bytes verifies.
#[cfg(test)]
mod props {
    use super::*;
    use proptest::prelude::*;

    fn header() -> impl Strategy<Value = String> {
        prop_oneof![
            "\\PC{0,100}",
            any::<i64>().prop_map(|t| format!("t={t},s=00")),
            (any::<i64>(), "[0-9a-f]{0,70}").prop_map(|(t, s)| format!("t={t},s={s}")),
            "sha256=[0-9a-fA-F]{0,70}",
            Just(format!("t={},s=ab", i64::MIN)),
        ]
    }

    proptest! {
        #![proptest_config(tochen_testkit::props::config(1024))]

        #[test]
        fn verifiers_never_panic_on_any_header_or_body(
            h in header(),
            body in prop::collection::vec(any::<u8>(), 0..256),
            now in prop_oneof![any::<i64>(), 1_700_000_000i64..2_100_000_000],
        ) {
            prop_assert!(!verify_meta_signature("secret", &h, &body));
            prop_assert_ne!(verify_tiktok_signature("secret", &h, &body, now), TikTokSignature::Valid);
        }

        #[test]
        fn a_signature_verifies_only_with_its_secret_over_its_bytes(
            body in prop::collection::vec(any::<u8>(), 0..256),
            flip in any::<prop::sample::Index>(),
            t in 1_700_000_000i64..2_100_000_000,
        ) {
            let mut m = hmac(b"secret");
            m.update(&body);
            let meta = format!("sha256={}", hex::encode(m.finalize().into_bytes()));
            prop_assert!(verify_meta_signature("secret", &meta, &body));
            prop_assert!(!verify_meta_signature("other", &meta, &body));
            let mut m = hmac(b"secret");
            m.update(format!("{t}.").as_bytes());
            m.update(&body);
            let tiktok = format!("t={t},s={}", hex::encode(m.finalize().into_bytes()));
            prop_assert_eq!(verify_tiktok_signature("secret", &tiktok, &body, t), TikTokSignature::Valid);
            if !body.is_empty() {
                let mut changed = body.clone();
                changed[flip.index(body.len())] ^= 1;
                prop_assert!(!verify_meta_signature("secret", &meta, &changed));
                prop_assert_eq!(verify_tiktok_signature("secret", &tiktok, &changed, t), TikTokSignature::Forged);
            }
        }
    }

    #[test]
    fn a_timestamp_at_the_ends_of_i64_is_stale_not_an_overflow() {
        for t in [i64::MIN, i64::MAX, i64::MIN + 1] {
            let header = format!("t={t},s=00");
            assert_eq!(verify_tiktok_signature("k", &header, b"{}", 1_800_000_000), TikTokSignature::Stale);
            assert_eq!(verify_tiktok_signature("k", &header, b"{}", -1_800_000_000), TikTokSignature::Stale);
        }
    }
}
