//! Products: float products rounded once at the end, whatever their range, and integer
//! products that wrap as numpy's do.
//!
//! **Floats** (f32 widened to f64, and f64). Each element `x = m * 2^e` is split with bit
//! operations into its mantissa `m` in ±[1, 2) and its exponent `e`. Exponents add up exactly
//! in `i64` lanes; mantissas multiply into the lane's `hi`, which therefore never overflows
//! or underflows: it grows by less than 2 per element and is scaled back into [1, 2) (its
//! exponent moved into the lane's) every `RENORM` elements of a lane. So partial products
//! never reach inf or zero the way numpy's (a plain product, one rounding per element, in the
//! input's type) do: the result is the product with an unbounded exponent range, rounded to
//! the result type at the end (overflowing to inf, underflowing to 0, only then).
//! - f64: each product's rounding error goes into the lane's `lo` (TwoProduct: `fma(hi, m,
//!   -p)` where the SIMD level has FMA, Dekker's splitting where it does not; both give the
//!   exact error, so the bits are the same at every level). `hi + lo` carries about twice
//!   f64's precision, so the f64 result is the exact product correctly rounded unless that
//!   product lies within about `n * 2^-104` (relative) of a rounding boundary.
//! - f32 (widened): a plain f64 product of the mantissas: after `n` elements the relative
//!   error is below `n * 2^-53`, so the f32 result is correctly rounded unless the product
//!   lies within that distance of an f32 rounding boundary (numpy accumulates in f32, with
//!   an error of order `sqrt(n) * 2^-24`).
//! - At the FMA levels, where every element of a group (axis 0: a group of outputs across
//!   `ROWS` rows; lanes, f32 only: a block) lies in ±[2^-24, 2^24], whole elements multiply
//!   `hi` instead ([`f64_rows_fast`]): no exponent split and no special-value check. In that
//!   range every rounding is the split's scaled by a power of two, so after the next scaling
//!   into ±[1, 2) the state is bitwise the same.
//! - Elements that are not normal numbers (zero, subnormal, inf, NaN) are rare: a block that
//!   holds one goes element by element ([`step_careful`]), recording zero / inf /
//!   NaN in flags, and scaling subnormals up to normal numbers. `0 * inf` is NaN, as in
//!   numpy's product; under `nanprod` NaN elements are skipped (numpy's `nanprod` replaces them
//!   with 1).
//! - Results in the subnormal range are rounded twice (to f64 at 1 <= |m| <= 2, then to the
//!   subnormal), which can be off by one subnormal ulp.
//!
//! **Integers and bool**: `u64` lanes multiplied with wrap-around: each element
//! sign-extended (signed) or zero-extended (unsigned, bool as 0/1) to 64 bits, so every lane,
//! and their product, is the exact product modulo 2^64, which is numpy's result in `int64` /
//! `uint64` (and, truncated, in any narrower `dtype=`).

use super::{has_fma, tree, Kernel, NanPolicy, LANES, ROWS, TILE};
use crate::element::{Element, IntElement};
use crate::walk::{for_each_block, for_each_in_row};
use pulp::Simd;
use std::marker::PhantomData;

/// Lanes of the float product: `hi`, `lo` and `exp` of 16 lanes are 12 AVX2 registers.
const PROD_LANES: usize = 16;

/// Blocks between two scalings of `hi` back into [1, 2): `hi < 2^(RENORM + 1)` in between
/// (in [2^-768, 2^769] where whole elements in [`FAST_MIN`, `FAST_MAX`] multiply it),
/// far from overflow, and `lo` (about `2^-53 hi`) far from underflow.
const RENORM: usize = 32;

/// Flag bits of [`ProdPartial::flags`].
pub const ZERO: u8 = 1;
/// An infinite element was seen.
pub const INF: u8 = 2;
/// A NaN element was seen (under `prod`; `nanprod` skips them).
pub const NAN: u8 = 4;

const EXP_BITS: u64 = 0x7ff0_0000_0000_0000;
const ONE_BITS: u64 = 0x3ff0_0000_0000_0000;

/// The partial state of a float product (`prod`, `nanprod` of `f32` and `f64`): the product is
/// `(hi + lo) * 2^exp`, unless a flag says zero, inf or NaN was seen (see
/// [`ProdPartial::value`]). `1 <= |hi| < 2` and `|lo| <= ulp(hi)` after every
/// [`ProdPartial::combine`].
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct ProdPartial {
    /// The leading part of the product's mantissa (its sign is the product's).
    pub hi: f64,
    /// The rounding error of `hi` (always 0 for f32 data).
    pub lo: f64,
    /// The exponent: the sum of the elements' exponents.
    pub exp: i64,
    /// [`ZERO`] | [`INF`] | [`NAN`]: the elements seen that are not finite nonzero numbers.
    pub flags: u8,
}

impl ProdPartial {
    /// The product of no elements: 1.
    pub const EMPTY: Self = Self {
        hi: 1.0,
        lo: 0.0,
        exp: 0,
        flags: 0,
    };

