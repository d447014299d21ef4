//! The walk of order statistics (median, quantile, percentile): which elements each output
//! copies into its scratch buffer, in which tasks. The selection itself and its semantics are
//! in `kernels/select.rs`.
//!
//! - Outputs are the kept axes' positions in C order; an output's values are its reduced
//!   positions, read in memory order (the reduced axes normalised: a multiset has no order).
//! - **Lane tasks** (a reduced axis is the fastest): each output's runs are copied in turn
//!   (a contiguous run as a slice), several outputs a task when they are short.
//! - **Vertical tasks** (a kept axis is faster than every reduced one: a cube's leading
//!   axis): `TILE_BYTES` of outputs side by side, each reduced position read for all of them at once,
//!   so memory is read a row at a time and not a column at a time.
//! - Tasks are independent (each output its own buffer and answer): the results do not depend
//!   on the thread count.

use crate::driver::map_units;
use crate::element::{ElemType, Element};
use crate::kernels::select::{
    answer, order, push_numbers, quantile_value, select_ranks, QuantileMethod,
};
use crate::layout::{normalize, Axis, Layout};
use crate::walk::{gather, prefetch_run, row_offsets, SharedPtr, Split};
use crate::ReduceError;
use std::any::Any;
use std::cell::RefCell;

/// A rule giving an output's ranks from its count of numbers: `f(count, ranks)` fills the
/// `k` ranks of an output that holds `count` numbers (`0..=` the elements per output).
pub type RanksOfCount<'a> = &'a (dyn Fn(usize, &mut [usize]) + Sync);

/// Which order statistics (0-based ranks into an output's sorted values, NaN last) each
/// output wants. A rank at or past an output's count of numbers gives NaN (zero for an
/// integer type, whose count is every element).
#[derive(Clone, Copy)]
pub enum Ranks<'a> {
    /// The same ranks for every output.
    Shared(&'a [usize]),
    /// `k` ranks for each output, in C order of the outputs: output `i`'s are
    /// `ranks[i * k..(i + 1) * k]`.
    PerOutput {
        /// The ranks, `k` per output.
        ranks: &'a [usize],
        /// Ranks per output.
        k: usize,
    },
    /// `k` ranks for each output from its count of numbers, known once its elements are
    /// read (what the nan-variants ask: the middle of the numbers, a quantile of them), so
    /// that the data is read once.
    ByCount {
        /// The rule.
        ranks: RanksOfCount<'a>,
        /// Ranks per output.
        k: usize,
    },
}

impl std::fmt::Debug for Ranks<'_> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Ranks::Shared(r) => f.debug_tuple("Shared").field(r).finish(),
            Ranks::PerOutput { ranks, k } => f
                .debug_struct("PerOutput")
                .field("ranks", ranks)
                .field("k", k)
                .finish(),
            Ranks::ByCount { k, .. } => f.debug_struct("ByCount").field("k", k).finish(),
        }
    }
}

impl Ranks<'_> {
    /// Ranks per output.
    pub fn k(&self) -> usize {
        match *self {
            Ranks::Shared(r) => r.len(),
            Ranks::PerOutput { k, .. } | Ranks::ByCount { k, .. } => k,
        }
    }

    /// The ranks of output `output`, which holds `count` numbers, into `out`.
    fn fill(&self, output: usize, count: usize, out: &mut Vec<usize>) {
        out.clear();
        match *self {
            Ranks::Shared(r) => out.extend_from_slice(r),
            Ranks::PerOutput { ranks, k } => {
                out.extend_from_slice(&ranks[output * k..(output + 1) * k]);
            }
            Ranks::ByCount { ranks, k } => {
                out.resize(k, 0);
                ranks(count, out);
            }
        }
    }
}

/// Bytes of each reduced position's row that a vertical task reads (its outputs side by
/// side: 128 f64, 256 f32). With 16 outputs a task, a C-order matrix's axis 0 read 128-byte
/// pieces a row apart, a page apart each: the walk waited on memory (median of 4000x4000 f64
/// along axis 0 took 4x as long as along axis 1).
const TILE_BYTES: usize = 1024;

