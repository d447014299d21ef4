"""``average``, as ``numpy.average``: numpy's checks and result types around one pass of the
weighted-sum kernel (``_native.weighted``: exact products, double-length sums of ``a*w`` and
``w``, divided once), where numpy multiplies into a temporary array and sums it and the
weights separately.

The path is decided here, in one place (``_plan``) that ``average`` and ``explain`` share:
weights of numpy's shapes (``a``'s, or the reduced axes') are read in place by the kernel,
along the axes they lie on, as is ``a``; float16, and
arrays the kernel cannot read in place (byte-swapped, misaligned), are copied first; other
types, subclasses and anything else go to numpy's function itself. Without weights it is
``mean``.
"""

from __future__ import annotations

from typing import Any

import numpy as np
from numpy.lib.array_utils import normalize_axis_tuple

from . import _native
from ._reduce import explain, mean

_NoValue: Any = np._NoValue
# numpy's own function, taken now: numpy's tests swap stridewise's into numpy's namespace.
_np_average: Any = np.average

# Result dtypes the kernel computes (in f64, rounded once to the result type).
_F32, _F64 = np.dtype(np.float32), np.dtype(np.float64)
_FLOATS = (np.dtype(np.float16), _F32, _F64)
# Element types the kernel reads (bool, signed and unsigned integers, floats).
_KINDS = "biuf"
_KERNEL_TYPES = tuple(np.dtype(t) for t in "?bhilqBHILQfd")


def _result_type(a: np.dtype, w: np.dtype) -> np.dtype:
    """numpy's ``average`` result dtype for data and weights of these dtypes."""
    if a.kind in "iub":
        return np.result_type(a, w, "f8")
    return np.result_type(a, w)


# (data dtype, weights dtype) -> result dtype, for the pairs the kernel reads in place with a
# float32 or float64 result: the fast path's only lookup.
_IN_PLACE: dict[tuple[np.dtype, np.dtype], np.dtype] = {
    (x, y): rt
    for x in _KERNEL_TYPES
    for y in _KERNEL_TYPES
    if (rt := _result_type(x, y)) in (_F32, _F64)
}


class _Plan:
    """How one ``average`` call runs: ``path`` ("kernel", "kernel+copy", "numpy" or "mean"),
    ``reason``, and for the kernel paths the operands, axes and result dtype."""

    def __init__(self, path: str, reason: str, **what: Any) -> None:
        self.path, self.reason, self.what = path, reason, what


def _keep(keepdims: Any) -> dict[str, Any]:
    """``keepdims`` for numpy's ``average`` only where it was given: numpy hands its keywords
    on to ``__array_function__`` implementations (Dask's takes ``_NoValue`` for true)."""
    return {} if keepdims is _NoValue else {"keepdims": keepdims}


def _array(a: Any) -> Any:
    """``a`` as numpy's ``asanyarray`` sees it, but CPU DLPack tensors (which it does not
    read) viewed in place too, as the reductions take them (``_native.adapt``)."""
    if type(a) is np.ndarray:
        return a
    arr, how = _native.adapt(a)
    if how == "dask":
        # Lazy: numpy's average of it is Dask's own (never a silent compute here).
        return a
    return np.asanyarray(a) if arr is None else arr


