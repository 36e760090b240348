//! Signature algorithms and digests behind one trait.
//!
//! [`SignatureVerifier`] is what the rest of the crate calls; the ring backend implements it for
//! RSA PKCS#1 v1.5, RSA-PSS, ECDSA P-256/P-384 (DER and fixed-size forms) and Ed25519. GOST plugs
//! in later as another implementation. [`resolve`] maps the OIDs found in certificates and CMS
//! (including CMS's "rsaEncryption + separate digestAlgorithm" form) to a verifier, applying the
//! [`AlgorithmPolicy`].

mod algorithm;
mod digest;
pub mod gost;
mod ring_backend;

pub use algorithm::{check_digest, resolve, resolve_named, Resolved, SignatureAlgorithm};
pub use digest::{digest, digest_parts, oid as digest_oid, DigestAlgorithm};
pub use ring_backend::PublicKey;

use thiserror::Error;

/// Verifies one signature over a message with a public key. Implementations hash the message
/// themselves (the digest is part of the algorithm).
pub trait SignatureVerifier: Send + Sync + std::fmt::Debug {
    /// Stable name used in verdicts, e.g. `rsa-pkcs1-sha256`.
    fn name(&self) -> &'static str;
    /// Ok when `signature` is valid for `message` under `key`.
    fn verify(&self, key: &PublicKey, message: &[u8], signature: &[u8]) -> Result<(), CryptoError>;
}

/// Why a signature could not be accepted.
#[derive(Debug, Error, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub enum CryptoError {
    /// The algorithm (or its parameters) is not implemented. Verdict: INDETERMINATE.
    #[error("unsupported algorithm: {0}")]
    Unsupported(String),
    /// The algorithm or key is refused by policy (MD5, SHA-1, RSA < 2048 bits).
    /// Verdict: CRYPTO_CONSTRAINTS_FAILURE.
    #[error("algorithm refused by policy: {0}")]
    Constraints(String),
    /// The public key cannot be used with this algorithm (wrong type, malformed).
    #[error("unusable public key: {0}")]
    BadKey(String),
    /// The mathematics say no. Verdict: SIG_CRYPTO_FAILURE.
    #[error("signature value does not verify")]
    BadSignature,
}

/// Which weak algorithms are tolerated. Secure defaults; the legacy knob says `danger`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Default, serde::Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum Sha1Policy {
    /// SHA-1 signatures fail with CRYPTO_CONSTRAINTS_FAILURE (default).
    #[default]
    Refuse,
    /// SHA-1 signatures are verified (old archives). MD5 and RSA < 2048 stay refused.
    DangerAllowLegacy,
}

/// Algorithm policy applied by [`resolve`].
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct AlgorithmPolicy {
    /// SHA-1 handling.
    pub sha1: Sha1Policy,
    /// Smallest RSA modulus accepted, in bits (default 2048, per ETSI TS 119 312 and NIST SP 800-131A).
    pub min_rsa_bits: usize,
}

impl Default for AlgorithmPolicy {
    fn default() -> Self {
        Self {
            sha1: Sha1Policy::Refuse,
            min_rsa_bits: 2048,
        }
    }
}
