"""``median``, ``nanmedian``, ``quantile``, ``nanquantile``, ``percentile`` and
``nanpercentile``, as numpy's.

The order statistics come from the kernels (``_native.order_statistics``: each output's
elements copied into a scratch buffer, NaNs left out and counted, the wanted ranks selected
there, outputs spread over the threads; the caller's array is never written, even with
``overwrite_input=True``). What numpy does with them is numpy's own code on the same
operands: ``np.mean`` of the middle one or two elements (median), and for quantiles numpy's
own helpers (each method's virtual index, ``_get_indexes``, ``_get_gamma``, ``_lerp``), so the
results are numpy's bit for bit. The commonest calls, ``median(a)`` and ``quantile(a, q)`` of
a whole array with a float ``q`` or a short list of them (numpy's default method), do numpy's
arithmetic on Python floats instead of through those array helpers, which cost most of a
small call's time. ``nanmedian`` asks each output for the middle of its own numbers in the
same pass (the kernel counts them first); the other nan-variants take each output's count of
numbers first (``_native.number_counts``) and then ask every output for its own ranks, as
numpy's per-slice ``apply_along_axis`` does.

Inputs come in as the reductions' do (``_native.adapt``): exact ndarrays, lists and numbers,
and native memory viewed in place (the buffer protocol, ``__array_interface__``, CPU DLPack).
Handed to numpy itself: ndarray subclasses and other objects, dtypes other than the integers,
float32 and float64 (float16, bool, complex, object, datetimes...), empty and 0-d arrays,
``weights``, a ``q`` of more than one dimension, an unknown ``method``, an ``out`` of
another dtype than numpy's result, and every call if this numpy lacks the helpers named
above.
"""

from __future__ import annotations

import importlib
import math
import warnings
from typing import Any

import numpy as np
from numpy.lib.array_utils import normalize_axis_tuple

from . import _native

_NoValue: Any = np._NoValue
# numpy's own functions, taken now: numpy's tests swap stridewise's into numpy's namespace.
_np_median: Any = np.median
_np_nanmedian: Any = np.nanmedian
_np_quantile: Any = np.quantile
_np_nanquantile: Any = np.nanquantile
_np_percentile: Any = np.percentile
_np_nanpercentile: Any = np.nanpercentile

try:
    _fb: Any = importlib.import_module("numpy.lib._function_base_impl")
    _METHODS: Any = _fb._QuantileMethods
    _get_indexes: Any = _fb._get_indexes
    _get_gamma: Any = _fb._get_gamma
    _lerp: Any = _fb._lerp
    _is_valid: Any = _fb._quantile_is_valid
    _HELPERS = True
except (ImportError, AttributeError):  # pragma: no cover - another numpy
    _HELPERS = False

# Element types the selection reads in place.
_KERNEL_TYPES = frozenset(np.dtype(t) for t in "bhilqBHILQfd")
_F64 = np.dtype(np.float64)

__all__ = ["median", "nanmedian", "nanpercentile", "nanquantile", "percentile", "quantile"]


class _Plan:
    """How one call runs: ``path`` ("kernel", "kernel+copy" or "numpy"), ``reason``, and for
    the kernel paths the array it reads and the normalised axes (``None``: all)."""

    def __init__(self, path: str, reason: str, arr: Any = None, axes: Any = None) -> None:
        self.path, self.reason, self.arr, self.axes = path, reason, arr, axes


def _plan(a: Any, axis: Any) -> _Plan:
    if type(a) is not np.ndarray:
        # Lists and numbers converted, native memory viewed in place (the buffer protocol,
        # __array_interface__, CPU DLPack), the rest left to numpy: the reductions' rule.
        arr, how = _native.adapt(a)
        if how == "dask":
            return _Plan("dask", "a Dask array: the reduced axes rechunked to one chunk each")
        if arr is None:
            return _Plan("numpy", how)
        a = arr
    dt = a.dtype
    if dt.kind in "iuf" and dt.newbyteorder("=") in _KERNEL_TYPES and not dt.isnative:
        copy = "byte-swapped: copied to native order"
    elif dt in _KERNEL_TYPES:
        copy = ""
    else:
        return _Plan("numpy", f"dtype {dt}: no selection kernel")
    if a.ndim == 0 or a.size == 0:
        return _Plan("numpy", "a 0-d or empty array: numpy's own answer")
    axes = None if axis is None else normalize_axis_tuple(axis, a.ndim)
    if copy:
        a = a.astype(dt.newbyteorder("="))
    elif not a.flags.aligned or any(s % a.itemsize for s in a.strides):
        copy = "misaligned or strided in part-elements: copied"
        a = a.copy()
    if copy:
        return _Plan("kernel+copy", copy, a, axes)
    return _Plan("kernel", "order statistics selected per output, in place", a, axes)