    /// The product of the elements of two disjoint sets: the product of the two `(hi, lo)`
    /// pairs (TwoProduct of the `hi`s), exponents added, flags joined, scaled back into
    /// [1, 2). The kernels combine their lanes and work units with this.
    #[inline(always)]
    pub fn combine(self, b: Self) -> Self {
        self.times(b).normalised()
    }

    /// The product of two states, not normalised: `hi` may leave ±[1, 2) (by less than the
    /// product of the two `hi`).
    #[inline(always)]
    fn times(self, b: Self) -> Self {
        self.times_at::<pulp::Scalar>(b)
    }

    /// [`ProdPartial::times`] with the product error of SIMD level `S` (the same bits).
    #[inline(always)]
    fn times_at<S: Simd>(self, b: Self) -> Self {
        let p = self.hi * b.hi;
        // Exact: both `hi` are in ±[1, 2^(RENORM + 1)), nothing underflows.
        let e = product_error::<S>(self.hi, b.hi, p);
        let lo = (self.hi * b.lo + self.lo * b.hi) + e;
        Self {
            hi: p,
            lo,
            exp: self.exp.saturating_add(b.exp),
            flags: self.flags | b.flags,
        }
    }

    /// `hi + lo` as one rounded pair (`|lo| <= ulp(hi) / 2`) and `hi` scaled into ±[1, 2).
    #[inline(always)]
    pub(crate) fn normalised(self) -> Self {
        // Fast TwoSum: |lo| is far below |hi| >= 1.
        let s = self.hi + self.lo;
        let t = self.lo - (s - self.hi);
        let (hi, lo, shift) = scaled(s, t);
        Self {
            hi,
            lo,
            exp: self.exp.saturating_add(shift),
            flags: self.flags,
        }
    }

    /// The same elements each taken `factor` times (a reduced broadcast axis): the `factor`th
    /// power, by squaring with [`ProdPartial::combine`].
    pub(crate) fn repeated(self, factor: u64) -> Self {
        let (mut base, mut k, mut acc) = (self, factor, Self::EMPTY);
        while k > 0 {
            if k & 1 == 1 {
                acc = acc.combine(base);
            }
            k >>= 1;
            if k > 0 {
                base = base.combine(base);
            }
        }
        acc
    }

    /// The product rounded to f64: NaN if a NaN was seen (under `prod`) or both a zero and an
    /// inf; else ±0 or ±inf if one of them was seen (the sign is the product of the signs);
    /// else `(hi + lo) * 2^exp`, rounded once to f64 (twice in the subnormal range),
    /// overflowing to ±inf.
    pub fn value(self) -> f64 {
        // The usual case first, behind one branch: no flag, and an exponent `pow2` holds
        // (`ldexp`'s loops then do not run: the same product). The flags and the clamp, tested
        // one after another, took a fifth of a (4, 1000) f64 product over axis 0.
        if self.flags == 0 && (-1022..=1023).contains(&self.exp) {
            return (self.hi + self.lo) * pow2(self.exp);
        }
        let neg = self.hi.is_sign_negative();
        let signed = |x: f64| if neg { -x } else { x };
        if self.flags & NAN != 0 || self.flags & (ZERO | INF) == ZERO | INF {
            f64::NAN
        } else if self.flags & ZERO != 0 {
            signed(0.0)
        } else if self.flags & INF != 0 {
            signed(f64::INFINITY)
        } else {
            ldexp(self.hi + self.lo, self.exp)
        }
    }
}

/// `2^k` for `-1022 <= k <= 1023`.
#[inline(always)]
fn pow2(k: i64) -> f64 {
    debug_assert!((-1022..=1023).contains(&k));
    f64::from_bits(((k + 1023) as u64) << 52)
}

/// `x * 2^e` rounded once (for `1 <= |x| <= 2`: every step but the last is exact).
fn ldexp(mut x: f64, e: i64) -> f64 {
    let mut e = e.clamp(-2300, 2300);
    while e > 1023 {
        x *= pow2(1023);
        e -= 1023;
    }
    while e < -1022 {
        x *= pow2(-1022);
        e += 1022;
    }
    x * pow2(e)
}

/// `hi` (normal, nonzero) scaled into ±[1, 2) by a power of two, `lo` scaled with it, and
/// the power: `(hi, lo) == (h, l) * 2^shift`.
#[inline(always)]
fn scaled(hi: f64, lo: f64) -> (f64, f64, i64) {
    let bits = hi.to_bits();
    let shift = ((bits & EXP_BITS) >> 52) as i64 - 1023;
    let h = f64::from_bits((bits & !EXP_BITS) | ONE_BITS);
    // |shift| stays far inside the normal exponents (see RENORM); `lo * 2^-shift` is exact.
    (h, lo * pow2(-shift), shift)
}

