//! QR codes in images: PNG and JPEG scans or photos of a printed e-certificate, and the image
//! XObjects of a PDF page, decoded to 8-bit luminance and read with rxing (a Rust port of ZXing).
//!
//! Budgets: images larger than `max_pixels` are refused before decoding (a QR symbol of an
//! e-certificate needs well under a megapixel); the PDF side also caps the number of images.

use rxing::common::HybridBinarizer;
use rxing::multi::{GenericMultipleBarcodeReader, MultipleBarcodeReader};
use rxing::{
    BarcodeFormat, BinaryBitmap, DecodeHints, Luma8LuminanceSource, MultiUseMultiFormatReader,
};
use std::collections::HashSet;

/// An 8-bit grayscale image.
#[derive(Debug, Clone)]
pub struct Luma {
    /// Width in pixels.
    pub width: u32,
    /// Height in pixels.
    pub height: u32,
    /// Row-major samples, `width × height`.
    pub pixels: Vec<u8>,
}

fn check_size(width: u32, height: u32, max_pixels: usize) -> Result<usize, String> {
    let n = usize::try_from(u64::from(width) * u64::from(height)).unwrap_or(usize::MAX);
    if n == 0 || n > max_pixels {
        return Err(format!(
            "image of {width}×{height} pixels (at most {max_pixels} are read)"
        ));
    }
    Ok(n)
}

/// Converts decoded samples (gray, gray+alpha, RGB, RGBA, CMYK) to luminance.
pub fn to_luma(samples: &[u8], channels: usize, width: u32, height: u32) -> Result<Luma, String> {
    let n = usize::try_from(u64::from(width) * u64::from(height)).map_err(|e| e.to_string())?;
    if channels == 0 || samples.len() < n.saturating_mul(channels) {
        return Err("image data shorter than its dimensions".into());
    }
    let pixels = samples
        .chunks_exact(channels)
        .take(n)
        .map(|p| match p {
            [g] | [g, _] => *g,
            [r, g, b] | [r, g, b, _] => {
                // ITU-R BT.601 luma (what ZXing uses), integer form.
                u8::try_from(
                    (u32::from(*r) * 299 + u32::from(*g) * 587 + u32::from(*b) * 114) / 1000,
                )
                .unwrap_or(0)
            }
            _ => 0,
        })
        .collect();
    Ok(Luma {
        width,
        height,
        pixels,
    })
}

/// Decodes a PNG or JPEG file to luminance.
pub fn decode_image(bytes: &[u8], max_pixels: usize) -> Result<Luma, String> {
    if bytes.starts_with(b"\x89PNG") {
        decode_png(bytes, max_pixels)
    } else if bytes.starts_with(&[0xFF, 0xD8]) {
        decode_jpeg(bytes, max_pixels)
    } else {
        Err("not a PNG or JPEG image".into())
    }
}

fn decode_png(bytes: &[u8], max_pixels: usize) -> Result<Luma, String> {
    let mut dec = png::Decoder::new(bytes);
    // Palette and low bit depths expanded to 8 bits; 16-bit samples stripped to 8.
    dec.set_transformations(png::Transformations::EXPAND | png::Transformations::STRIP_16);
    let mut reader = dec.read_info().map_err(|e| format!("PNG: {e}"))?;
    let (w, h) = {
        let info = reader.info();
        (info.width, info.height)
    };
    check_size(w, h, max_pixels)?;
    let mut buf = vec![0; reader.output_buffer_size()];
    let frame = reader
        .next_frame(&mut buf)
        .map_err(|e| format!("PNG: {e}"))?;
    let channels = frame.color_type.samples();
    to_luma(
        buf.get(..frame.buffer_size()).unwrap_or_default(),
        channels,
        frame.width,
        frame.height,
    )
}

/// Decodes a baseline or progressive JPEG (also a PDF's DCTDecode stream).
pub fn decode_jpeg(bytes: &[u8], max_pixels: usize) -> Result<Luma, String> {
    let mut dec = jpeg_decoder::Decoder::new(bytes);
    dec.read_info().map_err(|e| format!("JPEG: {e}"))?;
    let info = dec.info().ok_or("JPEG without a frame header")?;
    check_size(u32::from(info.width), u32::from(info.height), max_pixels)?;
    let data = dec.decode().map_err(|e| format!("JPEG: {e}"))?;
    let channels = match info.pixel_format {
        jpeg_decoder::PixelFormat::L8 => 1,
        jpeg_decoder::PixelFormat::L16 => return Err("16-bit JPEG".into()),
        jpeg_decoder::PixelFormat::RGB24 => 3,
        jpeg_decoder::PixelFormat::CMYK32 => return Err("CMYK JPEG".into()),
    };
    to_luma(
        &data,
        channels,
        u32::from(info.width),
        u32::from(info.height),
    )
}

/// Most candidate finder patterns checked along a column per image: each check walks at most a
/// few finder widths, so the pre-check stays linear in the pixels; past this many candidates
/// (noise can look like many) the image is handed to the reader, which has its own time budget.
const MAX_FINDER_CROSS_CHECKS: usize = 4096;

