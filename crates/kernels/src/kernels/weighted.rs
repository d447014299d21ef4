//! Weighted sums for `average`: per output, `Σ a·w` and `Σ w` in one pass over both arrays.
//!
//! Semantics (read before the code):
//! - Elements of both arrays arrive as f64 (the driver reads f64 in place and converts the
//!   other types: f32 exactly, integers as numpy's cast to float64, bool bytes as 0/1).
//! - Each product `a·w` is split exactly by TwoProduct (`p = fl(a·w)`, `e = fma(a, w, -p)`):
//!   hardware fma at AVX2/AVX-512/NEON, the library's correctly rounded `fma` at the scalar
//!   level (slow but the same bits). `p` and `w` are added into lanes with TwoSum; the product
//!   errors and the sums' rounding errors go into each lane's `lo`. This is Ogita, Rump and
//!   Oishi's Dot2: both sums carry about twice f64's precision (error about `n·u²·Σ|a·w|`).
//! - The lanes fold into a [`WeightedPartial`] (two [`FloatPartial`]s); partials of work units
//!   combine with TwoSum in a fixed tree, so results are the same at every thread count and
//!   SIMD level.
//! - [`WeightedPartial::average`] divides the two double-length sums in double-double and
//!   rounds once: within about half an ulp, where numpy's `np.multiply(a, w).sum() /
//!   w.sum()` rounds every product, its running sums and the quotient.
//! - inf and NaN follow the products as numpy computes them (`inf·0` is NaN): an inf or NaN
//!   sum is the sum of `hi`s, as in [`FloatPartial::value`].

use super::two_sum;
use crate::partials::FloatPartial;
use pulp::Simd;

/// Lanes of the weighted sum: four f64 accumulators each, 16 lanes (two AVX-512 or four AVX2
/// registers per accumulator).
pub(crate) const DOT_LANES: usize = 16;

/// Outputs of one vertical tile: four f64 states each, 16 KiB in all (in L1).
pub(crate) const DOT_TILE: usize = 512;

/// `Σ a·w` (`num`) and `Σ w` (`den`) of some elements, each as a compensated [`FloatPartial`].
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct WeightedPartial {
    /// `Σ a·w`.
    pub num: FloatPartial,
    /// `Σ w`.
    pub den: FloatPartial,
}

impl WeightedPartial {
    /// The sums of no elements.
    pub const EMPTY: Self = Self {
        num: FloatPartial::EMPTY,
        den: FloatPartial::EMPTY,
    };

    /// One lane's or output's accumulators: `(s, c)` for `Σ a·w`, `(v, d)` for `Σ w`.
    #[inline(always)]
    fn of_state(s: f64, c: f64, v: f64, d: f64) -> Self {
        Self {
            num: FloatPartial::unbounded(s, c),
            den: FloatPartial::unbounded(v, d),
        }
    }

    /// The sums of the union of two disjoint sets of elements.
    #[inline(always)]
    pub fn combine(self, b: Self) -> Self {
        Self {
            num: self.num.combine(b.num),
            den: self.den.combine(b.den),
        }
    }

    /// `Σ w`, rounded once.
    pub fn weight_sum(self) -> f64 {
        self.den.value()
    }

    /// `Σ a·w / Σ w`, divided in double-double and rounded once. `Σ w == 0` gives what f64
    /// division gives (inf or NaN); numpy's `average` raises first, and so does the binding.
    pub fn average(self) -> f64 {
        let (n, d) = (self.num, self.den);
        if !(n.hi.is_finite() && d.hi.is_finite()) {
            return n.value() / d.value();
        }
        let (nh, nl) = two_sum(n.hi, n.lo);
        let (dh, dl) = two_sum(d.hi, d.lo);
        let q = nh / dh;
        if !q.is_finite() || q == 0.0 {
            return q;
        }
        // nh - q·dh exactly (one fma), then the low parts.
        let r = (-q).mul_add(dh, nh) + nl - q * dl;
        q + r / dh
    }
}

