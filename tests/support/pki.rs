//! Test PKIs made by the OpenSSL CLI at run time (certificates whose URLs carry ports chosen
//! now): an independent implementation signs, tekser verifies.

use std::path::Path;
use std::process::Command;

/// Runs `openssl ARGS` in `dir`; a failure fails the test with its stderr.
pub fn openssl(dir: &Path, args: &[&str]) {
    let out = Command::new("openssl")
        .args(args)
        .current_dir(dir)
        .output()
        .expect("openssl runs");
    assert!(
        out.status.success(),
        "openssl {args:?} failed: {}",
        String::from_utf8_lossy(&out.stderr)
    );
}

/// Extensions of the test CAs.
pub const CA_EXTS: &[&str] = &[
    "basicConstraints=critical,CA:true",
    "keyUsage=critical,keyCertSign,cRLSign",
    "subjectKeyIdentifier=hash",
];

/// A self-signed certificate `{name}.crt` (ten years) with its key, extensions as `-addext`.
pub fn self_signed(d: &Path, name: &str, subject: &str, exts: &[&str]) {
    let (key, crt) = (format!("{name}.key"), format!("{name}.crt"));
    let mut args = vec![
        "req", "-x509", "-newkey", "rsa:2048", "-nodes", "-keyout", &key, "-out", &crt, "-subj",
        subject, "-days", "3650",
    ];
    for e in exts {
        args.extend(["-addext", e]);
    }
    openssl(d, &args);
}

/// A new key for `name`, a certificate for it issued by `ca` with the extensions in
/// `{name}.ext` (one year), and `openssl cms -sign` over content.txt as `{name}.p7s`.
pub fn issue_and_sign(d: &Path, name: &str, ca: &str, serial: &str) {
    issue(d, name, ca, serial);
    let f = |ext: &str| format!("{name}.{ext}");
    openssl(
        d,
        &[
            "cms",
            "-sign",
            "-binary",
            "-nodetach",
            "-in",
            "content.txt",
            "-signer",
            &f("crt"),
            "-inkey",
            &f("key"),
            "-outform",
            "DER",
            "-out",
            &f("p7s"),
        ],
    );
}

/// A new RSA key `{name}.key` and a certificate `{name}.crt` (subject `CN=tekser live {name}`)
/// issued by `ca` with the extensions in `{name}.ext`, valid one year.
pub fn issue(d: &Path, name: &str, ca: &str, serial: &str) {
    let f = |ext: &str| format!("{name}.{ext}");
    openssl(
        d,
        &[
            "req",
            "-newkey",
            "rsa:2048",
            "-nodes",
            "-keyout",
            &f("key"),
            "-out",
            &f("csr"),
            "-subj",
            &format!("/CN=tekser live {name}"),
        ],
    );
    openssl(
        d,
        &[
            "x509",
            "-req",
            "-in",
            &f("csr"),
            "-CA",
            &format!("{ca}.crt"),
            "-CAkey",
            &format!("{ca}.key"),
            "-set_serial",
            serial,
            "-days",
            "365",
            "-extfile",
            &f("ext"),
            "-out",
            &f("crt"),
        ],
    );
}

/// `out` (DER): a CRL issued now by the CA `ca.crt`/`ca.key` from the database the OpenSSL
/// config `cnf` names ([`gen_crl_by`]).
pub fn gen_crl(d: &Path, cnf: &str, out: &str) {
    gen_crl_by(d, "ca", cnf, out);
}

/// `out` (DER): a CRL issued now by the CA `{ca}.crt`/`{ca}.key` from the database the
/// OpenSSL config `cnf` names. Written beside and renamed into place, so that a CRL server
/// reading the file never hands out half of it.
pub fn gen_crl_by(d: &Path, ca: &str, cnf: &str, out: &str) {
    let (pem, tmp) = (format!("{out}.pem"), format!("{out}.tmp"));
    let (key, crt) = (format!("{ca}.key"), format!("{ca}.crt"));
    openssl(
        d,
        &[
            "ca", "-gencrl", "-config", cnf, "-keyfile", &key, "-cert", &crt, "-out", &pem,
        ],
    );
    openssl(d, &["crl", "-in", &pem, "-outform", "DER", "-out", &tmp]);
    std::fs::rename(d.join(&tmp), d.join(out)).expect("rename the CRL into place");
}
