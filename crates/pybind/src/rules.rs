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
use pyo3::prelude::*;
use pyo3::sync::PyOnceLock;
use pyo3::types::{PyBool, PyDict, PyFloat, PyInt, PyList, PyTuple};
use std::borrow::Cow;
use std::ffi::CStr;

/// The reductions.
#[derive(Clone, Copy, PartialEq, Eq, Debug)]
pub enum Func {
    Sum,
    NanSum,
    Mean,
    NanMean,
    Var,
    NanVar,
    Std,
    NanStd,
    Min,
    NanMin,
    Max,
    NanMax,
}

/// What a reduction computes, which decides its result dtype.
#[derive(Clone, Copy, PartialEq, Eq, Debug)]
pub enum Family {
    Sum,
    Mean,
    Var,
    MinMax,
}

impl Func {
    const ALL: [Func; 12] = [
        Func::Sum,
        Func::NanSum,
        Func::Mean,
        Func::NanMean,
        Func::Var,
        Func::NanVar,
        Func::Std,
        Func::NanStd,
        Func::Min,
        Func::NanMin,
        Func::Max,
        Func::NanMax,
    ];

    /// The name, the same as numpy's function.
    pub fn name(self) -> &'static str {
        match self {
            Func::Sum => "sum",
            Func::NanSum => "nansum",
            Func::Mean => "mean",
            Func::NanMean => "nanmean",
            Func::Var => "var",
            Func::NanVar => "nanvar",
            Func::Std => "std",
            Func::NanStd => "nanstd",
            Func::Min => "min",
            Func::NanMin => "nanmin",
            Func::Max => "max",
            Func::NanMax => "nanmax",
        }
    }

    pub fn from_name(name: &str) -> Option<Self> {
        Self::ALL.into_iter().find(|f| f.name() == name)
    }

    pub fn family(self) -> Family {
        match self {
            Func::Sum | Func::NanSum => Family::Sum,
            Func::Mean | Func::NanMean => Family::Mean,
            Func::Var | Func::NanVar | Func::Std | Func::NanStd => Family::Var,
            Func::Min | Func::NanMin | Func::Max | Func::NanMax => Family::MinMax,
        }
    }

    /// True for the nan-functions.
    pub fn skips_nan(self) -> bool {
        matches!(
            self,
            Func::NanSum
                | Func::NanMean
                | Func::NanVar
                | Func::NanStd
                | Func::NanMin
                | Func::NanMax
        )
    }

    /// The kernels' name for it.
    pub fn op(self) -> stridewise::dynamic::Op {
        use stridewise::dynamic::Op;
        match self {
            Func::Sum => Op::Sum,
            Func::NanSum => Op::NanSum,
            Func::Mean => Op::Mean,
            Func::NanMean => Op::NanMean,
            Func::Var => Op::Var,
            Func::NanVar => Op::NanVar,
            Func::Std => Op::Std,
            Func::NanStd => Op::NanStd,
            Func::Min => Op::Min,
            Func::NanMin => Op::NanMin,
            Func::Max => Op::Max,
            Func::NanMax => Op::NanMax,
        }
    }

    /// The keyword arguments numpy's function takes (besides `a`).
    pub fn keywords(self) -> &'static [&'static str] {
        match self.family() {
            Family::Sum => &["axis", "dtype", "out", "keepdims", "initial", "where"],
            Family::Mean => &["axis", "dtype", "out", "keepdims", "where"],
            Family::Var => &[
                "axis",
                "dtype",
                "out",
                "ddof",
                "keepdims",
                "where",
                "mean",
                "correction",
            ],
            Family::MinMax => &["axis", "out", "keepdims", "initial", "where"],
        }
    }

    /// numpy's RuntimeWarning when a nan-function meets a slice with nothing left to reduce
    /// (all NaN, or no degrees of freedom), as `numpy/lib/_nanfunctions_impl.py` words it.
    pub fn nan_warning(self) -> &'static CStr {
        match self.family() {
            Family::Var => c"Degrees of freedom <= 0 for slice.",
            Family::MinMax => c"All-NaN slice encountered",
            Family::Mean | Family::Sum => c"Mean of empty slice",
        }
    }
}

/// The element types the kernels read are `stridewise::dynamic::ElemType`; what numpy says
/// about each lives here.
pub use stridewise::dynamic::ElemType as Elem;

/// The kernel type of a numpy (kind, itemsize), if there is one.
fn elem_of(kind: u8, itemsize: usize) -> Option<Elem> {
    Some(match (kind, itemsize) {
        (b'b', 1) => Elem::Bool,
        (b'i', 1) => Elem::I8,
        (b'i', 2) => Elem::I16,
        (b'i', 4) => Elem::I32,
        (b'i', 8) => Elem::I64,
        (b'u', 1) => Elem::U8,
        (b'u', 2) => Elem::U16,
        (b'u', 4) => Elem::U32,
        (b'u', 8) => Elem::U64,
        (b'f', 4) => Elem::F32,
        (b'f', 8) => Elem::F64,
        _ => return None,
    })
}

