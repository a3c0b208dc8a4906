//! The operator's `/admin` buttons (`op:<screen>[:<arg>]`): the home screen, the workspace list and one
//! workspace's screen with its actions, cost per model, the queue's health with dead-job retries, and a new
//! workspace link. The bot checks that the presser is an operator on every press.

use super::fields::{build, id, num, pack_uuid};
use tochen_domain::ids::JobId;
use tochen_domain::TenantId;

/// A button of the operator's screens.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Admin {
    Home,
    /// The workspace list, page (from 0).
    Workspaces(u32),
    Workspace(TenantId),
    /// Asks for a new monthly token quota.
    Quota(TenantId),
    /// Asks to confirm the suspension.
    Suspend(TenantId),
    SuspendConfirmed(TenantId),
    Resume(TenantId),
    Costs,
    Health,
    RetryAll,
    Retry(JobId),
    NewLink,
}

const PREFIX: &str = "op";

impl Admin {
    pub(super) fn encode(&self) -> String {
        match self {
            Self::Home => build(PREFIX, &["h"]),
            Self::Workspaces(page) => build(PREFIX, &["w", &page.to_string()]),
            Self::Workspace(t) => build(PREFIX, &["t", &pack_uuid(t.as_uuid())]),
            Self::Quota(t) => build(PREFIX, &["q", &pack_uuid(t.as_uuid())]),
            Self::Suspend(t) => build(PREFIX, &["s", &pack_uuid(t.as_uuid())]),
            Self::SuspendConfirmed(t) => build(PREFIX, &["sy", &pack_uuid(t.as_uuid())]),
            Self::Resume(t) => build(PREFIX, &["r", &pack_uuid(t.as_uuid())]),
            Self::Costs => build(PREFIX, &["c"]),
            Self::Health => build(PREFIX, &["x"]),
            Self::RetryAll => build(PREFIX, &["ra"]),
            Self::Retry(j) => build(PREFIX, &["rj", &pack_uuid(j.as_uuid())]),
            Self::NewLink => build(PREFIX, &["n"]),
        }
    }

    pub(super) fn decode(prefix: &str, f: &[&str]) -> Option<Self> {
        if prefix != PREFIX {
            return None;
        }
        let tenant = || id(f, 1).map(TenantId::from_uuid);
        Some(match (f.first().copied()?, f.len()) {
            ("h", 1) => Self::Home,
            ("w", 2) => Self::Workspaces(num(f, 1)?),
            ("t", 2) => Self::Workspace(tenant()?),
            ("q", 2) => Self::Quota(tenant()?),
            ("s", 2) => Self::Suspend(tenant()?),
            ("sy", 2) => Self::SuspendConfirmed(tenant()?),
            ("r", 2) => Self::Resume(tenant()?),
            ("c", 1) => Self::Costs,
            ("x", 1) => Self::Health,
            ("ra", 1) => Self::RetryAll,
            ("rj", 2) => Self::Retry(JobId::from_uuid(id(f, 1)?)),
            ("n", 1) => Self::NewLink,
            _ => return None,
        })
    }
}
