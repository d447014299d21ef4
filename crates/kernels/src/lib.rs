//! # stridewise
//!
//! Fast, accurate, deterministic reductions over any strided N-d array: `sum`, `mean`, `var`,
//! `std`, `min`, `max`, `prod`, `argmin`, `argmax` and their NaN-ignoring variants, `ptp`,
//! `any`, `all`, `count_nonzero`, `average`, the medians and the quantiles, over
//! the whole array or any set of axes (one axis for the arg-functions), for `f32`, `f64`,
//! `i8`..`i64`, `u8`..`u64` and `bool`.
//!
//! ```
//! use stridewise::{StridedView, sum, mean_axes};
//!
//! let data: Vec<f64> = (0..12).map(f64::from).collect();
//! // A 3x4 matrix, and its transpose as a strided view of the same memory.
//! let a = StridedView::contiguous(&data, &[3, 4]).unwrap();
//! let t = StridedView::from_slice(&data, 0, &[4, 3], &[1, 4]).unwrap();
//! assert_eq!(sum(&a), 66.0);
//! assert_eq!(sum(&t), 66.0);
//! let m = mean_axes(&a, &[0]).unwrap();
//! assert_eq!((m.shape.as_slice(), m.data.as_slice()), (&[4usize][..], &[4.0, 5.0, 6.0, 7.0][..]));
//! ```
//!
//! **Semantics follow numpy.** Result types: sums of signed integers and bool are `i64`, of
//! unsigned integers `u64`, wrapping on overflow like numpy; float sums keep the float type;
//! means/var/std are `f32` for `f32` input and `f64` otherwise; min/max keep the input type.
//! Plain functions propagate NaN, `nan*` functions skip it. min/max of an empty input is
//! [`ReduceError::EmptyMinMax`] (numpy's ValueError); mean/var of an empty slice, `ddof >= n`
//! and all-NaN slices give a [`Warning`] (numpy's RuntimeWarning) with numpy's value: NaN,
//! or for `var`/`std` with `ddof >= n`, `M2 / 0` (inf unless all values are equal).
//!
//! **Accuracy.** Float sums (`sum`, `nansum`) are the exact sum correctly rounded to the result
//! type, and means that sum in f64 divided by the count (see `kernels/sum.rs`); integer sums
//! are exact (then wrapped). var/std are the exact variance of the values (and its square
//! root) correctly rounded, from double-double sums relative to an element of each set (see
//! `kernels/var.rs`), never `E[x²] - E[x]²`.
//!
//! **Determinism.** The same values in the same layout (shape and strides) give bitwise the
//! same result for any thread count, any base-pointer alignment and any SIMD level: the work is
//! cut into units that depend only on the layout, each lane does the same arithmetic at every
//! vector width, and partials are combined in a fixed tree.
//!
//! **Speed.** SIMD chosen at run time (AVX-512, AVX2 or scalar, through pulp), rayon threads
//! for inputs of at least [`PARALLEL_THRESHOLD`] elements, and spinning hand-off helpers from
//! [`HANDOFF_THRESHOLD`] elements below that (`STRIDEWISE_SPIN_US`). See [`set_num_threads`],
//! [`set_simd_level`] and the `STRIDEWISE_NUM_THREADS` / `STRIDEWISE_SIMD` variables.

mod aligned;
mod arg_driver;
mod broadcast;
mod driver;
pub mod dynamic;
mod element;
mod handoff;
mod kernels;
pub mod layout;
#[cfg(feature = "ndarray")]
mod ndarray_interop;
pub mod ops;
mod partials;
mod probe;
mod raw;
mod select_driver;
mod simd;
mod walk;
mod weighted_driver;

pub use kernels::weighted::WeightedPartial;

pub use aligned::{AlignedArray, DEFAULT_ALIGN};
pub use driver::{walk_of, Walk};
pub use element::{ElemInfo, ElemType, Element, Value, Values};
pub use kernels::select::QuantileMethod;
pub use kernels::{Ignore, NanPolicy, Propagate};
pub use layout::{LayoutError, StridedView};
pub use ops::{Degenerate, Family, Info, Kw, NanHandling, Op};
pub use partials::{
    ExactPartials, FloatPartial, Partials, PartialsError, ProdPartial, State, VarPartial,
};
pub use probe::{read_probe, read_probe_streams};
pub use raw::{RawArray, RawError};
pub use select_driver::{Ranks, RanksOfCount};
pub use simd::{
    available_simd_levels, best_simd_level, default_num_threads, get_num_threads, set_num_threads,
    set_simd_level, simd_level, with_num_threads, with_simd_level, SimdLevel,
};
pub use walk::reads_streams;

use std::fmt;

/// Inputs of at least this much work ([`threading_work`]: elements, or for min/max bytes / 8)
/// are reduced on the rayon pool (when it has more than one thread).
pub const PARALLEL_THRESHOLD: usize = driver::PAR_MIN;

/// Inputs of at least this much work ([`threading_work`]), and less than
/// [`PARALLEL_THRESHOLD`], are split
/// between the calling thread and the hand-off helpers (when there is more than one thread);
/// smaller ones are reduced on the calling thread.
pub const HANDOFF_THRESHOLD: usize = driver::MID_MIN;

/// The work that [`PARALLEL_THRESHOLD`] and [`HANDOFF_THRESHOLD`] are compared with for a
/// reduction of `elements` elements of `elem` by `op`: the element count, except for
/// min/max, cheap per element and exact however they are split, which count bytes as 8-byte
/// elements (so a narrow type is not split into parts too small to pay for a thread).
pub fn threading_work(op: Op, elem: ElemType, elements: usize) -> usize {
    if matches!(
        op.info().family,
        Family::Extreme
            | Family::CountNonzero
            | Family::Any
            | Family::All
            | Family::Range
            | Family::Arg
    ) {
        elements.saturating_mul(elem.size().clamp(1, 8)) / 8
    } else {
        elements
    }
}

