//! A fake Meta Marketing API (ad reporting), following the contract in `docs/ads.md`: `/vNN.0/me/adaccounts`,
//! `/act_{id}` (status), `/act_{id}/insights` (GET synchronous, POST starts an asynchronous report run),
//! `/{report_run_id}`, `/{report_run_id}/insights` and the node-level `/{campaign|adset|ad id}/insights` edges.
//!
//! Every metric is a string and absent metrics are absent keys; `fields`, `level`, `time_increment`,
//! `time_range`/`date_preset` (in the account's time zone) and `limit`/`after` with `paging.next` are honoured. The
//! three usage headers come on every answer, driven by a per-account percentage that grows by
//! [`FakeMetaAds::set_pct_per_call`] per call; at 100 % a call is refused with code 80000 and an
//! `estimated_time_to_regain_access`, and counted in [`FakeMetaAds::calls_over_limit`]. Scriptable: any error
//! code on the next matching call ([`FakeMetaAds::fail_next`]), token revocation (code 190), report runs that take
//! N polls or fail once.

use crate::fake_ads::{aggregate, money, AdDay, Agg};
use axum::body::Bytes;
use axum::http::{HeaderMap, HeaderValue, Method, StatusCode, Uri};
use axum::response::{IntoResponse, Response};
use axum::Router;
use chrono::{Datelike, NaiveDate, Utc};
use serde_json::{json, Value};
use std::collections::{BTreeMap, HashMap, VecDeque};
use std::sync::{Arc, Mutex};
use tochen_domain::ads::AdLevel;

/// One call the fake received (token removed).
#[derive(Debug, Clone)]
pub struct MetaAdsCall {
    pub method: String,
    pub path: String,
    pub params: HashMap<String, String>,
}

/// An ad account of the fake.
#[derive(Debug, Clone)]
pub struct FakeAdAccount {
    pub name: String,
    pub currency: String,
    pub zone: String,
    pub status: i64,
    pub disable_reason: i64,
    pub rows: Vec<AdDay>,
}

struct Run {
    account: String,
    params: HashMap<String, String>,
    polls: u32,
    fail: bool,
    /// The run's result rows, computed on the first page asked for (a finished run's result does not change, and
    /// recomputing it for each page made the fake, not the product, the cost of the ads benchmark).
    rows: Option<std::sync::Arc<Vec<Value>>>,
}

struct Script {
    path_contains: String,
    status: u16,
    code: i64,
    subcode: Option<i64>,
    regain_minutes: u64,
}

/// (scopes, bare account ids) a token can read.
type Grant = (Vec<String>, Vec<String>);

#[derive(Default)]
struct State {
    accounts: BTreeMap<String, FakeAdAccount>,
    /// token -> (scopes, bare account ids it can read)
    tokens: HashMap<String, (Vec<String>, Vec<String>)>,
    calls: Vec<MetaAdsCall>,
    usage: HashMap<String, f64>,
    pct_per_call: f64,
    scripts: VecDeque<Script>,
    runs: HashMap<String, Run>,
    polls_to_complete: u32,
    fail_next_run: bool,
    calls_over_limit: u64,
    counter: u64,
    today: Option<NaiveDate>,
    base: String,
    /// What the next Facebook Login grants.
    login_grant: Grant,
    /// code -> (redirect_uri, grant); short-lived token -> grant.
    codes: HashMap<String, (String, Grant)>,
    short_tokens: HashMap<String, Grant>,
}

/// A running fake Marketing API on 127.0.0.1; stops when dropped.
pub struct FakeMetaAds {
    base: String,
    state: Arc<Mutex<State>>,
    _task: crate::fake_server::ServerTask,
}

impl FakeMetaAds {
    pub async fn start() -> Self {
        let state = Arc::new(Mutex::new(State { polls_to_complete: 3, ..Default::default() }));
        let s = state.clone();
        let app = Router::new().fallback(move |m: Method, u: Uri, h: HeaderMap, b: Bytes| {
            let s = s.clone();
            async move { handle(&s, m, u, h, b) }
        });
        let (base, task) = crate::fake_server::serve(app).await;
        state.lock().unwrap().base = base.clone();
        Self { base, state, _task: task }
    }

