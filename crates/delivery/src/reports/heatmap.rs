//! The best-time heat-map: a platform's engagement by weekday (7 rows, Monday first) and hour (24 columns) in the
//! workspace's zone, as a PNG of [`WIDTH`] x [`HEIGHT`]. A counting cell (see `tochen_domain::besttime`) is shaded
//! in the platform's colour by its rate relative to the best cell; a cell with too few posts is light grey, an
//! empty one white. Drawn like the report's chart (`chart.rs`): in memory, with the embedded font.

use super::canvas::{colour, draw_err, encode_png, register_font, ChartError};
use plotters::prelude::*;
use tochen_domain::besttime::PlatformBest;

pub const WIDTH: u32 = 960;
pub const HEIGHT: u32 = 400;

const LEFT: i32 = 70;
const TOP: i32 = 48;
const BOTTOM: i32 = 40;
const RIGHT: i32 = 14;

/// Draws `best` with `title` (already localized) and `days` (seven localized weekday names, Monday first).
pub fn render_png(best: &PlatformBest, title: &str, days: &[String]) -> Result<Vec<u8>, ChartError> {
    register_font();
    let mut rgb = vec![0u8; (WIDTH * HEIGHT * 3) as usize];
    {
        let root = BitMapBackend::with_buffer(&mut rgb, (WIDTH, HEIGHT)).into_drawing_area();
        root.fill(&WHITE).map_err(draw_err)?;
        root.draw(&Text::new(title.to_owned(), (LEFT, 12), ("sans-serif", 22).into_font().color(&BLACK)))
            .map_err(draw_err)?;
        let cw = (WIDTH as i32 - LEFT - RIGHT) / 24;
        let ch = (HEIGHT as i32 - TOP - BOTTOM) / 7;
        let max = best.cells.iter().flatten().filter(|c| c.counts()).filter_map(|c| c.mean()).fold(0.0f64, f64::max);
        let base = colour(best.platform);
        let label = ("sans-serif", 13).into_font().color(&BLACK);
        for (d, row) in best.cells.iter().enumerate() {
            let y = TOP + d as i32 * ch;
            let name = days.get(d).cloned().unwrap_or_default();
            root.draw(&Text::new(name, (8, y + ch / 2 - 7), label.clone())).map_err(draw_err)?;
            for (h, c) in row.iter().enumerate() {
                let x = LEFT + h as i32 * cw;
                let fill = match c.mean() {
                    Some(m) if c.counts() && max > 0.0 => {
                        let k = (m / max).clamp(0.0, 1.0);
                        let mix = |a: u8| (255.0 - (255.0 - f64::from(a)) * (0.15 + 0.85 * k)).round() as u8;
                        RGBColor(mix(base.0), mix(base.1), mix(base.2))
                    }
                    Some(_) => RGBColor(225, 225, 225),
                    None => WHITE,
                };
                root.draw(&Rectangle::new([(x, y), (x + cw - 1, y + ch - 1)], fill.filled())).map_err(draw_err)?;
                root.draw(&Rectangle::new([(x, y), (x + cw, y + ch)], RGBColor(200, 200, 200).stroke_width(1)))
                    .map_err(draw_err)?;
            }
        }
        for h in (0..24).step_by(2) {
            let x = LEFT + h * cw + 2;
            root.draw(&Text::new(format!("{h:02}"), (x, TOP + 7 * ch + 8), label.clone())).map_err(draw_err)?;
        }
        root.present().map_err(draw_err)?;
    }
    encode_png(&rgb, WIDTH, HEIGHT)
}

#[cfg(test)]
mod tests {
    use super::*;
    use tochen_domain::besttime::{aggregate, PostMetrics};
    use tochen_domain::Platform;

    #[test]
    fn the_heat_map_is_a_valid_png_of_the_stated_size() {
        let posts: Vec<PostMetrics> = (0..30)
            .map(|i| PostMetrics {
                platform: Platform::Instagram,
                published_at: 1_795_000_000_000 + (i % 5) * 3_600_000,
                views: Some(100),
                reach: None,
                likes: Some(i),
                comments: None,
                shares: None,
                saves: None,
            })
            .collect();
        let best = &aggregate(&posts, chrono_tz::Europe::Berlin)[0];
        let days: Vec<String> = "Пн,Вт,Ср,Чт,Пт,Сб,Вс".split(',').map(str::to_owned).collect();
        let bytes = render_png(best, "Instagram: лучшее время", &days).unwrap();
        let decoder = png::Decoder::new(std::io::Cursor::new(&bytes));
        let mut reader = decoder.read_info().unwrap();
        let mut buf = vec![0; reader.output_buffer_size()];
        let info = reader.next_frame(&mut buf).unwrap();
        assert_eq!((info.width, info.height), (WIDTH, HEIGHT));
        assert!(buf.iter().any(|b| *b != 255));
    }
}
