//! Token refresh for the scheduler's refresh sweep, and the error of revoking a token at its provider. Each
//! platform's own calls live in its folder (`tiktok/tokens.rs`, `instagram/tokens.rs`, `facebook/tokens.rs`);
//! `registry::PlatformRefresher` hands a request to the platform that owns its `AuthKind`.
//!
//! Every call uses a client that follows no redirects, and errors never carry a token.

use crate::publish::ErrorClass;
use crate::refresh::RefreshError;
use serde_json::Value;
use tochen_domain::clock::{now_ms, Millis};

pub(crate) fn expires(v: &Value, field: &str) -> Option<Millis> {
    v[field].as_i64().filter(|s| *s > 0).map(|s| now_ms() + s * 1000)
}

pub(crate) fn temp(e: crate::publish::PublishError) -> RefreshError {
    RefreshError::Temporary(e.message)
}

/// Why a revocation at the provider did not happen.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum RevokeError {
    /// Worth another try later: the network, a 5xx, a rate limit.
    #[error("revoking failed for now: {0}")]
    Temporary(String),
    /// The provider refused for good (the token is already invalid, the app is not configured): retrying cannot
    /// help, and there is nothing left to revoke with this token.
    #[error("the provider refused the revocation: {0}")]
    Refused(String),
}

/// A database error while deciding a revocation: worth another try.
pub(crate) fn stored(e: tochen_store::StoreError) -> RevokeError {
    RevokeError::Temporary(e.to_string())
}

pub(crate) fn revoke_error(class: &ErrorClass, message: String) -> RevokeError {
    match class {
        ErrorClass::Retryable { .. } | ErrorClass::OutcomeUnknown => RevokeError::Temporary(message),
        _ => RevokeError::Refused(message),
    }
}
