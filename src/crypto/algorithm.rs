//! OID → algorithm table and the algorithm policy.

use super::digest::{oid as digest_oid, DigestAlgorithm};
use super::ring_backend::{self as rb, key_oid, PublicKey};
use super::{AlgorithmPolicy, CryptoError, Sha1Policy, SignatureVerifier};
use crate::asn1::{tag, AlgorithmId, Oid, Tlv};

/// Signature algorithm OIDs (RFC 4055, RFC 5758, RFC 8410).
pub mod sig_oid {
    use super::Oid;
    /// md5WithRSAEncryption
    pub const MD5_RSA: Oid = Oid::new_unwrap("1.2.840.113549.1.1.4");
    /// sha1WithRSAEncryption
    pub const SHA1_RSA: Oid = Oid::new_unwrap("1.2.840.113549.1.1.5");
    /// sha256WithRSAEncryption
    pub const SHA256_RSA: Oid = Oid::new_unwrap("1.2.840.113549.1.1.11");
    /// sha384WithRSAEncryption
    pub const SHA384_RSA: Oid = Oid::new_unwrap("1.2.840.113549.1.1.12");
    /// sha512WithRSAEncryption
    pub const SHA512_RSA: Oid = Oid::new_unwrap("1.2.840.113549.1.1.13");
    /// id-RSASSA-PSS
    pub const RSA_PSS: Oid = Oid::new_unwrap("1.2.840.113549.1.1.10");
    /// id-mgf1
    pub const MGF1: Oid = Oid::new_unwrap("1.2.840.113549.1.1.8");
    /// ecdsa-with-SHA1
    pub const ECDSA_SHA1: Oid = Oid::new_unwrap("1.2.840.10045.4.1");
    /// ecdsa-with-SHA256
    pub const ECDSA_SHA256: Oid = Oid::new_unwrap("1.2.840.10045.4.3.2");
    /// ecdsa-with-SHA384
    pub const ECDSA_SHA384: Oid = Oid::new_unwrap("1.2.840.10045.4.3.3");
    /// ecdsa-with-SHA512
    pub const ECDSA_SHA512: Oid = Oid::new_unwrap("1.2.840.10045.4.3.4");
    /// GOST R 34.10-2015 512-bit with Streebog-512, under the NCA's arc (KZ).
    pub const GOST2015_512_KZ: Oid = Oid::new_unwrap("1.2.398.3.10.1.1.2.3.2");
    /// GOST 34.310-2004 with GOST 34.311-95, under the NCA's arc (KZ).
    pub const GOST34310_2004_KZ: Oid = Oid::new_unwrap("1.2.398.3.10.1.1.1.2");
    /// The same algorithm under the arc Kalkan also uses.
    pub const GOST34310_2004_ALT: Oid = Oid::new_unwrap("1.3.6.1.4.1.6801.1.2.2");
    /// GOST R 34.10-2015 256-bit with Streebog-256, under the NCA's arc (KZ).
    pub const GOST2015_256_KZ: Oid = Oid::new_unwrap("1.2.398.3.10.1.1.2.3.1");
    /// id-tc26-signwithdigest-gost3410-12-256 (RFC 9215).
    pub const GOST2012_256: Oid = Oid::new_unwrap("1.2.643.7.1.1.3.2");
    /// id-tc26-signwithdigest-gost3410-12-512 (RFC 9215).
    pub const GOST2012_512: Oid = Oid::new_unwrap("1.2.643.7.1.1.3.3");
    /// id-GostR3411-94-with-GostR3410-2001 (RFC 4491).
    pub const GOST2001: Oid = Oid::new_unwrap("1.2.643.2.2.3");
}

