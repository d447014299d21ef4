//! Compensated float sums (exact integer sums are in `int_sum`).
//!
//! **f64 data**: every element goes through an exact transformation into its lane's state:
//! at SIMD levels with FMA, runs (contiguous, stride 2, or gathered) take the offset loop
//! ([`f64_blocks`]: each lane of a 64-element segment starts at a power of two above its
//! magnitudes, so Fast2Sum is exact, three operations where TwoSum takes six); elsewhere
//! (the scalar level, the nan-skipping sums, vertical tiles of at most `TRACKED_ROWS` rows)
//! TwoSum into the lane's (hi, lo) pair; longer vertical tiles take an offset loop of their
//! own ([`f64_rows_offset`]: an offset per output, checked after every four rows). Either way each lane's sum is exact up to the rounding of its error terms, and
//! so is the combination of lanes and units, with a rigorous bound that decides the
//! correctly rounded result or sends it to the exact pass (`kernels/exact.rs`). A cheaper
//! blocked scheme (plain adds inside blocks, TwoSum across) was measured first and rejected:
//! its in-block rounding is systematic on repetitive data (ten million 0.1s came out 4 ulps
//! off), so no bound of it decides a rounding.
//!
//! **f32 data** is widened to f64 and added plainly for `FOLD_ROWS` blocks per lane, then
//! folded into (hi, lo) with TwoSum: the in-block error (at most ~8 f64 eps relative) is
//! 2^-29 of an f32 ulp, so the f32 result is within one f32 ulp at any length.

#[cfg(target_arch = "x86_64")]
use super::same;
use super::{
    add_f, has_fma, two_sum, two_sum_fma, two_sum_parts, two_sum_v, Kernel, NanPolicy, LANES, ROWS,
    RUNS, TILE,
};
use crate::element::Element;
use crate::walk::{
    for_each_block, for_each_in_row, gather, gather_ahead, gather_near, hint, prefetch_bytes,
    stream_blocks, CONTIGUOUS_AHEAD, STREAMS,
};
use pulp::{Simd, WithSimd};
use std::marker::PhantomData;
use std::mem::MaybeUninit;

/// Lanes of the f64 sum (the first of the `LANES` arrays; the others stay zero). Its (hi,
/// lo) pairs must fit the registers: with 32 lanes they took all 16 ymm registers of AVX2,
/// the compiler kept some `lo` in memory, and each block waited on a store and reload of
/// them (in-cache mean of 1e5 f64 at ~1.3 cycles per element on Zen 3). 16 lanes are still
/// more independent additions than the add latency needs at any vector width.
const F64_LANES: usize = 16;

/// Elements of a strided f64 run copied at a time to be added as a contiguous one: whole
/// blocks of `F64_LANES`, 2 KiB on the stack (and `ROWS` of them fit a tile's unused `tmp`).
const GATHER: usize = 256;

/// Blocks of `LANES` elements added plainly between two TwoSum folds.
const FOLD_ROWS: usize = 32;

/// The partial state of a float sum (`sum`, `mean` and their nan-variants, of `f32` and
/// `f64`): the sum is `hi + lo`, with `lo` the accumulated rounding error of `hi` (compensated
/// summation in f64), within `err` of the exact sum of the elements; `n` counts the elements
/// that were not NaN under the nan-functions (and is 0 under the plain ones, which count
/// elements by shape).
///
/// `err` is a rigorous bound (see [`lane_bound`]): where it proves which way the exact sum
/// rounds, that is the result ([`FloatPartial::rounded_f64`], `rounded_f32`); where it does
/// not, the elements are summed again exactly (`kernels/exact.rs`). `err == 0` means `hi + lo`
/// is exact, or `hi` is the exact sum rounded to nearest and `lo` the rest rounded to odd,
/// which rounds as the exact sum does ([`super::exact::ExactSum::partial`]). `err` is NaN when
/// an element was NaN (the sum is NaN), infinite when one was infinite or no bound is known.
///
/// Use [`FloatPartial::combine`] and the rounding methods rather than the fields.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct FloatPartial {
    /// The leading part of the sum.
    pub hi: f64,
    /// The rounding error accumulated by `hi`.
    pub lo: f64,
    /// Elements counted (nan-functions only).
    pub n: u64,
    /// A bound on `|exact sum - (hi + lo)|` (see above).
    pub err: f64,
}

/// 2u (u = 2^-53, the unit roundoff): the error of one rounded addition `fl(a + b)` is at most
/// u |fl(a + b)|; bounds below use 2u, which also covers the rounding of the bound itself
/// (down to the subnormal range: `2^-52 |x| >= 2^-1074` for every normal `x`).
const TWO_U: f64 = f64::EPSILON;

/// The bound on `|exact - (hi + lo)|` of lanes (or a vertical-path output) that took at most
/// `n` elements each, whose squares add up to `sq`, and whose `(hi, lo)` was renormalised
/// (`lo` folded into `hi` by an exact TwoSum) at least every `seg` elements (`u64::MAX`:
/// never).
///
/// Proof. A lane's TwoSums are exact; `lo`'s own additions each err by at most u |lo_k|
/// (u = 2^-53), and |lo_k| <= u k A, A the lane's sum of magnitudes (each TwoSum error is at
/// most u times the running sum, itself at most A, up to factors (1 + u)^n < 1.001): in all
/// at most u² n² A / 2. A renormalisation is exact and leaves |lo| <= u |hi| <= u A, so with
/// one at least every `seg` elements |lo_k| <= u (1 + seg) A and the sum is at most
/// u² n (seg + 1) A: below, `k²` is `(2u)² n min(n, seg + 1)`. (Without it a tall column's
/// bound grows as n²: a (200000, 40) f64 axis-0 mean of normals on one thread, all rows in
/// one unit, left outputs undecided, each then summed again exactly: 3.4x the time.) f32
/// elements are first added plainly in f64, `FOLD_ROWS` at a time, erring by at most
/// u `FOLD_ROWS` A more. Over the lanes, Σ A_l <= sqrt(N Σ x²) (Cauchy-Schwarz, N elements
/// in all, bounded by `n` times the lanes), where a square that underflowed lost at most
/// 2^-1074 (an FMA's, less). The square root is bounded above by a power of two
/// (`sqrt_above`), and the whole with a factor 4 to spare, which covers the roundings of
/// `sq` and of this arithmetic. NaN if `sq` is (a NaN element), infinite if an element or
/// its square was.
#[inline(always)]
pub(crate) fn lane_bound<T: Element>(n: u64, seg: u64, lanes: usize, sq: f64) -> f64 {
    let (run, all) = (
        n.min(seg.saturating_add(1)) as f64,
        (n * lanes as u64) as f64,
    );
    let k2 = (n as f64 * TWO_U) * (run * TWO_U);
    let plain = if exact_each::<T>() {
        0.0
    } else {
        FOLD_ROWS as f64 * TWO_U
    };
    // sqrt(all (sq + all 2^-1074)) <= sqrt(all sq) + all 2^-537, without a subnormal (an
    // operation on one took a microcode assist: 75% of a (20, 5120) axis-0 mean's time).
    let a = sqrt_above(all * sq * (1.0 + TWO_U * 1024.0)) + all * 2f64.powi(-537);
    // f32 elements (widened): a square is exact in f64 and at least 2^-298, so `sq == 0`
    // means that every element was a zero, every addition exact (the sum is a zero with
    // IEEE's sign, which `hi` has): no error at all. (With a bound, f32 sums of zeros went
    // to `settle` as undecided, at 3x the time.)
    let bound = (k2 + plain) * a * 4.0;
    if !exact_each::<T>() && sq == 0.0 {
        0.0
    } else {
        bound
    }
}

/// A power of two >= sqrt(y) for y >= 0 (y infinite or NaN: itself): 2^(floor(e / 2) + 1)
/// for y in [2^e, 2^(e + 1)); subnormals and zero as 2^-1023.
#[inline(always)]
fn sqrt_above(y: f64) -> f64 {
    // (A select, not an early return: `FloatSum::seal` runs this over a tile as vector code.)
    let e = ((y.to_bits() >> 52) & 0x7ff) as i64 - 1023;
    let r = f64::from_bits((((e >> 1) + 1024) as u64) << 52);
    if y.is_finite() {
        r
    } else {
        y
    }
}

impl FloatPartial {
    /// The sum of no elements.
    pub const EMPTY: Self = Self {
        hi: 0.0,
        lo: 0.0,
        n: 0,
        err: 0.0,
    };

    /// A compensated sum with no error bound known (never decides a rounding by itself).
    pub fn unbounded(hi: f64, lo: f64) -> Self {
        Self {
            hi,
            lo,
            n: 0,
            err: f64::INFINITY,
        }
    }

    /// `err` as a plain bound: an `err` of 0 with `lo` rounded to odd is within an ulp of
    /// `lo` of the exact sum.
    #[inline(always)]
    pub(crate) fn bound(self) -> f64 {
        if self.err == 0.0 && self.lo != 0.0 {
            ulp(self.lo)
        } else {
            self.err
        }
    }

    /// The exact sum rounded to the nearest f64 (ties to even), when the bound decides it.
    /// With the exact sum `S = r + e` (`(r, e) = TwoSum(hi, lo)`, so `r` is `hi + lo` rounded
    /// to nearest), `S` is within `err` of `r + e`; `r` is the rounding of everything within
    /// half a gap of `r` on either side (strictly), so `r` is proven when `e ± err` stays
    /// inside. Doubled so that every quantity is an f64 (half the smallest gap is not), and
    /// compared by rounded operations, which are monotone: `fl(x) < g` for an f64 `g`
    /// implies `x < g`.
    #[inline(always)]
    pub fn rounded_f64(self) -> Option<f64> {
        // The common case first, inline: `r` normal (both gaps are its ulp, or half of it
        // towards zero from a power of two: taken for both sides), a positive finite bound.
        if self.err == 0.0 && self.hi.is_finite() {
            // Exact, or rounded to odd (see the type's docs): one rounding.
            return Some(self.hi + self.lo);
        }
        let (r, e) = two_sum(self.hi, self.lo);
        let b = r.to_bits() & !(1 << 63);
        let exp = b >> 52;
        if exp > 54 && exp < 0x7fe && self.err > 0.0 {
            let power = u64::from(b & ((1 << 52) - 1) == 0);
            let gap = f64::from_bits((exp - 52 - power) << 52);
            if (2.0 * e).abs() + 2.0 * self.err * (1.0 + TWO_U) < gap {
                return Some(r);
            }
        }
        self.rounded_f64_slow()
    }

    /// [`Self::rounded_f64`]'s two common cases without a branch, so that a loop over many
    /// outputs compiles to vector code (`partials::FloatOut::quick`): `hi + lo` rounded, and
    /// whether one of them decides it (`err == 0` with a finite `hi`; or the bound inside
    /// the gaps of a normal `r`). Where it says so, `rounded_f64` returns the same value;
    /// where not, ask `rounded_f64`.
    #[inline(always)]
    pub(crate) fn rounded_f64_quick(self) -> (f64, bool) {
        let (r, e) = two_sum(self.hi, self.lo);
        // `rounded_f64`'s exponent tests and gap in float operations (no 64-bit integer
        // compare, which SSE2 lacks): `exp > 54` is `|r| >= 2^-968`, `exp < 0x7fe` is
        // `|r| < 2^1023`; `low` is the power of two at or below a normal `|r|`, whose ulp,
        // `low 2^-52`, is the gap above `r` and, where `|r|` is that power, twice the gap
        // below.
        let a = r.abs();
        let low = f64::from_bits(a.to_bits() & 0x7ff0_0000_0000_0000);
        let ulp = low * f64::EPSILON;
        let gap = if a == low { 0.5 * ulp } else { ulp };
        const MIN: f64 = f64::from_bits(55 << 52); // 2^-968
        const MAX: f64 = f64::from_bits(0x7fe << 52); // 2^1023
        let bounded = (MIN..MAX).contains(&a)
            & (self.err > 0.0)
            & ((2.0 * e).abs() + 2.0 * self.err * (1.0 + TWO_U) < gap);
        // (`err == 0` with `hi` finite: `rounded_f64` returns `hi + lo`, which is `r`.)
        let exact = (self.err == 0.0) & self.hi.is_finite();
        (r, bounded | exact)
    }

    /// [`Self::rounded_f32`] (`divisor: None`) or [`Self::mean_f32`] (`Some(n)`) in their
    /// common cases without a branch (see [`Self::rounded_f64_quick`]): the result (an f32,
    /// in f64) and whether it is theirs (else ask them). Taken: an exact `hi` (`err == 0`,
    /// `lo == 0`) for sums, an exact finite one for means, and the bracket of
    /// [`Self::rounded_through`] with finite parts and a positive bound, computed by the same
    /// operations in the same order.
    #[inline(always)]
    pub(crate) fn rounded_f32_quick(self, divisor: Option<f64>) -> (f64, bool) {
        let f = |x: f64| match divisor {
            None => f64::from(x as f32),
            Some(n) => f64::from((x / n) as f32),
        };
        let (r, e) = two_sum(self.hi, self.lo);
        let w = self.err * (1.0 + TWO_U) + e.abs();
        let (fa, fb) = (f(step_out(r - w, -1.0)), f(step_out(r + w, 1.0)));
        let through = (self.err > 0.0)
            & self.err.is_finite()
            & self.hi.is_finite()
            & self.lo.is_finite()
            & (fa.to_bits() == fb.to_bits());
        let (exact, v) = match divisor {
            // `rounded_f32`: `hi` is the exact sum, rounded once.
            None => (
                (self.err == 0.0) & (self.lo == 0.0),
                f64::from(self.hi as f32),
            ),
            // `mean_f32` through `mean_f64`: `rounded_f64` of an exact finite `hi` is `r`.
            Some(_) => ((self.err == 0.0) & self.hi.is_finite(), f(r)),
        };
        (if exact { v } else { fa }, exact | through)
    }

    /// [`Self::rounded_f64`] in general.
    #[inline(never)]
    fn rounded_f64_slow(self) -> Option<f64> {
        if self.err.is_nan() {
            return Some(f64::NAN);
        }
        if self.err == 0.0 {
            // Exact, or rounded to odd (a special or an overflowed sum has `lo == 0`).
            return Some(if self.hi.is_finite() {
                self.hi + self.lo
            } else {
                self.hi
            });
        }
        if !(self.hi.is_finite() && self.lo.is_finite() && self.err.is_finite()) {
            return None;
        }
        let (r, e) = two_sum(self.hi, self.lo);
        if !r.is_finite() {
            return None;
        }
        let w = 2.0 * self.err * (1.0 + TWO_U);
        let (above, below) = gaps(r);
        (2.0 * e + w < above && 2.0 * e - w > -below).then_some(r)
    }

    /// The exact sum rounded to the nearest f32, when the bound decides it.
    #[inline(always)]
    pub fn rounded_f32(self) -> Option<f32> {
        if self.err == 0.0 && self.lo == 0.0 {
            return Some(self.hi as f32); // `hi` is the exact sum: one rounding
        }
        if self.err == 0.0 && self.hi.is_finite() {
            // Exact, or `lo` rounded to odd: `hi + lo` rounded to odd in f64, then to
            // nearest f32, which is the f32 rounding of `hi + lo` (53 >= 24 + 2 bits: a
            // rounding to odd keeps whether a value is above, below or at an f32 tie), and
            // that rounds as the exact sum does (see the type's docs).
            let (r, e) = two_sum(self.hi, self.lo);
            // (`r` beyond the largest f64: `e` is NaN, and inf is the answer.)
            let odd = if r.is_finite() && e != 0.0 && r.to_bits() & 1 == 0 {
                step_out(r, e)
            } else {
                r
            };
            return Some(odd as f32);
        }
        self.rounded_through(|x| f64::from(x as f32))
            .map(|v| v as f32)
    }

    /// The mean `RN64(RN64(S) / n)`, when the bound decides `RN64(S)`.
    #[inline(always)]
    pub fn mean_f64(self, n: f64) -> Option<f64> {
        self.rounded_f64().map(|r| r / n)
    }

    /// The mean `RN32(RN64(RN64(S) / n))`, when the bound decides it (which it does far more
    /// often than it decides `RN64(S)`).
    #[inline(always)]
    pub fn mean_f32(self, n: f64) -> Option<f32> {
        if self.err == 0.0 {
            return self.mean_f64(n).map(|m| m as f32);
        }
        self.rounded_through(|x| f64::from((x / n) as f32))
            .map(|v| v as f32)
    }

    /// `f(S)` for a monotone rounding `f` from f64 to a narrower result (f32 sums, f32
    /// means) when `S`'s bracket decides it: `a <= S - err` and `b >= S + err` are f64 (a
    /// rounding of each end, then one step outwards: `fl` errs by at most half a gap, the
    /// step is at least that), and `f(a) == f(b)` proves `f` of every f64 in between, which
    /// includes `RN64(S)` (`f` is applied to that). Equal means the same bits: `-0.0 == 0.0`,
    /// and a bracket around zero (`a < 0 < b`, both rounding to a zero) leaves the sign of
    /// `S` open (an f32 sum of zeros came out -0.0); `settle` then proves or sums it.
    /// Not for `err == 0`.
    fn rounded_through(self, f: impl Fn(f64) -> f64) -> Option<f64> {
        if self.err.is_nan() {
            return Some(f(f64::NAN));
        }
        if !(self.hi.is_finite() && self.lo.is_finite() && self.err.is_finite()) {
            return None;
        }
        let (r, e) = two_sum(self.hi, self.lo);
        let w = self.err * (1.0 + TWO_U) + e.abs();
        let (a, b) = (step_out(r - w, -1.0), step_out(r + w, 1.0));
        let (fa, fb) = (f(a), f(b));
        (fa.to_bits() == fb.to_bits()).then_some(fa)
    }

    /// The rounded sum (no proof: `hi + lo` to nearest). Once `hi` is inf or NaN, `lo` holds
    /// TwoSum's NaN and is ignored.
    pub fn value(self) -> f64 {
        if self.hi.is_finite() {
            self.hi + self.lo
        } else {
            self.hi
        }
    }

    /// The state of the same elements each taken `factor` times: `hi * factor` exactly (its
    /// rounding error from an fma goes into `lo`), `lo * factor` rounded once.
    /// `err` grows by the factor (an exact product, `factor < 2^53`) and by what the new `lo`
    /// lost: the rounding of `lo * factor` and of its sum with the first error, each taken
    /// exactly (an fma, a TwoSum) and doubled, which covers the roundings of `err`'s own
    /// arithmetic. Where both are zero and the old state was exact, so is the new one
    /// (`err == 0`): a broadcast row's mean then needs no second reading (`settle`'s
    /// smallest magnitudes, half of a 100x100 axis-0 mean's time). An fma's error is exact
    /// unless it lies below the smallest normal: a product under 2^-969 adds 2^-1072.
    pub(crate) fn repeated(self, factor: u64) -> Self {
        let f = factor as f64;
        let hi = self.hi * f;
        let (lo, err) = if hi.is_finite() {
            let t = self.lo * f;
            let (lo, se) = two_sum(self.hi.mul_add(f, -hi), t);
            let te = self.lo.mul_add(f, -t);
            let exact = factor < 1 << 53;
            let err = if exact {
                const TINY: f64 = f64::from_bits((1023 - 969) << 52);
                let under = (hi != 0.0 && hi.abs() < TINY) || (t != 0.0 && t.abs() < TINY);
                let under = if under { f64::from_bits(4) } else { 0.0 };
                self.bound() * f + 2.0 * (se.abs() + te.abs()) + under
            } else {
                f64::INFINITY
            };
            (lo, err)
        } else {
            (
                self.lo,
                if self.err.is_nan() {
                    self.err
                } else {
                    f64::INFINITY
                },
            )
        };
        Self {
            hi,
            lo,
            n: self.n.saturating_mul(factor),
            err,
        }
    }

    /// The state of the union of two disjoint sets of elements: `hi`s added with TwoSum, its
    /// error into `lo`. The kernels combine their lanes and work units with this.
    /// `err`: both bounds and the two roundings of `lo` (an error from inf or NaN in `lo`
    /// is left out: the bounds carry those).
    #[inline(always)]
    pub fn combine(self, b: Self) -> Self {
        // An exact zero (no elements, or zeros) changes nothing, not even the bound.
        let zero = |p: Self| p.hi == 0.0 && p.lo == 0.0 && p.err == 0.0;
        if zero(b) {
            return Self {
                n: self.n + b.n,
                ..self
            };
        }
        if zero(self) {
            return Self {
                n: self.n + b.n,
                ..b
            };
        }
        let (hi, e) = two_sum(self.hi, b.hi);
        let t = self.lo + b.lo;
        let lo = t + e;
        Self {
            hi,
            lo,
            n: self.n + b.n,
            err: self.bound() + b.bound() + (TWO_U * (t.abs() + lo.abs())).max(0.0),
        }
    }
}

/// The next f64 after the finite `x` towards `dir`'s sign (`f64::next_up`/`next_down`, which
/// the crate's minimum Rust does not have). Without a branch (both results computed, one
/// selected), so that `FloatOut::quick`'s loops over many outputs compile to vector code;
/// for any other `x` (inf, NaN) it is defined too, without overflow.
#[inline(always)]
fn step_out(x: f64, dir: f64) -> f64 {
    let tiny = f64::from_bits(1).copysign(dir);
    let b = x.to_bits();
    // Away from zero when x and dir agree in sign, towards it otherwise.
    let next = f64::from_bits(if (x > 0.0) == (dir > 0.0) {
        b.wrapping_add(1)
    } else {
        b.wrapping_sub(1)
    });
    if x == 0.0 {
        tiny
    } else {
        next
    }
}

/// The distance from `r` (finite) to the next f64 away from zero and towards it (the
/// smallest subnormal both ways at zero; beyond the largest f64, the gap it would have).
#[inline(always)]
fn gaps(r: f64) -> (f64, f64) {
    let a = r.abs();
    let b = a.to_bits();
    let away = if a == f64::MAX {
        ulp(a)
    } else {
        f64::from_bits(b + 1) - a
    };
    let toward = if b == 0 {
        away
    } else {
        a - f64::from_bits(b - 1)
    };
    if r < 0.0 {
        (toward, away)
    } else {
        (away, toward)
    }
}

/// The last bit's value of `x`'s binade, 2^(max(e, 1) - 1075) for the biased exponent `e`
/// (the smallest subnormal for subnormals and zero).
#[inline]
pub(crate) fn ulp(x: f64) -> f64 {
    let e = ((x.to_bits() >> 52) & 0x7ff).max(1);
    // (Both computed, one selected: vector code in `FloatSum::seal`. The shifts stay in
    // range either way.)
    let normal = f64::from_bits(e.saturating_sub(52) << 52);
    let sub = f64::from_bits(1 << (e - 1).min(63));
    if e > 52 {
        normal
    } else {
        sub
    }
}

