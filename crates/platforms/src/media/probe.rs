//! What a media file is, read from its bytes (never from its name or declared type): images through the `image`
//! crate's format sniffing and header decoding, MP4/MOV video through a small ISO-BMFF box reader (`ftyp`, then
//! `moov/mvhd`, and per track `tkhd`, `mdia/mdhd`, `hdlr`, `minf/stbl/stsd` and `stts`).
//!
//! The reader seeks over everything else (`mdat` above all), so a file of gigabytes is probed by reading a few
//! kilobytes. It never trusts a size from the file: every box is bounded by its parent and by the file's length,
//! and a `moov` larger than [`MAX_MOOV`] is refused rather than read.

use std::io::{Read, Seek, SeekFrom};

/// Largest `moov` box read into memory (a ten-hour video at 60 fps has a `moov` of a few MB).
pub const MAX_MOOV: u64 = 64 * 1024 * 1024;

/// The container or image format, from the bytes.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Format {
    Jpeg,
    Png,
    Webp,
    Gif,
    Mp4,
    Mov,
    /// Neither a known image nor an ISO-BMFF video.
    Unknown,
}

impl Format {
    pub fn as_str(self) -> &'static str {
        match self {
            Format::Jpeg => "JPEG",
            Format::Png => "PNG",
            Format::Webp => "WebP",
            Format::Gif => "GIF",
            Format::Mp4 => "MP4",
            Format::Mov => "MOV",
            Format::Unknown => "unknown",
        }
    }

    pub fn is_video(self) -> bool {
        matches!(self, Format::Mp4 | Format::Mov)
    }

    pub fn is_image(self) -> bool {
        matches!(self, Format::Jpeg | Format::Png | Format::Webp | Format::Gif)
    }

    /// The MIME type of the format.
    pub fn content_type(self) -> &'static str {
        match self {
            Format::Jpeg => "image/jpeg",
            Format::Png => "image/png",
            Format::Webp => "image/webp",
            Format::Gif => "image/gif",
            Format::Mp4 => "video/mp4",
            Format::Mov => "video/quicktime",
            Format::Unknown => "application/octet-stream",
        }
    }
}

/// What a probe found. Fields a format does not have (duration of an image) are `None`.
#[derive(Debug, Clone, PartialEq)]
pub struct Probe {
    pub format: Format,
    pub width: Option<u32>,
    pub height: Option<u32>,
    pub duration_ms: Option<u64>,
    /// Frames per second of the video track (samples over the track's duration).
    pub fps: Option<f64>,
    /// Sample entry of the video track: `avc1`/`avc3` (H.264), `hvc1`/`hev1` (HEVC), `vp09`, `av01`...
    pub video_codec: Option<String>,
    /// Sample entry of the audio track: `mp4a` (AAC), `Opus`, `ac-3`...
    pub audio_codec: Option<String>,
    pub audio_sample_rate: Option<u32>,
}

impl Probe {
    fn unknown() -> Self {
        Probe {
            format: Format::Unknown,
            width: None,
            height: None,
            duration_ms: None,
            fps: None,
            video_codec: None,
            audio_codec: None,
            audio_sample_rate: None,
        }
    }

    /// The video codec as people know it (`H.264`, `HEVC`), or the raw sample entry name.
    pub fn video_codec_name(&self) -> Option<&str> {
        self.video_codec.as_deref().map(codec_name)
    }
}

/// `H.264` for `avc1`, and so on; unknown names as they are.
pub fn codec_name(fourcc: &str) -> &str {
    match fourcc {
        "avc1" | "avc3" => "H.264",
        "hvc1" | "hev1" => "HEVC",
        "vp08" => "VP8",
        "vp09" => "VP9",
        "av01" => "AV1",
        "mp4a" => "AAC",
        other => other,
    }
}

