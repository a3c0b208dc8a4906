//! Outgoing webhooks that follow Standard Webhooks v1 (standardwebhooks.com), so receivers can verify them with
//! any off-the-shelf library.
//!
//! The pieces are pure where they can be (secret, signature, envelope, classification, retry schedule) and tested
//! against the spec's known vector; [`WebhookSender`] is the one piece that talks to the network. It follows no
//! redirects (a 3xx is a failure: a redirect could point a signed payload anywhere), honours a timeout, ignores
//! proxy variables, and resolves hosts through [`GuardedResolver`] so internal addresses are refused at connect
//! time too. The retry loop itself lives in `outbox`, which drives this sender from durable jobs.
//!
//! A receiver is somebody else's server, so nothing it answers may cost unbounded memory or time: at most
//! [`RESPONSE_READ_CAP`] bytes of its body are read (then the connection is dropped), and a `Retry-After` longer
//! than [`MAX_RETRY_AFTER`] is cut to it (a receiver asking for a week, or for u64::MAX seconds, which once
//! overflowed into a retry at once, still gets its delivery retried within the hour and then on the schedule).

use super::ssrf::{check_url_with, Lookup, SsrfError, SystemLookup};
use base64::engine::general_purpose::STANDARD as B64;
use base64::Engine;
use chrono::{DateTime, Utc};
use hmac::{Hmac, Mac};
use rand::RngCore;
use sha2::Sha256;
use std::sync::Arc;
use std::time::{Duration, Instant};
use url::Url;

use tochen_domain::secret::SecretString;

const PREFIX: &str = "whsec_";
/// The most of a receiver's answer kept in the delivery log.
pub const SNIPPET_BYTES: usize = 1024;
/// The most of a receiver's answer ever read; the rest is never downloaded.
pub const RESPONSE_READ_CAP: usize = 4 * 1024;
/// The longest `Retry-After` honoured.
pub const MAX_RETRY_AFTER: Duration = Duration::from_secs(3600);

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum WebhookError {
    #[error("webhook secret must start with {PREFIX:?} followed by base64 of 24-64 bytes")]
    BadSecret,
    #[error(transparent)]
    Ssrf(#[from] SsrfError),
    #[error("cannot build the webhook http client: {0}")]
    Client(String),
}

/// A `whsec_` signing secret. The HMAC key is the base64-decoded part after the prefix.
#[derive(Clone, Debug)]
pub struct WebhookSecret(SecretString);

impl WebhookSecret {
    /// A new secret from 32 random bytes.
    pub fn generate() -> Self {
        let mut key = [0u8; 32];
        rand::rngs::OsRng.fill_bytes(&mut key);
        Self(SecretString::new(format!("{PREFIX}{}", B64.encode(key))))
    }

    /// Parses a stored or pasted secret, refusing anything that is not `whsec_` + base64 of 24-64 bytes.
    pub fn parse(s: &str) -> Result<Self, WebhookError> {
        let body = s.trim().strip_prefix(PREFIX).ok_or(WebhookError::BadSecret)?;
        let key = B64.decode(body).map_err(|_| WebhookError::BadSecret)?;
        if !(24..=64).contains(&key.len()) {
            return Err(WebhookError::BadSecret);
        }
        Ok(Self(SecretString::new(s.trim())))
    }

    /// The full `whsec_...` text, for showing once to the tenant and for encrypting into the store.
    pub fn expose(&self) -> &str {
        self.0.expose()
    }

    /// The HMAC key bytes.
    pub fn key(&self) -> Vec<u8> {
        B64.decode(&self.0.expose()[PREFIX.len()..]).expect("checked when the secret was built")
    }
}

/// `v1,<base64(HMAC-SHA256(key, "{id}.{timestamp}.{body}"))>`.
pub fn sign(key: &[u8], message_id: &str, timestamp: i64, body: &[u8]) -> String {
    let mut mac = Hmac::<Sha256>::new_from_slice(key).expect("hmac accepts any key length");
    mac.update(message_id.as_bytes());
    mac.update(b".");
    mac.update(timestamp.to_string().as_bytes());
    mac.update(b".");
    mac.update(body);
    format!("v1,{}", B64.encode(mac.finalize().into_bytes()))
}

/// What one attempt's result means for the delivery.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum AttemptVerdict {
    /// 2xx: done.
    Delivered,
    /// 410 Gone: the receiver asks never to be called again; the destination is disabled.
    Gone,
    /// 429/502/503/504: try later, no sooner than `Retry-After` when it was given.
    SlowDown { retry_after: Option<Duration> },
    /// Anything else (3xx, 4xx, 5xx, network error, timeout): try again on the schedule.
    Retry,
}

