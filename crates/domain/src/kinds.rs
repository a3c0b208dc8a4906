//! Domain vocabulary shared by every crate: roles, platforms and the states things move through.
//!
//! Each enum is stored as lowercase text; `as_str` and `parse` are the only conversions, so the database, callback
//! data and logs all spell a value the same way.

use serde::{Deserialize, Serialize};

macro_rules! text_enum {
    ($(#[$meta:meta])* $name:ident { $($variant:ident = $text:literal),+ $(,)? }) => {
        $(#[$meta])*
        #[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
        pub enum $name { $(#[serde(rename = $text)] $variant),+ }

        impl $name {
            pub const ALL: &'static [$name] = &[$($name::$variant),+];

            pub fn as_str(self) -> &'static str {
                match self { $($name::$variant => $text),+ }
            }

            pub fn parse(s: &str) -> Option<Self> {
                match s { $($text => Some($name::$variant),)+ _ => None }
            }
        }

        impl std::fmt::Display for $name {
            fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
                f.write_str(self.as_str())
            }
        }
    };
}

text_enum!(
    /// What a member may do in a workspace. Ordered: admin > editor > viewer.
    Role { Admin = "admin", Editor = "editor", Viewer = "viewer" }
);

impl Role {
    fn rank(self) -> u8 {
        match self {
            Role::Admin => 3,
            Role::Editor => 2,
            Role::Viewer => 1,
        }
    }

    /// True when this role may do what `required` may.
    pub fn at_least(self, required: Role) -> bool {
        self.rank() >= required.rank()
    }
}

text_enum!(
    /// What a workspace API token may do: read (lists, stats), write (drafts, edits, the queue), publish (schedule
    /// and publish; an editor's token still sends posts to approval).
    ApiScope { Read = "read", Write = "write", Publish = "publish" }
);

text_enum!(Platform { Facebook = "facebook", Instagram = "instagram", TikTok = "tiktok" });

impl Platform {
    /// The platform's name as people write it ("Facebook", "TikTok"), for messages, reports and charts;
    /// [`Platform::as_str`] is the lower-case identifier.
    pub fn name(self) -> &'static str {
        match self {
            Platform::Facebook => "Facebook",
            Platform::Instagram => "Instagram",
            Platform::TikTok => "TikTok",
        }
    }
}

text_enum!(
    /// How an account was connected; it decides which API host and refresh rules apply. Sandbox accounts publish
    /// to a simulated platform inside tochen, under the real platform's rules.
    AuthKind {
        FacebookPage = "facebook_page",
        InstagramViaPage = "instagram_page",
        InstagramLogin = "instagram_login",
        TikTok = "tiktok",
        SandboxFacebook = "sandbox_facebook",
        SandboxInstagram = "sandbox_instagram",
        SandboxTikTok = "sandbox_tiktok",
    }
);

impl AuthKind {
    /// A short code for the kind, stable forever: inline buttons already sent carry it (`cnk:<code>`), so a code
    /// is never changed or reused.
    pub fn code(self) -> &'static str {
        use AuthKind::*;
        match self {
            FacebookPage => "fb",
            InstagramViaPage => "igp",
            InstagramLogin => "igl",
            TikTok => "tt",
            SandboxFacebook => "sfb",
            SandboxInstagram => "sig",
            SandboxTikTok => "stt",
        }
    }

    /// Whether accounts of this kind are sandbox accounts (simulated, marked 🧪 wherever they are shown).
    pub fn is_sandbox(self) -> bool {
        matches!(self, AuthKind::SandboxFacebook | AuthKind::SandboxInstagram | AuthKind::SandboxTikTok)
    }

    /// Whether the provider has an endpoint to revoke a grant. Instagram Login has none (its token is only
    /// deleted, and expires on its own); a sandbox account has no provider.
    pub fn revocable(self) -> bool {
        !matches!(self, AuthKind::InstagramLogin) && !self.is_sandbox()
    }

    /// The auth kinds that share one grant at the provider: Facebook Pages and Instagram via a Page both come from
    /// a Facebook user's login; every other kind stands alone.
    pub fn same_grant(self) -> &'static [AuthKind] {
        use AuthKind::*;
        match self {
            FacebookPage | InstagramViaPage => &[FacebookPage, InstagramViaPage],
            InstagramLogin => &[InstagramLogin],
            TikTok => &[TikTok],
            SandboxFacebook => &[SandboxFacebook],
            SandboxInstagram => &[SandboxInstagram],
            SandboxTikTok => &[SandboxTikTok],
        }
    }
}

text_enum!(AccountStatus { Active = "active", NeedsReconnect = "needs_reconnect", Disconnected = "disconnected" });

text_enum!(PostStatus {
    Draft = "draft",
    PendingApproval = "pending_approval",
    Scheduled = "scheduled",
    Publishing = "publishing",
    Published = "published",
    PartiallyPublished = "partially_published",
    Failed = "failed",
    Cancelled = "cancelled",
    Rejected = "rejected",
});

