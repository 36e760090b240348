//! Issue #12, budgets before work: the search for a CRL's signer among certificates a signature
//! or a chain brings (RFC 5280 §6.3.3 (f)) tries at most four candidates, because each try
//! verifies the whole CRL's signature. The PKI is made by OpenSSL at run time.

mod support;

use serde_json::Value;
use std::path::Path;
use std::process::Command;
use support::*;

fn sh(dir: &Path, script: &str) {
    let out = Command::new("bash")
        .args(["-euo", "pipefail", "-c", script])
        .current_dir(dir)
        .output()
        .expect("bash runs");
    assert!(
        out.status.success(),
        "{script}: {}",
        String::from_utf8_lossy(&out.stderr)
    );
}

/// A fresh scratch folder for one test.
fn scratch(name: &str) -> std::path::PathBuf {
    let dir = std::env::temp_dir().join(format!("tekser-{name}-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(&dir).unwrap();
    dir
}

/// Extension files and a root (`root.key`, `root.crt`, subject "/CN=$1 Root"), and `cnf NAME
/// EXTRA` writing an `openssl ca` config with an empty database, for the scripts below.
const PKI_PREAMBLE: &str = r#"
printf 'basicConstraints=critical,CA:TRUE\nkeyUsage=critical,keyCertSign,cRLSign\n' > ca.ext
printf 'keyUsage=critical,digitalSignature,nonRepudiation\n' > leaf.ext
openssl req -x509 -newkey rsa:2048 -nodes -keyout root.key -out root.crt -subj "/CN=$ROOT" \
  -days 3650 -addext basicConstraints=critical,CA:TRUE -addext keyUsage=critical,keyCertSign,cRLSign 2>/dev/null
cnf() { printf '[ca]\ndefault_ca=d\n[d]\ndatabase=%s.idx\ncrlnumber=%s.num\ndefault_md=sha256\ndefault_crl_days=30\n%s' "$1" "$1" "$2" > $1.cnf; }
"#;

/// `tekser verify chain` on `dir/bundle` under `dir/root.crt` with `crls`, revocation required.
fn verify_chain(dir: &Path, bundle: &str, crls: &[&str]) -> Value {
    let (cert, root) = (dir.join(bundle), dir.join("root.crt"));
    let crl_paths: Vec<_> = crls.iter().map(|c| dir.join(c)).collect();
    let mut args = vec!["verify", "chain", "--cert", s(&cert), "--trust", s(&root)];
    for c in &crl_paths {
        args.extend(["--crl", s(c)]);
    }
    args.extend(["--revocation", "require", "--json"]);
    let (_, out, err) = tekser(&args);
    serde_json::from_str(&out).unwrap_or_else(|e| panic!("{e}: {out} {err}"))
}

/// A verifier trusting `dir/root.crt` with `dir/root.crl` and `dir/ca.crl` offline, under
/// `revocation`, with `budget` signature operations per request (None: the default).
fn offline_config(dir: &Path, revocation: &str, budget: Option<usize>) -> tekser::config::Config {
    let mut raw = tekser::config::RawConfig {
        trust: vec![dir.join("root.crt")],
        crls: vec![dir.join("root.crl"), dir.join("ca.crl")],
        revocation: Some(revocation.into()),
        ..tekser::config::RawConfig::default()
    };
    if let Some(b) = budget {
        raw.limits.max_request_signature_checks = b;
    }
    raw.validate().expect("config")
}

#[test]
fn crl_signer_candidates_are_capped() {
    let dir = scratch("crl-cap");
    // A root; six CAs named "Cap CA" with their own keys (ca0 issues the leaf, ca5 signs the
    // CRL for that name, ca1..ca4 are same-named decoys); the root's and ca5's empty CRLs.
    let script = r#"
for i in 0 1 2 3 4 5; do
  openssl req -newkey rsa:2048 -nodes -keyout k$i.key -out k$i.csr -subj "/CN=Cap CA" 2>/dev/null
  openssl x509 -req -in k$i.csr -CA root.crt -CAkey root.key -set_serial $((i + 10)) -days 3650 \
    -extfile ca.ext -out ca$i.crt 2>/dev/null
done
openssl req -newkey rsa:2048 -nodes -keyout leaf.key -out leaf.csr -subj "/CN=Cap Leaf" 2>/dev/null
openssl x509 -req -in leaf.csr -CA ca0.crt -CAkey k0.key -set_serial 99 -days 3650 \
  -extfile leaf.ext -out leaf.crt 2>/dev/null
for who in root ca5; do : > $who.idx; echo 01 > $who.num; cnf $who ""; done
openssl ca -gencrl -config root.cnf -cert root.crt -keyfile root.key -out root.crl 2>/dev/null
openssl ca -gencrl -config ca5.cnf -cert ca5.crt -keyfile k5.key -out ca.crl 2>/dev/null
cat leaf.crt ca0.crt ca5.crt > only-signer.pem
cat leaf.crt ca0.crt ca1.crt ca2.crt ca3.crt ca4.crt ca5.crt > decoys-first.pem
"#;
    sh(&dir, &format!("ROOT='Cap Root'\n{PKI_PREAMBLE}{script}"));
    let run = |bundle: &str| verify_chain(&dir, bundle, &["root.crl", "ca.crl"]);
    // The signer among the candidates: its CRL answers.
    let v = run("only-signer.pem");
    assert_eq!(v["indication"], "TOTAL_PASSED", "{v:#}");
    // Four same-named decoys before it: the search stops at the cap and says so.
    let v = run("decoys-first.pem");
    assert_eq!(v["sub_indication"], "TRY_LATER", "{v:#}");
    assert!(
        v.to_string().contains("stopped after 4 candidate signers"),
        "{v:#}"
    );
    let _ = std::fs::remove_dir_all(&dir);
}

/// Review finding (issue #12): a newer CRL whose onlySomeReasons leaves out certificateHold
/// says nothing about holds, so it cannot lift an older CRL's hold (only the certificateHold
/// partition could, and that one is older than the hold).
#[test]
fn a_crl_partitioned_without_certificate_hold_does_not_lift_a_hold() {
    let dir = scratch("hold");
    let script = r#"
openssl req -newkey rsa:2048 -nodes -keyout ca.key -out ca.csr -subj "/CN=Hold CA" 2>/dev/null
openssl x509 -req -in ca.csr -CA root.crt -CAkey root.key -set_serial 10 -days 3650 -extfile ca.ext -out ca.crt 2>/dev/null
openssl req -newkey rsa:2048 -nodes -keyout leaf.key -out leaf.csr -subj "/CN=Hold Leaf" 2>/dev/null
openssl x509 -req -in leaf.csr -CA ca.crt -CAkey ca.key -set_serial 99 -days 3650 -extfile leaf.ext -out leaf.crt 2>/dev/null
# The root's empty CRL (covers the CA).
: > root.idx; echo 01 > root.num; cnf root ""
openssl ca -gencrl -config root.cnf -cert root.crt -keyfile root.key -out root.crl 2>/dev/null
# The CA's complete CRL, an hour old, with the leaf on hold.
echo 01 > held.num; cnf held ""
printf 'R\t351231000000Z\t%s,certificateHold\t63\tunknown\t/CN=Hold Leaf\n' "$(date -u -d '-2 hours' +%y%m%d%H%M%SZ)" > held.idx
openssl ca -gencrl -config held.cnf -cert ca.crt -keyfile ca.key -crl_lastupdate "$(date -u -d '-1 hour' +%Y%m%d%H%M%SZ)" -out held.crl 2>/dev/null
# A newer CRL for every reason but certificateHold, without the leaf.
: > part.idx; echo 02 > part.num
cnf part $'crl_extensions=ext\n[ext]\nissuingDistributionPoint=critical,@idp\n[idp]\nonlysomereasons=keyCompromise,CACompromise,affiliationChanged,superseded,cessationOfOperation,privilegeWithdrawn,AACompromise\n'
openssl ca -gencrl -config part.cnf -cert ca.crt -keyfile ca.key -out part.crl 2>/dev/null
# An older CRL for certificateHold only, from before the hold: with the other partition it
# completes the reasons, but it is older than the hold.
: > hp.idx; echo 03 > hp.num
cnf hp $'crl_extensions=ext\n[ext]\nissuingDistributionPoint=critical,@idp\n[idp]\nonlysomereasons=certificateHold\n'
openssl ca -gencrl -config hp.cnf -cert ca.crt -keyfile ca.key -crl_lastupdate "$(date -u -d '-3 hours' +%Y%m%d%H%M%SZ)" -out hp.crl 2>/dev/null
cat leaf.crt ca.crt > chain.pem
"#;
    sh(&dir, &format!("ROOT='Hold Root'\n{PKI_PREAMBLE}{script}"));
    let v = verify_chain(
        &dir,
        "chain.pem",
        &["root.crl", "held.crl", "part.crl", "hp.crl"],
    );
    assert_eq!(v["sub_indication"], "REVOKED", "{v:#}");
    let _ = std::fs::remove_dir_all(&dir);
}

#[test]
fn a_sha1_signed_crl_is_refused_by_name() {
    // Issue #12: a CRL signed with SHA-1 by the right issuer was reported as "no certificate of
    // the CRL issuer verifies its signature", as if it had no signer.
    let dir = scratch("crl-sha1");
    let script = r#"
openssl req -newkey rsa:2048 -nodes -keyout leaf.key -out leaf.csr -subj "/CN=S1 Leaf" 2>/dev/null
openssl x509 -req -in leaf.csr -CA root.crt -CAkey root.key -set_serial 5 -days 3650 \
  -extfile leaf.ext -out leaf.crt 2>/dev/null
: > root.idx; echo 01 > root.num; cnf root ""
openssl ca -gencrl -config root.cnf -cert root.crt -keyfile root.key -md sha1 -out sha1.crl 2>/dev/null
openssl crl -in sha1.crl -noout -text | grep -q 'sha1WithRSAEncryption'
"#;
    sh(&dir, &format!("ROOT='S1 Root'\n{PKI_PREAMBLE}{script}"));
    let v = verify_chain(&dir, "leaf.crt", &["sha1.crl"]);
    assert_eq!(v["sub_indication"], "TRY_LATER", "{v:#}");
    let text = v.to_string();
    assert!(
        text.contains("CRL signature by its issuer") && text.contains("SHA-1 is refused"),
        "{v:#}"
    );
}

#[test]
fn a_crl_signer_validated_once_is_checked_again_at_another_time() {
    // Issue #12: the memo of CRL signatures must not carry the delegated signer's validity to
    // another validation time. "Memo CA" issues the leaf with one key; a second certificate of
    // the same name (cRLSign only, valid one day) signs its CRL (RFC 5280 §6.3.3 (f)). One
    // verifier answers now (signer valid: the CRL counts) and three days on (signer expired:
    // no usable CRL), in that order, so the second answer comes after the memo is filled.
    let dir = scratch("crl-memo");
    let script = r#"
openssl req -newkey rsa:2048 -nodes -keyout ca.key -out ca.csr -subj "/CN=Memo CA" 2>/dev/null
openssl x509 -req -in ca.csr -CA root.crt -CAkey root.key -set_serial 10 -days 3650 \
  -extfile ca.ext -out ca.crt 2>/dev/null
printf 'keyUsage=critical,cRLSign\n' > crlsigner.ext
openssl req -newkey rsa:2048 -nodes -keyout crls.key -out crls.csr -subj "/CN=Memo CA" 2>/dev/null
openssl x509 -req -in crls.csr -CA root.crt -CAkey root.key -set_serial 11 -days 1 \
  -extfile crlsigner.ext -out crls.crt 2>/dev/null
openssl req -newkey rsa:2048 -nodes -keyout leaf.key -out leaf.csr -subj "/CN=Memo Leaf" 2>/dev/null
openssl x509 -req -in leaf.csr -CA ca.crt -CAkey ca.key -set_serial 99 -days 3650 \
  -extfile leaf.ext -out leaf.crt 2>/dev/null
for who in root crls; do : > $who.idx; echo 01 > $who.num; cnf $who ""; done
openssl ca -gencrl -config root.cnf -cert root.crt -keyfile root.key -out root.crl 2>/dev/null
openssl ca -gencrl -config crls.cnf -cert crls.crt -keyfile crls.key -out ca.crl 2>/dev/null
cat leaf.crt ca.crt crls.crt > bundle.pem
"#;
    sh(&dir, &format!("ROOT='Memo Root'\n{PKI_PREAMBLE}{script}"));
    let v = offline_config(&dir, "require", None).verifier;
    let bundle = std::fs::read(dir.join("bundle.pem")).expect("bundle");
    let chain = tekser::verify::Input::Chain {
        certificates: &bundle,
        max_depth: None,
    };
    let now = time::OffsetDateTime::now_utc().unix_timestamp();
    let at = |t: i64| tekser::verify::RequestOptions {
        at: Some(t),
        revocation: tekser::verify::RevocationMode::Require,
        ..Default::default()
    };
    let first = serde_json::to_value(v.verify(&chain, &at(now + 60))).unwrap();
    assert_eq!(first["indication"], "TOTAL_PASSED", "{first:#}");
    let later = serde_json::to_value(v.verify(&chain, &at(now + 3 * 86_400))).unwrap();
    assert_eq!(later["sub_indication"], "TRY_LATER", "{later:#}");
    assert!(
        later
            .to_string()
            .contains("CRL signer certificate does not validate"),
        "{later:#}"
    );
}

#[test]
fn one_work_budget_covers_every_signer_and_every_revocation_check() {
    // Issue #12: one work budget per request across all layers. Three co-signers, each costing
    // a document signature, two certificate signatures and (the first) two CRL signatures: 11
    // operations in all (the CRL memo makes the later CA CRL checks free). With 11 the
    // document passes; with 8 the third signer is not checked; with 4 the first signer's
    // path is checked but its CRL is not — and that is a failure, not the "unavailable" that
    // `prefer` lets pass.
    let dir = scratch("work-budget");
    let script = r#"
openssl req -newkey rsa:2048 -nodes -keyout ca.key -out ca.csr -subj "/CN=Work CA" 2>/dev/null
openssl x509 -req -in ca.csr -CA root.crt -CAkey root.key -set_serial 10 -days 3650 \
  -extfile ca.ext -out ca.crt 2>/dev/null
for i in 1 2 3; do
  openssl req -newkey rsa:2048 -nodes -keyout l$i.key -out l$i.csr -subj "/CN=Signer $i" 2>/dev/null
  openssl x509 -req -in l$i.csr -CA ca.crt -CAkey ca.key -set_serial $((i + 20)) -days 3650 \
    -extfile leaf.ext -out l$i.crt 2>/dev/null
done
for who in root ca; do : > $who.idx; echo 01 > $who.num; cnf $who ""; done
openssl ca -gencrl -config root.cnf -cert root.crt -keyfile root.key -out root.crl 2>/dev/null
openssl ca -gencrl -config ca.cnf -cert ca.crt -keyfile ca.key -out ca.crl 2>/dev/null
echo 'a decision of the court' > data.txt
openssl cms -sign -binary -in data.txt -nodetach -outform DER -out three.p7s -certfile ca.crt \
  -signer l1.crt -inkey l1.key -signer l2.crt -inkey l2.key -signer l3.crt -inkey l3.key
"#;
    sh(&dir, &format!("ROOT='Work Root'\n{PKI_PREAMBLE}{script}"));
    let sig = std::fs::read(dir.join("three.p7s")).expect("cms");
    let run = |budget: usize| -> Value {
        let config = offline_config(&dir, "prefer", Some(budget));
        let v = config.verifier.verify(
            &tekser::verify::Input::Cms {
                signature: &sig,
                content: None,
            },
            &config.request,
        );
        serde_json::to_value(v).unwrap()
    };
    let codes = |v: &Value| -> Vec<String> {
        v["signatures"]
            .as_array()
            .unwrap()
            .iter()
            .map(|s| {
                s["errors"]
                    .as_array()
                    .and_then(|e| e.first())
                    .map_or("ok".into(), |e| {
                        e["code"].as_str().unwrap_or("?").to_owned()
                    })
            })
            .collect()
    };
    let v = run(11);
    assert_eq!(v["indication"], "TOTAL_PASSED", "{v:#}");
    let v = run(8);
    assert_ne!(v["indication"], "TOTAL_PASSED", "{v:#}");
    assert_eq!(codes(&v), ["ok", "ok", "work-budget"], "{v:#}");
    let v = run(4);
    assert_ne!(v["indication"], "TOTAL_PASSED", "{v:#}");
    let c = codes(&v);
    assert!(c.iter().all(|c| c == "work-budget"), "{c:?} {v:#}");
    assert!(
        v.to_string().contains("budget of 4 signature operations"),
        "{v:#}"
    );
}

#[test]
fn a_chain_whose_crl_the_budget_cannot_check_is_not_valid() {
    // Review of the work budget: `verify chain` (and certificate inspection) passed a revoked
    // leaf under `prefer` when the budget ran out before its CRL's signature was checked.
    let dir = scratch("work-budget-chain");
    let script = r#"
openssl req -newkey rsa:2048 -nodes -keyout ca.key -out ca.csr -subj "/CN=Chain CA" 2>/dev/null
openssl x509 -req -in ca.csr -CA root.crt -CAkey root.key -set_serial 10 -days 3650 \
  -extfile ca.ext -out ca.crt 2>/dev/null
openssl req -newkey rsa:2048 -nodes -keyout leaf.key -out leaf.csr -subj "/CN=Revoked Leaf" 2>/dev/null
openssl x509 -req -in leaf.csr -CA ca.crt -CAkey ca.key -set_serial 77 -days 3650 \
  -extfile leaf.ext -out leaf.crt 2>/dev/null
for who in root ca; do : > $who.idx; echo 01 > $who.num; cnf $who ""; done
openssl ca -config ca.cnf -cert ca.crt -keyfile ca.key -revoke leaf.crt 2>/dev/null
openssl ca -gencrl -config root.cnf -cert root.crt -keyfile root.key -out root.crl 2>/dev/null
openssl ca -gencrl -config ca.cnf -cert ca.crt -keyfile ca.key -out ca.crl 2>/dev/null
cat leaf.crt ca.crt > bundle.pem
"#;
    sh(&dir, &format!("ROOT='Chain Root'\n{PKI_PREAMBLE}{script}"));
    let bundle = std::fs::read(dir.join("bundle.pem")).expect("bundle");
    let run = |budget: usize| -> Value {
        let config = offline_config(&dir, "prefer", Some(budget));
        let input = tekser::verify::Input::Chain {
            certificates: &bundle,
            max_depth: None,
        };
        serde_json::to_value(config.verifier.verify(&input, &config.request)).unwrap()
    };
    let v = run(100);
    assert_eq!(v["sub_indication"], "REVOKED", "{v:#}");
    // Two checks build the path; the CRL's signature would be the third.
    let v = run(2);
    assert_eq!(v["indication"], "INDETERMINATE", "{v:#}");
    assert!(v.to_string().contains("work-budget"), "{v:#}");
}
