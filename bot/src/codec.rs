//! Every inline button's callback data, encoded and decoded in one place on top of `tochen_telegram::callback`.
//!
//! Data is `<prefix>:<field>...`, ids packed to 22 characters, well under Telegram's 64 bytes (a test checks the
//! longest). Decoding yields only a shape: handlers still check each id against the caller's active workspace and
//! role, and compare the post version a button carries with the post's current one to refuse stale screens.

use tochen_domain::Role;
use tochen_domain::{PostId, TargetId, TenantId, UserId};
use tochen_telegram::callback::{build, pack_uuid, prefix, split, unpack_uuid};

/// What a draft-screen button does.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum DraftAct {
    Regenerate,
    Edit,
    Rewrite,
    Image,
    Attach,
    Accounts,
    Schedule,
    PublishNow,
    Discard,
    Show,
}

const DRAFT_ACTS: &[(DraftAct, &str)] = &[
    (DraftAct::Regenerate, "g"),
    (DraftAct::Edit, "e"),
    (DraftAct::Rewrite, "w"),
    (DraftAct::Image, "i"),
    (DraftAct::Attach, "a"),
    (DraftAct::Accounts, "p"),
    (DraftAct::Schedule, "s"),
    (DraftAct::PublishNow, "n"),
    (DraftAct::Discard, "x"),
    (DraftAct::Show, "o"),
];

/// Quick scheduling choices.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Quick {
    InHour,
    Evening,
    TomorrowMorning,
    NextFree,
}

const QUICKS: &[(Quick, &str)] =
    &[(Quick::InHour, "h"), (Quick::Evening, "e"), (Quick::TomorrowMorning, "m"), (Quick::NextFree, "f")];

/// A decoded button.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Cb {
    Skip,
    Tone(u8),
    /// A content language of the profile, by index into `i18n::LANGUAGES`.
    ContentLang(u8),
    TzKeep,
    TzChange,
    MenuIdeas,
    MenuInvite,
    MenuConnect,
    Idea(u8),
    MoreIdeas,
    Draft(DraftAct, PostId, i64),
    ToggleAccount(PostId, i64, u8),
    When(PostId, i64, Quick),
    Confirm(PostId, i64, i64),
    Approve(PostId, i64),
    Reject(PostId, i64),
    QueuePage(u32),
    /// A page of `/drafts` (0 = the newest).
    DraftsPage(u32),
    /// A page of `/history` (0 = the newest).
    HistoryPage(u32),
    QueueItem(PostId),
    Reschedule(PostId, i64),
    CancelPost(PostId, i64),
    PublishNow(PostId, i64),
    InviteRole(Role),
    Member(UserId),
    SetRole(UserId, Role),
    RemoveMember(UserId),
    Workspace(TenantId),
    NewWorkspace,
    Language(String),
    TargetPublished(TargetId),
    TargetRetry(TargetId),
    TargetSkip(TargetId),
}

fn role_code(r: Role) -> &'static str {
    match r {
        Role::Admin => "a",
        Role::Editor => "e",
        Role::Viewer => "v",
    }
}

fn role_from(s: &str) -> Option<Role> {
    [Role::Admin, Role::Editor, Role::Viewer].into_iter().find(|r| role_code(*r) == s)
}

fn post(s: &str) -> Option<PostId> {
    unpack_uuid(s).map(PostId::from_uuid)
}

