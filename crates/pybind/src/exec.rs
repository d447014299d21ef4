//! Running a [`Plan`]: numpy's function, or the kernel with the GIL released, and the result
//! shaped as numpy shapes it (a numpy scalar for a full reduction, else an ndarray; keepdims;
//! the result dtype; `out=`), with numpy's RuntimeWarnings.

use crate::input::raw_array;
use crate::rules::{numpy_function, numpy_module, Args, Family, NanHandling, Op, Path, Plan, Work};
use numpy::npyffi::PY_ARRAY_API;
use numpy::{PyArray1, PyArrayDescrMethods, PyArrayMethods, PyUntypedArray, PyUntypedArrayMethods};
use pyo3::exceptions::{PyRuntimeWarning, PyValueError};
use pyo3::prelude::*;
use pyo3::types::{PyDict, PyTuple};
use stridewise::dynamic::{Outcome, Values};
use stridewise::{RawArray, Warning};

/// Inputs with at least this many elements are reduced with the GIL released.
pub const GIL_RELEASE_MIN: usize = 1 << 14;

/// `f()` on an input of `len` elements: with the GIL released from `GIL_RELEASE_MIN`
/// elements (releasing and taking it back costs more than reducing a small array; numpy
/// keeps it below 500 elements too), so that other Python threads run meanwhile.
pub fn detached<T, F>(py: Python<'_>, len: usize, f: F) -> T
where
    F: pyo3::marker::Ungil + FnOnce() -> T,
    T: pyo3::marker::Ungil,
{
    if len >= GIL_RELEASE_MIN {
        py.detach(f)
    } else {
        f()
    }
}

/// Run `op` on the path `plan` chose.
pub fn run<'py>(
    py: Python<'py>,
    op: Op,
    args: &Args<'py>,
    plan: Plan<'py>,
) -> PyResult<Bound<'py, PyAny>> {
    let Some(work) = plan.work else {
        if plan.path == Path::Dask {
            let dask = py.import(pyo3::intern!(py, "stridewise._dask"))?;
            let f = dask.getattr(pyo3::intern!(py, "reduce"))?;
            return f.call((op.info().name, &args.a), Some(&args.numpy_kwargs(py)?));
        }
        let f = numpy_function(py, op)?;
        return f.call((&args.a,), Some(&args.numpy_kwargs(py)?));
    };
    let arr = match &work.copy_to {
        // numpy's astype: a fresh, aligned array in native order, in the input's memory order
        // (its elements rounded to `round_to` first, where the plan says so).
        Some(d) => {
            let copy = || {
                let from = match &work.round_to {
                    Some(r) => work.arr.call_method1("astype", (r,))?,
                    None => work.arr.clone().into_any(),
                };
                Ok(from
                    .call_method1("astype", (d,))?
                    .cast_into::<PyUntypedArray>()?)
            };
            // Quietly where the conversion can overflow (to a narrower float, integers to
            // float16): numpy's reduction casts inside its loop without warning, and where
            // the values overflow, its own warnings are replayed below.
            let src = work.arr.dtype();
            let narrows = work.round_to.is_some()
                || (d.kind() == b'f'
                    && match src.kind() {
                        b'f' => d.itemsize() < src.itemsize(),
                        _ => d.itemsize() == 2,
                    });
            if narrows {
                quietly(py, copy)?
            } else {
                copy()?
            }
        }
        None => work.arr.clone(),
    };
    let raw = raw_array(&arr, work.elem)
        .map_err(|e| PyValueError::new_err(format!("stridewise: internal error: {e}")))?;
    let over: Option<Vec<isize>> = work
        .axes
        .as_ref()
        .map(|a| a.iter().map(|&d| d as isize).collect());
    let outcome = detached(py, raw.len(), || raw.reduce(op, over.as_deref(), work.ddof));
    // The plan checked the layout and sent bad axes and empty min/max to numpy: an error
    // here is a bug, reported in numpy's words anyway.
    let Outcome {
        values, warning, ..
    } = outcome.map_err(|e| PyValueError::new_err(e.to_string()))?;
    // numpy's floating-point warnings ("invalid value encountered in reduce", "overflow
    // ...") come from hardware flags raised in its own summation order. When a result is
    // NaN or inf, numpy's function runs too (without `out`), only to emit exactly those
    // warnings under the caller's `numpy.errstate`; its values are discarded.
    // Values at or beyond `limit` are infinite in the result: the cast to a narrower float
    // (float16 results, dtype=float32) overflows where the kernel's values did not, as
    // numpy's accumulation in that type did.
    let limit = match &work.cast {
        Some(c) if c.kind() == b'f' && c.itemsize() == 2 => 65520.0, // rounds to 2^16
        Some(c) if c.kind() == b'f' && c.itemsize() == 4 => 3.4028235677973366e38, // to 2^128
        _ => f64::INFINITY,
    };
    let (any_nonfinite, any_inf) = values.nonfinite_and_inf(limit);
    let nonfinite = op.info().family != Family::Extreme && any_nonfinite;
    let no_inf_outputs = !any_inf;
    let n_outputs = values.len();
    let nonfinite_at: Vec<usize> = if nonfinite {
        match &values {
            Values::F32(v) => nonfinite_positions(v.iter().map(|&x| f64::from(x)), limit),
            Values::F64(v) => nonfinite_positions(v.iter().copied(), limit),
            _ => Vec::new(),
        }
    } else {
        Vec::new()
    };
    let result = match values {
        Values::Bool(v) => shaped(py, v, &work)?,
        Values::I8(v) => shaped(py, v, &work)?,
        Values::I16(v) => shaped(py, v, &work)?,
        Values::I32(v) => shaped(py, v, &work)?,
        Values::I64(v) => shaped(py, v, &work)?,
        Values::U8(v) => shaped(py, v, &work)?,
        Values::U16(v) => shaped(py, v, &work)?,
        Values::U32(v) => shaped(py, v, &work)?,
        Values::U64(v) => shaped(py, v, &work)?,
        Values::F32(v) => shaped(py, v, &work)?,
        Values::F64(v) => shaped(py, v, &work)?,
    };
    // (A cast that overflows runs quietly: numpy's own warnings are replayed below.)
    let result = finish(py, &work, result, any_inf)?;
    // A nan-function's NaN from an all-NaN slice (or no degrees of freedom) is explained by
    // its own warning when the input holds no infinity (the other source of NaN) and no
    // output overflowed: then numpy emits that one warning, and so do we.
    let explained = nonfinite
        && op.info().nan == NanHandling::Ignore
        && warning.is_some()
        && no_inf_outputs
        && !has_inf(py, &raw)?;
    if nonfinite && !explained {
        replay_warnings(py, op, args, &work, &nonfinite_at, n_outputs)?;
    } else if let Some(w) = warning {
        warn(py, op, w)?;
    }
    Ok(result)
}

