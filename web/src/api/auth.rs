//! Who calls: a workspace API token sent as `Authorization: Bearer tch_…`. A missing, unknown, revoked or expired
//! token is a 401 problem (with `WWW-Authenticate`); a token without the scope a call needs is a 403 problem, and
//! so is a viewer's token on a call that changes something.

use super::Problem;
use crate::AppState;
use axum::extract::FromRequestParts;
use axum::http::header::AUTHORIZATION;
use axum::http::request::Parts;
use axum::http::HeaderMap;
use tochen_domain::clock::now_ms;
use tochen_domain::{ApiScope, Role, TenantId};
use tochen_store::ApiToken;

/// The caller of an API request: the token it authenticated with.
#[derive(Debug, Clone)]
pub struct Caller {
    pub token: ApiToken,
}

impl Caller {
    pub fn tenant(&self) -> TenantId {
        self.token.tenant_id
    }

    /// Refuses the call unless the token has `scope`.
    pub fn require(&self, scope: ApiScope) -> Result<(), Problem> {
        if self.token.allows(scope) {
            Ok(())
        } else {
            Err(Problem::missing_scope(scope.as_str()))
        }
    }

    /// Refuses a change unless the token acts as an editor or an admin, and has `scope`.
    pub fn require_change(&self, scope: ApiScope) -> Result<(), Problem> {
        self.require(scope)?;
        if self.token.role == Role::Viewer {
            return Err(Problem::role(
                "this token acts as a viewer, who only reads: make an editor's or an admin's token",
            ));
        }
        Ok(())
    }

    /// The token's role.
    pub fn role(&self) -> Role {
        self.token.role
    }
}

/// The bearer secret of `headers`, if the Authorization header has that shape.
pub fn bearer(headers: &HeaderMap) -> Option<&str> {
    headers.get(AUTHORIZATION)?.to_str().ok()?.strip_prefix("Bearer ").map(str::trim)
}

impl FromRequestParts<AppState> for Caller {
    type Rejection = Problem;

    async fn from_request_parts(parts: &mut Parts, state: &AppState) -> Result<Self, Self::Rejection> {
        let header = parts.headers.get(AUTHORIZATION).ok_or_else(|| {
            Problem::unauthenticated(
                "send a workspace API token as `Authorization: Bearer tch_…` (make one with /api in the bot)",
            )
        })?;
        header.to_str().map_err(|_| Problem::unauthenticated("the Authorization header is not text"))?;
        let secret = bearer(&parts.headers)
            .ok_or_else(|| Problem::unauthenticated("the Authorization header must be `Bearer <token>`"))?;
        match state.store.authenticate_api_token(secret, now_ms()).await? {
            Some(token) => Ok(Caller { token }),
            None => Err(Problem::unauthenticated(
                "the token is unknown, revoked or expired: make a new one with /api in the bot",
            )),
        }
    }
}