/// A grid of `T` elements whose smallest nonzero magnitude is at least `small`: every such
/// element is a multiple of it. The last bit of `small`'s binade in `T`'s precision: f32's
/// for f32 elements (2^29 times f64's, at least f32's smallest subnormal, 2^-149), f64's for
/// the others (which holds for any value). +inf when `small` is (no nonzero element).
/// Branch-free, so that `FloatSum::seal`'s loop over a tile is vector code.
#[inline(always)]
pub(crate) fn grid<T: Element>(small: f64) -> f64 {
    let g = ulp(small);
    let g = if T::IS_FLOAT && std::mem::size_of::<T>() == 4 {
        (g * 2f64.powi(29)).max(2f64.powi(-149))
    } else {
        g
    };
    if small.is_finite() {
        g
    } else {
        f64::INFINITY
    }
}

/// `bound`, or 0 when it proves `hi + lo` exact: every element is a multiple of `grid`
/// (see [`grid`]), and so are the sum and every quantity the kernels make from the elements
/// (sums rounded to f64, TwoSum errors, products by whole factors), so `hi + lo` misses the
/// sum by a multiple of `grid`, and by at most `bound`: by nothing when `bound < grid`. This
/// is what decides short sums, which are often exactly halfway between two floats (one output
/// in eight of four f64 normals), where no positive bound can. With no nonzero element
/// (`grid` infinite) a finite bound proves it too: `hi + lo` is zero, as the sum is. An
/// infinite or NaN `bound` (an infinite or NaN element) is kept. Branch-free.
#[inline(always)]
pub(crate) fn proven_exact(bound: f64, grid: f64) -> f64 {
    if bound < grid {
        0.0
    } else {
        bound
    }
}

/// `min(m, |x|)`, zero and NaN `x` leaving `m` (as [`super::grid::magnitude`] does):
/// compares and selects that vectorise (`f64::min` adds NaN handling `m` never needs).
#[inline(always)]
fn smaller_magnitude(m: f64, x: f64) -> f64 {
    let a = x.abs();
    if a > 0.0 && a < m {
        a
    } else {
        m
    }
}

/// Compensated sum of float (or any, via `to_f64`) elements.
pub(crate) struct FloatSum<T, P>(PhantomData<(T, P)>);

impl<T, P> FloatSum<T, P> {
    pub fn new() -> Self {
        Self(PhantomData)
    }
}

#[derive(Clone, Copy)]
pub(crate) struct FloatLanes {
    tmp: [f64; LANES],
    hi: [f64; LANES],
    lo: [f64; LANES],
    n: [u64; LANES],
    /// Each lane's sum of squares, for the bound ([`lane_bound`]).
    sq: [f64; LANES],
    /// Each lane's bound where the offset loop ([`f64_blocks`]) fed it, which keeps its
    /// own (f64 sums at SIMD levels with FMA; `sq` and `fed` then go unused).
    err: [f64; LANES],
    /// The offset loop's offset for its next segment (0.0: none yet).
    sigma: f64,
    /// At least the elements any one lane took.
    fed: u64,
    rows: usize,
}

impl FloatLanes {
    #[inline(always)]
    fn fold(&mut self) {
        for j in 0..LANES {
            let (s, e) = two_sum(self.hi[j], self.tmp[j]);
            self.hi[j] = s;
            self.lo[j] += e;
            self.tmp[j] = 0.0;
        }
        self.rows = 0;
    }
}

/// Rows of a vertical unit between two renormalisations of the f64 sums' `(hi, lo)` (see
/// [`lane_bound`]): more than `TRACKED_ROWS`, so that tracked tiles never renormalise; a
/// TwoSum per output every 512 rows costs about 1% of the additions.
const RENORM_ROWS: u64 = 512;
/// Rows at most between two renormalisations: pushes of at most `ROWS` rows, renormalised
/// before the push that reaches a multiple of `RENORM_ROWS`.
const SEGMENT: u64 = RENORM_ROWS + ROWS as u64;

/// Folds each `lo` into its `hi` by an exact TwoSum (`hi + lo` unchanged), where the sum is
/// finite (an infinite or NaN one is left as it is, for the exact pass that settles it).
#[inline(always)]
fn renormalize(hi: &mut [f64], lo: &mut [f64]) {
    for (h, l) in hi.iter_mut().zip(lo.iter_mut()) {
        let (s, e) = two_sum(*h, *l);
        let ok = s.is_finite() && e.is_finite();
        *h = if ok { s } else { *h };
        *l = if ok { e } else { *l };
    }
}

/// The per-output arrays are padded so that `hi[j]`, `lo[j]`, ... are not a multiple of
/// 4 KiB apart, a precaution against 4K-aliasing stalls between their loads and stores. (The
/// measured effect on the vertical path was within noise; its bottleneck is still open.)
const ANTI_ALIAS: usize = TILE + 24;

/// Rows of a vertical unit up to which the f64 vertical loop tracks each output's smallest
/// magnitude (`FloatTile::small`). Its proof (`proven_exact`) decides sums that lie exactly
/// halfway between two floats, common in short sums (of f64 normals: an output in four of 4
/// rows, one in 35 of 32, one in 500 of 158) and rare in long ones, whose exact sums take
/// more bits; an output left undecided without it gets the same proof from `settle`, which
/// reads its smallest magnitude again. Tracking was three or four of the eleven vector
/// operations an element costs (316x316 f64 axis-0 mean, two units of 158 rows, at 0.52x
/// numpy on one thread, AVX-512 and AVX2 alike). 128 rows tracked cost more than the proofs
/// they saved: one Zen 4 core, in cache, f64 axis-0 sums of (128, 316) took 14.1-14.7 us
/// tracked against 13.4 untracked, (97, 1024) 29-34 against 27; on two threads (the rows
/// cut into blocks of 128 for the hand-off) (256, 316) 32 against 16 us and a (250, 3000)
/// mean 216 against 125. (f64 outputs of at most 64 rows take `short_sum` instead, f32 ones
/// of at most 128.)
const TRACKED_ROWS: usize = 32;

/// The widest stride (elements) between the outputs of a row that the float sums' vertical
/// path copies into contiguous pieces, four rows at a time (`push_rows`): four such rows lie
/// in the same cache lines, the reduced positions of short rows of outputs.
const SHORT_STRIDE: isize = 64;

pub(crate) struct FloatTile {
    tmp: [f64; ANTI_ALIAS],
    hi: [f64; ANTI_ALIAS],
    lo: [f64; ANTI_ALIAS],
    n: [u64; ANTI_ALIAS],
    /// Each output's sum of squares, for its bound ([`lane_bound`]).
    sq: [f64; ANTI_ALIAS],
    /// Each output's smallest nonzero magnitude (+inf: none) or less, for the proof that
    /// its `hi + lo` is exact (see `tile_partial`).
    small: [f64; ANTI_ALIAS],
    /// The f64 sums' offset accumulators `t` (see [`f64_rows_offset`]; 0.0: no offset).
    off: [f64; ANTI_ALIAS],
    /// The f64 sums' bounds of the offset segments folded so far (see [`offset_fold_one`]).
    err: [f64; ANTI_ALIAS],
    /// Rows pushed (every output of the tile takes every row).
    rows: u64,
    /// Rows of the current offset segment (every output's at most).
    seg_rows: u64,
    /// Whether `small` is tracked (`TRACKED_ROWS`); else `seal` makes no proof from it.
    track: bool,
    /// Whether the f64 rows went through the offset loop (`off`, `err`; `sq` holds each
    /// output's sum of magnitudes over the segment).
    offset: bool,
}

/// True for f64 data: TwoSum on every element (see the module docs).
#[inline(always)]
const fn exact_each<T: Element>() -> bool {
    T::IS_FLOAT && std::mem::size_of::<T>() == 8
}

/// At most how many lanes apart a run's elements go, one after another: `F64_LANES` (f64
/// and the contiguous f32 loop; the other f32 loops use `LANES`, which takes fewer per lane).
const RUN_LANES: usize = F64_LANES;

#[inline(always)]
pub(super) fn filtered<T: Element, P: NanPolicy>(x: T) -> (f64, u64) {
    let x = x.to_f64();
    if P::IGNORE && T::IS_FLOAT {
        let valid = !x.is_nan();
        (if valid { x } else { 0.0 }, valid as u64)
    } else {
        (x, 0)
    }
}

/// An element that leaves a lane of [`FloatSum`] unchanged, to fill up a short last block:
/// NaN under the nan-functions (skipped, not counted); else zero, since `hi + 0.0 == hi`
/// (lanes start at +0.0 and a sum is never -0.0 unless every term is, so `hi` is never
/// -0.0), TwoSum's error is then +0.0, and `lo`, `tmp` and the row count stay what the last
/// elements alone would make them (a zero `lo`'s sign may change, which no value shows).
#[inline(always)]
fn neutral<T: Element, P: NanPolicy>() -> T {
    if P::IGNORE && T::IS_FLOAT {
        T::NAN
    } else {
        T::ZERO
    }
}

/// One level of the lanes' pairwise tree: lane `j < W` combined with lane `j + W` as
/// [`FloatPartial::combine`] does.
/// The bounds in `err` (see [`FloatPartial::combine`]).
#[inline(always)]
fn halve<const W: usize>(
    hi: &mut [f64; LANES],
    lo: &mut [f64; LANES],
    n: &mut [u64; LANES],
    err: &mut [f64; LANES],
    sq: &mut [f64; LANES],
) {
    for j in 0..W {
        let (s, e) = two_sum(hi[j], hi[j + W]);
        hi[j] = s;
        let t = lo[j] + lo[j + W];
        lo[j] = t + e;
        n[j] += n[j + W];
        err[j] = err[j] + err[j + W] + (TWO_U * (t.abs() + lo[j].abs())).max(0.0);
        sq[j] += sq[j + W];
    }
}

/// The body of [`FloatSum`]'s `feed`, with the TwoSum it uses for f64 elements.
///
/// # Safety
/// As `Kernel::feed`.
#[inline(always)]
unsafe fn feed_with<T: Element, P: NanPolicy>(
    lanes: &mut FloatLanes,
    ptr: *const T,
    len: usize,
    stride: isize,
    ts: impl Fn(f64, f64) -> (f64, f64) + Copy,
    sqs: impl Fn(f64, f64) -> f64 + Copy,
) {
    // SAFETY: forwarded from this function's contract.
    unsafe {
        if const { exact_each::<T>() } {
            for_each_block::<T, _, F64_LANES>(
                lanes,
                ptr,
                len,
                stride,
                // Not for f64: with a second call of the block body the compiler kept the f64
                // lanes in memory in the main loop (1e5 read at 0.6 of the speed).
                None,
                #[inline(always)]
                |l, block| {
                    for j in 0..F64_LANES {
                        let (x, v) = filtered::<T, P>(block[j]);
                        let (s, e) = ts(l.hi[j], x);
                        l.hi[j] = s;
                        l.lo[j] += e;
                        l.sq[j] = sqs(x, l.sq[j]);
                        l.n[j] += v;
                    }
                },
                #[inline(always)]
                |l, j, x| {
                    let (x, v) = filtered::<T, P>(x);
                    let (s, e) = ts(l.hi[j], x);
                    l.hi[j] = s;
                    l.lo[j] += e;
                    l.sq[j] = sqs(x, l.sq[j]);
                    l.n[j] += v;
                },
            );
            return;
        }
        // (f32 nan-variants and strided runs; contiguous ones have `widened_blocks`.) The
        // lanes as a local for the loop, stored back once: through the caller's `&mut` the
        // compiler stored every lane array after every block (it could not prove that the
        // elements' pointer does not alias them); with the squares added, the f32 sum of 1e5
        // went from 50 to 24 us with this copy, to 12 us with `widened_blocks`.
        let mut local = *lanes;
        for_each_block::<T, _, LANES>(
            &mut local,
            ptr,
            len,
            stride,
            Some(neutral::<T, P>()),
            #[inline(always)]
            |l, block| {
                for j in 0..LANES {
                    let (x, v) = filtered::<T, P>(block[j]);
                    l.tmp[j] += x;
                    l.sq[j] = sqs(x, l.sq[j]);
                    l.n[j] += v;
                }
                l.rows += 1;
                if l.rows == FOLD_ROWS {
                    l.fold();
                }
            },
            #[inline(always)]
            |l, j, x| {
                let (x, v) = filtered::<T, P>(x);
                l.n[j] += v;
                l.tmp[j] += x;
                l.sq[j] = sqs(x, l.sq[j]);
                if j == 0 {
                    l.rows += 1;
                    if l.rows == FOLD_ROWS {
                        // Folding lane 0's tail now is safe: later tail lanes add to the
                        // fresh zeroed `tmp`.
                        l.fold();
                    }
                }
            },
        );
        *lanes = local;
    }
}

/// `(hi, lo) += x` for vector `k` of a block's lanes: [`two_sum_fma`]'s operations in its
/// order (s = h + x, bb = s - h, e = (h - (s - bb)) + (x - bb), each `a - b` written as
/// -(b * 1) + a, the same single rounding), then `lo += e`. `one` is a splat of an opaque
/// 1.0. No squares: the caller adds them up its own way (the bound needs only their total,
/// `lane_bound`).
///
/// Named functions with `inline(always)`, never closures: a closure does not inherit the SIMD
/// context's target features, so one that the compiler leaves out of line runs every vector
/// operation as a call (the f64 sum was 20-50x slower at 4afcf2f, where `add_block` was a
/// closure; `tests/suite.rs`' instruction counts now catch that).
///
/// Even `k` join `e1 + e2` as `fma(e1, 1, e2)` (the same single rounding, so the same bits):
/// the step is then 3 additions and 4 FMAs instead of 4 and 3; alternating the two forms
/// between a block's vectors gives each pair of vectors 7 of each, which Zen's two add and
/// two FMA pipes share evenly (an in-cache sum is bound by them).
#[inline(always)]
fn two_sum_pair<S: Simd>(
    simd: S,
    one: S::f64s,
    k: usize,
    h: &mut S::f64s,
    l: &mut S::f64s,
    x: S::f64s,
) {
    let (s, e1, e2) = two_sum_parts(simd, one, *h, x);
    *h = s;
    let e = if k % 2 == 0 {
        add_f(simd, one, e1, e2)
    } else {
        simd.add_f64s(e1, e2)
    };
    *l = simd.add_f64s(*l, e);
}

/// [`two_sum_pair`] into vector `k` of a block, its square into `m` (one FMA).
#[inline(always)]
fn two_sum_at<S: Simd>(
    simd: S,
    one: S::f64s,
    k: usize,
    h: &mut S::f64s,
    l: &mut S::f64s,
    m: &mut S::f64s,
    x: S::f64s,
) {
    *m = simd.mul_add_f64s(x, x, *m);
    two_sum_pair(simd, one, k, h, l, x);
}

/// [`two_sum_pair`] of one block of `N * S::F64_LANES` f64 at `block` into `N` vectors of
/// lanes, the block's squares summed in a short tree into `m[0]` (the other `m` are left to
/// the last, partial block). With a square per vector into its own `m[k]`, AVX2's twelve
/// state vectors and the constant left three of its 16 registers for the TwoSums, and the
/// loop kept the `m` on the stack, a store and a reload on each one's chain every block:
/// in-cache sum of 1e5 f64 at `STRIDEWISE_SIMD=avx2` 27.5 us, 20.3 with the tree (one Zen 4
/// thread; numpy 19.5-19.9).
///
/// # Safety
/// `block..block + N * S::F64_LANES * C` must be valid f64 (at stride `C` = 2 the odd
/// elements between the run's are read too, up to the one after the block's last).
#[inline(always)]
unsafe fn add_block<S: Simd, const N: usize, const C: usize>(
    simd: S,
    one: S::f64s,
    h: &mut [S::f64s; N],
    l: &mut [S::f64s; N],
    m: &mut [S::f64s; N],
    block: *const f64,
) {
    let mut q = simd.splat_f64s(0.0);
    for k in 0..N {
        // SAFETY: vector k covers f64 k * W * C .. (k + 1) * W * C of the block, inside
        // what our contract makes valid.
        let x = unsafe { load_run::<S, C>(simd, block.add(k * S::F64_LANES * C)) };
        two_sum_pair(simd, one, k, &mut h[k], &mut l[k], x);
        q = if k == 0 {
            simd.mul_f64s(x, x)
        } else {
            simd.mul_add_f64s(x, x, q)
        };
    }
    m[0] = simd.add_f64s(m[0], q);
}

/// One vector of a run at element stride `C` (1 or 2): `S::F64_LANES` f64 at `p`, `p + C`, ...
/// in order. At stride 2: the two vectors that hold them, read whole, and their even lanes
/// shuffled into one ([`even_lanes`]). (Written element by element, the compiler built the
/// vector from 8 scalar loads and inserts.)
///
/// # Safety
/// `p + j` must be a valid f64 for every `j < S::F64_LANES * C` (at stride 2, the odd
/// elements between the run's are read too, up to the one after its last).
#[inline(always)]
unsafe fn load_run<S: Simd, const C: usize>(simd: S, p: *const f64) -> S::f64s {
    const { assert!(C == 1 || C == 2) };
    // SAFETY: `S::F64_LANES` consecutive valid f64 at `p` (our contract); pulp's vector types
    // are plain arrays of f64, read unaligned.
    let a = unsafe { p.cast::<S::f64s>().read_unaligned() };
    if C == 1 {
        return a;
    }
    // SAFETY: the next `S::F64_LANES` f64, valid at stride 2 (our contract).
    let b = unsafe { p.add(S::F64_LANES).cast::<S::f64s>().read_unaligned() };
    even_lanes(simd, a, b)
}

/// The AVX-512 level and `a`, `b` as its vectors, when `S` is that level.
#[cfg(target_arch = "x86_64")]
#[inline(always)]
fn at_v4<S: Simd>(
    simd: S,
    a: S::f64s,
    b: S::f64s,
) -> Option<(pulp::x86::V4, pulp::f64x8, pulp::f64x8)> {
    Some((same(simd)?, same(a)?, same(b)?))
}

/// The AVX2 level and `a`, `b` as its vectors, when `S` is that level.
#[cfg(target_arch = "x86_64")]
#[inline(always)]
fn at_v3<S: Simd>(
    simd: S,
    a: S::f64s,
    b: S::f64s,
) -> Option<(pulp::x86::V3, pulp::f64x4, pulp::f64x4)> {
    Some((same(simd)?, same(a)?, same(b)?))
}

/// The even lanes of `a` then those of `b`, in order: AVX-512 one `vpermt2pd`, AVX2 an
/// `unpcklpd` and a `vpermpd`. pulp's `deinterleave_shfl` is one `unpcklpd`, but in another
/// lane order (AVX2: 0, 2, 1, 3), which the vertical path cannot take (lane `j` is output
/// `j`); elsewhere (NEON's two lanes) it is the order. The level is recognised by its type,
/// which the compiler resolves, so each level compiles to its own arm and nothing else.
#[inline(always)]
fn even_lanes<S: Simd>(simd: S, a: S::f64s, b: S::f64s) -> S::f64s {
    #[cfg(target_arch = "x86_64")]
    {
        use pulp::{cast, f64x4, f64x8};
        if let Some((v4, a, b)) = at_v4(simd, a, b) {
            let r: f64x8 = cast(super::even_pd512(v4, cast(a), cast(b)));
            return same(r).expect("V4's f64s");
        }
        if let Some((v3, a, b)) = at_v3(simd, a, b) {
            let r: f64x4 = cast(super::even_pd256(v3, cast(a), cast(b)));
            return same(r).expect("V3's f64s");
        }
    }
    simd.deinterleave_shfl_f64s([a, b])[0]
}

/// Blocks per segment of the offset f64 sum ([`f64_blocks`]): a lane takes one element per
/// block, so 64 elements between two folds; a segment is 8 KiB of data, still in L1 when a
/// guessed offset proves too small and the segment is read again.
const SEG_BLOCKS: usize = 64;

/// What a pass of [`offset_pass`] over a segment computes.
const PASS_SUM: u8 = 0;
/// Only the squares.
const PASS_SQUARES: u8 = 1;
/// Only each lane's sum of magnitudes.
const PASS_MAGNITUDES: u8 = 2;

/// The f64 sum (not nan-skipping) of a run, `len` f64 at `ptr` at element stride `C` (1 or
/// 2), element `i` into lane `i % F64_LANES`, with an offset: each lane of a segment
/// ([`SEG_BLOCKS`] elements a lane) starts at a power of two `σ` no smaller than four times
/// the sum of its magnitudes, so that every partial sum `t` stays in `[σ/2, 3σ/2]`: then
/// `|t| >= |x|` and Fast2Sum is exact (`s = t + x`, `r = x - (s - t)`: three operations, not
/// TwoSum's six), `r` goes into the lane's `l` with a plain addition, and at the segment's
/// end `t - σ` is exact (Sterbenz) and folds into the lane's `(hi, lo)` with a TwoSum.
/// Each element thus costs four operations and a square (an FMA); the TwoSum loop took
/// eight, and summed 1e5 in-cache f64 at 0.43x numpy's speed on one Zen 1 thread.
///
/// `σ` is the last segment's (`sigma`, 0.0 for none: the first segment's squares are read
/// first), checked after the segment: with `Q` the largest lane sum of squares (a vector
/// lane's, which covers `N` lanes) and `B` elements a lane, each lane's sum of magnitudes is
/// at most `sqrt(B Q)` (Cauchy-Schwarz), plus a little for squares that underflowed
/// ([`magnitudes_from_squares`]); where every square is zero or one overflowed, the sums of
/// magnitudes are read instead ([`by_magnitudes`]). If the bound is not at most `σ / 2`,
/// the segment is added again with the `σ` it gives (read in L1; rare). An infinity or a
/// NaN (or elements beyond 2^996) leave the segment to the TwoSum loop, and its lanes'
/// bound infinite (NaN where an element was: the sum is NaN), as `lane_bound`'s were.
///
/// The bound, per lane, into `err` at each fold (2u covers the roundings of `err`'s own
/// arithmetic, as in `halve`): `r_i` is exact with `|r_i| <= ulp(σ) / 2 = u σ` (`t < 2σ`)
/// and `|r_i| <= |x_i|` (`t` itself is a candidate for `s`); `l`'s additions err by at most
/// `u |l_j|`, `|l_j| <= min(j u σ, A) (1 + u)^B`, `A` the lane's sum of magnitudes, so in
/// all at most `1.01 u min(u σ B (B + 1) / 2, B A)`: the first form always, the smaller of
/// the two where the sums of magnitudes were read (all-zero data: a bound of 0, which
/// decides the sum at once; with the first form alone, sums of zeros took the exact pass at
/// twice the time of other sums). The fold's `w = e + l` and `lo + w` err by at most
/// `u |w|` and `u |lo'|`; the TwoSum is exact, unless `hi` overflows, where the lane's
/// bound becomes infinite (the exact pass then settles the sum).
///
/// `memory`: the run is the caller's data (prefetched ahead at AVX2), not a gathered copy;
/// then the first blocks go as `walk::STREAMS` streams side by side. At stride 2 a block also
/// reads the odd elements between the run's, up to the one after its last ([`load_run`]);
/// so the run's last element is always left to the last block, which is copied, and nothing
/// past the run is read. Only for SIMD levels with FMA whose vectors divide `F64_LANES`.
///
/// # Safety
/// `ptr + i * C` must be a valid, initialised f64 for every `i < len`.
// (The lanes' arrays, the run and the constants: one call site each.)
#[allow(clippy::too_many_arguments)]
#[inline(always)]
unsafe fn f64_blocks<S: Simd, const C: usize>(
    simd: S,
    lanes: &mut FloatLanes,
    ptr: *const f64,
    len: usize,
    one: f64,
    memory: bool,
) {
    const { assert!(F64_LANES <= LANES) };
    if len == 0 {
        return;
    }
    // Vectors per block: 4 of AVX2, 2 of AVX-512, 8 of NEON.
    match S::F64_LANES {
        // SAFETY: forwarded from this function's contract.
        2 => unsafe { f64_blocks_n::<S, { F64_LANES / 2 }, C>(simd, lanes, ptr, len, one, memory) },
        // SAFETY: forwarded from this function's contract.
        4 => unsafe { f64_blocks_n::<S, { F64_LANES / 4 }, C>(simd, lanes, ptr, len, one, memory) },
        // SAFETY: forwarded from this function's contract.
        8 => unsafe { f64_blocks_n::<S, { F64_LANES / 8 }, C>(simd, lanes, ptr, len, one, memory) },
        w => unreachable!("no f64 sum loop for {w}-lane vectors"),
    }
}

