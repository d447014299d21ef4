//! Short columns of float sums and means, finished in place: reductions of a few elements an
//! output ([`SHORT_COLUMN_ROWS`] at most) whose outputs are consecutive elements of each
//! reduced position's row (a C-order `(4, 100000)` over axis 0: `np.mean([a, b, c, d],
//! axis=0)`). The vertical path gave each output a tile slot, a bound from its squares and
//! smallest magnitude, a partial of 32 bytes written, read by `settle` and read again by
//! `finalise`: several times the bytes of the data when each output takes four elements
//! (0.11-0.36x numpy on one Zen 4 thread for 2 to 16 rows of 100000 f64).
//!
//! Here a block of `B` outputs keeps its state in registers over all the rows, and its
//! values leave at once. Each output's state is `h`, `l` and `f`: every element goes into
//! `h` by an exact TwoSum, whose error goes into `l` by another, whose error `g` is summed
//! in magnitude into `f`. So `S = h + l + Σg` exactly (S the exact sum of the elements). When
//! `f == 0` every `g` was zero (a sum of magnitudes that are not all zero is not zero: the
//! rounding of a sum of non-negative numbers is at least the larger of them), so `S = h + l`
//! exactly and `h + l` rounded once is `S` rounded to nearest: the correctly rounded sum, with
//! no bound and no proof. That is the common case (errors of TwoSum are short: they rarely
//! take more than 53 bits together). Otherwise (or a non-finite sum) the output leaves as a
//! partial `(h, l)` with the bound `2f` (`f` errs below by at most a factor `(1 - u)^rows`)
//! for `dynamic::settle_these`, which decides it as it decides the vertical path's. f32
//! elements take a cheaper certificate: plain f64 additions, exact when the elements span
//! few enough binades (`ShortColumns::block_f32`).

use super::sum::FloatPartial;
use super::{add_f, sub_f, two_sum_vf, NanPolicy};
use crate::element::{ElemType, FloatElement};
use crate::partials::FloatOut;
use crate::walk::{prefetch_bytes, SharedOut, SharedPtr};
use pulp::{Simd, WithSimd};
use std::marker::PhantomData;

/// The most elements an output that the short-columns path takes (see the module docs), of
/// f64 elements. Against the vertical path, one Zen 4 thread (ab.py, f64 axis-0 means and
/// sums): 0.86x the time at (40, 4096), 0.92x at (64, 2000), the same at (100, 1000),
/// 1.03x at (128, 4096).
pub(crate) const SHORT_COLUMN_ROWS: usize = 64;

/// [`SHORT_COLUMN_ROWS`] of f32 elements, whose certificate is cheaper (`block_f32`): the
/// vertical path's tile, bounds, partials and settling cost each output more than its 128
/// elements (a (33, 4096) f32 axis-0 mean ran at 0.32x numpy on one Zen 4 thread); and up
/// to [`SHORT_COLUMN_ROWS_F32_CACHED`] in reductions of at most
/// [`SHORT_COLUMN_CACHED_BYTES`].
pub(crate) const SHORT_COLUMN_ROWS_F32: usize = 128;

/// The most f32 elements an output that the short-columns path takes in a reduction of at
/// most [`SHORT_COLUMN_CACHED_BYTES`]. A block reads a piece of every row in turn, as many
/// streams as rows: one Zen 4 thread (ab.py, f32 axis-0 means) took 0.68x the vertical
/// path's time at (250, 3000) and (200, 20000), 0.85x at (300, 3000), about the same at
/// (400, 600) and (500, 2000), 1.5x at (512, 8192) and (365, 64800); and 1.25x at (256,
/// 100000), from memory.
pub(crate) const SHORT_COLUMN_ROWS_F32_CACHED: usize = 256;

/// See [`SHORT_COLUMN_ROWS_F32_CACHED`] (the largest such reduction measured was 16 MB).
pub(crate) const SHORT_COLUMN_CACHED_BYTES: usize = 16 << 20;

/// The most elements an output of `elem` that the short-columns path takes, in a
/// reduction of `elements` elements.
pub(crate) fn short_column_rows(elem: ElemType, elements: usize) -> usize {
    if elem != ElemType::F32 {
        SHORT_COLUMN_ROWS
    } else if elements.saturating_mul(4) <= SHORT_COLUMN_CACHED_BYTES {
        SHORT_COLUMN_ROWS_F32_CACHED
    } else {
        SHORT_COLUMN_ROWS_F32
    }
}

/// The span of binades (largest biased exponent less the smallest, see `block_f32`) within
/// which plain f64 additions of `rows` f32 elements are exact: `29 - ceil(log2(rows))`.
fn exact_f32_span(rows: usize) -> u32 {
    29 - rows.next_power_of_two().trailing_zeros()
}

/// The fewest rows for which [`ShortColumns::offset_sums`] sums f64 outputs: below, `block`'s TwoSums cost less (their first two rows are cheap, and
/// the offset's guess reads up to four rows twice). One Zen 4 thread, AVX-512, in cache
/// (ab.py), `offset_sums` against `block`: 1.12x the time at (6, 2000) and (6, 25000) f64
/// axis-0 means and sums, 1.03-1.06x at 8 rows, 0.88-0.91x at 12, 0.69x at 32 and 48.
const OFFSET_ROWS: usize = 10;

