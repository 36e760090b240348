//! GOST R 34.10-2012 / 34.10-2001 signature verification (and KZ GOST 34.310-2004, which is the
//! same arithmetic), in pure Rust on Weierstrass curves.
//!
//! Verification (GOST R 34.10-2012 §6.2): with e = hash mod q (1 if 0), v = e⁻¹, z1 = s·v,
//! z2 = −r·v (mod q), C = z1·P + z2·Q, accept iff C.x mod q = r.
//!
//! Byte order follows the NCA's encoding, settled against the real Kalkan samples (see tests):
//! public key x‖y little-endian, digest read as a little-endian integer.

use crypto_bigint::modular::runtime_mod::{DynResidue, DynResidueParams};
use crypto_bigint::{Encoding, U512};
use num_bigint::BigUint;
use num_traits::{One, Zero};

/// A field element: 512-bit Montgomery form, no allocation per operation.
type Fe = DynResidue<8>;

/// Curve parameters: y² = x³ + a·x + b over F_p, base point (x, y) of prime order q.
#[derive(Debug)]
pub struct Curve {
    /// Name for messages.
    pub name: &'static str,
    p: BigUint,
    params: DynResidueParams<8>,
    a: Fe,
    b: Fe,
    q: BigUint,
    gx: Fe,
    gy: Fe,
    /// Coordinate size in bytes (32 or 64).
    pub size: usize,
}

fn h(s: &str) -> BigUint {
    BigUint::parse_bytes(s.as_bytes(), 16).unwrap_or_default()
}

/// Little-endian bytes of a value below 2^512, padded to 64.
fn le64(x: &BigUint) -> Vec<u8> {
    let mut bytes = x.to_bytes_le();
    bytes.resize(64, 0);
    bytes
}

/// A big integer below 2^512 as a field element (callers check the range first).
fn fe(x: &BigUint, params: DynResidueParams<8>) -> Fe {
    DynResidue::new(&U512::from_le_slice(&le64(x)), params)
}

fn to_big(x: &Fe) -> BigUint {
    BigUint::from_bytes_le(&x.retrieve().to_le_bytes())
}

impl Curve {
    /// A curve from hex constants (p, a, b, q, base point) and its coordinate size in bytes.
    fn from_hex(name: &'static str, [p, a, b, q, gx, gy]: [&str; 6], size: usize) -> Self {
        let p = h(p);
        let params = DynResidueParams::new(&U512::from_le_slice(&le64(&p)));
        let f = |x: &str| fe(&h(x), params);
        Self {
            name,
            a: f(a),
            b: f(b),
            q: h(q),
            gx: f(gx),
            gy: f(gy),
            p,
            params,
            size,
        }
    }

    /// RFC 7836 §A.1 / TC26: id-tc26-gost-3410-12-512-paramSetA (KZ 1.2.398.3.10.1.1.2.2.1).
    /// Constants as in RFC 7836 and in BouncyCastle, gogost and pygost; the tests check that the
    /// base point is on the curve.
    pub fn tc26_512_a() -> Self {
        Self::from_hex(
            "id-tc26-gost-3410-12-512-paramSetA",
            [
                "FFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFDC7",
                "FFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFDC4",
                "E8C2505DEDFC86DDC1BD0B2B6667F1DA34B82574761CB0E879BD081CFD0B6265EE3CB090F30D27614CB4574010DA90DD862EF9D4EBEE4761503190785A71C760",
                "FFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFF27E69532F48D89116FF22B8D4E0560609B4B38ABFAD2B85DCACDB1411F10B275",
                "3",
                "7503CFE87A836AE3A61B8816E25450E6CE5E1C93ACF1ABC1778064FDCBEFA921DF1626BE4FD036E93D75E6A50E3A41E98028FE5FC235F5B889A589CB5215F2A4",
            ],
            64,
        )
    }

