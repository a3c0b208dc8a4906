//! `GET /api/v1/accounts`: the workspace's connected accounts (scope `read`).

use super::{Caller, Problem};
use crate::AppState;
use axum::extract::State;
use axum::Json;
use serde::Serialize;
use tochen_domain::ApiScope;

#[derive(Debug, Serialize)]
pub struct AccountOut {
    pub id: String,
    pub platform: &'static str,
    pub name: String,
    pub status: &'static str,
    /// A simulated account of the sandbox.
    pub sandbox: bool,
}

#[derive(Debug, Serialize)]
pub struct Accounts {
    pub data: Vec<AccountOut>,
}

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
