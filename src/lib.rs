//! tekser verifies signed documents: CMS signatures and X.509 certificate chains today; revocation,
//! XMLDSig, Kazakh e-certificate barcodes and signed PDFs build on the same core.
//!
//! Data flows down the module list and the verdict flows back up:
//!
//! | module      | owns |
//! |-------------|------|
//! | [`formats`] | untrusted bytes → signed objects (CMS today) |
//! | [`crypto`]  | signature algorithms behind one trait, OID table, algorithm policy |
//! | [`pki`]     | certificates, trust anchors, path building with a work budget, path cache |
//! | [`verify`]  | the pipeline: format → crypto → chain → revocation → policy → verdict |
//! | [`verdict`] | the ETSI EN 319 102-1 result model and its JSON |
//! | [`asn1`]    | the byte-level cursor, BER→DER, and the only use of the der 0.7 family |
//! | [`http`]    | the HTTP edge (`tekser serve`): hyper, tokio, the rayon pool, metrics |
//! | [`config`]  | raw configuration (file, environment, flags) → validated configuration |
//! | [`input`]   | reading a named input file with a size and a stall bound |
//!
//! The core (`formats`, `crypto`, `pki`, `verify`) never does network I/O and never imports
//! hyper or tokio; the CLI, the HTTP server and the benches call [`verify::Verifier`] the same way.
//!
//! Cargo features: none yet; every capability is in the default build.
#![forbid(unsafe_code)]
#![deny(missing_docs)]
#![cfg_attr(
    not(test),
    warn(clippy::unwrap_used, clippy::expect_used, clippy::indexing_slicing)
)]

pub mod asn1;
pub mod config;
pub mod crypto;
pub mod detect;
pub mod formats;
pub mod http;
pub mod input;
pub mod limits;
pub mod pki;
pub mod revocation;
pub mod verdict;
pub mod verify;