def _plan(a: Any, axis: Any, weights: Any) -> _Plan:
    if weights is None:
        return _Plan("mean", "no weights: numpy's average is a.mean(axis)")
    a = _array(a)
    axes = None if axis is None else normalize_axis_tuple(axis, a.ndim, argname="axis")
    wgt = _array(weights)
    if type(a) is not np.ndarray or type(wgt) is not np.ndarray:
        return _Plan("numpy", "an ndarray subclass: numpy keeps its semantics")
    if a.dtype.kind not in _KINDS or wgt.dtype.kind not in _KINDS:
        return _Plan("numpy", f"dtypes {a.dtype}, {wgt.dtype}: no kernel")
    rt = _IN_PLACE.get((a.dtype, wgt.dtype)) or _result_type(a.dtype, wgt.dtype)
    if rt not in _FLOATS:
        return _Plan("numpy", f"result dtype {rt}: no kernel")
    # numpy's checks and messages (numpy.lib._function_base_impl._weights_are_valid). Weights
    # along the axes go to the kernel as they are: it reads them along those axes (stride 0
    # elsewhere), where numpy transposes and reshapes them to broadcast.
    if a.shape != wgt.shape:
        if axes is None:
            raise TypeError("Axis must be specified when shapes of a and weights differ.")
        if wgt.shape != tuple(a.shape[ax] for ax in axes):
            raise ValueError(
                "Shape of weights must be consistent with shape of a along specified axis."
            )
    copies = []
    ops = []
    for name, x in (("a", a), ("weights", wgt)):
        if x.dtype.kind == "f" and x.dtype.itemsize == 2:
            copies.append(f"{name} is float16: copied to float32")
            x = x.astype(np.float32)
        elif not x.dtype.isnative:
            copies.append(f"{name} is byte-swapped: copied to native order")
            x = x.astype(x.dtype.newbyteorder("="))
        elif not x.flags.aligned or any(s % x.itemsize for s in x.strides):
            copies.append(f"{name} is misaligned or strided in part-elements: copied")
            x = x.copy()
        ops.append(x)
    what = {"a": ops[0], "w": ops[1], "axes": axes, "rt": rt}
    if copies:
        return _Plan("kernel+copy", "; ".join(copies), **what)
    return _Plan("kernel", "one pass over a and weights (exact products, double sums)", **what)


def average(
    a: Any,
    axis: Any = None,
    weights: Any = None,
    returned: bool = False,
    *,
    keepdims: Any = _NoValue,
) -> Any:
    """Weighted average along the given axes, as ``numpy.average``.

    With weights, each output is ``sum(a*w) / sum(w)`` from one pass over both arrays: the
    products are exact and both sums carried to about twice float64's precision, divided once
    and rounded to numpy's result dtype (float64, or float32/float16 where numpy's is), so
    the result is within about half an ulp. numpy rounds every product and running sum; where
    they cancel (``average([1e16, 1, -1e16], weights=[1, 1, 1])``) its answer can be wrong in
    every digit. Weights that sum to zero raise ``ZeroDivisionError`` as in numpy (numpy's
    rounded weight sum may be zero where the exact one is not; this checks the exact one).
    """
    if keepdims is not _NoValue and type(keepdims) not in (bool, int):
        # numpy reads keepdims as an index (numpy.True_ and None raise TypeError there).
        return _np_average(a, axis=axis, weights=weights, returned=returned, keepdims=keepdims)
    if weights is None:
        return _unweighted(a, axis, returned, keepdims)
    if (
        axis is None
        and type(a) is np.ndarray
        and type(weights) is np.ndarray
        and a.shape == weights.shape
        and (rt := _IN_PLACE.get((a.dtype, weights.dtype))) is not None
    ):
        # The common call, decided without the plan (a few microseconds of numpy calls):
        # whole arrays of one shape; the native side still refuses what it cannot read.
        got = _native.weighted(a, weights, None, rt == _F32)
        if got is not None:
            return _finish(got, rt, a, None, weights, returned, keepdims, a.shape, None)
    plan = _plan(a, axis, weights)
    if plan.path == "numpy":
        return _np_average(a, axis=axis, weights=weights, returned=returned, **_keep(keepdims))
    if plan.path == "mean":
        return _unweighted(a, axis, returned, keepdims)
    w = plan.what
    rt = w["rt"]
    got = _native.weighted(w["a"], w["w"], w["axes"], rt == _F32)
    # The plan copied what the kernel cannot read in place.
    assert got is not None, "stridewise: internal error: average's operands are unreadable"
    return _finish(got, rt, a, axis, weights, returned, keepdims, w["a"].shape, w["axes"])


