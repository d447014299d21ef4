//! Rust-owned aligned arrays shown to numpy without a copy.
//!
//! [`AlignedBuffer`] owns an [`AlignedArray<u8>`] whose last axis is the array's rows in bytes,
//! so every row starts on an `align`-byte boundary and is padded to a multiple of it. numpy
//! gets a plain `ndarray` over that memory (`PyArray_NewFromDescr` with the byte strides that
//! skip the padding) whose `.base` is the owner, and the owner exports the same memory through
//! the buffer protocol. The memory lives until the last view (array or buffer) lets go of the
//! owner; it is never reallocated, and Rust never reads or writes it after allocating it.

use crate::rules::numpy_module;
use numpy::npyffi::{get_type_object, npy_intp, NpyTypes, NPY_ARRAY_WRITEABLE, PY_ARRAY_API};
use numpy::{PyArrayDescr, PyArrayDescrMethods};
use pyo3::exceptions::{PyBufferError, PyTypeError, PyValueError};
use pyo3::ffi;
use pyo3::prelude::*;
use pyo3::types::{PyDict, PyTuple};
use std::ffi::{c_int, CString};
use std::ptr::NonNull;
use stridewise::{AlignedArray, DEFAULT_ALIGN};

/// The start of the owned storage.
struct Base(NonNull<u8>);

// SAFETY: `Base` is the address of heap memory owned by the `AlignedBuffer` next to it. Rust
// never creates a reference to that memory; Python code reads and writes it through numpy or
// memoryviews, from any thread, exactly as it does numpy's own buffers.
unsafe impl Send for Base {}
// SAFETY: as above; sharing the address gives no access from Rust.
unsafe impl Sync for Base {}

/// Aligned, padded memory owned by Rust, seen by numpy as an ndarray (its `.base`) and by
/// anyone through the buffer protocol.
#[pyclass(frozen, module = "stridewise._native", name = "AlignedBuffer")]
pub struct AlignedBuffer {
    /// Kept only to be freed on drop: all access goes through `base`.
    _storage: AlignedArray<u8>,
    base: Base,
    shape: Vec<ffi::Py_ssize_t>,
    strides: Vec<ffi::Py_ssize_t>,
    itemsize: usize,
    len_bytes: usize,
    c_contiguous: bool,
    f_contiguous: bool,
    format: CString,
    dtype: Py<PyArrayDescr>,
    align: usize,
    allocated: usize,
}

/// True if `(shape, strides)` is contiguous in C order (`fortran`: in Fortran order).
fn contiguous(shape: &[isize], strides: &[isize], itemsize: usize, fortran: bool) -> bool {
    if shape.contains(&0) {
        return true;
    }
    let mut expect = itemsize as isize;
    let dims: Vec<usize> = match fortran {
        true => (0..shape.len()).collect(),
        false => (0..shape.len()).rev().collect(),
    };
    for d in dims {
        if shape[d] != 1 && strides[d] != expect {
            return false;
        }
        expect *= shape[d];
    }
    true
}

