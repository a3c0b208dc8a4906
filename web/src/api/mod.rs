//! The public HTTP API under `/api/v1` (issue 20; docs/api.md): JSON in and out, errors as RFC 9457 problem
//! details (`problem.rs`), workspace API tokens as bearer credentials (`auth.rs`). Handlers call the same store and
//! core functions as the bot.

mod accounts;
mod auth;
mod problem;
mod stats;

use crate::AppState;
use axum::routing::get;
use axum::Router;

pub use auth::Caller;
pub use problem::Problem;

/// The API's routes, to be nested under `/api/v1`.
pub fn routes() -> Router<AppState> {
    Router::new().route("/accounts", get(accounts::list)).route("/stats", get(stats::get)).fallback(problem::not_found)
}
