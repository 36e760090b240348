//! PNG and JPEG decoding to luminance and the QR reader (`formats::barcode::qr`), as
//! `verify barcode --image` and `image/png` / `image/jpeg` bodies run them. Invariants: never
//! panics; an image over the pixel budget is refused before decoding; a decoded image has
//! exactly width × height samples within the budget; the QR reader takes any decoded image.
#![no_main]

use libfuzzer_sys::fuzz_target;
use tekser::formats::barcode::qr::{decode_image, read_qr_codes};

/// Small enough that the reader stays fast per input (a QR symbol needs far less than the
/// production budget of 48 megapixels).
const MAX_PIXELS: usize = 1 << 18;

fuzz_target!(|data: &[u8]| {
    let Ok(img) = decode_image(data, MAX_PIXELS) else {
        return;
    };
    let n = u64::from(img.width) * u64::from(img.height);
    assert!(n > 0 && n <= MAX_PIXELS as u64, "{}x{} decoded", img.width, img.height);
    assert_eq!(img.pixels.len() as u64, n, "samples do not match the dimensions");
    let _ = read_qr_codes(img);
});
