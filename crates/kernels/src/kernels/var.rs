//! Variance (and so std) to about twice f64's precision, in one read of memory.
//!
//! Every set of elements (a lane, an output of the vertical path) is summed relative to a
//! shift `c`, one of its own elements (the first counted): `D = Σ(x - c)` and
//! `S = Σ(x - c)²`, so that `M2 = Σ(x - μ)² = S - D²/n` and `μ = c + D/n`. Where the result
//! is f64 (f64 and integer input), each `x - c` is split exactly into `d + dl` (TwoSum), `d²`
//! into `p + pe` (an exact FMA, or Dekker's product where the level has no FMA), and `S`, `D`
//! are double-doubles kept with TwoSum: `S` and `D` then carry errors of order `n u² Σ|·|`
//! (`u = 2^-53`), and the cancellation in `S - D²/n` is at most a factor `1 + n`, because `c`
//! is an element: `(c - μ)² <= M2`. So `M2` is exact to far below half an ulp and the
//! variance, `M2 / (n - ddof)` rounded once (`partials::var_of`), is the correctly rounded
//! exact variance of the values, unless that lies within about `n² 2^-100` relative of a
//! midpoint; std is its square root with one Newton correction (the same). numpy's two passes
//! (`x - mean` rounded, squares rounded, summed pairwise or along the axis) are off by
//! several ulp; this is never further from the exact value than numpy's result but in those
//! near-midpoint cases (Python's tests count the outputs).
//!
//! Float32 input has an f32 result: `x - c`, its square and the sums in plain f64 carry a
//! relative error near `n 2^-53`, far below f32's half ulp (`2^-24`), so that path skips the
//! double-double work.
//!
//! Partials (`VarPartial`: count, mean and `M2` as double-doubles) are merged with Chan,
//! Golub & LeVeque's formula in double-double arithmetic. Infinities and NaN: any NaN counted,
//! or any infinity, makes the result NaN, as numpy's `x - mean` does. Finite values whose
//! shifted sums overflow (`(x - c)²` can be up to `n + 1` times M2), and tiny ones whose
//! squares were rounded to the subnormals' spacing (`M2 < 2^-800`), are summed again, scaled
//! by a power of two ([`Rescaled`]), and their variance is scaled back and rounded once: inf
//! only where the variance itself passes the largest float (its square root, std, is still
//! finite: numpy's squares overflow to inf), subnormal variances rounded once to the
//! subnormals' spacing. Where numpy's own sum of the values overflowed but the variance is
//! representable (`var([1e308, 1e308])`), this returns it (0).

use super::{add_f, has_fma, sub_f, tree, two_sum, two_sum_vf, Kernel, NanPolicy, TILE};
use crate::element::Element;
use crate::walk::{for_each_block, for_each_in_row};
use pulp::Simd;
use std::marker::PhantomData;

/// Lanes of the lane path. Eight f64 are one AVX-512 register per accumulator (six of them
/// under the nan-functions on f64); the double-double path does about 26 operations per
/// element, so it is bound by throughput, not by the latency of its adds, and more lanes
/// only spill AVX2's sixteen registers.
const L: usize = 8;

/// `2^e` for a normal exponent `e`.
const fn pow2(e: i32) -> f64 {
    f64::from_bits(((1023 + e) as u64) << 52)
}

/// A double-double `hi + lo`.
type Dd = (f64, f64);

/// `a + b` for `|a| >= |b|` (or `a == 0`): Dekker's Fast2Sum, exact.
#[inline(always)]
fn fast_two_sum(a: f64, b: f64) -> Dd {
    let s = a + b;
    (s, b - (s - a))
}

/// `a + b` in double-double arithmetic (the accurate sum of both parts).
#[inline(always)]
fn dd_add(a: Dd, b: Dd) -> Dd {
    let (s, e) = two_sum(a.0, b.0);
    let (t, f) = two_sum(a.1, b.1);
    let (s, e) = fast_two_sum(s, e + t);
    fast_two_sum(s, e + f)
}

#[inline(always)]
fn dd_neg(a: Dd) -> Dd {
    (-a.0, -a.1)
}

/// `a * b` in double-double arithmetic.
#[inline(always)]
fn dd_mul(a: Dd, b: Dd) -> Dd {
    let p = a.0 * b.0;
    let e = a.0.mul_add(b.0, -p);
    fast_two_sum(p, e + (a.0 * b.1 + a.1 * b.0))
}

/// `a / b` in double-double arithmetic, for an f64 `b`.
#[inline(always)]
fn dd_div(a: Dd, b: f64) -> Dd {
    let q = a.0 / b;
    let r = (-q).mul_add(b, a.0) + a.1;
    fast_two_sum(q, r / b)
}

/// Dekker's exact product: `p + e == a * b` with `p = fl(a * b)`, without an FMA (the partials
/// are finalised outside the SIMD levels, where `mul_add` is a library call). Exact for
/// `|a|, |b| < 2^995` and products far from underflow.
#[inline(always)]
fn two_prod(a: f64, b: f64) -> Dd {
    const SPLIT: f64 = 134217729.0; // 2^27 + 1
    let halves = |x: f64| {
        let t = SPLIT * x;
        let h = t - (t - x);
        (h, x - h)
    };
    let (ah, al) = halves(a);
    let (bh, bl) = halves(b);
    let p = a * b;
    (p, ((ah * bh - p) + ah * bl + al * bh) + al * bl)
}

/// A double-double that is not finite: its `hi` (a NaN `lo` beside a finite `hi` means an
/// `inf - inf` inside).
#[inline(always)]
fn dd_finite(a: Dd) -> bool {
    a.0.is_finite() && a.1.is_finite()
}

/// The partial state of `var` and `std` (and their nan-variants) of a set of elements (the
/// non-NaN ones under the nan-functions): count, mean and sum of squared deviations from the
/// mean (`M2`), the last two as double-doubles (`mean + mean_lo`, `m2 + m2_lo`). The variance
/// is `M2 / (n - ddof)`.
///
/// `mean` and `M2` are those of the elements times `2^scale`. `scale` is 0 but for sets
/// whose `M2` lies beyond f64's range or below its normal numbers, which are summed again
/// scaled ([`Rescaled`]: `-600` or `+600`): there `M2` is kept where it has all its bits, and
/// the variance is scaled back and rounded once at the end (to inf, or to the subnormals'
/// spacing).
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct VarPartial {
    /// Elements counted.
    pub n: f64,
    /// Their mean (0 when `n == 0`), leading part.
    pub mean: f64,
    /// The rest of the mean: `mean + mean_lo` is it to about 106 bits.
    pub mean_lo: f64,
    /// Their sum of squared deviations from the mean, leading part.
    pub m2: f64,
    /// The rest of `M2`.
    pub m2_lo: f64,
    /// The power of two the elements were scaled by (0, or ±600 for [`Rescaled`] sets).
    pub scale: i32,
}

impl VarPartial {
    /// The state of no elements.
    pub const EMPTY: Self = Self {
        n: 0.0,
        mean: 0.0,
        mean_lo: 0.0,
        m2: 0.0,
        m2_lo: 0.0,
        scale: 0,
    };

