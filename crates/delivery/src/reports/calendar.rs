//! The `/calendar` pictures: a week (7 day columns x hour rows) and a month (a grid of days with a count chip per
//! platform and kind), as PNG.
//!
//! The caller gives each post's local time (already in the workspace's zone), its platforms and what it is (a
//! [`Mark`]); every text (title, weekday names, legend) comes localized. A post on several platforms is a chip
//! per platform, in the platform's colour (`canvas::colour`). The kinds look different in any colour:
//! - published: a solid chip;
//! - scheduled (or publishing now): a light chip with a solid border;
//! - waiting for approval: an outlined, hatched chip;
//! - failed: a solid chip crossed out in dark red.
//!
//! The legend under the grid names the platforms and the kinds. The week's hour rows are 06:00-23:00, and
//! reach back to the earliest hour of the week when a post is before 06:00 (rows stay readable: at most 24 of
//! 26 px). The month is always 6 rows of Monday-to-Sunday weeks, days outside the month greyed.

pub use super::canvas::ChartError;
use super::canvas::{colour, draw_err, encode_png, register_font};
use chrono::{Datelike, Duration, NaiveDate, NaiveDateTime, Timelike};
use plotters::coord::Shift;
use plotters::prelude::*;
use plotters::style::text_anchor::{HPos, Pos, VPos};
use std::collections::BTreeMap;
use tochen_domain::{Platform, PostStatus};

pub const WEEK_WIDTH: u32 = 1000;
pub const WEEK_HEIGHT: u32 = 800;
pub const MONTH_WIDTH: u32 = 1000;
pub const MONTH_HEIGHT: u32 = 800;
/// The week's first hour row unless a post is earlier.
pub const DAY_START_HOUR: u32 = 6;
/// Weeks in the month grid.
pub const MONTH_ROWS: usize = 6;

/// Left edge of the grid (hour labels are left of it), top (title and day headers above), right and bottom
/// (the legend below).
const LEFT: i32 = 60;
const TOP: i32 = 86;
const RIGHT: i32 = 990;
const BOTTOM: i32 = 720;
const GRID: RGBColor = RGBColor(200, 200, 200);
const MUTED: RGBColor = RGBColor(150, 150, 150);
const FAILED: RGBColor = RGBColor(160, 0, 0);
/// The kinds' samples in the legend.
const NEUTRAL: RGBColor = RGBColor(110, 110, 110);

/// What a post is on the calendar.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum Mark {
    Published,
    Scheduled,
    /// A draft waiting for approval.
    Pending,
    Failed,
}

impl Mark {
    pub const ALL: [Mark; 4] = [Mark::Published, Mark::Scheduled, Mark::Pending, Mark::Failed];

    /// How a post in status `s` shows on a calendar (the bot's and the Mini App's); `None`: not on it (drafts
    /// never scheduled, cancelled and rejected posts).
    pub fn of(s: PostStatus) -> Option<Mark> {
        match s {
            PostStatus::Published | PostStatus::PartiallyPublished => Some(Mark::Published),
            PostStatus::Scheduled | PostStatus::Publishing => Some(Mark::Scheduled),
            PostStatus::PendingApproval => Some(Mark::Pending),
            PostStatus::Failed => Some(Mark::Failed),
            PostStatus::Draft | PostStatus::Cancelled | PostStatus::Rejected => None,
        }
    }
}

/// The first instant of local day `d` in `tz` (a day starting in a DST gap starts at the first valid instant).
pub fn local_midnight(tz: chrono_tz::Tz, d: NaiveDate) -> tochen_domain::clock::Millis {
    use chrono::TimeZone;
    let naive = d.and_hms_opt(0, 0, 0).unwrap_or_default();
    match tz.from_local_datetime(&naive).earliest() {
        Some(t) => t.timestamp_millis(),
        // Midnight skipped by a DST change: the day starts an hour later.
        None => tz
            .from_local_datetime(&(naive + Duration::hours(1)))
            .earliest()
            .map_or_else(|| naive.and_utc().timestamp_millis(), |t| t.timestamp_millis()),
    }
}

/// One chip: a post on one platform at a local time.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Entry {
    pub at: NaiveDateTime,
    pub platform: Platform,
    pub mark: Mark,
}

