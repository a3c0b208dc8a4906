//! Property tests of the callback data (run with `--lib props`; `TOCHEN_PROPTEST_CASES` sets the long mode).

use super::wizard::{Opt, Section, KINDS, PRESETS};
use super::*;
use proptest::prelude::*;
use tochen_domain::ids::AccountId;
use tochen_domain::{AuthKind, AutomationId, DeliveryId, DestinationId, PostId, Role, TargetId, TenantId, UserId};
use uuid::Uuid;

fn uuid() -> impl Strategy<Value = Uuid> {
    any::<u128>().prop_map(Uuid::from_u128)
}

/// Post versions count up from 1; a time is a moment chrono can hold (its range in milliseconds is about
/// ±8.2e15, so seconds fall inside it too).
fn version() -> impl Strategy<Value = i64> {
    prop_oneof![0i64..1_000, 0i64..=i64::MAX]
}

fn moment() -> impl Strategy<Value = i64> {
    prop_oneof![1_700_000_000i64..2_100_000_000, -8_210_266_876_799_999i64..=8_210_266_876_799_999]
}

fn role() -> impl Strategy<Value = Role> {
    prop::sample::select(vec![Role::Admin, Role::Editor, Role::Viewer])
}

fn post_button() -> impl Strategy<Value = Button> {
    let post = || uuid().prop_map(PostId::from_uuid);
    let act = prop::sample::select(DraftAct::ALL.to_vec());
    let quick = prop::sample::select(Quick::ALL.to_vec());
    prop_oneof![
        (act, post(), version()).prop_map(|(a, p, v)| Draft::Act(a, p, v).into()),
        (post(), version(), any::<u8>()).prop_map(|(p, v, i)| Draft::ToggleAccount(p, v, i).into()),
        (post(), version(), quick).prop_map(|(p, v, q)| Schedule::When(p, v, q).into()),
        (post(), version(), moment()).prop_map(|(p, v, at)| Schedule::Confirm(p, v, at).into()),
        (post(), version()).prop_map(|(p, v)| Approval::Approve(p, v).into()),
        (post(), version()).prop_map(|(p, v)| Approval::Reject(p, v).into()),
        any::<u32>().prop_map(|n| Queue::Page(n).into()),
        any::<u32>().prop_map(|n| Queue::DraftsPage(n).into()),
        any::<u32>().prop_map(|n| Queue::HistoryPage(n).into()),
        post().prop_map(|p| Queue::Item(p).into()),
        (post(), version()).prop_map(|(p, v)| Queue::Reschedule(p, v).into()),
        (post(), version()).prop_map(|(p, v)| Queue::Cancel(p, v).into()),
        (post(), version()).prop_map(|(p, v)| Queue::PublishNow(p, v).into()),
    ]
}

fn team_button() -> impl Strategy<Value = Button> {
    let user = || uuid().prop_map(UserId::from_uuid);
    let target = || uuid().prop_map(TargetId::from_uuid);
    prop_oneof![
        role().prop_map(|r| Team::InviteRole(r).into()),
        user().prop_map(|u| Team::Member(u).into()),
        (user(), role()).prop_map(|(u, r)| Team::SetRole(u, r).into()),
        user().prop_map(|u| Team::RemoveMember(u).into()),
        uuid().prop_map(|t| Team::Workspace(TenantId::from_uuid(t)).into()),
        prop::sample::select(tochen_domain::i18n::LANGUAGES.to_vec()).prop_map(|l| Team::Language(l.to_owned()).into()),
        target().prop_map(|t| Target::Published(t).into()),
        target().prop_map(|t| Target::Retry(t).into()),
        target().prop_map(|t| Target::Skip(t).into()),
    ]
}

fn connect_button() -> impl Strategy<Value = Button> {
    let account = || uuid().prop_map(AccountId::from_uuid);
    prop_oneof![
        prop::sample::select(AuthKind::ALL.to_vec()).prop_map(|k| Connect::Start(k).into()),
        // A pending choice is a simple-format UUID.
        (uuid(), any::<usize>()).prop_map(|(p, index)| Connect::Pick { pending: p.simple().to_string(), index }.into()),
        account().prop_map(|a| Connect::Disconnect(a).into()),
        account().prop_map(|a| Connect::Reconnect(a).into()),
        prop::sample::select(vec!['c', 'r']).prop_map(|c| Connect::Alerts(c).into()),
    ]
}

fn automation_button() -> impl Strategy<Value = Button> {
    (uuid(), 0..10usize).prop_map(|(id, op)| {
        let b = match op {
            0 => Automation::DestinationLog(DestinationId::from_uuid(id)),
            1 => Automation::DestinationEnable(DestinationId::from_uuid(id)),
            2 => Automation::DestinationDelete(DestinationId::from_uuid(id)),
            3 => Automation::Replay(DeliveryId::from_uuid(id)),
            4 => Automation::RunNow(AutomationId::from_uuid(id)),
            5 => Automation::Pause(AutomationId::from_uuid(id)),
            6 => Automation::Resume(AutomationId::from_uuid(id)),
            7 => Automation::History(AutomationId::from_uuid(id)),
            8 => Automation::Delete(AutomationId::from_uuid(id)),
            _ => Automation::Edit(AutomationId::from_uuid(id)),
        };
        b.into()
    })
}

