//! The texts of a batch: its progress message (bar, counts, elapsed and time left, how it ended), a failed item's
//! line and the estimate shown before it starts. The progress worker (`batches.rs`) and the campaign screens draw
//! them through `campaigns::progress_screen`.

use tochen_domain::clock::Millis;
use tochen_domain::i18n::tf;
use tochen_domain::BatchStatus;
use tochen_store::{Batch, BatchProgress};

/// A text progress bar of `width` cells.
pub fn bar(ended: i64, total: i64, width: usize) -> String {
    let filled = if total <= 0 { 0 } else { ((ended.clamp(0, total) * width as i64) / total) as usize };
    format!("{}{}", "▓".repeat(filled), "░".repeat(width - filled))
}

/// Minutes and seconds, like `3:07`.
fn duration_text(ms: i64) -> String {
    let s = (ms.max(0) + 500) / 1000;
    format!("{}:{:02}", s / 60, s % 60)
}

/// The progress message of a batch at `now`: bar, done/failed/total, elapsed, time left (from the pace so far),
/// and how it ended.
pub fn progress_text(lang: &str, campaign: &str, b: &Batch, p: &BatchProgress, now: Millis) -> String {
    let name = tochen_domain::html::escape_html(campaign);
    let mut out = tf(lang, "campaign.progress.title", &[("name", &name)]);
    out.push('\n');
    out.push_str(&tf(
        lang,
        "campaign.progress.counts",
        &[("bar", &bar(p.ended(), p.total, 12)), ("done", &p.done), ("failed", &p.failed), ("total", &p.total)],
    ));
    out.push('\n');
    let end = b.finished_at.unwrap_or(now);
    let elapsed = end - b.created_at;
    match b.status {
        BatchStatus::Running => {
            let left = p.total - p.ended();
            let eta = if p.ended() > 0 { elapsed * left / p.ended() } else { 0 };
            let eta = if p.ended() > 0 { duration_text(eta) } else { "…".into() };
            out.push_str(&tf(
                lang,
                "campaign.progress.running",
                &[("elapsed", &duration_text(elapsed)), ("eta", &eta)],
            ));
        }
        BatchStatus::Finished => {
            out.push_str(&tf(lang, "campaign.progress.finished", &[("elapsed", &duration_text(elapsed))]));
        }
        BatchStatus::Cancelled => {
            out.push_str(&tf(lang, "campaign.progress.cancelled", &[("done", &p.done)]));
        }
        BatchStatus::QuotaStopped => {
            out.push_str(&tf(lang, "campaign.progress.quota", &[("done", &p.done)]));
        }
    }
    out
}

/// Plain text (no Telegram markup) for logs and tests: the reason an item failed.
pub fn failed_line(lang: &str, topic: &str, reason: &str) -> String {
    let topic = tochen_domain::html::escape_html(&tochen_telegram::text::clip(topic, 60));
    let reason = tochen_domain::html::escape_html(&tochen_telegram::text::clip(reason, 200));
    tf(lang, "campaign.batch.failed_line", &[("topic", &topic), ("reason", &reason)])
}

/// What a person reads for a batch that cannot start: the estimate against what is left of the quota.
pub fn estimate_text(lang: &str, items: usize, tokens: i64, cost_micros: i64, left: Option<i64>) -> String {
    let cost = format!("${:.2}", cost_micros as f64 / 1_000_000.0);
    let mut s = tf(lang, "campaign.batch.estimate", &[("n", &items), ("tokens", &tokens), ("cost", &cost)]);
    if let Some(left) = left {
        s.push('\n');
        if left >= tokens {
            s.push_str(&tf(lang, "campaign.batch.quota_ok", &[("left", &left)]));
        } else {
            s.push_str(&tf(lang, "campaign.batch.quota_short", &[("left", &left)]));
        }
    }
    s
}

#[cfg(test)]
mod tests {
    use super::*;
    use tochen_domain::i18n::LANGUAGES;
    use tochen_domain::ids::{BatchId, CampaignId, TenantId};

    fn batch(status: BatchStatus, finished_at: Option<Millis>) -> Batch {
        Batch {
            id: BatchId::new(),
            tenant_id: TenantId::new(),
            campaign_id: CampaignId::new(),
            started_by: None,
            chat_id: Some(1),
            with_images: false,
            status,
            total: 10,
            estimate_tokens: 0,
            estimate_cost_micros: 0,
            progress_message_id: Some(2),
            created_at: 1_000_000,
            finished_at,
        }
    }

    #[test]
    fn the_bar_fills_with_the_ended_items() {
        assert_eq!(bar(0, 10, 10), "░░░░░░░░░░");
        assert_eq!(bar(5, 10, 10), "▓▓▓▓▓░░░░░");
        assert_eq!(bar(12, 10, 4), "▓▓▓▓");
        assert_eq!(bar(1, 0, 3), "░░░");
    }

    #[test]
    fn progress_shows_counts_elapsed_and_time_left_in_every_language() {
        let p = BatchProgress { total: 10, pending: 4, running: 2, done: 3, failed: 1, ..Default::default() };
        for lang in LANGUAGES.iter().copied() {
            // 4 ended in 40 s: 6 left take about 60 s.
            let text = progress_text(lang, "Autumn <b>", &batch(BatchStatus::Running, None), &p, 1_040_000);
            assert!(text.contains("0:40") && text.contains("1:00"), "{lang}: {text}");
            assert!(text.contains("Autumn &lt;b&gt;") && text.contains('3') && text.contains("10"), "{lang}: {text}");
            assert!(tochen_telegram::text::fits(&text, tochen_telegram::text::MESSAGE_MAX));
            let done = progress_text(lang, "A", &batch(BatchStatus::Finished, Some(1_065_000)), &p, 2_000_000);
            assert!(done.contains("1:05"), "{lang}: {done}");
            let stopped = progress_text(lang, "A", &batch(BatchStatus::QuotaStopped, Some(1_065_000)), &p, 0);
            assert!(stopped.contains('3'), "{lang}: {stopped}");
        }
    }

    #[test]
    fn the_estimate_says_whether_the_quota_is_enough() {
        let ok = estimate_text("en", 10, 15_000, 2_500, Some(20_000));
        assert!(ok.contains("15000") && ok.contains("$0.00") && ok.contains("20000"), "{ok}");
        let short = estimate_text("en", 10, 15_000, 2_500, Some(100));
        assert_ne!(ok.lines().last(), short.lines().last());
        assert_eq!(estimate_text("en", 10, 15_000, 2_500, None).lines().count(), 1);
    }
}