    /// RFC 4357 §11.4 id-GostR3410-2001-CryptoPro-A-ParamSet (KZ 1.2.398.3.10.1.1.1.1.1), the
    /// curve of the NCA's GOST 34.310-2004 keys. Constants as in RFC 4357, libgcrypt, BouncyCastle.
    pub fn cryptopro_a() -> Self {
        Self::from_hex(
            "id-GostR3410-2001-CryptoPro-A-ParamSet",
            [
                "FFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFD97",
                "FFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFD94",
                "A6",
                "FFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFF6C611070995AD10045841B09B761B893",
                "1",
                "8D91E471E0989CDA27DF505A453F2B7635294F2DDF23E3B122ACC99C9E9F1E14",
            ],
            32,
        )
    }

    fn zero(&self) -> Fe {
        DynResidue::zero(self.params)
    }

    /// Jacobian doubling (general a; dbl-2007-bl).
    fn double(&self, pt: &Jac) -> Jac {
        if pt.inf || pt.y == self.zero() {
            return Jac::infinity(self.params);
        }
        let xx = pt.x.square();
        let yy = pt.y.square();
        let yyyy = yy.square();
        let zz = pt.z.square();
        let xyy = pt.x * yy;
        let s = xyy + xyy + xyy + xyy;
        let m = xx + xx + xx + self.a * zz.square();
        let x3 = m.square() - (s + s);
        let y8 = yyyy + yyyy;
        let y8 = y8 + y8;
        let y8 = y8 + y8;
        let y3 = m * (s - x3) - y8;
        let yz = pt.y * pt.z;
        Jac {
            x: x3,
            y: y3,
            z: yz + yz,
            inf: false,
        }
    }

    /// Jacobian addition (add-2007-bl without the doubling shortcut).
    fn add(&self, p1: &Jac, p2: &Jac) -> Jac {
        if p1.inf {
            return *p2;
        }
        if p2.inf {
            return *p1;
        }
        let z1z1 = p1.z.square();
        let z2z2 = p2.z.square();
        let u1 = p1.x * z2z2;
        let u2 = p2.x * z1z1;
        let s1 = p1.y * p2.z * z2z2;
        let s2 = p2.y * p1.z * z1z1;
        if u1 == u2 {
            return if s1 == s2 {
                self.double(p1)
            } else {
                Jac::infinity(self.params)
            };
        }
        let hh = u2 - u1;
        let r = s2 - s1;
        let h2 = hh.square();
        let h3 = h2 * hh;
        let u1h2 = u1 * h2;
        let x3 = r.square() - h3 - (u1h2 + u1h2);
        let y3 = r * (u1h2 - x3) - s1 * h3;
        let z3 = hh * p1.z * p2.z;
        Jac {
            x: x3,
            y: y3,
            z: z3,
            inf: false,
        }
    }

    /// Affine x of k1·G + k2·Q (Shamir's trick), None at infinity.
    fn double_mul_x(&self, k1: &BigUint, k2: &BigUint, qx: Fe, qy: Fe) -> Option<BigUint> {
        let one = DynResidue::one(self.params);
        let g = Jac {
            x: self.gx,
            y: self.gy,
            z: one,
            inf: false,
        };
        let q = Jac {
            x: qx,
            y: qy,
            z: one,
            inf: false,
        };
        let gq = self.add(&g, &q);
        let bits = k1.bits().max(k2.bits());
        let mut acc = Jac::infinity(self.params);
        for i in (0..bits).rev() {
            acc = self.double(&acc);
            match (k1.bit(i), k2.bit(i)) {
                (true, true) => acc = self.add(&acc, &gq),
                (true, false) => acc = self.add(&acc, &g),
                (false, true) => acc = self.add(&acc, &q),
                (false, false) => {}
            }
        }
        if acc.inf || acc.z == self.zero() {
            return None;
        }
        let (zinv, ok) = acc.z.invert();
        if !bool::from(ok) {
            return None;
        }
        Some(to_big(&(acc.x * zinv.square())))
    }

    /// Is (x, y) (affine, already below p) on the curve?
    fn on_curve_fe(&self, x: &Fe, y: &Fe) -> bool {
        y.square() == x.square() * *x + self.a * *x + self.b
    }

    /// Is (x, y) on the curve?
    pub fn on_curve(&self, x: &BigUint, y: &BigUint) -> bool {
        x < &self.p && y < &self.p && self.on_curve_fe(&fe(x, self.params), &fe(y, self.params))
    }

