//! Drivers: cut a reduction into fixed work units, run them (in parallel when large), and
//! combine the partials in a fixed tree.
//!
//! Determinism: units depend only on the normalised layout ([`Layout::split`]), each unit is
//! reduced by one thread from fresh accumulators, and partials are combined in a pairwise tree
//! over the unit index. Thread count, scheduling and base-pointer alignment never enter.

use crate::element::{Element, FloatElement};
use crate::handoff;
use crate::kernels::short_sum::ShortColumns;
use crate::kernels::sum::FloatPartial;
use crate::kernels::{Kernel, NanPolicy, MAX_BATCH, RUNS, TILE};
use crate::layout::{
    c_order_runs, c_strides, forwards, next_c_index, normalize, Axis, Layout, StridedView,
};
use crate::partials::FloatOut;
use crate::simd::{dispatch, pool, SimdLevel};
use crate::walk::{prefetch_run, row_offsets, SharedOut, SharedPtr};
use pulp::{Simd, WithSimd};
use rayon::prelude::*;
use std::sync::Mutex;

/// Elements per work unit: 32 Ki (256 KiB of f64), so a 100k-element array already splits
/// into four units for two cores, while per-unit overhead (one horizontal fold, ~100 ns) stays
/// under 2%.
pub(crate) const UNIT: usize = 1 << 15;

/// Below this many elements a reduction stays on the calling thread. Measured with
/// `examples/quick` on the 2-core development machine: waking rayon's pool costs ~10 us, so
/// a 1e5-element f64 sum took 15-17 us on 2 threads against 5-6 us on one, 3e5 was still a
/// loss, and 1e6 was the first clear win (54 us against 93 us).
pub(crate) const PAR_MIN: usize = 1 << 19;

/// From this many elements (and two work units) a reduction is split between the calling
/// thread and the hand-off helpers (`handoff.rs`), which take work in about a microsecond
/// while they spin: two units of 32 Ki elements are tens of microseconds of work.
pub(crate) const MID_MIN: usize = 2 * UNIT;

/// Hand-off parts per thread (at most; never more than the work units).
const PARTS_PER_THREAD: usize = 4;

/// Combine partials pairwise in a tree fixed by their order.
pub(crate) fn tree_combine<P: Copy>(mut v: Vec<P>, op: impl Fn(P, P) -> P) -> Option<P> {
    tree_combine_in(&mut v, op)
}

/// [`tree_combine`] in the slice's own memory (its contents are overwritten).
pub(crate) fn tree_combine_in<P: Copy>(v: &mut [P], op: impl Fn(P, P) -> P) -> Option<P> {
    tree_combine_rows_in(v, 1, op);
    v.first().copied()
}

/// The rows `v[r * len .. (r + 1) * len]` combined element by element in [`tree_combine`]'s
/// fixed pairwise tree, in place: the results are the first `len` elements (the rest is
/// overwritten).
pub(crate) fn tree_combine_rows_in<P: Copy>(v: &mut [P], len: usize, op: impl Fn(P, P) -> P) {
    let mut rows = v.len().checked_div(len).unwrap_or(0);
    while rows > 1 {
        let half = rows.div_ceil(2);
        for i in 0..rows / 2 {
            // Row `i` is written after rows `2i` and `2i + 1` are read; rows below `2i` (the
            // ones written so far at this level) are never read again at it.
            for j in 0..len {
                v[i * len + j] = op(v[2 * i * len + j], v[(2 * i + 1) * len + j]);
            }
        }
        if rows % 2 == 1 {
            v.copy_within((rows - 1) * len..rows * len, (half - 1) * len);
        }
        rows = half;
    }
}

/// Map `0..n` to results, always in index order, for work of `work` elements in all: on
/// the rayon pool from [`PAR_MIN`] elements, on the hand-off helpers from [`MID_MIN`] (each
/// thread a contiguous range of indices), else on this thread.
///
/// `f` is a trait object: rayon's machinery is then instantiated once per result type (a few
/// dozen), not once per kernel and closure (`cargo llvm-lines` counted rayon's job and
/// iterator code at about a third of the crate's LLVM IR when it was). One dynamic call per
/// unit of at least thousands of elements costs nothing measurable.
pub(crate) fn map_units<R: Send>(n: usize, work: usize, f: &(dyn Fn(usize) -> R + Sync)) -> Vec<R> {
    if n > 1 && work >= MID_MIN {
        let p = pool();
        let threads = p.current_num_threads();
        if threads > 1 && work >= PAR_MIN {
            return p.install(|| (0..n).into_par_iter().map(&f).collect());
        }
        if threads > 1 {
            // More parts than threads: they are claimed as the participants get to them,
            // so a thread that starts late (its core busy) takes fewer.
            let parts = (PARTS_PER_THREAD * threads).min(n);
            // One uncontended lock per part: `R` need only be `Send`.
            let ranges: Vec<Mutex<Vec<R>>> = (0..parts).map(|_| Mutex::default()).collect();
            let part = |k: usize| {
                let got = (k * n / parts..(k + 1) * n / parts).map(f).collect();
                *ranges[k].lock().unwrap_or_else(|e| e.into_inner()) = got;
            };
            if handoff::run(parts, threads, &part) {
                return ranges
                    .into_iter()
                    .flat_map(|r| r.into_inner().unwrap_or_else(|e| e.into_inner()))
                    .collect();
            }
        }
    }
    (0..n).map(f).collect()
}

/// Unit `unit` of the reduction from each offset in `outs`, into the same place in `out`: one
/// dispatch for a group of outputs (short rows are many outputs of little work each).
struct UnitOp<'a, T: Element, K: Kernel<T>> {
    kernel: &'a K,
    base: SharedPtr<T>,
    outs: &'a [isize],
    /// `outs.len()` slots, each written once (not read): the caller's buffer may be
    /// uninitialised (see `reduce_lanes`).
    out: SharedOut<K::Partial>,
    layout: &'a Layout,
    split: crate::walk::Split,
    unit: usize,
    /// Elements of the whole reduction, all outputs (see `Kernel::batches_runs`).
    total: usize,
}

