//! Connecting platform accounts: `cnk:<kind>` (start a sign-in), `cnp:<pending>:<index>` (pick one of several
//! accounts; sent by the web service after a sign-in, in a `notify` job), `cnd:<account>` (disconnect),
//! `cnr:<account>` (reconnect), `cna:c|r` (turn comment or reaction alerts in the team chat on or off).

use super::fields::{build, id, num, pack_uuid};
use tochen_domain::ids::AccountId;
use tochen_domain::AuthKind;

/// A button of the connect flow.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Connect {
    Start(AuthKind),
    /// One of the accounts a parked sign-in found.
    Pick {
        pending: String,
        index: usize,
    },
    Disconnect(AccountId),
    Reconnect(AccountId),
    /// Toggle the team-chat alerts for comments (`c`) or reactions (`r`).
    Alerts(char),
}

impl Connect {
    pub(super) fn encode(&self) -> String {
        match self {
            Self::Start(k) => build("cnk", &[k.code()]),
            Self::Pick { pending, index } => build("cnp", &[pending, &index.to_string()]),
            Self::Disconnect(a) => build("cnd", &[&pack_uuid(a.as_uuid())]),
            Self::Reconnect(a) => build("cnr", &[&pack_uuid(a.as_uuid())]),
            Self::Alerts(which) => build("cna", &[&which.to_string()]),
        }
    }

    pub(super) fn decode(prefix: &str, f: &[&str]) -> Option<Self> {
        let account = || id(f, 0).map(AccountId::from_uuid);
        match (prefix, f.len()) {
            ("cnk", 1) => AuthKind::ALL.iter().copied().find(|k| k.code() == f[0]).map(Self::Start),
            ("cnp", 2) => Some(Self::Pick { pending: f[0].to_string(), index: num(f, 1)? }),
            ("cnd", 1) => account().map(Self::Disconnect),
            ("cnr", 1) => account().map(Self::Reconnect),
            ("cna", 1) if matches!(f[0], "c" | "r") => f[0].chars().next().map(Self::Alerts),
            _ => None,
        }
    }
}
