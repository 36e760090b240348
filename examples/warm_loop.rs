//! Profiling aid: verifies the 1 KB RSA detached fixture in a loop (warm caches).
//! `cargo run --release --example warm_loop -- 20000 [SIGNATURE [CONTENT]]` (paths under fixtures/)
fn main() {
    let n: usize = std::env::args()
        .nth(1)
        .and_then(|a| a.parse().ok())
        .unwrap_or(20_000);
    let root = std::path::PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("fixtures");
    let v = tekser::config::RawConfig {
        trust: vec![root.join("pki/rsa-root.crt")],
        ..Default::default()
    }
    .validate()
    .map(|c| c.verifier);
    let Ok(v) = v else { return };
    // Optional: a signature file and a content file (empty = attached) under fixtures/.
    let sig_name = std::env::args()
        .nth(2)
        .unwrap_or_else(|| "cms/rsa-detached-1k.p7s".into());
    let content_name = std::env::args()
        .nth(3)
        .unwrap_or_else(|| "cms/content-1k.bin".into());
    let sig = std::fs::read(root.join(sig_name)).unwrap_or_default();
    let content = if content_name.is_empty() {
        Vec::new()
    } else {
        std::fs::read(root.join(content_name)).unwrap_or_default()
    };
    let opts = tekser::verify::RequestOptions {
        at: tekser::pki::time::parse_rfc3339("2025-06-01T00:00:00Z").ok(),
        revocation: tekser::verify::RevocationMode::Off,
        ..Default::default()
    };
    let t = std::time::Instant::now();
    let mut passed = 0;
    for _ in 0..n {
        let c = (!content.is_empty()).then_some(content.as_slice());
        passed += usize::from(
            v.verify(
                &tekser::verify::Input::Cms {
                    signature: &sig,
                    content: c,
                },
                &opts,
            )
            .exit_code()
                == 0,
        );
    }
    let per = t.elapsed().as_secs_f64() * 1e6 / n as f64;
    println!("{passed}/{n} passed, {per:.1} µs per verification");
}