impl<T: Element, K: Kernel<T>> WithSimd for UnitOp<'_, T, K> {
    type Output = ();

    #[inline(always)]
    fn with_simd<S: Simd>(self, simd: S) {
        let k = self.kernel;
        let stride = self.layout.inner().stride;
        // Outputs whose offsets fall (a reversed kept axis: `a[::-1, ::-1].mean(axis=1)`)
        // are taken last first, so that memory is read upwards from one run to the next as
        // the hardware prefetcher expects. Rows of 1000 f64 read downwards, each upwards,
        // took 1.5x numpy's time on one Zen 3 core. Each output's partial is its own, so
        // the order changes no result.
        let n = self.outs.len();
        let falling = n > 1 && self.outs[0] > self.outs[n - 1];
        let inner = self.layout.inner();
        // Each output one run (contiguous, or at stride 2 where the kernel takes it), whole
        // in unit 0 (a row of the layout shorter than a unit): `RUNS` outputs at a time, when
        // the kernel has a faster form for them; the last `n % RUNS` below as the others.
        // (`walk_of_runs` says when, for `explain`.)
        let mut first = 0;
        if n >= RUNS
            && self.layout.rows() == 1
            && matches!(self.split, crate::walk::Split::Rows { .. })
            && k.batches_runs(inner.len, stride, self.total)
        {
            first = n / RUNS * RUNS;
            // Output `i`'s place in `out` and its run.
            let at = |i: usize| if falling { n - 1 - i } else { i };
            let run = |i: usize| self.base.at(self.outs[at(i)] + self.layout.offset);
            for i0 in (0..first).step_by(RUNS) {
                let mut ptrs = [std::ptr::null::<T>(); RUNS];
                let mut next = [std::ptr::null::<T>(); RUNS];
                for r in 0..RUNS {
                    ptrs[r] = run(i0 + r);
                    // (The last group's hint: itself.)
                    next[r] = run(if i0 + RUNS < first {
                        i0 + RUNS + r
                    } else {
                        i0 + r
                    });
                }
                // SAFETY: each output's elements are the run of `inner.len` from its offset
                // (one row, `stride` apart, all in unit 0), inside the view: the layout was
                // normalised from it and each offset is one of its outputs'.
                let parts = unsafe { k.finish_runs(simd, ptrs, next, inner.len, stride) };
                for (r, part) in parts.into_iter().enumerate() {
                    // SAFETY: `at(i0 + r) < n`, a slot of `out` (its contract), written once:
                    // `at` is a bijection of `0..n`, and `i0 + r < first` is not taken below.
                    unsafe { self.out.write(at(i0 + r) as isize, part) };
                }
            }
        }
        for i in first..n {
            let i = if falling { n - 1 - i } else { i };
            let o = self.outs[i];
            let mut lanes = k.lanes();
            self.layout.for_each_run_of_unit(
                self.split,
                self.unit,
                #[inline(always)]
                |off, len| {
                    let p = self.base.at(o + off);
                    // SAFETY: the run lies inside the view (the layout was normalised from
                    // it, and `o` is the offset of one of its outputs).
                    unsafe { k.feed(simd, &mut lanes, p, len, stride) }
                },
            );
            // SAFETY: `i < n`, a slot of `out` (its contract), written once (each `i` of
            // `first..n` once, reflected or not, none of those above).
            unsafe { self.out.write(i as isize, k.finish(simd, lanes)) };
        }
    }
}

/// The partial of no elements.
fn empty<T: Element, K: Kernel<T>>(kernel: &K) -> K::Partial {
    kernel.finish(pulp::Scalar::new(), kernel.lanes())
}

/// [`UnitOp`] at `level`: unit `unit` of the reductions from `outs` into `out`, of a
/// reduction of `total` elements in all.
///
/// # Safety
/// `out` must be valid for writes of `outs.len()` partials, which no one else reads or writes
/// until this returns. Each of them is written once.
#[allow(clippy::too_many_arguments)]
unsafe fn run_units<T: Element, K: Kernel<T>>(
    kernel: &K,
    base: SharedPtr<T>,
    layout: &Layout,
    split: crate::walk::Split,
    unit: usize,
    outs: &[isize],
    out: SharedOut<K::Partial>,
    level: SimdLevel,
    total: usize,
) {
    let op = UnitOp {
        kernel,
        base,
        outs,
        out,
        layout,
        split,
        unit,
        total,
    };
    dispatch(level, op);
}

/// [`run_units`] of unit `unit` of the one reduction from offset `o`: its partial.
#[allow(clippy::too_many_arguments)]
fn one_unit<T: Element, K: Kernel<T>>(
    kernel: &K,
    base: SharedPtr<T>,
    layout: &Layout,
    split: crate::walk::Split,
    unit: usize,
    o: isize,
    level: SimdLevel,
    total: usize,
) -> K::Partial {
    let mut one = [empty(kernel)];
    // SAFETY: `one` holds the one partial of the one offset, and is ours.
    unsafe {
        run_units(
            kernel,
            base,
            layout,
            split,
            unit,
            &[o],
            SharedOut(one.as_mut_ptr()),
            level,
            total,
        )
    };
    one[0]
}

/// Elements per lane-path unit for this kernel and element type (see `Kernel::BY_BYTES`).
fn unit_of<T: Element, K: Kernel<T>>() -> usize {
    if K::BY_BYTES {
        UNIT * 8 / std::mem::size_of::<T>().clamp(1, 8)
    } else {
        UNIT
    }
}

/// `elements` of work as the threading thresholds count it (see `Kernel::BY_BYTES`).
fn work_of<T: Element, K: Kernel<T>>(elements: usize) -> usize {
    if K::BY_BYTES {
        elements.saturating_mul(std::mem::size_of::<T>().clamp(1, 8)) / 8
    } else {
        elements
    }
}

/// `work` for runs of stride `stride` (elements): a run that is not contiguous costs about
/// twice as much per element (each piece is gathered first, and at stride 2 twice the cache
/// lines come in), so it counts twice towards the threading thresholds. Only the thresholds
/// see this: the units, and so the results, do not depend on it. (On the 2-core Zen 3 a
/// 316x316 `a[:, ::2].mean(axis=1)` took 40-55 us on one thread, numpy 32-34 us: 50 k
/// elements, under `MID_MIN` counted plainly.)
pub(crate) fn strided_work(work: usize, stride: isize) -> usize {
    if stride.unsigned_abs() > 1 {
        work.saturating_mul(2)
    } else {
        work
    }
}

/// Reduce every element of `layout` (relative to `base`) to one partial.
fn reduce_layout<T: Element, K: Kernel<T>>(
    kernel: &K,
    base: SharedPtr<T>,
    layout: &Layout,
    level: SimdLevel,
) -> K::Partial {
    match layout.split(unit_of::<T, K>()) {
        (_, 0) => empty(kernel),
        // One unit: what `reduce_lanes` does for it, without its vectors of groups (this is
        // every whole reduction of fewer than UNIT elements, where allocations show).
        (split, 1) => one_unit(kernel, base, layout, split, 0, 0, level, layout.len),
        _ => reduce_lanes(kernel, base, &[0], layout, level)
            .pop()
            .expect("one offset gives one partial"),
    }
}

/// The lane path: reduce `layout` from each offset in `outs` to one partial per offset.
///
/// Each reduction is cut into the layout's units ([`Layout::split`]) whose partials combine
/// in a fixed tree, so the partial of an offset depends neither on the other offsets nor on
/// the threads: reducing over every axis is bitwise the whole-array reduction. Work is spread
/// over (offset, unit) pairs, or over groups of offsets when a reduction is one unit.
fn reduce_lanes<T: Element, K: Kernel<T>>(
    kernel: &K,
    base: SharedPtr<T>,
    outs: &[isize],
    layout: &Layout,
    level: SimdLevel,
) -> Vec<K::Partial> {
    let unit = unit_of::<T, K>();
    let (split, per_out) = layout.split(unit);
    if per_out == 0 {
        return vec![empty(kernel); outs.len()];
    }
    let total = outs.len() * layout.len;
    let work = strided_work(work_of::<T, K>(total), layout.inner().stride);
    if per_out == 1 {
        let per_task = (unit / layout.len).max(1);
        let tasks = outs.len().div_ceil(per_task);
        // Every task writes its group's partials in place, into one buffer for the call,
        // not filled first. (A vector per group, copied into one afterwards, was twice the
        // bytes allocated and a copy: one thread, (100000, 16) f64 over axis 1, 1566 page
        // faults a call, 2.4x numpy's time, where the allocator gave the memory back to the
        // system at every call.)
        let mut all: Vec<K::Partial> = Vec::with_capacity(outs.len());
        let dest = SharedOut(all.as_mut_ptr());
        map_units(tasks, work, &|t| {
            let first = t * per_task;
            let group = &outs[first..((t + 1) * per_task).min(outs.len())];
            // SAFETY: slots `first .. first + group.len()` lie in `all`'s capacity, and
            // belong to task `t` alone (the tasks' groups do not overlap); `all` outlives
            // `map_units`, which returns after every task.
            unsafe {
                run_units(
                    kernel,
                    base,
                    layout,
                    split,
                    0,
                    group,
                    dest.at(first as isize),
                    level,
                    total,
                )
            };
        });
        // SAFETY: the tasks' groups cover `0..outs.len()`, and `run_units` wrote every slot
        // of its group by the time `map_units` returned (a panic would have left first, with
        // the length still 0). Partials are `Copy`: nothing to drop.
        unsafe { all.set_len(outs.len()) };
        return all;
    }
    let parts = map_units(outs.len() * per_out, work, &|i| {
        let o = outs[i / per_out];
        one_unit(kernel, base, layout, split, i % per_out, o, level, total)
    });
    parts
        .chunks(per_out)
        .map(|c| tree_combine(c.to_vec(), |a, b| kernel.combine(a, b)).expect("per_out >= 1"))
        .collect()
}