/// [`OFFSET_ROWS`] of the nan-functions, whose filter and count cost both ways the same
/// three operations an element: `offset_sums` took 1.04x `block`'s time for (16, 2000) f64
/// axis-0 nanmeans, 0.86x for (24, 2000), 0.80x for (32, 2000), 0.76x for (48, 2000).
const OFFSET_ROWS_NAN: usize = 20;

/// The power of two in `(x/2, x]` of each lane (its exponent bits): zero for a zero or
/// subnormal `x`, infinity for an infinite or NaN `x`.
#[inline(always)]
fn power_of_two<S: Simd>(simd: S, x: S::f64s) -> S::f64s {
    let field = simd.splat_u64s(0x7ff0_0000_0000_0000);
    simd.transmute_f64s_u64s(simd.and_u64s(simd.transmute_u64s_f64s(x), field))
}

/// A block's lanes as vectors (the first `B / S::F64_LANES` used).
type Lanes<S, const B: usize> = [<S as Simd>::f64s; B];

/// How far ahead in each row a block hints the cache.
const AHEAD_BYTES: usize = 512;

/// One unit of a short-columns reduction: `len` outputs, consecutive elements of every row.
pub(crate) struct ShortColumns<'a, T, P> {
    /// Output 0's element in the row of reduced position 0 is `base + rows[0]`; output `j`'s
    /// element of reduced position `r` is `base + rows[r] + j`.
    pub base: SharedPtr<T>,
    /// Element offsets of the reduced positions (at least one).
    pub rows: &'a [isize],
    /// Outputs of the unit.
    pub len: usize,
    /// Where output `j`'s value goes: `out + j * out_stride`, valid for writes, written by no
    /// one else while the unit runs.
    pub out: SharedOut<T>,
    pub out_stride: usize,
    /// The index of output 0 among all the reduction's outputs (C order): output `j`'s is
    /// `first + j * out_stride`, for the undecided ones' list.
    pub first: usize,
    pub kind: FloatOut,
    pub policy: PhantomData<P>,
}

