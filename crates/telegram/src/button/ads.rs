//! Ad accounts in the chat: `adj:<m|t>` (start a sign-in to Meta ads or TikTok ads), `adt:<sign-in>:<index>`
//! (tick or untick an ad account a sign-in found; sent by the web service after the browser confirmed),
//! `adk:<sign-in>` (keep the ticked ones), `ado` (the `/ads` overview), `adv:<ad account>:<page>` (one ad
//! account's campaigns, worst first, a page of them).

use super::fields::{build, id, num, pack_uuid};
use tochen_domain::ads::AdPlatform;
use tochen_domain::ids::AdAccountId;

/// A button of the ad accounts flow.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Ads {
    Start(AdPlatform),
    Toggle { sign_in: String, index: usize },
    Keep(String),
    Overview,
    Account { account: AdAccountId, page: usize },
}

fn platform_code(p: AdPlatform) -> &'static str {
    match p {
        AdPlatform::Meta => "m",
        AdPlatform::TikTok => "t",
    }
}

/// A sign-in id as the web service makes it: 32 lowercase hex digits.
fn sign_in_id(s: &str) -> Option<String> {
    (s.len() == 32 && s.bytes().all(|b| b.is_ascii_hexdigit())).then(|| s.to_string())
}

impl Ads {
    pub(super) fn encode(&self) -> String {
        match self {
            Self::Start(p) => build("adj", &[platform_code(*p)]),
            Self::Toggle { sign_in, index } => build("adt", &[sign_in, &index.to_string()]),
            Self::Keep(sign_in) => build("adk", &[sign_in]),
            Self::Overview => build("ado", &[]),
            Self::Account { account, page } => build("adv", &[&pack_uuid(account.as_uuid()), &page.to_string()]),
        }
    }

    pub(super) fn decode(prefix: &str, f: &[&str]) -> Option<Self> {
        match (prefix, f.len()) {
            ("adj", 1) => AdPlatform::ALL.into_iter().find(|p| platform_code(*p) == f[0]).map(Self::Start),
            ("adt", 2) => Some(Self::Toggle { sign_in: sign_in_id(f[0])?, index: num(f, 1).filter(|i| *i < 100)? }),
            ("adk", 1) => sign_in_id(f[0]).map(Self::Keep),
            ("ado", 0) => Some(Self::Overview),
            ("adv", 2) => Some(Self::Account {
                account: AdAccountId::from_uuid(id(f, 0)?),
                page: num(f, 1).filter(|p| *p < 1000)?,
            }),
            _ => None,
        }
    }
}

/// The pick after a sign-in: one button per ad account found (ticked ones marked), then "keep". `labels` are the
/// accounts' names as shown; returns (text, callback data) rows.
pub fn pick_rows(sign_in: &str, labels: &[String], picked: &[usize], keep: &str) -> Vec<(String, String)> {
    let mut rows: Vec<(String, String)> = labels
        .iter()
        .enumerate()
        .map(|(i, l)| {
            let mark = if picked.contains(&i) { "☑️" } else { "⬜" };
            let data = Ads::Toggle { sign_in: sign_in.to_string(), index: i }.encode();
            (format!("{mark} {l}"), data)
        })
        .collect();
    rows.push((keep.to_string(), Ads::Keep(sign_in.to_string()).encode()));
    rows
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ad_buttons_round_trip_and_fit() {
        let s = "0123456789abcdef0123456789abcdef".to_string();
        for b in [
            Ads::Start(AdPlatform::Meta),
            Ads::Start(AdPlatform::TikTok),
            Ads::Toggle { sign_in: s.clone(), index: 39 },
            Ads::Keep(s.clone()),
            Ads::Overview,
            Ads::Account { account: AdAccountId::new(), page: 3 },
        ] {
            let data = b.encode();
            assert!(data.len() <= 64, "{data}");
            let (p, f) = super::super::split(&data);
            assert_eq!(Ads::decode(p, &f), Some(b));
        }
        assert_eq!(Ads::decode("adt", &["not-hex", "1"]), None);
        assert_eq!(Ads::decode("adj", &["x"]), None);
    }
}
