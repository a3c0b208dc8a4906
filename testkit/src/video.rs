//! Valid MP4/MOV files for tests, without an encoder: an `ftyp`, a `moov` that describes a video track (and an
//! optional AAC audio track) of the chosen size, frame rate, duration and codec, and an `mdat` of zeros that makes
//! the file as large as asked. The probe in `tochen_platforms::media` reads them as it reads a camera's file; the
//! payload is not decodable, which no test needs.
//!
//! [`write_video`] writes big files (60 MB and more) as sparse files: fast, and without holding them in memory.

use std::io::Write;
use std::path::Path;

/// What the video claims to be.
#[derive(Debug, Clone)]
pub struct VideoSpec {
    pub width: u16,
    pub height: u16,
    pub fps: u32,
    pub duration_ms: u64,
    /// Sample entry of the video track: `avc1` (H.264), `hvc1` (HEVC), `vp09`...
    pub codec: [u8; 4],
    pub audio: bool,
    /// A QuickTime file (`ftyp` major brand `qt  `) instead of MP4.
    pub quicktime: bool,
}

impl VideoSpec {
    /// A vertical 1080x1920 H.264 video at 30 fps with AAC audio, `secs` seconds long: what every platform takes.
    pub fn vertical(secs: u64) -> Self {
        VideoSpec {
            width: 1080,
            height: 1920,
            fps: 30,
            duration_ms: secs * 1000,
            codec: *b"avc1",
            audio: true,
            quicktime: false,
        }
    }
}

fn bx(kind: &[u8; 4], body: &[u8]) -> Vec<u8> {
    let mut v = ((body.len() + 8) as u32).to_be_bytes().to_vec();
    v.extend_from_slice(kind);
    v.extend_from_slice(body);
    v
}

fn full(version_flags: u32, rest: &[u8]) -> Vec<u8> {
    let mut v = version_flags.to_be_bytes().to_vec();
    v.extend_from_slice(rest);
    v
}

fn be32(n: u32) -> [u8; 4] {
    n.to_be_bytes()
}

fn mvhd(timescale: u32, duration: u32) -> Vec<u8> {
    let mut b = Vec::new();
    b.extend(be32(0)); // creation
    b.extend(be32(0)); // modification
    b.extend(be32(timescale));
    b.extend(be32(duration));
    b.extend(be32(0x0001_0000)); // rate
    b.extend([0x01, 0x00]); // volume
    b.extend([0u8; 10]);
    b.extend(matrix());
    b.extend([0u8; 24]);
    b.extend(be32(3)); // next track id
    bx(b"mvhd", &full(0, &b))
}

fn matrix() -> Vec<u8> {
    let mut m = Vec::new();
    for v in [0x0001_0000u32, 0, 0, 0, 0x0001_0000, 0, 0, 0, 0x4000_0000] {
        m.extend(be32(v));
    }
    m
}

fn tkhd(id: u32, duration: u32, width: u16, height: u16) -> Vec<u8> {
    let mut b = Vec::new();
    b.extend(be32(0));
    b.extend(be32(0));
    b.extend(be32(id));
    b.extend(be32(0));
    b.extend(be32(duration));
    b.extend([0u8; 8]);
    b.extend([0u8; 4]); // layer, alternate group
    b.extend([0u8; 4]); // volume, reserved
    b.extend(matrix());
    b.extend(be32(u32::from(width) << 16));
    b.extend(be32(u32::from(height) << 16));
    bx(b"tkhd", &full(3, &b))
}

fn mdia(handler: &[u8; 4], timescale: u32, duration: u32, entry: Vec<u8>, stts: (u32, u32)) -> Vec<u8> {
    let mut mdhd = Vec::new();
    mdhd.extend(be32(0));
    mdhd.extend(be32(0));
    mdhd.extend(be32(timescale));
    mdhd.extend(be32(duration));
    mdhd.extend([0x55, 0xc4, 0, 0]);
    let mut hdlr = be32(0).to_vec();
    hdlr.extend(handler);
    hdlr.extend([0u8; 12]);
    hdlr.extend(b"fake\0");
    let mut stsd = be32(1).to_vec();
    stsd.extend(entry);
    let mut stts_b = be32(1).to_vec();
    stts_b.extend(be32(stts.0));
    stts_b.extend(be32(stts.1));
    let stbl = [
        bx(b"stsd", &full(0, &stsd)),
        bx(b"stts", &full(0, &stts_b)),
        bx(b"stsc", &full(0, &be32(0))),
        bx(b"stsz", &full(0, &[0u8; 8])),
        bx(b"stco", &full(0, &be32(0))),
    ]
    .concat();
    let minf = bx(b"minf", &bx(b"stbl", &stbl));
    bx(b"mdia", &[bx(b"mdhd", &full(0, &mdhd)), bx(b"hdlr", &full(0, &hdlr)), minf].concat())
}