/// numpy's RuntimeWarnings that come with a NaN result.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Warning {
    /// "Mean of empty slice": mean of no (non-NaN) elements.
    MeanOfEmptySlice,
    /// "Degrees of freedom <= 0 for slice": var/std with `ddof >= n`.
    DegreesOfFreedom,
    /// "All-NaN slice encountered": nanmin/nanmax of a slice with only NaN.
    AllNanSlice,
}

/// numpy's text for the plain functions (see [`Warning::text`]).
impl fmt::Display for Warning {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let text = self.text(NanHandling::Propagate).to_str();
        f.write_str(text.expect("the texts are ASCII"))
    }
}

/// Errors of a reduction.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ReduceError {
    /// A bad axis (numpy's AxisError / ValueError for duplicates).
    Layout(LayoutError),
    /// min/max over zero elements (numpy's ValueError).
    EmptyMinMax {
        /// `"minimum"` or `"maximum"`, as numpy names the reduction.
        op: &'static str,
    },
    /// `ptp` of bool: numpy's TypeError (it does not subtract booleans).
    BoolSubtract,
    /// argmin/argmax over an empty slice (numpy's ValueError; nanargmin/nanargmax word it as
    /// argmin/argmax, as numpy's do).
    EmptyArg {
        /// `"argmin"` or `"argmax"`.
        op: &'static str,
    },
    /// nanargmin/nanargmax of a slice with no number (numpy's ValueError).
    AllNanSlice,
    /// argmin/argmax over several axes (numpy takes one axis or all of them).
    ArgAxes,
    /// `average`: weights of neither the data's shape nor the shape of the reduced axes
    /// (numpy's ValueError).
    WeightsShape,
    /// `average`: some output's weights sum to zero (numpy's ZeroDivisionError).
    WeightsSumZero,
    /// Order statistics of bool (numpy's median and quantile of bool are numpy's).
    BoolSelect,
    /// Order statistics: a rank past an output's elements, an output of no elements, or
    /// buffers of the wrong size.
    Ranks,
    /// A quantile outside `[0, 1]` (numpy's ValueError).
    Quantiles,
}

impl fmt::Display for ReduceError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::Layout(e) => e.fmt(f),
            Self::EmptyMinMax { op } => write!(
                f,
                "zero-size array to reduction operation {op} which has no identity"
            ),
            Self::BoolSubtract => f.write_str(
                "numpy boolean subtract, the `-` operator, is not supported, use the \
                 bitwise_xor, the `^` operator, or the logical_xor function instead.",
            ),
            Self::EmptyArg { op } => write!(f, "attempt to get {op} of an empty sequence"),
            Self::AllNanSlice => f.write_str("All-NaN slice encountered"),
            Self::ArgAxes => f.write_str("argmin/argmax take one axis or None, not several"),
            Self::WeightsShape => f.write_str(
                "Shape of weights must be consistent with shape of a along specified axis.",
            ),
            Self::WeightsSumZero => f.write_str("Weights sum to zero, can't be normalized"),
            Self::BoolSelect => f.write_str("order statistics of bool are not supported"),
            Self::Ranks => f.write_str(
                "a rank is past the elements of an output, an output has no elements, or a \
                 buffer has the wrong size",
            ),
            Self::Quantiles => f.write_str("Quantiles must be in the range [0, 1]"),
        }
    }
}

impl std::error::Error for ReduceError {}

impl From<LayoutError> for ReduceError {
    fn from(e: LayoutError) -> Self {
        Self::Layout(e)
    }
}

/// A whole-array result that may carry numpy's RuntimeWarning.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Reduced<R> {
    /// The value (NaN when a warning says so).
    pub value: R,
    /// The warning numpy would emit, if any.
    pub warning: Option<Warning>,
}

/// The result of a reduction over some axes: a C-ordered array of the kept axes.
#[derive(Debug, Clone, PartialEq)]
pub struct Reduction<R> {
    /// Shape: the kept axes in their original order (keepdims is the caller's business).
    pub shape: Vec<usize>,
    /// Values in C order.
    pub data: Vec<R>,
    /// The warning numpy would emit for any element, if any.
    pub warning: Option<Warning>,
}

/// Any reduction, chosen by value: `op` over `axes` of `view` (`None`: every axis), with
/// `ddof` for var/std (ignored by the others). The values come back type-erased, in
/// `op.result_type(T::ELEM)`; the typed functions below unwrap them. The same as
/// [`partials`] then [`Partials::finalise`].
///
/// ```
/// use stridewise::{reduce, Op, StridedView, Values};
///
/// let data = [1.0, 2.0, 3.0, 4.0];
/// let m = StridedView::contiguous(&data, &[2, 2]).unwrap();
/// let out = reduce(Op::Max, &m, Some(&[0]), 0.0).unwrap();
/// assert_eq!((out.shape, out.values), (vec![2], Values::F64(vec![3.0, 4.0])));
/// ```
pub fn reduce<T: Element>(
    op: Op,
    view: &StridedView<'_, T>,
    axes: Option<&[isize]>,
    ddof: f64,
) -> Result<dynamic::Outcome, ReduceError> {
    dynamic::reduce_typed(op, view, axes, ddof)
}

/// The partial result of `op` over `axes` of `view` (`None`: every axis): one state per
/// output, to [`Partials::combine`] with the partials of other pieces of the same reduction
/// and [`Partials::finalise`] into the values [`reduce`] gives (see [`Partials`]).
pub fn partials<T: Element>(
    op: Op,
    view: &StridedView<'_, T>,
    axes: Option<&[isize]>,
) -> Result<Partials, ReduceError> {
    dynamic::partials_typed(op, view, axes)
}