/// The lanes of [`f64_blocks`] as `N` vectors each, and the offset for the next segment.
struct Offset<V, const N: usize> {
    hi: [V; N],
    lo: [V; N],
    err: [V; N],
    sigma: f64,
}

/// The power of two at or above `s` (`s` positive and finite).
#[inline(always)]
fn power_above(s: f64) -> f64 {
    let bits = s.to_bits();
    let up = bits & ((1 << 52) - 1) != 0;
    f64::from_bits(((bits >> 52) + u64::from(up)) << 52)
}

/// A bound on a lane's sum of magnitudes over a segment of `b` elements a lane, from the
/// largest vector lane sum of squares `q` (a vector lane adds the squares of `N <= 8` lanes):
/// `sqrt(b Q)` (Cauchy-Schwarz) for the exact sum `Q` of the squares, which is at most
/// `1.01 q + 8 b 2^-1074` (the FMAs' relative roundings, and at most 2^-1075 lost where a
/// result underflowed); the roundings here are covered by the last 1.01.
#[inline(always)]
fn magnitudes_from_squares(q: f64, b: usize) -> f64 {
    (1.01 * b as f64 * q).sqrt() * 1.01 + b as f64 * 2f64.powi(-535)
}

/// The offset for a segment whose lanes' sums of magnitudes are at most `a`: the power of
/// two at or above `4 a`, twice what the check needs (at least `2 a`), so that the next
/// segment's guess holds through a doubling of the data's scale; at least 2^-1000 (for
/// zeros). `None` past 2^1000 or where `a` is not finite (an element or a square was not).
#[inline(always)]
fn offset_for(a: f64) -> Option<f64> {
    (a <= 2f64.powi(998)).then(|| power_above((4.0 * a).max(2f64.powi(-1000))))
}

/// One block into the segment's vectors: per [`PASS_SUM`], Fast2Sum of each lane's `t`
/// and `x`, the error into `l`, the squares into `q`; [`PASS_SQUARES`] only the squares;
/// [`PASS_MAGNITUDES`] each `|x|` into `l`.
///
/// The operations are spread over the add and the FMA pipes (two each on Zen; `a + b` as
/// `b * 1 + a` and `a - b` as `-(b * 1) + a`, the same roundings): Fast2Sum's two
/// subtractions alternate between them, as does its sum, and each vector's squares go into
/// their own vector of `q` by an FMA. Per block of two AVX-512 vectors that is five
/// operations on each pipe, where all three additions on the add pipe and the squares as a
/// tree added into one vector made seven against four. One Zen 4 thread, in-process A/B
/// (best of 20-30 alternating blocks), f64 sum of 1e5 in cache: 17.3 -> 15.3 us with the
/// sums alternating; the squares' own vectors then 15.3 against 15.1 at AVX-512 and 16.4
/// against 15.5 at AVX2 (unlike `add_block`'s TwoSum loop, whose AVX2 state they spilled).
#[inline(always)]
fn offset_block<S: Simd, const N: usize, const MODE: u8>(
    simd: S,
    one: S::f64s,
    t: &mut [S::f64s; N],
    l: &mut [S::f64s; N],
    q: &mut [S::f64s; N],
    xs: [S::f64s; N],
) {
    for k in 0..N {
        let x = xs[k];
        if MODE == PASS_SUM {
            let s = if k % 2 == 0 {
                simd.add_f64s(t[k], x)
            } else {
                simd.mul_add_f64s(x, one, t[k])
            };
            let r = if k % 2 == 0 {
                let z = simd.negate_mul_add_f64s(t[k], one, s);
                simd.sub_f64s(x, z)
            } else {
                let z = simd.sub_f64s(s, t[k]);
                simd.negate_mul_add_f64s(z, one, x)
            };
            t[k] = s;
            l[k] = simd.add_f64s(l[k], r);
        }
        if MODE == PASS_MAGNITUDES {
            l[k] = simd.add_f64s(l[k], simd.abs_f64s(x));
        } else {
            q[k] = simd.mul_add_f64s(x, x, q[k]);
        }
    }
}

/// One block's `N` vectors at `p` (stride `C`, see [`load_run`]).
///
/// # Safety
/// As [`load_run`], for the whole block: `p + j` valid for `j < F64_LANES * C`.
#[inline(always)]
unsafe fn load_block<S: Simd, const N: usize, const C: usize>(
    simd: S,
    p: *const f64,
) -> [S::f64s; N] {
    let mut xs = [simd.splat_f64s(0.0); N];
    for (k, x) in xs.iter_mut().enumerate() {
        // SAFETY: vector k covers f64 k * W * C .. (k + 1) * W * C of the block (our
        // contract).
        *x = unsafe { load_run::<S, C>(simd, p.add(k * S::F64_LANES * C)) };
    }
    xs
}

/// A segment of the offset loop: `steps` steps of `K` blocks each, block `s` of step `i` at
/// `at + s * gap + i * F64_LANES * C` (`K` streams side by side, or `K == 1`), then `tail`,
/// the run's short last block filled up with +0.0 (which leaves a lane's sum as it is:
/// Fast2Sum adds an exact 0), if any.
struct Segment {
    at: *const f64,
    steps: usize,
    gap: usize,
    tail: Option<Tail>,
}

impl Segment {
    /// Elements each lane takes (one a block).
    fn per_lane<const K: usize>(&self) -> usize {
        self.steps * K + usize::from(self.tail.is_some())
    }
}

/// A run's short last block: `rest` (`1 ..= F64_LANES`) elements at `at`, stride `C`.
///
/// Loaded where it is added, after the blocks before it, not when the run is cut: loaded
/// first, the block at a row's end was a load from memory a whole row ahead of the hardware
/// prefetcher, on which the row's first blocks waited (one Zen 4 thread, AVX-512, sums of
/// the rows of (1000, 1000) f64 from memory: 0.62-0.66 ms, 19% of the samples in that load,
/// against 0.29-0.31 for the whole array as one run).
#[derive(Clone, Copy)]
struct Tail {
    at: *const f64,
    rest: usize,
}

impl Tail {
    /// The block as `N` vectors, +0.0 past its elements: at stride 2 copied into a block
    /// (the last block also takes the run's last element, see `f64_blocks`), at stride 1
    /// read with masked loads (pulp's partial loads: zero past the run), not copied (the
    /// copy was a call to memcpy with every vector spilled around it, then a load that
    /// waited on its stores: ~17 ns a row, a quarter of a 100-element row's time, in the
    /// TwoSum loop).
    ///
    /// # Safety
    /// `at + j * C` must be a valid, initialised f64 for every `j < rest`, `rest <=
    /// F64_LANES`.
    #[inline(always)]
    unsafe fn load<S: Simd, const N: usize, const C: usize>(self, simd: S) -> [S::f64s; N] {
        let Tail { at, rest } = self;
        if C == 2 {
            let mut t = [0.0f64; F64_LANES];
            for (j, t) in t.iter_mut().enumerate().take(rest) {
                // SAFETY: element j < rest of the block (our contract).
                *t = unsafe { *at.add(j * C) };
            }
            // SAFETY: `t` is one block of F64_LANES valid f64.
            return unsafe { load_block::<S, N, 1>(simd, t.as_ptr()) };
        }
        // SAFETY: the block's `rest` elements are valid and consecutive (our contract).
        let tail = unsafe { std::slice::from_raw_parts(at, rest) };
        let w = S::F64_LANES;
        let mut xs = [simd.splat_f64s(0.0); N];
        for (k, x) in xs.iter_mut().enumerate() {
            *x = simd.partial_load_f64s(&tail[(k * w).min(rest)..((k + 1) * w).min(rest)]);
        }
        xs
    }
}

/// One pass over a segment from fresh lanes (`t = σ`, `l = 0`); `PF`: prefetch ahead
/// (AVX2's contiguous runs, see below). Returns `t`, `l` and the squares.
///
/// # Safety
/// Every block of the segment must be valid as [`load_block`] requires.
#[inline(always)]
unsafe fn offset_pass<
    S: Simd,
    const N: usize,
    const C: usize,
    const K: usize,
    const PF: bool,
    const MODE: u8,
>(
    simd: S,
    one: S::f64s,
    sigma: f64,
    seg: &Segment,
) -> ([S::f64s; N], [S::f64s; N], S::f64s) {
    let zero = simd.splat_f64s(0.0);
    let mut t = [simd.splat_f64s(sigma); N];
    let mut l = [zero; N];
    let mut q = [zero; N];
    let mut p = seg.at;
    for _ in 0..seg.steps {
        if PF {
            // AVX2: the hardware prefetcher alone left a single thread's sum of cold memory
            // below numpy's plain sum (TwoSum then took ten instructions per vector, so the
            // out-of-order window spanned few cache lines); a C copy of the loop read 10 GB/s
            // without and 11.5-12 with these prefetches a kilobyte ahead (Zen 3).
            prefetch_bytes(p, CONTIGUOUS_AHEAD, F64_LANES * 8 * C);
        }
        for s in 0..K {
            // SAFETY: block s of this step, valid (our contract).
            let xs = unsafe { load_block::<S, N, C>(simd, p.wrapping_add(s * seg.gap)) };
            offset_block::<S, N, MODE>(simd, one, &mut t, &mut l, &mut q, xs);
        }
        p = p.wrapping_add(F64_LANES * C);
    }
    if let Some(tail) = seg.tail {
        // SAFETY: the run's last block (our contract).
        let xs = unsafe { tail.load::<S, N, C>(simd) };
        offset_block::<S, N, MODE>(simd, one, &mut t, &mut l, &mut q, xs);
    }
    // Each vector lane of the squares: those of `N` lanes (see `magnitudes_from_squares`).
    let q = q.into_iter().fold(zero, |a, b| simd.add_f64s(a, b));
    (t, l, q)
}

/// The largest lane of `v` (NaN if any lane is; `v`'s lanes are never negative here) and the
/// sum of its lanes, by way of an array (pulp's reductions are not all inlined).
#[inline(always)]
fn lanes_max_sum<S: Simd>(v: S::f64s) -> (f64, f64) {
    let mut a = [0.0f64; 8];
    let (av, _) = S::as_mut_simd_f64s(&mut a[..S::F64_LANES]);
    av[0] = v;
    let (mut m, mut s) = (0.0f64, 0.0);
    for &x in &a[..S::F64_LANES] {
        m = if x > m || x.is_nan() { x } else { m };
        s += x;
    }
    (if s.is_nan() { s } else { m }, s)
}

/// The offset for a segment of `b` elements a lane when there is no guess from the segment
/// before (a run's first segment): from the squares of its first block alone, taken as if
/// every block had four times as much (`None` where they are all zero, or one is not
/// finite). With these rows of 1000 f64 (one segment) spent a fifth of their time on a
/// pass over the segment's squares first (one Zen 1 thread, 1000x1000 axis 1, 1.24 ms
/// against 1.09 for the TwoSum loop); a guess that proves too small costs a second pass
/// over the segment, which lies in L1.
#[inline(always)]
fn first_guess<S: Simd, const N: usize>(simd: S, first: [S::f64s; N], b: usize) -> Option<f64> {
    let mut q = simd.splat_f64s(0.0);
    for x in first {
        q = simd.mul_add_f64s(x, x, q);
    }
    let (qmax, qsum) = lanes_max_sum::<S>(q);
    if by_magnitudes(qsum) || qsum.is_nan() {
        return None;
    }
    offset_for(magnitudes_from_squares(4.0 * b as f64 * qmax, b))
}

/// One segment into the lanes: the pass, the check of its offset (a pass again with a larger
/// offset where the check fails), the fold.
///
/// The check: the lanes' sums of magnitudes at most `σ / 2`, bounded from the squares
/// ([`magnitudes_from_squares`]); where every square is zero or one overflowed
/// ([`by_magnitudes`]), the sums of magnitudes are read in a pass of their own.
///
/// # Safety
/// As [`offset_pass`].
#[inline(always)]
unsafe fn offset_segment<
    S: Simd,
    const N: usize,
    const C: usize,
    const K: usize,
    const PF: bool,
>(
    simd: S,
    one: S::f64s,
    o: &mut Offset<S::f64s, N>,
    seg: &Segment,
) {
    let b = seg.per_lane::<K>();
    let u = f64::EPSILON / 2.0;
    // Each lane's sum of magnitudes, once read, and the largest.
    let mut known: Option<([S::f64s; N], f64)> = None;
    if o.sigma == 0.0 {
        let first = match seg.tail {
            // SAFETY: the segment's first block, valid (our contract).
            _ if seg.steps > 0 => Some(unsafe { load_block::<S, N, C>(simd, seg.at) }),
            // SAFETY: the run's last block, the segment's only one (our contract).
            Some(tail) => Some(unsafe { tail.load::<S, N, C>(simd) }),
            None => None,
        };
        // (Matches, not closures: a closure does not inherit the level's target features.)
        let guess = match first {
            Some(f) => first_guess(simd, f, b),
            None => None,
        };
        o.sigma = match guess {
            Some(s) => s,
            None => {
                // SAFETY: forwarded from this function's contract.
                let (_, _, q) =
                    unsafe { offset_pass::<S, N, C, K, PF, PASS_SQUARES>(simd, one, 0.0, seg) };
                let (qmax, qsum) = lanes_max_sum::<S>(q);
                if by_magnitudes(qsum) {
                    // SAFETY: forwarded from this function's contract.
                    let (a, most) = unsafe { offset_magnitudes::<S, N, C, K, PF>(simd, one, seg) };
                    known = Some((a, most));
                    offset_for(1.03 * most)
                } else {
                    offset_for(magnitudes_from_squares(qmax, b))
                }
                .unwrap_or(0.0)
            }
        };
    }
    while o.sigma != 0.0 {
        let sigma = o.sigma;
        // SAFETY: forwarded from this function's contract.
        let (t, l, q) = unsafe { offset_pass::<S, N, C, K, PF, PASS_SUM>(simd, one, sigma, seg) };
        let (qmax, qsum) = lanes_max_sum::<S>(q);
        // The segment's part of the bound (see `f64_blocks`): `1.01 u² σ b (b + 1) / 2`,
        // and where the sums of magnitudes `a` were read, at most `1.01 u b A` with `A` at
        // most `1.01 a` (their own roundings): the smaller.
        let bound = simd.splat_f64s(1.01 * u * u * sigma * (b * (b + 1)) as f64 / 2.0);
        let (holds, next, bound) = if by_magnitudes(qsum) {
            let (a, most) = match known {
                Some(k) => k,
                // SAFETY: forwarded from this function's contract.
                None => unsafe { offset_magnitudes::<S, N, C, K, PF>(simd, one, seg) },
            };
            known = Some((a, most));
            let f = simd.splat_f64s(1.03 * u * b as f64);
            let mut each = [bound; N];
            for (v, a) in each.iter_mut().zip(a) {
                *v = simd.min_f64s(bound, simd.mul_f64s(f, a));
            }
            (1.03 * most <= 0.5 * sigma, offset_for(1.03 * most), each)
        } else {
            let most = magnitudes_from_squares(qmax, b);
            (most <= 0.5 * sigma, offset_for(most), [bound; N])
        };
        if holds {
            offset_fold(simd, o, t, l, sigma, bound);
            o.sigma = next.unwrap_or(sigma);
            return;
        }
        // (`next` is then above `sigma`: twice what the check needs. The guard keeps the
        // loop finite whatever the roundings.)
        o.sigma = next.filter(|&s| s > sigma).unwrap_or(0.0);
    }
    // An infinity or a NaN: the TwoSum loop, and no bound (NaN where an element was).
    let mut m = [simd.splat_f64s(0.0); N];
    let mut p = seg.at;
    for _ in 0..seg.steps {
        for s in 0..K {
            // SAFETY: block s of this step, valid (our contract).
            unsafe {
                add_block::<S, N, C>(
                    simd,
                    one,
                    &mut o.hi,
                    &mut o.lo,
                    &mut m,
                    p.wrapping_add(s * seg.gap),
                )
            };
        }
        p = p.wrapping_add(F64_LANES * C);
    }
    if let Some(tail) = seg.tail {
        // SAFETY: the run's last block (our contract).
        let xs = unsafe { tail.load::<S, N, C>(simd) };
        for (k, x) in xs.into_iter().enumerate() {
            two_sum_at(simd, one, k, &mut o.hi[k], &mut o.lo[k], &mut m[k], x);
        }
    }
    let mut qsum = 0.0;
    for v in m {
        qsum += lanes_max_sum::<S>(v).1;
    }
    let none = simd.splat_f64s(if qsum.is_nan() { qsum } else { f64::INFINITY });
    for e in &mut o.err {
        *e = simd.add_f64s(*e, none);
    }
}

/// Whether a segment whose vector lane sums of squares add up to `qsum` is checked by its
/// sums of magnitudes ([`offset_magnitudes`]) rather than its squares: where every square is
/// zero (elements below 2^-537, or zeros: the squares' bound would be far above the data),
/// or a square overflowed with no NaN (elements above 2^511: no bound from the squares; as
/// the TwoSum loop's, whose bound is infinite, such sums took the exact pass, 1.4x the time
/// of other f64 sums).
#[inline(always)]
fn by_magnitudes(qsum: f64) -> bool {
    qsum == 0.0 || qsum == f64::INFINITY
}

/// Each lane's sum of magnitudes over a segment, and the largest.
///
/// # Safety
/// As [`offset_pass`].
#[inline(always)]
unsafe fn offset_magnitudes<
    S: Simd,
    const N: usize,
    const C: usize,
    const K: usize,
    const PF: bool,
>(
    simd: S,
    one: S::f64s,
    seg: &Segment,
) -> ([S::f64s; N], f64) {
    // SAFETY: forwarded from this function's contract.
    let (_, a, _) = unsafe { offset_pass::<S, N, C, K, PF, PASS_MAGNITUDES>(simd, one, 0.0, seg) };
    let mut most = 0.0f64;
    for &v in &a {
        most = most.max(lanes_max_sum::<S>(v).0);
    }
    (a, most)
}

/// A checked segment's lanes (`t`, `l`, offset `sigma`) folded into `(hi, lo)`, its
/// `bound` and the fold's roundings into `err` (see [`f64_blocks`]).
#[inline(always)]
fn offset_fold<S: Simd, const N: usize>(
    simd: S,
    o: &mut Offset<S::f64s, N>,
    t: [S::f64s; N],
    l: [S::f64s; N],
    sigma: f64,
    bound: [S::f64s; N],
) {
    let sig = simd.splat_f64s(sigma);
    let two_u = simd.splat_f64s(TWO_U);
    let big = simd.splat_f64s(f64::MAX);
    let inf = simd.splat_f64s(f64::INFINITY);
    for k in 0..N {
        // Exact: `t` in [σ/2, 3σ/2] (Sterbenz).
        let d = simd.sub_f64s(t[k], sig);
        let (s, e) = two_sum_v(simd, o.hi[k], d);
        let w = simd.add_f64s(e, l[k]);
        let lo = simd.add_f64s(o.lo[k], w);
        let r = simd.mul_f64s(two_u, simd.add_f64s(simd.abs_f64s(w), simd.abs_f64s(lo)));
        // NaN where `hi` overflowed (TwoSum's error is then NaN): no bound.
        let r = simd.select_f64s(simd.less_than_or_equal_f64s(r, big), r, inf);
        o.hi[k] = s;
        o.lo[k] = lo;
        o.err[k] = simd.add_f64s(o.err[k], simd.add_f64s(bound[k], r));
    }
}

/// [`f64_blocks`] with `N` vectors of `S::F64_LANES` per block (`N * S::F64_LANES ==
/// F64_LANES`, checked).
///
/// # Safety
/// As [`f64_blocks`].
#[inline(always)]
unsafe fn f64_blocks_n<S: Simd, const N: usize, const C: usize>(
    simd: S,
    lanes: &mut FloatLanes,
    ptr: *const f64,
    len: usize,
    one: f64,
    memory: bool,
) {
    assert_eq!(N * S::F64_LANES, F64_LANES);
    let one = simd.splat_f64s(one);
    let mut o = Offset::<S::f64s, N> {
        hi: to_vectors::<S, N>(&lanes.hi),
        lo: to_vectors::<S, N>(&lanes.lo),
        err: to_vectors::<S, N>(&lanes.err),
        sigma: lanes.sigma,
    };
    let block = F64_LANES * C;
    // Elements in whole blocks: all of them but, at stride 2, the last (see above).
    let whole = if C == 2 { len - 1 } else { len };
    // The first blocks of the caller's data as `walk::STREAMS` streams side by side, in the
    // order `blocks_contiguous` (the scalar level's loop) takes them; the rest in order.
    // (At stride 2 the streams are as long in bytes as a contiguous run's: blocks of
    // `[f64; 2]`.)
    let q = match (memory, C) {
        (false, _) => 0,
        (true, 1) => stream_blocks::<f64, F64_LANES>(whole),
        (true, _) => stream_blocks::<[f64; 2], F64_LANES>(whole),
    };
    let mut i = 0;
    while i < q {
        let seg = Segment {
            // Step j of this segment is step i + j < q of the streams: block s * q + i + j
            // of the run, inside it (s * q + i + j < STREAMS * q <= whole / F64_LANES).
            at: ptr.wrapping_add(i * block),
            steps: (SEG_BLOCKS / STREAMS).min(q - i),
            gap: q * block,
            tail: None,
        };
        // SAFETY: the blocks named above, valid (our contract).
        unsafe { offset_segment::<S, N, C, STREAMS, false>(simd, one, &mut o, &seg) };
        i += seg.steps;
    }
    let p = ptr.wrapping_add(STREAMS * q * block);
    let whole = whole - STREAMS * q * F64_LANES;
    let blocks = whole / F64_LANES;
    // What the whole blocks leave, added with the last of them: at stride 2 also the run's
    // last element (see `Tail::load`).
    let rest = whole % F64_LANES + usize::from(C == 2);
    let tail = (rest > 0).then_some(Tail {
        at: p.wrapping_add(blocks * block),
        rest,
    });
    let mut i = 0;
    while i < blocks || (i == blocks && tail.is_some()) {
        let steps = SEG_BLOCKS.min(blocks - i);
        let seg = Segment {
            at: p.wrapping_add(i * block),
            steps,
            gap: 0,
            tail: if i + steps == blocks { tail } else { None },
        };
        // SAFETY: blocks i .. i + steps of what the streams left, whole blocks of the run
        // before its last element (our contract; at stride 2 the one after a block's last
        // is still inside the run), and the tail: the run's last `rest <= F64_LANES`
        // elements at stride C.
        unsafe {
            if S::F64_LANES == 4 && memory {
                offset_segment::<S, N, C, 1, true>(simd, one, &mut o, &seg)
            } else {
                offset_segment::<S, N, C, 1, false>(simd, one, &mut o, &seg)
            }
        };
        if i + steps == blocks {
            break;
        }
        i += steps;
    }
    from_vectors::<S, N>(&mut lanes.hi, &o.hi);
    from_vectors::<S, N>(&mut lanes.lo, &o.lo);
    from_vectors::<S, N>(&mut lanes.err, &o.err);
    lanes.sigma = o.sigma;
}