    /// Verifies (r, s) over the digest value `e` with public key (qx, qy).
    pub fn verify(
        &self,
        e: &BigUint,
        r: &BigUint,
        s: &BigUint,
        qx: &BigUint,
        qy: &BigUint,
    ) -> bool {
        if r.is_zero() || s.is_zero() || r >= &self.q || s >= &self.q || !self.on_curve(qx, qy) {
            return false;
        }
        let mut e = e % &self.q;
        if e.is_zero() {
            e = BigUint::one();
        }
        // q is prime: e⁻¹ = e^(q−2) (a handful of scalar operations; the point work dominates).
        let v = e.modpow(&(&self.q - BigUint::from(2u8)), &self.q);
        let z1 = (s * &v) % &self.q;
        let z2 = ((&self.q - r) * &v) % &self.q;
        self.double_mul_x(&z1, &z2, fe(qx, self.params), fe(qy, self.params))
            .is_some_and(|x| &(x % &self.q) == r)
    }
}

/// The TC26 512-bit paramSetA curve, parsed once.
static TC26_512_A: std::sync::LazyLock<Curve> = std::sync::LazyLock::new(Curve::tc26_512_a);
/// The CryptoPro-A curve, parsed once.
static CRYPTOPRO_A: std::sync::LazyLock<Curve> = std::sync::LazyLock::new(Curve::cryptopro_a);

/// A GOST signature in the NCA's encoding: public key x‖y, signature r‖s and the digest, all
/// little-endian. Each variant fixes its curve and hash.
#[derive(Debug)]
pub(crate) struct GostVerifier {
    name: &'static str,
    curve: &'static std::sync::LazyLock<Curve>,
    hash: fn(&[u8]) -> Vec<u8>,
    key: fn(&super::PublicKey) -> Option<&[u8]>,
}

/// GOST R 34.10-2015 512-bit with Streebog-512.
pub(crate) static GOST2015_512: GostVerifier = GostVerifier {
    name: "gost3410-2015-512",
    curve: &TC26_512_A,
    hash: |m| {
        use streebog::Digest;
        streebog::Streebog512::digest(m).to_vec()
    },
    key: |k| match k {
        super::PublicKey::Gost512(p) => Some(p),
        _ => None,
    },
};

/// GOST 34.310-2004 (GOST R 34.10-2001 arithmetic on CryptoPro-A) with GOST 34.311-95.
pub(crate) static GOST34310_2004: GostVerifier = GostVerifier {
    name: "gost34310-2004",
    curve: &CRYPTOPRO_A,
    hash: |m| {
        use gost94::Digest;
        gost94::Gost94Test::digest(m).to_vec()
    },
    key: |k| match k {
        super::PublicKey::Gost2004(p) => Some(p),
        _ => None,
    },
};

impl super::SignatureVerifier for GostVerifier {
    fn name(&self) -> &'static str {
        self.name
    }

    fn verify(
        &self,
        key: &super::PublicKey,
        message: &[u8],
        signature: &[u8],
    ) -> Result<(), super::CryptoError> {
        let Some(point) = (self.key)(key) else {
            return Err(super::CryptoError::BadKey(format!(
                "{} cannot verify {}",
                key.describe(),
                self.name
            )));
        };
        let curve: &Curve = self.curve;
        let n = curve.size;
        if signature.len() != 2 * n || point.len() != 2 * n {
            return Err(super::CryptoError::BadSignature);
        }
        let (qx, qy) = point.split_at(n);
        let (r, s) = signature.split_at(n);
        let le = BigUint::from_bytes_le;
        let digest = (self.hash)(message);
        if curve.verify(&le(&digest), &le(r), &le(s), &le(qx), &le(qy)) {
            Ok(())
        } else {
            Err(super::CryptoError::BadSignature)
        }
    }
}

#[derive(Clone, Copy, Debug)]
struct Jac {
    x: Fe,
    y: Fe,
    z: Fe,
    inf: bool,
}