/// The exact partials of `op` over `axes` of `view` (see [`ExactPartials`]): for the float
/// sums and means, partials that combine exactly, so that pieces cut in any way give the
/// bits [`reduce`] gives for the whole; `None` for other reductions or element types.
///
/// ```
/// use stridewise::{exact_partials, reduce, Op, StridedView};
///
/// let data = [1e16, 1.0, -1e16, 0.5, 3.0, -0.25];
/// let all = StridedView::contiguous(&data, &[6]).unwrap();
/// let pieces: Vec<_> = [&data[..1], &data[1..4], &data[4..]]
///     .iter()
///     .map(|d| StridedView::contiguous(d, &[d.len()]).unwrap())
///     .map(|v| exact_partials(Op::Sum, &v, None).unwrap().unwrap())
///     .collect();
/// let whole = pieces[2]
///     .clone()
///     .combine(&pieces[0])
///     .and_then(|p| p.combine(&pieces[1]))
///     .unwrap();
/// let sum = whole.into_partials().finalise(0.0).unwrap();
/// assert_eq!(sum, reduce(Op::Sum, &all, None, 0.0).unwrap());
/// ```
pub fn exact_partials<T: Element>(
    op: Op,
    view: &StridedView<'_, T>,
    axes: Option<&[isize]>,
) -> Option<Result<ExactPartials, ReduceError>> {
    // SAFETY: a view's elements are valid, shared `T`s for its lifetime, which outlives this
    // call, and `T::ELEM` names `T`.
    unsafe {
        dynamic::exact_sums_of_elements(
            T::ELEM,
            op,
            view.as_ptr().cast::<u8>(),
            view.shape(),
            view.strides(),
            axes,
        )
    }
}

/// The typed result of a whole-array reduction that cannot fail.
fn whole<R: Value>(op: Op, view: &StridedView<'_, impl Element>, ddof: f64) -> Reduced<R> {
    dynamic::reduce_typed(op, view, None, ddof)
        .expect("only min/max of an empty view fail")
        .into_reduced()
}

/// The typed result of a reduction over `axes`.
fn over<R: Value>(
    op: Op,
    view: &StridedView<'_, impl Element>,
    axes: &[isize],
    ddof: f64,
) -> Result<Reduction<R>, ReduceError> {
    Ok(dynamic::reduce_typed(op, view, Some(axes), ddof)?.into_reduction())
}

/// The typed result of min/max over the whole view.
fn extreme<T: Element>(op: Op, view: &StridedView<'_, T>) -> Result<Reduced<T>, ReduceError> {
    Ok(dynamic::reduce_typed(op, view, None, 0.0)?.into_reduced())
}

/// Sum of all elements (NaN propagates). numpy: `np.sum(a)`.
pub fn sum<T: Element>(view: &StridedView<'_, T>) -> T::Sum {
    whole(Op::Sum, view, 0.0).value
}

/// Sum of all non-NaN elements. numpy: `np.nansum(a)`.
pub fn nansum<T: Element>(view: &StridedView<'_, T>) -> T::Sum {
    whole(Op::NanSum, view, 0.0).value
}

/// Sum over `axes` (numpy-style: negative counts from the end). numpy: `np.sum(a, axis)`.
pub fn sum_axes<T: Element>(
    view: &StridedView<'_, T>,
    axes: &[isize],
) -> Result<Reduction<T::Sum>, ReduceError> {
    over(Op::Sum, view, axes, 0.0)
}

/// NaN-skipping sum over `axes`. numpy: `np.nansum(a, axis)`.
pub fn nansum_axes<T: Element>(
    view: &StridedView<'_, T>,
    axes: &[isize],
) -> Result<Reduction<T::Sum>, ReduceError> {
    over(Op::NanSum, view, axes, 0.0)
}

/// Mean of all elements. numpy: `np.mean(a)`.
pub fn mean<T: Element>(view: &StridedView<'_, T>) -> Reduced<T::Mean> {
    whole(Op::Mean, view, 0.0)
}

/// Mean of the non-NaN elements. numpy: `np.nanmean(a)`.
pub fn nanmean<T: Element>(view: &StridedView<'_, T>) -> Reduced<T::Mean> {
    whole(Op::NanMean, view, 0.0)
}

/// Mean over `axes`. numpy: `np.mean(a, axis)`.
pub fn mean_axes<T: Element>(
    view: &StridedView<'_, T>,
    axes: &[isize],
) -> Result<Reduction<T::Mean>, ReduceError> {
    over(Op::Mean, view, axes, 0.0)
}

/// NaN-skipping mean over `axes`. numpy: `np.nanmean(a, axis)`.
pub fn nanmean_axes<T: Element>(
    view: &StridedView<'_, T>,
    axes: &[isize],
) -> Result<Reduction<T::Mean>, ReduceError> {
    over(Op::NanMean, view, axes, 0.0)
}

/// Variance with `ddof` delta degrees of freedom. numpy: `np.var(a, ddof=ddof)`.
pub fn var<T: Element>(view: &StridedView<'_, T>, ddof: f64) -> Reduced<T::Mean> {
    whole(Op::Var, view, ddof)
}

/// Standard deviation. numpy: `np.std(a, ddof=ddof)`.
pub fn std<T: Element>(view: &StridedView<'_, T>, ddof: f64) -> Reduced<T::Mean> {
    whole(Op::Std, view, ddof)
}

/// Variance of the non-NaN elements. numpy: `np.nanvar(a, ddof=ddof)`.
pub fn nanvar<T: Element>(view: &StridedView<'_, T>, ddof: f64) -> Reduced<T::Mean> {
    whole(Op::NanVar, view, ddof)
}

/// Standard deviation of the non-NaN elements. numpy: `np.nanstd(a, ddof=ddof)`.
pub fn nanstd<T: Element>(view: &StridedView<'_, T>, ddof: f64) -> Reduced<T::Mean> {
    whole(Op::NanStd, view, ddof)
}

