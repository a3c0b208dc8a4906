//! A fake TikTok API for Business (Marketing API, reporting), following the contract in `docs/ads.md`: the
//! advertiser token exchange, `oauth2/advertiser/get/`, `advertiser/info/` and `report/integrated/get/` under
//! `/open_api/v1.3/` (and `v1.2`), every answer the `{"code","message","request_id","data"}` envelope with HTTP 200
//! for business errors.
//!
//! `Access-Token` is checked on all but the exchange (missing: 40104, unknown or revoked: 40105); an `auth_code`
//! works once (then 40110); a wrong app id or secret is 40101; an advertiser outside the token's list is 40001;
//! unknown metrics or dimensions, a time dimension other than day/hour and a range over the limit are 40002.
//! Metrics are strings, `stat_time_day` carries ` 00:00:00`, `page`/`page_size` are honoured with `page_info`.
//! Scriptable: a 40100 burst after N report calls ([`FakeTikTokAds::rate_limit_after`]), revocation.

use crate::fake_ads::{aggregate, money, AdDay};
use axum::body::Bytes;
use axum::http::{HeaderMap, Method, Uri};
use axum::response::{IntoResponse, Response};
use axum::Router;
use serde_json::{json, Value};
use std::collections::{BTreeMap, HashMap, HashSet};
use std::sync::{Arc, Mutex};
use tochen_domain::ads::AdLevel;

pub const APP_ID: &str = "7000000000000000001";
pub const SECRET: &str = "fake-tiktok-ads-secret";

/// One call the fake received (headers and secrets not kept).
#[derive(Debug, Clone)]
pub struct TikTokAdsCall {
    pub method: String,
    pub path: String,
    pub params: HashMap<String, String>,
}

#[derive(Debug, Clone)]
pub struct FakeAdvertiser {
    pub name: String,
    pub currency: String,
    pub zone: String,
    pub status: String,
    pub rows: Vec<AdDay>,
}

#[derive(Default)]
struct State {
    advertisers: BTreeMap<String, FakeAdvertiser>,
    codes: HashMap<String, Vec<String>>,
    used_codes: HashSet<String>,
    tokens: HashMap<String, Vec<String>>,
    calls: Vec<TikTokAdsCall>,
    /// (report calls still answered, then this many 40100 answers)
    throttle: Option<(u64, u64)>,
    throttled_answers: u64,
    max_days: i64,
    counter: u64,
}

/// A running fake TikTok Marketing API on 127.0.0.1; stops when dropped.
pub struct FakeTikTokAds {
    base: String,
    state: Arc<Mutex<State>>,
    _task: crate::fake_server::ServerTask,
}

impl FakeTikTokAds {
    pub async fn start() -> Self {
        let state = Arc::new(Mutex::new(State { max_days: 30, ..Default::default() }));
        let s = state.clone();
        let app = Router::new().fallback(move |m: Method, u: Uri, h: HeaderMap, b: Bytes| {
            let s = s.clone();
            async move { handle(&s, m, u, h, b) }
        });
        let (base, task) = crate::fake_server::serve(app).await;
        Self { base, state, _task: task }
    }

    pub fn base_url(&self) -> String {
        self.base.clone()
    }

    pub fn add_advertiser(&self, id: &str, name: &str, currency: &str, zone: &str) {
        self.state.lock().unwrap().advertisers.insert(
            id.into(),
            FakeAdvertiser {
                name: name.into(),
                currency: currency.into(),
                zone: zone.into(),
                status: "STATUS_ENABLE".into(),
                rows: vec![],
            },
        );
    }

    pub fn set_status(&self, id: &str, status: &str) {
        if let Some(a) = self.state.lock().unwrap().advertisers.get_mut(id) {
            a.status = status.into();
        }
    }

    /// Adds delivery rows (a row for the same ad and day replaces the earlier one).
    pub fn put_rows(&self, id: &str, rows: Vec<AdDay>) {
        let mut s = self.state.lock().unwrap();
        let a = s.advertisers.get_mut(id).expect("add_advertiser first");
        for r in rows {
            a.rows.retain(|x| !(x.day == r.day && x.ad_id == r.ad_id));
            a.rows.push(r);
        }
    }

    /// A single-use authorisation code granting `advertisers`.
    pub fn auth_code(&self, advertisers: &[&str]) -> String {
        let mut s = self.state.lock().unwrap();
        s.counter += 1;
        let code = format!("authcode{}", s.counter);
        s.codes.insert(code.clone(), advertisers.iter().map(|a| a.to_string()).collect());
        code
    }

    /// A token for `advertisers` without the exchange.
    pub fn issue_token(&self, token: &str, advertisers: &[&str]) {
        self.state.lock().unwrap().tokens.insert(token.into(), advertisers.iter().map(|a| a.to_string()).collect());
    }

    pub fn revoke(&self, token: &str) {
        self.state.lock().unwrap().tokens.remove(token);
    }

    /// After `ok` more report calls, the next `burst` report calls answer 40100.
    pub fn rate_limit_after(&self, ok: u64, burst: u64) {
        self.state.lock().unwrap().throttle = Some((ok, burst));
    }