#[pymethods]
impl AlignedBuffer {
    /// The logical shape.
    #[getter]
    fn shape<'py>(&self, py: Python<'py>) -> PyResult<Bound<'py, PyTuple>> {
        PyTuple::new(py, &self.shape)
    }

    /// Byte strides; they skip the row padding.
    #[getter]
    fn strides<'py>(&self, py: Python<'py>) -> PyResult<Bound<'py, PyTuple>> {
        PyTuple::new(py, &self.strides)
    }

    #[getter]
    fn dtype(&self, py: Python<'_>) -> Py<PyArrayDescr> {
        self.dtype.clone_ref(py)
    }

    /// Every row starts on a multiple of this many bytes.
    #[getter]
    fn align(&self) -> usize {
        self.align
    }

    /// Bytes allocated, padding included.
    #[getter]
    fn nbytes_allocated(&self) -> usize {
        self.allocated
    }

    /// The address of the first element.
    #[getter]
    fn address(&self) -> usize {
        self.base.0.as_ptr() as usize
    }

    fn __repr__(&self, py: Python<'_>) -> String {
        format!(
            "AlignedBuffer(shape={:?}, dtype={}, align={}, strides={:?})",
            self.shape,
            self.dtype.bind(py),
            self.align,
            self.strides
        )
    }

    /// DLPack: numpy's export of the ndarray view of this buffer (its buffer protocol, no
    /// copy), so `numpy.from_dlpack` and `torch.from_dlpack` share the aligned memory; the
    /// capsule holds the view, which holds this owner, for as long as the consumer lives.
    #[pyo3(signature = (**kwargs))]
    fn __dlpack__<'py>(
        slf: &Bound<'py, Self>,
        kwargs: Option<&Bound<'py, PyDict>>,
    ) -> PyResult<Bound<'py, PyAny>> {
        let view = numpy_module(slf.py())?.call_method1("asarray", (slf,))?;
        view.call_method("__dlpack__", (), kwargs)
    }

    /// DLPack's device of the memory: the CPU (`kDLCPU`, device 0).
    fn __dlpack_device__(&self) -> (i32, i32) {
        (1, 0)
    }

    /// The buffer protocol: the logical array with its strides and struct format.
    ///
    /// # Safety
    /// `view` must be a `Py_buffer` to fill, as CPython passes it.
    unsafe fn __getbuffer__(
        slf: Bound<'_, Self>,
        view: *mut ffi::Py_buffer,
        flags: c_int,
    ) -> PyResult<()> {
        if view.is_null() {
            return Err(PyBufferError::new_err("view is NULL"));
        }
        let this = slf.get();
        let wants = |f: c_int| flags & f == f;
        if wants(ffi::PyBUF_C_CONTIGUOUS) && !this.c_contiguous
            || wants(ffi::PyBUF_F_CONTIGUOUS) && !this.f_contiguous
            || wants(ffi::PyBUF_ANY_CONTIGUOUS) && !this.c_contiguous && !this.f_contiguous
            || !wants(ffi::PyBUF_STRIDES) && !this.c_contiguous
        {
            return Err(PyBufferError::new_err(
                "the rows are padded: the buffer is strided, not contiguous",
            ));
        }
        let null: *mut std::ffi::c_void = std::ptr::null_mut();
        // SAFETY: `view` is non-null and CPython hands us a Py_buffer to fill. Every pointer
        // stored points into `this`, which is frozen (never changes) and kept alive by the
        // owned reference in `obj` until the buffer is released. `buf` is the storage start,
        // valid for every offset the shape and strides reach (it was allocated for them).
        unsafe {
            (*view).buf = this.base.0.as_ptr().cast();
            (*view).obj = slf.clone().into_any().into_ptr();
            (*view).len = this.len_bytes as ffi::Py_ssize_t;
            (*view).itemsize = this.itemsize as ffi::Py_ssize_t;
            (*view).readonly = 0;
            (*view).ndim = this.shape.len() as c_int;
            (*view).format = match wants(ffi::PyBUF_FORMAT) {
                true => this.format.as_ptr().cast_mut(),
                false => null.cast(),
            };
            (*view).shape = match wants(ffi::PyBUF_ND) {
                true => this.shape.as_ptr().cast_mut(),
                false => null.cast(),
            };
            (*view).strides = match wants(ffi::PyBUF_STRIDES) {
                true => this.strides.as_ptr().cast_mut(),
                false => null.cast(),
            };
            (*view).suboffsets = null.cast();
            (*view).internal = null;
        }
        Ok(())
    }

    /// Nothing to free: everything the buffer points to lives in the owner.
    ///
    /// # Safety
    /// Called by CPython with a view this object filled.
    unsafe fn __releasebuffer__(&self, _view: *mut ffi::Py_buffer) {}
}

/// `shape` as numpy reads it: an int or a sequence of ints, none negative.
fn parse_shape(shape: &Bound<'_, PyAny>) -> PyResult<Vec<usize>> {
    // An int, or anything with __index__ (numpy integers), is one dimension.
    let dims: Vec<isize> = match shape.extract::<isize>() {
        Ok(n) => vec![n],
        Err(_) => shape
            .try_iter()?
            .map(|d| d?.extract::<isize>())
            .collect::<PyResult<_>>()?,
    };
    if dims.iter().any(|&d| d < 0) {
        return Err(PyValueError::new_err("negative dimensions are not allowed"));
    }
    if dims.len() > 64 {
        return Err(PyValueError::new_err(format!(
            "maximum supported dimension for an ndarray is currently 64, found {}",
            dims.len()
        )));
    }
    Ok(dims.into_iter().map(|d| d as usize).collect())
}

