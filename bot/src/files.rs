//! Files people send to the bot, stored as media with what their bytes say they are.
//!
//! With the cloud Bot API a bot downloads at most 20 MB (`getFile` refuses bigger files with "file is too big"),
//! so a bigger file is refused at once with a message that says what to do. With a self-hosted Bot API server in
//! `--local` mode (`TELEGRAM_LOCAL_MODE=true`) `getFile` answers with an absolute path on that server's disk and
//! there is no size limit: the file is hard-linked or copied (in chunks, never held in memory) into the data
//! directory. `TELEGRAM_LOCAL_PATH_MAP` maps the server's path prefix to where its disk is mounted here.

pub use crate::ctx::MediaSettings;
use crate::ctx::{App, TgBot};
#[cfg(test)]
use std::path::Path;
use teloxide::net::Download;
use teloxide::prelude::*;
use tochen_domain::i18n::{t, tf};
use tochen_domain::ids::TenantId;
use tochen_domain::MediaKind;
use tochen_store::Media;

/// The largest file the cloud Bot API lets a bot download.
pub const CLOUD_MAX_DOWNLOAD: u64 = 20 * 1024 * 1024;

/// Why a file could not be stored.
#[derive(Debug, thiserror::Error)]
pub enum FileError {
    /// Over the cloud Bot API's download limit.
    #[error("the file has {size} bytes, over the Bot API's download limit of {max} bytes")]
    TooBig { size: u64, max: u64 },
    /// Local mode, but the path the server named cannot be read here.
    #[error("the Bot API server's file {path} cannot be read here: {reason}")]
    LocalUnreadable { path: String, reason: String },
    /// Telegram refused or failed.
    #[error("telegram could not hand over the file: {0}")]
    Telegram(String),
    #[error("the file could not be stored: {0}")]
    Storage(String),
}

impl FileError {
    /// What to tell the person, in their language.
    pub fn text(&self, lang: &str) -> String {
        match self {
            FileError::TooBig { size, max } => {
                tf(lang, "bot.files.too_big", &[("size", &size.div_ceil(1024 * 1024)), ("max", &(max / (1024 * 1024)))])
            }
            FileError::LocalUnreadable { .. } => t(lang, "bot.files.local_unreadable"),
            FileError::Telegram(_) => t(lang, "bot.files.download_failed"),
            FileError::Storage(_) => t(lang, "bot.files.store_failed"),
        }
    }
}

fn is_too_big(e: &teloxide::RequestError) -> bool {
    e.to_string().to_ascii_lowercase().contains("file is too big")
}

/// Stores the Telegram file `file_id` (of `size` bytes as the message said) as media of `tenant`, with its probed
/// facts. `content_type` is used only when the bytes are of no known format.
pub async fn store_telegram_file(
    bot: &TgBot,
    app: &App,
    tenant: TenantId,
    file_id: &str,
    size: u32,
    kind: MediaKind,
    content_type: &str,
) -> Result<Media, FileError> {
    let local = app.media.local_mode;
    if !local && u64::from(size) > CLOUD_MAX_DOWNLOAD {
        return Err(FileError::TooBig { size: u64::from(size), max: CLOUD_MAX_DOWNLOAD });
    }
    let file = bot.get_file(teloxide::types::FileId(file_id.to_owned())).await.map_err(|e| {
        if is_too_big(&e) {
            FileError::TooBig { size: u64::from(size), max: CLOUD_MAX_DOWNLOAD }
        } else {
            FileError::Telegram(e.to_string())
        }
    })?;
    // A local server answers with an absolute path; the client must not assume a relative one.
    if file.path.starts_with('/') {
        let path = app.media.local_path(&file.path);
        if let Err(e) = tokio::fs::metadata(&path).await {
            return Err(FileError::LocalUnreadable { path: path.display().to_string(), reason: e.to_string() });
        }
        return tochen_platforms::media::store_media_file(
            &app.store,
            &app.data_dir,
            tenant,
            &path,
            kind,
            content_type,
            "telegram",
        )
        .await
        .map_err(|e| FileError::Storage(e.to_string()));
    }
    let mut bytes = Vec::new();
    bot.download_file(&file.path, &mut bytes).await.map_err(|e| FileError::Telegram(e.to_string()))?;
    tochen_llm::store_media_bytes(&app.store, &app.data_dir, tenant, &bytes, kind, content_type, "telegram")
        .await
        .map_err(|e| FileError::Storage(e.to_string()))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn server_paths_map_to_the_local_mount() {
        let s = MediaSettings {
            local_mode: true,
            path_map: Some(("/var/lib/telegram-bot-api".into(), "/mnt/tg".into())),
            ..Default::default()
        };
        assert_eq!(
            s.local_path("/var/lib/telegram-bot-api/123:abc/videos/file_1.mp4"),
            Path::new("/mnt/tg/123:abc/videos/file_1.mp4")
        );
        assert_eq!(s.local_path("/elsewhere/file.mp4"), Path::new("/elsewhere/file.mp4"));
        assert_eq!(MediaSettings::default().local_path("/a/b"), Path::new("/a/b"));
    }

    #[test]
    fn every_error_has_a_text_in_every_language() {
        let errors = [
            FileError::TooBig { size: 25 * 1024 * 1024, max: CLOUD_MAX_DOWNLOAD },
            FileError::LocalUnreadable { path: "/x".into(), reason: "gone".into() },
            FileError::Telegram("x".into()),
            FileError::Storage("x".into()),
        ];
        for lang in ["en", "ru", "uk", "es", "de"] {
            for e in &errors {
                let text = e.text(lang);
                assert!(!text.is_empty() && !text.starts_with("bot."), "{lang}: {text}");
            }
        }
        assert!(errors[0].text("en").contains("25") && errors[0].text("en").contains("20"));
    }
}
