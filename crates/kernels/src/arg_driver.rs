//! The driver of argmin / argmax (and their nan-variants): which loop reads each output, in
//! which units, and how the units' answers merge. The kernel and the semantics are in
//! `kernels/arg.rs`.
//!
//! - **Whole array** (`axis=None`): the logical C order as rows of one run each
//!   ([`c_order_runs`]: a C-contiguous array is one run, padded rows are rows of runs), cut
//!   into units of consecutive flat positions; each unit scans its pieces of runs in order.
//! - **One axis, lane path**: each output's line along the axis is scanned the same way
//!   (units are groups of consecutive outputs, or pieces of one long line); lines of stride
//!   1 all in one call at the SIMD level ([`Rows`]).
//! - **One axis, vertical path**: when a kept axis has stride 1 and the reduced axis not ±1
//!   (a C-order matrix's axis 0), tiles of up to `ATILE` outputs along that kept axis read the
//!   rows of the reduced axis in order, in registers a few rows at a time.
//!
//! A run of stride 1 is read in place; any other stride (F order, reversed, stepped,
//! broadcast) is copied in order, `CHUNK` elements at a time, into a buffer on the stack.
//! Units merge in logical order ([`Found::then`]: the earlier wins a tie), so the answer is
//! the same at every thread count and SIMD level: it is exact.

use crate::driver::{map_units, Walk, UNIT};
use crate::element::Element;
use crate::kernels::arg::{
    from_memory, scan, scan_short, vertical, ArgTile, Found, ATILE, CHUNK, SHORT,
};
use crate::layout::{c_order_runs, forwards, Axis, StridedView};
use crate::simd::{dispatch, SimdLevel};
use crate::walk::{for_each_segment, gather, row_offsets, SharedOut, SharedPtr};
use pulp::{Simd, WithSimd};
use std::sync::atomic::{AtomicUsize, Ordering};

/// Elements per unit: as min/max, counted in bytes (as if elements were 8 bytes wide).
fn unit_of<T>() -> usize {
    UNIT * 8 / std::mem::size_of::<T>().clamp(1, 8)
}

/// Work as the threading thresholds count it (bytes / 8, as min/max).
fn work_of<T>(elements: usize) -> usize {
    elements.saturating_mul(std::mem::size_of::<T>().clamp(1, 8)) / 8
}

/// Outputs `outs` (their offsets), each the flat positions `from..to` of the rows `outer`
/// of runs `inner` from its offset.
struct Lines<'a, T, const MAX: bool, const K: u8> {
    base: SharedPtr<T>,
    outs: &'a [isize],
    outer: &'a [Axis],
    inner: Axis,
    from: usize,
    to: usize,
    /// The whole reduction reads more than the caches hold (`scan`'s `memory`).
    memory: bool,
}

/// One call of the kernel's [`scan`], as a function of its own at the caller's SIMD level
/// (`simd::outlined`): [`Lines`] scans from three places (a long run in place, a full
/// buffer, the buffer's rest), which would otherwise be three copies of the lane loop.
struct Scan<'a, T, const MAX: bool, const K: u8> {
    found: &'a mut Found<T>,
    data: &'a [T],
    start: u64,
    memory: bool,
}

impl<T: Element, const MAX: bool, const K: u8> WithSimd for Scan<'_, T, MAX, K> {
    type Output = bool;

    #[inline(always)]
    fn with_simd<S: Simd>(self, simd: S) -> bool {
        scan::<S, T, MAX, K>(simd, self.found, self.data, self.start, self.memory)
    }
}

