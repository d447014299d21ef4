//! Strided views and layout normalisation. (Walking a normalised layout, the pointer
//! arithmetic over strides, is `walk.rs`.)
//!
//! A [`StridedView`] is a base pointer, a shape and strides counted in elements (negative and
//! zero strides allowed). Before any kernel runs, [`normalize`] rewrites the view's axes into
//! the cheapest equivalent order:
//!
//! 1. an axis of length 0 makes the view empty; axes of length 1 are dropped;
//! 2. negative strides are flipped (the base moves to the lowest address);
//! 3. axes are ordered by stride, largest outermost, zero strides (broadcast) outermost of all;
//! 4. neighbouring axes that are contiguous together are merged.
//!
//! So a C array, an F array, a reversed array and a transposed array all become one contiguous
//! run, and a padded matrix becomes rows of contiguous runs. The normalised form depends only on
//! the view's shape and strides, never on its address, which is what makes results
//! deterministic.

use std::fmt;
use std::marker::PhantomData;

/// Errors from building a view or naming axes.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum LayoutError {
    /// `shape` and `strides` have different lengths.
    RankMismatch {
        /// Length of the shape.
        shape: usize,
        /// Length of the strides.
        strides: usize,
    },
    /// Some element of the view lies outside the slice it was built from.
    OutOfBounds {
        /// Lowest element index the view reaches (may be negative).
        min: i128,
        /// Highest element index the view reaches.
        max: i128,
        /// Length of the backing slice.
        len: usize,
    },
    /// The view's extent does not fit in `isize` elements.
    Overflow,
    /// An axis index is out of range for the rank (numpy's `AxisError`).
    AxisOutOfBounds {
        /// The axis as given (possibly negative).
        axis: isize,
        /// The rank of the array.
        ndim: usize,
    },
    /// The same axis was named twice (numpy's `ValueError: duplicate value in 'axis'`).
    DuplicateAxis(usize),
}

impl fmt::Display for LayoutError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::RankMismatch { shape, strides } => {
                write!(f, "shape has {shape} axes but strides has {strides}")
            }
            Self::OutOfBounds { min, max, len } => write!(
                f,
                "view reaches elements {min}..={max} of a slice of length {len}"
            ),
            Self::Overflow => write!(f, "view extent overflows isize"),
            Self::AxisOutOfBounds { axis, ndim } => write!(
                f,
                "axis {axis} is out of bounds for array of dimension {ndim}"
            ),
            Self::DuplicateAxis(a) => write!(f, "duplicate value in 'axis': {a}"),
        }
    }
}

impl std::error::Error for LayoutError {}

/// A read-only view of N-d data: base pointer, shape, strides in elements.
///
/// Any rank (0-d is one element), empty shapes, and negative or zero strides are allowed.
/// Safe constructors check once that every reachable element lies inside the borrowed slice.
pub struct StridedView<'a, T> {
    ptr: *const T,
    shape: Vec<usize>,
    strides: Vec<isize>,
    _borrow: PhantomData<&'a [T]>,
}

// SAFETY: a StridedView is a shared borrow of `T`s (like `&[T]`), so it may cross threads when
// `T: Sync`.
unsafe impl<T: Sync> Send for StridedView<'_, T> {}
// SAFETY: as above; all access through the view is read-only.
unsafe impl<T: Sync> Sync for StridedView<'_, T> {}

impl<T> Clone for StridedView<'_, T> {
    fn clone(&self) -> Self {
        Self {
            ptr: self.ptr,
            shape: self.shape.clone(),
            strides: self.strides.clone(),
            _borrow: PhantomData,
        }
    }
}

impl<T> fmt::Debug for StridedView<'_, T> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("StridedView")
            .field("ptr", &self.ptr)
            .field("shape", &self.shape)
            .field("strides", &self.strides)
            .finish()
    }
}

/// Lowest and highest element offsets a (shape, strides) pair reaches from its base, or `None`
/// if the view is empty. `Err` if the element count or the extent overflows `isize` (numpy
/// refuses such arrays too), so every later product and offset of a valid view fits.
pub(crate) fn extent(
    shape: &[usize],
    strides: &[isize],
) -> Result<Option<(i128, i128)>, LayoutError> {
    if shape.contains(&0) {
        return Ok(None);
    }
    let mut count: usize = 1;
    let (mut lo, mut hi) = (0i128, 0i128);
    for (&n, &s) in shape.iter().zip(strides) {
        count = count
            .checked_mul(n)
            .filter(|&c| c <= isize::MAX as usize)
            .ok_or(LayoutError::Overflow)?;
        // |reach| < 2^64 * 2^63 = 2^127: no overflow in i128; the running sums are checked.
        let reach = (n as i128 - 1) * s as i128;
        if reach < 0 {
            lo = lo.checked_add(reach).ok_or(LayoutError::Overflow)?;
        } else {
            hi = hi.checked_add(reach).ok_or(LayoutError::Overflow)?;
        }
        if lo < isize::MIN as i128 || hi > isize::MAX as i128 {
            return Err(LayoutError::Overflow);
        }
    }
    Ok(Some((lo, hi)))
}