fn is_float(e: Elem) -> bool {
    matches!(e, Elem::F32 | Elem::F64)
}

/// numpy's native dtype of a kernel type.
pub fn dtype_of(py: Python<'_>, e: Elem) -> Bound<'_, PyArrayDescr> {
    match e {
        Elem::Bool => numpy::dtype::<bool>(py),
        Elem::I8 => numpy::dtype::<i8>(py),
        Elem::I16 => numpy::dtype::<i16>(py),
        Elem::I32 => numpy::dtype::<i32>(py),
        Elem::I64 => numpy::dtype::<i64>(py),
        Elem::U8 => numpy::dtype::<u8>(py),
        Elem::U16 => numpy::dtype::<u16>(py),
        Elem::U32 => numpy::dtype::<u32>(py),
        Elem::U64 => numpy::dtype::<u64>(py),
        Elem::F32 => numpy::dtype::<f32>(py),
        Elem::F64 => numpy::dtype::<f64>(py),
    }
}

/// The type the kernel returns for `family` (numpy's default result dtype).
fn result_elem(e: Elem, family: Family) -> Elem {
    match family {
        Family::MinMax => e,
        Family::Sum => match e {
            Elem::Bool | Elem::I8 | Elem::I16 | Elem::I32 | Elem::I64 => Elem::I64,
            Elem::U8 | Elem::U16 | Elem::U32 | Elem::U64 => Elem::U64,
            Elem::F32 => Elem::F32,
            Elem::F64 => Elem::F64,
        },
        Family::Mean | Family::Var => match e {
            Elem::F32 => Elem::F32,
            _ => Elem::F64,
        },
    }
}

/// A reduction's arguments as the caller gave them (`None`: not given).
pub struct Args<'py> {
    pub a: Bound<'py, PyAny>,
    pub axis: Option<Bound<'py, PyAny>>,
    pub dtype: Option<Bound<'py, PyAny>>,
    pub out: Option<Bound<'py, PyAny>>,
    pub keepdims: Option<Bound<'py, PyAny>>,
    pub where_: Option<Bound<'py, PyAny>>,
    pub initial: Option<Bound<'py, PyAny>>,
    pub ddof: Option<Bound<'py, PyAny>>,
    pub mean: Option<Bound<'py, PyAny>>,
    pub correction: Option<Bound<'py, PyAny>>,
}

impl<'py> Args<'py> {
    pub fn new(a: Bound<'py, PyAny>) -> Self {
        Self {
            a,
            axis: None,
            dtype: None,
            out: None,
            keepdims: None,
            where_: None,
            initial: None,
            ddof: None,
            mean: None,
            correction: None,
        }
    }

    /// The keyword arguments to hand numpy's function: those the caller gave.
    pub fn numpy_kwargs(&self, py: Python<'py>) -> PyResult<Bound<'py, PyDict>> {
        let kw = PyDict::new(py);
        let given = [
            ("axis", &self.axis),
            ("dtype", &self.dtype),
            ("out", &self.out),
            ("ddof", &self.ddof),
            ("keepdims", &self.keepdims),
            ("initial", &self.initial),
            ("where", &self.where_),
            ("mean", &self.mean),
            ("correction", &self.correction),
        ];
        for (key, value) in given {
            if let Some(v) = value {
                kw.set_item(key, v)?;
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
}

impl Path {
    fn name(self) -> &'static str {
        match self {
            Path::Kernel => "kernel",
            Path::KernelCopy => "kernel+copy",
            Path::Numpy => "numpy",
        }
    }
}

/// What the kernel paths need to run.
pub struct Work<'py> {
    /// The array to reduce (before the copy, if any).
    pub arr: Bound<'py, PyUntypedArray>,
    /// Copy `arr` to this (native) dtype first.
    pub copy_to: Option<Bound<'py, PyArrayDescr>>,
    /// The type the kernel reads (after any copy).
    pub elem: Elem,
    /// The reduced axes, sorted; `None` when every axis is (a full reduction).
    pub axes: Option<Vec<usize>>,
    pub keepdims: bool,
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
            d.set_item("kernel_dtype", dtype_of(py, w.elem))?;
            d.set_item("copy_to", w.copy_to.as_ref())?;
            d.set_item(
                "axes",
                w.axes.as_ref().map(|a| PyTuple::new(py, a)).transpose()?,
            )?;
            let n = w.arr.len();
            d.set_item(
                "parallel",
                n >= stridewise::PARALLEL_THRESHOLD && stridewise::get_num_threads() > 1,
            )?;
        }
        Ok(d)
    }
}