/// Reduce the whole view to one partial.
pub(crate) fn reduce_all<T: Element, K: Kernel<T>>(
    kernel: &K,
    view: &StridedView<'_, T>,
    level: SimdLevel,
) -> K::Partial {
    reduce_layout(kernel, SharedPtr(view.as_ptr()), &view.layout(), level)
}

/// How the drivers walk a reduction (see ARCHITECTURE.md), for `explain`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Walk {
    /// Nothing to read: no outputs, or no reduced elements.
    Nothing,
    /// The lane path: each output's reduced elements are runs fed into the kernel's lanes.
    Lanes,
    /// The lane path, four outputs at a time: each output's elements are one contiguous
    /// run, which the kernel finishes together with three others (`Kernel::finish_runs`).
    Runs,
    /// The vertical path: rows of outputs along the fastest kept axis, added row by row.
    Vertical,
    /// Interleaved outputs read as wide rows of `positions` reduced positions by `outputs`.
    Interleaved {
        /// Outputs along the fastest kept axis (the channels).
        outputs: usize,
        /// Consecutive reduced positions read as one row.
        positions: usize,
    },
}

impl std::fmt::Display for Walk {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Self::Nothing => f.write_str("nothing to read"),
            Self::Lanes => f.write_str("lanes: each output's elements in runs"),
            Self::Runs => f.write_str("runs: lanes, four outputs at a time, each one run"),
            Self::Vertical => f.write_str("vertical: rows of outputs, added row by row"),
            Self::Interleaved { outputs, positions } => write!(
                f,
                "interleaved: {outputs} outputs read as rows of {positions} x {outputs}"
            ),
        }
    }
}

/// The kept axes, the normalised reduced layout and the output shape of a reduction over
/// `axes` (sorted, unique, in range) of `shape` with element `strides`.
///
/// The kept axes come as [`c_order_runs`] makes them: length-1 axes dropped and neighbours
/// that step through memory as one merged, so the outputs, in C order, are the same but
/// along fewer, longer axes. (A 365x180x360 cube reduced over axis 0 has rows of 64800
/// contiguous outputs, not 180 rows of 360: the vertical path read it at half numpy's speed
/// in pieces of 1.4 KB.) The output shape is the caller's (the kept axes' lengths before
/// merging); the merged axes' lengths make a shape with the same C order.
fn split_axes(
    shape: &[usize],
    strides: &[isize],
    axes: &[usize],
) -> (Vec<Axis>, Layout, Vec<usize>) {
    let (mut kept_shape, mut kept_strides, mut red_shape, mut red_strides) =
        (Vec::new(), Vec::new(), Vec::new(), Vec::new());
    for (k, (&len, &stride)) in shape.iter().zip(strides).enumerate() {
        if axes.contains(&k) {
            red_shape.push(len);
            red_strides.push(stride);
        } else {
            kept_shape.push(len);
            kept_strides.push(stride);
        }
    }
    let (mut kept, inner) = c_order_runs(&kept_shape, &kept_strides);
    kept.push(inner);
    (kept, normalize(&red_shape, &red_strides), kept_shape)
}

/// Outputs the fastest kept axis needs for a short reduction to go vertical (see
/// `Kernel::SHORT_REDUCTION`).
const MIN_SHORT_OUTPUTS: usize = 64;

/// The walk for kept axes `kept` and the reduced layout `red`, with the fastest kept axis
/// when the walk is vertical or interleaved.
fn choose(kept: &[Axis], red: &Layout, short_reduction: usize) -> (Walk, usize) {
    let out_len: usize = kept.iter().map(|a| a.len).product();
    if out_len == 0 || red.len == 0 {
        return (Walk::Nothing, 0);
    }
    // The fastest kept axis; the vertical path pays off when it is faster than the reduction,
    // or when there is one element per output (a broadcast axis read once): the lane path
    // would set up and fold its lanes for each.
    let fastest_kept = (0..kept.len())
        .filter(|&k| kept[k].len > 1)
        .min_by_key(|&k| kept[k].stride.unsigned_abs());
    if let Some(kin) = fastest_kept {
        let faster = kept[kin].stride.unsigned_abs() < red.inner().stride.unsigned_abs();
        // Short reductions of many outputs, even contiguous ones (`(100000, 4)` over axis
        // 1): the lane path sets up and folds its lanes for every few elements; the vertical
        // path reads the outputs' strided rows (copied a piece at a time where a kernel
        // batches them) and adds each reduced position for a tile of outputs at once.
        let short = red.len <= short_reduction && kept[kin].len >= MIN_SHORT_OUTPUTS;
        if red.len == 1 || faster || short {
            let walk = match widening(kept[kin], red) {
                Some(positions) => Walk::Interleaved {
                    outputs: kept[kin].len,
                    positions,
                },
                None => Walk::Vertical,
            };
            return (walk, kin);
        }
    }
    (Walk::Lanes, 0)
}

/// How a reduction over `axes` (`None`: every axis; sorted, unique, in range) of `shape` with
/// element `strides` is walked (by the kernels with the common `SHORT_REDUCTION`; see
/// [`crate::RawArray::walk_of_op`] for a given reduction's).
pub fn walk_of(shape: &[usize], strides: &[isize], axes: Option<&[usize]>) -> Walk {
    walk_of_short(shape, strides, axes, crate::kernels::SHORT_REDUCTION)
}

/// [`walk_of`] for a kernel whose `SHORT_REDUCTION` is `short_reduction`.
pub(crate) fn walk_of_short(
    shape: &[usize],
    strides: &[isize],
    axes: Option<&[usize]>,
    short_reduction: usize,
) -> Walk {
    walk_and_reduced(shape, strides, axes, short_reduction).0
}

/// [`walk_of_short`] for a kernel that finishes outputs of single runs of at most
/// `runs_max(total, stride)` elements `stride` apart `RUNS` at a time
/// ([`Kernel::batches_runs`], 0: none; `total` the elements of `shape`): the
/// lane path becomes [`Walk::Runs`] where [`UnitOp`] takes that form (the kernel's unit
/// [`UNIT`] elements).
pub(crate) fn walk_of_runs(
    shape: &[usize],
    strides: &[isize],
    axes: Option<&[usize]>,
    short_reduction: usize,
    runs_max: impl Fn(usize, isize) -> usize,
) -> Walk {
    let total = shape.iter().product::<usize>();
    match walk_and_reduced(shape, strides, axes, short_reduction) {
        (Walk::Lanes, red)
            if red.rows() == 1
                && red.len < UNIT
                && red.len <= runs_max(total, red.inner().stride)
                && total / red.len.max(1) >= RUNS =>
        {
            Walk::Runs
        }
        (walk, _) => walk,
    }
}

/// The stride (elements) of the runs that the lane path reads in a reduction over `axes`
/// (as [`walk_of`]), or 1 when another walk reads them: what [`strided_work`] weighs.
pub(crate) fn lane_run_stride(
    shape: &[usize],
    strides: &[isize],
    axes: Option<&[usize]>,
    short_reduction: usize,
) -> isize {
    match walk_and_reduced(shape, strides, axes, short_reduction) {
        (Walk::Lanes, red) => red.inner().stride,
        _ => 1,
    }
}

