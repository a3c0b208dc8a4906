//! A Telegram Mini App's `initData`: the signed query string Telegram hands the page, which the page sends with
//! every request to our backend. Checked as Telegram specifies it (docs/web.md, "Mini App sign-in"):
//!
//! 1. split on `&`, each pair on the first `=`, percent-decode both; a duplicate key or a missing `hash` is refused;
//! 2. every pair but `hash` (including `signature` and fields we do not know) sorted by key and joined as
//!    `key=value` lines with `\n`: the data-check string, values exactly as decoded (the `user` JSON is not
//!    re-serialised);
//! 3. secret key = HMAC-SHA256 with the key `WebAppData` over the bot token; the expected hash = lowercase hex of
//!    HMAC-SHA256 with the secret key over the data-check string, compared in constant time;
//! 4. fresh: `auth_date` at most `max_age` ago and at most 60 s in the future;
//! 5. only then is `user` parsed.
//!
//! [`sign`] builds `initData` the way Telegram does, for tests and for tools that open the Mini App locally.

use hmac::{Hmac, Mac};
use serde::Deserialize;
use sha2::Sha256;
use std::collections::BTreeMap;

type HmacSha256 = Hmac<Sha256>;

/// How far in the future `auth_date` may lie (clocks differ a little).
pub const FUTURE_SKEW_SECS: i64 = 60;

/// Why an `initData` string was refused.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum InitDataError {
    #[error("the Mini App sign-in data is empty: open the app from the bot's button or menu")]
    Empty,
    #[error("the Mini App sign-in data has no hash: open the app from the bot's button or menu")]
    MissingHash,
    #[error("the Mini App sign-in data names {0:?} twice")]
    Duplicate(String),
    #[error("the Mini App sign-in data is not a query string: {0}")]
    Malformed(String),
    #[error("the Mini App sign-in data is not signed for this bot: open the app again from the bot")]
    BadHash,
    #[error("the Mini App sign-in data has no auth_date")]
    MissingAuthDate,
    #[error("the Mini App sign-in data is {age_secs} s old (at most {max_secs} s allowed): open the app again")]
    Expired { age_secs: i64, max_secs: i64 },
    #[error("the Mini App sign-in data is dated {ahead_secs} s in the future: check this server's clock")]
    FromTheFuture { ahead_secs: i64 },
    #[error("the Mini App sign-in data has no valid user: {0}")]
    BadUser(String),
}

/// The Telegram user who opened the Mini App.
#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
pub struct WebAppUser {
    pub id: i64,
    #[serde(default)]
    pub is_bot: bool,
    pub first_name: String,
    #[serde(default)]
    pub last_name: Option<String>,
    #[serde(default)]
    pub username: Option<String>,
    #[serde(default)]
    pub language_code: Option<String>,
}

/// A checked `initData`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct InitData {
    pub user: WebAppUser,
    /// Unix seconds.
    pub auth_date: i64,
    /// `startapp` / `start_param` of the link that opened the app, if any.
    pub start_param: Option<String>,
    /// `sender`, `private`, `group`, `supergroup` or `channel`, if Telegram said.
    pub chat_type: Option<String>,
}

/// The secret key of `bot_token`: HMAC-SHA256 keyed with `WebAppData` over the token.
fn secret_key(bot_token: &str) -> [u8; 32] {
    let mut mac = HmacSha256::new_from_slice(b"WebAppData").expect("HMAC takes any key length");
    mac.update(bot_token.as_bytes());
    mac.finalize().into_bytes().into()
}

fn check_mac(bot_token: &str, data_check_string: &str) -> HmacSha256 {
    let mut mac = HmacSha256::new_from_slice(&secret_key(bot_token)).expect("HMAC takes any key length");
    mac.update(data_check_string.as_bytes());
    mac
}

/// Every `key=value` line but `hash`, sorted by key, joined with `\n`.
fn data_check_string(fields: &BTreeMap<String, String>) -> String {
    fields.iter().filter(|(k, _)| k.as_str() != "hash").map(|(k, v)| format!("{k}={v}")).collect::<Vec<_>>().join("\n")
}

