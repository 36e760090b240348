//! C2SP Wycheproof signature vectors through the crate's algorithm table and `SignatureVerifier`
//! trait: every `valid` case accepted, every `invalid` case rejected, `acceptable` counted.

mod support;

use serde_json::Value;
use tekser::crypto::{
    resolve_named, AlgorithmPolicy, DigestAlgorithm, PublicKey, SignatureAlgorithm,
};

fn digest(name: &str) -> DigestAlgorithm {
    match name {
        "SHA-256" => DigestAlgorithm::Sha256,
        "SHA-384" => DigestAlgorithm::Sha384,
        "SHA-512" => DigestAlgorithm::Sha512,
        other => panic!("unexpected hash {other}"),
    }
}

fn unhex(s: &str) -> Vec<u8> {
    hex::decode(s).expect("hex")
}

#[test]
fn wycheproof_vectors() {
    let dir = support::testdata("wycheproof");
    let mut files: Vec<_> = std::fs::read_dir(&dir)
        .expect("dir")
        .filter_map(|e| e.ok().map(|e| e.path()))
        .filter(|p| p.extension().is_some_and(|e| e == "json"))
        .collect();
    files.sort();
    assert!(
        files.len() >= 14,
        "expected the 14 Wycheproof files, found {}",
        files.len()
    );
    let policy = AlgorithmPolicy::default();
    let (mut valid, mut invalid, mut acceptable_ok, mut acceptable_rej) = (0, 0, 0, 0);
    let mut failures = Vec::new();
    for f in &files {
        let d: Value =
            serde_json::from_str(&std::fs::read_to_string(f).expect("read")).expect("json");
        let schema = d["schema"].as_str().expect("schema");
        for g in d["testGroups"].as_array().expect("groups") {
            let alg = match schema {
                "rsassa_pkcs1_verify_schema_v1.json" => {
                    SignatureAlgorithm::RsaPkcs1(digest(g["sha"].as_str().expect("sha")))
                }
                "rsassa_pss_verify_schema_v1.json" => {
                    assert_eq!(
                        g["mgfSha"], g["sha"],
                        "only MGF1 with the message hash is in these files"
                    );
                    SignatureAlgorithm::RsaPss(digest(g["sha"].as_str().expect("sha")))
                }
                "ecdsa_verify_schema_v1.json" => {
                    SignatureAlgorithm::Ecdsa(digest(g["sha"].as_str().expect("sha")))
                }
                "ecdsa_p1363_verify_schema_v1.json" => {
                    SignatureAlgorithm::EcdsaFixed(digest(g["sha"].as_str().expect("sha")))
                }
                "eddsa_verify_schema_v1.json" => SignatureAlgorithm::Ed25519,
                other => panic!("unknown schema {other}"),
            };
            let key =
                PublicKey::from_spki(&unhex(g["publicKeyDer"].as_str().expect("publicKeyDer")));
            for t in g["tests"].as_array().expect("tests") {
                let msg = unhex(t["msg"].as_str().expect("msg"));
                let sig = unhex(t["sig"].as_str().expect("sig"));
                let ok = key.as_ref().is_ok_and(|k| {
                    resolve_named(alg, k, &policy)
                        .is_ok_and(|r| r.verifier.verify(k, &msg, &sig).is_ok())
                });
                let id = format!(
                    "{} #{} ({})",
                    f.file_name().and_then(|n| n.to_str()).unwrap_or("?"),
                    t["tcId"],
                    t["comment"]
                );
                match (t["result"].as_str(), ok) {
                    (Some("valid"), true) => valid += 1,
                    (Some("invalid"), false) => invalid += 1,
                    (Some("acceptable"), true) => acceptable_ok += 1,
                    (Some("acceptable"), false) => acceptable_rej += 1,
                    (r, _) => failures.push(format!("{id}: expected {r:?}, got ok={ok}")),
                }
            }
        }
    }
    eprintln!(
        "wycheproof: {valid} valid accepted, {invalid} invalid rejected, acceptable: {acceptable_ok} accepted / {acceptable_rej} rejected"
    );
    assert!(
        failures.is_empty(),
        "{} Wycheproof failures:\n{}",
        failures.len(),
        failures.join("\n")
    );
    assert!(
        valid > 500 && invalid > 1000,
        "suspiciously few vectors ran"
    );
}
