//! The reduction kernels and the one trait the drivers see.
//!
//! Design (read before the code):
//! - **Lanes, not intrinsics.** Every kernel keeps `LANES` independent accumulators in plain
//!   arrays and adds element `i` of a run into lane `i % LANES`. The loops run inside pulp's
//!   `vectorize` (see `simd.rs`), so the compiler turns each lane array into AVX-512, AVX2 or
//!   scalar registers. The arithmetic per lane is the same sequence at every SIMD level, so
//!   results are bitwise identical across levels and thread counts.
//! - **Accumulate vertically, reduce horizontally once**: lanes persist across the runs of a
//!   work unit; `finish` folds them into one `Partial`, and partials of units are combined by
//!   the driver in a fixed tree.
//! - **Two ways in.** `feed` takes runs when the reduced axis is the fast one (lane path);
//!   `push_row` adds a row of up to `TILE` outputs at once when a kept axis is the fast one
//!   (vertical path), one independent state per output.
//! - **NaN policy is a type**: [`Propagate`] or [`Ignore`].

// Lane loops index several arrays with the same lane number on purpose: that is the shape the
// vectoriser maps onto registers.
#![allow(clippy::needless_range_loop)]

pub(crate) mod arg;
pub(crate) mod count;
pub(crate) mod exact;
pub(crate) mod grid;
pub(crate) mod int_sum;
pub(crate) mod minmax;
pub(crate) mod prod;
pub(crate) mod select;
pub(crate) mod short_sum;
pub(crate) mod sum;
pub(crate) mod var;
pub(crate) mod weighted;

use crate::element::Element;
use pulp::Simd;

/// Independent accumulators per kernel: 32 f64 lanes are four AVX-512 registers, enough to
/// hide the add latency (3-4 cycles at two adds per cycle).
pub(crate) const LANES: usize = 32;

/// Outputs handled together by the vertical (kept-axis-fastest) path: its per-output states
/// (a few arrays of `TILE` f64) stay in L1.
pub(crate) const TILE: usize = 1024;

/// Rows the vertical path hands to [`Kernel::push_rows`] at once (`Kernel::BATCH`, unless
/// a kernel takes more). `FLUSH_ROWS` must stay a multiple of it.
pub(crate) const ROWS: usize = 4;

/// The largest [`Kernel::BATCH`].
pub(crate) const MAX_BATCH: usize = 8;

/// Outputs the lane path hands to [`Kernel::finish_runs`] at once, where each output's
/// reduction is one contiguous run (the rows of a C-order matrix over its last axis).
pub(crate) const RUNS: usize = 4;

/// How NaN is treated. See [`Propagate`] and [`Ignore`].
pub trait NanPolicy: Copy + Send + Sync + 'static {
    /// True if NaN elements are skipped (the `nan*` functions).
    const IGNORE: bool;
}

/// numpy's plain functions: any NaN makes the result NaN.
#[derive(Debug, Clone, Copy, Default)]
pub struct Propagate;
impl NanPolicy for Propagate {
    const IGNORE: bool = false;
}

/// numpy's `nan*` functions: NaN elements are left out (and not counted).
#[derive(Debug, Clone, Copy, Default)]
pub struct Ignore;
impl NanPolicy for Ignore {
    const IGNORE: bool = true;
}

/// Reductions of at most this many elements an output take the vertical path (see
/// `driver::choose`) when the fastest kept axis has at least `MIN_SHORT_OUTPUTS` outputs.
/// Measured on (n, k) C-order arrays over axis 1, one thread, against the lane path
/// (a856831): k = 4, 8, 12 faster for every kernel and dtype tried (sum, mean, max, prod,
/// var, count_nonzero; f64, f32, i32, u8: 1.2-20x); at k = 16 max of f64 and count_nonzero
/// of i32 were 0.5-0.65x. The float sums take more ([`F64_SUM_SHORT_REDUCTION`]).
pub(crate) const SHORT_REDUCTION: usize = 12;

/// [`SHORT_REDUCTION`] of the float sums and means (not the nan-variants) of f64, and of
/// f32 ([`F32_SUM_SHORT_REDUCTION`]). Longer rows take the lane path, whose float sums finish
/// four rows at a time (`Kernel::finish_runs`). On (200000 / k, k) normals over axis 1, one
/// thread, AVX-512 (Zen 4), numpy's time over ours: k = 13 vertical 1.23x f64, 1.31x f32,
/// on the lane path 0.98x and 0.83x; k = 16 1.05x and 1.02x vertical, 1.07x and 1.06x
/// lanes; k = 24 and 48 vertical 0.87x and 0.61x (f64), lanes 1.07x and 1.0x.
pub(crate) const F64_SUM_SHORT_REDUCTION: usize = 15;
/// See [`F64_SUM_SHORT_REDUCTION`].
pub(crate) const F32_SUM_SHORT_REDUCTION: usize = 15;

