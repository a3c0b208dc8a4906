//! A report as people and systems read it: a Telegram HTML message, an email (HTML with the chart inline and a
//! plain-text part), and JSON for webhooks.
//!
//! The Telegram text is the one source: the email's HTML wraps it and its plain-text part strips it, so the three
//! never disagree. All words come from `report.*` locale keys in the workspace's language; every name that comes
//! from a person (workspace, post title, account) is escaped. Missing numbers print as the locale's "n/a".

use super::{Changes, Report, Totals};
use crate::email::{EmailContent, CHART_CID};
use chrono::TimeZone;
use tochen_domain::html::escape_html;
use tochen_domain::i18n::{t, tf};

/// `1234567` as `1,234,567` with the locale's separator.
pub fn format_int(n: i64, lang: &str) -> String {
    let sep = t(lang, "report.thousands_separator");
    let digits = n.unsigned_abs().to_string();
    let mut out = String::new();
    for (i, c) in digits.chars().enumerate() {
        if i > 0 && (digits.len() - i).is_multiple_of(3) {
            out.push_str(&sep);
        }
        out.push(c);
    }
    if n < 0 {
        format!("-{out}")
    } else {
        out
    }
}

fn one_decimal(x: f64, lang: &str) -> String {
    format!("{x:.1}").replace('.', &t(lang, "report.decimal_separator"))
}

fn opt_int(v: Option<i64>, lang: &str) -> String {
    v.map_or_else(|| t(lang, "report.missing"), |n| format_int(n, lang))
}

fn signed_int(v: Option<i64>, lang: &str) -> String {
    match v {
        Some(n) if n > 0 => format!("+{}", format_int(n, lang)),
        Some(n) => format_int(n, lang),
        None => t(lang, "report.missing"),
    }
}

/// ` (+18%)`, or nothing when there is no base to compare with.
pub(crate) fn change(pct: Option<f64>, lang: &str) -> String {
    match pct {
        Some(p) => format!(
            " ({}{}%)",
            if p > 0.0 { "+" } else { "" },
            one_decimal(p, lang).trim_end_matches(",0").trim_end_matches(".0")
        ),
        None => String::new(),
    }
}

fn rate(r: Option<f64>, lang: &str) -> String {
    r.map_or_else(|| t(lang, "report.missing"), |r| format!("{}%", one_decimal(r * 100.0, lang)))
}

/// `16.11–22.11.2026` in the workspace's time zone (the end is exclusive, so the last day shown is end - 1 ms).
pub fn period_label(report: &Report, tz: chrono_tz::Tz) -> String {
    period_label_of(report.period, tz)
}

/// [`period_label`] of any period.
pub fn period_label_of(period: super::Period, tz: chrono_tz::Tz) -> String {
    let d = |ms: i64| tz.timestamp_millis_opt(ms).single();
    match (d(period.start), d(period.end - 1)) {
        (Some(a), Some(b)) => format!("{}–{}", a.format("%d.%m"), b.format("%d.%m.%Y")),
        _ => String::new(),
    }
}

fn metrics_line(totals: &Totals, change_: Option<&Changes>, lang: &str) -> String {
    let c = |f: fn(&Changes) -> Option<f64>| change_.map(|c| change(f(c), lang)).unwrap_or_default();
    [
        tf(lang, "report.views", &[("value", &opt_int(totals.views, lang)), ("change", &c(|c| c.views))]),
        tf(lang, "report.likes", &[("value", &opt_int(totals.likes, lang)), ("change", &c(|c| c.likes))]),
        tf(lang, "report.comments", &[("value", &opt_int(totals.comments, lang)), ("change", &c(|c| c.comments))]),
        tf(lang, "report.shares", &[("value", &opt_int(totals.shares, lang)), ("change", &c(|c| c.shares))]),
        tf(lang, "report.followers", &[("value", &signed_int(totals.follower_change, lang))]),
    ]
    .join("   ")
}

