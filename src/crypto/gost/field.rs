//! Fixed-width Montgomery arithmetic modulo an odd prime of `64·L` bits or fewer, for signature
//! verification: nothing here is secret, so the code is free to branch on values.
//!
//! An element is `[u64; L]`, little-endian limbs, always fully reduced (< p). Multiplication is
//! CIOS Montgomery multiplication (Koç, Acar, Kaliski 1996); the field context lives beside the
//! elements, not inside them, so an element is just its limbs (crypto-bigint's `DynResidue`
//! carried its whole parameter set in every value, which dominated the cost of copies).

// Indexing below is by loop variables bounded by L into [u64; L] arrays, or by i + j < 2L into
// the 16-word product buffer (L <= 8 is asserted at compile time where that buffer is used).
#![allow(clippy::indexing_slicing)]

use num_bigint::BigUint;

/// A field element in Montgomery form.
pub type Fe<const L: usize> = [u64; L];

/// The field Z/p. For p = 2^(64·L) − c with a one-limb c (the NCA's curves: 2^256 − 617 and
/// 2^512 − 569) elements are plain residues and products are reduced by folding the high half
/// times c (about 40 % fewer word multiplications than Montgomery's); otherwise elements are in
/// Montgomery form (R = 2^(64·L)).
#[derive(Debug, Clone)]
pub struct Field<const L: usize> {
    p: Fe<L>,
    /// c when p = 2^(64·L) − c.
    pseudo_mersenne: Option<u64>,
    /// −p⁻¹ mod 2^64.
    n0: u64,
    /// R² mod p (to enter Montgomery form).
    r2: Fe<L>,
    /// R mod p (one in Montgomery form).
    one: Fe<L>,
    /// p − 2, the exponent of inversion by Fermat.
    p_minus_2: BigUint,
}

fn limbs<const L: usize>(x: &BigUint) -> Option<Fe<L>> {
    let d = x.to_u64_digits();
    if d.len() > L {
        return None;
    }
    let mut out = [0u64; L];
    out.iter_mut().zip(d).for_each(|(o, v)| *o = v);
    Some(out)
}

fn to_big<const L: usize>(x: &Fe<L>) -> BigUint {
    let bytes: Vec<u8> = x.iter().flat_map(|l| l.to_le_bytes()).collect();
    BigUint::from_bytes_le(&bytes)
}

/// a ≥ b, as L-limb numbers.
fn geq<const L: usize>(a: &Fe<L>, b: &Fe<L>) -> bool {
    for i in (0..L).rev() {
        if a[i] != b[i] {
            return a[i] > b[i];
        }
    }
    true
}

/// a − b, returning the borrow.
fn sub_limbs<const L: usize>(a: &Fe<L>, b: &Fe<L>) -> (Fe<L>, bool) {
    let mut out = [0u64; L];
    let mut borrow = false;
    for i in 0..L {
        let (d1, b1) = a[i].overflowing_sub(b[i]);
        let (d2, b2) = d1.overflowing_sub(u64::from(borrow));
        out[i] = d2;
        borrow = b1 || b2;
    }
    (out, borrow)
}

/// a + b, returning the carry.
fn add_limbs<const L: usize>(a: &Fe<L>, b: &Fe<L>) -> (Fe<L>, bool) {
    let mut out = [0u64; L];
    let mut carry = false;
    for i in 0..L {
        let (s1, c1) = a[i].overflowing_add(b[i]);
        let (s2, c2) = s1.overflowing_add(u64::from(carry));
        out[i] = s2;
        carry = c1 || c2;
    }
    (out, carry)
}

impl<const L: usize> Field<L> {
    /// The field of an odd modulus that fits `L` limbs; None otherwise.
    pub fn new(p: &BigUint) -> Option<Self> {
        let pl = limbs::<L>(p)?;
        if pl[0] & 1 == 0 || p < &BigUint::from(3u8) {
            return None;
        }
        // −p⁻¹ mod 2^64 by Newton iteration (each step doubles the correct low bits).
        let mut inv: u64 = 1;
        for _ in 0..6 {
            inv = inv.wrapping_mul(2u64.wrapping_sub(pl[0].wrapping_mul(inv)));
        }
        let r = BigUint::from(1u8) << (64 * L);
        let c = &r - p;
        let pseudo_mersenne = (c.bits() <= 63)
            .then(|| c.to_u64_digits().first().copied().unwrap_or(0))
            .filter(|&c| c > 0);
        let mut one = limbs(&(&r % p))?;
        if pseudo_mersenne.is_some() {
            one = [0; L];
            one[0] = 1;
        }
        Some(Self {
            p: pl,
            pseudo_mersenne,
            n0: inv.wrapping_neg(),
            r2: limbs(&((&r * &r) % p))?,
            one,
            p_minus_2: p - 2u8,
        })
    }

