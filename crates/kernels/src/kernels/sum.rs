//! Compensated float sums (exact integer sums are in `int_sum`).
//!
//! **f64 data**: every element goes through TwoSum into its lane's (hi, lo) pair, so each
//! lane's sum is exact up to the rounding of `lo`, and so is the combination of lanes and
//! units: the result is within one ulp of the exact sum whatever the data, and far better
//! than pairwise summation on ill-conditioned data. A cheaper blocked scheme (plain adds
//! inside blocks, TwoSum across) was measured first and rejected: its in-block rounding is
//! systematic on repetitive data (ten million 0.1s came out 4 ulps off), so it cannot keep
//! the one-ulp promise.
//!
//! **f32 data** is widened to f64 and added plainly for `FOLD_ROWS` blocks per lane, then
//! folded into (hi, lo) with TwoSum: the in-block error (at most ~8 f64 eps relative) is
//! 2^-29 of an f32 ulp, so the f32 result is within one f32 ulp at any length.

use super::{has_fma, two_sum, two_sum_fma, Kernel, NanPolicy, LANES, ROWS, TILE};
use crate::element::Element;
use crate::walk::{
    for_each_block, for_each_in_row, gather, gather_ahead, prefetch_bytes, stream_blocks,
    CONTIGUOUS_AHEAD, STREAMS,
};
use pulp::Simd;
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
/// summation in f64); `n` counts the elements that were not NaN under the nan-functions (and
/// is 0 under the plain ones, which count elements by shape).
///
/// The representation will change when float sums become correctly rounded; use
/// [`FloatPartial::combine`] and [`FloatPartial::value`] rather than the fields.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct FloatPartial {
    /// The leading part of the sum.
    pub hi: f64,
    /// The rounding error accumulated by `hi`.
    pub lo: f64,
    /// Elements counted (nan-functions only).
    pub n: u64,
}

impl FloatPartial {
    /// The sum of no elements.
    pub const EMPTY: Self = Self {
        hi: 0.0,
        lo: 0.0,
        n: 0,
    };

    /// The rounded sum. Once `hi` is inf or NaN, `lo` holds TwoSum's NaN and is ignored.
    pub fn value(self) -> f64 {
        if self.hi.is_finite() {
            self.hi + self.lo
        } else {
            self.hi
        }
    }

    /// The state of the same elements each taken `factor` times: `hi * factor` exactly (its
    /// rounding error from an fma goes into `lo`), `lo * factor` rounded once.
    pub(crate) fn repeated(self, factor: u64) -> Self {
        let f = factor as f64;
        let hi = self.hi * f;
        let lo = if hi.is_finite() {
            self.hi.mul_add(f, -hi) + self.lo * f
        } else {
            self.lo
        };
        Self {
            hi,
            lo,
            n: self.n.saturating_mul(factor),
        }
    }

    /// The state of the union of two disjoint sets of elements: `hi`s added with TwoSum, its
    /// error into `lo`. The kernels combine their lanes and work units with this.
    #[inline(always)]
    pub fn combine(self, b: Self) -> Self {
        let (hi, e) = two_sum(self.hi, b.hi);
        Self {
            hi,
            lo: self.lo + b.lo + e,
            n: self.n + b.n,
        }
    }
}

/// Compensated sum of float (or any, via `to_f64`) elements.
pub(crate) struct FloatSum<T, P>(PhantomData<(T, P)>);

impl<T, P> FloatSum<T, P> {
    pub fn new() -> Self {
        Self(PhantomData)
    }
}

