//! Team and workspace buttons: invitations (`iv`), members and roles (`tm`, `mr`, `mx`), switching and creating
//! workspaces (`ws`, `wn`) and the bot's language (`lg`).

use super::fields::{build, id, pack_uuid};
use tochen_domain::{Role, TenantId, UserId};

/// A button of the team, workspace and language screens.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Team {
    InviteRole(Role),
    Member(UserId),
    SetRole(UserId, Role),
    RemoveMember(UserId),
    Workspace(TenantId),
    NewWorkspace,
    Language(String),
}

pub(super) fn role_code(r: Role) -> &'static str {
    match r {
        Role::Admin => "a",
        Role::Editor => "e",
        Role::Viewer => "v",
    }
}

pub(super) fn role_from(s: &str) -> Option<Role> {
    [Role::Admin, Role::Editor, Role::Viewer].into_iter().find(|r| role_code(*r) == s)
}

impl Team {
    pub(super) fn encode(&self) -> String {
        match self {
            Self::InviteRole(r) => build("iv", &[role_code(*r)]),
            Self::Member(u) => build("tm", &[&pack_uuid(u.as_uuid())]),
            Self::SetRole(u, r) => build("mr", &[&pack_uuid(u.as_uuid()), role_code(*r)]),
            Self::RemoveMember(u) => build("mx", &[&pack_uuid(u.as_uuid())]),
            Self::Workspace(t) => build("ws", &[&pack_uuid(t.as_uuid())]),
            Self::NewWorkspace => build("wn", &[]),
            Self::Language(l) => build("lg", &[l]),
        }
    }

    pub(super) fn decode(prefix: &str, f: &[&str]) -> Option<Self> {
        let user = || id(f, 0).map(UserId::from_uuid);
        Some(match (prefix, f.len()) {
            ("iv", 1) => Self::InviteRole(role_from(f[0])?),
            ("tm", 1) => Self::Member(user()?),
            ("mr", 2) => Self::SetRole(user()?, role_from(f[1])?),
            ("mx", 1) => Self::RemoveMember(user()?),
            ("ws", 1) => Self::Workspace(TenantId::from_uuid(id(f, 0)?)),
            ("wn", 0) => Self::NewWorkspace,
            ("lg", 1) => Self::Language(f[0].to_owned()),
            _ => return None,
        })
    }
}
