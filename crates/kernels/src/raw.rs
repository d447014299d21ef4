//! A strided array in memory someone else owns, described as foreign producers describe one:
//! memory, an element type, a shape and byte strides.
//!
//! Every way in from outside Rust (numpy arrays, and through numpy's views the buffer
//! protocol, `__array_interface__` and DLPack; the C API, `crates/capi`) produces a
//! [`RawArray`], and everything after it is the same. Its constructor checks what a producer asserts but nothing enforces:
//! every byte the shape and strides reach lies inside the stated memory, and the elements can
//! be read in place (aligned, strides in whole elements); otherwise the caller copies first.
//! The one `unsafe` step is the adapter's: turning the producer's pointer and length into the
//! `&[u8]` this takes, with the producer's owner kept alive as long as the borrow.

use crate::driver::{walk_of_runs, Walk};
use crate::dynamic::{exact_sums_of_elements, partials_of_elements, reduce_of_elements, Outcome};
use crate::layout::{extent, readable_in_place, resolve_axes, resolve_axes_or_all};
use crate::{ElemType, ExactPartials, LayoutError, Op, Partials, ReduceError};
use std::fmt;

/// A read-only strided array of [`ElemType`] elements inside `memory` (see the module docs).
#[derive(Clone, Debug)]
pub struct RawArray<'a> {
    memory: &'a [u8],
    /// Byte offset of the element at index 0 in `memory`.
    offset: usize,
    elem: ElemType,
    shape: &'a [usize],
    byte_strides: &'a [isize],
}

/// Why a description is not a [`RawArray`].
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum RawError {
    /// A rank mismatch, or an extent that overflows `isize`.
    Layout(LayoutError),
    /// Some reachable byte lies outside the memory: bytes `lo..hi` (relative to the start of
    /// the memory, `hi` exclusive) against its length `len`.
    OutOfBounds {
        /// First byte reached.
        lo: i128,
        /// One past the last byte reached.
        hi: i128,
        /// Length of the memory.
        len: usize,
    },
    /// The elements are not aligned to their size, or a byte stride is not a whole number of
    /// elements: readable only after a copy.
    Unreadable,
}

impl fmt::Display for RawError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::Layout(e) => e.fmt(f),
            Self::OutOfBounds { lo, hi, len } => write!(
                f,
                "the array reaches bytes {lo}..{hi} of memory of {len} bytes"
            ),
            Self::Unreadable => {
                f.write_str("elements not aligned to their size, or strides not whole elements")
            }
        }
    }
}

impl std::error::Error for RawError {}

/// The lowest and highest byte offsets (of element starts) the description reaches, `None`
/// if it has no elements; the ranks must agree and the extent fit `isize`.
fn reach(shape: &[usize], byte_strides: &[isize]) -> Result<Option<(i128, i128)>, RawError> {
    if shape.len() != byte_strides.len() {
        return Err(RawError::Layout(LayoutError::RankMismatch {
            shape: shape.len(),
            strides: byte_strides.len(),
        }));
    }
    extent(shape, byte_strides).map_err(RawError::Layout)
}

impl<'a> RawArray<'a> {
    /// The array whose element at index 0 starts `offset` bytes into `memory`, with `shape`
    /// and `byte_strides` (numpy's convention: may be negative or zero).
    ///
    /// Checks that the ranks agree, that the extent fits `isize`, that every reachable byte
    /// lies in `memory` ([`RawError::OutOfBounds`]), and that the elements can be read in
    /// place ([`RawError::Unreadable`]). An array with no elements reaches no byte, so it
    /// passes every check but the ranks and the element count.
    pub fn new(
        memory: &'a [u8],
        offset: usize,
        elem: ElemType,
        shape: &'a [usize],
        byte_strides: &'a [isize],
    ) -> Result<Self, RawError> {
        let reach = reach(shape, byte_strides)?;
        Self::checked(memory, offset, elem, shape, byte_strides, reach)
    }