impl<T: FloatElement, P: NanPolicy> ShortColumns<'_, T, P> {
    /// Every output of the unit, `B` at a time: values written, the undecided ones' partials
    /// returned (index, partial, in index order).
    ///
    /// The last outputs, fewer than `B`, are the last `B` outputs of the unit read as one
    /// whole block where the unit has that many: the outputs it shares with the block before
    /// get the same values again (the same elements added in the same order) and their
    /// partials are dropped. Read lane by lane, the rest of a (100, 100) f32 mean's 32-output
    /// blocks (four outputs) cost about as much as two whole blocks.
    #[inline(always)]
    fn run<S: Simd, const B: usize>(&self, simd: S) -> Vec<(usize, FloatPartial)> {
        let mut todo = Vec::new();
        let one = std::hint::black_box(1.0);
        let whole = self.len - self.len % B;
        // (Whole blocks and the last one as separate copies of the loop: one copy for both
        // kept each block's state in memory, and its loads waited on the stores before them.)
        for j in (0..whole).step_by(B) {
            // SAFETY: outputs `j .. j + B` are the unit's (`j + B <= whole <= len`).
            unsafe { self.block_of::<S, B, true>(simd, j, B, one, &mut todo) };
        }
        if whole == self.len {
            return todo;
        }
        if whole == 0 {
            // SAFETY: the unit's `len < B` outputs, all of them.
            unsafe { self.block_of::<S, B, false>(simd, 0, self.len, one, &mut todo) };
            return todo;
        }
        let before = todo.len();
        // SAFETY: outputs `len - B .. len` are the unit's (`len >= whole >= B`), no one
        // else's to write while the unit runs.
        unsafe { self.block_of::<S, B, true>(simd, self.len - B, B, one, &mut todo) };
        // The block pushes in index order: those of the outputs done before come first.
        let done = self.first + whole * self.out_stride;
        let again = todo[before..]
            .iter()
            .take_while(|&&(o, _)| o < done)
            .count();
        todo.drain(before..before + again);
        todo
    }

    /// [`Self::block_f32`] of f32 elements, [`Self::block`] of the others.
    ///
    /// # Safety
    /// As [`Self::block`].
    #[inline(always)]
    unsafe fn block_of<S: Simd, const B: usize, const FULL: bool>(
        &self,
        simd: S,
        j: usize,
        k: usize,
        one: f64,
        todo: &mut Vec<(usize, FloatPartial)>,
    ) {
        // SAFETY: forwarded from this function's contract; `T` is f32 for `block_f32`.
        unsafe {
            if T::ELEM == ElemType::F32 {
                self.block_f32::<S, B, FULL>(simd, j, k, todo);
            } else {
                self.block::<S, B, FULL>(simd, j, k, one, todo);
            }
        }
    }

    /// Row `r`'s elements of outputs `j .. j + k` (`k <= B`; with `FULL`, `k == B`), zeros
    /// past `k`; with `FULL` the same elements further on are hinted into the cache.
    ///
    /// # Safety
    /// Outputs `j .. j + k` are the unit's (`j + k <= len`).
    #[inline(always)]
    unsafe fn load<const B: usize, const FULL: bool>(
        &self,
        r: isize,
        j: usize,
        k: usize,
    ) -> [T; B] {
        let at = self.base.0.wrapping_offset(r).wrapping_add(j);
        if FULL {
            prefetch_bytes(at, AHEAD_BYTES, B * std::mem::size_of::<T>());
            // SAFETY: elements `j .. j + B` of the row are the unit's outputs' (our contract,
            // `k == B`), valid (the field's contract); read unaligned.
            return unsafe { at.cast::<[T; B]>().read_unaligned() };
        }
        let mut xs = [T::ZERO; B];
        for (i, x) in xs.iter_mut().enumerate().take(k) {
            // SAFETY: element `j + i` of the row, `i < k`: an output of the unit.
            *x = unsafe { *at.add(i) };
        }
        xs
    }

    /// Row `r`'s elements of outputs `j .. j + k` as [`Self::load`] reads them, as the first
    /// `B / S::F64_LANES` vectors, each filtered as [`super::sum::filtered`] does (under the
    /// nan-functions a NaN is 0.0 and not counted: `count` takes 1.0 for every other element).
    ///
    /// # Safety
    /// As [`Self::load`].
    #[inline(always)]
    unsafe fn row_vectors<S: Simd, const B: usize, const FULL: bool>(
        &self,
        simd: S,
        r: isize,
        j: usize,
        k: usize,
        count: &mut [S::f64s; B],
    ) -> [S::f64s; B] {
        // SAFETY: our contract.
        let xs: [T; B] = unsafe { self.load::<B, FULL>(r, j, k) };
        let mut x = [0.0f64; B];
        for (x, &e) in x.iter_mut().zip(&xs) {
            *x = e.to_f64();
        }
        let zero = simd.splat_f64s(0.0);
        let mut out = [zero; B];
        let (vs, _) = S::as_simd_f64s(&x);
        for (v, &x) in vs.iter().enumerate() {
            out[v] = if P::IGNORE {
                let number = simd.equal_f64s(x, x);
                count[v] = simd.add_f64s(
                    count[v],
                    simd.select_f64s(number, simd.splat_f64s(1.0), zero),
                );
                simd.select_f64s(number, x, zero)
            } else {
                x
            };
        }
        out
    }

    /// Writes outputs `j .. j + k`'s values `v` (`k <= B`; with `FULL`, `k == B`).
    ///
    /// # Safety
    /// Outputs `j .. j + k` are the unit's (`j + k <= len`).
    #[inline(always)]
    unsafe fn emit<const B: usize, const FULL: bool>(&self, j: usize, k: usize, v: [f64; B]) {
        let out = self.out.0;
        if FULL && self.out_stride == 1 {
            for (i, &x) in v.iter().enumerate() {
                // SAFETY: output `j + i < j + B` of the unit (`k == B`), at stride 1: its
                // slot (the field's contract).
                unsafe { *out.add(j + i) = T::from_f64(x) };
            }
            return;
        }
        for (i, &x) in v.iter().enumerate().take(k) {
            // SAFETY: output `j + i < j + k <= len` of the unit, whose slot the field's
            // contract gives.
            unsafe { *out.add((j + i) * self.out_stride) = T::from_f64(x) };
        }
    }

    /// Outputs `j .. j + k` (`k <= B`; with `FULL`, `k == B`; lanes past `k` take zeros)
    /// over every row: their values written, and those `f` does not decide (or a nanmean of
    /// no element) pushed to `todo` as partials. At the FMA levels (`super::has_fma`), three
    /// of each TwoSum's six additions and `f`'s are fmas by `one` (1.0, opaque to the
    /// compiler: see `two_sum_vf` and `add_f`): the same roundings on the FMA pipes, where the
    /// additions alone bound the loop (AVX-512 on a Zen 4 issues one 512-bit addition a
    /// cycle).
    ///
    /// # Safety
    /// Outputs `j .. j + k` are the unit's (`j + k <= len`).
    #[inline(always)]
    unsafe fn block<S: Simd, const B: usize, const FULL: bool>(
        &self,
        simd: S,
        j: usize,
        k: usize,
        one: f64,
        todo: &mut Vec<(usize, FloatPartial)>,
    ) {
        // The rows in vector operations written out (`B / S::F64_LANES` vectors a state):
        // left to the compiler, the lanes' arrays were cut into pieces of 4, 2 and 1 lanes
        // through the stack, whose reloads waited on the stores (one Zen 4 thread, AVX-512,
        // a (4, 250000) f64 sum over axis 0 at a third of numpy's speed). The first two rows
        // by what their two TwoSums come to from a state of zeros: the first row's `h = 0 +
        // x` with no error, the second's TwoSum into `h` and its error into `l` as `0 + e`,
        // with no error either. The same bits as the TwoSums (where an element or a sum is
        // not finite, `h` is not: no road decides such an output, and its bound is
        // infinite); a reduction of 4 rows takes 35 operations an output, not 56.
        let nv = B / S::F64_LANES;
        let zero = simd.splat_f64s(0.0);
        let fewest = if P::IGNORE {
            OFFSET_ROWS_NAN
        } else {
            OFFSET_ROWS
        };
        if self.rows.len() >= fewest {
            // SAFETY: our contract.
            if let Some((hv, lv, cv)) = unsafe { self.offset_sums::<S, B, FULL>(simd, j, k, one) } {
                // Every `h + l` is the exact sum (`offset_sums`): as `f == 0` below.
                // SAFETY: our contract.
                unsafe { self.finish::<S, B, FULL>(simd, j, k, hv, lv, [zero; B], cv, todo) };
                return;
            }
        }
        let onev = simd.splat_f64s(one);
        let (mut hv, mut lv, mut fv, mut cv) = ([zero; B], [zero; B], [zero; B], [zero; B]);
        let mut rows = self.rows.iter();
        if let Some(&r) = rows.next() {
            // SAFETY: our contract.
            let xs = unsafe { self.row_vectors::<S, B, FULL>(simd, r, j, k, &mut cv) };
            for v in 0..nv {
                hv[v] = simd.add_f64s(zero, xs[v]);
            }
        }
        if let Some(&r) = rows.next() {
            // SAFETY: our contract.
            let xs = unsafe { self.row_vectors::<S, B, FULL>(simd, r, j, k, &mut cv) };
            for v in 0..nv {
                let (s, e) = two_sum_vf(simd, hv[v], xs[v], onev);
                hv[v] = s;
                lv[v] = simd.add_f64s(zero, e);
            }
        }
        for &r in rows {
            // SAFETY: our contract.
            let xs = unsafe { self.row_vectors::<S, B, FULL>(simd, r, j, k, &mut cv) };
            for v in 0..nv {
                let (s, e) = two_sum_vf(simd, hv[v], xs[v], onev);
                let (t, g) = two_sum_vf(simd, lv[v], e, onev);
                hv[v] = s;
                lv[v] = t;
                fv[v] = add_f(simd, onev, simd.abs_f64s(g), fv[v]);
            }
        }
        // SAFETY: our contract.
        unsafe { self.finish::<S, B, FULL>(simd, j, k, hv, lv, fv, cv, todo) };
    }

    /// The exact sums of outputs `j .. j + k` (`k <= B`; with `FULL`, `k == B`; lanes past
    /// `k` take zeros) as `(h, l)`, `B / S::F64_LANES` vectors each, `h + l` exactly the sum
    /// of the output's elements (under the nan-functions, of its numbers, with their counts as
    /// `row_vectors` takes them); or `None` where a lane's elements are not finite or span too
    /// many binades (below), which [`Self::block`] then takes its own way. Eight vector
    /// operations an element, one reading of the rows, where `block`'s two TwoSums take
    /// fourteen.
    ///
    /// How. Each lane starts `t` at an offset `σ`, a power of two guessed from the first
    /// rows (`guess`), and adds each element `x` by Fast2Sum: `s = t + x`, `r = x - (s -
    /// t)`, `t = s`, `l += r` (the two subtractions as FMAs by one, as `two_sum_vf`'s: the
    /// same roundings); at the end `h = t - σ`. The same pass takes the lane's sum of
    /// magnitudes `A` (rounded) and smallest nonzero magnitude `m` (as the f64 just below it,
    /// whose binade is at most one lower: that only makes the check stricter). Where the
    /// guess proves too small (`4.5 A > σ`), the rows are added again from `σ = 16P`, `P` the
    /// power of two in `(A/2, A]` (`σ = 0` for a subnormal or zero `A`).
    ///
    /// Proof that `h + l` is the exact sum `S` of the lane's `n <= 2^k` elements, when `σ`
    /// is zero with `A` subnormal or zero, or a normal power of two with `4.5 A <= σ <=
    /// 2^1021`, and `A <= 2^1017`, `σ <= M 2^(54 - k)`, `M` the power of two in `(m/2, m]`
    /// or `2^-1022` if more (round to nearest, binary64; `u = 2^-53`):
    /// - The exact `Σ|x| <= A (1 + n u) < σ/4`, so every element has `|x| < σ/4`. If every
    ///   `t` so far lies in `(σ/2, 2σ)` then `|t| > |x|`, so Fast2Sum is exact: `s + r = t +
    ///   x`, and `|r|` is at most half an ulp of `s <= 2σ`: `|r| <= σ u`. By induction `t_i
    ///   = σ + Σ_{<=i} x - Σ_{<=i} r`, within `σ/4 + n σ u` of `σ`: in `(σ/2, 2σ)` for
    ///   `n <= 2^20`, which holds every step.
    /// - `h = t - σ` is exact (Sterbenz: `σ/2 <= t <= 2σ`), so `S = h + Σr` exactly.
    /// - Every element is a multiple of `q = M 2^-52` (of its own last place, which `m`'s
    ///   divides; subnormals are multiples of `2^-1074 = 2^-1022 2^-52`). So is `σ` (as
    ///   `σ > 4A >= 4m`), and so is every `s`: it lies in `[σ/2, 2σ]`, whose places are at
    ///   least `σ 2^-53 >= q`. So every `r = x - (s - t)` is a multiple of `q`, and so is every
    ///   partial sum of the `r`, of magnitude at most `n σ u <= 2^53 q` by the check: an f64
    ///   holds it, so no addition into `l` rounds, and `l = Σr`.
    /// - With `σ = 0` (`A` subnormal or zero) every partial sum is a multiple of `2^-1074`
    ///   below `2^-1021` in magnitude: exact, `r = 0`, `h = t = S`.
    ///
    /// `σ <= 2^1021` keeps every `t` finite; `A <= 2^1017` fails for a NaN or an infinity. On
    /// normal-like data the check fails only when a lane's smallest nonzero magnitude is
    /// below about `2^-40 / n` of the largest.
    ///
    /// # Safety
    /// As [`Self::block`].
    #[inline(always)]
    unsafe fn offset_sums<S: Simd, const B: usize, const FULL: bool>(
        &self,
        simd: S,
        j: usize,
        k: usize,
        one: f64,
    ) -> Option<(Lanes<S, B>, Lanes<S, B>, Lanes<S, B>)> {
        let nv = B / S::F64_LANES;
        let zero = simd.splat_f64s(0.0);
        // (The guess's counts: dropped.)
        let mut cv = [zero; B];
        // The guess: `8P(4 n G / g)`, `G` the sum of magnitudes of the first `g` rows, in
        // `(16, 32]` times the sum that `G` extrapolates to. On normal data a 16-output
        // block of 16 to 64 rows guessed too small about once in a hundred.
        let g = self.rows.len().min(4);
        let mut sigma = [zero; B];
        for &r in &self.rows[..g] {
            // SAFETY: our contract.
            let xs = unsafe { self.row_vectors::<S, B, FULL>(simd, r, j, k, &mut cv) };
            for v in 0..nv {
                sigma[v] = simd.add_f64s(sigma[v], simd.abs_f64s(xs[v]));
            }
        }
        let (scale, eight) = (
            simd.splat_f64s(4.0 * self.rows.len() as f64 / g as f64),
            simd.splat_f64s(8.0),
        );
        for v in 0..nv {
            sigma[v] = simd.mul_f64s(power_of_two(simd, simd.mul_f64s(sigma[v], scale)), eight);
        }
        // SAFETY: our contract.
        let (mut t, mut l, a, low, count) =
            unsafe { self.offset_pass::<S, B, FULL, true>(simd, j, k, one, sigma) };
        let (largest, highest, least) = (
            simd.splat_f64s(f64::from_bits(0x7f80_0000_0000_0000)), // 2^1017
            simd.splat_f64s(f64::from_bits(0x7fc0_0000_0000_0000)), // 2^1021
            simd.splat_f64s(f64::MIN_POSITIVE),
        );
        let span = simd.splat_f64s(
            (2.0f64).powi(54 - self.rows.len().next_power_of_two().trailing_zeros() as i32),
        );
        let margin = simd.splat_f64s(4.5);
        // Per vector: whether `A` is finite and small enough, and the largest `σ` the
        // certificate allows (`M 2^(54 - k)`).
        let (mut finite, mut guessed) = (true, true);
        let mut most = [zero; B];
        for v in 0..nv {
            let m = simd.max_f64s(power_of_two(simd, low[v]), least);
            most[v] = simd.mul_f64s(m, span);
            let fine = simd.and_m64s(
                simd.less_than_or_equal_f64s(a[v], largest),
                simd.equal_f64s(low[v], low[v]),
            );
            finite &= simd.first_true_m64s(simd.not_m64s(fine)) == S::F64_LANES;
            let ok = simd.and_m64s(
                simd.less_than_or_equal_f64s(simd.mul_f64s(a[v], margin), sigma[v]),
                simd.less_than_or_equal_f64s(sigma[v], simd.min_f64s(most[v], highest)),
            );
            guessed &= simd.first_true_m64s(simd.not_m64s(ok)) == S::F64_LANES;
        }
        if !finite {
            return None;
        }
        if !guessed {
            // The rows again, from the offset their magnitudes give (`16P <= 2^1021`).
            let sixteen = simd.splat_f64s(16.0);
            let mut certified = true;
            for v in 0..nv {
                sigma[v] = simd.mul_f64s(power_of_two(simd, a[v]), sixteen);
                let ok = simd.less_than_or_equal_f64s(sigma[v], most[v]);
                certified &= simd.first_true_m64s(simd.not_m64s(ok)) == S::F64_LANES;
            }
            if !certified {
                return None;
            }
            // SAFETY: our contract.
            (t, l, ..) = unsafe { self.offset_pass::<S, B, FULL, false>(simd, j, k, one, sigma) };
        }
        for v in 0..nv {
            t[v] = simd.sub_f64s(t[v], sigma[v]);
        }
        Some((t, l, count))
    }

    /// The pass of [`Self::offset_sums`] from the offsets `sigma`: each lane's `t` and `l`,
    /// and with `MAGNITUDES` its sum of magnitudes, smallest nonzero magnitude's predecessor
    /// (`+inf`: none) and count (`row_vectors`'s).
    ///
    /// # Safety
    /// As [`Self::block`].
    #[allow(clippy::type_complexity)]
    #[inline(always)]
    unsafe fn offset_pass<S: Simd, const B: usize, const FULL: bool, const MAGNITUDES: bool>(
        &self,
        simd: S,
        j: usize,
        k: usize,
        one: f64,
        sigma: [S::f64s; B],
    ) -> (
        Lanes<S, B>,
        Lanes<S, B>,
        Lanes<S, B>,
        Lanes<S, B>,
        Lanes<S, B>,
    ) {
        let nv = B / S::F64_LANES;
        let zero = simd.splat_f64s(0.0);
        let (onev, unit) = (simd.splat_f64s(one), simd.splat_u64s(1));
        let mut cv = [zero; B];
        let (mut t, mut l) = (sigma, [zero; B]);
        let (mut a, mut low) = ([zero; B], [simd.splat_f64s(f64::INFINITY); B]);
        for &r in self.rows {
            // SAFETY: our contract.
            let xs = unsafe { self.row_vectors::<S, B, FULL>(simd, r, j, k, &mut cv) };
            for v in 0..nv {
                let x = xs[v];
                if MAGNITUDES {
                    let m = simd.abs_f64s(x);
                    a[v] = simd.add_f64s(a[v], m);
                    // The bits less one: a zero's wrap to a NaN, which the minimum drops
                    // (x86's takes its second operand where one is NaN; a level that took
                    // the NaN would fail the check: slower, not wrong). The others keep
                    // their order.
                    let below =
                        simd.transmute_f64s_u64s(simd.sub_u64s(simd.transmute_u64s_f64s(m), unit));
                    low[v] = simd.min_f64s(below, low[v]);
                }
                let s = simd.add_f64s(t[v], x);
                let z = sub_f(simd, onev, s, t[v]);
                l[v] = simd.add_f64s(l[v], sub_f(simd, onev, x, z));
                t[v] = s;
            }
        }
        (t, l, a, low, cv)
    }

    /// The end of [`Self::block`] for outputs `j .. j + k` whose state is `h`, `l`, `f`
    /// (`S = h + l + Σg`, `f = Σ|g|` rounded: exact where `f == 0`) and counts `c` (the
    /// nan-functions'), `B / S::F64_LANES` vectors each: their values written, the undecided
    /// ones pushed to `todo`.
    ///
    /// # Safety
    /// As [`Self::block`].
    #[allow(clippy::too_many_arguments)]
    #[inline(always)]
    unsafe fn finish<S: Simd, const B: usize, const FULL: bool>(
        &self,
        simd: S,
        j: usize,
        k: usize,
        hv: [S::f64s; B],
        lv: [S::f64s; B],
        fv: [S::f64s; B],
        cv: [S::f64s; B],
        todo: &mut Vec<(usize, FloatPartial)>,
    ) {
        let nv = B / S::F64_LANES;
        let (mut h, mut l, mut f, mut n) = ([0.0f64; B], [0.0f64; B], [0.0f64; B], [0u64; B]);
        let mut c = [0.0f64; B];
        for (arr, vs) in [(&mut h, &hv), (&mut l, &lv), (&mut f, &fv), (&mut c, &cv)] {
            S::as_mut_simd_f64s(arr).0.copy_from_slice(&vs[..nv]);
        }
        if P::IGNORE {
            for i in 0..B {
                n[i] = c[i] as u64;
            }
        }
        // Where `f == 0`, `h + l` is the exact sum rounded to nearest (see the module docs);
        // each kind makes its output from it as `FloatOut::value` does from an exact partial.
        // The sums and means, and the test below, in vector operations written out: left to
        // the compiler, the lanes' arrays went through the stack and each lane was added,
        // inserted and tested on its own (one Zen 4 thread, AVX-512: 4 ns an output of a
        // (4, 25000) f64 sum, three times numpy's, against ~1 for the loop over the rows).
        // (`B` is a whole number of vectors: 16 or 8 lanes, vectors of 8, 4 or 1.)
        let (hv, _) = S::as_simd_f64s(&h);
        let (lv, _) = S::as_simd_f64s(&l);
        let (fv, _) = S::as_simd_f64s(&f);
        // (The kind matched outside the loops over the lanes: matched in them, the compiler
        // split the lanes into pieces through memory, whose reloads waited on the stores.)
        let mut v = [0.0; B];
        match self.kind {
            FloatOut::Sum { f32: false } => {
                let (vv, _) = S::as_mut_simd_f64s(&mut v);
                for ((v, &h), &l) in vv.iter_mut().zip(hv).zip(lv) {
                    *v = simd.add_f64s(h, l);
                }
            }
            FloatOut::Mean { n: d, .. } => {
                let d = simd.splat_f64s(d);
                let (vv, _) = S::as_mut_simd_f64s(&mut v);
                for ((v, &h), &l) in vv.iter_mut().zip(hv).zip(lv) {
                    *v = simd.div_f64s(simd.add_f64s(h, l), d);
                }
            }
            FloatOut::Sum { f32: true } => {
                for i in 0..B {
                    let p = FloatPartial {
                        hi: h[i],
                        lo: l[i],
                        n: 0,
                        err: 0.0,
                    };
                    v[i] = p.rounded_f32().map_or(0.0, f64::from);
                }
            }
            FloatOut::NanMean { .. } => {
                for i in 0..B {
                    v[i] = (h[i] + l[i]) / n[i] as f64;
                }
            }
        }
        // SAFETY: our contract.
        unsafe { self.emit::<B, FULL>(j, k, v) };
        // A whole block of sums or means whose every `f` is zero and `h` finite: decided (the
        // common case), tested on the vectors.
        if FULL && matches!(self.kind, FloatOut::Sum { .. } | FloatOut::Mean { .. }) {
            let zero = simd.splat_f64s(0.0);
            let inf = simd.splat_f64s(f64::INFINITY);
            let mut open = false;
            for (&f, &h) in fv.iter().zip(hv) {
                let ok = simd.and_m64s(
                    simd.equal_f64s(f, zero),
                    simd.less_than_f64s(simd.abs_f64s(h), inf),
                );
                open |= simd.first_true_m64s(simd.not_m64s(ok)) < S::F64_LANES;
            }
            if !open {
                return;
            }
        }
        let nan_mean = matches!(self.kind, FloatOut::NanMean { .. });
        // (`&` and `|`, not `&&` and `||`: no branch per lane, so the test stays vector code.)
        let decided = |i: usize| (f[i] == 0.0) & h[i].is_finite() & ((n[i] != 0) | !nan_mean);
        let mut all = true;
        for i in 0..B {
            all &= decided(i) | (i >= k);
        }
        if all {
            return;
        }
        // A NaN element makes the output NaN, which it is already (`h + l` with `h` NaN, and
        // that over the count): decided, not summed again exactly (the partials path decides
        // it by its bound's NaN). Found here, rereading the block (only a block with an
        // undecided output), not per output out of line: a (4, 100000) mean with a fifth of
        // its elements NaN took 75x numpy's time with an exact pass for each, and 14x with
        // each checked out of line. (`h` is NaN from an infinity less one too, or a partial
        // sum that overflowed: those are summed exactly.)
        let mut nan = [false; B];
        if !P::IGNORE && !matches!(self.kind, FloatOut::Sum { f32: true }) {
            for &r in self.rows {
                // SAFETY: our contract.
                let xs: [T; B] = unsafe { self.load::<B, FULL>(r, j, k) };
                for i in 0..B {
                    nan[i] |= xs[i].is_nan();
                }
            }
            let mut all = true;
            for i in 0..B {
                all &= decided(i) | nan[i] | (i >= k);
            }
            if all {
                return;
            }
        }
        self.undecided(j, k, todo, move |i| {
            if f[i] == 0.0 && h[i].is_finite() && (n[i] != 0 || !nan_mean) || nan[i] {
                return None;
            }
            let finite = h[i].is_finite() && l[i].is_finite() && f[i].is_finite();
            Some(FloatPartial {
                hi: h[i],
                lo: l[i],
                n: if P::IGNORE { n[i] } else { 0 },
                err: if finite { 2.0 * f[i] } else { f64::INFINITY },
            })
        });
    }

    /// [`Self::block`] for f32 elements (`T` is `f32`): each output's elements are added
    /// plainly in f64, and the sum is exact when their magnitudes span at most `29 - k`
    /// binades, `rows <= 2^k` (below; 24 for 32 rows, 22 for 128); else (or a non-finite
    /// element) it leaves as a partial with its bound.
    ///
    /// Proof. Let `E` be the largest biased f32 exponent of the output's elements and `e` the
    /// smallest of its nonzero ones (1 for a subnormal, which has the grid of exponent 1).
    /// Every element is a whole multiple of `q = 2^(e - 150)` (its own last bit is), so every
    /// partial sum is one, of magnitude at most `rows · 2^(E - 126) <= 2^(E + k - 126)`.
    /// An f64 holds every multiple of `q` up to `2^53 q`: with `E - e <= 29 - k`,
    /// `2^(E + k - 126) <= 2^(e - 97) = 2^53 q`, so no addition rounds (and `q >= 2^-149` is
    /// far above f64's smallest step). On normal-like data the smallest magnitude of a
    /// column of 128 is rarely below 2^-16 of its largest. The exponents' extremes cost two
    /// integer operations a lane, on the bits, 16 lanes a 512-bit vector: a third of the
    /// TwoSums' work. The bound of a plain sum of `rows` elements is `rows² u max|x|` (each
    /// addition errs by at most `u` times a partial sum, at most `rows max|x|`), doubled.
    ///
    /// # Safety
    /// As [`Self::block`].
    #[inline(always)]
    unsafe fn block_f32<S: Simd, const B: usize, const FULL: bool>(
        &self,
        simd: S,
        j: usize,
        k: usize,
        todo: &mut Vec<(usize, FloatPartial)>,
    ) {
        const { assert!(SHORT_COLUMN_ROWS_F32_CACHED <= 1 << 20) }; // (a span of 9 binades or more)
        let span_binades = exact_f32_span(self.rows.len());
        // Each lane's sum, count, largest `|x|`'s bits and smallest nonzero `|x|`'s bits less
        // one (a zero's wraps to the largest u32, which no minimum takes).
        let (mut s, mut n) = ([0.0f64; B], [0u32; B]);
        let (mut top, mut low) = ([0u32; B], [u32::MAX; B]);
        for &r in self.rows {
            // SAFETY: our contract.
            let xs: [T; B] = unsafe { self.load::<B, FULL>(r, j, k) };
            // SAFETY: `T` is f32 (the caller's check), so `[T; B]` is `[f32; B]`.
            let xs: [f32; B] = unsafe { std::mem::transmute_copy(&xs) };
            for i in 0..B {
                let x = xs[i];
                let (x, c) = if P::IGNORE {
                    let valid = !x.is_nan();
                    (if valid { x } else { 0.0 }, u32::from(valid))
                } else {
                    (x, 0)
                };
                let b = x.to_bits() & 0x7fff_ffff;
                top[i] = top[i].max(b);
                low[i] = low[i].min(b.wrapping_sub(1));
                s[i] += f64::from(x);
                n[i] += c;
            }
        }
        // (As in `block`, the kind matched outside the loops over the lanes, and the means
        // and the test in vector operations.)
        let mut v = s;
        match self.kind {
            FloatOut::Sum { .. } => {}
            FloatOut::Mean { n: d, .. } => {
                let d = simd.splat_f64s(d);
                let (vv, _) = S::as_mut_simd_f64s(&mut v);
                for x in vv {
                    *x = simd.div_f64s(*x, d);
                }
            }
            FloatOut::NanMean { .. } => {
                for i in 0..B {
                    v[i] /= f64::from(n[i]);
                }
            }
        }
        // SAFETY: our contract.
        unsafe { self.emit::<B, FULL>(j, k, v) };
        let nan_mean = matches!(self.kind, FloatOut::NanMean { .. });
        // A whole block not of nan-means, every output exact (below): decided. On the bits,
        // `max(e, 1) <= max(e', 1) + span` for the biased exponents `e`, `e'` is the same test
        // on the exponent fields in place (`b & 0x7f80_0000`, at least `1 << 23`), with no
        // shift (pulp has none): at most `279 << 23`, no wrapping.
        if FULL && !nan_mean {
            let field = simd.splat_u32s(0x7f80_0000);
            let least = simd.splat_u32s(1 << 23);
            let span = simd.splat_u32s(span_binades << 23);
            let one = simd.splat_u32s(1);
            let (tv, _) = S::as_simd_u32s(&top);
            let (lv, _) = S::as_simd_u32s(&low);
            let mut open = false;
            for (&t, &l) in tv.iter().zip(lv) {
                let et = simd.max_u32s(simd.and_u32s(t, field), least);
                let el = simd.max_u32s(simd.and_u32s(simd.add_u32s(l, one), field), least);
                let ok = simd.and_m32s(
                    simd.less_than_u32s(t, field),
                    simd.less_than_or_equal_u32s(et, simd.add_u32s(el, span)),
                );
                open |= simd.first_true_m32s(simd.not_m32s(ok)) < S::F32_LANES;
            }
            if !open {
                return;
            }
        }
        let exponent = |b: u32| (b >> 23).max(1);
        let exact = move |i: usize| {
            (top[i] < 0x7f80_0000)
                & (exponent(top[i]) <= exponent(low[i].wrapping_add(1)) + span_binades)
        };
        // The largest magnitude's bits above infinity's: a NaN element (the nan-functions
        // zeroed theirs), so the output is NaN, which it is already (`s` is): decided, as in
        // `block`.
        let decided = move |i: usize| exact(i) & ((n[i] != 0) | !nan_mean) | (top[i] > 0x7f80_0000);
        let mut all = true;
        for i in 0..B {
            all &= decided(i) | (i >= k);
        }
        if all {
            return;
        }
        let rows = self.rows.len() as f64;
        self.undecided(j, k, todo, move |i| {
            if decided(i) {
                return None;
            }
            let finite = top[i] < 0x7f80_0000 && s[i].is_finite();
            let bound = rows * rows * f64::EPSILON * f64::from(f32::from_bits(top[i]));
            Some(FloatPartial {
                hi: s[i],
                lo: 0.0,
                n: u64::from(n[i]),
                err: if finite { bound } else { f64::INFINITY },
            })
        });
    }

    /// Pushes the partials `part` gives of outputs `j .. j + k` (`None`: decided) to `todo`.
    /// Out of line, the block's state moved into `part`: a block's arrays indexed by a
    /// variable, or borrowed, stayed in memory, not in registers, on the common path.
    #[cold]
    #[inline(never)]
    fn undecided(
        &self,
        j: usize,
        k: usize,
        todo: &mut Vec<(usize, FloatPartial)>,
        part: impl Fn(usize) -> Option<FloatPartial>,
    ) {
        for i in 0..k {
            if let Some(p) = part(i) {
                todo.push((self.first + (j + i) * self.out_stride, p));
            }
        }
    }
}