    pub fn base_url(&self) -> String {
        self.base.clone()
    }

    /// Adds (or replaces) the ad account with the bare number `id`.
    pub fn add_account(&self, id: &str, name: &str, currency: &str, zone: &str) {
        self.state.lock().unwrap().accounts.insert(
            id.into(),
            FakeAdAccount {
                name: name.into(),
                currency: currency.into(),
                zone: zone.into(),
                status: 1,
                disable_reason: 0,
                rows: Vec::new(),
            },
        );
    }

    /// What Facebook Login grants from now on: `scopes` over the ad accounts `accounts` (bare numbers).
    pub fn grant_on_login(&self, scopes: &[&str], accounts: &[&str]) {
        self.state.lock().unwrap().login_grant =
            (scopes.iter().map(|x| x.to_string()).collect(), accounts.iter().map(|x| x.to_string()).collect());
    }

    pub fn set_status(&self, id: &str, status: i64, disable_reason: i64) {
        if let Some(a) = self.state.lock().unwrap().accounts.get_mut(id) {
            a.status = status;
            a.disable_reason = disable_reason;
        }
    }

    /// Adds delivery rows to an account (a later row for the same ad and day replaces the earlier one: late
    /// attribution restating a day).
    pub fn put_rows(&self, id: &str, rows: Vec<AdDay>) {
        let mut s = self.state.lock().unwrap();
        let a = s.accounts.get_mut(id).expect("add_account first");
        for r in rows {
            a.rows.retain(|x| !(x.day == r.day && x.ad_id == r.ad_id));
            a.rows.push(r);
        }
    }

    /// A token that can read `accounts` with the given scopes (`ads_read` for reporting).
    pub fn issue_token(&self, token: &str, scopes: &[&str], accounts: &[&str]) {
        self.state.lock().unwrap().tokens.insert(
            token.into(),
            (scopes.iter().map(|s| s.to_string()).collect(), accounts.iter().map(|s| s.to_string()).collect()),
        );
    }

    /// The token stops working (code 190 from now on).
    pub fn revoke(&self, token: &str) {
        self.state.lock().unwrap().tokens.remove(token);
    }

    /// The fake's "today" (else today in each account's zone).
    pub fn set_today(&self, d: NaiveDate) {
        self.state.lock().unwrap().today = Some(d);
    }

    /// Usage percentage of an account (all three headers report it).
    pub fn set_usage(&self, id: &str, pct: f64) {
        self.state.lock().unwrap().usage.insert(id.into(), pct);
    }

    pub fn usage(&self, id: &str) -> f64 {
        self.state.lock().unwrap().usage.get(id).copied().unwrap_or(0.0)
    }

    /// How much each call to an account's paths adds to its usage percentage (0 by default).
    pub fn set_pct_per_call(&self, pct: f64) {
        self.state.lock().unwrap().pct_per_call = pct;
    }

    /// Calls that arrived while their account was at 100 % (a well-behaved client makes none after the first).
    pub fn calls_over_limit(&self) -> u64 {
        self.state.lock().unwrap().calls_over_limit
    }

    /// The next call whose path contains `path_contains` is refused with this error (HTTP 400 unless `status`).
    pub fn fail_next(&self, path_contains: &str, status: u16, code: i64, subcode: Option<i64>, regain_minutes: u64) {
        self.state.lock().unwrap().scripts.push_back(Script {
            path_contains: path_contains.into(),
            status,
            code,
            subcode,
            regain_minutes,
        });
    }

    /// Report runs complete after this many status polls (default 3).
    pub fn set_polls_to_complete(&self, n: u32) {
        self.state.lock().unwrap().polls_to_complete = n;
    }

    /// The next report run ends `Job Failed`.
    pub fn fail_next_run(&self) {
        self.state.lock().unwrap().fail_next_run = true;
    }

    pub fn calls(&self) -> Vec<MetaAdsCall> {
        self.state.lock().unwrap().calls.clone()
    }

