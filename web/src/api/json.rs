//! JSON request bodies whose refusals are problem documents too: not JSON, a field of the wrong type or unknown
//! (`400 invalid-body`, naming it), no `Content-Type: application/json` (`415`), too large (`413`).

use super::Problem;
use axum::extract::rejection::JsonRejection;
use axum::extract::{FromRequest, Request};
use axum::http::StatusCode;
use serde::de::DeserializeOwned;

/// A JSON body, as `axum::Json` reads it.
pub struct JsonBody<T>(pub T);

impl<S: Send + Sync, T: DeserializeOwned> FromRequest<S> for JsonBody<T> {
    type Rejection = Problem;

    async fn from_request(req: Request, state: &S) -> Result<Self, Self::Rejection> {
        match axum::Json::<T>::from_request(req, state).await {
            Ok(axum::Json(v)) => Ok(JsonBody(v)),
            Err(JsonRejection::MissingJsonContentType(_)) => Err(Problem::new(
                StatusCode::UNSUPPORTED_MEDIA_TYPE,
                "unsupported-media-type",
                "The body must be JSON",
                "send the body as JSON with Content-Type: application/json",
            )),
            Err(r) if r.status() == StatusCode::PAYLOAD_TOO_LARGE => {
                Err(Problem::new(StatusCode::PAYLOAD_TOO_LARGE, "too-large", "The body is too large", r.body_text()))
            }
            Err(r) => Err(Problem::new(
                StatusCode::BAD_REQUEST,
                "invalid-body",
                "The body is not valid",
                format!("the JSON body does not fit this route: {}", r.body_text()),
            )),
        }
    }
}
