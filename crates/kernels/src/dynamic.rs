//! A type-erased entry point: the element type and the reduction are values, the memory is a
//! pointer with strides.
//!
//! Every (type, reduction) pair is instantiated here, in this crate, once; every other way in
//! comes through [`reduce_elements`]: the generic functions of the crate root, and the
//! bindings through [`crate::RawArray`] (memory described by foreign producers). So a crate
//! that calls them, the test binaries included, links the kernels compiled here instead of
//! instantiating every kernel at every SIMD level again.

use crate::element::{Bool8, FloatElement, IntElement};
pub use crate::element::{ElemType, Values};
pub use crate::ops::Op;
use crate::ops::{Family, NanHandling};
use crate::{Element, ReduceError, Reduced, Reduction, StridedView, Value, Warning};

/// The result of a type-erased reduction: `shape` is empty for a full reduction (one value).
#[derive(Clone, Debug, PartialEq)]
pub struct Outcome {
    /// The kept axes, in order (`[]` for a full reduction).
    pub shape: Vec<usize>,
    /// The values in C order.
    pub values: Values,
    /// numpy's RuntimeWarning, if any.
    pub warning: Option<Warning>,
}

impl Outcome {
    /// The one value of a full reduction, typed.
    pub(crate) fn into_reduced<R: Value>(self) -> Reduced<R> {
        let v = R::from_values(self.values).expect("the result type of the reduction");
        debug_assert_eq!(v.len(), 1);
        Reduced {
            value: v[0],
            warning: self.warning,
        }
    }

    /// The values of an axis reduction, typed.
    pub(crate) fn into_reduction<R: Value>(self) -> Reduction<R> {
        Reduction {
            shape: self.shape,
            data: R::from_values(self.values).expect("the result type of the reduction"),
            warning: self.warning,
        }
    }
}

fn whole<R: Value>(r: Reduced<R>) -> Outcome {
    Outcome {
        shape: Vec::new(),
        values: R::into_values(vec![r.value]),
        warning: r.warning,
    }
}

fn axes<R: Value>(r: Reduction<R>) -> Outcome {
    Outcome {
        shape: r.shape,
        values: R::into_values(r.data),
        warning: r.warning,
    }
}

fn plain<R>(value: R) -> Reduced<R> {
    Reduced {
        value,
        warning: None,
    }
}

/// sum and mean (and their nan-variants) of float elements.
fn float_sums<T: FloatElement>(
    op: Op,
    view: &StridedView<'_, T>,
    over: Option<&[isize]>,
) -> Result<Outcome, ReduceError> {
    use crate::typed as t;
    use crate::{Ignore as I, Propagate as P};
    use Family as F;
    use NanHandling::{Ignore, Propagate};
    let info = op.info();
    let Some(a) = over else {
        return Ok(match (info.family, info.nan) {
            (F::Sum, Propagate) => whole(plain(t::float_sum_value::<T, P>(view))),
            (F::Sum, Ignore) => whole(plain(t::float_sum_value::<T, I>(view))),
            (F::Mean, Propagate) => whole(t::float_mean_value::<T, P>(view)),
            (F::Mean, Ignore) => whole(t::float_mean_value::<T, I>(view)),
            _ => unreachable!("not a sum or mean"),
        });
    };
    Ok(match (info.family, info.nan) {
        (F::Sum, Propagate) => axes(t::float_sum_axes::<T, P>(view, a)?),
        (F::Sum, Ignore) => axes(t::float_sum_axes::<T, I>(view, a)?),
        (F::Mean, Propagate) => axes(t::float_mean_axes::<T, P>(view, a)?),
        (F::Mean, Ignore) => axes(t::float_mean_axes::<T, I>(view, a)?),
        _ => unreachable!("not a sum or mean"),
    })
}

/// sum and mean of integer elements (exact, so the nan-variants are the same).
fn int_sums<T: IntElement>(
    op: Op,
    view: &StridedView<'_, T>,
    over: Option<&[isize]>,
) -> Result<Outcome, ReduceError> {
    use crate::typed as t;
    let family = op.info().family;
    let Some(a) = over else {
        return Ok(match family {
            Family::Sum => whole(plain(t::int_sum_value::<T>(view))),
            Family::Mean => whole(t::int_mean_value::<T>(view)),
            _ => unreachable!("not a sum or mean"),
        });
    };
    Ok(match family {
        Family::Sum => axes(t::int_sum_axes::<T>(view, a)?),
        Family::Mean => axes(t::int_mean_axes::<T>(view, a)?),
        _ => unreachable!("not a sum or mean"),
    })
}

/// var and std (and their nan-variants) of `view`.
fn variances<T: Element>(
    op: Op,
    view: &StridedView<'_, T>,
    over: Option<&[isize]>,
    ddof: f64,
) -> Result<Outcome, ReduceError> {
    use crate::typed as t;
    use crate::{Ignore as I, Propagate as P};
    let info = op.info();
    debug_assert_eq!(info.family, Family::Var);
    let sqrt = info.sqrt;
    let Some(a) = over else {
        return Ok(match info.nan {
            NanHandling::Propagate => whole(t::var_value::<T, P>(view, ddof, sqrt)),
            NanHandling::Ignore => whole(t::var_value::<T, I>(view, ddof, sqrt)),
        });
    };
    Ok(match info.nan {
        NanHandling::Propagate => axes(t::var_axes::<T, P>(view, a, ddof, sqrt)?),
        NanHandling::Ignore => axes(t::var_axes::<T, I>(view, a, ddof, sqrt)?),
    })
}

