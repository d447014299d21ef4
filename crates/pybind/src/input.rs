//! The ways arrays come in: which inputs the kernels take, and the numpy adapter that turns an
//! ndarray into the kernels' neutral description, a [`RawArray`] (memory, element type,
//! shape, byte strides) borrowed from the array that owns the memory.
//!
//! Native memory that is not an ndarray comes in through the protocols numpy itself reads,
//! without a copy: numpy makes an ndarray *view* of it (its `.base` keeps the exporter alive
//! for the call), and that view takes the same road as any ndarray (read in place, or copied
//! first for the reasons numpy arrays are: byte order, alignment, strides that are not whole
//! elements). The order is numpy's own (`numpy.asarray` tries the buffer protocol, then
//! `__array_interface__`), then DLPack, which `numpy.asarray` does not read:
//!
//! 1. an exact ndarray: itself;
//! 2. a Dask array (once `dask.array` is imported: stridewise never imports it): stridewise's
//!    lazy reduction of it (`stridewise/_dask.py`);
//! 3. an ndarray subclass, a numpy scalar, or another object that implements
//!    `__array_function__` (CuPy, sparse): numpy's function, which calls the scalar's
//!    method or hands the call to the object's own implementation;
//! 4. a list, tuple or Python number: `numpy.asarray` (a new array, as numpy makes);
//! 5. a buffer-protocol exporter (`memoryview`, `array.array`, `bytearray`, ctypes arrays, a
//!    pybind11 class with `def_buffer`, stridewise's `AlignedBuffer`), but not `bytes`, which
//!    numpy reads as one string: `numpy.asarray`, a view of the exported buffer;
//! 6. an object with `__array_interface__` or `__array_struct__`: `numpy.asarray`, a view
//!    (reported as converted if numpy made an array of its own instead);
//!    in 5 and 6, an object with its own method of the function's name (`x.mean()` for
//!    `mean`) is left to numpy, which calls that method;
//! 7. a DLPack producer (`__dlpack__` and `__dlpack_device__`: torch and JAX CPU arrays),
//!    own methods or not: on the CPU, its buffer (JAX exports one) or `numpy.from_dlpack`,
//!    a view (numpy's function if that fails); on any other device, `BufferError` naming
//!    it, checked first (never a silent copy to the host);
//! 8. anything else: numpy's function (which calls the object's own method, or converts it).

use crate::rules::numpy_module;
use numpy::{PyUntypedArray, PyUntypedArrayMethods};
use pyo3::exceptions::PyBufferError;
use pyo3::prelude::*;
use pyo3::types::{PyBool, PyBytes, PyFloat, PyInt, PyList, PyTuple};
use std::borrow::Cow;
use stridewise::{ElemType, RawArray, RawError};

/// How an input became the ndarray the kernels read: what `sw.explain` reports as `input`.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Via {
    /// An exact ndarray, taken as it is.
    Ndarray,
    /// A list, tuple or number, made into a new array by `numpy.asarray`.
    Converted,
    /// A view of an object's buffer protocol export.
    Buffer,
    /// A view of the memory an `__array_interface__` (or `__array_struct__`) describes.
    ArrayInterface,
    /// A view of a CPU DLPack tensor (`numpy.from_dlpack`).
    DLPack,
}

impl Via {
    pub fn name(self) -> &'static str {
        match self {
            Via::Ndarray => "ndarray",
            Via::Converted => "numpy.asarray",
            Via::Buffer => "buffer protocol",
            Via::ArrayInterface => "__array_interface__",
            Via::DLPack => "dlpack",
        }
    }
}