/// TwoProduct's error: `a·b - p` exactly for `p = fl(a·b)` (fma; at the scalar level the
/// library's fma, which rounds correctly too).
#[inline(always)]
fn product_error(a: f64, b: f64, p: f64) -> f64 {
    a.mul_add(b, -p)
}

/// One element into one lane's four accumulators: Dot2's step for `a·w`, TwoSum for `w`.
#[inline(always)]
fn step(s: &mut f64, c: &mut f64, v: &mut f64, d: &mut f64, a: f64, w: f64) {
    let p = a * w;
    let e = product_error(a, w, p);
    let (hi, t) = two_sum(*s, p);
    *s = hi;
    *c += t + e;
    let (hi, u) = two_sum(*v, w);
    *v = hi;
    *d += u;
}

/// The lane path's accumulators.
#[derive(Clone, Copy)]
pub(crate) struct DotLanes {
    s: [f64; DOT_LANES],
    c: [f64; DOT_LANES],
    v: [f64; DOT_LANES],
    d: [f64; DOT_LANES],
}

impl DotLanes {
    pub(crate) const fn new() -> Self {
        Self {
            s: [0.0; DOT_LANES],
            c: [0.0; DOT_LANES],
            v: [0.0; DOT_LANES],
            d: [0.0; DOT_LANES],
        }
    }

    /// Add the pairs `(a[i], w[i])`, element `i` into lane `i % DOT_LANES` (the tail into the
    /// first lanes). Inlined into the caller's `vectorize`.
    #[inline(always)]
    pub(crate) fn feed<S: Simd>(&mut self, _simd: S, a: &[f64], w: &[f64]) {
        let n = a.len().min(w.len());
        let (a, w) = (&a[..n], &w[..n]);
        let mut lanes = *self;
        let full = n / DOT_LANES * DOT_LANES;
        for (ca, cw) in a[..full]
            .chunks_exact(DOT_LANES)
            .zip(w[..full].chunks_exact(DOT_LANES))
        {
            for j in 0..DOT_LANES {
                step(
                    &mut lanes.s[j],
                    &mut lanes.c[j],
                    &mut lanes.v[j],
                    &mut lanes.d[j],
                    ca[j],
                    cw[j],
                );
            }
        }
        for (j, (&x, &y)) in a[full..].iter().zip(&w[full..]).enumerate() {
            step(
                &mut lanes.s[j],
                &mut lanes.c[j],
                &mut lanes.v[j],
                &mut lanes.d[j],
                x,
                y,
            );
        }
        *self = lanes;
    }

    /// The lanes folded in a fixed pairwise tree: [`super::tree`]'s order (lane `j` with `j + n`,
    /// `n` halving) and [`FloatPartial::combine`]'s arithmetic on `hi` and `lo` (TwoSum of
    /// the `hi`s, the `lo`s added, then its error), so the same bits, on the four arrays at
    /// once. Without the bound `combine` also carries, and its branches: a lane's bound is
    /// unknown (infinite), and so is any combination's. This was 61% of `average` over rows
    /// of 10 (1000x10, axis 1: 0.68 ms, numpy 0.10; perf, Zen 1).
    pub(crate) fn finish(&self) -> WeightedPartial {
        let (mut s, mut c, mut v, mut d) = (self.s, self.c, self.v, self.d);
        let mut n = DOT_LANES;
        while n > 1 {
            n /= 2;
            for j in 0..n {
                let (hi, e) = two_sum(s[j], s[j + n]);
                let t = c[j] + c[j + n];
                (s[j], c[j]) = (hi, t + e);
                let (hi, e) = two_sum(v[j], v[j + n]);
                let t = d[j] + d[j + n];
                (v[j], d[j]) = (hi, t + e);
            }
        }
        WeightedPartial::of_state(s[0], c[0], v[0], d[0])
    }
}

/// The vertical path's per-output states: output `j` of the tile accumulates
/// `(s[j], c[j])` for `Σ a·w` and `(v[j], d[j])` for `Σ w`.
pub(crate) struct DotTile {
    s: [f64; DOT_TILE],
    c: [f64; DOT_TILE],
    v: [f64; DOT_TILE],
    d: [f64; DOT_TILE],
}