/// Reduced positions ahead whose row a vertical task prefetches.
const AHEAD: usize = 8;

/// Elements a lane task copies, at least (whole outputs).
const TASK_ELEMENTS: usize = 1 << 16;

/// Selection costs several times a streaming reduction per element: the work the threading
/// thresholds see.
const WORK_PER_ELEMENT: usize = 8;

/// The outputs (offsets, C order), the reduced positions' layout, and how they are read.
struct Plan {
    outs: Vec<isize>,
    reduced: Layout,
    vertical: bool,
}

fn plan(shape: &[usize], strides: &[isize], axes: &[usize]) -> Plan {
    let kept: Vec<Axis> = (0..shape.len())
        .filter(|d| !axes.contains(d))
        .map(|d| Axis {
            len: shape[d],
            stride: strides[d],
        })
        .collect();
    let outs = if kept.iter().any(|a| a.len == 0) {
        Vec::new()
    } else {
        row_offsets(&kept)
    };
    let (rs, rt): (Vec<usize>, Vec<isize>) = axes.iter().map(|&d| (shape[d], strides[d])).unzip();
    let reduced = normalize(&rs, &rt);
    let fastest_kept = kept
        .iter()
        .rev()
        .find(|a| a.len > 1)
        .map(|a| a.stride.unsigned_abs());
    let vertical = match fastest_kept {
        Some(s) => reduced.len > 1 && s < reduced.inner().stride.unsigned_abs(),
        None => false,
    };
    Plan {
        outs,
        reduced,
        vertical,
    }
}

/// Order statistics of each output of the view `(base, shape, strides)` over `axes` (sorted,
/// distinct): `values` (`k` per output, C order) and `counts` (each output's numbers).
///
/// # Safety
/// Every element `base + Σ i_d * strides[d]` (element strides) is a valid, initialised `T`
/// that nobody writes during the call.
unsafe fn typed<T: Element>(
    base: *const T,
    shape: &[usize],
    strides: &[isize],
    axes: &[usize],
    ranks: Ranks<'_>,
    values: &mut [T],
    counts: &mut [usize],
) {
    let Plan {
        outs,
        reduced,
        vertical,
    } = plan(shape, strides, axes);
    let n = reduced.len;
    let k = ranks.k();
    let base = SharedPtr(base);
    let mut want = Vec::with_capacity(k);
    if n >= LARGE {
        for (j, &o) in outs.iter().enumerate() {
            let vals = &mut values[j * k..(j + 1) * k];
            // SAFETY: `o` is an output's offset: with the reduced positions, elements of
            // the view (the caller's contract).
            if let Some(c) = unsafe { large(base, o, &reduced, ranks, j, vals) } {
                counts[j] = c;
                continue;
            }
            let mut cnt = [0];
            with_scratch(n, |buf: &mut [T], spare| {
                // SAFETY: as above.
                unsafe { copy_numbers(base, &[o], &reduced, false, buf, &mut cnt) };
                ranks.fill(j, cnt[0], &mut want);
                answer(buf, cnt[0], &want, &mut Vec::new(), spare, vals);
            });
            counts[j] = cnt[0];
        }
        return;
    }
    let group = task_outputs::<T>(n, vertical);
    let task = |t: usize| -> (Vec<T>, Vec<usize>) {
        let o0 = t * group;
        let mine = &outs[o0..(o0 + group).min(outs.len())];
        let g = mine.len();
        let mut cnt = vec![0usize; g];
        let mut vals = vec![T::ZERO; g * k];
        with_scratch(g * n, |buf: &mut [T], spare| {
            // SAFETY: every offset read is an output's offset plus a reduced position's, i.e.
            // an element of the view (the caller's contract).
            unsafe { copy_numbers(base, mine, &reduced, vertical, buf, &mut cnt) };
            let (mut want, mut sorted) = (Vec::with_capacity(k), Vec::new());
            for j in 0..g {
                ranks.fill(o0 + j, cnt[j], &mut want);
                answer(
                    &mut buf[j * n..(j + 1) * n],
                    cnt[j],
                    &want,
                    &mut sorted,
                    spare,
                    &mut vals[j * k..(j + 1) * k],
                );
            }
        });
        (vals, cnt)
    };
    let work = outs
        .len()
        .saturating_mul(n)
        .saturating_mul(WORK_PER_ELEMENT);
    let parts = map_units(outs.len().div_ceil(group), work, &task);
    let (mut v, mut c) = (0, 0);
    for (vals, cnt) in parts {
        values[v..v + vals.len()].copy_from_slice(&vals);
        counts[c..c + cnt.len()].copy_from_slice(&cnt);
        v += vals.len();
        c += cnt.len();
    }
}