/// The [`Kernel::SHORT_REDUCTION`] of the kernel that runs `op` on `elem` elements, for the
/// callers that describe a walk without running it (`RawArray::walk_of_op`).
pub(crate) fn short_reduction_of(op: crate::Op, elem: crate::ElemType) -> usize {
    use crate::{ElemType, Family, NanHandling};
    let info = op.info();
    match (info.family, info.nan, elem) {
        (Family::Sum | Family::Mean, NanHandling::Propagate, ElemType::F64) => {
            F64_SUM_SHORT_REDUCTION
        }
        (Family::Sum | Family::Mean, NanHandling::Propagate, ElemType::F32) => {
            F32_SUM_SHORT_REDUCTION
        }
        _ => SHORT_REDUCTION,
    }
}

/// The longest run of elements `stride` apart that the kernel that runs `op` on `elem`
/// elements finishes `RUNS` at a time ([`Kernel::batches_runs`]; 0: none) in a reduction of
/// `total` elements, for `RawArray::walk_of_op`.
pub(crate) fn runs_max_of(
    op: crate::Op,
    elem: crate::ElemType,
    total: usize,
    stride: isize,
) -> usize {
    use crate::{ElemType, Family, NanHandling};
    let info = op.info();
    match (info.family, info.nan, elem, stride) {
        (Family::Sum | Family::Mean, NanHandling::Propagate, ElemType::F64, 1 | 2) => {
            sum::runs_max(8, total)
        }
        (Family::Sum | Family::Mean, NanHandling::Propagate, ElemType::F32, 1) => {
            sum::runs_max(4, total)
        }
        _ => 0,
    }
}

/// A reduction as the drivers see it.
pub(crate) trait Kernel<T: Element>: Sync {
    /// Accumulators of the lane path.
    type Lanes;
    /// Per-output accumulators of the vertical path (`TILE` outputs).
    type Tile;
    /// A combinable partial result.
    type Partial: Copy + Send + Sync;
    /// Rows the vertical path pushes between two `flush` calls (a multiple of `BATCH`).
    const FLUSH_ROWS: usize = 32;
    /// Rows the vertical path gathers and hands to [`Kernel::push_rows`] at once: `ROWS`,
    /// or up to `MAX_BATCH` for a kernel whose state per output is worth loading and storing
    /// once for more rows.
    const BATCH: usize = ROWS;
    /// Reductions of at most this many elements an output take the vertical path when
    /// there are many outputs (see `driver::choose`).
    const SHORT_REDUCTION: usize = SHORT_REDUCTION;
    /// A kernel that is cheap per element and exact however the elements are cut into units
    /// (min/max): its units and threading thresholds count bytes, as if elements were 8 bytes
    /// wide, so that narrow types are not cut into parts too small to pay for a thread (min
    /// of 1e5 u8 took 4.6 us on 2 threads against 2.3 us on one).
    const BY_BYTES: bool = false;
    /// A kernel whose results do not depend on how the elements are cut into units (exact,
    /// or correctly rounded from its partials: the float sums), so that the drivers may cut
    /// them by the thread count as well as by the layout: one thread then takes a mid-size
    /// reduction in one unit (`driver::vertical`).
    const GROUPING_FREE: bool = false;

