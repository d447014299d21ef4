//! `stridewise._native`: numpy's reductions on the stridewise kernels.
//!
//! Every reduction goes the same way: the Python layer (`stridewise/_reduce.py`, numpy's
//! signatures) calls [`reduce`], which only checks the keywords against the kernels' table of
//! reductions (`stridewise::ops`) into [`rules::Args`]; [`rules::plan`] (the one place that
//! knows numpy's rules) decides the path (kernel, kernel after a copy, or numpy itself) and
//! [`exec`] runs it. The aligned arrays that Rust owns and numpy views live in [`owner`].

mod exec;
mod fast;
mod input;
mod owner;
mod pieces;
mod rules;

use pyo3::prelude::*;
use pyo3::types::PyDict;
use rules::{Args, Op, Slot};

/// Every reduction: `func` by name, the array, and numpy's other arguments by position,
/// bound to the reduction's keywords in its row of the table (`REDUCTIONS`), in the table's
/// order (numpy's). `numpy._NoValue` where it is numpy's own default (keepdims, initial,
/// where, mean, correction) means not given. The Python layer (`stridewise/_reduce.py`)
/// gives each function numpy's signature and calls this. The positions are parameters, and
/// there is no `**kwargs`, so that pyo3 takes the fastcall convention: `*args` or `**kwargs`
/// make it build a tuple and a dict per call, more than a tenth of reducing a thousand
/// elements. [`reduce_named`] takes names too.
#[pyfunction]
#[pyo3(signature = (
    func, a, p0=Slot::Absent, p1=Slot::Absent, p2=Slot::Absent, p3=Slot::Absent,
    p4=Slot::Absent, p5=Slot::Absent, p6=Slot::Absent, p7=Slot::Absent, /
))]
#[allow(clippy::too_many_arguments)]
fn reduce<'py>(
    py: Python<'py>,
    func: &str,
    a: Bound<'py, PyAny>,
    p0: Slot<'py>,
    p1: Slot<'py>,
    p2: Slot<'py>,
    p3: Slot<'py>,
    p4: Slot<'py>,
    p5: Slot<'py>,
    p6: Slot<'py>,
    p7: Slot<'py>,
) -> PyResult<Bound<'py, PyAny>> {
    let slots = [p0, p1, p2, p3, p4, p5, p6, p7];
    if let Some(r) = fast::whole(py, func, &a, &slots)? {
        return Ok(r);
    }
    let (op, args) = bind(py, func, a, slots, None)?;
    let plan = rules::plan(py, op, &args)?;
    exec::run(py, op, &args, plan)
}

/// [`reduce`] with arguments by position or by name (`reduce_named("var", a, axis=0,
/// ddof=1)`), checked against the reduction's keywords as numpy checks its own: a keyword
/// the function does not take is numpy's TypeError.
#[pyfunction]
#[pyo3(signature = (
    func, a, p0=Slot::Absent, p1=Slot::Absent, p2=Slot::Absent, p3=Slot::Absent,
    p4=Slot::Absent, p5=Slot::Absent, p6=Slot::Absent, p7=Slot::Absent, /, **kwargs
))]
#[allow(clippy::too_many_arguments)]
fn reduce_named<'py>(
    py: Python<'py>,
    func: &str,
    a: Bound<'py, PyAny>,
    p0: Slot<'py>,
    p1: Slot<'py>,
    p2: Slot<'py>,
    p3: Slot<'py>,
    p4: Slot<'py>,
    p5: Slot<'py>,
    p6: Slot<'py>,
    p7: Slot<'py>,
    kwargs: Option<&Bound<'py, PyDict>>,
) -> PyResult<Bound<'py, PyAny>> {
    let (op, args) = bind(py, func, a, [p0, p1, p2, p3, p4, p5, p6, p7], kwargs)?;
    let plan = rules::plan(py, op, &args)?;
    exec::run(py, op, &args, plan)
}

