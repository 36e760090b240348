//! x509-limbo path-validation cases through `Verifier::verify_chain` (what `tekser verify chain`
//! runs). Applicability is decided by rule from each case's data, not by hand:
//!
//! - `features` we do not support: `has-crl` (revocation is a separate layer), `has-policy-constraints`
//!   (no policy processing), and the webpki/TLS-only pedantry (`pedantic-webpki-eku`,
//!   `pedantic-webpki-subscriber-key`, `pedantic-public-suffix-wildcard`,
//!   `rfc5280-incompatible-with-webpki`);
//! - hostname cases: namespaces `::san`, `::cn` (they test matching the peer name, which document
//!   signing does not have), and name constraints (`::nc`, which constrain SAN host names; we do
//!   not process nameConstraints and fail closed on them as an unknown critical extension);
//! - TLS EKU cases: `extended_key_usage` names serverAuth/clientAuth, or the `::eku` namespace;
//! - the CA/B Forum root-AKI profile (`webpki::aki`), which the NCA's own GOST root does not follow.
//!
//! Every remaining divergence is listed with its reason in tests/data/limbo-exceptions.json.

mod support;

use serde_json::Value;
use std::collections::BTreeMap;

use tekser::pki::time::parse_rfc3339;
use tekser::pki::trust::{parse_bundle, TrustStore};
use tekser::verdict::Indication;
use tekser::verify::{RequestOptions, RevocationMode, Verifier, VerifierConfig};

const UNSUPPORTED_FEATURES: &[&str] = &[
    "has-crl",
    "has-policy-constraints",
    "pedantic-webpki-eku",
    "pedantic-webpki-subscriber-key",
    "pedantic-public-suffix-wildcard",
    "rfc5280-incompatible-with-webpki",
    // RFC 5280 §4.1.2.2 asks certificate users to handle negative, zero and over-long serials
    // gracefully, so we do not refuse them.
    "pedantic-serial-number",
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
    if ns.ends_with("::san") || ns.ends_with("::cn") || ns.ends_with("::nc") {
        return Some("hostname / name constraints".into());
    }
    if ns == "webpki::aki" {
        // The CA/B Forum's TLS root profile (BR 7.1.2.1.3) for a root's own AKI; document
        // signing is not governed by it, and the NCA's real GOST root names issuer and serial
        // in its AKI (tests/data/kz/ncanode-go/root_test_gost_2022.cer).
        return Some("CA/B Forum TLS root AKI profile".into());
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
    let verifier = Verifier::new(TrustStore::new(anchors), inters, VerifierConfig::default());
    let at = case["validation_time"]
        .as_str()
        .map(parse_rfc3339)
        .transpose()?;
    let opts = RequestOptions {
        at,
        revocation: RevocationMode::Off,
    };
    // limbo counts intermediates; our limit counts the path without its anchor (leaf included).
    let depth = case["max_chain_depth"].as_u64().map(|d| d as usize + 1);
    let verdict = verifier.verify_chain(&pem(&case["peer_certificate"]), depth, &opts);
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
    let mut unexpected = Vec::new();
    let mut stale = Vec::new();
    for case in limbo["testcases"].as_array().expect("testcases") {
        let id = case["id"].as_str().expect("id").to_owned();
        if let Some(why) = not_applicable(case) {
            *skipped.entry(why).or_default() += 1;
            continue;
        }
        applicable += 1;
        let want = case["expected_result"] == "SUCCESS";
        let got = run_case(case).unwrap_or(false);
        if got == want {
            matched += 1;
            if exceptions.contains_key(&id) {
                stale.push(id);
            }
        } else if !exceptions.contains_key(&id) {
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
    assert!(
        unexpected.is_empty(),
        "divergences not in limbo-exceptions.json:\n{}",
        unexpected.join("\n")
    );
    assert!(
        stale.is_empty(),
        "exceptions that now match (remove them): {stale:?}"
    );
    assert!(
        matched * 100 >= applicable * 95,
        "only {matched}/{applicable} match"
    );
    assert!(applicable >= 80, "too few applicable cases: {applicable}");
}