/// Classifies an HTTP status. `retry_after` is the raw `Retry-After` header (seconds or an HTTP date).
pub fn classify(status: u16, retry_after: Option<&str>, now: DateTime<Utc>) -> AttemptVerdict {
    match status {
        200..=299 => AttemptVerdict::Delivered,
        410 => AttemptVerdict::Gone,
        429 | 502 | 503 | 504 => {
            AttemptVerdict::SlowDown { retry_after: retry_after.and_then(|v| parse_retry_after(v, now)) }
        }
        _ => AttemptVerdict::Retry,
    }
}

/// Seconds or an HTTP date, at most [`MAX_RETRY_AFTER`].
fn parse_retry_after(value: &str, now: DateTime<Utc>) -> Option<Duration> {
    let value = value.trim();
    let wait = match value.parse::<u64>() {
        Ok(secs) => Duration::from_secs(secs),
        Err(_) => {
            let at = DateTime::parse_from_rfc2822(value).ok()?.with_timezone(&Utc);
            (at - now).to_std().unwrap_or(Duration::ZERO)
        }
    };
    Some(wait.min(MAX_RETRY_AFTER))
}

/// The spec's schedule: the first attempt at once, then these waits before attempts 2..=8.
pub const RETRY_SCHEDULE: [Duration; 7] = [
    Duration::from_secs(5),
    Duration::from_secs(5 * 60),
    Duration::from_secs(30 * 60),
    Duration::from_secs(2 * 3600),
    Duration::from_secs(5 * 3600),
    Duration::from_secs(10 * 3600),
    Duration::from_secs(10 * 3600),
];

/// Total attempts before giving up (the immediate one plus the scheduled retries).
pub const MAX_ATTEMPTS: u32 = RETRY_SCHEDULE.len() as u32 + 1;

/// The wait before the next attempt after `attempts_made` attempts, or `None` when it is time to give up.
/// `jitter` in [0, 1) spreads retries by up to +10% so that many failed deliveries do not return in a herd;
/// a receiver's `Retry-After` is honoured when it asks for longer.
pub fn next_retry_delay(attempts_made: u32, jitter: f64, retry_after: Option<Duration>) -> Option<Duration> {
    let base = *RETRY_SCHEDULE.get(attempts_made.checked_sub(1)? as usize)?;
    let jittered = base.mul_f64(1.0 + 0.1 * jitter.clamp(0.0, 1.0));
    Some(retry_after.map_or(jittered, |ra| ra.max(jittered)))
}

/// The record of one attempt, as the delivery log keeps it.
#[derive(Debug, Clone)]
pub struct AttemptReport {
    pub verdict: AttemptVerdict,
    pub status_code: Option<u16>,
    pub latency_ms: i64,
    /// At most [`SNIPPET_BYTES`] of the response body.
    pub response_snippet: Option<String>,
    pub error: Option<String>,
}

/// Sends signed webhook requests. Cheap to clone; build one per process.
#[derive(Clone, Debug)]
pub struct WebhookSender {
    client: reqwest::Client,
    allow_private: bool,
    lookup: Arc<dyn Lookup>,
}

impl WebhookSender {
    /// `allow_private` is `config.webhook_allow_private`; `timeout` should be 15-30 s.
    pub fn new(allow_private: bool, timeout: Duration) -> Result<Self, WebhookError> {
        Self::with_lookup(allow_private, timeout, Arc::new(SystemLookup))
    }

    /// A sender that resolves host names through `lookup`, both when checking a URL and when connecting.
    pub fn with_lookup(allow_private: bool, timeout: Duration, lookup: Arc<dyn Lookup>) -> Result<Self, WebhookError> {
        let agent = concat!("tochen-webhooks/", env!("CARGO_PKG_VERSION"));
        let client = crate::ssrf::guarded_client(lookup.clone(), allow_private, timeout, agent)
            .map_err(|e| WebhookError::Client(e.to_string()))?;
        Ok(Self { client, allow_private, lookup })
    }