text_enum!(
    /// `publishing` is committed before the platform call; `unknown` means the call was sent but its outcome was
    /// never seen, so it must not be re-sent blindly.
    TargetStatus {
        Pending = "pending",
        Publishing = "publishing",
        Published = "published",
        Failed = "failed",
        Unknown = "unknown",
        Cancelled = "cancelled",
    }
);

text_enum!(MediaKind { Image = "image", Video = "video" });

text_enum!(DestinationKind { Telegram = "telegram", Webhook = "webhook", Email = "email" });

text_enum!(DestinationStatus { Active = "active", Inactive = "inactive", Disabled = "disabled" });

text_enum!(AutomationStatus { Active = "active", Paused = "paused" });

text_enum!(
    /// What happens to cron slots that passed while no scheduler ran.
    MissedRunPolicy { Skip = "skip", RunOnce = "run_once", CatchUp = "catch_up" }
);

text_enum!(RunOutcome { Running = "running", Success = "success", Failed = "failed", Skipped = "skipped" });

text_enum!(JobState {
    Queued = "queued",
    Running = "running",
    Succeeded = "succeeded",
    Failed = "failed",
    Dead = "dead",
    Cancelled = "cancelled",
});

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn an_active_campaign_past_its_end_is_finished_and_final_item_statuses_are_final() {
        assert_eq!(CampaignStatus::Active.effective(Some(10), 9), CampaignStatus::Active);
        assert_eq!(CampaignStatus::Active.effective(Some(10), 10), CampaignStatus::Finished);
        assert_eq!(CampaignStatus::Active.effective(None, 10), CampaignStatus::Active);
        assert_eq!(CampaignStatus::Archived.effective(Some(1), 10), CampaignStatus::Archived);
        assert_eq!(CampaignStatus::Draft.effective(Some(1), 10), CampaignStatus::Draft);
        let open: Vec<_> = BatchItemStatus::ALL.iter().filter(|s| !s.is_final()).collect();
        assert_eq!(open, [&BatchItemStatus::Pending, &BatchItemStatus::Running]);
    }

    #[test]
    fn every_auth_kind_has_its_own_short_code() {
        let codes: std::collections::BTreeSet<&str> = AuthKind::ALL.iter().map(|k| k.code()).collect();
        assert_eq!(codes.len(), AuthKind::ALL.len());
        assert!(codes.iter().all(|c| !c.is_empty() && c.len() <= 4 && !c.contains(':')));
        // Buttons already sent carry these: they never change.
        assert_eq!((AuthKind::FacebookPage.code(), AuthKind::TikTok.code()), ("fb", "tt"));
    }

    #[test]
    fn roles_are_ordered() {
        assert!(Role::Admin.at_least(Role::Editor));
        assert!(Role::Editor.at_least(Role::Editor));
        assert!(!Role::Viewer.at_least(Role::Editor));
        assert!(!Role::Editor.at_least(Role::Admin));
    }

    #[test]
    fn serde_spells_values_like_the_database() {
        assert_eq!(serde_json::to_value(Platform::TikTok).unwrap(), "tiktok");
        assert_eq!(serde_json::to_value(AuthKind::InstagramViaPage).unwrap(), "instagram_page");
        assert_eq!(serde_json::from_value::<Platform>("tiktok".into()).unwrap(), Platform::TikTok);
    }

    #[test]
    fn text_round_trips() {
        for s in TargetStatus::ALL {
            assert_eq!(TargetStatus::parse(s.as_str()), Some(*s));
        }
        assert_eq!(Platform::parse("myspace"), None);
    }
}

text_enum!(
    /// Where a campaign is (issue 18). `Active` past its end date shows as `Finished` ([`CampaignStatus::effective`]);
    /// `Archived` is the soft delete: its posts and batch history are kept.
    CampaignStatus { Draft = "draft", Active = "active", Finished = "finished", Archived = "archived" }
);

impl CampaignStatus {
    /// The status to show at `now`: an active campaign whose end has passed is finished.
    pub fn effective(self, ends_at: Option<i64>, now: i64) -> Self {
        match (self, ends_at) {
            (CampaignStatus::Active, Some(end)) if end <= now => CampaignStatus::Finished,
            (s, _) => s,
        }
    }
}

text_enum!(
    /// Where a generation batch is. `Running` until every item ended; `Cancelled` by a person (the items not yet
    /// made are cancelled, the drafts made stay); `QuotaStopped` when the workspace's LLM quota ran out.
    BatchStatus { Running = "running", Finished = "finished", Cancelled = "cancelled", QuotaStopped = "quota_stopped" }
);

text_enum!(
    /// One item of a batch. `Pending` and `Running` are open; the others are final and each item reaches exactly
    /// one of them once (a retry of a failed item opens it again).
    BatchItemStatus {
        Pending = "pending",
        Running = "running",
        Done = "done",
        Failed = "failed",
        Cancelled = "cancelled",
        Skipped = "skipped",
    }
);

impl BatchItemStatus {
    /// Final: the item will not run again unless a person retries it.
    pub fn is_final(self) -> bool {
        !matches!(self, BatchItemStatus::Pending | BatchItemStatus::Running)
    }
}