/// The texts of a picture, localized by the caller.
#[derive(Debug, Clone)]
pub struct Labels {
    pub title: String,
    /// Monday to Sunday, short.
    pub weekdays: Vec<String>,
    /// The legend's name of each of [`Mark::ALL`], in that order.
    pub marks: Vec<String>,
}

impl Labels {
    fn weekday(&self, i: usize) -> &str {
        self.weekdays.get(i).map(String::as_str).unwrap_or_default()
    }
}

/// A rectangle of the picture in pixels: `x0..x1`, `y0..y1`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Rect {
    pub x0: u32,
    pub y0: u32,
    pub x1: u32,
    pub y1: u32,
}

/// The week's first hour row: [`DAY_START_HOUR`], or the earliest hour of a post in the week.
pub fn first_hour(week_start: NaiveDate, entries: &[Entry]) -> u32 {
    entries
        .iter()
        .filter(|e| day_index(week_start, e.at.date(), 7).is_some())
        .map(|e| e.at.hour())
        .min()
        .unwrap_or(DAY_START_HOUR)
        .min(DAY_START_HOUR)
}

fn day_index(start: NaiveDate, d: NaiveDate, days: i64) -> Option<usize> {
    let i = (d - start).num_days();
    (0..days).contains(&i).then_some(i as usize)
}

/// The cell of day `day` (0 = the week's Monday) and `hour` in the week picture whose rows start at `first_hour`.
pub fn week_cell(first_hour: u32, day: usize, hour: u32) -> Rect {
    let rows = (24 - first_hour.min(23)) as i32;
    let row_h = (BOTTOM - TOP) / rows;
    let col_w = (RIGHT - LEFT) / 7;
    let r = hour.saturating_sub(first_hour) as i32;
    let (x0, y0) = (LEFT + day as i32 * col_w, TOP + r * row_h);
    Rect { x0: x0 as u32, y0: y0 as u32, x1: (x0 + col_w) as u32, y1: (y0 + row_h) as u32 }
}

/// The cell of week row `row` (0..[`MONTH_ROWS`]) and weekday `col` (0 = Monday) in the month picture.
pub fn month_cell(row: usize, col: usize) -> Rect {
    let row_h = (BOTTOM - TOP) / MONTH_ROWS as i32;
    let col_w = (RIGHT - LEFT) / 7;
    let (x0, y0) = (LEFT + col as i32 * col_w, TOP + row as i32 * row_h);
    Rect { x0: x0 as u32, y0: y0 as u32, x1: (x0 + col_w) as u32, y1: (y0 + row_h) as u32 }
}

/// The Monday the month grid of `month` (any day of it) starts on.
pub fn month_grid_start(month: NaiveDate) -> NaiveDate {
    let first = month.with_day(1).unwrap_or(month);
    first - Duration::days(i64::from(first.weekday().num_days_from_monday()))
}

/// Where a day is in the month grid of `month`: (row, weekday), or `None` outside the grid.
pub fn month_position(month: NaiveDate, d: NaiveDate) -> Option<(usize, usize)> {
    let i = day_index(month_grid_start(month), d, 7 * MONTH_ROWS as i64)?;
    Some((i / 7, i % 7))
}

type Area<'a> = DrawingArea<BitMapBackend<'a>, Shift>;

/// A day's chips of the month: (platform order, kind) -> (platform, count).
type DayChips = BTreeMap<(usize, Mark), (Platform, u32)>;

/// A platform's place in [`Platform::ALL`] (the order chips are drawn in).
fn order(p: Platform) -> usize {
    Platform::ALL.iter().position(|x| *x == p).unwrap_or(usize::MAX)
}

fn lighten(c: RGBColor, keep: f64) -> RGBColor {
    let f = |v: u8| (255.0 - (255.0 - f64::from(v)) * keep).round() as u8;
    RGBColor(f(c.0), f(c.1), f(c.2))
}

/// Black or white, whichever reads on `c`.
fn ink_on(c: RGBColor) -> RGBColor {
    let luma = 0.299 * f64::from(c.0) + 0.587 * f64::from(c.1) + 0.114 * f64::from(c.2);
    if luma > 150.0 {
        BLACK
    } else {
        WHITE
    }
}

fn text(area: &Area<'_>, s: &str, at: (i32, i32), size: u32, c: RGBColor, pos: Pos) -> Result<(), ChartError> {
    let style = ("sans-serif", size).into_font().color(&c).pos(pos);
    area.draw(&Text::new(s.to_owned(), at, style)).map_err(draw_err)
}