fn as_dtype<'py>(
    py: Python<'py>,
    dtype: Option<&Bound<'py, PyAny>>,
) -> PyResult<Bound<'py, PyArrayDescr>> {
    match dtype {
        None => Ok(numpy::dtype::<f64>(py)),
        Some(d) => Ok(numpy_module(py)?
            .getattr("dtype")?
            .call1((d,))?
            .cast_into::<PyArrayDescr>()?),
    }
}

/// A zero-filled aligned array: the ndarray whose `.base` is a new [`AlignedBuffer`].
fn new_array<'py>(
    py: Python<'py>,
    shape: &[usize],
    dtype: Bound<'py, PyArrayDescr>,
    align: isize,
) -> PyResult<Bound<'py, PyAny>> {
    let align = usize::try_from(align)
        .ok()
        .filter(|a| a.is_power_of_two())
        .ok_or_else(|| {
            PyValueError::new_err(format!("align must be a power of two, got {align}"))
        })?;
    if dtype.has_object() {
        return Err(PyTypeError::new_err(format!(
            "stridewise arrays cannot hold Python objects (dtype {dtype})"
        )));
    }
    let itemsize = dtype.itemsize();
    if itemsize == 0 {
        return Err(PyTypeError::new_err(format!("dtype {dtype} has no size")));
    }
    // The struct format numpy itself exports for this dtype (refused for datetimes).
    let probe = numpy_module(py)?.call_method1("empty", (0, &dtype))?;
    let format: String = py
        .get_type::<pyo3::types::PyMemoryView>()
        .call1((probe,))
        .and_then(|m| m.getattr("format")?.extract())
        .map_err(|e| {
            PyTypeError::new_err(format!(
                "dtype {dtype} cannot be exported through the buffer protocol: {e}"
            ))
        })?;
    let align = align.max(dtype.alignment());
    let too_big = || PyValueError::new_err("array is too big");
    // Rows in bytes: the last axis times the item size (one item for a 0-d array).
    let mut byte_shape = shape.to_vec();
    match byte_shape.last_mut() {
        Some(row) => *row = row.checked_mul(itemsize).ok_or_else(too_big)?,
        None => byte_shape.push(itemsize),
    }
    let mut storage = AlignedArray::<u8>::zeros(&byte_shape, align).map_err(|_| too_big())?;
    let mut strides: Vec<isize> = storage.strides().to_vec();
    if shape.is_empty() {
        strides.clear();
    } else {
        *strides.last_mut().expect("ndim >= 1") = itemsize as isize;
    }
    let dims: Vec<isize> = shape.iter().map(|&d| d as isize).collect();
    let base = NonNull::new(storage.as_mut_ptr()).ok_or_else(too_big)?;
    let owner = Bound::new(
        py,
        AlignedBuffer {
            allocated: storage.storage_len(),
            _storage: storage,
            base: Base(base),
            c_contiguous: contiguous(&dims, &strides, itemsize, false),
            f_contiguous: contiguous(&dims, &strides, itemsize, true),
            shape: dims.clone(),
            strides: strides.clone(),
            itemsize,
            len_bytes: shape.iter().product::<usize>() * itemsize,
            format: CString::new(format).map_err(|_| too_big())?,
            dtype: dtype.clone().unbind(),
            align,
        },
    )?;
    let mut dims: Vec<npy_intp> = dims;
    let mut strides: Vec<npy_intp> = strides;
    // SAFETY: NewFromDescr steals one reference to the descr, which `into_dtype_ptr` gives
    // it. `dims` and `strides` have `ndim` entries and are copied by numpy. `base` points to
    // storage allocated for exactly these (dims, strides), aligned to `align` >= the dtype's
    // alignment, zero-filled (valid for every dtype without objects, which were refused).
    // The result is a new reference or NULL with an exception set.
    let arr = unsafe {
        let ptr = PY_ARRAY_API.PyArray_NewFromDescr(
            py,
            get_type_object(py, NpyTypes::PyArray_Type),
            dtype.into_dtype_ptr(),
            dims.len() as c_int,
            dims.as_mut_ptr(),
            strides.as_mut_ptr(),
            base.as_ptr().cast(),
            NPY_ARRAY_WRITEABLE,
            std::ptr::null_mut(),
        );
        Bound::from_owned_ptr_or_err(py, ptr)?
    };
    // SAFETY: `arr` is the new ndarray and has no base yet; SetBaseObject steals the
    // reference `into_ptr` hands it (also on failure), so the owner lives as long as the
    // array. On failure (-1) the exception is set and `arr` is dropped normally.
    let rc = unsafe {
        PY_ARRAY_API.PyArray_SetBaseObject(py, arr.as_ptr().cast(), owner.into_any().into_ptr())
    };
    if rc < 0 {
        return Err(PyErr::fetch(py));
    }
    Ok(arr)
}