/// Element strides of `T` from byte strides, if `ptr` is aligned for `T` and every byte stride
/// is a multiple of `size_of::<T>()`; `None` otherwise. Zero-sized `T` is refused.
pub fn element_strides<T>(ptr: *const u8, byte_strides: &[isize]) -> Option<Vec<isize>> {
    // Alignment to the size implies alignment for `T` (an alignment never exceeds the size).
    element_strides_of_size(ptr, byte_strides, std::mem::size_of::<T>())
}

/// Element strides for elements of `size` bytes, if `ptr` is a multiple of `size` and every
/// byte stride a multiple of it; `None` otherwise (and for `size == 0`). Alignment to the
/// size is alignment for every kernel type, whose alignment never exceeds its size.
pub fn element_strides_of_size(
    ptr: *const u8,
    byte_strides: &[isize],
    size: usize,
) -> Option<Vec<isize>> {
    if !readable_in_place(ptr, byte_strides, size) {
        return None;
    }
    let size = size as isize;
    Some(byte_strides.iter().map(|&b| b / size).collect())
}

/// True if elements of `size` bytes at `ptr` with these byte strides can be read in place:
/// `ptr` is a multiple of `size` and so is every stride (the rule of
/// [`element_strides_of_size`], without making the strides).
pub fn readable_in_place(ptr: *const u8, byte_strides: &[isize], size: usize) -> bool {
    let Some(size) = isize::try_from(size).ok().filter(|&s| s > 0) else {
        return false;
    };
    (ptr as usize) % size as usize == 0 && byte_strides.iter().all(|&b| b % size == 0)
}

/// C-order (row-major) strides in elements for `shape`.
pub fn c_strides(shape: &[usize]) -> Vec<isize> {
    let mut strides = vec![0isize; shape.len()];
    let mut acc = 1isize;
    for (s, &n) in strides.iter_mut().zip(shape).rev() {
        *s = acc;
        acc = acc.saturating_mul(n.max(1) as isize);
    }
    strides
}

/// Advance the multi-index `idx` within `shape` to the next one in C order (the last axis
/// fastest), wrapping to all zeros after the last.
pub fn next_c_index(idx: &mut [usize], shape: &[usize]) {
    for k in (0..idx.len()).rev() {
        idx[k] += 1;
        if idx[k] < shape[k] {
            return;
        }
        idx[k] = 0;
    }
}

impl<'a, T> StridedView<'a, T> {
    /// A view of `data` starting at element `offset`, with the given shape and element strides.
    ///
    /// Fails if ranks differ or any reachable element lies outside `data`.
    pub fn from_slice(
        data: &'a [T],
        offset: usize,
        shape: &[usize],
        strides: &[isize],
    ) -> Result<Self, LayoutError> {
        if shape.len() != strides.len() {
            return Err(LayoutError::RankMismatch {
                shape: shape.len(),
                strides: strides.len(),
            });
        }
        if let Some((lo, hi)) = extent(shape, strides)? {
            let (min, max) = (offset as i128 + lo, offset as i128 + hi);
            if min < 0 || max >= data.len() as i128 {
                return Err(LayoutError::OutOfBounds {
                    min,
                    max,
                    len: data.len(),
                });
            }
        }
        // Empty views never dereference, so a dangling in-bounds-or-end base is fine.
        let ptr = data.as_ptr().wrapping_add(offset.min(data.len()));
        Ok(Self {
            ptr,
            shape: shape.to_vec(),
            strides: strides.to_vec(),
            _borrow: PhantomData,
        })
    }

    /// A C-contiguous view of `data` with the given shape (its product must equal `data.len()`).
    pub fn contiguous(data: &'a [T], shape: &[usize]) -> Result<Self, LayoutError> {
        let n: usize = shape.iter().product();
        if n != data.len() {
            return Err(LayoutError::OutOfBounds {
                min: 0,
                max: n as i128 - 1,
                len: data.len(),
            });
        }
        Self::from_slice(data, 0, shape, &c_strides(shape))
    }

    /// A 1-d contiguous view of a slice.
    pub fn from_1d(data: &'a [T]) -> Self {
        Self {
            ptr: data.as_ptr(),
            shape: vec![data.len()],
            strides: vec![1],
            _borrow: PhantomData,
        }
    }

    /// A view over raw memory, for bindings that receive pointers (numpy arrays).
    ///
    /// # Safety
    /// For the lifetime `'a`: every element `ptr + Σ i_k * strides[k]` with `0 <= i_k <
    /// shape[k]` must be a valid, initialised, properly aligned `T` that nobody mutates, and
    /// that extent must fit in `isize` (as for any allocation). `shape.len() ==
    /// strides.len()`, and the element count fits in `isize`. If the view is empty `ptr` is
    /// never read.
    pub unsafe fn from_raw_parts(ptr: *const T, shape: &[usize], strides: &[isize]) -> Self {
        debug_assert_eq!(shape.len(), strides.len());
        Self {
            ptr,
            shape: shape.to_vec(),
            strides: strides.to_vec(),
            _borrow: PhantomData,
        }
    }