/// The `ftyp` and `moov` of a file of this spec (an `mdat` follows them).
pub fn video_header(spec: &VideoSpec) -> Vec<u8> {
    let brand: &[u8; 4] = if spec.quicktime { b"qt  " } else { b"isom" };
    let mut ftyp = brand.to_vec();
    ftyp.extend(be32(0x200));
    ftyp.extend(brand);
    ftyp.extend(b"mp41");
    let movie_ts = 1000u32;
    let movie_dur = spec.duration_ms as u32;
    // Video: timescale fps*1000, one sample per frame of 1000 ticks.
    let vts = spec.fps * 1000;
    let frames = (spec.duration_ms * u64::from(spec.fps) / 1000) as u32;
    let mut visual = vec![0u8; 6];
    visual.extend([0, 1]); // data reference index
    visual.extend([0u8; 16]);
    visual.extend(spec.width.to_be_bytes());
    visual.extend(spec.height.to_be_bytes());
    visual.extend(be32(0x0048_0000));
    visual.extend(be32(0x0048_0000));
    visual.extend(be32(0));
    visual.extend([0, 1]); // frame count
    visual.extend([0u8; 32]); // compressor name
    visual.extend([0, 0x18, 0xff, 0xff]);
    let video_entry = bx(&spec.codec, &visual);
    let vtrak = bx(
        b"trak",
        &[tkhd(1, movie_dur, spec.width, spec.height), mdia(b"vide", vts, frames * 1000, video_entry, (frames, 1000))]
            .concat(),
    );
    let mut traks = vtrak;
    if spec.audio {
        let rate = 48_000u32;
        let mut sound = vec![0u8; 6];
        sound.extend([0, 1]);
        sound.extend([0u8; 8]);
        sound.extend([0, 2, 0, 16, 0, 0, 0, 0]); // channels, sample size, pre-defined, reserved
        sound.extend(be32(rate << 16));
        let audio_entry = bx(b"mp4a", &sound);
        let samples = (spec.duration_ms * u64::from(rate) / 1000 / 1024) as u32;
        traks.extend(bx(
            b"trak",
            &[tkhd(2, movie_dur, 0, 0), mdia(b"soun", rate, samples * 1024, audio_entry, (samples, 1024))].concat(),
        ));
    }
    let moov = bx(b"moov", &[mvhd(movie_ts, movie_dur), traks].concat());
    [bx(b"ftyp", &ftyp), moov].concat()
}

/// A whole file of `total_bytes` (at least the header and an empty `mdat`) in memory.
pub fn video_bytes(spec: &VideoSpec, total_bytes: usize) -> Vec<u8> {
    let mut v = video_header(spec);
    let mdat_len = total_bytes.saturating_sub(v.len()).max(8);
    v.extend(((mdat_len) as u32).to_be_bytes());
    v.extend(b"mdat");
    v.resize(v.len() + mdat_len - 8, 0);
    v
}

/// Writes a file of `total_bytes` at `path` without holding it in memory (the `mdat` is a sparse hole).
pub fn write_video(path: &Path, spec: &VideoSpec, total_bytes: u64) -> std::io::Result<()> {
    let head = video_header(spec);
    let mdat_len = total_bytes.saturating_sub(head.len() as u64).max(16);
    let mut f = std::fs::File::create(path)?;
    f.write_all(&head)?;
    // A 64-bit mdat size, so files over 4 GB work too.
    f.write_all(&1u32.to_be_bytes())?;
    f.write_all(b"mdat")?;
    f.write_all(&mdat_len.to_be_bytes())?;
    f.set_len(head.len() as u64 + mdat_len)?;
    f.sync_all()
}