/// min and max (and their nan-variants) of `view`.
fn extremes<T: Element>(
    op: Op,
    view: &StridedView<'_, T>,
    over: Option<&[isize]>,
) -> Result<Outcome, ReduceError> {
    use crate::typed as t;
    use crate::{Ignore as I, Propagate as P};
    use NanHandling::{Ignore, Propagate};
    let info = op.info();
    debug_assert_eq!(info.family, Family::Extreme);
    let Some(a) = over else {
        return Ok(match (info.max, info.nan) {
            (false, Propagate) => whole(t::extreme_value::<T, P, false>(view)?),
            (true, Propagate) => whole(t::extreme_value::<T, P, true>(view)?),
            (false, Ignore) => whole(t::extreme_value::<T, I, false>(view)?),
            (true, Ignore) => whole(t::extreme_value::<T, I, true>(view)?),
        });
    };
    Ok(match (info.max, info.nan) {
        (false, Propagate) => axes(t::extreme_axes::<T, P, false>(view, a)?),
        (true, Propagate) => axes(t::extreme_axes::<T, P, true>(view, a)?),
        (false, Ignore) => axes(t::extreme_axes::<T, I, false>(view, a)?),
        (true, Ignore) => axes(t::extreme_axes::<T, I, true>(view, a)?),
    })
}

/// Reduce float elements with `op`.
fn reduce_float<T: FloatElement>(
    op: Op,
    view: &StridedView<'_, T>,
    over: Option<&[isize]>,
    ddof: f64,
) -> Result<Outcome, ReduceError> {
    match op.info().family {
        Family::Sum | Family::Mean => float_sums(op, view, over),
        Family::Var => variances(op, view, over, ddof),
        Family::Extreme => extremes(op, view, over),
    }
}

/// Reduce integer elements with `op`.
fn reduce_int<T: IntElement>(
    op: Op,
    view: &StridedView<'_, T>,
    over: Option<&[isize]>,
    ddof: f64,
) -> Result<Outcome, ReduceError> {
    match op.info().family {
        Family::Sum | Family::Mean => int_sums(op, view, over),
        Family::Var => variances(op, view, over, ddof),
        Family::Extreme => extremes(op, view, over),
    }
}

/// Reduce the `elem`s at `ptr` with element strides over `over` (`None`: every axis): the
/// one place where every (type, reduction) pair is instantiated.
///
/// # Safety
/// As [`StridedView::from_raw_parts`] for elements of type `elem`: for the duration of the
/// call every element `ptr + Σ i_k * strides[k] * size` (`0 <= i_k < shape[k]`) is a valid,
/// initialised, aligned `elem` that nobody mutates (for [`ElemType::Bool`], any byte), the
/// extent fits `isize`, and `shape.len() == strides.len()`.
pub(crate) unsafe fn reduce_elements(
    elem: ElemType,
    op: Op,
    ptr: *const u8,
    shape: &[usize],
    strides: &[isize],
    over: Option<&[isize]>,
    ddof: f64,
) -> Result<Outcome, ReduceError> {
    /// The view of the memory as `$t` (the caller's contract, for elements of that type).
    macro_rules! view {
        ($t:ty) => {
            // SAFETY: the caller's contract, for elements of type `$t`.
            unsafe { StridedView::<$t>::from_raw_parts(ptr.cast::<$t>(), shape, strides) }
        };
    }
    match elem {
        // Bool: sums and variances count nonzero bytes; min/max of the bytes as u8 are
        // nonzero exactly when numpy's logical and/or of them is true.
        ElemType::Bool if op.info().family == Family::Extreme => {
            let out = extremes(op, &view!(u8), over)?;
            let Values::U8(v) = out.values else {
                unreachable!("min/max of u8 is u8")
            };
            Ok(Outcome {
                values: Values::Bool(v.into_iter().map(|b| b != 0).collect()),
                ..out
            })
        }
        // (A separate arm, not `reduce_int`, so no min/max kernel is compiled for Bool8.)
        ElemType::Bool => match op.info().family {
            Family::Sum | Family::Mean => int_sums(op, &view!(Bool8), over),
            _ => variances(op, &view!(Bool8), over, ddof),
        },
        ElemType::I8 => reduce_int(op, &view!(i8), over, ddof),
        ElemType::I16 => reduce_int(op, &view!(i16), over, ddof),
        ElemType::I32 => reduce_int(op, &view!(i32), over, ddof),
        ElemType::I64 => reduce_int(op, &view!(i64), over, ddof),
        ElemType::U8 => reduce_int(op, &view!(u8), over, ddof),
        ElemType::U16 => reduce_int(op, &view!(u16), over, ddof),
        ElemType::U32 => reduce_int(op, &view!(u32), over, ddof),
        ElemType::U64 => reduce_int(op, &view!(u64), over, ddof),
        ElemType::F32 => reduce_float(op, &view!(f32), over, ddof),
        ElemType::F64 => reduce_float(op, &view!(f64), over, ddof),
    }
}

/// [`reduce_elements`] on a typed view.
pub(crate) fn reduce_typed<T: Element>(
    op: Op,
    view: &StridedView<'_, T>,
    over: Option<&[isize]>,
    ddof: f64,
) -> Result<Outcome, ReduceError> {
    // SAFETY: a view's elements are valid, shared `T`s for its lifetime, which outlives this
    // call, and `T::ELEM` names `T` (a `bool` is a byte of 0 or 1).
    unsafe {
        reduce_elements(
            T::ELEM,
            op,
            view.as_ptr().cast::<u8>(),
            view.shape(),
            view.strides(),
            over,
            ddof,
        )
    }
}
