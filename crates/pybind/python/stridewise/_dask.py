"""stridewise's reductions of Dask arrays: lazy, built with Dask's own tree reductions.

``sw.mean(x)`` of a ``dask.array.Array`` returns a lazy Dask array, as ``np.mean(x)`` does,
with numpy's result dtype and shape. Each chunk is reduced by the kernels (GIL released) to
partials (``_native.partials``); Dask combines them in its fixed tree
(``_native.combine_partials``) and the last step turns them into numpy's values
(``_native.finalise_partials``):

- float ``sum``/``nansum``/``mean``/``nanmean``: each chunk's sums are exact (the kernels'
  fixed-point accumulator), and exact sums combine exactly; so the result is the correctly
  rounded sum (or that sum over the count), the same bits for every chunking, scheduler and
  thread count, and the bits ``sw.mean(x.compute())`` gives;
- integer sums and means: exact 128-bit sums;
- ``var``/``std`` (and nan-variants): ``(n, mean, M2)`` in double-double (and the power of
  two a chunk's elements were scaled by where its variance is beyond f64's normal range),
  merged as the kernels merge their own work units (deterministic for a given chunking);
- min/max/ptp/any/all/count_nonzero/prod: as the kernels combine their units (exact, but for
  float products, which round once per combination);
- argmin/argmax (and nan-variants): Dask's arg-reduction with stridewise's functions per
  chunk (positions are offset by the chunk's place, the first of equal values wins);
- median/quantile/percentile (and nan-variants): need the whole reduced axes in one chunk:
  the reduced axes are rechunked to one chunk (that many elements per output on one worker),
  then each block is reduced; ``axis=None`` is refused (it would gather the array).

What this module does not cover goes to Dask's own implementation through numpy's protocol,
as ``np.mean(x)`` would: ``where=``, ``initial=``, ``mean=`` (var), dtypes without a kernel
(complex, object, datetime...) and arrays whose chunks are not plain ndarrays (masked, CuPy).

Importing stridewise never imports Dask: this module is imported when a Dask array arrives.
"""

from __future__ import annotations

import warnings
from collections.abc import Callable
from functools import partial
from typing import Any

import dask.array
import dask.array.reductions
import dask.base
import numpy as np

from . import _native

# (Dask's functions are untyped: used through Any.)
da: Any = dask.array
_dr: Any = dask.array.reductions

_NoValue: Any = np._NoValue

# numpy's dtypes the kernels read: bool, the integers, float32, float64; float16 is reduced
# as float64 by the sums and means (its exact sum rounded once to float16), as float32 by the
# rest (as the kernel+copy path does), and the result cast back.
_KERNEL_KINDS = "biuf"


def _given(kw: dict[str, Any], key: str) -> Any:
    """The keyword's value, or ``_NoValue`` when absent."""
    return kw.get(key, _NoValue)


def _truth(v: Any) -> bool:
    """A keyword's truth as numpy takes it (``keepdims=np.True_`` or ``1`` keep the axes);
    ``_NoValue`` (not given) is false."""
    return v is not _NoValue and bool(v)


def _kernel_dtype(dtype: np.dtype[Any], func: str) -> np.dtype[Any] | None:
    """The dtype ``func`` reduces a chunk in, or ``None`` when the kernels have none."""
    if dtype.kind not in _KERNEL_KINDS:
        return None
    if dtype.kind == "f" and dtype.itemsize == 2:
        sums = func in ("sum", "nansum", "mean", "nanmean")
        return np.dtype(np.float64 if sums else np.float32)
    if dtype.kind == "f" and dtype.itemsize not in (4, 8):
        return None
    return dtype.newbyteorder("=")


def _plain_chunks(a: Any) -> bool:
    """Whether the chunks are plain ndarrays (not masked arrays, CuPy, sparse...)."""
    return type(getattr(a, "_meta", None)) is np.ndarray


def _result_dtype(func: str, a: Any, kw: dict[str, Any]) -> np.dtype[Any]:
    """numpy's result dtype for ``func`` of an array of ``a``'s dtype with ``kw``."""
    small = np.ones((1,) * a.ndim, dtype=a.dtype)
    keep = {k: v for k, v in kw.items() if k in ("axis", "dtype", "ddof", "correction")}
    with warnings.catch_warnings(), np.errstate(all="ignore"):
        warnings.simplefilter("ignore")
        return np.asarray(getattr(np, func)(small, **keep)).dtype


def _flatten(parts: Any) -> list[Any]:
    """The nested lists Dask hands a combine step, flattened in their (C) order."""
    if isinstance(parts, list):
        return [p for q in parts for p in _flatten(q)]
    return [parts]


def _readable(x: Any, source: np.dtype[Any], dtype: np.dtype[Any]) -> np.ndarray[Any, Any]:
    """A chunk as an ndarray of ``dtype`` the kernels read in place: its elements first in
    ``source`` (the ``dtype=`` asked for: float16 elements are rounded to float16 before they
    are widened, as numpy's astype and the kernel+copy path do); a copy only where
    the chunk has another dtype or byte order, or is not aligned."""
    arr = np.asarray(x)
    if arr.dtype != source:
        arr = arr.astype(source)
    if arr.dtype != dtype or not arr.flags.aligned:
        arr = arr.astype(dtype)
    return arr