/// The algorithms the crate can name, independent of how they were encoded.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum SignatureAlgorithm {
    /// RSASSA-PKCS1-v1_5 with the given digest.
    RsaPkcs1(DigestAlgorithm),
    /// RSASSA-PSS with MGF1 of the same digest and salt length = digest length.
    RsaPss(DigestAlgorithm),
    /// ECDSA, DER-encoded (r, s); the curve comes from the key.
    Ecdsa(DigestAlgorithm),
    /// ECDSA, fixed-size r‖s (IEEE P1363, XMLDSig, JWS); the curve comes from the key.
    EcdsaFixed(DigestAlgorithm),
    /// Ed25519 (RFC 8032, pure).
    Ed25519,
    /// GOST R 34.10-2015 512-bit with Streebog-512 (NCA encoding).
    Gost2015_512,
    /// GOST R 34.10-2015 256-bit with Streebog-256 (NCA encoding).
    Gost2015_256,
    /// GOST 34.310-2004 with GOST 34.311-95 (NCA encoding).
    Gost34310_2004,
    /// GOST R 34.10-2012 512-bit with Streebog-512 (RFC 9215 encoding).
    Gost2012_512,
    /// GOST R 34.10-2012 256-bit with Streebog-256 (RFC 9215 encoding).
    Gost2012_256,
    /// GOST R 34.10-2001 with GOST R 34.11-94 CryptoPro (RFC 4491 encoding).
    Gost2001,
}

impl SignatureAlgorithm {
    /// The digest the signature computes over its message, for the hash-based algorithms whose
    /// digest is a parameter (RSA, ECDSA); None for Ed25519 and GOST (fixed hashes).
    pub fn digest(self) -> Option<DigestAlgorithm> {
        match self {
            Self::RsaPkcs1(d) | Self::RsaPss(d) | Self::Ecdsa(d) | Self::EcdsaFixed(d) => Some(d),
            _ => None,
        }
    }

    /// The GOST verifier for a GOST algorithm.
    fn gost(self) -> Option<&'static super::gost::GostVerifier> {
        use super::gost as g;
        Some(match self {
            Self::Gost2015_512 => &g::GOST2015_512,
            Self::Gost2015_256 => &g::GOST2015_256,
            Self::Gost34310_2004 => &g::GOST34310_2004,
            Self::Gost2012_512 => &g::GOST2012_512,
            Self::Gost2012_256 => &g::GOST2012_256,
            Self::Gost2001 => &g::GOST2001,
            _ => return None,
        })
    }
}

/// A verifier chosen for one signature, and the digest CMS's messageDigest uses.
#[derive(Debug, Clone, Copy)]
pub struct Resolved {
    /// The verifier.
    pub verifier: &'static dyn SignatureVerifier,
    /// The algorithm.
    pub algorithm: SignatureAlgorithm,
}

/// The algorithm policy for a digest on its own: MD5 always refused, SHA-1 unless the legacy
/// setting allows it. Applied to every hash that binds signed data, not only the one named by a
/// signature OID: a CMS `digestAlgorithm` (the messageDigest over the content) and an RFC 3161
/// message imprint bind the document just as strongly, so a SHA-1 collision there forges it.
pub fn check_digest(d: DigestAlgorithm, policy: &AlgorithmPolicy) -> Result<(), CryptoError> {
    match d {
        DigestAlgorithm::Md5 => Err(CryptoError::Constraints("MD5 is broken".into())),
        DigestAlgorithm::Sha1 if policy.sha1 == Sha1Policy::Refuse => {
            Err(CryptoError::Constraints(
                "SHA-1 is refused (allow only with --danger-allow-sha1, or danger_allow_sha1 = true in the configuration)".into(),
            ))
        }
        _ => Ok(()),
    }
}

