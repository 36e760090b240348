//! The CLI contract (CONTRACT.md): exit statuses 0/1/2/64/66, JSON alone on stdout.

mod support;

use serde_json::Value;
use support::*;

const AT: &str = "2025-06-01T00:00:00Z";

#[test]
fn json_is_alone_on_stdout_and_exit_codes_follow_the_indication() {
    let root = fixture("pki/rsa-root.crt");
    for (file, code, ind) in [
        ("cms/rsa-attached.p7s", 0, "TOTAL_PASSED"),
        ("cms/rsa-expired.p7s", 1, "TOTAL_FAILED"),
        ("cms/other-root.p7s", 2, "INDETERMINATE"),
    ] {
        let (c, out, _err) = tekser(&[
            "verify",
            "cms",
            "--signature",
            s(&fixture(file)),
            "--trust",
            s(&root),
            "--at",
            AT,
            "--json",
        ]);
        assert_eq!(c, code, "{file}");
        let v: Value = serde_json::from_str(&out).expect("stdout is exactly one JSON document");
        assert_eq!(v["indication"], ind);
        assert_eq!(v["format"], "cms");
        for k in ["sub_indication", "signatures", "document", "errors"] {
            assert!(v.get(k).is_some(), "verdict lacks {k}");
        }
        let sig = &v["signatures"][0];
        for k in [
            "indication",
            "sub_indication",
            "signer",
            "algorithm",
            "signing_time",
            "timestamp",
            "chain",
            "revocation",
            "warnings",
        ] {
            assert!(sig.get(k).is_some(), "signature lacks {k}");
        }
    }
}

#[test]
fn human_output_names_the_signer_and_the_chain() {
    let (c, out, _) = tekser(&[
        "verify",
        "cms",
        "--signature",
        s(&fixture("cms/rsa-attached.p7s")),
        "--trust",
        s(&fixture("pki/rsa-root.crt")),
        "--at",
        AT,
    ]);
    assert_eq!(c, 0);
    assert!(out.starts_with("TOTAL_PASSED"), "{out}");
    assert!(
        out.contains("CN=RSA Signer") && out.contains("(trust anchor)"),
        "{out}"
    );
}

#[test]
fn garbage_input_is_format_failure_not_a_crash() {
    let dir = std::env::temp_dir().join(format!("tekser-cli-{}", std::process::id()));
    std::fs::create_dir_all(&dir).expect("tmp");
    for (name, bytes) in [
        ("empty", &b""[..]),
        ("text", &b"hello, this is not a signature"[..]),
        (
            "der-garbage",
            &[0x30, 0x84, 0xff, 0xff, 0xff, 0xff, 0x00][..],
        ),
        (
            "pem-junk",
            &b"-----BEGIN PKCS7-----\n!!!!\n-----END PKCS7-----\n"[..],
        ),
    ] {
        let p = dir.join(name);
        std::fs::write(&p, bytes).expect("write");
        let (c, out, _) = tekser(&["verify", "cms", "--signature", s(&p), "--json"]);
        assert_eq!(c, 1, "{name}");
        let v: Value = serde_json::from_str(&out).expect("json");
        assert_eq!(v["sub_indication"], "FORMAT_FAILURE", "{name}");
        assert!(!v["errors"][0]["message"]
            .as_str()
            .unwrap_or_default()
            .is_empty());
    }
    let _ = std::fs::remove_dir_all(&dir);
}

#[test]
fn usage_errors_are_64_and_missing_files_66() {
    let sig = fixture("cms/rsa-attached.p7s");
    let (c, out, _) = tekser(&[
        "verify",
        "cms",
        "--signature",
        "/nonexistent/sig.p7s",
        "--json",
    ]);
    assert_eq!(c, 66);
    assert!(out.is_empty(), "nothing on stdout for a missing file");
    let (c, _, _) = tekser(&[
        "verify",
        "cms",
        "--signature",
        s(&sig),
        "--trust",
        "/nonexistent/root.pem",
    ]);
    assert_eq!(c, 66);
    let (c, _, err) = tekser(&["verify", "cms", "--signature", s(&sig), "--at", "yesterday"]);
    assert_eq!(c, 64, "{err}");
    let (c, _, _) = tekser(&[
        "verify",
        "cms",
        "--signature",
        s(&sig),
        "--revocation",
        "sometimes",
    ]);
    assert_eq!(c, 64);
    let (c, _, _) = tekser(&["verify", "cms", "--no-such-flag"]);
    assert_eq!(c, 64);
    let (c, _, _) = tekser(&["verify", "cms"]);
    assert_eq!(c, 64, "missing --signature");
    let (c, _, err) = tekser(&["verify", "cms", "--signature", s(&sig), "--crl", s(&sig)]);
    assert_eq!(c, 64, "--crl is refused until CRL checking exists: {err}");
    let (c, out, _) = tekser(&["--help"]);
    assert_eq!(c, 0);
    assert!(out.contains("verify"));
    // A trust file that is not a certificate is a usage error, not a verdict.
    let (c, _, _) = tekser(&[
        "verify",
        "cms",
        "--signature",
        s(&sig),
        "--trust",
        s(&fixture("cms/content.txt")),
    ]);
    assert_eq!(c, 64);
}
