//! `/api` buttons: the token list (`tk`), a new token (`tkn`), its settings while they are chosen (`tks`), making
//! it (`tkc`) and revoking one (`tkx`). Settings travel in the data: the role, the scopes as bits (read 1, write 2,
//! publish 4) and the days until it expires (0: never). The token's name is the dialogue's, never in the data.

use super::fields::{build, id, num, pack_uuid};
use super::team::{role_code, role_from};
use tochen_domain::{ApiScope, ApiTokenId, Role};

/// What a new token will be made with.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct TokenSettings {
    pub role: Role,
    /// Bits of [`ApiScope::ALL`]: read 1, write 2, publish 4.
    pub scopes: u8,
    /// Days until it expires; 0: never.
    pub expiry_days: u16,
}

impl TokenSettings {
    /// The scopes the bits name.
    pub fn scope_list(self) -> Vec<ApiScope> {
        ApiScope::ALL.iter().enumerate().filter(|(i, _)| self.scopes & (1 << i) != 0).map(|(_, s)| *s).collect()
    }

    /// The bit of `scope`.
    pub fn bit(scope: ApiScope) -> u8 {
        ApiScope::ALL.iter().position(|s| *s == scope).map_or(0, |i| 1 << i)
    }

    fn fields(self) -> [String; 3] {
        [role_code(self.role).to_owned(), self.scopes.to_string(), self.expiry_days.to_string()]
    }

    fn parse(f: &[&str]) -> Option<Self> {
        let scopes: u8 = num(f, 1)?;
        let all = (1u8 << ApiScope::ALL.len()) - 1;
        (scopes & !all == 0).then_some(())?;
        Some(Self { role: role_from(f.first()?)?, scopes, expiry_days: num(f, 2)? })
    }
}

/// A button of the `/api` screens.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ApiTokens {
    List,
    New,
    Settings(TokenSettings),
    Create(TokenSettings),
    Revoke(ApiTokenId),
}

impl ApiTokens {
    pub(super) fn encode(&self) -> String {
        let s = |p: &str, t: &TokenSettings| {
            let f = t.fields();
            build(p, &[&f[0], &f[1], &f[2]])
        };
        match self {
            Self::List => build("tk", &[]),
            Self::New => build("tkn", &[]),
            Self::Settings(t) => s("tks", t),
            Self::Create(t) => s("tkc", t),
            Self::Revoke(t) => build("tkx", &[&pack_uuid(t.as_uuid())]),
        }
    }

    pub(super) fn decode(prefix: &str, f: &[&str]) -> Option<Self> {
        Some(match (prefix, f.len()) {
            ("tk", 0) => Self::List,
            ("tkn", 0) => Self::New,
            ("tks", 3) => Self::Settings(TokenSettings::parse(f)?),
            ("tkc", 3) => Self::Create(TokenSettings::parse(f)?),
            ("tkx", 1) => Self::Revoke(ApiTokenId::from_uuid(id(f, 0)?)),
            _ => return None,
        })
    }
}
