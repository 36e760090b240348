//! The command-line surface (CONTRACT.md "CLI") and the human-readable verdict.

use clap::{Args, Parser, Subcommand};
use std::path::PathBuf;
use tekser::verdict::{Indication, Verdict};

/// tekser: verify signed documents (CMS today) and certificate chains.
#[derive(Debug, Parser)]
#[command(name = "tekser", version, about)]
pub struct Cli {
    /// What to do.
    #[command(subcommand)]
    pub command: Command,
}

/// Top-level commands.
#[derive(Debug, Subcommand)]
pub enum Command {
    /// Verify a signed object.
    #[command(subcommand)]
    Verify(VerifyCommand),
    /// Run the HTTP verification service (with no options: 127.0.0.1:8080 and the built-in NCA
    /// production trust store, `kz-nca`).
    Serve {
        /// TOML configuration file.
        #[arg(long, value_name = "FILE")]
        config: Option<PathBuf>,
        /// Address to listen on (default 127.0.0.1:8080).
        #[arg(long, value_name = "ADDR")]
        listen: Option<String>,
        /// Trust the demo roots of fixtures/pki (private keys public: for trying the bundled
        /// samples only). Alone, instead of `kz-nca`; with `--trust`, in addition.
        #[arg(long)]
        demo: bool,
        #[command(flatten)]
        common: Common,
    },
    /// The trust store.
    #[command(subcommand)]
    Trust(TrustCommand),
}

/// `tekser trust …`
#[derive(Debug, Subcommand)]
pub enum TrustCommand {
    /// The effective trust anchors: subject, SHA-256, validity, key algorithm, origin.
    List {
        /// Print a JSON array on stdout.
        #[arg(long)]
        json: bool,
        /// Trust anchors: a built-in set (`kz-nca`, `demo`), a PEM or DER file, or a directory
        /// (repeatable; default `kz-nca`).
        #[arg(long, value_name = "SET_OR_FILE")]
        trust: Vec<PathBuf>,
        /// The server's TOML configuration file, to list what it would trust.
        #[arg(long, value_name = "FILE")]
        config: Option<PathBuf>,
    },
}

/// `tekser verify …`
#[derive(Debug, Subcommand)]
pub enum VerifyCommand {
    /// CMS / PKCS#7 SignedData (DER, BER, PEM or base64), attached or detached.
    Cms {
        /// The signature file.
        #[arg(long, value_name = "FILE")]
        signature: PathBuf,
        /// The signed content, for a detached signature.
        #[arg(long, value_name = "FILE")]
        content: Option<PathBuf>,
        #[command(flatten)]
        common: Common,
    },
    /// A signed PDF: every signature field, byte ranges, later revisions, DocMDP, DSS.
    Pdf {
        /// The PDF file.
        #[arg(value_name = "FILE")]
        file: PathBuf,
        #[command(flatten)]
        common: Common,
    },
    /// An XML document with enveloped XML signatures (XMLDSig).
    Xml {
        /// The signed XML document.
        #[arg(value_name = "FILE")]
        file: PathBuf,
        #[command(flatten)]
        common: Common,
    },
    /// A 2D-barcode set: egov.kz e-certificate or SIGEX document-card parts, in any order.
    Barcode {
        /// One scanned payload per file; "-" reads one payload per line from stdin.
        // With --image the payloads come from the image: files beside it would be ignored
        // silently, so the two conflict (a usage error, 64).
        #[arg(
            value_name = "FILE",
            required_unless_present = "image",
            conflicts_with = "image"
        )]
        files: Vec<PathBuf>,
        /// A PNG or JPEG scan or photo with the QR codes (repeatable) instead of payload files.
        #[arg(long, value_name = "FILE")]
        image: Vec<PathBuf>,
        /// The signed document of a SIGEX document card (to check the signature fully).
        #[arg(long, value_name = "FILE")]
        content: Option<PathBuf>,
        #[command(flatten)]
        common: Common,
    },
    /// A certificate (PEM or DER; further certificates in the file are path candidates).
    Chain {
        /// The end-entity certificate.
        #[arg(long, value_name = "LEAF")]
        cert: PathBuf,
        /// Most intermediate certificates between the leaf and a trust anchor (as OpenSSL's
        /// -verify_depth counts; self-issued ones are free).
        #[arg(long, value_name = "N")]
        max_depth: Option<usize>,
        #[command(flatten)]
        policy: PolicyArgs,
        #[command(flatten)]
        common: Common,
    },
}

