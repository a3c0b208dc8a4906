//! Workspace API tokens (issue 20): what a token may do, and how it is kept. A token is shown once when it is
//! made; only the SHA-256 of it is stored (a token is 40 random characters, so a fast hash is enough: there is
//! nothing to guess), and the first characters stay readable so a list can tell tokens apart.

use crate::ApiScope;
use sha2::{Digest, Sha256};

/// What every token starts with, so a leaked one is recognisable (secret scanners, logs).
pub const TOKEN_PREFIX: &str = "tch_";
/// Random characters after the prefix.
pub const TOKEN_RANDOM_CHARS: usize = 40;
/// How much of a token a list shows.
pub const SHOWN_CHARS: usize = 8;

/// The stored form of a token: lowercase hex SHA-256.
pub fn hash_token(token: &str) -> String {
    hex::encode(Sha256::digest(token.as_bytes()))
}

/// Whether `token` has the shape of a tochen API token (checked before any lookup).
pub fn looks_like_token(token: &str) -> bool {
    token
        .strip_prefix(TOKEN_PREFIX)
        .is_some_and(|r| r.len() == TOKEN_RANDOM_CHARS && r.bytes().all(|b| b.is_ascii_alphanumeric()))
}

/// Scopes as stored: comma-separated, in [`ApiScope::ALL`] order.
pub fn scopes_to_db(scopes: &[ApiScope]) -> String {
    ApiScope::ALL.iter().filter(|s| scopes.contains(s)).map(|s| s.as_str()).collect::<Vec<_>>().join(",")
}

/// Scopes from their stored form; unknown names are dropped.
pub fn scopes_from_db(s: &str) -> Vec<ApiScope> {
    s.split(',').filter_map(ApiScope::parse).collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn tokens_hash_and_scopes_round_trip() {
        assert_eq!(hash_token("abc"), "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad");
        let t = format!("{TOKEN_PREFIX}{}", "a".repeat(TOKEN_RANDOM_CHARS));
        assert!(looks_like_token(&t));
        assert!(!looks_like_token(&t[..t.len() - 1]) && !looks_like_token("tch_!") && !looks_like_token("Bearer x"));
        let s = [ApiScope::Publish, ApiScope::Read];
        assert_eq!(scopes_to_db(&s), "read,publish");
        assert_eq!(scopes_from_db("read,publish,admin"), vec![ApiScope::Read, ApiScope::Publish]);
    }
}