    /// Checks a URL before it is stored as a destination.
    pub async fn check_url(&self, url: &Url) -> Result<(), SsrfError> {
        check_url_with(url, self.allow_private, self.lookup.as_ref()).await
    }

    /// Parses what a person typed and checks it like [`Self::check_url`].
    pub async fn parse_and_check(&self, raw: &str) -> Result<Url, SsrfError> {
        let url = Url::parse(raw.trim()).map_err(|_| SsrfError::NotAUrl(raw.trim().to_owned()))?;
        self.check_url(&url).await?;
        Ok(url)
    }

    /// One attempt: signs `body` with a fresh timestamp and the given message id, POSTs it, and classifies the
    /// answer. Never returns an error: a refused URL or a network failure is an attempt with `error` set.
    #[tracing::instrument(skip(self, secrets, body), fields(url = %url))]
    pub async fn send(&self, url: &Url, secrets: &[WebhookSecret], message_id: &str, body: &str) -> AttemptReport {
        let started = Instant::now();
        if let Err(e) = self.check_url(url).await {
            return AttemptReport::failed(elapsed_ms(started), e.to_string());
        }
        let now = Utc::now();
        let ts = now.timestamp();
        let signature =
            secrets.iter().map(|s| sign(&s.key(), message_id, ts, body.as_bytes())).collect::<Vec<_>>().join(" ");
        let result = self
            .client
            .post(url.clone())
            .header("webhook-id", message_id)
            .header("webhook-timestamp", ts.to_string())
            .header("webhook-signature", signature)
            .header(reqwest::header::CONTENT_TYPE, "application/json")
            .body(body.to_owned())
            .send()
            .await;
        let response = match result {
            Ok(r) => r,
            Err(e) => return AttemptReport::failed(elapsed_ms(started), error_chain(&e)),
        };
        let status = response.status().as_u16();
        let retry_after =
            response.headers().get(reqwest::header::RETRY_AFTER).and_then(|v| v.to_str().ok()).map(str::to_owned);
        let verdict = classify(status, retry_after.as_deref(), now);
        let snippet = snippet(&read_capped(response, RESPONSE_READ_CAP).await);
        AttemptReport {
            error: (verdict != AttemptVerdict::Delivered).then(|| format!("http status {status}")),
            verdict,
            status_code: Some(status),
            latency_ms: elapsed_ms(started),
            response_snippet: Some(snippet).filter(|s| !s.is_empty()),
        }
    }
}

/// The first `cap` bytes of a response body, read chunk by chunk; the response (and with it the connection) is
/// dropped after that, so a receiver streaming gigabytes costs one chunk at most. A body that breaks off
/// early gives what arrived.
async fn read_capped(mut response: reqwest::Response, cap: usize) -> Vec<u8> {
    let mut body = Vec::new();
    while body.len() < cap {
        match response.chunk().await {
            Ok(Some(chunk)) => body.extend_from_slice(&chunk[..chunk.len().min(cap - body.len())]),
            Ok(None) | Err(_) => break,
        }
    }
    body
}

fn elapsed_ms(started: Instant) -> i64 {
    i64::try_from(started.elapsed().as_millis()).unwrap_or(i64::MAX)
}

impl AttemptReport {
    /// An attempt that got no HTTP answer (a refused URL, a network failure): retried on the schedule.
    pub fn failed(latency_ms: i64, error: String) -> Self {
        Self {
            verdict: AttemptVerdict::Retry,
            status_code: None,
            latency_ms,
            response_snippet: None,
            error: Some(error),
        }
    }
}

/// reqwest hides the interesting part (refused address, timeout) in the source chain.
fn error_chain(e: &dyn std::error::Error) -> String {
    let mut text = e.to_string();
    let mut source = e.source();
    while let Some(s) = source {
        text.push_str(": ");
        text.push_str(&s.to_string());
        source = s.source();
    }
    text
}

/// The first [`SNIPPET_BYTES`] of a body as text, cut on a character boundary.
pub fn snippet(body: &[u8]) -> String {
    let text = String::from_utf8_lossy(&body[..body.len().min(SNIPPET_BYTES)]).into_owned();
    truncate_utf8(&text, SNIPPET_BYTES).to_owned()
}

