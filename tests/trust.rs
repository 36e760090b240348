//! The built-in trust sets: the NCA production CA certificates are exactly the published ones
//! (pinned by SHA-256, the values of trust/kz-nca-prod/README.md), they chain as the NCA says
//! with nothing configured, and the demo roots are trusted only when asked for.

mod support;

use support::*;
use tekser::config::RawConfig;
use tekser::pki::builtin::TrustSet;
use tekser::pki::time::parse_rfc3339;
use tekser::verdict::{Indication, SubIndication};
use tekser::verify::Input;
use tekser::verify::{RequestOptions, RevocationMode};

/// file, SHA-256 over the DER (trust/kz-nca-prod/README.md; independently the sha256 values of
/// the source repository's certs/MANIFEST.json).
const PINS: [(&str, &str); 11] = [
    (
        "root_rsa_2020.der",
        "9ba06354b626641715182e4d07c9dbaa1777720fa795d03174ffc68876535dcd",
    ),
    (
        "nca_rsa_2022.der",
        "84fb799a66140950818c056a5d9730acc2a7622cdd4ef0d47113b132fb892905",
    ),
    (
        "root_gost_2022.der",
        "af77725f8328bb24f89d81da3acdf7cee4324248538b7ba2cd2a860517fb9dca",
    ),
    (
        "nca_gost_2022.der",
        "32c7d233a42703a327f3025543a05b930e3f39a786c68dfa196baa86d5618524",
    ),
    (
        "root_rsa.der",
        "a7064abc5699827f370c67b09f1a1bfd7ad5e1514d471223df209c08300ea972",
    ),
    (
        "nca_rsa.der",
        "34d1b311a9873191ae3382805df51e0a5da23315c512a8deeb885668ceeb5834",
    ),
    (
        "root_gost.der",
        "9ab210e54e6b0343321131202d9edcc2598f598cfdd9ee4ec1056021ab2e9759",
    ),
    (
        "nca_gost.der",
        "908521d0531e5645e64b34d3588374a3a83582c860e5f7293a04c41217e8cc18",
    ),
    (
        "root_gost_2020.der",
        "c48164ab5ccaaee6b938299a1e3aeebd6f698bb2bd716a0f0d85befc46166aa2",
    ),
    (
        "ucgo_gost.der",
        "eb5a5318299db447a46619d2a541f026b52c1fce8a1d371262da8f6f2d7bb6f5",
    ),
    (
        "btsd_gost.der",
        "74bb80edf34f4594e5e69b79029c64214e67630e3d16b82f952ab6e5956c5fa8",
    ),
];

fn sha256_hex(data: &[u8]) -> String {
    hex::encode(ring::digest::digest(&ring::digest::SHA256, data))
}

#[test]
fn the_built_in_nca_set_is_exactly_the_pinned_certificates() {
    let set = TrustSet::KzNca;
    let all: Vec<_> = set.anchors().iter().chain(set.intermediates()).collect();
    assert_eq!(
        all.len(),
        PINS.len(),
        "every pinned file is built in, no other"
    );
    for (file, pin) in PINS {
        let b = all
            .iter()
            .find(|b| b.file.ends_with(&format!("/{file}")))
            .unwrap_or_else(|| panic!("{file} is built in"));
        assert_eq!(sha256_hex(b.bytes), pin, "{file}: embedded bytes");
        // The repository copy is what was embedded (and what the README's curl line sends).
        let on_disk = std::fs::read(root().join(b.file)).expect("repository copy");
        assert_eq!(sha256_hex(&on_disk), pin, "{file}: repository copy");
    }
    // Roots are the self-signed ones; the CAs are path candidates only.
    for b in set.anchors() {
        assert!(b.file.contains("/root_"), "{} is a root", b.file);
    }
}

fn chain_at(cert: &str, at: &str, raw: RawConfig) -> tekser::verdict::Verdict {
    let v = raw.validate().expect("config").verifier;
    let der = std::fs::read(root().join(cert)).expect("cert");
    v.verify(
        &Input::Chain {
            certificates: &der,
            max_depth: None,
        },
        &RequestOptions {
            at: Some(parse_rfc3339(at).expect("time")),
            revocation: RevocationMode::Off,
            ..Default::default()
        },
    )
}

#[test]
fn with_nothing_configured_the_nca_cas_chain_to_their_roots() {
    for (cert, at) in [
        // GOST R 34.10-2015-512 under the GOST 2022 root, and RSA under the RSA 2020 root, today.
        (
            "trust/kz-nca-prod/nca_gost_2022.der",
            "2026-12-01T00:00:00Z",
        ),
        ("trust/kz-nca-prod/nca_rsa_2022.der", "2026-12-01T00:00:00Z"),
        // GOST 34.310-2004 under the 2015 GOST root, when both were valid.
        ("trust/kz-nca-prod/nca_gost.der", "2020-06-01T00:00:00Z"),
        ("trust/kz-nca-prod/nca_rsa.der", "2020-06-01T00:00:00Z"),
        ("trust/kz-nca-prod/ucgo_gost.der", "2026-12-01T00:00:00Z"),
        ("trust/kz-nca-prod/btsd_gost.der", "2026-12-01T00:00:00Z"),
    ] {
        let v = chain_at(cert, at, RawConfig::default());
        assert_eq!(
            v.indication(),
            Indication::TOTAL_PASSED,
            "{cert}: {}",
            v.to_json()
        );
        let sig = &v.signatures[0];
        assert_eq!(sig.chain.len(), 2, "{cert}: CA and its root");
        assert!(sig.warnings.iter().all(|w| !w.contains("DEMO")), "{cert}");
    }
}

