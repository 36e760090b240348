//! x509-limbo path-validation cases through `Verifier::verify_chain` (what `tekser verify chain`
//! runs). Applicability is decided by rule from each case's data, not by hand:
//!
//! - hostname cases: namespaces `::san`, `::cn` and cases that name a peer but test only the
//!   peer-name match (they test matching a TLS peer name, which document signing does not have);
//! - TLS EKU cases: `extended_key_usage` names serverAuth/clientAuth, the `::eku` namespace, or
//!   the feature `pedantic-webpki-eku`; CLIENT validation (mail/TLS client names);
//! - the public-suffix wildcard rule (`pedantic-public-suffix-wildcard`, a SAN host-name rule);
//! - the CA/B Forum root-AKI profile (`webpki::aki`), which the NCA's own GOST root does not follow;
//! - `online::` (live TLS chains whose validation time and EKU are TLS's).
//!
//! Every case of `rfc5280::`, `crl::`, `pathlen::` and `pathological::` outside those rules runs
//! (CRLs given offline with revocation required, `max_chain_depth` as `--max-depth`), and the
//! per-namespace counts are asserted exactly: a divergence must be listed with the RFC text that
//! allows it in tests/data/limbo-exceptions.json.

mod support;

use serde_json::Value;
use std::collections::BTreeMap;
use tekser::verify::Input;

use tekser::pki::crl::Crl;
use tekser::pki::time::parse_rfc3339;
use tekser::pki::trust::{parse_bundle, TrustStore};
use tekser::verdict::Indication;
use tekser::verify::{RequestOptions, RevocationMode, Verifier, VerifierConfig};

const UNSUPPORTED_FEATURES: &[&str] = &["pedantic-webpki-eku", "pedantic-public-suffix-wildcard"];

/// The namespaces issue 12 asks to match in full: (namespace, applicable cases in limbo.json,
/// cases that match). The rest of each namespace is listed in limbo-exceptions.json; any change
/// in what runs or matches must show up here.
const REQUIRED: &[(&str, usize, usize)] = &[
    ("crl", 8, 8),
    ("pathlen", 13, 13),
    ("pathological", 11, 11),
    ("rfc5280", 85, 81),
];

fn not_applicable(case: &Value) -> Option<String> {
    let id = case["id"].as_str().unwrap_or_default();
    let features: Vec<&str> = case["features"]
        .as_array()
        .into_iter()
        .flatten()
        .filter_map(Value::as_str)
        .collect();
    if let Some(f) = features.iter().find(|f| UNSUPPORTED_FEATURES.contains(f)) {
        return Some(format!("feature {f}"));
    }
    let ns = id.rsplit_once("::").map_or("", |(ns, _)| ns);
    if ns.ends_with("::san") || ns.ends_with("::cn") {
        return Some("hostname".into());
    }
    if ns == "online" {
        return Some("live TLS chains".into());
    }
    if ns == "webpki::aki" {
        // The CA/B Forum's TLS root profile (BR 7.1.2.1.3) for a root's own AKI; document
        // signing is not governed by it, and the NCA's real GOST root names issuer and serial
        // in its AKI (tests/data/kz/ncanode-go/root_test_gost_2022.cer).
        return Some("CA/B Forum TLS root AKI profile".into());
    }
    if case["validation_kind"] != "SERVER" {
        return Some("CLIENT validation".into());
    }
    let eku: Vec<&str> = case["extended_key_usage"]
        .as_array()
        .into_iter()
        .flatten()
        .filter_map(Value::as_str)
        .collect();
    if ns.ends_with("::eku") || eku.iter().any(|e| *e == "serverAuth" || *e == "clientAuth") {
        return Some("TLS extended key usage".into());
    }
    None
}

