//! The media probe reads what the bytes are (not the name), and the limits table refuses what each platform
//! refuses (`docs/contracts/media-formats.md`).

use tochen_domain::Platform;
use tochen_platforms::media::{
    check_media, probe_bytes, probe_file, Format, MediaFacts, MediaLimits, MediaProblem, Probe, Target,
};
use tochen_testkit::images;
use tochen_testkit::video::{video_bytes, write_video, VideoSpec};

fn facts(p: &Probe, size: u64) -> MediaFacts {
    MediaFacts::from_probe(p, size)
}

#[test]
fn images_are_probed_from_their_bytes() {
    let p = probe_bytes(&images::jpeg(320, 400));
    assert_eq!((p.format, p.width, p.height), (Format::Jpeg, Some(320), Some(400)));
    let p = probe_bytes(&images::png(64, 32));
    assert_eq!((p.format, p.width, p.height), (Format::Png, Some(64), Some(32)));
    assert_eq!(probe_bytes(b"hello, not media").format, Format::Unknown);
    assert_eq!(probe_bytes(&[]).format, Format::Unknown);
}

#[test]
fn an_mp4_is_probed_for_codecs_duration_size_and_frame_rate() {
    let spec = VideoSpec { fps: 25, ..VideoSpec::vertical(12) };
    let bytes = video_bytes(&spec, 200_000);
    let p = probe_bytes(&bytes);
    assert_eq!(p.format, Format::Mp4);
    assert_eq!((p.width, p.height), (Some(1080), Some(1920)));
    assert_eq!(p.duration_ms, Some(12_000));
    assert_eq!(p.fps, Some(25.0));
    assert_eq!(p.video_codec.as_deref(), Some("avc1"));
    assert_eq!(p.video_codec_name(), Some("H.264"));
    assert_eq!(p.audio_codec.as_deref(), Some("mp4a"));
    assert_eq!(p.audio_sample_rate, Some(48_000));

    let mov = VideoSpec { quicktime: true, codec: *b"hvc1", audio: false, ..VideoSpec::vertical(4) };
    let p = probe_bytes(&video_bytes(&mov, 10_000));
    assert_eq!((p.format, p.video_codec.as_deref(), p.audio_codec.as_deref()), (Format::Mov, Some("hvc1"), None));
}

#[test]
fn a_big_file_is_probed_without_reading_it_all() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("big.mp4");
    write_video(&path, &VideoSpec::vertical(30), 5 * 1024 * 1024 * 1024).unwrap();
    let p = probe_file(&path).unwrap();
    assert_eq!((p.format, p.duration_ms, p.fps), (Format::Mp4, Some(30_000), Some(30.0)));
}

#[test]
fn broken_boxes_are_an_error_not_a_panic() {
    let mut bytes = video_bytes(&VideoSpec::vertical(5), 5_000);
    // moov claims to be far larger than the file.
    let moov = bytes.windows(4).position(|w| w == b"moov").unwrap() - 4;
    bytes[moov..moov + 4].copy_from_slice(&u32::MAX.to_be_bytes());
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("broken.mp4");
    std::fs::write(&path, &bytes).unwrap();
    assert!(probe_file(&path).is_err());
    // Truncated anywhere: never a panic.
    let good = video_bytes(&VideoSpec::vertical(5), 3_000);
    for cut in 0..good.len().min(1500) {
        let _ = probe_bytes(&good[..cut]);
    }
}

fn video(spec: &VideoSpec, size: u64) -> MediaFacts {
    facts(&probe_bytes(&video_bytes(spec, 4_000)), size)
}

#[test]
fn instagram_images_need_the_right_ratio_and_size() {
    let square = facts(&probe_bytes(&images::jpeg(1080, 1080)), 300_000);
    assert!(check_media(Platform::Instagram, std::slice::from_ref(&square)).is_empty());
    let tall = facts(&probe_bytes(&images::jpeg(500, 1000)), 300_000);
    let problems = check_media(Platform::Instagram, &[tall]);
    assert!(matches!(problems.as_slice(), [MediaProblem::AspectRatio { suggest: "4:5", .. }]), "{problems:?}");
    assert_eq!(problems[0].instagram_subcode(), 2207009);
    let big = MediaFacts { size_bytes: 9 * 1024 * 1024, ..square.clone() };
    let problems = check_media(Platform::Instagram, &[big]);
    assert_eq!(problems.iter().map(|p| p.instagram_subcode()).collect::<Vec<_>>(), [2207004]);
    // A PNG is converted to JPEG before upload: not a problem; something unknown is.
    let png = facts(&probe_bytes(&images::png(800, 800)), 100);
    assert!(check_media(Platform::Instagram, &[png]).is_empty());
    let junk = facts(&probe_bytes(b"junk junk junk"), 14);
    assert_eq!(check_media(Platform::Instagram, &[junk])[0].instagram_subcode(), 2207005);
}