/// Which path `reduce` would take and why, without running it (arguments as `reduce_named`).
#[pyfunction]
#[pyo3(signature = (
    func, a, p0=Slot::Absent, p1=Slot::Absent, p2=Slot::Absent, p3=Slot::Absent,
    p4=Slot::Absent, p5=Slot::Absent, p6=Slot::Absent, p7=Slot::Absent, /, **kwargs
))]
#[allow(clippy::too_many_arguments)]
fn explain<'py>(
    py: Python<'py>,
    func: &str,
    a: Bound<'py, PyAny>,
    p0: Slot<'py>,
    p1: Slot<'py>,
    p2: Slot<'py>,
    p3: Slot<'py>,
    p4: Slot<'py>,
    p5: Slot<'py>,
    p6: Slot<'py>,
    p7: Slot<'py>,
    kwargs: Option<&Bound<'py, PyDict>>,
) -> PyResult<Bound<'py, PyDict>> {
    let (op, args) = bind(py, func, a, [p0, p1, p2, p3, p4, p5, p6, p7], kwargs)?;
    rules::plan(py, op, &args)?.describe(py)
}

/// The input adapter (`input.rs`) for the Python layer's own functions (quantiles,
/// `average`): `(array, how)`, the ndarray the kernels would read and the name of the road it
/// came by (`"ndarray"`, `"buffer protocol"`, `"__array_interface__"`, `"dlpack"`,
/// `"numpy.asarray"`), or `(None, why numpy takes it)`, or `(None, "dask")` for a Dask array
/// (`stridewise/_dask.py` reduces it). `BufferError` for a DLPack tensor
/// that is not in CPU memory.
#[pyfunction]
#[pyo3(signature = (a, /))]
fn adapt<'py>(
    py: Python<'py>,
    a: Bound<'py, PyAny>,
) -> PyResult<(Option<Bound<'py, numpy::PyUntypedArray>>, String)> {
    Ok(match input::input(py, &a, None)? {
        input::Input::Array(arr, via) => (Some(arr), via.name().to_owned()),
        input::Input::Numpy(why) => (None, why.into_owned()),
        input::Input::Dask => (None, "dask".to_owned()),
    })
}

/// The arguments of `reduce`, `reduce_named` and `explain`: the reduction named `func`, and
/// the others bound to its keywords. (pyo3 needs each signature written out.)
fn bind<'py>(
    py: Python<'py>,
    func: &str,
    a: Bound<'py, PyAny>,
    positional: [Slot<'py>; rules::POSITIONS],
    kwargs: Option<&Bound<'py, PyDict>>,
) -> PyResult<(Op, Args<'py>)> {
    let op = Op::from_name(func).ok_or_else(|| {
        pyo3::exceptions::PyValueError::new_err(format!("{func:?} is not a stridewise reduction"))
    })?;
    Ok((op, Args::collect(py, op, a, positional, kwargs)?))
}

/// `weighted`'s answer: averages, weight sums, a sum is zero, all averages are finite.
type Averages<'py> = (Bound<'py, PyAny>, Bound<'py, PyAny>, bool, bool);

