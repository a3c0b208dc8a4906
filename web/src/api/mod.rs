//! The public HTTP API under `/api/v1` (issue 20; docs/api.md): JSON in and out, errors as RFC 9457 problem
//! details (`problem.rs`), workspace API tokens as bearer credentials (`auth.rs`), per-token rate limits with
//! RateLimit headers (`throttle.rs`), `Idempotency-Key` on POST (`idempotency.rs`), cursor pages (`cursor.rs`)
//! and `ETag`/`If-Match` on posts. Handlers call the same store and core functions as the bot
//! (`tochen_posting`, `tochen_delivery::reports`).
//!
//! The routes and the OpenAPI document come from the same declarations (`utoipa_axum::routes!`), so the document
//! served at `/api/v1/openapi.json` lists exactly the routes that answer.

mod accounts;
mod auth;
mod automations;
mod campaigns;
mod cursor;
mod destinations;
mod idempotency;
mod json;
mod media;
mod posts;
mod problem;
mod stats;
mod throttle;

use crate::AppState;
use axum::routing::get;
use axum::{Json, Router};
use utoipa::openapi::security::{HttpAuthScheme, HttpBuilder, SecurityScheme};
use utoipa::{Modify, OpenApi};
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;

pub use auth::Caller;
pub use json::JsonBody;
pub use problem::Problem;

struct BearerToken;

impl Modify for BearerToken {
    fn modify(&self, api: &mut utoipa::openapi::OpenApi) {
        let scheme = HttpBuilder::new()
            .scheme(HttpAuthScheme::Bearer)
            .description(Some("a workspace API token (tch_…), made with /api in the bot"))
            .build();
        api.components.get_or_insert_with(Default::default).add_security_scheme("token", SecurityScheme::Http(scheme));
    }
}

#[derive(OpenApi)]
#[openapi(
    info(title = "tochen API", version = "1", description = "Posts, accounts and numbers of a tochen workspace (docs/api.md)."),
    servers((url = "/api/v1")),
    modifiers(&BearerToken),
    components(schemas(Problem))
)]
struct ApiDoc;

/// The routes and their OpenAPI document, from the same declarations.
fn documented() -> (Router<AppState>, utoipa::openapi::OpenApi) {
    OpenApiRouter::with_openapi(ApiDoc::openapi())
        .routes(routes!(accounts::list))
        .routes(routes!(stats::get))
        .routes(routes!(posts::list, posts::create))
        .routes(routes!(posts::get, posts::update))
        .routes(routes!(posts::schedule))
        .routes(routes!(posts::cancel))
        .routes(routes!(campaigns::list, campaigns::create))
        .routes(routes!(campaigns::get))
        .routes(routes!(campaigns::start_batch))
        .routes(routes!(campaigns::batch))
        .routes(routes!(automations::list))
        .routes(routes!(automations::run))
        .routes(routes!(automations::pause))
        .routes(routes!(automations::resume))
        .routes(routes!(destinations::list))
        .routes(routes!(destinations::test))
        .split_for_parts()
}

/// The upload route's document (the route itself is [`upload_routes`], outside the JSON body limit).
fn uploads() -> (Router<AppState>, utoipa::openapi::OpenApi) {
    OpenApiRouter::new().routes(routes!(media::upload)).split_for_parts()
}

/// The OpenAPI 3.1 document of the API, every route in it.
pub fn openapi() -> utoipa::openapi::OpenApi {
    let mut doc = documented().1;
    doc.merge(uploads().1);
    doc
}

/// The API's JSON routes, to be nested under `/api/v1` inside the service's body limit: limited per client address
/// (as every unsigned route) and per token,
/// idempotent POSTs, the document at `/openapi.json`, problem details for unknown paths and methods.
pub fn routes(state: &AppState) -> Router<AppState> {
    let (router, _) = documented();
    let doc = std::sync::Arc::new(openapi());
    router
        .route("/openapi.json", get(move || std::future::ready(Json(doc.as_ref().clone()))))
        .fallback(problem::not_found)
        .method_not_allowed_fallback(problem::method_not_allowed)
        .layer(axum::middleware::from_fn_with_state(state.clone(), idempotency::guard))
        .layer(axum::middleware::from_fn_with_state(state.clone(), throttle::limit))
        .layer(axum::middleware::from_fn_with_state(state.clone(), throttle::per_client))
}

/// The upload route at its full path (`/api/v1/media`), to be merged outside the service's JSON body limit: the
/// body streams to disk up to `TOCHEN_MEDIA_IMPORT_MAX_MB`. Its document comes from the same declaration
/// ([`uploads`]).
pub fn upload_routes(state: &AppState) -> Router<AppState> {
    let max = usize::try_from(state.config.media_import_max_bytes).unwrap_or(usize::MAX);
    Router::new()
        .route("/api/v1/media", axum::routing::post(media::upload))
        .method_not_allowed_fallback(problem::method_not_allowed)
        .layer(axum::middleware::from_fn_with_state(state.clone(), idempotency::guard_streaming))
        .layer(axum::middleware::from_fn_with_state(state.clone(), throttle::limit))
        .layer(axum::middleware::from_fn_with_state(state.clone(), throttle::per_client))
        .layer(axum::extract::DefaultBodyLimit::max(max))
}
