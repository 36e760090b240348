//! Trust sets built into the binary, chosen by name where a trust file would go (`--trust
//! kz-nca`, `trust = ["demo"]`).
//!
//! - `kz-nca`, the default when nothing is configured: the National Certification Authority of
//!   Kazakhstan's (НУЦ РК) public production CA certificates, copied with their provenance into
//!   `trust/kz-nca-prod/` (README there) and pinned by SHA-256 in `tests/trust.rs`. The five
//!   self-signed roots are anchors; the CAs under them are path candidates only, so a chain must
//!   still reach a root and each CA is checked as part of it.
//! - `demo`: the test roots of `fixtures/pki`, whose private keys are in the repository. Anyone can
//!   sign with them, so they are used only when asked for, and every signature whose path ends at
//!   one carries a warning saying so.

use std::str::FromStr;

/// One certificate of a built-in set.
#[derive(Debug, Clone, Copy)]
pub struct Builtin {
    /// The file it was copied from (reported by `tekser trust list`).
    pub file: &'static str,
    /// PEM or DER.
    pub bytes: &'static [u8],
}

macro_rules! nca {
    ($f:literal) => {
        Builtin {
            file: concat!("trust/kz-nca-prod/", $f),
            bytes: include_bytes!(concat!("../../trust/kz-nca-prod/", $f)),
        }
    };
}

/// The NCA's self-signed production roots: RSA 2020, GOST 2022 (GOST R 34.10-2015-512), the
/// 2015 RSA and GOST roots (expired 2025-07-27, still needed for documents signed before), and
/// the 2020 GOST root of the state bodies' CA and BTS Digital.
const KZ_NCA_ROOTS: [Builtin; 5] = [
    nca!("root_rsa_2020.der"),
    nca!("root_gost_2022.der"),
    nca!("root_rsa.der"),
    nca!("root_gost.der"),
    nca!("root_gost_2020.der"),
];

/// The CAs under those roots that issue end-entity certificates.
const KZ_NCA_CAS: [Builtin; 6] = [
    nca!("nca_rsa_2022.der"),
    nca!("nca_gost_2022.der"),
    nca!("nca_rsa.der"),
    nca!("nca_gost.der"),
    nca!("ucgo_gost.der"),
    nca!("btsd_gost.der"),
];

/// The fixtures' test roots (private keys committed: never for production).
const DEMO_ROOTS: [Builtin; 2] = [
    Builtin {
        file: "fixtures/pki/rsa-root.crt",
        bytes: include_bytes!("../../fixtures/pki/rsa-root.crt"),
    },
    Builtin {
        file: "fixtures/pki/ec-root.crt",
        bytes: include_bytes!("../../fixtures/pki/ec-root.crt"),
    },
];

/// A named trust set.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum TrustSet {
    /// The NCA's production CAs (the default).
    KzNca,
    /// The fixtures' test roots.
    Demo,
}

impl TrustSet {
    /// Every set, for help texts.
    pub const ALL: [TrustSet; 2] = [TrustSet::KzNca, TrustSet::Demo];

    /// The name used on the command line and in config.
    pub fn name(self) -> &'static str {
        match self {
            TrustSet::KzNca => "kz-nca",
            TrustSet::Demo => "demo",
        }
    }

    /// Its trust anchors.
    pub fn anchors(self) -> &'static [Builtin] {
        match self {
            TrustSet::KzNca => &KZ_NCA_ROOTS,
            TrustSet::Demo => &DEMO_ROOTS,
        }
    }

    /// Certificates offered for path building (not trusted by themselves).
    pub fn intermediates(self) -> &'static [Builtin] {
        match self {
            TrustSet::KzNca => &KZ_NCA_CAS,
            TrustSet::Demo => &[],
        }
    }

    /// True for sets whose private keys are public.
    pub fn is_demo(self) -> bool {
        self == TrustSet::Demo
    }
}

impl FromStr for TrustSet {
    type Err = ();
    /// A set by name. A file called `demo` in the current directory is still reachable as
    /// `./demo`: names are matched exactly, paths never contain only these letters.
    fn from_str(s: &str) -> Result<Self, ()> {
        TrustSet::ALL.into_iter().find(|t| t.name() == s).ok_or(())
    }
}

/// True when `fingerprint` (SHA-256 of the DER) is one of the demo roots, however loaded.
pub fn is_demo_root(fingerprint: &[u8; 32]) -> bool {
    static FINGERPRINTS: std::sync::OnceLock<Vec<[u8; 32]>> = std::sync::OnceLock::new();
    FINGERPRINTS
        .get_or_init(|| {
            DEMO_ROOTS
                .iter()
                .filter_map(|b| super::trust::parse_bundle(b.bytes).ok())
                .flatten()
                .map(|c| c.fingerprint)
                .collect()
        })
        .contains(fingerprint)
}

/// The warning every signature whose path ends at a demo anchor carries.
pub const DEMO_WARNING: &str = "the certificate chain ends at a DEMO trust anchor (the test roots of fixtures/pki, whose private keys are public): anyone can make such a signature";
