//! Mapping each platform's error envelope into an [`ErrorClass`], keeping the platform's own message.
//!
//! The tables follow `docs/contracts/meta.md` and `docs/contracts/tiktok.md`. They are pure functions so every
//! code can be tested without a server; anything not listed falls back on the HTTP status (5xx retry, 4xx
//! permanent).

use super::http::Answer;
use crate::publish::{ErrorClass, PublishError};
use serde_json::Value;
use std::time::Duration;

/// Classifies a Graph API error code and subcode.
pub fn graph_class(status: u16, code: i64, subcode: Option<i64>) -> ErrorClass {
    let retry = |secs: Option<u64>| ErrorClass::Retryable { retry_after: secs.map(Duration::from_secs) };
    match (code, subcode) {
        // Container not ready yet; the caller polls again.
        (9007, Some(2207027)) => retry(Some(60)),
        // Publishing quota reached: wait for the 24-hour window to move.
        (_, Some(2207042)) => retry(Some(3600)),
        // Media download timeout on Meta's side.
        (_, Some(2207003)) => retry(Some(300)),
        (1 | 2, _) => retry(None),
        (4 | 17 | 32 | 341 | 613 | 80001, _) => retry(Some(600)),
        (190 | 102 | 10, _) => ErrorClass::NeedsReconnect,
        (200..=299, _) => ErrorClass::NeedsReconnect,
        (100 | 368 | 506 | 1609005 | 324 | 9004 | 36003, _) => ErrorClass::Permanent,
        (_, Some(2207000..=2207099)) => ErrorClass::Permanent,
        _ if status >= 500 => retry(None),
        _ if status == 429 => retry(Some(60)),
        _ => ErrorClass::Permanent,
    }
}

/// A `PublishError` from a Graph answer that is not a success, or `None` when it is one.
pub fn graph_error(a: &Answer) -> Option<PublishError> {
    let v = a.json();
    let err = v.get("error");
    if a.status.is_success() && err.is_none() {
        return None;
    }
    let Some(err) = err else {
        let class = if a.status.is_server_error() {
            ErrorClass::Retryable { retry_after: None }
        } else {
            ErrorClass::Permanent
        };
        return Some(PublishError::new(class, Some(a.status.as_u16().to_string()), snippet(&a.body)));
    };
    let code = err["code"].as_i64().unwrap_or(0);
    let subcode = err["error_subcode"].as_i64();
    let mut class = graph_class(a.status.as_u16(), code, subcode);
    if let ErrorClass::Retryable { retry_after: Some(_) } = class {
        if let Some(wait) = regain_access(&a.headers) {
            class = ErrorClass::Retryable { retry_after: Some(wait) };
        }
    }
    let message = err["error_user_msg"]
        .as_str()
        .filter(|m| !m.is_empty())
        .or(err["message"].as_str())
        .unwrap_or("the Graph API refused the request")
        .to_string();
    let code = match subcode {
        Some(sc) => format!("{code}/{sc}"),
        None => code.to_string(),
    };
    Some(PublishError::new(class, Some(code), message))
}

/// `estimated_time_to_regain_access` (minutes) from `X-Business-Use-Case-Usage`, when Meta says it.
fn regain_access(h: &reqwest::header::HeaderMap) -> Option<Duration> {
    let raw = h.get("x-business-use-case-usage")?.to_str().ok()?;
    let v: Value = serde_json::from_str(raw).ok()?;
    let minutes = v
        .as_object()?
        .values()
        .flat_map(|list| list.as_array().cloned().unwrap_or_default())
        .filter_map(|e| e["estimated_time_to_regain_access"].as_u64())
        .max()?;
    (minutes > 0).then(|| Duration::from_secs(minutes * 60))
}