    /// The state of `n > 0` elements from their sums relative to `c`: `d = Σ(x - c)`,
    /// `s = Σ(x - c)²` (the module's comment). `nonfinite`: an infinity or NaN was counted.
    #[inline(always)]
    fn from_shifted(n: f64, c: f64, s: Dd, d: Dd, nonfinite: bool) -> Self {
        // Without branches (selects), so that the vertical path's loop over a tile's outputs
        // (`VarTile::settle`) vectorises.
        let q = dd_div(d, n);
        let mean = dd_add((c, 0.0), q);
        let m2 = dd_add(s, dd_neg(dd_mul(d, q)));
        // Finite values whose squares (or differences) overflow: inf.
        let over = !(dd_finite(m2) && dd_finite(mean));
        let m2 = if nonfinite {
            (f64::NAN, f64::NAN)
        } else if over {
            (f64::INFINITY, 0.0)
        } else if m2.0 < 0.0 {
            (0.0, 0.0)
        } else {
            m2
        };
        let empty = n == 0.0;
        let z = |v: f64| if empty { 0.0 } else { v };
        Self {
            n,
            mean: z(mean.0),
            mean_lo: z(mean.1),
            m2: z(m2.0),
            m2_lo: z(m2.1),
            scale: 0,
        }
    }

    /// The state of the union of two disjoint sets: Chan, Golub & LeVeque's merge, in
    /// double-double arithmetic (`M2 = M2a + M2b + δ² na nb / n`, all three terms >= 0, so the
    /// sum loses nothing to cancellation). The kernels merge lanes, outputs and units with it.
    #[inline]
    pub fn merge(self, b: Self) -> Self {
        if self.n == 0.0 {
            return b;
        }
        if b.n == 0.0 {
            return self;
        }
        if self.scale != b.scale {
            // (Only partials of rescued sets differ: `Partials::combine` of pieces.)
            let s = self.common_scale(b);
            return self.at_scale(s).merge(b.at_scale(s));
        }
        let n = self.n + b.n;
        let delta = dd_add((b.mean, b.mean_lo), dd_neg((self.mean, self.mean_lo)));
        let w = dd_div((b.n, 0.0), n);
        let mean = dd_add((self.mean, self.mean_lo), dd_mul(delta, w));
        let m2 = dd_add(
            dd_add((self.m2, self.m2_lo), (b.m2, b.m2_lo)),
            dd_mul(dd_mul(delta, delta), dd_mul((self.n, 0.0), w)),
        );
        // An infinite M2 stays infinite (a NaN beside it would read as an infinity inside).
        // NaN stays NaN; an infinite M2, or an overflow here, is inf.
        let m2 = if self.m2.is_nan() || b.m2.is_nan() {
            (f64::NAN, f64::NAN)
        } else if !dd_finite(m2) || !dd_finite(mean) {
            (f64::INFINITY, 0.0)
        } else {
            m2
        };
        Self {
            n,
            mean: mean.0,
            mean_lo: mean.1,
            m2: m2.0,
            m2_lo: m2.1,
            scale: self.scale,
        }
    }

    /// The partial of the same elements at scale `s`: the mean times `2^(s - scale)`, `M2`
    /// times its square (exact powers of two, but where they overflow or underflow).
    fn at_scale(self, s: i32) -> Self {
        // Scales are multiples of 600, so the factor is the square of a normal power of two.
        let h = pow2((s - self.scale) / 2);
        let m = |x: f64| x * h * h;
        Self {
            mean: m(self.mean),
            mean_lo: m(self.mean_lo),
            m2: m(m(self.m2)),
            m2_lo: m(m(self.m2_lo)),
            scale: s,
            ..self
        }
    }

    /// The scale two partials of different scales merge at: the larger (smaller elements,
    /// more of their bits kept) where both partials are comfortably finite there (means
    /// within `2^450`, so that the merge's `δ²` cannot overflow, `M2` within `2^900`), else
    /// the smaller, where the other's elements are negligible or lost as they are in f64.
    fn common_scale(self, b: Self) -> i32 {
        let hi = self.scale.max(b.scale);
        let fits = |p: Self| {
            let q = p.at_scale(hi);
            q.mean.abs() < pow2(450) && q.m2 < pow2(900)
        };
        if fits(self) && fits(b) {
            hi
        } else {
            self.scale.min(b.scale)
        }
    }

    /// The same elements each taken `factor` times: `(factor n, mean, factor M2)`, `M2`'s
    /// product in double-double arithmetic.
    pub(crate) fn repeated(self, factor: f64) -> Self {
        let m2 = dd_mul((self.m2, self.m2_lo), (factor, 0.0));
        let m2 = if m2.0.is_finite() {
            m2
        } else {
            (self.m2 * factor, 0.0)
        };
        Self {
            n: self.n * factor,
            m2: m2.0,
            m2_lo: m2.1,
            ..self
        }
    }

    /// `M2 / dof` rounded once (to nearest from the double-double quotient), or its square
    /// root with one Newton step from the double-double: both correctly rounded but within
    /// the module's near-midpoint cases. `dof <= 0` divides by 0, as numpy's `max(dof, 0)`.
    #[cfg(test)]
    pub(crate) fn variance(&self, dof: f64, sqrt: bool) -> f64 {
        self.variance_by(dof, 1.0 / dof.max(0.0), sqrt)
    }

    /// [`VarPartial::variance`] given `recip = 1 / max(dof, 0)` (callers with many outputs
    /// of one count divide once): the quotient's leading part is `M2 * recip`, off by an ulp
    /// or so, and its remainder, exact, is divided the same way, so `v + v_lo` still rounds
    /// the double-double quotient once.
    #[inline(always)]
    pub(crate) fn variance_by(&self, dof: f64, recip: f64, sqrt: bool) -> f64 {
        let dof = dof.max(0.0);
        // Dekker's products below need |values| within 2^±995 (their split overflows
        // beyond, their low parts underflow near 2^-1022): an M2 outside [2^-900, 2^900] is
        // scaled into it by 2^∓600, exactly (a power of two; `m2_lo` is at most 2^-53 of
        // `m2`, so it stays normal too unless M2 < 2^-969, where it is already rounded to the
        // subnormals' spacing). With the partial's own scale, M2 = (m2 + m2_lo) 2^k, and the
        // result is scaled back by 2^k (the square root by 2^(k/2)), rounded once
        // ([`scaled_back`]).
        const BIG: f64 = pow2(900);
        let k = -2 * self.scale;
        let (m2, m2_lo, k) = if self.m2 > BIG {
            (self.m2 * pow2(-600), self.m2_lo * pow2(-600), k + 600)
        } else if self.m2 < 1.0 / BIG {
            (self.m2 * pow2(600), self.m2_lo * pow2(600), k - 600)
        } else {
            (self.m2, self.m2_lo, k)
        };
        // The square root's exponent is half the variance's (all are even).
        let root = |k: i32| if sqrt { k / 2 } else { k };
        let plain = !(m2.is_finite() && m2 > 0.0 && dof > 0.0 && dof < BIG);
        if plain {
            // 0, inf, NaN, dof <= 0 (division by 0, as numpy's) or dof beyond 2^900: one
            // division (and square root) of the partial's M2, scaled back.
            let v = self.m2 / dof;
            let r = if sqrt { v.sqrt() } else { v };
            return scaled_back(r, 0.0, root(-2 * self.scale));
        }
        let k = root(k);
        // (v, v_lo) = M2 / dof in double-double arithmetic: v * dof exactly, the remainder
        // (exact: p is within an ulp or two of M2), divided.
        let v = m2 * recip;
        let (p, pe) = two_prod(v, dof);
        let v_lo = (((m2 - p) - pe) + m2_lo) * recip;
        if sqrt {
            let r = v.sqrt();
            let (p, pe) = two_prod(r, r);
            let e = ((v - p) - pe) + v_lo;
            scaled_back(r, e / (2.0 * r), k)
        } else {
            scaled_back(v, v_lo, k)
        }
    }
}