def _chunk(
    x: Any,
    axis: tuple[int, ...],
    keepdims: bool,
    *,
    func: str,
    source: np.dtype[Any],
    dtype: np.dtype[Any],
    computing_meta: bool = False,
) -> Any:
    if computing_meta:
        # Dask's blockwise asks for a sample of the output: the partials' dicts have no
        # dtype, and the reduction's own meta is given to it (``reduce``).
        return x
    x = _readable(x, source, dtype)
    try:
        return _native.partials(func, x, list(axis))
    except ValueError:
        # Strides the kernels do not read in place (not in whole elements): a copy.
        return _native.partials(func, np.ascontiguousarray(x), list(axis))


def _combine(parts: Any, axis: tuple[int, ...], keepdims: bool) -> dict[str, Any]:
    return _native.combine_partials(_flatten(parts))


def _aggregate(
    parts: Any,
    axis: tuple[int, ...],
    keepdims: bool,
    *,
    ddof: float,
    dtype: np.dtype[Any],
) -> np.ndarray[Any, Any]:
    combined = _combine(parts, axis, keepdims)
    values, warning = _native.finalise_partials(combined, ddof)
    if warning is not None:
        warnings.warn(warning, RuntimeWarning, stacklevel=2)
    if keepdims:
        values = np.expand_dims(values, axis)
    return np.asarray(values).astype(dtype, copy=False)


def _axes(axis: Any, ndim: int) -> tuple[int, ...]:
    """numpy's normalisation of ``axis`` (AxisError, duplicates)."""
    if axis is None:
        return tuple(range(ndim))
    return tuple(np.lib.array_utils.normalize_axis_tuple(axis, ndim))


def reduce(func: str, a: Any, **kw: Any) -> Any:
    """``func`` (a stridewise reduction's name) of the Dask array ``a``, with numpy's
    keywords ``kw`` as numpy's function would take them: a lazy Dask array."""
    numpy_func: Callable[..., Any] = getattr(np, func)
    own = any(_given(kw, k) is not _NoValue for k in ("where", "initial", "mean"))
    # keepdims other than a bool (np.True_, 1): numpy's own rules (the ndarray path hands
    # them to numpy too; numpy's mean refuses np.True_, its max takes it).
    keep = _given(kw, "keepdims")
    own = own or (keep is not _NoValue and type(keep) is not bool)
    dtype = _given(kw, "dtype")
    source = a.dtype if dtype is _NoValue or dtype is None else np.dtype(dtype)
    kernel = _kernel_dtype(source, func)
    if own or kernel is None or not _plain_chunks(a):
        # Dask's own implementation, through numpy's protocol (or numpy's error).
        return numpy_func(a, **kw)
    if func in ("argmin", "argmax", "nanargmin", "nanargmax"):
        return _arg(func, a, kw)
    axis = _given(kw, "axis")
    axes = _axes(None if axis is _NoValue else axis, a.ndim)
    keepdims = _truth(_given(kw, "keepdims"))
    ddof = 0.0
    for key in ("ddof", "correction"):
        v = _given(kw, key)
        if v is not _NoValue and v is not None:
            ddof = float(v)
    result = _result_dtype(func, a, kw)
    out = _given(kw, "out")
    meta = np.empty((0,) * (a.ndim if keepdims else a.ndim - len(axes)), dtype=result)
    return da.reduction(
        a,
        partial(_chunk, func=func, source=source, dtype=kernel),
        partial(_aggregate, ddof=ddof, dtype=result),
        combine=_combine,
        axis=axes,
        keepdims=keepdims,
        dtype=result,
        out=None if out is _NoValue else out,
        concatenate=False,
        meta=meta,
        name=f"stridewise-{func}",
    )


def _pick(data: Any, kind: str, skip_nan: bool) -> tuple[Any, Any]:
    """The winner among candidates ``data["vals"]``, ``data["arg"]`` (flat C-order indices
    into the whole array): the best value, NaN first unless ``skip_nan``, and among equal
    ones the smallest index, so that the first in the array's order wins whatever the
    chunks' order (Dask's own combine takes the first in block order)."""
    vals, args = np.ravel(data["vals"]), np.ravel(data["arg"])
    floats = vals.dtype.kind == "f"
    nan = np.isnan(vals) if floats else np.zeros(vals.shape, dtype=bool)
    if nan.any() and not skip_nan:
        cand = nan
    else:
        ok = ~nan
        if not ok.any():
            # Every candidate NaN under a nan-function: the aggregate raises numpy's error.
            i = int(np.argmin(args))
            return vals[i : i + 1], args[i : i + 1]
        best = vals[ok].max() if kind == "max" else vals[ok].min()
        cand = ok & (vals == best)
    i = int(np.argmin(np.where(cand, args, np.iinfo(args.dtype).max)))
    return vals[i : i + 1], args[i : i + 1]


