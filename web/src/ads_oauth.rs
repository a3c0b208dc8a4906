//! Ad platform sign-in callbacks (`/oauth/ads/{meta|tiktok}/callback`) and their confirmation
//! (`POST /oauth/ads/confirm`), the ad-account twin of `oauth.rs` with the same page and the same rules: the
//! callback spends the state, exchanges the code and parks the token with the ad accounts found; the page names the
//! workspace and the admin who asked, and only its Confirm (with the form's one-time token) hands the ad accounts to
//! the chat, where the admin ticks the ones to keep. Each outcome is a `notify` job for the chat the flow started in.

use crate::oauth::requester_label;
use crate::page::{browser_language, render, render_confirm, ConfirmPage, Outcome};
use crate::AppState;
use axum::extract::{Path, Query, State};
use axum::http::HeaderMap;
use axum::response::Response;
use axum::Form;
use std::collections::HashMap;
use tochen_delivery::ads_pick::{pick_payload, platform_label as platform_name};
use tochen_domain::html::escape_html;
use tochen_domain::i18n::{t, tf};
use tochen_domain::jobs::NotifyPayload;
use tochen_platforms::ads::connect::{self, AdConnectError};
use tochen_store::AdSignIn;

/// The confirmation form's path under `TOCHEN_PUBLIC_URL`.
pub const CONFIRM_PATH: &str = "/oauth/ads/confirm";

async fn language(state: &AppState, s: &AdSignIn) -> String {
    state.store.user(s.user_id).await.map(|u| u.language().to_string()).unwrap_or_else(|_| "en".into())
}

async fn tell_chat(state: &AppState, s: &AdSignIn, payload: NotifyPayload) {
    if let Err(e) = state.store.enqueue_args(Some(s.tenant_id), &payload).await {
        tracing::error!(error = %e, "could not enqueue the ad connect notification");
    }
}

#[tracing::instrument(skip_all, fields(platform = %platform))]
pub async fn callback(
    State(state): State<AppState>,
    Path(platform): Path<String>,
    Query(params): Query<HashMap<String, String>>,
    headers: HeaderMap,
) -> Response {
    let browser = browser_language(&headers);
    let link = state.bot_link.as_deref();
    let Some(p) = connect::parse_segment(&platform) else {
        return render(Outcome::NotConfigured, browser, "", link);
    };
    let awaiting = match connect::complete(&state.store, &state.config, p, &params).await {
        Ok(a) => a,
        Err(e) => return failure(&state, e, browser, link).await,
    };
    let s = &awaiting.sign_in;
    let (requester, workspace) = match (state.store.user(s.user_id).await, state.store.tenant(s.tenant_id).await) {
        (Ok(u), Ok(t)) => (u, t),
        (Err(e), _) | (_, Err(e)) => {
            tracing::error!(error = %e, "cannot read who asked for the ad sign-in");
            let _ = connect::cancel(&state.store, &awaiting.confirm_token).await;
            return render(Outcome::Failed, browser, "", link);
        }
    };
    tracing::info!(accounts = awaiting.names.len(), "ad sign-in waiting for confirmation");
    let action = format!("{}{CONFIRM_PATH}", state.config.web.public_url.as_str().trim_end_matches('/'));
    render_confirm(&ConfirmPage {
        lang: tochen_domain::i18n::normalize(requester.language()),
        platform: platform_name(p),
        accounts: &awaiting.names,
        workspace: &workspace.name,
        requester: &requester_label(&requester),
        action: &action,
        token: &awaiting.confirm_token,
    })
}

#[tracing::instrument(skip_all, fields(action = %form.action))]
pub async fn confirm(
    State(state): State<AppState>,
    headers: HeaderMap,
    Form(form): Form<crate::oauth::ConfirmForm>,
) -> Response {
    let browser = browser_language(&headers);
    let link = state.bot_link.as_deref();
    if form.token.is_empty() {
        return render(Outcome::ConfirmExpired, browser, "", link);
    }
    match form.action.as_str() {
        "confirm" => match connect::confirm(&state.store, &form.token).await {
            Ok(found) => {
                let lang = language(&state, &found.sign_in).await;
                tell_chat(&state, &found.sign_in, pick_payload(&lang, &found)).await;
                render(Outcome::Choose, &lang, "", link)
            }
            Err(e) => failure(&state, e, browser, link).await,
        },
        "cancel" => match connect::cancel(&state.store, &form.token).await {
            Ok(s) => {
                let lang = language(&state, &s).await;
                let text = tf(&lang, "connect.cancelled_on_page", &[("platform", &platform_name(s.platform))]);
                tell_chat(&state, &s, NotifyPayload::text(s.chat_id, text)).await;
                render(Outcome::Cancelled, &lang, "", link)
            }
            Err(e) => failure(&state, e, browser, link).await,
        },
        _ => render(Outcome::ConfirmExpired, browser, "", link),
    }
}

async fn failure(state: &AppState, e: AdConnectError, browser: &str, link: Option<&str>) -> Response {
    tracing::warn!(error = %e, "ad sign-in refused");
    let spent = e.sign_in().cloned();
    let lang = match &spent {
        Some(s) => language(state, s).await,
        None => browser.to_string(),
    };
    let (outcome, detail) = match &e {
        AdConnectError::Unknown => (Outcome::Unknown, String::new()),
        AdConnectError::NotConfigured(_) => (Outcome::NotConfigured, String::new()),
        AdConnectError::Denied { .. } => (Outcome::Denied, String::new()),
        AdConnectError::Exchange { message, .. } => (Outcome::Failed, message.clone()),
        AdConnectError::Nothing { .. } => (Outcome::Failed, t(&lang, "ads.none_found")),
        AdConnectError::Store(_) => (Outcome::Failed, String::new()),
    };
    if let Some(s) = &spent {
        let platform = platform_name(s.platform);
        let text = match outcome {
            Outcome::Denied => tf(&lang, "connect.denied", &[("platform", &platform)]),
            _ => tf(&lang, "connect.failed", &[("platform", &platform), ("reason", &escape_html(&detail))]),
        };
        tell_chat(state, s, NotifyPayload::text(s.chat_id, text)).await;
    }
    render(outcome, &lang, &detail, link)
}