#[test]
fn carousel_counts_follow_the_configurable_maximum() {
    let square = facts(&probe_bytes(&images::jpeg(1080, 1080)), 300_000);
    let eleven = vec![square.clone(); 11];
    let problems = check_media(Platform::Instagram, &eleven);
    assert_eq!(problems, vec![MediaProblem::TooMany { platform: Platform::Instagram, count: 11, max: 10 }]);
    let limits = MediaLimits { instagram_carousel_max: 20, ..Default::default() };
    assert!(limits.check(Platform::Instagram, &eleven, None).is_empty());
    // TikTok photo posts: 1..35.
    let photos = vec![square; 36];
    assert!(matches!(check_media(Platform::TikTok, &photos).as_slice(), [MediaProblem::TooMany { max: 35, .. }]));
    assert!(matches!(check_media(Platform::TikTok, &[]).as_slice(), [MediaProblem::Missing { .. }]));
}

#[test]
fn videos_are_checked_for_duration_frame_rate_codec_and_size() {
    let ok = video(&VideoSpec::vertical(20), 50 * 1024 * 1024);
    for p in [Platform::Instagram, Platform::Facebook, Platform::TikTok] {
        assert!(check_media(p, std::slice::from_ref(&ok)).is_empty(), "{p:?}");
    }
    let short = video(&VideoSpec { duration_ms: 2_000, ..VideoSpec::vertical(2) }, 1_000_000);
    let problems = check_media(Platform::Instagram, &[short]);
    assert!(matches!(problems.as_slice(), [MediaProblem::TooShort { min_ms: 3_000, .. }]), "{problems:?}");
    let slow = video(&VideoSpec { fps: 15, ..VideoSpec::vertical(20) }, 1_000_000);
    let problems = check_media(Platform::TikTok, &[slow]);
    assert_eq!(problems.iter().map(|p| p.tiktok_fail_reason()).collect::<Vec<_>>(), ["frame_rate_check_failed"]);
    let long = video(&VideoSpec::vertical(11 * 60), 1_000_000);
    assert_eq!(check_media(Platform::TikTok, &[long])[0].tiktok_fail_reason(), "duration_check_failed");
    let vp9 = video(&VideoSpec { codec: *b"vp09", ..VideoSpec::vertical(20) }, 1_000_000);
    assert!(matches!(check_media(Platform::Instagram, &[vp9]).as_slice(), [MediaProblem::Codec { .. }]));
    let huge = video(&VideoSpec::vertical(20), 301 * 1024 * 1024);
    assert!(matches!(check_media(Platform::Instagram, &[huge]).as_slice(), [MediaProblem::TooBig { .. }]));
}

#[test]
fn a_facebook_video_is_a_reel_when_it_fits_reels_else_a_page_video() {
    let limits = MediaLimits::default();
    let vertical = video(&VideoSpec::vertical(30), 10_000_000);
    assert!(limits.fits_facebook_reel(&vertical));
    let landscape = video(&VideoSpec { width: 1920, height: 1080, ..VideoSpec::vertical(30) }, 10_000_000);
    assert!(!limits.fits_facebook_reel(&landscape));
    let long = video(&VideoSpec::vertical(120), 10_000_000);
    assert!(!limits.fits_facebook_reel(&long));
    // Default: whichever fits, so both pass; forced to a Reel, the landscape one is refused with a suggestion.
    assert!(limits.check(Platform::Facebook, std::slice::from_ref(&landscape), None).is_empty());
    let forced = limits.check(Platform::Facebook, &[landscape], Some(true));
    assert!(
        forced
            .iter()
            .any(|p| matches!(p, MediaProblem::AspectRatio { target: Target::FacebookReel, suggest: "9:16", .. })),
        "{forced:?}"
    );
    // Facebook cannot mix a video with photos.
    let photo = facts(&probe_bytes(&images::jpeg(100, 100)), 1000);
    assert!(matches!(check_media(Platform::Facebook, &[photo, vertical]).as_slice(), [MediaProblem::Mixed { .. }]));
}
