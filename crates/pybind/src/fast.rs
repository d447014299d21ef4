//! The short road of the commonest small calls: `sum(a)`, `mean(a)`, `nansum(a)`,
//! `nanmean(a)` of a small float64 or float32 ndarray, and `min(a)`, `max(a)` of one of any
//! kernel number type, that the kernels read as it is (C-contiguous, aligned, native byte
//! order), every other argument at numpy's default. It skips binding the keywords, the plan
//! and the executor's casts and warnings, which cost more than the kernel itself below a few
//! thousand elements (one Zen 4 thread: `mean` of 1e3 f64 about 0.84 us a call, 0.73 us of
//! it for 10 elements).
//!
//! Same answer, same type as the long road: the same kernels (`stridewise::sum`, `mean`,
//! `nansum`, `nanmean`, `min`, `max`), and a numpy scalar of the dtype numpy gives (float64
//! and float32 sums and means in their own type, min and max in the input's). Anything
//! else, and any float result that is not finite (numpy's warnings are the executor's), goes
//! the long road.

use crate::exec::{scalar, GIL_RELEASE_MIN};
use crate::rules::{no_value, Kw, Op, Slot, POSITIONS};
use numpy::npyffi::{self, NPY_ARRAY_ALIGNED, NPY_ARRAY_C_CONTIGUOUS, NPY_TYPES};
use numpy::{PyArrayDescrMethods, PyUntypedArray, PyUntypedArrayMethods};
use pyo3::prelude::*;
use stridewise::{Element, StridedView};

/// The result of `func` on `a` by the short road, or `None` where the call is not one it takes.
pub fn whole<'py>(
    py: Python<'py>,
    func: &str,
    a: &Bound<'py, PyAny>,
    slots: &[Slot<'py>; POSITIONS],
) -> PyResult<Option<Bound<'py, PyAny>>> {
    let op = match func {
        "sum" => Op::Sum,
        "mean" => Op::Mean,
        "nansum" => Op::NanSum,
        "nanmean" => Op::NanMean,
        "min" => Op::Min,
        "max" => Op::Max,
        _ => return Ok(None),
    };
    // An ndarray itself: subclasses (matrix, masked arrays) have their own rules.
    // SAFETY: `a` is a live object; only its type is read.
    let exact = unsafe { npyffi::PyArray_CheckExact(py, a.as_ptr()) } != 0;
    if !exact || !defaults(py, op, slots)? {
        return Ok(None);
    }
    let arr = a.cast::<PyUntypedArray>()?;
    let len = arr.len();
    // SAFETY: `arr` is a live ndarray; its flags field is read.
    let flags = unsafe { (*arr.as_array_ptr()).fields.flags };
    let read_in_place = NPY_ARRAY_C_CONTIGUOUS | NPY_ARRAY_ALIGNED;
    if len == 0 || len >= GIL_RELEASE_MIN || flags & read_in_place != read_in_place {
        return Ok(None);
    }
    let dtype = arr.dtype();
    if dtype.is_native_byteorder() == Some(false) {
        return Ok(None);
    }
    let n = dtype.num();
    let is = |t: NPY_TYPES| n == t as i32;
    if is(NPY_TYPES::NPY_DOUBLE) {
        return float::<f64>(py, op, arr, len);
    }
    if is(NPY_TYPES::NPY_FLOAT) {
        return float::<f32>(py, op, arr, len);
    }
    if !matches!(op, Op::Min | Op::Max) {
        return Ok(None);
    }
    // min and max of the integer types, by numpy's own numbers for them (`NPY_LONG` is
    // int64 here; an array of `NPY_LONGLONG`, another type object, goes the long road).
    macro_rules! by_type {
        ($($num:ident => $t:ty),* $(,)?) => {
            $(if is(NPY_TYPES::$num) {
                return on::<$t, _>(py, arr, len, |view| extreme(op, view));
            })*
        };
    }
    by_type!(NPY_BYTE => i8, NPY_UBYTE => u8, NPY_SHORT => i16, NPY_USHORT => u16);
    by_type!(NPY_INT => i32, NPY_UINT => u32);
    if std::mem::size_of::<std::ffi::c_long>() == 8 {
        by_type!(NPY_LONG => i64, NPY_ULONG => u64);
    }
    Ok(None)
}

/// Whether every argument after `a` is absent or numpy's own default: `None` for axis,
/// dtype and out, `numpy._NoValue` for the others.
fn defaults<'py>(py: Python<'py>, op: Op, slots: &[Slot<'py>; POSITIONS]) -> PyResult<bool> {
    let keywords = op.info().keywords;
    let no_value = no_value(py)?;
    for (i, slot) in slots.iter().enumerate() {
        let Slot::Given(v) = slot else { continue };
        let Some(&kw) = keywords.get(i) else {
            return Ok(false);
        };
        let default = if matches!(kw, Kw::Axis | Kw::Dtype | Kw::Out) {
            v.is_none()
        } else {
            op.defaults_to_no_value(kw) && v.is(&no_value)
        };
        if !default {
            return Ok(false);
        }
    }
    Ok(true)
}

/// `f` on the `len` elements of `arr` (C-contiguous, aligned, native `T`, `len >= 1`: the
/// caller checked the dtype number, byte order and flags) as one axis; its value as a numpy
/// scalar, or `None` where `f` declines.
fn on<'py, T: Element, R: numpy::Element>(
    py: Python<'py>,
    arr: &Bound<'py, PyUntypedArray>,
    len: usize,
    f: impl FnOnce(&StridedView<'_, T>) -> Option<R>,
) -> PyResult<Option<Bound<'py, PyAny>>> {
    // SAFETY: the data is `len` initialised, aligned `T`s (the caller's checks), alive while
    // `arr` is borrowed, which outlives the slice; the kernels only read it (another thread
    // writing the array meanwhile is the caller's race, as for numpy's own ufuncs).
    let data =
        unsafe { std::slice::from_raw_parts((*arr.as_array_ptr()).fields.data as *const T, len) };
    let view = StridedView::from_1d(data);
    f(&view).map(|v| scalar(py, v)).transpose()
}

/// `op` (any of the short road's) of a float type through [`on`].
fn float<'py, T>(
    py: Python<'py>,
    op: Op,
    arr: &Bound<'py, PyUntypedArray>,
    len: usize,
) -> PyResult<Option<Bound<'py, PyAny>>>
where
    T: Element<Sum = T, Mean = T> + numpy::Element,
{
    on::<T, T>(py, arr, len, |view| {
        let value = match op {
            Op::Min | Op::Max => return extreme(op, view),
            Op::Sum => stridewise::sum(view),
            Op::NanSum => stridewise::nansum(view),
            Op::Mean => no_warning(stridewise::mean(view))?,
            _ => no_warning(stridewise::nanmean(view))?,
        };
        finite(value)
    })
}

/// min or max (`op`) of `view`; `None` for a float result that is not finite (NaN or an
/// infinity: the long road decides, as for every other such result).
fn extreme<T: Element>(op: Op, view: &StridedView<'_, T>) -> Option<T> {
    let found = if op == Op::Min {
        stridewise::min(view)
    } else {
        stridewise::max(view)
    };
    finite(found.ok()?)
}

/// The value, where numpy has no warning for it.
fn no_warning<R>(r: stridewise::Reduced<R>) -> Option<R> {
    r.warning.is_none().then_some(r.value)
}

/// `value`, unless it is a float that is not finite (numpy's warnings for those are the
/// executor's).
fn finite<T: Element>(value: T) -> Option<T> {
    (!T::IS_FLOAT || value.to_f64().is_finite()).then_some(value)
}