/// The longest prefix of `s` of at most `max` bytes that ends on a character boundary.
pub fn truncate_utf8(s: &str, max: usize) -> &str {
    if s.len() <= max {
        return s;
    }
    let mut end = max;
    while !s.is_char_boundary(end) {
        end -= 1;
    }
    &s[..end]
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_spec_vector_signs_to_the_known_signature() {
        let key = B64.decode("C2FVsBQIhrscChlQIMV+b5sSYspob7oD").unwrap();
        let body = br#"{"email":"test@example.com","username":"test_user"}"#;
        assert_eq!(
            sign(&key, "msg_27UH4WbU6Z5A5EzD8u03UvzRbpk", 1649367553, body),
            "v1,tZ1I4/hDygAJgO5TYxiSd6Sd0kDW6hPenDe+bTa3Kkw="
        );
        let secret = WebhookSecret::parse("whsec_C2FVsBQIhrscChlQIMV+b5sSYspob7oD").unwrap();
        assert_eq!(secret.key(), key);
    }

    #[test]
    fn generated_secrets_carry_32_random_bytes() {
        let a = WebhookSecret::generate();
        let b = WebhookSecret::generate();
        assert!(a.expose().starts_with("whsec_"));
        assert_eq!(a.key().len(), 32);
        assert_ne!(a.key(), b.key());
        assert!(WebhookSecret::parse(a.expose()).is_ok());
        assert_eq!(WebhookSecret::parse("whsec_c2hvcnQ=").unwrap_err(), WebhookError::BadSecret);
        assert_eq!(WebhookSecret::parse("nope").unwrap_err(), WebhookError::BadSecret);
    }

    #[test]
    fn statuses_are_classified_as_the_spec_says() {
        let now = Utc::now();
        assert_eq!(classify(204, None, now), AttemptVerdict::Delivered);
        assert_eq!(classify(410, None, now), AttemptVerdict::Gone);
        assert_eq!(classify(301, None, now), AttemptVerdict::Retry);
        assert_eq!(classify(500, None, now), AttemptVerdict::Retry);
        assert_eq!(classify(404, None, now), AttemptVerdict::Retry);
        assert_eq!(
            classify(429, Some("120"), now),
            AttemptVerdict::SlowDown { retry_after: Some(Duration::from_secs(120)) }
        );
        let later = (now + chrono::Duration::seconds(60)).to_rfc2822();
        match classify(503, Some(&later), now) {
            AttemptVerdict::SlowDown { retry_after: Some(d) } => assert!(d.as_secs() >= 59 && d.as_secs() <= 60),
            other => panic!("{other:?}"),
        }
        assert_eq!(classify(504, Some("soon"), now), AttemptVerdict::SlowDown { retry_after: None });
    }

    #[test]
    fn an_enormous_retry_after_is_cut_to_an_hour() {
        let now = Utc::now();
        let capped = AttemptVerdict::SlowDown { retry_after: Some(MAX_RETRY_AFTER) };
        assert_eq!(classify(429, Some("18446744073709551615"), now), capped);
        assert_eq!(classify(503, Some("604800"), now), capped);
        let next_year = (now + chrono::Duration::days(365)).to_rfc2822();
        assert_eq!(classify(503, Some(&next_year), now), capped);
        assert_eq!(
            classify(429, Some("3599"), now),
            AttemptVerdict::SlowDown { retry_after: Some(Duration::from_secs(3599)) }
        );
        assert_eq!(next_retry_delay(1, 0.0, Some(MAX_RETRY_AFTER)), Some(MAX_RETRY_AFTER));
    }

    #[test]
    fn the_retry_schedule_is_five_seconds_to_ten_hours_then_gives_up() {
        let waits: Vec<u64> = (1..=7).map(|n| next_retry_delay(n, 0.0, None).unwrap().as_secs()).collect();
        assert_eq!(waits, [5, 300, 1800, 7200, 18000, 36000, 36000]);
        assert_eq!(next_retry_delay(8, 0.0, None), None);
        assert_eq!(MAX_ATTEMPTS, 8);
        let jittered = next_retry_delay(2, 0.999, None).unwrap().as_secs();
        assert!((300..=330).contains(&jittered));
        assert_eq!(next_retry_delay(1, 0.0, Some(Duration::from_secs(60))), Some(Duration::from_secs(60)));
    }

    #[test]
    fn snippets_are_cut_on_a_character_boundary() {
        let long = "é".repeat(1000);
        let s = snippet(long.as_bytes());
        assert!(s.len() <= SNIPPET_BYTES && s.chars().all(|c| c == 'é'));
    }
}
