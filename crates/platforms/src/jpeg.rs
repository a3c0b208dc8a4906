//! JPEG versions of stored images, for platforms that take nothing else (Instagram takes JPEG only, TikTok photo
//! posts JPEG or WebP), while generated images are stored as PNG.
//!
//! The conversion happens at publish time, once per image: the JPEG is written next to the original
//! (`<original path>.jpg`) and recorded as a media row of its own (`source = "converted"`), so the web service
//! serves it like any media and a later attempt finds it again by its path instead of converting again. Transparent
//! pixels are laid on white (JPEG has no alpha), and the quality is 90 (baseline JPEG, as the platforms advise).

use image::codecs::jpeg::JpegEncoder;
use image::{Rgb, RgbImage};
use sha2::{Digest, Sha256};
use std::path::Path;
use tochen_domain::ids::TenantId;
use tochen_domain::MediaKind;
use tochen_store::{Media, NewMedia, Store, StoreError};

/// The JPEG quality of converted images.
pub const QUALITY: u8 = 90;

/// The media type of JPEG images.
pub const JPEG: &str = "image/jpeg";

/// Why an image could not be given a JPEG version.
#[derive(Debug, thiserror::Error)]
pub enum ConvertError {
    /// The stored file is missing, unreadable or not an image: converting again will not help.
    #[error("the image {path} cannot be converted to JPEG: {reason}")]
    BadImage { path: String, reason: String },
    /// Writing the JPEG or its row failed: a later attempt may succeed.
    #[error("the JPEG version of {path} could not be stored: {reason}")]
    Storage { path: String, reason: String },
}

/// Whether `content_type` (parameters and case aside) is one of `types`.
pub fn is_one_of(content_type: &str, types: &[&str]) -> bool {
    let bare = content_type.split(';').next().unwrap_or("").trim().to_ascii_lowercase();
    types.iter().any(|t| bare == *t || (*t == JPEG && bare == "image/jpg"))
}

/// JPEG bytes of an image in PNG, JPEG or WebP, with transparency laid on white, and its width and height.
pub fn to_jpeg(bytes: &[u8]) -> Result<(Vec<u8>, u32, u32), image::ImageError> {
    let rgba = image::load_from_memory(bytes)?.to_rgba8();
    let (w, h) = rgba.dimensions();
    let over_white = |c: u8, a: u8| ((u16::from(c) * u16::from(a) + 255 * (255 - u16::from(a)) + 127) / 255) as u8;
    let rgb = RgbImage::from_fn(w, h, |x, y| {
        let [r, g, b, a] = rgba.get_pixel(x, y).0;
        Rgb([over_white(r, a), over_white(g, a), over_white(b, a)])
    });
    let mut out = Vec::new();
    JpegEncoder::new_with_quality(&mut out, QUALITY).encode_image(&rgb)?;
    Ok((out, w, h))
}

/// The JPEG version of the image stored at `storage_path` (relative to `data_dir`): the one an earlier attempt
/// stored, or a new one.
pub async fn jpeg_version(
    store: &Store,
    data_dir: &Path,
    tenant: TenantId,
    storage_path: &str,
) -> Result<Media, ConvertError> {
    let rel = format!("{storage_path}.jpg");
    let storage = |reason: String| ConvertError::Storage { path: storage_path.to_owned(), reason };
    let store_err = |e: StoreError| storage(e.to_string());
    if let Some(found) = store.media_at_path(tenant, &rel).await.map_err(store_err)? {
        return Ok(found);
    }
    // Two targets of one post (Instagram and TikTok) convert the same image at once: one converts, the other
    // finds its result. Across instances a race only costs a second, identical row.
    static CONVERTING: tokio::sync::Mutex<()> = tokio::sync::Mutex::const_new(());
    let _one_at_a_time = CONVERTING.lock().await;
    if let Some(found) = store.media_at_path(tenant, &rel).await.map_err(store_err)? {
        return Ok(found);
    }
    let bad = |reason: String| ConvertError::BadImage { path: storage_path.to_owned(), reason };
    if storage_path.is_empty() || Path::new(storage_path).is_absolute() || storage_path.contains("..") {
        return Err(bad("it is not a path under the data directory".into()));
    }
    let original = tokio::fs::read(data_dir.join(storage_path)).await.map_err(|e| bad(e.to_string()))?;
    // Decoding and encoding are CPU work: off the async threads.
    let converted =
        tokio::task::spawn_blocking(move || to_jpeg(&original)).await.map_err(|e| storage(e.to_string()))?;
    let (jpeg, width, height) = converted.map_err(|e| bad(e.to_string()))?;
    let target = data_dir.join(&rel);
    // Written aside and renamed, so the web service never serves half a file.
    let partial = data_dir.join(format!("{rel}.{}.part", uuid::Uuid::new_v4().simple()));
    tokio::fs::write(&partial, &jpeg).await.map_err(|e| storage(e.to_string()))?;
    tokio::fs::rename(&partial, &target).await.map_err(|e| storage(e.to_string()))?;
    let new = NewMedia {
        kind: MediaKind::Image,
        content_type: JPEG.to_owned(),
        size_bytes: jpeg.len() as i64,
        sha256: hex::encode(Sha256::digest(&jpeg)),
        storage_path: rel,
        source: "converted".to_owned(),
        width: Some(i64::from(width)),
        height: Some(i64::from(height)),
        duration_ms: None,
    };
    store.insert_media(tenant, &new).await.map_err(store_err)
}

#[cfg(test)]
mod tests {
    use super::*;
    use image::{ImageFormat, Rgba, RgbaImage};
    use std::io::Cursor;

    fn png(img: &RgbaImage) -> Vec<u8> {
        let mut out = Cursor::new(Vec::new());
        img.write_to(&mut out, ImageFormat::Png).unwrap();
        out.into_inner()
    }

    #[test]
    fn a_png_with_transparency_becomes_a_jpeg_on_white() {
        // Left half fully transparent black, right half opaque blue.
        let img = RgbaImage::from_fn(16, 8, |x, _| if x < 8 { Rgba([0, 0, 0, 0]) } else { Rgba([0, 0, 255, 255]) });
        let (jpeg, w, h) = to_jpeg(&png(&img)).unwrap();
        assert_eq!((w, h), (16, 8));
        assert_eq!(image::guess_format(&jpeg).unwrap(), ImageFormat::Jpeg);
        let back = image::load_from_memory(&jpeg).unwrap().to_rgb8();
        let [r, g, b] = back.get_pixel(2, 4).0;
        assert!(r > 240 && g > 240 && b > 240, "transparent pixels turn white, not black: {:?}", (r, g, b));
        let [r, g, b] = back.get_pixel(13, 4).0;
        assert!(r < 40 && g < 40 && b > 200, "opaque pixels keep their colour: {:?}", (r, g, b));
    }

    #[test]
    fn bytes_that_are_no_image_are_refused() {
        assert!(to_jpeg(b"not an image at all").is_err());
    }

    #[test]
    fn content_types_are_compared_without_parameters_or_case() {
        assert!(is_one_of("image/JPEG; charset=binary", &[JPEG]));
        assert!(is_one_of("image/jpg", &[JPEG]));
        assert!(!is_one_of("image/png", &[JPEG, "image/webp"]));
        assert!(is_one_of("image/webp", &[JPEG, "image/webp"]));
    }
}
