//! The random `state` of a sign-in link: how it is made, the only form stored (its hash), and how long it lives.
//! Shared by the OAuth flow and the parked sign-ins waiting for confirmation.

use base64::Engine;
use rand::RngCore;
use sha2::{Digest, Sha256};

/// How long a sign-in link stays valid.
pub const STATE_TTL_MS: i64 = 15 * 60 * 1000;

/// A random URL-safe token of 32 bytes.
pub fn random_token() -> String {
    let mut b = [0u8; 32];
    rand::thread_rng().fill_bytes(&mut b);
    base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(b)
}

/// Lowercase hex SHA-256 of a state value: the only form stored.
pub fn state_hash(state: &str) -> String {
    hex::encode(Sha256::digest(state.as_bytes()))
}
