//! # stridewise
//!
//! Fast, accurate, deterministic reductions over any strided N-d array: `sum`, `mean`, `var`,
//! `std`, `min`, `max` and their NaN-ignoring variants, over the whole array or any set of
//! axes, for `f32`, `f64`, `i8`..`i64`, `u8`..`u64` and `bool`.
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
//! **Accuracy.** Float data is accumulated in f64 with blocked compensated summation (see
//! `kernels/sum.rs`): within about 1 ulp of the exact sum on well-conditioned data, along every
//! axis and layout. Integer sums are exact (then wrapped). var/std use a block-wise corrected
//! two-pass algorithm merged with Chan's formula, never `E[x²] - E[x]²`.
//!
//! **Determinism.** The same values in the same layout (shape and strides) give bitwise the
//! same result for any thread count, any base-pointer alignment and any SIMD level: the work is
//! cut into units that depend only on the layout, each lane does the same arithmetic at every
//! vector width, and partials are combined in a fixed tree.
//!
//! **Speed.** SIMD chosen at run time (AVX-512, AVX2 or scalar, through pulp), rayon threads
//! for inputs of more than [`PARALLEL_THRESHOLD`] elements. See [`set_num_threads`],
//! [`set_simd_level`] and the `STRIDEWISE_NUM_THREADS` / `STRIDEWISE_SIMD` variables.

mod aligned;
mod driver;
#[cfg(feature = "dynamic")]
pub mod dynamic;
mod element;
mod kernels;
pub mod layout;
#[cfg(feature = "ndarray")]
mod ndarray_interop;
mod probe;
mod simd;

pub use aligned::{AlignedArray, DEFAULT_ALIGN};
pub use element::Element;
pub use kernels::{Ignore, NanPolicy, Propagate};
pub use layout::{LayoutError, StridedView};
pub use probe::read_probe;
pub use simd::{
    available_simd_levels, best_simd_level, get_num_threads, set_num_threads, set_simd_level,
    simd_level, with_num_threads, with_simd_level, SimdLevel,
};

use driver::{reduce_all, reduce_axes};
use kernels::minmax::{MinMax, MinMaxPartial};
use kernels::sum::{FloatPartial, FloatSum, IntSum};
use kernels::var::{Var, VarPartial};
use kernels::Kernel;
use std::fmt;

/// Inputs with fewer elements than this are reduced on the calling thread.
pub const PARALLEL_THRESHOLD: usize = driver::PAR_MIN;

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

impl fmt::Display for Warning {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            Self::MeanOfEmptySlice => "Mean of empty slice",
            Self::DegreesOfFreedom => "Degrees of freedom <= 0 for slice",
            Self::AllNanSlice => "All-NaN slice encountered",
        })
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
}

impl fmt::Display for ReduceError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::Layout(e) => e.fmt(f),
            Self::EmptyMinMax { op } => write!(
                f,
                "zero-size array to reduction operation {op} which has no identity"
            ),
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

/// True when the NaN policy cannot matter (integer input under [`Ignore`]): such calls are
/// sent to the [`Propagate`] kernels so that integer kernels are compiled once, not twice.
const fn no_nan<T: Element, P: NanPolicy>() -> bool {
    P::IGNORE && !T::IS_FLOAT
}

/// Run `kernel` over the whole view.
fn whole<T: Element, K: Kernel<T>>(kernel: K, view: &StridedView<'_, T>) -> K::Partial {
    reduce_all(&kernel, view, simd_level())
}

/// Run `kernel` over `axes` and map each partial with `out`, which also returns its warning.
fn over_axes<T: Element, K: Kernel<T>, R>(
    kernel: K,
    view: &StridedView<'_, T>,
    axes: &[isize],
    out: impl Fn(K::Partial, usize) -> (R, Option<Warning>),
) -> Result<Reduction<R>, ReduceError> {
    let axes = layout::resolve_axes(axes, view.ndim())?;
    let n: usize = axes.iter().map(|&a| view.shape()[a]).product();
    let (shape, parts) = reduce_axes(&kernel, view, &axes, simd_level());
    let mut warning = None;
    let data = parts
        .into_iter()
        .map(|p| {
            let (v, w) = out(p, n);
            warning = warning.or(w);
            v
        })
        .collect();
    Ok(Reduction {
        shape,
        data,
        warning,
    })
}

fn sum_value<T: Element, P: NanPolicy>(view: &StridedView<'_, T>) -> T::Sum {
    if no_nan::<T, P>() {
        return sum_value::<T, Propagate>(view);
    }
    if T::IS_FLOAT {
        T::sum_from_f64(whole(FloatSum::<T, P>::new(), view).value())
    } else {
        T::sum_from_i128(whole(IntSum::<T>::new(), view))
    }
}