impl<T: Element, const MAX: bool, const K: u8> WithSimd for Lines<'_, T, MAX, K> {
    type Output = Vec<Found<T>>;

    #[inline(always)]
    fn with_simd<S: Simd>(self, simd: S) -> Vec<Found<T>> {
        let stride = self.inner.stride;
        // Runs of stride 1 are read in place (a whole array's only if long); the others
        // are copied into `buf` in order, across the ends of runs (the flat positions of a
        // unit are consecutive), so that short runs (an F-order array of 2 columns, rows of
        // a few elements) are scanned CHUNK at a time.
        let in_place = stride == 1 && (self.outer.is_empty() || self.inner.len >= 8 * SHORT);
        // Each output a short line of its own (argmax(a, axis=1) of a (10**6, 10) array):
        // element by element.
        let short = self.outer.is_empty() && self.to - self.from <= SHORT;
        if in_place && self.outer.is_empty() && !short {
            // Each output one contiguous line: all of them in one call at this level (one
            // call per line, through `outlined`, cost argmax(a, axis=1) of a 1000x40 int64
            // about half its time).
            let op = Rows::<T, MAX, K> {
                base: self.base,
                outs: self.outs,
                from: self.from,
                to: self.to,
                memory: self.memory,
            };
            return crate::simd::outlined(simd, op);
        }
        // (Made here, not before the rows' return: its 8 KiB of zeros were written for every
        // unit of rows, which never reads it.)
        let mut buf = [T::ZERO; CHUNK];
        let mut all = Vec::with_capacity(self.outs.len());
        for &o in self.outs {
            if short {
                let p = self.base.at(o).wrapping_offset(self.from as isize * stride);
                // SAFETY: the line's elements from..to are elements of the view.
                let mut f = unsafe { scan_short::<T, MAX, K>(p, self.to - self.from, stride) };
                f.pos += self.from as u64;
                all.push(f);
                continue;
            }
            let mut found = Found::<T>::empty();
            let (mut filled, mut at) = (0usize, 0usize);
            for_each_segment(
                self.outer,
                self.inner.len,
                self.from,
                self.to,
                #[inline(always)]
                |off, i0, len, pos| {
                    if found.is_final::<MAX, K>() {
                        return;
                    }
                    let p = self.base.at(o + off);
                    if in_place {
                        // SAFETY: elements i0 .. i0 + len of this run are elements of the
                        // view (the runs come from its shape and strides), consecutive
                        // since the stride is 1.
                        let data = unsafe { std::slice::from_raw_parts(p.add(i0), len) };
                        let op = Scan::<T, MAX, K> {
                            found: &mut found,
                            data,
                            start: pos as u64,
                            memory: self.memory,
                        };
                        crate::simd::outlined(simd, op);
                        return;
                    }
                    let mut i = 0;
                    while i < len {
                        if filled == 0 {
                            at = pos + i;
                        }
                        let m = (CHUNK - filled).min(len - i);
                        // SAFETY: elements i0 + i .. i0 + i + m of this run, at its stride,
                        // are elements of the view.
                        unsafe { gather(p, stride, i0 + i, &mut buf[filled..filled + m]) };
                        (filled, i) = (filled + m, i + m);
                        if filled == CHUNK {
                            let op = Scan::<T, MAX, K> {
                                found: &mut found,
                                data: &buf,
                                start: at as u64,
                                memory: self.memory,
                            };
                            filled = 0;
                            if crate::simd::outlined(simd, op) {
                                return;
                            }
                        }
                    }
                },
            );
            if filled > 0 && !found.is_final::<MAX, K>() {
                let op = Scan::<T, MAX, K> {
                    found: &mut found,
                    data: &buf[..filled],
                    start: at as u64,
                    memory: self.memory,
                };
                crate::simd::outlined(simd, op);
            }
            all.push(found);
        }
        all
    }
}

/// Outputs `outs` (their offsets), each the positions `from..to` of a line of stride 1.
struct Rows<'a, T, const MAX: bool, const K: u8> {
    base: SharedPtr<T>,
    outs: &'a [isize],
    from: usize,
    to: usize,
    memory: bool,
}

