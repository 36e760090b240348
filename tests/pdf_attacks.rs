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
use tekser::verify::Input;
use tekser::verify::{RequestOptions, RevocationMode};

const AT: &str = "2027-01-01T00:00:00Z";

fn verify_bytes(pdf: &[u8]) -> Verdict {
    let v = verifier(&[fixture("pki/rsa-root.crt")], &[], false);
    v.verify(
        &Input::Pdf(pdf),
        &RequestOptions {
            at: Some(parse_rfc3339(AT).expect("time")),
            revocation: RevocationMode::Off,
            ..Default::default()
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

/// A small deterministic generator (xorshift64*), so every run tries the same documents.
struct Rng(u64);

impl Rng {
    fn next(&mut self) -> u64 {
        self.0 ^= self.0 >> 12;
        self.0 ^= self.0 << 25;
        self.0 ^= self.0 >> 27;
        self.0.wrapping_mul(0x2545_F491_4F6C_DD1D)
    }
    fn below(&mut self, n: usize) -> usize {
        usize::try_from(self.next() % u64::try_from(n).unwrap()).unwrap()
    }
    fn pick<'a, T>(&mut self, xs: &'a [T]) -> &'a T {
        &xs[self.below(xs.len())]
    }
}

/// One move of an incremental update. `Disallowed` moves touch an object that had a role in
/// the signed revision; the harmless ones are what genuine writers do.
enum Move {
    Redefine(u32, Vec<u8>),
    Free(u32),
    Repoint(u32, usize),
    Info(u32),
}

/// Appends one classic-table update with `moves`; `truncate` cuts it before its `%%EOF`.
fn append(data: &[u8], moves: &[Move], root: u32, eol: &[u8], truncate: Option<usize>) -> Vec<u8> {
    let mut out = data.to_vec();
    if !out.ends_with(b"\n") {
        out.push(b'\n');
    }
    let mut entries: std::collections::BTreeMap<u32, (usize, &str)> = Default::default();
    let mut info = None;
    for m in moves {
        match m {
            Move::Redefine(n, body) => {
                entries.insert(*n, (out.len(), "n"));
                out.extend_from_slice(format!("{n} 0 obj\n").as_bytes());
                out.extend_from_slice(body);
                out.extend_from_slice(b"\nendobj\n");
            }
            Move::Free(n) => {
                entries.insert(*n, (0, "f"));
            }
            Move::Repoint(n, off) => {
                entries.insert(*n, (*off, "n"));
            }
            Move::Info(n) => info = Some(*n),
        }
    }
    let text = String::from_utf8_lossy(data);
    let prev: usize = text
        .rsplit("startxref")
        .next()
        .unwrap()
        .split_whitespace()
        .next()
        .unwrap()
        .parse()
        .unwrap();
    let xref = out.len();
    out.extend_from_slice(b"xref\n0 1\n0000000000 65535 f");
    out.extend_from_slice(eol);
    for (n, (off, kind)) in &entries {
        out.extend_from_slice(format!("{n} 1\n{off:010} 00000 {kind}").as_bytes());
        out.extend_from_slice(eol);
    }
    let info = info.map_or(String::new(), |i| format!("/Info {i} 0 R "));
    out.extend_from_slice(
        format!("trailer\n<< /Size 200 /Root {root} 0 R {info}/Prev {prev} >>\nstartxref\n{xref}\n%%EOF\n")
            .as_bytes(),
    );
    if let Some(t) = truncate {
        let body_end = out.len() - 6;
        out.truncate(xref + t % (body_end - xref).max(1));
    }
    out
}

/// Random incremental updates built from the attack moves (type flips, trailer re-pointing,
/// free entries, entries re-pointed into the signed bytes, truncated sections), mixed with
/// permitted ones, on signed bases: never TOTAL_PASSED, since each carries a forbidden move.
#[test]
fn random_updates_with_a_forbidden_move_never_pass() {
    let bases: Vec<Vec<u8>> = ["signed.pdf", "certified-p2.pdf", "attacks/base-p3.pdf"]
        .iter()
        .map(|n| std::fs::read(fixture(&format!("pdf/{n}"))).expect("fixture"))
        .collect();
    // Objects with a role in every base: catalog, page tree, page, content, font.
    let roles: [u32; 5] = [1, 2, 3, 4, 5];
    let types: [&[u8]; 9] = [
        b"/Metadata /Subtype /XML",
        b"/XRef",
        b"/ObjStm",
        b"/Sig",
        b"/DocTimeStamp",
        b"/Annot /Subtype /Widget",
        b"/DSS",
        b"/VRI",
        b"/Catalog",
    ];
    // The updates this test writes are sound: with only the permitted move, each base passes.
    for base in &bases {
        let noise = [
            Move::Redefine(150, b"<< /Producer (noise) >>".to_vec()),
            Move::Info(150),
        ];
        for eol in [&b" \n"[..], b"\n", b"\r\n"] {
            let v = verify_bytes(&append(base, &noise, 1, eol, None));
            assert_eq!(v.indication(), Indication::TOTAL_PASSED, "{}", v.to_json());
        }
    }
    let mut rng = Rng(0x7465_6b73_6572_2121);
    let mut tried = 0;
    for round in 0..1000 {
        let base = rng.pick(&bases);
        let mut data = base.clone();
        let updates = 1 + rng.below(3);
        let forbidden_in = rng.below(updates);
        for u in 0..updates {
            let mut moves = Vec::new();
            // Permitted noise: a new information dictionary.
            if rng.below(2) == 0 {
                moves.push(Move::Redefine(
                    150 + u32::try_from(u).unwrap(),
                    b"<< /Producer (noise) >>".to_vec(),
                ));
                moves.push(Move::Info(150 + u32::try_from(u).unwrap()));
            }
            let mut truncate = None;
            let mut eol: &[u8] = b" \n";
            if u == forbidden_in {
                let target = *rng.pick(&roles);
                // A truncated update is the last one: nothing can follow a section cut short.
                let kind = match rng.below(5) {
                    4 if u + 1 < updates => 2,
                    k => k,
                };
                match kind {
                    0 => {
                        let ty = rng.pick(&types);
                        let mut body = b"<< /Type ".to_vec();
                        body.extend_from_slice(ty);
                        body.extend_from_slice(b" /Length 11 >>\nstream\nBT (x) Tj ET\nendstream");
                        moves.push(Move::Redefine(target, body));
                    }
                    1 => {
                        moves.push(Move::Redefine(
                            target,
                            b"<< /Type /Metadata /Producer (evil) >>".to_vec(),
                        ));
                        moves.push(Move::Info(target));
                    }
                    2 => moves.push(Move::Free(target)),
                    3 => {
                        // An entry re-pointed at another object's signed definition.
                        let other = *rng.pick(
                            &roles
                                .iter()
                                .copied()
                                .filter(|&r| r != target)
                                .collect::<Vec<_>>(),
                        );
                        let at = base
                            .windows(8)
                            .position(|w| w == format!("\n{other} 0 obj").as_bytes())
                            .map(|p| p + 1)
                            .expect("definition");
                        moves.push(Move::Repoint(target, at));
                    }
                    _ => {
                        moves.push(Move::Redefine(
                            target,
                            b"<< /Type /Pages /Kids [] /Count 0 >>".to_vec(),
                        ));
                        truncate = Some(usize::try_from(rng.next() % 10_000).unwrap());
                    }
                }
                if rng.below(3) == 0 {
                    eol = b"\n"; // 19-byte entries
                }
            }
            data = append(&data, &moves, 1, eol, truncate);
        }
        let v = verify_bytes(&data);
        assert_ne!(
            v.indication(),
            Indication::TOTAL_PASSED,
            "round {round}: {}",
            v.to_json()
        );
        tried += 1;
    }
    assert_eq!(tried, 1000);
}

/// Round 3: an empty signature field that lay over the signed text is signed later by someone
/// else, with a stamp covering the text. Permitted (approval, P2), so the earlier signature may
/// pass, but never without the overlay named.
#[test]
fn an_existing_signature_field_signed_later_over_the_text_is_an_overlay() {
    for file in [
        "es-existing-field-signed-over-text-approval.pdf",
        "es-existing-field-signed-over-text-p2.pdf",
    ] {
        let pdf = std::fs::read(fixture(&format!("pdf/attacks/{file}"))).expect("fixture");
        let v = verifier(
            &[fixture("pki/rsa-root.crt"), fixture("pki/other-root.crt")],
            &[],
            false,
        )
        .verify(
            &Input::Pdf(&pdf),
            &RequestOptions {
                at: Some(parse_rfc3339(AT).expect("time")),
                revocation: RevocationMode::Off,
                ..Default::default()
            },
        );
        let first = v
            .signatures
            .iter()
            .find(|s| {
                s.signer
                    .as_ref()
                    .is_some_and(|x| x.subject.contains("RSA Signer"))
            })
            .expect("the first signer's report");
        assert!(
            first
                .warnings
                .iter()
                .any(|w| w.starts_with("overlay: new appearance of signature field")),
            "{file}: {}",
            v.to_json()
        );
    }
}

/// `/NeedAppearances false` added to the form (pypdf's fill) is allowed; the same update saying
/// `true` would make viewers redraw every field from values nobody judged, and is refused. The
/// edit keeps the length, so the cross-reference stays exact.
#[test]
fn need_appearances_may_be_added_as_false_only() {
    let ok =
        std::fs::read(fixture("pdf/attacks/ok-needappearances-false-only.pdf")).expect("fixture");
    let v = verify_bytes(&ok);
    assert_eq!(v.indication(), Indication::TOTAL_PASSED, "{}", v.to_json());
    let at = ok
        .windows(22)
        .rposition(|w| w == b"/NeedAppearances false")
        .expect("the update sets it");
    let mut bad = ok.clone();
    bad[at..at + 22].copy_from_slice(b"/NeedAppearances true ");
    let v = verify_bytes(&bad);
    assert_ne!(v.indication(), Indication::TOTAL_PASSED, "{}", v.to_json());
    assert!(v.to_json().contains("NeedAppearances"), "{}", v.to_json());
}