/// Classifies a TikTok envelope `error.code` (or an OAuth `error`).
pub fn tiktok_class(status: u16, code: &str) -> ErrorClass {
    match code {
        "access_token_invalid"
        | "scope_not_authorized"
        | "invalid_grant"
        | "invalid_client"
        | "unauthorized_client"
        | "auth_removed"
        | "access_denied" => ErrorClass::NeedsReconnect,
        "rate_limit_exceeded" => ErrorClass::Retryable { retry_after: Some(Duration::from_secs(60)) },
        "spam_risk_too_many_posts" | "reached_active_user_cap" | "spam_risk_too_many_pending_share" => {
            ErrorClass::Retryable { retry_after: Some(Duration::from_secs(3600)) }
        }
        "internal_error" | "internal" => ErrorClass::Retryable { retry_after: None },
        _ if status >= 500 => ErrorClass::Retryable { retry_after: None },
        _ if status == 429 => ErrorClass::Retryable { retry_after: Some(Duration::from_secs(60)) },
        _ => ErrorClass::Permanent,
    }
}

/// A `PublishError` from a TikTok envelope answer, or `None` on `error.code == "ok"`.
pub fn tiktok_error(a: &Answer) -> Option<PublishError> {
    let v = a.json();
    let code = v["error"]["code"].as_str();
    if a.status.is_success() && code == Some("ok") {
        return None;
    }
    // OAuth endpoints answer flat: {"error": "invalid_grant", "error_description": ...}.
    let (code, message) = match (&v["error"], code) {
        (_, Some(c)) => (c.to_string(), v["error"]["message"].as_str().unwrap_or("").to_string()),
        (Value::String(c), None) => (c.clone(), v["error_description"].as_str().unwrap_or("").to_string()),
        _ => (a.status.as_u16().to_string(), snippet(&a.body)),
    };
    let message = if message.is_empty() { format!("TikTok refused the request ({code})") } else { message };
    Some(PublishError::new(tiktok_class(a.status.as_u16(), &code), Some(code), message))
}

/// The class of a TikTok `fail_reason` from the status endpoint.
pub fn tiktok_fail_reason(reason: &str) -> PublishError {
    let class = tiktok_class(200, reason);
    PublishError::new(class, Some(reason.to_string()), format!("TikTok could not publish the post: {reason}"))
}

fn snippet(body: &str) -> String {
    let s: String = body.chars().take(200).collect();
    if s.is_empty() {
        "the platform answered without a body".into()
    } else {
        s
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn graph_codes_follow_the_contract() {
        let retry = |c, s| matches!(graph_class(400, c, s), ErrorClass::Retryable { .. });
        for c in [1, 2, 4, 17, 32, 341, 613, 80001] {
            assert!(retry(c, None), "{c}");
        }
        for (c, s) in [(190, Some(463)), (190, Some(458)), (10, None), (200, None), (299, None)] {
            assert_eq!(graph_class(400, c, s), ErrorClass::NeedsReconnect, "{c}");
        }
        for c in [100, 368, 506, 1609005] {
            assert_eq!(graph_class(400, c, None), ErrorClass::Permanent, "{c}");
        }
        assert!(retry(9007, Some(2207027)));
        assert!(retry(9, Some(2207042)));
        assert_eq!(graph_class(400, 100, Some(2207010)), ErrorClass::Permanent);
        assert!(matches!(graph_class(503, 0, None), ErrorClass::Retryable { .. }));
    }

    #[test]
    fn tiktok_codes_follow_the_contract() {
        assert_eq!(tiktok_class(401, "access_token_invalid"), ErrorClass::NeedsReconnect);
        assert_eq!(tiktok_class(401, "scope_not_authorized"), ErrorClass::NeedsReconnect);
        assert!(matches!(tiktok_class(429, "rate_limit_exceeded"), ErrorClass::Retryable { .. }));
        assert!(matches!(tiktok_class(500, "internal_error"), ErrorClass::Retryable { .. }));
        assert_eq!(tiktok_class(403, "privacy_level_option_mismatch"), ErrorClass::Permanent);
        assert_eq!(tiktok_class(403, "spam_risk_user_banned_from_posting"), ErrorClass::Permanent);
        assert_eq!(tiktok_fail_reason("file_format_check_failed").class, ErrorClass::Permanent);
        assert!(matches!(tiktok_fail_reason("internal").class, ErrorClass::Retryable { .. }));
        assert_eq!(tiktok_fail_reason("auth_removed").class, ErrorClass::NeedsReconnect);
    }
}