    pub fn calls_to(&self, path_contains: &str) -> Vec<MetaAdsCall> {
        self.calls().into_iter().filter(|c| c.path.contains(path_contains)).collect()
    }

    pub fn call_count(&self) -> usize {
        self.state.lock().unwrap().calls.len()
    }
}

fn error(status: u16, code: i64, subcode: Option<i64>, message: &str) -> (StatusCode, Value) {
    let mut e = json!({"message": message, "type": "OAuthException", "code": code, "fbtrace_id": "AfakeTrace"});
    if let Some(sc) = subcode {
        e["error_subcode"] = json!(sc);
    }
    (StatusCode::from_u16(status).unwrap_or(StatusCode::BAD_REQUEST), json!({"error": e}))
}

fn handle(state: &Mutex<State>, method: Method, uri: Uri, headers: HeaderMap, body: Bytes) -> Response {
    let mut s = state.lock().unwrap();
    let mut params = crate::fake_server::collect_params(&uri, &headers, &body);
    let token = params.remove("access_token");
    let path = uri.path().to_string();
    s.calls.push(MetaAdsCall { method: method.to_string(), path: path.clone(), params: params.clone() });
    let segs: Vec<&str> = path.trim_matches('/').split('/').collect();
    let versioned = segs.first().is_some_and(|v| {
        v.strip_prefix('v')
            .and_then(|r| r.strip_suffix(".0"))
            .is_some_and(|n| !n.is_empty() && n.bytes().all(|b| b.is_ascii_digit()))
    });
    if !versioned || segs.len() < 2 {
        return json_response(error(400, 2500, None, "Unknown path components"), None, 0.0);
    }
    let rest = &segs[1..];
    if let Some(r) = login(&mut s, rest, &params) {
        return r;
    }
    // The account the call is about, for the usage headers.
    let account: Option<String> = match rest[0] {
        a if a.starts_with("act_") => Some(a.trim_start_matches("act_").to_string()),
        run if s.runs.contains_key(run) => Some(s.runs[run].account.clone()),
        node => s
            .accounts
            .iter()
            .find(|(_, a)| a.rows.iter().any(|r| r.campaign_id == node || r.adset_id == node || r.ad_id == node))
            .map(|(k, _)| k.clone()),
    };
    let Some((scopes, readable)) = token.as_deref().and_then(|t| s.tokens.get(t)).cloned() else {
        return json_response(
            error(400, 190, Some(460), "Error validating access token: the session is invalid"),
            None,
            0.0,
        );
    };
    if let Some(i) = s.scripts.iter().position(|x| path.contains(&x.path_contains)) {
        let x = s.scripts.remove(i).unwrap();
        let pct = account.as_ref().map(|a| s.usage.get(a).copied().unwrap_or(0.0)).unwrap_or(0.0);
        let (st, v) = error(x.status, x.code, x.subcode, "scripted failure");
        return json_response((st, v), account.as_deref(), if x.regain_minutes > 0 { 100.0_f64.max(pct) } else { pct })
            .with_regain(x.regain_minutes);
    }
    let mut pct = 0.0;
    if let Some(a) = &account {
        let u = s.usage.entry(a.clone()).or_insert(0.0);
        if *u >= 100.0 {
            s.calls_over_limit += 1;
            let (st, v) = error(
                400,
                80000,
                Some(2446079),
                "There have been too many calls from this ad-account. Wait a bit and try again.",
            );
            return json_response((st, v), Some(a), 100.0).with_regain(5);
        }
        pct = *u;
        let add = s.pct_per_call;
        let u = s.usage.get_mut(a).unwrap();
        *u = (*u + add).min(100.0);
        pct = pct.max(*u);
    }
    let answer = route(&mut s, &method, rest, &params, &scopes, &readable);
    json_response(answer, account.as_deref(), pct)
}

