//! Strided views and layout normalisation: the one module that does pointer arithmetic over
//! strides.
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
}

/// Normalise a (shape, strides) pair: drop length-1 axes, flip negative strides, order by
/// stride (broadcast axes outermost), merge axes contiguous together.
pub fn normalize(shape: &[usize], strides: &[isize]) -> Layout {
    normalize_tracking(shape, strides, None)
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

/// Visit the element offsets of rows `start..start + count` of the outer axes (outermost
/// first), in row-major order over those axes. The offsets are relative to the layout's base.
/// An empty `outer` has exactly one row at offset 0.
///
/// `f` is called from one place only: callers inline whole kernels into it, and every call
/// site would be one more copy of them at every SIMD level.
#[inline(always)]
pub fn for_each_row(outer: &[Axis], start: usize, count: usize, mut f: impl FnMut(isize)) {
    // Odometer over the outer axes, started from `start` by one unravel. Few axes is the
    // common case: zeroing a whole MAX_ODOMETER array cost about 100 instructions per call
    // (callgrind), a percent of a 1000-element mean.
    let mut small = [0usize; 8];
    let mut large = Vec::new();
    let idx: &mut [usize] = if outer.len() <= small.len() {
        &mut small
    } else {
        large.resize(outer.len(), 0);
        &mut large
    };
    let mut rest = start;
    let mut off = 0isize;
    for (k, a) in outer.iter().enumerate().rev() {
        idx[k] = rest % a.len;
        rest /= a.len;
        off += idx[k] as isize * a.stride;
    }
    for _ in 0..count {
        f(off);
        for k in (0..outer.len()).rev() {
            idx[k] += 1;
            off += outer[k].stride;
            if idx[k] < outer[k].len {
                break;
            }
            off -= outer[k].stride * outer[k].len as isize;
            idx[k] = 0;
        }
    }
}

/// Feed a run of `len` elements at `ptr` with element stride `stride` to a kernel, `L` at a
/// time: `full` gets each complete block of `L` consecutive run elements, `tail` gets the last
/// `len % L` one by one with their position in the block. Both get `state` first. Strides 1
/// and 2 (every other element: `a[::2]`, complex parts) are compiled as constants so the
/// compiler uses whole-vector loads and shuffles; other strides gather. Every arm is one more
/// copy of every kernel at every SIMD level, which is why there are not more of them.
///
/// # Safety
/// `ptr + i * stride` must be a valid, initialised `T` for every `i < len`.
#[inline(always)]
pub unsafe fn for_each_block<T: Copy, S, const L: usize>(
    state: &mut S,
    ptr: *const T,
    len: usize,
    stride: isize,
    full: impl FnMut(&mut S, &[T; L]),
    tail: impl FnMut(&mut S, usize, T),
) {
    match stride {
        // SAFETY: stride 1, so the run is `len` consecutive valid elements (our contract).
        1 => unsafe { blocks_contiguous(state, ptr, len, full, tail) },
        // SAFETY: the same run, stride passed through unchanged (our contract).
        2 => unsafe { blocks_strided::<T, S, L, 2>(state, ptr, len, 2, full, tail) },
        // SAFETY: the same run, stride passed through unchanged (our contract).
        s => unsafe { blocks_strided::<T, S, L, 0>(state, ptr, len, s, full, tail) },
    }
}

/// # Safety
/// `ptr..ptr + len` must be valid, initialised `T`s.
#[inline(always)]
unsafe fn blocks_contiguous<T: Copy, S, const L: usize>(
    state: &mut S,
    ptr: *const T,
    len: usize,
    mut full: impl FnMut(&mut S, &[T; L]),
    mut tail: impl FnMut(&mut S, usize, T),
) {
    if len == 0 {
        return;
    }
    // SAFETY: the caller guarantees `len` valid elements from `ptr`.
    let data = unsafe { std::slice::from_raw_parts(ptr, len) };
    let mut chunks = data.chunks_exact(L);
    for c in chunks.by_ref() {
        let block: &[T; L] = c.try_into().expect("chunks_exact yields L elements");
        full(state, block);
    }
    for (j, &x) in chunks.remainder().iter().enumerate() {
        tail(state, j, x);
    }
}

/// `C` is the stride as a compile-time constant, or 0 to use the run-time `stride`.
///
/// # Safety
/// `ptr + i * stride` must be a valid, initialised `T` for every `i < len`.
#[inline(always)]
unsafe fn blocks_strided<T: Copy, S, const L: usize, const C: isize>(
    state: &mut S,
    ptr: *const T,
    len: usize,
    stride: isize,
    mut full: impl FnMut(&mut S, &[T; L]),
    mut tail: impl FnMut(&mut S, usize, T),
) {
    let stride = if C != 0 { C } else { stride };
    let nblocks = len / L;
    let pf = Prefetch::plan::<T>(stride, L);
    let mut p = ptr;
    for _ in 0..nblocks {
        pf.block_ahead(p, stride);
        // SAFETY: block element j is run element (b * L + j) < len.
        let block: [T; L] = std::array::from_fn(
            #[inline(always)]
            |j| unsafe { *p.offset(j as isize * stride) },
        );
        full(state, &block);
        p = p.wrapping_offset(L as isize * stride);
    }
    for j in 0..len % L {
        // SAFETY: run element nblocks * L + j < len.
        tail(state, j, unsafe { *p.offset(j as isize * stride) });
    }
}

/// Bytes ahead of the current block that strided runs prefetch. Masked loads and gathers do
/// not train this machine's hardware prefetcher (AMD Zen 5): an AVX-512 sum of `x[::2]` from
/// memory ran at 2.8 ns per element against 1.0 at AVX2, and a C test of the same loads read
/// 20 M stride-2 f64 in 14.3 ms without and 8.4 ms with prefetches 16 KiB ahead (a contiguous
/// read of the same bytes: 8.7 ms); gathers at stride 3 went from 41 ms to 8.5 ms.
const PREFETCH_AHEAD: usize = 16 << 10;

/// Software prefetch for a strided run: which addresses of the block `blocks` blocks ahead to
/// touch, one per cache line.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
struct Prefetch {
    /// Blocks ahead (in run elements: `blocks * L`).
    ahead: isize,
    /// Prefetch every `step`-th element of that block (`step * |stride| * size <= 64`, so no
    /// cache line of the block is skipped; one element per line when elements are further
    /// apart than a line).
    step: usize,
    /// Elements per block.
    l: usize,
}

impl Prefetch {
    fn plan<T>(stride: isize, l: usize) -> Self {
        let gap = stride.unsigned_abs().max(1) * std::mem::size_of::<T>().max(1);
        let block_bytes = gap * l;
        Prefetch {
            ahead: (PREFETCH_AHEAD.div_ceil(block_bytes).max(1) * l) as isize,
            step: (64 / gap).max(1),
            l,
        }
    }

    /// Hint the cache lines of the block that starts `ahead` elements after `p`. Addresses
    /// past the run are harmless: a prefetch never faults and is not a memory access.
    #[inline(always)]
    fn block_ahead<T>(&self, p: *const T, stride: isize) {
        #[cfg(target_arch = "x86_64")]
        {
            let mut j = 0;
            while j < self.l {
                let q = p.wrapping_offset((self.ahead + j as isize) * stride);
                // SAFETY: `_mm_prefetch` only hints the cache: it never faults, whatever the
                // address, and reads nothing the program observes; SSE is in the x86_64
                // baseline, so the instruction always exists.
                unsafe {
                    std::arch::x86_64::_mm_prefetch::<{ std::arch::x86_64::_MM_HINT_T0 }>(
                        q.cast::<i8>(),
                    )
                };
                j += self.step;
            }
        }
        #[cfg(not(target_arch = "x86_64"))]
        let _ = (p, stride);
    }
}

/// Hint every cache line of the run `ptr + j * stride`, `j < len`, into the cache (one
/// prefetch per line, or per element when elements are further apart than a line). The vertical
/// path calls it on the next row: its rows are short pieces, where the hardware prefetcher does
/// not ramp up (a C test of a 4000x4000 TwoSum axis-0 sum: 9.3 ms without, 6.6 ms with).
#[inline(always)]
pub fn prefetch_run<T>(ptr: *const T, len: usize, stride: isize) {
    let pf = Prefetch::plan::<T>(stride, len);
    Prefetch { ahead: 0, ..pf }.block_ahead(ptr, stride);
}

/// Call `f(j, x_j)` for each element `x_j = ptr[j * stride]`, `j < len`, of one row. Stride 1
/// iterates a slice so the compiler can vectorise across `j`.
///
/// # Safety
/// `ptr + j * stride` must be a valid, initialised `T` for every `j < len`.
#[inline(always)]
pub unsafe fn for_each_in_row<T: Copy>(
    ptr: *const T,
    len: usize,
    stride: isize,
    mut f: impl FnMut(usize, T),
) {
    if stride == 1 {
        if len == 0 {
            return;
        }
        // SAFETY: the caller guarantees `len` valid elements from `ptr`.
        let row = unsafe { std::slice::from_raw_parts(ptr, len) };
        for (j, &x) in row.iter().enumerate() {
            f(j, x);
        }
    } else {
        for j in 0..len {
            // SAFETY: j < len, covered by the caller's contract.
            f(j, unsafe { *ptr.offset(j as isize * stride) });
        }
    }
}

/// How a layout is cut into work units of about `unit` elements: long rows into pieces,
/// short rows into groups of whole rows. Depends only on the layout, never on threads or
/// addresses, so that partial results are combined the same way every time.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Split {
    /// Each row is cut into `per_row` pieces of `unit` elements (the last may be shorter).
    Pieces {
        /// Pieces per row.
        per_row: usize,
        /// Elements per piece.
        unit: usize,
    },
    /// Each unit holds `per_unit` consecutive rows (the last may hold fewer).
    Rows {
        /// Rows per unit.
        per_unit: usize,
    },
}

