//! The Telegram Mini App at `/app` (issue 20; docs/miniapp.md): one server-rendered page with a little vanilla
//! JavaScript (`static/`, embedded in the binary, nothing fetched from a CDN but Telegram's own script) and the
//! JSON calls it makes under `/app/api/`, each signed in with Telegram's `initData` (`auth.rs`).
//!
//! Screens: the calendar (a week or a month; posts coloured by platform, waiting ones marked; drag a post to
//! another day to move it: `calendar.rs`), the library with filters and search and a post's detail
//! (`library.rs`), and the `/stats` dashboard (`dashboard.rs`). Every computation is the one the bot runs: the
//! store's calendar, library, targets and metrics reads, `reports::compute_scoped` for the numbers, and the
//! bot's rules for moving a post.

mod auth;
mod calendar;
mod dashboard;
mod library;
mod page;

use crate::api::Problem;
use crate::AppState;
use axum::http::{header, HeaderValue, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use axum::Router;

pub use auth::Member;

/// A refused Mini App call: a problem document, with `WWW-Authenticate: tma` when it is about sign-in.
#[derive(Debug)]
pub struct Refusal(pub Problem);

impl From<Problem> for Refusal {
    fn from(p: Problem) -> Self {
        Refusal(p)
    }
}

impl From<tochen_store::StoreError> for Refusal {
    fn from(e: tochen_store::StoreError) -> Self {
        Refusal(e.into())
    }
}

impl IntoResponse for Refusal {
    fn into_response(self) -> Response {
        let unauthorized = self.0.status == StatusCode::UNAUTHORIZED.as_u16();
        let mut resp = self.0.into_response();
        if unauthorized {
            resp.headers_mut().insert(header::WWW_AUTHENTICATE, HeaderValue::from_static("tma"));
        }
        resp
    }
}

fn not_found(what: &str) -> Refusal {
    Refusal(Problem::new(StatusCode::NOT_FOUND, "not-found", "Not found", format!("no {what} in this workspace")))
}

/// A query string that does not parse: a 400 problem, not axum's plain-text answer.
fn query<T>(q: Result<axum::extract::Query<T>, axum::extract::rejection::QueryRejection>) -> Result<T, Refusal> {
    q.map(|q| q.0).map_err(|e| bad(e.body_text()))
}

/// A JSON body that does not parse: a 400 problem.
fn body<T>(b: Result<axum::Json<T>, axum::extract::rejection::JsonRejection>) -> Result<T, Refusal> {
    b.map(|b| b.0).map_err(|e| bad(e.body_text()))
}

fn bad(detail: impl Into<String>) -> Refusal {
    Refusal(Problem::new(StatusCode::BAD_REQUEST, "invalid-parameter", "A parameter is not valid", detail))
}

/// The Mini App's routes, to be nested under `/app`, behind the per-client rate limit.
pub fn routes(state: &AppState) -> Router<AppState> {
    Router::new()
        .route("/", get(page::index))
        .route("/static/{file}", get(page::asset))
        .route("/api/me", get(page::me))
        .route("/api/calendar", get(calendar::get))
        .route("/api/posts/{id}", get(library::detail))
        .route("/api/posts/{id}/reschedule", post(calendar::reschedule))
        .route("/api/library", get(library::list))
        .route("/api/stats", get(dashboard::get))
        .route_layer(axum::middleware::from_fn_with_state(state.clone(), crate::middleware::rate_limit))
}
