//! The TikTok API for Business (Marketing API), reporting only: the advertiser token exchange, the authorised
//! advertisers and their details, and the integrated report, on `TIKTOK_ADS_URL` under `/open_api/{version}/`.
//!
//! Every answer is the `{"code","message","request_id","data"}` envelope, success only at `code == 0` (business
//! errors come with HTTP 200). Ids are strings. The token travels in the `Access-Token` header.

use super::usage::AccountGate;
use super::{
    amount_field, count_field, id_field, windows, AdAccountInfo, AdLevel, AdMetrics, AdPlatform, AdsError,
    AdsErrorClass, InsightRow,
};
use chrono::{NaiveDate, Utc};
use serde_json::{json, Value};
use std::collections::BTreeMap;
use tochen_domain::secret::SecretString;
use url::Url;

/// Days per report call with `stat_time_day` (the API's limit is 30).
pub const REPORT_WINDOW_DAYS: u32 = 30;

/// The Marketing API client of one TikTok for Business app.
#[derive(Debug, Clone)]
pub struct TikTokAds {
    http: reqwest::Client,
    base: Url,
    version: String,
    app_id: String,
    secret: SecretString,
    pub window_days: u32,
}

/// What the token exchange answered.
#[derive(Debug, Clone)]
pub struct TikTokGrant {
    pub access_token: SecretString,
    pub advertiser_ids: Vec<String>,
    /// Only when TikTok ever sends them (creator-style tokens); advertiser tokens do not expire.
    pub refresh_token: Option<SecretString>,
    pub expires_in: Option<i64>,
}

impl TikTokAds {
    pub fn new(http: reqwest::Client, base: Url, version: &str, app_id: &str, secret: SecretString) -> Self {
        Self {
            http,
            base,
            version: version.to_string(),
            app_id: app_id.to_string(),
            secret,
            window_days: REPORT_WINDOW_DAYS,
        }
    }

    /// The client when `TIKTOK_ADS_APP_ID` and `TIKTOK_ADS_SECRET` are set.
    pub fn from_config(config: &tochen_config::Config, http: reqwest::Client) -> Option<Self> {
        let a = &config.ads;
        Some(Self::new(
            http,
            a.tiktok_url.clone(),
            &a.tiktok_version,
            a.tiktok_app_id.as_deref()?,
            a.tiktok_secret.clone()?,
        ))
    }

    pub fn app_id(&self) -> &str {
        &self.app_id
    }

    fn url(&self, path: &str) -> String {
        format!(
            "{}/open_api/{}/{}",
            self.base.as_str().trim_end_matches('/'),
            self.version,
            path.trim_start_matches('/')
        )
    }

    /// The advertiser authorisation page for `state` and `redirect_uri`.
    pub fn authorize_url(&self, state: &str, redirect_uri: &str) -> String {
        let mut u = self.base.clone();
        u.set_path("/portal/auth");
        u.query_pairs_mut()
            .append_pair("app_id", &self.app_id)
            .append_pair("state", state)
            .append_pair("redirect_uri", redirect_uri);
        u.to_string()
    }

    async fn send(&self, gate: Option<&mut AccountGate>, req: reqwest::RequestBuilder) -> Result<Value, AdsError> {
        let resp = req.send().await.map_err(|e| AdsError::transport(&e))?;
        let status = resp.status().as_u16();
        let body = resp.text().await.map_err(|e| AdsError::transport(&e))?;
        let v: Value = serde_json::from_str(&body).unwrap_or(Value::Null);
        let code = v["code"].as_i64();
        let err = match code {
            Some(0) if (200..300).contains(&status) => None,
            Some(c) => Some(AdsError::new(
                tiktok_class(status, c),
                c.to_string(),
                v["message"].as_str().filter(|m| !m.is_empty()).unwrap_or("TikTok refused the request").to_string(),
            )),
            None => Some(AdsError::new(
                tiktok_class(status, -1),
                status.to_string(),
                "the TikTok Marketing API answered without its envelope",
            )),
        };
        match (err, gate) {
            (None, Some(g)) => {
                g.answered(super::usage::Usage::default(), Utc::now());
                Ok(v["data"].clone())
            }
            (None, None) => Ok(v["data"].clone()),
            (Some(e), Some(g)) if matches!(e.class, AdsErrorClass::Throttled { .. }) => Err(g.throttled(e, Utc::now())),
            (Some(e), _) => Err(e),
        }
    }

    async fn get(
        &self,
        gate: &mut AccountGate,
        path: &str,
        token: &SecretString,
        query: &[(&str, String)],
    ) -> Result<Value, AdsError> {
        gate.before(Utc::now())?;
        let req = self.http.get(self.url(path)).header("Access-Token", token.expose()).query(query);
        self.send(Some(gate), req).await
    }