impl Layout {
    /// Cut this layout into units of about `unit` elements; returns the split and the count.
    pub fn split(&self, unit: usize) -> (Split, usize) {
        let n = self.inner().len;
        let rows = self.rows();
        if self.len == 0 {
            return (Split::Rows { per_unit: 1 }, 0);
        }
        if n >= unit {
            let per_row = n.div_ceil(unit);
            (Split::Pieces { per_row, unit }, rows * per_row)
        } else {
            let per_unit = (unit / n).max(1);
            (Split::Rows { per_unit }, rows.div_ceil(per_unit))
        }
    }

    /// Visit the runs of work unit `u` of `split` as (offset from the view's base, length);
    /// every run has the inner stride. `f` is called from one place (see [`for_each_row`]).
    #[inline(always)]
    pub fn for_each_run_of_unit(&self, split: Split, u: usize, mut f: impl FnMut(isize, usize)) {
        let inner = self.inner();
        // (first row, rows, first element in the row, run length)
        let (r0, count, start, len) = match split {
            Split::Pieces { per_row, unit } => {
                let (row, piece) = (u / per_row, u % per_row);
                let start = piece * unit;
                (row, 1, start, unit.min(inner.len - start))
            }
            Split::Rows { per_unit } => {
                let r0 = u * per_unit;
                (r0, per_unit.min(self.rows() - r0), 0, inner.len)
            }
        };
        let first = self.offset + start as isize * inner.stride;
        for_each_row(
            self.outer(),
            r0,
            count,
            #[inline(always)]
            |o| f(first + o, len),
        );
    }

