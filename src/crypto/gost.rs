//! GOST R 34.10-2012 / 34.10-2001 signature verification (and KZ GOST 34.310-2004, which is the
//! same arithmetic), in pure Rust on Weierstrass curves.
//!
//! Verification (GOST R 34.10-2012 §6.2): with e = hash mod q (1 if 0), v = e⁻¹, z1 = s·v,
//! z2 = −r·v (mod q), C = z1·P + z2·Q, accept iff C.x mod q = r.
//!
//! Byte order follows the NCA's encoding, settled against the real Kalkan samples (see tests):
//! public key x‖y little-endian, digest read as a little-endian integer.

mod field;

use field::{Fe, Field};
use num_bigint::BigUint;
use num_traits::Zero;

/// Window width of the precomputed odd multiples of the base point (2^(W_G−2) = 32 points).
const W_G: u32 = 7;
/// Window width for the public key's odd multiples, computed per verification (8 points).
const W_Q: u32 = 5;

/// Curve parameters: y² = x³ + a·x + b over F_p, base point G of prime order q.
#[derive(Debug)]
pub struct Curve {
    /// Name for messages.
    pub name: &'static str,
    /// Coordinate size in bytes (32 or 64).
    pub size: usize,
    /// The order of the base point.
    pub q: BigUint,
    p: BigUint,
    imp: Imp,
}

/// The arithmetic, at the limb count the field needs.
#[derive(Debug)]
enum Imp {
    W4(Box<Weier<4>>),
    W8(Box<Weier<8>>),
}

fn h(s: &str) -> BigUint {
    BigUint::parse_bytes(s.as_bytes(), 16).unwrap_or_default()
}

impl Curve {
    /// A curve from hex constants (p, a, b, q, base point) and its coordinate size in bytes.
    pub fn from_hex(name: &'static str, [p, a, b, q, gx, gy]: [&str; 6], size: usize) -> Self {
        let (p, a, b, q, gx, gy) = (h(p), h(a), h(b), h(q), h(gx), h(gy));
        let imp = if p.bits() <= 256 {
            Imp::W4(Box::new(Weier::new(&p, &a, &b, &gx, &gy)))
        } else {
            Imp::W8(Box::new(Weier::new(&p, &a, &b, &gx, &gy)))
        };
        Self {
            name,
            size,
            q,
            p,
            imp,
        }
    }

    /// The base point (affine).
    pub fn base_point(&self) -> (BigUint, BigUint) {
        match &self.imp {
            Imp::W4(w) => w.affine_big(&w.g),
            Imp::W8(w) => w.affine_big(&w.g),
        }
    }

    /// Is (x, y) on the curve?
    pub fn on_curve(&self, x: &BigUint, y: &BigUint) -> bool {
        if x >= &self.p || y >= &self.p {
            return false;
        }
        match &self.imp {
            Imp::W4(w) => w.on_curve(&w.point(x, y)),
            Imp::W8(w) => w.on_curve(&w.point(x, y)),
        }
    }

    /// Affine x of k1·G + k2·(qx, qy); None at infinity.
    pub fn mul_x(&self, k1: &BigUint, k2: &BigUint, qx: &BigUint, qy: &BigUint) -> Option<BigUint> {
        match &self.imp {
            Imp::W4(w) => w.affine_x(&w.double_mul(k1, k2, &w.point(qx, qy))),
            Imp::W8(w) => w.affine_x(&w.double_mul(k1, k2, &w.point(qx, qy))),
        }
    }

    /// Verifies (r, s) over the digest value `e` with public key (qx, qy) (GOST R 34.10-2012 §6.2).
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
            e = BigUint::from(1u8);
        }
        let Some(v) = e.modinv(&self.q) else {
            return false;
        };
        let z1 = (s * &v) % &self.q;
        let z2 = ((&self.q - r) * &v) % &self.q;
        match &self.imp {
            Imp::W4(w) => w.check_x(
                &w.double_mul(&z1, &z2, &w.point(qx, qy)),
                r,
                &self.q,
                &self.p,
            ),
            Imp::W8(w) => w.check_x(
                &w.double_mul(&z1, &z2, &w.point(qx, qy)),
                r,
                &self.q,
                &self.p,
            ),
        }
    }
}

#[derive(Clone, Copy, Debug)]
struct Affine<const L: usize> {
    x: Fe<L>,
    y: Fe<L>,
}

#[derive(Clone, Copy, Debug)]
struct Jac<const L: usize> {
    x: Fe<L>,
    y: Fe<L>,
    z: Fe<L>,
    inf: bool,
}

/// Short Weierstrass arithmetic in Jacobian coordinates (formulas from the Explicit-Formulas
/// Database: dbl-2001-b for a = −3, dbl-2007-bl otherwise, add-2007-bl, madd-2007-bl).
#[derive(Debug)]
struct Weier<const L: usize> {
    f: Field<L>,
    a: Fe<L>,
    b: Fe<L>,
    a_is_minus_3: bool,
    g: Affine<L>,
    /// G, 3G, 5G, … (2^(W_G−1) − 1)G, affine.
    g_table: Vec<Affine<L>>,
}

impl<const L: usize> Weier<L> {
    fn new(p: &BigUint, a: &BigUint, b: &BigUint, gx: &BigUint, gy: &BigUint) -> Self {
        // The constants are compiled in; a modulus that does not fit is a programming error the
        // tests catch (every named curve is checked there).
        let f = Field::<L>::new(p).unwrap_or_else(|| panic!("GOST modulus does not fit {L} limbs"));
        let mut w = Self {
            a: f.element(a),
            b: f.element(b),
            a_is_minus_3: (a + 3u8) == *p,
            g: Affine {
                x: f.element(gx),
                y: f.element(gy),
            },
            g_table: Vec::new(),
            f,
        };
        let multiples = w.odd_multiples(&w.to_jac(&w.g), W_G);
        w.g_table = multiples.iter().map(|j| w.to_affine(j)).collect();
        w
    }