    /// [`RawArray::new`] once the reach (from [`reach`]) is known.
    fn checked(
        memory: &'a [u8],
        offset: usize,
        elem: ElemType,
        shape: &'a [usize],
        byte_strides: &'a [isize],
        reach: Option<(i128, i128)>,
    ) -> Result<Self, RawError> {
        let Some((lo, hi)) = reach else {
            // No elements: nothing is read, so neither bounds nor alignment matter (an empty
            // array's pointer is often dangling).
            return Ok(Self {
                memory: &[],
                offset: 0,
                elem,
                shape,
                byte_strides,
            });
        };
        let (lo, hi) = (
            offset as i128 + lo,
            offset as i128 + hi + elem.size() as i128,
        );
        if lo < 0 || hi > memory.len() as i128 {
            return Err(RawError::OutOfBounds {
                lo,
                hi,
                len: memory.len(),
            });
        }
        let base = memory.as_ptr().wrapping_add(offset);
        if !readable_in_place(base, byte_strides, elem.size()) {
            return Err(RawError::Unreadable);
        }
        Ok(Self {
            memory,
            offset,
            elem,
            shape,
            byte_strides,
        })
    }

    /// The array at `ptr` for a producer that states no allocation, only that every element
    /// it reaches is inside one (numpy, `__array_interface__`, DLPack): the memory is taken to
    /// be the span of those elements, so [`RawArray::new`]'s bounds check holds by the
    /// producer's word, and its other checks still apply.
    ///
    /// # Safety
    /// For `'a`: every byte of the span from the lowest to the end of the highest element
    /// reachable through (`ptr`, `shape`, `byte_strides`) lies in one live allocation, is
    /// initialised, and nobody mutates it. The whole span, not only the elements: it becomes
    /// one `&[u8]`, and the kernels may load bytes between elements (a stride-2 run is read
    /// as whole vectors) and discard them. Padding between rows must be initialised too.
    pub unsafe fn from_span(
        ptr: *const u8,
        elem: ElemType,
        shape: &'a [usize],
        byte_strides: &'a [isize],
    ) -> Result<Self, RawError> {
        let reach = reach(shape, byte_strides)?;
        let Some((lo, hi)) = reach else {
            return Self::checked(&[], 0, elem, shape, byte_strides, None);
        };
        // `reach` keeps both ends within isize, so `lo` fits and `len` <= 2^64 - 1 + size.
        let len = usize::try_from(hi - lo + elem.size() as i128)
            .ok()
            .filter(|&l| l <= isize::MAX as usize)
            .ok_or(RawError::Layout(LayoutError::Overflow))?;
        let lo = lo as isize;
        // SAFETY: the caller's contract: the span from the lowest reachable byte to the end
        // of the highest reachable element is inside one live allocation (so `len` fits it),
        // initialised and unmutated for 'a.
        let memory = unsafe { std::slice::from_raw_parts(ptr.wrapping_offset(lo), len) };
        Self::checked(memory, lo.unsigned_abs(), elem, shape, byte_strides, reach)
    }

    /// The element type.
    pub fn elem(&self) -> ElemType {
        self.elem
    }