    /// The offsets (from the view's base) of elements `start..start + count` in row-major
    /// order over the layout's axes, outermost first (clamped to the layout's length).
    pub fn offsets_in(&self, start: usize, count: usize) -> Offsets<'_> {
        let end = self.len.min(start.saturating_add(count));
        let left = end.saturating_sub(start);
        let mut idx = [0usize; MAX_ODOMETER];
        let mut off = self.offset;
        if left > 0 {
            let mut rest = start;
            for (k, a) in self.axes.iter().enumerate().rev() {
                idx[k] = rest % a.len;
                rest /= a.len;
                off += idx[k] as isize * a.stride;
            }
        }
        Offsets {
            axes: &self.axes,
            idx,
            off,
            left,
        }
    }
}

/// The element offsets of [`Layout::offsets_in`]: an odometer over the layout's axes.
#[derive(Debug, Clone)]
pub struct Offsets<'a> {
    axes: &'a [Axis],
    idx: [usize; MAX_ODOMETER],
    off: isize,
    left: usize,
}

impl Offsets<'_> {
    /// Write the next offsets into `out`, as many as fit and remain; returns how many.
    pub fn fill(&mut self, out: &mut [isize]) -> usize {
        let mut n = 0;
        while n < out.len() {
            let Some(o) = self.next() else { break };
            out[n] = o;
            n += 1;
        }
        n
    }
}

