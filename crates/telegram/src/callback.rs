//! Inline-button callback data: one codec for every button the bot or the scheduler sends.
//!
//! Telegram allows 1-64 bytes. Data is `<prefix>:<field>:<field>...`; ids are UUIDs packed as 22 characters of
//! url-safe base64. User text never goes in. Decoding yields only the shape; the bot still checks every id
//! against the caller's workspace and role before acting, so a forged or stale button cannot reach another
//! workspace's data.

use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use base64::Engine;
use uuid::Uuid;

/// Telegram's limit on callback data, in bytes.
pub const MAX_CALLBACK_BYTES: usize = 64;

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
pub fn build(prefix: &str, fields: &[&str]) -> String {
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

/// Prefixes of buttons sent outside the bot (by the scheduler), which the bot must understand.
pub mod prefix {
    /// "It's published" on a target whose outcome is unknown: `tp:<target>`.
    pub const TARGET_CONFIRM_PUBLISHED: &str = "tp";
    /// "Post again" on a target whose outcome is unknown or that failed: `tr:<target>`.
    pub const TARGET_RETRY: &str = "tr";
    /// "Skip this platform" on a failed target: `ts:<target>`.
    pub const TARGET_SKIP: &str = "ts";
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn uuids_pack_into_22_chars_and_back() {
        let id = Uuid::now_v7();
        let packed = pack_uuid(id);
        assert_eq!(packed.len(), 22);
        assert_eq!(unpack_uuid(&packed), Some(id));
        assert_eq!(unpack_uuid("garbage!"), None);
    }

    #[test]
    fn data_with_two_ids_fits_the_limit() {
        let a = pack_uuid(Uuid::now_v7());
        let b = pack_uuid(Uuid::now_v7());
        let data = build("xx", &[&a, &b, "99"]);
        assert!(data.len() <= MAX_CALLBACK_BYTES);
        assert_eq!(split(&data), ("xx", vec![a.as_str(), b.as_str(), "99"]));
    }
}

#[cfg(test)]
mod props {
    use super::*;
    use proptest::prelude::*;

    fn uuid() -> impl Strategy<Value = Uuid> {
        any::<u128>().prop_map(Uuid::from_u128)
    }

    proptest! {
        #![proptest_config(tochen_testkit::props::config(1024))]

        #[test]
        fn any_uuid_packs_into_22_chars_and_back(id in uuid()) {
            let packed = pack_uuid(id);
            prop_assert_eq!(packed.len(), 22);
            prop_assert_eq!(unpack_uuid(&packed), Some(id));
        }

        /// Random text, and text made of the alphabet of packed ids, never panics and unpacks only to what packs
        /// back to the same text.
        #[test]
        fn unpacking_anything_never_panics(s in prop_oneof!["\\PC*", "[A-Za-z0-9_=+/-]{0,40}"]) {
            if let Some(id) = unpack_uuid(&s) {
                prop_assert_eq!(pack_uuid(id), s);
            }
        }

        #[test]
        fn split_never_panics_and_rejoins(data in "\\PC*") {
            let (prefix, fields) = split(&data);
            let mut joined = prefix.to_owned();
            for f in fields {
                joined.push(':');
                joined.push_str(f);
            }
            prop_assert_eq!(joined, data);
        }
    }
}