def _arg(func: str, a: Any, kw: dict[str, Any]) -> Any:
    """argmin/argmax and their nan-variants: Dask's arg-reduction with stridewise's
    functions on each chunk (the chunk's best value and its position); the first of equal
    values (or the first NaN) wins, in the array's own order."""
    import stridewise as sw

    argfunc = getattr(sw, func)
    best = getattr(sw, func.replace("arg", ""))
    kind = "max" if "max" in func else "min"
    skip_nan = func.startswith("nan")
    if skip_nan:

        def safe_arg(x: Any, axis: Any = None, keepdims: bool = False) -> Any:
            try:
                return argfunc(x, axis=axis, keepdims=keepdims)
            except ValueError:
                # An all-NaN slice here (a chunk, or a group of chunks' values): another
                # piece may have numbers there; the aggregate raises numpy's error if none.
                # Only those slices are blanked (their values stay NaN in `chunk_best`): a
                # NaN elsewhere must not tie with an infinite best.
                empty = np.isnan(x).all(axis=axis, keepdims=True)
                return argfunc(np.where(empty, 0, x), axis=axis, keepdims=keepdims)

        def chunk_best(x: Any, axis: Any = None, keepdims: bool = False) -> Any:
            with warnings.catch_warnings():
                warnings.simplefilter("ignore", RuntimeWarning)
                return best(x, axis=axis, keepdims=keepdims)

        arg_of: Callable[..., Any] = safe_arg
        chunk = partial(_dr.arg_chunk, chunk_best, safe_arg)
    else:
        arg_of = argfunc
        chunk = partial(_dr.arg_chunk, best, argfunc)

    def combine(data: Any, axis: Any = None, **kwargs: Any) -> Any:
        if len(axis) < data.ndim and data.ndim > 1:
            return _dr.arg_combine(arg_of, data, axis=axis, **kwargs)
        vals, args = _pick(data, kind, skip_nan)
        shape = (1,) * data.ndim
        out = np.empty(shape, dtype=[("vals", vals.dtype), ("arg", args.dtype)])
        out["vals"], out["arg"] = vals.reshape(shape), args.reshape(shape)
        return out

    def aggregate(data: Any, axis: Any = None, keepdims: bool = False, **kwargs: Any) -> Any:
        if len(axis) < data.ndim and data.ndim > 1:
            if not skip_nan:
                return _dr.arg_agg(arg_of, data, axis=axis, keepdims=keepdims, **kwargs)
            try:
                return _dr.nanarg_agg(arg_of, data, axis=axis, keepdims=keepdims, **kwargs)
            except ValueError as e:
                # (Dask words it "All NaN slice encountered".)
                raise ValueError("All-NaN slice encountered") from e
        vals, args = _pick(data, kind, skip_nan)
        if skip_nan and np.isnan(vals).any():
            raise ValueError("All-NaN slice encountered")
        return args.reshape((1,) * data.ndim) if keepdims else args[0]

    axis = _given(kw, "axis")
    out = _given(kw, "out")
    return _dr.arg_reduction(
        a,
        chunk,
        combine,
        aggregate,
        axis=None if axis is _NoValue else axis,
        keepdims=_truth(_given(kw, "keepdims")),
        out=None if out is _NoValue else out,
    )


def quantile(
    func: Callable[..., Any],
    a: Any,
    q: Any,
    axis: Any,
    keepdims: bool,
    **kw: Any,
) -> Any:
    """median/quantile/percentile (``func``, stridewise's own, with its keywords ``kw``) of
    a Dask array: the reduced axes rechunked to one chunk each, then each block reduced."""
    if axis is None:
        raise ValueError(
            f"stridewise.{func.__name__} of a Dask array needs axis=: over every axis it would "
            "gather the whole array into one chunk (compute() it, or rechunk it to one chunk "
            "and reduce that block yourself, if it fits in memory)"
        )
    axes = _axes(axis, a.ndim)
    whole = a.rechunk({ax: -1 for ax in axes})
    qs = None if q is None else np.asarray(q)
    lead = () if qs is None else qs.shape
    args = () if qs is None else (q,)

    def block(x: np.ndarray[Any, Any]) -> Any:
        return np.asarray(func(x, *args, axis=axes, keepdims=True, **kw))

    chunks = tuple((n,) for n in lead) + tuple(
        (1,) if i in axes else c for i, c in enumerate(whole.chunks)
    )
    small = np.ones((1,) * a.ndim, dtype=a.dtype)
    with warnings.catch_warnings(), np.errstate(all="ignore"):
        warnings.simplefilter("ignore")
        dtype = np.asarray(func(small, *args, axis=axes, **kw)).dtype
    result = da.map_blocks(
        block,
        whole,
        chunks=chunks,
        new_axis=list(range(len(lead))) or None,
        dtype=dtype,
        meta=np.empty((0,) * (len(lead) + a.ndim), dtype=dtype),
        # (map_blocks takes `name` as the whole key: the token keeps calls apart.)
        name=f"stridewise-{func.__name__}-{dask.base.tokenize(whole, q, axes, kw)}",
    )
    if not keepdims:
        result = result.squeeze(axis=tuple(len(lead) + ax for ax in axes))
    return result


__all__ = ["quantile", "reduce"]
