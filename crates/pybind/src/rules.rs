//! numpy's rules, in one place: for each call, which path it takes and why.
//!
//! 1. **kernel**: an exact `numpy.ndarray` of a kernel dtype (bool, int8..uint64, float32,
//!    float64) in native byte order, aligned, with byte strides that are whole elements. The
//!    kernels read numpy's memory in place, whatever the strides, with the GIL released.
//! 2. **kernel+copy**: the same dtypes byte-swapped, misaligned or with strides that are not
//!    whole elements (record fields), float16 (reduced as float32, as numpy accumulates it), and
//!    `dtype=` asking for a wider float: copied once by numpy's `astype`, then the kernel.
//! 3. **numpy**: everything else is numpy's own function called with the same arguments, so the
//!    answer, the warnings and the errors are numpy's: other dtypes, ndarray subclasses and
//!    objects with their own methods, `where=`, `initial=`, `mean=`, an `out=` that is not an
//!    exact match, a bad `axis`, and the degenerate calls whose answer is a warning or an error
//!    (mean/var of an empty slice, `ddof >= n`, min/max of an empty slice).

use numpy::{PyArrayDescr, PyArrayDescrMethods, PyUntypedArray, PyUntypedArrayMethods};
use pyo3::exceptions::PyTypeError;
use pyo3::prelude::*;
use pyo3::sync::PyOnceLock;
use pyo3::types::{PyBool, PyDict, PyString, PyTuple};
use std::borrow::Cow;

use crate::input::{input, Input, Via};
pub use stridewise::{Degenerate, ElemType as Elem, Family, Kw, NanHandling, Op};

/// numpy's dtypes of the kernel types, made once from the element table's names.
static DTYPES: PyOnceLock<Vec<Py<PyArrayDescr>>> = PyOnceLock::new();