/// [`walk_of`], and the layout of the reduced axes.
fn walk_and_reduced(
    shape: &[usize],
    strides: &[isize],
    axes: Option<&[usize]>,
    short_reduction: usize,
) -> (Walk, Layout) {
    let all: Vec<usize>;
    let axes = match axes {
        Some(a) => a,
        None => {
            all = (0..shape.len()).collect();
            &all
        }
    };
    let (kept, red, _) = split_axes(shape, strides, axes);
    (choose(&kept, &red, short_reduction).0, red)
}

/// Reduce over `axes` (sorted, unique, in range): the output shape (kept axes, in order) and
/// one partial per output element in C order.
pub(crate) fn reduce_axes<T: Element, K: Kernel<T>>(
    kernel: &K,
    view: &StridedView<'_, T>,
    axes: &[usize],
    level: SimdLevel,
) -> (Vec<usize>, Vec<K::Partial>) {
    let (kept, red, caller_shape) = split_axes(view.shape(), view.strides(), axes);
    // The merged kept axes' shape: the same outputs in the same C order.
    let out_shape: Vec<usize> = kept.iter().map(|a| a.len).collect();
    let out_len: usize = out_shape.iter().product();
    let base = SharedPtr(view.as_ptr());
    let parts = match choose(&kept, &red, K::SHORT_REDUCTION) {
        (Walk::Nothing, _) if out_len == 0 => Vec::new(),
        (Walk::Nothing, _) => vec![empty(kernel); out_len],
        (Walk::Interleaved { positions, .. }, kin) => {
            widened(kernel, base, &kept, kin, &out_shape, &red, positions, level)
        }
        (Walk::Vertical, kin) => vertical(kernel, base, &kept, kin, &out_shape, &red, level),
        // (`choose` says lanes; `UnitOp` takes whole runs four at a time where it can.)
        (Walk::Lanes | Walk::Runs, _) => {
            reduce_lanes(kernel, base, &row_offsets(&kept), &red, level)
        }
    };
    (caller_shape, parts)
}

/// Widest group of outputs one vertical unit keeps, in tiles: 8 x 1024 outputs, whose states
/// (about 32 B per output for f64 sums) stay in the 1 MiB L2. A unit reads each row of its
/// group in full before the next, so a C-ordered axis-0 reduction reads memory in order. (With
/// one tile per unit, 8 KiB pieces of 32 KiB rows, a 4000x4000 axis-0 sum read 12 GB/s on one
/// core; a C test of whole-row order read the same matrix at 27 GB/s.)
pub(crate) const GROUP_TILES: usize = 8;

/// Contiguous rows of the vertical path shorter than this are prefetched a batch ahead.
const SHORT_ROW_BYTES: usize = 2048;

/// Contiguous rows of the vertical path shorter than this, one after another in memory, are
/// read as `Kernel::BATCH` streams evenly spaced over the unit (see `VerticalOp`).
const SPACED_ROW_BYTES: usize = 16 << 10;
/// Rows of outputs at most this many elements apart are not prefetched (see `fetch`).
const NEAR_STRIDE: usize = 64;

/// Elements per vertical unit (2 MiB of f64; of any element for the kernels that count
/// bytes, `Kernel::BY_BYTES`: u8 max over axis 0 of an image cut into blocks of 68 rows
/// spent more time combining the blocks' partials than reading) ...
const VERT_UNIT: usize = 1 << 18;
/// ... but at most this many units over the reduced positions of one group, so the partial
/// vectors that are combined afterwards stay small (16 x 4000 outputs x 24 B = 1.5 MB).
const MAX_ROW_BLOCKS: usize = 16;
/// ... and only as many as it takes for this many units in all: each block of a group is a
/// vector of partials written, kept and combined, 24 B per output for f64 sums (a
/// (365, 64800) f32 matrix's axis-0 mean in 96 units spent most of its time in the page
/// faults of 19 MB of such vectors per call).
const MIN_VERT_UNITS: usize = 16;

/// Rows per block, at least, where a mid-size vertical reduction is cut into blocks for
/// the hand-off helpers: each block pays its outputs' tile, partial and combination.
const SPLIT_ROWS: usize = 128;
/// ... and at most this many blocks. Each costs a few microseconds (its tile, its partials
/// and their combination): on the 2-core Zen 3, a 316x316 f64 axis-0 mean in 2 blocks was
/// 1.2-1.7x as fast at 2 threads and about 8% slower on one thread than in one block (4
/// blocks: 13% slower on one thread).
const SPLIT_BLOCKS: usize = 2;

/// Outputs per unit, at least, where the vertical path cuts the outputs of one line among
/// the threads rather than the rows into blocks (see `vertical`).
const SPLIT_OUTPUTS: usize = 256;