/// Facebook Login (meta.md): the dialog redirects back with a single-use code bound to its redirect URI; the code
/// becomes a short-lived token, which `grant_type=fb_exchange_token` turns into the long-lived one the fake then
/// accepts with the grant of [`FakeMetaAds::grant_on_login`].
fn login(s: &mut State, rest: &[&str], params: &HashMap<String, String>) -> Option<Response> {
    let p = |k: &str| params.get(k).cloned().unwrap_or_default();
    match rest {
        ["dialog", "oauth"] => {
            s.counter += 1;
            let code = format!("adcode{}", s.counter);
            let grant = s.login_grant.clone();
            s.codes.insert(code.clone(), (p("redirect_uri"), grant));
            let sep = if p("redirect_uri").contains('?') { '&' } else { '?' };
            let to = format!("{}{sep}code={code}&state={}", p("redirect_uri"), p("state"));
            Some((StatusCode::FOUND, [(axum::http::header::LOCATION, to)]).into_response())
        }
        ["oauth", "access_token"] => {
            s.counter += 1;
            if p("grant_type") == "fb_exchange_token" {
                let Some(grant) = s.short_tokens.remove(&p("fb_exchange_token")) else {
                    return Some(json_response(error(400, 190, Some(463), "Session has expired"), None, 0.0));
                };
                let long = format!("EAAlong{}", s.counter);
                s.tokens.insert(long.clone(), grant);
                return Some(json_response(
                    (StatusCode::OK, json!({"access_token": long, "token_type": "bearer", "expires_in": 5183944})),
                    None,
                    0.0,
                ));
            }
            match s.codes.remove(&p("code")) {
                Some((redirect, grant)) if redirect == p("redirect_uri") => {
                    let short = format!("EAAshort{}", s.counter);
                    s.short_tokens.insert(short.clone(), grant);
                    Some(json_response(
                        (StatusCode::OK, json!({"access_token": short, "token_type": "bearer", "expires_in": 5400})),
                        None,
                        0.0,
                    ))
                }
                _ => Some(json_response(error(400, 100, Some(36007), "Invalid verification code format."), None, 0.0)),
            }
        }
        _ => None,
    }
}

trait WithRegain {
    fn with_regain(self, minutes: u64) -> Response;
}

impl WithRegain for Response {
    fn with_regain(mut self, minutes: u64) -> Response {
        if let Some(v) = self.headers().get("x-business-use-case-usage").and_then(|v| v.to_str().ok()) {
            let fixed = v.replace(
                "\"estimated_time_to_regain_access\":0",
                &format!("\"estimated_time_to_regain_access\":{minutes}"),
            );
            if let Ok(h) = HeaderValue::from_str(&fixed) {
                self.headers_mut().insert("x-business-use-case-usage", h);
            }
        }
        self
    }
}

fn json_response((status, v): (StatusCode, Value), account: Option<&str>, pct: f64) -> Response {
    let mut resp = (status, axum::Json(v)).into_response();
    if let Some(a) = account {
        let p = (pct * 100.0).round() / 100.0;
        let h = resp.headers_mut();
        let buc = json!({a: [{"type":"ads_insights","call_count":p,"total_cputime":p/2.0,"total_time":p/2.0,
            "estimated_time_to_regain_access":0,"ads_api_access_tier":"standard_access"}]});
        let acc = json!({"acc_id_util_pct": p, "reset_time_duration": if p >= 100.0 { 300 } else { 0 }, "ads_api_access_tier":"standard_access"});
        let thr = json!({"app_id_util_pct": 0, "acc_id_util_pct": p, "ads_api_access_tier":"standard_access"});
        for (k, v) in
            [("x-business-use-case-usage", buc), ("x-ad-account-usage", acc), ("x-fb-ads-insights-throttle", thr)]
        {
            if let Ok(hv) = HeaderValue::from_str(&v.to_string()) {
                h.insert(k, hv);
            }
        }
    }
    resp
}