_KERNEL_PATHS = ("kernel", "kernel+copy")

# numpy's defaults of the keywords the functions here pass on to numpy.
_DEFAULTS: dict[str, tuple[Any, ...]] = {
    "axis": (None,),
    "out": (None,),
    "overwrite_input": (False,),
    "keepdims": (_NoValue, False),
    "method": ("linear",),
    "weights": (None,),
}


def _numpy(np_func: Any, *args: Any, **kw: Any) -> Any:
    """numpy's ``np_func`` with the keywords that differ from its defaults, by name: what
    ``np_func`` would pass on to another array type's ``__array_function__`` had the caller
    called it (Dask's ``median`` takes ``(a, axis, keepdims, out)``: numpy's order,
    positionally, was its TypeError, where ``np.median(x, out=...)`` is Dask's
    NotImplementedError)."""
    given = {k: v for k, v in kw.items() if not any(v is d for d in _DEFAULTS[k])}
    return np_func(*args, **given)


def _on_dask(func: Any, a: Any, q: Any, axis: Any, keepdims: Any, **kw: Any) -> Any:
    """``func`` of a Dask array (``stridewise/_dask.py``, imported only now)."""
    from . import _dask

    return _dask.quantile(func, a, q, axis, _dask._truth(keepdims), **kw)


def _kept_shape(arr: np.ndarray, axes: Any) -> tuple[int, ...]:
    if axes is None:
        return ()
    return tuple(n for d, n in enumerate(arr.shape) if d not in axes)


def _per_output(arr: np.ndarray, axes: Any) -> int:
    if axes is None:
        return arr.size
    return math.prod(arr.shape[d] for d in axes)