fn sum_axes_impl<T: Element, P: NanPolicy>(
    view: &StridedView<'_, T>,
    axes: &[isize],
) -> Result<Reduction<T::Sum>, ReduceError> {
    if no_nan::<T, P>() {
        return sum_axes_impl::<T, Propagate>(view, axes);
    }
    if T::IS_FLOAT {
        over_axes(FloatSum::<T, P>::new(), view, axes, |p, _| {
            (T::sum_from_f64(p.value()), None)
        })
    } else {
        over_axes(IntSum::<T>::new(), view, axes, |p, _| {
            (T::sum_from_i128(p), None)
        })
    }
}

/// Mean from a float partial: `n` is the element count under [`Propagate`], the non-NaN count
/// (in the partial) under [`Ignore`].
fn float_mean<T: Element, P: NanPolicy>(p: FloatPartial, n: usize) -> (T::Mean, Option<Warning>) {
    let n = if P::IGNORE && T::IS_FLOAT {
        p.n as usize
    } else {
        n
    };
    if n == 0 {
        return (T::mean_nan(), Some(Warning::MeanOfEmptySlice));
    }
    (T::mean_from_f64(p.value() / n as f64), None)
}

fn int_mean<T: Element>(s: i128, n: usize) -> (T::Mean, Option<Warning>) {
    if n == 0 {
        return (T::mean_nan(), Some(Warning::MeanOfEmptySlice));
    }
    (T::mean_from_f64(s as f64 / n as f64), None)
}

fn mean_value<T: Element, P: NanPolicy>(view: &StridedView<'_, T>) -> Reduced<T::Mean> {
    if no_nan::<T, P>() {
        return mean_value::<T, Propagate>(view);
    }
    let (value, warning) = if T::IS_FLOAT {
        float_mean::<T, P>(whole(FloatSum::<T, P>::new(), view), view.len())
    } else {
        int_mean::<T>(whole(IntSum::<T>::new(), view), view.len())
    };
    Reduced { value, warning }
}

fn mean_axes_impl<T: Element, P: NanPolicy>(
    view: &StridedView<'_, T>,
    axes: &[isize],
) -> Result<Reduction<T::Mean>, ReduceError> {
    if no_nan::<T, P>() {
        return mean_axes_impl::<T, Propagate>(view, axes);
    }
    if T::IS_FLOAT {
        over_axes(FloatSum::<T, P>::new(), view, axes, float_mean::<T, P>)
    } else {
        over_axes(IntSum::<T>::new(), view, axes, int_mean::<T>)
    }
}

/// numpy's `M2 / max(n - ddof, 0)` (so inf or NaN when `n <= ddof`), with its warning when
/// `n - ddof <= 0`; numpy's nanvar/nanstd make every such result NaN (`nan_if_no_dof`).
fn var_of(p: VarPartial, ddof: f64, sqrt: bool, nan_if_no_dof: bool) -> (f64, Option<Warning>) {
    let dof = p.n - ddof;
    let warning = (dof <= 0.0).then_some(Warning::DegreesOfFreedom);
    if nan_if_no_dof && dof <= 0.0 {
        return (f64::NAN, warning);
    }
    let v = p.m2 / dof.max(0.0);
    (if sqrt { v.sqrt() } else { v }, warning)
}

fn var_value<T: Element, P: NanPolicy>(
    view: &StridedView<'_, T>,
    ddof: f64,
    sqrt: bool,
) -> Reduced<T::Mean> {
    if no_nan::<T, P>() {
        return var_value::<T, Propagate>(view, ddof, sqrt);
    }
    let (v, warning) = var_of(whole(Var::<T, P>::new(), view), ddof, sqrt, P::IGNORE);
    Reduced {
        value: T::mean_from_f64(v),
        warning,
    }
}

fn var_axes_impl<T: Element, P: NanPolicy>(
    view: &StridedView<'_, T>,
    axes: &[isize],
    ddof: f64,
    sqrt: bool,
) -> Result<Reduction<T::Mean>, ReduceError> {
    if no_nan::<T, P>() {
        return var_axes_impl::<T, Propagate>(view, axes, ddof, sqrt);
    }
    over_axes(Var::<T, P>::new(), view, axes, |p, _| {
        let (v, w) = var_of(p, ddof, sqrt, P::IGNORE);
        (T::mean_from_f64(v), w)
    })
}

