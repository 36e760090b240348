//! GOST R 34.10-2012 / 34.10-2001 signature verification (and KZ GOST 34.310-2004, which is the
//! same arithmetic), in pure Rust on Weierstrass curves.
//!
//! Verification (GOST R 34.10-2012 §6.2): with e = hash mod q (1 if 0), v = e⁻¹, z1 = s·v,
//! z2 = −r·v (mod q), C = z1·P + z2·Q, accept iff C.x mod q = r.
//!
//! Byte order follows the NCA's encoding, settled against the real Kalkan samples (see tests):
//! public key x‖y little-endian, digest read as a little-endian integer.

use num_bigint::BigUint;
use num_traits::{One, Zero};

/// Curve parameters: y² = x³ + a·x + b over F_p, base point (x, y) of prime order q.
#[derive(Debug)]
pub struct Curve {
    /// Name for messages.
    pub name: &'static str,
    p: BigUint,
    a: BigUint,
    q: BigUint,
    gx: BigUint,
    gy: BigUint,
    /// Coordinate size in bytes (32 or 64).
    pub size: usize,
}

fn h(s: &str) -> BigUint {
    BigUint::parse_bytes(s.as_bytes(), 16).unwrap_or_default()
}

impl Curve {
    /// RFC 7836 §A.1 / TC26: id-tc26-gost-3410-12-512-paramSetA (KZ 1.2.398.3.10.1.1.2.2.1).
    pub fn tc26_512_a() -> Self {
        Self {
            name: "id-tc26-gost-3410-12-512-paramSetA",
            p: h("FFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFDC7"),
            a: h("FFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFDC4"),
            q: h("FFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFF27E69532F48D89116FF22B8D4E0560609B4B38ABFAD2B85DCACDB1411F10B275"),
            gx: BigUint::from(3u8),
            gy: h("7503CFE87A836AE3A61B8816E25450E6CE5E1C93ACF1ABC1778064FDCBEFA921DF1626BE4FD036E93D75E6A50E3A41E98028FE5FC235F5B889A589CB5215F2A4"),
            size: 64,
        }
    }

    fn add_mod(&self, x: &BigUint, y: &BigUint) -> BigUint {
        (x + y) % &self.p
    }
    fn sub_mod(&self, x: &BigUint, y: &BigUint) -> BigUint {
        ((x + &self.p) - (y % &self.p)) % &self.p
    }
    fn mul_mod(&self, x: &BigUint, y: &BigUint) -> BigUint {
        (x * y) % &self.p
    }

    /// Jacobian doubling (general a).
    fn double(&self, pt: &Jac) -> Jac {
        if pt.z.is_zero() || pt.y.is_zero() {
            return Jac::infinity();
        }
        let xx = self.mul_mod(&pt.x, &pt.x);
        let yy = self.mul_mod(&pt.y, &pt.y);
        let yyyy = self.mul_mod(&yy, &yy);
        let zz = self.mul_mod(&pt.z, &pt.z);
        let s = self.mul_mod(&BigUint::from(4u8), &self.mul_mod(&pt.x, &yy));
        let m = self.add_mod(
            &self.mul_mod(&BigUint::from(3u8), &xx),
            &self.mul_mod(&self.a, &self.mul_mod(&zz, &zz)),
        );
        let x3 = self.sub_mod(
            &self.mul_mod(&m, &m),
            &self.mul_mod(&BigUint::from(2u8), &s),
        );
        let y3 = self.sub_mod(
            &self.mul_mod(&m, &self.sub_mod(&s, &x3)),
            &self.mul_mod(&BigUint::from(8u8), &yyyy),
        );
        let z3 = self.mul_mod(&BigUint::from(2u8), &self.mul_mod(&pt.y, &pt.z));
        Jac {
            x: x3,
            y: y3,
            z: z3,
        }
    }