impl DotTile {
    pub(crate) fn new() -> Box<Self> {
        Box::new(Self {
            s: [0.0; DOT_TILE],
            c: [0.0; DOT_TILE],
            v: [0.0; DOT_TILE],
            d: [0.0; DOT_TILE],
        })
    }

    /// Add the `K` rows `(a[r][j], w[r][j])` into outputs `j < a[0].len() <= DOT_TILE`, in
    /// order, each output's state in registers across them. All rows have one length.
    /// Inlined into the caller's `vectorize`, where the loop runs on the level's vectors.
    #[inline(always)]
    pub(crate) fn push_rows<S: Simd, const K: usize>(
        &mut self,
        _simd: S,
        a: &[&[f64]; K],
        w: &[&[f64]; K],
    ) {
        let n = a[0].len().min(DOT_TILE);
        let a: [&[f64]; K] = std::array::from_fn(|r| &a[r][..n]);
        let w: [&[f64]; K] = std::array::from_fn(|r| &w[r][..n]);
        let (s, c, v, d) = (
            &mut self.s[..n],
            &mut self.c[..n],
            &mut self.v[..n],
            &mut self.d[..n],
        );
        for j in 0..n {
            let (mut sj, mut cj, mut vj, mut dj) = (s[j], c[j], v[j], d[j]);
            for r in 0..K {
                step(&mut sj, &mut cj, &mut vj, &mut dj, a[r][j], w[r][j]);
            }
            (s[j], c[j], v[j], d[j]) = (sj, cj, vj, dj);
        }
    }

    /// The state of output `j`.
    pub(crate) fn partial(&self, j: usize) -> WeightedPartial {
        WeightedPartial::of_state(self.s[j], self.c[j], self.v[j], self.d[j])
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The quotient of two double-length sums is rounded once: 1/3 from sums that f64 alone
    /// could not hold.
    #[test]
    fn average_divides_double_length_sums() {
        let third = WeightedPartial {
            num: FloatPartial {
                hi: 1.0,
                lo: 1e-30,
                n: 0,
                err: f64::INFINITY,
            },
            den: FloatPartial {
                hi: 3.0,
                lo: 0.0,
                n: 0,
                err: f64::INFINITY,
            },
        };
        assert_eq!(third.average(), 1.0 / 3.0);
        // (1 + 2^-60) / (1 - 2^-60) is 1 + 2^-59 + ..., which rounds to 1.0 in f64, but
        // (1 + 2^-52 + 2^-60) / 1 rounds to 1 + 2^-52.
        let p = WeightedPartial {
            num: FloatPartial {
                hi: 1.0 + f64::EPSILON,
                lo: 2f64.powi(-60),
                n: 0,
                err: f64::INFINITY,
            },
            den: FloatPartial {
                hi: 1.0,
                lo: 0.0,
                n: 0,
                err: f64::INFINITY,
            },
        };
        assert_eq!(p.average(), 1.0 + f64::EPSILON);
        let nan = WeightedPartial {
            num: FloatPartial {
                hi: f64::INFINITY,
                lo: f64::NAN,
                n: 0,
                err: f64::INFINITY,
            },
            den: FloatPartial {
                hi: 2.0,
                lo: 0.0,
                n: 0,
                err: f64::INFINITY,
            },
        };
        assert_eq!(nan.average(), f64::INFINITY);
    }

    /// Lanes hold products exactly: Σ (1 + 2^-30)·(1 - 2^-30) over 16 elements is
    /// 16 - 2^-56, whose f64 products alone round to 1 each.
    #[test]
    fn lanes_keep_product_errors() {
        let a = [1.0 + 2f64.powi(-30); 16];
        let w = [1.0 - 2f64.powi(-30); 16];
        let mut l = DotLanes::new();
        l.feed(pulp::Scalar::new(), &a, &w);
        let p = l.finish();
        assert_eq!(p.num.hi + p.num.lo, 16.0);
        assert_eq!(p.num.lo, -(2f64.powi(-56)));
        assert_eq!(p.weight_sum(), 16.0 - 2f64.powi(-26));
    }
}
