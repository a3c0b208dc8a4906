//! OAuth callbacks (`/oauth/{provider}/callback`): the browser lands here after the provider's consent screen.
//!
//! All the work is `tochen_core::platforms::oauth::complete`; this handler only turns its result into a page
//! for the browser and a `notify` job for the chat the flow started in. A failure stores nothing.

use crate::page::{browser_language, render, Outcome};
use crate::AppState;
use axum::extract::{Path, Query, State};
use axum::http::HeaderMap;
use axum::response::Response;
use std::collections::HashMap;
use tochen_core::callback;
use tochen_core::i18n::tf;
use tochen_core::jobs::{escape_html, NotifyButton, NotifyPayload, NOTIFY};
use tochen_core::platforms::oauth::{complete, ConnectError, Connected, Provider};
use tochen_core::store::{NewJob, OAuthState, OAuthStateError};

/// Callback prefix of "connect this one" buttons: `cnp:<pending id>:<index>` (handled in bot/src/connect.rs).
pub const PICK_PREFIX: &str = "cnp";

async fn user_language(state: &AppState, s: &OAuthState) -> String {
    state.store.user(s.user_id).await.map(|u| u.language().to_string()).unwrap_or_else(|_| "en".into())
}

async fn tell_chat(state: &AppState, s: &OAuthState, payload: NotifyPayload) {
    let job = serde_json::to_value(&payload).map(|v| NewJob::new(NOTIFY, v).tenant(s.tenant_id));
    match job {
        Ok(job) => {
            if let Err(e) = state.store.enqueue(&job).await {
                tracing::error!(error = %e, "could not enqueue the connect notification");
            }
        }
        Err(e) => tracing::error!(error = %e, "could not build the connect notification"),
    }
}

#[tracing::instrument(skip_all, fields(provider = %provider))]
pub async fn callback(
    State(state): State<AppState>,
    Path(provider): Path<String>,
    Query(params): Query<HashMap<String, String>>,
    headers: HeaderMap,
) -> Response {
    let browser = browser_language(&headers);
    let link = state.bot_link.as_deref();
    let Some(p) = Provider::parse(&provider) else {
        return render(Outcome::NotConfigured, browser, "", link);
    };
    match complete(&state.store, &state.config, p, &params).await {
        Ok(Connected::Accounts { state: s, accounts }) => {
            let lang = user_language(&state, &s).await;
            let names = accounts.iter().map(|a| a.name.as_str()).collect::<Vec<_>>().join(", ");
            let platform = s.platform.name();
            let text = tf(&lang, "connect.connected", &[("account", &escape_html(&names)), ("platform", &platform)]);
            tell_chat(&state, &s, NotifyPayload::text(s.chat_id, text)).await;
            tracing::info!(accounts = accounts.len(), "account connected");
            render(Outcome::Connected, &lang, &names, link)
        }
        Ok(Connected::Choose { state: s, pending_id, names }) => {
            let lang = user_language(&state, &s).await;
            let mut payload = NotifyPayload::text(s.chat_id, tf(&lang, "connect.choose", &[("count", &names.len())]));
            payload.buttons = names
                .iter()
                .enumerate()
                .take(50)
                .map(|(i, name)| {
                    let data = callback::build(PICK_PREFIX, &[&pending_id, &i.to_string()]);
                    vec![NotifyButton { text: name.clone(), callback_data: Some(data), url: None }]
                })
                .collect();
            tell_chat(&state, &s, payload).await;
            render(Outcome::Choose, &lang, "", link)
        }
        Err(e) => failure(&state, e, browser, link).await,
    }
}

async fn failure(state: &AppState, e: ConnectError, browser: &str, link: Option<&str>) -> Response {
    tracing::warn!(error = %e, "oauth callback refused");
    let spent = e.state().cloned();
    let lang = match &spent {
        Some(s) => user_language(state, s).await,
        None => browser.to_string(),
    };
    let (outcome, detail) = match &e {
        ConnectError::MissingState | ConnectError::State(OAuthStateError::Unknown) => (Outcome::Unknown, String::new()),
        ConnectError::WrongProvider(_) => (Outcome::Unknown, String::new()),
        ConnectError::State(OAuthStateError::Expired) => (Outcome::Expired, String::new()),
        ConnectError::State(OAuthStateError::Replayed) => (Outcome::Replayed, String::new()),
        ConnectError::Denied { .. } => (Outcome::Denied, String::new()),
        ConnectError::Exchange { message, .. } | ConnectError::NothingToConnect { message, .. } => {
            (Outcome::Failed, message.clone())
        }
        ConnectError::NotConfigured(_) => (Outcome::NotConfigured, String::new()),
        ConnectError::State(OAuthStateError::Store(_)) | ConnectError::Store(_) | ConnectError::Pending(_) => {
            (Outcome::Failed, String::new())
        }
    };
    if let Some(s) = &spent {
        let text = match outcome {
            Outcome::Denied => tf(&lang, "connect.denied", &[("platform", &s.platform.name())]),
            _ => tf(&lang, "connect.failed", &[("platform", &s.platform.name()), ("reason", &escape_html(&detail))]),
        };
        tell_chat(state, s, NotifyPayload::text(s.chat_id, text)).await;
    }
    render(outcome, &lang, &detail, link)
}
