//! Encryption of secrets at rest (platform tokens, webhook secrets, PKCE verifiers).
//!
//! Fernet (AES-128-CBC + HMAC-SHA256, github.com/fernet/spec) keeps tokens interoperable with Python's
//! `cryptography.fernet`. `TOCHEN_SECRET_KEYS` holds one or more keys: the first encrypts, any decrypts, so a key
//! can be rotated in by putting it first and running `tochen rotate-keys`, then dropping the old one.

use crate::secret::SecretString;
use fernet::{Fernet, MultiFernet};
use std::fmt;

#[derive(Debug, thiserror::Error, PartialEq, Eq)]
pub enum CryptoError {
    #[error("no secret key given: set TOCHEN_SECRET_KEYS to one or more keys from `tochen keygen`, comma-separated")]
    NoKeys,
    #[error(
        "secret key #{position} is not a valid fernet key (expected 44 characters of url-safe base64 from `tochen keygen`)"
    )]
    BadKey { position: usize },
    #[error("a stored secret cannot be decrypted with any configured key: it was encrypted with a key that is no longer in TOCHEN_SECRET_KEYS, or it was altered")]
    Undecryptable,
    #[error("a stored secret decrypted to bytes that are not utf-8")]
    NotUtf8,
}

/// Encrypts and decrypts secrets with the configured Fernet keys.
#[derive(Clone)]
pub struct SecretBox {
    primary: Fernet,
    all: MultiFernet,
    key_count: usize,
}

impl fmt::Debug for SecretBox {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "SecretBox({} key(s), [redacted])", self.key_count)
    }
}

impl SecretBox {
    /// Builds the box from keys in priority order: the first encrypts, all decrypt.
    pub fn from_keys(keys: &[SecretString]) -> Result<Self, CryptoError> {
        if keys.is_empty() {
            return Err(CryptoError::NoKeys);
        }
        let fernets = keys
            .iter()
            .enumerate()
            .map(|(i, k)| Fernet::new(k.expose().trim()).ok_or(CryptoError::BadKey { position: i + 1 }))
            .collect::<Result<Vec<_>, _>>()?;
        Ok(Self { primary: fernets[0].clone(), key_count: fernets.len(), all: MultiFernet::new(fernets) })
    }

    /// A new random key, url-safe base64 (44 characters), as `tochen keygen` prints it.
    pub fn generate_key() -> String {
        Fernet::generate_key()
    }

    /// Checks that a string is a usable Fernet key.
    pub fn is_valid_key(key: &str) -> bool {
        Fernet::new(key.trim()).is_some()
    }

    /// Encrypts under the first key.
    pub fn encrypt(&self, plaintext: &str) -> String {
        self.primary.encrypt(plaintext.as_bytes())
    }

    /// Decrypts with whichever configured key matches.
    pub fn decrypt(&self, token: &str) -> Result<SecretString, CryptoError> {
        let bytes = self.all.decrypt(token).map_err(|_| CryptoError::Undecryptable)?;
        String::from_utf8(bytes).map(SecretString::new).map_err(|_| CryptoError::NotUtf8)
    }

    /// Re-encrypts a token under the first key. `Ok(None)` when it already is.
    pub fn reencrypt(&self, token: &str) -> Result<Option<String>, CryptoError> {
        if self.primary.decrypt(token).is_ok() {
            return Ok(None);
        }
        let plain = self.all.decrypt(token).map_err(|_| CryptoError::Undecryptable)?;
        Ok(Some(self.primary.encrypt(&plain)))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn keys(n: usize) -> Vec<SecretString> {
        (0..n).map(|_| SecretString::new(SecretBox::generate_key())).collect()
    }

    #[test]
    fn round_trips_and_is_not_plaintext() {
        let b = SecretBox::from_keys(&keys(1)).unwrap();
        let t = b.encrypt("EAAB-page-token");
        assert!(!t.contains("EAAB"));
        assert_eq!(b.decrypt(&t).unwrap().expose(), "EAAB-page-token");
    }

    #[test]
    fn first_key_encrypts_any_key_decrypts() {
        let old = keys(1);
        let old_box = SecretBox::from_keys(&old).unwrap();
        let token = old_box.encrypt("secret");
        let mut rotated = keys(1);
        rotated.extend(old.clone());
        let new_box = SecretBox::from_keys(&rotated).unwrap();
        assert_eq!(new_box.decrypt(&token).unwrap().expose(), "secret");
        let re = new_box.reencrypt(&token).unwrap().expect("old token must be re-encrypted");
        assert_eq!(new_box.reencrypt(&re).unwrap(), None);
        assert_eq!(old_box.decrypt(&re), Err(CryptoError::Undecryptable));
        let only_new = SecretBox::from_keys(&rotated[..1]).unwrap();
        assert_eq!(only_new.decrypt(&re).unwrap().expose(), "secret");
    }

    #[test]
    fn bad_keys_name_their_position() {
        let ks = vec![SecretString::new(SecretBox::generate_key()), SecretString::new("nope")];
        assert_eq!(SecretBox::from_keys(&ks).unwrap_err(), CryptoError::BadKey { position: 2 });
        assert_eq!(SecretBox::from_keys(&[]).unwrap_err(), CryptoError::NoKeys);
    }

    #[test]
    fn debug_hides_keys() {
        let ks = keys(2);
        let b = SecretBox::from_keys(&ks).unwrap();
        let d = format!("{b:?}");
        assert!(!d.contains(ks[0].expose()));
        assert_eq!(d, "SecretBox(2 key(s), [redacted])");
    }
}
