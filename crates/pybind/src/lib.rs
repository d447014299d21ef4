//! `stridewise._native`: numpy's reductions on the stridewise kernels.
//!
//! Every reduction goes the same way: the Python layer (`stridewise/_reduce.py`, numpy's
//! signatures) calls [`reduce`], which only collects the arguments into [`rules::Args`]; [`rules::plan`] (the one place that knows numpy's rules) decides the
//! path (kernel, kernel after a copy, or numpy itself) and [`exec`] runs it. The aligned arrays
//! that Rust owns and numpy views live in [`owner`].

mod exec;
mod owner;
mod rules;

use pyo3::prelude::*;
use pyo3::types::PyDict;
use rules::{Args, Func};

/// The arguments as [`Args`]: which were given, as numpy would see them.
#[allow(clippy::too_many_arguments)]
fn collect<'py>(
    py: Python<'py>,
    func: Func,
    a: Bound<'py, PyAny>,
    axis: Bound<'py, PyAny>,
    dtype: Bound<'py, PyAny>,
    out: Bound<'py, PyAny>,
    keepdims: Bound<'py, PyAny>,
    initial: Bound<'py, PyAny>,
    r#where: Bound<'py, PyAny>,
    ddof: Bound<'py, PyAny>,
    mean: Bound<'py, PyAny>,
    correction: Bound<'py, PyAny>,
) -> PyResult<Args<'py>> {
    let none = rules::no_value(py)?;
    let keywords = func.keywords();
    // A parameter `func` does not have is never given. numpy's `_NoValue` is numpy's own
    // default for keepdims/initial/where/mean/correction, so it means "not given" there; for
    // axis/dtype/out/ddof (real defaults) it is a value, and numpy will refuse it.
    let take = |name: &str, v: Bound<'py, PyAny>, sentinel_default: bool| {
        // `_NoValue` where it is the default: not given, whatever `func` takes (the common
        // case, decided without the keyword lookup).
        if sentinel_default && v.is(&none) {
            return None;
        }
        keywords.contains(&name).then_some(v)
    };
    let mut args = Args::new(a);
    args.axis = take("axis", axis, false);
    args.dtype = take("dtype", dtype, false);
    args.out = take("out", out, false);
    args.keepdims = take("keepdims", keepdims, true);
    args.initial = take("initial", initial, true);
    args.where_ = take("where", r#where, true);
    args.ddof = take("ddof", ddof, false);
    args.mean = take("mean", mean, true);
    args.correction = take("correction", correction, true);
    Ok(args)
}

/// Every reduction: `func` by name, then numpy's arguments in a fixed order, `numpy._NoValue`
/// for those not given. The Python layer (`stridewise/_reduce.py`) gives each function
/// numpy's signature and calls this.
#[pyfunction]
#[allow(clippy::too_many_arguments)]
fn reduce<'py>(
    py: Python<'py>,
    func: &str,
    a: Bound<'py, PyAny>,
    axis: Bound<'py, PyAny>,
    dtype: Bound<'py, PyAny>,
    out: Bound<'py, PyAny>,
    keepdims: Bound<'py, PyAny>,
    initial: Bound<'py, PyAny>,
    r#where: Bound<'py, PyAny>,
    ddof: Bound<'py, PyAny>,
    mean: Bound<'py, PyAny>,
    correction: Bound<'py, PyAny>,
) -> PyResult<Bound<'py, PyAny>> {
    let func = parse_func(func)?;
    let args = collect(
        py, func, a, axis, dtype, out, keepdims, initial, r#where, ddof, mean, correction,
    )?;
    let plan = rules::plan(py, func, &args)?;
    exec::run(py, func, &args, plan)
}

/// Which path `reduce` would take and why, without running it (same arguments).
#[pyfunction]
#[allow(clippy::too_many_arguments)]
fn explain<'py>(
    py: Python<'py>,
    func: &str,
    a: Bound<'py, PyAny>,
    axis: Bound<'py, PyAny>,
    dtype: Bound<'py, PyAny>,
    out: Bound<'py, PyAny>,
    keepdims: Bound<'py, PyAny>,
    initial: Bound<'py, PyAny>,
    r#where: Bound<'py, PyAny>,
    ddof: Bound<'py, PyAny>,
    mean: Bound<'py, PyAny>,
    correction: Bound<'py, PyAny>,
) -> PyResult<Bound<'py, PyDict>> {
    let func = parse_func(func)?;
    let args = collect(
        py, func, a, axis, dtype, out, keepdims, initial, r#where, ddof, mean, correction,
    )?;
    rules::plan(py, func, &args)?.describe(py)
}

fn parse_func(name: &str) -> PyResult<Func> {
    Func::from_name(name).ok_or_else(|| {
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