/// Why a file could not be probed.
#[derive(Debug, thiserror::Error)]
pub enum ProbeError {
    #[error("cannot read the media file: {0}")]
    Io(#[from] std::io::Error),
    #[error("the video is damaged or not an MP4/MOV file: {0}")]
    Malformed(String),
}

/// Probes bytes held in memory.
pub fn probe_bytes(bytes: &[u8]) -> Probe {
    probe_reader(&mut std::io::Cursor::new(bytes), bytes.len() as u64).unwrap_or_else(|_| Probe::unknown())
}

/// Probes a file on disk, reading only its headers (blocking: call it from `spawn_blocking`).
pub fn probe_file(path: &std::path::Path) -> Result<Probe, ProbeError> {
    let mut f = std::fs::File::open(path)?;
    let len = f.metadata()?.len();
    probe_reader(&mut f, len)
}

/// Probes anything that reads and seeks; `len` is its length in bytes. An unrecognised file is
/// `Format::Unknown`, not an error; an MP4 whose boxes are broken is an error.
pub fn probe_reader<R: Read + Seek>(r: &mut R, len: u64) -> Result<Probe, ProbeError> {
    let mut head = [0u8; 64];
    r.seek(SeekFrom::Start(0))?;
    let n = read_up_to(r, &mut head)?;
    let head = &head[..n];
    if n >= 8 && &head[4..8] == b"ftyp" {
        return probe_isobmff(r, len);
    }
    let format = match image::guess_format(head) {
        Ok(image::ImageFormat::Jpeg) => Format::Jpeg,
        Ok(image::ImageFormat::Png) => Format::Png,
        Ok(image::ImageFormat::WebP) => Format::Webp,
        Ok(image::ImageFormat::Gif) => Format::Gif,
        _ => return Ok(Probe::unknown()),
    };
    let mut p = Probe { format, ..Probe::unknown() };
    // Dimensions from the header only; images are small enough to read whole when the header is far in.
    r.seek(SeekFrom::Start(0))?;
    let take = len.min(64 * 1024 * 1024);
    let mut buf = Vec::with_capacity(take as usize);
    r.take(take).read_to_end(&mut buf)?;
    let reader = image::ImageReader::new(std::io::Cursor::new(&buf)).with_guessed_format();
    if let Ok(Ok((w, h))) = reader.map(|x| x.into_dimensions()) {
        p.width = Some(w);
        p.height = Some(h);
    } else if format == Format::Gif && buf.len() >= 10 {
        p.width = Some(u32::from(u16::from_le_bytes([buf[6], buf[7]])));
        p.height = Some(u32::from(u16::from_le_bytes([buf[8], buf[9]])));
    }
    Ok(p)
}

fn read_up_to<R: Read>(r: &mut R, buf: &mut [u8]) -> std::io::Result<usize> {
    let mut n = 0;
    while n < buf.len() {
        match r.read(&mut buf[n..])? {
            0 => break,
            k => n += k,
        }
    }
    Ok(n)
}

fn malformed(why: impl Into<String>) -> ProbeError {
    ProbeError::Malformed(why.into())
}

/// A box header at `pos`: (type, start of payload, end of box).
fn box_header<R: Read + Seek>(r: &mut R, pos: u64, end: u64) -> Result<([u8; 4], u64, u64), ProbeError> {
    if end.saturating_sub(pos) < 8 {
        return Err(malformed("a box header runs past its parent"));
    }
    r.seek(SeekFrom::Start(pos))?;
    let mut h = [0u8; 8];
    r.read_exact(&mut h)?;
    let size32 = u32::from_be_bytes([h[0], h[1], h[2], h[3]]);
    let kind = [h[4], h[5], h[6], h[7]];
    let (payload, size) = match size32 {
        0 => (pos + 8, end - pos),
        1 => {
            let mut l = [0u8; 8];
            r.read_exact(&mut l)?;
            (pos + 16, u64::from_be_bytes(l))
        }
        n => (pos + 8, u64::from(n)),
    };
    let box_end = pos.checked_add(size).ok_or_else(|| malformed("a box size overflows"))?;
    if size < payload - pos || box_end > end {
        return Err(malformed(format!("box {} has a size that does not fit", String::from_utf8_lossy(&kind))));
    }
    Ok((kind, payload, box_end))
}

fn probe_isobmff<R: Read + Seek>(r: &mut R, len: u64) -> Result<Probe, ProbeError> {
    let mut p = Probe { format: Format::Mp4, ..Probe::unknown() };
    let mut pos = 0;
    let mut moov = None;
    while pos < len {
        let (kind, payload, end) = box_header(r, pos, len)?;
        match &kind {
            b"ftyp" => {
                let mut brand = [0u8; 4];
                r.seek(SeekFrom::Start(payload))?;
                r.read_exact(&mut brand)?;
                if &brand == b"qt  " {
                    p.format = Format::Mov;
                }
            }
            b"moov" => {
                if end - payload > MAX_MOOV {
                    return Err(malformed("the moov box is too large"));
                }
                let mut buf = vec![0u8; (end - payload) as usize];
                r.seek(SeekFrom::Start(payload))?;
                r.read_exact(&mut buf)?;
                moov = Some(buf);
            }
            _ => {}
        }
        pos = end;
    }
    let moov = moov.ok_or_else(|| malformed("no moov box (the file is cut short or still being written)"))?;
    read_moov(&moov, &mut p)?;
    Ok(p)
}

/// A box held in memory: (type, payload).
type BoxRef<'a> = ([u8; 4], &'a [u8]);

/// Child boxes of a payload held in memory.
fn children(buf: &[u8]) -> Result<Vec<BoxRef<'_>>, ProbeError> {
    let mut out = Vec::new();
    let mut c = std::io::Cursor::new(buf);
    let len = buf.len() as u64;
    let mut pos = 0;
    while pos < len {
        let (kind, payload, end) = box_header(&mut c, pos, len)?;
        out.push((kind, &buf[payload as usize..end as usize]));
        pos = end;
    }
    Ok(out)
}

fn child<'a>(buf: &'a [u8], kind: &[u8; 4]) -> Result<Option<&'a [u8]>, ProbeError> {
    Ok(children(buf)?.into_iter().find(|(k, _)| k == kind).map(|(_, b)| b))
}