static NUMPY: PyOnceLock<Py<PyModule>> = PyOnceLock::new();
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

/// A number for ddof/correction, as numpy accepts them (ints and floats); `None` otherwise.
fn to_f64(v: &Bound<'_, PyAny>) -> Option<f64> {
    if v.cast::<PyBool>().is_ok() {
        return None;
    }
    v.extract::<f64>().ok()
}

/// The input as an exact ndarray, or why numpy takes it.
enum Input<'py> {
    Array(Bound<'py, PyUntypedArray>),
    Converted(Bound<'py, PyUntypedArray>),
    Numpy(Cow<'static, str>),
}

fn input<'py>(py: Python<'py>, a: &Bound<'py, PyAny>) -> PyResult<Input<'py>> {
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
    let one = |v: &Bound<'_, PyAny>| -> Result<usize, Cow<'static, str>> {
        if v.cast::<PyBool>().is_ok() {
            return Err("a bool axis: numpy decides".into());
        }
        let k: isize = v
            .extract()
            .map_err(|_| Cow::from("axis is not an integer: numpy raises"))?;
        let n = ndim as isize;
        if k < -n || k >= n {
            return Err(
                format!("axis {k} out of bounds for {ndim}-d: numpy raises AxisError").into(),
            );
        }
        Ok(if k < 0 { (k + n) as usize } else { k as usize })
    };
    let mut axes = match axis.cast::<PyTuple>() {
        Ok(t) => t.iter().map(|v| one(&v)).collect::<Result<Vec<_>, _>>()?,
        Err(_) => vec![one(axis)?],
    };
    axes.sort_unstable();
    if axes.windows(2).any(|w| w[0] == w[1]) {
        return Err("a repeated axis: numpy raises ValueError".into());
    }
    Ok((axes.len() != ndim).then_some(axes))
}

/// The result shape (with keepdims) of reducing `axes` of `shape`.
pub fn result_shape(shape: &[usize], axes: Option<&[usize]>, keepdims: bool) -> Vec<usize> {
    let reduced = |d: usize| axes.is_none_or(|a| a.contains(&d));
    (0..shape.len())
        .filter_map(|d| match (reduced(d), keepdims) {
            (false, _) => Some(shape[d]),
            (true, true) => Some(1),
            (true, false) => None,
        })
        .collect()
}

/// Decide the path of `func(args)`. Errors are only Python failures (numpy not importable);
/// every bad argument is sent to numpy, which raises its own error.
pub fn plan<'py>(py: Python<'py>, func: Func, args: &Args<'py>) -> PyResult<Plan<'py>> {
    let family = func.family();
    if let Some(w) = &args.where_ {
        // Only `True` itself masks nothing; numpy reads even `numpy.True_` as a mask (and
        // min/max then refuse it for lack of an identity).
        if !w.is(PyBool::new(py, true)) {
            return Plan::numpy("where= masks are computed by numpy");
        }
    }
    if args.initial.is_some() {
        return Plan::numpy("initial= is computed by numpy");
    }
    if args.mean.is_some() {
        return Plan::numpy("mean= (a given mean) is computed by numpy");
    }
    let mut ddof = 0.0;
    if let Some(d) = &args.ddof {
        match to_f64(d) {
            Some(v) => ddof = v,
            None => return Plan::numpy("ddof is not a number: numpy decides"),
        }
    }
    if let Some(c) = &args.correction {
        if args.ddof.is_some() && ddof != 0.0 {
            return Plan::numpy("both ddof and correction: numpy raises");
        }
        match to_f64(c) {
            Some(v) => ddof = v,
            None => return Plan::numpy("correction is not a number: numpy decides"),
        }
    }

    let (arr, converted) = match input(py, &args.a)? {
        Input::Array(a) => (a, false),
        Input::Converted(a) => (a, true),
        Input::Numpy(reason) => return Plan::numpy(reason),
    };
    let descr = arr.dtype();
    if descr.has_fields() || descr.has_subarray() {
        return Plan::numpy(format!("dtype {descr} is structured: numpy decides"));
    }
    let (kind, itemsize) = (descr.kind(), descr.itemsize());
    let half = kind == b'f' && itemsize == 2;
    let Some(src) = elem_of(kind, itemsize).or(half.then_some(Elem::F32)) else {
        return Plan::numpy(format!("dtype {descr} has no kernel"));
    };

    let axes = match parse_axes(args.axis.as_ref().filter(|a| !a.is_none()), arr.ndim()) {
        Ok(a) => a,
        Err(reason) => return Plan::numpy(reason),
    };
    let shape = arr.shape();
    let count: usize = match &axes {
        None => shape.iter().product(),
        Some(a) => a.iter().map(|&d| shape[d]).product(),
    };
    match family {
        Family::Mean | Family::Var if count == 0 => {
            return Plan::numpy("mean/var of an empty slice: numpy warns and returns NaN")
        }
        Family::Var if count as f64 <= ddof => {
            return Plan::numpy("ddof >= number of elements: numpy warns")
        }
        Family::MinMax if count == 0 => {
            return Plan::numpy("min/max of an empty slice: numpy raises ValueError")
        }
        _ => {}
    }

    // The kernel's element type, a copy to make first, and the result dtype.
    let mut elem = src;
    let mut copy_to = half.then(|| dtype_of(py, Elem::F32));
    let mut cast = match half {
        true => Some(
            descr
                .call_method1("newbyteorder", ("=",))?
                .cast_into::<PyArrayDescr>()?,
        ),
        false => None,
    };
    let mut why: Cow<'static, str> = if half {
        "float16 is widened to float32 (numpy accumulates it in float32)".into()
    } else {
        Cow::Borrowed("")
    };
    if let Some(d) = args.dtype.as_ref().filter(|d| !d.is_none()) {
        let Ok(want) = numpy_module(py)?
            .getattr("dtype")?
            .call1((d,))
            .and_then(|w| Ok(w.cast_into::<PyArrayDescr>()?))
        else {
            return Plan::numpy("dtype= not understood: numpy raises");
        };
        let natural = cast
            .clone()
            .unwrap_or_else(|| dtype_of(py, result_elem(src, family)));
        let native = want.is_native_byteorder() != Some(false);
        let want_elem = elem_of(want.kind(), want.itemsize()).filter(|_| native);
        if want.is_equiv_to(&natural) {
        } else if family == Family::Sum
            && !is_float(src)
            && !half
            && native
            && matches!(want.kind(), b'i' | b'u')
        {
            // Integer sums wrap: the exact sum cast to the narrower type is what numpy's
            // accumulation in that type gives.
            cast = Some(want);
        } else if let Some(w @ (Elem::F32 | Elem::F64)) = want_elem {
            elem = w;
            copy_to = Some(dtype_of(py, w));
            cast = None;
            why = format!("dtype={want}: the input is cast to it first, as numpy does").into();
        } else {
            return Plan::numpy(format!("dtype={want} is computed by numpy"));
        }
    }

    let mut path = Path::Kernel;
    if copy_to.is_none() {
        if descr.is_native_byteorder() == Some(false) {
            copy_to = Some(dtype_of(py, elem));
            why = "byte-swapped data: copied to native order".into();
        } else {
            // SAFETY: `arr` is a live ndarray; its `data` field is read, not dereferenced.
            let data = unsafe { (*arr.as_array_ptr()).fields.data } as *const u8;
            let ok = match elem {
                Elem::Bool | Elem::I8 | Elem::U8 => stride_ok::<u8>(data, arr.strides()),
                Elem::I16 | Elem::U16 => stride_ok::<u16>(data, arr.strides()),
                Elem::I32 | Elem::U32 | Elem::F32 => stride_ok::<u32>(data, arr.strides()),
                Elem::I64 | Elem::U64 | Elem::F64 => stride_ok::<u64>(data, arr.strides()),
            };
            if !ok {
                copy_to = Some(dtype_of(py, elem));
                why = "misaligned data or strides that are not whole elements: copied".into();
            }
        }
    }
    if copy_to.is_some() {
        path = Path::KernelCopy;
    } else {
        why = "read in place".into();
    }

    let keepdims = match &args.keepdims {
        None => false,
        Some(k) => match k.cast::<PyBool>() {
            Ok(b) => b.is_true(),
            Err(_) => return Plan::numpy("keepdims is not a bool: numpy decides"),
        },
    };
    let out =
        match args.out.as_ref().filter(|o| !o.is_none()) {
            None => None,
            Some(o) => {
                let result = cast
                    .clone()
                    .unwrap_or_else(|| dtype_of(py, result_elem(elem, family)));
                match exact_out(
                    py,
                    o,
                    &result,
                    &result_shape(shape, axes.as_deref(), keepdims),
                ) {
                    Some(o) => Some(o),
                    None => return Plan::numpy(
                        "out= is not a writeable ndarray of the result's exact shape and dtype: \
                         numpy casts or raises",
                    ),
                }
            }
        };
    if converted {
        why = format!("{why} (input converted by numpy.asarray)").into();
    }
    Ok(Plan {
        path,
        reason: why,
        work: Some(Work {
            arr,
            copy_to,
            elem,
            axes,
            keepdims,
            ddof,
            cast,
            out,
        }),
    })
}

/// True if the kernels can read elements of `T`'s size and alignment in place.
fn stride_ok<T>(data: *const u8, byte_strides: &[isize]) -> bool {
    stridewise::layout::element_strides::<T>(data, byte_strides).is_some()
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