/// numpy's native dtype of a kernel type.
pub fn dtype_of(py: Python<'_>, e: Elem) -> PyResult<Bound<'_, PyArrayDescr>> {
    let all = DTYPES.get_or_try_init(py, || {
        let dtype = numpy_module(py)?.getattr("dtype")?;
        Elem::ALL
            .iter()
            .map(|e| {
                Ok(dtype
                    .call1((e.info().numpy,))?
                    .cast_into::<PyArrayDescr>()?
                    .unbind())
            })
            .collect::<PyResult<Vec<_>>>()
    })?;
    Ok(all[e as usize].bind(py).clone())
}

/// The reductions as Python sees them (`_native.REDUCTIONS`): for each name, a dict of its
/// row of the kernels' table (`stridewise::ops`).
pub fn reductions_table(py: Python<'_>) -> PyResult<Bound<'_, PyDict>> {
    let table = PyDict::new(py);
    for op in Op::ALL {
        let i = op.info();
        let row = PyDict::new(py);
        let family = match i.family {
            Family::Sum => "sum",
            Family::Mean => "mean",
            Family::Var if i.sqrt => "std",
            Family::Var => "var",
            Family::Extreme => "minmax",
            Family::CountNonzero => "count_nonzero",
            Family::Any => "any",
            Family::All => "all",
            Family::Range => "ptp",
            Family::Arg => "arg",
            Family::Prod => "prod",
        };
        row.set_item("family", family)?;
        row.set_item("skips_nan", i.nan == NanHandling::Ignore)?;
        let keywords = i.keywords.iter().map(|k| k.name());
        row.set_item("keywords", PyTuple::new(py, keywords)?)?;
        let degenerate = match i.degenerate {
            stridewise::Degenerate::Never => "never",
            stridewise::Degenerate::Empty => "empty",
            stridewise::Degenerate::NoDegreesOfFreedom => "no-dof",
            stridewise::Degenerate::EmptyIsError => "empty-is-error",
        };
        row.set_item("degenerate", degenerate)?;
        let results = PyDict::new(py);
        for e in Elem::ALL {
            results.set_item(e.info().numpy, op.result_type(e).info().numpy)?;
        }
        row.set_item("result_dtype", results)?;
        table.set_item(i.name, row)?;
    }
    Ok(table)
}

/// A positional argument of the native `reduce`: not passed, or any object (`None` too).
pub enum Slot<'py> {
    Absent,
    Given(Bound<'py, PyAny>),
}

impl<'a, 'py> FromPyObject<'a, 'py> for Slot<'py> {
    type Error = PyErr;

    fn extract(obj: Borrowed<'a, 'py, PyAny>) -> PyResult<Self> {
        Ok(Slot::Given(obj.to_owned()))
    }
}

/// The positions the native `reduce` takes after `a` (the most keywords of any reduction).
pub const POSITIONS: usize = 8;

const _: () = {
    let mut i = 0;
    while i < Op::ALL.len() {
        assert!(
            Op::ALL[i].info().keywords.len() <= POSITIONS,
            "raise POSITIONS"
        );
        i += 1;
    }
};

/// A reduction's arguments as the caller gave them: `a`, and each keyword's value if given.
pub struct Args<'py> {
    pub a: Bound<'py, PyAny>,
    op: Op,
    /// By keyword (`Kw as usize`).
    given: [Option<Bound<'py, PyAny>>; Kw::ALL.len()],
}

impl<'py> Args<'py> {
    /// Bind `args` (positionally, to `op`'s keywords in the table's order, which is numpy's)
    /// and `kwargs` (by name) to `op`'s keywords, refusing what numpy's function would refuse
    /// (TypeError: too many, unknown or repeated). `numpy._NoValue` where it is numpy's own
    /// default means not given.
    pub fn collect(
        py: Python<'py>,
        op: Op,
        a: Bound<'py, PyAny>,
        positional: [Slot<'py>; POSITIONS],
        kwargs: Option<&Bound<'py, PyDict>>,
    ) -> PyResult<Self> {
        let keywords = op.info().keywords;
        let mut given: [Option<Bound<'py, PyAny>>; Kw::ALL.len()] = Default::default();
        for (i, slot) in positional.into_iter().enumerate() {
            let Slot::Given(v) = slot else { continue };
            let Some(&kw) = keywords.get(i) else {
                return Err(PyTypeError::new_err(format!(
                    "{}() takes at most {} arguments after a",
                    op.name(),
                    keywords.len()
                )));
            };
            given[kw as usize] = Some(v);
        }
        if let Some(kwargs) = kwargs {
            for (k, v) in kwargs.iter() {
                let name = k.cast::<PyString>()?.to_str()?;
                let Some(kw) = Kw::from_name(name).filter(|kw| keywords.contains(kw)) else {
                    return Err(PyTypeError::new_err(format!(
                        "{}() got an unexpected keyword argument '{name}'",
                        op.name()
                    )));
                };
                if given[kw as usize].is_some() {
                    return Err(PyTypeError::new_err(format!(
                        "{}() got multiple values for argument '{name}'",
                        op.name()
                    )));
                }
                given[kw as usize] = Some(v);
            }
        }
        let no_value = no_value(py)?;
        for kw in keywords {
            let slot = &mut given[*kw as usize];
            if op.defaults_to_no_value(*kw) && slot.as_ref().is_some_and(|v| v.is(&no_value)) {
                *slot = None;
            }
        }
        Ok(Self { a, op, given })
    }

    /// The value of keyword `kw`, if given.
    pub fn get(&self, kw: Kw) -> Option<&Bound<'py, PyAny>> {
        self.given[kw as usize].as_ref()
    }

    /// The value of keyword `kw`, if given and not `None`.
    fn get_some(&self, kw: Kw) -> Option<&Bound<'py, PyAny>> {
        self.get(kw).filter(|v| !v.is_none())
    }

    /// The keyword arguments to hand numpy's function: those the caller gave.
    pub fn numpy_kwargs(&self, py: Python<'py>) -> PyResult<Bound<'py, PyDict>> {
        let kw = PyDict::new(py);
        for &key in self.op.info().keywords {
            if let Some(v) = self.get(key) {
                kw.set_item(key.name(), v)?;
            }
        }
        Ok(kw)
    }
}

/// The path a call takes.
#[derive(Clone, Copy, PartialEq, Eq, Debug)]
pub enum Path {
    Kernel,
    KernelCopy,
    Numpy,
    /// A Dask array: `stridewise._dask.reduce`, the kernels on each chunk in Dask's tree.
    Dask,
}

impl Path {
    fn name(self) -> &'static str {
        match self {
            Path::Kernel => "kernel",
            Path::KernelCopy => "kernel+copy",
            Path::Numpy => "numpy",
            Path::Dask => "dask",
        }
    }
}

/// What the kernel paths need to run.
pub struct Work<'py> {
    /// The array to reduce (before the copy, if any).
    pub arr: Bound<'py, PyUntypedArray>,
    /// How the caller's input became `arr`.
    pub via: Via,
    /// Copy `arr` to this (native) dtype first.
    pub copy_to: Option<Bound<'py, PyArrayDescr>>,
    /// Round `arr`'s elements to this dtype before that copy (`dtype=float16` of sums and
    /// means: numpy casts the input to the dtype first).
    pub round_to: Option<Bound<'py, PyArrayDescr>>,
    /// The type the kernel reads (after any copy).
    pub elem: Elem,
    /// The reduction.
    pub op: Op,
    /// The reduced axes, sorted; `None` when every axis is (a full reduction).
    pub axes: Option<Vec<usize>>,
    /// The result's shape (with keepdims).
    pub shape: Vec<usize>,
    pub ddof: f64,
    /// The result's dtype when it is not the kernel's (`dtype=`, float16).
    pub cast: Option<Bound<'py, PyArrayDescr>>,
    /// Where to write the result (already checked: exact shape and dtype, writeable).
    pub out: Option<Bound<'py, PyUntypedArray>>,
}