/// `(hi + lo) 2^k` rounded once, for `hi >= 0` and `|lo|` below an ulp or so of `hi`, `k` a
/// multiple of 300 within ±1800. Where the result is normal (or overflows) that is
/// `fl(hi + lo)` scaled exactly. Below 2^-1022 f64's spacing is 2^-1074, which is
/// `q = 2^(-1074 - k)` at `hi`'s scale: `c + hi` with `c = 2^52 q` (the result's bound
/// there) rounds `hi` to a multiple of `q` (`c + hi` lies in `[c, 2c]`, where the spacing
/// is `q`), TwoSum gives what it left, `e` (`|e| <= q/2`), and the sign of `e + lo ∓ q/2`
/// says whether `hi + lo` is nearer the next multiple: one rounding of the double-double
/// (an exact tie of it left as `c + hi` rounded it; the module's near-midpoint cases), where scaling
/// `fl(hi + lo)` would round twice (once to 53 bits, once to the subnormals' spacing). The
/// multiple of `q`, `s - c`, is exact, and so is its scaling.
#[inline(always)]
fn scaled_back(hi: f64, lo: f64, k: i32) -> f64 {
    let r = hi + lo;
    if k == 0 {
        return r;
    }
    let (k1, k2) = (k / 2, k - k / 2);
    if k < 0 && r < pow2(-1022 - k) {
        let q = pow2(-1074 - k);
        let c = pow2(-1022 - k);
        let (s, e) = two_sum(c, hi);
        // The sign of (e ± q/2) + lo: e ∓ q/2 is exact where it is small (Sterbenz), and
        // where it is not, lo cannot change its sign.
        let s = if (e - 0.5 * q) + lo > 0.0 {
            s + q
        } else if (e + 0.5 * q) + lo < 0.0 {
            s - q
        } else {
            s
        };
        return (s - c) * pow2(k1) * pow2(k2);
    }
    r * pow2(k1) * pow2(k2)
}

/// The partial of a set of finite elements summed again, scaled by a power of two, where the
/// kernels' sums lose what the variance needs ([`Rescaled::scale_for`] says where):
///
/// - `M2 == inf` from finite values: the kernels' `(x - c)²` can pass the largest float
///   where the exact `M2` does not (`Σ(x - c)² <= (n + 1) M2`, the module's comment), which
///   numpy's `(x - mean)²` would not; `var` of 23 values near `1e153` was inf where numpy's
///   (and the exact) variance is `1.08e306`. Scaled by `2^-600` (exact for every element
///   above `2^-422`; smaller ones add below M2's last bit, which is at least
///   `2^1024 / (n + 1)`), `M2` is finite, and so is the std of values whose variance passes
///   the largest float (`std([1e308, -1e308])`, inf before, `1e308` exactly).
/// - `M2 < 2^-800`: the squares of deviations below about `2^-485` are rounded to the
///   subnormals' spacing (numpy's too), so a variance near or below the smallest normal float
///   lost its last bits, or all of them. Such an `M2` comes only from elements all below
///   about `2^-300` (two distinct elements of which one is larger differ by at least
///   `2^-352`, so `M2 >= 2^-705`); scaled by `2^600` they and their squares are normal.
///
/// The partial stays at its scale ([`VarPartial::scale`]) and the variance is scaled back
/// and rounded once at the end. A rare path: scalar, with the library's FMA.
pub(crate) struct Rescaled {
    scale: i32,
    n: f64,
    c: f64,
    s: Dd,
    d: Dd,
}

impl Rescaled {
    /// Below this an `M2` is summed again scaled up.
    const TINY: f64 = pow2(-800);

    /// The scales a partial can have: 0 (the kernels') and `Rescaled`'s two.
    pub(crate) const SCALES: [i32; 3] = [-600, 0, 600];

    /// The scale to sum the kernels' partial's elements again at, if they need it: `-600` for an
    /// `M2` that overflowed (finite elements: any infinity or NaN counted made it NaN);
    /// `600` for an `M2` below `2^-800`, unless it is 0 from elements all equal to their
    /// mean (no squares lost) or with a mean of 0 (zeros; the rare nonzero set with an exact
    /// mean of 0 and all squares below half the smallest subnormal keeps numpy's 0).
    pub(crate) fn scale_for(p: &VarPartial) -> Option<i32> {
        if p.m2 == f64::INFINITY {
            Some(-600)
        } else if p.m2 < Self::TINY && (p.m2 != 0.0 || (p.mean != 0.0 && p.mean.abs() < pow2(-480)))
        {
            Some(600)
        } else {
            None
        }
    }

    pub(crate) fn new(scale: i32) -> Self {
        Self {
            scale,
            n: 0.0,
            c: 0.0,
            s: (0.0, 0.0),
            d: (0.0, 0.0),
        }
    }

    /// Count the finite element `x`.
    pub(crate) fn add(&mut self, x: f64) {
        let y = x * pow2(self.scale);
        if self.n == 0.0 {
            self.c = y;
        }
        self.n += 1.0;
        let (d, dl) = two_sum(y, -self.c);
        let p = d * d;
        let pe = d.mul_add(d, -p) + (2.0 * d + dl) * dl;
        self.s = dd_add(self.s, (p, pe));
        self.d = dd_add(self.d, (d, dl));
    }

    /// The partial of the elements counted, at the scale they were summed at.
    pub(crate) fn partial(self) -> VarPartial {
        let p = VarPartial::from_shifted(self.n, self.c, self.s, self.d, false);
        VarPartial {
            scale: self.scale,
            ..p
        }
    }
}

pub(crate) struct Var<T, P>(PhantomData<(T, P)>);

impl<T, P> Var<T, P> {
    pub fn new() -> Self {
        Self(PhantomData)
    }
}

/// What fills up a short last block so that it adds nothing: NaN under the nan-functions on
/// floats (skipped), else the shift's own element (`x - c == 0`; the plain functions count
/// the elements fed, not the lanes' additions).
#[inline(always)]
fn pad<T: Element, P: NanPolicy>(shift: T) -> T {
    if skips::<T, P>() {
        T::NAN
    } else {
        shift
    }
}

#[inline(always)]
fn valid<T: Element, P: NanPolicy>(x: f64) -> bool {
    !(skips::<T, P>() && x.is_nan())
}

/// Whether `T`'s variance is f64 and so needs the double-double sums (f64 and the integers;
/// f32's is f32: see the module's comment).
#[inline(always)]
const fn exact<T: Element>() -> bool {
    !(T::IS_FLOAT && std::mem::size_of::<T>() < 8)
}