fn extreme_of<T: Element, P: NanPolicy>(p: MinMaxPartial<T>) -> (T, Option<Warning>) {
    if !T::IS_FLOAT {
        (p.best, None)
    } else if P::IGNORE {
        if p.flag {
            (p.best, None)
        } else {
            (p.best.nan_or_self(), Some(Warning::AllNanSlice))
        }
    } else if p.flag {
        (p.best.nan_or_self(), None)
    } else {
        (p.best, None)
    }
}

const fn minmax_name<const MAX: bool>() -> &'static str {
    if MAX {
        "maximum"
    } else {
        "minimum"
    }
}

fn extreme_value<T: Element, P: NanPolicy, const MAX: bool>(
    view: &StridedView<'_, T>,
) -> Result<Reduced<T>, ReduceError> {
    if no_nan::<T, P>() {
        return extreme_value::<T, Propagate, MAX>(view);
    }
    if view.is_empty() {
        return Err(ReduceError::EmptyMinMax {
            op: minmax_name::<MAX>(),
        });
    }
    let (value, warning) = extreme_of::<T, P>(whole(MinMax::<T, P, MAX>::new(), view));
    Ok(Reduced { value, warning })
}

fn extreme_axes_impl<T: Element, P: NanPolicy, const MAX: bool>(
    view: &StridedView<'_, T>,
    axes: &[isize],
) -> Result<Reduction<T>, ReduceError> {
    if no_nan::<T, P>() {
        return extreme_axes_impl::<T, Propagate, MAX>(view, axes);
    }
    let resolved = layout::resolve_axes(axes, view.ndim())?;
    if resolved.iter().any(|&a| view.shape()[a] == 0) {
        return Err(ReduceError::EmptyMinMax {
            op: minmax_name::<MAX>(),
        });
    }
    over_axes(MinMax::<T, P, MAX>::new(), view, axes, |p, _| {
        extreme_of::<T, P>(p)
    })
}

/// Sum of all elements (NaN propagates). numpy: `np.sum(a)`.
pub fn sum<T: Element>(view: &StridedView<'_, T>) -> T::Sum {
    sum_value::<T, Propagate>(view)
}

/// Sum of all non-NaN elements. numpy: `np.nansum(a)`.
pub fn nansum<T: Element>(view: &StridedView<'_, T>) -> T::Sum {
    sum_value::<T, Ignore>(view)
}

/// Sum over `axes` (numpy-style: negative counts from the end). numpy: `np.sum(a, axis)`.
pub fn sum_axes<T: Element>(
    view: &StridedView<'_, T>,
    axes: &[isize],
) -> Result<Reduction<T::Sum>, ReduceError> {
    sum_axes_impl::<T, Propagate>(view, axes)
}

/// NaN-skipping sum over `axes`. numpy: `np.nansum(a, axis)`.
pub fn nansum_axes<T: Element>(
    view: &StridedView<'_, T>,
    axes: &[isize],
) -> Result<Reduction<T::Sum>, ReduceError> {
    sum_axes_impl::<T, Ignore>(view, axes)
}

/// Mean of all elements. numpy: `np.mean(a)`.
pub fn mean<T: Element>(view: &StridedView<'_, T>) -> Reduced<T::Mean> {
    mean_value::<T, Propagate>(view)
}

/// Mean of the non-NaN elements. numpy: `np.nanmean(a)`.
pub fn nanmean<T: Element>(view: &StridedView<'_, T>) -> Reduced<T::Mean> {
    mean_value::<T, Ignore>(view)
}

/// Mean over `axes`. numpy: `np.mean(a, axis)`.
pub fn mean_axes<T: Element>(
    view: &StridedView<'_, T>,
    axes: &[isize],
) -> Result<Reduction<T::Mean>, ReduceError> {
    mean_axes_impl::<T, Propagate>(view, axes)
}

/// NaN-skipping mean over `axes`. numpy: `np.nanmean(a, axis)`.
pub fn nanmean_axes<T: Element>(
    view: &StridedView<'_, T>,
    axes: &[isize],
) -> Result<Reduction<T::Mean>, ReduceError> {
    mean_axes_impl::<T, Ignore>(view, axes)
}

/// Variance with `ddof` delta degrees of freedom. numpy: `np.var(a, ddof=ddof)`.
pub fn var<T: Element>(view: &StridedView<'_, T>, ddof: f64) -> Reduced<T::Mean> {
    var_value::<T, Propagate>(view, ddof, false)
}

/// Standard deviation. numpy: `np.std(a, ddof=ddof)`.
pub fn std<T: Element>(view: &StridedView<'_, T>, ddof: f64) -> Reduced<T::Mean> {
    var_value::<T, Propagate>(view, ddof, true)
}