/// The exact rounding error of `p = fl(a * b)` (TwoProduct), for `a`, `b` in ±[1, 2^600):
/// an fma where the SIMD level `S` has one, Dekker's product of split halves elsewhere
/// (where `mul_add` would be a library call). The same value either way.
#[inline(always)]
fn product_error<S: Simd>(a: f64, b: f64, p: f64) -> f64 {
    if const { has_fma::<S>() } {
        a.mul_add(b, -p)
    } else {
        let split = |x: f64| {
            let c = 134_217_729.0 * x; // 2^27 + 1
            let h = c - (c - x);
            (h, x - h)
        };
        let ((ah, al), (bh, bl)) = (split(a), split(b));
        ((ah * bh - p) + ah * bl + al * bh) + al * bl
    }
}

/// True for f64 data: products carry `lo` (see the module docs).
#[inline(always)]
const fn exact_each<T: Element>() -> bool {
    T::IS_FLOAT && std::mem::size_of::<T>() == 8
}

/// 1 if `x` is not a normal number (its biased exponent field is 0: zero, subnormal; or
/// 0x7ff: inf, NaN), else 0: OR-ed over a block, it says whether the block needs
/// [`step_careful`].
#[inline(always)]
fn unusual(x: f64) -> u64 {
    let f = (x.to_bits() & EXP_BITS) >> 52;
    ((f.wrapping_add(1) & 0x7fe) == 0) as u64
}

/// Product of float elements.
pub(crate) struct FloatProd<T, P>(PhantomData<(T, P)>);

impl<T, P> FloatProd<T, P> {
    pub fn new() -> Self {
        Self(PhantomData)
    }
}

pub(crate) struct ProdLanes {
    hi: [f64; PROD_LANES],
    lo: [f64; PROD_LANES],
    exp: [i64; PROD_LANES],
    flags: [u8; PROD_LANES],
    /// Elements per lane since the last scaling (blocks, and tails counted by lane 0).
    rows: usize,
}

impl ProdLanes {
    /// Multiply lane `j` by the normal number `x` (an f64, or an f32 widened). The same
    /// operations as the block loop of `feed`, one lane at a time.
    #[inline(always)]
    fn step<S: Simd, T: Element>(&mut self, j: usize, x: f64) {
        let (hi, lo, exp) = step::<S, T>(self.hi[j], self.lo[j], self.exp[j], x);
        (self.hi[j], self.lo[j], self.exp[j]) = (hi, lo, exp);
    }

    /// Lane `j` times any `x` ([`step_careful`]).
    #[inline(always)]
    fn step_slow<S: Simd, T: Element, P: NanPolicy>(&mut self, j: usize, x: f64) {
        let state = (self.hi[j], self.lo[j], self.exp[j]);
        (self.hi[j], self.lo[j], self.exp[j]) =
            step_careful::<S, T, P>(state, &mut self.flags[j], x);
    }

    /// Scale every lane's `hi` back into ±[1, 2).
    #[inline(always)]
    fn renormalise(&mut self) {
        for j in 0..PROD_LANES {
            let (h, l, s) = scaled(self.hi[j], self.lo[j]);
            self.hi[j] = h;
            self.lo[j] = l;
            self.exp[j] += s;
        }
        self.rows = 0;
    }
}

/// What an element does to a product: `(Some(y), flag, shift)` multiplies by `y * 2^shift`
/// (`y` normal) and records `flag`; `None` multiplies by nothing. Zero and inf multiply by
/// their sign (±1) and set their flag; NaN sets its flag, or under the nan-functions is
/// skipped; a subnormal is scaled by 2^64.
#[inline(always)]
fn classify<P: NanPolicy>(x: f64) -> (Option<f64>, u8, i64) {
    let sign = f64::from_bits((x.to_bits() & (1 << 63)) | ONE_BITS);
    if x.is_nan() {
        (None, if P::IGNORE { 0 } else { NAN }, 0)
    } else if x.is_infinite() {
        (Some(sign), INF, 0)
    } else if x == 0.0 {
        (Some(sign), ZERO, 0)
    } else if x.is_subnormal() {
        (Some(x * pow2(64)), 0, -64)
    } else {
        (Some(x), 0, 0)
    }
}

/// One lane's product times the normal `x`: `x`'s exponent into `exp`, its mantissa into
/// `(hi, lo)` (`lo` only for f64 data).
#[inline(always)]
fn step<S: Simd, T: Element>(hi: f64, lo: f64, exp: i64, x: f64) -> (f64, f64, i64) {
    let bits = x.to_bits();
    let e = ((bits & EXP_BITS) >> 52) as i64 - 1023;
    let m = f64::from_bits((bits & !EXP_BITS) | ONE_BITS);
    let p = hi * m;
    if const { exact_each::<T>() } {
        let err = product_error::<S>(hi, m, p);
        (p, lo * m + err, exp + e)
    } else {
        (p, lo, exp + e)
    }
}