/// The vertical path: outputs along the fastest kept axis `kin` in groups of up to
/// `GROUP_TILES` tiles of `TILE` outputs; each unit adds the rows of one block of reduced
/// positions into per-output states, and the blocks of a group are combined in a fixed
/// pairwise tree. Groups and blocks depend only on the layout.
fn vertical<T: Element, K: Kernel<T>>(
    kernel: &K,
    base: SharedPtr<T>,
    kept: &[Axis],
    kin: usize,
    out_shape: &[usize],
    red: &Layout,
    level: SimdLevel,
) -> Vec<K::Partial> {
    let out_strides = c_strides(out_shape);
    let others: Vec<Axis> = (0..kept.len())
        .filter(|&k| k != kin)
        .map(|k| kept[k])
        .collect();
    let others_out: Vec<Axis> = (0..kept.len())
        .filter(|&k| k != kin)
        .map(|k| Axis {
            len: kept[k].len,
            stride: out_strides[k],
        })
        .collect();
    let (in_offs, out_offs) = (row_offsets(&others), row_offsets(&others_out));
    let m = kept[kin].len;
    // A reversed fastest kept axis (`a[::-1, ::-1].mean(axis=0)`) is walked forwards, from
    // its last output to its first: rows of stride 1, read in place, where stride -1 was
    // copied a piece at a time (2000x2000 f64, one Zen 4 thread: 2.2x the C-order time).
    // Outputs are independent and each takes its rows in the same order, so this changes
    // no output's bits.
    let walk = forwards(kept[kin], out_strides[kin]);
    let (s, os, first_in, first_out) = (walk.stride, walk.out_stride, walk.first, walk.first_out);
    let threads = pool().current_num_threads();
    // A kernel whose results no cut changes (`GROUPING_FREE`) on several threads, with one
    // line of enough outputs: whole rows, the outputs cut among the threads (each output's
    // value is its own, whatever the group), not the rows into blocks, each a tile, its
    // partials and their combination (and, for the float sums, blocks of at most
    // `TRACKED_ROWS` rows run a slower loop). A (250, 3000) f64 axis-0 mean in three blocks
    // took 1.4x one thread's time at two (`examples/hot`, Zen 4).
    // (As many parts for each thread: 3 groups on 2 threads left one thread two thirds.)
    let parts = (m / SPLIT_OUTPUTS).min(PARTS_PER_THREAD * threads) / threads * threads;
    let split_outputs = K::GROUPING_FREE
        && threads > 1
        && in_offs.len() == 1
        && parts >= threads
        && m * red.len >= MID_MIN;
    let group = if split_outputs {
        // (Whole cache lines of f64 outputs; the last group may be shorter, or, rounded, a
        // part fewer.)
        m.div_ceil(parts)
            .next_multiple_of(8)
            .min(GROUP_TILES * TILE)
    } else {
        GROUP_TILES * TILE
    };
    let groups = m.div_ceil(group);
    let width = m.min(group);
    let lines = in_offs.len() * groups;
    // On one thread, a kernel whose results no cut changes takes all the rows of a group of
    // outputs in one unit: more blocks only cost (as above). 316x316 f64 axis-0 mean, one
    // Zen 4 thread, `examples/hot`: the best of 12 runs 30.6 us in two blocks, 25.1 in one.
    let whole = K::GROUPING_FREE && (threads == 1 || split_outputs);
    let wanted = MIN_VERT_UNITS.div_ceil(lines).clamp(1, MAX_ROW_BLOCKS);
    let mut per_block = if whole {
        red.len.max(1)
    } else {
        (unit_of::<T, K>() * (VERT_UNIT / UNIT))
            .div_ceil(width)
            .max(red.len.div_ceil(wanted))
            .max(1)
    };
    let out_len = in_offs.len() * m;
    let total = out_len * red.len;
    if !whole && !K::BY_BYTES && lines == 1 && per_block >= red.len && total >= MID_MIN {
        // A mid-size reduction that one unit would hold is cut into a few blocks of at
        // least SPLIT_ROWS rows, which the hand-off helpers share (one unit left a 316x316
        // f64 axis-0 mean on one core, 0.9x numpy at 2 threads). Not for the kernels that
        // count bytes (min/max, counts): cheap per element, they lost more to each extra
        // block's tile and partials on one thread (max of 316x316 over axis 0 0.7x as
        // fast in 4 blocks) than a second thread gained them.
        let b = (red.len / SPLIT_ROWS).clamp(1, SPLIT_BLOCKS);
        per_block = red.len.div_ceil(b);
    }
    let blocks = red.len.div_ceil(per_block);
    let units = lines * blocks;
    // Block `b`'s partials of every output, in C order, at `b * out_len ..`: one buffer for
    // the call, written in place by the units (a vector per unit, freed after the combine,
    // made the allocator return and fault in megabytes per call). Not filled first: that was
    // a pass over as many bytes as a short reduction reads ((4, 100000) f64 over axis 0).
    let mut parts: Vec<K::Partial> = Vec::with_capacity(blocks * out_len);
    let dest = SharedOut(parts.as_mut_ptr());
    map_units(units, work_of::<T, K>(total), &|u| {
        let (combo, g, b) = (u / (groups * blocks), (u / blocks) % groups, u % blocks);
        let g0 = g * group;
        let len = group.min(m - g0);
        dispatch(
            level,
            VerticalOp {
                kernel,
                base: SharedPtr(base.at(in_offs[combo] + first_in + g0 as isize * s)),
                red,
                start: b * per_block,
                count: per_block,
                len,
                stride: s,
                // Outputs `out_offs[combo] + first_out + (g0 + j) * os`, `j < len`, are
                // distinct C-order positions below `out_len` (walk position `g0 + j` is one
                // output of the axis, each its own: `forwards`), so block
                // `b`'s copies of them lie in `parts`; no other unit has any of them: it
                // differs in the block (another `out_len` stretch), the group (other `j`)
                // or `combo` (other outputs). `parts` outlives `map_units`, which returns
                // after every unit.
                out: dest
                    .at((b * out_len) as isize + out_offs[combo] + first_out + g0 as isize * os),
                out_stride: os,
            },
        )
    });
    // SAFETY: the units are every (combo, group, block) triple (`units = in_offs.len() *
    // groups * blocks`), and each writes its group's `len` outputs of its combo, for its
    // block, into their slots (`VerticalOp` writes every output of its tiles); the groups
    // cover `0..m` and the combos every other kept position, so every one of the `blocks *
    // out_len` slots (the capacity) was written by the time `map_units` returned. (Had a unit
    // panicked, the panic would have left before this, with the length still 0.) Partials
    // are `Copy`: no drop is skipped or doubled.
    unsafe { parts.set_len(blocks * out_len) };
    tree_combine_rows_in(&mut parts, out_len, |a, b| kernel.combine(a, b));
    parts.truncate(out_len);
    parts
}

/// A reduction the short-columns path takes (`kernels::short_sum`): outputs that are
/// consecutive elements (the fastest kept axis has stride 1), at most
/// `short_sum::short_column_rows` elements each (64 f64; 128 f32, 256 within 16 MiB).
pub(crate) struct ShortPlan {
    /// The caller's kept shape.
    pub shape: Vec<usize>,
    /// Element offsets, from an output's first element's line, of the reduced positions.
    pub rows: Vec<isize>,
    /// Each combination of the other kept axes: the element offset of its outputs, and the
    /// index (C order) of its first output.
    pub lines: Vec<(isize, usize)>,
    /// Outputs a line (consecutive elements), and the step between their indices.
    pub width: usize,
    pub out_stride: usize,
}

/// The [`ShortPlan`] of a reduction over `axes` (sorted, unique, in range) of `shape` with
/// element `strides`, if the vertical path would take it (for a kernel whose
/// `SHORT_REDUCTION` is `short_reduction`) with outputs of stride 1 and at most `max_rows`
/// elements each (`short_sum::short_column_rows`).
pub(crate) fn short_plan(
    shape: &[usize],
    strides: &[isize],
    axes: &[usize],
    short_reduction: usize,
    max_rows: usize,
) -> Option<ShortPlan> {
    let (kept, red, caller_shape) = split_axes(shape, strides, axes);
    let (Walk::Vertical, kin) = choose(&kept, &red, short_reduction) else {
        return None;
    };
    if kept[kin].stride != 1 || red.len > max_rows {
        return None;
    }
    let out_shape: Vec<usize> = kept.iter().map(|a| a.len).collect();
    let out_strides = c_strides(&out_shape);
    let (others, others_out): (Vec<Axis>, Vec<Axis>) = (0..kept.len())
        .filter(|&k| k != kin)
        .map(|k| {
            let out = Axis {
                len: kept[k].len,
                stride: out_strides[k],
            };
            (kept[k], out)
        })
        .unzip();
    let lines = row_offsets(&others)
        .into_iter()
        .zip(row_offsets(&others_out))
        .map(|(i, o)| (i, o as usize))
        .collect();
    Some(ShortPlan {
        shape: caller_shape,
        rows: red.offsets_in(0, red.len).collect(),
        lines,
        width: kept[kin].len,
        out_stride: out_strides[kin] as usize,
    })
}

/// Elements per unit of the short-columns path (a unit is some outputs of one line).
const SHORT_UNIT: usize = 1 << 15;

/// Runs the short-columns reduction `plan` of the view at `base` (see
/// `kernels::short_sum`): every output's value (C order), and the partials of those it left
/// undecided, by index (in index order within each line).
///
/// # Safety
/// `base` is the base of a view whose elements `plan` reaches (`short_plan` of its shape and
/// strides), valid for the call.
pub(crate) unsafe fn short_columns<T: FloatElement, P: NanPolicy>(
    base: SharedPtr<T>,
    plan: &ShortPlan,
    kind: FloatOut,
    level: SimdLevel,
) -> (Vec<T>, Vec<(usize, FloatPartial)>) {
    let rows = plan.rows.len();
    // (Whole blocks of the widest, 32 f32 outputs at AVX-512, but for a line's last.)
    let per = (SHORT_UNIT / rows).next_multiple_of(32).min(plan.width);
    let chunks = plan.width.div_ceil(per);
    let outputs = plan.lines.len() * plan.width;
    // Not filled first: every slot is written below (a pass over the output was a twentieth
    // of a (2, 100000) axis-0 sum).
    let mut values: Vec<T> = Vec::with_capacity(outputs);
    let dest = SharedOut(values.as_mut_ptr());
    let parts = map_units(plan.lines.len() * chunks, outputs * rows, &|u| {
        let ((at, first), c) = (plan.lines[u / chunks], u % chunks);
        let j0 = c * per;
        let first = first + j0 * plan.out_stride;
        dispatch(
            level,
            ShortColumns::<T, P> {
                base: SharedPtr(base.at(at + j0 as isize)),
                rows: &plan.rows,
                len: per.min(plan.width - j0),
                // Outputs `first + j * out_stride`, `j < len`, are this unit's: distinct C-order
                // indices below `outputs` (the plan's lines and widths are the kept positions),
                // which no other unit has (another line or chunk). `values` outlives
                // `map_units`, which returns after every unit.
                out: dest.at(first as isize),
                out_stride: plan.out_stride,
                first,
                kind,
                policy: std::marker::PhantomData,
            },
        )
    });
    // SAFETY: the units are every (line, chunk) pair, and each writes all its outputs
    // (`ShortColumns` writes every one); the chunks cover each line's `width` outputs and the
    // lines every other kept position, so all `outputs` slots (the capacity) were written when
    // `map_units` returned (a panic would have left before this). `T` is `Copy`.
    unsafe { values.set_len(outputs) };
    (values, parts.into_iter().flatten().collect())
}