/// An aligned array of `shape` and `dtype` (float64 by default). The memory comes zeroed
/// from the allocator (lazily, by the OS, for large arrays), so it is also `zeros`.
#[pyfunction]
#[pyo3(signature = (shape, dtype=None, *, align=DEFAULT_ALIGN as isize))]
fn empty<'py>(
    py: Python<'py>,
    shape: Bound<'py, PyAny>,
    dtype: Option<Bound<'py, PyAny>>,
    align: isize,
) -> PyResult<Bound<'py, PyAny>> {
    new_array(
        py,
        &parse_shape(&shape)?,
        as_dtype(py, dtype.as_ref())?,
        align,
    )
}

/// A zero-filled aligned array of `shape` and `dtype` (float64 by default).
#[pyfunction]
#[pyo3(signature = (shape, dtype=None, *, align=DEFAULT_ALIGN as isize))]
fn zeros<'py>(
    py: Python<'py>,
    shape: Bound<'py, PyAny>,
    dtype: Option<Bound<'py, PyAny>>,
    align: isize,
) -> PyResult<Bound<'py, PyAny>> {
    new_array(
        py,
        &parse_shape(&shape)?,
        as_dtype(py, dtype.as_ref())?,
        align,
    )
}

/// An aligned array filled with `fill_value` (dtype: numpy's `array(fill_value).dtype` when
/// not given), filled as `numpy.full` fills (`copyto` with unsafe casting).
#[pyfunction]
#[pyo3(signature = (shape, fill_value, dtype=None, *, align=DEFAULT_ALIGN as isize))]
fn full<'py>(
    py: Python<'py>,
    shape: Bound<'py, PyAny>,
    fill_value: Bound<'py, PyAny>,
    dtype: Option<Bound<'py, PyAny>>,
    align: isize,
) -> PyResult<Bound<'py, PyAny>> {
    let np = numpy_module(py)?;
    let dtype = match dtype {
        Some(d) => as_dtype(py, Some(&d))?,
        None => np
            .call_method1("array", (&fill_value,))?
            .getattr("dtype")?
            .cast_into::<PyArrayDescr>()?,
    };
    let arr = new_array(py, &parse_shape(&shape)?, dtype, align)?;
    let kw = PyDict::new(py);
    kw.set_item("casting", "unsafe")?;
    np.call_method("copyto", (&arr, fill_value), Some(&kw))?;
    Ok(arr)
}

/// An aligned, padded copy of `a` (anything `numpy.asarray` takes), same shape and dtype.
#[pyfunction]
#[pyo3(signature = (a, *, align=DEFAULT_ALIGN as isize))]
fn aligned<'py>(
    py: Python<'py>,
    a: Bound<'py, PyAny>,
    align: isize,
) -> PyResult<Bound<'py, PyAny>> {
    let np = numpy_module(py)?;
    let src = np.call_method1("asarray", (a,))?;
    let shape: Vec<usize> = src.getattr("shape")?.extract()?;
    let dtype = src.getattr("dtype")?.cast_into::<PyArrayDescr>()?;
    let arr = new_array(py, &shape, dtype, align)?;
    np.call_method1("copyto", (&arr, src))?;
    Ok(arr)
}

pub fn register(m: &Bound<'_, PyModule>) -> PyResult<()> {
    m.add_class::<AlignedBuffer>()?;
    m.add("DEFAULT_ALIGN", DEFAULT_ALIGN)?;
    m.add_function(wrap_pyfunction!(empty, m)?)?;
    m.add_function(wrap_pyfunction!(zeros, m)?)?;
    m.add_function(wrap_pyfunction!(full, m)?)?;
    m.add_function(wrap_pyfunction!(aligned, m)?)?;
    Ok(())
}