/// Splits `raw` into decoded pairs, refusing duplicates.
fn parse(raw: &str) -> Result<BTreeMap<String, String>, InitDataError> {
    if raw.trim().is_empty() {
        return Err(InitDataError::Empty);
    }
    let mut fields = BTreeMap::new();
    for (key, value) in url::form_urlencoded::parse(raw.as_bytes()) {
        if key.is_empty() {
            return Err(InitDataError::Malformed("a pair without a name".into()));
        }
        if fields.insert(key.to_string(), value.into_owned()).is_some() {
            return Err(InitDataError::Duplicate(key.into_owned()));
        }
    }
    Ok(fields)
}

/// Checks `raw` (the page's `Telegram.WebApp.initData`, unchanged) against `bot_token` at `now` (unix seconds),
/// allowing data signed at most `max_age_secs` ago.
pub fn validate(raw: &str, bot_token: &str, now: i64, max_age_secs: i64) -> Result<InitData, InitDataError> {
    let fields = parse(raw)?;
    let hash = fields.get("hash").ok_or(InitDataError::MissingHash)?;
    let expected = hex::decode(hash).map_err(|_| InitDataError::BadHash)?;
    check_mac(bot_token, &data_check_string(&fields)).verify_slice(&expected).map_err(|_| InitDataError::BadHash)?;
    let auth_date: i64 = fields
        .get("auth_date")
        .ok_or(InitDataError::MissingAuthDate)?
        .parse()
        .map_err(|_| InitDataError::Malformed("auth_date is not a number".into()))?;
    if auth_date - now > FUTURE_SKEW_SECS {
        return Err(InitDataError::FromTheFuture { ahead_secs: auth_date - now });
    }
    if now - auth_date > max_age_secs {
        return Err(InitDataError::Expired { age_secs: now - auth_date, max_secs: max_age_secs });
    }
    let user = fields.get("user").ok_or_else(|| InitDataError::BadUser("none given".into()))?;
    let user: WebAppUser = serde_json::from_str(user).map_err(|e| InitDataError::BadUser(e.to_string()))?;
    Ok(InitData {
        user,
        auth_date,
        start_param: fields.get("start_param").cloned(),
        chat_type: fields.get("chat_type").cloned(),
    })
}

/// `initData` for `fields` (name, decoded value) signed for `bot_token` as Telegram signs it: each pair
/// percent-encoded (spaces as `%20`), in the order given, `hash` last.
pub fn sign(fields: &[(&str, &str)], bot_token: &str) -> String {
    let map: BTreeMap<String, String> = fields.iter().map(|(k, v)| (k.to_string(), v.to_string())).collect();
    let hash = hex::encode(check_mac(bot_token, &data_check_string(&map)).finalize().into_bytes());
    let encode = |s: &str| url::form_urlencoded::byte_serialize(s.as_bytes()).collect::<String>().replace('+', "%20");
    let mut out: Vec<String> = fields.iter().map(|(k, v)| format!("{}={}", encode(k), encode(v))).collect();
    out.push(format!("hash={hash}"));
    out.join("&")
}

#[cfg(test)]
mod tests {
    use super::*;

    const DAY: i64 = 86_400;

    // Vector 1 (aiogram's test suite).
    const AIOGRAM: &str = "auth_date=1650385342&user=%7B%22id%22%3A42%2C%22first_name%22%3A%22Test%22%7D&query_id=test&hash=46d2ea5e32911ec8d30999b56247654460c0d20949b6277af519e76271182803";
    // Vector 2 (telegram-apps init-data-golang).
    const GOLANG_TOKEN: &str = "5768337691:AAH5YkoiEuPk8-FZa32hStHTqXiLPtAEhx8";
    const GOLANG: &str = "query_id=AAHdF6IQAAAAAN0XohDhrOrc&user=%7B%22id%22%3A279058397%2C%22first_name%22%3A%22Vladislav%22%2C%22last_name%22%3A%22Kibenko%22%2C%22username%22%3A%22vdkfrost%22%2C%22language_code%22%3A%22ru%22%2C%22is_premium%22%3Atrue%7D&auth_date=1662771648&hash=c501b71e775f74ce10e377dea85a7ea24ecd640b223ea86dfe453e0eaed2e2b2";

