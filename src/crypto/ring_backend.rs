//! ring-backed verifiers and the public-key model.

use super::gost::{GostCurve, GostKeyFamily};
use super::{CryptoError, SignatureVerifier};
use crate::asn1::{tag, Asn1Error, Oid, Tlv};
use ring::signature as rs;

/// Key algorithm OIDs (RFC 3279, RFC 5480, RFC 8410).
pub mod key_oid {
    use super::Oid;
    /// rsaEncryption
    pub const RSA: Oid = Oid::new_unwrap("1.2.840.113549.1.1.1");
    /// id-RSASSA-PSS used as a key type
    pub const RSA_PSS: Oid = Oid::new_unwrap("1.2.840.113549.1.1.10");
    /// id-ecPublicKey
    pub const EC: Oid = Oid::new_unwrap("1.2.840.10045.2.1");
    /// secp256r1
    pub const P256: Oid = Oid::new_unwrap("1.2.840.10045.3.1.7");
    /// secp384r1
    pub const P384: Oid = Oid::new_unwrap("1.3.132.0.34");
    /// id-Ed25519
    pub const ED25519: Oid = Oid::new_unwrap("1.3.101.112");
    /// GOST R 34.10-2015 512-bit key under the NCA's arc (KZ).
    pub const GOST2015_512_KZ: Oid = Oid::new_unwrap("1.2.398.3.10.1.1.2.2");
    /// GOST R 34.10-2015 256-bit key under the NCA's arc (KZ).
    pub const GOST2015_256_KZ: Oid = Oid::new_unwrap("1.2.398.3.10.1.1.2.1");
    /// GOST 34.310-2004 key under the NCA's arc (KZ).
    pub const GOST34310_2004_KZ: Oid = Oid::new_unwrap("1.2.398.3.10.1.1.1.1");
    /// id-GostR3410-2001 (RFC 4491).
    pub const GOST2001: Oid = Oid::new_unwrap("1.2.643.2.2.19");
    /// id-tc26-gost3410-12-256 (RFC 9215).
    pub const GOST2012_256: Oid = Oid::new_unwrap("1.2.643.7.1.1.1.1");
    /// id-tc26-gost3410-12-512 (RFC 9215).
    pub const GOST2012_512: Oid = Oid::new_unwrap("1.2.643.7.1.1.1.2");
}

/// A public key taken from a SubjectPublicKeyInfo.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum PublicKey {
    /// RSA: the RSAPublicKey DER (what ring wants) and the modulus size in bits.
    Rsa {
        /// `RSAPublicKey ::= SEQUENCE { modulus, publicExponent }`
        der: Vec<u8>,
        /// Modulus length in bits.
        bits: usize,
    },
    /// EC on P-256: the uncompressed point.
    P256(Vec<u8>),
    /// EC on P-384: the uncompressed point.
    P384(Vec<u8>),
    /// Ed25519: 32 bytes.
    Ed25519(Vec<u8>),
    /// GOST R 34.10-2001/2012 (and the NCA's GOST 34.310-2004 and R 34.10-2015) on a named
    /// parameter set: x‖y little-endian, `2 × curve.size()` bytes.
    Gost {
        /// Which signature algorithms the key may be used with.
        family: GostKeyFamily,
        /// The parameter set.
        curve: GostCurve,
        /// x‖y, little-endian.
        point: Vec<u8>,
    },
    /// A key type we cannot use (yet): algorithm OID, parameters, key bits.
    Other {
        /// `algorithm`
        algorithm: Oid,
        /// `parameters` element, if any.
        params: Option<Vec<u8>>,
        /// `subjectPublicKey` contents.
        key: Vec<u8>,
    },
}

