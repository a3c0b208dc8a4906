//! Fetching a media file a person links to (`/new https://...`), under the same guard as webhooks: the URL must
//! be http(s) and resolve to public addresses (unless `TOCHEN_WEBHOOK_ALLOW_PRIVATE`), the connection's addresses
//! are filtered again by [`GuardedResolver`], every redirect is checked before it is followed (at most
//! [`MAX_REDIRECTS`]), and the body is read in pieces and abandoned the moment it passes the size cap, so a huge
//! or endless file never fills memory.

use crate::ssrf::{check_url_with, guarded_client, Lookup, SsrfError, SystemLookup};
use std::sync::Arc;
use std::time::Duration;
use url::Url;

/// Redirects followed before giving up.
pub const MAX_REDIRECTS: usize = 3;

#[derive(Debug, thiserror::Error)]
pub enum FetchError {
    #[error(transparent)]
    Refused(#[from] SsrfError),
    #[error("the file at {url} is larger than {max_bytes} bytes; link a smaller file")]
    TooBig { url: String, max_bytes: u64 },
    #[error("{url} answered {status}; check that the link opens the file itself")]
    Status { url: String, status: u16 },
    #[error("cannot fetch {url}: {reason}")]
    Network { url: String, reason: String },
}

/// A fetched file.
#[derive(Debug, Clone)]
pub struct Fetched {
    pub bytes: Vec<u8>,
    /// What the server said it is (the caller sniffs the bytes rather than trusting it).
    pub content_type: Option<String>,
}

/// Fetches `raw` (a URL a person typed) with at most `max_bytes` of body.
pub async fn fetch_file(
    raw: &str,
    allow_private: bool,
    max_bytes: u64,
    timeout: Duration,
) -> Result<Fetched, FetchError> {
    fetch_file_with(raw, allow_private, max_bytes, timeout, Arc::new(SystemLookup)).await
}

/// [`fetch_file`] resolving host names through `lookup`.
pub async fn fetch_file_with(
    raw: &str,
    allow_private: bool,
    max_bytes: u64,
    timeout: Duration,
    lookup: Arc<dyn Lookup>,
) -> Result<Fetched, FetchError> {
    let mut url = Url::parse(raw.trim()).map_err(|_| SsrfError::NotAUrl(raw.trim().to_owned()))?;
    let agent = concat!("tochen-media/", env!("CARGO_PKG_VERSION"));
    let client = guarded_client(lookup.clone(), allow_private, timeout, agent)
        .map_err(|e| FetchError::Network { url: url.to_string(), reason: e.to_string() })?;
    let network = |url: &Url, e: reqwest::Error| FetchError::Network { url: url.to_string(), reason: e.to_string() };
    for _ in 0..=MAX_REDIRECTS {
        check_url_with(&url, allow_private, lookup.as_ref()).await?;
        let mut resp = client.get(url.clone()).send().await.map_err(|e| network(&url, e))?;
        if resp.status().is_redirection() {
            let next = resp.headers().get(reqwest::header::LOCATION).and_then(|v| v.to_str().ok()).unwrap_or("");
            url = url.join(next).map_err(|_| SsrfError::NotAUrl(next.to_owned()))?;
            continue;
        }
        if !resp.status().is_success() {
            return Err(FetchError::Status { url: url.to_string(), status: resp.status().as_u16() });
        }
        let too_big = || FetchError::TooBig { url: url.to_string(), max_bytes };
        if resp.content_length().is_some_and(|n| n > max_bytes) {
            return Err(too_big());
        }
        let content_type =
            resp.headers().get(reqwest::header::CONTENT_TYPE).and_then(|v| v.to_str().ok()).map(str::to_owned);
        let mut bytes = Vec::new();
        while let Some(chunk) = resp.chunk().await.map_err(|e| network(&url, e))? {
            if (bytes.len() + chunk.len()) as u64 > max_bytes {
                return Err(too_big());
            }
            bytes.extend_from_slice(&chunk);
        }
        return Ok(Fetched { bytes, content_type });
    }
    Err(FetchError::Network { url: url.to_string(), reason: format!("more than {MAX_REDIRECTS} redirects") })
}