/// Whether an infinity or NaN was counted, from the sums of a set: f64 tracks it in `fin`
/// (its sums also overflow on finite values); f32's sums cannot overflow, so a non-finite sum
/// means a non-finite element; integers have none.
#[inline(always)]
fn nonfinite<T: Element>(fin_nan: bool, s: Dd, d: Dd) -> bool {
    if !T::IS_FLOAT {
        false
    } else if exact::<T>() {
        fin_nan
    } else {
        !(dd_finite(s) && dd_finite(d))
    }
}

/// The sums relative to the shift of one set of accumulators (`L` lanes, or `TILE` outputs):
/// `S = s + sl`, `D = d + dl`, the count `n` (under the nan-functions; the plain ones count
/// elements or rows themselves) and `fin`, the sum of `x - x` (NaN once an infinity or NaN
/// was added; f64 only).
#[derive(Clone, Copy)]
struct Sums<const N: usize> {
    s: [f64; N],
    sl: [f64; N],
    d: [f64; N],
    dl: [f64; N],
    n: [f64; N],
    fin: [f64; N],
}

impl<const N: usize> Sums<N> {
    const ZERO: Self = Self {
        s: [0.0; N],
        sl: [0.0; N],
        d: [0.0; N],
        dl: [0.0; N],
        n: [0.0; N],
        fin: [0.0; N],
    };

    /// Accumulator `j` as a partial of `n` elements (`n` from the caller under the plain
    /// functions, which count elements or rows themselves).
    #[inline(always)]
    fn partial<T: Element, P: NanPolicy>(&self, j: usize, n: f64, c: f64) -> VarPartial {
        let n = if skips::<T, P>() { self.n[j] } else { n };
        let (s, d) = ((self.s[j], self.sl[j]), (self.d[j], self.dl[j]));
        VarPartial::from_shifted(n, c, s, d, nonfinite::<T>(self.fin[j].is_nan(), s, d))
    }

    /// The vector (of `S`'s width) of every accumulator from `at` on.
    #[inline(always)]
    fn load<S: Simd>(&self, at: usize) -> Acc<S::f64s> {
        Acc {
            s: vector_at::<S>(&self.s, at),
            sl: vector_at::<S>(&self.sl, at),
            d: vector_at::<S>(&self.d, at),
            dl: vector_at::<S>(&self.dl, at),
            n: vector_at::<S>(&self.n, at),
            fin: vector_at::<S>(&self.fin, at),
        }
    }

    /// [`Sums::load`]'s inverse: only the accumulators the kernel uses are written back.
    #[inline(always)]
    fn store<T: Element, P: NanPolicy, S: Simd>(&mut self, at: usize, a: Acc<S::f64s>) {
        put_at::<S>(&mut self.s, at, a.s);
        put_at::<S>(&mut self.d, at, a.d);
        if exact::<T>() {
            put_at::<S>(&mut self.sl, at, a.sl);
            put_at::<S>(&mut self.dl, at, a.dl);
            if T::IS_FLOAT {
                put_at::<S>(&mut self.fin, at, a.fin);
            }
        }
        if skips::<T, P>() {
            put_at::<S>(&mut self.n, at, a.n);
        }
    }
}

/// `a[at..]`'s first vector of `S`'s width.
#[inline(always)]
fn vector_at<S: Simd>(a: &[f64], at: usize) -> S::f64s {
    S::as_simd_f64s(&a[at..at + S::F64_LANES]).0[0]
}

/// Write `v` over `a[at..at + S::F64_LANES]`.
#[inline(always)]
fn put_at<S: Simd>(a: &mut [f64], at: usize, v: S::f64s) {
    S::as_mut_simd_f64s(&mut a[at..at + S::F64_LANES]).0[0] = v;
}

/// One vector of each accumulator of [`Sums`].
#[derive(Clone, Copy)]
struct Acc<V> {
    s: V,
    sl: V,
    d: V,
    dl: V,
    n: V,
    fin: V,
}

/// `v` where `ok`, else 0, under the nan-functions (a skipped element adds nothing); `v`
/// under the plain ones.
#[inline(always)]
fn kept<T: Element, P: NanPolicy, S: Simd>(simd: S, ok: S::m64s, v: S::f64s) -> S::f64s {
    if skips::<T, P>() {
        simd.select_f64s(ok, v, simd.splat_f64s(0.0))
    } else {
        v
    }
}

/// Add the vector `x` of elements (read as f64) to `a`, lane by lane, relative to the shifts
/// `c`: the module's sums, written with explicit vectors (the compiler's own vectorisation of
/// the lane arrays kept two of them in memory and split f32's into 128-bit pieces). Every SIMD
/// level runs the same operations in the same order; only `d² - p` is an FMA or Dekker's
/// product, and both are exact, so the bits are the same at every level.
#[inline(always)]
fn update<T: Element, P: NanPolicy, S: Simd>(
    simd: S,
    a: &mut Acc<S::f64s>,
    x: S::f64s,
    c: S::f64s,
    one: S::f64s,
) {
    let ok = simd.equal_f64s(x, x);
    if exact::<T>() {
        // About half of the additions and subtractions are `add_f`/`sub_f`, FMAs by `one`
        // at the FMA levels (the same roundings, so the same bits at every level), so that
        // they run on the FMA pipes beside the add pipes: 14 and 15 operations a vector,
        // where all 26 additions waited on the two add pipes (one Zen 4 thread, var of 1e5
        // f64 in cache: 90 us, all of it this loop).
        // d + dl == x - c exactly.
        let (d, dl) = two_sum_vf(simd, x, simd.neg_f64s(c), one);
        let (d, dl) = (kept::<T, P, S>(simd, ok, d), kept::<T, P, S>(simd, ok, dl));
        let p = simd.mul_f64s(d, d);
        let pe = if const { has_fma::<S>() } {
            simd.mul_add_f64s(d, d, simd.neg_f64s(p))
        } else {
            // Dekker's split (2^27 + 1): d = h + l with 26-bit halves, so d² - p is exact.
            let t = simd.mul_f64s(simd.splat_f64s(134217729.0), d);
            let h = simd.sub_f64s(t, simd.sub_f64s(t, d));
            let l = simd.sub_f64s(d, h);
            let two_hl = simd.mul_f64s(simd.add_f64s(h, h), l);
            simd.add_f64s(
                simd.add_f64s(simd.sub_f64s(simd.mul_f64s(h, h), p), two_hl),
                simd.mul_f64s(l, l),
            )
        };
        // d² = p + pe + 2 d dl (+ dl², below 2^-104 d²).
        let corr = simd.add_f64s(pe, simd.mul_f64s(simd.add_f64s(d, d), dl));
        // (S, SL) += p + corr and (D, DL) += d + dl, each with TwoSum.
        let (s, se) = two_sum_vf(simd, a.s, p, one);
        a.s = s;
        a.sl = simd.add_f64s(a.sl, add_f(simd, one, se, corr));
        let (t, te) = two_sum_vf(simd, a.d, d, one);
        a.d = t;
        a.dl = simd.add_f64s(a.dl, add_f(simd, one, te, dl));
        if T::IS_FLOAT {
            let nonfinite = sub_f(simd, one, x, x);
            a.fin = simd.add_f64s(a.fin, kept::<T, P, S>(simd, ok, nonfinite));
        }
    } else {
        let d = kept::<T, P, S>(simd, ok, simd.sub_f64s(x, c));
        a.s = simd.add_f64s(a.s, simd.mul_f64s(d, d));
        a.d = simd.add_f64s(a.d, d);
    }
    if skips::<T, P>() {
        a.n = simd.add_f64s(a.n, kept::<T, P, S>(simd, ok, simd.splat_f64s(1.0)));
    }
}