/// Variance of the non-NaN elements. numpy: `np.nanvar(a, ddof=ddof)`.
pub fn nanvar<T: Element>(view: &StridedView<'_, T>, ddof: f64) -> Reduced<T::Mean> {
    var_value::<T, Ignore>(view, ddof, false)
}

/// Standard deviation of the non-NaN elements. numpy: `np.nanstd(a, ddof=ddof)`.
pub fn nanstd<T: Element>(view: &StridedView<'_, T>, ddof: f64) -> Reduced<T::Mean> {
    var_value::<T, Ignore>(view, ddof, true)
}

/// Variance over `axes`. numpy: `np.var(a, axis, ddof=ddof)`.
pub fn var_axes<T: Element>(
    view: &StridedView<'_, T>,
    axes: &[isize],
    ddof: f64,
) -> Result<Reduction<T::Mean>, ReduceError> {
    var_axes_impl::<T, Propagate>(view, axes, ddof, false)
}

/// Standard deviation over `axes`. numpy: `np.std(a, axis, ddof=ddof)`.
pub fn std_axes<T: Element>(
    view: &StridedView<'_, T>,
    axes: &[isize],
    ddof: f64,
) -> Result<Reduction<T::Mean>, ReduceError> {
    var_axes_impl::<T, Propagate>(view, axes, ddof, true)
}

/// NaN-skipping variance over `axes`. numpy: `np.nanvar(a, axis, ddof=ddof)`.
pub fn nanvar_axes<T: Element>(
    view: &StridedView<'_, T>,
    axes: &[isize],
    ddof: f64,
) -> Result<Reduction<T::Mean>, ReduceError> {
    var_axes_impl::<T, Ignore>(view, axes, ddof, false)
}

/// NaN-skipping standard deviation over `axes`. numpy: `np.nanstd(a, axis, ddof=ddof)`.
pub fn nanstd_axes<T: Element>(
    view: &StridedView<'_, T>,
    axes: &[isize],
    ddof: f64,
) -> Result<Reduction<T::Mean>, ReduceError> {
    var_axes_impl::<T, Ignore>(view, axes, ddof, true)
}

/// Smallest element; NaN if any element is NaN. numpy: `np.min(a)`.
pub fn min<T: Element>(view: &StridedView<'_, T>) -> Result<T, ReduceError> {
    extreme_value::<T, Propagate, false>(view).map(|r| r.value)
}

/// Largest element; NaN if any element is NaN. numpy: `np.max(a)`.
pub fn max<T: Element>(view: &StridedView<'_, T>) -> Result<T, ReduceError> {
    extreme_value::<T, Propagate, true>(view).map(|r| r.value)
}

/// Smallest non-NaN element (NaN and a warning if all are NaN). numpy: `np.nanmin(a)`.
pub fn nanmin<T: Element>(view: &StridedView<'_, T>) -> Result<Reduced<T>, ReduceError> {
    extreme_value::<T, Ignore, false>(view)
}

/// Largest non-NaN element (NaN and a warning if all are NaN). numpy: `np.nanmax(a)`.
pub fn nanmax<T: Element>(view: &StridedView<'_, T>) -> Result<Reduced<T>, ReduceError> {
    extreme_value::<T, Ignore, true>(view)
}

/// Minimum over `axes`. numpy: `np.min(a, axis)`.
pub fn min_axes<T: Element>(
    view: &StridedView<'_, T>,
    axes: &[isize],
) -> Result<Reduction<T>, ReduceError> {
    extreme_axes_impl::<T, Propagate, false>(view, axes)
}

/// Maximum over `axes`. numpy: `np.max(a, axis)`.
pub fn max_axes<T: Element>(
    view: &StridedView<'_, T>,
    axes: &[isize],
) -> Result<Reduction<T>, ReduceError> {
    extreme_axes_impl::<T, Propagate, true>(view, axes)
}

/// NaN-skipping minimum over `axes`. numpy: `np.nanmin(a, axis)`.
pub fn nanmin_axes<T: Element>(
    view: &StridedView<'_, T>,
    axes: &[isize],
) -> Result<Reduction<T>, ReduceError> {
    extreme_axes_impl::<T, Ignore, false>(view, axes)
}

/// NaN-skipping maximum over `axes`. numpy: `np.nanmax(a, axis)`.
pub fn nanmax_axes<T: Element>(
    view: &StridedView<'_, T>,
    axes: &[isize],
) -> Result<Reduction<T>, ReduceError> {
    extreme_axes_impl::<T, Ignore, true>(view, axes)
}

/// The README's examples, compiled and run as doctests.
#[cfg(doctest)]
#[doc = include_str!("../../../README.md")]
pub struct ReadmeDoctests;