/// The input as an ndarray and how it came, or why numpy takes it.
pub enum Input<'py> {
    Array(Bound<'py, PyUntypedArray>, Via),
    Numpy(Cow<'static, str>),
    /// A `dask.array.Array`.
    Dask,
}

/// Whether `a` is a Dask array: only when `dask.array` is imported already (an object cannot
/// be one otherwise), so stridewise never imports Dask itself.
pub fn is_dask_array(py: Python<'_>, a: &Bound<'_, PyAny>) -> PyResult<bool> {
    let modules = py
        .import(pyo3::intern!(py, "sys"))?
        .getattr(pyo3::intern!(py, "modules"))?;
    match modules.get_item(pyo3::intern!(py, "dask.array")) {
        Ok(m) => a.is_instance(&m.getattr(pyo3::intern!(py, "Array"))?),
        Err(_) => Ok(false),
    }
}

/// DLPack's device types (`DLDeviceType` in dlpack.h), for the error on a non-CPU tensor.
fn dlpack_device_name(kind: i64) -> Cow<'static, str> {
    match kind {
        1 => "cpu".into(),
        2 => "cuda".into(),
        3 => "cuda_host".into(),
        4 => "opencl".into(),
        7 => "vulkan".into(),
        8 => "metal".into(),
        9 => "vpi".into(),
        10 => "rocm".into(),
        11 => "rocm_host".into(),
        12 => "ext_dev".into(),
        13 => "cuda_managed".into(),
        14 => "oneapi".into(),
        15 => "webgpu".into(),
        16 => "hexagon".into(),
        17 => "maia".into(),
        k => format!("device type {k}").into(),
    }
}