/// The weighted averages behind `average(a, axis, weights)`: `a` and `w` are exact ndarrays
/// of one shape (weights along some axes already broadcast by the Python layer, as numpy's
/// `average` reshapes them), `axes` the reduced axes (normalised) or `None` for all. Returns
/// `(averages, weight sums, some weight sum is zero, every average is finite)`, the arrays
/// of the kept shape (C order) in float32 when `single` (numpy's result dtype is float32)
/// else float64, the flags judged on those values; or `None` when either array cannot be
/// read in place (not a kernel dtype, byte-swapped, misaligned, strides not in whole
/// elements): the caller copies it first. numpy's checks (shapes, zero sums, warnings) are
/// the Python layer's (`_average.py`).
#[pyfunction]
#[pyo3(signature = (a, w, axes, single, /))]
fn weighted<'py>(
    py: Python<'py>,
    a: Bound<'py, numpy::PyUntypedArray>,
    w: Bound<'py, numpy::PyUntypedArray>,
    axes: Option<Vec<isize>>,
    single: bool,
) -> PyResult<Option<Averages<'py>>> {
    use numpy::PyArrayMethods;
    let (Some(ea), Some(ew)) = (kernel_elem(&a), kernel_elem(&w)) else {
        return Ok(None);
    };
    let (Ok(ra), Ok(rw)) = (input::raw_array(&a, ea), input::raw_array(&w, ew)) else {
        return Ok(None);
    };
    let bad = |e: stridewise::ReduceError| pyo3::exceptions::PyValueError::new_err(e.to_string());
    let parts = exec::detached(py, ra.len(), || ra.weighted(&rw, axes.as_deref())).map_err(bad)?;
    let shape: Vec<usize> = match &axes {
        None => vec![],
        Some(ax) => {
            let sorted = stridewise::layout::resolve_axes(ax, ra.shape().len())
                .map_err(|e| bad(e.into()))?;
            stridewise::layout::result_shape(ra.shape(), Some(&sorted), false)
        }
    };
    /// The values as arrays of `shape`, and the flags judged on those values (`finite` is
    /// the type's `is_finite`).
    fn pack<'py, T: numpy::Element + Copy + PartialEq + Default>(
        py: Python<'py>,
        avg: Vec<T>,
        sums: Vec<T>,
        shape: &[usize],
        finite: fn(T) -> bool,
    ) -> PyResult<Averages<'py>> {
        let zero = sums.contains(&T::default());
        let all_finite = avg.iter().all(|&x| finite(x));
        let shaped = |v: Vec<T>| -> PyResult<Bound<'py, PyAny>> {
            Ok(numpy::PyArray1::from_vec(py, v)
                .reshape(shape.to_vec())?
                .into_any())
        };
        Ok((shaped(avg)?, shaped(sums)?, zero, all_finite))
    }
    let avg = parts.iter().map(|p| p.average());
    let sums = parts.iter().map(|p| p.weight_sum());
    Ok(Some(if single {
        let narrow = |x: f64| x as f32;
        let (avg, sums) = (avg.map(narrow).collect(), sums.map(narrow).collect());
        pack::<f32>(py, avg, sums, &shape, f32::is_finite)?
    } else {
        pack::<f64>(py, avg.collect(), sums.collect(), &shape, f64::is_finite)?
    }))
}

/// The element type of an ndarray the kernels read in place (native byte order, no fields).
fn kernel_elem(x: &Bound<'_, numpy::PyUntypedArray>) -> Option<stridewise::ElemType> {
    use numpy::{PyArrayDescrMethods, PyUntypedArrayMethods};
    let d = x.dtype();
    stridewise::ElemType::from_numpy(d.kind(), d.itemsize())
        .filter(|_| d.is_native_byteorder() != Some(false) && !d.has_fields())
}

/// `a` as the selection reads it in place, with its element type; `None` for bool and for
/// what cannot be read in place (the caller copies it first).
fn selectable<'a>(
    a: &'a Bound<'_, numpy::PyUntypedArray>,
) -> Option<(stridewise::ElemType, stridewise::RawArray<'a>)> {
    let elem = kernel_elem(a).filter(|e| *e != stridewise::ElemType::Bool)?;
    Some((elem, input::raw_array(a, elem).ok()?))
}