/// The first `F64_LANES` lanes of `a` as `N` vectors.
#[inline(always)]
fn to_vectors<S: Simd, const N: usize>(a: &[f64; LANES]) -> [S::f64s; N] {
    let (v, _) = S::as_simd_f64s(&a[..F64_LANES]);
    v[..N].try_into().expect("N vectors")
}

/// `N` vectors into the first `F64_LANES` lanes of `a`.
#[inline(always)]
fn from_vectors<S: Simd, const N: usize>(a: &mut [f64; LANES], v: &[S::f64s; N]) {
    let (av, _) = S::as_mut_simd_f64s(&mut a[..F64_LANES]);
    av.copy_from_slice(v);
}

/// The sum of a run of f32 (or other widened) elements, not nan-skipping: element `i`
/// widened into lane `i % F64_LANES` of `tmp` with a plain f64 addition and its square into
/// `sq` (the bound), `tmp` folded into (hi, lo) every `FOLD_ROWS` blocks as
/// [`FloatLanes::fold`] does; blocks taken in `walk::for_each_block`'s order (`STREAMS`
/// streams side by side first). Local arrays, stored back once: through the lane struct the
/// compiler stored every array after every block, and with the squares added the f32 sum
/// of 1e5 took 2.5x its former time.
///
/// `C`: the run's element stride, 1 or 2 (4-byte elements only: `a[:, ::2]` of f32). At
/// stride 2 a block of `F64_LANES` elements is read as that many u64 words, each an element
/// and the one after it; the element is the word's low half (little-endian), which the
/// compiler turns into whole-vector loads and a narrowing (element by element, the f32
/// `a[:, ::2]` sums took 0.76-0.88x numpy's time at AVX2 on one thread of a Xeon). A
/// block thus reads the element after its last, so the run's last element is always left
/// to the last block, copied, and nothing past the run is read.
///
/// # Safety
/// `ptr + i * C` must be a valid, initialised `T` for every `i < len`.
#[inline(always)]
unsafe fn widened_blocks<T: Element, const C: usize>(
    lanes: &mut FloatLanes,
    ptr: *const T,
    len: usize,
    sqs: impl Fn(f64, f64) -> f64 + Copy,
) {
    const W: usize = F64_LANES;
    const { assert!((C == 1 || C == 2) && cfg!(target_endian = "little")) };
    if len == 0 {
        return;
    }
    // SAFETY: our contract: elements 0, C, ..., (len - 1) * C are valid, and so is every
    // element between them (they lie in one run of the view).
    let data = unsafe { std::slice::from_raw_parts(ptr, (len - 1) * C + 1) };
    let mut tmp: [f64; W] = lanes.tmp[..W].try_into().expect("W lanes");
    let mut sq: [f64; W] = lanes.sq[..W].try_into().expect("W lanes");
    let mut rows = lanes.rows;
    /// Adds the block's `W` elements: `block[j * C]`, `block.len() >= (W - 1) * C + 1`
    /// (at stride 2, `2 W`: the words are read whole).
    #[inline(always)]
    fn add<T: Element, const C: usize>(
        tmp: &mut [f64; W],
        sq: &mut [f64; W],
        block: &[T],
        sqs: impl Fn(f64, f64) -> f64 + Copy,
    ) {
        if C == 1 {
            for j in 0..W {
                let x = block[j].to_f64();
                tmp[j] += x;
                sq[j] = sqs(x, sq[j]);
            }
            return;
        }
        // (A plain assert, decided when the function is compiled: the f64 copy, which no
        // caller reaches at stride 2, is still compiled.)
        assert!(
            T::IS_FLOAT && std::mem::size_of::<T>() == 4,
            "stride 2: f32 only"
        );
        assert!(block.len() >= 2 * W);
        // SAFETY: `2 W` 4-byte elements (asserted) are `W` u64 words, read unaligned.
        let words: [u64; W] = unsafe { block.as_ptr().cast::<[u64; W]>().read_unaligned() };
        for j in 0..W {
            // The first f32 of the pair: the word's low half (little-endian).
            let x = f64::from(f32::from_bits(words[j] as u32));
            tmp[j] += x;
            sq[j] = sqs(x, sq[j]);
        }
    }
    /// Every `FOLD_ROWS` blocks, all the lanes folded (those the other loops use too). The
    /// lanes reached through `black_box`: without it the compiler kept their (hi, lo) in
    /// registers across the loop, and AVX2's sixteen then held no room for `sq`, which went
    /// through the stack every block (a store and a reload on each square's chain: the f32
    /// sum of 1e5 in cache at `STRIDEWISE_SIMD=avx2` ran at 0.72x numpy). (A call out of
    /// line instead made AVX-512's loop keep its vectors on the stack.)
    #[inline(always)]
    fn fold(lanes: &mut FloatLanes, tmp: &mut [f64; W], rows: &mut usize) {
        *rows += 1;
        if *rows == FOLD_ROWS {
            let lanes = std::hint::black_box(lanes);
            lanes.tmp[..W].copy_from_slice(tmp);
            lanes.fold();
            *tmp = [0.0; W];
            *rows = 0;
        }
    }
    // Elements in whole blocks: all of them but, at stride 2, the last (see above).
    let whole = if C == 2 { len - 1 } else { len };
    let q = if C == 1 {
        stream_blocks::<T, W>(whole)
    } else {
        stream_blocks::<[T; 2], W>(whole)
    };
    for i in 0..q {
        for st in 0..STREAMS {
            let at = (st * q + i) * W * C;
            add::<T, C>(&mut tmp, &mut sq, &data[at..at + W * C], sqs);
            fold(lanes, &mut tmp, &mut rows);
        }
    }
    let start = STREAMS * q * W;
    let blocks = (whole - start) / W;
    for b in 0..blocks {
        let at = (start + b * W) * C;
        add::<T, C>(&mut tmp, &mut sq, &data[at..at + W * C], sqs);
        fold(lanes, &mut tmp, &mut rows);
    }
    let first = start + blocks * W;
    if first < len {
        // Filled up with zeros, which leave a lane as it is.
        let mut last = [T::ZERO; W];
        for (j, x) in last.iter_mut().enumerate().take(len - first) {
            *x = data[(first + j) * C];
        }
        add::<T, 1>(&mut tmp, &mut sq, &last, sqs);
        fold(lanes, &mut tmp, &mut rows);
    }
    lanes.tmp[..W].copy_from_slice(&tmp);
    lanes.sq[..W].copy_from_slice(&sq);
    lanes.rows = rows;
}

thread_local! {
    /// Tiles of this thread's finished vertical units, for its next ones
    /// ([`Kernel::tile_for`]): every float sum shares [`FloatTile`].
    static SPARE_TILES: std::cell::RefCell<Vec<Box<FloatTile>>> =
        const { std::cell::RefCell::new(Vec::new()) };
}
/// Tiles a thread keeps at most (about 50 KB each): a vertical unit's group of outputs.
const SPARE_TILES_MAX: usize = crate::driver::GROUP_TILES;

impl<T: Element, P: NanPolicy> FloatSum<T, P> {
    /// Whether a vertical unit of `rows` rows tracks each output's smallest magnitude:
    /// short units only (`TRACKED_ROWS`), but for the f64 nan-sums, whose loop tracks it at
    /// no cost that showed.
    fn tracks(rows: usize) -> bool {
        rows <= TRACKED_ROWS || const { P::IGNORE && exact_each::<T>() }
    }

    /// `push_rows` for `ROWS` rows of stride `C` (1, or 2: every other element, with a
    /// constant stride the compiler loads whole vectors and shuffles): each output's state
    /// stays in registers for the rows, which are taken in order, exactly as `push_row` row
    /// after row does. It saves the state's loads and stores, three quarters of the vertical
    /// path's memory traffic besides the data.
    ///
    /// Each output's smallest magnitude is kept only in a tracked tile (`TRACKED_ROWS`; the
    /// compares were half of a 365x180x360 f32 cube's axis-0 mean).
    ///
    /// # Safety
    /// `rows[r] + j * C` must be a valid `T` for every row `r` and `j < len`, `len >= 1`.
    #[inline(always)]
    unsafe fn push_rows_strided<S: Simd, const C: usize>(
        &self,
        tile: &mut FloatTile,
        rows: [*const T; ROWS],
        len: usize,
    ) {
        // (`has_fma` in a const block: the scalar level never compiles `mul_add`, a library
        // call there.)
        let fma = const { has_fma::<S>() };
        match (tile.track, fma) {
            // SAFETY: forwarded from this function's contract.
            (true, true) => unsafe {
                self.push_rows_tracking::<C, true, true, ROWS>(tile, rows, len)
            },
            // SAFETY: forwarded from this function's contract.
            (true, false) => unsafe {
                self.push_rows_tracking::<C, true, false, ROWS>(tile, rows, len)
            },
            // SAFETY: forwarded from this function's contract.
            (false, true) => unsafe {
                self.push_rows_tracking::<C, false, true, ROWS>(tile, rows, len)
            },
            // SAFETY: forwarded from this function's contract.
            (false, false) => unsafe {
                self.push_rows_tracking::<C, false, false, ROWS>(tile, rows, len)
            },
        }
    }

    /// [`Self::push_rows_strided`] of `R` rows, keeping `small` or not (`TRACK`), squaring
    /// with an FMA or not (`FMA`).
    ///
    /// # Safety
    /// As [`Self::push_rows_strided`], for each of the `R` rows.
    #[inline(always)]
    unsafe fn push_rows_tracking<
        const C: usize,
        const TRACK: bool,
        const FMA: bool,
        const R: usize,
    >(
        &self,
        tile: &mut FloatTile,
        rows: [*const T; R],
        len: usize,
    ) {
        // SAFETY: elements 0, C, ..., (len - 1) * C of each row are valid (our contract), and
        // so is everything between them: they lie in one row of the view.
        let rows: [&[T]; R] = std::array::from_fn(|r| unsafe {
            std::slice::from_raw_parts(rows[r], (len - 1) * C + 1)
        });
        let (sq, small) = (&mut tile.sq[..len], &mut tile.small[..len]);
        if const { !exact_each::<T>() } {
            // Widened elements added plainly into `tmp`, in row order, as `push_row` does.
            let (tmp, n) = (&mut tile.tmp[..len], &mut tile.n[..len]);
            let f32_bits = const { T::IS_FLOAT && std::mem::size_of::<T>() == 4 };
            // `W` outputs at a time, their states in local arrays across the rows, each
            // row's `W` elements in one loop of constant length: vector code (widening
            // loads, adds, FMAs, compares). One output after another, with the rows inside,
            // stayed scalar: f32 axis-0 means at 0.4-0.5x numpy (4096x768).
            //
            // Only the state the sum needs is loaded and stored: the counts under the
            // nan-functions, the smallest magnitudes when tracked (loaded and stored always,
            // they were a third of the state traffic of a (365, 180, 360) f32 cube's axis-0
            // mean); the square is one FMA where the level has one (`FMA`).
            const W: usize = 16;
            let whole = len / W * W;
            for j0 in (0..whole).step_by(W) {
                // (Without it, once the state was only the sums and squares, the compiler
                // vectorised this loop across groups, gathering each element: 4-5x slower.)
                super::opaque_step();
                let at = |a: &[f64]| -> [f64; W] { a[j0..j0 + W].try_into().expect("W") };
                let (mut s, mut a) = (at(tmp), at(sq));
                let mut m = if TRACK { at(small) } else { [0.0; W] };
                // f32 elements' smallest magnitude as their bits less one, an unsigned
                // minimum (zeros wrap to the top, NaN lies above +inf's bits, which is where
                // `small` starts): one integer operation on the f32 lanes where the compares
                // and selects of `smaller_magnitude` on the widened f64 lanes were five on
                // each half (tracked f32 tiles were 2.3x the untracked ones' time an element).
                // `small` holds an f32 magnitude or +inf, exact in f32.
                let mut mb: [u32; W] = if TRACK && f32_bits {
                    std::array::from_fn(|k| (m[k] as f32).to_bits().wrapping_sub(1))
                } else {
                    [0; W]
                };
                let mut c: [u64; W] = if P::IGNORE {
                    n[j0..j0 + W].try_into().expect("W")
                } else {
                    [0; W]
                };
                for row in &rows {
                    // (Sliced to the `W` elements, so that no index below is checked.)
                    let piece = &row[j0 * C..(j0 + W - 1) * C + 1];
                    for k in 0..W {
                        let e = piece[k * C];
                        let (x, v) = filtered::<T, P>(e);
                        s[k] += x;
                        c[k] += v;
                        a[k] = if FMA {
                            x.mul_add(x, a[k])
                        } else {
                            a[k] + x * x
                        };
                        if TRACK && f32_bits {
                            // (The f32 itself: widening and narrowing back is exact.)
                            let b = (e.to_f64() as f32).to_bits() & 0x7fff_ffff;
                            mb[k] = mb[k].min(b.wrapping_sub(1));
                        } else if TRACK {
                            m[k] = smaller_magnitude(m[k], x);
                        }
                    }
                }
                if TRACK && f32_bits {
                    m = std::array::from_fn(|k| f64::from(f32::from_bits(mb[k].wrapping_add(1))));
                }
                tmp[j0..j0 + W].copy_from_slice(&s);
                if P::IGNORE {
                    n[j0..j0 + W].copy_from_slice(&c);
                }
                sq[j0..j0 + W].copy_from_slice(&a);
                if TRACK {
                    small[j0..j0 + W].copy_from_slice(&m);
                }
            }
            for j in whole..len {
                let (mut s, mut c, mut a, mut m) = (tmp[j], n[j], sq[j], small[j]);
                for row in &rows {
                    let (x, v) = filtered::<T, P>(row[j * C]);
                    s += x;
                    c += v;
                    a += x * x;
                    if TRACK {
                        m = smaller_magnitude(m, x);
                    }
                }
                tmp[j] = s;
                n[j] = c;
                sq[j] = a;
                small[j] = m;
            }
            return;
        }
        let (hi, lo, n) = (&mut tile.hi[..len], &mut tile.lo[..len], &mut tile.n[..len]);
        for j in 0..len {
            let (mut h, mut l, mut c, mut a, mut m) = (hi[j], lo[j], n[j], sq[j], small[j]);
            for row in &rows {
                let (x, v) = filtered::<T, P>(row[j * C]);
                let (s, e) = two_sum(h, x);
                h = s;
                l += e;
                c += v;
                a += x * x;
                if TRACK {
                    m = smaller_magnitude(m, x);
                }
            }
            hi[j] = h;
            lo[j] = l;
            n[j] = c;
            sq[j] = a;
            small[j] = m;
        }
    }
}

/// The f64 vertical path (not nan-skipping) with explicit vectors: `ROWS` contiguous rows
/// added into the first `len` (a multiple of `F64_LANES`; under `NARROW`, of the level's
/// vector width, one vector a step, at stride 1) outputs' (hi, lo), each output's
/// rows in order with [`two_sum_fma`]'s operations, so bitwise as `push_row` row after row.
/// Several outputs at a time (16 at AVX-512 and NEON, 8 at AVX2), so that their TwoSum
/// chains (four dependent TwoSums per output) are side by side in the instruction stream:
/// compiled from the scalar loop, one output after another, the processor saw one long chain
/// at a time (316x316 f64 axis-0 mean at 0.8x numpy). `one` must be an opaque 1.0.
/// `C`: the rows' element stride, 1 or 2 (read as whole vectors and shuffled, see
/// [`load_run`]: the odd elements between a row's are read too, up to the one after the
/// last output's).
///
/// # Safety
/// `rows[r] + j` must be a valid, initialised f64 for every row and `j < len * C` (at stride
/// 2, `j <= (len - 1) * 2 + 1`).
// (The tile's four arrays, the rows and the constants: one call site each.)
#[allow(clippy::too_many_arguments)]
#[inline(always)]
unsafe fn f64_rows<S: Simd, const C: usize, const NARROW: bool>(
    simd: S,
    hi: &mut [f64],
    lo: &mut [f64],
    sq: &mut [f64],
    small: &mut [f64],
    rows: [*const f64; ROWS],
    len: usize,
    one: f64,
    track: bool,
) {
    if len == 0 {
        return;
    }
    const { assert!(!NARROW || C == 1) };
    if NARROW {
        // Fewer than `F64_LANES` outputs, a multiple of the level's vector width (stride 1):
        // one vector a step. So a row's last outputs are read in place, not copied and padded
        // to a whole block (a (200000, 40) f64 axis-0 mean, one Zen 4 thread: 40 outputs,
        // the last 8 copied four rows at a time and added as 16, 4.7 ms; in place 2.9-3.2).
        if track {
            // SAFETY: forwarded from this function's contract.
            return unsafe { f64_rows_n::<S, 1, 1, true>(simd, hi, lo, sq, small, rows, len, one) };
        }
        // SAFETY: forwarded from this function's contract.
        return unsafe { f64_rows_n::<S, 1, 1, false>(simd, hi, lo, sq, small, rows, len, one) };
    }
    if !track {
        // SAFETY: forwarded from this function's contract.
        return unsafe { f64_rows_lanes::<S, C, false>(simd, hi, lo, sq, small, rows, len, one) };
    }
    // SAFETY: forwarded from this function's contract.
    unsafe { f64_rows_lanes::<S, C, true>(simd, hi, lo, sq, small, rows, len, one) }
}

/// [`f64_rows`] at this level's grouping, tracking each output's smallest magnitude in
/// `small` or not (`TRACK`).
///
/// # Safety
/// As [`f64_rows`].
#[allow(clippy::too_many_arguments)]
#[inline(always)]
unsafe fn f64_rows_lanes<S: Simd, const C: usize, const TRACK: bool>(
    simd: S,
    hi: &mut [f64],
    lo: &mut [f64],
    sq: &mut [f64],
    small: &mut [f64],
    rows: [*const f64; ROWS],
    len: usize,
    one: f64,
) {
    match S::F64_LANES {
        // (NEON: the four state arrays of eight vectors are all 32 of its registers; not
        // measured, as qemu's timings mean nothing.)
        // SAFETY: forwarded from this function's contract.
        2 => unsafe {
            f64_rows_n::<S, { F64_LANES / 2 }, C, TRACK>(simd, hi, lo, sq, small, rows, len, one)
        },
        // AVX2 takes eight outputs a step (two vectors), not sixteen: four state arrays of
        // four vectors were all 16 ymm registers, and the loop kept the state on the stack
        // (perf annotate; 316x316 f64 axis-0 sum at 0.37x numpy on one thread of a Xeon at
        // `STRIDEWISE_SIMD=avx2`). Outputs are independent, so the grouping changes no
        // output's bits.
        // SAFETY: forwarded from this function's contract.
        4 => unsafe {
            f64_rows_n::<S, { F64_LANES / 8 }, C, TRACK>(simd, hi, lo, sq, small, rows, len, one)
        },
        // SAFETY: forwarded from this function's contract.
        8 => unsafe {
            f64_rows_n::<S, { F64_LANES / 8 }, C, TRACK>(simd, hi, lo, sq, small, rows, len, one)
        },
        w => unreachable!("no f64 vertical loop for {w}-lane vectors"),
    }
}

/// [`f64_rows`] with `N` vectors of `S::F64_LANES` outputs per step (`N * S::F64_LANES`
/// divides `F64_LANES`, checked).
///
/// # Safety
/// As [`f64_rows`].
// (The tile's four arrays, the rows and the constants: one call site each.)
#[allow(clippy::too_many_arguments)]
#[inline(always)]
unsafe fn f64_rows_n<S: Simd, const N: usize, const C: usize, const TRACK: bool>(
    simd: S,
    hi: &mut [f64],
    lo: &mut [f64],
    sq: &mut [f64],
    small: &mut [f64],
    rows: [*const f64; ROWS],
    len: usize,
    one: f64,
) {
    assert_eq!(F64_LANES % (N * S::F64_LANES), 0);
    assert!(len % (N * S::F64_LANES) == 0);
    assert!(len <= hi.len() && len <= lo.len() && len <= sq.len());
    assert!(len <= small.len());
    let one = simd.splat_f64s(one);
    let (zero, inf) = (simd.splat_f64s(0.0), simd.splat_f64s(f64::INFINITY));
    let (hv, _) = S::as_mut_simd_f64s(&mut hi[..len]);
    let (lv, _) = S::as_mut_simd_f64s(&mut lo[..len]);
    let (mv, _) = S::as_mut_simd_f64s(&mut sq[..len]);
    let (sv, _) = S::as_mut_simd_f64s(&mut small[..len]);
    for (g, (((hg, lg), mg), sg)) in hv
        .chunks_exact_mut(N)
        .zip(lv.chunks_exact_mut(N))
        .zip(mv.chunks_exact_mut(N))
        .zip(sv.chunks_exact_mut(N))
        .enumerate()
    {
        let mut h: [S::f64s; N] = hg[..N].try_into().expect("N vectors");
        let mut l: [S::f64s; N] = lg[..N].try_into().expect("N vectors");
        let mut m: [S::f64s; N] = mg[..N].try_into().expect("N vectors");
        let mut sm: [S::f64s; N] = sg[..N].try_into().expect("N vectors");
        for &row in &rows {
            let block = row.wrapping_add(g * N * S::F64_LANES * C);
            for k in 0..N {
                // SAFETY: group g is outputs g * N * W .. (g + 1) * N * W, below `len` (the
                // chunks are whole); vector k is W of them, whose f64 (and at stride 2 the
                // ones between and after) are valid by our contract.
                let x = unsafe { load_run::<S, C>(simd, block.add(k * S::F64_LANES * C)) };
                two_sum_at(simd, one, k, &mut h[k], &mut l[k], &mut m[k], x);
                if TRACK {
                    // The smallest nonzero magnitude (`grid::magnitude`); zeros count as +inf.
                    let a = simd.abs_f64s(x);
                    sm[k] = simd.min_f64s(
                        sm[k],
                        simd.select_f64s(simd.greater_than_f64s(a, zero), a, inf),
                    );
                }
            }
        }
        hg.copy_from_slice(&h);
        lg.copy_from_slice(&l);
        mg.copy_from_slice(&m);
        if TRACK {
            sg.copy_from_slice(&sm);
        }
    }
}

/// Rows of a vertical offset segment ([`f64_rows_offset`]): each output's segment is folded
/// before the batch that would take it past this.
const OFFSET_SEG_ROWS: u64 = RENORM_ROWS;