    /// Exchanges a single-use `auth_code` for the advertiser token.
    pub async fn exchange(&self, auth_code: &str) -> Result<TikTokGrant, AdsError> {
        let body = json!({"app_id": self.app_id, "secret": self.secret.expose(), "auth_code": auth_code});
        let d = self.send(None, self.http.post(self.url("oauth2/access_token/")).json(&body)).await?;
        let token = d["access_token"]
            .as_str()
            .filter(|t| !t.is_empty())
            .ok_or_else(|| AdsError::malformed("an access_token"))?;
        Ok(TikTokGrant {
            access_token: SecretString::new(token.to_string()),
            advertiser_ids: d["advertiser_ids"]
                .as_array()
                .map(|l| {
                    l.iter()
                        .filter_map(|x| x.as_str().map(str::to_string).or_else(|| x.as_u64().map(|n| n.to_string())))
                        .collect()
                })
                .unwrap_or_default(),
            refresh_token: d["refresh_token"].as_str().map(|t| SecretString::new(t.to_string())),
            expires_in: d["expires_in"].as_i64(),
        })
    }

    /// The advertisers the token is authorised for, with their details (`oauth2/advertiser/get/` then
    /// `advertiser/info/` in batches of 100).
    pub async fn advertisers(
        &self,
        gate: &mut AccountGate,
        token: &SecretString,
    ) -> Result<Vec<AdAccountInfo>, AdsError> {
        let q = [("app_id", self.app_id.clone()), ("secret", self.secret.expose().to_string())];
        let d = self.get(gate, "oauth2/advertiser/get/", token, &q).await?;
        let ids: Vec<String> = d["list"]
            .as_array()
            .cloned()
            .unwrap_or_default()
            .iter()
            .filter_map(|a| id_field(a, "advertiser_id"))
            .collect();
        let mut out = Vec::new();
        for chunk in ids.chunks(100) {
            out.extend(self.advertiser_info(gate, token, chunk).await?);
        }
        Ok(out)
    }

    /// Details of up to 100 advertisers.
    pub async fn advertiser_info(
        &self,
        gate: &mut AccountGate,
        token: &SecretString,
        ids: &[String],
    ) -> Result<Vec<AdAccountInfo>, AdsError> {
        let q = [
            ("advertiser_ids", json!(ids).to_string()),
            ("fields", json!(["name", "currency", "timezone", "display_timezone", "status"]).to_string()),
        ];
        let d = self.get(gate, "advertiser/info/", token, &q).await?;
        let mut out = Vec::new();
        for a in d["list"].as_array().cloned().unwrap_or_default() {
            let account_ref = id_field(&a, "advertiser_id").ok_or_else(|| AdsError::malformed("an advertiser_id"))?;
            let zone = a["display_timezone"].as_str().or(a["timezone"].as_str()).unwrap_or("UTC").to_string();
            out.push(AdAccountInfo {
                platform: AdPlatform::TikTok,
                name: a["name"].as_str().unwrap_or(&account_ref).to_string(),
                account_ref,
                currency: a["currency"].as_str().unwrap_or("").to_string(),
                zone,
                status: a["status"].as_str().unwrap_or("").to_string(),
                disable_reason: None,
            });
        }
        Ok(out)
    }

    /// Daily insights of `advertiser` at `level` for `since..=until`: 30-day windows, every page, rows keyed by
    /// their dimensions (a row that shifted pages while TikTok restated data counts once).
    pub async fn report(
        &self,
        gate: &mut AccountGate,
        token: &SecretString,
        advertiser: &str,
        level: AdLevel,
        since: NaiveDate,
        until: NaiveDate,
    ) -> Result<Vec<InsightRow>, AdsError> {
        let (data_level, id_dim, name_metric) = match level {
            AdLevel::Account => ("AUCTION_ADVERTISER", "advertiser_id", None),
            AdLevel::Campaign => ("AUCTION_CAMPAIGN", "campaign_id", Some("campaign_name")),
            AdLevel::AdSet => ("AUCTION_ADGROUP", "adgroup_id", Some("adgroup_name")),
            AdLevel::Ad => ("AUCTION_AD", "ad_id", Some("ad_name")),
        };
        let mut metrics =
            vec!["spend", "impressions", "clicks", "cpc", "cpm", "ctr", "reach", "frequency", "conversion"];
        if let Some(n) = name_metric {
            metrics.push(n);
        }
        if matches!(level, AdLevel::AdSet | AdLevel::Ad) {
            metrics.push("campaign_id");
        }
        let mut rows: BTreeMap<(String, NaiveDate), InsightRow> = BTreeMap::new();
        for (start, end) in windows(since, until, self.window_days) {
            let mut page = 1u64;
            loop {
                let q = [
                    ("advertiser_id", advertiser.to_string()),
                    ("report_type", "BASIC".to_string()),
                    ("service_type", "AUCTION".to_string()),
                    ("data_level", data_level.to_string()),
                    ("dimensions", json!([id_dim, "stat_time_day"]).to_string()),
                    ("metrics", json!(metrics).to_string()),
                    ("start_date", start.to_string()),
                    ("end_date", end.to_string()),
                    ("page", page.to_string()),
                    ("page_size", "1000".to_string()),
                ];
                let d = self.get(gate, "report/integrated/get/", token, &q).await?;
                for r in d["list"].as_array().cloned().unwrap_or_default() {
                    let row = parse_report_row(&r, level, id_dim, name_metric)?;
                    rows.insert((row.object_id.clone(), row.day), row);
                }
                let total = d["page_info"]["total_page"].as_u64().unwrap_or(1);
                page += 1;
                if page > total {
                    break;
                }
            }
        }
        Ok(rows.into_values().collect())
    }
}