fn route(
    s: &mut State,
    method: &Method,
    rest: &[&str],
    params: &HashMap<String, String>,
    scopes: &[String],
    readable: &[String],
) -> (StatusCode, Value) {
    let ok = |v: Value| (StatusCode::OK, v);
    match (method.as_str(), rest) {
        ("GET", ["me", "adaccounts"]) => {
            if !scopes.iter().any(|x| x == "ads_read" || x == "ads_management") {
                return error(403, 200, None, "(#200) Requires ads_read permission to manage the object");
            }
            let all: Vec<Value> = s
                .accounts
                .iter()
                .filter(|(id, _)| readable.contains(id))
                .map(|(id, a)| account_json(id, a, params.get("fields")))
                .collect();
            ok(page(&s.base, "me/adaccounts", params, &all))
        }
        ("GET", [act]) if act.starts_with("act_") => {
            let id = act.trim_start_matches("act_");
            match s.accounts.get(id).filter(|_| readable.iter().any(|r| r == id)) {
                Some(a) => ok(account_json(id, a, params.get("fields"))),
                None => error(
                    400,
                    100,
                    Some(33),
                    "Unsupported get request. Object does not exist or cannot be loaded due to missing permissions",
                ),
            }
        }
        (m, [act, "insights"]) if act.starts_with("act_") => {
            let id = act.trim_start_matches("act_").to_string();
            if !s.accounts.contains_key(&id) || !readable.contains(&id) {
                return error(
                    400,
                    100,
                    Some(33),
                    "Unsupported get request. Object does not exist or cannot be loaded due to missing permissions",
                );
            }
            if m == "POST" {
                s.counter += 1;
                let run_id = format!("{}", 6_200_000_000_000u64 + s.counter);
                let fail = std::mem::take(&mut s.fail_next_run);
                s.runs.insert(run_id.clone(), Run { account: id, params: params.clone(), polls: 0, fail, rows: None });
                return ok(json!({"report_run_id": run_id}));
            }
            let path = format!("{act}/insights");
            match insights(s, &id, None, params) {
                Ok(rows) => ok(page(&s.base, &path, params, &rows)),
                Err(e) => e,
            }
        }
        ("GET", [run]) if s.runs.contains_key(*run) => {
            let polls_needed = s.polls_to_complete;
            let r = s.runs.get_mut(*run).unwrap();
            r.polls += 1;
            let (status, pct) = if r.polls == 1 {
                ("Job Not Started", 0)
            } else if r.polls <= polls_needed {
                ("Job Running", (100 * r.polls / (polls_needed + 1)).min(99))
            } else if r.fail {
                ("Job Failed", 40)
            } else {
                ("Job Completed", 100)
            };
            let p = &r.params;
            let range = time_range(p).unwrap_or((NaiveDate::MIN, NaiveDate::MIN));
            ok(json!({"id": run, "account_id": r.account, "async_status": status, "async_percent_completion": pct,
                "date_start": range.0.to_string(), "date_stop": range.1.to_string(), "time_ref": 1764000000}))
        }
        ("GET", [run, "insights"]) if s.runs.contains_key(*run) => {
            let r = &s.runs[*run];
            if r.fail || r.polls <= s.polls_to_complete {
                return error(400, 100, None, "the report run is not completed");
            }
            let (account, mut p, cached) = (r.account.clone(), r.params.clone(), r.rows.clone());
            for k in ["limit", "after"] {
                match params.get(k) {
                    Some(v) => p.insert(k.to_string(), v.clone()),
                    None => p.remove(k),
                };
            }
            let rows = match cached {
                Some(rows) => rows,
                None => match insights(s, &account, None, &p) {
                    Ok(rows) => {
                        let rows = std::sync::Arc::new(rows);
                        s.runs.get_mut(*run).expect("the run").rows = Some(rows.clone());
                        rows
                    }
                    Err(e) => return e,
                },
            };
            ok(page(&s.base, &format!("{run}/insights"), &p, &rows))
        }
        ("GET", [node, "insights"]) => {
            if s.accounts.contains_key(*node) {
                return error(400, 100, None, "(#100) ad account paths need the act_ prefix");
            }
            let owner = s.accounts.iter().find_map(|(id, a)| {
                a.rows.iter().find_map(|r| {
                    if r.campaign_id == *node {
                        Some((id.clone(), AdLevel::Campaign))
                    } else if r.adset_id == *node {
                        Some((id.clone(), AdLevel::AdSet))
                    } else if r.ad_id == *node {
                        Some((id.clone(), AdLevel::Ad))
                    } else {
                        None
                    }
                })
            });
            match owner.filter(|(id, _)| readable.contains(id)) {
                Some((id, lvl)) => match insights(s, &id, Some((node.to_string(), lvl)), params) {
                    Ok(rows) => ok(page(&s.base, &format!("{node}/insights"), params, &rows)),
                    Err(e) => e,
                },
                None => {
                    error(400, 100, Some(33), "Object does not exist or cannot be loaded due to missing permissions")
                }
            }
        }
        _ => error(400, 100, None, "Unsupported request"),
    }
}

