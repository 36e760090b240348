//! The attack classes of fixtures/pdf/attacks.py, each on pyHanko-signed bases: no manipulated
//! document is TOTAL_PASSED unless its change is permitted and then it carries an overlay
//! warning; permitted changes pass. poppler (and MuPDF for free entries) is the independent oracle
//! that each attack is real: pdftotext, pdftoppm's rendering or MuPDF's text of the final file
//! differs from that of the signed revision.

mod support;

use serde_json::Value;
use std::path::Path;
use std::process::Command;
use support::*;
use tekser::pki::time::parse_rfc3339;
use tekser::verdict::{Indication, Verdict};
use tekser::verify::{RequestOptions, RevocationMode};

const AT: &str = "2027-01-01T00:00:00Z";

fn verify_bytes(pdf: &[u8]) -> Verdict {
    let v = verifier(&[fixture("pki/rsa-root.crt")], &[], false);
    v.verify_pdf(
        pdf,
        &RequestOptions {
            at: Some(parse_rfc3339(AT).expect("time")),
            revocation: RevocationMode::Off,
        },
    )
}

fn manifest() -> Vec<Value> {
    let m = std::fs::read(fixture("pdf/attacks/manifest.json")).expect("manifest");
    serde_json::from_slice::<Value>(&m)
        .expect("json")
        .as_array()
        .expect("list")
        .clone()
}

/// The end of the first signature's signed bytes: its /ByteRange's second range's end.
fn signed_end(pdf: &[u8]) -> usize {
    let at = pdf
        .windows(11)
        .position(|w| w == b"/ByteRange ")
        .expect("a signature");
    let rest = &pdf[at + 11..];
    let close = rest.iter().position(|&b| b == b']').unwrap();
    let nums: Vec<usize> = std::str::from_utf8(&rest[..close])
        .unwrap()
        .trim_start_matches([' ', '['])
        .split_whitespace()
        .map(|n| n.parse().unwrap())
        .collect();
    nums[2] + nums[3]
}

/// Runs a poppler tool on `pdf`, returning its standard output. The tool is required: CI
/// installs poppler-utils, and a missing oracle fails the test rather than skipping it.
fn poppler(tool: &str, args: &[&str], pdf: &[u8], dir: &Path, name: &str) -> Vec<u8> {
    let path = dir.join(name);
    std::fs::write(&path, pdf).unwrap();
    let mut cmd = Command::new(tool);
    cmd.args(args).arg(&path);
    if tool == "pdftotext" {
        cmd.arg("-"); // pdftoppm writes to standard output when no file root is named
    }
    let out = cmd
        .output()
        .unwrap_or_else(|e| panic!("{tool} (poppler-utils) must be installed: {e}"));
    out.stdout
}

#[test]
fn every_attack_class_is_refused_and_the_oracle_shows_it_is_real() {
    let dir = std::env::temp_dir().join(format!("tekser-pdf-attacks-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let attacks = manifest();
    assert!(attacks.len() >= 40, "the generator's manifest is complete");
    let mut failed = Vec::new();
    let mut oracle_checked = 0;
    for a in &attacks {
        // Each case is checked on its own, so one run names every failing file.
        match std::panic::catch_unwind(|| check(a, &dir)) {
            Ok(oracle) => oracle_checked += usize::from(oracle),
            Err(_) => failed.push(a["file"].as_str().unwrap_or("?").to_owned()),
        }
    }
    let _ = std::fs::remove_dir_all(&dir);
    assert!(failed.is_empty(), "failing cases: {failed:?}");
    assert!(
        oracle_checked >= 25,
        "{oracle_checked} attacks checked by poppler"
    );
}

/// One manifest entry: the verdict, then the oracle; true when the oracle ran.
fn check(a: &Value, dir: &Path) -> bool {
    {
        let file = a["file"].as_str().unwrap();
        let expect = a["expect"].as_str().unwrap();
        let needle = a["needle"].as_str().unwrap();
        let pdf = std::fs::read(fixture(&format!("pdf/attacks/{file}"))).expect("fixture");
        let v = verify_bytes(&pdf);
        let json = v.to_json();
        let Some(s) = v.signatures.first() else {
            // The attack took the signature out of the current document: not a pass either.
            assert!(expect != "pass" && expect != "overlay", "{file}: {json}");
            assert_ne!(v.indication(), Indication::TOTAL_PASSED, "{file}: {json}");
            return false;
        };
        match expect {
            "pass" => {
                assert_eq!(v.indication(), Indication::TOTAL_PASSED, "{file}: {json}");
                let p = s.pdf.as_ref().unwrap();
                assert!(
                    p.allowed_changes.iter().any(|c| c.contains(needle)),
                    "{file}: {:?}",
                    p.allowed_changes
                );
            }
            "overlay" => {
                // Permitted by the signature's rules, so it may pass, but never silently.
                assert!(
                    s.warnings.iter().any(|w| w.contains(needle)),
                    "{file}: {json}"
                );
            }
            "disallowed" | "unaccounted" => {
                assert_ne!(v.indication(), Indication::TOTAL_PASSED, "{file}: {json}");
                let code = if expect == "disallowed" {
                    "modified-after-signing"
                } else {
                    "unaccounted-bytes"
                };
                assert!(
                    s.errors
                        .iter()
                        .any(|e| e.code == code && e.message.contains(needle)),
                    "{file}: wanted {code} with {needle:?}: {json}"
                );
                if expect == "disallowed" {
                    let p = s.pdf.as_ref().unwrap();
                    assert!(!p.disallowed_changes.is_empty(), "{file}");
                    assert!(!p.covers_whole_document || p.revisions == 1, "{file}");
                }
            }
            other => panic!("{file}: unknown expectation {other}"),
        }
        // The oracle: poppler shows the signed revision and the final file differently.
        let signed = &pdf[..signed_end(&pdf)];
        match a["oracle"].as_str() {
            Some("text") => {
                let before = poppler("pdftotext", &["-q"], signed, dir, "signed.pdf");
                let after = poppler("pdftotext", &["-q"], &pdf, dir, "final.pdf");
                assert_ne!(before, after, "{file}: pdftotext sees no change");
                true
            }
            Some("mutool") => {
                // MuPDF honours a free entry (a blank page) where poppler shows the old object.
                let text = |pdf: &[u8], name: &str| {
                    let path = dir.join(name);
                    std::fs::write(&path, pdf).unwrap();
                    Command::new("mutool")
                        .args(["draw", "-q", "-F", "txt", "-o", "-"])
                        .arg(&path)
                        .output()
                        .unwrap_or_else(|e| panic!("mutool (mupdf-tools) must be installed: {e}"))
                        .stdout
                };
                assert_ne!(
                    text(signed, "signed.pdf"),
                    text(&pdf, "final.pdf"),
                    "{file}: MuPDF sees no change"
                );
                true
            }
            Some("render") => {
                let args = ["-q", "-r", "20", "-gray", "-singlefile"];
                let before = poppler("pdftoppm", &args, signed, dir, "signed.pdf");
                let after = poppler("pdftoppm", &args, &pdf, dir, "final.pdf");
                assert!(!before.is_empty(), "{file}: pdftoppm rendered nothing");
                assert_ne!(before, after, "{file}: pdftoppm renders no change");
                true
            }
            _ => false,
        }
    }
}