fn parse_report_row(
    r: &Value,
    level: AdLevel,
    id_dim: &str,
    name_metric: Option<&str>,
) -> Result<InsightRow, AdsError> {
    let dims = &r["dimensions"];
    let m = &r["metrics"];
    let day = dims["stat_time_day"]
        .as_str()
        .and_then(|s| NaiveDate::parse_from_str(s.get(..10).unwrap_or(s), "%Y-%m-%d").ok())
        .ok_or_else(|| AdsError::malformed("a stat_time_day on a report row"))?;
    let object_id = id_field(dims, id_dim).ok_or_else(|| AdsError::malformed(&format!("{id_dim} on a report row")))?;
    let campaign_id = match level {
        AdLevel::Account => None,
        AdLevel::Campaign => Some(object_id.clone()),
        _ => id_field(m, "campaign_id"),
    };
    Ok(InsightRow {
        day,
        level,
        object_name: name_metric.and_then(|n| m[n].as_str()).map(str::to_string),
        campaign_id,
        object_id,
        metrics: AdMetrics {
            spend: amount_field(m, "spend")?,
            impressions: count_field(m, "impressions")?,
            reach: count_field(m, "reach")?,
            frequency: amount_field(m, "frequency")?,
            clicks: count_field(m, "clicks")?,
            cpc: amount_field(m, "cpc")?,
            cpm: amount_field(m, "cpm")?,
            ctr: amount_field(m, "ctr")?,
            conversions: amount_field(m, "conversion")?,
            conversion_value: None,
            roas: None,
        },
    })
}

/// Classifies a TikTok Marketing API return code (`docs/ads.md`, "TikTok errors"). `-1`: no envelope.
pub fn tiktok_class(status: u16, code: i64) -> AdsErrorClass {
    match code {
        40100 => AdsErrorClass::Throttled { wait: None },
        40001 | 40102..=40105 => AdsErrorClass::Reconnect,
        40002 | 40101 | 40110 => AdsErrorClass::Permanent,
        50000 | 51000..=51999 => AdsErrorClass::Retryable,
        _ if status == 429 => AdsErrorClass::Throttled { wait: None },
        _ if status >= 500 => AdsErrorClass::Retryable,
        -1 => AdsErrorClass::Retryable,
        _ => AdsErrorClass::Permanent,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use tochen_domain::ads::Amount;

    #[test]
    fn a_contract_row_parses_and_the_time_suffix_is_dropped() {
        let r = json!({"dimensions":{"campaign_id":"1780000000000001","stat_time_day":"2026-11-01 00:00:00"},
            "metrics":{"campaign_name":"BF video","spend":"42.17","impressions":"10250","clicks":"180",
                       "cpc":"0.23","cpm":"4.11","ctr":"1.76","reach":"8800","conversion":"6"}});
        let row = parse_report_row(&r, AdLevel::Campaign, "campaign_id", Some("campaign_name")).unwrap();
        assert_eq!(row.day, NaiveDate::from_ymd_opt(2026, 11, 1).unwrap());
        assert_eq!(row.object_id, "1780000000000001");
        assert_eq!(row.campaign_id.as_deref(), Some("1780000000000001"));
        assert_eq!(row.object_name.as_deref(), Some("BF video"));
        assert_eq!(row.metrics.spend, Some(Amount(42_170_000)));
        assert_eq!(row.metrics.ctr, Some(Amount(1_760_000)));
        assert_eq!(row.metrics.conversions, Some(Amount::from_int(6)));
        assert_eq!(row.metrics.frequency, None, "not sent, not zero");
        assert_eq!(row.metrics.conversion_value, None);
    }

    #[test]
    fn return_codes_follow_the_contract() {
        assert_eq!(tiktok_class(200, 40100), AdsErrorClass::Throttled { wait: None });
        for c in [40001, 40102, 40103, 40104, 40105] {
            assert_eq!(tiktok_class(200, c), AdsErrorClass::Reconnect, "{c}");
        }
        for c in [40002, 40101, 40110] {
            assert_eq!(tiktok_class(200, c), AdsErrorClass::Permanent, "{c}");
        }
        assert_eq!(tiktok_class(200, 50000), AdsErrorClass::Retryable);
        assert_eq!(tiktok_class(200, 51004), AdsErrorClass::Retryable);
        assert_eq!(tiktok_class(429, -1), AdsErrorClass::Throttled { wait: None });
        assert_eq!(tiktok_class(502, -1), AdsErrorClass::Retryable);
    }
}
