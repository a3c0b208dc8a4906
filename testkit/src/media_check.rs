//! How the fake platforms look at media: they pull a URL (or take the uploaded bytes) and probe what they got with
//! `tochen_platforms::media`, then check it against the same limits table the client checks before uploading
//! (`docs/contracts/media-formats.md`). A wrong request therefore fails a test the way it fails in production.

use std::time::Duration;
use tochen_platforms::media::{probe, MediaFacts, MediaLimits, MediaProblem, Target};

/// Largest file a fake pulls (bigger ones are refused as a fetch failure).
pub const MAX_PULL: usize = 1024 * 1024 * 1024;

/// Downloads `url` as a platform does; the reason when it cannot.
pub async fn pull(url: &str) -> Result<Vec<u8>, String> {
    let client = reqwest::Client::builder().timeout(Duration::from_secs(30)).build().map_err(|e| e.to_string())?;
    let resp = client.get(url).send().await.map_err(|e| e.to_string())?;
    if !resp.status().is_success() {
        return Err(format!("HTTP {}", resp.status()));
    }
    let body = resp.bytes().await.map_err(|e| e.to_string())?;
    if body.len() > MAX_PULL {
        return Err("the file is too large to fetch".into());
    }
    Ok(body.to_vec())
}

/// The facts of a whole file held in memory.
pub fn facts(bytes: &[u8]) -> MediaFacts {
    MediaFacts::from_probe(&probe::probe_bytes(bytes), bytes.len() as u64)
}

/// The facts of a file of `total` bytes of which only the first bytes (`head`) were kept: enough for a file with
/// its `moov` at the front; anything else probes as an unknown format.
pub fn facts_of_head(head: &[u8], total: u64) -> MediaFacts {
    let p = probe::probe_reader(&mut std::io::Cursor::new(head), total).unwrap_or_else(|_| probe::probe_bytes(&[]));
    MediaFacts::from_probe(&p, total)
}

/// The first problem of one item sent to `target`.
pub fn first_problem(limits: &MediaLimits, target: Target, f: &MediaFacts) -> Option<MediaProblem> {
    limits.check_item(target, 0, f).into_iter().next()
}