/// numpy's function on the outputs whose results are not finite, for its warnings only (its
/// values are discarded): on the whole input when that is one output or most of them, else
/// on just those outputs' slices, gathered by indexing the kept axes (moved first) with the
/// outputs' coordinates: a NaN in one row of a (10000, 100) array made its axis-1 sum run
/// numpy's over all 10000 rows (0.3x numpy in all). The warnings are the same: numpy warns
/// once per category for what its own sums of those outputs raise (the finite outputs are
/// correctly rounded and never replayed, as before).
fn replay_warnings<'py>(
    py: Python<'py>,
    op: Op,
    args: &Args<'py>,
    work: &Work<'py>,
    nonfinite_at: &[usize],
    n_outputs: usize,
) -> PyResult<()> {
    let kw = args.numpy_kwargs(py)?;
    kw.del_item("out").ok();
    let f = numpy_function(py, op)?;
    let Some(axes) = work
        .axes
        .as_ref()
        .filter(|_| 2 * nonfinite_at.len() <= n_outputs)
    else {
        f.call((&args.a,), Some(&kw))?;
        return Ok(());
    };
    let shape = work.arr.shape();
    let kept: Vec<usize> = (0..shape.len()).filter(|d| !axes.contains(d)).collect();
    // Output `o`'s coordinates along the kept axes: outputs are in C order over them.
    let mut coords: Vec<Vec<isize>> = vec![Vec::with_capacity(nonfinite_at.len()); kept.len()];
    for &o in nonfinite_at {
        let mut rest = o;
        for (k, &d) in kept.iter().enumerate().rev() {
            coords[k].push((rest % shape[d]) as isize);
            rest /= shape[d];
        }
    }
    let order: Vec<usize> = kept.iter().chain(axes.iter()).copied().collect();
    let moved = work
        .arr
        .call_method1(pyo3::intern!(py, "transpose"), (PyTuple::new(py, order)?,))?;
    let index = PyTuple::new(py, coords.into_iter().map(|c| PyArray1::from_vec(py, c)))?;
    let picked = moved.get_item(index)?;
    kw.set_item("axis", PyTuple::new(py, 1..axes.len() + 1)?)?;
    kw.del_item("keepdims").ok();
    f.call((picked,), Some(&kw))?;
    Ok(())
}