    fn point(&self, x: &BigUint, y: &BigUint) -> Affine<L> {
        Affine {
            x: self.f.element(x),
            y: self.f.element(y),
        }
    }

    fn affine_big(&self, p: &Affine<L>) -> (BigUint, BigUint) {
        (self.f.value(&p.x), self.f.value(&p.y))
    }

    fn on_curve(&self, p: &Affine<L>) -> bool {
        let f = &self.f;
        let rhs = f.add(&f.mul(&f.add(&f.sqr(&p.x), &self.a), &p.x), &self.b);
        f.sqr(&p.y) == rhs
    }

    fn infinity(&self) -> Jac<L> {
        Jac {
            x: self.f.one(),
            y: self.f.one(),
            z: self.f.zero(),
            inf: true,
        }
    }

    fn to_jac(&self, p: &Affine<L>) -> Jac<L> {
        Jac {
            x: p.x,
            y: p.y,
            z: self.f.one(),
            inf: false,
        }
    }

    fn to_affine(&self, p: &Jac<L>) -> Affine<L> {
        let f = &self.f;
        let zi = f.inv(&p.z);
        let zi2 = f.sqr(&zi);
        Affine {
            x: f.mul(&p.x, &zi2),
            y: f.mul(&p.y, &f.mul(&zi2, &zi)),
        }
    }

    fn affine_x(&self, p: &Jac<L>) -> Option<BigUint> {
        if p.inf || p.z == self.f.zero() {
            return None;
        }
        Some(self.f.value(&self.to_affine(p).x))
    }

    fn dbl(&self, p: &Jac<L>) -> Jac<L> {
        let f = &self.f;
        if p.inf || p.y == f.zero() {
            return self.infinity();
        }
        if self.a_is_minus_3 {
            // dbl-2001-b: 3M + 5S.
            let delta = f.sqr(&p.z);
            let gamma = f.sqr(&p.y);
            let beta = f.mul(&p.x, &gamma);
            let t = f.mul(&f.sub(&p.x, &delta), &f.add(&p.x, &delta));
            let alpha = f.add(&f.add(&t, &t), &t);
            let beta4 = f.add(&f.add(&beta, &beta), &f.add(&beta, &beta));
            let x3 = f.sub(&f.sqr(&alpha), &f.add(&beta4, &beta4));
            let z3 = f.sub(&f.sub(&f.sqr(&f.add(&p.y, &p.z)), &gamma), &delta);
            let g2 = f.sqr(&gamma);
            let g8 = f.add(&g2, &g2);
            let g8 = f.add(&g8, &g8);
            let g8 = f.add(&g8, &g8);
            let y3 = f.sub(&f.mul(&alpha, &f.sub(&beta4, &x3)), &g8);
            return Jac {
                x: x3,
                y: y3,
                z: z3,
                inf: false,
            };
        }
        // dbl-2007-bl: 1M + 8S + 1·a.
        let xx = f.sqr(&p.x);
        let yy = f.sqr(&p.y);
        let yyyy = f.sqr(&yy);
        let zz = f.sqr(&p.z);
        let t = f.sub(&f.sub(&f.sqr(&f.add(&p.x, &yy)), &xx), &yyyy);
        let s = f.add(&t, &t);
        let m = f.add(&f.add(&f.add(&xx, &xx), &xx), &f.mul(&self.a, &f.sqr(&zz)));
        let x3 = f.sub(&f.sqr(&m), &f.add(&s, &s));
        let y8 = f.add(&yyyy, &yyyy);
        let y8 = f.add(&y8, &y8);
        let y8 = f.add(&y8, &y8);
        let y3 = f.sub(&f.mul(&m, &f.sub(&s, &x3)), &y8);
        let z3 = f.sub(&f.sub(&f.sqr(&f.add(&p.y, &p.z)), &yy), &zz);
        Jac {
            x: x3,
            y: y3,
            z: z3,
            inf: false,
        }
    }

    /// p1 + p2 (add-2007-bl, 11M + 5S), with the doubling and inverse cases.
    fn add(&self, p1: &Jac<L>, p2: &Jac<L>) -> Jac<L> {
        let f = &self.f;
        if p1.inf {
            return *p2;
        }
        if p2.inf {
            return *p1;
        }
        let z1z1 = f.sqr(&p1.z);
        let z2z2 = f.sqr(&p2.z);
        let u1 = f.mul(&p1.x, &z2z2);
        let u2 = f.mul(&p2.x, &z1z1);
        let s1 = f.mul(&f.mul(&p1.y, &p2.z), &z2z2);
        let s2 = f.mul(&f.mul(&p2.y, &p1.z), &z1z1);
        if u1 == u2 {
            return if s1 == s2 {
                self.dbl(p1)
            } else {
                self.infinity()
            };
        }
        let hh = f.sub(&u2, &u1);
        let i = f.sqr(&f.add(&hh, &hh));
        let j = f.mul(&hh, &i);
        let rr = f.sub(&s2, &s1);
        let rr = f.add(&rr, &rr);
        let v = f.mul(&u1, &i);
        let x3 = f.sub(&f.sub(&f.sqr(&rr), &j), &f.add(&v, &v));
        let s1j = f.mul(&s1, &j);
        let y3 = f.sub(&f.mul(&rr, &f.sub(&v, &x3)), &f.add(&s1j, &s1j));
        let zs = f.sub(&f.sub(&f.sqr(&f.add(&p1.z, &p2.z)), &z1z1), &z2z2);
        Jac {
            x: x3,
            y: y3,
            z: f.mul(&zs, &hh),
            inf: false,
        }
    }