fn wizard_button() -> impl Strategy<Value = Button> {
    prop_oneof![
        prop::sample::select(KINDS.to_vec()).prop_map(|k| Wizard::Kind(k.to_owned()).into()),
        prop::sample::select(PRESETS.to_vec()).prop_map(|p| Wizard::Preset(p.to_owned()).into()),
        prop::sample::select(vec![
            Wizard::TypeCron,
            Wizard::TzKeep,
            Wizard::TzType,
            Wizard::SkipEmpty,
            Wizard::Next,
            Wizard::Save,
            Wizard::Back,
            Wizard::Cancel,
            Wizard::Menu(Section::Schedule),
            Wizard::Menu(Section::Timezone),
            Wizard::Menu(Section::Destinations),
            Wizard::Menu(Section::Options),
        ])
        .prop_map(Button::Wizard),
        uuid().prop_map(|n| Wizard::Toggle(DestinationId::from_uuid(n)).into()),
        (1i64..=366).prop_map(|n| Wizard::Period(n).into()),
        prop::sample::select(Opt::ALL.to_vec()).prop_map(|o| Wizard::Ask(o).into()),
    ]
}

fn admin_button() -> impl Strategy<Value = Button> {
    let tenant = || uuid().prop_map(TenantId::from_uuid);
    prop_oneof![
        prop::sample::select(vec![Admin::Home, Admin::Costs, Admin::Health, Admin::RetryAll, Admin::NewLink])
            .prop_map(Button::Admin),
        any::<u32>().prop_map(|n| Admin::Workspaces(n).into()),
        tenant().prop_map(|t| Admin::Workspace(t).into()),
        tenant().prop_map(|t| Admin::Quota(t).into()),
        tenant().prop_map(|t| Admin::Suspend(t).into()),
        tenant().prop_map(|t| Admin::SuspendConfirmed(t).into()),
        tenant().prop_map(|t| Admin::Resume(t).into()),
        uuid().prop_map(|j| Admin::Retry(tochen_domain::ids::JobId::from_uuid(j)).into()),
    ]
}

fn button() -> impl Strategy<Value = Button> {
    prop_oneof![
        prop::sample::select(vec![
            Onboarding::Skip.into(),
            Onboarding::TzKeep.into(),
            Onboarding::TzChange.into(),
            Menu::Ideas.into(),
            Menu::Invite.into(),
            Menu::Connect.into(),
            Ideas::More.into(),
            Team::NewWorkspace.into(),
        ]),
        any::<u8>().prop_map(|i| Onboarding::Tone(i).into()),
        any::<u8>().prop_map(|i| Onboarding::ContentLang(i).into()),
        any::<u8>().prop_map(|i| Ideas::Pick(i).into()),
        post_button(),
        team_button(),
        connect_button(),
        automation_button(),
        wizard_button(),
        admin_button(),
    ]
}

/// Data a client could send: real prefixes with random fields, random fields of the right shapes, bytes.
fn data() -> impl Strategy<Value = String> {
    let prefixes = vec![
        "sk", "to", "cl", "tz", "mn", "id", "im", "da", "sq", "sc", "ap", "rj", "qp", "ld", "lh", "qi", "qr", "qc",
        "qn", "iv", "tm", "mr", "mx", "ws", "wn", "lg", "tp", "tr", "ts", "dg", "de", "dx", "d", "dé", "cnk", "cnp",
        "cnd", "cnr", "cna", "op", "lbp", "lbk", "lbs", "lbf", "lba", "lbu", "lbt", "lbd", "lbi", "lbg", "qe", "ql",
        "sl", "slp", "slx", "sla", "sld", "slr", "sls", "slb",
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
        "a:[a-z]{2}:[-0-9a-fA-F{}urn:]{0,45}",
        "aw:[a-z]{0,3}(:[-+0-9a-z_]{0,36})?",
        "cn[kpdra]:[A-Za-z0-9_-]{0,34}(:[0-9]{0,22})?",
        button().prop_map(|b| b.encode()),
    ]
}

proptest! {
    #![proptest_config(tochen_testkit::props::config(1024))]

    #[test]
    fn every_button_round_trips_within_64_bytes(b in button()) {
        let data = b.encode();
        prop_assert!(data.len() <= MAX_CALLBACK_BYTES, "{} is {} bytes", data, data.len());
        prop_assert_eq!(Button::decode(&data), Some(b));
    }

    /// Decoding what a client sends never panics, and whatever decodes from data within Telegram's 64 bytes
    /// encodes back to a button that decodes the same (meaning, not spelling: `007` is `7`).
    #[test]
    fn decoding_any_data_never_panics(data in data()) {
        let decoded = Button::decode(&data);
        if let Some(b) = decoded.filter(|_| data.len() <= MAX_CALLBACK_BYTES) {
            let again = b.encode();
            prop_assert_eq!(Button::decode(&again), Some(b));
        }
    }

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