impl Iterator for Offsets<'_> {
    type Item = isize;

    fn next(&mut self) -> Option<isize> {
        if self.left == 0 {
            return None;
        }
        self.left -= 1;
        let o = self.off;
        for k in (0..self.axes.len()).rev() {
            let a = self.axes[k];
            self.idx[k] += 1;
            self.off += a.stride;
            if self.idx[k] < a.len {
                break;
            }
            self.off -= a.stride * a.len as isize;
            self.idx[k] = 0;
        }
        Some(o)
    }

    fn size_hint(&self) -> (usize, Option<usize>) {
        (self.left, Some(self.left))
    }
}

impl ExactSizeIterator for Offsets<'_> {}

/// Offsets of the rows of `axes` (logical order, any strides), row-major: the input offsets
/// of the outputs of an axis reduction when `axes` are the kept axes.
pub fn row_offsets(axes: &[Axis]) -> Vec<isize> {
    // Length-1 axes add nothing; dropping them keeps the odometer within MAX_ODOMETER axes
    // (a view of more than 63 axes longer than 1 would have over 2^63 elements).
    let axes: Vec<Axis> = axes.iter().copied().filter(|a| a.len != 1).collect();
    let rows: usize = axes.iter().map(|a| a.len).product();
    let mut v = Vec::with_capacity(rows);
    for_each_row(&axes, 0, rows, |o| v.push(o));
    v
}

/// A raw base pointer that may be shared with the worker threads of one reduction.
#[derive(Clone, Copy)]
pub(crate) struct SharedPtr<T>(pub *const T);

// SAFETY: it is only created from a `StridedView<T>` (T: Sync), whose contract makes the
// elements shared, read-only data for the view's lifetime; the reduction that holds it
// finishes before that lifetime ends.
unsafe impl<T: Sync> Send for SharedPtr<T> {}
// SAFETY: as above.
unsafe impl<T: Sync> Sync for SharedPtr<T> {}

impl<T> SharedPtr<T> {
    /// The element pointer at `off` elements from the base (not dereferenced here).
    #[inline(always)]
    pub fn at(self, off: isize) -> *const T {
        self.0.wrapping_offset(off)
    }
}

/// Most axes a view may have (numpy allows 64).
pub const MAX_ODOMETER: usize = 64;

#[cfg(test)]
mod tests {

    /// Offsets of a layout's elements, computed independently of the odometer: element `i`
    /// unravelled over the axes, outermost first.
    fn unravelled_offsets(l: &Layout) -> Vec<isize> {
        (0..l.len)
            .map(|i| {
                let mut rest = i;
                let mut off = l.offset;
                for a in l.axes.iter().rev() {
                    off += (rest % a.len) as isize * a.stride;
                    rest /= a.len;
                }
                off
            })
            .collect()
    }