/// A state `(hi, lo, exp)` times any `x`: zero, inf and NaN recorded in `flags` (zero and
/// inf multiply by their sign, ±1), NaN skipped under the nan-functions, subnormals scaled
/// up first ([`classify`]), then [`step`].
#[inline(always)]
fn step_careful<S: Simd, T: Element, P: NanPolicy>(
    state: (f64, f64, i64),
    flags: &mut u8,
    x: f64,
) -> (f64, f64, i64) {
    let (y, flag, shift) = classify::<P>(x);
    *flags |= flag;
    match y {
        Some(y) => {
            let (hi, lo, exp) = step::<S, T>(state.0, state.1, state.2, y);
            (hi, lo, exp + shift)
        }
        None => state,
    }
}

/// The range of elements [`f64_rows_fast`] multiplies in whole, exponent included: with
/// `|x|` in [2^-24, 2^24], the `FLUSH_ROWS` (32) rows between two scalings of `hi` into
/// ±[1, 2) keep `|hi|` in [2^-768, 2^769], so neither it nor any product error under- or
/// overflows.
const FAST_MIN: f64 = 1.0 / (1u64 << 24) as f64;
/// See [`FAST_MIN`].
const FAST_MAX: f64 = (1u64 << 24) as f64;

/// Whether `|x|` lies in [`FAST_MIN`, `FAST_MAX`] (false for NaN): `x` may multiply `hi`
/// whole.
#[inline(always)]
fn in_fast_range(x: f64) -> bool {
    (FAST_MIN..=FAST_MAX).contains(&x.abs())
}

/// Vectors per group of outputs in [`f64_rows_fast`]: two, so that their states, the range
/// check and the temporaries fit AVX2's 16 registers (with four, a group of 16 outputs
/// spilled to the stack in every row). Four at AVX-512 (32 registers) measured the same:
/// (64, 1000), (1000, 1000) and (4000, 4000) f64 over axis 0, one Zen 4 thread, 0.97-1.02x
/// both orders. The loop is bound by its seven vector operations an element vector (numpy's
/// axis-0 product has one): a C copy of it ran at 0.12 ns an element in L1 where a plain
/// vertical product ran at 0.06.
const FAST_VECTORS: usize = 2;

/// Outputs per group of [`f64_rows_fast`] at SIMD level `S`.
#[inline(always)]
fn fast_group<S: Simd>() -> usize {
    FAST_VECTORS * S::F64_LANES
}

/// The vertical product of f64 at the FMA levels: `ROWS` contiguous rows multiplied into
/// outputs `start..` (`hi`, `lo`; `hi.len()` and `start` multiples of [`fast_group`]), a
/// group of outputs at a time, its states in registers across the rows. Returns where it
/// stopped: `hi.len()`, or the first output of a group that holds an element outside
/// [`FAST_MIN`, `FAST_MAX`] or NaN (that group's states untouched, for the careful loop).
///
/// The whole element multiplies `hi` (`p = hi * x`, error `fma(hi, x, -p)`, `lo = lo * x +
/// error`), where [`step`] multiplies the mantissa and adds the exponent into `exp`: in this
/// range, `x = m * 2^e` and every product, error and `lo` are normal numbers, so each
/// rounding is the same as `step`'s scaled by `2^e` exactly. After the next scaling (the
/// tile's `flush`) the state is bitwise what `step` would have left, at every level.
///
/// # Safety
/// `rows[r]..rows[r] + hi.len()` must be valid, initialised f64; `lo.len() >= hi.len()`.
#[inline(always)]
unsafe fn f64_rows_fast<S: Simd>(
    simd: S,
    hi: &mut [f64],
    lo: &mut [f64],
    rows: [*const f64; ROWS],
    start: usize,
) -> usize {
    const N: usize = FAST_VECTORS;
    let (len, w) = (hi.len(), S::F64_LANES);
    assert!(len % (N * w) == 0 && start % (N * w) == 0 && lo.len() >= len);
    let (low, high) = (simd.splat_f64s(FAST_MIN), simd.splat_f64s(FAST_MAX));
    let (hv, _) = S::as_mut_simd_f64s(&mut hi[start..]);
    let (lv, _) = S::as_mut_simd_f64s(&mut lo[start..len]);
    let mut at = start;
    for (hg, lg) in hv.chunks_exact_mut(N).zip(lv.chunks_exact_mut(N)) {
        let mut h: [S::f64s; N] = [hg[0], hg[1]];
        let mut l: [S::f64s; N] = [lg[0], lg[1]];
        let (mut least, mut most) = (high, low);
        for &row in &rows {
            for k in 0..N {
                // SAFETY: outputs `at .. at + N * w` are below `len`, so these elements of
                // the row are valid (our contract); pulp's vectors are plain arrays of f64,
                // read unaligned.
                let x: S::f64s = unsafe { row.add(at + k * w).cast::<S::f64s>().read_unaligned() };
                let a = simd.abs_f64s(x);
                least = simd.min_f64s(least, a);
                most = simd.max_f64s(most, a);
                let p = simd.mul_f64s(h[k], x);
                // -(the product's error), exactly: p - h * x.
                let minus_err = simd.negate_mul_add_f64s(h[k], x, p);
                l[k] = simd.sub_f64s(simd.mul_f64s(l[k], x), minus_err);
                h[k] = p;
            }
        }
        // A NaN element makes `lo` NaN, which fails `l == l` (min/max may drop it). (`l`, not
        // `h`: then `l` is computed before the branch, not sunk past it with every row's
        // element kept alive for it, which spilled them to the stack.)
        let mut ok = simd.and_m64s(
            simd.greater_than_or_equal_f64s(least, low),
            simd.less_than_or_equal_f64s(most, high),
        );
        for v in &l {
            ok = simd.and_m64s(ok, simd.equal_f64s(*v, *v));
        }
        let all = simd.equal_f64s(low, low);
        if simd.first_true_m64s(simd.xor_m64s(ok, all)) < w {
            return at;
        }
        hg.copy_from_slice(&h);
        lg.copy_from_slice(&l);
        at += N * w;
    }
    len
}

