//! Partials that travel: the reduction of one piece of an array (a Dask chunk) as a dict of
//! numpy arrays, the combination of such dicts in a given order, and the values they
//! finalise to. `stridewise/_dask.py` runs them inside Dask's tree reductions.
//!
//! A dict holds `func`, `elem` (numpy's name of the element type), `shape` (the kept
//! axes), `count` (elements per output) and the state, one entry per output in C order:
//! - float sums and means (`sum`, `nansum`, `mean`, `nanmean` of float32/float64):
//!   `words` (int64, a record per output, one after another: the exact sum's nonzero digits,
//!   [`stridewise::ExactPartials::words`]) and `counted` (uint64): exact, so the result does
//!   not depend on how the array was cut;
//! - integer sums and means: `hi` (int64) and `lo` (uint64), the exact 128-bit sum;
//! - var/std: `var` (float64, 5 per output: n, mean, its rest, M2, its rest);
//! - min/max: `best` (the element type) and `flag` (bool);
//! - count_nonzero/any/all: `nonzero` (uint64);
//! - ptp: `lo`, `hi` (the element type) and `nan` (bool);
//! - float products: `prod` (float64, 2 per output), `exp` (int64), `flags` (uint8);
//!   integer products: `prod` (uint64, modulo 2^64).
//!
//! argmin/argmax have no such partials: their positions are the piece's own.

use numpy::{PyArray1, PyArrayMethods, PyUntypedArray};
use pyo3::exceptions::{PyTypeError, PyValueError};
use pyo3::prelude::*;
use pyo3::types::{PyDict, PyList};
use stridewise::dynamic::Values;
use stridewise::{
    ElemType, ExactPartials, Op, Partials, PartialsError, ProdPartial, State, VarPartial,
};

use crate::exec::detached;
use crate::input::raw_array;

fn value_error(e: impl std::fmt::Display) -> PyErr {
    PyValueError::new_err(e.to_string())
}

/// The partials of `func` over `axes` (`None`: every axis) of `a`, an ndarray of a kernel
/// element type in native byte order, aligned, with strides in whole elements (the Python
/// layer copies what is not).
#[pyfunction]
#[pyo3(signature = (func, a, axes, /))]
pub fn partials<'py>(
    py: Python<'py>,
    func: &str,
    a: Bound<'py, PyUntypedArray>,
    axes: Option<Vec<isize>>,
) -> PyResult<Bound<'py, PyDict>> {
    let op = op_named(func)?;
    let elem = crate::kernel_elem(&a)
        .ok_or_else(|| PyTypeError::new_err("partials: not a kernel element type"))?;
    let raw = raw_array(&a, elem).map_err(value_error)?;
    let axes = axes.as_deref();
    let piece = detached(py, raw.len(), || match raw.exact_partials(op, axes) {
        Some(exact) => exact.map(Piece::Exact),
        None => raw.partials(op, axes).map(Piece::Plain),
    });
    piece.map_err(value_error)?.to_dict(py)
}

/// The partials of the union of the pieces in `parts` (dicts of [`partials`] of the same
/// reduction and kept shape), combined in the list's order.
#[pyfunction]
#[pyo3(signature = (parts, /))]
pub fn combine_partials<'py>(
    py: Python<'py>,
    parts: Bound<'py, PyList>,
) -> PyResult<Bound<'py, PyDict>> {
    // The dicts read with the GIL held, then merged without it (exact sums all at once,
    // output by output).
    let pieces = parts
        .iter()
        .map(|d| Piece::from_dict(&d.cast_into::<PyDict>()?))
        .collect::<PyResult<Vec<_>>>()?;
    if pieces.is_empty() {
        return Err(PyValueError::new_err("combine_partials: no partials"));
    }
    let all = py.detach(|| {
        if pieces.iter().all(|p| matches!(p, Piece::Exact(_))) {
            let exact = pieces
                .into_iter()
                .filter_map(|p| match p {
                    Piece::Exact(e) => Some(e),
                    Piece::Plain(_) => None,
                })
                .collect();
            ExactPartials::combine_all(exact).map(Piece::Exact)
        } else {
            let mut pieces = pieces.into_iter();
            let first = pieces.next().expect("not empty");
            pieces.try_fold(first, |a, b| a.combine(&b))
        }
    });
    all.map_err(value_error)?.to_dict(py)
}

