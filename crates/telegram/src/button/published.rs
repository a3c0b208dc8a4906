//! Buttons on a published post's screen (`pbv`, `pbe`, `pbk`, `pbd`, `pbx`) and "Duplicate" on any post (`pbu`).
//! The edit and delete buttons name one target and carry its post's version, so a screen drawn before the post
//! changed (another edit requested, a result settled) changes nothing.

use super::fields::{build, id, num, pack_uuid};
use tochen_domain::{PostId, TargetId};

/// A button about a post already published, or "Duplicate" on any post.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Published {
    /// Open the post's screen (from `/history`): `pbv:<post>`.
    Show(PostId),
    /// "Edit text on <platform>": asks for the new text. `pbe:<target>:<version>`.
    EditText(TargetId, i64),
    /// Confirm the new text shown: `pbk:<target>:<version>`.
    ConfirmEdit(TargetId, i64),
    /// "Delete from <platform>": asks to confirm. `pbd:<target>:<version>`.
    Delete(TargetId, i64),
    /// Confirm the delete: `pbx:<target>:<version>`.
    ConfirmDelete(TargetId, i64),
    /// "Duplicate" on any post: a new draft with its text and media. `pbu:<post>`.
    Duplicate(PostId),
}

impl Published {
    pub(super) fn encode(&self) -> String {
        let target = |p: &str, t: &TargetId, v: &i64| build(p, &[&pack_uuid(t.as_uuid()), &v.to_string()]);
        match self {
            Self::Show(p) => build("pbv", &[&pack_uuid(p.as_uuid())]),
            Self::EditText(t, v) => target("pbe", t, v),
            Self::ConfirmEdit(t, v) => target("pbk", t, v),
            Self::Delete(t, v) => target("pbd", t, v),
            Self::ConfirmDelete(t, v) => target("pbx", t, v),
            Self::Duplicate(p) => build("pbu", &[&pack_uuid(p.as_uuid())]),
        }
    }

    pub(super) fn decode(prefix: &str, f: &[&str]) -> Option<Self> {
        let post = || id(f, 0).map(PostId::from_uuid);
        let target = || id(f, 0).map(TargetId::from_uuid);
        Some(match (prefix, f.len()) {
            ("pbv", 1) => Self::Show(post()?),
            ("pbu", 1) => Self::Duplicate(post()?),
            ("pbe", 2) => Self::EditText(target()?, num(f, 1)?),
            ("pbk", 2) => Self::ConfirmEdit(target()?, num(f, 1)?),
            ("pbd", 2) => Self::Delete(target()?, num(f, 1)?),
            ("pbx", 2) => Self::ConfirmDelete(target()?, num(f, 1)?),
            _ => return None,
        })
    }
}

/// One button of every variant, with the longest fields each can carry.
#[cfg(test)]
pub(super) fn every_variant() -> Vec<Published> {
    let (p, t) = (PostId::new(), TargetId::new());
    vec![
        Published::Show(p),
        Published::Duplicate(p),
        Published::EditText(t, i64::MIN),
        Published::ConfirmEdit(t, i64::MIN),
        Published::Delete(t, i64::MIN),
        Published::ConfirmDelete(t, i64::MIN),
    ]
}

#[cfg(test)]
mod tests {
    use super::super::{Button, MAX_CALLBACK_BYTES};
    use super::*;
    use uuid::Uuid;

    #[test]
    fn every_published_button_round_trips_within_64_bytes() {
        for b in every_variant() {
            let data = Button::Published(b).encode();
            assert!(data.len() <= MAX_CALLBACK_BYTES, "{data}");
            assert_eq!(Button::decode(&data), Some(Button::Published(b)), "{data}");
        }
    }

    #[test]
    fn published_buttons_are_spelled_as_sent() {
        let post = PostId::from_uuid(Uuid::from_u128(1));
        let target = TargetId::from_uuid(Uuid::from_u128(1));
        let packed = "AAAAAAAAAAAAAAAAAAAAAQ";
        for (b, data) in [
            (Published::Show(post), format!("pbv:{packed}")),
            (Published::Duplicate(post), format!("pbu:{packed}")),
            (Published::EditText(target, 7), format!("pbe:{packed}:7")),
            (Published::ConfirmEdit(target, 7), format!("pbk:{packed}:7")),
            (Published::Delete(target, 7), format!("pbd:{packed}:7")),
            (Published::ConfirmDelete(target, -1), format!("pbx:{packed}:-1")),
        ] {
            assert_eq!(Button::Published(b).encode(), data);
            assert_eq!(Button::decode(&data), Some(Button::Published(b)));
        }
    }

    #[test]
    fn malformed_published_buttons_do_not_decode() {
        for bad in ["pbv", "pbv:abc", "pbe:AAAAAAAAAAAAAAAAAAAAAQ", "pbe:AAAAAAAAAAAAAAAAAAAAAQ:x", "pbx:1:2", "pbq:1"]
        {
            assert_eq!(Button::decode(bad), None, "{bad}");
        }
    }
}