impl<T: Element, P: NanPolicy> FloatProd<T, P> {
    /// Multiply the block into the lanes: one pass to find elements that are not normal
    /// numbers, then the plain step on every lane or, if there is one, the careful one.
    #[inline(always)]
    fn block<S: Simd>(l: &mut ProdLanes, block: &[T; PROD_LANES]) {
        let x: [f64; PROD_LANES] = std::array::from_fn(
            #[inline(always)]
            |j| block[j].to_f64(),
        );
        if const { has_fma::<S>() && !exact_each::<T>() } {
            // f32: whole (widened) elements, as `f64_rows_fast` multiplies them (the same
            // bits after the next scaling), when every element of the block is in its range:
            // no exponent split, no check for zero, inf and NaN (which the range excludes).
            // 1.2-1.3x as fast on the 2-core Zen 3 (AVX2); f64 blocks measured 5-10% slower
            // this way (the range check costs what the exponent split saved) and stay below.
            let mut ok = true;
            for &v in &x {
                ok &= in_fast_range(v);
            }
            if ok {
                for j in 0..PROD_LANES {
                    l.hi[j] *= x[j];
                }
                l.rows += 1;
                if l.rows == RENORM {
                    l.renormalise();
                }
                return;
            }
        }
        let mut odd = 0u64;
        for j in 0..PROD_LANES {
            odd |= unusual(x[j]);
        }
        if odd == 0 {
            for j in 0..PROD_LANES {
                l.step::<S, T>(j, x[j]);
            }
        } else {
            for j in 0..PROD_LANES {
                l.step_slow::<S, T, P>(j, x[j]);
            }
        }
        l.rows += 1;
        if l.rows == RENORM {
            l.renormalise();
        }
    }

    /// `push_row` with the product error of the SIMD level `S`. The row's elements are read
    /// twice: once to look for elements that are not normal numbers, then (from L1) to
    /// multiply, plainly or, if there is one, carefully.
    ///
    /// # Safety
    /// As `Kernel::push_row`.
    #[inline(always)]
    unsafe fn row<S: Simd>(tile: &mut ProdTile, ptr: *const T, len: usize, stride: isize) {
        let mut odd = 0u64;
        // SAFETY: forwarded from this function's contract.
        unsafe {
            for_each_in_row(
                ptr,
                len,
                stride,
                #[inline(always)]
                |_, x: T| odd |= unusual(x.to_f64()),
            )
        };
        let (hi, lo, exp) = (
            &mut tile.hi[..len],
            &mut tile.lo[..len],
            &mut tile.exp[..len],
        );
        let flags = &mut tile.flags[..len];
        if odd == 0 {
            // The common row: no branch in the loop, so it vectorises across outputs.
            // SAFETY: forwarded from this function's contract.
            unsafe {
                for_each_in_row(
                    ptr,
                    len,
                    stride,
                    #[inline(always)]
                    |j, x: T| {
                        (hi[j], lo[j], exp[j]) = step::<S, T>(hi[j], lo[j], exp[j], x.to_f64());
                    },
                )
            };
            return;
        }
        // SAFETY: forwarded from this function's contract.
        unsafe {
            for_each_in_row(
                ptr,
                len,
                stride,
                #[inline(always)]
                |j, x: T| {
                    let state = (hi[j], lo[j], exp[j]);
                    (hi[j], lo[j], exp[j]) =
                        step_careful::<S, T, P>(state, &mut flags[j], x.to_f64());
                },
            )
        }
    }
}

impl<T: Element, P: NanPolicy> Kernel<T> for FloatProd<T, P> {
    type Lanes = ProdLanes;
    type Tile = Box<ProdTile>;
    type Partial = ProdPartial;

    #[inline(always)]
    fn lanes(&self) -> ProdLanes {
        ProdLanes {
            hi: [1.0; PROD_LANES],
            lo: [0.0; PROD_LANES],
            exp: [0; PROD_LANES],
            flags: [0; PROD_LANES],
            rows: 0,
        }
    }

