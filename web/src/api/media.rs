//! `POST /api/v1/media` (scope `write`): a file upload as the raw body, with its type as `Content-Type`
//! (`image/jpeg`, `image/png`, `image/webp`, `image/gif`, `video/mp4`, `video/quicktime`). The body streams to disk
//! (never held whole in memory) up to `TOCHEN_MEDIA_IMPORT_MAX_MB` (the cap `/new <link>` imports use; a larger
//! body is a `413`); its bytes are probed, and a file that is not what its type says (or not a supported image or
//! video) is a `415`. Stored as the bot stores a file it receives (`tochen_platforms::media::store_media_file`:
//! named by content hash, dimensions, duration and codecs recorded); the answer's `id` goes into a post's `media`.
//!
//! The route sits outside the service's small JSON body limit, with its own.

use super::{Caller, Problem};
use crate::AppState;
use axum::body::Body;
use axum::extract::State;
use axum::http::header::CONTENT_TYPE;
use axum::http::{HeaderMap, StatusCode};
use axum::Json;
use futures::StreamExt;
use serde::Serialize;
use sha2::Digest;
use tochen_domain::{ApiScope, MediaKind};
use tochen_platforms::media::{probe_file, store_media_file, Format};
use tokio::io::AsyncWriteExt;
use utoipa::ToSchema;

/// The types accepted, as sent in `Content-Type`.
pub const ACCEPTED: [&str; 6] = ["image/jpeg", "image/png", "image/webp", "image/gif", "video/mp4", "video/quicktime"];

#[derive(Debug, Serialize, ToSchema)]
pub struct MediaOut {
    pub id: String,
    /// `image` or `video`.
    pub kind: &'static str,
    /// What the bytes are (probed), not what was sent.
    pub content_type: String,
    pub size_bytes: i64,
    pub width: Option<i64>,
    pub height: Option<i64>,
    pub duration_ms: Option<i64>,
    pub sha256: String,
}

fn unsupported(detail: String) -> Problem {
    Problem::new(StatusCode::UNSUPPORTED_MEDIA_TYPE, "unsupported-media-type", "The file type is not supported", detail)
}

/// A temporary file removed when dropped (the stored copy is hard-linked or copied from it).
struct Scratch(std::path::PathBuf);

impl Drop for Scratch {
    fn drop(&mut self) {
        let _ = std::fs::remove_file(&self.0);
    }
}

/// Uploads an image or a video; `201` with its id.
#[utoipa::path(post, path = "/media", tag = "media",
    request_body(content = Vec<u8>, description = "the file's bytes", content_type = "image/jpeg"),
    params(("Idempotency-Key" = Option<String>, Header)),
    responses((status = 201, body = MediaOut), (status = 413, body = Problem), (status = 415, body = Problem)),
    security(("token" = ["write"])))]
pub async fn upload(
    State(state): State<AppState>,
    caller: Caller,
    headers: HeaderMap,
    body: Body,
) -> Result<(StatusCode, Json<MediaOut>), Problem> {
    caller.require_change(ApiScope::Write)?;
    let declared = headers.get(CONTENT_TYPE).and_then(|v| v.to_str().ok()).unwrap_or_default();
    let declared = declared.split(';').next().unwrap_or_default().trim().to_ascii_lowercase();
    if !ACCEPTED.contains(&declared.as_str()) {
        return Err(unsupported(format!(
            "Content-Type {declared:?} is not one of {}: send the file's bytes with its type",
            ACCEPTED.join(", ")
        )));
    }
    let max = state.config.media_import_max_bytes;
    let dir = state.config.data_dir.join("tmp");
    tokio::fs::create_dir_all(&dir).await.map_err(io)?;
    let scratch = Scratch(dir.join(format!("upload-{}.part", uuid::Uuid::new_v4().simple())));
    let mut file = tokio::fs::File::create(&scratch.0).await.map_err(io)?;
    let mut size: u64 = 0;
    let mut hasher = sha2::Sha256::new();
    let mut stream = body.into_data_stream();
    while let Some(chunk) = stream.next().await {
        let chunk = chunk.map_err(|e| Problem::invalid(format!("the upload broke off: {e}")))?;
        size += chunk.len() as u64;
        if size > max {
            return Err(Problem::new(
                StatusCode::PAYLOAD_TOO_LARGE,
                "too-large",
                "The file is too large",
                format!("the file is larger than {} MB, the most this server takes", max / (1024 * 1024)),
            ));
        }
        hasher.update(&chunk);
        file.write_all(&chunk).await.map_err(io)?;
    }
    file.flush().await.map_err(io)?;
    drop(file);
    if size == 0 {
        return Err(Problem::invalid("the body is empty: send the file's bytes"));
    }
    let path = scratch.0.clone();
    let probe = tokio::task::spawn_blocking(move || probe_file(&path))
        .await
        .map_err(|e| io(std::io::Error::other(e.to_string())))?
        .map_err(|e| unsupported(format!("the file cannot be read as an image or a video: {e}")))?;
    let kind = match probe.format {
        f if f.is_image() && declared.starts_with("image/") => MediaKind::Image,
        f if f.is_video() && declared.starts_with("video/") => MediaKind::Video,
        Format::Unknown => {
            return Err(unsupported(format!(
                "the bytes are not a JPEG, PNG, WebP, GIF, MP4 or MOV file (sent as {declared})"
            )))
        }
        f => return Err(unsupported(format!("the bytes are {}, not {declared}", f.content_type()))),
    };
    let media =
        store_media_file(&state.store, &state.config.data_dir, caller.tenant(), &scratch.0, kind, &declared, "upload")
            .await
            .map_err(|e| match e {
                tochen_platforms::media::IngestError::Store(s) => Problem::from(s),
                tochen_platforms::media::IngestError::Io(e) => io(e),
            })?;
    let details = serde_json::json!({"via": "api", "token": caller.token.id, "bytes": size});
    state
        .store
        .audit(caller.tenant(), caller.token.created_by, "media.uploaded", "media", Some(&media.id.to_db()), details)
        .await?;
    let info = &media.info;
    Ok((
        StatusCode::CREATED,
        Json(MediaOut {
            id: media.id.to_string(),
            kind: kind.as_str(),
            content_type: info.content_type.clone(),
            size_bytes: info.size_bytes,
            width: info.width,
            height: info.height,
            duration_ms: info.duration_ms,
            sha256: hex::encode(hasher.finalize()),
        }),
    ))
}

fn io(e: std::io::Error) -> Problem {
    tracing::error!(error = %e, "api: cannot store an upload");
    Problem::internal()
}