/// Picks the verifier for a named algorithm and key, applying `policy`.
pub fn resolve_named(
    alg: SignatureAlgorithm,
    key: &PublicKey,
    policy: &AlgorithmPolicy,
) -> Result<Resolved, CryptoError> {
    use DigestAlgorithm as D;
    use SignatureAlgorithm as S;
    if let S::RsaPkcs1(d) | S::RsaPss(d) | S::Ecdsa(d) | S::EcdsaFixed(d) = alg {
        check_digest(d, policy)?;
    }
    if let PublicKey::Rsa { bits, .. } = key {
        // A modulus that is not a whole number of bytes comes from a broken key generator
        // (CA/B Forum BR 6.1.5; webpki refuses it too).
        if bits % 8 != 0 {
            return Err(CryptoError::Constraints(format!(
                "RSA modulus of {bits} bits is not a multiple of 8"
            )));
        }
        if *bits < policy.min_rsa_bits {
            return Err(CryptoError::Constraints(format!(
                "RSA key of {bits} bits is under the {} bit minimum",
                policy.min_rsa_bits
            )));
        }
    }
    if let PublicKey::Other { algorithm, .. } = key {
        return Err(CryptoError::Unsupported(describe_unknown(algorithm)));
    }
    if let Some(g) = alg.gost() {
        return match key {
            PublicKey::Gost { family, .. } if *family == g.family() => Ok(Resolved {
                verifier: g,
                algorithm: alg,
            }),
            _ => Err(CryptoError::BadKey(format!(
                "{alg:?} cannot be used with {}",
                key.describe()
            ))),
        };
    }
    let unsupported = || CryptoError::Unsupported(format!("{alg:?} with {}", key.describe()));
    let v: &'static rb::RingVerifier = match (alg, key) {
        (S::RsaPkcs1(D::Sha1), PublicKey::Rsa { .. }) => &rb::RSA_PKCS1_SHA1,
        (S::RsaPkcs1(D::Sha256), PublicKey::Rsa { .. }) => &rb::RSA_PKCS1_SHA256,
        (S::RsaPkcs1(D::Sha384), PublicKey::Rsa { .. }) => &rb::RSA_PKCS1_SHA384,
        (S::RsaPkcs1(D::Sha512), PublicKey::Rsa { .. }) => &rb::RSA_PKCS1_SHA512,
        (S::RsaPss(D::Sha256), PublicKey::Rsa { .. }) => &rb::RSA_PSS_SHA256,
        (S::RsaPss(D::Sha384), PublicKey::Rsa { .. }) => &rb::RSA_PSS_SHA384,
        (S::RsaPss(D::Sha512), PublicKey::Rsa { .. }) => &rb::RSA_PSS_SHA512,
        (S::Ecdsa(D::Sha256), PublicKey::P256(_)) => &rb::ECDSA_P256_SHA256,
        (S::Ecdsa(D::Sha384), PublicKey::P256(_)) => &rb::ECDSA_P256_SHA384,
        (S::Ecdsa(D::Sha256), PublicKey::P384(_)) => &rb::ECDSA_P384_SHA256,
        (S::Ecdsa(D::Sha384), PublicKey::P384(_)) => &rb::ECDSA_P384_SHA384,
        (S::EcdsaFixed(D::Sha256), PublicKey::P256(_)) => &rb::ECDSA_P256_SHA256_FIXED,
        (S::EcdsaFixed(D::Sha384), PublicKey::P384(_)) => &rb::ECDSA_P384_SHA384_FIXED,
        (S::Ed25519, PublicKey::Ed25519(_)) => &rb::ED25519,
        (S::RsaPkcs1(_) | S::RsaPss(_), _)
        | (S::Ecdsa(_) | S::EcdsaFixed(_), PublicKey::Rsa { .. } | PublicKey::Ed25519(_))
        | (S::Ed25519, _) => {
            return Err(CryptoError::BadKey(format!(
                "{alg:?} cannot be used with {}",
                key.describe()
            )))
        }
        _ => return Err(unsupported()),
    };
    Ok(Resolved {
        verifier: v,
        algorithm: alg,
    })
}