    /// Jacobian addition.
    fn add(&self, p1: &Jac, p2: &Jac) -> Jac {
        if p1.z.is_zero() {
            return p2.clone();
        }
        if p2.z.is_zero() {
            return p1.clone();
        }
        let z1z1 = self.mul_mod(&p1.z, &p1.z);
        let z2z2 = self.mul_mod(&p2.z, &p2.z);
        let u1 = self.mul_mod(&p1.x, &z2z2);
        let u2 = self.mul_mod(&p2.x, &z1z1);
        let s1 = self.mul_mod(&p1.y, &self.mul_mod(&p2.z, &z2z2));
        let s2 = self.mul_mod(&p2.y, &self.mul_mod(&p1.z, &z1z1));
        if u1 == u2 {
            return if s1 == s2 {
                self.double(p1)
            } else {
                Jac::infinity()
            };
        }
        let hh = self.sub_mod(&u2, &u1);
        let r = self.sub_mod(&s2, &s1);
        let h2 = self.mul_mod(&hh, &hh);
        let h3 = self.mul_mod(&h2, &hh);
        let u1h2 = self.mul_mod(&u1, &h2);
        let x3 = self.sub_mod(
            &self.sub_mod(&self.mul_mod(&r, &r), &h3),
            &self.mul_mod(&BigUint::from(2u8), &u1h2),
        );
        let y3 = self.sub_mod(
            &self.mul_mod(&r, &self.sub_mod(&u1h2, &x3)),
            &self.mul_mod(&s1, &h3),
        );
        let z3 = self.mul_mod(&hh, &self.mul_mod(&p1.z, &p2.z));
        Jac {
            x: x3,
            y: y3,
            z: z3,
        }
    }

    /// Affine x of k1·G + k2·Q (Shamir's trick), None at infinity.
    fn double_mul_x(
        &self,
        k1: &BigUint,
        k2: &BigUint,
        qx: &BigUint,
        qy: &BigUint,
    ) -> Option<BigUint> {
        let g = Jac::affine(self.gx.clone(), self.gy.clone());
        let q = Jac::affine(qx.clone(), qy.clone());
        let gq = self.add(&g, &q);
        let bits = k1.bits().max(k2.bits());
        let mut acc = Jac::infinity();
        for i in (0..bits).rev() {
            acc = self.double(&acc);
            match (k1.bit(i), k2.bit(i)) {
                (true, true) => acc = self.add(&acc, &gq),
                (true, false) => acc = self.add(&acc, &g),
                (false, true) => acc = self.add(&acc, &q),
                (false, false) => {}
            }
        }
        if acc.z.is_zero() {
            return None;
        }
        let zinv = acc.z.modpow(&(&self.p - BigUint::from(2u8)), &self.p);
        let zinv2 = self.mul_mod(&zinv, &zinv);
        Some(self.mul_mod(&acc.x, &zinv2))
    }

    /// Is (x, y) on the curve?
    fn on_curve(&self, x: &BigUint, y: &BigUint) -> bool {
        let b = self.b();
        let lhs = self.mul_mod(y, y);
        let rhs = self.add_mod(
            &self.add_mod(
                &self.mul_mod(&self.mul_mod(x, x), x),
                &self.mul_mod(&self.a, x),
            ),
            &b,
        );
        x < &self.p && y < &self.p && lhs == rhs
    }

    fn b(&self) -> BigUint {
        // b = gy² − gx³ − a·gx (derived from the base point, so one constant less to mistype).
        let y2 = self.mul_mod(&self.gy, &self.gy);
        let x3 = self.mul_mod(&self.mul_mod(&self.gx, &self.gx), &self.gx);
        self.sub_mod(&self.sub_mod(&y2, &x3), &self.mul_mod(&self.a, &self.gx))
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
        let v = e.modpow(&(&self.q - BigUint::from(2u8)), &self.q);
        let z1 = (s * &v) % &self.q;
        let z2 = ((&self.q - r) * &v) % &self.q;
        self.double_mul_x(&z1, &z2, qx, qy)
            .is_some_and(|x| &(x % &self.q) == r)
    }
}

/// The TC26 512-bit paramSetA curve, parsed once.
static TC26_512_A: std::sync::LazyLock<Curve> = std::sync::LazyLock::new(Curve::tc26_512_a);