impl PublicKey {
    /// Parses `SubjectPublicKeyInfo ::= SEQUENCE { algorithm AlgorithmIdentifier, subjectPublicKey BIT STRING }`.
    pub fn from_spki(spki: &[u8]) -> Result<Self, Asn1Error> {
        let mut r = Tlv::parse_exact(spki)?.expect(tag::SEQUENCE)?.reader();
        let alg = crate::asn1::AlgorithmId::parse(r.read()?)?;
        let key = r.read()?.bit_string_bytes()?;
        r.finish()?;
        Ok(match alg.oid {
            key_oid::RSA | key_oid::RSA_PSS => {
                let mut k = Tlv::parse_exact(key)?.expect(tag::SEQUENCE)?.reader();
                let n = k.read()?.unsigned_integer()?;
                k.read()?.unsigned_integer()?;
                k.finish()?;
                let lead = n.first().map_or(0, |b| 8 - b.leading_zeros());
                let bits = (n.len().saturating_sub(1)) * 8 + usize::try_from(lead).unwrap_or(0);
                PublicKey::Rsa {
                    der: key.to_vec(),
                    bits,
                }
            }
            key_oid::EC => {
                let curve = alg
                    .params_tlv()
                    .ok_or(Asn1Error::Invalid("EC key without curve"))??
                    .oid()?;
                match curve {
                    key_oid::P256 => PublicKey::P256(key.to_vec()),
                    key_oid::P384 => PublicKey::P384(key.to_vec()),
                    _ => PublicKey::Other {
                        algorithm: alg.oid,
                        params: alg.params,
                        key: key.to_vec(),
                    },
                }
            }
            key_oid::ED25519 => PublicKey::Ed25519(key.to_vec()),
            key_oid::GOST2015_512_KZ
            | key_oid::GOST2015_256_KZ
            | key_oid::GOST34310_2004_KZ
            | key_oid::GOST2001
            | key_oid::GOST2012_256
            | key_oid::GOST2012_512 => gost_key(alg.oid, alg.params.as_deref(), key)?,
            other => PublicKey::Other {
                algorithm: other,
                params: alg.params,
                key: key.to_vec(),
            },
        })
    }

    /// Short description for messages.
    pub fn describe(&self) -> String {
        match self {
            PublicKey::Rsa { bits, .. } => format!("RSA-{bits}"),
            PublicKey::P256(_) => "EC P-256".into(),
            PublicKey::P384(_) => "EC P-384".into(),
            PublicKey::Ed25519(_) => "Ed25519".into(),
            PublicKey::Gost { family, curve, .. } => format!("GOST {family:?} on {curve:?}"),
            PublicKey::Other { algorithm, .. } => format!("key algorithm {algorithm}"),
        }
    }

    fn bytes(&self) -> &[u8] {
        match self {
            PublicKey::Rsa { der, .. } => der,
            PublicKey::P256(k)
            | PublicKey::P384(k)
            | PublicKey::Ed25519(k)
            | PublicKey::Gost { point: k, .. } => k,
            PublicKey::Other { key, .. } => key,
        }
    }
}

/// A GOST key (RFC 4491 §2.3.2, RFC 9215 §4): parameters `SEQUENCE { publicKeyParamSet OID,
/// digestParamSet OID OPTIONAL, … }`, subjectPublicKey an OCTET STRING holding x‖y. A key whose
/// parameter set we do not know stays `Other` (reported by OID, never guessed).
fn gost_key(alg: Oid, params: Option<&[u8]>, key: &[u8]) -> Result<PublicKey, Asn1Error> {
    let family = match alg {
        key_oid::GOST2015_512_KZ | key_oid::GOST2012_512 => GostKeyFamily::Gost2012_512,
        key_oid::GOST2015_256_KZ | key_oid::GOST2012_256 => GostKeyFamily::Gost2012_256,
        _ => GostKeyFamily::Gost2001,
    };
    let curve = gost_param_set(params).and_then(|o| GostCurve::from_oid(&o));
    let wanted = if family == GostKeyFamily::Gost2012_512 {
        64
    } else {
        32
    };
    let Some(curve) = curve.filter(|c| c.size() == wanted) else {
        return Ok(PublicKey::Other {
            algorithm: alg,
            params: params.map(<[u8]>::to_vec),
            key: key.to_vec(),
        });
    };
    let point = Tlv::parse_exact(key)?.expect(tag::OCTET_STRING)?.value;
    if point.len() != 2 * wanted {
        return Err(Asn1Error::Invalid("GOST public key of the wrong size"));
    }
    Ok(PublicKey::Gost {
        family,
        curve,
        point: point.to_vec(),
    })
}

/// The parameter-set OID of GOST key parameters `SEQUENCE { paramSet OID, digest OID OPTIONAL, … }`.
fn gost_param_set(params: Option<&[u8]>) -> Option<Oid> {
    let t = Tlv::parse_exact(params?).ok()?.expect(tag::SEQUENCE).ok()?;
    t.reader().read().ok()?.oid().ok()
}