impl<T: FloatElement, P: NanPolicy> WithSimd for ShortColumns<'_, T, P> {
    type Output = Vec<(usize, FloatPartial)>;

    #[inline(always)]
    fn with_simd<S: Simd>(self, _simd: S) -> Self::Output {
        // f64: two vectors of f64 outputs a block: AVX-512's state is six registers of 32
        // (eight with the counts), AVX2's six of 16. (`add_f` and `two_sum_vf` test `has_fma`
        // in const blocks: the scalar level never compiles `mul_add`, a library call there.)
        // f32: four vectors of f64 sums a block and two of u32 extremes (eight of 32 at
        // AVX-512, ten of 16 at AVX2), 128 bytes of each row at AVX-512: against two vectors,
        // `examples/hot` on one Zen 4 thread took 0.6-0.8x the time for a (33, 4096) mean at
        // both levels, 0.7-1.1x for (8, 12500); eight vectors were slower (AVX2: spills).
        let f32 = T::ELEM == ElemType::F32;
        if f32 && S::F64_LANES >= 8 {
            self.run::<S, 32>(_simd)
        } else if (f32 && S::F64_LANES >= 4) || S::F64_LANES >= 8 {
            self.run::<S, 16>(_simd)
        } else {
            self.run::<S, 8>(_simd)
        }
    }
}
