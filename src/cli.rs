//! The command-line surface (CONTRACT.md "CLI") and the human-readable verdict.

use clap::{Args, Parser, Subcommand};
use std::path::PathBuf;

/// tekser: verify signed documents (CMS today) and certificate chains.
#[derive(Debug, Parser)]
#[command(name = "tekser", version, about)]
pub struct Cli {
    /// What to do.
    #[command(subcommand)]
    pub command: Command,
}

/// Top-level commands.
// Parsed once per run: the size difference between variants costs nothing worth a Box.
#[allow(clippy::large_enum_variant)]
#[derive(Debug, Subcommand)]
pub enum Command {
    /// Verify a signed object (`verify cms|pdf|xml|barcode|chain ...`), or many files at
    /// once: `verify FILE_OR_DIR... [--recursive]` detects each file's format.
    Verify(VerifyArgs),
    /// Run the HTTP verification service (with no options: 127.0.0.1:8080 and the built-in NCA
    /// production trust store, `kz-nca`).
    #[command(after_help = SERVE_HELP, mut_arg("json", |a| a.hide(true)))]
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

/// What `serve --help` adds: where settings come from and the ones with no flag.
const SERVE_HELP: &str = "\
Settings, later ones winning: the config file (--config FILE; every key with its default in
tekser.example.toml), then environment variables, then flags.

Environment:
  TEKSER_LISTEN          address:port to listen on
  TEKSER_TRUST           trust anchors, ':'-separated (files, directories, kz-nca, demo)
  TEKSER_REVOCATION      off | prefer | require
  TEKSER_WORKERS         verification threads (0 = one per core)
  TEKSER_QUEUE_CAPACITY  verifications queued before 503
  TEKSER_ADMIN_TOKEN     bearer token enabling /admin/cache and /admin/trust/reload (16+ chars)
  TEKSER_LOG_FORMAT      text | json (one flat JSON object per stderr line)
  TEKSER_LOG             log filter, e.g. info or tekser=debug,hyper=warn (an invalid one is an error)

In the config file only ([server]):
  tls_cert, tls_key      PEM chain and key: HTTPS with h2 and HTTP/1.1
  log_format             text | json
  admin_token            as TEKSER_ADMIN_TOKEN
  cors_origins           browser origins allowed to call the API (CORS off when empty)

Routes: POST /v1/verify, /v1/verify/batch, /v1/certificates/inspect; GET /healthz, /readyz,
/metrics, /version, /openapi.yaml. Exit: 0 after SIGTERM/SIGINT and the drain, 64 bad
configuration, 66 missing file, 69 address unavailable (busy port).";

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

/// `tekser verify …`: a subcommand for one document, or files and folders for many (#17).
// A first argument that is not a subcommand name is a path: clap tries the subcommands first,
// so a file literally named `pdf` is given as `./pdf`.
#[derive(Debug, Args)]
#[command(args_conflicts_with_subcommands = true, subcommand_negates_reqs = true)]
pub struct VerifyArgs {
    /// One document, by format.
    #[command(subcommand)]
    pub command: Option<VerifyCommand>,
    /// Many documents, each format detected.
    #[command(flatten)]
    pub batch: BatchArgs,
}

/// `tekser verify FILE_OR_DIR... [--recursive]`
#[derive(Debug, Args, Clone)]
pub struct BatchArgs {
    /// Files and folders to verify (a folder: the files in it; with --recursive, also in its
    /// subfolders). Each file's format is detected: PDF, CMS, XML, barcode text, PNG/JPEG.
    #[arg(value_name = "FILE_OR_DIR", required = true)]
    pub paths: Vec<PathBuf>,
    /// Descend into subfolders.
    #[arg(long, short = 'r')]
    pub recursive: bool,
    /// Verification threads (default: one per CPU).
    #[arg(long, value_name = "N")]
    pub jobs: Option<usize>,
    #[command(flatten)]
    pub common: Common,
}

/// `tekser verify <format> …`
#[derive(Debug, Subcommand)]
pub enum VerifyCommand {
    /// CMS / PKCS#7 SignedData (DER, BER, PEM or base64), attached or detached.
    Cms {
        /// The signature file ("-" = stdin).
        #[arg(value_name = "FILE", required_unless_present = "signature")]
        file: Option<PathBuf>,
        /// The signature file (the same as FILE, kept for scripts).
        #[arg(long, value_name = "FILE", conflicts_with = "file")]
        signature: Option<PathBuf>,
        /// The signed content, for a detached signature ("-" = stdin).
        #[arg(long, value_name = "FILE")]
        content: Option<PathBuf>,
        #[command(flatten)]
        common: Common,
    },
    /// A signed PDF: every signature field, byte ranges, later revisions, DocMDP, DSS.
    Pdf {
        /// The PDF file ("-" = stdin).
        #[arg(value_name = "FILE")]
        file: PathBuf,
        #[command(flatten)]
        common: Common,
    },
    /// An XML document with enveloped XML signatures (XMLDSig).
    Xml {
        /// The signed XML document ("-" = stdin).
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
        /// The end-entity certificate ("-" = stdin).
        #[arg(value_name = "LEAF", required_unless_present = "cert")]
        file: Option<PathBuf>,
        /// The end-entity certificate (the same as LEAF, kept for scripts).
        #[arg(long, value_name = "LEAF", conflicts_with = "file")]
        cert: Option<PathBuf>,
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
    /// Validation time, RFC 3339, or a date (YYYY-MM-DD = midnight UTC) (default: now).
    #[arg(long, value_name = "TIME")]
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