    /// A view over memory described in bytes, as numpy describes it: `None` unless `ptr` is
    /// aligned for `T` and every byte stride is a whole number of elements. (Truncating the
    /// division instead would silently read the wrong elements, as rust-numpy's `as_array`
    /// does for record fields.)
    ///
    /// # Safety
    /// As [`StridedView::from_raw_parts`], for the element strides `byte_strides[k] /
    /// size_of::<T>()`.
    pub unsafe fn from_byte_strides(
        ptr: *const u8,
        shape: &[usize],
        byte_strides: &[isize],
    ) -> Option<Self> {
        let strides = element_strides::<T>(ptr, byte_strides)?;
        // SAFETY: the caller's contract, for these element strides; `ptr` is aligned for `T`.
        Some(unsafe { Self::from_raw_parts(ptr.cast::<T>(), shape, &strides) })
    }

    /// The shape.
    pub fn shape(&self) -> &[usize] {
        &self.shape
    }

    /// The strides, in elements.
    pub fn strides(&self) -> &[isize] {
        &self.strides
    }

    /// Number of axes.
    pub fn ndim(&self) -> usize {
        self.shape.len()
    }

    /// Number of elements.
    pub fn len(&self) -> usize {
        self.shape.iter().product()
    }

    /// True if the view has no elements.
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    /// The base pointer (element at index `[0, 0, ...]`).
    pub fn as_ptr(&self) -> *const T {
        self.ptr
    }

    /// The element at a multi-index, or `None` if out of range.
    pub fn get(&self, index: &[usize]) -> Option<&'a T> {
        if index.len() != self.ndim() || index.iter().zip(&self.shape).any(|(&i, &n)| i >= n) {
            return None;
        }
        let off: isize = index
            .iter()
            .zip(&self.strides)
            .map(|(&i, &s)| i as isize * s)
            .sum();
        // SAFETY: the index is in range, so by the constructor's contract the element is a
        // valid `T` borrowed for 'a.
        Some(unsafe { &*self.ptr.offset(off) })
    }

    /// The view with axes permuted: axis `k` of the result is axis `perm[k]` of `self`.
    /// Returns `None` unless `perm` is a permutation of `0..ndim`.
    pub fn permuted(&self, perm: &[usize]) -> Option<Self> {
        let mut seen = vec![false; self.ndim()];
        for &p in perm {
            if p >= self.ndim() || std::mem::replace(&mut seen[p], true) {
                return None;
            }
        }
        if perm.len() != self.ndim() {
            return None;
        }
        Some(Self {
            ptr: self.ptr,
            shape: perm.iter().map(|&p| self.shape[p]).collect(),
            strides: perm.iter().map(|&p| self.strides[p]).collect(),
            _borrow: PhantomData,
        })
    }

    /// numpy's `a[..., start:stop:step, ...]` along `axis`, for a non-zero `step`. Bounds are
    /// clipped as Python clips them; with a negative step, `stop == usize::MAX` stands for
    /// Python's omitted stop (walk down to index 0 inclusive). `None` for a bad axis or step 0.
    pub fn sliced(&self, axis: usize, start: usize, stop: usize, step: isize) -> Option<Self> {
        let n = *self.shape.get(axis)? as i128;
        if step == 0 {
            return None;
        }
        let (first, count) = if step > 0 {
            let (a, b) = ((start as i128).min(n), (stop as i128).min(n));
            (
                a,
                if b > a {
                    (b - a + step as i128 - 1) / step as i128
                } else {
                    0
                },
            )
        } else {
            let a = (start as i128).min(n - 1);
            let b = if stop == usize::MAX {
                -1
            } else {
                (stop as i128).min(n)
            };
            let k = -(step as i128);
            (a, if a > b { (a - b + k - 1) / k } else { 0 })
        };
        let mut out = self.clone();
        if count > 0 {
            out.ptr = self
                .ptr
                .wrapping_offset(first as isize * self.strides[axis]);
        }
        out.shape[axis] = count as usize;
        if count > 1 {
            // count > 1 means |step| * |stride| stays inside the original extent.
            out.strides[axis] = self.strides[axis].checked_mul(step)?;
        }
        Some(out)
    }

    /// The normalised layout of this view (see the module docs).
    pub fn layout(&self) -> Layout {
        normalize(&self.shape, &self.strides)
    }
}

/// One axis of a normalised layout.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Axis {
    /// Length (always > 1 after normalisation).
    pub len: usize,
    /// Stride in elements (>= 0 after normalisation).
    pub stride: isize,
}

/// A kept axis walked forwards whatever the sign of its stride ([`forwards`]): walk
/// position `p` is element `first + p * stride` and output `first_out + p * out_stride`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct Forwards {
    /// Element stride, `>= 0`.
    pub stride: isize,
    /// The outputs' stride, negated with the element stride.
    pub out_stride: isize,
    /// Element offset and output offset of walk position 0: the axis's last element and
    /// output where its stride is negative, else its first (0).
    pub first: isize,
    pub first_out: isize,
}