pub(crate) struct FloatLanes {
    tmp: [f64; LANES],
    hi: [f64; LANES],
    lo: [f64; LANES],
    n: [u64; LANES],
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

/// The per-output arrays are padded so that `hi[j]`, `lo[j]`, ... are not a multiple of
/// 4 KiB apart, a precaution against 4K-aliasing stalls between their loads and stores. (The
/// measured effect on the vertical path was within noise; its bottleneck is still open.)
const ANTI_ALIAS: usize = TILE + 24;

pub(crate) struct FloatTile {
    tmp: [f64; ANTI_ALIAS],
    hi: [f64; ANTI_ALIAS],
    lo: [f64; ANTI_ALIAS],
    n: [u64; ANTI_ALIAS],
}

/// True for f64 data: TwoSum on every element (see the module docs).
#[inline(always)]
const fn exact_each<T: Element>() -> bool {
    T::IS_FLOAT && std::mem::size_of::<T>() == 8
}

#[inline(always)]
fn filtered<T: Element, P: NanPolicy>(x: T) -> (f64, u64) {
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
#[inline(always)]
fn halve<const W: usize>(hi: &mut [f64; LANES], lo: &mut [f64; LANES], n: &mut [u64; LANES]) {
    for j in 0..W {
        let (s, e) = two_sum(hi[j], hi[j + W]);
        hi[j] = s;
        lo[j] = lo[j] + lo[j + W] + e;
        n[j] += n[j + W];
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
                        l.n[j] += v;
                    }
                },
                #[inline(always)]
                |l, j, x| {
                    let (x, v) = filtered::<T, P>(x);
                    let (s, e) = ts(l.hi[j], x);
                    l.hi[j] = s;
                    l.lo[j] += e;
                    l.n[j] += v;
                },
            );
            return;
        }
        for_each_block::<T, _, LANES>(
            lanes,
            ptr,
            len,
            stride,
            Some(neutral::<T, P>()),
            #[inline(always)]
            |l, block| {
                for j in 0..LANES {
                    let (x, v) = filtered::<T, P>(block[j]);
                    l.tmp[j] += x;
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
                if j == 0 {
                    l.rows += 1;
                    if l.rows == FOLD_ROWS {
                        // Folding lane 0's tail now is safe: later tail lanes add to the
                        // fresh zeroed `tmp`.
                        l.fold();
                    }
                }
            },
        )
    }
}

/// `(hi, lo) += x` for vectors of lanes: [`two_sum_fma`]'s operations in its order (s = h +
/// x, bb = s - h, e = (h - (s - bb)) + (x - bb), each `a - b` written as -(b * 1) + a, the
/// same single rounding), then `lo += e`. `one` is a splat of an opaque 1.0.
///
/// Named functions with `inline(always)`, never closures: a closure does not inherit the SIMD
/// context's target features, so one that the compiler leaves out of line runs every vector
/// operation as a call (the f64 sum was 20-50x slower at 4afcf2f, where `add_block` was a
/// closure; `tests/suite.rs`' instruction counts now catch that).
///
/// `FMA_JOIN`: `e1 + e2` as `fma(e1, 1, e2)` (the same single rounding, so the same bits).
/// The step is then 3 additions and 4 FMAs instead of 4 and 3; alternating the two forms
/// between a block's vectors gives each pair of vectors 7 of each, which Zen's two add and
/// two FMA pipes share evenly (an in-cache sum is bound by them).
#[inline(always)]
fn two_sum_step<S: Simd, const FMA_JOIN: bool>(
    simd: S,
    one: S::f64s,
    h: &mut S::f64s,
    l: &mut S::f64s,
    x: S::f64s,
) {
    let s = simd.add_f64s(*h, x);
    let bb = simd.negate_mul_add_f64s(*h, one, s);
    let e1 = simd.negate_mul_add_f64s(simd.sub_f64s(s, bb), one, *h);
    let e2 = simd.negate_mul_add_f64s(bb, one, x);
    *h = s;
    let e = if FMA_JOIN {
        simd.mul_add_f64s(e1, one, e2)
    } else {
        simd.add_f64s(e1, e2)
    };
    *l = simd.add_f64s(*l, e);
}

/// [`two_sum_step`] into vector `k` of a block: even vectors join with an FMA, odd ones with
/// an addition.
#[inline(always)]
fn two_sum_at<S: Simd>(
    simd: S,
    one: S::f64s,
    k: usize,
    h: &mut S::f64s,
    l: &mut S::f64s,
    x: S::f64s,
) {
    if k % 2 == 0 {
        two_sum_step::<S, true>(simd, one, h, l, x)
    } else {
        two_sum_step::<S, false>(simd, one, h, l, x)
    }
}