    #[test]
    fn offsets_in_is_a_slice_of_every_offset() {
        let data: Vec<u8> = vec![0; 4096];
        let views = [
            StridedView::from_slice(&data, 2, &[5, 7, 3], &[100, 3, -1]).unwrap(),
            StridedView::from_slice(&data, 0, &[11], &[3]).unwrap(),
            StridedView::from_slice(&data, 0, &[4, 1, 6], &[200, 0, 7]).unwrap(),
            StridedView::from_slice(&data, 0, &[3, 4], &[0, 1]).unwrap(),
            StridedView::from_slice(&data, 9, &[], &[]).unwrap(),
            StridedView::from_slice(&data, 0, &[3, 0], &[1, 1]).unwrap(),
        ];
        for v in &views {
            let l = v.layout();
            let all = unravelled_offsets(&l);
            assert_eq!(all.len(), l.len);
            assert_eq!(l.offsets_in(0, usize::MAX).collect::<Vec<_>>(), all);
            for start in 0..=all.len() + 1 {
                for count in [0, 1, 2, 3, 5, 7, 8, 100, usize::MAX] {
                    let it = l.offsets_in(start, count);
                    let lo = start.min(all.len());
                    let hi = all.len().min(start.saturating_add(count));
                    assert_eq!(it.len(), hi.max(lo) - lo);
                    let got: Vec<isize> = it.collect();
                    assert_eq!(got, all[lo..hi.max(lo)], "start {start} count {count}");
                    // `fill` hands out the same sequence in batches, the last one short.
                    for batch in [1usize, 3, 4] {
                        let mut it = l.offsets_in(start, count);
                        let (mut buf, mut got) = (vec![0isize; batch], Vec::new());
                        loop {
                            let n = it.fill(&mut buf);
                            got.extend_from_slice(&buf[..n]);
                            if n < batch {
                                break;
                            }
                        }
                        assert_eq!(got, all[lo..hi.max(lo)], "fill {batch}");
                    }
                }
            }
        }
    }

    #[test]
    fn for_each_row_of_no_axes_or_one_axis() {
        let mut got = Vec::new();
        for_each_row(&[], 0, 1, |o| got.push(o));
        assert_eq!(got, [0]);
        got.clear();
        for_each_row(&[], 0, 0, |o| got.push(o));
        assert!(got.is_empty());
        for_each_row(&[Axis { len: 5, stride: -3 }], 1, 3, |o| got.push(o));
        assert_eq!(got, [-3, -6, -9]);
    }

