//! Image XObjects of a document's pages, decoded to luminance for QR reading (e-certificate
//! PDFs print their signed data as QR codes). Supported: DCTDecode (JPEG), and FlateDecode or
//! unfiltered DeviceGray / DeviceRGB samples of 8 bits, or 1-bit gray; anything else is skipped.

use super::{Document, Obj};
use crate::formats::barcode::qr::{decode_jpeg, to_luma, Luma};
use std::collections::BTreeSet;

/// Most page-tree nodes visited.
const MAX_PAGE_NODES: usize = 10_000;

impl Document<'_> {
    /// The images drawn on the pages (by resource dictionaries), at most `max_images`, each at
    /// most `max_pixels`; with a note for each image skipped.
    pub fn page_images(&self, max_images: usize, max_pixels: usize) -> (Vec<Luma>, Vec<String>) {
        self.page_images_where(max_images, max_pixels, |_| true)
    }

    /// [`Document::page_images`], decoding only the images whose dictionary passes `wanted`
    /// (checked before any sample is decompressed).
    pub fn page_images_where(
        &self,
        max_images: usize,
        max_pixels: usize,
        wanted: impl Fn(&ImageDict) -> bool,
    ) -> (Vec<Luma>, Vec<String>) {
        let mut out = Vec::new();
        let mut notes = Vec::new();
        let Some(rev) = self.current() else {
            return (out, notes);
        };
        let Some(pages) = self.catalog(rev).and_then(|c| c.get(b"Pages").cloned()) else {
            return (out, notes);
        };
        let mut stack: Vec<(Obj, Option<Obj>)> = vec![(pages, None)];
        let mut seen_nodes = BTreeSet::new();
        let mut seen_images = BTreeSet::new();
        let mut visited = 0;
        while let Some((node_ref, inherited)) = stack.pop() {
            visited += 1;
            if visited > MAX_PAGE_NODES || out.len() >= max_images {
                break;
            }
            if let Some(n) = node_ref.as_ref_num() {
                if !seen_nodes.insert(n) {
                    continue;
                }
            }
            let node = self.deref_in(rev, &node_ref);
            let resources = node
                .get(b"Resources")
                .map(|r| self.deref_in(rev, r))
                .or(inherited);
            if let Some(kids) = node.get(b"Kids").map(|k| self.deref_in(rev, k)) {
                for k in kids.as_array().unwrap_or_default().iter().rev() {
                    stack.push((k.clone(), resources.clone()));
                }
                continue;
            }
            let xobjects = resources
                .as_ref()
                .and_then(|r| r.get(b"XObject"))
                .map(|x| self.deref_in(rev, x));
            for (_, r) in xobjects.as_ref().and_then(Obj::as_dict).unwrap_or_default() {
                if out.len() >= max_images {
                    notes.push(format!("more than {max_images} images: the rest not read"));
                    break;
                }
                if let Some(n) = r.as_ref_num() {
                    if !seen_images.insert(n) {
                        continue;
                    }
                }
                let img = self.deref_in(rev, r);
                if img.get(b"Subtype").and_then(Obj::as_name) != Some(b"Image".as_slice()) {
                    continue;
                }
                if let Some(info) = ImageDict::of(&img) {
                    if !wanted(&info) {
                        continue;
                    }
                }
                match self.image(&img, max_pixels) {
                    Ok(l) => out.push(l),
                    Err(why) => notes.push(format!("image skipped: {why}")),
                }
            }
        }
        (out, notes)
    }

    fn image(&self, img: &Obj, max_pixels: usize) -> Result<Luma, String> {
        let Obj::Stream(_, range) = img else {
            return Err("not a stream".into());
        };
        let dim = |k: &[u8]| {
            img.get(k)
                .and_then(Obj::as_int)
                .and_then(|v| u32::try_from(v).ok())
                .filter(|&v| v > 0)
                .ok_or_else(|| format!("no /{}", String::from_utf8_lossy(k)))
        };
        let (w, h) = (dim(b"Width")?, dim(b"Height")?);
        let pixels = usize::try_from(u64::from(w) * u64::from(h)).unwrap_or(usize::MAX);
        if pixels > max_pixels {
            return Err(format!("{w}×{h} pixels (at most {max_pixels} are read)"));
        }
        let filter = match img.get(b"Filter") {
            Some(Obj::Name(n)) => Some(n.as_slice()),
            Some(Obj::Array(a)) if a.len() == 1 => a.first().and_then(Obj::as_name),
            None => None,
            Some(_) => return Err("filter chain".into()),
        };
        if filter == Some(b"DCTDecode".as_slice()) {
            let raw = self
                .data
                .get(range.clone())
                .ok_or("stream outside the file")?;
            return decode_jpeg(raw, max_pixels);
        }
        let data = self.stream_data(img).map_err(|e| e.to_string())?;
        let bpc = img
            .get(b"BitsPerComponent")
            .and_then(Obj::as_int)
            .unwrap_or(8);
        let channels = match img.get(b"ColorSpace").and_then(Obj::as_name) {
            Some(b"DeviceGray") => 1,
            Some(b"DeviceRGB") => 3,
            _ => return Err("colour space other than DeviceGray/DeviceRGB".into()),
        };
        match (bpc, channels) {
            (8, c) => to_luma(&data, c, w, h),
            (1, 1) => {
                // One bit a pixel, rows padded to whole bytes; 0 is black (default /Decode).
                let row = usize::try_from(w).map_err(|e| e.to_string())?.div_ceil(8);
                let mut px = Vec::with_capacity(pixels);
                for y in 0..usize::try_from(h).map_err(|e| e.to_string())? {
                    for x in 0..usize::try_from(w).map_err(|e| e.to_string())? {
                        let byte = data.get(y * row + x / 8).copied().unwrap_or(0xFF);
                        px.push(if byte & (0x80 >> (x % 8)) != 0 {
                            255
                        } else {
                            0
                        });
                    }
                }
                to_luma(&px, 1, w, h)
            }
            _ => Err(format!("{bpc}-bit samples")),
        }
    }
}