    /// p1 + p2 with p2 affine (madd-2007-bl, 7M + 4S).
    fn add_affine(&self, p1: &Jac<L>, p2: &Affine<L>) -> Jac<L> {
        let f = &self.f;
        if p1.inf {
            return self.to_jac(p2);
        }
        let z1z1 = f.sqr(&p1.z);
        let u2 = f.mul(&p2.x, &z1z1);
        let s2 = f.mul(&f.mul(&p2.y, &p1.z), &z1z1);
        if p1.x == u2 {
            return if p1.y == s2 {
                self.dbl(p1)
            } else {
                self.infinity()
            };
        }
        let hh = f.sub(&u2, &p1.x);
        let hh2 = f.sqr(&hh);
        let i = f.add(&f.add(&hh2, &hh2), &f.add(&hh2, &hh2));
        let j = f.mul(&hh, &i);
        let rr = f.sub(&s2, &p1.y);
        let rr = f.add(&rr, &rr);
        let v = f.mul(&p1.x, &i);
        let x3 = f.sub(&f.sub(&f.sqr(&rr), &j), &f.add(&v, &v));
        let yj = f.mul(&p1.y, &j);
        let y3 = f.sub(&f.mul(&rr, &f.sub(&v, &x3)), &f.add(&yj, &yj));
        let z3 = f.sub(&f.sub(&f.sqr(&f.add(&p1.z, &hh)), &z1z1), &hh2);
        Jac {
            x: x3,
            y: y3,
            z: z3,
            inf: false,
        }
    }

    fn neg_jac(&self, p: &Jac<L>) -> Jac<L> {
        Jac {
            y: self.f.sub(&self.f.zero(), &p.y),
            ..*p
        }
    }

    fn neg_affine(&self, p: &Affine<L>) -> Affine<L> {
        Affine {
            x: p.x,
            y: self.f.sub(&self.f.zero(), &p.y),
        }
    }

    /// P, 3P, 5P, … (2^(w−1) − 1)P.
    fn odd_multiples(&self, p: &Jac<L>, w: u32) -> Vec<Jac<L>> {
        let n = 1usize << (w - 2);
        let twice = self.dbl(p);
        let mut out = Vec::with_capacity(n);
        out.push(*p);
        let mut last = *p;
        for _ in 1..n {
            last = self.add(&last, &twice);
            out.push(last);
        }
        out
    }

    /// k1·G + k2·Q by interleaved width-w NAF (G from the precomputed affine table).
    #[allow(clippy::indexing_slicing)] // digits are odd and below 2^(w−1): table indices in range
    fn double_mul(&self, k1: &BigUint, k2: &BigUint, q: &Affine<L>) -> Jac<L> {
        let d1 = wnaf(k1, W_G);
        let d2 = wnaf(k2, W_Q);
        let q_table = self.odd_multiples(&self.to_jac(q), W_Q);
        let mut acc = self.infinity();
        for i in (0..d1.len().max(d2.len())).rev() {
            acc = self.dbl(&acc);
            if let Some(&d) = d1.get(i) {
                if d > 0 {
                    acc = self.add_affine(&acc, &self.g_table[usize::from(d.unsigned_abs() / 2)]);
                } else if d < 0 {
                    let g = self.neg_affine(&self.g_table[usize::from(d.unsigned_abs() / 2)]);
                    acc = self.add_affine(&acc, &g);
                }
            }
            if let Some(&d) = d2.get(i) {
                if d > 0 {
                    acc = self.add(&acc, &q_table[usize::from(d.unsigned_abs() / 2)]);
                } else if d < 0 {
                    let m = self.neg_jac(&q_table[usize::from(d.unsigned_abs() / 2)]);
                    acc = self.add(&acc, &m);
                }
            }
        }
        acc
    }

    /// Does x(P) mod q equal r? Without an inversion: x = X/Z², so test X = c·Z² for each
    /// c ≡ r (mod q) below p (one or two values; four for the cofactor-4 curves).
    fn check_x(&self, p: &Jac<L>, r: &BigUint, q: &BigUint, modulus: &BigUint) -> bool {
        if p.inf || p.z == self.f.zero() {
            return false;
        }
        let zz = self.f.sqr(&p.z);
        let mut c = r.clone();
        while &c < modulus {
            if self.f.mul(&self.f.element(&c), &zz) == p.x {
                return true;
            }
            c += q;
        }
        false
    }
}

/// Width-w non-adjacent form, least significant digit first: digits are 0 or odd in
/// (−2^(w−1), 2^(w−1)).
fn wnaf(k: &BigUint, w: u32) -> Vec<i8> {
    let mut limbs = k.to_u64_digits();
    limbs.push(0);
    let mut out = Vec::with_capacity(limbs.len() * 64 + 1);
    let full = 1i64 << w;
    let half = 1i64 << (w - 1);
    let is_zero = |l: &[u64]| l.iter().all(|&x| x == 0);
    while !is_zero(&limbs) {
        let mut digit = 0i64;
        let low = limbs.first().copied().unwrap_or(0);
        if low & 1 == 1 {
            let m = (low & u64::try_from(full - 1).unwrap_or(0)) as i64;
            digit = if m >= half { m - full } else { m };
            // k −= digit (digit odd, |digit| < 2^(w−1)); carries/borrows ripple up.
            if digit > 0 {
                let mut borrow = digit.unsigned_abs();
                for l in limbs.iter_mut() {
                    let (v, b) = l.overflowing_sub(borrow);
                    *l = v;
                    borrow = u64::from(b);
                    if borrow == 0 {
                        break;
                    }
                }
            } else {
                let mut carry = digit.unsigned_abs();
                for l in limbs.iter_mut() {
                    let (v, c) = l.overflowing_add(carry);
                    *l = v;
                    carry = u64::from(c);
                    if carry == 0 {
                        break;
                    }
                }
            }
        }
        out.push(i8::try_from(digit).unwrap_or(0));
        // k >>= 1
        let mut carry = 0u64;
        for l in limbs.iter_mut().rev() {
            let next = *l & 1;
            *l = (*l >> 1) | (carry << 63);
            carry = next;
        }
    }
    out
}

