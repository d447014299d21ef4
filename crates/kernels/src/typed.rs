//! The reductions, generic over the element type and the NaN policy. They are instantiated
//! only by [`crate::dynamic`]; the public functions of the crate root reach them through it.

use crate::driver::{reduce_all, reduce_axes};
use crate::element::{FloatElement, IntElement};
use crate::kernels::minmax::{MinMax, MinMaxPartial};
use crate::kernels::sum::{FloatPartial, FloatSum, IntSum};
use crate::kernels::var::{Var, VarPartial};
use crate::kernels::Kernel;
use crate::{layout, simd_level, Element, NanPolicy, Propagate, ReduceError, Reduced};
use crate::{Reduction, StridedView, Warning};

/// True when the NaN policy cannot matter (integer input under [`crate::Ignore`]): such calls are
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

pub(crate) fn float_sum_value<T: FloatElement, P: NanPolicy>(view: &StridedView<'_, T>) -> T::Sum {
    T::sum_from_f64(whole(FloatSum::<T, P>::new(), view).value())
}

/// Integer sums are exact, so the NaN policy plays no part.
pub(crate) fn int_sum_value<T: IntElement>(view: &StridedView<'_, T>) -> T::Sum {
    T::sum_from_i128(whole(IntSum::<T>::new(), view))
}

pub(crate) fn float_sum_axes<T: FloatElement, P: NanPolicy>(
    view: &StridedView<'_, T>,
    axes: &[isize],
) -> Result<Reduction<T::Sum>, ReduceError> {
    over_axes(FloatSum::<T, P>::new(), view, axes, |p, _| {
        (T::sum_from_f64(p.value()), None)
    })
}

pub(crate) fn int_sum_axes<T: IntElement>(
    view: &StridedView<'_, T>,
    axes: &[isize],
) -> Result<Reduction<T::Sum>, ReduceError> {
    over_axes(IntSum::<T>::new(), view, axes, |p, _| {
        (T::sum_from_i128(p), None)
    })
}

/// Mean from a float partial: `n` is the element count under [`Propagate`], the non-NaN count
/// (in the partial) under [`crate::Ignore`].
fn float_mean<T: FloatElement, P: NanPolicy>(
    p: FloatPartial,
    n: usize,
) -> (T::Mean, Option<Warning>) {
    let n = if P::IGNORE { p.n as usize } else { n };
    if n == 0 {
        return (T::mean_nan(), Some(Warning::MeanOfEmptySlice));
    }
    (T::mean_from_f64(p.value() / n as f64), None)
}

fn int_mean<T: IntElement>(s: i128, n: usize) -> (T::Mean, Option<Warning>) {
    if n == 0 {
        return (T::mean_nan(), Some(Warning::MeanOfEmptySlice));
    }
    (T::mean_from_f64(s as f64 / n as f64), None)
}

pub(crate) fn float_mean_value<T: FloatElement, P: NanPolicy>(
    view: &StridedView<'_, T>,
) -> Reduced<T::Mean> {
    let (value, warning) = float_mean::<T, P>(whole(FloatSum::<T, P>::new(), view), view.len());
    Reduced { value, warning }
}

pub(crate) fn int_mean_value<T: IntElement>(view: &StridedView<'_, T>) -> Reduced<T::Mean> {
    let (value, warning) = int_mean::<T>(whole(IntSum::<T>::new(), view), view.len());
    Reduced { value, warning }
}

pub(crate) fn float_mean_axes<T: FloatElement, P: NanPolicy>(
    view: &StridedView<'_, T>,
    axes: &[isize],
) -> Result<Reduction<T::Mean>, ReduceError> {
    over_axes(FloatSum::<T, P>::new(), view, axes, float_mean::<T, P>)
}

pub(crate) fn int_mean_axes<T: IntElement>(
    view: &StridedView<'_, T>,
    axes: &[isize],
) -> Result<Reduction<T::Mean>, ReduceError> {
    over_axes(IntSum::<T>::new(), view, axes, int_mean::<T>)
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

pub(crate) fn var_value<T: Element, P: NanPolicy>(
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

pub(crate) fn var_axes<T: Element, P: NanPolicy>(
    view: &StridedView<'_, T>,
    axes: &[isize],
    ddof: f64,
    sqrt: bool,
) -> Result<Reduction<T::Mean>, ReduceError> {
    if no_nan::<T, P>() {
        return var_axes::<T, Propagate>(view, axes, ddof, sqrt);
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

pub(crate) fn extreme_value<T: Element, P: NanPolicy, const MAX: bool>(
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

pub(crate) fn extreme_axes<T: Element, P: NanPolicy, const MAX: bool>(
    view: &StridedView<'_, T>,
    axes: &[isize],
) -> Result<Reduction<T>, ReduceError> {
    if no_nan::<T, P>() {
        return extreme_axes::<T, Propagate, MAX>(view, axes);
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