    #[inline(always)]
    unsafe fn feed<S: Simd>(
        &self,
        _simd: S,
        lanes: &mut ProdLanes,
        ptr: *const T,
        len: usize,
        stride: isize,
    ) {
        // The lanes as a local value for the loop (not behind the caller's pointer), so
        // that the compiler can keep them in registers.
        let mut local = std::mem::replace(lanes, self.lanes());
        // SAFETY: forwarded from this function's contract.
        unsafe {
            for_each_block::<T, _, PROD_LANES>(
                &mut local,
                ptr,
                len,
                stride,
                // 1.0 leaves a lane unchanged: hi * 1 exactly, no error, exponent 0.
                Some(T::ONE),
                #[inline(always)]
                |l, block| Self::block::<S>(l, block),
                #[inline(always)]
                |l, j, x| {
                    l.step_slow::<S, T, P>(j, x.to_f64());
                    if j == 0 {
                        l.rows += 1;
                        if l.rows == RENORM {
                            // Lane 0 gets the first tail element of every run, so no lane
                            // has had more than `rows` elements since the last scaling.
                            l.renormalise();
                        }
                    }
                },
            )
        };
        *lanes = local;
    }

    #[inline(always)]
    fn finish<S: Simd>(&self, _simd: S, lanes: ProdLanes) -> ProdPartial {
        // Each lane's `hi` scaled into ±[1, 2) (bit operations), then a fixed pairwise tree
        // of unnormalised products (a product of 16 such `hi` stays below 2^16), normalised
        // once: a short row pays a few operations per lane, not a full combine.
        let mut parts: [ProdPartial; PROD_LANES] = std::array::from_fn(
            #[inline(always)]
            |j| {
                let (hi, lo, shift) = scaled(lanes.hi[j], lanes.lo[j]);
                ProdPartial {
                    hi,
                    lo,
                    exp: lanes.exp[j] + shift,
                    flags: lanes.flags[j],
                }
            },
        );
        let mut n = PROD_LANES;
        while n > 1 {
            n /= 2;
            for j in 0..n {
                parts[j] = parts[j].times_at::<S>(parts[j + n]);
            }
        }
        parts[0].normalised()
    }

    #[inline(always)]
    fn combine(&self, a: ProdPartial, b: ProdPartial) -> ProdPartial {
        a.combine(b)
    }

    fn tile(&self) -> Box<ProdTile> {
        Box::new(ProdTile {
            hi: [1.0; TILE],
            lo: [0.0; TILE],
            exp: [0; TILE],
            flags: [0; TILE],
        })
    }

    #[inline(always)]
    unsafe fn push_row(&self, tile: &mut Box<ProdTile>, ptr: *const T, len: usize, stride: isize) {
        // SAFETY: forwarded from this function's contract.
        unsafe { Self::row::<pulp::Scalar>(tile, ptr, len, stride) }
    }

    #[inline(always)]
    unsafe fn push_rows<S: Simd>(
        &self,
        _simd: S,
        tile: &mut Box<ProdTile>,
        rows: &[*const T],
        len: usize,
        stride: isize,
    ) {
        if stride == 1 && rows.len() == ROWS && len > 0 {
            // SAFETY: each row is `len` valid, contiguous elements (our contract, stride 1).
            let rows: [&[T]; ROWS] =
                std::array::from_fn(|r| unsafe { std::slice::from_raw_parts(rows[r], len) });
            let t = &mut **tile;
            // f64 at the FMA levels: whole groups of `fast_group` outputs go through the
            // vector loop, [`f64_rows_fast`], which stops at a group with an element outside
            // its range; that group (and, at the other levels, everything) goes through the
            // loops below, in pieces of `CHECK` outputs: checked for elements that are not
            // normal numbers, then multiplied in while still in L1.
            const CHECK: usize = 256;
            let group = fast_group::<S>();
            let vec_end = if const { exact_each::<T>() && has_fma::<S>() } {
                len - len % group
            } else {
                0
            };
            let mut start = 0;
            while start < len {
                if start < vec_end {
                    let ptrs: [*const f64; ROWS] =
                        std::array::from_fn(|r| rows[r].as_ptr().cast::<f64>());
                    // SAFETY: `T` is f64 (`exact_each`); each row holds `len >= vec_end`
                    // valid elements, and the tile `TILE >= len` outputs.
                    start = unsafe {
                        f64_rows_fast(
                            _simd,
                            &mut t.hi[..vec_end],
                            &mut t.lo[..vec_end],
                            ptrs,
                            start,
                        )
                    };
                }
                if start >= len {
                    break;
                }
                // A group the vector loop stopped at, or a piece past the vectors.
                let end = if start < vec_end {
                    start + group
                } else {
                    (start + CHECK).min(len)
                };
                let (hi, lo) = (&mut t.hi[start..end], &mut t.lo[start..end]);
                if const { !exact_each::<T>() && has_fma::<S>() } {
                    // f32: whole (widened) elements when all are in the fast range, as
                    // `f64_rows_fast` (without `lo`): the same bits after the next scaling.
                    let mut ok = true;
                    for row in &rows {
                        for &x in &row[start..end] {
                            ok &= in_fast_range(x.to_f64());
                        }
                    }
                    if ok {
                        // Zipped, not indexed: no bounds checks, so the loop vectorises.
                        const { assert!(ROWS == 4) };
                        let [a, b, c, d] = rows.map(|r| &r[start..end]);
                        for ((((h, &a), &b), &c), &d) in hi.iter_mut().zip(a).zip(b).zip(c).zip(d) {
                            *h = *h * a.to_f64() * b.to_f64() * c.to_f64() * d.to_f64();
                        }
                        start = end;
                        continue;
                    }
                }
                let mut odd = 0u64;
                for row in &rows {
                    for &x in &row[start..end] {
                        odd |= unusual(x.to_f64());
                    }
                }
                let (exp, flags) = (&mut t.exp[start..end], &mut t.flags[start..end]);
                // Each output takes the rows in order with its state in registers: the same
                // arithmetic as `row` on each row in turn, a quarter of the state's traffic.
                if odd == 0 {
                    for j in 0..end - start {
                        let (mut h, mut l, mut e) = (hi[j], lo[j], exp[j]);
                        for row in &rows {
                            (h, l, e) = step::<S, T>(h, l, e, row[start + j].to_f64());
                        }
                        (hi[j], lo[j], exp[j]) = (h, l, e);
                    }
                } else {
                    for j in 0..end - start {
                        for row in &rows {
                            let state = (hi[j], lo[j], exp[j]);
                            let x = row[start + j].to_f64();
                            (hi[j], lo[j], exp[j]) =
                                step_careful::<S, T, P>(state, &mut flags[j], x);
                        }
                    }
                }
                start = end;
            }
            return;
        }
        for &p in rows {
            // SAFETY: forwarded from this function's contract.
            unsafe { Self::row::<S>(tile, p, len, stride) };
        }
    }

