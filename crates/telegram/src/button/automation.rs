//! The destination and automation management buttons: `a:<op>:<uuid as 32 hex>`.

use tochen_domain::{AutomationId, DeliveryId, DestinationId};
use uuid::Uuid;

pub(super) const PREFIX: &str = "a:";

/// A button of `/destinations` and `/automations`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Automation {
    DestinationLog(DestinationId),
    DestinationEnable(DestinationId),
    DestinationDelete(DestinationId),
    Replay(DeliveryId),
    RunNow(AutomationId),
    Pause(AutomationId),
    Resume(AutomationId),
    History(AutomationId),
    Delete(AutomationId),
    Edit(AutomationId),
}

impl Automation {
    pub(super) fn encode(&self) -> String {
        let (op, id) = match self {
            Self::DestinationLog(d) => ("dl", d.as_uuid()),
            Self::DestinationEnable(d) => ("de", d.as_uuid()),
            Self::DestinationDelete(d) => ("dd", d.as_uuid()),
            Self::Replay(d) => ("rp", d.as_uuid()),
            Self::RunNow(a) => ("ar", a.as_uuid()),
            Self::Pause(a) => ("ap", a.as_uuid()),
            Self::Resume(a) => ("au", a.as_uuid()),
            Self::History(a) => ("ah", a.as_uuid()),
            Self::Delete(a) => ("ax", a.as_uuid()),
            Self::Edit(a) => ("ae", a.as_uuid()),
        };
        format!("{PREFIX}{op}:{}", id.simple())
    }

    /// Decodes what follows `a:`.
    pub(super) fn decode(body: &str) -> Option<Self> {
        let (op, id) = body.split_once(':')?;
        let id = Uuid::try_parse(id).ok()?;
        Some(match op {
            "dl" => Self::DestinationLog(DestinationId::from_uuid(id)),
            "de" => Self::DestinationEnable(DestinationId::from_uuid(id)),
            "dd" => Self::DestinationDelete(DestinationId::from_uuid(id)),
            "rp" => Self::Replay(DeliveryId::from_uuid(id)),
            "ar" => Self::RunNow(AutomationId::from_uuid(id)),
            "ap" => Self::Pause(AutomationId::from_uuid(id)),
            "au" => Self::Resume(AutomationId::from_uuid(id)),
            "ah" => Self::History(AutomationId::from_uuid(id)),
            "ax" => Self::Delete(AutomationId::from_uuid(id)),
            "ae" => Self::Edit(AutomationId::from_uuid(id)),
            _ => return None,
        })
    }
}