/// The values the partials finalise to, as [`crate::exec`] would return them for the whole
/// array before numpy's shaping: an ndarray of the result type and the kept shape, and the
/// text of numpy's RuntimeWarning, if any. `ddof` for var/std.
#[pyfunction]
#[pyo3(signature = (part, ddof, /))]
pub fn finalise_partials<'py>(
    py: Python<'py>,
    part: Bound<'py, PyDict>,
    ddof: f64,
) -> PyResult<(Bound<'py, PyAny>, Option<String>)> {
    let p = Piece::from_dict(&part)?.into_partials();
    let (op, shape) = (p.op(), p.shape().to_vec());
    let out = p.finalise(ddof).map_err(value_error)?;
    let values = values_array(py, out.values)?.call_method1("reshape", (shape,))?;
    let warning = out
        .warning
        .map(|w| op.warning_text(w).to_string_lossy().into_owned());
    Ok((values.into_any(), warning))
}

/// One piece's partials, rebuilt from its dict.
enum Piece {
    Exact(ExactPartials),
    Plain(Partials),
}

impl Piece {
    /// The partials of both pieces' elements (`self` first); the same kind of partials only.
    fn combine(self, other: &Piece) -> Result<Piece, PartialsError> {
        match (self, other) {
            (Piece::Exact(a), Piece::Exact(b)) => a.combine(b).map(Piece::Exact),
            (Piece::Plain(a), Piece::Plain(b)) => a.combine(b).map(Piece::Plain),
            _ => Err(PartialsError::Mismatch),
        }
    }

    /// Partials that finalise to the piece's values.
    fn into_partials(self) -> Partials {
        match self {
            Piece::Exact(e) => e.into_partials(),
            Piece::Plain(p) => p,
        }
    }

    /// The dict that travels (argmin/argmax partials have none: `Positional`).
    fn to_dict<'py>(&self, py: Python<'py>) -> PyResult<Bound<'py, PyDict>> {
        match self {
            Piece::Exact(e) => exact_dict(py, e),
            Piece::Plain(p) => partials_dict(py, p),
        }
    }

    fn from_dict(d: &Bound<'_, PyDict>) -> PyResult<Piece> {
        let (op, elem, shape, count) = header_of(d)?;
        let vec = |key: &str| array_at(d, key);
        let bad = |e: PartialsError| value_error(e);
        if d.contains("words")? {
            let counted: Vec<u64> = to_vec(&vec("counted")?)?;
            return with_slice(&vec("words")?, |words: &[i64]| {
                ExactPartials::from_parts(op, elem, shape, count, words, counted)
            })?
            .map(Piece::Exact)
            .map_err(bad);
        }
        let state = if d.contains("var")? {
            let v: Vec<f64> = to_vec(&vec("var")?)?;
            if v.len() % 6 != 0 {
                return Err(bad(PartialsError::WrongLength {
                    expected: v.len() / 6,
                    found: v.len(),
                }));
            }
            State::Var(
                v.chunks_exact(6)
                    .map(|c| VarPartial {
                        n: c[0],
                        mean: c[1],
                        mean_lo: c[2],
                        m2: c[3],
                        m2_lo: c[4],
                        // (A scale other than the kernels' -600, 0, 600 fails the check below.)
                        scale: if c[5].fract() == 0.0 && c[5].abs() <= 600.0 {
                            c[5] as i32
                        } else {
                            1
                        },
                    })
                    .collect(),
            )
        } else if d.contains("best")? {
            State::Extreme {
                best: values_of(&vec("best")?, elem)?,
                flag: to_vec(&vec("flag")?)?,
            }
        } else if d.contains("nonzero")? {
            State::Count(to_vec(&vec("nonzero")?)?)
        } else if d.contains("nan")? {
            State::Range {
                lo: values_of(&vec("lo")?, elem)?,
                hi: values_of(&vec("hi")?, elem)?,
                nan: to_vec(&vec("nan")?)?,
            }
        } else if d.contains("hi")? {
            let (hi, lo): (Vec<i64>, Vec<u64>) = (to_vec(&vec("hi")?)?, to_vec(&vec("lo")?)?);
            if hi.len() != lo.len() {
                return Err(bad(PartialsError::WrongLength {
                    expected: hi.len(),
                    found: lo.len(),
                }));
            }
            State::Int(
                hi.iter()
                    .zip(&lo)
                    .map(|(&h, &l)| (i128::from(h) << 64) | i128::from(l))
                    .collect(),
            )
        } else if d.contains("exp")? {
            let (m, exp, flags): (Vec<f64>, Vec<i64>, Vec<u8>) = (
                to_vec(&vec("prod")?)?,
                to_vec(&vec("exp")?)?,
                to_vec(&vec("flags")?)?,
            );
            if m.len() != 2 * exp.len() || flags.len() != exp.len() {
                return Err(bad(PartialsError::WrongLength {
                    expected: exp.len(),
                    found: if flags.len() != exp.len() {
                        flags.len()
                    } else {
                        m.len() / 2
                    },
                }));
            }
            State::FloatProd(
                exp.iter()
                    .zip(&flags)
                    .zip(m.chunks_exact(2))
                    .map(|((&exp, &flags), m)| ProdPartial {
                        hi: m[0],
                        lo: m[1],
                        exp,
                        flags,
                    })
                    .collect(),
            )
        } else {
            State::IntProd(to_vec(&vec("prod")?)?)
        };
        Partials::from_parts(op, elem, shape, count, state)
            .map(Piece::Plain)
            .map_err(bad)
    }
}