/// The decision for one call.
pub struct Plan<'py> {
    pub path: Path,
    pub reason: Cow<'static, str>,
    /// `Some` exactly on the kernel paths.
    pub work: Option<Work<'py>>,
}

impl<'py> Plan<'py> {
    fn numpy(reason: impl Into<Cow<'static, str>>) -> PyResult<Self> {
        Ok(Self {
            path: Path::Numpy,
            reason: reason.into(),
            work: None,
        })
    }

    /// `explain`'s answer.
    pub fn describe(&self, py: Python<'py>) -> PyResult<Bound<'py, PyDict>> {
        let d = PyDict::new(py);
        d.set_item("path", self.path.name())?;
        d.set_item("reason", self.reason.as_ref())?;
        d.set_item("simd", stridewise::simd_level().name())?;
        d.set_item("threads", stridewise::get_num_threads())?;
        if let Some(w) = &self.work {
            d.set_item("input", w.via.name())?;
            d.set_item("kernel_dtype", dtype_of(py, w.elem)?)?;
            d.set_item("copy_to", w.copy_to.as_ref())?;
            d.set_item("round_to", w.round_to.as_ref())?;
            d.set_item(
                "axes",
                w.axes.as_ref().map(|a| PyTuple::new(py, a)).transpose()?,
            )?;
            // The loop the kernels run (after numpy's copy, when there is one: its layout
            // is the copy's).
            // Broadcast axes are read once: index 0 only.
            let over: Option<Vec<isize>> = w
                .axes
                .as_ref()
                .map(|a| a.iter().map(|&d| d as isize).collect());
            let raw = match &w.copy_to {
                Some(_) => None,
                None => crate::input::raw_array(&w.arr, w.elem).ok(),
            };
            let (walk, broadcast) = match &raw {
                Some(raw) => (
                    raw.walk_of_op(w.op, over.as_deref()).ok(),
                    raw.broadcast_axes(),
                ),
                None => (None, Vec::new()),
            };
            d.set_item("walk", walk.map(|w| w.to_string()))?;
            d.set_item("broadcast", PyTuple::new(py, &broadcast)?)?;
            // The work the driver compares with its thresholds (a copy is contiguous).
            let n = match &raw {
                Some(raw) => raw.threading_work_of_op(w.op, over.as_deref()).unwrap_or(0),
                None => stridewise::threading_work(w.op, w.elem, w.arr.len()),
            };
            // The rayon pool, or the hand-off helpers below its threshold.
            let threads = stridewise::get_num_threads() > 1;
            let pool = threads && n >= stridewise::PARALLEL_THRESHOLD;
            d.set_item("parallel", pool)?;
            d.set_item(
                "handoff",
                threads && !pool && n >= stridewise::HANDOFF_THRESHOLD,
            )?;
        }
        Ok(d)
    }
}

static NUMPY: PyOnceLock<Py<PyModule>> = PyOnceLock::new();
static NUMPY_FUNCTIONS: PyOnceLock<Vec<Py<PyAny>>> = PyOnceLock::new();

/// numpy's own function for `op` (`numpy.<name>`), the one the numpy path calls. Looked up
/// once, when the module is imported: so a caller who puts stridewise's functions in
/// numpy's namespace (as the tests that run numpy's own test classes do) still reaches
/// numpy's, not stridewise's again.
pub fn numpy_function(py: Python<'_>, op: Op) -> PyResult<Bound<'_, PyAny>> {
    let all = NUMPY_FUNCTIONS.get_or_try_init(py, || {
        let np = numpy_module(py)?;
        Op::ALL
            .iter()
            .map(|op| np.getattr(op.name()).map(Bound::unbind))
            .collect::<PyResult<Vec<_>>>()
    })?;
    Ok(all[op as usize].bind(py).clone())
}
static NO_VALUE: PyOnceLock<Py<PyAny>> = PyOnceLock::new();

/// `numpy._NoValue`, numpy's "argument not given".
pub fn no_value(py: Python<'_>) -> PyResult<Bound<'_, PyAny>> {
    Ok(NO_VALUE
        .get_or_try_init(py, || {
            numpy_module(py)?.getattr("_NoValue").map(Bound::unbind)
        })?
        .bind(py)
        .clone())
}

pub fn numpy_module(py: Python<'_>) -> PyResult<&Bound<'_, PyModule>> {
    Ok(NUMPY
        .get_or_try_init(py, || py.import("numpy").map(Bound::unbind))?
        .bind(py))
}

/// A number for ddof/correction, as numpy accepts them (ints and floats); `None` otherwise,
/// and for NaN, infinities and magnitudes from 2^63 (numpy's `max(n - ddof, 0)` is NaN for a
/// NaN, and an int beyond int64 raises OverflowError there: numpy decides those).
fn to_f64(v: &Bound<'_, PyAny>) -> Option<f64> {
    if v.cast::<PyBool>().is_ok() {
        return None;
    }
    v.extract::<f64>()
        .ok()
        .filter(|d| d.abs() < 9_223_372_036_854_775_808.0)
}

/// The reduced axes, sorted (`None`: all of them), or why numpy takes the call.
fn parse_axes(
    axis: Option<&Bound<'_, PyAny>>,
    ndim: usize,
) -> Result<Option<Vec<usize>>, Cow<'static, str>> {
    let Some(axis) = axis else {
        return Ok(None);
    };
    if ndim == 0 {
        return Err("an axis of a 0-d array: numpy decides".into());
    }
    let one = |v: &Bound<'_, PyAny>| -> Result<isize, Cow<'static, str>> {
        if v.cast::<PyBool>().is_ok() {
            return Err("a bool axis: numpy decides".into());
        }
        v.extract()
            .map_err(|_| Cow::from("axis is not an integer: numpy raises"))
    };
    let given = match axis.cast::<PyTuple>() {
        Ok(t) => t.iter().map(|v| one(&v)).collect::<Result<Vec<_>, _>>()?,
        Err(_) => vec![one(axis)?],
    };
    // The kernels' own parser, so that the binding and the kernels agree on every axis.
    let axes = stridewise::layout::resolve_axes(&given, ndim)
        .map_err(|e| Cow::from(format!("{e}: numpy raises")))?;
    Ok((axes.len() != ndim).then_some(axes))
}

/// Decide the path of `func(args)`. Errors are only Python failures (numpy not importable);
/// every bad argument is sent to numpy, which raises its own error.
pub fn plan<'py>(py: Python<'py>, op: Op, args: &Args<'py>) -> PyResult<Plan<'py>> {
    let info = op.info();
    if let Some(w) = args.get(Kw::Where) {
        // Only `True` itself masks nothing; numpy reads even `numpy.True_` as a mask (and
        // min/max then refuse it for lack of an identity).
        if !w.is(PyBool::new(py, true)) {
            return Plan::numpy("where= masks are computed by numpy");
        }
    }
    if args.get(Kw::Initial).is_some() {
        return Plan::numpy("initial= is computed by numpy");
    }
    if args.get(Kw::Mean).is_some() {
        return Plan::numpy("mean= (a given mean) is computed by numpy");
    }
    let mut ddof = 0.0;
    let given_ddof = args.get(Kw::Ddof);
    if let Some(d) = given_ddof {
        match to_f64(d) {
            Some(v) => ddof = v,
            None => return Plan::numpy("ddof is not a number: numpy decides"),
        }
    }
    if let Some(c) = args.get(Kw::Correction) {
        if given_ddof.is_some() && ddof != 0.0 {
            return Plan::numpy("both ddof and correction: numpy raises");
        }
        match to_f64(c) {
            Some(v) => ddof = v,
            None => return Plan::numpy("correction is not a number: numpy decides"),
        }
    }

    // The method numpy's function calls on an object that has one (np.mean(x) is
    // x.mean()): the plain functions but count_nonzero and ptp; no nan-function.
    let method = (info.nan == NanHandling::Propagate
        && !matches!(info.family, Family::CountNonzero | Family::Range))
    .then_some(info.name);
    let (arr, via) = match input(py, &args.a, method)? {
        Input::Array(a, via) => (a, via),
        Input::Numpy(reason) => return Plan::numpy(reason),
        Input::Dask => {
            return Ok(Plan {
                path: Path::Dask,
                reason: "a Dask array: a lazy Dask reduction, stridewise's kernels on each chunk \
                         and partials combined in Dask's tree (stridewise._dask)"
                    .into(),
                work: None,
            })
        }
    };
    let descr = arr.dtype();
    if descr.has_fields() || descr.has_subarray() {
        return Plan::numpy(format!("dtype {descr} is structured: numpy decides"));
    }
    let (kind, itemsize) = (descr.kind(), descr.itemsize());
    let half = kind == b'f' && itemsize == 2;
    let Some(src) = Elem::from_numpy(kind, itemsize).or(half.then_some(Elem::F32)) else {
        return Plan::numpy(format!("dtype {descr} has no kernel"));
    };

    if src == Elem::Bool && info.family == Family::Range {
        return Plan::numpy("ptp of bool: numpy raises TypeError (no boolean subtract)");
    }

    if info.family == Family::Arg
        && args
            .get_some(Kw::Axis)
            .is_some_and(|a| a.cast::<PyTuple>().is_ok())
    {
        return Plan::numpy("argmin/argmax take one axis: numpy raises TypeError for a tuple");
    }
    let axes = match parse_axes(args.get_some(Kw::Axis), arr.ndim()) {
        Ok(a) => a,
        Err(reason) => return Plan::numpy(reason),
    };
    let shape = arr.shape();
    let count: usize = match &axes {
        None => shape.iter().product(),
        Some(a) => a.iter().map(|&d| shape[d]).product(),
    };
    if op.is_degenerate(count, ddof) {
        return Plan::numpy(match info.degenerate {
            Degenerate::Empty => "mean of an empty slice: numpy warns and returns NaN",
            Degenerate::NoDegreesOfFreedom => "ddof >= number of elements: numpy warns",
            Degenerate::EmptyIsError if info.family == Family::Arg => {
                "argmin/argmax of an empty sequence: numpy raises ValueError"
            }
            Degenerate::EmptyIsError => "min/max of an empty slice: numpy raises ValueError",
            Degenerate::Never => unreachable!("never degenerate"),
        });
    }

    // The kernel's element type, a copy to make first, and the result dtype. float16 sums
    // and means are taken through float64: their exact sum `S` (a multiple of 2^-24) is a
    // float64 whenever |S| < 2^29, and beyond that both it and its float64 rounding round
    // to infinity in float16, so the float64 sum cast to float16 is `S` rounded once. Through
    // float32 it was rounded twice (1 + 2^-11 + 2^-24 gave 1, not 1 + 2^-10). (numpy's
    // conversion to float64 is also faster than to float32: 1e7 in 14.7 against 19.5 ms.)
    let through_f64 = half && matches!(info.family, Family::Sum | Family::Mean);
    let mut elem = if through_f64 { Elem::F64 } else { src };
    let mut copy_to = half.then(|| dtype_of(py, elem)).transpose()?;
    // float16 results are numpy's float16; counts and truth values keep their own type.
    let float_result = op.result_type(Elem::F32) == Elem::F32;
    let mut cast = match half && float_result {
        true => Some(
            descr
                .call_method1("newbyteorder", ("=",))?
                .cast_into::<PyArrayDescr>()?,
        ),
        false => None,
    };
    let mut round_to = None;
    let mut why: Cow<'static, str> = if through_f64 {
        "float16 is widened to float64 (its exact sum, rounded once to float16)".into()
    } else if half {
        "float16 is widened to float32 (numpy accumulates it in float32)".into()
    } else {
        Cow::Borrowed("")
    };
    if let Some(d) = args.get_some(Kw::Dtype) {
        let Ok(want) = numpy_module(py)?
            .getattr("dtype")?
            .call1((d,))
            .and_then(|w| Ok(w.cast_into::<PyArrayDescr>()?))
        else {
            return Plan::numpy("dtype= not understood: numpy raises");
        };
        let natural = match cast.clone() {
            Some(c) => c,
            None => dtype_of(py, op.result_type(src))?,
        };
        let native = want.is_native_byteorder() != Some(false);
        let want_elem = Elem::from_numpy(want.kind(), want.itemsize()).filter(|_| native);
        if want.is_equiv_to(&natural) {
            // An integer dtype equal to the result's but another numpy type (longlong 'q'
            // for int64 'l'): numpy's result is of that type.
            if !src.is_float() && want.char() != natural.char() {
                cast = Some(want);
            }
        } else if matches!(info.family, Family::Sum | Family::Prod)
            && !src.is_float()
            && !half
            && native
            && matches!(want.kind(), b'i' | b'u')
        {
            // Integer sums and products wrap: the result modulo 2^64 cast to the narrower
            // type is what numpy's accumulation in that type gives.
            cast = Some(want);
        } else if let Some(w @ (Elem::F32 | Elem::F64)) = want_elem {
            // var/std: numpy takes only the mean in `dtype` and the deviations `a - mean` in
            // the type both promote to, so casting first is numpy's answer only where that
            // type is `dtype` itself (not float32 of float64 or int32 input).
            if info.family == Family::Var {
                let promoted = numpy_module(py)?
                    .getattr("promote_types")?
                    .call1((&descr, &want))?
                    .cast_into::<PyArrayDescr>()?;
                if !promoted.is_equiv_to(&want) {
                    return Plan::numpy(format!(
                        "dtype={want}: numpy takes the deviations from the mean in {promoted}"
                    ));
                }
            }
            elem = w;
            copy_to = Some(dtype_of(py, w)?);
            cast = None;
            why = format!("dtype={want}: the input is cast to it first, as numpy does").into();
        } else if want.kind() == b'f'
            && want.itemsize() == 2
            && native
            && matches!(info.family, Family::Sum | Family::Mean)
        {
            // As float16 input: the elements rounded to float16 (numpy casts the input to
            // the dtype first), their exact sum in float64, the result rounded once to
            // float16 (numpy accumulates in float16 and rounds at every step).
            elem = Elem::F64;
            copy_to = Some(dtype_of(py, Elem::F64)?);
            round_to = Some(want.clone());
            cast = Some(want);
            why = "dtype=float16: the input is rounded to float16 first, as numpy does, then \
                   summed exactly in float64 and rounded once to float16"
                .into();
        } else {
            return Plan::numpy(format!("dtype={want} is computed by numpy"));
        }
    }
    // numpy's result keeps the input's own dtype where it is of the input's type: longlong
    // ('q') and ulonglong ('Q') are int64/uint64 to the kernels, other scalar types to numpy
    // (np.sum of a longlong array is a numpy.longlong, its max too).
    if cast.is_none()
        && args.get_some(Kw::Dtype).is_none()
        && matches!(kind, b'i' | b'u')
        && matches!(
            info.family,
            Family::Sum | Family::Prod | Family::Extreme | Family::Range
        )
        && op.result_type(src) == src
        && descr.char() != dtype_of(py, src)?.char()
    {
        cast = Some(
            descr
                .call_method1("newbyteorder", ("=",))?
                .cast_into::<PyArrayDescr>()?,
        );
    }

    let mut path = Path::Kernel;
    if copy_to.is_none() {
        if descr.is_native_byteorder() == Some(false) {
            copy_to = Some(dtype_of(py, elem)?);
            why = "byte-swapped data: copied to native order".into();
        } else {
            // The rule RawArray::new applies (numpy guarantees the extent it also checks).
            // SAFETY: `arr` is a live ndarray; its `data` field is read, not dereferenced.
            let data = unsafe { (*arr.as_array_ptr()).fields.data } as *const u8;
            if !stridewise::layout::readable_in_place(data, arr.strides(), elem.size()) {
                copy_to = Some(dtype_of(py, elem)?);
                why = "misaligned data or strides that are not whole elements: copied".into();
            }
        }
    }
    if copy_to.is_some() {
        path = Path::KernelCopy;
    } else {
        why = "read in place".into();
    }

    let keepdims = match args.get(Kw::Keepdims) {
        None => false,
        Some(k) => match k.cast::<PyBool>() {
            Ok(b) => b.is_true(),
            Err(_) => return Plan::numpy("keepdims is not a bool: numpy decides"),
        },
    };
    let result_shape = stridewise::layout::result_shape(shape, axes.as_deref(), keepdims);
    let out =
        match args.get_some(Kw::Out) {
            None => None,
            Some(o) => {
                let result = match cast.clone() {
                    Some(c) => c,
                    None => dtype_of(py, op.result_type(elem))?,
                };
                match exact_out(py, o, &result, &result_shape) {
                    Some(o) => Some(o),
                    None => return Plan::numpy(
                        "out= is not a writeable ndarray of the result's exact shape and dtype: \
                         numpy casts or raises",
                    ),
                }
            }
        };
    if let Some(o) = &out {
        // numpy's ptp writes the maximum into out= and then reads the input for the minimum:
        // an out= inside the input changes numpy's answer, which only numpy reproduces.
        if info.family == Family::Range
            && numpy_module(py)?
                .getattr("may_share_memory")?
                .call1((&arr, o))?
                .is_truthy()?
        {
            return Plan::numpy("ptp into an out= that overlaps the input: numpy's own order");
        }
    }
    match via {
        Via::Ndarray => {}
        Via::Converted => why = format!("{why} (input converted by numpy.asarray)").into(),
        v => why = format!("{why} (input: numpy's view of its {} export)", v.name()).into(),
    }
    Ok(Plan {
        path,
        reason: why,
        work: Some(Work {
            arr,
            via,
            copy_to,
            round_to,
            elem,
            op,
            axes,
            shape: result_shape,
            ddof,
            cast,
            out,
        }),
    })
}

/// `out` if it is an exact, writeable ndarray of `dtype` and `shape`.
fn exact_out<'py>(
    py: Python<'py>,
    out: &Bound<'py, PyAny>,
    dtype: &Bound<'py, PyArrayDescr>,
    shape: &[usize],
) -> Option<Bound<'py, PyUntypedArray>> {
    // SAFETY: `out` is a live object; PyArray_CheckExact only reads its type.
    if unsafe { numpy::npyffi::PyArray_CheckExact(py, out.as_ptr()) } == 0 {
        return None;
    }
    let o = out.cast::<PyUntypedArray>().ok()?;
    // SAFETY: `o` is a live ndarray; its flags field is plain data.
    let flags = unsafe { (*o.as_array_ptr()).fields.flags };
    let writeable = flags & numpy::npyffi::NPY_ARRAY_WRITEABLE != 0;
    let d = o.dtype();
    (writeable
        && o.shape() == shape
        && d.is_equiv_to(dtype)
        && d.is_native_byteorder() != Some(false))
    .then(|| o.clone())
}
