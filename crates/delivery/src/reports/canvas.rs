//! What every picture of the reports shares (the views chart, the calendar, later the heat-map): the embedded
//! font, a platform's colour and PNG encoding of an RGB buffer.
//!
//! plotters draws into an in-memory RGB buffer and the `png` crate encodes it, so nothing touches the disk and no
//! system font is looked up: the text is drawn with DejaVu Sans embedded from `crates/delivery/assets/` (free
//! licence, see `DejaVuSans.LICENSE`), which also covers Cyrillic for the ru and uk locales.

use plotters::style::{FontStyle, RGBColor};
use std::sync::Once;
use tochen_domain::Platform;

const FONT: &[u8] = include_bytes!("../../assets/DejaVuSans.ttf");

/// A picture could not be drawn or encoded.
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

/// Registers the embedded font as `sans-serif` (once per process).
pub(crate) fn register_font() {
    static ONCE: Once = Once::new();
    ONCE.call_once(|| {
        let _ = plotters::style::register_font("sans-serif", FontStyle::Normal, FONT);
    });
}

/// A platform's colour (`tochen_platforms::registry`).
pub(crate) fn colour(p: Platform) -> RGBColor {
    let (r, g, b) = tochen_platforms::registry::module(p).colour();
    RGBColor(r, g, b)
}

/// Encodes a `w` x `h` RGB buffer (3 bytes a pixel) as PNG.
pub(crate) fn encode_png(rgb: &[u8], w: u32, h: u32) -> Result<Vec<u8>, ChartError> {
    let mut out = Vec::new();
    {
        let mut encoder = png::Encoder::new(&mut out, w, h);
        encoder.set_color(png::ColorType::Rgb);
        encoder.set_depth(png::BitDepth::Eight);
        let mut writer = encoder.write_header()?;
        writer.write_image_data(rgb)?;
    }
    Ok(out)
}