/// The reduction named `func`.
fn op_named(func: &str) -> PyResult<Op> {
    Op::from_name(func)
        .ok_or_else(|| PyValueError::new_err(format!("{func:?} is not a stridewise reduction")))
}

/// The dict's common entries.
fn header<'py>(
    py: Python<'py>,
    op: Op,
    elem: ElemType,
    shape: &[usize],
    count: u64,
) -> PyResult<Bound<'py, PyDict>> {
    let d = PyDict::new(py);
    d.set_item("func", op.info().name)?;
    d.set_item("elem", elem.info().numpy)?;
    d.set_item("shape", shape.to_vec())?;
    d.set_item("count", count)?;
    Ok(d)
}

/// The value at `key` of a partials' dict.
fn item_at<'py>(d: &Bound<'py, PyDict>, key: &str) -> PyResult<Bound<'py, PyAny>> {
    d.get_item(key)?
        .ok_or_else(|| PyValueError::new_err(format!("partials: no {key:?}")))
}

/// The array at `key` of a partials' dict.
fn array_at<'py>(d: &Bound<'py, PyDict>, key: &str) -> PyResult<Bound<'py, PyUntypedArray>> {
    Ok(item_at(d, key)?.cast_into::<PyUntypedArray>()?)
}

/// What [`header`] wrote: the reduction, the element type, the kept shape and the count.
fn header_of(d: &Bound<'_, PyDict>) -> PyResult<(Op, ElemType, Vec<usize>, u64)> {
    let op = op_named(&item_at(d, "func")?.extract::<String>()?)?;
    let name: String = item_at(d, "elem")?.extract()?;
    let elem = ElemType::ALL
        .into_iter()
        .find(|e| e.info().numpy == name)
        .ok_or_else(|| PyValueError::new_err(format!("partials: element type {name:?}")))?;
    let shape: Vec<usize> = item_at(d, "shape")?.extract()?;
    let count: u64 = item_at(d, "count")?.extract()?;
    Ok((op, elem, shape, count))
}

fn exact_dict<'py>(py: Python<'py>, p: &ExactPartials) -> PyResult<Bound<'py, PyDict>> {
    let d = header(py, p.op(), p.elem(), p.shape(), p.count())?;
    d.set_item("words", PyArray1::from_slice(py, p.words()))?;
    d.set_item("counted", PyArray1::from_slice(py, p.counted()))?;
    Ok(d)
}

fn partials_dict<'py>(py: Python<'py>, p: &Partials) -> PyResult<Bound<'py, PyDict>> {
    let d = header(py, p.op(), p.elem(), p.shape(), p.count())?;
    let set = |key: &str, v: Bound<'py, PyAny>| d.set_item(key, v);
    match p.state() {
        // (Not made by `partials`: the float sums and means travel exact.)
        State::Float(_) | State::Arg(_) => return Err(value_error(PartialsError::Positional)),
        State::Int(v) => {
            let hi: Vec<i64> = v.iter().map(|&x| (x >> 64) as i64).collect();
            let lo: Vec<u64> = v.iter().map(|&x| x as u64).collect();
            set("hi", PyArray1::from_vec(py, hi).into_any())?;
            set("lo", PyArray1::from_vec(py, lo).into_any())?;
        }
        State::Var(v) => {
            let flat: Vec<f64> = v
                .iter()
                .flat_map(|p| [p.n, p.mean, p.mean_lo, p.m2, p.m2_lo, p.scale as f64])
                .collect();
            set("var", PyArray1::from_vec(py, flat).into_any())?;
        }
        State::Extreme { best, flag } => {
            set("best", values_array(py, best.clone())?.into_any())?;
            set("flag", PyArray1::from_slice(py, flag).into_any())?;
        }
        State::Count(v) => set("nonzero", PyArray1::from_slice(py, v).into_any())?,
        State::Range { lo, hi, nan } => {
            set("lo", values_array(py, lo.clone())?.into_any())?;
            set("hi", values_array(py, hi.clone())?.into_any())?;
            set("nan", PyArray1::from_slice(py, nan).into_any())?;
        }
        State::FloatProd(v) => {
            let m: Vec<f64> = v.iter().flat_map(|p| [p.hi, p.lo]).collect();
            let exp: Vec<i64> = v.iter().map(|p| p.exp).collect();
            let flags: Vec<u8> = v.iter().map(|p| p.flags).collect();
            set("prod", PyArray1::from_vec(py, m).into_any())?;
            set("exp", PyArray1::from_vec(py, exp).into_any())?;
            set("flags", PyArray1::from_vec(py, flags).into_any())?;
        }
        State::IntProd(v) => set("prod", PyArray1::from_slice(py, v).into_any())?,
    }
    Ok(d)
}