/// [`two_sum_step`] of one block of `F64_LANES` f64 at `block` into `N` vectors of lanes.
///
/// # Safety
/// `block..block + F64_LANES` must be valid f64; `N * S::F64_LANES == F64_LANES`.
#[inline(always)]
unsafe fn add_block<S: Simd, const N: usize>(
    simd: S,
    one: S::f64s,
    h: &mut [S::f64s; N],
    l: &mut [S::f64s; N],
    block: *const f64,
) {
    for k in 0..N {
        // SAFETY: vector k covers block elements k * W .. (k + 1) * W, inside the block
        // (our contract); pulp's vector types are plain arrays of f64, read unaligned.
        let x: S::f64s = unsafe {
            block
                .add(k * S::F64_LANES)
                .cast::<S::f64s>()
                .read_unaligned()
        };
        two_sum_at(simd, one, k, &mut h[k], &mut l[k], x);
    }
}

/// The f64 sum (not nan-skipping) of a contiguous run with explicit vectors: `len` f64 at
/// `ptr`, element `i` into lane `i % F64_LANES` with [`two_sum_fma`]'s operations in its
/// order, so every lane ends bitwise as the lane arrays would (and as the scalar level's
/// [`two_sum`] makes them). Written with vectors because the compiler did not map the (hi,
/// lo) arrays onto whole registers: AVX2 code split `hi` into 128-bit halves and kept a `lo`
/// in memory (perf annotate). The short last block is filled up with +0.0, which leaves a
/// lane's value unchanged (see [`neutral`]): one more vector step, not up to 15 scalar
/// TwoSums with the lanes in memory (a fifth of a 316-element row's time). `one` must be an
/// opaque 1.0 (see [`two_sum_fma`]). Only for SIMD levels whose vectors divide `F64_LANES`.
/// `memory`: the run is the caller's data (prefetched ahead at AVX2), not a gathered copy.
///
/// # Safety
/// `ptr..ptr + len` must be valid, initialised f64.
#[inline(always)]
unsafe fn f64_blocks<S: Simd>(
    simd: S,
    hi: &mut [f64; LANES],
    lo: &mut [f64; LANES],
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
        2 => unsafe { f64_blocks_n::<S, { F64_LANES / 2 }>(simd, hi, lo, ptr, len, one, memory) },
        // SAFETY: forwarded from this function's contract.
        4 => unsafe { f64_blocks_n::<S, { F64_LANES / 4 }>(simd, hi, lo, ptr, len, one, memory) },
        // SAFETY: forwarded from this function's contract.
        8 => unsafe { f64_blocks_n::<S, { F64_LANES / 8 }>(simd, hi, lo, ptr, len, one, memory) },
        w => unreachable!("no f64 sum loop for {w}-lane vectors"),
    }
}

