//! Small, valid image files for tests of media handling: a PNG with transparency (as image generators produce) and
//! a JPEG.

use image::{ImageFormat, Rgba, RgbaImage};
use std::io::Cursor;

/// A `w` x `h` PNG: the left half transparent, the right half opaque orange.
pub fn png(w: u32, h: u32) -> Vec<u8> {
    let img = RgbaImage::from_fn(w, h, |x, _| if x < w / 2 { Rgba([0, 0, 0, 0]) } else { Rgba([240, 120, 20, 255]) });
    encode(&image::DynamicImage::ImageRgba8(img), ImageFormat::Png)
}

/// A `w` x `h` JPEG of one colour.
pub fn jpeg(w: u32, h: u32) -> Vec<u8> {
    let img = image::RgbImage::from_pixel(w, h, image::Rgb([30, 90, 200]));
    encode(&image::DynamicImage::ImageRgb8(img), ImageFormat::Jpeg)
}

fn encode(img: &image::DynamicImage, format: ImageFormat) -> Vec<u8> {
    let mut out = Cursor::new(Vec::new());
    img.write_to(&mut out, format).expect("an in-memory image encodes");
    out.into_inner()
}