impl Jac {
    fn infinity(params: DynResidueParams<8>) -> Self {
        let one = DynResidue::one(params);
        Jac {
            x: one,
            y: one,
            z: DynResidue::zero(params),
            inf: true,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::pki::trust::parse_bundle;
    use streebog::Digest;

    fn le(b: &[u8]) -> BigUint {
        BigUint::from_bytes_le(b)
    }
    fn be(b: &[u8]) -> BigUint {
        BigUint::from_bytes_be(b)
    }

    /// Every encoding (key, digest and signature byte order; digest variant) under which
    /// `child` verifies with `issuer`'s GOST key.
    fn encodings_that_verify(
        curve: &Curve,
        key: &[u8],
        sig: &[u8],
        digests: &[(&str, Vec<u8>)],
    ) -> Vec<String> {
        let n = curve.size;
        assert_eq!((key.len(), sig.len()), (2 * n, 2 * n));
        let (kx, ky) = key.split_at(n);
        let (a, b) = sig.split_at(n);
        let mut found = Vec::new();
        for (kname, qx, qy) in [("key-le", le(kx), le(ky)), ("key-be", be(kx), be(ky))] {
            if !curve.on_curve(&qx, &qy) {
                continue;
            }
            for (hname, d) in digests {
                for (ename, e) in [("le", le(d)), ("be", be(d))] {
                    for (sname, r, s) in [
                        ("r|s le", le(a), le(b)),
                        ("s|r le", le(b), le(a)),
                        ("r|s be", be(a), be(b)),
                        ("s|r be", be(b), be(a)),
                    ] {
                        if curve.verify(&e, &r, &s, &qx, &qy) {
                            found.push(format!("{kname} {hname}-{ename} {sname}"));
                        }
                    }
                }
            }
        }
        found
    }

    fn kz(rel: &str) -> Option<crate::pki::cert::Certificate> {
        let root = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("../shared/testdata/kz");
        let data = std::fs::read(root.join(rel)).ok()?;
        Some(parse_bundle(&data).unwrap().remove(0))
    }

    #[test]
    fn constants_are_consistent() {
        for c in [Curve::tc26_512_a(), Curve::cryptopro_a()] {
            // The base point is on the curve: catches a mistyped a, b, p, x or y.
            assert!(c.on_curve(&to_big(&c.gx), &to_big(&c.gy)), "{}", c.name);
            assert!(
                !c.on_curve(&to_big(&c.gx), &(to_big(&c.gy) + 1u8)),
                "{}",
                c.name
            );
        }
    }

    #[test]
    fn exactly_the_nca_encoding_verifies_a_gost_2004_certificate() {
        use gost94::Digest as _;
        let (Some(ca), Some(leaf)) = (
            kz("ca/nca_gost_test.crt"),
            kz("certs/ceo_valid_sign_2004_gost.cer"),
        ) else {
            return;
        };
        let crate::crypto::PublicKey::Gost2004(key) = ca.public_key.as_ref().unwrap() else {
            panic!("not a 2004 key")
        };
        let digests = [
            ("test", gost94::Gost94Test::digest(&leaf.tbs).to_vec()),
            (
                "cryptopro",
                gost94::Gost94CryptoPro::digest(&leaf.tbs).to_vec(),
            ),
        ];
        // Of 32 encodings exactly one verifies: the NCA's, with the "test" S-boxes.
        let found = encodings_that_verify(&Curve::cryptopro_a(), key, &leaf.signature, &digests);
        assert_eq!(found, vec!["key-le test-le r|s le".to_owned()]);
    }

    #[test]
    fn exactly_the_nca_byte_order_verifies_the_nca_gost_ca_certificate() {
        let (Some(ca), Some(root)) = (
            kz("ca/nca_gost2015_test.cer"),
            kz("ncanode-go/root_test_gost_2022.cer"),
        ) else {
            return;
        };
        let crate::crypto::PublicKey::Gost512(key) = root.public_key.as_ref().unwrap() else {
            panic!("not a 512 key")
        };
        let digests = [(
            "streebog512",
            streebog::Streebog512::digest(&ca.tbs).to_vec(),
        )];
        // Of 16 encodings exactly one verifies: the samples decide, and they decide once.
        let found = encodings_that_verify(&Curve::tc26_512_a(), key, &ca.signature, &digests);
        assert_eq!(found, vec!["key-le streebog512-le r|s le".to_owned()]);
    }
}
