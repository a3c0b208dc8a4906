//! Media for platforms to pull: `/media/{tenant}/{media}?exp=..&sig=..`.
//!
//! The signature (see `tochen_domain::media_url`) is the only credential, so an unsigned, altered or expired URL
//! gets a bare 404/403 that reveals nothing about what exists. Files are streamed from the data directory with
//! their stored content type, single `Range` requests are honoured (platforms resume large video pulls), and
//! files over [`MAX_MEDIA_BYTES`] are not served.

use crate::AppState;
use axum::body::Body;
use axum::extract::{Path, Query, State};
use axum::http::{header, HeaderMap, HeaderValue, StatusCode};
use axum::response::{IntoResponse, Response};
use serde::Deserialize;
use tochen_domain::ids::{MediaId, TenantId};
use tokio::io::{AsyncReadExt, AsyncSeekExt};

/// TikTok's ceiling for a video; nothing larger is ever pulled.
pub const MAX_MEDIA_BYTES: u64 = 4 * 1024 * 1024 * 1024;

#[derive(Debug, Deserialize)]
pub struct Signed {
    exp: Option<i64>,
    sig: Option<String>,
}

fn refuse(status: StatusCode) -> Response {
    (status, [(header::CACHE_CONTROL, "no-store")]).into_response()
}

/// Parses `bytes=a-b`, `bytes=a-` or `bytes=-n` against `size`; `Err(())` when unsatisfiable.
pub fn parse_range(v: &str, size: u64) -> Option<Result<(u64, u64), ()>> {
    let spec = v.strip_prefix("bytes=")?;
    if spec.contains(',') {
        return None; // several ranges: answer with the whole file
    }
    let (a, b) = spec.split_once('-')?;
    let r = match (a.trim(), b.trim()) {
        ("", n) => {
            let n: u64 = n.parse().ok()?;
            if n == 0 || size == 0 {
                return Some(Err(()));
            }
            (size.saturating_sub(n), size - 1)
        }
        (a, "") => (a.parse().ok()?, size.saturating_sub(1)),
        (a, b) => (a.parse().ok()?, b.parse::<u64>().ok()?.min(size.saturating_sub(1))),
    };
    if r.0 >= size || r.0 > r.1 {
        return Some(Err(()));
    }
    Some(Ok(r))
}

#[tracing::instrument(skip_all, fields(media = %media))]
pub async fn serve(
    State(state): State<AppState>,
    Path((tenant, media)): Path<(String, String)>,
    Query(q): Query<Signed>,
    headers: HeaderMap,
) -> Response {
    let (Some(tenant), Some(media)) = (TenantId::parse(&tenant), MediaId::parse(&media)) else {
        return refuse(StatusCode::NOT_FOUND);
    };
    let (Some(exp), Some(sig)) = (q.exp, q.sig) else {
        return refuse(StatusCode::FORBIDDEN);
    };
    if !state.media_key.verify(tenant, media, exp, &sig) {
        return refuse(StatusCode::FORBIDDEN);
    }
    if exp < chrono::Utc::now().timestamp() {
        return refuse(StatusCode::GONE);
    }
    let Ok(row) = state.store.media(tenant, media).await else {
        return refuse(StatusCode::NOT_FOUND);
    };
    stream_file(&state.config.data_dir, &row.info.storage_path, &row.info.content_type, &headers).await
}

/// Streams the file at `storage_path` under `data_dir` with `content_type`, honouring a single `Range`. A path that
/// leaves the data directory, a missing file or one over [`MAX_MEDIA_BYTES`] is a bare error status.
pub async fn stream_file(
    data_dir: &std::path::Path,
    storage_path: &str,
    content_type: &str,
    headers: &HeaderMap,
) -> Response {
    let rel = std::path::Path::new(storage_path);
    if rel.is_absolute() || rel.components().any(|c| matches!(c, std::path::Component::ParentDir)) {
        return refuse(StatusCode::NOT_FOUND);
    }
    let path = data_dir.join(rel);
    let Ok(mut file) = tokio::fs::File::open(&path).await else {
        return refuse(StatusCode::NOT_FOUND);
    };
    let size = match file.metadata().await {
        Ok(m) => m.len(),
        Err(_) => return refuse(StatusCode::NOT_FOUND),
    };
    if size > MAX_MEDIA_BYTES {
        return refuse(StatusCode::PAYLOAD_TOO_LARGE);
    }
    let content_type =
        HeaderValue::from_str(content_type).unwrap_or_else(|_| HeaderValue::from_static("application/octet-stream"));
    let range = headers.get(header::RANGE).and_then(|v| v.to_str().ok()).and_then(|v| parse_range(v, size));
    let (status, start, len) = match range {
        None => (StatusCode::OK, 0, size),
        Some(Err(())) => {
            let mut r = refuse(StatusCode::RANGE_NOT_SATISFIABLE);
            if let Ok(v) = HeaderValue::from_str(&format!("bytes */{size}")) {
                r.headers_mut().insert(header::CONTENT_RANGE, v);
            }
            return r;
        }
        Some(Ok((a, b))) => (StatusCode::PARTIAL_CONTENT, a, b - a + 1),
    };
    if start > 0 && file.seek(std::io::SeekFrom::Start(start)).await.is_err() {
        return refuse(StatusCode::INTERNAL_SERVER_ERROR);
    }
    let body = Body::from_stream(tokio_util::io::ReaderStream::new(file.take(len)));
    let mut r = (status, body).into_response();
    let h = r.headers_mut();
    h.insert(header::CONTENT_TYPE, content_type);
    h.insert(header::CONTENT_LENGTH, HeaderValue::from(len));
    h.insert(header::ACCEPT_RANGES, HeaderValue::from_static("bytes"));
    h.insert(header::CACHE_CONTROL, HeaderValue::from_static("private, max-age=3600"));
    h.insert("x-content-type-options", HeaderValue::from_static("nosniff"));
    if status == StatusCode::PARTIAL_CONTENT {
        if let Ok(v) = HeaderValue::from_str(&format!("bytes {start}-{}/{size}", start + len - 1)) {
            h.insert(header::CONTENT_RANGE, v);
        }
    }
    r
}

#[cfg(test)]
mod tests {
    use super::parse_range;

    #[test]
    fn ranges_are_parsed_against_the_file_size() {
        assert_eq!(parse_range("bytes=0-9", 100), Some(Ok((0, 9))));
        assert_eq!(parse_range("bytes=90-", 100), Some(Ok((90, 99))));
        assert_eq!(parse_range("bytes=-10", 100), Some(Ok((90, 99))));
        assert_eq!(parse_range("bytes=50-500", 100), Some(Ok((50, 99))));
        assert_eq!(parse_range("bytes=100-", 100), Some(Err(())));
        assert_eq!(parse_range("bytes=0-1,5-6", 100), None);
        assert_eq!(parse_range("items=0-1", 100), None);
    }
}