    /// x mod p into the field's representation (x may be any size).
    pub fn element(&self, x: &BigUint) -> Fe<L> {
        let reduced = x % to_big(&self.p);
        // Reduced below p, so it fits L limbs.
        let plain = limbs(&reduced).unwrap_or([0; L]);
        if self.pseudo_mersenne.is_some() {
            plain
        } else {
            self.mul(&plain, &self.r2)
        }
    }

    /// Out of the field's representation.
    pub fn value(&self, x: &Fe<L>) -> BigUint {
        if self.pseudo_mersenne.is_some() {
            return to_big(x);
        }
        let mut one = [0u64; L];
        one[0] = 1;
        to_big(&self.mul(x, &one))
    }

    /// One.
    pub fn one(&self) -> Fe<L> {
        self.one
    }

    /// Zero.
    pub fn zero(&self) -> Fe<L> {
        [0; L]
    }

    /// The product in the field's representation.
    #[inline]
    pub fn mul(&self, a: &Fe<L>, b: &Fe<L>) -> Fe<L> {
        match self.pseudo_mersenne {
            Some(c) => self.mul_pm(a, b, c),
            None => self.mul_mont(a, b),
        }
    }

    /// a·b mod 2^(64·L) − c: schoolbook product, then [`Field::fold`].
    #[allow(clippy::needless_range_loop, clippy::indexing_slicing)] // i + j < 2L ≤ 16
    fn mul_pm(&self, a: &Fe<L>, b: &Fe<L>, c: u64) -> Fe<L> {
        const { assert!(L <= 8) };
        let mut t = [0u64; 16];
        for i in 0..L {
            let mut carry: u64 = 0;
            let ai = u128::from(a[i]);
            for j in 0..L {
                let s = u128::from(t[i + j]) + ai * u128::from(b[j]) + u128::from(carry);
                t[i + j] = s as u64;
                carry = (s >> 64) as u64;
            }
            t[i + L] = carry;
        }
        self.fold(&t, c)
    }

    /// a² mod 2^(64·L) − c: each cross product once, doubled, plus the squares.
    #[allow(clippy::needless_range_loop, clippy::indexing_slicing)] // i + j < 2L ≤ 16
    fn sqr_pm(&self, a: &Fe<L>, c: u64) -> Fe<L> {
        const { assert!(L <= 8) };
        let mut t = [0u64; 16];
        for i in 0..L {
            let mut carry: u64 = 0;
            let ai = u128::from(a[i]);
            for j in i + 1..L {
                let s = u128::from(t[i + j]) + ai * u128::from(a[j]) + u128::from(carry);
                t[i + j] = s as u64;
                carry = (s >> 64) as u64;
            }
            t[i + L] = carry;
        }
        // Double the cross products, then add the diagonal squares.
        let mut top = 0u64;
        for k in 0..2 * L {
            let v = t[k];
            t[k] = (v << 1) | top;
            top = v >> 63;
        }
        let mut carry: u128 = 0;
        for i in 0..L {
            let sq = u128::from(a[i]) * u128::from(a[i]);
            let s = u128::from(t[2 * i]) + (sq & u128::from(u64::MAX)) + carry;
            t[2 * i] = s as u64;
            let s2 = u128::from(t[2 * i + 1]) + (sq >> 64) + (s >> 64);
            t[2 * i + 1] = s2 as u64;
            carry = s2 >> 64;
        }
        self.fold(&t, c)
    }

    /// Reduces a 2L-word value mod 2^(64·L) − c: lo + c·hi, then the one overflow word again.
    #[allow(clippy::indexing_slicing)] // j + L < 2L ≤ 16
    fn fold(&self, t: &[u64; 16], c: u64) -> Fe<L> {
        let c128 = u128::from(c);
        let mut lo = [0u64; L];
        let mut carry: u64 = 0;
        for j in 0..L {
            let s = u128::from(t[j]) + c128 * u128::from(t[j + L]) + u128::from(carry);
            lo[j] = s as u64;
            carry = (s >> 64) as u64;
        }
        let mut top = carry;
        while top != 0 {
            let s = u128::from(lo[0]) + c128 * u128::from(top);
            lo[0] = s as u64;
            let mut carry = (s >> 64) as u64;
            for limb in lo.iter_mut().skip(1) {
                if carry == 0 {
                    break;
                }
                let (v, o) = limb.overflowing_add(carry);
                *limb = v;
                carry = u64::from(o);
            }
            top = carry;
        }
        if geq(&lo, &self.p) {
            sub_limbs(&lo, &self.p).0
        } else {
            lo
        }
    }