/// Certificate policy inputs of `verify chain` (RFC 5280 §6.1.1 (c), (e)-(g)).
#[derive(Debug, Args, Clone)]
pub struct PolicyArgs {
    /// Acceptable certificate policy OID (repeatable; default: any policy).
    #[arg(long = "policy", value_name = "OID")]
    pub policies: Vec<String>,
    /// The path must be valid for at least one acceptable policy (initial-explicit-policy).
    #[arg(long)]
    pub require_explicit_policy: bool,
    /// Do not follow policy mappings (initial-policy-mapping-inhibit).
    #[arg(long)]
    pub inhibit_policy_mapping: bool,
    /// anyPolicy in a certificate does not stand for other policies (initial-any-policy-inhibit).
    #[arg(long)]
    pub inhibit_any_policy: bool,
}

impl PolicyArgs {
    /// As the config section it overrides.
    pub fn settings(&self) -> tekser::config::CertPolicySettings {
        tekser::config::CertPolicySettings {
            policies: self.policies.clone(),
            require_explicit_policy: self.require_explicit_policy,
            inhibit_policy_mapping: self.inhibit_policy_mapping,
            inhibit_any_policy: self.inhibit_any_policy,
        }
    }
}

/// Options every verify command takes.
#[derive(Debug, Args, Clone)]
pub struct Common {
    /// Trust anchors: a built-in set (`kz-nca`, the default; `demo`), a PEM or DER file, or a
    /// directory of them (repeatable).
    #[arg(long, value_name = "SET_OR_FILE")]
    pub trust: Vec<PathBuf>,
    /// Extra untrusted certificates for path building (repeatable).
    #[arg(long, value_name = "FILE")]
    pub intermediate: Vec<PathBuf>,
    /// CRLs to use offline (repeatable).
    #[arg(long, value_name = "FILE")]
    pub crl: Vec<PathBuf>,
    /// Hosts/CIDRs revocation fetches may reach even if loopback/private (repeatable).
    #[arg(long, value_name = "NET")]
    pub fetch_allow: Vec<String>,
    /// Validation time, RFC 3339 (default: now).
    #[arg(long, value_name = "RFC3339")]
    pub at: Option<String>,
    /// off | prefer | require (default prefer).
    #[arg(long, value_name = "MODE")]
    pub revocation: Option<String>,
    /// Which PDF page images are read for QR codes: auto (unsigned PDFs and e-certificate-like
    /// pages, images showing QR finder patterns; default) | always | never.
    #[arg(long, value_name = "MODE")]
    pub barcodes: Option<tekser::verify::BarcodeMode>,
    /// Accept SHA-1 signatures (legacy archives). MD5 and RSA < 2048 stay refused.
    #[arg(long)]
    pub danger_allow_sha1: bool,
    /// Documents signed with an authentication-only key: warn (default) or refuse.
    #[arg(long, value_name = "POLICY")]
    pub auth_key_signatures: Option<tekser::verify::AuthKeyPolicy>,
    /// Print the verdict JSON on stdout.
    #[arg(long)]
    pub json: bool,
}

/// A string from a document or certificate, made safe for a terminal: control characters (C0
/// other than none, DEL, C1), bidirectional controls (U+061C, U+200E/F, U+202A–U+202E,
/// U+2066–U+2069) and other invisible format characters (zero-width, line/paragraph
/// separators, BOM) are written as `\u{XXXX}`. A right-to-left override in a certificate name
/// would otherwise reorder what a person reads ("Signer\u{202E}fdp.exe").
pub fn escape_text(s: &str) -> std::borrow::Cow<'_, str> {
    fn hidden(c: char) -> bool {
        c.is_control()
            || matches!(
                c,
                '\u{061C}'
                    | '\u{180E}'
                    | '\u{200B}'..='\u{200F}'
                    | '\u{2028}'..='\u{202E}'
                    | '\u{2060}'..='\u{2069}'
                    | '\u{FEFF}'
                    | '\u{FFF9}'..='\u{FFFB}'
            )
    }
    if !s.chars().any(hidden) {
        return std::borrow::Cow::Borrowed(s);
    }
    let mut out = String::with_capacity(s.len() + 16);
    for c in s.chars() {
        if hidden(c) {
            out.push_str(&format!("\\u{{{:04X}}}", u32::from(c)));
        } else {
            out.push(c);
        }
    }
    std::borrow::Cow::Owned(out)
}

