//! The field syntax shared by the `<prefix>:<field>...` buttons: ids packed to 22 url-safe characters.

use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use base64::Engine;
use uuid::Uuid;

use super::MAX_CALLBACK_BYTES;

/// Packs a UUID into 22 url-safe characters.
pub fn pack_uuid(id: Uuid) -> String {
    URL_SAFE_NO_PAD.encode(id.as_bytes())
}

/// Unpacks what `pack_uuid` produced; `None` for anything else.
pub fn unpack_uuid(s: &str) -> Option<Uuid> {
    let bytes = URL_SAFE_NO_PAD.decode(s).ok()?;
    Uuid::from_slice(&bytes).ok()
}

/// Builds callback data from a prefix and fields, checking the size limit.
pub(crate) fn build(prefix: &str, fields: &[&str]) -> String {
    let mut data = String::from(prefix);
    for f in fields {
        debug_assert!(!f.contains(':'), "callback field {f:?} contains the separator");
        data.push(':');
        data.push_str(f);
    }
    assert!(data.len() <= MAX_CALLBACK_BYTES, "callback data {data:?} is over {MAX_CALLBACK_BYTES} bytes");
    data
}

/// Splits callback data into its prefix and fields.
pub fn split(data: &str) -> (&str, Vec<&str>) {
    let mut parts = data.split(':');
    let prefix = parts.next().unwrap_or("");
    (prefix, parts.collect())
}

/// The `i`th field as a number.
pub(crate) fn num<T: std::str::FromStr>(f: &[&str], i: usize) -> Option<T> {
    f.get(i).and_then(|s| s.parse().ok())
}

/// The `i`th field as a packed id.
pub(crate) fn id(f: &[&str], i: usize) -> Option<Uuid> {
    f.get(i).and_then(|s| unpack_uuid(s))
}