/// [`f64_blocks`] with `N` vectors of `S::F64_LANES` per block (`N * S::F64_LANES ==
/// F64_LANES`, checked).
///
/// # Safety
/// As [`f64_blocks`].
#[inline(always)]
unsafe fn f64_blocks_n<S: Simd, const N: usize>(
    simd: S,
    hi: &mut [f64; LANES],
    lo: &mut [f64; LANES],
    ptr: *const f64,
    len: usize,
    one: f64,
    memory: bool,
) {
    assert_eq!(N * S::F64_LANES, F64_LANES);
    let one = simd.splat_f64s(one);
    let (hv, _) = S::as_simd_f64s(&hi[..F64_LANES]);
    let (lv, _) = S::as_simd_f64s(&lo[..F64_LANES]);
    let mut h: [S::f64s; N] = hv[..N].try_into().expect("N vectors");
    let mut l: [S::f64s; N] = lv[..N].try_into().expect("N vectors");
    let mut p = ptr;
    // The first blocks of the caller's data as `walk::STREAMS` streams side by side, in the
    // order `blocks_contiguous` (the scalar level's loop) takes them; the rest in order below.
    let q = if memory {
        stream_blocks::<f64, F64_LANES>(len)
    } else {
        0
    };
    for _ in 0..q {
        for s in 0..STREAMS {
            // SAFETY: at the loop's i-th step `p` is element i * F64_LANES, so this is block
            // s * q + i of the run, inside it (s * q + i < STREAMS * q <= len / F64_LANES).
            unsafe { add_block(simd, one, &mut h, &mut l, p.add(s * q * F64_LANES)) };
        }
        p = p.wrapping_add(F64_LANES);
    }
    p = p.wrapping_add((STREAMS - 1) * q * F64_LANES);
    let len = len - STREAMS * q * F64_LANES;
    if S::F64_LANES == 4 && memory {
        // AVX2: the hardware prefetcher alone left a single thread's sum of cold memory at
        // 9-10 GB/s, below numpy's plain sum (10.5-11.5): TwoSum takes ten instructions per
        // vector here, so the out-of-order window spans few cache lines. A C copy of this
        // loop read 10 GB/s without and 11.5-12 with these prefetches a kilobyte ahead (Zen
        // 3), and the same in cache. AVX-512 (twice the bytes per instruction) is left as it
        // was measured, at its probe's speed. A loop of its own: with the test inside one
        // loop, the compiler branched out to the prefetches and back in every block, and
        // in-cache sums lost 8%.
        for _ in 0..len / F64_LANES {
            prefetch_bytes(p, CONTIGUOUS_AHEAD, F64_LANES * 8);
            // SAFETY: the block lies inside the run, whose elements are valid (our contract).
            unsafe { add_block(simd, one, &mut h, &mut l, p) };
            p = p.wrapping_add(F64_LANES);
        }
    } else {
        for _ in 0..len / F64_LANES {
            // SAFETY: as above.
            unsafe { add_block(simd, one, &mut h, &mut l, p) };
            p = p.wrapping_add(F64_LANES);
        }
    }
    let rest = len % F64_LANES;
    if rest > 0 {
        // The last block read with masked loads (pulp's partial loads: zero past the run),
        // not copied into a zeroed block: the copy was a call to memcpy with every vector
        // spilled around it, then a load that waited on its stores (~17 ns a row, a quarter
        // of a 100-element row's time).
        // SAFETY: the run's last `rest` elements are valid (our contract).
        let tail = unsafe { std::slice::from_raw_parts(p, rest) };
        let w = S::F64_LANES;
        for k in 0..N {
            let x = simd.partial_load_f64s(&tail[(k * w).min(rest)..((k + 1) * w).min(rest)]);
            two_sum_at(simd, one, k, &mut h[k], &mut l[k], x);
        }
    }
    let (hv, _) = S::as_mut_simd_f64s(&mut hi[..F64_LANES]);
    hv.copy_from_slice(&h);
    let (lv, _) = S::as_mut_simd_f64s(&mut lo[..F64_LANES]);
    lv.copy_from_slice(&l);
}

impl<T: Element, P: NanPolicy> FloatSum<T, P> {
    /// `push_rows` for `ROWS` rows of stride `C` (1, or 2: every other element, with a
    /// constant stride the compiler loads whole vectors and shuffles): each output's state
    /// stays in registers for the rows, which are taken in order, exactly as `push_row` row
    /// after row does. It saves the state's loads and stores, three quarters of the vertical
    /// path's memory traffic besides the data.
    ///
    /// # Safety
    /// `rows[r] + j * C` must be a valid `T` for every row `r` and `j < len`, `len >= 1`.
    #[inline(always)]
    unsafe fn push_rows_strided<const C: usize>(
        &self,
        tile: &mut FloatTile,
        rows: [*const T; ROWS],
        len: usize,
    ) {
        // SAFETY: elements 0, C, ..., (len - 1) * C of each row are valid (our contract), and
        // so is everything between them: they lie in one row of the view.
        let rows: [&[T]; ROWS] = std::array::from_fn(|r| unsafe {
            std::slice::from_raw_parts(rows[r], (len - 1) * C + 1)
        });
        if const { !exact_each::<T>() } {
            // Widened elements added plainly into `tmp`, in row order, as `push_row` does.
            let (tmp, n) = (&mut tile.tmp[..len], &mut tile.n[..len]);
            for j in 0..len {
                let (mut s, mut c) = (tmp[j], n[j]);
                for row in &rows {
                    let (x, v) = filtered::<T, P>(row[j * C]);
                    s += x;
                    c += v;
                }
                tmp[j] = s;
                n[j] = c;
            }
            return;
        }
        let (hi, lo, n) = (&mut tile.hi[..len], &mut tile.lo[..len], &mut tile.n[..len]);
        for j in 0..len {
            let (mut h, mut l, mut c) = (hi[j], lo[j], n[j]);
            for row in &rows {
                let (x, v) = filtered::<T, P>(row[j * C]);
                let (s, e) = two_sum(h, x);
                h = s;
                l += e;
                c += v;
            }
            hi[j] = h;
            lo[j] = l;
            n[j] = c;
        }
    }
}