/// [`update`] with a block of `L` elements, vector `k` into `acc[k]`. A named function, not a
/// closure: a closure does not inherit the SIMD level's target features (see `sum.rs`).
#[inline(always)]
fn add_block<T: Element, P: NanPolicy, S: Simd, const N: usize>(
    simd: S,
    acc: &mut [Acc<S::f64s>; N],
    b: &[T; L],
    c: S::f64s,
    one: S::f64s,
) {
    let x: [f64; L] = b.map(|v| v.to_f64());
    let (xs, _) = S::as_simd_f64s(&x);
    for k in 0..N {
        update::<T, P, S>(simd, &mut acc[k], xs[k], c, one);
    }
}

/// The double-doubles `hi[j] + lo[j]` added in lane order: TwoSum on the leading parts, the
/// rest added plainly (errors of order `L u²` of the total, as `dd_add`'s, at a third of its
/// cost: rows of 4 elements pay this per output).
#[inline(always)]
fn lane_total(hi: &[f64; L], lo: &[f64; L]) -> Dd {
    let (mut s, mut e) = (0.0, 0.0);
    for j in 0..L {
        let (t, te) = two_sum(s, hi[j]);
        s = t;
        e += te + lo[j];
    }
    fast_two_sum(s, e)
}

pub(crate) struct VarLanes<T> {
    /// The shift: the first element counted, once there is one.
    c: Option<T>,
    /// Elements fed (the count under the plain functions).
    fed: f64,
    sums: Sums<L>,
}

pub(crate) struct VarTile {
    /// Rows pushed (the count under the plain functions).
    rows: f64,
    /// Each output's shift: its first element counted. The plain functions take the first
    /// row; under the nan-functions on floats a shift is NaN until one is found (a select,
    /// not a branch).
    c: [f64; TILE],
    sums: Sums<TILE>,
}

impl VarTile {
    /// Turn the sums of outputs `..len` into their partials, in place: `n`, the mean in
    /// `d + dl`, `M2` in `s + sl`. One loop over the outputs with no branches, which the
    /// compiler vectorises: the conversion is most of the cost of outputs over few rows
    /// (var of a (4, 1e5) array over axis 0 took 4 times as long as its additions).
    #[inline(always)]
    fn settle<T: Element, P: NanPolicy>(&mut self, len: usize) {
        let rows = self.rows;
        let t = &mut self.sums;
        for j in 0..len {
            let p = t.partial::<T, P>(j, rows, self.c[j]);
            t.n[j] = p.n;
            t.d[j] = p.mean;
            t.dl[j] = p.mean_lo;
            t.s[j] = p.m2;
            t.sl[j] = p.m2_lo;
        }
    }
}

/// Whether NaN elements are skipped (the nan-functions on floats).
#[inline(always)]
const fn skips<T: Element, P: NanPolicy>() -> bool {
    P::IGNORE && T::IS_FLOAT
}

/// Outputs of a row converted to f64 at a time by the vertical path.
const CHUNK: usize = 64;

impl<T: Element, P: NanPolicy> Var<T, P> {
    /// The lane path's run loop with `N` vectors of `S` per block of `L`.
    ///
    /// # Safety
    /// As [`Kernel::feed`].
    #[inline(always)]
    unsafe fn feed_n<S: Simd, const N: usize>(
        simd: S,
        sums: &mut Sums<L>,
        ptr: *const T,
        len: usize,
        stride: isize,
        shift: T,
    ) {
        assert_eq!(N * S::F64_LANES, L);
        let c = simd.splat_f64s(shift.to_f64());
        let one = simd.splat_f64s(std::hint::black_box(1.0));
        let pad = pad::<T, P>(shift);
        let mut acc: [Acc<S::f64s>; N] = std::array::from_fn(|k| sums.load::<S>(k * S::F64_LANES));
        // SAFETY: the run is valid (this function's contract).
        unsafe {
            for_each_block::<T, _, L>(
                &mut acc,
                ptr,
                len,
                stride,
                Some(pad),
                #[inline(always)]
                |acc, b| add_block::<T, P, S, N>(simd, acc, b, c, one),
                // One element as a block of neutral ones (`pad`): indexing the lanes by a
                // run-time `j` would keep them in memory in the main loop too.
                #[inline(always)]
                |acc, j, x| {
                    let mut b = [pad; L];
                    b[j] = x;
                    add_block::<T, P, S, N>(simd, acc, &b, c, one)
                },
            )
        }
        for (k, a) in acc.into_iter().enumerate() {
            sums.store::<T, P, S>(k * S::F64_LANES, a);
        }
    }

    /// Add row `ptr + j * stride`, `j < len`, to the tile (see [`Kernel::push_row`]): `CHUNK`
    /// outputs at a time are read into f64, then added a vector at a time. The lanes past
    /// `len` in the last vector take padding (NaN where skipped, else 0) into accumulators
    /// no output reads.
    ///
    /// # Safety
    /// Every element of the row must be a valid `T`.
    #[inline(always)]
    unsafe fn add_row<S: Simd>(
        simd: S,
        tile: &mut VarTile,
        ptr: *const T,
        len: usize,
        stride: isize,
    ) {
        const { assert!(TILE % CHUNK == 0 && CHUNK % 8 == 0) };
        let w = S::F64_LANES;
        let first = !skips::<T, P>() && tile.rows == 0.0;
        let one = simd.splat_f64s(std::hint::black_box(1.0));
        let mut j = 0;
        while j < len {
            let m = CHUNK.min(len - j);
            let mut x = [if skips::<T, P>() { f64::NAN } else { 0.0 }; CHUNK];
            // SAFETY: outputs j..j + m of the row (this function's contract).
            unsafe {
                for_each_in_row(
                    ptr.wrapping_offset(j as isize * stride),
                    m,
                    stride,
                    #[inline(always)]
                    |i, v| x[i] = v.to_f64(),
                )
            };
            if first {
                tile.c[j..j + m].copy_from_slice(&x[..m]);
            }
            let (xs, _) = S::as_simd_f64s(&x[..m.div_ceil(w) * w]);
            for (k, &xv) in xs.iter().enumerate() {
                let at = j + k * w;
                let cs = &mut S::as_mut_simd_f64s(&mut tile.c[at..at + w]).0[0];
                if skips::<T, P>() {
                    // A shift not found yet (NaN) becomes this element.
                    *cs = simd.select_f64s(simd.equal_f64s(*cs, *cs), *cs, xv);
                }
                let c = *cs;
                let mut a = tile.sums.load::<S>(at);
                update::<T, P, S>(simd, &mut a, xv, c, one);
                tile.sums.store::<T, P, S>(at, a);
            }
            j += m;
        }
        tile.rows += 1.0;
    }
}

impl<T: Element, P: NanPolicy> Kernel<T> for Var<T, P> {
    type Lanes = VarLanes<T>;
    type Tile = Box<VarTile>;
    type Partial = VarPartial;
    /// Never reached: the tile's sums need no folding on the way, and `flush` turns them
    /// into partials (once, before `tile_partial`).
    const FLUSH_ROWS: usize = 1 << 60;