/// Scratch bytes a thread keeps between calls ([`with_scratch`]).
const KEEP_BYTES: usize = 4 << 20;

/// `f` of this thread's selection scratch: a buffer of `len` elements for the outputs'
/// numbers (holding earlier values: the caller writes what it reads) and the partition's
/// spare buffer. Both are kept for the thread's next call while they hold at most
/// `KEEP_BYTES` together. Fresh buffers of these sizes are mapped pages that the first write
/// faults in: a new pair for every median of 40000 f64 spent a third of its time in the
/// kernel's page faults, more than in the selection.
fn with_scratch<T: Element, R>(len: usize, f: impl FnOnce(&mut [T], &mut Vec<T>) -> R) -> R {
    type Kept = RefCell<Option<Box<dyn Any>>>;
    thread_local!(static KEPT: Kept = const { RefCell::new(None) });
    let kept = KEPT.with(|k| k.borrow_mut().take());
    let (mut buf, mut spare) = kept
        .and_then(|b| b.downcast::<(Vec<T>, Vec<T>)>().ok())
        .map(|b| *b)
        .unwrap_or_default();
    if buf.len() < len {
        buf.resize(len, T::ZERO);
    }
    let r = f(&mut buf[..len], &mut spare);
    if (buf.capacity() + spare.capacity()) * std::mem::size_of::<T>() <= KEEP_BYTES {
        KEPT.with(|k| *k.borrow_mut() = Some(Box::new((buf, spare))));
    }
    r
}

/// Outputs a task takes when each has `n` elements: a tile of outputs side by side when
/// `vertical`, else whole outputs up to `TASK_ELEMENTS` elements.
fn task_outputs<T>(n: usize, vertical: bool) -> usize {
    if vertical {
        TILE_BYTES / std::mem::size_of::<T>()
    } else {
        (TASK_ELEMENTS / n.max(1)).max(1)
    }
}

/// Elements per output from which an output is selected by sampling ([`large`]).
const LARGE: usize = 1 << 18;

/// Elements sampled by [`large`].
const SAMPLE: usize = 1 << 15;

/// Sample positions on each side of a wanted rank's estimate that bound its band: over four
/// standard deviations of the estimate (at most `sqrt(SAMPLE) / 2` = 90).
const MARGIN: usize = 400;

/// Elements a unit of [`large`]'s pass reads.
const LARGE_UNIT: usize = 1 << 16;

/// Most disjoint bands [`large`] tracks (more ranks: the whole output is copied).
const MAX_BANDS: usize = 8;

/// An interval of values `lo..=hi` around some wanted ranks, and what one unit (or the
/// whole output) holds of it: the numbers below `lo`, equal to `lo`, equal to `hi` (when
/// `hi != lo`), and those strictly between, kept.
#[derive(Clone)]
struct Band<T> {
    lo: T,
    hi: T,
    below: usize,
    at_lo: usize,
    at_hi: usize,
    inside: Vec<T>,
}

impl<T: Element> Band<T> {
    /// A number in `lo..=hi`.
    #[inline(always)]
    fn take(&mut self, x: T) {
        if x == self.lo {
            self.at_lo += 1;
        } else if x == self.hi {
            self.at_hi += 1;
        } else {
            self.inside.push(x);
        }
    }

    /// The band's numbers, `below` included.
    fn end(&self) -> usize {
        self.below + self.at_lo + self.inside.len() + self.at_hi
    }
}

/// Elements [`tally`] takes at a time (a strided run is copied that many at a time).
const CHUNK: usize = 64;