/// Variance over `axes`. numpy: `np.var(a, axis, ddof=ddof)`.
pub fn var_axes<T: Element>(
    view: &StridedView<'_, T>,
    axes: &[isize],
    ddof: f64,
) -> Result<Reduction<T::Mean>, ReduceError> {
    over(Op::Var, view, axes, ddof)
}

/// Standard deviation over `axes`. numpy: `np.std(a, axis, ddof=ddof)`.
pub fn std_axes<T: Element>(
    view: &StridedView<'_, T>,
    axes: &[isize],
    ddof: f64,
) -> Result<Reduction<T::Mean>, ReduceError> {
    over(Op::Std, view, axes, ddof)
}

/// NaN-skipping variance over `axes`. numpy: `np.nanvar(a, axis, ddof=ddof)`.
pub fn nanvar_axes<T: Element>(
    view: &StridedView<'_, T>,
    axes: &[isize],
    ddof: f64,
) -> Result<Reduction<T::Mean>, ReduceError> {
    over(Op::NanVar, view, axes, ddof)
}

/// NaN-skipping standard deviation over `axes`. numpy: `np.nanstd(a, axis, ddof=ddof)`.
pub fn nanstd_axes<T: Element>(
    view: &StridedView<'_, T>,
    axes: &[isize],
    ddof: f64,
) -> Result<Reduction<T::Mean>, ReduceError> {
    over(Op::NanStd, view, axes, ddof)
}

/// Smallest element; NaN if any element is NaN. numpy: `np.min(a)`.
pub fn min<T: Element>(view: &StridedView<'_, T>) -> Result<T, ReduceError> {
    extreme(Op::Min, view).map(|r| r.value)
}

/// Largest element; NaN if any element is NaN. numpy: `np.max(a)`.
pub fn max<T: Element>(view: &StridedView<'_, T>) -> Result<T, ReduceError> {
    extreme(Op::Max, view).map(|r| r.value)
}

/// Smallest non-NaN element (NaN and a warning if all are NaN). numpy: `np.nanmin(a)`.
pub fn nanmin<T: Element>(view: &StridedView<'_, T>) -> Result<Reduced<T>, ReduceError> {
    extreme(Op::NanMin, view)
}

/// Largest non-NaN element (NaN and a warning if all are NaN). numpy: `np.nanmax(a)`.
pub fn nanmax<T: Element>(view: &StridedView<'_, T>) -> Result<Reduced<T>, ReduceError> {
    extreme(Op::NanMax, view)
}

/// Minimum over `axes`. numpy: `np.min(a, axis)`.
pub fn min_axes<T: Element>(
    view: &StridedView<'_, T>,
    axes: &[isize],
) -> Result<Reduction<T>, ReduceError> {
    over(Op::Min, view, axes, 0.0)
}

/// Maximum over `axes`. numpy: `np.max(a, axis)`.
pub fn max_axes<T: Element>(
    view: &StridedView<'_, T>,
    axes: &[isize],
) -> Result<Reduction<T>, ReduceError> {
    over(Op::Max, view, axes, 0.0)
}

/// NaN-skipping minimum over `axes`. numpy: `np.nanmin(a, axis)`.
pub fn nanmin_axes<T: Element>(
    view: &StridedView<'_, T>,
    axes: &[isize],
) -> Result<Reduction<T>, ReduceError> {
    over(Op::NanMin, view, axes, 0.0)
}

/// NaN-skipping maximum over `axes`. numpy: `np.nanmax(a, axis)`.
pub fn nanmax_axes<T: Element>(
    view: &StridedView<'_, T>,
    axes: &[isize],
) -> Result<Reduction<T>, ReduceError> {
    over(Op::NanMax, view, axes, 0.0)
}

/// The number of elements that are not zero (NaN counts, `-0.0` does not). numpy:
/// `np.count_nonzero(a)`.
///
/// ```
/// use stridewise::{count_nonzero, count_nonzero_axes, StridedView};
///
/// let data = [0.0, -0.0, f64::NAN, 2.0, 0.0, 5.0];
/// let v = StridedView::contiguous(&data, &[2, 3]).unwrap();
/// assert_eq!(count_nonzero(&v), 3);
/// // Per column, and per row of the transpose (the same memory, strided).
/// assert_eq!(count_nonzero_axes(&v, &[0]).unwrap().data, [1, 0, 2]);
/// let t = StridedView::from_slice(&data, 0, &[3, 2], &[1, 3]).unwrap();
/// assert_eq!(count_nonzero_axes(&t, &[1]).unwrap().data, [1, 0, 2]);
/// ```
pub fn count_nonzero<T: Element>(view: &StridedView<'_, T>) -> u64 {
    let r = dynamic::reduce_typed(Op::CountNonzero, view, None, 0.0).expect("counts never fail");
    let Values::I64(v) = r.values else {
        unreachable!("count_nonzero gives int64")
    };
    v[0] as u64
}

/// Whether any element is not zero (false for an empty view). numpy: `np.any(a)`.
///
/// ```
/// use stridewise::{all, any, any_axes, StridedView};
///
/// let data = [0u8, 0, 3, 0, 0, 0];
/// let v = StridedView::contiguous(&data, &[2, 3]).unwrap();
/// assert!(any(&v) && !all(&v));
/// assert_eq!(any_axes(&v, &[1]).unwrap().data, [true, false]);
/// let none: [f32; 0] = [];
/// let e = StridedView::contiguous(&none, &[0]).unwrap();
/// assert!(!any(&e) && all(&e)); // as numpy's: any of nothing is false, all is true
/// ```
pub fn any<T: Element>(view: &StridedView<'_, T>) -> bool {
    logical(Op::Any, view)
}