/// Order statistics for median/quantile (`stridewise/_quantile.py`): for each output of `a`
/// over `axes` (`None`: every axis), its elements at `ranks` of its values sorted ascending
/// (NaN last), written into `values` (a fresh C-contiguous array of `a`'s dtype, `k` per
/// output, C order). `mode` says which: "shared" (`ranks` for every output), "per_output"
/// (`k` of `ranks` per output) or "middle" (`ranks` empty, `k` = 2: the middle two of each
/// output's numbers, ``(c - 1) // 2`` and ``c // 2`` for `c` numbers, rank 0 for none; one
/// pass for nanmedian). Returns each output's count of numbers (not NaN) as int64, or `None`
/// when `a` cannot be read in place (the caller copies it first).
#[pyfunction]
#[pyo3(signature = (a, axes, ranks, mode, values, /))]
fn order_statistics<'py>(
    py: Python<'py>,
    a: Bound<'py, numpy::PyUntypedArray>,
    axes: Option<Vec<isize>>,
    ranks: numpy::PyReadonlyArray1<'py, i64>,
    mode: &str,
    values: Bound<'py, numpy::PyUntypedArray>,
) -> PyResult<Option<Bound<'py, numpy::PyArray1<i64>>>> {
    use numpy::{PyArrayDescrMethods, PyUntypedArrayMethods};
    let bad = |e: String| pyo3::exceptions::PyValueError::new_err(e);
    let Some((elem, raw)) = selectable(&a) else {
        return Ok(None);
    };
    let ranks: Vec<usize> = ranks
        .as_slice()?
        .iter()
        .map(|&r| usize::try_from(r).map_err(|_| bad(format!("negative rank {r}"))))
        .collect::<PyResult<_>>()?;
    let (outs, _) = raw
        .selection_shape(axes.as_deref())
        .map_err(|e| bad(e.to_string()))?;
    let k = match mode {
        "shared" => ranks.len(),
        "per_output" => ranks.len() / outs.max(1),
        "middle" => 2,
        _ => return Err(bad(format!("mode {mode:?}: shared, per_output or middle"))),
    };
    // SAFETY: `values` is a live ndarray; its flags and data pointer are read.
    let (flags, data) = unsafe {
        let p = values.as_array_ptr();
        ((*p).fields.flags, (*p).fields.data)
    };
    let wanted = numpy::npyffi::NPY_ARRAY_C_CONTIGUOUS
        | numpy::npyffi::NPY_ARRAY_ALIGNED
        | numpy::npyffi::NPY_ARRAY_WRITEABLE;
    if flags & wanted != wanted
        || !values.dtype().is_equiv_to(&a.dtype())
        || values.len() != outs * k
    {
        return Err(bad(
            "values: a C-contiguous writeable array of a's dtype, k per output".into(),
        ));
    }
    // SAFETY: `values` is C-contiguous, aligned and writeable, `outs * k` elements of
    // `elem`'s size from `data`; the caller made it for this call and nothing else reads or
    // writes it until we return (we hold a reference, and the GIL is released only around
    // the kernel, which writes nothing else).
    let out = unsafe { std::slice::from_raw_parts_mut(data.cast::<u8>(), outs * k * elem.size()) };
    let mut counts = vec![0usize; outs];
    let middle = |c: usize, r: &mut [usize]| {
        let c = c.max(1);
        r.copy_from_slice(&[(c - 1) / 2, c / 2]);
    };
    let spec = match mode {
        "shared" => stridewise::Ranks::Shared(&ranks),
        "per_output" => stridewise::Ranks::PerOutput { ranks: &ranks, k },
        _ => stridewise::Ranks::ByCount { ranks: &middle, k },
    };
    exec::detached(py, raw.len(), || {
        raw.order_statistics(axes.as_deref(), spec, out, &mut counts)
    })
    .map_err(|e| bad(e.to_string()))?;
    let counts: Vec<i64> = counts.into_iter().map(|c| c as i64).collect();
    Ok(Some(numpy::PyArray1::from_vec(py, counts)))
}

/// Each output's count of numbers (elements that are not NaN) of `a` over `axes`, as int64,
/// or `None` when `a` cannot be read in place.
#[pyfunction]
#[pyo3(signature = (a, axes, /))]
fn number_counts<'py>(
    py: Python<'py>,
    a: Bound<'py, numpy::PyUntypedArray>,
    axes: Option<Vec<isize>>,
) -> PyResult<Option<Bound<'py, numpy::PyArray1<i64>>>> {
    let bad = |e: stridewise::ReduceError| pyo3::exceptions::PyValueError::new_err(e.to_string());
    let Some((_, raw)) = selectable(&a) else {
        return Ok(None);
    };
    let (outs, _) = raw.selection_shape(axes.as_deref()).map_err(bad)?;
    let mut counts = vec![0usize; outs];
    exec::detached(py, raw.len(), || {
        raw.number_counts(axes.as_deref(), &mut counts)
    })
    .map_err(bad)?;
    let counts: Vec<i64> = counts.into_iter().map(|c| c as i64).collect();
    Ok(Some(numpy::PyArray1::from_vec(py, counts)))
}

