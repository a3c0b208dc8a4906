//! RFC 9457 problem details: every API error is `application/problem+json` with a `type` naming the problem (a
//! path under `/api/v1/problems/`, documented in docs/api.md), a `title` that stays the same for the type, a
//! `detail` for this occurrence that says what to do, and the HTTP `status`.

use axum::http::{header, HeaderValue, StatusCode};
use axum::response::{IntoResponse, Response};
use serde::Serialize;

/// An RFC 9457 problem document (`application/problem+json`).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, utoipa::ToSchema)]
pub struct Problem {
    #[serde(rename = "type")]
    pub kind: String,
    pub title: String,
    pub status: u16,
    pub detail: String,
    /// Extra members, such as the missing scope.
    #[serde(flatten)]
    #[schema(value_type = Object)]
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

    /// 400: a parameter or a field of the body is malformed or out of range (`detail` names it).
    pub fn invalid(detail: impl Into<String>) -> Self {
        Self::new(StatusCode::BAD_REQUEST, "invalid-parameter", "A parameter is not valid", detail)
    }

    /// 404: no such thing in the caller's workspace (another workspace's ids are not found either).
    pub fn not_found(what: &str, id: &str) -> Self {
        Self::new(StatusCode::NOT_FOUND, "not-found", "Not found", format!("no {what} {id:?} in this workspace"))
    }

    /// 403: the token's role may not do this (a viewer's token only reads).
    pub fn role(detail: impl Into<String>) -> Self {
        Self::new(StatusCode::FORBIDDEN, "role", "The token's role does not allow this", detail)
    }

    /// 409: the thing is in a state where this does not apply (`detail` says which and what to do).
    pub fn conflict(slug: &str, title: &str, detail: impl Into<String>) -> Self {
        Self::new(StatusCode::CONFLICT, slug, title, detail)
    }

    /// 422: the request is well-formed but cannot be done (`detail` says why).
    pub fn unprocessable(slug: &str, title: &str, detail: impl Into<String>) -> Self {
        Self::new(StatusCode::UNPROCESSABLE_ENTITY, slug, title, detail)
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

/// A route that exists, called with a method it does not answer.
pub async fn method_not_allowed(method: axum::http::Method, uri: axum::http::Uri) -> Problem {
    Problem::new(
        StatusCode::METHOD_NOT_ALLOWED,
        "method-not-allowed",
        "Method not allowed",
        format!("{} does not answer {method}: see /api/v1/openapi.json for what it answers", uri.path()),
    )
}
