//! `stridewise._native`: numpy's reductions on the stridewise kernels.
//!
//! Every reduction goes the same way: the `#[pyfunction]` below only collects its arguments
//! into [`rules::Args`]; [`rules::plan`] (the one place that knows numpy's rules) decides the
//! path (kernel, kernel after a copy, or numpy itself) and [`exec`] runs it. The aligned arrays
//! that Rust owns and numpy views live in [`owner`].

mod exec;
mod owner;
mod rules;

use pyo3::prelude::*;
use pyo3::types::{PyDict, PyString};
use rules::{Args, Func};

/// One reduction: plan it, then run it on the chosen path.
fn reduce<'py>(py: Python<'py>, func: Func, args: Args<'py>) -> PyResult<Bound<'py, PyAny>> {
    let plan = rules::plan(py, func, &args)?;
    exec::run(py, func, &args, plan)
}

macro_rules! args {
    ($a:expr; $($field:ident = $value:expr),* $(,)?) => {{
        let mut args = Args::new($a);
        $(args.$field = $value;)*
        args
    }};
}

/// Sum of array elements over a given axis. numpy: `numpy.sum`.
#[pyfunction]
#[pyo3(signature = (a, axis=None, dtype=None, out=None, keepdims=None, initial=None, r#where=None))]
#[pyo3(
    text_signature = "(a, axis=None, dtype=None, out=None, keepdims=False, initial=<no value>, where=True)"
)]
#[allow(clippy::too_many_arguments)]
fn sum<'py>(
    py: Python<'py>,
    a: Bound<'py, PyAny>,
    axis: Option<Bound<'py, PyAny>>,
    dtype: Option<Bound<'py, PyAny>>,
    out: Option<Bound<'py, PyAny>>,
    keepdims: Option<Bound<'py, PyAny>>,
    initial: Option<Bound<'py, PyAny>>,
    r#where: Option<Bound<'py, PyAny>>,
) -> PyResult<Bound<'py, PyAny>> {
    let args = args!(a; axis = axis, dtype = dtype, out = out, keepdims = keepdims,
        initial = initial, where_ = r#where);
    reduce(py, Func::Sum, args)
}

/// Sum treating NaN as zero. numpy: `numpy.nansum`.
#[pyfunction]
#[pyo3(signature = (a, axis=None, dtype=None, out=None, keepdims=None, initial=None, r#where=None))]
#[pyo3(
    text_signature = "(a, axis=None, dtype=None, out=None, keepdims=False, initial=<no value>, where=True)"
)]
#[allow(clippy::too_many_arguments)]
fn nansum<'py>(
    py: Python<'py>,
    a: Bound<'py, PyAny>,
    axis: Option<Bound<'py, PyAny>>,
    dtype: Option<Bound<'py, PyAny>>,
    out: Option<Bound<'py, PyAny>>,
    keepdims: Option<Bound<'py, PyAny>>,
    initial: Option<Bound<'py, PyAny>>,
    r#where: Option<Bound<'py, PyAny>>,
) -> PyResult<Bound<'py, PyAny>> {
    let args = args!(a; axis = axis, dtype = dtype, out = out, keepdims = keepdims,
        initial = initial, where_ = r#where);
    reduce(py, Func::NanSum, args)
}

macro_rules! mean_like {
    ($name:ident, $func:expr, $doc:literal) => {
        #[doc = $doc]
        #[pyfunction]
        #[pyo3(signature = (a, axis=None, dtype=None, out=None, keepdims=None, *, r#where=None))]
        #[pyo3(text_signature = "(a, axis=None, dtype=None, out=None, keepdims=False, *, where=True)")]
        fn $name<'py>(
            py: Python<'py>,
            a: Bound<'py, PyAny>,
            axis: Option<Bound<'py, PyAny>>,
            dtype: Option<Bound<'py, PyAny>>,
            out: Option<Bound<'py, PyAny>>,
            keepdims: Option<Bound<'py, PyAny>>,
            r#where: Option<Bound<'py, PyAny>>,
        ) -> PyResult<Bound<'py, PyAny>> {
            let args = args!(a; axis = axis, dtype = dtype, out = out,
                keepdims = keepdims, where_ = r#where);
            reduce(py, $func, args)
        }
    };
}

mean_like!(
    mean,
    Func::Mean,
    "Arithmetic mean over a given axis. numpy: `numpy.mean`."
);
mean_like!(
    nanmean,
    Func::NanMean,
    "Arithmetic mean ignoring NaN. numpy: `numpy.nanmean`."
);

macro_rules! var_like {
    ($name:ident, $pyname:literal, $func:expr, $doc:literal) => {
        #[doc = $doc]
        #[pyfunction(name = $pyname)]
        #[pyo3(signature = (a, axis=None, dtype=None, out=None, ddof=None, keepdims=None, *,
            r#where=None, mean=None, correction=None))]
        #[pyo3(
            text_signature = "(a, axis=None, dtype=None, out=None, ddof=0, keepdims=False, *, where=True, mean=<no value>, correction=<no value>)"
        )]
        #[allow(clippy::too_many_arguments)]
        fn $name<'py>(
            py: Python<'py>,
            a: Bound<'py, PyAny>,
            axis: Option<Bound<'py, PyAny>>,
            dtype: Option<Bound<'py, PyAny>>,
            out: Option<Bound<'py, PyAny>>,
            ddof: Option<Bound<'py, PyAny>>,
            keepdims: Option<Bound<'py, PyAny>>,
            r#where: Option<Bound<'py, PyAny>>,
            mean: Option<Bound<'py, PyAny>>,
            correction: Option<Bound<'py, PyAny>>,
        ) -> PyResult<Bound<'py, PyAny>> {
            let args = args!(a; axis = axis, dtype = dtype, out = out, ddof = ddof,
                keepdims = keepdims, where_ = r#where, mean = mean, correction = correction);
            reduce(py, $func, args)
        }
    };
}