/// A chunk of a unit's run into the bands; returns its NaNs. For each band, first the
/// count below it and a flag per element inside it, without a branch (the loop
/// vectorises); then, only if the chunk holds some of the band's values, the flagged ones
/// are kept, a branch on each flag (rarely set: predicted). A branch on `x >= lo` per
/// element is a coin toss for a median: mispredicted, the pass took 7-10 ns an element.
#[inline(always)]
fn tally<T: Element>(bands: &mut [Band<T>], chunk: &[T]) -> usize {
    let nan = nans_in(chunk);
    let mut held = [false; CHUNK];
    for band in bands {
        let (lo, hi) = (band.lo, band.hi);
        let (mut below, mut inside) = (0usize, 0usize);
        for (h, &x) in held.iter_mut().zip(chunk) {
            let within = (x >= lo) & (x <= hi);
            *h = within;
            below += usize::from(x < lo);
            inside += usize::from(within);
        }
        band.below += below;
        if inside > 0 {
            for (&h, &x) in held.iter().zip(chunk) {
                if h {
                    band.take(x);
                }
            }
        }
    }
    nan
}

/// The values at the ranks of output `j` at `o` (its `count` of numbers returned) without
/// copying it: a sorted sample of `SAMPLE` elements bounds each wanted rank by a band of
/// values (`MARGIN` sample positions each side of its estimate); one pass over the output,
/// cut into units on the threads, counts the numbers below each band and at its bounds and
/// keeps those strictly inside (a few percent of the output); each rank is then selected
/// among its band's. `None` (the caller copies the whole output) when the sample has no
/// number, the bands are too many, or a rank falls outside every band (a sample that
/// misjudged the data: rare, and the answer is then found the plain way). The answer is
/// exact either way, and the same at every thread count. Ranks by count are placed from the
/// count the sample suggests, and checked against the true one.
///
/// # Safety
/// `base + o + p` is a valid `T` for every reduced position `p` of `reduced`.
unsafe fn large<T: Element>(
    base: SharedPtr<T>,
    o: isize,
    reduced: &Layout,
    rule: Ranks<'_>,
    j: usize,
    out: &mut [T],
) -> Option<usize> {
    let n = reduced.len;
    let mut sample: Vec<T> = (0..SAMPLE)
        .filter_map(|i| reduced.offsets_in(i * (n / SAMPLE), 1).next())
        // SAFETY: an offset of the reduced layout from the output's: an element.
        .map(|p| unsafe { *base.at(o + p) })
        .filter(|x| !x.is_nan())
        .collect();
    let m = sample.len();
    if m == 0 {
        return None;
    }
    sample.sort_unstable_by(order::<T>);
    let estimate = |r: usize| ((r as u128 * SAMPLE as u128) / n as u128) as usize;
    let mut wanted = Vec::new();
    rule.fill(
        j,
        ((n as u128 * m as u128) / SAMPLE as u128) as usize,
        &mut wanted,
    );
    wanted.sort_unstable();
    wanted.dedup();
    let mut bands: Vec<Band<T>> = Vec::new();
    for &r in &wanted {
        let p = estimate(r);
        let lo = match p.checked_sub(MARGIN) {
            Some(i) if i < m => sample[i],
            Some(_) => sample[m - 1],
            None => T::MAX_IDENTITY,
        };
        let hi = if p + MARGIN < m {
            sample[p + MARGIN]
        } else {
            T::MIN_IDENTITY
        };
        match bands.last_mut() {
            Some(b) if lo <= b.hi => {
                if hi > b.hi {
                    b.hi = hi;
                }
            }
            _ => bands.push(Band {
                lo,
                hi,
                below: 0,
                at_lo: 0,
                at_hi: 0,
                inside: Vec::new(),
            }),
        }
    }
    if bands.len() > MAX_BANDS {
        return None;
    }
    let (split, units) = reduced.split(LARGE_UNIT);
    let unit = |u: usize| -> (usize, Vec<Band<T>>) {
        let mut mine = bands.clone();
        let mut nan = 0;
        // SAFETY: the function's contract.
        unsafe {
            for_each_slice(base, o, reduced, split, u, |s| {
                for chunk in s.chunks(CHUNK) {
                    nan += tally(&mut mine, chunk);
                }
            });
        }
        (nan, mine)
    };
    let parts = map_units(units, n, &unit);
    let mut nan = 0;
    for (x, part) in parts {
        nan += x;
        for (b, p) in bands.iter_mut().zip(part) {
            b.below += p.below;
            b.at_lo += p.at_lo;
            b.at_hi += p.at_hi;
            b.inside.extend_from_slice(&p.inside);
        }
    }
    let count = n - nan;
    let mut ranks = Vec::new();
    rule.fill(j, count, &mut ranks);
    // Each wanted rank's band, and its rank among the band's inside elements.
    let mut inner_ranks: Vec<Vec<usize>> = vec![Vec::new(); bands.len()];
    let mut found = Vec::with_capacity(ranks.len());
    for &r in &ranks {
        if r >= count {
            found.push(None);
            continue;
        }
        let b = bands.iter().position(|b| b.below <= r && r < b.end())?;
        let t = r - bands[b].below;
        let i = t
            .checked_sub(bands[b].at_lo)
            .filter(|&i| i < bands[b].inside.len());
        if let Some(i) = i {
            inner_ranks[b].push(i);
        }
        found.push(Some((b, t)));
    }
    let mut spare = Vec::new();
    for (band, rs) in bands.iter_mut().zip(&mut inner_ranks) {
        rs.sort_unstable();
        rs.dedup();
        select_ranks(&mut band.inside, rs, &mut spare);
    }
    for (o, f) in out.iter_mut().zip(found) {
        *o = match f {
            None => T::NAN,
            Some((b, t)) => {
                let band = &bands[b];
                if t < band.at_lo {
                    band.lo
                } else if t - band.at_lo < band.inside.len() {
                    band.inside[t - band.at_lo]
                } else {
                    band.hi
                }
            }
        };
    }
    Some(count)
}

