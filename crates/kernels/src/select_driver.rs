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
use crate::kernels::select::{answer, order, push_numbers, select_ranks};
use crate::layout::{normalize, Axis, Layout};
use crate::walk::{for_each_row, gather, prefetch_run, row_offsets, SharedPtr};
use crate::ReduceError;

/// Which order statistics (0-based ranks into an output's sorted values, NaN last) each
/// output wants.
#[derive(Debug, Clone, Copy)]
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
}

impl Ranks<'_> {
    /// Ranks per output.
    pub fn k(&self) -> usize {
        match *self {
            Ranks::Shared(r) => r.len(),
            Ranks::PerOutput { k, .. } => k,
        }
    }

    fn of(&self, output: usize) -> &[usize] {
        match *self {
            Ranks::Shared(r) => r,
            Ranks::PerOutput { ranks, k } => &ranks[output * k..(output + 1) * k],
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
    let group = if vertical {
        TILE_BYTES / std::mem::size_of::<T>()
    } else {
        (TASK_ELEMENTS / n.max(1)).max(1)
    };
    let tasks = outs.len().div_ceil(group);
    let base = SharedPtr(base);
    if n >= LARGE {
        let mut sorted = Vec::new();
        for (j, &o) in outs.iter().enumerate() {
            let want = ranks.of(j);
            let vals = &mut values[j * k..(j + 1) * k];
            // SAFETY: `o` is an output's offset: with the reduced positions, elements of
            // the view (the caller's contract).
            if let Some(c) = unsafe { large(base, o, &reduced, want, vals) } {
                counts[j] = c;
                continue;
            }
            let mut buf = vec![T::ZERO; n];
            let mut cnt = [0];
            // SAFETY: as above.
            unsafe { copy_numbers(base, &[o], &reduced, false, &mut buf, &mut cnt) };
            answer(&mut buf, cnt[0], want, &mut sorted, vals);
            counts[j] = cnt[0];
        }
        return;
    }
    let work = outs
        .len()
        .saturating_mul(n)
        .saturating_mul(WORK_PER_ELEMENT);
    let task = |t: usize| -> (Vec<T>, Vec<usize>) {
        let o0 = t * group;
        let g = group.min(outs.len() - o0);
        let mine = &outs[o0..o0 + g];
        let mut buf = vec![T::ZERO; g * n];
        let mut cnt = vec![0usize; g];
        // SAFETY: every offset read is an output's offset plus a reduced position's, i.e.
        // an element of the view (the caller's contract).
        unsafe { copy_numbers(base, mine, &reduced, vertical, &mut buf, &mut cnt) };
        let mut vals = vec![T::ZERO; g * k];
        let mut sorted = Vec::new();
        for j in 0..g {
            answer(
                &mut buf[j * n..(j + 1) * n],
                cnt[j],
                ranks.of(o0 + j),
                &mut sorted,
                &mut vals[j * k..(j + 1) * k],
            );
        }
        (vals, cnt)
    };
    let parts = map_units(tasks, work, &task);
    let (mut v, mut c) = (0, 0);
    for (vals, cnt) in parts {
        values[v..v + vals.len()].copy_from_slice(&vals);
        counts[c..c + cnt.len()].copy_from_slice(&cnt);
        v += vals.len();
        c += cnt.len();
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
    let nan = if T::IS_FLOAT {
        chunk.iter().map(|x| usize::from(x.is_nan())).sum()
    } else {
        0
    };
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

/// The values at `ranks` of the output at `o` (its `count` of numbers returned) without
/// copying it: a sorted sample of `SAMPLE` elements bounds each wanted rank by a band of
/// values (`MARGIN` sample positions each side of its estimate); one pass over the output,
/// cut into units on the threads, counts the numbers below each band and at its bounds and
/// keeps those strictly inside (a few percent of the output); each rank is then selected
/// among its band's. `None` (the caller copies the whole output) when the sample has no
/// number, the bands are too many, or a rank falls outside every band (a sample that
/// misjudged the data: rare, and the answer is then found the plain way). The answer is
/// exact either way, and the same at every thread count.
///
/// # Safety
/// `base + o + p` is a valid `T` for every reduced position `p` of `reduced`.
unsafe fn large<T: Element>(
    base: SharedPtr<T>,
    o: isize,
    reduced: &Layout,
    ranks: &[usize],
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
    let mut wanted: Vec<usize> = ranks.to_vec();
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
    let inner = reduced.inner();
    let unit = |u: usize| -> (usize, Vec<Band<T>>) {
        let mut mine = bands.clone();
        let mut nan = 0;
        let mut buf = [T::ZERO; CHUNK];
        reduced.for_each_run_of_unit(split, u, |off, len| {
            let start = base.at(o + off);
            if inner.stride == 1 {
                // SAFETY: a run of `len` consecutive elements of the output.
                let run = unsafe { std::slice::from_raw_parts(start, len) };
                for chunk in run.chunks(CHUNK) {
                    nan += tally(&mut mine, chunk);
                }
            } else {
                for i0 in (0..len).step_by(CHUNK) {
                    let piece = &mut buf[..CHUNK.min(len - i0)];
                    // SAFETY: elements `i0..` of the run, in the output.
                    unsafe { gather(start, inner.stride, i0, piece) };
                    nan += tally(&mut mine, piece);
                }
            }
        });
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
    // Each wanted rank's band, and its rank among the band's inside elements.
    let mut inner_ranks: Vec<Vec<usize>> = vec![Vec::new(); bands.len()];
    let mut found = Vec::with_capacity(ranks.len());
    for &r in ranks {
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
    for (band, rs) in bands.iter_mut().zip(&mut inner_ranks) {
        rs.sort_unstable();
        rs.dedup();
        select_ranks(&mut band.inside, rs);
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

/// Copy the numbers (NaN left out) of each output at `outs` into its `n`-element part of
/// `buf`, their count into `cnt`.
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
        // Outputs at a constant distance (along one kept axis): the row `AHEAD` positions on
        // is prefetched, a piece of every row being a page or more from the last (perf:
        // three fifths of the walk's time on that load).
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
                let x = unsafe { *base.at(o + p) };
                cnt[j] = push_numbers(&mut buf[j * n..(j + 1) * n], cnt[j], std::iter::once(x));
            }
        }
        return;
    }
    let inner = reduced.inner();
    for (j, &o) in outs.iter().enumerate() {
        let dst = &mut buf[j * n..(j + 1) * n];
        let mut c = 0;
        for_each_row(reduced.outer(), 0, reduced.rows(), |r| {
            let start = base.at(o + reduced.offset + r);
            c = if inner.stride == 1 {
                // SAFETY: the run's `inner.len` elements are consecutive valid `T`s.
                let run = unsafe { std::slice::from_raw_parts(start, inner.len) };
                push_numbers(dst, c, run.iter().copied())
            } else {
                let at = SharedPtr(start);
                // SAFETY: element `i` of the run is at `start + i * stride`, in the view.
                push_numbers(
                    dst,
                    c,
                    (0..inner.len).map(|i| unsafe { *at.at(i as isize * inner.stride) }),
                )
            };
        });
        cnt[j] = c;
    }
}

/// The numbers (non-NaN elements) of each output.
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
    let Plan { outs, reduced, .. } = plan(shape, strides, axes);
    if !T::IS_FLOAT {
        counts.fill(reduced.len);
        return;
    }
    let base = SharedPtr(base);
    let offsets: Vec<isize> = reduced.offsets_in(0, reduced.len).collect();
    let group = (TASK_ELEMENTS / reduced.len.max(1)).max(1);
    let task = |t: usize| -> Vec<usize> {
        let mine = &outs[t * group..((t + 1) * group).min(outs.len())];
        mine.iter()
            .map(|&o| {
                offsets
                    .iter()
                    // SAFETY: an output's offset plus a reduced position: an element.
                    .filter(|&&p| !unsafe { *base.at(o + p) }.is_nan())
                    .count()
            })
            .collect()
    };
    let work = outs.len().saturating_mul(reduced.len);
    let parts = map_units(outs.len().div_ceil(group), work, &task);
    for (c, x) in counts.iter_mut().zip(parts.into_iter().flatten()) {
        *c = x;
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

macro_rules! by_type {
    ($elem:expr, $f:ident, $ptr:expr, ($($arg:expr),*), $out:expr) => {
        match $elem {
            ElemType::I8 => $f::<i8>($ptr.cast(), $($arg),*, $out),
            ElemType::I16 => $f::<i16>($ptr.cast(), $($arg),*, $out),
            ElemType::I32 => $f::<i32>($ptr.cast(), $($arg),*, $out),
            ElemType::I64 => $f::<i64>($ptr.cast(), $($arg),*, $out),
            ElemType::U8 => $f::<u8>($ptr.cast(), $($arg),*, $out),
            ElemType::U16 => $f::<u16>($ptr.cast(), $($arg),*, $out),
            ElemType::U32 => $f::<u32>($ptr.cast(), $($arg),*, $out),
            ElemType::U64 => $f::<u64>($ptr.cast(), $($arg),*, $out),
            ElemType::F32 => $f::<f32>($ptr.cast(), $($arg),*, $out),
            ElemType::F64 => $f::<f64>($ptr.cast(), $($arg),*, $out),
            ElemType::Bool => return Err(ReduceError::BoolSelect),
        }
    };
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

/// [`typed`] for any element type but bool, the values written as bytes: the one place the
/// selection is instantiated. `values` holds `outputs * k` elements of `elem`, aligned.
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
    let Source {
        elem,
        base,
        shape,
        strides,
    } = src;
    let outs = outputs(shape, axes);
    let n = per_output(shape, axes);
    let k = ranks.k();
    let size = elem.size();
    let bad_ranks = match ranks {
        Ranks::Shared(r) => r.iter().any(|&r| r >= n),
        Ranks::PerOutput { ranks, k } => ranks.len() != outs * k || ranks.iter().any(|&r| r >= n),
    };
    if bad_ranks {
        return Err(ReduceError::Ranks);
    }
    if values.len() != outs * k * size
        || counts.len() != outs
        || values.as_ptr() as usize % size != 0
    {
        return Err(ReduceError::Ranks);
    }
    macro_rules! run {
        ($t:ty) => {{
            // SAFETY: the length is a whole number of `$t` (checked above) and the start is
            // aligned to its size; any bytes are a valid value of a numeric type.
            let (head, vals, _) = unsafe { values.align_to_mut::<$t>() };
            debug_assert!(head.is_empty());
            // SAFETY: forwarded from this function's contract.
            unsafe { typed::<$t>(base.cast(), shape, strides, axes, ranks, vals, counts) }
        }};
    }
    match elem {
        ElemType::I8 => run!(i8),
        ElemType::I16 => run!(i16),
        ElemType::I32 => run!(i32),
        ElemType::I64 => run!(i64),
        ElemType::U8 => run!(u8),
        ElemType::U16 => run!(u16),
        ElemType::U32 => run!(u32),
        ElemType::U64 => run!(u64),
        ElemType::F32 => run!(f32),
        ElemType::F64 => run!(f64),
        ElemType::Bool => return Err(ReduceError::BoolSelect),
    }
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
    let Source {
        elem,
        base,
        shape,
        strides,
    } = src;
    if counts.len() != outputs(shape, axes) {
        return Err(ReduceError::Ranks);
    }
    // SAFETY: forwarded from this function's contract.
    unsafe { by_type!(elem, typed_counts, base, (shape, strides, axes), counts) };
    Ok(())
}