/// The least number of reduced positions worth reading as one row of interleaved outputs.
const MIN_WIDEN: usize = 8;

/// The least number of wide rows an interleaved reduction is read as.
const MIN_WIDE_ROWS: usize = 8;

/// The most interleaved outputs read as wide rows. Measured on the 2-core Zen 3 (AVX2):
/// `mean(a, axis=0)` of C-order (n, m) f64 (about 2e6 elements) against the same values with
/// padded rows (which take the plain vertical path): m = 2..8 3.2-6.6x faster, 16 2.0x, 32
/// 1.5x, 64 0.98x, 128 0.92x.
const MAX_INTERLEAVED: usize = 32;

/// Interleaved outputs (`kept`, the fastest kept axis, and the innermost reduced axis are
/// one run: pixels of `m` channels, reduced over the pixels): how many consecutive reduced
/// positions `k` to read as one row of `k * m` outputs, so the vertical path adds rows of up
/// to a tile instead of rows of `m` elements. `k` divides the reduced axis; `None` when no
/// such `k >= MIN_WIDEN` exists, `m > MAX_INTERLEAVED`, or the layout is not interleaved.
fn widening(kept: Axis, red: &Layout) -> Option<usize> {
    let inner = red.inner();
    let m = kept.len;
    if red.axes.is_empty()
        || m > MAX_INTERLEAVED
        || kept.stride <= 0
        || inner.stride != m as isize * kept.stride
    {
        return None;
    }
    // (At least MIN_WIDE_ROWS wide rows: a small matrix read as one or two wide rows spent
    // its time combining each output's k partials; 32x32 axis 0 was 0.55x numpy.)
    let widest = (TILE / m).min(inner.len).min(red.len / MIN_WIDE_ROWS);
    (MIN_WIDEN..=widest).rev().find(|&k| inner.len % k == 0)
}

/// The vertical path on interleaved outputs (see [`widening`]): every `k` consecutive
/// positions of the innermost reduced axis are read as one row of `k * m` "wide" outputs,
/// wide output `j * m + c` holding position `j` of each row for output `c`; then the `k`
/// wide outputs of each output combine in a fixed pairwise tree. Depends on the layout only.
#[allow(clippy::too_many_arguments)]
fn widened<T: Element, K: Kernel<T>>(
    kernel: &K,
    base: SharedPtr<T>,
    kept: &[Axis],
    kin: usize,
    out_shape: &[usize],
    red: &Layout,
    k: usize,
    level: SimdLevel,
) -> Vec<K::Partial> {
    let m = kept[kin].len;
    let inner = red.inner();
    let mut wide_red = red.clone();
    let last = wide_red.axes.len() - 1;
    wide_red.axes[last] = Axis {
        len: inner.len / k,
        stride: inner.stride * k as isize,
    };
    wide_red.len = red.len / k;
    let mut wide_kept = kept.to_vec();
    wide_kept[kin].len = m * k;
    let mut wide_shape = out_shape.to_vec();
    wide_shape[kin] = m * k;
    let wide = vertical(kernel, base, &wide_kept, kin, &wide_shape, &wide_red, level);
    // Each output's wide outputs, by C-order index of the outputs.
    let wide_strides = c_strides(&wide_shape);
    let out_len: usize = out_shape.iter().product();
    let mut idx = vec![0usize; out_shape.len()];
    let mut out = Vec::with_capacity(out_len);
    let mut parts: Vec<K::Partial> = Vec::with_capacity(k);
    for _ in 0..out_len {
        let mut at = 0isize;
        for (q, &i) in idx.iter().enumerate() {
            if q != kin {
                at += i as isize * wide_strides[q];
            }
        }
        let step = wide_strides[kin];
        let c = idx[kin];
        parts.clear();
        parts.extend((0..k).map(|j| wide[(at + (j * m + c) as isize * step) as usize]));
        out.push(tree_combine_in(&mut parts, |a, b| kernel.combine(a, b)).expect("k >= 1"));
        next_c_index(&mut idx, out_shape);
    }
    out
}

struct VerticalOp<'a, T: Element, K: Kernel<T>> {
    kernel: &'a K,
    base: SharedPtr<T>,
    red: &'a Layout,
    /// The reduced positions `start..start + count` (in `red`'s order) this unit adds.
    start: usize,
    count: usize,
    /// Outputs of this unit (up to `GROUP_TILES * TILE`), `stride` apart.
    len: usize,
    stride: isize,
    /// Where output `j < len`'s partial goes: `out + j * out_stride` (back where the stride
    /// is negative), valid for writes, and written by no one else while the unit runs.
    out: SharedOut<K::Partial>,
    out_stride: isize,
}