fn account_json(id: &str, a: &FakeAdAccount, fields: Option<&String>) -> Value {
    let full = json!({"id": format!("act_{id}"), "account_id": id, "name": a.name, "currency": a.currency,
        "timezone_name": a.zone, "timezone_offset_hours_utc": 0, "account_status": a.status, "disable_reason": a.disable_reason});
    match fields {
        Some(f) => {
            let mut v = json!({"id": format!("act_{id}")});
            for k in f.split(',') {
                if let Some(x) = full.get(k.trim()) {
                    v[k.trim()] = x.clone();
                }
            }
            v
        }
        None => json!({"id": format!("act_{id}"), "account_id": id}),
    }
}

fn time_range(p: &HashMap<String, String>) -> Option<(NaiveDate, NaiveDate)> {
    let v: Value = serde_json::from_str(p.get("time_range")?).ok()?;
    let d = |k: &str| NaiveDate::parse_from_str(v[k].as_str()?, "%Y-%m-%d").ok();
    Some((d("since")?, d("until")?))
}

fn preset(name: &str, today: NaiveDate) -> Option<(NaiveDate, NaiveDate)> {
    let days = |n: i64| today - chrono::Duration::days(n);
    Some(match name {
        "today" => (today, today),
        "yesterday" => (days(1), days(1)),
        "last_3d" => (days(3), days(1)),
        "last_7d" => (days(7), days(1)),
        "last_14d" => (days(14), days(1)),
        "last_28d" => (days(28), days(1)),
        "last_30d" => (days(30), days(1)),
        "last_90d" => (days(90), days(1)),
        "this_month" => (today.with_day(1)?, today),
        "maximum" | "data_maximum" => (days(37 * 31), today),
        _ => return None,
    })
}

type Answer = (StatusCode, Value);

fn insights(
    s: &State,
    account: &str,
    node: Option<(String, AdLevel)>,
    p: &HashMap<String, String>,
) -> Result<Vec<Value>, Answer> {
    let a = &s.accounts[account];
    let default_level = node.as_ref().map_or(AdLevel::Account, |(_, l)| *l);
    let level = match p.get("level") {
        Some(l) => AdLevel::parse(l)
            .ok_or_else(|| error(400, 100, None, "(#100) level must be one of account, campaign, adset, ad"))?,
        None => default_level,
    };
    let zone: chrono_tz::Tz = a.zone.parse().unwrap_or(chrono_tz::UTC);
    let today = s.today.unwrap_or_else(|| Utc::now().with_timezone(&zone).date_naive());
    let (since, until) = match time_range(p) {
        Some(r) => r,
        None if p.contains_key("time_range") => {
            return Err(error(400, 100, None, "(#100) time_range is not valid JSON with since and until"))
        }
        None => preset(p.get("date_preset").map_or("last_30d", String::as_str), today)
            .ok_or_else(|| error(400, 100, None, "(#100) date_preset is not valid"))?,
    };
    if since > until {
        return Err(error(400, 100, None, "(#100) since must be before until"));
    }
    let daily = match p.get("time_increment").map(String::as_str) {
        None | Some("all_days") => false,
        Some("1") => true,
        Some(_) => return Err(error(400, 100, None, "(#100) this fake supports time_increment 1 or all_days")),
    };
    let rows: Vec<AdDay> = match &node {
        Some((id, _)) => {
            a.rows.iter().filter(|r| r.campaign_id == *id || r.adset_id == *id || r.ad_id == *id).cloned().collect()
        }
        None => a.rows.clone(),
    };
    let fields: Vec<String> = p
        .get("fields")
        .map(|f| f.split(',').map(|x| x.trim().to_string()).collect())
        .unwrap_or_else(|| vec!["spend".into(), "impressions".into()]);
    Ok(aggregate(&rows, level, account, &a.name, since, until, daily)
        .iter()
        .map(|g| row_json(g, account, &fields))
        .collect())
}