/// Whether every element is not zero (true for an empty view; NaN is not zero). numpy:
/// `np.all(a)`.
///
/// ```
/// use stridewise::{all, all_axes, StridedView};
///
/// let data = [1.0, f64::NAN, 0.0, 4.0];
/// let v = StridedView::contiguous(&data, &[2, 2]).unwrap();
/// assert!(!all(&v));
/// assert_eq!(all_axes(&v, &[1]).unwrap().data, [true, false]);
/// ```
pub fn all<T: Element>(view: &StridedView<'_, T>) -> bool {
    logical(Op::All, view)
}

fn logical<T: Element>(op: Op, view: &StridedView<'_, T>) -> bool {
    let r = dynamic::reduce_typed(op, view, None, 0.0).expect("any/all never fail");
    let Values::Bool(v) = r.values else {
        unreachable!("any/all give bool")
    };
    v[0]
}

/// The number of nonzero elements over `axes` (as numpy's int64). numpy:
/// `np.count_nonzero(a, axis)`.
pub fn count_nonzero_axes<T: Element>(
    view: &StridedView<'_, T>,
    axes: &[isize],
) -> Result<Reduction<i64>, ReduceError> {
    over(Op::CountNonzero, view, axes, 0.0)
}

/// Whether any element over `axes` is not zero. numpy: `np.any(a, axis)`.
pub fn any_axes<T: Element>(
    view: &StridedView<'_, T>,
    axes: &[isize],
) -> Result<Reduction<bool>, ReduceError> {
    over(Op::Any, view, axes, 0.0)
}

/// Whether every element over `axes` is not zero. numpy: `np.all(a, axis)`.
pub fn all_axes<T: Element>(
    view: &StridedView<'_, T>,
    axes: &[isize],
) -> Result<Reduction<bool>, ReduceError> {
    over(Op::All, view, axes, 0.0)
}

/// Product of all elements, in numpy's product type (`i64` for signed integers and bool,
/// `u64` for unsigned ones, wrapping modulo 2^64 as numpy's; the float type for floats).
/// Float products keep an unbounded exponent range until the end and carry about twice the
/// float's precision, so they are the exact product rounded once (see
/// `kernels/prod.rs`); where numpy's partial products overflow or underflow, numpy's answer
/// is inf, 0 or NaN and this one the correctly rounded product. numpy: `np.prod(a)`.
///
/// ```
/// use stridewise::{prod, StridedView};
///
/// let data = [1e300, 1e300, 1e-300, 3.0];
/// let v = StridedView::contiguous(&data, &[4]).unwrap();
/// // numpy's running product overflows at the second element: inf * 1e-300 * 3 = inf.
/// assert_eq!(prod(&v), 3e300);
/// // Integers wrap modulo 2^64 as numpy's int64 does: 3 * 2^62 is -2^62.
/// let ints = [3i64, 1 << 62];
/// let v = StridedView::contiguous(&ints, &[2]).unwrap();
/// assert_eq!(prod(&v), -(1i64 << 62));
/// ```
pub fn prod<T: Element>(view: &StridedView<'_, T>) -> T::Sum {
    whole(Op::Prod, view, 0.0).value
}

/// Product of all non-NaN elements (NaN counts as 1, as in numpy). numpy: `np.nanprod(a)`.
///
/// ```
/// use stridewise::{nanprod, nanprod_axes, prod, StridedView};
///
/// let data = [2.0, f64::NAN, 3.0, f64::NAN];
/// let v = StridedView::contiguous(&data, &[2, 2]).unwrap();
/// assert!(prod(&v).is_nan());
/// assert_eq!(nanprod(&v), 6.0);
/// // A column of NaN only is the empty product, 1.
/// assert_eq!(nanprod_axes(&v, &[0]).unwrap().data, [6.0, 1.0]);
/// ```
pub fn nanprod<T: Element>(view: &StridedView<'_, T>) -> T::Sum {
    whole(Op::NanProd, view, 0.0).value
}

/// [`prod`] over `axes`. numpy: `np.prod(a, axis)`.
pub fn prod_axes<T: Element>(
    view: &StridedView<'_, T>,
    axes: &[isize],
) -> Result<Reduction<T::Sum>, ReduceError> {
    over(Op::Prod, view, axes, 0.0)
}

/// [`nanprod`] over `axes`. numpy: `np.nanprod(a, axis)`.
pub fn nanprod_axes<T: Element>(
    view: &StridedView<'_, T>,
    axes: &[isize],
) -> Result<Reduction<T::Sum>, ReduceError> {
    over(Op::NanProd, view, axes, 0.0)
}

/// Maximum minus minimum (numpy's "peak to peak"), in the element type (integers wrap as
/// numpy's subtraction does); NaN if any element is NaN. Errors for an empty view and for
/// bool, as numpy. numpy: `np.ptp(a)`.
///
/// ```
/// use stridewise::{ptp, ptp_axes, StridedView};
///
/// let data = [3i8, -100, 27, 100];
/// let v = StridedView::contiguous(&data, &[2, 2]).unwrap();
/// // 100 - (-100) wraps in int8, as numpy's: -56.
/// assert_eq!(ptp(&v).unwrap(), -56);
/// assert_eq!(ptp_axes(&v, &[0]).unwrap().data, [24, -56]);
/// let none: [f64; 0] = [];
/// assert!(ptp(&StridedView::contiguous(&none, &[0]).unwrap()).is_err());
/// ```
pub fn ptp<T: Element>(view: &StridedView<'_, T>) -> Result<T, ReduceError> {
    Ok(dynamic::reduce_typed(Op::Ptp, view, None, 0.0)?
        .into_reduced::<T>()
        .value)
}

