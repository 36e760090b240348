//! Message digests by OID.

use super::CryptoError;
use crate::asn1::Oid;

/// Digest algorithms named in CMS `digestAlgorithm` and signature OIDs.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum DigestAlgorithm {
    /// MD5 (always refused).
    Md5,
    /// SHA-1 (refused unless the legacy policy allows it).
    Sha1,
    /// SHA-256
    Sha256,
    /// SHA-384
    Sha384,
    /// SHA-512
    Sha512,
    /// GOST R 34.11-2012 (Streebog) 256-bit.
    Streebog256,
    /// GOST R 34.11-2012 (Streebog) 512-bit.
    Streebog512,
    /// GOST 34.311-95 (= GOST R 34.11-94 with the "test" S-boxes, as the NCA uses it).
    Gost34311,
    /// GOST R 34.11-94 with the CryptoPro S-boxes (RFC 4357 §11.2).
    Gost94CryptoPro,
}

/// Digest OIDs (RFC 5754, RFC 3279).
pub mod oid {
    use super::Oid;
    /// id-md5
    pub const MD5: Oid = Oid::new_unwrap("1.2.840.113549.2.5");
    /// id-sha1
    pub const SHA1: Oid = Oid::new_unwrap("1.3.14.3.2.26");
    /// id-sha256
    pub const SHA256: Oid = Oid::new_unwrap("2.16.840.1.101.3.4.2.1");
    /// id-sha384
    pub const SHA384: Oid = Oid::new_unwrap("2.16.840.1.101.3.4.2.2");
    /// id-sha512
    pub const SHA512: Oid = Oid::new_unwrap("2.16.840.1.101.3.4.2.3");
    /// Streebog-512 under the NCA's arc (KZ).
    pub const STREEBOG512_KZ: Oid = Oid::new_unwrap("1.2.398.3.10.1.3.3");
    /// GOST 34.311-95 under the NCA's arc (KZ).
    pub const GOST34311_KZ: Oid = Oid::new_unwrap("1.2.398.3.10.1.3.1");
    /// Streebog-256 under the NCA's arc (KZ).
    pub const STREEBOG256_KZ: Oid = Oid::new_unwrap("1.2.398.3.10.1.3.2");
    /// id-tc26-gost3411-12-256 (RFC 9215).
    pub const STREEBOG256: Oid = Oid::new_unwrap("1.2.643.7.1.1.2.2");
    /// id-tc26-gost3411-12-512 (RFC 9215).
    pub const STREEBOG512: Oid = Oid::new_unwrap("1.2.643.7.1.1.2.3");
    /// id-GostR3411-94 (RFC 4357), CryptoPro S-boxes.
    pub const GOST94: Oid = Oid::new_unwrap("1.2.643.2.2.9");
}

impl DigestAlgorithm {
    /// Looks up a digest OID; unknown ones are `Unsupported` (GOST digests arrive with GOST support).
    pub fn from_oid(o: &Oid) -> Result<Self, CryptoError> {
        Ok(match *o {
            oid::MD5 => Self::Md5,
            oid::SHA1 => Self::Sha1,
            oid::SHA256 => Self::Sha256,
            oid::SHA384 => Self::Sha384,
            oid::SHA512 => Self::Sha512,
            oid::STREEBOG512_KZ | oid::STREEBOG512 => Self::Streebog512,
            oid::STREEBOG256_KZ | oid::STREEBOG256 => Self::Streebog256,
            oid::GOST34311_KZ => Self::Gost34311,
            oid::GOST94 => Self::Gost94CryptoPro,
            other => {
                return Err(CryptoError::Unsupported(
                    super::algorithm::describe_unknown(&other),
                ))
            }
        })
    }

    /// Short name for verdicts.
    pub fn name(self) -> &'static str {
        match self {
            Self::Md5 => "md5",
            Self::Sha1 => "sha1",
            Self::Sha256 => "sha256",
            Self::Sha384 => "sha384",
            Self::Sha512 => "sha512",
            Self::Streebog256 => "streebog256",
            Self::Streebog512 => "streebog512",
            Self::Gost34311 => "gost34311",
            Self::Gost94CryptoPro => "gostr3411-94",
        }
    }

    /// The ring algorithm, where ring has one (not MD5).
    pub(crate) fn ring(self) -> Option<&'static ring::digest::Algorithm> {
        match self {
            Self::Md5 => None,
            Self::Sha1 => Some(&ring::digest::SHA1_FOR_LEGACY_USE_ONLY),
            Self::Sha256 => Some(&ring::digest::SHA256),
            Self::Sha384 => Some(&ring::digest::SHA384),
            Self::Sha512 => Some(&ring::digest::SHA512),
            Self::Streebog256 | Self::Streebog512 | Self::Gost34311 | Self::Gost94CryptoPro => None,
        }
    }
}

/// Digests the concatenation of `parts` without joining them (a PDF's two byte ranges).
pub fn digest_parts(alg: DigestAlgorithm, parts: &[&[u8]]) -> Result<Vec<u8>, CryptoError> {
    fn feed<D: streebog::Digest>(mut d: D, parts: &[&[u8]]) -> Vec<u8> {
        parts.iter().for_each(|p| d.update(p));
        d.finalize().to_vec()
    }
    match alg {
        DigestAlgorithm::Streebog256 => Ok(feed(streebog::Streebog256::default(), parts)),
        DigestAlgorithm::Streebog512 => Ok(feed(streebog::Streebog512::default(), parts)),
        DigestAlgorithm::Gost34311 => Ok(feed(gost94::Gost94Test::default(), parts)),
        DigestAlgorithm::Gost94CryptoPro => Ok(feed(gost94::Gost94CryptoPro::default(), parts)),
        _ => {
            let r = alg
                .ring()
                .ok_or_else(|| CryptoError::Constraints("MD5 is broken".into()))?;
            let mut ctx = ring::digest::Context::new(r);
            parts.iter().for_each(|p| ctx.update(p));
            Ok(ctx.finish().as_ref().to_vec())
        }
    }
}

/// Digests `data`. MD5 is never computed: it is refused before anyone asks.
pub fn digest(alg: DigestAlgorithm, data: &[u8]) -> Result<Vec<u8>, CryptoError> {
    match alg {
        DigestAlgorithm::Streebog256 => {
            use streebog::Digest;
            return Ok(streebog::Streebog256::digest(data).to_vec());
        }
        DigestAlgorithm::Streebog512 => {
            use streebog::Digest;
            return Ok(streebog::Streebog512::digest(data).to_vec());
        }
        DigestAlgorithm::Gost34311 => {
            use gost94::Digest;
            return Ok(gost94::Gost94Test::digest(data).to_vec());
        }
        DigestAlgorithm::Gost94CryptoPro => {
            use gost94::Digest;
            return Ok(gost94::Gost94CryptoPro::digest(data).to_vec());
        }
        _ => {}
    }
    let r = alg
        .ring()
        .ok_or_else(|| CryptoError::Constraints("MD5 is broken".into()))?;
    Ok(ring::digest::digest(r, data).as_ref().to_vec())
}