fn row_json(g: &Agg, account: &str, fields: &[String]) -> Value {
    let mut all: Vec<(&str, Option<Value>)> = vec![
        ("account_id", Some(json!(account))),
        ("spend", Some(json!(money(g.spend_cents)))),
        ("impressions", Some(json!(g.impressions.to_string()))),
        ("reach", (g.reach > 0).then(|| json!(g.reach.to_string()))),
        ("clicks", Some(json!(g.clicks.to_string()))),
        ("cpc", g.cpc().map(Value::from)),
        ("cpm", g.cpm().map(Value::from)),
        ("ctr", g.ctr().map(Value::from)),
        ("frequency", g.frequency().map(Value::from)),
    ];
    if g.purchases > 0 {
        let mut actions = vec![
            json!({"action_type":"purchase","value": g.purchases.to_string()}),
            json!({"action_type":"omni_purchase","value": g.purchases.to_string()}),
        ];
        if g.clicks > 0 {
            actions.insert(0, json!({"action_type":"link_click","value": g.clicks.to_string()}));
        }
        all.push(("actions", Some(json!(actions))));
        all.push(("conversions", Some(json!([{"action_type":"omni_purchase","value": g.purchases.to_string()}]))));
    }
    if g.purchase_value_cents > 0 {
        all.push((
            "action_values",
            Some(json!([{"action_type":"omni_purchase","value": money(g.purchase_value_cents)},
            {"action_type":"purchase","value": money(g.purchase_value_cents)}])),
        ));
        all.push(("purchase_roas", g.roas().map(|r| json!([{"action_type":"omni_purchase","value": r}]))));
    }
    let mut v = json!({"date_start": g.start.to_string(), "date_stop": g.stop.to_string()});
    for (k, val) in all {
        if let (true, Some(val)) = (fields.iter().any(|f| f == k), val) {
            v[k] = val;
        }
    }
    for f in fields {
        match f.as_str() {
            "campaign_id" => v["campaign_id"] = json!(g.campaign_id),
            "account_name" | "campaign_name" | "adset_name" | "ad_name" => v[f.as_str()] = json!(g.name),
            "adset_id" | "ad_id" => v[f.as_str()] = json!(g.id),
            _ => {}
        }
    }
    v
}

/// One page of `all` by `limit` (default 25) and the `after` cursor, with `paging.cursors` and `paging.next`.
fn page(base: &str, path: &str, p: &HashMap<String, String>, all: &[Value]) -> Value {
    let limit: usize = p.get("limit").and_then(|l| l.parse().ok()).filter(|l| *l > 0).unwrap_or(25);
    let start: usize = p.get("after").and_then(|a| a.strip_prefix("cur")).and_then(|n| n.parse().ok()).unwrap_or(0);
    let end = (start + limit).min(all.len());
    let data: Vec<Value> = all.get(start..end).map(<[Value]>::to_vec).unwrap_or_default();
    let mut paging = json!({"cursors": {"before": format!("cur{start}"), "after": format!("cur{end}")}});
    if end < all.len() {
        let mut q: Vec<(String, String)> =
            p.iter().filter(|(k, _)| k.as_str() != "after").map(|(k, v)| (k.clone(), v.clone())).collect();
        q.sort();
        q.push(("after".into(), format!("cur{end}")));
        let qs = url::form_urlencoded::Serializer::new(String::new()).extend_pairs(q).finish();
        paging["next"] = json!(format!("{base}/v25.0/{path}?{qs}"));
    }
    json!({"data": data, "paging": paging})
}