    /// The shape.
    pub fn shape(&self) -> &'a [usize] {
        self.shape
    }

    /// The strides, in bytes.
    pub fn byte_strides(&self) -> &'a [isize] {
        self.byte_strides
    }

    /// The number of elements.
    pub fn len(&self) -> usize {
        self.shape.iter().product()
    }

    /// True if the array has no elements.
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    /// Reduce with `op` over `axes` (`None`: every axis; negative counts from the end), with
    /// `ddof` for var/std. The values are of type `op.result_type(self.elem())`.
    pub fn reduce(
        &self,
        op: Op,
        axes: Option<&[isize]>,
        ddof: f64,
    ) -> Result<Outcome, ReduceError> {
        let base = self.memory.as_ptr().wrapping_add(self.offset);
        self.with_element_strides(|strides| {
            // SAFETY: as in `partials`.
            unsafe { reduce_of_elements(self.elem, op, base, self.shape, strides, axes, ddof) }
        })
    }

    /// How a reduction over `axes` (`None`: every axis) is walked, without running it.
    pub fn walk(&self, axes: Option<&[isize]>) -> Result<Walk, ReduceError> {
        self.walk_of_op(Op::Sum, axes)
    }

    /// The loop `op` runs over `axes` (argmin/argmax have their own driver: one axis or all,
    /// in logical order; see `arg_driver.rs`).
    pub fn walk_of_op(&self, op: Op, axes: Option<&[isize]>) -> Result<Walk, ReduceError> {
        let resolved = axes
            .map(|a| resolve_axes(a, self.shape.len()))
            .transpose()?;
        if op.info().family == crate::Family::Arg {
            let axis = match resolved.as_deref() {
                None => None,
                Some([k]) => Some(*k),
                Some(_) => return Err(ReduceError::ArgAxes),
            };
            // As the run: broadcast axes cut to length 1 for one axis, not for all of them
            // (see `dynamic::partials_of_elements`).
            return Ok(self.with_element_strides(|strides| {
                match crate::broadcast::plan(self.shape, strides, axes).filter(|_| axis.is_some()) {
                    Some(plan) => crate::arg_driver::arg_walk(&plan.shape, strides, axis),
                    None => crate::arg_driver::arg_walk(self.shape, strides, axis),
                }
            }));
        }
        let short = crate::kernels::short_reduction_of(op, self.elem);
        let runs = |total, stride| crate::kernels::runs_max_of(op, self.elem, total, stride);
        Ok(self.with_element_strides(|strides| {
            let over = resolved.as_deref();
            match crate::broadcast::plan(self.shape, strides, axes) {
                Some(plan) => walk_of_runs(&plan.shape, strides, over, short, runs),
                None => walk_of_runs(self.shape, strides, over, short, runs),
            }
        }))
    }

    /// The work of `op` over `axes` that the threading thresholds
    /// ([`crate::PARALLEL_THRESHOLD`], [`crate::HANDOFF_THRESHOLD`]) are compared with, as
    /// the driver counts it: [`crate::threading_work`] of the elements read (broadcast axes
    /// once), doubled when the lane path reads strided runs.
    pub fn threading_work_of_op(
        &self,
        op: Op,
        axes: Option<&[isize]>,
    ) -> Result<usize, ReduceError> {
        let resolved = axes
            .map(|a| resolve_axes(a, self.shape.len()))
            .transpose()?;
        let (elements, stride) = self.with_element_strides(|strides| {
            let plan = crate::broadcast::plan(self.shape, strides, axes);
            let shape = plan.as_ref().map_or(self.shape, |p| &p.shape[..]);
            let stride = if op.info().family == crate::Family::Arg {
                1
            } else {
                let short = crate::kernels::short_reduction_of(op, self.elem);
                crate::driver::lane_run_stride(shape, strides, resolved.as_deref(), short)
            };
            (shape.iter().product::<usize>(), stride)
        });
        Ok(crate::driver::strided_work(
            crate::threading_work(op, self.elem, elements),
            stride,
        ))
    }

    /// The broadcast axes (stride 0, length > 1), which reductions read once (see
    /// `broadcast.rs`): a reduced one counts its one element that many
    /// times; along a kept one the outputs are computed once and copied.
    pub fn broadcast_axes(&self) -> Vec<usize> {
        self.with_element_strides(|strides| crate::broadcast::axes(self.shape, strides))
    }

    /// The weighted sums (`Σ a·w`, `Σ w`) of this array and `weights` over `axes` (`None`:
    /// every axis), one per output in C order: what `average` divides. No check for zero
    /// sums. `weights` (any strides and element type) has this array's shape or, as numpy's
    /// `average` allows, the shape of the reduced axes in the order `axes` names them.
    pub fn weighted(
        &self,
        weights: &RawArray<'_>,
        axes: Option<&[isize]>,
    ) -> Result<Vec<crate::WeightedPartial>, ReduceError> {
        let w_strides = crate::weighted_driver::weight_strides(
            self.shape,
            axes,
            weights.shape,
            weights.byte_strides,
        )?;
        let axes = resolve_axes_or_all(axes, self.shape.len())?;
        fn operand<'r>(r: &RawArray<'r>) -> crate::weighted_driver::Operand<'r> {
            crate::weighted_driver::Operand {
                ptr: r.memory.as_ptr().wrapping_add(r.offset),
                elem: r.elem,
                strides: r.byte_strides,
            }
        }
        let w = crate::weighted_driver::Operand {
            strides: &w_strides,
            ..operand(weights)
        };
        // SAFETY: `new` checked for each array that every element it reaches lies in its
        // `memory`, aligned for its type; any bytes are a valid value of every element type
        // (bool is read as bytes), and both memories are shared-borrowed, so unchanged. The
        // weights' broadcast strides reach only elements their own strides reach.
        Ok(unsafe {
            crate::weighted_driver::weighted_partials(operand(self), w, self.shape, &axes)
        })
    }

    /// The outputs of a reduction over `axes` (`None`: every axis) and the elements of each.
    pub fn selection_shape(&self, axes: Option<&[isize]>) -> Result<(usize, usize), ReduceError> {
        let axes = resolve_axes_or_all(axes, self.shape.len())?;
        Ok((
            crate::select_driver::outputs(self.shape, &axes),
            crate::select_driver::per_output(self.shape, &axes),
        ))
    }

    /// Order statistics of each output over `axes` (`None`: every axis), as [`Ranks`] asks:
    /// `values` receives `k` elements of this array's type per output (C order of the kept
    /// axes; bytes, aligned to the element), element `r` of the output's values sorted
    /// ascending with NaN last (so NaN for a rank at or past its count of numbers); `counts`
    /// receives each output's numbers (elements that are not NaN). Every rank must be below
    /// the elements per output. Not for bool.
    pub fn order_statistics(
        &self,
        axes: Option<&[isize]>,
        ranks: crate::Ranks<'_>,
        values: &mut [u8],
        counts: &mut [usize],
    ) -> Result<(), ReduceError> {
        self.selecting(axes, |src, axes| {
            // SAFETY: `selecting`'s source is valid for reading.
            unsafe { crate::select_driver::order_statistics(src, axes, ranks, values, counts) }
        })
    }

    /// The numbers (elements that are not NaN) of each output over `axes`, C order.
    pub fn number_counts(
        &self,
        axes: Option<&[isize]>,
        counts: &mut [usize],
    ) -> Result<(), ReduceError> {
        self.selecting(axes, |src, axes| {
            // SAFETY: `selecting`'s source is valid for reading.
            unsafe { crate::select_driver::number_counts(src, axes, counts) }
        })
    }

    /// Quantiles `q` of each output over `axes` (`None`: every axis) by `method`, in f64,
    /// into `values` (`q.len()` times the outputs, `q` the slowest): as
    /// [`quantile_axes`](crate::quantile_axes), NaNs left out with `skip_nan`. Not for bool.
    pub fn quantiles(
        &self,
        axes: Option<&[isize]>,
        q: &[f64],
        method: crate::QuantileMethod,
        skip_nan: bool,
        values: &mut [f64],
    ) -> Result<(), ReduceError> {
        self.selecting(axes, |src, axes| {
            // SAFETY: `selecting`'s source is valid for reading.
            unsafe { crate::select_driver::quantiles(src, axes, q, method, skip_nan, values) }
        })
    }

    /// `f` with this array as a selection source and `axes` resolved. The source is valid
    /// for reading: `new` checked that every element lies in `memory`, aligned for its type,
    /// and `memory` is shared-borrowed, so unchanged during the call.
    fn selecting(
        &self,
        axes: Option<&[isize]>,
        f: impl FnOnce(crate::select_driver::Source<'_>, &[usize]) -> Result<(), ReduceError>,
    ) -> Result<(), ReduceError> {
        let axes = resolve_axes_or_all(axes, self.shape.len())?;
        self.with_element_strides(|strides| {
            let src = crate::select_driver::Source {
                elem: self.elem,
                base: self.memory.as_ptr().wrapping_add(self.offset),
                shape: self.shape,
                strides,
            };
            f(src, &axes)
        })
    }

    /// The partial result of `op` over `axes` (see [`Partials`]).
    pub fn partials(&self, op: Op, axes: Option<&[isize]>) -> Result<Partials, ReduceError> {
        let base = self.memory.as_ptr().wrapping_add(self.offset);
        self.with_element_strides(|strides| {
            // SAFETY: `new` checked that every element `base + Σ i_k * strides[k] * size` lies
            // in `memory` (so the extent fits `isize` and is one allocation), that `base` is
            // aligned to the element size (hence for the type, whose alignment never exceeds
            // its size) and that the ranks agree. Any bytes are a valid value of every kernel
            // type (bool is read as bytes), and `memory` is shared-borrowed for `'a`, so
            // nobody mutates it during the call.
            unsafe { partials_of_elements(self.elem, op, base, self.shape, strides, axes) }
        })
    }

    /// The exact partials of `op` over `axes` (see [`ExactPartials`]): `None` unless `op` is
    /// a float sum or mean (`sum`, `nansum`, `mean`, `nanmean`) of `f32` or `f64` elements.
    pub fn exact_partials(
        &self,
        op: Op,
        axes: Option<&[isize]>,
    ) -> Option<Result<ExactPartials, ReduceError>> {
        let base = self.memory.as_ptr().wrapping_add(self.offset);
        self.with_element_strides(|strides| {
            // SAFETY: as in `partials`.
            unsafe { exact_sums_of_elements(self.elem, op, base, self.shape, strides, axes) }
        })
    }

    /// `f` of the strides in elements: whole elements (checked by `new`; an empty array's
    /// are never used), on the stack up to 8 dimensions (this is on every call's path).
    fn with_element_strides<R>(&self, f: impl FnOnce(&[isize]) -> R) -> R {
        let size = self.elem.size() as isize;
        if self.byte_strides.len() <= 8 {
            let mut small = [0isize; 8];
            for (s, &b) in small.iter_mut().zip(self.byte_strides) {
                *s = b / size;
            }
            f(&small[..self.byte_strides.len()])
        } else {
            f(&self
                .byte_strides
                .iter()
                .map(|&b| b / size)
                .collect::<Vec<_>>())
        }
    }
}

