//! Ad numbers as text (Telegram HTML, email) and JSON (the `report.generated` webhook), and the daily spend and
//! results chart. Words come from `ads.*` locale keys; names from the platforms are escaped. Money is printed with
//! two decimals and its currency code, always next to the account it belongs to or its currency's own total.

use super::{change_pct, AccountGlance, AccountReport, AdMetric, AdTotals, AdsReport, CampaignLine};
use crate::email::{EmailContent, CHART_CID};
use crate::reports::render::{format_int, html_to_text};
use serde_json::json;
use tochen_domain::ads::{AdPlatform, Amount};
use tochen_domain::html::escape_html;
use tochen_domain::i18n::{t, tf};

/// `1234.5` as `1,234.50` with the locale's separators (`places` decimals).
pub fn format_amount(a: Amount, places: u32, lang: &str) -> String {
    let s = a.fixed(places);
    let (neg, s) = match s.strip_prefix('-') {
        Some(r) => (true, r.to_string()),
        None => (false, s),
    };
    let (int, frac) = s.split_once('.').unwrap_or((&s, ""));
    let grouped = format_int(int.parse::<i64>().unwrap_or(0), lang);
    let mut out = if neg { format!("-{grouped}") } else { grouped };
    if !frac.is_empty() {
        out.push_str(&t(lang, "report.decimal_separator"));
        out.push_str(frac);
    }
    out
}

/// A metric's value as shown: money with its currency, percentages with `%`, counts grouped.
pub fn metric_value(m: AdMetric, v: Option<Amount>, currency: &str, lang: &str) -> String {
    let Some(v) = v else { return t(lang, "report.missing") };
    match m {
        AdMetric::Spend | AdMetric::Cpc | AdMetric::Cpm | AdMetric::CostPerResult => {
            format!("{} {}", format_amount(v, 2, lang), escape_html(currency))
        }
        AdMetric::Ctr => format!("{}%", format_amount(v, 2, lang)),
        AdMetric::Impressions | AdMetric::Clicks => format_int(v.whole(), lang),
        AdMetric::Results => {
            if v.0 % 1_000_000 == 0 {
                format_int(v.whole(), lang)
            } else {
                format_amount(v, 2, lang)
            }
        }
    }
}

pub fn metric_name(m: AdMetric, lang: &str) -> String {
    t(lang, &format!("ads.metric_{}", m.as_str()))
}

pub fn platform_name(p: AdPlatform) -> &'static str {
    match p {
        AdPlatform::Meta => "Meta",
        AdPlatform::TikTok => "TikTok",
    }
}

/// One line of the main metrics: `spend 12.30 EUR · impr. 1,234 · clicks 56 · CTR 4.54% · CPC 0.22 EUR · ...`.
pub fn short_line(t_: &AdTotals, currency: &str, lang: &str) -> String {
    if t_.is_empty() {
        return t(lang, "ads.no_delivery");
    }
    [
        AdMetric::Spend,
        AdMetric::Impressions,
        AdMetric::Clicks,
        AdMetric::Ctr,
        AdMetric::Cpc,
        AdMetric::Cpm,
        AdMetric::Results,
    ]
    .iter()
    .map(|m| format!("{} {}", metric_name(*m, lang), metric_value(*m, t_.metric(*m), currency, lang)))
    .collect::<Vec<_>>()
    .join(" · ")
}

/// The account's heading: name, platform, currency and, when it is not active, a warning with its status.
pub fn account_heading(a: &tochen_store::AdAccount, lang: &str) -> String {
    let mut s =
        format!("<b>{}</b> · {} · {}", escape_html(&a.name), platform_name(a.platform), escape_html(&a.currency));
    if !a.is_valid {
        s.push_str(&format!(" · {}", t(lang, "ads.needs_reconnect")));
    } else if !tochen_platforms::ads::status_is_active(a.platform, &a.status) {
        s.push_str(&format!(" · {}", tf(lang, "ads.status_warning", &[("status", &escape_html(&a.status))])));
    }
    s
}

