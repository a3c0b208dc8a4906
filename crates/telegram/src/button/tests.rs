use super::wizard::{Opt, Section};
use super::*;
use tochen_domain::ids::{AccountId, JobId};
use tochen_domain::{
    AuthKind, AutomationId, DeliveryId, DestinationId, Platform, PostId, Role, TargetId, TenantId, UserId,
};
use uuid::Uuid;

/// The latest moment chrono can hold, in milliseconds (a time on a button is in seconds, so this is beyond any).
const LATEST_MILLIS: i64 = 8_210_266_876_799_999;

/// One button of every variant of every flow, with the longest fields each can carry.
fn every_variant() -> Vec<Button> {
    let (pid, uid, tid) = (PostId::new(), UserId::new(), TargetId::new());
    let (aid, did) = (AutomationId::new(), DestinationId::new());
    let mut all: Vec<Button> = vec![
        Onboarding::Skip.into(),
        Onboarding::Tone(u8::MAX).into(),
        Onboarding::ContentLang(u8::MAX).into(),
        Onboarding::TzKeep.into(),
        Onboarding::TzChange.into(),
        Menu::Ideas.into(),
        Menu::Invite.into(),
        Menu::Connect.into(),
        Ideas::Pick(u8::MAX).into(),
        Ideas::More.into(),
        Draft::ToggleAccount(pid, i64::MIN, u8::MAX).into(),
        Schedule::Confirm(pid, i64::MAX, LATEST_MILLIS).into(),
        Approval::Approve(pid, i64::MIN).into(),
        Approval::Reject(pid, i64::MIN).into(),
        Queue::Page(u32::MAX).into(),
        Queue::DraftsPage(u32::MAX).into(),
        Queue::HistoryPage(u32::MAX).into(),
        Queue::Item(pid).into(),
        Queue::Reschedule(pid, i64::MIN).into(),
        Queue::Cancel(pid, i64::MIN).into(),
        Queue::PublishNow(pid, i64::MIN).into(),
        Queue::Earlier(pid, i64::MIN).into(),
        Queue::Later(pid, i64::MIN).into(),
        Team::InviteRole(Role::Admin).into(),
        Team::Member(uid).into(),
        Team::SetRole(uid, Role::Viewer).into(),
        Team::RemoveMember(uid).into(),
        Team::Workspace(TenantId::new()).into(),
        Team::NewWorkspace.into(),
        Team::Language("uk".into()).into(),
        ApiTokens::List.into(),
        ApiTokens::New.into(),
        ApiTokens::Settings(TokenSettings { role: Role::Editor, scopes: 7, expiry_days: u16::MAX }).into(),
        ApiTokens::Create(TokenSettings { role: Role::Viewer, scopes: 0, expiry_days: 0 }).into(),
        ApiTokens::Revoke(tochen_domain::ApiTokenId::new()).into(),
        Target::Published(tid).into(),
        Target::Retry(tid).into(),
        Target::Skip(tid).into(),
        Connect::Pick { pending: Uuid::max().simple().to_string(), index: usize::MAX }.into(),
        Connect::Disconnect(AccountId::new()).into(),
        Connect::Reconnect(AccountId::new()).into(),
        Connect::Alerts('c').into(),
        Connect::Alerts('r').into(),
        Automation::DestinationLog(did).into(),
        Automation::DestinationEnable(did).into(),
        Automation::DestinationDelete(did).into(),
        Automation::DestinationTest(did).into(),
        Automation::DestinationEvents(did).into(),
        Automation::DestinationEvent(did, u8::MAX).into(),
        Automation::DestinationEventsAll(did).into(),
        Automation::Replay(DeliveryId::new()).into(),
        Automation::RunNow(aid).into(),
        Automation::Pause(aid).into(),
        Automation::Resume(aid).into(),
        Automation::History(aid).into(),
        Automation::Delete(aid).into(),
        Automation::Edit(aid).into(),
        Wizard::TypeCron.into(),
        Wizard::TzKeep.into(),
        Wizard::TzType.into(),
        Wizard::Toggle(did).into(),
        Wizard::Period(366).into(),
        Wizard::SkipEmpty.into(),
        Wizard::Next.into(),
        Wizard::Save.into(),
        Wizard::Back.into(),
        Wizard::Cancel.into(),
        Admin::Home.into(),
        Admin::Workspaces(u32::MAX).into(),
        Admin::Workspace(TenantId::new()).into(),
        Admin::Quota(TenantId::new()).into(),
        Admin::Suspend(TenantId::new()).into(),
        Admin::SuspendConfirmed(TenantId::new()).into(),
        Admin::Resume(TenantId::new()).into(),
        Admin::Costs.into(),
        Admin::Health.into(),
        Admin::RetryAll.into(),
        Admin::Retry(JobId::new()).into(),
        Admin::NewLink.into(),
    ];
    all.extend(DraftAct::ALL.map(|a| Button::Draft(Draft::Act(a, pid, i64::MIN))));
    for p in Platform::ALL {
        all.extend(VersionAct::ALL.map(|a| Button::Draft(Draft::Version(pid, i64::MIN, a, *p))));
    }
    all.extend(MediaAct::ALL.map(|a| Button::Draft(Draft::MediaItem(pid, i64::MIN, a, u8::MAX))));
    all.push(Menu::NewPost.into());
    all.extend(super::published::every_variant().into_iter().map(Button::Published));
    all.extend(super::library::every_variant().into_iter().map(Button::Library));
    all.extend(super::stats::every_variant().into_iter().map(Button::Stats));
    all.extend(super::calendar::every_variant().into_iter().map(Button::Calendar));
    all.extend(super::slots::every_variant().into_iter().map(Button::Slots));
    all.extend(super::campaign::every_variant().into_iter().map(Button::Campaign));
    all.extend(Quick::ALL.map(|q| Button::Schedule(Schedule::When(pid, i64::MIN, q))));
    all.extend(AuthKind::ALL.iter().map(|k| Button::Connect(Connect::Start(*k))));
    all.extend(wizard::KINDS.map(|k| Button::Wizard(Wizard::Kind(k.into()))));
    all.extend(wizard::PRESETS.map(|p| Button::Wizard(Wizard::Preset(p.into()))));
    all.extend(Opt::ALL.map(|o| Button::Wizard(Wizard::Ask(o))));
    all.extend([
        Button::Wizard(Wizard::Rule(0)),
        Button::Wizard(Wizard::Rule(u8::MAX)),
        Button::Wizard(Wizard::Rename),
        Button::Wizard(Wizard::Campaign(None)),
        Button::Wizard(Wizard::Campaign(Some(tochen_domain::CampaignId::new()))),
    ]);
    all.extend(
        [Section::Schedule, Section::Timezone, Section::Destinations, Section::Options, Section::Name]
            .map(|s| Button::Wizard(Wizard::Menu(s))),
    );
    all
}

