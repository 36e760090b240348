//! `tekser verify FILE_OR_DIR... [--recursive]` (#17): formats detected per file, verified in
//! parallel, a summary (or NDJSON with `--json`), exit 0 only if every document passed. Run on
//! a generated folder of fixtures made by other implementations (OpenSSL, pyHanko).

mod support;

use serde_json::Value;
use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use support::*;

const AT: &str = "2025-06-01";

/// A fresh scratch folder for one test.
fn scratch(name: &str) -> PathBuf {
    let dir = std::env::temp_dir().join(format!("tekser-batch-{name}-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(&dir).expect("tmp");
    dir
}

fn copy(from: &str, to: &Path) {
    if let Some(p) = to.parent() {
        std::fs::create_dir_all(p).expect("mkdir");
    }
    std::fs::copy(fixture(from), to).unwrap_or_else(|e| panic!("{from}: {e}"));
}

/// The mixed folder: passing PDF, CMS (attached, and detached beside its content), egov
/// barcode text, signed XML; an altered PDF, a corrupt PDF, an unrecognised file; an
/// untrusted CMS in a nested folder.
fn mixed_folder(name: &str) -> PathBuf {
    let d = scratch(name);
    copy("pdf/signed.pdf", &d.join("signed.pdf"));
    copy("pdf/attack-p2-annotation.pdf", &d.join("altered.pdf"));
    copy("cms/rsa-attached.p7s", &d.join("attached.p7s"));
    copy("cms/content.txt", &d.join("letter.txt"));
    copy("cms/rsa-detached.p7s", &d.join("letter.txt.p7s"));
    copy("barcode/egov-rsa/all.txt", &d.join("egov.txt"));
    copy("xml/exc-c14n-rsa.xml", &d.join("doc.xml"));
    let pdf = std::fs::read(fixture("pdf/signed.pdf")).expect("fixture");
    std::fs::write(d.join("corrupt.pdf"), &pdf[..300]).expect("tmp");
    std::fs::write(d.join("notes.md"), "# not a signed document\n").expect("tmp");
    copy("cms/other-root.p7s", &d.join("nested/deeper/untrusted.p7s"));
    copy("cms/ec-attached.p7s", &d.join("nested/ec.p7s"));
    d
}

fn common(root: &Path) -> Vec<String> {
    vec![
        "--trust".into(),
        s(root).into(),
        "--trust".into(),
        s(&fixture("pki/ec-root.crt")).into(),
        "--at".into(),
        AT.into(),
        "--revocation".into(),
        "off".into(),
    ]
}

fn run(args: &[String]) -> (i32, String, String) {
    let argv: Vec<&str> = args.iter().map(String::as_str).collect();
    let (c, out, err) = tekser(&argv);
    println!("exit {c}\n{out}\n{err}");
    (c, out, err)
}

#[test]
fn a_mixed_folder_gives_a_summary_and_fails_the_batch() {
    let d = mixed_folder("summary");
    let root = fixture("pki/rsa-root.crt");
    let mut args: Vec<String> = vec!["verify".into(), s(&d).into(), "--recursive".into()];
    args.extend(common(&root));
    let (c, out, err) = run(&args);
    assert_eq!(c, 1, "an altered and a corrupt file fail the batch");
    // letter.txt is the content of letter.txt.p7s, verified with it, not on its own.
    assert!(out.starts_with("10 file(s) in "), "{out}");
    let count = |label: &str| -> usize {
        out.lines()
            .find(|l| l.trim_start().starts_with(label))
            .and_then(|l| l.split_whitespace().last())
            .and_then(|n| n.parse().ok())
            .unwrap_or_else(|| panic!("no {label} row: {out}"))
    };
    assert_eq!(count("VALID (TOTAL_PASSED)"), 6, "{out}");
    assert_eq!(count("NOT VALID (TOTAL_FAILED)"), 3, "{out}");
    assert_eq!(count("CANNOT CONFIRM (INDETERMINATE)"), 1, "{out}");
    let reason = |file: &str| -> String {
        out.lines()
            .find(|l| l.contains(file) && l.contains(": "))
            .unwrap_or_else(|| panic!("{file} not listed: {out}"))
            .to_owned()
    };
    assert!(reason("altered.pdf")
        .contains("NOT VALID — the document was changed after signing: annotation object 91"));
    assert!(reason("corrupt.pdf").contains("NOT VALID — the input is not a readable signed PDF"));
    assert!(reason("notes.md").contains("not a format tekser reads"));
    assert!(reason("untrusted.p7s")
        .contains("CANNOT CONFIRM — the certificate chain does not reach a trusted root"));
    for passing in [
        "signed.pdf",
        "attached.p7s",
        "letter.txt.p7s",
        "egov.txt",
        "doc.xml",
        "ec.p7s",
    ] {
        assert!(
            !out.lines().any(|l| l.contains(&format!("/{passing}:"))),
            "{passing} listed as a failure: {out}"
        );
    }
    // No progress bar when stderr is not a terminal.
    assert!(!err.contains('\r') && !err.contains("files/s"), "{err}");

    // Without --recursive the nested folder is not entered.
    let mut args: Vec<String> = vec!["verify".into(), s(&d).into()];
    args.extend(common(&root));
    let (c, out, _) = run(&args);
    assert_eq!(c, 1);
    assert!(out.starts_with("8 file(s) in "), "{out}");
    let _ = std::fs::remove_dir_all(&d);
}

#[test]
fn json_is_one_verdict_per_file_with_its_path() {
    let d = mixed_folder("ndjson");
    let root = fixture("pki/rsa-root.crt");
    let mut args: Vec<String> = vec!["verify".into(), s(&d).into(), "-r".into(), "--json".into()];
    args.extend(common(&root));
    let (c, out, err) = run(&args);
    assert_eq!(c, 1);
    let mut by_file: BTreeMap<String, Value> = BTreeMap::new();
    for line in out.lines() {
        let v: Value = serde_json::from_str(line).unwrap_or_else(|e| panic!("{e}: {line}"));
        let p = v["path"].as_str().expect("path").to_owned();
        let name = p.rsplit('/').next().unwrap_or_default().to_owned();
        assert!(by_file.insert(name, v).is_none(), "{p} twice");
    }
    let want = [
        ("signed.pdf", "TOTAL_PASSED", Some("pdf")),
        ("altered.pdf", "TOTAL_FAILED", Some("pdf")),
        ("attached.p7s", "TOTAL_PASSED", Some("cms")),
        ("letter.txt.p7s", "TOTAL_PASSED", Some("cms")),
        ("egov.txt", "TOTAL_PASSED", Some("egov-barcode")),
        ("doc.xml", "TOTAL_PASSED", Some("xmldsig")),
        ("corrupt.pdf", "TOTAL_FAILED", Some("pdf")),
        ("notes.md", "TOTAL_FAILED", None),
        ("untrusted.p7s", "INDETERMINATE", Some("cms")),
        ("ec.p7s", "TOTAL_PASSED", Some("cms")),
    ];
    assert_eq!(by_file.len(), want.len(), "{out}");
    for (file, indication, format) in want {
        let v = &by_file[file];
        assert_eq!(v["indication"], indication, "{file}: {v}");
        assert_eq!(v["format"].as_str(), format, "{file}");
        if indication != "TOTAL_PASSED" {
            assert!(v["sub_indication"].is_string(), "{file}: {v}");
        }
        if format.is_some() {
            assert_eq!(v["validation_time"], "2025-06-01T00:00:00Z", "{file}");
        }
    }
    assert_eq!(by_file["notes.md"]["sub_indication"], "FORMAT_FAILURE");
    // The summary goes to stderr; stdout is the NDJSON alone.
    assert!(err.contains("10 file(s) in "), "{err}");
    let _ = std::fs::remove_dir_all(&d);
}

#[test]
fn a_batch_where_everything_passes_exits_zero_and_missing_paths_are_66() {
    let d = scratch("pass");
    copy("cms/rsa-attached.p7s", &d.join("a.p7s"));
    copy("pdf/signed.pdf", &d.join("b.pdf"));
    let root = fixture("pki/rsa-root.crt");
    let mut args: Vec<String> = vec!["verify".into(), s(&d).into(), s(&d.join("a.p7s")).into()];
    args.extend(common(&root));
    let (c, out, _) = run(&args);
    assert_eq!(c, 0, "{out}");
    assert!(out.starts_with("3 file(s) in "), "{out}");
    assert!(!out.contains("not passed"), "{out}");
    let mut args: Vec<String> = vec!["verify".into(), "/nonexistent/folder".into()];
    args.extend(common(&root));
    assert_eq!(run(&args).0, 66);
    let empty = scratch("empty");
    let mut args: Vec<String> = vec!["verify".into(), s(&empty).into()];
    args.extend(common(&root));
    assert_eq!(run(&args).0, 66, "nothing to verify is not a pass");
    let _ = std::fs::remove_dir_all(&d);
    let _ = std::fs::remove_dir_all(&empty);
}

/// Many small files: every one answered, memory flat (verdicts are streamed, not held), and
/// the rate printed for BENCHMARKS.md. Generous bounds: this shares a 2-core machine.
#[test]
fn three_thousand_files_stream_with_flat_memory() {
    let d = scratch("many");
    let sig = std::fs::read(fixture("cms/rsa-attached.p7s")).expect("fixture");
    for i in 0..3000 {
        let sub = d.join(format!("{:02}", i % 30));
        if i < 30 {
            std::fs::create_dir_all(&sub).expect("mkdir");
        }
        std::fs::write(sub.join(format!("{i}.p7s")), &sig).expect("tmp");
    }
    let root = fixture("pki/rsa-root.crt");
    let time = Path::new("/usr/bin/time");
    assert!(
        time.exists(),
        "/usr/bin/time (Debian package time) must be installed"
    );
    let t = std::time::Instant::now();
    let o = std::process::Command::new(time)
        .args(["-f", "maxrss_kb=%M", env!("CARGO_BIN_EXE_tekser")])
        .args([
            "verify",
            s(&d),
            "-r",
            "--json",
            "--trust",
            s(&root),
            "--at",
            AT,
        ])
        .args(["--revocation", "off"])
        .output()
        .expect("runs");
    let took = t.elapsed();
    let out = String::from_utf8_lossy(&o.stdout);
    let err = String::from_utf8_lossy(&o.stderr);
    assert_eq!(o.status.code(), Some(0), "{err}");
    let lines = out.lines().count();
    assert_eq!(lines, 3000);
    assert!(out
        .lines()
        .all(|l| l.contains("\"indication\":\"TOTAL_PASSED\"")));
    let kb: u64 = err
        .lines()
        .find_map(|l| l.strip_prefix("maxrss_kb="))
        .and_then(|k| k.trim().parse().ok())
        .unwrap_or_else(|| panic!("no peak RSS: {err}"));
    println!(
        "3000 files: {took:?} ({:.0} files/s), peak RSS {kb} kB",
        3000.0 / took.as_secs_f64()
    );
    // Holding 3000 verdicts (~3 KB of JSON each) would not show here; a leak per file would.
    assert!(kb < 150 * 1024, "peak RSS {kb} kB");
    assert!(took < std::time::Duration::from_secs(120), "{took:?}");
    let _ = std::fs::remove_dir_all(&d);
}

/// A reader that goes away (`tekser verify DIR --json | head -1`) stops the batch quietly, and
/// the files left unverified are not reported as passed: exit 2, not 0.
#[test]
fn a_closed_output_stops_the_batch_without_claiming_a_pass() {
    let d = scratch("closed");
    let sig = std::fs::read(fixture("cms/rsa-attached.p7s")).expect("fixture");
    for i in 0..500 {
        std::fs::write(d.join(format!("{i}.p7s")), &sig).expect("tmp");
    }
    let root = fixture("pki/rsa-root.crt");
    let mut child = std::process::Command::new(env!("CARGO_BIN_EXE_tekser"))
        .args(["verify", s(&d), "--json", "--trust", s(&root), "--at", AT])
        .args(["--revocation", "off"])
        .stdout(std::process::Stdio::piped())
        .stderr(std::process::Stdio::piped())
        .spawn()
        .expect("tekser runs");
    drop(child.stdout.take());
    let o = child.wait_with_output().expect("exit");
    let err = String::from_utf8_lossy(&o.stderr);
    println!("{err}");
    assert_eq!(o.status.code(), Some(2), "{err}");
    assert!(
        !err.contains("panicked") && !err.contains("internal error"),
        "{err}"
    );
    let _ = std::fs::remove_dir_all(&d);
}

/// The progress bar is drawn on a terminal only (a real pseudo-terminal from util-linux
/// `script`), and never with --json; the pipe case is asserted in the mixed-folder test.
#[test]
fn the_progress_bar_shows_on_a_terminal_only() {
    let d = scratch("tty");
    let sig = std::fs::read(fixture("cms/rsa-attached.p7s")).expect("fixture");
    for i in 0..300 {
        std::fs::write(d.join(format!("{i}.p7s")), &sig).expect("tmp");
    }
    let root = fixture("pki/rsa-root.crt");
    let on_tty = |extra: &str| -> String {
        let cmd = format!(
            "{} verify {} --trust {} --at {AT} --revocation off {extra} >/dev/null",
            env!("CARGO_BIN_EXE_tekser"),
            s(&d),
            s(&root)
        );
        let o = std::process::Command::new("script")
            .args(["-qec", &cmd, "/dev/null"])
            .output()
            .expect("script (util-linux) runs");
        assert!(o.status.success(), "{o:?}");
        String::from_utf8_lossy(&o.stdout).into_owned()
    };
    let tty = on_tty("");
    assert!(
        tty.contains("/300 files"),
        "no progress bar on a terminal: {tty:?}"
    );
    let json = on_tty("--json");
    assert!(
        !json.contains("/300 files"),
        "a progress bar with --json: {json:?}"
    );
    let _ = std::fs::remove_dir_all(&d);
}

#[test]
fn a_file_is_not_hidden_by_a_sibling_that_is_only_named_like_its_signature() {
    // Attacker finding: `contract.pdf` (altered after signing) beside `contract.pdf.p7s` (a
    // valid signed PDF under that name) was dropped as "detached content" and never read:
    // "VALID 1", exit 0. Only a sibling that is a CMS signature takes `X` as its content.
    let d = scratch("hidden");
    copy("pdf/attack-changed-byte.pdf", &d.join("contract.pdf"));
    copy("pdf/signed.pdf", &d.join("contract.pdf.p7s"));
    let mut args = vec!["verify".to_owned(), s(&d).to_owned(), "--json".to_owned()];
    args.extend(common(&fixture("pki/rsa-root.crt")));
    let (c, out, _) = run(&args);
    assert_ne!(c, 0, "{out}");
    let lines: Vec<serde_json::Value> = out
        .lines()
        .map(|l| serde_json::from_str(l).expect("ndjson"))
        .collect();
    assert_eq!(lines.len(), 2, "{out}");
    let altered = lines
        .iter()
        .find(|v| {
            v["path"]
                .as_str()
                .is_some_and(|p| p.ends_with("contract.pdf"))
        })
        .expect("the altered file is reported");
    assert_eq!(altered["indication"], "TOTAL_FAILED", "{altered:#}");
}

#[test]
fn the_summary_lists_valid_files_changed_after_signing() {
    // Attacker finding: a folder of PDFs with annotations added over the signed pages read
    // "VALID 3" and nothing else; each file alone says it was changed after signing.
    let d = scratch("changed");
    copy("pdf/allowed-annotation.pdf", &d.join("annotated.pdf"));
    copy("pdf/signed.pdf", &d.join("plain.pdf"));
    let mut args = vec!["verify".to_owned(), s(&d).to_owned()];
    args.extend(common(&fixture("pki/rsa-root.crt")));
    let (c, out, _) = run(&args);
    assert_eq!(c, 0, "both pass: {out}");
    let (_, listed) = out
        .split_once("valid, but changed after signing")
        .unwrap_or_else(|| panic!("no changed list: {out}"));
    assert!(listed.contains("annotated.pdf"), "{out}");
    assert!(!listed.contains("plain.pdf"), "{out}");
}