    fn lanes(&self) -> Self::Lanes;
    /// Add the run `ptr + i * stride`, `i < len`, with code for the SIMD level `S` (the
    /// caller runs inside `S`'s `vectorize`, so this is inlined there).
    ///
    /// # Safety
    /// Every element of the run must be a valid `T`.
    unsafe fn feed<S: Simd>(
        &self,
        simd: S,
        lanes: &mut Self::Lanes,
        ptr: *const T,
        len: usize,
        stride: isize,
    );
    fn finish<S: Simd>(&self, simd: S, lanes: Self::Lanes) -> Self::Partial;
    /// Whether [`Kernel::finish_runs`] takes outputs whose reductions are single runs of
    /// `len` elements `stride` apart faster than `lanes`, `feed` and `finish` one by one (a
    /// kernel whose per-output set-up and fold cost more than short runs' elements), in a
    /// reduction of `total` elements in all (how likely it is to be in cache).
    fn batches_runs(&self, _len: usize, _stride: isize, _total: usize) -> bool {
        false
    }
    /// The partials of `RUNS` outputs, output `r` the reduction of the `len` elements at
    /// `ptrs[r]`, `stride` apart (one that `batches_runs` took). A kernel may compute them differently from the lanes (its
    /// partials need not be bitwise what `finish` gives) as long as every result they lead to
    /// is: float sums, whose results are correctly rounded, prove or settle each output
    /// whatever its partial. `next`: the runs the caller takes next (a hint for prefetching,
    /// never read; any address).
    ///
    /// # Safety
    /// `ptrs[r] + i * stride` must be a valid `T` for every `r` and `i < len`.
    #[inline(always)]
    unsafe fn finish_runs<S: Simd>(
        &self,
        simd: S,
        ptrs: [*const T; RUNS],
        next: [*const T; RUNS],
        len: usize,
        stride: isize,
    ) -> [Self::Partial; RUNS] {
        let _ = next;
        // SAFETY: forwarded from this function's contract.
        unsafe { finish_each(self, simd, ptrs, len, stride) }
    }
    fn combine(&self, a: Self::Partial, b: Self::Partial) -> Self::Partial;

    fn tile(&self) -> Self::Tile;
    /// A tile for a vertical unit that adds `rows` rows: `tile()` unless the kernel has
    /// work it may leave out of long units.
    fn tile_for_rows(&self, _rows: usize) -> Self::Tile {
        self.tile()
    }
    /// A tile for a vertical unit that adds `rows` rows into the tile's first `len` outputs:
    /// `tile_for_rows(rows)`, unless the kernel keeps the tiles of finished units
    /// ([`Kernel::recycle`]) and so has one whose first `len` outputs it need only reset.
    fn tile_for(&self, rows: usize, _len: usize) -> Self::Tile {
        self.tile_for_rows(rows)
    }
    /// Takes back a tile whose unit is done: dropped, unless the kernel keeps a few for
    /// [`Kernel::tile_for`].
    fn recycle(&self, _tile: Self::Tile) {}
    /// Add element `j` of the row `ptr + j * stride`, `j < len <= TILE`, into output `j`.
    ///
    /// # Safety
    /// Every element of the row must be a valid `T`.
    unsafe fn push_row(&self, tile: &mut Self::Tile, ptr: *const T, len: usize, stride: isize);
    /// Add `rows.len() <= Self::BATCH` rows, in order: the same arithmetic as `push_row` on each of
    /// them in turn (so the result is bitwise the same), which a kernel may do for full
    /// batches while its states stay in registers. The vertical driver calls this from one
    /// place only, so each kernel's row loops are compiled once per SIMD level.
    ///
    /// # Safety
    /// Every element of every row must be a valid `T`.
    #[inline(always)]
    unsafe fn push_rows<S: Simd>(
        &self,
        _simd: S,
        tile: &mut Self::Tile,
        rows: &[*const T],
        len: usize,
        stride: isize,
    ) {
        for &p in rows {
            // SAFETY: forwarded from this function's contract.
            unsafe { self.push_row(tile, p, len, stride) };
        }
    }
    /// Whether [`Kernel::push_rows`] adds `BATCH` rows of this stride faster than one by one
    /// (it keeps each output's state in registers across them). The vertical driver then
    /// pushes each tile's piece of `BATCH` rows together; otherwise it adds whole rows of the
    /// group one after another, reading memory in order.
    fn batches_rows(&self, _stride: isize) -> bool {
        false
    }
    /// Called every `FLUSH_ROWS` rows and before `tile_partial`, with the number of outputs
    /// the tile's rows have (so a narrow tile costs what it holds, not `TILE`).
    fn flush(&self, tile: &mut Self::Tile, len: usize);
    /// Called once after the last `flush`, before the tile's `tile_partial` calls: a kernel
    /// may finish each output's state here in one loop over the tile (vector code) rather
    /// than per call.
    #[inline(always)]
    fn seal(&self, _tile: &mut Self::Tile, _len: usize) {}
    fn tile_partial(&self, tile: &Self::Tile, j: usize) -> Self::Partial;
}