/// NaNs in `s` (none for an integer type).
#[inline(always)]
fn nans_in<T: Element>(s: &[T]) -> usize {
    if T::IS_FLOAT {
        s.iter().map(|x| usize::from(x.is_nan())).sum()
    } else {
        0
    }
}

/// The split of a layout into one unit: all of it.
fn whole(reduced: &Layout) -> Split {
    reduced.split(reduced.len.max(1)).0
}

/// Visit unit `u` of `split` of the output at `o` as slices of its elements, in memory
/// order: a contiguous run as itself, a strided one copied `CHUNK` elements at a time.
///
/// # Safety
/// `base + o + p` is a valid `T` for every reduced position `p` of `reduced`.
#[inline(always)]
unsafe fn for_each_slice<T: Element>(
    base: SharedPtr<T>,
    o: isize,
    reduced: &Layout,
    split: Split,
    u: usize,
    mut f: impl FnMut(&[T]),
) {
    let stride = reduced.inner().stride;
    let mut buf = [T::ZERO; CHUNK];
    reduced.for_each_run_of_unit(split, u, |off, len| {
        let start = base.at(o + off);
        if stride == 1 {
            // SAFETY: a run of `len` consecutive elements of the output (the contract).
            f(unsafe { std::slice::from_raw_parts(start, len) });
        } else {
            for i0 in (0..len).step_by(CHUNK) {
                let piece = &mut buf[..CHUNK.min(len - i0)];
                // SAFETY: elements `i0..` of the run, in the output.
                unsafe { gather(start, stride, i0, piece) };
                f(piece);
            }
        }
    });
}