/// GOST R 34.10-2015 512-bit with Streebog-512, in the NCA's encoding: public key x‖y, signature
/// r‖s, digest, all little-endian.
#[derive(Debug)]
pub(crate) struct Gost2015_512;

/// The one instance the algorithm table hands out.
pub(crate) static GOST2015_512: Gost2015_512 = Gost2015_512;

impl super::SignatureVerifier for Gost2015_512 {
    fn name(&self) -> &'static str {
        "gost3410-2015-512"
    }

    fn verify(
        &self,
        key: &super::PublicKey,
        message: &[u8],
        signature: &[u8],
    ) -> Result<(), super::CryptoError> {
        use streebog::Digest;
        let super::PublicKey::Gost512(point) = key else {
            return Err(super::CryptoError::BadKey(format!(
                "{} cannot verify {}",
                key.describe(),
                self.name()
            )));
        };
        let curve = &*TC26_512_A;
        let n = curve.size;
        let (Some(qx), Some(qy), Some(r), Some(s)) = (
            point.get(..n),
            point.get(n..2 * n),
            signature.get(..n),
            signature.get(n..2 * n),
        ) else {
            return Err(super::CryptoError::BadSignature);
        };
        if signature.len() != 2 * n {
            return Err(super::CryptoError::BadSignature);
        }
        let digest = streebog::Streebog512::digest(message);
        let le = BigUint::from_bytes_le;
        if curve.verify(&le(&digest), &le(r), &le(s), &le(qx), &le(qy)) {
            Ok(())
        } else {
            Err(super::CryptoError::BadSignature)
        }
    }
}

#[derive(Clone, Debug)]
struct Jac {
    x: BigUint,
    y: BigUint,
    z: BigUint,
}

impl Jac {
    fn infinity() -> Self {
        Jac {
            x: BigUint::one(),
            y: BigUint::one(),
            z: BigUint::zero(),
        }
    }
    fn affine(x: BigUint, y: BigUint) -> Self {
        Jac {
            x,
            y,
            z: BigUint::one(),
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

    #[test]
    fn exactly_the_nca_byte_order_verifies_the_nca_gost_ca_certificate() {
        let root = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("../shared/testdata/kz");
        let Ok(ca) = std::fs::read(root.join("ca/nca_gost2015_test.cer")) else {
            return;
        };
        let Ok(r) = std::fs::read(root.join("ncanode-go/root_test_gost_2022.cer")) else {
            return;
        };
        let ca = parse_bundle(&ca).unwrap().remove(0);
        let rt = parse_bundle(&r).unwrap().remove(0);
        let k = match rt.public_key.as_ref().unwrap() {
            crate::crypto::PublicKey::Gost512(k) => k.clone(),
            other => panic!("{other:?}"),
        };
        assert_eq!(k.len(), 128);
        let curve = Curve::tc26_512_a();
        let digest = streebog::Streebog512::digest(&ca.tbs);
        let sig = &ca.signature;
        assert_eq!(sig.len(), 128);
        let (a, b) = sig.split_at(64);
        let mut found = Vec::new();
        for (kname, qx, qy) in [
            ("key-le", le(&k[..64]), le(&k[64..])),
            ("key-be", be(&k[..64]), be(&k[64..])),
        ] {
            if !curve.on_curve(&qx, &qy) {
                continue;
            }
            for (hname, e) in [("hash-le", le(&digest)), ("hash-be", be(&digest))] {
                for (sname, r, s) in [
                    ("r|s le", le(a), le(b)),
                    ("s|r le", le(b), le(a)),
                    ("r|s be", be(a), be(b)),
                    ("s|r be", be(b), be(a)),
                ] {
                    if curve.verify(&e, &r, &s, &qx, &qy) {
                        found.push(format!("{kname} {hname} {sname}"));
                    }
                }
            }
        }
        // Of the 16 encodings only the NCA's verifies: the samples decide, and they decide once.
        assert_eq!(found, vec!["key-le hash-le r|s le".to_owned()]);
    }
}