/// A one-dimensional numpy array of `v`'s type.
fn values_array(py: Python<'_>, v: Values) -> PyResult<Bound<'_, PyUntypedArray>> {
    macro_rules! arr {
        ($v:expr) => {
            PyArray1::from_vec(py, $v).cast_into::<PyUntypedArray>()?
        };
    }
    Ok(match v {
        Values::Bool(v) => arr!(v),
        Values::I8(v) => arr!(v),
        Values::I16(v) => arr!(v),
        Values::I32(v) => arr!(v),
        Values::I64(v) => arr!(v),
        Values::U8(v) => arr!(v),
        Values::U16(v) => arr!(v),
        Values::U32(v) => arr!(v),
        Values::U64(v) => arr!(v),
        Values::F32(v) => arr!(v),
        Values::F64(v) => arr!(v),
    })
}

/// The elements of a one-dimensional array of type `elem` as [`Values`].
fn values_of(a: &Bound<'_, PyUntypedArray>, elem: ElemType) -> PyResult<Values> {
    Ok(match elem {
        ElemType::Bool => Values::Bool(to_vec(a)?),
        ElemType::I8 => Values::I8(to_vec(a)?),
        ElemType::I16 => Values::I16(to_vec(a)?),
        ElemType::I32 => Values::I32(to_vec(a)?),
        ElemType::I64 => Values::I64(to_vec(a)?),
        ElemType::U8 => Values::U8(to_vec(a)?),
        ElemType::U16 => Values::U16(to_vec(a)?),
        ElemType::U32 => Values::U32(to_vec(a)?),
        ElemType::U64 => Values::U64(to_vec(a)?),
        ElemType::F32 => Values::F32(to_vec(a)?),
        ElemType::F64 => Values::F64(to_vec(a)?),
    })
}

/// The elements of an array of `T` (the dicts' arrays are one-dimensional and C-contiguous,
/// but may arrive misaligned: Dask's transfers unpack arrays from byte frames); a TypeError
/// for another element type.
fn to_vec<T: numpy::Element + Copy>(a: &Bound<'_, PyUntypedArray>) -> PyResult<Vec<T>> {
    with_slice(a, <[T]>::to_vec)
}

/// `f` of the elements of `a`, borrowed in place where `a` is an aligned C-contiguous array
/// of `T` (the partials' own arrays), else of an aligned, C-contiguous copy.
fn with_slice<T: numpy::Element + Copy, R>(
    a: &Bound<'_, PyUntypedArray>,
    f: impl FnOnce(&[T]) -> R,
) -> PyResult<R> {
    let wrong = || {
        PyTypeError::new_err(format!(
            "partials: expected an array of {}",
            std::any::type_name::<T>()
        ))
    };
    let a = a.cast::<numpy::PyArrayDyn<T>>().map_err(|_| wrong())?;
    // (`as_slice` checks alignment and contiguity.)
    let readable = a.readonly().as_slice().is_ok();
    let a = if readable {
        a.clone()
    } else {
        // numpy.require(a, None, "CA"): an aligned, C-contiguous copy.
        let np = crate::rules::numpy_module(a.py())?;
        np.call_method1("require", (a, a.py().None(), "CA"))?
            .cast_into::<numpy::PyArrayDyn<T>>()
            .map_err(|_| wrong())?
    };
    let r = a.readonly();
    Ok(f(r.as_slice().map_err(|_| wrong())?))
}