/// The named GOST parameter sets tekser verifies with (RFC 4357 §11.4 CryptoPro sets, RFC 7836
/// TC26 sets; the NCA uses CryptoPro-A for GOST 34.310-2004 and TC26 256-A / 512-A for
/// GOST R 34.10-2015). Constants as published in those RFCs and carried by gost-engine,
/// BouncyCastle (Kalkan is a fork of it) and libgcrypt; the tests check for every set that the
/// base point is on the curve and has order q.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum GostCurve {
    /// id-GostR3410-2001-CryptoPro-A-ParamSet (= TC26 256-B; also XchA).
    CryptoProA,
    /// id-GostR3410-2001-CryptoPro-B-ParamSet (= TC26 256-C).
    CryptoProB,
    /// id-GostR3410-2001-CryptoPro-C-ParamSet (= TC26 256-D; also XchB).
    CryptoProC,
    /// id-tc26-gost-3410-2012-256-paramSetA (Weierstrass form of RFC 7836 §A.2; cofactor 4).
    Tc26_256A,
    /// id-tc26-gost-3410-12-512-paramSetA.
    Tc26_512A,
    /// id-tc26-gost-3410-12-512-paramSetB.
    Tc26_512B,
    /// id-tc26-gost-3410-2012-512-paramSetC (cofactor 4).
    Tc26_512C,
}

/// Parameter-set OIDs, standard (RFC 4357, RFC 7836, RFC 9215) and the NCA's (KZ).
pub mod param_oid {
    use crate::asn1::Oid;
    /// CryptoPro-A.
    pub const CRYPTOPRO_A: Oid = Oid::new_unwrap("1.2.643.2.2.35.1");
    /// CryptoPro-B.
    pub const CRYPTOPRO_B: Oid = Oid::new_unwrap("1.2.643.2.2.35.2");
    /// CryptoPro-C.
    pub const CRYPTOPRO_C: Oid = Oid::new_unwrap("1.2.643.2.2.35.3");
    /// CryptoPro-XchA (the curve of CryptoPro-A).
    pub const CRYPTOPRO_XCH_A: Oid = Oid::new_unwrap("1.2.643.2.2.36.0");
    /// CryptoPro-XchB (the curve of CryptoPro-C).
    pub const CRYPTOPRO_XCH_B: Oid = Oid::new_unwrap("1.2.643.2.2.36.1");
    /// TC26 256 paramSetA.
    pub const TC26_256_A: Oid = Oid::new_unwrap("1.2.643.7.1.2.1.1.1");
    /// TC26 256 paramSetB (= CryptoPro-A).
    pub const TC26_256_B: Oid = Oid::new_unwrap("1.2.643.7.1.2.1.1.2");
    /// TC26 256 paramSetC (= CryptoPro-B).
    pub const TC26_256_C: Oid = Oid::new_unwrap("1.2.643.7.1.2.1.1.3");
    /// TC26 256 paramSetD (= CryptoPro-C).
    pub const TC26_256_D: Oid = Oid::new_unwrap("1.2.643.7.1.2.1.1.4");
    /// TC26 512 paramSetA.
    pub const TC26_512_A: Oid = Oid::new_unwrap("1.2.643.7.1.2.1.2.1");
    /// TC26 512 paramSetB.
    pub const TC26_512_B: Oid = Oid::new_unwrap("1.2.643.7.1.2.1.2.2");
    /// TC26 512 paramSetC.
    pub const TC26_512_C: Oid = Oid::new_unwrap("1.2.643.7.1.2.1.2.3");
    /// NCA: GOST 34.310-2004 parameter set A (CryptoPro-A).
    pub const KZ_2004_A: Oid = Oid::new_unwrap("1.2.398.3.10.1.1.1.1.1");
    /// NCA: GOST R 34.10-2015 256-bit parameter set A (TC26 256-A).
    pub const KZ_2015_256_A: Oid = Oid::new_unwrap("1.2.398.3.10.1.1.2.1.1");
    /// NCA: GOST R 34.10-2015 512-bit parameter set A (TC26 512-A).
    pub const KZ_2015_512_A: Oid = Oid::new_unwrap("1.2.398.3.10.1.1.2.2.1");
}

impl GostCurve {
    /// The parameter set an OID names.
    pub fn from_oid(o: &crate::asn1::Oid) -> Option<Self> {
        use param_oid as p;
        Some(match *o {
            p::CRYPTOPRO_A | p::CRYPTOPRO_XCH_A | p::TC26_256_B | p::KZ_2004_A => Self::CryptoProA,
            p::CRYPTOPRO_B | p::TC26_256_C => Self::CryptoProB,
            p::CRYPTOPRO_C | p::CRYPTOPRO_XCH_B | p::TC26_256_D => Self::CryptoProC,
            p::TC26_256_A | p::KZ_2015_256_A => Self::Tc26_256A,
            p::TC26_512_A | p::KZ_2015_512_A => Self::Tc26_512A,
            p::TC26_512_B => Self::Tc26_512B,
            p::TC26_512_C => Self::Tc26_512C,
            _ => return None,
        })
    }

    /// Coordinate size in bytes (32 or 64).
    pub fn size(self) -> usize {
        match self {
            Self::Tc26_512A | Self::Tc26_512B | Self::Tc26_512C => 64,
            _ => 32,
        }
    }