    #[inline(always)]
    fn lanes(&self) -> VarLanes<T> {
        VarLanes {
            c: None,
            fed: 0.0,
            sums: Sums::ZERO,
        }
    }

    #[inline(always)]
    unsafe fn feed<S: Simd>(
        &self,
        simd: S,
        lanes: &mut VarLanes<T>,
        ptr: *const T,
        len: usize,
        stride: isize,
    ) {
        lanes.fed += len as f64;
        let shift = match lanes.c {
            Some(c) => c,
            None => {
                // The first element counted; before it only skipped ones (NaN).
                // SAFETY: i < len, an element of the run (this function's contract).
                let first = (0..len)
                    .map(|i| unsafe { *ptr.offset(i as isize * stride) })
                    .find(|x| valid::<T, P>(x.to_f64()));
                match first {
                    Some(c) => *lanes.c.insert(c),
                    None => return,
                }
            }
        };
        // A local copy: through `lanes` the compiler stores the sums after every block.
        let mut sums = lanes.sums;
        // Vectors per block of `L`: 1 of AVX-512, 2 of AVX2, 4 of NEON, 8 scalars.
        match S::F64_LANES {
            // SAFETY: forwarded from this function's contract.
            8 => unsafe { Self::feed_n::<S, 1>(simd, &mut sums, ptr, len, stride, shift) },
            // SAFETY: forwarded from this function's contract.
            4 => unsafe { Self::feed_n::<S, 2>(simd, &mut sums, ptr, len, stride, shift) },
            // SAFETY: forwarded from this function's contract.
            2 => unsafe { Self::feed_n::<S, 4>(simd, &mut sums, ptr, len, stride, shift) },
            // SAFETY: forwarded from this function's contract.
            1 => unsafe { Self::feed_n::<S, 8>(simd, &mut sums, ptr, len, stride, shift) },
            w => unreachable!("no variance loop for {w}-lane vectors"),
        }
        lanes.sums = sums;
    }

    #[inline(always)]
    fn finish<S: Simd>(&self, _simd: S, lanes: VarLanes<T>) -> VarPartial {
        let Some(c) = lanes.c.map(T::to_f64) else {
            return VarPartial::EMPTY;
        };
        let a = &lanes.sums;
        // All lanes share the shift: their sums add up before the one conversion to a
        // partial.
        let s = lane_total(&a.s, &a.sl);
        let d = lane_total(&a.d, &a.dl);
        let n = if skips::<T, P>() {
            tree(
                a.n,
                #[inline(always)]
                |x, y| x + y,
            )
        } else {
            lanes.fed
        };
        let fin = a.fin.iter().any(|f| f.is_nan());
        VarPartial::from_shifted(n, c, s, d, nonfinite::<T>(fin, s, d))
    }

    #[inline(always)]
    fn combine(&self, a: VarPartial, b: VarPartial) -> VarPartial {
        a.merge(b)
    }

    fn tile(&self) -> Box<VarTile> {
        // SAFETY: every field of `VarTile` is f64 or an array of f64, for which all-zero
        // bits are 0.0.
        let mut t = unsafe { super::zeroed_tile::<VarTile>() };
        if skips::<T, P>() {
            t.c = [f64::NAN; TILE];
        }
        t
    }

    #[inline(always)]
    unsafe fn push_row(&self, tile: &mut Box<VarTile>, ptr: *const T, len: usize, stride: isize) {
        // SAFETY: forwarded from this function's contract.
        unsafe { Self::add_row(pulp::Scalar::new(), tile, ptr, len, stride) }
    }

    #[inline(always)]
    unsafe fn push_rows<S: Simd>(
        &self,
        simd: S,
        tile: &mut Box<VarTile>,
        rows: &[*const T],
        len: usize,
        stride: isize,
    ) {
        for &p in rows {
            // SAFETY: forwarded from this function's contract.
            unsafe { Self::add_row(simd, tile, p, len, stride) };
        }
    }

    /// Called only before `tile_partial` (see [`VarTile::settle`]).
    #[inline(always)]
    fn flush(&self, tile: &mut Box<VarTile>, len: usize) {
        tile.settle::<T, P>(len);
    }

    #[inline(always)]
    fn tile_partial(&self, tile: &Box<VarTile>, j: usize) -> VarPartial {
        let t = &tile.sums;
        VarPartial {
            n: t.n[j],
            mean: t.d[j],
            mean_lo: t.dl[j],
            m2: t.s[j],
            m2_lo: t.sl[j],
            scale: 0,
        }
    }
}

// The kernels themselves are tested through the crate's API in tests/suite and in Python
// against exact rationals; these test the double-double arithmetic and the partials.
#[cfg(test)]
mod tests {
    use super::*;

    /// `add_f`, `sub_f` and `two_sum_vf` (FMAs by an opaque 1.0 at the FMA levels) give the
    /// bits of `a + b`, `a - b` and `two_sum_v` at every level this machine has, for every
    /// pair of a set of values with signed zeros, infinities, subnormals, overflowing sums
    /// and cancellations (a NaN result: NaN, whichever NaN).
    #[test]
    fn fma_by_one_forms_round_as_the_plain_operations() {
        struct Ops(Vec<(f64, f64)>);
        impl pulp::WithSimd for Ops {
            type Output = Vec<[f64; 6]>;
            #[inline(always)]
            fn with_simd<S: Simd>(self, simd: S) -> Vec<[f64; 6]> {
                let w = S::F64_LANES;
                let one = simd.splat_f64s(std::hint::black_box(1.0));
                let mut out = Vec::new();
                for pairs in self.0.chunks(w) {
                    let (mut a, mut b) = (vec![0.0; w], vec![0.0; w]);
                    for (j, &(x, y)) in pairs.iter().enumerate() {
                        (a[j], b[j]) = (x, y);
                    }
                    let av = S::as_simd_f64s(&a).0[0];
                    let bv = S::as_simd_f64s(&b).0[0];
                    let (s, e) = two_sum_vf(simd, av, bv, one);
                    let (s0, e0) = crate::kernels::two_sum_v(simd, av, bv);
                    let vs = [
                        s,
                        e,
                        s0,
                        e0,
                        add_f(simd, one, av, bv),
                        sub_f(simd, one, av, bv),
                    ];
                    let lanes: Vec<Vec<f64>> = vs
                        .iter()
                        .map(|&v| {
                            let mut l = vec![0.0; w];
                            S::as_mut_simd_f64s(&mut l).0[0] = v;
                            l
                        })
                        .collect();
                    for j in 0..pairs.len() {
                        out.push(std::array::from_fn(|k| lanes[k][j]));
                    }
                }
                out
            }
        }
        let vals = [
            0.0,
            -0.0,
            1.0,
            -1.0,
            3.0,
            -7.5,
            1.0 + f64::EPSILON,
            1e16,
            -1e16,
            f64::MAX,
            -f64::MAX,
            f64::MIN_POSITIVE,
            5e-324,
            -5e-324,
            f64::INFINITY,
            f64::NEG_INFINITY,
            f64::NAN,
            0.1,
            -0.3,
        ];
        let pairs: Vec<(f64, f64)> = vals
            .iter()
            .flat_map(|&a| vals.iter().map(move |&b| (a, b)))
            .collect();
        let same = |x: f64, y: f64| x.to_bits() == y.to_bits() || (x.is_nan() && y.is_nan());
        for level in crate::simd::available_simd_levels() {
            let got = crate::simd::dispatch(level, Ops(pairs.clone()));
            assert_eq!(got.len(), pairs.len());
            for (&(a, b), r) in pairs.iter().zip(&got) {
                let ctx = format!("{level:?}, {a:e} and {b:e}: {r:?}");
                assert!(same(r[0], r[2]) && same(r[1], r[3]), "two_sum_vf, {ctx}");
                assert!(same(r[4], a + b) && same(r[5], a - b), "add_f/sub_f, {ctx}");
            }
        }
    }