/// How `a` reaches the kernels, or why numpy takes it. `method`: the method numpy's function
/// calls on an object that has it instead of converting the object (`sum`, `mean`, `max`,
/// ...; `None` for the functions that convert every input, such as the nan-functions).
pub fn input<'py>(
    py: Python<'py>,
    a: &Bound<'py, PyAny>,
    method: Option<&str>,
) -> PyResult<Input<'py>> {
    // SAFETY: `a` is a live object; PyArray_CheckExact only reads its type.
    if unsafe { numpy::npyffi::PyArray_CheckExact(py, a.as_ptr()) } != 0 {
        return Ok(Input::Array(
            a.cast::<PyUntypedArray>()?.clone(),
            Via::Ndarray,
        ));
    }
    let t = a.get_type();
    if a.cast::<PyUntypedArray>().is_ok() {
        return Ok(Input::Numpy(
            format!("ndarray subclass {}: numpy keeps its semantics", t.name()?).into(),
        ));
    }
    // Exact types only: numpy scalars (np.float64 is a float) and subclasses have methods
    // numpy calls instead.
    let plain = a.is_exact_instance_of::<PyList>()
        || a.is_exact_instance_of::<PyTuple>()
        || a.is_exact_instance_of::<PyFloat>()
        || a.is_exact_instance_of::<PyInt>()
        || a.is_exact_instance_of::<PyBool>();
    let np = numpy_module(py)?;
    if plain {
        return match np.call_method1("asarray", (a,)) {
            Ok(arr) => Ok(Input::Array(
                arr.cast_into::<PyUntypedArray>()?,
                Via::Converted,
            )),
            Err(_) => Ok(Input::Numpy(
                "numpy.asarray refuses it: numpy raises".into(),
            )),
        };
    }
    // numpy scalars export their memory too, but numpy calls their own methods (which,
    // given `out=`, return a scalar, not `out`).
    if a.is_instance(&np.getattr(pyo3::intern!(py, "generic"))?)? {
        return Ok(Input::Numpy(
            format!("numpy scalar {}: numpy calls its own method", t.name()?).into(),
        ));
    }
    if t.hasattr(pyo3::intern!(py, "__array_function__"))? {
        if is_dask_array(py, a)? {
            return Ok(Input::Dask);
        }
        return Ok(Input::Numpy(
            format!(
                "{} implements __array_function__: numpy hands the call to it",
                t.name()?
            )
            .into(),
        ));
    }
    // Looked up on the instance, as numpy looks up these attributes (and `__array_function__`
    // on the type). A lookup that raises (a property) leaves the object to numpy, which
    // raises or goes on as it does.
    let has = |name: &str| a.hasattr(name).ok();
    // A DLPack producer (torch, JAX) says where its memory is: a device the CPU cannot
    // address is an error before anything else is tried (numpy.asarray would copy a GPU
    // array to the host through `__array__`, silently). A producer whose device query fails
    // is treated as an object without the protocol.
    let mut producer = has("__dlpack__") == Some(true) && has("__dlpack_device__") == Some(true);
    if producer {
        let device = a
            .call_method0(pyo3::intern!(py, "__dlpack_device__"))
            .and_then(|d| d.extract::<(i64, i64)>());
        match device {
            // numpy's `from_dlpack` reads the device types whose memory the CPU can
            // address: CPU, CUDA and ROCm host (pinned) memory and CUDA managed memory.
            Ok((kind, id)) if !matches!(kind, 1 | 3 | 11 | 13) => {
                return Err(PyBufferError::new_err(format!(
                    "stridewise reduces memory the CPU can read; this DLPack tensor is on \
                     {}:{id} (DLPack device type {kind}): move it to the CPU first (for \
                     example tensor.cpu()), stridewise never copies it there silently",
                    dlpack_device_name(kind)
                )));
            }
            Ok(_) => {}
            Err(_) => producer = false,
        }
    }
    // SAFETY: `a` is a live object; PyObject_CheckBuffer only reads its type's slots.
    let buffer = !a.is_instance_of::<PyBytes>()
        && unsafe { pyo3::ffi::PyObject_CheckBuffer(a.as_ptr()) } != 0;
    let interface = !buffer
        && match (has("__array_interface__"), has("__array_struct__")) {
            (Some(i), Some(s)) => i || s,
            _ => {
                return Ok(Input::Numpy(
                    "its array interface raises: numpy decides".into(),
                ))
            }
        };
    if buffer || interface {
        // numpy's functions call an object's own method of their name (`np.mean(x)` is
        // `x.mean()`), if it has one, rather than read its memory: so do we, except for
        // DLPack producers (below), which JAX arrays are too.
        if let (Some(m), false) = (method, producer) {
            if has(m) != Some(false) {
                return Ok(Input::Numpy(
                    format!("{} has its own {m}(): numpy calls it", t.name()?).into(),
                ));
            }
        }
        let via = if buffer {
            Via::Buffer
        } else {
            Via::ArrayInterface
        };
        return match np.call_method1("asarray", (a,)) {
            // SAFETY: `arr` is a live object; PyArray_CheckExact only reads its type.
            Ok(arr) if unsafe { numpy::npyffi::PyArray_CheckExact(py, arr.as_ptr()) } != 0 => {
                let arr = arr.cast_into::<PyUntypedArray>()?;
                // A view of the exporter's memory, unless numpy had to make its own (an
                // interface it read through `__array__`, which may copy).
                // SAFETY: `arr` is a live ndarray; its flags field is plain data.
                let owns = unsafe { (*arr.as_array_ptr()).fields.flags }
                    & numpy::npyffi::NPY_ARRAY_OWNDATA
                    != 0;
                Ok(Input::Array(arr, if owns { Via::Converted } else { via }))
            }
            _ => Ok(Input::Numpy(
                format!(
                    "numpy.asarray cannot read its {}: numpy decides",
                    via.name()
                )
                .into(),
            )),
        };
    }
    // DLPack producers are read in place even where they have their own methods (numpy
    // would call `tensor.mean()` and return a tensor): that is what the protocol is for
    // here. An export numpy refuses (a tensor that requires grad, a dtype numpy lacks) is
    // left to numpy's function.
    if producer {
        return match np.call_method1(pyo3::intern!(py, "from_dlpack"), (a,)) {
            Ok(arr) => Ok(Input::Array(
                arr.cast_into::<PyUntypedArray>()?,
                Via::DLPack,
            )),
            Err(e) => Ok(Input::Numpy(
                format!("numpy.from_dlpack refuses it ({e}): numpy decides").into(),
            )),
        };
    }
    Ok(Input::Numpy(
        format!(
            "{} is not an ndarray: numpy calls its own method or converts it",
            t.name()?
        )
        .into(),
    ))
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