/// Which key type a ring algorithm needs.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum KeyKind {
    Rsa,
    P256,
    P384,
    Ed25519,
}

/// A verifier backed by one ring verification algorithm.
pub(crate) struct RingVerifier {
    pub(crate) name: &'static str,
    pub(crate) key: KeyKind,
    pub(crate) alg: &'static dyn rs::VerificationAlgorithm,
}

impl std::fmt::Debug for RingVerifier {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.name)
    }
}

impl SignatureVerifier for RingVerifier {
    fn name(&self) -> &'static str {
        self.name
    }

    fn verify(&self, key: &PublicKey, message: &[u8], signature: &[u8]) -> Result<(), CryptoError> {
        let fits = matches!(
            (self.key, key),
            (KeyKind::Rsa, PublicKey::Rsa { .. })
                | (KeyKind::P256, PublicKey::P256(_))
                | (KeyKind::P384, PublicKey::P384(_))
                | (KeyKind::Ed25519, PublicKey::Ed25519(_))
        );
        if !fits {
            return Err(CryptoError::BadKey(format!(
                "{} cannot verify {}",
                key.describe(),
                self.name
            )));
        }
        rs::UnparsedPublicKey::new(self.alg, key.bytes())
            .verify(message, signature)
            .map_err(|_| CryptoError::BadSignature)
    }
}

macro_rules! ring_verifier {
    ($ident:ident, $name:literal, $key:ident, $alg:path) => {
        pub(crate) static $ident: RingVerifier = RingVerifier {
            name: $name,
            key: KeyKind::$key,
            alg: &$alg,
        };
    };
}

// RSA: ring's 2048..8192 variants; keys under the policy minimum are refused before we get here,
// and the 1024-bit "legacy" variants let a danger policy lower that minimum.
ring_verifier!(
    RSA_PKCS1_SHA1,
    "rsa-pkcs1-sha1",
    Rsa,
    rs::RSA_PKCS1_1024_8192_SHA1_FOR_LEGACY_USE_ONLY
);
ring_verifier!(
    RSA_PKCS1_SHA256,
    "rsa-pkcs1-sha256",
    Rsa,
    rs::RSA_PKCS1_1024_8192_SHA256_FOR_LEGACY_USE_ONLY
);
ring_verifier!(
    RSA_PKCS1_SHA384,
    "rsa-pkcs1-sha384",
    Rsa,
    rs::RSA_PKCS1_2048_8192_SHA384
);
ring_verifier!(
    RSA_PKCS1_SHA512,
    "rsa-pkcs1-sha512",
    Rsa,
    rs::RSA_PKCS1_1024_8192_SHA512_FOR_LEGACY_USE_ONLY
);
ring_verifier!(
    RSA_PSS_SHA256,
    "rsa-pss-sha256",
    Rsa,
    rs::RSA_PSS_2048_8192_SHA256
);
ring_verifier!(
    RSA_PSS_SHA384,
    "rsa-pss-sha384",
    Rsa,
    rs::RSA_PSS_2048_8192_SHA384
);
ring_verifier!(
    RSA_PSS_SHA512,
    "rsa-pss-sha512",
    Rsa,
    rs::RSA_PSS_2048_8192_SHA512
);
ring_verifier!(
    ECDSA_P256_SHA256,
    "ecdsa-p256-sha256",
    P256,
    rs::ECDSA_P256_SHA256_ASN1
);
ring_verifier!(
    ECDSA_P256_SHA384,
    "ecdsa-p256-sha384",
    P256,
    rs::ECDSA_P256_SHA384_ASN1
);
ring_verifier!(
    ECDSA_P384_SHA256,
    "ecdsa-p384-sha256",
    P384,
    rs::ECDSA_P384_SHA256_ASN1
);
ring_verifier!(
    ECDSA_P384_SHA384,
    "ecdsa-p384-sha384",
    P384,
    rs::ECDSA_P384_SHA384_ASN1
);
ring_verifier!(
    ECDSA_P256_SHA256_FIXED,
    "ecdsa-p256-sha256-fixed",
    P256,
    rs::ECDSA_P256_SHA256_FIXED
);
ring_verifier!(
    ECDSA_P384_SHA384_FIXED,
    "ecdsa-p384-sha384-fixed",
    P384,
    rs::ECDSA_P384_SHA384_FIXED
);
ring_verifier!(ED25519, "ed25519", Ed25519, rs::ED25519);