/// Visit the outputs at `outs` (at a constant distance, along one kept axis) side by side:
/// for each reduced position in turn, `f(j, x)` with output `j`'s element there. The row
/// `AHEAD` positions on is prefetched, a piece of every row being a page or more from the
/// last (perf: three fifths of the walk's time on that load).
///
/// # Safety
/// As [`copy_numbers`].
#[inline(always)]
unsafe fn for_each_across<T: Element>(
    base: SharedPtr<T>,
    outs: &[isize],
    reduced: &Layout,
    mut f: impl FnMut(usize, T),
) {
    let n = reduced.len;
    let step = match outs {
        [a, b, ..] if outs.windows(2).all(|w| w[1] - w[0] == b - a) => Some(b - a),
        _ => None,
    };
    let mut ahead = reduced.offsets_in(AHEAD, n);
    for p in reduced.offsets_in(0, n) {
        if let (Some(step), Some(pa)) = (step, ahead.next()) {
            prefetch_run(base.at(outs[0] + pa), outs.len(), step);
        }
        for (j, &o) in outs.iter().enumerate() {
            // SAFETY: the function's contract.
            f(j, unsafe { *base.at(o + p) });
        }
    }
}

/// Copy the numbers (NaN left out) of each output at `outs` into its `n`-element part of
/// `buf`, their count into `cnt`; side by side when `vertical`.
///
/// # Safety
/// `base + out + p` is a valid `T` for every `out` in `outs` and every reduced position `p`
/// of `reduced`.
unsafe fn copy_numbers<T: Element>(
    base: SharedPtr<T>,
    outs: &[isize],
    reduced: &Layout,
    vertical: bool,
    buf: &mut [T],
    cnt: &mut [usize],
) {
    let n = reduced.len;
    if vertical {
        // SAFETY: forwarded.
        unsafe {
            for_each_across(base, outs, reduced, |j, x| {
                // `push_numbers` of one element, without slicing out the output's part
                // (its bounds checks were most of the walk's instructions).
                let c = &mut cnt[j];
                buf[j * n + *c] = x;
                *c += usize::from(!x.is_nan());
            });
        }
        return;
    }
    if reduced.is_one_run() {
        // Each output one run of `n` elements (rows of a matrix over axis 1): read as a
        // slice, without the walk's set-up per output (most of a 100x4 median's time).
        for (j, &o) in outs.iter().enumerate() {
            // SAFETY: the output's reduced positions are `reduced.offset + i` for `i < n`
            // (one run of stride 1), valid (forwarded).
            let src = unsafe { std::slice::from_raw_parts(base.at(o + reduced.offset), n) };
            cnt[j] = push_numbers(&mut buf[j * n..(j + 1) * n], 0, src);
        }
        return;
    }
    let all = whole(reduced);
    for (j, &o) in outs.iter().enumerate() {
        let dst = &mut buf[j * n..(j + 1) * n];
        let mut c = 0;
        // SAFETY: forwarded.
        unsafe { for_each_slice(base, o, reduced, all, 0, |s| c = push_numbers(dst, c, s)) };
        cnt[j] = c;
    }
}

/// The numbers (non-NaN elements) of each output, read as the selection reads them: a
/// large output in units over the threads, others whole outputs (side by side when
/// vertical) a task.
///
/// # Safety
/// As [`typed`].
unsafe fn typed_counts<T: Element>(
    base: *const T,
    shape: &[usize],
    strides: &[isize],
    axes: &[usize],
    counts: &mut [usize],
) {
    let Plan {
        outs,
        reduced,
        vertical,
    } = plan(shape, strides, axes);
    let n = reduced.len;
    if !T::IS_FLOAT {
        counts.fill(n);
        return;
    }
    let base = SharedPtr(base);
    if n >= LARGE {
        let (split, units) = reduced.split(LARGE_UNIT);
        for (c, &o) in counts.iter_mut().zip(&outs) {
            let unit = |u: usize| {
                let mut nan = 0;
                // SAFETY: an output's elements (the caller's contract).
                unsafe { for_each_slice(base, o, &reduced, split, u, |s| nan += nans_in(s)) };
                nan
            };
            *c = n - map_units(units, n, &unit).into_iter().sum::<usize>();
        }
        return;
    }
    let group = task_outputs::<T>(n, vertical);
    let all = whole(&reduced);
    let task = |t: usize| -> Vec<usize> {
        let mine = &outs[t * group..((t + 1) * group).min(outs.len())];
        let mut nan = vec![0; mine.len()];
        if vertical {
            // SAFETY: outputs' elements (the caller's contract).
            unsafe {
                for_each_across(base, mine, &reduced, |j, x| {
                    nan[j] += usize::from(x.is_nan())
                })
            };
        } else {
            for (c, &o) in nan.iter_mut().zip(mine) {
                // SAFETY: as above.
                unsafe { for_each_slice(base, o, &reduced, all, 0, |s| *c += nans_in(s)) };
            }
        }
        nan
    };
    let work = outs.len().saturating_mul(n);
    let parts = map_units(outs.len().div_ceil(group), work, &task);
    for (c, nan) in counts.iter_mut().zip(parts.into_iter().flatten()) {
        *c = n - nan;
    }
}