impl<T: Element, const MAX: bool, const K: u8> WithSimd for Rows<'_, T, MAX, K> {
    type Output = Vec<Found<T>>;

    #[inline(always)]
    fn with_simd<S: Simd>(self, simd: S) -> Vec<Found<T>> {
        let n = self.to - self.from;
        // (A loop, not an iterator's `collect`: the iterator's fold was a function of its
        // own, compiled without the level's target features.)
        let mut all = Vec::with_capacity(self.outs.len());
        for &o in self.outs {
            // SAFETY: positions from..to of the line at offset `o` are elements of the
            // view, consecutive since its stride is 1.
            let data = unsafe { std::slice::from_raw_parts(self.base.at(o).add(self.from), n) };
            let mut found = Found::<T>::empty();
            scan::<S, T, MAX, K>(simd, &mut found, data, self.from as u64, self.memory);
            all.push(found);
        }
        all
    }
}

/// A tile of `len` outputs (stride 1 from `first`), the `n` rows of the reduced axis
/// `stride` apart.
struct Tile<T, const MAX: bool, const K: u8> {
    base: SharedPtr<T>,
    first: isize,
    len: usize,
    n: usize,
    stride: isize,
}

impl<T: Element, const MAX: bool, const K: u8> WithSimd for Tile<T, MAX, K> {
    type Output = Vec<Found<T>>;

    #[inline(always)]
    fn with_simd<S: Simd>(self, simd: S) -> Vec<Found<T>> {
        let mut tile = ArgTile::<T>::new();
        let (base, first, stride) = (self.base, self.first, self.stride);
        // SAFETY: row i's outputs are the elements first + i * stride + j, j < len, of the
        // view.
        unsafe {
            vertical::<T, S, MAX, K>(
                simd,
                &mut tile,
                self.n,
                self.len,
                #[inline(always)]
                |i| base.at(first + i as isize * stride),
            )
        };
        (0..self.len).map(|j| tile.found::<K>(j)).collect()
    }
}

/// The kept axis whose outputs the vertical path reads as tiles when `k` is reduced: the
/// last one of stride 1 or -1 (walked forwards), if the reduced axis has more than one
/// element and a stride other than 1 or -1.
fn tile_axis(shape: &[usize], strides: &[isize], k: usize) -> Option<usize> {
    if shape[k] <= 1 || strides[k].unsigned_abs() == 1 {
        return None;
    }
    (0..shape.len())
        .rev()
        .find(|&d| d != k && shape[d] >= MIN_TILE && strides[d].unsigned_abs() == 1)
}

/// Outputs a vertical tile needs to be worth it: a row of 3 outputs costs the loop's setup
/// per row (an (10**5, 3) array's axis 0 took 8 ns a row); narrower ones take the lane path,
/// each output's line copied in order.
const MIN_TILE: usize = 8;

/// The loop an argmin/argmax over `axis` (`None`: all axes) runs, for `explain`: the lane
/// path (runs of the logical C order, or each output's line), or the vertical path.
pub(crate) fn arg_walk(shape: &[usize], strides: &[isize], axis: Option<usize>) -> Walk {
    let n = axis.map_or(shape.iter().product(), |k| shape[k]);
    let outputs: usize = match axis {
        None => 1,
        Some(k) => (0..shape.len())
            .filter(|&d| d != k)
            .map(|d| shape[d])
            .product(),
    };
    match axis {
        _ if n == 0 || outputs == 0 => Walk::Nothing,
        Some(k) if tile_axis(shape, strides, k).is_some() => Walk::Vertical,
        _ => Walk::Lanes,
    }
}

/// The answers of an argmin/argmax: a position per output, in C order, and whether every
/// output saw a number (what nanargmin/nanargmax require; true for the others).
pub(crate) struct Answers {
    /// The kept shape.
    pub shape: Vec<usize>,
    /// One position per output.
    pub pos: Vec<u64>,
    /// Every output saw a number (`Found::seen`; only meaningful under `NAN_WORST`).
    pub all_seen: bool,
}