impl Cb {
    pub fn encode(&self) -> String {
        let p = |id: uuid::Uuid| pack_uuid(id);
        match self {
            Cb::Skip => build("sk", &[]),
            Cb::Tone(i) => build("to", &[&i.to_string()]),
            Cb::ContentLang(i) => build("cl", &[&i.to_string()]),
            Cb::TzKeep => build("tz", &["k"]),
            Cb::TzChange => build("tz", &["c"]),
            Cb::MenuIdeas => build("mn", &["i"]),
            Cb::MenuInvite => build("mn", &["v"]),
            Cb::MenuConnect => build("mn", &["c"]),
            Cb::Idea(i) => build("id", &[&i.to_string()]),
            Cb::MoreIdeas => build("im", &[]),
            Cb::Draft(act, id, v) => {
                let code = DRAFT_ACTS.iter().find(|(a, _)| a == act).map(|(_, c)| *c).unwrap_or("o");
                build(&format!("d{code}"), &[&p(id.as_uuid()), &v.to_string()])
            }
            Cb::ToggleAccount(id, v, i) => build("da", &[&p(id.as_uuid()), &v.to_string(), &i.to_string()]),
            Cb::When(id, v, q) => {
                let code = QUICKS.iter().find(|(x, _)| x == q).map(|(_, c)| *c).unwrap_or("h");
                build("sq", &[&p(id.as_uuid()), &v.to_string(), code])
            }
            Cb::Confirm(id, v, at) => build("sc", &[&p(id.as_uuid()), &v.to_string(), &at.to_string()]),
            Cb::Approve(id, v) => build("ap", &[&p(id.as_uuid()), &v.to_string()]),
            Cb::Reject(id, v) => build("rj", &[&p(id.as_uuid()), &v.to_string()]),
            Cb::QueuePage(n) => build("qp", &[&n.to_string()]),
            Cb::DraftsPage(n) => build("ld", &[&n.to_string()]),
            Cb::HistoryPage(n) => build("lh", &[&n.to_string()]),
            Cb::QueueItem(id) => build("qi", &[&p(id.as_uuid())]),
            Cb::Reschedule(id, v) => build("qr", &[&p(id.as_uuid()), &v.to_string()]),
            Cb::CancelPost(id, v) => build("qc", &[&p(id.as_uuid()), &v.to_string()]),
            Cb::PublishNow(id, v) => build("qn", &[&p(id.as_uuid()), &v.to_string()]),
            Cb::InviteRole(r) => build("iv", &[role_code(*r)]),
            Cb::Member(u) => build("tm", &[&p(u.as_uuid())]),
            Cb::SetRole(u, r) => build("mr", &[&p(u.as_uuid()), role_code(*r)]),
            Cb::RemoveMember(u) => build("mx", &[&p(u.as_uuid())]),
            Cb::Workspace(t) => build("ws", &[&p(t.as_uuid())]),
            Cb::NewWorkspace => build("wn", &[]),
            Cb::Language(l) => build("lg", &[l]),
            Cb::TargetPublished(t) => build(prefix::TARGET_CONFIRM_PUBLISHED, &[&p(t.as_uuid())]),
            Cb::TargetRetry(t) => build(prefix::TARGET_RETRY, &[&p(t.as_uuid())]),
            Cb::TargetSkip(t) => build(prefix::TARGET_SKIP, &[&p(t.as_uuid())]),
        }
    }