/// The crate's own quantiles (`stridewise::quantile_axes`: numpy's formulas in f64) of `a`
/// over `axes`, as a float64 array of shape (len(q), outputs), NaNs left out with
/// `skip_nan`; `None` when `a` cannot be read in place. The Python functions use numpy's
/// helpers on the order statistics instead (numpy's result types); this one is the Rust
/// API's, checked against numpy by the tests.
#[pyfunction]
#[pyo3(signature = (a, axes, q, method, skip_nan, /))]
fn quantiles<'py>(
    py: Python<'py>,
    a: Bound<'py, numpy::PyUntypedArray>,
    axes: Option<Vec<isize>>,
    q: numpy::PyReadonlyArray1<'py, f64>,
    method: &str,
    skip_nan: bool,
) -> PyResult<Option<Bound<'py, numpy::PyArray2<f64>>>> {
    let bad = |e: String| pyo3::exceptions::PyValueError::new_err(e);
    let Some((_, raw)) = selectable(&a) else {
        return Ok(None);
    };
    let method = stridewise::QuantileMethod::from_name(method)
        .ok_or_else(|| bad(format!("{method:?} is not a valid method")))?;
    let q = q.as_slice()?.to_vec();
    let (outs, _) = raw
        .selection_shape(axes.as_deref())
        .map_err(|e| bad(e.to_string()))?;
    let mut values = vec![0.0; q.len() * outs];
    exec::detached(py, raw.len(), || {
        raw.quantiles(axes.as_deref(), &q, method, skip_nan, &mut values)
    })
    .map_err(|e| bad(e.to_string()))?;
    use numpy::PyArrayMethods;
    let flat = numpy::PyArray1::from_vec(py, values);
    Ok(Some(flat.reshape([q.len(), outs])?))
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

/// A read-bandwidth probe the benchmark harness divides by: the wrapping sum of a
/// C-contiguous uint64 array, read once on the reduction pool, in order
/// (`stridewise::read_probe`) or, with `streams=True`, as 4 streams side by side
/// (`stridewise::read_probe_streams`). A benchmark helper, not a reduction.
#[pyfunction]
#[pyo3(signature = (words, /, streams=false))]
fn read_probe(
    py: Python<'_>,
    words: numpy::PyReadonlyArray1<'_, u64>,
    streams: bool,
) -> PyResult<u64> {
    let words = words.as_slice().map_err(|_| {
        pyo3::exceptions::PyValueError::new_err("read_probe needs a C-contiguous uint64 array")
    })?;
    Ok(py.detach(|| {
        if streams {
            stridewise::read_probe_streams(words)
        } else {
            stridewise::read_probe(words)
        }
    }))
}

#[pymodule]
fn _native(m: &Bound<'_, PyModule>) -> PyResult<()> {
    m.add("REDUCTIONS", rules::reductions_table(m.py())?)?;
    // numpy's functions for the numpy path, taken now (see `rules::numpy_function`).
    rules::numpy_function(m.py(), Op::Sum)?;
    m.add_function(wrap_pyfunction!(reduce, m)?)?;
    m.add_function(wrap_pyfunction!(reduce_named, m)?)?;
    m.add_function(wrap_pyfunction!(explain, m)?)?;
    m.add_function(wrap_pyfunction!(adapt, m)?)?;
    m.add_function(wrap_pyfunction!(simd_level, m)?)?;
    m.add_function(wrap_pyfunction!(available_simd_levels, m)?)?;
    m.add_function(wrap_pyfunction!(set_simd_level, m)?)?;
    m.add_function(wrap_pyfunction!(set_num_threads, m)?)?;
    m.add_function(wrap_pyfunction!(get_num_threads, m)?)?;
    m.add_function(wrap_pyfunction!(parallel_threshold, m)?)?;
    m.add_function(wrap_pyfunction!(read_probe, m)?)?;
    m.add_function(wrap_pyfunction!(weighted, m)?)?;
    m.add_function(wrap_pyfunction!(order_statistics, m)?)?;
    m.add_function(wrap_pyfunction!(number_counts, m)?)?;
    m.add_function(wrap_pyfunction!(quantiles, m)?)?;
    m.add_function(wrap_pyfunction!(pieces::partials, m)?)?;
    m.add_function(wrap_pyfunction!(pieces::combine_partials, m)?)?;
    m.add_function(wrap_pyfunction!(pieces::finalise_partials, m)?)?;
    owner::register(m)?;
    Ok(())
}