/// [`Kernel::finish_runs`] one output at a time: `lanes`, `feed` and `finish` of each run.
///
/// # Safety
/// As [`Kernel::finish_runs`].
#[inline(always)]
pub(crate) unsafe fn finish_each<T: Element, K: Kernel<T> + ?Sized, S: Simd>(
    kernel: &K,
    simd: S,
    ptrs: [*const T; RUNS],
    len: usize,
    stride: isize,
) -> [K::Partial; RUNS] {
    // (A closure: only the scalar level reaches this, which has no target features to lose
    // by it; the default `finish_runs` is not called by any kernel that batches.)
    std::array::from_fn(|r| {
        let mut lanes = kernel.lanes();
        // SAFETY: each run is `len` valid elements (our contract).
        unsafe { kernel.feed(simd, &mut lanes, ptrs[r], len, stride) };
        kernel.finish(simd, lanes)
    })
}

/// A tile allocated zeroed on the heap: built on the stack and moved into a `Box`, a 56 KiB
/// tile cost a memset and a memmove (a tenth of var over axis 0 of a (4, 1e5) array, a fifth
/// of the sum's).
///
/// # Safety
/// All-zero bits must be a valid `T` (arrays of f64 and integers: 0.0 and 0).
pub(crate) unsafe fn zeroed_tile<T>() -> Box<T> {
    // (`Box::new_zeroed` is younger than the crate's minimum Rust.)
    let layout = std::alloc::Layout::new::<T>();
    assert!(layout.size() > 0, "tiles are not zero-sized");
    // SAFETY: `layout` is `T`'s and not zero-sized, so `alloc_zeroed` returns memory fit for
    // one `T` (null handled); all-zero bits are a valid `T` (our contract), so the memory
    // holds one; it came from the global allocator with `T`'s layout, as `Box::from_raw`
    // needs.
    unsafe {
        let p = std::alloc::alloc_zeroed(layout).cast::<T>();
        if p.is_null() {
            std::alloc::handle_alloc_error(layout);
        }
        Box::from_raw(p)
    }
}

/// Knuth's TwoSum: `s + e == a + b` exactly, with `s = fl(a + b)`. Branch-free.
#[inline(always)]
pub(crate) fn two_sum(a: f64, b: f64) -> (f64, f64) {
    let s = a + b;
    let bb = s - a;
    let e = (a - (s - bb)) + (b - bb);
    (s, e)
}

/// [`two_sum`] of each lane of two vectors, the same operations in the same order: `s + e ==
/// a + b` exactly in every lane.
#[inline(always)]
pub(crate) fn two_sum_v<S: Simd>(simd: S, a: S::f64s, b: S::f64s) -> (S::f64s, S::f64s) {
    let s = simd.add_f64s(a, b);
    let bb = simd.sub_f64s(s, a);
    let e = simd.add_f64s(simd.sub_f64s(a, simd.sub_f64s(s, bb)), simd.sub_f64s(b, bb));
    (s, e)
}

/// `a + b`, at the FMA levels as `a * one + b` (`one` an opaque 1.0, see [`two_sum_fma`]:
/// the same rounding, on the FMA pipes rather than the add pipes).
#[inline(always)]
pub(crate) fn add_f<S: Simd>(simd: S, one: S::f64s, a: S::f64s, b: S::f64s) -> S::f64s {
    if const { has_fma::<S>() } {
        simd.mul_add_f64s(a, one, b)
    } else {
        simd.add_f64s(a, b)
    }
}

/// `a - b`, at the FMA levels as `-(b * one) + a` (see [`add_f`]).
#[inline(always)]
pub(crate) fn sub_f<S: Simd>(simd: S, one: S::f64s, a: S::f64s, b: S::f64s) -> S::f64s {
    if const { has_fma::<S>() } {
        simd.negate_mul_add_f64s(b, one, a)
    } else {
        simd.sub_f64s(a, b)
    }
}

/// [`two_sum_v`]'s operations with three of its five subtractions as [`sub_f`] (`s = a + b`,
/// `bb = s - b`, `e1 = a - (s - bb)`, `e2 = b - bb`): `s` and the two parts of its error,
/// `e = e1 + e2`, which the caller joins (by an addition, or as `add_f` to balance the
/// pipes: sum.rs's `two_sum_pair`). The same bits as `two_sum_v`.
#[inline(always)]
pub(crate) fn two_sum_parts<S: Simd>(
    simd: S,
    one: S::f64s,
    a: S::f64s,
    b: S::f64s,
) -> (S::f64s, S::f64s, S::f64s) {
    let s = simd.add_f64s(a, b);
    let bb = sub_f(simd, one, s, a);
    let e1 = sub_f(simd, one, a, simd.sub_f64s(s, bb));
    let e2 = sub_f(simd, one, b, bb);
    (s, e1, e2)
}