/// A lane passes a batch's check where its segment's sum of magnitudes `a` (rounded) times
/// this is at most its `t` before the batch (see [`f64_rows_offset`]).
const OFFSET_CHECK: f64 = 5.006;

/// A segment's offset from one batch of `H` it may still take, each of magnitudes `A_b`:
/// at least `OFFSET_ROOM H A_b`, 8 times the `5.006 H A_b` the check needs if the batches
/// to come are like this one (with 1.25 times, a third of the lanes of normal data failed a
/// later batch: four of their elements are a poor estimate of the next 500). A larger `σ`
/// only widens the bound, by far less than an ulp of the sum.
const OFFSET_ROOM: f64 = 50.0;

/// The largest offset taken: `t` and the segment's sums stay far below overflow.
const OFFSET_MAX: f64 = 5.357543035931337e300; // 2^999

/// Rows of a batch of the f64 sums (not nan-skipping; `Kernel::BATCH`): the offset loop
/// ([`f64_rows_offset`]) loads and stores each output's state once for eight rows. Every
/// other loop of theirs takes them as two batches of `ROWS`, as before. A C model of the
/// offset loop over 4000x4000 f64, axis 0, from memory, one Zen 4 thread: 7.4-8.2 ms in
/// batches of four rows, 6.1 ms in batches of eight.
pub(crate) const F64_BATCH: usize = 2 * ROWS;

/// Rows of a piece copied for the offset loop (`Piece::rows`): `F64_BATCH` of them fit the
/// tile's `tmp`.
const GATHER_OFFSET: usize = GATHER / 2;

/// What a batch short of `F64_BATCH` rows reads instead of the rows it lacks: zeros, as many as a
/// piece of [`push_rows_offset`] reads (at stride 2, two per output and one more).
static ZERO_ROWS: [f64; 2 * (TILE + F64_LANES) + 2] = [0.0; 2 * (TILE + F64_LANES) + 2];

/// The offset `σ` of a vertical lane whose `t` lies in `[3σ/4 - ε, 5σ/4 + ε]` (see
/// [`f64_rows_offset`]): the power of two nearest `t` by ratio (`t √2` lies in `[σ, 2σ)`);
/// 0.0 for `t == 0` (a lane with no offset).
#[inline(always)]
fn offset_of(t: f64) -> f64 {
    f64::from_bits((t * std::f64::consts::SQRT_2).to_bits() & 0x7ff0_0000_0000_0000)
}

/// One piece of a vertical offset batch: the tile's arrays from the piece's first output.
struct OffsetRows<'a> {
    off: &'a mut [f64],
    lo: &'a mut [f64],
    /// Each output's sum of magnitudes over its segment.
    mag: &'a mut [f64],
    hi: &'a mut [f64],
    err: &'a mut [f64],
    /// Rows of the tile's segment before this batch (each output's segment has at most
    /// these).
    b: u64,
    /// Rows the tile's segment can still take after this batch.
    left: u64,
    /// Whether this is the tile's first batch (every lane's `t` is 0).
    fresh: bool,
}

/// The f64 vertical sum (not nan-skipping, at the FMA levels, tiles of more than
/// `TRACKED_ROWS` rows) by an offset, as [`f64_blocks`] does along runs: a batch of
/// `F64_BATCH` rows at a time, `F64_BATCH` Fast2Sums into each output's `t`, their errors
/// into its `lo` and its magnitudes into its `a` (`mag`) four rows at a time, the state
/// loaded, checked and stored once a batch: six operations an element where TwoSum with a square
/// took eight (a C model of 320x320 f64 over axis 0 on one Zen 1 thread: 55 us against 76;
/// numpy 63).
///
/// Each output's segment (at most [`OFFSET_SEG_ROWS`] rows) starts its `t` at a power of two
/// `σ` (0 for a lane that has seen only zeros). Invariant: after every batch a lane kept,
/// its segment's exact sum of magnitudes `A` is at most `σ/4`. Then every partial sum stays
/// in `[3σ/4 - ε, 5σ/4 + ε]` (`ε`: the errors taken out, at most `b u σ`, far below
/// `σ/10^4`), which is at least `|x|`, so Fast2Sum (`s = t + x`, `r = x - (s - t)`) is exact,
/// `|r| <= u σ` (half an ulp of `s < 2σ`) and `|r| <= |x|`; `σ` is `offset_of(t)`, and `t -
/// σ` is exact (Sterbenz).
///
/// The check, after a batch, from the lane's `t0` before it: `OFFSET_CHECK a <= t0`. By the
/// invariant `t0 <= 1.2501 σ`, and `a` errs below `A` by at most a factor `(1 + u)^b` (an
/// element's magnitude passes at most `b` roundings: a batch's tree, then `a`'s), so `A
/// <= 1.001 a <= 1.001 · 1.2501 σ / 5.006 < σ / 4`: the invariant holds again, for every
/// prefix of the batch too. A group of outputs with a lane that fails is not stored (its
/// arrays keep the state before the batch) and is added again by [`offset_rows_redo`].
/// With `σ = 0` only zeros pass (`a == 0`), which leave `t` at 0.
///
/// # Safety
/// `rows[r] + j` must be a valid, initialised f64 for every row and `j < len * C` (at stride
/// 2, `j <= (len - 1) * 2 + 1`); `len` a multiple of `F64_LANES` (under `NARROW`, of the
/// level's vector width; then `C == 1`), and at most the length of each array of `st`.
#[inline(always)]
unsafe fn f64_rows_offset<S: Simd, const C: usize, const NARROW: bool>(
    simd: S,
    st: OffsetRows<'_>,
    rows: [*const f64; F64_BATCH],
    len: usize,
    one: f64,
) {
    const { assert!(!NARROW || C == 1) };
    // (The tile's first batch as a copy of its own: a branch on `fresh` inside the loop
    // kept its state on the stack.)
    if st.fresh {
        // SAFETY: forwarded from this function's contract.
        return unsafe { f64_rows_offset_at::<S, C, NARROW, true>(simd, st, rows, len, one) };
    }
    // SAFETY: forwarded from this function's contract.
    unsafe { f64_rows_offset_at::<S, C, NARROW, false>(simd, st, rows, len, one) }
}

/// [`f64_rows_offset`] at this level's grouping, for the tile's first batch or not
/// (`FRESH`).
///
/// # Safety
/// As [`f64_rows_offset`].
#[inline(always)]
unsafe fn f64_rows_offset_at<S: Simd, const C: usize, const NARROW: bool, const FRESH: bool>(
    simd: S,
    st: OffsetRows<'_>,
    rows: [*const f64; F64_BATCH],
    len: usize,
    one: f64,
) {
    if NARROW {
        // SAFETY: forwarded from this function's contract.
        return unsafe { f64_rows_offset_n::<S, 1, 1, FRESH>(simd, st, rows, len, one) };
    }
    match S::F64_LANES {
        // SAFETY: forwarded from this function's contract.
        2 => unsafe {
            f64_rows_offset_n::<S, { F64_LANES / 2 }, C, FRESH>(simd, st, rows, len, one)
        },
        // AVX2: one vector of outputs a step. An iteration of two (the TwoSum loop's
        // grouping) was ~100 instructions, 190 micro-operations on Zen 1 (which splits
        // 256-bit operations): its whole reorder buffer, so one iteration's four-row chain
        // of additions ran at a time.
        // SAFETY: forwarded from this function's contract.
        4 => unsafe { f64_rows_offset_n::<S, 1, C, FRESH>(simd, st, rows, len, one) },
        // AVX-512: two vectors, 16 outputs, as `f64_rows_lanes`.
        // SAFETY: forwarded from this function's contract.
        8 => unsafe {
            f64_rows_offset_n::<S, { F64_LANES / 8 }, C, FRESH>(simd, st, rows, len, one)
        },
        w => unreachable!("no f64 vertical loop for {w}-lane vectors"),
    }
}

/// [`f64_rows_offset`] with `N` vectors of outputs a step.
///
/// # Safety
/// As [`f64_rows_offset`].
#[inline(always)]
unsafe fn f64_rows_offset_n<S: Simd, const N: usize, const C: usize, const FRESH: bool>(
    simd: S,
    mut st: OffsetRows<'_>,
    rows: [*const f64; F64_BATCH],
    len: usize,
    one: f64,
) {
    let step = N * S::F64_LANES;
    assert!(len % step == 0);
    assert!(len <= st.off.len() && len <= st.lo.len() && len <= st.mag.len());
    let onev = simd.splat_f64s(one);
    let (zero, check) = (simd.splat_f64s(0.0), simd.splat_f64s(OFFSET_CHECK));
    let all = simd.equal_f64s(zero, zero);
    // A fresh tile's offsets from its first batch (below): `2 OFFSET_ROOM H` times its
    // magnitudes.
    let grow = simd.splat_f64s(2.0 * OFFSET_ROOM * (st.left / F64_BATCH as u64 + 1) as f64);
    let (exponent, most) = (
        simd.splat_u64s(0x7ff0_0000_0000_0000),
        simd.splat_f64s(OFFSET_MAX),
    );
    for j in (0..len).step_by(step) {
        let (t0, mut l, mut a) = if FRESH {
            // The tile's first batch, whose lanes have no offset yet (`t == 0`): each lane's
            // `σ` is the power of two in `(v/2, v]`, `v = 2 OFFSET_ROOM H A_b` (its exponent
            // bits: as `offset_rows_redo` would choose it, at least `OFFSET_ROOM H A_b`, so the check
            // passes), read from the batch's magnitudes first (the rows are then in L1);
            // where `v` is above `OFFSET_MAX`, NaN or subnormal, `σ = 0`, which fails the
            // check, and `offset_rows_redo` takes the lane. Without it every lane of every
            // tile failed its first batch (316x316 f64 axis-0 sum: 6% of the time redone).
            let mut ab = [zero; N];
            for &row in &rows {
                for (k, ab) in ab.iter_mut().enumerate() {
                    // SAFETY: as in the loop below.
                    let x = unsafe {
                        load_run::<S, C>(simd, row.wrapping_add(j * C).add(k * S::F64_LANES * C))
                    };
                    *ab = simd.add_f64s(*ab, simd.abs_f64s(x));
                }
            }
            let mut t0 = [zero; N];
            for (t0, ab) in t0.iter_mut().zip(ab) {
                let v = simd.mul_f64s(ab, grow);
                let p = simd.and_u64s(simd.transmute_u64s_f64s(v), exponent);
                let p = simd.transmute_f64s_u64s(p);
                *t0 = simd.select_f64s(simd.less_than_or_equal_f64s(v, most), p, zero);
            }
            (t0, [zero; N], [zero; N])
        } else {
            let t0 = at_vectors::<S, N>(st.off, j);
            (
                t0,
                at_vectors::<S, N>(st.lo, j),
                at_vectors::<S, N>(st.mag, j),
            )
        };
        let mut t = t0;
        // Each row's error and magnitude, added into `l` and `a` as a tree (two levels, then
        // the state) for each half of the batch, four rows: the four-row chains of those
        // additions were, with `t`'s, the latency that bound the loop on Zen 1. (So `l` and
        // `a` take two additions a batch, one per four rows, as `offset_fold_one`'s bound
        // counts them.)
        const { assert!(F64_BATCH == 2 * ROWS && ROWS == 4) };
        for half in rows.chunks_exact(ROWS) {
            let (mut r, mut m) = ([[zero; N]; ROWS], [[zero; N]; ROWS]);
            for (i, &row) in half.iter().enumerate() {
                let block = row.wrapping_add(j * C);
                for k in 0..N {
                    // SAFETY: outputs j + k W .. j + (k + 1) W < len of the row, valid (with
                    // the odd ones between at stride 2) by our contract.
                    let x = unsafe { load_run::<S, C>(simd, block.add(k * S::F64_LANES * C)) };
                    let s = simd.add_f64s(t[k], x);
                    // `s - t` and `x - (s - t)` as FMAs by 1 (the same roundings), on the FMA
                    // pipes beside the additions.
                    let z = simd.negate_mul_add_f64s(t[k], onev, s);
                    r[i][k] = simd.negate_mul_add_f64s(z, onev, x);
                    t[k] = s;
                    m[i][k] = simd.abs_f64s(x);
                }
            }
            for k in 0..N {
                let (r01, r23) = (
                    simd.add_f64s(r[0][k], r[1][k]),
                    simd.add_f64s(r[2][k], r[3][k]),
                );
                l[k] = simd.add_f64s(l[k], simd.add_f64s(r01, r23));
                let (m01, m23) = (
                    simd.add_f64s(m[0][k], m[1][k]),
                    simd.add_f64s(m[2][k], m[3][k]),
                );
                a[k] = simd.add_f64s(a[k], simd.add_f64s(m01, m23));
            }
        }
        let mut ok = all;
        for k in 0..N {
            let c = simd.less_than_or_equal_f64s(simd.mul_f64s(a[k], check), t0[k]);
            ok = simd.and_m64s(ok, c);
        }
        if simd.first_true_m64s(simd.xor_m64s(ok, all)) == S::F64_LANES {
            for (arr, v) in [(&mut *st.off, t), (&mut *st.lo, l), (&mut *st.mag, a)] {
                S::as_mut_simd_f64s(&mut arr[j..j + step]).0[..N].copy_from_slice(&v);
            }
        } else {
            // SAFETY: outputs j .. j + step of the rows, valid (our contract).
            unsafe { offset_rows_redo(&mut st, &rows, j, step, C) };
        }
    }
}

/// `N` vectors of `a` from element `j`. (A function, not a closure: a closure does not
/// inherit the level's target features.)
#[inline(always)]
fn at_vectors<S: Simd, const N: usize>(a: &[f64], j: usize) -> [S::f64s; N] {
    S::as_simd_f64s(&a[j..j + N * S::F64_LANES]).0[..N]
        .try_into()
        .expect("N vectors")
}

/// The outputs `j0 .. j0 + count` of a batch that failed [`f64_rows_offset`]'s check, one at
/// a time: the segment so far folded ([`offset_fold_one`]); a new segment from this batch,
/// at the power of two `σ` at or above `OFFSET_ROOM H A_b` (`A_b` the batch's sum of
/// magnitudes, `H` the batches the segment can still take), which passes the check
/// (`5.006 A_b <= σ`); where `σ` would pass [`OFFSET_MAX`] (an infinity, a NaN,
/// elements near overflow), the batch goes into `(hi, lo)` by TwoSum and the output's bound
/// becomes infinite (NaN where an element was: the sum is NaN), for the exact pass.
///
/// # Safety
/// `rows[r] + j * c` must be a valid f64 for every row and `j0 <= j < j0 + count`, and
/// `j0 + count` at most the length of each array of `st`.
#[cold]
#[inline(never)]
unsafe fn offset_rows_redo(
    st: &mut OffsetRows<'_>,
    rows: &[*const f64; F64_BATCH],
    j0: usize,
    count: usize,
    c: usize,
) {
    let h = (st.left / F64_BATCH as u64 + 1) as f64;
    for j in j0..j0 + count {
        let mut xs = [0.0f64; F64_BATCH];
        for (x, &row) in xs.iter_mut().zip(rows) {
            // SAFETY: our contract.
            *x = unsafe { *row.add(j * c) };
        }
        offset_fold_one(
            &mut st.off[j],
            &mut st.lo[j],
            &mut st.mag[j],
            &mut st.hi[j],
            &mut st.err[j],
            st.b,
        );
        let mut ab = 0.0f64;
        for x in xs {
            ab += x.abs();
        }
        let want = OFFSET_ROOM * h * ab;
        if want <= OFFSET_MAX {
            let (mut t, mut l) = (power_above(want), st.lo[j]);
            for x in xs {
                let s = t + x;
                l += x - (s - t);
                t = s;
            }
            (st.off[j], st.lo[j], st.mag[j]) = (t, l, ab);
        } else {
            let (mut hh, mut l) = (st.hi[j], st.lo[j]);
            for x in xs {
                let (s, e) = two_sum(hh, x);
                hh = s;
                l += e;
            }
            (st.hi[j], st.lo[j]) = (hh, l);
            st.err[j] += if ab.is_nan() { f64::NAN } else { f64::INFINITY };
        }
    }
}

/// Folds a vertical offset lane's segment of at most `b` rows (`t = off`, `a = mag`) into
/// its `(hi, lo)`, its bound into `err`; leaves `t` and `a` at 0 and returns `a`.
///
/// The bound: `lo` took the segment's errors `r_i` (exact, `Σ|r_i| <= R = min(b u σ, A)`,
/// `A <= 1.001 a`; see [`f64_rows_offset`]) by at most `b` additions, each erring by at most
/// `u |lo_i|` with `|lo_i| <= (|lo_end| + 2R)(1 + u)^b`: in all at most
/// `1.01 u b (|lo_end| + 2R)`. (The vector loop adds a batch's four errors as a tree first,
/// then into `lo`: `b / 4` additions into `lo`, and the tree's roundings at most `2u` times
/// the batch's `Σ|r_i|`, `2uR` in all, which the same bound covers for `b >= 4`.) Then
/// `t - σ` is exact, TwoSum with `hi` exact, `w = lo + e` errs by at most `u |w|` (counted
/// twice, for `err`'s own roundings), and the TwoSum that renormalises is exact unless the
/// sum overflows (the bound is then infinite).
#[inline(always)]
fn offset_fold_one(
    off: &mut f64,
    lo: &mut f64,
    mag: &mut f64,
    hi: &mut f64,
    err: &mut f64,
    b: u64,
) -> f64 {
    let (t, a, l) = (*off, *mag, *lo);
    let sigma = offset_of(t);
    let d = t - sigma;
    let (u, bf) = (f64::EPSILON / 2.0, b as f64);
    let bound = 1.01 * u * bf * (l.abs() + 2.0 * (bf * u * sigma).min(1.001 * a));
    let (s, e) = two_sum(*hi, d);
    let w = l + e;
    let (h2, l2) = two_sum(s, w);
    if h2.is_finite() && l2.is_finite() {
        (*hi, *lo) = (h2, l2);
        *err += bound + TWO_U * w.abs();
    } else {
        (*hi, *lo) = (s, w);
        *err += f64::INFINITY;
    }
    (*off, *mag) = (0.0, 0.0);
    a
}

/// Every output's segment folded ([`offset_fold_one`]), and the next segment's offset set
/// from this one's magnitudes: the power of two at or above `12.6 a` (room for the next
/// segment to take up to 2.5 times as much), 0 for a segment of zeros. At the SIMD level
/// in use, in a function of its own: compiled without the level (SSE2), the fold was 7% of
/// a 316x316 f64 axis-0 mean, once per output; inlined into the level's loops, it slowed
/// them.
fn offset_fold_tile(t: &mut FloatTile, len: usize) {
    crate::simd::dispatch(crate::simd_level(), FoldTile { t, len });
}

/// [`offset_fold_tile`] as a SIMD operation.
struct FoldTile<'a> {
    t: &'a mut FloatTile,
    len: usize,
}

impl WithSimd for FoldTile<'_> {
    type Output = ();

    #[inline(always)]
    fn with_simd<S: Simd>(self, _: S) {
        let (t, len) = (self.t, self.len);
        let b = t.seg_rows;
        for j in 0..len {
            let a = offset_fold_one(
                &mut t.off[j],
                &mut t.lo[j],
                &mut t.sq[j],
                &mut t.hi[j],
                &mut t.err[j],
                b,
            );
            let want = 12.6 * a;
            t.off[j] = if want <= OFFSET_MAX {
                power_above(want)
            } else {
                0.0
            };
        }
        t.seg_rows = 0;
    }
}

/// The next piece of a vertical f64 batch's `rest` outputs at `stride` (both vector loops,
/// `push_rows` and [`push_rows_offset`]): rows of stride 1 (`direct`, whole blocks of
/// `F64_LANES` outputs; `narrow`, the last ones as whole vectors of the level) or 2
/// (`direct2`, all but the last output: a block reads the element after its last) read in
/// place; else `G` at most (`GATHER`, or `GATHER_OFFSET`), copied. `n` outputs, read as
/// `padded`.
struct Piece {
    direct: bool,
    direct2: bool,
    narrow: bool,
    n: usize,
    padded: usize,
}

impl Piece {
    #[inline(always)]
    fn next<S: Simd, const G: usize>(stride: isize, rest: usize) -> Self {
        let direct = stride == 1 && rest >= F64_LANES;
        let direct2 = stride == 2 && rest > F64_LANES;
        let narrow = stride == 1 && !direct && rest >= S::F64_LANES;
        let n = if direct {
            rest - rest % F64_LANES
        } else if narrow {
            rest - rest % S::F64_LANES
        } else if direct2 {
            (rest - 1) - (rest - 1) % F64_LANES
        } else {
            G.min(rest)
        };
        let padded = if narrow {
            n
        } else {
            n.next_multiple_of(F64_LANES)
        };
        Self {
            direct,
            direct2,
            narrow,
            n,
            padded,
        }
    }

    /// Whether the rows are read in place (not copied).
    #[inline(always)]
    fn in_place(&self) -> bool {
        self.direct || self.direct2 || self.narrow
    }

    /// Where the loop reads the piece at output `j0` of each row: the row itself where read
    /// in place, else the row's `n` elements copied into its slot of `G` in `tmp` and
    /// filled up with +0.0 to `padded` (extra outputs below `ANTI_ALIAS`, never read); rows
    /// from `real` on read [`ZERO_ROWS`] (zeros, which change no state).
    ///
    /// # Safety
    /// `rows[r] + j * stride` is a valid f64 for `r < real` and `j0 <= j < j0 + n`.
    #[inline(always)]
    unsafe fn rows<const R: usize, const G: usize>(
        &self,
        tmp: &mut [f64],
        rows: [*const f64; R],
        real: usize,
        j0: usize,
        stride: isize,
    ) -> [*const f64; R] {
        let in_place = self.in_place();
        // (A loop, not `array::from_fn`: its closure was left out of line, compiled without
        // the level's target features.)
        const { assert!(R * G <= ANTI_ALIAS) };
        let mut ptrs = [ZERO_ROWS.as_ptr(); R];
        for (r, slot) in ptrs.iter_mut().enumerate().take(real) {
            let at = rows[r].wrapping_offset(j0 as isize * stride);
            *slot = if in_place {
                at
            } else {
                let buf = &mut tmp[r * G..r * G + self.padded];
                // SAFETY: elements `j0 .. j0 + n` of the row are valid f64 (our contract).
                unsafe { gather(at, stride, 0, &mut buf[..self.n]) };
                buf[self.n..].fill(0.0);
                buf.as_ptr()
            };
        }
        ptrs
    }
}

