//! The Meta Marketing API, reporting only: `/me/adaccounts` and Insights (synchronous and as asynchronous report
//! runs), on the Graph host and version of the configuration (`META_GRAPH_URL`, `META_GRAPH_VERSION`).
//!
//! Paths use the `act_` form of an account; tochen stores the bare number. Every request goes through the
//! account's [`AccountGate`], which refuses while the account is paused and reads the usage headers of each answer.

use super::usage::{meta_usage, AccountGate};
use super::{
    amount_field, count_field, id_field, AdAccountInfo, AdLevel, AdMetrics, AdPlatform, AdsError, AdsErrorClass,
    Amount, InsightRow,
};
use chrono::{NaiveDate, Utc};
use serde_json::Value;
use std::time::Duration;
use tochen_domain::secret::SecretString;
use url::Url;

/// Action types read as "results", first present wins (configurable per client).
pub const DEFAULT_RESULT_TYPES: &[&str] = &["omni_purchase", "purchase"];

/// Page size asked for (the default is 25).
const PAGE: &str = "500";

/// The Marketing API client (one Graph host and version).
#[derive(Debug, Clone)]
pub struct MetaAds {
    http: reqwest::Client,
    base: Url,
    version: String,
    /// Action types counted as results, in order of preference.
    pub result_types: Vec<String>,
    /// Sleeps the gate asks for are skipped when false (the benchmark and tests against the fake).
    pub sleep_when_slow: bool,
}

/// An asynchronous report run's state.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum RunState {
    /// Still working (`Job Not Started`, `Job Started`, `Job Running`, or `Job Completed` below 100 %).
    Running { percent: u8 },
    /// `Job Completed` at 100 %: the results can be read.
    Done,
    /// `Job Failed` or `Job Skipped`: resubmit with a smaller range.
    Failed(String),
}

impl MetaAds {
    pub fn new(http: reqwest::Client, base: Url, version: &str) -> Self {
        Self {
            http,
            base,
            version: version.to_string(),
            result_types: DEFAULT_RESULT_TYPES.iter().map(|s| s.to_string()).collect(),
            sleep_when_slow: true,
        }
    }

    pub fn from_config(config: &tochen_config::Config, http: reqwest::Client) -> Self {
        Self::new(http, config.meta.graph_url.clone(), &config.meta.graph_version)
    }

    fn url(&self, path: &str) -> String {
        format!("{}/{}/{}", self.base.as_str().trim_end_matches('/'), self.version, path.trim_start_matches('/'))
    }

    async fn call(
        &self,
        gate: &mut AccountGate,
        post: bool,
        path: &str,
        token: &SecretString,
        query: &[(&str, String)],
    ) -> Result<Value, AdsError> {
        let pause = gate.before(Utc::now())?;
        if self.sleep_when_slow && !pause.is_zero() {
            tokio::time::sleep(pause).await;
        }
        let mut q: Vec<(&str, String)> = query.to_vec();
        q.push(("access_token", token.expose().to_string()));
        let req = if post { self.http.post(self.url(path)).form(&q) } else { self.http.get(self.url(path)).query(&q) };
        let resp = req.send().await.map_err(|e| AdsError::transport(&e))?;
        let status = resp.status().as_u16();
        let usage = meta_usage(resp.headers());
        let body = resp.text().await.map_err(|e| AdsError::transport(&e))?;
        let v: Value = serde_json::from_str(&body).unwrap_or(Value::Null);
        if let Some(err) = v.get("error") {
            let e = meta_error(status, err, usage.regain);
            gate.last_pct = usage.pct;
            return Err(if matches!(e.class, AdsErrorClass::Throttled { .. }) {
                gate.throttled(e, Utc::now())
            } else {
                e
            });
        }
        if !(200..300).contains(&status) || v.is_null() {
            let class = if status >= 500 { AdsErrorClass::Retryable } else { AdsErrorClass::Permanent };
            return Err(AdsError::new(class, status.to_string(), "the Marketing API answered without JSON"));
        }
        gate.answered(usage, Utc::now());
        Ok(v)
    }