/// Resolves a signature AlgorithmIdentifier (from a certificate, or a CMS `signatureAlgorithm`),
/// with `digest` the CMS `digestAlgorithm` when the signature OID names only the key type
/// (`rsaEncryption`, `id-ecPublicKey`).
pub fn resolve(
    sig: &AlgorithmId,
    digest: Option<DigestAlgorithm>,
    key: &PublicKey,
    policy: &AlgorithmPolicy,
) -> Result<Resolved, CryptoError> {
    use DigestAlgorithm as D;
    use SignatureAlgorithm as S;
    let need_digest = || {
        digest.ok_or_else(|| {
            CryptoError::Unsupported(format!("signature algorithm {} without a digest", sig.oid))
        })
    };
    let alg = match sig.oid {
        sig_oid::MD5_RSA => S::RsaPkcs1(D::Md5),
        sig_oid::SHA1_RSA => S::RsaPkcs1(D::Sha1),
        sig_oid::SHA256_RSA => S::RsaPkcs1(D::Sha256),
        sig_oid::SHA384_RSA => S::RsaPkcs1(D::Sha384),
        sig_oid::SHA512_RSA => S::RsaPkcs1(D::Sha512),
        key_oid::RSA => S::RsaPkcs1(need_digest()?),
        sig_oid::RSA_PSS => S::RsaPss(pss_digest(sig)?),
        sig_oid::ECDSA_SHA1 => S::Ecdsa(D::Sha1),
        sig_oid::ECDSA_SHA256 => S::Ecdsa(D::Sha256),
        sig_oid::ECDSA_SHA384 => S::Ecdsa(D::Sha384),
        sig_oid::ECDSA_SHA512 => S::Ecdsa(D::Sha512),
        key_oid::EC => S::Ecdsa(need_digest()?),
        key_oid::ED25519 => S::Ed25519,
        sig_oid::GOST2015_512_KZ => S::Gost2015_512,
        sig_oid::GOST2015_256_KZ => S::Gost2015_256,
        sig_oid::GOST34310_2004_KZ | sig_oid::GOST34310_2004_ALT => S::Gost34310_2004,
        sig_oid::GOST2012_512 => S::Gost2012_512,
        sig_oid::GOST2012_256 => S::Gost2012_256,
        sig_oid::GOST2001 => S::Gost2001,
        // CMS may name the key algorithm and put the hash in digestAlgorithm (RFC 4490 §3.2).
        key_oid::GOST2012_512 => S::Gost2012_512,
        key_oid::GOST2012_256 => S::Gost2012_256,
        key_oid::GOST2001 => S::Gost2001,
        key_oid::GOST2015_512_KZ => S::Gost2015_512,
        key_oid::GOST2015_256_KZ => S::Gost2015_256,
        key_oid::GOST34310_2004_KZ => S::Gost34310_2004,
        other => return Err(CryptoError::Unsupported(describe_unknown(&other))),
    };
    // RFC 8410 §3 and RFC 4055 §5: these OIDs carry no parameters (PSS is handled above).
    if matches!(alg, S::Ed25519 | S::Ecdsa(_)) && sig.params.is_some() && sig.oid != key_oid::EC {
        return Err(CryptoError::Unsupported(format!(
            "parameters present on {}",
            sig.oid
        )));
    }
    resolve_named(alg, key, policy)
}

/// RSASSA-PSS-params (RFC 4055 §3.1): only MGF1 with the same hash, salt = hash length and
/// trailerField 1 are supported (what ring implements and what every real signer emits).
fn pss_digest(sig: &AlgorithmId) -> Result<DigestAlgorithm, CryptoError> {
    let bad = |why: &str| CryptoError::Unsupported(format!("RSASSA-PSS parameters: {why}"));
    let tlv = sig
        .params_tlv()
        .ok_or_else(|| bad("absent (SHA-1 defaults)"))?
        .map_err(|e| bad(&e.to_string()))?;
    let parse = || -> Result<(Oid, Option<Oid>, u32, u32), crate::asn1::Asn1Error> {
        let mut r = tlv.expect(tag::SEQUENCE)?.reader();
        let hash = match r.read_optional(tag::context_constructed(0))? {
            Some(t) => AlgorithmId::parse(Tlv::parse_exact(t.value)?)?.oid,
            None => digest_oid::SHA1,
        };
        let mgf_hash = match r.read_optional(tag::context_constructed(1))? {
            Some(t) => {
                let mgf = AlgorithmId::parse(Tlv::parse_exact(t.value)?)?;
                if mgf.oid != sig_oid::MGF1 {
                    None
                } else {
                    match mgf.params_tlv() {
                        Some(p) => Some(AlgorithmId::parse(p?)?.oid),
                        None => None,
                    }
                }
            }
            None => Some(digest_oid::SHA1),
        };
        let salt = match r.read_optional(tag::context_constructed(2))? {
            Some(t) => Tlv::parse_exact(t.value)?.small_uint()?,
            None => 20,
        };
        let trailer = match r.read_optional(tag::context_constructed(3))? {
            Some(t) => Tlv::parse_exact(t.value)?.small_uint()?,
            None => 1,
        };
        r.finish()?;
        Ok((hash, mgf_hash, salt, trailer))
    };
    let (hash, mgf_hash, salt, trailer) = parse().map_err(|e| bad(&e.to_string()))?;
    let d = DigestAlgorithm::from_oid(&hash)?;
    if mgf_hash != Some(hash) {
        return Err(bad("MGF1 hash differs from the message hash"));
    }
    let expected_salt = match d {
        DigestAlgorithm::Sha1 => 20,
        DigestAlgorithm::Sha256 => 32,
        DigestAlgorithm::Sha384 => 48,
        DigestAlgorithm::Sha512 => 64,
        DigestAlgorithm::Md5 => 16,
        DigestAlgorithm::Streebog256
        | DigestAlgorithm::Streebog512
        | DigestAlgorithm::Gost34311
        | DigestAlgorithm::Gost94CryptoPro => return Err(bad("a GOST hash with RSA-PSS")),
    };
    if salt != expected_salt || trailer != 1 {
        return Err(bad(
            "salt length other than the hash length, or trailerField != 1",
        ));
    }
    Ok(d)
}