fn be_u16(b: &[u8], at: usize) -> Result<u16, ProbeError> {
    b.get(at..at + 2).map(|s| u16::from_be_bytes([s[0], s[1]])).ok_or_else(|| malformed("a box is too short"))
}

fn be_u32(b: &[u8], at: usize) -> Result<u32, ProbeError> {
    b.get(at..at + 4)
        .map(|s| u32::from_be_bytes([s[0], s[1], s[2], s[3]]))
        .ok_or_else(|| malformed("a box is too short"))
}

fn be_u64(b: &[u8], at: usize) -> Result<u64, ProbeError> {
    let hi = be_u32(b, at)?;
    let lo = be_u32(b, at + 4)?;
    Ok((u64::from(hi) << 32) | u64::from(lo))
}

/// (timescale, duration) of an `mvhd` or `mdhd` payload.
fn timescale_duration(b: &[u8]) -> Result<(u32, u64), ProbeError> {
    match b.first() {
        Some(1) => Ok((be_u32(b, 20)?, be_u64(b, 24)?)),
        Some(_) => Ok((be_u32(b, 12)?, u64::from(be_u32(b, 16)?))),
        None => Err(malformed("an empty header box")),
    }
}

fn millis(duration: u64, timescale: u32) -> Option<u64> {
    (timescale > 0).then(|| (u128::from(duration) * 1000 / u128::from(timescale)) as u64)
}

fn read_moov(moov: &[u8], p: &mut Probe) -> Result<(), ProbeError> {
    let mut movie_ms = None;
    for (kind, body) in children(moov)? {
        match &kind {
            b"mvhd" => {
                let (ts, d) = timescale_duration(body)?;
                movie_ms = millis(d, ts);
            }
            b"trak" => read_trak(body, p)?,
            _ => {}
        }
    }
    if p.duration_ms.is_none() || movie_ms.is_some_and(|m| m > p.duration_ms.unwrap_or(0)) {
        p.duration_ms = movie_ms.or(p.duration_ms);
    }
    Ok(())
}

fn read_trak(trak: &[u8], p: &mut Probe) -> Result<(), ProbeError> {
    let Some(mdia) = child(trak, b"mdia")? else { return Ok(()) };
    let handler = match child(mdia, b"hdlr")? {
        Some(h) => h.get(8..12).map(|s| [s[0], s[1], s[2], s[3]]).unwrap_or_default(),
        None => return Ok(()),
    };
    let (timescale, duration) = match child(mdia, b"mdhd")? {
        Some(m) => timescale_duration(m)?,
        None => (0, 0),
    };
    let stbl = match child(mdia, b"minf")? {
        Some(minf) => child(minf, b"stbl")?,
        None => None,
    };
    let entry = match stbl.map(|s| child(s, b"stsd")).transpose()?.flatten() {
        // version/flags (4), entry count (4), then the first sample entry: size (4), format (4), body.
        Some(stsd) if stsd.len() >= 16 => Some((String::from_utf8_lossy(&stsd[12..16]).into_owned(), &stsd[16..])),
        _ => None,
    };
    match &handler {
        b"vide" if p.video_codec.is_none() => {
            if let Some((codec, body)) = &entry {
                p.video_codec = Some(codec.clone());
                // Visual sample entry: 6 reserved + 2 data ref index + 16 pre-defined/reserved, then width, height.
                if let (Ok(w), Ok(h)) = (be_u16(body, 24), be_u16(body, 26)) {
                    p.width = Some(u32::from(w));
                    p.height = Some(u32::from(h));
                }
            }
            if let Some(tkhd) = child(trak, b"tkhd")? {
                // The presentation size (16.16 fixed point) wins over the coded size when set.
                let at = if tkhd.first() == Some(&1) { 88 } else { 76 };
                if let (Ok(w), Ok(h)) = (be_u32(tkhd, at), be_u32(tkhd, at + 4)) {
                    if w >> 16 > 0 && h >> 16 > 0 {
                        p.width = Some(w >> 16);
                        p.height = Some(h >> 16);
                    }
                }
            }
            let samples: u64 = match stbl.map(|s| child(s, b"stts")).transpose()?.flatten() {
                Some(stts) => {
                    let n = be_u32(stts, 4)? as usize;
                    let mut total = 0u64;
                    for i in 0..n.min((stts.len().saturating_sub(8)) / 8) {
                        total += u64::from(be_u32(stts, 8 + i * 8)?);
                    }
                    total
                }
                None => 0,
            };
            if timescale > 0 && duration > 0 {
                p.duration_ms = millis(duration, timescale);
                if samples > 0 {
                    let fps = samples as f64 * f64::from(timescale) / duration as f64;
                    p.fps = Some((fps * 1000.0).round() / 1000.0);
                }
            }
        }
        b"soun" if p.audio_codec.is_none() => {
            if let Some((codec, body)) = &entry {
                p.audio_codec = Some(codec.clone());
                // Audio sample entry: 8 + 8 reserved, channels, sample size, 4 more, then the rate in 16.16.
                if let Ok(rate) = be_u32(body, 24) {
                    p.audio_sample_rate = Some(rate >> 16);
                }
            }
        }
        _ => {}
    }
    Ok(())
}