    /// Every ad account the token can read (`/me/adaccounts`, all pages).
    pub async fn ad_accounts(
        &self,
        gate: &mut AccountGate,
        token: &SecretString,
    ) -> Result<Vec<AdAccountInfo>, AdsError> {
        let mut out = Vec::new();
        let mut after: Option<String> = None;
        loop {
            let mut q = vec![
                (
                    "fields",
                    "id,account_id,name,currency,timezone_name,timezone_offset_hours_utc,account_status,disable_reason"
                        .to_string(),
                ),
                ("limit", "100".to_string()),
            ];
            if let Some(a) = &after {
                q.push(("after", a.clone()));
            }
            let v = self.call(gate, false, "me/adaccounts", token, &q).await?;
            for a in v["data"].as_array().cloned().unwrap_or_default() {
                out.push(parse_account(&a)?);
            }
            match next_cursor(&v) {
                Some(c) => after = Some(c),
                None => return Ok(out),
            }
        }
    }

    /// One ad account's details and current status (`/act_{id}`), for the periodic validation.
    pub async fn account(
        &self,
        gate: &mut AccountGate,
        token: &SecretString,
        account: &str,
    ) -> Result<AdAccountInfo, AdsError> {
        let q = [("fields", "id,account_id,name,currency,timezone_name,account_status,disable_reason".to_string())];
        let v = self.call(gate, false, &act_path(account), token, &q).await?;
        parse_account(&v)
    }

    /// Daily insights of `account` (bare number or `act_` form) at `level` for `since..=until`, all pages.
    pub async fn insights(
        &self,
        gate: &mut AccountGate,
        token: &SecretString,
        account: &str,
        level: AdLevel,
        since: NaiveDate,
        until: NaiveDate,
    ) -> Result<Vec<InsightRow>, AdsError> {
        let path = format!("{}/insights", act_path(account));
        let q = insight_params(level, since, until);
        self.pages(gate, token, &path, q, level).await
    }

    async fn pages(
        &self,
        gate: &mut AccountGate,
        token: &SecretString,
        path: &str,
        q: Vec<(&'static str, String)>,
        level: AdLevel,
    ) -> Result<Vec<InsightRow>, AdsError> {
        let mut out = Vec::new();
        let mut after: Option<String> = None;
        loop {
            let mut q = q.clone();
            if let Some(a) = &after {
                q.push(("after", a.clone()));
            }
            let v = self.call(gate, false, path, token, &q).await?;
            for r in v["data"].as_array().cloned().unwrap_or_default() {
                out.push(self.parse_row(&r, level)?);
            }
            match next_cursor(&v) {
                Some(c) => after = Some(c),
                None => return Ok(out),
            }
        }
    }

    /// Starts an asynchronous report run; returns its id.
    pub async fn start_run(
        &self,
        gate: &mut AccountGate,
        token: &SecretString,
        account: &str,
        level: AdLevel,
        since: NaiveDate,
        until: NaiveDate,
    ) -> Result<String, AdsError> {
        let path = format!("{}/insights", act_path(account));
        let v = self.call(gate, true, &path, token, &insight_params(level, since, until)).await?;
        id_field(&v, "report_run_id").ok_or_else(|| AdsError::malformed("a report_run_id"))
    }

    /// The state of a report run.
    pub async fn run_state(
        &self,
        gate: &mut AccountGate,
        token: &SecretString,
        run: &str,
    ) -> Result<RunState, AdsError> {
        let v = self.call(gate, false, run, token, &[]).await?;
        let status = v["async_status"].as_str().unwrap_or("");
        let percent = v["async_percent_completion"].as_u64().unwrap_or(0).min(100) as u8;
        Ok(match status {
            "Job Completed" if percent == 100 => RunState::Done,
            "Job Failed" | "Job Skipped" => RunState::Failed(status.to_string()),
            _ => RunState::Running { percent },
        })
    }

    /// The rows of a completed report run, all pages.
    pub async fn run_rows(
        &self,
        gate: &mut AccountGate,
        token: &SecretString,
        run: &str,
        level: AdLevel,
    ) -> Result<Vec<InsightRow>, AdsError> {
        self.pages(gate, token, &format!("{run}/insights"), vec![("limit", PAGE.to_string())], level).await
    }

    /// Reads a range through a report run: start, poll with `delays` (doubling, bounded), read. A failed run is
    /// resubmitted once; a run still not done when the delays are spent is a retryable error.
    pub async fn insights_async(
        &self,
        gate: &mut AccountGate,
        token: &SecretString,
        account: &str,
        level: AdLevel,
        (since, until): (NaiveDate, NaiveDate),
        delays: &[Duration],
    ) -> Result<Vec<InsightRow>, AdsError> {
        let mut failed_once = false;
        'submit: loop {
            let run = self.start_run(gate, token, account, level, since, until).await?;
            for d in delays.iter().copied().chain(std::iter::once(Duration::ZERO)) {
                match self.run_state(gate, token, &run).await? {
                    RunState::Done => return self.run_rows(gate, token, &run, level).await,
                    RunState::Failed(s) if !failed_once => {
                        tracing::info!(status = %s, "meta report run failed; resubmitting once");
                        failed_once = true;
                        continue 'submit;
                    }
                    RunState::Failed(s) => {
                        return Err(AdsError::new(
                            AdsErrorClass::Retryable,
                            "report_run",
                            format!("the report run ended {s:?} twice"),
                        ))
                    }
                    RunState::Running { .. } => tokio::time::sleep(d).await,
                }
            }
            return Err(AdsError::new(
                AdsErrorClass::Retryable,
                "report_run",
                "the report run did not complete in time; it is read again later",
            ));
        }
    }