    #[test]
    fn prefetch_plan_touches_every_line_of_a_block_far_enough_ahead() {
        for (stride, size) in [
            (1isize, 8usize),
            (2, 8),
            (-2, 8),
            (3, 4),
            (5, 8),
            (8, 8),
            (4000, 8),
            (2, 1),
        ] {
            let l = 32;
            let pf = match size {
                8 => Prefetch::plan::<f64>(stride, l),
                4 => Prefetch::plan::<f32>(stride, l),
                _ => Prefetch::plan::<u8>(stride, l),
            };
            let gap = stride.unsigned_abs() * size;
            // Far enough: at least PREFETCH_AHEAD bytes, a whole number of blocks.
            assert!(pf.ahead as usize * gap >= PREFETCH_AHEAD, "{stride} {size}");
            assert_eq!(pf.ahead as usize % l, 0);
            // Consecutive prefetched elements are at most one line apart.
            assert!(pf.step * gap <= 64 || pf.step == 1, "{stride} {size}");
            assert!(pf.step >= 1);
        }
    }

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
    use super::*;

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
    fn for_each_row_starts_mid_way() {
        let outer = [
            Axis {
                len: 3,
                stride: 100,
            },
            Axis { len: 4, stride: 10 },
        ];
        let mut all = Vec::new();
        for_each_row(&outer, 0, 12, |o| all.push(o));
        for start in 0..12 {
            for count in 0..=(12 - start) {
                let mut part = Vec::new();
                for_each_row(&outer, start, count, |o| part.push(o));
                assert_eq!(part, all[start..start + count]);
            }
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

    fn collect_blocks(data: &[i64], start: usize, len: usize, stride: isize) -> Vec<i64> {
        let mut acc = (Vec::new(), Vec::new());
        // SAFETY: the callers pass runs that stay inside `data`.
        unsafe {
            for_each_block::<i64, _, 4>(
                &mut acc,
                data.as_ptr().add(start),
                len,
                stride,
                |a, b| a.0.extend_from_slice(b),
                |a, j, x| a.1.push((j, x)),
            )
        };
        let (mut seen, tails) = acc;
        for (k, &(j, x)) in tails.iter().enumerate() {
            assert_eq!(j, k);
            seen.push(x);
        }
        seen
    }

    #[test]
    fn blocks_visit_each_run_element_once_in_order() {
        let data: Vec<i64> = (0..100).collect();
        for stride in [1isize, 2, 3, 4, 5, 7, -1, -2, -3, -4, -6, 0] {
            for len in [0usize, 1, 3, 4, 5, 8, 9, 13] {
                let start = if stride < 0 { 99 } else { 0 };
                let got = collect_blocks(&data, start, len, stride);
                let want: Vec<i64> = (0..len as i64)
                    .map(|i| start as i64 + i * stride as i64)
                    .collect();
                assert_eq!(got, want, "stride {stride} len {len}");
            }
        }
    }

    #[test]
    fn rows_visit_each_element() {
        let data: Vec<i64> = (0..50).collect();
        for stride in [1isize, 2, 5, -1, -3, 0] {
            for len in [0usize, 1, 7] {
                let start = if stride < 0 { 49 } else { 0 };
                let mut got = Vec::new();
                // SAFETY: the row stays inside `data` (len <= 7, |stride| <= 5, start 0 or 49).
                unsafe {
                    for_each_in_row(data.as_ptr().add(start), len, stride, |j, x| {
                        got.push((j, x))
                    })
                };
                let want: Vec<(usize, i64)> = (0..len)
                    .map(|j| (j, start as i64 + j as i64 * stride as i64))
                    .collect();
                assert_eq!(got, want);
            }
        }
    }

    #[test]
    fn units_cover_every_element_once() {
        let cases: &[(&[usize], &[isize])] = &[
            (&[1000], &[1]),
            (&[10, 7], &[7, 1]),
            (&[3, 50], &[100, 2]),
            (&[4, 5, 6], &[60, 12, 2]),
            (&[], &[]),
        ];
        for (shape, strides) in cases {
            let l = normalize(shape, strides);
            let want = unravelled_offsets(&l);
            for unit in [1usize, 3, 7, 16, 64, 5000] {
                let (split, units) = l.split(unit);
                let mut got = Vec::new();
                for u in 0..units {
                    l.for_each_run_of_unit(split, u, |off, len| {
                        got.extend((0..len as isize).map(|i| off + i * l.inner().stride))
                    });
                }
                assert_eq!(got, want, "{shape:?} {strides:?} unit {unit}");
            }
        }
    }

    #[test]
    fn row_offsets_are_row_major() {
        let axes = [
            Axis {
                len: 2,
                stride: -10,
            },
            Axis { len: 3, stride: 1 },
        ];
        assert_eq!(row_offsets(&axes), vec![0, 1, 2, -10, -9, -8]);
        assert_eq!(row_offsets(&[]), vec![0]);
        // Many length-1 axes (more than the odometer holds) are harmless.
        let mut many = vec![Axis { len: 1, stride: 7 }; 100];
        many.push(Axis { len: 3, stride: 2 });
        assert_eq!(row_offsets(&many), vec![0, 2, 4]);
    }

    #[test]
    fn c_strides_of_shapes() {
        assert_eq!(c_strides(&[2, 3, 4]), vec![12, 4, 1]);
        assert_eq!(c_strides(&[]), Vec::<isize>::new());
        assert_eq!(c_strides(&[0, 3]), vec![3, 1]);
    }
}