/// A readable name for algorithms we know of but do not implement yet.
pub(crate) fn describe_unknown(o: &Oid) -> String {
    let s = o.to_string();
    let gost = s.starts_with("1.2.398.3.10.1.")
        || s.starts_with("1.3.6.1.4.1.6801.1.2")
        || s.starts_with("1.2.643.");
    if gost {
        format!(
            "GOST algorithm {s} (supported: GOST 34.310-2004, GOST R 34.10-2001, GOST R 34.10-2012/2015 256 and 512 on the CryptoPro and TC26 parameter sets)"
        )
    } else {
        format!("algorithm {s}")
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn policy_refuses_weak_algorithms() {
        let key = PublicKey::Rsa {
            der: vec![],
            bits: 2048,
            parsed: Default::default(),
        };
        let p = AlgorithmPolicy::default();
        let sha1 = AlgorithmId {
            oid: sig_oid::SHA1_RSA,
            params: None,
        };
        assert!(matches!(
            resolve(&sha1, None, &key, &p),
            Err(CryptoError::Constraints(_))
        ));
        let legacy = AlgorithmPolicy {
            sha1: Sha1Policy::DangerAllowLegacy,
            ..p
        };
        assert!(resolve(&sha1, None, &key, &legacy).is_ok());
        let md5 = AlgorithmId {
            oid: sig_oid::MD5_RSA,
            params: None,
        };
        assert!(matches!(
            resolve(&md5, None, &key, &legacy),
            Err(CryptoError::Constraints(_))
        ));
        let small = PublicKey::Rsa {
            der: vec![],
            bits: 1024,
            parsed: Default::default(),
        };
        let sha256 = AlgorithmId {
            oid: sig_oid::SHA256_RSA,
            params: None,
        };
        assert!(matches!(
            resolve(&sha256, None, &small, &p),
            Err(CryptoError::Constraints(_))
        ));
        // CMS form: rsaEncryption + digestAlgorithm.
        let rsa = AlgorithmId {
            oid: key_oid::RSA,
            params: None,
        };
        let r = resolve(&rsa, Some(DigestAlgorithm::Sha256), &key, &p).unwrap();
        assert_eq!(r.verifier.name(), "rsa-pkcs1-sha256");
        let gost = AlgorithmId {
            oid: Oid::new_unwrap("1.2.643.7.1.1.3.9"), // no such GOST algorithm
            params: None,
        };
        match resolve(&gost, None, &key, &p) {
            Err(CryptoError::Unsupported(m)) => assert!(m.contains("GOST")),
            other => panic!("{other:?}"),
        }
        // A GOST algorithm with an RSA key is a key mismatch, not a crash.
        let gost256 = AlgorithmId {
            oid: sig_oid::GOST2015_256_KZ,
            params: None,
        };
        assert!(matches!(
            resolve(&gost256, None, &key, &p),
            Err(CryptoError::BadKey(_))
        ));
    }
}