/// [`FloatSum::push_rows`] of f64 rows at an FMA level into an untracked tile: `real` rows
/// (`rows[real..]` are ignored and read as zeros, which change no state), `len` outputs at
/// `stride`, through [`f64_rows_offset`], in pieces as the TwoSum loop takes them (rows of
/// stride 1 or 2 in place, the rest copied into `tmp`).
///
/// # Safety
/// As `push_rows`: `rows[r] + j * stride` is a valid f64 for `r < real`, `j < len`; `len`
/// at most `TILE`.
#[inline(always)]
unsafe fn push_rows_offset<S: Simd>(
    simd: S,
    t: &mut FloatTile,
    rows: [*const f64; F64_BATCH],
    real: usize,
    len: usize,
    stride: isize,
) {
    const { assert!(TILE + F64_LANES <= ANTI_ALIAS) };
    t.offset = true;
    let fresh = t.rows == 0;
    t.rows += real as u64;
    if t.seg_rows + F64_BATCH as u64 > OFFSET_SEG_ROWS {
        offset_fold_tile(t, len);
    }
    let b = t.seg_rows;
    t.seg_rows += F64_BATCH as u64;
    let left = OFFSET_SEG_ROWS - t.seg_rows;
    let one = std::hint::black_box(1.0);
    let mut j0 = 0;
    while j0 < len {
        let piece = Piece::next::<S, GATHER_OFFSET>(stride, len - j0);
        // SAFETY: rows `r < real` are valid at outputs `j0 .. len` (our contract).
        let ptrs =
            unsafe { piece.rows::<F64_BATCH, GATHER_OFFSET>(&mut t.tmp, rows, real, j0, stride) };
        let Piece {
            direct2,
            narrow,
            n,
            padded,
            ..
        } = piece;
        let st = OffsetRows {
            off: &mut t.off[j0..],
            lo: &mut t.lo[j0..],
            mag: &mut t.sq[j0..],
            hi: &mut t.hi[j0..],
            err: &mut t.err[j0..],
            b,
            left,
            fresh,
        };
        // SAFETY: `ptrs[r]` is `padded` valid f64 (at stride 2 with the ones between and
        // after): the row's own, the copy just made, or `ZERO_ROWS` (long enough for any
        // piece); outputs `j0 .. j0 + padded` lie in the tile's arrays (`j0 + padded <=
        // TILE + F64_LANES <= ANTI_ALIAS`).
        unsafe {
            if direct2 {
                f64_rows_offset::<S, 2, false>(simd, st, ptrs, padded, one)
            } else if narrow {
                f64_rows_offset::<S, 1, true>(simd, st, ptrs, padded, one)
            } else {
                f64_rows_offset::<S, 1, false>(simd, st, ptrs, padded, one)
            }
        };
        j0 += n;
    }
}

/// Lanes of each run in [`short_runs`]: one AVX-512 vector, two of AVX2.
const RUN_W: usize = 8;

/// Longest run, in bytes, the float sums (not the nan-variants) take in batches of `RUNS`
/// whole runs ([`short_runs`]) rather than one output's lanes at a time, whatever the array's
/// size: 256 f64; and the longest [`short_runs`] reads side by side (longer ones it reads
/// one after another). Longer f64 rows read from memory lost to the lanes, which read one
/// row at a time as `walk::STREAMS` quarters: one Zen 4 thread, copies of each array in turn
/// (from memory), over axis 1, (8192, 512) f64 took 1.51 ms in batches read side by side
/// against 1.27 on the lanes, (1000, 1000) 0.44-0.61 ms against 0.30-0.31 (hinting each
/// run's own bytes 0.5 to 4 KiB ahead instead of the next group's, or nothing, made no
/// difference); read one after another, 1.39-1.49 against 1.22-1.35 and 0.38-0.40 against
/// 0.32-0.35.
pub(crate) const RUNS_MAX_BYTES: usize = 2048;

/// [`RUNS_MAX_BYTES`] for f32: 1024 elements. Read one after another, numpy/stridewise on
/// rows of 768 f32 from memory was 0.94-0.99x against the lanes' 0.62-0.72x ((4096, 768),
/// one Zen 4 thread, copies in turn), on rows of 2048 0.94x against 1.00x ((2000, 2048)).
pub(crate) const RUNS_MAX_BYTES_F32: usize = 4096;

/// Longest run, in bytes, batched when the whole reduction is at most [`RUNS_HOT_BYTES`]
/// (likely in cache, where the lanes' per-output set-up and fold are what a row costs):
/// 2048 f64. One Zen 4 thread, the same array again and again, over axis 1: (316, 316) f64
/// 24-34 us in batches against 33-45 on the lanes (numpy 25-35), (200, 1000) 39 against 54
/// (numpy 44); from memory (copies in turn) 57-66 against 57-74 and 80 against 85-105.
pub(crate) const RUNS_MAX_BYTES_HOT: usize = 16384;

/// Bytes of a whole reduction up to which runs of up to [`RUNS_MAX_BYTES_HOT`] are batched:
/// the L2 cache of a Zen 4 or Zen 5 core. Larger arrays are more often read from memory,
/// where batches of long f64 runs lose (above).
pub(crate) const RUNS_HOT_BYTES: usize = 1 << 20;

/// The longest run, in elements of `size` bytes (4 or 8), that [`FloatSum::finish_runs`]
/// takes in a reduction of `total` elements in all.
pub(crate) fn runs_max(size: usize, total: usize) -> usize {
    if total.saturating_mul(size) <= RUNS_HOT_BYTES {
        RUNS_MAX_BYTES_HOT / size
    } else if size == 4 {
        RUNS_MAX_BYTES_F32 / size
    } else {
        RUNS_MAX_BYTES / size
    }
}

/// Runs up to which [`short_runs`] tracks each run's smallest magnitude, for the proof that
/// its `hi + lo` is exact (`proven_exact`): short sums are often exactly halfway between two
/// floats, where no positive bound decides (of f64 normals, one output in 35 of 32), and each
/// such output is otherwise read again (`dynamic::settle`). Measured on (200000 / k, k)
/// normals over axis 1, one thread, AVX-512: tracked, k = 16 to 128 took 0.85-0.95 of the
/// untracked time (f64 and f32); from 256 on it cost 5-15% more.
const RUNS_TRACKED: usize = 192;

/// `(hi, lo) += x` for vectors, TwoSum without the squares (the f32 folds).
#[inline(always)]
fn two_sum_vec<S: Simd>(simd: S, h: &mut S::f64s, l: &mut S::f64s, x: S::f64s) {
    let (s, e) = two_sum_v(simd, *h, x);
    *h = s;
    *l = simd.add_f64s(*l, e);
}

/// `RUN_W` elements of a run at element stride `C` as `N` vectors of f64 (`N *
/// S::F64_LANES == RUN_W`): f64 as they are (at stride 2, [`load_run`]'s shuffled
/// vectors), others widened (one widening conversion of the whole block).
///
/// # Safety
/// `p + i` must be a valid `T` for every `i < RUN_W * C` (at stride 2 the odd elements
/// between the run's are read too, up to the one after its last; only for f64).
#[inline(always)]
unsafe fn run_block<T: Element, S: Simd, const N: usize, const C: usize>(
    simd: S,
    p: *const T,
) -> [S::f64s; N] {
    if C == 2 {
        assert!(exact_each::<T>(), "stride-2 runs are f64's alone");
        let mut v = [simd.splat_f64s(0.0); N];
        for (k, v) in v.iter_mut().enumerate() {
            // SAFETY: vector k covers f64 k * W * 2 .. (k + 1) * W * 2 of the block, inside
            // what our contract makes valid (`T` is f64).
            *v = unsafe { load_run::<S, 2>(simd, p.cast::<f64>().add(k * S::F64_LANES * 2)) };
        }
        return v;
    }
    if const { exact_each::<T>() } {
        // SAFETY: `RUN_W` f64 (our contract) are `N` vectors of f64, read unaligned.
        return unsafe { p.cast::<[S::f64s; N]>().read_unaligned() };
    }
    // SAFETY: `RUN_W` valid `T` (our contract), read unaligned.
    let x = unsafe { p.cast::<[T; RUN_W]>().read_unaligned() };
    let mut y = [0.0f64; RUN_W];
    for j in 0..RUN_W {
        y[j] = x[j].to_f64();
    }
    as_vectors::<S, N>(&y)
}

/// The last `count` elements of a run at element stride `C` (`count < RUN_W`, or at stride
/// 2 `count <= RUN_W`) as [`run_block`] gives a block, filled up with zeros (which leave a
/// lane as it is, see [`neutral`]).
///
/// # Safety
/// `p + i * C` must be a valid `T` for every `i < count`.
#[inline(always)]
unsafe fn run_tail<T: Element, S: Simd, const N: usize, const C: usize>(
    simd: S,
    p: *const T,
    count: usize,
) -> [S::f64s; N] {
    let w = S::F64_LANES;
    if const { exact_each::<T>() } && C == 1 {
        // SAFETY: the first `count` f64 (our contract).
        let tail = unsafe { std::slice::from_raw_parts(p.cast::<f64>(), count) };
        let mut v = [simd.splat_f64s(0.0); N];
        for k in 0..N {
            v[k] = simd.partial_load_f64s(&tail[(k * w).min(count)..((k + 1) * w).min(count)]);
        }
        return v;
    }
    // Other elements widened, and f64 at stride 2, copied.
    let mut y = [0.0f64; RUN_W];
    for (j, y) in y.iter_mut().enumerate().take(count) {
        // SAFETY: element j < count (our contract).
        *y = unsafe { *p.add(j * C) }.to_f64();
    }
    as_vectors::<S, N>(&y)
}

/// `RUN_W` f64 as `N` vectors (`N * S::F64_LANES == RUN_W`, checked).
#[inline(always)]
fn as_vectors<S: Simd, const N: usize>(y: &[f64; RUN_W]) -> [S::f64s; N] {
    assert_eq!(
        std::mem::size_of::<[S::f64s; N]>(),
        std::mem::size_of::<[f64; RUN_W]>()
    );
    // SAFETY: the sizes are equal (asserted) and pulp's vectors are plain arrays of f64, for
    // which any bits are valid; read unaligned.
    unsafe {
        (y as *const [f64; RUN_W])
            .cast::<[S::f64s; N]>()
            .read_unaligned()
    }
}

/// One block's vectors `x` into run `r`'s state (see [`short_runs`]).
#[allow(clippy::too_many_arguments)]
#[inline(always)]
fn run_step<T: Element, S: Simd, const N: usize, const TRACK: bool>(
    simd: S,
    one: S::f64s,
    r: usize,
    h: &mut [S::f64s; N],
    l: &mut [S::f64s; N],
    m: &mut [S::f64s; N],
    t: &mut [S::f64s; N],
    sm: &mut [S::f64s; N],
    x: [S::f64s; N],
) {
    for k in 0..N {
        if const { exact_each::<T>() } {
            two_sum_at(simd, one, r * N + k, &mut h[k], &mut l[k], &mut m[k], x[k]);
        } else {
            t[k] = simd.add_f64s(t[k], x[k]);
            m[k] = simd.mul_add_f64s(x[k], x[k], m[k]);
        }
        if TRACK {
            // The smallest magnitude, zeros included (two operations, not four: a zero
            // element leaves the proof to `settle`, as an untracked run does). The lanes a
            // last block fills up with zeros do not count: they are not elements.
            sm[k] = simd.min_f64s(sm[k], simd.abs_f64s(x[k]));
        }
    }
}

/// [`FloatSum`]'s `finish_runs` at the FMA levels, on runs of element stride `C` (1, or 2
/// for f64): [`short_runs`] in this level's grouping. (Each level's arm chosen by `if const`,
/// so that no level compiles the others' loops.)
///
/// # Safety
/// `ptrs[r] + i * C` must be a valid `T` for every `r < RUNS` and `i < len`.
#[inline(always)]
unsafe fn runs_at_level<T: Element, S: Simd, const C: usize>(
    simd: S,
    ptrs: &[*const T; RUNS],
    next: &[*const T; RUNS],
    len: usize,
    out: &mut [FloatPartial; RUNS],
) {
    let one = std::hint::black_box(1.0);
    let track = len <= RUNS_TRACKED;
    // SAFETY: every call is forwarded this function's contract; each takes `R` of the
    // `RUNS` runs (from its first pointer on) and fills their partials.
    unsafe {
        if const { S::F64_LANES == 8 } {
            // AVX-512: four runs of one vector each, 16 of the 32 registers for the state.
            if track {
                short_runs::<T, S, 1, 4, true, C>(simd, one, ptrs, next, len, out)
            } else {
                short_runs::<T, S, 1, 4, false, C>(simd, one, ptrs, next, len, out)
            }
        } else if const { S::F64_LANES == 4 } {
            // AVX2: one run at a time (its two vectors are chains enough); two spilled
            // the 16 ymm registers.
            for h in 0..RUNS {
                let (p, o) = (&ptrs[h..], &mut out[h..]);
                if track {
                    short_runs::<T, S, 2, 1, true, C>(simd, one, p, &next[h..], len, o)
                } else {
                    short_runs::<T, S, 2, 1, false, C>(simd, one, p, &next[h..], len, o)
                }
            }
        } else if const { S::F64_LANES == 2 } {
            // NEON: two runs at a time (four vectors each).
            for h in (0..RUNS).step_by(2) {
                let (p, o) = (&ptrs[h..], &mut out[h..]);
                if track {
                    short_runs::<T, S, 4, 2, true, C>(simd, one, p, &next[h..], len, o)
                } else {
                    short_runs::<T, S, 4, 2, false, C>(simd, one, p, &next[h..], len, o)
                }
            }
        } else {
            unreachable!("no short-run loop for {}-lane vectors", S::F64_LANES)
        }
    }
}

/// The float sums' partials of `R` whole runs of `len` contiguous elements at `ptrs` (the
/// lane path's short rows, [`Kernel::finish_runs`]), into `out`: each run in `RUN_W` lanes
/// (element `i` into lane `i % RUN_W`) of `N` vectors, the `R` runs side by side, so that
/// their chains fill the pipes and every state stays in a register; f64 elements by TwoSum
/// each, others widened and added plainly `FOLD_ROWS` blocks between folds, as the lanes
/// do. The lanes then combine as [`FloatPartial::combine`] does (their bound in `err`), all
/// `R` runs in one pass over lane-major arrays. With `TRACK`, each run's smallest nonzero
/// magnitude proves its `hi + lo` exact where it can ([`proven_exact`]). The lane path set
/// up, fed and folded sixteen lanes of arrays per output: rows of 32 to 512 f64 took
/// 0.5-0.8x numpy on one thread.
///
/// `C`: the runs' element stride, 1, or 2 for f64 (`a[:, ::2]`): a block is then read as
/// the vectors that hold it and shuffled ([`load_run`]), so it reads the element after its
/// last too; the run's last element is always left to the last block, which is copied.
///
/// # Safety
/// `ptrs[r] + i * C` must be a valid `T` for every `r < R` and `i < len`.
#[inline(always)]
unsafe fn short_runs<
    T: Element,
    S: Simd,
    const N: usize,
    const R: usize,
    const TRACK: bool,
    const C: usize,
>(
    simd: S,
    one: f64,
    ptrs: &[*const T],
    next: &[*const T],
    len: usize,
    out: &mut [FloatPartial],
) {
    assert!(N * S::F64_LANES == RUN_W && ptrs.len() >= R && next.len() >= R && out.len() >= R);
    let one = simd.splat_f64s(one);
    let (zero, inf) = (simd.splat_f64s(0.0), simd.splat_f64s(f64::INFINITY));
    let mut h = [[zero; N]; R];
    let mut l = [[zero; N]; R];
    let mut m = [[zero; N]; R];
    let mut t = [[zero; N]; R];
    let mut sm = [[inf; N]; R];
    // (A plain assert, folded away: f32 instances at stride 2 are compiled, never called.)
    assert!(C == 1 || (C == 2 && exact_each::<T>()));
    // Whole blocks: at stride 2 never the one with the run's last element (`rest` is then
    // 1 ..= RUN_W).
    let full = if C == 2 {
        len.saturating_sub(1) / RUN_W
    } else {
        len / RUN_W
    };
    let rest = len - full * RUN_W;
    // Whole blocks, `FOLD_ROWS` at a time between the widened elements' folds (all at once
    // for f64), then the last, partial one.
    let fold_end = |b0: usize| {
        if exact_each::<T>() {
            full
        } else {
            (b0 + FOLD_ROWS).min(full)
        }
    };
    // Runs at stride 2 too, at any length: side by side from memory, AVX-512 lost to the
    // lanes ((1000, 128) f64 `[:, ::2]` over axis 1, one Zen 4 thread: 0.48x numpy against
    // their 0.81x; in order 1.09x), and in order won in cache as well ((100, 100) 1.26x).
    let long = C == 2 || len * std::mem::size_of::<T>() > RUNS_MAX_BYTES;
    if long {
        // Long runs (in a small array, or f32 up to 4 KiB, `runs_max`) one after another,
        // each read in order, without hints: read side by side, four long runs from memory
        // lost to the lanes (one Zen 4 thread, (1000, 1000) f64 from memory 0.44-0.61 ms
        // against 0.30-0.31), while AVX2, which takes one run at a time anyway (`R` = 1),
        // was level with them. With each run's bytes hinted 1 KiB ahead they were slower
        // still (numpy/stridewise from memory, same runs: (1000, 1000) f64 0.76-0.78x
        // against 0.87-0.91x unhinted, (8192, 512) 0.76-0.77x against 0.90-0.91x, (4096,
        // 768) f32 0.87-0.88x against 0.94-0.99x); reading each run as four streams side by
        // side, as the lanes read rows of 64 KiB and more, 0.28-0.43x. (A loop of its own,
        // not the loop below over a range of runs: with the runs a range rather than the
        // constant 0..R, the states were indexed at run time and left in memory, and
        // 316x316 f64 took 6x as long.)
        for r in 0..R {
            let mut b0 = 0;
            while b0 < full {
                let end = fold_end(b0);
                for b in b0..end {
                    let p = ptrs[r].wrapping_add(b * RUN_W * C);
                    // SAFETY: elements `b * RUN_W ..` of run r, a whole block (b < full).
                    let x = unsafe { run_block::<T, S, N, C>(simd, p) };
                    let (hr, lr, mr, tr, sr) =
                        (&mut h[r], &mut l[r], &mut m[r], &mut t[r], &mut sm[r]);
                    run_step::<T, S, N, TRACK>(simd, one, r, hr, lr, mr, tr, sr, x);
                }
                if const { !exact_each::<T>() } {
                    for k in 0..N {
                        two_sum_vec(simd, &mut h[r][k], &mut l[r][k], t[r][k]);
                        t[r][k] = zero;
                    }
                }
                b0 = end;
            }
        }
    }
    // (Long runs are done: no whole block left to the side-by-side loop.)
    let mut b0 = if long { full } else { 0 };
    while b0 < full {
        let end = fold_end(b0);
        for b in b0..end {
            for r in 0..R {
                let p = ptrs[r].wrapping_add(b * RUN_W * C);
                // The next group's bytes in order from its first run, a line for each block
                // of each run read here: all of it when the runs are a C-order matrix's
                // rows, side by side (elsewhere a hint wasted). One thread, Zen 4, (16384,
                // 128) f64 over axis 1 from memory (four such arrays in turn): 0.75-1.0 ms
                // so, 1.7 ms with each run's next block hinted, 2.1 ms without hints, the
                // lanes 1.1 ms, numpy 0.67-0.82; in L3 (one array) 0.64-0.66, 0.95-1.3,
                // 0.83-0.94, 1.1, numpy 0.62-0.63.
                // (Stride 1 only: runs at stride 2 are all `long`.)
                hint(next[0].cast::<u8>().wrapping_add((b * R + r) * 64));
                // SAFETY: elements `b * RUN_W ..` of run r, a whole block (b < full).
                let x = unsafe { run_block::<T, S, N, C>(simd, p) };
                let (hr, lr, mr, tr, sr) = (&mut h[r], &mut l[r], &mut m[r], &mut t[r], &mut sm[r]);
                run_step::<T, S, N, TRACK>(simd, one, r, hr, lr, mr, tr, sr, x);
            }
        }
        if const { !exact_each::<T>() } {
            fold(simd, &mut h, &mut l, &mut t);
        }
        b0 = end;
    }
    if rest > 0 {
        for r in 0..R {
            // SAFETY: the run's last `rest` elements.
            let p = ptrs[r].wrapping_add(full * RUN_W * C);
            // SAFETY: as above.
            let x = unsafe { run_tail::<T, S, N, C>(simd, p, rest) };
            let (hr, lr, mr, tr, sr) = (&mut h[r], &mut l[r], &mut m[r], &mut t[r], &mut sm[r]);
            // (Not tracked: the zeros filling the block are no elements.)
            run_step::<T, S, N, false>(simd, one, r, hr, lr, mr, tr, sr, x);
            if TRACK {
                let mut small = f64::INFINITY;
                for j in 0..rest {
                    // SAFETY: as above.
                    small = small.min(unsafe { *p.add(j * C) }.to_f64().abs());
                }
                sr[0] = simd.min_f64s(sr[0], simd.splat_f64s(small));
            }
        }
        if const { !exact_each::<T>() } {
            fold(simd, &mut h, &mut l, &mut t);
        }
    }
    /// The widened elements' plain sums `t` into (hi, lo).
    #[inline(always)]
    fn fold<S: Simd, const N: usize, const R: usize>(
        simd: S,
        h: &mut [[S::f64s; N]; R],
        l: &mut [[S::f64s; N]; R],
        t: &mut [[S::f64s; N]; R],
    ) {
        for r in 0..R {
            for k in 0..N {
                two_sum_vec(simd, &mut h[r][k], &mut l[r][k], t[r][k]);
                t[r][k] = simd.splat_f64s(0.0);
            }
        }
    }
    let blocks = full + usize::from(rest > 0);
    // The lanes combined as `FloatPartial::combine` does (`RunLanes::combine`), in a tree
    // whose levels take pairs of lanes of several runs at once (`pair_lanes`); then lane 2r
    // (AVX-512; AVX2 takes one run, lane 0) holds run r's totals.
    let q: [[RunLanes<S::f64s>; N]; R] = {
        let mut q = [[RunLanes {
            h: zero,
            l: zero,
            e: zero,
            m: zero,
            s: zero,
        }; N]; R];
        for r in 0..R {
            for k in 0..N {
                q[r][k] = RunLanes {
                    h: h[r][k],
                    l: l[r][k],
                    e: zero,
                    m: m[r][k],
                    s: sm[r][k],
                };
            }
        }
        q
    };
    let mut total = [[f64::NAN; 5]; R];
    if const { S::F64_LANES == 8 && N == 1 && R == 4 } {
        // Lanes j and j + 4 of runs 0 and 1 (2 and 3) side by side in one vector, then
        // j and j + 2 of all four, then j and j + 1.
        let c01 = RunLanes::pair::<S, 1>(simd, q[0][0], q[1][0]);
        let c23 = RunLanes::pair::<S, 1>(simd, q[2][0], q[3][0]);
        let d = RunLanes::pair::<S, 2>(simd, c01, c23);
        let e = RunLanes::pair::<S, 3>(simd, d, d);
        let lanes = e.to_arrays::<S>();
        for r in 0..R {
            total[r] = lanes.map(|a| a[2 * r]);
        }
    } else if const { S::F64_LANES == 4 && N == 2 && R == 1 } {
        // Lanes j and j + 4 are vectors 0 and 1; then j and j + 2, then j and j + 1.
        let c = q[0][0].combine(simd, q[0][1]);
        let d = RunLanes::pair::<S, 2>(simd, c, c);
        let e = RunLanes::pair::<S, 3>(simd, d, d);
        total[0] = e.to_arrays::<S>().map(|a| a[0]);
    } else {
        // (NEON.) Each run's lanes as arrays, combined in `halve`'s order.
        for r in 0..R {
            let mut v = [[0.0f64; 5]; RUN_W];
            for k in 0..N {
                let a = q[r][k].to_arrays::<S>();
                for i in 0..S::F64_LANES {
                    v[k * S::F64_LANES + i] = a.map(|a| a[i]);
                }
            }
            let mut w = RUN_W / 2;
            while w > 0 {
                for j in 0..w {
                    v[j] = RunLanes::<f64>::combine_scalar(v[j], v[j + w]);
                }
                w /= 2;
            }
            total[r] = v[0];
        }
    }
    for r in 0..R {
        let [hi, lo, e, sq, small] = total[r];
        let err = e + lane_bound::<T>(blocks as u64, u64::MAX, RUN_W, sq);
        out[r] = FloatPartial {
            hi,
            lo,
            n: 0,
            err: if TRACK {
                proven_exact(err, grid::<T>(small))
            } else {
                err
            },
        };
    }
}

