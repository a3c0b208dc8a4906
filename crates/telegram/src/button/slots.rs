//! Buttons of `/slots` (`sl`, `sl<op>`) and `/besttime` (`slb`): the workspace's weekly posting slots or an
//! account's own (`w` = the workspace's, else the packed account id), presets, typing new ones, removing one.

use super::fields::{build, id, num, pack_uuid};
use tochen_domain::slots::Preset;
use tochen_domain::AccountId;

/// Whose slots a button is about: the workspace's (`None`) or an account's own.
pub type SlotScope = Option<AccountId>;

/// A button of the slot screens.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Slots {
    /// The slots of a scope.
    Show(SlotScope),
    /// Replace a scope's slots by a preset.
    Preset(SlotScope, Preset),
    /// Remove every slot of a scope.
    Clear(SlotScope),
    /// Type slots to add.
    Add(SlotScope),
    /// The remove buttons of one weekday (0 = Monday).
    RemoveDay(SlotScope, u8),
    /// Remove one slot: weekday (0 = Monday) and minute of the day.
    Remove(SlotScope, u8, u16),
    /// The accounts, to pick whose own slots to edit.
    Accounts,
    /// `/besttime`: add the suggested slots to the workspace's.
    AddBest,
}

fn scope_code(s: &SlotScope) -> String {
    s.map(|a| pack_uuid(a.as_uuid())).unwrap_or_else(|| "w".to_owned())
}

fn scope_of(f: &[&str], i: usize) -> Option<SlotScope> {
    match f.get(i)? {
        &"w" => Some(None),
        _ => Some(Some(AccountId::from_uuid(id(f, i)?))),
    }
}

fn preset_code(p: Preset) -> &'static str {
    match p {
        Preset::Weekdays => "w",
        Preset::EveryDay => "e",
    }
}

impl Slots {
    pub(super) fn encode(&self) -> String {
        match self {
            Self::Show(s) => build("sl", &[&scope_code(s)]),
            Self::Preset(s, p) => build("slp", &[&scope_code(s), preset_code(*p)]),
            Self::Clear(s) => build("slx", &[&scope_code(s)]),
            Self::Add(s) => build("sla", &[&scope_code(s)]),
            Self::RemoveDay(s, d) => build("sld", &[&scope_code(s), &d.to_string()]),
            Self::Remove(s, d, m) => build("slr", &[&scope_code(s), &d.to_string(), &m.to_string()]),
            Self::Accounts => build("sls", &[]),
            Self::AddBest => build("slb", &[]),
        }
    }

    pub(super) fn decode(prefix: &str, f: &[&str]) -> Option<Self> {
        Some(match (prefix, f.len()) {
            ("sl", 1) => Self::Show(scope_of(f, 0)?),
            ("slp", 2) => Self::Preset(scope_of(f, 0)?, Preset::ALL.into_iter().find(|p| preset_code(*p) == f[1])?),
            ("slx", 1) => Self::Clear(scope_of(f, 0)?),
            ("sla", 1) => Self::Add(scope_of(f, 0)?),
            ("sld", 2) => Self::RemoveDay(scope_of(f, 0)?, num::<u8>(f, 1).filter(|d| *d < 7)?),
            ("slr", 3) => Self::Remove(
                scope_of(f, 0)?,
                num::<u8>(f, 1).filter(|d| *d < 7)?,
                num::<u16>(f, 2).filter(|m| *m < 1440)?,
            ),
            ("sls", 0) => Self::Accounts,
            ("slb", 0) => Self::AddBest,
            _ => return None,
        })
    }
}

#[cfg(test)]
pub(super) fn every_variant() -> Vec<Slots> {
    let mut all = Vec::new();
    for s in [None, Some(AccountId::new())] {
        all.extend([
            Slots::Show(s),
            Slots::Clear(s),
            Slots::Add(s),
            Slots::RemoveDay(s, 0),
            Slots::RemoveDay(s, 6),
            Slots::Remove(s, 6, 1439),
            Slots::Remove(s, 0, 0),
        ]);
        all.extend(Preset::ALL.map(|p| Slots::Preset(s, p)));
    }
    all.extend([Slots::Accounts, Slots::AddBest]);
    all
}

#[cfg(test)]
mod tests {
    use super::super::{Button, MAX_CALLBACK_BYTES};
    use super::*;

    #[test]
    fn every_slot_button_round_trips() {
        for b in every_variant() {
            let data = Button::Slots(b).encode();
            assert!(data.len() <= MAX_CALLBACK_BYTES, "{data}");
            assert_eq!(Button::decode(&data), Some(Button::Slots(b)), "{data}");
        }
    }

    #[test]
    fn slot_buttons_are_spelled_so() {
        assert_eq!(Button::Slots(Slots::Show(None)).encode(), "sl:w");
        assert_eq!(Button::Slots(Slots::Preset(None, Preset::Weekdays)).encode(), "slp:w:w");
        assert_eq!(Button::Slots(Slots::Remove(None, 4, 540)).encode(), "slr:w:4:540");
        assert_eq!(Button::Slots(Slots::AddBest).encode(), "slb");
        // Out of range or unknown: nothing.
        for bad in ["slr:w:7:0", "slr:w:0:1440", "sld:w:9", "slp:w:z", "sl:x", "sl"] {
            assert_eq!(Button::decode(bad), None, "{bad}");
        }
    }
}
