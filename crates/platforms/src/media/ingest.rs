//! Storing a media file with what its bytes say it is. Small files arrive as bytes
//! (`tochen_llm::store_media_bytes`); big ones as a file on disk ([`store_media_file`]), which is hard-linked or
//! copied into the data directory without ever being held in memory, hashed and probed as a stream.

use super::limits::MediaFacts;
use super::probe::{probe_file, Format, Probe};
use sha2::{Digest, Sha256};
use std::path::Path;
use tochen_domain::ids::TenantId;
use tochen_domain::MediaKind;
use tochen_store::{Media, MediaTech, NewMedia, Store, StoreError};
use tokio::io::AsyncReadExt;

#[derive(Debug, thiserror::Error)]
pub enum IngestError {
    #[error("cannot store the media file: {0}")]
    Io(#[from] std::io::Error),
    #[error(transparent)]
    Store(#[from] StoreError),
}

/// The technical facts of a probe, as stored.
pub fn tech_of(p: &Probe) -> MediaTech {
    MediaTech {
        container: Some(p.format.as_str().to_owned()),
        video_codec: p.video_codec.clone(),
        audio_codec: p.audio_codec.clone(),
        fps: p.fps,
    }
}

/// Records a probe's facts on a stored row.
pub async fn record_probe(store: &Store, media: &Media, p: &Probe) -> Result<(), StoreError> {
    let size = (p.width.map(i64::from), p.height.map(i64::from), p.duration_ms.map(|d| d as i64));
    store.set_media_tech(media.tenant_id, media.id, size, &tech_of(p)).await
}

/// The facts of a stored media row, for [`super::limits::MediaLimits::check`].
pub async fn facts_of(store: &Store, media: &Media) -> Result<MediaFacts, StoreError> {
    let tech = store.media_tech(media.tenant_id, media.id).await?;
    let format = match tech.container.as_deref() {
        Some("JPEG") => Format::Jpeg,
        Some("PNG") => Format::Png,
        Some("WebP") => Format::Webp,
        Some("GIF") => Format::Gif,
        Some("MP4") => Format::Mp4,
        Some("MOV") => Format::Mov,
        Some(_) => Format::Unknown,
        // Stored before probing existed: trust the recorded type.
        None => match media.info.content_type.as_str() {
            "image/jpeg" | "image/jpg" => Format::Jpeg,
            "image/png" => Format::Png,
            "image/webp" => Format::Webp,
            "image/gif" => Format::Gif,
            "video/mp4" => Format::Mp4,
            "video/quicktime" => Format::Mov,
            _ => Format::Unknown,
        },
    };
    let dim = |v: Option<i64>| v.and_then(|v| u32::try_from(v).ok());
    Ok(MediaFacts {
        kind: media.info.kind,
        format,
        size_bytes: u64::try_from(media.info.size_bytes).unwrap_or(0),
        width: dim(media.info.width),
        height: dim(media.info.height),
        duration_ms: media.info.duration_ms.and_then(|d| u64::try_from(d).ok()),
        fps: tech.fps,
        video_codec: tech.video_codec,
        audio_codec: tech.audio_codec,
    })
}

/// The file name extension of a format.
pub fn extension(format: Format) -> &'static str {
    match format {
        Format::Jpeg => "jpg",
        Format::Png => "png",
        Format::Webp => "webp",
        Format::Gif => "gif",
        Format::Mp4 => "mp4",
        Format::Mov => "mov",
        Format::Unknown => "bin",
    }
}

/// Stores the file at `src` under `data_dir/media/<tenant>/` (named by content hash; hard-linked when on the same
/// file system, else copied in chunks), probes it, and records the row with its facts. The content type comes from
/// the probe when it recognises the file, else `content_type` is kept.
pub async fn store_media_file(
    store: &Store,
    data_dir: &Path,
    tenant: TenantId,
    src: &Path,
    kind: MediaKind,
    content_type: &str,
    source: &str,
) -> Result<Media, IngestError> {
    let mut file = tokio::fs::File::open(src).await?;
    let mut hasher = Sha256::new();
    let mut buf = vec![0u8; 1024 * 1024];
    let mut size: u64 = 0;
    loop {
        let n = file.read(&mut buf).await?;
        if n == 0 {
            break;
        }
        hasher.update(&buf[..n]);
        size += n as u64;
    }
    let sha = hex::encode(hasher.finalize());
    let src_owned = src.to_path_buf();
    let probe = tokio::task::spawn_blocking(move || probe_file(&src_owned))
        .await
        .map_err(|e| std::io::Error::other(e.to_string()))?
        .unwrap_or_else(|_| super::probe::probe_bytes(&[]));
    let ext = extension(probe.format);
    let rel = format!("media/{tenant}/{}.{ext}", &sha[..32]);
    let target = data_dir.join(&rel);
    if let Some(dir) = target.parent() {
        tokio::fs::create_dir_all(dir).await?;
    }
    if tokio::fs::metadata(&target).await.is_err() {
        // Written aside and renamed, so the web service never serves half a file.
        let partial = data_dir.join(format!("{rel}.{}.part", uuid::Uuid::new_v4().simple()));
        if tokio::fs::hard_link(src, &partial).await.is_err() {
            tokio::fs::copy(src, &partial).await?;
        }
        tokio::fs::rename(&partial, &target).await?;
    }
    let content_type = if probe.format == Format::Unknown { content_type } else { probe.format.content_type() };
    let stored = Stored { kind, content_type, size: size as i64, sha256: sha, storage_path: rel, source };
    Ok(insert_probed(store, tenant, stored, &probe).await?)
}

/// A file written under the data directory, to be recorded.
pub struct Stored<'a> {
    pub kind: MediaKind,
    pub content_type: &'a str,
    pub size: i64,
    pub sha256: String,
    /// Relative to the data directory.
    pub storage_path: String,
    pub source: &'a str,
}

/// Records a stored file's media row with what `probe` found (dimensions, duration, container and codecs): the
/// one way every ingest path writes media.
pub async fn insert_probed(store: &Store, tenant: TenantId, f: Stored<'_>, probe: &Probe) -> Result<Media, StoreError> {
    let media = store
        .insert_media(
            tenant,
            &NewMedia {
                kind: f.kind,
                content_type: f.content_type.to_owned(),
                size_bytes: f.size,
                sha256: f.sha256,
                storage_path: f.storage_path,
                source: f.source.to_owned(),
                width: probe.width.map(i64::from),
                height: probe.height.map(i64::from),
                duration_ms: probe.duration_ms.map(|d| d as i64),
            },
        )
        .await?;
    record_probe(store, &media, probe).await?;
    Ok(media)
}