/// The lanes of [`short_runs`] as vectors: (hi, lo) pairs, their combinations' bound `e`,
/// the sums of squares `m` and the smallest magnitudes `s`.
#[derive(Clone, Copy)]
struct RunLanes<V> {
    h: V,
    l: V,
    e: V,
    m: V,
    s: V,
}

impl<V: Copy> RunLanes<V> {
    /// Each lane combined with the same lane of `b` as [`FloatPartial::combine`] combines
    /// two partials (without its shortcut for zeros, which changes no bound's validity).
    #[inline(always)]
    fn combine<S: Simd<f64s = V>>(self, simd: S, b: Self) -> Self {
        let zero = simd.splat_f64s(0.0);
        let (s, e) = two_sum_v(simd, self.h, b.h);
        let t = simd.add_f64s(self.l, b.l);
        let lo = simd.add_f64s(t, e);
        let r = simd.mul_f64s(
            simd.splat_f64s(TWO_U),
            simd.add_f64s(simd.abs_f64s(t), simd.abs_f64s(lo)),
        );
        // `max(r, 0)` as `combine` takes it: a NaN `r` (an infinite element's NaN `lo`)
        // counts as 0, the bounds carry those.
        let r = simd.select_f64s(simd.greater_than_f64s(r, zero), r, zero);
        Self {
            h: s,
            l: lo,
            e: simd.add_f64s(simd.add_f64s(self.e, b.e), r),
            m: simd.add_f64s(self.m, b.m),
            s: simd.min_f64s(self.s, b.s),
        }
    }

    /// [`Self::combine`] of one lane each: `[h, l, e, m, s]`.
    #[inline(always)]
    fn combine_scalar(a: [f64; 5], b: [f64; 5]) -> [f64; 5] {
        let (s, e) = two_sum(a[0], b[0]);
        let t = a[1] + b[1];
        let lo = t + e;
        [
            s,
            lo,
            a[2] + b[2] + (TWO_U * (t.abs() + lo.abs())).max(0.0),
            a[3] + b[3],
            a[4].min(b[4]),
        ]
    }

    /// Each quantity's lanes as an array (`S::F64_LANES` of them used).
    #[inline(always)]
    fn to_arrays<S: Simd<f64s = V>>(self) -> [[f64; RUN_W]; 5] {
        let mut out = [[0.0; RUN_W]; 5];
        for (o, v) in out.iter_mut().zip([self.h, self.l, self.e, self.m, self.s]) {
            let (ov, _) = S::as_mut_simd_f64s(o);
            ov[0] = v;
        }
        out
    }

    /// One level of the tree over two vectors of lanes (`pair_lanes`), combined.
    #[inline(always)]
    fn pair<S: Simd<f64s = V>, const STEP: u8>(simd: S, a: Self, b: Self) -> Self {
        // (Calls, not a closure: a closure does not inherit the level's target features.)
        let h = pair_lanes::<S, STEP>(simd, a.h, b.h);
        let l = pair_lanes::<S, STEP>(simd, a.l, b.l);
        let e = pair_lanes::<S, STEP>(simd, a.e, b.e);
        let m = pair_lanes::<S, STEP>(simd, a.m, b.m);
        let s = pair_lanes::<S, STEP>(simd, a.s, b.s);
        let first = Self {
            h: h.0,
            l: l.0,
            e: e.0,
            m: m.0,
            s: s.0,
        };
        let second = Self {
            h: h.1,
            l: l.1,
            e: e.1,
            m: m.1,
            s: s.1,
        };
        first.combine(simd, second)
    }
}

/// The two halves one level of [`short_runs`]' tree combines, lane by lane:
/// - AVX-512, `STEP` 1: `a` and `b` one run each; lanes 0-3 of both, then lanes 4-7 of both.
/// - AVX-512, `STEP` 2: `a` and `b` two runs of four lanes each; lanes 0-1 of all four
///   runs, then lanes 2-3. AVX2: `a` and `b` the same run's four lanes (both halves
///   twice over).
/// - `STEP` 3: `a` pairs of lanes; the first of each pair, then the second (each twice).
#[inline(always)]
fn pair_lanes<S: Simd, const STEP: u8>(simd: S, a: S::f64s, b: S::f64s) -> (S::f64s, S::f64s) {
    #[cfg(target_arch = "x86_64")]
    {
        use pulp::{cast, f64x4, f64x8};
        if let Some((v4, a, b)) = at_v4(simd, a, b) {
            let f = v4.avx512f;
            let (x, y) = match STEP {
                1 => (
                    f._mm512_shuffle_f64x2::<0b01_00_01_00>(cast(a), cast(b)),
                    f._mm512_shuffle_f64x2::<0b11_10_11_10>(cast(a), cast(b)),
                ),
                2 => (
                    f._mm512_shuffle_f64x2::<0b10_00_10_00>(cast(a), cast(b)),
                    f._mm512_shuffle_f64x2::<0b11_01_11_01>(cast(a), cast(b)),
                ),
                _ => (
                    f._mm512_unpacklo_pd(cast(a), cast(a)),
                    f._mm512_unpackhi_pd(cast(a), cast(a)),
                ),
            };
            let (x, y): (f64x8, f64x8) = (cast(x), cast(y));
            return (same(x).expect("V4's f64s"), same(y).expect("V4's f64s"));
        }
        if let Some((v3, a, b)) = at_v3(simd, a, b) {
            let f = v3.avx;
            let (x, y) = match STEP {
                2 => (
                    f._mm256_permute2f128_pd::<0x20>(cast(a), cast(b)),
                    f._mm256_permute2f128_pd::<0x31>(cast(a), cast(b)),
                ),
                _ => (
                    f._mm256_unpacklo_pd(cast(a), cast(a)),
                    f._mm256_unpackhi_pd(cast(a), cast(a)),
                ),
            };
            let (x, y): (f64x4, f64x4) = (cast(x), cast(y));
            return (same(x).expect("V3's f64s"), same(y).expect("V3's f64s"));
        }
    }
    // (Elsewhere the arguments are unused: no caller reaches this.)
    let _ = (simd, a, b);
    unreachable!("pair_lanes: AVX-512 and AVX2 only ({} lanes)", S::F64_LANES)
}

impl<T: Element, P: NanPolicy> Kernel<T> for FloatSum<T, P> {
    type Lanes = FloatLanes;
    type Tile = Box<FloatTile>;
    type Partial = FloatPartial;

    #[inline(always)]
    fn lanes(&self) -> FloatLanes {
        FloatLanes {
            tmp: [0.0; LANES],
            hi: [0.0; LANES],
            lo: [0.0; LANES],
            n: [0; LANES],
            sq: [0.0; LANES],
            err: [0.0; LANES],
            sigma: 0.0,
            fed: 0,
            rows: 0,
        }
    }

    #[inline(always)]
    unsafe fn feed<S: Simd>(
        &self,
        _simd: S,
        lanes: &mut FloatLanes,
        ptr: *const T,
        len: usize,
        stride: isize,
    ) {
        // Element i of a run goes to lane i % lanes.
        lanes.fed += len.div_ceil(RUN_LANES) as u64;
        if const { has_fma::<S>() } {
            let one = std::hint::black_box(1.0);
            if const { exact_each::<T>() && !P::IGNORE } {
                // Stride 2 is read in place (whole vectors, shuffled: see `load_run`).
                // Another strided run is copied a piece at a time (whole blocks, so element
                // `i` still goes to lane `i % F64_LANES`) and added with the contiguous
                // loop: the lane arrays' scalar code ran `a[:, ::2].mean(axis=1)` of
                // 316x316 at 0.74x numpy. The piece is on the stack.
                if stride == 2 {
                    // SAFETY: forwarded from this function's contract (`T` is f64).
                    unsafe { f64_blocks::<S, 2>(_simd, lanes, ptr.cast::<f64>(), len, one, true) };
                    return;
                }
                let mut buf = [MaybeUninit::<f64>::uninit(); GATHER];
                let mut done = 0;
                while done < len {
                    let at = ptr.cast::<f64>().wrapping_offset(done as isize * stride);
                    let (piece, n) = if stride == 1 {
                        (at, len)
                    } else {
                        let n = GATHER.min(len - done);
                        // SAFETY: run elements `done .. done + n` are valid f64 (our
                        // contract; `T` is f64).
                        (
                            unsafe { gather_ahead(at, stride, &mut buf[..n]) }.as_ptr(),
                            n,
                        )
                    };
                    // SAFETY: `piece` is `n` consecutive valid f64: the run itself (stride 1)
                    // or the copy just made.
                    unsafe { f64_blocks::<S, 1>(_simd, lanes, piece, n, one, stride == 1) };
                    done += n;
                }
                return;
            }
            if const { !exact_each::<T>() && !P::IGNORE } && stride == 1 {
                // SAFETY: forwarded from this function's contract, stride 1.
                unsafe {
                    widened_blocks::<T, 1>(
                        lanes,
                        ptr,
                        len,
                        #[inline(always)]
                        |x, s| x.mul_add(x, s),
                    )
                };
                return;
            }
            if const { !exact_each::<T>() && !P::IGNORE && std::mem::size_of::<T>() == 4 }
                && stride == 2
            {
                // SAFETY: forwarded from this function's contract, stride 2.
                unsafe {
                    widened_blocks::<T, 2>(
                        lanes,
                        ptr,
                        len,
                        #[inline(always)]
                        |x, s| x.mul_add(x, s),
                    )
                };
                return;
            }
            // SAFETY: forwarded from this function's contract (the rest of the same run).
            unsafe {
                feed_with::<T, P>(
                    lanes,
                    ptr,
                    len,
                    stride,
                    move |a, b| two_sum_fma(a, b, one),
                    // One FMA (a library call where there is no FMA).
                    #[inline(always)]
                    |x, s| x.mul_add(x, s),
                )
            }
        } else {
            // SAFETY: forwarded from this function's contract.
            unsafe {
                feed_with::<T, P>(
                    lanes,
                    ptr,
                    len,
                    stride,
                    two_sum,
                    #[inline(always)]
                    |x, s| s + x * x,
                )
            }
        }
    }

    #[inline(always)]
    fn finish<S: Simd>(&self, _simd: S, mut lanes: FloatLanes) -> FloatPartial {
        if const { !exact_each::<T>() } {
            lanes.fold(); // (f64 lanes never use `tmp`.)
        }
        // The lanes' partials combined by `FloatPartial::combine` in `tree`'s pairwise order,
        // on the arrays themselves so that the first levels are vector operations (this is
        // once per output: short rows pay it often).
        let FloatLanes {
            mut hi,
            mut lo,
            mut n,
            mut sq,
            err,
            fed,
            ..
        } = lanes;
        // The offset loop (f64 elements, not nan-skipping, at a level with FMA) fed every
        // lane and bounded its error in `err`; the other loops leave `err` zero and bound
        // theirs from the squares (`lane_bound`).
        let offset = const { exact_each::<T>() && !P::IGNORE && has_fma::<S>() };
        // The combinations' roundings in `err`, the squares summed alongside (a loop over
        // the 32 lanes was one dependent chain: 40 ns an output).
        let mut err = err;
        // Each level's width is a constant, so that its loop is a few vector operations
        // (a `while` over the widths left them scalar: a fifth of a 100-element f32 row).
        if const { !exact_each::<T>() } {
            halve::<16>(&mut hi, &mut lo, &mut n, &mut err, &mut sq);
        }
        halve::<8>(&mut hi, &mut lo, &mut n, &mut err, &mut sq);
        halve::<4>(&mut hi, &mut lo, &mut n, &mut err, &mut sq);
        halve::<2>(&mut hi, &mut lo, &mut n, &mut err, &mut sq);
        halve::<1>(&mut hi, &mut lo, &mut n, &mut err, &mut sq);
        FloatPartial {
            hi: hi[0],
            lo: lo[0],
            n: n[0],
            err: if offset {
                err[0]
            } else {
                err[0] + lane_bound::<T>(fed, u64::MAX, RUN_LANES, sq[0])
            },
        }
    }

    #[inline(always)]
    fn batches_runs(&self, len: usize, stride: isize, total: usize) -> bool {
        // Runs at stride 2 (`a[:, ::2].sum(axis=1)`) of f64 only: their blocks are whole
        // vectors shuffled (`load_run`); through the lanes, rows of 100 and 316 such f64 took
        // 0.78-0.79x numpy's time in cache (one Zen 4 thread, AVX-512).
        let form = match stride {
            1 => true,
            2 => const { exact_each::<T>() },
            _ => false,
        };
        (const { !P::IGNORE && T::IS_FLOAT && matches!(std::mem::size_of::<T>(), 4 | 8) })
            && form
            && len <= runs_max(std::mem::size_of::<T>(), total)
    }

    #[inline(always)]
    unsafe fn finish_runs<S: Simd>(
        &self,
        simd: S,
        ptrs: [*const T; RUNS],
        next: [*const T; RUNS],
        len: usize,
        stride: isize,
    ) -> [FloatPartial; RUNS] {
        if const { !has_fma::<S>() } {
            // SAFETY: forwarded from this function's contract.
            return unsafe { super::finish_each(self, simd, ptrs, len, stride) };
        }
        let mut out = [FloatPartial::EMPTY; RUNS];
        // SAFETY: forwarded from this function's contract, with the stride it was given (2
        // only for f64, `batches_runs`; the f32 loops never see it).
        unsafe {
            if const { exact_each::<T>() } && stride == 2 {
                runs_at_level::<T, S, 2>(simd, &ptrs, &next, len, &mut out)
            } else {
                runs_at_level::<T, S, 1>(simd, &ptrs, &next, len, &mut out)
            }
        }
        out
    }

    /// Short rows of many outputs go vertical up to 48 f64 or f32 (see
    /// [`super::F64_SUM_SHORT_REDUCTION`]); the nan-variants keep the common limit.
    const SHORT_REDUCTION: usize = if P::IGNORE || !T::IS_FLOAT {
        super::SHORT_REDUCTION
    } else if std::mem::size_of::<T>() == 8 {
        super::F64_SUM_SHORT_REDUCTION
    } else {
        super::F32_SUM_SHORT_REDUCTION
    };

    /// Every result is the correctly rounded one, whatever the partials (`settle`).
    const GROUPING_FREE: bool = true;

    /// Eight rows for the f64 sums' offset loop ([`F64_BATCH`]) and the widened (f32) sums'
    /// untracked contiguous rows (`push_rows`); four for the f64 nan-sums.
    const BATCH: usize = if !exact_each::<T>() || !P::IGNORE {
        F64_BATCH
    } else {
        ROWS
    };

    #[inline(always)]
    fn combine(&self, a: FloatPartial, b: FloatPartial) -> FloatPartial {
        a.combine(b)
    }

    fn tile(&self) -> Box<FloatTile> {
        // SAFETY: every field of `FloatTile` is an array of f64 or u64, or a u64, for which
        // all-zero bits are 0.0 and 0.
        let mut t = unsafe { super::zeroed_tile::<FloatTile>() };
        t.small.fill(f64::INFINITY);
        t.track = true;
        t
    }

    fn tile_for_rows(&self, rows: usize) -> Box<FloatTile> {
        if Self::tracks(rows) {
            return self.tile();
        }
        // SAFETY: as in `tile`. Untracked, `small` stays unread (`seal`): not filled.
        unsafe { super::zeroed_tile::<FloatTile>() }
    }

    fn tile_for(&self, rows: usize, len: usize) -> Box<FloatTile> {
        let Some(mut t) = SPARE_TILES.with(|s| s.borrow_mut().pop()) else {
            return self.tile_for_rows(rows);
        };
        // A finished unit's tile: its first `len` outputs made as `tile_for_rows` makes
        // them, the only ones this unit reads (`push_rows` may write a few past `len`, in
        // padded blocks, and never reads them back for an output; `tmp` past `len` is
        // scratch). A fresh tile was zeroed whole, 50 KB, most of a 100x100 axis-0 mean's
        // time beyond its rows.
        let track = Self::tracks(rows);
        let u = &mut *t;
        for a in [&mut u.tmp, &mut u.hi, &mut u.lo, &mut u.sq] {
            a[..len].fill(0.0);
        }
        u.n[..len].fill(0);
        if track {
            u.small[..len].fill(f64::INFINITY);
        }
        if const { exact_each::<T>() && !P::IGNORE } && !track {
            // The offset loop's state, and the outputs of a padded last block past `len`
            // (which it adds zeros into: they must start at zero, or their stale check would
            // send every batch to `offset_rows_redo`).
            let end = (len + F64_LANES).min(ANTI_ALIAS);
            for a in [&mut u.off, &mut u.err, &mut u.lo, &mut u.sq] {
                a[..end].fill(0.0);
            }
        }
        u.rows = 0;
        u.seg_rows = 0;
        u.track = track;
        u.offset = false;
        t
    }

    fn recycle(&self, tile: Box<FloatTile>) {
        SPARE_TILES.with(|s| {
            let mut s = s.borrow_mut();
            if s.len() < SPARE_TILES_MAX {
                s.push(tile);
            }
        });
    }

    #[inline(always)]
    unsafe fn push_row(&self, tile: &mut Box<FloatTile>, ptr: *const T, len: usize, stride: isize) {
        let t = &mut **tile;
        let (tmp, hi, lo, n, sq, small) = (
            &mut t.tmp[..len],
            &mut t.hi[..len],
            &mut t.lo[..len],
            &mut t.n[..len],
            &mut t.sq[..len],
            &mut t.small[..len],
        );
        // SAFETY: forwarded from this function's contract.
        unsafe {
            for_each_in_row(
                ptr,
                len,
                stride,
                #[inline(always)]
                |j, x| {
                    let (x, v) = filtered::<T, P>(x);
                    n[j] += v;
                    sq[j] += x * x;
                    small[j] = smaller_magnitude(small[j], x);
                    if const { exact_each::<T>() } {
                        let (s, e) = two_sum(hi[j], x);
                        hi[j] = s;
                        lo[j] += e;
                    } else {
                        tmp[j] += x;
                    }
                },
            )
        }
    }

    #[inline(always)]
    fn batches_rows(&self, stride: isize) -> bool {
        // f64 sums copy strided rows into contiguous pieces (at the FMA levels), the others
        // rows of outputs at most `SHORT_STRIDE` apart (see `push_rows`).
        stride == 1
            || stride == 2
            || const { exact_each::<T>() && !P::IGNORE }
            || (1..=SHORT_STRIDE).contains(&stride)
    }

    #[inline(always)]
    unsafe fn push_rows<S: Simd>(
        &self,
        simd: S,
        tile: &mut Box<FloatTile>,
        rows: &[*const T],
        len: usize,
        stride: isize,
    ) {
        if const { exact_each::<T>() && !P::IGNORE && has_fma::<S>() } && !tile.track && len > 0 {
            let mut ptrs = [ZERO_ROWS.as_ptr(); F64_BATCH];
            for (slot, &p) in ptrs.iter_mut().zip(rows) {
                *slot = p.cast();
            }
            // SAFETY: forwarded from this function's contract (`rows.len() <= BATCH ==
            // F64_BATCH` for f64, the driver's batches); `T` is f64 (`exact_each`).
            unsafe { push_rows_offset(simd, tile, ptrs, rows.len(), len, stride) };
            return;
        }
        if const { !exact_each::<T>() && has_fma::<S>() }
            && !tile.track
            && stride == 1
            && rows.len() == F64_BATCH
            && len > 0
        {
            // Widened elements, untracked, contiguous: the eight rows in one pass, each
            // output's sum and square loaded and stored once for them (the same additions in
            // the same order as two passes of four, as `flush` comes every `FLUSH_ROWS`).
            tile.rows += F64_BATCH as u64;
            let rows: [*const T; F64_BATCH] = std::array::from_fn(|r| rows[r]);
            // SAFETY: forwarded from this function's contract, at stride 1.
            unsafe { self.push_rows_tracking::<1, false, true, F64_BATCH>(tile, rows, len) };
            return;
        }
        // The other loops take at most `ROWS` rows a call: a batch of eight (`BATCH`) as
        // two, each output's rows still in order.
        for rows in rows.chunks(ROWS) {
            // SAFETY: forwarded from this function's contract.
            unsafe { self.push_rows_four(simd, tile, rows, len, stride) };
        }
    }

    #[inline(always)]
    fn flush(&self, tile: &mut Box<FloatTile>, len: usize) {
        if const { exact_each::<T>() } {
            return; // f64 rows went straight into (hi, lo); `tmp` is all zero.
        }
        let t = &mut **tile;
        for j in 0..len {
            let (s, e) = two_sum(t.hi[j], t.tmp[j]);
            t.hi[j] = s;
            t.lo[j] += e;
            t.tmp[j] = 0.0;
        }
    }

    #[inline(always)]
    fn seal(&self, tile: &mut Box<FloatTile>, len: usize) {
        // Each output's bound, proven zero where it can be (`proven_exact`), into `tmp`
        // (zero after the last flush for widened elements, a scratch copy for f64): one loop
        // over the arrays, vector code, rather than a scalar bound per `tile_partial` call (a
        // fifth of a (4, 100000) axis-0 sum's time).
        let t = &mut **tile;
        if t.offset {
            offset_fold_tile(t, len);
            t.tmp[..len].copy_from_slice(&t.err[..len]);
            return;
        }
        let (rows, track) = (t.rows, t.track);
        // (Only f64 sums renormalise.)
        let seg = if const { exact_each::<T>() } {
            SEGMENT
        } else {
            u64::MAX
        };
        let (err, sq, small) = (&mut t.tmp[..len], &t.sq[..len], &t.small[..len]);
        if !track {
            for (e, &q) in err.iter_mut().zip(sq) {
                *e = lane_bound::<T>(rows, seg, 1, q);
            }
            return;
        }
        for ((e, &q), &m) in err.iter_mut().zip(sq).zip(small) {
            *e = proven_exact(lane_bound::<T>(rows, seg, 1, q), grid::<T>(m));
        }
    }

    #[inline(always)]
    fn tile_partial(&self, tile: &Box<FloatTile>, j: usize) -> FloatPartial {
        FloatPartial {
            hi: tile.hi[j],
            lo: tile.lo[j],
            n: tile.n[j],
            err: tile.tmp[j], // (`seal`)
        }
    }
}

