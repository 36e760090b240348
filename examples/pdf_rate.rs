//! Benchmark aid for scripts/bench-pdf.sh: verifies one signed PDF `N` times in this process
//! (revocation off, validation time 2027-01-01) and prints verifications per second.
//! `cargo run --release --example pdf_rate -- FILE.pdf 200 [auto|always|never]` (the third
//! argument: which page images are read for QR codes, default auto).
fn main() {
    let mut args = std::env::args().skip(1);
    let (Some(file), n) = (
        args.next(),
        args.next().and_then(|a| a.parse().ok()).unwrap_or(100usize),
    ) else {
        eprintln!("usage: pdf_rate FILE.pdf [N] [auto|always|never]");
        std::process::exit(64);
    };
    let Ok(barcodes) = args.next().as_deref().unwrap_or("auto").parse() else {
        eprintln!("barcodes: auto, always or never");
        std::process::exit(64);
    };
    let root = std::path::PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("fixtures");
    let Ok(config) = (tekser::config::RawConfig {
        trust: vec![root.join("pki/rsa-root.crt")],
        ..Default::default()
    })
    .validate() else {
        std::process::exit(70);
    };
    let v = config.verifier;
    let pdf = std::fs::read(&file).unwrap_or_default();
    let opts = tekser::verify::RequestOptions {
        at: tekser::pki::time::parse_rfc3339("2027-01-01T00:00:00Z").ok(),
        revocation: tekser::verify::RevocationMode::Off,
        barcodes,
    };
    let first = v.verify(&tekser::verify::Input::Pdf(&pdf), &opts);
    if first.indication() != tekser::verdict::Indication::TOTAL_PASSED {
        eprintln!("{}", first.to_json());
        std::process::exit(1);
    }
    let t = std::time::Instant::now();
    for _ in 0..n {
        std::hint::black_box(v.verify(&tekser::verify::Input::Pdf(&pdf), &opts));
    }
    let secs = t.elapsed().as_secs_f64();
    println!(
        "{} bytes: {:.1} verifications/s ({:.3} ms each)",
        pdf.len(),
        n as f64 / secs,
        secs * 1000.0 / n as f64
    );
}