fn line(area: &Area<'_>, from: (i32, i32), to: (i32, i32), c: RGBColor, width: u32) -> Result<(), ChartError> {
    area.draw(&PathElement::new(vec![from, to], c.stroke_width(width))).map_err(draw_err)
}

/// Draws a chip of `mark` in `c` over `[x0, x1) x [y0, y1)`; returns the colour text on it should have.
fn chip(
    area: &Area<'_>,
    (x0, y0, x1, y1): (i32, i32, i32, i32),
    c: RGBColor,
    mark: Mark,
) -> Result<RGBColor, ChartError> {
    let (x1, y1) = (x1.max(x0 + 2), y1.max(y0 + 2));
    let rect = |style: ShapeStyle| area.draw(&Rectangle::new([(x0, y0), (x1 - 1, y1 - 1)], style)).map_err(draw_err);
    match mark {
        Mark::Published => {
            rect(c.filled())?;
            Ok(ink_on(c))
        }
        Mark::Scheduled => {
            let light = lighten(c, 0.35);
            rect(light.filled())?;
            rect(c.stroke_width(2))?;
            Ok(ink_on(light))
        }
        Mark::Pending => {
            rect(WHITE.filled())?;
            for x in x0..x1 {
                for y in y0..y1 {
                    if (x + y).rem_euclid(6) < 2 {
                        area.draw_pixel((x, y), &c).map_err(draw_err)?;
                    }
                }
            }
            rect(c.stroke_width(2))?;
            Ok(BLACK)
        }
        Mark::Failed => {
            rect(c.filled())?;
            line(area, (x0, y0), (x1 - 1, y1 - 1), FAILED, 2)?;
            line(area, (x0, y1 - 1), (x1 - 1, y0), FAILED, 2)?;
            rect(FAILED.stroke_width(2))?;
            Ok(ink_on(c))
        }
    }
}

/// The legend under the grid: the platforms in their colours, then the kinds.
fn legend(area: &Area<'_>, labels: &Labels) -> Result<(), ChartError> {
    let mut x = LEFT;
    let y = BOTTOM + 22;
    for p in Platform::ALL {
        chip(area, (x, y, x + 22, y + 16), colour(*p), Mark::Published)?;
        text(area, p.name(), (x + 28, y + 8), 15, BLACK, Pos::new(HPos::Left, VPos::Center))?;
        x += 40 + 10 * p.name().chars().count() as i32;
    }
    let mut x = LEFT;
    let y = BOTTOM + 52;
    for (i, mark) in Mark::ALL.into_iter().enumerate() {
        let name = labels.marks.get(i).map(String::as_str).unwrap_or_default();
        chip(area, (x, y, x + 22, y + 16), NEUTRAL, mark)?;
        text(area, name, (x + 28, y + 8), 15, BLACK, Pos::new(HPos::Left, VPos::Center))?;
        x += 44 + 9 * name.chars().count() as i32;
    }
    Ok(())
}

