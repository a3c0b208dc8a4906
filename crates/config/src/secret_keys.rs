//! Where the secret keys come from, decided in one place for every component.
//!
//! `TOCHEN_SECRET_KEYS` wins; when it is unset the key lives in `{TOCHEN_DATA_DIR}/secret.key`, which the binary
//! creates on first start so the quick start needs nothing but a bot token. The store encrypts with these keys,
//! and the web service and the scheduler derive the media URL signing key from the first one. Before this module
//! each of them read the key file its own way, and the scheduler fell back on an EMPTY key when the file was
//! missing, so it signed URLs the web service refused; now both call [`first_secret_key`] and a component that
//! finds no key refuses to start with a line saying what to set.

use super::{Config, ConfigError};
use std::path::{Path, PathBuf};
use tochen_domain::crypto::SecretBox;
use tochen_domain::media_url::MediaSigningKey;
use tochen_domain::secret::SecretString;

const VAR: &str = "TOCHEN_SECRET_KEYS";

/// The keys in use and whether the key file was created just now (worth a warning: back it up).
#[derive(Debug)]
pub struct ResolvedKeys {
    pub keys: Vec<SecretString>,
    pub created: Option<PathBuf>,
}

impl Config {
    /// The file that holds the generated key when `TOCHEN_SECRET_KEYS` is unset.
    pub fn secret_key_file(&self) -> PathBuf {
        self.data_dir.join("secret.key")
    }
}

/// The configured keys, else the key in the key file; `None` when neither exists. A key file that does not hold
/// a valid Fernet key is an error, never an empty or made-up key.
pub fn load_secret_keys(config: &Config) -> Result<Option<Vec<SecretString>>, ConfigError> {
    if !config.secret_keys.is_empty() {
        return Ok(Some(config.secret_keys.clone()));
    }
    let path = config.secret_key_file();
    let raw = match std::fs::read_to_string(&path) {
        Ok(raw) => raw,
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(None),
        Err(e) => return Err(ConfigError::new(VAR, format!("is not set and {} cannot be read: {e}", path.display()))),
    };
    let key = raw.trim();
    if !SecretBox::is_valid_key(key) {
        return Err(ConfigError::new(
            VAR,
            format!(
                "is not set and {} does not hold a valid Fernet key; restore it from a backup or set {VAR}",
                path.display()
            ),
        ));
    }
    Ok(Some(vec![SecretString::new(key)]))
}

/// Like [`load_secret_keys`], but creates the key file (readable by its owner only) when there is no key at
/// all. Only the binary's start-up calls this, before any component runs.
pub fn load_or_create_secret_keys(config: &Config) -> Result<ResolvedKeys, ConfigError> {
    if let Some(keys) = load_secret_keys(config)? {
        return Ok(ResolvedKeys { keys, created: None });
    }
    let path = config.secret_key_file();
    let key = SecretBox::generate_key();
    write_private(&path, &key)
        .map_err(|e| ConfigError::new(VAR, format!("is not set and {} cannot be created: {e}", path.display())))?;
    Ok(ResolvedKeys { keys: vec![SecretString::new(key)], created: Some(path) })
}

/// The first (encrypting) key, which the media signing key derives from. Refuses when there is no key: a
/// component must not sign or verify with a key nobody else has.
pub fn first_secret_key(config: &Config) -> Result<SecretString, ConfigError> {
    load_secret_keys(config)?.and_then(|keys| keys.into_iter().next()).ok_or_else(|| {
        ConfigError::new(
            VAR,
            format!(
                "is not set and {} does not exist; set it to a key from `tochen keygen` (or start `tochen run` once, \
                 which creates the file)",
                config.secret_key_file().display()
            ),
        )
    })
}

/// The key that signs and verifies media URLs, the same in the web service and the scheduler.
pub fn media_signing_key(config: &Config) -> Result<MediaSigningKey, ConfigError> {
    first_secret_key(config).map(|k| MediaSigningKey::derive(&k))
}

fn write_private(path: &Path, contents: &str) -> std::io::Result<()> {
    if let Some(dir) = path.parent() {
        std::fs::create_dir_all(dir)?;
    }
    let mut options = std::fs::OpenOptions::new();
    options.write(true).create_new(true);
    #[cfg(unix)]
    {
        use std::os::unix::fs::OpenOptionsExt;
        options.mode(0o600);
    }
    use std::io::Write;
    options.open(path)?.write_all(contents.as_bytes())
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::collections::HashMap;

    fn config(dir: &Path, keys: Option<&str>) -> Config {
        let mut env: HashMap<String, String> = HashMap::new();
        env.insert("TOCHEN_DATA_DIR".into(), dir.display().to_string());
        if let Some(k) = keys {
            env.insert(VAR.into(), k.into());
        }
        Config::from_source(&env).unwrap()
    }

    #[test]
    fn configured_keys_win_over_the_key_file() {
        let dir = tempfile::tempdir().unwrap();
        let (a, b) = (SecretBox::generate_key(), SecretBox::generate_key());
        std::fs::write(dir.path().join("secret.key"), SecretBox::generate_key()).unwrap();
        let c = config(dir.path(), Some(&format!("{a},{b}")));
        assert_eq!(first_secret_key(&c).unwrap().expose(), a);
        assert_eq!(load_secret_keys(&c).unwrap().unwrap().len(), 2);
    }

    #[test]
    fn the_key_file_is_read_trimmed_and_created_only_on_request() {
        let dir = tempfile::tempdir().unwrap();
        let c = config(dir.path(), None);
        assert!(load_secret_keys(&c).unwrap().is_none());
        let err = first_secret_key(&c).unwrap_err();
        assert_eq!(err.var, VAR);
        assert!(err.to_string().contains("secret.key does not exist"), "{err}");
        assert!(!c.secret_key_file().exists(), "only start-up creates the file");

        let created = load_or_create_secret_keys(&c).unwrap();
        assert_eq!(created.created.as_deref(), Some(c.secret_key_file().as_path()));
        assert_eq!(first_secret_key(&c).unwrap().expose(), created.keys[0].expose());
        let again = load_or_create_secret_keys(&c).unwrap();
        assert!(again.created.is_none());
        assert_eq!(again.keys[0].expose(), created.keys[0].expose());

        // A trailing newline (an editor's) does not change the key.
        let key = SecretBox::generate_key();
        std::fs::write(c.secret_key_file(), format!("{key}\n")).unwrap();
        assert_eq!(first_secret_key(&c).unwrap().expose(), key);
    }

    #[test]
    fn an_empty_or_broken_key_file_is_refused() {
        let dir = tempfile::tempdir().unwrap();
        let c = config(dir.path(), None);
        for content in ["", "\n", "not a key"] {
            std::fs::write(c.secret_key_file(), content).unwrap();
            let err = media_signing_key(&c).unwrap_err();
            assert!(err.to_string().contains("does not hold a valid Fernet key"), "{content:?}: {err}");
            assert!(load_or_create_secret_keys(&c).is_err(), "a broken file is never replaced");
        }
    }
}
