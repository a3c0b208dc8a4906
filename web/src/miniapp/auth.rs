//! Who opens the Mini App: the page sends Telegram's `initData` unchanged as `Authorization: tma <initData>` on
//! every call; it is checked with the bot token and the configured freshness window
//! (`tochen_telegram::init_data::validate`), then its user is mapped to the person and their active workspace
//! and role, as the bot does for a chat update. Anything forged, stale, signed for another bot or naming a
//! person the bot has never met is a 401 problem; a person without a workspace is a 403 problem.

use super::Refusal;
use crate::api::Problem;
use crate::AppState;
use axum::extract::FromRequestParts;
use axum::http::header::AUTHORIZATION;
use axum::http::request::Parts;
use axum::http::StatusCode;
use tochen_domain::clock::now_ms;
use tochen_domain::i18n::normalize;
use tochen_domain::Role;
use tochen_store::{Tenant, User};
use tochen_telegram::init_data;

/// The person behind a Mini App call, in their active workspace.
#[derive(Debug, Clone)]
pub struct Member {
    pub user: User,
    pub tenant: Tenant,
    pub role: Role,
    /// The language to answer in: the person's choice, else Telegram's (from the store or from `initData`).
    pub lang: &'static str,
}

impl Member {
    /// The workspace's zone (UTC when its name does not parse), as the bot reads it.
    pub fn tz(&self) -> chrono_tz::Tz {
        self.tenant.profile.timezone.parse().unwrap_or(chrono_tz::UTC)
    }

    /// Refuses the call unless the person's role is at least `needed`.
    pub fn require(&self, needed: Role) -> Result<(), Refusal> {
        if self.role.at_least(needed) {
            Ok(())
        } else {
            Err(Refusal(Problem::new(
                StatusCode::FORBIDDEN,
                "role",
                "Your role does not allow this",
                format!("this needs the {} role or higher in the workspace; ask an admin", needed.as_str()),
            )))
        }
    }
}

fn unauthenticated(detail: impl Into<String>) -> Refusal {
    Refusal(Problem::new(StatusCode::UNAUTHORIZED, "unauthenticated", "Authentication required", detail))
}

impl FromRequestParts<AppState> for Member {
    type Rejection = Refusal;

    async fn from_request_parts(parts: &mut Parts, state: &AppState) -> Result<Self, Self::Rejection> {
        let Some(token) = state.config.telegram.bot_token.as_ref() else {
            return Err(Refusal(Problem::new(
                StatusCode::SERVICE_UNAVAILABLE,
                "miniapp-unavailable",
                "The Mini App is not set up",
                "this service has no TELEGRAM_BOT_TOKEN, so it cannot check who opens the Mini App",
            )));
        };
        let raw = parts
            .headers
            .get(AUTHORIZATION)
            .and_then(|v| v.to_str().ok())
            .and_then(|v| v.strip_prefix("tma "))
            .ok_or_else(|| {
            unauthenticated(
                "send Telegram.WebApp.initData as `Authorization: tma <initData>`: open the app from the bot",
            )
        })?;
        let max_age = state.config.web.miniapp.init_data_max_age_secs;
        let data = init_data::validate(raw, token.expose(), now_ms() / 1000, max_age)
            .map_err(|e| unauthenticated(e.to_string()))?;
        let user = state.store.user_by_telegram_id(data.user.id).await.map_err(Problem::from)?.ok_or_else(|| {
            unauthenticated(format!(
                "Telegram user {} has not talked to the bot yet: open the bot and send /start",
                data.user.id
            ))
        })?;
        let no_workspace = || {
            Refusal(Problem::new(
                StatusCode::FORBIDDEN,
                "no-workspace",
                "No workspace",
                "you are not in a workspace yet: create or join one in the bot",
            ))
        };
        let tenant_id = user.active_tenant_id.ok_or_else(no_workspace)?;
        let role = state.store.role_of(tenant_id, user.id).await.map_err(Problem::from)?.ok_or_else(no_workspace)?;
        let tenant = state.store.tenant(tenant_id).await.map_err(Problem::from)?;
        if tenant.suspended_at.is_some() {
            return Err(Refusal(Problem::new(
                StatusCode::FORBIDDEN,
                "suspended",
                "The workspace is suspended",
                "the operator has suspended this workspace; ask them to lift it",
            )));
        }
        let lang = normalize(
            user.language_override
                .as_deref()
                .or(user.language_code.as_deref())
                .or(data.user.language_code.as_deref())
                .unwrap_or("en"),
        );
        Ok(Member { user, tenant, role, lang })
    }
}