/// [`ptp`] over `axes`. numpy: `np.ptp(a, axis)`.
pub fn ptp_axes<T: Element>(
    view: &StridedView<'_, T>,
    axes: &[isize],
) -> Result<Reduction<T>, ReduceError> {
    over(Op::Ptp, view, axes, 0.0)
}

/// The flat index, in the C order of `view`'s logical shape, of the first minimum (the first
/// NaN if there is one); an error for an empty view. numpy: `np.argmin(a)`.
///
/// ```
/// use stridewise::{argmin, StridedView};
///
/// let data = [3.0, 1.0, 2.0, 1.0];
/// // The transposed 2x2 view is [[3, 2], [1, 1]]: its first minimum is at flat index 2.
/// let t = StridedView::from_slice(&data, 0, &[2, 2], &[1, 2]).unwrap();
/// assert_eq!(argmin(&t).unwrap(), 2);
/// ```
pub fn argmin<T: Element>(view: &StridedView<'_, T>) -> Result<usize, ReduceError> {
    arg_whole(Op::Argmin, view)
}

/// The flat index of the first maximum (the first NaN if there is one). numpy:
/// `np.argmax(a)`.
pub fn argmax<T: Element>(view: &StridedView<'_, T>) -> Result<usize, ReduceError> {
    arg_whole(Op::Argmax, view)
}

/// [`argmin`] with NaN counted as `+inf` (numpy's nanargmin); an error if every element is
/// NaN. numpy: `np.nanargmin(a)`.
///
/// ```
/// use stridewise::{argmin, nanargmax, nanargmin, StridedView};
///
/// let data = [4.0, f64::NAN, -1.0, 7.0, -1.0];
/// let v = StridedView::contiguous(&data, &[5]).unwrap();
/// assert_eq!(argmin(&v).unwrap(), 1); // the first NaN wins, as numpy's
/// assert_eq!(nanargmin(&v).unwrap(), 2); // NaN skipped; the first of the tied minima
/// assert_eq!(nanargmax(&v).unwrap(), 3);
/// let nans = [f64::NAN; 3];
/// assert!(nanargmin(&StridedView::contiguous(&nans, &[3]).unwrap()).is_err());
/// ```
pub fn nanargmin<T: Element>(view: &StridedView<'_, T>) -> Result<usize, ReduceError> {
    arg_whole(Op::NanArgmin, view)
}

/// [`argmax`] with NaN counted as `-inf` (numpy's nanargmax); an error if every element is
/// NaN. numpy: `np.nanargmax(a)`.
pub fn nanargmax<T: Element>(view: &StridedView<'_, T>) -> Result<usize, ReduceError> {
    arg_whole(Op::NanArgmax, view)
}

/// The index along `axis` (negative counts from the end) of each output's first minimum.
/// numpy: `np.argmin(a, axis)`.
///
/// ```
/// use stridewise::{argmin_axis, StridedView};
///
/// let data = [3, 1, 2, 1, 0, 5];
/// let m = StridedView::contiguous(&data, &[2, 3]).unwrap();
/// assert_eq!(argmin_axis(&m, 0).unwrap().data, vec![1, 1, 0]);
/// assert_eq!(argmin_axis(&m, -1).unwrap().data, vec![1, 1]);
/// ```
pub fn argmin_axis<T: Element>(
    view: &StridedView<'_, T>,
    axis: isize,
) -> Result<Reduction<i64>, ReduceError> {
    over(Op::Argmin, view, &[axis], 0.0)
}

/// [`argmax`] along one axis. numpy: `np.argmax(a, axis)`.
pub fn argmax_axis<T: Element>(
    view: &StridedView<'_, T>,
    axis: isize,
) -> Result<Reduction<i64>, ReduceError> {
    over(Op::Argmax, view, &[axis], 0.0)
}

/// [`nanargmin`] along one axis. numpy: `np.nanargmin(a, axis)`.
pub fn nanargmin_axis<T: Element>(
    view: &StridedView<'_, T>,
    axis: isize,
) -> Result<Reduction<i64>, ReduceError> {
    over(Op::NanArgmin, view, &[axis], 0.0)
}

/// [`nanargmax`] along one axis. numpy: `np.nanargmax(a, axis)`.
pub fn nanargmax_axis<T: Element>(
    view: &StridedView<'_, T>,
    axis: isize,
) -> Result<Reduction<i64>, ReduceError> {
    over(Op::NanArgmax, view, &[axis], 0.0)
}

fn arg_whole<T: Element>(op: Op, view: &StridedView<'_, T>) -> Result<usize, ReduceError> {
    let i = dynamic::reduce_typed(op, view, None, 0.0)?
        .into_reduced::<i64>()
        .value;
    Ok(usize::try_from(i).expect("an index is not negative"))
}

/// The README's examples, compiled and run as doctests.
#[cfg(doctest)]
#[doc = include_str!("../../../README.md")]
pub struct ReadmeDoctests;

/// A weighted average and the sum of its weights: numpy's `np.average(a, weights=w,
/// returned=True)`, both in f64 (numpy's float32 result is `average` rounded to f32).
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Averaged {
    /// `Σ a·w / Σ w`, within about half an ulp (see `kernels/weighted.rs`).
    pub average: f64,
    /// `Σ w`, rounded once.
    pub weight_sum: f64,
}

impl From<WeightedPartial> for Averaged {
    fn from(p: WeightedPartial) -> Self {
        Self {
            average: p.average(),
            weight_sum: p.weight_sum(),
        }
    }
}

