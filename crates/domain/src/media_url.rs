//! Signed, expiring, unguessable media URLs for platforms to pull (`{public_url}/media/{id}?exp=..&sig=..`).
//!
//! Platforms fetch media from the public web service without any credentials, so the URL itself is the
//! credential: an HMAC-SHA256 over the tenant, the media id and the expiry, with a key derived from the first
//! secret key (never the key itself). Changing any part, or waiting past `exp`, breaks the signature.

use crate::ids::{MediaId, TenantId};
use crate::secret::SecretString;
use hmac::{Hmac, Mac};
use sha2::{Digest, Sha256};

/// The key that signs media URLs, derived from the first Fernet key.
#[derive(Clone)]
pub struct MediaSigningKey([u8; 32]);

impl std::fmt::Debug for MediaSigningKey {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("MediaSigningKey([redacted])")
    }
}

impl MediaSigningKey {
    /// Derives the key: SHA-256 over a purpose label and the secret, so it never equals the encryption key.
    pub fn derive(first_secret_key: &SecretString) -> Self {
        let mut h = Sha256::new();
        h.update(b"tochen media url v1\0");
        h.update(first_secret_key.expose().as_bytes());
        Self(h.finalize().into())
    }

    fn mac(&self, tenant: TenantId, media: MediaId, exp_unix: i64) -> Hmac<Sha256> {
        let mut mac = Hmac::<Sha256>::new_from_slice(&self.0).expect("hmac takes any key length");
        mac.update(format!("{}:{}:{exp_unix}", tenant.to_db(), media.to_db()).as_bytes());
        mac
    }

    /// The hex signature of (tenant, media, expiry).
    pub fn sign(&self, tenant: TenantId, media: MediaId, exp_unix: i64) -> String {
        hex::encode(self.mac(tenant, media, exp_unix).finalize().into_bytes())
    }

    /// Checks a signature in constant time.
    pub fn verify(&self, tenant: TenantId, media: MediaId, exp_unix: i64, sig_hex: &str) -> bool {
        match hex::decode(sig_hex) {
            Ok(sig) => self.mac(tenant, media, exp_unix).verify_slice(&sig).is_ok(),
            Err(_) => false,
        }
    }
}

/// `{public_url}/media/{tenant}/{media}?exp={unix}&sig={hex}`, valid until `exp_unix`.
pub fn sign_media_url(
    public_url: &url::Url,
    key: &MediaSigningKey,
    tenant: TenantId,
    media: MediaId,
    exp_unix: i64,
) -> String {
    format!(
        "{}/media/{}/{}?exp={exp_unix}&sig={}",
        public_url.as_str().trim_end_matches('/'),
        tenant.to_db(),
        media.to_db(),
        key.sign(tenant, media, exp_unix)
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_signature_binds_tenant_media_and_expiry() {
        let key = MediaSigningKey::derive(&SecretString::new("k"));
        let (t, m) = (TenantId::new(), MediaId::new());
        let sig = key.sign(t, m, 100);
        assert!(key.verify(t, m, 100, &sig));
        assert!(!key.verify(t, m, 101, &sig));
        assert!(!key.verify(TenantId::new(), m, 100, &sig));
        assert!(!key.verify(t, MediaId::new(), 100, &sig));
        assert!(!key.verify(t, m, 100, "zz"));
        let other = MediaSigningKey::derive(&SecretString::new("other"));
        assert!(!other.verify(t, m, 100, &sig));
    }

    #[test]
    fn urls_carry_expiry_and_signature() {
        let key = MediaSigningKey::derive(&SecretString::new("k"));
        let u =
            sign_media_url(&url::Url::parse("https://x.example/").unwrap(), &key, TenantId::new(), MediaId::new(), 5);
        assert!(u.starts_with("https://x.example/media/"));
        assert!(u.contains("?exp=5&sig="));
    }
}