    fn parse_row(&self, r: &Value, level: AdLevel) -> Result<InsightRow, AdsError> {
        let day = r["date_start"]
            .as_str()
            .and_then(|d| NaiveDate::parse_from_str(d, "%Y-%m-%d").ok())
            .ok_or_else(|| AdsError::malformed("a date_start on an insights row"))?;
        let (id_key, name_key) = match level {
            AdLevel::Account => ("account_id", "account_name"),
            AdLevel::Campaign => ("campaign_id", "campaign_name"),
            AdLevel::AdSet => ("adset_id", "adset_name"),
            AdLevel::Ad => ("ad_id", "ad_name"),
        };
        let object_id =
            id_field(r, id_key).ok_or_else(|| AdsError::malformed(&format!("{id_key} on an insights row")))?;
        let metrics = AdMetrics {
            spend: amount_field(r, "spend")?,
            impressions: count_field(r, "impressions")?,
            reach: count_field(r, "reach")?,
            frequency: amount_field(r, "frequency")?,
            clicks: count_field(r, "clicks")?,
            cpc: amount_field(r, "cpc")?,
            cpm: amount_field(r, "cpm")?,
            ctr: amount_field(r, "ctr")?,
            conversions: self.action(r, "actions")?,
            conversion_value: self.action(r, "action_values")?,
            roas: self.action(r, "purchase_roas")?,
        };
        Ok(InsightRow {
            day,
            level,
            object_name: r[name_key].as_str().map(str::to_string),
            campaign_id: if level == AdLevel::Account { None } else { id_field(r, "campaign_id") },
            object_id,
            metrics,
        })
    }

    /// The value of the first configured action type present in the `{action_type, value}` list `key`.
    fn action(&self, r: &Value, key: &str) -> Result<Option<Amount>, AdsError> {
        let Some(list) = r[key].as_array() else { return Ok(None) };
        for t in &self.result_types {
            // purchase_roas comes as omni_purchase too; a type match in any list wins in the configured order.
            if let Some(e) = list.iter().find(|e| e["action_type"].as_str() == Some(t.as_str())) {
                return amount_field(e, "value");
            }
        }
        Ok(None)
    }
}

/// `act_<number>` whether given the bare number or already prefixed.
pub fn act_path(account: &str) -> String {
    let bare = account.strip_prefix("act_").unwrap_or(account);
    format!("act_{bare}")
}

/// The bare number of `act_123` or `123`.
pub fn bare_account(account: &str) -> &str {
    account.trim().strip_prefix("act_").unwrap_or(account.trim())
}