    #[inline(always)]
    fn batches_rows(&self, stride: isize) -> bool {
        stride == 1
    }

    /// Every `FLUSH_ROWS` (32) rows: `hi` back into ±[1, 2) (it grew by less than 2^32, or
    /// stayed in [2^-768, 2^769] in [`f64_rows_fast`]).
    #[inline(always)]
    fn flush(&self, tile: &mut Box<ProdTile>, len: usize) {
        let t = &mut **tile;
        for j in 0..len {
            let (h, l, s) = scaled(t.hi[j], t.lo[j]);
            t.hi[j] = h;
            t.lo[j] = l;
            t.exp[j] += s;
        }
    }

    fn tile_partial(&self, tile: &Box<ProdTile>, j: usize) -> ProdPartial {
        ProdPartial {
            hi: tile.hi[j],
            lo: tile.lo[j],
            exp: tile.exp[j],
            flags: tile.flags[j],
        }
        .normalised()
    }
}

pub(crate) struct ProdTile {
    hi: [f64; TILE],
    lo: [f64; TILE],
    exp: [i64; TILE],
    flags: [u8; TILE],
}

/// Product of integers (and bool's bytes) modulo 2^64.
pub(crate) struct IntProd<T>(PhantomData<T>);

impl<T> IntProd<T> {
    pub fn new() -> Self {
        Self(PhantomData)
    }
}

/// `x` sign- or zero-extended to 64 bits (bool as 0 or 1), as numpy converts it to the
/// product's `int64` / `uint64`.
#[inline(always)]
fn wide<T: IntElement>(x: T) -> u64 {
    let (h, l) = x.split();
    ((h as u64) << 32).wrapping_add(l as u64)
}

pub(crate) struct IntProdLanes {
    acc: [u64; LANES],
}

impl<T: IntElement> Kernel<T> for IntProd<T> {
    type Lanes = IntProdLanes;
    type Tile = Box<[u64; TILE]>;
    type Partial = u64;

    #[inline(always)]
    fn lanes(&self) -> IntProdLanes {
        IntProdLanes { acc: [1; LANES] }
    }

    #[inline(always)]
    unsafe fn feed<S: Simd>(
        &self,
        _simd: S,
        lanes: &mut IntProdLanes,
        ptr: *const T,
        len: usize,
        stride: isize,
    ) {
        // SAFETY: forwarded from this function's contract.
        unsafe {
            for_each_block::<T, _, LANES>(
                lanes,
                ptr,
                len,
                stride,
                Some(T::ONE),
                #[inline(always)]
                |l, block| {
                    for j in 0..LANES {
                        l.acc[j] = l.acc[j].wrapping_mul(wide(block[j]));
                    }
                    // Keeps the compiler from vectorising across blocks (see opaque_step).
                    super::opaque_step();
                },
                #[inline(always)]
                |l, j, x| l.acc[j] = l.acc[j].wrapping_mul(wide(x)),
            )
        }
    }

