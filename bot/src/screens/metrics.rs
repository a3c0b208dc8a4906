//! A published target's numbers as one line, shared by the library and a published post's screen: only the
//! counters the platform reported (a missing one is left out, never shown as 0), and the engagement rate of the
//! reports (`tochen_delivery::reports::engagement_rate`: (likes + comments) / views), so a post's rate here is the
//! rate reports and `/stats` count.

use tochen_delivery::reports::engagement_rate;
use tochen_delivery::reports::render::format_int;
use tochen_store::MetricValues;

/// `👁 1,234 · 👥 900 · ❤️ 56 · 💬 7 · 🔁 2 · 🔖 3 · 📈 5.1%`, or `None` when nothing was reported.
pub fn metrics_line(lang: &str, m: &MetricValues) -> Option<String> {
    let mut parts: Vec<String> =
        [("👁", m.views), ("👥", m.reach), ("❤️", m.likes), ("💬", m.comments), ("🔁", m.shares), ("🔖", m.saves)]
            .into_iter()
            .filter_map(|(icon, n)| Some(format!("{icon} {}", format_int(n?, lang))))
            .collect();
    if let Some(rate) = engagement_rate(m.views, m.likes, m.comments) {
        let pct =
            format!("{:.1}", rate * 100.0).replace('.', &tochen_domain::i18n::t(lang, "report.decimal_separator"));
        parts.push(format!("📈 {pct}%"));
    }
    (!parts.is_empty()).then(|| parts.join(" · "))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn only_reported_numbers_are_shown() {
        let m = MetricValues { views: Some(2000), likes: Some(90), comments: Some(10), ..Default::default() };
        assert_eq!(metrics_line("en", &m).as_deref(), Some("👁 2,000 · ❤️ 90 · 💬 10 · 📈 5.0%"));
        let no_views = MetricValues { likes: Some(0), ..Default::default() };
        assert_eq!(metrics_line("en", &no_views).as_deref(), Some("❤️ 0"));
        assert_eq!(metrics_line("en", &MetricValues::default()), None);
    }
}
