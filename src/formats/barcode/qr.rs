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