/// A cheap test whether an image can hold a QR code: does it show three distinct finder
/// patterns (ISO/IEC 18004 §6.3.3: the 7×7 squares in three corners whose every crossing reads
/// dark-light-dark-light-dark in the ratio 1:1:3:1:1)? Rows are binarised at the middle of their
/// own range (a printed or rendered code has both black and white in any row crossing it),
/// candidates found along a row are confirmed along their column, as ZXing's finder does. One
/// pass over the pixels; it costs a small fraction of what rxing spends on an image without a
/// code, and a false positive only costs that reading.
pub fn has_finder_patterns(img: &Luma) -> bool {
    let (Ok(w), Ok(h)) = (usize::try_from(img.width), usize::try_from(img.height)) else {
        return false;
    };
    // Version 1 is 21 modules a side: anything smaller cannot hold a symbol.
    if w < 21 || h < 21 || w.checked_mul(h).is_none_or(|n| img.pixels.len() < n) {
        return false;
    }
    let mut centers: Vec<(usize, usize, usize)> = Vec::new();
    let mut checks = 0usize;
    for (y, row) in img.pixels.chunks_exact(w).take(h).enumerate() {
        let (lo, hi) = row
            .iter()
            .fold((u8::MAX, u8::MIN), |(lo, hi), &p| (lo.min(p), hi.max(p)));
        // A row without contrast crosses no code (48 of 255: well below a printed code's).
        if hi.saturating_sub(lo) < 48 {
            continue;
        }
        let thr = lo / 2 + hi / 2;
        // The last five run lengths, oldest first, and whether the newest run is dark.
        let mut runs = [0usize; 5];
        let mut count = 0usize;
        let mut dark = false;
        for x in 0..=w {
            let d = row.get(x).is_some_and(|&p| p < thr);
            if x < w && (x == 0 || d == dark) {
                dark = d;
                count += 1;
                continue;
            }
            // A run of `count` pixels of colour `dark` ended just before x.
            runs.rotate_left(1);
            runs[4] = count;
            if dark && finder_ratio(&runs) {
                let total: usize = runs.iter().sum();
                let cx = x - runs[4] - runs[3] - runs[2] / 2;
                checks += 1;
                if checks > MAX_FINDER_CROSS_CHECKS {
                    return true;
                }
                if column_ratio(img, w, h, cx, y, thr, total)
                    && !centers
                        .iter()
                        .any(|&(px, py, _)| px.abs_diff(cx) <= total && py.abs_diff(y) <= total)
                {
                    centers.push((cx, y, total));
                    if centers.len() >= 3 {
                        return true;
                    }
                }
            }
            dark = d;
            count = 1;
        }
    }
    false
}

/// Do five runs read 1:1:3:1:1 (each within half a module, ZXing's tolerance)? Integer form:
/// with `t` the total (7 modules), |7·run − t·k| < t·k/2 for the run's k modules.
fn finder_ratio(runs: &[usize; 5]) -> bool {
    let total: usize = runs.iter().sum();
    if total < 7 || runs.contains(&0) {
        return false;
    }
    runs.iter().zip([1usize, 1, 3, 1, 1]).all(|(&r, k)| {
        let (lhs, rhs) = (r.saturating_mul(14), total.saturating_mul(2 * k));
        lhs.abs_diff(rhs) < total.saturating_mul(k)
    })
}

/// The column through a row candidate's centre: does it read 1:1:3:1:1 too, about as tall as
/// the row's pattern is wide (within 40 %)?
fn column_ratio(
    img: &Luma,
    w: usize,
    h: usize,
    cx: usize,
    cy: usize,
    thr: u8,
    total: usize,
) -> bool {
    let dark_at = |y: usize| {
        y.checked_mul(w)
            .and_then(|i| i.checked_add(cx))
            .and_then(|i| img.pixels.get(i))
            .is_some_and(|&p| p < thr)
    };
    if !dark_at(cy) {
        return false;
    }
    // Runs walking up from the centre: centre (dark), light, dark; then down the same way.
    let limit = total.saturating_mul(2);
    let walk = |up: bool| {
        let mut lens = [0usize; 3];
        let mut y = cy;
        for (len, want_dark) in lens.iter_mut().zip([true, false, true]) {
            while dark_at(y) == want_dark && *len < limit {
                *len += 1;
                let next = if up {
                    y.checked_sub(1)
                } else {
                    y.checked_add(1).filter(|&n| n < h)
                };
                match next {
                    Some(n) => y = n,
                    None => return lens,
                }
            }
        }
        lens
    };
    let (u, d) = (walk(true), walk(false));
    // The centre pixel was counted by both walks.
    let runs = [u[2], u[1], (u[0] + d[0]).saturating_sub(1), d[1], d[2]];
    let vtotal: usize = runs.iter().sum();
    finder_ratio(&runs) && vtotal.abs_diff(total).saturating_mul(5) < total.saturating_mul(2)
}

/// Every QR code rxing finds in the image, as text.
pub fn read_qr_codes(image: Luma) -> Vec<String> {
    let Ok(source) = Luma8LuminanceSource::new(image.pixels, image.width, image.height) else {
        return Vec::new();
    };
    let hints = DecodeHints {
        PossibleFormats: Some(HashSet::from([BarcodeFormat::QR_CODE])),
        TryHarder: Some(true),
        ..DecodeHints::default()
    };
    let mut scanner = GenericMultipleBarcodeReader::new(MultiUseMultiFormatReader::default());
    let mut bitmap = BinaryBitmap::new(HybridBinarizer::new(source));
    scanner
        .decode_multiple_with_hints(&mut bitmap, &hints)
        .map(|results| results.iter().map(|r| r.getText().to_owned()).collect())
        .unwrap_or_default()
}