/// [`two_sum_v`] with half of its operations on the FMA pipes at the levels that have them
/// ([`two_sum_parts`], joined by an addition): the same bits.
#[inline(always)]
pub(crate) fn two_sum_vf<S: Simd>(
    simd: S,
    a: S::f64s,
    b: S::f64s,
    one: S::f64s,
) -> (S::f64s, S::f64s) {
    let (s, e1, e2) = two_sum_parts(simd, one, a, b);
    (s, simd.add_f64s(e1, e2))
}

/// [`two_sum`] with three of its five subtractions written `fma(x, one, -y)`: with
/// `one == 1.0` the product is exact, so each is one rounding of `x - y`, the same bits as the
/// subtraction; but it runs on the FMA pipes, not the two add pipes, which bound an f64 sum in
/// cache (7 adds per element at 2 per cycle). `one` must be opaque to the compiler (from
/// `black_box`), which would otherwise fold the fma back into a subtraction. Only for SIMD
/// levels with hardware FMA: elsewhere `mul_add` is a slow library call.
#[inline(always)]
pub(crate) fn two_sum_fma(a: f64, b: f64, one: f64) -> (f64, f64) {
    let s = a + b;
    let bb = s.mul_add(one, -a);
    let e = a.mul_add(one, -(s - bb)) + b.mul_add(one, -bb);
    (s, e)
}

/// Whether code for the SIMD level `S` runs with hardware FMA: pulp's AVX2 (V3) and AVX-512
/// (V4) levels include it; only the scalar level has one-lane vectors. Use it as
/// `const { has_fma::<S>() }` so that the branch not taken is never compiled.
pub(crate) const fn has_fma<S: Simd>() -> bool {
    std::mem::size_of::<S::f64s>() > std::mem::size_of::<f64>()
}

/// An empty asm statement: in a loop it stops LLVM's loop vectoriser (which cannot vectorise
/// it) without touching memory or registers, so values kept across iterations stay in
/// registers. See the integer min/max kernel.
#[inline(always)]
pub(crate) fn opaque_step() {
    // SAFETY: an empty instruction sequence with no operands reads and writes nothing.
    #[cfg(any(target_arch = "x86_64", target_arch = "aarch64"))]
    unsafe {
        std::arch::asm!("", options(nomem, nostack, preserves_flags))
    };
}

/// `x` as `U` when it is one: a SIMD level (or its vector type), which the compiler resolves,
/// so each level's arm of a level-specific loop (`sum`'s `even_lanes`, `minmax`'s stride-2
/// loop) compiles alone and the others vanish.
#[cfg(target_arch = "x86_64")]
#[inline(always)]
pub(crate) fn same<T: Copy + 'static, U: Copy + 'static>(x: T) -> Option<U> {
    (&x as &dyn std::any::Any).downcast_ref::<U>().copied()
}

/// The even lanes of `a` then those of `b`, in order, at AVX-512: one `vpermt2pd` (the
/// stride-2 loads of `sum::even_lanes` and `minmax::f64_pairs`).
#[cfg(target_arch = "x86_64")]
#[inline(always)]
pub(crate) fn even_pd512(
    v4: pulp::x86::V4,
    a: std::arch::x86_64::__m512d,
    b: std::arch::x86_64::__m512d,
) -> std::arch::x86_64::__m512d {
    let f = v4.avx512f;
    f._mm512_permutex2var_pd(a, f._mm512_setr_epi64(0, 2, 4, 6, 8, 10, 12, 14), b)
}

/// [`even_pd512`] at AVX2: `[a0 b0 a2 b2]` (`unpcklpd`), then its lanes 0, 2, 1, 3
/// (`vpermpd`).
#[cfg(target_arch = "x86_64")]
#[inline(always)]
pub(crate) fn even_pd256(
    v3: pulp::x86::V3,
    a: std::arch::x86_64::__m256d,
    b: std::arch::x86_64::__m256d,
) -> std::arch::x86_64::__m256d {
    v3.avx2
        ._mm256_permute4x64_pd::<0b11_01_10_00>(v3.avx._mm256_unpacklo_pd(a, b))
}

/// Combine `N` values (`N` a power of two; the kernels' `LANES`) with `op` in a fixed
/// pairwise tree: `j` with `j + n/2`, halving.
#[inline(always)]
pub(crate) fn tree<P: Copy, const N: usize>(mut v: [P; N], op: impl Fn(P, P) -> P) -> P {
    const { assert!(N.is_power_of_two()) };
    let mut n = N;
    while n > 1 {
        n /= 2;
        for j in 0..n {
            v[j] = op(v[j], v[j + n]);
        }
    }
    v[0]
}
