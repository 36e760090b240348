#![allow(missing_docs)] // criterion_main! generates an undocumented main
//! Criterion benches: detached CMS verification (RSA-2048, ECDSA P-256; 1 KB and 1 MB content)
//! with warm caches, chain building cold vs cached, the raw ring primitive beside them, and an
//! adversarial path-building input. `scripts/bench.sh` runs these together with the OpenSSL
//! baselines and writes the ratios for BENCHMARKS.md.

use criterion::{black_box, criterion_group, criterion_main, Criterion, Throughput};
use std::path::PathBuf;
use std::sync::Arc;
use tekser::config::RawConfig;
use tekser::crypto::{
    resolve_named, AlgorithmPolicy, DigestAlgorithm, PublicKey, SignatureAlgorithm,
};
use tekser::limits::Limits;
use tekser::pki::cert::Certificate;
use tekser::pki::path::{build_path, LeafUsage, PathCache, PathOptions};
use tekser::pki::time::parse_rfc3339;
use tekser::pki::trust::TrustStore;
use tekser::verify::Input;
use tekser::verify::{RequestOptions, RevocationMode, Verifier};

fn fixture(rel: &str) -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
        .join("fixtures")
        .join(rel)
}

fn read(rel: &str) -> Vec<u8> {
    std::fs::read(fixture(rel)).expect("fixture (run fixtures/generate.sh)")
}

fn cert(rel: &str) -> Certificate {
    tekser::pki::trust::parse_bundle(&read(rel))
        .expect("cert")
        .remove(0)
}

fn opts() -> RequestOptions {
    RequestOptions {
        at: Some(parse_rfc3339("2025-06-01T00:00:00Z").expect("time")),
        revocation: RevocationMode::Off,
        ..Default::default()
    }
}

fn verifier() -> Verifier {
    RawConfig {
        trust: vec![fixture("pki/rsa-root.crt"), fixture("pki/ec-root.crt")],
        ..RawConfig::default()
    }
    .validate()
    .expect("config")
    .verifier
}

fn cms(c: &mut Criterion) {
    let v = verifier();
    let content_1k = read("cms/content-1k.bin");
    // generate.sh signs 1 MiB of 'a' for the 1 MB samples.
    let content_1m = vec![b'a'; 1 << 20];
    let mut g = c.benchmark_group("cms_detached_verify_warm");
    for (name, sig, content) in [
        ("rsa2048_1k", read("cms/rsa-detached-1k.p7s"), &content_1k),
        ("p256_1k", read("cms/ec-detached-1k.p7s"), &content_1k),
        ("rsa2048_1m", read("cms/rsa-detached-1m.p7s"), &content_1m),
        ("p256_1m", read("cms/ec-detached-1m.p7s"), &content_1m),
    ] {
        let first = v.verify(
            &Input::Cms {
                signature: &sig,
                content: Some(content),
            },
            &opts(),
        );
        assert_eq!(first.exit_code(), 0, "{name}: {}", first.to_json());
        g.throughput(Throughput::Bytes(content.len() as u64));
        g.bench_function(name, |b| {
            b.iter(|| {
                black_box(v.verify(
                    &Input::Cms {
                        signature: black_box(&sig),
                        content: Some(content),
                    },
                    &opts(),
                ))
            })
        });
    }
    g.finish();
}

fn primitives(c: &mut Criterion) {
    // The bare ring RSA-2048 verification (the intermediate's certificate signature): the floor
    // the CMS numbers above sit on.
    let int = cert("pki/rsa-int.crt");
    let root = cert("pki/rsa-root.crt");
    let root_key = PublicKey::from_spki(&root.spki).expect("key");
    let rr = resolve_named(
        SignatureAlgorithm::RsaPkcs1(DigestAlgorithm::Sha256),
        &root_key,
        &AlgorithmPolicy::default(),
    )
    .expect("alg");
    assert!(rr
        .verifier
        .verify(&root_key, &int.tbs, &int.signature)
        .is_ok());
    c.bench_function("ring_rsa2048_pkcs1_sha256_verify", |b| {
        b.iter(|| {
            black_box(
                rr.verifier
                    .verify(&root_key, black_box(&int.tbs), &int.signature),
            )
        })
    });
}

fn chains(c: &mut Criterion) {
    let leaf = Arc::new(cert("pki/rsa-leaf.crt"));
    let pool = vec![Arc::new(cert("pki/rsa-int.crt"))];
    let anchors = TrustStore::new(vec![cert("pki/rsa-root.crt")]);
    let o = PathOptions::new(
        parse_rfc3339("2025-06-01T00:00:00Z").expect("time"),
        AlgorithmPolicy::default(),
        LeafUsage::DocumentSigning,
        &Limits::default(),
    );
    let cache = PathCache::new(1000, std::time::Duration::from_secs(3600));
    cache.build(&leaf, &anchors, &pool, &o).expect("path");
    let mut g = c.benchmark_group("chain_3_certs");
    g.bench_function("cold", |b| {
        b.iter(|| black_box(build_path(&leaf, &anchors, &pool, &o).expect("path")))
    });
    g.bench_function("cached", |b| {
        b.iter(|| black_box(cache.get(&leaf, &anchors, &o).expect("hit")))
    });
    g.finish();
}

