//! The driver of argmin / argmax (and their nan-variants): which loop reads each output, in
//! which units, and how the units' answers merge. The kernel and the semantics are in
//! `kernels/arg.rs`.
//!
//! - **Whole array** (`axis=None`): the logical C order as rows of one run each
//!   ([`c_order_runs`]: a C-contiguous array is one run, padded rows are rows of runs), cut
//!   into units of consecutive flat positions; each unit scans its pieces of runs in order.
//! - **One axis, lane path**: each output's line along the axis is scanned the same way
//!   (units are groups of consecutive outputs).
//! - **One axis, vertical path**: when a kept axis has stride 1 and the reduced axis does not
//!   (a C-order matrix's axis 0), tiles of up to `ATILE` outputs along that kept axis read the
//!   rows of the reduced axis in order, in registers a few rows at a time.
//!
//! A run of stride 1 is read in place; any other stride (F order, reversed, stepped,
//! broadcast) is copied in order, `CHUNK` elements at a time, into a buffer on the stack.
//! Units merge in logical order ([`Found::then`]: the earlier wins a tie), so the answer is
//! the same at every thread count and SIMD level: it is exact.

use crate::driver::{map_units, Walk, UNIT};
use crate::element::Element;
use crate::kernels::arg::{scan, vertical, ArgTile, Found, ATILE, CHUNK};
use crate::layout::{c_order_runs, Axis, StridedView};
use crate::simd::{dispatch, SimdLevel};
use crate::walk::{for_each_segment, gather, row_offsets, SharedPtr};
use pulp::{Simd, WithSimd};

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
}

impl<T: Element, const MAX: bool, const K: u8> WithSimd for Lines<'_, T, MAX, K> {
    type Output = Vec<Found<T>>;

    #[inline(always)]
    fn with_simd<S: Simd>(self, _simd: S) -> Vec<Found<T>> {
        let mut buf = [T::ZERO; CHUNK];
        let stride = self.inner.stride;
        let mut all = Vec::with_capacity(self.outs.len());
        for &o in self.outs {
            let mut f = Found::<T>::empty();
            for_each_segment(
                self.outer,
                self.inner.len,
                self.from,
                self.to,
                #[inline(always)]
                |off, i0, len, pos| {
                    let p = self.base.at(o + off);
                    let mut i = 0;
                    while i < len && !f.is_final() {
                        let m = if stride == 1 {
                            len - i
                        } else {
                            CHUNK.min(len - i)
                        };
                        let data: &[T] = if stride == 1 {
                            // SAFETY: elements i0 + i .. i0 + i + m of this run are elements
                            // of the view (the runs were derived from its shape and
                            // strides), consecutive since the stride is 1.
                            unsafe { std::slice::from_raw_parts(p.add(i0 + i), m) }
                        } else {
                            // SAFETY: as above, at the run's stride.
                            unsafe { gather(p, stride, i0 + i, &mut buf[..m]) };
                            &buf[..m]
                        };
                        scan::<T, MAX, K>(&mut f, data, (pos + i) as u64);
                        i += m;
                    }
                },
            );
            all.push(f);
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
        (0..self.len).map(|j| tile.found(j)).collect()
    }
}

/// The kept axis whose outputs the vertical path reads as tiles when `k` is reduced: the
/// last one of stride 1, if the reduced axis has more than one element and another stride.
fn tile_axis(shape: &[usize], strides: &[isize], k: usize) -> Option<usize> {
    if shape[k] <= 1 || strides[k].unsigned_abs() == 1 {
        return None;
    }
    (0..shape.len())
        .rev()
        .find(|&d| d != k && shape[d] > 1 && strides[d] == 1)
}

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

/// The answer for every output of `view` (`axis`: the reduced axis; `None`: all of them,
/// one output) in C order, and the kept shape. The view must not be empty along the
/// reduced axes (the caller raises numpy's error first).
pub(crate) fn arg_reduce<T: Element, const MAX: bool, const K: u8>(
    view: &StridedView<'_, T>,
    axis: Option<usize>,
    level: SimdLevel,
) -> (Vec<usize>, Vec<Found<T>>) {
    let base = SharedPtr(view.as_ptr());
    let (shape, strides) = (view.shape(), view.strides());
    let unit = unit_of::<T>();
    let Some(k) = axis else {
        let (outer, inner) = c_order_runs(shape, strides);
        let n = view.len();
        let units = n.div_ceil(unit);
        let parts = map_units(units, work_of::<T>(n), &|u| {
            let op = Lines::<T, MAX, K> {
                base,
                outs: &[0],
                outer: &outer,
                inner,
                from: u * unit,
                to: ((u + 1) * unit).min(n),
            };
            dispatch(level, op)
        });
        let found = parts
            .into_iter()
            .flatten()
            .fold(Found::empty(), |a, b| a.then::<MAX>(b));
        return (Vec::new(), vec![found]);
    };
    let (n, s) = (shape[k], strides[k]);
    let kept: Vec<usize> = (0..shape.len()).filter(|&d| d != k).collect();
    let kept_shape: Vec<usize> = kept.iter().map(|&d| shape[d]).collect();
    let outputs: usize = kept_shape.iter().product();
    if outputs == 0 {
        return (kept_shape, Vec::new());
    }
    // The output strides of the kept axes (C order of the result).
    let mut out_strides = vec![0isize; kept.len()];
    let mut acc = 1isize;
    for i in (0..kept.len()).rev() {
        out_strides[i] = acc;
        acc *= kept_shape[i] as isize;
    }
    let tile_axis = tile_axis(shape, strides, k).map(|d| d - usize::from(d > k));
    let mut result = vec![Found::empty(); outputs];
    match tile_axis {
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
            let per_group = len_t.div_ceil(ATILE);
            let items = mem.len() * per_group;
            let parts = map_units(items, work_of::<T>(n * outputs), &|it| {
                let (g, c) = (it / per_group, it % per_group);
                let op = Tile::<T, MAX, K> {
                    base,
                    first: mem[g] + (c * ATILE) as isize,
                    len: ATILE.min(len_t - c * ATILE),
                    n,
                    stride: s,
                };
                dispatch(level, op)
            });
            for (it, part) in parts.into_iter().enumerate() {
                let (g, c) = (it / per_group, it % per_group);
                for (j, f) in part.into_iter().enumerate() {
                    let o = out[g] + (c * ATILE + j) as isize * out_strides[t];
                    result[o as usize] = f;
                }
            }
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
            let per_unit = (unit / n.max(1)).max(1);
            let units = outputs.div_ceil(per_unit);
            let inner = Axis { len: n, stride: s };
            let parts = map_units(units, work_of::<T>(n * outputs), &|u| {
                let op = Lines::<T, MAX, K> {
                    base,
                    outs: &offs[u * per_unit..((u + 1) * per_unit).min(outputs)],
                    outer: &[],
                    inner,
                    from: 0,
                    to: n,
                };
                dispatch(level, op)
            });
            for (slot, f) in result.iter_mut().zip(parts.into_iter().flatten()) {
                *slot = f;
            }
        }
    }
    (kept_shape, result)
}