fn insight_params(level: AdLevel, since: NaiveDate, until: NaiveDate) -> Vec<(&'static str, String)> {
    let ids = match level {
        AdLevel::Account => "account_id,account_name",
        AdLevel::Campaign => "campaign_id,campaign_name",
        AdLevel::AdSet => "campaign_id,adset_id,adset_name",
        AdLevel::Ad => "campaign_id,ad_id,ad_name",
    };
    vec![
        ("level", level.as_str().to_string()),
        (
            "fields",
            format!("{ids},spend,impressions,reach,frequency,clicks,cpc,cpm,ctr,actions,action_values,purchase_roas"),
        ),
        ("time_range", serde_json::json!({"since": since.to_string(), "until": until.to_string()}).to_string()),
        ("time_increment", "1".to_string()),
        ("limit", PAGE.to_string()),
    ]
}

fn next_cursor(v: &Value) -> Option<String> {
    v["paging"]["next"].as_str()?;
    v["paging"]["cursors"]["after"].as_str().map(str::to_string)
}

fn parse_account(a: &Value) -> Result<AdAccountInfo, AdsError> {
    let account_ref = id_field(a, "account_id")
        .or_else(|| id_field(a, "id").map(|id| bare_account(&id).to_string()))
        .ok_or_else(|| AdsError::malformed("an ad account id"))?;
    Ok(AdAccountInfo {
        platform: AdPlatform::Meta,
        name: a["name"].as_str().unwrap_or(&account_ref).to_string(),
        account_ref,
        currency: a["currency"].as_str().unwrap_or("").to_string(),
        zone: a["timezone_name"].as_str().unwrap_or("UTC").to_string(),
        status: a["account_status"].as_i64().map(|s| s.to_string()).unwrap_or_default(),
        disable_reason: a["disable_reason"].as_i64(),
    })
}

/// Classifies a Marketing API error (`docs/ads.md`, "Meta errors").
pub fn meta_class(status: u16, code: i64, subcode: Option<i64>, regain: Option<Duration>) -> AdsErrorClass {
    match (code, subcode) {
        (100, Some(1504018)) | (2, Some(1504038)) => AdsErrorClass::TooMuchData,
        (1, _) => AdsErrorClass::TooMuchData,
        (4 | 17 | 613, _) | (80000..=80014, _) => AdsErrorClass::Throttled { wait: regain },
        (2, _) => AdsErrorClass::Retryable,
        (190 | 102 | 10, _) | (200..=299, _) | (100, Some(33)) => AdsErrorClass::Reconnect,
        _ if status >= 500 => AdsErrorClass::Retryable,
        _ if status == 429 => AdsErrorClass::Throttled { wait: regain },
        _ => AdsErrorClass::Permanent,
    }
}