/// The f64 vertical path (not nan-skipping) with explicit vectors: `ROWS` contiguous rows
/// added into the first `len` (a multiple of `F64_LANES`) outputs' (hi, lo), each output's
/// rows in order with [`two_sum_fma`]'s operations, so bitwise as `push_row` row after row.
/// `F64_LANES` outputs at a time, so that their TwoSum chains (four dependent TwoSums per
/// output) are side by side in the instruction stream: compiled from the scalar loop, one
/// output after another, the processor saw one long chain at a time (316x316 f64 axis-0 mean
/// at 0.8x numpy). `one` must be an opaque 1.0.
///
/// # Safety
/// `rows[r]..rows[r] + len` must be valid, initialised f64 for every row.
#[inline(always)]
unsafe fn f64_rows<S: Simd>(
    simd: S,
    hi: &mut [f64],
    lo: &mut [f64],
    rows: [*const f64; ROWS],
    len: usize,
    one: f64,
) {
    if len == 0 {
        return;
    }
    match S::F64_LANES {
        // SAFETY: forwarded from this function's contract.
        2 => unsafe { f64_rows_n::<S, { F64_LANES / 2 }>(simd, hi, lo, rows, len, one) },
        // SAFETY: forwarded from this function's contract.
        4 => unsafe { f64_rows_n::<S, { F64_LANES / 4 }>(simd, hi, lo, rows, len, one) },
        // SAFETY: forwarded from this function's contract.
        8 => unsafe { f64_rows_n::<S, { F64_LANES / 8 }>(simd, hi, lo, rows, len, one) },
        w => unreachable!("no f64 vertical loop for {w}-lane vectors"),
    }
}