    pub fn decode(data: &str) -> Option<Cb> {
        let (pre, f) = split(data);
        let num = |i: usize| f.get(i).and_then(|s| s.parse::<i64>().ok());
        let id = |i: usize| f.get(i).and_then(|s| post(s));
        let uuid = |i: usize| f.get(i).and_then(|s| unpack_uuid(s));
        Some(match (pre, f.len()) {
            ("sk", 0) => Cb::Skip,
            ("to", 1) => Cb::Tone(f[0].parse().ok()?),
            ("cl", 1) => Cb::ContentLang(f[0].parse().ok()?),
            ("tz", 1) if f[0] == "k" => Cb::TzKeep,
            ("tz", 1) if f[0] == "c" => Cb::TzChange,
            ("mn", 1) => match f[0] {
                "i" => Cb::MenuIdeas,
                "v" => Cb::MenuInvite,
                "c" => Cb::MenuConnect,
                _ => return None,
            },
            ("id", 1) => Cb::Idea(f[0].parse().ok()?),
            ("im", 0) => Cb::MoreIdeas,
            ("da", 3) => Cb::ToggleAccount(id(0)?, num(1)?, f[2].parse().ok()?),
            ("sq", 3) => Cb::When(id(0)?, num(1)?, QUICKS.iter().find(|(_, c)| *c == f[2])?.0),
            ("sc", 3) => Cb::Confirm(id(0)?, num(1)?, num(2)?),
            ("ap", 2) => Cb::Approve(id(0)?, num(1)?),
            ("rj", 2) => Cb::Reject(id(0)?, num(1)?),
            ("qp", 1) => Cb::QueuePage(f[0].parse().ok()?),
            ("ld", 1) => Cb::DraftsPage(f[0].parse().ok()?),
            ("lh", 1) => Cb::HistoryPage(f[0].parse().ok()?),
            ("qi", 1) => Cb::QueueItem(id(0)?),
            ("qr", 2) => Cb::Reschedule(id(0)?, num(1)?),
            ("qc", 2) => Cb::CancelPost(id(0)?, num(1)?),
            ("qn", 2) => Cb::PublishNow(id(0)?, num(1)?),
            ("iv", 1) => Cb::InviteRole(role_from(f[0])?),
            ("tm", 1) => Cb::Member(UserId::from_uuid(uuid(0)?)),
            ("mr", 2) => Cb::SetRole(UserId::from_uuid(uuid(0)?), role_from(f[1])?),
            ("mx", 1) => Cb::RemoveMember(UserId::from_uuid(uuid(0)?)),
            ("ws", 1) => Cb::Workspace(TenantId::from_uuid(uuid(0)?)),
            ("wn", 0) => Cb::NewWorkspace,
            ("lg", 1) => Cb::Language(f[0].to_owned()),
            (p, 1) if p == prefix::TARGET_CONFIRM_PUBLISHED => Cb::TargetPublished(TargetId::from_uuid(uuid(0)?)),
            (p, 1) if p == prefix::TARGET_RETRY => Cb::TargetRetry(TargetId::from_uuid(uuid(0)?)),
            (p, 1) if p == prefix::TARGET_SKIP => Cb::TargetSkip(TargetId::from_uuid(uuid(0)?)),
            (p, 2) if p.len() == 2 && p.starts_with('d') => {
                let act = DRAFT_ACTS.iter().find(|(_, c)| *c == &p[1..])?.0;
                Cb::Draft(act, id(0)?, num(1)?)
            }
            _ => return None,
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_button_round_trips_and_fits_64_bytes() {
        let (pid, uid, tid) = (PostId::new(), UserId::new(), TargetId::new());
        let all = vec![
            Cb::Skip,
            Cb::Tone(3),
            Cb::ContentLang(4),
            Cb::TzKeep,
            Cb::Idea(4),
            Cb::MoreIdeas,
            Cb::Draft(DraftAct::Discard, pid, i64::MAX),
            Cb::ToggleAccount(pid, 123_456, 255),
            Cb::When(pid, 99, Quick::NextFree),
            Cb::Confirm(pid, 123_456_789, 99_999_999_999),
            Cb::Approve(pid, 7),
            Cb::QueuePage(1000),
            Cb::DraftsPage(u32::MAX),
            Cb::HistoryPage(3),
            Cb::SetRole(uid, Role::Viewer),
            Cb::Workspace(TenantId::new()),
            Cb::Language("uk".into()),
            Cb::TargetPublished(tid),
            Cb::TargetRetry(tid),
            Cb::TargetSkip(tid),
        ];
        for cb in all {
            let data = cb.encode();
            assert!(data.len() <= 64, "{data} is {} bytes", data.len());
            assert_eq!(Cb::decode(&data), Some(cb));
        }
    }

    #[test]
    fn garbage_does_not_decode() {
        for bad in ["", "zz", "dg:notanid:1", "ap:AAAA:1", "sq:x", "tp:", "iv:q"] {
            assert_eq!(Cb::decode(bad), None, "{bad}");
        }
    }
}

#[cfg(test)]
mod props {
    use super::*;
    use proptest::prelude::*;
    use tochen_telegram::callback::MAX_CALLBACK_BYTES;

    fn uuid() -> impl Strategy<Value = uuid::Uuid> {
        any::<u128>().prop_map(uuid::Uuid::from_u128)
    }

    /// Post versions count up from 1; a time is a moment chrono can hold, in milliseconds.
    fn version() -> impl Strategy<Value = i64> {
        prop_oneof![0i64..1_000, 0i64..=i64::MAX]
    }

    fn millis() -> impl Strategy<Value = i64> {
        let (min, max) = (chrono::DateTime::<chrono::Utc>::MIN_UTC, chrono::DateTime::<chrono::Utc>::MAX_UTC);
        prop_oneof![1_700_000_000_000i64..2_100_000_000_000, min.timestamp_millis()..=max.timestamp_millis()]
    }

    fn role() -> impl Strategy<Value = Role> {
        prop::sample::select(vec![Role::Admin, Role::Editor, Role::Viewer])
    }

    fn button() -> impl Strategy<Value = Cb> {
        let post = || uuid().prop_map(PostId::from_uuid);
        let user = || uuid().prop_map(UserId::from_uuid);
        let target = || uuid().prop_map(TargetId::from_uuid);
        let act = prop::sample::select(DRAFT_ACTS.iter().map(|(a, _)| *a).collect::<Vec<_>>());
        let quick = prop::sample::select(QUICKS.iter().map(|(q, _)| *q).collect::<Vec<_>>());
        prop_oneof![
            prop::sample::select(vec![
                Cb::Skip,
                Cb::TzKeep,
                Cb::TzChange,
                Cb::MenuIdeas,
                Cb::MenuInvite,
                Cb::MenuConnect,
                Cb::MoreIdeas,
                Cb::NewWorkspace,
            ]),
            any::<u8>().prop_map(Cb::Tone),
            any::<u8>().prop_map(Cb::ContentLang),
            any::<u8>().prop_map(Cb::Idea),
            (act, post(), version()).prop_map(|(a, p, v)| Cb::Draft(a, p, v)),
            (post(), version(), any::<u8>()).prop_map(|(p, v, i)| Cb::ToggleAccount(p, v, i)),
            (post(), version(), quick).prop_map(|(p, v, q)| Cb::When(p, v, q)),
            (post(), version(), millis()).prop_map(|(p, v, at)| Cb::Confirm(p, v, at)),
            (post(), version()).prop_map(|(p, v)| Cb::Approve(p, v)),
            (post(), version()).prop_map(|(p, v)| Cb::Reject(p, v)),
            any::<u32>().prop_map(Cb::QueuePage),
            post().prop_map(Cb::QueueItem),
            (post(), version()).prop_map(|(p, v)| Cb::Reschedule(p, v)),
            (post(), version()).prop_map(|(p, v)| Cb::CancelPost(p, v)),
            (post(), version()).prop_map(|(p, v)| Cb::PublishNow(p, v)),
            role().prop_map(Cb::InviteRole),
            user().prop_map(Cb::Member),
            (user(), role()).prop_map(|(u, r)| Cb::SetRole(u, r)),
            user().prop_map(Cb::RemoveMember),
            uuid().prop_map(|t| Cb::Workspace(TenantId::from_uuid(t))),
            prop::sample::select(tochen_domain::i18n::LANGUAGES.to_vec()).prop_map(|l| Cb::Language(l.to_owned())),
            target().prop_map(Cb::TargetPublished),
            target().prop_map(Cb::TargetRetry),
            target().prop_map(Cb::TargetSkip),
        ]
    }

    /// Data a client could send: real prefixes with random fields, random fields of the right shapes, bytes.
    fn data() -> impl Strategy<Value = String> {
        let prefixes = vec![
            "sk", "to", "cl", "tz", "mn", "id", "im", "da", "sq", "sc", "ap", "rj", "qp", "qi", "qr", "qc", "qn", "iv",
            "tm", "mr", "mx", "ws", "wn", "lg", "tp", "tr", "ts", "dg", "de", "dx", "d", "dé",
        ];
        let field = prop_oneof!["[A-Za-z0-9_-]{22}", "-?[0-9]{1,25}", "[a-z]{0,3}", "\\PC{0,8}", Just(String::new())];
        prop_oneof![
            (prop::sample::select(prefixes), prop::collection::vec(field, 0..5)).prop_map(|(p, fs)| std::iter::once(
                p.to_owned()
            )
            .chain(fs)
            .collect::<Vec<_>>()
            .join(":")),
            "\\PC{0,64}",
            button().prop_map(|b| b.encode()),
        ]
    }

    proptest! {
        #![proptest_config(tochen_testkit::props::config(1024))]

        #[test]
        fn every_button_round_trips_within_64_bytes(b in button()) {
            let data = b.encode();
            prop_assert!(data.len() <= MAX_CALLBACK_BYTES, "{} is {} bytes", data, data.len());
            prop_assert_eq!(Cb::decode(&data), Some(b));
        }

        /// Decoding what a client sends never panics, and whatever decodes from data within Telegram's 64 bytes
        /// encodes back to a button that decodes the same (meaning, not spelling: `007` is `7`).
        #[test]
        fn decoding_any_data_never_panics(data in data()) {
            let decoded = Cb::decode(&data);
            if let Some(b) = decoded.filter(|_| data.len() <= MAX_CALLBACK_BYTES) {
                let again = b.encode();
                prop_assert_eq!(Cb::decode(&again), Some(b));
            }
        }
    }
}