// The reductions of raw arrays are tested in tests/suite/interop.rs: a unit test that
// reduced would compile every kernel again into this crate's test binary.
#[cfg(test)]
mod tests {
    use super::*;

    fn bytes(n: usize) -> Vec<u64> {
        // u64 storage: 8-byte aligned memory for every element type.
        vec![0; n.div_ceil(8)]
    }

    fn mem(v: &[u64]) -> &[u8] {
        // SAFETY: a u64 slice is that many initialised bytes, and u8 has alignment 1.
        unsafe { std::slice::from_raw_parts(v.as_ptr().cast::<u8>(), v.len() * 8) }
    }

    #[test]
    fn every_reachable_byte_must_be_inside() {
        let v = bytes(64);
        let m = mem(&v);
        let f64s = ElemType::F64;
        // 8 f64 = 64 bytes: exactly the memory.
        assert!(RawArray::new(m, 0, f64s, &[8], &[8]).is_ok());
        assert!(RawArray::new(m, 0, f64s, &[2, 4], &[32, 8]).is_ok());
        // One element too many, or the last element's last byte outside.
        assert_eq!(
            RawArray::new(m, 0, f64s, &[9], &[8]).unwrap_err(),
            RawError::OutOfBounds {
                lo: 0,
                hi: 72,
                len: 64
            }
        );
        assert!(matches!(
            RawArray::new(m, 8, f64s, &[8], &[8]),
            Err(RawError::OutOfBounds { hi: 72, .. })
        ));
        // Negative strides reach below the offset.
        assert!(RawArray::new(m, 56, f64s, &[8], &[-8]).is_ok());
        assert!(matches!(
            RawArray::new(m, 48, f64s, &[8], &[-8]),
            Err(RawError::OutOfBounds { lo: -8, .. })
        ));
        // Broadcast (stride 0) reaches one element however long the axis.
        assert!(RawArray::new(m, 56, f64s, &[1000], &[0]).is_ok());
        // No elements, no bytes reached: any offset, stride and alignment.
        assert!(RawArray::new(&[], 0, f64s, &[0, 5], &[1 << 40, 8]).is_ok());
        assert!(RawArray::new(m, 3, f64s, &[5, 0], &[4, 3]).is_ok());
    }