/// What an image's dictionary says, before its samples are decoded.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ImageDict {
    /// `/Width`
    pub width: u32,
    /// `/Height`
    pub height: u32,
    /// `/BitsPerComponent` (8 when absent).
    pub bits: u32,
    /// Samples per pixel: 1 for DeviceGray (and unknown spaces), 3 for DeviceRGB.
    pub channels: u32,
    /// Bytes of the stream as stored (compressed).
    pub stored_bytes: usize,
    /// DCTDecode (JPEG).
    pub jpeg: bool,
}

impl ImageDict {
    fn of(img: &Obj) -> Option<Self> {
        let Obj::Stream(_, range) = img else {
            return None;
        };
        let int = |k: &[u8]| {
            img.get(k)
                .and_then(Obj::as_int)
                .and_then(|v| u32::try_from(v).ok())
        };
        let jpeg = match img.get(b"Filter") {
            Some(Obj::Name(n)) => n.as_slice() == b"DCTDecode",
            Some(Obj::Array(a)) => {
                a.first().and_then(Obj::as_name) == Some(b"DCTDecode".as_slice())
            }
            _ => false,
        };
        Some(Self {
            width: int(b"Width")?,
            height: int(b"Height")?,
            bits: int(b"BitsPerComponent").unwrap_or(8),
            channels: match img.get(b"ColorSpace").and_then(Obj::as_name) {
                Some(b"DeviceRGB") => 3,
                _ => 1,
            },
            stored_bytes: range.len(),
            jpeg,
        })
    }

    /// Can this image be a QR code as e-certificates print it? Square within 10 % (a code with
    /// its quiet zone; egov.kz draws each part as its own square image), at least 21 pixels a
    /// side (version 1 at one pixel a module), and, for 8-bit samples that are not JPEG, stored
    /// in at most 30 % of their raw size: a QR rendering is two-tone and deflates to a few per
    /// cent at 2 px a module or more, and to about 1/6 at one pixel a module (one bit of
    /// information a byte), while photographs and scans deflate to 50–90 %. Decided from the
    /// dictionary alone, so a signed PDF of photos pays nothing for QR reading in
    /// `barcodes = auto`.
    pub fn may_be_qr_code(&self) -> bool {
        let (short, long) = (
            u64::from(self.width.min(self.height)),
            u64::from(self.width.max(self.height)),
        );
        let square = short >= 21 && long * 10 <= short * 11;
        let raw = u64::from(self.width) * u64::from(self.height) * u64::from(self.channels);
        let stored = u64::try_from(self.stored_bytes).unwrap_or(u64::MAX);
        let two_tone = self.jpeg || self.bits != 8 || stored.saturating_mul(10) <= raw * 3;
        square && two_tone
    }
}