#[test]
fn every_button_round_trips_and_fits_64_bytes() {
    let mut longest = 0;
    for b in every_variant() {
        let data = b.encode();
        longest = longest.max(data.len());
        assert!(data.len() <= MAX_CALLBACK_BYTES, "{data} is {} bytes", data.len());
        assert_eq!(Button::decode(&data), Some(b), "{data}");
    }
    // The longest case: `sc:<post>:<the largest version>:<the latest time chrono holds, in milliseconds>`.
    assert_eq!(longest, 2 + 1 + 22 + 1 + 19 + 1 + 16);
}

/// The strings buttons already sent in chats carry: they must keep decoding to the same buttons.
#[test]
fn callback_data_is_spelled_as_before() {
    let post = PostId::from_uuid(Uuid::from_u128(1));
    let packed = pack_uuid(post.as_uuid());
    assert_eq!(packed, "AAAAAAAAAAAAAAAAAAAAAQ");
    let id = Uuid::from_u128(2);
    let cases: Vec<(Button, String)> = vec![
        (Onboarding::Skip.into(), "sk".into()),
        (Onboarding::Tone(2).into(), "to:2".into()),
        (Onboarding::ContentLang(4).into(), "cl:4".into()),
        (Onboarding::TzKeep.into(), "tz:k".into()),
        (Onboarding::TzChange.into(), "tz:c".into()),
        (Menu::Ideas.into(), "mn:i".into()),
        (Menu::Invite.into(), "mn:v".into()),
        (Menu::Connect.into(), "mn:c".into()),
        (Ideas::Pick(3).into(), "id:3".into()),
        (Ideas::More.into(), "im".into()),
        (Draft::Act(DraftAct::Regenerate, post, 7).into(), format!("dg:{packed}:7")),
        (Draft::Act(DraftAct::Attach, post, 7).into(), format!("da:{packed}:7")),
        (Draft::Act(DraftAct::Show, post, 7).into(), format!("do:{packed}:7")),
        (Draft::ToggleAccount(post, 7, 1).into(), format!("da:{packed}:7:1")),
        (Draft::Act(DraftAct::Media, post, 7).into(), format!("dm:{packed}:7")),
        (Draft::Act(DraftAct::Versions, post, 7).into(), format!("dv:{packed}:7")),
        (Draft::Act(DraftAct::Hashtags, post, 7).into(), format!("dt:{packed}:7")),
        (Draft::Version(post, 7, VersionAct::Edit, Platform::Instagram).into(), format!("dV:{packed}:7:e:instagram")),
        (Draft::MediaItem(post, 7, MediaAct::Earlier, 2).into(), format!("dM:{packed}:7:u:2")),
        (Menu::NewPost.into(), "mn:n".into()),
        (Schedule::When(post, 7, Quick::Queue).into(), format!("sq:{packed}:7:f")),
        (Schedule::When(post, 7, Quick::Best).into(), format!("sq:{packed}:7:b")),
        (Schedule::Confirm(post, 7, 1_700_000_000).into(), format!("sc:{packed}:7:1700000000")),
        (Approval::Approve(post, 7).into(), format!("ap:{packed}:7")),
        (Approval::Reject(post, 7).into(), format!("rj:{packed}:7")),
        (Queue::Page(2).into(), "qp:2".into()),
        (Queue::DraftsPage(2).into(), "ld:2".into()),
        (Queue::HistoryPage(2).into(), "lh:2".into()),
        (Queue::Item(post).into(), format!("qi:{packed}")),
        (Queue::Reschedule(post, 7).into(), format!("qr:{packed}:7")),
        (Queue::Cancel(post, 7).into(), format!("qc:{packed}:7")),
        (Queue::PublishNow(post, 7).into(), format!("qn:{packed}:7")),
        (Team::InviteRole(Role::Editor).into(), "iv:e".into()),
        (Team::SetRole(UserId::from_uuid(post.as_uuid()), Role::Admin).into(), format!("mr:{packed}:a")),
        (Team::NewWorkspace.into(), "wn".into()),
        (Team::Language("de".into()).into(), "lg:de".into()),
        (Target::Published(TargetId::from_uuid(post.as_uuid())).into(), format!("tp:{packed}")),
        (Target::Retry(TargetId::from_uuid(post.as_uuid())).into(), format!("tr:{packed}")),
        (Target::Skip(TargetId::from_uuid(post.as_uuid())).into(), format!("ts:{packed}")),
        (Connect::Start(AuthKind::InstagramLogin).into(), "cnk:igl".into()),
        (Connect::Pick { pending: "abc".into(), index: 3 }.into(), "cnp:abc:3".into()),
        (Connect::Alerts('r').into(), "cna:r".into()),
        (Automation::Pause(AutomationId::from_uuid(id)).into(), format!("a:ap:{}", id.simple())),
        (Automation::Replay(DeliveryId::from_uuid(id)).into(), format!("a:rp:{}", id.simple())),
        (Wizard::Toggle(DestinationId::from_uuid(id)).into(), format!("aw:d:{}", id.simple())),
        (Wizard::Ask(Opt::CooldownHours).into(), "aw:o:cd".into()),
        (Wizard::Menu(Section::Options).into(), "aw:m:o".into()),
        (Wizard::Cancel.into(), "aw:x".into()),
        (Admin::Home.into(), "op:h".into()),
        (Admin::Workspaces(3).into(), "op:w:3".into()),
        (Admin::Workspace(TenantId::from_uuid(post.as_uuid())).into(), format!("op:t:{packed}")),
        (Admin::SuspendConfirmed(TenantId::from_uuid(post.as_uuid())).into(), format!("op:sy:{packed}")),
        (Admin::Retry(JobId::from_uuid(post.as_uuid())).into(), format!("op:rj:{packed}")),
        (Admin::RetryAll.into(), "op:ra".into()),
        (Admin::NewLink.into(), "op:n".into()),
        (Calendar::Show(CalendarView::Week, 20_795).into(), "cvs:w:20795".into()),
        (Calendar::Today(CalendarView::Month).into(), "cvt:m".into()),
        (Calendar::Day(20_796).into(), "cvd:20796".into()),
        (Calendar::DayPage(20_796, 2).into(), "cvp:20796:2".into()),
    ];
    for (b, data) in cases {
        assert_eq!(b.encode(), data);
        assert_eq!(Button::decode(&data), Some(b));
    }
}

#[test]
fn garbage_does_not_decode() {
    for bad in [
        "",
        "zz",
        "dg:notanid:1",
        "ap:AAAA:1",
        "sq:x",
        "tp:",
        "iv:q",
        "cnk:zz",
        "tp:abc",
        "a:zz:00000000000000000000000000000000",
        "aw:k:delete_everything",
        "aw:pd:0",
        "mn:z",
        "op",
        "op:zz",
        "op:w:x",
        "op:t:abc",
        "op:h:1",
        "tks:a:8:0",
        "tkc:q:1:0",
        "tkc:a:1:-1",
        "tkx:zz",
    ] {
        assert_eq!(Button::decode(bad), None, "{bad}");
    }
}

#[test]
fn uuids_pack_into_22_chars_and_back() {
    let id = Uuid::now_v7();
    let packed = pack_uuid(id);
    assert_eq!(packed.len(), 22);
    assert_eq!(unpack_uuid(&packed), Some(id));
    assert_eq!(unpack_uuid("garbage!"), None);
}
