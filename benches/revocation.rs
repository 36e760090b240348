#![allow(missing_docs)] // criterion_main! generates an undocumented main
//! Revocation benches: a generated CRL of 1,000,000 entries (load = parse + index, signature
//! check, lookups), and a detached CMS verified with revocation off vs with cached OCSP statuses
//! for its whole path. `scripts/bench-revocation.sh` adds `openssl crl` on the same CRL as the
//! baseline and writes the table for BENCHMARKS.md.

use criterion::{black_box, criterion_group, criterion_main, Criterion};
use std::path::PathBuf;
use tekser::asn1::{encode_tlv, tag};
use tekser::config::RawConfig;
use tekser::pki::cert::Certificate;
use tekser::pki::crl::Crl;
use tekser::pki::time::parse_rfc3339;
use tekser::verify::Input;
use tekser::verify::{RequestOptions, RevocationMode};

fn fixture(rel: &str) -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
        .join("fixtures")
        .join(rel)
}

fn cert(rel: &str) -> Certificate {
    tekser::pki::trust::parse_bundle(&std::fs::read(fixture(rel)).expect("fixture"))
        .expect("cert")
        .remove(0)
}

const ENTRIES: u32 = 1_000_000;

/// Serial of entry `i`: 10 bytes, spread like real random serials.
fn serial(i: u32) -> Vec<u8> {
    let h = (u64::from(i)).wrapping_mul(0x9E37_79B9_7F4A_7C15);
    let mut s = vec![0x11];
    s.extend_from_slice(&h.to_be_bytes());
    s.push((i & 0x7f) as u8);
    s
}

/// A CRL of `ENTRIES` entries (every tenth with a reasonCode), issued and signed by the fixture
/// RSA root's key with ring. Written to target/bench-crl-1m.der for the OpenSSL baseline.
fn big_crl() -> Vec<u8> {
    let root = cert("pki/rsa-root.crt");
    let key_pem = std::fs::read_to_string(fixture("pki/rsa-root.key")).expect("key");
    let key_der = tekser::asn1::pem::decode_base64(
        &key_pem
            .lines()
            .filter(|l| !l.starts_with("-----"))
            .collect::<String>(),
    )
    .expect("pkcs8");
    let kp = ring::signature::RsaKeyPair::from_pkcs8(&key_der).expect("rsa key");
    let alg = encode_tlv(
        tag::SEQUENCE,
        &[
            encode_tlv(
                tag::OID,
                &[0x2a, 0x86, 0x48, 0x86, 0xf7, 0x0d, 0x01, 0x01, 0x0b],
            ),
            vec![tag::NULL, 0],
        ]
        .concat(),
    );
    let when = b"250101000000Z";
    let reason = encode_tlv(
        tag::SEQUENCE,
        &encode_tlv(
            tag::SEQUENCE,
            &[
                encode_tlv(tag::OID, &[0x55, 0x1d, 0x15]),
                encode_tlv(tag::OCTET_STRING, &[0x0a, 0x01, 0x01]),
            ]
            .concat(),
        ),
    );
    let mut list = Vec::with_capacity(ENTRIES as usize * 30);
    for i in 0..ENTRIES {
        let mut e = encode_tlv(tag::INTEGER, &serial(i));
        e.extend_from_slice(&encode_tlv(tag::UTC_TIME, when));
        if i % 10 == 0 {
            e.extend_from_slice(&reason);
        }
        list.extend_from_slice(&encode_tlv(tag::SEQUENCE, &e));
    }
    let tbs = encode_tlv(
        tag::SEQUENCE,
        &[
            encode_tlv(tag::INTEGER, &[1]),
            alg.clone(),
            root.subject_raw.clone(),
            encode_tlv(tag::UTC_TIME, b"250101000000Z"),
            encode_tlv(tag::UTC_TIME, b"491231000000Z"),
            encode_tlv(tag::SEQUENCE, &list),
        ]
        .concat(),
    );
    let mut sig = vec![0u8; kp.public().modulus_len()];
    kp.sign(
        &ring::signature::RSA_PKCS1_SHA256,
        &ring::rand::SystemRandom::new(),
        &tbs,
        &mut sig,
    )
    .expect("sign");
    let mut bits = vec![0u8];
    bits.extend_from_slice(&sig);
    let crl = encode_tlv(
        tag::SEQUENCE,
        &[tbs, alg, encode_tlv(tag::BIT_STRING, &bits)].concat(),
    );
    let out = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("target/bench-crl-1m.der");
    let _ = std::fs::write(out, &crl);
    crl
}

