//! `GET /api/v1/accounts`: the workspace's connected accounts (scope `read`).

use super::{Caller, Problem};
use crate::AppState;
use axum::extract::State;
use axum::Json;
use serde::Serialize;
use tochen_domain::ApiScope;

#[derive(Debug, Serialize, utoipa::ToSchema)]
pub struct AccountOut {
    pub id: String,
    pub platform: &'static str,
    pub name: String,
    pub status: &'static str,
    /// A simulated account of the sandbox.
    pub sandbox: bool,
}

#[derive(Debug, Serialize, utoipa::ToSchema)]
pub struct Accounts {
    pub data: Vec<AccountOut>,
}

/// The workspace's connected accounts (platform tokens never leave).
#[utoipa::path(get, path = "/accounts", tag = "accounts",
    responses((status = 200, body = Accounts), (status = 401, body = Problem), (status = 403, body = Problem)),
    security(("token" = ["read"])))]
pub async fn list(State(state): State<AppState>, caller: Caller) -> Result<Json<Accounts>, Problem> {
    caller.require(ApiScope::Read)?;
    let data = state
        .store
        .accounts(caller.tenant())
        .await?
        .into_iter()
        .map(|a| AccountOut {
            id: a.id.to_string(),
            platform: a.platform.as_str(),
            name: a.name,
            status: a.status.as_str(),
            sandbox: a.auth_kind.is_sandbox(),
        })
        .collect();
    Ok(Json(Accounts { data }))
}