/// Outputs of a reduction of `shape` over `axes`.
pub(crate) fn outputs(shape: &[usize], axes: &[usize]) -> usize {
    (0..shape.len())
        .filter(|d| !axes.contains(d))
        .map(|d| shape[d])
        .product()
}

/// Elements of each output of a reduction of `shape` over `axes`.
pub(crate) fn per_output(shape: &[usize], axes: &[usize]) -> usize {
    axes.iter().map(|&d| shape[d]).product()
}

/// A view to select from: its element type, first element (bytes), shape and strides in
/// elements.
#[derive(Clone, Copy)]
pub(crate) struct Source<'a> {
    pub elem: ElemType,
    pub base: *const u8,
    pub shape: &'a [usize],
    pub strides: &'a [isize],
}

/// `$f::<T>(base, shape, strides, args...)` for the source's element type `T`: the one place
/// the selection is instantiated for every type (all but bool).
macro_rules! by_type {
    ($src:expr, $f:ident, ($($arg:expr),*)) => {{
        let Source { elem, base, shape, strides } = $src;
        match elem {
            ElemType::I8 => $f::<i8>(base.cast(), shape, strides, $($arg),*),
            ElemType::I16 => $f::<i16>(base.cast(), shape, strides, $($arg),*),
            ElemType::I32 => $f::<i32>(base.cast(), shape, strides, $($arg),*),
            ElemType::I64 => $f::<i64>(base.cast(), shape, strides, $($arg),*),
            ElemType::U8 => $f::<u8>(base.cast(), shape, strides, $($arg),*),
            ElemType::U16 => $f::<u16>(base.cast(), shape, strides, $($arg),*),
            ElemType::U32 => $f::<u32>(base.cast(), shape, strides, $($arg),*),
            ElemType::U64 => $f::<u64>(base.cast(), shape, strides, $($arg),*),
            ElemType::F32 => $f::<f32>(base.cast(), shape, strides, $($arg),*),
            ElemType::F64 => $f::<f64>(base.cast(), shape, strides, $($arg),*),
            ElemType::Bool => return Err(ReduceError::BoolSelect),
        }
    }};
}

/// [`typed`] with the values as bytes (a whole number of aligned `T`s, checked by the caller).
///
/// # Safety
/// As [`typed`].
unsafe fn typed_bytes<T: Element>(
    base: *const T,
    shape: &[usize],
    strides: &[isize],
    axes: &[usize],
    ranks: Ranks<'_>,
    values: &mut [u8],
    counts: &mut [usize],
) {
    // SAFETY: any bytes are a valid value of a numeric type; the caller checked the length
    // and the alignment, so nothing is left before or after.
    let (head, vals, _) = unsafe { values.align_to_mut::<T>() };
    debug_assert!(head.is_empty());
    // SAFETY: forwarded.
    unsafe { typed(base, shape, strides, axes, ranks, vals, counts) }
}