    /// The curve, built once.
    pub fn curve(self) -> &'static Curve {
        static CURVES: std::sync::LazyLock<[Curve; 7]> = std::sync::LazyLock::new(|| {
            [
                GostCurve::CryptoProA,
                GostCurve::CryptoProB,
                GostCurve::CryptoProC,
                GostCurve::Tc26_256A,
                GostCurve::Tc26_512A,
                GostCurve::Tc26_512B,
                GostCurve::Tc26_512C,
            ]
            .map(GostCurve::build)
        });
        let i = self as usize;
        // `i` is the discriminant of a 7-variant enum, the array has 7 entries in that order.
        #[allow(clippy::indexing_slicing)]
        &CURVES[i]
    }

    fn build(self) -> Curve {
        let (name, hex) = match self {
            Self::CryptoProA => (
                "id-GostR3410-2001-CryptoPro-A-ParamSet",
                [
                    "FFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFD97",
                    "FFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFD94",
                    "A6",
                    "FFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFF6C611070995AD10045841B09B761B893",
                    "1",
                    "8D91E471E0989CDA27DF505A453F2B7635294F2DDF23E3B122ACC99C9E9F1E14",
                ],
            ),
            Self::CryptoProB => (
                "id-GostR3410-2001-CryptoPro-B-ParamSet",
                [
                    "8000000000000000000000000000000000000000000000000000000000000C99",
                    "8000000000000000000000000000000000000000000000000000000000000C96",
                    "3E1AF419A269A5F866A7D3C25C3DF80AE979259373FF2B182F49D4CE7E1BBC8B",
                    "800000000000000000000000000000015F700CFFF1A624E5E497161BCC8A198F",
                    "1",
                    "3FA8124359F96680B83D1C3EB2C070E5C545C9858D03ECFB744BF8D717717EFC",
                ],
            ),
            Self::CryptoProC => (
                "id-GostR3410-2001-CryptoPro-C-ParamSet",
                [
                    "9B9F605F5A858107AB1EC85E6B41C8AACF846E86789051D37998F7B9022D759B",
                    "9B9F605F5A858107AB1EC85E6B41C8AACF846E86789051D37998F7B9022D7598",
                    "805A",
                    "9B9F605F5A858107AB1EC85E6B41C8AA582CA3511EDDFB74F02F3A6598980BB9",
                    "0",
                    "41ECE55743711A8C3CBF3783CD08C0EE4D4DC440D4641A8F366E550DFDB3BB67",
                ],
            ),
            Self::Tc26_256A => (
                "id-tc26-gost-3410-2012-256-paramSetA",
                [
                    "FFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFD97",
                    "C2173F1513981673AF4892C23035A27CE25E2013BF95AA33B22C656F277E7335",
                    "295F9BAE7428ED9CCC20E7C359A9D41A22FCCD9108E17BF7BA9337A6F8AE9513",
                    "400000000000000000000000000000000FD8CDDFC87B6635C115AF556C360C67",
                    "91E38443A5E82C0D880923425712B2BB658B9196932E02C78B2582FE742DAA28",
                    "32879423AB1A0375895786C4BB46E9565FDE0B5344766740AF268ADB32322E5C",
                ],
            ),
            Self::Tc26_512A => (
                "id-tc26-gost-3410-12-512-paramSetA",
                [
                    "FFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFDC7",
                    "FFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFDC4",
                    "E8C2505DEDFC86DDC1BD0B2B6667F1DA34B82574761CB0E879BD081CFD0B6265EE3CB090F30D27614CB4574010DA90DD862EF9D4EBEE4761503190785A71C760",
                    "FFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFF27E69532F48D89116FF22B8D4E0560609B4B38ABFAD2B85DCACDB1411F10B275",
                    "3",
                    "7503CFE87A836AE3A61B8816E25450E6CE5E1C93ACF1ABC1778064FDCBEFA921DF1626BE4FD036E93D75E6A50E3A41E98028FE5FC235F5B889A589CB5215F2A4",
                ],
            ),
            Self::Tc26_512B => (
                "id-tc26-gost-3410-12-512-paramSetB",
                [
                    "8000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000006F",
                    "8000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000006C",
                    "687D1B459DC841457E3E06CF6F5E2517B97C7D614AF138BCBF85DC806C4B289F3E965D2DB1416D217F8B276FAD1AB69C50F78BEE1FA3106EFB8CCBC7C5140116",
                    "800000000000000000000000000000000000000000000000000000000000000149A1EC142565A545ACFDB77BD9D40CFA8B996712101BEA0EC6346C54374F25BD",
                    "2",
                    "1A8F7EDA389B094C2C071E3647A8940F3C123B697578C213BE6DD9E6C8EC7335DCB228FD1EDF4A39152CBCAAF8C0398828041055F94CEEEC7E21340780FE41BD",
                ],
            ),
            Self::Tc26_512C => (
                "id-tc26-gost-3410-2012-512-paramSetC",
                [
                    "FFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFDC7",
                    "DC9203E514A721875485A529D2C722FB187BC8980EB866644DE41C68E143064546E861C0E2C9EDD92ADE71F46FCF50FF2AD97F951FDA9F2A2EB6546F39689BD3",
                    "B4C4EE28CEBC6C2C8AC12952CF37F16AC7EFB6A9F69F4B57FFDA2E4F0DE5ADE038CBC2FFF719D2C18DE0284B8BFEF3B52B8CC7A5F5BF0A3C8D2319A5312557E1",
                    "3FFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFC98CDBA46506AB004C33A9FF5147502CC8EDA9E7A769A12694623CEF47F023ED",
                    "E2E31EDFC23DE7BDEBE241CE593EF5DE2295B7A9CBAEF021D385F7074CEA043AA27272A7AE602BF2A7B9033DB9ED3610C6FB85487EAE97AAC5BC7928C1950148",
                    "F5CE40D95B5EB899ABBCCFF5911CB8577939804D6527378B8C108C3D2090FF9BE18E2D33E3021ED2EF32D85822423B6304F726AA854BAE07D0396E9A9ADDC40F",
                ],
            ),
        };
        Curve::from_hex(name, hex, self.size())
    }
}