    /// `d² - p` exactly, for `p = fl(d * d)` (unless `d²` overflows): one FMA, or Dekker's
    /// split as [`update`] has it where the level has no FMA (the same bits: both are exact).
    fn square_error(d: f64, p: f64, fma: bool) -> f64 {
        if fma {
            d.mul_add(d, -p)
        } else {
            const SPLIT: f64 = 134217729.0; // 2^27 + 1
            let t = SPLIT * d;
            let h = t - (t - d);
            let l = d - h;
            ((h * h - p) + 2.0 * h * l) + l * l
        }
    }

    /// The partial of `xs`, built as the kernels build it: shift = the first element.
    fn partial_of(xs: &[f64]) -> VarPartial {
        let c = xs[0];
        let mut s = (0.0, 0.0);
        let mut d = (0.0, 0.0);
        for &x in xs {
            let (dh, dl) = two_sum(x, -c);
            let p = dh * dh;
            s = dd_add(s, (p, square_error(dh, p, false) + 2.0 * dh * dl));
            d = dd_add(d, (dh, dl));
        }
        let fin = xs.iter().any(|x| !x.is_finite());
        VarPartial::from_shifted(xs.len() as f64, c, s, d, fin)
    }

    #[test]
    fn double_double_operations_are_exact_where_they_can_be() {
        let third = dd_div((1.0, 0.0), 3.0);
        // 1/3 to 106 bits: 3 * (hi + lo) is 1 within 2^-104.
        let back = dd_mul(third, (3.0, 0.0));
        assert!((back.0 - 1.0 + back.1).abs() < 2f64.powi(-104));
        let s = dd_add((1.0, 2f64.powi(-60)), (2f64.powi(-53), 0.0));
        assert_eq!(s, (1.0 + 2f64.powi(-52), 2f64.powi(-60) - 2f64.powi(-53)));
        let p = dd_mul((1.0 + 2f64.powi(-30), 0.0), (1.0 + 2f64.powi(-30), 0.0));
        assert_eq!(p, (1.0 + 2f64.powi(-29), 2f64.powi(-60)));
        assert_eq!(dd_neg((1.5, -0.25)), (-1.5, 0.25));
    }

    #[test]
    fn dekker_and_fma_square_errors_agree() {
        for &d in &[0.1, 3.0 + 2f64.powi(-40), 1e150, -7.3e-100, 123456.789] {
            let p = d * d;
            assert_eq!(square_error(d, p, false), square_error(d, p, true), "{d}");
        }
    }

    #[test]
    fn variance_of_offset_data_is_correctly_rounded() {
        // 1e8 + {1, 2, 3}: M2 = 2, var = 2/3 (numpy's rounded mean loses bits here).
        let p = partial_of(&[1e8 + 1.0, 1e8 + 2.0, 1e8 + 3.0]);
        assert_eq!((p.n, p.mean, p.m2, p.m2_lo), (3.0, 1e8 + 2.0, 2.0, 0.0));
        assert_eq!(p.variance(3.0, false), 2.0 / 3.0);
        assert_eq!(p.variance(2.0, true), 1.0);
        // {0.1, 0.2, 0.4} exactly (as doubles): var = M2 / 3, rounded once.
        let xs = [0.1, 0.2, 0.4];
        let p = partial_of(&xs);
        // The exact M2 of the three doubles, from their integer multiples of 2^-56.
        let k: Vec<i128> = xs.iter().map(|x| (x * 2f64.powi(56)) as i128).collect();
        let (s1, s2) = (
            k.iter().sum::<i128>(),
            k.iter().map(|x| x * x).sum::<i128>(),
        );
        let num = 3 * s2 - s1 * s1; // 3 M2 2^112
        let m2 = p.m2 + p.m2_lo;
        let exact = num as f64 / 3.0 * 2f64.powi(-112);
        assert!((m2 - exact).abs() <= exact * 2f64.powi(-52));
        assert!(p.m2_lo.abs() <= p.m2 * 2f64.powi(-52));
    }

    #[test]
    fn merging_parts_gives_the_whole() {
        let xs: Vec<f64> = (0..1000)
            .map(|i| 1e6 + ((i * 7919) % 1000) as f64 * 0.001)
            .collect();
        let whole = partial_of(&xs);
        for cut in [1, 17, 500, 999] {
            let m = partial_of(&xs[..cut]).merge(partial_of(&xs[cut..]));
            assert_eq!(m.n, 1000.0);
            for ddof in [0.0, 1.0] {
                assert_eq!(
                    m.variance(1000.0 - ddof, false),
                    whole.variance(1000.0 - ddof, false)
                );
                assert_eq!(
                    m.variance(1000.0 - ddof, true),
                    whole.variance(1000.0 - ddof, true)
                );
            }
        }
        assert_eq!(VarPartial::EMPTY.merge(whole), whole);
        assert_eq!(whole.merge(VarPartial::EMPTY), whole);
        // Repeated: the same values twice over.
        let twice: Vec<f64> = xs.iter().chain(&xs).copied().collect();
        let r = whole.repeated(2.0);
        assert_eq!(r.n, 2000.0);
        assert_eq!(
            r.variance(1999.0, false),
            partial_of(&twice).variance(1999.0, false)
        );
    }

    #[test]
    fn scaled_back_rounds_once_to_the_subnormals() {
        let k = -1200;
        let q = pow2(-1074 - k); // the subnormals' spacing at this scale
        let sub = |m: f64| m * 2f64.powi(-1074);
        // Exact multiples and the halfway points (ties to even), without a low part.
        assert_eq!(scaled_back(5.0 * q, 0.0, k), sub(5.0));
        assert_eq!(scaled_back(5.5 * q, 0.0, k), sub(6.0));
        assert_eq!(scaled_back(4.5 * q, 0.0, k), sub(4.0));
        // The low part decides a halfway `hi`: fl(hi + lo) scaled would round twice, to the
        // midpoint and then to even.
        let tiny = q * 2f64.powi(-70);
        assert_eq!(scaled_back(5.5 * q, -tiny, k), sub(5.0));
        assert_eq!(
            (5.5 * q - tiny) * 2f64.powi(-600) * 2f64.powi(-600),
            sub(6.0)
        );
        assert_eq!(scaled_back(4.5 * q, tiny, k), sub(5.0));
        assert_eq!(scaled_back(4.5 * q, -tiny, k), sub(4.0));
        // Below half the smallest subnormal: 0; the largest subnormals and the smallest
        // normals on the same spacing.
        assert_eq!(scaled_back(0.25 * q, 0.0, k), 0.0);
        let c = pow2(-1022 - k);
        assert_eq!(scaled_back(c - q, 0.0, k), f64::MIN_POSITIVE - sub(1.0));
        assert_eq!(scaled_back(c - 0.25 * q, 0.0, k), f64::MIN_POSITIVE);
        assert_eq!(scaled_back(c + q, 0.0, k), f64::MIN_POSITIVE + sub(1.0));
        // Normal results: fl(hi + lo), scaled exactly; beyond the largest float: inf.
        assert_eq!(
            scaled_back(1.5, 2f64.powi(-60), -600),
            1.5 * 2f64.powi(-600)
        );
        assert_eq!(scaled_back(1.5, 0.0, 1200), f64::INFINITY);
        assert_eq!(scaled_back(1.5, 0.0, 600), 1.5 * 2f64.powi(600));
        assert_eq!(scaled_back(3.0, 1e-20, 0), 3.0);
    }