fn adversarial(c: &mut Criterion) {
    // x509-limbo's pathological chains (many same-subject candidates): the budget bounds the work.
    let text = std::fs::read_to_string(
        PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("tests/data/x509-limbo/limbo.json"),
    )
    .expect("tests/data/x509-limbo/limbo.json");
    let limbo: serde_json::Value = serde_json::from_str(&text).expect("json");
    let mut g = c.benchmark_group("adversarial_path_building");
    for id in [
        "pathological::pathological-chain-same-subject-distinct-key",
        "pathological::intermediate-cycle-distinct-cas",
    ] {
        let Some(case) = limbo["testcases"]
            .as_array()
            .and_then(|t| t.iter().find(|c| c["id"] == id))
        else {
            continue;
        };
        let pem = |v: &serde_json::Value| v.as_str().unwrap_or_default().as_bytes().to_vec();
        let anchors: Vec<Certificate> = case["trusted_certs"]
            .as_array()
            .into_iter()
            .flatten()
            .flat_map(|t| tekser::pki::trust::parse_bundle(&pem(t)).unwrap_or_default())
            .collect();
        let inters: Vec<Certificate> = case["untrusted_intermediates"]
            .as_array()
            .into_iter()
            .flatten()
            .flat_map(|t| tekser::pki::trust::parse_bundle(&pem(t)).unwrap_or_default())
            .collect();
        let v = Verifier::new(TrustStore::new(anchors), inters, Default::default());
        let leaf = pem(&case["peer_certificate"]);
        let name = id.rsplit("::").next().unwrap_or(id);
        g.bench_function(name, |b| {
            b.iter(|| {
                black_box(v.verify(
                    &Input::Chain {
                        certificates: &leaf,
                        max_depth: None,
                    },
                    &opts(),
                ))
            })
        });
    }
    g.finish();
}

fn gost(c: &mut Criterion) {
    // The NCA's GOST CA certificate signed by the NCA GOST root (tests/data/kz), beside
    // ring's P-256 and P-384 ECDSA verification of our fixtures' certificates.
    let kz = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("tests/data/kz");
    let ca = std::fs::read(kz.join("ca/nca_gost2015_test.cer")).expect("tests/data/kz");
    let root = std::fs::read(kz.join("ncanode-go/root_test_gost_2022.cer")).expect("tests/data/kz");
    let parse = |d: &[u8]| tekser::pki::trust::parse_bundle(d).expect("cert").remove(0);
    let (ca, root) = (parse(&ca), parse(&root));
    let policy = AlgorithmPolicy::default();
    let mut g = c.benchmark_group("signature_verify");
    let mut add = |name: &str, child: &Certificate, issuer: &Certificate| {
        let key = issuer.public_key.clone().expect("key");
        let r =
            tekser::crypto::resolve(&child.signature_algorithm, None, &key, &policy).expect("alg");
        assert!(
            r.verifier
                .verify(&key, &child.tbs, &child.signature)
                .is_ok(),
            "{name}"
        );
        g.bench_function(name, |b| {
            b.iter(|| black_box(r.verifier.verify(&key, &child.tbs, &child.signature)))
        });
    };
    add("gost3410_2015_512", &ca, &root);
    if let (Ok(leaf), Ok(ca2004)) = (
        std::fs::read(kz.join("certs/ceo_valid_sign_2004_gost.cer")),
        std::fs::read(kz.join("ca/nca_gost_test.crt")),
    ) {
        add("gost34310_2004", &parse(&leaf), &parse(&ca2004));
    }
    add(
        "ecdsa_p384_sha384_ring",
        &cert("pki/ec-int.crt"),
        &cert("pki/ec-root.crt"),
    );
    add(
        "ecdsa_p256_sha256_ring",
        &cert("pki/ec-leaf.crt"),
        &cert("pki/ec-int.crt"),
    );
    // GOST R 34.10-2015 256-bit on TC26 256-A (the NCA's 256-bit set): gostcrypto's vector.
    let vectors: serde_json::Value = serde_json::from_slice(
        &std::fs::read(
            PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("fixtures/gost/vectors.json"),
        )
        .expect("vectors"),
    )
    .expect("json");
    let hex = |s: &str| -> Vec<u8> {
        (0..s.len())
            .step_by(2)
            .map(|i| u8::from_str_radix(&s[i..i + 2], 16).expect("hex"))
            .collect()
    };
    let v256 = &vectors["vectors"][0];
    assert_eq!(v256["curve"], "Tc26_256A");
    let key = tekser::crypto::PublicKey::Gost {
        family: tekser::crypto::gost::GostKeyFamily::Gost2012_256,
        curve: tekser::crypto::gost::GostCurve::Tc26_256A,
        point: hex(v256["public_key_nca_hex"].as_str().expect("key")),
    };
    let (msg, sig) = (
        hex(v256["message_hex"].as_str().expect("msg")),
        hex(v256["signature_nca_hex"].as_str().expect("sig")),
    );
    let r = tekser::crypto::resolve_named(
        tekser::crypto::SignatureAlgorithm::Gost2015_256,
        &key,
        &policy,
    )
    .expect("alg");
    assert!(r.verifier.verify(&key, &msg, &sig).is_ok());
    g.bench_function("gost3410_2015_256", |b| {
        b.iter(|| black_box(r.verifier.verify(&key, &msg, &sig)))
    });
    g.finish();
}

criterion_group!(benches, cms, primitives, chains, adversarial, gost);
criterion_main!(benches);