def _select(
    arr: np.ndarray, axes: Any, ranks: np.ndarray, mode: str
) -> tuple[np.ndarray, np.ndarray]:
    """The order statistics at ``ranks`` of each output, as (values (outputs, k), counts);
    ``mode`` is ``_native.order_statistics``'s ("shared", "per_output" or "middle")."""
    ranks = np.ascontiguousarray(ranks, dtype=np.int64).ravel()
    outs = math.prod(_kept_shape(arr, axes))
    k = {"shared": ranks.size, "per_output": ranks.size // outs, "middle": 2}[mode]
    values = np.empty((outs, k), dtype=arr.dtype)
    counts = _native.order_statistics(
        arr, None if axes is None else list(axes), ranks, mode, values
    )
    if counts is None:  # pragma: no cover - _plan copies what the kernel cannot read
        raise RuntimeError("stridewise: the selection kernel refused an array it planned for")
    return values, counts


def _all_nan_warnings(count: int) -> None:
    # numpy warns once per all-NaN slice (its per-slice code; Python's filters show one).
    for _ in range(count):
        warnings.warn("All-NaN slice encountered", RuntimeWarning, stacklevel=4)


def _finish(result: Any, out: Any, axes: Any, ndim: int, keepdims: Any) -> Any:
    """numpy's ``_ureduce`` around the result: ``out`` (through its keepdims view) and
    keepdims. ``None`` when ``out`` has another dtype than the result: numpy's then."""
    if keepdims is _NoValue:
        keepdims = False
    if out is not None:
        if not isinstance(out, np.ndarray) or out.dtype != np.asarray(result).dtype:
            return None
        target = out
        if keepdims:
            first: tuple[Any, ...] = tuple(
                0 if axes is None or i in axes else slice(None) for i in range(ndim)
            )
            target = out[(Ellipsis, *first)]
        if target.shape != np.shape(result):
            return None
        target[...] = result
        return out
    if keepdims:
        index: tuple[Any, ...] = tuple(
            np.newaxis if axes is None or i in axes else slice(None) for i in range(ndim)
        )
        result = np.asarray(result)[(Ellipsis, *index)]
    return result


# --- median -------------------------------------------------------------------------


def _mean_last(v: np.ndarray) -> Any:
    """``np.mean(v, axis=-1)`` as numpy's ``_mean`` computes it, without its argument
    handling (a third of a small median's time): the sum in the values' type (float64 for
    integers), divided by the count as an ``intp``."""
    k = np.intp(v.shape[-1])
    ret = np.add.reduce(v, axis=-1, dtype=np.float64 if v.dtype.kind in "iu" else None)
    if isinstance(ret, np.ndarray):
        return np.true_divide(ret, k, out=ret, casting="unsafe")
    return ret.dtype.type(ret / k)


def _median_of(arr: np.ndarray, axes: Any, skip_nan: bool) -> Any:
    n = _per_output(arr, axes)
    kept = _kept_shape(arr, axes)
    floats = arr.dtype.kind == "f"
    if not (skip_nan and floats):
        ranks = np.array([n // 2] if n % 2 else [n // 2 - 1, n // 2])
        values, counts = _select(arr, axes, ranks, "shared")
        # numpy's median: mean(part[indexer]) over the middle one or two.
        result = _mean_last(values.reshape((*kept, values.shape[1])))
        if floats:
            has_nan = (counts < n).reshape(kept)
            if has_nan.any():
                if isinstance(result, np.generic):
                    return arr.dtype.type(np.nan)
                np.copyto(result, np.array(np.nan, dtype=arr.dtype), where=has_nan)
        return result
    # nanmedian: each output's middle two of its own numbers, in one pass. numpy's median of
    # an even count is the mean of the middle two; of an odd count, the middle element `x`
    # as numpy computes it: a mean of one, `0 + x` (-0.0 is 0.0), where numpy's nanmedian
    # reads 1-d slices (one output, or reduced lengths of 600 or more: apply_along_axis);
    # `(x + x) / 2` through the masked median it takes for shorter ones (inf, with numpy's
    # overflow warning, for |x| >= 2^1023).
    values, counts = _select(arr, axes, np.empty(0), "middle")
    if not kept:  # one output, a scalar result
        c = int(counts[0])
        if c == 0:
            _all_nan_warnings(1)
            return arr.dtype.type(np.nan)
        return values[0, 0] + values.dtype.type(0) if c % 2 else _mean_last(values[0])
    result = values[:, 0].copy()
    even = (counts % 2 == 0) & (counts > 0)
    if even.any():
        result[even] = _mean_last(values[even])
    odd = counts % 2 == 1
    if odd.any():
        x = result[odd]
        if n < 600:
            result[odd] = np.add.reduce(np.stack([x, x]), axis=0) / 2
        else:
            result[odd] = x + values.dtype.type(0)
    empty = counts == 0
    if empty.any():
        _all_nan_warnings(int(empty.sum()))
        result[empty] = np.nan
    result = result.reshape(kept)
    return result[()] if result.ndim == 0 else result


# Element types of _whole_median (native order): float64 and the integers, whose mean numpy
# takes in float64.
_WHOLE_MEDIAN = frozenset(np.dtype(t) for t in "dbhilqBHILQ")
_NO_RANKS = np.empty(0, dtype=np.int64)


def _whole_median(a: np.ndarray, skip_nan: bool) -> Any:
    """The most common call, ``median(a)`` or ``nanmedian(a)`` of a whole array, without the
    general path's array bookkeeping (most of a 1000-element call's time): numpy's mean of
    the middle one or two elements (of the numbers, for nanmedian: numpy's 1-d road) on
    Python floats (one addition from +0.0 and a division by 2, or the element itself), where
    that arithmetic cannot overflow or underflow; otherwise, for a NaN in ``a`` (median) or
    an all-NaN ``a`` (nanmedian), or where the kernel cannot read ``a`` in place, ``None``
    (the general path: numpy's own ``mean``, its warnings included)."""
    values = np.empty((1, 2), dtype=a.dtype)
    if skip_nan:
        counts = _native.order_statistics(a, None, _NO_RANKS, "middle", values)
        if counts is None or counts[0] == 0:
            return None
        n = int(counts[0])
    else:
        n = a.size
        ranks = np.array([n // 2, n // 2] if n % 2 else [n // 2 - 1, n // 2], dtype=np.int64)
        counts = _native.order_statistics(a, None, ranks, "shared", values)
        # counts[0] < n: a NaN (float64): numpy's mean of the middle elements still runs,
        # with its warnings (inf - inf) or errors under errstate; the general path does too.
        if counts is None or counts[0] < n:
            return None
    # numpy's add.reduce starts from +0.0 (the sum of -0.0 alone is 0.0).
    lo, hi = 0.0 + float(values[0, 0]), float(values[0, 1])
    if n % 2:
        return _F64.type(lo)
    total = lo + hi
    if math.isfinite(total) and (total == 0.0 or abs(total) >= 2.0**-1021):
        return _F64.type(total / 2)
    return None


def _overwrites_read_only(a: Any, overwrite_input: Any) -> bool:
    """``overwrite_input=True`` on a read-only ndarray: numpy partitions it in place, so it
    raises ValueError (stridewise never writes the input, but numpy is the specification)."""
    return bool(overwrite_input) and isinstance(a, np.ndarray) and not a.flags.writeable


def median(
    a: Any, axis: Any = None, out: Any = None, overwrite_input: bool = False, keepdims: bool = False
) -> Any:
    """Median along the given axes, as ``numpy.median``: the middle order statistics
    selected per output (the input is never modified), numpy's mean of them."""
    if (
        axis is None
        and out is None
        and keepdims is False
        and not overwrite_input
        and type(a) is np.ndarray
        and a.size
        and a.ndim
        and a.dtype in _WHOLE_MEDIAN
    ):
        r = _whole_median(a, False)
        if r is not None:
            return r
    if _overwrites_read_only(a, overwrite_input):
        return _numpy(
            _np_median, a, axis=axis, out=out, overwrite_input=overwrite_input, keepdims=keepdims
        )
    p = _plan(a, axis)
    if p.path == "dask" and out is None:
        return _on_dask(median, a, None, axis, keepdims)
    if p.path in _KERNEL_PATHS:
        r = _finish(_median_of(p.arr, p.axes, False), out, p.axes, p.arr.ndim, keepdims)
        if r is not None:
            return r
    return _numpy(
        _np_median, a, axis=axis, out=out, overwrite_input=overwrite_input, keepdims=keepdims
    )


def nanmedian(
    a: Any,
    axis: Any = None,
    out: Any = None,
    overwrite_input: bool = False,
    keepdims: Any = _NoValue,
) -> Any:
    """Median ignoring NaNs, as ``numpy.nanmedian`` (a RuntimeWarning per all-NaN slice)."""
    if (
        axis is None
        and out is None
        and (keepdims is False or keepdims is _NoValue)
        and not overwrite_input
        and type(a) is np.ndarray
        and a.size
        and a.ndim
        and a.dtype == _F64
    ):
        r = _whole_median(a, True)
        if r is not None:
            return r
    if _overwrites_read_only(a, overwrite_input):
        return _numpy(
            _np_nanmedian, a, axis=axis, out=out, overwrite_input=overwrite_input, keepdims=keepdims
        )
    p = _plan(a, axis)
    if p.path == "dask" and out is None:
        return _on_dask(nanmedian, a, None, axis, keepdims)
    if p.path in _KERNEL_PATHS:
        r = _finish(_median_of(p.arr, p.axes, True), out, p.axes, p.arr.ndim, keepdims)
        if r is not None:
            return r
    return _numpy(
        _np_nanmedian, a, axis=axis, out=out, overwrite_input=overwrite_input, keepdims=keepdims
    )


# --- quantiles ------------------------------------------------------------------------


def _first_all_nan(arr: np.ndarray, axes: Any) -> bool:
    """Whether the first output's elements (index 0 of every kept axis) are all NaN."""
    if axes is None:
        return bool(np.isnan(arr).all())
    first = tuple(slice(None) if d in axes else 0 for d in range(arr.ndim))
    return bool(np.isnan(arr[first]).all())


def _native_order(a: Any) -> bool:
    """Whether `a` is not an ndarray of a byte-swapped dtype."""
    return not isinstance(a, np.ndarray) or a.dtype.isnative


def _positions(
    props: dict[str, Any], method: str, n: int, q: np.ndarray, proto: np.ndarray
) -> tuple[Any, ...]:
    """numpy's ``_quantile`` for ``n`` values, up to the partition: (virtual indexes, the
    ranks to select (non-negative), previous and next indexes or None when numpy takes the
    elements without interpolation)."""
    vi = np.asanyarray(props["get_virtual_index"](n, q))
    if props["fix_gamma"] is None:
        take = True
    else:
        take = method == "linear" and np.issubdtype(vi.dtype, np.integer)
    if take:
        return vi, np.asarray(vi).ravel(), None, None
    prev, nxt = _get_indexes(proto, vi, n)
    ranks = np.concatenate([prev.ravel(), nxt.ravel()])
    ranks %= n  # numpy's -1 (the last element; every index is -1 .. n - 1) as n - 1
    return vi, ranks, prev, nxt


def _quantile_of(
    arr: np.ndarray, q: np.ndarray, axes: Any, method: str, weak_q: bool, skip_nan: bool
) -> Any:
    props = _METHODS[method]
    n = _per_output(arr, axes)
    kept = _kept_shape(arr, axes)
    floats = arr.dtype.kind == "f"
    proto = np.empty(0, dtype=arr.dtype)
    counts = None
    if skip_nan and floats:
        counts = _native.number_counts(arr, None if axes is None else list(axes))
    if counts is None or (counts == n).all():
        vi, ranks, prev, nxt = _positions(props, method, n, q, proto)
        values, counts = _select(arr, axes, ranks, "shared")
        result = _combine(values, vi, prev, nxt, props, kept, weak_q)
        if floats and not skip_nan:
            has_nan = (counts < n).reshape(kept)
            if has_nan.any():
                if np.ndim(result) == 0:
                    return arr.dtype.type(np.nan)
                np.copyto(result, np.array(np.nan, dtype=arr.dtype), where=has_nan)
        return result
    # nanquantile with NaNs: numpy's per-slice quantile of each output's numbers. Outputs of
    # the same count share their positions.
    outs = counts.size
    uniq, inverse = np.unique(counts, return_inverse=True)
    plans = {}
    width = None
    for c in uniq.tolist():
        if c == 0:
            continue
        plans[c] = _positions(props, method, c, q, proto)
        width = plans[c][1].size
    # (No numbers anywhere: one dummy rank an output. No q at all: none.)
    table = np.zeros((uniq.size, 1 if width is None else width), dtype=np.int64)
    for i, c in enumerate(uniq.tolist()):
        if c:
            table[i] = plans[c][1]
    values, _ = _select(arr, axes, table[inverse], "per_output")
    results: dict[int, Any] = {}
    for i, c in enumerate(uniq.tolist()):
        if c == 0:
            continue
        who = np.flatnonzero(inverse == i)
        vi, _, prev, nxt = plans[c]
        results[c] = (who, _combine(values[who], vi, prev, nxt, props, (who.size,), weak_q))
    # apply_along_axis's buffer takes the first output's dtype (an all-NaN slice's is a's).
    first = results.get(int(counts[0]))
    dtype = arr.dtype if first is None else np.asarray(first[1]).dtype
    qshape = np.shape(q)
    flat = np.empty((*qshape, outs), dtype=dtype)
    for who, r in results.values():
        flat[..., who] = r
    empty = counts == 0
    if empty.any():
        _all_nan_warnings(int(empty.sum()))
        flat[..., empty] = np.nan
    result = flat.reshape(qshape + kept)
    return result[()] if result.ndim == 0 else result


def _combine(
    values: np.ndarray,
    vi: Any,
    prev: Any,
    nxt: Any,
    props: dict[str, Any],
    kept: tuple[int, ...],
    weak_q: bool,
) -> Any:
    """numpy's ``_quantile`` after the partition, on the selected values (outputs, ranks)."""
    vshape = np.shape(vi)
    if prev is None:
        result = values.T.reshape(vshape + kept)
        return result[()] if result.ndim == 0 else result.copy()
    m = values.shape[1] // 2
    previous = values[:, :m].T.reshape(vshape + kept)
    following = values[:, m:].T.reshape(vshape + kept)
    gamma = _get_gamma(vi, prev, props)
    if weak_q:
        gamma = float(gamma)
    else:
        gamma = gamma.reshape(vshape + (1,) * len(kept))
    if previous.ndim == 0:
        previous, following = previous[()], following[()]
    return _lerp(previous, following, gamma)


def _whole_linear(a: np.ndarray, qs: list[float], shape: Any, skip_nan: bool) -> Any:
    """The commonest calls, ``quantile(a, q)`` of a whole array (a kernel type, native
    order) for a float ``q`` or a short 1-d float64 array of them and numpy's default
    method, without the general path's array bookkeeping (most of a small call's time):
    numpy's own arithmetic on Python floats (the virtual index, ``_get_indexes``' floor and
    its -1 for the last element, ``_get_gamma``) and numpy's ``_lerp`` on the order
    statistics (numpy scalars of ``a``'s type for a float ``q``, ``shape`` None; arrays of
    ``shape`` for an array ``q``, as numpy's). ``None`` (the general path decides) for a
    ``q`` outside [0, 1] or NaN, a NaN in ``a`` (quantile) or an all-NaN ``a`` (the
    nan-variants), or an array the kernel cannot read in place."""
    if not all(0.0 <= q <= 1.0 for q in qs):
        return None
    n = a.size
    if skip_nan and a.dtype.kind == "f":
        counts = _native.number_counts(a, None)
        if counts is None or counts[0] == 0:
            return None
        n = int(counts[0])
    ranks, gammas = [], []
    for q in qs:
        vi = (n - 1) * q
        if vi >= n - 1:
            prev = -1.0
            ranks += [n - 1, n - 1]
        else:
            prev = float(math.floor(vi))
            ranks += [int(prev), int(prev) + 1]
        gammas.append(vi - prev)
    values = np.empty((1, len(ranks)), dtype=a.dtype)
    counts = _native.order_statistics(a, None, np.array(ranks, dtype=np.int64), "shared", values)
    if counts is None:
        return None
    if counts[0] < n:
        # quantile (not the nan-variants) of an array holding NaN: numpy's _lerp still runs
        # on the elements at the ranks, with its warnings; the general path does the same.
        return None
    if shape is None:
        return _lerp(values[0, 0], values[0, 1], gammas[0])
    v = values[0]
    return _lerp(v[0::2], v[1::2], np.array(gammas, dtype=_F64)).reshape(shape)


# The longest q array _whole_linear takes (its loop is Python's).
_WHOLE_Q = 16


def _quantiles(
    np_func: Any,
    a: Any,
    q: Any,
    axis: Any,
    out: Any,
    overwrite_input: bool,
    method: str,
    keepdims: Any,
    weights: Any,
    percent: bool,
    skip_nan: bool,
) -> Any:
    def numpy() -> Any:
        return _numpy(
            np_func,
            a,
            q,
            axis=axis,
            out=out,
            overwrite_input=overwrite_input,
            method=method,
            keepdims=keepdims,
            weights=weights,
        )

    if (
        type(a) is np.ndarray
        and axis is None
        and out is None
        and type(method) is str
        and method == "linear"
        and weights is None
        and (keepdims is False or keepdims is _NoValue)
        and not overwrite_input
        and _HELPERS
        and a.dtype in _KERNEL_TYPES
        and a.size
        and a.ndim
    ):
        r = None
        if type(q) is float:
            r = _whole_linear(a, [q / 100 if percent else q], None, skip_nan)
        elif type(q) in (list, tuple, np.ndarray):
            try:
                qa = np.asarray(q)
            except ValueError:  # ragged: numpy's own error, from the general path
                qa = None
            if qa is not None and qa.ndim == 1 and 0 < qa.size <= _WHOLE_Q and qa.dtype == _F64:
                qs = qa.tolist()
                r = _whole_linear(a, [x / 100 for x in qs] if percent else qs, qa.shape, skip_nan)
        if r is not None:
            return r
    if weights is not None or not _HELPERS or not isinstance(method, str):
        return numpy()
    if method not in _METHODS or _overwrites_read_only(a, overwrite_input):
        return numpy()
    weak_q = type(q) in (int, float)
    qq = np.true_divide(q, 100, out=...) if percent else np.asanyarray(q)
    if qq.ndim > 1 or qq.dtype.kind not in "iuf" or type(qq) is not np.ndarray:
        return numpy()
    if not _is_valid(qq):
        if type(a) is np.ndarray or _native.adapt(a)[1] != "dask":
            # numpy's errors in numpy's order (a complex input's TypeError first), before
            # it looks at the axis.
            return numpy()
        what = (
            "Percentiles must be in the range [0, 100]"
            if percent
            else ("Quantiles must be in the range [0, 1]")
        )
        raise ValueError(what)
    p = _plan(a, axis)
    if p.path == "dask" and out is None:
        return _on_dask(globals()[np_func.__name__], a, q, axis, keepdims, method=method)
    if p.path not in _KERNEL_PATHS:
        return numpy()
    result = _quantile_of(p.arr, qq, p.axes, method, weak_q, skip_nan)
    takes = _METHODS[method]["fix_gamma"] is None or (method == "linear" and qq.dtype.kind in "iu")
    if isinstance(result, np.ndarray) and not _native_order(a):
        # numpy takes the elements themselves here (np.take from its partition of the
        # input): an array in the input's byte order; its nan-functions only for a q array
        # (a scalar q: one scalar a slice, gathered by apply_along_axis in native order).
        # Its nan-functions' interpolating methods too where the first output is all NaN:
        # np.full(q.shape, nan, dtype=the input's) is apply_along_axis's first result, whose
        # dtype its output buffer takes.
        if (takes and not skip_nan) or (
            skip_nan and qq.ndim > 0 and (takes or _first_all_nan(p.arr, p.axes))
        ):
            result = result.astype(a.dtype)
    r = _finish(result, out, p.axes, p.arr.ndim, keepdims)
    return numpy() if r is None else r


def quantile(
    a: Any,
    q: Any,
    axis: Any = None,
    out: Any = None,
    overwrite_input: bool = False,
    method: str = "linear",
    keepdims: bool = False,
    *,
    weights: Any = None,
) -> Any:
    """The ``q``-th quantiles along the given axes, as ``numpy.quantile`` (every method)."""
    return _quantiles(
        _np_quantile, a, q, axis, out, overwrite_input, method, keepdims, weights, False, False
    )


def nanquantile(
    a: Any,
    q: Any,
    axis: Any = None,
    out: Any = None,
    overwrite_input: bool = False,
    method: str = "linear",
    keepdims: Any = _NoValue,
    *,
    weights: Any = None,
) -> Any:
    """``quantile`` ignoring NaNs, as ``numpy.nanquantile``."""
    return _quantiles(
        _np_nanquantile, a, q, axis, out, overwrite_input, method, keepdims, weights, False, True
    )


def percentile(
    a: Any,
    q: Any,
    axis: Any = None,
    out: Any = None,
    overwrite_input: bool = False,
    method: str = "linear",
    keepdims: bool = False,
    *,
    weights: Any = None,
) -> Any:
    """The ``q``-th percentiles along the given axes, as ``numpy.percentile``."""
    return _quantiles(
        _np_percentile, a, q, axis, out, overwrite_input, method, keepdims, weights, True, False
    )


def nanpercentile(
    a: Any,
    q: Any,
    axis: Any = None,
    out: Any = None,
    overwrite_input: bool = False,
    method: str = "linear",
    keepdims: Any = _NoValue,
    *,
    weights: Any = None,
) -> Any:
    """``percentile`` ignoring NaNs, as ``numpy.nanpercentile``."""
    return _quantiles(
        _np_nanpercentile, a, q, axis, out, overwrite_input, method, keepdims, weights, True, True
    )


def explain_selection(a: Any, axis: Any = None, **_: Any) -> dict[str, Any]:
    """``explain`` for the median and quantile family: the plan's path and reason."""
    p = _plan(a, axis)
    info: dict[str, Any] = {"path": p.path, "reason": p.reason}
    if p.path in _KERNEL_PATHS:
        info["kernel_dtype"] = str(p.arr.dtype)
        info["axes"] = p.axes
    return info
