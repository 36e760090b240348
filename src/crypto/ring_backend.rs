//! The ring- and aws-lc-rs-backed verifiers and the public-key model.
//!
//! Which library verifies what was measured side by side (BENCHMARKS.md, "Signature backends"):
//! RSA runs on aws-lc-rs with the key parsed once per certificate (ring re-derives the modulus'
//! Montgomery constants on every call: 21.5 µs against 16.2 µs, `openssl speed` 16.3 µs), Ed25519
//! on aws-lc-rs (38 µs against 49 µs), ECDSA stays on ring (the two within 5 %).

use super::gost::{GostCurve, GostKeyFamily};
use super::{CryptoError, SignatureVerifier};
use crate::asn1::{tag, Asn1Error, Oid, Tlv};
use aws_lc_rs::signature as aws;
use ring::signature as rs;
use std::sync::OnceLock;

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
        /// The key parsed for verification, made on first use and kept with the (cached)
        /// certificate that owns this key.
        parsed: ParsedRsaKey,
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
                    parsed: ParsedRsaKey::default(),
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

/// An RSA public key parsed once by aws-lc-rs, for the first verification algorithm it was used
/// with. aws-lc-rs binds a parsed key to one algorithm (PKCS#1 or PSS, and the digest); a
/// certificate's key signs with one algorithm in practice, so one slot holds the common case
/// and any other algorithm parses per call (still correct, only slower).
///
/// Not part of the key's identity: equal keys compare equal whatever their caches hold, and a
/// clone starts with an empty slot (so a test that edits a cloned key's bytes never meets a key
/// parsed from the old bytes).
#[derive(Default)]
pub struct ParsedRsaKey(OnceLock<(&'static str, Option<aws::ParsedPublicKey>)>);

impl Clone for ParsedRsaKey {
    fn clone(&self) -> Self {
        Self::default()
    }
}

impl PartialEq for ParsedRsaKey {
    fn eq(&self, _: &Self) -> bool {
        true
    }
}

impl Eq for ParsedRsaKey {}

impl std::fmt::Debug for ParsedRsaKey {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let state = match self.0.get() {
            None => "not yet",
            Some((_, None)) => "rejected",
            Some((name, Some(_))) => name,
        };
        write!(f, "ParsedRsaKey({state})")
    }
}

impl ParsedRsaKey {
    /// Verifies with the key parsed for `name`/`alg`, parsing it on first use.
    fn verify(
        &self,
        name: &'static str,
        alg: &'static aws::RsaParameters,
        der: &[u8],
        message: &[u8],
        signature: &[u8],
    ) -> bool {
        let (parsed_for, parsed) = self
            .0
            .get_or_init(|| (name, aws::ParsedPublicKey::new(alg, der).ok()));
        if *parsed_for == name {
            // A key aws-lc-rs rejected verifies nothing, exactly as an unparsed key would fail.
            parsed
                .as_ref()
                .is_some_and(|p| p.verify_sig(message, signature).is_ok())
        } else {
            aws::UnparsedPublicKey::new(alg, der)
                .verify(message, signature)
                .is_ok()
        }
    }
}

/// Which library and algorithm object verifies.
#[derive(Clone, Copy)]
pub(crate) enum Backend {
    /// ring, key parsed per call (ECDSA: as fast as aws-lc-rs here).
    Ring(&'static dyn rs::VerificationAlgorithm),
    /// aws-lc-rs RSA, with the key parsed once per certificate ([`ParsedRsaKey`]).
    AwsRsa(&'static aws::RsaParameters),
    /// aws-lc-rs Ed25519 (a parsed key buys nothing there: measured equal).
    AwsEd25519,
}

/// Which key type a ring algorithm needs.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum KeyKind {
    Rsa,
    P256,
    P384,
    Ed25519,
}

/// A verifier backed by one ring or aws-lc-rs verification algorithm.
pub(crate) struct RingVerifier {
    pub(crate) name: &'static str,
    pub(crate) key: KeyKind,
    pub(crate) alg: Backend,
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
        let ok = match (self.alg, key) {
            (Backend::AwsRsa(alg), PublicKey::Rsa { der, parsed, .. }) => {
                parsed.verify(self.name, alg, der, message, signature)
            }
            (Backend::AwsRsa(alg), _) => aws::UnparsedPublicKey::new(alg, key.bytes())
                .verify(message, signature)
                .is_ok(),
            (Backend::AwsEd25519, _) => aws::UnparsedPublicKey::new(&aws::ED25519, key.bytes())
                .verify(message, signature)
                .is_ok(),
            (Backend::Ring(alg), _) => rs::UnparsedPublicKey::new(alg, key.bytes())
                .verify(message, signature)
                .is_ok(),
        };
        if ok {
            Ok(())
        } else {
            Err(CryptoError::BadSignature)
        }
    }
}

macro_rules! ring_verifier {
    ($ident:ident, $name:literal, $key:ident, $alg:path) => {
        pub(crate) static $ident: RingVerifier = RingVerifier {
            name: $name,
            key: KeyKind::$key,
            alg: Backend::Ring(&$alg),
        };
    };
}

macro_rules! aws_rsa_verifier {
    ($ident:ident, $name:literal, $alg:path) => {
        pub(crate) static $ident: RingVerifier = RingVerifier {
            name: $name,
            key: KeyKind::Rsa,
            alg: Backend::AwsRsa(&$alg),
        };
    };
}

// RSA: ring's 2048..8192 variants; keys under the policy minimum are refused before we get here,
// and the 1024-bit "legacy" variants let a danger policy lower that minimum.
aws_rsa_verifier!(
    RSA_PKCS1_SHA1,
    "rsa-pkcs1-sha1",
    aws::RSA_PKCS1_1024_8192_SHA1_FOR_LEGACY_USE_ONLY
);
aws_rsa_verifier!(
    RSA_PKCS1_SHA256,
    "rsa-pkcs1-sha256",
    aws::RSA_PKCS1_1024_8192_SHA256_FOR_LEGACY_USE_ONLY
);
aws_rsa_verifier!(
    RSA_PKCS1_SHA384,
    "rsa-pkcs1-sha384",
    aws::RSA_PKCS1_2048_8192_SHA384
);
aws_rsa_verifier!(
    RSA_PKCS1_SHA512,
    "rsa-pkcs1-sha512",
    aws::RSA_PKCS1_1024_8192_SHA512_FOR_LEGACY_USE_ONLY
);
aws_rsa_verifier!(
    RSA_PSS_SHA256,
    "rsa-pss-sha256",
    aws::RSA_PSS_2048_8192_SHA256
);
aws_rsa_verifier!(
    RSA_PSS_SHA384,
    "rsa-pss-sha384",
    aws::RSA_PSS_2048_8192_SHA384
);
aws_rsa_verifier!(
    RSA_PSS_SHA512,
    "rsa-pss-sha512",
    aws::RSA_PSS_2048_8192_SHA512
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
pub(crate) static ED25519: RingVerifier = RingVerifier {
    name: "ed25519",
    key: KeyKind::Ed25519,
    alg: Backend::AwsEd25519,
};

#[cfg(test)]
mod tests {
    use super::*;
    use crate::pki::cert::Certificate;

    fn cert(pem: &[u8]) -> Certificate {
        crate::pki::trust::parse_bundle(pem)
            .expect("fixture")
            .remove(0)
    }

    /// The key parsed once for one algorithm keeps answering exactly as an unparsed key: the
    /// OpenSSL-made intermediate's sha256WithRSAEncryption signature verifies under the root's
    /// key on every call, a changed message never does, and the same key used with another
    /// algorithm (the per-call path) gives that algorithm's answer.
    #[test]
    fn parsed_rsa_key_answers_like_an_unparsed_one() {
        let root = cert(include_bytes!("../../fixtures/pki/rsa-root.crt"));
        let int = cert(include_bytes!("../../fixtures/pki/rsa-int.crt"));
        let key = root.public_key.as_ref().expect("RSA key");
        assert!(matches!(key, PublicKey::Rsa { .. }));
        for _ in 0..3 {
            assert_eq!(
                RSA_PKCS1_SHA256.verify(key, &int.tbs, &int.signature),
                Ok(())
            );
        }
        assert!(format!("{key:?}").contains("ParsedRsaKey(rsa-pkcs1-sha256)"));
        let mut changed = int.tbs.clone();
        if let Some(b) = changed.last_mut() {
            *b ^= 1;
        }
        assert_eq!(
            RSA_PKCS1_SHA256.verify(key, &changed, &int.signature),
            Err(CryptoError::BadSignature)
        );
        // Another algorithm with the same key: verified per call, and a SHA-256 signature is
        // not a SHA-512 one (nor PSS).
        for other in [&RSA_PKCS1_SHA512, &RSA_PSS_SHA256] {
            assert_eq!(
                other.verify(key, &int.tbs, &int.signature),
                Err(CryptoError::BadSignature)
            );
        }
        assert_eq!(
            RSA_PKCS1_SHA256.verify(key, &int.tbs, &int.signature),
            Ok(())
        );
        // A clone does not share the slot: its bytes may be edited.
        let clone = key.clone();
        assert!(format!("{clone:?}").contains("ParsedRsaKey(not yet)"));
        assert_eq!(&clone, key);
    }

    /// Bytes aws-lc-rs cannot parse as a key are "rejected" once and verify nothing
    /// afterwards; a key it parses but whose modulus is far too small (3 bits) verifies nothing
    /// either (the size range is checked at each verification).
    #[test]
    fn rejected_rsa_key_verifies_nothing() {
        let int = cert(include_bytes!("../../fixtures/pki/rsa-int.crt"));
        for (der, state) in [
            (vec![0x04, 0x00], "ParsedRsaKey(rejected)"),
            (
                vec![0x30, 0x06, 0x02, 0x01, 0x07, 0x02, 0x01, 0x03],
                "ParsedRsaKey(rsa-pkcs1-sha256)",
            ),
        ] {
            let key = PublicKey::Rsa {
                der,
                bits: 3,
                parsed: ParsedRsaKey::default(),
            };
            for _ in 0..2 {
                assert_eq!(
                    RSA_PKCS1_SHA256.verify(&key, &int.tbs, &int.signature),
                    Err(CryptoError::BadSignature)
                );
            }
            assert!(format!("{key:?}").contains(state), "{key:?}");
        }
    }
}