/// One line per platform, when there is more than one.
fn platform_lines(lines: &mut Vec<String>, report: &Report, lang: &str) {
    if report.platforms.len() <= 1 {
        return;
    }
    lines.push(String::new());
    lines.push(t(lang, "report.by_platform"));
    for p in &report.platforms {
        let pt = &p.totals;
        lines.push(tf(
            lang,
            "report.platform_line",
            &[
                ("platform", &p.platform.name()),
                ("published", &pt.published),
                ("views", &opt_int(pt.views, lang)),
                ("engagement", &rate(pt.engagement_rate, lang)),
                ("followers", &signed_int(pt.follower_change, lang)),
            ],
        ));
    }
}

/// The Telegram message (HTML parse mode). Stays well under 4096 characters: at most 3 platforms and 5 posts.
pub fn telegram_html(report: &Report, lang: &str, tz: chrono_tz::Tz) -> String {
    let tot = &report.totals;
    let mut lines = vec![tf(
        lang,
        "report.title",
        &[("workspace", &escape_html(&report.workspace)), ("period", &period_label(report, tz))],
    )];
    if !report.has_data() {
        lines.push(t(lang, "report.no_data"));
        return lines.join("\n");
    }
    if report.simulated {
        lines.push(t(lang, "report.simulated"));
    }
    lines.push(tf(lang, "report.posts", &[("published", &tot.published), ("failed", &tot.failed)]));
    lines.push(metrics_line(tot, Some(&report.change), lang));
    lines.push(tf(
        lang,
        "report.engagement",
        &[("value", &rate(tot.engagement_rate, lang)), ("change", &change(report.change.engagement_rate, lang))],
    ));
    platform_lines(&mut lines, report, lang);
    if !report.top_posts.is_empty() {
        lines.push(String::new());
        lines.push(t(lang, "report.top_posts"));
        for (i, post) in report.top_posts.iter().enumerate() {
            let title =
                if post.title.trim().is_empty() { t(lang, "report.untitled") } else { escape_html(&post.title) };
            let title = match &post.permalink {
                Some(link) => format!("<a href=\"{}\">{title}</a>", escape_html(link)),
                None => title,
            };
            lines.push(tf(
                lang,
                "report.top_post",
                &[
                    ("n", &(i + 1)),
                    ("title", &title),
                    ("platform", &post.platform.name()),
                    ("views", &opt_int(post.views, lang)),
                ],
            ));
        }
    }
    lines.join("\n")
}

/// Longest post title in `/stats`' post lists, in characters.
const STATS_TITLE_CHARS: usize = 60;

fn stats_post_lines(lines: &mut Vec<String>, heading: &str, posts: &[super::TopPost], lang: &str) {
    if posts.is_empty() {
        return;
    }
    lines.push(String::new());
    lines.push(t(lang, heading));
    for (i, post) in posts.iter().enumerate() {
        let title: String = post.title.trim().chars().take(STATS_TITLE_CHARS).collect();
        let title = if title.is_empty() { t(lang, "report.untitled") } else { escape_html(&title) };
        let title = match &post.permalink {
            Some(link) => format!("<a href=\"{}\">{title}</a>", escape_html(link)),
            None => title,
        };
        lines.push(tf(
            lang,
            "report.stats_post",
            &[
                ("n", &(i + 1)),
                ("title", &title),
                ("platform", &post.platform.name()),
                ("views", &opt_int(post.views, lang)),
                ("likes", &opt_int(post.likes, lang)),
                ("comments", &opt_int(post.comments, lang)),
            ],
        ));
    }
}

