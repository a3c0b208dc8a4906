//! The report's chart: new views per day and platform, as a PNG.
//!
//! plotters draws into an in-memory RGB buffer and the `png` crate encodes it, so nothing touches the disk and no
//! system font is looked up: the text is drawn with DejaVu Sans embedded from `crates/delivery/assets/` (free licence, see
//! `DejaVuSans.LICENSE`), which also covers Cyrillic for the ru and uk locales.

use super::DailyViews;
use chrono::TimeZone;
use plotters::prelude::*;
use plotters::style::FontStyle;
use std::sync::Once;
use tochen_domain::Platform;

pub const WIDTH: u32 = 800;
pub const HEIGHT: u32 = 400;
pub(crate) const FONT: &[u8] = include_bytes!("../../assets/DejaVuSans.ttf");

#[derive(Debug, thiserror::Error)]
pub enum ChartError {
    #[error("cannot draw the chart: {0}")]
    Draw(String),
    #[error("cannot encode the chart as png: {0}")]
    Encode(#[from] png::EncodingError),
}

pub(crate) fn draw_err(e: impl std::fmt::Display) -> ChartError {
    ChartError::Draw(e.to_string())
}

pub(crate) fn register_font() {
    static ONCE: Once = Once::new();
    ONCE.call_once(|| {
        let _ = plotters::style::register_font("sans-serif", FontStyle::Normal, FONT);
    });
}

pub(crate) fn colour(p: Platform) -> RGBColor {
    let (r, g, b) = tochen_platforms::registry::module(p).colour();
    RGBColor(r, g, b)
}

/// Draws `data` with `title` (already localized) and day labels in `tz`, returning PNG bytes of
/// [`WIDTH`] x [`HEIGHT`].
pub fn render_png(data: &DailyViews, title: &str, tz: chrono_tz::Tz) -> Result<Vec<u8>, ChartError> {
    register_font();
    let mut rgb = vec![0u8; (WIDTH * HEIGHT * 3) as usize];
    {
        let root = BitMapBackend::with_buffer(&mut rgb, (WIDTH, HEIGHT)).into_drawing_area();
        root.fill(&WHITE).map_err(draw_err)?;
        let n = data.days.len().max(1);
        let max = data.series.iter().flat_map(|(_, v)| v.iter().copied()).max().unwrap_or(0).max(1);
        let days = data.days.clone();
        let mut chart = ChartBuilder::on(&root)
            .caption(title, ("sans-serif", 22))
            .margin(12)
            .x_label_area_size(32)
            .y_label_area_size(56)
            .build_cartesian_2d(0..(n as i64 - 1).max(1), 0..(max + max / 10 + 1))
            .map_err(draw_err)?;
        chart
            .configure_mesh()
            .x_labels(n.min(10))
            .x_label_formatter(&|i| {
                days.get(*i as usize)
                    .and_then(|ms| tz.timestamp_millis_opt(*ms).single())
                    .map(|d| d.format("%d.%m").to_string())
                    .unwrap_or_default()
            })
            .label_style(("sans-serif", 13))
            .draw()
            .map_err(draw_err)?;
        for (platform, values) in &data.series {
            let c = colour(*platform);
            chart
                .draw_series(LineSeries::new(values.iter().enumerate().map(|(i, v)| (i as i64, *v)), c.stroke_width(3)))
                .map_err(draw_err)?
                .label(platform.name())
                .legend(move |(x, y)| PathElement::new(vec![(x, y), (x + 18, y)], c.stroke_width(3)));
        }
        if !data.series.is_empty() {
            chart
                .configure_series_labels()
                .background_style(WHITE.mix(0.85))
                .border_style(BLACK.mix(0.3))
                .label_font(("sans-serif", 14))
                .draw()
                .map_err(draw_err)?;
        }
        root.present().map_err(draw_err)?;
    }
    let mut out = Vec::new();
    {
        let mut encoder = png::Encoder::new(&mut out, WIDTH, HEIGHT);
        encoder.set_color(png::ColorType::Rgb);
        encoder.set_depth(png::BitDepth::Eight);
        let mut writer = encoder.write_header()?;
        writer.write_image_data(&rgb)?;
    }
    Ok(out)
}

/// Width and height from a PNG's IHDR chunk, or `None` when the bytes are not a PNG.
pub fn png_size(bytes: &[u8]) -> Option<(u32, u32)> {
    const SIGNATURE: [u8; 8] = [0x89, b'P', b'N', b'G', 0x0d, 0x0a, 0x1a, 0x0a];
    if bytes.len() < 24 || bytes[..8] != SIGNATURE || &bytes[12..16] != b"IHDR" {
        return None;
    }
    let w = u32::from_be_bytes(bytes[16..20].try_into().ok()?);
    let h = u32::from_be_bytes(bytes[20..24].try_into().ok()?);
    Some((w, h))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_chart_is_a_valid_png_of_the_expected_size() {
        let data = DailyViews {
            days: (0..7).map(|i| 1_795_000_000_000 + i * super::super::DAY_MS).collect(),
            series: vec![
                (Platform::Instagram, vec![100, 250, 90, 0, 40, 700, 30]),
                (Platform::Facebook, vec![10, 20, 30, 40, 50, 60, 70]),
            ],
        };
        let png_bytes = render_png(&data, "Просмотры по дням", chrono_tz::Europe::Lisbon).unwrap();
        assert_eq!(png_size(&png_bytes), Some((WIDTH, HEIGHT)));
        // The whole file decodes, not just the header.
        let decoder = png::Decoder::new(std::io::Cursor::new(&png_bytes));
        let mut reader = decoder.read_info().unwrap();
        let mut buf = vec![0; reader.output_buffer_size()];
        let info = reader.next_frame(&mut buf).unwrap();
        assert_eq!((info.width, info.height), (WIDTH, HEIGHT));
        assert!(buf.iter().any(|b| *b != 255), "something was drawn");
        let empty = render_png(&DailyViews::default(), "Views", chrono_tz::UTC).unwrap();
        assert_eq!(png_size(&empty), Some((WIDTH, HEIGHT)));
        assert_eq!(png_size(b"not a png at all, clearly"), None);
    }
}