/// The `/ads` overview: per account today, yesterday, last 7 days.
pub fn glance_html(glances: &[AccountGlance], lang: &str) -> String {
    let mut lines = vec![t(lang, "ads.title")];
    for g in glances {
        let cur = &g.account.currency;
        lines.push(String::new());
        lines.push(account_heading(&g.account, lang));
        lines.push(tf(lang, "ads.today", &[("line", &short_line(&g.today, cur, lang))]));
        lines.push(tf(lang, "ads.yesterday", &[("line", &short_line(&g.yesterday, cur, lang))]));
        lines.push(tf(lang, "ads.last_7_days", &[("line", &short_line(&g.week, cur, lang))]));
    }
    lines.join("\n")
}

/// A page of one account's campaigns, worst first.
pub fn campaigns_html(account: &tochen_store::AdAccount, lines: &[CampaignLine], lang: &str) -> String {
    let mut out = vec![tf(lang, "ads.campaigns_title", &[("account", &account_heading(account, lang))])];
    if lines.is_empty() {
        out.push(t(lang, "ads.no_campaigns"));
    }
    for (i, l) in lines.iter().enumerate() {
        out.push(format!("{}. <b>{}</b>\n{}", i + 1, escape_html(&l.name), campaign_line(l, &account.currency, lang)));
    }
    out.join("\n")
}

fn campaign_line(l: &CampaignLine, currency: &str, lang: &str) -> String {
    [AdMetric::Spend, AdMetric::Results, AdMetric::CostPerResult, AdMetric::Ctr, AdMetric::Cpc]
        .iter()
        .map(|m| format!("{} {}", metric_name(*m, lang), metric_value(*m, l.totals.metric(*m), currency, lang)))
        .collect::<Vec<_>>()
        .join(" · ")
}

fn change(pct: Option<f64>) -> String {
    match pct {
        Some(p) if p.is_finite() => format!(" ({}{:.1}%)", if p > 0.0 { "+" } else { "" }, p),
        _ => String::new(),
    }
}

fn range_label(r: (chrono::NaiveDate, chrono::NaiveDate)) -> String {
    format!("{}–{}", r.0.format("%d.%m"), r.1.format("%d.%m.%Y"))
}

fn account_block(a: &AccountReport, r: &AdsReport, lang: &str) -> Vec<String> {
    let cur = &a.account.currency;
    let mut lines = vec![format!("{} · {}", account_heading(&a.account, lang), range_label(a.range))];
    if a.totals.is_empty() {
        lines.push(t(lang, "ads.no_delivery"));
        return lines;
    }
    for m in r.config.preset.metrics() {
        let (now, before) = (a.totals.metric(*m), a.previous.metric(*m));
        lines.push(format!(
            "{}: {}{}",
            metric_name(*m, lang),
            metric_value(*m, now, cur, lang),
            change(change_pct(now, before))
        ));
    }
    let rank = r.config.rank_by;
    let list = |key: &str, v: &[CampaignLine]| -> Vec<String> {
        if v.is_empty() {
            return Vec::new();
        }
        let mut out = vec![tf(lang, key, &[("metric", &metric_name(rank, lang))])];
        for (i, l) in v.iter().enumerate() {
            out.push(format!(
                "{}. {} — {}",
                i + 1,
                escape_html(&l.name),
                metric_value(rank, l.totals.metric(rank), cur, lang)
            ));
        }
        out
    };
    lines.extend(list("ads.top_campaigns", &a.top));
    lines.extend(list("ads.worst_campaigns", &a.worst));
    lines
}

/// The report's Telegram HTML.
pub fn telegram_html(r: &AdsReport, lang: &str) -> String {
    let mut lines = vec![tf(
        lang,
        "ads.report_title",
        &[("workspace", &escape_html(&r.workspace)), ("days", &r.config.period_days)],
    )];
    if r.accounts.is_empty() {
        lines.push(t(lang, "ads.no_accounts"));
    }
    for a in &r.accounts {
        lines.push(String::new());
        lines.extend(account_block(a, r, lang));
    }
    let groups = r.by_currency();
    if r.accounts.len() > 1 {
        lines.push(String::new());
        lines.push(t(lang, "ads.by_currency"));
        for (cur, tot, n) in &groups {
            lines.push(tf(
                lang,
                "ads.currency_line",
                &[("currency", &escape_html(cur)), ("accounts", n), ("line", &short_line(tot, cur, lang))],
            ));
        }
    }
    lines.join("\n")
}

