//! RFC 9457 problem details: every API error is `application/problem+json` with a `type` naming the problem (a
//! path under `/api/v1/problems/`, documented in docs/api.md), a `title` that stays the same for the type, a
//! `detail` for this occurrence that says what to do, and the HTTP `status`.

use axum::http::{header, HeaderValue, StatusCode};
use axum::response::{IntoResponse, Response};
use serde::Serialize;

#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Problem {
    #[serde(rename = "type")]
    pub kind: String,
    pub title: String,
    pub status: u16,
    pub detail: String,
    /// Extra members, such as the missing scope.
    #[serde(flatten)]
    pub extra: serde_json::Map<String, serde_json::Value>,
    #[serde(skip)]
    www_authenticate: Option<&'static str>,
}

impl Problem {
    pub fn new(status: StatusCode, slug: &str, title: &str, detail: impl Into<String>) -> Self {
        Problem {
            kind: format!("/api/v1/problems/{slug}"),
            title: title.to_owned(),
            status: status.as_u16(),
            detail: detail.into(),
            extra: Default::default(),
            www_authenticate: None,
        }
    }

    pub fn with(mut self, key: &str, value: impl Into<serde_json::Value>) -> Self {
        self.extra.insert(key.to_owned(), value.into());
        self
    }

    /// 401: no usable credentials.
    pub fn unauthenticated(detail: impl Into<String>) -> Self {
        let mut p = Self::new(StatusCode::UNAUTHORIZED, "unauthenticated", "Authentication required", detail);
        p.www_authenticate = Some("Bearer realm=\"tochen\"");
        p
    }

    /// 403: the token lacks a scope.
    pub fn missing_scope(scope: &str) -> Self {
        Self::new(
            StatusCode::FORBIDDEN,
            "missing-scope",
            "The token lacks a scope",
            format!("this call needs a token with the {scope:?} scope: make one with /api in the bot"),
        )
        .with("scope", scope)
    }

    /// 500, without internals: the log has them under the request id.
    pub fn internal() -> Self {
        Self::new(
            StatusCode::INTERNAL_SERVER_ERROR,
            "internal",
            "Internal error",
            "something went wrong on our side; try again, and quote the x-request-id header if it persists",
        )
    }
}

impl From<tochen_store::StoreError> for Problem {
    fn from(e: tochen_store::StoreError) -> Self {
        tracing::error!(error = %e, "api: store error");
        Problem::internal()
    }
}

impl IntoResponse for Problem {
    fn into_response(self) -> Response {
        let status = StatusCode::from_u16(self.status).unwrap_or(StatusCode::INTERNAL_SERVER_ERROR);
        let mut resp = (status, axum::Json(&self)).into_response();
        let headers = resp.headers_mut();
        headers.insert(header::CONTENT_TYPE, HeaderValue::from_static("application/problem+json"));
        if let Some(v) = self.www_authenticate {
            headers.insert(header::WWW_AUTHENTICATE, HeaderValue::from_static(v));
        }
        resp
    }
}

/// Any path under `/api/v1` that is not a route.
pub async fn not_found(uri: axum::http::Uri) -> Problem {
    Problem::new(StatusCode::NOT_FOUND, "not-found", "Not found", format!("there is no API route {}", uri.path()))
}