fn crl_1m(c: &mut Criterion) {
    let der = big_crl();
    let root = cert("pki/rsa-root.crt");
    eprintln!("generated CRL: {} entries, {} bytes", ENTRIES, der.len());
    let crl = Crl::parse(&der, 64 << 20).expect("parses");
    assert_eq!(crl.len(), ENTRIES as usize);
    crl.verify_signed_by(&root, &Default::default())
        .expect("signature verifies");
    let hit = serial(777_777);
    assert!(crl.lookup(&hit, &crl.issuer_norm).is_some());
    let miss = serial(ENTRIES + 5);
    assert!(crl.lookup(&miss, &crl.issuer_norm).is_none());

    let mut g = c.benchmark_group("crl_1m");
    g.sample_size(10);
    g.bench_function("parse_and_index", |b| {
        b.iter(|| black_box(Crl::parse(black_box(&der), 64 << 20).expect("parses")))
    });
    g.bench_function("verify_signature", |b| {
        b.iter(|| {
            crl.verify_signed_by(&root, &Default::default())
                .expect("ok")
        })
    });
    g.finish();
    let mut g = c.benchmark_group("crl_1m_lookup");
    g.bench_function("hit", |b| {
        b.iter(|| black_box(crl.lookup(black_box(&hit), &crl.issuer_norm)))
    });
    g.bench_function("miss", |b| {
        b.iter(|| black_box(crl.lookup(black_box(&miss), &crl.issuer_norm)))
    });
    g.finish();
}

fn cms_with_revocation(c: &mut Criterion) {
    let cfg = RawConfig {
        trust: vec![fixture("pki/rsa-root.crt")],
        ..RawConfig::default()
    }
    .validate()
    .expect("config");
    let v = cfg.verifier;
    let now = tekser::pki::time::now();
    let (leaf, int, root) = (
        cert("pki/rsa-leaf.crt"),
        cert("pki/rsa-int.crt"),
        cert("pki/rsa-root.crt"),
    );
    let policy = v.config().policy;
    for (resp, c, i) in [
        ("ocsp/rsa-leaf-good.der", &leaf, &int),
        ("ocsp/rsa-int-good.der", &int, &root),
    ] {
        let der = std::fs::read(fixture(resp)).expect("response");
        v.revocation()
            .add_ocsp_response(&der, c, i, policy, now)
            .expect("openssl-made response validates");
    }
    let sig = std::fs::read(fixture("cms/rsa-detached-1k.p7s")).expect("cms");
    let content = std::fs::read(fixture("cms/content-1k.bin")).expect("content");
    let at = Some(parse_rfc3339("2025-06-01T00:00:00Z").expect("time"));
    let off = RequestOptions {
        at,
        revocation: RevocationMode::Off,
        ..Default::default()
    };
    let require = RequestOptions {
        at,
        revocation: RevocationMode::Require,
        ..Default::default()
    };
    let checked = v.verify(
        &Input::Cms {
            signature: &sig,
            content: Some(&content),
        },
        &require,
    );
    assert_eq!(checked.exit_code(), 0, "{}", checked.to_json());
    assert_eq!(checked.signatures[0].revocation.source, "cache");
    let mut g = c.benchmark_group("cms_rsa2048_1k_revocation");
    g.bench_function("off", |b| {
        b.iter(|| {
            black_box(v.verify(
                &Input::Cms {
                    signature: &sig,
                    content: Some(&content),
                },
                &off,
            ))
        })
    });
    g.bench_function("cached_ocsp_whole_path", |b| {
        b.iter(|| {
            black_box(v.verify(
                &Input::Cms {
                    signature: &sig,
                    content: Some(&content),
                },
                &require,
            ))
        })
    });
    g.finish();
}

criterion_group!(benches, crl_1m, cms_with_revocation);
criterion_main!(benches);