/// `/stats`: the report of a period and scope in full (every counter with its change, followers, the
/// engagement rate's definition, the five posts with the most and the fewest views). `heading` names what the
/// numbers cover (the workspace, a platform or an account). Stays under 4096 characters: at most 3 platforms,
/// 10 posts of 60-character titles.
pub fn stats_html(report: &Report, heading: &str, lang: &str, tz: chrono_tz::Tz) -> String {
    let tot = &report.totals;
    let ch = &report.change;
    let mut lines =
        vec![tf(lang, "report.title", &[("workspace", &escape_html(heading)), ("period", &period_label(report, tz))])];
    if !report.has_data() {
        lines.push(t(lang, "report.no_data"));
        return lines.join("\n");
    }
    if report.simulated {
        lines.push(t(lang, "report.simulated"));
    }
    lines.push(format!(
        "{}{}",
        tf(lang, "report.posts", &[("published", &tot.published), ("failed", &tot.failed)]),
        change(ch.published, lang)
    ));
    let counter = |key: &str, v: Option<i64>, c: Option<f64>| {
        tf(lang, key, &[("value", &opt_int(v, lang)), ("change", &change(c, lang))])
    };
    lines.push(
        [
            counter("report.views", tot.views, ch.views),
            counter("report.reach", tot.reach, ch.reach),
            counter("report.likes", tot.likes, ch.likes),
        ]
        .join("   "),
    );
    lines.push(
        [
            counter("report.comments", tot.comments, ch.comments),
            counter("report.shares", tot.shares, ch.shares),
            counter("report.saves", tot.saves, ch.saves),
        ]
        .join("   "),
    );
    lines.push(match tot.follower_change {
        Some(_) => tf(
            lang,
            "report.followers_now",
            &[("value", &opt_int(tot.followers, lang)), ("change", &signed_int(tot.follower_change, lang))],
        ),
        None => tf(lang, "report.followers", &[("value", &opt_int(tot.followers, lang))]),
    });
    lines.push(tf(
        lang,
        "report.engagement",
        &[("value", &rate(tot.engagement_rate, lang)), ("change", &change(ch.engagement_rate, lang))],
    ));
    lines.push(t(lang, "report.engagement_definition"));
    platform_lines(&mut lines, report, lang);
    stats_post_lines(&mut lines, "report.top_posts", &report.top_posts, lang);
    stats_post_lines(&mut lines, "report.bottom_posts", &report.bottom_posts, lang);
    lines.push(String::new());
    lines.push(t(lang, "report.missing_note"));
    lines.join("\n")
}

/// Plain text from Telegram HTML: tags dropped, entities decoded, links kept after their text.
pub fn html_to_text(html: &str) -> String {
    let mut out = String::with_capacity(html.len());
    let mut rest = html;
    while let Some(i) = rest.find('<') {
        out.push_str(&rest[..i]);
        let Some(j) = rest[i..].find('>') else { break };
        let tag = &rest[i..i + j + 1];
        if let Some(href) = tag.strip_prefix("<a href=\"").and_then(|s| s.strip_suffix("\">")) {
            // Put the link after the text: find the closing tag.
            let after = &rest[i + j + 1..];
            let close = after.find("</a>").unwrap_or(after.len());
            out.push_str(&after[..close]);
            out.push_str(&format!(" ({href})"));
            rest = after.get(close + 4..).unwrap_or("");
            continue;
        }
        rest = &rest[i + j + 1..];
    }
    out.push_str(rest);
    out.replace("&lt;", "<").replace("&gt;", ">").replace("&quot;", "\"").replace("&amp;", "&")
}

/// The email: subject, HTML (with the chart inline when given) and plain text.
pub fn email(report: &Report, lang: &str, tz: chrono_tz::Tz, chart_png: Option<Vec<u8>>) -> EmailContent {
    let body = telegram_html(report, lang, tz);
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
    let subject = html_to_text(&tf(
        lang,
        "report.email_subject",
        &[("workspace", &report.workspace), ("period", &period_label(report, tz))],
    ));
    let text = format!("{}\n\n{}", html_to_text(&body), html_to_text(&t(lang, "report.email_footer")));
    EmailContent { subject, text, html, chart_png, attachments: Vec::new() }
}

/// The `data` of a `report.generated` webhook event.
pub fn json(report: &Report) -> serde_json::Value {
    serde_json::to_value(report).expect("a report serializes")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn numbers_are_grouped_and_links_survive_as_text() {
        assert_eq!(format_int(12480, "en"), "12,480");
        assert_eq!(format_int(-1234567, "en"), "-1,234,567");
        assert_eq!(format_int(999, "de"), "999");
        assert_eq!(change(Some(18.0), "en"), " (+18%)");
        assert_eq!(change(Some(-2.5), "en"), " (-2.5%)");
        assert_eq!(
            html_to_text("<b>A &amp; B</b> <a href=\"https://x.test/p\">Post</a>!"),
            "A & B Post (https://x.test/p)!"
        );
    }
}
