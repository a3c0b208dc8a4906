//! The ads report's chart: daily spend per currency (one line each, never added across currencies) above, daily
//! results of every reported account below, as one PNG.

use super::AdsReport;
use crate::reports::canvas::{draw_err, encode_png, register_font, ChartError};
use chrono::NaiveDate;
use plotters::prelude::*;
use std::collections::BTreeMap;

pub const WIDTH: u32 = 800;
pub const HEIGHT: u32 = 480;

const PALETTE: [RGBColor; 5] = [
    RGBColor(24, 119, 242),
    RGBColor(238, 29, 82),
    RGBColor(46, 160, 67),
    RGBColor(230, 140, 20),
    RGBColor(120, 80, 200),
];

/// A value per day (major units as f64, for drawing only).
type ByDay = BTreeMap<NaiveDate, f64>;

/// Day-by-day series: spend per currency and results (all accounts).
fn series(r: &AdsReport) -> (Vec<NaiveDate>, BTreeMap<String, ByDay>, ByDay) {
    let mut days: Vec<NaiveDate> = Vec::new();
    let mut spend: BTreeMap<String, ByDay> = BTreeMap::new();
    let mut results: ByDay = BTreeMap::new();
    for a in &r.accounts {
        for (d, t) in &a.daily {
            days.push(*d);
            let s = spend.entry(a.account.currency.clone()).or_default().entry(*d).or_default();
            *s += t.spend.map_or(0.0, |x| x.0 as f64 / 1e6);
            *results.entry(*d).or_default() += t.results.map_or(0.0, |x| x.0 as f64 / 1e6);
        }
    }
    days.sort_unstable();
    days.dedup();
    (days, spend, results)
}

/// Draws the chart with localized titles (`spend_title`, `results_title`).
pub fn render_png(r: &AdsReport, spend_title: &str, results_title: &str) -> Result<Vec<u8>, ChartError> {
    register_font();
    let (days, spend, results) = series(r);
    let mut rgb = vec![0u8; (WIDTH * HEIGHT * 3) as usize];
    {
        let root = BitMapBackend::with_buffer(&mut rgb, (WIDTH, HEIGHT)).into_drawing_area();
        root.fill(&WHITE).map_err(draw_err)?;
        let (top, bottom) = root.split_vertically(HEIGHT * 3 / 5);
        let n = days.len().max(1) as i64;
        let label = |i: &i64| days.get(*i as usize).map(|d| d.format("%d.%m").to_string()).unwrap_or_default();
        let max_spend = spend.values().flat_map(|m| m.values().copied()).fold(0.0, f64::max).max(1.0);
        let mut c = ChartBuilder::on(&top)
            .caption(spend_title, ("sans-serif", 20))
            .margin(10)
            .x_label_area_size(24)
            .y_label_area_size(60)
            .build_cartesian_2d(0..(n - 1).max(1), 0.0..max_spend * 1.1)
            .map_err(draw_err)?;
        c.configure_mesh()
            .x_labels(days.len().clamp(1, 10))
            .x_label_formatter(&label)
            .label_style(("sans-serif", 12))
            .draw()
            .map_err(draw_err)?;
        for (i, (cur, by_day)) in spend.iter().enumerate() {
            let colour = PALETTE[i % PALETTE.len()];
            let pts: Vec<(i64, f64)> =
                days.iter().enumerate().map(|(x, d)| (x as i64, by_day.get(d).copied().unwrap_or(0.0))).collect();
            c.draw_series(LineSeries::new(pts, colour.stroke_width(3)))
                .map_err(draw_err)?
                .label(cur.clone())
                .legend(move |(x, y)| PathElement::new(vec![(x, y), (x + 18, y)], colour.stroke_width(3)));
        }
        if !spend.is_empty() {
            c.configure_series_labels()
                .background_style(WHITE.mix(0.85))
                .border_style(BLACK.mix(0.3))
                .label_font(("sans-serif", 13))
                .draw()
                .map_err(draw_err)?;
        }
        let max_results = results.values().copied().fold(0.0, f64::max).max(1.0);
        let mut c = ChartBuilder::on(&bottom)
            .caption(results_title, ("sans-serif", 18))
            .margin(10)
            .x_label_area_size(24)
            .y_label_area_size(60)
            .build_cartesian_2d(0..n, 0.0..max_results * 1.1)
            .map_err(draw_err)?;
        c.configure_mesh()
            .x_labels(days.len().clamp(1, 10))
            .x_label_formatter(&label)
            .label_style(("sans-serif", 12))
            .draw()
            .map_err(draw_err)?;
        let bar = RGBColor(46, 160, 67);
        c.draw_series(days.iter().enumerate().map(|(x, d)| {
            let v = results.get(d).copied().unwrap_or(0.0);
            Rectangle::new([(x as i64, 0.0), (x as i64 + 1, v)], bar.mix(0.8).filled())
        }))
        .map_err(draw_err)?;
        root.present().map_err(draw_err)?;
    }
    encode_png(&rgb, WIDTH, HEIGHT)
}