    #[test]
    fn the_contracts_vectors_check_as_stated() {
        assert_eq!(
            hex::encode(secret_key("42:TEST")),
            "1e806b707252e4c784e3c8d55e9d24a920c35c9568c7a3b5cb9e2698ca854532"
        );
        let fields = parse(AIOGRAM).unwrap();
        assert_eq!(
            data_check_string(&fields),
            "auth_date=1650385342\nquery_id=test\nuser={\"id\":42,\"first_name\":\"Test\"}"
        );
        let d = validate(AIOGRAM, "42:TEST", 1650385342, DAY).unwrap();
        assert_eq!((d.user.id, d.user.first_name.as_str(), d.auth_date), (42, "Test", 1650385342));
        assert_eq!(validate(AIOGRAM, "42:INVALID", 1650385342, DAY), Err(InitDataError::BadHash));
        let test_hash = AIOGRAM.replace(&AIOGRAM[AIOGRAM.find("hash=").unwrap()..], "hash=test");
        assert_eq!(validate(&test_hash, "42:TEST", 1650385342, DAY), Err(InitDataError::BadHash));
        let no_hash = &AIOGRAM[..AIOGRAM.find("&hash=").unwrap()];
        assert_eq!(validate(no_hash, "42:TEST", 1650385342, DAY), Err(InitDataError::MissingHash));
        assert_eq!(validate("", "42:TEST", 1650385342, DAY), Err(InitDataError::Empty));

        let d = validate(GOLANG, GOLANG_TOKEN, 1662771648 + 10, DAY).unwrap();
        assert_eq!(
            (d.user.id, d.user.username.as_deref(), d.user.language_code.as_deref()),
            (279058397, Some("vdkfrost"), Some("ru"))
        );
        assert_eq!(validate(&format!("{GOLANG}abc"), GOLANG_TOKEN, 1662771648, DAY), Err(InitDataError::BadHash));
    }

    #[test]
    fn stale_future_duplicated_and_other_bots_data_is_refused() {
        let now = 1_800_000_000;
        let user = r#"{"id":7,"first_name":"Ann \/ Bo","username":"ann"}"#;
        let fresh = sign(&[("user", user), ("auth_date", &now.to_string()), ("signature", "abc_-")], "1:A");
        let d = validate(&fresh, "1:A", now + 5, 3600).unwrap();
        assert_eq!((d.user.id, d.user.first_name.as_str()), (7, "Ann / Bo"));
        assert!(fresh.contains("%20") && !fresh.contains('+'), "spaces as %20: {fresh}");
        assert_eq!(validate(&fresh, "2:B", now, 3600), Err(InitDataError::BadHash), "another bot's data");
        assert_eq!(
            validate(&fresh, "1:A", now + 3601, 3600),
            Err(InitDataError::Expired { age_secs: 3601, max_secs: 3600 })
        );
        assert_eq!(validate(&fresh, "1:A", now - 61, 3600), Err(InitDataError::FromTheFuture { ahead_secs: 61 }));
        assert!(validate(&fresh, "1:A", now - 60, 3600).is_ok(), "a minute of clock skew is allowed");
        // Stripping `signature` (as some code online does) breaks the hash: it is part of the signed data.
        let stripped = fresh.replace("&signature=abc_-", "");
        assert_eq!(validate(&stripped, "1:A", now, 3600), Err(InitDataError::BadHash));
        // A duplicated field is refused even when one copy is the signed one.
        let dup = format!("auth_date=1&{fresh}");
        assert_eq!(validate(&dup, "1:A", now, 3600), Err(InitDataError::Duplicate("auth_date".into())));
        // Signed but without a user, or with a user that is not JSON.
        let anonymous = sign(&[("auth_date", &now.to_string())], "1:A");
        assert!(matches!(validate(&anonymous, "1:A", now, 3600), Err(InitDataError::BadUser(_))));
        let garbled = sign(&[("auth_date", &now.to_string()), ("user", "{id:")], "1:A");
        assert!(matches!(validate(&garbled, "1:A", now, 3600), Err(InitDataError::BadUser(_))));
        assert_eq!(validate("hash=zz&auth_date=1", "1:A", now, 3600), Err(InitDataError::BadHash));
    }
}
