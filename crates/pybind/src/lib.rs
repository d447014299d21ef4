//! `stridewise._native`: numpy's reductions on the stridewise kernels.
//!
//! Every reduction goes the same way: the Python layer (`stridewise/_reduce.py`, numpy's
//! signatures) calls [`reduce`], which only checks the keywords against the kernels' table of
//! reductions (`stridewise::ops`) into [`rules::Args`]; [`rules::plan`] (the one place that
//! knows numpy's rules) decides the path (kernel, kernel after a copy, or numpy itself) and
//! [`exec`] runs it. The aligned arrays that Rust owns and numpy views live in [`owner`].

mod exec;
mod input;
mod owner;
mod rules;

use pyo3::prelude::*;
use pyo3::types::PyDict;
use rules::{Args, Op};

/// Every reduction: `func` by name, the array, and numpy's keyword arguments, checked against
/// the reduction's keywords in the table (`REDUCTIONS`). `numpy._NoValue` where it is numpy's
/// own default (keepdims, initial, where, mean, correction) means not given. The Python layer
/// (`stridewise/_reduce.py`) gives each function numpy's signature and calls this.
#[pyfunction]
#[pyo3(signature = (func, a, /, **kwargs))]
fn reduce<'py>(
    py: Python<'py>,
    func: &str,
    a: Bound<'py, PyAny>,
    kwargs: Option<&Bound<'py, PyDict>>,
) -> PyResult<Bound<'py, PyAny>> {
    let op = parse_func(func)?;
    let args = Args::collect(py, op, a, kwargs)?;
    let plan = rules::plan(py, op, &args)?;
    exec::run(py, op, &args, plan)
}

/// Which path `reduce` would take and why, without running it (same arguments).
#[pyfunction]
#[pyo3(signature = (func, a, /, **kwargs))]
fn explain<'py>(
    py: Python<'py>,
    func: &str,
    a: Bound<'py, PyAny>,
    kwargs: Option<&Bound<'py, PyDict>>,
) -> PyResult<Bound<'py, PyDict>> {
    let op = parse_func(func)?;
    let args = Args::collect(py, op, a, kwargs)?;
    rules::plan(py, op, &args)?.describe(py)
}

fn parse_func(name: &str) -> PyResult<Op> {
    Op::from_name(name).ok_or_else(|| {
        pyo3::exceptions::PyValueError::new_err(format!("{name:?} is not a stridewise reduction"))
    })
}

/// The SIMD level the kernels use on this thread: "avx512", "avx2" or "scalar".
#[pyfunction]
fn simd_level() -> &'static str {
    stridewise::simd_level().name()
}

/// The SIMD levels this machine can run, lowest first.
#[pyfunction]
fn available_simd_levels() -> Vec<&'static str> {
    stridewise::available_simd_levels()
        .into_iter()
        .map(|l| l.name())
        .collect()
}

/// Force a SIMD level for later reductions (`None`: the best this machine has).
#[pyfunction]
#[pyo3(signature = (level))]
fn set_simd_level(level: Option<&str>) -> PyResult<&'static str> {
    let level = match level {
        None => None,
        Some(name) => Some(stridewise::SimdLevel::from_name(name).ok_or_else(|| {
            pyo3::exceptions::PyValueError::new_err(format!(
                "unknown SIMD level {name:?}: use 'scalar', 'avx2', 'avx512' or None"
            ))
        })?),
    };
    Ok(stridewise::set_simd_level(level).name())
}

/// Use `n` threads for later reductions (process-wide).
#[pyfunction]
fn set_num_threads(n: isize) -> PyResult<()> {
    if n < 1 {
        return Err(pyo3::exceptions::PyValueError::new_err(format!(
            "number of threads must be >= 1, got {n}"
        )));
    }
    stridewise::set_num_threads(n as usize);
    Ok(())
}

/// Threads later reductions use.
#[pyfunction]
fn get_num_threads() -> usize {
    stridewise::get_num_threads()
}

/// Inputs with fewer elements than this are reduced on the calling thread.
#[pyfunction]
fn parallel_threshold() -> usize {
    stridewise::PARALLEL_THRESHOLD
}

/// The read-bandwidth probe the benchmark harness divides by: the wrapping sum of a
/// C-contiguous uint64 array, read once on the reduction pool (see `stridewise::read_probe`).
/// A benchmark helper, not a reduction: it takes nothing else.
#[pyfunction]
fn read_probe(py: Python<'_>, words: numpy::PyReadonlyArray1<'_, u64>) -> PyResult<u64> {
    let words = words.as_slice().map_err(|_| {
        pyo3::exceptions::PyValueError::new_err("read_probe needs a C-contiguous uint64 array")
    })?;
    Ok(py.detach(|| stridewise::read_probe(words)))
}

#[pymodule]
fn _native(m: &Bound<'_, PyModule>) -> PyResult<()> {
    m.add("REDUCTIONS", rules::reductions_table(m.py())?)?;
    m.add_function(wrap_pyfunction!(reduce, m)?)?;
    m.add_function(wrap_pyfunction!(explain, m)?)?;
    m.add_function(wrap_pyfunction!(simd_level, m)?)?;
    m.add_function(wrap_pyfunction!(available_simd_levels, m)?)?;
    m.add_function(wrap_pyfunction!(set_simd_level, m)?)?;
    m.add_function(wrap_pyfunction!(set_num_threads, m)?)?;
    m.add_function(wrap_pyfunction!(get_num_threads, m)?)?;
    m.add_function(wrap_pyfunction!(parallel_threshold, m)?)?;
    m.add_function(wrap_pyfunction!(read_probe, m)?)?;
    owner::register(m)?;
    Ok(())
}