impl<T: Element, K: Kernel<T>> WithSimd for VerticalOp<'_, T, K> {
    type Output = ();

    #[inline(always)]
    fn with_simd<S: Simd>(self, simd: S) {
        let k = self.kernel;
        let ntiles = self.len.div_ceil(TILE);
        let rows_here = self.count.min(self.red.len.saturating_sub(self.start));
        let tile_len = |t: usize| TILE.min(self.len - t * TILE);
        let mut tiles: Vec<K::Tile> = (0..ntiles)
            .map(|t| k.tile_for(rows_here, tile_len(t)))
            .collect();
        // The next reduced position along the innermost reduced axis: its row is prefetched
        // while this one is added (at the end of that axis this guesses wrong, harmlessly).
        let next = self.red.inner().stride;
        // The unit's rows are contiguous pieces this long: a short one is prefetched (the
        // hardware prefetcher does not ramp up on it), one that a tile only cuts into pieces
        // is not (an image's 5760-byte rows cost a prefetch plan per 1 KB tile: u8 max over
        // axis 0 at 0.3x numpy).
        let row_bytes = self.len * std::mem::size_of::<T>();
        const { assert!(K::BATCH <= MAX_BATCH && K::FLUSH_ROWS % K::BATCH == 0) };
        let batch_rows = K::BATCH;
        let mut rows = 0;
        // Reduced positions are gathered `BATCH` at a time and pushed together; the last
        // batch may be shorter (then no flush is due before the final one). `push_rows` is
        // called from this one place.
        //
        // Short rows that follow each other in memory (a cube's middle axis: rows of 360 f32
        // one after another) are taken from `BATCH` streams evenly spaced over the unit, row
        // `b` of each in batch `b`: each stream then reads memory in order, where `BATCH`
        // consecutive rows were interleaved streams jumping back at every batch (max over
        // axis 1 of a (365, 180, 360) f32 cube at 0.7x numpy). The order depends on the
        // layout only; the last `rows % BATCH` rows follow in order.
        // Rows of stride 2 (`a[:, ::2].mean(axis=0)`) too: as four interleaved streams,
        // with prefetches, 1000x1000 `[:, ::2]` took 1.3x numpy's time on one Zen 3 core.
        let step = self.stride.unsigned_abs();
        let spaced = (self.stride == 1 || self.stride == 2)
            && row_bytes < SPACED_ROW_BYTES
            && next.unsigned_abs() == self.len * step
            && rows_here >= 2 * batch_rows;
        let q = if spaced { rows_here / batch_rows } else { 0 };
        let mut streams: [_; MAX_BATCH] = std::array::from_fn(|r| {
            let q = if r < batch_rows { q } else { 0 };
            self.red.offsets_in(self.start + r * q, q)
        });
        let mut offsets = self
            .red
            .offsets_in(self.start + batch_rows * q, rows_here - batch_rows * q);
        // Strided rows and short ones only are prefetched: long contiguous rows train the
        // hardware prefetcher, and software prefetches of them cost more than they saved
        // (2-core Zen 3, one thread: 4000x4000 f64 mean over axis 0 8.6 -> 11.2 GB/s and max
        // 7.4 -> 10.0 GB/s without them); rows of 40 f64 lost 15% without them. Rows of
        // stride 2 read every cache line they span, in order, as contiguous ones do: the
        // same rule, by the bytes they span (prefetching them, `a[::2, ::2].mean(axis=0)`
        // of 1000x1000 f64 spent a third of its time in the prefetch loop and ran at 0.6x
        // numpy, AVX2 on one thread of a Xeon). Spaced streams are read in order.
        // Rows of outputs a few elements apart (short rows' outputs: the next rows lie in
        // the lines just read) are not prefetched either: the hints were a tenth of a
        // (10000, 16) f32 axis-1 sum.
        let fetch = !spaced
            && match self.stride {
                1 | 2 => row_bytes * step < SHORT_ROW_BYTES,
                s => s.unsigned_abs() > NEAR_STRIDE,
            };
        let mut batch = [0isize; MAX_BATCH];
        let mut spaced_left = q;
        loop {
            let filled = if spaced_left > 0 {
                spaced_left -= 1;
                for (slot, stream) in batch.iter_mut().zip(&mut streams).take(batch_rows) {
                    *slot = stream.next().expect("q rows per stream");
                }
                batch_rows
            } else {
                offsets.fill(&mut batch[..batch_rows])
            };
            if filled == 0 {
                break;
            }
            // A kernel that keeps each output's state in registers across rows takes the
            // batch's rows a tile at a time; the others take whole rows one after another
            // (memory in order). `push_rows` is still called from this one place.
            let (passes, per_call) = if k.batches_rows(self.stride) {
                (1, filled)
            } else {
                (filled, 1)
            };
            for pass in 0..passes {
                for (t, tile) in tiles.iter_mut().enumerate() {
                    let at = (t * TILE) as isize * self.stride;
                    let ptrs: [*const T; MAX_BATCH] =
                        std::array::from_fn(|r| self.base.at(batch[r] + at));
                    let ptrs = &ptrs[pass..pass + per_call];
                    for &p in ptrs.iter().filter(|_| fetch) {
                        prefetch_run(
                            p.wrapping_offset(batch_rows as isize * next),
                            tile_len(t),
                            self.stride,
                        );
                    }
                    // SAFETY: outputs t * TILE .. t * TILE + tile_len(t) of the group at these
                    // reduced positions are elements of the view.
                    unsafe { k.push_rows(simd, tile, ptrs, tile_len(t), self.stride) };
                }
            }
            rows += filled;
            if rows == K::FLUSH_ROWS {
                for (t, tile) in tiles.iter_mut().enumerate() {
                    k.flush(tile, tile_len(t));
                }
                rows = 0;
            }
        }
        for (t, tile) in tiles.iter_mut().enumerate() {
            k.flush(tile, tile_len(t));
            k.seal(tile, tile_len(t));
        }
        for (t, tile) in tiles.iter().enumerate() {
            for j in 0..tile_len(t) {
                // SAFETY: `t * TILE + j < self.len`: an output of this unit, whose slot
                // `self.out` and `self.out_stride` give for writes (the field's contract).
                unsafe {
                    self.out.write(
                        (t * TILE + j) as isize * self.out_stride,
                        k.tile_partial(tile, j),
                    )
                };
            }
        }
        for tile in tiles {
            k.recycle(tile);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn tree_combine_is_a_fixed_pairwise_tree() {
        // A non-associative op exposes the order: ((0,1),(2,3)),4 with op(a, b) = 2a + b.
        assert_eq!(
            tree_combine(vec![0u64, 1, 2, 3, 4], |a, b| 2 * a + b),
            Some(22)
        );
        assert_eq!(tree_combine(vec![7u64], |a, b| 2 * a + b), Some(7));
        assert_eq!(tree_combine(Vec::<u64>::new(), |a, b| 2 * a + b), None);
    }

    #[test]
    fn interleaved_outputs_are_read_as_wide_rows() {
        let inter = |outputs, positions| Walk::Interleaved { outputs, positions };
        // An image's channels over its pixels: 1080 * 1920 positions, rows of 324 x 3.
        assert_eq!(
            walk_of(&[1080, 1920, 3], &[5760, 3, 1], Some(&[0, 1])),
            inter(3, 324)
        );
        // Padded rows: positions along each row only (1920 = 320 x 6).
        assert_eq!(
            walk_of(&[1080, 1920, 3], &[5800, 3, 1], Some(&[0, 1])),
            inter(3, 320)
        );
        // A C-order matrix's columns: the widest k that divides the rows.
        assert_eq!(walk_of(&[1000, 20], &[20, 1], Some(&[0])), inter(20, 50));
        assert_eq!(walk_of(&[1000, 40], &[40, 1], Some(&[0])), Walk::Vertical);
        // At least MIN_WIDE_ROWS wide rows: a small matrix stays on the plain vertical path.
        assert_eq!(walk_of(&[32, 32], &[32, 1], Some(&[0])), Walk::Vertical);
        assert_eq!(walk_of(&[64, 4], &[4, 1], Some(&[0])), inter(4, 8));
        assert_eq!(walk_of(&[63, 4], &[4, 1], Some(&[0])), Walk::Vertical);
        // No divisor >= MIN_WIDEN (a prime number of rows), reversed or too many outputs.
        assert_eq!(walk_of(&[1009, 3], &[3, 1], Some(&[0])), Walk::Vertical);
        assert_eq!(walk_of(&[100, 3], &[3, -1], Some(&[0])), Walk::Vertical);
        assert_eq!(walk_of(&[100, 200], &[200, 1], Some(&[0])), Walk::Vertical);
        // One element per output: rows of outputs, whatever the strides.
        assert_eq!(walk_of(&[1, 300], &[0, 1], Some(&[0])), Walk::Vertical);
        assert_eq!(walk_of(&[300, 1], &[7, 1], Some(&[1])), Walk::Vertical);
        // The reduced axis fastest, everything, nothing.
        assert_eq!(walk_of(&[50, 3], &[3, 1], Some(&[1])), Walk::Lanes);
        assert_eq!(walk_of(&[100, 13], &[13, 1], Some(&[1])), Walk::Lanes);
        // ... but short reductions of many outputs: rows of outputs.
        assert_eq!(walk_of(&[100, 3], &[3, 1], Some(&[1])), Walk::Vertical);
        assert_eq!(walk_of(&[100, 12], &[12, 1], Some(&[1])), Walk::Vertical);
        assert_eq!(
            walk_of(&[100, 2, 2], &[4, 2, 1], Some(&[1, 2])),
            Walk::Vertical
        );
        assert_eq!(walk_of(&[100, 3], &[3, 1], None), Walk::Lanes);
        assert_eq!(walk_of(&[0, 3], &[3, 1], Some(&[1])), Walk::Nothing);
    }

    #[test]
    fn float_sums_take_longer_short_rows_vertically() {
        use crate::kernels::sum::FloatSum;
        use crate::kernels::{short_reduction_of, Ignore, Propagate, SHORT_REDUCTION as COMMON};
        use crate::kernels::{F32_SUM_SHORT_REDUCTION as F32, F64_SUM_SHORT_REDUCTION as F64};
        use crate::{ElemType, Op};
        // (n, 13) over axis 1: vertical for the float sums, lanes for the others.
        let rows = |k: usize| (vec![1000, k], vec![k as isize, 1]);
        let (shape, strides) = rows(13);
        assert_eq!(
            walk_of_short(&shape, &strides, Some(&[1]), F64),
            Walk::Vertical
        );
        assert_eq!(walk_of(&shape, &strides, Some(&[1])), Walk::Lanes);
        let (shape, strides) = rows(F64);
        assert_eq!(
            walk_of_short(&shape, &strides, Some(&[1]), F64),
            Walk::Vertical
        );
        let (shape, strides) = rows(F64 + 1);
        assert_eq!(
            walk_of_short(&shape, &strides, Some(&[1]), F64),
            Walk::Lanes
        );
        // What `explain` describes is what the kernels run.
        for (elem, limit) in [(ElemType::F64, F64), (ElemType::F32, F32)] {
            assert_eq!(short_reduction_of(Op::Sum, elem), limit);
            assert_eq!(short_reduction_of(Op::Mean, elem), limit);
            assert_eq!(short_reduction_of(Op::NanSum, elem), COMMON);
            assert_eq!(short_reduction_of(Op::NanMean, elem), COMMON);
            assert_eq!(short_reduction_of(Op::Max, elem), COMMON);
        }
        assert_eq!(short_reduction_of(Op::Sum, ElemType::I32), COMMON);
        assert_eq!(
            <FloatSum<f64, Propagate> as Kernel<f64>>::SHORT_REDUCTION,
            F64
        );
        assert_eq!(
            <FloatSum<f32, Propagate> as Kernel<f32>>::SHORT_REDUCTION,
            F32
        );
        assert_eq!(
            <FloatSum<f64, Ignore> as Kernel<f64>>::SHORT_REDUCTION,
            COMMON
        );
    }

    #[test]
    fn whole_runs_go_four_at_a_time_where_the_kernel_takes_them() {
        use crate::kernels::sum::{FloatSum, RUNS_HOT_BYTES, RUNS_MAX_BYTES_HOT};
        use crate::kernels::sum::{RUNS_MAX_BYTES, RUNS_MAX_BYTES_F32};
        use crate::kernels::{runs_max_of, Ignore, Propagate, F64_SUM_SHORT_REDUCTION as F64};
        use crate::{ElemType, Op};
        // What `explain` says is what the kernels take: short runs always, longer ones (up
        // to the hot limit) when the whole reduction is small enough to be in cache.
        let (max64, max32) = (RUNS_MAX_BYTES / 8, RUNS_MAX_BYTES_F32 / 4);
        let (hot64, hot32) = (RUNS_MAX_BYTES_HOT / 8, RUNS_MAX_BYTES_HOT / 4);
        assert!(hot64 > max64 && hot64 < UNIT);
        let (big, small) = (RUNS_HOT_BYTES / 4 + 1, RUNS_HOT_BYTES / 8);
        for (elem, max, hot) in [(ElemType::F64, max64, hot64), (ElemType::F32, max32, hot32)] {
            for op in [Op::Sum, Op::Mean] {
                assert_eq!(runs_max_of(op, elem, big, 1), max);
                assert_eq!(runs_max_of(op, elem, small, 1), hot);
                // f64 runs at stride 2 too, with the same limits; f32 ones not.
                let two = if elem == ElemType::F64 {
                    (max, hot)
                } else {
                    (0, 0)
                };
                assert_eq!(
                    (
                        runs_max_of(op, elem, big, 2),
                        runs_max_of(op, elem, small, 2)
                    ),
                    two
                );
                assert_eq!(runs_max_of(op, elem, small, 3), 0);
            }
            assert_eq!(runs_max_of(Op::NanSum, elem, small, 1), 0);
            assert_eq!(runs_max_of(Op::Max, elem, small, 1), 0);
        }
        assert_eq!(runs_max_of(Op::Sum, ElemType::I32, small, 1), 0);
        let k = FloatSum::<f64, Propagate>::new();
        assert!(k.batches_runs(max64, 1, big) && !k.batches_runs(max64 + 1, 1, big));
        assert!(k.batches_runs(hot64, 1, small) && !k.batches_runs(hot64 + 1, 1, small));
        let k = FloatSum::<f32, Propagate>::new();
        assert!(k.batches_runs(max32, 1, big) && !k.batches_runs(max32 + 1, 1, big));
        assert!(k.batches_runs(hot32, 1, small) && !k.batches_runs(hot32 + 1, 1, small));
        assert!(!FloatSum::<f64, Ignore>::new().batches_runs(100, 1, small));
        let k64 = FloatSum::<f64, Propagate>::new();
        assert!(k64.batches_runs(max64, 2, big) && !k64.batches_runs(max64 + 1, 2, big));
        assert!(!k64.batches_runs(10, 3, small) && !k.batches_runs(10, 2, small));
        let runs = |total, stride| runs_max_of(Op::Sum, ElemType::F64, total, stride);
        let walk = |shape: &[usize], strides: &[isize]| {
            walk_of_runs(shape, strides, Some(&[1]), F64, runs)
        };
        assert_eq!(walk(&[1000, 64], &[64, 1]), Walk::Runs);
        assert_eq!(walk(&[4, max64], &[max64 as isize, 1]), Walk::Runs);
        // Long rows: batched in a small array, not in a large one.
        assert_eq!(walk(&[16, 1000], &[1000, 1]), Walk::Runs);
        assert_eq!(walk(&[4, hot64], &[hot64 as isize, 1]), Walk::Runs);
        assert_eq!(walk(&[4, hot64 + 1], &[hot64 as isize + 1, 1]), Walk::Lanes);
        assert_eq!(walk(&[1000, 1000], &[1000, 1]), Walk::Lanes);
        // Fewer outputs than a batch, longer runs, strided runs, short ones: as before.
        assert_eq!(walk(&[3, 64], &[64, 1]), Walk::Lanes);
        assert_eq!(
            walk(&[1000, max64 + 1], &[max64 as isize + 1, 1]),
            Walk::Lanes
        );
        // f64 runs at stride 2 (`a[:, ::2]`) are batched too; wider strides are not.
        assert_eq!(walk(&[1000, 64], &[128, 2]), Walk::Runs);
        assert_eq!(walk(&[1000, 64], &[192, 3]), Walk::Lanes);
        assert_eq!(walk(&[1000, 8], &[8, 1]), Walk::Vertical);
        // A kernel without the form: lanes.
        assert_eq!(
            walk_of_runs(&[1000, 64], &[64, 1], Some(&[1]), F64, |_, _| 0),
            Walk::Lanes
        );
    }

    #[test]
    fn tree_combine_rows_in_is_tree_combine_per_element() {
        let op = |a: u64, b: u64| 2 * a + b;
        for n in 1..12u64 {
            let rows: Vec<Vec<u64>> = (0..n).map(|i| vec![i, 10 * i, i * i]).collect();
            let mut flat: Vec<u64> = rows.concat();
            tree_combine_rows_in(&mut flat, 3, op);
            for j in 0..3 {
                let col: Vec<u64> = rows.iter().map(|r| r[j]).collect();
                assert_eq!(Some(flat[j]), tree_combine(col, op), "n {n} j {j}");
            }
        }
        let mut none: Vec<u64> = Vec::new();
        tree_combine_rows_in(&mut none, 0, op);
        assert!(none.is_empty());
    }
}