    /// a·b·R⁻¹ mod p (CIOS).
    #[allow(clippy::needless_range_loop)]
    fn mul_mont(&self, a: &Fe<L>, b: &Fe<L>) -> Fe<L> {
        // t has L+2 words; kept as two extra words beside the array.
        let mut t = [0u64; L];
        let (mut t_l, mut t_l1);
        t_l = 0u64;
        for i in 0..L {
            // t += a · b[i]
            let mut carry: u64 = 0;
            let bi = u128::from(b[i]);
            for j in 0..L {
                let s = u128::from(t[j]) + u128::from(a[j]) * bi + u128::from(carry);
                t[j] = s as u64;
                carry = (s >> 64) as u64;
            }
            let s = u128::from(t_l) + u128::from(carry);
            t_l = s as u64;
            t_l1 = (s >> 64) as u64;
            // t += m · p, then shift one word right
            let m = u128::from(t[0].wrapping_mul(self.n0));
            let s = u128::from(t[0]) + m * u128::from(self.p[0]);
            let mut carry = (s >> 64) as u64;
            for j in 1..L {
                let s = u128::from(t[j]) + m * u128::from(self.p[j]) + u128::from(carry);
                t[j - 1] = s as u64;
                carry = (s >> 64) as u64;
            }
            let s = u128::from(t_l) + u128::from(carry);
            t[L - 1] = s as u64;
            t_l = t_l1 + (s >> 64) as u64;
        }
        if t_l != 0 || geq(&t, &self.p) {
            sub_limbs(&t, &self.p).0
        } else {
            t
        }
    }

    /// a².
    #[inline]
    pub fn sqr(&self, a: &Fe<L>) -> Fe<L> {
        match self.pseudo_mersenne {
            Some(c) => self.sqr_pm(a, c),
            None => self.mul_mont(a, a),
        }
    }

    /// a + b mod p.
    pub fn add(&self, a: &Fe<L>, b: &Fe<L>) -> Fe<L> {
        let (s, carry) = add_limbs(a, b);
        if carry || geq(&s, &self.p) {
            sub_limbs(&s, &self.p).0
        } else {
            s
        }
    }

    /// a − b mod p.
    pub fn sub(&self, a: &Fe<L>, b: &Fe<L>) -> Fe<L> {
        let (d, borrow) = sub_limbs(a, b);
        if borrow {
            add_limbs(&d, &self.p).0
        } else {
            d
        }
    }

    /// a⁻¹ (Fermat; a ≠ 0).
    pub fn inv(&self, a: &Fe<L>) -> Fe<L> {
        let mut acc = self.one;
        let e = &self.p_minus_2;
        for i in (0..e.bits()).rev() {
            acc = self.sqr(&acc);
            if e.bit(i) {
                acc = self.mul(&acc, a);
            }
        }
        acc
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn agrees_with_bigint_arithmetic() {
        // 2^512 − 569 (pseudo-Mersenne path, 8 limbs) and 2^511 + 111 (Montgomery, 8 limbs).
        for p in [
            "FFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFDC7",
            "8000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000006F",
        ] {
            let p = BigUint::parse_bytes(p.as_bytes(), 16).unwrap();
            let f = Field::<8>::new(&p).unwrap();
            let mut x = (&p - 1u8) * 3u8 / 4u8;
            for k in 0..50u32 {
                x = (&x * &x + BigUint::from(k)) % &p;
                let y = (&p - 1u8) - (&x % 1000u32);
                let (fx, fy) = (f.element(&x), f.element(&y));
                assert_eq!(f.value(&f.mul(&fx, &fy)), (&x * &y) % &p);
                assert_eq!(f.value(&f.sqr(&fy)), (&y * &y) % &p);
            }
        }
        let ps = [
            "FFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFD97",
            "8000000000000000000000000000000000000000000000000000000000000C99",
            "9B9F605F5A858107AB1EC85E6B41C8AACF846E86789051D37998F7B9022D759B",
        ];
        for p in ps {
            let p = BigUint::parse_bytes(p.as_bytes(), 16).unwrap();
            let f = Field::<4>::new(&p).unwrap();
            let mut x = BigUint::from(0x1234_5678_9abc_def0u64);
            for k in 0..50u32 {
                // Pseudo-random walk through the field, including values near p.
                x = (&x * &x + BigUint::from(k) + (&p - 1u8) * BigUint::from(k % 3)) % &p;
                let y = (&x * 7u8 + &p - 5u8) % &p;
                let (fx, fy) = (f.element(&x), f.element(&y));
                assert_eq!(f.value(&f.mul(&fx, &fy)), (&x * &y) % &p);
                assert_eq!(f.value(&f.add(&fx, &fy)), (&x + &y) % &p);
                assert_eq!(f.value(&f.sub(&fx, &fy)), (&x + &p - &y) % &p);
                if x != BigUint::from(0u8) {
                    assert_eq!(f.value(&f.mul(&f.inv(&fx), &fx)), BigUint::from(1u8));
                }
            }
        }
    }
}