/// [`typed`] for any element type but bool, the values written as bytes. `values` holds
/// `outputs * k` elements of `elem`, aligned.
///
/// # Safety
/// As [`typed`], for elements of type `elem` at `base` (a byte pointer).
pub(crate) unsafe fn order_statistics(
    src: Source<'_>,
    axes: &[usize],
    ranks: Ranks<'_>,
    values: &mut [u8],
    counts: &mut [usize],
) -> Result<(), ReduceError> {
    let outs = outputs(src.shape, axes);
    let n = per_output(src.shape, axes);
    let size = src.elem.size();
    let bad_ranks = match ranks {
        Ranks::Shared(r) => r.iter().any(|&r| r >= n),
        Ranks::PerOutput { ranks, k } => ranks.len() != outs * k || ranks.iter().any(|&r| r >= n),
        // Checked as they come: a rank past an output's count gives NaN.
        Ranks::ByCount { .. } => false,
    };
    if bad_ranks
        || values.len() != outs * ranks.k() * size
        || counts.len() != outs
        || values.as_ptr() as usize % size != 0
    {
        return Err(ReduceError::Ranks);
    }
    // SAFETY: forwarded from this function's contract; the values' size and alignment are
    // checked above.
    unsafe { by_type!(src, typed_bytes, (axes, ranks, values, counts)) };
    Ok(())
}

/// [`typed_counts`] for any element type but bool.
///
/// # Safety
/// As [`order_statistics`].
pub(crate) unsafe fn number_counts(
    src: Source<'_>,
    axes: &[usize],
    counts: &mut [usize],
) -> Result<(), ReduceError> {
    if counts.len() != outputs(src.shape, axes) {
        return Err(ReduceError::Ranks);
    }
    // SAFETY: forwarded from this function's contract.
    unsafe { by_type!(src, typed_counts, (axes, counts)) };
    Ok(())
}

/// Quantiles `q` (each in `[0, 1]`) of each output by `method`, in f64 (numpy's formulas:
/// `kernels/select.rs`): `values[i * outputs + j]` is `q[i]` of output `j`. An output holding
/// NaN is NaN, or with `skip_nan` its numbers' quantile (NaN when it has none). One pass over
/// the data: each output's ranks come from its count of numbers.
///
/// # Safety
/// As [`typed`].
#[allow(clippy::too_many_arguments)]
unsafe fn typed_quantiles<T: Element>(
    base: *const T,
    shape: &[usize],
    strides: &[isize],
    axes: &[usize],
    q: &[f64],
    method: QuantileMethod,
    skip_nan: bool,
    values: &mut [f64],
) {
    let n = per_output(shape, axes);
    let outs = outputs(shape, axes);
    let counted = |c: usize| if skip_nan { c.max(1) } else { n };
    let rule = |c: usize, ranks: &mut [usize]| {
        for (r, &x) in ranks.chunks_exact_mut(2).zip(q) {
            let p = method.position(counted(c), x);
            r.copy_from_slice(&[p.prev, p.next]);
        }
    };
    let k = 2 * q.len();
    let mut stats = vec![T::ZERO; outs * k];
    let mut counts = vec![0; outs];
    let ranks = Ranks::ByCount { ranks: &rule, k };
    // SAFETY: forwarded.
    unsafe { typed(base, shape, strides, axes, ranks, &mut stats, &mut counts) };
    for (j, (ab, &c)) in stats.chunks_exact(k).zip(&counts).enumerate() {
        let lost = if skip_nan { c == 0 } else { c < n };
        for (i, (&x, ab)) in q.iter().zip(ab.chunks_exact(2)).enumerate() {
            values[i * outs + j] = if lost {
                f64::NAN
            } else {
                let p = method.position(counted(c), x);
                quantile_value(p, ab[0].to_f64(), ab[1].to_f64())
            };
        }
    }
}

/// [`typed_quantiles`] for any element type but bool; `values` holds `q.len() * outputs`.
///
/// # Safety
/// As [`order_statistics`].
pub(crate) unsafe fn quantiles(
    src: Source<'_>,
    axes: &[usize],
    q: &[f64],
    method: QuantileMethod,
    skip_nan: bool,
    values: &mut [f64],
) -> Result<(), ReduceError> {
    if per_output(src.shape, axes) == 0 || values.len() != q.len() * outputs(src.shape, axes) {
        return Err(ReduceError::Ranks);
    }
    if !q.iter().all(|x| (0.0..=1.0).contains(x)) {
        return Err(ReduceError::Quantiles);
    }
    // SAFETY: forwarded from this function's contract.
    unsafe { by_type!(src, typed_quantiles, (axes, q, method, skip_nan, values)) };
    Ok(())
}