/// The weighted average of every element, `weights` of the view's shape (any strides and
/// element types, the two views' own). numpy: `np.average(a, weights=w, returned=True)`.
/// Products are exact and both sums double-length, so the result is within about half an
/// ulp where numpy rounds every product and running sum.
///
/// ```
/// use stridewise::{average, StridedView};
///
/// let data = [1.0f32, 2.0, 3.0, 4.0];
/// let weights = [3u8, 1, 0, 4];
/// let a = StridedView::contiguous(&data, &[4]).unwrap();
/// let w = StridedView::contiguous(&weights, &[4]).unwrap();
/// let r = average(&a, &w).unwrap();
/// assert_eq!((r.average, r.weight_sum), (21.0 / 8.0, 8.0));
/// // numpy's errors: weights summing to zero.
/// let zero = [0u8; 4];
/// let z = StridedView::contiguous(&zero, &[4]).unwrap();
/// assert!(average(&a, &z).is_err());
/// ```
pub fn average<T: Element, W: Element>(
    view: &StridedView<'_, T>,
    weights: &StridedView<'_, W>,
) -> Result<Averaged, ReduceError> {
    let all: Vec<isize> = (0..view.ndim() as isize).collect();
    let r = average_axes(view, weights, &all)?;
    Ok(r.data[0])
}

/// The weighted average over `axes` (numpy-style: negative counts from the end). `weights`
/// has the view's shape, or, as numpy allows, the shape of the reduced axes in the order
/// `axes` names them (`weights.shape()[i] == view.shape()[axes[i]]`). numpy:
/// `np.average(a, axis, weights=w, returned=True)`.
///
/// ```
/// use stridewise::{average_axes, StridedView};
///
/// let data = [1.0, 2.0, 3.0, 4.0, 5.0, 6.0];
/// let a = StridedView::contiguous(&data, &[2, 3]).unwrap();
/// // Weights along axis 1 only.
/// let w = [1.0, 0.0, 3.0];
/// let w = StridedView::contiguous(&w, &[3]).unwrap();
/// let r = average_axes(&a, &w, &[1]).unwrap();
/// assert_eq!(r.shape, vec![2]);
/// assert_eq!(r.data[0].average, 2.5);
/// assert_eq!(r.data[1].average, 5.5);
/// assert_eq!(r.data[1].weight_sum, 4.0);
/// ```
pub fn average_axes<T: Element, W: Element>(
    view: &StridedView<'_, T>,
    weights: &StridedView<'_, W>,
    axes: &[isize],
) -> Result<Reduction<Averaged>, ReduceError> {
    let ndim = view.ndim();
    let sorted = layout::resolve_axes(axes, ndim)?;
    let bytes = |strides: &[isize], size: usize| -> Vec<isize> {
        strides.iter().map(|&s| s * size as isize).collect()
    };
    let w_strides = weighted_driver::weight_strides(
        view.shape(),
        Some(axes),
        weights.shape(),
        &bytes(weights.strides(), std::mem::size_of::<W>()),
    )?;
    let a_strides = bytes(view.strides(), std::mem::size_of::<T>());
    let a = weighted_driver::Operand {
        ptr: view.as_ptr().cast(),
        elem: T::ELEM,
        strides: &a_strides,
    };
    let w = weighted_driver::Operand {
        ptr: weights.as_ptr().cast(),
        elem: W::ELEM,
        strides: &w_strides,
    };
    // SAFETY: both views' contracts make every element they reach valid, aligned and
    // shared-borrowed (unchanged) for the call; the weights' strides reach the same elements
    // as their own view (stride 0 repeats one along the axes they do not have).
    let parts = unsafe { weighted_driver::weighted_partials(a, w, view.shape(), &sorted) };
    if parts.iter().any(|p| p.weight_sum() == 0.0) {
        return Err(ReduceError::WeightsSumZero);
    }
    Ok(Reduction {
        shape: layout::result_shape(view.shape(), Some(&sorted), false),
        data: parts.into_iter().map(Averaged::from).collect(),
        warning: None,
    })
}

/// Order statistics of each output of `view` over `axes` (`None`: every axis): see
/// [`order_statistics`].
#[derive(Debug, Clone, PartialEq)]
pub struct OrderStatistics<T> {
    /// The kept axes' shape.
    pub shape: Vec<usize>,
    /// `k` values per output, C order: element `r` of the output's values sorted ascending,
    /// NaN last, for each asked rank `r`.
    pub values: Vec<T>,
    /// The numbers (elements that are not NaN) of each output.
    pub counts: Vec<usize>,
}

/// Order statistics: for each output over `axes` (`None`: every axis), the elements at the
/// asked ranks of its values sorted ascending, NaN sorted last (what `np.partition` puts
/// there), and the count of its numbers. What median and quantiles are made of. Not for
/// bool ([`ReduceError::BoolSelect`]); a rank at or past the elements per output is
/// [`ReduceError::Ranks`].
///
/// ```
/// use stridewise::{order_statistics, Ranks, StridedView};
///
/// let data = [3.0, f64::NAN, 1.0, 2.0, 9.0, 5.0];
/// let m = StridedView::contiguous(&data, &[2, 3]).unwrap();
/// let s = order_statistics(&m, Some(&[1]), Ranks::Shared(&[0, 2])).unwrap();
/// assert_eq!(s.counts, vec![2, 3]);
/// assert_eq!(s.values[0], 1.0); // row 0: 1, 3, NaN
/// assert!(s.values[1].is_nan());
/// assert_eq!(&s.values[2..], &[2.0, 9.0]);
/// ```
pub fn order_statistics<T: Element>(
    view: &StridedView<'_, T>,
    axes: Option<&[isize]>,
    ranks: Ranks<'_>,
) -> Result<OrderStatistics<T>, ReduceError> {
    let sorted = layout::resolve_axes_or_all(axes, view.ndim())?;
    let outs = select_driver::outputs(view.shape(), &sorted);
    let mut values = vec![T::ZERO; outs * ranks.k()];
    let mut counts = vec![0; outs];
    // SAFETY: any bytes are a valid value of a numeric type, and `values` is `T`-aligned.
    let bytes = unsafe {
        std::slice::from_raw_parts_mut(
            values.as_mut_ptr().cast::<u8>(),
            std::mem::size_of_val(values.as_slice()),
        )
    };
    // SAFETY: the view's contract: every element it reaches is a valid, aligned `T`,
    // shared-borrowed (unchanged) for the call.
    unsafe { select_driver::order_statistics(source(view), &sorted, ranks, bytes, &mut counts)? };
    Ok(OrderStatistics {
        shape: layout::result_shape(view.shape(), Some(&sorted), false),
        values,
        counts,
    })
}