/// The answer for every output of `view` (`axis`: the reduced axis; `None`: all of them,
/// one output). The view must not be empty along the reduced axes (the caller raises
/// numpy's error first). Only positions are kept per output: a `(10**6, 10)` array's
/// axis-1 argmax spent half its time allocating and clearing per-output states.
pub(crate) fn arg_reduce<T: Element, const MAX: bool, const K: u8>(
    view: &StridedView<'_, T>,
    axis: Option<usize>,
    level: SimdLevel,
) -> Answers {
    let base = SharedPtr(view.as_ptr());
    let (shape, strides) = (view.shape(), view.strides());
    let unit = unit_of::<T>();
    let Some(k) = axis else {
        let (outer, inner) = c_order_runs(shape, strides);
        let n = view.len();
        let units = n.div_ceil(unit);
        // The first unit whose answer is final (nothing after it can change the answer: a NaN
        // under argmin/argmax, an integer's extreme, a true byte under argmax): the units
        // after it are not read, as numpy stops there. (argmax of a million bools with one
        // true one read all of them: 9.5 us against numpy's 2.2, one Zen 4 thread.) Which
        // units are skipped depends on timing, the answer does not: every skipped unit comes
        // after a final one.
        let stop = AtomicUsize::new(usize::MAX);
        let parts = map_units(units, work_of::<T>(n), &|u| {
            if stop.load(Ordering::Relaxed) < u {
                return Vec::new();
            }
            let op = Lines::<T, MAX, K> {
                base,
                outs: &[0],
                outer: &outer,
                inner,
                from: u * unit,
                to: ((u + 1) * unit).min(n),
                memory: from_memory::<T>(n),
            };
            let found = dispatch(level, op);
            if found.iter().any(|f| f.is_final::<MAX, K>()) {
                stop.fetch_min(u, Ordering::Relaxed);
            }
            found
        });
        let found = parts
            .into_iter()
            .flatten()
            .fold(Found::empty(), |a, b| a.then::<MAX>(b));
        return Answers {
            shape: Vec::new(),
            pos: vec![found.pos],
            all_seen: found.seen,
        };
    };
    let (n, s) = (shape[k], strides[k]);
    let kept: Vec<usize> = (0..shape.len()).filter(|&d| d != k).collect();
    let kept_shape: Vec<usize> = kept.iter().map(|&d| shape[d]).collect();
    let outputs: usize = kept_shape.iter().product();
    if outputs == 0 {
        return Answers {
            shape: kept_shape,
            pos: Vec::new(),
            all_seen: true,
        };
    }
    // The output strides of the kept axes (C order of the result).
    let mut out_strides = vec![0isize; kept.len()];
    let mut acc = 1isize;
    for i in (0..kept.len()).rev() {
        out_strides[i] = acc;
        acc *= kept_shape[i] as isize;
    }
    let tile_axis = tile_axis(shape, strides, k).map(|d| d - usize::from(d > k));
    let mut all_seen = true;
    let pos = match tile_axis {
        Some(t) => {
            let others: Vec<usize> = (0..kept.len()).filter(|&i| i != t).collect();
            let axes = |strides_of: &dyn Fn(usize) -> isize| -> Vec<Axis> {
                others
                    .iter()
                    .map(|&i| Axis {
                        len: kept_shape[i],
                        stride: strides_of(i),
                    })
                    .collect()
            };
            let mem = row_offsets(&axes(&|i| strides[kept[i]]));
            let out = row_offsets(&axes(&|i| out_strides[i]));
            let len_t = kept_shape[t];
            // A reversed tile axis (`a[:, ::-1].argmax(axis=0)`) is walked forwards, its
            // outputs back to front; each output still reads its line in order.
            let walk = forwards(
                Axis {
                    len: len_t,
                    stride: strides[kept[t]],
                },
                out_strides[t],
            );
            let per_group = len_t.div_ceil(ATILE);
            let items = mem.len() * per_group;
            let parts = map_units(items, work_of::<T>(n * outputs), &|it| {
                let (g, c) = (it / per_group, it % per_group);
                let op = Tile::<T, MAX, K> {
                    base,
                    first: mem[g] + walk.first + (c * ATILE) as isize,
                    len: ATILE.min(len_t - c * ATILE),
                    n,
                    stride: s,
                };
                dispatch(level, op)
            });
            let mut pos = vec![0u64; outputs];
            for (it, part) in parts.into_iter().enumerate() {
                let (g, c) = (it / per_group, it % per_group);
                for (j, f) in part.into_iter().enumerate() {
                    let o = out[g] + walk.first_out + (c * ATILE + j) as isize * walk.out_stride;
                    pos[o as usize] = f.pos;
                    all_seen &= f.seen;
                }
            }
            pos
        }
        _ => {
            let axes: Vec<Axis> = kept
                .iter()
                .map(|&d| Axis {
                    len: shape[d],
                    stride: strides[d],
                })
                .collect();
            let offs = row_offsets(&axes);
            let inner = Axis { len: n, stride: s };
            // Short lines: groups of whole lines per unit. Long ones: each cut into pieces
            // of `unit` positions (one long line is still read by every thread), whose
            // answers merge in order.
            let (per_unit, pieces) = match n >= unit {
                true => (1, n.div_ceil(unit)),
                false => ((unit / n).max(1), 1),
            };
            let units = outputs.div_ceil(per_unit) * pieces;
            // Each unit of whole lines writes its answers' positions in place, into one
            // buffer for the call, and drops its own vector of answers before the next unit
            // makes one. (Kept until all units were done, about 100 KB each, they were
            // megabytes of the C library's heap that it gave back to the system at every
            // call and faulted in again at the next: one thread, argmax of (200000, 8) f64
            // over axis 1, about 1000 page faults a call.)
            let mut pos: Vec<u64> = Vec::with_capacity(outputs);
            let dest = SharedOut(pos.as_mut_ptr());
            let parts = map_units(units, work_of::<T>(n * outputs), &|u| {
                let (g, piece) = (u / pieces, u % pieces);
                let (from, to) = match pieces {
                    1 => (0, n),
                    _ => (piece * unit, ((piece + 1) * unit).min(n)),
                };
                let (first, end) = (g * per_unit, ((g + 1) * per_unit).min(outputs));
                let op = Lines::<T, MAX, K> {
                    base,
                    outs: &offs[first..end],
                    outer: &[],
                    inner,
                    from,
                    to,
                    memory: from_memory::<T>(n * outputs),
                };
                let found = dispatch(level, op);
                if pieces > 1 {
                    return (true, found.first().copied());
                }
                // (What the writes below and `set_len` rely on, checked.)
                assert_eq!(found.len(), end - first, "one answer a line");
                let mut seen = true;
                for (j, f) in found.iter().enumerate() {
                    // SAFETY: output `first + j < end <= outputs` is in `pos`'s capacity, and
                    // this unit's alone (the units' groups of lines do not overlap); `pos`
                    // outlives `map_units`.
                    unsafe { dest.write((first + j) as isize, f.pos) };
                    seen &= f.seen;
                }
                (seen, None)
            });
            if pieces == 1 {
                // SAFETY: the units' groups cover `0..outputs`, and each wrote the position
                // of every line of its group (one answer a line, asserted) by the time
                // `map_units` returned. u64 has no drop.
                unsafe { pos.set_len(outputs) };
                all_seen &= parts.iter().all(|p| p.0);
            } else {
                for line in parts.chunks(pieces) {
                    let f = line.iter().fold(Found::empty(), |a, b| {
                        a.then::<MAX>(b.1.expect("one answer a piece"))
                    });
                    pos.push(f.pos);
                    all_seen &= f.seen;
                }
            }
            pos
        }
    };
    Answers {
        shape: kept_shape,
        pos,
        all_seen,
    }
}