/// The forwards walk of `axis`, whose outputs are `out_stride` apart: a reversed axis
/// (`a[:, ::-1]`) is read from its last element, at stride 1 rather than -1, and its outputs
/// written back to front. Each output keeps its own elements, so no result changes.
pub(crate) fn forwards(axis: Axis, out_stride: isize) -> Forwards {
    if axis.stride >= 0 {
        return Forwards {
            stride: axis.stride,
            out_stride,
            first: 0,
            first_out: 0,
        };
    }
    let last = axis.len.saturating_sub(1) as isize;
    Forwards {
        stride: -axis.stride,
        out_stride: -out_stride,
        first: last * axis.stride,
        first_out: last * out_stride,
    }
}

/// A view's axes after [`normalize`]: outermost first, the innermost axis last.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Layout {
    /// Element offset of the first element visited, relative to the view's base pointer.
    pub offset: isize,
    /// Axes, outermost first. Empty for a single element.
    pub axes: Vec<Axis>,
    /// Total number of elements (0 if the view is empty).
    pub len: usize,
}

impl Layout {
    /// The innermost run: (length, stride). A single element is a run of length 1.
    pub fn inner(&self) -> Axis {
        self.axes
            .last()
            .copied()
            .unwrap_or(Axis { len: 1, stride: 1 })
    }

    /// The axes outside the innermost run, outermost first.
    pub fn outer(&self) -> &[Axis] {
        &self.axes[..self.axes.len().saturating_sub(1)]
    }

    /// Number of inner runs (product of the outer lengths).
    pub fn rows(&self) -> usize {
        self.outer().iter().map(|a| a.len).product()
    }

    /// Whether the layout is one contiguous run (one row of stride 1).
    pub fn is_one_run(&self) -> bool {
        self.inner().stride == 1 && self.rows() == 1
    }
}

/// Normalise a (shape, strides) pair: drop length-1 axes, flip negative strides, order by
/// stride (broadcast axes outermost), merge axes contiguous together.
pub fn normalize(shape: &[usize], strides: &[isize]) -> Layout {
    normalize_tracking(shape, strides, None)
}

/// The logical C order of `(shape, strides)` as rows of one run each: length-1 axes dropped,
/// and an axis merged into the one before it when the two step through memory as one
/// (`stride[k] == stride[k + 1] * len[k + 1]`, any sign). Returns the outer axes (outermost
/// first) and the innermost run (`len 1, stride 1` for a single element). Unlike
/// [`normalize`], nothing is flipped or reordered: the rows in order, each run forwards,
/// visit the elements in numpy's C order (what argmin/argmax need: first is first).
pub fn c_order_runs(shape: &[usize], strides: &[isize]) -> (Vec<Axis>, Axis) {
    let mut axes: Vec<Axis> = Vec::new();
    for (&len, &stride) in shape.iter().zip(strides) {
        if len == 1 {
            continue;
        }
        match axes.last_mut() {
            Some(last) if last.stride == stride * len as isize => {
                last.len *= len;
                last.stride = stride;
            }
            _ => axes.push(Axis { len, stride }),
        }
    }
    let inner = axes.pop().unwrap_or(Axis { len: 1, stride: 1 });
    (axes, inner)
}

/// Where a logical axis went in a [`Layout`] made by [`normalize_indexed`]: how to recover
/// its index from a position in the layout's order. Index-returning reductions (argmin,
/// argmax) walk the normalised layout and map the winner back through these.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Origin {
    /// The layout axis it was merged into; `None` for a dropped axis (length 1, or the
    /// array is empty), whose index is always 0.
    pub axis: Option<usize>,
    /// Its index along the layout axis is `(index / div) % len` ...
    pub div: usize,
    /// ... where `len` is its own length.
    pub len: usize,
    /// ... counted from the end: its stride was negative, and the layout walks it forwards.
    pub flipped: bool,
}

/// [`normalize`], and for each logical axis its [`Origin`].
pub fn normalize_indexed(shape: &[usize], strides: &[isize]) -> (Layout, Vec<Origin>) {
    let mut origins = vec![
        Origin {
            axis: None,
            div: 1,
            len: 1,
            flipped: false,
        };
        shape.len()
    ];
    let layout = normalize_tracking(shape, strides, Some(&mut origins));
    (layout, origins)
}

/// numpy's C-order flat index, in the array of logical `shape`, of the element at flat
/// position `pos` in `layout`'s order (outermost axis slowest), given the origins
/// [`normalize_indexed`] returned with `layout`.
pub fn logical_flat_index(
    layout: &Layout,
    origins: &[Origin],
    shape: &[usize],
    pos: usize,
) -> usize {
    debug_assert_eq!(origins.len(), shape.len());
    let mut flat = 0;
    for (k, o) in origins.iter().enumerate() {
        let i = match o.axis {
            None => 0,
            Some(m) => {
                // The index along layout axis m: the axes inside it vary faster.
                let inner: usize = layout.axes[m + 1..].iter().map(|a| a.len).product();
                let along = (pos / inner) % layout.axes[m].len;
                let i = (along / o.div) % o.len;
                if o.flipped {
                    o.len - 1 - i
                } else {
                    i
                }
            }
        };
        flat = flat * shape[k] + i;
    }
    flat
}