var_like!(
    var,
    "var",
    Func::Var,
    "Variance over a given axis. numpy: `numpy.var`."
);
var_like!(
    std_,
    "std",
    Func::Std,
    "Standard deviation over a given axis. numpy: `numpy.std`."
);
var_like!(
    nanvar,
    "nanvar",
    Func::NanVar,
    "Variance ignoring NaN. numpy: `numpy.nanvar`."
);
var_like!(
    nanstd,
    "nanstd",
    Func::NanStd,
    "Standard deviation ignoring NaN. numpy: `numpy.nanstd`."
);

macro_rules! min_like {
    ($name:ident, $func:expr, $doc:literal) => {
        #[doc = $doc]
        #[pyfunction]
        #[pyo3(signature = (a, axis=None, out=None, keepdims=None, initial=None, r#where=None))]
        #[pyo3(
            text_signature = "(a, axis=None, out=None, keepdims=False, initial=<no value>, where=True)"
        )]
        #[allow(clippy::too_many_arguments)]
        fn $name<'py>(
            py: Python<'py>,
            a: Bound<'py, PyAny>,
            axis: Option<Bound<'py, PyAny>>,
            out: Option<Bound<'py, PyAny>>,
            keepdims: Option<Bound<'py, PyAny>>,
            initial: Option<Bound<'py, PyAny>>,
            r#where: Option<Bound<'py, PyAny>>,
        ) -> PyResult<Bound<'py, PyAny>> {
            let args = args!(a; axis = axis, out = out, keepdims = keepdims,
                initial = initial, where_ = r#where);
            reduce(py, $func, args)
        }
    };
}

min_like!(
    min,
    Func::Min,
    "Minimum over a given axis. numpy: `numpy.min`."
);
min_like!(
    max,
    Func::Max,
    "Maximum over a given axis. numpy: `numpy.max`."
);
min_like!(
    nanmin,
    Func::NanMin,
    "Minimum ignoring NaN. numpy: `numpy.nanmin`."
);
min_like!(
    nanmax,
    Func::NanMax,
    "Maximum ignoring NaN. numpy: `numpy.nanmax`."
);

/// Which path `func(a, **kwargs)` takes and why, without running it.
#[pyfunction]
#[pyo3(signature = (func, a, **kwargs))]
fn explain<'py>(
    py: Python<'py>,
    func: Bound<'py, PyAny>,
    a: Bound<'py, PyAny>,
    kwargs: Option<Bound<'py, PyDict>>,
) -> PyResult<Bound<'py, PyDict>> {
    let name: String = match func.cast::<PyString>() {
        Ok(s) => s.to_str()?.to_owned(),
        Err(_) => func.getattr("__name__")?.extract()?,
    };
    let func = Func::from_name(&name).ok_or_else(|| {
        pyo3::exceptions::PyValueError::new_err(format!(
            "explain: {name:?} is not a stridewise reduction"
        ))
    })?;
    let args = Args::from_kwargs(func, a, kwargs.as_ref())?;
    let plan = rules::plan(py, func, &args)?;
    plan.describe(py)
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

#[pymodule]
fn _native(m: &Bound<'_, PyModule>) -> PyResult<()> {
    m.add_function(wrap_pyfunction!(sum, m)?)?;
    m.add_function(wrap_pyfunction!(nansum, m)?)?;
    m.add_function(wrap_pyfunction!(mean, m)?)?;
    m.add_function(wrap_pyfunction!(nanmean, m)?)?;
    m.add_function(wrap_pyfunction!(var, m)?)?;
    m.add_function(wrap_pyfunction!(std_, m)?)?;
    m.add_function(wrap_pyfunction!(nanvar, m)?)?;
    m.add_function(wrap_pyfunction!(nanstd, m)?)?;
    m.add_function(wrap_pyfunction!(min, m)?)?;
    m.add_function(wrap_pyfunction!(max, m)?)?;
    m.add_function(wrap_pyfunction!(nanmin, m)?)?;
    m.add_function(wrap_pyfunction!(nanmax, m)?)?;
    m.add_function(wrap_pyfunction!(explain, m)?)?;
    m.add_function(wrap_pyfunction!(simd_level, m)?)?;
    m.add_function(wrap_pyfunction!(available_simd_levels, m)?)?;
    m.add_function(wrap_pyfunction!(set_simd_level, m)?)?;
    m.add_function(wrap_pyfunction!(set_num_threads, m)?)?;
    m.add_function(wrap_pyfunction!(get_num_threads, m)?)?;
    m.add_function(wrap_pyfunction!(parallel_threshold, m)?)?;
    owner::register(m)?;
    Ok(())
}
