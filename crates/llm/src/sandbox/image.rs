//! The sandbox writer's pictures: a square placeholder drawn locally, in a colour taken from the workspace's name,
//! with the prompt (a post's title first) written on it.
//!
//! plotters draws into an in-memory RGB buffer and the `png` crate encodes it, as the report charts do; the text is
//! drawn with the DejaVu Sans font those charts embed (it covers the Latin and Cyrillic of every locale), so no
//! system font is looked up.

use plotters::prelude::*;
use plotters::style::text_anchor::{HPos, Pos, VPos};
use plotters::style::FontStyle;
use std::sync::Once;

/// Width and height of the placeholder, in pixels.
pub const SIZE: u32 = 1080;
const FONT: &[u8] = include_bytes!("../../../delivery/assets/DejaVuSans.ttf");
const FAMILY: &str = "sans-serif";
/// The longest line of the prompt, in pixels, and the most lines drawn.
const TEXT_WIDTH: u32 = 860;
const MAX_LINES: usize = 6;

#[derive(Debug, thiserror::Error)]
pub enum PlaceholderError {
    #[error("cannot draw the placeholder image: {0}")]
    Draw(String),
    #[error("cannot encode the placeholder image as png: {0}")]
    Encode(#[from] png::EncodingError),
}

fn draw_err(e: impl std::fmt::Display) -> PlaceholderError {
    PlaceholderError::Draw(e.to_string())
}

fn register_font() {
    static ONCE: Once = Once::new();
    ONCE.call_once(|| {
        // The same font under the same family as the report charts: registering it twice is harmless.
        let _ = plotters::style::register_font(FAMILY, FontStyle::Normal, FONT);
    });
}

/// A calm, dark-enough colour (white text stays readable) picked by the workspace's name.
pub(crate) fn colour(workspace: &str) -> (u8, u8, u8) {
    let hue = (super::seed(&[workspace]) % 360) as f64;
    let (s, l) = (0.55, 0.40);
    let c = (1.0 - (2.0 * l - 1.0f64).abs()) * s;
    let x = c * (1.0 - ((hue / 60.0) % 2.0 - 1.0).abs());
    let m = l - c / 2.0;
    let (r, g, b) = match hue as u32 / 60 {
        0 => (c, x, 0.0),
        1 => (x, c, 0.0),
        2 => (0.0, c, x),
        3 => (0.0, x, c),
        4 => (x, 0.0, c),
        _ => (c, 0.0, x),
    };
    let to = |v: f64| ((v + m) * 255.0).round().clamp(0.0, 255.0) as u8;
    (to(r), to(g), to(b))
}

/// Breaks `text` into lines no wider than `width` as `measure` sees them; a word too wide alone is cut.
fn wrap(text: &str, width: u32, measure: impl Fn(&str) -> u32) -> Vec<String> {
    let mut lines: Vec<String> = Vec::new();
    let mut line = String::new();
    for word in text.split_whitespace() {
        let candidate = if line.is_empty() { word.to_owned() } else { format!("{line} {word}") };
        if measure(&candidate) <= width {
            line = candidate;
            continue;
        }
        if !line.is_empty() {
            lines.push(std::mem::take(&mut line));
        }
        for c in word.chars() {
            line.push(c);
            if measure(&line) > width && line.chars().count() > 1 {
                line.pop();
                lines.push(std::mem::take(&mut line));
                line.push(c);
            }
        }
    }
    if !line.is_empty() {
        lines.push(line);
    }
    lines
}

/// At most `max` lines, the last one ending in "…" when some were left out.
fn clipped(mut lines: Vec<String>, max: usize) -> Vec<String> {
    if lines.len() > max {
        lines.truncate(max);
        if let Some(last) = lines.last_mut() {
            last.push('…');
        }
    }
    lines
}

/// A PNG of [`SIZE`] x [`SIZE`]: a background in the workspace's colour, a few shapes, "SANDBOX" at the top, the
/// `text` in the middle and the workspace's name at the bottom.
pub fn placeholder_png(workspace: &str, text: &str) -> Result<Vec<u8>, PlaceholderError> {
    register_font();
    let size = SIZE as i32;
    let mut rgb = vec![0u8; (SIZE * SIZE * 3) as usize];
    {
        let root = BitMapBackend::with_buffer(&mut rgb, (SIZE, SIZE)).into_drawing_area();
        let (r, g, b) = colour(workspace);
        root.fill(&RGBColor(r, g, b)).map_err(draw_err)?;
        root.draw(&Circle::new((size - 160, 170), 300, WHITE.mix(0.12).filled())).map_err(draw_err)?;
        root.draw(&Circle::new((140, size - 120), 360, BLACK.mix(0.12).filled())).map_err(draw_err)?;
        root.draw(&Rectangle::new([(60, 60), (size - 60, size - 60)], WHITE.mix(0.7).stroke_width(4)))
            .map_err(draw_err)?;
        let style =
            |px: u32| TextStyle::from((FAMILY, px).into_font()).color(&WHITE).pos(Pos::new(HPos::Center, VPos::Center));
        let centre = size / 2;
        root.draw_text("SANDBOX · PLACEHOLDER", &style(30), (centre, 130)).map_err(draw_err)?;
        // A sandbox image prompt is "title — what the picture shows": the title large, the rest small below it.
        let (head, tail) = text.split_once(" — ").unwrap_or((text, ""));
        let (big, small) = (style(64), style(34));
        let measure = |s: &str, st: &TextStyle<'_>| root.estimate_text_size(s, st).map(|(w, _)| w).unwrap_or(u32::MAX);
        let mut lines: Vec<(String, bool)> =
            clipped(wrap(head, TEXT_WIDTH, |s| measure(s, &big)), MAX_LINES).into_iter().map(|l| (l, true)).collect();
        lines.extend(clipped(wrap(tail, TEXT_WIDTH, |s| measure(s, &small)), 3).into_iter().map(|l| (l, false)));
        let step = |large: bool| if large { 84 } else { 48 };
        let height: i32 = lines.iter().map(|(_, large)| step(*large)).sum();
        let mut y = centre - height / 2 + step(true) / 2;
        for (line, large) in &lines {
            root.draw_text(line, if *large { &big } else { &small }, (centre, y)).map_err(draw_err)?;
            y += step(*large);
        }
        let name: String = workspace.chars().take(40).collect();
        root.draw_text(&name, &style(36), (centre, size - 130)).map_err(draw_err)?;
        root.present().map_err(draw_err)?;
    }
    let mut out = Vec::new();
    {
        let mut encoder = png::Encoder::new(&mut out, SIZE, SIZE);
        encoder.set_color(png::ColorType::Rgb);
        encoder.set_depth(png::BitDepth::Eight);
        let mut writer = encoder.write_header()?;
        writer.write_image_data(&rgb)?;
    }
    Ok(out)
}