/// [`normalize`]'s one implementation; fills `origins` (one per logical axis) when given.
fn normalize_tracking(
    shape: &[usize],
    strides: &[isize],
    mut origins: Option<&mut [Origin]>,
) -> Layout {
    let len: usize = shape.iter().product();
    if len == 0 {
        return Layout {
            offset: 0,
            axes: Vec::new(),
            len: 0,
        };
    }
    let mut offset = 0isize;
    // Each kept axis with its logical number.
    let mut axes: Vec<(Axis, usize)> = Vec::with_capacity(shape.len());
    for (k, (&n, &s)) in shape.iter().zip(strides).enumerate() {
        if n == 1 {
            continue;
        }
        let stride = if s < 0 {
            offset += s * (n as isize - 1);
            if let Some(o) = origins.as_deref_mut() {
                o[k].flipped = true;
            }
            -s
        } else {
            s
        };
        axes.push((Axis { len: n, stride }, k));
    }
    // Largest stride outermost; stride 0 (broadcast) before everything. Stable, so equal
    // strides keep their logical order.
    axes.sort_by_key(|(a, _)| std::cmp::Reverse(if a.stride == 0 { isize::MAX } else { a.stride }));
    let mut merged: Vec<Axis> = Vec::with_capacity(axes.len());
    for (a, k) in axes {
        let at = match merged.last_mut() {
            Some(last) if last.stride == a.stride * a.len as isize => {
                last.len *= a.len;
                last.stride = a.stride;
                // The axes merged before are now outer to `a` within this layout axis.
                let m = merged.len() - 1;
                if let Some(o) = origins.as_deref_mut() {
                    for o in o.iter_mut().filter(|o| o.axis == Some(m)) {
                        o.div *= a.len;
                    }
                }
                m
            }
            _ => {
                merged.push(a);
                merged.len() - 1
            }
        };
        if let Some(o) = origins.as_deref_mut() {
            o[k].axis = Some(at);
            o[k].div = 1;
            o[k].len = a.len;
        }
    }
    Layout {
        offset,
        axes: merged,
        len,
    }
}

/// Resolve numpy-style axes (negative counts from the end) against `ndim`: sorted, unique.
pub fn resolve_axes(axes: &[isize], ndim: usize) -> Result<Vec<usize>, LayoutError> {
    let mut out = Vec::with_capacity(axes.len());
    for &a in axes {
        let r = if a < 0 { a + ndim as isize } else { a };
        if r < 0 || r >= ndim as isize {
            return Err(LayoutError::AxisOutOfBounds { axis: a, ndim });
        }
        if out.contains(&(r as usize)) {
            return Err(LayoutError::DuplicateAxis(r as usize));
        }
        out.push(r as usize);
    }
    out.sort_unstable();
    Ok(out)
}

/// [`resolve_axes`], `None` meaning every axis.
pub fn resolve_axes_or_all(axes: Option<&[isize]>, ndim: usize) -> Result<Vec<usize>, LayoutError> {
    match axes {
        Some(a) => resolve_axes(a, ndim),
        None => Ok((0..ndim).collect()),
    }
}