    /// The partial of `xs` summed again at `scale`, as `dynamic::variances` does.
    fn rescaled(xs: &[f64], scale: i32) -> VarPartial {
        let mut r = Rescaled::new(scale);
        xs.iter().for_each(|&x| r.add(x));
        r.partial()
    }

    #[test]
    fn rescaled_partials_keep_tiny_and_huge_variances() {
        // Tiny: elements 2^-540 apart (squares 2^-1080, below the smallest subnormal).
        let t = 2f64.powi(-540);
        let xs = [3.0 * t, 4.0 * t, 6.0 * t, 3.0 * t];
        let kernel = partial_of(&xs);
        assert_eq!(Rescaled::scale_for(&kernel), Some(600));
        let p = rescaled(&xs, 600);
        assert_eq!(p.scale, 600);
        // mean 4 t, M2 = 1 + 0 + 4 + 1 = 6 t²: var 1.5 t² = 1.5 2^-1080, below half the
        // smallest subnormal (2^-1075): 0; std sqrt(1.5) t, normal.
        assert_eq!(p.variance(4.0, false), 0.0);
        assert_eq!(p.variance(4.0, true), 1.5f64.sqrt() * t);
        // Elements 2^-530 apart: squares near 2^-1060, variances subnormal with bits to keep.
        let t = 2f64.powi(-530);
        let xs = [t, 2.0 * t, 4.0 * t, 9.0 * t, -3.0 * t];
        let p = rescaled(&xs, 600);
        // Σx = 13 t, Σx² = 111 t², M2 = 111 - 169/5 = 386/5 t²; var = 386/25 2^-1060 =
        // 15.44 2^-1060 = 15.44 2^14 2^-1074 = 252968.96: rounds to 252969 2^-1074.
        assert_eq!(p.variance(5.0, false), 252969.0 * 2f64.powi(-1074));
        // ddof 1: 386/20 2^14 = 316211.2: 316211.
        assert_eq!(p.variance(4.0, false), 316211.0 * 2f64.powi(-1074));
        // The kernels' partial, the same elements: not rescued, a few ulp of the spacing off.
        assert_eq!(Rescaled::scale_for(&partial_of(&xs)), Some(600));
        // Zeros and equal elements need nothing; a normal M2 neither.
        assert_eq!(Rescaled::scale_for(&partial_of(&[0.0, 0.0, -0.0])), None);
        assert_eq!(Rescaled::scale_for(&partial_of(&[1e-100, 1e-100])), None);
        assert_eq!(Rescaled::scale_for(&partial_of(&[1.0, 2.0])), None);
        assert_eq!(
            Rescaled::scale_for(&partial_of(&[1e-300, 1e-300])),
            Some(600)
        );
        // Huge: M2 of [x, -x, x, -x] is 4 x², past the largest float; var x² and std |x|.
        let x = 9e153;
        let xs = [x, -x, x, -x];
        assert_eq!(partial_of(&xs).m2, f64::INFINITY);
        assert_eq!(Rescaled::scale_for(&partial_of(&xs)), Some(-600));
        let p = rescaled(&xs, -600);
        assert_eq!(p.variance(4.0, false), x * x);
        assert_eq!(p.variance(4.0, true), x);
        // std of [1e308, -1e308]: 1e308 (numpy's squares overflow: inf); var inf.
        let p = rescaled(&[1e308, -1e308], -600);
        assert_eq!(p.variance(2.0, true), 1e308);
        assert_eq!(p.variance(2.0, false), f64::INFINITY);
    }

    #[test]
    fn partials_of_different_scales_merge() {
        let t = 2f64.powi(-530);
        let xs = [t, 2.0 * t, 4.0 * t, 9.0 * t, -3.0 * t];
        let whole = rescaled(&xs, 600);
        // A rescued part with a part the kernels left at scale 0 (zeros): at scale 600.
        let zeros = partial_of(&[0.0, 0.0]);
        let ys = [t, 2.0 * t, 4.0 * t, 9.0 * t, -3.0 * t, 0.0, 0.0];
        let m = rescaled(&xs, 600).merge(zeros);
        assert_eq!(m.scale, 600);
        assert_eq!(
            m.variance(7.0, false),
            rescaled(&ys, 600).variance(7.0, false)
        );
        let m = zeros.merge(whole);
        assert_eq!(
            m.variance(7.0, false),
            rescaled(&ys, 600).variance(7.0, false)
        );
        // With a part of ordinary values the merge is at scale 0, and the tiny ones are
        // negligible: var of [1, 2] and five tiny values.
        let one = partial_of(&[1.0, 2.0]);
        let m = one.merge(whole);
        assert_eq!(m.scale, 0);
        let mut zs = vec![1.0, 2.0];
        zs.extend_from_slice(&xs);
        assert_eq!(m.variance(7.0, false), partial_of(&zs).variance(7.0, false));
        // Huge with ordinary: at scale -600.
        let x = 9e153;
        let big = rescaled(&[x, -x, x, -x], -600);
        let m = big.merge(one);
        assert_eq!(m.scale, -600);
        let p = rescaled(&[x, -x, x, -x, 1.0, 2.0], -600);
        assert_eq!(m.variance(6.0, false), p.variance(6.0, false));
        assert_eq!(one.merge(big).variance(6.0, true), p.variance(6.0, true));
    }

    #[test]
    fn specials() {
        assert!(partial_of(&[1.0, f64::INFINITY]).m2.is_nan());
        assert!(partial_of(&[f64::NAN, 1.0]).m2.is_nan());
        // Squares beyond the largest float: inf; a mean that numpy's sum overflows: exact.
        assert_eq!(partial_of(&[1e200, -1e200]).m2, f64::INFINITY);
        assert_eq!(partial_of(&[1.5e308, 1.5e308]).variance(2.0, false), 0.0);
        let inf = partial_of(&[1e200, -1e200]);
        let nan = partial_of(&[f64::NAN]);
        let one = partial_of(&[1.0, 2.0]);
        assert_eq!(inf.merge(one).m2, f64::INFINITY);
        assert!(nan.merge(inf).m2.is_nan());
        assert!(one.merge(nan).m2.is_nan());
        // No degrees of freedom: numpy's M2 / max(dof, 0).
        assert!(one.variance(0.0, false).is_infinite());
        assert!(partial_of(&[3.0]).variance(0.0, false).is_nan());
        assert_eq!(partial_of(&[3.0]).variance(1.0, true), 0.0);
    }
}