/// Runs one case; Ok(true) = validated.
fn run_case(case: &Value) -> Result<bool, String> {
    let pem = |v: &Value| v.as_str().map(str::as_bytes).unwrap_or_default().to_vec();
    let mut anchors = Vec::new();
    for t in case["trusted_certs"].as_array().into_iter().flatten() {
        anchors.extend(parse_bundle(&pem(t)).map_err(|e| format!("trust anchor: {e}"))?);
    }
    let mut inters = Vec::new();
    for t in case["untrusted_intermediates"]
        .as_array()
        .into_iter()
        .flatten()
    {
        // An unparsable intermediate is just not a candidate, as in a CMS certificate bag.
        if let Ok(c) = parse_bundle(&pem(t)) {
            inters.extend(c);
        }
    }
    let mut crls = Vec::new();
    for c in case["crls"].as_array().into_iter().flatten() {
        // A CRL we refuse to read is simply not available; with revocation required the case
        // then cannot pass.
        if let Ok(crl) = Crl::parse(&pem(c), 1 << 20) {
            crls.push(crl);
        }
    }
    let revocation = if case["crls"].as_array().is_some_and(|a| !a.is_empty()) {
        RevocationMode::Require
    } else {
        RevocationMode::Off
    };
    let verifier = Verifier::with_crls(
        TrustStore::new(anchors),
        inters,
        VerifierConfig::default(),
        crls,
    );
    let at = case["validation_time"]
        .as_str()
        .map(parse_rfc3339)
        .transpose()?;
    let opts = RequestOptions {
        at,
        revocation,
        ..Default::default()
    };
    // limbo's max_chain_depth counts intermediates, as `--max-depth` does.
    let depth = case["max_chain_depth"]
        .as_u64()
        .map(|d| usize::try_from(d).expect("depth"));
    let verdict = verifier.verify(
        &Input::Chain {
            certificates: &pem(&case["peer_certificate"]),
            max_depth: depth,
        },
        &opts,
    );
    Ok(verdict.indication() == Indication::TOTAL_PASSED)
}

#[test]
fn x509_limbo() {
    let path = support::testdata("x509-limbo/limbo.json");
    let limbo: Value =
        serde_json::from_str(&std::fs::read_to_string(path).expect("read")).expect("json");
    let exceptions: BTreeMap<String, String> = serde_json::from_str(
        &std::fs::read_to_string(support::root().join("tests/data/limbo-exceptions.json"))
            .expect("exceptions"),
    )
    .expect("exceptions json");
    let (mut applicable, mut matched, mut skipped) =
        (0usize, 0usize, BTreeMap::<String, usize>::new());
    // namespace -> (applicable, matched, listed exceptions)
    let mut per_ns = BTreeMap::<String, (usize, usize, usize)>::new();
    let mut unexpected = Vec::new();
    let mut stale = Vec::new();
    for case in limbo["testcases"].as_array().expect("testcases") {
        let id = case["id"].as_str().expect("id").to_owned();
        if let Some(why) = not_applicable(case) {
            *skipped.entry(why).or_default() += 1;
            continue;
        }
        applicable += 1;
        let ns = id.split("::").next().unwrap_or_default().to_owned();
        let counts = per_ns.entry(ns).or_default();
        counts.0 += 1;
        let want = case["expected_result"] == "SUCCESS";
        let started = std::time::Instant::now();
        let got = run_case(case).unwrap_or(false);
        let took = started.elapsed();
        if case["features"]
            .as_array()
            .is_some_and(|f| f.iter().any(|f| f == "denial-of-service"))
        {
            eprintln!("{id}: {} ms", took.as_millis());
            // A generous bound; the budgets make these a few milliseconds.
            assert!(took.as_secs() < 2, "{id} took {took:?}");
        }
        if got == want {
            matched += 1;
            counts.1 += 1;
            if exceptions.contains_key(&id) {
                stale.push(id);
            }
        } else if exceptions.contains_key(&id) {
            counts.2 += 1;
        } else {
            unexpected.push(format!(
                "{id}: expected {}, got {}",
                case["expected_result"],
                if got { "SUCCESS" } else { "FAILURE" }
            ));
        }
    }
    eprintln!(
        "x509-limbo: {matched}/{applicable} applicable cases match; skipped by rule: {skipped:?}"
    );
    for (ns, (a, m, x)) in &per_ns {
        eprintln!("  {ns}: {m}/{a} match, {x} listed exceptions");
    }
    assert!(
        unexpected.is_empty(),
        "divergences not in limbo-exceptions.json:\n{}",
        unexpected.join("\n")
    );
    assert!(
        stale.is_empty(),
        "exceptions that now match (remove them): {stale:?}"
    );
    for (ns, want, want_matched) in REQUIRED {
        let (a, m, x) = per_ns.get(*ns).copied().unwrap_or_default();
        assert_eq!(a, *want, "{ns}: applicable cases");
        assert_eq!(m, *want_matched, "{ns}: matching cases");
        assert_eq!(
            m + x,
            a,
            "{ns}: every case matches or is a listed exception"
        );
    }
    assert!(
        matched * 100 >= applicable * 95,
        "only {matched}/{applicable} match"
    );
}