    #[inline(always)]
    fn finish<S: Simd>(&self, _simd: S, lanes: IntProdLanes) -> u64 {
        tree(
            lanes.acc,
            #[inline(always)]
            |a, b| a.wrapping_mul(b),
        )
    }

    /// Products modulo 2^64: exact, in any order.
    const GROUPING_FREE: bool = true;

    #[inline(always)]
    fn combine(&self, a: u64, b: u64) -> u64 {
        a.wrapping_mul(b)
    }

    fn tile(&self) -> Box<[u64; TILE]> {
        Box::new([1; TILE])
    }

    #[inline(always)]
    unsafe fn push_row(
        &self,
        tile: &mut Box<[u64; TILE]>,
        ptr: *const T,
        len: usize,
        stride: isize,
    ) {
        let acc = &mut tile[..len];
        // SAFETY: forwarded from this function's contract.
        unsafe {
            for_each_in_row(
                ptr,
                len,
                stride,
                #[inline(always)]
                |j, x| acc[j] = acc[j].wrapping_mul(wide(x)),
            )
        }
    }

    #[inline(always)]
    fn flush(&self, _tile: &mut Box<[u64; TILE]>, _len: usize) {}

    fn tile_partial(&self, tile: &Box<[u64; TILE]>, j: usize) -> u64 {
        tile[j]
    }
}

/// `x^k` modulo 2^64 (a reduced broadcast axis of length `k`).
pub(crate) fn wrapping_pow(x: u64, k: u64) -> u64 {
    let (mut base, mut k, mut acc) = (x, k, 1u64);
    while k > 0 {
        if k & 1 == 1 {
            acc = acc.wrapping_mul(base);
        }
        base = base.wrapping_mul(base);
        k >>= 1;
    }
    acc
}

#[cfg(test)]
mod tests {
    use super::*;

    fn p(x: f64) -> ProdPartial {
        let (y, flags, shift) = classify::<super::super::Propagate>(x);
        match y {
            Some(y) => {
                let (hi, lo, exp) = step::<pulp::Scalar, f64>(1.0, 0.0, shift, y);
                ProdPartial { hi, lo, exp, flags }.normalised()
            }
            None => ProdPartial {
                flags,
                ..ProdPartial::EMPTY
            },
        }
    }

    #[test]
    fn products_keep_their_range_until_the_end() {
        // The exact product of these doubles, rounded once (Python's fractions).
        let big = p(1e300).combine(p(1e300)).combine(p(1e-300));
        assert_eq!(big.value(), 1.0000000000000002e300);
        let tiny = p(1e-300).combine(p(1e-300)).combine(p(1e300));
        assert_eq!(tiny.value(), 1e-300);
        assert_eq!(p(1e300).combine(p(1e300)).value(), f64::INFINITY);
        assert_eq!(
            p(-1e-300).combine(p(1e-300)).value().to_bits(),
            (-0.0f64).to_bits()
        );
        let sub = p(f64::MIN_POSITIVE / 8.0);
        assert_eq!(sub.value(), f64::MIN_POSITIVE / 8.0);
        assert_eq!(sub.combine(p(8.0)).value(), f64::MIN_POSITIVE);
    }

    #[test]
    fn flags_decide_zero_inf_and_nan() {
        assert_eq!(
            p(-0.0).combine(p(3.0)).value().to_bits(),
            (-0.0f64).to_bits()
        );
        assert_eq!(p(f64::NEG_INFINITY).combine(p(-2.0)).value(), f64::INFINITY);
        assert!(p(0.0).combine(p(f64::INFINITY)).value().is_nan());
        assert!(p(f64::NAN).combine(p(1.0)).value().is_nan());
        let (y, flag, _) = classify::<super::super::Ignore>(f64::NAN);
        assert_eq!((y, flag), (None, 0));
    }

    #[test]
    fn the_product_error_is_exact_both_ways() {
        for (a, b) in [
            (1.1, 1.3),
            (1.999_999_999_9, 1.999_999_999_7),
            (-1.5, 1.0 + f64::EPSILON),
        ] {
            let p = a * b;
            let fma = a.mul_add(b, -p);
            let dekker = product_error::<pulp::Scalar>(a, b, p);
            assert_eq!(fma.to_bits(), dekker.to_bits(), "{a} * {b}");
        }
    }

    #[test]
    fn powers_by_squaring() {
        let x = p(1.5);
        assert_eq!(x.repeated(0).value(), 1.0);
        assert_eq!(x.repeated(3).value(), 3.375);
        assert_eq!(p(2.0).repeated(2000).value(), f64::INFINITY);
        assert_eq!(
            p(2.0).repeated(2000).combine(p(0.5).repeated(1999)).value(),
            2.0
        );
        assert_eq!(wrapping_pow(3, 4), 81);
        assert_eq!(wrapping_pow(2, 64), 0);
        assert_eq!(wrapping_pow(u64::MAX, 3), u64::MAX);
    }
}