/// The key families: which signature algorithms a key may be used with.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum GostKeyFamily {
    /// GOST R 34.10-2001 (and the NCA's GOST 34.310-2004): 256-bit.
    Gost2001,
    /// GOST R 34.10-2012/2015, 256-bit.
    Gost2012_256,
    /// GOST R 34.10-2012/2015, 512-bit.
    Gost2012_512,
}

/// How a GOST signature value is laid out.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Layout {
    /// The NCA's (Kalkan's): r‖s, each little-endian.
    NcaLittleEndian,
    /// RFC 4491 / RFC 9215: s‖r, each big-endian (the byte reversal of the NCA's layout).
    Rfc4491,
}

/// A GOST signature algorithm: hash, key family and signature layout. The public key is x‖y
/// little-endian and the digest is read as a little-endian integer in both layouts.
#[derive(Debug)]
pub(crate) struct GostVerifier {
    name: &'static str,
    family: GostKeyFamily,
    hash: fn(&[u8]) -> Vec<u8>,
    layout: Layout,
}

fn streebog256(m: &[u8]) -> Vec<u8> {
    use streebog::Digest;
    streebog::Streebog256::digest(m).to_vec()
}
fn streebog512(m: &[u8]) -> Vec<u8> {
    use streebog::Digest;
    streebog::Streebog512::digest(m).to_vec()
}
fn gost94_test(m: &[u8]) -> Vec<u8> {
    use gost94::Digest;
    gost94::Gost94Test::digest(m).to_vec()
}
fn gost94_cryptopro(m: &[u8]) -> Vec<u8> {
    use gost94::Digest;
    gost94::Gost94CryptoPro::digest(m).to_vec()
}

/// GOST R 34.10-2015 512-bit with Streebog-512, NCA layout.
pub(crate) static GOST2015_512: GostVerifier = GostVerifier {
    name: "gost3410-2015-512",
    family: GostKeyFamily::Gost2012_512,
    hash: streebog512,
    layout: Layout::NcaLittleEndian,
};

/// GOST R 34.10-2015 256-bit with Streebog-256, NCA layout.
pub(crate) static GOST2015_256: GostVerifier = GostVerifier {
    name: "gost3410-2015-256",
    family: GostKeyFamily::Gost2012_256,
    hash: streebog256,
    layout: Layout::NcaLittleEndian,
};

/// GOST 34.310-2004 (GOST R 34.10-2001 arithmetic) with GOST 34.311-95 ("test" S-boxes), NCA layout.
pub(crate) static GOST34310_2004: GostVerifier = GostVerifier {
    name: "gost34310-2004",
    family: GostKeyFamily::Gost2001,
    hash: gost94_test,
    layout: Layout::NcaLittleEndian,
};

/// id-tc26-signwithdigest-gost3410-12-512 (RFC 9215).
pub(crate) static GOST2012_512: GostVerifier = GostVerifier {
    name: "gost3410-2012-512",
    family: GostKeyFamily::Gost2012_512,
    hash: streebog512,
    layout: Layout::Rfc4491,
};

/// id-tc26-signwithdigest-gost3410-12-256 (RFC 9215).
pub(crate) static GOST2012_256: GostVerifier = GostVerifier {
    name: "gost3410-2012-256",
    family: GostKeyFamily::Gost2012_256,
    hash: streebog256,
    layout: Layout::Rfc4491,
};

/// id-GostR3411-94-with-GostR3410-2001 (RFC 4491), GOST R 34.11-94 with CryptoPro S-boxes.
pub(crate) static GOST2001: GostVerifier = GostVerifier {
    name: "gost3410-2001",
    family: GostKeyFamily::Gost2001,
    hash: gost94_cryptopro,
    layout: Layout::Rfc4491,
};