impl<T: Element, P: NanPolicy> FloatSum<T, P> {
    /// [`Kernel::push_rows`] of at most `ROWS` rows, by the loops other than the offset
    /// loop.
    ///
    /// # Safety
    /// As `Kernel::push_rows`, with `rows.len() <= ROWS`.
    #[inline(always)]
    unsafe fn push_rows_four<S: Simd>(
        &self,
        simd: S,
        tile: &mut Box<FloatTile>,
        rows: &[*const T],
        len: usize,
        stride: isize,
    ) {
        let before = tile.rows;
        tile.rows += rows.len() as u64;
        if const { exact_each::<T>() } && before / RENORM_ROWS != tile.rows / RENORM_ROWS {
            // Before the rows that reach a multiple of RENORM_ROWS: at most `SEGMENT` rows
            // between two renormalisations (see `lane_bound`).
            renormalize(&mut tile.hi[..len], &mut tile.lo[..len]);
        }
        let special = self.batches_rows(stride) && rows.len() == ROWS;
        if !special || len == 0 {
            for &p in rows {
                // SAFETY: forwarded from this function's contract.
                unsafe { self.push_row(tile, p, len, stride) };
            }
            return;
        }
        let rows: [*const T; ROWS] = std::array::from_fn(|r| rows[r]);
        if const { exact_each::<T>() && !P::IGNORE && has_fma::<S>() } {
            let one = std::hint::black_box(1.0);
            let t = &mut **tile;
            let track = t.track;
            // Pieces of outputs, each added with the vector loop: rows of stride 1 or 2 in
            // place, as long as whole blocks of `F64_LANES` outputs last (at stride 2, all
            // but the last output: a block reads the element after its last, see
            // `f64_rows`); other strides and the last outputs copied `GATHER` at a time into
            // the tile's `tmp` (unused by f64 sums) and filled up with +0.0 to whole blocks,
            // whose extra outputs (below `ANTI_ALIAS`, past `len`) are never read. The
            // scalar loops ran `a[:, ::2].mean(axis=0)` of 316x316 at 0.46x numpy; copied
            // (no stride-2 loop), 1000x1000 took 0.70x numpy at AVX2 (Xeon, one thread).
            const { assert!(ROWS * GATHER <= ANTI_ALIAS && TILE + F64_LANES <= ANTI_ALIAS) };
            let mut j0 = 0;
            while j0 < len {
                // The last outputs, fewer than a block, as whole vectors where they fill one.
                let piece = Piece::next::<S, GATHER>(stride, len - j0);
                let mut rows64 = [std::ptr::null::<f64>(); ROWS];
                for (p, &row) in rows64.iter_mut().zip(&rows) {
                    *p = row.cast::<f64>();
                }
                // SAFETY: every row is valid at outputs `j0 .. len` (our contract; `T` is
                // f64).
                let ptrs =
                    unsafe { piece.rows::<ROWS, GATHER>(&mut t.tmp, rows64, ROWS, j0, stride) };
                let Piece {
                    direct2,
                    narrow,
                    n,
                    padded,
                    ..
                } = piece;
                // SAFETY: `ptrs[r]` is `padded` valid f64, the row's own (`direct` and
                // `narrow`: `n == padded` of them; `direct2`: as many at stride 2, and the row
                // goes on past the last, so the element after it is valid too) or the copy
                // just made;
                // outputs `j0 .. j0 + padded` are in the tile (`j0 + padded <= TILE +
                // F64_LANES`).
                unsafe {
                    let (h, l) = (&mut t.hi[j0..], &mut t.lo[j0..]);
                    let (q, m) = (&mut t.sq[j0..], &mut t.small[j0..]);
                    if direct2 {
                        f64_rows::<S, 2, false>(simd, h, l, q, m, ptrs, padded, one, track)
                    } else if narrow {
                        f64_rows::<S, 1, true>(simd, h, l, q, m, ptrs, padded, one, track)
                    } else {
                        f64_rows::<S, 1, false>(simd, h, l, q, m, ptrs, padded, one, track)
                    }
                };
                j0 += n;
            }
            return;
        }
        // SAFETY: forwarded from this function's contract, with the stride it was given.
        unsafe {
            match stride {
                1 => self.push_rows_strided::<S, 1>(tile, rows, len),
                2 => self.push_rows_strided::<S, 2>(tile, rows, len),
                // Rows of outputs a few elements apart (the outputs of short rows: (n, 16)
                // f32 over axis 1): each row's `len` elements copied into a contiguous piece,
                // then the stride-1 loop, which does `push_row`'s arithmetic. Row by row,
                // element by element, such rows of 16 f32 ran at 0.68x numpy.
                _ if (1..=SHORT_STRIDE).contains(&stride) => {
                    let mut buf = [[MaybeUninit::<T>::uninit(); TILE]; ROWS];
                    let mut ptrs = [std::ptr::null::<T>(); ROWS];
                    for ((slot, b), &row) in ptrs.iter_mut().zip(buf.iter_mut()).zip(&rows) {
                        // `len <= TILE` (a tile's outputs); elements 0 .. len of the row at
                        // `stride` are valid (our contract).
                        *slot = gather_near(row, stride, &mut b[..len]).as_ptr();
                    }
                    // Each `ptrs[r]` is `len` contiguous elements, copied just above.
                    self.push_rows_strided::<S, 1>(tile, ptrs, len)
                }
                _ => {
                    for p in rows {
                        self.push_row(tile, p, len, stride);
                    }
                }
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::kernels::Propagate;

    fn p(hi: f64, lo: f64, err: f64) -> FloatPartial {
        FloatPartial { hi, lo, n: 0, err }
    }

    /// `load_run` at stride 2 gives the run's elements in order (lane `j` = element `2 j`)
    /// at every level this machine has: the vertical path needs lane `j` to be output `j`.
    #[test]
    fn stride_two_vectors_hold_the_run_in_order() {
        struct Load(Vec<f64>, usize);
        impl pulp::WithSimd for Load {
            type Output = Vec<f64>;
            #[inline(always)]
            fn with_simd<S: Simd>(self, simd: S) -> Vec<f64> {
                let w = S::F64_LANES;
                assert!(self.1 + 2 * w <= self.0.len());
                // SAFETY: 2 * w valid f64 from element `self.1` (asserted).
                let v = unsafe { load_run::<S, 2>(simd, self.0.as_ptr().add(self.1)) };
                let mut out = vec![0.0; w];
                S::as_mut_simd_f64s(&mut out).0[0] = v;
                out
            }
        }
        let x: Vec<f64> = (0..40).map(|i| i as f64 * 1.5 - 7.0).collect();
        for level in crate::simd::available_simd_levels() {
            for start in [0, 1, 5] {
                let got = crate::simd::dispatch(level, Load(x.clone(), start));
                let want: Vec<f64> = (0..got.len()).map(|j| x[start + 2 * j]).collect();
                assert_eq!(got, want, "{level:?}, from element {start}");
            }
        }
    }

    /// `renormalize` keeps each `hi + lo` (exactly: both on the grid 2^-60 here, so their
    /// sums are integers), leaves `|lo|` at most half an ulp of `hi`, and leaves an infinite
    /// or NaN sum as it was.
    #[test]
    fn renormalising_keeps_the_sum() {
        let g = 2f64.powi(60);
        let pairs = [
            (1.0, 2f64.powi(-53) * 3.0),
            (1e3, -0.125),
            (-7.5, 2f64.powi(-50)),
            (0.0, 3.0 * 2f64.powi(-12)),
            (2f64.powi(52), 0.5),
            (3.0, 0.0),
        ];
        let (mut hi, mut lo): (Vec<f64>, Vec<f64>) = pairs.iter().copied().unzip();
        renormalize(&mut hi, &mut lo);
        for (j, &(h, l)) in pairs.iter().enumerate() {
            let want = (h * g) as i128 + (l * g) as i128;
            assert_eq!((hi[j] * g) as i128 + (lo[j] * g) as i128, want, "{h} + {l}");
            assert!(
                lo[j].abs() <= ulp(hi[j]) / 2.0,
                "{h} + {l}: {} {}",
                hi[j],
                lo[j]
            );
        }
        let mut hi = [f64::INFINITY, f64::NAN, f64::MAX];
        let mut lo = [f64::NAN, 1.0, f64::MAX];
        renormalize(&mut hi, &mut lo);
        assert_eq!(hi[0], f64::INFINITY);
        assert!(hi[1].is_nan() && lo[0].is_nan());
        assert_eq!(
            (hi[2], lo[2]),
            (f64::MAX, f64::MAX),
            "an overflowing sum is kept"
        );
    }

    /// With renormalisations every `seg` elements the bound grows as `n seg`, not `n²`;
    /// below `seg` it is the plain one.
    #[test]
    fn renormalised_bounds_grow_linearly() {
        let sq = 1e5;
        let plain = lane_bound::<f64>(100, u64::MAX, 1, sq);
        assert_eq!(lane_bound::<f64>(100, 512, 1, sq), plain);
        assert_eq!(lane_bound::<f64>(100, 99, 1, sq), plain);
        let (long, seg) = (200_000u64, 512u64);
        let ratio = lane_bound::<f64>(long, u64::MAX, 1, sq) / lane_bound::<f64>(long, seg, 1, sq);
        assert_eq!(ratio, long as f64 / (seg + 1) as f64);
        assert!(lane_bound::<f64>(long, seg, 1, f64::NAN).is_nan());
        assert_eq!(
            lane_bound::<f64>(long, seg, 1, f64::INFINITY),
            f64::INFINITY
        );
    }

    #[test]
    fn the_bound_decides_or_declines() {
        let h = 2f64.powi(-53); // half an ulp of 1 above it, a whole one below
                                // Exact: ties to even.
        assert_eq!(p(1.0, h, 0.0).rounded_f64(), Some(1.0));
        assert_eq!(p(1.0 + 2.0 * h, h, 0.0).rounded_f64(), Some(1.0 + 4.0 * h));
        // A tie with any bound: undecided; off the tie by more than the bound: decided.
        assert_eq!(p(1.0, h, 1e-300).rounded_f64(), None);
        assert_eq!(p(1.0, h / 2.0, 1e-30).rounded_f64(), Some(1.0));
        assert_eq!(p(1.0, h / 2.0, h).rounded_f64(), None);
        // Below a power of two the gap is half: -2^-54 is a tie there.
        assert_eq!(p(1.0, -h / 2.0, 1e-30).rounded_f64(), None);
        assert_eq!(p(1.0, -h / 4.0, 1e-30).rounded_f64(), Some(1.0));
        assert_eq!(p(-1.0, h / 4.0, 1e-30).rounded_f64(), Some(-1.0));
        // NaN elements: NaN; infinite bound (an infinite element): undecided.
        assert!(p(f64::NAN, f64::NAN, f64::NAN)
            .rounded_f64()
            .unwrap()
            .is_nan());
        assert_eq!(
            p(f64::INFINITY, f64::NAN, f64::INFINITY).rounded_f64(),
            None
        );
        // Zero with a bound: undecided (the sum may be a tiny number).
        assert_eq!(p(0.0, 0.0, 1e-200).rounded_f64(), None);
        assert_eq!(p(0.0, 0.0, 0.0).rounded_f64(), Some(0.0));
    }

    #[test]
    fn f32_results_and_means() {
        let t = 2f64.powi(-24); // an f32 tie above 1
        assert_eq!(p(1.0 + t, 0.0, 0.0).rounded_f32(), Some(1.0));
        assert_eq!(
            p(1.0 + t, 1e-30, 0.0).rounded_f32(),
            Some(1.0 + 2.0 * t as f32)
        );
        assert_eq!(p(1.0 + t, 0.0, 1e-30).rounded_f32(), None);
        assert_eq!(p(1.0 + t / 2.0, 0.0, 1e-20).rounded_f32(), Some(1.0));
        // mean: RN32(RN64(S) / n).
        assert_eq!(p(3.0, 0.0, 1e-20).mean_f32(3.0), Some(1.0));
        assert_eq!(p(1.0, 0.0, 0.0).mean_f32(3.0), Some((1.0f64 / 3.0) as f32));
    }

    #[test]
    fn steps_and_gaps() {
        assert_eq!(step_out(1.0, 1.0), 1.0 + f64::EPSILON);
        assert_eq!(step_out(1.0, -1.0), 1.0 - f64::EPSILON / 2.0);
        assert_eq!(step_out(-1.0, -1.0), -1.0 - f64::EPSILON);
        assert_eq!(step_out(0.0, -1.0), -f64::from_bits(1));
        assert_eq!(gaps(1.0), (f64::EPSILON, f64::EPSILON / 2.0));
        assert_eq!(gaps(-1.0), (f64::EPSILON / 2.0, f64::EPSILON));
        assert_eq!(gaps(0.0), (f64::from_bits(1), f64::from_bits(1)));
        assert_eq!(ulp(1.5), f64::EPSILON);
        assert_eq!(ulp(f64::from_bits(3)), f64::from_bits(1));
        assert_eq!(sqrt_above(16.0), 8.0);
        assert!(sqrt_above(17.0) >= 17f64.sqrt());
        assert!(sqrt_above(f64::from_bits(5)) >= f64::from_bits(5).sqrt());
    }

    #[test]
    fn grids_and_the_proof_of_exactness() {
        // An element's grid is the last bit of the smallest magnitude in its own precision.
        assert_eq!(grid::<f64>(1.5), f64::EPSILON);
        assert_eq!(grid::<f32>(1.5), f64::from(f32::EPSILON));
        assert_eq!(grid::<f32>(3.0), 2.0 * f64::from(f32::EPSILON));
        // f32 subnormals (normal as f64): f32's smallest subnormal.
        assert_eq!(grid::<f32>(1e-40), 2f64.powi(-149));
        assert_eq!(grid::<f64>(f64::from_bits(7)), f64::from_bits(1));
        assert_eq!(grid::<f64>(f64::INFINITY), f64::INFINITY);
        // Below the grid: exact (0); at or above it, or infinite/NaN: kept.
        // (A bound of 1e-10: above f64's last bit of 1.0, below f32's.)
        assert_eq!(proven_exact(1e-20, grid::<f64>(1.0)), 0.0);
        assert_eq!(proven_exact(1e-10, grid::<f64>(1.0)), 1e-10);
        assert_eq!(proven_exact(1e-10, grid::<f32>(1.0)), 0.0);
        assert_eq!(proven_exact(f64::EPSILON, grid::<f64>(1.0)), f64::EPSILON);
        assert_eq!(proven_exact(1e300, f64::INFINITY), 0.0);
        assert_eq!(proven_exact(f64::INFINITY, f64::INFINITY), f64::INFINITY);
        assert!(proven_exact(f64::NAN, 1.0).is_nan());
        // `ulp` and `sqrt_above` are branch-free now: the edges again.
        assert_eq!(ulp(0.0), f64::from_bits(1));
        assert_eq!(ulp(f64::MIN_POSITIVE), f64::from_bits(1));
        assert_eq!(ulp(2.0 * f64::MIN_POSITIVE), f64::from_bits(2));
        assert_eq!(ulp(f64::MAX), 2f64.powi(971));
        assert_eq!(sqrt_above(f64::INFINITY), f64::INFINITY);
        assert!(sqrt_above(f64::NAN).is_nan());
        assert_eq!(sqrt_above(0.0), 2f64.powi(-511));
    }

    #[test]
    fn combining_keeps_a_bound() {
        let a = p(1.0, 1e-17, 1e-30);
        let b = p(2.0, -3e-17, 2e-30);
        let c = a.combine(b);
        assert!(c.err >= 3e-30);
        // With an exact zero: unchanged.
        assert_eq!(a.combine(FloatPartial::EMPTY), a);
        assert_eq!(FloatPartial::EMPTY.combine(a), a);
    }

    /// A state taken `factor` times (a reduced broadcast axis) stays exact where the
    /// products are, and its bound covers the rest: checked against exact rationals.
    #[test]
    fn repeated_states_stay_exact_or_bounded() {
        use super::super::exact::ExactSum;
        // One element, exact: x * n as (hi, lo), err 0, so the sum and the mean decide.
        for (x, n) in [
            (10.8371, 100u64),
            (0.1, 3),
            (-7.25e-3, 1000),
            (1.0 / 3.0, 12345),
        ] {
            let r = p(x, 0.0, 0.0).repeated(n);
            assert_eq!(r.err, 0.0, "{x} x {n}");
            assert_eq!(r.hi + r.lo, r.hi);
            let mut e = ExactSum::new();
            for _ in 0..n {
                e.add(x);
            }
            assert_eq!(r.rounded_f64(), Some(e.to_f64()));
            assert_eq!(r.hi, x * n as f64);
        }
        // A lo that the factor rounds: a bound, not zero, and the exact sum within it.
        let (x, lo) = (1.0, 2f64.powi(-60) * 3.0);
        for n in [7u64, 1000] {
            let r = p(x, lo, 0.0).repeated(n);
            assert!(r.err > 0.0);
            // |n (x + lo) - (hi + lo')| exactly, then rounded: within the bound.
            let mut e = ExactSum::new();
            for _ in 0..n {
                e.add(x);
                e.add(lo);
            }
            e.add(-r.hi);
            e.add(-r.lo);
            assert!(e.to_f64().abs() <= r.err, "{n}");
        }
        // Tiny products: the fma's error may underflow, so a bound.
        let r = p(f64::from_bits(3), 0.0, 0.0).repeated(3);
        assert!(r.err > 0.0);
        // Inexact states keep a bound that grew by the factor.
        assert!(p(1.0, 1e-17, 1e-30).repeated(10).err >= 1e-29);
    }

    /// `finish_runs` of four runs of `len` elements `stride` apart (run r at `r * (len + 1)
    /// * stride` of `v`) at `level`.
    fn runs_at<T: Element>(
        level: crate::simd::SimdLevel,
        v: &[T],
        len: usize,
        stride: usize,
    ) -> [FloatPartial; RUNS] {
        struct Runs<'a, T>(&'a [T], usize, usize);
        impl<T: Element> pulp::WithSimd for Runs<'_, T> {
            type Output = [FloatPartial; RUNS];
            #[inline(always)]
            fn with_simd<S: Simd>(self, simd: S) -> Self::Output {
                let (v, len, c) = (self.0, self.1, self.2);
                let ptrs: [*const T; RUNS] =
                    std::array::from_fn(|r| v[r * (len + 1) * c..].as_ptr());
                let k = FloatSum::<T, Propagate>::new();
                assert!(k.batches_runs(len, c as isize, 0) || len > 2048);
                // SAFETY: run r is `len` elements of `v`, `c` apart, from `r * (len + 1) * c`
                // (the caller sizes `v` for four).
                unsafe { k.finish_runs(simd, ptrs, ptrs, len, c as isize) }
            }
        }
        assert!(v.len() >= RUNS * (len + 1) * stride);
        crate::simd::dispatch(level, Runs(v, len, stride))
    }

    /// The partials of four whole runs at once (`short_runs`, every level this CPU has)
    /// round as the exact sum does whenever they decide, and decide well-conditioned sums,
    /// halfway ties among them (up to `RUNS_TRACKED`); specials as IEEE sums. f64 runs at
    /// stride 2 too, with NaN between their elements (never read as one of them).
    #[test]
    fn short_runs_decide_as_the_exact_sum() {
        use super::super::exact::ExactSum;
        use crate::simd::available_simd_levels;
        let mut seed = 0x9e37_79b9_7f4a_7c15u64;
        let mut next = move || {
            seed ^= seed << 13;
            seed ^= seed >> 7;
            seed ^= seed << 17;
            (seed >> 11) as f64 / (1u64 << 53) as f64
        };
        let mut lens: Vec<usize> = (0..=70).collect();
        lens.extend([
            127, 128, 129, 191, 192, 193, 255, 256, 257, 512, 513, 1000, 1025, 2048,
        ]);
        let levels = available_simd_levels();
        for len in lens {
            let n = RUNS * (len + 1);
            // Kinds of data: 0 normals + 1, 1 small integers and halves (exact sums, many
            // ties when halved again), 2 cancelling (1e16, x, -1e16), 3 specials mixed in.
            for kind in 0..4 {
                let v: Vec<f64> = (0..n)
                    .map(|i| {
                        let u = next();
                        match kind {
                            0 => (u - 0.5) * 6.0 + 1.0,
                            1 => ((u * 64.0).floor() - 20.0) * 2f64.powi(-53 + (i % 3) as i32),
                            2 => [1e16, u, -1e16][i % 3],
                            _ => match i % 37 {
                                5 => f64::INFINITY,
                                11 if len % 2 == 0 => f64::NAN,
                                17 if len % 3 == 0 => f64::NEG_INFINITY,
                                23 => -0.0,
                                29 => f64::MIN_POSITIVE / 3.0,
                                _ => u,
                            },
                        }
                    })
                    .collect();
                let exact: Vec<f64> = (0..RUNS)
                    .map(|r| {
                        let mut e = ExactSum::new();
                        for &x in &v[r * (len + 1)..][..len] {
                            e.add(x);
                        }
                        e.to_f64()
                    })
                    .collect();
                let v32: Vec<f32> = v.iter().map(|&x| x as f32).collect();
                let v2: Vec<f64> = v.iter().flat_map(|&x| [x, f64::NAN]).collect();
                for &level in &levels {
                    for (r, parts) in [runs_at(level, &v, len, 1), runs_at(level, &v2, len, 2)]
                        .iter()
                        .flat_map(|parts| (0..RUNS).map(move |r| (r, parts)))
                    {
                        let (got, want) = (parts[r].rounded_f64(), exact[r]);
                        if let Some(got) = got {
                            assert!(
                                got == want || (got.is_nan() && want.is_nan()),
                                "len {len} kind {kind} run {r} at {level:?}: {got:e} != {want:e}"
                            );
                        }
                        // (The scalar level has no short-run loop: its lanes leave ties to
                        // `settle`.)
                        let tracked =
                            level != crate::simd::SimdLevel::Scalar && len <= RUNS_TRACKED;
                        let must = kind < 2 && tracked;
                        assert!(
                            got.is_some() || !must,
                            "len {len} kind {kind} run {r} at {level:?}: undecided {:?}",
                            parts[r]
                        );
                    }
                    // f32: whatever both forms decide agrees (each claims the correctly
                    // rounded sum), and the short runs decide f32 normals.
                    let parts = runs_at(level, &v32, len, 1);
                    for r in 0..RUNS {
                        let mut lanes = FloatSum::<f32, Propagate>::new().lanes();
                        let run = &v32[r * (len + 1)..][..len];
                        // SAFETY: `run`'s own elements.
                        let one = unsafe {
                            let k = FloatSum::<f32, Propagate>::new();
                            k.feed(pulp::Scalar::new(), &mut lanes, run.as_ptr(), len, 1);
                            k.finish(pulp::Scalar::new(), lanes)
                        };
                        let (got, want) = (parts[r].rounded_f32(), one.rounded_f32());
                        if let (Some(g), Some(w)) = (got, want) {
                            assert!(
                                g == w || (g.is_nan() && w.is_nan()),
                                "f32 len {len} kind {kind} run {r} at {level:?}: {g:e} != {w:e}"
                            );
                        }
                        let tracked =
                            level != crate::simd::SimdLevel::Scalar && len <= RUNS_TRACKED;
                        assert!(
                            got.is_some() || kind != 0 || !tracked,
                            "f32 len {len} at {level:?}"
                        );
                    }
                }
            }
        }
    }
}
