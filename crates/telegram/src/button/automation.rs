//! The destination and automation management buttons: `a:<op>:<uuid as 32 hex>[:<n>]`.

use tochen_domain::{AutomationId, DeliveryId, DestinationId};
use uuid::Uuid;

pub(super) const PREFIX: &str = "a:";

/// A button of `/destinations` and `/automations`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Automation {
    DestinationLog(DestinationId),
    DestinationEnable(DestinationId),
    DestinationDelete(DestinationId),
    /// "Send test": a signed `ping` to a webhook, a short message to a chat or an address.
    DestinationTest(DestinationId),
    /// The event filter screen of a webhook destination.
    DestinationEvents(DestinationId),
    /// Switches one event type (by its index in the bot's list of event types) on or off.
    DestinationEvent(DestinationId, u8),
    /// Back to "every event, including types added later".
    DestinationEventsAll(DestinationId),
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
            Self::DestinationTest(d) => ("dt", d.as_uuid()),
            Self::DestinationEvents(d) => ("dv", d.as_uuid()),
            Self::DestinationEvent(d, n) => return format!("{PREFIX}dy:{}:{n}", d.as_uuid().simple()),
            Self::DestinationEventsAll(d) => ("da", d.as_uuid()),
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
        let (op, rest) = body.split_once(':')?;
        if op == "dy" {
            let (id, digits) = rest.split_once(':')?;
            // Only the spelling `encode` writes ("7", not "07" or "+7"), so one button has one spelling.
            let n: u8 = digits.parse().ok().filter(|n: &u8| n.to_string() == digits)?;
            return Some(Self::DestinationEvent(DestinationId::from_uuid(Uuid::try_parse(id).ok()?), n));
        }
        let id = Uuid::try_parse(rest).ok()?;
        Some(match op {
            "dl" => Self::DestinationLog(DestinationId::from_uuid(id)),
            "de" => Self::DestinationEnable(DestinationId::from_uuid(id)),
            "dd" => Self::DestinationDelete(DestinationId::from_uuid(id)),
            "dt" => Self::DestinationTest(DestinationId::from_uuid(id)),
            "dv" => Self::DestinationEvents(DestinationId::from_uuid(id)),
            "da" => Self::DestinationEventsAll(DestinationId::from_uuid(id)),
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
