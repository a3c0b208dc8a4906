//! Typed ids. A `TenantId` cannot be passed where a `PostId` is expected, and every tenant-owned store call takes
//! a `TenantId` first.
//!
//! Ids are UUIDv7 (time-ordered, so new rows append to indexes) stored as text.

use serde::{Deserialize, Serialize};
use std::fmt;
use uuid::Uuid;

/// A stored id that is not a uuid: the database holds something tochen never wrote (the store reports it as
/// corrupt data).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CorruptId(pub String);

impl fmt::Display for CorruptId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

impl std::error::Error for CorruptId {}

macro_rules! id_type {
    ($(#[$meta:meta])* $name:ident) => {
        $(#[$meta])*
        #[derive(Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
        #[serde(transparent)]
        pub struct $name(Uuid);

        impl $name {
            /// A new, time-ordered id.
            pub fn new() -> Self {
                Self(Uuid::now_v7())
            }

            /// Parses the text form; `None` for anything that is not a UUID.
            pub fn parse(s: &str) -> Option<Self> {
                Uuid::parse_str(s).ok().map(Self)
            }

            pub fn from_uuid(u: Uuid) -> Self {
                Self(u)
            }

            pub fn as_uuid(&self) -> Uuid {
                self.0
            }

            /// The text stored in the database.
            pub fn to_db(&self) -> String {
                self.0.to_string()
            }

            /// Reads the stored text; a malformed value in the database is a store bug, reported as such.
            pub fn from_db(s: &str) -> Result<Self, CorruptId> {
                Self::parse(s).ok_or_else(|| CorruptId(format!("{} {s:?} is not a uuid", stringify!($name))))
            }
        }

        impl Default for $name {
            fn default() -> Self {
                Self::new()
            }
        }

        impl fmt::Display for $name {
            fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                fmt::Display::fmt(&self.0, f)
            }
        }

        impl fmt::Debug for $name {
            fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                write!(f, "{}({})", stringify!($name), self.0)
            }
        }
    };
}

id_type!(/// A team's workspace.
    TenantId);
id_type!(/// A person, as known by Telegram.
    UserId);
id_type!(/// A one-time invite link.
    InviteId);
id_type!(/// A workspace API token.
    ApiTokenId);
id_type!(/// A connected Facebook Page, Instagram account or TikTok creator.
    AccountId);
id_type!(/// A connected ad account (Meta `act_...` or TikTok advertiser).
    AdAccountId);
id_type!(CampaignId);
id_type!(/// A generation batch of a campaign (issue 18).
    BatchId);
id_type!(/// One post to generate in a batch.
    BatchItemId);
id_type!(PostId);
id_type!(/// One (post, account) pair: the unit that gets published.
    TargetId);
id_type!(MediaId);
id_type!(DestinationId);
id_type!(AutomationId);
id_type!(AutomationRunId);
id_type!(JobId);
id_type!(DeliveryId);

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ids_round_trip_through_text() {
        let id = PostId::new();
        assert_eq!(PostId::parse(&id.to_db()), Some(id));
        assert_eq!(PostId::parse("not-a-uuid"), None);
    }

    #[test]
    fn new_ids_are_time_ordered() {
        let a = JobId::new();
        let b = JobId::new();
        assert!(a.to_db() < b.to_db());
    }
}