impl GostVerifier {
    /// The key family this algorithm needs.
    pub(crate) fn family(&self) -> GostKeyFamily {
        self.family
    }
}

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
        let super::PublicKey::Gost {
            family,
            curve,
            point,
        } = key
        else {
            return Err(super::CryptoError::BadKey(format!(
                "{} cannot verify {}",
                key.describe(),
                self.name
            )));
        };
        if *family != self.family {
            return Err(super::CryptoError::BadKey(format!(
                "{} cannot verify {}",
                key.describe(),
                self.name
            )));
        }
        let curve = curve.curve();
        let n = curve.size;
        if signature.len() != 2 * n || point.len() != 2 * n {
            return Err(super::CryptoError::BadSignature);
        }
        let mut sig = signature.to_vec();
        if self.layout == Layout::Rfc4491 {
            sig.reverse();
        }
        let (qx, qy) = point.split_at(n);
        let (r, s) = sig.split_at(n);
        let le = BigUint::from_bytes_le;
        let digest = (self.hash)(message);
        if curve.verify(&le(&digest), &le(r), &le(s), &le(qx), &le(qy)) {
            Ok(())
        } else {
            Err(super::CryptoError::BadSignature)
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

    fn kz(rel: &str) -> crate::pki::cert::Certificate {
        let root = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/data/kz");
        let data = std::fs::read(root.join(rel)).unwrap_or_else(|e| {
            panic!("tests/data/kz/{rel} (public test data in the repository): {e}")
        });
        parse_bundle(&data).unwrap().remove(0)
    }

    const ALL: [GostCurve; 7] = [
        GostCurve::CryptoProA,
        GostCurve::CryptoProB,
        GostCurve::CryptoProC,
        GostCurve::Tc26_256A,
        GostCurve::Tc26_512A,
        GostCurve::Tc26_512B,
        GostCurve::Tc26_512C,
    ];

    #[test]
    fn constants_are_consistent() {
        for id in ALL {
            let c = id.curve();
            assert_eq!(c.size, id.size());
            // The base point is on the curve and q·G = O: together they pin p, a, b, G and q.
            let (gx, gy) = c.base_point();
            assert!(c.on_curve(&gx, &gy), "{}", c.name);
            assert!(!c.on_curve(&gx, &(&gy + 1u8)), "{}", c.name);
            let zero = BigUint::zero();
            assert_eq!(
                c.mul_x(&c.q, &zero, &gx, &gy),
                None,
                "{}: q·G is not O",
                c.name
            );
            assert!(c.mul_x(&(&c.q - 1u8), &zero, &gx, &gy).is_some());
            // The joint multiplication agrees with its parts: 5G + 7G = 12G (x of both).
            let x12 = c.mul_x(&BigUint::from(12u8), &zero, &gx, &gy);
            assert_eq!(
                c.mul_x(&BigUint::from(5u8), &BigUint::from(7u8), &gx, &gy),
                x12
            );
        }
    }

    /// The test curve and example of GOST R 34.10-2012 Appendix A.1 (= RFC 7091 §7.1, and
    /// RFC 5832 §7.1 for 34.10-2001): e, r, s and Q are printed as integers there.
    #[test]
    fn rfc7091_example_256() {
        let c = Curve::from_hex(
            "34.10-2012 A.1 test curve",
            [
                "8000000000000000000000000000000000000000000000000000000000000431",
                "7",
                "5FBFF498AA938CE739B8E022FBAFEF40563F6E6A3472FC2A514C0CE9DAE23B7E",
                "8000000000000000000000000000000150FE8A1892976154C59CFC193ACCF5B3",
                "2",
                "08E2A8A0E65147D4BD6316030E16D19C85C97F0A9CA267122B96ABBCEA7E8FC8",
            ],
            32,
        );
        let (gx, gy) = c.base_point();
        assert!(c.on_curve(&gx, &gy));
        let qx = h("7F2B49E270DB6D90D8595BEC458B50C58585BA1D4E9B788F6689DBD8E56FD80B");
        let qy = h("26F1B489D6701DD185C8413A977B3CBBAF64D1C593D26627DFFB101A87FF77DA");
        let e = h("2DFBC1B372D89A1188C09C52E0EEC61FCE52032AB1022E8E67ECE6672B043EE5");
        let r = h("41AA28D2F1AB148280CD9ED56FEDA41974053554A42767B83AD043FD39DC0493");
        let s = h("01456C64BA4642A1653C235A98A60249BCD6D3F746B631DF928014F6C5BF9C40");
        assert!(c.verify(&e, &r, &s, &qx, &qy));
        assert!(!c.verify(&(&e + 1u8), &r, &s, &qx, &qy));
        assert!(!c.verify(&e, &(&r + 1u8), &s, &qx, &qy));
        assert!(!c.verify(&e, &r, &(&s + 1u8), &qx, &qy));
        assert!(!c.verify(&e, &r, &s, &qy, &qx));
    }

    /// GOST R 34.10-2012 Appendix A.2 (= RFC 7091 §7.2): the 512-bit example.
    #[test]
    fn rfc7091_example_512() {
        let c = Curve::from_hex(
            "34.10-2012 A.2 test curve",
            [
                "4531ACD1FE0023C7550D267B6B2FEE80922B14B2FFB90F04D4EB7C09B5D2D15DF1D852741AF4704A0458047E80E4546D35B8336FAC224DD81664BBF528BE6373",
                "7",
                "1CFF0806A31116DA29D8CFA54E57EB748BC5F377E49400FDD788B649ECA1AC4361834013B2AD7322480A89CA58E0CF74BC9E540C2ADD6897FAD0A3084F302ADC",
                "4531ACD1FE0023C7550D267B6B2FEE80922B14B2FFB90F04D4EB7C09B5D2D15DA82F2D7ECB1DBAC719905C5EECC423F1D86E25EDBE23C595D644AAF187E6E6DF",
                "24D19CC64572EE30F396BF6EBBFD7A6C5213B3B3D7057CC825F91093A68CD762FD60611262CD838DC6B60AA7EEE804E28BC849977FAC33B4B530F1B120248A9A",
                "2BB312A43BD2CE6E0D020613C857ACDDCFBF061E91E5F2C3F32447C259F39B2C83AB156D77F1496BF7EB3351E1EE4E43DC1A18B91B24640B6DBB92CB1ADD371E",
            ],
            64,
        );
        let (gx, gy) = c.base_point();
        assert!(c.on_curve(&gx, &gy));
        let qx = h("115DC5BC96760C7B48598D8AB9E740D4C4A85A65BE33C1815B5C320C854621DD5A515856D13314AF69BC5B924C8B4DDFF75C45415C1D9DD9DD33612CD530EFE1");
        let qy = h("37C7C90CD40B0F5621DC3AC1B751CFA0E2634FA0503B3D52639F5D7FB72AFD61EA199441D943FFE7F0C70A2759A3CDB84C114E1F9339FDF27F35ECA93677BEEC");
        let e = h("3754F3CFACC9E0615C4F4A7C4D8DAB531B09B6F9C170C533A71D147035B0C5917184EE536593F4414339976C647C5D5A407ADEDB1D560C4FC6777D2972075B8C");
        let r = h("2F86FA60A081091A23DD795E1E3C689EE512A3C82EE0DCC2643C78EEA8FCACD35492558486B20F1C9EC197C90699850260C93BCBCD9C5C3317E19344E173AE36");
        let s = h("1081B394696FFE8E6585E7A9362D26B6325F56778AADBC081C0BFBE933D52FF5823CE288E8C4F362526080DF7F70CE406A6EEB1F56919CB92A9853BDE73E5B4A");
        assert!(c.verify(&e, &r, &s, &qx, &qy));
        assert!(!c.verify(&(&e + 1u8), &r, &s, &qx, &qy));
        assert!(!c.verify(&e, &r, &(&s + 1u8), &qx, &qy));
    }

    /// Signatures made by another implementation (gostcrypto, fixtures/gost/generate.py) on all
    /// seven parameter sets verify in both layouts; a changed message, key or signature fails.
    #[test]
    fn gostcrypto_vectors_verify_on_every_parameter_set() {
        use crate::crypto::{PublicKey, SignatureVerifier};
        let path = concat!(env!("CARGO_MANIFEST_DIR"), "/fixtures/gost/vectors.json");
        let doc: serde_json::Value =
            serde_json::from_str(&std::fs::read_to_string(path).unwrap()).unwrap();
        let hex = |v: &serde_json::Value| {
            let s = v.as_str().unwrap();
            (0..s.len())
                .step_by(2)
                .map(|i| u8::from_str_radix(&s[i..i + 2], 16).unwrap())
                .collect::<Vec<u8>>()
        };
        let vectors = doc["vectors"].as_array().unwrap();
        assert_eq!(vectors.len(), ALL.len());
        for v in vectors {
            let curve = *ALL
                .iter()
                .find(|c| format!("{c:?}") == v["curve"].as_str().unwrap())
                .unwrap();
            let bits = v["bits"].as_u64().unwrap();
            let (family, nca, rfc, digest): (
                _,
                &GostVerifier,
                &GostVerifier,
                fn(&[u8]) -> Vec<u8>,
            ) = if bits == 256 {
                (
                    GostKeyFamily::Gost2012_256,
                    &GOST2015_256,
                    &GOST2012_256,
                    streebog256,
                )
            } else {
                (
                    GostKeyFamily::Gost2012_512,
                    &GOST2015_512,
                    &GOST2012_512,
                    streebog512,
                )
            };
            let message = hex(&v["message_hex"]);
            // Streebog agrees with gostcrypto's.
            assert_eq!(digest(&message), hex(&v["digest_hex"]), "{curve:?}");
            let key = PublicKey::Gost {
                family,
                curve,
                point: hex(&v["public_key_nca_hex"]),
            };
            let sig = hex(&v["signature_nca_hex"]);
            assert!(nca.verify(&key, &message, &sig).is_ok(), "{curve:?}");
            let mut reversed = sig.clone();
            reversed.reverse();
            assert!(rfc.verify(&key, &message, &reversed).is_ok(), "{curve:?}");
            let mut other = message.clone();
            other[0] ^= 1;
            assert!(nca.verify(&key, &other, &sig).is_err(), "{curve:?}");
            let mut bad = sig.clone();
            bad[3] ^= 0x10;
            assert!(nca.verify(&key, &message, &bad).is_err(), "{curve:?}");
            let wrong_family = PublicKey::Gost {
                family: GostKeyFamily::Gost2001,
                curve,
                point: hex(&v["public_key_nca_hex"]),
            };
            assert!(
                nca.verify(&wrong_family, &message, &sig).is_err(),
                "{curve:?}"
            );
        }
    }

    /// The layouts: the RFC 4491 value is the NCA value reversed, and each verifier accepts only
    /// its own.
    #[test]
    fn rfc4491_layout_is_the_reversed_nca_layout() {
        use crate::crypto::{PublicKey, SignatureVerifier};
        let root = kz("ncanode-go/root_test_gost_2022.cer");
        let ca = kz("ca/nca_gost2015_test.cer");
        let key = root.public_key.as_ref().unwrap();
        assert!(matches!(key, PublicKey::Gost { .. }));
        assert!(GOST2015_512.verify(key, &ca.tbs, &ca.signature).is_ok());
        let mut reversed = ca.signature.clone();
        reversed.reverse();
        assert!(GOST2012_512.verify(key, &ca.tbs, &reversed).is_ok());
        assert!(GOST2012_512.verify(key, &ca.tbs, &ca.signature).is_err());
        assert!(GOST2015_256.verify(key, &ca.tbs, &ca.signature).is_err());
    }

    #[test]
    fn exactly_the_nca_encoding_verifies_a_gost_2004_certificate() {
        use gost94::Digest as _;
        let (ca, leaf) = (
            kz("ca/nca_gost_test.crt"),
            kz("certs/ceo_valid_sign_2004_gost.cer"),
        );
        let crate::crypto::PublicKey::Gost { point: key, .. } = ca.public_key.as_ref().unwrap()
        else {
            panic!("not a GOST key")
        };
        let digests = [
            ("test", gost94::Gost94Test::digest(&leaf.tbs).to_vec()),
            (
                "cryptopro",
                gost94::Gost94CryptoPro::digest(&leaf.tbs).to_vec(),
            ),
        ];
        // Of 32 encodings exactly one verifies: the NCA's, with the "test" S-boxes.
        let found = encodings_that_verify(
            GostCurve::CryptoProA.curve(),
            key,
            &leaf.signature,
            &digests,
        );
        assert_eq!(found, vec!["key-le test-le r|s le".to_owned()]);
    }

    #[test]
    fn exactly_the_nca_byte_order_verifies_the_nca_gost_ca_certificate() {
        let (ca, root) = (
            kz("ca/nca_gost2015_test.cer"),
            kz("ncanode-go/root_test_gost_2022.cer"),
        );
        let crate::crypto::PublicKey::Gost { point: key, .. } = root.public_key.as_ref().unwrap()
        else {
            panic!("not a GOST key")
        };
        let digests = [(
            "streebog512",
            streebog::Streebog512::digest(&ca.tbs).to_vec(),
        )];
        // Of 16 encodings exactly one verifies: the samples decide, and they decide once.
        let found =
            encodings_that_verify(GostCurve::Tc26_512A.curve(), key, &ca.signature, &digests);
        assert_eq!(found, vec!["key-le streebog512-le r|s le".to_owned()]);
    }
}