/// Median of each output over `axes` (`None`: every axis), in f64: the middle order
/// statistic, or the mean of the two middle ones (`(a + b) / 2` in f64). An output holding
/// NaN is NaN with [`NanHandling::Propagate`], as numpy's `median`; with
/// [`NanHandling::Ignore`] (numpy's `nanmedian`) NaNs are left out and an output of only NaNs
/// is NaN. numpy: `np.median(a, axis)` (numpy computes an f32
/// input's median in f32).
///
/// ```
/// use stridewise::{median_axes, NanHandling, StridedView};
///
/// let data = [3.0, 1.0, 2.0, 10.0, f64::NAN, 4.0];
/// let m = StridedView::contiguous(&data, &[2, 3]).unwrap();
/// let plain = median_axes(&m, Some(&[1]), NanHandling::Propagate).unwrap();
/// assert_eq!(plain.data[0], 2.0);
/// assert!(plain.data[1].is_nan());
/// assert_eq!(median_axes(&m, Some(&[1]), NanHandling::Ignore).unwrap().data[1], 7.0);
/// ```
pub fn median_axes<T: Element>(
    view: &StridedView<'_, T>,
    axes: Option<&[isize]>,
    nan: NanHandling,
) -> Result<Reduction<f64>, ReduceError> {
    let skip_nan = nan == NanHandling::Ignore;
    let sorted = layout::resolve_axes_or_all(axes, view.ndim())?;
    let n = select_driver::per_output(view.shape(), &sorted);
    let middle = |c: usize| {
        if c % 2 == 1 {
            [c / 2, c / 2]
        } else {
            [c / 2 - 1, c / 2]
        }
    };
    if n == 0 {
        return Err(ReduceError::Ranks);
    }
    // Without NaNs to leave out, every output holds `n` numbers (or is NaN).
    let rule =
        |c: usize, r: &mut [usize]| r.copy_from_slice(&middle(if skip_nan { c.max(1) } else { n }));
    // All-NaN outputs ask for rank 0 (a NaN) and stay NaN.
    let stats = order_statistics(view, axes, Ranks::ByCount { ranks: &rule, k: 2 })?;
    let data = stats
        .values
        .chunks_exact(2)
        .zip(&stats.counts)
        .map(|(ab, &c)| {
            if c == 0 || (!skip_nan && c < n) {
                f64::NAN
            } else {
                (ab[0].to_f64() + ab[1].to_f64()) / 2.0
            }
        })
        .collect();
    Ok(Reduction {
        shape: stats.shape,
        data,
        warning: None,
    })
}

/// Quantiles `q` (each in `[0, 1]`) of each output over `axes` (`None`: every axis) by
/// numpy's `method`, in f64: shape `[q.len(), kept axes...]` as numpy's for a 1-d `q`. An
/// output holding NaN is NaN with [`NanHandling::Propagate`] (numpy's `quantile`); with
/// [`NanHandling::Ignore`] (numpy's `nanquantile`) NaNs are left out and an output of only
/// NaNs is NaN. The formulas are numpy's, evaluated in f64: an f64 input's quantiles are
/// numpy's bit for bit (numpy computes an f32 input's in f32). The data is read once.
///
/// ```
/// use stridewise::{quantile_axes, NanHandling, QuantileMethod, StridedView};
///
/// let data = [10.0, 7.0, 4.0, 3.0, 2.0, 1.0];
/// let m = StridedView::contiguous(&data, &[2, 3]).unwrap();
/// // np.quantile(m, [0.5, 1.0], axis=1)
/// let r = quantile_axes(&m, Some(&[1]), &[0.5, 1.0], QuantileMethod::Linear, NanHandling::Propagate).unwrap();
/// assert_eq!(r.shape, vec![2, 2]);
/// assert_eq!(r.data, vec![7.0, 2.0, 10.0, 3.0]);
/// // np.quantile(m, 0.4, method="lower")
/// let all = quantile_axes(&m, None, &[0.4], QuantileMethod::Lower, NanHandling::Propagate).unwrap();
/// assert_eq!(all.data, vec![3.0]);
/// ```
pub fn quantile_axes<T: Element>(
    view: &StridedView<'_, T>,
    axes: Option<&[isize]>,
    q: &[f64],
    method: QuantileMethod,
    nan: NanHandling,
) -> Result<Reduction<f64>, ReduceError> {
    let sorted = layout::resolve_axes_or_all(axes, view.ndim())?;
    let mut data = vec![0.0; q.len() * select_driver::outputs(view.shape(), &sorted)];
    let skip_nan = nan == NanHandling::Ignore;
    // SAFETY: the view's contract: every element it reaches is a valid, aligned `T`,
    // shared-borrowed (unchanged) for the call.
    unsafe { select_driver::quantiles(source(view), &sorted, q, method, skip_nan, &mut data)? };
    let mut shape = vec![q.len()];
    shape.extend(layout::result_shape(view.shape(), Some(&sorted), false));
    Ok(Reduction {
        shape,
        data,
        warning: None,
    })
}

fn source<'v, T: Element>(view: &'v StridedView<'_, T>) -> select_driver::Source<'v> {
    select_driver::Source {
        elem: T::ELEM,
        base: view.as_ptr().cast(),
        shape: view.shape(),
        strides: view.strides(),
    }
}