fn draw_into(w: u32, h: u32, draw: impl FnOnce(&Area<'_>) -> Result<(), ChartError>) -> Result<Vec<u8>, ChartError> {
    register_font();
    let mut rgb = vec![0u8; (w * h * 3) as usize];
    {
        let root = BitMapBackend::with_buffer(&mut rgb, (w, h)).into_drawing_area();
        root.fill(&WHITE).map_err(draw_err)?;
        draw(&root)?;
        root.present().map_err(draw_err)?;
    }
    encode_png(&rgb, w, h)
}

/// The week from Monday `week_start`: PNG bytes of [`WEEK_WIDTH`] x [`WEEK_HEIGHT`]. Entries outside the week
/// are left out.
pub fn render_week(week_start: NaiveDate, entries: &[Entry], labels: &Labels) -> Result<Vec<u8>, ChartError> {
    let first = first_hour(week_start, entries);
    draw_into(WEEK_WIDTH, WEEK_HEIGHT, |area| {
        text(area, &labels.title, (WEEK_WIDTH as i32 / 2, 22), 22, BLACK, Pos::new(HPos::Center, VPos::Center))?;
        for day in 0..7 {
            let date = week_start + Duration::days(day as i64);
            let r = week_cell(first, day, first);
            let head = format!("{} {}", labels.weekday(day), date.format("%d.%m"));
            let cx = (r.x0 + r.x1) as i32 / 2;
            text(area, &head, (cx, TOP - 18), 16, BLACK, Pos::new(HPos::Center, VPos::Center))?;
        }
        for hour in first..24 {
            let r = week_cell(first, 0, hour);
            let label = format!("{hour:02}:00");
            text(area, &label, (LEFT - 6, r.y0 as i32 + 2), 13, MUTED, Pos::new(HPos::Right, VPos::Top))?;
            line(area, (LEFT, r.y0 as i32), (RIGHT, r.y0 as i32), GRID, 1)?;
        }
        let bottom = week_cell(first, 0, 23).y1 as i32;
        line(area, (LEFT, bottom), (RIGHT, bottom), GRID, 1)?;
        for day in 0..=7 {
            let x = if day == 7 { week_cell(first, 6, first).x1 } else { week_cell(first, day, first).x0 } as i32;
            line(area, (x, TOP), (x, bottom), GRID, 1)?;
        }
        let mut cells: BTreeMap<(usize, u32), Vec<&Entry>> = BTreeMap::new();
        for e in entries {
            if let Some(day) = day_index(week_start, e.at.date(), 7) {
                cells.entry((day, e.at.hour())).or_default().push(e);
            }
        }
        for ((day, hour), mut list) in cells {
            list.sort_by_key(|e| (e.at, order(e.platform), e.mark));
            let r = week_cell(first, day, hour);
            let (x0, y0, x1, y1) = (r.x0 as i32 + 4, r.y0 as i32 + 4, r.x1 as i32 - 4, r.y1 as i32 - 3);
            let n = list.len() as i32;
            let w = ((x1 - x0 - (n - 1) * 2) / n).clamp(3, 24);
            for (i, e) in list.iter().enumerate() {
                let x = x0 + i as i32 * (w + 2);
                if x + w > x1 {
                    break;
                }
                chip(area, (x, y0, x + w, y1), colour(e.platform), e.mark)?;
            }
        }
        legend(area, labels)
    })
}

/// The month of `month` (any day of it): PNG bytes of [`MONTH_WIDTH`] x [`MONTH_HEIGHT`], a count chip per
/// platform and kind in each day. Entries outside the grid are left out.
pub fn render_month(month: NaiveDate, entries: &[Entry], labels: &Labels) -> Result<Vec<u8>, ChartError> {
    let start = month_grid_start(month);
    draw_into(MONTH_WIDTH, MONTH_HEIGHT, |area| {
        text(area, &labels.title, (MONTH_WIDTH as i32 / 2, 22), 22, BLACK, Pos::new(HPos::Center, VPos::Center))?;
        for col in 0..7 {
            let r = month_cell(0, col);
            let cx = (r.x0 + r.x1) as i32 / 2;
            text(area, labels.weekday(col), (cx, TOP - 18), 16, BLACK, Pos::new(HPos::Center, VPos::Center))?;
        }
        let mut counts: BTreeMap<NaiveDate, DayChips> = BTreeMap::new();
        for e in entries {
            if month_position(month, e.at.date()).is_some() {
                counts
                    .entry(e.at.date())
                    .or_default()
                    .entry((order(e.platform), e.mark))
                    .or_insert((e.platform, 0))
                    .1 += 1;
            }
        }
        for i in 0..(7 * MONTH_ROWS) {
            let date = start + Duration::days(i as i64);
            let r = month_cell(i / 7, i % 7);
            let (x0, y0, x1, y1) = (r.x0 as i32, r.y0 as i32, r.x1 as i32, r.y1 as i32);
            let inside = date.month() == month.month();
            if !inside {
                area.draw(&Rectangle::new([(x0, y0), (x1, y1)], RGBColor(245, 245, 245).filled())).map_err(draw_err)?;
            }
            area.draw(&Rectangle::new([(x0, y0), (x1, y1)], GRID.stroke_width(1))).map_err(draw_err)?;
            let ink = if inside { BLACK } else { MUTED };
            text(area, &date.day().to_string(), (x0 + 6, y0 + 4), 15, ink, Pos::new(HPos::Left, VPos::Top))?;
            let Some(chips) = counts.get(&date) else { continue };
            let (cw, ch, gap) = (38, 20, 3);
            let per_row = ((x1 - x0 - 8 + gap) / (cw + gap)).max(1);
            let rows_fit = ((y1 - y0 - 26 + gap) / (ch + gap)).max(1);
            let total = chips.len() as i32;
            for (k, ((_, mark), (platform, n))) in chips.iter().enumerate() {
                let k = k as i32;
                let (row, col) = (k / per_row, k % per_row);
                if row >= rows_fit {
                    break;
                }
                let last_slot = row == rows_fit - 1 && col == per_row - 1;
                let (cx, cy) = (x0 + 5 + col * (cw + gap), y0 + 24 + row * (ch + gap));
                if last_slot && total > per_row * rows_fit {
                    let more = format!("+{}", total - k);
                    text(area, &more, (cx + cw / 2, cy + ch / 2), 14, BLACK, Pos::new(HPos::Center, VPos::Center))?;
                    break;
                }
                let ink = chip(area, (cx, cy, cx + cw, cy + ch), colour(*platform), *mark)?;
                text(area, &n.to_string(), (cx + cw / 2, cy + ch / 2), 14, ink, Pos::new(HPos::Center, VPos::Center))?;
            }
        }
        legend(area, labels)
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn labels() -> Labels {
        Labels {
            title: "Неделя 07.12 – 13.12.2026".into(),
            weekdays: "Пн,Вт,Ср,Чт,Пт,Сб,Вс".split(',').map(str::to_owned).collect(),
            marks: vec!["опубликован".into(), "запланирован".into(), "ждёт одобрения".into(), "ошибка".into()],
        }
    }

    fn decode(bytes: &[u8]) -> (u32, u32, Vec<u8>) {
        let decoder = png::Decoder::new(std::io::Cursor::new(bytes));
        let mut reader = decoder.read_info().unwrap();
        let mut buf = vec![0; reader.output_buffer_size()];
        let info = reader.next_frame(&mut buf).unwrap();
        assert_eq!(info.color_type, png::ColorType::Rgb);
        (info.width, info.height, buf)
    }

    fn has_colour(buf: &[u8], width: u32, r: Rect, c: RGBColor) -> bool {
        (r.y0..r.y1).any(|y| {
            (r.x0..r.x1).any(|x| {
                let i = ((y * width + x) * 3) as usize;
                buf[i..i + 3] == [c.0, c.1, c.2]
            })
        })
    }

    fn at(d: NaiveDate, h: u32, m: u32) -> NaiveDateTime {
        d.and_hms_opt(h, m, 0).unwrap()
    }

    #[test]
    fn the_week_shows_each_post_in_its_day_and_hour_in_its_platforms_colour() {
        let monday = NaiveDate::from_ymd_opt(2026, 12, 7).unwrap();
        let wed = monday + Duration::days(2);
        let entries = vec![
            Entry { at: at(monday, 9, 30), platform: Platform::Instagram, mark: Mark::Published },
            Entry { at: at(monday, 9, 45), platform: Platform::Facebook, mark: Mark::Published },
            Entry { at: at(wed, 18, 0), platform: Platform::TikTok, mark: Mark::Scheduled },
            Entry { at: at(wed, 20, 0), platform: Platform::Facebook, mark: Mark::Pending },
            Entry { at: at(wed, 21, 0), platform: Platform::Instagram, mark: Mark::Failed },
            // Next week: not drawn.
            Entry { at: at(monday + Duration::days(7), 10, 0), platform: Platform::TikTok, mark: Mark::Published },
        ];
        let png = render_week(monday, &entries, &labels()).unwrap();
        let (w, h, buf) = decode(&png);
        assert_eq!((w, h), (WEEK_WIDTH, WEEK_HEIGHT));
        assert_eq!(first_hour(monday, &entries), DAY_START_HOUR);
        let ig = colour(Platform::Instagram);
        let fb = colour(Platform::Facebook);
        let tt = colour(Platform::TikTok);
        let cell = |d, hr| week_cell(DAY_START_HOUR, d, hr);
        assert!(has_colour(&buf, w, cell(0, 9), ig));
        assert!(has_colour(&buf, w, cell(0, 9), fb));
        assert!(!has_colour(&buf, w, cell(0, 9), tt));
        // Scheduled: a light fill with the platform's border.
        assert!(has_colour(&buf, w, cell(2, 18), tt));
        assert!(has_colour(&buf, w, cell(2, 18), lighten(tt, 0.35)));
        // Pending: hatched on white, no light fill.
        assert!(has_colour(&buf, w, cell(2, 20), fb));
        assert!(!has_colour(&buf, w, cell(2, 20), lighten(fb, 0.35)));
        // Failed: crossed out.
        assert!(has_colour(&buf, w, cell(2, 21), FAILED));
        // Empty cells stay empty, and the next week's post is not on Monday.
        for (d, hr) in [(1, 9), (0, 10), (3, 18)] {
            for c in [ig, fb, tt] {
                assert!(!has_colour(&buf, w, cell(d, hr), c), "{d} {hr}");
            }
        }
    }

    #[test]
    fn an_early_post_adds_hour_rows() {
        let monday = NaiveDate::from_ymd_opt(2026, 12, 7).unwrap();
        let entries =
            vec![Entry { at: at(monday + Duration::days(6), 3, 5), platform: Platform::TikTok, mark: Mark::Published }];
        assert_eq!(first_hour(monday, &entries), 3);
        let png = render_week(monday, &entries, &labels()).unwrap();
        let (w, _, buf) = decode(&png);
        assert!(has_colour(&buf, w, week_cell(3, 6, 3), colour(Platform::TikTok)));
        let empty = render_week(monday, &[], &labels()).unwrap();
        assert_eq!(decode(&empty).0, WEEK_WIDTH);
    }

    #[test]
    fn the_month_counts_per_day_and_platform() {
        let dec = NaiveDate::from_ymd_opt(2026, 12, 15).unwrap();
        // 1 Dec 2026 is a Tuesday: the grid starts on Monday 30 Nov.
        assert_eq!(month_grid_start(dec), NaiveDate::from_ymd_opt(2026, 11, 30).unwrap());
        let d = |day| NaiveDate::from_ymd_opt(2026, 12, day).unwrap();
        assert_eq!(month_position(dec, d(1)), Some((0, 1)));
        assert_eq!(month_position(dec, d(31)), Some((4, 3)));
        let mut entries = vec![];
        for h in 8..11 {
            entries.push(Entry { at: at(d(10), h, 0), platform: Platform::Instagram, mark: Mark::Published });
        }
        entries.push(Entry { at: at(d(10), 12, 0), platform: Platform::Facebook, mark: Mark::Pending });
        entries.push(Entry { at: at(d(24), 12, 0), platform: Platform::TikTok, mark: Mark::Scheduled });
        // Many kinds on one day: the chips that do not fit become "+n".
        for p in Platform::ALL {
            for m in Mark::ALL {
                entries.push(Entry { at: at(d(3), 9, 0), platform: *p, mark: m });
            }
        }
        let png = render_month(dec, &entries, &labels()).unwrap();
        let (w, h, buf) = decode(&png);
        assert_eq!((w, h), (MONTH_WIDTH, MONTH_HEIGHT));
        let cell = |day| {
            let (r, c) = month_position(dec, d(day)).unwrap();
            month_cell(r, c)
        };
        assert!(has_colour(&buf, w, cell(10), colour(Platform::Instagram)));
        assert!(has_colour(&buf, w, cell(10), colour(Platform::Facebook)));
        assert!(!has_colour(&buf, w, cell(10), colour(Platform::TikTok)));
        assert!(has_colour(&buf, w, cell(24), lighten(colour(Platform::TikTok), 0.35)));
        assert!(!has_colour(&buf, w, cell(11), colour(Platform::Instagram)));
        // 12 chips on the 3rd: 8 drawn, then "+4" (TikTok's, last in order, are among those left out).
        assert!(has_colour(&buf, w, cell(3), colour(Platform::Facebook)));
        assert!(!has_colour(&buf, w, cell(3), colour(Platform::TikTok)));
        if let Ok(dir) = std::env::var("TOCHEN_CALENDAR_PNG_DIR") {
            std::fs::write(format!("{dir}/month.png"), &png).unwrap();
            let monday = NaiveDate::from_ymd_opt(2026, 12, 7).unwrap();
            let mut week = entries.clone();
            week.push(Entry { at: at(monday, 9, 30), platform: Platform::Instagram, mark: Mark::Published });
            week.push(Entry { at: at(monday, 9, 30), platform: Platform::Facebook, mark: Mark::Scheduled });
            week.push(Entry { at: at(d(9), 20, 0), platform: Platform::Facebook, mark: Mark::Pending });
            week.push(Entry { at: at(d(11), 13, 0), platform: Platform::TikTok, mark: Mark::Failed });
            std::fs::write(format!("{dir}/week.png"), render_week(monday, &week, &labels()).unwrap()).unwrap();
        }
    }
}