/// The report as an email (HTML with the chart inline, plain text).
pub fn email(r: &AdsReport, lang: &str, chart_png: Option<Vec<u8>>) -> EmailContent {
    let body = telegram_html(r, lang);
    let img = if chart_png.is_some() {
        format!("<p><img src=\"cid:{CHART_CID}\" alt=\"\" width=\"800\" style=\"max-width:100%\"></p>")
    } else {
        String::new()
    };
    let html = format!(
        "<!doctype html><html lang=\"{lang}\"><head><meta charset=\"utf-8\"></head>\
         <body style=\"font-family:-apple-system,Segoe UI,sans-serif;font-size:15px;line-height:1.5\">\
         <p>{}</p>{img}<p style=\"color:#777;font-size:12px\">{}</p></body></html>",
        body.replace('\n', "<br>\n"),
        t(lang, "report.email_footer"),
    );
    let subject = html_to_text(body.lines().next().unwrap_or_default());
    let text = format!("{}\n\n{}", html_to_text(&body), html_to_text(&t(lang, "report.email_footer")));
    EmailContent { subject, text, html, chart_png, attachments: Vec::new() }
}

fn amount_json(a: Option<Amount>) -> serde_json::Value {
    a.map_or(serde_json::Value::Null, |a| json!(a.to_string()))
}

fn totals_json(t_: &AdTotals) -> serde_json::Value {
    json!({
        "spend": amount_json(t_.spend),
        "impressions": t_.impressions,
        "clicks": t_.clicks,
        "results": amount_json(t_.results),
        "result_value": amount_json(t_.result_value),
        "ctr": amount_json(t_.ctr()),
        "cpc": amount_json(t_.cpc()),
        "cpm": amount_json(t_.cpm()),
        "cost_per_result": amount_json(t_.cost_per_result()),
    })
}

fn campaigns_json(v: &[CampaignLine]) -> serde_json::Value {
    v.iter().map(|l| json!({"id": l.id, "name": l.name, "totals": totals_json(&l.totals)})).collect()
}

/// The `data` of the `report.generated` webhook event of an ads report. Numbers are decimal strings (exact);
/// money is in the currency named next to it.
pub fn json(r: &AdsReport) -> serde_json::Value {
    let accounts: Vec<serde_json::Value> = r
        .accounts
        .iter()
        .map(|a| {
            json!({
                "id": a.account.id.to_db(),
                "platform": a.account.platform.as_str(),
                "account_ref": a.account.account_ref,
                "name": a.account.name,
                "currency": a.account.currency,
                "time_zone": a.account.zone,
                "status": a.account.status,
                "since": a.range.0.to_string(),
                "until": a.range.1.to_string(),
                "totals": totals_json(&a.totals),
                "previous": totals_json(&a.previous),
                "top_campaigns": campaigns_json(&a.top),
                "worst_campaigns": campaigns_json(&a.worst),
                "daily": a.daily.iter().map(|(d, t_)| json!({"day": d.to_string(), "spend": amount_json(t_.spend),
                    "results": amount_json(t_.results)})).collect::<Vec<_>>(),
            })
        })
        .collect();
    let currencies: Vec<serde_json::Value> = r
        .by_currency()
        .into_iter()
        .map(|(c, t_, n)| json!({"currency": c, "accounts": n, "totals": totals_json(&t_)}))
        .collect();
    json!({
        "kind": "ads",
        "workspace": r.workspace,
        "period_days": r.config.period_days,
        "level": r.config.level,
        "preset": r.config.preset,
        "rank_by": r.config.rank_by,
        "accounts": accounts,
        "totals_by_currency": currencies,
    })
}