def _finish(
    got: tuple[Any, Any, bool, bool],
    rt: np.dtype,
    a: Any,
    axis: Any,
    weights: Any,
    returned: bool,
    keepdims: Any,
    shape: tuple[int, ...],
    axes: tuple[int, ...] | None,
) -> Any:
    """numpy's result from the kernel's: its zero check, warnings, dtype, keepdims, scalars."""
    avg, scl, zero, finite = got
    if rt != avg.dtype:  # float16: computed as float32, rounded once more
        avg, scl = avg.astype(rt), scl.astype(rt)
        zero, finite = bool((scl == 0.0).any()), bool(np.isfinite(avg).all())
    if zero:
        raise ZeroDivisionError("Weights sum to zero, can't be normalized")
    if not finite:
        # numpy's floating-point warnings (inf * 0 in the products, inf - inf in the sums)
        # come from its own arithmetic: run it for them, keep the values computed here.
        _np_average(a, axis=axis, weights=weights, **_keep(keepdims))
    if keepdims is not _NoValue and keepdims:
        reduced = axes if axes is not None else range(len(shape))
        kept = tuple(1 if k in reduced else n for k, n in enumerate(shape))
        avg, scl = avg.reshape(kept), scl.reshape(kept)
    if avg.ndim == 0:
        avg, scl = avg[()], scl[()]
    return (avg, scl) if returned else avg


def _unweighted(a: Any, axis: Any, returned: bool, keepdims: Any) -> Any:
    """numpy's ``average`` without weights: ``a.mean(axis)``, on stridewise's ``mean`` for
    an exact ndarray; the count as the result's scalar type when ``returned``."""
    if (
        not returned
        and type(a) is np.ndarray
        and a.dtype.kind in _KINDS
        and a.size
        and (axis is None or (type(axis) is int and -a.ndim <= axis < a.ndim))
    ):
        # An axis numpy's normalisation would accept: mean at once.
        return mean(a, axis, keepdims=keepdims)
    a = _array(a)
    if axis is not None:
        axis = normalize_axis_tuple(axis, a.ndim, argname="axis")
    if type(a) is not np.ndarray or a.dtype.kind not in _KINDS or not a.size:
        # Other dtypes and empty arrays are numpy's business: its average also makes the
        # count a scalar of the mean's type, which timedelta64 refuses (ValueError) even
        # without returned, and divides by the result's size (ZeroDivisionError when empty).
        if type(a) is not np.ndarray and not returned and _native.adapt(a)[1] == "dask":
            # A Dask array: stridewise's lazy mean (stridewise/_dask.py).
            return mean(a, axis, keepdims=keepdims)
        return _np_average(a, axis=axis, returned=returned, **_keep(keepdims))
    avg = mean(a, axis, keepdims=keepdims)
    if not returned:
        return avg
    arr = np.asanyarray(avg)
    scl = arr.dtype.type(a.size / arr.size)
    if scl.shape != arr.shape:
        scl = np.broadcast_to(scl, arr.shape).copy()
    return avg, scl


def explain_average(a: Any, axis: Any = None, weights: Any = None, **_: Any) -> dict[str, Any]:
    """``explain`` for ``average``: the plan's path and reason (without weights, ``mean``'s)."""
    plan = _plan(a, axis, weights)
    if plan.path == "mean":
        arr = _array(a)
        if axis is not None and type(arr) is np.ndarray:
            # average normalises the axes (a list is fine there) before it calls mean.
            axis = normalize_axis_tuple(axis, arr.ndim, argname="axis")
        mean_plan = explain("mean", a, axis=axis)
        mean_plan["reason"] = f"no weights: mean ({mean_plan['reason']})"
        return mean_plan
    out: dict[str, Any] = {
        "path": plan.path,
        "reason": plan.reason,
        "simd": _native.simd_level(),
        "threads": _native.get_num_threads(),
    }
    if plan.path != "numpy":
        out["kernel_dtype"] = [str(plan.what["a"].dtype), str(plan.what["w"].dtype)]
        out["result_dtype"] = str(plan.what["rt"])
        out["axes"] = plan.what["axes"]
    return out