    pub fn throttled_answers(&self) -> u64 {
        self.state.lock().unwrap().throttled_answers
    }

    pub fn calls(&self) -> Vec<TikTokAdsCall> {
        self.state.lock().unwrap().calls.clone()
    }

    pub fn calls_to(&self, path_contains: &str) -> Vec<TikTokAdsCall> {
        self.calls().into_iter().filter(|c| c.path.contains(path_contains)).collect()
    }
}

fn envelope(code: i64, message: &str, data: Value) -> Response {
    axum::Json(json!({"code": code, "message": message, "request_id": "2026120212000001", "data": data}))
        .into_response()
}

fn fail(code: i64, message: &str) -> Response {
    envelope(code, message, json!({}))
}

fn handle(state: &Mutex<State>, method: Method, uri: Uri, headers: HeaderMap, body: Bytes) -> Response {
    let mut s = state.lock().unwrap();
    let params = crate::fake_server::collect_params(&uri, &headers, &body);
    let path = uri.path().to_string();
    let mut kept = params.clone();
    kept.remove("secret");
    s.calls.push(TikTokAdsCall { method: method.to_string(), path: path.clone(), params: kept });
    let Some(rest) = path.strip_prefix("/open_api/v1.3/").or_else(|| path.strip_prefix("/open_api/v1.2/")) else {
        return (axum::http::StatusCode::NOT_FOUND, "not found").into_response();
    };
    if rest == "oauth2/access_token/" && method == Method::POST {
        if params.get("app_id").map(String::as_str) != Some(APP_ID)
            || params.get("secret").map(String::as_str) != Some(SECRET)
        {
            return fail(40101, "app_id or secret is invalid");
        }
        let code = params.get("auth_code").cloned().unwrap_or_default();
        if s.used_codes.contains(&code) || !s.codes.contains_key(&code) {
            return fail(40110, "auth_code is invalid, expired or already used");
        }
        s.used_codes.insert(code.clone());
        let ids = s.codes.remove(&code).unwrap_or_default();
        s.counter += 1;
        let token = format!("8f2cfake{}", s.counter);
        s.tokens.insert(token.clone(), ids.clone());
        return envelope(0, "OK", json!({"access_token": token, "advertiser_ids": ids, "scope": [4, 5, 6]}));
    }
    let Some(token) = headers.get("access-token").and_then(|v| v.to_str().ok()).filter(|t| !t.is_empty()) else {
        return fail(40104, "Access token is empty");
    };
    let Some(granted) = s.tokens.get(token).cloned() else {
        return fail(40105, "Access token is invalid or has been revoked");
    };
    match rest {
        "oauth2/advertiser/get/" => {
            if params.get("app_id").map(String::as_str) != Some(APP_ID)
                || params.get("secret").map(String::as_str) != Some(SECRET)
            {
                return fail(40101, "app_id or secret is invalid");
            }
            let list: Vec<Value> = granted
                .iter()
                .filter_map(|id| s.advertisers.get(id).map(|a| json!({"advertiser_id": id, "advertiser_name": a.name})))
                .collect();
            envelope(0, "OK", json!({"list": list}))
        }
        "advertiser/info/" => {
            let ids: Vec<String> = match params.get("advertiser_ids").and_then(|v| serde_json::from_str(v).ok()) {
                Some(ids) => ids,
                None => return fail(40002, "advertiser_ids must be a JSON array of strings"),
            };
            if ids.len() > 100 {
                return fail(40002, "at most 100 advertiser_ids");
            }
            if let Some(bad) = ids.iter().find(|i| !granted.contains(i)) {
                return fail(40001, &format!("no permission for advertiser {bad}"));
            }
            let list: Vec<Value> = ids
                .iter()
                .filter_map(|id| {
                    s.advertisers.get(id).map(|a| {
                        json!({"advertiser_id": id, "name": a.name, "currency": a.currency,
                    "timezone": "Etc/GMT-1", "display_timezone": a.zone, "status": a.status})
                    })
                })
                .collect();
            envelope(0, "OK", json!({"list": list}))
        }
        "report/integrated/get/" => report(&mut s, &params, &granted),
        _ => fail(40002, "unknown endpoint"),
    }
}

const METRICS: &[&str] = &[
    "spend",
    "impressions",
    "clicks",
    "cpc",
    "cpm",
    "ctr",
    "reach",
    "frequency",
    "conversion",
    "cost_per_conversion",
    "conversion_rate",
    "campaign_name",
    "adgroup_name",
    "ad_name",
    "campaign_id",
    "currency",
    "advertiser_name",
];