fn meta_error(status: u16, err: &Value, regain: Option<Duration>) -> AdsError {
    let code = err["code"].as_i64().unwrap_or(0);
    let subcode = err["error_subcode"].as_i64();
    let mut class = meta_class(status, code, subcode, regain);
    // Code 1 is "please reduce the amount of data" only with that message; otherwise it is an unknown error.
    if code == 1 && !err["message"].as_str().unwrap_or("").to_lowercase().contains("reduce the amount of data") {
        class = AdsErrorClass::Retryable;
    }
    let message = err["error_user_msg"]
        .as_str()
        .filter(|m| !m.is_empty())
        .or(err["message"].as_str())
        .unwrap_or("the Marketing API refused the request")
        .to_string();
    let code = match subcode {
        Some(sc) => format!("{code}/{sc}"),
        None => code.to_string(),
    };
    AdsError::new(class, code, message)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn client() -> MetaAds {
        MetaAds::new(reqwest::Client::new(), Url::parse("http://127.0.0.1:1").unwrap(), "v25.0")
    }

    #[test]
    fn a_contract_row_parses_into_exact_amounts() {
        let r = serde_json::json!({"account_id":"1234567890","campaign_id":"120210000000001","campaign_name":"Black Friday",
          "spend":"123.45","impressions":"10234","reach":"8012","clicks":"311","cpc":"0.396945","cpm":"12.062732",
          "ctr":"3.038890","frequency":"1.277334",
          "actions":[{"action_type":"link_click","value":"290"},{"action_type":"purchase","value":"7"}],
          "action_values":[{"action_type":"purchase","value":"699.30"}],
          "purchase_roas":[{"action_type":"omni_purchase","value":"5.664642"}],
          "date_start":"2026-11-01","date_stop":"2026-11-01"});
        let row = client().parse_row(&r, AdLevel::Campaign).unwrap();
        assert_eq!(row.object_id, "120210000000001");
        assert_eq!(row.campaign_id.as_deref(), Some("120210000000001"));
        assert_eq!(row.object_name.as_deref(), Some("Black Friday"));
        assert_eq!(row.day, NaiveDate::from_ymd_opt(2026, 11, 1).unwrap());
        let m = row.metrics;
        assert_eq!(m.spend, Some(Amount(123_450_000)));
        assert_eq!((m.impressions, m.reach, m.clicks), (Some(10234), Some(8012), Some(311)));
        assert_eq!(m.cpc, Some(Amount(396_945)));
        assert_eq!(m.ctr, Some(Amount(3_038_890)));
        assert_eq!(m.conversions, Some(Amount::from_int(7)), "omni_purchase absent: purchase is used");
        assert_eq!(m.conversion_value, Some(Amount(699_300_000)));
        assert_eq!(m.roas, Some(Amount(5_664_642)));
    }

    #[test]
    fn missing_metrics_stay_missing() {
        let r = serde_json::json!({"account_id":"1","spend":"0","impressions":"12","date_start":"2026-11-02"});
        let m = client().parse_row(&r, AdLevel::Account).unwrap().metrics;
        assert_eq!(m.spend, Some(Amount::ZERO));
        assert_eq!(m.impressions, Some(12));
        assert_eq!((m.reach, m.clicks, m.conversions, m.conversion_value, m.roas), (None, None, None, None, None));
        let no_purchase = serde_json::json!({"account_id":"1","date_start":"2026-11-02",
            "actions":[{"action_type":"link_click","value":"3"}]});
        assert_eq!(client().parse_row(&no_purchase, AdLevel::Account).unwrap().metrics.conversions, None);
    }

    #[test]
    fn accounts_keep_the_bare_number() {
        let a = parse_account(&serde_json::json!({"id":"act_1234567890","account_id":"1234567890","name":"Shop",
            "currency":"EUR","timezone_name":"Europe/Berlin","account_status":2,"disable_reason":3}))
        .unwrap();
        assert_eq!(
            (a.account_ref.as_str(), a.currency.as_str(), a.zone.as_str()),
            ("1234567890", "EUR", "Europe/Berlin")
        );
        assert_eq!((a.status.as_str(), a.disable_reason, a.is_active()), ("2", Some(3), false));
        assert_eq!(act_path("act_12"), "act_12");
        assert_eq!(act_path("12"), "act_12");
        assert_eq!(bare_account(" act_12 "), "12");
    }

    #[test]
    fn error_codes_follow_the_contract() {
        let t = |c, s| meta_class(400, c, s, None);
        for c in [4, 17, 613, 80000, 80004, 80003, 80014] {
            assert!(matches!(t(c, None), AdsErrorClass::Throttled { .. }), "{c}");
        }
        assert_eq!(t(17, Some(2446079)), AdsErrorClass::Throttled { wait: None });
        assert_eq!(
            meta_class(400, 80000, None, Some(Duration::from_secs(60))),
            AdsErrorClass::Throttled { wait: Some(Duration::from_secs(60)) }
        );
        for (c, s) in [(190, None), (200, None), (10, None), (100, Some(33)), (272, None)] {
            assert_eq!(t(c, s), AdsErrorClass::Reconnect, "{c}");
        }
        assert_eq!(t(100, Some(1504018)), AdsErrorClass::TooMuchData);
        assert_eq!(t(2, Some(1504038)), AdsErrorClass::TooMuchData);
        assert_eq!(t(2, Some(1504043)), AdsErrorClass::Retryable);
        assert_eq!(t(100, None), AdsErrorClass::Permanent);
        let e = meta_error(400, &serde_json::json!({"code":1,"message":"An unknown error occurred"}), None);
        assert_eq!(e.class, AdsErrorClass::Retryable);
        let e = meta_error(
            400,
            &serde_json::json!({"code":1,"message":"Please reduce the amount of data you're asking for"}),
            None,
        );
        assert_eq!(e.class, AdsErrorClass::TooMuchData);
    }
}
