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
    if matches!(op, Op::Min | Op::Max) {
        // The integer types by numpy's own numbers for them (`NPY_LONG` is int64 here; an
        // array of `NPY_LONGLONG`, another type object, goes the long road).
        let n = dtype.num();
        let is = |t: NPY_TYPES| n == t as i32;
        return if is(NPY_TYPES::NPY_DOUBLE) {
            extreme::<f64>(py, op, arr, len)
        } else if is(NPY_TYPES::NPY_FLOAT) {
            extreme::<f32>(py, op, arr, len)
        } else if is(NPY_TYPES::NPY_BYTE) {
            extreme::<i8>(py, op, arr, len)
        } else if is(NPY_TYPES::NPY_UBYTE) {
            extreme::<u8>(py, op, arr, len)
        } else if is(NPY_TYPES::NPY_SHORT) {
            extreme::<i16>(py, op, arr, len)
        } else if is(NPY_TYPES::NPY_USHORT) {
            extreme::<u16>(py, op, arr, len)
        } else if is(NPY_TYPES::NPY_INT) {
            extreme::<i32>(py, op, arr, len)
        } else if is(NPY_TYPES::NPY_UINT) {
            extreme::<u32>(py, op, arr, len)
        } else if is(NPY_TYPES::NPY_LONG) && std::mem::size_of::<std::ffi::c_long>() == 8 {
            extreme::<i64>(py, op, arr, len)
        } else if is(NPY_TYPES::NPY_ULONG) && std::mem::size_of::<std::ffi::c_ulong>() == 8 {
            extreme::<u64>(py, op, arr, len)
        } else {
            Ok(None)
        };
    }
    match dtype.num() {
        n if n == NPY_TYPES::NPY_DOUBLE as i32 => reduced::<f64>(py, op, arr, len),
        n if n == NPY_TYPES::NPY_FLOAT as i32 => reduced::<f32>(py, op, arr, len),
        _ => Ok(None),
    }
}

/// The `len` elements of `arr` as a slice.
///
/// # Safety
/// `arr` must be a live, C-contiguous, aligned ndarray of `len >= 1` native `T`s.
unsafe fn data_of<'a, T>(arr: &'a Bound<'_, PyUntypedArray>, len: usize) -> &'a [T] {
    // SAFETY: our contract: the data is `len` initialised, aligned `T`s, alive while `arr`
    // is borrowed; the kernels only read it (another thread writing the array meanwhile is
    // the caller's race, as for numpy's own ufuncs).
    unsafe { std::slice::from_raw_parts((*arr.as_array_ptr()).fields.data as *const T, len) }
}

/// min or max (`op`) of the `len` elements of `arr` (C-contiguous, aligned, native `T`), as
/// a numpy scalar of `T`; `None` for a float result that is not finite (NaN or an infinity:
/// the long road decides, as for every other such result).
fn extreme<'py, T>(
    py: Python<'py>,
    op: Op,
    arr: &Bound<'py, PyUntypedArray>,
    len: usize,
) -> PyResult<Option<Bound<'py, PyAny>>>
where
    T: Element + numpy::Element,
{
    // SAFETY: the caller checked the dtype number, byte order, flags and `len >= 1`.
    let data = unsafe { data_of::<T>(arr, len) };
    let view = StridedView::contiguous(data, &[len]).expect("len elements, one axis");
    let found = if op == Op::Min {
        stridewise::min(&view)
    } else {
        stridewise::max(&view)
    };
    let Ok(value) = found else {
        return Ok(None);
    };
    if T::IS_FLOAT && !value.to_f64().is_finite() {
        return Ok(None);
    }
    scalar(py, value).map(Some)
}

/// Whether every argument after `a` is absent or numpy's own default: `None` for axis,
/// dtype and out, `numpy._NoValue` for the others.
fn defaults<'py>(py: Python<'py>, op: Op, slots: &[Slot<'py>; POSITIONS]) -> PyResult<bool> {
    let keywords = op.info().keywords;
    for (i, slot) in slots.iter().enumerate() {
        let Slot::Given(v) = slot else { continue };
        let Some(&kw) = keywords.get(i) else {
            return Ok(false);
        };
        let default = if matches!(kw, Kw::Axis | Kw::Dtype | Kw::Out) {
            v.is_none()
        } else {
            op.defaults_to_no_value(kw) && v.is(&no_value(py)?)
        };
        if !default {
            return Ok(false);
        }
    }
    Ok(true)
}

/// `op` over the `len` elements of `arr` (C-contiguous, aligned, native `T`), as a numpy
/// scalar; `None` where the result is not finite or comes with a warning.
fn reduced<'py, T>(
    py: Python<'py>,
    op: Op,
    arr: &Bound<'py, PyUntypedArray>,
    len: usize,
) -> PyResult<Option<Bound<'py, PyAny>>>
where
    T: Element<Sum = T, Mean = T> + numpy::Element + Into<f64>,
{
    // SAFETY: the caller checked the dtype number, byte order, flags and `len >= 1`.
    let data = unsafe { data_of::<T>(arr, len) };
    let view = StridedView::contiguous(data, &[len]).expect("len elements, one axis");
    let value = match op {
        Op::Sum => stridewise::sum(&view),
        Op::NanSum => stridewise::nansum(&view),
        _ => {
            let m = if op == Op::Mean {
                stridewise::mean(&view)
            } else {
                stridewise::nanmean(&view)
            };
            if m.warning.is_some() {
                return Ok(None);
            }
            m.value
        }
    };
    if !value.into().is_finite() {
        return Ok(None);
    }
    scalar(py, value).map(Some)
}