fn report(s: &mut State, p: &HashMap<String, String>, granted: &[String]) -> Response {
    if let Some((ok, burst)) = s.throttle {
        if ok == 0 {
            if burst > 0 {
                s.throttle = Some((0, burst - 1));
                s.throttled_answers += 1;
                return fail(40100, "Too many requests. Please retry later");
            }
            s.throttle = None;
        } else {
            s.throttle = Some((ok - 1, burst));
        }
    }
    let Some(adv) = p.get("advertiser_id") else { return fail(40002, "advertiser_id is required") };
    if !granted.contains(adv) {
        return fail(40001, &format!("no permission for advertiser {adv}"));
    }
    let Some(a) = s.advertisers.get(adv) else { return fail(40001, "advertiser does not exist") };
    let level = match p.get("data_level").map(String::as_str).unwrap_or("AUCTION_ADVERTISER") {
        "AUCTION_ADVERTISER" => AdLevel::Account,
        "AUCTION_CAMPAIGN" => AdLevel::Campaign,
        "AUCTION_ADGROUP" => AdLevel::AdSet,
        "AUCTION_AD" => AdLevel::Ad,
        other => return fail(40002, &format!("data_level {other} is not valid")),
    };
    let id_dim = match level {
        AdLevel::Account => "advertiser_id",
        AdLevel::Campaign => "campaign_id",
        AdLevel::AdSet => "adgroup_id",
        AdLevel::Ad => "ad_id",
    };
    let Some(dims) = p.get("dimensions").and_then(|d| serde_json::from_str::<Vec<String>>(d).ok()) else {
        return fail(40002, "dimensions is required as a JSON array");
    };
    if !dims.iter().any(|d| d == id_dim) {
        return fail(40002, &format!("dimensions must include {id_dim} at this data_level"));
    }
    let time_dims: Vec<&String> = dims.iter().filter(|d| d.as_str() != id_dim).collect();
    if time_dims.len() > 1 || time_dims.iter().any(|d| d.as_str() != "stat_time_day" && d.as_str() != "stat_time_hour")
    {
        return fail(40002, "dimensions: only one id dimension and stat_time_day or stat_time_hour");
    }
    if time_dims.iter().any(|d| d.as_str() == "stat_time_hour") {
        return fail(40002, "this fake serves stat_time_day only");
    }
    let daily = !time_dims.is_empty();
    let metrics: Vec<String> = match p.get("metrics").map(|m| serde_json::from_str::<Vec<String>>(m)) {
        None => vec!["spend".into(), "impressions".into()],
        Some(Ok(m)) => m,
        Some(Err(_)) => return fail(40002, "metrics must be a JSON array"),
    };
    if let Some(bad) = metrics.iter().find(|m| !METRICS.contains(&m.as_str())) {
        return fail(40002, &format!("unknown metric {bad}"));
    }
    let date = |k: &str| p.get(k).and_then(|d| chrono::NaiveDate::parse_from_str(d, "%Y-%m-%d").ok());
    let (Some(since), Some(until)) = (date("start_date"), date("end_date")) else {
        return fail(40002, "start_date and end_date are required (YYYY-MM-DD)");
    };
    if until < since || (until - since).num_days() + 1 > s.max_days {
        return fail(40002, &format!("the date range must be 1 to {} days", s.max_days));
    }
    let page: usize = p.get("page").and_then(|v| v.parse().ok()).filter(|n| *n >= 1).unwrap_or(1);
    let size: usize = p.get("page_size").and_then(|v| v.parse().ok()).filter(|n| (1..=1000).contains(n)).unwrap_or(10);
    let all = aggregate(&a.rows, level, adv, &a.name, since, until, daily);
    let rows: Vec<Value> = all
        .iter()
        .map(|g| {
            let mut d = json!({id_dim: g.id});
            if daily {
                d["stat_time_day"] = json!(format!("{} 00:00:00", g.start));
            }
            let mut m = json!({});
            for k in &metrics {
                let v: Option<String> = match k.as_str() {
                    "spend" => Some(money(g.spend_cents)),
                    "impressions" => Some(g.impressions.to_string()),
                    "clicks" => Some(g.clicks.to_string()),
                    "reach" => Some(g.reach.to_string()),
                    "cpc" => Some(g.cpc().unwrap_or_else(|| "0".into())),
                    "cpm" => Some(g.cpm().unwrap_or_else(|| "0".into())),
                    "ctr" => Some(g.ctr().unwrap_or_else(|| "0".into())),
                    "frequency" => Some(g.frequency().unwrap_or_else(|| "0".into())),
                    "conversion" => Some(g.purchases.to_string()),
                    "campaign_name" | "adgroup_name" | "ad_name" | "advertiser_name" => Some(g.name.clone()),
                    "campaign_id" => Some(g.campaign_id.clone()),
                    "currency" => Some(a.currency.clone()),
                    _ => None,
                };
                if let Some(v) = v {
                    m[k.as_str()] = json!(v);
                }
            }
            json!({"dimensions": d, "metrics": m})
        })
        .collect();
    let total = rows.len();
    let total_page = total.div_ceil(size).max(1);
    let list: Vec<Value> = rows.into_iter().skip((page - 1) * size).take(size).collect();
    envelope(
        0,
        "OK",
        json!({"list": list, "page_info": {"page": page, "page_size": size, "total_number": total, "total_page": total_page}}),
    )
}
