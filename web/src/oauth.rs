//! OAuth callbacks (`/oauth/{provider}/callback`) and the confirmation that follows (`POST /oauth/confirm`).
//!
//! The callback exchanges the code (`tochen_platforms::oauth::complete`) but connects nothing: it parks what
//! the provider returned and shows a page that says which accounts would be connected to which workspace, at the
//! request of which Telegram admin, with Confirm and Cancel. Whoever follows a sign-in link sees that, so a link
//! forwarded to someone else cannot quietly attach their Pages to the sender's workspace.
//!
//! The form carries a random one-time token (only its hash is stored); there is no session or cookie to forge a
//! request with, so a cross-site POST would need that token, which only the page holds. Confirming stores the
//! account (or, for several, asks the chat which one); cancelling deletes the parked tokens. Each outcome is a
//! `notify` job for the chat the flow started in. A failure stores nothing.

use crate::page::{browser_language, render, render_confirm, ConfirmPage, Outcome};
use crate::AppState;
use axum::extract::{Path, Query, State};
use axum::http::HeaderMap;
use axum::response::Response;
use axum::Form;
use serde::Deserialize;
use std::collections::HashMap;
use tochen_domain::html::escape_html;
use tochen_domain::i18n::tf;
use tochen_domain::jobs::{NotifyButton, NotifyPayload};
use tochen_platforms::oauth::{self, complete, ConnectError, Connected, Provider};
use tochen_platforms::pending::PendingError;
use tochen_store::{OAuthState, OAuthStateError};
use tochen_telegram::button::{Button, Connect};

/// The confirmation form's path under `TOCHEN_PUBLIC_URL`.
pub const CONFIRM_PATH: &str = "/oauth/confirm";

async fn user_language(state: &AppState, s: &OAuthState) -> String {
    state.store.user(s.user_id).await.map(|u| u.language().to_string()).unwrap_or_else(|_| "en".into())
}

async fn tell_chat(state: &AppState, s: &OAuthState, payload: NotifyPayload) {
    if let Err(e) = state.store.enqueue_args(Some(s.tenant_id), &payload).await {
        tracing::error!(error = %e, "could not enqueue the connect notification");
    }
}

/// "Ana Lima (@ana)": the requester as their teammates and Telegram know them.
pub(crate) fn requester_label(u: &tochen_store::User) -> String {
    let mut name = u.first_name.clone();
    if let Some(last) = u.last_name.as_deref().filter(|l| !l.is_empty()) {
        name = format!("{name} {last}");
    }
    match u.username.as_deref().filter(|n| !n.is_empty()) {
        Some(handle) if name.is_empty() => format!("@{handle}"),
        Some(handle) => format!("{name} (@{handle})"),
        None => name,
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
    let awaiting = match complete(&state.store, &state.config, p, &params).await {
        Ok(a) => a,
        Err(e) => return failure(&state, e, browser, link).await,
    };
    let s = &awaiting.state;
    let (requester, workspace) = match (state.store.user(s.user_id).await, state.store.tenant(s.tenant_id).await) {
        (Ok(u), Ok(t)) => (u, t),
        (Err(e), _) | (_, Err(e)) => {
            tracing::error!(error = %e, "cannot read who asked for the sign-in");
            // Nothing is stored without the page; drop what was parked.
            let _ = oauth::cancel(&state.store, &awaiting.confirm_token).await;
            return render(Outcome::Failed, browser, "", link);
        }
    };
    tracing::info!(accounts = awaiting.names.len(), "sign-in waiting for confirmation");
    let action = format!("{}{CONFIRM_PATH}", state.config.web.public_url.as_str().trim_end_matches('/'));
    render_confirm(&ConfirmPage {
        lang: tochen_domain::i18n::normalize(requester.language()),
        platform: s.platform.name(),
        accounts: &awaiting.names,
        workspace: &workspace.name,
        requester: &requester_label(&requester),
        action: &action,
        token: &awaiting.confirm_token,
    })
}

/// The confirmation form's fields.
#[derive(Debug, Deserialize)]
pub struct ConfirmForm {
    #[serde(default)]
    pub(crate) token: String,
    #[serde(default)]
    pub(crate) action: String,
}

#[tracing::instrument(skip_all, fields(action = %form.action))]
pub async fn confirm(State(state): State<AppState>, headers: HeaderMap, Form(form): Form<ConfirmForm>) -> Response {
    let browser = browser_language(&headers);
    let link = state.bot_link.as_deref();
    if form.token.is_empty() {
        return render(Outcome::ConfirmExpired, browser, "", link);
    }
    match form.action.as_str() {
        "confirm" => match oauth::confirm(&state.store, &state.config, &form.token).await {
            Ok(Connected::Accounts { state: s, accounts }) => {
                let lang = user_language(&state, &s).await;
                let names = accounts.iter().map(|a| a.name.as_str()).collect::<Vec<_>>().join(", ");
                let platform = s.platform.name();
                let text =
                    tf(&lang, "connect.connected", &[("account", &escape_html(&names)), ("platform", &platform)]);
                tell_chat(&state, &s, NotifyPayload::text(s.chat_id, text)).await;
                tracing::info!(accounts = accounts.len(), "account connected");
                render(Outcome::Connected, &lang, &names, link)
            }
            Ok(Connected::Choose { state: s, pending_id, names }) => {
                let lang = user_language(&state, &s).await;
                let mut payload =
                    NotifyPayload::text(s.chat_id, tf(&lang, "connect.choose", &[("count", &names.len())]));
                payload.buttons = names
                    .iter()
                    .enumerate()
                    .take(50)
                    .map(|(i, name)| {
                        // "Connect this one", handled by the bot's connect flow.
                        let data = Button::Connect(Connect::Pick { pending: pending_id.clone(), index: i }).encode();
                        vec![NotifyButton { text: name.clone(), callback_data: Some(data), url: None }]
                    })
                    .collect();
                tell_chat(&state, &s, payload).await;
                render(Outcome::Choose, &lang, "", link)
            }
            Err(e) => failure(&state, e, browser, link).await,
        },
        "cancel" => match oauth::cancel(&state.store, &form.token).await {
            Ok(s) => {
                let lang = user_language(&state, &s).await;
                let text = tf(&lang, "connect.cancelled_on_page", &[("platform", &s.platform.name())]);
                tell_chat(&state, &s, NotifyPayload::text(s.chat_id, text)).await;
                tracing::info!("sign-in cancelled on the confirmation page");
                render(Outcome::Cancelled, &lang, "", link)
            }
            Err(e) => failure(&state, e, browser, link).await,
        },
        _ => render(Outcome::ConfirmExpired, browser, "", link),
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
        ConnectError::Pending(PendingError::Unknown) => (Outcome::ConfirmExpired, String::new()),
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