/// The shape of the result of reducing `axes` (sorted, unique, in range; `None`: every
/// axis) of `shape`: the kept axes in order, and with `keepdims` a 1 for each reduced one.
pub fn result_shape(shape: &[usize], axes: Option<&[usize]>, keepdims: bool) -> Vec<usize> {
    let reduced = |d: usize| axes.is_none_or(|a| a.contains(&d));
    (0..shape.len())
        .filter_map(|d| match (reduced(d), keepdims) {
            (false, _) => Some(shape[d]),
            (true, true) => Some(1),
            (true, false) => None,
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Walked forwards, every position of an axis of either sign is one element with its own
    /// output, each element and output once: a reversed axis from its last, stride > 0.
    #[test]
    fn forwards_visits_each_element_with_its_output() {
        for (len, stride, out_stride) in [(5, -3, 7), (5, 3, 7), (1, -2, 1), (4, -1, 1), (6, 0, 2)]
        {
            let f = forwards(Axis { len, stride }, out_stride);
            assert!(f.stride >= 0);
            let mut seen: Vec<(isize, isize)> = (0..len as isize)
                .map(|p| (f.first + p * f.stride, f.first_out + p * f.out_stride))
                .collect();
            seen.sort();
            let mut want: Vec<(isize, isize)> = (0..len as isize)
                .map(|i| (i * stride, i * out_stride))
                .collect();
            want.sort();
            assert_eq!(seen, want, "len {len} stride {stride}");
        }
    }

    /// The rows of `c_order_runs`, each run forwards, visit the elements in C order of the
    /// logical shape: checked against `next_c_index` on merged, unmerged, reversed,
    /// transposed, broadcast and length-1 axes.
    #[test]
    fn c_order_runs_visit_c_order() {
        let cases: [(&[usize], &[isize]); 7] = [
            (&[2, 3, 4], &[12, 4, 1]),
            (&[2, 3, 4], &[1, 2, 6]),
            (&[2, 3, 4], &[-12, -4, -1]),
            (&[4, 1, 5], &[10, 99, 2]),
            (&[3, 4], &[0, 1]),
            (&[3, 4], &[4, 0]),
            (&[1, 1], &[5, 7]),
        ];
        for (shape, strides) in cases {
            let (outer, inner) = c_order_runs(shape, strides);
            let rows: usize = outer.iter().map(|a| a.len).product();
            let mut got = Vec::new();
            crate::walk::for_each_row(&outer, 0, rows, |o| {
                for i in 0..inner.len {
                    got.push(o + i as isize * inner.stride);
                }
            });
            let mut idx = vec![0; shape.len()];
            let want: Vec<isize> = (0..shape.iter().product::<usize>())
                .map(|_| {
                    let off = idx.iter().zip(strides).map(|(&i, &s)| i as isize * s).sum();
                    next_c_index(&mut idx, shape);
                    off
                })
                .collect();
            assert_eq!(got, want, "{shape:?} {strides:?}");
        }
        let (outer, inner) = c_order_runs(&[2, 3, 4], &[12, 4, 1]);
        assert!(outer.is_empty() && inner == Axis { len: 24, stride: 1 });
    }

    #[test]
    fn c_indices_run_in_c_order_and_wrap() {
        let shape = [2, 1, 3];
        let mut idx = [0; 3];
        let mut seen = Vec::new();
        for _ in 0..7 {
            seen.push(idx);
            next_c_index(&mut idx, &shape);
        }
        let want = [
            [0, 0, 0],
            [0, 0, 1],
            [0, 0, 2],
            [1, 0, 0],
            [1, 0, 1],
            [1, 0, 2],
        ];
        assert_eq!(seen[..6], want);
        assert_eq!(seen[6], [0, 0, 0]);
    }
    use crate::walk::for_each_row;

    #[test]
    fn element_strides_exact_multiples_only() {
        let buf = [0f64; 8];
        let p = buf.as_ptr().cast::<u8>();
        assert_eq!(element_strides::<f64>(p, &[64, 8]), Some(vec![8, 1]));
        assert_eq!(element_strides::<f64>(p, &[-8, 0]), Some(vec![-1, 0]));
        assert_eq!(element_strides::<f64>(p, &[]), Some(vec![]));
        // A record field: stride 12 bytes is not a whole number of f64s.
        assert_eq!(element_strides::<f64>(p, &[12]), None);
        assert_eq!(element_strides::<f64>(p, &[-4]), None);
        assert_eq!(element_strides::<f32>(p, &[12, -4]), Some(vec![3, -1]));
        // Misaligned base.
        assert_eq!(element_strides::<f64>(p.wrapping_add(4), &[8]), None);
        assert_eq!(
            element_strides::<u8>(p.wrapping_add(3), &[3, -1]),
            Some(vec![3, -1])
        );
        assert_eq!(element_strides::<()>(p, &[0]), None);
    }

    #[test]
    fn from_byte_strides_reads_the_same_elements() {
        let data: Vec<i32> = (0..24).collect();
        let p = data.as_ptr().cast::<u8>();
        // SAFETY: 4x3 view with byte strides (24, -4) from element 2: offsets 2 - j + 6 i,
        // all within 0..24, of an initialised Vec that outlives the view.
        let v =
            unsafe { StridedView::<i32>::from_byte_strides(p.wrapping_add(8), &[4, 3], &[24, -4]) }
                .unwrap();
        assert_eq!(v.strides(), &[6, -1]);
        assert_eq!(v.get(&[1, 2]), Some(&6));
        assert_eq!(v.get(&[3, 0]), Some(&20));
        // SAFETY: never constructed: the stride is not a multiple of 4.
        assert!(unsafe { StridedView::<i32>::from_byte_strides(p, &[2], &[6]) }.is_none());
        let q = p.wrapping_add(1);
        // SAFETY: never constructed: misaligned base.
        assert!(unsafe { StridedView::<i32>::from_byte_strides(q, &[2], &[4]) }.is_none());
    }

    fn offsets(l: &Layout) -> Vec<isize> {
        let inner = l.inner();
        let mut v = Vec::new();
        if l.len == 0 {
            return v;
        }
        for_each_row(l.outer(), 0, l.rows(), |o| {
            for i in 0..inner.len {
                v.push(l.offset + o + i as isize * inner.stride);
            }
        });
        v
    }

    /// Offsets a view visits, in logical order (the slow, obvious way).
    fn logical_offsets(shape: &[usize], strides: &[isize]) -> Vec<isize> {
        let n: usize = shape.iter().product();
        let mut out = Vec::with_capacity(n);
        for flat in 0..n {
            let mut rest = flat;
            let mut off = 0;
            for k in (0..shape.len()).rev() {
                off += (rest % shape[k]) as isize * strides[k];
                rest /= shape[k];
            }
            out.push(off);
        }
        out
    }

    /// Every layout position maps to a distinct logical flat index, and the element the
    /// layout visits there is the one the logical index names.
    fn indexed_round_trip(shape: &[usize], strides: &[isize]) {
        let (l, origins) = normalize_indexed(shape, strides);
        assert_eq!(l, normalize(shape, strides));
        let visited = offsets(&l);
        let logical = logical_offsets(shape, strides);
        let mut seen = vec![false; l.len];
        for (pos, &off) in visited.iter().enumerate() {
            let flat = logical_flat_index(&l, &origins, shape, pos);
            assert!(
                !seen[flat],
                "shape {shape:?} strides {strides:?}: {flat} twice"
            );
            seen[flat] = true;
            assert_eq!(
                off, logical[flat],
                "shape {shape:?} strides {strides:?} pos {pos}"
            );
        }
        assert!(seen.iter().all(|&s| s));
    }

    #[test]
    fn normalize_indexed_maps_back_to_numpys_flat_index() {
        let cases: &[(&[usize], &[isize])] = &[
            (&[4, 5, 6], &[30, 6, 1]),
            (&[4, 5, 6], &[1, 4, 20]),
            (&[10], &[-1]),
            (&[3, 4], &[-4, -1]),
            (&[3, 4], &[1, -3]),
            (&[3, 5, 2], &[0, 1, 0]),
            (&[1, 7, 1], &[99, 2, -5]),
            (&[2, 3, 4], &[-12, 4, -1]),
            (&[2, 2, 2, 2], &[0, 0, 2, 1]),
            (&[6, 1, 4], &[-8, 3, 2]),
            (&[5, 3], &[3, 0]),
            (&[], &[]),
        ];
        for &(shape, strides) in cases {
            indexed_round_trip(shape, strides);
        }
        // Transposes and slices of a 3-d block, every sign pattern.
        for perm in [[0, 1, 2], [2, 1, 0], [1, 0, 2], [0, 2, 1]] {
            for signs in 0..8 {
                let base = [12isize, 4, 1];
                let shape = [2usize, 3, 4];
                let sh: Vec<usize> = perm.iter().map(|&p| shape[p]).collect();
                let st: Vec<isize> = perm
                    .iter()
                    .enumerate()
                    .map(|(i, &p)| {
                        if signs >> i & 1 == 1 {
                            -base[p]
                        } else {
                            base[p]
                        }
                    })
                    .collect();
                indexed_round_trip(&sh, &st);
            }
        }
        let (l, o) = normalize_indexed(&[3, 0], &[8, 1]);
        assert_eq!((l.len, o[0].axis, o[1].axis), (0, None, None));
    }

    fn same_multiset(shape: &[usize], strides: &[isize]) {
        let l = normalize(shape, strides);
        let mut a = offsets(&l);
        let mut b = logical_offsets(shape, strides);
        a.sort_unstable();
        b.sort_unstable();
        assert_eq!(a, b, "shape {shape:?} strides {strides:?} -> {l:?}");
        assert_eq!(l.len, shape.iter().product::<usize>());
    }

    #[test]
    fn contiguous_merges_to_one_run() {
        let l = normalize(&[4, 5, 6], &[30, 6, 1]);
        assert_eq!(
            l.axes,
            vec![Axis {
                len: 120,
                stride: 1
            }]
        );
        assert_eq!(l.offset, 0);
    }

    #[test]
    fn fortran_order_merges_to_one_run() {
        let l = normalize(&[4, 5, 6], &[1, 4, 20]);
        assert_eq!(
            l.axes,
            vec![Axis {
                len: 120,
                stride: 1
            }]
        );
    }

    #[test]
    fn reversed_flips_to_one_run() {
        let l = normalize(&[10], &[-1]);
        assert_eq!(l.axes, vec![Axis { len: 10, stride: 1 }]);
        assert_eq!(l.offset, -9);
        let l = normalize(&[3, 4], &[-4, -1]);
        assert_eq!(l.axes, vec![Axis { len: 12, stride: 1 }]);
        assert_eq!(l.offset, -11);
    }

    #[test]
    fn padded_rows_stay_rows() {
        let l = normalize(&[4000, 3999], &[4000, 1]);
        assert_eq!(
            l.axes,
            vec![
                Axis {
                    len: 4000,
                    stride: 4000
                },
                Axis {
                    len: 3999,
                    stride: 1
                }
            ]
        );
        assert_eq!(l.rows(), 4000);
    }

    #[test]
    fn broadcast_axes_go_outermost_and_merge() {
        let l = normalize(&[3, 5, 2], &[0, 1, 0]);
        assert_eq!(
            l.axes,
            vec![Axis { len: 6, stride: 0 }, Axis { len: 5, stride: 1 }]
        );
        same_multiset(&[3, 5, 2], &[0, 1, 0]);
    }

    #[test]
    fn length_one_axes_dropped_and_scalars() {
        let l = normalize(&[1, 7, 1], &[99, 2, -5]);
        assert_eq!(l.axes, vec![Axis { len: 7, stride: 2 }]);
        let l = normalize(&[], &[]);
        assert_eq!((l.axes.len(), l.len, l.inner().len), (0, 1, 1));
        assert_eq!(offsets(&l), vec![0]);
    }

    #[test]
    fn empty_views() {
        let l = normalize(&[3, 0, 2], &[1, 1, 1]);
        assert_eq!(l.len, 0);
        assert!(offsets(&l).is_empty());
    }

    #[test]
    fn stepped_and_mixed_sign_views_visit_the_same_elements() {
        let cases: &[(&[usize], &[isize])] = &[
            (&[5, 4], &[8, 2]),
            (&[5, 4], &[-8, 2]),
            (&[5, 4], &[8, -2]),
            (&[2, 3, 4], &[1, 2, 6]),
            (&[2, 3, 4], &[-1, 2, -6]),
            (&[3, 3], &[1, 1]), // overlapping (as_strided) views are allowed
            (&[2, 2, 2, 2, 2], &[16, 8, 4, 2, 1]),
            (&[2, 2, 2, 2, 2], &[1, -2, 4, -8, 16]),
            (&[4, 1, 3], &[0, 7, -3]),
        ];
        for (shape, strides) in cases {
            same_multiset(shape, strides);
        }
    }

    #[test]
    fn from_slice_checks_bounds() {
        let data = [0u8; 10];
        assert!(StridedView::from_slice(&data, 0, &[10], &[1]).is_ok());
        assert!(StridedView::from_slice(&data, 1, &[10], &[1]).is_err());
        assert!(StridedView::from_slice(&data, 9, &[10], &[-1]).is_ok());
        assert!(StridedView::from_slice(&data, 8, &[10], &[-1]).is_err());
        assert!(StridedView::from_slice(&data, 0, &[5, 2], &[2, 1]).is_ok());
        assert!(StridedView::from_slice(&data, 0, &[5, 3], &[2, 1]).is_err());
        assert!(StridedView::from_slice(&data, 0, &[1000, 0], &[1, 1]).is_ok());
        assert!(StridedView::from_slice(&data, 0, &[4], &[1, 1]).is_err());
        assert!(StridedView::from_slice(&data, 0, &[3, 100], &[0, 0]).is_ok());
        assert_eq!(
            StridedView::from_slice(&data, 0, &[2, usize::MAX / 2], &[isize::MAX, 4]).err(),
            Some(LayoutError::Overflow)
        );
        // Reaches that would wrap an unchecked sum, and counts that overflow.
        let one = [0u8];
        for (shape, strides) in [
            ([usize::MAX, usize::MAX], [isize::MAX, isize::MAX]),
            ([usize::MAX, usize::MAX], [isize::MIN, isize::MIN]),
            ([1 << 32, 1 << 32], [0, 0]),
        ] {
            assert_eq!(
                StridedView::from_slice(&one, 0, &shape, &strides).err(),
                Some(LayoutError::Overflow),
                "{shape:?} {strides:?}"
            );
        }
    }

    #[test]
    fn get_and_slicing_match_python() {
        let data: Vec<i32> = (0..20).collect();
        let v = StridedView::contiguous(&data, &[4, 5]).unwrap();
        assert_eq!(v.get(&[2, 3]), Some(&13));
        assert_eq!(v.get(&[4, 0]), None);
        let s = v.sliced(1, 1, 5, 2).unwrap(); // a[:, 1:5:2]
        assert_eq!(s.shape(), &[4, 2]);
        assert_eq!(s.get(&[1, 1]), Some(&8));
        let r = v.sliced(0, 3, usize::MAX, -1).unwrap(); // a[3::-1]
        assert_eq!(r.shape(), &[4, 5]);
        assert_eq!(r.get(&[0, 0]), Some(&15));
        let r = v.sliced(1, 4, 0, -2).unwrap(); // a[:, 4:0:-2]
        assert_eq!(r.shape(), &[4, 2]);
        assert_eq!(r.get(&[0, 1]), Some(&2));
        let e = v.sliced(1, 3, 3, 1).unwrap();
        assert!(e.is_empty());
        let huge = v.sliced(0, 0, 1, isize::MAX).unwrap(); // one row: no stride overflow
        assert_eq!(
            (huge.shape(), huge.get(&[0, 4])),
            (&[1usize, 5][..], Some(&4))
        );
        let t = v.permuted(&[1, 0]).unwrap();
        assert_eq!(t.get(&[3, 2]), Some(&13));
        assert!(v.permuted(&[0, 0]).is_none());
    }

    #[test]
    fn resolve_axes_like_numpy() {
        assert_eq!(resolve_axes(&[-1, 0], 3), Ok(vec![0, 2]));
        assert_eq!(
            resolve_axes(&[3], 3),
            Err(LayoutError::AxisOutOfBounds { axis: 3, ndim: 3 })
        );
        assert_eq!(
            resolve_axes(&[-4], 3),
            Err(LayoutError::AxisOutOfBounds { axis: -4, ndim: 3 })
        );
        assert_eq!(
            resolve_axes(&[1, -2], 3),
            Err(LayoutError::DuplicateAxis(1))
        );
    }

    #[test]
    fn result_shapes_like_numpy() {
        let shape = [2, 3, 4];
        assert_eq!(result_shape(&shape, None, false), Vec::<usize>::new());
        assert_eq!(result_shape(&shape, None, true), vec![1, 1, 1]);
        assert_eq!(result_shape(&shape, Some(&[1]), false), vec![2, 4]);
        assert_eq!(result_shape(&shape, Some(&[0, 2]), true), vec![1, 3, 1]);
        assert_eq!(result_shape(&[], None, true), Vec::<usize>::new());
    }

    #[test]
    fn c_strides_of_shapes() {
        assert_eq!(c_strides(&[2, 3, 4]), vec![12, 4, 1]);
        assert_eq!(c_strides(&[]), Vec::<isize>::new());
        assert_eq!(c_strides(&[0, 3]), vec![3, 1]);
    }
}
