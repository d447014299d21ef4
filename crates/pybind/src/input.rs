//! The ways arrays come in: which inputs the kernels take, and the numpy adapter that turns an
//! ndarray into the kernels' neutral description, a [`RawArray`] (memory, element type,
//! shape, byte strides) borrowed from the array that owns the memory. The buffer-protocol,
//! `__array_interface__` and DLPack adapters will produce the same description.

use crate::rules::numpy_module;
use numpy::{PyUntypedArray, PyUntypedArrayMethods};
use pyo3::prelude::*;
use pyo3::types::{PyBool, PyFloat, PyInt, PyList, PyTuple};
use std::borrow::Cow;
use stridewise::{ElemType, RawArray, RawError};

/// The input as an exact ndarray, or why numpy takes it.
pub enum Input<'py> {
    Array(Bound<'py, PyUntypedArray>),
    Converted(Bound<'py, PyUntypedArray>),
    Numpy(Cow<'static, str>),
}

pub fn input<'py>(py: Python<'py>, a: &Bound<'py, PyAny>) -> PyResult<Input<'py>> {
    // SAFETY: `a` is a live object; PyArray_CheckExact only reads its type.
    if unsafe { numpy::npyffi::PyArray_CheckExact(py, a.as_ptr()) } != 0 {
        return Ok(Input::Array(a.cast::<PyUntypedArray>()?.clone()));
    }
    if a.cast::<PyUntypedArray>().is_ok() {
        let t = a.get_type().name()?;
        return Ok(Input::Numpy(
            format!("ndarray subclass {t}: numpy keeps its semantics").into(),
        ));
    }
    // Exact types only: numpy scalars (np.float64 is a float) and subclasses have methods
    // numpy calls instead.
    let plain = a.is_exact_instance_of::<PyList>()
        || a.is_exact_instance_of::<PyTuple>()
        || a.is_exact_instance_of::<PyFloat>()
        || a.is_exact_instance_of::<PyInt>()
        || a.is_exact_instance_of::<PyBool>();
    if !plain {
        let t = a.get_type().name()?;
        return Ok(Input::Numpy(
            format!("{t} is not an ndarray: numpy calls its own method or converts it").into(),
        ));
    }
    match numpy_module(py)?.call_method1("asarray", (a,)) {
        Ok(arr) => Ok(Input::Converted(arr.cast_into::<PyUntypedArray>()?)),
        Err(_) => Ok(Input::Numpy(
            "numpy.asarray refuses it: numpy raises".into(),
        )),
    }
}

/// The kernels' description of `arr` read as `elem`s, borrowing its memory for as long as
/// `arr` is borrowed. `Err(RawError::Unreadable)` if it must be copied first.
pub fn raw_array<'a>(
    arr: &'a Bound<'_, PyUntypedArray>,
    elem: ElemType,
) -> Result<RawArray<'a>, RawError> {
    let (shape, strides) = (arr.shape(), arr.strides());
    // SAFETY: `arr` is a live ndarray; its `data` field is read, not dereferenced.
    let data = unsafe { (*arr.as_array_ptr()).fields.data } as *const u8;
    // SAFETY: numpy guarantees that every byte of every element reachable through (data,
    // shape, strides) lies inside the array's allocation; `arr`, borrowed for `'a`, keeps it
    // alive (numpy's `resize` refuses an array that is referenced), and the bytes are the
    // array's initialised data. As with numpy's own ufuncs, another thread writing the
    // array during a reduction is the caller's race; the kernels only read.
    unsafe { RawArray::from_span(data, elem, shape, strides) }
}