/// [`f64_rows`] with `N` vectors of `S::F64_LANES` outputs per step.
///
/// # Safety
/// As [`f64_rows`].
#[inline(always)]
unsafe fn f64_rows_n<S: Simd, const N: usize>(
    simd: S,
    hi: &mut [f64],
    lo: &mut [f64],
    rows: [*const f64; ROWS],
    len: usize,
    one: f64,
) {
    assert_eq!(N * S::F64_LANES, F64_LANES);
    assert!(len % F64_LANES == 0 && len <= hi.len() && len <= lo.len());
    let one = simd.splat_f64s(one);
    let (hv, _) = S::as_mut_simd_f64s(&mut hi[..len]);
    let (lv, _) = S::as_mut_simd_f64s(&mut lo[..len]);
    for (g, (hg, lg)) in hv
        .chunks_exact_mut(N)
        .zip(lv.chunks_exact_mut(N))
        .enumerate()
    {
        let mut h: [S::f64s; N] = hg[..N].try_into().expect("N vectors");
        let mut l: [S::f64s; N] = lg[..N].try_into().expect("N vectors");
        for &row in &rows {
            // SAFETY: outputs g * F64_LANES .. (g + 1) * F64_LANES are below `len`, so these
            // elements of the row are valid (our contract).
            unsafe { add_block(simd, one, &mut h, &mut l, row.add(g * F64_LANES)) };
        }
        hg.copy_from_slice(&h);
        lg.copy_from_slice(&l);
    }
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
        if const { has_fma::<S>() } {
            let one = std::hint::black_box(1.0);
            if const { exact_each::<T>() && !P::IGNORE } {
                // A strided run is copied a piece at a time (whole blocks, so element `i`
                // still goes to lane `i % F64_LANES`) and added with the contiguous loop:
                // the lane arrays' scalar code ran `a[:, ::2].mean(axis=1)` of 316x316 at
                // 0.74x numpy. The piece is on the stack; one call site of `f64_blocks`.
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
                    unsafe {
                        f64_blocks(
                            _simd,
                            &mut lanes.hi,
                            &mut lanes.lo,
                            piece,
                            n,
                            one,
                            stride == 1,
                        )
                    };
                    done += n;
                }
                return;
            }
            // SAFETY: forwarded from this function's contract (the rest of the same run).
            unsafe {
                feed_with::<T, P>(lanes, ptr, len, stride, move |a, b| two_sum_fma(a, b, one))
            }
        } else {
            // SAFETY: forwarded from this function's contract.
            unsafe { feed_with::<T, P>(lanes, ptr, len, stride, two_sum) }
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
            ..
        } = lanes;
        // Each level's width is a constant, so that its loop is a few vector operations
        // (a `while` over the widths left them scalar: a fifth of a 100-element f32 row).
        if const { !exact_each::<T>() } {
            halve::<16>(&mut hi, &mut lo, &mut n);
        }
        halve::<8>(&mut hi, &mut lo, &mut n);
        halve::<4>(&mut hi, &mut lo, &mut n);
        halve::<2>(&mut hi, &mut lo, &mut n);
        halve::<1>(&mut hi, &mut lo, &mut n);
        FloatPartial {
            hi: hi[0],
            lo: lo[0],
            n: n[0],
        }
    }

    #[inline(always)]
    fn combine(&self, a: FloatPartial, b: FloatPartial) -> FloatPartial {
        a.combine(b)
    }

    fn tile(&self) -> Box<FloatTile> {
        Box::new(FloatTile {
            tmp: [0.0; ANTI_ALIAS],
            hi: [0.0; ANTI_ALIAS],
            lo: [0.0; ANTI_ALIAS],
            n: [0; ANTI_ALIAS],
        })
    }

    #[inline(always)]
    unsafe fn push_row(&self, tile: &mut Box<FloatTile>, ptr: *const T, len: usize, stride: isize) {
        let t = &mut **tile;
        let (tmp, hi, lo, n) = (
            &mut t.tmp[..len],
            &mut t.hi[..len],
            &mut t.lo[..len],
            &mut t.n[..len],
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
        // f64 sums copy strided rows into contiguous pieces (at the FMA levels).
        stride == 1 || stride == 2 || const { exact_each::<T>() && !P::IGNORE }
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
            // Pieces of outputs, each added with the vector loop: contiguous rows in place,
            // as long as whole blocks of `F64_LANES` outputs last; strided rows and the last
            // `len % F64_LANES` outputs copied `GATHER` at a time into the tile's `tmp`
            // (unused by f64 sums) and filled up with +0.0 to whole blocks, whose extra
            // outputs (below `ANTI_ALIAS`, past `len`) are never read. The scalar loops ran
            // `a[:, ::2].mean(axis=0)` of 316x316 at 0.46x numpy.
            const { assert!(ROWS * GATHER <= ANTI_ALIAS && TILE + F64_LANES <= ANTI_ALIAS) };
            let mut j0 = 0;
            while j0 < len {
                let rest = len - j0;
                let direct = stride == 1 && rest >= F64_LANES;
                let n = if direct {
                    rest - rest % F64_LANES
                } else {
                    GATHER.min(rest)
                };
                let padded = n.next_multiple_of(F64_LANES);
                // (A loop, not `array::from_fn`: its closure was left out of line, compiled
                // without the level's target features.)
                let mut ptrs = [std::ptr::null::<f64>(); ROWS];
                for (r, slot) in ptrs.iter_mut().enumerate() {
                    let at = rows[r].cast::<f64>().wrapping_offset(j0 as isize * stride);
                    *slot = if direct {
                        at
                    } else {
                        let buf = &mut t.tmp[r * GATHER..r * GATHER + padded];
                        // SAFETY: elements `j0 .. j0 + n` of the row are valid f64 (our
                        // contract; `T` is f64).
                        unsafe { gather(at, stride, 0, &mut buf[..n]) };
                        buf[n..].fill(0.0);
                        buf.as_ptr()
                    };
                }
                // SAFETY: `ptrs[r]` is `padded` valid f64, the row's own (`direct`: `n ==
                // padded` of them) or the copy just made; outputs `j0 .. j0 + padded` are in
                // the tile (`j0 + padded <= TILE + F64_LANES`).
                unsafe { f64_rows(simd, &mut t.hi[j0..], &mut t.lo[j0..], ptrs, padded, one) };
                j0 += n;
            }
            return;
        }
        // SAFETY: forwarded from this function's contract, with the stride it was given.
        unsafe {
            match stride {
                1 => self.push_rows_strided::<1>(tile, rows, len),
                2 => self.push_rows_strided::<2>(tile, rows, len),
                _ => {
                    for p in rows {
                        self.push_row(tile, p, len, stride);
                    }
                }
            }
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

    fn tile_partial(&self, tile: &Box<FloatTile>, j: usize) -> FloatPartial {
        FloatPartial {
            hi: tile.hi[j],
            lo: tile.lo[j],
            n: tile.n[j],
        }
    }
}