    #[test]
    fn from_span_takes_the_span_of_the_elements() {
        let v = bytes(64);
        let m = mem(&v);
        // The transpose of a 2x4 f64 block read backwards along its first axis: it reaches
        // bytes 0..64 from a base at byte 24.
        // SAFETY: every reachable element is inside `v`, which outlives the array.
        let a =
            unsafe { RawArray::from_span(m.as_ptr().add(24), ElemType::F64, &[4, 2], &[-8, 32]) };
        let a = a.unwrap();
        assert_eq!((a.offset, a.memory.len()), (24, 64));
        // SAFETY: an empty array reaches nothing.
        let e = unsafe { RawArray::from_span(std::ptr::null(), ElemType::F64, &[0, 3], &[8, 1]) };
        assert!(e.unwrap().is_empty());
        // SAFETY: refused before any memory is formed.
        let r = unsafe { RawArray::from_span(m.as_ptr(), ElemType::F64, &[2], &[8, 8]) };
        assert!(matches!(
            r,
            Err(RawError::Layout(LayoutError::RankMismatch { .. }))
        ));
    }

    #[test]
    fn overflowing_and_mismatched_descriptions_are_refused() {
        let v = bytes(64);
        let m = mem(&v);
        assert!(matches!(
            RawArray::new(m, 0, ElemType::U8, &[2, 2], &[1]),
            Err(RawError::Layout(LayoutError::RankMismatch { .. }))
        ));
        assert!(matches!(
            RawArray::new(m, 0, ElemType::U8, &[1 << 40, 1 << 40], &[1, 1]),
            Err(RawError::Layout(LayoutError::Overflow))
        ));
        assert!(matches!(
            RawArray::new(m, 0, ElemType::U8, &[3], &[isize::MAX]),
            Err(RawError::Layout(LayoutError::Overflow))
        ));
    }

    #[test]
    fn misaligned_or_partial_element_strides_need_a_copy() {
        let v = bytes(64);
        let m = mem(&v);
        assert_eq!(
            RawArray::new(m, 4, ElemType::F64, &[2], &[8]).unwrap_err(),
            RawError::Unreadable
        );
        assert_eq!(
            RawArray::new(m, 0, ElemType::I32, &[3], &[6]).unwrap_err(),
            RawError::Unreadable
        );
        // 1-byte types are always readable; 4-byte types at a 4-byte offset too.
        assert!(RawArray::new(m, 3, ElemType::I8, &[5], &[7]).is_ok());
        assert!(RawArray::new(m, 4, ElemType::F32, &[3], &[12]).is_ok());
    }
}