#[test]
fn demo_roots_are_trusted_only_when_asked_for_and_then_say_so() {
    let leaf = "fixtures/pki/rsa-leaf.crt";
    let at = "2025-06-01T00:00:00Z";
    let intermediates = vec![fixture("pki/rsa-int.crt")];
    let v = chain_at(
        leaf,
        at,
        RawConfig {
            intermediates: intermediates.clone(),
            ..RawConfig::default()
        },
    );
    assert_eq!(v.indication(), Indication::INDETERMINATE, "{}", v.to_json());
    assert_eq!(
        v.sub_indication(),
        Some(SubIndication::NO_CERTIFICATE_CHAIN_FOUND)
    );
    for raw in [
        RawConfig {
            trust: vec!["demo".into()],
            intermediates: intermediates.clone(),
            ..RawConfig::default()
        },
        RawConfig {
            demo: true,
            intermediates,
            ..RawConfig::default()
        },
    ] {
        let cfg = raw.validate().expect("config");
        assert!(cfg.demo_trust);
        assert!(cfg.warnings.iter().any(|w| w.contains("demo")));
        let der = std::fs::read(root().join(leaf)).expect("leaf");
        let v = cfg.verifier.verify(
            &Input::Chain {
                certificates: &der,
                max_depth: None,
            },
            &RequestOptions {
                at: Some(parse_rfc3339(at).expect("time")),
                revocation: RevocationMode::Off,
                ..Default::default()
            },
        );
        assert_eq!(v.indication(), Indication::TOTAL_PASSED, "{}", v.to_json());
        assert!(
            v.signatures[0]
                .warnings
                .iter()
                .any(|w| w.contains("DEMO trust anchor")),
            "{}",
            v.to_json()
        );
    }
}

#[test]
fn trust_list_names_every_anchor_with_its_origin() {
    let out = std::process::Command::new(env!("CARGO_BIN_EXE_tekser"))
        .args(["trust", "list", "--json"])
        .output()
        .expect("tekser trust list");
    assert_eq!(out.status.code(), Some(0));
    let rows: serde_json::Value = serde_json::from_slice(&out.stdout).expect("json");
    let rows = rows.as_array().expect("array");
    assert_eq!(rows.len(), 5, "the five NCA roots");
    for r in rows {
        let sha = r["sha256"].as_str().expect("sha256");
        assert!(PINS.iter().any(|(_, p)| *p == sha), "{r}");
        assert!(r["source"]
            .as_str()
            .unwrap()
            .starts_with("kz-nca: trust/kz-nca-prod/root_"));
        assert_eq!(r["demo"], false);
    }
    // The 2015 roots expired on 2025-07-27 and are listed as such.
    let expired = rows.iter().filter(|r| r["expired"] == true).count();
    assert_eq!(expired, 2, "{rows:?}");
    let out = std::process::Command::new(env!("CARGO_BIN_EXE_tekser"))
        .args(["trust", "list", "--trust", "demo"])
        .output()
        .expect("tekser trust list");
    let text = String::from_utf8_lossy(&out.stdout);
    assert!(text.contains("DEMO: private key public"), "{text}");
}

#[test]
fn the_2018_nca_crl_distribution_point_names_both_of_its_urls() {
    // One IA5String holding "http://crl.root.gov.kz/gost.crl", a line break and
    // "URL=http://crl1.root.gov.kz/gost.crl": both are fetched, as the certificate states them.
    for (file, name) in [("nca_gost.der", "gost"), ("nca_rsa.der", "rsa")] {
        let der = std::fs::read(root().join("trust/kz-nca-prod").join(file)).expect("cert");
        let c = tekser::pki::trust::parse_bundle(&der)
            .expect("parses")
            .remove(0);
        let urls: Vec<&str> = c
            .ext
            .crl_distribution_points
            .iter()
            .flat_map(|dp| dp.urls())
            .collect();
        assert_eq!(
            urls,
            [
                format!("http://crl.root.gov.kz/{name}.crl"),
                format!("http://crl1.root.gov.kz/{name}.crl")
            ],
            "{file}"
        );
    }
}

#[test]
fn set_names_work_in_a_config_file_and_demo_roots_are_known_by_path_too() {
    let dir = std::env::temp_dir().join(format!("tekser-trust-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let file = dir.join("tekser.toml");
    std::fs::write(&file, "trust = [\"kz-nca\", \"demo\", \"kz-nca\"]\n").unwrap();
    let cfg = RawConfig::from_file(&file)
        .expect("set names are not paths")
        .validate()
        .expect("validates");
    assert_eq!(
        cfg.verifier.trust().len(),
        7,
        "five NCA roots and two demo roots, once each"
    );
    assert!(cfg.demo_trust);
    // The demo root loaded by its path is still the demo root: chains to it carry the warning.
    let raw = RawConfig {
        trust: vec![fixture("pki/rsa-root.crt")],
        intermediates: vec![fixture("pki/rsa-int.crt")],
        ..RawConfig::default()
    };
    let v = chain_at("fixtures/pki/rsa-leaf.crt", "2025-06-01T00:00:00Z", raw);
    assert_eq!(v.indication(), Indication::TOTAL_PASSED, "{}", v.to_json());
    assert!(
        v.signatures[0]
            .warnings
            .iter()
            .any(|w| w.contains("DEMO trust anchor")),
        "{}",
        v.to_json()
    );
}