/// Renders a verdict for people. Every string that came from the input goes through
/// [`escape_text`].
pub fn render_text(v: &Verdict) -> String {
    use std::fmt::Write;
    let mut out = String::new();
    let sub = |s: Option<tekser::verdict::SubIndication>| {
        s.map(|s| format!(" / {s:?}")).unwrap_or_default()
    };
    let _ = writeln!(
        out,
        "{:?}{} ({:?})",
        v.indication(),
        sub(v.sub_indication()),
        v.format
    );
    let esc = escape_text;
    for e in &v.errors {
        let _ = writeln!(out, "  error: {}: {}", e.code, esc(&e.message));
    }
    if let Some(doc) = &v.document {
        // Line by line: the pretty printer's own line ends stay, a string's are escaped.
        let json = serde_json::to_string_pretty(doc).unwrap_or_default();
        let lines: Vec<_> = json.lines().map(esc).collect();
        let _ = writeln!(out, "  document: {}", lines.join("\n  "));
    }
    if let Some(u) = &v.unsigned {
        let _ = writeln!(
            out,
            "  unsigned (no signature covers these): {}",
            serde_json::to_string(u).unwrap_or_default()
        );
    }
    for (i, s) in v.signatures.iter().enumerate() {
        let mark = if s.indication() == Indication::TOTAL_PASSED {
            "ok"
        } else {
            "!!"
        };
        let _ = writeln!(
            out,
            "[{mark}] signature {}: {:?}{}  {}",
            i + 1,
            s.indication(),
            sub(s.sub_indication()),
            esc(s.algorithm.as_deref().unwrap_or("?"))
        );
        if let Some(signer) = &s.signer {
            let _ = writeln!(
                out,
                "     signer:  {} (serial {})",
                esc(&signer.subject),
                esc(&signer.serial)
            );
            let _ = writeln!(out, "     issuer:  {}", esc(&signer.issuer));
            if !signer.roles.is_empty() {
                let _ = writeln!(out, "     roles:   {}", esc(&signer.roles.join(", ")));
            }
            if let Some(iin) = &signer.iin {
                let _ = writeln!(out, "     IIN:     {}", esc(iin));
            }
            if let Some(bin) = &signer.bin {
                let _ = writeln!(out, "     BIN:     {}", esc(bin));
            }
        }
        if let Some(d) = &s.signed_data {
            let _ = writeln!(out, "     covers:  {}", esc(&d.to_string()));
        }
        if let Some(t) = &s.signing_time {
            let _ = writeln!(out, "     signed:  {}", esc(&t.to_string()));
        }
        if let Some(c) = &s.claimed_time {
            let then = if c.chain_valid {
                "the certificate chain was valid then".to_owned()
            } else {
                format!(
                    "the chain was not valid then either ({})",
                    esc(c.reason.as_deref().unwrap_or("no reason given"))
                )
            };
            let _ = writeln!(
                out,
                "     claimed: the document says it was signed at {} ({}{}): {then}; nothing independent proves that time (revocation at that time was not checked)",
                esc(&c.time),
                c.source,
                if c.signed { ", signed" } else { ", not signed" }
            );
        }
        for (j, c) in s.chain.iter().enumerate() {
            let anchor = if c.trust_anchor {
                "  (trust anchor)"
            } else {
                ""
            };
            let _ = writeln!(
                out,
                "     chain {j}: {}  [{} .. {}]{anchor}",
                esc(&c.subject),
                esc(&c.not_before.to_string()),
                esc(&c.not_after.to_string())
            );
        }
        let _ = writeln!(
            out,
            "     revocation: {} ({})",
            esc(&s.revocation.status.to_string()),
            esc(&s.revocation.source.to_string())
        );
        for w in &s.warnings {
            let _ = writeln!(out, "     warning: {}", esc(&w.to_string()));
        }
        for e in &s.errors {
            let _ = writeln!(out, "     error:   {}: {}", e.code, esc(&e.message));
        }
    }
    out
}