/// The positions of the values that are NaN or of magnitude `limit` or more.
#[allow(clippy::neg_cmp_op_on_partial_ord)] // (NaN compares false: NaN is one of them)
fn nonfinite_positions(values: impl Iterator<Item = f64>, limit: f64) -> Vec<usize> {
    values
        .enumerate()
        .filter(|(_, x)| !(x.abs() < limit))
        .map(|(i, _)| i)
        .collect()
}

/// The kernel's values as numpy shapes them: a numpy scalar for a full reduction (unless a
/// cast, keepdims or `out` needs an array), else an ndarray of the result shape.
fn shaped<'py, R: numpy::Element>(
    py: Python<'py>,
    values: Vec<R>,
    work: &Work<'py>,
) -> PyResult<Bound<'py, PyAny>> {
    let shape = work.shape.as_slice();
    if shape.is_empty() && work.cast.is_none() && work.out.is_none() {
        if let (1, Some(v)) = (values.len(), values.first()) {
            return scalar(py, v.clone_ref(py));
        }
    }
    Ok(PyArray1::from_vec(py, values).reshape(shape)?.into_any())
}

/// Cast to the result dtype and write `out`.
fn finish<'py>(
    py: Python<'py>,
    work: &Work<'py>,
    mut result: Bound<'py, PyAny>,
    overflows: bool,
) -> PyResult<Bound<'py, PyAny>> {
    if let Some(dtype) = &work.cast {
        // numpy's C cast: wraps integers, rounds floats to nearest. Quietly where a value
        // `overflows`: that is numpy's accumulation overflowing, whose own warnings `run`
        // replays.
        let cast = || result.call_method1("astype", (dtype,));
        result = if overflows {
            quietly(py, cast)?
        } else {
            cast()?
        };
        // A 0-d result is a numpy scalar, as numpy returns it.
        if result.cast::<PyUntypedArray>()?.ndim() == 0 && work.out.is_none() {
            result = result.get_item(())?;
        }
    }
    if let Some(out) = &work.out {
        out.set_item(py.Ellipsis(), &result)?;
        result = out.clone().into_any();
    }
    Ok(result)
}

/// `f()` under `numpy.errstate(all="ignore")`: for stridewise's own casts, whose
/// floating-point warnings would not be numpy's.
fn quietly<'py, T>(py: Python<'py>, f: impl FnOnce() -> PyResult<T>) -> PyResult<T> {
    let kw = PyDict::new(py);
    kw.set_item("all", "ignore")?;
    let state = numpy_module(py)?.getattr("errstate")?.call((), Some(&kw))?;
    state.call_method0("__enter__")?;
    let r = f();
    state.call_method1("__exit__", (py.None(), py.None(), py.None()))?;
    r
}

/// numpy's scalar of `value` (`numpy.float64`, `numpy.int64`, ...).
pub fn scalar<R: numpy::Element>(py: Python<'_>, mut value: R) -> PyResult<Bound<'_, PyAny>> {
    let descr = R::get_dtype(py);
    // SAFETY: `value` is a valid `R`, and `descr` is numpy's dtype for `R`, so PyArray_Scalar
    // copies exactly `size_of::<R>()` initialised bytes; it borrows `descr` (no reference is
    // stolen) and needs no base for non-void dtypes. It returns a new reference or NULL with
    // an exception set, which `from_owned_ptr_or_err` turns into a PyErr.
    unsafe {
        let ptr = PY_ARRAY_API.PyArray_Scalar(
            py,
            (&raw mut value).cast(),
            descr.as_dtype_ptr(),
            std::ptr::null_mut(),
        );
        Bound::from_owned_ptr_or_err(py, ptr)
    }
}

/// numpy's RuntimeWarning for a NaN result (only the nan-functions get here: the plan sent
/// the degenerate calls of the others to numpy).
fn warn(py: Python<'_>, op: Op, w: Warning) -> PyResult<()> {
    let category = py.get_type::<PyRuntimeWarning>();
    PyErr::warn(py, &category, op.warning_text(w), 2)
}

/// True if the float input holds +inf or -inf (its nanmax is +inf or its nanmin is -inf).
fn has_inf(py: Python<'_>, raw: &RawArray<'_>) -> PyResult<bool> {
    if !raw.elem().is_float() {
        return Ok(false);
    }
    let extreme = |op: Op| -> PyResult<f64> {
        let out = py
            .detach(|| raw.reduce(op, None, 0.0))
            .map_err(|e| PyValueError::new_err(e.to_string()))?;
        Ok(match out.values {
            Values::F32(v) => v.first().map_or(f64::NAN, |&x| f64::from(x)),
            Values::F64(v) => v.first().copied().unwrap_or(f64::NAN),
            _ => f64::NAN,
        })
    };
    Ok(extreme(Op::NanMax)? == f64::INFINITY || extreme(Op::NanMin)? == f64::NEG_INFINITY)
}
